// SPDX-License-Identifier: GPL-2.0
/*
 * tor-torture: every kernel path that rewrites page tables, while 8
 * queriers walk (issue 15, section 2). Lab VM, root, module loaded; the
 * suite (suite-torture.sh) sets up zram swap, and the lane boots the VM with
 * two NUMA nodes (scripts/vm --numa 2).
 *
 * One target process per mechanism, each in a loop until the end:
 *   khugepaged  4K pages in a MADV_HUGEPAGE area, collapsed by khugepaged
 *               (THP "madvise", scan_sleep_millisecs=0, pages_to_scan=4096,
 *               khugepaged reniced from 19 to 0 for the run): each round
 *               waits until smaps shows the area all PMD-mapped (counted),
 *               then drops one 2M again; and 4K pages of an area with no
 *               advice (khugepaged never scans it) collapsed by
 *               MADV_COLLAPSE (6.1+), counted apart
 *   split       THPs split by a partial mprotect, munmap and MADV_DONTNEED
 *   compact     a fragmented area, and /proc/sys/vm/compact_memory written
 *   numa        mlocked pages moved between two nodes by move_pages(),
 *               mbind(MPOL_MF_MOVE) and migrate_pages()
 *   mremap      an mlocked 2 MiB area moved back and forth (page tables moved)
 *   ksm         identical pages merged by ksmd, unmerged by writes and
 *               MADV_UNMERGEABLE
 *   uffd        anonymous pages with userfaultfd missing-page and
 *               write-protect faults; shmem pages write-protected then
 *               zapped (uffd-wp PTE markers, 6.1+)
 *   free        MADV_FREE, then reclaimed (MADV_PAGEOUT) or written again
 *   swap        pages swapped out (MADV_PAGEOUT to zram) and in, and swapoff
 *               / swapon of the zram device
 *   hugetlb     two processes sharing the PMD table of a 1 GiB-aligned
 *               MAP_SHARED hugetlb file (owner and sharer, both queried);
 *               the owner splits its VMA at 2M boundaries inside the
 *               shared range (mprotect or munmap of 2M: hugetlb_split()
 *               unshares), truncates (unshares) and unmaps (frees) it
 *   fork        a THP written, forked, and its subpages COWed by parent and
 *               child (the child is queried too)
 *   exec        children (uid 1000) that exec a setuid-root copy of this
 *               program, queried mid-exec
 * Queriers (8: /proc and netlink, runs and pages mode; netlink answers
 * packed, indexed or nested at random) query the targets' areas, parts of
 * them and (runs mode) whole address spaces. Every complete answer goes
 * through the checker (rlib.c: form, contiguity, states, flags, nodes,
 * summary); where the mechanism allows, its content too:
 *   numa     while no move is under way (a sequence count around each),
 *            every page is present, anonymous, 4K, and on the node that
 *            move_pages(2)'s query mode gives for it, asked right after the
 *            answer;
 *   mremap   every page of the two slots is present (anonymous, 4K) or
 *            unmapped: the move happens under the mmap lock, the pages are
 *            mlocked and compaction may not move them;
 *   hugetlb  a present page is hugetlb and 2M; never zero, swap or other.
 * An error other than ESRCH fails; an ESRCH fails unless its target is gone,
 * a zombie or exiting (only the fork and exec children ever exit before the
 * end), or an exec child that has exec'd (the address space the query took
 * is gone). Each mechanism must show that it ran (its own counters or the
 * kernel's: /proc/vmstat, khugepaged, ksm), or the run proves nothing; what
 * the kernel lacks (MADV_COLLAPSE before 6.1, uffd-wp on shmem before 6.0)
 * is a SKIP; what the lab should provide (two nodes, swap, hugetlb, KSM,
 * THP) fails in the lane (tap_skip()).
 *
 * Duration: mt_torture=SECONDS (default 60; mt_quick=1: 15). Seed:
 * mt_seed. Every knob the program changes is restored at the end.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/mempolicy.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mtlib.h"
#include "rlib.h"
#include "slib.h"
#include "tap.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define PG 4096UL
#define HUGE (2UL << 20)
#define GIB (1UL << 30)
#define NQ 8
#define HANG_S 60
#define STOP_S 120
/* every target's area: 1 GiB-aligned, 64 GiB apart */
#define AREA(k) ((uint64_t)(0x100 + 0x40 * (k)) << 30)

enum kind {
	K_KHUGEPAGED, K_SPLIT, K_COMPACT, K_NUMA, K_MREMAP, K_KSM, K_UFFD, K_FREE,
	K_SWAP, K_HT_OWNER, K_HT_SHARER, K_FORK, K_FORK_CHILD, K_EXEC, NK
};
static const char *const kname[NK] = {
	"khugepaged", "split", "compact", "numa", "mremap", "ksm", "uffd", "free",
	"swap", "hugetlb owner", "hugetlb sharer", "fork", "fork child", "exec child"
};

#define NUMA_PAGES 16
#define MR_LEN HUGE		/* mremap: two slots 4 MiB apart */
#define MR_SPAN (3 * HUGE)
#define HT_QUERY (8UL << 20)	/* pages mode looks at the first 8 MiB only */
#define MARK_PAGES 16

struct slot {
	_Atomic int pid;
	_Atomic int exiting;
	_Atomic uint64_t start, end;	/* the area to query */
	_Atomic unsigned long gen;	/* numa: odd while pages move */
};

struct qstat {
	_Atomic unsigned long queries, esrch, errors, alive;
};

struct shared {
	_Atomic int stop, stop_actors, msgs;
	struct slot slot[NK];
	struct qstat q[NQ];
	_Atomic unsigned long kq[NK], kesrch[NK];	/* per target kind */
	/* content: pages judged and wrong, answers judged, per kind */
	_Atomic unsigned long c_pages[NK], c_bad[NK], c_answers[NK], c_unjudged[NK];
	/* what the targets did */
	_Atomic unsigned long ops[NK];
	_Atomic unsigned long collapse_ok, collapse_err, collapse_na, kh_seen, kh_timeouts;
	_Atomic unsigned long numa_moved, mr_moves, ksm_max, uffd_missing, uffd_wp,
		uffd_markers, uffd_na, swapoffs, swapoff_err, ht_cycles, ht_splits, forks, execs,
		compact_writes, target_errs;
	/*
	 * the targets' own evidence (smaps, pagemap), which the checks use
	 * where the kernel has no vmstat event counters (the debug kernel's
	 * tinyconfig: no CONFIG_VM_EVENT_COUNTERS)
	 */
	_Atomic unsigned long e_split, e_compact, e_lazy, e_out, e_in;
	int nnodes, nodes[8];
	char swapdev[64];
};

static struct shared *sh;

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
	char line[700];
	va_list ap;

	if (atomic_fetch_add(&sh->msgs, 1) >= 20)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("# %s\n", line);
	fflush(stdout);
}

/* A target's setup or operation failed where it must not: counted, fails. */
static void terr(int k, const char *what)
{
	atomic_fetch_add(&sh->target_errs, 1);
	report("target %s: %s: %s", kname[k], what, strerror(errno));
}

/* ---- knobs (sysfs/procfs), restored at the end ---- */
struct knob {
	const char *path;
	char old[64];
	bool set;
};
static struct knob knobs[16];
static int nknobs;

static int read_file(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	return 0;
}

static int write_file(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = write(fd, v, strlen(v));
	close(fd);
	return r == (ssize_t)strlen(v) ? 0 : -1;
}

static long long read_num(const char *path)
{
	char b[64];

	return read_file(path, b, sizeof(b)) ? -1 : atoll(b);
}

static bool knob_set(const char *path, const char *v)
{
	struct knob *k = &knobs[nknobs];

	if (nknobs >= 16 || read_file(path, k->old, sizeof(k->old)))
		return false;
	k->path = path;
	if (write_file(path, v)) {
		printf("# %s: cannot write %s: %s\n", path, v, strerror(errno));
		return false;
	}
	k->set = true;
	nknobs++;
	return true;
}

static void knobs_restore(void)
{
	for (int i = nknobs - 1; i >= 0; i--) {
		char *s = strchr(knobs[i].old, '[');	/* "always [madvise] never" */
		char v[64];

		if (s) {
			snprintf(v, sizeof(v), "%s", s + 1);
			*strchrnul(v, ']') = '\0';
		} else {
			snprintf(v, sizeof(v), "%s", knobs[i].old);
		}
		if (write_file(knobs[i].path, v))
			printf("# restore %s to %s: %s\n", knobs[i].path, v, strerror(errno));
	}
}

