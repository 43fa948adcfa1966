// SPDX-License-Identifier: GPL-2.0
/*
 * One walker for every transport: classify each page of [start, end) of an
 * mm without changing anything (no faults, no GUP, no page references).
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
 *    PTE table's, the PMD's or the PUD's), after checking that the entry (and
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
 * Speed: most entries are classified from their bits alone. A writable entry
 * of a private anonymous mapping (with one NUMA node online) maps an
 * exclusive anonymous frame of that node, so no struct page is read; and an
 * entry whose bits other than the frame equal those of the entry classified
 * before it has the same class, so runs of such entries cost a load and a
 * compare each. In pages mode a packed netlink answer lends the walker room
 * to write page words straight into the message (walk.h, pv_*).
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/swap.h>
#include <linux/swapops.h>

#include "compat.h"
#include "target.h"
#include "walk.h"

const char *const memtrace_state_names[MEMTRACE_NSTATES] = MEMTRACE_STATE_NAMES;

/* Yields to a busy hugetlb i_mmap_rwsem before waiting for it under mmap_lock */
#define MEMTRACE_I_MMAP_TRIES	8

/* What the walker returns inside a step besides 0 and -errno. */
enum {
	MEMTRACE_WALK_FULL = 1,		/* the sink is full */
	MEMTRACE_WALK_YIELD,		/* let a waiting mmap_lock writer in */
};

static bool memtrace_same_run(const struct memtrace_record *a,
			      const struct memtrace_record *b)
{
	return a->state == b->state && a->flags == b->flags &&
	       a->node == b->node && a->addr + (a->pages << PAGE_SHIFT) == b->addr;
}

/*
 * Account the record r as taken (w->next moves past it) and give it to the
 * sink; if the sink is full, r waits in w->pending for the next step.
 */
static int memtrace_emit(struct memtrace_walk *w,
			 const struct memtrace_record *r)
{
	int err;

	w->counts[r->state] += r->pages;
	w->next = r->addr + (r->pages << PAGE_SHIFT);
	err = w->sink(w, r);
	if (err == -ENOSPC) {
		w->pending = *r;
		w->have_pending = true;
		return MEMTRACE_WALK_FULL;
	}
	return err;
}

/*
 * The index of word among the words of the room lent as bytes (walk.h,
 * pv_idx), added when new; -1 when they are full: the page goes to the sink,
 * which starts a new vector.
 */
static int memtrace_pv_index(struct memtrace_walk *w, u32 word)
{
	unsigned int i;

	for (i = 0; i < w->pv_npal; i++)
		if (w->pv_pal[i] == word)
			return i;
	if (i == w->pv_palmax)
		return -1;
	w->pv_pal[w->pv_npal++] = word;
	return i;
}

/*
 * Pages mode: every page of a VMA is a record of its own, an unmapped gap is
 * one; nothing is merged, so nothing waits.
 */
static int memtrace_add_pages(struct memtrace_walk *w, unsigned long addr,
			      unsigned long pages, u8 state, u32 flags, u64 pfn,
			      bool step_pfn, int node)
{
	struct memtrace_record r = {
		.addr = addr, .pages = pages, .state = state,
		.flags = flags, .node = node,
	};
	int ret;

	if (!w->show_pfn)
		pfn = 0;
	if (state == MEMTRACE_UNMAPPED)
		return memtrace_emit(w, &r);
	if (!pfn)
		step_pfn = false;
	r.pages = 1;
	while (pages) {
		unsigned long n = min_t(unsigned long, pages, w->pv_room), i;
		u32 word = MEMTRACE_PW(state, flags, node);
		int ix = 0;

		if (n && addr == w->pv_next && w->pv_bytes)
			ix = memtrace_pv_index(w, word);
		if (n && addr == w->pv_next && ix >= 0) {
			/* many pages into the lent room at once */
			if (w->pv_bytes) {
				memset(w->pv_idx, ix, n);
				w->pv_idx += n;
			} else {
				for (i = 0; i < n; i++)
					w->pv_word[i] = word;
				w->pv_word += n;
			}
			if (w->pv_pfn && !pfn)
				memset(w->pv_pfn, 0, n * sizeof(u64));
			else if (w->pv_pfn)
				for (i = 0; i < n; i++)
					w->pv_pfn[i] = step_pfn ? pfn + i : pfn;
			if (w->pv_pfn)
				w->pv_pfn += n;
			w->pv_room -= n;
			w->pv_next += n << PAGE_SHIFT;
			w->counts[state] += n;
			w->next = w->pv_next;
		} else {
			n = 1;
			r.addr = addr;
			r.pfn = pfn;
			ret = memtrace_emit(w, &r);
			if (ret)
				return ret;
		}
		pages -= n;
		addr += n << PAGE_SHIFT;
		if (step_pfn)
			pfn += n;
	}
	return 0;
}

