// SPDX-License-Identifier: GPL-2.0
/*
 * safety-window: the target, a process that builds the regions (small pages,
 * THPs mapped by PMD or PTEs, fork-shared, KSM, hugetlb, file...) and stops.
 */
#include "window.h"

struct table *win_tab;

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
	struct region *r = &win_tab->reg[win_tab->nreg < MAXREG ? win_tab->nreg++ : MAXREG - 1];

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

long win_smaps_kb(int pid, uint64_t addr, const char *field)
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
	/* 2048 kB, 32768 kB with 16K pages */
	if (fill >= 0 && win_smaps_kb(getpid(), (uintptr_t)p, "AnonHugePages") != (long)(HUGE >> 10)) {
		*why = "no THP could be allocated (AnonHugePages not a PMD's size)";
		return NULL;
	}
	return p;
}

static void target_fail(const char *what)
{
	snprintf(win_tab->err, sizeof(win_tab->err), "%s: %s", what, strerror(errno));
	win_tab->ready = -1;
	_exit(2);
}

void win_target(void)
{
	char path[64], buf[65536];	/* a page: PS at most 64K */
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
	win_tab->child = child;
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
	memset(buf, 'x', PS);
	for (unsigned long i = 0; i < NP; i++)
		if (write(fd, buf, PS) != (ssize_t)PS)
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
			win_tab->ksm_pages = 16;
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
	if (mapping_of((void *)win_target, &s, &e, NULL))
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
	win_tab->ready = 1;
	raise(SIGSTOP);
	for (;;)
		pause();
}
