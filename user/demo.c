// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace demo: the classic lab experiment, page by page.
 *
 * mmap an anonymous region, read it, write a pattern, write it all,
 * MADV_DONTNEED it, munmap it; at each stage show VSZ/RSS (/proc/self/status
 * and ps), the region's lines of /proc/self/maps, the module's answer as a
 * picture with counts, and the cross-check against /proc/self/pagemap.
 *
 * Between stages the demo must not allocate, so that the RSS deltas are the
 * region's: every buffer (stdout's, the maps and status buffers, the
 * picture, the pagemap cache, the transport's) is set up before the first
 * stage, and ps runs through vfork + execv of a path resolved up front
 * (demo_measure.c). What a stage found goes to the printer (out_*.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "demo.h"
#include "output.h"
#include "transport.h"

#define DEMO_MAX_PAGES	(1U << 18)
#define DEMO_MAPS_BUF	(512 * 1024)

const char *const mt_demo_stage_names[ST_N] = {
	"initial", "mmap", "read", "pattern", "write", "dontneed", "munmap"
};

/* ---- the module's view ---- */

static void demo_disagree(const struct mt_disagreement *dis, void *arg)
{
	struct mt_demo *d = arg;

	d->total_disagree++;
	if (d->ndis < DEMO_DIS_MAX) {
		d->dis_rec[d->ndis] = *dis->rec;
		d->dis[d->ndis] = *dis;
		d->dis[d->ndis].rec = &d->dis_rec[d->ndis];
		d->ndis++;
	}
}

static int demo_cb(const struct mt_header *h, const struct mt_record *r, void *arg)
{
	struct mt_demo *d = arg;

	d->count[r->state] += r->pages;
	mt_picture_fill(d->pic, d->start, d->npages, h->page_size, r);
	return mt_check_record(&d->check, r) ? -EIO : 0;
}

static int look(struct mt_demo *d)
{
	struct mt_query q = { .pid = d->pid, .start = d->start, .end = d->end,
			      .mode = MEMTRACE_MODE_PAGES };
	int ret;

	memset(d->count, 0, sizeof(d->count));
	memset(d->pic, '?', d->npages);
	d->ndis = 0;
	d->check.checked = d->check.agree = d->check.disagree = 0;
	d->check.err = 0;
	mt_pagemap_reset(&d->pm);
	ret = mt_run_query(d->ctx, &q, demo_cb, d, NULL, NULL);
	if (ret < 0 || d->check.err) {
		mt_err("/proc/self/pagemap: %s", strerror(d->check.err ? -d->check.err : EIO));
		return MT_EXIT_FAIL;
	}
	return ret;
}

/*
 * One query before the first stage, of a page the demo already has: the
 * transport sets up whatever it keeps (libnl's socket and buffers for
 * netlink), so that no stage pays for it in RSS.
 */
static int warm_up(struct mt_demo *d)
{
	uint64_t page = (uint64_t)(uintptr_t)d->pic & ~(uint64_t)(d->page_size - 1);
	struct mt_query q = { .pid = d->pid, .start = page,
			      .end = page + d->page_size, .mode = MEMTRACE_MODE_PAGES };

	return mt_run_query(d->ctx, &q, NULL, NULL, NULL, NULL);
}

/* The lines of /proc/self/maps over the region, kept in maps_buf for the printer. */
static void collect_maps(struct mt_demo *d)
{
	char *line = d->maps_buf;

	d->nmaps = 0;
	d->maps_read = mt_demo_read_into("/proc/self/maps", d->maps_buf, DEMO_MAPS_BUF) >= 0;
	if (!d->maps_read)
		return;
	while (line && *line) {
		char *nl = strchr(line, '\n');
		struct mt_map m;

		if (nl)
			*nl = '\0';
		/* parse a copy of the fields; the line itself is printed */
		snprintf(d->maps_tmp, sizeof(d->maps_tmp), "%s", line);
		if (!mt_maps_parse_line(d->maps_tmp, &m) && m.start < d->end && d->start < m.end &&
		    d->nmaps < DEMO_MAPS_LINES)
			d->maps_lines[d->nmaps++] = line;
		line = nl ? nl + 1 : NULL;
	}
}

/* ---- the stages ---- */

static void pause_here(struct mt_demo *d)
{
	char c;
	FILE *o = d->ctx->out->human ? stdout : stderr;
	long pid = d->pid;

	fprintf(o, "\n  -- paused at stage %s. This is pid %ld; look by hand:\n"
		   "       cat /proc/%ld/maps\n"
		   "       grep -E 'VmSize|VmRSS' /proc/%ld/status\n"
		   "       ps -o pid,vsz,rss,comm -p %ld\n", mt_demo_stage_names[d->stage],
		pid, pid, pid, pid);
	if (d->stage != ST_INITIAL)
		fprintf(o, "       memtrace query %ld 0x%llx-0x%llx --pages\n"
			   "       memtrace verify %ld 0x%llx-0x%llx\n",
			pid, (unsigned long long)d->start, (unsigned long long)d->end, pid,
			(unsigned long long)d->start, (unsigned long long)d->end);
	fprintf(o, "     press Enter to go on\n");
	fflush(o);
	while (read(STDIN_FILENO, &c, 1) == 1 && c != '\n')
		;
}

static int stage(struct mt_demo *d, int st)
{
	int ret = 0;

	d->stage = st;
	mt_demo_measure(d);
	if (st != ST_INITIAL) {
		ret = look(d);
		if (ret)
			return ret;
		collect_maps(d);
	}
	d->ctx->out->demo_stage(d);
	fflush(stdout);
	d->prev_rss_kb = d->rss_kb;
	d->prev_srss_kb = d->srss_kb;
	d->prev_vsz_kb = d->vsz_kb;
	d->prev_present = d->count[MEMTRACE_PRESENT];
	if (d->pause)
		pause_here(d);
	return 0;
}

/*
 * A THP's size: what the kernel says (2M with 4K pages, 32M with arm64's
 * 16K), else a PMD's.
 */
static uint64_t thp_size(unsigned int page_size)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "re");
	unsigned long long v = 0;

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	if (!v || (v & (v - 1)) || v < page_size)
		v = mt_pmd_size(page_size);
	return v;
}

