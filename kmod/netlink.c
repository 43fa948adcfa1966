// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family: GET_INFO, and QUERY and FILE as dumps that
 * parse the request into a query (query.c, file.c) and encode the records
 * its walk hands back, a socket buffer at a time. mmap_lock is taken and dropped inside
 * each walk step, never held between messages; the query lives in the
 * dump's state, so the answer to any range costs one struct memtrace_nl_dump
 * and the socket buffers netlink recycles.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/pid_namespace.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "compat.h"
#include "netlink.h"
#include "query.h"
#include "top.h"

/* Pfns a packed page vector holds until it is closed: 16 KiB */
#define MEMTRACE_NL_PFNS	2048
/* Words a PAGEIDX may index (the format allows 256): a range has few */
#define MEMTRACE_NL_WORDS	64

/*
 * A testing knob: fewer words a PAGEIDX (1 to MEMTRACE_NL_WORDS), so that
 * tests see vectors end because their words are full.
 */
static unsigned int pageidx_words = MEMTRACE_NL_WORDS;
module_param(pageidx_words, uint, 0644);
MODULE_PARM_DESC(pageidx_words,
		 "words a page index vector holds, 1-64 (default 64; for tests)");

/*
 * A testing knob: every QUERY or FILE dump call stops its walk at the first
 * place it may, as at its deadline (memtrace_nl_step()), so that tests see
 * answers go on from there, message after message.
 */
static bool stop_early;
module_param(stop_early, bool, 0600);
MODULE_PARM_DESC(stop_early,
		 "stop each dump call's walk at its first stopping place (for tests)");

struct memtrace_nl_dump {
	struct memtrace_query query;
	struct sk_buff *skb;	/* the message being filled */
	bool summary_sent;
	/*
	 * Packed answers: the array attribute open at the tail of skb (RUNS,
	 * PAGEVEC or PAGEIDX, NULL if none). A page vector's pages are the
	 * room lent to the walker (pages mode); its pfns wait in pfns and go
	 * out in a PFNVEC when it closes, a PAGEIDX's words wait in pal.
	 */
	struct nlattr *arr;
	struct memtrace_pagevec *vec;
	struct memtrace_pageidx *ivec;
	struct memtrace_room room;
	u64 *pfns;		/* MEMTRACE_NL_PFNS, when pfns are shown */
	u32 pal[MEMTRACE_NL_WORDS];
	int err;		/* a refusal deferred to the first dump call */
	int why;		/* and why: enum memtrace_nl_why */
	const char *msg;	/* MEMTRACE_WHY_MSG: the query stage's words */
	u8 cmd;			/* MEMTRACE_CMD_QUERY or MEMTRACE_CMD_FILE */
	bool called;		/* dumpit ran before */
};

/* Why a QUERY is refused, each with its own extack message. */
enum memtrace_nl_why {
	MEMTRACE_WHY_QUERY,	/* memtrace_query_start()'s errno says it */
	MEMTRACE_WHY_NO_PID,
	MEMTRACE_WHY_PID_RANGE,
	MEMTRACE_WHY_INDEXED,
	MEMTRACE_WHY_FOLIO,
	MEMTRACE_WHY_NO_FD,
	MEMTRACE_WHY_BAD_FD,
	MEMTRACE_WHY_MSG,	/* d->msg says it */
};

/* The words of each refusal of the request's form */
static const char *const memtrace_nl_why_msg[] = {
	[MEMTRACE_WHY_NO_PID] = "MEMTRACE_A_PID is required",
	[MEMTRACE_WHY_PID_RANGE] = "PID out of range",
	[MEMTRACE_WHY_INDEXED] = "MEMTRACE_A_INDEXED needs MEMTRACE_A_PACKED",
	[MEMTRACE_WHY_FOLIO] =
		"MEMTRACE_A_FOLIO is answered in record nests: not with MEMTRACE_A_PACKED",
	[MEMTRACE_WHY_NO_FD] = "MEMTRACE_A_FD is required",
	[MEMTRACE_WHY_BAD_FD] =
		"FD is not a file descriptor the sender has open (an O_PATH one neither)",
};

/* How long one TOP dump call counts processes before it sends what it has */
#define MEMTRACE_NL_TOP_MS	100
/* How long one QUERY or FILE dump call may take, busy locks included */
#define MEMTRACE_NL_CALL_MS	100
/* ... and the first, under genetlink's cb_lock, classifying only */
#define MEMTRACE_NL_FIRST_MS	10

/* A TOP dump: the processes, and the last one counted until it is sent. */
struct memtrace_nl_top {
	struct memtrace_top top;
	bool have;		/* top.proc counted, not sent yet */
	bool end;		/* every process counted */
	bool called;		/* dumpit ran before */
};

