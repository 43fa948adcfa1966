// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink transport (kmod/uapi/memtrace.h, "Generic netlink"),
 * with libnl-genl-3 the way iw uses it: genl_connect, genl_ctrl_resolve,
 * nl_send_auto, then nl_recvmsgs with valid, finish, error and ack callbacks
 * until one of the last three ends the request.
 *
 * One socket is opened at the first use (probe or query), with extended ACKs
 * (NETLINK_EXT_ACK) and capped ACKs (NETLINK_CAP_ACK: an error does not echo
 * our request back), and kept for the next queries, so that the demo does not
 * allocate a new one between its stages. GET_INFO is asked once, right after
 * the family resolves: the answers' page size comes from it.
 *
 * A QUERY is a dump, asked for packed (MEMTRACE_A_PACKED: arrays of runs, and
 * in pages mode with MEMTRACE_A_INDEXED a byte a page indexing a few page
 * words, instead of an attribute nest a record). Every
 * record is handed to the caller's callback as its
 * message is parsed: nothing is kept but the current message, which libnl
 * frees after it. The answer is checked as strictly as the text one
 * (answer.c): the header repeated by every message must not change, records
 * follow each other without gap or overlap inside [start, end), the summary
 * comes last and matches the records. An error before the dump (the dump's
 * start: permission, no such process, range) comes as an NLMSG_ERROR with
 * the kernel's message, an error during it in NLMSG_DONE.
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
#include <linux/netlink.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "transport.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define NL_WHAT "generic netlink family \"" MEMTRACE_GENL_NAME "\""

static struct {
	struct nl_sock *sk;
	int family;
	struct mt_info info;
} nls;

void mt_netlink_close(void)
{
	if (nls.sk)
		nl_socket_free(nls.sk);
	memset(&nls, 0, sizeof(nls));
}

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
};

static int proto(struct nl_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int proto(struct nl_req *r, const char *fmt, ...)
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

/* Exact-size attribute readers: a wrong length is a malformed answer. */
static bool get_u8(const struct nlattr *a, uint8_t *v)
{
	if (!a || nla_len(a) != sizeof(*v))
		return false;
	*v = nla_get_u8((struct nlattr *)a);
	return true;
}

static bool get_u32(const struct nlattr *a, uint32_t *v)
{
	if (!a || nla_len(a) != sizeof(*v))
		return false;
	*v = nla_get_u32((struct nlattr *)a);
	return true;
}

static bool get_u64(const struct nlattr *a, uint64_t *v)
{
	if (!a || nla_len(a) != sizeof(*v))
		return false;
	*v = nla_get_u64((struct nlattr *)a);
	return true;
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

	if (!genlmsg_valid_hdr(nlh, 0))
		return proto(r, "GET_INFO: short message");
	g = nlmsg_data(nlh);
	if (g->cmd != MEMTRACE_CMD_GET_INFO)
		return proto(r, "GET_INFO: answered with command %u", g->cmd);
	if (genlmsg_parse(nlh, 0, tb, MEMTRACE_A_MAX, NULL))
		return proto(r, "GET_INFO: malformed attributes");
	v = tb[MEMTRACE_A_VERSION];
	if (!v || nla_len(v) < 1)
		return proto(r, "GET_INFO: no version");
	snprintf(info->version, sizeof(info->version), "%.*s",
		 (int)strnlen(nla_data(v), (size_t)nla_len(v)), (char *)nla_data(v));
	if (!get_u32(tb[MEMTRACE_A_PAGE_SIZE], &ps) || ps < 512 || (ps & (ps - 1)))
		return proto(r, "GET_INFO: bad or missing page size");
	info->page_size = ps;
	if (!get_u32(tb[MEMTRACE_A_NSTATES], &info->nstates) ||
	    !get_u32(tb[MEMTRACE_A_FLAGS_MASK], &info->flags_mask) ||
	    !get_u64(tb[MEMTRACE_A_TASK_SIZE], &info->task_size))
		return proto(r, "GET_INFO: bad or missing NSTATES, FLAGS_MASK or TASK_SIZE");
	r->got_info = true;
	return NL_OK;
}

/*
 * Send msg (freed here) and run the callbacks until the request ends.
 * 0, or -errno with err set.
 */
static int transact(struct nl_msg *msg, struct nl_req *r, nl_recvmsg_msg_cb_t valid,
		    struct mt_error *err)
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
		nl_socket_disable_auto_ack(nls.sk);
	ret = nl_send_auto(nls.sk, msg);
	nl_socket_enable_auto_ack(nls.sk);
	nlmsg_free(msg);
	if (ret < 0)
		r->pending = false;
	while (r->pending) {
		ret = nl_recvmsgs(nls.sk, cb);
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
		mt_netlink_close();
		return -EIO;
	}
	if (r->proto) {
		err->err = -EPROTO;
		if (r->why[0])
			snprintf(err->msg, sizeof(err->msg), NL_WHAT ": malformed answer: %s",
				 r->why);
		mt_netlink_close();
		return -EPROTO;
	}
	return 0;
}

