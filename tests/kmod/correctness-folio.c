// SPDX-License-Identifier: GPL-2.0
/*
 * Folio sizes (issue 20, item 2): with "folio" each record says the size of
 * the folio its pages belong to, apart from how they are mapped. Checked,
 * page by page, against /proc/kpageflags: a page of a folio of N pages
 * (N > 1) is KPF_COMPOUND_HEAD at the N-aligned frame and KPF_COMPOUND_TAIL
 * at every other frame of it, the frame after it is no tail; a folio of one
 * page is neither. Regions: anonymous 4K pages; a 2M THP, mapped by its PMD
 * and, after mprotect(2) of one page splits the PMD, by PTEs (still 2M); 64K
 * anonymous folios (mTHP, where the kernel has them); a tmpfs mounted
 * huge=always, its pages cached (no entry) and then mapped; windows that
 * start and end inside a folio.
 */
#include "correctness.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#define KPF_COMPOUND_HEAD	15
#define KPF_COMPOUND_TAIL	16

/* One page of a "pages folio" answer from /proc/memtrace */
struct fpage {
	int state;
	bool huge;		/* mapped by a PMD or PUD (size not 4K) */
	uint64_t pfn;
	uint64_t folio;		/* bytes; 0: the column said '-' or was missing */
};

/* A pages-mode query with "cached folio" (or "folio") of n pages at p. */
static int folio_query(const void *p, unsigned long n, bool cached, struct fpage *out)
{
	char line[160], *text, *l;
	unsigned long i = 0;
	int fd = open("/proc/memtrace", O_RDWR), err = 0;
	size_t cap = 1 << 22, len = 0;
	ssize_t r;

	if (fd < 0)
		return -errno;
	snprintf(line, sizeof(line), "%d 0x%" PRIxPTR " 0x%" PRIxPTR " pages%s folio\n", getpid(),
		 (uintptr_t)p, (uintptr_t)p + n * cor_psz, cached ? " cached" : "");
	if (write(fd, line, strlen(line)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	text = malloc(cap);
	while ((r = read(fd, text + len, cap - 1 - len)) > 0)
		len += r;
	close(fd);
	text[len] = '\0';
	if (!strstr(text, "\tfolio\n")) {
		free(text);
		return -EPROTO;
	}
	for (l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		char state[16], size[8], flags[16], folio[16];
		unsigned long long addr, pages, pfn;
		int node;

		if (l[0] == '#')
			continue;
		if (sscanf(l, "%llx %llu %15s %7s %15s %llx %d %15s", &addr, &pages, state, size,
			   flags, &pfn, &node, folio) != 8 || pages != 1 || i >= n) {
			err = -EPROTO;
			break;
		}
		out[i].state = -1;
		for (int s = 0; s < MEMTRACE_NSTATES_ALL; s++)
			if (!strcmp(state, mt_state_names[s]))
				out[i].state = s;
		out[i].huge = strcmp(size, "4K") != 0 && strcmp(size, "16K") != 0 &&
			      strcmp(size, "64K") != 0;
		out[i].pfn = pfn;
		out[i].folio = strtoull(folio, NULL, 10) << (strchr(folio, 'K') ? 10 :
							    strchr(folio, 'M') ? 20 : 30);
		i++;
	}
	free(text);
	return err ? err : i == n ? 0 : -EPROTO;
}

static uint64_t kpf(int fd, uint64_t pfn)
{
	uint64_t v = 0;

	if (pread(fd, &v, 8, (off_t)pfn * 8) != 8)
		return ~0ULL;
	return v;
}

/*
 * Does kpageflags agree with each present page's folio size? Returns the
 * pages that disagree (diagnosed), or -1 without kpageflags.
 */
static long kpf_check(const struct fpage *pg, unsigned long n)
{
	int fd = open("/proc/kpageflags", O_RDONLY);
	long bad = 0;

	if (fd < 0)
		return -1;
	for (unsigned long i = 0; i < n; i++) {
		uint64_t f, head, np, fh, fp, fn;

		if (pg[i].state != MEMTRACE_PRESENT || !pg[i].pfn)
			continue;
		np = pg[i].folio / cor_psz;
		if (!np) {
			if (bad++ < 3)
				tap_diag("page %lu: present, no folio size", i);
			continue;
		}
		f = kpf(fd, pg[i].pfn);
		if (np == 1) {
			if (f & (1ULL << KPF_COMPOUND_HEAD | 1ULL << KPF_COMPOUND_TAIL))
				if (bad++ < 3)
					tap_diag("page %lu (pfn 0x%" PRIx64 "): folio 1 page, "
						 "kpageflags 0x%" PRIx64 " compound", i, pg[i].pfn, f);
			continue;
		}
		head = pg[i].pfn & ~(np - 1);
		fh = kpf(fd, head);
		fp = f;
		fn = kpf(fd, head + np);
		if (!(fh >> KPF_COMPOUND_HEAD & 1) ||
		    (pg[i].pfn != head && !(fp >> KPF_COMPOUND_TAIL & 1)) ||
		    (fn != ~0ULL && (fn >> KPF_COMPOUND_TAIL & 1))) {
			if (bad++ < 3)
				tap_diag("page %lu (pfn 0x%" PRIx64 "): folio %" PRIu64 " pages, "
					 "kpageflags head 0x%" PRIx64 " page 0x%" PRIx64
					 " after 0x%" PRIx64, i, pg[i].pfn, np, fh, fp, fn);
		}
	}
	close(fd);
	return bad;
}

/* Pages of pg[0, n) whose state or folio size is not (state, folio) */
static unsigned long count_not(const struct fpage *pg, unsigned long n, int state,
			       uint64_t folio, int huge)
{
	unsigned long bad = 0;

	for (unsigned long i = 0; i < n; i++)
		if (pg[i].state != state || pg[i].folio != folio ||
		    (huge >= 0 && pg[i].huge != huge)) {
			if (bad++ < 3)
				tap_diag("page %lu: %s folio %" PRIu64 " huge %d", i,
					 pg[i].state >= 0 ? mt_state_names[pg[i].state] : "?",
					 pg[i].folio, pg[i].huge);
		}
	return bad;
}

static void check_kpf(const char *what, const struct fpage *pg, unsigned long n)
{
	long bad = kpf_check(pg, n);

	if (bad < 0)
		tap_ok(1, "# SKIP %s: no /proc/kpageflags (%s)", what, strerror(errno));
	else
		tap_ok(!bad, "%s: /proc/kpageflags agrees on every present page's folio (%ld differ)",
		       what, bad);
}

static char *map_aligned(size_t len, size_t align, int prot, int flags, int fd)
{
	char *res = mmap(NULL, len + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p = (char *)(((uintptr_t)res + align - 1) & ~(uintptr_t)(align - 1));

	if (res == MAP_FAILED || mmap(p, len, prot, flags | MAP_FIXED, fd, 0) != p)
		exit(2);
	return p;
}

static void t_anon_small(struct fpage *pg)
{
	char *p = cor_map(NP * cor_psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	int err;

	madvise(p, NP * cor_psz, MADV_NOHUGEPAGE);
	for (int i = 0; i < NP; i += 2)
		p[i * cor_psz] = 1;
	err = folio_query(p, NP, false, pg);
	if (tap_ok(!err, "folio: anonymous pages answer (%s)", strerror(-err))) {
		unsigned long bad = 0;

		for (int i = 0; i < NP; i++)
			bad += i % 2 ? pg[i].state != MEMTRACE_NONE || pg[i].folio :
			      pg[i].state != MEMTRACE_PRESENT || pg[i].folio != (uint64_t)cor_psz;
		tap_ok(!bad, "folio: written anonymous pages are folios of one page, "
		       "the others none with no folio ('-')");
		check_kpf("folio: anonymous pages", pg, NP);
	}
	munmap(p, NP * cor_psz);
}

static void t_thp(struct fpage *pg)
{
	size_t pmd = (size_t)cor_psz / 8 * cor_psz;	/* a PMD maps a table of PTEs */
	unsigned long n = pmd / cor_psz;
	char *p = map_aligned(pmd, pmd, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	int err;

	madvise(p, pmd, MADV_HUGEPAGE);
	memset(p, 1, pmd);
	err = folio_query(p, n, false, pg);
	if (err || !pg[0].huge) {
		tap_ok(1, "# SKIP folio: no THP here (%s)", err ? strerror(-err) : "not PMD-mapped");
		munmap(p, pmd);
		return;
	}
	tap_ok(!count_not(pg, n, MEMTRACE_PRESENT, pmd, 1),
	       "folio: a THP mapped by its PMD: every page's folio is the PMD size");
	check_kpf("folio: THP mapped by its PMD", pg, n);
	/* one page read-only: the PMD is split into PTEs, the folio is not */
	if (mprotect(p + 3 * cor_psz, cor_psz, PROT_READ))
		exit(2);
	err = folio_query(p, n, false, pg);
	tap_ok(!err && !count_not(pg, n, MEMTRACE_PRESENT, pmd, 0),
	       "folio: after mprotect(2) of one page, mapped by PTEs (size 4K), "
	       "the folio still the PMD size");
	if (!err)
		check_kpf("folio: THP mapped by PTEs", pg, n);
	/* a window inside the folio answers the same */
	err = folio_query(p + 5 * cor_psz, 7, false, pg);
	tap_ok(!err && !count_not(pg, 7, MEMTRACE_PRESENT, pmd, 0),
	       "folio: a window inside the folio says the whole folio's size");
	munmap(p, pmd);
}

/* 64K anonymous folios: /sys/kernel/mm/transparent_hugepage/hugepages-64kB (6.8+) */
static void t_mthp(struct fpage *pg)
{
	const char *ctl = "/sys/kernel/mm/transparent_hugepage/hugepages-64kB/enabled";
	unsigned long n = (1 << 20) / cor_psz;	/* 1 MiB: less than a PMD, no 2M THP */
	char was[64] = "", *p, *sel;
	int fd, err;
	ssize_t len;

	if (cor_psz != 4096 || !cor_root || (fd = open(ctl, O_RDWR)) < 0) {
		tap_ok(1, "# SKIP folio: no 64K anonymous folios here (%s)",
		       cor_psz != 4096 ? "not 4K pages" : !cor_root ? "not root" :
		       "no hugepages-64kB: mTHP came in 6.8");
		return;
	}
	len = read(fd, was, sizeof(was) - 1);
	was[len > 0 ? len : 0] = '\0';
	sel = strchr(was, '[');
	if (pwrite(fd, "always", 6, 0) != 6) {
		tap_ok(0, "folio: write 'always' to %s: %s", ctl, strerror(errno));
		close(fd);
		return;
	}
	p = map_aligned(n * cor_psz, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	memset(p, 1, n * cor_psz);
	err = folio_query(p, n, false, pg);
	tap_ok(!err && !count_not(pg, n, MEMTRACE_PRESENT, 1 << 16, 0),
	       "folio: with 64K mTHP on, 1 MiB of anonymous memory written is 64K folios "
	       "mapped by 4K PTEs");
	if (!err)
		check_kpf("folio: 64K anonymous folios", pg, n);
	munmap(p, n * cor_psz);
	/* put the setting back: the word in brackets */
	if (sel) {
		size_t wl = strcspn(sel + 1, "]");

		if (pwrite(fd, sel + 1, wl, 0) != (ssize_t)wl)
			tap_diag("could not restore %s", ctl);
	}
	close(fd);
}

/* ShmemHugePages of /proc/meminfo, in kB (-1: none) */
static long shmem_huge_kb(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "ShmemHugePages: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* multi-index page-cache entries (a huge page is one entry) came in 5.17 */
static bool multi_index_cache(void)
{
	struct utsname u;
	int a = 0, b = 0;

	return !uname(&u) && sscanf(u.release, "%d.%d", &a, &b) == 2 && (a > 5 || (a == 5 && b >= 17));
}

static void t_tmpfs_huge(struct fpage *pg)
{
	char dir[] = "/tmp/memtrace-huge-XXXXXX", path[64];
	size_t pmd = (size_t)cor_psz / 8 * cor_psz;
	unsigned long n = 2 * pmd / cor_psz;
	long huge0 = shmem_huge_kb(), huge1;
	uint64_t want;
	char *p, *buf;
	int fd, err;

	if (!cor_root || !mkdtemp(dir)) {
		tap_ok(1, "# SKIP folio: tmpfs huge=always needs root");
		return;
	}
	if (mount("memtrace-huge", dir, "tmpfs", 0, "huge=always,size=64M")) {
		tap_ok(1, "# SKIP folio: mount tmpfs huge=always: %s", strerror(errno));
		rmdir(dir);
		return;
	}
	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	buf = malloc(pmd);
	memset(buf, 'h', pmd);
	if (fd < 0 || pwrite(fd, buf, pmd, 0) != (ssize_t)pmd ||
	    pwrite(fd, buf, pmd, pmd) != (ssize_t)pmd)
		exit(2);
	free(buf);
	huge1 = shmem_huge_kb();
	if (huge0 < 0 || huge1 - huge0 < (long)(2 * pmd / 1024)) {
		/* e.g. a kernel without CONFIG_TRANSPARENT_HUGEPAGE, or no memory for one */
		tap_ok(1, "# SKIP folio: tmpfs huge=always got no huge pages here "
		       "(ShmemHugePages %ld kB -> %ld kB)", huge0, huge1);
		p = NULL;
		goto out;
	}
	p = map_aligned(2 * pmd, pmd, PROT_READ, MAP_SHARED, fd);
	/* the page cache's huge pages, no entry yet: cached */
	err = folio_query(p, n, true, pg);
	if (err || pg[0].state != MEMTRACE_CACHED) {
		tap_ok(0, "folio: tmpfs huge=always, cached: %s",
		       err ? strerror(-err) : "first page not cached");
		goto out;
	}
	want = multi_index_cache() ? pmd : (uint64_t)cor_psz;
	tap_ok(!count_not(pg, n, MEMTRACE_CACHED, want, 0),
	       "folio: tmpfs huge=always, not mapped: every page cached, folio %s",
	       multi_index_cache() ? "the PMD size (one page-cache entry)" :
	       "4K (before 5.17 a huge page is an entry a page)");
	err = folio_query(p + 300 * cor_psz, 400, true, pg);
	tap_ok(!err && !count_not(pg, 400, MEMTRACE_CACHED, want, 0),
	       "folio: a window starting and ending inside a huge page says the same");
	/* read one page: the fault maps the huge page (or a PTE of it) */
	(void)*(volatile char *)p;
	err = folio_query(p, pmd / cor_psz, true, pg);
	tap_ok(!err && pg[0].state == MEMTRACE_PRESENT && pg[0].folio == pmd,
	       "folio: tmpfs huge=always, read: present, folio the PMD size (%s)",
	       !err && pg[0].huge ? "PMD-mapped" : "PTE-mapped");
	if (!err)
		check_kpf("folio: tmpfs huge page", pg, pmd / cor_psz);
out:
	if (p)
		munmap(p, 2 * pmd);
	close(fd);
	umount(dir);
	rmdir(dir);
}

void cor_t_folio(void)
{
	size_t pmd = (size_t)cor_psz / 8 * cor_psz;
	struct fpage *pg = calloc(2 * pmd / cor_psz + NP, sizeof(*pg));
	char line[96];
	int err;

	t_anon_small(pg);
	t_thp(pg);
	t_mthp(pg);
	t_tmpfs_huge(pg);
	/* the /proc syntax: "folio" after "cached", once, last */
	snprintf(line, sizeof(line), "%d all folio cached\n", getpid());
	err = mt_write_raw(line, strlen(line));
	tap_ok(err == -EINVAL, "/proc: \"folio cached\" (the wrong order) is EINVAL (%s)",
	       strerror(-err));
	free(pg);
}
