/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What moved between the kernels memtrace supports (5.10 to 7.x). Each helper
 * says which version changed what; everything else is used directly.
 * Where a change is a new header rather than a version, __has_include() finds
 * it, so a backport is followed too.
 */
#ifndef _MEMTRACE_COMPAT_H
#define _MEMTRACE_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/page-flags.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <linux/swap.h>
#include <linux/swapops.h>
#if __has_include(<linux/leafops.h>)
#include <linux/leafops.h>
#endif
#if __has_include(<linux/sched/exec_state.h>)
#include <linux/sched/exec_state.h>
#endif

/*
 * Mapped exactly once? 6.11 counts the mappings of a large folio in
 * _large_mapcount and folio_mapcount() became the inline way to ask; before,
 * page_mapcount() (with the exported __page_mapcount() for compound pages).
 */
static inline int memtrace_page_mapcount(struct page *page)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	return folio_mapcount(page_folio(page));
#else
	return page_mapcount(page);
#endif
}

/* Page flags moved to folios in 5.16; 7.x generates only the folio tests. */
static inline bool memtrace_page_swapbacked(struct page *page)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 16, 0)
	return folio_test_swapbacked(page_folio(page));
#else
	return PageSwapBacked(page);
#endif
}

/*
 * Dumpability lived in mm->flags until 7.x moved it to task->exec_state, whose
 * accessor (task_exec_state_get_dumpable) is not exported; the RCU-protected
 * field is read the way that accessor does. 1 means "dumpable by its owner"
 * (SUID_DUMP_USER, TASK_DUMPABLE_OWNER) in every version.
 */
#define MEMTRACE_DUMPABLE_OWNER 1

static inline int memtrace_task_dumpable(struct task_struct *task,
					 struct mm_struct *mm)
{
#if __has_include(<linux/sched/exec_state.h>)
	struct task_exec_state *es;
	int d = 0;

	rcu_read_lock();
	es = rcu_dereference(task->exec_state);
	if (es)
		d = READ_ONCE(es->dumpable);
	rcu_read_unlock();
	return d;
#else
	return get_dumpable(mm);
#endif
}

/*
 * Non-present entries: swp_entry_t with pte_to_swp_entry(), non_swap_entry()
 * and is_migration_entry() until 6.19 brought softleaf_t (linux/leafops.h)
 * and 7.x dropped the old helpers. swp_type()/swp_offset() work on both.
 */
#if __has_include(<linux/leafops.h>)
typedef softleaf_t memtrace_leaf_t;

static inline memtrace_leaf_t memtrace_leaf_of(pte_t pte)
{
	return softleaf_from_pte(pte);
}

static inline bool memtrace_leaf_is_swap(memtrace_leaf_t e)
{
	return softleaf_is_swap(e);
}

static inline bool memtrace_leaf_is_migration(memtrace_leaf_t e)
{
	return softleaf_is_migration(e);
}
#else
typedef swp_entry_t memtrace_leaf_t;

static inline memtrace_leaf_t memtrace_leaf_of(pte_t pte)
{
	return pte_to_swp_entry(pte);
}

static inline bool memtrace_leaf_is_swap(memtrace_leaf_t e)
{
	return !non_swap_entry(e);
}

static inline bool memtrace_leaf_is_migration(memtrace_leaf_t e)
{
	return is_migration_entry(e);
}
#endif

#endif /* _MEMTRACE_COMPAT_H */