static struct nl_msg *request(uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nls.family, 0, flags, cmd,
				MEMTRACE_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

static int get_info(struct mt_info *info, struct mt_error *err)
{
	struct nl_req r = { .info = info };
	struct nl_msg *msg = request(MEMTRACE_CMD_GET_INFO, 0);
	int ret;

	if (!msg) {
		err->err = -ENOMEM;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}
	ret = transact(msg, &r, on_info, err);
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
		mt_netlink_close();
		return -EPROTO;
	}
	return 0;
}

/* Open the socket, resolve the family and ask GET_INFO, once. */
static int nl_open(struct mt_error *err)
{
	static const int one = 1;
	struct mt_query none = { .pid = 0 };
	int ret, fd;

	if (nls.sk)
		return 0;
	nls.sk = nl_socket_alloc();
	if (!nls.sk) {
		err->err = -ENOMEM;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}
	ret = genl_connect(nls.sk);
	if (ret) {
		mt_netlink_close();
		err->err = -EIO;
		snprintf(err->msg, sizeof(err->msg), "generic netlink socket: %s",
			 nl_geterror(ret));
		return -EIO;
	}
	fd = nl_socket_get_fd(nls.sk);
	/* both exist since 4.12; without them errors just lose their text */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	ret = genl_ctrl_resolve(nls.sk, MEMTRACE_GENL_NAME);
	if (ret < 0) {
		mt_netlink_close();
		if (ret == -NLE_OBJ_NOTFOUND)
			return mt_transport_fail(err, -ENOENT, &none, NL_WHAT);
		err->err = -EIO;
		snprintf(err->msg, sizeof(err->msg), "resolving the " NL_WHAT ": %s",
			 nl_geterror(ret));
		return -EIO;
	}
	nls.family = ret;
	ret = get_info(&nls.info, err);
	if (ret) {
		mt_netlink_close();
		return ret;
	}
	nls.info.family_id = nls.family;
	return 0;
}

static int nl_probe(struct mt_error *err)
{
	return nl_open(err);
}

static int nl_info(struct mt_info *info, struct mt_error *err)
{
	int ret = nl_open(err);

	if (!ret)
		*info = nls.info;
	return ret;
}

/* ---- QUERY ---- */

