// SPDX-License-Identifier: GPL-2.0
/*
 * rel-fuzz: seeded, reproducible fuzzing of both transports, run as root in
 * the lab VM with the module loaded.
 *
 * /proc/memtrace: grammar-aware mutations of valid queries (tokens swapped,
 * dropped, duplicated; numbers huge, negative, signed, hex, octal-looking;
 * +LEN forms; mode words mutated; whitespace, NUL, truncation), raw bytes,
 * 1-byte and >256-byte writes, a valid query split in two writes, pwrite/pread
 * /lseek, reads without a query and after failed writes. Every write is judged
 * by an oracle that parses the line by the contract's grammar
 * (uapi/memtrace.h) and gives the set of allowed outcomes: an errno outside
 * the documented set fails ("bad"), an allowed-set miss is a contract
 * deviation (also a failure, with the line printed). Every answer read is
 * checked line by line (rlib.c).
 *
 * Generic netlink: messages built from valid GET_INFO / QUERY requests and
 * mutated (nlmsg_len, flags, type, genl cmd/version, attribute types,
 * lengths, nesting, duplicates, truncation, oversize, raw bytes). The netlink
 * core's rules say whether a reply is due; when none is, a NOOP ping proves
 * the socket is still in step. When one is, the oracle (nl_judge()) reads the
 * bytes sent as the kernel does: a message whose netlink and genetlink
 * headers are as built (every unmutated one, and those whose mutations only
 * touched attributes) has one outcome: strict attribute validation's errno
 * (lib/nlattr.c), else the contract's (PID required, INDEXED needs PACKED,
 * the range, the target: ESRCH for pids known to have no process), else a
 * GET_INFO reply or a dump about exactly the pid, range and mode sent, in the
 * format asked (nests, or RUNS/PAGEVEC/PAGEIDX/PFNVEC as PACKED, INDEXED and
 * NO_PFN say), whose messages pass the checker and end with NLMSG_DONE. Only
 * a message with mutated headers may get any errno of the documented set;
 * a dump or GET_INFO reply it gets must still be one its bytes ask for.
 *
 * Seed: MT_SEED / mt_seed=N; counts: MT_FUZZ_PROC, MT_FUZZ_NL (default
 * 100000 each, 10000 with mt_quick=1).
 */
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
#include "tap.h"
#include "rlib.h"

static struct rl_rng rng;
static uint64_t ts;		/* TASK_SIZE of our processes */
static int self, dead_pid, parent_pid;
static bool is_root;
static char *region;		/* 16 pages in known states */
#define NREG 16

/* ---- watchdog: a hang fails the suite instead of the lane's timeout ---- */
static volatile unsigned long progress;
static volatile const char *doing = "start";

static void *watchdog(void *arg)
{
	unsigned long last = ~0UL;
	int still = 0;

	(void)arg;
	for (;;) {
		sleep(5);
		if (progress != last) {
			last = progress;
			still = 0;
			continue;
		}
		if (++still >= 12) {
			printf("not ok - no operation hangs (stuck for 60 s in: %s)\n", doing);
			fflush(stdout);
			_exit(1);
		}
	}
	return NULL;
}

/* ---- outcome sets ---- */
enum {
	XS_OK = 1, XS_EINVAL = 2, XS_ERANGE = 4, XS_E2BIG = 8, XS_ESRCH = 16, XS_EACCES = 32,
};

static unsigned int xbit(int err)
{
	switch (err) {
	case 0: return XS_OK;
	case EINVAL: return XS_EINVAL;
	case ERANGE: return XS_ERANGE;
	case E2BIG: return XS_E2BIG;
	case ESRCH: return XS_ESRCH;
	case EACCES: return XS_EACCES;
	}
	return 0;
}

static const char *xnames(unsigned int m)
{
	static char s[96];
	static const char *const n[] = { "ok", "EINVAL", "ERANGE", "E2BIG", "ESRCH", "EACCES" };

	s[0] = '\0';
	for (int i = 0; i < 6; i++)
		if (m & (1U << i))
			snprintf(s + strlen(s), sizeof(s) - strlen(s), "%s%s", s[0] ? "|" : "", n[i]);
	return s;
}

/* ---- the oracle: the contract's grammar ---- */

/*
 * 0: a number by the grammar, 1: not one, 2: one that overflows u64.
 * With kstrtoull set, the module's reading instead (kstrtoull after its own
 * 0x test): one '+' sign, then for hex another 0x, both accepted; digits are
 * read up to the first non-digit and an overflow among them wins over what
 * follows. This is the "known deviation" model, see grammar_cases().
 */
static bool kstrtoull_model;

static int num(const char *t, uint64_t *v)
{
	int base = 10;
	unsigned __int128 x = 0;
	bool over = false;

	if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
		base = 16;
		t += 2;
	}
	if (kstrtoull_model) {
		if (*t == '+')
			t++;
		if (base == 16 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
			t += 2;
		if (!*t)
			return 1;
		for (; *t; t++) {
			int d;

			if (*t >= '0' && *t <= '9')
				d = *t - '0';
			else if (base == 16 && *t >= 'a' && *t <= 'f')
				d = *t - 'a' + 10;
			else if (base == 16 && *t >= 'A' && *t <= 'F')
				d = *t - 'A' + 10;
			else
				break;
			x = x * base + d;
			if (x > UINT64_MAX) {
				over = true;
				x = UINT64_MAX;
			}
		}
		*v = (uint64_t)x;
		if (over)
			return 2;
		return *t ? 1 : 0;
	}
	if (!*t)
		return 1;
	for (; *t; t++) {
		int d;

		if (*t >= '0' && *t <= '9')
			d = *t - '0';
		else if (base == 16 && *t >= 'a' && *t <= 'f')
			d = *t - 'a' + 10;
		else if (base == 16 && *t >= 'A' && *t <= 'F')
			d = *t - 'A' + 10;
		else
			return 1;
		x = x * base + d;
		if (x > UINT64_MAX) {
			over = true;
			x = UINT64_MAX;
		}
	}
	*v = (uint64_t)x;
	return over ? 2 : 0;
}

/* What querying pid v may give, for this process. */
static unsigned int target(uint64_t v)
{
	if (v == 0 || v > RL_PID_MAX_LIMIT || v == 2 || v == (uint64_t)dead_pid)
		return XS_ESRCH;
	if (v == (uint64_t)self)
		return XS_OK;
	if (v == 1 || v == (uint64_t)parent_pid)
		return is_root ? XS_OK : XS_EACCES;
	return XS_OK | XS_ESRCH | XS_EACCES;
}

struct expect {
	unsigned int allowed;
	int pid;		/* when XS_OK is allowed: the answer's header */
	uint64_t start, end;
	int mode;
};

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n'; }

static struct expect oracle1(const char *buf, size_t len)
{
	struct expect x = { 0 };
	char line[MEMTRACE_QUERY_MAX + 1], *tok[64], *p;
	unsigned int v = 0, t = 0;
	bool lax = false, amb = false, whole = false, range_ok = true;
	uint64_t pid, start = 0, end = 0, l;
	int n = 0, rest, r;
	size_t i;

	if (len > MEMTRACE_QUERY_MAX) {
		x.allowed = XS_E2BIG;
		return x;
	}
	if (!len || memchr(buf, '\0', len)) {
		x.allowed = XS_EINVAL;
		return x;
	}
	memcpy(line, buf, len);
	line[len] = '\0';
	/* strict layout: TOKEN([ \t]+TOKEN)*[ \t]*\n? ; anything else may be EINVAL */
	if (is_ws(line[0]))
		lax = true;
	for (i = 0; i < len; i++)
		if (line[i] == '\n' && i != len - 1)
			lax = true;
	for (p = line; *p;) {
		while (*p && is_ws(*p))
			*p++ = '\0';
		if (!*p)
			break;
		if (n < 64)
			tok[n++] = p;
		while (*p && !is_ws(*p))
			p++;
	}
	if (n < 2) {
		x.allowed = XS_EINVAL;
		return x;
	}
	r = num(tok[0], &pid);
	if (r == 1)
		v |= XS_EINVAL;
	else if (r == 2)
		v |= XS_ESRCH | XS_ERANGE | XS_EINVAL;
	else
		t = target(pid);

	if (!strcmp(tok[1], "all")) {
		whole = true;
		rest = 2;
	} else if (n < 3) {
		v |= XS_EINVAL;
		range_ok = false;
		rest = n;
	} else {
		rest = 3;
		r = num(tok[1], &start);
		if (r) {
			v |= r == 1 ? XS_EINVAL : XS_ERANGE | XS_EINVAL;
			range_ok = false;
		}
		if (tok[2][0] == '+') {
			r = num(tok[2] + 1, &l);
			if (r) {
				v |= r == 1 ? XS_EINVAL : XS_ERANGE | XS_EINVAL;
				range_ok = false;
			} else if (range_ok && __builtin_add_overflow(start, l, &end)) {
				v |= XS_ERANGE;
				range_ok = false;
			}
		} else {
			r = num(tok[2], &end);
			if (r) {
				v |= r == 1 ? XS_EINVAL : XS_ERANGE | XS_EINVAL;
				range_ok = false;
			}
		}
	}
	x.mode = MEMTRACE_MODE_RUNS;
	if (n > rest) {
		if (!strcmp(tok[rest], "pages"))
			x.mode = MEMTRACE_MODE_PAGES;
		else if (strcmp(tok[rest], "runs"))
			v |= XS_EINVAL;
		if (n > rest + 1)
			v |= XS_EINVAL;
	}
	if (whole) {
		x.start = 0;
		x.end = ts;
	} else if (range_ok) {
		if (start >= ts)
			v |= XS_ERANGE;
		if (end > ts)
			v |= XS_ERANGE;
		if (start < ts && end <= ts) {
			x.start = start & ~(RL_PAGE - 1);
			x.end = (end + RL_PAGE - 1) & ~(RL_PAGE - 1);
			if (x.end <= x.start)
				v |= XS_EINVAL;
			else if (end <= start)
				amb = true;	/* END <= START before rounding: either reading */
		}
	}
	x.pid = (int)pid;
	if (!v)
		x.allowed = t | (lax || amb ? XS_EINVAL : 0);
	else
		x.allowed = v | (t & ~XS_OK);
	return x;
}