/*
 * Account the pages [addr, addr + pages * PAGE_SIZE) as one piece of equal
 * state. pfn is the first page's frame and steps by one per page when step_pfn
 * is set. Advances w->next over what was taken. In runs mode the piece joins
 * the pending run when it continues it, else the pending run goes to the sink.
 */
static int memtrace_add(struct memtrace_walk *w, unsigned long addr,
			unsigned long pages, u8 state, u32 flags, u64 pfn,
			bool step_pfn, int node)
{
	struct memtrace_record r = {
		.addr = addr, .pages = pages, .state = state,
		.flags = flags, .node = node,
		.pfn = w->show_pfn ? pfn : 0,
	};
	int err;

	if (w->mode == MEMTRACE_MODE_PAGES)
		return memtrace_add_pages(w, addr, pages, state, flags, pfn,
					  step_pfn, node);
	if (w->have_pending) {
		if (memtrace_same_run(&w->pending, &r)) {
			w->pending.pages += pages;
			w->counts[state] += pages;
			w->next = addr + (pages << PAGE_SHIFT);
			return 0;
		}
		err = w->sink(w, &w->pending);
		if (err == -ENOSPC)
			return MEMTRACE_WALK_FULL;
		if (err)
			return err;
	}
	w->pending = r;
	w->have_pending = true;
	w->counts[state] += pages;
	w->next = addr + (pages << PAGE_SHIFT);
	return 0;
}

/*
 * Kind (anon, shmem, file) and node of a frame with a struct page. The caller
 * holds the lock of the entry mapping it.
 */
static u32 memtrace_frame_flags(struct page *page, int *node)
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

/* What memtrace_add() is told about one page. */
struct memtrace_class {
	u64 pfn;
	u32 flags;
	int node;
	u8 state;
	/*
	 * Every entry with (pte_val & MEMTRACE_PTE_BITS_MASK) == key has this
	 * class but for its pfn; false when the class needed more than the
	 * entry's bits (the struct page, the zero pfn, a swap entry).
	 */
	bool keyed;
	u64 key;
};

/* The PMD a PTE table was found through: its place and the value read. */
struct memtrace_pmdref {
	pmd_t *pmdp;
	pmd_t pmd;
};

/*
 * A PTE's class from its bits alone; true when the frame's struct page is
 * needed too (c then has state, pfn and the entry's own flags). anon_fast:
 * the VMA is private anonymous and one node is online (w->node0), so a
 * writable present entry needs no struct page.
 */
