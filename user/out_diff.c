// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace diff (and query --since) in each format: the maps lines added
 * (+) and removed (-), each run of pages that changed the same way, then
 * the totals: pages changed of pages compared, and each state before and
 * after.
 */
#include "output.h"

/* "present a-wdyx 2M", "none": a state with its flags, if any */
static const char *page_desc(const struct mt_record *r, unsigned int ps, char *buf,
			     size_t len)
{
	char fl[MT_FLAGS_BUF];

	mt_format_flags(r->flags, fl);
	if (!r->flags)
		snprintf(buf, len, "%s", mt_state_names[r->state]);
	else
		snprintf(buf, len, "%s %s%s%s", mt_state_names[r->state], fl,
			 r->flags & MEMTRACE_F_SIZE_MASK ? " " : "",
			 r->flags & MEMTRACE_F_SIZE_MASK ? mt_size_name(r->flags, ps) : "");
	return buf;
}

static void nothing(const struct mt_diff *d, void *arg)
{
	(void)d;
	(void)arg;
}

/* ---- for people ---- */

static void side(const char *tag, const char *name, const struct mt_snap *s, long long base)
{
	char buf[32];

	printf("  %s: %s, pid %ld, %s", tag, name, s->hdr.pid, s->time);
	if (s->rss_kb >= 0)
		printf(", Rss %s", mt_human_size((uint64_t)s->rss_kb * 1024, buf, sizeof(buf)));
	if (s->rss_kb >= 0 && base >= 0)
		printf(" (%s)", mt_human_kb_delta((long)(s->rss_kb - base), buf, sizeof(buf)));
	putchar('\n');
}

static void human_begin(const struct mt_diff *d, void *arg)
{
	uint64_t pages = (d->end - d->start) / d->page_size;
	char buf[32];

	(void)arg;
	printf("diff 0x%llx-0x%llx: %llu page%s (%s) compared\n", (unsigned long long)d->start,
	       (unsigned long long)d->end, (unsigned long long)pages, mt_plural(pages),
	       mt_human_size(pages * d->page_size, buf, sizeof(buf)));
	side("a", d->name_a, d->a, -1);
	side("b", d->name_b, d->b, d->a->rss_kb);
}

static void human_map(const struct mt_diff *d, const struct mt_map *m, bool added, void *arg)
{
	(void)d;
	(void)arg;
	printf("maps: %c %llx-%llx %s %08llx %s %llu ", added ? '+' : '-',
	       (unsigned long long)m->start, (unsigned long long)m->end, m->perms,
	       (unsigned long long)m->offset, m->dev, (unsigned long long)m->inode);
	mt_out_name(m->name);
	putchar('\n');
}

static void human_change(const struct mt_diff *d, const struct mt_change *c, void *arg)
{
	char from[48], to[48], size[32];

	(void)arg;
	printf("%s -> %s: %llu page%s at 0x%llx (%s)\n", page_desc(&c->from, d->page_size, from, sizeof(from)),
	       page_desc(&c->to, d->page_size, to, sizeof(to)), (unsigned long long)c->pages,
	       mt_plural(c->pages), (unsigned long long)c->addr,
	       mt_human_size(c->pages * d->page_size, size, sizeof(size)));
}

/* "none 12 -> 8 (-4), present 4 -> 8 (+4)": the states that changed */
static void human_states(const struct mt_diff *d)
{
	const char *sep = "  by state:";

	for (int s = 0; s < MEMTRACE_NSTATES; s++) {
		long long delta = (long long)(d->tb.state[s] - d->ta.state[s]);

		if (!delta)
			continue;
		printf("%s %s %llu -> %llu (%+lld)", sep, mt_state_names[s],
		       (unsigned long long)d->ta.state[s], (unsigned long long)d->tb.state[s],
		       delta);
		sep = ",";
	}
	if (*sep == ',')
		putchar('\n');
}

