// SPDX-License-Identifier: GPL-2.0
/*
 * A target process for the client tests: maps 8 anonymous pages, writes
 * pages 0-3, leaves 4-7 untouched; maps a file with an awkward name
 * (quotes, backslash, a control character, spaces) and deletes it, so that
 * /proc/PID/maps shows it with " (deleted)"; maps each further argument, a
 * file it creates (names for the completion tests). Prints the anonymous
 * region's address, then sleeps until killed. Stages, for the snapshot
 * tests: SIGUSR1 writes pages 4-7, SIGUSR2 drops pages 0-1 (MADV_DONTNEED);
 * each prints "stage N" when done.
 *   target [DIR [FILE...]]
 *
 * target --stages [PAGES]: the demo's stages, one a line read from stdin,
 * for a watcher to see (memtrace watch). Prints the address of a free range
 * of PAGES pages (default 16), a free page on each side, then for each line
 * "mmap" (anonymous, MADV_NOHUGEPAGE, at that address), "read" (every
 * page), "pattern" (writes the even pages), "write" (every page),
 * "dontneed", "munmap" or "exit", does it and prints "ok LINE" ("failed
 * LINE" if it could not); at the end of stdin, exits.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Create PATH one page long and map it; unlink it if asked. */
static void map_file(const char *path, long ps, int unlink_it)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd >= 0 && ftruncate(fd, ps) == 0) {
		char *f = mmap(NULL, ps, PROT_READ, MAP_SHARED, fd, 0);

		if (f != MAP_FAILED)
			(void)*(volatile char *)f;
		if (unlink_it)
			unlink(path);
	}
	if (fd >= 0)
		close(fd);
}

/* What a stage does to the region p of n pages of ps bytes; -1 unknown. */
static int stage(const char *cmd, char **p, long n, long ps)
{
	volatile char sum = 0;

	if (!strcmp(cmd, "mmap")) {
		char *m = mmap(*p, n * ps, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		return m != *p ? -1 : madvise(*p, n * ps, MADV_NOHUGEPAGE);
	}
	for (long i = 0; i < n; i++) {
		if (!strcmp(cmd, "read"))
			sum += ((volatile char *)*p)[i * ps];
		else if (!strcmp(cmd, "write") || (!strcmp(cmd, "pattern") && !(i % 2)))
			(*p)[i * ps] = 1;
	}
	if (!strcmp(cmd, "dontneed"))
		return madvise(*p, n * ps, MADV_DONTNEED);
	if (!strcmp(cmd, "munmap"))
		return munmap(*p, n * ps);
	return strcmp(cmd, "read") && strcmp(cmd, "write") && strcmp(cmd, "pattern") ? -1 : 0;
}

static int stages(long n, long ps)
{
	char *p = mmap(NULL, (n + 2) * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char line[64];

	/* a free page on each side: the region never merges with a neighbour */
	if (p == MAP_FAILED || munmap(p, (n + 2) * ps))
		return 1;
	p += ps;
	printf("%p\n", (void *)p);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "exit"))
			break;
		printf("%s %s\n", stage(line, &p, n, ps) ? "failed" : "ok", line);
		fflush(stdout);
	}
	return 0;
}

static volatile sig_atomic_t stage_sig;

static void on_signal(int sig)
{
	stage_sig = sig;
}

int main(int argc, char **argv)
{
	sigset_t set, old;
	int stage = 0;
	long ps = sysconf(_SC_PAGESIZE);
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	char path[4096];
	char *p;

	if (argc > 1 && !strcmp(argv[1], "--stages"))
		return stages(argc > 2 ? atol(argv[2]) : 16, ps);
	p = mmap(NULL, 8 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	madvise(p, 8 * ps, MADV_NOHUGEPAGE);
	memset(p, 0x11, 4 * ps);
	snprintf(path, sizeof(path), "%s/we\"ird\\na\001me x", dir);
	map_file(path, ps, 1);
	for (int i = 2; i < argc; i++)
		map_file(argv[i], ps, 0);
	/* blocked but in sigsuspend: a signal sent as a stage ends is not lost */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, &old);
	signal(SIGUSR1, on_signal);
	signal(SIGUSR2, on_signal);
	printf("%p\n", (void *)p);
	fflush(stdout);
	for (;;) {
		sigsuspend(&old);
		if (stage_sig == SIGUSR1)
			memset(p + 4 * ps, 0x22, 4 * ps);
		else if (stage_sig == SIGUSR2)
			madvise(p, 2 * ps, MADV_DONTNEED);
		else
			continue;
		stage_sig = 0;
		printf("stage %d\n", ++stage);
		fflush(stdout);
	}
}
