// SPDX-License-Identifier: GPL-2.0
/*
 * flt-query: every allocation a query makes fails in turn (issue 15, part 4).
 *
 * For each kind of query (/proc runs and pages; netlink runs and pages,
 * nested and packed, packed and indexed; GET_INFO) this arms
 * /proc/thread-self/fail-nth with N = 1, 2, 3... right before the query's
 * system calls and disarms it right after: the N-th allocation this thread
 * makes in them fails (failslab or fail_page_alloc, whichever it is), and
 * only that one. Reading fail-nth back tells whether the failure was
 * injected; the first N whose query made fewer than N allocations ends the
 * kind. Every query must either fail with a clean errno (ENOMEM; ENOBUFS
 * where netlink reports a lost message) or absorb the failure and answer
 * correctly (rlib's checker: records contiguous, states valid, summary adds
 * up); after each, a query with nothing injected must succeed. At the end
 * no dump may still hold the module (its refcount is back to 0); leaks are
 * the lane's kmemleak scan after rmmod (tests/vm-suite.sh).
 *
 * fail-nth rather than task-filter/interval: the debugfs interval counter
 * is global and cannot be reset, so "the N-th allocation" would drift;
 * fail-nth counts from the write, in this thread only, whatever other tasks
 * do. The debugfs knobs are still set, for what fail-nth obeys: verbose 0
 * (no stack dump per failure, which the lane would count as a kernel
 * report), ignore-gfp-wait N (GFP_KERNEL allocations count), min-order 0,
 * probability 0 (nothing random); their old values come back at the end.
 *
 * The issue's own mechanism is exercised too, in one more pass over /proc
 * runs queries (failslab only: fail_page_alloc has a counter of its own):
 * /proc/self/make-it-fail with task-filter, probability 100, times 1 and
 * interval N. The interval counter cannot be reset, but it stops counting
 * once times reaches 0; so each step first lets it fail once (open(2) of
 * /dev/null in a loop until times reads 0: the counter is then a multiple
 * of N, whichever allocation took the failure), arms times 1 again,
 * and the query's N-th slab allocation is the one that fails; times still
 * 1 afterwards says the query made fewer than N.
 *
 * Needs CONFIG_FAULT_INJECTION_DEBUG_FS, FAILSLAB and FAIL_PAGE_ALLOC (the
 * debug kernel): elsewhere one plain SKIP (see suite-faults.sh). Root, the
 * module loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rlib.h"
#include "tap.h"

#define FLT_PAGES	96	/* 32 written, 32 read (zero page), 32 untouched */
#define FLT_MAX_STEPS	1000	/* a kind that never ends fails */
#define FI_SLAB		"/sys/kernel/debug/failslab"
#define FI_PAGE		"/sys/kernel/debug/fail_page_alloc"

enum flt_kind {
	K_PROC_RUNS, K_PROC_PAGES, K_NL_RUNS, K_NL_PAGES, K_NL_PACKED_RUNS,
	K_NL_PACKED_PAGES, K_NL_INDEXED, K_NL_INFO, K_NUM
};

static const char *const kind_names[K_NUM] = {
	"proc runs", "proc pages", "netlink runs (nested)", "netlink pages (nested)",
	"netlink runs (packed)", "netlink pages (packed, pfns)",
	"netlink pages (packed, indexed, pfns)", "netlink GET_INFO",
};

static int nth_fd = -1;
static uint64_t t_start, t_end;
static char proc_buf[65536];
static char why[512];

/* ---- debugfs knobs, saved and restored ---- */
struct knob {
	const char *path;
	const char *want;
	char old[64];
	bool saved;
};

static struct knob knobs[] = {
	{ .path = FI_SLAB "/verbose", .want = "0" },
	{ .path = FI_SLAB "/probability", .want = "0" },
	{ .path = FI_SLAB "/ignore-gfp-wait", .want = "N" },
	/* for the interval pass; inert while probability is 0 */
	{ .path = FI_SLAB "/task-filter", .want = "Y" },
	{ .path = FI_SLAB "/times", .want = "0" },
	{ .path = FI_SLAB "/space", .want = "0" },
	{ .path = FI_SLAB "/interval", .want = "1" },
	{ .path = FI_PAGE "/verbose", .want = "0" },
	{ .path = FI_PAGE "/probability", .want = "0" },
	{ .path = FI_PAGE "/ignore-gfp-wait", .want = "N" },
	{ .path = FI_PAGE "/ignore-gfp-highmem", .want = "Y" },	/* user pages: not the module's */
	{ .path = FI_PAGE "/min-order", .want = "0" },
};

