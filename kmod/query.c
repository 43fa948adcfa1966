// SPDX-License-Identifier: GPL-2.0
/*
 * The query stage: from a parsed request and the caller who sent it to a
 * walk of the target's mm. It is the one place that checks a range and
 * decides what an answer shows; the transports only parse and encode.
 */
#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/sched/mm.h>

#include "compat.h"
#include "query.h"

/*
 * Whose page cache c may see CACHED (uapi/memtrace.h, MEMTRACE_CACHED): a
 * caller with CAP_SYS_ADMIN any file's, else the files its fsuid owns
 * (with a netlink socket, only when its opener's fsuid is the same: never
 * more than the opener). The walk adds shared anonymous memory.
 */
void memtrace_query_cache_policy(struct memtrace_cache_policy *p,
				 const struct memtrace_request *req,
				 const struct memtrace_caller *c)
{
	p->cached = req->cached;
	p->all = c->cap_admin;
	p->fsuid = c->cred->fsuid;
	if (c->opener && !uid_eq(c->opener->fsuid, p->fsuid))
		p->fsuid = INVALID_UID;
}

/*
 * Start answering req for caller c in q; records go to sink(arg, ...), and
 * in pages mode to room when the sink lends one (NULL for none). With
 * to_task_size, the end is the target's TASK_SIZE ("all" when start is 0).
 * Errors: EINVAL for an empty range or an unknown mode, ERANGE past
 * TASK_SIZE, and from memtrace_target_get() ESRCH, EACCES or EINTR, or
 * with req->nowait EAGAIN (an execve() holds the target's exec_update_lock:
 * its mm and credentials are changing); then q is as it was (a query it
 * was answering goes on).
 */
int memtrace_query_start(struct memtrace_query *q,
			 const struct memtrace_request *req,
			 const struct memtrace_caller *c,
			 memtrace_sink_t sink, void *arg,
			 struct memtrace_room *room)
{
	u64 start = req->start, end = req->end;
	bool whole = req->to_task_size;
	struct memtrace_cache_policy policy;
	struct mm_struct *mm;

	if (req->mode > MEMTRACE_MODE_MAX)
		return -EINVAL;
	if (start >= memtrace_task_size() ||
	    (!whole && end > memtrace_task_size()))
		return -ERANGE;
	if (!whole && end <= start)
		return -EINVAL;	/* judged as written, before rounding */
	start = round_down(start, PAGE_SIZE);
	if (!whole)
		end = round_up(end, PAGE_SIZE);
	mm = memtrace_target_get(req->pid, c, req->nowait);
	if (mm == ERR_PTR(-EBUSY))
		return -EAGAIN;
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	if (whole)
		end = mm->task_size;
	if (end > mm->task_size || start >= end) {
		mmdrop(mm);
		return -ERANGE;
	}
	memtrace_query_release(q);
	q->req = *req;
	q->start = start;
	q->end = end;
	q->show_pfn = c->cap_admin && !req->no_pfn;
	memtrace_query_cache_policy(&policy, req, c);
	memtrace_walk_init(&q->walk, mm, start, end, req->mode, q->show_pfn,
			   &policy, sink, arg, room);
	q->walk.folio = req->folio;
	return 0;
}

/* Let go of the target (its mm); the query may be started again. */
void memtrace_query_release(struct memtrace_query *q)
{
	memtrace_walk_release(&q->walk);
}
