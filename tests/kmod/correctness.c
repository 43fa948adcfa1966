// SPDX-License-Identifier: GPL-2.0
/*
 * The module's correctness suite, run as root in the lab VM: regions in known
 * states, checked page by page against what they must be and against
 * /proc/PID/pagemap; bad input, each with its errno; permissions as a real
 * unprivileged user.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mtlib.h"
#include "tap.h"

#define NP 16
static long psz;
static bool root;

#define A_PRESENT(f) ((f) & MEMTRACE_F_ANON)

static char *map(size_t len, int prot, int flags)
{
	char *p = mmap(NULL, len, prot, flags | MAP_PRIVATE * !(flags & MAP_SHARED), -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

/* Query [p, p+n pages) of pid in pages mode, check it against pagemap. */
static bool look(int pid, void *p, unsigned long n, struct mt_answer *a,
		 const char *what)
{
	uint64_t s = (uintptr_t)p;
	int err = mt_query(pid, s, s + n * psz, "pages", a);
	struct mt_xcheck x;

	if (!tap_ok(err == 0, "%s: query answers (%s)", what, strerror(-err)))
		return false;
	/* as root, pagemap and kpageflags can judge every page of these regions */
	mt_crosscheck_ex(pid, a, root, &x);
	tap_ok(!x.disagree && (!root || !x.unjudged),
	       "%s: %lu/%lu pages agree with pagemap, %lu not judged%s%s", what, x.agree, n,
	       x.unjudged, x.unjudged ? ": " : "", x.unjudged ? x.why : "");
	return true;
}

/* Every page's state equals want[i % len(want)]; extra flag tests by mask. */
static void expect(const struct mt_answer *a, unsigned long n, const char *pattern,
		   uint32_t must, uint32_t mustnot, const char *what)
{
	unsigned long i, bad = 0;

	for (i = 0; i < n; i++) {
		int want;
		const struct mt_page *p = &a->pages[i];

		switch (pattern[i % strlen(pattern)]) {
		case 'P': want = MEMTRACE_PRESENT; break;
		case 'Z': want = MEMTRACE_ZERO; break;
		case 'N': want = MEMTRACE_NONE; break;
		case 'U': want = MEMTRACE_UNMAPPED; break;
		default: want = MEMTRACE_SWAP;
		}
		if (p->state != want ||
		    (want == MEMTRACE_PRESENT &&
		     ((p->flags & must) != must || (p->flags & mustnot)))) {
			if (bad++ < 4)
				tap_diag("page %lu: %s flags 0x%x", i,
					 mt_state_names[p->state], p->flags);
		}
	}
	tap_ok(bad == 0, "%s: states are %s", what, pattern);
}

