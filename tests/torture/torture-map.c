// SPDX-License-Identifier: GPL-2.0
/*
 * tor-torture: the targets that map, fault and unmap: userfaultfd, free
 * (MADV_FREE), swap, hugetlb PMD sharing, fork and COW, exec.
 */
#include "torture.h"

/* ---- userfaultfd ---- */
#define UF_PAGES 64
static int uffd = -1;
static char uf_src[PG_MAX];

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
				tor_terr(K_UFFD, "UFFDIO_WRITEPROTECT (resolve)");
			atomic_fetch_add(&tor_sh->uffd_wp, 1);
		} else {
			struct uffdio_copy c = { .dst = m.arg.pagefault.address & ~(PG - 1),
						 .src = (uintptr_t)uf_src, .len = PG };

			if (ioctl(uffd, UFFDIO_COPY, &c) && errno != EEXIST)
				tor_terr(K_UFFD, "UFFDIO_COPY");
			atomic_fetch_add(&tor_sh->uffd_missing, 1);
		}
	}
	return NULL;
}

void tor_t_uffd(void)
{
	uint64_t at = AREA(K_UFFD);
	char *an = tor_map_at(at, UF_PAGES * PG, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS,
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
		tor_terr(K_UFFD, "mmap/userfaultfd/memfd");
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
		atomic_store(&tor_sh->uffd_na, 1);
		if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
			tor_terr(K_UFFD, "UFFDIO_API");
			_exit(1);
		}
	}
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		if (errno != EINVAL) {
			tor_terr(K_UFFD, "UFFDIO_REGISTER (anonymous, missing and wp)");
			_exit(1);
		}
		/* no uffd-wp at all (arm64 before 6.10): missing faults only */
		reg.mode = UFFDIO_REGISTER_MODE_MISSING;
		shmem_wp = false;
		atomic_store(&tor_sh->uffd_na, 1);
		atomic_store(&tor_sh->uffd_nowp, 1);
		if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
			tor_terr(K_UFFD, "UFFDIO_REGISTER (anonymous, missing)");
			_exit(1);
		}
	}
	if (shmem_wp) {
		shm = ftruncate(mfd, UF_PAGES * PG) ? MAP_FAILED :
		      tor_map_at(at + UF_PAGES * PG, UF_PAGES * PG, PROT_READ | PROT_WRITE,
				 MAP_SHARED,
				 mfd);
		reg.range.start = at + UF_PAGES * PG;
		reg.mode = UFFDIO_REGISTER_MODE_WP;
		if (shm == MAP_FAILED || (tor_touch(shm, UF_PAGES * PG), ioctl(uffd, UFFDIO_REGISTER,
									       &reg))) {
			tor_terr(K_UFFD, "shmem: mmap/UFFDIO_REGISTER(WP)");
			_exit(1);
		}
	}
	if (pthread_create(&th, NULL, uf_handler, NULL)) {
		tor_terr(K_UFFD, "pthread_create");
		_exit(1);
	}
	tor_publish(K_UFFD, at, at + 2 * UF_PAGES * PG);
	while (tor_running()) {
		struct uffdio_writeprotect wp = { .range = { at, UF_PAGES * PG },
						  .mode = UFFDIO_WRITEPROTECT_MODE_WP };

		/* missing faults, resolved by UFFDIO_COPY */
		madvise(an, UF_PAGES * PG, MADV_DONTNEED);
		tor_touch(an, UF_PAGES * PG);
		/* write-protect faults, resolved by un-protecting */
		if (!tor_sh->uffd_nowp && ioctl(uffd, UFFDIO_WRITEPROTECT, &wp))
			tor_terr(K_UFFD, "UFFDIO_WRITEPROTECT (anon)");
		usleep(5000);
		tor_touch(an, UF_PAGES * PG / 2);
		if (shmem_wp) {
			uint64_t e[UF_PAGES];

			tor_touch(shm, UF_PAGES * PG);
			wp.range.start = at + UF_PAGES * PG;
			if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp))
				tor_terr(K_UFFD, "UFFDIO_WRITEPROTECT (shmem)");
			/* zapped, write-protected: PTE markers keep the wp bit */
			madvise(shm, UF_PAGES * PG, MADV_DONTNEED);
			if (pread(pm, e, sizeof(e), (at + UF_PAGES * PG) / PG * 8) == sizeof(e))
				for (int k = 0; k < UF_PAGES; k++)
					if (!(e[k] & PM_PRESENT) && (e[k] & PM_UFFD_WP))
						atomic_fetch_add(&tor_sh->uffd_markers, 1);
			usleep(5000);
			tor_touch(shm, UF_PAGES * PG / 2);	/* wp faults on the markers */
		}
		atomic_fetch_add(&tor_sh->ops[K_UFFD], 1);
		usleep(5000);
	}
	_exit(0);
}

