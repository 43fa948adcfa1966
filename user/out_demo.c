// SPDX-License-Identifier: GPL-2.0
/*
 * The demo for people (out_human.c's, the longest): each stage with its
 * measurements, the region's maps lines, its picture, counts, the pagemap
 * cross-check, the deltas and why they are what they are.
 */
#include <stdlib.h>

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
		if (d->thp) {
			static char why[256];

			snprintf(why, sizeof(why),
				 "MADV_DONTNEED first dropped the huge zero page of the read "
				 "stage (a write to it would only split it into %u%s pages); then "
				 "the first write fault in each %llu MiB page backs all its %llu "
				 "pages at once",
				 d->page_size >= 1024 ? d->page_size / 1024 : d->page_size,
				 d->page_size >= 1024 ? "K" : " B",
				 (unsigned long long)(d->hpage >> 20),
				 (unsigned long long)(d->hpage / d->page_size));
			return why;
		}
		return "a write breaks the zero-page mapping (copy-on-write): one frame "
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
	char size[32];

	printf("memtrace demo: pid %ld, %zu page%s of %s, pattern %s%s\n",
	       d->pid, d->npages, mt_plural(d->npages),
	       mt_human_size(d->page_size, size, sizeof(size)), d->pattern,
	       d->thp ? ", THP (MADV_HUGEPAGE, 2 MiB aligned)" : ", MADV_NOHUGEPAGE");
	mt_picture_legend(stdout, d->ctx->color, d->ctx->columns, false);
}

void mt_out_demo_region(const struct mt_demo *d)
{
	(void)d;
}

/* The region's picture, a run of equal characters of d->pic a record */
static void print_picture(const struct mt_demo *d)
{
	struct mt_picture p;

	mt_picture_init(&p, stdout, d->page_size, 0, d->ctx->color, true);
	mt_picture_fit(&p, d->ctx->columns, d->npages);
	for (size_t i = 0, k; i < d->npages; i = k) {
		char c = d->pic[i];
		struct mt_record r = {
			.addr = d->start + i * d->page_size,
			.state = c == '#' || c == 'H' ? MEMTRACE_PRESENT : c == '0' ? MEMTRACE_ZERO :
				 c == '.' ? MEMTRACE_NONE : c == 'S' ? MEMTRACE_SWAP :
				 c == 'M' ? MEMTRACE_MIGRATION : c == ' ' ? MEMTRACE_UNMAPPED :
				 MEMTRACE_OTHER,
			.flags = c == 'H' ? MEMTRACE_F_SIZE_2M : 0,
		};

		for (k = i; k < d->npages && d->pic[k] == c; k++)
			;
		r.pages = k - i;
		mt_picture_add(&p, &r);
	}
	mt_picture_end(&p);
	mt_picture_scale_note(&p);
}

/* " NAME SIZE (+DELTA)": a measure in KiB (as /proc and ps give them) and its change */
static void print_kb(const struct mt_demo *d, const char *name, long kb, long prev)
{
	char size[32], delta[32];

	printf(" %s %s", name, kb < 0 ? "?" : mt_human_size((uint64_t)kb * 1024, size,
								sizeof(size)));
	if (d->stage)
		printf(" (%s)", mt_human_kb_delta(mt_demo_delta(kb, prev), delta,
						  sizeof(delta)));
}

/* The title, then VSZ and RSS as /proc/self/status, smaps_rollup and ps see them. */
static void print_measures(const struct mt_demo *d)
{
	bool color = d->ctx->color;
	char vsz[32], rss[32];

	printf("\n%s== %d/%d %s: %s ==%s\n", color ? "\033[1m" : "", d->stage, ST_N - 1,
	       mt_demo_stage_names[d->stage], stage_titles[d->stage], color ? "\033[0m" : "");
	printf("  status:");
	print_kb(d, "VmSize", d->vsz_kb, d->prev_vsz_kb);
	printf(" ");
	print_kb(d, "VmRSS", d->rss_kb, d->prev_rss_kb);
	printf("   [/proc/self/status]\n");
	if (d->srss_kb >= 0) {
		printf("  smaps: ");
		print_kb(d, "Rss", d->srss_kb, d->prev_srss_kb);
		printf("   [/proc/self/smaps_rollup: counted from the page tables]\n");
	}
	if (d->have_ps)	/* ps prints KiB */
		printf("  ps:     VSZ %s  RSS %s   [ps -o pid,vsz,rss,comm]\n",
		       mt_human_size(strtoull(d->ps_vsz, NULL, 10) * 1024, vsz, sizeof(vsz)),
		       mt_human_size(strtoull(d->ps_rss, NULL, 10) * 1024, rss, sizeof(rss)));
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
	char a[32], b[32];

	if (!(d->stage > ST_MMAP || backed || rss))
		return;
	printf("  delta:  region backed %s, process Rss %s%s",
	       mt_human_kb_delta(backed, a, sizeof(a)), mt_human_kb_delta(exact, b, sizeof(b)),
	       d->srss_kb >= 0 ? " (smaps_rollup)" : "");
	if (backed != exact)
		printf(" (they differ by %s: the rest of the process — stack, "
		       "libc, page faults elsewhere%s)",
		       mt_human_kb_delta(exact - backed, a, sizeof(a)),
		       d->thp ? ", huge pages" : "");
	printf("\n");
	if (d->srss_kb >= 0 && rss != exact)
		printf("          VmRSS moved %s instead: it is a counter that kernels "
		       "before 6.2 update\n          per thread every 64 faults, so it lags "
		       "behind the page tables\n", mt_human_kb_delta(rss, a, sizeof(a)));
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
