// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rcvlib.h"

#define CHUNK_MAX 12

struct rc_info {
	uint64_t start, end;
	int err;
};

static volatile char sink;

static void die(int wfd, const char *what)
{
	struct rc_info ti = { .err = errno ? errno : EIO };

	fprintf(stderr, "rcv target: %s: %s\n", what, strerror(ti.err));
	if (write(wfd, &ti, sizeof(ti)) < 0)
		_exit(2);
	_exit(2);
}

/* 1 where the span has a mapping (for the change) */
static unsigned char *mapped;

/*
 * [lo, hi) of the span in pieces of 1..CHUNK_MAX pages: untouched (none),
 * read (zero), written (present), written then read-only or PROT_NONE,
 * shared anon (shmem), or a hole.
 */
static void layout(struct rl_rng *r, char *base, size_t lo, size_t hi, int wfd)
{
	size_t i = lo;

	while (i < hi) {
		size_t n = 1 + rl_below(r, CHUNK_MAX);
		char *p = base + i * RC_PS;
		int kind = (int)rl_below(r, 7);

		if (n > hi - i)
			n = hi - i;
		memset(mapped + i, 1, n);
		switch (kind) {
		case 0:		/* untouched: none */
			break;
		case 1:		/* read: zero page */
			for (size_t j = 0; j < n; j++)
				sink = p[j * RC_PS];
			break;
		case 2:		/* written: present */
			for (size_t j = 0; j < n; j++)
				p[j * RC_PS] = 1;
			break;
		case 3:		/* written, then read-only or no access */
			for (size_t j = 0; j < n; j++)
				p[j * RC_PS] = 2;
			if (mprotect(p, n * RC_PS, rl_chance(r, 50) ? PROT_READ : PROT_NONE))
				die(wfd, "mprotect");
			break;
		case 4:		/* shared anon */
			if (mmap(p, n * RC_PS, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != p)
				die(wfd, "mmap shared");
			madvise(p, n * RC_PS, MADV_NOHUGEPAGE);
			for (size_t j = 0; j < n; j++)
				if (rl_chance(r, 70))
					p[j * RC_PS] = 3;
			break;
		case 5:		/* mixed, page by page */
			for (size_t j = 0; j < n; j++)
				if (rl_chance(r, 50))
					p[j * RC_PS] = 4;
				else if (rl_chance(r, 50))
					sink = p[j * RC_PS];
			break;
		default:	/* a hole */
			if (munmap(p, n * RC_PS))
				die(wfd, "munmap");
			memset(mapped + i, 0, n);
			break;
		}
		i += n;
	}
}

/* Every page of the second half changes state: mapped -> unmapped, hole -> present. */
static int change(char *base, size_t npages)
{
	for (size_t i = npages / 2; i < npages; i++) {
		char *p = base + i * RC_PS;

		if (mapped[i]) {
			if (munmap(p, RC_PS))
				return -errno;
		} else {
			if (mmap(p, RC_PS, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != p)
				return -errno;
			madvise(p, RC_PS, MADV_NOHUGEPAGE);
			p[0] = 5;
		}
		mapped[i] = !mapped[i];
	}
	return 0;
}

static void target_main(int cfd, int afd, uint64_t seed, size_t npages)
{
	struct rl_rng r = { seed ^ 0x7a29e7 };
	struct rc_info ti = { 0 };
	char *base, c, a, arg[32];

	prctl(PR_SET_DUMPABLE, 1);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	mapped = calloc(npages, 1);
	base = mmap(NULL, npages * RC_PS, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!mapped || base == MAP_FAILED)
		die(afd, "mmap");
	madvise(base, npages * RC_PS, MADV_NOHUGEPAGE);
	layout(&r, base, 0, npages, afd);
	ti.start = (uintptr_t)base;
	ti.end = ti.start + npages * RC_PS;
	if (write(afd, &ti, sizeof(ti)) != (ssize_t)sizeof(ti))
		_exit(2);
	while (read(cfd, &c, 1) == 1) {
		switch (c) {
		case 'm':
			a = change(base, npages) ? 'e' : 'k';
			break;
		case 'x':
			snprintf(arg, sizeof(arg), "%d", afd);
			execl("/proc/self/exe", "rcv-idle", "idle", arg, (char *)NULL);
			a = 'e';
			break;
		case 'q':
			_exit(0);
		default:
			a = 'e';
		}
		if (write(afd, &a, 1) != 1)
			_exit(2);
	}
	_exit(0);
}

int rc_idle_main(int argc, char **argv)
{
	int afd = argc > 2 ? atoi(argv[2]) : -1;
	char a = 'k';

	if (afd >= 0 && write(afd, &a, 1) != 1)
		return 2;
	for (;;)
		pause();
}

int rc_target_start(struct rc_target *t, uint64_t seed, size_t npages)
{
	struct rc_info ti;
	int cp[2], ap[2];
	pid_t pid;

	memset(t, 0, sizeof(*t));
	t->cmd = t->ack = -1;
	if (pipe(cp))
		return -errno;
	if (pipe(ap)) {
		close(cp[0]);
		close(cp[1]);
		return -errno;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		close(cp[1]);
		close(ap[0]);
		target_main(cp[0], ap[1], seed, npages);
	}
	close(cp[0]);
	close(ap[1]);
	t->pid = pid;
	t->cmd = cp[1];
	t->ack = ap[0];
	if (read(t->ack, &ti, sizeof(ti)) != (ssize_t)sizeof(ti) || ti.err) {
		rc_target_stop(t);
		return ti.err ? -ti.err : -EIO;
	}
	t->start = ti.start;
	t->end = ti.end;
	t->npages = npages;
	return 0;
}

int rc_target_cmd(struct rc_target *t, char c)
{
	char a;

	if (write(t->cmd, &c, 1) != 1)
		return -errno;
	if (c == 'q') {
		int st;

		if (waitpid(t->pid, &st, 0) != t->pid)
			return -errno;
		t->pid = 0;
		return 0;
	}
	if (read(t->ack, &a, 1) != 1)
		return -EIO;
	return a == 'k' ? 0 : -EIO;
}

void rc_target_stop(struct rc_target *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
	}
	t->pid = 0;
	if (t->cmd >= 0)
		close(t->cmd);
	if (t->ack >= 0)
		close(t->ack);
	t->cmd = t->ack = -1;
}

void rc_on_record(void *arg, uint64_t addr, uint64_t pages, unsigned int state,
		  uint32_t flags, uint64_t pfn, int64_t node)
{
	struct rc_collect *k = arg;
	size_t i0 = (addr - k->start) / RC_PS;

	for (uint64_t i = 0; i < pages && i0 + i < k->npages; i++) {
		struct rc_pg *p = &k->pg[i0 + i];

		p->state = state;
		p->flags = flags;
		p->node = (int32_t)node;
		p->pfn = i ? 0 : pfn;
		p->seen = true;
	}
}

int rc_proc_open_query(const char *q)
{
	int fd = open("/proc/memtrace", O_RDWR | O_CLOEXEC);
	ssize_t n = (ssize_t)strlen(q);

	if (fd < 0)
		return -errno;
	if (write(fd, q, n) != n) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int rc_proc_answer(int pid, uint64_t start, uint64_t end, const char *mode, bool admin,
		   char **text, size_t *len, struct rc_pg *pg, char *why, size_t wlen)
{
	struct rc_collect k = { start, (end - start) / RC_PS, pg };
	size_t cap = 1 << 16, n = 0;
	char q[128], *buf = malloc(cap);
	struct rl_check c;
	struct rl_text t;
	ssize_t r;
	int fd;

	if (!buf)
		return -ENOMEM;
	if (pg)
		memset(pg, 0, k.npages * sizeof(*pg));
	snprintf(q, sizeof(q), "%d 0x%" PRIx64 " 0x%" PRIx64 " %s\n", pid, start, end, mode);
	fd = rc_proc_open_query(q);
	if (fd < 0) {
		snprintf(why, wlen, "query '%.*s': %s", (int)strlen(q) - 1, q, strerror(-fd));
		free(buf);
		return fd;
	}
	rl_check_init(&c, pid, start, end, !strcmp(mode, "pages"), admin);
	if (pg) {
		c.on_record = rc_on_record;
		c.arg = &k;
	}
	rl_text_init(&t, &c);
	for (;;) {
		if (cap - n < (1 << 16)) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				r = -ENOMEM;
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, 1 << 16);
		if (r < 0) {
			r = -errno;
			snprintf(why, wlen, "read: %s", strerror(errno));
			goto fail;
		}
		if (!r)
			break;
		if (!rl_text_feed(&t, buf + n, r)) {
			r = -EBADMSG;
			snprintf(why, wlen, "%s", c.err);
			goto fail;
		}
		n += r;
	}
	if (!rl_text_end(&t)) {
		r = -EBADMSG;
		snprintf(why, wlen, "%s", c.err);
		goto fail;
	}
	close(fd);
	buf[n] = '\0';	/* room: cap - n >= 64 KiB before the last read */
	*text = buf;
	*len = n;
	return 0;
fail:
	close(fd);
	free(buf);
	return (int)r;
}

uint64_t rc_seed(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0;

	if (!seed)
		seed = (uint64_t)rl_knob("mt_seed", 0);
	if (!seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	return seed;
}

double rc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

long rc_refcnt(void)
{
	char b[32] = "";
	int fd = open("/sys/module/memtrace/refcnt", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof(b) - 1);

	if (fd >= 0)
		close(fd);
	return n > 0 ? strtol(b, NULL, 10) : -1;
}

long rc_refcnt_wait(long want)
{
	long v = rc_refcnt();

	for (int i = 0; i < 100 && v != want; i++) {
		usleep(50000);
		v = rc_refcnt();
	}
	return v;
}
