// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace watch PID RANGE: the picture of RANGE redrawn as it changes,
 * with the counts per state, VmRSS and smaps' Rss, the pages that changed
 * since the last frame, and the lines of maps that appear or go away.
 *
 * One query a frame over the one session of the command (one netlink
 * socket, or one proc answer parser, for the whole watch). What a frame
 * keeps is bounded by the cells shown, never by the range: the records are
 * streamed into a histogram of states per cell (a cell is a page, or scale
 * pages when the range is larger than the screen) and the pages that
 * changed are counted from two such histograms.
 *
 * The loop, the terminal and the signals are watch_loop.c's; the printing
 * out_watch.c's.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "watch.h"

struct watch_opts {
	double interval;
	uint64_t count;
	bool until_exit;
	struct mt_select sel;
};

/* SECONDS: a decimal number from 0.1 to 86400 ("0.5", "2"), as watch(1)'s -n */
static int parse_interval(const char *arg, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < 0.1 || v > 86400 ||
	    strspn(arg, "0123456789.") != strlen(arg))
		return mt_bad_usage("watch", "--interval: seconds from 0.1 to 86400, not '%s'",
				    arg);
	*out = v;
	return 0;
}

static int watch_opt(void *state, int val, const char *arg)
{
	struct watch_opts *o = state;
	uint64_t n;

	switch (val) {
	case 'n':
		return parse_interval(arg, &o->interval);
	case 'c':
		if (mt_parse_u64(arg, strlen(arg), &n) || !n)
			return mt_bad_usage("watch", "--count: a number of frames, 1 or more, "
					    "not '%s'", arg);
		o->count = n;
		return 0;
	case 'x':
		o->until_exit = true;
		return 0;
	}
	return mt_select_opt("watch", &o->sel, val, arg);
}

/*
 * The cells: as many a row as fit the columns after the label, as many
 * rows as the screen leaves to the picture (64 off a terminal, as query's
 * picture), and as many pages a cell as keep the range to those. The
 * histograms of the last frame stay comparable while the scale does.
 */
void mt_watch_fit(struct mt_watch *w)
{
	unsigned int chrome = w->screen ? mt_watch_chrome(w) : 0;
	unsigned int rows = w->screen ? (w->rows > chrome ? w->rows - chrome : 1)
				      : MT_PICTURE_ROWS;
	uint64_t per_screen, scale;
	size_t n;

	w->width = w->columns > MT_PICTURE_LABEL + MT_PICTURE_MIN ?
		   w->columns - MT_PICTURE_LABEL : MT_PICTURE_MIN;
	per_screen = (uint64_t)w->width * rows;
	scale = w->pages > per_screen ? (w->pages - 1) / per_screen + 1 : 1;
	n = w->pages ? (size_t)((w->pages - 1) / scale + 1) : 0;
	if (w->cell && scale == w->scale && n == w->ncells)
		return;
	free(w->cell);
	free(w->prev);
	free(w->huge);
	w->scale = scale;
	w->ncells = n;
	w->cell = mt_xmalloc((n ? n : 1) * sizeof(*w->cell));
	w->prev = mt_xmalloc((n ? n : 1) * sizeof(*w->prev));
	w->huge = mt_xmalloc((n ? n : 1) * sizeof(*w->huge));
	w->have_prev = false;
}

/* A record into the cells it covers: at most one step a cell. */
static int watch_cb(const struct mt_header *h, const struct mt_record *r, void *arg)
{
	struct mt_watch *w = arg;
	int s = (unsigned int)r->state < MEMTRACE_NSTATES ? r->state : MEMTRACE_OTHER;
	bool huge = s == MEMTRACE_PRESENT && (r->flags & MEMTRACE_F_SIZE_MASK);
	uint64_t p, left = r->pages;

	(void)h;
	if (r->addr < w->start)
		return 0;
	w->count_now[s] += r->pages;
	if (w->show_totals && mt_filter_match(&w->sel->filter, s, r->flags))
		mt_totals_add(&w->totals, r, r->pages);
	for (p = (r->addr - w->start) / w->page_size; left; ) {
		size_t c = (size_t)(p / w->scale);
		uint64_t n = (c + 1) * w->scale - p;

		if (c >= w->ncells)
			break;
		if (n > left)
			n = left;
		w->cell[c][s] += n;
		w->huge[c] |= huge;
		p += n;
		left -= n;
	}
	return 0;
}

