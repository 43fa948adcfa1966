// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace verify PID RANGE: every page of the module's answer (pages mode)
 * against /proc/PID/pagemap and /proc/PID/maps (check.c). The two views are
 * read one after the other: a target that runs in between may change, so
 * verify is meant for stopped or quiescent targets (kill -STOP PID).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport.h"

struct verify_state {
	const struct mt_ctx *ctx;
	struct mt_check check;
	bool started;
	unsigned int ndis;
};

static void verify_start(struct verify_state *v, const struct mt_header *h)
{
	if (v->started)
		return;
	v->started = true;
	v->check.page_size = h->page_size;
	v->check.pm->page_size = h->page_size;
	switch (v->ctx->format) {
	case MT_FMT_JSON:
		printf("{\"pid\":%ld,\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"page_size\":%u,"
		       "\"disagreements\":[", h->pid, (unsigned long long)h->start,
		       (unsigned long long)h->end, h->page_size);
		break;
	case MT_FMT_TSV:
		printf("# memtrace-verify pid=%ld start=0x%llx end=0x%llx page_size=%u\n"
		       "# addr\tstate\tflags\tpfn\tpagemap\treason\n", h->pid,
		       (unsigned long long)h->start, (unsigned long long)h->end, h->page_size);
		break;
	}
}

static void on_disagree(const struct mt_disagreement *d, void *arg)
{
	struct verify_state *v = arg;
	char fl[MEMTRACE_FLAGS_WIDTH + 1], pm[96];

	mt_format_flags(d->rec->flags, fl);
	mt_pm_describe(d->entry, pm, sizeof(pm));
	switch (v->ctx->format) {
	case MT_FMT_JSON:
		printf("%s{\"addr\":\"0x%llx\",\"state\":\"%s\",\"flags\":\"%s\",\"pfn\":\"0x%llx\","
		       "\"pagemap\":\"0x%016llx\",\"pagemap_says\":", v->ndis ? "," : "",
		       (unsigned long long)d->addr, mt_state_names[d->rec->state], fl,
		       (unsigned long long)d->rec->pfn, (unsigned long long)d->entry);
		mt_json_str(stdout, pm);
		printf(",\"reason\":");
		mt_json_str(stdout, d->why);
		putchar('}');
		break;
	case MT_FMT_TSV:
		printf("0x%llx\t%s\t%s\t0x%llx\t0x%016llx\t%s\n", (unsigned long long)d->addr,
		       mt_state_names[d->rec->state], fl, (unsigned long long)d->rec->pfn,
		       (unsigned long long)d->entry, d->why);
		break;
	default:
		printf("%sDISAGREE%s 0x%016llx  memtrace: %s %s pfn=0x%llx  pagemap: %s  (%s)\n",
		       v->ctx->color ? "\033[1;31m" : "", v->ctx->color ? "\033[0m" : "",
		       (unsigned long long)d->addr, mt_state_names[d->rec->state], fl,
		       (unsigned long long)d->rec->pfn, pm, d->why);
	}
	v->ndis++;
}

static int verify_cb(const struct mt_header *h, const struct mt_record *r, void *arg)
{
	struct verify_state *v = arg;

	verify_start(v, h);
	return mt_check_record(&v->check, r) ? -EIO : 0;
}

