// SPDX-License-Identifier: GPL-2.0
/*
 * rcv-netlink [SEED]: the receive side of the netlink QUERY dump (issue 15,
 * section 1). tests/safety/recv.c already dumps with one fixed receive
 * length a dump (every message read with exactly that length, fresh socket,
 * no PEEK, no truncation); this program varies the receive size inside a
 * dump and attacks the dump's life. What the kernel does (net/netlink):
 *  - a dump's first buffer is produced by the request itself, each next one
 *    by a recvmsg() that found the receive queue at most half full; its size
 *    comes from the largest recvmsg() length the socket has seen (peeks
 *    included), capped near 32 KiB, at least NLMSG_GOODSIZE;
 *  - netlink is a datagram socket: MSG_PEEK leaves the buffer queued (and
 *    the same bytes come again), MSG_TRUNC makes recvmsg() return the real
 *    length; a buffer too small for a queued skb gets its first bytes and
 *    msg_flags MSG_TRUNC, and the rest of that skb is DROPPED: one message
 *    of the dump is lost, the dump goes on with the next one (which starts
 *    where the lost one ended), or, when the lost skb carried NLMSG_DONE,
 *    the dump is over and nothing more comes;
 *  - one dump at a time per socket: a second dump request while one runs
 *    is refused with NLMSG_ERROR EBUSY (the first dump goes on);
 *  - a socket closed mid-dump calls the dump's done() and drops the module
 *    reference the dump took (asynchronously: after an RCU grace period);
 *  - a dump's target that exits or exec's: the walk's mm is gone, the dump
 *    ends in NLMSG_DONE carrying -ESRCH; one that changes its mappings: the
 *    answer goes on, valid, with the new layout.
 * Each dump reads every skb fully (a peek of the largest size when the
 * random one was short) before it consumes it with a random size, so every
 * answer is still checked whole (rlib) and page by page against /proc.
 * Seeded: SEED, MT_SEED or mt_seed= replays a run; mt_quick: fewer dumps,
 * 1 s stalls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rcvlib.h"
#include "tap.h"

#define BUFMAX		65536
#define TIMEOUT_MS	20000

enum { ENC_NESTS, ENC_PACKED, ENC_INDEXED, NENC };
static const char *const enc_names[NENC] = { "nests", "packed", "packed+indexed" };

static uint16_t family;
static struct rc_target tg;
static struct rc_pg *ref;	/* /proc, pages mode: one entry a page of tg */
static bool admin;
/* the main target's pages: a ~150 KiB nested pages answer (half with mt_quick) */
static size_t npages;

/* what the sized dumps saw, over all of them */
static unsigned long n_peeks, n_short_peeks, n_truncs, n_msgs, n_skbs;
static char peek_bad[256], trunc_bad[256];

static unsigned char full[BUFMAX], part[BUFMAX];

/* ---- sockets ---- */

