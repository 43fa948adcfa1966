// SPDX-License-Identifier: GPL-2.0
/*
 * patterns FILE: a target for the transport equivalence tests. Sets up the
 * regions of the module's correctness suite (tests/kmod/correctness.c), one
 * per line of FILE as "NAME PID START END" (hex, END exclusive), forks a
 * child that breaks copy-on-write on one page and stops itself, writes
 * "done" last, then stops itself with SIGSTOP. A stopped target does not
 * change, so two transports asked one after the other must answer the same.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pg.h"

#define NP 16
#define HUGE mt_thp_size()

static long ps;
static FILE *out;

static char *map(size_t len, int prot, int flags)
{
	char *p = mmap(NULL, len, prot, flags | (flags & MAP_SHARED ? 0 : MAP_PRIVATE), -1, 0);

	if (p == MAP_FAILED) {
		perror("patterns: mmap");
		exit(2);
	}
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

static void region(const char *name, pid_t pid, const void *p, size_t len)
{
	fprintf(out, "%s %d 0x%lx 0x%lx\n", name, (int)pid, (unsigned long)(uintptr_t)p,
		(unsigned long)(uintptr_t)p + len);
}

/* 2 MiB aligned, MADV_HUGEPAGE */
static char *huge_region(void)
{
	char *raw = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	if (raw == MAP_FAILED) {
		perror("patterns: mmap");
		exit(2);
	}
	p = (char *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
	madvise(p, HUGE, MADV_HUGEPAGE);
	return p;
}

int main(int argc, char **argv)
{
	volatile char sink;
	char path[] = "/tmp/memtrace-patterns-XXXXXX", buf[4096];
	char *p, *cow;
	pid_t me = getpid(), child;
	int fd, st;

	if (argc != 2) {
		fprintf(stderr, "usage: patterns FILE\n");
		return 2;
	}
	ps = sysconf(_SC_PAGESIZE);
	out = fopen(argv[1], "w");
	if (!out) {
		perror(argv[1]);
		return 2;
	}

	p = map(NP * ps, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	region("untouched", me, p, NP * ps);

	p = map(NP * ps, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	memset(p, 1, NP * ps);
	region("written", me, p, NP * ps);

	p = map(NP * ps, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	for (int i = 0; i < NP; i++)
		sink = p[i * ps];
	region("zero-page", me, p, NP * ps);

	p = map(NP * ps, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	for (int i = 0; i < NP; i += 2)
		p[i * ps] = 1;
	region("every-other-page", me, p, NP * ps);

	p = map(NP * ps, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	for (int i = 0; i < NP; i++)
		sink = p[i * ps];
	for (int i = 0; i < NP; i += 2)
		p[i * ps] = 1;
	region("every-other-page-over-zero", me, p, NP * ps);

	p = map(NP * ps, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	memset(p, 1, NP * ps);
	madvise(p, NP * ps / 2, MADV_DONTNEED);
	region("dontneed-half", me, p, NP * ps);

	p = map(NP * ps, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_POPULATE);
	region("map-populate", me, p, NP * ps);

	p = map(NP * ps, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	memset(p, 1, NP * ps);
	mprotect(p, NP * ps, PROT_NONE);
	region("prot-none", me, p, NP * ps);

	/* a private file mapping: half read (page cache), some written (COW) */
	fd = mkstemp(path);
	memset(buf, 'x', sizeof(buf));
	for (int i = 0; i < NP * ps / (long)sizeof(buf); i++)
		if (write(fd, buf, sizeof(buf)) != sizeof(buf))
			return 2;
	p = mmap(NULL, NP * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	for (int i = 0; i < NP / 2; i++)
		sink = p[i * ps];
	for (int i = NP / 2; i < NP; i += 2)
		p[i * ps] = 'y';
	region("file-private", me, p, NP * ps);
	p = mmap(NULL, NP * ps, PROT_READ, MAP_SHARED, fd, 0);
	for (int i = 0; i < NP; i += 3)
		sink = p[i * ps];
	region("file-shared", me, p, NP * ps);
	close(fd);
	unlink(path);

	p = map(NP * ps, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_SHARED);
	memset(p, 1, NP * ps / 2);
	region("shared-anon", me, p, NP * ps);

	/* holes: pages 4-7 and 12 unmapped */
	p = map(NP * ps, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_POPULATE);
	munmap(p + 4 * ps, 4 * ps);
	munmap(p + 12 * ps, ps);
	region("munmap-holes", me, p, NP * ps);

	/* three VMAs over one range */
	p = map(NP * ps, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	memset(p, 1, NP * ps);
	mprotect(p + 4 * ps, 4 * ps, PROT_READ);
	madvise(p + 12 * ps, 4 * ps, MADV_DONTNEED);
	region("three-vmas", me, p, NP * ps);

	/* THP: written (a huge page), and read only (the huge zero page) */
	p = huge_region();
	p[0] = 1;
	region("thp-written", me, p, HUGE);
	p = huge_region();
	sink = p[0];
	region("thp-read", me, p, HUGE);
	(void)sink;

	/* fork + COW: the child writes page 0 of 4 shared pages */
	cow = map(4 * ps, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	memset(cow, 1, 4 * ps);
	region("cow-parent", me, cow, 4 * ps);
	fflush(out);
	child = fork();
	if (child < 0)
		return 2;
	if (!child) {
		cow[0] = 2;
		raise(SIGSTOP);
		for (;;)
			pause();
	}
	if (waitpid(child, &st, WUNTRACED) != child || !WIFSTOPPED(st))
		return 2;
	region("cow-child", child, cow, 4 * ps);
	fprintf(out, "child %d\n", (int)child);
	fprintf(out, "done %d\n", (int)me);
	fclose(out);
	raise(SIGSTOP);
	for (;;)
		pause();
}
