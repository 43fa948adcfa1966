// SPDX-License-Identifier: GPL-2.0
/*
 * The demo for people (out_human.c's, the longest): each stage with its
 * measurements, the region's maps lines, its picture, counts, the pagemap
 * cross-check, the deltas and why they are what they are.
 */
#include "demo.h"
#include "output.h"

static const char *const stage_titles[ST_N] = {
	"before anything is mapped",
	"after mmap(PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS)",
	"after reading every page",
	"after writing the pattern",
	"after writing every page (memset)",
	"after madvise(MADV_DONTNEED)",
	"after munmap",
};

static const char *stage_note(const struct mt_demo *d)
{
	switch (d->stage) {
	case ST_INITIAL:
		return "the process as it starts: nothing of the region yet";
	case ST_MMAP:
		return "mmap only reserves address space: VSZ grows, RSS does not; "
		       "no page-table entries yet (none)";
	case ST_READ:
		return d->thp ? "a read fault maps the huge zero page (if enabled) or a huge page"
			      : "a read fault maps the shared zero page: still no frame of its "
				"own, no RSS";
	case ST_PATTERN:
		return d->thp ? "MADV_DONTNEED first dropped the huge zero page of the read "
				"stage (a write to it would only split it into 4K pages); then "
				"the first write fault in each 2 MiB page backs all its 512 pages "
				"at once"
			      : "a write breaks the zero-page mapping (copy-on-write): one frame "
				"per written page";
	case ST_WRITE:
		return "every page now has a frame of its own";
	case ST_DONTNEED:
		return "MADV_DONTNEED drops the frames and the entries: back to none, RSS falls";
	default:
		return "munmap removes the VMA: VSZ falls back, the pages are unmapped";
	}
}

void mt_out_demo_begin(const struct mt_demo *d)
{
	printf("memtrace demo: pid %ld, %zu pages of %u bytes, pattern %s%s\n",
	       d->pid, d->npages, d->page_size, d->pattern,
	       d->thp ? ", THP (MADV_HUGEPAGE, 2 MiB aligned)" : ", MADV_NOHUGEPAGE");
	mt_picture_legend(stdout, d->ctx->color);
}

void mt_out_demo_region(const struct mt_demo *d)
{
	(void)d;
}

static void print_picture(const struct mt_demo *d)
{
	for (size_t i = 0; i < d->npages; i += 64) {
		size_t n = d->npages - i < 64 ? d->npages - i : 64;

		printf("  %s [", i ? "      " : "pages:");
		for (size_t k = 0; k < n; k++) {
			char c = d->pic[i + k];
			int s = c == '#' || c == 'H' ? MEMTRACE_PRESENT : c == '0' ? MEMTRACE_ZERO :
				c == '.' ? MEMTRACE_NONE : c == 'S' ? MEMTRACE_SWAP :
				c == 'M' ? MEMTRACE_MIGRATION : c == ' ' ? MEMTRACE_UNMAPPED :
				MEMTRACE_OTHER;

			if (d->ctx->color && *mt_picture_color(s))
				printf("%s%c\033[0m", mt_picture_color(s), c);
			else
				putchar(c);
		}
		printf("]\n");
	}
}

/* The title, then VSZ and RSS as /proc/self/status, smaps_rollup and ps see them. */
static void print_measures(const struct mt_demo *d)
{
	bool color = d->ctx->color;

	printf("\n%s== %d/%d %s: %s ==%s\n", color ? "\033[1m" : "", d->stage, ST_N - 1,
	       mt_demo_stage_names[d->stage], stage_titles[d->stage], color ? "\033[0m" : "");
	printf("  status: VmSize %ld kB", d->vsz_kb);
	if (d->stage)
		printf(" (%+ld)", mt_demo_delta(d->vsz_kb, d->prev_vsz_kb));
	printf("  VmRSS %ld kB", d->rss_kb);
	if (d->stage)
		printf(" (%+ld)", mt_demo_delta(d->rss_kb, d->prev_rss_kb));
	printf("   [/proc/self/status]\n");
	if (d->srss_kb >= 0) {
		printf("  smaps:  Rss %ld kB", d->srss_kb);
		if (d->stage)
			printf(" (%+ld)", mt_demo_delta(d->srss_kb, d->prev_srss_kb));
		printf("   [/proc/self/smaps_rollup: counted from the page tables]\n");
	}
	if (d->have_ps)
		printf("  ps:     VSZ %s  RSS %s   [ps -o pid,vsz,rss,comm]\n", d->ps_vsz,
		       d->ps_rss);
	else
		printf("  ps:     unavailable (no ps, or it does not know -o pid,vsz,rss,comm)\n");
}

/* The region as the module sees it, and as pagemap does. */
static void print_region(const struct mt_demo *d)
{
	for (unsigned int i = 0; i < d->nmaps; i++)
		printf("  maps:  %s\n", d->maps_lines[i]);
	if (!d->nmaps && d->maps_read)
		printf("  maps:  (no line of /proc/self/maps covers the region)\n");
	print_picture(d);
	printf("  counts:");
	for (int s = 0; s < MEMTRACE_NSTATES; s++)
		if (d->count[s])
			printf(" %s %llu", mt_state_names[s], (unsigned long long)d->count[s]);
	printf("\n  pagemap cross-check: %llu/%llu pages agree%s\n",
	       (unsigned long long)d->check.agree, (unsigned long long)d->check.checked,
	       d->check.disagree ? "  <-- DISAGREEMENT" : "");
	for (unsigned int i = 0; i < d->ndis; i++) {
		char pm[96];

		printf("    0x%llx: memtrace says %s, pagemap says %s (%s)\n",
		       (unsigned long long)d->dis[i].addr, mt_state_names[d->dis[i].rec->state],
		       mt_pm_describe(d->dis[i].entry, pm, sizeof(pm)), d->dis[i].why);
	}
}

/* What the region's pages account for in the process's Rss, and what not. */
static void print_deltas(const struct mt_demo *d)
{
	long backed = mt_demo_backed_delta(d);
	long rss = mt_demo_delta(d->rss_kb, d->prev_rss_kb);
	long exact = d->srss_kb >= 0 ? mt_demo_delta(d->srss_kb, d->prev_srss_kb) : rss;

	if (!(d->stage > ST_MMAP || backed || rss))
		return;
	printf("  delta:  region backed %+ld kB, process Rss %+ld kB%s", backed,
	       exact, d->srss_kb >= 0 ? " (smaps_rollup)" : "");
	if (backed != exact)
		printf(" (they differ by %+ld kB: the rest of the process — stack, "
		       "libc, page faults elsewhere%s)", exact - backed,
		       d->thp ? ", huge pages" : "");
	printf("\n");
	if (d->srss_kb >= 0 && rss != exact)
		printf("          VmRSS moved %+ld kB instead: it is a counter that kernels "
		       "before 6.2 update\n          per thread every 64 faults, so it lags "
		       "behind the page tables\n", rss);
}

void mt_out_demo_stage(const struct mt_demo *d)
{
	print_measures(d);
	if (d->stage != ST_INITIAL) {
		print_region(d);
		print_deltas(d);
	}
	printf("  %s%s\n", d->stage != ST_INITIAL ? "why:    " : "", stage_note(d));
}

void mt_out_demo_end(const struct mt_demo *d)
{
	printf("\n%s: the module and /proc/self/pagemap %s at every stage\n",
	       d->total_disagree ? "FAIL" : "OK", d->total_disagree ? "disagree" : "agree");
}
