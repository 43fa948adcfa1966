// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink transport (kmod/uapi/memtrace.h, "Generic netlink"),
 * with libnl-genl-3 the way iw uses it: genl_connect, genl_ctrl_resolve,
 * nl_send_auto, then nl_recvmsgs with valid, finish, error and ack callbacks
 * until one of the last three ends the request.
 *
 * One socket is opened at the first use (probe or query), with extended ACKs
 * (NETLINK_EXT_ACK) and capped ACKs (NETLINK_CAP_ACK: an error does not echo
 * our request back), and kept in the caller's session (struct mt_nl) for the
 * next queries, so that the demo does not allocate a new one between its
 * stages. GET_INFO is asked once, right after the family resolves: the
 * answers' page size comes from it.
 *
 * A QUERY is a dump, asked for packed (MEMTRACE_A_PACKED: arrays of runs, and
 * in pages mode with MEMTRACE_A_INDEXED a byte a page indexing a few page
 * words, instead of an attribute nest a record), decoded by netlink_decode.c.
 * Every record is handed to the caller's callback as its message is parsed:
 * nothing is kept but the current message, which libnl frees after it. The
 * answer is checked as strictly as the text one (answer.c): the header
 * repeated by every message must not change, records follow each other
 * without gap or overlap inside [start, end), the summary comes last and
 * matches the records. An error before the dump (the dump's start:
 * permission, no such process, range) comes as an NLMSG_ERROR with the
 * kernel's message, an error during it in NLMSG_DONE.
 *
 * If the callback stops an answer half-way, or anything goes wrong on the
 * socket, the socket is closed (the kernel ends its side of the dump) and the
 * next query opens a new one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

#include <netlink/genl/ctrl.h>

#include "netlink.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define NL_WHAT "generic netlink family \"" MEMTRACE_GENL_NAME "\""

/* Close the socket (the kernel ends its side of a dump); keep the state for the next open. */
static void nl_drop(struct mt_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
	nl->family = 0;
	memset(&nl->info, 0, sizeof(nl->info));
}

void mt_netlink_close(struct mt_session *s)
{
	if (!s->nl)
		return;
	nl_drop(s->nl);
	free(s->nl);
	s->nl = NULL;
}

int mt_nl_proto(struct nl_req *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->proto) {
		va_start(ap, fmt);
		vsnprintf(r->why, sizeof(r->why), fmt, ap);
		va_end(ap);
		r->proto = -EPROTO;
	}
	r->pending = false;
	return NL_STOP;
}

/*
 * The generic netlink header of nlh, an answer to cmd; NULL when it is none
 * (too short, another command), the protocol error set in r with what
 * ("GET_INFO: ", or "") before the words: the callback returns NL_STOP.
 */
struct genlmsghdr *mt_nl_answer(struct nl_req *r, struct nlmsghdr *nlh, uint8_t cmd,
				const char *what)
{
	struct genlmsghdr *g;

	if (!genlmsg_valid_hdr(nlh, 0)) {
		mt_nl_proto(r, "%sshort message", what);
		return NULL;
	}
	g = nlmsg_data(nlh);
	if (g->cmd != cmd) {
		mt_nl_proto(r, "%sanswered with command %u", what, g->cmd);
		return NULL;
	}
	return g;
}

/* The extended ACK TLVs after an NLMSG_ERROR's or NLMSG_DONE's payload. */
static void ext_ack(struct nl_req *r, const struct nlmsghdr *nlh, size_t payload)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(payload);
	struct nlattr *a;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || nlh->nlmsg_len <= off)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)nlh + off),
		      (int)(nlh->nlmsg_len - off), NULL))
		return;
	a = tb[NLMSGERR_ATTR_MSG];
	if (a && nla_len(a) > 0)
		snprintf(r->kmsg, sizeof(r->kmsg), "%.*s",
			 (int)strnlen(nla_data(a), (size_t)nla_len(a)), (char *)nla_data(a));
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)e - 1;
	struct nl_req *r = arg;
	size_t payload = sizeof(*e);

	(void)who;
	r->error = e->error;
	r->pending = false;
	/* without NLM_F_CAPPED the request follows, whole */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		payload += e->msg.nlmsg_len - sizeof(e->msg);
	if (nlh->nlmsg_len >= NLMSG_HDRLEN + payload)
		ext_ack(r, nlh, payload);
	return NL_STOP;
}

