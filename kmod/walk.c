// SPDX-License-Identifier: GPL-2.0
/*
 * One walker for every transport: classify each page of [start, end) of an
 * mm without changing anything (no faults, no GUP, no page references). It
 * is given the mm (query.c resolved and checked the target) and a sink.
 *
 * Locking, the way GUP-fast and pagemap read page tables:
 *  - mmap_lock is held for read (killable) while walking, never while a
 *    transport copies to userland; the walk resumes from ->next afterwards;
 *  - VMAs are looked up under that lock and only their range is walked, so the
 *    upper page-table levels (pgd..pmd) cannot be freed under us;
 *  - every entry is read once (READ_ONCE/ptep_get) into a local copy, and the
 *    next level is found from that copy, like GUP-fast;
 *  - a PTE table is read inside rcu_read_lock(): since 6.5 khugepaged may free
 *    one with only mmap_lock held for read elsewhere, through RCU;
 *  - a struct page is read only under the lock of the entry that maps it (the
 *    PTE table's, the PMD's or the PUD's; for hugetlb, the lock hugetlb
 *    takes: compat.h), after checking that the entry (and
 *    for a PTE, the PMD above it) is still the one read locklessly: then the
 *    page stays mapped, so neither freed nor reused, while it is looked at.
 *    The PTE table lock is taken the way pte_offset_map_lock() takes it
 *    (pte_lockptr() of the PMD value read, then pmd_same()); that function
 *    is not exported from 6.5 on. Entries whose bits say everything (none,
 *    swap, the zero page, a writable private anonymous page, special and
 *    PFNMAP entries) are never locked;
 *  - hugetlb VMAs backed by a file are walked under its i_mmap_rwsem (read):
 *    a shared PMD table cannot be unshared (truncation, the other sharer's
 *    munmap) and freed while it is walked.
 *
 * The walker's files, in the order a walk goes down: this one (steps, VMAs,
 * pgd to pmd), pte.c (PTE tables: the hot loops), leaf.c (huge entries),
 * cache.c (pages with no entry but in the page cache, when asked), record.c
 * (pieces of equal pages into records, for the sink or the room it lends).
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>

#include "walk_internal.h"

const char *const memtrace_state_names[MEMTRACE_NSTATES_ALL] =
	MEMTRACE_STATE_NAMES_ALL;

/* Yields to a busy hugetlb i_mmap_rwsem before waiting for it under mmap_lock */
#define MEMTRACE_I_MMAP_TRIES	8

/* Between page tables: reschedule, abort on SIGKILL, let writers in. */
static int memtrace_breather(struct memtrace_walk *w)
{
	if (fatal_signal_pending(current))
		return -EINTR;
	if (mmap_lock_is_contended(w->mm) ||
	    (w->i_mmap && rwsem_is_contended(&w->i_mmap->i_mmap_rwsem)) ||
	    memtrace_walk_late(w))
		return MEMTRACE_WALK_YIELD;
	cond_resched();
	return 0;
}

/*
 * Each level is read once (READ_ONCE) and its table found from that copy
 * and the entry's own address, pXd_offset_lockless() as GUP-fast does: where
 * the kernel folds a level at boot (arm64 with 52-bit VA on a CPU without
 * LPA2), pXd_offset() of the copy would index the copy's page, our stack.
 * A level folded when the kernel was built (pgtable-nop4d.h and the like)
 * is its parent entry itself: the parent's own pointer, never the copy's
 * address (the generic pXd_offset_lockless() of a copy: a stack address
 * that a lock's recheck would read, or hugetlb_pmd_shared() would look up).
 */
#ifdef __PAGETABLE_P4D_FOLDED
#define memtrace_p4d_offset(pgdp, pgd, a)	((p4d_t *)(pgdp))
#else
#define memtrace_p4d_offset(pgdp, pgd, a)	p4d_offset_lockless(pgdp, pgd, a)
#endif
#ifdef __PAGETABLE_PUD_FOLDED
#define memtrace_pud_offset(p4dp, p4d, a)	((pud_t *)(p4dp))
#else
#define memtrace_pud_offset(p4dp, p4d, a)	pud_offset_lockless(p4dp, p4d, a)
#endif
#ifdef __PAGETABLE_PMD_FOLDED
#define memtrace_pmd_offset(pudp, pud, a)	((pmd_t *)(pudp))
#else
#define memtrace_pmd_offset(pudp, pud, a)	pmd_offset_lockless(pudp, pud, a)
#endif