/* A /proc/vmstat counter, -1 when the kernel has none of that name. */
static long long vmstat(const char *name)
{
	FILE *f = fopen("/proc/vmstat", "r");
	char n[64];
	long long v, r = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", n, &v) == 2)
		if (!strcmp(n, name)) {
			r = v;
			break;
		}
	fclose(f);
	return r;
}

static double now(void)
{
	return sl_now();
}

static void *map_at(uint64_t at, size_t len, int prot, int flags, int fd)
{
	return mmap((void *)(uintptr_t)at, len, prot, flags | MAP_FIXED_NOREPLACE, fd, 0);
}

static void publish(int k, uint64_t start, uint64_t end)
{
	struct slot *sl = &sh->slot[k];

	atomic_store(&sl->start, start);
	atomic_store(&sl->end, end);
	atomic_store(&sl->pid, getpid());
	atomic_store(&sl->exiting, 0);
}

static bool running(void)
{
	return !atomic_load(&sh->stop_actors);
}

static void touch(char *p, size_t len)
{
	for (size_t i = 0; i < len; i += PG)
		p[i] = (char)(i >> 12 | 1);
}

/* ---- the targets ---- */

/*
 * The AnonHugePages (kB) of this process's VMA that starts at @at, or -1.
 */
static long long vma_anon_huge_kb(uint64_t at)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256], perm[8];
	bool in = false;
	long long kb = -1;
	uint64_t s, e;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s", &s, &e, perm) == 3) {
			in = s == at;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %lld", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* The AnonHugePages (kB) of this process's VMAs that start in [s, e). */
static long long range_anon_huge_kb(uint64_t s0, uint64_t e0)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256], perm[8];
	bool in = false;
	long long kb = 0, v;
	uint64_t s, e;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s", &s, &e, perm) == 3) {
			in = s >= s0 && s < e0;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %lld", &v) == 1)
			kb += v;
	}
	fclose(f);
	return kb;
}

/*
 * Two areas, 1 GiB apart in the slot's range: the khugepaged one (4K pages
 * written, then MADV_HUGEPAGE: only khugepaged collapses it; the round waits
 * until smaps shows it all PMD-mapped, or up to kh_wait seconds) and the
 * MADV_COLLAPSE one (no advice: with THP "madvise", khugepaged never looks at
 * it, only MADV_COLLAPSE collapses it). Each round drops one 2M of each again
 * (a zapped PMD), so there is something to collapse.
 */
#define KH_LEN (2 * HUGE)
#define KH_COLLAPSE_AT (AREA(K_KHUGEPAGED) + 32 * HUGE)
static double kh_wait;

static void t_khugepaged(void)
{
	char *a = map_at(AREA(K_KHUGEPAGED), KH_LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1);
	char *b = map_at(KH_COLLAPSE_AT, KH_LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1);
	unsigned long i = 0;
	bool collapsed = true;

	if (a == MAP_FAILED || b == MAP_FAILED) {
		terr(K_KHUGEPAGED, "mmap");
		_exit(1);
	}
	publish(K_KHUGEPAGED, (uintptr_t)a, KH_COLLAPSE_AT + KH_LEN);
	while (running()) {
		double t0;
		long long kb;

		/*
		 * 4K pages first (the MADV_HUGEPAGE area would fault a THP);
		 * after a round khugepaged did not finish, it goes on with it
		 */
		if (collapsed) {
			madvise(a + (i % 2) * HUGE, HUGE, MADV_DONTNEED);
			madvise(a, KH_LEN, MADV_NOHUGEPAGE);
			touch(a, KH_LEN);
			madvise(a, KH_LEN, MADV_HUGEPAGE);
		}
		if (!atomic_load(&sh->collapse_na)) {
			int r;

			madvise(b + (i % 2) * HUGE, HUGE, MADV_DONTNEED);
			touch(b, KH_LEN);
			r = madvise(b + (i % 2) * HUGE, HUGE, MADV_COLLAPSE);
			if (!r)
				atomic_fetch_add(&sh->collapse_ok, 1);
			else
				atomic_fetch_add(&sh->collapse_err, 1);
		}
		/* khugepaged's turn: until the area is all PMD-mapped */
		t0 = now();
		while ((kb = vma_anon_huge_kb((uintptr_t)a)) < (long long)(KH_LEN >> 10) &&
		       running() && now() - t0 < kh_wait)
			usleep(20000);
		collapsed = kb >= (long long)(KH_LEN >> 10);
		if (collapsed)
			atomic_fetch_add(&sh->kh_seen, 1);
		else if (running())
			atomic_fetch_add(&sh->kh_timeouts, 1);
		atomic_fetch_add(&sh->ops[K_KHUGEPAGED], 1);
		for (int t = 0; t < 10 && running(); t++)
			usleep(10000);
		i++;
	}
	_exit(0);
}

static void t_split(void)
{
	uint64_t at = AREA(K_SPLIT);
	unsigned long i = 0;

	publish(K_SPLIT, at, at + 4 * HUGE);
	while (running()) {
		char *a = map_at(at, 4 * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				 -1);

		if (a == MAP_FAILED) {
			terr(K_SPLIT, "mmap");
			_exit(1);
		}
		long long kb0, kb1;

		madvise(a, 4 * HUGE, MADV_HUGEPAGE);
		touch(a, 4 * HUGE);
		usleep(2000);
		kb0 = range_anon_huge_kb(at, at + 4 * HUGE);
		/* a partial mprotect, munmap and MADV_DONTNEED split the PMDs */
		mprotect(a + 16 * PG, 8 * PG, PROT_READ);
		munmap(a + HUGE + (i % 500) * PG, 4 * PG);
		madvise(a + 2 * HUGE + 100 * PG, 50 * PG, MADV_DONTNEED);
		mprotect(a + 3 * HUGE, HUGE / 2, PROT_NONE);
		/* no op covers a whole 2M: less PMD-mapped means split */
		kb1 = range_anon_huge_kb(at, at + 4 * HUGE);
		if (kb1 >= 0 && kb0 > kb1)
			atomic_fetch_add(&sh->e_split, (kb0 - kb1) >> 11);
		usleep(2000);
		munmap(a, 4 * HUGE);
		atomic_fetch_add(&sh->ops[K_SPLIT], 1);
		i++;
	}
	_exit(0);
}

static void t_compact(void)
{
	const size_t len = 8UL << 20;
	static uint64_t pm0[(8UL << 20) / PG], pm1[(8UL << 20) / PG];
	char *a = map_at(AREA(K_COMPACT), len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1);
	unsigned long i = 0;

	if (a == MAP_FAILED) {
		terr(K_COMPACT, "mmap");
		_exit(1);
	}
	madvise(a, len, MADV_NOHUGEPAGE);
	publish(K_COMPACT, (uintptr_t)a, (uintptr_t)a + len);
	while (running()) {
		touch(a, len);
		/* every other page dropped: a fragmented zone */
		for (size_t o = (i & 1) * PG; o < len; o += 2 * PG)
			madvise(a + o, PG, MADV_DONTNEED);
		if (!mt_pagemap(getpid(), (uintptr_t)a, (uintptr_t)a + len, pm0) &&
		    !write_file("/proc/sys/vm/compact_memory", "1")) {
			atomic_fetch_add(&sh->compact_writes, 1);
			/* pages compaction moved: present before and after, new pfn */
			if (!mt_pagemap(getpid(), (uintptr_t)a, (uintptr_t)a + len, pm1))
				for (size_t k = 0; k < len / PG; k++)
					if (pm0[k] & pm1[k] & PM_PRESENT &&
					    (pm0[k] & PM_PFN) != (pm1[k] & PM_PFN))
						atomic_fetch_add(&sh->e_compact, 1);
		}
		atomic_fetch_add(&sh->ops[K_COMPACT], 1);
		usleep(50000);
		i++;
	}
	_exit(0);
}

/* ---- numa ---- */
static long sys_move_pages(int pid, unsigned long n, void **pages, const int *nodes,
			   int *status, int flags)
{
	return syscall(SYS_move_pages, pid, n, pages, nodes, status, flags);
}