static int on_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nl_req *r = arg;
	int e;

	r->pending = false;
	if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
		memcpy(&e, nlmsg_data(nlh), sizeof(e));
		if (e < 0) {
			r->error = e;
			ext_ack(r, nlh, sizeof(int));
		}
	}
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct nl_req *r = arg;

	(void)msg;
	r->pending = false;
	return NL_STOP;
}

/* ---- GET_INFO ---- */

static int on_info(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[MEMTRACE_A_MAX + 1];
	struct nl_req *r = arg;
	struct mt_info *info = r->info;
	struct genlmsghdr *g;
	struct nlattr *v;
	uint32_t ps;

	g = mt_nl_answer(r, nlh, MEMTRACE_CMD_GET_INFO, "GET_INFO: ");
	if (!g)
		return NL_STOP;
	if (genlmsg_parse(nlh, 0, tb, MEMTRACE_A_MAX, NULL))
		return mt_nl_proto(r, "GET_INFO: malformed attributes");
	v = tb[MEMTRACE_A_VERSION];
	if (!v || nla_len(v) < 1)
		return mt_nl_proto(r, "GET_INFO: no version");
	snprintf(info->version, sizeof(info->version), "%.*s",
		 (int)strnlen(nla_data(v), (size_t)nla_len(v)), (char *)nla_data(v));
	if (!get_u32(tb[MEMTRACE_A_PAGE_SIZE], &ps) || ps < 512 || (ps & (ps - 1)))
		return mt_nl_proto(r, "GET_INFO: bad or missing page size");
	info->page_size = ps;
	if (!get_u32(tb[MEMTRACE_A_NSTATES], &info->nstates) ||
	    !get_u32(tb[MEMTRACE_A_FLAGS_MASK], &info->flags_mask) ||
	    !get_u64(tb[MEMTRACE_A_TASK_SIZE], &info->task_size))
		return mt_nl_proto(r, "GET_INFO: bad or missing NSTATES, FLAGS_MASK or TASK_SIZE");
	/* a module older than FEATURES has none of them */
	info->features = 0;
	if (tb[MEMTRACE_A_FEATURES] && !get_u32(tb[MEMTRACE_A_FEATURES], &info->features))
		return mt_nl_proto(r, "GET_INFO: bad FEATURES");
	r->got_info = true;
	return NL_OK;
}

/*
 * Send msg (freed here) and run the callbacks until the request ends.
 * 0, or -errno with err set.
 */
static int transact(struct mt_nl *nl, struct nl_msg *msg, struct nl_req *r,
		    nl_recvmsg_msg_cb_t valid, struct mt_error *err)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int ret;

	if (!cb) {
		nlmsg_free(msg);
		err->err = -ENOMEM;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid, r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, r);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, r);
	r->pending = true;
	/*
	 * A dump is answered by NLMSG_DONE, never acked: send it without
	 * NLM_F_ACK. Auto-ack stays on for receiving: libnl checks sequence
	 * numbers only then.
	 */
	if (nlmsg_hdr(msg)->nlmsg_flags & NLM_F_DUMP)
		nl_socket_disable_auto_ack(nl->sk);
	ret = nl_send_auto(nl->sk, msg);
	nl_socket_enable_auto_ack(nl->sk);
	nlmsg_free(msg);
	if (ret < 0)
		r->pending = false;
	while (r->pending) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret < 0 && r->pending) {
			r->pending = false;
			break;
		}
		ret = 0;
	}
	nl_cb_put(cb);
	if (ret < 0) {
		err->err = -EIO;
		snprintf(err->msg, sizeof(err->msg), NL_WHAT ": %s", nl_geterror(ret));
		nl_drop(nl);
		return -EIO;
	}
	if (r->proto) {
		err->err = -EPROTO;
		if (r->why[0])
			snprintf(err->msg, sizeof(err->msg), NL_WHAT ": malformed answer: %s",
				 r->why);
		nl_drop(nl);
		return -EPROTO;
	}
	return 0;
}