static int memtrace_pmd_range(struct memtrace_walk *w,
			      struct vm_area_struct *vma, pud_t *pudp, pud_t pud,
			      unsigned long addr, unsigned long end)
{
	pmd_t *pmdp = memtrace_pmd_offset(pudp, pud, addr);
	unsigned long next;
	int ret;

	do {
		pmd_t pmd;

		next = pmd_addr_end(addr, end);
again:
		pmd = READ_ONCE(*pmdp);
		if (pmd_none(pmd))
			ret = memtrace_add_none(w, addr, next);
		else if (!pmd_present(pmd) || pmd_leaf(pmd))
			ret = memtrace_pmd_huge(w, vma, pmdp, pmd, addr, next);
		else if (pmd_bad(pmd))
			ret = memtrace_add_blank(w, addr, next, MEMTRACE_OTHER);
		else
			ret = memtrace_pte_range(w, vma, pmdp, pmd, addr, next);
		if (ret == -EAGAIN) {
			/* the PMD changed: what was taken stays, read it again */
			addr = w->next;
			ret = memtrace_breather(w);
			if (ret)
				return ret;
			goto again;
		}
		if (!ret)
			ret = memtrace_breather(w);
		if (ret)
			return ret;
	} while (pmdp++, addr = next, addr != end);
	return 0;
}

static int memtrace_pud_range(struct memtrace_walk *w,
			      struct vm_area_struct *vma, p4d_t *p4dp, p4d_t p4d,
			      unsigned long addr, unsigned long end)
{
	pud_t *pudp = memtrace_pud_offset(p4dp, p4d, addr);
	unsigned long next;
	int ret;

	do {
		pud_t pud;

		next = pud_addr_end(addr, end);
again:
		pud = READ_ONCE(*pudp);
		if (pud_none(pud)) {
			ret = memtrace_add_none(w, addr, next);
		} else if (memtrace_pud_present_leaf(pud)) {
			ret = memtrace_pud_huge(w, vma, pudp, pud, addr, next);
			if (ret == -EAGAIN) {
				ret = memtrace_breather(w);
				if (ret)
					return ret;
				goto again;
			}
		} else if (!pud_present(pud)) {
			ret = memtrace_add_nonpresent(w, addr, next,
						      __pte(pud_val(pud)));
		} else if (pud_bad(pud)) {
			ret = memtrace_add_blank(w, addr, next, MEMTRACE_OTHER);
		} else {
			ret = memtrace_pmd_range(w, vma, pudp, pud, addr, next);
		}
		if (ret)
			return ret;
	} while (pudp++, addr = next, addr != end);
	return 0;
}

static int memtrace_p4d_range(struct memtrace_walk *w,
			      struct vm_area_struct *vma, pgd_t *pgdp, pgd_t pgd,
			      unsigned long addr, unsigned long end)
{
	p4d_t *p4dp = memtrace_p4d_offset(pgdp, pgd, addr);
	unsigned long next;
	int ret;

	do {
		p4d_t p4d = READ_ONCE(*p4dp);

		next = p4d_addr_end(addr, end);
		if (p4d_none(p4d))
			ret = memtrace_add_none(w, addr, next);
		else if (p4d_bad(p4d))
			ret = memtrace_add_blank(w, addr, next, MEMTRACE_OTHER);
		else
			ret = memtrace_pud_range(w, vma, p4dp, p4d, addr, next);
		if (ret)
			return ret;
	} while (p4dp++, addr = next, addr != end);
	return 0;
}

static int memtrace_vma_range(struct memtrace_walk *w,
			      struct vm_area_struct *vma, unsigned long addr,
			      unsigned long end)
{
	pgd_t *pgdp = pgd_offset(w->mm, addr);
	unsigned long next;
	int ret;

	do {
		pgd_t pgd = READ_ONCE(*pgdp);

		next = pgd_addr_end(addr, end);
		if (pgd_none(pgd))
			ret = memtrace_add_none(w, addr, next);
		else if (pgd_bad(pgd))
			ret = memtrace_add_blank(w, addr, next, MEMTRACE_OTHER);
		else
			ret = memtrace_p4d_range(w, vma, pgdp, pgd, addr, next);
		if (ret)
			return ret;
	} while (pgdp++, addr = next, addr != end);
	return 0;
}