/* The contract's allowed outcomes, and the module's kstrtoull reading's. */
static struct expect oracle(const char *buf, size_t len, struct expect *lenient)
{
	struct expect x = oracle1(buf, len);

	kstrtoull_model = true;
	*lenient = oracle1(buf, len);
	kstrtoull_model = false;
	return x;
}

/* ---- query generation ---- */

static const char *const words[] = {
	"all", "runs", "pages", "ALL", "Runs", "PAGES", "run", "page", "pagess", "runsx",
	"al", "alll", "self", "0x", "+", "-", "++", "0x0x", "all+", "+all", "pages\n", "-1",
	"\xff", "\x01", "r\tuns", "na\xc3\xafve", "%d", "%s%n", "''", "\"\"", "NaN", "inf",
};

static uint64_t pick_pid(void)
{
	switch (rl_below(&rng, 16)) {
	case 0: return 1;
	case 1: return 2;
	case 2: return dead_pid;
	case 3: return 0;
	case 4: return RL_PID_MAX_LIMIT;
	case 5: return RL_PID_MAX_LIMIT + 1;
	case 6: return rl_next(&rng) & 0xffffffff;
	case 7: return rl_next(&rng);
	case 8: return parent_pid;
	default: return self;
	}
}

static uint64_t pick_addr(void)
{
	uint64_t r = (uintptr_t)region;

	switch (rl_below(&rng, 20)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return 4095;
	case 3: return 4096;
	case 4: return ts - 4096;
	case 5: return ts - 1;
	case 6: return ts;
	case 7: return ts + 1;
	case 8: return 1ULL << 47;
	case 9: return 1ULL << 56;
	case 10: return 1ULL << 57;
	case 11: return 1ULL << 63;
	case 12: return UINT64_MAX;
	case 13: return UINT64_MAX - 4095;
	case 14: return rl_next(&rng);
	case 15: return rl_below(&rng, ts);
	case 16: return r + rl_below(&rng, 64 * 4096);
	default: return r + rl_below(&rng, NREG) * 4096;
	}
}

/* A number in one of the grammar's forms, or one of the forms it excludes. */
static int fmt_num(char *o, size_t sz, uint64_t v)
{
	switch (rl_below(&rng, 40)) {
	case 0: return snprintf(o, sz, "0X%" PRIX64, v);
	case 1: return snprintf(o, sz, "0x%" PRIX64, v);
	case 2: return snprintf(o, sz, "000%" PRIu64, v);		/* octal-looking */
	case 3: return snprintf(o, sz, "0x000%" PRIx64, v);
	case 4: return snprintf(o, sz, "-%" PRIu64, v);
	case 5: return snprintf(o, sz, "-0x%" PRIx64, v);
	case 6: return snprintf(o, sz, "%" PRIu64 "%u", v, (unsigned int)rl_below(&rng, 1000)); /* maybe overflow */
	case 7: return snprintf(o, sz, "184467440737095516%02u", (unsigned int)rl_below(&rng, 100));
	case 8: return snprintf(o, sz, "0x1%016" PRIx64, v);	/* 2^64 and above */
	case 9: return snprintf(o, sz, "%" PRIu64 "%c", v, "xgkKmM.,_"[rl_below(&rng, 9)]);
	case 10: return snprintf(o, sz, "0x%" PRIx64 "g", v);
	case 11: return snprintf(o, sz, "0%" PRIo64, v);
	case 12: return snprintf(o, sz, "%" PRIu64 ".0", v);
	case 13: return snprintf(o, sz, "%" PRIx64, v);		/* hex without prefix */
	case 14: return snprintf(o, sz, "+%" PRIu64, v);		/* signed: not in the grammar */
	case 15: return snprintf(o, sz, "0x0x%" PRIx64, v);	/* double prefix */
	case 16: return snprintf(o, sz, "0x+%" PRIx64, v);
	case 17: return snprintf(o, sz, "%" PRIu64, v & 0xff);
	default:
		return rl_chance(&rng, 50) ? snprintf(o, sz, "%" PRIu64, v) :
					     snprintf(o, sz, "0x%" PRIx64, v);
	}
}

struct toks {
	int n;
	char t[8][48];
};

static void add_tok(struct toks *q, const char *s)
{
	if (q->n < 8)
		snprintf(q->t[q->n++], sizeof(q->t[0]), "%s", s);
}

/* A valid query (tokens), before mutation. */
static void valid_query(struct toks *q, bool mutate_numbers)
{
	char b[48];
	uint64_t s;

	q->n = 0;
	if (mutate_numbers)
		fmt_num(b, sizeof(b), pick_pid());
	else
		snprintf(b, sizeof(b), "%d", self);
	add_tok(q, b);
	if (rl_chance(&rng, 12)) {
		add_tok(q, "all");
	} else {
		s = mutate_numbers ? pick_addr() : (uintptr_t)region + rl_below(&rng, NREG) * 4096;
		if (mutate_numbers)
			fmt_num(b, sizeof(b), s);
		else
			snprintf(b, sizeof(b), "0x%" PRIx64, s);
		add_tok(q, b);
		if (rl_chance(&rng, 35)) {
			uint64_t l = mutate_numbers && rl_chance(&rng, 40) ? pick_addr() :
				     (1 + rl_below(&rng, 8)) * 4096 + (rl_chance(&rng, 20) ? rl_below(&rng, 4096) : 0);

			b[0] = '+';
			if (mutate_numbers)
				fmt_num(b + 1, sizeof(b) - 1, l);
			else
				snprintf(b + 1, sizeof(b) - 1, "%" PRIu64, l);
		} else {
			uint64_t e = mutate_numbers && rl_chance(&rng, 40) ? pick_addr() :
				     s + (1 + rl_below(&rng, 8)) * 4096;

			if (mutate_numbers)
				fmt_num(b, sizeof(b), e);
			else
				snprintf(b, sizeof(b), "%" PRIu64, e);
		}
		add_tok(q, b);
	}
	if (rl_chance(&rng, 60))
		add_tok(q, rl_chance(&rng, 50) ? "pages" : "runs");
}

static void mutate_tokens(struct toks *q)
{
	int k = 1 + rl_below(&rng, 3);
	char tmp[48];

	while (k--) {
		int i = q->n ? rl_below(&rng, q->n) : 0, j = q->n ? rl_below(&rng, q->n) : 0;

		switch (rl_below(&rng, 8)) {
		case 0:	/* swap */
			if (q->n < 2)
				break;
			memcpy(tmp, q->t[i], sizeof(tmp));
			memcpy(q->t[i], q->t[j], sizeof(tmp));
			memcpy(q->t[j], tmp, sizeof(tmp));
			break;
		case 1:	/* drop */
			if (!q->n)
				break;
			memmove(q->t[i], q->t[i + 1], (q->n - i - 1) * sizeof(q->t[0]));
			q->n--;
			break;
		case 2:	/* duplicate */
			if (q->n && q->n < 8) {
				memmove(q->t[i + 1], q->t[i], (q->n - i) * sizeof(q->t[0]));
				q->n++;
			}
			break;
		case 3:	/* a word from the list */
			if (q->n < 8) {
				memmove(q->t[i + 1], q->t[i], (q->n - i) * sizeof(q->t[0]));
				snprintf(q->t[i], sizeof(q->t[0]), "%s",
					 words[rl_below(&rng, sizeof(words) / sizeof(words[0]))]);
				q->n++;
			}
			break;
		case 4:	/* replace with a word */
			if (q->n)
				snprintf(q->t[i], sizeof(q->t[0]), "%s",
					 words[rl_below(&rng, sizeof(words) / sizeof(words[0]))]);
			break;
		case 5:	/* a mode word mutated */
			if (q->n) {
				char *w = q->t[i];
				size_t l = strlen(w);

				snprintf(w, sizeof(q->t[0]), "%s", rl_chance(&rng, 50) ? "pages" : "runs");
				l = strlen(w);
				w[rl_below(&rng, l)] ^= 1U << rl_below(&rng, 6);
			}
			break;
		case 6:	/* a number re-formatted */
			if (q->n)
				fmt_num(q->t[i], sizeof(q->t[0]), pick_addr());
			break;
		default:	/* +LEN form toggled */
			if (q->n) {
				if (q->t[i][0] == '+')
					memmove(q->t[i], q->t[i] + 1, strlen(q->t[i]));
				else if (strlen(q->t[i]) < sizeof(q->t[0]) - 1) {
					memmove(q->t[i] + 1, q->t[i], strlen(q->t[i]) + 1);
					q->t[i][0] = '+';
				}
			}
		}
	}
}

