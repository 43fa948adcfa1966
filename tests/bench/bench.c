// SPDX-License-Identifier: GPL-2.0
/*
 * bench: how fast memtrace answers "which pages are backed", side by side with
 * what a user has today: /proc/PID/pagemap, mincore(2) and the PAGEMAP_SCAN
 * ioctl (6.7+). Runs inside the lab VM with the module loaded, as root.
 *
 *   bench [--sizes 2M,64M,1G] [--repeat N] [--label K] [--accel A] [--date D]
 *   bench --smoke        4 MiB, one repeat, TAP: every method ran and all
 *                        methods agree on the number of present pages
 *
 * Regions are anonymous private mappings, 2 MiB aligned, in five states:
 * untouched, all written, every other page written, read-only touched (the
 * shared zero page; THP off for the region) and THP-backed (MADV_HUGEPAGE,
 * every page written). Plus the whole address space of a small process (a
 * forked child) against its mappings only.
 *
 * Each repeat runs every method once, round-robin, so that host noise hits
 * all of them alike; the median of the repeats is reported (CLOCK_MONOTONIC).
 * Every method also counts the present pages it saw; they must agree
 * (memtrace's "zero" is counted present, like pagemap, mincore and
 * PAGEMAP_SCAN do with the zero page).
 *
 * Output: a markdown section (between "=== begin markdown" and "=== end
 * markdown") with the tables, ratios and target verdicts, and "ok"/"not ok"
 * lines for the agreement checks.
 */
#include "bench.h"

TAP_SHARED_STATE;

const char *const bench_method_names[M_N] = {
	"nl runs", "nl pages", "proc runs", "proc pages",
	"pagemap pread", "mincore", "PAGEMAP_SCAN",
	"nl runs (nested)", "nl pages (nested)",
	"proc runs (no parse)", "proc pages (no parse)",
	"nl pages (no pfn)", "nl pages (words, no pfn)",
};

const char *const bench_state_names[S_N] = {
	"untouched", "all written", "every other page", "read-only (zero page)",
	"THP (MADV_HUGEPAGE)",
};

int bench_repeats = 7;
static bool smoke, top_only;
bool bench_have_scan;
char bench_label[80] = "?", bench_accel[32] = "tcg", bench_date[32] = "?";

double bench_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void bench_die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ------------------------------------------------------------------ */
/* timing */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int64_t run_method(enum method m, int pid, uint64_t s, uint64_t e)
{
	switch (m) {
	case M_NL_RUNS: return bench_nl_query(pid, s, e, MEMTRACE_MODE_RUNS, NL_PACKED, NULL);
	case M_NL_PAGES:
		return bench_nl_query(pid, s, e, MEMTRACE_MODE_PAGES, NL_PACKED | NL_INDEXED, NULL);
	case M_NL_RUNS_NEST: return bench_nl_query(pid, s, e, MEMTRACE_MODE_RUNS, 0, NULL);
	case M_NL_PAGES_NEST: return bench_nl_query(pid, s, e, MEMTRACE_MODE_PAGES, 0, NULL);
	case M_NL_PAGES_NOPFN:
		return bench_nl_query(pid, s, e, MEMTRACE_MODE_PAGES,
				      NL_PACKED | NL_INDEXED | NL_NO_PFN,
				      NULL);
	case M_NL_PAGES_WORDS:
		return bench_nl_query(pid, s, e, MEMTRACE_MODE_PAGES, NL_PACKED | NL_NO_PFN, NULL);
	case M_PROC_RUNS: return bench_proc_query(pid, s, e, "runs", true, NULL);
	case M_PROC_PAGES: return bench_proc_query(pid, s, e, "pages", true, NULL);
	case M_PROC_RUNS_RAW: return bench_proc_query(pid, s, e, "runs", false, NULL);
	case M_PROC_PAGES_RAW: return bench_proc_query(pid, s, e, "pages", false, NULL);
	case M_PAGEMAP: return bench_pagemap_pread(pid, s, e);
	case M_MINCORE: return bench_do_mincore(s, e);
	case M_SCAN: return bench_have_scan ? bench_pagemap_scan(pid, s, e) : -1;
	default: return -1;
	}
}

