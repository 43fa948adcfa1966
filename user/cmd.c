// SPDX-License-Identifier: GPL-2.0
/*
 * The command table: each command's options sit beside its handler (in the
 * command's own file, like iw's COMMAND()); this file holds the list, the
 * options every command takes, the one option parser, and the help that is
 * generated from the table. complete.c generates the bash completion from it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "transport.h"

const struct mt_command *const mt_commands[] = {
	&mt_cmd_demo, &mt_cmd_query, &mt_cmd_file, &mt_cmd_watch, &mt_cmd_snapshot, &mt_cmd_diff,
	&mt_cmd_verify, &mt_cmd_maps, &mt_cmd_map, &mt_cmd_info, NULL
};

/* Options every command takes, and main before the command. */
const struct mt_opt mt_common_opts[] = {
	{ .name = "json", .shrt = 'j', .val = 'j', .help = "JSON output" },
	{ .name = "tsv", .shrt = 't', .val = 't', .help = "tab-separated output with a # header" },
	{ .name = "color",
	  .val = MT_OPT_COLOR,
	  .arg = "=WHEN",
	  .help = "auto (default), always, never (NO_COLOR honoured)",
	  .words = "auto always never" },
	{ .name = "colour", .val = MT_OPT_COLOR, .arg = "=WHEN" },
	{ .name = "transport",
	  .val = MT_OPT_TRANSPORT,
	  .arg = "=NAME",
	  .help = "proc or netlink (default: netlink when the module's\n"
		  "family resolves, else proc)",
	  .words = "proc netlink" },
	{ .name = "width",
	  .val = MT_OPT_WIDTH,
	  .arg = " N",
	  .help = "columns the picture fits (default $COLUMNS, else 80)" },
	{ .name = "help", .shrt = 'h', .val = 'h', .help = "this help" },
	{ .name = NULL }
};

/* Options main takes before the command, beside the common ones. */
const struct mt_opt mt_main_opts[] = {
	{ .name = "version", .shrt = 'V', .val = MT_OPT_VERSION, .help = "the version" },
	/* hidden: prints memtrace.bash-completion, generated from the table */
	{ .name = "bash-completion", .val = MT_OPT_COMPLETION },
	{ .name = NULL }
};

static const char range_help[] =
	"RANGE is START-END, START+LEN (LEN may end in K, M, G), all, or the name\n"
	"of a mapping in /proc/PID/maps ([heap], [stack], a path or its base name:\n"
	"the span from its first to its last line). Numbers are decimal or 0x hex;\n"
	"START-END as maps prints it (7f612eb7d000-7f612eb85000) is hex.\n";

static const char file_range_help[] =
	"\nRANGE is START-END, START+LEN (LEN may end in K, M, G) or all: offsets in\n"
	"the file, decimal or 0x hex, rounded out to pages. Default: the whole file.\n"
	"An END past the end of the file is answered (none there). Needs the netlink\n"
	"transport, and cachestat(2)'s right: owning the file or being allowed to\n"
	"write it.\n";

#define HELP_COL 24	/* where the option's help starts */

static void opts_help(FILE *f, const struct mt_opt *o);

void mt_usage(FILE *f)
{
	fprintf(f, "Usage: %s [--transport=proc|netlink] [--json|--tsv] COMMAND [ARGS]\n"
		"       %s help [COMMAND] | --help | --version\n\nCommands:\n",
		mt_prog, mt_prog);
	for (size_t i = 0; mt_commands[i]; i++)
		fprintf(f, "  %-8s %s\n", mt_commands[i]->name, mt_commands[i]->summary);
	fputs("\nOptions (before the command or after it):\n", f);
	opts_help(f, mt_common_opts);
	opts_help(f, mt_main_opts);
	fprintf(f, "\nRun `%s help COMMAND` for its own options.\n"
		"Exit status: 0 ok, 1 failure or disagreement, 2 usage.\n"
		"The transport is netlink when the module's generic netlink family resolves,\n"
		"else proc (/proc/memtrace); --transport chooses.\n"
		"Environment: MEMTRACE_PROC (default /proc/memtrace), NO_COLOR, and for tests\n"
		"MEMTRACE_FAKE_ANSWER=FILE (see memtrace(1)); either selects proc by default.\n",
		mt_prog);
}

