// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace watch's printers: the full screen (a frame, composed into a
 * buffer that watch_loop.c puts on the terminal), and off a terminal one
 * line per change in each format: human, tsv (a # header, then "frame",
 * "mapped", "unmapped", "remapped" and "exited" lines) and json (one object
 * a line, its "event" saying which).
 */
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "watch.h"

static const char *const kind_names[] = { "mapped", "unmapped", "remapped", "exited" };

/* A mapping name into f, control bytes as maps writes a newline ("\012") */
static void put_name(FILE *f, const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\%03o", *p);
		else
			fputc(*p, f);
}

/*
 * The picture of the cells into f: each cell's pages handed to the picture
 * as records, so that it draws them as query's does (a cell of several
 * pages: its main state, lighter when mixed). width: cells a row.
 */
void mt_watch_map(const struct mt_watch *w, FILE *f, unsigned int width, bool labels,
		  bool color)
{
	struct mt_picture p;

	mt_picture_init(&p, f, w->page_size, width, color, labels);
	p.scale = w->scale;
	for (size_t c = 0; c < w->ncells; c++) {
		uint64_t addr = w->start + c * w->scale * w->page_size;
		uint64_t want = w->pages - c * w->scale, got = 0;
		struct mt_record r = { .addr = addr };

		want = want < w->scale ? want : w->scale;
		for (int s = 0; s < MEMTRACE_NSTATES; s++) {
			if (!w->cell[c][s])
				continue;
			r.pages = w->cell[c][s];
			r.state = s;
			r.flags = s == MEMTRACE_PRESENT && w->huge[c] ? MEMTRACE_F_SIZE_2M : 0;
			mt_picture_add(&p, &r);
			r.addr += r.pages * w->page_size;
			got += r.pages;
		}
		if (got < want) {	/* pages no record covered: none are, in an answer */
			r = (struct mt_record){ .addr = r.addr, .pages = want - got,
						.state = MEMTRACE_UNMAPPED };
			mt_picture_add(&p, &r);
		}
	}
	mt_picture_end(&p);
}

/* The cells as one string (json's and tsv's "map"), unmapped as ' ' */
static void map_string(const struct mt_watch *w, FILE *f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return;
	/* one row, wider than the cells: no unmapped run is folded into a line */
	mt_watch_map(w, m, (unsigned int)w->ncells + 1, false, false);
	fclose(m);
	if (len >= 3)
		fwrite(buf + 2, 1, len - 3, f);	/* "  " before, "\n" after */
	free(buf);
}

static const char *hms(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, len, "%H:%M:%S", &tm))
		snprintf(buf, len, "--:--:--");
	return buf;
}

/* "VmRSS 2.5 MiB (+32 KiB)": a size of /proc in kB, and its change */
static void size_kb(FILE *f, const char *what, long kb, long prev, bool delta)
{
	char a[32], b[32];

	if (kb < 0) {
		fprintf(f, "%s -", what);
		return;
	}
	fprintf(f, "%s %s", what, mt_human_size((uint64_t)kb * 1024, a, sizeof(a)));
	if (delta && prev >= 0 && kb != prev)
		fprintf(f, " (%s)", mt_human_kb_delta(kb - prev, b, sizeof(b)));
}

/* "present 8 (+8)  zero 0 (-8)  none 8": the states with pages, or that changed */
static void counts(FILE *f, const struct mt_watch *w, bool delta, bool color)
{
	static const int order[] = { MEMTRACE_PRESENT, MEMTRACE_ZERO, MEMTRACE_NONE,
				     MEMTRACE_SWAP, MEMTRACE_MIGRATION, MEMTRACE_OTHER,
				     MEMTRACE_UNMAPPED };
	const char *sep = "";

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int s = order[i];
		uint64_t n = w->count_now[s], was = w->count_prev[s];
		bool moved = delta && n != was;

		if (!n && !moved && i > 2)
			continue;
		fprintf(f, "%s%s%s %llu%s", sep, color ? mt_picture_color(s) : "",
			mt_state_names[s], (unsigned long long)n,
			color && *mt_picture_color(s) ? "\033[0m" : "");
		if (moved)
			fprintf(f, " (%+lld)", (long long)(n - was));
		sep = "  ";
	}
}

