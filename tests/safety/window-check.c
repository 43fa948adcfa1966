// SPDX-License-Identifier: GPL-2.0
/*
 * safety-window: the queries (both transports, every mode and chunk size)
 * and the checks of a region: its setup, pagemap, every window against the
 * whole.
 */
#include "window.h"

/* ------------------------------------------------------------- queries */

struct expand {
	struct pg *pages;
	uint64_t start;
	int mode;
};

static void on_rec(void *arg, uint64_t addr, uint64_t pages, unsigned int state, uint32_t flags,
		   uint64_t pfn, int64_t node)
{
	struct expand *x = arg;

	for (uint64_t i = 0; i < pages; i++) {
		struct pg *p = &x->pages[(addr - x->start) / PS + i];

		p->state = state;
		p->flags = flags;
		p->node = (int32_t)node;
		/* runs mode: a record's pfn is its first page's */
		p->pfn_known = x->mode == MEMTRACE_MODE_PAGES || i == 0;
		p->pfn = p->pfn_known ? pfn : 0;
	}
}

/* /proc/memtrace, read in chunks of chunk bytes; 0 or -errno (err says why). */
static int q_proc(int pid, uint64_t s, uint64_t e, int mode, size_t chunk, struct pg *out,
		  char *err, size_t errlen)
{
	struct expand x = { out, s, mode };
	struct rl_check c;
	char q[128];
	int fd, len, ret;

	fd = open("/proc/memtrace", O_RDWR);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "open /proc/memtrace: %s", strerror(-ret));
		return ret;
	}
	len = snprintf(q, sizeof(q), "%d 0x%" PRIx64 " 0x%" PRIx64 " %s\n", pid, s, e,
		       mode == MEMTRACE_MODE_PAGES ? "pages" : "runs");
	if (write(fd, q, len) != len) {
		ret = -errno;
		close(fd);
		snprintf(err, errlen, "write query: %s", strerror(-ret));
		return ret;
	}
	rl_check_init(&c, pid, s, e, mode, true);
	c.on_record = on_rec;
	c.arg = &x;
	ret = rl_proc_read_all(fd, &c, chunk, NULL);
	close(fd);
	if (ret)
		snprintf(err, errlen, "%s", ret == -EBADMSG ? c.err : strerror(-ret));
	return ret;
}

static int q_nl(struct nlr *nl, int pid, uint64_t s, uint64_t e, int mode, struct pg *out,
		char *err, size_t errlen)
{
	struct expand x = { out, s, mode & 0xff };
	struct rl_check c;
	int ret;

	rl_check_init(&c, pid, s, e, mode & 0xff, true);
	c.on_record = on_rec;
	c.arg = &x;
	ret = rl_nl_query(nl, &c, pid, s, e, true, mode, NULL);
	if (ret)
		snprintf(err, errlen, "%s", c.err[0] ? c.err : strerror(-ret));
	return ret;
}

/* ---------------------------------------------------------------- checks */

static void describe(const struct pg *p, char *out, size_t len)
{
	char w[MEMTRACE_FLAGS_WIDTH + 1];

	rl_flag_word(p->flags, w);
	if (p->pfn_known)
		snprintf(out, len, "%s %s %s (0x%03x) pfn 0x%" PRIx64 " node %d",
			 rl_state_names[p->state % MEMTRACE_NSTATES], rl_size_name(p->flags), w,
			 p->flags, p->pfn, p->node);
	else
		snprintf(out, len, "%s %s %s (0x%03x) pfn ? node %d",
			 rl_state_names[p->state % MEMTRACE_NSTATES], rl_size_name(p->flags), w,
			 p->flags, p->node);
}

