// SPDX-License-Identifier: GPL-2.0
/*
 * rlib: memtrace queries over generic netlink, each message checked as it
 * comes (the rest of rlib, knobs, the answer checker and /proc text, is in
 * rlib.c).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rlib.h"

size_t rl_nl_query_msg(struct nlr *s, void *buf, uint32_t pid, uint64_t start,
		       uint64_t end, bool have_end, int mode)
{
	unsigned char *p = buf;
	struct nlmsghdr *h = buf;
	struct genlmsghdr *g = (struct genlmsghdr *)(p + NLMSG_HDRLEN);
	size_t len = NLMSG_HDRLEN + GENL_HDRLEN;
	uint8_t m = mode & 0xff;

	memset(buf, 0, len);
	g->cmd = MEMTRACE_CMD_QUERY;
	g->version = MEMTRACE_GENL_VERSION;
	len += nlr_put_attr(p + len, MEMTRACE_A_PID, &pid, 4);
	len += nlr_put_attr(p + len, MEMTRACE_A_START, &start, 8);
	if (have_end)
		len += nlr_put_attr(p + len, MEMTRACE_A_END, &end, 8);
	len += nlr_put_attr(p + len, MEMTRACE_A_MODE, &m, 1);
	if (mode & RL_PACKED)
		len += nlr_put_attr(p + len, MEMTRACE_A_PACKED, NULL, 0);
	if (mode & RL_INDEXED)
		len += nlr_put_attr(p + len, MEMTRACE_A_INDEXED, NULL, 0);
	h->nlmsg_len = len;
	h->nlmsg_type = s->family;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = ++s->seq;
	return len;
}

/* Walk the attributes of [p, p+len): every byte must belong to one. */
#define for_attrs(a, p, len, rem)                                                   \
	for ((a) = (struct nlattr *)(p), (rem) = (int)(len);                         \
	     (rem) >= NLA_HDRLEN && (a)->nla_len >= NLA_HDRLEN && (a)->nla_len <= (rem); \
	     (rem) -= NLA_ALIGN((a)->nla_len),                                       \
	     (a) = (struct nlattr *)((char *)(a) + NLA_ALIGN((a)->nla_len)))

static bool get_fixed(const struct nlattr *a, void *out, size_t len)
{
	if (a->nla_len != NLA_HDRLEN + len)
		return false;
	memcpy(out, (const char *)a + NLA_HDRLEN, len);
	return true;
}

static bool check_record_nest(struct rl_check *c, const struct nlattr *nest)
{
	uint64_t addr = 0, pages = 0, pfn = 0;
	uint32_t flags = 0;
	int32_t node = 0;
	uint8_t state = 0, order = 0;
	unsigned int seen = 0;
	const struct nlattr *a;
	int rem;

	for_attrs(a, (const char *)nest + NLA_HDRLEN, nest->nla_len - NLA_HDRLEN, rem) {
		unsigned int t = a->nla_type;
		bool ok;

		if (t == MEMTRACE_R_PAD && a->nla_len == NLA_HDRLEN)
			continue;
		if (t == 0 || t > MEMTRACE_R_FOLIO || t == MEMTRACE_R_PAD || (seen & (1U << t)))
			return rl_check_fail(c, "record nest: attribute %u (again?)", t);
		seen |= 1U << t;
		switch (t) {
		case MEMTRACE_R_ADDR: ok = get_fixed(a, &addr, 8); break;
		case MEMTRACE_R_PAGES: ok = get_fixed(a, &pages, 8); break;
		case MEMTRACE_R_STATE: ok = get_fixed(a, &state, 1); break;
		case MEMTRACE_R_FLAGS: ok = get_fixed(a, &flags, 4); break;
		case MEMTRACE_R_PFN: ok = get_fixed(a, &pfn, 8); break;
		/* asked for with MEMTRACE_A_FOLIO: an order below 31 */
		case MEMTRACE_R_FOLIO: ok = get_fixed(a, &order, 1) && order <= 30; break;
		default: ok = get_fixed(a, &node, 4); break;
		}
		if (!ok)
			return rl_check_fail(c, "record nest: attribute %u of length %u", t, a->nla_len);
	}
	if (rem > 0 && rem >= NLA_HDRLEN)
		return rl_check_fail(c, "record nest: %d bytes left over", rem);
	if ((seen & ~(1U << MEMTRACE_R_FOLIO)) != 0x7e)
		return rl_check_fail(c, "record nest: attributes 0x%x of 0x7e (+0x100)", seen);
	return rl_check_record(c, addr, pages, state, flags, pfn, node);
}

