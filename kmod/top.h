/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every process a caller may query, one after the other, each counted over
 * its whole user address space (top.c): what MEMTRACE_CMD_TOP answers.
 */
#ifndef _MEMTRACE_TOP_H
#define _MEMTRACE_TOP_H

#include <linux/sched.h>
#include <linux/types.h>

#include "target.h"
#include "walk.h"

/* One process, counted. */
struct memtrace_top_proc {
	pid_t pid;		/* in the caller's pid namespace */
	struct memtrace_comm comm;
	u64 counts[MEMTRACE_NSTATES_ALL];
	u64 thp;		/* PRESENT pages of PMD/PUD entries: THP */
	bool busy;		/* its mmap_lock stayed busy: counted in part */
};

struct memtrace_top {
	/* the caller, with a reference to each of its parts (top.c) */
	struct memtrace_caller caller;
	struct memtrace_cache_policy policy;
	bool cached;		/* CACHED pages asked for */
	pid_t next;		/* the first pid not yet looked at */
	bool end;		/* no pid left */
	unsigned int budget;	/* records the walk may still give this step */
	u64 proc_waited;	/* ns waited for this process's busy locks */
	u64 dump_waited;	/* ... for all of the dump's */
	/* one try of a busy lock, no wait, 10 ms of counting (netlink.c) */
	bool no_wait;
	struct memtrace_top_proc proc;	/* the last one counted */
	struct memtrace_walk walk;
};

void memtrace_top_start(struct memtrace_top *t, const struct memtrace_caller *c,
			bool cached);
int memtrace_top_next(struct memtrace_top *t);
void memtrace_top_release(struct memtrace_top *t);

#endif /* _MEMTRACE_TOP_H */