static void t_numa(void)
{
	char *a = map_at(AREA(K_NUMA), NUMA_PAGES * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1);
	struct slot *sl = &sh->slot[K_NUMA];
	void *pages[NUMA_PAGES];
	int nodes[NUMA_PAGES], status[NUMA_PAGES], before[NUMA_PAGES];
	unsigned long i = 0;
	struct rl_rng r = { getpid() };

	if (a == MAP_FAILED || madvise(a, NUMA_PAGES * PG, MADV_NOHUGEPAGE)) {
		terr(K_NUMA, "mmap");
		_exit(1);
	}
	touch(a, NUMA_PAGES * PG);
	if (mlock(a, NUMA_PAGES * PG)) {
		terr(K_NUMA, "mlock");
		_exit(1);
	}
	for (int p = 0; p < NUMA_PAGES; p++)
		pages[p] = a + p * PG;
	publish(K_NUMA, (uintptr_t)a, (uintptr_t)a + NUMA_PAGES * PG);
	while (running()) {
		int to = sh->nodes[i % sh->nnodes], from = sh->nodes[(i + 1) % sh->nnodes];
		unsigned long mto = 1UL << to, mfrom = 1UL << from;
		long rc = 0;

		double tm = now(), quiet;

		sys_move_pages(0, NUMA_PAGES, pages, NULL, before, 0);
		atomic_fetch_add(&sl->gen, 1);	/* odd: pages moving */
		switch (i % 3) {
		case 0:
			for (int p = 0; p < NUMA_PAGES; p++)
				nodes[p] = rl_chance(&r, 75) ? to : from;
			rc = sys_move_pages(0, NUMA_PAGES, pages, nodes, status, MPOL_MF_MOVE);
			break;
		case 1:
			rc = syscall(SYS_mbind, a, NUMA_PAGES * PG, MPOL_BIND, &mto, 64,
				     MPOL_MF_MOVE | MPOL_MF_STRICT);
			if (!rc)
				rc = syscall(SYS_mbind, a, NUMA_PAGES * PG, MPOL_DEFAULT, NULL, 0, 0);
			break;
		case 2:
			rc = syscall(SYS_migrate_pages, 0, 64, &mfrom, &mto);
			break;
		}
		if (rc < 0 && errno != EBUSY && errno != EAGAIN && errno != ENOMEM)
			terr(K_NUMA, i % 3 == 0 ? "move_pages" : i % 3 == 1 ? "mbind" :
				     "migrate_pages");
		sys_move_pages(0, NUMA_PAGES, pages, NULL, status, 0);
		for (int p = 0; p < NUMA_PAGES; p++)
			if (status[p] >= 0 && before[p] >= 0 && status[p] != before[p])
				atomic_fetch_add(&sh->numa_moved, 1);
		atomic_fetch_add(&sl->gen, 1);	/* even: they stay put */
		atomic_fetch_add(&sh->ops[K_NUMA], 1);
		/*
		 * a window for the queriers, twice as long as the move took
		 * (under TCG, seconds: migrate_pages() moves the whole
		 * process), so that most queries can be judged
		 */
		quiet = 2 * (now() - tm);
		quiet = quiet < 0.2 ? 0.2 : quiet > 10 ? 10 : quiet;
		usleep(quiet * 1e6 + rl_below(&r, 200000));
		i++;
	}
	_exit(0);
}

static void t_mremap(void)
{
	uint64_t at = AREA(K_MREMAP);
	char *a = map_at(at, MR_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	unsigned long i = 0;

	if (a == MAP_FAILED || madvise(a, MR_LEN, MADV_NOHUGEPAGE)) {
		terr(K_MREMAP, "mmap");
		_exit(1);
	}
	touch(a, MR_LEN);
	if (mlock(a, MR_LEN)) {
		terr(K_MREMAP, "mlock");
		_exit(1);
	}
	publish(K_MREMAP, at, at + MR_SPAN);
	while (running()) {
		char *to = (char *)(uintptr_t)(at + ((i & 1) ? 0 : 2 * HUGE));
		char *b = mremap(a, MR_LEN, MR_LEN, MREMAP_MAYMOVE | MREMAP_FIXED, to);

		if (b == MAP_FAILED) {
			terr(K_MREMAP, "mremap");
			_exit(1);
		}
		a = b;
		atomic_fetch_add(&sh->mr_moves, 1);
		atomic_fetch_add(&sh->ops[K_MREMAP], 1);
		usleep(i & 4 ? 0 : 5000);
		i++;
	}
	_exit(0);
}

static void t_ksm(void)
{
	const size_t len = 256 * PG;
	char *a = map_at(AREA(K_KSM), len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1);
	unsigned long i = 0;
	struct rl_rng r = { getpid() };

	if (a == MAP_FAILED) {
		terr(K_KSM, "mmap");
		_exit(1);
	}
	madvise(a, len, MADV_NOHUGEPAGE);
	memset(a, 0x42, len);
	if (madvise(a, len, MADV_MERGEABLE)) {
		terr(K_KSM, "madvise(MADV_MERGEABLE)");
		_exit(1);
	}
	publish(K_KSM, (uintptr_t)a, (uintptr_t)a + len);
	while (running()) {
		long long s = read_num("/sys/kernel/mm/ksm/pages_sharing");

		if (s > (long long)atomic_load(&sh->ksm_max))
			atomic_store(&sh->ksm_max, s);
		if (i % 10 == 9) {
			madvise(a, len, MADV_UNMERGEABLE);
			madvise(a, len, MADV_MERGEABLE);
		} else {
			/* a write breaks a merged page's COW, and writes it back equal */
			for (int k = 0; k < 16; k++) {
				char *p = a + rl_below(&r, 256) * PG;

				p[7] = 1;
				p[7] = 0x42;
			}
		}
		atomic_fetch_add(&sh->ops[K_KSM], 1);
		usleep(50000);
		i++;
	}
	_exit(0);
}

/* ---- userfaultfd ---- */
#define UF_PAGES 64
static int uffd = -1;
static char uf_src[PG];

static void *uf_handler(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p = { .fd = uffd, .events = POLLIN };
		struct uffd_msg m;

		if (poll(&p, 1, 200) <= 0)
			continue;
		if (read(uffd, &m, sizeof(m)) != sizeof(m) || m.event != UFFD_EVENT_PAGEFAULT)
			continue;
		if (m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) {
			struct uffdio_writeprotect wp = {
				.range = { m.arg.pagefault.address & ~(PG - 1), PG }, .mode = 0 };

			if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) && errno != EEXIST)
				terr(K_UFFD, "UFFDIO_WRITEPROTECT (resolve)");
			atomic_fetch_add(&sh->uffd_wp, 1);
		} else {
			struct uffdio_copy c = { .dst = m.arg.pagefault.address & ~(PG - 1),
						 .src = (uintptr_t)uf_src, .len = PG };

			if (ioctl(uffd, UFFDIO_COPY, &c) && errno != EEXIST)
				terr(K_UFFD, "UFFDIO_COPY");
			atomic_fetch_add(&sh->uffd_missing, 1);
		}
	}
	return NULL;
}

static void t_uffd(void)
{
	uint64_t at = AREA(K_UFFD);
	char *an = map_at(at, UF_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1), *shm = MAP_FAILED;
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_HUGETLBFS_SHMEM };
	struct uffdio_register reg = { .range = { at, UF_PAGES * PG },
				       .mode = UFFDIO_REGISTER_MODE_MISSING |
					       UFFDIO_REGISTER_MODE_WP };
	int mfd = memfd_create("tor-uffd", 0), pm = open("/proc/self/pagemap", O_RDONLY);
	bool shmem_wp = true;
	pthread_t th;

	memset(uf_src, 0x33, sizeof(uf_src));
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (an == MAP_FAILED || uffd < 0 || mfd < 0 || pm < 0) {
		terr(K_UFFD, "mmap/userfaultfd/memfd");
		_exit(1);
	}
	madvise(an, UF_PAGES * PG, MADV_NOHUGEPAGE);
	if (ioctl(uffd, UFFDIO_API, &api)) {
		/* no uffd-wp on shmem (before 6.0): anonymous only */
		close(uffd);
		uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
		/* the failed UFFDIO_API zeroed all of it, api included */
		api.api = UFFD_API;
		api.features = 0;
		shmem_wp = false;
		atomic_store(&sh->uffd_na, 1);
		if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
			terr(K_UFFD, "UFFDIO_API");
			_exit(1);
		}
	}
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		terr(K_UFFD, "UFFDIO_REGISTER (anonymous, missing and wp)");
		_exit(1);
	}
	if (shmem_wp) {
		shm = ftruncate(mfd, UF_PAGES * PG) ? MAP_FAILED :
		      map_at(at + UF_PAGES * PG, UF_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			     mfd);
		reg.range.start = at + UF_PAGES * PG;
		reg.mode = UFFDIO_REGISTER_MODE_WP;
		if (shm == MAP_FAILED || (touch(shm, UF_PAGES * PG), ioctl(uffd, UFFDIO_REGISTER,
									   &reg))) {
			terr(K_UFFD, "shmem: mmap/UFFDIO_REGISTER(WP)");
			_exit(1);
		}
	}
	if (pthread_create(&th, NULL, uf_handler, NULL)) {
		terr(K_UFFD, "pthread_create");
		_exit(1);
	}
	publish(K_UFFD, at, at + 2 * UF_PAGES * PG);
	while (running()) {
		struct uffdio_writeprotect wp = { .range = { at, UF_PAGES * PG },
						  .mode = UFFDIO_WRITEPROTECT_MODE_WP };

		/* missing faults, resolved by UFFDIO_COPY */
		madvise(an, UF_PAGES * PG, MADV_DONTNEED);
		touch(an, UF_PAGES * PG);
		/* write-protect faults, resolved by un-protecting */
		if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp))
			terr(K_UFFD, "UFFDIO_WRITEPROTECT (anon)");
		usleep(5000);
		touch(an, UF_PAGES * PG / 2);
		if (shmem_wp) {
			uint64_t e[UF_PAGES];

			touch(shm, UF_PAGES * PG);
			wp.range.start = at + UF_PAGES * PG;
			if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp))
				terr(K_UFFD, "UFFDIO_WRITEPROTECT (shmem)");
			/* zapped, write-protected: PTE markers keep the wp bit */
			madvise(shm, UF_PAGES * PG, MADV_DONTNEED);
			if (pread(pm, e, sizeof(e), (at + UF_PAGES * PG) / PG * 8) == sizeof(e))
				for (int k = 0; k < UF_PAGES; k++)
					if (!(e[k] & PM_PRESENT) && (e[k] & PM_UFFD_WP))
						atomic_fetch_add(&sh->uffd_markers, 1);
			usleep(5000);
			touch(shm, UF_PAGES * PG / 2);	/* wp faults on the markers */
		}
		atomic_fetch_add(&sh->ops[K_UFFD], 1);
		usleep(5000);
	}
	_exit(0);
}

