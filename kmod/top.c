// SPDX-License-Identifier: GPL-2.0
/*
 * MEMTRACE_CMD_TOP's insides: the processes of the caller's pid namespace
 * in pid order, each counted over its whole user address space by the
 * walker, with a counting sink and no records kept.
 *
 * The processes are found as /proc's readdir finds them (fs/proc/base.c,
 * next_tgid()): the first pid at or after a cursor, then the task whose
 * thread group it leads (pid_task(PIDTYPE_TGID)), under RCU. That first
 * pid is find_ge_pid(), exported from 5.11 on; 5.10 exports no pid
 * iterator, so there it is the call find_ge_pid() itself makes on every
 * version, idr_get_next() on the namespace's idr (exported). The cursor
 * is a pid number: a dump resumes after the last process it told, and a
 * process that exits meanwhile is simply not found.
 *
 * Each process is judged as a QUERY judges its target (target.c), with the
 * identity the dump was started with, held here by reference (credentials,
 * pid namespace, the caller's mm_struct for the "own address space" test),
 * never current's: a dump is continued by whoever calls recvmsg(). Those it
 * may not query, kernel threads and those exited are skipped.
 */
#include <linux/cred.h>
#include <linux/jiffies.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>

#include "compat.h"
#include "query.h"
#include "top.h"

/*
 * Records a walk step hands the sink before it stops (and mmap_lock is
 * dropped, a fatal signal looked at): a process of any size is counted in
 * bounded pieces.
 */
#define MEMTRACE_TOP_RECORDS	512
/* Pids looked at under RCU before letting go of it (threads, not leaders) */
#define MEMTRACE_TOP_PIDS	256
/* How long a process's busy mmap_lock is tried again (memtrace_top_count()) */
#define MEMTRACE_TOP_BUSY_MS	200

/*
 * Counts the THP pages of each run (present, mapped by a PMD or PUD, of a
 * page with a struct page: not hugetlb, not a raw PFN mapping); the walker
 * counts the states.
 */
static int memtrace_top_sink(void *arg, const struct memtrace_record *r)
{
	struct memtrace_top *t = arg;

	if (!t->budget)
		return -ENOSPC;	/* offered again at the next step */
	t->budget--;
	if (r->state == MEMTRACE_PRESENT && (r->flags & MEMTRACE_F_SIZE_MASK) &&
	    !(r->flags & (MEMTRACE_F_HUGETLB | MEMTRACE_F_PFNMAP)))
		t->proc.thp += r->pages;
	return 0;
}

/*
 * The next thread-group leader from t->next on, with a reference, its pid
 * in t->proc.pid and t->next past it; NULL at the end (t->end) or after
 * MEMTRACE_TOP_PIDS pids that lead none (t->next past them: call again).
 */
static struct task_struct *memtrace_top_task(struct memtrace_top *t)
{
	struct pid_namespace *ns = t->caller.ns;
	struct task_struct *task = NULL;
	unsigned int n;
	int nr = t->next;
	struct pid *pid;

	rcu_read_lock();
	for (n = 0; n < MEMTRACE_TOP_PIDS; n++) {
		pid = memtrace_find_ge_pid(nr, ns);
		if (!pid) {
			t->end = true;
			break;
		}
		nr = pid_nr_ns(pid, ns);
		task = pid_task(pid, PIDTYPE_TGID);
		if (task && !(task->flags & PF_KTHREAD)) {
			get_task_struct(task);
			break;
		}
		task = NULL;
		if (nr >= PID_MAX_LIMIT) {
			t->end = true;
			break;
		}
		nr++;
	}
	rcu_read_unlock();
	if (task) {
		t->proc.pid = nr;
		nr++;
	}
	t->next = nr;
	return task;
}

/*
 * A thread of leader's group that still has its mm, with a reference: the
 * leader itself, or when it has exited (a zombie leader whose threads run
 * on, its mm gone: /proc shows such a process's maps and smaps empty) the
 * first other thread not exiting. NULL when there is none.
 */
static struct task_struct *memtrace_top_thread(struct task_struct *leader)
{
	struct task_struct *p, *task = NULL;