static bool check_summary_nest(struct rl_check *c, const struct nlattr *nest)
{
	uint64_t counts[MEMTRACE_NSTATES] = { 0 }, total = 0;
	unsigned int seen = 0;
	const struct nlattr *a;
	int rem;

	for_attrs(a, (const char *)nest + NLA_HDRLEN, nest->nla_len - NLA_HDRLEN, rem) {
		unsigned int t = a->nla_type;

		if (t == MEMTRACE_A_PAD && a->nla_len == NLA_HDRLEN)
			continue;
		if (t == 0 || t > MEMTRACE_NSTATES || (seen & (1U << t)) ||
		    !get_fixed(a, &counts[t - 1], 8))
			return rl_check_fail(c, "summary nest: attribute %u length %u", t, a->nla_len);
		seen |= 1U << t;
		total += counts[t - 1];
	}
	if (seen != ((1U << (MEMTRACE_NSTATES + 1)) - 2))
		return rl_check_fail(c, "summary nest: attributes 0x%x", seen);
	return rl_check_summary(c, total, counts);
}

/* MEMTRACE_A_RUNS: whole struct memtrace_run records, each checked. */
static bool check_runs(struct rl_check *c, const struct nlattr *a)
{
	unsigned int len = a->nla_len - NLA_HDRLEN;
	struct memtrace_run run;

	if (len % sizeof(run))
		return rl_check_fail(c, "runs array of %u bytes", len);
	for (unsigned int off = 0; off < len; off += sizeof(run)) {
		memcpy(&run, (const char *)a + NLA_HDRLEN + off, sizeof(run));
		if (run.reserved)
			return rl_check_fail(c, "run 0x%" PRIx64 ": reserved 0x%x", (uint64_t)run.addr,
					     run.reserved);
		if (MEMTRACE_PW_FLAGS(run.word) >> 11 || MEMTRACE_PW_STATE(run.word) >= MEMTRACE_NSTATES)
			return rl_check_fail(c, "run 0x%" PRIx64 ": word 0x%x", (uint64_t)run.addr,
					     run.word);
		if (!rl_check_record(c, run.addr, run.pages, MEMTRACE_PW_STATE(run.word),
				     MEMTRACE_PW_FLAGS(run.word), run.pfn, MEMTRACE_PW_NODE(run.word)))
			return false;
	}
	return true;
}

/*
 * The PFNVEC after a page vector of count pages at addr (NULL if none): one
 * pfn a page, and there must be one when pfns are shown (as admin).
 */
static bool check_pfnvec(struct rl_check *c, uint64_t addr, uint32_t count,
			 const struct nlattr *pfns)
{
	if (pfns && pfns->nla_len != NLA_HDRLEN + count * 8)
		return rl_check_fail(c, "page vector 0x%" PRIx64 " of %u pages: pfn vector of %u bytes",
				     addr, count, pfns->nla_len - NLA_HDRLEN);
	if (!pfns && c->admin)
		return rl_check_fail(c, "page vector 0x%" PRIx64 " without pfns (as admin)", addr);
	return true;
}

/* Page i of a page vector at addr: its word w, its pfn from pfns (or 0). */
static bool check_page(struct rl_check *c, uint64_t addr, uint32_t i, uint32_t w,
		       const struct nlattr *pfns)
{
	uint64_t pfn = 0;

	if (pfns)
		memcpy(&pfn, (const char *)pfns + NLA_HDRLEN + i * 8, 8);
	if (MEMTRACE_PW_FLAGS(w) >> 11 || MEMTRACE_PW_STATE(w) == MEMTRACE_UNMAPPED)
		return rl_check_fail(c, "page 0x%" PRIx64 ": word 0x%x", addr + i * RL_PAGE, w);
	return rl_check_record(c, addr + i * RL_PAGE, 1, MEMTRACE_PW_STATE(w),
			       MEMTRACE_PW_FLAGS(w), pfn, MEMTRACE_PW_NODE(w));
}

/*
 * MEMTRACE_A_PAGEVEC, with pfns from the PFNVEC that must follow it when pfns
 * are shown (pfns: the PFNVEC, NULL when there is none).
 */
static bool check_pagevec(struct rl_check *c, const struct nlattr *a, const struct nlattr *pfns)
{
	unsigned int len = a->nla_len - NLA_HDRLEN;
	const char *d = (const char *)a + NLA_HDRLEN;
	struct memtrace_pagevec v;
	uint32_t w;

	if (c->mode != MEMTRACE_MODE_PAGES)
		return rl_check_fail(c, "a page vector in runs mode");
	if (len < sizeof(v))
		return rl_check_fail(c, "page vector of %u bytes", len);
	memcpy(&v, d, sizeof(v));
	if (!v.count || v.reserved || len != sizeof(v) + v.count * 4)
		return rl_check_fail(c, "page vector 0x%" PRIx64 ": count %u reserved %u, %u bytes",
				     (uint64_t)v.addr, v.count, v.reserved, len);
	if (!check_pfnvec(c, v.addr, v.count, pfns))
		return false;
	for (uint32_t i = 0; i < v.count; i++) {
		memcpy(&w, d + sizeof(v) + i * 4, 4);
		if (!check_page(c, v.addr, i, w, pfns))
			return false;
	}
	return true;
}