/* An event as words: "mapped 0x1000-0x3000 rw-p offset 0x0 NAME" */
static void event_words(FILE *f, const struct mt_watch *w, const struct mt_watch_event *e)
{
	if (e->kind == MT_WATCH_EXITED) {
		fprintf(f, "process %ld exited", w->pid);
		return;
	}
	fprintf(f, "%s 0x%llx-0x%llx %s offset 0x%llx", kind_names[e->kind],
		(unsigned long long)e->start, (unsigned long long)e->end, e->perms,
		(unsigned long long)e->offset);
	if (e->kind == MT_WATCH_REMAPPED)
		fprintf(f, " (was 0x%llx-0x%llx %s)", (unsigned long long)e->start,
			(unsigned long long)e->old_end, e->old_perms);
	if (e->name[0])
		fputc(' ', f);
	put_name(f, e->name);
}

/* Lines the screen takes around the picture: 5 above; a blank, the legend, the events */
unsigned int mt_watch_chrome(const struct mt_watch *w)
{
	unsigned int legend = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f) {
		mt_picture_legend(f, false, w->columns, false);
		fclose(f);
		for (size_t i = 0; i < len; i++)
			legend += buf[i] == '\n';
		free(buf);
	}
	return 5 + w->show_totals + 1 + legend + MT_WATCH_EVENTS;
}

/*
 * --state, --flags, --totals: "chosen: 6 pages: 6 present; THP 0, hugetlb 0;
 * exclusive 6, shared 0; node 0: 6"
 */
static void chosen(FILE *f, const struct mt_watch *w)
{
	const struct mt_totals *t = &w->totals;
	const char *sep = ":";

	fprintf(f, "chosen: %llu page%s", (unsigned long long)t->pages, mt_plural(t->pages));
	for (int s = 0; s < MEMTRACE_NSTATES; s++) {
		if (!t->state[s])
			continue;
		fprintf(f, "%s %llu %s", sep, (unsigned long long)t->state[s], mt_state_names[s]);
		sep = ",";
	}
	if (!t->state[MEMTRACE_PRESENT])
		return;
	fprintf(f, "; THP %llu, hugetlb %llu; exclusive %llu, shared %llu; node",
		(unsigned long long)t->thp, (unsigned long long)t->hugetlb,
		(unsigned long long)t->excl, (unsigned long long)t->shared);
	for (int n = 0; n < MT_TOTALS_NODES; n++)
		if (t->node[n])
			fprintf(f, " %d: %llu", n, (unsigned long long)t->node[n]);
	if (t->node_other)
		fprintf(f, " -: %llu", (unsigned long long)t->node_other);
}

static void screen_head(const struct mt_watch *w, FILE *f)
{
	char sz[32], t[16];

	fprintf(f, "pid %ld, 0x%llx-0x%llx, %llu page%s of %s", w->pid,
		(unsigned long long)w->start, (unsigned long long)w->end,
		(unsigned long long)w->pages, mt_plural(w->pages),
		mt_human_size(w->page_size, sz, sizeof(sz)));
	if (w->scale > 1)
		fprintf(f, ", a cell is %llu pages (%s)", (unsigned long long)w->scale,
			mt_human_size(w->scale * w->page_size, sz, sizeof(sz)));
	fprintf(f, "\nmemtrace watch: every %gs, frame %llu at %s; ", w->interval,
		(unsigned long long)w->frame, hms(w->when, t, sizeof(t)));
	if (w->exited)
		fprintf(f, "%sprocess %ld exited%s, q quits\n", w->color ? "\033[1;7m" : "",
			w->pid, w->color ? "\033[0m" : "");
	else
		fputs("q quits\n", f);
	counts(f, w, false, w->color);
	fputs("\n", f);
	if (w->show_totals) {
		chosen(f, w);
		fputs("\n", f);
	}
	size_kb(f, "VmRSS", w->rss_kb, w->prev_rss_kb, false);
	size_kb(f, "  smaps Rss", w->srss_kb, w->prev_srss_kb, false);
	if (w->have_prev)
		fprintf(f, "  changed: %llu", (unsigned long long)w->changed);
	else
		fputs("  changed: -", f);
	if (w->last_change_frame)
		fprintf(f, " (%llu at frame %llu, %s)", (unsigned long long)w->last_changed,
			(unsigned long long)w->last_change_frame,
			hms(w->last_change_when, t, sizeof(t)));
	fputs("\n\n", f);
}

