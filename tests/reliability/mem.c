// SPDX-License-Identifier: GPL-2.0
/*
 * rel-mem: swap, hugetlb and THP as memtrace reports them, page by page
 * against /proc/self/pagemap (lab VM, root, module loaded; the suite script
 * sets up zram swap and hugetlb pages first).
 *
 *   swap     anonymous pages written, MADV_PAGEOUT: "swap", with pagemap's
 *            bit 62 and, as root, the swap value equal to pagemap's bits
 *            0-54; touched again: "present"
 *   hugetlb  a MAP_HUGETLB region: "none" until written, then present, 2M,
 *            flag h, pfns head + i like pagemap's; and arm64's contiguous
 *            hugetlb sizes (64K, 32M with 4K pages; 2M with 16K), mapped by
 *            contiguous PTEs or PMDs, the same way
 *   thp      a 2 MiB THP: present 2M; split by mprotect of one 4K page, or by
 *            MADV_DONTNEED of one: 4K-mapped present pages (no 2M flag), the
 *            dropped page "none"
 * A part that cannot run here prints "ok N - ... # SKIP reason".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pg.h"
#include "../kmod/mtlib.h"
#include "tap.h"
#include "rlib.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#define HUGE mt_thp_size()

static int self;

/* a skip on a user's machine, a failure in the lab lane (tap_skip) */
static void skip(const char *what, const char *why)
{
	tap_skip(what, "%s", why);
}

static void on_rec(void *arg, uint64_t addr, uint64_t pages, unsigned int state, uint32_t flags,
		   uint64_t pfn, int64_t node)
{
	struct mt_answer *a = arg;

	for (uint64_t i = 0; i < pages; i++) {
		struct mt_page *p = &a->pages[(addr - a->start) / MT_PG + i];

		p->state = state;
		p->flags = flags;
		p->pfn = pfn && (flags & MEMTRACE_F_SIZE_MASK) ? pfn + i : pfn;
		p->node = (int)node;
	}
	a->records++;
}

/* A pages-mode query of [p, p + n pages), checked line by line, one entry per page. */
static int query(void *p, unsigned long n, const char *mode, struct mt_answer *a)
{
	uint64_t s = (uintptr_t)p, e = s + n * MT_PG;
	struct rl_check c;
	char q[128];
	int fd, len, err;

	memset(a, 0, sizeof(*a));
	a->start = s;
	a->end = e;
	a->pid = self;
	a->pages = calloc(n, sizeof(*a->pages));
	fd = open("/proc/memtrace", O_RDWR);
	if (fd < 0)
		return -errno;
	len = snprintf(q, sizeof(q), "%d 0x%" PRIx64 " 0x%" PRIx64 " %s", self, s, e, mode);
	if (write(fd, q, len) != len) {
		err = -errno;
		close(fd);
		return err;
	}
	rl_check_init(&c, self, s, e, !strcmp(mode, "pages"), true);
	c.on_record = on_rec;
	c.arg = a;
	err = rl_proc_read_all(fd, &c, 65536, NULL);
	close(fd);
	if (err == -EBADMSG)
		tap_diag("answer: %s", c.err);
	memcpy(a->counts, c.counts, sizeof(a->counts));
	a->have_summary = c.summary;
	return err;
}

/* count pages of a whose state is s and flags contain must and none of mustnot */
static unsigned long count(const struct mt_answer *a, unsigned long n, int s, uint32_t must,
			   uint32_t mustnot)
{
	unsigned long k = 0;

	for (unsigned long i = 0; i < n; i++)
		if (a->pages[i].state == s && (a->pages[i].flags & must) == must &&
		    !(a->pages[i].flags & mustnot))
			k++;
	return k;
}

static long smaps_kb(void *addr, const char *field)
{
	char line[256];
	unsigned long s, e;
	long v = -1;
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2)
			in = s <= (uintptr_t)addr && (uintptr_t)addr < e;
		else if (in && !strncmp(line, field, strlen(field)) && line[strlen(field)] == ':')
			v = atol(line + strlen(field) + 1);
	}
	if (f)
		fclose(f);
	return v;
}

