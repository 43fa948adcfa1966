// SPDX-License-Identifier: GPL-2.0
/*
 * rcv-fd [SEED]: the life of a /proc/memtrace file descriptor (issue 15,
 * section 1), as root in the lab VM. Expected, from kmod/proc.c:
 *  - one answer a file, produced under the file's mutex: two threads
 *    reading one fd get disjoint pieces; the answer is an interleaving of
 *    both threads' pieces, each thread's in the order it read them;
 *  - the state lives in the open file, so a child that inherits the fd
 *    reads on where the parent stopped, and a query the child writes
 *    replaces the parent's answer;
 *  - every query is judged as the file's opener (its f_cred and the
 *    capabilities it had at open): a uid 1000 opener's fd, handed across
 *    exec to a setuid-root program, is still refused a root process
 *    (EACCES) and still hides pfns, while the same program's own fresh
 *    open sees both;
 *  - a file closed by one thread while another reads: the read returns
 *    data, then EBADF; nothing crashes; /proc files hold no module
 *    reference (the refcount stays 0) and the next open works.
 * Seeded: SEED, MT_SEED or mt_seed= replays a run.
 */
#include "fd.h"

TAP_SHARED_STATE;

struct rc_target rcvfd_tg;
static char q1[128], q2[128];
char *rcvfd_r1, *rcvfd_r2;
size_t rcvfd_n1, rcvfd_n2;

uint64_t rcvfd_fnv(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ (unsigned char)*p++) * 0x100000001b3ULL;
	return h;
}

/* ---- two threads, one fd ---- */

struct reader {
	pthread_t th;
	int fd;
	struct rl_rng r;
	size_t lo, hi;
	pthread_barrier_t *go;
	int *started;		/* threads past their first read */
	char *buf;		/* what it read, in order */
	size_t n, cap;
	size_t *sizes;		/* each read's length */
	size_t nsizes;
	int err;
};

static void *reader_main(void *arg)
{
	struct reader *rd = arg;

	pthread_barrier_wait(rd->go);
	for (;;) {
		size_t want = rd->lo + rl_below(&rd->r, rd->hi - rd->lo + 1);
		ssize_t got;

		if (want > rd->cap - rd->n)
			want = rd->cap - rd->n;
		got = read(rd->fd, rd->buf + rd->n, want);
		if (got < 0) {
			rd->err = errno;
			break;
		}
		if (!got)
			break;
		if ((size_t)got > want) {
			rd->err = E2BIG;
			break;
		}
		rd->sizes[rd->nsizes++] = got;
		rd->n += got;
		if (rd->nsizes == 1) {
			/* the other thread reads before this one goes on (2 s at most) */
			__atomic_add_fetch(rd->started, 1, __ATOMIC_SEQ_CST);
			for (int i = 0; i < 20000 && __atomic_load_n(rd->started, __ATOMIC_SEQ_CST) < 2;
			     i++)
				usleep(100);
		}
		/* let the other thread in (the lab VM may have one CPU) */
		if (rl_chance(&rd->r, 10))
			usleep(rl_below(&rd->r, 200));
		else
			sched_yield();
	}
	return NULL;
}

/* Is ans (len bytes) an interleaving of a's and b's pieces, each in order? */
static bool interleaves(const char *ans, size_t len, const struct reader *a,
			const struct reader *b, unsigned int *switches)
{
	size_t na = a->nsizes, nb = b->nsizes, w = nb + 1;
	size_t *oa = calloc(na + 1, sizeof(*oa)), *ob = calloc(nb + 1, sizeof(*ob));
	unsigned char *reach = calloc((na + 1) * w, 1);	/* 1 from a, 2 from b, 3 start */
	bool ok = false;

	if (!oa || !ob || !reach || a->n + b->n != len)
		goto out;
	for (size_t i = 0; i < na; i++)
		oa[i + 1] = oa[i] + a->sizes[i];
	for (size_t j = 0; j < nb; j++)
		ob[j + 1] = ob[j] + b->sizes[j];
	reach[0] = 3;
	for (size_t i = 0; i <= na; i++)
		for (size_t j = 0; j <= nb; j++) {
			size_t pos = oa[i] + ob[j];

			if (!reach[i * w + j])
				continue;
			if (i < na && !reach[(i + 1) * w + j] &&
			    !memcmp(ans + pos, a->buf + oa[i], a->sizes[i]))
				reach[(i + 1) * w + j] = 1;
			if (j < nb && !reach[i * w + j + 1] &&
			    !memcmp(ans + pos, b->buf + ob[j], b->sizes[j]))
				reach[i * w + j + 1] = 2;
		}
	ok = reach[na * w + nb] != 0;
	/* walk one interleaving back: how often the reader changed */
	*switches = 0;
	if (ok) {
		size_t i = na, j = nb;
		unsigned char last = 0;

		while (i || j) {
			unsigned char how = reach[i * w + j];

			if (last && how != last)
				(*switches)++;
			last = how;
			if (how == 1)
				i--;
			else
				j--;
		}
	}
out:
	free(oa);
	free(ob);
	free(reach);
	return ok;
}

