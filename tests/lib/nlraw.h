/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The raw generic netlink client of the test programs: no libnl, so that a
 * test can send any byte sequence (malformed on purpose) and see exactly what
 * comes back, and so that the programs can link statically.
 *
 *   struct nlr s;  nlr_open(&s)         socket, EXT_ACK + CAP_ACK, family id
 *                  nlr_socket(&s)       the socket alone
 *   nlr_send_raw(&s, buf, len)          any bytes, as they are
 *   nlr_recv(&s, timeout_ms)            one datagram into s.buf
 *   struct nlb b;  nlb_start(&b, &s, cmd, flags) ... nlb_u32(&b, type, v) ...
 *   nlr_send(&s, &b)                    sends b.len bytes (nlmsg_len as set)
 *   nlr_wait(&s, seq, &res, cb, arg)    reads until NLMSG_ERROR or NLMSG_DONE
 *
 * The fields of struct nlr are public: the fuzzer and the receive-side tests
 * build sockets of their own (another fd, a smaller buffer) around them.
 */
#ifndef MEMTRACE_NLRAW_H
#define MEMTRACE_NLRAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "memtrace.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct nlr {
	int fd;
	uint16_t family;
	uint32_t seq;
	uint32_t portid;
	int timeout_ms;		/* SO_RCVTIMEO as set (0: none) */
	size_t cap;
	unsigned char *buf;	/* receive buffer, cap bytes */
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

/*
 * A bound socket with extended ACKs, capped (s->fd, s->portid; no buffer, no
 * family): for tests that receive in their own way. 0 or -errno.
 */
int nlr_socket(struct nlr *s);
/* nlr_socket(), a receive buffer and s->family (MEMTRACE_GENL_NAME): 0 or -errno. */
int nlr_open(struct nlr *s);
void nlr_close(struct nlr *s);
/* A generic netlink family's id, or -errno. */
int nlr_resolve(struct nlr *s, const char *name);
int nlr_send_raw(struct nlr *s, const void *buf, size_t len);
/* One datagram into s->buf: its length, 0 on timeout, -errno (timeout_ms 0: wait forever). */
ssize_t nlr_recv(struct nlr *s, int timeout_ms);
int nlr_wait(struct nlr *s, uint32_t seq, struct nlr_result *r, nlr_msg_cb cb, void *arg);

/* One attribute at p, padded: the bytes it takes. */
size_t nlr_put_attr(void *p, uint16_t type, const void *data, size_t len);

void nlb_init(struct nlb *b, struct nlr *s, uint16_t type, uint16_t flags);
void nlb_put(struct nlb *b, const void *data, size_t len);
/* A memtrace request: nlmsghdr + genlmsghdr. */
void nlb_start(struct nlb *b, struct nlr *s, uint8_t cmd, uint16_t flags);
void nlb_attr(struct nlb *b, uint16_t type, const void *data, size_t len);
int nlr_send(struct nlr *s, const struct nlb *b);

static inline void nlb_u8(struct nlb *b, uint16_t type, uint8_t v) { nlb_attr(b, type, &v, 1); }
static inline void nlb_u32(struct nlb *b, uint16_t type, uint32_t v) { nlb_attr(b, type, &v, 4); }
static inline void nlb_u64(struct nlb *b, uint16_t type, uint64_t v) { nlb_attr(b, type, &v, 8); }

#endif /* MEMTRACE_NLRAW_H */