static bool memtrace_pte_bits(struct memtrace_walk *w,
			      struct vm_area_struct *vma, bool anon_fast,
			      pte_t pte, struct memtrace_class *c)
{
	bool need_page = false;

	c->flags = 0;
	c->node = MEMTRACE_NO_NODE;
	c->pfn = 0;
	c->keyed = false;
	if (pte_none(pte)) {
		c->state = MEMTRACE_NONE;
		/* pte_none() ignores a few bits on some CPUs: equal values only */
		c->keyed = true;
		c->key = pte_val(pte);
		return false;
	}
	if (!pte_present(pte)) {
		c->state = memtrace_leaf_state(pte, &c->pfn);
		return false;
	}
	c->pfn = pte_pfn(pte);
	if (is_zero_pfn(c->pfn)) {
		c->state = MEMTRACE_ZERO;
		c->keyed = true;	/* equal values only */
		c->key = pte_val(pte);
		return false;
	}
	c->state = MEMTRACE_PRESENT;
	if (anon_fast && pte_write(pte)) {
		/*
		 * The common case without touching the struct page: in a
		 * private anonymous mapping every frame is anonymous, and a
		 * writable entry maps one that is exclusively ours
		 * (copy-on-write write-protects every shared one, the zero
		 * page included); with one node online, it is that node. All
		 * of it follows from the entry's bits.
		 */
		c->flags = MEMTRACE_F_ANON | MEMTRACE_F_EXCL;
		c->node = w->node0;
		c->keyed = MEMTRACE_PTE_BITS_MASK != ~(u64)0;
		c->key = pte_val(pte) & MEMTRACE_PTE_BITS_MASK;
	} else if ((vma->vm_flags & (VM_PFNMAP | VM_IO)) || pte_special(pte) ||
		   !pfn_valid(c->pfn)) {
		/*
		 * A raw frame: no struct page to speak of (vm_normal_page()
		 * would say NULL for it, and pagemap flags it neither file
		 * nor anonymous).
		 */
		c->flags = MEMTRACE_F_PFNMAP;
	} else {
		need_page = true;
	}
	if (pte_write(pte))
		c->flags |= MEMTRACE_F_WRITE;
	if (pte_dirty(pte))
		c->flags |= MEMTRACE_F_DIRTY;
	if (pte_young(pte))
		c->flags |= MEMTRACE_F_YOUNG;
	return need_page;
}

/*
 * A PTE's class. When it needs the struct page, the entry is read again
 * under the PTE table's lock and classified from that value: the page it maps
 * cannot be unmapped, so neither freed nor reused, while the lock is held.
 * -EAGAIN: the PMD changed (the table was freed or replaced); the caller
 * reads the PMD again. Not inlined: it is the pages loop's slow path, and
 * inlined, its lock code cost the loop its registers (make bench: the loop
 * twice as slow on every other page of 1 GiB).
 */
static noinline int memtrace_pte_class(struct memtrace_walk *w,
				       struct vm_area_struct *vma,
				       bool anon_fast,
				       const struct memtrace_pmdref *pr,
				       pte_t *ptep, pte_t pte,
				       struct memtrace_class *c)
{
	pmd_t pmd = pr->pmd;
	spinlock_t *ptl;	/* the PTE table's lock */
	struct page *page;

	if (!memtrace_pte_bits(w, vma, anon_fast, pte, c))
		return 0;
	ptl = pte_lockptr(w->mm, &pmd);
	spin_lock(ptl);
	if (!pmd_same(pmd, READ_ONCE(*pr->pmdp))) {
		spin_unlock(ptl);
		return -EAGAIN;
	}
	pte = ptep_get(ptep);
	if (memtrace_pte_bits(w, vma, anon_fast, pte, c)) {
		page = pfn_to_page(c->pfn);
		c->flags |= memtrace_frame_flags(page, &c->node);
		if (memtrace_page_mapped_once(page))
			c->flags |= MEMTRACE_F_EXCL;
	}
	spin_unlock(ptl);
	if (is_vm_hugetlb_page(vma) && c->state == MEMTRACE_PRESENT)
		c->flags |= MEMTRACE_F_HUGETLB;
	return 0;
}

/* Does pte have the class c was keyed by (c->keyed set)? */
static __always_inline bool memtrace_key_match(const struct memtrace_class *c,
					       pte_t pte)
{
	return (pte_val(pte) & (c->state == MEMTRACE_PRESENT ?
				MEMTRACE_PTE_BITS_MASK : ~(u64)0)) == c->key;
}

/* The lent room's cursor (walk.h) as the pages loop keeps it, in locals. */
struct memtrace_pv {
	u32 *word;
	u8 *idx;
	u64 *pfn;
	unsigned int room;	/* usable from the loop's addr on */
};