static const char *sep(void)
{
	static const char *const s[] = { " ", " ", " ", " ", " ", "\t", "  ", " \t ", "\t\t",
					 "\n", "\r", "\v", "\f", " \n ", "\xa0" };
	return rl_chance(&rng, 80) ? " " : s[rl_below(&rng, sizeof(s) / sizeof(s[0]))];
}

static size_t render(const struct toks *q, char *o, size_t cap)
{
	static const char *const lead[] = { " ", "\t", "\n", "  " };
	static const char *const trail[] = { "\n", " \n", "\n\n", " ", "\t\n", "\r\n", "\n ", " \t" };
	size_t len = 0;

	if (rl_chance(&rng, 5))
		len += snprintf(o + len, cap - len, "%s", lead[rl_below(&rng, 4)]);
	for (int i = 0; i < q->n && len < cap; i++)
		len += snprintf(o + len, cap - len, "%s%s", i ? sep() : "", q->t[i]);
	if (len < cap && rl_chance(&rng, 60))
		len += snprintf(o + len, cap - len, "%s",
				rl_chance(&rng, 70) ? "\n" : trail[rl_below(&rng, 8)]);
	return len < cap ? len : cap - 1;
}

static size_t mutate_bytes(char *o, size_t len, size_t cap)
{
	int k = 1 + rl_below(&rng, 3);

	while (k--) {
		size_t i = len ? rl_below(&rng, len) : 0;

		switch (rl_below(&rng, 6)) {
		case 0:	/* flip */
			if (len)
				o[i] ^= 1U << rl_below(&rng, 8);
			break;
		case 1:	/* NUL */
			if (len)
				o[i] = '\0';
			break;
		case 2:	/* truncate */
			len = i;
			break;
		case 3:	/* delete */
			if (len) {
				memmove(o + i, o + i + 1, len - i - 1);
				len--;
			}
			break;
		case 4:	/* insert a random byte */
			if (len + 1 < cap) {
				memmove(o + i + 1, o + i, len - i);
				o[i] = (char)rl_next(&rng);
				len++;
			}
			break;
		default:	/* a digit changed */
			if (len)
				o[i] = '0' + rl_below(&rng, 10);
		}
	}
	return len;
}

/* ---- /proc fuzzing ---- */

struct pfd {
	int fd;
	bool active;		/* a query (own or replayed) is being answered */
	bool eof;
	bool broken;		/* the checker already failed it */
	struct rl_check c;
	struct rl_text t;
};

struct pstats {
	unsigned long writes, ok, errs, reads, bad, dev, known_dev, espipe, enodata, splits;
	unsigned long by_err[6];
};

static struct pstats ps;
static int fails_shown;

static void fail_once(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail_once(const char *fmt, ...)
{
	va_list ap;

	if (fails_shown++ >= 12)
		return;
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static void pfd_reopen(struct pfd *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = open("/proc/memtrace", O_RDWR);
	if (f->fd < 0) {
		printf("not ok - open /proc/memtrace: %s\n", strerror(errno));
		exit(1);
	}
	f->active = false;
	f->eof = false;
	f->broken = false;
}

static void pfd_expect(struct pfd *f, const struct expect *x)
{
	rl_check_init(&f->c, x->pid, x->start, x->end, x->mode, is_root);
	rl_text_init(&f->t, &f->c);
	f->active = true;
	f->eof = false;
	f->broken = false;
}

/* One read(2) of up to count bytes, checked against what the file must say. */
static void pfd_read(struct pfd *f, size_t count)
{
	static char buf[8192];
	bool replay = !f->active;
	ssize_t n;

	doing = "read";
	if (count > sizeof(buf))
		count = sizeof(buf);
	n = read(f->fd, buf, count);
	ps.reads++;
	progress++;
	if (replay) {
		/*
		 * no query of its own: ENODATA, whatever this user or process
		 * wrote to other files (no "last query" is ever replayed)
		 */
		if (n < 0 && errno == ENODATA) {
			ps.enodata++;
			return;
		}
		ps.bad++;
		fail_once("read without a query of its own: %s (%zd)",
			  n < 0 ? strerror(errno) : "answered", n);
		return;
	}
	if (n < 0) {
		ps.bad++;
		fail_once("read: %s", strerror(errno));
		f->active = false;
		return;
	}
	if (f->broken)
		return;
	if (f->eof) {
		if (n) {
			ps.bad++;
			fail_once("read after EOF gave %zd bytes", n);
		}
		return;
	}
	if (!n) {
		f->eof = true;
		if (!rl_text_end(&f->t)) {
			ps.bad++;
			fail_once("answer: %s", f->c.err);
		}
		return;
	}
	if (!rl_text_feed(&f->t, buf, n)) {
		ps.bad++;
		fail_once("answer: %s", f->c.err);
		f->broken = true;	/* stop checking this one */
	}
}

/* One write, judged by the oracle. */
static void pfd_write(struct pfd *f, const char *q, size_t len)
{
	struct expect xl, x = oracle(q, len, &xl);
	ssize_t n;
	int err;

	doing = "write";
	n = write(f->fd, q, len);
	err = n < 0 ? errno : 0;
	ps.writes++;
	progress++;
	if (n >= 0 && (size_t)n != len) {
		ps.bad++;
		fail_once("write of %zu bytes returned %zd: '%s'", len, n, rl_escape(q, len));
		return;
	}
	if (!xbit(err)) {
		ps.bad++;
		fail_once("write: undocumented errno %s for '%s'", strerror(err), rl_escape(q, len));
		return;
	}
	if (err) {
		ps.errs++;
		ps.by_err[__builtin_ctz(xbit(err))]++;
	} else {
		ps.ok++;
	}
	if (!(xbit(err) & x.allowed)) {
		if (xbit(err) & xl.allowed) {
			if (!ps.known_dev++)
				tap_diag("known deviation (signed or doubly prefixed numbers): '%s' "
					 "gave %s, the grammar allows %s", rl_escape(q, len),
					 err ? strerror(err) : "success", xnames(x.allowed));
		} else {
			ps.dev++;
			fail_once("contract: '%s' gave %s, the grammar allows %s (the kstrtoull "
				  "reading %s)", rl_escape(q, len), err ? strerror(err) : "success",
				  xnames(x.allowed), xnames(xl.allowed));
		}
	}
	if (!err) {
		/* the answer is to the line as the module read it */
		pfd_expect(f, &xl);
	}
}

static void proc_fuzz(unsigned long count, bool child)
{
	struct pfd f = { .fd = -1 };
	char q[600];
	struct toks t;
	size_t len;

	pfd_reopen(&f);
	if (child) {
		/* a user that never wrote a query: a read must say ENODATA */
		pfd_read(&f, 100);
	}
	while (ps.writes < count) {
		unsigned int what = rl_below(&rng, 1000);

		if (rl_chance(&rng, 2))
			pfd_reopen(&f);
		if (what < 600) {		/* grammar-aware */
			valid_query(&t, rl_chance(&rng, 70));
			if (rl_chance(&rng, 50))
				mutate_tokens(&t);
			len = render(&t, q, 300);
			if (rl_chance(&rng, 15))
				len = mutate_bytes(q, len, 300);
			pfd_write(&f, q, len);
		} else if (what < 700) {	/* valid, untouched */
			valid_query(&t, false);
			len = render(&t, q, 300);
			pfd_write(&f, q, len);
		} else if (what < 760) {	/* raw bytes */
			len = rl_below(&rng, 300);
			for (size_t i = 0; i < len; i++)
				q[i] = rl_chance(&rng, 50) ? (char)rl_next(&rng) :
				       " 0123456789x+\tabcdefglnrsu\n"[rl_below(&rng, 27)];
			pfd_write(&f, q, len);
		} else if (what < 800) {	/* 1 byte */
			q[0] = rl_chance(&rng, 50) ? (char)rl_next(&rng) : "0 \n+x9a"[rl_below(&rng, 7)];
			pfd_write(&f, q, 1);
		} else if (what < 840) {	/* long: 255..400 bytes */
			valid_query(&t, false);
			len = render(&t, q, 300);
			while (len < 255 + rl_below(&rng, 146) && len < sizeof(q))
				q[len++] = rl_chance(&rng, 80) ? ' ' : 'a' + rl_below(&rng, 26);
			if (rl_chance(&rng, 30))
				q[len - 1] = '\n';
			pfd_write(&f, q, len);
		} else if (what < 880) {	/* a valid query in two writes */
			size_t k;

			valid_query(&t, false);
			len = render(&t, q, 300);
			k = 1 + rl_below(&rng, len > 1 ? len - 1 : 1);
			ps.splits++;
			pfd_write(&f, q, k);
			if (k < len)
				pfd_write(&f, q + k, len - k);
		} else if (what < 900) {	/* pwrite / pread / lseek */
			off_t off = rl_below(&rng, 3) == 0 ? 0 : (off_t)rl_below(&rng, 1 << 20);
			ssize_t n;

			valid_query(&t, false);
			len = render(&t, q, 300);
			doing = "pwrite";
			switch (rl_below(&rng, 3)) {
			case 0:
				n = pwrite(f.fd, q, len, off);
				ps.writes++;
				break;
			case 1:
				n = pread(f.fd, q, sizeof(q), off);
				break;
			default:
				n = lseek(f.fd, off, rl_below(&rng, 3));
			}
			progress++;
			if (n >= 0 || errno != ESPIPE) {
				ps.bad++;
				fail_once("pwrite/pread/lseek at %lld: %zd (%s), want ESPIPE",
					  (long long)off, n, n < 0 ? strerror(errno) : "no error");
			} else {
				ps.espipe++;
			}
		} else {			/* a read, of any size */
			pfd_read(&f, rl_chance(&rng, 20) ? 1 + rl_below(&rng, 16) :
				 rl_chance(&rng, 50) ? 4096 : 1 + rl_below(&rng, 8192));
			continue;
		}
		if (rl_chance(&rng, 8))
			pfd_read(&f, rl_chance(&rng, 30) ? 1 + rl_below(&rng, 200) : 4096);
	}
	close(f.fd);
}

/* ---- netlink fuzzing ---- */

struct nstats {
	unsigned long sent, replies, errors, dumps, infos, acks, silent, bad, late, empty;
	unsigned long strict, unmutated, strict_ok, strict_err, lenient;
	unsigned long errno_seen[140];
};
static struct nstats ns;
static uint16_t unused_ids[64];
static int n_unused;

/* the documented errnos of a reply: memtrace's and the generic netlink core's */
static bool nl_errno_ok(int e)
{
	switch (e) {
	case EINVAL: case ERANGE: case ESRCH: case EACCES:	/* memtrace, attribute policy */
	case EOPNOTSUPP:	/* no such command, or doit/dump not offered */
	case ENOENT:		/* no such family */
		return true;
	}
	return false;
}

/* Family ids in use: CTRL_CMD_GETFAMILY dump; unused ones are safe to aim at. */
static void find_unused_ids(struct nlr *s)
{
	unsigned char req[64] = { 0 };
	struct nlmsghdr *h = (struct nlmsghdr *)req;
	struct genlmsghdr *g = (struct genlmsghdr *)(req + NLMSG_HDRLEN);
	bool used[0x400] = { false };
	bool done = false;

	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	h->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN;
	h->nlmsg_type = GENL_ID_CTRL;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = ++s->seq;
	nlr_send_raw(s, req, h->nlmsg_len);
	while (!done) {
		ssize_t n = nlr_recv(s, 10000);
		int left = (int)n;

		if (n <= 0)
			break;
		for (h = (struct nlmsghdr *)s->buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			struct nlattr *a;
			int rem;

			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			rem = (int)h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
			for (a = (struct nlattr *)((char *)NLMSG_DATA(h) + GENL_HDRLEN);
			     rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem;
			     rem -= NLA_ALIGN(a->nla_len),
			     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len)))
				if (a->nla_type == CTRL_ATTR_FAMILY_ID) {
					uint16_t id;

					memcpy(&id, (char *)a + NLA_HDRLEN, 2);
					if (id < 0x400)
						used[id] = true;
				}
		}
	}
	used[s->family] = true;
	for (int id = 0x3ff; id >= NLMSG_MIN_TYPE && n_unused < 64; id--)
		if (!used[id])
			unused_ids[n_unused++] = id;
}

