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
};

struct mt_answer {
	int pid;
	uint64_t start, end;	/* from the header */
	unsigned long records;
	uint64_t counts[MEMTRACE_NSTATES];	/* from the summary */
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

/* Each page of a against pagemap; returns the number of disagreements. */
unsigned long mt_crosscheck(int pid, const struct mt_answer *a, bool pfns);

int mt_state_of(const char *name);
extern const char *const mt_state_names[MEMTRACE_NSTATES];

#define PM_PRESENT (1ULL << 63)
#define PM_SWAP	   (1ULL << 62)
#define PM_PFN	   ((1ULL << 55) - 1)

#endif
