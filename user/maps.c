// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace maps PID: every mapping of /proc/PID/maps with its pages by
 * state, like pmap -x but from the module. One "all" query (a consistent
 * snapshot of the whole address space) is split along the maps lines.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport.h"

struct maps_state {
	const struct mt_maps *maps;
	uint64_t (*count)[MEMTRACE_NSTATES];	/* per mapping */
	uint64_t outside[MEMTRACE_NSTATES];	/* mapped pages in no maps line */
	size_t idx;
	unsigned int page_size;
	uint64_t end;				/* the answer's end */
};

static int maps_cb(const struct mt_header *h, const struct mt_record *r, void *arg)
{
	struct maps_state *m = arg;
	uint64_t a = r->addr, end = r->addr + r->pages * h->page_size;

	m->page_size = h->page_size;
	m->end = h->end;
	if (r->state == MEMTRACE_UNMAPPED)
		return 0;
	while (a < end) {
		const struct mt_map *v;
		uint64_t b;

		while (m->idx < m->maps->n && m->maps->v[m->idx].end <= a)
			m->idx++;
		if (m->idx == m->maps->n) {
			m->outside[r->state] += (end - a) / h->page_size;
			break;
		}
		v = &m->maps->v[m->idx];
		if (a < v->start) {
			b = v->start < end ? v->start : end;
			m->outside[r->state] += (b - a) / h->page_size;
			a = b;
			continue;
		}
		b = v->end < end ? v->end : end;
		m->count[m->idx][r->state] += (b - a) / h->page_size;
		a = b;
	}
	return 0;
}

/* Rss in kB from smaps_rollup (or the sum over smaps); -1 if unavailable. */
static long long smaps_rss(long pid)
{
	char path[64], *buf, *p;
	long long total = -1;

	snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", pid);
	if (mt_read_file(path, &buf, NULL)) {
		snprintf(path, sizeof(path), "/proc/%ld/smaps", pid);
		if (mt_read_file(path, &buf, NULL))
			return -1;
	}
	for (p = buf; (p = strstr(p, "\nRss:")); p += 5) {
		long long kb;

		if (sscanf(p + 5, " %lld kB", &kb) == 1)
			total = (total < 0 ? 0 : total) + kb;
	}
	free(buf);
	return total;
}

