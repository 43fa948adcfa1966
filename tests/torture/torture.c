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
#include "torture.h"

TAP_SHARED_STATE;

/* ---- the harness ---- */

/*
 * Pages compaction migrated, from the migrate:mm_migrate_pages trace event:
 * the evidence where /proc/vmstat has no event counters (the debug kernel).
 * The compact target's own pages may all sit above where compaction's two
 * scanners meet (a fresh zone hands out its highest frames first), so that
 * none of them moves in a run; the event counts every page those writes
 * migrated, whoever owned it.
 */
#define TOR_TRACE "/sys/kernel/tracing"
#define TOR_INST TOR_TRACE "/instances/tor-torture"	/* a trace buffer of our own */

static bool compaction_trace_start(void)
{
	if (access(TOR_TRACE "/instances", F_OK) &&
	    mount("tracefs", TOR_TRACE, "tracefs", 0, NULL)) {
		printf("# no tracefs at %s: %s\n", TOR_TRACE, strerror(errno));
		return false;
	}
	if (mkdir(TOR_INST, 0700) && errno != EEXIST) {
		printf("# %s: %s\n", TOR_INST, strerror(errno));
		return false;
	}
	if (tor_write_file(TOR_INST "/events/migrate/mm_migrate_pages/enable", "1")) {
		printf("# no migrate:mm_migrate_pages event: %s\n", strerror(errno));
		rmdir(TOR_INST);
		return false;
	}
	return true;
}

/*
 * nr_succeeded of the reason=compaction events that task pid (the compact
 * target, in its compact_memory writes) logged, not kcompactd's or an
 * allocation's; -1 when unreadable. Removes the trace buffer.
 */
static long long compaction_trace_pages(pid_t pid)
{
	FILE *f = fopen(TOR_INST "/trace", "r");
	char line[512], task[64], tail[24];
	long long sum = 0, n;
	const char *v;
	size_t tl;

	if (!f) {
		rmdir(TOR_INST);
		return -1;
	}
	tl = (size_t)snprintf(tail, sizeof(tail), "-%d", (int)pid);
	while (pid > 0 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %63s", task) != 1 || strlen(task) <= tl ||
		    strcmp(task + strlen(task) - tl, tail) ||
		    !strstr(line, " mm_migrate_pages: ") || !strstr(line, "reason=compaction"))
			continue;
		v = strstr(line, "nr_succeeded=");
		if (v && sscanf(v, "nr_succeeded=%lld", &n) == 1)
			sum += n;
	}
	fclose(f);
	tor_write_file(TOR_INST "/events/migrate/mm_migrate_pages/enable", "0");
	if (rmdir(TOR_INST))
		printf("# rmdir %s: %s\n", TOR_INST, strerror(errno));
	return sum;
}

