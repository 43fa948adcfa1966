// SPDX-License-Identifier: GPL-2.0
/*
 * safety-exec: queries of a process in the middle of execve() (kmod issue
 * 14, defect 2). execve() installs the new mm (exec_mmap()) before it commits
 * the new credentials and sets the mm's task_size (setup_new_exec()); a query
 * that takes the mm and judges the credentials outside the target's
 * exec_update_lock can see the new mm with the old credentials, and a
 * task_size of 0 (ERANGE for any range).
 *
 * A spawner (uid 1000) maps a marker region at a fixed address, then forks
 * children that exec a setuid-root copy of this program, which lives a
 * moment and exits. Meanwhile queriers ask for the marker range of the
 * newest child, as uid 1000 over /proc and netlink and as root over /proc:
 *  - uid 1000 may see the child before its exec (the marker is there: never
 *    unmapped) or be refused after it (EACCES) or find it gone (ESRCH);
 *    an answer without the marker is the setuid image seen with the old
 *    credentials;
 *  - no querier may ever get ERANGE (the range is far below TASK_SIZE);
 *  - over netlink, EAGAIN is the child caught in its execve() (the request's
 *    sendmsg() does not wait for it); /proc waits, never EAGAIN.
 * Every other child lingers 100 ms before its exec, so that the answers
 * with the marker (the run's progress) do not depend on winning a race.
 * The run must make progress (cycles and queries), or it proves nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mtlib.h"
#include "rlib.h"
#include "slib.h"
#include "tap.h"

#define MARK ((uint64_t)0x2a00000000ULL)
#define MARK_PAGES 16

enum { Q_OK, Q_ESRCH, Q_EACCES, Q_ERANGE, Q_EAGAIN, Q_NOMARK, Q_OTHER, Q_N };
static const char *const qnames[Q_N] = { "answered", "ESRCH", "EACCES", "ERANGE",
					 "EAGAIN", "answered WITHOUT the marker", "other" };

struct shared {
	volatile pid_t cur;
	volatile int stop;
	volatile unsigned long cycles;
	volatile unsigned long q[3][Q_N];	/* per querier */
	volatile int other_err[3];
};

static struct shared *sh;

static int classify(int err, const struct mt_answer *a)
{
	if (err == -ESRCH)
		return Q_ESRCH;
	if (err == -EACCES)
		return Q_EACCES;
	if (err == -ERANGE)
		return Q_ERANGE;
	if (err)
		return Q_OTHER;
	for (unsigned int i = 0; i < MARK_PAGES; i++)
		if (a->pages[i].state == MEMTRACE_UNMAPPED)
			return Q_NOMARK;
	return Q_OK;
}

static void on_rec(void *arg, uint64_t addr, uint64_t pages, unsigned int state,
		   uint32_t flags, uint64_t pfn, int64_t node)
{
	bool *unmapped = arg;

	(void)addr, (void)pages, (void)flags, (void)pfn, (void)node;
	if (state == MEMTRACE_UNMAPPED)
		*unmapped = true;
}

static void querier(int who, bool drop, bool netlink)
{
	struct nlr s;
	int err, k;

	if (drop)
		sl_drop();
	if (netlink && nlr_open(&s))
		_exit(3);
	while (!sh->stop) {
		pid_t pid = sh->cur;

		if (!pid)
			continue;
		if (netlink) {
			struct rl_check c;
			bool unmapped = false;
			unsigned long msgs;

			rl_check_init(&c, pid, MARK, MARK + MARK_PAGES * RL_PAGE, MEMTRACE_MODE_RUNS,
				      !drop);
			c.on_record = on_rec;
			c.arg = &unmapped;
			err = rl_nl_query(&s, &c, pid, MARK, MARK + MARK_PAGES * RL_PAGE, true,
					  MEMTRACE_MODE_RUNS, &msgs);
			/* EAGAIN: the child was in its execve() (netlink only) */
			k = err == -ESRCH ? Q_ESRCH : err == -EACCES ? Q_EACCES :
			    err == -ERANGE ? Q_ERANGE : err == -EAGAIN ? Q_EAGAIN :
			    err ? Q_OTHER : unmapped ? Q_NOMARK : Q_OK;
		} else {
			struct mt_answer a;

			err = mt_query(pid, MARK, MARK + MARK_PAGES * RL_PAGE, "runs", &a);
			k = classify(err, &a);
			mt_answer_free(&a);
		}
		if (k == Q_OTHER)
			sh->other_err[who] = err;
		sh->q[who][k]++;
	}
	_exit(0);
}

