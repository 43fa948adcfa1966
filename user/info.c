// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace info: what the module says about itself (generic netlink
 * MEMTRACE_CMD_GET_INFO: version, page size, states, flags, task size) and
 * which transport the other commands use. GET_INFO is asked over netlink
 * whichever transport carries the queries: /proc/memtrace has no counterpart.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "transport.h"

static int info_run(struct mt_ctx *ctx, int argc, char **argv)
{
	const struct mt_transport_ops *tp;
	struct mt_error err;
	struct mt_info info;
	int ret;

	ret = mt_parse_opts(ctx, &mt_cmd_info, argc, argv, NULL, NULL);
	if (ret != MT_GO)
		return ret;
	if (optind < argc)
		return mt_bad_usage("info", "unexpected argument '%s'", argv[optind]);
	mt_ctx_finish(ctx);
	memset(&err, 0, sizeof(err));
	memset(&info, 0, sizeof(info));
	tp = mt_transport_resolve(ctx->ses, ctx->tp);
	ret = mt_transport_info(ctx->ses, &info, &err);
	if (ret) {
		mt_transport_print_error(&err);
		return MT_EXIT_FAIL;
	}
	ctx->out->info(tp->name, &info);
	if (info.nstates != MEMTRACE_NSTATES)
		mt_err("warning: the module knows %u page states, this memtrace %d: "
		       "versions differ", info.nstates, MEMTRACE_NSTATES);
	return MT_EXIT_OK;
}

static const struct mt_opt info_opts[] = {
	{ .name = NULL }
};

const struct mt_command mt_cmd_info = {
	"info", "", "what the module says about itself (GET_INFO), and the transport in use",
	info_opts, info_run
};
