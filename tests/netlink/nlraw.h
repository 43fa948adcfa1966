/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Raw generic netlink for the tests: no libnl, so that a test can send any
 * byte sequence (malformed on purpose) and see exactly what comes back, and
 * so that the programs link statically. Header-only; every function static.
 *
 *   struct nlr s;  nlr_open(&s)           socket, EXT_ACK + CAP_ACK, family id
 *   struct nlb b;  nlb_start(&b, &s, cmd, flags) ... nlb_u32(&b, type, v) ...
 *   nlr_send(&s, &b)                      sends b.len bytes (nlmsg_len as set)
 *   nlr_wait(&s, seq, &res, cb, arg)      reads until NLMSG_ERROR or NLMSG_DONE
 */
#ifndef MEMTRACE_NLRAW_H
#define MEMTRACE_NLRAW_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "memtrace.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define NLR_BUF (96 * 1024)	/* larger than a dump message (<= 32 KiB) */

struct nlr {
	int fd;
	uint16_t family;
	uint32_t seq;
	uint32_t portid;
	int timeout_ms;
	unsigned char buf[NLR_BUF];
};

/* A request being built. */
struct nlb {
	size_t len;
	uint32_t seq;
	unsigned char buf[80 * 1024];
};

struct nlr_result {
	bool answered;		/* an NLMSG_ERROR or NLMSG_DONE came */
	bool timeout;
	bool via_done;		/* the error came in NLMSG_DONE (a dump) */
	int error;		/* 0 or negative errno */
	char msg[256];		/* extended ACK message, "" if none */
	bool have_offs;
	uint32_t offs;		/* NLMSGERR_ATTR_OFFS: the bad attribute */
	unsigned int nmsgs;	/* data messages */
	size_t bytes;		/* their total size */
};

/* Called for each data message; return non-zero to stop reading. */
typedef int (*nlr_msg_cb)(const struct nlmsghdr *nlh, void *arg);

static inline struct nlattr *nlr_attr_next(struct nlattr *a, int *rem)
{
	int len = NLA_ALIGN(a->nla_len);

	*rem -= len;
	return (struct nlattr *)((char *)a + len);
}

static inline bool nlr_attr_ok(const struct nlattr *a, int rem)
{
	return rem >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) && a->nla_len <= rem;
}

#define nlr_for_each_attr(a, head, len, rem) \
	for ((a) = (struct nlattr *)(head), (rem) = (len); nlr_attr_ok(a, rem); \
	     (a) = nlr_attr_next(a, &(rem)))

/* The type without NLA_F_NESTED (nla_nest_start() sets it) and NLA_F_NET_BYTEORDER. */
static inline int nlr_type(const struct nlattr *a)
{
	return a->nla_type & NLA_TYPE_MASK;
}

static inline void *nlr_data(const struct nlattr *a)
{
	return (char *)a + NLA_HDRLEN;
}

static inline int nlr_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

static inline void nlb_init(struct nlb *b, struct nlr *s, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *h = (struct nlmsghdr *)b->buf;

	memset(b->buf, 0, NLMSG_HDRLEN);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = b->seq = ++s->seq;
	b->len = NLMSG_HDRLEN;
	h->nlmsg_len = (uint32_t)b->len;
}

static inline void nlb_put(struct nlb *b, const void *data, size_t len)
{
	struct nlmsghdr *h = (struct nlmsghdr *)b->buf;

	if (b->len + NLMSG_ALIGN(len) > sizeof(b->buf)) {
		fprintf(stderr, "nlb_put: request too large\n");
		_exit(2);
	}
	memcpy(b->buf + b->len, data, len);
	memset(b->buf + b->len + len, 0, NLMSG_ALIGN(len) - len);
	b->len += NLMSG_ALIGN(len);
	h->nlmsg_len = (uint32_t)b->len;
}

/* A memtrace request: nlmsghdr + genlmsghdr. */
static inline void nlb_start(struct nlb *b, struct nlr *s, uint8_t cmd, uint16_t flags)
{
	struct genlmsghdr g = { .cmd = cmd, .version = MEMTRACE_GENL_VERSION };

	nlb_init(b, s, s->family, flags);
	nlb_put(b, &g, sizeof(g));
}

static inline void nlb_attr(struct nlb *b, uint16_t type, const void *data, size_t len)
{
	struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + len), .nla_type = type };
	struct nlmsghdr *h = (struct nlmsghdr *)b->buf;

	if (b->len + NLA_HDRLEN + NLA_ALIGN(len) > sizeof(b->buf)) {
		fprintf(stderr, "nlb_attr: request too large\n");
		_exit(2);
	}
	memcpy(b->buf + b->len, &a, sizeof(a));
	memcpy(b->buf + b->len + NLA_HDRLEN, data, len);
	memset(b->buf + b->len + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	b->len += NLA_HDRLEN + NLA_ALIGN(len);
	h->nlmsg_len = (uint32_t)b->len;
}