/* One record, from a nest or a packed array: check it and hand it over. */
static int take_record(struct nl_req *r, struct mt_record *rec)
{
	uint64_t span;
	int ret;

	if (r->have_sum)
		return proto(r, "a record after the summary");
	if (rec->state < 0 || rec->state >= MEMTRACE_NSTATES)
		return proto(r, "record at 0x%llx: unknown state %d",
			     (unsigned long long)rec->addr, rec->state);
	if (rec->flags & ~(uint32_t)MEMTRACE_F_ALL)
		return proto(r, "record at 0x%llx: unknown flags 0x%x",
			     (unsigned long long)rec->addr, rec->flags);
	if (rec->pfn > MT_PM_PFN_MASK)
		return proto(r, "record at 0x%llx: pfn wider than 55 bits",
			     (unsigned long long)rec->addr);
	if (rec->node < MEMTRACE_NO_NODE)
		return proto(r, "record at 0x%llx: node %d", (unsigned long long)rec->addr,
			     rec->node);
	if (rec->addr != r->next)
		return proto(r, "record at 0x%llx, expected 0x%llx",
			     (unsigned long long)rec->addr, (unsigned long long)r->next);
	span = r->hdr.end - rec->addr;
	if (!rec->pages || rec->pages > span / r->hdr.page_size)
		return proto(r, "record at 0x%llx of %llu pages: empty or past the end",
			     (unsigned long long)rec->addr, (unsigned long long)rec->pages);
	if (r->hdr.mode == MEMTRACE_MODE_PAGES && rec->pages != 1 &&
	    rec->state != MEMTRACE_UNMAPPED)
		return proto(r, "pages mode record of %llu pages", (unsigned long long)rec->pages);
	r->next += rec->pages * r->hdr.page_size;
	r->tally.pages += rec->pages;
	r->tally.count[rec->state] += rec->pages;
	if (!r->checked) {
		if (mt_transport_check_header(r->q, &r->hdr, r->err)) {
			r->proto = -EPROTO;	/* err->msg says why */
			r->why[0] = '\0';
			r->pending = false;
			return NL_STOP;
		}
		r->checked = true;
	}
	if (r->cb) {
		ret = r->cb(&r->hdr, rec, r->arg);
		if (ret) {
			r->cb_ret = ret;
			r->pending = false;
			return NL_STOP;
		}
	}
	return NL_OK;
}

static int on_record(struct nl_req *r, struct nlattr *nest)
{
	struct nlattr *tb[MEMTRACE_R_MAX + 1];
	struct mt_record rec;
	uint32_t flags;
	uint8_t state;

	if (nla_parse_nested(tb, MEMTRACE_R_MAX, nest, NULL))
		return proto(r, "malformed record");
	if (!get_u64(tb[MEMTRACE_R_ADDR], &rec.addr) || !get_u64(tb[MEMTRACE_R_PAGES], &rec.pages) ||
	    !get_u8(tb[MEMTRACE_R_STATE], &state) || !get_u32(tb[MEMTRACE_R_FLAGS], &flags) ||
	    !get_u64(tb[MEMTRACE_R_PFN], &rec.pfn) || !tb[MEMTRACE_R_NODE] ||
	    nla_len(tb[MEMTRACE_R_NODE]) != sizeof(int32_t))
		return proto(r, "record with a missing or malformed attribute");
	rec.state = state;
	rec.flags = flags;
	rec.node = (int32_t)nla_get_u32(tb[MEMTRACE_R_NODE]);
	return take_record(r, &rec);
}

/* A packed word's state, flags and node into rec. */
static void unpack_word(uint32_t w, struct mt_record *rec)
{
	rec->state = MEMTRACE_PW_STATE(w);
	rec->flags = MEMTRACE_PW_FLAGS(w);
	rec->node = MEMTRACE_PW_NODE(w);
}

/* MEMTRACE_A_RUNS: an array of struct memtrace_run. */
static int on_runs(struct nl_req *r, const struct nlattr *a)
{
	const char *p = nla_data(a);
	size_t len = (size_t)nla_len(a);
	struct memtrace_run run;
	struct mt_record rec;
	int ret;

	if (len % sizeof(run))
		return proto(r, "runs array of %zu bytes", len);
	for (size_t off = 0; off < len; off += sizeof(run)) {
		memcpy(&run, p + off, sizeof(run));
		if (run.reserved)
			return proto(r, "run at 0x%llx: reserved field set",
				     (unsigned long long)run.addr);
		rec.addr = run.addr;
		rec.pages = run.pages;
		rec.pfn = run.pfn;
		unpack_word(run.word, &rec);
		ret = take_record(r, &rec);
		if (ret != NL_OK)
			return ret;
	}
	return NL_OK;
}

