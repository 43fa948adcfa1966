// SPDX-License-Identifier: GPL-2.0
/*
 * PTE tables: the hot loops. Most entries are classified from their bits
 * alone: a writable entry of a private anonymous mapping (with one NUMA node
 * online) maps an exclusive anonymous frame of that node, so no struct page
 * is read; and an entry whose bits other than the frame equal those of an
 * entry classified before has the same class, so runs of such entries cost
 * a load and a compare each. A struct page is read only under the PTE
 * table's lock, after checking that the PMD still points to the table read
 * (walk.c says why).
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>

#include "walk_internal.h"

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

/* A PTE table being walked: where, and the PMD it was found through. */
struct memtrace_ptes {
	struct memtrace_walk *w;
	struct vm_area_struct *vma;
	/*
	 * The VMA is private anonymous and one node is online (w->node0), so
	 * a writable present entry needs no struct page.
	 */
	bool anon_fast;
	bool hugetlb;	/* a hugetlb VMA: its pages are locked as hugetlb's */
	pmd_t *pmdp;
	pmd_t pmd;
	/* the entry of address addr0, to find an entry's address */
	pte_t *ptep0;
	unsigned long addr0;
};

/* The part of an entry a keyed class of the given state is matched on. */
static __always_inline u64 memtrace_key_mask(u8 state)
{
	return state == MEMTRACE_PRESENT ? MEMTRACE_PTE_BITS_MASK : ~(u64)0;
}

/*
 * A PTE's class from its bits alone; true when the frame's struct page is
 * needed too (c then has state, pfn and the entry's own flags).
 */
static bool memtrace_pte_bits(const struct memtrace_ptes *t, pte_t pte,
			      struct memtrace_class *c)
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
	if (t->anon_fast && pte_write(pte)) {
		/*
		 * The common case without touching the struct page: in a
		 * private anonymous mapping every frame is anonymous, and a
		 * writable entry maps one that is exclusively ours
		 * (copy-on-write write-protects every shared one, the zero
		 * page included); with one node online, it is that node. All
		 * of it follows from the entry's bits.
		 */
		c->flags = MEMTRACE_F_ANON | MEMTRACE_F_EXCL;
		c->node = t->w->node0;
		c->keyed = MEMTRACE_PTE_BITS_MASK != ~(u64)0;
		c->key = pte_val(pte) & MEMTRACE_PTE_BITS_MASK;
	} else if ((t->vma->vm_flags & (VM_PFNMAP | VM_IO)) ||
		   pte_special(pte) || !pfn_valid(c->pfn)) {
		/*
		 * A raw frame: no struct page to speak of (vm_normal_page()
		 * would say NULL for it, and pagemap flags it neither file
		 * nor anonymous).
		 */
		c->flags = MEMTRACE_F_PFNMAP;
	} else {
		need_page = true;
	}
	c->flags |= memtrace_entry_flags(pte_write(pte), pte_dirty(pte),
					 pte_young(pte));
	return need_page;
}

/*
 * A PTE's class. A none entry of a VMA whose page cache is asked for
 * (t->w->cache) is looked up there (cache.c), with no lock. When it needs
 * the struct page, the entry is read again under the PTE table's lock and
 * classified from that value: the page it maps cannot be unmapped, so
 * neither freed nor reused, while the lock is held.
 * The lock is taken the way pte_offset_map_lock() takes it (pte_lockptr() of
 * the PMD value read, then pmd_same()); that function is not exported from
 * 6.5 on. -EAGAIN: the PMD changed (the table was freed or replaced); the
 * caller reads the PMD again. Not inlined: it is the pages loop's slow path,
 * and inlined, its lock code cost the loop its registers (make bench: the
 * loop twice as slow on every other page of 1 GiB).
 */
static noinline int memtrace_pte_class(const struct memtrace_ptes *t,
				       pte_t *ptep, pte_t pte,
				       struct memtrace_class *c)
{
	pmd_t pmd = t->pmd;
	spinlock_t *ptl;	/* the PTE table's lock, or hugetlb's */
	struct page *page;