/* What a dump keeps in netlink_callback::ctx. */
struct memtrace_nl_ctx {
	struct memtrace_nl_dump *dump;	/* QUERY */
	struct memtrace_nl_top *top;	/* TOP */
};

static struct genl_family memtrace_genl_family;

static const struct nla_policy memtrace_query_policy[MEMTRACE_A_MAX + 1] = {
	[MEMTRACE_A_PID] = { .type = NLA_U32 },
	[MEMTRACE_A_START] = { .type = NLA_U64 },
	[MEMTRACE_A_END] = { .type = NLA_U64 },
	[MEMTRACE_A_MODE] = NLA_POLICY_MAX(NLA_U8, MEMTRACE_MODE_MAX),
	[MEMTRACE_A_PACKED] = { .type = NLA_FLAG },
	[MEMTRACE_A_NO_PFN] = { .type = NLA_FLAG },
	[MEMTRACE_A_INDEXED] = { .type = NLA_FLAG },
	[MEMTRACE_A_CACHED] = { .type = NLA_FLAG },
	[MEMTRACE_A_FOLIO] = { .type = NLA_FLAG },
};

/* FILE: FD in place of PID; NO_PFN and CACHED change nothing */
static const struct nla_policy memtrace_file_policy[MEMTRACE_A_MAX + 1] = {
	[MEMTRACE_A_FD] = { .type = NLA_U32 },
	[MEMTRACE_A_START] = { .type = NLA_U64 },
	[MEMTRACE_A_END] = { .type = NLA_U64 },
	[MEMTRACE_A_MODE] = NLA_POLICY_MAX(NLA_U8, MEMTRACE_MODE_MAX),
	[MEMTRACE_A_PACKED] = { .type = NLA_FLAG },
	[MEMTRACE_A_NO_PFN] = { .type = NLA_FLAG },
	[MEMTRACE_A_INDEXED] = { .type = NLA_FLAG },
	[MEMTRACE_A_CACHED] = { .type = NLA_FLAG },
	[MEMTRACE_A_FOLIO] = { .type = NLA_FLAG },
};

static const struct nla_policy memtrace_top_policy[MEMTRACE_A_MAX + 1] = {
	[MEMTRACE_A_CACHED] = { .type = NLA_FLAG },
};

/* GET_INFO takes no attributes: strict validation rejects every one. */
static const struct nla_policy memtrace_info_policy[MEMTRACE_A_MAX + 1] = {};

