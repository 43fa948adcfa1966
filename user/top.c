// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace top: every process the caller may query, a line each, with what
 * backs its whole address space in kB: present, zero (the shared zero
 * page), swap, cached (file pages in the page cache where the process has
 * no entry, when the module can tell and the caller may see them) and none
 * (reserved by its mappings, never touched); and the share of its present
 * pages mapped huge (THP, not hugetlb). One MEMTRACE_CMD_TOP netlink dump a
 * frame: there is no /proc/memtrace form of it.
 *
 * On a terminal the table is redrawn every --interval like top(1), with
 * watch's terminal (watch_loop.c: the alternate screen, q quits, Ctrl-Z,
 * the window's size, signals that restore the terminal); otherwise it is
 * printed once (or --count times): as a table, --tsv, or --json.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "transport.h"
#include "watch.h"

enum top_col { COL_PID, COL_COMM, COL_PRESENT, COL_ZERO, COL_SWAP, COL_CACHED, COL_NONE,
	       COL_THP, NCOLS };

static const char *const col_names[NCOLS] = { "pid", "comm", "present", "zero", "swap",
					       "cached", "none", "thp" };

struct top {
	struct mt_proc *p;
	size_t n, cap;
	bool cached;		/* the module counts CACHED pages */
	int sort;		/* enum top_col */
	unsigned int page_kb;
	double interval;
	uint64_t count;		/* frames; 0: until q */
	bool screen;
	unsigned int columns, rows;
	uint64_t frame;
	struct mt_error err;
};

static int top_opt(void *state, int val, const char *arg)
{
	struct top *t = state;
	char *end;
	double v;
	uint64_t n;

	switch (val) {
	case 's':
		for (int i = 0; i < NCOLS; i++) {
			if (!strcasecmp(arg, col_names[i])) {
				t->sort = i;
				return 0;
			}
		}
		return mt_bad_usage("top", "--sort: one of pid comm present zero swap cached "
				    "none thp, not '%s'", arg);
	case 'n':
		errno = 0;
		v = strtod(arg, &end);
		if (errno || end == arg || *end || !isfinite(v) || v < 0.1 || v > 86400 ||
		    strspn(arg, "0123456789.") != strlen(arg))
			return mt_bad_usage("top", "--interval: seconds from 0.1 to 86400, "
					    "not '%s'", arg);
		t->interval = v;
		return 0;
	case 'c':
		if (mt_parse_u64(arg, strlen(arg), &n) || !n)
			return mt_bad_usage("top", "--count: a number of frames, 1 or more, "
					    "not '%s'", arg);
		t->count = n;
		return 0;
	}
	return MT_EXIT_USAGE;
}

static int keep(const struct mt_proc *p, void *arg)
{
	struct top *t = arg;

	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		t->p = mt_xrealloc(t->p, t->cap * sizeof(*t->p));
	}
	t->p[t->n++] = *p;
	return 0;
}

/* THP share of present, in tenths of a percent */
static unsigned int thp_permille(const struct mt_proc *p)
{
	uint64_t present = p->counts[MEMTRACE_PRESENT];

	return present ? (unsigned int)((p->thp * 1000 + present / 2) / present) : 0;
}

static uint64_t col_value(const struct mt_proc *p, int col)
{
	switch (col) {
	case COL_PRESENT: return p->counts[MEMTRACE_PRESENT];
	case COL_ZERO: return p->counts[MEMTRACE_ZERO];
	case COL_SWAP: return p->counts[MEMTRACE_SWAP];
	case COL_CACHED: return p->counts[MEMTRACE_CACHED];
	case COL_NONE: return p->counts[MEMTRACE_NONE];
	case COL_THP: return thp_permille(p);
	}
	return 0;
}

static int sort_col;

/* pid and comm ascending, the counts descending; ties by pid */
static int cmp(const void *a, const void *b)
{
	const struct mt_proc *x = a, *y = b;
	int c = 0;

	if (sort_col == COL_COMM)
		c = strcmp(x->comm, y->comm);
	else if (sort_col != COL_PID) {
		uint64_t u = col_value(x, sort_col), v = col_value(y, sort_col);

		c = u > v ? -1 : u < v;
	}
	return c ? c : (x->pid > y->pid) - (x->pid < y->pid);
}

/* One dump, sorted: 0 or MT_EXIT_FAIL (t->err says why). */
static int sample(struct mt_ctx *ctx, struct top *t)
{
	t->n = 0;
	memset(&t->err, 0, sizeof(t->err));
	if (mt_top(ctx->ses, t->cached, keep, t, &t->err))
		return MT_EXIT_FAIL;
	sort_col = t->sort;
	qsort(t->p, t->n, sizeof(*t->p), cmp);
	t->frame++;
	return MT_EXIT_OK;
}

static void put_kb(FILE *f, const struct top *t, uint64_t pages, int width)
{
	fprintf(f, " %*llu", width, (unsigned long long)(pages * t->page_kb));
}