struct nattr {
	uint16_t type;
	uint16_t len;		/* nla_len as sent */
	uint16_t dlen;		/* payload bytes present */
	unsigned char d[64];
};

static unsigned char nbuf[70000];

static void na_set(struct nattr *a, uint16_t type, const void *d, uint16_t dlen)
{
	a->type = type;
	a->dlen = dlen;
	a->len = NLA_HDRLEN + dlen;
	memcpy(a->d, d, dlen);
}

/* ---- the netlink oracle ---- */

/* A request's attributes as the kernel reads them. */
struct nlq {
	int verr;		/* strict validation: 0, -EINVAL or -ERANGE */
	bool have_pid, have_start, have_end, have_mode, packed, indexed, no_pfn;
	uint32_t pid;
	uint64_t start, end;
	uint8_t mode;
};

/*
 * Parse the attributes of [p, p + len) as genetlink does for memtrace,
 * NL_VALIDATE_STRICT (lib/nlattr.c, __nla_validate_parse(), validate_nla(),
 * the same from 5.10 on): the first attribute at fault decides. Type 0, one
 * above MEMTRACE_A_MAX or one without a policy (NLA_UNSPEC) is EINVAL, so is
 * a U8/U32/U64 of another length or NLA_F_NESTED on a plain type; a FLAG
 * with a payload fails policy validation, which says ERANGE; a MODE above
 * MEMTRACE_MODE_MAX is ERANGE; bytes left that hold no attribute are EINVAL.
 * An attribute may come again: the last one counts. info: GET_INFO's policy,
 * which takes no attribute at all.
 */
static void nl_parse(const unsigned char *p, int len, bool info, struct nlq *q)
{
	int rem = len;

	memset(q, 0, sizeof(*q));
	while (rem >= NLA_HDRLEN) {
		struct nlattr a;
		const unsigned char *d = p + NLA_HDRLEN;
		unsigned int t, alen;
		int e = 0;

		memcpy(&a, p, NLA_HDRLEN);
		if (a.nla_len < NLA_HDRLEN || a.nla_len > rem)
			break;
		t = a.nla_type & NLA_TYPE_MASK;
		alen = a.nla_len - NLA_HDRLEN;
		switch (info ? 0 : t) {
		case MEMTRACE_A_PID:
			e = alen != 4 ? -EINVAL : 0;
			break;
		case MEMTRACE_A_START:
		case MEMTRACE_A_END:
			e = alen != 8 ? -EINVAL : 0;
			break;
		case MEMTRACE_A_MODE:
			e = alen != 1 ? -EINVAL : 0;
			break;
		case MEMTRACE_A_PACKED:
		case MEMTRACE_A_NO_PFN:
		case MEMTRACE_A_INDEXED:
			e = alen ? -ERANGE : 0;
			break;
		default:	/* unknown, or no policy */
			e = -EINVAL;
		}
		if (e != -EINVAL && (a.nla_type & NLA_F_NESTED))
			e = -EINVAL;	/* checked before the payload */
		if (!e && t == MEMTRACE_A_MODE && d[0] > MEMTRACE_MODE_MAX)
			e = -ERANGE;
		if (e) {
			q->verr = e;
			return;
		}
		switch (t) {
		case MEMTRACE_A_PID:
			q->have_pid = true;
			memcpy(&q->pid, d, 4);
			break;
		case MEMTRACE_A_START:
			q->have_start = true;
			memcpy(&q->start, d, 8);
			break;
		case MEMTRACE_A_END:
			q->have_end = true;
			memcpy(&q->end, d, 8);
			break;
		case MEMTRACE_A_MODE:
			q->have_mode = true;
			q->mode = d[0];
			break;
		case MEMTRACE_A_PACKED:
			q->packed = true;
			break;
		case MEMTRACE_A_NO_PFN:
			q->no_pfn = true;
			break;
		default:
			q->indexed = true;
		}
		rem -= NLA_ALIGN(a.nla_len);
		p += NLA_ALIGN(a.nla_len);
	}
	if (rem > 0)
		q->verr = -EINVAL;	/* trailing bytes */
}

/*
 * What querying pid gives over netlink: target()'s answer, made exact for a
 * pid it does not know when no process has it (nothing forks while netlink
 * is fuzzed, so none can appear).
 */
static unsigned int nl_target(uint32_t pid)
{
	unsigned int t;

	if (!pid || pid > RL_PID_MAX_LIMIT)
		return XS_ESRCH;
	t = target(pid);
	if (t != (XS_OK | XS_ESRCH | XS_EACCES))
		return t;
	if (kill((pid_t)pid, 0) && errno == ESRCH)
		return XS_ESRCH;
	/* a process, or a kernel thread (ESRCH); CAP_SYS_PTRACE sees any */
	return is_root ? XS_OK | XS_ESRCH : t;
}

/*
 * The outcomes a QUERY q may have (XS_*): its validation errno, else each
 * errno one of its parameters justifies (the contract does not order them),
 * else what its target gives.
 */
static unsigned int nl_query_outcomes(const struct nlq *q)
{
	uint64_t start = q->have_start ? q->start : 0;
	unsigned int v = 0;

	if (q->verr)
		return q->verr == -ERANGE ? XS_ERANGE : XS_EINVAL;
	if (q->indexed && !q->packed)
		v |= XS_EINVAL;
	if (start >= ts || (q->have_end && q->end > ts))
		v |= XS_ERANGE;
	else if (q->have_end && q->end <= start)
		v |= XS_EINVAL;		/* judged before rounding */
	if (!q->have_pid)
		return v | XS_EINVAL;
	if (v)
		return v | (nl_target(q->pid) & ~XS_OK);
	return nl_target(q->pid);
}

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
};

/*
 * Judge the message of dlen bytes in nbuf (nlmsg_len nlen), from its bytes:
 * framed when its headers are those the generator built (type, flags, cmd,
 * version, reserved) and the netlink core hands genetlink the whole of it.
 */
