/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * memtrace: how Linux backs a process's virtual memory, page by page.
 *
 * This header is the one contract between the kernel module (kmod/) and the
 * client (user/). Both include it; nothing else defines these numbers.
 *
 * Page states
 * -----------
 * Every page of a queried range [START, END) is in exactly one state:
 *
 *   MEMTRACE_UNMAPPED   no VMA covers the page
 *   MEMTRACE_NONE       in a VMA, no page-table entry: never touched, or
 *                       dropped (MADV_DONTNEED, reclaim of a clean file page,
 *                       a shmem/tmpfs page swapped out: as pagemap says)
 *   MEMTRACE_ZERO       mapped to the shared zero page (4K or huge): a read
 *                       fault on anonymous memory; not a frame of its own and
 *                       not counted in RSS
 *   MEMTRACE_PRESENT    a frame of its own ("backed")
 *   MEMTRACE_SWAP       a swap entry
 *   MEMTRACE_MIGRATION  a migration entry (the page is being moved)
 *   MEMTRACE_OTHER      any other non-present entry (uffd-wp marker,
 *                       device-private entry, hwpoison, ...)
 *   MEMTRACE_CACHED     only in an answer that asks for it (netlink:
 *                       MEMTRACE_A_CACHED; /proc/memtrace: the word
 *                       "cached"), in place of NONE: no page-table entry,
 *                       but the file (or tmpfs/shmem) page that a fault
 *                       there would map is in the page cache. What
 *                       mincore(2) calls resident is PRESENT + CACHED (but
 *                       for a tmpfs page swapped out and still in the swap
 *                       cache, which stays NONE). Found by a lookup of the
 *                       file's page-cache tree under RCU, as cachestat(2)
 *                       counts: no page is faulted, read, referenced or
 *                       marked accessed. Pages of a large folio past
 *                       the end of the file are CACHED too, as mincore(2)
 *                       says. A query that does not ask never
 *                       gets it (nor its counts): old clients see NONE.
 *                       Only where the caller may know a file's residency,
 *                       the rule of mincore(2) since Linux 5.0
 *                       (CVE-2019-5489), judged on the querying identity
 *                       (with netlink, never more than the socket's
 *                       opener): a caller with CAP_SYS_ADMIN (in the
 *                       initial user namespace) sees every mapping's; any
 *                       other sees the page cache of a mapping whose inode
 *                       is owned by the caller's fsuid, or of shared
 *                       anonymous memory (MAP_SHARED|MAP_ANONYMOUS, SysV
 *                       shm). Any other mapping's pages with no entry stay
 *                       NONE (a file the caller could write but does not
 *                       own included, even one the target opened for
 *                       writing: stricter than mincore(2)). Only mappings
 *                       whose faults fill them from the page cache of a
 *                       regular file, a block device or tmpfs/shmem: never
 *                       anonymous memory, hugetlbfs, DAX, VM_PFNMAP,
 *                       VM_MIXEDMAP or VM_IO mappings, secret memory
 *                       (memfd_secret), KVM guest memory, dma-buf or other
 *                       anonymous inodes, character devices or other
 *                       special files.
 *
 * Flags
 * -----
 * Set on PRESENT pages (ZERO pages carry only the size):
 *   ANON / FILE / SHMEM / PFNMAP
 *                        what backs the frame (at most one of them); PFNMAP
 *                        is a raw frame of a VM_PFNMAP/VM_IO mapping ([vvar],
 *                        device memory) or of a special entry (pte_special(),
 *                        e.g. VM_MIXEDMAP): no struct page of its own, and
 *                        /proc/PID/pagemap reports such pages as not present
 *   WRITE                the entry is writable
 *   DIRTY                the entry is dirty
 *   YOUNG                the entry is young (accessed)
 *   EXCL                 mapped exactly once, as /proc/PID/pagemap's
 *                        PM_MMAP_EXCLUSIVE says it on the running kernel:
 *                        a writable entry of a private anonymous mapping
 *                        (copy-on-write write-protects shared ones), else
 *                        that kernel's mapcount test (a 2M THP: the head
 *                        page's for all its pages, but each page's own on
 *                        6.11 to 6.14; hugetlb: the folio's)
 *   HUGETLB              the page belongs to a hugetlbfs mapping
 *   SIZE_PMD / SIZE_PUD  mapped by a PMD / PUD entry (THP or hugetlb);
 *                        neither: mapped by a PTE (one page). Their sizes
 *                        are the kernel's PMD_SIZE and PUD_SIZE, which
 *                        GET_INFO reports: 2M and 1G with 4K pages (x86-64,
 *                        arm64), 32M and 64G with arm64's 16K pages; a
 *                        64-bit table of PAGE_SIZE/8 entries makes them
 *                        PAGE_SIZE^2/8 and PAGE_SIZE^3/64. Also named
 *                        SIZE_2M / SIZE_1G (their 4K-page sizes).
 *                        arm64's contiguous PTEs (6.9+) are PTEs: their
 *                        dirty and young are the whole block's, as the
 *                        kernel's ptep_get() and pagemap report them; a
 *                        contiguous hugetlb page's entries (before 6.9
 *                        its PTEs, and its PMDs) each tell their own
 *                        dirty and young, not the block's. Its folio
 *                        size (FOLIO) is the hugetlb page's
 * Set on CACHED pages: FILE or SHMEM (tmpfs, shared anonymous memory), and
 *   DIRTY                the page cache's dirty tag is set (the folio is
 *                        dirty and not yet written back), as cachestat(2)
 *                        counts nr_dirty; tmpfs/shmem keeps no such tag
 *   WRITEBACK            the folio is being written back (the writeback
 *                        tag, cachestat(2)'s nr_writeback)
 * A swap entry whose page is still in the swap cache is not told apart:
 * no kernel from 5.10 to 7.3 exports a swap-cache lookup to modules
 * (swapper_spaces, lookup_swap_cache(), swap_cache_get_folio(),
 * filemap_get_incore_folio()), so GET_INFO never announces
 * MEMTRACE_FEAT_SWAPCACHE.
 *
 * Folio order
 * -----------
 * Asked for (netlink: MEMTRACE_A_FOLIO; /proc/memtrace: the word "folio",
 * after "cached" if both), each record says the order of the folio (the
 * compound page) its pages belong to: a folio of PAGE_SIZE << order bytes.
 * It is what the page is, apart from how it is mapped (the SIZE flags): a
 * 64K anonymous folio (mTHP, 6.8+) mapped by 16 PTEs has order 4 and no
 * SIZE flag; a 2M THP whose PMD was split into PTEs (mprotect(2) of part
 * of it) keeps order 9 until the folio itself is split. PRESENT pages:
 * their folio's order, read under the entry's lock (a huge entry's too:
 * a THP's is its size's, a contiguous hugetlb page's the whole page's, a
 * DAX entry's what its pages are); ZERO: 0, or the huge zero page's order;
 * CACHED: the
 * page-cache entry's order; every other state, and a frame with no
 * struct page (PFNMAP): 0. Runs hold pages of one order. The answer comes
 * in record nests (MEMTRACE_R_FOLIO) or /proc lines (a last column,
 * "folio", the folio's size: 4K, 16K, 64K, ... 2M, or "-" where the order
 * is 0 for want of a folio); a PACKED query with
 * FOLIO is EINVAL. The anonymous fast path (no struct page read for a
 * writable private page) is off for such a query: it costs more.
 *
 * Frame value ("pfn")
 * -------------------
 * PRESENT and ZERO: the page frame number of this page (in pages mode, each
 * 4K page of a 2M or 1G mapping carries its own: head + offset). SWAP: the swap entry
 * encoded as /proc/PID/pagemap does, type in bits 0-4 and offset in bits 5-54.
 * It is 0 unless the caller has CAP_SYS_ADMIN, like pagemap. NODE is the NUMA
 * node of a present frame, -1 (MEMTRACE_NO_NODE) otherwise.
 *
 * Runs
 * ----
 * In MEMTRACE_MODE_RUNS adjacent pages with equal state, flags and node are
 * merged into one record; its pfn is the first page's. In MEMTRACE_MODE_PAGES
 * every page inside a VMA is one record, and an unmapped gap is always one
 * record (a gap has no pages to speak of).
 *
 * /proc/memtrace
 * --------------
 * Write one query line, then read the answer from the same open file (a
 * query written later replaces it: one open file serves many queries):
 *
 *   QUERY := PID WS RANGE [WS MODE] [WS "cached"] [WS] [NEWLINE]
 *   RANGE := START WS END | START WS "+" LENGTH | "all"
 *   MODE  := "runs" | "pages"                      (default: runs)
 *   "cached": report MEMTRACE_CACHED pages (MEMTRACE_FEAT_CACHED)
 *   PID, START, END, LENGTH: decimal, or hex with a 0x prefix
 *
 * START is rounded down and END up to page boundaries; "all" is [0, the
 * target's TASK_SIZE): 0x7ffffffff000 with 4-level paging, 2^56 - 4096 on a
 * CPU and kernel with 5-level paging (LA57); the header line tells. The PID
 * is resolved in the opener's pid namespace.
 * Errors from write(2): EINVAL (syntax, END <= START), ERANGE (START+LENGTH
 * overflows, END past TASK_SIZE), E2BIG (a line longer than
 * MEMTRACE_QUERY_MAX), ESRCH (no such process, kernel thread, exited),
 * EACCES (not allowed to look at that process).
 *
 * The answer, read(2) in as many calls as needed (text, tab-separated):
 *
 *   # memtrace pid=P start=0x... end=0x... page_size=4096
 *     mode=runs|pages    (one line)
 *   # addr	pages	state	size	flags	pfn	node
 *   0x7f0000000000	16	present	4K	a-wdyx	0x1234	0
 *   ...
 *   # summary pages=N unmapped=N none=N zero=N present=N swap=N
 *     migration=N other=N    (one line)
 *
 * flags is a fixed-width word of MEMTRACE_FLAG_LETTERS, '-' where unset:
 * kind (a anon, f file, s shmem, p pfnmap), h hugetlb, w write, d dirty,
 * y young, x exclusive. size is 4K, 2M or 1G. pfn is hex.
 *
 * A query with "cached" is answered the same way but for three things: the
 * first header line ends in " cached", the flags word has one letter more
 * (MEMTRACE_FLAGS_WIDTH_CACHED: b for WRITEBACK, last), and the summary
 * ends in " cached=N". A CACHED record's size is 4K, its pfn 0x0 and its
 * node -1.
 *
 * A file answers only the queries written to it: read(2) of a file without a
 * query of its own fails with ENODATA. From a shell, use one open file:
 *   exec 3<>/proc/memtrace; echo "$$ all" >&3; cat <&3
 * Every query is judged as the file's opener (its credentials, capabilities
 * and address space at open), whoever writes or reads the file later.
 *
 * Generic netlink
 * ---------------
 * Family MEMTRACE_GENL_NAME, version MEMTRACE_GENL_VERSION.
 *
 *   MEMTRACE_CMD_GET_INFO (doit)  request: no attributes
 *                                 reply: VERSION, PAGE_SIZE, NSTATES,
 *                                 FLAGS_MASK, TASK_SIZE, FEATURES (u32,
 *                                 enum memtrace_feature: what a query
 *                                 may ask for besides; a module without
 *                                 it has none of them). A later
 *                                 version may add attributes to this
 *                                 reply: a client ignores those it
 *                                 does not know.
 *   MEMTRACE_CMD_QUERY (dump)     request: PID (required), START (default
 *                                 0), END (default: the target's
 *                                 TASK_SIZE), MODE (default runs),
 *                                 PACKED (flag, see below), INDEXED
 *                                 (flag, with PACKED: a byte a page,
 *                                 see below), NO_PFN (flag: every pfn
 *                                 0, as for a caller without
 *                                 CAP_SYS_ADMIN; a residency query
 *                                 saves 8 bytes a page), CACHED (flag:
 *                                 report MEMTRACE_CACHED pages; only
 *                                 when GET_INFO's FEATURES has
 *                                 MEMTRACE_FEAT_CACHED, else EINVAL),
 *                                 FOLIO (flag: each record nest
 *                                 carries MEMTRACE_R_FOLIO; not with
 *                                 PACKED; MEMTRACE_FEAT_FOLIO)
 *                                 replies: each message repeats PID, START,
 *                                 END, MODE of the answer and carries
 *                                 MEMTRACE_A_RECORD nests in address
 *                                 order; the last one carries
 *                                 MEMTRACE_A_SUMMARY. No message waits
 *                                 for a lock of the target for more than
 *                                 about 100 ms (the first, made in the
 *                                 request's sendmsg() under genetlink's
 *                                 own lock, not at all): while its
 *                                 mmap_lock stays busy, messages carry
 *                                 what was classified, maybe no record
 *                                 at all (the header alone), and the
 *                                 answer goes on as it is read (a lock
 *                                 only tried can be missed again and
 *                                 again: threads that map and unmap
 *                                 without pause hold it back, and
 *                                 processes mapping and unmapping a
 *                                 hugetlbfs file its hugetlb part).
 *                                 EAGAIN:
 *                                 the process was in an execve() that
 *                                 held its exec_update_lock (try again)
 *   MEMTRACE_CMD_FILE (dump)      only when GET_INFO's FEATURES has
 *                                 MEMTRACE_FEAT_FILE: the page cache
 *                                 of a file, see "Files" below.
 *                                 request: FD (required), START, END,
 *                                 MODE, PACKED, INDEXED, FOLIO (the
 *                                 page-cache entry's order) as for
 *                                 QUERY (NO_PFN and CACHED are accepted
 *                                 and change nothing); replies as for
 *                                 QUERY, with FD in place of PID
 *
 *   MEMTRACE_CMD_TOP (dump)       (MEMTRACE_FEAT_TOP) request: CACHED
 *                                 (flag, as for QUERY: only with
 *                                 MEMTRACE_FEAT_CACHED) and nothing else
 *                                 replies: MEMTRACE_A_PROC nests, one per
 *                                 process the sender may query (as QUERY
 *                                 judges it), in pid order, each with
 *                                 PID, COMM, SUMMARY (of its whole user
 *                                 address space, [0, TASK_SIZE): NONE is
 *                                 what its VMAs reserve and never
 *                                 touched) and THP. Processes the sender
 *                                 may not query, kernel threads and
 *                                 processes that exit meanwhile are left
 *                                 out, never an error. Each process is
 *                                 counted on its own, at its own moment:
 *                                 the dump is no snapshot of the system.
 *                                 A process whose leader thread has
 *                                 exited is counted through a live
 *                                 thread (a QUERY of its pid is ESRCH,
 *                                 as its /proc/PID/pagemap reads
 *                                 nothing). No lock of a process is
 *                                 waited for, only tried again, 200 ms
 *                                 per process and 1 s per dump at most:
 *                                 one whose mmap_lock stays busy is told
 *                                 as counted so far, with P_BUSY; one
 *                                 stuck in an execve() is left out. The
 *                                 first message, made in the request's
 *                                 sendmsg() under genetlink's own lock,
 *                                 tries each lock once and counts for
 *                                 10 ms at most: a process it cannot
 *                                 count in that time is told with P_BUSY
 *                                 too.
 *
 * Attributes are validated strictly: an unknown or unexpected attribute or a
 * wrong length is EINVAL, a MODE above MEMTRACE_MODE_MAX is ERANGE, each with
 * an extended ACK message saying which. QUERY errors are
 * those of /proc/memtrace's write(2), each with a message. Permissions are
 * judged with the sender's credentials and capabilities, and never more
 * widely than for the socket's opener (as netlink_capable() does).
 *
 * A record nest holds MEMTRACE_R_ADDR (u64), MEMTRACE_R_PAGES (u64),
 * MEMTRACE_R_STATE (u8), MEMTRACE_R_FLAGS (u32), MEMTRACE_R_PFN (u64),
 * MEMTRACE_R_NODE (s32). A summary nest holds one u64 per state,
 * attribute number = state + 1: MEMTRACE_NSTATES of them, and one more
 * (MEMTRACE_CACHED + 1) in the answer to a query with CACHED.
 *
 * Files
 * -----
 * MEMTRACE_CMD_FILE answers what fincore(1) and cachestat(2) tell: which
 * pages of a file are in its page cache, with no process involved. The
 * sender opens the file and passes its descriptor (MEMTRACE_A_FD: netlink
 * only, /proc/memtrace has no such query), looked up in the sender's file
 * table when the dump starts (the request's sendmsg()); the module holds
 * that file until the dump ends, however it ends (the last message, an
 * error, the socket closed half-way). A block device's page cache and size
 * are the device's own (not its /dev node's).
 * START and END are byte offsets in the file: START is rounded down, END up
 * to pages; without END, the answer ends at the file's size (rounded up to
 * a page) when the dump starts, without START it starts at 0. An END past
 * the end of the file is answered all the same, as cachestat(2) does:
 * pages past EOF are NONE, but for the tail of a large folio that
 * straddles EOF (CACHED, as mincore(2) says). START or END past
 * MAX_LFS_FILESIZE is ERANGE, END <= START (as given) EINVAL; with END
 * omitted and START at or past the end of the file the answer is empty
 * (START = END, no records, a summary of zeros).
 * A record's ADDR is a byte offset in the file. Every page is CACHED (flags
 * FILE, or SHMEM for tmpfs; DIRTY and WRITEBACK as for CACHED above) or
 * NONE (not in the page cache, a tmpfs page swapped out included); the
 * summary has MEMTRACE_NSTATES_ALL counts. Looked up as the CACHED state
 * is, under RCU without a page reference: a truncation racing the answer
 * shows some of its pages as they were, never faults.
 * Who may ask: the rule of cachestat(2) (can_do_cachestat()), judged on the
 * sender, so that a file one may only read keeps its residency to itself
 * (CVE-2019-5489): the descriptor is open for writing, or the sender owns
 * the inode or has CAP_FOWNER over it, or the sender may open it for
 * writing (MAY_WRITE; asked without waiting for the filesystem: where it
 * would have to ask its server or load an ACL, EPERM with a message saying
 * so: often on NFS, FUSE or ceph, always under Smack; the way out is a
 * descriptor open for writing);
 * and when the socket's opener has another fsuid, only a sender with
 * CAP_SYS_ADMIN. Else EPERM.
 * Errors, each with an extack message: no FD (EINVAL), FD not open or an
 * O_PATH descriptor (EBADF), not a regular file or block device, a
 * hugetlbfs or DAX file, or one without a page cache (EINVAL), EPERM.
 *
 * Packed answers
 * --------------
 * A QUERY with the MEMTRACE_A_PACKED flag is answered with arrays instead of
 * one nest per record (a nest costs ~64 bytes and a dozen attribute headers;
 * a page of a packed page vector costs 4 bytes, 12 with its pfn):
 *
 *   MEMTRACE_A_RUNS     an array of struct memtrace_run, one per record
 *   MEMTRACE_A_PAGEVEC  pages mode, pages inside a VMA: struct
 *                       memtrace_pagevec, then count __u32 page words, one
 *                       record of one page each, from addr on
 *   MEMTRACE_A_PFNVEC   count __u64 pfns of the PAGEVEC right before it;
 *                       sent only to callers who may see pfns (else every
 *                       pfn is 0)
 *
 *   MEMTRACE_A_PAGEIDX  pages mode with the MEMTRACE_A_INDEXED flag, in
 *                       place of PAGEVEC: struct memtrace_pageidx, then
 *                       count __u8 indexes, one a page from addr on,
 *                       zeros up to a multiple of 4 bytes, then nwords
 *                       (1 to 256) __u32 page words: page i's word is
 *                       word[index[i]]. A byte a page, as mincore(2)
 *                       gives, and the whole word all the same: a
 *                       range holds few distinct words. A PFNVEC follows
 *                       it as it follows a PAGEVEC.
 *
 * In address order, like the nests; unmapped gaps of pages mode come as
 * RUNS. Runs and page words carry state, flags and node in one __u32 word,
 * MEMTRACE_PW(). Arrays are only 4-byte aligned (netlink attributes are):
 * read their __u64s with memcpy. INDEXED without PACKED is EINVAL; in runs
 * mode it changes nothing.
 */
#ifndef _UAPI_MEMTRACE_H
#define _UAPI_MEMTRACE_H

#include <linux/types.h>

#define MEMTRACE_PROC_NAME	"memtrace"
#define MEMTRACE_QUERY_MAX	256	/* bytes in one query line */

enum memtrace_state {
	MEMTRACE_UNMAPPED = 0,
	MEMTRACE_NONE,
	MEMTRACE_ZERO,
	MEMTRACE_PRESENT,
	MEMTRACE_SWAP,
	MEMTRACE_MIGRATION,
	MEMTRACE_OTHER,
	MEMTRACE_CACHED,	/* only when asked for: see above */
	MEMTRACE_NSTATES_ALL
};

/*
 * The states of an answer that asks for nothing more, and what GET_INFO's
 * NSTATES says (a client checks it against its own).
 */
#define MEMTRACE_NSTATES MEMTRACE_CACHED

/* Names as printed by /proc/memtrace and the client, indexed by state. */
#define MEMTRACE_STATE_NAMES \
	{ "unmapped", "none", "zero", "present", "swap", "migration", "other" }
#define MEMTRACE_STATE_NAMES_ALL					\
	{ "unmapped", "none", "zero", "present", "swap", "migration", "other", \
	  "cached" }

enum memtrace_flag {
	MEMTRACE_F_ANON    = 1U << 0,
	MEMTRACE_F_FILE    = 1U << 1,
	MEMTRACE_F_SHMEM   = 1U << 2,
	MEMTRACE_F_PFNMAP  = 1U << 3,
	MEMTRACE_F_HUGETLB = 1U << 4,
	MEMTRACE_F_WRITE   = 1U << 5,
	MEMTRACE_F_DIRTY   = 1U << 6,
	MEMTRACE_F_YOUNG   = 1U << 7,
	MEMTRACE_F_EXCL    = 1U << 8,
	MEMTRACE_F_SIZE_PMD = 1U << 9,
	MEMTRACE_F_SIZE_PUD = 1U << 10,
	MEMTRACE_F_WRITEBACK = 1U << 11,	/* CACHED pages only */
};

/* Their first names, the sizes they have with 4K pages. */
#define MEMTRACE_F_SIZE_2M MEMTRACE_F_SIZE_PMD
#define MEMTRACE_F_SIZE_1G MEMTRACE_F_SIZE_PUD

#define MEMTRACE_F_KIND_MASK \
	(MEMTRACE_F_ANON | MEMTRACE_F_FILE | MEMTRACE_F_SHMEM | MEMTRACE_F_PFNMAP)
#define MEMTRACE_F_SIZE_MASK (MEMTRACE_F_SIZE_PMD | MEMTRACE_F_SIZE_PUD)
/* The flags of an answer that asks for nothing more (GET_INFO's FLAGS_MASK) */
#define MEMTRACE_F_ALL	     ((MEMTRACE_F_SIZE_PUD << 1) - 1)
/* Every flag, CACHED pages' included */
#define MEMTRACE_F_ALL_EXT   ((MEMTRACE_F_WRITEBACK << 1) - 1)

/*
 * The flags word: position 0 is the kind (MEMTRACE_KIND_LETTERS: a anon,
 * f file, s shmem, p pfnmap), then one letter per flag in this order: h
 * hugetlb, w write, d dirty, y young, x exclusive; '-' where unset.
 */
#define MEMTRACE_KIND_LETTERS "afsp"
#define MEMTRACE_FLAG_LETTERS "hwdyx"
#define MEMTRACE_FLAGS_WIDTH  6
/* With "cached": one letter more, b (WRITEBACK), after x */
#define MEMTRACE_FLAG_LETTERS_CACHED "hwdyxb"
#define MEMTRACE_FLAGS_WIDTH_CACHED  7

#define MEMTRACE_NO_NODE (-1)

enum memtrace_mode {
	MEMTRACE_MODE_RUNS = 0,
	MEMTRACE_MODE_PAGES,
	MEMTRACE_MODE_MAX = MEMTRACE_MODE_PAGES
};

/* Swap values in the pfn field, encoded like /proc/PID/pagemap. */
#define MEMTRACE_SWAP_TYPE_BITS	  5
#define MEMTRACE_SWAP_TYPE_MASK	  ((1ULL << MEMTRACE_SWAP_TYPE_BITS) - 1)

/*
 * What a query may ask for besides the answer every module gives (GET_INFO's
 * MEMTRACE_A_FEATURES).
 */
enum memtrace_feature {
	MEMTRACE_FEAT_CACHED	= 1U << 0,	/* MEMTRACE_CACHED, WRITEBACK */
	/* a SWAP page still in the swap cache: never, see above */
	MEMTRACE_FEAT_SWAPCACHE	= 1U << 1,
	MEMTRACE_FEAT_FOLIO	= 1U << 2,	/* folio orders: see above */
	MEMTRACE_FEAT_FILE	= 1U << 3,	/* MEMTRACE_CMD_FILE */
	MEMTRACE_FEAT_TOP	= 1U << 4,	/* MEMTRACE_CMD_TOP */
};

/* Generic netlink */
#define MEMTRACE_GENL_NAME    "memtrace"
#define MEMTRACE_GENL_VERSION 1

enum memtrace_cmd {
	MEMTRACE_CMD_UNSPEC,
	MEMTRACE_CMD_GET_INFO,
	MEMTRACE_CMD_QUERY,
	MEMTRACE_CMD_FILE = 3,	/* page-cache residency of a file: see above */
	MEMTRACE_CMD_TOP,	/* every process, counted: see above */
	__MEMTRACE_CMD_MAX
};

#define MEMTRACE_CMD_MAX (__MEMTRACE_CMD_MAX - 1)

enum memtrace_attr {
	MEMTRACE_A_UNSPEC,
	MEMTRACE_A_PID,		/* u32: target, in the sender's pid namespace */
	MEMTRACE_A_START,	/* u64: first byte of the range */
	MEMTRACE_A_END,		/* u64: end of the range, exclusive */
	MEMTRACE_A_MODE,	/* u8: enum memtrace_mode */
	MEMTRACE_A_RECORD,	/* nest: enum memtrace_record_attr */
	MEMTRACE_A_SUMMARY,	/* nest: u64 page count per state, attr = state + 1 */
	MEMTRACE_A_VERSION,	/* string: module version */
	MEMTRACE_A_PAGE_SIZE,	/* u32 */
	MEMTRACE_A_NSTATES,	/* u32: MEMTRACE_NSTATES */
	MEMTRACE_A_FLAGS_MASK,	/* u32: flags this module can report */
	MEMTRACE_A_TASK_SIZE,	/* u64: largest END accepted (TASK_SIZE_MAX) */
	MEMTRACE_A_PAD,
	MEMTRACE_A_PACKED,	/* flag: answer with RUNS/PAGEVEC/PFNVEC */
	MEMTRACE_A_RUNS,	/* binary: struct memtrace_run[] */
	MEMTRACE_A_PAGEVEC,	/* binary: struct memtrace_pagevec, __u32[] */
	MEMTRACE_A_PFNVEC,	/* binary: __u64[] */
	MEMTRACE_A_NO_PFN,	/* flag: leave pfns out (0, no PFNVEC) */
	MEMTRACE_A_INDEXED,	/* flag: pages as PAGEIDX, not PAGEVEC */
	MEMTRACE_A_PAGEIDX,	/* binary: struct memtrace_pageidx, __u8[], __u32[] */
	MEMTRACE_A_CACHED,	/* flag: report MEMTRACE_CACHED pages */
	MEMTRACE_A_FEATURES,	/* u32: enum memtrace_feature (GET_INFO) */
	MEMTRACE_A_FOLIO,	/* flag: records carry MEMTRACE_R_FOLIO */
	MEMTRACE_A_FD,		/* u32: FILE: a file descriptor of the sender */
	MEMTRACE_A_PROC,	/* nest: enum memtrace_proc_attr (TOP) */
	MEMTRACE_A_PMD_SIZE,	/* u64: bytes a SIZE_PMD entry maps (GET_INFO) */
	MEMTRACE_A_PUD_SIZE,	/* u64: bytes a SIZE_PUD entry maps (GET_INFO) */
	__MEMTRACE_A_MAX
};

#define MEMTRACE_A_MAX (__MEMTRACE_A_MAX - 1)

enum memtrace_record_attr {
	MEMTRACE_R_UNSPEC,
	MEMTRACE_R_ADDR,	/* u64 */
	MEMTRACE_R_PAGES,	/* u64 */
	MEMTRACE_R_STATE,	/* u8: enum memtrace_state */
	MEMTRACE_R_FLAGS,	/* u32: enum memtrace_flag */
	MEMTRACE_R_PFN,		/* u64: see "Frame value" */
	MEMTRACE_R_NODE,	/* s32 */
	MEMTRACE_R_PAD,
	MEMTRACE_R_FOLIO,	/* u8: folio order (a query with MEMTRACE_A_FOLIO) */
	__MEMTRACE_R_MAX
};

#define MEMTRACE_R_MAX (__MEMTRACE_R_MAX - 1)

/* What MEMTRACE_CMD_TOP tells of one process (a MEMTRACE_A_PROC nest). */
enum memtrace_proc_attr {
	MEMTRACE_P_UNSPEC,
	MEMTRACE_P_PID,		/* u32: in the sender's pid namespace */
	MEMTRACE_P_COMM,	/* string: its command name (TASK_COMM_LEN) */
	MEMTRACE_P_SUMMARY,	/* nest: as MEMTRACE_A_SUMMARY, of [0, TASK_SIZE) */
	/* u64: PRESENT pages mapped by a PMD/PUD entry, neither HUGETLB nor PFNMAP */
	MEMTRACE_P_THP,
	MEMTRACE_P_PAD,
	/*
	 * flag: its mmap_lock stayed taken or waited for (200 ms with no
	 * progress; in the dump's first message, taken at all, or 10 ms of
	 * counting gone): SUMMARY and THP count only the part walked until
	 * then
	 */
	MEMTRACE_P_BUSY,
	__MEMTRACE_P_MAX
};

#define MEMTRACE_P_MAX (__MEMTRACE_P_MAX - 1)

/*
 * The word of a packed run or page: state in bits 0-3, flags in bits 4-15,
 * node + 1 in bits 16-31 (0: MEMTRACE_NO_NODE).
 */
#define MEMTRACE_PW_FLAGS_SHIFT 4
#define MEMTRACE_PW_NODE_SHIFT	16
#define MEMTRACE_PW(state, flags, node)					\
	((__u32)(state) | (__u32)(flags) << MEMTRACE_PW_FLAGS_SHIFT |	\
	 (__u32)((node) + 1) << MEMTRACE_PW_NODE_SHIFT)
#define MEMTRACE_PW_STATE(w)	((w) & 0xf)
#define MEMTRACE_PW_FLAGS(w)	(((w) >> MEMTRACE_PW_FLAGS_SHIFT) & 0xfff)
#define MEMTRACE_PW_NODE(w)	((int)((w) >> MEMTRACE_PW_NODE_SHIFT) - 1)

struct memtrace_run {
	__u64 addr;
	__u64 pages;
	__u64 pfn;
	__u32 word;		/* MEMTRACE_PW(state, flags, node) */
	__u32 reserved;		/* 0 */
};

struct memtrace_pagevec {
	__u64 addr;		/* of the first page */
	__u32 count;		/* page words that follow */
	__u32 reserved;		/* 0 */
	/* __u32 word[count]: MEMTRACE_PW(state, flags, node) */
};

#define MEMTRACE_PAGEIDX_WORDS_MAX 256

struct memtrace_pageidx {
	__u64 addr;		/* of the first page */
	__u32 count;		/* pages: index bytes that follow */
	__u16 nwords;		/* words after the indexes, 1..256 */
	__u16 reserved;		/* 0 */
	/* __u8 index[count], 0 to 3 zero bytes, __u32 word[nwords] */
};

/* Where a PAGEIDX's words start, from the start of its payload. */
#define MEMTRACE_PAGEIDX_WORDS_OFF(count) \
	(sizeof(struct memtrace_pageidx) + (((count) + 3) & ~3U))

#endif /* _UAPI_MEMTRACE_H */
