// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace info: what the module says about itself (generic netlink
 * MEMTRACE_CMD_GET_INFO: version, page size, states, flags, task size) and
 * which transport the other commands use. GET_INFO is asked over netlink
 * whichever transport carries the queries: /proc/memtrace has no counterpart.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "transport.h"

static const char *const flag_names[] = {
	"anon", "file", "shmem", "pfnmap", "hugetlb", "write", "dirty", "young",
	"excl", "2M", "1G",
};

#define NFLAGS (sizeof(flag_names) / sizeof(flag_names[0]))

/* 0x7ffffffff000 is "128 TiB" (less a page): 4 significant digits */
static const char *approx_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	unsigned int u = 0;

	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.4g %s", v, unit[u]);
	return buf;
}

static void print_states(unsigned int n, const char *sep, bool json)
{
	for (unsigned int i = 0; i < n; i++) {
		fputs(i ? sep : "", stdout);
		if (i >= MEMTRACE_NSTATES)
			printf(json ? "\"state%u\"" : "state%u", i);	/* a later module's */
		else if (json)
			mt_json_str(stdout, mt_state_names[i]);
		else
			fputs(mt_state_names[i], stdout);
	}
}

static void print_flags(uint32_t mask, const char *sep, bool json)
{
	bool first = true;

	for (unsigned int i = 0; i < 32; i++) {
		if (!(mask & (1U << i)))
			continue;
		fputs(first ? "" : sep, stdout);
		first = false;
		if (i >= NFLAGS)
			printf(json ? "\"bit%u\"" : "bit%u", i);
		else if (json)
			mt_json_str(stdout, flag_names[i]);
		else
			fputs(flag_names[i], stdout);
	}
}

int mt_cmd_info(struct mt_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		MT_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const struct mt_transport_ops *tp;
	struct mt_error err;
	struct mt_info info;
	char size[32];
	int opt, ret;

	while ((opt = getopt_long(argc, argv, MT_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (opt) {
		case 'h': mt_usage_of("info", stdout); return MT_EXIT_OK;
		case '?': return mt_bad_usage("info", "bad option '%s'", argv[optind - 1]);
		default:
			ret = mt_common_opt(ctx, opt, optarg);
			if (ret)
				return ret;
		}
	}
	if (optind < argc)
		return mt_bad_usage("info", "unexpected argument '%s'", argv[optind]);
	mt_ctx_finish(ctx);
	memset(&err, 0, sizeof(err));
	memset(&info, 0, sizeof(info));
	tp = mt_transport_resolve(ctx->tp);
	ret = mt_transport_info(&info, &err);
	if (ret) {
		mt_transport_print_error(&err);
		return MT_EXIT_FAIL;
	}
	approx_size(info.task_size, size, sizeof(size));
	switch (ctx->format) {
	case MT_FMT_JSON:
		printf("{\"transport\":\"%s\",\"family\":\"%s\",\"family_id\":%d,"
		       "\"version\":", tp->name, MEMTRACE_GENL_NAME, info.family_id);
		mt_json_str(stdout, info.version);
		printf(",\"page_size\":%u,\"nstates\":%u,\"states\":[", info.page_size,
		       info.nstates);
		print_states(info.nstates, ",", true);
		printf("],\"flags_mask\":\"0x%x\",\"flags\":[", info.flags_mask);
		print_flags(info.flags_mask, ",", true);
		printf("],\"task_size\":\"0x%llx\"}\n", (unsigned long long)info.task_size);
		break;
	case MT_FMT_TSV:
		printf("# memtrace-info\n# key\tvalue\n");
		printf("transport\t%s\nfamily\t%s\nfamily_id\t%d\n", tp->name,
		       MEMTRACE_GENL_NAME, info.family_id);
		printf("version\t%s\npage_size\t%u\nnstates\t%u\nstates\t", info.version,
		       info.page_size, info.nstates);
		print_states(info.nstates, ",", false);
		printf("\nflags_mask\t0x%x\nflags\t", info.flags_mask);
		print_flags(info.flags_mask, ",", false);
		printf("\ntask_size\t0x%llx\n", (unsigned long long)info.task_size);
		break;
	default:
		printf("transport:   %s%s\n", tp->name,
		       strcmp(tp->name, "netlink") ? " (/proc/memtrace; this information "
		       "came over generic netlink)" : "");
		printf("family:      generic netlink \"%s\", id %d\n", MEMTRACE_GENL_NAME,
		       info.family_id);
		printf("module:      version %s\n", info.version);
		printf("page size:   %u\n", info.page_size);
		printf("states:      %u: ", info.nstates);
		print_states(info.nstates, " ", false);
		printf("\nflags mask:  0x%x: ", info.flags_mask);
		print_flags(info.flags_mask, " ", false);
		printf("\ntask size:   0x%llx (%s): the largest END a query may ask for\n",
		       (unsigned long long)info.task_size, size);
	}
	if (info.nstates != MEMTRACE_NSTATES)
		mt_err("warning: the module knows %u page states, this memtrace %d: "
		       "versions differ", info.nstates, MEMTRACE_NSTATES);
	return MT_EXIT_OK;
}