static void t_free(void)
{
	const size_t len = 4UL << 20;
	static uint64_t pm[(4UL << 20) / PG];
	char *a = map_at(AREA(K_FREE), len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1);
	unsigned long i = 0;

	if (a == MAP_FAILED) {
		terr(K_FREE, "mmap");
		_exit(1);
	}
	madvise(a, len, i & 1 ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	publish(K_FREE, (uintptr_t)a, (uintptr_t)a + len);
	while (running()) {
		touch(a, len);
		if (madvise(a, len, MADV_FREE))
			terr(K_FREE, "madvise(MADV_FREE)");
		usleep(2000);
		if (i & 1)
			touch(a, len / 2);	/* written again: not freed after all */
		madvise(a, len, MADV_PAGEOUT);	/* reclaim: the clean ones go */
		/* all written before MADV_FREE: neither present nor swap is freed */
		if (!mt_pagemap(getpid(), (uintptr_t)a, (uintptr_t)a + len, pm))
			for (size_t k = 0; k < len / PG; k++)
				if (!(pm[k] & (PM_PRESENT | PM_SWAP)))
					atomic_fetch_add(&sh->e_lazy, 1);
		atomic_fetch_add(&sh->ops[K_FREE], 1);
		usleep(10000);
		i++;
	}
	_exit(0);
}

static void t_swap(void)
{
	const size_t len = 4UL << 20;
	static uint64_t pm[(4UL << 20) / PG], pm2[(4UL << 20) / PG];
	char *a = map_at(AREA(K_SWAP), len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1);
	double last_off = now();
	volatile char sink = 0;

	if (a == MAP_FAILED) {
		terr(K_SWAP, "mmap");
		_exit(1);
	}
	madvise(a, len, MADV_NOHUGEPAGE);
	publish(K_SWAP, (uintptr_t)a, (uintptr_t)a + len);
	while (running()) {
		bool pm_ok;

		touch(a, len);
		madvise(a, len, MADV_PAGEOUT);	/* out */
		pm_ok = !mt_pagemap(getpid(), (uintptr_t)a, (uintptr_t)a + len, pm);
		usleep(10000);
		for (size_t o = 0; o < len; o += 2 * PG)	/* half of it in */
			sink += a[o];
		/* swap entries after the pageout; present after the read */
		if (pm_ok && !mt_pagemap(getpid(), (uintptr_t)a, (uintptr_t)a + len, pm2))
			for (size_t k = 0; k < len / PG; k++) {
				if (!(pm[k] & PM_SWAP))
					continue;
				atomic_fetch_add(&sh->e_out, 1);
				if (!(k & 1) && (pm2[k] & PM_PRESENT))
					atomic_fetch_add(&sh->e_in, 1);
			}
		if (sh->swapdev[0] && now() - last_off > 2) {
			madvise(a, len, MADV_PAGEOUT);
			/* swapoff brings every swapped page in, under the walks */
			if (swapoff(sh->swapdev)) {
				atomic_fetch_add(&sh->swapoff_err, 1);
			} else {
				atomic_fetch_add(&sh->swapoffs, 1);
				if (swapon(sh->swapdev, 0))
					terr(K_SWAP, "swapon");
			}
			last_off = now();
		}
		atomic_fetch_add(&sh->ops[K_SWAP], 1);
	}
	(void)sink;
	_exit(0);
}

/* ---- hugetlb: shared PMD tables (as safety-race) ---- */
#define HT_OWNER_AT AREA(K_HT_OWNER)
#define HT_SHARER_AT AREA(K_HT_SHARER)
static _Atomic unsigned long *ht_gen, *ht_acked;

static void t_ht_sharer(int fd)
{
	volatile char *p = map_at(HT_SHARER_AT, GIB, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_NORESERVE, fd);

	if (p == MAP_FAILED) {
		terr(K_HT_SHARER, "mmap");
		_exit(1);
	}
	publish(K_HT_SHARER, HT_SHARER_AT, HT_SHARER_AT + GIB);
	while (running()) {
		unsigned long g = atomic_load(ht_gen);

		if (atomic_load(ht_acked) != g) {
			p[0] = 1;	/* shares the owner's PMD table */
			p[HUGE] = 1;
			atomic_store(ht_acked, g);
		} else {
			usleep(200);
		}
	}
	_exit(0);
}

/* How many of this process's VMAs start in [s, e). */
static int vmas_in(uint64_t s, uint64_t e)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	uint64_t a;
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%" SCNx64 "-", &a) == 1 && a >= s && a < e)
			n++;
	if (f)
		fclose(f);
	return n;
}

static void t_ht_owner(int fd)
{
	unsigned long cycle = 0;

	publish(K_HT_OWNER, HT_OWNER_AT, HT_OWNER_AT + GIB);
	while (running()) {
		volatile char *p = map_at(HT_OWNER_AT, GIB, PROT_READ | PROT_WRITE,
					  MAP_SHARED | MAP_NORESERVE, fd);
		double t0 = now();

		if (p == MAP_FAILED || ftruncate(fd, GIB)) {
			terr(K_HT_OWNER, "mmap/ftruncate");
			_exit(1);
		}
		p[0] = 1;
		p[HUGE] = 1;
		atomic_fetch_add(ht_gen, 1);
		while (atomic_load(ht_acked) != atomic_load(ht_gen) && running() && now() - t0 < 5)
			usleep(200);
		/*
		 * split the VMA at 2M boundaries inside the shared 1G range:
		 * __split_vma() -> hugetlb_split() unshares the owner's PMD
		 * table (the path of Debian 6.1.192's unlocked hugetlb_split())
		 */
		p[3 * HUGE] = 1;
		if (cycle & 1 ? mprotect((void *)(p + HUGE), HUGE, PROT_READ) :
		    munmap((void *)(p + 3 * HUGE), HUGE))
			terr(K_HT_OWNER, cycle & 1 ? "mprotect (split)" : "munmap (split)");
		else if (vmas_in(HT_OWNER_AT, HT_OWNER_AT + GIB) < 2)
			terr(K_HT_OWNER, "the hugetlb VMA is not split");
		else
			atomic_fetch_add(&sh->ht_splits, 1);
		usleep(rand() % 20000);
		if (cycle & 1 && mprotect((void *)(p + HUGE), HUGE, PROT_READ | PROT_WRITE))
			terr(K_HT_OWNER, "mprotect (merge)");
		cycle++;
		if (ftruncate(fd, 0))	/* unshares the sharer's table */
			terr(K_HT_OWNER, "ftruncate");
		munmap((void *)p, GIB);	/* and frees it */
		atomic_fetch_add(&sh->ht_cycles, 1);
		atomic_fetch_add(&sh->ops[K_HT_OWNER], 1);
		usleep(rand() % 5000);
	}
	_exit(0);
}

