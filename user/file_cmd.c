// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace file PATH [RANGE]: the page-cache residency of a file, page by
 * page and in runs, with no process (the module's fincore(1)/vmtouch). The
 * file is opened here and its descriptor handed to the module over netlink
 * (MEMTRACE_CMD_FILE): what the caller may open, it may ask about, and the
 * module applies cachestat(2)'s rule on top (uapi/memtrace.h, "Files").
 * The answer prints as query's does: RANGE and addresses are offsets in
 * the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "transport.h"

struct file_opts {
	int mode;
	int picture;		/* -1 on a tty, 0 never, 1 always */
	struct mt_select sel;
};

static int file_opt(void *state, int val, const char *arg)
{
	struct file_opts *o = state;

	switch (val) {
	case 'r': o->mode = MEMTRACE_MODE_RUNS; return 0;
	case 'P': o->mode = MEMTRACE_MODE_PAGES; return 0;
	case 'i': o->picture = 1; return 0;
	case 'I': o->picture = 0; return 0;
	}
	return mt_select_opt("file", &o->sel, val, arg);
}

static int file_run(struct mt_ctx *ctx, int argc, char **argv)
{
	struct file_opts o = { .mode = MEMTRACE_MODE_RUNS, .picture = -1 };
	struct mt_query q = { .all = true, .cached = true };
	char err[MT_ERR_MAX];
	struct mt_range r;
	int ret, fd;

	ret = mt_parse_opts(ctx, &mt_cmd_file, argc, argv, file_opt, &o);
	if (ret != MT_GO)
		return ret;
	mt_ctx_finish(ctx);
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2)
		return mt_bad_usage("file", argc < 1 ? "expected PATH" : "too many arguments");
	if (argc == 2) {
		if (mt_range_parse(argv[1], &r, err, sizeof(err)))
			return mt_bad_usage("file", "%s", err);
		if (r.kind == MT_RANGE_NAME)
			return mt_bad_usage("file", "RANGE of a file is START-END, START+LEN or "
					    "all (offsets in the file), not '%s'", argv[1]);
		if (r.kind != MT_RANGE_ALL) {
			q.all = false;
			q.start = r.start;
			q.end = r.end;
		}
	}
	/* the caller's right to open it; O_NONBLOCK: a FIFO must not wait */
	fd = open(argv[0], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		mt_err("%s: %s", argv[0], strerror(errno));
		return MT_EXIT_FAIL;
	}
	q.pid = fd;
	q.path = argv[0];
	q.mode = o.mode;
	ret = mt_query_print(ctx, &q, o.picture, &o.sel);
	close(fd);
	return ret;
}

static const struct mt_opt file_opts[] = {
	{ .name = "runs", .shrt = 'r', .val = 'r', .help = "merge equal adjacent pages (default)" },
	{ .name = "pages", .shrt = 'P', .val = 'P', .help = "one record per page" },
	{ .name = "picture", .val = 'i', .help = "draw the page map even when not on a tty" },
	{ .name = "no-picture", .val = 'I', .help = "never draw it" },
	MT_SELECT_STATE_OPT,
	MT_SELECT_FLAGS_OPT,
	MT_SELECT_TOTALS_OPT,
	{ .name = NULL }
};

const struct mt_command mt_cmd_file = {
	"file", "PATH [RANGE]",
	"which pages of file PATH are in the page cache (cached, dirty, writeback)",
	file_opts, file_run
};
