// SPDX-License-Identifier: GPL-2.0
/*
 * Finding the process a query names, and deciding whether the caller may look.
 *
 * ptrace_may_access() is not exported to modules, so this is our own check,
 * never more permissive than /proc/PID/pagemap (PTRACE_MODE_READ_FSCREDS):
 *  - a process may always query itself;
 *  - otherwise the caller's fsuid/fsgid must equal the target's real, effective
 *    and saved uid/gid, and the target must be dumpable by its owner;
 *  - CAP_SYS_PTRACE in the initial user namespace overrides both.
 * It is stricter than ptrace in two ways: capabilities count only in the
 * initial user namespace, and a non-dumpable target is refused to everyone
 * without CAP_SYS_PTRACE. Linux security modules are not consulted (their hook
 * is not exported); that is why the capability rule is the strict one.
 */
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>

#include "compat.h"
#include "target.h"
#include "walk.h"

static bool memtrace_ids_match(const struct cred *c, const struct cred *t)
{
	return uid_eq(c->fsuid, t->euid) && uid_eq(c->fsuid, t->suid) &&
	       uid_eq(c->fsuid, t->uid) && gid_eq(c->fsgid, t->egid) &&
	       gid_eq(c->fsgid, t->sgid) && gid_eq(c->fsgid, t->gid);
}

static int memtrace_may_access(struct task_struct *task, struct mm_struct *mm,
			       const struct memtrace_caller *c)
{
	bool match;

	if (same_thread_group(task, current))
		return 0;
	if (c->cap_ptrace)
		return 0;

	rcu_read_lock();
	match = memtrace_ids_match(c->cred, __task_cred(task));
	rcu_read_unlock();
	if (!match)
		return -EACCES;
	if (memtrace_task_dumpable(task, mm) != MEMTRACE_DUMPABLE_OWNER)
		return -EACCES;
	return 0;
}

/*
 * Returns the target's mm with an mm_count reference (drop with mmdrop()), or
 * ERR_PTR(-ESRCH) for no such process, a kernel thread or one that has exited,
 * or ERR_PTR(-EACCES).
 */
struct mm_struct *memtrace_target_get(pid_t nr, const struct memtrace_caller *c)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;
	int err;

	if (nr <= 0)
		return ERR_PTR(-ESRCH);
	pid = find_get_pid(nr);
	if (!pid)
		return ERR_PTR(-ESRCH);
	task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!task)
		return ERR_PTR(-ESRCH);

	mm = get_task_mm(task);	/* NULL for kernel threads and exited tasks */
	if (!mm) {
		put_task_struct(task);
		return ERR_PTR(-ESRCH);
	}
	err = memtrace_may_access(task, mm, c);
	put_task_struct(task);
	if (err) {
		mmput(mm);
		return ERR_PTR(err);
	}
	/* Keep the mm_struct, not the address space: like pagemap. */
	mmgrab(mm);
	mmput(mm);
	return mm;
}