static void totals(const struct top *t, struct mt_proc *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (size_t i = 0; i < t->n; i++) {
		for (int s = 0; s < MEMTRACE_NSTATES_ALL; s++)
			sum->counts[s] += t->p[i].counts[s];
		sum->thp += t->p[i].thp;
	}
}

/* The table, at most rows lines of processes (0: all) */
static void table(const struct top *t, FILE *f, size_t rows)
{
	static const char *const head[NCOLS] = { "PID", "COMM", "PRESENT", "ZERO", "SWAP",
						 "CACHED", "NONE", "THP%" };
	size_t n = rows && rows < t->n ? rows : t->n;

	fprintf(f, "%7s %-16s", head[0], head[1]);
	for (int c = COL_PRESENT; c <= COL_NONE; c++)
		fprintf(f, " %*s%s", c == t->sort ? 10 : 11, head[c], c == t->sort ? "*" : "");
	fprintf(f, " %5s%s\n", head[COL_THP], t->sort == COL_THP ? "*" : "");
	for (size_t i = 0; i < n; i++) {
		const struct mt_proc *p = &t->p[i];
		unsigned int pm = thp_permille(p);

		fprintf(f, "%7ld %-16s", p->pid, p->comm);
		put_kb(f, t, p->counts[MEMTRACE_PRESENT], 11);
		put_kb(f, t, p->counts[MEMTRACE_ZERO], 11);
		put_kb(f, t, p->counts[MEMTRACE_SWAP], 11);
		if (t->cached)
			put_kb(f, t, p->counts[MEMTRACE_CACHED], 11);
		else
			fprintf(f, " %11s", "-");
		put_kb(f, t, p->counts[MEMTRACE_NONE], 11);
		fprintf(f, " %3u.%u%s\n", pm / 10, pm % 10, p->busy ? "  (busy: in part)" : "");
	}
}

/* The screen: a line of totals, the table cut to the window */
static void screen(const struct top *t, FILE *f)
{
	struct mt_proc sum;
	char when[16];
	time_t now = time(NULL);
	struct tm tm;

	totals(t, &sum);
	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(f, "memtrace top - %s, %zu processes, every %gs, sorted by %s (q quits)\n", when,
		t->n, t->interval, col_names[t->sort]);
	fprintf(f, "kB: present %llu, zero %llu, swap %llu, cached %s, none %llu; THP %llu\n\n",
		(unsigned long long)(sum.counts[MEMTRACE_PRESENT] * t->page_kb),
		(unsigned long long)(sum.counts[MEMTRACE_ZERO] * t->page_kb),
		(unsigned long long)(sum.counts[MEMTRACE_SWAP] * t->page_kb),
		t->cached ? "" : "-",
		(unsigned long long)(sum.counts[MEMTRACE_NONE] * t->page_kb),
		(unsigned long long)(sum.thp * t->page_kb));
	table(t, f, t->rows > 4 ? t->rows - 4 : 1);
}

static void tsv(const struct top *t)
{
	puts("# pid\tcomm\tpresent_kb\tzero_kb\tswap_kb\tcached_kb\tnone_kb\tthp_kb\tbusy");
	for (size_t i = 0; i < t->n; i++) {
		const struct mt_proc *p = &t->p[i];

		printf("%ld\t", p->pid);
		for (const char *c = p->comm; *c; c++)	/* a tab or newline in a name */
			putchar(*c == '\t' || *c == '\n' ? ' ' : *c);
		printf("\t%llu\t%llu\t%llu\t", (unsigned long long)(p->counts[MEMTRACE_PRESENT] * t->page_kb),
		       (unsigned long long)(p->counts[MEMTRACE_ZERO] * t->page_kb),
		       (unsigned long long)(p->counts[MEMTRACE_SWAP] * t->page_kb));
		if (t->cached)
			printf("%llu", (unsigned long long)(p->counts[MEMTRACE_CACHED] * t->page_kb));
		else
			putchar('-');
		printf("\t%llu\t%llu\t%d\n", (unsigned long long)(p->counts[MEMTRACE_NONE] * t->page_kb),
		       (unsigned long long)(p->thp * t->page_kb), p->busy);
	}
}

static void json(const struct top *t)
{
	printf("{\"page_size\":%u,\"sort\":\"%s\",\"processes\":[", t->page_kb * 1024,
	       col_names[t->sort]);
	for (size_t i = 0; i < t->n; i++) {
		const struct mt_proc *p = &t->p[i];

		printf("%s{\"pid\":%ld,\"comm\":", i ? "," : "", p->pid);
		mt_json_str(stdout, p->comm);
		printf(",\"present_kb\":%llu,\"zero_kb\":%llu,\"swap_kb\":%llu,\"cached_kb\":",
		       (unsigned long long)(p->counts[MEMTRACE_PRESENT] * t->page_kb),
		       (unsigned long long)(p->counts[MEMTRACE_ZERO] * t->page_kb),
		       (unsigned long long)(p->counts[MEMTRACE_SWAP] * t->page_kb));
		if (t->cached)
			printf("%llu", (unsigned long long)(p->counts[MEMTRACE_CACHED] * t->page_kb));
		else
			fputs("null", stdout);
		printf(",\"none_kb\":%llu,\"thp_kb\":%llu,\"migration_kb\":%llu,\"other_kb\":%llu,"
		       "\"busy\":%s}",
		       (unsigned long long)(p->counts[MEMTRACE_NONE] * t->page_kb),
		       (unsigned long long)(p->thp * t->page_kb),
		       (unsigned long long)(p->counts[MEMTRACE_MIGRATION] * t->page_kb),
		       (unsigned long long)(p->counts[MEMTRACE_OTHER] * t->page_kb),
		       p->busy ? "true" : "false");
	}
	puts("]}");
}