static void nl_judge(const struct nlr *s, size_t dlen, uint32_t nlen, uint16_t flags0,
		     uint8_t cmd0, struct nl_want *w)
{
	struct nlmsghdr h;
	struct genlmsghdr g;
	struct nlq q;
	unsigned int sem;
	bool framed, whole;

	memset(w, 0, sizeof(*w));
	if (dlen < NLMSG_HDRLEN + GENL_HDRLEN)
		return;		/* no answer at all, or a refusal */
	memcpy(&h, nbuf, NLMSG_HDRLEN);
	memcpy(&g, nbuf + NLMSG_HDRLEN, GENL_HDRLEN);
	whole = nlen >= NLMSG_HDRLEN + GENL_HDRLEN && nlen <= dlen && h.nlmsg_type == s->family;
	if (!whole)
		return;
	framed = h.nlmsg_flags == flags0 && g.cmd == cmd0 &&
		 g.version == MEMTRACE_GENL_VERSION && !g.reserved;
	nl_parse(nbuf + NLMSG_HDRLEN + GENL_HDRLEN, (int)nlen - NLMSG_HDRLEN - GENL_HDRLEN,
		 g.cmd == MEMTRACE_CMD_GET_INFO, &q);
	if (g.cmd == MEMTRACE_CMD_GET_INFO) {
		sem = q.verr ? (q.verr == -ERANGE ? XS_ERANGE : XS_EINVAL) : XS_OK;
		w->info_ok = (h.nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP && (sem & XS_OK);
	} else if (g.cmd == MEMTRACE_CMD_QUERY) {
		sem = nl_query_outcomes(&q);
		w->dump_ok = (h.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP && (sem & XS_OK);
		w->pid = (int)q.pid;
		w->start = (q.have_start ? q.start : 0) & ~(RL_PAGE - 1);
		w->end = q.have_end ? (q.end + RL_PAGE - 1) & ~(RL_PAGE - 1) : ts;
		w->mode = q.have_mode ? q.mode : MEMTRACE_MODE_RUNS;
		w->packed = q.packed;
		w->indexed = q.indexed;
		w->admin = is_root && !q.no_pfn;
	} else {
		return;
	}
	w->strict = framed;
	w->allowed = sem;
}

/* Build one message into nbuf; returns the datagram length. */
static size_t nl_build(struct nlr *s, uint32_t seq, uint16_t *flags_out, uint16_t *type_out,
		       uint32_t *nlmsg_len_out, struct nl_want *want)
{
	struct nattr at[12];
	int na = 0, k;
	uint16_t type = s->family, flags = NLM_F_REQUEST;
	uint8_t cmd, cmd0, version = MEMTRACE_GENL_VERSION, reserved = 0;
	size_t len, dlen;
	uint32_t nlen;
	bool query = rl_chance(&rng, 70), mutated = false, raw = false;
	unsigned int many = 0;
	uint16_t flags0;

	if (query) {
		uint32_t pid = rl_chance(&rng, 70) ? (uint32_t)self : (uint32_t)pick_pid();
		uint64_t start = (uintptr_t)region, end = start + NREG * 4096;
		uint8_t mode = rl_below(&rng, 2);

		cmd = MEMTRACE_CMD_QUERY;
		flags |= NLM_F_DUMP;
		if (rl_chance(&rng, 25)) {
			start = pick_addr();
			end = rl_chance(&rng, 50) ? pick_addr() : start + rl_below(&rng, 64) * 4096;
		}
		if (pid == 1 && mode == 1 && rl_chance(&rng, 80))
			mode = 0;
		na_set(&at[na++], MEMTRACE_A_PID, &pid, 4);
		if (rl_chance(&rng, 90))
			na_set(&at[na++], MEMTRACE_A_START, &start, 8);
		if (rl_chance(&rng, 85) || pid == (uint32_t)self)
			na_set(&at[na++], MEMTRACE_A_END, &end, 8);
		if (rl_chance(&rng, 70))
			na_set(&at[na++], MEMTRACE_A_MODE, &mode, 1);
		/* packed answers, pages a byte each or a word (not NO_PFN: the checker
		 * wants the pfns a root caller is shown) */
		if (rl_chance(&rng, 40))
			na_set(&at[na++], MEMTRACE_A_PACKED, NULL, 0);
		if (rl_chance(&rng, 30))
			na_set(&at[na++], MEMTRACE_A_INDEXED, NULL, 0);
	} else {
		cmd = MEMTRACE_CMD_GET_INFO;
	}
	if (rl_chance(&rng, 30))
		flags |= NLM_F_ACK;
	flags0 = flags;
	cmd0 = cmd;

	k = rl_chance(&rng, 25) ? 0 : 1 + rl_below(&rng, 3);
	mutated = k > 0;
	while (k--) {
		int i = na ? rl_below(&rng, na) : 0;

		switch (rl_below(&rng, 18)) {
		case 0:	/* attribute type */
			if (na)
				at[i].type = rl_chance(&rng, 60) ? rl_below(&rng, 16) :
					     rl_chance(&rng, 50) ? at[i].type | NLA_F_NESTED :
					     rl_chance(&rng, 50) ? at[i].type | NLA_F_NET_BYTEORDER :
					     (uint16_t)rl_next(&rng);
			break;
		case 1:	/* payload length */
			if (na) {
				at[i].dlen = rl_below(&rng, 13);
				for (int j = 0; j < at[i].dlen; j++)
					at[i].d[j] = rl_next(&rng);
				at[i].len = NLA_HDRLEN + at[i].dlen;
			}
			break;
		case 2:	/* nla_len disagrees with the bytes */
			if (na)
				at[i].len = rl_chance(&rng, 30) ? rl_below(&rng, 4) :
					    rl_chance(&rng, 50) ? at[i].len + 1 + rl_below(&rng, 64) :
					    rl_chance(&rng, 50) ? 0xffffU : at[i].len - 1U;
			break;
		case 3:	/* duplicate */
			if (na && na < 12)
				at[na++] = at[i];
			break;
		case 4:	/* drop */
			if (na) {
				memmove(&at[i], &at[i + 1], (na - i - 1) * sizeof(at[0]));
				na--;
			}
			break;
		case 5:	/* swap */
			if (na > 1) {
				struct nattr t = at[i];
				int j = rl_below(&rng, na);

				at[i] = at[j];
				at[j] = t;
			}
			break;
		case 6:	/* a nest of attributes */
			if (na < 12) {
				struct nattr *n = &at[na++];
				unsigned int sub = 1 + rl_below(&rng, 3), o = 0;

				n->type = (rl_chance(&rng, 50) ? MEMTRACE_A_RECORD : rl_below(&rng, 16)) |
					  (rl_chance(&rng, 60) ? NLA_F_NESTED : 0);
				while (sub-- && o + 12 <= sizeof(n->d)) {
					struct nlattr h = { .nla_len = NLA_HDRLEN + 8,
							    .nla_type = rl_below(&rng, 10) };
					uint64_t v = rl_next(&rng);

					if (rl_chance(&rng, 20))
						h.nla_len = rl_below(&rng, 40);
					memcpy(n->d + o, &h, 4);
					memcpy(n->d + o + 4, &v, 8);
					o += 12;
				}
				n->dlen = o;
				n->len = NLA_HDRLEN + o;
			}
			break;
		case 7:	/* values */
			if (na) {
				uint64_t v = rl_chance(&rng, 50) ? pick_addr() : rl_next(&rng);

				memcpy(at[i].d, &v, at[i].dlen < 8 ? at[i].dlen : 8);
			}
			break;
		case 8:	/* genl command */
			cmd = rl_chance(&rng, 70) ? rl_below(&rng, 6) : (uint8_t)rl_next(&rng);
			break;
		case 9:	/* genl version, reserved */
			version = rl_next(&rng);
			if (rl_chance(&rng, 50))
				reserved = rl_next(&rng);
			break;
		case 10:	/* flags */
			flags ^= 1U << rl_below(&rng, 16);
			if (rl_chance(&rng, 20))
				flags = rl_next(&rng);
			break;
		case 11:	/* type */
			if (rl_chance(&rng, 50) && n_unused)
				type = unused_ids[rl_below(&rng, n_unused)];
			else
				type = rl_below(&rng, NLMSG_MIN_TYPE);
			break;
		case 12:	/* oversize: many attributes */
			many = rl_chance(&rng, 10) ? 1500 + rl_below(&rng, 2000) : 10 + rl_below(&rng, 200);
			break;
		case 13:	/* raw bytes as payload */
			raw = true;
			break;
		default:	/* header lengths: below */
			break;
		}
	}

	/* serialise */
	len = NLMSG_HDRLEN;
	{
		struct genlmsghdr g = { .cmd = cmd, .version = version, .reserved = reserved };

		memcpy(nbuf + len, &g, GENL_HDRLEN);
		len += GENL_HDRLEN;
	}
	if (raw) {
		size_t r = rl_below(&rng, 300);

		for (size_t i = 0; i < r; i++)
			nbuf[len + i] = rl_next(&rng);
		len += r;
	} else {
		for (int i = 0; i < na; i++) {
			struct nlattr h = { .nla_len = at[i].len, .nla_type = at[i].type };

			memcpy(nbuf + len, &h, NLA_HDRLEN);
			memcpy(nbuf + len + NLA_HDRLEN, at[i].d, at[i].dlen);
			memset(nbuf + len + NLA_HDRLEN + at[i].dlen, 0,
			       NLA_ALIGN(at[i].dlen) - at[i].dlen);
			len += NLA_HDRLEN + NLA_ALIGN(at[i].dlen);
		}
		for (unsigned int i = 0; i < many && len + 12 < 65000; i++) {
			struct nlattr h = { .nla_len = NLA_HDRLEN + 8, .nla_type = MEMTRACE_A_START };
			uint64_t v = (uintptr_t)region;

			memcpy(nbuf + len, &h, NLA_HDRLEN);
			memcpy(nbuf + len + NLA_HDRLEN, &v, 8);
			len += 12;
		}
	}
	nlen = len;
	dlen = len;
	if (mutated && rl_chance(&rng, 12)) {
		switch (rl_below(&rng, 7)) {
		case 0: nlen = rl_below(&rng, NLMSG_HDRLEN); break;
		case 1: nlen = NLMSG_HDRLEN + rl_below(&rng, GENL_HDRLEN); break;
		case 2: nlen = len - rl_below(&rng, len - NLMSG_HDRLEN + 1); break;
		case 3: nlen = len + 1 + rl_below(&rng, 100); break;
		case 4: nlen = (uint32_t)rl_next(&rng); break;
		case 5: dlen = rl_below(&rng, len + 1); break;		/* truncated datagram */
		default:	/* longer datagram: zeros or a short tail */
			if (rl_chance(&rng, 50)) {
				size_t extra = 1 + rl_below(&rng, 200);

				memset(nbuf + len, 0, extra);
				dlen = len + extra;
			} else {
				size_t extra = 1 + rl_below(&rng, NLMSG_HDRLEN - 1);

				for (size_t i = 0; i < extra; i++)
					nbuf[len + i] = rl_next(&rng);
				dlen = len + extra;
			}
		}
		mutated = true;
	}
	/* Nothing after this message may parse as another one (it could reach
	 * any family): zero what would follow it. */
	if (nlen >= NLMSG_HDRLEN && nlen <= dlen && NLMSG_ALIGN((size_t)nlen) + NLMSG_HDRLEN <= dlen)
		memset(nbuf + NLMSG_ALIGN((size_t)nlen), 0, dlen - NLMSG_ALIGN((size_t)nlen));
	{
		struct nlmsghdr h = { .nlmsg_len = nlen, .nlmsg_type = type, .nlmsg_flags = flags,
				      .nlmsg_seq = seq, .nlmsg_pid = rl_chance(&rng, 5) ? (uint32_t)rl_next(&rng) : 0 };

		memcpy(nbuf, &h, dlen < NLMSG_HDRLEN ? dlen : NLMSG_HDRLEN);
	}
	*flags_out = flags;
	*type_out = type;
	*nlmsg_len_out = nlen;
	nl_judge(s, dlen, nlen, flags0, cmd0, want);
	want->mutated = mutated;
	return dlen;
}

/* GET_INFO's reply, checked. */
static bool check_info(const struct nlmsghdr *h, uint16_t family, char *why, size_t wl)
{
	const struct genlmsghdr *g = NLMSG_DATA(h);
	const struct nlattr *a;
	unsigned int seen = 0;
	int rem;

	if (h->nlmsg_type != family || h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN ||
	    g->cmd != MEMTRACE_CMD_GET_INFO) {
		snprintf(why, wl, "reply of type %u cmd %u", h->nlmsg_type, g->cmd);
		return false;
	}
	for (a = (const struct nlattr *)((const char *)g + GENL_HDRLEN),
	     rem = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	     rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem;
	     rem -= NLA_ALIGN(a->nla_len), a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len))) {
		const void *d = (const char *)a + NLA_HDRLEN;
		uint32_t u32 = 0;
		uint64_t u64 = 0;

		seen |= 1U << (a->nla_type & 31);
		switch (a->nla_type) {
		case MEMTRACE_A_VERSION:
			if (a->nla_len <= NLA_HDRLEN || ((const char *)d)[a->nla_len - NLA_HDRLEN - 1]) {
				snprintf(why, wl, "VERSION not a string");
				return false;
			}
			break;
		case MEMTRACE_A_PAGE_SIZE:
		case MEMTRACE_A_NSTATES:
		case MEMTRACE_A_FLAGS_MASK:
			if (a->nla_len != NLA_HDRLEN + 4) {
				snprintf(why, wl, "attribute %u length %u", a->nla_type, a->nla_len);
				return false;
			}
			memcpy(&u32, d, 4);
			if ((a->nla_type == MEMTRACE_A_PAGE_SIZE && u32 != 4096) ||
			    (a->nla_type == MEMTRACE_A_NSTATES && u32 != MEMTRACE_NSTATES) ||
			    (a->nla_type == MEMTRACE_A_FLAGS_MASK && u32 != MEMTRACE_F_ALL)) {
				snprintf(why, wl, "attribute %u = %u", a->nla_type, u32);
				return false;
			}
			break;
		case MEMTRACE_A_TASK_SIZE:
			memcpy(&u64, d, 8);
			if (a->nla_len != NLA_HDRLEN + 8 || u64 != ts) {
				snprintf(why, wl, "TASK_SIZE 0x%" PRIx64 ", /proc says 0x%" PRIx64, u64, ts);
				return false;
			}
			break;
		case MEMTRACE_A_PAD:
			break;
		default:
			snprintf(why, wl, "unexpected attribute %u", a->nla_type);
			return false;
		}
	}
	if ((seen & 0xf80) != 0xf80) {
		snprintf(why, wl, "attributes missing (0x%x)", seen);
		return false;
	}
	return true;
}