static int put_file(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY), rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, v, strlen(v)) != (ssize_t)strlen(v))
		rc = -errno;
	close(fd);
	return rc;
}

static int get_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static bool knobs_set(void)
{
	bool ok = true;
	char now[64];

	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		struct knob *k = &knobs[i];

		if (get_file(k->path, k->old, sizeof(k->old))) {
			tap_diag("cannot read %s: %s", k->path, strerror(errno));
			ok = false;
			continue;
		}
		k->saved = true;
		if (put_file(k->path, k->want) || get_file(k->path, now, sizeof(now)) ||
		    strcmp(now, k->want)) {
			tap_diag("cannot set %s to %s", k->path, k->want);
			ok = false;
		}
	}
	return ok;
}

static void knobs_restore(void)
{
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		if (knobs[i].saved)
			put_file(knobs[i].path, knobs[i].old);
}

/* ---- fail-nth of this thread ---- */
static int nth_set(unsigned int n)
{
	char b[16];
	int l = snprintf(b, sizeof(b), "%u", n);

	return pwrite(nth_fd, b, l, 0) == l ? 0 : -errno;
}

/* What is left of the count: 0 once the failure was injected. */
static long nth_left(void)
{
	char b[32];
	ssize_t n = pread(nth_fd, b, sizeof(b) - 1, 0);

	if (n <= 0)
		return -1;
	b[n] = '\0';
	return strtol(b, NULL, 10);
}

/* ---- the queries: prepared unarmed, their system calls armed ---- */
static bool is_proc(enum flt_kind k)
{
	return k == K_PROC_RUNS || k == K_PROC_PAGES;
}

static int proc_query(enum flt_kind k, unsigned int n, long *left)
{
	int mode = k == K_PROC_PAGES ? MEMTRACE_MODE_PAGES : MEMTRACE_MODE_RUNS;
	struct rl_check c;
	struct rl_text t;
	char line[128];
	int fd, err = 0, len;
	ssize_t r;

	len = snprintf(line, sizeof(line), "%d 0x%" PRIx64 " 0x%" PRIx64 " %s\n", getpid(),
		       t_start, t_end, mode == MEMTRACE_MODE_PAGES ? "pages" : "runs");
	rl_check_init(&c, getpid(), t_start, t_end, mode, true);
	rl_text_init(&t, &c);
	*left = -1;
	if (n && nth_set(n))
		return -EPERM;
	fd = open("/proc/" MEMTRACE_PROC_NAME, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (write(fd, line, len) != len) {
		err = -errno;
		goto close;
	}
	for (;;) {
		r = read(fd, proc_buf, sizeof(proc_buf));
		if (r < 0) {
			err = -errno;
			break;
		}
		if (!r) {
			if (!rl_text_end(&t))
				err = -EBADMSG;
			break;
		}
		if (!rl_text_feed(&t, proc_buf, r)) {
			err = -EBADMSG;
			break;
		}
	}
close:
	close(fd);
out:
	*left = n ? nth_left() : 1;
	nth_set(0);
	if (err == -EBADMSG)
		snprintf(why, sizeof(why), "%s", c.err);
	return err;
}

/* GET_INFO: its reply must carry the page size and the number of states. */
static int nl_info(struct nlr *s)
{
	unsigned char req[NLMSG_HDRLEN + GENL_HDRLEN];
	struct nlmsghdr *h = (struct nlmsghdr *)req;
	struct genlmsghdr *g = (struct genlmsghdr *)(req + NLMSG_HDRLEN);
	uint32_t seq = ++s->seq;
	int err;

	memset(req, 0, sizeof(req));
	h->nlmsg_len = sizeof(req);
	h->nlmsg_type = s->family;
	h->nlmsg_flags = NLM_F_REQUEST;
	h->nlmsg_seq = seq;
	g->cmd = MEMTRACE_CMD_GET_INFO;
	g->version = MEMTRACE_GENL_VERSION;
	err = nlr_send_raw(s, req, sizeof(req));
	if (err)
		return err;
	for (;;) {
		ssize_t n = nlr_recv(s, 10000);
		int left = (int)n, rem;
		uint32_t psz = 0, nst = 0;
		struct nlattr *a;

		if (n < 0)
			return (int)n;
		if (!n) {
			snprintf(why, sizeof(why), "no GET_INFO reply in 10 s");
			return -ETIMEDOUT;
		}
		for (h = (struct nlmsghdr *)s->buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (e->error >= 0) {
					snprintf(why, sizeof(why), "GET_INFO acked %d, no reply",
						 e->error);
					return -EBADMSG;
				}
				return e->error;
			}
			if (h->nlmsg_type != s->family)
				continue;
			rem = (int)h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
			for (a = (struct nlattr *)((char *)NLMSG_DATA(h) + GENL_HDRLEN);
			     rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem;
			     rem -= NLA_ALIGN(a->nla_len),
			     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len))) {
				if (a->nla_len != NLA_HDRLEN + 4)
					continue;
				if (a->nla_type == MEMTRACE_A_PAGE_SIZE)
					memcpy(&psz, (char *)a + NLA_HDRLEN, 4);
				if (a->nla_type == MEMTRACE_A_NSTATES)
					memcpy(&nst, (char *)a + NLA_HDRLEN, 4);
			}
			if (psz != RL_PAGE || nst != MEMTRACE_NSTATES) {
				snprintf(why, sizeof(why), "GET_INFO reply: page size %u, %u states",
					 psz, nst);
				return -EBADMSG;
			}
			return 0;
		}
	}
}

