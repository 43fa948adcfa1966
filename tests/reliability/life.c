// SPDX-License-Identifier: GPL-2.0
/*
 * rel-life: the C side of suite-reliability-lifecycle.sh, which removes and
 * loads the module around these (lab VM, root):
 *
 *   rel-life proc-hold READY GO   open /proc/memtrace files: one in the middle
 *                                 of a big pages-mode answer, one without a
 *                                 query, one read to EOF; create READY, wait
 *                                 for GO (the module is gone by then), then
 *                                 every stale file must fail (EIO) and close
 *   rel-life proc-loop SECONDS    query and read whole answers in a loop while
 *                                 the module goes and comes back: each answer
 *                                 complete and well formed, or cut short by
 *                                 EIO / ENOENT (no module); nothing else
 *   rel-life nl-hold READY GO [close]
 *                                 start a big netlink dump, take one message,
 *                                 create READY, wait for GO, then read the
 *                                 dump to its end (checked), or with "close"
 *                                 close the socket in the middle of it
 *   rel-life nl-stale READY GO    resolve the family, create READY, wait for GO
 *                                 (module gone): a request to the old family
 *                                 id gets a clean error reply (ENOENT)
 *   rel-life nl-check             GET_INFO and a small QUERY over netlink
 * Prints TAP lines; exit status 0 when all passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pg.h"
#include "tap.h"
#include "rlib.h"

#define BIG (32UL << 20)	/* 8192 pages: a pages-mode answer of ~500 KB */

static char *big(void)
{
	char *p = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	madvise(p, BIG, MADV_NOHUGEPAGE);
	for (unsigned long i = 0; i < BIG; i += MT_PG)
		p[i] = 1;
	return p;
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0644);

	if (fd >= 0)
		close(fd);
}

static void wait_for(const char *path)
{
	struct stat st;

	for (int i = 0; i < 6000 && stat(path, &st); i++)
		usleep(20000);
}

static int query_fd(int pid, uint64_t s, uint64_t e, const char *mode)
{
	char q[128];
	int fd = open("/proc/memtrace", O_RDWR), n;

	if (fd < 0)
		return -errno;
	n = snprintf(q, sizeof(q), "%d 0x%" PRIx64 " 0x%" PRIx64 " %s\n", pid, s, e, mode);
	if (write(fd, q, n) != n) {
		n = -errno;
		close(fd);
		return n;
	}
	return fd;
}

static int proc_hold(const char *ready, const char *go)
{
	char *p = big(), buf[4096];
	uint64_t s = (uintptr_t)p;
	int mid, empty, done, ro, err;
	struct rl_check c;
	ssize_t n;

	mid = query_fd(getpid(), s, s + BIG, "pages");
	tap_ok(mid >= 0, "proc-hold: a big pages-mode query (%s)", mid < 0 ? strerror(-mid) : "ok");
	n = read(mid, buf, sizeof(buf));
	tap_ok(n == (ssize_t)sizeof(buf), "proc-hold: first 4 KiB of the answer read (%zd)", n);
	empty = open("/proc/memtrace", O_RDWR);
	ro = open("/proc/memtrace", O_RDONLY);
	done = query_fd(getpid(), s, s + 16 * MT_PG, "runs");
	rl_check_init(&c, getpid(), s, s + 16 * MT_PG, MEMTRACE_MODE_RUNS, true);
	err = done >= 0 ? rl_proc_read_all(done, &c, 4096, NULL) : done;
	tap_ok(empty >= 0 && ro >= 0 && !err, "proc-hold: files open, one read to EOF (%s %s)",
	       strerror(-err), c.err);

	touch(ready);
	wait_for(go);

	/* the module is gone: every operation on a stale file fails cleanly */
	errno = 0;
	n = read(mid, buf, sizeof(buf));
	tap_ok(n < 0, "stale file mid-answer: read fails (%zd, %s)", n, strerror(errno));
	errno = 0;
	n = write(mid, "1 all", 5);
	tap_ok(n < 0, "stale file mid-answer: write fails (%zd, %s)", n, strerror(errno));
	errno = 0;
	n = read(empty, buf, sizeof(buf));
	tap_ok(n < 0, "stale file without a query: read fails (%zd, %s)", n, strerror(errno));
	errno = 0;
	n = read(done, buf, sizeof(buf));
	tap_ok(n <= 0, "stale file at EOF: read gives EOF or fails (%zd, %s)", n, strerror(errno));
	errno = 0;
	n = read(ro, buf, sizeof(buf));
	tap_ok(n < 0, "stale read-only file: read fails (%zd, %s)", n, strerror(errno));
	tap_ok(!close(mid) && !close(empty) && !close(done) && !close(ro), "stale files close");
	return tap_done();
}