/* One page into the room: its index byte (bytes) or its word, and its pfn. */
static __always_inline void memtrace_pv_put(struct memtrace_pv *pv,
					    const bool bytes, int ix, u32 cw,
					    u64 pfn)
{
	if (bytes)
		*pv->idx++ = ix;
	else
		*pv->word++ = cw;
	if (pv->pfn)
		*pv->pfn++ = pfn;
	pv->room--;
}

/* Write the cursor back if pages went into the room; next is the first not. */
static __always_inline void memtrace_pv_sync(struct memtrace_walk *w,
					     const struct memtrace_pv *pv,
					     const bool bytes, unsigned long next)
{
	if (bytes ? pv->idx != w->pv_idx : pv->word != w->pv_word) {
		w->pv_word = pv->word;
		w->pv_idx = pv->idx;
		w->pv_pfn = pv->pfn;
		w->pv_room = pv->room;
		w->pv_next = next;
		w->next = next;
	}
}

/* Take the cursor from the walk; the room counts only if it starts at addr. */
static __always_inline void memtrace_pv_load(const struct memtrace_walk *w,
					     struct memtrace_pv *pv,
					     unsigned long addr)
{
	pv->word = w->pv_word;
	pv->idx = w->pv_idx;
	pv->pfn = w->pv_pfn;
	pv->room = w->pv_next == addr ? w->pv_room : 0;
}

/*
 * Pages mode: each entry of [addr, end) of a PTE table is a record. Two keyed
 * classes are kept at hand (entries with (val & m) == k: word, state, index
 * among the lent room's words), so that pages which alternate (written, not
 * written) are not classified again either. An entry of either class goes
 * into the room a sink lent (walk.h) with a load, a compare or two and a
 * store: the loop keeps the room's cursor, the classes and their page
 * counts in locals (a byte store through pv_idx may alias anything in
 * memory), and writes them back before anything else looks at the walk.
 * bytes: the room takes an index byte a page (pv_bytes) rather than a word;
 * a copy of the loop is made for each.
 */
