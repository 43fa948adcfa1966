// SPDX-License-Identifier: GPL-2.0
/*
 * rcv-proc [SEED]: the receive side of /proc/memtrace (issue 15, section 1).
 * Expected behaviour, from kmod/proc.c and the VFS:
 *  - read(2) of any size returns the next bytes of the answer; the pieces
 *    concatenate to the answer a 64 KiB reader gets, byte for byte;
 *  - the file is opened with nonseekable_open(): lseek(2), pread(2) and
 *    pwrite(2) fail with ESPIPE at any offset, and change nothing;
 *  - no proc_poll: poll(2) reports the VFS default, readable and writable
 *    at once, before a query, mid-answer and at EOF;
 *  - a query written mid-answer replaces it: the next read starts the new
 *    answer at its header; a refused query (syntax, no such pid) changes
 *    nothing: the old answer goes on where it was;
 *  - a target that exits mid-answer: the text already produced, then ESRCH.
 * The target is a stopped-still child (tests/receive/rcvlib.c), seeded:
 * SEED, MT_SEED or mt_seed= replays a run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rcvlib.h"
#include "tap.h"

static struct rc_target tg;
static char q1[128], q2[128];
static char *r1, *r2;
static size_t n1, n2;

/* Read fd to EOF in sizes from lo..hi into out (cap bytes): bytes, or -errno. */
static ssize_t read_sizes(int fd, struct rl_rng *r, size_t lo, size_t hi, char *out, size_t cap)
{
	size_t n = 0;

	for (;;) {
		size_t want = lo + rl_below(r, hi - lo + 1);
		ssize_t got;

		if (want > cap - n)
			want = cap - n;
		got = read(fd, out + n, want);
		if (got < 0)
			return -errno;
		if (!got || (size_t)got > want)
			return got ? -E2BIG : (ssize_t)n;
		n += got;
	}
}

static void test_sizes(struct rl_rng *r)
{
	static const size_t ranges[][2] = { { 1, 1 }, { 1, 16 }, { 1, 300 }, { 8190, 8194 },
					    { 1, 20000 } };
	char *buf = malloc(n1 + 65536);

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		int fd = rc_proc_open_query(q1);
		ssize_t n = fd < 0 ? fd : read_sizes(fd, r, ranges[i][0], ranges[i][1], buf,
						     n1 + 65536);

		if (!tap_ok(n == (ssize_t)n1 && !memcmp(buf, r1, n1),
			    "reads of %zu..%zu bytes concatenate to the answer (%zu bytes)",
			    ranges[i][0], ranges[i][1], n1))
			tap_diag("got %zd bytes (%s)", n, n < 0 ? strerror(-n) : "data");
		if (fd >= 0)
			close(fd);
	}
	free(buf);
}

static void test_seek(struct rl_rng *r)
{
	static const off_t offs[] = { 0, 1, 4096, 8192, (off_t)1 << 40 };
	int fd = rc_proc_open_query(q1), bad = 0;
	char *buf = malloc(n1 + 65536), c;
	size_t n = 0;

	while (fd >= 0) {
		ssize_t got;

		for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
			errno = 0;
			if (pread(fd, &c, 1, offs[i]) != -1 || errno != ESPIPE)
				bad++;
			errno = 0;
			if (pwrite(fd, "1 all\n", 6, offs[i]) != -1 || errno != ESPIPE)
				bad++;
		}
		errno = 0;
		if (lseek(fd, 0, SEEK_SET) != -1 || errno != ESPIPE)
			bad++;
		errno = 0;
		if (lseek(fd, 0, SEEK_CUR) != -1 || errno != ESPIPE)
			bad++;
		errno = 0;
		if (lseek(fd, 0, SEEK_END) != -1 || errno != ESPIPE)
			bad++;
		got = read(fd, buf + n, 1 + rl_below(r, 5000));
		if (got <= 0)
			break;
		n += got;
	}
	tap_ok(fd >= 0 && !bad && n == n1 && !memcmp(buf, r1, n1),
	       "pread/pwrite at 5 offsets and lseek SEEK_SET/CUR/END: ESPIPE at every read (%d wrong), the answer intact (%zu of %zu bytes)",
	       bad, n, n1);
	if (fd >= 0)
		close(fd);
	free(buf);
}

static void test_poll(void)
{
	int fd = open("/proc/memtrace", O_RDWR), bad = 0;
	char buf[4096];
	const short want = POLLIN | POLLOUT;

	for (int stage = 0; fd >= 0 && stage < 3; stage++) {
		struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };
		int rc = poll(&p, 1, 0);

		if (rc != 1 || (p.revents & (want | POLLERR | POLLHUP | POLLNVAL)) != want) {
			bad++;
			tap_diag("stage %d: poll %d, revents 0x%x", stage, rc, p.revents);
		}
		if (stage == 0 && write(fd, q1, strlen(q1)) < 0)
			bad++;
		if (stage == 1)
			while (read(fd, buf, sizeof(buf)) > 0)
				;
		if (stage == 0 && read(fd, buf, 100) != 100)
			bad++;
	}
	tap_ok(fd >= 0 && !bad,
	       "poll: readable and writable at once before a query, mid-answer and at EOF");
	if (fd >= 0)
		close(fd);
}

