// SPDX-License-Identifier: GPL-2.0
/* The raw generic netlink client of the test programs (see nlraw.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "nlraw.h"

/* Larger than any dump message: the kernel caps those at 32 KiB. */
#define NLR_BUF (256 * 1024)
/* How long nlr_wait() waits for each datagram. */
#define NLR_WAIT_MS 20000

int nlr_send_raw(struct nlr *s, const void *buf, size_t len)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	ssize_t n = sendto(s->fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to));

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int nlr_send(struct nlr *s, const struct nlb *b)
{
	return nlr_send_raw(s, b->buf, b->len);
}

ssize_t nlr_recv(struct nlr *s, int timeout_ms)
{
	ssize_t n;

	/* one system call per message: SO_RCVTIMEO instead of poll (TCG is slow) */
	if (timeout_ms != s->timeout_ms) {
		struct timeval tv = { .tv_sec = timeout_ms / 1000,
				      .tv_usec = (timeout_ms % 1000) * 1000 };

		setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		s->timeout_ms = timeout_ms;
	}
	for (;;) {
		n = recv(s->fd, s->buf, s->cap, MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -errno;
		if ((size_t)n > s->cap)
			return -EMSGSIZE;
		return n;
	}
}

size_t nlr_put_attr(void *p, uint16_t type, const void *data, size_t len)
{
	struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + len), .nla_type = type };
	unsigned char *d = p;

	memcpy(d, &a, sizeof(a));
	if (len)
		memcpy(d + NLA_HDRLEN, data, len);
	memset(d + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	return NLA_HDRLEN + NLA_ALIGN(len);
}

/* The family id of a CTRL_CMD_GETFAMILY answer into *id, when it has one. */
static void ctrl_family_id(const struct nlmsghdr *h, int *id)
{
	struct nlattr *a;
	uint16_t v;
	int rem;

	nlr_for_each_attr(a, (char *)NLMSG_DATA(h) + GENL_HDRLEN,
			  (int)h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, rem)
		if (nlr_type(a) == CTRL_ATTR_FAMILY_ID && nlr_len(a) == 2) {
			memcpy(&v, nlr_data(a), 2);
			*id = v;
		}
}

int nlr_resolve(struct nlr *s, const char *name)
{
	unsigned char req[128];
	struct nlmsghdr *h = (struct nlmsghdr *)req;
	struct genlmsghdr *g = (struct genlmsghdr *)(req + NLMSG_HDRLEN);
	size_t len = NLMSG_HDRLEN + GENL_HDRLEN;
	uint32_t seq = ++s->seq;
	int id = -ENOENT;

	memset(req, 0, sizeof(req));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	len += nlr_put_attr(req + len, CTRL_ATTR_FAMILY_NAME, name, strlen(name) + 1);
	h->nlmsg_len = len;
	h->nlmsg_type = GENL_ID_CTRL;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = seq;
	if (nlr_send_raw(s, req, len))
		return -EIO;
	for (;;) {
		ssize_t n = nlr_recv(s, 10000);
		int left = (int)n;

		if (n <= 0)
			return n ? (int)n : -ETIMEDOUT;
		for (h = (struct nlmsghdr *)s->buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error ? e->error : id;
			}
			if (h->nlmsg_type == GENL_ID_CTRL)
				ctrl_family_id(h, &id);
		}
	}
}

int nlr_socket(struct nlr *s)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	socklen_t ml = sizeof(me);
	int one = 1, err;

	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (s->fd < 0)
		return -errno;
	if (bind(s->fd, (struct sockaddr *)&me, sizeof(me)) ||
	    getsockname(s->fd, (struct sockaddr *)&me, &ml)) {
		err = -errno;
		close(s->fd);
		s->fd = -1;
		return err;
	}
	s->portid = me.nl_pid;
	setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(s->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return 0;
}

int nlr_open(struct nlr *s)
{
	int id = nlr_socket(s);

	if (id)
		return id;
	s->cap = NLR_BUF;
	s->buf = malloc(s->cap);
	if (!s->buf) {
		nlr_close(s);
		return -ENOMEM;
	}
	id = nlr_resolve(s, MEMTRACE_GENL_NAME);
	if (id < 0) {
		nlr_close(s);
		return id;
	}
	s->family = (uint16_t)id;
	return 0;
}

