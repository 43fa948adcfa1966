// SPDX-License-Identifier: GPL-2.0
/*
 * Cached pages: when a query asks for them, a page of a file or shmem VMA
 * with no page-table entry is CACHED rather than NONE when the file page a
 * fault there would map is in the page cache. It is looked up the way
 * cachestat(2) (mm/filemap.c) counts pages: the file's page-cache tree
 * (mapping->i_pages) read under RCU with the exported XArray functions, its
 * dirty and writeback tags read at the entry. No page is faulted, read,
 * referenced (not even for the lookup) or marked accessed, and no lock is
 * taken. An entry that is a value (a tmpfs page swapped out, a shadow entry
 * of an evicted page) is no page: NONE.
 *
 * Where a whole PTE table or more is missing (walk.c: a none PMD, PUD, P4D
 * or PGD), the range is looked up in one pass over the tree
 * (xas_for_each(), which skips what is not cached); in a PTE table, each
 * none entry is looked up on its own (pte.c: xas_load(), a descent of the
 * tree). Either costs at most a descent per page of the range.
 */
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/xarray.h>

#include "walk_internal.h"

/*
 * May the walk's caller see the residency of vma's file (the rule:
 * uapi/memtrace.h, MEMTRACE_CACHED)? The checks of mincore(2)'s
 * can_do_mincore() since Linux 5.0 (CVE-2019-5489), on the query's policy
 * rather than on current's credentials: a privileged caller (policy->all),
 * a file whose owner is the caller's fsuid, or shared anonymous memory (a
 * tmpfs inode of the kernel's own mount, S_PRIVATE: MAP_SHARED|MAP_ANONYMOUS
 * and SysV shm, whose inodes are mode 0777, so that mincore's
 * write-permission check allows them too). file_permission(MAY_WRITE) is
 * not asked (it needs credentials), and a file the target opened for
 * writing does not count: the caller may read the target's page tables
 * (PTRACE_MODE_READ, which Yama and other modules do not restrict), not
 * act as it, and kernel-made shmem files (GEM buffers) are always open for
 * writing. A file the caller could write but does not own shows NONE,
 * stricter than mincore(2).
 */
static bool memtrace_cache_allowed(const struct memtrace_cache_policy *policy,
				   const struct inode *inode)
{
	if (policy->all)
		return true;
	if (uid_valid(policy->fsuid) && uid_eq(inode->i_uid, policy->fsuid))
		return true;
	return IS_PRIVATE(inode) && inode->i_sb->s_magic == TMPFS_MAGIC;
}

/*
 * Files whose inodes are S_IFREG but not files: secret memory (5.14+; not
 * even its residency should show), KVM guest memory (6.8+, mmap-able on
 * 7.x), and from 6.15 every anonymous inode (dma-buf and drivers' own).
 * Each magic is tested where the headers define it.
 */
static bool memtrace_cache_special(const struct inode *inode)
{
	unsigned long magic = inode->i_sb->s_magic;

#ifdef SECRETMEM_MAGIC
	if (magic == SECRETMEM_MAGIC)
		return true;
#endif
#ifdef GUEST_MEMFD_MAGIC
	if (magic == GUEST_MEMFD_MAGIC)
		return true;
#endif
#ifdef DMA_BUF_MAGIC
	if (magic == DMA_BUF_MAGIC)
		return true;
#endif
	return magic == ANON_INODE_FS_MAGIC;
}

/*
 * The VMA about to be walked: its page cache, when CACHED pages are asked
 * for, the caller may see them (memtrace_cache_allowed()) and its pages
 * with no entry have one to be found in: a file mapping whose faults
 * (->fault) fill it from a regular file's or a block device's page cache.
 * Not anonymous memory, hugetlbfs (its tree counts huge pages), DAX (no
 * page cache), a raw PFN, mixed or I/O mapping (a device's, whatever its
 * file), nor a character device or other special file. tmpfs and shared
 * anonymous memory (a shmem file) are SHMEM, as their present pages are
 * (swap backed); shmem_mapping() would say it, but is exported only from
 * 6.x on.
 */
