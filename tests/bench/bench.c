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
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "memtrace.h"
#include "nlraw.h"
#include "tap.h"

#define PAGE 4096UL
#define MIB (1024UL * 1024)
#define HUGE (2 * MIB)

/* PAGEMAP_SCAN uapi (6.7), defined here: the host's headers may lack it. */
struct mt_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
struct mt_page_region {
	uint64_t start, end, categories;
};
#define MT_PAGEMAP_SCAN _IOWR('f', 16, struct mt_pm_scan_arg)
#define MT_PAGE_IS_PRESENT (1 << 3)
#define MT_SCAN_VEC 65536	/* regions per ioctl; loop on walk_end */

/* ------------------------------------------------------------------ */
/* methods */

enum method {
	M_NL_RUNS, M_NL_PAGES, M_PROC_RUNS, M_PROC_PAGES,
	M_PAGEMAP, M_MINCORE, M_SCAN,
	/* profiling variants: netlink's nested records; /proc's answer not parsed */
	M_NL_RUNS_NEST, M_NL_PAGES_NEST, M_PROC_RUNS_RAW, M_PROC_PAGES_RAW,
	M_NL_PAGES_NOPFN,	/* packed, MEMTRACE_A_NO_PFN: a residency query */
	M_NL_PAGES_WORDS,	/* that, with a word a page instead of a byte */
	M_N
};
static const char *const method_names[M_N] = {
	"nl runs", "nl pages", "proc runs", "proc pages",
	"pagemap pread", "mincore", "PAGEMAP_SCAN",
	"nl runs (nested)", "nl pages (nested)",
	"proc runs (no parse)", "proc pages (no parse)",
	"nl pages (no pfn)", "nl pages (words, no pfn)",
};
#define M_MAIN 7	/* methods in the main table */

enum rstate { S_UNTOUCHED, S_WRITTEN, S_ALTERNATE, S_ZERO, S_THP, S_N };
static const char *const state_names[S_N] = {
	"untouched", "all written", "every other page", "read-only (zero page)",
	"THP (MADV_HUGEPAGE)",
};

static int repeats = 7;
static bool smoke;
static bool have_scan;
static char label[80] = "?", accel[32] = "tcg", date[32] = "?";

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ------------------------------------------------------------------ */
/* generic netlink, through the tests' raw client (tests/lib/nlraw.h) */

static struct nlr nl;

/* Receive one datagram, waiting as long as the kernel takes; a truncated one is an error. */
static ssize_t nl_recv(void)
{
	ssize_t n = nlr_recv(&nl, 0);

	if (n == -EMSGSIZE) {
		fprintf(stderr, "bench: netlink message truncated\n");
		exit(1);
	}
	if (n < 0) {
		errno = (int)-n;
		die("netlink recv");
	}
	return n;
}

static void nl_open(void)
{
	int err = nlr_open(&nl);

	if (err) {
		fprintf(stderr, "bench: genl family %s not found (module loaded?): %s\n",
			MEMTRACE_GENL_NAME, strerror(-err));
		exit(1);
	}
}

static uint64_t get_u64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static bool state_backed(unsigned int st)
{
	return st == MEMTRACE_PRESENT || st == MEMTRACE_ZERO;
}

/*
 * Add up one QUERY message: *backed gets the present and zero pages of its
 * records (packed arrays or nested records), *sum_backed those of the
 * summary, when the message carries it.
 */
