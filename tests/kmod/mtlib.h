/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test-side helpers: run a query through /proc/memtrace, expand the answer to
 * one entry per page, and read /proc/PID/pagemap for the same pages.
 */
#ifndef MEMTRACE_MTLIB_H
#define MEMTRACE_MTLIB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "memtrace.h"

struct mt_page {
	int state;
	uint32_t flags;
	uint64_t pfn;
	int node;
	/*
	 * A later page of a runs-mode record of 4K pages: the record gives
	 * its first page's pfn only. (0 in pages mode and for answers filled
	 * in by hand, where every page's pfn is its own.)
	 */
	bool pfn_unknown;
};

struct mt_answer {
	int pid;
	uint64_t start, end;	/* from the header */
	unsigned long records;
	uint64_t counts[MEMTRACE_NSTATES_ALL];	/* from the summary */
	bool have_cached;	/* the summary counts CACHED pages */
	uint64_t total;
	bool have_summary;
	struct mt_page *pages;	/* (end - start) / page size entries */
};

/* Query PID for [start, end) ("mode" is "runs" or "pages"); returns 0 or -errno. */
int mt_query(int pid, uint64_t start, uint64_t end, const char *mode,
	     struct mt_answer *a);
/* Write one raw line to a fresh /proc/memtrace fd; returns 0 or -errno. */
int mt_write_raw(const void *buf, size_t len);
void mt_answer_free(struct mt_answer *a);

/* pagemap entries for [start, end) of pid; returns 0 or -errno. */
int mt_pagemap(int pid, uint64_t start, uint64_t end, uint64_t *out);

/*
 * Each page of a against pagemap (and, for the frame pagemap shows,
 * /proc/kpageflags), by the rules at mt_crosscheck_ex() in mtlib.c.
 * pfns: compare the module's pfns and swap entries with pagemap's (both
 * show them only to CAP_SYS_ADMIN).
 */
struct mt_xcheck {
	unsigned long pages;	/* looked at */
	unsigned long agree;
	unsigned long disagree;
	/* pagemap cannot tell whether the module is right: counted, not passed */
	unsigned long unjudged;
	const char *why;	/* why the first of those could not be judged */
};

unsigned long mt_crosscheck_ex(int pid, const struct mt_answer *a, bool pfns,
			       struct mt_xcheck *x);
/*
 * The same; returns the number of disagreements and prints a diagnostic line
 * saying how many pages could not be judged, and why, when there are any.
 */
unsigned long mt_crosscheck(int pid, const struct mt_answer *a, bool pfns);

/* The /proc/kpageflags word of a frame; returns 0 or -errno. */
int mt_kpageflags(uint64_t pfn, uint64_t *flags);

int mt_state_of(const char *name);
extern const char *const mt_state_names[MEMTRACE_NSTATES_ALL];

/* /proc/PID/pagemap (Documentation/admin-guide/mm/pagemap.rst) */
#define PM_PRESENT    (1ULL << 63)
#define PM_SWAP	      (1ULL << 62)
#define PM_FILE	      (1ULL << 61)	/* file page or shared anonymous */
#define PM_GUARD      (1ULL << 58)	/* a guard region marker (6.15+) */
#define PM_UFFD_WP    (1ULL << 57)
#define PM_EXCLUSIVE  (1ULL << 56)	/* the page is mapped exactly once */
#define PM_SOFT_DIRTY (1ULL << 55)
#define PM_PFN	      ((1ULL << 55) - 1)	/* frame, or swap type and offset */
#define PM_SWAP_TYPE(e) ((e) & MEMTRACE_SWAP_TYPE_MASK)

/*
 * Swap types: a swap area's is below MAX_SWAPFILES; the entries that are
 * not swap (hwpoison, migration, device, PTE marker) take the types from
 * there to 31. MAX_SWAPFILES is 32 less as many types as the kernel's
 * config has of those: 9 at most (6.12 with DEVICE_PRIVATE), so below 23 a
 * type is a swap area's on every kernel, and from 23 on never, short of
 * more than 23 swap areas. Which special type is which depends on the
 * config, which userland cannot see: pagemap does not tell a migration
 * entry from a hwpoison or device entry.
 */
#define MT_SWAP_TYPE_SPECIAL_MIN 23

/* /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h) */
#define MT_KPF_HUGE	 17
#define MT_KPF_NOPAGE	 20
#define MT_KPF_THP	 22
#define MT_KPF_ZERO_PAGE 24

#endif
