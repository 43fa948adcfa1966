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
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
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
/* How long a process's busy locks are waited for, at most (memtrace_top_wait()) */
#define MEMTRACE_TOP_BUSY_MS	200
/* ... and all of the dump's, at most: then each busy process gets one try */
#define MEMTRACE_TOP_DUMP_BUSY_MS 1000
/* Short sleeps before a jiffy's */
#define MEMTRACE_TOP_SPINS	4
/*
 * t->no_wait (the first dump call, under genetlink's cb_lock): a process
 * counted for this long at most, then told as counted so far, P_BUSY
 */
#define MEMTRACE_TOP_FIRST_MS	10

/* Count r's pages as THP when they are (PRESENT, mapped by a PMD or PUD, of a struct page) */
static void memtrace_top_thp(struct memtrace_top *t, const struct memtrace_record *r)
{
	if (r->state == MEMTRACE_PRESENT && (r->flags & MEMTRACE_F_SIZE_MASK) &&
	    !(r->flags & (MEMTRACE_F_HUGETLB | MEMTRACE_F_PFNMAP)))
		t->proc.thp += r->pages;
}

/*
 * The walk's sink: counts the THP pages of each run (not hugetlb, not a raw
 * PFN mapping); the walker counts the states.
 */
static int memtrace_top_sink(void *arg, const struct memtrace_record *r)
{
	struct memtrace_top *t = arg;

	if (!t->budget)
		return -ENOSPC;	/* offered again at the next step */
	t->budget--;
	memtrace_top_thp(t, r);
	return 0;
}

/*
 * Wait before trying a busy lock of a process again: a few short sleeps
 * first (a writer let in by the walk's yield is done in microseconds), then
 * a jiffy at a time. 0: try again; -EBUSY: the patience is spent, the
 * process's (MEMTRACE_TOP_BUSY_MS of waiting, whatever progress came
 * between) or the dump's (MEMTRACE_TOP_DUMP_BUSY_MS: then each busy process
 * gets one try, so that many processes sharing one stuck mm cost a second,
 * not 200 ms each) or t->no_wait (one try only); -EINTR: a fatal signal.
 */
static int memtrace_top_wait(struct memtrace_top *t, unsigned int *tries)
{
	u64 t0, d;

	if (t->no_wait || t->proc_waited >= MEMTRACE_TOP_BUSY_MS * NSEC_PER_MSEC ||
	    t->dump_waited >= MEMTRACE_TOP_DUMP_BUSY_MS * NSEC_PER_MSEC)
		return -EBUSY;
	t0 = ktime_get_ns();
	if ((*tries)++ < MEMTRACE_TOP_SPINS)
		usleep_range(50, 200);
	else
		schedule_timeout_killable(1);	/* an early wake is one more try */
	d = ktime_get_ns() - t0;
	t->proc_waited += d;
	t->dump_waited += d;
	return fatal_signal_pending(current) ? -EINTR : 0;
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
 * into t->proc: 0, or -ESRCH, -EACCES, -EBUSY (skip it), -EINTR. No lock of
 * the process is waited for, only tried again (memtrace_top_wait()), so one
 * whose locks are stuck (a thread in a fault on a hung FUSE file holding
 * its mmap_lock, a writer queued behind it, an execve() waiting for them
 * holding its exec_update_lock) does not stall the dump: stuck in
 * mmap_lock, it is told as counted so far (t->proc.busy); stuck in an
 * execve(), it is left out (-EBUSY: no mm and credentials to judge).
 */
static int memtrace_top_count(struct memtrace_top *t, struct task_struct *leader,
			      struct task_struct *task)
{
	struct memtrace_walk *w = &t->walk;
	unsigned int tries = 0;
	struct mm_struct *mm;
	unsigned long next;
	int err;

	t->proc_waited = 0;
	for (;;) {
		/* comm: the process's name (the leader's), the mm's program's */
		mm = memtrace_target_task_named(task, &t->caller, true, leader,
						&t->proc.comm);
		if (mm != ERR_PTR(-EBUSY))
			break;
		err = memtrace_top_wait(t, &tries);
		if (err)
			return err;
	}
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	t->proc.thp = 0;
	t->proc.busy = false;
	memtrace_walk_init(w, mm, 0, mm->task_size, MEMTRACE_MODE_RUNS, false,
			   &t->policy, memtrace_top_sink, t, NULL);
	w->nowait = true;
	if (t->no_wait)
		w->deadline = (jiffies + msecs_to_jiffies(MEMTRACE_TOP_FIRST_MS) + 1) ?: 1;
	tries = 0;
	while (!w->done) {
		t->budget = MEMTRACE_TOP_RECORDS;
		next = w->next;
		err = memtrace_walk_step(w);
		if (w->next != next)
			tries = 0;
		if (err == -EBUSY) {
			err = memtrace_top_wait(t, &tries);
			if (err == -EBUSY) {
				t->proc.busy = true;
				/* counted already (record.c), given to no sink */
				if (w->have_pending)
					memtrace_top_thp(t, &w->pending);
				err = 0;
				break;
			}
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
	pid_t retried = 0;	/* the pid tried once more */
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
		if (err == -ESRCH && retried != t->proc.pid) {
			/*
			 * An execve() between the check and the walk (the old
			 * mm gone), or the thread picked exiting: once more
			 */
			retried = t->proc.pid;
			t->next = t->proc.pid;
			continue;
		}
		if (err != -ESRCH && err != -EACCES && err != -EBUSY)
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
void memtrace_top_start(struct memtrace_top *t, const struct memtrace_caller *c,
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
