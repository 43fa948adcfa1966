// SPDX-License-Identifier: GPL-2.0
/*
 * The walker's output: pieces of equal pages become records. In runs mode a
 * piece joins the pending run when it continues it, else the run goes to the
 * sink; in pages mode every page is a record of its own, written into the
 * room the sink lends (record.h) when there is some, else given to the sink.
 * Every page counts towards its state's total once it is taken.
 */
#include <linux/mm.h>
#include <linux/string.h>

#include "walk_internal.h"

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
	err = w->sink(w->sink_arg, r);
	if (err == -ENOSPC) {
		w->pending = *r;
		w->have_pending = true;
		return MEMTRACE_WALK_FULL;
	}
	return err;
}

/* Pages of the room that can be written from addr on (none if it is not next). */
static unsigned long memtrace_room_left(const struct memtrace_room *room,
					unsigned long addr)
{
	return room && room->next == addr && room->used < room->cap ?
	       room->cap - room->used : 0;
}

/* n pages into the room at once: one word (or its index ix), pfns stepping or not. */
static void memtrace_room_fill(struct memtrace_room *room, unsigned long n,
			       int ix, u32 word, u64 pfn, bool step_pfn)
{
	unsigned long i;

	if (room->bytes) {
		memset(room->idx + room->used, ix, n);
	} else {
		for (i = 0; i < n; i++)
			room->word[room->used + i] = word;
	}
	if (room->pfns && !pfn)
		memset(room->pfns + room->used, 0, n * sizeof(u64));
	else if (room->pfns)
		for (i = 0; i < n; i++)
			room->pfns[room->used + i] = step_pfn ? pfn + i : pfn;
	room->used += n;
	room->next += n << PAGE_SHIFT;
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
	struct memtrace_room *room = w->room;
	u32 word = MEMTRACE_PW(state, flags, node);
	int ret;

	if (!w->show_pfn)
		pfn = 0;
	if (state == MEMTRACE_UNMAPPED)
		return memtrace_emit(w, &r);
	if (!pfn)
		step_pfn = false;
	r.pages = 1;
	while (pages) {
		unsigned long n = min(pages, memtrace_room_left(room, addr));
		int ix = n && room->bytes ? memtrace_room_index(room, word) : 0;

		if (n && ix >= 0) {
			memtrace_room_fill(room, n, ix, word, pfn, step_pfn);
			w->counts[state] += n;
			w->next = room->next;
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
int memtrace_add(struct memtrace_walk *w, unsigned long addr,
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
		err = w->sink(w->sink_arg, &w->pending);
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
