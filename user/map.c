// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace map PID [RANGE] --svg FILE | --html FILE: a heat map of the
 * process, for slides and for address spaces too large for a terminal. One
 * band per line of /proc/PID/maps, pages coloured by state; one "all" (or
 * RANGE) query in runs mode is split along the bands. The cells are
 * bounded: a large mapping's cells are each a power of two pages, coloured
 * by their main state, and its band says so (map_draw.c draws it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "map.h"
#include "output.h"
#include "transport.h"

#define OPT_SVG	 1200
#define OPT_HTML 1201

/* Every user address space ends below this ([vsyscall] lies above it). */
#define USER_TOP (sizeof(long) == 8 ? 1ULL << 63 : 1ULL << 32)

struct map_opts {
	const char *svg, *html;	/* "-": stdout */
};

static int map_opt(void *state, int val, const char *arg)
{
	struct map_opts *o = state;

	if (val == OPT_SVG)
		o->svg = arg;
	else if (val == OPT_HTML)
		o->html = arg;
	else
		return MT_EXIT_USAGE;
	return 0;
}

int mt_map_cell_state(const struct mt_map_cell *c, uint64_t *pages)
{
	uint64_t total = 0;
	int best = 0;

	for (int s = 0; s < MEMTRACE_NSTATES; s++) {
		total += c->count[s];
		if (c->count[s] >= c->count[best])	/* a tie: the later (rarer) state */
			best = s;
	}
	if (pages)
		*pages = total;
	return best;
}

/* Pages a cell: a power of two, for a band of that many pages in so many rows */
static uint64_t band_scale(uint64_t pages, unsigned int rows)
{
	uint64_t max = (uint64_t)rows * MT_MAP_COLS, scale = 1;

	while ((pages - 1) / scale + 1 > max)
		scale *= 2;
	return scale;
}

/* A band for each line of maps that [start, end) overlaps, below USER_TOP. */
static int bands_make(struct mt_map_pic *p, const struct mt_maps *maps,
		      const struct mt_span *sp)
{
	uint64_t lo = sp->all ? 0 : sp->start, hi = sp->all ? USER_TOP : sp->end;
	unsigned int rows;

	p->bands = calloc(maps->n ? maps->n : 1, sizeof(*p->bands));
	if (!p->bands)
		return -ENOMEM;
	for (size_t i = 0; i < maps->n; i++) {
		const struct mt_map *v = &maps->v[i];
		uint64_t s = v->start > lo ? v->start : lo, e = v->end < hi ? v->end : hi;

		if (s < e && e <= USER_TOP)
			p->bands[p->nbands++] = (struct mt_map_band){ .map = v, .start = s,
								      .end = e };
	}
	rows = p->nbands ? MT_MAP_CELLS / MT_MAP_COLS / p->nbands : 1;
	rows = rows < 1 ? 1 : rows > MT_MAP_ROWS ? MT_MAP_ROWS : rows;
	for (size_t i = 0; i < p->nbands; i++) {
		struct mt_map_band *b = &p->bands[i];
		uint64_t pages = (b->end - b->start) / p->page_size;

		b->scale = band_scale(pages, rows);
		b->ncells = (pages - 1) / b->scale + 1;
		b->cells = calloc(b->ncells, sizeof(*b->cells));
		if (!b->cells)
			return -ENOMEM;
	}
	return 0;
}

static void bands_free(struct mt_map_pic *p)
{
	for (size_t i = 0; i < p->nbands; i++)
		free(p->bands[i].cells);
	free(p->bands);
}

/* Count pages [a, b) of band b in state r->state, cell by cell. */
static void band_add(struct mt_map_pic *p, struct mt_map_band *b, uint64_t a, uint64_t e,
		     const struct mt_record *r)
{
	int s = (unsigned int)r->state < MEMTRACE_NSTATES ? r->state : MEMTRACE_OTHER;
	uint64_t span = b->scale * p->page_size;

	while (a < e) {
		size_t i = (a - b->start) / span;
		uint64_t cend = b->start + (i + 1) * span;
		uint64_t n = ((cend < e ? cend : e) - a) / p->page_size;
		struct mt_map_cell *c = &b->cells[i];

		c->count[s] += n;
		b->count[s] += n;
		p->count[s] += n;
		if (s == MEMTRACE_PRESENT) {
			c->flags_mixed |= c->has_present && c->flags != r->flags;
			c->flags = r->flags;
			c->has_present = true;
			c->huge |= !!(r->flags & MEMTRACE_F_SIZE_MASK);
		}
		a += n * p->page_size;
	}
}

struct map_state {
	struct mt_map_pic *pic;
	size_t idx;		/* the band the last record reached */
};

static int map_cb(const struct mt_header *h, const struct mt_record *r, void *arg)
{
	struct map_state *m = arg;
	struct mt_map_pic *p = m->pic;
	uint64_t a = r->addr, end = r->addr + r->pages * h->page_size;

	if (h->page_size != p->page_size) {
		mt_err("the module's page size (%u) is not this system's (%u)", h->page_size,
		       p->page_size);
		return MT_EXIT_FAIL;
	}
	while (a < end) {
		struct mt_map_band *b;

		while (m->idx < p->nbands && p->bands[m->idx].end <= a)
			m->idx++;
		if (m->idx == p->nbands)
			break;
		b = &p->bands[m->idx];
		if (a < b->start) {
			a = b->start;
			continue;
		}
		band_add(p, b, a, b->end < end ? b->end : end, r);
		a = b->end < end ? b->end : end;
	}
	return 0;
}

/* The bands the answer reached: none above its end (the task size). */
static void bands_clip(struct mt_map_pic *p, const struct mt_header *h)
{
	while (p->nbands && p->bands[p->nbands - 1].start >= h->end)
		free(p->bands[--p->nbands].cells);
}

static void read_comm(struct mt_map_pic *p)
{
	char path[64], *buf;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%ld/comm", p->pid);
	if (mt_read_file(path, &buf, &len))
		return;
	len = strcspn(buf, "\n");
	snprintf(p->comm, sizeof(p->comm), "%.*s", (int)len, buf);
	free(buf);
}

/* Write the map to path ("-": stdout) with draw; an exit code. */
static int write_file(const char *path, const struct mt_map_pic *p,
		      void (*draw)(FILE *f, const struct mt_map_pic *p))
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	int bad;

	if (!f) {
		mt_err("cannot write %s: %s", path, strerror(errno));
		return MT_EXIT_FAIL;
	}
	draw(f, p);
	if (f == stdout)
		return MT_EXIT_OK;	/* written, or failed, at exit (close_stdout) */
	bad = ferror(f);
	if (fclose(f) || bad) {
		mt_err("cannot write %s: %s", path, strerror(errno ? errno : EIO));
		return MT_EXIT_FAIL;
	}
	return MT_EXIT_OK;
}

