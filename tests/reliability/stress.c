// SPDX-License-Identifier: GPL-2.0
/*
 * rel-stress: concurrent queriers against processes whose memory keeps
 * changing, run as root in the lab VM with the module loaded.
 *
 * Targets (4) churn an 8 MiB arena: mmap (anonymous, shared, file, THP) /
 * munmap / mprotect / madvise(MADV_DONTNEED, MADV_PAGEOUT) / touch / fork a
 * child that writes and exits, and exit after a random lifetime (a new
 * target takes the slot). Queriers (8: /proc and netlink (packed or nested
 * records at random), runs and pages
 * modes) query the arenas, parts of them and whole address spaces; every
 * answer goes through the checker (rlib.c). A query may end in ESRCH only
 * when its target has exited: a target marks itself before it exits, so an
 * ESRCH for a target that is alive is an error, as is any other errno, a
 * garbled answer or a hang (no query finished for 60 s, or a querier still
 * running 120 s after the stop).
 *
 * Right after its arena each target keeps a stable tail of SPAGES pages that
 * it never touches again once set up: written and mlock()ed anonymous pages
 * (present, anon, 4K), a PROT_NONE stretch (none), a read-faulted read-only
 * stretch (the zero page) and an untouched read-write one (none), all
 * MADV_NOHUGEPAGE. It reads its own /proc/self/pagemap for them and
 * publishes the states and pfns in its slot (under a sequence count); every
 * complete answer that covers part of the tail is compared with them, page
 * by page: state, kind and size, and the pfn of each record that starts
 * there (pages mode: every page). Compaction could move the mlocked frames:
 * vm.compact_unevictable_allowed is 0 while the program runs.
 *
 * Every target, target's child and querier is reaped and its status judged:
 * an exit status other than 0, or a signal the harness did not send (it
 * sends SIGKILL to the targets at the end, to the queriers only after a
 * hang), is a failure, reported with the signal.
 *
 * Duration: mt_stress=SECONDS (default 60; with mt_quick=1 a sixth, at least
 * 10). Prints "# stress: N s, N queries, N ESRCH, N errors".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kmod/mtlib.h"
#include "tap.h"
#include "rlib.h"

#define NT 4			/* targets */
#define NQ 8			/* queriers */
#define ARENA (8UL << 20)
#define APAGES (ARENA / 4096)
/* the stable tail after each arena: four stretches of SQ pages */
#define SQ 16
#define SPAGES (4 * SQ)
#define SPAN (ARENA + SPAGES * 4096UL)	/* what the queriers look at */
#define HANG_S 60		/* no query finished for this long: a hang */
#define STOP_S 120		/* queriers still running this long after the stop */

/* What a target knows of its stable tail; addr 0: nothing published. */
struct stable {
	uint64_t addr;
	uint8_t state[SPAGES];
	uint64_t pfn[SPAGES];	/* /proc/self/pagemap's; 0 when not shown */
};

struct slot {
	_Atomic int pid;
	_Atomic int exiting;	/* set by the target just before it exits */
	_Atomic uint64_t base;
	_Atomic unsigned long gen;	/* odd while a target publishes itself */
	struct stable stable;
};

struct qstat {
	_Atomic unsigned long queries, esrch, mid_esrch, errors, bytes;
	_Atomic unsigned long alive;	/* progress, for the hang check */
	/* stable tails: answers compared, pages, pfns, pages that disagreed */
	_Atomic unsigned long st_answers, st_pages, st_pfns, st_bad;
};

struct shared {
	_Atomic int stop;
	_Atomic int msgs;		/* error lines printed */
	struct slot slot[NT];
	struct qstat q[NQ];
	_Atomic unsigned long spawned, target_ops, forks;
	/* targets that published a stable tail, failed to set one up */
	_Atomic unsigned long published, setup_fail;
	/* targets' children reaped, and how many of them ended badly */
	_Atomic unsigned long children, children_bad;
};

static struct shared *sh;
static int fd_file = -1;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
	char line[700];
	va_list ap;

	if (atomic_fetch_add(&sh->msgs, 1) >= 15)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("# %s\n", line);
	fflush(stdout);
}

