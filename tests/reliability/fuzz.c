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
 *
 * The files: see fuzz.h.
 */
#include "fuzz.h"
#include "pg.h"

TAP_SHARED_STATE;

struct rl_rng fz_rng;
uint64_t fz_ts;		/* TASK_SIZE of our processes */
int fz_self, fz_dead_pid, fz_parent_pid;
bool fz_is_root;
char *fz_region;		/* 16 pages in known states */

/* ---- watchdog: a hang fails the suite instead of the lane's timeout ---- */
volatile unsigned long fz_progress;
volatile const char *fz_doing = "start";

static void *watchdog(void *arg)
{
	unsigned long last = ~0UL;
	int still = 0;

	(void)arg;
	for (;;) {
		sleep(5);
		if (fz_progress != last) {
			last = fz_progress;
			still = 0;
			continue;
		}
		if (++still >= 12) {
			printf("not ok - no operation hangs (stuck for 60 s in: %s)\n", fz_doing);
			fflush(stdout);
			_exit(1);
		}
	}
	return NULL;
}

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
		uint64_t p = (addr - k->base) / MT_PG + i;

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
	char *p = mmap(NULL, NREG * MT_PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile char sink;
	struct mt_answer a;
	unsigned long bad = 0;
	struct collect k = { .base = (uintptr_t)p };
	struct rl_check c;
	struct nlr s;
	int err;

	madvise(p, NREG * MT_PG, MADV_NOHUGEPAGE);
	for (int i = 0; i < 4; i++)
		p[i * MT_PG] = 1;
	for (int i = 4; i < 8; i++)
		sink = p[i * MT_PG];
	(void)sink;
	for (int i = 12; i < 16; i++)
		p[i * MT_PG] = 1;
	madvise(p + 12 * MT_PG, 4 * MT_PG, MADV_DONTNEED);

	err = mt_query(fz_self, (uintptr_t)p, (uintptr_t)p + NREG * MT_PG, "pages", &a);
	if (tap_ok(!err, "after the fuzz: /proc answers a known query (%s)", strerror(-err))) {
		for (int i = 0; i < NREG; i++) {
			int w = want[i] == 'P' ? MEMTRACE_PRESENT : want[i] == 'Z' ? MEMTRACE_ZERO :
				MEMTRACE_NONE;

			if (a.pages[i].state != w || (w == MEMTRACE_PRESENT &&
			    !(a.pages[i].flags & MEMTRACE_F_ANON)))
				bad++;
		}
		tap_ok(!bad, "after the fuzz: states are %s (%lu wrong)", want, bad);
		bad = mt_crosscheck(fz_self, &a, fz_is_root);
		tap_ok(!bad, "after the fuzz: %lu/%d pages disagree with pagemap", bad, NREG);
		mt_answer_free(&a);
	}
	err = nlr_open(&s);
	if (!err) {
		rl_check_init(&c, fz_self, (uintptr_t)p, (uintptr_t)p + NREG * MT_PG, MEMTRACE_MODE_PAGES,
			      fz_is_root);
		c.on_record = collect_rec;
		c.arg = &k;
		err = rl_nl_query(&s, &c, fz_self, (uintptr_t)p, (uintptr_t)p + NREG * MT_PG, true,
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
	munmap(p, NREG * MT_PG);
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
		n = snprintf(q, sizeof(q), cases[i].fmt, fz_self);
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
	fz_self = getpid();
	fz_parent_pid = getppid();
	fz_is_root = geteuid() == 0;
	seed = rl_knob("mt_seed", 0);
	if (!seed)
		seed = (uint64_t)time(NULL) * 1000003ULL ^ (uint64_t)fz_self;
	fz_rng.s = seed;
	printf("# seed %" PRIu64 " (replay: MT_SEED=%" PRIu64 " or mt_seed=%" PRIu64 ")\n", seed,
	       seed, seed);
	nproc = rl_knob("mt_fuzz_proc", rl_quick() ? 10000 : 100000);
	nnl = rl_knob("mt_fuzz_nl", rl_quick() ? 10000 : 100000);
	pthread_create(&wd, NULL, watchdog, NULL);

	fz_ts = task_size();
	if (!tap_ok(fz_ts != 0, "TASK_SIZE from the 'all' header: 0x%" PRIx64, fz_ts))
		return tap_done();
	fz_region = mmap(NULL, NREG * MT_PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < NREG; i += 2)
		fz_region[i * MT_PG] = 1;
	c = fork();
	if (!c)
		_exit(0);
	waitpid(c, &st, 0);
	fz_dead_pid = c;

	/* a tenth of the /proc writes from a user that owns nothing here */
	user_share = nproc / 10;
	t0 = now();
	c = fork();
	if (!c) {
		uid_t u = 30000 + getpid() % 20000;

		if (setgid(u) || setuid(u))
			_exit(3);
		fz_self = getpid();
		fz_is_root = false;
		fz_rng.s = seed ^ 0x5555;
		pthread_create(&wd, NULL, watchdog, NULL);
		fz_proc_fuzz(user_share, true);
		printf("# fuzz, uid %u: %lu writes (%lu accepted, %lu refused), %lu reads, "
		       "%lu ENODATA, %lu bad, %lu contract deviations, %lu known ones\n", u, fz_ps.writes,
		       fz_ps.ok, fz_ps.errs, fz_ps.reads, fz_ps.enodata, fz_ps.bad, fz_ps.dev, fz_ps.known_dev);
		_exit(fz_ps.bad ? 1 : fz_ps.dev ? 2 : 0);
	}
	waitpid(c, &st, 0);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) != 1 && WEXITSTATUS(st) != 3,
	       "/proc fuzz as an unprivileged user: every write and read answered as documented (status 0x%x)", st);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "/proc fuzz as an unprivileged user: no outcome outside the grammar's (status 0x%x)", st);

	fz_proc_fuzz(nproc - user_share, false);
	t1 = now();
	tap_diag("proc: %lu writes: %lu accepted, refused EINVAL %lu ERANGE %lu E2BIG %lu ESRCH %lu "
		 "EACCES %lu, ESPIPE %lu, %lu split queries, %lu reads (%lu ENODATA: no query of their own)",
		 fz_ps.writes, fz_ps.ok, fz_ps.by_err[1], fz_ps.by_err[2], fz_ps.by_err[3], fz_ps.by_err[4],
		 fz_ps.by_err[5], fz_ps.espipe, fz_ps.splits, fz_ps.reads, fz_ps.enodata);
	tap_ok(fz_ps.bad == 0, "/proc fuzz: every write returned count or a documented errno, "
	       "every read a well-formed answer (%lu bad)", fz_ps.bad);
	/* regression parse-u64-sign: kstrtoull() let signs and 0x0x through */
	tap_ok(fz_ps.dev == 0 && fz_ps.known_dev == 0,
	       "/proc fuzz: every outcome is one the grammar allows (%lu deviations; "
	       "%lu of the fixed parse-u64-sign bug)", fz_ps.dev, fz_ps.known_dev);

	fz_fails_shown = 0;
	fz_nl_fuzz(nnl);
	t2 = now();
	tap_diag("netlink: %lu messages: %lu replies: %lu errors, %lu complete dumps, %lu GET_INFO "
		 "replies, %lu acks; %lu dropped by the core as they must be, %lu empty datagrams "
		 "refused by sendto (ENODATA), %lu late acks", fz_ns.sent, fz_ns.replies, fz_ns.errors,
		 fz_ns.dumps, fz_ns.infos, fz_ns.acks, fz_ns.silent, fz_ns.empty, fz_ns.late);
	tap_diag("netlink oracle: %lu messages judged exactly (%lu of them unmutated; %lu "
		 "answered, %lu refused), %lu with mutated headers against the documented errnos",
		 fz_ns.strict, fz_ns.unmutated, fz_ns.strict_ok, fz_ns.strict_err, fz_ns.lenient);
	{
		char e[400] = "";

		for (int i = 0; i < 140; i++)
			if (fz_ns.errno_seen[i])
				snprintf(e + strlen(e), sizeof(e) - strlen(e), " %s=%lu",
					 i ? strerrorname_np(i) : "?", fz_ns.errno_seen[i]);
		tap_diag("netlink errnos:%s", e);
	}
	tap_ok(fz_ns.bad == 0 && fz_ns.sent >= nnl,
	       "netlink fuzz: %lu messages, each answered as its bytes ask (the one outcome of a "
	       "well-formed request, a documented errno for mutated headers) or dropped by the "
	       "core (%lu bad)", fz_ns.sent, fz_ns.bad);

	known_answer();
	grammar_cases();
	printf("# fuzz: proc writes %lu, netlink messages %lu, seed %" PRIu64 " (%.0f s + %.0f s)\n",
	       fz_ps.writes + user_share, fz_ns.sent, seed, t1 - t0, t2 - t1);
	return tap_done();
}