/* Time methods [0, nm) on [s, e) of this process, round-robin. */
static void measure(const enum method *ms, int nm, uint64_t s, uint64_t e,
		    struct result *res)
{
	double t[M_N][64];
	int reps = bench_repeats;

	for (int i = 0; i < nm; i++) {
		res[ms[i]].backed = -2;
		res[ms[i]].ran = false;
	}
	for (int r = 0; r < reps; r++) {
		for (int i = 0; i < nm; i++) {
			enum method m = ms[i];
			double t0 = bench_now_ms();
			int64_t b = run_method(m, getpid(), s, e);

			t[m][r] = bench_now_ms() - t0;
			if (b < 0) {
				res[m].backed = -1;
				continue;
			}
			if (res[m].backed >= 0 && res[m].backed != b)
				fprintf(stderr, "bench: %s: %" PRId64 " then %" PRId64
					" backed pages\n", bench_method_names[m], res[m].backed, b);
			res[m].backed = b;
			res[m].ran = true;
		}
	}
	for (int i = 0; i < nm; i++) {
		enum method m = ms[i];

		qsort(t[m], reps, sizeof(double), cmp_d);
		res[m].med = reps % 2 ? t[m][reps / 2] :
			     (t[m][reps / 2 - 1] + t[m][reps / 2]) / 2;
		res[m].min = t[m][0];
	}
}

/* ------------------------------------------------------------------ */

static size_t parse_size(const char *s)
{
	char *e;
	size_t v = strtoull(s, &e, 10);

	if (*e == 'G' || *e == 'g')
		v *= 1024 * MIB;
	else if (*e == 'M' || *e == 'm')
		v *= MIB;
	else if (*e == 'K' || *e == 'k')
		v *= 1024;
	return v;
}

static void thp_enable(void)
{
	char b[128] = "";
	int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDWR);

	if (fd < 0)
		return;
	if (read(fd, b, sizeof(b) - 1) > 0 && strstr(b, "[never]"))
		if (pwrite(fd, "madvise", 7, 0) < 0)
			fprintf(stderr, "bench: cannot enable THP\n");
	close(fd);
}

static void run_size(struct size_results *sr)
{
	static const enum method all[] = {
		M_NL_RUNS, M_NL_PAGES, M_PROC_RUNS, M_PROC_PAGES, M_PAGEMAP, M_MINCORE,
		M_SCAN, M_NL_RUNS_NEST, M_NL_PAGES_NEST, M_PROC_RUNS_RAW, M_PROC_PAGES_RAW,
		M_NL_PAGES_NOPFN, M_NL_PAGES_WORDS,
	};
	int nm = smoke ? M_MAIN : (int)(sizeof(all) / sizeof(all[0]));

	for (int s = 0; s < S_N; s++) {
		uint8_t *p = bench_region_map(sr->size, s);
		uint64_t a = (uintptr_t)p, e = a + sr->size;
		struct result *r = sr->r[s];

		sr->thp_kb[s] = bench_thp_kb(p);
		measure(all, nm, a, e, r);
		fprintf(stderr, "bench: %s %s:", bench_size_name(sr->size), bench_state_names[s]);
		for (int m = 0; m < nm; m++)
			fprintf(stderr, " %s=%.3f", bench_method_names[all[m]], r[all[m]].med);
		fprintf(stderr, "\n");
		for (int m = 0; m < nm; m++) {
			if (all[m] == M_SCAN && !bench_have_scan)
				continue;
			if (smoke)
				tap_ok(r[all[m]].ran, "%s %s: %s ran", bench_size_name(sr->size),
				    bench_state_names[s], bench_method_names[all[m]]);
		}
		{
			int64_t want = r[M_PAGEMAP].backed;
			bool agree = true;
			char d[512] = "";
			size_t l = 0;

			for (int m = 0; m < nm; m++) {
				if (!r[all[m]].ran)
					continue;
				if (r[all[m]].backed != want)
					agree = false;
				l += snprintf(d + l, sizeof(d) - l, " %s=%" PRId64,
					      bench_method_names[all[m]], r[all[m]].backed);
			}
			tap_ok(agree, "%s %s: methods agree on backed pages (%" PRId64 ")%s",
			    bench_size_name(sr->size), bench_state_names[s], want, agree ? "" : d);
		}
		if (s == S_ALTERNATE && !smoke) {
			/* kernel memory while the worst-case answer streams */
			bench_km_start();
			sr->km_pages = bench_proc_query(getpid(), a, e, "pages", false,
							bench_km_hook);
			sr->km_proc_free = bench_km_max_free;
			sr->km_proc_slab = bench_km_max_slab;
			bench_km_start();
			bench_nl_query(getpid(), a, e, MEMTRACE_MODE_PAGES, NL_PACKED | NL_INDEXED, bench_km_hook);
			sr->km_nl_free = bench_km_max_free;
			sr->km_nl_slab = bench_km_max_slab;
			sr->km_pages = sr->size / PAGE;
		}
		munmap(p, sr->size);
	}
}