void nlr_close(struct nlr *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->buf);
	s->buf = NULL;
}

void nlb_init(struct nlb *b, struct nlr *s, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *h = (struct nlmsghdr *)b->buf;

	memset(b->buf, 0, NLMSG_HDRLEN);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = b->seq = ++s->seq;
	b->len = NLMSG_HDRLEN;
	h->nlmsg_len = (uint32_t)b->len;
}

/* A request that does not fit is a bug of the test: stop it there. */
static void nlb_room(struct nlb *b, size_t len, const char *who)
{
	if (b->len + len > sizeof(b->buf)) {
		fprintf(stderr, "%s: request too large\n", who);
		_exit(2);
	}
}

void nlb_put(struct nlb *b, const void *data, size_t len)
{
	struct nlmsghdr *h = (struct nlmsghdr *)b->buf;

	nlb_room(b, NLMSG_ALIGN(len), "nlb_put");
	memcpy(b->buf + b->len, data, len);
	memset(b->buf + b->len + len, 0, NLMSG_ALIGN(len) - len);
	b->len += NLMSG_ALIGN(len);
	h->nlmsg_len = (uint32_t)b->len;
}

void nlb_start(struct nlb *b, struct nlr *s, uint8_t cmd, uint16_t flags)
{
	struct genlmsghdr g = { .cmd = cmd, .version = MEMTRACE_GENL_VERSION };

	nlb_init(b, s, s->family, flags);
	nlb_put(b, &g, sizeof(g));
}

void nlb_attr(struct nlb *b, uint16_t type, const void *data, size_t len)
{
	struct nlmsghdr *h = (struct nlmsghdr *)b->buf;

	nlb_room(b, NLA_HDRLEN + NLA_ALIGN(len), "nlb_attr");
	b->len += nlr_put_attr(b->buf + b->len, type, data, len);
	h->nlmsg_len = (uint32_t)b->len;
}

/* The TLVs of an NLMSG_ERROR / NLMSG_DONE after a payload of plen bytes. */
static void ext_ack(const struct nlmsghdr *nlh, size_t plen, struct nlr_result *r)
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

/* The answer's end: an error or ack (NLMSG_ERROR) or a dump's NLMSG_DONE. */
static void wait_end(const struct nlmsghdr *h, struct nlr_result *r)
{
	r->answered = true;
	if (h->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *e = NLMSG_DATA(h);
		size_t plen = sizeof(*e);

		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
			r->error = -EBADMSG;
			return;
		}
		r->error = e->error;
		if (!(h->nlmsg_flags & NLM_F_CAPPED))
			plen += e->msg.nlmsg_len - sizeof(e->msg);
		ext_ack(h, plen, r);
	} else {
		int e = 0;

		if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
			memcpy(&e, NLMSG_DATA(h), sizeof(e));
		r->error = e < 0 ? e : 0;
		r->via_done = e < 0;
		ext_ack(h, sizeof(int), r);
	}
}

/*
 * Read the answer to request seq: data messages go to cb; stops at
 * NLMSG_ERROR (error or ack) or NLMSG_DONE, or when cb asks. Messages of
 * other requests are skipped. 0, or -errno of the socket itself.
 */
int nlr_wait(struct nlr *s, uint32_t seq, struct nlr_result *r, nlr_msg_cb cb, void *arg)
{
	memset(r, 0, sizeof(*r));
	for (;;) {
		ssize_t n = nlr_recv(s, NLR_WAIT_MS);
		struct nlmsghdr *h;
		int left = (int)n;

		if (n < 0)
			return (int)n;
		if (n == 0) {
			r->timeout = true;
			return 0;
		}
		for (h = (struct nlmsghdr *)s->buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE) {
				wait_end(h, r);
				return 0;
			}
			r->nmsgs++;
			r->bytes += h->nlmsg_len;
			if (cb && cb(h, arg))
				return 0;
		}
	}
}
