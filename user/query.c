// SPDX-License-Identifier: GPL-2.0
/* memtrace query PID RANGE: the state of every page of RANGE. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int mt_resolve_range(long pid, const char *arg, bool each, struct mt_span **spans,
		     size_t *n, struct mt_maps *maps_out)
{
	struct mt_range r;
	struct mt_maps maps;
	char err[MT_ERR_MAX];
	size_t first, last;
	int ret;

	*spans = NULL;
	*n = 0;
	if (mt_range_parse(arg, &r, err, sizeof(err)))
		return mt_bad_usage(NULL, "%s", err);
	if (r.kind != MT_RANGE_NAME) {
		*spans = mt_xmalloc(sizeof(**spans));
		(*spans)[0] = (struct mt_span){ r.start, r.end, r.kind == MT_RANGE_ALL };
		*n = 1;
		return 0;
	}
	ret = mt_maps_read(pid, &maps);
	if (ret)
		return mt_proc_fail(pid, "maps", ret);
	if (mt_maps_find(&maps, r.name, &first, &last)) {
		mt_err("no mapping named '%s' in /proc/%ld/maps", r.name, pid);
		mt_maps_free(&maps);
		return MT_EXIT_FAIL;
	}
	if (!each) {
		*spans = mt_xmalloc(sizeof(**spans));
		(*spans)[0] = (struct mt_span){ maps.v[first].start, maps.v[last].end, false };
		*n = 1;
	} else {
		*spans = mt_xmalloc((last - first + 1) * sizeof(**spans));
		for (size_t i = first; i <= last; i++)
			if (mt_map_matches(&maps.v[i], r.name))
				(*spans)[(*n)++] = (struct mt_span){ maps.v[i].start,
								      maps.v[i].end, false };
	}
	if (maps_out)
		*maps_out = maps;
	else
		mt_maps_free(&maps);
	return 0;
}

int mt_pid_range_args(const char *cmd, int argc, char **argv, bool each, long *pid,
		      struct mt_span **spans, size_t *n)
{
	char err[MT_ERR_MAX];
	struct mt_range r;

	if (argc != 2)
		return mt_bad_usage(cmd, argc < 2 ? "expected PID and RANGE" :
				    "too many arguments");
	if (mt_parse_pid(argv[0], pid))
		return mt_bad_usage(cmd, "bad PID '%s'", argv[0]);
	if (mt_range_parse(argv[1], &r, err, sizeof(err)))
		return mt_bad_usage(cmd, "%s", err);
	return mt_resolve_range(*pid, argv[1], each, spans, n, NULL);
}

struct query_out {
	const struct mt_ctx *ctx;
	bool started;
	bool keep;		/* keep records for the picture */
	bool all;		/* keep them all (--picture) */
	struct mt_record *recs;
	size_t nrecs, cap;
	uint64_t mapped_pages;
};

static void json_header(const struct mt_header *h)
{
	static const char *const modes[] = { "runs", "pages" };

	printf("{\"pid\":%ld,\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"page_size\":%u,"
	       "\"mode\":\"%s\",\"records\":[", h->pid, (unsigned long long)h->start,
	       (unsigned long long)h->end, h->page_size, modes[h->mode]);
}

void mt_print_tsv_header(const struct mt_header *h)
{
	static const char *const modes[] = { "runs", "pages" };

	printf("# memtrace pid=%ld start=0x%llx end=0x%llx page_size=%u mode=%s\n"
	       "# addr\tpages\tstate\tsize\tflags\tpfn\tnode\n", h->pid,
	       (unsigned long long)h->start, (unsigned long long)h->end, h->page_size,
	       modes[h->mode]);
}

static void print_summary(const struct mt_ctx *ctx, const struct mt_summary *s,
			  unsigned int page_size)
{
	char buf[32];
	bool first = true;

	switch (ctx->format) {
	case MT_FMT_JSON:
		printf("],\"summary\":{\"pages\":%llu", (unsigned long long)s->pages);
		for (int i = 0; i < MEMTRACE_NSTATES; i++)
			printf(",\"%s\":%llu", mt_state_names[i], (unsigned long long)s->count[i]);
		printf("}}");
		break;
	case MT_FMT_TSV:
		printf("# summary pages=%llu", (unsigned long long)s->pages);
		for (int i = 0; i < MEMTRACE_NSTATES; i++)
			printf(" %s=%llu", mt_state_names[i], (unsigned long long)s->count[i]);
		printf("\n");
		break;
	default:
		printf("%llu pages (%s):", (unsigned long long)s->pages,
		       mt_human_size(s->pages * page_size, buf, sizeof(buf)));
		for (int i = 0; i < MEMTRACE_NSTATES; i++) {
			if (!s->count[i])
				continue;
			printf("%s %llu %s", first ? "" : ",", (unsigned long long)s->count[i],
			       mt_state_names[i]);
			first = false;
		}
		printf("; backed (present): %s\n",
		       mt_human_size(s->count[MEMTRACE_PRESENT] * page_size, buf, sizeof(buf)));
	}
}