static struct nl_msg *request(struct mt_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags, cmd,
				MEMTRACE_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

static int get_info(struct mt_nl *nl, struct mt_info *info, struct mt_error *err)
{
	struct nl_req r = { .info = info };
	struct nl_msg *msg = request(nl, MEMTRACE_CMD_GET_INFO, 0);
	int ret;

	if (!msg) {
		err->err = -ENOMEM;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}
	ret = transact(nl, msg, &r, on_info, err);
	if (ret)
		return ret;
	if (r.error) {
		ret = mt_transport_fail(err, r.error, &(struct mt_query){ .pid = 0 },
					NL_WHAT " GET_INFO");
		snprintf(err->kmsg, sizeof(err->kmsg), "%s", r.kmsg);
		return ret;
	}
	if (!r.got_info) {
		err->err = -EPROTO;
		snprintf(err->msg, sizeof(err->msg), NL_WHAT ": GET_INFO: no answer");
		nl_drop(nl);
		return -EPROTO;
	}
	return 0;
}

/* Open the socket, resolve the family and ask GET_INFO, once. */
static int nl_open(struct mt_session *s, struct mt_error *err)
{
	const int one = 1;
	struct mt_query none = { .pid = 0 };
	struct mt_nl *nl;
	int ret, fd;

	if (!s->nl) {
		/* at the first use: before the demo's stages */
		s->nl = mt_xmalloc(sizeof(*s->nl));
		memset(s->nl, 0, sizeof(*s->nl));
	}
	nl = s->nl;
	if (nl->sk)
		return 0;
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		err->err = -ENOMEM;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}
	ret = genl_connect(nl->sk);
	if (ret) {
		nl_drop(nl);
		err->err = -EIO;
		snprintf(err->msg, sizeof(err->msg), "generic netlink socket: %s",
			 nl_geterror(ret));
		return -EIO;
	}
	fd = nl_socket_get_fd(nl->sk);
	/* both exist since 4.12; without them errors just lose their text */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	ret = genl_ctrl_resolve(nl->sk, MEMTRACE_GENL_NAME);
	if (ret < 0) {
		nl_drop(nl);
		if (ret == -NLE_OBJ_NOTFOUND)
			return mt_transport_fail(err, -ENOENT, &none, NL_WHAT);
		err->err = -EIO;
		snprintf(err->msg, sizeof(err->msg), "resolving the " NL_WHAT ": %s",
			 nl_geterror(ret));
		return -EIO;
	}
	nl->family = ret;
	ret = get_info(nl, &nl->info, err);
	if (ret) {
		nl_drop(nl);
		return ret;
	}
	nl->info.family_id = nl->family;
	return 0;
}

static int nl_probe(struct mt_session *s, struct mt_error *err)
{
	return nl_open(s, err);
}

static int nl_info(struct mt_session *s, struct mt_info *info, struct mt_error *err)
{
	int ret = nl_open(s, err);

	if (!ret)
		*info = s->nl->info;
	return ret;
}

/* An environment variable set to anything but "" or "0". */
static bool env_on(const char *name)
{
	const char *e = getenv(name);

	return e && *e && strcmp(e, "0");
}

/*
 * Answers come packed, pages as a byte each (MEMTRACE_A_INDEXED), unless
 * MEMTRACE_NL_NESTED is set (testing aid: the nested records, one attribute
 * nest each) or MEMTRACE_NL_WORDS (packed, pages as a word each).
 */
static bool nested(void)
{
	return env_on("MEMTRACE_NL_NESTED");
}

/* The QUERY request for q; NULL when out of memory. */
static struct nl_msg *query_request(struct mt_nl *nl, const struct mt_query *q)
{
	struct nl_msg *msg = request(nl, q->path ? MEMTRACE_CMD_FILE : MEMTRACE_CMD_QUERY,
				     NLM_F_DUMP);