static int nl_query(enum flt_kind k, unsigned int n, long *left)
{
	static const int modes[K_NUM] = {
		[K_NL_RUNS] = MEMTRACE_MODE_RUNS,
		[K_NL_PAGES] = MEMTRACE_MODE_PAGES,
		[K_NL_PACKED_RUNS] = MEMTRACE_MODE_RUNS | RL_PACKED,
		[K_NL_PACKED_PAGES] = MEMTRACE_MODE_PAGES | RL_PACKED,
		[K_NL_INDEXED] = MEMTRACE_MODE_PAGES | RL_PACKED | RL_INDEXED,
	};
	struct rl_check c;
	struct nlr s;
	int err;

	*left = 1;
	err = nlr_open(&s);
	if (err) {
		snprintf(why, sizeof(why), "socket or family lookup failed, unarmed");
		return err == -ENOMEM || err == -ENOBUFS ? -EIO : err;
	}
	memset(s.buf, 0, s.cap);	/* no page fault in recv */
	rl_check_init(&c, getpid(), t_start, t_end, modes[k] & 0xff, true);
	if (n && nth_set(n)) {
		nlr_close(&s);
		*left = -1;
		return -EPERM;
	}
	if (k == K_NL_INFO)
		err = nl_info(&s);
	else
		err = rl_nl_query(&s, &c, getpid(), t_start, t_end, true, modes[k], NULL);
	if (n)
		*left = nth_left();
	nth_set(0);
	if (err == -EBADMSG && k != K_NL_INFO)
		snprintf(why, sizeof(why), "%s", c.err);
	nlr_close(&s);
	return err;
}

static int query(enum flt_kind k, unsigned int n, long *left)
{
	why[0] = '\0';
	return is_proc(k) ? proc_query(k, n, left) : nl_query(k, n, left);
}

static bool clean(int err)
{
	return err == -ENOMEM || err == -ENOBUFS;
}