/* ---- fork a THP, COW its subpages ---- */
static void t_fork(void)
{
	uint64_t at = AREA(K_FORK);

	publish(K_FORK, at, at + HUGE);
	while (running()) {
		char *a = map_at(at, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
		pid_t c;
		int st;

		if (a == MAP_FAILED) {
			terr(K_FORK, "mmap");
			_exit(1);
		}
		madvise(a, HUGE, MADV_HUGEPAGE);
		touch(a, HUGE);
		c = fork();
		if (c == 0) {
			struct slot *sl = &sh->slot[K_FORK_CHILD];

			atomic_store(&sl->start, at);
			atomic_store(&sl->end, at + HUGE);
			atomic_store(&sl->pid, getpid());
			atomic_store(&sl->exiting, 0);
			for (size_t o = 0; o < HUGE; o += 16 * PG)	/* COW subpages */
				a[o + 5] = 7;
			usleep(30000);
			atomic_store(&sl->exiting, 1);
			_exit(0);
		}
		if (c < 0) {
			terr(K_FORK, "fork");
			_exit(1);
		}
		for (size_t o = 8 * PG; o < HUGE; o += 32 * PG)
			a[o] = 9;
		if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)) {
			report("fork: child %d ended with status 0x%x", c, st);
			atomic_fetch_add(&sh->target_errs, 1);
		}
		munmap(a, HUGE);
		atomic_fetch_add(&sh->forks, 1);
		atomic_fetch_add(&sh->ops[K_FORK], 1);
	}
	_exit(0);
}

/* ---- exec a setuid binary mid-query ---- */
static void t_exec(const char *suid)
{
	char *m;

	sl_drop();
	m = map_at(AREA(K_EXEC), MARK_PAGES * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1);
	if (m == MAP_FAILED) {
		terr(K_EXEC, "mmap");
		_exit(1);
	}
	touch(m, MARK_PAGES * PG);
	while (running()) {
		struct slot *sl = &sh->slot[K_EXEC];
		pid_t c = fork();
		int st;

		if (!c) {
			execl(suid, suid, "suid-exit", (char *)NULL);
			_exit(4);
		}
		if (c < 0) {
			usleep(1000);
			continue;
		}
		atomic_store(&sl->start, AREA(K_EXEC));
		atomic_store(&sl->end, AREA(K_EXEC) + MARK_PAGES * PG);
		atomic_store(&sl->pid, c);
		atomic_store(&sl->exiting, 0);
		if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)) {
			report("exec: child %d ended with status 0x%x", c, st);
			atomic_fetch_add(&sh->target_errs, 1);
		}
		atomic_store(&sl->exiting, 1);
		atomic_fetch_add(&sh->execs, 1);
		atomic_fetch_add(&sh->ops[K_EXEC], 1);
	}
	_exit(0);
}

/* ---- queriers ---- */

/* What a complete answer said about the pages a content check looks at. */
struct content {
	int kind;
	uint64_t s, e;		/* the pages looked at */
	unsigned long pages, bad;
	uint8_t nstate[NUMA_PAGES];
	uint32_t nflags[NUMA_PAGES];
	int64_t nnode[NUMA_PAGES];
	bool seen[NUMA_PAGES];
	char first[200];
};

static void content_bad(struct content *c, uint64_t a, unsigned int state, uint32_t flags,
			int64_t node, const char *why)
{
	if (!c->bad++)
		snprintf(c->first, sizeof(c->first), "0x%" PRIx64 ": %s flags 0x%x node %" PRId64
			 ": %s", a, rl_state_names[state], flags, node, why);
}

static void on_rec(void *arg, uint64_t addr, uint64_t pages, unsigned int state,
		   uint32_t flags, uint64_t pfn, int64_t node)
{
	struct content *c = arg;
	uint64_t from = addr > c->s ? addr : c->s, to = addr + pages * PG;

	(void)pfn;
	if (to > c->e)
		to = c->e;
	for (uint64_t a = from; a < to; a += PG) {
		switch (c->kind) {
		case K_NUMA: {
			unsigned int i = (a - c->s) / PG;

			c->seen[i] = true;
			c->nstate[i] = state;
			c->nflags[i] = flags;
			c->nnode[i] = node;
			break;
		}
		case K_MREMAP:
			c->pages++;
			if (state != MEMTRACE_UNMAPPED &&
			    (state != MEMTRACE_PRESENT || !(flags & MEMTRACE_F_ANON) ||
			     (flags & MEMTRACE_F_SIZE_MASK)))
				content_bad(c, a, state, flags, node,
					    "a moved mlocked page must be present (anon, 4K) or unmapped");
			break;
		case K_HT_OWNER:
		case K_HT_SHARER:
			c->pages++;
			if (state == MEMTRACE_ZERO || state == MEMTRACE_SWAP || state == MEMTRACE_OTHER)
				content_bad(c, a, state, flags, node, "not a hugetlb page's state");
			else if (state == MEMTRACE_PRESENT &&
				 (flags & (MEMTRACE_F_HUGETLB | MEMTRACE_F_SIZE_MASK)) !=
				 (MEMTRACE_F_HUGETLB | MEMTRACE_F_SIZE_2M))
				content_bad(c, a, state, flags, node, "present but not hugetlb 2M");
			break;
		}
	}
}

/* The numa target's pages: judged when no move happened around the query. */
/*
 * The slot's generation for a query about to start; for numa, once no move
 * is under way (up to 5 s): under TCG a move can take seconds, and a query
 * started during one cannot be judged (on a loaded debug kernel, none was).
 */
static unsigned long still_gen(int k, struct slot *sl)
{
	double t0 = now();

	while (k == K_NUMA && (atomic_load(&sl->gen) & 1) && !atomic_load(&sh->stop) &&
	       now() - t0 < 5)
		usleep(2000);
	return atomic_load(&sl->gen);
}

static void numa_judge(int qi, int pid, unsigned long gen, struct content *c)
{
	struct slot *sl = &sh->slot[K_NUMA];
	void *pages[NUMA_PAGES];
	int status[NUMA_PAGES];
	unsigned long judged = 0;
	bool any = false;

	for (int i = 0; i < NUMA_PAGES; i++) {
		pages[i] = (void *)(uintptr_t)(c->s + i * PG);
		any |= c->seen[i];
	}
	if (!any)
		return;
	if (sys_move_pages(pid, NUMA_PAGES, pages, NULL, status, 0) ||
	    (gen & 1) || atomic_load(&sl->gen) != gen) {
		atomic_fetch_add(&sh->c_unjudged[K_NUMA], 1);
		return;
	}
	for (int i = 0; i < NUMA_PAGES; i++) {
		uint64_t a = c->s + i * PG;

		if (!c->seen[i])
			continue;
		if (status[i] < 0) {
			atomic_fetch_add(&sh->c_unjudged[K_NUMA], 1);
			continue;
		}
		judged++;
		if (c->nstate[i] != MEMTRACE_PRESENT || !(c->nflags[i] & MEMTRACE_F_ANON) ||
		    (c->nflags[i] & MEMTRACE_F_SIZE_MASK))
			content_bad(c, a, c->nstate[i], c->nflags[i], c->nnode[i],
				    "an mlocked page nobody moves must be present, anon, 4K");
		else if (c->nnode[i] != status[i]) {
			char why[64];

			snprintf(why, sizeof(why), "move_pages(2) says node %d", status[i]);
			content_bad(c, a, c->nstate[i], c->nflags[i], c->nnode[i], why);
		}
	}
	(void)qi;
	c->pages = judged;
}

/* An ESRCH is explained when its target is gone, a zombie or exiting. */
/* Does pid run another program than this one (it has exec'd)? */
static bool exec_replaced(int pid)
{
	char path[64], exe[PATH_MAX], self[PATH_MAX];
	ssize_t n, m;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	m = readlink("/proc/self/exe", self, sizeof(self) - 1);
	return n > 0 && m > 0 && (n != m || memcmp(exe, self, n));
}

/*
 * pre_exec: the target was an exec child that had not exec'd yet when the
 * query began.
 */
static bool esrch_explained(int k, int pid, bool pre_exec)
{
	struct slot *sl = &sh->slot[k];
	char path[64], stat[256] = "";
	unsigned int pflags = 0;
	const char *end;
	char st = '?';
	bool gone;
	FILE *f;

	if (atomic_load(&sl->pid) != pid || atomic_load(&sl->exiting) || atomic_load(&sh->stop))
		return true;
	/*
	 * An exec child that exec'd during the query: a query that took its
	 * address space before the execve() finds it gone (the walk's mmget_not_zero() fails:
	 * ESRCH, as pagemap read through an fd opened before the exec gives
	 * nothing), though the pid lives on in the setuid image.
	 */
	if (pre_exec && exec_replaced(pid))
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	gone = !f || !fgets(stat, sizeof(stat), f);
	if (f)
		fclose(f);
	end = gone ? NULL : strrchr(stat, ')');
	if (end)
		sscanf(end + 1, " %c %*d %*d %*d %*d %*d %u", &st, &pflags);
	return gone || st == 'Z' || st == 'X' || (pflags & 0x4);	/* PF_EXITING */
}