static void test_threads(struct rl_rng *r)
{
	static const size_t ranges[][2] = { { 1, 64 }, { 1, 4096 }, { 100, 20000 } };

	for (size_t k = 0; k < sizeof(ranges) / sizeof(ranges[0]); k++) {
		struct reader rd[2];
		pthread_barrier_t go;
		int started = 0;
		unsigned int sw = 0;
		int fd = rc_proc_open_query(q1);
		bool ok = fd >= 0;

		pthread_barrier_init(&go, NULL, 2);
		for (int t = 0; t < 2; t++) {
			rd[t] = (struct reader){ .fd = fd, .r = { rl_next(r) }, .lo = ranges[k][0],
						 .hi = ranges[k][1], .go = &go, .started = &started,
						 .cap = rcvfd_n1 + 1 };
			rd[t].buf = malloc(rd[t].cap);
			rd[t].sizes = calloc(rcvfd_n1 + 1, sizeof(size_t));
		}
		for (int t = 0; ok && t < 2; t++)
			if (pthread_create(&rd[t].th, NULL, reader_main, &rd[t]))
				ok = false;
		for (int t = 0; ok && t < 2; t++)
			pthread_join(rd[t].th, NULL);
		/* both must have read: one thread alone would prove nothing */
		ok = ok && !rd[0].err && !rd[1].err && rd[0].n && rd[1].n &&
		     rd[0].n + rd[1].n == rcvfd_n1 && interleaves(rcvfd_r1, rcvfd_n1, &rd[0],
								  &rd[1], &sw);
		if (!tap_ok(ok, "two threads reading one fd (%zu..%zu bytes a read): %zu + %zu bytes, both read, and an interleaving of both threads' pieces in order is the answer (%zu bytes)",
			    ranges[k][0], ranges[k][1], rd[0].n, rd[1].n, rcvfd_n1))
			tap_diag("errors %s / %s", strerror(rd[0].err), strerror(rd[1].err));
		else
			tap_diag("%zu + %zu reads, the reader changed %u times", rd[0].nsizes,
				 rd[1].nsizes, sw);
		for (int t = 0; t < 2; t++) {
			free(rd[t].buf);
			free(rd[t].sizes);
		}
		pthread_barrier_destroy(&go);
		if (fd >= 0)
			close(fd);
	}
}

/* ---- fork ---- */

static ssize_t read_n(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = read(fd, buf + got, n - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : (ssize_t)got;
		got += k;
	}
	return got;
}

static void test_fork(struct rl_rng *r)
{
	size_t k = 1 + rl_below(r, rcvfd_n1 / 2), m = 1 + rl_below(r, rcvfd_n1 / 3), rest;
	char *buf = malloc(rcvfd_n1 + rcvfd_n2 + 65536);
	int fd = rc_proc_open_query(q1), p[2] = { -1, -1 }, st = -1;
	bool ok = false;
	pid_t pid;

	/* the parent reads k bytes, the child m, the parent the rest */
	if (fd < 0 || !buf || pipe(p) || read_n(fd, buf, k) != (ssize_t)k)
		goto out1;
	fflush(NULL);
	pid = fork();
	if (!pid) {
		ssize_t got = read_n(fd, buf, m);

		_exit(got == (ssize_t)m && write(p[1], buf, m) == (ssize_t)m ? 0 : 1);
	}
	close(p[1]);
	p[1] = -1;
	if (pid < 0 || read_n(p[0], buf + k, m) != (ssize_t)m)
		goto out1;
	waitpid(pid, &st, 0);
	rest = rcvfd_n1 - k - m;
	ok = st == 0 && read_n(fd, buf + k + m, rest + 1) == (ssize_t)rest &&
	     !memcmp(buf, rcvfd_r1, rcvfd_n1);
out1:
	tap_ok(ok, "fd inherited across fork: parent %zu bytes, child %zu, parent the rest: one position, the answer whole",
	       k, m);
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	if (fd >= 0)
		close(fd);

	/* a query the child writes replaces the parent's answer */
	ok = false;
	st = -1;
	fd = rc_proc_open_query(q1);
	if (fd < 0 || read_n(fd, buf, k) != (ssize_t)k)
		goto out2;
	fflush(NULL);
	pid = fork();
	if (!pid)
		_exit(write(fd, q2, strlen(q2)) == (ssize_t)strlen(q2) ? 0 : 1);
	if (pid > 0)
		waitpid(pid, &st, 0);
	ok = st == 0 && read_n(fd, buf, rcvfd_n2 + 1) == (ssize_t)rcvfd_n2 && !memcmp(buf, rcvfd_r2, rcvfd_n2);
out2:
	tap_ok(ok, "a query the child writes to the inherited fd: the parent's next read starts the child's answer");
	if (fd >= 0)
		close(fd);
	free(buf);
}