/*
 * MEMTRACE_A_PAGEIDX: a byte a page indexing the words after them (layout,
 * zero padding, indexes in range), with pfns as for a PAGEVEC.
 */
static bool check_pageidx(struct rl_check *c, const struct nlattr *a, const struct nlattr *pfns)
{
	unsigned int len = a->nla_len - NLA_HDRLEN;
	const unsigned char *d = (const unsigned char *)a + NLA_HDRLEN;
	struct memtrace_pageidx v;
	size_t off;
	uint32_t w;

	if (c->mode != MEMTRACE_MODE_PAGES)
		return rl_check_fail(c, "a page index vector in runs mode");
	if (len < sizeof(v))
		return rl_check_fail(c, "page index vector of %u bytes", len);
	memcpy(&v, d, sizeof(v));
	off = MEMTRACE_PAGEIDX_WORDS_OFF((size_t)v.count);
	if (!v.count || !v.nwords || v.nwords > MEMTRACE_PAGEIDX_WORDS_MAX || v.reserved ||
	    len != off + v.nwords * 4)
		return rl_check_fail(c, "page index vector 0x%" PRIx64 ": count %u words %u "
				     "reserved %u, %u bytes", (uint64_t)v.addr, v.count, v.nwords,
				     v.reserved, len);
	for (size_t i = sizeof(v) + v.count; i < off; i++)
		if (d[i])
			return rl_check_fail(c, "page index vector 0x%" PRIx64 ": padding not zero",
					     (uint64_t)v.addr);
	if (!check_pfnvec(c, v.addr, v.count, pfns))
		return false;
	for (uint32_t i = 0; i < v.count; i++) {
		unsigned int ix = d[sizeof(v) + i];

		if (ix >= v.nwords)
			return rl_check_fail(c, "page 0x%" PRIx64 ": index %u of %u words",
					     (uint64_t)v.addr + i * RL_PAGE, ix, v.nwords);
		memcpy(&w, d + off + ix * 4, 4);
		if (!check_page(c, v.addr, i, w, pfns))
			return false;
	}
	return true;
}

/* The query a dump message repeats: adopted from the first, then equal. */
static bool header_ok(struct rl_check *c, uint32_t pid, uint64_t start, uint64_t end,
		      uint8_t mode, bool *first)
{
	if (*first && !c->pid) {
		c->pid = pid;
		c->start = c->next = start;
		c->end = end;
		c->mode = mode;
	}
	if (*first && !c->end)
		c->end = end;
	*first = false;
	if ((int)pid != c->pid || start != c->start || end != c->end || mode != c->mode)
		return rl_check_fail(c, "dump message for pid %u [0x%" PRIx64 ", 0x%" PRIx64
				     ") mode %u, asked pid %d [0x%" PRIx64 ", 0x%" PRIx64 ") mode %d",
				     pid, start, end, mode, c->pid, c->start, c->end, c->mode);
	if (start % RL_PAGE || end % RL_PAGE || end <= start || mode > MEMTRACE_MODE_MAX)
		return rl_check_fail(c, "dump of [0x%" PRIx64 ", 0x%" PRIx64 ") mode %u", start,
				     end, mode);
	return true;
}

