// SPDX-License-Identifier: GPL-2.0
/* memtrace query PID RANGE: the state of every page of RANGE. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "transport.h"

#define PICTURE_MAX_PAGES 16384	/* on a tty, larger pictures need --picture */

/* A /proc/PID/... open failure as a message; always MT_EXIT_FAIL. */
int mt_proc_fail(long pid, const char *what, int e)
{
	if (e == -ENOENT || e == -ESRCH)
		mt_err("no such process: %ld", pid);
	else if (e == -EACCES || e == -EPERM)
		mt_err("permission denied: may not read /proc/%ld/%s", pid, what);
	else if (e == -EINVAL)
		mt_err("/proc/%ld/%s: unexpected format", pid, what);
	else
		mt_err("/proc/%ld/%s: %s", pid, what, strerror(-e));
	return MT_EXIT_FAIL;
}

/*
 * Every user address space ends below the top half of the 64-bit space
 * (below 4 GiB on 32-bit): what lies above is the kernel's, like the
 * [vsyscall] page that every x86-64 process's maps shows. The module's task
 * size check (ERANGE) is finer; this says what the user copied.
 */
#define USER_TOP (sizeof(long) == 8 ? 1ULL << 63 : 1ULL << 32)

static int outside_user(const char *arg, const struct mt_span *sp)
{
	if (sp->all || sp->end <= USER_TOP)
		return 0;
	mt_err("'%s' (0x%llx-0x%llx) %s outside the user address space: from 0x%llx up "
	       "the addresses are the kernel's (as [vsyscall]'s), and memtrace walks user "
	       "page tables only", arg, (unsigned long long)sp->start,
	       (unsigned long long)sp->end, sp->start >= USER_TOP ? "lies" : "reaches",
	       (unsigned long long)USER_TOP);
	return MT_EXIT_FAIL;
}

static int resolve_range(long pid, const char *arg, bool each, struct mt_span **spans,
			 size_t *n, struct mt_maps *maps_out)
{
	struct mt_maps maps = { 0 };
	struct mt_range r;
	struct mt_span one;
	char err[MT_ERR_MAX];
	size_t first, last;
	int ret;

	*spans = NULL;
	*n = 0;
	if (mt_range_parse(arg, &r, err, sizeof(err)))
		return mt_bad_usage(NULL, "%s", err);
	one = (struct mt_span){ r.start, r.end, r.kind == MT_RANGE_ALL };
	if (r.kind == MT_RANGE_NAME || maps_out) {
		ret = mt_maps_read(pid, &maps);
		if (ret)
			return mt_proc_fail(pid, "maps", ret);
	}
	if (r.kind == MT_RANGE_NAME) {
		if (mt_maps_find(&maps, r.name, &first, &last)) {
			mt_err("no mapping named '%s' in /proc/%ld/maps", r.name, pid);
			mt_maps_free(&maps);
			return MT_EXIT_FAIL;
		}
		one = (struct mt_span){ maps.v[first].start, maps.v[last].end, false };
	}
	if (r.kind == MT_RANGE_NAME && each) {
		*spans = mt_xmalloc((last - first + 1) * sizeof(**spans));
		for (size_t i = first; i <= last; i++)
			if (mt_map_matches(&maps.v[i], r.name))
				(*spans)[(*n)++] = (struct mt_span){ maps.v[i].start,
								      maps.v[i].end, false };
	} else {
		*spans = mt_xmalloc(sizeof(**spans));
		(*spans)[(*n)++] = one;
	}
	if (maps_out)
		*maps_out = maps;
	else
		mt_maps_free(&maps);
	return 0;
}

int mt_resolve_range(long pid, const char *arg, bool each, struct mt_span **spans,
		     size_t *n, struct mt_maps *maps_out)
{
	int ret;

	if (maps_out)
		memset(maps_out, 0, sizeof(*maps_out));
	ret = resolve_range(pid, arg, each, spans, n, maps_out);
	for (size_t i = 0; !ret && i < *n; i++)
		ret = outside_user(arg, &(*spans)[i]);
	if (ret) {
		free(*spans);
		*spans = NULL;
		*n = 0;
		if (maps_out)
			mt_maps_free(maps_out);
	}
	return ret;
}

