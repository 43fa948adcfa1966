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
 * stage, and ps runs through vfork + execv of a path resolved up front.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "transport.h"

#define DEMO_MAX_PAGES	(1U << 18)
#define DEMO_MAPS_BUF	(512 * 1024)
#define DEMO_DIS_MAX	16
#define HPAGE		(2UL << 20)

enum demo_stage { ST_INITIAL, ST_MMAP, ST_READ, ST_PATTERN, ST_WRITE, ST_DONTNEED,
		  ST_MUNMAP, ST_N };

static const char *const stage_names[ST_N] = {
	"initial", "mmap", "read", "pattern", "write", "dontneed", "munmap"
};

static const char *const stage_titles[ST_N] = {
	"before anything is mapped",
	"after mmap(PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS)",
	"after reading every page",
	"after writing the pattern",
	"after writing every page (memset)",
	"after madvise(MADV_DONTNEED)",
	"after munmap",
};

struct demo {
	const struct mt_ctx *ctx;
	unsigned int page_size;
	size_t npages;
	bool thp, pause;
	char pattern[65];
	char *region;
	uint64_t start, end;
	bool mapped;		/* region exists (or existed: munmap stage) */
	char *pic;		/* npages + 1 */
	uint64_t count[MEMTRACE_NSTATES];
	uint64_t prev_present;
	long vsz_kb, rss_kb, prev_rss_kb, prev_vsz_kb;
	long srss_kb, prev_srss_kb;	/* smaps_rollup Rss: -1 if unavailable */
	char ps_vsz[32], ps_rss[32];
	bool have_ps;
	char ps_path[256];
	char *maps_buf;
	struct mt_pagemap pm;
	struct mt_check check;
	struct mt_disagreement dis[DEMO_DIS_MAX];
	struct mt_record dis_rec[DEMO_DIS_MAX];
	unsigned int ndis;
	uint64_t total_disagree;
	int stage;
	bool first_stage_out;
};

static char stdout_buf[1 << 16];
static char status_buf[8192];
static char rollup_buf[4096];
static char ps_buf[16384];

/* ---- measurements without allocating ---- */