/*
 * A VMA's part of the walk. A hugetlb file's PMD tables may be shared
 * between processes (huge_pmd_share()): one is unshared and freed only with
 * the file's i_mmap_rwsem held for write (truncation, hole punching, the
 * last sharer's munmap), so it is walked with that lock held for read, taken
 * after mmap_lock as the kernel takes them. It is not ours, so we never wait
 * for it holding mmap_lock: when it is busy the step lets go of mmap_lock
 * and waits for it (killable) with a reference to the file instead, and a
 * writer waiting for it makes the walk yield between page tables.
 */
static int memtrace_vma_walk(struct memtrace_walk *w,
			     struct vm_area_struct *vma, unsigned long addr,
			     unsigned long end)
{
	struct address_space *mapping = NULL;
	int ret;

	if (is_vm_hugetlb_page(vma) && vma->vm_file) {
		mapping = vma->vm_file->f_mapping;
		if (!down_read_trylock(&mapping->i_mmap_rwsem)) {
			if (w->nowait)
				return -EBUSY;	/* its place kept (w->next) */
			if (++w->i_mmap_tries < MEMTRACE_I_MMAP_TRIES) {
				w->i_mmap_wait = get_file(vma->vm_file);
				return MEMTRACE_WALK_YIELD;
			}
			/*
			 * Writers keep it busy (a hole punched in a loop):
			 * wait in the kernel's own order, under mmap_lock,
			 * so that the walk goes on.
			 */
			if (down_read_killable(&mapping->i_mmap_rwsem))
				return -EINTR;
		}
		w->i_mmap_tries = 0;
		w->i_mmap = mapping;
	}
	memtrace_cache_vma(w, vma);
	ret = memtrace_vma_range(w, vma, addr, end);
	w->cache = NULL;
	w->cache_vma = NULL;
	if (mapping) {
		w->i_mmap = NULL;
		up_read(&mapping->i_mmap_rwsem);
	}
	return ret;
}

/* After a yield for a busy i_mmap_rwsem: wait for it, no lock held. */
static int memtrace_i_mmap_wait(struct memtrace_walk *w)
{
	struct file *file = w->i_mmap_wait;
	int ret;

	w->i_mmap_wait = NULL;
	ret = down_read_killable(&file->f_mapping->i_mmap_rwsem);
	if (!ret)
		up_read(&file->f_mapping->i_mmap_rwsem);
	fput(file);
	return ret ? -EINTR : 0;
}

/* Classify [w->next, w->end) under mmap_lock; stops early when the sink is full. */
static int memtrace_walk_range(struct memtrace_walk *w)
{
	unsigned long addr = w->next;
	struct vm_area_struct *vma;
	int ret;

	while (addr < w->end) {
		vma = find_vma(w->mm, addr);
		if (!vma || vma->vm_start >= w->end)
			return memtrace_add_blank(w, addr, w->end,
						  MEMTRACE_UNMAPPED);
		if (vma->vm_start > addr) {
			ret = memtrace_add_blank(w, addr, vma->vm_start,
						 MEMTRACE_UNMAPPED);
			if (ret)
				return ret;
			addr = vma->vm_start;
		}
		ret = memtrace_vma_walk(w, vma, addr, min(vma->vm_end, w->end));
		if (ret)
			return ret;
		addr = w->next;
	}
	return 0;
}

/*
 * Make progress: classify pages and feed the sink until it is full or the
 * answer is complete (w->done). Takes and drops mmap_lock itself; the caller
 * holds no lock and may copy to userland between steps. A w->nowait walk
 * does not wait for mmap_lock (nor a hugetlb file's i_mmap_rwsem): -EBUSY
 * when it is taken or waited for (an mmap_lock writer queued behind a
 * reader stuck in a fault, say), or once w->deadline has passed, the walk
 * keeping its place.
 */