int mt_pid_range_args(const char *cmd, int argc, char **argv, bool each, long *pid,
		      struct mt_span **spans, size_t *n, struct mt_maps *maps)
{
	char err[MT_ERR_MAX];
	struct mt_range r;
	const char *why;

	if (argc != 2)
		return mt_bad_usage(cmd, argc < 2 ? "expected PID and RANGE" :
				    "too many arguments");
	if (mt_parse_pid(argv[0], pid))
		return mt_bad_usage(cmd, "bad PID '%s'", argv[0]);
	if (mt_range_parse(argv[1], &r, err, sizeof(err)))
		return mt_bad_usage(cmd, "%s", err);
	why = mt_pid_no_mm(*pid);
	if (why) {
		mt_err("process %ld %s to look at", *pid, why);
		return MT_EXIT_FAIL;
	}
	return mt_resolve_range(*pid, argv[1], each, spans, n, maps);
}

/* With --each, say which line of maps spans[i] is (maps: as they were resolved from). */
void mt_span_label(const struct mt_ctx *ctx, bool each, const struct mt_maps *maps,
		   const struct mt_span *spans, size_t i, size_t n)
{
	ssize_t k = each ? mt_maps_lookup(maps, spans[i].start) : -1;

	if (k >= 0)
		ctx->out->span_label(&maps->v[k], i, n);
}

struct query_out {
	const struct mt_printer *out;
	bool started;
	bool keep;		/* keep records for the picture */
	bool all;		/* keep them all (--picture) */
	struct mt_record *recs;
	size_t nrecs, cap;
	uint64_t mapped_pages;
	bool pfn_hidden;
	const struct mt_filter *filter;
	bool printed;		/* a record was (the next needs a separator) */
	struct mt_totals totals;	/* of the records printed */
};

static int query_cb(const struct mt_header *h, const struct mt_record *r, void *arg)
{
	struct query_out *o = arg;

	if (!o->started)
		o->out->query_header(h);
	o->started = true;
	if (r->state != MEMTRACE_UNMAPPED)
		o->mapped_pages += r->pages;
	/* the picture shows the whole range, the listing the pages chosen */
	if (o->keep && (o->all || o->mapped_pages <= PICTURE_MAX_PAGES)) {
		if (o->nrecs == o->cap) {
			o->cap = o->cap ? o->cap * 2 : 256;
			o->recs = mt_xrealloc(o->recs, o->cap * sizeof(*o->recs));
		}
		o->recs[o->nrecs++] = *r;
	}
	if (!mt_filter_match(o->filter, r->state, r->flags))
		return 0;
	o->out->query_record(r, !o->printed);
	o->printed = true;
	o->pfn_hidden |= mt_out_pfn_hidden(r);
	mt_totals_add(&o->totals, r, r->pages);
	return 0;
}

struct query_opts {
	int mode;
	int picture;		/* -1 on a tty, 0 never, 1 always */
	bool each;
	struct mt_select sel;
	const char *since;	/* --since FILE */
	bool cached;		/* --cached */
	bool folio;		/* --folio */
};

static int query_opt(void *state, int val, const char *arg)
{
	struct query_opts *o = state;

	switch (val) {
	case 'r': o->mode = MEMTRACE_MODE_RUNS; return 0;
	case 'P': o->mode = MEMTRACE_MODE_PAGES; return 0;
	case 'e': o->each = true; return 0;
	case 'C': o->cached = true; return 0;
	case 'i': o->picture = 1; return 0;
	case 'I': o->picture = 0; return 0;
	case MT_OPT_SINCE: o->since = arg; return 0;
	case MT_OPT_FOLIO: o->folio = true; return 0;
	}
	return mt_select_opt("query", &o->sel, val, arg);
}

/*
 * One span: its records as they come, then the summary (and the picture).
 * *pfn_said: why PFNs are hidden was said by an earlier span.
 */
