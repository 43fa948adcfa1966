/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who asks, and which process they name: the one place that decides whether a
 * query may look at a process (target.c).
 */
#ifndef _MEMTRACE_TARGET_H
#define _MEMTRACE_TARGET_H

#include <linux/sched.h>
#include <linux/types.h>

struct cred;
struct mm_struct;
struct pid_namespace;
struct task_struct;

/*
 * The identity a query is judged with, taken once: for /proc/memtrace the
 * opener's (at open), for netlink the sender's (when the dump starts). It
 * is never mixed with current: a file handed to, or inherited by, another
 * process keeps answering as its opener.
 */
struct memtrace_caller {
	const struct cred *cred;
	/*
	 * Netlink: the socket's opener. A query is never judged more widely
	 * than its opener would be (like netlink_capable() for capabilities):
	 * a setuid program made to write to a socket someone else opened
	 * answers as that someone. NULL for /proc (cred is the opener).
	 */
	const struct cred *opener;
	struct mm_struct *mm;	/* the caller's own address space, or NULL */
	struct pid_namespace *ns;	/* where PIDs are resolved */
	bool cap_ptrace;	/* CAP_SYS_PTRACE in the initial user namespace */
	bool cap_admin;		/* CAP_SYS_ADMIN: PFNs and swap entries shown */
};

/* A command name (get_task_comm() wants the array itself) */
struct memtrace_comm {
	char s[TASK_COMM_LEN];
};

struct mm_struct *memtrace_target_get(pid_t nr, const struct memtrace_caller *c,
				      bool nowait);
struct mm_struct *memtrace_target_task_named(struct task_struct *task,
					     const struct memtrace_caller *c,
					     bool nowait, struct task_struct *name,
					     struct memtrace_comm *comm);

#endif /* _MEMTRACE_TARGET_H */
