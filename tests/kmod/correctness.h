/* SPDX-License-Identifier: GPL-2.0 */
/*
 * correctness's internal header: what its files share. correctness.c: the
 * helpers (a mapping, a query, the expected states) and main();
 * correctness-states.c: regions in known states (anon, shared, file, fork and
 * COW, THP); correctness-query.c: the whole address space, bad input,
 * isolation, a target that exits midway, permissions; correctness-cached.c:
 * CACHED pages (file and shmem pages in the page cache with no entry);
 * correctness-file.c: a file's page cache with no process (MEMTRACE_CMD_FILE).
 * correctness-top.c: MEMTRACE_CMD_TOP (every process, counted).
 */
#ifndef MEMTRACE_CORRECTNESS_H
#define MEMTRACE_CORRECTNESS_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mtlib.h"
#define TAP_SHARED
#include "tap.h"

#define NP 16

#define A_PRESENT(f) ((f) & MEMTRACE_F_ANON)

/* correctness.c */
extern long cor_psz;
/* a PMD-sized THP: 2M with 4K pages, 32M with 16K (hpage_pmd_size) */
size_t cor_huge(void);
extern bool cor_root;
char *cor_map(size_t len, int prot, int flags);
bool cor_look(int pid, void *p, unsigned long n, struct mt_answer *a,
	      const char *what);
void cor_expect(const struct mt_answer *a, unsigned long n, const char *pattern,
		uint32_t must, uint32_t mustnot, const char *what);

/* correctness-states.c */
void cor_t_anon(void);
void cor_t_populate_shared_holes(void);
void cor_t_file(void);
void cor_t_fork_cow(void);
void cor_t_thp(void);

/* correctness-cached.c */
void cor_t_cached(void);
enum { NL_NEST, NL_WORDS, NL_INDEXED };
#define COR_NL_PAGES	1U	/* pages mode (else runs) */
#define COR_NL_CACHED	2U	/* MEMTRACE_A_CACHED */
#define COR_NL_NOSTART	4U	/* FILE: no MEMTRACE_A_START */
#define COR_NL_NOEND	8U	/* FILE: no MEMTRACE_A_END */
int cor_nl_dump(int cmd, int id, uint64_t start, uint64_t end, unsigned int opts,
		int packing, struct mt_answer *a, unsigned int *nsummary, char *msg,
		unsigned long max_pages);

/* correctness-file.c */
void cor_t_file_cache(void);

/* correctness-folio.c */
void cor_t_folio(void);

/* correctness-top.c */
void cor_t_top(void);

/* correctness-query.c */
void cor_t_whole(void);
void cor_t_bad_input(void);
void cor_t_isolation(void);
void cor_t_exit_midway(void);
void cor_t_unprivileged(void);

#endif
