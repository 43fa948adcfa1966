// SPDX-License-Identifier: GPL-2.0
/*
 * A QUERY dump's messages, decoded (kmod/uapi/memtrace.h, "Generic
 * netlink"): the header every message repeats, then records as attribute
 * nests or packed (arrays of runs; in pages mode a word a page, or a byte a
 * page indexing a few page words, each with its PFNVEC), then the summary.
 * Every record is checked as strictly as the text answer's (answer.c) and
 * handed to the caller's callback as its message is parsed.
 */
#include <errno.h>
#include <string.h>

#include "netlink.h"

/* One record, from a nest or a packed array: check it and hand it over. */
static int take_record(struct nl_req *r, struct mt_record *rec)
{
	uint64_t span;
	int ret;

	if (r->have_sum)
		return mt_nl_proto(r, "a record after the summary");
	/* CACHED and WRITEBACK only in the answer to a query that asks */
	if (rec->state < 0 ||
	    rec->state >= (r->q->cached ? MEMTRACE_NSTATES_ALL : MEMTRACE_NSTATES))
		return mt_nl_proto(r, "record at 0x%llx: unknown state %d",
			     (unsigned long long)rec->addr, rec->state);
	if (rec->flags & ~(uint32_t)(r->q->cached ? MEMTRACE_F_ALL_EXT : MEMTRACE_F_ALL))
		return mt_nl_proto(r, "record at 0x%llx: unknown flags 0x%x",
			     (unsigned long long)rec->addr, rec->flags);
	if (rec->pfn > MT_PM_PFN_MASK)
		return mt_nl_proto(r, "record at 0x%llx: pfn wider than 55 bits",
			     (unsigned long long)rec->addr);
	if (rec->node < MEMTRACE_NO_NODE)
		return mt_nl_proto(r, "record at 0x%llx: node %d", (unsigned long long)rec->addr,
			     rec->node);
	if (rec->addr != r->next)
		return mt_nl_proto(r, "record at 0x%llx, expected 0x%llx",
			     (unsigned long long)rec->addr, (unsigned long long)r->next);
	span = r->hdr.end - rec->addr;
	if (!rec->pages || rec->pages > span / r->hdr.page_size)
		return mt_nl_proto(r, "record at 0x%llx of %llu pages: empty or past the end",
			     (unsigned long long)rec->addr, (unsigned long long)rec->pages);
	if (r->hdr.mode == MEMTRACE_MODE_PAGES && rec->pages != 1 &&
	    rec->state != MEMTRACE_UNMAPPED)
		return mt_nl_proto(r, "pages mode record of %llu pages",
				   (unsigned long long)rec->pages);
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
		return mt_nl_proto(r, "malformed record");
	if (!get_u64(tb[MEMTRACE_R_ADDR], &rec.addr) ||
	    !get_u64(tb[MEMTRACE_R_PAGES], &rec.pages) ||
	    !get_u8(tb[MEMTRACE_R_STATE], &state) || !get_u32(tb[MEMTRACE_R_FLAGS], &flags) ||
	    !get_u64(tb[MEMTRACE_R_PFN], &rec.pfn) || !tb[MEMTRACE_R_NODE] ||
	    nla_len(tb[MEMTRACE_R_NODE]) != sizeof(int32_t))
		return mt_nl_proto(r, "record with a missing or malformed attribute");
	rec.state = state;
	rec.flags = flags;
	rec.node = (int32_t)nla_get_u32(tb[MEMTRACE_R_NODE]);
	rec.folio = 0;
	if (r->q->folio) {
		uint8_t order;

		if (!get_u8(tb[MEMTRACE_R_FOLIO], &order) || order > 30)
			return mt_nl_proto(r, "record with a missing or malformed folio order");
		rec.folio = (uint64_t)r->hdr.page_size << order;
	}
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
	struct mt_record rec = { 0 };
	int ret;

	if (len % sizeof(run))
		return mt_nl_proto(r, "runs array of %zu bytes", len);
	for (size_t off = 0; off < len; off += sizeof(run)) {
		memcpy(&run, p + off, sizeof(run));
		if (run.reserved)
			return mt_nl_proto(r, "run at 0x%llx: reserved field set",
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
		return mt_nl_proto(r, "page vector at 0x%llx: %u pages, pfns of %d bytes",
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
		return mt_nl_proto(r, "page vector: unmapped page at 0x%llx",
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
		return mt_nl_proto(r, "short page vector");
	memcpy(&vec, p, sizeof(vec));
	if (!vec.count || vec.reserved || len != sizeof(vec) + (size_t)vec.count * sizeof(w))
		return mt_nl_proto(r, "page vector at 0x%llx: bad count or length",
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
		return mt_nl_proto(r, "short page index vector");
	memcpy(&v, p, sizeof(v));
	off = MEMTRACE_PAGEIDX_WORDS_OFF((size_t)v.count);
	if (!v.count || !v.nwords || v.nwords > MEMTRACE_PAGEIDX_WORDS_MAX || v.reserved ||
	    len != off + v.nwords * sizeof(uint32_t))
		return mt_nl_proto(r, "page index vector at 0x%llx: bad count, words or length",
			     (unsigned long long)v.addr);
	for (size_t i = sizeof(v) + v.count; i < off; i++)
		if (p[i])
			return mt_nl_proto(r, "page index vector at 0x%llx: padding not zero",
				     (unsigned long long)v.addr);
	memcpy(words, p + off, v.nwords * sizeof(uint32_t));
	ret = pfn_vector(r, next, v.count, v.addr, &pfns);
	for (uint32_t i = 0; ret == NL_OK && i < v.count; i++) {
		if (idx[i] >= v.nwords)
			return mt_nl_proto(r, "page index vector at 0x%llx: index %u of %u words",
				     (unsigned long long)v.addr, idx[i], v.nwords);
		ret = take_page(r, v.addr, i, words[idx[i]], pfns);
	}
	return ret;
}

static int on_summary(struct nl_req *r, struct nlattr *nest)
{
	struct nlattr *tb[MEMTRACE_NSTATES_ALL + 1];
	/* CACHED's count only in the answer to a query that asks */
	int n = r->q->cached ? MEMTRACE_NSTATES_ALL : MEMTRACE_NSTATES;

	if (r->have_sum)
		return mt_nl_proto(r, "two summaries");
	if (nla_parse_nested(tb, n, nest, NULL))
		return mt_nl_proto(r, "malformed summary");
	memset(&r->sum, 0, sizeof(r->sum));
	for (int i = 0; i < n; i++) {
		if (!get_u64(tb[i + 1], &r->sum.count[i]))
			return mt_nl_proto(r, "summary: bad or missing %s", mt_state_names[i]);
		r->sum.pages += r->sum.count[i];
	}
	r->have_sum = true;
	return NL_OK;
}

int mt_nl_on_query(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[MEMTRACE_A_MAX + 1];
	struct nl_req *r = arg;
	struct mt_header h = { .page_size = r->page_size, .folio = r->q->folio };
	struct genlmsghdr *g;
	struct nlattr *a;
	uint32_t pid;
	uint8_t mode;
	int rem, ret, prev = 0;

	g = mt_nl_answer(r, nlh, r->q->path ? MEMTRACE_CMD_FILE : MEMTRACE_CMD_QUERY, "");
	if (!g)
		return NL_STOP;
	/* the header first: the records need it */
	if (genlmsg_parse(nlh, 0, tb, MEMTRACE_A_MAX, NULL))
		return mt_nl_proto(r, "malformed attributes");
	/* a file's answer: FD in place of PID */
	if (!get_u32(tb[r->q->path ? MEMTRACE_A_FD : MEMTRACE_A_PID], &pid) ||
	    !get_u64(tb[MEMTRACE_A_START], &h.start) ||
	    !get_u64(tb[MEMTRACE_A_END], &h.end) || !get_u8(tb[MEMTRACE_A_MODE], &mode))
		return mt_nl_proto(r, "message without PID (FD), START, END or MODE");
	h.pid = (long)pid;
	h.path = r->q->path;
	h.mode = mode;
	if (!r->have_hdr) {
		if (mode > MEMTRACE_MODE_MAX)
			return mt_nl_proto(r, "unknown mode %u", mode);
		if ((h.start | h.end) & (h.page_size - 1))
			return mt_nl_proto(r, "start/end not page aligned");
		/* a file's may be empty: no END, START at or past its end */
		if (h.end < h.start || (h.end == h.start && !r->q->path))
			return mt_nl_proto(r, "end <= start");
		r->hdr = h;
		r->have_hdr = true;
		r->next = h.start;
	} else if (h.pid != r->hdr.pid || h.start != r->hdr.start || h.end != r->hdr.end ||
		   h.mode != r->hdr.mode) {
		return mt_nl_proto(r, "the answer's PID, START, END or MODE changed half-way");
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
			ret = mt_nl_proto(r, "pfn vector without its page vector");
		else
			ret = NL_OK;	/* the header, PFNVEC, or an attribute of a later version */
		prev = nla_type(a);
		if (ret != NL_OK)
			return ret;
	}
	return NL_OK;
}