	if (!msg || nla_put_u32(msg, q->path ? MEMTRACE_A_FD : MEMTRACE_A_PID,
				(uint32_t)q->pid) ||
	    nla_put_u8(msg, MEMTRACE_A_MODE, (uint8_t)q->mode) ||
	    (!nested() && !q->folio && nla_put_flag(msg, MEMTRACE_A_PACKED)) ||
	    (q->cached && nla_put_flag(msg, MEMTRACE_A_CACHED)) ||
	    (q->folio && nla_put_flag(msg, MEMTRACE_A_FOLIO)) ||
	    (!nested() && !q->folio && !env_on("MEMTRACE_NL_WORDS") &&
	     nla_put_flag(msg, MEMTRACE_A_INDEXED)) ||
	    (!q->all && (nla_put_u64(msg, MEMTRACE_A_START, q->start) ||
			 nla_put_u64(msg, MEMTRACE_A_END, q->end)))) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* After the dump: the answer must be whole, and about what was asked. */
static int query_end(const struct nl_req *r, const struct mt_query *q, struct mt_error *err)
{
	const char *why = NULL;

	if (r->error) {
		int ret = mt_transport_fail(err, r->error, q, NL_WHAT);

		snprintf(err->kmsg, sizeof(err->kmsg), "%s", r->kmsg);
		return ret;
	}
	if (!r->have_hdr || !r->have_sum)
		why = r->have_hdr ? "truncated (no summary)" : "empty";
	else if (r->next != r->hdr.end)
		snprintf(err->msg, sizeof(err->msg),
			 NL_WHAT ": malformed answer: records end at 0x%llx, not at end 0x%llx",
			 (unsigned long long)r->next, (unsigned long long)r->hdr.end);
	else if (memcmp(&r->sum, &r->tally, sizeof(r->sum)))
		why = "summary does not match the records";
	else if (!r->checked)
		return mt_transport_check_header(q, &r->hdr, err) ? -EPROTO : 0;
	else
		return 0;
	if (why)
		snprintf(err->msg, sizeof(err->msg), NL_WHAT ": malformed answer: %s", why);
	err->err = -EPROTO;
	return -EPROTO;
}

/*
 * A query asking for what the module does not announce in GET_INFO's
 * FEATURES: strict validation would refuse its attribute with EINVAL, so
 * say why first (-EOPNOTSUPP, err set); 0 when not asked or announced.
 */
static int need_feature(struct mt_session *s, bool asked, uint32_t feature, const char *name,
			const char *what, struct mt_error *err)
{
	if (!asked || (s->nl->info.features & feature))
		return 0;
	err->err = -EOPNOTSUPP;
	snprintf(err->msg, sizeof(err->msg),
		 "the module (version %s) cannot %s: GET_INFO has no %s (load a newer module)",
		 s->nl->info.version, what, name);
	return -EOPNOTSUPP;
}

/* One QUERY (or FILE) request and its answer into r: transact()'s return. */
static int query_once(struct mt_session *s, struct nl_req *r, const struct mt_query *q,
		      mt_record_cb cb, void *arg, struct mt_error *err)
{
	struct nl_msg *msg;

	memset(r, 0, sizeof(*r));
	r->q = q;
	r->cb = cb;
	r->arg = arg;
	r->err = err;
	r->page_size = s->nl->info.page_size;
	msg = query_request(s->nl, q);
	if (!msg) {
		err->err = -ENOMEM;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}
	return transact(s->nl, msg, r, mt_nl_on_query, err);
}

static int nl_query(struct mt_session *s, const struct mt_query *q, mt_record_cb cb,
		    void *arg, struct mt_header *hdr, struct mt_summary *sum,
		    struct mt_error *err)
{
	struct nl_req *r;
	int ret;

