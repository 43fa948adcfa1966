// SPDX-License-Identifier: GPL-2.0
/*
 * bench: the report, a markdown section with the tables, ratios and target
 * verdicts.
 */
#include "bench.h"

/* ------------------------------------------------------------------ */
/* report */

struct size_results *bench_sres;
int bench_nsizes;

struct as_results bench_asr;
const char *const bench_as_names[4] = { "nl runs", "nl pages", "proc runs", "PAGEMAP_SCAN" };

const char *bench_size_name(size_t s)
{
	static char b[4][16];
	static int i;

	i = (i + 1) % 4;
	if (s >= 1024 * MIB)
		snprintf(b[i], 16, "%zu GiB", s / (1024 * MIB));
	else if (s >= MIB)
		snprintf(b[i], 16, "%zu MiB", s / MIB);
	else
		snprintf(b[i], 16, "%zu KiB", s / 1024);
	return b[i];
}

static void cell(const struct result *r)
{
	if (!r->ran)
		printf(" n/a |");
	else if (r->med < 0.1)
		printf(" %.3f |", r->med);
	else
		printf(" %.2f |", r->med);
}

static void ratio(const struct result *a, const struct result *b)
{
	if (!a->ran || !b->ran || b->med <= 0)
		printf(" n/a |");
	else
		printf(" %.2f |", a->med / b->med);
}

/* one target line */
static void target(const char *what, double got, double limit, const char *detail)
{
	bool ok = got <= limit;

	printf("- %s %s: %.2fx (limit %.1fx)%s%s\n", ok ? "MET   " : "MISSED", what,
	       got, limit, detail ? "; " : "", detail ? detail : "");
}