/* How a process ended, for a diagnostic. */
static const char *how(int st, char *buf, size_t n)
{
	if (WIFEXITED(st))
		snprintf(buf, n, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, n, "killed by signal %d (%s)%s", WTERMSIG(st),
			 strsignal(WTERMSIG(st)), WCOREDUMP(st) ? ", core dumped" : "");
	else
		snprintf(buf, n, "wait status 0x%x", st);
	return buf;
}

/* Exit status 0, or killed by the one signal the harness sent (0: none). */
static bool ended_well(int st, int sent)
{
	return (WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
	       (sent && WIFSIGNALED(st) && WTERMSIG(st) == sent);
}

/* waitpid() with a deadline: true when pid was reaped (status in *st). */
static bool reap(pid_t pid, int *st, double secs)
{
	double end = now() + secs;

	for (;;) {
		pid_t r = waitpid(pid, st, WNOHANG);

		if (r == pid)
			return true;
		if (r < 0 || now() > end)
			return false;
		usleep(10000);
	}
}

/* ---- targets ---- */

/* A child of a target (case 8) ended: it writes and exits 0, nothing else. */
static void target_child(int idx, pid_t k, int st)
{
	char b[96];

	atomic_fetch_add(&sh->children, 1);
	if (ended_well(st, 0))
		return;
	atomic_fetch_add(&sh->children_bad, 1);
	report("target %d: its child %d %s", idx, k, how(st, b, sizeof(b)));
}

/*
 * Set up the stable tail at t (inside the reservation, right after the
 * arena) and fill *s from /proc/self/pagemap; 0, or -1 with a report.
 */
static int stable_setup(int idx, char *t, struct stable *s)
{
	char *lk = t, *pn = t + SQ * 4096, *z = t + 2 * SQ * 4096, *rw = t + 3 * SQ * 4096;
	uint64_t pm[SPAGES];
	const char *what;
	int err;

	what = "mmap";
	if (mmap(lk, SQ * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0) == MAP_FAILED ||
	    mmap(pn, SQ * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		 -1, 0) == MAP_FAILED ||
	    mmap(z, SQ * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0) == MAP_FAILED ||
	    mmap(rw, SQ * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0) == MAP_FAILED)
		goto fail;
	/* 4K pages only: no THP fault, khugepaged leaves it alone */
	what = "madvise(MADV_NOHUGEPAGE)";
	if (madvise(t, SPAGES * 4096, MADV_NOHUGEPAGE))
		goto fail;
	memset(lk, 0x5a + idx, SQ * 4096);
	what = "mlock";
	if (mlock(lk, SQ * 4096))
		goto fail;
	for (int i = 0; i < SQ; i++)	/* read faults: the zero page */
		(void)*(volatile char *)(z + i * 4096);

	what = "/proc/self/pagemap";
	err = mt_pagemap(getpid(), (uintptr_t)t, (uintptr_t)t + SPAGES * 4096, pm);
	if (err) {
		errno = -err;
		goto fail;
	}
	s->addr = (uintptr_t)t;
	for (int i = 0; i < SPAGES; i++) {
		bool want = i < SQ || (i >= 2 * SQ && i < 3 * SQ);	/* present in pagemap */
		bool present = pm[i] >> 63 & 1;

		if (present != want || (pm[i] >> 62 & 1)) {
			report("target %d: stable page %d at %p: pagemap 0x%" PRIx64 ", expected %s",
			       idx, i, (void *)(t + i * 4096), pm[i], want ? "present" : "none");
			return -1;
		}
		s->state[i] = i < SQ ? MEMTRACE_PRESENT : !want ? MEMTRACE_NONE : MEMTRACE_ZERO;
		s->pfn[i] = want ? pm[i] & ((1ULL << 55) - 1) : 0;
	}
	return 0;
fail:
	report("target %d: stable tail: %s: %s", idx, what, strerror(errno));
	return -1;
}

static void target(int idx, uint64_t seed)
{
	struct rl_rng r = { seed };
	unsigned char prot[APAGES];	/* 0 none, 1 read, 3 read+write */
	double until = now() + 0.2 + rl_below(&r, 2800) / 1000.0;
	struct slot *sl = &sh->slot[idx];
	struct stable stab = { 0 };
	char *raw, *a;
	unsigned long ops = 0;
	pid_t k;
	int st;

	/* a 2 MiB-aligned arena and its stable tail, reserved PROT_NONE */
	raw = mmap(NULL, SPAN + (2UL << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (raw == MAP_FAILED)
		_exit(2);
	a = (char *)(((uintptr_t)raw + (2UL << 20) - 1) & ~((2UL << 20) - 1));
	memset(prot, 0, sizeof(prot));
	if (stable_setup(idx, a + ARENA, &stab)) {
		stab.addr = 0;
		atomic_fetch_add(&sh->setup_fail, 1);
	} else {
		atomic_fetch_add(&sh->published, 1);
	}
	/*
	 * The slot still names the previous target, marked exiting: publish
	 * the new pid first and clear the mark after, so that an ESRCH of the
	 * old pid is excused at every moment. gen is odd meanwhile: a querier
	 * takes pid, base and stable tail only from an even, unchanged gen.
	 */
	atomic_fetch_add(&sl->gen, 1);
	atomic_thread_fence(memory_order_release);
	sl->stable = stab;
	atomic_store(&sl->base, (uintptr_t)a);
	atomic_store(&sl->pid, getpid());
	atomic_store(&sl->exiting, 0);
	atomic_fetch_add(&sl->gen, 1);

	while (!atomic_load(&sh->stop) && now() < until) {
		unsigned long p = rl_below(&r, APAGES), n = 1 + rl_below(&r, 64);
		char *c;

		if (p + n > APAGES)
			n = APAGES - p;
		c = a + p * 4096;
		ops++;
		switch (rl_below(&r, 12)) {
		case 0:	/* anonymous memory */
		case 1:
			if (mmap(c, n * 4096, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED)
				memset(prot + p, 3, n);
			break;
		case 2:	/* shared anonymous (shmem) or a tmpfs file */
			if (fd_file >= 0 && rl_chance(&r, 50)) {
				if (mmap(c, n * 4096, PROT_READ | PROT_WRITE,
					 (rl_chance(&r, 50) ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED,
					 fd_file, 0) != MAP_FAILED)
					memset(prot + p, 3, n);
			} else if (mmap(c, n * 4096, PROT_READ | PROT_WRITE,
					MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
				memset(prot + p, 3, n);
			}
			break;
		case 3:	/* a THP candidate: 2 MiB aligned */
			p &= ~511UL;
			c = a + p * 4096;
			if (mmap(c, 2UL << 20, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
				madvise(c, 2UL << 20, MADV_HUGEPAGE);
				memset(prot + p, 3, 512);
				c[0] = 1;
			}
			break;
		case 4:	/* unmap */
			if (munmap(c, n * 4096) == 0) {
				/* keep the arena reserved so nothing else lands in it */
				mmap(c, n * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
				     MAP_NORESERVE, -1, 0);
				memset(prot + p, 0, n);
			}
			break;
		case 5: {	/* protection */
			int pr = rl_below(&r, 3);
			int mp = pr == 0 ? PROT_NONE : pr == 1 ? PROT_READ : PROT_READ | PROT_WRITE;
			bool mapped = true;

			for (unsigned long i = 0; i < n; i++)
				mapped &= prot[p + i] != 0;
			if (mapped && mprotect(c, n * 4096, mp) == 0)
				memset(prot + p, pr == 0 ? 0 : pr == 1 ? 1 : 3, n);
			break;
		}
		case 6:
			madvise(c, n * 4096, MADV_DONTNEED);
			break;
		case 7:
			madvise(c, n * 4096, MADV_PAGEOUT);
			break;
		case 8: {	/* a child writes some pages and exits */
			k = fork();
			if (!k) {
				for (unsigned long i = 0; i < APAGES; i += 1 + rl_below(&r, 64))
					if (prot[i] == 3)
						a[i * 4096] = 2;
				usleep(rl_below(&r, 20000));
				_exit(0);
			}
			if (k > 0)
				atomic_fetch_add(&sh->forks, 1);
			break;
		}
		default:	/* touch: write or read */
			for (unsigned long i = 0; i < n; i++) {
				if (prot[p + i] == 3 && rl_chance(&r, 70))
					a[(p + i) * 4096 + rl_below(&r, 4096)] = (char)i;
				else if (prot[p + i])
					(void)*(volatile char *)(a + (p + i) * 4096);
			}
		}
		while ((k = waitpid(-1, &st, WNOHANG)) > 0)
			target_child(idx, k, st);
	}
	while ((k = waitpid(-1, &st, 0)) > 0)
		target_child(idx, k, st);
	atomic_fetch_add(&sh->target_ops, ops);
	atomic_store(&sl->exiting, 1);
	_exit(0);
}

/* ---- queriers ---- */

/* The target of an ESRCH must be gone or going. */
static bool esrch_ok(int idx, int pid)
{
	return atomic_load(&sh->slot[idx].pid) != pid || atomic_load(&sh->slot[idx].exiting) ||
	       atomic_load(&sh->stop);
}

/* One answer's comparison with a target's stable tail (an on_record hook). */
struct stable_cmp {
	const struct stable *st;
	unsigned long pages, pfns, bad;
	char first[160];	/* the first disagreement */
};

static void stable_rec(void *arg, uint64_t addr, uint64_t pages, unsigned int state,
		       uint32_t flags, uint64_t pfn, int64_t node)
{
	struct stable_cmp *k = arg;
	uint64_t s = k->st->addr, e = s + SPAGES * 4096;
	uint64_t from = addr > s ? addr : s, to = addr + pages * 4096;

	(void)node;
	if (to > e)
		to = e;
	for (uint64_t a = from; a < to; a += 4096) {
		unsigned int i = (a - s) / 4096, want = k->st->state[i];
		bool bad = state != want;

		k->pages++;
		if (want == MEMTRACE_PRESENT && (!(flags & MEMTRACE_F_ANON) ||
						 (flags & MEMTRACE_F_SIZE_MASK)))
			bad = true;
		if (want == MEMTRACE_ZERO && (flags & MEMTRACE_F_SIZE_MASK))
			bad = true;
		/* a record's pfn is its first page's */
		if (!bad && a == addr && k->st->pfn[i]) {
			k->pfns++;
			bad = pfn != k->st->pfn[i];
		}
		if (bad && !k->bad++)
			snprintf(k->first, sizeof(k->first),
				 "stable page %u at 0x%" PRIx64 ": %s flags 0x%x pfn 0x%" PRIx64
				 ", expected %s pfn 0x%" PRIx64, i, a, rl_state_names[state], flags,
				 a == addr ? pfn : 0, rl_state_names[want], k->st->pfn[i]);
	}
}

static void querier(int qi, uint64_t seed)
{
	struct rl_rng r = { seed };
	struct qstat *st = &sh->q[qi];
	bool nl = qi & 2;
	int mode = qi & 1;
	struct nlr nls;
	unsigned long bytes = 0;
	int err;

	if (nl && (err = nlr_open(&nls))) {
		report("querier %d: netlink: %s", qi, strerror(-err));
		atomic_fetch_add(&st->errors, 1);
		_exit(1);
	}
	while (!atomic_load(&sh->stop)) {
		int idx = rl_below(&r, NT), pid;
		struct slot *sl = &sh->slot[idx];
		unsigned long gen = atomic_load(&sl->gen);
		uint64_t base, s, e;
		bool whole = false;
		struct rl_check c;
		struct stable stab;
		struct stable_cmp cmp = { .st = &stab };
		unsigned int k = rl_below(&r, 100);

		/* pid, base and stable tail of one target, not of two */
		pid = atomic_load(&sl->pid);
		base = atomic_load(&sl->base);
		stab = sl->stable;
		atomic_thread_fence(memory_order_acquire);
		if ((gen & 1) || atomic_load(&sl->gen) != gen || !pid || !base) {
			usleep(1000);
			continue;
		}
		s = base;
		e = base + SPAN;
		if (k < 15 && (!mode || k < 3)) {
			whole = true;
		} else if (k < 45) {
			s = base + rl_below(&r, APAGES + SPAGES) * 4096;
			e = s + (1 + rl_below(&r, 1024)) * 4096;
			if (e > base + SPAN)
				e = base + SPAN;
		}
		if (whole)
			s = e = 0;
		rl_check_init(&c, pid, s, e, mode, true);
		if (stab.addr) {
			c.on_record = stable_rec;
			c.arg = &cmp;
		}
		if (nl)
			err = rl_nl_query(&nls, &c, pid, s, e, !whole,
					  mode | (rl_chance(&r, 50) ? RL_PACKED |
						  (rl_chance(&r, 50) ? RL_INDEXED : 0) : 0), NULL);
		else
			err = rl_proc_query(&c, pid, s, e, whole, mode, &r, &bytes);
		atomic_fetch_add(&st->queries, 1);
		atomic_fetch_add(&st->alive, 1);
		/* a complete answer about the target the tail was published by */
		if (!err && cmp.pages && atomic_load(&sl->gen) == gen) {
			atomic_fetch_add(&st->st_answers, 1);
			atomic_fetch_add(&st->st_pages, cmp.pages);
			atomic_fetch_add(&st->st_pfns, cmp.pfns);
			if (cmp.bad) {
				atomic_fetch_add(&st->st_bad, cmp.bad);
				report("querier %d (%s %s%s): pid %d: %lu of %lu stable pages wrong; %s",
				       qi, nl ? "netlink" : "proc", mode ? "pages" : "runs",
				       whole ? " all" : "", pid, cmp.bad, cmp.pages, cmp.first);
			}
		}
		if (err == -ESRCH) {
			atomic_fetch_add(&st->esrch, 1);
			if (c.records)	/* after part of the answer: the target left mid-query */
				atomic_fetch_add(&st->mid_esrch, 1);
			if (!esrch_ok(idx, pid)) {
				char path[64], stat[256] = "?";
				unsigned int pflags = 0;
				const char *st_end;
				char pstate = '?';
				bool gone;
				FILE *f;

				snprintf(path, sizeof(path), "/proc/%d/stat", pid);
				f = fopen(path, "r");
				gone = !f || !fgets(stat, sizeof(stat), f);
				if (f)
					fclose(f);
				/*
				 * A target killed by a signal never marks itself
				 * exiting: gone (no stat to open or read), a
				 * zombie or on its way out (PF_EXITING, 0x4 in
				 * stat's flags), its ESRCH is right (its death is
				 * judged when the harness reaps it).
				 */
				st_end = gone ? NULL : strrchr(stat, ')');
				if (st_end)
					sscanf(st_end + 1, " %c %*d %*d %*d %*d %*d %u", &pstate, &pflags);
				if (gone || pstate == 'Z' || pstate == 'X' || (pflags & 0x4))
					continue;
				atomic_fetch_add(&st->errors, 1);
				report("querier %d (%s %s): ESRCH for pid %d, which is alive (after %lu "
				       "records; stat: %.60s)", qi, nl ? "netlink" : "proc",
				       mode ? "pages" : "runs", pid, c.records, stat);
			}
			continue;
		}
		if (err) {
			atomic_fetch_add(&st->errors, 1);
			report("querier %d (%s %s): pid %d [0x%" PRIx64 ", 0x%" PRIx64 ")%s: %s%s%s", qi,
			       nl ? "netlink" : "proc", mode ? "pages" : "runs", pid, s, e,
			       whole ? " all" : "", strerror(-err), c.err[0] ? ": " : "", c.err);
			if (nl && err == -EBADMSG) {
				/* out of step: a fresh socket */
				nlr_close(&nls);
				if (nlr_open(&nls))
					_exit(1);
			}
		}
	}
	atomic_fetch_add(&st->bytes, bytes);
	if (nl)
		nlr_close(&nls);
	_exit(0);
}

/* ---- the harness ---- */

static unsigned long deaths;	/* processes that ended badly */

static void died(const char *who, int i, pid_t pid, int st)
{
	char b[96];

	deaths++;
	if (deaths <= 10)
		printf("# %s %d (pid %d) %s\n", who, i, pid, how(st, b, sizeof(b)));
}

static pid_t spawn_target(int i, uint64_t seed)
{
	pid_t p = fork();

	if (!p)
		target(i, seed);
	if (p < 0) {
		deaths++;
		printf("# target %d: fork: %s\n", i, strerror(errno));
		return 0;
	}
	return p;
}

/* vm.compact_unevictable_allowed: 0 while we run (mlocked pfns stay put) */
static char cua_old[16];

static void cua_set(const char *v)
{
	int fd = open("/proc/sys/vm/compact_unevictable_allowed", O_RDWR);
	ssize_t n;

	if (fd < 0)
		return;
	if (!cua_old[0]) {
		n = read(fd, cua_old, sizeof(cua_old) - 1);
		cua_old[n > 0 ? n : 0] = '\0';
	}
	if (v && v[0] && pwrite(fd, v, strlen(v), 0) < 0)
		printf("# compact_unevictable_allowed: %s\n", strerror(errno));
	close(fd);
}

int main(void)
{
	long long dur = rl_knob("mt_stress", 60);
	uint64_t seed = rl_knob("mt_seed", 0);
	pid_t tp[NT], qp[NQ];
	unsigned long q = 0, esrch = 0, mid = 0, errors = 0, bytes = 0, last_alive = 0;
	unsigned long st_answers = 0, st_pages = 0, st_pfns = 0, st_bad = 0, reaped = 0;
	int qreaped = 0;
	double t0, stalled_since, gap = 0, stop_deadline;
	bool hung = false;
	int st;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (rl_quick()) {
		dur /= 6;
		if (dur < 10)
			dur = 10;
	}
	if (!seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	printf("# seed %" PRIu64 ", %lld s, %d targets, %d queriers\n", seed, dur, NT, NQ);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(sh, 0, sizeof(*sh));
	{
		char path[] = "/tmp/rel-stress.XXXXXX";

		fd_file = mkstemp(path);
		if (fd_file >= 0) {
			unlink(path);
			if (ftruncate(fd_file, 64 * 4096)) {
				close(fd_file);
				fd_file = -1;
			}
		}
	}
	cua_set("0");
	for (int i = 0; i < NT; i++)
		tp[i] = spawn_target(i, seed + 1000 * i);
	for (int i = 0; i < NQ; i++) {
		qp[i] = fork();
		if (!qp[i])
			querier(i, seed + 77 * i + 5);
		if (qp[i] < 0) {
			deaths++;
			printf("# querier %d: fork: %s\n", i, strerror(errno));
			qp[i] = 0;
		}
	}
	t0 = now();
	stalled_since = t0;
	while (now() - t0 < dur) {
		pid_t d = waitpid(-1, &st, WNOHANG);
		unsigned long alive = 0;

		for (int i = 0; i < NQ; i++)
			alive += atomic_load(&sh->q[i].alive);
		if (alive != last_alive) {
			last_alive = alive;
			stalled_since = now();
		} else {
			if (now() - stalled_since > gap)
				gap = now() - stalled_since;
			if (gap > HANG_S) {
				printf("# stress: no query finished for %d s (a hang)\n", HANG_S);
				hung = true;
				break;
			}
		}
		if (d <= 0) {
			usleep(20000);
			continue;
		}
		for (int i = 0; i < NT; i++) {
			if (d != tp[i])
				continue;
			/* it ends on its own, with status 0; a new target takes the slot */
			reaped++;
			if (!ended_well(st, 0))
				died("target", i, d, st);
			atomic_fetch_add(&sh->spawned, 1);
			tp[i] = spawn_target(i, seed + 1000 * i + atomic_load(&sh->spawned));
		}
		for (int i = 0; i < NQ; i++)
			if (d == qp[i]) {	/* a querier ends only after the stop */
				died("querier", i, d, st);
				qp[i] = 0;
				qreaped++;
			}
	}
	atomic_store(&sh->stop, 1);
	/* the queriers finish their last query and exit 0 */
	stop_deadline = now() + (hung ? 5 : STOP_S);
	for (int i = 0; i < NQ; i++) {
		int sent = 0;

		if (!qp[i])
			continue;
		if (!reap(qp[i], &st, stop_deadline - now())) {
			if (!hung)
				printf("# stress: querier %d still running %d s after the stop (a hang)\n",
				       i, STOP_S);
			hung = true;
			kill(qp[i], SIGKILL);
			sent = SIGKILL;
			if (!reap(qp[i], &st, 10)) {
				deaths++;
				printf("# querier %d (pid %d) survives SIGKILL\n", i, qp[i]);
				continue;
			}
		}
		qreaped++;
		if (!ended_well(st, sent))
			died("querier", i, qp[i], st);
	}
	for (int i = 0; i < NT; i++) {
		if (!tp[i])
			continue;
		kill(tp[i], SIGKILL);
		if (!reap(tp[i], &st, 10)) {
			deaths++;
			printf("# target %d (pid %d) survives SIGKILL\n", i, tp[i]);
			continue;
		}
		reaped++;
		if (!ended_well(st, SIGKILL))
			died("target", i, tp[i], st);
	}
	if (cua_old[0])
		cua_set(cua_old);
	for (int i = 0; i < NQ; i++) {
		q += sh->q[i].queries;
		esrch += sh->q[i].esrch;
		mid += sh->q[i].mid_esrch;
		errors += sh->q[i].errors;
		bytes += sh->q[i].bytes;
		st_answers += sh->q[i].st_answers;
		st_pages += sh->q[i].st_pages;
		st_pfns += sh->q[i].st_pfns;
		st_bad += sh->q[i].st_bad;
		printf("# querier %d (%s, %s): %lu queries, %lu ESRCH (%lu mid-answer), %lu errors, "
		       "%lu stable pages compared\n",
		       i, i & 2 ? "netlink" : "proc", i & 1 ? "pages" : "runs",
		       (unsigned long)sh->q[i].queries, (unsigned long)sh->q[i].esrch,
		       (unsigned long)sh->q[i].mid_esrch, (unsigned long)sh->q[i].errors,
		       (unsigned long)sh->q[i].st_pages);
	}
	printf("# targets: %lu spawned after the first %d, %lu operations, %lu forks; %lu bytes of /proc text\n",
	       (unsigned long)sh->spawned, NT, (unsigned long)sh->target_ops,
	       (unsigned long)sh->forks, bytes);
	printf("# stress: %.0f s, %lu queries, %lu ESRCH, %lu errors\n", now() - t0, q, esrch, errors);
	tap_ok(q >= NQ, "stress: %d queriers (proc and netlink, runs and pages) answered %lu queries",
	       NQ, q);
	printf("# stress: %lu ESRCH came after part of an answer had been delivered\n", mid);
	tap_ok(esrch > 0, "stress: queries met targets that exited (%lu ESRCH, %lu of them mid-answer)",
	       esrch, mid);
	tap_ok(errors == 0, "stress: every answer well-formed, every error a clean ESRCH of an exited "
	       "target (%lu errors)", errors);
	tap_ok(!hung, "stress: no hang (longest wait for a query: %.0f s, limit %d s; queriers "
	       "done within %d s of the stop)", gap, HANG_S, STOP_S);
	tap_ok(!deaths && !sh->children_bad,
	       "stress: every process ended as expected (%lu targets, %lu of their children, %d "
	       "queriers reaped; %lu ended badly, %lu children)", reaped,
	       (unsigned long)sh->children, qreaped, deaths, (unsigned long)sh->children_bad);
	tap_ok(!st_bad && !sh->setup_fail && st_pages && (st_pfns || geteuid()),
	       "stress: answers agree with the targets' stable tails (%lu targets published, %lu "
	       "failed to; %lu answers, %lu pages and %lu pfns compared, %lu wrong)",
	       (unsigned long)sh->published, (unsigned long)sh->setup_fail, st_answers, st_pages,
	       st_pfns, st_bad);
	return tap_done();
}
