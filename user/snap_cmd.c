// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace snapshot PID RANGE [-o FILE]: one query's answer, with the
 * process's maps and Rss at that instant, as JSON (snapshot.c).
 * memtrace diff A B: what changed between two snapshots (diff.c), and
 * memtrace query PID RANGE --since FILE: between a snapshot and now.
 * Exit status as diff(1)'s: 0 nothing changed, 1 something did (or a
 * failure, said on stderr), 2 bad usage.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "transport.h"

/* A snapshot of PID's span now: maps, then the query, then Rss. */
static int take(const struct mt_ctx *ctx, long pid, const struct mt_span *sp,
		const char *range, int mode, struct mt_snap *s)
{
	struct mt_query q = { .pid = pid, .all = sp->all, .start = sp->start, .end = sp->end,
			      .mode = mode };
	time_t now = time(NULL);
	int ret;

	memset(s, 0, sizeof(*s));
	strftime(s->time, sizeof(s->time), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	s->range = mt_xstrdup(range);
	ret = mt_maps_read(pid, &s->maps);
	if (ret)
		return mt_proc_fail(pid, "maps", ret);
	ret = mt_run_query(ctx, &q, mt_snap_add, s, &s->hdr, &s->sum);
	s->rss_kb = mt_smaps_rss_kb(pid);
	return ret;
}

/* Print the diff of a and b; 0 if nothing changed, 1 if something did. */
static int show_diff(const struct mt_ctx *ctx, struct mt_diff *d, bool totals)
{
	d->totals = totals;
	mt_diff_run(d, ctx->out->diff, NULL);
	return d->changed || d->maps_added || d->maps_removed ? MT_EXIT_FAIL : MT_EXIT_OK;
}

static int read_snap(const char *path, struct mt_snap *s)
{
	char err[MT_ERR_MAX + 64];

	if (!mt_snap_read(path, s, err, sizeof(err)))
		return 0;
	mt_err("%s", err);
	return MT_EXIT_FAIL;
}

/* query --since FILE: the snapshot FILE against PID's span now */
int mt_since(const struct mt_ctx *ctx, const char *file, long pid, const char *range,
	     const struct mt_span *sp, const struct mt_select *sel)
{
	struct mt_snap a, b;
	struct mt_diff d;
	char err[MT_ERR_MAX];
	int ret = read_snap(file, &a);

	if (ret)
		return ret;
	ret = take(ctx, pid, sp, range, a.hdr.mode, &b);
	if (!ret && mt_diff_init(&d, &a, &b, err, sizeof(err))) {
		mt_err("%s and pid %ld now: %s", file, pid, err);
		ret = MT_EXIT_FAIL;
	} else if (!ret) {
		d.name_a = file;
		d.name_b = "now";	/* its pid follows */
		d.filter = &sel->filter;
		ret = show_diff(ctx, &d, sel->totals);
	}
	mt_snap_free(&a);
	mt_snap_free(&b);
	return ret;
}

/* ---- snapshot ---- */

struct snapshot_opts {
	const char *output;
	int mode;
};

static int snapshot_opt(void *state, int val, const char *arg)
{
	struct snapshot_opts *o = state;

	if (val == 'o')
		o->output = arg;
	else if (val == 'P' || val == 'r')
		o->mode = val == 'P' ? MEMTRACE_MODE_PAGES : MEMTRACE_MODE_RUNS;
	else
		return MT_EXIT_USAGE;
	return 0;
}

/* The snapshot to FILE, or standard output ("-" or no -o) */
static int write_snap(const char *path, const struct mt_snap *s)
{
	bool out = !path || !strcmp(path, "-");
	FILE *f = out ? stdout : fopen(path, "w");
	int ret = 0;

	if (!f) {
		mt_err("%s: %s", path, strerror(errno));
		return MT_EXIT_FAIL;
	}
	mt_snap_write(f, s);
	if (out)
		return 0;	/* close_stdout() checks it */
	if (ferror(f))
		ret = EIO;
	if (fclose(f) && !ret)
		ret = errno;
	if (ret) {
		mt_err("%s: write error: %s", path, strerror(ret));
		return MT_EXIT_FAIL;
	}
	return 0;
}

static int snapshot_run(struct mt_ctx *ctx, int argc, char **argv)
{
	struct snapshot_opts o = { .mode = MEMTRACE_MODE_RUNS };
	struct mt_span *spans;
	struct mt_snap s;
	size_t n;
	long pid;
	int ret;

	ret = mt_parse_opts(ctx, &mt_cmd_snapshot, argc, argv, snapshot_opt, &o);
	if (ret != MT_GO)
		return ret;
	mt_ctx_finish(ctx);
	if (ctx->out == &mt_out_tsv)
		return mt_bad_usage("snapshot", "a snapshot is JSON: --tsv does not apply");
	ret = mt_pid_range_args("snapshot", argc - optind, argv + optind, false, &pid, &spans,
				&n, NULL);
	if (ret)
		return ret;
	ret = take(ctx, pid, &spans[0], argv[optind + 1], o.mode, &s);
	if (!ret)
		ret = write_snap(o.output, &s);
	mt_snap_free(&s);
	free(spans);
	return ret;
}

static const struct mt_opt snapshot_opts[] = {
	{ .name = "output",
	  .shrt = 'o',
	  .val = 'o',
	  .arg = " FILE",
	  .help = "write the snapshot to FILE (default: standard output)" },
	{ .name = "pages",
	  .shrt = 'P',
	  .val = 'P',
	  .help = "one record per page (each page's frame)" },
	{ .name = "runs", .shrt = 'r', .val = 'r', .help = "merge equal adjacent pages (default)" },
	{ .name = NULL }
};

const struct mt_command mt_cmd_snapshot = {
	"snapshot", "PID RANGE", "save RANGE's pages, maps and Rss of process PID as JSON",
	snapshot_opts, snapshot_run
};

/* ---- diff ---- */

static int diff_opt(void *state, int val, const char *arg)
{
	return mt_select_opt("diff", state, val, arg);
}

static int diff_run(struct mt_ctx *ctx, int argc, char **argv)
{
	struct mt_select sel = { 0 };
	struct mt_snap a, b;
	struct mt_diff d;
	char err[MT_ERR_MAX];
	int ret;

	ret = mt_parse_opts(ctx, &mt_cmd_diff, argc, argv, diff_opt, &sel);
	if (ret != MT_GO)
		return ret;
	mt_ctx_finish(ctx);
	argc -= optind;
	argv += optind;
	if (argc != 2)
		return mt_bad_usage("diff", argc < 2 ? "expected two snapshots, A and B" :
				    "too many arguments");
	if (read_snap(argv[0], &a))
		return MT_EXIT_FAIL;
	ret = read_snap(argv[1], &b);
	if (!ret && mt_diff_init(&d, &a, &b, err, sizeof(err))) {
		mt_err("%s and %s: %s", argv[0], argv[1], err);
		ret = MT_EXIT_FAIL;
	} else if (!ret) {
		d.name_a = argv[0];
		d.name_b = argv[1];
		d.filter = &sel.filter;
		ret = show_diff(ctx, &d, sel.totals);
	}
	mt_snap_free(&a);
	mt_snap_free(&b);
	return ret;
}

static const struct mt_opt diff_opts[] = {
	MT_SELECT_STATE_OPT,
	MT_SELECT_FLAGS_OPT,
	MT_SELECT_TOTALS_OPT,
	{ .name = NULL }
};

const struct mt_command mt_cmd_diff = {
	"diff", "A B", "the pages and maps lines that changed between snapshots A and B",
	diff_opts, diff_run
};