	rcu_read_lock();
	for_each_thread(leader, p) {
		if (!(p->flags & PF_EXITING) && READ_ONCE(p->mm)) {
			task = p;
			get_task_struct(task);
			break;
		}
	}
	rcu_read_unlock();
	return task;
}

/*
 * Count the pages of task (a thread of leader's group, memtrace_top_thread())
 * into t->proc: 0, or -ESRCH, -EACCES (skip it), -EINTR.
 * Its mmap_lock is never waited for: while it is busy the walk waits a
 * jiffy and tries again, and after MEMTRACE_TOP_BUSY_MS with no progress
 * the process is told as counted so far (t->proc.busy), so one process
 * whose lock is stuck (a reader in a fault on a hung FUSE file, a writer
 * queued behind it) does not stall the dump.
 */
static int memtrace_top_count(struct memtrace_top *t, struct task_struct *leader,
			      struct task_struct *task)
{
	struct memtrace_walk *w = &t->walk;
	unsigned long deadline, next;
	struct mm_struct *mm;
	int err = 0;

	mm = memtrace_target_task(task, &t->caller);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	/* the process's name (/proc/PID/comm: the leader's), public anyway */
	get_task_comm(t->proc.comm, leader);
	t->proc.thp = 0;
	t->proc.busy = false;
	memtrace_walk_init(w, mm, 0, mm->task_size, MEMTRACE_MODE_RUNS, false,
			   &t->policy, memtrace_top_sink, t, NULL);
	w->nowait = true;
	deadline = jiffies + msecs_to_jiffies(MEMTRACE_TOP_BUSY_MS);
	while (!w->done) {
		t->budget = MEMTRACE_TOP_RECORDS;
		next = w->next;
		err = memtrace_walk_step(w);
		if (w->next != next)
			deadline = jiffies + msecs_to_jiffies(MEMTRACE_TOP_BUSY_MS);
		if (err == -EBUSY) {
			if (time_after(jiffies, deadline)) {
				t->proc.busy = true;
				err = 0;
				break;
			}
			if (schedule_timeout_killable(1))
				err = -EINTR;
			else
				err = 0;
		}
		if (!err && fatal_signal_pending(current))
			err = -EINTR;
		if (err)
			break;
		cond_resched();
	}
	memcpy(t->proc.counts, w->counts, sizeof(t->proc.counts));
	memtrace_walk_release(w);
	return err;
}

/*
 * Count the next process the caller may query into t->proc: 1, 0 when
 * there is none left, or -EINTR (a fatal signal). Processes that may not be
 * queried or exit meanwhile are skipped.
 */
int memtrace_top_next(struct memtrace_top *t)
{
	struct task_struct *task, *leader;
	int err;

	while (!t->end) {
		leader = memtrace_top_task(t);
		if (!leader) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
			continue;
		}
		task = memtrace_top_thread(leader);
		if (task) {
			err = memtrace_top_count(t, leader, task);
			put_task_struct(task);
		} else {
			err = -ESRCH;	/* exited meanwhile */
		}
		put_task_struct(leader);
		if (!err)
			return 1;
		if (err != -ESRCH && err != -EACCES)
			return err;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

/*
 * Start at pid 1 for the caller c, whose parts are taken by reference
 * (they are released by memtrace_top_release(), also on error). t is
 * zeroed.
 */
int memtrace_top_start(struct memtrace_top *t, const struct memtrace_caller *c,
		       bool cached)
{
	struct memtrace_request req = { .cached = cached };

	t->caller = *c;
	get_cred(c->cred);
	if (c->opener)
		get_cred(c->opener);
	get_pid_ns(c->ns);
	if (c->mm)
		mmgrab(c->mm);
	t->cached = cached;
	memtrace_query_cache_policy(&t->policy, &req, c);
	t->next = 1;
	return 0;
}

void memtrace_top_release(struct memtrace_top *t)
{
	memtrace_walk_release(&t->walk);
	if (t->caller.mm)
		mmdrop(t->caller.mm);
	if (t->caller.ns)
		put_pid_ns(t->caller.ns);
	if (t->caller.opener)
		put_cred(t->caller.opener);
	if (t->caller.cred)
		put_cred(t->caller.cred);
	memset(&t->caller, 0, sizeof(t->caller));
}
