// SPDX-License-Identifier: GPL-2.0
/*
 * tor-torture: the targets that move pages: khugepaged, split, compaction,
 * NUMA migration, mremap, KSM.
 */
#include "torture.h"

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
double tor_kh_wait;

void tor_t_khugepaged(void)
{
	char *a = tor_map_at(AREA(K_KHUGEPAGED), KH_LEN, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1);
	char *b = tor_map_at(KH_COLLAPSE_AT, KH_LEN, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1);
	unsigned long i = 0;
	bool collapsed = true;

	if (a == MAP_FAILED || b == MAP_FAILED) {
		tor_terr(K_KHUGEPAGED, "mmap");
		_exit(1);
	}
	tor_publish(K_KHUGEPAGED, (uintptr_t)a, KH_COLLAPSE_AT + KH_LEN);
	while (tor_running()) {
		double t0;
		long long kb;

		/*
		 * 4K pages first (the MADV_HUGEPAGE area would fault a THP);
		 * after a round khugepaged did not finish, it goes on with it
		 */
		if (collapsed) {
			madvise(a + (i % 2) * HUGE, HUGE, MADV_DONTNEED);
			madvise(a, KH_LEN, MADV_NOHUGEPAGE);
			tor_touch(a, KH_LEN);
			madvise(a, KH_LEN, MADV_HUGEPAGE);
		}
		if (!atomic_load(&tor_sh->collapse_na)) {
			int r;

			madvise(b + (i % 2) * HUGE, HUGE, MADV_DONTNEED);
			tor_touch(b, KH_LEN);
			r = madvise(b + (i % 2) * HUGE, HUGE, MADV_COLLAPSE);
			if (!r)
				atomic_fetch_add(&tor_sh->collapse_ok, 1);
			else
				atomic_fetch_add(&tor_sh->collapse_err, 1);
		}
		/* khugepaged's turn: until the area is all PMD-mapped */
		t0 = tor_now();
		while ((kb = vma_anon_huge_kb((uintptr_t)a)) < (long long)(KH_LEN >> 10) &&
		       tor_running() && tor_now() - t0 < tor_kh_wait)
			usleep(20000);
		collapsed = kb >= (long long)(KH_LEN >> 10);
		if (collapsed)
			atomic_fetch_add(&tor_sh->kh_seen, 1);
		else if (tor_running())
			atomic_fetch_add(&tor_sh->kh_timeouts, 1);
		atomic_fetch_add(&tor_sh->ops[K_KHUGEPAGED], 1);
		for (int t = 0; t < 10 && tor_running(); t++)
			usleep(10000);
		i++;
	}
	_exit(0);
}

void tor_t_split(void)
{
	uint64_t at = AREA(K_SPLIT);
	unsigned long i = 0;

	tor_publish(K_SPLIT, at, at + 4 * HUGE);
	while (tor_running()) {
		char *a = tor_map_at(at, 4 * HUGE, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS,
				     -1);

		if (a == MAP_FAILED) {
			tor_terr(K_SPLIT, "mmap");
			_exit(1);
		}
		long long kb0, kb1;

		madvise(a, 4 * HUGE, MADV_HUGEPAGE);
		tor_touch(a, 4 * HUGE);
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
			atomic_fetch_add(&tor_sh->e_split, (kb0 - kb1) >> 11);
		usleep(2000);
		munmap(a, 4 * HUGE);
		atomic_fetch_add(&tor_sh->ops[K_SPLIT], 1);
		i++;
	}
	_exit(0);
}

void tor_t_compact(void)
{
	const size_t len = 8UL << 20;
	static uint64_t pm0[(8UL << 20) / PG_MIN], pm1[(8UL << 20) / PG_MIN];
	char *a = tor_map_at(AREA(K_COMPACT), len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1);
	unsigned long i = 0;

	if (a == MAP_FAILED) {
		tor_terr(K_COMPACT, "mmap");
		_exit(1);
	}
	madvise(a, len, MADV_NOHUGEPAGE);
	tor_publish(K_COMPACT, (uintptr_t)a, (uintptr_t)a + len);
	while (tor_running()) {
		tor_touch(a, len);
		/* every other page dropped: a fragmented zone */
		for (size_t o = (i & 1) * PG; o < len; o += 2 * PG)
			madvise(a + o, PG, MADV_DONTNEED);
		if (!mt_pagemap(getpid(), (uintptr_t)a, (uintptr_t)a + len, pm0) &&
		    !tor_write_file("/proc/sys/vm/compact_memory", "1")) {
			atomic_fetch_add(&tor_sh->compact_writes, 1);
			/* pages compaction moved: present before and after, new pfn */
			if (!mt_pagemap(getpid(), (uintptr_t)a, (uintptr_t)a + len, pm1))
				for (size_t k = 0; k < len / PG; k++)
					if (pm0[k] & pm1[k] & PM_PRESENT &&
					    (pm0[k] & PM_PFN) != (pm1[k] & PM_PFN))
						atomic_fetch_add(&tor_sh->e_compact, 1);
		}
		atomic_fetch_add(&tor_sh->ops[K_COMPACT], 1);
		usleep(50000);
		i++;
	}
	_exit(0);
}

/* ---- numa ---- */
long tor_sys_move_pages(int pid, unsigned long n, void **pages, const int *nodes,
			int *status, int flags)
{
	return syscall(SYS_move_pages, pid, n, pages, nodes, status, flags);
}

