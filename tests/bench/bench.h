/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench's internal header: what its files share. bench.c: the options, the
 * timing, the runs per size and for the whole address space, main();
 * bench-methods.c: the methods timed (memtrace over netlink and /proc,
 * pagemap, mincore, PAGEMAP_SCAN); bench-run.c: the regions, kernel memory
 * during a query, the small process; bench-top.c: every process, one TOP
 * dump against every smaps_rollup; bench-report.c: the markdown report.
 */
#ifndef MEMTRACE_BENCH_H
#define MEMTRACE_BENCH_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "memtrace.h"
#include "nlraw.h"
#define TAP_SHARED
#include "tap.h"

/* the kernel's page size (4K, 16K on arm64-16k), set first thing in main() */
extern unsigned long bench_page;
#define PAGE bench_page
#define MIB (1024UL * 1024)
#define HUGE (2 * MIB)

/* PAGEMAP_SCAN uapi (6.7), defined here: the host's headers may lack it. */
struct mt_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
struct mt_page_region {
	uint64_t start, end, categories;
};
#define MT_PAGEMAP_SCAN _IOWR('f', 16, struct mt_pm_scan_arg)
#define MT_PAGE_IS_PRESENT (1 << 3)
#define MT_SCAN_VEC 65536	/* regions per ioctl; loop on walk_end */

/* ------------------------------------------------------------------ */
/* methods */

enum method {
	M_NL_RUNS, M_NL_PAGES, M_PROC_RUNS, M_PROC_PAGES,
	M_PAGEMAP, M_MINCORE, M_SCAN,
	/* profiling variants: netlink's nested records; /proc's answer not parsed */
	M_NL_RUNS_NEST, M_NL_PAGES_NEST, M_PROC_RUNS_RAW, M_PROC_PAGES_RAW,
	M_NL_PAGES_NOPFN,	/* packed, MEMTRACE_A_NO_PFN: a residency query */
	M_NL_PAGES_WORDS,	/* that, with a word a page instead of a byte */
	M_N
};

#define M_MAIN 7	/* methods in the main table */

enum rstate { S_UNTOUCHED, S_WRITTEN, S_ALTERNATE, S_ZERO, S_THP, S_N };

#define NL_PACKED 1	/* MEMTRACE_A_PACKED */
#define NL_NO_PFN 2	/* MEMTRACE_A_NO_PFN */
#define NL_INDEXED 4	/* MEMTRACE_A_INDEXED: a byte a page */

#define PROC_READ (256 * 1024)

struct vma {
	uint64_t s, e;
};

struct result {
	double med, min;	/* ms */
	int64_t backed;		/* -1: not available */
	bool ran;
};

struct size_results {
	size_t size;
	struct result r[S_N][M_N];
	long thp_kb[S_N];
	long km_proc_free, km_proc_slab, km_nl_free, km_nl_slab;
	uint64_t km_pages;
};

struct as_results {
	int nvmas;
	struct result all[4], maps[4];	/* nl runs, nl pages, proc runs, SCAN */
	int64_t pm_maps_backed;
};

struct top_results {
	bool cli;			/* /lab/memtrace was there */
	/*
	 * backed: processes (cli_r, rollup_exec: exit status); startup:
	 * memtrace --version; rollup_exec: every smaps_rollup read by a program
	 * started as the CLI is (fork, exec)
	 */
	struct result dump, cli_r, startup, rollup, rollup_exec;
	uint64_t present_kb, zero_kb, none_kb;
};

/* bench.c */
extern const char *const bench_method_names[M_N];
extern const char *const bench_state_names[S_N];
extern int bench_repeats;
extern bool bench_have_scan;
extern char bench_label[80], bench_accel[32], bench_date[32];
double bench_now_ms(void);
void bench_die(const char *what);

/* bench-methods.c */
void bench_nl_open(void);
uint64_t bench_nl_query(int pid, uint64_t start, uint64_t end, int mode, int how,
			void (*hook)(void));
extern char *bench_proc_buf;
extern char bench_proc_tail[512];
uint64_t bench_proc_query(int pid, uint64_t start, uint64_t end, const char *mode,
			  bool parse, void (*hook)(void));
extern uint64_t *bench_pm_buf;
extern unsigned char *bench_mc_buf;
extern struct mt_page_region *bench_scan_buf;
extern size_t bench_pm_cap;
uint64_t bench_pagemap_pread(int pid, uint64_t start, uint64_t end);
uint64_t bench_do_mincore(uint64_t start, uint64_t end);
int64_t bench_pagemap_scan(int pid, uint64_t start, uint64_t end);

/* bench-run.c */
uint8_t *bench_region_map(size_t size, enum rstate st);
long bench_thp_kb(const void *p);
extern long bench_km_base_free, bench_km_base_slab, bench_km_max_free, bench_km_max_slab;
void bench_km_hook(void);
void bench_km_start(void);
extern pid_t bench_child;
void bench_child_start(void);
int bench_child_vmas(struct vma *v, int max);

/* bench-top.c */
extern struct top_results bench_top;
void bench_run_top(void);
void bench_report_top(void);
int bench_rollup_once(void);

/* bench-report.c */
extern struct size_results *bench_sres;
extern int bench_nsizes;
extern struct as_results bench_asr;
extern const char *const bench_as_names[4];
const char *bench_size_name(size_t s);
void bench_report(void);

#endif