static bool nl_failed;

static void nl_fail(const char *what, const unsigned char *msg, size_t len)
{
	nl_failed = true;
	ns.bad++;
	fail_once("netlink message %lu: %s; message: %s", ns.sent, what,
		  rl_escape(msg, len < 96 ? len : 96));
}

/*
 * A dump message's answer attributes are of the format asked: nests without
 * PACKED; with it RUNS, and in pages mode PAGEIDX with INDEXED, else PAGEVEC,
 * each followed by a PFNVEC exactly when pfns are shown.
 */
static bool nl_dump_form(const struct nlmsghdr *h, const struct nl_want *w, char *why, size_t wl)
{
	const char *p = (const char *)NLMSG_DATA(h) + GENL_HDRLEN;
	const struct nlattr *a;
	int rem = (int)h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	bool pages = w->mode == MEMTRACE_MODE_PAGES;

	for (a = (const struct nlattr *)p;
	     rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem;
	     rem -= NLA_ALIGN(a->nla_len), p += NLA_ALIGN(a->nla_len), a = (const void *)p) {
		unsigned int t = a->nla_type & NLA_TYPE_MASK;
		bool ok;

		switch (t) {
		case MEMTRACE_A_RECORD:
			ok = !w->packed;
			break;
		case MEMTRACE_A_RUNS:
			ok = w->packed;
			break;
		case MEMTRACE_A_PAGEVEC:
			ok = w->packed && pages && !w->indexed;
			break;
		case MEMTRACE_A_PAGEIDX:
			ok = w->packed && pages && w->indexed;
			break;
		case MEMTRACE_A_PFNVEC:
			ok = w->packed && pages && w->admin;
			break;
		default:
			continue;	/* the query repeated, the summary: rl_nl_check_msg() */
		}
		if (!ok) {
			snprintf(why, wl, "dump: attribute %u answers a request %s%s%s in %s mode",
				 t, w->packed ? "PACKED" : "not packed",
				 w->indexed ? " INDEXED" : "", w->admin ? "" : " without pfns",
				 pages ? "pages" : "runs");
			return false;
		}
	}
	return true;
}

/* An errno the kernel answered: the one(s) the oracle allows, if it knows. */
static bool nl_errno_allowed(const struct nl_want *w, int e, char *why, size_t wl)
{
	if (w->strict && !(xbit(e) & w->allowed)) {
		snprintf(why, wl, "error %d (%s) for a request whose outcome is %s", -e,
			 strerror(e), xnames(w->allowed));
		return false;
	}
	if (!w->strict && !nl_errno_ok(e)) {
		snprintf(why, wl, "error %d (%s) not documented", -e, strerror(e));
		return false;
	}
	return true;
}

/*
 * The errno of an NLMSG_DONE: a refusal (5.10 sends it with the first dump
 * call, not as an NLMSG_ERROR), or after data the end of a dump, which only
 * the target's exit may cause, if it may have one.
 */
static bool nl_done_error_ok(const struct nl_want *w, int e, bool in_dump, char *why, size_t wl)
{
	if (!in_dump)
		return nl_errno_allowed(w, e, why, wl);
	if (e == ESRCH && (w->allowed & XS_ESRCH))
		return true;
	snprintf(why, wl, "error %d (%s) after data", -e, strerror(e));
	return false;
}

/*
 * Read what the kernel says to message seq until its answer ends (or, with
 * ping, until the ping's ack); check every message against w.
 */