static ssize_t read_into(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - len - 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

static long status_kb(const char *key)
{
	const char *p = strstr(status_buf, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static void measure_status(struct demo *d)
{
	if (read_into("/proc/self/status", status_buf, sizeof(status_buf)) < 0) {
		d->vsz_kb = d->rss_kb = -1;
		return;
	}
	d->vsz_kb = status_kb("\nVmSize:");
	d->rss_kb = status_kb("\nVmRSS:");
	/*
	 * VmRSS is a counter; before 6.2 each thread folds its share into it
	 * only every 64 faults, so it lags. smaps_rollup counts Rss from the
	 * page tables: exact, at the cost of a walk.
	 */
	d->srss_kb = -1;
	if (read_into("/proc/self/smaps_rollup", rollup_buf, sizeof(rollup_buf)) > 0) {
		const char *p = strstr(rollup_buf, "\nRss:");

		if (p)
			d->srss_kb = strtol(p + 5, NULL, 10);
	}
}

static void find_ps(struct demo *d)
{
	const char *path = getenv("PATH");
	const char *p = path && *path ? path : "/usr/bin:/bin:/usr/sbin:/sbin";

	d->ps_path[0] = '\0';
	while (*p) {
		size_t n = strcspn(p, ":");

		if (n && n + 4 < sizeof(d->ps_path)) {
			memcpy(d->ps_path, p, n);
			memcpy(d->ps_path + n, "/ps", 4);
			if (!access(d->ps_path, X_OK))
				return;
		}
		p += n + (p[n] == ':');
	}
	d->ps_path[0] = '\0';
}

static void read_pipe(int fd)
{
	size_t len = 0;

	while (len + 1 < sizeof(ps_buf)) {
		ssize_t n = read(fd, ps_buf + len, sizeof(ps_buf) - len - 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	ps_buf[len] = '\0';
}

/* Run ps into ps_buf; 0 if it exited 0. vfork: no copy of our memory. */
static int run_ps(struct demo *d, char *const argv[])
{
	int fds[2], status;
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = vfork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(fds[1], STDOUT_FILENO);
		if (devnull >= 0)
			dup2(devnull, STDERR_FILENO);
		execv(d->ps_path, argv);
		_exit(127);
	}
	close(fds[1]);
	read_pipe(fds[0]);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Find our line ("PID VSZ RSS COMM") in ps_buf. */
static bool parse_ps(struct demo *d)
{
	char *line = ps_buf;
	long me = (long)getpid();

	while (line && *line) {
		char *nl = strchr(line, '\n'), *p = line, *e;
		long pid;

		if (nl)
			*nl = '\0';
		while (*p == ' ')
			p++;
		pid = strtol(p, &e, 10);
		if (e != p && pid == me) {
			size_t n;

			p = e + strspn(e, " ");
			n = strcspn(p, " ");
			if (n && n < sizeof(d->ps_vsz)) {
				memcpy(d->ps_vsz, p, n);
				d->ps_vsz[n] = '\0';
				p += n;
				p += strspn(p, " ");
				n = strcspn(p, " ");
				if (n && n < sizeof(d->ps_rss)) {
					memcpy(d->ps_rss, p, n);
					d->ps_rss[n] = '\0';
					return true;
				}
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return false;
}

static void measure_ps(struct demo *d)
{
	char pidstr[24];
	char *argv1[] = { "ps", "-o", "pid,vsz,rss,comm", "-p", pidstr, NULL };
	char *argv2[] = { "ps", "-o", "pid,vsz,rss,comm", NULL };

	d->have_ps = false;
	if (!d->ps_path[0])
		return;
	snprintf(pidstr, sizeof(pidstr), "%ld", (long)getpid());
	/* busybox ps may not know -p: then list everything and find us */
	if ((!run_ps(d, argv1) && parse_ps(d)) || (!run_ps(d, argv2) && parse_ps(d)))
		d->have_ps = true;
}

/* ---- the module's view ---- */

static void demo_disagree(const struct mt_disagreement *dis, void *arg)
{
	struct demo *d = arg;

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
	struct demo *d = arg;

	d->count[r->state] += r->pages;
	mt_picture_fill(d->pic, d->start, d->npages, h->page_size, r);
	return mt_check_record(&d->check, r) ? -EIO : 0;
}

static int look(struct demo *d)
{
	struct mt_query q = { .pid = (long)getpid(), .start = d->start, .end = d->end,
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
static int warm_up(struct demo *d)
{
	uint64_t page = (uint64_t)(uintptr_t)d->pic & ~(uint64_t)(d->page_size - 1);
	struct mt_query q = { .pid = (long)getpid(), .start = page,
			      .end = page + d->page_size, .mode = MEMTRACE_MODE_PAGES };

	return mt_run_query(d->ctx, &q, NULL, NULL, NULL, NULL);
}

/* ---- output ---- */

static const char *stage_note(const struct demo *d)
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

static void print_maps_lines(struct demo *d, bool json)
{
	char *line = d->maps_buf;
	bool first = true;

	if (read_into("/proc/self/maps", d->maps_buf, DEMO_MAPS_BUF) < 0)
		return;
	while (line && *line) {
		char *nl = strchr(line, '\n');
		char save = 0;
		struct mt_map m;

		if (nl) {
			save = *nl;
			*nl = '\0';
		}
		{
			/* parse a copy of the fields; the line itself is printed */
			static char tmp[4096];

			snprintf(tmp, sizeof(tmp), "%s", line);
			if (!mt_maps_parse_line(tmp, &m) && m.start < d->end && d->start < m.end) {
				if (json) {
					fputs(first ? "" : ",", stdout);
					mt_json_str(stdout, line);
				} else if (d->ctx->format == MT_FMT_TSV) {
					printf("maps\t%d\t%s\n", d->stage, line);
				} else {
					printf("  maps:  %s\n", line);
				}
				first = false;
			}
		}
		if (nl)
			*nl = save;
		line = nl ? nl + 1 : NULL;
	}
	if (first && !json && d->ctx->format == MT_FMT_HUMAN)
		printf("  maps:  (no line of /proc/self/maps covers the region)\n");
}

static void print_picture(struct demo *d)
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

static void machine_map(const struct demo *d)
{
	for (size_t i = 0; i < d->npages; i++)
		putchar(d->pic[i] == ' ' ? '_' : d->pic[i]);
}

static long delta(long now, long prev)
{
	return now >= 0 && prev >= 0 ? now - prev : 0;
}

static void print_stage(struct demo *d)
{
	bool region = d->stage != ST_INITIAL;
	uint64_t present = d->count[MEMTRACE_PRESENT];
	long backed_delta = (long)((int64_t)(present - d->prev_present) * d->page_size / 1024);
	long rss_delta = delta(d->rss_kb, d->prev_rss_kb);

	if (d->ctx->format == MT_FMT_TSV) {
		printf("stage\t%d\t%s\t%ld\t%ld\t%ld\t%s\t%s", d->stage, stage_names[d->stage],
		       d->vsz_kb, d->rss_kb, d->stage ? rss_delta : 0,
		       d->have_ps ? d->ps_vsz : "-", d->have_ps ? d->ps_rss : "-");
		for (int s = 0; s < MEMTRACE_NSTATES; s++)
			if (region)
				printf("\t%llu", (unsigned long long)d->count[s]);
			else
				printf("\t-");
		if (region) {
			printf("\t%ld\t%llu\t%llu\t", backed_delta,
			       (unsigned long long)d->check.agree,
			       (unsigned long long)d->check.checked);
			machine_map(d);
			printf("\t%ld\n", d->srss_kb);
		} else {
			printf("\t-\t-\t-\t-\t%ld\n", d->srss_kb);
		}
		if (region)
			print_maps_lines(d, false);
		for (unsigned int i = 0; i < d->ndis; i++)
			printf("disagree\t%d\t0x%llx\t%s\t0x%016llx\t%s\n", d->stage,
			       (unsigned long long)d->dis[i].addr,
			       mt_state_names[d->dis[i].rec->state],
			       (unsigned long long)d->dis[i].entry, d->dis[i].why);
		return;
	}
	if (d->ctx->format == MT_FMT_JSON) {
		printf("%s{\"stage\":%d,\"name\":\"%s\",\"vsz_kb\":%ld,\"rss_kb\":%ld,"
		       "\"rss_delta_kb\":%ld,\"smaps_rss_kb\":%ld,\"ps\":", d->stage ? "," : "",
		       d->stage, stage_names[d->stage], d->vsz_kb, d->rss_kb,
		       d->stage ? rss_delta : 0, d->srss_kb);
		if (d->have_ps) {
			printf("{\"vsz\":");
			mt_json_str(stdout, d->ps_vsz);
			printf(",\"rss\":");
			mt_json_str(stdout, d->ps_rss);
			printf("}");
		} else {
			printf("null");
		}
		printf(",\"region\":");
		if (!region) {
			printf("null}");
			return;
		}
		printf("{\"counts\":{");
		for (int s = 0; s < MEMTRACE_NSTATES; s++)
			printf("%s\"%s\":%llu", s ? "," : "", mt_state_names[s],
			       (unsigned long long)d->count[s]);
		printf("},\"backed_delta_kb\":%ld,\"agree\":%llu,\"checked\":%llu,\"map\":\"",
		       backed_delta, (unsigned long long)d->check.agree,
		       (unsigned long long)d->check.checked);
		machine_map(d);
		printf("\",\"maps\":[");
		print_maps_lines(d, true);
		printf("],\"disagreements\":[");
		for (unsigned int i = 0; i < d->ndis; i++) {
			printf("%s{\"addr\":\"0x%llx\",\"state\":\"%s\",\"pagemap\":\"0x%016llx\","
			       "\"reason\":", i ? "," : "", (unsigned long long)d->dis[i].addr,
			       mt_state_names[d->dis[i].rec->state],
			       (unsigned long long)d->dis[i].entry);
			mt_json_str(stdout, d->dis[i].why);
			putchar('}');
		}
		printf("]}}");
		return;
	}

	printf("\n%s== %d/%d %s: %s ==%s\n", d->ctx->color ? "\033[1m" : "", d->stage, ST_N - 1,
	       stage_names[d->stage], stage_titles[d->stage], d->ctx->color ? "\033[0m" : "");
	printf("  status: VmSize %ld kB", d->vsz_kb);
	if (d->stage)
		printf(" (%+ld)", delta(d->vsz_kb, d->prev_vsz_kb));
	printf("  VmRSS %ld kB", d->rss_kb);
	if (d->stage)
		printf(" (%+ld)", rss_delta);
	printf("   [/proc/self/status]\n");
	if (d->srss_kb >= 0) {
		printf("  smaps:  Rss %ld kB", d->srss_kb);
		if (d->stage)
			printf(" (%+ld)", delta(d->srss_kb, d->prev_srss_kb));
		printf("   [/proc/self/smaps_rollup: counted from the page tables]\n");
	}
	if (d->have_ps)
		printf("  ps:     VSZ %s  RSS %s   [ps -o pid,vsz,rss,comm]\n", d->ps_vsz, d->ps_rss);
	else
		printf("  ps:     unavailable (no ps, or it does not know -o pid,vsz,rss,comm)\n");
	if (!region) {
		printf("  %s\n", stage_note(d));
		return;
	}
	print_maps_lines(d, false);
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
	if (d->stage > ST_MMAP || backed_delta || rss_delta) {
		long exact = d->srss_kb >= 0 ? delta(d->srss_kb, d->prev_srss_kb) : rss_delta;

		printf("  delta:  region backed %+ld kB, process Rss %+ld kB%s", backed_delta,
		       exact, d->srss_kb >= 0 ? " (smaps_rollup)" : "");
		if (backed_delta != exact)
			printf(" (they differ by %+ld kB: the rest of the process — stack, "
			       "libc, page faults elsewhere%s)", exact - backed_delta,
			       d->thp ? ", huge pages" : "");
		printf("\n");
		if (d->srss_kb >= 0 && rss_delta != exact)
			printf("          VmRSS moved %+ld kB instead: it is a counter that kernels "
			       "before 6.2 update\n          per thread every 64 faults, so it lags "
			       "behind the page tables\n", rss_delta);
	}
	printf("  why:    %s\n", stage_note(d));
}

/* ---- the stages ---- */

static void pause_here(struct demo *d)
{
	char c;
	FILE *o = d->ctx->format == MT_FMT_HUMAN ? stdout : stderr;
	long pid = (long)getpid();

	fprintf(o, "\n  -- paused at stage %s. This is pid %ld; look by hand:\n"
		   "       cat /proc/%ld/maps\n"
		   "       grep -E 'VmSize|VmRSS' /proc/%ld/status\n"
		   "       ps -o pid,vsz,rss,comm -p %ld\n", stage_names[d->stage], pid, pid,
		pid, pid);
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

static int stage(struct demo *d, int st)
{
	int ret = 0;

	d->stage = st;
	measure_status(d);
	measure_ps(d);
	if (st != ST_INITIAL) {
		ret = look(d);
		if (ret)
			return ret;
	}
	print_stage(d);
	fflush(stdout);
	d->prev_rss_kb = d->rss_kb;
	d->prev_srss_kb = d->srss_kb;
	d->prev_vsz_kb = d->vsz_kb;
	d->prev_present = d->count[MEMTRACE_PRESENT];
	if (d->pause)
		pause_here(d);
	return 0;
}

static int map_region(struct demo *d)
{
	size_t len = d->npages * d->page_size;
	char *p;

	if (!d->thp) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -errno;
		madvise(p, len, MADV_NOHUGEPAGE);
	} else {
		char *raw = mmap(NULL, len + HPAGE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uintptr_t a;

		if (raw == MAP_FAILED)
			return -errno;
		a = ((uintptr_t)raw + HPAGE - 1) & ~(HPAGE - 1);
		p = (char *)a;
		if (p > raw)
			munmap(raw, (size_t)(p - raw));
		if (p + len < raw + len + HPAGE)
			munmap(p + len, (size_t)(raw + len + HPAGE - (p + len)));
		if (madvise(p, len, MADV_HUGEPAGE))
			mt_err("warning: madvise(MADV_HUGEPAGE): %s", strerror(errno));
	}
	d->region = p;
	d->start = (uint64_t)(uintptr_t)p;
	d->end = d->start + len;
	return 0;
}

static bool pattern_bit(const struct demo *d, size_t page)
{
	size_t n = strlen(d->pattern);

	return d->pattern[page % n] == '1';
}

static int parse_pattern(struct demo *d, const char *arg)
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

int mt_cmd_demo(struct mt_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		MT_COMMON_LONGOPTS,
		{ "pages", required_argument, NULL, 'n' },
		{ "pattern", required_argument, NULL, 'p' },
		{ "thp", no_argument, NULL, 'T' },
		{ "pause", no_argument, NULL, 'z' },
		{ NULL, 0, NULL, 0 }
	};
	static struct demo d;
	static struct mt_error perr;
	uint64_t n = 16;
	int opt, ret;
	bool pages_given = false;

	memset(&d, 0, sizeof(d));
	d.ctx = ctx;
	strcpy(d.pattern, "10");
	while ((opt = getopt_long(argc, argv, MT_COMMON_SHORTOPTS "n:p:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (mt_parse_u64(optarg, strlen(optarg), &n) || !n || n > DEMO_MAX_PAGES)
				return mt_bad_usage("demo", "--pages: a number from 1 to %u, not '%s'",
						    DEMO_MAX_PAGES, optarg);
			pages_given = true;
			break;
		case 'p':
			if (parse_pattern(&d, optarg))
				return mt_bad_usage("demo", "--pattern: 1s and 0s (at most 64), "
						    "even, odd, all or none; not '%s'", optarg);
			break;
		case 'T': d.thp = true; break;
		case 'z': d.pause = true; break;
		case 'h': mt_usage_of("demo", stdout); return MT_EXIT_OK;
		case '?': return mt_bad_usage("demo", "bad option '%s'", argv[optind - 1]);
		default:
			ret = mt_common_opt(ctx, opt, optarg);
			if (ret)
				return ret;
		}
	}
	if (optind < argc)
		return mt_bad_usage("demo", "unexpected argument '%s'", argv[optind]);
	mt_ctx_finish(ctx);
	d.page_size = (unsigned int)sysconf(_SC_PAGESIZE);
	if (d.thp) {
		uint64_t per = HPAGE / d.page_size;

		n = pages_given ? (n + per - 1) / per * per : per;
	}
	d.npages = (size_t)n;

	if (ctx->tp->probe && ctx->tp->probe(&perr)) {
		mt_err("%s", perr.msg);
		return MT_EXIT_FAIL;
	}
	ret = mt_pagemap_open(&d.pm, 0, d.page_size);
	if (ret) {
		mt_err("/proc/self/pagemap: %s", strerror(-ret));
		return MT_EXIT_FAIL;
	}
	d.check = (struct mt_check){ .pm = &d.pm, .cmp_pfn = true, .page_size = d.page_size,
				     .on_disagree = demo_disagree, .arg = &d };

	/* every buffer now, touched, so that no stage allocates or faults them in */
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	d.pic = mt_xmalloc(d.npages + 1);
	d.maps_buf = mt_xmalloc(DEMO_MAPS_BUF);
	memset(d.pic, ' ', d.npages + 1);
	memset(d.maps_buf, 0, DEMO_MAPS_BUF);
	memset(ps_buf, 0, sizeof(ps_buf));
	memset(status_buf, 0, sizeof(status_buf));
	find_ps(&d);
	ret = warm_up(&d);
	if (ret)
		goto out;
	measure_status(&d);
	measure_ps(&d);		/* warm up: the first vfork/exec faults in code */
	d.prev_rss_kb = d.rss_kb;
	d.prev_srss_kb = d.srss_kb;

	switch (ctx->format) {
	case MT_FMT_TSV:
		printf("# memtrace-demo pid=%ld pages=%zu page_size=%u pattern=%s thp=%d\n"
		       "# stage\tnum\tname\tvsz_kb\trss_kb\trss_delta_kb\tps_vsz\tps_rss",
		       (long)getpid(), d.npages, d.page_size, d.pattern, d.thp);
		for (int s = 0; s < MEMTRACE_NSTATES; s++)
			printf("\t%s", mt_state_names[s]);
		printf("\tbacked_delta_kb\tagree\tchecked\tmap\tsmaps_rss_kb\n");
		break;
	case MT_FMT_JSON:
		printf("{\"pid\":%ld,\"pages\":%zu,\"page_size\":%u,\"pattern\":\"%s\",\"thp\":%s,"
		       "\"stages\":[", (long)getpid(), d.npages, d.page_size, d.pattern,
		       d.thp ? "true" : "false");
		break;
	default:
		printf("memtrace demo: pid %ld, %zu pages of %u bytes, pattern %s%s\n",
		       (long)getpid(), d.npages, d.page_size, d.pattern,
		       d.thp ? ", THP (MADV_HUGEPAGE, 2 MiB aligned)" : ", MADV_NOHUGEPAGE");
		mt_picture_legend(stdout, ctx->color);
	}

	ret = stage(&d, ST_INITIAL);
	if (ret)
		goto out;
	ret = map_region(&d);
	if (ret) {
		mt_err("mmap: %s", strerror(-ret));
		ret = MT_EXIT_FAIL;
		goto out;
	}
	if (ctx->format == MT_FMT_TSV)
		printf("# region start=0x%llx end=0x%llx\n", (unsigned long long)d.start,
		       (unsigned long long)d.end);
	ret = stage(&d, ST_MMAP);
	if (ret)
		goto out_unmap;
	for (size_t i = 0; i < d.npages; i++)
		(void)*(volatile char *)(d.region + i * d.page_size);
	ret = stage(&d, ST_READ);
	if (ret)
		goto out_unmap;
	/*
	 * --thp: the reads mapped the huge zero page (when the kernel uses it).
	 * A write fault on it does not allocate a THP: the kernel splits the
	 * PMD and copies 4K pages. Drop it, so that the first write finds no
	 * entry and faults in a whole 2 MiB page.
	 */
	if (d.thp)
		madvise(d.region, d.npages * d.page_size, MADV_DONTNEED);
	for (size_t i = 0; i < d.npages; i++)
		if (pattern_bit(&d, i))
			memset(d.region + i * d.page_size, 0xa5, d.page_size);
	ret = stage(&d, ST_PATTERN);
	if (ret)
		goto out_unmap;
	memset(d.region, 0x5a, d.npages * d.page_size);
	ret = stage(&d, ST_WRITE);
	if (ret)
		goto out_unmap;
	madvise(d.region, d.npages * d.page_size, MADV_DONTNEED);
	ret = stage(&d, ST_DONTNEED);
	if (ret)
		goto out_unmap;
	munmap(d.region, d.npages * d.page_size);
	d.region = NULL;
	ret = stage(&d, ST_MUNMAP);
	if (ret)
		goto out;
	if (d.total_disagree)
		ret = MT_EXIT_FAIL;
	switch (ctx->format) {
	case MT_FMT_TSV:
		printf("# result %s disagreements=%llu\n", d.total_disagree ? "disagree" : "agree",
		       (unsigned long long)d.total_disagree);
		break;
	case MT_FMT_JSON:
		printf("],\"disagreements\":%llu,\"ok\":%s}\n", (unsigned long long)d.total_disagree,
		       d.total_disagree ? "false" : "true");
		break;
	default:
		printf("\n%s: the module and /proc/self/pagemap %s at every stage\n",
		       d.total_disagree ? "FAIL" : "OK", d.total_disagree ? "disagree" : "agree");
	}
	goto out;
out_unmap:
	if (d.region)
		munmap(d.region, d.npages * d.page_size);
out:
	fflush(stdout);
	mt_pagemap_close(&d.pm);
	free(d.pic);
	free(d.maps_buf);
	return ret;
}