void memtrace_cache_vma(struct memtrace_walk *w, struct vm_area_struct *vma)
{
	struct address_space *mapping;
	struct inode *inode;

	w->cache = NULL;
	w->cache_vma = NULL;
	if (!w->cache_policy.cached || !vma->vm_file || vma_is_anonymous(vma) ||
	    !vma->vm_ops || !vma->vm_ops->fault || is_vm_hugetlb_page(vma) ||
	    (vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP | VM_IO)) ||
	    vma_is_dax(vma))
		return;
	mapping = vma->vm_file->f_mapping;
	if (!mapping)
		return;
	inode = mapping->host;
	if (!inode || !(S_ISREG(inode->i_mode) || S_ISBLK(inode->i_mode)))
		return;
	if (memtrace_cache_special(inode) ||
	    !memtrace_cache_allowed(&w->cache_policy, file_inode(vma->vm_file)))
		return;
	w->cache = mapping;
	w->cache_vma = vma;
	w->cache_kind = inode->i_sb->s_magic == TMPFS_MAGIC ?
			MEMTRACE_F_SHMEM : MEMTRACE_F_FILE;
}

/* The flags of the cached page at xas (its entry just loaded). */
static u32 memtrace_cache_flags(const struct memtrace_walk *w,
				const struct xa_state *xas)
{
	u32 flags = w->cache_kind;

	if (xas_get_mark(xas, PAGECACHE_TAG_DIRTY))
		flags |= MEMTRACE_F_DIRTY;
	if (xas_get_mark(xas, PAGECACHE_TAG_WRITEBACK))
		flags |= MEMTRACE_F_WRITEBACK;
	return flags;
}

/*
 * Is a page-cache entry a page (a folio), not a value (shadow, swapped-out
 * shmem), nor an internal entry (a reserved slot, or a sibling that kernels
 * without "XArray: Do not return sibling entries from xa_load()" may hand
 * back in a race)?
 */
static bool memtrace_cache_is_page(const void *entry)
{
	return entry && !xa_is_value(entry) && !xa_is_internal(entry);
}

/*
 * The page at addr of the VMA w->cache_vma, which has no page-table entry:
 * CACHED (and *flags) or NONE. The caller holds rcu_read_lock() (pte.c
 * reads a PTE table under it) and has w->cache set.
 */
u8 memtrace_cache_page(const struct memtrace_walk *w, unsigned long addr,
		       u32 *flags)
{
	XA_STATE(xas, &w->cache->i_pages, linear_page_index(w->cache_vma, addr));
	void *entry;

	for (;;) {
		entry = xas_load(&xas);
		if (!xa_is_retry(entry))
			break;
		xas_reset(&xas);	/* a node being freed: from the top */
	}
	if (!memtrace_cache_is_page(entry))
		return MEMTRACE_NONE;
	*flags = memtrace_cache_flags(w, &xas);
	if (w->folio)
		*flags |= MEMTRACE_REC_ORDER(memtrace_xas_get_order(&xas));
	return MEMTRACE_CACHED;
}

/*
 * The cached pages of [lo, hi) (page indexes of the file w->cache, hi >
 * lo), recorded from addr on: CACHED pieces of equal flags, the rest NONE.
 * The one walk of a page-cache tree, for a VMA's pages with no entry
 * (memtrace_add_none()) and for a file's own answer (memtrace_cache_file()).
 * Walks the tree once under RCU, one entry at a time, and after each entry
 * (a page or not):
 * - a fatal signal ends the walk (-EINTR);
 * - in a VMA walk (w->mm), a writer waiting for mmap_lock makes it yield
 *   (MEMTRACE_WALK_YIELD) once it has made progress: what is behind the
 *   entry is NONE, recorded, and the walk goes on from the entry after the
 *   writer (w->next), reading the page tables again, as the walk does
 *   between page tables; so does a nowait walk's deadline, in a file's
 *   answer too (memtrace_walk_step(): -EBUSY);
 * - else it reschedules when asked (RCU dropped, then on from the first
 *   page not yet read: see below).
 * A none PUD is up to 2^18 entries of a fully cached file, merged into one
 * run: without this, a writer would wait for all of them.
 * No entry is dereferenced: its marks and order are read from the tree's
 * nodes, which RCU keeps while the walk reads them, so a truncation racing
 * the walk gives the answer of a moment earlier (a folio itself is not kept
 * by RCU: reading one would need folio_try_get() and xas_reload()).
 */