int mt_cmd_maps(struct mt_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		MT_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	static const int cols[] = { MEMTRACE_PRESENT, MEMTRACE_ZERO, MEMTRACE_SWAP,
				    MEMTRACE_NONE, MEMTRACE_MIGRATION, MEMTRACE_OTHER };
	struct maps_state st = { 0 };
	uint64_t total[MEMTRACE_NSTATES] = { 0 }, size_total = 0;
	struct mt_maps maps;
	struct mt_header h;
	long long rss;
	int opt, ret;
	long pid;

	while ((opt = getopt_long(argc, argv, MT_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (opt) {
		case 'h': mt_usage_of("maps", stdout); return MT_EXIT_OK;
		case '?': return mt_bad_usage("maps", "bad option '%s'", argv[optind - 1]);
		default:
			ret = mt_common_opt(ctx, opt, optarg);
			if (ret)
				return ret;
		}
	}
	mt_ctx_finish(ctx);
	if (argc - optind != 1)
		return mt_bad_usage("maps", argc - optind < 1 ? "expected PID" :
				    "too many arguments");
	if (mt_parse_pid(argv[optind], &pid))
		return mt_bad_usage("maps", "bad PID '%s'", argv[optind]);
	ret = mt_maps_read(pid, &maps);
	if (ret)
		return mt_proc_fail(pid, "maps", ret);
	st.maps = &maps;
	st.count = calloc(maps.n ? maps.n : 1, sizeof(*st.count));
	if (!st.count) {
		mt_maps_free(&maps);
		mt_err("out of memory");
		return MT_EXIT_FAIL;
	}
	{
		struct mt_query q = { .pid = pid, .all = true, .mode = MEMTRACE_MODE_RUNS };

		ret = mt_run_query(ctx, &q, maps_cb, &st, &h, NULL);
	}
	if (ret)
		goto out;
	rss = smaps_rss(pid);
	if (ctx->format == MT_FMT_JSON)
		printf("{\"pid\":%ld,\"page_size\":%u,\"mappings\":[", pid, h.page_size);
	else if (ctx->format == MT_FMT_TSV)
		printf("# memtrace-maps pid=%ld page_size=%u\n"
		       "# start\tend\tkbytes\tpresent\tzero\tswap\tnone\tmigration\tother\tperms\tname\n",
		       pid, h.page_size);
	else
		printf("%-18s %10s %9s %9s %9s %9s %4s  %s\n", "ADDRESS", "KBYTES", "PRESENT",
		       "ZERO", "SWAP", "NONE", "PERM", "MAPPING");
	for (size_t i = 0; i < maps.n; i++) {
		const struct mt_map *v = &maps.v[i];
		bool queried = v->end <= h.end;
		uint64_t kb = (v->end - v->start) / 1024;

		size_total += kb;
		for (int s = 0; s < MEMTRACE_NSTATES; s++)
			total[s] += st.count[i][s];
		switch (ctx->format) {
		case MT_FMT_JSON:
			printf("%s{\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"kbytes\":%llu,"
			       "\"perms\":\"%s\",\"offset\":\"0x%llx\",\"dev\":\"%s\",\"inode\":%llu,"
			       "\"name\":", i ? "," : "", (unsigned long long)v->start,
			       (unsigned long long)v->end, (unsigned long long)kb, v->perms,
			       (unsigned long long)v->offset, v->dev, (unsigned long long)v->inode);
			mt_json_str(stdout, v->name);
			printf(",\"queried\":%s", queried ? "true" : "false");
			for (int s = 0; s < MEMTRACE_NSTATES; s++)
				if (s != MEMTRACE_UNMAPPED)
					printf(",\"%s\":%llu", mt_state_names[s],
					       (unsigned long long)st.count[i][s]);
			putchar('}');
			break;
		case MT_FMT_TSV:
			printf("0x%llx\t0x%llx\t%llu", (unsigned long long)v->start,
			       (unsigned long long)v->end, (unsigned long long)kb);
			for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
				printf("\t%llu", (unsigned long long)st.count[i][cols[c]]);
			printf("\t%s\t%s\n", v->perms, v->name);
			break;
		default:
			printf("0x%016llx %10llu", (unsigned long long)v->start,
			       (unsigned long long)kb);
			if (queried)
				for (size_t c = 0; c < 4; c++)
					printf(" %9llu", (unsigned long long)st.count[i][cols[c]]);
			else
				printf(" %9s %9s %9s %9s", "-", "-", "-", "-");
			printf(" %4s  %s\n", v->perms, v->name);
		}
	}
	switch (ctx->format) {
	case MT_FMT_JSON:
		printf("],\"total\":{\"kbytes\":%llu", (unsigned long long)size_total);
		for (int s = 1; s < MEMTRACE_NSTATES; s++)
			printf(",\"%s\":%llu", mt_state_names[s], (unsigned long long)total[s]);
		printf("},\"present_kbytes\":%llu,\"smaps_rss_kbytes\":",
		       (unsigned long long)(total[MEMTRACE_PRESENT] * h.page_size / 1024));
		if (rss >= 0)
			printf("%lld", rss);
		else
			printf("null");
		printf(",\"outside_maps\":%llu}\n",
		       (unsigned long long)(st.outside[MEMTRACE_PRESENT] + st.outside[MEMTRACE_ZERO] +
					    st.outside[MEMTRACE_NONE] + st.outside[MEMTRACE_SWAP]));
		break;
	case MT_FMT_TSV:
		printf("# total\t%llu", (unsigned long long)size_total);
		for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
			printf("\t%llu", (unsigned long long)total[cols[c]]);
		printf("\n# rss present_kbytes=%llu smaps_rss_kbytes=%lld\n",
		       (unsigned long long)(total[MEMTRACE_PRESENT] * h.page_size / 1024), rss);
		break;
	default:
		printf("%-18s %10llu", "total", (unsigned long long)size_total);
		for (size_t c = 0; c < 4; c++)
			printf(" %9llu", (unsigned long long)total[cols[c]]);
		printf("\n\nbacked (present) pages: %llu = %llu kB;  smaps Rss: ",
		       (unsigned long long)total[MEMTRACE_PRESENT],
		       (unsigned long long)(total[MEMTRACE_PRESENT] * h.page_size / 1024));
		if (rss >= 0)
			printf("%lld kB\n", rss);
		else
			printf("unavailable\n");
		printf("(zero pages are mapped but not counted in Rss; the process may change "
		       "between the two reads)\n");
		if (total[MEMTRACE_MIGRATION] || total[MEMTRACE_OTHER])
			printf("also: %llu migration, %llu other\n",
			       (unsigned long long)total[MEMTRACE_MIGRATION],
			       (unsigned long long)total[MEMTRACE_OTHER]);
	}
out:
	free(st.count);
	mt_maps_free(&maps);
	return ret;
}
