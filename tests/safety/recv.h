/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safety-recv's internal header: what its files share. recv.c: one identity's
 * pass over every receive length, main(); recv-target.c: the target process
 * and its layout; recv-answer.c: the answers: /proc's reference, one netlink
 * dump with one receive length, the comparison.
 */
#ifndef MEMTRACE_RECV_H
#define MEMTRACE_RECV_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pg.h"

#include "rlib.h"
#define TAP_SHARED
#include "tap.h"

/* the kernel's page size (4K; 16K on arm64-16k) */
#define PS MT_PG
#define NPAGES		8192	/* the target's span, holes included */
#define FILE_PAGES	64	/* its temp file, mapped in pieces */
#define CHUNK_MAX	12	/* pages a piece of the layout */
#define HOLE_PCT	70	/* pieces followed by a hole of 1-3 pages */
#define USER_ID		1000
#define MAX_SIZES	256
#define LEN_PROBE	32768U	/* above the cap: the largest messages */

/* One page of an answer. */
struct pg {
	uint8_t state;
	bool seen;
	bool pfn_known;		/* runs give the first page's pfn only */
	uint32_t flags;
	int32_t node;
	uint64_t pfn;
};

struct collect {
	uint64_t start;
	size_t npages;
	struct pg *pg;
};

struct target_info {
	pid_t pid, child;
	uint64_t start, end;
	int err;
};

enum { ENC_NESTS, ENC_PACKED, ENC_INDEXED, NENC };

struct combo {
	int enc, mode;
	bool nopfn;
};

/* recv-target.c */
int recv_start_target(struct target_info *ti);
void recv_stop_target(const struct target_info *ti);

/* recv-answer.c */
int recv_proc_reference(const struct target_info *ti, bool admin, struct pg *pg, char *why,
			size_t wlen);
extern const char *const recv_enc_names[NENC];
extern const char *const recv_mode_names[];
int recv_dump_once(uint16_t family, const struct target_info *ti, uint64_t end,
		   const struct combo *cb, bool show_pfns, size_t len, struct pg *got,
		   char *why, size_t wlen, uint64_t *ends, unsigned int max_ends,
		   unsigned int *nmsgs);
int recv_compare(const struct target_info *ti, uint64_t end, const struct pg *ref,
		 const struct pg *got, bool show_pfns, char *why, size_t wlen);

#endif
