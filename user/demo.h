/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memtrace demo: what one run gathers (demo.c, demo_measure.c), read by the
 * printers (out_*.c). Everything is allocated before the first stage: the
 * demo must not allocate between stages (see demo.c).
 */
#ifndef MT_DEMO_H
#define MT_DEMO_H

#include "mt.h"

#define DEMO_DIS_MAX	16	/* disagreements kept per stage */
#define DEMO_MAPS_LINES	32	/* lines of maps over the region kept per stage */

enum mt_demo_stage { ST_INITIAL, ST_MMAP, ST_READ, ST_PATTERN, ST_WRITE, ST_DONTNEED,
		     ST_MUNMAP, ST_N };

extern const char *const mt_demo_stage_names[ST_N];

struct mt_demo {
	const struct mt_ctx *ctx;
	long pid;
	unsigned int page_size;
	uint64_t hpage;		/* a THP's size: the PMD size (2M with 4K pages) */
	size_t npages;
	bool thp, pause;
	char pattern[65];
	char *region;
	uint64_t start, end;
	char *pic;		/* npages + 1: a character a page */
	uint64_t count[MEMTRACE_NSTATES];
	uint64_t prev_present;
	long vsz_kb, rss_kb, prev_rss_kb, prev_vsz_kb;
	long srss_kb, prev_srss_kb;	/* smaps_rollup Rss: -1 if unavailable */
	char ps_vsz[32], ps_rss[32];
	bool have_ps;
	char ps_path[256];
	char *maps_buf;
	char maps_tmp[4096];	/* a line of maps, parsed */
	const char *maps_lines[DEMO_MAPS_LINES];	/* over the region, in maps_buf */
	unsigned int nmaps;
	bool maps_read;		/* /proc/self/maps could be read */
	struct mt_pagemap pm;
	struct mt_check check;
	struct mt_disagreement dis[DEMO_DIS_MAX];
	struct mt_record dis_rec[DEMO_DIS_MAX];
	unsigned int ndis;
	uint64_t total_disagree;
	int stage;
};

/* demo_measure.c: VSZ and RSS from /proc/self and ps, without allocating */
ssize_t mt_demo_read_into(const char *path, char *buf, size_t cap);
void mt_demo_find_ps(struct mt_demo *d);
void mt_demo_measure(struct mt_demo *d);	/* status, smaps_rollup and ps */
void mt_demo_measure_init(void);		/* touch the buffers */

/* kB deltas: 0 when either side is unknown */
static inline long mt_demo_delta(long now, long prev)
{
	return now >= 0 && prev >= 0 ? now - prev : 0;
}

static inline long mt_demo_backed_delta(const struct mt_demo *d)
{
	return (long)((int64_t)(d->count[MEMTRACE_PRESENT] - d->prev_present) *
		      d->page_size / 1024);
}

#endif /* MT_DEMO_H */
