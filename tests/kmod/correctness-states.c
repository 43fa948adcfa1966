// SPDX-License-Identifier: GPL-2.0
/*
 * correctness: regions in known states, checked page by page: anonymous,
 * shared with holes, file, fork and COW, THP and the huge zero page.
 */
#include "correctness.h"

void cor_t_anon(void)
{
	struct mt_answer a;
	char *p = cor_map(NP * cor_psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	volatile char sink;
	int i;

	if (cor_look(getpid(), p, NP, &a, "untouched"))
		cor_expect(&a, NP, "N", 0, 0, "untouched");
	mt_answer_free(&a);

	for (i = 0; i < NP; i++)
		sink = p[i * cor_psz];
	(void)sink;
	if (cor_look(getpid(), p, NP, &a, "read-only touched"))
		cor_expect(&a, NP, "Z", 0, 0, "read-only touched (zero page)");
	tap_ok(a.counts[MEMTRACE_ZERO] == NP, "zero page: summary counts %" PRIu64 " zero",
	       a.counts[MEMTRACE_ZERO]);
	mt_answer_free(&a);

	for (i = 0; i < NP; i += 2)
		p[i * cor_psz] = 1;
	if (cor_look(getpid(), p, NP, &a, "every other page"))
		cor_expect(&a, NP, "PZ", MEMTRACE_F_ANON | MEMTRACE_F_WRITE |
			   MEMTRACE_F_DIRTY | MEMTRACE_F_EXCL, MEMTRACE_F_SIZE_MASK,
			   "every other page written");
	mt_answer_free(&a);

	memset(p, 2, NP * cor_psz);
	if (cor_look(getpid(), p, NP, &a, "all written"))
		cor_expect(&a, NP, "P", MEMTRACE_F_ANON | MEMTRACE_F_WRITE, 0, "all written");
	if (cor_root) {
		bool pfns = true;

		for (i = 0; i < NP; i++)
			pfns &= a.pages[i].pfn != 0;
		tap_ok(pfns, "root sees every PFN");
	}
	mt_answer_free(&a);

	mprotect(p, NP * cor_psz, PROT_NONE);
	if (cor_look(getpid(), p, NP, &a, "PROT_NONE"))
		cor_expect(&a, NP, "P", MEMTRACE_F_ANON, MEMTRACE_F_WRITE,
			   "mprotect PROT_NONE keeps frames");
	mt_answer_free(&a);
	mprotect(p, NP * cor_psz, PROT_READ | PROT_WRITE);

	madvise(p, NP * cor_psz, MADV_DONTNEED);
	if (cor_look(getpid(), p, NP, &a, "MADV_DONTNEED"))
		cor_expect(&a, NP, "N", 0, 0, "MADV_DONTNEED drops frames");
	mt_answer_free(&a);

	/* untouched pages between two written ones, fresh region */
	munmap(p, NP * cor_psz);
	p = cor_map(NP * cor_psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	for (i = 0; i < NP; i += 2)
		p[i * cor_psz] = 1;
	if (cor_look(getpid(), p, NP, &a, "every other page, fresh"))
		cor_expect(&a, NP, "PN", MEMTRACE_F_ANON, 0, "every other page of a fresh region");
	mt_answer_free(&a);

	/* runs mode merges: 16 pages alternate -> 16 runs; all written -> 1 run */
	{
		uint64_t s = (uintptr_t)p;
		int err = mt_query(getpid(), s, s + NP * cor_psz, "runs", &a);

		tap_ok(!err && a.records == NP, "runs: alternating pages give %lu runs", a.records);
		mt_answer_free(&a);
		memset(p, 1, NP * cor_psz);
		err = mt_query(getpid(), s, s + NP * cor_psz, "runs", &a);
		tap_ok(!err && a.records == 1 && a.counts[MEMTRACE_PRESENT] == NP,
		       "runs: a written region is %lu run of %" PRIu64 " present",
		       a.records, a.counts[MEMTRACE_PRESENT]);
		mt_answer_free(&a);
	}
	munmap(p, NP * cor_psz);
}

void cor_t_populate_shared_holes(void)
{
	struct mt_answer a;
	char *p;

	p = cor_map(NP * cor_psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_POPULATE);
	if (cor_look(getpid(), p, NP, &a, "MAP_POPULATE"))
		cor_expect(&a, NP, "P", MEMTRACE_F_ANON, 0, "MAP_POPULATE backs every page");
	mt_answer_free(&a);

	/* holes: unmap pages 4..7 and 12; query the 16 pages */
	munmap(p + 4 * cor_psz, 4 * cor_psz);
	munmap(p + 12 * cor_psz, cor_psz);
	if (cor_look(getpid(), p, NP, &a, "munmap holes"))
		cor_expect(&a, NP, "PPPPUUUUPPPPUPPP", MEMTRACE_F_ANON, 0,
			   "munmap holes are unmapped");
	mt_answer_free(&a);
	munmap(p, NP * cor_psz);

	p = cor_map(NP * cor_psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_SHARED);
	memset(p, 1, NP * cor_psz / 2);
	if (cor_look(getpid(), p, NP, &a, "MAP_SHARED anon"))
		cor_expect(&a, NP, "PPPPPPPPNNNNNNNN", MEMTRACE_F_SHMEM, MEMTRACE_F_ANON,
			   "MAP_SHARED anonymous memory is shmem");
	mt_answer_free(&a);
	munmap(p, NP * cor_psz);

	/* several VMAs: protections differ, so three VMAs over one range */
	p = cor_map(NP * cor_psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	memset(p, 1, NP * cor_psz);
	mprotect(p + 4 * cor_psz, 4 * cor_psz, PROT_READ);
	madvise(p + 12 * cor_psz, 4 * cor_psz, MADV_DONTNEED);
	if (cor_look(getpid(), p, NP, &a, "three VMAs"))
		cor_expect(&a, NP, "PPPPPPPPPPPPNNNN", MEMTRACE_F_ANON, 0,
			   "a range spanning three VMAs");
	if (a.pages) {
		bool ro = true;

		for (int i = 4; i < 8; i++)
			ro &= !(a.pages[i].flags & MEMTRACE_F_WRITE);
		tap_ok(ro && (a.pages[0].flags & MEMTRACE_F_WRITE),
		       "read-only VMA's pages are not writable, others are");
	}
	mt_answer_free(&a);
	munmap(p, NP * cor_psz);
}

void cor_t_file(void)
{
	char path[] = "/tmp/memtrace-file-XXXXXX";
	struct mt_answer a;
	int fd = mkstemp(path);
	char *p, buf[4096];
	volatile char sink;

	memset(buf, 'x', sizeof(buf));
	/* NP pages of the kernel's size (a 4K page at a time: 16K pages are 4) */
	for (long i = 0; i < NP * cor_psz / (long)sizeof(buf); i++)
		if (write(fd, buf, sizeof(buf)) != sizeof(buf))
			exit(2);
	p = mmap(NULL, NP * cor_psz, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	for (int i = 0; i < NP / 2; i++)
		sink = p[i * cor_psz];
	(void)sink;
	for (int i = NP / 2; i < NP; i += 2)
		p[i * cor_psz] = 'y';
	if (cor_look(getpid(), p, NP, &a, "private file mapping")) {
		unsigned long bad = 0;

		for (int i = 0; i < NP; i++) {
			const struct mt_page *pg = &a.pages[i];
			bool ok;

			if (i < NP / 2)	/* read: the page cache page */
				ok = pg->state == MEMTRACE_PRESENT &&
				     (pg->flags & (MEMTRACE_F_FILE | MEMTRACE_F_SHMEM)) &&
				     !(pg->flags & MEMTRACE_F_WRITE);
			else if (!(i % 2))	/* written: a COW copy, anonymous */
				ok = pg->state == MEMTRACE_PRESENT &&
				     (pg->flags & MEMTRACE_F_ANON) &&
				     (pg->flags & MEMTRACE_F_WRITE);
			else	/* the kernel may map cached pages around a fault */
				ok = pg->state == MEMTRACE_NONE ||
				     (pg->state == MEMTRACE_PRESENT &&
				      !(pg->flags & MEMTRACE_F_ANON));
			bad += !ok;
		}
		tap_ok(!bad, "file mapping: read pages are page cache, written ones COW anon (%lu bad)", bad);
	}
	mt_answer_free(&a);
	munmap(p, NP * cor_psz);
	close(fd);
	unlink(path);
}

void cor_t_fork_cow(void)
{
	struct mt_answer pa, ca;
	char *p = cor_map(4 * cor_psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	int st;
	pid_t c;

	memset(p, 1, 4 * cor_psz);
	c = fork();
	if (!c) {
		p[0] = 2;	/* COW: page 0 gets a frame of its own */
		raise(SIGSTOP);
		_exit(0);
	}
	waitpid(c, &st, WUNTRACED);
	if (cor_look(c, p, 4, &ca, "fork child") && cor_look(getpid(), p, 4, &pa, "fork parent")) {
		cor_expect(&ca, 4, "P", MEMTRACE_F_ANON, 0, "child after fork: all present");
		tap_ok((ca.pages[0].flags & MEMTRACE_F_WRITE) &&
		       !(ca.pages[1].flags & MEMTRACE_F_WRITE) &&
		       !(ca.pages[1].flags & MEMTRACE_F_EXCL),
		       "child: written page writable, shared pages read-only and not exclusive");
		if (cor_root)
			tap_ok(ca.pages[0].pfn != pa.pages[0].pfn &&
			       ca.pages[1].pfn == pa.pages[1].pfn,
			       "COW: child's written page has its own frame, others share the parent's");
	}
	mt_answer_free(&pa);
	mt_answer_free(&ca);
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	munmap(p, 4 * cor_psz);
}

static long smaps_kb(void *addr, const char *field)
{
	unsigned long s, e;
	char line[256];
	bool in = false;
	long v = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2)
			in = s == (unsigned long)addr;
		else if (in && !strncmp(line, field, strlen(field)) &&
			 line[strlen(field)] == ':')
			v = atol(line + strlen(field) + 1);
	}
	if (f)
		fclose(f);
	return v;
}

#define THP_SYS "/sys/kernel/mm/transparent_hugepage/"

/* The first line of a sysfs file; a choice's word in brackets; "-": no file. */
static char *sysfs_word(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[256] = "-", *o, *c, *w = line;
	size_t n;

	if (f && fgets(line, sizeof(line), f)) {
		o = strchr(line, '[');
		c = o ? strchr(o, ']') : NULL;
		if (c) {
			*c = '\0';
			w = o + 1;
		}
		w[strcspn(w, "\n")] = '\0';
	}
	n = strlen(w) < len ? strlen(w) : len - 1;
	memcpy(buf, w, n);
	buf[n] = '\0';
	if (f)
		fclose(f);
	return buf;
}

/*
 * Does a read fault on a 2M-aligned MADV_HUGEPAGE range of private anonymous
 * memory map the huge zero page, as the kernel's settings say? PMD-sized THPs
 * for the range: hugepages-2048kB/enabled (6.8+) "always" or "madvise", or
 * "inherit" (or no such file) and the top-level enabled "always" or
 * "madvise"; use_zero_page 1; no PR_SET_THP_DISABLE on the process.
 */
static bool huge_zero_expected(bool madv_ok, char *why, size_t len)
{
	char top[32], pmd[32], zp[32];
	int dis = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
	bool thp;

	sysfs_word(THP_SYS "enabled", top, sizeof(top));
	char knob[96];

	/* hugepages-2048kB with 4K pages, hugepages-32768kB with 16K */
	snprintf(knob, sizeof(knob), THP_SYS "hugepages-%lukB/enabled", cor_huge() >> 10);
	sysfs_word(knob, pmd, sizeof(pmd));
	sysfs_word(THP_SYS "use_zero_page", zp, sizeof(zp));
	if (!strcmp(pmd, "always") || !strcmp(pmd, "madvise"))
		thp = true;
	else if (!strcmp(pmd, "inherit") || !strcmp(pmd, "-"))
		thp = !strcmp(top, "always") || !strcmp(top, "madvise");
	else
		thp = false;
	snprintf(why, len, "enabled [%s], %s [%s], use_zero_page %s, MADV_HUGEPAGE %s, THP_DISABLE %d",
		 top, knob + strlen(THP_SYS), pmd, zp, madv_ok ? "ok" : "failed", dis);
	return thp && !strcmp(zp, "1") && madv_ok && dis == 0;
}

/* A counter of /proc/vmstat, or -1. */
static long vm_event(const char *name)
{
	FILE *f = fopen("/proc/vmstat", "r");
	char line[128];
	size_t len = strlen(name);
	long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ' ')
			v = atol(line + len + 1);
	if (f)
		fclose(f);
	return v;
}

/*
 * Did the kernel map the huge zero page at p? Its own word, as root: pagemap
 * shows 512 present entries whose frames run on from a 2M-aligned one, and
 * kpageflags calls them ZERO_PAGE and THP. 1 yes, 0 no, -1 frames hidden.
 */
static int huge_zero_mapped(char *p, size_t huge, char *why, size_t len)
{
	unsigned long n = huge / cor_psz, present = 0, run = 0;
	uint64_t *pm = calloc(n, 8), f0, k0 = 0, kn = 0;
	int ret;

	if (mt_pagemap(getpid(), (uintptr_t)p, (uintptr_t)p + huge, pm)) {
		snprintf(why, len, "pagemap not read");
		free(pm);
		return -1;
	}
	f0 = pm[0] & PM_PFN;
	for (unsigned long i = 0; i < n; i++) {
		present += !!(pm[i] & PM_PRESENT);
		run += (pm[i] & PM_PRESENT) && (pm[i] & PM_PFN) == f0 + i;
	}
	if (present && !f0) {
		snprintf(why, len, "pagemap: %lu/%lu present, frames hidden", present, n);
		free(pm);
		return -1;
	}
	if (f0) {
		mt_kpageflags(f0, &k0);
		mt_kpageflags(f0 + n - 1, &kn);
	}
	ret = run == n && !(f0 % n) &&
	      ((k0 & kn) >> MT_KPF_ZERO_PAGE & 1) && ((k0 & kn) >> MT_KPF_THP & 1);
	snprintf(why, len, "pagemap: %lu/%lu present, %lu frames on from 0x%" PRIx64
		 ", kpageflags 0x%" PRIx64 "...0x%" PRIx64 ", thp_zero_page_alloc_failed %ld",
		 present, n, run, f0, k0, kn, vm_event("thp_zero_page_alloc_failed"));
	free(pm);
	return ret;
}

void cor_t_thp(void)
{
	size_t huge = cor_huge();
	char *raw = mmap(NULL, 3 * huge, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p = (char *)(((uintptr_t)raw + huge - 1) & ~(huge - 1));
	char facts[256], evidence[256];
	struct mt_answer a;
	volatile char sink;
	bool madv, want;
	int mapped;
	long kb;

	madv = !madvise(p, huge, MADV_HUGEPAGE);
	sink = p[0];	/* read fault: the huge zero page, where the kernel maps it */
	(void)sink;
	want = huge_zero_expected(madv, facts, sizeof(facts));
	mapped = huge_zero_mapped(p, huge, evidence, sizeof(evidence));
	if (mapped >= 0) {
		tap_ok(mapped == want,
		       "THP read fault: the kernel %s the huge zero page, as its settings say (%s; %s)",
		       mapped ? "maps" : "does not map", facts, evidence);
		want = mapped;
	} else {
		tap_diag("the huge zero page judged by the settings alone (%s; %s)", facts, evidence);
	}
	if (cor_look(getpid(), p, huge / cor_psz, &a, "THP read-only")) {
		unsigned long bad = 0;

		for (unsigned long i = 0; i < huge / cor_psz; i++) {
			const struct mt_page *pg = &a.pages[i];
			bool hz = pg->state == MEMTRACE_ZERO &&
				  (pg->flags & MEMTRACE_F_SIZE_MASK) == MEMTRACE_F_SIZE_PMD;

			if (hz != want && bad++ < 4)
				tap_diag("page %lu: %s flags 0x%x", i, mt_state_names[pg->state],
					 pg->flags);
		}
		if (want)
			tap_ok(!bad,
			       "THP read fault: all %zu pages zero, %zuM (the huge zero page; %lu are not)",
			       huge / cor_psz, huge >> 20, bad);
		else
			tap_ok(!bad, "THP read fault, no huge zero page: no page is zero %zuM (%lu are)",
			       huge >> 20, bad);
	}
	mt_answer_free(&a);

	madvise(p, huge, MADV_DONTNEED);
	p[0] = 1;
	kb = smaps_kb(p, "AnonHugePages");
	tap_ok(kb == (long)(huge >> 10), "THP: the kernel backed the region with a huge page (AnonHugePages %ld kB)", kb);
	if (cor_look(getpid(), p, huge / cor_psz, &a, "THP written"))
		cor_expect(&a, huge / cor_psz, "P", MEMTRACE_F_ANON | MEMTRACE_F_SIZE_PMD, 0,
			   huge == 2UL << 20 ? "THP: 512 pages present, mapped 2M" :
			   "THP: a PMD's pages present, mapped by the PMD");
	mt_answer_free(&a);
	munmap(raw, 3 * huge);
}

/*
 * Is the page at addr below the address space's limit (TASK_SIZE)? The
 * kernel's answer: a fixed mapping there succeeds, or finds one in place
 * (EEXIST); past the limit mmap fails with ENOMEM.
 */