static __always_inline int
memtrace_pte_pages_in(struct memtrace_walk *w, struct vm_area_struct *vma,
		      bool anon_fast, const struct memtrace_pmdref *pr,
		      pte_t *ptep, unsigned long addr, unsigned long end,
		      const bool bytes)
{
	/* a class that matches no entry: (v & 0) != ~0 */
	u64 m0 = 0, k0 = ~(u64)0, m1 = 0, k1 = ~(u64)0;
	unsigned long n0 = 0, n1 = 0;	/* pages of s0, s1 not yet counted */
	u32 w0 = 0, w1 = 0, cw;
	int ix0 = -1, ix1 = -1, ix;
	u8 s0 = 0, s1 = 0, st;
	bool lru1 = false;		/* the class to replace next: 1, else 0 */
	bool show = w->show_pfn;
	struct memtrace_class c;
	struct memtrace_pv pv;
	int ret, which;

	memtrace_pv_load(w, &pv, addr);
	for (; addr < end; addr += PAGE_SIZE, ptep++) {
		pte_t pte = ptep_get(ptep);
		u64 v = pte_val(pte);

		if (pv.room && (v & m0) == k0 && (!bytes || ix0 >= 0)) {
			memtrace_pv_put(&pv, bytes, ix0, w0,
					show && s0 != MEMTRACE_NONE ?
					pte_pfn(pte) : 0);
			n0++;
			lru1 = true;
			continue;
		}
		if (pv.room && (v & m1) == k1 && (!bytes || ix1 >= 0)) {
			memtrace_pv_put(&pv, bytes, ix1, w1,
					show && s1 != MEMTRACE_NONE ?
					pte_pfn(pte) : 0);
			n1++;
			lru1 = false;
			continue;
		}

		/* a class not at hand, its index not known yet, or no room */
		if ((v & m0) == k0) {
			which = 0;
			cw = w0;
			st = s0;
			c.pfn = st == MEMTRACE_NONE ? 0 : pte_pfn(pte);
		} else if ((v & m1) == k1) {
			which = 1;
			cw = w1;
			st = s1;
			c.pfn = st == MEMTRACE_NONE ? 0 : pte_pfn(pte);
		} else {
			ret = memtrace_pte_class(w, vma, anon_fast, pr, ptep,
						 pte, &c);
			if (ret) {	/* -EAGAIN: taken so far is taken */
				memtrace_pv_sync(w, &pv, bytes, addr);
				w->counts[s0] += n0;
				w->counts[s1] += n1;
				return ret;
			}
			cw = MEMTRACE_PW(c.state, c.flags, c.node);
			st = c.state;
			which = c.keyed ? lru1 : -1;
			if (which >= 0) {
				u64 m = c.state == MEMTRACE_PRESENT ?
					MEMTRACE_PTE_BITS_MASK : ~(u64)0;

				if (which) {
					w->counts[s1] += n1;
					n1 = 0;
					m1 = m;
					k1 = c.key;
					w1 = cw;
					s1 = st;
					ix1 = -1;
				} else {
					w->counts[s0] += n0;
					n0 = 0;
					m0 = m;
					k0 = c.key;
					w0 = cw;
					s0 = st;
					ix0 = -1;
				}
			}
		}
		if (which >= 0)
			lru1 = which == 0;
		if (pv.room) {
			ix = 0;
			if (bytes) {
				ix = memtrace_pv_index(w, cw);
				if (which == 0)
					ix0 = ix;
				else if (which == 1)
					ix1 = ix;
			}
			if (ix >= 0) {	/* else its words are full */
				memtrace_pv_put(&pv, bytes, ix, cw,
						show ? c.pfn : 0);
				w->counts[st]++;
				continue;
			}
		}
		/* the slow way: the walk must be current for it */
		memtrace_pv_sync(w, &pv, bytes, addr);
		ret = memtrace_add(w, addr, 1, st, MEMTRACE_PW_FLAGS(cw), c.pfn,
				   false, MEMTRACE_PW_NODE(cw));
		if (ret) {
			w->counts[s0] += n0;
			w->counts[s1] += n1;
			return ret;
		}
		/* the sink may have begun a new vector, with words of its own */
		memtrace_pv_load(w, &pv, addr + PAGE_SIZE);
		ix0 = -1;
		ix1 = -1;
	}
	memtrace_pv_sync(w, &pv, bytes, addr);
	w->counts[s0] += n0;
	w->counts[s1] += n1;
	return 0;
}

static int memtrace_pte_pages(struct memtrace_walk *w,
			      struct vm_area_struct *vma, bool anon_fast,
			      const struct memtrace_pmdref *pr, pte_t *ptep,
			      unsigned long addr, unsigned long end)
{
	if (w->pv_bytes)
		return memtrace_pte_pages_in(w, vma, anon_fast, pr, ptep, addr,
					     end, true);
	return memtrace_pte_pages_in(w, vma, anon_fast, pr, ptep, addr, end,
				     false);
}

/*
 * One PTE table's part of [addr, end). In runs mode, neighbours of equal
 * class reach memtrace_add() as one piece (its pfn the first page's, as a
 * run's is); in pages mode every page is its own. An entry whose bits match
 * the previous one's key is not classified again. -EAGAIN: the PMD changed
 * under us; every page before w->next was taken, the caller goes on from
 * there with the PMD read again.
 */