int memtrace_walk_step(struct memtrace_walk *w)
{
	struct mm_struct *mm = w->mm;
	int ret = 0;

	if (w->done)
		return 0;
	if (w->have_pending && w->mode == MEMTRACE_MODE_PAGES) {
		/* refused by a full sink last time; nothing merges with it */
		ret = w->sink(w->sink_arg, &w->pending);
		if (ret)
			return ret == -ENOSPC ? 0 : ret;
		w->have_pending = false;
	}
	if (w->file && w->next < w->end) {
		ret = memtrace_cache_file(w);
		if (ret < 0)
			return ret;
		if (ret == MEMTRACE_WALK_FULL)
			return 0;
		if (ret == MEMTRACE_WALK_YIELD)
			return -EBUSY;	/* w->deadline: its place kept */
	} else if (w->next < w->end) {
		if (!mmget_not_zero(mm))
			return -ESRCH;	/* the target has exited */
		/* num_online_nodes() counts bits: once a step, not a page */
		w->one_node = num_online_nodes() == 1;
		w->node0 = first_online_node;
		for (;;) {
			if (w->nowait) {
				if (!mmap_read_trylock(mm)) {
					ret = -EBUSY;
					break;
				}
			} else if (mmap_read_lock_killable(mm)) {
				ret = -EINTR;
				break;
			}
			ret = memtrace_walk_range(w);
			mmap_read_unlock(mm);
			if (ret != MEMTRACE_WALK_YIELD)
				break;
			if (memtrace_walk_late(w)) {
				ret = -EBUSY;
				break;
			}
			/* a yield follows progress, or waits for a lock here */
			if (w->i_mmap_wait) {
				ret = memtrace_i_mmap_wait(w);
				if (ret)
					break;
			}
			if (fatal_signal_pending(current)) {
				ret = -EINTR;
				break;
			}
			cond_resched();
		}
		/* the last user may be us: its exit_mmap() is not our job */
		mmput_async(mm);
		if (ret < 0)
			return ret;
		if (ret == MEMTRACE_WALK_FULL)
			return 0;
	}
	if (w->have_pending) {
		ret = w->sink(w->sink_arg, &w->pending);
		if (ret == -ENOSPC)
			return 0;
		if (ret)
			return ret;
		w->have_pending = false;
	}
	w->done = true;
	return 0;
}

/*
 * Set up a walk of mm's [start, end) (page aligned, end within its
 * TASK_SIZE), taking over the caller's mm_count reference (mmgrab) to it;
 * records show pfns when show_pfn is set, and CACHED pages when cache_policy
 * asks for them and allows them (NULL: none).
 * Records go to sink(arg, ...), and in pages mode into room when it has some
 * (NULL: none).
 */
void memtrace_walk_init(struct memtrace_walk *w, struct mm_struct *mm,
			unsigned long start, unsigned long end,
			enum memtrace_mode mode, bool show_pfn,
			const struct memtrace_cache_policy *cache_policy,
			memtrace_sink_t sink, void *arg,
			struct memtrace_room *room)
{
	memtrace_walk_release(w);
	memset(w, 0, sizeof(*w));
	w->mm = mm;
	w->start = start;
	w->end = end;
	w->next = start;
	w->mode = mode;
	w->show_pfn = show_pfn;
	if (cache_policy)
		w->cache_policy = *cache_policy;
	w->sink = sink;
	w->sink_arg = arg;
	w->room = room;
}

/*
 * Set up a walk of the page cache of file (memtrace_walk_init()'s, with
 * byte offsets of the file for addresses), taking over the caller's
 * reference to it; its cached pages have the kind flag kind (FILE or
 * SHMEM). The caller checked that the file has a page cache to walk and
 * that it may show it.
 */
void memtrace_walk_init_file(struct memtrace_walk *w, struct file *file,
			     unsigned long start, unsigned long end,
			     enum memtrace_mode mode, u32 kind,
			     memtrace_sink_t sink, void *arg,
			     struct memtrace_room *room)
{
	memtrace_walk_init(w, NULL, start, end, mode, false, NULL, sink, arg,
			   room);
	w->file = file;
	w->cache = file->f_mapping;
	w->cache_kind = kind;
}

void memtrace_walk_release(struct memtrace_walk *w)
{
	if (w->mm)
		mmdrop(w->mm);
	w->mm = NULL;
	if (w->file)
		fput(w->file);
	w->file = NULL;
	w->cache = NULL;
}