/*
 * The pfns of a page vector of count pages at addr: the PFNVEC that follows
 * it (next: the attribute after the vector, NULL at the end of the message),
 * if there is one. *pfns stays NULL without one.
 */
static int pfn_vector(struct nl_req *r, const struct nlattr *next, uint32_t count,
		      uint64_t addr, const char **pfns)
{
	*pfns = NULL;
	if (!next || nla_type(next) != MEMTRACE_A_PFNVEC)
		return NL_OK;
	if ((size_t)nla_len(next) != (size_t)count * sizeof(uint64_t))
		return proto(r, "page vector at 0x%llx: %u pages, pfns of %d bytes",
			     (unsigned long long)addr, count, nla_len(next));
	*pfns = nla_data(next);
	return NL_OK;
}

/* Page i of a vector: its word w, its pfn from pfns (if any), as a record. */
static int take_page(struct nl_req *r, uint64_t addr, uint32_t i, uint32_t w,
		     const char *pfns)
{
	struct mt_record rec = { .addr = addr + (uint64_t)i * r->hdr.page_size, .pages = 1 };

	unpack_word(w, &rec);
	if (rec.state == MEMTRACE_UNMAPPED)
		return proto(r, "page vector: unmapped page at 0x%llx",
			     (unsigned long long)rec.addr);
	if (pfns)
		memcpy(&rec.pfn, pfns + i * sizeof(uint64_t), sizeof(uint64_t));
	return take_record(r, &rec);
}

/* MEMTRACE_A_PAGEVEC (and its PFNVEC): a word a page. */
static int on_pagevec(struct nl_req *r, const struct nlattr *a, const struct nlattr *next)
{
	const char *p = nla_data(a), *pfns;
	size_t len = (size_t)nla_len(a);
	struct memtrace_pagevec vec;
	uint32_t w;
	int ret;

	if (len < sizeof(vec))
		return proto(r, "short page vector");
	memcpy(&vec, p, sizeof(vec));
	if (!vec.count || vec.reserved || len != sizeof(vec) + (size_t)vec.count * sizeof(w))
		return proto(r, "page vector at 0x%llx: bad count or length",
			     (unsigned long long)vec.addr);
	ret = pfn_vector(r, next, vec.count, vec.addr, &pfns);
	for (uint32_t i = 0; ret == NL_OK && i < vec.count; i++) {
		memcpy(&w, p + sizeof(vec) + i * sizeof(w), sizeof(w));
		ret = take_page(r, vec.addr, i, w, pfns);
	}
	return ret;
}

/* MEMTRACE_A_PAGEIDX (and its PFNVEC): a byte a page, indexing its words. */
static int on_pageidx(struct nl_req *r, const struct nlattr *a, const struct nlattr *next)
{
	const unsigned char *p = nla_data(a), *idx = p + sizeof(struct memtrace_pageidx);
	uint32_t words[MEMTRACE_PAGEIDX_WORDS_MAX];
	size_t len = (size_t)nla_len(a), off;
	struct memtrace_pageidx v;
	const char *pfns;
	int ret;

	if (len < sizeof(v))
		return proto(r, "short page index vector");
	memcpy(&v, p, sizeof(v));
	off = MEMTRACE_PAGEIDX_WORDS_OFF((size_t)v.count);
	if (!v.count || !v.nwords || v.nwords > MEMTRACE_PAGEIDX_WORDS_MAX || v.reserved ||
	    len != off + v.nwords * sizeof(uint32_t))
		return proto(r, "page index vector at 0x%llx: bad count, words or length",
			     (unsigned long long)v.addr);
	for (size_t i = sizeof(v) + v.count; i < off; i++)
		if (p[i])
			return proto(r, "page index vector at 0x%llx: padding not zero",
				     (unsigned long long)v.addr);
	memcpy(words, p + off, v.nwords * sizeof(uint32_t));
	ret = pfn_vector(r, next, v.count, v.addr, &pfns);
	for (uint32_t i = 0; ret == NL_OK && i < v.count; i++) {
		if (idx[i] >= v.nwords)
			return proto(r, "page index vector at 0x%llx: index %u of %u words",
				     (unsigned long long)v.addr, idx[i], v.nwords);
		ret = take_page(r, v.addr, i, words[idx[i]], pfns);
	}
	return ret;
}