static void t_anon(void)
{
	struct mt_answer a;
	char *p = map(NP * psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	volatile char sink;
	int i;

	if (look(getpid(), p, NP, &a, "untouched"))
		expect(&a, NP, "N", 0, 0, "untouched");
	mt_answer_free(&a);

	for (i = 0; i < NP; i++)
		sink = p[i * psz];
	(void)sink;
	if (look(getpid(), p, NP, &a, "read-only touched"))
		expect(&a, NP, "Z", 0, 0, "read-only touched (zero page)");
	tap_ok(a.counts[MEMTRACE_ZERO] == NP, "zero page: summary counts %" PRIu64 " zero",
	       a.counts[MEMTRACE_ZERO]);
	mt_answer_free(&a);

	for (i = 0; i < NP; i += 2)
		p[i * psz] = 1;
	if (look(getpid(), p, NP, &a, "every other page"))
		expect(&a, NP, "PZ", MEMTRACE_F_ANON | MEMTRACE_F_WRITE |
		       MEMTRACE_F_DIRTY | MEMTRACE_F_EXCL, MEMTRACE_F_SIZE_MASK,
		       "every other page written");
	mt_answer_free(&a);

	memset(p, 2, NP * psz);
	if (look(getpid(), p, NP, &a, "all written"))
		expect(&a, NP, "P", MEMTRACE_F_ANON | MEMTRACE_F_WRITE, 0, "all written");
	if (root) {
		bool pfns = true;

		for (i = 0; i < NP; i++)
			pfns &= a.pages[i].pfn != 0;
		tap_ok(pfns, "root sees every PFN");
	}
	mt_answer_free(&a);

	mprotect(p, NP * psz, PROT_NONE);
	if (look(getpid(), p, NP, &a, "PROT_NONE"))
		expect(&a, NP, "P", MEMTRACE_F_ANON, MEMTRACE_F_WRITE,
		       "mprotect PROT_NONE keeps frames");
	mt_answer_free(&a);
	mprotect(p, NP * psz, PROT_READ | PROT_WRITE);

	madvise(p, NP * psz, MADV_DONTNEED);
	if (look(getpid(), p, NP, &a, "MADV_DONTNEED"))
		expect(&a, NP, "N", 0, 0, "MADV_DONTNEED drops frames");
	mt_answer_free(&a);

	/* untouched pages between two written ones, fresh region */
	munmap(p, NP * psz);
	p = map(NP * psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	for (i = 0; i < NP; i += 2)
		p[i * psz] = 1;
	if (look(getpid(), p, NP, &a, "every other page, fresh"))
		expect(&a, NP, "PN", MEMTRACE_F_ANON, 0, "every other page of a fresh region");
	mt_answer_free(&a);

	/* runs mode merges: 16 pages alternate -> 16 runs; all written -> 1 run */
	{
		uint64_t s = (uintptr_t)p;
		int err = mt_query(getpid(), s, s + NP * psz, "runs", &a);

		tap_ok(!err && a.records == NP, "runs: alternating pages give %lu runs", a.records);
		mt_answer_free(&a);
		memset(p, 1, NP * psz);
		err = mt_query(getpid(), s, s + NP * psz, "runs", &a);
		tap_ok(!err && a.records == 1 && a.counts[MEMTRACE_PRESENT] == NP,
		       "runs: a written region is %lu run of %" PRIu64 " present",
		       a.records, a.counts[MEMTRACE_PRESENT]);
		mt_answer_free(&a);
	}
	munmap(p, NP * psz);
}

static void t_populate_shared_holes(void)
{
	struct mt_answer a;
	char *p;

	p = map(NP * psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_POPULATE);
	if (look(getpid(), p, NP, &a, "MAP_POPULATE"))
		expect(&a, NP, "P", MEMTRACE_F_ANON, 0, "MAP_POPULATE backs every page");
	mt_answer_free(&a);

	/* holes: unmap pages 4..7 and 12; query the 16 pages */
	munmap(p + 4 * psz, 4 * psz);
	munmap(p + 12 * psz, psz);
	if (look(getpid(), p, NP, &a, "munmap holes"))
		expect(&a, NP, "PPPPUUUUPPPPUPPP", MEMTRACE_F_ANON, 0,
		       "munmap holes are unmapped");
	mt_answer_free(&a);
	munmap(p, NP * psz);

	p = map(NP * psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_SHARED);
	memset(p, 1, NP * psz / 2);
	if (look(getpid(), p, NP, &a, "MAP_SHARED anon"))
		expect(&a, NP, "PPPPPPPPNNNNNNNN", MEMTRACE_F_SHMEM, MEMTRACE_F_ANON,
		       "MAP_SHARED anonymous memory is shmem");
	mt_answer_free(&a);
	munmap(p, NP * psz);

	/* several VMAs: protections differ, so three VMAs over one range */
	p = map(NP * psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	memset(p, 1, NP * psz);
	mprotect(p + 4 * psz, 4 * psz, PROT_READ);
	madvise(p + 12 * psz, 4 * psz, MADV_DONTNEED);
	if (look(getpid(), p, NP, &a, "three VMAs"))
		expect(&a, NP, "PPPPPPPPPPPPNNNN", MEMTRACE_F_ANON, 0,
		       "a range spanning three VMAs");
	if (a.pages) {
		bool ro = true;

		for (int i = 4; i < 8; i++)
			ro &= !(a.pages[i].flags & MEMTRACE_F_WRITE);
		tap_ok(ro && (a.pages[0].flags & MEMTRACE_F_WRITE),
		       "read-only VMA's pages are not writable, others are");
	}
	mt_answer_free(&a);
	munmap(p, NP * psz);
}

static void t_file(void)
{
	char path[] = "/tmp/memtrace-file-XXXXXX";
	struct mt_answer a;
	int fd = mkstemp(path);
	char *p, buf[4096];
	volatile char sink;

	memset(buf, 'x', sizeof(buf));
	for (int i = 0; i < NP; i++)
		if (write(fd, buf, sizeof(buf)) != sizeof(buf))
			exit(2);
	p = mmap(NULL, NP * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	for (int i = 0; i < NP / 2; i++)
		sink = p[i * psz];
	(void)sink;
	for (int i = NP / 2; i < NP; i += 2)
		p[i * psz] = 'y';
	if (look(getpid(), p, NP, &a, "private file mapping")) {
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
	munmap(p, NP * psz);
	close(fd);
	unlink(path);
}

static void t_fork_cow(void)
{
	struct mt_answer pa, ca;
	char *p = map(4 * psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	int st;
	pid_t c;

	memset(p, 1, 4 * psz);
	c = fork();
	if (!c) {
		p[0] = 2;	/* COW: page 0 gets a frame of its own */
		raise(SIGSTOP);
		_exit(0);
	}
	waitpid(c, &st, WUNTRACED);
	if (look(c, p, 4, &ca, "fork child") && look(getpid(), p, 4, &pa, "fork parent")) {
		expect(&ca, 4, "P", MEMTRACE_F_ANON, 0, "child after fork: all present");
		tap_ok((ca.pages[0].flags & MEMTRACE_F_WRITE) &&
		       !(ca.pages[1].flags & MEMTRACE_F_WRITE) &&
		       !(ca.pages[1].flags & MEMTRACE_F_EXCL),
		       "child: written page writable, shared pages read-only and not exclusive");
		if (root)
			tap_ok(ca.pages[0].pfn != pa.pages[0].pfn &&
			       ca.pages[1].pfn == pa.pages[1].pfn,
			       "COW: child's written page has its own frame, others share the parent's");
	}
	mt_answer_free(&pa);
	mt_answer_free(&ca);
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	munmap(p, 4 * psz);
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
	sysfs_word(THP_SYS "hugepages-2048kB/enabled", pmd, sizeof(pmd));
	sysfs_word(THP_SYS "use_zero_page", zp, sizeof(zp));
	if (!strcmp(pmd, "always") || !strcmp(pmd, "madvise"))
		thp = true;
	else if (!strcmp(pmd, "inherit") || !strcmp(pmd, "-"))
		thp = !strcmp(top, "always") || !strcmp(top, "madvise");
	else
		thp = false;
	snprintf(why, len, "enabled [%s], hugepages-2048kB [%s], use_zero_page %s, MADV_HUGEPAGE %s, THP_DISABLE %d",
		 top, pmd, zp, madv_ok ? "ok" : "failed", dis);
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
	unsigned long n = huge / psz, present = 0, run = 0;
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

static void t_thp(void)
{
	size_t huge = 2UL << 20;
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
	if (look(getpid(), p, huge / psz, &a, "THP read-only")) {
		unsigned long bad = 0;

		for (unsigned long i = 0; i < huge / psz; i++) {
			const struct mt_page *pg = &a.pages[i];
			bool hz = pg->state == MEMTRACE_ZERO &&
				  (pg->flags & MEMTRACE_F_SIZE_MASK) == MEMTRACE_F_SIZE_2M;

			if (hz != want && bad++ < 4)
				tap_diag("page %lu: %s flags 0x%x", i, mt_state_names[pg->state],
					 pg->flags);
		}
		if (want)
			tap_ok(!bad,
			       "THP read fault: all %zu pages zero, 2M (the huge zero page; %lu are not)",
			       huge / psz, bad);
		else
			tap_ok(!bad, "THP read fault, no huge zero page: no page is zero 2M (%lu are)", bad);
	}
	mt_answer_free(&a);

	madvise(p, huge, MADV_DONTNEED);
	p[0] = 1;
	kb = smaps_kb(p, "AnonHugePages");
	tap_ok(kb == 2048, "THP: the kernel backed the region with a huge page (AnonHugePages %ld kB)", kb);
	if (look(getpid(), p, huge / psz, &a, "THP written"))
		expect(&a, huge / psz, "P", MEMTRACE_F_ANON | MEMTRACE_F_SIZE_2M, 0,
		       "THP: 512 pages present, mapped 2M");
	mt_answer_free(&a);
	munmap(raw, 3 * huge);
}

/*
 * Is the page at addr below the address space's limit (TASK_SIZE)? The
 * kernel's answer: a fixed mapping there succeeds, or finds one in place
 * (EEXIST); past the limit mmap fails with ENOMEM.
 */
static bool below_task_size(uint64_t addr)
{
	void *want = (void *)(uintptr_t)addr;
	void *m = mmap(want, psz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		       -1, 0);

	if (m == MAP_FAILED)
		return errno == EEXIST;
	munmap(m, psz);
	return m == want;
}

/*
 * This process's TASK_SIZE (a child's is the same): 2^47 - 4096 with 4-level
 * paging, 2^56 - 4096 with 5-level (x86-64 TASK_SIZE_MAX); 0 if neither fits.
 */
static uint64_t task_size(void)
{
	for (int bits = 47; bits <= 56; bits += 56 - 47) {
		uint64_t ts = (1ULL << bits) - 4096;

		if (below_task_size(ts - psz) && !below_task_size(ts))
			return ts;
	}
	return 0;
}

/* The header and summary of an "all" answer: 0, or what is wrong with them. */
static const char *whole_answer(const char *text, uint64_t ts, uint64_t *end, uint64_t *total,
				uint64_t *sum)
{
	const char *s = strstr(text, "\n# summary ");
	uint64_t start = 1;
	char line[512], *tok, *save;

	*end = *total = *sum = 0;
	if (sscanf(text, "# memtrace pid=%*d start=0x%" SCNx64 " end=0x%" SCNx64,
		   &start, end) != 2)
		return "no header";
	if (!s)
		return "no summary";
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(s + 11, "\n"), s + 11);
	for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq)
			return "summary token without '='";
		*eq = '\0';
		if (!strcmp(tok, "pages"))
			*total = strtoull(eq + 1, NULL, 10);
		else if (mt_state_of(tok) >= 0)
			*sum += strtoull(eq + 1, NULL, 10);
		else
			return "unknown summary token";
	}
	if (start != 0 || *end != ts)
		return "range is not [0, TASK_SIZE)";
	if (*total != ts / psz)
		return "pages is not TASK_SIZE / page size";
	if (*sum != *total)
		return "the states do not add up to pages";
	return NULL;
}

/* The whole address space of a stopped child, runs mode, against pagemap. */
static void t_whole(void)
{
	struct mt_answer a;
	uint64_t ts = task_size(), sum = 0;
	pid_t c = fork();
	int st, err;

	if (!c) {
		raise(SIGSTOP);
		_exit(0);
	}
	waitpid(c, &st, WUNTRACED);
	{
		int fd = open("/proc/memtrace", O_RDWR);
		size_t cap = 1 << 24;
		char q[64], *text = malloc(cap);
		ssize_t n, len = 0;
		int ql = snprintf(q, sizeof(q), "%d all", c);
		uint64_t end, total, states;
		const char *why;

		tap_ok(write(fd, q, ql) == ql, "whole address space: query accepted");
		while ((size_t)len < cap - 1 &&
		       (n = read(fd, text + len, cap - 1 - len < 65536 ? cap - 1 - len : 65536)) > 0)
			len += n;
		text[len] = 0;
		close(fd);
		why = whole_answer(text, ts, &end, &total, &states);
		tap_ok(ts && !why,
		       "whole address space (%zd bytes): end 0x%" PRIx64 ", %" PRIu64
		       " pages, states add up to %" PRIu64 "; TASK_SIZE by mmap 0x%" PRIx64
		       " is %" PRIu64 " pages%s%s", len, end, total, states, ts, ts / psz,
		       why ? ": " : "", why ? why : "");
		free(text);
	}
	err = mt_query(c, 0, 0x7ffffffff000ULL, "runs", &a);
	tap_ok(!err, "whole 47-bit space in runs mode (%s)", strerror(-err));
	if (!err) {
		for (int i = 0; i < MEMTRACE_NSTATES; i++)
			sum += a.counts[i];
		tap_ok(sum == a.total && a.total == 0x7ffffffffULL,
		       "summary adds up: %" PRIu64 " pages", a.total);
		tap_ok(a.counts[MEMTRACE_PRESENT] > 0 && a.counts[MEMTRACE_UNMAPPED] > a.total / 2,
		       "whole space: %" PRIu64 " present, %" PRIu64 " unmapped",
		       a.counts[MEMTRACE_PRESENT], a.counts[MEMTRACE_UNMAPPED]);
		mt_answer_free(&a);
	}
	/* every mapping of the child, pages mode, against pagemap */
	{
		char path[64], line[512];
		unsigned long bad = 0, pages = 0, nj = 0;
		const char *first = NULL;
		struct mt_xcheck x;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/maps", c);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f)) {
			uint64_t s, e;

			if (sscanf(line, "%" SCNx64 "-%" SCNx64, &s, &e) != 2 ||
			    strstr(line, "[vsyscall]"))
				continue;
			if (mt_query(c, s, e, "pages", &a)) {
				bad++;
				continue;
			}
			mt_crosscheck_ex(c, &a, root, &x);
			if (x.disagree || x.unjudged)
				tap_diag("in mapping %.*s: %lu disagree, %lu not judged",
					 (int)strcspn(line, "\n"), line, x.disagree, x.unjudged);
			if (x.unjudged && !first)
				first = x.why;
			bad += x.disagree;
			nj += x.unjudged;
			pages += (e - s) / psz;
			mt_answer_free(&a);
		}
		if (f)
			fclose(f);
		tap_ok(bad == 0 && pages > 0,
		       "every mapping of a stopped process: %lu pages, %lu disagree, %lu not judged%s%s%s",
		       pages, bad, nj, first ? " (first: " : "", first ? first : "", first ? ")" : "");
	}
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
}

struct bad { const char *line; int err; const char *what; };

static void t_bad_input(void)
{
	char q[512], big[400];
	int me = getpid();
	const struct bad cases[] = {
		{ "\n", EINVAL, "empty line" },
		{ "garbage", EINVAL, "garbage" },
		{ "%d", EINVAL, "PID alone" },
		{ "self 0 4096", EINVAL, "PID not a number" },
		{ "-1 0 4096", EINVAL, "negative PID" },
		{ "%d -4096 4096", EINVAL, "negative START" },
		{ "%d 0x1000 0x1000", EINVAL, "END == START" },
		{ "%d 0x2000 0x1000", EINVAL, "END < START" },
		{ "%d 0x2000 +0", EINVAL, "zero LENGTH" },
		{ "%d 0xfffffffffffff000 +0x2000", ERANGE, "START+LENGTH overflows" },
		{ "%d 0 0x200000000000000", ERANGE, "END past TASK_SIZE (2^57)" },
		{ "%d 0 0xffffffffffffffff", ERANGE, "END at 2^64-1" },
		{ "%d 0 99999999999999999999999", ERANGE, "END overflows u64" },
		{ "%d 0 4096 sideways", EINVAL, "unknown mode word" },
		{ "%d 0 4096 runs extra", EINVAL, "trailing token" },
		{ "%d 0x 4096", EINVAL, "bare 0x" },
		{ "%d 0 +", EINVAL, "bare +" },
		{ "%d 1O 4096", EINVAL, "letter in number" },
		{ "%d 99999999999999999999abc 4096", EINVAL,
		  "regression parse-u64-sign: junk after an overflowing number" },
		{ "%d 0x0x1000 0x2000", EINVAL, "regression parse-u64-sign: 0x0x" },
		{ "+%d 0 4096", EINVAL, "regression parse-u64-sign: +PID" },
		{ "%d 0x1001 0x1001", EINVAL,
		  "regression end-rounding: END == START before rounding" },
		{ "999999 0 4096", ESRCH, "no such PID" },
		{ "0 0 4096", ESRCH, "PID 0" },
		{ "99999999999 0 4096", ESRCH, "PID too large" },
		{ "2 0 4096", ESRCH, "kernel thread (kthreadd)" },
	};
	int err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(q, sizeof(q), cases[i].line, me);

		err = mt_write_raw(q, n);
		tap_ok(err == -cases[i].err, "bad input, %s: %s (got %s)", cases[i].what,
		       strerror(cases[i].err), strerror(-err));
	}
	memset(big, ' ', sizeof(big));
	memcpy(big, "1 0 4096", 8);
	err = mt_write_raw(big, sizeof(big));
	tap_ok(err == -E2BIG, "bad input, %zu-byte line: E2BIG (got %s)", sizeof(big), strerror(-err));
	err = mt_write_raw("1 0 4\0096", 8);
	tap_ok(err == -EINVAL, "bad input, NUL byte: EINVAL (got %s)", strerror(-err));
	{
		unsigned char junk[200];

		srand(1);
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = rand();
		err = mt_write_raw(junk, sizeof(junk));
		tap_ok(err == -EINVAL || err == -ESRCH || err == -ERANGE,
		       "bad input, binary junk: rejected (got %s)", strerror(-err));
	}
	/* A zombie is a process without memory. */
	{
		pid_t z = fork();

		if (!z)
			_exit(0);
		usleep(100000);
		snprintf(q, sizeof(q), "%d 0 4096", z);
		err = mt_write_raw(q, strlen(q));
		tap_ok(err == -ESRCH, "zombie: ESRCH (got %s)", strerror(-err));
		waitpid(z, NULL, 0);
	}
	/* Offsets and state: pwrite is refused; a bad line keeps the old query. */
	{
		int fd = open("/proc/memtrace", O_RDWR);
		char buf[256];
		int n;

		n = snprintf(q, sizeof(q), "%d 0x1000 +0x1000", me);
		tap_ok(pwrite(fd, q, n, 5) < 0 && errno == ESPIPE, "pwrite at an offset: ESPIPE");
		tap_ok(write(fd, q, n) == n, "good query accepted");
		tap_ok(write(fd, "junk", 4) < 0 && errno == EINVAL, "then a bad one: EINVAL");
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		snprintf(q, sizeof(q), "# memtrace pid=%d start=0x1000 end=0x2000", me);
		tap_ok(!strncmp(buf, q, strlen(q)), "the bad line left the good query in place");
		close(fd);
	}
}

/* Two open files, two queries: neither sees the other's answer. */
static void t_isolation(void)
{
	int f1 = open("/proc/memtrace", O_RDWR), f2 = open("/proc/memtrace", O_RDWR);
	char q[128], b1[128], b2[128];
	int n;

	n = snprintf(q, sizeof(q), "%d 0x1000 +0x1000", getpid());
	tap_ok(write(f1, q, n) == n, "isolation: first file's query");
	n = snprintf(q, sizeof(q), "%d 0x5000 +0x3000 pages", getpid());
	tap_ok(write(f2, q, n) == n, "isolation: second file's query");
	n = read(f1, b1, 60);
	b1[n > 0 ? n : 0] = 0;
	n = read(f2, b2, 60);
	b2[n > 0 ? n : 0] = 0;
	tap_ok(strstr(b1, "start=0x1000 end=0x2000") && strstr(b2, "start=0x5000 end=0x8000"),
	       "isolation: each file answers its own query");
	/* a second query on the same file replaces the first, even mid-answer */
	n = snprintf(q, sizeof(q), "%d 0xc000 +0x2000", getpid());
	tap_ok(write(f1, q, n) == n, "reuse: a second query on a half-read file");
	n = read(f1, b1, 60);
	b1[n > 0 ? n : 0] = 0;
	tap_ok(strncmp(b1, "# memtrace", 10) == 0 && strstr(b1, "start=0xc000 end=0xe000"),
	       "reuse: the answer to the second query starts afresh");
	while (read(f1, b1, sizeof(b1)) > 0)
		;
	n = snprintf(q, sizeof(q), "%d 0x10000 +0x1000", getpid());
	tap_ok(write(f1, q, n) == n, "reuse: a third query after the end of an answer");
	n = read(f1, b1, 60);
	b1[n > 0 ? n : 0] = 0;
	tap_ok(strncmp(b1, "# memtrace", 10) == 0 && strstr(b1, "start=0x10000 end=0x11000"),
	       "reuse: the third query is answered");
	close(f1);
	close(f2);

	/*
	 * A file answers only queries written to it: no "last query of the
	 * same user" for a fresh file, even in the process that wrote one.
	 */
	n = snprintf(q, sizeof(q), "%d 0x9000 +0x1000\n", getpid());
	tap_ok(mt_write_raw(q, n) == 0, "write a query to one file and close it");
	f1 = open("/proc/memtrace", O_RDONLY);
	errno = 0;
	n = read(f1, b1, sizeof(b1) - 1);
	tap_ok(n < 0 && errno == ENODATA,
	       "a fresh file without a query of its own reads ENODATA (got %zd, %s)",
	       n, strerror(errno));
	close(f1);
	/* the shell idiom that works: one open file for the query and the answer */
	f1 = open("/proc/memtrace", O_RDWR);
	n = strlen(q);
	tap_ok(write(f1, q, n) == n, "exec 3<>/proc/memtrace; echo QUERY >&3");
	n = read(f1, b1, sizeof(b1) - 1);
	b1[n > 0 ? n : 0] = 0;
	close(f1);
	tap_ok(strstr(b1, "start=0x9000 end=0xa000") != NULL, "cat <&3 answers it");
}

/* Target exits in the middle of an answer: a clean errno. */
static void t_exit_midway(void)
{
	char q[64], buf[256];
	int fd, st;
	ssize_t n;
	pid_t c = fork();

	if (!c) {
		/* an answer far longer than one kernel buffer */
		mmap(NULL, 64 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		pause();
		_exit(0);
	}
	usleep(50000);
	fd = open("/proc/memtrace", O_RDWR);
	n = snprintf(q, sizeof(q), "%d all pages", c);
	tap_ok(write(fd, q, n) == n, "exit mid-query: query accepted");
	n = read(fd, buf, sizeof(buf));
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	do
		n = read(fd, buf, sizeof(buf));
	while (n > 0);
	tap_ok(n < 0 && errno == ESRCH, "exit mid-query: ESRCH (got %s)", n < 0 ? strerror(errno) : "EOF");
	close(fd);
}

/* As uid 1000: own process allowed without PFNs; others refused. */
static void t_unprivileged(void)
{
	int pipefd[2], st;
	pid_t other, lab;

	if (!root) {
		tap_ok(1, "# SKIP unprivileged tests need root to set up users");
		return;
	}
	/* a uid-1000 process that is not dumpable */
	other = fork();
	if (!other) {
		if (setgid(1000) || setuid(1000))
			_exit(3);
		prctl(PR_SET_DUMPABLE, 0);
		pause();
		_exit(0);
	}
	if (pipe(pipefd))
		exit(2);
	lab = fork();
	if (!lab) {
		char *p, q[128];
		struct mt_answer a;
		int res = 0, err, fd;
		pid_t peer;

		close(pipefd[0]);
		if (setgroups(0, NULL) || setgid(1000) || setuid(1000))
			_exit(3);
		/* setuid() made us non-dumpable; be an ordinary user process */
		prctl(PR_SET_DUMPABLE, 1);
		p = map(4 * psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
		memset(p, 1, 4 * psz);
		err = mt_query(getpid(), (uintptr_t)p, (uintptr_t)p + 4 * psz, "pages", &a);
		res |= (err != 0) << 0;
		if (!err) {
			for (int i = 0; i < 4; i++)
				res |= (a.pages[i].state != MEMTRACE_PRESENT ||
					a.pages[i].pfn != 0) << 1;
			mt_answer_free(&a);
		}
		snprintf(q, sizeof(q), "%d 0 4096", getppid());
		res |= (mt_write_raw(q, strlen(q)) != -EACCES) << 2;
		snprintf(q, sizeof(q), "%d 0 4096", other);
		res |= (mt_write_raw(q, strlen(q)) != -EACCES) << 3;
		snprintf(q, sizeof(q), "1 all");
		res |= (mt_write_raw(q, strlen(q)) != -EACCES) << 4;
		/* a dumpable uid-1000 process of our own: allowed */
		peer = fork();
		if (!peer) {
			pause();
			_exit(0);
		}
		snprintf(q, sizeof(q), "%d all", peer);
		res |= (mt_write_raw(q, strlen(q)) != 0) << 5;
		/* a fresh file answers no earlier query, this user's or root's */
		{
			char b[64];

			fd = open("/proc/memtrace", O_RDONLY);
			res |= !(read(fd, b, sizeof(b)) < 0 && errno == ENODATA) << 6;
			close(fd);
		}
		kill(peer, SIGKILL);
		waitpid(peer, NULL, 0);
		if (write(pipefd[1], &res, sizeof(res)) != sizeof(res))
			_exit(4);
		_exit(0);
	}
	close(pipefd[1]);
	{
		int res = -1;

		if (read(pipefd[0], &res, sizeof(res)) != sizeof(res))
			res = -1;
		waitpid(lab, &st, 0);
		tap_ok(res >= 0 && !(res & 1), "uid 1000: own process can be queried");
		tap_ok(res >= 0 && !(res & 2), "uid 1000: own pages present, PFNs hidden (0)");
		tap_ok(res >= 0 && !(res & 4), "uid 1000: root's process refused with EACCES");
		tap_ok(res >= 0 && !(res & 8), "uid 1000: non-dumpable uid-1000 process refused with EACCES");
		tap_ok(res >= 0 && !(res & 16), "uid 1000: init refused with EACCES");
		tap_ok(res >= 0 && !(res & 32), "uid 1000: another dumpable uid-1000 process allowed");
		tap_ok(res >= 0 && !(res & 64), "uid 1000: a fresh file answers no earlier query (ENODATA)");
	}
	/* uid 1001 never wrote a query: nothing to answer */
	lab = fork();
	if (!lab) {
		char b[64];
		int fd;

		if (setgroups(0, NULL) || setgid(1001) || setuid(1001))
			_exit(3);
		fd = open("/proc/memtrace", O_RDONLY);
		_exit(read(fd, b, sizeof(b)) < 0 && errno == ENODATA ? 0 : 1);
	}
	waitpid(lab, &st, 0);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "uid 1001: read without any query: ENODATA");
	kill(other, SIGKILL);
	waitpid(other, &st, 0);
	close(pipefd[0]);
}

int main(void)
{
	psz = sysconf(_SC_PAGESIZE);
	root = geteuid() == 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access("/proc/memtrace", F_OK)) {
		tap_ok(0, "/proc/memtrace exists (is the module loaded?)");
		return tap_done();
	}
	t_anon();
	t_populate_shared_holes();
	t_file();
	t_fork_cow();
	t_thp();
	t_whole();
	t_bad_input();
	t_isolation();
	t_exit_midway();
	t_unprivileged();
	return tap_done();
}