static int map_region(struct mt_demo *d)
{
	size_t len = d->npages * d->page_size;
	char *p;

	if (!d->thp) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -errno;
		madvise(p, len, MADV_NOHUGEPAGE);
	} else {
		size_t hpage = (size_t)d->hpage;
		char *raw = mmap(NULL, len + hpage, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uintptr_t a;

		if (raw == MAP_FAILED)
			return -errno;
		a = ((uintptr_t)raw + hpage - 1) & ~(hpage - 1);
		p = (char *)a;
		if (p > raw)
			munmap(raw, (size_t)(p - raw));
		if (p + len < raw + len + hpage)
			munmap(p + len, (size_t)(raw + len + hpage - (p + len)));
		if (madvise(p, len, MADV_HUGEPAGE))
			mt_err("warning: madvise(MADV_HUGEPAGE): %s", strerror(errno));
	}
	d->region = p;
	d->start = (uint64_t)(uintptr_t)p;
	d->end = d->start + len;
	return 0;
}

static bool pattern_bit(const struct mt_demo *d, size_t page)
{
	size_t n = strlen(d->pattern);

	return d->pattern[page % n] == '1';
}

static int parse_pattern(struct mt_demo *d, const char *arg)
{
	if (!strcmp(arg, "even"))
		arg = "10";
	else if (!strcmp(arg, "odd"))
		arg = "01";
	else if (!strcmp(arg, "all"))
		arg = "1";
	else if (!strcmp(arg, "none"))
		arg = "0";
	if (!*arg || strlen(arg) >= sizeof(d->pattern) || strspn(arg, "01") != strlen(arg))
		return -1;
	strcpy(d->pattern, arg);
	return 0;
}

struct demo_opts {
	struct mt_demo *d;
	uint64_t n;
	bool pages_given;
};

static int demo_opt(void *state, int val, const char *arg)
{
	struct demo_opts *o = state;

	switch (val) {
	case 'n':
		if (mt_parse_u64(arg, strlen(arg), &o->n) || !o->n || o->n > DEMO_MAX_PAGES)
			return mt_bad_usage("demo", "--pages: a number from 1 to %u, not '%s'",
					    DEMO_MAX_PAGES, arg);
		o->pages_given = true;
		return 0;
	case 'p':
		if (parse_pattern(o->d, arg))
			return mt_bad_usage("demo", "--pattern: 1s and 0s (at most 64), "
					    "even, odd, all or none; not '%s'", arg);
		return 0;
	case 'T':
		o->d->thp = true;
		return 0;
	case 'z':
		o->d->pause = true;
		return 0;
	}
	return MT_EXIT_USAGE;
}

/* Everything a stage needs, before the first one. */
static int demo_setup(struct mt_demo *d)
{
	struct mt_error perr = { 0 };
	int ret;

	if (d->ctx->tp->probe && d->ctx->tp->probe(d->ctx->ses, &perr)) {
		mt_err("%s", perr.msg);
		return MT_EXIT_FAIL;
	}
	ret = mt_pagemap_open(&d->pm, 0, d->page_size);
	if (ret) {
		mt_err("/proc/self/pagemap: %s", strerror(-ret));
		return MT_EXIT_FAIL;
	}
	d->check = (struct mt_check){ .pm = &d->pm, .cmp_pfn = true, .page_size = d->page_size,
				      .on_disagree = demo_disagree, .arg = d };
	mt_demo_measure_init();
	d->pic = mt_xmalloc(d->npages + 1);
	d->maps_buf = mt_xmalloc(DEMO_MAPS_BUF);
	memset(d->pic, ' ', d->npages + 1);
	memset(d->maps_buf, 0, DEMO_MAPS_BUF);
	mt_demo_find_ps(d);
	ret = warm_up(d);
	if (ret)
		return ret;
	mt_demo_measure(d);	/* warm up: the first vfork/exec faults in code */
	d->prev_rss_kb = d->rss_kb;
	d->prev_srss_kb = d->srss_kb;
	return 0;
}