static void nl_collect(struct nlr *s, uint32_t seq, bool expect_reply, bool ack_only,
		       uint16_t flags, uint32_t ping, const struct nl_want *w,
		       const unsigned char *msg, size_t mlen)
{
	struct rl_check c;
	bool first = true, in_dump = false, got_info = false, answered = false;
	char why[400];

	/* a dump must be about what was sent, not what it says of itself */
	rl_check_init(&c, w->pid, w->start, w->end, w->mode, w->admin);
	for (;;) {
		ssize_t n;
		struct nlmsghdr *h;
		int left;

		doing = "netlink recv";
		n = nlr_recv(s, 20000);
		progress++;
		if (n <= 0) {
			nl_fail(n ? "recv error" : "no reply in 20 s", msg, mlen);
			return;
		}
		left = (int)n;
		for (h = (struct nlmsghdr *)s->buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (ping && h->nlmsg_seq == ping) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_type != NLMSG_ERROR || e->error) {
					nl_fail("ping answered wrongly", msg, mlen);
					return;
				}
				if (ack_only && !answered)
					nl_fail("no ack for a message asking one", msg, mlen);
				if (!ack_only)
					ns.silent++;
				return;
			}
			if (h->nlmsg_seq != seq) {
				if (h->nlmsg_seq < seq && h->nlmsg_type == NLMSG_ERROR &&
				    !((struct nlmsgerr *)NLMSG_DATA(h))->error) {
					ns.late++;
					continue;
				}
				snprintf(why, sizeof(why), "message of seq %u type %u while at seq %u",
					 h->nlmsg_seq, h->nlmsg_type, seq);
				nl_fail(why, msg, mlen);
				return;
			}
			if (!expect_reply && !ack_only) {
				snprintf(why, sizeof(why), "a reply (type %u) to a message the core must drop",
					 h->nlmsg_type);
				nl_fail(why, msg, mlen);
				return;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
					nl_fail("short NLMSG_ERROR", msg, mlen);
					return;
				}
				ns.replies++;
				answered = true;
				if (e->error > 0) {
					snprintf(why, sizeof(why), "error %d", e->error);
					nl_fail(why, msg, mlen);
					return;
				}
				if (e->error < 0 && !ack_only &&
				    !nl_errno_allowed(w, -e->error, why, sizeof(why))) {
					nl_fail(why, msg, mlen);
					return;
				}
				if (e->error < 0 && ack_only && !nl_errno_ok(-e->error)) {
					snprintf(why, sizeof(why), "error %d (%s) not documented", e->error,
						 strerror(-e->error));
					nl_fail(why, msg, mlen);
					return;
				}
				if (!e->error && !ack_only && !(got_info && (flags & NLM_F_ACK))) {
					nl_fail("an ack without an answer", msg, mlen);
					return;
				}
				if (e->error) {
					ns.errors++;
					if (w->strict)
						ns.strict_err++;
					if (-e->error < 140)
						ns.errno_seen[-e->error]++;
				} else {
					ns.acks++;
				}
				if (in_dump) {
					nl_fail("NLMSG_ERROR inside a dump", msg, mlen);
					return;
				}
				if (!ping)
					return;
				continue;
			}
			if (ack_only) {
				nl_fail("data for a message the core only acks", msg, mlen);
				return;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				int e = 0;

				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&e, NLMSG_DATA(h), sizeof(e));
				ns.replies++;
				answered = true;
				if (e < 0) {
					if (!nl_done_error_ok(w, -e, in_dump, why, sizeof(why))) {
						nl_fail(why, msg, mlen);
						return;
					}
					ns.errors++;
					if (w->strict)
						ns.strict_err++;
					ns.errno_seen[-e < 140 ? -e : 0]++;
				} else if (!c.summary) {
					nl_fail("NLMSG_DONE without a summary", msg, mlen);
					return;
				} else {
					ns.dumps++;
					if (w->strict)
						ns.strict_ok++;
				}
				if (!ping)
					return;
				continue;
			}
			if (h->nlmsg_flags & NLM_F_MULTI) {
				if (!w->dump_ok) {
					snprintf(why, sizeof(why), "a dump answers a request %s%s",
						 w->strict ? "whose outcome is " :
						 "whose bytes make no valid QUERY",
						 w->strict ? xnames(w->allowed) : "");
					nl_fail(why, msg, mlen);
					return;
				}
				in_dump = true;
				if (!rl_nl_check_msg(&c, h, s->family, &first)) {
					snprintf(why, sizeof(why), "dump: %s", c.err);
					nl_fail(why, msg, mlen);
					return;
				}
				if (!nl_dump_form(h, w, why, sizeof(why))) {
					nl_fail(why, msg, mlen);
					return;
				}
				continue;
			}
			if (!w->info_ok) {
				snprintf(why, sizeof(why), "a reply (type %u) to a request that %s",
					 h->nlmsg_type, w->strict ? "must be refused or dumped" :
					 "its bytes do not make a valid GET_INFO");
				nl_fail(why, msg, mlen);
				return;
			}
			if (got_info || !check_info(h, s->family, why, sizeof(why))) {
				nl_fail(got_info ? "two replies" : why, msg, mlen);
				return;
			}
			got_info = true;
			ns.infos++;
			if (w->strict)
				ns.strict_ok++;
			ns.replies++;
			answered = true;
			if (!(flags & NLM_F_ACK) && !ping)
				return;
		}
	}
}

/* After a failure: a ping, and everything up to its ack dropped. */
static void nl_resync(struct nlr *s)
{
	struct nlmsghdr p = { .nlmsg_len = NLMSG_HDRLEN, .nlmsg_type = NLMSG_NOOP,
			      .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = ++s->seq };

	nlr_send_raw(s, &p, sizeof(p));
	for (;;) {
		ssize_t n = nlr_recv(s, 20000);
		struct nlmsghdr *h;
		int left = (int)n;

		if (n <= 0)
			return;
		for (h = (struct nlmsghdr *)s->buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left))
			if (h->nlmsg_seq == p.nlmsg_seq)
				return;
	}
}

static void nl_fuzz(unsigned long count)
{
	struct nlr s;
	int err = nlr_open(&s);

	if (!tap_ok(err == 0, "netlink: the memtrace family resolves through CTRL_CMD_GETFAMILY (%s)",
		    strerror(-err)))
		return;
	find_unused_ids(&s);
	tap_diag("netlink: family %u, %d unused ids to aim at", s.family, n_unused);
	while (ns.sent < count) {
		uint16_t flags, type;
		uint32_t nlen, seq = ++s.seq, ping = 0;
		bool reply, ack_only = false;
		struct nl_want want;
		size_t dlen = nl_build(&s, seq, &flags, &type, &nlen, &want);

		/* what the netlink core does with it (netlink_rcv_skb) */
		reply = dlen >= NLMSG_HDRLEN && nlen >= NLMSG_HDRLEN && nlen <= dlen;
		if (reply && (!(flags & NLM_F_REQUEST) || type < NLMSG_MIN_TYPE)) {
			reply = false;
			ack_only = flags & NLM_F_ACK;
		}
		doing = "netlink send";
		err = nlr_send_raw(&s, nbuf, dlen);
		ns.sent++;
		progress++;
		ns.unmutated += !want.mutated;
		ns.strict += want.strict;
		ns.lenient += !want.strict;
		if (!want.mutated && (!want.strict || !reply)) {
			/* the generator's own requests are always judged exactly */
			nl_fail("oracle: an unmutated request not judged exactly", nbuf, dlen);
			nl_resync(&s);
			continue;
		}
		if (err == -ENODATA && !dlen) {
			ns.empty++;	/* the socket refuses an empty datagram itself */
			continue;
		}
		if (err) {
			char why[64];

			snprintf(why, sizeof(why), "sendto of %zu bytes failed: %s", dlen, strerror(-err));
			nl_fail(why, nbuf, dlen);
			continue;
		}
		if (!reply) {
			struct nlmsghdr p = { .nlmsg_len = NLMSG_HDRLEN, .nlmsg_type = NLMSG_NOOP,
					      .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
					      .nlmsg_seq = ping = ++s.seq };

			nlr_send_raw(&s, &p, sizeof(p));
		}
		nl_failed = false;
		nl_collect(&s, seq, reply, ack_only, flags, ping, &want, nbuf, dlen);
		if (nl_failed)
			nl_resync(&s);
	}
	nlr_close(&s);
}

/* ---- the known answer afterwards ---- */

struct collect {
	int n;
	uint8_t state[NREG];
	uint32_t flags[NREG];
	uint64_t pfn[NREG];
	uint64_t base;
};

static void collect_rec(void *arg, uint64_t addr, uint64_t pages, unsigned int state,
			uint32_t flags, uint64_t pfn, int64_t node)
{
	struct collect *k = arg;

	(void)node;
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t p = (addr - k->base) / 4096 + i;

		if (p < NREG) {
			k->state[p] = state;
			k->flags[p] = flags;
			k->pfn[p] = pfn;
			k->n++;
		}
	}
}

