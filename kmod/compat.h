/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What moved between the kernels memtrace supports (5.10 to 7.x). Each helper
 * says which version changed what; everything else is used directly. The
 * MEMTRACE_HAVE_* switches come from Kbuild, which looks for each feature in
 * the headers being built against.
 */
#ifndef _MEMTRACE_COMPAT_H
#define _MEMTRACE_COMPAT_H

#include <linux/hugetlb.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/page-flags.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <linux/swap.h>
#include <linux/swapops.h>
#include <linux/xarray.h>
#ifdef MEMTRACE_HAVE_LEAFOPS
#include <linux/leafops.h>
#endif
#ifdef MEMTRACE_HAVE_EXEC_STATE
#include <linux/sched/exec_state.h>
#endif

#include "uapi/memtrace.h"

/*
 * Is this page of a present mapping mapped exactly once, as
 * /proc/PID/pagemap's PM_MMAP_EXCLUSIVE says it? The caller holds the lock
 * of the entry that maps it. pagemap (fs/proc/task_mmu.c) asked, for a
 * page mapped by a PTE:
 *  - up to 6.10, page_mapcount(): the page's own mappings plus those of its
 *    whole compound page;
 *  - 6.11 to 6.14, folio_precise_page_mapcount() == 1 (fs/proc/internal.h,
 *    not for modules): the same sum, of public inlines, written out here
 *    (folio_mapcount() would count every PTE of a large folio: never one
 *    for a PTE-mapped THP);
 *  - from 6.15 (which brought folio_maybe_mapped_shared()), the same, or
 *    with CONFIG_NO_PAGE_MAPCOUNT !folio_maybe_mapped_shared().
 */
static inline bool memtrace_page_mapped_once(struct page *page)
{
#if defined(MEMTRACE_HAVE_MAYBE_MAPPED_SHARED) && IS_ENABLED(CONFIG_NO_PAGE_MAPCOUNT)
	return !folio_maybe_mapped_shared(page_folio(page));
#elif defined(MEMTRACE_HAVE_LARGE_MAPCOUNT)
	struct folio *folio = page_folio(page);
	int mapcount = atomic_read(&page->_mapcount) + 1;

	if (page_mapcount_is_type(mapcount))
		mapcount = 0;
	if (folio_test_large(folio))
		mapcount += folio_entire_mapcount(folio);
	return mapcount == 1;
#else
	return page_mapcount(page) == 1;
#endif
}

/*
 * A PMD-mapped THP: pagemap asks memtrace_page_mapped_once() of its head page
 * and applies the answer to all its pages, except from 6.11 to 6.14, where
 * it asks each page (and so EXCL can differ inside one PMD).
 */
#if defined(MEMTRACE_HAVE_LARGE_MAPCOUNT) && !defined(MEMTRACE_HAVE_MAYBE_MAPPED_SHARED)
#define MEMTRACE_PMD_EXCL_PER_PAGE 1
#else
#define MEMTRACE_PMD_EXCL_PER_PAGE 0
#endif

/*
 * A hugetlb page, its head and the entry (PMD or PUD, as a pte_t *) mapping
 * it: up to 6.10 pagemap asks page_mapcount() of the head; from 6.11 whether
 * the folio is likely (6.15: maybe) mapped by more than one mm, and whether
 * the page table holding the entry is shared.
 */
static inline bool memtrace_hugetlb_mapped_once(struct page *head, pte_t *ptep)
{
#if defined(MEMTRACE_HAVE_MAYBE_MAPPED_SHARED)
	return !folio_maybe_mapped_shared(page_folio(head)) &&
	       !hugetlb_pmd_shared(ptep);
#elif defined(MEMTRACE_HAVE_LARGE_MAPCOUNT)
	return !folio_likely_mapped_shared(page_folio(head)) &&
	       !hugetlb_pmd_shared(ptep);
#else
	return page_mapcount(head) == 1;
#endif
}

/*
 * Special huge entries (a VM_MIXEDMAP/PFNMAP driver's PMD or PUD, no struct
 * page to read: vm_normal_page_pmd() says NULL) exist from 6.11; from 6.18
 * the huge zero page is mapped by one too.
 */
#ifdef MEMTRACE_HAVE_PMD_SPECIAL
#define memtrace_pmd_special(pmd) pmd_special(pmd)
#define memtrace_pud_special(pud) pud_special(pud)
#else
#define memtrace_pmd_special(pmd) false
#define memtrace_pud_special(pud) false
#endif

/*
 * The dirty bit of a PUD leaf: x86 has pud_dirty() on every kernel; arm64
 * has it from 6.5 only, but a PUD block entry there carries its dirty state
 * in the bits a PTE does (pud_pte()), as arm64's own pud_young() reads it.
 */