static void querier(int qi, uint64_t seed)
{
	struct rl_rng r = { seed };
	struct qstat *st = &sh->q[qi];
	bool nl = qi & 2;
	int mode = qi & 1;
	struct nlr nls;
	int err;

	if (nl && (err = nlr_open(&nls))) {
		report("querier %d: netlink: %s", qi, strerror(-err));
		atomic_fetch_add(&st->errors, 1);
		_exit(1);
	}
	while (!atomic_load(&sh->stop)) {
		/* one query in four on numa: its pages are judged only when still */
		int k = rl_chance(&r, 25) ? K_NUMA : (int)rl_below(&r, NK);
		struct slot *sl = &sh->slot[k];
		unsigned long gen = still_gen(k, sl);
		int pid = atomic_load(&sl->pid);
		uint64_t s = atomic_load(&sl->start), e = atomic_load(&sl->end);
		struct content ct = { .kind = k };
		unsigned int pick = rl_below(&r, 100);
		bool whole = false, pre_exec;
		struct rl_check c;

		if (!pid || !s) {
			usleep(1000);
			continue;
		}
		if ((k == K_HT_OWNER || k == K_HT_SHARER) && (mode || pick < 60))
			e = s + HT_QUERY;	/* 8 MiB; runs mode sometimes the whole GiB */
		if (!mode && pick < 10) {
			whole = true;
		} else if (pick < 40 && k != K_NUMA) {
			uint64_t n = (e - s) / PG, o = rl_below(&r, n);

			uint64_t len = (1 + rl_below(&r, 1024)) * PG;

			s += o * PG;
			if (s + len < e)
				e = s + len;
		}
		ct.s = atomic_load(&sl->start);
		ct.e = k == K_NUMA ? ct.s + NUMA_PAGES * PG : e;
		/* an exec child still in this program: an exec may take its mm away */
		pre_exec = k == K_EXEC && !exec_replaced(pid);
		rl_check_init(&c, pid, whole ? 0 : s, whole ? 0 : e, mode, true);
		c.on_record = on_rec;
		c.arg = &ct;
		if (nl)
			err = rl_nl_query(&nls, &c, pid, whole ? 0 : s, whole ? 0 : e, !whole,
					  mode | (rl_chance(&r, 50) ? RL_PACKED |
						  (rl_chance(&r, 50) ? RL_INDEXED : 0) : 0), NULL);
		else
			err = rl_proc_query(&c, pid, s, e, whole, mode, &r, NULL);
		atomic_fetch_add(&st->queries, 1);
		atomic_fetch_add(&st->alive, 1);
		atomic_fetch_add(&sh->kq[k], 1);
		if (!err) {
			if (k == K_NUMA)
				numa_judge(qi, pid, gen, &ct);
			if (ct.pages && (k == K_NUMA || k == K_MREMAP || k == K_HT_OWNER ||
					 k == K_HT_SHARER)) {
				atomic_fetch_add(&sh->c_answers[k], 1);
				atomic_fetch_add(&sh->c_pages[k], ct.pages);
				if (ct.bad) {
					atomic_fetch_add(&sh->c_bad[k], ct.bad);
					report("querier %d (%s %s): %s pid %d: %lu of %lu pages wrong; "
					       "first %s", qi, nl ? "netlink" : "proc",
					       mode ? "pages" : "runs", kname[k], pid, ct.bad,
					       ct.pages, ct.first);
				}
			}
			continue;
		}
		if (err == -ESRCH) {
			atomic_fetch_add(&st->esrch, 1);
			atomic_fetch_add(&sh->kesrch[k], 1);
			if (esrch_explained(k, pid, pre_exec))
				continue;
			atomic_fetch_add(&st->errors, 1);
			report("querier %d (%s %s): ESRCH for %s pid %d, which is alive (after %lu "
			       "records)", qi, nl ? "netlink" : "proc", mode ? "pages" : "runs",
			       kname[k], pid, c.records);
			continue;
		}
		atomic_fetch_add(&st->errors, 1);
		report("querier %d (%s %s): %s pid %d [0x%" PRIx64 ", 0x%" PRIx64 ")%s: %s%s%s", qi,
		       nl ? "netlink" : "proc", mode ? "pages" : "runs", kname[k], pid, s, e,
		       whole ? " all" : "", strerror(-err), c.err[0] ? ": " : "", c.err);
		if (nl && err == -EBADMSG) {
			nlr_close(&nls);
			if (nlr_open(&nls))
				_exit(1);
		}
	}
	if (nl)
		nlr_close(&nls);
	_exit(0);
}

/* ---- the harness ---- */

static int mem_nodes(int *nodes, int max)
{
	char b[128], *p = b;
	int n = 0;

	if (read_file("/sys/devices/system/node/has_memory", b, sizeof(b)))
		return 1;	/* no NUMA: one node, 0 */
	while (*p && *p != '\n' && n < max) {
		int lo = strtol(p, &p, 10), hi = lo;

		if (*p == '-')
			hi = strtol(p + 1, &p, 10);
		for (int i = lo; i <= hi && n < max; i++)
			nodes[n++] = i;
		if (*p == ',')
			p++;
	}
	return n ? n : 1;
}

static void swap_device(char *dev, size_t n)
{
	FILE *f = fopen("/proc/swaps", "r");
	char line[256], name[48];

	dev[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%47s", name) == 1 && name[0] == '/') {
			snprintf(dev, n, "%s", name);
			break;
		}
	fclose(f);
}

