/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the reliability suites (fuzz, stress, lifecycle, mem):
 *  - knobs from the guest's kernel command line (mt_quick, mt_stress, mt_seed);
 *  - a seeded PRNG (splitmix64), so that a run is replayed from its seed;
 *  - one answer checker for both transports: records must be contiguous,
 *    cover the range, carry valid states/flags/nodes, and the summary must
 *    add up; the /proc text is re-printed from the parsed values and compared
 *    byte for byte, so a garbled line cannot pass;
 *  - memtrace QUERY dumps over the raw netlink client (tests/lib/nlraw.h):
 *    the request, and each answer read through the checker.
 */
#ifndef MEMTRACE_RLIB_H
#define MEMTRACE_RLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memtrace.h"
#include "nlraw.h"
#include "pg.h"

/* the kernel's page size (4K; 16K on arm64-16k) */
#define RL_PAGE ((uint64_t)MT_PG)
/* or-ed into the mode of rl_nl_query(_msg): ask for a packed answer */
#define RL_PACKED 0x100
/* and with it: pages a byte each (MEMTRACE_A_INDEXED) */
#define RL_INDEXED 0x200
#define RL_PID_MAX_LIMIT 4194304	/* PID_MAX_LIMIT on 64-bit */

/* ---- knobs ---- */
/* Value of NAME=V on /proc/cmdline (or env NAME upper-cased), else dflt. */
long long rl_knob(const char *name, long long dflt);
bool rl_quick(void);

/* ---- PRNG ---- */
struct rl_rng { uint64_t s; };
static inline uint64_t rl_next(struct rl_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static inline uint64_t rl_below(struct rl_rng *r, uint64_t n) { return n ? rl_next(r) % n : 0; }
static inline bool rl_chance(struct rl_rng *r, unsigned int pct) { return rl_below(r, 100) < pct; }

/* ---- answer checker ---- */
struct rl_check {
	/* what the answer must be about */
	int pid;
	uint64_t start, end;	/* page aligned */
	int mode;		/* MEMTRACE_MODE_* */
	bool admin;		/* pfns shown */
	/* progress */
	uint64_t next;
	bool have_prev;
	uint8_t prev_state;
	uint32_t prev_flags;
	int32_t prev_node;
	uint64_t counts[MEMTRACE_NSTATES];
	unsigned long records;
	bool summary;
	char err[256];		/* first problem, "" if none */
	/* optional: called with every record that passed the checks */
	void (*on_record)(void *arg, uint64_t addr, uint64_t pages, unsigned int state,
			  uint32_t flags, uint64_t pfn, int64_t node);
	void *arg;
};

void rl_check_init(struct rl_check *c, int pid, uint64_t start, uint64_t end, int mode,
		   bool admin);
/* One record; false (and c->err set) when it is wrong. */
bool rl_check_record(struct rl_check *c, uint64_t addr, uint64_t pages, unsigned int state,
		     uint32_t flags, uint64_t pfn, int64_t node);
/* The summary's counts (total = pages=); false when they do not add up. */
bool rl_check_summary(struct rl_check *c, uint64_t total, const uint64_t *counts);
bool rl_check_fail(struct rl_check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * /proc text, fed in any pieces. The header is checked against c's pid,
 * start, end and mode unless c->pid is 0, in which case c takes them from the
 * header (and c->end from it even when start/end were set: pass end 0 for
 * "to TASK_SIZE").
 */
struct rl_text {
	struct rl_check *c;
	int line_no;
	size_t len;
	char line[512];
};
void rl_text_init(struct rl_text *t, struct rl_check *c);
bool rl_text_feed(struct rl_text *t, const char *buf, size_t n);
/* At EOF: every line complete and the summary seen. */
bool rl_text_end(struct rl_text *t);

/* Flags word as the module prints it. */
void rl_flag_word(uint32_t f, char *s);
const char *rl_size_name(uint32_t f);
extern const char *const rl_state_names[MEMTRACE_NSTATES];

/* Read /proc/memtrace fd to EOF through the checker: 0, or -errno of read(2)
 * (the checker says what is wrong when it returns -EBADMSG). */
int rl_proc_read_all(int fd, struct rl_check *c, size_t chunk, size_t *bytes);

/* ---- memtrace queries over tests/lib/nlraw ---- */
/* Build a QUERY dump request into buf (>= 128 bytes); returns its length. */
size_t rl_nl_query_msg(struct nlr *s, void *buf, uint32_t pid, uint64_t start,
		       uint64_t end, bool have_end, int mode);

/*
 * Check one data message of a QUERY dump against c (c->pid 0: take pid, start,
 * end and mode from the first message). Sets *summary when it carried one.
 */
bool rl_nl_check_msg(struct rl_check *c, const struct nlmsghdr *h, uint16_t family,
		     bool *first);

/*
 * Run one QUERY dump of pid and check it: 0 when the answer is complete and
 * well formed, -errno of the kernel's error, -EBADMSG (c->err says why),
 * -ETIMEDOUT. *msgs counts data messages.
 */
int rl_nl_query(struct nlr *s, struct rl_check *c, uint32_t pid, uint64_t start,
		uint64_t end, bool have_end, int mode, unsigned long *msgs);

/* "0x1234" style escaping of a buffer for diagnostics. */
const char *rl_escape(const void *buf, size_t len);

/*
 * One /proc query of pid's [s, e) (whole: "all") in runs or pages mode
 * (mode 1), read to EOF in chunks drawn from r (1..512, 4 KiB or 64 KiB)
 * through rl_proc_read_all(): 0 or -errno; the answer's bytes are added
 * to *bytes when bytes is not NULL.
 */
int rl_proc_query(struct rl_check *c, int pid, uint64_t s, uint64_t e, bool whole, int mode,
		  struct rl_rng *r, unsigned long *bytes);

#endif