static void step_kind(enum flt_kind k, int passes)
{
	unsigned long failed = 0, nomem = 0, nobufs = 0, absorbed = 0, unclean = 0;
	unsigned long after_bad = 0, steps = 0;
	bool unarmed_fail = false;
	int ended = 0;	/* passes that reached a query with nothing injected */
	char first_bad[600] = "", first_after[600] = "";
	unsigned int n;
	long left;
	int err, pass;

	/*
	 * The n-th allocation is not always the same site (KASAN's stack
	 * depot and kmemleak's metadata allocate now and then): more passes
	 * make a missed site less likely.
	 */
	for (pass = 0; pass < passes; pass++)
	for (n = 1; n <= FLT_MAX_STEPS; n++) {
		err = query(k, n, &left);
		if (left < 0) {
			snprintf(first_bad, sizeof(first_bad), "step %u: cannot read fail-nth", n);
			unclean++;
			break;
		}
		if (left > 0) {
			/* fewer than n allocations: nothing was injected */
			ended++;
			if (err) {
				unarmed_fail = true;
				snprintf(first_bad, sizeof(first_bad),
					 "step %u, nothing injected: %s %s", n, strerror(-err), why);
			}
			break;
		}
		steps++;
		if (!err) {
			absorbed++;
		} else if (clean(err)) {
			failed++;
			if (err == -ENOMEM)
				nomem++;
			else
				nobufs++;
		} else {
			if (!unclean++)
				snprintf(first_bad, sizeof(first_bad),
					 "allocation %u failed: the query returned %s (%d)%s%s",
					 n, strerror(-err), err, why[0] ? ": " : "", why);
		}
		err = query(k, 0, &left);
		if (err && !after_bad++)
			snprintf(first_after, sizeof(first_after),
				 "after allocation %u failed, a query with nothing injected: %s%s%s",
				 n, strerror(-err), why[0] ? ": " : "", why);
	}
	if (first_bad[0])
		tap_diag("%s: %s", kind_names[k], first_bad);
	if (ended < passes && !unclean && !unarmed_fail)
		tap_diag("%s: still allocating after %u failures", kind_names[k], FLT_MAX_STEPS);
	if (!steps)
		tap_diag("%s: no failure was injected at all", kind_names[k]);
	tap_ok(ended == passes && !unarmed_fail && !unclean && steps && failed,
	       "%s: %lu allocations failed in turn (%d pass%s): %lu queries failed cleanly "
	       "(ENOMEM %lu, ENOBUFS %lu), %lu absorbed the failure and answered correctly, "
	       "%lu other",
	       kind_names[k], steps, passes, passes > 1 ? "es" : "", failed, nomem, nobufs,
	       absorbed, unclean);
	if (first_after[0])
		tap_diag("%s: %s", kind_names[k], first_after);
	tap_ok(steps && !after_bad, "%s: a query after each of the %lu failures succeeded (%lu did not)",
	       kind_names[k], steps, after_bad);
}

/* ---- the interval pass: make-it-fail, task-filter, interval N, times 1 ---- */
static int put_num(const char *path, unsigned long v)
{
	char b[24];

	snprintf(b, sizeof(b), "%lu", v);
	return put_file(path, b);
}

static long get_num(const char *path)
{
	char b[32];

	return get_file(path, b, sizeof(b)) ? -1 : strtol(b, NULL, 10);
}

/*
 * Let failslab fail once (on our open(2)s, or on whichever of our slab
 * allocations comes first): the counter, which stops with times at 0, is
 * then a multiple of n.
 */
static bool interval_sync(unsigned int n)
{
	if (put_num(FI_SLAB "/interval", n) || put_num(FI_SLAB "/times", 1))
		return false;
	for (unsigned int i = 0; i < 4 * n + 64; i++) {
		int fd;

		if (get_num(FI_SLAB "/times") == 0)
			return true;
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
	}
	return get_num(FI_SLAB "/times") == 0;
}

