// SPDX-License-Identifier: GPL-2.0
/*
 * rel-stress: concurrent queriers against processes whose memory keeps
 * changing, run as root in the lab VM with the module loaded.
 *
 * Targets (4) churn an 8 MiB arena: mmap (anonymous, shared, file, THP) /
 * munmap / mprotect / madvise(MADV_DONTNEED, MADV_PAGEOUT) / touch / fork a
 * child that writes and exits, and exit after a random lifetime (a new
 * target takes the slot). Queriers (8: /proc and netlink (packed or nested
 * records at random), runs and pages
 * modes) query the arenas, parts of them and whole address spaces; every
 * answer goes through the checker (rlib.c). A query may end in ESRCH only
 * when its target has exited: a target marks itself before it exits, so an
 * ESRCH for a target that is alive is an error, as is any other errno, a
 * garbled answer or a hang (no query finished for 60 s, or a querier still
 * running 120 s after the stop).
 *
 * Right after its arena each target keeps a stable tail of SPAGES pages that
 * it never touches again once set up: written and mlock()ed anonymous pages
 * (present, anon, 4K), a PROT_NONE stretch (none), a read-faulted read-only
 * stretch (the zero page) and an untouched read-write one (none), all
 * MADV_NOHUGEPAGE. It reads its own /proc/self/pagemap for them and
 * publishes the states and pfns in its slot (under a sequence count); every
 * complete answer that covers part of the tail is compared with them, page
 * by page: state, kind and size, and the pfn of each record that starts
 * there (pages mode: every page). Compaction could move the mlocked frames:
 * vm.compact_unevictable_allowed is 0 while the program runs.
 *
 * Every target, target's child and querier is reaped and its status judged:
 * an exit status other than 0, or a signal the harness did not send (it
 * sends SIGKILL to the targets at the end, to the queriers only after a
 * hang), is a failure, reported with the signal.
 *
 * Duration: mt_stress=SECONDS (default 60; with mt_quick=1 a sixth, at least
 * 10). Prints "# stress: N s, N queries, N ESRCH, N errors".
 */
#include "stress.h"

TAP_SHARED_STATE;

struct shared *stress_sh;
int stress_fd_file = -1;

double stress_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

void stress_report(const char *fmt, ...)
{
	char line[700];
	va_list ap;

	if (atomic_fetch_add(&stress_sh->msgs, 1) >= 15)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("# %s\n", line);
	fflush(stdout);
}

/* How a process ended, for a diagnostic. */
const char *stress_how(int st, char *buf, size_t n)
{
	if (WIFEXITED(st))
		snprintf(buf, n, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, n, "killed by signal %d (%s)%s", WTERMSIG(st),
			 strsignal(WTERMSIG(st)), WCOREDUMP(st) ? ", core dumped" : "");
	else
		snprintf(buf, n, "wait status 0x%x", st);
	return buf;
}