static void nl_parse(struct nlmsghdr *h, uint64_t *backed, uint64_t *sum_backed)
{
	struct nlattr *a, *b;
	int rem, rem2;

	nlr_for_each_attr(a, (char *)NLMSG_DATA(h) + GENL_HDRLEN,
			  (int)(h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN)), rem) {
		unsigned int len = a->nla_len - NLA_HDRLEN;
		const char *d = nlr_data(a);

		switch (a->nla_type & NLA_TYPE_MASK) {
		case MEMTRACE_A_RUNS:
			for (unsigned int i = 0; i + sizeof(struct memtrace_run) <= len;
			     i += sizeof(struct memtrace_run)) {
				uint32_t w;

				memcpy(&w, d + i + offsetof(struct memtrace_run, word), 4);
				if (state_backed(MEMTRACE_PW_STATE(w)))
					*backed += get_u64(d + i + offsetof(struct memtrace_run, pages));
			}
			break;
		case MEMTRACE_A_PAGEVEC: {
			const uint32_t *w = (const uint32_t *)(d + sizeof(struct memtrace_pagevec));
			uint32_t n = ((const struct memtrace_pagevec *)d)->count;

			for (uint32_t i = 0; i < n; i++)
				*backed += state_backed(MEMTRACE_PW_STATE(w[i]));
			break;
		}
		case MEMTRACE_A_PAGEIDX: {
			const struct memtrace_pageidx *v = (const void *)d;
			const uint8_t *ix = (const uint8_t *)(v + 1);
			const uint32_t *w = (const uint32_t *)(d + MEMTRACE_PAGEIDX_WORDS_OFF(v->count));
			uint8_t b[MEMTRACE_PAGEIDX_WORDS_MAX] = { 0 };

			for (unsigned int i = 0; i < v->nwords; i++)
				b[i] = state_backed(MEMTRACE_PW_STATE(w[i]));
			for (uint32_t i = 0; i < v->count; i++)
				*backed += b[ix[i]];
			break;
		}
		case MEMTRACE_A_RECORD: {
			uint64_t pages = 0;
			int st = -1;

			nlr_for_each_attr(b, nlr_data(a), (int)len, rem2) {
				if (b->nla_type == MEMTRACE_R_PAGES)
					pages = get_u64(nlr_data(b));
				else if (b->nla_type == MEMTRACE_R_STATE)
					st = *(uint8_t *)nlr_data(b);
			}
			if (state_backed(st))
				*backed += pages;
			break;
		}
		case MEMTRACE_A_SUMMARY:
			nlr_for_each_attr(b, nlr_data(a), (int)len, rem2)
				if (state_backed(b->nla_type - 1))
					*sum_backed += get_u64(nlr_data(b));
			break;
		}
	}
}

/*
 * One QUERY dump of pid's [start, end) (end 0: to TASK_SIZE) in mode, packed
 * or with nested records, with pfns or not (how). Returns the backed pages of the summary, checked
 * against the records'. hook, when set, is called every 16 messages (kernel
 * memory probe).
 */
#define NL_PACKED 1	/* MEMTRACE_A_PACKED */
#define NL_NO_PFN 2	/* MEMTRACE_A_NO_PFN */
#define NL_INDEXED 4	/* MEMTRACE_A_INDEXED: a byte a page */

static uint64_t nl_query(int pid, uint64_t start, uint64_t end, int mode, int how,
			 void (*hook)(void))
{
	static struct nlb r;
	uint64_t backed = 0, sum_backed = 0;
	unsigned int msgs = 0;
	bool done = false;
	int err;

	nlb_start(&r, &nl, MEMTRACE_CMD_QUERY, NLM_F_DUMP);
	nlb_u32(&r, MEMTRACE_A_PID, (uint32_t)pid);
	nlb_u64(&r, MEMTRACE_A_START, start);
	if (end)
		nlb_u64(&r, MEMTRACE_A_END, end);
	nlb_u8(&r, MEMTRACE_A_MODE, (uint8_t)mode);
	if (how & NL_PACKED)
		nlb_attr(&r, MEMTRACE_A_PACKED, NULL, 0);
	if (how & NL_NO_PFN)
		nlb_attr(&r, MEMTRACE_A_NO_PFN, NULL, 0);
	if (how & NL_INDEXED)
		nlb_attr(&r, MEMTRACE_A_INDEXED, NULL, 0);
	err = nlr_send(&nl, &r);
	if (err) {
		errno = -err;
		die("netlink send");
	}

	while (!done) {
		ssize_t n = nl_recv();
		struct nlmsghdr *h;

		for (h = (struct nlmsghdr *)nl.buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r.seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				errno = -e->error;
				die("memtrace QUERY");
			}
			nl_parse(h, &backed, &sum_backed);
			if (hook && ++msgs % 16 == 1)
				hook();
		}
	}
	if (backed != sum_backed) {
		fprintf(stderr, "bench: netlink records say %" PRIu64
			" backed pages, the summary %" PRIu64 "\n", backed, sum_backed);
		exit(1);
	}
	return sum_backed;
}

/* ------------------------------------------------------------------ */
/* /proc/memtrace */

#define PROC_READ (256 * 1024)
static char *proc_buf;
static char proc_tail[512];

static int proc_fd = -1;