int mt_cmd_verify(struct mt_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		MT_COMMON_LONGOPTS,
		{ "no-pfn", no_argument, NULL, 'N' },
		{ "each", no_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 }
	};
	struct verify_state v = { .ctx = ctx };
	struct mt_pagemap pm;
	struct mt_maps maps;
	struct mt_span *spans;
	bool each = false, cmp_pfn = true;
	int opt, ret;
	size_t n;
	long pid;

	while ((opt = getopt_long(argc, argv, MT_COMMON_SHORTOPTS "e", longopts, NULL)) != -1) {
		switch (opt) {
		case 'N': cmp_pfn = false; break;
		case 'e': each = true; break;
		case 'h': mt_usage_of("verify", stdout); return MT_EXIT_OK;
		case '?': return mt_bad_usage("verify", "bad option '%s'", argv[optind - 1]);
		default:
			ret = mt_common_opt(ctx, opt, optarg);
			if (ret)
				return ret;
		}
	}
	mt_ctx_finish(ctx);
	ret = mt_pid_range_args("verify", argc - optind, argv + optind, each, &pid, &spans, &n);
	if (ret)
		return ret;
	ret = mt_maps_read(pid, &maps);
	if (ret) {
		free(spans);
		return mt_proc_fail(pid, "maps", ret);
	}
	ret = mt_pagemap_open(&pm, pid, (unsigned int)sysconf(_SC_PAGESIZE));
	if (ret) {
		free(spans);
		mt_maps_free(&maps);
		return mt_proc_fail(pid, "pagemap", ret);
	}
	v.check = (struct mt_check){ .pm = &pm, .maps = &maps, .cmp_pfn = cmp_pfn,
				     .on_disagree = on_disagree, .arg = &v };
	if (ctx->format == MT_FMT_JSON && each)
		putchar('[');
	for (size_t i = 0; i < n; i++) {
		struct mt_query q = { .pid = pid, .all = spans[i].all, .start = spans[i].start,
				      .end = spans[i].end, .mode = MEMTRACE_MODE_PAGES };
		struct mt_check *c = &v.check;
		struct mt_header h;

		c->checked = c->agree = c->disagree = c->sampled_gaps = 0;
		c->err = 0;
		v.started = false;
		v.ndis = 0;
		mt_pagemap_reset(&pm);
		if (i)
			fputs(ctx->format == MT_FMT_JSON ? "," : ctx->format == MT_FMT_HUMAN ?
			      "\n" : "", stdout);
		ret = mt_run_query(ctx, &q, verify_cb, &v, &h, NULL);
		if (ret < 0 || c->err) {
			if (ctx->format == MT_FMT_JSON && v.started)
				printf("]}\n");
			mt_err("/proc/%ld/pagemap: %s", pid, c->err == -EIO ?
			       "short read" : strerror(-c->err));
			ret = MT_EXIT_FAIL;
			break;
		}
		if (ret)
			break;
		switch (ctx->format) {
		case MT_FMT_JSON:
			printf("],\"checked\":%llu,\"agree\":%llu,\"disagree\":%llu,"
			       "\"sampled_gaps\":%llu,\"pfn_compared\":%s,\"ok\":%s}",
			       (unsigned long long)c->checked, (unsigned long long)c->agree,
			       (unsigned long long)c->disagree, (unsigned long long)c->sampled_gaps,
			       cmp_pfn ? "true" : "false", c->disagree ? "false" : "true");
			break;
		case MT_FMT_TSV:
			printf("# result checked=%llu agree=%llu disagree=%llu sampled_gaps=%llu\n",
			       (unsigned long long)c->checked, (unsigned long long)c->agree,
			       (unsigned long long)c->disagree, (unsigned long long)c->sampled_gaps);
			break;
		default:
			printf("verify pid %ld 0x%llx-0x%llx: %llu/%llu pages agree with "
			       "/proc/%ld/pagemap%s", pid, (unsigned long long)h.start,
			       (unsigned long long)h.end, (unsigned long long)c->agree,
			       (unsigned long long)c->checked, pid,
			       c->disagree ? "" : " and maps");
			if (c->sampled_gaps)
				printf(" (%llu unmapped gaps sampled at their ends)",
				       (unsigned long long)c->sampled_gaps);
			printf("%s\n", c->disagree ? "" : ": OK");
			if (c->disagree)
				printf("%llu disagreements (the target may have changed between "
				       "the two reads: verify a stopped process, kill -STOP %ld)\n",
				       (unsigned long long)c->disagree, pid);
			if (cmp_pfn && geteuid() != 0)
				printf("(frame numbers not compared: pagemap shows them to "
				       "CAP_SYS_ADMIN only)\n");
		}
		if (c->disagree)
			ret = MT_EXIT_FAIL;
	}
	if (ctx->format == MT_FMT_JSON && (ret == 0 || ret == MT_EXIT_FAIL) && v.started)
		printf(each ? "]\n" : "\n");
	mt_pagemap_close(&pm);
	mt_maps_free(&maps);
	free(spans);
	return ret;
}