static const struct combo {
	const char *name;
	bool proc;
	int mode;		/* with RL_PACKED / RL_INDEXED for netlink */
} combos[] = {
	{ "/proc runs", true, MEMTRACE_MODE_RUNS },
	{ "/proc pages", true, MEMTRACE_MODE_PAGES },
	{ "netlink nested runs", false, MEMTRACE_MODE_RUNS },
	{ "netlink nested pages", false, MEMTRACE_MODE_PAGES },
	{ "netlink packed runs", false, MEMTRACE_MODE_RUNS | RL_PACKED },
	{ "netlink packed pages", false, MEMTRACE_MODE_PAGES | RL_PACKED },
	{ "netlink packed+indexed runs", false, MEMTRACE_MODE_RUNS | RL_PACKED | RL_INDEXED },
	{ "netlink packed+indexed pages", false, MEMTRACE_MODE_PAGES | RL_PACKED | RL_INDEXED },
};
#define NCOMBO (sizeof(combos) / sizeof(combos[0]))

struct stat_line {
	unsigned long windows, bad_windows, errors;
	char first[640];
};

struct window {
	unsigned long a, b;	/* page indexes into the region */
	size_t chunk;		/* /proc read size */
};

static const size_t chunks[] = { 65536, 4096, 509, 97 };

static bool in_list(const struct window *w, int n, unsigned long a, unsigned long b)
{
	for (int i = 0; i < n; i++)
		if (w[i].a == a && w[i].b == b)
			return true;
	return false;
}

static int make_windows(struct rl_rng *rng, const struct region *r, unsigned long n,
			struct window *w, int max, int nrandom)
{
	int k = 0;

#define WIN(A, B)                                                                 \
	do {                                                                      \
		unsigned long a_ = (A), b_ = (B);                                 \
		if (a_ < b_ && b_ <= n && k < max && !in_list(w, k, a_, b_)) {    \
			w[k].a = a_;                                              \
			w[k].b = b_;                                              \
			w[k].chunk = chunks[rl_below(rng, 4)];                    \
			k++;                                                      \
		}                                                                 \
	} while (0)

	WIN(0, n);			/* the whole range, through every transport */
	WIN(1, n);
	WIN(n - 1, n);
	WIN(0, n / 2 + 1);
	for (int i = 0; i < r->nhot; i++) {
		unsigned long h = r->hot[i];

		WIN(h, n);
		WIN(h, h + 1);
		WIN(h, h + 1 + rl_below(rng, n - h));
		WIN(rl_below(rng, h + 1), h + 1);
	}
	for (int i = 0; i < nrandom; i++) {
		unsigned long a = rl_below(rng, n), b;

		switch (rl_below(rng, 4)) {
		case 0:	/* one page */
			b = a + 1;
			break;
		case 1:	/* short */
			b = a + 1 + rl_below(rng, 8);
			break;
		default:
			b = a + 1 + rl_below(rng, n - a);
		}
		WIN(a, b > n ? n : b);
	}
#undef WIN
	return k;
}

/* Whether the target's region looks as it was built to; "" or a reason to skip. */
static const char *setup_check(const struct region *r, const struct pg *ref, char *why, size_t len)
{
	unsigned long n = (r->end - r->start) / PS;
	long kb;

	why[0] = '\0';
	if (r->checks & R_PMD) {
		kb = win_smaps_kb(r->pid, r->start, "AnonHugePages");
		if (kb != (long)(HUGE >> 10))
			snprintf(why, len, "not PMD-mapped (AnonHugePages %ld kB, a PMD %lu kB)", kb,
				 (unsigned long)(HUGE >> 10));
		else if (!(ref[r->sample].flags & MEMTRACE_F_SIZE_PMD))
			tap_diag("%s: PMD-mapped per smaps, but the reference has no PMD flag", r->name);
	}
	if (r->checks & R_PTE_THP) {
		uint64_t kf = ref[r->sample].state == MEMTRACE_PRESENT ?
			      win_kpage("/proc/kpageflags", ref[r->sample].pfn) : 0;

		kb = win_smaps_kb(r->pid, r->start, "AnonHugePages");
		if (kf == ~0ULL || !(kf & (1ULL << KPF_THP)))
			snprintf(why, len, "page %d is no THP subpage (kpageflags 0x%" PRIx64 ")",
				 r->sample, kf);
		else if (kb > 0)
			snprintf(why, len, "still PMD-mapped (AnonHugePages %ld kB)", kb);
	}
	if (r->checks & R_KSM) {
		unsigned long ksm = 0;
		char map[64];

		for (unsigned long i = 0; i < n && i < sizeof(map) - 1; i++) {
			bool k = ref[i].state == MEMTRACE_PRESENT &&
				 (win_kpage("/proc/kpageflags", ref[i].pfn) & (1ULL << KPF_KSM));

			ksm += k;
			map[i] = k ? 'K' : ref[i].state == MEMTRACE_PRESENT ? 'p' : '.';
			map[i + 1] = '\0';
		}
		if (!ksm)
			snprintf(why, len, "ksmd merged no page");
		else
			tap_diag("ksm: %lu of %lu pages are KSM pages (%s)", ksm, n, map);
	}
	return why;
}

