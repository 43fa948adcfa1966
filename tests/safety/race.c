// SPDX-License-Identifier: GPL-2.0
/*
 * safety-race: queries while the kernel rewrites the page tables being walked
 * (kmod issue 14, defects 4 and 5). The verdict is mostly the console's: a
 * use-after-free (KASAN on the debug kernel), a VM_BUG_ON of a page-flag
 * accessor (DEBUG_VM_PGFLAGS) or an oops fails the lane; here every answer
 * must also complete and be well formed, and each part must make progress.
 *
 * 1. Shared hugetlb PMD tables. Two processes map the same 1 GiB of a
 *    hugetlb memfd at 1 GiB-aligned addresses (MAP_SHARED: the kernel shares
 *    the PMD table between them, huge_pmd_share()). In a loop the owner
 *    maps and faults, the sharer faults (and so shares the owner's table),
 *    then the owner truncates the file (unsharing it from the sharer) and
 *    unmaps (freeing it), while queriers walk the sharer's gigabyte. A walk
 *    that holds no lock of the file reads a freed table.
 * 2. Struct pages that are being freed. Targets fault file pages, COW-shared
 *    anonymous pages and read-only anonymous pages (whose class needs the
 *    struct page) and drop them again (MADV_DONTNEED, munmap), as fast as
 *    they can, while queriers walk them in pages and runs mode.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mtlib.h"
#include "rlib.h"
#include "slib.h"
#include "tap.h"

#define GIB (1ULL << 30)
#define HUGE (2ULL << 20)
#define OWNER_AT ((uint64_t)0x4000000000ULL)
#define SHARER_AT ((uint64_t)0x5000000000ULL)
#define CHURN_AT ((uint64_t)0x6000000000ULL)
#define CHURN_PAGES 512

struct shared {
	volatile int stop;		/* queriers stop first... */
	volatile int stop_actors;	/* ...then the targets they query */
	volatile unsigned long gen, acked;	/* owner -> sharer handshake */
	volatile unsigned long cycles[2];
	volatile unsigned long queries[2], bad[2];
	char err[2][192];
};

static struct shared *sh;

static void *map_at(uint64_t at, size_t len, int prot, int flags, int fd)
{
	return mmap((void *)(uintptr_t)at, len, prot, flags | MAP_FIXED_NOREPLACE, fd, 0);
}

/* Walk [start, end) of pid until told to stop; every answer checked. */
static void querier(int part, pid_t pid, uint64_t start, uint64_t end)
{
	struct nlr s;
	bool nl = nlr_open(&s) == 0;
	unsigned long i = 0;

	while (!sh->stop) {
		int mode = i & 1 ? MEMTRACE_MODE_PAGES : MEMTRACE_MODE_RUNS, err;
		struct rl_check c;
		unsigned long msgs;

		if (part == 0)
			mode = MEMTRACE_MODE_RUNS;	/* 262144 pages a gigabyte */
		rl_check_init(&c, pid, start, end, mode, true);
		if (nl && (i & 2))
			err = rl_nl_query(&s, &c, pid, start, end, true,
					  mode | (i & 4 ? RL_PACKED | RL_INDEXED : 0), &msgs);
		else {
			struct mt_answer a;

			err = mt_query(pid, start, end, mode ? "pages" : "runs", &a);
			mt_answer_free(&a);
		}
		sh->queries[part]++;
		if (err && !sh->bad[part]++)
			snprintf(sh->err[part], sizeof(sh->err[part]), "%s query %lu: %s %.100s",
				 nl && (i & 2) ? "netlink" : "/proc", i, strerror(-err), c.err);
		i++;
	}
	_exit(0);
}

/* Part 1: the sharer faults its first huge page whenever the owner asks. */
static void sharer(int fd)
{
	volatile char *p = map_at(SHARER_AT, GIB, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_NORESERVE, fd);

	if (p == MAP_FAILED)
		_exit(3);
	while (!sh->stop_actors) {
		if (sh->acked != sh->gen) {
			p[0] = 1;
			p[HUGE] = 1;
			sh->acked = sh->gen;
		}
	}
	_exit(0);
}

static void owner(int fd)
{
	while (!sh->stop_actors) {
		volatile char *p = map_at(OWNER_AT, GIB, PROT_READ | PROT_WRITE,
					  MAP_SHARED | MAP_NORESERVE, fd);

		if (p == MAP_FAILED || ftruncate(fd, GIB))
			_exit(3);
		p[0] = 1;
		p[HUGE] = 1;
		sh->gen++;
		while (sh->acked != sh->gen && !sh->stop_actors)
			;
		/*
		 * Told to stop before the sharer acked: it may be faulting
		 * its pages right now, and a truncation would SIGBUS it.
		 */
		if (sh->acked != sh->gen)
			break;
		usleep(rand() % 2000);
		if (ftruncate(fd, 0))	/* unshares the sharer's table */
			_exit(4);
		munmap((void *)p, GIB);	/* and frees it */
		sh->cycles[0]++;
	}
	_exit(0);
}

