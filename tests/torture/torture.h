/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tor-torture's internal header: what its files share. torture.c: the
 * harness and main(); torture-util.c: the shared state, reports, knobs and
 * small helpers; torture-move.c: the targets that move pages (khugepaged,
 * split, compaction, NUMA, mremap, KSM); torture-map.c: the targets that map,
 * fault and unmap (userfaultfd, free, swap, hugetlb sharing, fork, exec);
 * torture-query.c: the queriers and their content checks.
 */
#ifndef MEMTRACE_TORTURE_H
#define MEMTRACE_TORTURE_H

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
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mtlib.h"
#include "rlib.h"
#include "slib.h"
#define TAP_SHARED
#include "tap.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

/*
 * The kernel's page size and a THP's (4K and 2M, or 16K and 32M on
 * arm64-16k), set first thing in main(); static arrays are sized for the
 * smallest page (PG_MIN) or the largest (PG_MAX).
 */
extern unsigned long tor_pg, tor_huge;
#define PG tor_pg
#define HUGE tor_huge
#define PG_MIN 4096UL
#define PG_MAX 65536UL
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
	_Atomic unsigned long exec_eagain;	/* netlink: an exec child in its execve() */
	/* content: pages judged and wrong, answers judged, per kind */
	_Atomic unsigned long c_pages[NK], c_bad[NK], c_answers[NK], c_unjudged[NK];
	/* what the targets did */
	_Atomic unsigned long ops[NK];
	_Atomic unsigned long collapse_ok, collapse_err, collapse_na, kh_seen, kh_timeouts;
	_Atomic unsigned long numa_moved, mr_moves, ksm_max, uffd_missing, uffd_wp,
		uffd_markers, uffd_na, uffd_nowp, swapoffs, swapoff_err, ht_cycles, ht_splits, forks, execs,
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

/* torture-util.c */
extern const char *const tor_kname[NK];
extern struct shared *tor_sh;
void tor_report(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void tor_terr(int k, const char *what);
int tor_read_file(const char *path, char *buf, size_t n);
int tor_write_file(const char *path, const char *v);
long long tor_read_num(const char *path);
bool tor_knob_set(const char *path, const char *v);
void tor_knobs_restore(void);
long long tor_vmstat(const char *name);
double tor_now(void);
void *tor_map_at(uint64_t at, size_t len, int prot, int flags, int fd);
void tor_publish(int k, uint64_t start, uint64_t end);
bool tor_running(void);
void tor_touch(char *p, size_t len);

/* torture-move.c */
extern double tor_kh_wait;
void tor_t_khugepaged(void);
void tor_t_split(void);
void tor_t_compact(void);
long tor_sys_move_pages(int pid, unsigned long n, void **pages, const int *nodes,
			int *status, int flags);
void tor_t_numa(void);
void tor_t_mremap(void);
void tor_t_ksm(void);

/* torture-map.c */
void tor_t_uffd(void);
void tor_t_free(void);
void tor_t_swap(void);
extern _Atomic unsigned long *tor_ht_gen, *tor_ht_acked;
void tor_t_ht_sharer(int fd);
void tor_t_ht_owner(int fd);
void tor_t_fork(void);
void tor_t_exec(const char *suid);

/* torture-query.c */
void tor_querier(int qi, uint64_t seed);

#endif
