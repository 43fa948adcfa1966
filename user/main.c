// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace: how Linux backs a process's virtual memory, page by page.
 * A table of subcommands, one file each, like wg(8) and iw(8) (cmd.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "transport.h"

static int version(void)
{
	printf("memtrace %s\n", MEMTRACE_VERSION);
	return MT_EXIT_OK;
}

/*
 * At exit, as coreutils' close_stdout: output that could not be written (a
 * full disk, /dev/full, a closed stdout) fails the run, whatever printed it.
 */
static void close_stdout(void)
{
	bool failed = ferror(stdout);
	int e;

	errno = 0;
	if (fflush(stdout))
		failed = true;
	else if (!failed && fclose(stdout) && errno != EBADF)
		failed = true;	/* EBADF: closed, and nothing was written to it */
	if (!failed)
		return;
	e = errno;
	fprintf(stderr, "%s: write error on standard output%s%s\n", mt_prog, e ? ": " : "",
		e ? strerror(e) : "");
	_exit(MT_EXIT_FAIL);
}

/* help [COMMAND] */
static int help(int argc, char **argv)
{
	if (argc > 1 && !mt_command_find(argv[1]))
		return mt_bad_usage(NULL, "no such command '%s'", argv[1]);
	if (argc > 1)
		mt_usage_of(argv[1], stdout);
	else
		mt_usage(stdout);
	return MT_EXIT_OK;
}

int main(int argc, char **argv)
{
	const struct mt_opt *const lists[] = { mt_common_opts, mt_main_opts, NULL };
	struct mt_session ses = { 0 };
	struct mt_ctx ctx = { .tp = &mt_transport_auto, .ses = &ses, .out = &mt_out_human,
			      .color_mode = -1 };
	const struct mt_command *cmd;
	struct option lo[MT_OPTS_MAX];
	char so[2 * MT_OPTS_MAX + 3] = "+:";
	int opt, ret;

	atexit(close_stdout);
	mt_getopt_tables(lists, lo, MT_OPTS_MAX, so + 2, sizeof(so) - 2);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		switch (opt) {
		case 'h':
			mt_usage(stdout);
			return MT_EXIT_OK;
		case MT_OPT_VERSION:
			return version();
		case MT_OPT_COMPLETION:
			mt_complete_bash(stdout);
			return MT_EXIT_OK;
		case '?':
		case ':':
			return mt_bad_opt(NULL, opt, argv);
		default:
			ret = mt_common_opt(&ctx, opt, optarg);
			if (ret)
				return ret;
		}
	}
	if (optind >= argc)
		return mt_bad_usage(NULL, "no command");
	argc -= optind;
	argv += optind;
	if (!strcmp(argv[0], "help"))
		return help(argc, argv);
	if (!strcmp(argv[0], "version"))
		return version();
	cmd = mt_command_find(argv[0]);
	if (!cmd)
		return mt_bad_usage(NULL, "no such command '%s'", argv[0]);
	optind = 0;	/* re-initialise getopt for the command */
	ret = cmd->run(&ctx, argc, argv);
	mt_session_close(&ses);
	return ret;	/* then close_stdout() */
}