bool rl_nl_check_msg(struct rl_check *c, const struct nlmsghdr *h, uint16_t family, bool *first)
{
	const struct genlmsghdr *g = NLMSG_DATA(h);
	uint32_t pid = 0;
	uint64_t start = 0, end = 0;
	uint8_t mode = 0;
	unsigned int seen = 0, prev = 0;
	const struct nlattr *a;
	int rem;

	if (c->err[0])
		return false;
	if (h->nlmsg_type != family || h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return rl_check_fail(c, "data message of type %u, length %u", h->nlmsg_type,
				     h->nlmsg_len);
	if (g->cmd != MEMTRACE_CMD_QUERY)
		return rl_check_fail(c, "data message with cmd %u", g->cmd);
	if (!(h->nlmsg_flags & NLM_F_MULTI))
		return rl_check_fail(c, "dump message without NLM_F_MULTI");
	if (c->summary)
		return rl_check_fail(c, "data message after the summary");
	/* first the repeated query, then records and the summary */
	for_attrs(a, (const char *)g + GENL_HDRLEN, h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, rem) {
		unsigned int t = a->nla_type & NLA_TYPE_MASK;
		bool ok = true;

		switch (t) {
		case MEMTRACE_A_PID: ok = get_fixed(a, &pid, 4); break;
		case MEMTRACE_A_START: ok = get_fixed(a, &start, 8); break;
		case MEMTRACE_A_END: ok = get_fixed(a, &end, 8); break;
		case MEMTRACE_A_MODE: ok = get_fixed(a, &mode, 1); break;
		case MEMTRACE_A_PAD: ok = a->nla_len == NLA_HDRLEN; break;
		case MEMTRACE_A_RECORD:
		case MEMTRACE_A_SUMMARY:
		case MEMTRACE_A_RUNS:
		case MEMTRACE_A_PAGEVEC:
		case MEMTRACE_A_PAGEIDX:
		case MEMTRACE_A_PFNVEC: {
			const struct nlattr *next = (const struct nlattr *)((const char *)a +
									    NLA_ALIGN(a->nla_len));
			int left = rem - NLA_ALIGN(a->nla_len);

			if (seen != 0x1e)
				return rl_check_fail(c, "record before PID/START/END/MODE");
			if (!header_ok(c, pid, start, end, mode, first))
				return false;
			if (t == MEMTRACE_A_RECORD)
				ok = check_record_nest(c, a);
			else if (t == MEMTRACE_A_SUMMARY)
				ok = check_summary_nest(c, a);
			else if (t == MEMTRACE_A_RUNS)
				ok = check_runs(c, a);
			else if (t == MEMTRACE_A_PAGEVEC)
				ok = check_pagevec(c, a, left >= NLA_HDRLEN && next->nla_len >= NLA_HDRLEN &&
						   next->nla_len <= left &&
						   next->nla_type == MEMTRACE_A_PFNVEC ? next : NULL);
			else if (t == MEMTRACE_A_PAGEIDX)
				ok = check_pageidx(c, a, left >= NLA_HDRLEN && next->nla_len >= NLA_HDRLEN &&
						   next->nla_len <= left &&
						   next->nla_type == MEMTRACE_A_PFNVEC ? next : NULL);
			else if (prev != MEMTRACE_A_PAGEVEC && prev != MEMTRACE_A_PAGEIDX)
				return rl_check_fail(c, "a pfn vector without its page vector");
			if (!ok)
				return false;
			prev = t;
			continue;
		}
		default:
			return rl_check_fail(c, "unexpected attribute %u in a dump message", t);
		}
		if (!ok)
			return rl_check_fail(c, "attribute %u of length %u", t, a->nla_len);
		if (t != MEMTRACE_A_PAD) {
			if (seen & (1U << t))
				return rl_check_fail(c, "attribute %u twice", t);
			seen |= 1U << t;
		}
	}
	if (rem >= NLA_HDRLEN)
		return rl_check_fail(c, "%d bytes of attributes left over", rem);
	if (seen != 0x1e)
		return rl_check_fail(c, "dump message lacks PID/START/END/MODE (0x%x)", seen);
	return header_ok(c, pid, start, end, mode, first);
}

int rl_nl_query(struct nlr *s, struct rl_check *c, uint32_t pid, uint64_t start,
		uint64_t end, bool have_end, int mode, unsigned long *msgs)
{
	unsigned char req[128];
	size_t len = rl_nl_query_msg(s, req, pid, start, end, have_end, mode);
	uint32_t seq = ((struct nlmsghdr *)req)->nlmsg_seq;
	bool first = true;
	int err;

	if (msgs)
		*msgs = 0;
	err = nlr_send_raw(s, req, len);
	if (err)
		return err;
	for (;;) {
		ssize_t n = nlr_recv(s, 60000);
		struct nlmsghdr *h;
		int left = (int)n;

		if (n < 0)
			return (int)n;
		if (!n) {
			rl_check_fail(c, "no answer in 60 s");
			return -ETIMEDOUT;
		}
		for (h = (struct nlmsghdr *)s->buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq) {
				rl_check_fail(c, "message of seq %u while waiting for %u (type %u)",
					      h->nlmsg_seq, seq, h->nlmsg_type);
				return -EBADMSG;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) || e->error >= 0) {
					rl_check_fail(c, "NLMSG_ERROR %d in a dump", e->error);
					return -EBADMSG;
				}
				return e->error;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				int e = 0;

				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&e, NLMSG_DATA(h), sizeof(e));
				if (e < 0)
					return e;
				if (!c->summary) {
					rl_check_fail(c, "NLMSG_DONE without a summary (%lu records)",
						      c->records);
					return -EBADMSG;
				}
				return 0;
			}
			if (msgs)
				(*msgs)++;
			if (!rl_nl_check_msg(c, h, s->family, &first))
				return -EBADMSG;
		}
		if (left > 0 && left >= (int)NLMSG_HDRLEN) {
			rl_check_fail(c, "%d bytes of a partial message", left);
			return -EBADMSG;
		}
	}
}
