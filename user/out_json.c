// SPDX-License-Identifier: GPL-2.0
/*
 * JSON output: one document per command (an array of them with --each).
 * Strings from the system (mapping names, ps's words) go through
 * mt_json_str(), so the output is valid JSON whatever their bytes.
 */
#include "demo.h"
#include "output.h"

static void open_list(bool each)
{
	if (each)
		putchar('[');
}

static void close_list(bool each)
{
	printf(each ? "]\n" : "\n");
}

static void comma(void)
{
	putchar(',');
}

/* ---- query ---- */

/* the page size of the answer being printed, for its size column */
static unsigned int page_size = 4096;

static void query_header(const struct mt_header *h)
{
	page_size = h->page_size;
	if (h->path) {	/* a file's: "addr" is the offset in it */
		printf("{\"file\":");
		mt_json_str(stdout, h->path);
	} else {
		printf("{\"pid\":%ld", h->pid);
	}
	printf(",\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"page_size\":%u,"
	       "\"mode\":\"%s\",\"records\":[", (unsigned long long)h->start,
	       (unsigned long long)h->end, h->page_size, mt_mode_names[h->mode]);
}

static void query_record(const struct mt_record *r, bool first)
{
	if (!first)
		putchar(',');
	mt_json_record(stdout, r, page_size);
}

static void query_summary(const struct mt_query_view *v)
{
	printf("],\"summary\":");
	mt_json_summary(stdout, v->sum);
	if (v->totals)
		mt_out_totals_json("totals", v->totals, v->page_size);
	printf("}");
}

/* ---- verify ---- */

static void verify_header(const struct mt_header *h)
{
	printf("{\"pid\":%ld,\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"page_size\":%u,"
	       "\"disagreements\":[", h->pid, (unsigned long long)h->start,
	       (unsigned long long)h->end, h->page_size);
}

static void verify_disagree(const struct mt_disagreement *d, unsigned int n, bool color)
{
	char fl[MT_FLAGS_BUF], pm[96];

	(void)color;
	mt_format_flags(d->rec->flags, fl);
	mt_pm_describe(d->entry, pm, sizeof(pm));
	printf("%s{\"addr\":\"0x%llx\",\"state\":\"%s\",\"flags\":\"%s\",\"pfn\":\"0x%llx\","
	       "\"pagemap\":\"0x%016llx\",\"pagemap_says\":", n ? "," : "",
	       (unsigned long long)d->addr, mt_state_names[d->rec->state], fl,
	       (unsigned long long)d->rec->pfn, (unsigned long long)d->entry);
	mt_json_str(stdout, pm);
	printf(",\"reason\":");
	mt_json_str(stdout, d->why);
	putchar('}');
}

static void verify_result(const struct mt_verify_view *v)
{
	const struct mt_check *c = v->check;

	printf("],\"checked\":%llu,\"agree\":%llu,\"disagree\":%llu,"
	       "\"sampled_gaps\":%llu,\"pfn_compared\":%s,\"ok\":%s",
	       (unsigned long long)c->checked, (unsigned long long)c->agree,
	       (unsigned long long)c->disagree, (unsigned long long)c->sampled_gaps,
	       v->cmp_pfn ? "true" : "false", c->disagree ? "false" : "true");
	if (v->totals)
		mt_out_totals_json("totals", v->totals, v->hdr->page_size);
	putchar('}');
}

static void verify_abort(void)
{
	printf("]}\n");
}

/* ---- maps ---- */

static void maps_header(long pid, unsigned int page_size)
{
	printf("{\"pid\":%ld,\"page_size\":%u,\"mappings\":[", pid, page_size);
}

static void maps_row(const struct mt_maps_row *row)
{
	const struct mt_map *v = row->map;

	printf("%s{\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"kbytes\":%llu,"
	       "\"perms\":\"%s\",\"offset\":\"0x%llx\",\"dev\":\"%s\",\"inode\":%llu,"
	       "\"name\":", row->index ? "," : "", (unsigned long long)v->start,
	       (unsigned long long)v->end, (unsigned long long)row->kbytes, v->perms,
	       (unsigned long long)v->offset, v->dev, (unsigned long long)v->inode);
	mt_json_str(stdout, v->name);
	printf(",\"queried\":%s", row->queried ? "true" : "false");
	for (int s = 0; s < MEMTRACE_NSTATES; s++)
		if (s != MEMTRACE_UNMAPPED)
			printf(",\"%s\":%llu", mt_state_names[s],
			       (unsigned long long)row->count[s]);
	putchar('}');
}

static void maps_total(const struct mt_maps_total *t)
{
	const uint64_t *o = t->outside;

	printf("],\"total\":{\"kbytes\":%llu", (unsigned long long)t->kbytes);
	for (int s = 1; s < MEMTRACE_NSTATES; s++)
		printf(",\"%s\":%llu", mt_state_names[s], (unsigned long long)t->count[s]);
	printf("},\"present_kbytes\":%llu,\"smaps_rss_kbytes\":",
	       (unsigned long long)(t->count[MEMTRACE_PRESENT] * t->page_size / 1024));
	if (t->smaps_rss_kb >= 0)
		printf("%lld", t->smaps_rss_kb);
	else
		printf("null");
	printf(",\"outside_maps\":%llu",
	       (unsigned long long)(o[MEMTRACE_PRESENT] + o[MEMTRACE_ZERO] +
				    o[MEMTRACE_NONE] + o[MEMTRACE_SWAP]));
	if (t->totals)
		mt_out_totals_json("totals", t->totals, t->page_size);
	printf("}\n");
}

