// SPDX-License-Identifier: GPL-2.0
/*
 * safety-window: the answer for a page never depends on the query's window,
 * mode or transport (lab VM, root, module loaded).
 *
 * A target process (forked from here) builds every pattern the suites build,
 * one region each: untouched, read (zero page), written, mixed, read-only,
 * holes, PROT_NONE, MADV_DONTNEED, private and shared file mappings, shared
 * anonymous memory, fork + COW (4K and a THP: the child writes one subpage in
 * the middle, splitting its own mapping while the parent's stays PMD-mapped),
 * a PMD-mapped THP (writable, and read-only), a PTE-mapped THP (mprotect of a
 * few pages in its middle), the huge zero page, KSM pages, hugetlb, the
 * program's text, libc's text and [vvar]/[vdso]. Then it forks the COW child,
 * and both stop themselves (state T), so that nothing changes under the test.
 *
 * For each region the whole range, /proc pages mode, is the reference (one
 * entry per page). Then many sub-windows [a, b) (seeded PRNG, windows that
 * start exactly in the middle of a THP and at the COW'd subpage among them)
 * are asked through /proc (runs and pages, read in chunks of various sizes)
 * and netlink (nested, PACKED, PACKED+INDEXED; runs and pages; pfns shown):
 * expanded to pages, every page must equal the reference's: state, flags
 * (young and dirty included), node, and the pfn (in runs mode only a record's
 * first page carries one). One TAP line per (region, transport/encoding,
 * mode), with the first mismatch in a diagnostic.
 *
 * Then the reference of every region against /proc/PID/pagemap, page by page:
 * presence, pfn, anon vs PM_FILE, and EXCL vs PM_MMAP_EXCLUSIVE (bit 56), as
 * the contract defines EXCL: what the running kernel's pagemap says (on 5.10
 * and 6.1 a PMD-mapped THP's head page answers for all its pages, so the
 * parent's COW'd subpage is not exclusive there; on 6.12 each page answers for
 * itself). The first disagreement is shown with /proc/kpagecount and
 * /proc/kpageflags of its frame.
 *
 * Knobs (kernel command line or environment): mt_seed (MT_SEED) replays a
 * run, mt_quick (MT_QUICK) asks fewer windows, mt_windows (MT_WINDOWS) sets
 * the number of random windows per region.
 * A part that cannot run here prints "ok N - ... # SKIP reason".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mtlib.h"
#include "rlib.h"
#include "tap.h"

#define PS 4096UL
#define HUGE (2UL << 20)
#define HP (HUGE / PS)		/* pages in a THP */
#define NP 16			/* pages of a small region */
#define MAXREG 40
#define MAXHOT 6
#define COW_SUB 300		/* the subpage of the fork-shared THP the child writes */
#define PTE_SUB 254		/* first of the 4 pages of thp-pte made read-only */

#define KPF_KSM 21
#define KPF_THP 22
#define PM_EXCL (1ULL << 56)
#define PM_FILE (1ULL << 61)

#define THP_ENABLED "/sys/kernel/mm/transparent_hugepage/enabled"
#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"
#define KSM_DIR "/sys/kernel/mm/ksm"

/* what the setup checks of a region before testing it */
enum {
	R_PMD = 1,		/* must be PMD-mapped: smaps AnonHugePages 2048 kB */
	R_PTE_THP = 2,		/* a THP mapped by PTEs: kpageflags THP, smaps 0 kB */
	R_KSM = 4,		/* some pages must be KSM pages (kpageflags) */
};

struct region {
	char name[24];
	int pid;
	uint64_t start, end;
	unsigned int checks;
	int hot[MAXHOT];	/* page indexes where windows must start */
	int nhot;
	int sample;		/* a page of the region the checks look at */
	char skip[96];		/* set: the region could not be built */
};

/* Shared with the target (MAP_SHARED before the fork). */
struct table {
	volatile int ready;	/* 1: built and about to stop; -1: failed */
	int child;
	int nreg;
	int ksm_pages;		/* identical pages in the KSM region */
	char err[160];
	struct region reg[MAXREG];
};

static struct table *tab;

/* ---------------------------------------------------------------- target */

