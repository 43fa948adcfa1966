// SPDX-License-Identifier: GPL-2.0
/*
 * bench's "every process" section: one MEMTRACE_CMD_TOP dump (raw netlink,
 * and `memtrace top --json` when /lab/memtrace is there: the CLI as a user
 * runs it) against reading every /proc/PID/smaps_rollup, as smem does
 * (readdir /proc, then each process's file, parsed). Side by side in one
 * run, over the same processes: BENCH_TOP_PROCS children, each with some
 * memory written, some read (the zero page) and a reservation never touched,
 * besides what the VM runs. smaps_rollup tells neither the zero pages nor
 * the reservations; the dump tells both. Not a timing test: the ratio is
 * reported, and the only checks are that both ran and agree on each
 * child's resident memory.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "bench.h"

#define TOP_PROCS   64
#define TOP_WRITTEN (2 * MIB)	/* each child: written */
#define TOP_READ    (1 * MIB)	/* read: the zero page */
#define TOP_NONE    (16 * MIB)	/* reserved, never touched */

struct top_results bench_top;

static pid_t kids[TOP_PROCS];

struct top_acc {
	unsigned int procs;
	uint64_t present, zero, none;	/* pages, over all processes */
	uint64_t kid_present[TOP_PROCS];
	bool kid_seen[TOP_PROCS];
};

static int top_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct top_acc *a = arg;
	struct nlattr *p, *b, *c;
	int rem, rem2, rem3;

	nlr_for_each_attr(p, (char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
			  nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, rem) {
		uint64_t counts[MEMTRACE_NSTATES_ALL] = { 0 };
		uint32_t pid = 0;

		if (nlr_type(p) != MEMTRACE_A_PROC)
			continue;
		nlr_for_each_attr(b, nlr_data(p), nlr_len(p), rem2) {
			if (nlr_type(b) == MEMTRACE_P_PID && nlr_len(b) == 4)
				memcpy(&pid, nlr_data(b), 4);
			if (nlr_type(b) != MEMTRACE_P_SUMMARY)
				continue;
			nlr_for_each_attr(c, nlr_data(b), nlr_len(b), rem3)
				if (nlr_type(c) >= 1 && nlr_type(c) <= MEMTRACE_NSTATES_ALL &&
				    nlr_len(c) == 8)
					memcpy(&counts[nlr_type(c) - 1], nlr_data(c), 8);
		}
		a->procs++;
		a->present += counts[MEMTRACE_PRESENT];
		a->zero += counts[MEMTRACE_ZERO];
		a->none += counts[MEMTRACE_NONE];
		for (int i = 0; i < TOP_PROCS; i++) {
			if (kids[i] == (pid_t)pid) {
				a->kid_seen[i] = true;
				a->kid_present[i] = counts[MEMTRACE_PRESENT];
			}
		}
	}
	return 0;
}

/* One TOP dump (cached asked for, as the CLI asks): the processes, or -1. */
static int top_dump(struct top_acc *a)
{
	static struct nlr s;
	static struct nlb b;
	struct nlr_result r;
	int err;

	memset(a, 0, sizeof(*a));
	if (!s.buf && nlr_open(&s))
		bench_die("netlink socket");
	nlb_start(&b, &s, MEMTRACE_CMD_TOP, NLM_F_DUMP);
	nlb_attr(&b, MEMTRACE_A_CACHED, NULL, 0);
	err = nlr_send(&s, &b);
	if (!err)
		err = nlr_wait(&s, b.seq, &r, top_msg, a);
	if (err || r.error)
		return -1;
	return (int)a->procs;
}

/* `memtrace top --json` (or --version: its start-up alone) into /dev/null: exit status, or -1. */
static int top_cli(const char *arg)
{
	int st;
	pid_t p = fork();

	if (!p) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0)
			dup2(fd, 1);
		if (!strcmp(arg, "top"))
			execl("/lab/memtrace", "memtrace", "top", "--json", (char *)NULL);
		else
			execl("/lab/memtrace", "memtrace", arg, (char *)NULL);
		_exit(127);
	}
	if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Rss of one smaps_rollup, parsed as smem parses it (every line): kB, or -1. */
static long rollup_rss(const char *pid, char *buf, size_t size)
{
	char path[300];
	long rss = -1;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/smaps_rollup", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;	/* a kernel thread, or gone */
	buf[n] = 0;
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char key[32];
		long v;

		if (sscanf(l, "%31[^:]: %ld", key, &v) == 2 && !strcmp(key, "Rss"))
			rss = v;
	}
	return rss;
}