void mt_watch_screen(const struct mt_watch *w, FILE *f)
{
	char t[16];

	screen_head(w, f);
	mt_watch_map(w, f, w->width, true, w->color);
	fputs("\n", f);
	mt_picture_legend(f, w->color, w->columns, false);
	for (unsigned int i = 0; i < w->nev; i++) {
		fprintf(f, "  %s ", hms(w->ev[i].when, t, sizeof(t)));
		event_words(f, w, &w->ev[i]);
		fputc('\n', f);
	}
}

/* ---- off a terminal: a line per change ---- */

static void human_frame(const struct mt_watch *w)
{
	char t[16], sz[32];

	if (w->frame == 1)
		printf("memtrace watch: pid %ld, 0x%llx-0x%llx, %llu page%s of %s, every %gs: "
		       "a line when pages change\n", w->pid, (unsigned long long)w->start,
		       (unsigned long long)w->end, (unsigned long long)w->pages,
		       mt_plural(w->pages), mt_human_size(w->page_size, sz, sizeof(sz)),
		       w->interval);
	printf("%s frame %llu: ", hms(w->when, t, sizeof(t)), (unsigned long long)w->frame);
	counts(stdout, w, w->frame > 1, false);
	if (w->frame > 1)
		printf("; %llu page%s changed", (unsigned long long)w->changed,
		       mt_plural(w->changed));
	size_kb(stdout, "; VmRSS", w->rss_kb, w->prev_rss_kb, w->frame > 1);
	size_kb(stdout, ", smaps Rss", w->srss_kb, w->prev_srss_kb, w->frame > 1);
	if (w->show_totals) {
		fputs("; ", stdout);
		chosen(stdout, w);
	}
	putchar('\n');
}

static void human_event(const struct mt_watch *w, const struct mt_watch_event *e)
{
	char t[16];

	printf("%s ", hms(e->when, t, sizeof(t)));
	event_words(stdout, w, e);
	putchar('\n');
}

static void tsv_frame(const struct mt_watch *w)
{
	if (w->frame == 1)
		printf("# memtrace-watch pid=%ld start=0x%llx end=0x%llx pages=%llu page_size=%u "
		       "scale=%llu interval=%g\n"
		       "# frame\tframe\telapsed\tchanged\tunmapped\tnone\tzero\tpresent\tswap\t"
		       "migration\tother\tvmrss_kb\tsmaps_rss_kb\tmap\n"
		       "# mapped|unmapped|remapped\tframe\telapsed\tstart\tend\tperms\toffset\t"
		       "old_end\told_perms\tname\n# exited\tframe\telapsed\n",
		       w->pid, (unsigned long long)w->start, (unsigned long long)w->end,
		       (unsigned long long)w->pages, w->page_size, (unsigned long long)w->scale,
		       w->interval);
	printf("frame\t%llu\t%.3f\t", (unsigned long long)w->frame, w->elapsed);
	if (w->frame > 1)
		printf("%llu", (unsigned long long)w->changed);
	else
		putchar('-');
	for (int s = 0; s < MEMTRACE_NSTATES; s++)
		printf("\t%llu", (unsigned long long)w->count_now[s]);
	printf(w->rss_kb < 0 ? "\t-" : "\t%ld", w->rss_kb);
	printf(w->srss_kb < 0 ? "\t-\t" : "\t%ld\t", w->srss_kb);
	map_string(w, stdout);
	putchar('\n');
	if (w->show_totals)
		mt_out_totals_tsv("totals", &w->totals);
}