	if (!memtrace_pte_bits(t, pte, c))
		goto none;
	/*
	 * A hugetlb page mapped by PTEs (arm64's contiguous hugetlb) is
	 * zapped under hugetlb's lock, which up to 6.10 is the mm's
	 * page_table_lock rather than this table's (compat.h).
	 */
	if (t->hugetlb)
		ptl = memtrace_hugetlb_lockptr(t->vma, t->w->mm, ptep);
	else
		ptl = pte_lockptr(t->w->mm, &pmd);
	spin_lock(ptl);
	if (!pmd_same(pmd, READ_ONCE(*t->pmdp))) {
		spin_unlock(ptl);
		return -EAGAIN;
	}
	/*
	 * Under the lock a contpte block cannot change but for the dirty and
	 * young bits the hardware sets: ptep_get() gathers them over the
	 * block, as pagemap reads it (compat.h, memtrace_ptep_get_lockless()).
	 */
	pte = ptep_get(ptep);
	if (memtrace_pte_bits(t, pte, c)) {
		page = pfn_to_page(c->pfn);
		c->flags |= memtrace_frame_flags(page, &c->node);
		/* a hugetlb page: pagemap's hugetlb rule, asked of its head */
		if (t->hugetlb ?
		    memtrace_hugetlb_mapped_once(compound_head(page), ptep) :
		    memtrace_page_mapped_once(page))
			c->flags |= MEMTRACE_F_EXCL;
		if (t->w->folio)
			c->flags |= MEMTRACE_REC_ORDER(memtrace_page_order(page));
	}
	spin_unlock(ptl);
	if (t->hugetlb && c->state == MEMTRACE_PRESENT)
		c->flags |= MEMTRACE_F_HUGETLB;
none:
	/*
	 * A none entry, read without the lock or (zapped meanwhile:
	 * MADV_DONTNEED, reclaim) with it: where CACHED is asked for, a
	 * page-cache lookup (cache.c), and never keyed, lest a keyed NONE
	 * class take the table's other none entries past the page cache.
	 */
	if (t->w->cache && pte_none(pte)) {
		c->keyed = false;
		c->state = memtrace_cache_page(t->w, t->addr0 + (ptep - t->ptep0) *
					       PAGE_SIZE, &c->flags);
	}
	return 0;
}

/* Does pte have the class c was keyed by (c->keyed set)? */
static __always_inline bool memtrace_key_match(const struct memtrace_class *c,
					       pte_t pte)
{
	return (pte_val(pte) & memtrace_key_mask(c->state)) == c->key;
}

/*
 * Runs mode: neighbours of equal class reach memtrace_add() as one piece
 * (its pfn the first page's, as a run's is). An entry whose bits match the
 * previous one's key is not classified again.
 */
static int memtrace_pte_runs(const struct memtrace_ptes *t, pte_t *ptep,
			     unsigned long addr, unsigned long end)
{
	struct memtrace_class run = {}, c;
	unsigned long run_addr = addr, n = 0;
	int ret = 0, err;

	for (; addr < end; addr += PAGE_SIZE, ptep++) {
		pte_t pte = memtrace_ptep_get_lockless(ptep);

		if (n && run.keyed && memtrace_key_match(&run, pte)) {
			n++;
			continue;
		}
		ret = memtrace_pte_class(t, ptep, pte, &c);
		if (ret)
			break;
		if (n && c.state == run.state && c.flags == run.flags &&
		    c.node == run.node) {
			n++;
			continue;
		}
		if (n) {
			ret = memtrace_add(t->w, run_addr, n, run.state,
					   run.flags, run.pfn, false, run.node);
			if (ret)
				return ret;
		}
		run = c;
		run_addr = addr;
		n = 1;
	}
	if (n) {
		err = memtrace_add(t->w, run_addr, n, run.state, run.flags,
				   run.pfn, false, run.node);
		if (err)
			ret = err;
	}
	return ret;
}

/* The lent room's cursor (record.h) as the pages loop keeps it, in locals. */
struct memtrace_cursor {
	u32 *word;
	u8 *idx;
	u64 *pfn;
	unsigned int left;	/* pages it takes from the loop's addr on */
	unsigned int loaded;	/* left when last loaded or synced */
};

/* Take the cursor from the room; the room counts only if it goes on at addr. */
static __always_inline void memtrace_cursor_load(const struct memtrace_walk *w,
						 struct memtrace_cursor *cur,
						 const bool bytes,
						 unsigned long addr)
{
	const struct memtrace_room *room = w->room;

	cur->word = NULL;
	cur->idx = NULL;
	cur->pfn = NULL;
	cur->left = 0;
	if (room && room->next == addr && room->used < room->cap) {
		if (bytes)
			cur->idx = room->idx + room->used;
		else
			cur->word = room->word + room->used;
		if (room->pfns)
			cur->pfn = room->pfns + room->used;
		cur->left = room->cap - room->used;
	}
	cur->loaded = cur->left;
}

