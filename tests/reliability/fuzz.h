/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rel-fuzz's internal header: what its files share. fuzz.c: the globals, the
 * watchdog, the known answer afterwards and main(); fuzz-oracle.c: /proc's
 * oracle; fuzz-gen.c: /proc query generation; fuzz-proc.c: /proc fuzzing;
 * fuzz-nlmsg.c: netlink messages built and judged; fuzz-nl.c: netlink fuzzing.
 */
#ifndef MEMTRACE_FUZZ_H
#define MEMTRACE_FUZZ_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kmod/mtlib.h"
#define TAP_SHARED
#include "tap.h"
#include "rlib.h"

#define NREG 16		/* pages of region */

/* ---- outcome sets ---- */
enum {
	XS_OK = 1, XS_EINVAL = 2, XS_ERANGE = 4, XS_E2BIG = 8, XS_ESRCH = 16, XS_EACCES = 32,
};

struct expect {
	unsigned int allowed;
	int pid;		/* when XS_OK is allowed: the answer's header */
	uint64_t start, end;
	int mode;
};

struct toks {
	int n;
	char t[8][48];
};

struct pstats {
	unsigned long writes, ok, errs, reads, bad, dev, known_dev, espipe, enodata, splits;
	unsigned long by_err[6];
};

struct nstats {
	unsigned long sent, replies, errors, dumps, infos, acks, silent, bad, late, empty;
	unsigned long strict, unmutated, strict_ok, strict_err, lenient;
	unsigned long errno_seen[140];
};
/* What the kernel must answer to the message in nbuf. */
struct nl_want {
	bool strict;		/* headers as built: only the outcomes allowed */
	bool mutated;		/* the generator changed something */
	unsigned int allowed;	/* strict: XS_* (XS_OK: an info reply or a dump) */
	bool info_ok;		/* a GET_INFO reply may come */
	bool dump_ok;		/* a dump may come, about exactly: */
	int pid;
	uint64_t start, end;	/* page aligned, as the dump must repeat them */
	int mode;
	bool packed, indexed, admin;	/* and in this format */
	bool top_ok;		/* a TOP dump may come (PROC nests, no summary) */
};

/* fuzz.c */
extern struct rl_rng fz_rng;
extern uint64_t fz_ts;
extern int fz_self, fz_dead_pid, fz_parent_pid;
extern bool fz_is_root;
extern char *fz_region;
extern volatile unsigned long fz_progress;
extern volatile const char *fz_doing;

/* fuzz-oracle.c */
unsigned int fz_xbit(int err);
const char *fz_xnames(unsigned int m);
unsigned int fz_target(uint64_t v);
struct expect fz_oracle(const char *buf, size_t len, struct expect *lenient);

/* fuzz-gen.c */
uint64_t fz_pick_pid(void);
uint64_t fz_pick_addr(void);
void fz_valid_query(struct toks *q, bool mutate_numbers);
void fz_mutate_tokens(struct toks *q);
size_t fz_render(const struct toks *q, char *o, size_t cap);
size_t fz_mutate_bytes(char *o, size_t len, size_t cap);

/* fuzz-proc.c */
extern struct pstats fz_ps;
extern int fz_fails_shown;
void fz_fail_once(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void fz_proc_fuzz(unsigned long count, bool child);

/* fuzz-nlmsg.c */
extern struct nstats fz_ns;
extern int fz_n_unused;
bool fz_nl_errno_ok(int e);
void fz_find_unused_ids(struct nlr *s);
extern unsigned char fz_nbuf[70000];
size_t fz_nl_build(struct nlr *s, uint32_t seq, uint16_t *flags_out, uint16_t *type_out,
		   uint32_t *nlmsg_len_out, struct nl_want *want);

/* fuzz-nl.c */
void fz_nl_fuzz(unsigned long count);

#endif