static int on_summary(struct nl_req *r, struct nlattr *nest)
{
	struct nlattr *tb[MEMTRACE_NSTATES + 1];

	if (r->have_sum)
		return proto(r, "two summaries");
	if (nla_parse_nested(tb, MEMTRACE_NSTATES, nest, NULL))
		return proto(r, "malformed summary");
	memset(&r->sum, 0, sizeof(r->sum));
	for (int i = 0; i < MEMTRACE_NSTATES; i++) {
		if (!get_u64(tb[i + 1], &r->sum.count[i]))
			return proto(r, "summary: bad or missing %s", mt_state_names[i]);
		r->sum.pages += r->sum.count[i];
	}
	r->have_sum = true;
	return NL_OK;
}

static int on_query(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[MEMTRACE_A_MAX + 1];
	struct nl_req *r = arg;
	struct mt_header h = { .page_size = nls.info.page_size };
	struct genlmsghdr *g;
	struct nlattr *a;
	uint32_t pid;
	uint8_t mode;
	int rem, ret, prev = 0;

	if (!genlmsg_valid_hdr(nlh, 0))
		return proto(r, "short message");
	g = nlmsg_data(nlh);
	if (g->cmd != MEMTRACE_CMD_QUERY)
		return proto(r, "answered with command %u", g->cmd);
	/* the header first: the records need it */
	if (genlmsg_parse(nlh, 0, tb, MEMTRACE_A_MAX, NULL))
		return proto(r, "malformed attributes");
	if (!get_u32(tb[MEMTRACE_A_PID], &pid) || !get_u64(tb[MEMTRACE_A_START], &h.start) ||
	    !get_u64(tb[MEMTRACE_A_END], &h.end) || !get_u8(tb[MEMTRACE_A_MODE], &mode))
		return proto(r, "message without PID, START, END or MODE");
	h.pid = (long)pid;
	h.mode = mode;
	if (!r->have_hdr) {
		if (mode > MEMTRACE_MODE_MAX)
			return proto(r, "unknown mode %u", mode);
		if ((h.start | h.end) & (h.page_size - 1))
			return proto(r, "start/end not page aligned");
		if (h.end <= h.start)
			return proto(r, "end <= start");
		r->hdr = h;
		r->have_hdr = true;
		r->next = h.start;
	} else if (h.pid != r->hdr.pid || h.start != r->hdr.start || h.end != r->hdr.end ||
		   h.mode != r->hdr.mode) {
		return proto(r, "the answer's PID, START, END or MODE changed half-way");
	}
	nla_for_each_attr(a, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), rem) {
		struct nlattr *next = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
		int left = rem - NLA_ALIGN(a->nla_len);

		if (nla_type(a) == MEMTRACE_A_RECORD)
			ret = on_record(r, a);
		else if (nla_type(a) == MEMTRACE_A_RUNS)
			ret = on_runs(r, a);
		else if (nla_type(a) == MEMTRACE_A_PAGEVEC)
			ret = on_pagevec(r, a, nla_ok(next, left) ? next : NULL);
		else if (nla_type(a) == MEMTRACE_A_PAGEIDX)
			ret = on_pageidx(r, a, nla_ok(next, left) ? next : NULL);
		else if (nla_type(a) == MEMTRACE_A_SUMMARY)
			ret = on_summary(r, a);
		else if (nla_type(a) == MEMTRACE_A_PFNVEC && prev != MEMTRACE_A_PAGEVEC &&
			 prev != MEMTRACE_A_PAGEIDX)
			ret = proto(r, "pfn vector without its page vector");
		else
			ret = NL_OK;	/* the header, PFNVEC, or an attribute of a later version */
		prev = nla_type(a);
		if (ret != NL_OK)
			return ret;
	}
	return NL_OK;
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