/* Part 2: pages whose class needs the struct page, faulted and dropped. */
static void churner(void)
{
	char path[] = "/tmp/memtrace-race-XXXXXX", buf[4096];
	int fd = mkstemp(path);
	char *f, *ro, *cow;

	/*
	 * The whole mapping's worth of file: with pages larger than buf
	 * (arm64's 16K) a file of CHURN_PAGES * 4K ends inside the mapping,
	 * and the first read past its end is a SIGBUS.
	 */
	memset(buf, 7, sizeof(buf));
	for (size_t i = 0; i < CHURN_PAGES * RL_PAGE / sizeof(buf); i++)
		if (write(fd, buf, sizeof(buf)) != sizeof(buf))
			_exit(3);
	unlink(path);
	cow = map_at(CHURN_AT + 2 * CHURN_PAGES * RL_PAGE, CHURN_PAGES * RL_PAGE,
		     PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	if (cow == MAP_FAILED)
		_exit(3);
	memset(cow, 1, CHURN_PAGES * RL_PAGE);
	if (!fork()) {		/* keeps cow's pages shared until it goes */
		while (!sh->stop_actors)
			usleep(10000);
		_exit(0);
	}
	while (!sh->stop_actors) {
		volatile char sink = 0;

		f = map_at(CHURN_AT, CHURN_PAGES * RL_PAGE, PROT_READ, MAP_SHARED, fd);
		ro = map_at(CHURN_AT + CHURN_PAGES * RL_PAGE, CHURN_PAGES * RL_PAGE,
			    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
		if (f == MAP_FAILED || ro == MAP_FAILED)
			_exit(3);
		for (int i = 0; i < CHURN_PAGES; i++) {
			sink += f[i * RL_PAGE];
			ro[i * RL_PAGE] = 1;
		}
		mprotect(ro, CHURN_PAGES * RL_PAGE, PROT_READ);
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		madvise(f, CHURN_PAGES * RL_PAGE, MADV_DONTNEED);
		madvise(cow, CHURN_PAGES * RL_PAGE / 2, MADV_DONTNEED);
		munmap(f, CHURN_PAGES * RL_PAGE);
		munmap(ro, CHURN_PAGES * RL_PAGE);
		memset(cow, 2, CHURN_PAGES * RL_PAGE / 2);
		sh->cycles[1]++;
		(void)sink;
	}
	_exit(0);
}

static pid_t spawn(void (*fn)(int), int arg)
{
	pid_t p = fork();

	if (!p)
		fn(arg);
	return p;
}

static void churn_(int arg)
{
	(void)arg;
	churner();
}

int main(void)
{
	double secs = rl_knob("mt_race_seconds", rl_quick() ? 8 : 20), t0;
	pid_t actors[3], qs[4];
	int na = 0, nq = 0, fd, hp, i, bad_exit = 0;
	FILE *f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sh = sl_shared(sizeof(*sh));
	f = fopen("/proc/sys/vm/nr_hugepages", "r+");
	hp = f && fscanf(f, "%d", &hp) == 1 ? hp : -1;
	if (f) {
		rewind(f);
		fprintf(f, "%d\n", hp > 8 ? hp : 8);
		fclose(f);
	}
	fd = memfd_create("memtrace-race", MFD_HUGETLB);
	if (fd >= 0 && !ftruncate(fd, GIB)) {
		actors[na++] = spawn(owner, fd);
		actors[na++] = spawn(sharer, fd);
		for (i = 0; i < 2; i++)
			if (!(qs[nq++] = fork()))
				querier(0, actors[1], SHARER_AT, SHARER_AT + GIB);
	}
	actors[na++] = spawn(churn_, 0);
	for (i = 0; i < 2; i++)
		if (!(qs[nq++] = fork()))
			querier(1, actors[na - 1], CHURN_AT,
				CHURN_AT + 3 * CHURN_PAGES * RL_PAGE);
	/* the time asked for, longer (up to 4x) on a slow kernel until 10 cycles */
	t0 = sl_now();
	while (sl_now() - t0 < secs ||
	       ((sh->cycles[1] < 10 || (fd >= 0 && sh->cycles[0] < 10)) &&
		sl_now() - t0 < 4 * secs))
		usleep(100000);
	/* queriers first: a target that exits under a query would be ESRCH */
	sh->stop = 1;
	for (i = 0; i < nq + na; i++) {
		int st;

		if (i == nq)
			sh->stop_actors = 1;
		waitpid(i < nq ? qs[i] : actors[i - nq], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			tap_diag("%s %d ended with status 0x%x", i < nq ? "querier" : "target",
				 i < nq ? i : i - nq, st);
			bad_exit++;
		}
	}
	tap_ok(!bad_exit, "every target and querier ran to the end and exited 0 (%d did not)", bad_exit);
	if (hp >= 0 && (f = fopen("/proc/sys/vm/nr_hugepages", "w"))) {
		fprintf(f, "%d\n", hp);
		fclose(f);
	}

	if (fd < 0) {
		int e = errno;

		tap_skip("shared hugetlb PMD tables", "no hugetlb memfd: %s", strerror(e));
		tap_skip("shared hugetlb PMD tables: progress", "no hugetlb memfd");
	} else {
		tap_ok(sh->bad[0] == 0,
		       "shared hugetlb PMD tables unshared and freed under the walk: every answer complete (%lu queries; %s)",
		       sh->queries[0], sh->bad[0] ? sh->err[0] : "no error");
		tap_ok(sh->cycles[0] >= 3 && sh->queries[0] >= 10,
		       "shared hugetlb PMD tables: progress (%lu share/unshare/free cycles, %lu queries)",
		       sh->cycles[0], sh->queries[0]);
	}
	tap_ok(sh->bad[1] == 0,
	       "pages faulted and freed under the walk: every answer complete (%lu queries; %s)",
	       sh->queries[1], sh->bad[1] ? sh->err[1] : "no error");
	tap_ok(sh->cycles[1] >= 3 && sh->queries[1] >= 10,
	       "pages faulted and freed: progress (%lu cycles, %lu queries)", sh->cycles[1],
	       sh->queries[1]);
	return tap_done();
}