static void run_as(void)
{
	struct vma v[256];
	int n = bench_child_vmas(v, 256);
	double t[4][64], tm[4][64];
	int64_t b_all[4], b_maps[4];
	int high = 0;

	bench_asr.nvmas = n;
	for (int k = 0; k < n; k++)
		high += v[k].s >= 0x800000000000ULL;
	printf("# whole address space: %d mappings, %d of them above 2^47 (x86-64's TASK_SIZE)\n",
	       n, high);
	for (int r = 0; r < bench_repeats; r++) {
		for (int i = 0; i < 4; i++) {
			double t0;

			if (i == 3 && !bench_have_scan)
				continue;
			t0 = bench_now_ms();
			switch (i) {
			case 0: b_all[i] = bench_nl_query(bench_child, 0, 0, MEMTRACE_MODE_RUNS, NL_PACKED, NULL); break;
			case 1: b_all[i] = bench_nl_query(bench_child, 0, 0, MEMTRACE_MODE_PAGES, NL_PACKED | NL_INDEXED, NULL); break;
			case 2: b_all[i] = bench_proc_query(bench_child, 0, 0, "runs", true, NULL); break;
			/* whole: up to the end of its last mapping (TASK_SIZE is 2^47 on x86-64, 2^48 on arm64) */
			case 3: b_all[i] = bench_pagemap_scan(bench_child, 0, n ? v[n - 1].e : 0); break;
			}
			t[i][r] = bench_now_ms() - t0;
			t0 = bench_now_ms();
			b_maps[i] = 0;
			for (int k = 0; k < n; k++) {
				switch (i) {
				case 0: b_maps[i] += bench_nl_query(bench_child, v[k].s, v[k].e, MEMTRACE_MODE_RUNS, NL_PACKED, NULL); break;
				case 1: b_maps[i] += bench_nl_query(bench_child, v[k].s, v[k].e, MEMTRACE_MODE_PAGES, NL_PACKED | NL_INDEXED, NULL); break;
				case 2: b_maps[i] += bench_proc_query(bench_child, v[k].s, v[k].e, "runs", true, NULL); break;
				case 3: b_maps[i] += bench_pagemap_scan(bench_child, v[k].s, v[k].e); break;
				}
			}
			tm[i][r] = bench_now_ms() - t0;
		}
	}
	bench_asr.pm_maps_backed = 0;
	for (int k = 0; k < n; k++)
		bench_asr.pm_maps_backed += bench_pagemap_pread(bench_child, v[k].s, v[k].e);
	for (int i = 0; i < 4; i++) {
		if (i == 3 && !bench_have_scan)
			continue;
		qsort(t[i], bench_repeats, sizeof(double), cmp_d);
		qsort(tm[i], bench_repeats, sizeof(double), cmp_d);
		bench_asr.all[i] = (struct result){ t[i][bench_repeats / 2], t[i][0], b_all[i], true };
		bench_asr.maps[i] = (struct result){ tm[i][bench_repeats / 2], tm[i][0], b_maps[i], true };
		if (smoke)
			tap_ok(b_all[i] >= 0 && b_maps[i] >= 0,
			    "whole address space: %s ran (%" PRId64 ", %" PRId64 ")",
			    bench_as_names[i], b_all[i], b_maps[i]);
		/*
		 * The child is idle, but pagemap sees [vvar]/[vdso] differently:
		 * pagemap reports a pfnmap page as not present, memtrace as
		 * present. Allow that few pages of difference here.
		 */
		tap_ok(b_all[i] == b_maps[i] &&
		    llabs(b_all[i] - bench_asr.pm_maps_backed) <= 8,
		    "whole address space: %s all=%" PRId64 " mappings=%" PRId64
		    " pagemap=%" PRId64, bench_as_names[i], b_all[i], b_maps[i], bench_asr.pm_maps_backed);
	}
}