static uint64_t proc_query(int pid, uint64_t start, uint64_t end, const char *mode,
			   bool parse, void (*hook)(void))
{
	uint64_t backed = 0, sum_backed = 0;
	size_t keep = 0;
	unsigned int reads = 0;
	char q[128];
	int fd, len;
	ssize_t n;

	proc_tail[0] = '\0';
	/*
	 * One open file for every query, as the netlink socket is one: a new
	 * query written to it replaces the last (memtrace.h).
	 */
	if (proc_fd < 0)
		proc_fd = open("/proc/memtrace", O_RDWR | O_CLOEXEC);
	if (proc_fd < 0)
		die("open /proc/memtrace");
	fd = proc_fd;
	if (end)
		len = snprintf(q, sizeof(q), "%d 0x%" PRIx64 " 0x%" PRIx64 " %s\n",
			       pid, start, end, mode);
	else
		len = snprintf(q, sizeof(q), "%d all %s\n", pid, mode);
	if (write(fd, q, len) != len)
		die("write /proc/memtrace");
	/*
	 * Lines may straddle reads: keep the partial last line in front of
	 * the next read. Parsing counts pages of present and zero lines.
	 */
	while ((n = read(fd, proc_buf + keep, PROC_READ)) > 0) {
		char *p = proc_buf, *e = proc_buf + keep + n, *nl;

		if (hook && ++reads % 4 == 1)
			hook();
		if (!parse) {
			/* keep the last bytes: the summary is the last line */
			size_t cap = sizeof(proc_tail) - 1, t = strlen(proc_tail);

			if ((size_t)n >= cap) {
				memcpy(proc_tail, e - cap, cap);
				t = cap;
			} else {
				if (t + n > cap) {
					memmove(proc_tail, proc_tail + t + n - cap, cap - n);
					t = cap - n;
				}
				memcpy(proc_tail + t, e - n, n);
				t += n;
			}
			proc_tail[t] = '\0';
			continue;
		}
		while ((nl = memchr(p, '\n', e - p))) {
			if (p[0] == '0') {
				char *t = memchr(p, '\t', nl - p);
				uint64_t pages = strtoull(t + 1, &t, 10);

				if (t[1] == 'p' || t[1] == 'z')	/* present, zero */
					backed += pages;
			} else if (!strncmp(p, "# summary", 9)) {
				*nl = '\0';
				snprintf(proc_tail, sizeof(proc_tail), "%s", p);
			}
			p = nl + 1;
		}
		keep = e - p;
		memmove(proc_buf, p, keep);
	}
	if (n < 0)
		die("read /proc/memtrace");
	{
		char *s = strstr(proc_tail, " zero="), *t = strstr(proc_tail, " present=");

		if (!s || !t) {
			fprintf(stderr, "bench: no summary in /proc/memtrace's answer\n");
			exit(1);
		}
		sum_backed = strtoull(s + 6, NULL, 10) + strtoull(t + 9, NULL, 10);
	}
	if (parse && backed != sum_backed) {
		fprintf(stderr, "bench: /proc records say %" PRIu64
			" backed pages, the summary %" PRIu64 "\n", backed, sum_backed);
		exit(1);
	}
	return sum_backed;
}

/* ------------------------------------------------------------------ */
/* the others */

static uint64_t *pm_buf;
static unsigned char *mc_buf;
static struct mt_page_region *scan_buf;

static size_t pm_cap;	/* entries in pm_buf */

/* Like page-types: one pread of the range's entries (chunked past pm_cap). */
static uint64_t pagemap_pread(int pid, uint64_t start, uint64_t end)
{
	char path[64];
	uint64_t backed = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open pagemap");
	while (start < end) {
		size_t n = (end - start) / PAGE < pm_cap ? (end - start) / PAGE : pm_cap;

		if (pread(fd, pm_buf, n * 8, start / PAGE * 8) != (ssize_t)(n * 8))
			die("pread pagemap (short)");
		for (size_t i = 0; i < n; i++)
			backed += pm_buf[i] >> 63;
		start += n * PAGE;
	}
	close(fd);
	return backed;
}

static uint64_t do_mincore(uint64_t start, uint64_t end)
{
	size_t n = (end - start) / PAGE;
	uint64_t backed = 0;

	if (mincore((void *)start, end - start, mc_buf))
		die("mincore");
	for (size_t i = 0; i < n; i++)
		backed += mc_buf[i] & 1;
	return backed;
}

