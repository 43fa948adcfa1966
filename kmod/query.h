/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One query, whichever transport it came by: the transport parses a request
 * into a struct memtrace_query, memtrace_query_start() checks it, resolves
 * the target for the caller (target.c) and starts the walker on its mm, and
 * the transport encodes the records the walk hands to its sink.
 */
#ifndef _MEMTRACE_QUERY_H
#define _MEMTRACE_QUERY_H

#include <linux/types.h>
#include "record.h"
#include "target.h"
#include "walk.h"

struct file;

/* How the transport packs records; only netlink packs. */
enum memtrace_packing {
	MEMTRACE_PACK_NONE,	/* a record at a time (text, nested attributes) */
	MEMTRACE_PACK_WORDS,	/* runs and page vectors of words */
	MEMTRACE_PACK_INDEXED,	/* runs and page vectors of index bytes */
};

/* A request, as the transport parsed it. */
struct memtrace_request {
	pid_t pid;		/* in the caller's pid namespace */
	int fd;			/* MEMTRACE_CMD_FILE: the sender's descriptor */
	u64 start;
	u64 end;
	/* no end given: up to the target's TASK_SIZE (a file: to its size) */
	bool to_task_size;
	enum memtrace_mode mode;
	bool no_pfn;		/* pfns not wanted, even where allowed */
	bool cached;		/* CACHED pages wanted */
	bool folio;		/* folio orders wanted */
	/*
	 * Netlink: the request is started in the sender's sendmsg(), under
	 * genetlink's cb_lock: the target's exec_update_lock is only tried,
	 * never waited for (-EAGAIN while an execve() holds it).
	 */
	bool nowait;
	enum memtrace_packing packing;
};

/* A request being answered: set by memtrace_query_start(). */
struct memtrace_query {
	struct memtrace_request req;
	unsigned long start;	/* the range answered, page aligned */
	unsigned long end;
	bool show_pfn;		/* the caller may see pfns, and wants them */
	struct memtrace_walk walk;
};

int memtrace_query_start(struct memtrace_query *q,
			 const struct memtrace_request *req,
			 const struct memtrace_caller *c,
			 memtrace_sink_t sink, void *arg,
			 struct memtrace_room *room);
/* file.c: a file's page cache (MEMTRACE_CMD_FILE), in the sender's context */
int memtrace_query_start_file(struct memtrace_query *q,
			      const struct memtrace_request *req,
			      struct file *file,
			      const struct memtrace_caller *c,
			      memtrace_sink_t sink, void *arg,
			      struct memtrace_room *room, const char **why);
void memtrace_query_release(struct memtrace_query *q);
void memtrace_query_cache_policy(struct memtrace_cache_policy *p,
				 const struct memtrace_request *req,
				 const struct memtrace_caller *c);

/* Make progress: records reach the sink until it is full or all are out. */
static inline int memtrace_query_step(struct memtrace_query *q)
{
	return memtrace_walk_step(&q->walk);
}

/* Has every record, the last included, reached the sink? */
static inline bool memtrace_query_done(const struct memtrace_query *q)
{
	return q->walk.done;
}

/* Pages of each state so far (of the whole range once done). */
static inline const u64 *memtrace_query_counts(const struct memtrace_query *q)
{
	return q->walk.counts;
}

#endif /* _MEMTRACE_QUERY_H */