void bench_report(void)
{
	struct utsname u;

	uname(&u);
	printf("\n=== begin markdown\n");
	printf("## Kernel %s (%s)\n\n", bench_label, u.release);
	printf("Accel %s, %ld vCPUs, %s, median of %d repeats (round-robin), "
	       "times in ms (CLOCK_MONOTONIC, one process, one boot).\n"
	       "\"backed\" = present + zero pages (pagemap, mincore and PAGEMAP_SCAN "
	       "all count the zero page as present).\n\n",
	       bench_accel, sysconf(_SC_NPROCESSORS_ONLN), bench_date, bench_repeats);

	for (int z = 0; z < bench_nsizes; z++) {
		struct size_results *sr = &bench_sres[z];

		printf("### %s region: median ms\n\n| state | backed pages |",
		       bench_size_name(sr->size));
		for (int m = 0; m < M_MAIN; m++)
			printf(" %s |", bench_method_names[m]);
		printf("\n|---|---:|");
		for (int m = 0; m < M_MAIN; m++)
			printf("---:|");
		printf("\n");
		for (int s = 0; s < S_N; s++) {
			printf("| %s | %" PRId64 " |", bench_state_names[s],
			       sr->r[s][M_NL_RUNS].backed);
			for (int m = 0; m < M_MAIN; m++)
				cell(&sr->r[s][m]);
			printf("\n");
		}
		printf("\n%s, ratio to pagemap pread / to mincore (lower is faster):\n\n| state |",
		       bench_size_name(sr->size));
		for (int m = 0; m < M_MAIN; m++)
			if (m != M_PAGEMAP && m != M_MINCORE)
				printf(" %s |", bench_method_names[m]);
		printf("\n|---|");
		for (int m = 0; m < M_MAIN; m++)
			if (m != M_PAGEMAP && m != M_MINCORE)
				printf("---:|");
		printf("\n");
		for (int s = 0; s < S_N; s++) {
			printf("| %s |", bench_state_names[s]);
			for (int m = 0; m < M_MAIN; m++) {
				const struct result *a = &sr->r[s][m], *p = &sr->r[s][M_PAGEMAP],
					*c = &sr->r[s][M_MINCORE];

				if (m == M_PAGEMAP || m == M_MINCORE)
					continue;
				if (!a->ran)
					printf(" n/a |");
				else
					printf(" %.2f / %.2f |", a->med / p->med, a->med / c->med);
			}
			printf("\n");
		}
		printf("\n%s, profiling (ms): netlink packed (the default: runs; pages a byte each, "
		       "indexing their words) vs nested records (one nest of attributes per record) "
		       "and pages a word each; /proc with the text parsed vs only read:\n\n"
		       "| state | nl runs | nl runs (nested) | nl pages | nl pages (nested) |"
		       " nl pages (no pfn) | nl pages (words, no pfn) | proc runs |"
		       " proc runs (no parse) | proc pages | proc pages (no parse) | THP kB |\n"
		       "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
		       bench_size_name(sr->size));
		for (int s = 0; s < S_N; s++) {
			printf("| %s |", bench_state_names[s]);
			cell(&sr->r[s][M_NL_RUNS]);
			cell(&sr->r[s][M_NL_RUNS_NEST]);
			cell(&sr->r[s][M_NL_PAGES]);
			cell(&sr->r[s][M_NL_PAGES_NEST]);
			cell(&sr->r[s][M_NL_PAGES_NOPFN]);
			cell(&sr->r[s][M_NL_PAGES_WORDS]);
			cell(&sr->r[s][M_PROC_RUNS]);
			cell(&sr->r[s][M_PROC_RUNS_RAW]);
			cell(&sr->r[s][M_PROC_PAGES]);
			cell(&sr->r[s][M_PROC_PAGES_RAW]);
			printf(" %ld |\n", sr->thp_kb[s]);
		}
		printf("\n");
	}

	printf("### Whole address space of a small process (%d mappings)\n\n"
	       "| method | all (ms) | its mappings only (ms) | ratio |\n|---|---:|---:|---:|\n",
	       bench_asr.nvmas);
	for (int i = 0; i < 4; i++) {
		printf("| %s |", bench_as_names[i]);
		cell(&bench_asr.all[i]);
		cell(&bench_asr.maps[i]);
		ratio(&bench_asr.all[i], &bench_asr.maps[i]);
		printf("\n");
	}
	printf("\n\"its mappings only\": one query per VMA of /proc/PID/maps, summed "
	       "(the maps file is read outside the timing).\n\n");

	bench_report_top();

	printf("### Kernel memory during one query\n\n"
	       "Sampled from /proc/meminfo every few messages/reads while a query of the "
	       "every-other-page region in pages mode streams (the worst case: one record "
	       "per page). Max drop of MemFree, and max growth of Slab+KernelStack, over "
	       "the baseline taken just before the query (kB; page-allocator noise is a "
	       "few hundred kB either way).\n\n| region | records | proc: MemFree drop | proc: "
	       "Slab+KStack | nl: MemFree drop | nl: Slab+KStack |\n|---|---:|---:|---:|---:|---:|\n");
	for (int z = 0; z < bench_nsizes; z++)
		printf("| %s | %" PRIu64 " | %ld | %ld | %ld | %ld |\n",
		       bench_size_name(bench_sres[z].size),
		       bench_sres[z].km_pages, bench_sres[z].km_proc_free, bench_sres[z].km_proc_slab,
		       bench_sres[z].km_nl_free, bench_sres[z].km_nl_slab);

	printf("\n### Targets\n\n");
	for (int z = 0; z < bench_nsizes; z++) {
		struct result (*r)[M_N] = bench_sres[z].r;
		char d[256];

		if (bench_sres[z].size < 64 * MIB)
			continue;	/* the fixed cost of one query: no targets */
		printf("%s region:\n\n", bench_size_name(bench_sres[z].size));
		snprintf(d, sizeof(d), "%.2f vs %.2f ms", r[S_WRITTEN][M_NL_RUNS].med,
			 r[S_WRITTEN][M_MINCORE].med);
		target("all written 4K: nl runs / mincore", r[S_WRITTEN][M_NL_RUNS].med /
		       r[S_WRITTEN][M_MINCORE].med, 1.0, d);
		if (bench_have_scan) {
			snprintf(d, sizeof(d), "%.3f vs %.3f ms", r[S_THP][M_NL_RUNS].med,
				 r[S_THP][M_SCAN].med);
			target("THP: nl runs / PAGEMAP_SCAN", r[S_THP][M_NL_RUNS].med /
			       r[S_THP][M_SCAN].med, 1.0, d);
			snprintf(d, sizeof(d), "%.3f vs %.3f ms", r[S_UNTOUCHED][M_NL_RUNS].med,
				 r[S_UNTOUCHED][M_SCAN].med);
			target("untouched: nl runs / PAGEMAP_SCAN", r[S_UNTOUCHED][M_NL_RUNS].med /
			       r[S_UNTOUCHED][M_SCAN].med, 2.0, d);
		} else {
			printf("- n/a    THP and untouched vs PAGEMAP_SCAN: this kernel has no PAGEMAP_SCAN\n");
		}
		snprintf(d, sizeof(d), "%.2f vs %.2f ms; with pfns (8 bytes a page more, "
			 "as root): %.2f ms, %.2fx", r[S_ALTERNATE][M_NL_PAGES_NOPFN].med,
			 r[S_ALTERNATE][M_MINCORE].med, r[S_ALTERNATE][M_NL_PAGES].med,
			 r[S_ALTERNATE][M_NL_PAGES].med / r[S_ALTERNATE][M_MINCORE].med);
		target("every other page: nl pages (no pfn, like mincore) / mincore",
		       r[S_ALTERNATE][M_NL_PAGES_NOPFN].med / r[S_ALTERNATE][M_MINCORE].med, 1.5, d);
		{
			double worst = 0;
			int ws = 0;

			for (int s = 0; s < S_N; s++) {
				double q = r[s][M_PROC_RUNS].med / r[s][M_NL_RUNS].med;

				if (q > worst)
					worst = q, ws = s;
			}
			snprintf(d, sizeof(d), "worst state: %s, %.3f vs %.3f ms",
				 bench_state_names[ws],
				 r[ws][M_PROC_RUNS].med, r[ws][M_NL_RUNS].med);
			target("proc runs / nl runs (every state)", worst, 2.0, d);
		}
		printf("\n");
	}
	snprintf(bench_proc_tail, sizeof(bench_proc_tail), "%.3f vs %.3f ms", bench_asr.all[0].med,
		 bench_asr.maps[0].med);
	target("whole address space / its mappings (nl runs)",
	       bench_asr.all[0].med / bench_asr.maps[0].med,
	       2.0, bench_proc_tail);
	{
		long worst = 0;

		for (int z = 0; z < bench_nsizes; z++) {
			long v = bench_sres[z].km_proc_free > bench_sres[z].km_nl_free ?
				 bench_sres[z].km_proc_free : bench_sres[z].km_nl_free;

			if (v > worst)
				worst = v;
		}
		printf("- %s kernel memory per query bounded by a constant: max MemFree drop "
		       "%ld kB whatever the region size (bound by design: one 8 KiB buffer + "
		       "state per /proc file; one dump state, 16 KiB of pfns for a packed pages-mode answer, and socket buffers <= rcvbuf for netlink)\n",
		       worst < 1024 ? "MET   " : "CHECK ", worst);
	}
	if (bench_top.dump.ran && bench_top.rollup.ran) {
		snprintf(bench_proc_tail, sizeof(bench_proc_tail), "%.3f vs %.3f ms",
			 bench_top.dump.med, bench_top.rollup.med);
		target("every process: one TOP dump / every smaps_rollup",
		       bench_top.dump.med / bench_top.rollup.med, 1.0, bench_proc_tail);
	}
	printf("\n=== end markdown\n");
}