#ifdef MEMTRACE_HAVE_PUD_DIRTY
#define memtrace_pud_dirty(pud) pud_dirty(pud)
#else
#define memtrace_pud_dirty(pud) pte_dirty(pud_pte(pud))
#endif

/*
 * The lock of a hugetlb entry (a PTE of arm64's contiguous hugetlb, a PMD or
 * a PUD, as a pte_t *): the one mm/hugetlb.c takes to change or zap it
 * (huge_pte_lock() in __unmap_hugepage_range(), hugetlb_change_protection(),
 * copy_hugetlb_page_range() ...), so that holding it the page stays mapped.
 * Which lock that is moved, and huge_pte_lockptr() (an inline of every
 * version's linux/hugetlb.h) says it for the headers built against:
 *  - up to 6.10 (5.10, Debian's 6.1), the PMD's split lock for a page of
 *    exactly PMD_SIZE and mm->page_table_lock for every other size: arm64's
 *    contiguous sizes (64K and 32M with 4K pages, 2M and 1G with 16K) are
 *    locked with page_table_lock, not the PTE or PMD table's split lock a
 *    walker of THPs takes;
 *  - from 6.11 ("hugetlb must use the exact same PT locks as core-mm"), the
 *    PUD lock from PUD_SIZE up, the PMD table's from PMD_SIZE up, below that
 *    the PTE table's (ptep_lockptr()).
 * pagemap read hugetlb entries under the hugetlb VMA lock alone up to 6.12
 * (walk_hugetlb_range()); later kernels take huge_pte_lock() there too.
 */
static inline spinlock_t *memtrace_hugetlb_lockptr(struct vm_area_struct *vma,
						   struct mm_struct *mm,
						   pte_t *entry)
{
	return huge_pte_lockptr(hstate_vma(vma), mm, entry);
}

/*
 * A PTE read without the PTE table's lock (under RCU), as GUP-fast reads
 * one. 5.10 has no ptep_get_lockless() (GUP-fast's was its own
 * gup_get_pte()), 6.1 on do (Kbuild: MEMTRACE_HAVE_PTEP_GET_LOCKLESS); on
 * x86-64, and on arm64 up to 6.8, it is ptep_get(), one READ_ONCE(). From
 * 6.9, arm64 maps large folios with contiguous PTEs (contpte: 16 entries
 * with 4K pages, 128 with 16K) and the hardware sets
 * the accessed and dirty bits in any one entry of a block: ptep_get() then
 * gathers them over the block (contpte_ptep_get()), which is only
 * consistent under the PTE lock, as pagemap reads it (pte_offset_map_lock(),
 * then ptep_get()); without the lock the block can be folded, unfolded or
 * rewritten while it is read, and ptep_get_lockless()
 * (contpte_ptep_get_lockless(), exported) reads it again until the block's
 * frames and permissions agree, so the dirty and young bits gathered are
 * those of the block the entry belongs to. The walker reads locklessly with
 * this and under the lock with ptep_get(): the same gathered bits either
 * way, the ones pagemap's PTE read and GUP-fast see.
 */
static inline pte_t memtrace_ptep_get_lockless(pte_t *ptep)
{
#ifdef MEMTRACE_HAVE_PTEP_GET_LOCKLESS
	return ptep_get_lockless(ptep);
#else
	return ptep_get(ptep);
#endif
}

/* Page flags moved to folios in 5.16; 7.x generates only the folio tests. */
static inline bool memtrace_page_swapbacked(struct page *page)
{
#ifdef MEMTRACE_HAVE_FOLIOS
	return folio_test_swapbacked(page_folio(page));
#else
	return PageSwapBacked(page);
#endif
}

/*
 * Dumpability lived in mm->flags (get_dumpable()) until 7.x moved it to
 * task->exec_state, whose accessor task_exec_state_get_dumpable() is not
 * exported; the RCU-protected field is read the way that accessor does.
 * 1 means "dumpable by its owner" in every version (SUID_DUMP_USER, then
 * TASK_DUMPABLE_OWNER).
 */
#define MEMTRACE_DUMPABLE_OWNER 1

