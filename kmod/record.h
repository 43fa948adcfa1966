/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a walk hands back to the transport that asked: records (runs of
 * pages of equal state, flags and node) through a sink, and in pages mode,
 * for a packed netlink answer, pages written straight into room the
 * transport lends (struct memtrace_room).
 */
#ifndef _MEMTRACE_RECORD_H
#define _MEMTRACE_RECORD_H

#include <linux/types.h>

/*
 * Inside the module, bits 24-31 of a record's flags hold its folio order
 * when the query asked for it (uapi/memtrace.h, "Folio order"): records of
 * different orders then never merge. Sinks put them out apart.
 */
#define MEMTRACE_REC_ORDER_SHIFT	24
#define MEMTRACE_REC_ORDER(o)		((u32)(o) << MEMTRACE_REC_ORDER_SHIFT)
#define MEMTRACE_REC_ORDER_OF(f)	((f) >> MEMTRACE_REC_ORDER_SHIFT)
#define MEMTRACE_REC_FLAGS(f)		((f) & (MEMTRACE_REC_ORDER(1) - 1))

struct memtrace_record {
	u64 addr;
	u64 pages;
	u64 pfn;
	u32 flags;
	s32 node;
	u8 state;
};

/*
 * A sink takes one record. It returns 0 when it took it, -ENOSPC when it is
 * full (the walk stops and offers the same record again next time), or another
 * negative errno but -EAGAIN (the walker's own "the PMD changed, read it
 * again"), which ends the walk. It is called with mmap_lock held for
 * read: it must not sleep on user memory. In runs mode records are merged
 * before they reach the sink; in pages mode each goes to it at once.
 */
typedef int (*memtrace_sink_t)(void *arg, const struct memtrace_record *r);

/*
 * Room for pages at consecutive addresses, owned by the transport (a packed
 * netlink answer's page vector) and lent to the walker in pages mode: the
 * walker fills it without a sink call a page (the fast path of a packed
 * answer), the sink opens new room when it is used up. Pages [0, used) are
 * written; the walker adds from used on, up to cap, the next one at address
 * next. A page is an index byte at idx into words when bytes is set (for the
 * whole walk; the walker adds the words it needs, up to maxwords), else its
 * word at word (MEMTRACE_PW()); and its pfn at pfns, when pfns is set.
 */
struct memtrace_room {
	bool bytes;
	u32 *word;
	u8 *idx;
	u64 *pfns;
	unsigned int cap;
	unsigned int used;
	unsigned long next;
	u32 *words;
	unsigned int nwords;
	unsigned int maxwords;
};

/*
 * The index of word among the room's words (idx rooms), added when new; -1
 * when they are full: the page goes to the sink, which starts new room.
 */
static inline int memtrace_room_index(struct memtrace_room *room, u32 word)
{
	unsigned int i;

	for (i = 0; i < room->nwords; i++)
		if (room->words[i] == word)
			return i;
	if (i >= room->maxwords)
		return -1;
	room->words[room->nwords++] = word;
	return i;
}

#endif /* _MEMTRACE_RECORD_H */