/* PID [RANGE], and the options: an exit code, or MT_GO */
static int map_args(struct mt_ctx *ctx, int argc, char **argv, struct map_opts *o)
{
	int ret = mt_parse_opts(ctx, &mt_cmd_map, argc, argv, map_opt, o);

	if (ret != MT_GO)
		return ret;
	mt_ctx_finish(ctx);
	if (ctx->out != &mt_out_human)
		return mt_bad_usage("map", "map draws SVG or HTML, not --json or --tsv");
	if (!o->svg && !o->html)
		return mt_bad_usage("map", "--svg FILE or --html FILE (- for stdout)");
	if (o->svg && o->html && !strcmp(o->svg, "-") && !strcmp(o->html, "-"))
		return mt_bad_usage("map", "only one of --svg and --html may be -");
	if (argc - optind < 1 || argc - optind > 2)
		return mt_bad_usage("map", argc - optind < 1 ? "expected PID [RANGE]" :
				    "too many arguments");
	return MT_GO;
}

/* Query span sp of pid into p's bands, then draw them: an exit code. */
static int map_draw(struct mt_ctx *ctx, struct mt_map_pic *p, const struct mt_maps *maps,
		    const struct mt_span *sp, const struct map_opts *o)
{
	struct map_state st = { .pic = p };
	struct mt_query q = { .pid = p->pid, .all = sp->all, .start = sp->start,
			      .end = sp->end, .mode = MEMTRACE_MODE_RUNS };
	struct mt_header h;
	int ret;

	if (bands_make(p, maps, sp)) {
		mt_err("out of memory");
		return MT_EXIT_FAIL;
	}
	if (!p->nbands) {
		mt_err("no mapping of process %ld in that range", p->pid);
		return MT_EXIT_FAIL;
	}
	ret = mt_run_query(ctx, &q, map_cb, &st, &h, NULL);
	if (ret)
		return ret;
	bands_clip(p, &h);
	read_comm(p);
	if (o->svg)
		ret = write_file(o->svg, p, mt_map_svg);
	if (o->html && !ret)
		ret = write_file(o->html, p, mt_map_html);
	return ret;
}

static int map_run(struct mt_ctx *ctx, int argc, char **argv)
{
	struct map_opts o = { 0 };
	struct mt_map_pic p = { .page_size = (unsigned int)sysconf(_SC_PAGESIZE) };
	struct mt_maps maps = { 0 };
	struct mt_span *spans = NULL;
	char *pr[2];
	size_t n;
	int ret;

	ret = map_args(ctx, argc, argv, &o);
	if (ret != MT_GO)
		return ret;
	pr[0] = argv[optind];
	pr[1] = argc - optind == 2 ? argv[optind + 1] : "all";
	ret = mt_pid_range_args("map", 2, pr, false, &p.pid, &spans, &n, &maps);
	if (!ret)
		ret = map_draw(ctx, &p, &maps, &spans[0], &o);
	bands_free(&p);
	mt_maps_free(&maps);
	free(spans);
	return ret;
}

static const struct mt_opt map_opts[] = {
	{ .name = "svg", .val = OPT_SVG, .arg = " FILE",
	  .help = "write the map as an SVG image to FILE (- for stdout)" },
	{ .name = "html", .val = OPT_HTML, .arg = " FILE",
	  .help = "write it as one self-contained HTML page: hovering a\n"
		  "cell shows its address, state, flags and mapping" },
	{ .name = NULL }
};

const struct mt_command mt_cmd_map = {
	"map", "PID [RANGE]", "a heat map of the process's mappings, as SVG or HTML",
	map_opts, map_run
};