static const char *how(int st, char *buf, size_t n)
{
	if (WIFEXITED(st))
		snprintf(buf, n, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, n, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(buf, n, "wait status 0x%x", st);
	return buf;
}

static bool reap(pid_t pid, int *st, double secs)
{
	double end = now() + secs;

	for (;;) {
		pid_t r = waitpid(pid, st, WNOHANG);

		if (r == pid)
			return true;
		if (r < 0 || now() > end)
			return false;
		usleep(10000);
	}
}

/* The pid of the khugepaged kernel thread, or -1. */
static int khugepaged_pid(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int pid = -1;

	while (d && pid < 0 && (de = readdir(d))) {
		char path[300], comm[32];

		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		if (atoi(de->d_name) > 0 && !read_file(path, comm, sizeof(comm)) &&
		    !strcmp(comm, "khugepaged\n"))
			pid = atoi(de->d_name);
	}
	if (d)
		closedir(d);
	return pid;
}

/* A SKIP for what this kernel lacks: not the lab's to provide. */
static void tap_na(const char *what, const char *why)
{
	printf("ok %d - %s # SKIP %s\n", ++tap_n, what, why);
}

int main(int argc, char **argv)
{
	long long dur = rl_knob("mt_torture", 60);
	uint64_t seed = rl_knob("mt_seed", 0);
	long long v0_collapsed, v0_scans, v0_split, v0_cscan, v0_lazy, v0_out, v0_in, v0_migr;
	int khpid, khnice = 0;
	unsigned long q = 0, esrch = 0, errors = 0, last_alive = 0;
	pid_t tp[NK] = { 0 }, qp[NQ];
	int deaths = 0, hpfd, st;
	double t0, stalled = 0, gap = 0, deadline;
	const char *suid;
	bool hung = false, thp, ksm, hugetlb;
	struct utsname u;
	char b[128];

	if (argc == 2 && !strcmp(argv[1], "suid-exit")) {
		usleep(5000);	/* a moment as the setuid image */
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (rl_quick()) {
		dur /= 4;
		if (dur < 10)
			dur = 10;
	}
	if (!seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	uname(&u);
	sh = sl_shared(sizeof(*sh));
	ht_gen = sl_shared(2 * sizeof(*ht_gen));
	ht_acked = ht_gen + 1;
	sh->nnodes = mem_nodes(sh->nodes, 8);
	swap_device(sh->swapdev, sizeof(sh->swapdev));
	printf("# seed %" PRIu64 ", %lld s, kernel %s, %d NUMA node(s) with memory, swap %s\n",
	       seed, dur, u.release, sh->nnodes, sh->swapdev[0] ? sh->swapdev : "none");

	/* the kernel's side of the mechanisms, as fast as it goes */
	/*
	 * THP "madvise": only MADV_HUGEPAGE areas fault THPs or are scanned
	 * by khugepaged (the khugepaged target's MADV_COLLAPSE area is not)
	 */
	thp = !read_file("/sys/kernel/mm/transparent_hugepage/enabled", b, sizeof(b));
	if (thp && !strstr(b, "[madvise]") &&
	    !knob_set("/sys/kernel/mm/transparent_hugepage/enabled", "madvise"))
		terr(K_KHUGEPAGED, "THP enabled=madvise");
	kh_wait = dur / 3 < 3 ? 3 : dur / 3 > 10 ? 10 : dur / 3;
	/* MADV_COLLAPSE: 6.1+ (before, EINVAL like many of its failures) */
	{
		int maj = 0, min = 0;

		sscanf(u.release, "%d.%d", &maj, &min);
		sh->collapse_na = maj < 6 || (maj == 6 && min < 1);
	}
	/*
	 * khugepaged runs at nice 19: among ~20 busy processes on two TCG
	 * vCPUs it hardly ever ran in the window; nice 0 for the run
	 */
	khpid = khugepaged_pid();
	if (khpid > 0) {
		errno = 0;
		khnice = getpriority(PRIO_PROCESS, khpid);
		if (errno || setpriority(PRIO_PROCESS, khpid, 0))
			khpid = -1;
	}
	knob_set("/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs", "0");
	knob_set("/sys/kernel/mm/transparent_hugepage/khugepaged/alloc_sleep_millisecs", "0");
	knob_set("/sys/kernel/mm/transparent_hugepage/khugepaged/pages_to_scan", "4096");
	ksm = knob_set("/sys/kernel/mm/ksm/run", "1");
	knob_set("/sys/kernel/mm/ksm/sleep_millisecs", "0");
	knob_set("/sys/kernel/mm/ksm/pages_to_scan", "1000");
	/* nobody but the numa target moves its pages between nodes */
	knob_set("/proc/sys/kernel/numa_balancing", "0");
	/* compaction leaves mlocked pages (numa, mremap) where they are */
	knob_set("/proc/sys/vm/compact_unevictable_allowed", "0");
	if (read_num("/proc/sys/vm/nr_hugepages") < 16)
		knob_set("/proc/sys/vm/nr_hugepages", "16");
	hpfd = memfd_create("tor-hugetlb", MFD_HUGETLB);
	hugetlb = hpfd >= 0 && !ftruncate(hpfd, GIB);
	suid = sl_suid_copy();
	if (!suid)
		printf("# no setuid copy of this program: %s\n", strerror(errno));

	v0_collapsed = read_num("/sys/kernel/mm/transparent_hugepage/khugepaged/pages_collapsed");
	v0_scans = read_num("/sys/kernel/mm/transparent_hugepage/khugepaged/full_scans");
	v0_split = vmstat("thp_split_pmd");
	v0_cscan = vmstat("compact_migrate_scanned");
	v0_lazy = vmstat("pglazyfreed");
	v0_out = vmstat("pswpout");
	v0_in = vmstat("pswpin");
	v0_migr = vmstat("pgmigrate_success");

	for (int k = 0; k < NK; k++) {
		pid_t p;

		if (k == K_FORK_CHILD || ((k == K_HT_OWNER || k == K_HT_SHARER) && !hugetlb) ||
		    (k == K_EXEC && !suid) || (k == K_NUMA && sh->nnodes < 2) ||
		    (k == K_KSM && !ksm))
			continue;
		p = fork();
		if (p < 0) {
			deaths++;
			printf("# %s: fork: %s\n", kname[k], strerror(errno));
			continue;
		}
		if (p)
			tp[k] = p;
		else
			switch (k) {
			case K_KHUGEPAGED: t_khugepaged(); break;
			case K_SPLIT: t_split(); break;
			case K_COMPACT: t_compact(); break;
			case K_NUMA: t_numa(); break;
			case K_MREMAP: t_mremap(); break;
			case K_KSM: t_ksm(); break;
			case K_UFFD: t_uffd(); break;
			case K_FREE: t_free(); break;
			case K_SWAP: t_swap(); break;
			case K_HT_OWNER: t_ht_owner(hpfd); break;
			case K_HT_SHARER: t_ht_sharer(hpfd); break;
			case K_FORK: t_fork(); break;
			case K_EXEC: t_exec(suid); break;
			}
	}
	for (int i = 0; i < NQ; i++) {
		qp[i] = fork();
		if (!qp[i])
			querier(i, seed + 77 * i + 5);
		if (qp[i] < 0) {
			deaths++;
			qp[i] = 0;
		}
	}
	t0 = now();
	stalled = t0;
	while (now() - t0 < dur) {
		unsigned long alive = 0;

		for (int i = 0; i < NQ; i++)
			alive += atomic_load(&sh->q[i].alive);
		if (alive != last_alive) {
			last_alive = alive;
			stalled = now();
		} else if (now() - stalled > gap) {
			gap = now() - stalled;
			if (gap > HANG_S) {
				printf("# torture: no query finished for %d s (a hang)\n", HANG_S);
				hung = true;
				break;
			}
		}
		usleep(50000);
	}
	/* queriers first (a target must not leave under a query), then targets */
	atomic_store(&sh->stop, 1);
	deadline = now() + (hung ? 5 : STOP_S);
	for (int i = 0; i < NQ; i++) {
		int sent = 0;

		if (!qp[i])
			continue;
		if (!reap(qp[i], &st, deadline - now())) {
			if (!hung)
				printf("# querier %d still running %d s after the stop (a hang)\n", i,
				       STOP_S);
			hung = true;
			kill(qp[i], SIGKILL);
			sent = SIGKILL;
			if (!reap(qp[i], &st, 10)) {
				deaths++;
				continue;
			}
		}
		if (!(WIFEXITED(st) && !WEXITSTATUS(st)) &&
		    !(sent && WIFSIGNALED(st) && WTERMSIG(st) == sent)) {
			deaths++;
			printf("# querier %d (pid %d) %s\n", i, qp[i], how(st, b, sizeof(b)));
		}
	}
	atomic_store(&sh->stop_actors, 1);
	deadline = now() + STOP_S;
	for (int k = 0; k < NK; k++) {
		if (!tp[k])
			continue;
		if (!reap(tp[k], &st, deadline - now())) {
			printf("# target %s (pid %d) still running %d s after the stop\n", kname[k],
			       tp[k], STOP_S);
			kill(tp[k], SIGKILL);
			reap(tp[k], &st, 10);
			deaths++;
			continue;
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			deaths++;
			printf("# target %s (pid %d) %s\n", kname[k], tp[k], how(st, b, sizeof(b)));
		}
	}
	sl_suid_remove();
	if (sh->swapdev[0] && !strstr((read_file("/proc/swaps", b, sizeof(b)), b), "/"))
		swapon(sh->swapdev, 0);	/* left off by a swapoff that was cut short */

#define DELTA(v0, now) ((v0) < 0 ? -1 : (now) - (v0))
	long long collapsed = DELTA(v0_collapsed,
		read_num("/sys/kernel/mm/transparent_hugepage/khugepaged/pages_collapsed"));
	long long scans = DELTA(v0_scans,
		read_num("/sys/kernel/mm/transparent_hugepage/khugepaged/full_scans"));
	long long split = DELTA(v0_split, vmstat("thp_split_pmd"));
	long long cscan = DELTA(v0_cscan, vmstat("compact_migrate_scanned"));
	long long lazy = DELTA(v0_lazy, vmstat("pglazyfreed"));
	long long out = DELTA(v0_out, vmstat("pswpout"));
	long long in = DELTA(v0_in, vmstat("pswpin"));
	long long migr = DELTA(v0_migr, vmstat("pgmigrate_success"));

	/* no vmstat event counters (-1): the targets' own evidence */
	bool no_ev = split < 0 && cscan < 0 && lazy < 0 && out < 0;

	if (no_ev) {
		printf("# no vmstat event counters (CONFIG_VM_EVENT_COUNTERS): split, compaction, "
		       "MADV_FREE, swap judged by the targets' smaps and pagemap\n");
		split = sh->e_split;
		cscan = sh->e_compact;
		lazy = sh->e_lazy;
		out = sh->e_out;
		in = sh->e_in;
	}
	printf("# targets saw: %lu PMDs split, %lu pages moved by compaction, %lu lazily freed, "
	       "%lu swapped out, %lu in\n", (unsigned long)sh->e_split,
	       (unsigned long)sh->e_compact, (unsigned long)sh->e_lazy, (unsigned long)sh->e_out,
	       (unsigned long)sh->e_in);
	knobs_restore();
	if (khpid > 0 && setpriority(PRIO_PROCESS, khpid, khnice))
		printf("# restore khugepaged's nice %d: %s\n", khnice, strerror(errno));
	for (int i = 0; i < NQ; i++) {
		q += sh->q[i].queries;
		esrch += sh->q[i].esrch;
		errors += sh->q[i].errors;
		printf("# querier %d (%s, %s): %lu queries, %lu ESRCH, %lu errors\n", i,
		       i & 2 ? "netlink" : "proc", i & 1 ? "pages" : "runs",
		       (unsigned long)sh->q[i].queries, (unsigned long)sh->q[i].esrch,
		       (unsigned long)sh->q[i].errors);
	}
	for (int k = 0; k < NK; k++)
		printf("# %-14s %lu operations, %lu queries, %lu ESRCH\n", kname[k],
		       (unsigned long)sh->ops[k], (unsigned long)sh->kq[k],
		       (unsigned long)sh->kesrch[k]);
	printf("# kernel%s: %lld pages collapsed by khugepaged, %lld PMDs split, %lld pages "
	       "%s by compaction, %lld migrated, %lld lazily freed, %lld swapped out, %lld in\n",
	       no_ev ? " (split to swap: the targets' evidence)" : "", collapsed, split, cscan,
	       no_ev ? "moved" : "scanned", migr, lazy, out, in);
	printf("# torture: %.0f s, %lu queries, %lu ESRCH, %lu errors\n", now() - t0, q, esrch,
	       errors);

	tap_ok(q >= 10 * NQ, "torture: %d queriers (proc and netlink, runs and pages) answered "
	       "%lu queries", NQ, q);
	tap_ok(errors == 0, "torture: every answer well formed, every error an explained ESRCH "
	       "(%lu ESRCH: %lu of fork children, %lu of exec children, %lu of others; %lu errors)",
	       esrch, (unsigned long)sh->kesrch[K_FORK_CHILD], (unsigned long)sh->kesrch[K_EXEC],
	       esrch - sh->kesrch[K_FORK_CHILD] - sh->kesrch[K_EXEC], errors);
	tap_ok(!hung, "torture: no hang (longest wait for a query %.0f s, limit %d s)", gap,
	       HANG_S);
	tap_ok(!deaths && !sh->target_errs, "torture: every target and querier ran to the end and "
	       "exited 0, no target operation failed (%d ended badly, %lu failed operations)",
	       deaths, (unsigned long)sh->target_errs);

	/* content */
	if (sh->nnodes < 2) {
		tap_skip("numa: node of each page as move_pages(2) says", "one NUMA node "
			 "(boot with scripts/vm --numa 2)");
		tap_skip("numa: pages moved between nodes", "one NUMA node");
	} else {
		tap_ok(!sh->c_bad[K_NUMA] && sh->c_pages[K_NUMA] > 0,
		       "numa: every page present, anon, 4K, on the node move_pages(2) gives (%lu "
		       "answers, %lu pages judged, %lu wrong; %lu not judged: a move under way)",
		       (unsigned long)sh->c_answers[K_NUMA], (unsigned long)sh->c_pages[K_NUMA],
		       (unsigned long)sh->c_bad[K_NUMA], (unsigned long)sh->c_unjudged[K_NUMA]);
		char all[48] = "no pgmigrate_success in /proc/vmstat";

		if (migr >= 0)
			snprintf(all, sizeof(all), "%lld pages migrated in all", migr);
		tap_ok(sh->numa_moved > 0, "numa: pages moved between nodes by move_pages, mbind, "
		       "migrate_pages (%lu moves in %lu rounds; %s)",
		       (unsigned long)sh->numa_moved, (unsigned long)sh->ops[K_NUMA], all);
	}
	tap_ok(!sh->c_bad[K_MREMAP] && sh->c_pages[K_MREMAP] > 0 && sh->mr_moves > 0,
	       "mremap: every page of the two slots present (anon, 4K) or unmapped (%lu moves; "
	       "%lu answers, %lu pages, %lu wrong)", (unsigned long)sh->mr_moves,
	       (unsigned long)sh->c_answers[K_MREMAP], (unsigned long)sh->c_pages[K_MREMAP],
	       (unsigned long)sh->c_bad[K_MREMAP]);
	if (!hugetlb) {
		tap_skip("hugetlb: shared PMD tables", "no hugetlb memfd of 1 GiB");
	} else {
		unsigned long p = sh->c_pages[K_HT_OWNER] + sh->c_pages[K_HT_SHARER];
		unsigned long bad = sh->c_bad[K_HT_OWNER] + sh->c_bad[K_HT_SHARER];

		tap_ok(!bad && p > 0 && sh->ht_cycles > 0 && sh->ht_splits > 0,
		       "hugetlb: PMD tables shared, VMA split at 2M inside the shared range "
		       "(mprotect, munmap), unshared by truncate and freed; every present page "
		       "hugetlb 2M (%lu cycles, %lu splits; %lu pages, %lu wrong)",
		       (unsigned long)sh->ht_cycles, (unsigned long)sh->ht_splits, p, bad);
	}

	/* each mechanism ran */
	if (!thp) {
		tap_skip("khugepaged collapses", "no THP");
		tap_skip("THP splits", "no THP");
	} else {
		tap_ok(collapsed > 0 && sh->kh_seen > 0, "khugepaged: collapsed the target's "
		       "MADV_HUGEPAGE area (all PMD-mapped in smaps) %lu times (%lu waits of %.0f s "
		       "ran out); %lld pages collapsed, %lld full scans%s",
		       (unsigned long)sh->kh_seen, (unsigned long)sh->kh_timeouts, kh_wait,
		       collapsed, scans, khpid > 0 ? "" : " (khugepaged not reniced)");
		if (sh->collapse_na)
			tap_na("MADV_COLLAPSE", "not in this kernel (6.1+)");
		else
			tap_ok(sh->collapse_ok > 0, "MADV_COLLAPSE: %lu collapses (%lu failed)",
			       (unsigned long)sh->collapse_ok, (unsigned long)sh->collapse_err);
		tap_ok(split > 0, "split: %lld PMDs split by partial mprotect/munmap/MADV_DONTNEED "
		       "(%lu rounds)", split, (unsigned long)sh->ops[K_SPLIT]);
	}
	tap_ok(sh->compact_writes > 0 && cscan > 0, "compaction: compact_memory written %lu times, "
	       "%lld pages %s", (unsigned long)sh->compact_writes, cscan,
	       no_ev ? "of the target moved" : "scanned");
	if (!ksm)
		tap_skip("ksm: pages merged", "no /sys/kernel/mm/ksm");
	else
		tap_ok(sh->ksm_max > 0, "ksm: pages merged and unmerged (up to %lu pages sharing, "
		       "%lu rounds)", (unsigned long)sh->ksm_max, (unsigned long)sh->ops[K_KSM]);
	tap_ok(sh->uffd_missing > 0 && sh->uffd_wp > 0, "userfaultfd: %lu missing-page and %lu "
	       "write-protect faults resolved", (unsigned long)sh->uffd_missing,
	       (unsigned long)sh->uffd_wp);
	if (sh->uffd_na)
		tap_na("uffd-wp PTE markers on shmem", "no UFFD_FEATURE_WP_HUGETLBFS_SHMEM (6.0+)");
	else
		tap_ok(sh->uffd_markers > 0, "uffd-wp PTE markers on zapped shmem pages: %lu seen in "
		       "pagemap", (unsigned long)sh->uffd_markers);
	tap_ok(lazy > 0, "MADV_FREE: %lld pages lazily freed and reclaimed (%lu rounds)", lazy,
	       (unsigned long)sh->ops[K_FREE]);
	if (!sh->swapdev[0])
		tap_skip("swap: out, in, swapoff", "no swap device");
	else
		tap_ok(out > 0 && in > 0 && sh->swapoffs > 0, "swap: %lld pages out, %lld in, %lu "
		       "swapoff/swapon cycles (%lu swapoff failed)", out, in,
		       (unsigned long)sh->swapoffs, (unsigned long)sh->swapoff_err);
	tap_ok(sh->forks > 0 && sh->kq[K_FORK_CHILD] > 0, "fork: %lu THPs forked and COWed, "
	       "children queried %lu times", (unsigned long)sh->forks,
	       (unsigned long)sh->kq[K_FORK_CHILD]);
	if (!suid)
		tap_skip("exec: setuid exec mid-query", "no setuid copy");
	else
		tap_ok(sh->execs > 0 && sh->kq[K_EXEC] > 0, "exec: %lu setuid execs, queried %lu "
		       "times", (unsigned long)sh->execs, (unsigned long)sh->kq[K_EXEC]);
	return tap_done();
}
