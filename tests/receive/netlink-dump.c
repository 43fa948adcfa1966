// SPDX-License-Identifier: GPL-2.0
/*
 * rcv-netlink: the sockets, and one dump read in skbs of random sizes (each
 * peeked whole first), checked whole and page by page against /proc.
 */
#include "netlink.h"

/* ---- sockets ---- */

int rnl_sock_open(void)
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
ssize_t rnl_rcv(int fd, void *buf, size_t len, int flags, int *mflags)
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
uint32_t rnl_send_query(int fd, uint32_t seq, int pid, uint64_t start, uint64_t end,
			int mode, int enc)
{
	struct nlr s = { .fd = fd, .family = rnl_family, .seq = seq - 1 };
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

void rnl_dump_init(struct dump *d, int fd, uint32_t seq, int pid, uint64_t start,
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
int rnl_feed(struct dump *d, struct dump *d2, const unsigned char *buf, ssize_t n)
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
		if (!rl_nl_check_msg(&x->c, h, rnl_family, &x->first)) {
			snprintf(d->why, sizeof(d->why), "seq %u, message %u: %s", x->seq,
				 x->msgs + 1, x->c.err);
			return -1;
		}
		x->msgs++;
		rnl_n_msgs++;
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

	m = rnl_rcv(fd, rnl_part, p, MSG_PEEK | MSG_TRUNC, &fl);
	if (m < 0)
		return m == -EAGAIN ? 0 : m;
	rnl_n_peeks++;
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

		rnl_n_short_peeks++;
		/*
		 * of its real length, not of max: netlink sizes the dump's next
		 * skbs by the largest receive length seen, and this peek must
		 * not grow them (only the random sizes do)
		 */
		m2 = rnl_rcv(fd, rnl_full, m, MSG_PEEK | MSG_TRUNC, &fl);
		rnl_n_peeks++;
		if (m2 != m || (fl & MSG_TRUNC) || memcmp(rnl_full, rnl_part, p)) {
			if (!rnl_peek_bad[0])
				snprintf(rnl_peek_bad, sizeof(rnl_peek_bad),
					 "peek of %zu then of %zd: lengths %zd and %zd, prefixes %s",
					 p, m, m, m2, memcmp(rnl_full, rnl_part, p) ? "differ" : "equal");
			snprintf(why, wlen, "%s", rnl_peek_bad);
			return -EPROTO;
		}
	} else {
		memcpy(rnl_full, rnl_part, m);
	}
	n = rnl_rcv(fd, rnl_part, s, MSG_TRUNC, &fl);
	if (n != m || !!(fl & MSG_TRUNC) != ((size_t)m > s) ||
	    memcmp(rnl_part, rnl_full, (size_t)m < s ? (size_t)m : s)) {
		char *bad = (size_t)m > s ? rnl_trunc_bad : rnl_peek_bad;

		if (!bad[0])
			snprintf(bad, 256, "read of %zu after a peek of %zd bytes: returned %zd, msg_flags 0x%x, bytes %s",
				 s, m, n, fl,
				 n > 0 && memcmp(rnl_part, rnl_full, (size_t)m < s ? (size_t)m : s) ?
				 "differ" : "equal");
		snprintf(why, wlen, "%s", bad);
		return -EPROTO;
	}
	if ((size_t)m > s)
		rnl_n_truncs++;
	rnl_n_skbs++;
	return m;
}

/* Compare d's pages with the reference (pfns where both have them). */
int rnl_compare(const struct dump *d, const struct rc_pg *want, unsigned int from_msg,
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
int rnl_sized_dump(struct rl_rng *r, size_t max, bool vary, bool pin, int mode, int enc,
		   char *why, size_t wlen)
{
	int fd = rnl_sock_open(), rc = -1, fl;
	struct dump d;

	if (fd < 0) {
		snprintf(why, wlen, "socket: %s", strerror(-fd));
		return -1;
	}
	rnl_dump_init(&d, fd, 1, rnl_tg.pid, rnl_tg.start, rnl_tg.end, mode, rnl_admin);
	if (!rnl_send_query(fd, 1, rnl_tg.pid, rnl_tg.start, rnl_tg.end, mode, enc)) {
		snprintf(why, wlen, "send: %s", strerror(errno));
		goto out;
	}
	while (!d.done) {
		ssize_t n = vary ? next_skb(fd, r, max, &pin, why, wlen) :
				   rnl_rcv(fd, rnl_full, max, MSG_TRUNC, &fl);

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
		if (rnl_feed(&d, NULL, rnl_full, n)) {
			snprintf(why, wlen, "%s", d.why);
			goto out;
		}
	}
	if (d.err) {
		snprintf(why, wlen, "the dump ended with error %d", d.err);
		goto out;
	}
	rc = rnl_compare(&d, rnl_ref, 0, why, wlen);
out:
	close(fd);
	free(d.pg);
	return rc;
}
