/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safety-window's internal header: what its files share. window.c: the
 * sysfs knobs, the setup and main(); window-target.c: the target process and
 * its regions; window-check.c: the queries and the checks of each region.
 */
#ifndef MEMTRACE_WINDOW_H
#define MEMTRACE_WINDOW_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mtlib.h"
#include "pg.h"
#include "rlib.h"
#define TAP_SHARED
#include "tap.h"

/* the kernel's page size (4K; 16K on arm64-16k) */
#define PS MT_PG
#define HUGE mt_thp_size()
#define HP (HUGE / PS)		/* pages in a THP */
#define NP 16			/* pages of a small region */
#define MAXREG 40
#define MAXHOT 6
#define COW_SUB 300		/* the subpage of the fork-shared THP the child writes */
#define PTE_SUB 254		/* first of the 4 pages of thp-pte made read-only */

#define KPF_KSM 21
#define KPF_THP 22
#define PM_EXCL (1ULL << 56)
#define PM_FILE (1ULL << 61)

#define THP_ENABLED "/sys/kernel/mm/transparent_hugepage/enabled"
#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"
#define KSM_DIR "/sys/kernel/mm/ksm"

/* what the setup checks of a region before testing it */
enum {
	R_PMD = 1,		/* must be PMD-mapped: smaps AnonHugePages 2048 kB */
	R_PTE_THP = 2,		/* a THP mapped by PTEs: kpageflags THP, smaps 0 kB */
	R_KSM = 4,		/* some pages must be KSM pages (kpageflags) */
};

struct region {
	char name[24];
	int pid;
	uint64_t start, end;
	unsigned int checks;
	int hot[MAXHOT];	/* page indexes where windows must start */
	int nhot;
	int sample;		/* a page of the region the checks look at */
	char skip[96];		/* set: the region could not be built */
};

/* Shared with the target (MAP_SHARED before the fork). */
struct table {
	volatile int ready;	/* 1: built and about to stop; -1: failed */
	int child;
	int nreg;
	int ksm_pages;		/* identical pages in the KSM region */
	char err[160];
	struct region reg[MAXREG];
};

struct pg {
	uint8_t state;
	bool pfn_known;
	uint32_t flags;
	int32_t node;
	uint64_t pfn;
};

/* window.c */
uint64_t win_kpage(const char *file, uint64_t pfn);

/* window-target.c */
extern struct table *win_tab;
long win_smaps_kb(int pid, uint64_t addr, const char *field);
void win_target(void);

/* window-check.c */
void win_test_region(struct rl_rng *rng, struct nlr *nl, bool have_nl, const struct region *r,
		     int nrandom);

#endif