const struct mt_command *mt_command_find(const char *name)
{
	for (size_t i = 0; mt_commands[i]; i++)
		if (!strcmp(mt_commands[i]->name, name))
			return mt_commands[i];
	return NULL;
}

/* "  -n, --pages N         size of ...": continuation lines under the first */
static void opts_help(FILE *f, const struct mt_opt *o)
{
	for (; o->name; o++) {
		char head[64];
		const char *h = o->help;
		int n;

		if (!h)
			continue;	/* an alias */
		n = snprintf(head, sizeof(head), "  %c%c%s--%s%s", o->shrt ? '-' : ' ',
			     o->shrt ? o->shrt : ' ', o->shrt ? ", " : "  ", o->name,
			     o->arg ? o->arg : "");
		fprintf(f, "%s%*s", head, n < HELP_COL ? HELP_COL - n : 1, "");
		while (*h) {
			size_t len = strcspn(h, "\n");

			fprintf(f, "%.*s\n", (int)len, h);
			h += len + (h[len] == '\n');
			if (*h)
				fprintf(f, "%*s", HELP_COL, "");
		}
	}
}

void mt_usage_of(const char *cmd, FILE *f)
{
	const struct mt_command *c = mt_command_find(cmd);

	if (!c) {
		mt_usage(f);
		return;
	}
	fprintf(f, "Usage: %s %s [OPTIONS]%s%s\n%s.\n\nOptions:\n", mt_prog, c->name,
		*c->args ? " " : "", c->args, c->summary);
	opts_help(f, c->opts);
	opts_help(f, mt_common_opts);
	if (strstr(c->args, "PID") && strstr(c->args, "RANGE"))
		fprintf(f, "\n%sQuote names in brackets for the shell: %s %s $$ '[stack]'\n",
			range_help, mt_prog, c->name);
	else if (strstr(c->args, "RANGE"))
		fputs(file_range_help, f);
}

int mt_bad_usage(const char *cmd, const char *fmt, ...)
{
	const struct mt_command *c = cmd ? mt_command_find(cmd) : NULL;
	va_list ap;

	va_start(ap, fmt);
	mt_verr(fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "Usage: %s %s [OPTIONS] %s (see `%s help %s`)\n", mt_prog, cmd,
			c ? c->args : "", mt_prog, cmd);
	else
		fprintf(stderr, "Try `%s --help`.\n", mt_prog);
	return MT_EXIT_USAGE;
}

/* getopt_long's '?' (an unknown option) or ':' (its argument missing). */
int mt_bad_opt(const char *cmd, int opt, char *const argv[])
{
	const char *word = argv[optind - 1];
	char shrt[3] = { '-', (char)optopt, '\0' };

	/* a short option: optind may still point at its cluster, or past it */
	if (strncmp(word, "--", 2) && optopt > 0 && optopt < 128)
		word = shrt;
	if (opt == ':')
		return mt_bad_usage(cmd, "option '%s' needs an argument", word);
	return mt_bad_usage(cmd, "unknown option '%s'", word);
}