static void human_end(const struct mt_diff *d, void *arg)
{
	char buf[32];

	(void)arg;
	if (!d->changed)
		printf("no page changed");
	else
		printf("%llu page%s changed (%s)", (unsigned long long)d->changed,
		       mt_plural(d->changed),
		       mt_human_size(d->changed * d->page_size, buf, sizeof(buf)));
	printf(" of %llu; maps: %zu line%s added, %zu removed\n",
	       (unsigned long long)d->ta.pages, d->maps_added, d->maps_added == 1 ? "" : "s",
	       d->maps_removed);
	human_states(d);
	for (int f = 0; f < MEMTRACE_NSTATES_ALL; f++)
		for (int t = 0; t < MEMTRACE_NSTATES_ALL; t++)
			if (d->moves[f][t])
				printf("  %s -> %s: %llu page%s\n", mt_state_names[f],
				       mt_state_names[t], (unsigned long long)d->moves[f][t],
				       mt_plural(d->moves[f][t]));
	if (d->totals) {
		mt_out_totals_human("a", &d->ta, d->page_size);
		mt_out_totals_human("b", &d->tb, d->page_size);
	}
}

const struct mt_diff_ops mt_diff_human = {
	human_begin, human_map, nothing, human_change, human_end
};

/* ---- tab-separated ---- */

static void tsv_side(const char *tag, const char *name, const struct mt_snap *s)
{
	printf("# %s file=", tag);
	mt_out_name(name);
	printf(" pid=%ld time=%s rss_kbytes=%lld\n", s->hdr.pid, s->time, s->rss_kb);
}

static void tsv_begin(const struct mt_diff *d, void *arg)
{
	(void)arg;
	printf("# memtrace-diff start=0x%llx end=0x%llx page_size=%u\n",
	       (unsigned long long)d->start, (unsigned long long)d->end, d->page_size);
	tsv_side("a", d->name_a, d->a);
	tsv_side("b", d->name_b, d->b);
}

static void tsv_map(const struct mt_diff *d, const struct mt_map *m, bool added, void *arg)
{
	(void)d;
	(void)arg;
	printf("# maps\t%c\t0x%llx\t0x%llx\t%s\t0x%llx\t", added ? '+' : '-',
	       (unsigned long long)m->start, (unsigned long long)m->end, m->perms,
	       (unsigned long long)m->offset);
	mt_out_name(m->name);
	putchar('\n');
}

static void tsv_pages(const struct mt_diff *d, void *arg)
{
	(void)d;
	(void)arg;
	printf("# addr\tpages\tfrom_state\tfrom_size\tfrom_flags\tto_state\tto_size\tto_flags\n");
}

static void tsv_change(const struct mt_diff *d, const struct mt_change *c, void *arg)
{
	char f1[MT_FLAGS_BUF], f2[MT_FLAGS_BUF];

	(void)d;
	(void)arg;
	mt_format_flags(c->from.flags, f1);
	mt_format_flags(c->to.flags, f2);
	printf("0x%llx\t%llu\t%s\t%s\t%s\t%s\t%s\t%s\n", (unsigned long long)c->addr,
	       (unsigned long long)c->pages, mt_state_names[c->from.state],
	       mt_size_name(c->from.flags, d->page_size), f1, mt_state_names[c->to.state],
	       mt_size_name(c->to.flags, d->page_size), f2);
}

static void tsv_end(const struct mt_diff *d, void *arg)
{
	(void)arg;
	for (int f = 0; f < MEMTRACE_NSTATES_ALL; f++)
		for (int t = 0; t < MEMTRACE_NSTATES_ALL; t++)
			if (d->moves[f][t])
				printf("# move %s %s %llu\n", mt_state_names[f], mt_state_names[t],
				       (unsigned long long)d->moves[f][t]);
	mt_out_totals_tsv("totals-a", &d->ta);
	mt_out_totals_tsv("totals-b", &d->tb);
	printf("# result changed=%llu compared=%llu runs=%zu maps_added=%zu maps_removed=%zu\n",
	       (unsigned long long)d->changed, (unsigned long long)d->ta.pages, d->nchanges,
	       d->maps_added, d->maps_removed);
}