static char *tmap(size_t len, int prot, int flags)
{
	char *p = mmap(NULL, len, prot, flags | (flags & MAP_SHARED ? 0 : MAP_PRIVATE), -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

static struct region *add(const char *name, int pid, const void *p, size_t len)
{
	struct region *r = &tab->reg[tab->nreg < MAXREG ? tab->nreg++ : MAXREG - 1];

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->pid = pid;
	r->start = (uintptr_t)p;
	r->end = (uintptr_t)p + len;
	return r;
}

static void hot(struct region *r, int page)
{
	if (r->nhot < MAXHOT)
		r->hot[r->nhot++] = page;
}

static struct region *skipped(const char *name, const char *fmt, const char *why)
{
	struct region *r = add(name, getpid(), NULL, 0);

	snprintf(r->skip, sizeof(r->skip), fmt, why);
	return r;
}

static long smaps_kb(int pid, uint64_t addr, const char *field)
{
	char path[64], line[256];
	unsigned long s, e;
	long v = -1;
	bool in = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2)
			in = s <= addr && addr < e;
		else if (in && !strncmp(line, field, strlen(field)) && line[strlen(field)] == ':')
			v = atol(line + strlen(field) + 1);
	}
	if (f)
		fclose(f);
	return v;
}

/* The mapping of /proc/self/maps that holds addr: [*s, *e). */
static bool mapping_of(const void *addr, uint64_t *s, uint64_t *e, const char *name)
{
	char line[512];
	unsigned long a, b;
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &a, &b) != 2)
			continue;
		if (name ? strstr(line, name) != NULL : (a <= (uintptr_t)addr && (uintptr_t)addr < b)) {
			*s = a;
			*e = b;
			found = true;
			break;
		}
	}
	if (f)
		fclose(f);
	return found;
}

