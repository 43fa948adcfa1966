/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The page-table walker: given an mm and a range, it classifies each page
 * without changing anything. A walk is resumable: it classifies pages from
 * ->next on, hands records to a sink (record.h), and stops when the sink is
 * full, keeping its place, so an answer of any size streams out in bounded
 * pieces with mmap_lock dropped between them. It knows no pid, credential
 * or transport: the query stage (query.c) gives it an mm it may read.
 */
#ifndef _MEMTRACE_WALK_H
#define _MEMTRACE_WALK_H

#include <linux/types.h>
#include <linux/uidgid.h>
#include "record.h"
#include "uapi/memtrace.h"

struct address_space;
struct file;
struct mm_struct;
struct vm_area_struct;

/*
 * Whose page cache a walk may show CACHED (the rule: uapi/memtrace.h,
 * MEMTRACE_CACHED). Computed by the query stage from its caller; the walk
 * itself never looks at credentials.
 */
struct memtrace_cache_policy {
	bool cached;		/* CACHED pages asked for */
	bool all;		/* any file's (a privileged caller) */
	kuid_t fsuid;		/* else files of this owner (INVALID_UID: none) */
};

struct memtrace_walk {
	struct mm_struct *mm;	/* holds an mm_count reference (mmgrab) */
	/*
	 * A file's walk (memtrace_walk_init_file()) in place of an mm's: its
	 * page cache only, addresses are byte offsets in it; a reference held
	 * until memtrace_walk_release()
	 */
	struct file *file;
	unsigned long start;	/* page aligned */
	unsigned long end;	/* page aligned, exclusive */
	unsigned long next;	/* first page not yet classified */
	enum memtrace_mode mode;
	bool show_pfn;		/* pfns (and swap entries) in the records */
	bool folio;		/* folio orders in the records' flags (record.h) */
	bool nowait;		/* mmap_lock busy: -EBUSY (memtrace_walk_step()) */
	/*
	 * jiffies: a nowait walk past it stops between page tables (page
	 * cache entries), -EBUSY too, its place kept; 0: none
	 */
	unsigned long deadline;
	struct memtrace_cache_policy cache_policy;	/* cache.c */
	bool have_pending;
	bool done;		/* every record, the last included, was taken */
	bool one_node;		/* one NUMA node online (this step): node0 */
	int node0;
	/* a hugetlb file's i_mmap_rwsem held for read while its VMA is walked */
	struct address_space *i_mmap;
	/* its file, when the lock was busy: waited for without mmap_lock */
	struct file *i_mmap_wait;
	unsigned int i_mmap_tries;	/* yields to it in a row */
	/*
	 * cached: the page cache of the VMA being walked, when it has one
	 * to look in (NULL: its pages with no entry are NONE), that VMA, and
	 * the kind flag (FILE or SHMEM) of its cached pages
	 */
	struct address_space *cache;
	struct vm_area_struct *cache_vma;
	u32 cache_kind;
	struct memtrace_record pending;
	u64 counts[MEMTRACE_NSTATES_ALL];
	memtrace_sink_t sink;
	void *sink_arg;
	struct memtrace_room *room;	/* pages mode: lent by the transport, or NULL */
};

void memtrace_walk_init(struct memtrace_walk *w, struct mm_struct *mm,
			unsigned long start, unsigned long end,
			enum memtrace_mode mode, bool show_pfn,
			const struct memtrace_cache_policy *cache_policy,
			memtrace_sink_t sink, void *arg,
			struct memtrace_room *room);
void memtrace_walk_init_file(struct memtrace_walk *w, struct file *file,
			     unsigned long start, unsigned long end,
			     enum memtrace_mode mode, u32 kind,
			     memtrace_sink_t sink, void *arg,
			     struct memtrace_room *room);
int memtrace_walk_step(struct memtrace_walk *w);
void memtrace_walk_release(struct memtrace_walk *w);

extern const char *const memtrace_state_names[MEMTRACE_NSTATES_ALL];

#endif /* _MEMTRACE_WALK_H */