	ret = nl_open(s, err);
	if (ret)
		return ret;
	if (need_feature(s, q->cached, MEMTRACE_FEAT_CACHED, "MEMTRACE_FEAT_CACHED",
			 "report cached pages", err) ||
	    need_feature(s, q->folio, MEMTRACE_FEAT_FOLIO, "MEMTRACE_FEAT_FOLIO",
			 "report folio sizes", err) ||
	    need_feature(s, q->path, MEMTRACE_FEAT_FILE, "MEMTRACE_FEAT_FILE",
			 "report a file's page cache", err))
		return -EOPNOTSUPP;
	r = &s->nl->req;
	ret = query_once(s, r, q, cb, arg, err);
	/*
	 * EAGAIN, before any message: the process was in an execve() (the
	 * module's sendmsg() side waits for no lock of it). Most are over in
	 * a millisecond: ask again, a little later each time, for up to
	 * MT_NL_EXEC_WAIT_S seconds in all.
	 */
	for (unsigned int ms = 1, slept = 0;
	     !ret && r->error == -EAGAIN && !r->have_hdr && slept < MT_NL_EXEC_WAIT_S * 1000;
	     slept += ms, ms = ms < 250 ? ms * 2 : 500) {
		usleep(ms * 1000);
		ret = query_once(s, r, q, cb, arg, err);
	}
	if (ret)
		return ret;
	if (r->cb_ret) {
		/* the callback stopped the dump half-way: drop the socket with it */
		nl_drop(s->nl);
		if (r->have_hdr && hdr)
			*hdr = r->hdr;
		return r->cb_ret;
	}
	ret = query_end(r, q, err);
	if (ret)
		return ret;
	if (hdr)
		*hdr = r->hdr;
	if (sum)
		*sum = r->sum;
	return 0;
}

/* A TOP message: one MEMTRACE_A_PROC nest, or more. */
static int on_top(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nl_req *r = arg;
	struct genlmsghdr *g;
	struct nlattr *a;
	int rem;

	g = mt_nl_answer(r, nlh, MEMTRACE_CMD_TOP, "TOP: ");
	if (!g)
		return NL_STOP;
	nla_for_each_attr(a, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), rem) {
		struct nlattr *tb[MEMTRACE_P_MAX + 1], *sb[MEMTRACE_NSTATES_ALL + 1];
		struct mt_proc p = { .pid = 0 };
		uint32_t pid;
		int ret;

		if (nla_type(a) != MEMTRACE_A_PROC)
			return mt_nl_proto(r, "TOP: unexpected attribute %d", nla_type(a));
		if (nla_parse_nested(tb, MEMTRACE_P_MAX, a, NULL) ||
		    !get_u32(tb[MEMTRACE_P_PID], &pid) || !get_u64(tb[MEMTRACE_P_THP], &p.thp) ||
		    !tb[MEMTRACE_P_COMM] || !tb[MEMTRACE_P_SUMMARY] ||
		    nla_parse_nested(sb, MEMTRACE_NSTATES_ALL, tb[MEMTRACE_P_SUMMARY], NULL))
			return mt_nl_proto(r, "TOP: malformed process");
		p.pid = pid;
		p.busy = tb[MEMTRACE_P_BUSY] != NULL;
		if (p.pid <= r->last_pid)
			return mt_nl_proto(r, "TOP: pid %ld after %ld", p.pid, r->last_pid);
		r->last_pid = p.pid;
		snprintf(p.comm, sizeof(p.comm), "%.*s",
			 (int)strnlen(nla_data(tb[MEMTRACE_P_COMM]),
				      (size_t)nla_len(tb[MEMTRACE_P_COMM])),
			 (char *)nla_data(tb[MEMTRACE_P_COMM]));
		for (int i = 0; i < MEMTRACE_NSTATES; i++)
			if (!get_u64(sb[i + 1], &p.counts[i]))
				return mt_nl_proto(r, "TOP: pid %ld: no %s count", p.pid,
						   mt_state_names[i]);
		p.have_cached = sb[MEMTRACE_CACHED + 1] != NULL;
		if (p.have_cached && !get_u64(sb[MEMTRACE_CACHED + 1], &p.counts[MEMTRACE_CACHED]))
			return mt_nl_proto(r, "TOP: pid %ld: bad cached count", p.pid);
		ret = r->proc_cb(&p, r->arg);
		if (ret) {
			r->cb_ret = ret;
			r->pending = false;
			return NL_STOP;
		}
	}
	return NL_OK;
}

int mt_top(struct mt_session *s, bool cached, mt_proc_cb cb, void *arg, struct mt_error *err)
{
	struct nl_req *r;
	struct nl_msg *msg;
	int ret;

	ret = nl_open(s, err);
	if (ret)
		return ret;
	if (!(s->nl->info.features & MEMTRACE_FEAT_TOP) ||
	    (cached && !(s->nl->info.features & MEMTRACE_FEAT_CACHED))) {
		err->err = -EOPNOTSUPP;
		snprintf(err->msg, sizeof(err->msg),
			 "the module (version %s) cannot list processes: GET_INFO has no "
			 "MEMTRACE_FEAT_TOP%s (load a newer module)", s->nl->info.version,
			 cached ? " or MEMTRACE_FEAT_CACHED" : "");
		return -EOPNOTSUPP;
	}
	r = &s->nl->req;
	memset(r, 0, sizeof(*r));
	r->proc_cb = cb;
	r->arg = arg;
	r->err = err;
	msg = request(s->nl, MEMTRACE_CMD_TOP, NLM_F_DUMP);
	if (!msg || (cached && nla_put_flag(msg, MEMTRACE_A_CACHED))) {
		nlmsg_free(msg);
		err->err = -ENOMEM;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}
	ret = transact(s->nl, msg, r, on_top, err);
	if (ret)
		return ret;
	if (r->cb_ret) {
		nl_drop(s->nl);
		return r->cb_ret;
	}
	if (r->error) {
		err->err = r->error;
		snprintf(err->msg, sizeof(err->msg), NL_WHAT " TOP: %s", strerror(-r->error));
		snprintf(err->kmsg, sizeof(err->kmsg), "%s", r->kmsg);
		return r->error;
	}
	return 0;
}

const struct mt_transport_ops mt_transport_netlink = {
	.name = "netlink",
	.probe = nl_probe,
	.query = nl_query,
	.info = nl_info,
};