/* RANGE all: the answer's header says where the address space ends. */
static int all_cb(const struct mt_header *h, const struct mt_record *r, void *arg)
{
	struct mt_watch *w = arg;

	(void)r;
	w->start = h->start;
	w->end = h->end;
	return 0;
}

/* Pages that changed state: what each cell's states gained since the last frame */
static uint64_t changed_pages(const struct mt_watch *w)
{
	uint64_t n = 0;

	for (size_t c = 0; c < w->ncells; c++)
		for (int s = 0; s < MEMTRACE_NSTATES; s++)
			if (w->cell[c][s] > w->prev[c][s])
				n += w->cell[c][s] - w->prev[c][s];
	return n;
}

/*
 * VmRSS (a counter the kernel updates lazily) and smaps_rollup's Rss
 * (counted). false when status has no VmRSS: the process let its memory go,
 * it is exiting.
 */
static bool read_rss(struct mt_watch *w)
{
	long rss = -1, srss = -1;
	char path[64], *buf;

	snprintf(path, sizeof(path), "/proc/%ld/status", w->pid);
	if (!mt_read_file(path, &buf, NULL)) {
		rss = mt_proc_kb(buf, "\nVmRSS:");
		free(buf);
		if (rss < 0)
			return false;
	}
	snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", w->pid);
	if (!mt_read_file(path, &buf, NULL)) {
		srss = mt_proc_kb(buf, "\nRss:");
		free(buf);
	}
	w->prev_rss_kb = w->rss_kb;
	w->prev_srss_kb = w->srss_kb;
	w->rss_kb = rss;
	w->srss_kb = srss;
	return true;
}

static bool overlaps(const struct mt_watch *w, const struct mt_map *m)
{
	return m->start < w->end && m->end > w->start;
}

static void event_of(struct mt_watch *w, struct mt_watch_event *e, int kind,
		     const struct mt_map *m)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->frame = w->frame + (w->exited ? 0 : 1);	/* the frame being taken */
	e->elapsed = w->elapsed;
	e->when = w->when;
	if (!m)
		return;
	e->start = m->start;
	e->end = m->end;
	e->offset = m->offset;
	memcpy(e->perms, m->perms, sizeof(e->perms));
	snprintf(e->name, sizeof(e->name), "%s", m->name);
}

/* Keep e for the screen, and print it as a line off the screen. */
static void event_add(const struct mt_ctx *ctx, struct mt_watch *w,
		      const struct mt_watch_event *e)
{
	if (w->nev == MT_WATCH_EVENTS)
		memmove(w->ev, w->ev + 1, (MT_WATCH_EVENTS - 1) * sizeof(*w->ev));
	else
		w->nev++;
	w->ev[w->nev - 1] = *e;
	if (!w->screen)
		mt_watch_printer(ctx->out)->event(w, e);
}

/* Line i of maps over the range, at or after *k; NULL past the last. */
static const struct mt_map *next_line(const struct mt_watch *w, const struct mt_maps *m,
				      size_t *k)
{
	while (*k < m->n && !overlaps(w, &m->v[*k]))
		(*k)++;
	return *k < m->n ? &m->v[*k] : NULL;
}

