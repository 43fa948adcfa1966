// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace maps PID: every mapping of /proc/PID/maps with its pages by
 * state, like pmap -x but from the module. One "all" query (a consistent
 * snapshot of the whole address space) is split along the maps lines.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "transport.h"

struct maps_state {
	const struct mt_maps *maps;
	uint64_t (*count)[MEMTRACE_NSTATES];	/* per mapping */
	uint64_t outside[MEMTRACE_NSTATES];	/* mapped pages in no maps line */
	size_t idx;
	unsigned int page_size;
	uint64_t end;				/* the answer's end */
	const struct mt_filter *filter;
	struct mt_totals totals;		/* of the pages counted */
};

static int maps_cb(const struct mt_header *h, const struct mt_record *r, void *arg)
{
	struct maps_state *m = arg;
	uint64_t a = r->addr, end = r->addr + r->pages * h->page_size;

	m->page_size = h->page_size;
	m->end = h->end;
	if (r->state == MEMTRACE_UNMAPPED || !mt_filter_match(m->filter, r->state, r->flags))
		return 0;
	mt_totals_add(&m->totals, r, r->pages);
	while (a < end) {
		const struct mt_map *v;
		uint64_t b;

		while (m->idx < m->maps->n && m->maps->v[m->idx].end <= a)
			m->idx++;
		if (m->idx == m->maps->n) {
			m->outside[r->state] += (end - a) / h->page_size;
			break;
		}
		v = &m->maps->v[m->idx];
		if (a < v->start) {
			b = v->start < end ? v->start : end;
			m->outside[r->state] += (b - a) / h->page_size;
			a = b;
			continue;
		}
		b = v->end < end ? v->end : end;
		m->count[m->idx][r->state] += (b - a) / h->page_size;
		a = b;
	}
	return 0;
}

/* Print what the query found, line by line, then the totals. */
static void maps_print(const struct mt_ctx *ctx, long pid, const struct maps_state *st,
		       const struct mt_header *h, const struct mt_select *sel)
{
	uint64_t total[MEMTRACE_NSTATES] = { 0 }, size_total = 0;
	const struct mt_maps *maps = st->maps;
	long long rss = mt_smaps_rss_kb(pid);

	ctx->out->maps_header(pid, h->page_size);
	for (size_t i = 0; i < maps->n; i++) {
		const struct mt_map *v = &maps->v[i];
		struct mt_maps_row row = { .index = i, .map = v, .count = st->count[i],
					   .kbytes = (v->end - v->start) / 1024,
					   .queried = v->end <= h->end };

		size_total += row.kbytes;
		for (int s = 0; s < MEMTRACE_NSTATES; s++)
			total[s] += st->count[i][s];
		ctx->out->maps_row(&row);
	}
	ctx->out->maps_total(&(struct mt_maps_total){
		.kbytes = size_total, .count = total, .outside = st->outside,
		.page_size = h->page_size, .smaps_rss_kb = rss,
		.totals = mt_select_totals(sel, &st->totals) });
}

static int maps_opt(void *state, int val, const char *arg)
{
	return mt_select_opt("maps", state, val, arg);
}

static int maps_run(struct mt_ctx *ctx, int argc, char **argv)
{
	struct mt_select sel = { 0 };
	struct maps_state st = { .filter = &sel.filter };
	struct mt_maps maps;
	struct mt_header h;
	int ret;
	long pid;

	ret = mt_parse_opts(ctx, &mt_cmd_maps, argc, argv, maps_opt, &sel);
	if (ret != MT_GO)
		return ret;
	mt_ctx_finish(ctx);
	if (argc - optind != 1)
		return mt_bad_usage("maps", argc - optind < 1 ? "expected PID" :
				    "too many arguments");
	if (mt_parse_pid(argv[optind], &pid))
		return mt_bad_usage("maps", "bad PID '%s'", argv[optind]);
	ret = mt_maps_read(pid, &maps);
	if (ret)
		return mt_proc_fail(pid, "maps", ret);
	st.maps = &maps;
	st.count = calloc(maps.n ? maps.n : 1, sizeof(*st.count));
	if (!st.count) {
		mt_maps_free(&maps);
		mt_err("out of memory");
		return MT_EXIT_FAIL;
	}
	ret = mt_run_query(ctx, &(struct mt_query){ .pid = pid, .all = true,
						    .mode = MEMTRACE_MODE_RUNS },
			   maps_cb, &st, &h, NULL);
	if (!ret)
		maps_print(ctx, pid, &st, &h, &sel);
	free(st.count);
	mt_maps_free(&maps);
	return ret;
}

static const struct mt_opt maps_opts[] = {
	MT_SELECT_STATE_OPT,
	MT_SELECT_FLAGS_OPT,
	MT_SELECT_TOTALS_OPT,
	{ .name = NULL }
};

const struct mt_command mt_cmd_maps = {
	"maps", "PID", "every mapping with its pages present, zero, swap and none, and smaps' Rss",
	maps_opts, maps_run
};