static struct nlattr **memtrace_nl_dump_attrs(struct netlink_callback *cb)
{
#ifdef MEMTRACE_HAVE_GENL_INFO_DUMP
	/* 6.2 gave dumps a struct genl_info, like doit */
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

static struct memtrace_nl_ctx *memtrace_nl_ctx(struct netlink_callback *cb)
{
	BUILD_BUG_ON(sizeof(struct memtrace_nl_ctx) > sizeof(cb->ctx));
	return (struct memtrace_nl_ctx *)cb->ctx;
}

static int memtrace_nl_sink(void *arg, const struct memtrace_record *r)
{
	struct memtrace_nl_dump *d = arg;
	struct sk_buff *skb = d->skb;
	struct nlattr *nest;

	nest = nla_nest_start(skb, MEMTRACE_A_RECORD);
	if (!nest)
		return -ENOSPC;
	if (nla_put_u64_64bit(skb, MEMTRACE_R_ADDR, r->addr, MEMTRACE_R_PAD) ||
	    nla_put_u64_64bit(skb, MEMTRACE_R_PAGES, r->pages, MEMTRACE_R_PAD) ||
	    nla_put_u8(skb, MEMTRACE_R_STATE, r->state) ||
	    nla_put_u32(skb, MEMTRACE_R_FLAGS, MEMTRACE_REC_FLAGS(r->flags)) ||
	    nla_put_u64_64bit(skb, MEMTRACE_R_PFN, r->pfn, MEMTRACE_R_PAD) ||
	    nla_put_s32(skb, MEMTRACE_R_NODE, r->node) ||
	    (d->query.req.folio &&
	     nla_put_u8(skb, MEMTRACE_R_FOLIO, MEMTRACE_REC_ORDER_OF(r->flags)))) {
		nla_nest_cancel(skb, nest);
		return -ENOSPC;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/*
 * Close the open array. A page vector was reserved for as many pages as
 * could fit with their pfns (and a PAGEIDX's words) and lent to the walker
 * as room (record.h): it is cut to the pages in the room, a PAGEIDX's words
 * are put after its indexes, and the pfns follow in a PFNVEC, for which
 * space was kept.
 */
static int memtrace_nl_close(struct memtrace_nl_dump *d)
{
	struct memtrace_room *room = &d->room;
	unsigned int count = room->used, len = 0;
	struct nlattr *a = d->arr;
	int err = 0;

	if (d->vec) {
		d->vec->count = count;
		len = sizeof(*d->vec) + count * sizeof(u32);
	} else if (d->ivec) {
		len = MEMTRACE_PAGEIDX_WORDS_OFF(count);
		d->ivec->count = count;
		d->ivec->nwords = room->nwords;
		memset(room->idx + count, 0, len - sizeof(*d->ivec) - count);
		memcpy((u8 *)d->ivec + len, d->pal, room->nwords * sizeof(u32));
		len += room->nwords * sizeof(u32);
	}
	if (d->vec || d->ivec) {
		a->nla_len = nla_attr_size(len);
		skb_trim(d->skb, (unsigned char *)a + nla_total_size(len) -
			 d->skb->data);
		if (d->pfns)
			err = nla_put(d->skb, MEMTRACE_A_PFNVEC,
				      count * sizeof(u64), d->pfns);
		room->cap = 0;
		room->used = 0;
	}
	d->arr = NULL;
	d->vec = NULL;
	d->ivec = NULL;
	return err;
}

/* An attribute is at most U16_MAX bytes long. */
static bool memtrace_nl_arr_full(const struct nlattr *a, unsigned int more)
{
	return a->nla_len + more > U16_MAX;
}

static int memtrace_nl_put_run(struct memtrace_nl_dump *d,
			       const struct memtrace_record *r)
{
	struct memtrace_run *run;

	if (d->arr && (d->vec || d->ivec ||
		       memtrace_nl_arr_full(d->arr, sizeof(*run))) &&
	    memtrace_nl_close(d))
		return -EMSGSIZE;
	if (skb_tailroom(d->skb) < (d->arr ? sizeof(*run) :
				    nla_total_size(sizeof(*run))))
		return -ENOSPC;
	if (!d->arr) {
		d->arr = nla_reserve(d->skb, MEMTRACE_A_RUNS, 0);
		if (!d->arr)
			return -ENOSPC;
	}
	d->arr->nla_len += sizeof(*run);
	run = __skb_put(d->skb, sizeof(*run));
	run->addr = r->addr;
	run->pages = r->pages;
	run->pfn = r->pfn;
	run->word = MEMTRACE_PW(r->state, r->flags, r->node);
	run->reserved = 0;
	return 0;
}

/*
 * How many pages a new page vector may hold when the message has tailroom
 * bytes left: the largest n for which the vector, head bytes plus per bytes
 * a page, and its PFNVEC (when pfns are shown: 8 bytes a page) both fit,
 * each as nla_reserve() and nla_put() count it (nla_total_size(): header and
 * alignment to 4 bytes), and the vector's length fits an attribute. The
 * first guess leaves out the vector's alignment, so it is at most 3 bytes
 * too many: the loop takes back at most three pages, and whatever n it
 * returns has been checked against nla_total_size() itself.
 */
static unsigned int memtrace_nl_vec_pages(int tailroom, unsigned int head,
					  unsigned int per, bool pfns)
{
	unsigned int pfn = pfns ? sizeof(u64) : 0;
	unsigned int fixed = nla_total_size(head) +
			     (pfns ? nla_total_size(0) : 0);
	unsigned int n;

	if (tailroom < 0 || (unsigned int)tailroom < fixed)
		return 0;
	n = ((unsigned int)tailroom - fixed) / (per + pfn);
	n = min(n, (U16_MAX - nla_attr_size(head)) / per);
	while (n && nla_total_size(head + n * per) +
		    (pfns ? nla_total_size(n * pfn) : 0) > (unsigned int)tailroom)
		n--;
	return n;
}

/*
 * A page the walker could not put in the lent room (there was none, it was
 * used up, its words were, or the page does not follow): open a new page
 * vector with as much room as the message has left, put the page first, lend
 * the rest. A PAGEVEC takes a word a page; a PAGEIDX a byte, and room is kept
 * for its words (3 bytes of padding, MEMTRACE_NL_WORDS words).
 */
static int memtrace_nl_put_page(struct memtrace_nl_dump *d,
				const struct memtrace_record *r)
{
	struct memtrace_room *room = &d->room;
	bool indexed = room->bytes;
	unsigned int per = indexed ? 1 : sizeof(u32);
	unsigned int head = indexed ?
		sizeof(*d->ivec) + 3 + sizeof(d->pal) : sizeof(*d->vec);
	u32 word = MEMTRACE_PW(r->state, r->flags, r->node);
	struct nlattr *a;
	unsigned int cap;

	if (d->arr && memtrace_nl_close(d))
		return -EMSGSIZE;
	cap = memtrace_nl_vec_pages(skb_tailroom(d->skb), head, per, d->pfns);
	if (d->pfns)
		cap = min_t(unsigned int, cap, MEMTRACE_NL_PFNS);
	if (!cap)
		return -ENOSPC;
	a = nla_reserve(d->skb, indexed ? MEMTRACE_A_PAGEIDX :
			MEMTRACE_A_PAGEVEC, head + cap * per);
	if (!a)
		return -ENOSPC;	/* cannot happen: memtrace_nl_vec_pages() */
	d->arr = a;
	if (indexed) {
		d->ivec = nla_data(a);
		d->ivec->addr = r->addr;
		d->ivec->reserved = 0;
		room->idx = (u8 *)(d->ivec + 1);
		room->idx[0] = 0;
		d->pal[0] = word;
		room->nwords = 1;
	} else {
		d->vec = nla_data(a);
		d->vec->addr = r->addr;
		d->vec->reserved = 0;
		room->word = (u32 *)(d->vec + 1);
		room->word[0] = word;
	}
	if (d->pfns)
		d->pfns[0] = r->pfn;
	room->cap = cap;
	room->used = 1;
	room->next = r->addr + PAGE_SIZE;
	return 0;
}

/* Packed answers: runs, and pages mode's pages in page vectors. */
static int memtrace_nl_sink_packed(void *arg, const struct memtrace_record *r)
{
	struct memtrace_nl_dump *d = arg;

	if (d->query.req.mode == MEMTRACE_MODE_PAGES &&
	    r->state != MEMTRACE_UNMAPPED)
		return memtrace_nl_put_page(d, r);
	return memtrace_nl_put_run(d, r);
}

static int memtrace_nl_put_summary(struct sk_buff *skb,
				   const struct memtrace_query *q)
{
	struct nlattr *nest = nla_nest_start(skb, MEMTRACE_A_SUMMARY);
	const u64 *counts = memtrace_query_counts(q);
	/* the states of this answer: CACHED only when asked for */
	int i, n = q->req.cached ? MEMTRACE_NSTATES_ALL : MEMTRACE_NSTATES;

	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < n; i++) {
		if (nla_put_u64_64bit(skb, i + 1, counts[i], MEMTRACE_A_PAD)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(skb, nest);
	return 0;
}

static void memtrace_nl_explain(struct netlink_ext_ack *extack,
				const struct memtrace_nl_dump *d, int err)
{
	const char *msg = NULL;
	int why = d->why;

	if (why == MEMTRACE_WHY_MSG)
		msg = d->msg;	/* file.c's words, static too */
	else if (why != MEMTRACE_WHY_QUERY)
		msg = memtrace_nl_why_msg[why];
	if (msg) {
		/* NL_SET_ERR_MSG() but for its static copy, which needs a literal */
		if (extack)
			extack->_msg = msg;
		return;
	}
	switch (err) {
	case -ESRCH:
		NL_SET_ERR_MSG(extack,
			       "no such process, or it has no memory (kernel thread, exited)");
		break;
	case -EACCES:
		NL_SET_ERR_MSG(extack,
			       "permission denied: uid/gid differ or not dumpable, and no CAP_SYS_PTRACE");
		break;
	case -ERANGE:
		NL_SET_ERR_MSG(extack, "START or END is past the process's TASK_SIZE");
		break;
	case -EINVAL:
		NL_SET_ERR_MSG(extack, "END must be above START");
		break;
	case -EAGAIN:
		NL_SET_ERR_MSG(extack,
			       "the process is in an execve() (its exec_update_lock is held): try again");
		break;
	}
}

/*
 * The sender (start runs in its sendmsg(), the dump in any recvmsg()),
 * never more than the socket's opener: netlink_capable() asks both.
 */
static void memtrace_nl_caller(struct netlink_callback *cb,
			       struct memtrace_caller *c)
{
	struct socket *sock = NETLINK_CB(cb->skb).sk->sk_socket;

	c->cred = current_cred();
	c->opener = sock && sock->file ? sock->file->f_cred : NULL;
	c->mm = current->mm;
	c->ns = task_active_pid_ns(current);
	c->cap_ptrace = netlink_capable(cb->skb, CAP_SYS_PTRACE);
	c->cap_admin = netlink_capable(cb->skb, CAP_SYS_ADMIN);
}

/* A QUERY's attributes as a request; on error d->why says why. */
static int memtrace_nl_parse(struct nlattr **attrs, struct memtrace_nl_dump *d,
			     struct memtrace_request *req)
{
	bool packed = nla_get_flag(attrs[MEMTRACE_A_PACKED]);
	bool indexed = nla_get_flag(attrs[MEMTRACE_A_INDEXED]);
	u32 pid = 0, fd = 0;

	if (d->cmd == MEMTRACE_CMD_FILE) {
		if (!attrs[MEMTRACE_A_FD]) {
			d->why = MEMTRACE_WHY_NO_FD;
			return -EINVAL;
		}
		fd = nla_get_u32(attrs[MEMTRACE_A_FD]);
		if (fd > INT_MAX) {	/* a negative int */
			d->why = MEMTRACE_WHY_BAD_FD;
			return -EBADF;
		}
	} else {
		if (!attrs[MEMTRACE_A_PID]) {
			d->why = MEMTRACE_WHY_NO_PID;
			return -EINVAL;
		}
		pid = nla_get_u32(attrs[MEMTRACE_A_PID]);
		if (!pid || pid > PID_MAX_LIMIT) {
			d->why = MEMTRACE_WHY_PID_RANGE;
			return -ESRCH;
		}
	}
	if (indexed && !packed) {
		d->why = MEMTRACE_WHY_INDEXED;
		return -EINVAL;
	}
	req->folio = nla_get_flag(attrs[MEMTRACE_A_FOLIO]);
	if (req->folio && packed) {
		d->why = MEMTRACE_WHY_FOLIO;
		return -EINVAL;
	}
	req->pid = pid;
	req->fd = fd;
	if (attrs[MEMTRACE_A_START])
		req->start = nla_get_u64(attrs[MEMTRACE_A_START]);
	if (attrs[MEMTRACE_A_END])
		req->end = nla_get_u64(attrs[MEMTRACE_A_END]);
	req->to_task_size = !attrs[MEMTRACE_A_END];
	req->mode = MEMTRACE_MODE_RUNS;
	if (attrs[MEMTRACE_A_MODE])
		req->mode = nla_get_u8(attrs[MEMTRACE_A_MODE]);
	req->no_pfn = nla_get_flag(attrs[MEMTRACE_A_NO_PFN]);
	req->cached = nla_get_flag(attrs[MEMTRACE_A_CACHED]);
	req->packing = !packed ? MEMTRACE_PACK_NONE :
		       indexed ? MEMTRACE_PACK_INDEXED : MEMTRACE_PACK_WORDS;
	return 0;
}

/*
 * Parse a QUERY and start answering it; on error d->why says why. A packed
 * answer in pages mode lends its page vectors to the walk as room.
 */
static int memtrace_nl_query_setup(struct netlink_callback *cb,
				   struct memtrace_nl_dump *d)
{
	struct memtrace_request req = {};
	struct memtrace_caller caller;
	struct memtrace_room *room = NULL;
	memtrace_sink_t sink = memtrace_nl_sink;
	int err;

	err = memtrace_nl_parse(memtrace_nl_dump_attrs(cb), d, &req);
	if (err)
		return err;
	memtrace_nl_caller(cb, &caller);
	if (req.packing != MEMTRACE_PACK_NONE)
		sink = memtrace_nl_sink_packed;
	if (sink == memtrace_nl_sink_packed && req.mode == MEMTRACE_MODE_PAGES) {
		room = &d->room;
		room->bytes = req.packing == MEMTRACE_PACK_INDEXED;
		room->words = d->pal;
		/* words a PAGEIDX holds: read once a dump */
		room->maxwords = clamp_t(unsigned int, READ_ONCE(pageidx_words),
					 1, MEMTRACE_NL_WORDS);
	}
	if (d->cmd == MEMTRACE_CMD_FILE) {
		/*
		 * The start callback runs in the sender's sendmsg(): its own
		 * file table and credentials. The reference is the walk's
		 * until memtrace_query_release(), which every end of the
		 * dump calls (the done callback, also when the socket is
		 * closed half-way).
		 */
		struct file *file = fget(req.fd);

		if (!file) {
			d->why = MEMTRACE_WHY_BAD_FD;
			return -EBADF;
		}
		err = memtrace_query_start_file(&d->query, &req, file, &caller,
						sink, d, room, &d->msg);
		if (err) {
			fput(file);
			d->why = MEMTRACE_WHY_MSG;
		}
		return err;
	}
	/*
	 * This runs in the sender's sendmsg(), under genetlink's cb_lock,
	 * which genl_register_family() waits for (and every genetlink request
	 * behind it): the target's exec_update_lock is only tried, EAGAIN
	 * while an execve() holds it (one stuck on a stuck mmap_lock holds it
	 * as long).
	 */
	req.nowait = true;
	err = memtrace_query_start(&d->query, &req, &caller, sink, d, room);
	if (err || !room || !d->query.show_pfn)
		return err;
	d->pfns = kvmalloc_array(MEMTRACE_NL_PFNS, sizeof(u64), GFP_KERNEL);
	d->room.pfns = d->pfns;
	return d->pfns ? 0 : -ENOMEM;
}

static void memtrace_nl_dump_free(struct memtrace_nl_dump *d)
{
	memtrace_query_release(&d->query);
	kvfree(d->pfns);
	kfree(d);
}

static int memtrace_nl_start(struct netlink_callback *cb, u8 cmd)
{
	struct memtrace_nl_dump *d;
	int err;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->cmd = cmd;
	err = memtrace_nl_query_setup(cb, d);
	if (err && !cb->extack) {
		/*
		 * Older kernels (5.10 among them) give a dump's start callback
		 * no extack; the first dump call has one, and its error goes
		 * out in NLMSG_DONE with the message. Refuse there, so the
		 * caller learns why.
		 */
		d->err = err;
		err = 0;
	}
	if (err) {
		memtrace_nl_explain(cb->extack, d, err);
		memtrace_nl_dump_free(d);
		return err;
	}
	memtrace_nl_ctx(cb)->dump = d;
	return 0;
}

static int memtrace_nl_query_start(struct netlink_callback *cb)
{
	return memtrace_nl_start(cb, MEMTRACE_CMD_QUERY);
}

static int memtrace_nl_file_start(struct netlink_callback *cb)
{
	return memtrace_nl_start(cb, MEMTRACE_CMD_FILE);
}

/* The answer's header: what is answered, the range page aligned. */
static int memtrace_nl_put_query(struct sk_buff *skb,
				 const struct memtrace_nl_dump *d)
{
	const struct memtrace_query *q = &d->query;

	if ((d->cmd == MEMTRACE_CMD_FILE ?
	     nla_put_u32(skb, MEMTRACE_A_FD, q->req.fd) :
	     nla_put_u32(skb, MEMTRACE_A_PID, q->req.pid)) ||
	    nla_put_u64_64bit(skb, MEMTRACE_A_START, q->start, MEMTRACE_A_PAD) ||
	    nla_put_u64_64bit(skb, MEMTRACE_A_END, q->end, MEMTRACE_A_PAD) ||
	    nla_put_u8(skb, MEMTRACE_A_MODE, q->req.mode))
		return -EMSGSIZE;
	return 0;
}

/*
 * One dump call's progress. It holds the socket's dump mutex, which any
 * request sent on that socket waits for, unkillably and under genetlink's
 * cb_lock (which a family (un)registering waits for, and every genetlink
 * request behind that); the first call runs in the request's own
 * sendmsg(), under cb_lock itself. So no lock of the target is waited for
 * unboundedly: the walk only tries them (nowait) and stops at a deadline,
 * a busy one is tried again after short sleeps until MEMTRACE_NL_CALL_MS
 * have passed, then what was classified goes out, maybe nothing (the
 * header alone), and the next call goes on. The first call does not
 * sleep, and classifies for MEMTRACE_NL_FIRST_MS at most.
 */
static int memtrace_nl_step(struct memtrace_nl_dump *d)
{
	struct memtrace_walk *w = &d->query.walk;
	bool first = !d->called;
	/* + 1: a jiffy that has begun is not a whole one */
	unsigned long until = jiffies + (READ_ONCE(stop_early) ? 0 :
		msecs_to_jiffies(first ? MEMTRACE_NL_FIRST_MS : MEMTRACE_NL_CALL_MS) + 1);
	unsigned int tries = 0;
	unsigned long next;
	int err;

	d->called = true;
	w->nowait = true;
	w->deadline = until ?: 1;
	for (;;) {
		next = w->next;
		err = memtrace_query_step(&d->query);
		if (err != -EBUSY || first || time_after_eq(jiffies, until))
			break;
		/*
		 * A writer let in by the walk's yield is done in microseconds:
		 * short sleeps while the walk goes on, a jiffy at a time once
		 * it made none for a few (a lock held, a fault stuck in it)
		 */
		if (w->next != next)
			tries = 0;
		if (tries++ < 4)
			usleep_range(50, 200);
		else
			schedule_timeout_killable(1);
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
	}
	w->nowait = false;
	w->deadline = 0;
	return err == -EBUSY ? 0 : err;	/* -EBUSY: the rest in the next message */
}

static int memtrace_nl_query_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct memtrace_nl_dump *d = memtrace_nl_ctx(cb)->dump;
	struct memtrace_query *q = &d->query;
	void *hdr;
	int err;

	if (d->err) {
		memtrace_nl_explain(cb->extack, d, d->err);
		return d->err;
	}
	if (d->summary_sent)
		return 0;	/* NLMSG_DONE, if it did not fit after the summary */
	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &memtrace_genl_family, NLM_F_MULTI, d->cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (memtrace_nl_put_query(skb, d)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}

	d->skb = skb;
	err = memtrace_nl_step(d);
	if (d->arr && memtrace_nl_close(d) && !err)
		err = -EMSGSIZE;
	d->skb = NULL;
	if (err) {
		genlmsg_cancel(skb, hdr);
		return err;
	}
	if (memtrace_query_done(q) && !memtrace_nl_put_summary(skb, q))
		d->summary_sent = true;
	genlmsg_end(skb, hdr);
	/* 0 after the summary: NLMSG_DONE rides in this same buffer */
	return d->summary_sent ? 0 : skb->len;
}

static int memtrace_nl_query_done(struct netlink_callback *cb)
{
	struct memtrace_nl_dump *d = memtrace_nl_ctx(cb)->dump;

	if (d)
		memtrace_nl_dump_free(d);
	return 0;
}

/*
 * TOP: every process the sender may query, counted one after the other
 * (top.c), a message each. A process is counted with no message being
 * filled and no lock held but the walk's own; one counted that does not
 * fit waits in the dump's state for the next buffer, never counted twice.
 */
static int memtrace_nl_top_start(struct netlink_callback *cb)
{
	struct nlattr **attrs = memtrace_nl_dump_attrs(cb);
	struct memtrace_caller caller;
	struct memtrace_nl_top *d;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	memtrace_nl_caller(cb, &caller);
	memtrace_top_start(&d->top, &caller,
			   nla_get_flag(attrs[MEMTRACE_A_CACHED]));
	memtrace_nl_ctx(cb)->top = d;
	return 0;
}

static int memtrace_nl_put_proc(struct sk_buff *skb,
				struct netlink_callback *cb,
				const struct memtrace_top *t)
{
	const struct memtrace_top_proc *p = &t->proc;
	int i, n = t->cached ? MEMTRACE_NSTATES_ALL : MEMTRACE_NSTATES;
	struct nlattr *proc, *sum;
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &memtrace_genl_family, NLM_F_MULTI, MEMTRACE_CMD_TOP);
	if (!hdr)
		return -EMSGSIZE;
	proc = nla_nest_start(skb, MEMTRACE_A_PROC);
	if (!proc)
		goto cancel;
	if (nla_put_u32(skb, MEMTRACE_P_PID, p->pid) ||
	    nla_put_string(skb, MEMTRACE_P_COMM, p->comm.s) ||
	    nla_put_u64_64bit(skb, MEMTRACE_P_THP, p->thp, MEMTRACE_P_PAD) ||
	    (p->busy && nla_put_flag(skb, MEMTRACE_P_BUSY)))
		goto cancel;
	sum = nla_nest_start(skb, MEMTRACE_P_SUMMARY);
	if (!sum)
		goto cancel;
	for (i = 0; i < n; i++)
		if (nla_put_u64_64bit(skb, i + 1, p->counts[i], MEMTRACE_A_PAD))
			goto cancel;
	nla_nest_end(skb, sum);
	nla_nest_end(skb, proc);
	genlmsg_end(skb, hdr);
	return 0;
cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int memtrace_nl_top_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	unsigned long until = jiffies + msecs_to_jiffies(MEMTRACE_NL_TOP_MS);
	struct memtrace_nl_top *d = memtrace_nl_ctx(cb)->top;
	bool put = false, first = !d->called;
	int ret;

	/*
	 * The first call runs inside the request's genl_rcv(), under
	 * genetlink's cb_lock (read): a family (un)registering waits for it,
	 * and every genetlink request behind that. It waits for no busy lock
	 * (P_BUSY after one try) and sends its first process at once.
	 */
	d->called = true;
	d->top.no_wait = first;

	while (!d->end) {
		if (!d->have) {
			ret = memtrace_top_next(&d->top);
			if (ret < 0)
				return ret;
			if (!ret) {
				d->end = true;
				break;
			}
			d->have = true;
		}
		if (memtrace_nl_put_proc(skb, cb, &d->top))
			return put ? skb->len : -EMSGSIZE;
		d->have = false;
		put = true;
		/*
		 * This call holds the socket's dump mutex, which another
		 * recvmsg() on it waits for unkillably: no new process is
		 * counted into this buffer after MEMTRACE_NL_TOP_MS (one
		 * count can take longer: a big process, 200 ms of busy locks)
		 */
		if (first || time_after(jiffies, until))
			return skb->len;
	}
	/* 0: NLMSG_DONE, in this buffer when it fits, else the next */
	return 0;
}

static int memtrace_nl_top_done(struct netlink_callback *cb)
{
	struct memtrace_nl_top *d = memtrace_nl_ctx(cb)->top;

	if (d) {
		memtrace_top_release(&d->top);
		kfree(d);
	}
	return 0;
}

static int memtrace_nl_get_info(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &memtrace_genl_family, 0,
				MEMTRACE_CMD_GET_INFO);
	if (!hdr)
		goto nospace;
	if (nla_put_string(msg, MEMTRACE_A_VERSION, MEMTRACE_VERSION) ||
	    nla_put_u32(msg, MEMTRACE_A_PAGE_SIZE, PAGE_SIZE) ||
	    nla_put_u32(msg, MEMTRACE_A_NSTATES, MEMTRACE_NSTATES) ||
	    nla_put_u32(msg, MEMTRACE_A_FLAGS_MASK, MEMTRACE_F_ALL) ||
	    nla_put_u64_64bit(msg, MEMTRACE_A_TASK_SIZE, memtrace_task_size(),
			      MEMTRACE_A_PAD) ||
	    nla_put_u64_64bit(msg, MEMTRACE_A_PMD_SIZE, PMD_SIZE,
			      MEMTRACE_A_PAD) ||
	    nla_put_u64_64bit(msg, MEMTRACE_A_PUD_SIZE, PUD_SIZE,
			      MEMTRACE_A_PAD) ||
	    nla_put_u32(msg, MEMTRACE_A_FEATURES,
			MEMTRACE_FEAT_CACHED | MEMTRACE_FEAT_FOLIO |
			MEMTRACE_FEAT_FILE | MEMTRACE_FEAT_TOP))
		goto nospace;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static const struct genl_ops memtrace_genl_ops[] = {
	{
		.cmd = MEMTRACE_CMD_GET_INFO,
		.doit = memtrace_nl_get_info,
		.policy = memtrace_info_policy,
		.maxattr = MEMTRACE_A_MAX,
	},
	{
		.cmd = MEMTRACE_CMD_QUERY,
		.start = memtrace_nl_query_start,
		.dumpit = memtrace_nl_query_dump,
		.done = memtrace_nl_query_done,
		.policy = memtrace_query_policy,
		.maxattr = MEMTRACE_A_MAX,
	},
	{
		.cmd = MEMTRACE_CMD_FILE,
		.start = memtrace_nl_file_start,
		.dumpit = memtrace_nl_query_dump,
		.done = memtrace_nl_query_done,
		.policy = memtrace_file_policy,
		.maxattr = MEMTRACE_A_MAX,
	},
	{
		.cmd = MEMTRACE_CMD_TOP,
		.start = memtrace_nl_top_start,
		.dumpit = memtrace_nl_top_dump,
		.done = memtrace_nl_top_done,
		.policy = memtrace_top_policy,
		.maxattr = MEMTRACE_A_MAX,
	},
};

/* Every operation is validated strictly: unknown attributes are refused. */
static struct genl_family memtrace_genl_family __ro_after_init = {
	.name = MEMTRACE_GENL_NAME,
	.version = MEMTRACE_GENL_VERSION,
	.maxattr = MEMTRACE_A_MAX,
	.netnsok = true,
	/*
	 * A dump step sleeps on the target's mmap_lock (killable) and may
	 * drop the last reference to its mm: not under genl_mutex, where it
	 * would stall every family without parallel_ops. The start and the
	 * first dump call still run under genetlink's cb_lock, and every call
	 * holds the socket's dump mutex: none waits for a lock of the target
	 * unboundedly (memtrace_nl_step(), memtrace_top_wait()). Nothing here
	 * is shared between requests: a dump's state is its own.
	 */
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = memtrace_genl_ops,
	.n_ops = ARRAY_SIZE(memtrace_genl_ops),
};

int memtrace_netlink_init(void)
{
	return genl_register_family(&memtrace_genl_family);
}

void memtrace_netlink_exit(void)
{
	genl_unregister_family(&memtrace_genl_family);
}

MODULE_ALIAS_GENL_FAMILY(MEMTRACE_GENL_NAME);