void tor_t_numa(void)
{
	char *a = tor_map_at(AREA(K_NUMA), NUMA_PAGES * PG, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1);
	struct slot *sl = &tor_sh->slot[K_NUMA];
	void *pages[NUMA_PAGES];
	int nodes[NUMA_PAGES], status[NUMA_PAGES], before[NUMA_PAGES];
	unsigned long i = 0;
	struct rl_rng r = { getpid() };

	if (a == MAP_FAILED || madvise(a, NUMA_PAGES * PG, MADV_NOHUGEPAGE)) {
		tor_terr(K_NUMA, "mmap");
		_exit(1);
	}
	/*
	 * mlocked before the first write, as the mremap target's (below).
	 * Only their first placement is safe that way: a page this target
	 * moves itself reaches the ordinary LRU (6.1+) for a moment before
	 * its new mapping mlocks it again, and compaction could take it then.
	 */
	if (mlock(a, NUMA_PAGES * PG)) {
		tor_terr(K_NUMA, "mlock");
		_exit(1);
	}
	tor_touch(a, NUMA_PAGES * PG);
	for (int p = 0; p < NUMA_PAGES; p++)
		pages[p] = a + p * PG;
	tor_publish(K_NUMA, (uintptr_t)a, (uintptr_t)a + NUMA_PAGES * PG);
	while (tor_running()) {
		int to = tor_sh->nodes[i % tor_sh->nnodes], from = tor_sh->nodes[(i + 1) % tor_sh->nnodes];
		unsigned long mto = 1UL << to, mfrom = 1UL << from;
		long rc = 0;

		double tm = tor_now(), quiet;

		tor_sys_move_pages(0, NUMA_PAGES, pages, NULL, before, 0);
		atomic_fetch_add(&sl->gen, 1);	/* odd: pages moving */
		switch (i % 3) {
		case 0:
			for (int p = 0; p < NUMA_PAGES; p++)
				nodes[p] = rl_chance(&r, 75) ? to : from;
			rc = tor_sys_move_pages(0, NUMA_PAGES, pages, nodes, status, MPOL_MF_MOVE);
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
			tor_terr(K_NUMA, i % 3 == 0 ? "move_pages" : i % 3 == 1 ? "mbind" :
				     "migrate_pages");
		tor_sys_move_pages(0, NUMA_PAGES, pages, NULL, status, 0);
		for (int p = 0; p < NUMA_PAGES; p++)
			if (status[p] >= 0 && before[p] >= 0 && status[p] != before[p])
				atomic_fetch_add(&tor_sh->numa_moved, 1);
		atomic_fetch_add(&sl->gen, 1);	/* even: they stay put */
		atomic_fetch_add(&tor_sh->ops[K_NUMA], 1);
		/*
		 * a window for the queriers, twice as long as the move took
		 * (under TCG, seconds: migrate_pages() moves the whole
		 * process), so that most queries can be judged
		 */
		quiet = 2 * (tor_now() - tm);
		quiet = quiet < 0.2 ? 0.2 : quiet > 10 ? 10 : quiet;
		usleep(quiet * 1e6 + rl_below(&r, 200000));
		i++;
	}
	_exit(0);
}

void tor_t_mremap(void)
{
	uint64_t at = AREA(K_MREMAP);
	char *a = tor_map_at(at, MR_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	unsigned long i = 0;

	if (a == MAP_FAILED || madvise(a, MR_LEN, MADV_NOHUGEPAGE)) {
		tor_terr(K_MREMAP, "mmap");
		_exit(1);
	}
	/*
	 * mlock() first: it faults every page in, and a page faulted in a
	 * VM_LOCKED VMA is mlocked from birth (its first LRU is the
	 * unevictable one), so compaction (compact_unevictable_allowed=0)
	 * never takes it. Written first and mlocked after, the pages sat on
	 * the ordinary LRU meanwhile: a compact_memory write isolated some,
	 * mlock() did not wait for their migration, and the queriers saw
	 * migration entries after tor_publish() (arm64 16K: 32 MiB to write
	 * under TCG, 2 runs in 8; set_migration_pte traced to compact_node()).
	 */
	if (mlock(a, MR_LEN)) {
		tor_terr(K_MREMAP, "mlock");
		_exit(1);
	}
	tor_touch(a, MR_LEN);
	tor_publish(K_MREMAP, at, at + MR_SPAN);
	while (tor_running()) {
		char *to = (char *)(uintptr_t)(at + ((i & 1) ? 0 : 2 * HUGE));
		char *b = mremap(a, MR_LEN, MR_LEN, MREMAP_MAYMOVE | MREMAP_FIXED, to);

		if (b == MAP_FAILED) {
			tor_terr(K_MREMAP, "mremap");
			_exit(1);
		}
		a = b;
		atomic_fetch_add(&tor_sh->mr_moves, 1);
		atomic_fetch_add(&tor_sh->ops[K_MREMAP], 1);
		usleep(i & 4 ? 0 : 5000);
		i++;
	}
	_exit(0);
}

void tor_t_ksm(void)
{
	const size_t len = 256 * PG;
	char *a = tor_map_at(AREA(K_KSM), len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1);
	unsigned long i = 0;
	struct rl_rng r = { getpid() };

	if (a == MAP_FAILED) {
		tor_terr(K_KSM, "mmap");
		_exit(1);
	}
	madvise(a, len, MADV_NOHUGEPAGE);
	memset(a, 0x42, len);
	if (madvise(a, len, MADV_MERGEABLE)) {
		tor_terr(K_KSM, "madvise(MADV_MERGEABLE)");
		_exit(1);
	}
	tor_publish(K_KSM, (uintptr_t)a, (uintptr_t)a + len);
	while (tor_running()) {
		long long s = tor_read_num("/sys/kernel/mm/ksm/pages_sharing");

		if (s > (long long)atomic_load(&tor_sh->ksm_max))
			atomic_store(&tor_sh->ksm_max, s);
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
		atomic_fetch_add(&tor_sh->ops[K_KSM], 1);
		usleep(50000);
		i++;
	}
	_exit(0);
}