void tor_t_free(void)
{
	const size_t len = 4UL << 20;
	static uint64_t pm[(4UL << 20) / PG_MIN];
	char *a = tor_map_at(AREA(K_FREE), len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1);
	unsigned long i = 0;

	if (a == MAP_FAILED) {
		tor_terr(K_FREE, "mmap");
		_exit(1);
	}
	madvise(a, len, i & 1 ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	tor_publish(K_FREE, (uintptr_t)a, (uintptr_t)a + len);
	while (tor_running()) {
		tor_touch(a, len);
		if (madvise(a, len, MADV_FREE))
			tor_terr(K_FREE, "madvise(MADV_FREE)");
		usleep(2000);
		if (i & 1)
			tor_touch(a, len / 2);	/* written again: not freed after all */
		madvise(a, len, MADV_PAGEOUT);	/* reclaim: the clean ones go */
		/* all written before MADV_FREE: neither present nor swap is freed */
		if (!mt_pagemap(getpid(), (uintptr_t)a, (uintptr_t)a + len, pm))
			for (size_t k = 0; k < len / PG; k++)
				if (!(pm[k] & (PM_PRESENT | PM_SWAP)))
					atomic_fetch_add(&tor_sh->e_lazy, 1);
		atomic_fetch_add(&tor_sh->ops[K_FREE], 1);
		usleep(10000);
		i++;
	}
	_exit(0);
}

void tor_t_swap(void)
{
	const size_t len = 4UL << 20;
	static uint64_t pm[(4UL << 20) / PG_MIN], pm2[(4UL << 20) / PG_MIN];
	char *a = tor_map_at(AREA(K_SWAP), len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1);
	double last_off = tor_now();
	volatile char sink = 0;

	if (a == MAP_FAILED) {
		tor_terr(K_SWAP, "mmap");
		_exit(1);
	}
	madvise(a, len, MADV_NOHUGEPAGE);
	tor_publish(K_SWAP, (uintptr_t)a, (uintptr_t)a + len);
	while (tor_running()) {
		bool pm_ok;

		tor_touch(a, len);
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
				atomic_fetch_add(&tor_sh->e_out, 1);
				if (!(k & 1) && (pm2[k] & PM_PRESENT))
					atomic_fetch_add(&tor_sh->e_in, 1);
			}
		if (tor_sh->swapdev[0] && tor_now() - last_off > 2) {
			madvise(a, len, MADV_PAGEOUT);
			/* swapoff brings every swapped page in, under the walks */
			if (swapoff(tor_sh->swapdev)) {
				atomic_fetch_add(&tor_sh->swapoff_err, 1);
			} else {
				atomic_fetch_add(&tor_sh->swapoffs, 1);
				if (swapon(tor_sh->swapdev, 0))
					tor_terr(K_SWAP, "swapon");
			}
			last_off = tor_now();
		}
		atomic_fetch_add(&tor_sh->ops[K_SWAP], 1);
	}
	(void)sink;
	_exit(0);
}

/* ---- hugetlb: shared PMD tables (as safety-race) ---- */
#define HT_OWNER_AT AREA(K_HT_OWNER)
#define HT_SHARER_AT AREA(K_HT_SHARER)
_Atomic unsigned long *tor_ht_gen, *tor_ht_acked;