/* PAGEMAP_SCAN for present pages; -1 when the kernel lacks it. */
static int64_t pagemap_scan(int pid, uint64_t start, uint64_t end)
{
	struct mt_pm_scan_arg a = {
		.size = sizeof(a), .start = start, .end = end,
		.vec = (uintptr_t)scan_buf, .vec_len = MT_SCAN_VEC,
		.category_mask = MT_PAGE_IS_PRESENT,
		.return_mask = MT_PAGE_IS_PRESENT,
	};
	char path[64];
	int64_t backed = 0;
	uint64_t seen = start;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open pagemap");
	for (;;) {
		n = ioctl(fd, MT_PAGEMAP_SCAN, &a);
		if (n < 0) {
			close(fd);
			return -1;
		}
		/*
		 * Count each page once: a walk resumed at walk_end can report
		 * again the end of a region the previous call returned.
		 */
		for (int i = 0; i < n; i++) {
			uint64_t lo = scan_buf[i].start > seen ? scan_buf[i].start : seen;

			if (scan_buf[i].end > lo)
				backed += (scan_buf[i].end - lo) / PAGE;
			if (scan_buf[i].end > seen)
				seen = scan_buf[i].end;
		}
		if (a.walk_end >= end)
			break;
		a.start = a.walk_end;
	}
	close(fd);
	return backed;
}

/* ------------------------------------------------------------------ */
/* regions */