static int query_cb(const struct mt_header *h, const struct mt_record *r, void *arg)
{
	struct query_out *o = arg;
	char fl[MEMTRACE_FLAGS_WIDTH + 1];

	mt_format_flags(r->flags, fl);
	if (!o->started) {
		o->started = true;
		if (o->ctx->format == MT_FMT_JSON)
			json_header(h);
		else if (o->ctx->format == MT_FMT_TSV)
			mt_print_tsv_header(h);
		else
			printf("%-18s %10s  %-9s %-4s %-6s %-12s %s\n", "ADDRESS", "PAGES",
			       "STATE", "SIZE", "FLAGS", "PFN", "NODE");
	} else if (o->ctx->format == MT_FMT_JSON) {
		putchar(',');
	}
	switch (o->ctx->format) {
	case MT_FMT_JSON:
		printf("{\"addr\":\"0x%llx\",\"pages\":%llu,\"state\":\"%s\",\"size\":\"%s\","
		       "\"flags\":\"%s\",\"pfn\":\"0x%llx\",\"node\":%d}",
		       (unsigned long long)r->addr, (unsigned long long)r->pages,
		       mt_state_names[r->state], mt_size_name(r->flags), fl,
		       (unsigned long long)r->pfn, r->node);
		break;
	case MT_FMT_TSV:
		printf("0x%llx\t%llu\t%s\t%s\t%s\t0x%llx\t%d\n", (unsigned long long)r->addr,
		       (unsigned long long)r->pages, mt_state_names[r->state],
		       mt_size_name(r->flags), fl, (unsigned long long)r->pfn, r->node);
		break;
	default:
		if (r->state == MEMTRACE_UNMAPPED)
			printf("0x%016llx %10llu  %-9s\n", (unsigned long long)r->addr,
			       (unsigned long long)r->pages, mt_state_names[r->state]);
		else
			printf("0x%016llx %10llu  %-9s %-4s %-6s 0x%-10llx %d\n",
			       (unsigned long long)r->addr, (unsigned long long)r->pages,
			       mt_state_names[r->state], mt_size_name(r->flags), fl,
			       (unsigned long long)r->pfn, r->node);
	}
	if (r->state != MEMTRACE_UNMAPPED)
		o->mapped_pages += r->pages;
	if (o->keep && (o->all || o->mapped_pages <= PICTURE_MAX_PAGES)) {
		if (o->nrecs == o->cap) {
			o->cap = o->cap ? o->cap * 2 : 256;
			o->recs = mt_xrealloc(o->recs, o->cap * sizeof(*o->recs));
		}
		o->recs[o->nrecs++] = *r;
	}
	return 0;
}

int mt_cmd_query(struct mt_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		MT_COMMON_LONGOPTS,
		{ "runs", no_argument, NULL, 'r' },
		{ "pages", no_argument, NULL, 'P' },
		{ "each", no_argument, NULL, 'e' },
		{ "picture", no_argument, NULL, 'i' },
		{ "no-picture", no_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 }
	};
	int opt, mode = MEMTRACE_MODE_RUNS, picture = -1, ret = 0;
	bool each = false;
	struct mt_span *spans;
	size_t n;
	long pid;

	while ((opt = getopt_long(argc, argv, MT_COMMON_SHORTOPTS "rPe", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r': mode = MEMTRACE_MODE_RUNS; break;
		case 'P': mode = MEMTRACE_MODE_PAGES; break;
		case 'e': each = true; break;
		case 'i': picture = 1; break;
		case 'I': picture = 0; break;
		case 'h': mt_usage_of("query", stdout); return MT_EXIT_OK;
		case '?': return mt_bad_usage("query", "bad option '%s'", argv[optind - 1]);
		default:
			ret = mt_common_opt(ctx, opt, optarg);
			if (ret)
				return ret;
		}
	}
	mt_ctx_finish(ctx);
	ret = mt_pid_range_args("query", argc - optind, argv + optind, each, &pid, &spans, &n);
	if (ret)
		return ret;
	if (picture < 0)
		picture = ctx->format == MT_FMT_HUMAN && isatty(STDOUT_FILENO) ? 2 : 0;
	if (ctx->format == MT_FMT_JSON && each)
		putchar('[');
	for (size_t i = 0; i < n && !ret; i++) {
		struct mt_query q = { .pid = pid, .all = spans[i].all, .start = spans[i].start,
				      .end = spans[i].end, .mode = mode };
		struct query_out o = { .ctx = ctx, .keep = picture && ctx->format == MT_FMT_HUMAN,
				       .all = picture == 1 };
		struct mt_header h;
		struct mt_summary s;

		if (i && ctx->format == MT_FMT_JSON)
			putchar(',');
		else if (i)
			putchar('\n');
		ret = mt_run_query(ctx, &q, query_cb, &o, &h, &s);
		if (!ret) {
			print_summary(ctx, &s, h.page_size);
			if (o.keep && (picture == 1 || o.mapped_pages <= PICTURE_MAX_PAGES)) {
				struct mt_picture p;

				mt_picture_init(&p, stdout, h.page_size, 64, ctx->color, true);
				printf("\n");
				for (size_t k = 0; k < o.nrecs; k++)
					mt_picture_add(&p, &o.recs[k]);
				mt_picture_end(&p);
				mt_picture_legend(stdout, ctx->color);
			} else if (o.keep) {
				printf("(picture omitted: %llu mapped pages; --picture draws it)\n",
				       (unsigned long long)o.mapped_pages);
			}
		}
		free(o.recs);
	}
	if (!ret && ctx->format == MT_FMT_JSON)
		printf(each ? "]\n" : "\n");
	free(spans);
	return ret;
}