/* 2 MiB aligned, MADV_HUGEPAGE, written: a THP, or NULL (and why). */
static char *thp(int fill, const char **why)
{
	char *raw = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	*why = NULL;
	if (raw == MAP_FAILED) {
		*why = "mmap failed";
		return NULL;
	}
	p = (char *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
	madvise(p, HUGE, MADV_HUGEPAGE);
	if (fill >= 0)
		memset(p, fill, HUGE);
	else
		*(volatile char *)p;
	if (fill >= 0 && smaps_kb(getpid(), (uintptr_t)p, "AnonHugePages") != 2048) {
		*why = "no THP could be allocated (AnonHugePages not 2048 kB)";
		return NULL;
	}
	return p;
}

static void target_fail(const char *what)
{
	snprintf(tab->err, sizeof(tab->err), "%s: %s", what, strerror(errno));
	tab->ready = -1;
	_exit(2);
}

static void target(void)
{
	char path[64], buf[PS];
	const char *why;
	volatile char sink;
	struct region *r;
	char *p, *cow, *fthp;
	uint64_t s, e;
	pid_t me = getpid(), child;
	int fd, st;

	/* first what the child shares: a 4K COW region and a fork-shared THP */
	cow = tmap(8 * PS, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	if (!cow)
		target_fail("mmap");
	memset(cow, 1, 8 * PS);
	fthp = thp(2, &why);
	child = fork();
	if (child < 0)
		target_fail("fork");
	if (!child) {
		cow[2 * PS] = 3;
		if (fthp) {
			fthp[COW_SUB * PS] = 4;		/* COW: splits the child's PMD */
			madvise(fthp, HUGE, MADV_NOHUGEPAGE);	/* no khugepaged */
		}
		raise(SIGSTOP);
		for (;;)
			pause();
	}
	if (waitpid(child, &st, WUNTRACED) != child || !WIFSTOPPED(st))
		target_fail("the COW child did not stop");
	tab->child = child;
	r = add("cow-parent", me, cow, 8 * PS);
	hot(r, 2);
	r = add("cow-child", child, cow, 8 * PS);
	hot(r, 2);
	if (fthp) {
		madvise(fthp, HUGE, MADV_NOHUGEPAGE);
		r = add("fork-thp-parent", me, fthp, HUGE);
		r->checks = R_PMD;
		r->sample = COW_SUB;
		hot(r, HP / 2);
		hot(r, COW_SUB);
		hot(r, COW_SUB - 1);
		hot(r, COW_SUB + 1);
		r = add("fork-thp-child", child, fthp, HUGE);
		r->checks = R_PTE_THP;
		r->sample = HP / 2;
		hot(r, HP / 2);
		hot(r, COW_SUB);
		hot(r, COW_SUB + 1);
	} else {
		skipped("fork-thp-parent", "%s", why);
		skipped("fork-thp-child", "%s", why);
	}

	/* the patterns of tests/kmod/correctness.c and tests/netlink/patterns.c */
	p = tmap(NP * PS, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	add("untouched", me, p, NP * PS);

	p = tmap(NP * PS, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	for (unsigned long i = 0; i < NP; i++)
		sink = p[i * PS];
	add("read", me, p, NP * PS);

	p = tmap(NP * PS, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	memset(p, 1, NP * PS);
	add("written", me, p, NP * PS);

	p = tmap(NP * PS, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	for (unsigned long i = 0; i < NP; i++)
		sink = p[i * PS];
	for (unsigned long i = 0; i < NP; i += 2)
		p[i * PS] = 1;
	add("mixed", me, p, NP * PS);

	p = tmap(NP * PS, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	memset(p, 1, NP * PS);
	mprotect(p + 4 * PS, 8 * PS, PROT_READ);
	r = add("read-only", me, p, NP * PS);
	hot(r, 4);

	p = tmap(NP * PS, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	memset(p, 1, NP * PS);
	mprotect(p, NP * PS, PROT_NONE);
	add("prot-none", me, p, NP * PS);

	p = tmap(NP * PS, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	memset(p, 1, NP * PS);
	madvise(p, NP * PS / 2, MADV_DONTNEED);
	add("dontneed-half", me, p, NP * PS);

	p = tmap(NP * PS, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_POPULATE);
	munmap(p + 4 * PS, 4 * PS);
	munmap(p + 12 * PS, PS);
	r = add("munmap-holes", me, p, NP * PS);
	hot(r, 4);
	hot(r, 5);
	hot(r, 12);

	/* a file: private (read, some written: COW) and shared (some read) */
	snprintf(path, sizeof(path), "./memtrace-window-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0) {
		snprintf(path, sizeof(path), "/tmp/memtrace-window-XXXXXX");
		fd = mkstemp(path);
	}
	if (fd < 0)
		target_fail("mkstemp");
	memset(buf, 'x', sizeof(buf));
	for (unsigned long i = 0; i < NP; i++)
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			target_fail("write");
	p = mmap(NULL, NP * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		target_fail("mmap file");
	for (unsigned long i = 0; i < NP / 2; i++)
		sink = p[i * PS];
	for (unsigned long i = NP / 2; i < NP; i += 2)
		p[i * PS] = 'y';
	add("file-private", me, p, NP * PS);
	p = mmap(NULL, NP * PS, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		target_fail("mmap file");
	for (unsigned long i = 0; i < NP; i += 3)
		sink = p[i * PS];
	add("file-shared", me, p, NP * PS);
	close(fd);
	unlink(path);

	p = tmap(NP * PS, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_SHARED);
	memset(p, 1, NP * PS / 2);
	add("shared-anon", me, p, NP * PS);

	/* THPs: PMD-mapped writable, PMD-mapped read-only, PTE-mapped, huge zero */
	p = thp(5, &why);
	if (p) {
		madvise(p, HUGE, MADV_NOHUGEPAGE);
		r = add("thp", me, p, HUGE);
		r->checks = R_PMD;
		hot(r, HP / 2);
	} else {
		skipped("thp", "%s", why);
	}
	p = thp(6, &why);
	if (p) {
		mprotect(p, HUGE, PROT_READ);
		madvise(p, HUGE, MADV_NOHUGEPAGE);
		r = add("thp-read-only", me, p, HUGE);
		r->checks = R_PMD;
		hot(r, HP / 2);
		hot(r, 1);
	} else {
		skipped("thp-read-only", "%s", why);
	}
	p = thp(7, &why);
	if (p) {
		mprotect(p + PTE_SUB * PS, 4 * PS, PROT_READ);	/* splits the PMD */
		madvise(p, HUGE, MADV_NOHUGEPAGE);
		r = add("thp-pte", me, p, HUGE);
		r->checks = R_PTE_THP;
		r->sample = PTE_SUB;
		hot(r, PTE_SUB);
		hot(r, HP / 2);
		hot(r, PTE_SUB + 4);
	} else {
		skipped("thp-pte", "%s", why);
	}
	p = thp(-1, &why);
	if (p) {
		madvise(p, HUGE, MADV_NOHUGEPAGE);
		r = add("thp-zero", me, p, HUGE);
		hot(r, HP / 2);
	}

	/* KSM: 16 identical pages, 8 unique, 8 untouched; ksmd is run by the test */
	if (access(KSM_DIR "/run", W_OK)) {
		skipped("ksm", "%s", "no KSM (" KSM_DIR ")");
	} else {
		p = tmap(32 * PS, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
		for (unsigned long i = 0; i < 16; i++)
			memset(p + i * PS, 0x5a, PS);
		for (unsigned long i = 16; i < 24; i++)
			for (unsigned long j = 0; j < PS; j += 8)
				*(uint64_t *)(p + i * PS + j) = i * 0x9e3779b97f4a7c15ULL + j;
		if (madvise(p, 32 * PS, MADV_MERGEABLE)) {
			skipped("ksm", "MADV_MERGEABLE: %s", strerror(errno));
		} else {
			r = add("ksm", me, p, 32 * PS);
			r->checks = R_KSM;
			hot(r, 15);
			hot(r, 16);
			tab->ksm_pages = 16;
		}
	}

	/* hugetlb: two 2M pages, the first written */
	p = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED) {
		skipped("hugetlb", "MAP_HUGETLB: %s (no huge pages reserved)", strerror(errno));
	} else {
		memset(p, 8, HUGE);
		r = add("hugetlb", me, p, 2 * HUGE);
		hot(r, HP / 2);
		hot(r, HP);
		hot(r, HP + HP / 2);
	}

	/* file text, shared with the test (same program) and with libc's users */
	if (mapping_of((void *)target, &s, &e, NULL))
		add("text", me, (void *)(uintptr_t)s, e - s);
	if (mapping_of((void *)fopen, &s, &e, NULL))
		add("libc-text", me, (void *)(uintptr_t)s, e - s);
	if (mapping_of(NULL, &s, &e, "[vvar]")) {
		uint64_t s2, e2;

		if (mapping_of(NULL, &s2, &e2, "[vdso]") && s2 == e)
			e = e2;
		add("vvar-vdso", me, (void *)(uintptr_t)s, e - s);
	}
	(void)sink;
	tab->ready = 1;
	raise(SIGSTOP);
	for (;;)
		pause();
}

/* ------------------------------------------------------------ sysfs knobs */

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		err = -errno;
	close(fd);
	return err;
}

static long read_long(const char *path)
{
	char buf[64];

	return read_str(path, buf, sizeof(buf)) ? -1 : atol(buf);
}

static int proc_state(int pid)
{
	char path[64], buf[512], *rp;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_str(path, buf, sizeof(buf)))
		return 0;
	rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' ? rp[2] : 0;
}

static uint64_t kpage(const char *file, uint64_t pfn)
{
	uint64_t v = ~0ULL;
	int fd = open(file, O_RDONLY);

	if (fd >= 0) {
		if (pread(fd, &v, 8, pfn * 8) != 8)
			v = ~0ULL;
		close(fd);
	}
	return v;
}

/* ------------------------------------------------------------- queries */

struct pg {
	uint8_t state;
	bool pfn_known;
	uint32_t flags;
	int32_t node;
	uint64_t pfn;
};

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
		kb = smaps_kb(r->pid, r->start, "AnonHugePages");
		if (kb != 2048)
			snprintf(why, len, "not PMD-mapped (AnonHugePages %ld kB)", kb);
		else if (!(ref[r->sample].flags & MEMTRACE_F_SIZE_2M))
			tap_diag("%s: PMD-mapped per smaps, but the reference has no 2M flag", r->name);
	}
	if (r->checks & R_PTE_THP) {
		uint64_t kf = ref[r->sample].state == MEMTRACE_PRESENT ?
			      kpage("/proc/kpageflags", ref[r->sample].pfn) : 0;

		kb = smaps_kb(r->pid, r->start, "AnonHugePages");
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
				 (kpage("/proc/kpageflags", ref[i].pfn) & (1ULL << KPF_KSM));

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
				 present ? (int64_t)kpage("/proc/kpagecount", pfn) : -1,
				 present ? kpage("/proc/kpageflags", pfn) : 0);
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

static void test_region(struct rl_rng *rng, struct nlr *nl, bool have_nl, const struct region *r,
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

/* ------------------------------------------------------------------ main */

static char thp_saved[128], ksm_run_saved[16];
static long huge_saved = -1;

static void restore(void)
{
	if (thp_saved[0])
		write_str(THP_ENABLED, thp_saved);
	if (huge_saved >= 0) {
		char b[32];

		snprintf(b, sizeof(b), "%ld", huge_saved);
		write_str(NR_HUGEPAGES, b);
	}
	if (ksm_run_saved[0])
		write_str(KSM_DIR "/run", ksm_run_saved);
}

/* THP on (madvise at least): remember how it was. */
static void setup_thp(void)
{
	char buf[128];

	if (read_str(THP_ENABLED, buf, sizeof(buf))) {
		tap_diag("no %s: THP regions will be skipped", THP_ENABLED);
		return;
	}
	if (strstr(buf, "[never]")) {
		if (write_str(THP_ENABLED, "madvise"))
			tap_diag("THP is off and could not be turned on");
		else
			snprintf(thp_saved, sizeof(thp_saved), "never");
	}
}

static void setup_hugetlb(void)
{
	long have = read_long(NR_HUGEPAGES), free_ = read_long("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
	char b[32];

	if (have < 0 || free_ >= 2)
		return;
	huge_saved = have;
	snprintf(b, sizeof(b), "%ld", have + 2 - free_);
	if (write_str(NR_HUGEPAGES, b))
		tap_diag("could not reserve hugetlb pages");
}

/* Let ksmd merge the KSM region of the stopped target; keep what it merged. */
static void run_ksm(int pages)
{
	long sharing = 0, last = -1;
	int timeout = rl_quick() ? 15 : 30, stable = 0;
	struct timespec t0, t;
	char buf[16];

	if (!pages || read_str(KSM_DIR "/run", buf, sizeof(buf)))
		return;
	snprintf(ksm_run_saved, sizeof(ksm_run_saved), "%.1s", buf);
	write_str(KSM_DIR "/sleep_millisecs", "10");
	write_str(KSM_DIR "/run", "1");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		usleep(100000);
		sharing = read_long(KSM_DIR "/pages_sharing");
		stable = sharing > 0 && sharing == last ? stable + 1 : 0;
		last = sharing;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (sharing < pages - 1 && stable < 10 && t.tv_sec - t0.tv_sec < timeout);
	/* stop ksmd, keep merged pages (0), so that nothing changes any more */
	write_str(KSM_DIR "/run", "0");
	tap_diag("ksm: pages_sharing %ld after %ld s (%d identical pages)", sharing,
		 (long)(t.tv_sec - t0.tv_sec), pages);
}

int main(void)
{
	long long seed = rl_knob("mt_seed", 0);
	int nrandom = (int)rl_knob("mt_windows", rl_quick() ? 6 : 16);
	struct timespec t0, t1;
	struct rl_rng rng;
	struct nlr nl;
	bool have_nl;
	pid_t target_pid;
	int st, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!seed) {
		struct timeval tv;

		gettimeofday(&tv, NULL);
		seed = (tv.tv_sec * 1000003LL) ^ tv.tv_usec ^ getpid();
	}
	rng.s = (uint64_t)seed;
	tap_diag("seed %lld (replay: MT_SEED=%lld or mt_seed=%lld), %d random windows a region",
		 seed, seed, seed, nrandom);
	if (geteuid() != 0 || access("/proc/memtrace", W_OK)) {
		printf("Bail out! needs root and the module loaded (/proc/memtrace)\n");
		return 1;
	}
	tab = mmap(NULL, sizeof(*tab), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tab == MAP_FAILED) {
		printf("Bail out! mmap: %s\n", strerror(errno));
		return 1;
	}
	memset(tab, 0, sizeof(*tab));
	setup_thp();
	setup_hugetlb();

	fflush(stdout);
	target_pid = fork();
	if (target_pid < 0) {
		printf("Bail out! fork: %s\n", strerror(errno));
		restore();
		return 1;
	}
	if (!target_pid) {
		target();
		_exit(0);
	}
	ret = waitpid(target_pid, &st, WUNTRACED);
	if (ret != target_pid || !WIFSTOPPED(st) || tab->ready != 1) {
		tap_ok(0, "target built its regions and stopped (%s)",
		       tab->err[0] ? tab->err : "it exited");
		kill(target_pid, SIGKILL);
		if (tab->child > 0)
			kill(tab->child, SIGKILL);
		restore();
		return tap_done();
	}
	for (int i = 0; i < 50 && proc_state(tab->child) != 'T'; i++)
		usleep(100000);
	tap_ok(proc_state(target_pid) == 'T' && proc_state(tab->child) == 'T',
	       "target %d and its COW child %d stopped (%c, %c), %d regions", target_pid,
	       tab->child, proc_state(target_pid), proc_state(tab->child), tab->nreg);
	run_ksm(tab->ksm_pages);

	ret = nlr_open(&nl);
	have_nl = !ret;
	if (!tap_ok(have_nl, "netlink family %s resolved (%s)", MEMTRACE_GENL_NAME,
		    have_nl ? "ok" : strerror(-ret)))
		nl.fd = -1;

	for (int i = 0; i < tab->nreg; i++)
		test_region(&rng, &nl, have_nl, &tab->reg[i], nrandom);

	if (have_nl)
		nlr_close(&nl);
	kill(tab->child, SIGKILL);
	kill(target_pid, SIGKILL);
	waitpid(target_pid, &st, 0);
	restore();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	tap_diag("%.1f s", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return tap_done();
}
