// SPDX-License-Identifier: GPL-2.0
/*
 * safety-recv: the target, a process with a seeded layout of anonymous, file
 * and shared pieces, holes and protections, that holds still.
 */
#include "recv.h"

/* ---- the target ---- */

static void target_die(int wfd, const char *what)
{
	struct target_info ti = { .err = errno ? errno : EIO };

	fprintf(stderr, "safety-recv target: %s: %s\n", what, strerror(ti.err));
	if (write(wfd, &ti, sizeof(ti)) < 0)
		_exit(2);
	_exit(2);
}

static volatile char sink;

/* prot of each page of the span: 0 no access, 1 read, 2 read/write */
static unsigned char prot[NPAGES];

static void touch(char *p, int how)
{
	if (how == 1)
		sink = *p;
	else if (how == 2)
		*p = 1;
}

/*
 * Lay out [lo, hi) of the span at base in pieces of 1..CHUNK_MAX pages, most
 * followed by a hole of 1-3 pages (each gap ends a page vector): private
 * anon (untouched, read, written, dropped), private anon made read-only or
 * PROT_NONE after writing, private and shared file maps, shared anon. Every
 * new VMA is MADV_NOHUGEPAGE (nothing may collapse).
 */
static void layout(struct rl_rng *r, char *base, size_t lo, size_t hi, int fd, int wfd)
{
	size_t i = lo;

	while (i < hi) {
		size_t n = 1 + rl_below(r, CHUNK_MAX), off;
		char *p = base + i * PS, *m;
		int kind = 1 + (int)rl_below(r, 7);

		if (n > hi - i)
			n = hi - i;
		switch (kind) {
		case 1:		/* private anon, page by page */
		case 2:
			memset(prot + i, 2, n);
			for (size_t j = 0; j < n; j++) {
				unsigned int how = rl_below(r, 4);

				touch(p + j * PS, how < 3 ? (int)how : 2);
				if (how == 3)
					madvise(p + j * PS, PS, MADV_DONTNEED);
			}
			break;
		case 3:		/* written, then read-only or no access */
			for (size_t j = 0; j < n; j++)
				if (rl_chance(r, 70))
					p[j * PS] = 1;
			if (rl_chance(r, 75)) {
				mprotect(p, n * PS, PROT_READ);
				memset(prot + i, 1, n);
			} else {
				mprotect(p, n * PS, PROT_NONE);
				memset(prot + i, 0, n);
			}
			break;
		case 4:		/* private file map: page cache, COW copies */
		case 5:		/* shared file map, read only (never dirty) */
			off = rl_below(r, FILE_PAGES - n + 1);
			m = mmap(p, n * PS, kind == 4 ? PROT_READ | PROT_WRITE : PROT_READ,
				 (kind == 4 ? MAP_PRIVATE : MAP_SHARED) | MAP_FIXED, fd, off * PS);
			if (m != p)
				target_die(wfd, "mmap file");
			madvise(p, n * PS, MADV_NOHUGEPAGE);
			memset(prot + i, kind == 4 ? 2 : 1, n);
			for (size_t j = 0; j < n; j++)
				touch(p + j * PS, (int)rl_below(r, kind == 4 ? 3 : 2));
			break;
		case 6:		/* shared anon (shmem) */
			m = mmap(p, n * PS, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			if (m != p)
				target_die(wfd, "mmap shared");
			madvise(p, n * PS, MADV_NOHUGEPAGE);
			memset(prot + i, 2, n);
			for (size_t j = 0; j < n; j++)
				touch(p + j * PS, (int)rl_below(r, 3));
			break;
		default:	/* private anon, all written (runs) */
			memset(prot + i, 2, n);
			for (size_t j = 0; j < n; j++)
				p[j * PS] = 1;
			break;
		}
		i += n;
		if (i < hi && rl_chance(r, HOLE_PCT)) {
			n = 1 + rl_below(r, 3);
			if (n > hi - i)
				n = hi - i;
			if (munmap(base + i * PS, n * PS))
				target_die(wfd, "munmap");
			memset(prot + i, 0, n);
			i += n;
		}
	}
}

/*
 * The target: builds its span, forks a child that shares its first half
 * copy-on-write (and breaks some of it), builds the second half, writes
 * some first-half pages (breaking COW on its side), clears the young bits
 * of everything and reads some pages again, reports, and stops.
 */
static void target_main(int wfd)
{
	struct rl_rng r = { 0x5afe5ec7 };
	struct target_info ti = { 0 };
	char path[] = "/tmp/safety-recv-XXXXXX", buf[65536];	/* a page: PS at most 64K */
	char *base;
	int fd, st, cfd;
	pid_t child;

	prctl(PR_SET_DUMPABLE, 1);
	signal(SIGPIPE, SIG_IGN);
	fd = mkstemp(path);
	if (fd < 0)
		target_die(wfd, "mkstemp");
	for (int i = 0; i < FILE_PAGES; i++) {
		memset(buf, 'a' + i % 26, PS);
		if (write(fd, buf, PS) != (ssize_t)PS)
			target_die(wfd, "write");
	}
	unlink(path);
	base = mmap(NULL, NPAGES * PS, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		target_die(wfd, "mmap");
	madvise(base, NPAGES * PS, MADV_NOHUGEPAGE);
	layout(&r, base, 0, NPAGES / 2, fd, wfd);

	child = fork();
	if (child < 0)
		target_die(wfd, "fork");
	if (!child) {
		/* break COW on some pages: the parent's copies go back to one mapping */
		for (size_t i = 0; i < NPAGES / 2; i++)
			if (prot[i] == 2 && rl_chance(&r, 15))
				base[i * PS] = 3;
		raise(SIGSTOP);
		for (;;)
			pause();
	}
	if (waitpid(child, &st, WUNTRACED) != child || !WIFSTOPPED(st))
		target_die(wfd, "waitpid (child)");
	r.s ^= 0x1234;	/* the child drew from the same stream */
	layout(&r, base, NPAGES / 2, NPAGES, fd, wfd);
	for (size_t i = 0; i < NPAGES / 2; i++)
		if (prot[i] == 2 && rl_chance(&r, 20))
			base[i * PS] = 4;
	/* old pages lose their young bits, some get them back */
	cfd = open("/proc/self/clear_refs", O_WRONLY);
	if (cfd < 0 || write(cfd, "1", 1) != 1)
		target_die(wfd, "clear_refs");
	close(cfd);
	for (size_t i = 0; i < NPAGES; i++)
		if (prot[i] && rl_chance(&r, 30))
			touch(base + i * PS, 1);
	close(fd);

	ti.pid = getpid();
	ti.child = child;
	ti.start = (uintptr_t)base;
	ti.end = (uintptr_t)base + NPAGES * PS;
	if (write(wfd, &ti, sizeof(ti)) != (ssize_t)sizeof(ti))
		_exit(2);
	close(wfd);
	raise(SIGSTOP);
	for (;;)
		pause();
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* Fork the target and wait until it is stopped (state T). */
int recv_start_target(struct target_info *ti)
{
	int pfd[2], st;
	pid_t pid;

	memset(ti, 0, sizeof(*ti));
	if (pipe(pfd))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		close(pfd[0]);
		target_main(pfd[1]);
	}
	close(pfd[1]);
	if (read(pfd[0], ti, sizeof(*ti)) != (ssize_t)sizeof(*ti) || ti->err) {
		close(pfd[0]);
		waitpid(pid, &st, 0);
		return ti->err ? -ti->err : -EIO;
	}
	close(pfd[0]);
	if (waitpid(pid, &st, WUNTRACED) != pid || !WIFSTOPPED(st))
		return -ECHILD;
	for (int i = 0; i < 100 && proc_state(pid) != 'T'; i++)
		usleep(10000);
	return proc_state(pid) == 'T' && proc_state(ti->child) == 'T' ? 0 : -EBUSY;
}

void recv_stop_target(const struct target_info *ti)
{
	if (ti->child > 0)
		kill(ti->child, SIGKILL);
	if (ti->pid > 0) {
		kill(ti->pid, SIGKILL);
		waitpid(ti->pid, NULL, 0);
	}
}