static int memtrace_cache_range(struct memtrace_walk *w, unsigned long addr,
				pgoff_t lo, pgoff_t hi)
{
	XA_STATE(xas, &w->cache->i_pages, lo);
	pgoff_t next = lo, first, last, stop, resume;
	unsigned int order;
	unsigned long nr;
	void *entry;
	u32 flags;
	int ret = 0;

	rcu_read_lock();
	xas_for_each(&xas, entry, hi - 1) {
		resume = xas.xa_index;
		if (xas_retry(&xas, entry)) {
			/* a reserved slot is no page; a retry entry is read again */
			if (xa_is_zero(entry))
				resume++;
			goto breather;
		}
		resume++;
		if (!memtrace_cache_is_page(entry))
			goto breather;
		/*
		 * A large folio is one multi-index entry, found at its first
		 * index in the range. Its order is the entry's own where
		 * xas_get_order() is exported; else xa_get_order() looks it up
		 * again, and may see another entry (one replaced meanwhile):
		 * a range that ends before it starts is then skipped.
		 */
		order = memtrace_xas_get_order(&xas);
		nr = 1UL << order;
		first = max(next, xas.xa_index);
		last = min(round_down(xas.xa_index, nr) + nr - 1, hi - 1);
		if (last < first)
			goto breather;
		flags = memtrace_cache_flags(w, &xas);
		if (w->folio)
			flags |= MEMTRACE_REC_ORDER(order);
		if (first > next)
			ret = memtrace_add_blank(w, addr + ((next - lo) << PAGE_SHIFT),
						 addr + ((first - lo) << PAGE_SHIFT),
						 MEMTRACE_NONE);
		if (!ret)
			ret = memtrace_add(w, addr + ((first - lo) << PAGE_SHIFT),
					   last - first + 1, MEMTRACE_CACHED, flags,
					   0, false, MEMTRACE_NO_NODE);
		if (ret)
			break;
		next = last + 1;
		if (next >= hi)
			break;
breather:	/* after every entry, a page or not */
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		stop = max(next, xas.xa_index);
		if (stop > lo && ((w->mm && mmap_lock_is_contended(w->mm)) ||
				  memtrace_walk_late(w))) {
			ret = MEMTRACE_WALK_YIELD;
			break;
		}
		if (need_resched()) {
			/*
			 * Not xas_pause(): an entry found in the middle of a
			 * large folio (lo there) keeps xa_index at lo, and
			 * xas_pause() adds the whole folio to it, skipping
			 * pages. Go on from the first page not yet read.
			 */
			rcu_read_unlock();
			cond_resched();
			rcu_read_lock();
			xas_set(&xas, max(next, resume));
		}
	}
	rcu_read_unlock();
	if (ret == MEMTRACE_WALK_YIELD) {
		/* [next, stop) has no page: say so, then let the writer in */
		if (next < stop)
			ret = memtrace_add_blank(w, addr + ((next - lo) << PAGE_SHIFT),
						 addr + ((stop - lo) << PAGE_SHIFT),
						 MEMTRACE_NONE) ?: MEMTRACE_WALK_YIELD;
		return ret;
	}
	if (!ret && next < hi)
		ret = memtrace_add_blank(w, addr + ((next - lo) << PAGE_SHIFT),
					 addr + ((hi - lo) << PAGE_SHIFT),
					 MEMTRACE_NONE);
	return ret;
}

/*
 * [addr, end) of the VMA being walked has no page-table entry (no PTE table
 * or more): NONE, or where asked for, its pages in the page cache CACHED.
 */
int memtrace_add_none(struct memtrace_walk *w, unsigned long addr,
		      unsigned long end)
{
	pgoff_t lo, hi;

	if (!w->cache || !READ_ONCE(w->cache->nrpages))
		return memtrace_add_blank(w, addr, end, MEMTRACE_NONE);
	lo = linear_page_index(w->cache_vma, addr);
	hi = lo + ((end - addr) >> PAGE_SHIFT);
	if (unlikely(hi <= lo))	/* mmap(2) refuses an offset that wraps */
		return memtrace_add_blank(w, addr, end, MEMTRACE_NONE);
	return memtrace_cache_range(w, addr, lo, hi);
}

/*
 * A file's answer (MEMTRACE_CMD_FILE): [w->next, w->end) of w->cache, byte
 * offsets. No lock is held: the walk reschedules and stops on a fatal
 * signal, and stops early when the sink is full (MEMTRACE_WALK_FULL),
 * w->next past what was taken.
 */
int memtrace_cache_file(struct memtrace_walk *w)
{
	pgoff_t lo = w->next >> PAGE_SHIFT, hi = w->end >> PAGE_SHIFT;

	if (lo >= hi)
		return 0;
	return memtrace_cache_range(w, w->next, lo, hi);
}
