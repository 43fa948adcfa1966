// SPDX-License-Identifier: GPL-2.0
/*
 * safety-ident: a /proc/memtrace file is judged as its opener, whoever uses
 * it later (kmod issue 14, defect 3). The confused deputy: an unprivileged
 * process hands a /proc/memtrace file it opened to a setuid-root program
 * (as its stdin) and reads that program's layout through its own copy:
 *  - the setuid program writes a query about itself to the file: refused
 *    (EACCES), since the opener (uid 1000) may not look at it;
 *  - the opener left a query about its own pid on another file, then exec'd
 *    the setuid program (same pid) with a fresh file as stdin: a read of the
 *    fresh file answers nothing (ENODATA), for the program and the opener;
 *  - the opener itself exec's the setuid program (same pid, same thread
 *    group), which queries itself through the inherited file: refused.
 * And the controls, which must keep working: a process querying itself,
 * its child through an inherited file, and uid 1000 refused for a root
 * process. Runs as root in the lab VM; the actors drop to uid 1000.
 *
 * Helper modes (argv[1]), run as the setuid-root copy of this program:
 *   suid-write    write "<own pid> all" to fd 0, exit 0 if the write was
 *                 accepted, 10 + errno (capped) if refused
 *   suid-read     read 1 byte from fd 0, report the result on fd 1 ("R n
 *                 errno\n"), then sleep until killed
 *   suid-nl       fd 0 is a generic netlink socket: send a QUERY of init
 *                 and one of itself on it; exit 0 if neither was answered,
 *                 1 if init's was, 2 if its own was (3 both), 4 on error
 * The same for netlink: a setuid program made to send on a socket uid 1000
 * opened answers no more than uid 1000 would get (like netlink_capable()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/netlink.h>
#include <unistd.h>

#include "rlib.h"
#include "slib.h"
#include "tap.h"

static const char *suid;

/*
 * Send a QUERY of pid on the socket with write(2), as a program that writes
 * to whatever its stdout is (no address: the kernel cannot tell it was meant
 * for netlink), and tell whether data came back (1) or an error (0).
 */
static int nl_answered(struct nlr *s, int pid)
{
	unsigned char req[256];
	size_t len = rl_nl_query_msg(s, req, pid, 0, 0, false, MEMTRACE_MODE_RUNS);
	const struct nlmsghdr *h;
	ssize_t n;
	int left, answered = -1;

	if (write(s->fd, req, len) != (ssize_t)len)
		return 0;
	while (answered < 0 && (n = nlr_recv(s, 10000)) > 0) {
		left = (int)n;
		for (h = (struct nlmsghdr *)s->buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE) {
				int err = *(const int *)NLMSG_DATA(h);

				fprintf(stderr, "# suid-nl: pid %d: %s\n", pid,
					err ? strerror(-err) : "done");
				if (answered < 0)
					answered = 0;
				break;
			}
			answered = 1;
		}
	}
	/* drain the rest of an answer */
	while (answered == 1 && nlr_recv(s, 200) > 0)
		;
	return answered == 1;
}

static int helper(const char *mode)
{
	char q[64], c;
	ssize_t n;
	int len;

	if (!strcmp(mode, "suid-write")) {
		len = snprintf(q, sizeof(q), "%d all\n", (int)getpid());
		if (write(0, q, len) == len)
			return 0;
		return 10 + (errno < 100 ? errno : 99);
	}
	if (!strcmp(mode, "suid-nl")) {
		struct sockaddr_nl me;
		socklen_t ml = sizeof(me);
		struct nlr nl = { .fd = 0, .cap = 1 << 18 };
		int id, r = 0;

		nl.buf = malloc(nl.cap);
		if (!nl.buf || getsockname(0, (struct sockaddr *)&me, &ml))
			return 4;
		nl.portid = me.nl_pid;
		id = nlr_resolve(&nl, MEMTRACE_GENL_NAME);
		if (id < 0)
			return 4;
		nl.family = id;
		r |= nl_answered(&nl, 1);
		r |= nl_answered(&nl, getpid()) << 1;
		return r;
	}
	if (!strcmp(mode, "suid-read")) {
		n = read(0, &c, 1);
		len = snprintf(q, sizeof(q), "R %zd %d\n", n, n < 0 ? errno : 0);
		if (write(1, q, len) != len)
			return 2;
		pause();
		return 0;
	}
	return 2;
}