static inline int memtrace_task_dumpable(struct task_struct *task,
					 struct mm_struct *mm)
{
#ifdef MEMTRACE_HAVE_EXEC_STATE
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
 * A non-present, non-empty page-table entry (a PMD or PUD one passed as a PTE
 * of the same bits): MEMTRACE_SWAP with *swp set to the entry encoded as
 * pagemap does, MEMTRACE_MIGRATION or MEMTRACE_OTHER. Until 6.19 these were
 * swp_entry_t with pte_to_swp_entry(), non_swap_entry() and
 * is_migration_entry(); 6.19 brought softleaf_t (linux/leafops.h) and 7.x
 * dropped the old helpers. swp_type() and swp_offset() work on both.
 */
static inline u8 memtrace_leaf_state(pte_t pte, u64 *swp)
{
#ifdef MEMTRACE_HAVE_LEAFOPS
	softleaf_t e = softleaf_from_pte(pte);
	bool swap = softleaf_is_swap(e), migration = softleaf_is_migration(e);
#else
	swp_entry_t e = pte_to_swp_entry(pte);
	bool swap = !non_swap_entry(e), migration = is_migration_entry(e);
#endif

	*swp = 0;
	if (swap) {
		*swp = swp_type(e) |
		       ((u64)swp_offset(e) << MEMTRACE_SWAP_TYPE_BITS);
		return MEMTRACE_SWAP;
	}
	return migration ? MEMTRACE_MIGRATION : MEMTRACE_OTHER;
}

/*
 * The bits of a present PTE other than its frame number. Two present entries
 * with equal bits in an anonymous private mapping classify alike, so a walk
 * compares these instead of classifying every entry. x86 names them
 * PTE_FLAGS_MASK; elsewhere the whole entry is compared, which only merges
 * equal entries (correct, just slower).
 */
#ifdef PTE_FLAGS_MASK
#define MEMTRACE_PTE_BITS_MASK	((u64)PTE_FLAGS_MASK)
#else
#define MEMTRACE_PTE_BITS_MASK	(~(u64)0)
#endif

/*
 * The order of the entry just loaded at xas (a page-cache walk under RCU).
 * xas_get_order() reads it from the node the entry was found in; it came
 * in 6.10 (and was backported, e.g. to Debian's 6.1), exported GPL-only,
 * which Kbuild checks (MEMTRACE_HAVE_XAS_GET_ORDER). Without it,
 * xa_get_order() looks the index up again and may find another entry
 * than xas did (one replaced meanwhile): its caller must not trust the
 * order to cover xas->xa_index (cache.c checks), and a larger entry found
 * (a folio collapsed meanwhile) counts its pages with the first entry's
 * flags: an answer of a moment later, not a wrong one.
 */
static inline unsigned int memtrace_xas_get_order(struct xa_state *xas)
{
#ifdef MEMTRACE_HAVE_XAS_GET_ORDER
	return xas_get_order(xas);
#else
	return xa_get_order(xas->xa, xas->xa_index);
#endif
}

/*
 * The order of the folio (compound page) page belongs to. The caller holds
 * the lock of an entry mapping it, so it is neither freed nor split. Folios
 * came in 5.16 with page_folio() (a macro); before, the compound head's.
 */
static inline unsigned int memtrace_page_order(struct page *page)
{
#ifdef page_folio
	return folio_order(page_folio(page));
#else
	return compound_order(compound_head(page));
#endif
}

/*
 * cachestat(2)'s inode_owner_or_capable(file_mnt_idmap(file), inode):
 * the mount's idmap since 6.3, its user namespace from 5.12, neither
 * before. Asked with current's credentials.
 */
static inline bool memtrace_file_owner_or_capable(struct file *file)
{
#if defined(MEMTRACE_HAVE_FILE_MNT_IDMAP)
	return inode_owner_or_capable(file_mnt_idmap(file), file_inode(file));
#elif defined(MEMTRACE_HAVE_FILE_MNT_USER_NS)
	return inode_owner_or_capable(file_mnt_user_ns(file), file_inode(file));
#else
	return inode_owner_or_capable(file_inode(file));
#endif
}

/* Does a mapping read its pages through the page cache (->read_folio)? */
static inline bool memtrace_aops_read(const struct address_space *mapping)
{
#ifdef MEMTRACE_HAVE_READ_FOLIO
	return mapping->a_ops && mapping->a_ops->read_folio;
#else
	return mapping->a_ops && mapping->a_ops->readpage;
#endif
}

/*
 * The first pid numbered nr or above in ns, under rcu_read_lock(): what
 * /proc's readdir walks. find_ge_pid() is exported from 5.11 on; on 5.10
 * it is the same call on the namespace's idr (idr_get_next() is exported).
 */
static inline struct pid *memtrace_find_ge_pid(int nr, struct pid_namespace *ns)
{
#ifdef MEMTRACE_HAVE_FIND_GE_PID
	return find_ge_pid(nr, ns);
#else
	return idr_get_next(&ns->idr, &nr);
#endif
}

/*
 * The top of a 64-bit process's address space on this machine: arm64's
 * TASK_SIZE_64 is the VA bits the kernel runs with (a 52-bit kernel on a
 * CPU without LPA2 runs with 48, or 47 with 16K pages), where TASK_SIZE_MAX
 * is what it was built for; x86-64's TASK_SIZE_MAX follows 5-level paging.
 */
static inline unsigned long memtrace_task_size(void)
{
#ifdef TASK_SIZE_64
	return TASK_SIZE_64;
#else
	return TASK_SIZE_MAX;
#endif
}

#endif /* _MEMTRACE_COMPAT_H */