/* Give the room what went in since; next is the first page that did not. */
static __always_inline void memtrace_cursor_sync(struct memtrace_walk *w,
						 struct memtrace_cursor *cur,
						 unsigned long next)
{
	unsigned int n = cur->loaded - cur->left;

	if (n) {
		w->room->used += n;
		w->room->next = next;
		w->next = next;
		cur->loaded = cur->left;
	}
}

/* One page into the room: its index byte (bytes) or its word, and its pfn. */
static __always_inline void memtrace_cursor_put(struct memtrace_cursor *cur,
						const bool bytes, int ix,
						u32 word, u64 pfn)
{
	if (bytes)
		*cur->idx++ = ix;
	else
		*cur->word++ = word;
	if (cur->pfn)
		*cur->pfn++ = pfn;
	cur->left--;
}

/*
 * A class the pages loop keeps at hand: the entries with (v & mask) == key,
 * their state and word, the word's index among the room's words (-1: not
 * known yet), and how many of its pages are not counted yet.
 */
struct memtrace_slot {
	u64 mask;
	u64 key;
	unsigned long n;
	u32 word;
	int ix;
	u8 state;
};

/* A slot that matches no entry: (v & 0) != ~0 */
#define MEMTRACE_SLOT_EMPTY { .mask = 0, .key = ~(u64)0, .ix = -1 }

static __always_inline bool memtrace_slot_has(const struct memtrace_slot *s,
					      u64 v)
{
	return (v & s->mask) == s->key;
}

/* Does v's page go into the room at once (when there is room)? */
static __always_inline bool memtrace_slot_fast(const struct memtrace_slot *s,
					       u64 v, const bool bytes)
{
	return memtrace_slot_has(s, v) && (!bytes || s->ix >= 0);
}

static __always_inline void memtrace_slot_put(struct memtrace_cursor *cur,
					      struct memtrace_slot *s,
					      const bool bytes, bool show,
					      pte_t pte)
{
	memtrace_cursor_put(cur, bytes, s->ix, s->word,
			    show && s->state != MEMTRACE_NONE ?
			    pte_pfn(pte) : 0);
	s->n++;
}

static __always_inline void memtrace_slot_count(struct memtrace_walk *w,
						struct memtrace_slot *s)
{
	w->counts[s->state] += s->n;
	s->n = 0;
}

/* The slot holds c's class from now on. */
static __always_inline void memtrace_slot_set(struct memtrace_walk *w,
					      struct memtrace_slot *s,
					      const struct memtrace_class *c,
					      u32 word)
{
	memtrace_slot_count(w, s);
	s->mask = memtrace_key_mask(c->state);
	s->key = c->key;
	s->word = word;
	s->state = c->state;
	s->ix = -1;
}

/*
 * The pages loop's other case: the entry pte (at addr) is of no class at
 * hand, its class's index among the room's words is not known yet, or the
 * room is used up. It is classified if need be (a keyed class takes the
 * slot used least recently: lru1 says which), put into the room if it can
 * go there, else given to memtrace_add(): the sink may lend new room, so the
 * cursor is synced before and loaded again after.
 */
static __always_inline int
memtrace_pages_miss(const struct memtrace_ptes *t, struct memtrace_cursor *cur,
		    struct memtrace_slot *s0, struct memtrace_slot *s1,
		    bool *lru1, pte_t *ptep, pte_t pte, unsigned long addr,
		    const bool bytes)
{
	struct memtrace_walk *w = t->w;
	u64 v = pte_val(pte);
	struct memtrace_class c;
	int which, ix, ret;
	u32 word;

	if (memtrace_slot_has(s0, v) || memtrace_slot_has(s1, v)) {
		which = !memtrace_slot_has(s0, v);
		word = which ? s1->word : s0->word;
		c.state = which ? s1->state : s0->state;
		c.pfn = c.state == MEMTRACE_NONE ? 0 : pte_pfn(pte);
		c.flags = MEMTRACE_PW_FLAGS(word);
		c.node = MEMTRACE_PW_NODE(word);
	} else {
		ret = memtrace_pte_class(t, ptep, pte, &c);
		if (ret)
			return ret;	/* -EAGAIN: what was taken is taken */
		/* (a folio order is never in a word: no room with FOLIO) */
		word = MEMTRACE_PW(c.state, MEMTRACE_REC_FLAGS(c.flags), c.node);
		which = c.keyed ? *lru1 : -1;
		if (which == 1)
			memtrace_slot_set(w, s1, &c, word);
		else if (which == 0)
			memtrace_slot_set(w, s0, &c, word);
	}
	if (which >= 0)
		*lru1 = which == 0;
	if (cur->left) {
		ix = 0;
		if (bytes) {
			ix = memtrace_room_index(w->room, word);
			if (which == 0)
				s0->ix = ix;
			else if (which == 1)
				s1->ix = ix;
		}
		if (ix >= 0) {	/* else its words are full */
			memtrace_cursor_put(cur, bytes, ix, word,
					    w->show_pfn ? c.pfn : 0);
			w->counts[c.state]++;
			return 0;
		}
	}
	/* the slow way: the walk must be current for it */
	memtrace_cursor_sync(w, cur, addr);
	ret = memtrace_add(w, addr, 1, c.state, c.flags, c.pfn, false, c.node);
	if (ret)
		return ret;
	memtrace_cursor_load(w, cur, bytes, addr + PAGE_SIZE);
	s0->ix = -1;	/* new room has words of its own */
	s1->ix = -1;
	return 0;
}