static void print(const struct mt_ctx *ctx, const struct top *t)
{
	if (ctx->out == &mt_out_json)
		json(t);
	else if (ctx->out == &mt_out_tsv)
		tsv(t);
	else
		table(t, stdout, 0);
	fflush(stdout);
}

static void draw(const struct top *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;
	screen(t, f);
	fclose(f);
	mt_term_draw(buf, len, t->rows, t->columns);
	free(buf);
}

/* Frames until the count, q, a signal or an error; the terminal restored. */
static int loop(struct mt_ctx *ctx, struct top *t)
{
	long long step = (long long)(t->interval * 1e9 + 0.5);
	struct timespec next;
	sigset_t mask;
	int ret, r = MT_WAIT_TICK;

	mt_term_signals(t->screen, &mask);
	if (t->screen) {
		mt_term_buffer();
		mt_term_enter();
		mt_term_size(&t->columns, &t->rows);
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		ret = sample(ctx, t);
		if (ret)
			break;
		if (t->screen)
			draw(t);
		else
			print(ctx, t);
		if (t->count && t->frame >= t->count)
			break;
		if (r == MT_WAIT_TICK)
			mt_term_advance(&next, step);
		do {
			r = mt_term_wait(&next, &mask, t->screen, -1);
			if (r == MT_WAIT_RESIZE) {
				mt_term_size(&t->columns, &t->rows);
				draw(t);
			}
		} while (r == MT_WAIT_RESIZE);
		if (r == MT_WAIT_QUIT)
			break;
		if (r == MT_WAIT_SIGNAL) {
			ret = MT_TERM_BY_SIGNAL;
			break;
		}
	}
	ret = mt_term_end(ret);
	if (ret == MT_TERM_BY_SIGNAL)
		return MT_EXIT_FAIL;
	if (ret == MT_EXIT_FAIL)
		mt_transport_print_error(&t->err);
	return ret;
}

static int top_run(struct mt_ctx *ctx, int argc, char **argv)
{
	struct top t = { .sort = COL_PRESENT, .interval = 2.0 };
	const struct mt_transport_ops *tp;
	struct mt_info info;
	int ret;

	ret = mt_parse_opts(ctx, &mt_cmd_top, argc, argv, top_opt, &t);
	if (ret != MT_GO)
		return ret;
	if (optind < argc)
		return mt_bad_usage("top", "unexpected argument '%s'", argv[optind]);
	mt_ctx_finish(ctx);
	memset(&info, 0, sizeof(info));
	tp = mt_transport_resolve(ctx->ses, ctx->tp);
	if (strcmp(tp->name, "netlink")) {
		mt_err("top needs the generic netlink transport (MEMTRACE_CMD_TOP): "
		       "/proc/memtrace has no form of it, and the transport is %s", tp->name);
		return MT_EXIT_FAIL;
	}
	if (mt_transport_info(ctx->ses, &info, &t.err)) {
		mt_transport_print_error(&t.err);
		return MT_EXIT_FAIL;
	}
	t.cached = info.features & MEMTRACE_FEAT_CACHED;
	t.page_kb = info.page_size / 1024;
	if (!t.page_kb)
		t.page_kb = 4;
	if (t.sort == COL_CACHED && !t.cached)
		return mt_bad_usage("top", "--sort cached: the module cannot count cached pages");
	t.screen = ctx->out->human && isatty(STDOUT_FILENO);
	if (!t.screen && !t.count)
		t.count = 1;	/* off a terminal: one table, unless asked */
	t.columns = ctx->columns;
	t.rows = 24;
	ret = loop(ctx, &t);
	free(t.p);
	return ret;
}

static const struct mt_opt top_opts[] = {
	{ .name = "sort",
	  .shrt = 's',
	  .val = 's',
	  .arg = " COL",
	  .help = "pid, comm (ascending), present (default), zero, swap,\n"
		  "cached, none, thp (descending)",
	  .words = "pid comm present zero swap cached none thp" },
	{ .name = "interval",
	  .shrt = 'n',
	  .val = 'n',
	  .arg = " SECONDS",
	  .help = "between frames on a terminal, 0.1 to 86400 (default 2)" },
	{ .name = "count",
	  .val = 'c',
	  .arg = " N",
	  .help = "stop after N frames (default: until q on a terminal,\n"
		  "else 1)" },
	{ .name = NULL }
};

const struct mt_command mt_cmd_top = {
	"top", "", "every process you may query: present, zero, swap, cached, none kB, THP",
	top_opts, top_run
};
