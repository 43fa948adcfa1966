// SPDX-License-Identifier: GPL-2.0
/*
 * Output for people: aligned columns, the page map picture, colors (when
 * asked, or on a tty without NO_COLOR), and words that explain. The demo's,
 * the longest, is in out_demo.c.
 */
#include <string.h>

#include "output.h"

/* ---- query and verify --each ---- */

static void span_label(const struct mt_map *m, size_t i, size_t n)
{
	printf("mapping %zu of %zu: 0x%llx-0x%llx %s offset 0x%llx ", i + 1, n,
	       (unsigned long long)m->start, (unsigned long long)m->end, m->perms,
	       (unsigned long long)m->offset);
	mt_out_name(m->name);
	putchar('\n');
}

/* ---- query ---- */

/* the page size of the answer being printed, for its size column */
static unsigned int page_size = 4096;

static void query_header(const struct mt_header *h)
{
	page_size = h->page_size;
	printf("%-18s %10s  %-9s %-4s %-6s %-12s %-4s%s\n", "ADDRESS", "PAGES",
	       "STATE", "SIZE", "FLAGS", "PFN", "NODE", h->folio ? " FOLIO" : "");
}

/*
 * PFN: "-" where the record has none or it is hidden from us; a run of more
 * than one page shows its first page's, "0x1234.." (the frames of a run
 * need not be contiguous: --pages shows each).
 */
static const char *pfn_text(const struct mt_record *r, char *buf, size_t len)
{
	if (!mt_out_has_frame(r) || mt_out_pfn_hidden(r))
		return "-";
	snprintf(buf, len, "0x%llx%s", (unsigned long long)r->pfn, r->pages > 1 ? ".." : "");
	return buf;
}

/* NODE: "-" where none */
static void query_record(const struct mt_record *r, bool first)
{
	char fl[MT_FLAGS_BUF], pfn[24], node[12] = "-", folio[16];

	(void)first;
	if (r->state == MEMTRACE_UNMAPPED) {
		printf("0x%016llx %10llu  %-9s\n", (unsigned long long)r->addr,
		       (unsigned long long)r->pages, mt_state_names[r->state]);
		return;
	}
	mt_format_flags(r->flags, fl);
	if (r->node >= 0)
		snprintf(node, sizeof(node), "%d", r->node);
	if (!r->folio) {
		printf("0x%016llx %10llu  %-9s %-4s %-6s %-12s %s\n", (unsigned long long)r->addr,
		       (unsigned long long)r->pages, mt_state_names[r->state],
		       mt_size_name(r->flags, page_size), fl, pfn_text(r, pfn, sizeof(pfn)), node);
		return;
	}
	printf("0x%016llx %10llu  %-9s %-4s %-6s %-12s %-4s %s\n", (unsigned long long)r->addr,
	       (unsigned long long)r->pages, mt_state_names[r->state], mt_size_name(r->flags, page_size),
	       fl, pfn_text(r, pfn, sizeof(pfn)), node, mt_folio_text(r, folio));
}

static void query_picture(const struct mt_query_view *v)
{
	struct mt_picture p;

	mt_picture_init(&p, stdout, v->page_size, 0, v->color, true);
	mt_picture_fit(&p, v->columns, v->sum->pages);
	printf("\n");
	for (size_t k = 0; k < v->nrecs; k++)
		mt_picture_add(&p, &v->recs[k]);
	mt_picture_end(&p);
	mt_picture_scale_note(&p);
	mt_picture_legend(stdout, v->color, v->columns, v->sum->count[MEMTRACE_CACHED] != 0);
}

static void query_summary(const struct mt_query_view *v)
{
	const struct mt_summary *s = v->sum;
	bool first = true;
	char buf[32];

	printf("%llu page%s (%s):", (unsigned long long)s->pages, mt_plural(s->pages),
	       mt_human_size(s->pages * v->page_size, buf, sizeof(buf)));
	for (int i = 0; i < MEMTRACE_NSTATES_ALL; i++) {
		if (!s->count[i])
			continue;
		printf("%s %llu %s", first ? "" : ",", (unsigned long long)s->count[i],
		       mt_state_names[i]);
		first = false;
	}
	printf("; backed (present): %s\n",
	       mt_human_size(s->count[MEMTRACE_PRESENT] * v->page_size, buf, sizeof(buf)));
	if (v->totals)
		mt_out_totals_human("shown", v->totals, v->page_size);
	if (v->pfn_note)
		printf("(PFN -: frame numbers and swap entries are shown to CAP_SYS_ADMIN "
		       "only, as in /proc/PID/pagemap)\n");
	if (v->draw)
		query_picture(v);
	else if (v->omitted)
		printf("(picture omitted: %llu mapped page%s; --picture draws it)\n",
		       (unsigned long long)v->mapped_pages, mt_plural(v->mapped_pages));
}

static void newline(void)
{
	putchar('\n');
}

/* ---- verify ---- */

static void verify_header(const struct mt_header *h)
{
	(void)h;
}

static void verify_disagree(const struct mt_disagreement *d, unsigned int n, bool color)
{
	char fl[MT_FLAGS_BUF], pm[96], pfn[24];

	(void)n;
	mt_format_flags(d->rec->flags, fl);
	mt_pm_describe(d->entry, pm, sizeof(pm));
	printf("%sDISAGREE%s 0x%016llx  memtrace: %s %s pfn=%s  pagemap: %s  (%s)\n",
	       color ? "\033[1;31m" : "", color ? "\033[0m" : "",
	       (unsigned long long)d->addr, mt_state_names[d->rec->state], fl,
	       pfn_text(d->rec, pfn, sizeof(pfn)), pm, d->why);
}

