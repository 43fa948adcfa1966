/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rel-stress's internal header: what its files share. stress.c: the shared
 * state, reports, the harness and main(); stress-target.c: the targets;
 * stress-query.c: the queriers.
 */
#ifndef MEMTRACE_STRESS_H
#define MEMTRACE_STRESS_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kmod/mtlib.h"
#include "pg.h"
#define TAP_SHARED
#include "tap.h"
#include "rlib.h"

#define NT 4			/* targets */
#define NQ 8			/* queriers */
/* 2048 pages: 8 MiB with 4K pages, 32 MiB with 16K */
#define APAGES 2048UL
#define ARENA (APAGES * MT_PG)
/* the stable tail after each arena: four stretches of SQ pages */
#define SQ 16
#define SPAGES (4 * SQ)
#define SPAN (ARENA + SPAGES * MT_PG)	/* what the queriers look at */
#define HANG_S 60		/* no query finished for this long: a hang */
#define STOP_S 120		/* queriers still running this long after the stop */

/* What a target knows of its stable tail; addr 0: nothing published. */
struct stable {
	uint64_t addr;
	uint8_t state[SPAGES];
	uint64_t pfn[SPAGES];	/* /proc/self/pagemap's; 0 when not shown */
};

struct slot {
	_Atomic int pid;
	_Atomic int exiting;	/* set by the target just before it exits */
	_Atomic uint64_t base;
	_Atomic unsigned long gen;	/* odd while a target publishes itself */
	struct stable stable;
};

struct qstat {
	_Atomic unsigned long queries, esrch, mid_esrch, errors, bytes;
	_Atomic unsigned long alive;	/* progress, for the hang check */
	/* stable tails: answers compared, pages, pfns, pages that disagreed */
	_Atomic unsigned long st_answers, st_pages, st_pfns, st_bad;
};

struct shared {
	_Atomic int stop;
	_Atomic int msgs;		/* error lines printed */
	struct slot slot[NT];
	struct qstat q[NQ];
	_Atomic unsigned long spawned, target_ops, forks;
	/* targets that published a stable tail, failed to set one up */
	_Atomic unsigned long published, setup_fail;
	/* targets' children reaped, and how many of them ended badly */
	_Atomic unsigned long children, children_bad;
};

/* stress.c */
extern struct shared *stress_sh;
extern int stress_fd_file;
double stress_now(void);
void stress_report(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
const char *stress_how(int st, char *buf, size_t n);
bool stress_ended_well(int st, int sent);

/* stress-target.c */
void stress_target(int idx, uint64_t seed);

/* stress-query.c */
void stress_querier(int qi, uint64_t seed);

#endif