/* The reference against /proc/PID/pagemap; returns the pages that disagree. */
static unsigned long pagemap_check(const struct region *r, const struct pg *ref, char *first,
				   size_t len)
{
	unsigned long n = (r->end - r->start) / PS, bad = 0;
	uint64_t *pm = calloc(n, 8);
	int err = mt_pagemap(r->pid, r->start, r->end, pm);

	first[0] = '\0';
	if (err) {
		snprintf(first, len, "pagemap: %s", strerror(-err));
		free(pm);
		return n;
	}
	for (unsigned long i = 0; i < n; i++) {
		const struct pg *p = &ref[i];
		bool present = pm[i] & PM_PRESENT, swapped = pm[i] & PM_SWAP;
		const char *what = NULL;

		switch (p->state) {
		case MEMTRACE_PRESENT:
			if (p->flags & MEMTRACE_F_PFNMAP)
				break;	/* pagemap shows no PFNMAP page */
			if (!present)
				what = "present, pagemap not";
			else if ((pm[i] & PM_PFN) != p->pfn)
				what = "pfn";
			else if (!(p->flags & MEMTRACE_F_ANON) != !!(pm[i] & PM_FILE))
				what = "anon vs PM_FILE";
			else if (!(p->flags & MEMTRACE_F_EXCL) != !(pm[i] & PM_EXCL))
				what = "EXCL vs PM_MMAP_EXCLUSIVE";
			break;
		case MEMTRACE_ZERO:
			if (!present)
				what = "zero, pagemap not present";
			else if ((pm[i] & PM_PFN) != p->pfn)
				what = "pfn";
			break;
		case MEMTRACE_SWAP:
			if (!swapped)
				what = "swap, pagemap not";
			break;
		case MEMTRACE_NONE:
		case MEMTRACE_UNMAPPED:
			if (present || swapped)
				what = "pagemap has an entry";
			break;
		default:
			break;
		}
		if (what && !bad++) {
			char d[160];
			uint64_t pfn = pm[i] & PM_PFN;

			describe(p, d, sizeof(d));
			snprintf(first, len, "page 0x%" PRIx64 " (+%lu): %s: memtrace %s; pagemap 0x%016"
				 PRIx64 " (present %d excl %d file %d), kpagecount %" PRId64
				 " kpageflags 0x%" PRIx64, r->start + i * PS, i, what, d, pm[i],
				 present, !!(pm[i] & PM_EXCL), !!(pm[i] & PM_FILE),
				 present ? (int64_t)win_kpage("/proc/kpagecount", pfn) : -1,
				 present ? win_kpage("/proc/kpageflags", pfn) : 0);
		}
	}
	free(pm);
	return bad;
}

static bool same(const struct pg *want, const struct pg *got)
{
	return want->state == got->state && want->flags == got->flags && want->node == got->node &&
	       (!got->pfn_known || want->pfn == got->pfn);
}