static int query_span(struct mt_ctx *ctx, const struct mt_query *q, int picture,
		      const struct mt_select *sel, bool *pfn_said)
{
	struct query_out o = { .out = ctx->out, .keep = picture && ctx->out->human,
			       .all = picture == 1, .filter = &sel->filter };
	struct mt_header h;
	struct mt_summary s;
	int ret = mt_run_query(ctx, q, query_cb, &o, &h, &s);

	if (!ret) {
		struct mt_query_view v = { .sum = &s, .page_size = h.page_size,
					   .color = ctx->color, .columns = ctx->columns,
					   .recs = o.recs,
					   .nrecs = o.nrecs, .mapped_pages = o.mapped_pages };

		v.draw = o.keep && (picture == 1 || o.mapped_pages <= PICTURE_MAX_PAGES);
		v.omitted = o.keep && !v.draw;
		v.pfn_note = o.pfn_hidden && !*pfn_said;
		v.totals = mt_select_totals(sel, &o.totals);
		*pfn_said |= o.pfn_hidden;
		ctx->out->query_summary(&v);
	}
	free(o.recs);
	return ret;
}

/* One query printed whole: open, its span, close (memtrace file). */
int mt_query_print(struct mt_ctx *ctx, const struct mt_query *q, int picture,
		   const struct mt_select *sel)
{
	bool pfn_said = false;
	int ret;

	if (picture < 0)
		picture = ctx->out->human && isatty(STDOUT_FILENO) ? 2 : 0;
	ctx->out->query_open(false);
	ret = query_span(ctx, q, picture, sel, &pfn_said);
	if (!ret)
		ctx->out->query_close(false);
	return ret;
}

static int query_run(struct mt_ctx *ctx, int argc, char **argv)
{
	struct query_opts o = { .mode = MEMTRACE_MODE_RUNS, .picture = -1 };
	struct mt_maps maps = { 0 };
	struct mt_span *spans;
	bool pfn_said = false;
	int ret;
	size_t n;
	long pid;

	ret = mt_parse_opts(ctx, &mt_cmd_query, argc, argv, query_opt, &o);
	if (ret != MT_GO)
		return ret;
	mt_ctx_finish(ctx);
	if (o.since && o.each)
		return mt_bad_usage("query", "--since compares one span: not with --each");
	ret = mt_pid_range_args("query", argc - optind, argv + optind, o.each, &pid, &spans, &n,
				o.each ? &maps : NULL);
	if (ret)
		return ret;
	if (o.since) {
		ret = mt_since(ctx, o.since, pid, argv[optind + 1], spans, &o.sel);
		free(spans);
		return ret;
	}
	if (o.picture < 0)
		o.picture = ctx->out->human && isatty(STDOUT_FILENO) ? 2 : 0;
	ctx->out->query_open(o.each);
	for (size_t i = 0; i < n && !ret; i++) {
		struct mt_query q = { .pid = pid, .all = spans[i].all, .start = spans[i].start,
				      .end = spans[i].end, .mode = o.mode,
				      .cached = o.cached, .folio = o.folio };

		if (i)
			ctx->out->query_sep();
		mt_span_label(ctx, o.each, &maps, spans, i, n);
		ret = query_span(ctx, &q, o.picture, &o.sel, &pfn_said);
	}
	if (!ret)
		ctx->out->query_close(o.each);
	mt_maps_free(&maps);
	free(spans);
	return ret;
}

static const struct mt_opt query_opts[] = {
	{ .name = "runs", .shrt = 'r', .val = 'r', .help = "merge equal adjacent pages (default)" },
	{ .name = "pages", .shrt = 'P', .val = 'P', .help = "one record per page" },
	{ .name = "cached", .val = 'C', .help = "file pages with no entry but in the page cache: cached" },
	{ .name = "folio",
	  .val = MT_OPT_FOLIO,
	  .help = "the size of each page's folio (4K, 64K, 2M...), apart from how it is mapped" },
	{ .name = "each",
	  .shrt = 'e',
	  .val = 'e',
	  .help = "a mapping name: one query per line of maps, not the span" },
	{ .name = "picture", .val = 'i', .help = "draw the page map even when not on a tty" },
	{ .name = "no-picture", .val = 'I', .help = "never draw it" },
	MT_SELECT_STATE_OPT,
	MT_SELECT_FLAGS_OPT,
	MT_SELECT_TOTALS_OPT,
	{ .name = "since",
	  .val = MT_OPT_SINCE,
	  .arg = " FILE",
	  .help = "what changed since the snapshot FILE (as memtrace diff)" },
	{ .name = NULL }
};

const struct mt_command mt_cmd_query = {
	"query", "PID RANGE", "the state of every page of RANGE in process PID",
	query_opts, query_run
};