/* Exit status of a child that ran fn as uid 1000. */
static int as_user(int (*fn)(void))
{
	int st;
	pid_t p = fork();

	if (!p) {
		sl_drop();
		_exit(fn());
	}
	if (waitpid(p, &st, 0) != p || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Run the setuid copy in mode with fd as its stdin; its wait status. */
static int suid_on_stdin(int fd, const char *mode)
{
	int st = -1;
	pid_t c = fork();

	if (!c) {
		dup2(fd, 0);
		execl(suid, suid, mode, (char *)NULL);
		_exit(4);
	}
	waitpid(c, &st, 0);
	return st;
}

/* 1. The setuid program writes a query about itself to a file uid 1000 opened. */
static int deputy_write(void)
{
	int fd = open("/proc/memtrace", O_RDWR), st, err;
	char buf[256];
	ssize_t n;

	if (fd < 0)
		return 3;
	st = suid_on_stdin(fd, "suid-write");
	n = read(fd, buf, sizeof(buf));
	err = n < 0 ? errno : 0;	/* before printf() may change it */
	printf("# deputy write: helper status %d (10 + %d = %s expected), opener's read %zd (%s)\n",
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1, EACCES, strerror(EACCES), n,
	       n < 0 ? strerror(err) : "data");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 10 + EACCES)
		return 1;
	return n < 0 && err == ENODATA ? 0 : 1;
}

/*
 * 2. The opener's child leaves a query about its own pid on one file, then
 * exec's the setuid program (same pid) with a fresh file as stdin; the
 * program reads its stdin, the opener reads the fresh file.
 */
static int deputy_read(void)
{
	int fresh = open("/proc/memtrace", O_RDWR), pfd[2], rc = 0, err;
	char buf[4096];
	ssize_t n;
	pid_t c;

	if (fresh < 0 || pipe(pfd))
		return 3;
	c = fork();
	if (!c) {
		int other = open("/proc/memtrace", O_RDWR), len;
		char q[64];

		len = snprintf(q, sizeof(q), "%d all\n", (int)getpid());
		if (other < 0 || write(other, q, len) != len)
			_exit(5);
		dup2(fresh, 0);
		dup2(pfd[1], 1);
		execl(suid, suid, "suid-read", (char *)NULL);
		_exit(4);
	}
	close(pfd[1]);
	n = read(pfd[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("# deputy read: the setuid program's read of its stdin: %s", n > 0 ? buf : "(nothing)\n");
	if (strncmp(buf, "R -1 ", 5) || atoi(buf + 5) != ENODATA)
		rc = 1;
	n = read(fresh, buf, sizeof(buf) - 1);
	err = n < 0 ? errno : 0;
	printf("# deputy read: the opener's read of the same file: %zd (%s)\n", n,
	       n < 0 ? strerror(err) : "data: the setuid program's layout");
	if (!(n < 0 && err == ENODATA))
		rc = 1;
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	return rc;
}

/* 3. The opener itself becomes the setuid program (same pid and thread group). */
static int self_exec(void)
{
	int fd = open("/proc/memtrace", O_RDWR);

	if (fd < 0)
		return 3;
	dup2(fd, 0);
	execl(suid, suid, "suid-write", (char *)NULL);
	return 4;
}

/* 4. The setuid program sends queries on a netlink socket uid 1000 opened. */
static int deputy_netlink(void)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC), st;

	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)))
		return 5;
	st = suid_on_stdin(fd, "suid-nl");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 6;
}

/* Controls. */
static int query_self(void)
{
	int fd = open("/proc/memtrace", O_RDWR), len;
	char q[64], buf[256];

	len = snprintf(q, sizeof(q), "%d all\n", (int)getpid());
	if (fd < 0 || write(fd, q, len) != len)
		return 1;
	return read(fd, buf, sizeof(buf)) > 0 ? 0 : 1;
}

static int query_child_inherited(void)
{
	int fd = open("/proc/memtrace", O_RDWR), st;
	char buf[256];
	ssize_t n;
	pid_t c = fork();

	if (!c) {
		char q[64];
		int len = snprintf(q, sizeof(q), "%d all\n", (int)getpid());

		_exit(write(fd, q, len) == len ? 0 : 1);
	}
	waitpid(c, &st, 0);
	/* the child is gone: the query it wrote was accepted, its walk ESRCH */
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return 1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;	/* the header, written when the query was accepted */
	return n < 0 && errno == ESRCH ? 0 : 2;
}

static int query_root(void)
{
	int fd = open("/proc/memtrace", O_RDWR);

	if (fd < 0)
		return 3;
	return write(fd, "1 all\n", 6) < 0 && errno == EACCES ? 0 : 1;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc == 2)
		return helper(argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	suid = sl_suid_copy();
	if (!suid) {
		printf("not ok 1 - make a setuid-root copy of this program: %s\n", strerror(errno));
		printf("1..1\n");
		return 1;
	}
	rc = as_user(deputy_write);
	tap_ok(rc == 0, "a setuid program's query of itself, written to a file uid %d opened: EACCES (status %d)",
	       SL_UID, rc);
	rc = as_user(deputy_read);
	tap_ok(rc == 0, "a fresh file handed to a setuid program answers no earlier query of its opener (status %d)",
	       rc);
	rc = as_user(self_exec);
	tap_ok(rc == 10 + EACCES,
	       "the opener exec's a setuid program, which queries itself through the file: EACCES (status %d)",
	       rc);
	rc = as_user(deputy_netlink);
	tap_ok(rc == 0,
	       "a setuid program sending on a netlink socket uid %d opened: neither init nor itself answered (status %d: 1 init, 2 itself)",
	       SL_UID, rc);
	rc = as_user(query_self);
	tap_ok(rc == 0, "control: uid %d queries itself (status %d)", SL_UID, rc);
	rc = as_user(query_child_inherited);
	tap_ok(rc == 0, "control: a child's query of itself through an inherited file is accepted (status %d)",
	       rc);
	rc = as_user(query_root);
	tap_ok(rc == 0, "control: uid %d may not query init (status %d)", SL_UID, rc);
	sl_suid_remove();
	return tap_done();
}