void win_test_region(struct rl_rng *rng, struct nlr *nl, bool have_nl, const struct region *r,
		     int nrandom)
{
	unsigned long n = (r->end - r->start) / PS;
	struct pg *ref = calloc(n, sizeof(*ref)), *got = calloc(n, sizeof(*got));
	struct stat_line st[NCOMBO];
	struct window w[160];
	char err[300], why[160], first[600];
	unsigned long bad;
	int nw, ret;

	if (r->skip[0]) {
		tap_skip(r->name, "window independence: %s", r->skip);
		free(ref);
		free(got);
		return;
	}
	ret = q_proc(r->pid, r->start, r->end, MEMTRACE_MODE_PAGES, 65536, ref, err, sizeof(err));
	if (!tap_ok(!ret, "%s: whole-range reference, /proc pages mode, %lu pages at 0x%" PRIx64,
		    r->name, n, r->start)) {
		tap_diag("%s", err);
		free(ref);
		free(got);
		return;
	}
	if (*setup_check(r, ref, why, sizeof(why))) {
		tap_skip(r->name, "window independence: %s", why);
		free(ref);
		free(got);
		return;
	}
	nw = make_windows(rng, r, n, w, sizeof(w) / sizeof(w[0]), nrandom);
	memset(st, 0, sizeof(st));
	for (int i = 0; i < nw; i++) {
		uint64_t s = r->start + w[i].a * PS, e = r->start + w[i].b * PS;

		for (unsigned int k = 0; k < NCOMBO; k++) {
			const struct combo *c = &combos[k];
			struct stat_line *sl = &st[k];

			if (!c->proc && !have_nl)
				continue;
			memset(got, 0xff, (w[i].b - w[i].a) * sizeof(*got));
			sl->windows++;
			if (c->proc)
				ret = q_proc(r->pid, s, e, c->mode, w[i].chunk, got, err, sizeof(err));
			else
				ret = q_nl(nl, r->pid, s, e, c->mode, got, err, sizeof(err));
			if (ret) {
				if (!sl->errors++ && !sl->first[0])
					snprintf(sl->first, sizeof(sl->first),
						 "window [0x%" PRIx64 ", 0x%" PRIx64 ") (pages %lu-%lu): %s",
						 s, e, w[i].a, w[i].b, err);
				continue;
			}
			for (unsigned long j = 0; j < w[i].b - w[i].a; j++) {
				const struct pg *want = &ref[w[i].a + j];
				char dw[160], dg[160];

				if (same(want, &got[j]))
					continue;
				if (!sl->bad_windows++ && !sl->first[0]) {
					describe(want, dw, sizeof(dw));
					describe(&got[j], dg, sizeof(dg));
					char rd[32] = "";

					if (c->proc)
						snprintf(rd, sizeof(rd), ", read %zu", w[i].chunk);
					snprintf(sl->first, sizeof(sl->first),
						 "window [0x%" PRIx64 ", 0x%" PRIx64 ") (pages %lu-%lu%s): "
						 "page 0x%" PRIx64 " (+%lu): expected %s, got %s",
						 s, e, w[i].a, w[i].b, rd, s + j * PS, w[i].a + j, dw, dg);
				}
				break;
			}
		}
	}
	for (unsigned int k = 0; k < NCOMBO; k++) {
		const struct stat_line *sl = &st[k];

		if (!combos[k].proc && !have_nl) {
			tap_skip(r->name, "%s: no netlink family", combos[k].name);
			continue;
		}
		if (!tap_ok(!sl->bad_windows && !sl->errors,
			    "%s: %s: %lu windows agree with the whole range page by page "
			    "(%lu differ, %lu errors)", r->name, combos[k].name,
			    sl->windows - sl->bad_windows - sl->errors, sl->bad_windows, sl->errors))
			tap_diag("first: %s", sl->first);
	}
	bad = pagemap_check(r, ref, first, sizeof(first));
	if (!tap_ok(!bad, "%s: pagemap agrees page by page: presence, pfn, anon, EXCL "
		    "(%lu of %lu pages differ)", r->name, bad, n))
		tap_diag("first: %s", first);
	free(ref);
	free(got);
}