/*
 * Pages mode: each entry of [addr, end) of a PTE table is a record. Two keyed
 * classes are kept at hand (struct memtrace_slot), so that pages which
 * alternate (written, not written) are not classified again either. An entry
 * of either class goes into the room a sink lent (record.h) with a load, a
 * compare or two and a store: the loop keeps the room's cursor, the slots and
 * their page counts in locals (a byte store through the cursor may alias
 * anything in memory), and writes them back before anything else looks at
 * the walk. bytes: the room takes an index byte a page rather than a word; a
 * copy of the loop is made for each.
 */
static __always_inline int
memtrace_pte_pages_in(const struct memtrace_ptes *t, pte_t *ptep,
		      unsigned long addr, unsigned long end, const bool bytes)
{
	struct memtrace_slot s0 = MEMTRACE_SLOT_EMPTY, s1 = MEMTRACE_SLOT_EMPTY;
	struct memtrace_walk *w = t->w;
	bool lru1 = false;	/* the slot to replace next: 1, else 0 */
	bool show = w->show_pfn;
	struct memtrace_cursor cur;
	int ret = 0;

	memtrace_cursor_load(w, &cur, bytes, addr);
	for (; addr < end; addr += PAGE_SIZE, ptep++) {
		pte_t pte = memtrace_ptep_get_lockless(ptep);
		u64 v = pte_val(pte);

		if (cur.left && memtrace_slot_fast(&s0, v, bytes)) {
			memtrace_slot_put(&cur, &s0, bytes, show, pte);
			lru1 = true;
			continue;
		}
		if (cur.left && memtrace_slot_fast(&s1, v, bytes)) {
			memtrace_slot_put(&cur, &s1, bytes, show, pte);
			lru1 = false;
			continue;
		}
		ret = memtrace_pages_miss(t, &cur, &s0, &s1, &lru1, ptep, pte,
					  addr, bytes);
		if (ret)
			break;
	}
	memtrace_cursor_sync(w, &cur, addr);
	memtrace_slot_count(w, &s0);
	memtrace_slot_count(w, &s1);
	return ret;
}

static int memtrace_pte_pages(const struct memtrace_ptes *t, pte_t *ptep,
			      unsigned long addr, unsigned long end)
{
	if (t->w->room && t->w->room->bytes)
		return memtrace_pte_pages_in(t, ptep, addr, end, true);
	return memtrace_pte_pages_in(t, ptep, addr, end, false);
}

/*
 * One PTE table's part of [addr, end), in runs or pages mode. -EAGAIN:
 * the PMD changed under us; every page before w->next was taken, the caller
 * goes on from there with the PMD read again.
 */
int memtrace_pte_range(struct memtrace_walk *w, struct vm_area_struct *vma,
		       pmd_t *pmdp, pmd_t pmd, unsigned long addr,
		       unsigned long end)
{
	pte_t *ptep = pte_offset_kernel(&pmd, addr);
	const struct memtrace_ptes t = {
		.w = w, .vma = vma, .pmdp = pmdp, .pmd = pmd,
		/* a folio's order is in its struct page: no fast path then */
		.anon_fast = w->one_node && vma_is_anonymous(vma) && !w->folio,
		.hugetlb = is_vm_hugetlb_page(vma),
		.ptep0 = ptep, .addr0 = addr,
	};
	int ret;

	/* since 6.5 khugepaged may free a PTE table through RCU */
	rcu_read_lock();
	if (w->mode == MEMTRACE_MODE_PAGES)
		ret = memtrace_pte_pages(&t, ptep, addr, end);
	else
		ret = memtrace_pte_runs(&t, ptep, addr, end);
	rcu_read_unlock();
	return ret;
}