static int proc_loop(int secs)
{
	char *p = big();
	uint64_t s = (uintptr_t)p;
	time_t end = time(NULL) + secs;
	unsigned long full = 0, cut = 0, absent = 0, bad = 0;

	while (time(NULL) < end) {
		struct rl_check c;
		int fd = query_fd(getpid(), s, s + BIG, full % 2 ? "pages" : "runs"), err;

		if (fd == -ENOENT || fd == -EIO) {
			absent++;	/* no module (or it left between open and write) */
			usleep(10000);
			continue;
		}
		if (fd < 0) {
			if (bad++ < 5)
				printf("# proc-loop: query: %s\n", strerror(-fd));
			continue;
		}
		rl_check_init(&c, getpid(), s, s + BIG, full % 2, true);
		err = rl_proc_read_all(fd, &c, 4096, NULL);
		close(fd);
		if (!err)
			full++;
		else if (err == -EIO && !c.err[0])
			cut++;
		else if (bad++ < 5)
			printf("# proc-loop: %s %s\n", strerror(-err), c.err);
	}
	printf("# proc-loop: %lu whole answers, %lu cut short by the unload (EIO), %lu times no "
	       "module, %lu bad\n", full, cut, absent, bad);
	tap_ok(!bad && full > 0, "queries in flight across rmmod/insmod: whole answers or EIO/ENOENT, "
	       "never garbage (%lu bad)", bad);
	return tap_done();
}

static int nl_hold(const char *ready, const char *go, bool close_it)
{
	char *p = big();
	uint64_t s = (uintptr_t)p;
	unsigned char req[128];
	struct nlr nl;
	struct rl_check c;
	bool first = true, fin = false;
	unsigned long msgs = 0;
	size_t len;
	int err = nlr_open(&nl);

	if (!tap_ok(!err, "nl-hold: family resolves (%s)", strerror(-err)))
		return tap_done();
	rl_check_init(&c, getpid(), s, s + BIG, MEMTRACE_MODE_PAGES, true);
	len = rl_nl_query_msg(&nl, req, getpid(), s, s + BIG, true, MEMTRACE_MODE_PAGES);
	nlr_send_raw(&nl, req, len);
	/* one message only: the dump stays in flight in the kernel */
	for (bool got = false; !got;) {
		ssize_t n = nlr_recv(&nl, 20000);
		struct nlmsghdr *h = (struct nlmsghdr *)nl.buf;
		int left = (int)n;

		if (n <= 0)
			break;
		for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				fin = true;
				break;
			}
			msgs++;
			rl_nl_check_msg(&c, h, nl.family, &first);
		}
		got = true;
	}
	tap_ok(msgs > 0 && !fin && !c.err[0], "nl-hold: a dump is in flight after %lu message(s) %s",
	       msgs, c.err);
	touch(ready);
	wait_for(go);
	if (close_it) {
		int cr = close(nl.fd), cerr = errno;

		nl.fd = -1;
		nlr_close(&nl);
		tap_ok(!cr, "nl-hold: socket closed in the middle of the dump (%s)",
		       cr ? strerror(cerr) : "close: 0");
		return tap_done();
	}
	/* read the rest of it */
	while (!fin) {
		ssize_t n = nlr_recv(&nl, 20000);
		struct nlmsghdr *h = (struct nlmsghdr *)nl.buf;
		int left = (int)n;

		if (n <= 0) {
			rl_check_fail(&c, "recv: %s", n ? strerror((int)-n) : "timeout");
			break;
		}
		for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				fin = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				rl_check_fail(&c, "NLMSG_ERROR %d", ((struct nlmsgerr *)NLMSG_DATA(h))->error);
				fin = true;
				break;
			}
			msgs++;
			if (!rl_nl_check_msg(&c, h, nl.family, &first))
				fin = true;
		}
	}
	tap_ok(!c.err[0] && c.summary, "nl-hold: the held dump completes well formed (%lu messages, %lu records) %s",
	       msgs, c.records, c.err);
	nlr_close(&nl);
	return tap_done();
}