static int memtrace_pte_range(struct memtrace_walk *w,
			      struct vm_area_struct *vma, pmd_t *pmdp,
			      pmd_t pmd, unsigned long addr, unsigned long end)
{
	bool anon_fast = w->one_node && vma_is_anonymous(vma);
	const struct memtrace_pmdref pr = { .pmdp = pmdp, .pmd = pmd };
	struct memtrace_class run = {}, c;
	unsigned long run_addr = addr, n = 0;
	pte_t *ptep;
	int ret = 0;

	rcu_read_lock();
	ptep = pte_offset_kernel(&pmd, addr);
	if (w->mode == MEMTRACE_MODE_PAGES) {
		ret = memtrace_pte_pages(w, vma, anon_fast, &pr, ptep, addr,
					 end);
		goto out;
	}
	for (; addr < end; addr += PAGE_SIZE, ptep++) {
		pte_t pte = ptep_get(ptep);

		if (n && run.keyed && memtrace_key_match(&run, pte)) {
			n++;
			continue;
		}
		ret = memtrace_pte_class(w, vma, anon_fast, &pr, ptep, pte, &c);
		if (ret)
			break;
		if (n && c.state == run.state && c.flags == run.flags &&
		    c.node == run.node) {
			n++;
			continue;
		}
		if (n) {
			ret = memtrace_add(w, run_addr, n, run.state, run.flags,
					   run.pfn, false, run.node);
			if (ret)
				goto out;
		}
		run = c;
		run_addr = addr;
		n = 1;
	}
	if (n) {
		int err = memtrace_add(w, run_addr, n, run.state, run.flags,
				       run.pfn, false, run.node);

		if (err)
			ret = err;
	}
out:
	rcu_read_unlock();
	return ret;
}

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
	/* EXCL page by page (PMD index), where pagemap judges it so */
	bool per_page;
	DECLARE_BITMAP(excl, PTRS_PER_PMD);
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

/* The write, dirty and young bits of a huge entry, as flags. */
static u32 memtrace_pmd_bits(pmd_t pmd)
{
	return (pmd_write(pmd) ? MEMTRACE_F_WRITE : 0) |
	       (pmd_dirty(pmd) ? MEMTRACE_F_DIRTY : 0) |
	       (pmd_young(pmd) ? MEMTRACE_F_YOUNG : 0);
}

static u32 memtrace_pud_bits(pud_t pud)
{
	return (pud_write(pud) ? MEMTRACE_F_WRITE : 0) |
	       (pud_dirty(pud) ? MEMTRACE_F_DIRTY : 0) |
	       (pud_young(pud) ? MEMTRACE_F_YOUNG : 0);
}

/*
 * A PMD that maps 2M at once (THP or hugetlb), or a non-present huge entry.
 * Under the PMD lock (for hugetlb too: huge_pte_lock() of a PMD-sized page
 * is that same lock) the mapping can be neither split nor zapped: the entry
 * is read again there and its pages looked at before letting go; -EAGAIN
 * means it changed and the caller reads the PMD again.
 */
