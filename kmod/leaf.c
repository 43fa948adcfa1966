// SPDX-License-Identifier: GPL-2.0
/*
 * Huge entries: a PMD or a PUD that maps 2M or 1G at once (THP, hugetlb,
 * DAX), or a non-present one. The struct page is read under the entry's
 * lock, after checking that the entry is still the one read locklessly, so
 * the mapping can be neither split nor zapped while it is looked at.
 */
#include <linux/mm.h>
#include <linux/hugetlb.h>

#include "walk_internal.h"

/*
 * A present entry mapping size bytes (PMD or PUD) from its head_pfn, of which
 * the pages [addr, end) are asked for: their state, the flags they share
 * (size, and write/dirty/young of the entry), node, and which are EXCL.
 */
struct memtrace_leaf {
	unsigned long head_pfn;
	unsigned long size;
	u32 flags;
	int node;
	u8 state;	/* PRESENT or ZERO: a frame, its pfns step a page */
	/*
	 * its folio's order: the struct page's (memtrace_leaf_read()), else
	 * the entry's size (the unlocked anon path reads no struct page)
	 */
	u8 order;
	/* EXCL page by page (PMD index), where pagemap judges it so */
	bool per_page;
	DECLARE_BITMAP(excl, PTRS_PER_PTE);	/* a page of the PMD: PMD_SIZE / PAGE_SIZE */
};

/*
 * Fill l from the frame's struct page. The caller holds the entry's lock and
 * has checked that the entry is still the one read, so the frame stays mapped
 * (neither split nor freed) while its pages are looked at.
 */
static void memtrace_leaf_read(struct vm_area_struct *vma, pte_t *entry,
			       bool special, unsigned long addr,
			       unsigned long end, struct memtrace_leaf *l)
{
	bool hugetlb = is_vm_hugetlb_page(vma);
	struct page *head;
	unsigned long a;

	l->state = MEMTRACE_PRESENT;
	l->node = MEMTRACE_NO_NODE;
	l->per_page = false;
	/*
	 * From 6.18 the huge zero page is mapped by a special PMD: the only
	 * special PMD an anonymous private VMA can hold.
	 */
	if (special && vma_is_anonymous(vma) && !hugetlb &&
	    l->size == PMD_SIZE) {
		l->state = MEMTRACE_ZERO;
		l->flags &= MEMTRACE_F_SIZE_MASK;
		return;
	}
	if ((vma->vm_flags & (VM_PFNMAP | VM_IO)) || special ||
	    !pfn_valid(l->head_pfn)) {
		l->flags |= MEMTRACE_F_PFNMAP;
		return;
	}
	head = pfn_to_page(l->head_pfn);
	/*
	 * what the page is, under the entry's lock: a THP's order is its
	 * entry's, a contiguous hugetlb page's the whole page's, a DAX
	 * entry's maybe less (the initialised entry's size stands for the
	 * paths that read no struct page: the anon fast path, the zero page)
	 */
	l->order = memtrace_page_order(head);
	l->per_page = MEMTRACE_PMD_EXCL_PER_PAGE && !hugetlb &&
		      l->size == PMD_SIZE;
	l->flags |= memtrace_frame_flags(head, &l->node);
	if (hugetlb) {
		l->flags |= MEMTRACE_F_HUGETLB;
		if (memtrace_hugetlb_mapped_once(head, entry))
			l->flags |= MEMTRACE_F_EXCL;
	} else if (!l->per_page && memtrace_page_mapped_once(head)) {
		l->flags |= MEMTRACE_F_EXCL;
	}
	/*
	 * The huge zero page is not exported to modules (is_huge_zero_pmd()
	 * needs huge_zero_pfn). An anonymous private VMA maps only anonymous
	 * THPs and the huge zero page, so a PMD there whose frame is not
	 * anonymous is the huge zero page.
	 */
	if (vma_is_anonymous(vma) && !hugetlb && !(l->flags & MEMTRACE_F_ANON)) {
		l->state = MEMTRACE_ZERO;
		l->flags &= MEMTRACE_F_SIZE_MASK;
		l->node = MEMTRACE_NO_NODE;
		l->per_page = false;
		return;
	}
	if (!l->per_page)
		return;
	for (a = addr; a < end; a += PAGE_SIZE) {
		unsigned long i = (a & ~PMD_MASK) >> PAGE_SHIFT;

		__assign_bit(i, l->excl,
			     memtrace_page_mapped_once(pfn_to_page(l->head_pfn + i)));
	}
}

/* The flags of page a of a present leaf. */
static u32 memtrace_leaf_flags(const struct memtrace_leaf *l, unsigned long a)
{
	if (l->per_page && test_bit((a & ~PMD_MASK) >> PAGE_SHIFT, l->excl))
		return l->flags | MEMTRACE_F_EXCL;
	return l->flags;
}

/* [addr, end) of a present leaf as one piece of equal flags. */
static int memtrace_leaf_piece(struct memtrace_walk *w,
			       const struct memtrace_leaf *l, unsigned long addr,
			       unsigned long end, u32 flags)
{
	/* the folio's order; a raw frame has none */
	if (w->folio && !(flags & MEMTRACE_F_PFNMAP))
		flags |= MEMTRACE_REC_ORDER(l->order);
	return memtrace_add(w, addr, (end - addr) >> PAGE_SHIFT, l->state, flags,
			    l->head_pfn + ((addr & (l->size - 1)) >> PAGE_SHIFT),
			    true, l->node);
}