void tor_t_ht_sharer(int fd)
{
	volatile char *p = tor_map_at(HT_SHARER_AT, GIB, PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_NORESERVE, fd);

	if (p == MAP_FAILED) {
		tor_terr(K_HT_SHARER, "mmap");
		_exit(1);
	}
	tor_publish(K_HT_SHARER, HT_SHARER_AT, HT_SHARER_AT + GIB);
	while (tor_running()) {
		unsigned long g = atomic_load(tor_ht_gen);

		if (atomic_load(tor_ht_acked) != g) {
			p[0] = 1;	/* shares the owner's PMD table */
			p[HUGE] = 1;
			atomic_store(tor_ht_acked, g);
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

void tor_t_ht_owner(int fd)
{
	unsigned long cycle = 0;

	tor_publish(K_HT_OWNER, HT_OWNER_AT, HT_OWNER_AT + GIB);
	while (tor_running()) {
		volatile char *p = tor_map_at(HT_OWNER_AT, GIB, PROT_READ | PROT_WRITE,
					      MAP_SHARED | MAP_NORESERVE, fd);
		double t0 = tor_now();

		if (p == MAP_FAILED || ftruncate(fd, GIB)) {
			tor_terr(K_HT_OWNER, "mmap/ftruncate");
			_exit(1);
		}
		p[0] = 1;
		p[HUGE] = 1;
		atomic_fetch_add(tor_ht_gen, 1);
		while (atomic_load(tor_ht_acked) != atomic_load(tor_ht_gen) && tor_running() && tor_now() - t0 < 5)
			usleep(200);
		/*
		 * split the VMA at 2M boundaries inside the shared 1G range:
		 * __split_vma() -> hugetlb_split() unshares the owner's PMD
		 * table (the path of Debian 6.1.192's unlocked hugetlb_split())
		 */
		p[3 * HUGE] = 1;
		if (cycle & 1 ? mprotect((void *)(p + HUGE), HUGE, PROT_READ) :
		    munmap((void *)(p + 3 * HUGE), HUGE))
			tor_terr(K_HT_OWNER, cycle & 1 ? "mprotect (split)" : "munmap (split)");
		else if (vmas_in(HT_OWNER_AT, HT_OWNER_AT + GIB) < 2)
			tor_terr(K_HT_OWNER, "the hugetlb VMA is not split");
		else
			atomic_fetch_add(&tor_sh->ht_splits, 1);
		usleep(rand() % 20000);
		if (cycle & 1 && mprotect((void *)(p + HUGE), HUGE, PROT_READ | PROT_WRITE))
			tor_terr(K_HT_OWNER, "mprotect (merge)");
		cycle++;
		if (ftruncate(fd, 0))	/* unshares the sharer's table */
			tor_terr(K_HT_OWNER, "ftruncate");
		munmap((void *)p, GIB);	/* and frees it */
		atomic_fetch_add(&tor_sh->ht_cycles, 1);
		atomic_fetch_add(&tor_sh->ops[K_HT_OWNER], 1);
		usleep(rand() % 5000);
	}
	_exit(0);
}

/* ---- fork a THP, COW its subpages ---- */
void tor_t_fork(void)
{
	uint64_t at = AREA(K_FORK);

	tor_publish(K_FORK, at, at + HUGE);
	while (tor_running()) {
		char *a = tor_map_at(at, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				     -1);
		pid_t c;
		int st;

		if (a == MAP_FAILED) {
			tor_terr(K_FORK, "mmap");
			_exit(1);
		}
		madvise(a, HUGE, MADV_HUGEPAGE);
		tor_touch(a, HUGE);
		c = fork();
		if (c == 0) {
			struct slot *sl = &tor_sh->slot[K_FORK_CHILD];

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
			tor_terr(K_FORK, "fork");
			_exit(1);
		}
		for (size_t o = 8 * PG; o < HUGE; o += 32 * PG)
			a[o] = 9;
		if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)) {
			tor_report("fork: child %d ended with status 0x%x", c, st);
			atomic_fetch_add(&tor_sh->target_errs, 1);
		}
		munmap(a, HUGE);
		atomic_fetch_add(&tor_sh->forks, 1);
		atomic_fetch_add(&tor_sh->ops[K_FORK], 1);
	}
	_exit(0);
}

/* ---- exec a setuid binary mid-query ---- */
void tor_t_exec(const char *suid)
{
	char *m;

	sl_drop();
	m = tor_map_at(AREA(K_EXEC), MARK_PAGES * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1);
	if (m == MAP_FAILED) {
		tor_terr(K_EXEC, "mmap");
		_exit(1);
	}
	tor_touch(m, MARK_PAGES * PG);
	while (tor_running()) {
		struct slot *sl = &tor_sh->slot[K_EXEC];
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
			tor_report("exec: child %d ended with status 0x%x", c, st);
			atomic_fetch_add(&tor_sh->target_errs, 1);
		}
		atomic_store(&sl->exiting, 1);
		atomic_fetch_add(&tor_sh->execs, 1);
		atomic_fetch_add(&tor_sh->ops[K_EXEC], 1);
	}
	_exit(0);
}
