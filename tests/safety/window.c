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
#include "window.h"

TAP_SHARED_STATE;

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

uint64_t win_kpage(const char *file, uint64_t pfn)
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
	win_tab = mmap(NULL, sizeof(*win_tab), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		       -1, 0);
	if (win_tab == MAP_FAILED) {
		printf("Bail out! mmap: %s\n", strerror(errno));
		return 1;
	}
	memset(win_tab, 0, sizeof(*win_tab));
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
		win_target();
		_exit(0);
	}
	ret = waitpid(target_pid, &st, WUNTRACED);
	if (ret != target_pid || !WIFSTOPPED(st) || win_tab->ready != 1) {
		tap_ok(0, "target built its regions and stopped (%s)",
		       win_tab->err[0] ? win_tab->err : "it exited");
		kill(target_pid, SIGKILL);
		if (win_tab->child > 0)
			kill(win_tab->child, SIGKILL);
		restore();
		return tap_done();
	}
	for (int i = 0; i < 50 && proc_state(win_tab->child) != 'T'; i++)
		usleep(100000);
	tap_ok(proc_state(target_pid) == 'T' && proc_state(win_tab->child) == 'T',
	       "target %d and its COW child %d stopped (%c, %c), %d regions", target_pid,
	       win_tab->child, proc_state(target_pid), proc_state(win_tab->child), win_tab->nreg);
	run_ksm(win_tab->ksm_pages);

	ret = nlr_open(&nl);
	have_nl = !ret;
	if (!tap_ok(have_nl, "netlink family %s resolved (%s)", MEMTRACE_GENL_NAME,
		    have_nl ? "ok" : strerror(-ret)))
		nl.fd = -1;

	for (int i = 0; i < win_tab->nreg; i++)
		win_test_region(&rng, &nl, have_nl, &win_tab->reg[i], nrandom);

	if (have_nl)
		nlr_close(&nl);
	kill(win_tab->child, SIGKILL);
	kill(target_pid, SIGKILL);
	waitpid(target_pid, &st, 0);
	restore();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	tap_diag("%.1f s", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return tap_done();
}
