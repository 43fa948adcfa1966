/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the receive suite (tests/receive): a seeded target process that
 * holds still, changes its mappings, exec's or exits on command, and its
 * answer as /proc/memtrace text and as one entry a page.
 */
#ifndef MEMTRACE_RCVLIB_H
#define MEMTRACE_RCVLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pg.h"

#include "rlib.h"

/* the kernel's page size (4K; 16K on arm64-16k) */
#define RC_PS MT_PG

/* One page of an answer. */
struct rc_pg {
	uint8_t state;
	bool seen;
	uint32_t flags;
	int32_t node;
	uint64_t pfn;
};

/*
 * A target: a child that lays out npages (seeded), reports, and then waits
 * on a pipe for commands, answering each with one byte:
 *   'm'  change the mappings of the span's second half (seeded): every page
 *        there changes state
 *   'x'  exec this program in "idle" mode (a new address space, same pid)
 *   'q'  exit (the parent reaps it in rc_target_stop())
 */
struct rc_target {
	pid_t pid;
	int cmd, ack;		/* pipes to and from it */
	uint64_t start, end;	/* the span */
	size_t npages;
};

int rc_target_start(struct rc_target *t, uint64_t seed, size_t npages);
/* Send a command, wait for its answer: 0 or -errno. */
int rc_target_cmd(struct rc_target *t, char c);
void rc_target_stop(struct rc_target *t);
/* argv[1] "idle": what 'x' exec's (main() calls it first). */
int rc_idle_main(int argc, char **argv);

/*
 * Query pid for [start, end) (mode "runs" or "pages") through a fresh
 * /proc/memtrace file, read it to EOF in 64 KiB reads, check it with rlib:
 * 0, or -errno (-EBADMSG: why says it). *text (malloc'ed, *len bytes) and
 * pg (one entry a page of the span, when not NULL) get the answer.
 */
int rc_proc_answer(int pid, uint64_t start, uint64_t end, const char *mode, bool admin,
		   char **text, size_t *len, struct rc_pg *pg, char *why, size_t wlen);

/* Collect records into pages (rl_check.on_record, arg: struct rc_collect). */
struct rc_collect {
	uint64_t start;
	size_t npages;
	struct rc_pg *pg;
};
void rc_on_record(void *arg, uint64_t addr, uint64_t pages, unsigned int state,
		  uint32_t flags, uint64_t pfn, int64_t node);

/* Seed: argv, MT_SEED / mt_seed=, else the clock. */
uint64_t rc_seed(int argc, char **argv);
double rc_now(void);
/* /proc/memtrace opened O_RDWR with a query written: fd, or -errno. */
int rc_proc_open_query(const char *q);

/* The module's reference count (/sys/module/memtrace/refcnt), or -1. */
long rc_refcnt(void);
/* Wait up to 5 s for it to be want (a release may wait for RCU): the last value. */
long rc_refcnt_wait(long want);

#endif