static int memtrace_pmd_huge(struct memtrace_walk *w, struct vm_area_struct *vma,
			     pmd_t *pmdp, pmd_t pmd, unsigned long addr,
			     unsigned long end)
{
	struct memtrace_leaf l = {
		.head_pfn = pmd_pfn(pmd), .size = PMD_SIZE,
	};
	spinlock_t *ptl;	/* the PMD table lock */
	u64 swp;
	u8 state;

	if (!pmd_present(pmd)) {
		state = memtrace_leaf_state(__pte(pmd_val(pmd)), &swp);
		return memtrace_add(w, addr, (end - addr) >> PAGE_SHIFT, state,
				    0, swp, false, MEMTRACE_NO_NODE);
	}
	l.flags = MEMTRACE_F_SIZE_2M | memtrace_pmd_bits(pmd);
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
		ptl = pmd_lock(w->mm, pmdp);
		if (!pmd_same(pmd, *pmdp)) {
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
static bool memtrace_pud_present_leaf(pud_t pud)
{
	if (pud_present(pud))
		return pud_leaf(pud);
	return pte_present(__pte(pud_val(pud)));
}

/* A PUD that maps 1G at once (hugetlb, DAX): as a huge PMD, under the PUD lock. */
static int memtrace_pud_huge(struct memtrace_walk *w, struct vm_area_struct *vma,
			     pud_t *pudp, pud_t pud, unsigned long addr,
			     unsigned long end)
{
	struct memtrace_leaf l = {
		.head_pfn = pud_pfn(pud), .size = PUD_SIZE,
		.flags = MEMTRACE_F_SIZE_1G | memtrace_pud_bits(pud),
	};
	spinlock_t *ptl = pud_lock(w->mm, pudp);

	if (pud_val(pud) != pud_val(READ_ONCE(*pudp))) {
		spin_unlock(ptl);
		return -EAGAIN;
	}
	memtrace_leaf_read(vma, (pte_t *)pudp, memtrace_pud_special(pud), addr,
			   end, &l);
	spin_unlock(ptl);
	return memtrace_leaf_add(w, &l, addr, end);
}

/* Between page tables: reschedule, abort on SIGKILL, let writers in. */
static int memtrace_breather(struct memtrace_walk *w)
{
	if (fatal_signal_pending(current))
		return -EINTR;
	if (mmap_lock_is_contended(w->mm) ||
	    (w->i_mmap && rwsem_is_contended(&w->i_mmap->i_mmap_rwsem)))
		return MEMTRACE_WALK_YIELD;
	cond_resched();
	return 0;
}

static int memtrace_pmd_range(struct memtrace_walk *w,
			      struct vm_area_struct *vma, pud_t pud,
			      unsigned long addr, unsigned long end)
{
	pmd_t *pmdp = pmd_offset(&pud, addr);
	unsigned long next;
	int ret;

	do {
		pmd_t pmd;

		next = pmd_addr_end(addr, end);
again:
		pmd = READ_ONCE(*pmdp);
		if (pmd_none(pmd)) {
			ret = memtrace_add(w, addr, (next - addr) >> PAGE_SHIFT,
					   MEMTRACE_NONE, 0, 0, false,
					   MEMTRACE_NO_NODE);
		} else if (!pmd_present(pmd) || pmd_leaf(pmd)) {
			ret = memtrace_pmd_huge(w, vma, pmdp, pmd, addr, next);
		} else if (pmd_bad(pmd)) {
			ret = memtrace_add(w, addr, (next - addr) >> PAGE_SHIFT,
					   MEMTRACE_OTHER, 0, 0, false,
					   MEMTRACE_NO_NODE);
		} else {
			ret = memtrace_pte_range(w, vma, pmdp, pmd, addr, next);
		}
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
			      struct vm_area_struct *vma, p4d_t p4d,
			      unsigned long addr, unsigned long end)
{
	pud_t *pudp = pud_offset(&p4d, addr);
	unsigned long next, pages;
	int ret;

	do {
		int node = MEMTRACE_NO_NODE;
		u64 pfn = 0;
		pud_t pud;
		u8 state;

		next = pud_addr_end(addr, end);
		pages = (next - addr) >> PAGE_SHIFT;
again:
		pud = READ_ONCE(*pudp);
		if (pud_none(pud)) {
			ret = memtrace_add(w, addr, pages, MEMTRACE_NONE, 0, 0,
					   false, node);
		} else if (memtrace_pud_present_leaf(pud)) {
			ret = memtrace_pud_huge(w, vma, pudp, pud, addr, next);
			if (ret == -EAGAIN) {
				ret = memtrace_breather(w);
				if (ret)
					return ret;
				goto again;
			}
		} else if (!pud_present(pud)) {
			state = memtrace_leaf_state(__pte(pud_val(pud)), &pfn);
			ret = memtrace_add(w, addr, pages, state, 0, pfn, false,
					   node);
		} else if (pud_bad(pud)) {
			ret = memtrace_add(w, addr, pages, MEMTRACE_OTHER, 0, 0,
					   false, node);
		} else {
			ret = memtrace_pmd_range(w, vma, pud, addr, next);
		}
		if (ret)
			return ret;
	} while (pudp++, addr = next, addr != end);
	return 0;
}

static int memtrace_p4d_range(struct memtrace_walk *w,
			      struct vm_area_struct *vma, pgd_t pgd,
			      unsigned long addr, unsigned long end)
{
	p4d_t *p4dp = p4d_offset(&pgd, addr);
	unsigned long next;
	int ret;

	do {
		p4d_t p4d = READ_ONCE(*p4dp);

		next = p4d_addr_end(addr, end);
		if (p4d_none(p4d) || p4d_bad(p4d))
			ret = memtrace_add(w, addr, (next - addr) >> PAGE_SHIFT,
					   p4d_none(p4d) ? MEMTRACE_NONE :
					   MEMTRACE_OTHER, 0, 0, false,
					   MEMTRACE_NO_NODE);
		else
			ret = memtrace_pud_range(w, vma, p4d, addr, next);
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
		if (pgd_none(pgd) || pgd_bad(pgd))
			ret = memtrace_add(w, addr, (next - addr) >> PAGE_SHIFT,
					   pgd_none(pgd) ? MEMTRACE_NONE :
					   MEMTRACE_OTHER, 0, 0, false,
					   MEMTRACE_NO_NODE);
		else
			ret = memtrace_p4d_range(w, vma, pgd, addr, next);
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
	ret = memtrace_vma_range(w, vma, addr, end);
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
			return memtrace_add(w, addr, (w->end - addr) >> PAGE_SHIFT,
					    MEMTRACE_UNMAPPED, 0, 0, false,
					    MEMTRACE_NO_NODE);
		if (vma->vm_start > addr) {
			ret = memtrace_add(w, addr,
					   (vma->vm_start - addr) >> PAGE_SHIFT,
					   MEMTRACE_UNMAPPED, 0, 0, false,
					   MEMTRACE_NO_NODE);
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
 * holds no lock and may copy to userland between steps.
 */
int memtrace_walk_step(struct memtrace_walk *w)
{
	struct mm_struct *mm = w->mm;
	int ret = 0;

	if (w->done)
		return 0;
	if (w->have_pending && w->mode == MEMTRACE_MODE_PAGES) {
		/* refused by a full sink last time; nothing merges with it */
		ret = w->sink(w, &w->pending);
		if (ret)
			return ret == -ENOSPC ? 0 : ret;
		w->have_pending = false;
	}
	if (w->next < w->end) {
		if (!mmget_not_zero(mm))
			return -ESRCH;	/* the target has exited */
		/* num_online_nodes() counts bits: once a step, not a page */
		w->one_node = num_online_nodes() == 1;
		w->node0 = first_online_node;
		for (;;) {
			if (mmap_read_lock_killable(mm)) {
				ret = -EINTR;
				break;
			}
			ret = memtrace_walk_range(w);
			mmap_read_unlock(mm);
			if (ret != MEMTRACE_WALK_YIELD)
				break;
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
		ret = w->sink(w, &w->pending);
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
 * Set up a walk of pid's [start, end) for caller c. With to_task_size, end is
 * the target's TASK_SIZE ("all" when start is 0). Errors: EINVAL for an empty
 * range or an unknown mode, ERANGE past TASK_SIZE, ESRCH, EACCES.
 */
int memtrace_walk_init(struct memtrace_walk *w, const struct memtrace_caller *c,
		       pid_t pid, u64 start, u64 end, bool to_task_size,
		       enum memtrace_mode mode)
{
	struct mm_struct *mm;

	if (mode > MEMTRACE_MODE_MAX)
		return -EINVAL;
	if (start >= TASK_SIZE_MAX || (!to_task_size && end > TASK_SIZE_MAX))
		return -ERANGE;
	if (!to_task_size && end <= start)
		return -EINVAL;	/* judged as written, before rounding */
	start = round_down(start, PAGE_SIZE);
	if (!to_task_size)
		end = round_up(end, PAGE_SIZE);
	mm = memtrace_target_get(pid, c);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	if (to_task_size)
		end = mm->task_size;
	if (end > mm->task_size || start >= end) {
		mmdrop(mm);
		return -ERANGE;
	}
	memtrace_walk_release(w);
	memset(w->counts, 0, sizeof(w->counts));
	w->mm = mm;
	w->pid = pid;
	w->start = start;
	w->end = end;
	w->next = start;
	w->mode = mode;
	w->show_pfn = c->cap_admin;
	w->have_pending = false;
	w->done = false;
	w->pv_room = 0;
	w->i_mmap_tries = 0;
	return 0;
}

void memtrace_walk_release(struct memtrace_walk *w)
{
	if (w->mm)
		mmdrop(w->mm);
	w->mm = NULL;
}
