// SPDX-License-Identifier: GPL-2.0
/*
 * Finding the process a query names, and deciding whether the caller may look.
 *
 * ptrace_may_access() is not exported to modules, so this is our own check,
 * modelled on /proc/PID/pagemap's (PTRACE_MODE_READ_FSCREDS) and never wider
 * than its commoncap rules:
 *  - a caller may always query its own address space (the mm it had when its
 *    identity was taken: a process that has since exec'd is another one);
 *  - otherwise the caller's fsuid/fsgid must equal the target's real, effective
 *    and saved uid/gid, and the target must be dumpable by its owner;
 *  - CAP_SYS_PTRACE in the initial user namespace overrides both.
 * The caller is a struct memtrace_caller taken once per query (target.h),
 * never current.
 * It is stricter than ptrace in two ways: capabilities count only in the
 * initial user namespace, and a non-dumpable target is refused to everyone
 * without CAP_SYS_PTRACE. Linux security modules (SELinux, AppArmor, Yama)
 * are not consulted: their hook is not exported, so where one would refuse a
 * ptrace read this check may still allow it; that is why the capability rule
 * is the strict one. A netlink query must pass for the socket's opener too.
 */
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>

#include "compat.h"
#include "target.h"

static bool memtrace_ids_match(const struct cred *c, const struct cred *t)
{
	return uid_eq(c->fsuid, t->euid) && uid_eq(c->fsuid, t->suid) &&
	       uid_eq(c->fsuid, t->uid) && gid_eq(c->fsgid, t->egid) &&
	       gid_eq(c->fsgid, t->sgid) && gid_eq(c->fsgid, t->gid);
}

/*
 * Could the caller be let in at all (no lock, credentials of this instant)?
 * Only to decide whether a busy lock of task is worth waiting for: the
 * check under the lock decides.
 */
static bool memtrace_may_try(struct task_struct *task, const struct memtrace_caller *c)
{
	bool match;

	if (c->cap_ptrace || (c->mm && READ_ONCE(task->mm) == c->mm))
		return true;
	rcu_read_lock();
	match = memtrace_ids_match(c->cred, __task_cred(task)) &&
		(!c->opener || memtrace_ids_match(c->opener, __task_cred(task)));
	rcu_read_unlock();
	return match;
}

static int memtrace_may_access(struct task_struct *task, struct mm_struct *mm,
			       const struct memtrace_caller *c)
{
	const struct cred *tcred;
	bool match;

	/*
	 * Its own address space, unless a netlink socket's opener had other
	 * credentials than the sender has now: then both are judged below.
	 */
	if (mm == c->mm && (!c->opener || c->opener == c->cred))
		return 0;
	if (c->cap_ptrace)
		return 0;

	rcu_read_lock();
	tcred = __task_cred(task);
	match = memtrace_ids_match(c->cred, tcred) &&
		(!c->opener || memtrace_ids_match(c->opener, tcred));
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
 * ERR_PTR(-EACCES), or ERR_PTR(-EINTR) when a fatal signal came first; with
 * nowait, ERR_PTR(-EBUSY) where it would wait (memtrace_target_task_named()).
 *
 * Like mm_access(): the mm and the credentials it is judged against are read
 * under the target's exec_update_lock, so an execve() in progress is seen
 * before exec_mmap() or after commit_creds() and setup_new_exec(), never the
 * new mm with the old credentials (nor before its task_size is set).
 */
struct mm_struct *memtrace_target_get(pid_t nr, const struct memtrace_caller *c,
				      bool nowait)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;

	if (nr <= 0)
		return ERR_PTR(-ESRCH);
	rcu_read_lock();
	pid = get_pid(find_pid_ns(nr, c->ns));
	rcu_read_unlock();
	if (!pid)
		return ERR_PTR(-ESRCH);
	task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!task)
		return ERR_PTR(-ESRCH);
	mm = memtrace_target_task_named(task, c, nowait, NULL, NULL);
	put_task_struct(task);
	return mm;
}

/*
 * The same for a task the caller holds a reference to: its mm with an
 * mm_count reference, or ERR_PTR(-ESRCH, -EACCES or -EINTR). With nowait,
 * the exec_update_lock is not waited for: ERR_PTR(-EBUSY) while an execve()
 * holds it (one stuck on its old mm holds it as long as that mm's lock is
 * stuck), or -EACCES then when the caller's credentials could not pass
 * anyway (not worth waiting for). When name is not NULL, name's command
 * name is read into comm under the lock, so that it is the one of the
 * program whose mm it returns.
 */
struct mm_struct *memtrace_target_task_named(struct task_struct *task,
					     const struct memtrace_caller *c,
					     bool nowait, struct task_struct *name,
					     struct memtrace_comm *comm)
{
	struct mm_struct *mm;
	int err;

	if (!nowait) {
		if (down_read_killable(&task->signal->exec_update_lock))
			return ERR_PTR(-EINTR);
	} else if (!down_read_trylock(&task->signal->exec_update_lock)) {
		return ERR_PTR(memtrace_may_try(task, c) ? -EBUSY : -EACCES);
	}
	mm = get_task_mm(task);	/* NULL for kernel threads and exited tasks */
	err = mm ? memtrace_may_access(task, mm, c) : -ESRCH;
	if (!err) {
		mmgrab(mm);	/* keep the mm_struct, not the address space */
		if (name)
			get_task_comm(comm->s, name);
	}
	up_read(&task->signal->exec_update_lock);
	if (mm)
		mmput_async(mm);	/* it may have exited meanwhile */
	return err ? ERR_PTR(err) : mm;
}