static void spawner(const char *suid)
{
	char *m;

	sl_drop();
	m = mmap((void *)(uintptr_t)MARK, MARK_PAGES * RL_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (m == MAP_FAILED)
		_exit(3);
	memset(m, 1, MARK_PAGES * RL_PAGE);
	while (!sh->stop) {
		useconds_t linger = sh->cycles & 1 ? 100000 : 0;
		pid_t c = fork();

		if (!c) {
			/*
			 * Every other child lingers before its exec, long enough
			 * for the queriers to see it with the marker: on a slow
			 * (debug, TCG) kernel a query takes tens of ms and the
			 * fast cycles alone may never be answered (0 of 501 in
			 * one CI run); the fast cycles are the race.
			 */
			if (linger) {
				for (int w = 0; sh->cur != getpid() && w < 1000; w++)
					usleep(1000);
				usleep(linger);
			}
			execl(suid, suid, "suid-exit", (char *)NULL);
			_exit(4);
		}
		if (c < 0)
			continue;
		sh->cur = c;
		waitpid(c, NULL, 0);
		sh->cycles++;
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	static const char *const names[3] = { "uid 1000 over /proc", "uid 1000 over netlink",
					      "root over /proc" };
	double secs = rl_knob("mt_exec_seconds", rl_quick() ? 6 : 15), t0;
	const char *suid;
	pid_t kids[4];
	int i, k;

	if (argc == 2 && !strcmp(argv[1], "suid-exit")) {
		usleep(2000);	/* a moment as the setuid image: EACCES to uid 1000 */
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	suid = sl_suid_copy();
	if (!suid) {
		printf("not ok 1 - make a setuid-root copy of this program: %s\n1..1\n", strerror(errno));
		return 1;
	}
	sh = sl_shared(sizeof(*sh));
	if (!(kids[0] = fork()))
		spawner(suid);
	if (!(kids[1] = fork()))
		querier(0, true, false);
	if (!(kids[2] = fork()))
		querier(1, true, true);
	if (!(kids[3] = fork()))
		querier(2, false, false);
	/* the time asked for, longer (up to 4x) on a slow kernel until 10 cycles */
	t0 = sl_now();
	while (sl_now() - t0 < secs || (sh->cycles < 10 && sl_now() - t0 < 4 * secs))
		usleep(100000);
	sh->stop = 1;
	for (i = 0; i < 4; i++)
		waitpid(kids[i], NULL, 0);
	sl_suid_remove();

	tap_diag("%.0f s, %lu fork+exec cycles of a setuid program", sl_now() - t0, sh->cycles);
	for (i = 0; i < 3; i++) {
		unsigned long total = 0;
		char line[512];
		int len = 0;

		for (k = 0; k < Q_N; k++) {
			total += sh->q[i][k];
			len += snprintf(line + len, sizeof(line) - len, " %s %lu", qnames[k], sh->q[i][k]);
		}
		tap_diag("%s:%s (other: %s)", names[i], line, strerror(-sh->other_err[i]));
		/* root may look at the setuid image: without the marker, rightly */
		tap_ok(sh->q[i][Q_ERANGE] == 0 && sh->q[i][Q_OTHER] == 0 &&
		       (i == 1 || sh->q[i][Q_EAGAIN] == 0) &&
		       (i == 2 || sh->q[i][Q_NOMARK] == 0),
		       "exec storm, %s: no ERANGE%s (%lu queries)", names[i],
		       i == 2 ? "" : ", no answer from the new image with the old credentials",
		       total);
		tap_ok(total >= 100 && sh->q[i][Q_OK] > 0,
		       "exec storm, %s: made progress (%lu queries, %lu answered)", names[i], total,
		       sh->q[i][Q_OK]);
	}
	tap_ok(sh->cycles >= 3, "exec storm: the spawner made progress (%lu cycles)", sh->cycles);
	return tap_done();
}