/* ---- close while another thread reads ---- */

struct closer {
	int fd;
	unsigned int delay_us;
	const char *q;
	unsigned long reads, bytes, restarts;
	int err;
};

static void *looper(void *arg)
{
	struct closer *c = arg;
	char *buf = malloc(1 << 20);

	for (;;) {
		ssize_t n = read(c->fd, buf, 1 << 20);

		if (n < 0) {
			c->err = errno;
			break;
		}
		c->reads++;
		c->bytes += n;
		if (!n) {
			c->restarts++;
			if (write(c->fd, c->q, strlen(c->q)) < 0) {
				c->err = errno;
				break;
			}
		}
	}
	free(buf);
	return NULL;
}

static void test_close(struct rl_rng *r)
{
	char qall[64];
	unsigned int bad = 0, runs = rl_quick() ? 4 : 8;
	unsigned long reads = 0;
	long rc0 = rc_refcnt(), rc1;
	char *again = NULL;
	size_t na = 0;
	char why[256];
	int err;

	snprintf(qall, sizeof(qall), "%d all pages\n", rcvfd_tg.pid);
	for (unsigned int i = 0; i < runs; i++) {
		struct closer c = { .q = i & 1 ? qall : q1,
				    .delay_us = (unsigned int)rl_below(r, 200000) };
		pthread_t th;

		c.fd = rc_proc_open_query(c.q);
		if (c.fd < 0 || pthread_create(&th, NULL, looper, &c)) {
			bad++;
			continue;
		}
		usleep(c.delay_us);
		close(c.fd);
		pthread_join(th, NULL);
		reads += c.reads;
		if (c.err != EBADF || fcntl(c.fd, F_GETFD) != -1) {
			bad++;
			tap_diag("run %u: the reader ended with %s after %lu reads", i,
				 strerror(c.err), c.reads);
		}
	}
	tap_ok(!bad && reads, "an fd closed while another thread reads (%u runs, %lu reads, half of them whole-address-space answers): the reads return data, then EBADF",
	       runs, reads);
	rc1 = rc_refcnt();
	err = rc_proc_answer(rcvfd_tg.pid, rcvfd_tg.start, rcvfd_tg.end, "pages", true, &again, &na,
			     NULL, why,
			     sizeof(why));
	if (!tap_ok(rc1 == rc0 && rc0 == 0 && !err && na == rcvfd_n1 && !memcmp(again, rcvfd_r1, rcvfd_n1),
		    "then: module refcount %ld (0: /proc files hold none), a new open answers the same",
		    rc1))
		tap_diag("%s", err ? why : "");
	free(again);
}

int main(int argc, char **argv)
{
	uint64_t seed;
	struct rl_rng r;
	char why[512];
	int err;

	if (argc > 1 && !strcmp(argv[1], "idle"))
		return rc_idle_main(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "suid"))
		return rcvfd_suid_main(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	seed = rc_seed(argc, argv);
	r.s = seed;
	tap_diag("seed %" PRIu64 " (MT_SEED=%" PRIu64 " replays)", seed, seed);
	if (!tap_ok(geteuid() == 0, "running as root (it also runs as uid %d)", USER_ID))
		return tap_done();
	err = rc_target_start(&rcvfd_tg, seed, 1024);
	if (!tap_ok(!err, "target started (root's, 1024 pages)")) {
		tap_diag("%s", strerror(-err));
		return tap_done();
	}
	snprintf(q1, sizeof(q1), "%d 0x%" PRIx64 " 0x%" PRIx64 " pages\n", rcvfd_tg.pid, rcvfd_tg.start, rcvfd_tg.end);
	snprintf(q2, sizeof(q2), "%d 0x%" PRIx64 " 0x%" PRIx64 " runs\n", rcvfd_tg.pid,
		 rcvfd_tg.start,
		 rcvfd_tg.start + (rcvfd_tg.end - rcvfd_tg.start) / 2);
	err = rc_proc_answer(rcvfd_tg.pid, rcvfd_tg.start, rcvfd_tg.end, "pages", true, &rcvfd_r1,
			     &rcvfd_n1, NULL, why,
			     sizeof(why));
	if (!tap_ok(!err, "reference answer (pages mode, 64 KiB reads), checked (%zu bytes)",
		    rcvfd_n1)) {
		tap_diag("%s", why);
		goto out;
	}
	err = rc_proc_answer(rcvfd_tg.pid, rcvfd_tg.start,
			     rcvfd_tg.start + (rcvfd_tg.end - rcvfd_tg.start) / 2, "runs", true,
			     &rcvfd_r2, &rcvfd_n2, NULL, why, sizeof(why));
	if (!tap_ok(!err, "second reference (runs mode, first half), checked")) {
		tap_diag("%s", why);
		goto out;
	}
	test_threads(&r);
	test_fork(&r);
	rcvfd_test_suid(&r);
	test_close(&r);
out:
	rc_target_stop(&rcvfd_tg);
	return tap_done();
}
