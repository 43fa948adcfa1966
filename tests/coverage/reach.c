// SPDX-License-Identifier: GPL-2.0
/*
 * cov-reach: the module's paths the lane's other suites do not reach on the
 * debug kernel (issue 15, part 3), each with its answer checked.
 *
 *  - a 1 GiB hugetlb page (leaf.c memtrace_pud_huge(), walk.c
 *    memtrace_pud_range()): untouched, under a uffd-wp marker (a non-present PUD), present, and
 *    PROT_NONE (a leaf pud_present() does not see); needs hugepagesz=1G
 *    hugepages=1 on the kernel command line (suite-coverage.sh's VM);
 *  - a 2 MiB hugetlb page under a uffd-wp marker: a non-present PMD (the
 *    non-present branch of memtrace_pmd_huge());
 *  - a mapping above 128 TiB on a 5-level machine (QEMU -cpu max has LA57):
 *    its PGD entry is none (walk.c memtrace_vma_range());
 *  - a 32-bit task (cov-task32): ranges past its TASK_SIZE are ERANGE, "all"
 *    ends at it (query.c memtrace_query_start());
 *  - a querier killed while it waits for its target's exec_update_lock;
 *  - with one NUMA node online, writable anonymous PTEs and a THP (the
 *    fast paths that read no struct page); on two nodes this is a SKIP
 *    (plain: the lane boots the main VM with two, this VM with one).
 *
 * Each answer is compared with pagemap (pfns included: root) where pagemap
 * can judge it; a uffd-wp marker is "other" here and must be a non-present
 * entry with PM_UFFD_WP in pagemap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>

#include "mtlib.h"
#include "tap.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#define MAP_HUGE_2MB	(21 << MAP_HUGE_SHIFT)
#define MAP_HUGE_1GB	(30 << MAP_HUGE_SHIFT)

#define PG	4096UL
#define SZ_2M	(2UL << 20)
#define SZ_1G	(1UL << 30)

static int self;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The pages of [p, p + len) that have state s and all of want, none of deny. */
static unsigned long count(const struct mt_answer *a, unsigned long n, int s,
			   uint32_t want, uint32_t deny)
{
	unsigned long k = 0;

	for (unsigned long i = 0; i < n; i++)
		k += a->pages[i].state == s && (a->pages[i].flags & want) == want &&
		     !(a->pages[i].flags & deny);
	return k;
}

/* Every page other, and pagemap: not present, uffd-wp. */
static void check_marker(const char *what, char *p, unsigned long len)
{
	unsigned long n = len / PG, k, bad = 0;
	uint64_t *pm = calloc(n, 8);
	struct mt_answer a;
	int err;

	err = mt_query(self, (uintptr_t)p, (uintptr_t)p + len, "runs", &a);
	if (tap_ok(!err, "%s: runs query (%s)", what, strerror(-err))) {
		k = a.pages ? count(&a, n, MEMTRACE_OTHER, 0, 0) : 0;
		tap_ok(k == n && a.records == 1,
		       "%s: one run of %lu pages, other (uffd-wp marker): %lu other, %lu records",
		       what, n, k, a.records);
		mt_answer_free(&a);
	}
	if (!pm || mt_pagemap(self, (uintptr_t)p, (uintptr_t)p + len, pm)) {
		tap_ok(0, "%s: pagemap read", what);
	} else {
		for (unsigned long i = 0; i < n; i++)
			bad += (pm[i] & (PM_PRESENT | PM_UFFD_WP)) != PM_UFFD_WP;
		tap_ok(!bad, "%s: pagemap agrees: not present, uffd-wp (%lu pages differ, first 0x%"
		       PRIx64 ")", what, bad, pm[0]);
	}
	free(pm);
}