static void verify_result(const struct mt_verify_view *v)
{
	const struct mt_check *c = v->check;

	printf("verify pid %ld 0x%llx-0x%llx: %llu/%llu page%s agree with "
	       "/proc/%ld/pagemap%s", v->pid, (unsigned long long)v->hdr->start,
	       (unsigned long long)v->hdr->end, (unsigned long long)c->agree,
	       (unsigned long long)c->checked, mt_plural(c->checked), v->pid,
	       c->disagree ? "" : " and maps");
	if (c->sampled_gaps)
		printf(" (%llu unmapped gap%s sampled at %s ends)",
		       (unsigned long long)c->sampled_gaps, mt_plural(c->sampled_gaps),
		       c->sampled_gaps == 1 ? "its" : "their");
	printf("%s\n", c->disagree ? "" : ": OK");
	if (c->disagree)
		printf("%llu disagreement%s (the target may have changed between "
		       "the two reads: verify a stopped process, kill -STOP %ld)\n",
		       (unsigned long long)c->disagree, mt_plural(c->disagree), v->pid);
	if (v->pfn_hidden)
		printf("(frame numbers not compared: pagemap shows them to "
		       "CAP_SYS_ADMIN only)\n");
	if (v->totals)
		mt_out_totals_human("checked", v->totals, v->hdr->page_size);
}

/* ---- maps: like pmap -x ---- */

static const int maps_cols[] = { MEMTRACE_PRESENT, MEMTRACE_ZERO, MEMTRACE_SWAP,
				 MEMTRACE_NONE };

#define NCOLS (sizeof(maps_cols) / sizeof(maps_cols[0]))

static void maps_header(long pid, unsigned int page_size)
{
	(void)pid;
	(void)page_size;
	printf("%-18s %10s %9s %9s %9s %9s %4s  %s\n", "ADDRESS", "SIZE", "PRESENT",
	       "ZERO", "SWAP", "NONE", "PERM", "MAPPING");
}

static void maps_row(const struct mt_maps_row *row)
{
	const struct mt_map *v = row->map;
	char size[32];

	printf("0x%016llx %10s", (unsigned long long)v->start,
	       mt_human_size(row->kbytes * 1024, size, sizeof(size)));
	if (row->queried)
		for (size_t c = 0; c < NCOLS; c++)
			printf(" %9llu", (unsigned long long)row->count[maps_cols[c]]);
	else
		printf(" %9s %9s %9s %9s", "-", "-", "-", "-");
	printf(" %4s  ", v->perms);
	mt_out_name(v->name);
	putchar('\n');
}

static void maps_total(const struct mt_maps_total *t)
{
	const uint64_t *n = t->count;
	char size[32];

	printf("%-18s %10s", "total", mt_human_size(t->kbytes * 1024, size, sizeof(size)));
	for (size_t c = 0; c < NCOLS; c++)
		printf(" %9llu", (unsigned long long)n[maps_cols[c]]);
	printf("\n\nbacked (present): %llu page%s = %s;  smaps Rss: ",
	       (unsigned long long)n[MEMTRACE_PRESENT], mt_plural(n[MEMTRACE_PRESENT]),
	       mt_human_size(n[MEMTRACE_PRESENT] * t->page_size, size, sizeof(size)));
	if (t->smaps_rss_kb >= 0)
		printf("%s\n", mt_human_size((uint64_t)t->smaps_rss_kb * 1024, size, sizeof(size)));
	else
		printf("unavailable\n");
	printf("(zero pages are mapped but not counted in Rss; the process may change "
	       "between the two reads)\n");
	if (n[MEMTRACE_MIGRATION] || n[MEMTRACE_OTHER])
		printf("also: %llu migration, %llu other\n",
		       (unsigned long long)n[MEMTRACE_MIGRATION],
		       (unsigned long long)n[MEMTRACE_OTHER]);
	if (t->totals)
		mt_out_totals_human("counted", t->totals, t->page_size);
}

/* ---- info ---- */

static void info(const char *transport, const struct mt_info *in)
{
	char size[32];

	mt_human_size(in->task_size, size, sizeof(size));
	printf("transport:   %s%s\n", transport,
	       strcmp(transport, "netlink") ? " (/proc/memtrace; this information "
	       "came over generic netlink)" : "");
	printf("family:      generic netlink \"%s\", id %d\n", MEMTRACE_GENL_NAME,
	       in->family_id);
	printf("module:      version %s\n", in->version);
	printf("page size:   %u\n", in->page_size);
	printf("states:      %u: ", in->nstates);
	mt_out_states(in->nstates, " ", false);
	printf("\nflags mask:  0x%x: ", in->flags_mask);
	mt_out_flag_list(in->flags_mask, " ", false);
	printf("\ntask size:   0x%llx (%s): the largest END a query may ask for\n",
	       (unsigned long long)in->task_size, size);
}

const struct mt_printer mt_out_human = {
	.name = "human",
	.human = true,
	.span_label = span_label,
	.query_open = mt_out_nothing_b,
	.query_sep = newline,
	.query_header = query_header,
	.query_record = query_record,
	.query_summary = query_summary,
	.query_close = mt_out_nothing_b,
	.verify_open = mt_out_nothing_b,
	.verify_sep = newline,
	.verify_header = verify_header,
	.verify_disagree = verify_disagree,
	.verify_result = verify_result,
	.verify_abort = mt_out_nothing,
	.verify_close = mt_out_nothing_b,
	.maps_header = maps_header,
	.maps_row = maps_row,
	.maps_total = maps_total,
	.info = info,
	.diff = &mt_diff_human,
	.demo_begin = mt_out_demo_begin,
	.demo_region = mt_out_demo_region,
	.demo_stage = mt_out_demo_stage,
	.demo_end = mt_out_demo_end,
};