static int nl_stale(const char *ready, const char *go)
{
	unsigned char req[128];
	struct nlr nl;
	int err = nlr_open(&nl), id;
	size_t len;

	if (!tap_ok(!err, "nl-stale: family resolves (%s)", strerror(-err)))
		return tap_done();
	touch(ready);
	wait_for(go);
	len = rl_nl_query_msg(&nl, req, getpid(), 0, 4096, true, 0);
	((struct nlmsghdr *)req)->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;	/* doit path too */
	for (int k = 0; k < 2; k++) {
		struct nlmsghdr *h;
		ssize_t n;

		if (k)
			((struct nlmsghdr *)req)->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		((struct nlmsghdr *)req)->nlmsg_seq = ++nl.seq;
		nlr_send_raw(&nl, req, len);
		n = nlr_recv(&nl, 20000);
		h = (struct nlmsghdr *)nl.buf;
		err = n >= (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) && h->nlmsg_type == NLMSG_ERROR ?
		      ((struct nlmsgerr *)NLMSG_DATA(h))->error : 1;
		tap_ok(err == -ENOENT, "nl-stale: a %s to the unloaded family's id: ENOENT (%s)",
		       k ? "dump" : "request", err <= 0 ? strerror(-err) : "no error reply");
	}
	id = nlr_resolve(&nl, MEMTRACE_GENL_NAME);
	tap_ok(id == -ENOENT, "nl-stale: the family no longer resolves (%d)", id);
	nlr_close(&nl);
	return tap_done();
}

static int nl_check(void)
{
	struct nlr nl;
	struct rl_check c;
	int err = nlr_open(&nl);

	if (!err) {
		rl_check_init(&c, getpid(), 0, 1UL << 30, MEMTRACE_MODE_RUNS, true);
		err = rl_nl_query(&nl, &c, getpid(), 0, 1UL << 30, true, MEMTRACE_MODE_RUNS, NULL);
		nlr_close(&nl);
	}
	if (err)
		printf("# nl-check: %s %s\n", strerror(-err), err == -EBADMSG ? c.err : "");
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && !strcmp(argv[1], "proc-hold"))
		return proc_hold(argv[2], argv[3]);
	if (argc >= 3 && !strcmp(argv[1], "proc-loop"))
		return proc_loop(atoi(argv[2]));
	if (argc >= 4 && !strcmp(argv[1], "nl-hold"))
		return nl_hold(argv[2], argv[3], argc > 4 && !strcmp(argv[4], "close"));
	if (argc >= 4 && !strcmp(argv[1], "nl-stale"))
		return nl_stale(argv[2], argv[3]);
	if (argc >= 2 && !strcmp(argv[1], "nl-check"))
		return nl_check();
	fprintf(stderr, "usage: rel-life proc-hold|proc-loop|nl-hold|nl-stale|nl-check ...\n");
	return 2;
}