/* Every process's smaps_rollup, found by readdir(/proc): processes read, or -1. */
static int rollup_all(long *kid_rss)
{
	static char buf[4096];
	struct dirent *d;
	int procs = 0;
	DIR *dir = opendir("/proc");

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		long rss;

		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		rss = rollup_rss(d->d_name, buf, sizeof(buf));
		if (rss < 0)
			continue;
		procs++;
		for (int i = 0; i < TOP_PROCS; i++)
			if (kids[i] == atoi(d->d_name))
				kid_rss[i] = rss;
	}
	closedir(dir);
	return procs;
}

/* bench --rollup-once: every smaps_rollup read once, by a program of its own */
int bench_rollup_once(void)
{
	long kid_rss[TOP_PROCS];

	return rollup_all(kid_rss) > 0 ? 0 : 1;
}

/* The same, started as the CLI is: fork, exec (bench itself): its exit status */
static int rollup_exec(void)
{
	int st;
	pid_t p = fork();

	if (!p) {
		execl("/proc/self/exe", "bench", "--rollup-once", (char *)NULL);
		_exit(127);
	}
	if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void kids_start(void)
{
	int pipefd[2];
	char x;

	if (pipe(pipefd))
		bench_die("pipe");
	for (int i = 0; i < TOP_PROCS; i++) {
		kids[i] = fork();
		if (kids[i] < 0)
			bench_die("fork");
		if (!kids[i]) {
			char *w = mmap(NULL, TOP_WRITTEN + TOP_READ + TOP_NONE,
				       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			volatile char sum = 0;

			close(pipefd[0]);
			if (w == MAP_FAILED)
				_exit(1);
			madvise(w, TOP_WRITTEN + TOP_READ, MADV_NOHUGEPAGE);
			memset(w, 1, TOP_WRITTEN);
			for (size_t o = TOP_WRITTEN; o < TOP_WRITTEN + TOP_READ; o += PAGE)
				sum += w[o];
			if (write(pipefd[1], "k", 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
	}
	close(pipefd[1]);
	for (int i = 0; i < TOP_PROCS; i++)
		if (read(pipefd[0], &x, 1) != 1)
			bench_die("children");
	close(pipefd[0]);
}

static void kids_end(void)
{
	for (int i = 0; i < TOP_PROCS; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
}

static int cmp_ms(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void bench_run_top(void)
{
	double t[5][64];
	long kid_rss[TOP_PROCS];
	struct top_acc a = { 0 };
	int procs_dump = -1, procs_rollup = -1, cli = -1, rexec = -1;
	unsigned int agree = 0;

	bench_top.cli = access("/lab/memtrace", X_OK) == 0;
	kids_start();
	for (int r = 0; r < bench_repeats; r++) {
		double t0 = bench_now_ms();

		procs_dump = top_dump(&a);
		t[0][r] = bench_now_ms() - t0;
		t0 = bench_now_ms();
		if (bench_top.cli)
			cli = top_cli("top");
		t[1][r] = bench_now_ms() - t0;
		t0 = bench_now_ms();
		if (bench_top.cli)
			top_cli("--version");
		t[3][r] = bench_now_ms() - t0;
		for (int i = 0; i < TOP_PROCS; i++)
			kid_rss[i] = -1;
		t0 = bench_now_ms();
		procs_rollup = rollup_all(kid_rss);
		t[2][r] = bench_now_ms() - t0;
		t0 = bench_now_ms();
		rexec = rollup_exec();
		t[4][r] = bench_now_ms() - t0;
	}
	for (int i = 0; i < TOP_PROCS; i++)
		agree += a.kid_seen[i] && kid_rss[i] >= 0 &&
			 (long)(a.kid_present[i] * (PAGE / 1024)) - kid_rss[i] <= 32 &&
			 kid_rss[i] - (long)(a.kid_present[i] * (PAGE / 1024)) <= 32;
	kids_end();
	for (int m = 0; m < 5; m++)
		qsort(t[m], bench_repeats, sizeof(double), cmp_ms);
	bench_top.dump = (struct result){ t[0][bench_repeats / 2], t[0][0], procs_dump,
					  procs_dump >= 0 };
	bench_top.cli_r = (struct result){ t[1][bench_repeats / 2], t[1][0], cli,
					   bench_top.cli && cli == 0 };
	bench_top.startup = (struct result){ t[3][bench_repeats / 2], t[3][0], 0,
					     bench_top.cli };
	bench_top.rollup = (struct result){ t[2][bench_repeats / 2], t[2][0], procs_rollup,
					    procs_rollup >= 0 };
	bench_top.rollup_exec = (struct result){ t[4][bench_repeats / 2], t[4][0], rexec,
						 rexec == 0 };
	bench_top.zero_kb = a.zero * (PAGE / 1024);
	bench_top.none_kb = a.none * (PAGE / 1024);
	bench_top.present_kb = a.present * (PAGE / 1024);
	tap_ok(procs_dump >= TOP_PROCS && procs_rollup >= TOP_PROCS,
	       "every process: the TOP dump (%d processes) and smaps_rollup (%d) ran",
	       procs_dump, procs_rollup);
	tap_ok(agree == TOP_PROCS,
	       "every process: %u of %d children's present kB within 32 kB of their smaps_rollup Rss",
	       agree, TOP_PROCS);
	if (bench_top.cli)
		tap_ok(cli == 0, "every process: memtrace top --json exit %d", cli);
	tap_ok(rexec == 0, "every process: bench --rollup-once (exec'd) exit %d", rexec);
}

void bench_report_top(void)
{
	printf("### Every process: one TOP dump vs every /proc/PID/smaps_rollup\n\n"
	       "%d children (each %lu KiB written, %lu KiB read: the zero page, %lu KiB "
	       "reserved and never touched) besides the VM's own processes; smaps_rollup "
	       "found by readdir(/proc) and parsed, as smem does.\n\n"
	       "| method | processes | median (ms) | min (ms) | / smaps_rollup |\n"
	       "|---|---:|---:|---:|---:|\n",
	       TOP_PROCS, TOP_WRITTEN / 1024, TOP_READ / 1024, TOP_NONE / 1024);
	printf("| TOP dump (raw netlink, CACHED) | %" PRId64 " | %.3f | %.3f | %.2fx |\n",
	       bench_top.dump.backed, bench_top.dump.med, bench_top.dump.min,
	       bench_top.dump.med / bench_top.rollup.med);
	if (bench_top.cli_r.ran)
		printf("| memtrace top --json (fork, exec, GET_INFO, dump, JSON) | %" PRId64
		       " | %.3f | %.3f | %.2fx |\n", bench_top.dump.backed, bench_top.cli_r.med,
		       bench_top.cli_r.min, bench_top.cli_r.med / bench_top.rollup.med);
	if (bench_top.startup.ran)
		printf("| memtrace --version (fork, exec: the start-up alone) | - | %.3f | %.3f | "
		       "%.2fx |\n", bench_top.startup.med, bench_top.startup.min,
		       bench_top.startup.med / bench_top.rollup.med);
	if (!bench_top.cli_r.ran)
		printf("| memtrace top --json | - | not run (no /lab/memtrace) | | |\n");
	printf("| every smaps_rollup | %" PRId64 " | %.3f | %.3f | 1.00x |\n",
	       bench_top.rollup.backed, bench_top.rollup.med, bench_top.rollup.min);
	printf("| every smaps_rollup, by a program started as the CLI is (fork, exec "
	       "bench --rollup-once) | %" PRId64 " | %.3f | %.3f | %.2fx |\n\n",
	       bench_top.rollup.backed, bench_top.rollup_exec.med, bench_top.rollup_exec.min,
	       bench_top.rollup_exec.med / bench_top.rollup.med);
	if (bench_top.cli_r.ran && bench_top.rollup_exec.ran)
		printf("Started programs side by side: memtrace top --json takes %.2fx the time "
		       "of the started smaps_rollup reader (the dump alone: %.2fx the files "
		       "read in-process).\n\n",
		       bench_top.cli_r.med / bench_top.rollup_exec.med,
		       bench_top.dump.med / bench_top.rollup.med);
	printf("Much of the CLI's time is a process's start-up (exec, its shared libraries: "
	       "the --version row; libnl's are more than the reader's libc); the rest is the "
	       "family resolved, GET_INFO, the dump and the JSON. Compare the dump with the "
	       "files read in-process, and the CLI with the started reader (smem itself is a "
	       "Python program, started too).\n\n");
	printf("What the dump told besides (all processes): present %" PRIu64 " kB, zero page %"
	       PRIu64 " kB, reserved never touched (none) %" PRIu64 " kB; smaps_rollup has "
	       "no field for the last two.\n\n", bench_top.present_kb, bench_top.zero_kb,
	       bench_top.none_kb);
}