/* A number of columns, 1 to 10000; 0 if s is none */
static unsigned int columns_of(const char *s)
{
	char *end;
	unsigned long n;

	if (!s || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	n = strtoul(s, &end, 10);
	return errno || *end || n > 10000 ? 0 : (unsigned int)n;
}

/* Options every command takes (and main takes before the command). */
int mt_common_opt(struct mt_ctx *ctx, int opt, const char *arg)
{
	bool avail;

	switch (opt) {
	case 'j':
		ctx->out = &mt_out_json;
		return 0;
	case 't':
		ctx->out = &mt_out_tsv;
		return 0;
	case MT_OPT_COLOR:
		if (!strcmp(arg, "auto"))
			ctx->color_mode = -1;
		else if (!strcmp(arg, "always"))
			ctx->color_mode = 1;
		else if (!strcmp(arg, "never"))
			ctx->color_mode = 0;
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
	case MT_OPT_WIDTH:
		ctx->columns = columns_of(arg);
		if (!ctx->columns)
			return mt_bad_usage(NULL, "--width: a number of columns, 1 to 10000, "
					    "not '%s'", arg);
		return 0;
	}
	return MT_EXIT_USAGE;
}

int mt_select_opt(const char *cmd, struct mt_select *s, int val, const char *arg)
{
	char err[MT_ERR_MAX];
	int ret;

	switch (val) {
	case MT_OPT_STATE:
		ret = mt_filter_states(&s->filter, arg, err, sizeof(err));
		break;
	case MT_OPT_FLAGS:
		ret = mt_filter_flags(&s->filter, arg, err, sizeof(err));
		break;
	case MT_OPT_TOTALS:
		s->totals = true;
		return 0;
	default:
		return MT_EXIT_USAGE;
	}
	return ret ? mt_bad_usage(cmd, "%s", err) : 0;
}

const struct mt_totals *mt_select_totals(const struct mt_select *s, const struct mt_totals *t)
{
	return s->totals || s->filter.active ? t : NULL;
}

void mt_ctx_finish(struct mt_ctx *ctx)
{
	const char *nc = getenv("NO_COLOR");

	if (ctx->color_mode >= 0)
		ctx->color = ctx->color_mode == 1;
	else
		ctx->color = ctx->out->human && isatty(STDOUT_FILENO) && !(nc && *nc);
	if (!ctx->columns)
		ctx->columns = columns_of(getenv("COLUMNS"));
	if (!ctx->columns)
		ctx->columns = 80;
}

static bool is_common(int val)
{
	for (const struct mt_opt *o = mt_common_opts; o->name; o++)
		if (o->val == val)
			return true;
	return false;
}

/* getopt_long's tables for a list of option tables: the common ones first. */
void mt_getopt_tables(const struct mt_opt *const lists[], struct option *lo, size_t nlo,
		      char *so, size_t nso)
{
	size_t l = 0, s = 0;

	for (size_t i = 0; lists[i]; i++) {
		for (const struct mt_opt *o = lists[i]; o->name && l + 1 < nlo; o++) {
			lo[l++] = (struct option){ o->name, o->arg ? required_argument :
						   no_argument, NULL, o->val };
			if (o->shrt && s + 3 < nso) {
				so[s++] = o->shrt;
				if (o->arg)
					so[s++] = ':';
			}
		}
	}
	lo[l] = (struct option){ NULL, 0, NULL, 0 };
	so[s] = '\0';
}

/*
 * The one option parser of the commands: the command's options go to fn, the
 * common ones to the context; --help prints the command's help. MT_GO with
 * optind at the first operand, or the exit code.
 */
int mt_parse_opts(struct mt_ctx *ctx, const struct mt_command *c, int argc, char **argv,
		  mt_opt_fn fn, void *state)
{
	const struct mt_opt *const lists[] = { mt_common_opts, c->opts, NULL };
	struct option lo[MT_OPTS_MAX];
	char so[2 * MT_OPTS_MAX + 2] = ":";	/* ':': a missing argument is told apart */
	int opt, ret;

	mt_getopt_tables(lists, lo, MT_OPTS_MAX, so + 1, sizeof(so) - 1);
	while ((opt = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (opt == 'h') {
			mt_usage_of(c->name, stdout);
			return MT_EXIT_OK;
		}
		if (opt == '?' || opt == ':')
			return mt_bad_opt(c->name, opt, argv);
		if (is_common(opt))
			ret = mt_common_opt(ctx, opt, optarg);
		else
			ret = fn ? fn(state, opt, optarg) : MT_EXIT_USAGE;
		if (ret)
			return ret;
	}
	return MT_GO;
}
