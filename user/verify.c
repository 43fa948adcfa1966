// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace verify PID RANGE: every page of the module's answer (pages mode)
 * against /proc/PID/pagemap and /proc/PID/maps (check.c). The two views are
 * read one after the other: a target that runs in between may change, so
 * verify is meant for stopped or quiescent targets (kill -STOP PID).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "transport.h"

struct verify_state {
	const struct mt_ctx *ctx;
	struct mt_check check;
	bool started;
	unsigned int ndis;
	const struct mt_select *sel;
	struct mt_totals totals;	/* of the pages checked */
};

static void verify_start(struct verify_state *v, const struct mt_header *h)
{
	if (v->started)
		return;
	v->started = true;
	v->check.page_size = h->page_size;
	v->check.pm->page_size = h->page_size;
	v->ctx->out->verify_header(h);
}

static void on_disagree(const struct mt_disagreement *d, void *arg)
{
	struct verify_state *v = arg;

	v->ctx->out->verify_disagree(d, v->ndis, v->ctx->color);
	v->ndis++;
}

static int verify_cb(const struct mt_header *h, const struct mt_record *r, void *arg)
{
	struct verify_state *v = arg;

	verify_start(v, h);
	if (!mt_filter_match(&v->sel->filter, r->state, r->flags))
		return 0;
	mt_totals_add(&v->totals, r, r->pages);
	return mt_check_record(&v->check, r) ? -EIO : 0;
}

struct verify_opts {
	bool each, cmp_pfn;
	struct mt_select sel;
};

static int verify_opt(void *state, int val, const char *arg)
{
	struct verify_opts *o = state;

	switch (val) {
	case 'N': o->cmp_pfn = false; return 0;
	case 'e': o->each = true; return 0;
	}
	return mt_select_opt("verify", &o->sel, val, arg);
}

/*
 * One span, checked page by page: 0, or MT_EXIT_FAIL on a disagreement (the
 * next spans are still checked); *stop when the query or pagemap failed.
 */
static int verify_span(struct verify_state *v, long pid, const struct mt_span *span,
		       bool *stop)
{
	const struct mt_ctx *ctx = v->ctx;
	struct mt_query q = { .pid = pid, .all = span->all, .start = span->start,
			      .end = span->end, .mode = MEMTRACE_MODE_PAGES };
	struct mt_check *c = &v->check;
	struct mt_header h;
	int ret;

	c->checked = c->agree = c->disagree = c->sampled_gaps = 0;
	c->err = 0;
	memset(&v->totals, 0, sizeof(v->totals));
	v->started = false;
	v->ndis = 0;
	mt_pagemap_reset(c->pm);
	ret = mt_run_query(ctx, &q, verify_cb, v, &h, NULL);
	*stop = ret || c->err;
	if (ret < 0 || c->err) {
		if (v->started)
			ctx->out->verify_abort();
		mt_err("/proc/%ld/pagemap: %s", pid, c->err == -EIO ?
		       "short read" : strerror(-c->err));
		return MT_EXIT_FAIL;
	}
	if (ret)
		return ret;
	ctx->out->verify_result(&(struct mt_verify_view){
		.pid = pid, .hdr = &h, .check = c, .cmp_pfn = c->cmp_pfn,
		.pfn_hidden = c->cmp_pfn && geteuid() != 0,
		.totals = mt_select_totals(v->sel, &v->totals) });
	return c->disagree ? MT_EXIT_FAIL : 0;
}

static int verify_run(struct mt_ctx *ctx, int argc, char **argv)
{
	struct verify_opts o = { .cmp_pfn = true };
	struct verify_state v = { .ctx = ctx, .sel = &o.sel };
	struct mt_pagemap pm;
	struct mt_maps maps;
	struct mt_span *spans;
	bool stop = false;
	int ret, worst = 0;
	size_t n;
	long pid;

	ret = mt_parse_opts(ctx, &mt_cmd_verify, argc, argv, verify_opt, &o);
	if (ret != MT_GO)
		return ret;
	mt_ctx_finish(ctx);
	ret = mt_pid_range_args("verify", argc - optind, argv + optind, o.each, &pid, &spans, &n,
				&maps);
	if (ret)
		return ret;
	ret = mt_pagemap_open(&pm, pid, (unsigned int)sysconf(_SC_PAGESIZE));
	if (ret) {
		free(spans);
		mt_maps_free(&maps);
		return mt_proc_fail(pid, "pagemap", ret);
	}
	v.check = (struct mt_check){ .pm = &pm, .maps = &maps, .cmp_pfn = o.cmp_pfn,
				     .on_disagree = on_disagree, .arg = &v };
	ctx->out->verify_open(o.each);
	for (size_t i = 0; i < n && !stop; i++) {
		if (i)
			ctx->out->verify_sep();
		mt_span_label(ctx, o.each, &maps, spans, i, n);
		ret = verify_span(&v, pid, &spans[i], &stop);
		/* a disagreement in any span fails the run, not only in the last */
		if (ret)
			worst = ret;
	}
	if ((ret == 0 || ret == MT_EXIT_FAIL) && v.started)
		ctx->out->verify_close(o.each);
	mt_pagemap_close(&pm);
	mt_maps_free(&maps);
	free(spans);
	return worst;
}

static const struct mt_opt verify_opts[] = {
	{ .name = "no-pfn", .val = 'N', .help = "do not compare frame numbers" },
	{ .name = "each",
	  .shrt = 'e',
	  .val = 'e',
	  .help = "a mapping name: one query per line of maps" },
	MT_SELECT_STATE_OPT,
	MT_SELECT_FLAGS_OPT,
	MT_SELECT_TOTALS_OPT,
	{ .name = NULL }
};

const struct mt_command mt_cmd_verify = {
	"verify", "PID RANGE", "cross-check the module against /proc/PID/pagemap, page by page",
	verify_opts, verify_run
};