static void tsv_event(const struct mt_watch *w, const struct mt_watch_event *e)
{
	(void)w;
	printf("%s\t%llu\t%.3f", kind_names[e->kind], (unsigned long long)e->frame, e->elapsed);
	if (e->kind != MT_WATCH_EXITED) {
		printf("\t0x%llx\t0x%llx\t%s\t0x%llx\t", (unsigned long long)e->start,
		       (unsigned long long)e->end, e->perms, (unsigned long long)e->offset);
		if (e->kind == MT_WATCH_REMAPPED)
			printf("0x%llx\t%s\t", (unsigned long long)e->old_end, e->old_perms);
		else
			fputs("-\t-\t", stdout);
		put_name(stdout, e->name);
	}
	putchar('\n');
}

static void json_kb(const char *key, long kb)
{
	printf(kb < 0 ? ",\"%s\":null" : ",\"%s\":%ld", key, kb);
}

static void json_frame(const struct mt_watch *w)
{
	if (w->frame == 1)
		printf("{\"event\":\"start\",\"pid\":%ld,\"start\":\"0x%llx\",\"end\":\"0x%llx\","
		       "\"pages\":%llu,\"page_size\":%u,\"scale\":%llu,\"interval\":%g}\n",
		       w->pid, (unsigned long long)w->start, (unsigned long long)w->end,
		       (unsigned long long)w->pages, w->page_size, (unsigned long long)w->scale,
		       w->interval);
	printf("{\"event\":\"frame\",\"frame\":%llu,\"elapsed\":%.3f,\"time\":%lld,",
	       (unsigned long long)w->frame, w->elapsed, (long long)w->when);
	if (w->frame > 1)
		printf("\"changed\":%llu,\"counts\":{", (unsigned long long)w->changed);
	else
		fputs("\"changed\":null,\"counts\":{", stdout);
	for (int s = 0; s < MEMTRACE_NSTATES; s++)
		printf("%s\"%s\":%llu", s ? "," : "", mt_state_names[s],
		       (unsigned long long)w->count_now[s]);
	putchar('}');
	json_kb("vmrss_kb", w->rss_kb);
	json_kb("smaps_rss_kb", w->srss_kb);
	if (w->show_totals)
		mt_out_totals_json("totals", &w->totals, w->page_size);
	fputs(",\"map\":\"", stdout);
	map_string(w, stdout);	/* the picture's glyphs: nothing to escape */
	fputs("\"}\n", stdout);
}

static void json_event(const struct mt_watch *w, const struct mt_watch_event *e)
{
	printf("{\"event\":\"%s\",\"frame\":%llu,\"elapsed\":%.3f,\"time\":%lld",
	       kind_names[e->kind], (unsigned long long)e->frame, e->elapsed, (long long)e->when);
	if (e->kind == MT_WATCH_EXITED) {
		printf(",\"pid\":%ld}\n", w->pid);
		return;
	}
	printf(",\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"perms\":\"%s\",\"offset\":\"0x%llx\"",
	       (unsigned long long)e->start, (unsigned long long)e->end, e->perms,
	       (unsigned long long)e->offset);
	if (e->kind == MT_WATCH_REMAPPED)
		printf(",\"old_end\":\"0x%llx\",\"old_perms\":\"%s\"",
		       (unsigned long long)e->old_end, e->old_perms);
	fputs(",\"name\":", stdout);
	mt_json_str(stdout, e->name);
	fputs("}\n", stdout);
}

static const struct mt_watch_printer human = { .event = human_event, .frame = human_frame };
static const struct mt_watch_printer tsv = { .event = tsv_event, .frame = tsv_frame };
static const struct mt_watch_printer json = { .event = json_event, .frame = json_frame };

const struct mt_watch_printer *mt_watch_printer(const struct mt_printer *out)
{
	if (out == &mt_out_json)
		return &json;
	return out == &mt_out_tsv ? &tsv : &human;
}
