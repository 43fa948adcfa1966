/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the walker's files share: walk.c (steps, VMAs, the upper levels),
 * pte.c (PTE tables), leaf.c (huge entries) and record.c (pieces of equal
 * pages into records, the sink and the lent room).
 */
#ifndef _MEMTRACE_WALK_INTERNAL_H
#define _MEMTRACE_WALK_INTERNAL_H

#include <linux/jiffies.h>
#include <linux/mm.h>

#include "compat.h"
#include "walk.h"

/* What the walker returns inside a step besides 0 and -errno. */
enum {
	MEMTRACE_WALK_FULL = 1,		/* the sink is full */
	MEMTRACE_WALK_YIELD,		/* let a waiting mmap_lock writer in */
};

/* record.c */
int memtrace_add(struct memtrace_walk *w, unsigned long addr,
		 unsigned long pages, u8 state, u32 flags, u64 pfn,
		 bool step_pfn, int node);

/* [addr, end) of one state, no flags, no frame (none, unmapped, other). */
static inline int memtrace_add_blank(struct memtrace_walk *w,
				     unsigned long addr, unsigned long end,
				     u8 state)
{
	return memtrace_add(w, addr, (end - addr) >> PAGE_SHIFT, state, 0, 0,
			    false, MEMTRACE_NO_NODE);
}

/* [addr, end) behind one non-present huge entry (swap, migration, other). */
static inline int memtrace_add_nonpresent(struct memtrace_walk *w,
					  unsigned long addr,
					  unsigned long end, pte_t entry)
{
	u64 swp;
	u8 state = memtrace_leaf_state(entry, &swp);

	return memtrace_add(w, addr, (end - addr) >> PAGE_SHIFT, state, 0, swp,
			    false, MEMTRACE_NO_NODE);
}

/* cache.c */
void memtrace_cache_vma(struct memtrace_walk *w, struct vm_area_struct *vma);
int memtrace_add_none(struct memtrace_walk *w, unsigned long addr,
		      unsigned long end);
u8 memtrace_cache_page(const struct memtrace_walk *w, unsigned long addr,
		       u32 *flags);
int memtrace_cache_file(struct memtrace_walk *w);

/* pte.c */
int memtrace_pte_range(struct memtrace_walk *w, struct vm_area_struct *vma,
		       pmd_t *pmdp, pmd_t pmd, unsigned long addr,
		       unsigned long end);

/* leaf.c */
int memtrace_pmd_huge(struct memtrace_walk *w, struct vm_area_struct *vma,
		      pmd_t *pmdp, pmd_t pmd, unsigned long addr,
		      unsigned long end);
int memtrace_pud_huge(struct memtrace_walk *w, struct vm_area_struct *vma,
		      pud_t *pudp, pud_t pud, unsigned long addr,
		      unsigned long end);
bool memtrace_pud_present_leaf(pud_t pud);

/* A nowait walk past its deadline stops at the next place it may. */
static inline bool memtrace_walk_late(const struct memtrace_walk *w)
{
	return w->nowait && w->deadline && time_after_eq(jiffies, w->deadline);
}

/* The flags an entry's own bits give, at every level: the one place. */
static inline u32 memtrace_entry_flags(bool write, bool dirty, bool young)
{
	return (write ? MEMTRACE_F_WRITE : 0) |
	       (dirty ? MEMTRACE_F_DIRTY : 0) |
	       (young ? MEMTRACE_F_YOUNG : 0);
}

/*
 * Kind (anon, shmem, file) and node of a frame with a struct page. The caller
 * holds the lock of the entry mapping it.
 */
static inline u32 memtrace_frame_flags(struct page *page, int *node)
{
	u32 flags;

	/*
	 * Anonymous pages are PageAnon; shmem/tmpfs pages are the other
	 * swap-backed ones (no need for shmem_mapping(), unexported before
	 * 6.x); the rest are page cache of a file.
	 */
	if (PageAnon(page))
		flags = MEMTRACE_F_ANON;
	else if (memtrace_page_swapbacked(page))
		flags = MEMTRACE_F_SHMEM;
	else
		flags = MEMTRACE_F_FILE;
	*node = page_to_nid(page);
	return flags;
}

#endif /* _MEMTRACE_WALK_INTERNAL_H */