static int nl_query(const struct mt_query *q, mt_record_cb cb, void *arg,
		    struct mt_header *hdr, struct mt_summary *sum, struct mt_error *err)
{
	static struct nl_req r;	/* static: the demo's small stack, no allocation */
	struct nl_msg *msg;
	int ret;

	ret = nl_open(err);
	if (ret)
		return ret;
	memset(&r, 0, sizeof(r));
	r.q = q;
	r.cb = cb;
	r.arg = arg;
	r.err = err;
	msg = request(MEMTRACE_CMD_QUERY, NLM_F_DUMP);
	if (!msg || nla_put_u32(msg, MEMTRACE_A_PID, (uint32_t)q->pid) ||
	    nla_put_u8(msg, MEMTRACE_A_MODE, (uint8_t)q->mode) ||
	    (!nested() && nla_put_flag(msg, MEMTRACE_A_PACKED)) ||
	    (!nested() && !env_on("MEMTRACE_NL_WORDS") &&
	     nla_put_flag(msg, MEMTRACE_A_INDEXED)) ||
	    (!q->all && (nla_put_u64(msg, MEMTRACE_A_START, q->start) ||
			 nla_put_u64(msg, MEMTRACE_A_END, q->end)))) {
		nlmsg_free(msg);
		err->err = -ENOMEM;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}
	ret = transact(msg, &r, on_query, err);
	if (ret)
		return ret;
	if (r.cb_ret) {
		/* the callback stopped the dump half-way: drop the socket with it */
		mt_netlink_close();
		if (r.have_hdr && hdr)
			*hdr = r.hdr;
		return r.cb_ret;
	}
	if (r.error) {
		ret = mt_transport_fail(err, r.error, q, NL_WHAT);
		snprintf(err->kmsg, sizeof(err->kmsg), "%s", r.kmsg);
		return ret;
	}
	if (!r.have_hdr || !r.have_sum) {
		err->err = -EPROTO;
		snprintf(err->msg, sizeof(err->msg), NL_WHAT ": malformed answer: %s",
			 r.have_hdr ? "truncated (no summary)" : "empty");
		return -EPROTO;
	}
	if (r.next != r.hdr.end) {
		err->err = -EPROTO;
		snprintf(err->msg, sizeof(err->msg),
			 NL_WHAT ": malformed answer: records end at 0x%llx, not at end 0x%llx",
			 (unsigned long long)r.next, (unsigned long long)r.hdr.end);
		return -EPROTO;
	}
	if (memcmp(&r.sum, &r.tally, sizeof(r.sum))) {
		err->err = -EPROTO;
		snprintf(err->msg, sizeof(err->msg),
			 NL_WHAT ": malformed answer: summary does not match the records");
		return -EPROTO;
	}
	if (!r.checked && mt_transport_check_header(q, &r.hdr, err))
		return -EPROTO;
	if (hdr)
		*hdr = r.hdr;
	if (sum)
		*sum = r.sum;
	return 0;
}

const struct mt_transport_ops mt_transport_netlink = {
	.name = "netlink",
	.probe = nl_probe,
	.query = nl_query,
	.info = nl_info,
};