static int sock_open(void)
{
	struct timeval tv = { .tv_sec = TIMEOUT_MS / 1000 };
	int big = 4 << 20, err;
	struct nlr s;

	err = nlr_socket(&s);
	if (err)
		return err;
	if (setsockopt(s.fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return s.fd;
}

/* recvmsg() of len bytes into buf: the return value, *mflags its msg_flags. */
static ssize_t rcv(int fd, void *buf, size_t len, int flags, int *mflags)
{
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	do
		n = recvmsg(fd, &m, flags);
	while (n < 0 && errno == EINTR);
	*mflags = m.msg_flags;
	return n < 0 ? -errno : n;
}

/* Send a QUERY dump request: its seq, or 0. */
static uint32_t send_query(int fd, uint32_t seq, int pid, uint64_t start, uint64_t end,
			   int mode, int enc)
{
	struct nlr s = { .fd = fd, .family = family, .seq = seq - 1 };
	unsigned char req[128];
	size_t len;

	if (enc != ENC_NESTS)
		mode |= RL_PACKED;
	if (enc == ENC_INDEXED)
		mode |= RL_INDEXED;
	len = rl_nl_query_msg(&s, req, pid, start, end, true, mode);
	return nlr_send_raw(&s, req, len) ? 0 : seq;
}

/* ---- one dump, read and checked ---- */

struct pgx {
	struct rc_pg p;
	bool pfn_known;
	unsigned int msg;	/* the data message it came in, from 1 */
};

struct dump {
	int fd;
	uint32_t seq;
	struct rl_check c;
	bool first, done;
	int err;		/* NLMSG_DONE's or NLMSG_ERROR's error */
	unsigned int msgs;
	uint64_t start;
	size_t npages;
	struct pgx *pg;
	char why[320];
};

static void on_rec(void *arg, uint64_t addr, uint64_t pages, unsigned int state,
		   uint32_t flags, uint64_t pfn, int64_t node)
{
	struct dump *d = arg;
	size_t i0 = (addr - d->start) / RC_PS;

	for (uint64_t i = 0; i < pages && i0 + i < d->npages; i++) {
		struct pgx *x = &d->pg[i0 + i];

		x->p.state = state;
		x->p.flags = flags;
		x->p.node = (int32_t)node;
		x->p.pfn = i ? 0 : pfn;
		x->p.seen = true;
		x->pfn_known = !i || d->c.mode == MEMTRACE_MODE_PAGES;
		x->msg = d->msgs + 1;
	}
}

static void dump_init(struct dump *d, int fd, uint32_t seq, int pid, uint64_t start,
		      uint64_t end, int mode, bool show)
{
	memset(d, 0, sizeof(*d));
	d->fd = fd;
	d->seq = seq;
	d->first = true;
	d->start = start;
	d->npages = (end - start) / RC_PS;
	d->pg = calloc(d->npages, sizeof(*d->pg));
	rl_check_init(&d->c, pid, start, end, mode, show);
	d->c.on_record = on_rec;
	d->c.arg = d;
}

/*
 * Feed the messages of one received skb (n bytes at buf) to d (and, when
 * d2 is not NULL, those of d2's seq to d2). -1 on a wrong message (why set).
 */
static int feed(struct dump *d, struct dump *d2, const unsigned char *buf, ssize_t n)
{
	int left = (int)n;
	const struct nlmsghdr *h;

	for (h = (const struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
		struct dump *x = h->nlmsg_seq == d->seq ? d :
				 d2 && h->nlmsg_seq == d2->seq ? d2 : NULL;

		if (!x) {
			snprintf(d->why, sizeof(d->why), "message of seq %u type %u, expected %u",
				 h->nlmsg_seq, h->nlmsg_type, d->seq);
			return -1;
		}
		if (x->done) {
			snprintf(d->why, sizeof(d->why), "seq %u: a message (type %u) after its end",
				 x->seq, h->nlmsg_type);
			return -1;
		}
		if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE) {
			int e = 0;

			if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
				memcpy(&e, NLMSG_DATA(h), sizeof(e));
			x->done = true;
			x->err = e;
			if (h->nlmsg_type == NLMSG_ERROR && !e) {
				snprintf(d->why, sizeof(d->why), "seq %u: an ACK in a dump", x->seq);
				return -1;
			}
			if (!e && !x->c.summary) {
				snprintf(d->why, sizeof(d->why),
					 "seq %u: NLMSG_DONE without a summary (answer at 0x%" PRIx64 ")",
					 x->seq, x->c.next);
				return -1;
			}
			continue;
		}
		if (!rl_nl_check_msg(&x->c, h, family, &x->first)) {
			snprintf(d->why, sizeof(d->why), "seq %u, message %u: %s", x->seq,
				 x->msgs + 1, x->c.err);
			return -1;
		}
		x->msgs++;
		n_msgs++;
	}
	if (left >= (int)NLMSG_HDRLEN) {
		snprintf(d->why, sizeof(d->why), "%d bytes of a partial message", left);
		return -1;
	}
	return 0;
}

/* A receive size in [1, max]: tiny, log-uniform or uniform, a third each. */
static size_t pick(struct rl_rng *r, size_t max)
{
	switch (rl_below(r, 3)) {
	case 0:
		return 1 + rl_below(r, max < 64 ? max : 64);
	case 1: {
		unsigned int bits = 1 + (unsigned int)rl_below(r, 16);
		size_t v = 1 + rl_below(r, (size_t)1 << bits);

		return v > max ? max : v;
	}
	default:
		return 1 + rl_below(r, max);
	}
}

/*
 * The next skb of the socket, with receive sizes up to max: a peek of a
 * random size (MSG_PEEK|MSG_TRUNC: the real length; of max when *pin, so
 * that every later skb is sized max), a peek of the real length when that
 * was short,
 * then a read of a random size (MSG_TRUNC) that consumes it, truncated or
 * not. The whole skb lands in full; its length, 0 on timeout, or -errno.
 * Every step is checked against the others.
 */
static ssize_t next_skb(int fd, struct rl_rng *r, size_t max, bool *pin, char *why,
			size_t wlen)
{
	size_t p = *pin ? max : pick(r, max), s = pick(r, max);
	ssize_t m, n;
	int fl;

	m = rcv(fd, part, p, MSG_PEEK | MSG_TRUNC, &fl);
	if (m < 0)
		return m == -EAGAIN ? 0 : m;
	n_peeks++;
	*pin = false;
	if (!!(fl & MSG_TRUNC) != ((size_t)m > p)) {
		snprintf(why, wlen, "peek of %zu: length %zd, msg_flags 0x%x", p, m, fl);
		return -EPROTO;
	}
	if ((size_t)m > max) {
		snprintf(why, wlen, "an skb of %zd bytes, larger than the largest receive size %zu",
			 m, max);
		return -EMSGSIZE;
	}
	if ((size_t)m > p) {
		ssize_t m2;

		n_short_peeks++;
		/*
		 * of its real length, not of max: netlink sizes the dump's next
		 * skbs by the largest receive length seen, and this peek must
		 * not grow them (only the random sizes do)
		 */
		m2 = rcv(fd, full, m, MSG_PEEK | MSG_TRUNC, &fl);
		n_peeks++;
		if (m2 != m || (fl & MSG_TRUNC) || memcmp(full, part, p)) {
			if (!peek_bad[0])
				snprintf(peek_bad, sizeof(peek_bad),
					 "peek of %zu then of %zd: lengths %zd and %zd, prefixes %s",
					 p, m, m, m2, memcmp(full, part, p) ? "differ" : "equal");
			snprintf(why, wlen, "%s", peek_bad);
			return -EPROTO;
		}
	} else {
		memcpy(full, part, m);
	}
	n = rcv(fd, part, s, MSG_TRUNC, &fl);
	if (n != m || !!(fl & MSG_TRUNC) != ((size_t)m > s) ||
	    memcmp(part, full, (size_t)m < s ? (size_t)m : s)) {
		char *bad = (size_t)m > s ? trunc_bad : peek_bad;

		if (!bad[0])
			snprintf(bad, 256, "read of %zu after a peek of %zd bytes: returned %zd, msg_flags 0x%x, bytes %s",
				 s, m, n, fl,
				 n > 0 && memcmp(part, full, (size_t)m < s ? (size_t)m : s) ?
				 "differ" : "equal");
		snprintf(why, wlen, "%s", bad);
		return -EPROTO;
	}
	if ((size_t)m > s)
		n_truncs++;
	n_skbs++;
	return m;
}

/* Compare d's pages with the reference (pfns where both have them). */
static int compare(const struct dump *d, const struct rc_pg *want, unsigned int from_msg,
		   char *why, size_t wlen)
{
	for (size_t i = 0; i < d->npages; i++) {
		const struct pgx *x = &d->pg[i];
		const struct rc_pg *a = &want[i];

		if (!x->p.seen) {
			snprintf(why, wlen, "page %zu missing", i);
			return -1;
		}
		if (x->msg < from_msg)
			continue;
		if (x->p.state == a->state && x->p.flags == a->flags && x->p.node == a->node &&
		    (!x->pfn_known || !d->c.admin || x->p.pfn == a->pfn))
			continue;
		snprintf(why, wlen, "page %zu (message %u): %s flags 0x%x node %d pfn 0x%" PRIx64
			 ", /proc says %s flags 0x%x node %d pfn 0x%" PRIx64, i, x->msg,
			 rl_state_names[x->p.state], x->p.flags, x->p.node, x->p.pfn,
			 rl_state_names[a->state], a->flags, a->node, a->pfn);
		return -1;
	}
	return 0;
}

/*
 * One dump of tg's span on a fresh socket, every receive up to max bytes
 * (random sizes, peeks, truncating reads; plain reads of max when !vary):
 * 0 when complete, well formed and equal to the reference.
 */
static int sized_dump(struct rl_rng *r, size_t max, bool vary, bool pin, int mode, int enc,
		      char *why, size_t wlen)
{
	int fd = sock_open(), rc = -1, fl;
	struct dump d;

	if (fd < 0) {
		snprintf(why, wlen, "socket: %s", strerror(-fd));
		return -1;
	}
	dump_init(&d, fd, 1, tg.pid, tg.start, tg.end, mode, admin);
	if (!send_query(fd, 1, tg.pid, tg.start, tg.end, mode, enc)) {
		snprintf(why, wlen, "send: %s", strerror(errno));
		goto out;
	}
	while (!d.done) {
		ssize_t n = vary ? next_skb(fd, r, max, &pin, why, wlen) :
				   rcv(fd, full, max, MSG_TRUNC, &fl);

		if (n == -EAGAIN || !n) {
			snprintf(why, wlen, "no message in %d s (answer at 0x%" PRIx64 ")",
				 TIMEOUT_MS / 1000, d.c.next);
			goto out;
		}
		if (n < 0) {
			if (!why[0])
				snprintf(why, wlen, "recv: %s", strerror((int)-n));
			goto out;
		}
		if (!vary && (size_t)n > max) {
			snprintf(why, wlen, "a %zd-byte skb for a %zu-byte buffer", n, max);
			goto out;
		}
		if (feed(&d, NULL, full, n)) {
			snprintf(why, wlen, "%s", d.why);
			goto out;
		}
	}
	if (d.err) {
		snprintf(why, wlen, "the dump ended with error %d", d.err);
		goto out;
	}
	rc = compare(&d, ref, 0, why, wlen);
out:
	close(fd);
	free(d.pg);
	return rc;
}

/* ---- the tests ---- */

static void test_sizes(struct rl_rng *r)
{
	static const size_t around[] = { 4096, 8192, 16384, 32768 };
	unsigned int fails = 0, n = 0, nrand = rl_quick() ? 6 : 16;
	char why[512] = "", first[600] = "";
	double t0 = rc_now();

	/* a 64 KiB reader, every encoding, both modes: what the others must get */
	for (int enc = 0; enc < NENC; enc++)
		for (int mode = 0; mode <= MEMTRACE_MODE_MAX; mode++) {
			why[0] = '\0';
			if (sized_dump(r, BUFMAX, false, false, mode, enc, why, sizeof(why)) && !fails++)
				snprintf(first, sizeof(first), "%s %s: %s", enc_names[enc],
					 mode ? "pages" : "runs", why);
		}
	if (!tap_ok(!fails, "a 64 KiB reader: 3 encodings x 2 modes, complete and equal to /proc"))
		tap_diag("%u fail; first: %s", fails, first);

	fails = 0;
	for (unsigned int i = 0; i < 4; i++)
		for (int d = -4; d < 4; d++, n++) {
			size_t max = around[i] + d;
			int enc = (int)rl_below(r, NENC), mode = rl_chance(r, 75);

			why[0] = '\0';
			if (sized_dump(r, max, true, true, mode, enc, why, sizeof(why)) && !fails++)
				snprintf(first, sizeof(first), "sizes up to %zu (%s, %s): %s", max,
					 enc_names[enc], mode ? "pages" : "runs", why);
		}
	if (!tap_ok(!fails, "every residue mod 8 around 4/8/16/32 KiB as the largest receive size (%u dumps: a first peek of that size sizes the skbs, then random peeks and reads up to it): complete, equal to the 64 KiB reader's (%.1f s)",
		    n, rc_now() - t0))
		tap_diag("%u fail; first: %s", fails, first);

	fails = 0;
	t0 = rc_now();
	for (unsigned int i = 0; i < nrand; i++) {
		int enc = (int)rl_below(r, NENC), mode = rl_chance(r, 75);

		why[0] = '\0';
		if (sized_dump(r, BUFMAX, true, false, mode, enc, why, sizeof(why)) && !fails++)
			snprintf(first, sizeof(first), "dump %u (%s, %s): %s", i, enc_names[enc],
				 mode ? "pages" : "runs", why);
	}
	if (!tap_ok(!fails, "random sizes 1..64 KiB within a dump (%u dumps): complete, equal (%.1f s)",
		    nrand, rc_now() - t0))
		tap_diag("%u fail; first: %s", fails, first);
	tap_diag("%lu skbs, %lu data messages, %lu peeks (%lu short), %lu truncating reads",
		 n_skbs, n_msgs, n_peeks, n_short_peeks, n_truncs);
	if (!tap_ok(!peek_bad[0] && n_short_peeks > 0,
		    "MSG_PEEK: %lu peeks (%lu shorter than the skb, MSG_TRUNC set): the bytes peeked are the bytes the next read got",
		    n_peeks, n_short_peeks))
		tap_diag("%s", peek_bad[0] ? peek_bad : "no short peek at all");
	if (!tap_ok(!trunc_bad[0] && n_truncs > 0,
		    "MSG_TRUNC: %lu reads shorter than their skb returned its real length with MSG_TRUNC, and the dump went on with the next message where the lost one ended",
		    n_truncs))
		tap_diag("%s", trunc_bad[0] ? trunc_bad : "no truncating read at all");
}

/*
 * The skb holding the summary (and NLMSG_DONE with it, when it fit) read
 * into a 16-byte buffer: it is gone. The dump is over: nothing more comes,
 * or NLMSG_DONE alone; the socket then serves a new dump.
 */
static void test_trunc_last(void)
{
	int fd = sock_open(), fl, ok = 0;
	unsigned char hdr[16];
	char why[512] = "";
	struct dump d;
	ssize_t n;
	bool lost_done = false, last = false;

	if (fd < 0) {
		tap_ok(0, "MSG_TRUNC on the last skb: socket: %s", strerror(-fd));
		return;
	}
	dump_init(&d, fd, 1, tg.pid, tg.start, tg.end, MEMTRACE_MODE_PAGES, admin);
	send_query(fd, 1, tg.pid, tg.start, tg.end, MEMTRACE_MODE_PAGES, ENC_NESTS);
	while (!last) {
		n = rcv(fd, full, 8192, MSG_PEEK | MSG_TRUNC, &fl);
		if (n <= 0 || n > 8192) {
			snprintf(why, sizeof(why), "peek: %zd", n);
			goto out;
		}
		/* is the summary in it? feed a copy of the checker to see */
		{
			struct dump t = d;

			t.pg = NULL;
			t.c.on_record = NULL;
			if (feed(&t, NULL, full, n)) {
				snprintf(why, sizeof(why), "%s", t.why);
				goto out;
			}
			last = t.c.summary;
			lost_done = t.done;
		}
		if (last)
			break;
		n = rcv(fd, full, 8192, MSG_TRUNC, &fl);
		if (n <= 0 || feed(&d, NULL, full, n)) {
			snprintf(why, sizeof(why), "read: %zd %s", n, d.why);
			goto out;
		}
	}
	n = rcv(fd, hdr, sizeof(hdr), MSG_TRUNC, &fl);
	if (n <= (ssize_t)sizeof(hdr) || !(fl & MSG_TRUNC)) {
		snprintf(why, sizeof(why), "truncated read returned %zd, msg_flags 0x%x", n, fl);
		goto out;
	}
	{
		struct timeval tv = { .tv_sec = 1 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	n = rcv(fd, full, BUFMAX, 0, &fl);
	if (lost_done ? n != -EAGAIN :
	    !(n >= (ssize_t)NLMSG_LENGTH(sizeof(int)) &&
	      ((struct nlmsghdr *)full)->nlmsg_type == NLMSG_DONE &&
	      ((struct nlmsghdr *)full)->nlmsg_seq == 1 && !*(int *)NLMSG_DATA(full))) {
		snprintf(why, sizeof(why), "after the lost summary (NLMSG_DONE %s): recv %zd (%s)",
			 lost_done ? "with it" : "apart", n, n < 0 ? strerror((int)-n) : "data");
		goto out;
	}
	if (!lost_done) {
		n = rcv(fd, full, BUFMAX, 0, &fl);
		if (n != -EAGAIN) {
			snprintf(why, sizeof(why), "after NLMSG_DONE: recv %zd", n);
			goto out;
		}
	}
	/* a new dump on the same socket */
	free(d.pg);
	dump_init(&d, fd, 2, tg.pid, tg.start, tg.end, MEMTRACE_MODE_RUNS, admin);
	send_query(fd, 2, tg.pid, tg.start, tg.end, MEMTRACE_MODE_RUNS, ENC_PACKED);
	while (!d.done) {
		n = rcv(fd, full, BUFMAX, MSG_TRUNC, &fl);
		if (n <= 0 || n > BUFMAX || feed(&d, NULL, full, n)) {
			snprintf(why, sizeof(why), "next dump: recv %zd %s", n, d.why);
			goto out;
		}
	}
	ok = !d.err && !compare(&d, ref, 0, why, sizeof(why));
	if (d.err)
		snprintf(why, sizeof(why), "next dump: error %d", d.err);
out:
	if (!tap_ok(ok, "MSG_TRUNC on the skb with the summary (NLMSG_DONE %s): lost, the dump is over, nothing more comes, and the socket serves a new dump, complete and equal",
		    lost_done ? "in it" : "after it"))
		tap_diag("%s", why);
	close(fd);
	free(d.pg);
}

/* Read d to its end with plain reads of len (d2 too, when not NULL). */
static int drain(struct dump *d, struct dump *d2, size_t len, char *why, size_t wlen)
{
	int fl;

	while (!d->done || (d2 && !d2->done)) {
		ssize_t n = rcv(d->fd, full, len, MSG_TRUNC, &fl);

		if (n == -EAGAIN) {
			snprintf(why, wlen, "no message in %d s: a hang", TIMEOUT_MS / 1000);
			return -1;
		}
		if (n <= 0 || (size_t)n > len) {
			snprintf(why, wlen, "recv: %zd (%s)", n, n < 0 ? strerror((int)-n) : "");
			return -1;
		}
		if (feed(d, d2, full, n)) {
			snprintf(why, wlen, "%s", d->why);
			return -1;
		}
	}
	return 0;
}

static void test_close(void)
{
	long before = rc_refcnt(), during = -1, after = -1;
	int fd = sock_open(), ok = 0, fl;
	char why[512] = "";
	struct dump d = { 0 };
	ssize_t n;

	if (fd >= 0) {
		send_query(fd, 1, tg.pid, tg.start, tg.end, MEMTRACE_MODE_PAGES, ENC_NESTS);
		n = rcv(fd, full, 4096, MSG_TRUNC, &fl);
		during = rc_refcnt();
		close(fd);
		after = rc_refcnt_wait(before);
		ok = n > 0 && during > before && after == before;
	}
	if (!tap_ok(ok, "a socket closed mid-dump: module refcount %ld before, %ld during, %ld after",
		    before, during, after))
		tap_diag("the refcount must rise while the dump runs and come back after close");
	fd = sock_open();
	ok = 0;
	if (fd >= 0) {
		dump_init(&d, fd, 7, tg.pid, tg.start, tg.end, MEMTRACE_MODE_PAGES, admin);
		send_query(fd, 7, tg.pid, tg.start, tg.end, MEMTRACE_MODE_PAGES, ENC_INDEXED);
		ok = !drain(&d, NULL, BUFMAX, why, sizeof(why)) && !d.err &&
		     !compare(&d, ref, 0, why, sizeof(why));
		close(fd);
	}
	if (!tap_ok(ok, "and a new dump after it: complete and equal"))
		tap_diag("%s (error %d)", why, d.err);
	free(d.pg);
}

static void test_two(void)
{
	int fd = sock_open(), ok = 0, fl;
	uint64_t mid = tg.start + (tg.end - tg.start) / 2;
	struct dump d1, d2, d3;
	char why[512] = "";
	ssize_t n;

	memset(&d3, 0, sizeof(d3));
	dump_init(&d1, fd, 11, tg.pid, tg.start, tg.end, MEMTRACE_MODE_PAGES, admin);
	dump_init(&d2, fd, 12, tg.pid, tg.start, mid, MEMTRACE_MODE_RUNS, admin);
	if (fd < 0) {
		snprintf(why, sizeof(why), "socket: %s", strerror(-fd));
		goto out;
	}
	send_query(fd, 11, tg.pid, tg.start, tg.end, MEMTRACE_MODE_PAGES, ENC_NESTS);
	n = rcv(fd, full, 4096, MSG_TRUNC, &fl);
	if (n <= 0 || n > 4096 || feed(&d1, NULL, full, n)) {
		snprintf(why, sizeof(why), "first message: %zd %s", n, d1.why);
		goto out;
	}
	send_query(fd, 12, tg.pid, tg.start, mid, MEMTRACE_MODE_RUNS, ENC_PACKED);
	if (drain(&d1, &d2, 4096, why, sizeof(why)))
		goto out;
	if (d1.err || compare(&d1, ref, 0, why, sizeof(why))) {
		snprintf(why + strlen(why), sizeof(why) - strlen(why), " first dump: error %d",
			 d1.err);
		goto out;
	}
	if (d2.err && d2.err != -EBUSY) {
		snprintf(why, sizeof(why), "second dump: error %d (%s)", d2.err, strerror(-d2.err));
		goto out;
	}
	if (!d2.err && compare(&d2, ref, 0, why, sizeof(why)))
		goto out;
	tap_diag("the second request mid-dump: %s", d2.err ? "refused with EBUSY" : "answered");
	dump_init(&d3, fd, 13, tg.pid, tg.start, tg.end, MEMTRACE_MODE_RUNS, admin);
	send_query(fd, 13, tg.pid, tg.start, tg.end, MEMTRACE_MODE_RUNS, ENC_NESTS);
	if (drain(&d3, NULL, BUFMAX, why, sizeof(why)) || d3.err ||
	    compare(&d3, ref, 0, why, sizeof(why)))
		goto out;
	ok = 1;
out:
	if (!tap_ok(ok, "two dumps on one socket (the second sent mid-way): the first complete and equal, the second refused (EBUSY) or complete and equal, a third after them complete and equal"))
		tap_diag("%s", why);
	if (fd >= 0)
		close(fd);
	free(d1.pg);
	free(d2.pg);
	free(d3.pg);
}

/*
 * A dump whose reader stops for seconds after its first message while its
 * target exits ('q'), exec's ('x') or changes the second half of its span
 * ('m'): ESRCH, or a valid answer (after 'm': the messages produced after the
 * change equal the target's new layout).
 */
static void test_stall(struct rl_rng *r, char cmd)
{
	static const char *const what[] = { "exits", "exec's", "changes its mappings" };
	const char *w = what[cmd == 'q' ? 0 : cmd == 'x' ? 1 : 2];
	unsigned int stall = rl_quick() ? 1 : 2;
	size_t stall_pages = rl_quick() ? 1024 : 2048;
	struct rc_pg *before = NULL, *after = NULL;
	char why[512] = "", tmp[512];
	struct rc_target t;
	struct dump d = { 0 };
	int fd = -1, ok = 0, fl, err;
	long rc0 = rc_refcnt(), rc1 = -1;
	ssize_t n;
	char *text;
	size_t len;

	err = rc_target_start(&t, rl_next(r), stall_pages);
	if (err) {
		snprintf(why, sizeof(why), "target: %s", strerror(-err));
		goto out;
	}
	before = calloc(stall_pages, sizeof(*before));
	after = calloc(stall_pages, sizeof(*after));
	if (rc_proc_answer(t.pid, t.start, t.end, "pages", admin, &text, &len, before, tmp,
			   sizeof(tmp))) {
		snprintf(why, sizeof(why), "reference before: %.400s", tmp);
		goto out;
	}
	free(text);
	fd = sock_open();
	dump_init(&d, fd, 21, t.pid, t.start, t.end, MEMTRACE_MODE_PAGES, admin);
	send_query(fd, 21, t.pid, t.start, t.end, MEMTRACE_MODE_PAGES, ENC_NESTS);
	/* one message read: the next is produced now, the rest after the stall */
	n = rcv(fd, full, 4096, MSG_TRUNC, &fl);
	if (n <= 0 || n > 4096 || feed(&d, NULL, full, n)) {
		snprintf(why, sizeof(why), "first message: %zd %s", n, d.why);
		goto out;
	}
	err = rc_target_cmd(&t, cmd);
	if (err) {
		snprintf(why, sizeof(why), "target command '%c': %s", cmd, strerror(-err));
		goto out;
	}
	if (cmd == 'm' && rc_proc_answer(t.pid, t.start, t.end, "pages", admin, &text, &len,
					 after, tmp, sizeof(tmp))) {
		snprintf(why, sizeof(why), "reference after: %.400s", tmp);
		goto out;
	}
	if (cmd == 'm')
		free(text);
	sleep(stall);
	if (drain(&d, NULL, 4096, why, sizeof(why)))
		goto out;
	if (cmd != 'm') {
		/* the messages before the end are valid (checked); then ESRCH or complete */
		if (d.err && d.err != -ESRCH) {
			snprintf(why, sizeof(why), "ended with error %d (%s), not ESRCH", d.err,
				 strerror(-d.err));
			goto out;
		}
		tap_diag("target %s: %u messages, then %s", w, d.msgs,
			 d.err ? "ESRCH" : "a complete answer");
		if (!d.err && compare(&d, before, 0, why, sizeof(why)))
			goto out;
	} else {
		if (d.err) {
			snprintf(why, sizeof(why), "ended with error %d (%s)", d.err,
				 strerror(-d.err));
			goto out;
		}
		/* messages 1 and 2 were produced before the change, 3 on after it */
		for (size_t i = 0; i < stall_pages; i++)
			if (d.pg[i].msg < 3 && d.pg[i].p.seen)
				after[i] = before[i];
		if (compare(&d, after, 0, why, sizeof(why)))
			goto out;
		tap_diag("target %s: %u messages, complete, the new layout from message 3 on",
			 w, d.msgs);
	}
	close(fd);
	fd = -1;
	rc1 = rc_refcnt_wait(rc0);
	if (rc1 != rc0) {
		snprintf(why, sizeof(why), "module refcount %ld after the socket closed, %ld before",
			 rc1, rc0);
		goto out;
	}
	ok = 1;
out:
	if (!tap_ok(ok, "a dump stalled %u s while its target %s: %s, never garbage, no hang",
		    stall, w, cmd == 'm' ? "complete, the new layout after the stall" :
		    "ESRCH or a complete answer"))
		tap_diag("%s", why);
	if (fd >= 0)
		close(fd);
	rc_target_stop(&t);
	free(d.pg);
	free(before);
	free(after);
}

int main(int argc, char **argv)
{
	struct nlr s0;
	struct rl_rng r;
	uint64_t seed;
	char why[512], *text;
	size_t len;
	double t0 = rc_now();
	long rc0;
	int err;

	if (argc > 1 && !strcmp(argv[1], "idle"))
		return rc_idle_main(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	seed = rc_seed(argc, argv);
	r.s = seed;
	admin = geteuid() == 0;
	tap_diag("seed %" PRIu64 " (MT_SEED=%" PRIu64 " replays)%s", seed, seed,
		 rl_quick() ? ", quick" : "");
	rc0 = rc_refcnt();
	if (!tap_ok(rc0 == 0, "module refcount 0 at the start (%ld)", rc0))
		tap_diag("something else holds the module: the refcount checks compare with %ld",
			 rc0);
	err = nlr_open(&s0);
	if (!tap_ok(!err, "resolve the memtrace family")) {
		tap_diag("%s", strerror(-err));
		return tap_done();
	}
	family = s0.family;
	nlr_close(&s0);
	npages = rl_quick() ? 1024 : 2048;
	err = rc_target_start(&tg, seed, npages);
	if (!tap_ok(!err, "target started (%zu pages)", npages)) {
		tap_diag("%s", strerror(-err));
		return tap_done();
	}
	ref = calloc(npages, sizeof(*ref));
	err = rc_proc_answer(tg.pid, tg.start, tg.end, "pages", admin, &text, &len, ref, why,
			     sizeof(why));
	if (!tap_ok(!err, "/proc reference, pages mode, checked (%zu bytes)", err ? 0 : len)) {
		tap_diag("%s", why);
		goto out;
	}
	free(text);
	tap_diag("target and reference took %.1f s", rc_now() - t0);
	t0 = rc_now();
	test_sizes(&r);
	test_trunc_last();
	tap_diag("sizes, PEEK and TRUNC took %.1f s", rc_now() - t0);
	t0 = rc_now();
	test_close();
	test_two();
	tap_diag("close and two dumps took %.1f s", rc_now() - t0);
	t0 = rc_now();
	test_stall(&r, 'q');
	test_stall(&r, 'x');
	test_stall(&r, 'm');
	tap_diag("the stalled dumps took %.1f s", rc_now() - t0);
	{
		struct rc_pg *again = calloc(npages, sizeof(*again));
		struct dump d = { .npages = npages };
		bool same;

		err = rc_proc_answer(tg.pid, tg.start, tg.end, "pages", admin, &text, &len, again,
				     why, sizeof(why));
		if (!err)
			free(text);
		d.pg = calloc(npages, sizeof(*d.pg));
		d.c.mode = MEMTRACE_MODE_PAGES;
		d.c.admin = admin;
		for (size_t i = 0; i < npages; i++) {
			d.pg[i].p = again[i];
			d.pg[i].pfn_known = true;
		}
		same = !err && !compare(&d, ref, 0, why, sizeof(why));
		if (!tap_ok(same, "the reference is unchanged at the end (the comparisons were fair)"))
			tap_diag("%s", why);
		free(again);
		free(d.pg);
	}
	{
		long v = rc_refcnt_wait(rc0);

		tap_ok(v == rc0, "module refcount back to %ld at the end (%ld)", rc0, v);
	}
out:
	rc_target_stop(&tg);
	free(ref);
	return tap_done();
}