static uint8_t *region_map(size_t size, enum rstate st)
{
	uint8_t *raw = mmap(NULL, size + HUGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	volatile uint8_t *p;
	uint8_t sink = 0;

	if (raw == MAP_FAILED)
		die("mmap region");
	p = (uint8_t *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
	/* only the aligned part stays mapped: no neighbours in the range */
	if (p != raw)
		munmap(raw, (uint8_t *)p - raw);
	munmap((uint8_t *)p + size, raw + size + HUGE - (uint8_t *)p - size);
	if (madvise((void *)p, size, st == S_THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
		die("madvise");
	for (size_t off = 0; off < size; off += PAGE) {
		switch (st) {
		case S_UNTOUCHED:
			return (uint8_t *)p;
		case S_WRITTEN:
		case S_THP:
			p[off] = 1;
			break;
		case S_ALTERNATE:
			if (!(off / PAGE % 2))
				p[off] = 1;
			break;
		case S_ZERO:
			sink += p[off];
			break;
		default:
			break;
		}
	}
	(void)sink;
	return (uint8_t *)p;
}

/* AnonHugePages of the mapping that starts at p, in kB (from smaps). */
static long thp_kb(const void *p)
{
	char line[256], want[32];
	FILE *f = fopen("/proc/self/smaps", "r");
	bool in = false;
	long kb = -1;

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "%lx-", (unsigned long)p);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perm[8];

		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) == 3)
			in = !strncmp(line, want, strlen(want));
		else if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* ------------------------------------------------------------------ */
/* timing */

struct result {
	double med, min;	/* ms */
	int64_t backed;		/* -1: not available */
	bool ran;
};

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int64_t run_method(enum method m, int pid, uint64_t s, uint64_t e)
{
	switch (m) {
	case M_NL_RUNS: return nl_query(pid, s, e, MEMTRACE_MODE_RUNS, NL_PACKED, NULL);
	case M_NL_PAGES:
		return nl_query(pid, s, e, MEMTRACE_MODE_PAGES, NL_PACKED | NL_INDEXED, NULL);
	case M_NL_RUNS_NEST: return nl_query(pid, s, e, MEMTRACE_MODE_RUNS, 0, NULL);
	case M_NL_PAGES_NEST: return nl_query(pid, s, e, MEMTRACE_MODE_PAGES, 0, NULL);
	case M_NL_PAGES_NOPFN:
		return nl_query(pid, s, e, MEMTRACE_MODE_PAGES, NL_PACKED | NL_INDEXED | NL_NO_PFN,
				NULL);
	case M_NL_PAGES_WORDS:
		return nl_query(pid, s, e, MEMTRACE_MODE_PAGES, NL_PACKED | NL_NO_PFN, NULL);
	case M_PROC_RUNS: return proc_query(pid, s, e, "runs", true, NULL);
	case M_PROC_PAGES: return proc_query(pid, s, e, "pages", true, NULL);
	case M_PROC_RUNS_RAW: return proc_query(pid, s, e, "runs", false, NULL);
	case M_PROC_PAGES_RAW: return proc_query(pid, s, e, "pages", false, NULL);
	case M_PAGEMAP: return pagemap_pread(pid, s, e);
	case M_MINCORE: return do_mincore(s, e);
	case M_SCAN: return have_scan ? pagemap_scan(pid, s, e) : -1;
	default: return -1;
	}
}

/* Time methods [0, nm) on [s, e) of this process, round-robin. */
static void measure(const enum method *ms, int nm, uint64_t s, uint64_t e,
		    struct result *res)
{
	double t[M_N][64];
	int reps = repeats;

	for (int i = 0; i < nm; i++) {
		res[ms[i]].backed = -2;
		res[ms[i]].ran = false;
	}
	for (int r = 0; r < reps; r++) {
		for (int i = 0; i < nm; i++) {
			enum method m = ms[i];
			double t0 = now_ms();
			int64_t b = run_method(m, getpid(), s, e);

			t[m][r] = now_ms() - t0;
			if (b < 0) {
				res[m].backed = -1;
				continue;
			}
			if (res[m].backed >= 0 && res[m].backed != b)
				fprintf(stderr, "bench: %s: %" PRId64 " then %" PRId64
					" backed pages\n", method_names[m], res[m].backed, b);
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
/* kernel memory during a query */

static long km_base_free, km_base_slab, km_max_free, km_max_slab;

static void meminfo(long *free_kb, long *slab_kb)
{
	char line[128];
	int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	static char buf[4096];
	ssize_t n;
	long v, slab = 0, ks = 0, fr = 0;
	char *p;

	if (fd < 0)
		die("open /proc/meminfo");
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (sscanf(p, "MemFree: %ld", &v) == 1)
			fr = v;
		else if (sscanf(p, "Slab: %ld", &v) == 1)
			slab = v;
		else if (sscanf(p, "KernelStack: %ld", &v) == 1)
			ks = v;
	}
	(void)line;
	*free_kb = fr;
	*slab_kb = slab + ks;
}

static void km_hook(void)
{
	long f, s;

	meminfo(&f, &s);
	if (km_base_free - f > km_max_free)
		km_max_free = km_base_free - f;
	if (s - km_base_slab > km_max_slab)
		km_max_slab = s - km_base_slab;
}

static void km_start(void)
{
	km_max_free = km_max_slab = 0;
	meminfo(&km_base_free, &km_base_slab);
}

/* ------------------------------------------------------------------ */
/* the small process */

static pid_t child;

static void child_start(void)
{
	child = fork();
	if (child < 0)
		die("fork");
	if (!child) {
		for (;;)
			pause();
	}
	usleep(100000);
}

struct vma {
	uint64_t s, e;
};

static int child_vmas(struct vma *v, int max)
{
	char path[64], line[512];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", child);
	f = fopen(path, "r");
	if (!f)
		die("open maps");
	while (n < max && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &v[n].s, &v[n].e) != 2)
			continue;
		if (v[n].s >= 0x800000000000ULL)	/* [vsyscall] */
			continue;
		n++;
	}
	fclose(f);
	return n;
}

/* ------------------------------------------------------------------ */
/* report */

struct size_results {
	size_t size;
	struct result r[S_N][M_N];
	long thp_kb[S_N];
	long km_proc_free, km_proc_slab, km_nl_free, km_nl_slab;
	uint64_t km_pages;
};

static struct size_results *sres;
static int nsizes;

struct as_results {
	int nvmas;
	struct result all[4], maps[4];	/* nl runs, nl pages, proc runs, SCAN */
	int64_t pm_maps_backed;
};
static struct as_results asr;
static const char *const as_names[4] = { "nl runs", "nl pages", "proc runs", "PAGEMAP_SCAN" };

static const char *size_name(size_t s)
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

static void report(void)
{
	struct utsname u;

	uname(&u);
	printf("\n=== begin markdown\n");
	printf("## Kernel %s (%s)\n\n", label, u.release);
	printf("Accel %s, %ld vCPUs, %s, median of %d repeats (round-robin), "
	       "times in ms (CLOCK_MONOTONIC, one process, one boot).\n"
	       "\"backed\" = present + zero pages (pagemap, mincore and PAGEMAP_SCAN "
	       "all count the zero page as present).\n\n",
	       accel, sysconf(_SC_NPROCESSORS_ONLN), date, repeats);

	for (int z = 0; z < nsizes; z++) {
		struct size_results *sr = &sres[z];

		printf("### %s region: median ms\n\n| state | backed pages |", size_name(sr->size));
		for (int m = 0; m < M_MAIN; m++)
			printf(" %s |", method_names[m]);
		printf("\n|---|---:|");
		for (int m = 0; m < M_MAIN; m++)
			printf("---:|");
		printf("\n");
		for (int s = 0; s < S_N; s++) {
			printf("| %s | %" PRId64 " |", state_names[s], sr->r[s][M_NL_RUNS].backed);
			for (int m = 0; m < M_MAIN; m++)
				cell(&sr->r[s][m]);
			printf("\n");
		}
		printf("\n%s, ratio to pagemap pread / to mincore (lower is faster):\n\n| state |",
		       size_name(sr->size));
		for (int m = 0; m < M_MAIN; m++)
			if (m != M_PAGEMAP && m != M_MINCORE)
				printf(" %s |", method_names[m]);
		printf("\n|---|");
		for (int m = 0; m < M_MAIN; m++)
			if (m != M_PAGEMAP && m != M_MINCORE)
				printf("---:|");
		printf("\n");
		for (int s = 0; s < S_N; s++) {
			printf("| %s |", state_names[s]);
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
		       size_name(sr->size));
		for (int s = 0; s < S_N; s++) {
			printf("| %s |", state_names[s]);
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
	       asr.nvmas);
	for (int i = 0; i < 4; i++) {
		printf("| %s |", as_names[i]);
		cell(&asr.all[i]);
		cell(&asr.maps[i]);
		ratio(&asr.all[i], &asr.maps[i]);
		printf("\n");
	}
	printf("\n\"its mappings only\": one query per VMA of /proc/PID/maps, summed "
	       "(the maps file is read outside the timing).\n\n");

	printf("### Kernel memory during one query\n\n"
	       "Sampled from /proc/meminfo every few messages/reads while a query of the "
	       "every-other-page region in pages mode streams (the worst case: one record "
	       "per page). Max drop of MemFree, and max growth of Slab+KernelStack, over "
	       "the baseline taken just before the query (kB; page-allocator noise is a "
	       "few hundred kB either way).\n\n| region | records | proc: MemFree drop | proc: "
	       "Slab+KStack | nl: MemFree drop | nl: Slab+KStack |\n|---|---:|---:|---:|---:|---:|\n");
	for (int z = 0; z < nsizes; z++)
		printf("| %s | %" PRIu64 " | %ld | %ld | %ld | %ld |\n", size_name(sres[z].size),
		       sres[z].km_pages, sres[z].km_proc_free, sres[z].km_proc_slab,
		       sres[z].km_nl_free, sres[z].km_nl_slab);

	printf("\n### Targets\n\n");
	for (int z = 0; z < nsizes; z++) {
		struct result (*r)[M_N] = sres[z].r;
		char d[256];

		if (sres[z].size < 64 * MIB)
			continue;	/* the fixed cost of one query: no targets */
		printf("%s region:\n\n", size_name(sres[z].size));
		snprintf(d, sizeof(d), "%.2f vs %.2f ms", r[S_WRITTEN][M_NL_RUNS].med,
			 r[S_WRITTEN][M_MINCORE].med);
		target("all written 4K: nl runs / mincore", r[S_WRITTEN][M_NL_RUNS].med /
		       r[S_WRITTEN][M_MINCORE].med, 1.0, d);
		if (have_scan) {
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
			snprintf(d, sizeof(d), "worst state: %s, %.3f vs %.3f ms", state_names[ws],
				 r[ws][M_PROC_RUNS].med, r[ws][M_NL_RUNS].med);
			target("proc runs / nl runs (every state)", worst, 2.0, d);
		}
		printf("\n");
	}
	snprintf(proc_tail, sizeof(proc_tail), "%.3f vs %.3f ms", asr.all[0].med, asr.maps[0].med);
	target("whole address space / its mappings (nl runs)", asr.all[0].med / asr.maps[0].med,
	       2.0, proc_tail);
	{
		long worst = 0;

		for (int z = 0; z < nsizes; z++) {
			long v = sres[z].km_proc_free > sres[z].km_nl_free ?
				 sres[z].km_proc_free : sres[z].km_nl_free;

			if (v > worst)
				worst = v;
		}
		printf("- %s kernel memory per query bounded by a constant: max MemFree drop "
		       "%ld kB whatever the region size (bound by design: one 8 KiB buffer + "
		       "state per /proc file; one dump state, 16 KiB of pfns for a packed pages-mode answer, and socket buffers <= rcvbuf for netlink)\n",
		       worst < 1024 ? "MET   " : "CHECK ", worst);
	}
	printf("\n=== end markdown\n");
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
		uint8_t *p = region_map(sr->size, s);
		uint64_t a = (uintptr_t)p, e = a + sr->size;
		struct result *r = sr->r[s];

		sr->thp_kb[s] = thp_kb(p);
		measure(all, nm, a, e, r);
		fprintf(stderr, "bench: %s %s:", size_name(sr->size), state_names[s]);
		for (int m = 0; m < nm; m++)
			fprintf(stderr, " %s=%.3f", method_names[all[m]], r[all[m]].med);
		fprintf(stderr, "\n");
		for (int m = 0; m < nm; m++) {
			if (all[m] == M_SCAN && !have_scan)
				continue;
			if (smoke)
				tap_ok(r[all[m]].ran, "%s %s: %s ran", size_name(sr->size),
				    state_names[s], method_names[all[m]]);
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
					      method_names[all[m]], r[all[m]].backed);
			}
			tap_ok(agree, "%s %s: methods agree on backed pages (%" PRId64 ")%s",
			    size_name(sr->size), state_names[s], want, agree ? "" : d);
		}
		if (s == S_ALTERNATE && !smoke) {
			/* kernel memory while the worst-case answer streams */
			km_start();
			sr->km_pages = proc_query(getpid(), a, e, "pages", false, km_hook);
			sr->km_proc_free = km_max_free;
			sr->km_proc_slab = km_max_slab;
			km_start();
			nl_query(getpid(), a, e, MEMTRACE_MODE_PAGES, NL_PACKED | NL_INDEXED, km_hook);
			sr->km_nl_free = km_max_free;
			sr->km_nl_slab = km_max_slab;
			sr->km_pages = sr->size / PAGE;
		}
		munmap(p, sr->size);
	}
}