/* The stages, from mmap to munmap. */
static int demo_stages(struct mt_demo *d)
{
	int ret = map_region(d);

	if (ret) {
		mt_err("mmap: %s", strerror(-ret));
		return MT_EXIT_FAIL;
	}
	d->ctx->out->demo_region(d);
	ret = stage(d, ST_MMAP);
	if (ret)
		goto out_unmap;
	for (size_t i = 0; i < d->npages; i++)
		(void)*(volatile char *)(d->region + i * d->page_size);
	ret = stage(d, ST_READ);
	if (ret)
		goto out_unmap;
	/*
	 * --thp: the reads mapped the huge zero page (when the kernel uses it).
	 * A write fault on it does not allocate a THP: the kernel splits the
	 * PMD and copies 4K pages. Drop it, so that the first write finds no
	 * entry and faults in a whole 2 MiB page.
	 */
	if (d->thp)
		madvise(d->region, d->npages * d->page_size, MADV_DONTNEED);
	for (size_t i = 0; i < d->npages; i++)
		if (pattern_bit(d, i))
			memset(d->region + i * d->page_size, 0xa5, d->page_size);
	ret = stage(d, ST_PATTERN);
	if (ret)
		goto out_unmap;
	memset(d->region, 0x5a, d->npages * d->page_size);
	ret = stage(d, ST_WRITE);
	if (ret)
		goto out_unmap;
	madvise(d->region, d->npages * d->page_size, MADV_DONTNEED);
	ret = stage(d, ST_DONTNEED);
	if (ret)
		goto out_unmap;
	munmap(d->region, d->npages * d->page_size);
	d->region = NULL;
	return stage(d, ST_MUNMAP);
out_unmap:
	munmap(d->region, d->npages * d->page_size);
	return ret;
}

static int demo_run(struct mt_ctx *ctx, int argc, char **argv)
{
	static struct mt_demo d;	/* static: the stages' small stack */
	struct demo_opts o = { .d = &d, .n = 16 };
	int ret;

	memset(&d, 0, sizeof(d));
	d.pm.fd = -1;	/* not open yet */
	d.ctx = ctx;
	d.pid = (long)getpid();
	strcpy(d.pattern, "10");
	ret = mt_parse_opts(ctx, &mt_cmd_demo, argc, argv, demo_opt, &o);
	if (ret != MT_GO)
		return ret;
	if (optind < argc)
		return mt_bad_usage("demo", "unexpected argument '%s'", argv[optind]);
	mt_ctx_finish(ctx);
	d.page_size = (unsigned int)sysconf(_SC_PAGESIZE);
	d.hpage = thp_size(d.page_size);
	if (d.thp) {
		uint64_t per = d.hpage / d.page_size;

		o.n = o.pages_given ? (o.n + per - 1) / per * per : per;
	}
	d.npages = (size_t)o.n;
	ret = demo_setup(&d);
	if (ret)
		goto out;
	ctx->out->demo_begin(&d);
	ret = stage(&d, ST_INITIAL);
	if (!ret)
		ret = demo_stages(&d);
	if (ret)
		goto out;
	if (d.total_disagree)
		ret = MT_EXIT_FAIL;
	ctx->out->demo_end(&d);
out:
	fflush(stdout);
	mt_pagemap_close(&d.pm);
	free(d.pic);
	free(d.maps_buf);
	return ret;
}

static const struct mt_opt demo_opts[] = {
	{ .name = "pages",
	  .shrt = 'n',
	  .val = 'n',
	  .arg = " N",
	  .help = "size of the region in pages (default 16)" },
	{ .name = "pattern",
	  .shrt = 'p',
	  .val = 'p',
	  .arg = " P",
	  .help = "pages written at the pattern stage: a string of 1/0\n"
	  "repeated over the region (1010...), or even, odd,\n"
	  "all, none (default: even, i.e. every other page)",
	  .words = "even odd all none 10 1100" },
	{ .name = "thp",
	  .val = 'T',
	  .help = "a 2 MiB aligned region with MADV_HUGEPAGE\n"
	  "(default: MADV_NOHUGEPAGE)" },
	{ .name = "pause",
	  .val = 'z',
	  .help = "stop at each stage with the commands to look by hand" },
	{ .name = NULL }
};

const struct mt_command mt_cmd_demo = {
	"demo", "[--pages N] [--pattern P] [--thp] [--pause]",
	"map anonymous memory, touch it stage by stage, and watch RSS, maps and every page",
	demo_opts, demo_run
};
