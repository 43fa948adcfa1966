// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace: how Linux backs a process's virtual memory, page by page.
 * A table of subcommands, one file each, like wg(8) and iw(8).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport.h"

struct mt_subcommand {
	const char *name;
	int (*fn)(struct mt_ctx *ctx, int argc, char **argv);
	const char *args;
	const char *summary;
	const char *options;
};

static const struct mt_subcommand subcommands[] = {
	{ "demo", mt_cmd_demo, "[--pages N] [--pattern P] [--thp] [--pause]",
	  "map anonymous memory, touch it stage by stage, and watch RSS, maps and every page",
	  "  -n, --pages N         size of the region in pages (default 16)\n"
	  "  -p, --pattern P       pages written at the pattern stage: a string of 1/0\n"
	  "                        repeated over the region (1010...), or even, odd, all\n"
	  "                        (default: even, i.e. every other page)\n"
	  "      --thp             a 2 MiB aligned region with MADV_HUGEPAGE\n"
	  "                        (default: MADV_NOHUGEPAGE)\n"
	  "      --pause           stop at each stage with the commands to look by hand\n" },
	{ "query", mt_cmd_query, "PID RANGE",
	  "the state of every page of RANGE in process PID",
	  "  -r, --runs            merge equal adjacent pages (default)\n"
	  "  -P, --pages           one record per page\n"
	  "  -e, --each            a mapping name: one query per line of maps, not the span\n"
	  "      --picture         draw the page map even when not on a tty\n"
	  "      --no-picture      never draw it\n" },
	{ "verify", mt_cmd_verify, "PID RANGE",
	  "cross-check the module against /proc/PID/pagemap, page by page",
	  "      --no-pfn          do not compare frame numbers\n"
	  "  -e, --each            a mapping name: one query per line of maps\n" },
	{ "maps", mt_cmd_maps, "PID",
	  "every mapping with its pages present, zero, swap and none, and smaps' Rss",
	  "" },
	{ "info", mt_cmd_info, "",
	  "what the module says about itself (GET_INFO), and the transport in use",
	  "" },
};

#define NCMDS (sizeof(subcommands) / sizeof(subcommands[0]))

static const char range_help[] =
	"RANGE is START-END, START+LEN (LEN may end in K, M, G), all, or the name\n"
	"of a mapping in /proc/PID/maps ([heap], [stack], a path or its base name:\n"
	"the span from its first to its last line). Numbers are decimal or 0x hex.\n";

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s [--transport=proc|netlink] [--json|--tsv] COMMAND [ARGS]\n"
		"       %s help [COMMAND] | --help | --version\n\nCommands:\n",
		mt_prog, mt_prog);
	for (size_t i = 0; i < NCMDS; i++)
		fprintf(f, "  %-7s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f, "\nRun `%s help COMMAND` for its options. Exit status: 0 ok, "
		"1 failure or disagreement, 2 usage.\n"
		"The transport is netlink when the module's generic netlink family resolves,\n"
		"else proc (/proc/memtrace); --transport chooses.\n"
		"Environment: MEMTRACE_PROC (default /proc/memtrace), NO_COLOR, and for tests\n"
		"MEMTRACE_FAKE_ANSWER=FILE (see memtrace(1)); either selects proc by default.\n",
		mt_prog);
}

static const struct mt_subcommand *find_cmd(const char *name)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (!strcmp(subcommands[i].name, name))
			return &subcommands[i];
	return NULL;
}

void mt_usage_of(const char *cmd, FILE *f)
{
	const struct mt_subcommand *c = find_cmd(cmd);

	if (!c) {
		usage(f);
		return;
	}
	fprintf(f, "Usage: %s %s [OPTIONS] %s\n%s.\n\nOptions:\n%s" MT_COMMON_OPTS_HELP,
		mt_prog, c->name, c->args, c->summary, c->options);
	if (strstr(c->args, "RANGE"))
		fprintf(f, "\n%s", range_help);
}