/*
 * Account [addr, end) of a present leaf: one piece, or where EXCL is judged
 * page by page, one piece per stretch of equal EXCL (so that a page's answer
 * never depends on where the query window starts).
 */
static int memtrace_leaf_add(struct memtrace_walk *w,
			     const struct memtrace_leaf *l, unsigned long addr,
			     unsigned long end)
{
	u32 flags = memtrace_leaf_flags(l, addr), f;
	unsigned long a, piece = addr;
	int ret;

	for (a = addr + PAGE_SIZE; l->per_page && a < end; a += PAGE_SIZE) {
		f = memtrace_leaf_flags(l, a);
		if (f == flags)
			continue;
		ret = memtrace_leaf_piece(w, l, piece, a, flags);
		if (ret)
			return ret;
		piece = a;
		flags = f;
	}
	return memtrace_leaf_piece(w, l, piece, end, flags);
}

/*
 * The lock under which a huge entry's mapping can be neither split nor
 * zapped: a THP's (or DAX's) PMD or PUD lock, or for hugetlb the one
 * mm/hugetlb.c takes (compat.h): the same PMD lock for a page of PMD_SIZE,
 * but mm->page_table_lock up to 6.10 for arm64's contiguous PMDs (32M with
 * 4K pages, 1G with 16K).
 */
static spinlock_t *memtrace_leaf_lockptr(struct vm_area_struct *vma,
					 struct mm_struct *mm, pte_t *entry,
					 spinlock_t *thp_ptl)
{
	return is_vm_hugetlb_page(vma) ?
	       memtrace_hugetlb_lockptr(vma, mm, entry) : thp_ptl;
}

/*
 * A PMD that maps 2M at once (THP or hugetlb), or a non-present huge entry.
 * Under its lock (memtrace_leaf_lockptr()) the mapping can be neither split
 * nor zapped: the entry is read again there and its pages looked at before
 * letting go; -EAGAIN means it changed and the caller reads the PMD again.
 */
int memtrace_pmd_huge(struct memtrace_walk *w, struct vm_area_struct *vma,
		      pmd_t *pmdp, pmd_t pmd, unsigned long addr,
		      unsigned long end)
{
	struct memtrace_leaf l = {
		.head_pfn = pmd_pfn(pmd), .size = PMD_SIZE,
		.order = PMD_SHIFT - PAGE_SHIFT,
	};
	spinlock_t *ptl;	/* the PMD table lock */

	if (!pmd_present(pmd))
		return memtrace_add_nonpresent(w, addr, end,
					       __pte(pmd_val(pmd)));
	l.flags = MEMTRACE_F_SIZE_PMD |
		  memtrace_entry_flags(pmd_write(pmd), pmd_dirty(pmd),
				       pmd_young(pmd));
	if (w->one_node && vma_is_anonymous(vma) && pmd_write(pmd)) {
		/*
		 * As for a PTE: a writable huge entry of a private anonymous
		 * mapping maps an anonymous THP of ours (the huge zero page
		 * is never writable); its bits say the rest, no struct page
		 * is read, so no lock is needed either.
		 */
		l.state = MEMTRACE_PRESENT;
		l.node = w->node0;
		l.flags |= MEMTRACE_F_ANON | MEMTRACE_F_EXCL;
	} else {
		ptl = memtrace_leaf_lockptr(vma, w->mm, (pte_t *)pmdp,
					    pmd_lockptr(w->mm, pmdp));
		spin_lock(ptl);
		if (!pmd_same(pmd, READ_ONCE(*pmdp))) {
			spin_unlock(ptl);
			return -EAGAIN;
		}
		memtrace_leaf_read(vma, (pte_t *)pmdp, memtrace_pmd_special(pmd),
				   addr, end, &l);
		spin_unlock(ptl);
	}
	return memtrace_leaf_add(w, &l, addr, end);
}

/*
 * Does the PUD map 1G at once? pud_leaf() and pud_present() see only the
 * present bit on x86, so a PROT_NONE leaf (present to the kernel, as
 * pmd_present() says of a PMD) looks like a swap entry to them: ask
 * pte_present() of the same bits as well.
 */
bool memtrace_pud_present_leaf(pud_t pud)
{
	if (pud_present(pud))
		return pud_leaf(pud);
	return pte_present(__pte(pud_val(pud)));
}

/* A PUD that maps 1G at once (hugetlb, DAX): as a huge PMD, under its lock. */
int memtrace_pud_huge(struct memtrace_walk *w, struct vm_area_struct *vma,
		      pud_t *pudp, pud_t pud, unsigned long addr,
		      unsigned long end)
{
	struct memtrace_leaf l = {
		.head_pfn = pud_pfn(pud), .size = PUD_SIZE,
		.order = PUD_SHIFT - PAGE_SHIFT,
		.flags = MEMTRACE_F_SIZE_PUD |
			 memtrace_entry_flags(pud_write(pud), memtrace_pud_dirty(pud),
					      pud_young(pud)),
	};
	spinlock_t *ptl = memtrace_leaf_lockptr(vma, w->mm, (pte_t *)pudp,
						pud_lockptr(w->mm, pudp));

	spin_lock(ptl);
	if (pud_val(pud) != pud_val(READ_ONCE(*pudp))) {
		spin_unlock(ptl);
		return -EAGAIN;
	}
	memtrace_leaf_read(vma, (pte_t *)pudp, memtrace_pud_special(pud), addr,
			   end, &l);
	spin_unlock(ptl);
	return memtrace_leaf_add(w, &l, addr, end);
}
