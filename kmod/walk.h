/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The page-table walker that both transports share. A walk is resumable: it
 * classifies pages from ->next on, hands records to a sink, and stops when the
 * sink is full, keeping its place, so an answer of any size streams out in
 * bounded pieces with mmap_lock dropped between them.
 */
#ifndef _MEMTRACE_WALK_H
#define _MEMTRACE_WALK_H

#include <linux/types.h>
#include "target.h"
#include "uapi/memtrace.h"

struct address_space;
struct file;
struct mm_struct;

struct memtrace_record {
	u64 addr;
	u64 pages;
	u64 pfn;
	u32 flags;
	s32 node;
	u8 state;
};

struct memtrace_walk;

/*
 * A sink takes one record. It returns 0 when it took it, -ENOSPC when it is
 * full (the walk stops and offers the same record again next time), or another
 * negative errno but -EAGAIN (the walker's own "the PMD changed, read it
 * again"), which ends the walk. It is called with mmap_lock held for
 * read: it must not sleep on user memory. In runs mode records are merged
 * before they reach the sink; in pages mode each goes to it at once.
 */
typedef int (*memtrace_sink_t)(struct memtrace_walk *w,
			       const struct memtrace_record *r);

struct memtrace_walk {
	struct mm_struct *mm;	/* holds an mm_count reference (mmgrab) */
	pid_t pid;		/* as the caller named it */
	unsigned long start;	/* page aligned */
	unsigned long end;	/* page aligned, exclusive */
	unsigned long next;	/* first page not yet classified */
	enum memtrace_mode mode;
	bool show_pfn;		/* caller has CAP_SYS_ADMIN */
	bool have_pending;
	bool one_node;		/* one NUMA node online (this step): node0 */
	int node0;
	/*
	 * Pages mode: a sink may lend the walker room for pv_room more pages
	 * from pv_next on: a page word (MEMTRACE_PW()) each at pv_word, or,
	 * when pv_bytes is set (for the whole walk), a byte each at pv_idx
	 * indexing the
	 * words in pv_pal (pv_npal of them, room for pv_palmax; the walker
	 * adds the words it needs); and a pfn each at pv_pfn, when set. The
	 * walker fills it without calling the sink: the fast path of a packed
	 * netlink answer. The sink takes it back (and sets pv_room to 0)
	 * before the step ends.
	 */
	u32 *pv_word;
	u8 *pv_idx;
	u64 *pv_pfn;
	unsigned int pv_room;
	unsigned long pv_next;
	u32 *pv_pal;
	bool pv_bytes;
	unsigned int pv_npal;
	unsigned int pv_palmax;
	/* a hugetlb file's i_mmap_rwsem held for read while its VMA is walked */
	struct address_space *i_mmap;
	/* its file, when the lock was busy: waited for without mmap_lock */
	struct file *i_mmap_wait;
	unsigned int i_mmap_tries;	/* yields to it in a row */
	bool done;		/* every record, the last included, was taken */
	struct memtrace_record pending;
	u64 counts[MEMTRACE_NSTATES];
	memtrace_sink_t sink;
	void *sink_data;
};

int memtrace_walk_init(struct memtrace_walk *w, const struct memtrace_caller *c,
		       pid_t pid, u64 start, u64 end, bool to_task_size,
		       enum memtrace_mode mode);
int memtrace_walk_step(struct memtrace_walk *w);
void memtrace_walk_release(struct memtrace_walk *w);

extern const char *const memtrace_state_names[MEMTRACE_NSTATES];

#endif /* _MEMTRACE_WALK_H */