int mt_bad_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", mt_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (cmd)
		fprintf(stderr, "Usage: %s %s [OPTIONS] %s (see `%s help %s`)\n", mt_prog, cmd,
			find_cmd(cmd) ? find_cmd(cmd)->args : "", mt_prog, cmd);
	else
		fprintf(stderr, "Try `%s --help`.\n", mt_prog);
	return MT_EXIT_USAGE;
}

static int color_mode = -1;	/* -1 auto, 0 never, 1 always */

/* Options every subcommand takes (and main takes before the command). */
int mt_common_opt(struct mt_ctx *ctx, int opt, const char *arg)
{
	bool avail;

	switch (opt) {
	case 'j':
		ctx->format = MT_FMT_JSON;
		return 0;
	case 't':
		ctx->format = MT_FMT_TSV;
		return 0;
	case MT_OPT_COLOR:
		if (!strcmp(arg, "auto"))
			color_mode = -1;
		else if (!strcmp(arg, "always"))
			color_mode = 1;
		else if (!strcmp(arg, "never"))
			color_mode = 0;
		else
			return mt_bad_usage(NULL, "--color: auto, always or never, not '%s'", arg);
		return 0;
	case MT_OPT_TRANSPORT:
		ctx->tp = mt_transport_get(arg, &avail);
		if (!ctx->tp && avail == false && !strcmp(arg, "netlink")) {
			mt_err("the netlink transport is not built into this memtrace");
			return MT_EXIT_FAIL;
		}
		if (!ctx->tp)
			return mt_bad_usage(NULL, "unknown transport '%s' (proc, netlink)", arg);
		return 0;
	}
	return MT_EXIT_USAGE;
}

void mt_ctx_finish(struct mt_ctx *ctx)
{
	const char *nc = getenv("NO_COLOR");

	if (color_mode >= 0)
		ctx->color = color_mode == 1;
	else
		ctx->color = ctx->format == MT_FMT_HUMAN && isatty(STDOUT_FILENO) &&
			     !(nc && *nc);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		MT_COMMON_LONGOPTS,
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct mt_ctx ctx = { .tp = &mt_transport_auto, .format = MT_FMT_HUMAN };
	const struct mt_subcommand *cmd;
	int opt, ret;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+" MT_COMMON_SHORTOPTS "V", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			usage(stdout);
			return MT_EXIT_OK;
		case 'V':
			printf("memtrace %s\n", MEMTRACE_VERSION);
			return MT_EXIT_OK;
		case '?':
			return mt_bad_usage(NULL, "unknown option '%s'", argv[optind - 1]);
		default:
			ret = mt_common_opt(&ctx, opt, optarg);
			if (ret)
				return ret;
		}
	}
	if (optind >= argc)
		return mt_bad_usage(NULL, "no command");
	if (!strcmp(argv[optind], "help")) {
		if (optind + 1 < argc && !find_cmd(argv[optind + 1]))
			return mt_bad_usage(NULL, "no such command '%s'", argv[optind + 1]);
		if (optind + 1 < argc)
			mt_usage_of(argv[optind + 1], stdout);
		else
			usage(stdout);
		return MT_EXIT_OK;
	}
	if (!strcmp(argv[optind], "version")) {
		printf("memtrace %s\n", MEMTRACE_VERSION);
		return MT_EXIT_OK;
	}
	cmd = find_cmd(argv[optind]);
	if (!cmd)
		return mt_bad_usage(NULL, "no such command '%s'", argv[optind]);
	argc -= optind;
	argv += optind;
	optind = 0;	/* re-initialise getopt for the subcommand */
	ret = cmd->fn(&ctx, argc, argv);
	mt_transport_cleanup();
	if (fflush(stdout) || ferror(stdout)) {
		mt_err("writing the output: %s", strerror(errno));
		return MT_EXIT_FAIL;
	}
	return ret;
}