/* Exit status 0, or killed by the one signal the harness sent (0: none). */
bool stress_ended_well(int st, int sent)
{
	return (WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
	       (sent && WIFSIGNALED(st) && WTERMSIG(st) == sent);
}

/* waitpid() with a deadline: true when pid was reaped (status in *st). */
static bool reap(pid_t pid, int *st, double secs)
{
	double end = stress_now() + secs;

	for (;;) {
		pid_t r = waitpid(pid, st, WNOHANG);

		if (r == pid)
			return true;
		if (r < 0 || stress_now() > end)
			return false;
		usleep(10000);
	}
}

/* ---- the harness ---- */

static unsigned long deaths;	/* processes that ended badly */

static void died(const char *who, int i, pid_t pid, int st)
{
	char b[96];

	deaths++;
	if (deaths <= 10)
		printf("# %s %d (pid %d) %s\n", who, i, pid, stress_how(st, b, sizeof(b)));
}

static pid_t spawn_target(int i, uint64_t seed)
{
	pid_t p = fork();

	if (!p)
		stress_target(i, seed);
	if (p < 0) {
		deaths++;
		printf("# target %d: fork: %s\n", i, strerror(errno));
		return 0;
	}
	return p;
}

/* vm.compact_unevictable_allowed: 0 while we run (mlocked pfns stay put) */
static char cua_old[16];

static void cua_set(const char *v)
{
	int fd = open("/proc/sys/vm/compact_unevictable_allowed", O_RDWR);
	ssize_t n;

	if (fd < 0)
		return;
	if (!cua_old[0]) {
		n = read(fd, cua_old, sizeof(cua_old) - 1);
		cua_old[n > 0 ? n : 0] = '\0';
	}
	if (v && v[0] && pwrite(fd, v, strlen(v), 0) < 0)
		printf("# compact_unevictable_allowed: %s\n", strerror(errno));
	close(fd);
}

int main(void)
{
	long long dur = rl_knob("mt_stress", 60);
	uint64_t seed = rl_knob("mt_seed", 0);
	pid_t tp[NT], qp[NQ];
	unsigned long q = 0, esrch = 0, mid = 0, errors = 0, bytes = 0, last_alive = 0;
	unsigned long st_answers = 0, st_pages = 0, st_pfns = 0, st_bad = 0, reaped = 0;
	int qreaped = 0;
	double t0, stalled_since, gap = 0, stop_deadline;
	bool hung = false;
	int st;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (rl_quick()) {
		dur /= 6;
		if (dur < 10)
			dur = 10;
	}
	if (!seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	printf("# seed %" PRIu64 ", %lld s, %d targets, %d queriers\n", seed, dur, NT, NQ);
	stress_sh = mmap(NULL, sizeof(*stress_sh), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (stress_sh == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(stress_sh, 0, sizeof(*stress_sh));
	{
		char path[] = "/tmp/rel-stress.XXXXXX";

		stress_fd_file = mkstemp(path);
		if (stress_fd_file >= 0) {
			unlink(path);
			if (ftruncate(stress_fd_file, 64 * MT_PG)) {	/* 64 pages: n <= 64 */
				close(stress_fd_file);
				stress_fd_file = -1;
			}
		}
	}
	cua_set("0");
	for (int i = 0; i < NT; i++)
		tp[i] = spawn_target(i, seed + 1000 * i);
	for (int i = 0; i < NQ; i++) {
		qp[i] = fork();
		if (!qp[i])
			stress_querier(i, seed + 77 * i + 5);
		if (qp[i] < 0) {
			deaths++;
			printf("# querier %d: fork: %s\n", i, strerror(errno));
			qp[i] = 0;
		}
	}
	t0 = stress_now();
	stalled_since = t0;
	while (stress_now() - t0 < dur) {
		pid_t d = waitpid(-1, &st, WNOHANG);
		unsigned long alive = 0;

		for (int i = 0; i < NQ; i++)
			alive += atomic_load(&stress_sh->q[i].alive);
		if (alive != last_alive) {
			last_alive = alive;
			stalled_since = stress_now();
		} else {
			if (stress_now() - stalled_since > gap)
				gap = stress_now() - stalled_since;
			if (gap > HANG_S) {
				printf("# stress: no query finished for %d s (a hang)\n", HANG_S);
				hung = true;
				break;
			}
		}
		if (d <= 0) {
			usleep(20000);
			continue;
		}
		for (int i = 0; i < NT; i++) {
			if (d != tp[i])
				continue;
			/* it ends on its own, with status 0; a new target takes the slot */
			reaped++;
			if (!stress_ended_well(st, 0))
				died("target", i, d, st);
			atomic_fetch_add(&stress_sh->spawned, 1);
			tp[i] = spawn_target(i, seed + 1000 * i + atomic_load(&stress_sh->spawned));
		}
		for (int i = 0; i < NQ; i++)
			if (d == qp[i]) {	/* a querier ends only after the stop */
				died("querier", i, d, st);
				qp[i] = 0;
				qreaped++;
			}
	}
	atomic_store(&stress_sh->stop, 1);
	/* the queriers finish their last query and exit 0 */
	stop_deadline = stress_now() + (hung ? 5 : STOP_S);
	for (int i = 0; i < NQ; i++) {
		int sent = 0;

		if (!qp[i])
			continue;
		if (!reap(qp[i], &st, stop_deadline - stress_now())) {
			if (!hung)
				printf("# stress: querier %d still running %d s after the stop (a hang)\n",
				       i, STOP_S);
			hung = true;
			kill(qp[i], SIGKILL);
			sent = SIGKILL;
			if (!reap(qp[i], &st, 10)) {
				deaths++;
				printf("# querier %d (pid %d) survives SIGKILL\n", i, qp[i]);
				continue;
			}
		}
		qreaped++;
		if (!stress_ended_well(st, sent))
			died("querier", i, qp[i], st);
	}
	for (int i = 0; i < NT; i++) {
		if (!tp[i])
			continue;
		kill(tp[i], SIGKILL);
		if (!reap(tp[i], &st, 10)) {
			deaths++;
			printf("# target %d (pid %d) survives SIGKILL\n", i, tp[i]);
			continue;
		}
		reaped++;
		if (!stress_ended_well(st, SIGKILL))
			died("target", i, tp[i], st);
	}
	if (cua_old[0])
		cua_set(cua_old);
	for (int i = 0; i < NQ; i++) {
		q += stress_sh->q[i].queries;
		esrch += stress_sh->q[i].esrch;
		mid += stress_sh->q[i].mid_esrch;
		errors += stress_sh->q[i].errors;
		bytes += stress_sh->q[i].bytes;
		st_answers += stress_sh->q[i].st_answers;
		st_pages += stress_sh->q[i].st_pages;
		st_pfns += stress_sh->q[i].st_pfns;
		st_bad += stress_sh->q[i].st_bad;
		printf("# querier %d (%s, %s): %lu queries, %lu ESRCH (%lu mid-answer), %lu errors, "
		       "%lu stable pages compared\n",
		       i, i & 2 ? "netlink" : "proc", i & 1 ? "pages" : "runs",
		       (unsigned long)stress_sh->q[i].queries, (unsigned long)stress_sh->q[i].esrch,
		       (unsigned long)stress_sh->q[i].mid_esrch, (unsigned long)stress_sh->q[i].errors,
		       (unsigned long)stress_sh->q[i].st_pages);
	}
	printf("# targets: %lu spawned after the first %d, %lu operations, %lu forks; %lu bytes of /proc text\n",
	       (unsigned long)stress_sh->spawned, NT, (unsigned long)stress_sh->target_ops,
	       (unsigned long)stress_sh->forks, bytes);
	printf("# stress: %.0f s, %lu queries, %lu ESRCH, %lu errors\n", stress_now() - t0, q, esrch, errors);
	tap_ok(q >= NQ, "stress: %d queriers (proc and netlink, runs and pages) answered %lu queries",
	       NQ, q);
	printf("# stress: %lu ESRCH came after part of an answer had been delivered\n", mid);
	tap_ok(esrch > 0, "stress: queries met targets that exited (%lu ESRCH, %lu of them mid-answer)",
	       esrch, mid);
	tap_ok(errors == 0, "stress: every answer well-formed, every error a clean ESRCH of an exited "
	       "target (%lu errors)", errors);
	tap_ok(!hung, "stress: no hang (longest wait for a query: %.0f s, limit %d s; queriers "
	       "done within %d s of the stop)", gap, HANG_S, STOP_S);
	tap_ok(!deaths && !stress_sh->children_bad,
	       "stress: every process ended as expected (%lu targets, %lu of their children, %d "
	       "queriers reaped; %lu ended badly, %lu children)", reaped,
	       (unsigned long)stress_sh->children, qreaped, deaths, (unsigned long)stress_sh->children_bad);
	tap_ok(!st_bad && !stress_sh->setup_fail && st_pages && (st_pfns || geteuid()),
	       "stress: answers agree with the targets' stable tails (%lu targets published, %lu "
	       "failed to; %lu answers, %lu pages and %lu pfns compared, %lu wrong)",
	       (unsigned long)stress_sh->published, (unsigned long)stress_sh->setup_fail, st_answers, st_pages,
	       st_pfns, st_bad);
	return tap_done();
}