static void run_as(void)
{
	struct vma v[256];
	int n = child_vmas(v, 256);
	double t[4][64], tm[4][64];
	int64_t b_all[4], b_maps[4];

	asr.nvmas = n;
	for (int r = 0; r < repeats; r++) {
		for (int i = 0; i < 4; i++) {
			double t0;

			if (i == 3 && !have_scan)
				continue;
			t0 = now_ms();
			switch (i) {
			case 0: b_all[i] = nl_query(child, 0, 0, MEMTRACE_MODE_RUNS, NL_PACKED, NULL); break;
			case 1: b_all[i] = nl_query(child, 0, 0, MEMTRACE_MODE_PAGES, NL_PACKED | NL_INDEXED, NULL); break;
			case 2: b_all[i] = proc_query(child, 0, 0, "runs", true, NULL); break;
			case 3: b_all[i] = pagemap_scan(child, 0, 0x7ffffffff000ULL); break;
			}
			t[i][r] = now_ms() - t0;
			t0 = now_ms();
			b_maps[i] = 0;
			for (int k = 0; k < n; k++) {
				switch (i) {
				case 0: b_maps[i] += nl_query(child, v[k].s, v[k].e, MEMTRACE_MODE_RUNS, NL_PACKED, NULL); break;
				case 1: b_maps[i] += nl_query(child, v[k].s, v[k].e, MEMTRACE_MODE_PAGES, NL_PACKED | NL_INDEXED, NULL); break;
				case 2: b_maps[i] += proc_query(child, v[k].s, v[k].e, "runs", true, NULL); break;
				case 3: b_maps[i] += pagemap_scan(child, v[k].s, v[k].e); break;
				}
			}
			tm[i][r] = now_ms() - t0;
		}
	}
	asr.pm_maps_backed = 0;
	for (int k = 0; k < n; k++)
		asr.pm_maps_backed += pagemap_pread(child, v[k].s, v[k].e);
	for (int i = 0; i < 4; i++) {
		if (i == 3 && !have_scan)
			continue;
		qsort(t[i], repeats, sizeof(double), cmp_d);
		qsort(tm[i], repeats, sizeof(double), cmp_d);
		asr.all[i] = (struct result){ t[i][repeats / 2], t[i][0], b_all[i], true };
		asr.maps[i] = (struct result){ tm[i][repeats / 2], tm[i][0], b_maps[i], true };
		if (smoke)
			tap_ok(b_all[i] >= 0 && b_maps[i] >= 0,
			    "whole address space: %s ran (%" PRId64 ", %" PRId64 ")",
			    as_names[i], b_all[i], b_maps[i]);
		/*
		 * The child is idle, but pagemap sees [vvar]/[vdso] differently:
		 * pagemap reports a pfnmap page as not present, memtrace as
		 * present. Allow that few pages of difference here.
		 */
		tap_ok(b_all[i] == b_maps[i] &&
		    llabs(b_all[i] - asr.pm_maps_backed) <= 8,
		    "whole address space: %s all=%" PRId64 " mappings=%" PRId64
		    " pagemap=%" PRId64, as_names[i], b_all[i], b_maps[i], asr.pm_maps_backed);
	}
}

