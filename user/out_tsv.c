// SPDX-License-Identifier: GPL-2.0
/*
 * Tab-separated output for scripts, like `wg show dump`: a "# " header line
 * says what follows and names the columns, then one record a line.
 */
#include "demo.h"
#include "output.h"

/* ---- query ---- */

/* the page size of the answer being printed, for its size column */
static unsigned int page_size = 4096;

static void query_header(const struct mt_header *h)
{
	page_size = h->page_size;
	if (h->path)	/* a file's: addr is the offset in it */
		printf("# memtrace file=%s", h->path);
	else
		printf("# memtrace pid=%ld", h->pid);
	printf(" start=0x%llx end=0x%llx page_size=%u mode=%s%s\n"
	       "# addr\tpages\tstate\tsize\tflags\tpfn\tnode%s\n",
	       (unsigned long long)h->start, (unsigned long long)h->end, h->page_size,
	       mt_mode_names[h->mode], h->folio ? " folio" : "", h->folio ? "\tfolio" : "");
}

static void query_record(const struct mt_record *r, bool first)
{
	char fl[MT_FLAGS_BUF], folio[16];

	(void)first;
	mt_format_flags(r->flags, fl);
	printf("0x%llx\t%llu\t%s\t%s\t%s\t0x%llx\t%d", (unsigned long long)r->addr,
	       (unsigned long long)r->pages, mt_state_names[r->state],
	       mt_size_name(r->flags, page_size), fl, (unsigned long long)r->pfn, r->node);
	if (r->folio)
		printf("\t%s", mt_folio_text(r, folio));
	putchar('\n');
}

static void query_summary(const struct mt_query_view *v)
{
	printf("# summary pages=%llu", (unsigned long long)v->sum->pages);
	for (int i = 0; i < MEMTRACE_NSTATES; i++)
		printf(" %s=%llu", mt_state_names[i], (unsigned long long)v->sum->count[i]);
	if (v->sum->count[MEMTRACE_CACHED])	/* --cached found some */
		printf(" %s=%llu", mt_state_names[MEMTRACE_CACHED],
		       (unsigned long long)v->sum->count[MEMTRACE_CACHED]);
	printf("\n");
	if (v->totals)
		mt_out_totals_tsv("totals", v->totals);
}

static void query_sep(void)
{
	putchar('\n');
}

/* ---- verify ---- */

static void verify_header(const struct mt_header *h)
{
	printf("# memtrace-verify pid=%ld start=0x%llx end=0x%llx page_size=%u\n"
	       "# addr\tstate\tflags\tpfn\tpagemap\treason\n", h->pid,
	       (unsigned long long)h->start, (unsigned long long)h->end, h->page_size);
}

static void verify_disagree(const struct mt_disagreement *d, unsigned int n, bool color)
{
	char fl[MT_FLAGS_BUF];

	(void)n;
	(void)color;
	mt_format_flags(d->rec->flags, fl);
	printf("0x%llx\t%s\t%s\t0x%llx\t0x%016llx\t%s\n", (unsigned long long)d->addr,
	       mt_state_names[d->rec->state], fl, (unsigned long long)d->rec->pfn,
	       (unsigned long long)d->entry, d->why);
}

static void verify_result(const struct mt_verify_view *v)
{
	const struct mt_check *c = v->check;

	printf("# result checked=%llu agree=%llu disagree=%llu sampled_gaps=%llu\n",
	       (unsigned long long)c->checked, (unsigned long long)c->agree,
	       (unsigned long long)c->disagree, (unsigned long long)c->sampled_gaps);
	if (v->totals)
		mt_out_totals_tsv("totals", v->totals);
}

/* ---- maps ---- */

static const int maps_cols[] = { MEMTRACE_PRESENT, MEMTRACE_ZERO, MEMTRACE_SWAP,
				 MEMTRACE_NONE, MEMTRACE_MIGRATION, MEMTRACE_OTHER };

#define NCOLS (sizeof(maps_cols) / sizeof(maps_cols[0]))

static void maps_header(long pid, unsigned int page_size)
{
	printf("# memtrace-maps pid=%ld page_size=%u\n"
	       "# start\tend\tkbytes\tpresent\tzero\tswap\tnone\tmigration\tother\tperms\tname\n",
	       pid, page_size);
}

static void maps_row(const struct mt_maps_row *row)
{
	const struct mt_map *v = row->map;

	printf("0x%llx\t0x%llx\t%llu", (unsigned long long)v->start,
	       (unsigned long long)v->end, (unsigned long long)row->kbytes);
	for (size_t c = 0; c < NCOLS; c++)
		printf("\t%llu", (unsigned long long)row->count[maps_cols[c]]);
	printf("\t%s\t", v->perms);
	mt_out_name(v->name);
	putchar('\n');
}

