/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The generic netlink transport's insides, shared by transport_netlink.c
 * (the socket, requests, GET_INFO) and netlink_decode.c (a QUERY's messages).
 */
#ifndef MT_NETLINK_H
#define MT_NETLINK_H

#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "transport.h"

/* One request's progress, shared by the callbacks. */
struct nl_req {
	bool pending;		/* no ack, error or DONE yet */
	int error;		/* the kernel's negative errno, 0 */
	char kmsg[MT_ERR_MAX];	/* its extended ACK message */
	int cb_ret;		/* the caller's callback stopped the answer */
	int proto;		/* -EPROTO: a malformed message (why in msg) */
	char why[MT_ERR_MAX];

	/* GET_INFO */
	struct mt_info *info;
	bool got_info;

	/* QUERY */
	unsigned int page_size;	/* GET_INFO's */
	const struct mt_query *q;
	mt_record_cb cb;
	void *arg;
	struct mt_error *err;
	bool have_hdr;		/* from the first message */
	struct mt_header hdr;
	bool checked;		/* hdr checked against q */
	bool have_sum;
	struct mt_summary sum;	/* as the module sent it */
	struct mt_summary tally;	/* counted from the records */
	uint64_t next;		/* address the next record must start at */

	/* TOP */
	mt_proc_cb proc_cb;
	long last_pid;		/* pids come in order */
};

/* The session's netlink state (struct mt_session.nl), from the first use to its close. */
struct mt_nl {
	struct nl_sock *sk;	/* NULL: closed (an error closes it; the next use reopens) */
	int family;
	struct mt_info info;
	struct nl_req req;	/* the query's: not on the demo's small stack */
};

/* A malformed message: why in r->why; stops the request (NL_STOP). */
int mt_nl_proto(struct nl_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct genlmsghdr *mt_nl_answer(struct nl_req *r, struct nlmsghdr *nlh, uint8_t cmd,
				const char *what);
/* The valid-message callback of a QUERY dump (netlink_decode.c). */
int mt_nl_on_query(struct nl_msg *msg, void *arg);

/* Exact-size attribute readers: a wrong length is a malformed answer. */
static inline bool get_u8(const struct nlattr *a, uint8_t *v)
{
	if (!a || nla_len(a) != sizeof(*v))
		return false;
	*v = nla_get_u8((struct nlattr *)a);
	return true;
}

static inline bool get_u32(const struct nlattr *a, uint32_t *v)
{
	if (!a || nla_len(a) != sizeof(*v))
		return false;
	*v = nla_get_u32((struct nlattr *)a);
	return true;
}

static inline bool get_u64(const struct nlattr *a, uint64_t *v)
{
	if (!a || nla_len(a) != sizeof(*v))
		return false;
	*v = nla_get_u64((struct nlattr *)a);
	return true;
}

#endif /* MT_NETLINK_H */