static inline void nlb_u8(struct nlb *b, uint16_t type, uint8_t v) { nlb_attr(b, type, &v, 1); }
static inline void nlb_u32(struct nlb *b, uint16_t type, uint32_t v) { nlb_attr(b, type, &v, 4); }
static inline void nlb_u64(struct nlb *b, uint16_t type, uint64_t v) { nlb_attr(b, type, &v, 8); }

static inline int nlr_send_raw(struct nlr *s, const void *buf, size_t len)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	ssize_t n = sendto(s->fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to));

	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

static inline int nlr_send(struct nlr *s, const struct nlb *b)
{
	return nlr_send_raw(s, b->buf, b->len);
}

/* The TLVs of an NLMSG_ERROR / NLMSG_DONE after a payload of plen bytes. */
static inline void nlr_ext_ack(const struct nlmsghdr *nlh, size_t plen, struct nlr_result *r)
{
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(plen);
	struct nlattr *a;
	int rem;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || nlh->nlmsg_len <= off)
		return;
	nlr_for_each_attr(a, (char *)nlh + off, (int)(nlh->nlmsg_len - off), rem) {
		if (a->nla_type == NLMSGERR_ATTR_MSG && nlr_len(a) > 0)
			snprintf(r->msg, sizeof(r->msg), "%.*s",
				 (int)strnlen(nlr_data(a), (size_t)nlr_len(a)), (char *)nlr_data(a));
		else if (a->nla_type == NLMSGERR_ATTR_OFFS && nlr_len(a) == 4) {
			r->have_offs = true;
			memcpy(&r->offs, nlr_data(a), 4);
		}
	}
}

/*
 * Read the answer to request seq: data messages go to cb; stops at
 * NLMSG_ERROR (error or ack) or NLMSG_DONE, or when cb asks. Messages of
 * other requests are skipped. 0, or -errno of the socket itself.
 */
static inline int nlr_wait(struct nlr *s, uint32_t seq, struct nlr_result *r,
			   nlr_msg_cb cb, void *arg)
{
	memset(r, 0, sizeof(*r));
	for (;;) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		struct nlmsghdr *h;
		ssize_t n;
		int left;

		n = poll(&p, 1, s->timeout_ms ? s->timeout_ms : 20000);
		if (n == 0) {
			r->timeout = true;
			return 0;
		}
		n = recv(s->fd, s->buf, sizeof(s->buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		left = (int)n;
		for (h = (struct nlmsghdr *)s->buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);
				size_t plen = sizeof(*e);

				r->answered = true;
				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
					r->error = -EBADMSG;
					return 0;
				}
				r->error = e->error;
				if (!(h->nlmsg_flags & NLM_F_CAPPED))
					plen += e->msg.nlmsg_len - sizeof(e->msg);
				nlr_ext_ack(h, plen, r);
				return 0;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				int e = 0;

				r->answered = true;
				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&e, NLMSG_DATA(h), sizeof(e));
				r->error = e < 0 ? e : 0;
				r->via_done = e < 0;
				nlr_ext_ack(h, sizeof(int), r);
				return 0;
			}
			r->nmsgs++;
			r->bytes += h->nlmsg_len;
			if (cb && cb(h, arg))
				return 0;
		}
	}
}

/* Resolve a generic netlink family by name: its id, or -errno. */
static inline int nlr_resolve(struct nlr *s, const char *name)
{
	static struct nlb b;
	struct genlmsghdr g = { .cmd = CTRL_CMD_GETFAMILY, .version = 1 };
	struct nlattr *a;
	int id = -ENOENT, rem;

	nlb_init(&b, s, GENL_ID_CTRL, NLM_F_ACK);
	nlb_put(&b, &g, sizeof(g));
	nlb_attr(&b, CTRL_ATTR_FAMILY_NAME, name, strlen(name) + 1);
	if (nlr_send(s, &b))
		return -EIO;
	for (;;) {
		struct nlmsghdr *h = (struct nlmsghdr *)s->buf;
		ssize_t n = recv(s->fd, s->buf, sizeof(s->buf), 0);
		int left = (int)n;

		if (n < 0)
			return -errno;
		for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != b.seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error ? e->error : id;
			}
			nlr_for_each_attr(a, (char *)NLMSG_DATA(h) + GENL_HDRLEN,
					  (int)(h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN), rem)
				if (a->nla_type == CTRL_ATTR_FAMILY_ID && nlr_len(a) == 2)
					id = *(uint16_t *)nlr_data(a);
		}
	}
}

static inline int nlr_open(struct nlr *s)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	socklen_t ml = sizeof(me);
	int one = 1, id;

	memset(s, 0, offsetof(struct nlr, buf));
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (s->fd < 0)
		return -errno;
	if (bind(s->fd, (struct sockaddr *)&me, sizeof(me)) ||
	    getsockname(s->fd, (struct sockaddr *)&me, &ml))
		return -errno;
	s->portid = me.nl_pid;
	setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(s->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	id = nlr_resolve(s, MEMTRACE_GENL_NAME);
	if (id < 0) {
		close(s->fd);
		return id;
	}
	s->family = (uint16_t)id;
	return 0;
}

static inline void nlr_close(struct nlr *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

#endif /* MEMTRACE_NLRAW_H */
