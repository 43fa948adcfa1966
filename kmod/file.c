// SPDX-License-Identifier: GPL-2.0
/*
 * The query stage of a file's answer (MEMTRACE_CMD_FILE): from a file the
 * sender opened to a walk of its page cache (cache.c). It decides which
 * files have a page cache to show, who may see it, and the range; the
 * transport resolves the descriptor and encodes the records.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>

#include "compat.h"
#include "query.h"

#define MEMTRACE_FILE_WHY_KIND						\
	"FD is not a regular file or block device with a page cache "	\
	"(hugetlbfs, DAX, procfs and the like have none)"
#define MEMTRACE_FILE_WHY_PERM						\
	"permission denied: FD is not open for writing and the sender "	\
	"neither owns the file nor may write it (cachestat(2)'s rule), "	\
	"or the socket's opener is another user"
#define MEMTRACE_FILE_WHY_WAIT						\
	"permission denied: whether the sender may write the file was "	\
	"not known without waiting (for a FUSE server, an uncached ACL "	\
	"or a security module): open FD for writing"

/*
 * Has file a page cache whose pages memtrace_cache_file() may look up? A
 * regular file or a block device (its page cache: the mapping's host, the
 * block device's own inode; its size too), not hugetlbfs (its tree counts huge
 * pages) or DAX (no page cache), and one that reads its pages through its
 * page cache (->read_folio; tmpfs, which has none, fills it itself): not
 * procfs, sysfs or the like, whose regular files have an empty tree.
 */
static int memtrace_file_kind(struct file *file, u32 *kind)
{
	struct inode *inode = file_inode(file);
	struct address_space *mapping = file->f_mapping;
	struct inode *host;
	bool tmpfs;

	if (!inode || !(S_ISREG(inode->i_mode) || S_ISBLK(inode->i_mode)))
		return -EINVAL;
	/*
	 * The page cache's owner: a block device's node (on devtmpfs, a
	 * tmpfs) is not the block device's inode, which holds its cache
	 */
	host = mapping ? mapping->host : NULL;
	if (!host || IS_DAX(host) || host->i_sb->s_magic == HUGETLBFS_MAGIC)
		return -EINVAL;
	tmpfs = host->i_sb->s_magic == TMPFS_MAGIC;
	if (!tmpfs && !memtrace_aops_read(mapping))
		return -EINVAL;
	*kind = tmpfs ? MEMTRACE_F_SHMEM : MEMTRACE_F_FILE;
	return 0;
}

/*
 * May the sender see file's residency? cachestat(2)'s can_do_cachestat()
 * (mm/filemap.c), with the sender's credentials, which are current's: the
 * file is open for writing, or the sender owns its inode or has CAP_FOWNER
 * over it, or may write it. A file one may only read keeps its residency
 * to itself: that is the side channel of CVE-2019-5489. And never more
 * than the socket's opener (memtrace_caller): the checks above run with the
 * sender's credentials, so a sender that differs from the opener in what
 * they judge (fsuid, fsgid, effective capabilities: a setgid or
 * file-capability program handed the opener's socket) must have
 * CAP_SYS_ADMIN.
 * This runs in the request's sendmsg(), under genetlink's cb_lock: the
 * filesystem is not waited for (a FUSE server asked for the inode's
 * attributes may never answer): MAY_NOT_BLOCK, the path walk's RCU mode,
 * under rcu_read_lock() as there (a cached ACL is read under RCU alone);
 * -ECHILD where it would have to wait. Else 0 or -EPERM.
 */
static int memtrace_file_allowed(struct file *file,
				 const struct memtrace_caller *c)
{
	int err;

	if (c->opener && !c->cap_admin &&
	    (!uid_eq(c->opener->fsuid, c->cred->fsuid) ||
	     !gid_eq(c->opener->fsgid, c->cred->fsgid) ||
	     !cap_issubset(c->cred->cap_effective, c->opener->cap_effective)))
		return -EPERM;
	if (file->f_mode & FMODE_WRITE)
		return 0;
	if (memtrace_file_owner_or_capable(file))
		return 0;
	rcu_read_lock();
	err = file_permission(file, MAY_WRITE | MAY_NOT_BLOCK);
	rcu_read_unlock();
	return err == -ECHILD ? err : err ? -EPERM : 0;
}

/*
 * Start answering req about file for caller c in q, taking over the
 * caller's reference to file on success (on error it stays the caller's).
 * Must run in the sender's own context (c->cred is current's): the
 * permission checks ask current. Errors, *why saying which: EINVAL (no
 * page cache to show, an empty range as given, an unknown mode), ERANGE
 * (past MAX_LFS_FILESIZE), EPERM (memtrace_file_allowed()).
 */
int memtrace_query_start_file(struct memtrace_query *q,
			      const struct memtrace_request *req,
			      struct file *file,
			      const struct memtrace_caller *c,
			      memtrace_sink_t sink, void *arg,
			      struct memtrace_room *room, const char **why)
{
	u64 start = req->start, end = req->end, size;
	u32 kind;
	int err;

	*why = "unknown MODE";
	if (req->mode > MEMTRACE_MODE_MAX)
		return -EINVAL;
	*why = MEMTRACE_FILE_WHY_KIND;
	err = memtrace_file_kind(file, &kind);
	if (err)
		return err;
	err = memtrace_file_allowed(file, c);
	*why = err == -ECHILD ? MEMTRACE_FILE_WHY_WAIT : MEMTRACE_FILE_WHY_PERM;
	if (err)
		return -EPERM;
	*why = "START or END is past MAX_LFS_FILESIZE";
	if (start > MAX_LFS_FILESIZE ||
	    (!req->to_task_size && end > MAX_LFS_FILESIZE))
		return -ERANGE;
	*why = "END must be above START";
	if (!req->to_task_size && end <= start)
		return -EINVAL;	/* judged as written, before rounding */
	*why = NULL;
	start = round_down(start, PAGE_SIZE);
	if (req->to_task_size) {
		/* to the end of the file; an empty answer past it */
		size = round_up((u64)i_size_read(file->f_mapping->host),
				PAGE_SIZE);
		end = max(size, start);
	} else {
		end = round_up(end, PAGE_SIZE);
	}
	memtrace_query_release(q);
	q->req = *req;
	q->req.cached = true;	/* the summary counts CACHED */
	q->start = start;
	q->end = end;
	q->show_pfn = false;
	memtrace_walk_init_file(&q->walk, file, start, end, req->mode, kind,
				sink, arg, room);
	q->walk.folio = req->folio;	/* each entry's order (cache.c) */
	return 0;
}
