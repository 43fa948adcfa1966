// SPDX-License-Identifier: GPL-2.0
/*
 * safety-recv: the answers: /proc/memtrace's pages mode as the reference,
 * one netlink dump with one receive length, and their comparison page by
 * page.
 */
#include "recv.h"

static void on_record(void *arg, uint64_t addr, uint64_t pages, unsigned int state,
		      uint32_t flags, uint64_t pfn, int64_t node)
{
	struct collect *k = arg;
	size_t i0 = (addr - k->start) / PS;

	for (uint64_t i = 0; i < pages && i0 + i < k->npages; i++) {
		struct pg *p = &k->pg[i0 + i];

		p->state = state;
		p->flags = flags;
		p->node = (int32_t)node;
		p->pfn = i ? 0 : pfn;
		p->pfn_known = !i;
		p->seen = true;
	}
}

/* ---- the reference: /proc/memtrace, pages mode ---- */

int recv_proc_reference(const struct target_info *ti, bool admin, struct pg *pg, char *why,
			size_t wlen)
{
	struct collect k = { ti->start, (ti->end - ti->start) / PS, pg };
	struct rl_check c;
	char q[128];
	int fd, n, rc;

	memset(pg, 0, k.npages * sizeof(*pg));
	fd = open("/proc/memtrace", O_RDWR);
	if (fd < 0) {
		snprintf(why, wlen, "open /proc/memtrace: %s", strerror(errno));
		return -1;
	}
	n = snprintf(q, sizeof(q), "%d 0x%" PRIx64 " 0x%" PRIx64 " pages\n", (int)ti->pid,
		     ti->start, ti->end);
	if (write(fd, q, n) != n) {
		snprintf(why, wlen, "write query: %s", strerror(errno));
		close(fd);
		return -1;
	}
	rl_check_init(&c, ti->pid, ti->start, ti->end, MEMTRACE_MODE_PAGES, admin);
	c.on_record = on_record;
	c.arg = &k;
	rc = rl_proc_read_all(fd, &c, 65536, NULL);
	close(fd);
	if (rc) {
		snprintf(why, wlen, "read: %s%s%s", strerror(-rc), c.err[0] ? ": " : "", c.err);
		return -1;
	}
	return 0;
}

/* ---- one netlink dump with one receive length ---- */

const char *const recv_enc_names[NENC] = { "nests", "packed", "packed+indexed" };
const char *const recv_mode_names[] = { "runs", "pages" };

static unsigned char rbuf[64 * 1024];

static int sock_for(uint16_t family, size_t len, struct nlr *s)
{
	int big = 4 << 20, err = nlr_socket(s);

	if (err)
		return err;
	/* room for the dump to keep going; FORCE works as root only */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	s->family = family;
	s->cap = len;		/* nlr_recv() reads exactly this much */
	s->buf = rbuf;
	return 0;
}

/*
 * Dump [ti->start, end) of pid with every recvmsg() of len bytes; fill got.
 * 0, or -1 with why set. ends (if not NULL) gets where each of the first
 * max_ends data messages left the answer, *nmsgs how many there were.
 */