static void interval_pass(enum flt_kind k)
{
	unsigned long steps = 0, failed = 0, absorbed = 0, unclean = 0, after_bad = 0;
	char first_bad[600] = "", first_after[600] = "";
	bool ended = false, setup;
	unsigned int n;
	long left, times;
	int err;

	setup = !put_file("/proc/self/make-it-fail", "1") &&
		!put_file(FI_SLAB "/probability", "100");
	for (n = 1; setup && n <= FLT_MAX_STEPS; n++) {
		if (!interval_sync(n)) {
			snprintf(first_bad, sizeof(first_bad),
				 "step %u: no slab allocation of ours failed with interval %u, times 1", n, n);
			unclean++;
			break;
		}
		put_num(FI_SLAB "/times", 1);
		err = query(k, 0, &left);
		times = get_num(FI_SLAB "/times");
		put_num(FI_SLAB "/times", 0);
		if (times != 0) {
			/* times unreadable: the failure fell on reading it, after the query */
			ended = times == 1 || times < 0;
			if (err || !ended)
				snprintf(first_bad, sizeof(first_bad),
					 "step %u, nothing injected (times %ld): %s %s", n, times,
					 strerror(-err), why);
			unclean += err || !ended;
			break;
		}
		steps++;
		if (!err) {
			absorbed++;
		} else if (clean(err)) {
			failed++;
		} else if (!unclean++) {
			snprintf(first_bad, sizeof(first_bad),
				 "slab allocation %u failed: the query returned %s (%d)%s%s",
				 n, strerror(-err), err, why[0] ? ": " : "", why);
		}
		err = query(k, 0, &left);
		if (err && !after_bad++)
			snprintf(first_after, sizeof(first_after),
				 "after slab allocation %u failed, a query with nothing injected: %s %s",
				 n, strerror(-err), why);
	}
	put_file(FI_SLAB "/probability", "0");
	put_file("/proc/self/make-it-fail", "0");
	if (!setup)
		tap_diag("cannot set /proc/self/make-it-fail or failslab/probability");
	if (first_bad[0])
		tap_diag("%s (interval pass): %s", kind_names[k], first_bad);
	tap_ok(setup && ended && !unclean && failed,
	       "%s, make-it-fail + task-filter + interval N + times 1: %lu slab allocations "
	       "failed in turn: %lu queries failed cleanly, %lu absorbed the failure, %lu other",
	       kind_names[k], steps, failed, absorbed, unclean);
	if (first_after[0])
		tap_diag("%s (interval pass): %s", kind_names[k], first_after);
	tap_ok(steps && !after_bad,
	       "%s, interval pass: a query after each of the %lu failures succeeded (%lu did not)",
	       kind_names[k], steps, after_bad);
}

static long module_refcnt(void)
{
	char b[32];

	if (get_file("/sys/module/memtrace/refcnt", b, sizeof(b)))
		return -1;
	return strtol(b, NULL, 10);
}

int main(void)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	volatile char sink;
	char *t;
	long rc = -1, left;
	/* mt_flt_passes=P on the kernel command line: step each kind P times */
	int i, err, passes = (int)rl_knob("mt_flt_passes", 3);

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access(FI_SLAB, F_OK) || access(FI_PAGE, F_OK)) {
		/* suite-faults.sh checks first; run by hand on another kernel */
		printf("ok 1 - fault injection # SKIP no %s or %s: "
		       "the kernel lacks CONFIG_FAULT_INJECTION_DEBUG_FS (only the debug kernel has it)\n",
		       FI_SLAB, FI_PAGE);
		printf("1..1\n");
		return 0;
	}
	t = mmap(NULL, FLT_PAGES * RL_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED) {
		tap_ok(0, "mmap of the target range: %s", strerror(errno));
		return tap_done();
	}
	for (i = 0; i < FLT_PAGES / 3; i++)
		t[i * RL_PAGE] = 1;
	for (; i < 2 * FLT_PAGES / 3; i++)
		sink = t[i * RL_PAGE];
	(void)sink;
	t_start = (uintptr_t)t;
	t_end = t_start + FLT_PAGES * RL_PAGE;
	memset(proc_buf, 0, sizeof(proc_buf));

	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (!tap_ok(nth_fd >= 0 && knobs_set(),
		    "fault injection set up: fail-nth of this thread, failslab and "
		    "fail_page_alloc counting GFP_KERNEL allocations of any order, quietly")) {
		knobs_restore();
		return tap_done();
	}

	/* each kind once unarmed: it works, and its code and data are paged in */
	for (i = 0; i < K_NUM; i++) {
		err = query(i, 0, &left);
		if (err)
			tap_diag("%s: %s %s", kind_names[i], strerror(-err), why);
		if (!tap_ok(!err, "%s: answers with nothing injected", kind_names[i]))
			continue;
		step_kind(i, passes);
	}
	nth_set(0);
	interval_pass(K_PROC_RUNS);
	knobs_restore();

	/* a dump left running would hold the module; socket teardown is deferred */
	for (i = 0; i < 50 && (rc = module_refcnt()) != 0; i++)
		nanosleep(&ts, NULL);
	tap_ok(rc == 0, "memtrace refcount back to 0 once every file and socket is closed (%ld)",
	       rc);
	munmap(t, FLT_PAGES * RL_PAGE);
	return tap_done();
}