/* uffd-wp on an untouched hugetlb range: the kernel puts markers there. */
static int uffd_mark(char *p, unsigned long len, int *fdp)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { (uintptr_t)p, len }, .mode = UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_writeprotect wp = {
		.range = { (uintptr_t)p, len }, .mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	*fdp = fd;
	if (fd < 0)
		return -errno;
	if (ioctl(fd, UFFDIO_API, &api) || ioctl(fd, UFFDIO_REGISTER, &reg) ||
	    ioctl(fd, UFFDIO_WRITEPROTECT, &wp))
		return -errno;
	return 0;
}

/* Markers off (resolve), unregistered, closed. */
static int uffd_unmark(char *p, unsigned long len, int fd)
{
	struct uffdio_writeprotect wp = { .range = { (uintptr_t)p, len }, .mode = 0 };
	struct uffdio_range r = { (uintptr_t)p, len };
	int err = 0;

	if (ioctl(fd, UFFDIO_WRITEPROTECT, &wp) || ioctl(fd, UFFDIO_UNREGISTER, &r))
		err = -errno;
	close(fd);
	return err;
}

static void t_hugetlb_2m_marker(void)
{
	char *p = mmap(NULL, SZ_2M, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
	int fd = -1, err;

	if (p == MAP_FAILED) {
		tap_skip("2M hugetlb marker", "MAP_HUGETLB 2M: %s (nr_hugepages?)", strerror(errno));
		return;
	}
	err = uffd_mark(p, SZ_2M, &fd);
	if (tap_ok(!err, "2M hugetlb: uffd-wp on the untouched page (%s)", strerror(-err)))
		check_marker("2M hugetlb under a uffd-wp marker (non-present PMD)", p, SZ_2M);
	if (fd >= 0)
		uffd_unmark(p, SZ_2M, fd);
	munmap(p, SZ_2M);
}

static void t_hugetlb_1g(void)
{
	const unsigned long win = SZ_2M, off = SZ_1G / 2, n = win / PG;
	char *p = mmap(NULL, SZ_1G, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_1GB, -1, 0);
	struct mt_answer a;
	unsigned long k, bad;
	int fd = -1, err;

	if (p == MAP_FAILED) {
		tap_skip("1G hugetlb page", "MAP_HUGETLB 1G: %s (boot with hugepagesz=1G hugepages=1)",
			 strerror(errno));
		return;
	}
	err = uffd_mark(p, SZ_1G, &fd);
	if (tap_ok(!err, "1G hugetlb: uffd-wp on the untouched page (%s)", strerror(-err)))
		check_marker("1G hugetlb under a uffd-wp marker (non-present PUD)", p, SZ_1G);
	err = fd >= 0 ? uffd_unmark(p, SZ_1G, fd) : 0;
	tap_ok(!err, "1G hugetlb: marker resolved, range unregistered (%s)", strerror(-err));

	p[0] = 1;
	p[SZ_1G - 1] = 2;
	err = mt_query(self, (uintptr_t)p, (uintptr_t)p + SZ_1G, "runs", &a);
	if (tap_ok(!err, "1G hugetlb: runs query of the whole page (%s)", strerror(-err))) {
		k = a.pages ? count(&a, SZ_1G / PG, MEMTRACE_PRESENT,
				    MEMTRACE_F_HUGETLB | MEMTRACE_F_SIZE_1G | MEMTRACE_F_WRITE |
				    MEMTRACE_F_ANON, MEMTRACE_F_SIZE_2M) : 0;
		tap_ok(k == SZ_1G / PG && a.records == 1,
		       "1G hugetlb: one run of 262144 pages, present, 1G, hugetlb, anon, writable "
		       "(%lu such, %lu records)", k, a.records);
		mt_answer_free(&a);
	}
	/* a window in the middle: pages mode, pfns head + i, pagemap */
	err = mt_query(self, (uintptr_t)p + off, (uintptr_t)p + off + win, "pages", &a);
	if (tap_ok(!err, "1G hugetlb: pages query of 2 MiB in the middle (%s)", strerror(-err))) {
		k = count(&a, n, MEMTRACE_PRESENT, MEMTRACE_F_HUGETLB | MEMTRACE_F_SIZE_1G, 0);
		bad = 0;
		for (unsigned long i = 1; i < n; i++)
			bad += a.pages[i].pfn != a.pages[0].pfn + i;
		tap_ok(k == n && !bad && (a.pages[0].pfn & 0x3ffff) == off / PG,
		       "1G hugetlb window: %lu/%lu present 1G hugetlb, pfns step by one (%lu wrong), "
		       "the first 0x%" PRIx64 ": a 1G-aligned head + 0x%lx", k, n, bad,
		       a.pages[0].pfn, off / PG);
		bad = mt_crosscheck(self, &a, true);
		tap_ok(!bad, "1G hugetlb window: %lu pages disagree with pagemap (pfns included)",
		       bad);
		mt_answer_free(&a);
	}
	/* PROT_NONE: pud_present() says no, the leaf is still there */
	err = mprotect(p, SZ_1G, PROT_NONE) ? -errno : 0;
	if (tap_ok(!err, "1G hugetlb: mprotect PROT_NONE (%s)", strerror(-err))) {
		err = mt_query(self, (uintptr_t)p + off, (uintptr_t)p + off + win, "pages", &a);
		k = err ? 0 : count(&a, n, MEMTRACE_PRESENT, MEMTRACE_F_HUGETLB | MEMTRACE_F_SIZE_1G,
				    MEMTRACE_F_WRITE);
		tap_ok(!err && k == n,
		       "1G hugetlb, PROT_NONE: %lu/%lu pages present, 1G, not writable (%s)", k, n,
		       strerror(-err));
		if (!err)
			mt_answer_free(&a);
		mprotect(p, SZ_1G, PROT_READ | PROT_WRITE);
	}
	munmap(p, SZ_1G);
}

static void t_high_pgd(void)
{
	/* above 128 TiB: a PGD entry of its own on a 5-level machine */
	void *hint = (void *)(1UL << 52);
	char *p = mmap(hint, SZ_2M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct mt_answer a;
	unsigned long k;
	int err;

	if (p == MAP_FAILED || (uintptr_t)p < (1UL << 47)) {
		tap_skip("mapping above 128 TiB", "mmap at %p gave %p: no 5-level paging (LA57)",
			 hint, p == MAP_FAILED ? NULL : p);
		if (p != MAP_FAILED)
			munmap(p, SZ_2M);
		return;
	}
	err = mt_query(self, (uintptr_t)p, (uintptr_t)p + SZ_2M, "runs", &a);
	k = err ? 0 : count(&a, SZ_2M / PG, MEMTRACE_NONE, 0, 0);
	tap_ok(!err && k == SZ_2M / PG,
	       "untouched 2 MiB at %p (5-level, its PGD entry none): %lu/%lu pages none (%s)",
	       p, k, SZ_2M / PG, strerror(-err));
	if (!err)
		mt_answer_free(&a);
	p[0] = 1;
	err = mt_query(self, (uintptr_t)p, (uintptr_t)p + PG, "pages", &a);
	tap_ok(!err && a.pages[0].state == MEMTRACE_PRESENT && !mt_crosscheck(self, &a, true),
	       "the same mapping written: its first page present, as pagemap says (%s)",
	       strerror(-err));
	if (!err)
		mt_answer_free(&a);
	munmap(p, SZ_2M);
}

static void t_one_node(void)
{
	const unsigned long len = 4 * SZ_2M;
	char *raw, *p;
	struct mt_answer a;
	unsigned long k, thp;
	int err;

	if (!access("/sys/devices/system/node/node1", F_OK)) {
		printf("ok %d - one-node fast paths # SKIP two NUMA nodes online "
		       "(this VM is booted with one)\n", ++tap_n);
		return;
	}
	raw = mmap(NULL, len + SZ_2M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!tap_ok(raw != MAP_FAILED, "anonymous 8 MiB mapped"))
		return;
	p = (char *)(((uintptr_t)raw + SZ_2M - 1) & ~(SZ_2M - 1));
	madvise(p, SZ_2M, MADV_HUGEPAGE);
	madvise(p + SZ_2M, len - SZ_2M, MADV_NOHUGEPAGE);
	for (unsigned long i = 0; i < len; i += PG)
		p[i] = 1;
	err = mt_query(self, (uintptr_t)p, (uintptr_t)p + len, "pages", &a);
	if (tap_ok(!err, "one node: pages query of a THP and 6 MiB of 4K pages (%s)",
		   strerror(-err))) {
		thp = count(&a, SZ_2M / PG, MEMTRACE_PRESENT,
			    MEMTRACE_F_ANON | MEMTRACE_F_EXCL | MEMTRACE_F_WRITE |
			    MEMTRACE_F_SIZE_2M, 0);
		k = count(&a, len / PG, MEMTRACE_PRESENT,
			  MEMTRACE_F_ANON | MEMTRACE_F_EXCL | MEMTRACE_F_WRITE, 0);
		tap_ok(thp == SZ_2M / PG && k == len / PG,
		       "one node: %lu/%lu pages present anon excl writable, %lu/512 of them 2M",
		       k, len / PG, thp);
		k = mt_crosscheck(self, &a, true);
		tap_ok(!k, "one node: %lu pages disagree with pagemap (pfns included)", k);
		mt_answer_free(&a);
	}
	munmap(raw, len + SZ_2M);
}

/*
 * A 32-bit task (cov-task32, next to this program): its TASK_SIZE (4 GiB less
 * a page on x86-64) is below the 64-bit one, so a range past it that a
 * 64-bit task could ask for is ERANGE, and "all" ends there.
 */
static void t_compat_task(void)
{
	char path[4200], q[64], *text = NULL;
	uint64_t end = 0;
	struct mt_answer a;
	int pfd[2], fd, err, n;
	size_t len = 0;
	pid_t pid;
	char c;

	n = readlink("/proc/self/exe", path, sizeof(path) - 16);
	if (n < 0 || pipe(pfd))
		return (void)tap_ok(0, "32-bit task: set-up (%s)", strerror(errno));
	path[n] = '\0';
	strcpy(strrchr(path, '/') + 1, "cov-task32");
	pid = fork();
	if (!pid) {
		dup2(pfd[1], 1);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	n = read(pfd[0], &c, 1);
	close(pfd[0]);
	if (n != 1) {
		/* ENOEXEC: a kernel without IA32 emulation (CONFIG_IA32_EMULATION) */
		waitpid(pid, &n, 0);
		tap_skip("32-bit task", "%s did not start (exit %d): no IA32 emulation?", path,
			 WIFEXITED(n) ? WEXITSTATUS(n) : -1);
		return;
	}
	err = mt_query(pid, 0xffffe000, 1ULL << 32, "runs", &a);
	tap_ok(err == -ERANGE, "32-bit task: its last 4 KiB below 4 GiB, past its TASK_SIZE: "
	       "ERANGE (%s)", strerror(-err));
	if (!err)
		mt_answer_free(&a);
	err = mt_query(pid, 0x1000, 1ULL << 33, "runs", &a);
	tap_ok(err == -ERANGE, "32-bit task: [4 KiB, 8 GiB), end past its TASK_SIZE: ERANGE (%s)",
	       strerror(-err));
	if (!err)
		mt_answer_free(&a);
	/* "all": from 0 to its TASK_SIZE, its program's pages among them */
	fd = open("/proc/memtrace", O_RDWR);
	n = snprintf(q, sizeof(q), "%d all runs\n", pid);
	err = fd < 0 || write(fd, q, n) != n ? -errno : 0;
	if (!err) {
		text = calloc(1, 1 << 20);
		while (text && len < (1 << 20) - 1 &&
		       (n = read(fd, text + len, (1 << 20) - 1 - len)) > 0)
			len += n;
		if (!text || sscanf(text, "# memtrace pid=%*d start=0x0 end=0x%" SCNx64, &end) != 1)
			err = -EBADMSG;
	}
	tap_ok(!err && end == 0xffffe000 && strstr(text, "\tpresent\t"),
	       "32-bit task: \"all\" ends at its TASK_SIZE (end 0x%" PRIx64 ", %s), a present page "
	       "in it", end, strerror(-err));
	free(text);
	if (fd >= 0)
		close(fd);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * A querier killed while it waits for its target's exec_update_lock
 * (memtrace_target_get()): the target execs with a large old mm, whose
 * teardown (exec_mmap() -> mmput() -> exit_mmap()) runs with that lock held
 * for write; a querier asking meanwhile sleeps in down_read_killable(), and
 * SIGKILL must end it there (a task stuck in that wait would be unkillable).
 * Five rounds kill it at different moments of the teardown; each querier
 * must be gone within 10 s and the target's exec must complete.
 */
static void t_killed_waiting(void)
{
	static const unsigned int delay_ms[] = { 5, 20, 50, 100, 200 };
	const unsigned long len = 256UL << 20;

	for (unsigned int r = 0; r < sizeof(delay_ms) / sizeof(delay_ms[0]); r++) {
		int ready[2], go[2], st = 0, qst = 0;
		pid_t t, q;
		double t0;
		char c = 0;

		if (pipe(ready) || pipe(go))
			return (void)tap_ok(0, "killed waiting: pipes (%s)", strerror(errno));
		t = fork();
		if (!t) {
			char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (m == MAP_FAILED)
				_exit(3);
			madvise(m, len, MADV_NOHUGEPAGE);	/* 65536 frames to free */
			for (unsigned long i = 0; i < len; i += PG)
				m[i] = 1;
			if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
				_exit(4);
			execl("/bin/sh", "sh", "-c", "exit 0", (char *)NULL);
			_exit(5);
		}
		close(ready[1]);
		close(go[0]);
		if (read(ready[0], &c, 1) != 1) {
			tap_ok(0, "killed waiting, round %u: the target did not get ready", r + 1);
			close(ready[0]);
			close(go[1]);
			waitpid(t, NULL, 0);
			continue;
		}
		q = fork();
		if (!q) {
			struct mt_answer a;

			for (;;)
				if (!mt_query(t, 0x400000, 0x401000, "runs", &a))
					mt_answer_free(&a);
		}
		usleep(100000);		/* the querier is asking */
		if (write(go[1], &c, 1) != 1)
			tap_diag("round %u: go: %s", r + 1, strerror(errno));
		usleep(delay_ms[r] * 1000);
		kill(q, SIGKILL);
		t0 = now();
		while (waitpid(q, &qst, WNOHANG) == 0 && now() - t0 < 10)
			usleep(10000);
		waitpid(t, &st, 0);
		tap_ok(WIFSIGNALED(qst) && WTERMSIG(qst) == SIGKILL && now() - t0 < 10 &&
		       WIFEXITED(st) && WEXITSTATUS(st) == 0,
		       "killed waiting, round %u: the querier, killed %u ms into its target's "
		       "exec, ended in %.2f s; the exec completed (status 0x%x)", r + 1,
		       delay_ms[r], now() - t0, st);
		if (now() - t0 >= 10)
			kill(q, SIGKILL), waitpid(q, NULL, 0);
		close(ready[0]);
		close(go[1]);
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	self = getpid();
	t_one_node();
	t_hugetlb_2m_marker();
	t_hugetlb_1g();
	t_high_pgd();
	t_compat_task();
	t_killed_waiting();
	return tap_done();
}