static void known_answer(void)
{
	/* pages 0-3 written, 4-7 read (zero page), 8-11 untouched, 12-15 written then dropped */
	static const char want[] = "PPPPZZZZNNNNNNNN";
	char *p = mmap(NULL, NREG * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile char sink;
	struct mt_answer a;
	unsigned long bad = 0;
	struct collect k = { .base = (uintptr_t)p };
	struct rl_check c;
	struct nlr s;
	int err;

	madvise(p, NREG * 4096, MADV_NOHUGEPAGE);
	for (int i = 0; i < 4; i++)
		p[i * 4096] = 1;
	for (int i = 4; i < 8; i++)
		sink = p[i * 4096];
	(void)sink;
	for (int i = 12; i < 16; i++)
		p[i * 4096] = 1;
	madvise(p + 12 * 4096, 4 * 4096, MADV_DONTNEED);

	err = mt_query(self, (uintptr_t)p, (uintptr_t)p + NREG * 4096, "pages", &a);
	if (tap_ok(!err, "after the fuzz: /proc answers a known query (%s)", strerror(-err))) {
		for (int i = 0; i < NREG; i++) {
			int w = want[i] == 'P' ? MEMTRACE_PRESENT : want[i] == 'Z' ? MEMTRACE_ZERO :
				MEMTRACE_NONE;

			if (a.pages[i].state != w || (w == MEMTRACE_PRESENT &&
			    !(a.pages[i].flags & MEMTRACE_F_ANON)))
				bad++;
		}
		tap_ok(!bad, "after the fuzz: states are %s (%lu wrong)", want, bad);
		bad = mt_crosscheck(self, &a, is_root);
		tap_ok(!bad, "after the fuzz: %lu/%d pages disagree with pagemap", bad, NREG);
		mt_answer_free(&a);
	}
	err = nlr_open(&s);
	if (!err) {
		rl_check_init(&c, self, (uintptr_t)p, (uintptr_t)p + NREG * 4096, MEMTRACE_MODE_PAGES,
			      is_root);
		c.on_record = collect_rec;
		c.arg = &k;
		err = rl_nl_query(&s, &c, self, (uintptr_t)p, (uintptr_t)p + NREG * 4096, true,
				  MEMTRACE_MODE_PAGES, NULL);
		nlr_close(&s);
	}
	bad = 0;
	for (int i = 0; !err && i < NREG; i++) {
		int w = want[i] == 'P' ? MEMTRACE_PRESENT : want[i] == 'Z' ? MEMTRACE_ZERO : MEMTRACE_NONE;

		if (k.state[i] != w)
			bad++;
	}
	tap_ok(!err && !bad && k.n == NREG, "after the fuzz: netlink answers the same query: %s (%s)",
	       want, err ? (c.err[0] ? c.err : strerror(-err)) : bad ? "states differ" : "ok");
	munmap(p, NREG * 4096);
}

/* The reproducers of the grammar deviations the fuzzer found, one line each. */
static void grammar_cases(void)
{
	static const struct { const char *fmt; int err; const char *what; } cases[] = {
		{ "+%d 0 4096", EINVAL, "a signed PID (+PID) is not a number of the grammar" },
		{ "%d +0 4096", EINVAL, "a signed START is not a number of the grammar" },
		{ "%d 0 ++4096", EINVAL, "+LENGTH with a signed LENGTH (++N)" },
		{ "%d 0x0x0 0x1000", EINVAL, "a double 0x prefix (0x0x0)" },
		{ "%d 0 0x+1000", EINVAL, "a sign after the 0x prefix (0x+1000)" },
	};
	char q[128];
	int n, err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = snprintf(q, sizeof(q), cases[i].fmt, self);
		err = mt_write_raw(q, n);
		tap_ok(err == -cases[i].err, "regression parse-u64-sign: %s: '%s' is %s (got %s)",
		       cases[i].what, q,
		       strerror(cases[i].err), err ? strerror(-err) : "accepted");
	}
}

static uint64_t task_size(void)
{
	char q[64], buf[256];
	int fd = open("/proc/memtrace", O_RDWR), n;
	unsigned long long s = 0, e = 0;

	n = snprintf(q, sizeof(q), "%d all", getpid());
	if (fd < 0 || write(fd, q, n) != n)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (sscanf(buf, "# memtrace pid=%*d start=0x%llx end=0x%llx", &s, &e) != 2)
		return 0;
	return e;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned long nproc, nnl, user_share;
	uint64_t seed;
	pthread_t wd;
	double t0, t1, t2;
	int st;
	pid_t c;

	(void)argc;
	(void)argv;
	setvbuf(stdout, NULL, _IOLBF, 0);
	self = getpid();
	parent_pid = getppid();
	is_root = geteuid() == 0;
	seed = rl_knob("mt_seed", 0);
	if (!seed)
		seed = (uint64_t)time(NULL) * 1000003ULL ^ (uint64_t)self;
	rng.s = seed;
	printf("# seed %" PRIu64 " (replay: MT_SEED=%" PRIu64 " or mt_seed=%" PRIu64 ")\n", seed,
	       seed, seed);
	nproc = rl_knob("mt_fuzz_proc", rl_quick() ? 10000 : 100000);
	nnl = rl_knob("mt_fuzz_nl", rl_quick() ? 10000 : 100000);
	pthread_create(&wd, NULL, watchdog, NULL);

	ts = task_size();
	if (!tap_ok(ts != 0, "TASK_SIZE from the 'all' header: 0x%" PRIx64, ts))
		return tap_done();
	region = mmap(NULL, NREG * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < NREG; i += 2)
		region[i * 4096] = 1;
	c = fork();
	if (!c)
		_exit(0);
	waitpid(c, &st, 0);
	dead_pid = c;

	/* a tenth of the /proc writes from a user that owns nothing here */
	user_share = nproc / 10;
	t0 = now();
	c = fork();
	if (!c) {
		uid_t u = 30000 + getpid() % 20000;

		if (setgid(u) || setuid(u))
			_exit(3);
		self = getpid();
		is_root = false;
		rng.s = seed ^ 0x5555;
		pthread_create(&wd, NULL, watchdog, NULL);
		proc_fuzz(user_share, true);
		printf("# fuzz, uid %u: %lu writes (%lu accepted, %lu refused), %lu reads, "
		       "%lu ENODATA, %lu bad, %lu contract deviations, %lu known ones\n", u, ps.writes,
		       ps.ok, ps.errs, ps.reads, ps.enodata, ps.bad, ps.dev, ps.known_dev);
		_exit(ps.bad ? 1 : ps.dev ? 2 : 0);
	}
	waitpid(c, &st, 0);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) != 1 && WEXITSTATUS(st) != 3,
	       "/proc fuzz as an unprivileged user: every write and read answered as documented (status 0x%x)", st);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "/proc fuzz as an unprivileged user: no outcome outside the grammar's (status 0x%x)", st);

	proc_fuzz(nproc - user_share, false);
	t1 = now();
	tap_diag("proc: %lu writes: %lu accepted, refused EINVAL %lu ERANGE %lu E2BIG %lu ESRCH %lu "
		 "EACCES %lu, ESPIPE %lu, %lu split queries, %lu reads (%lu ENODATA: no query of their own)",
		 ps.writes, ps.ok, ps.by_err[1], ps.by_err[2], ps.by_err[3], ps.by_err[4],
		 ps.by_err[5], ps.espipe, ps.splits, ps.reads, ps.enodata);
	tap_ok(ps.bad == 0, "/proc fuzz: every write returned count or a documented errno, "
	       "every read a well-formed answer (%lu bad)", ps.bad);
	/* regression parse-u64-sign: kstrtoull() let signs and 0x0x through */
	tap_ok(ps.dev == 0 && ps.known_dev == 0,
	       "/proc fuzz: every outcome is one the grammar allows (%lu deviations; "
	       "%lu of the fixed parse-u64-sign bug)", ps.dev, ps.known_dev);

	fails_shown = 0;
	nl_fuzz(nnl);
	t2 = now();
	tap_diag("netlink: %lu messages: %lu replies: %lu errors, %lu complete dumps, %lu GET_INFO "
		 "replies, %lu acks; %lu dropped by the core as they must be, %lu empty datagrams "
		 "refused by sendto (ENODATA), %lu late acks", ns.sent, ns.replies, ns.errors,
		 ns.dumps, ns.infos, ns.acks, ns.silent, ns.empty, ns.late);
	tap_diag("netlink oracle: %lu messages judged exactly (%lu of them unmutated; %lu "
		 "answered, %lu refused), %lu with mutated headers against the documented errnos",
		 ns.strict, ns.unmutated, ns.strict_ok, ns.strict_err, ns.lenient);
	{
		char e[400] = "";

		for (int i = 0; i < 140; i++)
			if (ns.errno_seen[i])
				snprintf(e + strlen(e), sizeof(e) - strlen(e), " %s=%lu",
					 i ? strerrorname_np(i) : "?", ns.errno_seen[i]);
		tap_diag("netlink errnos:%s", e);
	}
	tap_ok(ns.bad == 0 && ns.sent >= nnl,
	       "netlink fuzz: %lu messages, each answered as its bytes ask (the one outcome of a "
	       "well-formed request, a documented errno for mutated headers) or dropped by the "
	       "core (%lu bad)", ns.sent, ns.bad);

	known_answer();
	grammar_cases();
	printf("# fuzz: proc writes %lu, netlink messages %lu, seed %" PRIu64 " (%.0f s + %.0f s)\n",
	       ps.writes + user_share, ns.sent, seed, t1 - t0, t2 - t1);
	return tap_done();
}
