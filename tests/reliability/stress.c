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
 * garbled answer or a hang.
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

#include "../kmod/tap.h"
#include "rlib.h"

#define NT 4			/* targets */
#define NQ 8			/* queriers */
#define ARENA (8UL << 20)
#define APAGES (ARENA / 4096)

struct slot {
	_Atomic int pid;
	_Atomic int exiting;	/* set by the target just before it exits */
	_Atomic uint64_t base;
	_Atomic unsigned long gen;
};

struct qstat {
	_Atomic unsigned long queries, esrch, mid_esrch, errors, bytes;
	_Atomic unsigned long alive;	/* progress, for the hang check */
};

struct shared {
	_Atomic int stop;
	_Atomic int msgs;		/* error lines printed */
	struct slot slot[NT];
	struct qstat q[NQ];
	_Atomic unsigned long spawned, target_ops, forks;
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

/* ---- targets ---- */

static void target(int idx, uint64_t seed)
{
	struct rl_rng r = { seed };
	unsigned char prot[APAGES];	/* 0 none, 1 read, 3 read+write */
	double until = now() + 0.2 + rl_below(&r, 2800) / 1000.0;
	char *raw, *a;
	unsigned long ops = 0;

	/* a 2 MiB-aligned arena, reserved PROT_NONE */
	raw = mmap(NULL, ARENA + (2UL << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (raw == MAP_FAILED)
		_exit(2);
	a = (char *)(((uintptr_t)raw + (2UL << 20) - 1) & ~((2UL << 20) - 1));
	memset(prot, 0, sizeof(prot));
	/*
	 * The slot still names the previous target, marked exiting: publish
	 * the new pid first and clear the mark after, so that an ESRCH of the
	 * old pid is excused at every moment.
	 */
	atomic_store(&sh->slot[idx].base, (uintptr_t)a);
	atomic_store(&sh->slot[idx].pid, getpid());
	atomic_store(&sh->slot[idx].exiting, 0);

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
			pid_t k = fork();

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
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	atomic_fetch_add(&sh->target_ops, ops);
	atomic_store(&sh->slot[idx].exiting, 1);
	_exit(0);
}

/* ---- queriers ---- */

/* The target of an ESRCH must be gone or going. */
static bool esrch_ok(int idx, int pid)
{
	return atomic_load(&sh->slot[idx].pid) != pid || atomic_load(&sh->slot[idx].exiting) ||
	       atomic_load(&sh->stop);
}

static int proc_query(struct rl_check *c, int pid, uint64_t s, uint64_t e, bool whole, int mode,
		      struct rl_rng *r, unsigned long *bytes)
{
	char q[128];
	int fd = open("/proc/memtrace", O_RDWR), n, err;
	size_t b = 0;

	if (fd < 0)
		return -errno;
	if (whole)
		n = snprintf(q, sizeof(q), "%d all %s\n", pid, mode ? "pages" : "runs");
	else
		n = snprintf(q, sizeof(q), "%d 0x%" PRIx64 " 0x%" PRIx64 " %s", pid, s, e,
			     mode ? "pages" : "runs");
	if (write(fd, q, n) != n) {
		err = -errno;
		close(fd);
		return err;
	}
	err = rl_proc_read_all(fd, c, rl_chance(r, 20) ? 1 + rl_below(r, 512) :
				       rl_chance(r, 50) ? 4096 : 65536, &b);
	*bytes += b;
	close(fd);
	return err;
}

static void querier(int qi, uint64_t seed)
{
	struct rl_rng r = { seed };
	struct qstat *st = &sh->q[qi];
	bool nl = qi & 2;
	int mode = qi & 1;
	struct rl_nl nls;
	unsigned long bytes = 0;
	int err;

	if (nl && (err = rl_nl_open(&nls))) {
		report("querier %d: netlink: %s", qi, strerror(-err));
		atomic_fetch_add(&st->errors, 1);
		_exit(1);
	}
	while (!atomic_load(&sh->stop)) {
		int idx = rl_below(&r, NT), pid = atomic_load(&sh->slot[idx].pid);
		uint64_t base = atomic_load(&sh->slot[idx].base), s = base, e = base + ARENA;
		bool whole = false;
		struct rl_check c;
		unsigned int k = rl_below(&r, 100);

		if (!pid || !base) {
			usleep(1000);
			continue;
		}
		if (k < 15 && (!mode || k < 3)) {
			whole = true;
		} else if (k < 45) {
			s = base + rl_below(&r, APAGES) * 4096;
			e = s + (1 + rl_below(&r, 1024)) * 4096;
			if (e > base + ARENA)
				e = base + ARENA;
		}
		if (whole)
			s = e = 0;
		rl_check_init(&c, pid, s, e, mode, true);
		if (nl)
			err = rl_nl_query(&nls, &c, pid, s, e, !whole,
					  mode | (rl_chance(&r, 50) ? RL_PACKED |
						  (rl_chance(&r, 50) ? RL_INDEXED : 0) : 0), NULL);
		else
			err = proc_query(&c, pid, s, e, whole, mode, &r, &bytes);
		atomic_fetch_add(&st->queries, 1);
		atomic_fetch_add(&st->alive, 1);
		if (err == -ESRCH) {
			atomic_fetch_add(&st->esrch, 1);
			if (c.records)	/* after part of the answer: the target left mid-query */
				atomic_fetch_add(&st->mid_esrch, 1);
			if (!esrch_ok(idx, pid)) {
				char path[64], stat[256] = "?";
				const char *st_end;
				FILE *f;

				snprintf(path, sizeof(path), "/proc/%d/stat", pid);
				f = fopen(path, "r");
				if (f && !fgets(stat, sizeof(stat), f))
					stat[0] = '\0';
				if (f)
					fclose(f);
				/*
				 * A target killed by a signal (SIGBUS on a truncated
				 * file, the OOM killer) never marks itself exiting:
				 * gone or a zombie, its ESRCH is right.
				 */
				st_end = strrchr(stat, ')');
				if (!f || (st_end && (st_end[2] == 'Z' || st_end[2] == 'X')))
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
				rl_nl_close(&nls);
				if (rl_nl_open(&nls))
					_exit(1);
			}
		}
	}
	atomic_fetch_add(&st->bytes, bytes);
	if (nl)
		rl_nl_close(&nls);
	_exit(0);
}

int main(void)
{
	long long dur = rl_knob("mt_stress", 60);
	uint64_t seed = rl_knob("mt_seed", 0);
	pid_t tp[NT], qp[NQ];
	unsigned long q = 0, esrch = 0, mid = 0, errors = 0, bytes = 0, last_alive = 0;
	double t0, stalled_since;
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
	for (int i = 0; i < NT; i++) {
		tp[i] = fork();
		if (!tp[i])
			target(i, seed + 1000 * i);
	}
	for (int i = 0; i < NQ; i++) {
		qp[i] = fork();
		if (!qp[i])
			querier(i, seed + 77 * i + 5);
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
		} else if (now() - stalled_since > 60) {
			printf("not ok - stress: no query finished for 60 s (a hang)\n");
			break;
		}
		if (d <= 0) {
			usleep(20000);
			continue;
		}
		for (int i = 0; i < NT; i++) {
			if (d != tp[i])
				continue;
			/* a new target takes the slot */
			atomic_fetch_add(&sh->spawned, 1);
			tp[i] = fork();
			if (!tp[i])
				target(i, seed + 1000 * i + atomic_load(&sh->spawned));
		}
		for (int i = 0; i < NQ; i++)
			if (d == qp[i]) {
				report("querier %d died (status 0x%x)", i, st);
				qp[i] = 0;
				errors++;
			}
	}
	atomic_store(&sh->stop, 1);
	for (int i = 0; i < NQ; i++)
		if (qp[i])
			waitpid(qp[i], &st, 0);
	for (int i = 0; i < NT; i++) {
		kill(tp[i], SIGKILL);
		waitpid(tp[i], &st, 0);
	}
	for (int i = 0; i < NQ; i++) {
		q += sh->q[i].queries;
		esrch += sh->q[i].esrch;
		mid += sh->q[i].mid_esrch;
		errors += sh->q[i].errors;
		bytes += sh->q[i].bytes;
		printf("# querier %d (%s, %s): %lu queries, %lu ESRCH (%lu mid-answer), %lu errors\n",
		       i, i & 2 ? "netlink" : "proc", i & 1 ? "pages" : "runs",
		       (unsigned long)sh->q[i].queries, (unsigned long)sh->q[i].esrch,
		       (unsigned long)sh->q[i].mid_esrch, (unsigned long)sh->q[i].errors);
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
	return tap_done();
}