unsigned long bench_page = 4096;

int main(int argc, char **argv)
{
	const char *sizes = "64M,1G";
	size_t maxsize = 0;
	int ret;

	bench_page = (unsigned long)sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke")) {
			smoke = true;
			sizes = "4M";
			bench_repeats = 1;
		} else if (!strcmp(argv[i], "--rollup-once")) {
			return bench_rollup_once();	/* bench-top.c: exec'd by it */
		} else if (!strcmp(argv[i], "--top")) {
			top_only = true;	/* the "every process" section alone */
		} else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
			sizes = argv[++i];
		} else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
			bench_repeats = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--label") && i + 1 < argc) {
			snprintf(bench_label, sizeof(bench_label), "%s", argv[++i]);
		} else if (!strcmp(argv[i], "--accel") && i + 1 < argc) {
			snprintf(bench_accel, sizeof(bench_accel), "%s", argv[++i]);
		} else if (!strcmp(argv[i], "--date") && i + 1 < argc) {
			snprintf(bench_date, sizeof(bench_date), "%s", argv[++i]);
		} else {
			fprintf(stderr, "usage: bench [--smoke] [--top] [--sizes 64M,1G] [--repeat N] "
				"[--label K] [--accel A] [--date D]\n");
			return 2;
		}
	}
	if (bench_repeats < 1 || bench_repeats > 63)
		bench_repeats = 7;
	if (!strcmp(bench_label, "?")) {
		struct utsname u;

		if (!uname(&u))
			snprintf(bench_label, sizeof(bench_label), "%s", u.release);
	}

	{
		char *dup = strdup(sizes), *tok, *save;

		bench_sres = calloc(8, sizeof(*bench_sres));
		for (tok = strtok_r(dup, ",", &save); tok && bench_nsizes < 8;
		     tok = strtok_r(NULL, ",", &save)) {
			size_t z = parse_size(tok);

			if (!z || z % HUGE) {
				fprintf(stderr, "bench: sizes must be multiples of 2 MiB\n");
				return 2;
			}
			bench_sres[bench_nsizes++].size = z;
			if (z > maxsize)
				maxsize = z;
		}
	}

	bench_child_start();
	thp_enable();
	bench_nl_open();
	bench_proc_buf = malloc(PROC_READ + 4096);
	bench_pm_cap = maxsize / PAGE;
	bench_pm_buf = malloc(bench_pm_cap * 8);
	bench_mc_buf = malloc(maxsize / PAGE);
	bench_scan_buf = malloc(MT_SCAN_VEC * sizeof(*bench_scan_buf));
	if (!bench_proc_buf || !bench_pm_buf || !bench_mc_buf || !bench_scan_buf)
		bench_die("malloc");
	/* fault the buffers in: no first-touch cost inside the timings */
	memset(bench_proc_buf, 0, PROC_READ + 4096);
	memset(bench_pm_buf, 0, maxsize / PAGE * 8);
	memset(bench_mc_buf, 0, maxsize / PAGE);
	memset(bench_scan_buf, 0, MT_SCAN_VEC * sizeof(*bench_scan_buf));
	{
		uint8_t *p = bench_region_map(HUGE, S_WRITTEN);

		bench_have_scan = bench_pagemap_scan(getpid(), (uintptr_t)p, (uintptr_t)p + HUGE) >= 0;
		munmap(p, HUGE);
	}
	if (smoke)
		printf("# bench --smoke: kernel %s, PAGEMAP_SCAN %s\n", bench_label,
		       bench_have_scan ? "yes" : "no (before 6.7)");

	for (int z = 0; z < bench_nsizes && !top_only; z++)
		run_size(&bench_sres[z]);
	if (!top_only)
		run_as();
	bench_run_top();
	kill(bench_child, SIGKILL);
	waitpid(bench_child, NULL, 0);

	if (top_only) {
		printf("=== begin markdown\n");
		bench_report_top();
		printf("=== end markdown\n");
	} else if (!smoke) {
		bench_report();
	}
	ret = tap_done();
	tap_diag("bench: %d of %d checks failed", tap_failed, tap_n);
	return ret;
}