static void t_swap(void)
{
	const unsigned long n = 64;
	char *p, *copy;
	uint64_t pm[64];
	struct mt_answer a;
	unsigned long swapped = 0, bad = 0, same = 0;
	FILE *f = fopen("/proc/swaps", "r");
	char line[256];
	int lines = 0, err;

	while (f && fgets(line, sizeof(line), f))
		lines++;
	if (f)
		fclose(f);
	if (lines < 2) {
		skip("swap: pages move to swap and back", "no swap device (see the suite's zram setup)");
		return;
	}
	p = mmap(NULL, n * MT_PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	copy = malloc(n * MT_PG);
	madvise(p, n * MT_PG, MADV_NOHUGEPAGE);
	srand(42);
	for (unsigned long i = 0; i < n * MT_PG; i++)
		p[i] = (char)(rand() >> 7);
	memcpy(copy, p, n * MT_PG);
	for (int t = 0; t < 20; t++) {
		if (madvise(p, n * MT_PG, MADV_PAGEOUT)) {
			skip("swap: pages move to swap and back", "MADV_PAGEOUT refused");
			return;
		}
		swapped = 0;
		if (!mt_pagemap(self, (uintptr_t)p, (uintptr_t)p + n * MT_PG, pm))
			for (unsigned long i = 0; i < n; i++)
				swapped += !!(pm[i] & PM_SWAP);
		if (swapped == n)
			break;
		usleep(50000);
	}
	err = query(p, n, "pages", &a);
	tap_ok(!err, "swap: pages-mode query after MADV_PAGEOUT (%s)", strerror(-err));
	if (!err) {
		unsigned long ms = count(&a, n, MEMTRACE_SWAP, 0, 0);

		tap_ok(ms == swapped && ms > 0, "swap: %lu/%lu pages in swap, pagemap says %lu", ms, n,
		       swapped);
		bad = mt_crosscheck(self, &a, true);
		tap_ok(!bad, "swap: %lu pages disagree with pagemap", bad);
		mt_pagemap(self, (uintptr_t)p, (uintptr_t)p + n * MT_PG, pm);
		for (unsigned long i = 0; i < n; i++)
			if (a.pages[i].state == MEMTRACE_SWAP && (pm[i] & PM_SWAP)) {
				if (a.pages[i].pfn == (pm[i] & PM_PFN) && a.pages[i].pfn)
					same++;
				else if (bad++ < 3)
					tap_diag("page %lu: swap value 0x%" PRIx64 ", pagemap 0x%" PRIx64,
						 i, a.pages[i].pfn, pm[i] & PM_PFN);
			}
		tap_ok(same == ms && ms > 0, "swap: as root, the swap value equals pagemap's bits 0-54 (%lu/%lu)",
		       same, ms);
		mt_answer_free(&a);
	}
	err = query(p, n, "runs", &a);
	tap_ok(!err, "swap: runs-mode answer well formed (%lu records, %" PRIu64 " swap)",
	       a.records, a.counts[MEMTRACE_SWAP]);
	mt_answer_free(&a);

	/* touch: back to present, data intact */
	tap_ok(!memcmp(p, copy, n * MT_PG), "swap: data intact after the round trip");
	err = query(p, n, "pages", &a);
	if (tap_ok(!err, "swap: query after touching (%s)", strerror(-err))) {
		unsigned long pr = count(&a, n, MEMTRACE_PRESENT, MEMTRACE_F_ANON, 0);

		tap_ok(pr == n, "swap: %lu/%lu pages present again", pr, n);
		bad = mt_crosscheck(self, &a, true);
		tap_ok(!bad, "swap: after touching, %lu pages disagree with pagemap", bad);
		mt_answer_free(&a);
	}
	munmap(p, n * MT_PG);
	free(copy);
}

static void t_hugetlb(void)
{
	const unsigned long n = HUGE / MT_PG;
	struct mt_answer a;
	char *p = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
		       -1, 0);
	unsigned long k, bad;
	char buf[4096], want[64];
	int err, fd, len;

	if (p == MAP_FAILED) {
		snprintf(buf, sizeof(buf), "MAP_HUGETLB: %s (nr_hugepages?)", strerror(errno));
		skip("hugetlb: a 2M page present with flag h", buf);
		return;
	}
	err = query(p, n, "pages", &a);
	k = err ? 0 : count(&a, n, MEMTRACE_NONE, 0, 0);
	tap_ok(!err && k == n, "hugetlb: untouched region is none (%lu/%lu, %s)", k, n, strerror(-err));
	mt_answer_free(&a);

	p[0] = 1;
	p[HUGE - 1] = 2;
	err = query(p, n, "pages", &a);
	if (tap_ok(!err, "hugetlb: pages-mode query (%s)", strerror(-err))) {
		k = count(&a, n, MEMTRACE_PRESENT, MEMTRACE_F_HUGETLB | MEMTRACE_F_SIZE_2M |
			  MEMTRACE_F_WRITE, MEMTRACE_F_SIZE_1G);
		tap_ok(k == n, "hugetlb: %lu/%lu pages present, 2M, hugetlb, writable", k, n);
		bad = 0;
		for (unsigned long i = 1; i < n; i++)
			bad += a.pages[i].pfn != a.pages[0].pfn + i;
		tap_ok(!bad && a.pages[0].pfn, "hugetlb: pfns are head + i (%lu wrong)", bad);
		bad = mt_crosscheck(self, &a, true);
		tap_ok(!bad, "hugetlb: %lu pages disagree with pagemap (pfns included)", bad);
		mt_answer_free(&a);
	}
	/* the text: one run of 512 pages, size 2M, the h flag in the flags word */
	fd = open("/proc/memtrace", O_RDWR);
	len = snprintf(buf, sizeof(buf), "%d 0x%lx +0x%lx", self, (unsigned long)p, HUGE);
	if (fd >= 0 && write(fd, buf, len) == len) {
		len = read(fd, buf, sizeof(buf) - 1);
		buf[len > 0 ? len : 0] = '\0';
	}
	if (fd >= 0)
		close(fd);
	/* a PMD: 512 pages of 2M with 4K pages, 2048 of 32M with 16K */
	snprintf(want, sizeof(want), "0x%lx\t%lu\tpresent\t%luM\t", (unsigned long)p, n,
		 (unsigned long)(HUGE >> 20));
	{
		char *l = strstr(buf, want);
		char *w = l ? l + strlen(want) : NULL;

		tap_ok(w && w[1] == 'h' && w[2] == 'w',
		       "hugetlb: runs mode prints one run of %lu pages, %luM, flags '%.6s'", n,
		       (unsigned long)(HUGE >> 20), w ? w : "?");
	}
	munmap(p, HUGE);
}