/* The lines of maps over the range that appeared, went or changed (by start). */
static void maps_events(const struct mt_ctx *ctx, struct mt_watch *w,
			const struct mt_maps *now)
{
	const struct mt_maps *was = &w->maps;
	size_t i = 0, j = 0;
	const struct mt_map *a, *b;
	struct mt_watch_event e;

	while ((a = next_line(w, was, &i)), (b = next_line(w, now, &j)), a || b) {
		if (a && (!b || a->start < b->start)) {
			event_of(w, &e, MT_WATCH_UNMAPPED, a);
			i++;
		} else if (b && (!a || b->start < a->start)) {
			event_of(w, &e, MT_WATCH_MAPPED, b);
			j++;
		} else {
			i++;
			j++;
			if (a->end == b->end && !strcmp(a->perms, b->perms) &&
			    a->offset == b->offset && !strcmp(a->name, b->name))
				continue;
			event_of(w, &e, MT_WATCH_REMAPPED, b);
			e.old_end = a->end;
			memcpy(e.old_perms, a->perms, sizeof(e.old_perms));
		}
		event_add(ctx, w, &e);
	}
}

/* The lines of maps now: events against the last frame's. -errno if unread. */
static int read_maps(const struct mt_ctx *ctx, struct mt_watch *w)
{
	struct mt_maps now;
	int ret = mt_maps_read(w->pid, &now);

	if (ret)
		return ret;
	if (w->have_maps)
		maps_events(ctx, w, &now);
	mt_maps_free(&w->maps);
	w->maps = now;
	w->have_maps = true;
	return 0;
}

/* The query of one frame; 0, or MT_EXIT_FAIL with the error in ctx->ses->err. */
static int query(const struct mt_ctx *ctx, struct mt_watch *w)
{
	struct mt_query q = { .pid = w->pid, .start = w->start, .end = w->end,
			      .mode = MEMTRACE_MODE_RUNS };
	struct mt_error *err = &ctx->ses->err;
	struct mt_header h;
	struct mt_summary sum;
	int ret;

	memset(err, 0, sizeof(*err));
	if (w->all && !w->end) {
		q.all = true;
		ret = ctx->tp->query(ctx->ses, &q, all_cb, w, &h, &sum, err);
		if (ret < 0)
			return MT_EXIT_FAIL;
		w->pages = (w->end - w->start) / w->page_size;
		mt_watch_fit(w);
		q = (struct mt_query){ .pid = w->pid, .start = w->start, .end = w->end,
				       .mode = MEMTRACE_MODE_RUNS };
	}
	memset(w->cell, 0, w->ncells * sizeof(*w->cell));
	memset(w->huge, 0, w->ncells * sizeof(*w->huge));
	memset(w->count_now, 0, sizeof(w->count_now));
	memset(&w->totals, 0, sizeof(w->totals));
	ret = ctx->tp->query(ctx->ses, &q, watch_cb, w, &h, &sum, err);
	if (!ret && h.page_size != w->page_size) {
		snprintf(err->msg, sizeof(err->msg), "the answer's page size is %u, this "
			 "system's %u", h.page_size, w->page_size);
		ret = -EPROTO;
	}
	return ret < 0 ? MT_EXIT_FAIL : 0;
}

/*
 * One frame: maps (its events), the query, the sizes. 0, MT_WATCH_GONE when
 * the process exited (before the query or during it: a frame of a process
 * that is going is not shown), or MT_EXIT_FAIL with the error in
 * ctx->ses->err.
 */
/*
 * The process is gone: the picture stays the last frame's (which
 * mt_watch_keep() moved to prev), not what the query saw of it going.
 */
static int gone(struct mt_watch *w)
{
	if (w->have_prev)
		memcpy(w->cell, w->prev, w->ncells * sizeof(*w->cell));
	return MT_WATCH_GONE;
}