const struct mt_diff_ops mt_diff_tsv = {
	tsv_begin, tsv_map, tsv_pages, tsv_change, tsv_end
};

/* ---- JSON ---- */

static void json_side(const char *tag, const char *name, const struct mt_snap *s)
{
	printf("\"%s\":{\"file\":", tag);
	mt_json_str(stdout, name);
	printf(",\"pid\":%ld,\"time\":", s->hdr.pid);
	mt_json_str(stdout, s->time);
	printf(",\"range\":");
	mt_json_str(stdout, s->range ? s->range : "");
	printf(",\"rss_kbytes\":");
	if (s->rss_kb >= 0)
		printf("%lld}", s->rss_kb);
	else
		printf("null}");
}

static void json_begin(const struct mt_diff *d, void *arg)
{
	(void)arg;
	putchar('{');
	json_side("a", d->name_a, d->a);
	putchar(',');
	json_side("b", d->name_b, d->b);
	printf(",\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"page_size\":%u,\"maps\":[",
	       (unsigned long long)d->start, (unsigned long long)d->end, d->page_size);
}

static void json_map(const struct mt_diff *d, const struct mt_map *m, bool added, void *arg)
{
	(void)arg;
	printf("%s{\"change\":\"%c\",\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"perms\":\"%s\","
	       "\"offset\":\"0x%llx\",\"name\":", d->maps_added + d->maps_removed > 1 ? "," : "",
	       added ? '+' : '-', (unsigned long long)m->start, (unsigned long long)m->end,
	       m->perms, (unsigned long long)m->offset);
	mt_json_str(stdout, m->name);
	putchar('}');
}

static void json_pages(const struct mt_diff *d, void *arg)
{
	(void)d;
	(void)arg;
	printf("],\"changes\":[");
}

static void json_page(const char *key, const struct mt_record *r, unsigned int ps)
{
	char fl[MT_FLAGS_BUF];

	mt_format_flags(r->flags, fl);
	printf("\"%s\":{\"state\":\"%s\",\"size\":\"%s\",\"flags\":\"%s\"}", key,
	       mt_state_names[r->state], mt_size_name(r->flags, ps), fl);
}

static void json_change(const struct mt_diff *d, const struct mt_change *c, void *arg)
{
	(void)arg;
	printf("%s{\"addr\":\"0x%llx\",\"pages\":%llu,", d->nchanges > 1 ? "," : "",
	       (unsigned long long)c->addr, (unsigned long long)c->pages);
	json_page("from", &c->from, d->page_size);
	putchar(',');
	json_page("to", &c->to, d->page_size);
	putchar('}');
}

static void json_end(const struct mt_diff *d, void *arg)
{
	const char *sep = "";

	(void)arg;
	printf("],\"moves\":[");
	for (int f = 0; f < MEMTRACE_NSTATES_ALL; f++) {
		for (int t = 0; t < MEMTRACE_NSTATES_ALL; t++) {
			if (!d->moves[f][t])
				continue;
			printf("%s{\"from\":\"%s\",\"to\":\"%s\",\"pages\":%llu}", sep,
			       mt_state_names[f], mt_state_names[t],
			       (unsigned long long)d->moves[f][t]);
			sep = ",";
		}
	}
	printf("],\"changed_pages\":%llu,\"compared_pages\":%llu,\"changed\":%s",
	       (unsigned long long)d->changed, (unsigned long long)d->ta.pages,
	       d->changed || d->maps_added || d->maps_removed ? "true" : "false");
	mt_out_totals_json("totals_a", &d->ta, d->page_size);
	mt_out_totals_json("totals_b", &d->tb, d->page_size);
	printf("}\n");
}

const struct mt_diff_ops mt_diff_json = {
	json_begin, json_map, json_pages, json_change, json_end
};