static void maps_total(const struct mt_maps_total *t)
{
	printf("# total\t%llu", (unsigned long long)t->kbytes);
	for (size_t c = 0; c < NCOLS; c++)
		printf("\t%llu", (unsigned long long)t->count[maps_cols[c]]);
	printf("\n# rss present_kbytes=%llu smaps_rss_kbytes=%lld\n",
	       (unsigned long long)(t->count[MEMTRACE_PRESENT] * t->page_size / 1024),
	       t->smaps_rss_kb);
	if (t->totals)
		mt_out_totals_tsv("totals", t->totals);
}

/* ---- info ---- */

static void info(const char *transport, const struct mt_info *in)
{
	printf("# memtrace-info\n# key\tvalue\n");
	printf("transport\t%s\nfamily\t%s\nfamily_id\t%d\n", transport,
	       MEMTRACE_GENL_NAME, in->family_id);
	printf("version\t%s\npage_size\t%u\nnstates\t%u\nstates\t", in->version,
	       in->page_size, in->nstates);
	mt_out_states(in->nstates, ",", false);
	printf("\nflags_mask\t0x%x\nflags\t", in->flags_mask);
	mt_out_flag_list(in->flags_mask, ",", false);
	printf("\ntask_size\t0x%llx\n", (unsigned long long)in->task_size);
}

/* ---- demo ---- */

static void demo_begin(const struct mt_demo *d)
{
	printf("# memtrace-demo pid=%ld pages=%zu page_size=%u pattern=%s thp=%d\n"
	       "# stage\tnum\tname\tvsz_kb\trss_kb\trss_delta_kb\tps_vsz\tps_rss",
	       d->pid, d->npages, d->page_size, d->pattern, d->thp);
	for (int s = 0; s < MEMTRACE_NSTATES; s++)
		printf("\t%s", mt_state_names[s]);
	printf("\tbacked_delta_kb\tagree\tchecked\tmap\tsmaps_rss_kb\n");
}

static void demo_region(const struct mt_demo *d)
{
	printf("# region start=0x%llx end=0x%llx\n", (unsigned long long)d->start,
	       (unsigned long long)d->end);
}

/* The map with '_' for unmapped pages: a column without spaces. */
static void machine_map(const struct mt_demo *d)
{
	for (size_t i = 0; i < d->npages; i++)
		putchar(d->pic[i] == ' ' ? '_' : d->pic[i]);
}

static void demo_stage(const struct mt_demo *d)
{
	bool region = d->stage != ST_INITIAL;

	printf("stage\t%d\t%s\t%ld\t%ld\t%ld\t%s\t%s", d->stage, mt_demo_stage_names[d->stage],
	       d->vsz_kb, d->rss_kb, d->stage ? mt_demo_delta(d->rss_kb, d->prev_rss_kb) : 0,
	       d->have_ps ? d->ps_vsz : "-", d->have_ps ? d->ps_rss : "-");
	for (int s = 0; s < MEMTRACE_NSTATES; s++)
		if (region)
			printf("\t%llu", (unsigned long long)d->count[s]);
		else
			printf("\t-");
	if (!region) {
		printf("\t-\t-\t-\t-\t%ld\n", d->srss_kb);
		return;
	}
	printf("\t%ld\t%llu\t%llu\t", mt_demo_backed_delta(d), (unsigned long long)d->check.agree,
	       (unsigned long long)d->check.checked);
	machine_map(d);
	printf("\t%ld\n", d->srss_kb);
	for (unsigned int i = 0; i < d->nmaps; i++)
		printf("maps\t%d\t%s\n", d->stage, d->maps_lines[i]);
	for (unsigned int i = 0; i < d->ndis; i++)
		printf("disagree\t%d\t0x%llx\t%s\t0x%016llx\t%s\n", d->stage,
		       (unsigned long long)d->dis[i].addr, mt_state_names[d->dis[i].rec->state],
		       (unsigned long long)d->dis[i].entry, d->dis[i].why);
}

static void demo_end(const struct mt_demo *d)
{
	printf("# result %s disagreements=%llu\n", d->total_disagree ? "disagree" : "agree",
	       (unsigned long long)d->total_disagree);
}

const struct mt_printer mt_out_tsv = {
	.name = "tsv",
	.span_label = mt_out_no_label,
	.query_open = mt_out_nothing_b,
	.query_sep = query_sep,
	.query_header = query_header,
	.query_record = query_record,
	.query_summary = query_summary,
	.query_close = mt_out_nothing_b,
	.verify_open = mt_out_nothing_b,
	.verify_sep = mt_out_nothing,
	.verify_header = verify_header,
	.verify_disagree = verify_disagree,
	.verify_result = verify_result,
	.verify_abort = mt_out_nothing,
	.verify_close = mt_out_nothing_b,
	.maps_header = maps_header,
	.maps_row = maps_row,
	.maps_total = maps_total,
	.info = info,
	.diff = &mt_diff_tsv,
	.demo_begin = demo_begin,
	.demo_region = demo_region,
	.demo_stage = demo_stage,
	.demo_end = demo_end,
};