int mt_watch_sample(const struct mt_ctx *ctx, struct mt_watch *w)
{
	int ret;

	if (mt_watch_gone(w))
		return gone(w);
	ret = read_maps(ctx, w);
	if (ret == -ENOENT || ret == -ESRCH)
		return gone(w);
	if (ret) {
		snprintf(ctx->ses->err.msg, sizeof(ctx->ses->err.msg), "/proc/%ld/maps: %s",
			 w->pid, strerror(-ret));
		return MT_EXIT_FAIL;
	}
	memcpy(w->count_prev, w->count_now, sizeof(w->count_now));
	ret = query(ctx, w);
	if (mt_watch_gone(w) || (!ret && !read_rss(w))) {
		/* what the query saw of an address space going is not shown */
		if (w->have_prev)
			memcpy(w->count_now, w->count_prev, sizeof(w->count_now));
		return gone(w);
	}
	if (ret)
		return ret;
	w->changed = w->have_prev ? changed_pages(w) : 0;
	return 0;
}

/* The process exited: an event (a line off the screen, the screen's banner) */
void mt_watch_exited(const struct mt_ctx *ctx, struct mt_watch *w)
{
	struct mt_watch_event e;

	gone(w);	/* the picture: the last frame shown */
	w->exited = true;
	event_of(w, &e, MT_WATCH_EXITED, NULL);
	event_add(ctx, w, &e);
}

/* The frame is shown: it is the one the next is compared with. */
void mt_watch_keep(struct mt_watch *w)
{
	uint64_t (*t)[MEMTRACE_NSTATES] = w->prev;

	w->prev = w->cell;
	w->cell = t;
	w->have_prev = true;
}

static int watch_run(struct mt_ctx *ctx, int argc, char **argv)
{
	struct watch_opts o = { .interval = 1.0 };
	struct mt_watch w = { .rss_kb = -1, .srss_kb = -1 };
	struct mt_span *spans;
	size_t n;
	int ret;

	ret = mt_parse_opts(ctx, &mt_cmd_watch, argc, argv, watch_opt, &o);
	if (ret != MT_GO)
		return ret;
	w.sel = &o.sel;
	w.show_totals = mt_select_totals(&o.sel, &w.totals) != NULL;
	w.fixed_width = ctx->columns != 0;
	mt_ctx_finish(ctx);
	ret = mt_pid_range_args("watch", argc - optind, argv + optind, false, &w.pid, &spans,
				&n, NULL);
	if (ret)
		return ret;
	w.page_size = (unsigned int)sysconf(_SC_PAGESIZE);
	w.all = spans[0].all;
	w.start = spans[0].start & ~(uint64_t)(w.page_size - 1);
	w.end = w.all ? 0 : (spans[0].end + w.page_size - 1) & ~(uint64_t)(w.page_size - 1);
	w.pages = (w.end - w.start) / w.page_size;
	free(spans);
	w.interval = o.interval;
	w.count = o.count;
	w.until_exit = o.until_exit;
	w.color = ctx->color;
	w.columns = ctx->columns;
	w.rows = MT_PICTURE_ROWS;
	w.screen = ctx->out->human && isatty(STDOUT_FILENO);
	ret = mt_watch_loop(ctx, &w);
	free(w.cell);
	free(w.prev);
	free(w.huge);
	mt_maps_free(&w.maps);
	return ret;
}

static const struct mt_opt watch_opts[] = {
	{ .name = "interval",
	  .shrt = 'n',
	  .val = 'n',
	  .arg = " SECONDS",
	  .help = "between frames, 0.1 to 86400, decimals allowed (default 1)" },
	{ .name = "count",
	  .val = 'c',
	  .arg = " N",
	  .help = "stop after N frames (default: until q, a signal or the\n"
		  "process's exit)" },
	MT_SELECT_STATE_OPT,
	MT_SELECT_FLAGS_OPT,
	MT_SELECT_TOTALS_OPT,
	{ .name = "until-exit",
	  .val = 'x',
	  .help = "the process's exit ends the watch, exit status 0\n"
		  "(without it: status 1)" },
	{ .name = NULL }
};

const struct mt_command mt_cmd_watch = {
	"watch", "PID RANGE", "the picture of RANGE redrawn as it changes, with counts and RSS",
	watch_opts, watch_run
};