/* read or write a number in a sysfs/procfs file; -1 on failure */
static long knob_get(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f && fscanf(f, "%ld", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	return v;
}

static int knob_set(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int ok = f && fprintf(f, "%ld\n", v) > 0;

	if (f && fclose(f))
		ok = 0;
	return ok ? 0 : -1;
}

/*
 * One hugetlb page of a contiguous size (arm64): below the PMD's, mapped by
 * PTEs (64K with 4K pages, 2M with 16K); above it, by contiguous PMDs (32M
 * with 4K pages). Written, every page is present, hugetlb, writable, its
 * size column its entries' (the page size, or the PMD's), pfns head + i,
 * as pagemap says; and a window of one page inside it answers alike.
 */
/*
 * The records of [p, p + size) with "folio" (runs mode) whose folio column
 * is not size (a K, M or G number): 0 when each says size; -1 on error.
 */
static long folio_not(void *p, unsigned long size)
{
	char q[128], *text = malloc(1 << 16), *l, *save;
	long bad = 0, recs = 0;
	size_t len = 0;
	ssize_t r;
	int fd = open("/proc/memtrace", O_RDWR);

	if (fd < 0 || !text)
		return -1;
	snprintf(q, sizeof(q), "%d 0x%" PRIxPTR " 0x%" PRIxPTR " runs folio", self,
		 (uintptr_t)p, (uintptr_t)p + size);
	if (write(fd, q, strlen(q)) < 0) {
		close(fd);
		free(text);
		return -1;
	}
	while (len < (1 << 16) - 1 && (r = read(fd, text + len, (1 << 16) - 1 - len)) > 0)
		len += r;
	close(fd);
	text[len] = 0;
	for (l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *last = strrchr(l, '\t');
		unsigned long long v;
		char unit;

		if (l[0] == '#' || !last)
			continue;
		recs++;
		if (sscanf(last + 1, "%llu%c", &v, &unit) != 2 ||
		    v << (unit == 'K' ? 10 : unit == 'M' ? 20 : unit == 'G' ? 30 : 63) != size)
			bad++;
	}
	free(text);
	return recs ? bad : -1;
}

static void t_hugetlb_cont_one(unsigned long size)
{
	const unsigned long n = size / MT_PG;
	uint32_t szf = size < HUGE ? 0 : MEMTRACE_F_SIZE_PMD;
	char knob[128], what[64];
	struct mt_answer a, w;
	unsigned long k, bad, mid = n / 2 + 1;
	long was, now;
	int shift = 0, err;
	char *p;

	while ((1UL << shift) < size)
		shift++;
	snprintf(what, sizeof(what), "hugetlb %lukB (contiguous %s)", size >> 10,
		 size < HUGE ? "PTEs" : "PMDs");
	snprintf(knob, sizeof(knob), "/sys/kernel/mm/hugepages/hugepages-%lukB/nr_hugepages",
		 size >> 10);
	was = knob_get(knob);
	if (was >= 0 && was < 1)
		knob_set(knob, 1);
	now = knob_get(knob);
	if (now < 1) {
		char why[256];

		snprintf(why, sizeof(why), "no page of %lukB could be reserved (%s: %ld)",
			 size >> 10, knob, now);
		if (size < HUGE)
			skip(what, why);	/* a small one: the lab must have it */
		else
			tap_ok(1, "# SKIP %s: %s", what, why);
		return;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | shift << MAP_HUGE_SHIFT, -1, 0);
	if (p == MAP_FAILED) {
		tap_ok(0, "%s: mmap: %s", what, strerror(errno));
		goto out;
	}
	p[0] = 1;
	p[size - 1] = 2;
	err = query(p, n, "pages", &a);
	if (tap_ok(!err, "%s: pages-mode query (%s)", what, strerror(-err))) {
		k = count(&a, n, MEMTRACE_PRESENT, MEMTRACE_F_HUGETLB | MEMTRACE_F_WRITE | szf,
			  MEMTRACE_F_SIZE_MASK & ~szf);
		tap_ok(k == n, "%s: %lu/%lu pages present, hugetlb, writable, mapped %s", what, k,
		       n, szf ? "by PMDs" : "by PTEs");
		bad = 0;
		for (unsigned long i = 1; i < n; i++)
			bad += a.pages[i].pfn != a.pages[0].pfn + i;
		tap_ok(!bad && a.pages[0].pfn, "%s: pfns are head + i (%lu wrong)", what, bad);
		bad = mt_crosscheck(self, &a, true);
		tap_ok(!bad, "%s: %lu pages disagree with pagemap (pfns included)", what, bad);
		err = query(p + mid * MT_PG, 1, "pages", &w);
		tap_ok(!err && w.pages[0].state == a.pages[mid].state &&
		       w.pages[0].flags == a.pages[mid].flags && w.pages[0].pfn == a.pages[mid].pfn,
		       "%s: a one-page window inside it answers as the whole (flags 0x%x, 0x%x)",
		       what, err ? 0 : w.pages[0].flags, a.pages[mid].flags);
		mt_answer_free(&w);
		mt_answer_free(&a);
		bad = folio_not(p, size);
		tap_ok(!bad, "%s: every record's folio is the hugetlb page's (%lukB), not its "
		       "entries' (%lu records differ)", what, size >> 10, bad);
	}
	munmap(p, size);
out:
	if (was >= 0 && was != now)
		knob_set(knob, was);
}

/*
 * arm64's contiguous hugetlb sizes: those of /sys/kernel/mm/hugepages that are
 * neither the PMD's nor the PUD's (up to 64 MiB: the lab VM has 2 GiB).
 * x86 has none.
 */
static void t_hugetlb_cont(void)
{
	const unsigned long pud = HUGE / 8 * MT_PG;
	DIR *d = opendir("/sys/kernel/mm/hugepages");
	struct dirent *e;
	int tried = 0;

	while (d && (e = readdir(d))) {
		unsigned long kb, size;

		if (sscanf(e->d_name, "hugepages-%lukB", &kb) != 1)
			continue;
		size = kb << 10;
		if (size == HUGE || size == pud || size > 64UL << 20)
			continue;
		tried++;
		t_hugetlb_cont_one(size);
	}
	if (d)
		closedir(d);
	if (!tried)
		tap_ok(1, "# SKIP hugetlb: no contiguous hugetlb size here (only the PMD's and the PUD's)");
}

/* A 2 MiB-aligned region backed by one THP, or NULL. */
static char *thp(char **raw)
{
	char *p;

	*raw = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p = (char *)(((uintptr_t)*raw + HUGE - 1) & ~(HUGE - 1));
	madvise(p, HUGE, MADV_HUGEPAGE);
	memset(p, 3, HUGE);
	if (smaps_kb(p, "AnonHugePages") != (long)(HUGE >> 10)) {	/* 2048 kB, 32768 on 16K */
		munmap(*raw, 2 * HUGE);
		return NULL;
	}
	return p;
}

static void t_thp(void)
{
	const unsigned long n = HUGE / MT_PG;
	char mode[64] = "", *raw, *p;
	struct mt_answer a;
	unsigned long k, bad;
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	int err;

	if (!f || !fgets(mode, sizeof(mode), f) || strstr(mode, "[never]")) {
		if (f)
			fclose(f);
		skip("THP: a 2M page split into 4K pages", "THP disabled");
		return;
	}
	fclose(f);
	for (int how = 0; how < 2; how++) {
		const char *what = how ? "MADV_DONTNEED of one 4K page" : "mprotect of one 4K page";
		unsigned long hole = how ? 7 : 5;

		p = thp(&raw);
		if (!p) {
			skip("THP: a 2M page split into 4K pages", "no huge page could be allocated");
			return;
		}
		err = query(p, n, "pages", &a);
		k = err ? 0 : count(&a, n, MEMTRACE_PRESENT, MEMTRACE_F_ANON | MEMTRACE_F_SIZE_2M, 0);
		tap_ok(k == n, "THP (%s): before, %lu/%lu pages present, mapped 2M", what, k, n);
		mt_answer_free(&a);

		if (how)
			madvise(p + hole * MT_PG, MT_PG, MADV_DONTNEED);
		else
			mprotect(p + hole * MT_PG, MT_PG, PROT_READ);
		err = query(p, n, "pages", &a);
		if (!tap_ok(!err, "THP (%s): query after the split (%s)", what, strerror(-err)))
			continue;
		k = count(&a, n, MEMTRACE_PRESENT, MEMTRACE_F_ANON, MEMTRACE_F_SIZE_MASK);
		tap_ok(k == n - how, "THP (%s): %lu/%lu pages present and 4K-mapped, no 2M flag",
		       what, k, n - how);
		if (how)
			tap_ok(a.pages[hole].state == MEMTRACE_NONE,
			       "THP (MADV_DONTNEED): the dropped page is none (%s)",
			       mt_state_names[a.pages[hole].state]);
		else
			tap_ok(!(a.pages[hole].flags & MEMTRACE_F_WRITE) &&
			       (a.pages[hole + 1].flags & MEMTRACE_F_WRITE),
			       "THP (mprotect): the protected page alone is not writable");
		bad = mt_crosscheck(self, &a, true);
		tap_ok(!bad, "THP (%s): %lu pages disagree with pagemap", what, bad);
		mt_answer_free(&a);
		munmap(raw, 2 * HUGE);
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	self = getpid();
	for (int i = 1; i < argc || argc == 1; i++) {
		const char *w = argc == 1 ? "all" : argv[i];

		if (!strcmp(w, "swap") || !strcmp(w, "all"))
			t_swap();
		if (!strcmp(w, "hugetlb") || !strcmp(w, "all")) {
			t_hugetlb();
			t_hugetlb_cont();
		}
		if (!strcmp(w, "thp") || !strcmp(w, "all"))
			t_thp();
		if (argc == 1)
			break;
	}
	return tap_done();
}
