// SPDX-License-Identifier: GPL-2.0
/*
 * rel-stress: the targets, processes that keep changing their mappings while
 * the queriers walk them (a stable part each, which must never change).
 */
#include "stress.h"

/* ---- targets ---- */

/* A child of a target (case 8) ended: it writes and exits 0, nothing else. */
static void target_child(int idx, pid_t k, int st)
{
	char b[96];

	atomic_fetch_add(&stress_sh->children, 1);
	if (stress_ended_well(st, 0))
		return;
	atomic_fetch_add(&stress_sh->children_bad, 1);
	stress_report("target %d: its child %d %s", idx, k, stress_how(st, b, sizeof(b)));
}

/*
 * Set up the stable tail at t (inside the reservation, right after the
 * arena) and fill *s from /proc/self/pagemap; 0, or -1 with a report.
 */
static int stable_setup(int idx, char *t, struct stable *s)
{
	char *lk = t, *pn = t + SQ * MT_PG, *z = t + 2 * SQ * MT_PG, *rw = t + 3 * SQ * MT_PG;
	uint64_t pm[SPAGES];
	const char *what;
	int err;

	what = "mmap";
	if (mmap(lk, SQ * MT_PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0) == MAP_FAILED ||
	    mmap(pn, SQ * MT_PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		 -1, 0) == MAP_FAILED ||
	    mmap(z, SQ * MT_PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0) == MAP_FAILED ||
	    mmap(rw, SQ * MT_PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0) == MAP_FAILED)
		goto fail;
	/* 4K pages only: no THP fault, khugepaged leaves it alone */
	what = "madvise(MADV_NOHUGEPAGE)";
	if (madvise(t, SPAGES * MT_PG, MADV_NOHUGEPAGE))
		goto fail;
	memset(lk, 0x5a + idx, SQ * MT_PG);
	what = "mlock";
	if (mlock(lk, SQ * MT_PG))
		goto fail;
	for (int i = 0; i < SQ; i++)	/* read faults: the zero page */
		(void)*(volatile char *)(z + i * MT_PG);

	what = "/proc/self/pagemap";
	err = mt_pagemap(getpid(), (uintptr_t)t, (uintptr_t)t + SPAGES * MT_PG, pm);
	if (err) {
		errno = -err;
		goto fail;
	}
	s->addr = (uintptr_t)t;
	for (int i = 0; i < SPAGES; i++) {
		bool want = i < SQ || (i >= 2 * SQ && i < 3 * SQ);	/* present in pagemap */
		bool present = pm[i] >> 63 & 1;

		if (present != want || (pm[i] >> 62 & 1)) {
			stress_report("target %d: stable page %d at %p: pagemap 0x%" PRIx64 ", expected %s",
				      idx, i, (void *)(t + i * MT_PG), pm[i], want ? "present" : "none");
			return -1;
		}
		s->state[i] = i < SQ ? MEMTRACE_PRESENT : !want ? MEMTRACE_NONE : MEMTRACE_ZERO;
		s->pfn[i] = want ? pm[i] & ((1ULL << 55) - 1) : 0;
	}
	return 0;
fail:
	stress_report("target %d: stable tail: %s: %s", idx, what, strerror(errno));
	return -1;
}