int main(int argc, char **argv)
{
	const char *sizes = "64M,1G";
	size_t maxsize = 0;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke")) {
			smoke = true;
			sizes = "4M";
			repeats = 1;
		} else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
			sizes = argv[++i];
		} else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
			repeats = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--label") && i + 1 < argc) {
			snprintf(label, sizeof(label), "%s", argv[++i]);
		} else if (!strcmp(argv[i], "--accel") && i + 1 < argc) {
			snprintf(accel, sizeof(accel), "%s", argv[++i]);
		} else if (!strcmp(argv[i], "--date") && i + 1 < argc) {
			snprintf(date, sizeof(date), "%s", argv[++i]);
		} else {
			fprintf(stderr, "usage: bench [--smoke] [--sizes 64M,1G] [--repeat N] "
				"[--label K] [--accel A] [--date D]\n");
			return 2;
		}
	}
	if (repeats < 1 || repeats > 63)
		repeats = 7;
	if (!strcmp(label, "?")) {
		struct utsname u;

		if (!uname(&u))
			snprintf(label, sizeof(label), "%s", u.release);
	}

	{
		char *dup = strdup(sizes), *tok, *save;

		sres = calloc(8, sizeof(*sres));
		for (tok = strtok_r(dup, ",", &save); tok && nsizes < 8;
		     tok = strtok_r(NULL, ",", &save)) {
			size_t z = parse_size(tok);

			if (!z || z % HUGE) {
				fprintf(stderr, "bench: sizes must be multiples of 2 MiB\n");
				return 2;
			}
			sres[nsizes++].size = z;
			if (z > maxsize)
				maxsize = z;
		}
	}

	child_start();
	thp_enable();
	nl_open();
	proc_buf = malloc(PROC_READ + 4096);
	pm_cap = maxsize / PAGE;
	pm_buf = malloc(pm_cap * 8);
	mc_buf = malloc(maxsize / PAGE);
	scan_buf = malloc(MT_SCAN_VEC * sizeof(*scan_buf));
	if (!proc_buf || !pm_buf || !mc_buf || !scan_buf)
		die("malloc");
	/* fault the buffers in: no first-touch cost inside the timings */
	memset(proc_buf, 0, PROC_READ + 4096);
	memset(pm_buf, 0, maxsize / PAGE * 8);
	memset(mc_buf, 0, maxsize / PAGE);
	memset(scan_buf, 0, MT_SCAN_VEC * sizeof(*scan_buf));
	{
		uint8_t *p = region_map(HUGE, S_WRITTEN);

		have_scan = pagemap_scan(getpid(), (uintptr_t)p, (uintptr_t)p + HUGE) >= 0;
		munmap(p, HUGE);
	}
	if (smoke)
		printf("# bench --smoke: kernel %s, PAGEMAP_SCAN %s\n", label,
		       have_scan ? "yes" : "no (before 6.7)");

	for (int z = 0; z < nsizes; z++)
		run_size(&sres[z]);
	run_as();
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	if (!smoke)
		report();
	ret = tap_done();
	tap_diag("bench: %d of %d checks failed", tap_failed, tap_n);
	return ret;
}