int recv_dump_once(uint16_t family, const struct target_info *ti, uint64_t end,
		   const struct combo *cb, bool show_pfns, size_t len, struct pg *got,
		   char *why, size_t wlen, uint64_t *ends, unsigned int max_ends,
		   unsigned int *nmsgs)
{
	struct collect k = { ti->start, (end - ti->start) / PS, got };
	unsigned int msgs = 0;
	unsigned char req[128];
	struct rl_check c;
	struct nlr s;
	struct nlmsghdr *h;
	int flags = cb->mode, err, rc = -1;
	bool first = true, done = false;
	size_t qlen;
	uint32_t seq;

	memset(got, 0, k.npages * sizeof(*got));
	err = sock_for(family, len, &s);
	if (err) {
		snprintf(why, wlen, "socket: %s", strerror(-err));
		return -1;
	}
	if (cb->enc != ENC_NESTS)
		flags |= RL_PACKED;
	if (cb->enc == ENC_INDEXED)
		flags |= RL_INDEXED;
	qlen = rl_nl_query_msg(&s, req, ti->pid, ti->start, end, true, flags);
	if (cb->nopfn) {
		struct nlattr a = { .nla_len = NLA_HDRLEN, .nla_type = MEMTRACE_A_NO_PFN };

		memcpy(req + qlen, &a, sizeof(a));
		qlen += NLA_HDRLEN;
		((struct nlmsghdr *)req)->nlmsg_len = qlen;
	}
	seq = ((struct nlmsghdr *)req)->nlmsg_seq;
	rl_check_init(&c, ti->pid, ti->start, end, cb->mode, show_pfns);
	c.on_record = on_record;
	c.arg = &k;
	err = nlr_send_raw(&s, req, qlen);
	if (err) {
		snprintf(why, wlen, "send: %s", strerror(-err));
		goto out;
	}
	while (!done) {
		ssize_t n = nlr_recv(&s, 20000);
		int left = (int)n;

		if (n == -EMSGSIZE) {
			snprintf(why, wlen, "MSG_TRUNC: a message longer than the %zu-byte buffer",
				 len);
			goto out;
		}
		if (n <= 0) {
			snprintf(why, wlen, "recv: %s", n ? strerror((int)-n) : "no answer in 20 s");
			goto out;
		}
		for (h = (struct nlmsghdr *)s.buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq) {
				snprintf(why, wlen, "message of seq %u, expected %u", h->nlmsg_seq, seq);
				goto out;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				snprintf(why, wlen, "NLMSG_ERROR %d (%s)", e->error,
					 strerror(-e->error));
				goto out;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				int e = 0;

				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&e, NLMSG_DATA(h), sizeof(e));
				if (e) {
					snprintf(why, wlen, "NLMSG_DONE with error %d", e);
					goto out;
				}
				done = true;
				break;
			}
			if (!show_pfns && h->nlmsg_len >= NLMSG_HDRLEN + GENL_HDRLEN) {
				/* hidden pfns: no PFNVEC at all */
				const char *p = (const char *)NLMSG_DATA(h) + GENL_HDRLEN;
				int rem = (int)h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
				const struct nlattr *a = (const struct nlattr *)p;

				for (; rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
				       a->nla_len <= rem;
				     rem -= NLA_ALIGN(a->nla_len),
				     a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len)))
					if ((a->nla_type & NLA_TYPE_MASK) == MEMTRACE_A_PFNVEC) {
						snprintf(why, wlen, "a PFNVEC though pfns are hidden");
						goto out;
					}
			}
			if (!rl_nl_check_msg(&c, h, s.family, &first)) {
				snprintf(why, wlen, "%s", c.err);
				goto out;
			}
			if (ends && msgs < max_ends)
				ends[msgs] = c.next;
			msgs++;
		}
		if (!done && left >= (int)NLMSG_HDRLEN) {
			snprintf(why, wlen, "%d bytes of a partial message", left);
			goto out;
		}
	}
	if (nmsgs)
		*nmsgs = msgs;
	if (!c.summary || c.next != end) {
		snprintf(why, wlen, "incomplete: summary %d, answer ends at 0x%" PRIx64,
			 c.summary, c.next);
		goto out;
	}
	rc = 0;
out:
	close(s.fd);
	return rc;
}

/* got against the reference; 0, or -1 with the first difference in why. */
int recv_compare(const struct target_info *ti, uint64_t end, const struct pg *ref,
		 const struct pg *got, bool show_pfns, char *why, size_t wlen)
{
	size_t n = (end - ti->start) / PS;

	for (size_t i = 0; i < n; i++) {
		const struct pg *a = &ref[i], *b = &got[i];
		char fa[8], fb[8];

		if (!b->seen) {
			snprintf(why, wlen, "page 0x%" PRIx64 " missing", ti->start + i * PS);
			return -1;
		}
		if (a->state == b->state && a->flags == b->flags && a->node == b->node &&
		    (!show_pfns || !b->pfn_known || a->pfn == b->pfn))
			continue;
		rl_flag_word(a->flags, fa);
		rl_flag_word(b->flags, fb);
		snprintf(why, wlen, "page 0x%" PRIx64 ": %s %s node %d pfn 0x%" PRIx64
			 ", /proc says %s %s node %d pfn 0x%" PRIx64, ti->start + i * PS,
			 rl_state_names[b->state], fb, b->node, b->pfn,
			 rl_state_names[a->state], fa, a->node, a->pfn);
		return -1;
	}
	return 0;
}