void stress_target(int idx, uint64_t seed)
{
	struct rl_rng r = { seed };
	unsigned char prot[APAGES];	/* 0 none, 1 read, 3 read+write */
	double until = stress_now() + 0.2 + rl_below(&r, 2800) / 1000.0;
	struct slot *sl = &stress_sh->slot[idx];
	struct stable stab = { 0 };
	char *raw, *a;
	unsigned long ops = 0;
	pid_t k;
	int st;

	/* a 2 MiB-aligned arena and its stable tail, reserved PROT_NONE */
	raw = mmap(NULL, SPAN + mt_thp_size(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (raw == MAP_FAILED)
		_exit(2);
	a = (char *)(((uintptr_t)raw + mt_thp_size() - 1) & ~(mt_thp_size() - 1));
	memset(prot, 0, sizeof(prot));
	if (stable_setup(idx, a + ARENA, &stab)) {
		stab.addr = 0;
		atomic_fetch_add(&stress_sh->setup_fail, 1);
	} else {
		atomic_fetch_add(&stress_sh->published, 1);
	}
	/*
	 * The slot still names the previous target, marked exiting: publish
	 * the new pid first and clear the mark after, so that an ESRCH of the
	 * old pid is excused at every moment. gen is odd meanwhile: a querier
	 * takes pid, base and stable tail only from an even, unchanged gen.
	 */
	atomic_fetch_add(&sl->gen, 1);
	atomic_thread_fence(memory_order_release);
	sl->stable = stab;
	atomic_store(&sl->base, (uintptr_t)a);
	atomic_store(&sl->pid, getpid());
	atomic_store(&sl->exiting, 0);
	atomic_fetch_add(&sl->gen, 1);

	while (!atomic_load(&stress_sh->stop) && stress_now() < until) {
		unsigned long p = rl_below(&r, APAGES), n = 1 + rl_below(&r, 64);
		char *c;

		if (p + n > APAGES)
			n = APAGES - p;
		c = a + p * MT_PG;
		ops++;
		switch (rl_below(&r, 12)) {
		case 0:	/* anonymous memory */
		case 1:
			if (mmap(c, n * MT_PG, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED)
				memset(prot + p, 3, n);
			break;
		case 2:	/* shared anonymous (shmem) or a tmpfs file */
			if (stress_fd_file >= 0 && rl_chance(&r, 50)) {
				if (mmap(c, n * MT_PG, PROT_READ | PROT_WRITE,
					 (rl_chance(&r, 50) ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED,
					 stress_fd_file, 0) != MAP_FAILED)
					memset(prot + p, 3, n);
			} else if (mmap(c, n * MT_PG, PROT_READ | PROT_WRITE,
					MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
				memset(prot + p, 3, n);
			}
			break;
		case 3:	/* a THP candidate: THP-aligned (2 MiB with 4K pages) */
			p &= ~(mt_thp_size() / MT_PG - 1);
			c = a + p * MT_PG;
			if (mmap(c, mt_thp_size(), PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
				madvise(c, mt_thp_size(), MADV_HUGEPAGE);
				memset(prot + p, 3, mt_thp_size() / MT_PG);
				c[0] = 1;
			}
			break;
		case 4:	/* unmap */
			if (munmap(c, n * MT_PG) == 0) {
				/* keep the arena reserved so nothing else lands in it */
				mmap(c, n * MT_PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
				     MAP_NORESERVE, -1, 0);
				memset(prot + p, 0, n);
			}
			break;
		case 5: {	/* protection */
			int pr = rl_below(&r, 3);
			int mp = pr == 0 ? PROT_NONE : pr == 1 ? PROT_READ : PROT_READ | PROT_WRITE;
			bool mapped = true;

			for (unsigned long i = 0; i < n; i++)
				mapped &= prot[p + i] != 0;
			if (mapped && mprotect(c, n * MT_PG, mp) == 0)
				memset(prot + p, pr == 0 ? 0 : pr == 1 ? 1 : 3, n);
			break;
		}
		case 6:
			madvise(c, n * MT_PG, MADV_DONTNEED);
			break;
		case 7:
			madvise(c, n * MT_PG, MADV_PAGEOUT);
			break;
		case 8: {	/* a child writes some pages and exits */
			k = fork();
			if (!k) {
				for (unsigned long i = 0; i < APAGES; i += 1 + rl_below(&r, 64))
					if (prot[i] == 3)
						a[i * MT_PG] = 2;
				usleep(rl_below(&r, 20000));
				_exit(0);
			}
			if (k > 0)
				atomic_fetch_add(&stress_sh->forks, 1);
			break;
		}
		default:	/* touch: write or read */
			for (unsigned long i = 0; i < n; i++) {
				if (prot[p + i] == 3 && rl_chance(&r, 70))
					a[(p + i) * MT_PG + rl_below(&r, MT_PG)] = (char)i;
				else if (prot[p + i])
					(void)*(volatile char *)(a + (p + i) * MT_PG);
			}
		}
		while ((k = waitpid(-1, &st, WNOHANG)) > 0)
			target_child(idx, k, st);
	}
	while ((k = waitpid(-1, &st, 0)) > 0)
		target_child(idx, k, st);
	atomic_fetch_add(&stress_sh->target_ops, ops);
	atomic_store(&sl->exiting, 1);
	_exit(0);
}