/* ---- info ---- */

static void info(const char *transport, const struct mt_info *in)
{
	printf("{\"transport\":\"%s\",\"family\":\"%s\",\"family_id\":%d,"
	       "\"version\":", transport, MEMTRACE_GENL_NAME, in->family_id);
	mt_json_str(stdout, in->version);
	printf(",\"page_size\":%u,\"nstates\":%u,\"states\":[", in->page_size, in->nstates);
	mt_out_states(in->nstates, ",", true);
	printf("],\"flags_mask\":\"0x%x\",\"flags\":[", in->flags_mask);
	mt_out_flag_list(in->flags_mask, ",", true);
	printf("],\"task_size\":\"0x%llx\"}\n", (unsigned long long)in->task_size);
}

/* ---- demo ---- */

static void demo_begin(const struct mt_demo *d)
{
	printf("{\"pid\":%ld,\"pages\":%zu,\"page_size\":%u,\"pattern\":\"%s\",\"thp\":%s,"
	       "\"stages\":[", d->pid, d->npages, d->page_size, d->pattern,
	       d->thp ? "true" : "false");
}

static void demo_region_json(const struct mt_demo *d)
{
	printf("{\"counts\":{");
	for (int s = 0; s < MEMTRACE_NSTATES; s++)
		printf("%s\"%s\":%llu", s ? "," : "", mt_state_names[s],
		       (unsigned long long)d->count[s]);
	printf("},\"backed_delta_kb\":%ld,\"agree\":%llu,\"checked\":%llu,\"map\":\"",
	       mt_demo_backed_delta(d), (unsigned long long)d->check.agree,
	       (unsigned long long)d->check.checked);
	for (size_t i = 0; i < d->npages; i++)
		putchar(d->pic[i] == ' ' ? '_' : d->pic[i]);
	printf("\",\"maps\":[");
	for (unsigned int i = 0; i < d->nmaps; i++) {
		fputs(i ? "," : "", stdout);
		mt_json_str(stdout, d->maps_lines[i]);
	}
	printf("],\"disagreements\":[");
	for (unsigned int i = 0; i < d->ndis; i++) {
		printf("%s{\"addr\":\"0x%llx\",\"state\":\"%s\",\"pagemap\":\"0x%016llx\","
		       "\"reason\":", i ? "," : "", (unsigned long long)d->dis[i].addr,
		       mt_state_names[d->dis[i].rec->state], (unsigned long long)d->dis[i].entry);
		mt_json_str(stdout, d->dis[i].why);
		putchar('}');
	}
	printf("]}}");
}

static void demo_stage(const struct mt_demo *d)
{
	printf("%s{\"stage\":%d,\"name\":\"%s\",\"vsz_kb\":%ld,\"rss_kb\":%ld,"
	       "\"rss_delta_kb\":%ld,\"smaps_rss_kb\":%ld,\"ps\":", d->stage ? "," : "",
	       d->stage, mt_demo_stage_names[d->stage], d->vsz_kb, d->rss_kb,
	       d->stage ? mt_demo_delta(d->rss_kb, d->prev_rss_kb) : 0, d->srss_kb);
	if (d->have_ps) {
		printf("{\"vsz\":");
		mt_json_str(stdout, d->ps_vsz);
		printf(",\"rss\":");
		mt_json_str(stdout, d->ps_rss);
		printf("}");
	} else {
		printf("null");
	}
	printf(",\"region\":");
	if (d->stage == ST_INITIAL)
		printf("null}");
	else
		demo_region_json(d);
}

static void demo_end(const struct mt_demo *d)
{
	printf("],\"disagreements\":%llu,\"ok\":%s}\n", (unsigned long long)d->total_disagree,
	       d->total_disagree ? "false" : "true");
}

static void demo_nothing(const struct mt_demo *d)
{
	(void)d;
}

const struct mt_printer mt_out_json = {
	.name = "json",
	.span_label = mt_out_no_label,
	.query_open = open_list,
	.query_sep = comma,
	.query_header = query_header,
	.query_record = query_record,
	.query_summary = query_summary,
	.query_close = close_list,
	.verify_open = open_list,
	.verify_sep = comma,
	.verify_header = verify_header,
	.verify_disagree = verify_disagree,
	.verify_result = verify_result,
	.verify_abort = verify_abort,
	.verify_close = close_list,
	.maps_header = maps_header,
	.maps_row = maps_row,
	.maps_total = maps_total,
	.info = info,
	.diff = &mt_diff_json,
	.demo_begin = demo_begin,
	.demo_region = demo_nothing,
	.demo_stage = demo_stage,
	.demo_end = demo_end,
};