/* Read k bytes, write q, read the rest: it must be want. */
static int mid_write(size_t k, const char *q, int werr, const char *want, size_t wlen,
		     size_t skip)
{
	int fd = rc_proc_open_query(q1);
	char *buf = malloc(n1 + n2 + 65536);
	size_t n = 0;
	ssize_t got;
	int rc = -1;

	if (fd < 0 || !buf)
		goto out;
	while (n < k) {
		got = read(fd, buf + n, k - n);
		if (got <= 0)
			break;
		n += got;
	}
	if (n != k)
		goto out;
	errno = 0;
	got = write(fd, q, strlen(q));
	if (werr ? !(got == -1 && errno == werr) : got != (ssize_t)strlen(q))
		goto out;
	n = 0;
	while ((got = read(fd, buf + n, 1 + (n % 3000))) > 0)
		n += got;
	if (got == 0 && n == wlen - skip && !memcmp(buf, want + skip, n))
		rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

static void test_mid_write(struct rl_rng *r)
{
	size_t ks[12] = { 0, 1, 50, 8191, 8192, 8193, n1 - 1, n1 };
	unsigned int nk = 8, bad = 0, badref = 0;
	char badq[64];

	while (nk < 12)
		ks[nk++] = rl_below(r, n1 + 1);
	for (unsigned int i = 0; i < nk; i++) {
		if (ks[i] > n1)
			continue;
		if (mid_write(ks[i], q2, 0, r2, n2, 0)) {
			bad++;
			tap_diag("new query after %zu bytes: not the new answer", ks[i]);
		}
		if (mid_write(ks[i], "no such query\n", EINVAL, r1, n1, ks[i]) ||
		    mid_write(ks[i], "4194304 all\n", ESRCH, r1, n1, ks[i])) {
			badref++;
			tap_diag("refused query after %zu bytes: the old answer did not go on", ks[i]);
		}
	}
	tap_ok(!bad, "a query written mid-answer (%u points, 0 to EOF): the next read starts the new answer at its header", nk);
	snprintf(badq, sizeof(badq), "EINVAL and ESRCH");
	tap_ok(!badref, "a refused query mid-answer (%s): the old answer goes on where it was", badq);
}

static void test_exit(void)
{
	struct rc_target t;
	char q[128], buf[65536];
	int fd, err = 0;
	ssize_t got, n = 0;

	if (rc_target_start(&t, 99, 4096)) {
		tap_ok(0, "a target for the exit test");
		return;
	}
	snprintf(q, sizeof(q), "%d 0x%" PRIx64 " 0x%" PRIx64 " pages\n", t.pid, t.start, t.end);
	fd = rc_proc_open_query(q);
	got = fd < 0 ? -1 : read(fd, buf, 100);
	rc_target_cmd(&t, 'q');
	while (fd >= 0 && (got = read(fd, buf, sizeof(buf))) > 0)
		n += got;
	err = got < 0 ? errno : 0;
	tap_ok(fd >= 0 && got == -1 && err == ESRCH && n < 8192,
	       "the target exits mid-answer: the %zd bytes already produced, then ESRCH (%s)", n,
	       got < 0 ? strerror(err) : "EOF");
	got = fd < 0 ? 0 : read(fd, buf, 10);
	tap_ok(got == -1 && errno == ESRCH, "and ESRCH again on the next read");
	if (fd >= 0)
		close(fd);
	rc_target_stop(&t);
}

int main(int argc, char **argv)
{
	uint64_t seed;
	struct rl_rng r;
	char why[512];
	int err;

	if (argc > 1 && !strcmp(argv[1], "idle"))
		return rc_idle_main(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	seed = rc_seed(argc, argv);
	r.s = seed;
	tap_diag("seed %" PRIu64 " (MT_SEED=%" PRIu64 " replays)", seed, seed);
	err = rc_target_start(&tg, seed, rl_quick() ? 1024 : 4096);
	if (!tap_ok(!err, "target started")) {
		tap_diag("%s", strerror(-err));
		return tap_done();
	}
	snprintf(q1, sizeof(q1), "%d 0x%" PRIx64 " 0x%" PRIx64 " pages\n", tg.pid, tg.start, tg.end);
	snprintf(q2, sizeof(q2), "%d 0x%" PRIx64 " 0x%" PRIx64 " runs\n", tg.pid, tg.start,
		 tg.start + (tg.end - tg.start) / 2);
	err = rc_proc_answer(tg.pid, tg.start, tg.end, "pages", geteuid() == 0, &r1, &n1, NULL,
			     why, sizeof(why));
	if (!tap_ok(!err, "reference answer (pages mode, 64 KiB reads), checked")) {
		tap_diag("%s", why);
		goto out;
	}
	err = rc_proc_answer(tg.pid, tg.start, tg.start + (tg.end - tg.start) / 2, "runs",
			     geteuid() == 0, &r2, &n2, NULL, why, sizeof(why));
	if (!tap_ok(!err, "second reference (runs mode, first half), checked")) {
		tap_diag("%s", why);
		goto out;
	}
	test_sizes(&r);
	test_seek(&r);
	test_poll();
	test_mid_write(&r);
	test_exit();
	{
		char *again = NULL;
		size_t na = 0;

		err = rc_proc_answer(tg.pid, tg.start, tg.end, "pages", geteuid() == 0, &again,
				     &na, NULL, why, sizeof(why));
		tap_ok(!err && na == n1 && !memcmp(again, r1, n1),
		       "the reference is unchanged at the end (the comparisons were fair)");
		free(again);
	}
out:
	rc_target_stop(&tg);
	return tap_done();
}