static int mem_nodes(int *nodes, int max)
{
	char b[128], *p = b;
	int n = 0;

	if (tor_read_file("/sys/devices/system/node/has_memory", b, sizeof(b)))
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
	double end = tor_now() + secs;

	for (;;) {
		pid_t r = waitpid(pid, st, WNOHANG);

		if (r == pid)
			return true;
		if (r < 0 || tor_now() > end)
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
		if (atoi(de->d_name) > 0 && !tor_read_file(path, comm, sizeof(comm)) &&
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

unsigned long tor_pg = 4096, tor_huge = 2UL << 20;

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
	bool hung = false, thp, ksm, hugetlb, ctrace = false;
	long long cmigr = -1;	/* compaction's pages from its trace event (no_ev) */
	struct utsname u;
	char b[128];

	tor_pg = (unsigned long)sysconf(_SC_PAGESIZE);
	{
		FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "re");
		unsigned long v = 0;

		if (f && fscanf(f, "%lu", &v) == 1 && v > tor_pg)
			tor_huge = v;
		else
			tor_huge = tor_pg * tor_pg / 8;
		if (f)
			fclose(f);
	}
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
	tor_sh = sl_shared(sizeof(*tor_sh));
	tor_ht_gen = sl_shared(2 * sizeof(*tor_ht_gen));
	tor_ht_acked = tor_ht_gen + 1;
	tor_sh->nnodes = mem_nodes(tor_sh->nodes, 8);
	swap_device(tor_sh->swapdev, sizeof(tor_sh->swapdev));
	printf("# seed %" PRIu64 ", %lld s, kernel %s, %d NUMA node(s) with memory, swap %s\n",
	       seed, dur, u.release, tor_sh->nnodes, tor_sh->swapdev[0] ? tor_sh->swapdev : "none");

	/* the kernel's side of the mechanisms, as fast as it goes */
	/*
	 * THP "madvise": only MADV_HUGEPAGE areas fault THPs or are scanned
	 * by khugepaged (the khugepaged target's MADV_COLLAPSE area is not)
	 */
	thp = !tor_read_file("/sys/kernel/mm/transparent_hugepage/enabled", b, sizeof(b));
	if (thp && !strstr(b, "[madvise]") &&
	    !tor_knob_set("/sys/kernel/mm/transparent_hugepage/enabled", "madvise"))
		tor_terr(K_KHUGEPAGED, "THP enabled=madvise");
	tor_kh_wait = dur / 3 < 3 ? 3 : dur / 3 > 10 ? 10 : dur / 3;
	/* MADV_COLLAPSE: 6.1+ (before, EINVAL like many of its failures) */
	{
		int maj = 0, min = 0;

		sscanf(u.release, "%d.%d", &maj, &min);
		tor_sh->collapse_na = maj < 6 || (maj == 6 && min < 1);
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
	tor_knob_set("/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs", "0");
	tor_knob_set("/sys/kernel/mm/transparent_hugepage/khugepaged/alloc_sleep_millisecs", "0");
	tor_knob_set("/sys/kernel/mm/transparent_hugepage/khugepaged/pages_to_scan", "4096");
	ksm = tor_knob_set("/sys/kernel/mm/ksm/run", "1");
	tor_knob_set("/sys/kernel/mm/ksm/sleep_millisecs", "0");
	tor_knob_set("/sys/kernel/mm/ksm/pages_to_scan", "1000");
	/* nobody but the numa target moves its pages between nodes */
	tor_knob_set("/proc/sys/kernel/numa_balancing", "0");
	/* compaction leaves mlocked pages (numa, mremap) where they are */
	tor_knob_set("/proc/sys/vm/compact_unevictable_allowed", "0");
	if (tor_vmstat("compact_migrate_scanned") < 0)
		ctrace = compaction_trace_start();
	if (tor_read_num("/proc/sys/vm/nr_hugepages") < 16)
		tor_knob_set("/proc/sys/vm/nr_hugepages", "16");
	hpfd = memfd_create("tor-hugetlb", MFD_HUGETLB);
	hugetlb = hpfd >= 0 && !ftruncate(hpfd, GIB);
	suid = sl_suid_copy();
	if (!suid)
		printf("# no setuid copy of this program: %s\n", strerror(errno));

	v0_collapsed = tor_read_num("/sys/kernel/mm/transparent_hugepage/khugepaged/pages_collapsed");
	v0_scans = tor_read_num("/sys/kernel/mm/transparent_hugepage/khugepaged/full_scans");
	v0_split = tor_vmstat("thp_split_pmd");
	v0_cscan = tor_vmstat("compact_migrate_scanned");
	v0_lazy = tor_vmstat("pglazyfreed");
	v0_out = tor_vmstat("pswpout");
	v0_in = tor_vmstat("pswpin");
	v0_migr = tor_vmstat("pgmigrate_success");

	for (int k = 0; k < NK; k++) {
		pid_t p;

		if (k == K_FORK_CHILD || ((k == K_HT_OWNER || k == K_HT_SHARER) && !hugetlb) ||
		    (k == K_EXEC && !suid) || (k == K_NUMA && tor_sh->nnodes < 2) ||
		    (k == K_KSM && !ksm))
			continue;
		p = fork();
		if (p < 0) {
			deaths++;
			printf("# %s: fork: %s\n", tor_kname[k], strerror(errno));
			continue;
		}
		if (p)
			tp[k] = p;
		else
			switch (k) {
			case K_KHUGEPAGED: tor_t_khugepaged(); break;
			case K_SPLIT: tor_t_split(); break;
			case K_COMPACT: tor_t_compact(); break;
			case K_NUMA: tor_t_numa(); break;
			case K_MREMAP: tor_t_mremap(); break;
			case K_KSM: tor_t_ksm(); break;
			case K_UFFD: tor_t_uffd(); break;
			case K_FREE: tor_t_free(); break;
			case K_SWAP: tor_t_swap(); break;
			case K_HT_OWNER: tor_t_ht_owner(hpfd); break;
			case K_HT_SHARER: tor_t_ht_sharer(hpfd); break;
			case K_FORK: tor_t_fork(); break;
			case K_EXEC: tor_t_exec(suid); break;
			}
	}
	for (int i = 0; i < NQ; i++) {
		qp[i] = fork();
		if (!qp[i])
			tor_querier(i, seed + 77 * i + 5);
		if (qp[i] < 0) {
			deaths++;
			qp[i] = 0;
		}
	}
	t0 = tor_now();
	stalled = t0;
	while (tor_now() - t0 < dur) {
		unsigned long alive = 0;

		for (int i = 0; i < NQ; i++)
			alive += atomic_load(&tor_sh->q[i].alive);
		if (alive != last_alive) {
			last_alive = alive;
			stalled = tor_now();
		} else if (tor_now() - stalled > gap) {
			gap = tor_now() - stalled;
			if (gap > HANG_S) {
				printf("# torture: no query finished for %d s (a hang)\n", HANG_S);
				hung = true;
				break;
			}
		}
		usleep(50000);
	}
	/* queriers first (a target must not leave under a query), then targets */
	atomic_store(&tor_sh->stop, 1);
	deadline = tor_now() + (hung ? 5 : STOP_S);
	for (int i = 0; i < NQ; i++) {
		int sent = 0;

		if (!qp[i])
			continue;
		if (!reap(qp[i], &st, deadline - tor_now())) {
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
	atomic_store(&tor_sh->stop_actors, 1);
	deadline = tor_now() + STOP_S;
	for (int k = 0; k < NK; k++) {
		if (!tp[k])
			continue;
		if (!reap(tp[k], &st, deadline - tor_now())) {
			printf("# target %s (pid %d) still running %d s after the stop\n",
			       tor_kname[k],
			       tp[k], STOP_S);
			kill(tp[k], SIGKILL);
			reap(tp[k], &st, 10);
			deaths++;
			continue;
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			deaths++;
			printf("# target %s (pid %d) %s\n", tor_kname[k], tp[k],
			       how(st, b, sizeof(b)));
		}
	}
	sl_suid_remove();
	if (tor_sh->swapdev[0] && !strstr((tor_read_file("/proc/swaps", b, sizeof(b)), b), "/"))
		swapon(tor_sh->swapdev, 0);	/* left off by a swapoff that was cut short */

#define DELTA(v0, tor_now) ((v0) < 0 ? -1 : (tor_now) - (v0))
	long long collapsed = DELTA(v0_collapsed,
		tor_read_num("/sys/kernel/mm/transparent_hugepage/khugepaged/pages_collapsed"));
	long long scans = DELTA(v0_scans,
		tor_read_num("/sys/kernel/mm/transparent_hugepage/khugepaged/full_scans"));
	long long split = DELTA(v0_split, tor_vmstat("thp_split_pmd"));
	long long cscan = DELTA(v0_cscan, tor_vmstat("compact_migrate_scanned"));
	long long lazy = DELTA(v0_lazy, tor_vmstat("pglazyfreed"));
	long long out = DELTA(v0_out, tor_vmstat("pswpout"));
	long long in = DELTA(v0_in, tor_vmstat("pswpin"));
	long long migr = DELTA(v0_migr, tor_vmstat("pgmigrate_success"));

	/* read (and removed) whenever it was started, no_ev or not */
	if (ctrace)
		cmigr = compaction_trace_pages(tp[K_COMPACT]);
	/* no vmstat event counters (-1): the targets' own evidence */
	bool no_ev = split < 0 && cscan < 0 && lazy < 0 && out < 0;

	if (no_ev) {
		printf("# no vmstat event counters (CONFIG_VM_EVENT_COUNTERS): split, compaction, "
		       "MADV_FREE, swap judged by the targets' smaps and pagemap\n");
		split = tor_sh->e_split;
		cscan = tor_sh->e_compact;
		lazy = tor_sh->e_lazy;
		out = tor_sh->e_out;
		in = tor_sh->e_in;
	}
	printf("# targets saw: %lu PMDs split, %lu pages moved by compaction, %lu lazily freed, "
	       "%lu swapped out, %lu in\n", (unsigned long)tor_sh->e_split,
	       (unsigned long)tor_sh->e_compact, (unsigned long)tor_sh->e_lazy, (unsigned long)tor_sh->e_out,
	       (unsigned long)tor_sh->e_in);
	tor_knobs_restore();
	if (khpid > 0 && setpriority(PRIO_PROCESS, khpid, khnice))
		printf("# restore khugepaged's nice %d: %s\n", khnice, strerror(errno));
	for (int i = 0; i < NQ; i++) {
		q += tor_sh->q[i].queries;
		esrch += tor_sh->q[i].esrch;
		errors += tor_sh->q[i].errors;
		printf("# querier %d (%s, %s): %lu queries, %lu ESRCH, %lu errors\n", i,
		       i & 2 ? "netlink" : "proc", i & 1 ? "pages" : "runs",
		       (unsigned long)tor_sh->q[i].queries, (unsigned long)tor_sh->q[i].esrch,
		       (unsigned long)tor_sh->q[i].errors);
	}
	for (int k = 0; k < NK; k++)
		printf("# %-14s %lu operations, %lu queries, %lu ESRCH\n", tor_kname[k],
		       (unsigned long)tor_sh->ops[k], (unsigned long)tor_sh->kq[k],
		       (unsigned long)tor_sh->kesrch[k]);
	printf("# kernel%s: %lld pages collapsed by khugepaged, %lld PMDs split, %lld pages "
	       "%s by compaction, %lld migrated, %lld lazily freed, %lld swapped out, %lld in\n",
	       no_ev ? " (split to swap: the targets' evidence)" : "", collapsed, split, cscan,
	       no_ev ? "moved" : "scanned", migr, lazy, out, in);
	printf("# torture: %.0f s, %lu queries, %lu ESRCH, %lu errors\n", tor_now() - t0, q, esrch,
	       errors);

	tap_ok(q >= 10 * NQ, "torture: %d queriers (proc and netlink, runs and pages) answered "
	       "%lu queries", NQ, q);
	tap_ok(errors == 0, "torture: every answer well formed, every error an explained ESRCH "
	       "or EAGAIN (%lu ESRCH: %lu of fork children, %lu of exec children, %lu of others; "
	       "%lu EAGAIN of exec children in their execve(), over netlink; %lu errors)",
	       esrch, (unsigned long)tor_sh->kesrch[K_FORK_CHILD], (unsigned long)tor_sh->kesrch[K_EXEC],
	       esrch - tor_sh->kesrch[K_FORK_CHILD] - tor_sh->kesrch[K_EXEC],
	       (unsigned long)tor_sh->exec_eagain, errors);
	tap_ok(!hung, "torture: no hang (longest wait for a query %.0f s, limit %d s)", gap,
	       HANG_S);
	tap_ok(!deaths && !tor_sh->target_errs,
	       "torture: every target and querier ran to the end and "
	       "exited 0, no target operation failed (%d ended badly, %lu failed operations)",
	       deaths, (unsigned long)tor_sh->target_errs);

	/* content */
	if (tor_sh->nnodes < 2) {
		tap_skip("numa: node of each page as move_pages(2) says", "one NUMA node "
			 "(boot with scripts/vm --numa 2)");
		tap_skip("numa: pages moved between nodes", "one NUMA node");
	} else {
		tap_ok(!tor_sh->c_bad[K_NUMA] && tor_sh->c_pages[K_NUMA] > 0,
		       "numa: every page present, anon, 4K, on the node move_pages(2) gives (%lu "
		       "answers, %lu pages judged, %lu wrong; %lu not judged: a move under way)",
		       (unsigned long)tor_sh->c_answers[K_NUMA], (unsigned long)tor_sh->c_pages[K_NUMA],
		       (unsigned long)tor_sh->c_bad[K_NUMA], (unsigned long)tor_sh->c_unjudged[K_NUMA]);
		char all[48] = "no pgmigrate_success in /proc/vmstat";

		if (migr >= 0)
			snprintf(all, sizeof(all), "%lld pages migrated in all", migr);
		tap_ok(tor_sh->numa_moved > 0,
		       "numa: pages moved between nodes by move_pages, mbind, "
		       "migrate_pages (%lu moves in %lu rounds; %s)",
		       (unsigned long)tor_sh->numa_moved, (unsigned long)tor_sh->ops[K_NUMA], all);
	}
	tap_ok(!tor_sh->c_bad[K_MREMAP] && tor_sh->c_pages[K_MREMAP] > 0 && tor_sh->mr_moves > 0,
	       "mremap: every page of the two slots present (anon, 4K) or unmapped (%lu moves; "
	       "%lu answers, %lu pages, %lu wrong)", (unsigned long)tor_sh->mr_moves,
	       (unsigned long)tor_sh->c_answers[K_MREMAP], (unsigned long)tor_sh->c_pages[K_MREMAP],
	       (unsigned long)tor_sh->c_bad[K_MREMAP]);
	if (!hugetlb) {
		tap_skip("hugetlb: shared PMD tables", "no hugetlb memfd of 1 GiB");
	} else {
		unsigned long p = tor_sh->c_pages[K_HT_OWNER] + tor_sh->c_pages[K_HT_SHARER];
		unsigned long bad = tor_sh->c_bad[K_HT_OWNER] + tor_sh->c_bad[K_HT_SHARER];

		tap_ok(!bad && p > 0 && tor_sh->ht_cycles > 0 && tor_sh->ht_splits > 0,
		       "hugetlb: PMD tables shared, VMA split at 2M inside the shared range "
		       "(mprotect, munmap), unshared by truncate and freed; every present page "
		       "hugetlb 2M (%lu cycles, %lu splits; %lu pages, %lu wrong)",
		       (unsigned long)tor_sh->ht_cycles, (unsigned long)tor_sh->ht_splits, p, bad);
	}

	/* each mechanism ran */
	if (!thp) {
		tap_skip("khugepaged collapses", "no THP");
		tap_skip("THP splits", "no THP");
	} else {
		tap_ok(collapsed > 0 && tor_sh->kh_seen > 0, "khugepaged: collapsed the target's "
		       "MADV_HUGEPAGE area (all PMD-mapped in smaps) %lu times (%lu waits of %.0f s "
		       "ran out); %lld pages collapsed, %lld full scans%s",
		       (unsigned long)tor_sh->kh_seen, (unsigned long)tor_sh->kh_timeouts, tor_kh_wait,
		       collapsed, scans, khpid > 0 ? "" : " (khugepaged not reniced)");
		if (tor_sh->collapse_na)
			tap_na("MADV_COLLAPSE", "not in this kernel (6.1+)");
		else
			tap_ok(tor_sh->collapse_ok > 0, "MADV_COLLAPSE: %lu collapses (%lu failed)",
			       (unsigned long)tor_sh->collapse_ok, (unsigned long)tor_sh->collapse_err);
		tap_ok(split > 0, "split: %lld PMDs split by partial mprotect/munmap/MADV_DONTNEED "
		       "(%lu rounds)", split, (unsigned long)tor_sh->ops[K_SPLIT]);
	}
	if (!no_ev)
		tap_ok(tor_sh->compact_writes > 0 && cscan > 0,
		       "compaction: compact_memory written %lu times, %lld pages scanned",
		       (unsigned long)tor_sh->compact_writes, cscan);
	else
		tap_ok(tor_sh->compact_writes > 0 && (cscan > 0 || cmigr > 0),
		       "compaction: compact_memory written %lu times, %lld pages of the target "
		       "moved, %lld pages migrated by those writes (mm_migrate_pages events%s)",
		       (unsigned long)tor_sh->compact_writes, cscan, cmigr,
		       ctrace ? "" : ": no tracefs");
	if (!ksm)
		tap_skip("ksm: pages merged", "no /sys/kernel/mm/ksm");
	else
		tap_ok(tor_sh->ksm_max > 0,
		       "ksm: pages merged and unmerged (up to %lu pages sharing, "
		       "%lu rounds)", (unsigned long)tor_sh->ksm_max, (unsigned long)tor_sh->ops[K_KSM]);
	tap_ok(tor_sh->uffd_missing > 0 && (tor_sh->uffd_wp > 0 || tor_sh->uffd_nowp),
	       "userfaultfd: %lu missing-page and %lu "
	       "write-protect faults resolved%s", (unsigned long)tor_sh->uffd_missing,
	       (unsigned long)tor_sh->uffd_wp,
	       tor_sh->uffd_nowp ? " (no uffd-wp on this kernel: missing faults only)" : "");
	if (tor_sh->uffd_nowp)
		tap_na("uffd-wp PTE markers on shmem",
		       "no uffd-wp at all on this kernel (UFFDIO_REGISTER_MODE_WP: EINVAL; arm64 before 6.10)");
	else if (tor_sh->uffd_na)
		tap_na("uffd-wp PTE markers on shmem", "no UFFD_FEATURE_WP_HUGETLBFS_SHMEM (6.0+)");
	else
		tap_ok(tor_sh->uffd_markers > 0, "uffd-wp PTE markers on zapped shmem pages: %lu seen in "
		       "pagemap", (unsigned long)tor_sh->uffd_markers);
	tap_ok(lazy > 0, "MADV_FREE: %lld pages lazily freed and reclaimed (%lu rounds)", lazy,
	       (unsigned long)tor_sh->ops[K_FREE]);
	if (!tor_sh->swapdev[0])
		tap_skip("swap: out, in, swapoff", "no swap device");
	else
		tap_ok(out > 0 && in > 0 && tor_sh->swapoffs > 0,
		       "swap: %lld pages out, %lld in, %lu "
		       "swapoff/swapon cycles (%lu swapoff failed)", out, in,
		       (unsigned long)tor_sh->swapoffs, (unsigned long)tor_sh->swapoff_err);
	tap_ok(tor_sh->forks > 0 && tor_sh->kq[K_FORK_CHILD] > 0,
	       "fork: %lu THPs forked and COWed, "
	       "children queried %lu times", (unsigned long)tor_sh->forks,
	       (unsigned long)tor_sh->kq[K_FORK_CHILD]);
	if (!suid)
		tap_skip("exec: setuid exec mid-query", "no setuid copy");
	else
		tap_ok(tor_sh->execs > 0 && tor_sh->kq[K_EXEC] > 0,
		       "exec: %lu setuid execs, queried %lu "
		       "times", (unsigned long)tor_sh->execs, (unsigned long)tor_sh->kq[K_EXEC]);
	return tap_done();
}
