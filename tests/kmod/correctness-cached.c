// SPDX-License-Identifier: GPL-2.0
/*
 * CACHED pages (issue 20, item 1): a file or shmem page with no page-table
 * entry whose page is in the page cache. A file of NPG pages, every third
 * one written (so in the page cache), is mapped shared at a 2 MiB boundary
 * and one page of its second half is read: the first PMD has no PTE table
 * (the module looks its range up in one pass), the second has one (a lookup
 * per none entry). Checked against mincore(2) (resident = present + cached)
 * and cachestat(2) (6.5+), over both transports, every packing, runs and
 * pages, windows; and a query that does not ask never sees CACHED.
 */
#include "correctness.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/magic.h>

#include "nlraw.h"

#define NPG	1024		/* 4 MiB of 4K pages: two PMDs */
#define TOUCH	1002		/* the page read through the mapping */
#define FAR	960		/* below it, no fault-around maps anything */

#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif

struct cs_range {
	uint64_t off, len;
};

struct cs_stat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

/* ---- a query over netlink, into an mt_answer (pages expanded) ---- */

struct nl_acc {
	struct mt_answer *a;
	uint64_t next;
	int bad;
	unsigned int nsummary;	/* attributes in the summary nest */
	uint64_t hstart, hend;	/* the answer's header */
	unsigned long max_pages;	/* room in a->pages when the range is the module's */
};

static void acc_fill(struct nl_acc *c, uint64_t addr, uint64_t pages, uint32_t word)
{
	struct mt_answer *a = c->a;

	if (addr != c->next || addr < a->start || addr + pages * cor_psz > a->end) {
		c->bad++;
		return;
	}
	for (uint64_t i = 0; i < pages; i++) {
		struct mt_page *p = &a->pages[(addr - a->start) / cor_psz + i];

		p->state = MEMTRACE_PW_STATE(word);
		p->flags = MEMTRACE_PW_FLAGS(word);
		p->node = MEMTRACE_PW_NODE(word);
	}
	c->next = addr + pages * cor_psz;
	a->records++;
}

static int acc_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_acc *c = arg;
	struct nlattr *at, *r;
	int rem, rrem;

	nlr_for_each_attr(at, (char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
			  nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, rem) {
		unsigned char *d = nlr_data(at);

		switch (nlr_type(at)) {
		case MEMTRACE_A_START:
			memcpy(&c->hstart, d, 8);
			break;
		case MEMTRACE_A_END:
			memcpy(&c->hend, d, 8);
			if (c->next == UINT64_MAX) {	/* the range is the module's */
				if (c->hend < c->hstart ||
				    (c->hend - c->hstart) / cor_psz > c->max_pages) {
					c->bad++;
					break;
				}
				c->a->start = c->hstart;
				c->a->end = c->hend;
				c->next = c->hstart;
			}
			break;
		case MEMTRACE_A_RECORD: {
			uint64_t addr = 0, pages = 0;
			uint32_t flags = 0;
			int state = -1, node = -1;

			nlr_for_each_attr(r, d, nlr_len(at), rrem) {
				void *v = nlr_data(r);

				switch (nlr_type(r)) {
				case MEMTRACE_R_ADDR: memcpy(&addr, v, 8); break;
				case MEMTRACE_R_PAGES: memcpy(&pages, v, 8); break;
				case MEMTRACE_R_STATE: state = *(uint8_t *)v; break;
				case MEMTRACE_R_FLAGS: memcpy(&flags, v, 4); break;
				case MEMTRACE_R_NODE: memcpy(&node, v, 4); break;
				}
			}
			if (state < 0 || flags > 0xfff)
				c->bad++;
			else
				acc_fill(c, addr, pages, MEMTRACE_PW(state, flags, node));
			break;
		}
		case MEMTRACE_A_RUNS:
			for (int o = 0; o + (int)sizeof(struct memtrace_run) <= nlr_len(at);
			     o += sizeof(struct memtrace_run)) {
				struct memtrace_run run;

				memcpy(&run, d + o, sizeof(run));
				if (run.reserved)
					c->bad++;
				acc_fill(c, run.addr, run.pages, run.word);
			}
			break;
		case MEMTRACE_A_PAGEVEC: {
			struct memtrace_pagevec v;

			memcpy(&v, d, sizeof(v));
			for (uint32_t i = 0; i < v.count; i++) {
				uint32_t w;

				memcpy(&w, d + sizeof(v) + i * 4, 4);
				acc_fill(c, v.addr + i * cor_psz, 1, w);
			}
			break;
		}
		case MEMTRACE_A_PAGEIDX: {
			struct memtrace_pageidx v;

			memcpy(&v, d, sizeof(v));
			for (uint32_t i = 0; i < v.count; i++) {
				uint32_t w;

				memcpy(&w, d + MEMTRACE_PAGEIDX_WORDS_OFF(v.count) + d[sizeof(v) + i] * 4, 4);
				acc_fill(c, v.addr + i * cor_psz, 1, w);
			}
			break;
		}
		case MEMTRACE_A_SUMMARY:
			nlr_for_each_attr(r, d, nlr_len(at), rrem) {
				int t = nlr_type(r);

				c->nsummary++;
				if (t < 1 || t > MEMTRACE_NSTATES_ALL || nlr_len(r) != 8)
					c->bad++;
				else
					memcpy(&c->a->counts[t - 1], nlr_data(r), 8);
				c->a->have_cached |= t == MEMTRACE_CACHED + 1;
			}
			c->a->have_summary = true;
			break;
		}
	}
	return 0;
}

/*
 * A QUERY of pid (cmd MEMTRACE_CMD_QUERY) or a FILE of the descriptor pid
 * (MEMTRACE_CMD_FILE) over [start, end): 0, or -errno (the module's, its
 * extended ACK in msg when given); *nsummary: the summary's attributes.
 * FILE only: COR_NL_NOSTART / COR_NL_NOEND leave START / END out (the
 * answer's header says the range then; a->pages has room for max_pages).
 */
int cor_nl_dump(int cmd, int pid, uint64_t start, uint64_t end, unsigned int opts,
		int packing, struct mt_answer *a, unsigned int *nsummary, char *msg,
		unsigned long max_pages)
{
	static struct nlr s;
	static struct nlb b;
	struct nlr_result r;
	struct nl_acc c = { .a = a, .next = start, .max_pages = max_pages };
	bool pages = opts & COR_NL_PAGES;
	int err;

	/*
	 * The answer's range: as asked (sent as it is), rounded out to pages
	 * (a file's need not be page aligned).
	 */
	uint64_t s0 = start & ~(uint64_t)(cor_psz - 1);
	uint64_t e0 = end > UINT64_MAX - cor_psz ? end :
		      (end + cor_psz - 1) & ~(uint64_t)(cor_psz - 1);

	c.next = s0;
	memset(a, 0, sizeof(*a));
	a->pid = pid;
	a->start = s0;
	a->end = e0;
	if (opts & (COR_NL_NOSTART | COR_NL_NOEND)) {
		a->pages = calloc(max_pages + 1, sizeof(*a->pages));
	} else if (e0 > s0 && (e0 - s0) / cor_psz < (1UL << 24)) {
		a->pages = calloc((e0 - s0) / cor_psz + 1, sizeof(*a->pages));
	} else {	/* refused, or too large for this harness: no record fits */
		a->pages = calloc(1, sizeof(*a->pages));
		a->end = s0;
	}
	if (msg)
		*msg = '\0';
	err = nlr_open(&s);
	if (err)
		return err;
	nlb_start(&b, &s, cmd, NLM_F_DUMP);
	nlb_u32(&b, cmd == MEMTRACE_CMD_FILE ? MEMTRACE_A_FD : MEMTRACE_A_PID, pid);
	if (!(opts & COR_NL_NOSTART))
		nlb_u64(&b, MEMTRACE_A_START, start);
	if (!(opts & COR_NL_NOEND))
		nlb_u64(&b, MEMTRACE_A_END, end);
	nlb_u8(&b, MEMTRACE_A_MODE, pages ? MEMTRACE_MODE_PAGES : MEMTRACE_MODE_RUNS);
	if (packing != NL_NEST)
		nlb_attr(&b, MEMTRACE_A_PACKED, NULL, 0);
	if (packing == NL_INDEXED)
		nlb_attr(&b, MEMTRACE_A_INDEXED, NULL, 0);
	if (opts & COR_NL_CACHED)
		nlb_attr(&b, MEMTRACE_A_CACHED, NULL, 0);
	if (opts & (COR_NL_NOSTART | COR_NL_NOEND)) {
		/* the range is the module's: the records are checked against it */
		a->start = 0;
		a->end = UINT64_MAX;
		c.next = UINT64_MAX;
	}
	err = nlr_send(&s, &b);
	if (!err)
		err = nlr_wait(&s, b.seq, &r, acc_msg, &c);
	if (!err) {
		err = r.error;
		if (msg)
			snprintf(msg, 256, "%s", r.msg);
	}
	nlr_close(&s);
	if (!err && (c.bad || c.next != a->end || !a->have_summary ||
		     (c.hstart != a->start || c.hend != a->end)))
		err = -EBADMSG;
	*nsummary = c.nsummary;
	return err;
}

static int nl_query(int pid, uint64_t start, uint64_t end, bool pages, int packing,
		    bool cached, struct mt_answer *a, unsigned int *nsummary)
{
	return cor_nl_dump(MEMTRACE_CMD_QUERY, pid, start, end,
			   (pages ? COR_NL_PAGES : 0) | (cached ? COR_NL_CACHED : 0),
			   packing, a, nsummary, NULL, 0);
}

/* GET_INFO's FEATURES (-1: none sent) and NSTATES. */
static int nl_info(int64_t *features, uint32_t *nstates)
{
	static struct nlr s;
	static struct nlb b;
	struct nlr_result r;
	ssize_t n;
	int err;

	*features = -1;
	*nstates = 0;
	err = nlr_open(&s);
	if (err)
		return err;
	nlb_start(&b, &s, MEMTRACE_CMD_GET_INFO, 0);
	err = nlr_send(&s, &b);
	n = err ? -1 : nlr_recv(&s, 5000);
	if (n > 0) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)s.buf;
		struct nlattr *at;
		int rem;

		if (nlh->nlmsg_type == NLMSG_ERROR) {
			err = ((struct nlmsgerr *)NLMSG_DATA(nlh))->error;
		} else {
			nlr_for_each_attr(at, (char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
					  nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, rem) {
				if (nlr_type(at) == MEMTRACE_A_FEATURES && nlr_len(at) == 4)
					*features = *(uint32_t *)nlr_data(at);
				if (nlr_type(at) == MEMTRACE_A_NSTATES && nlr_len(at) == 4)
					*nstates = *(uint32_t *)nlr_data(at);
			}
		}
	} else {
		err = -EIO;
	}
	(void)r;
	nlr_close(&s);
	return err;
}

/* /proc/memtrace's whole answer to a line, as text (NULL on error, *err). */
static char *proc_text(const char *line, int *err)
{
	int fd = open("/proc/memtrace", O_RDWR);
	size_t cap = 1 << 20, len = 0;
	char *buf;
	ssize_t n;

	*err = 0;
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	if (write(fd, line, strlen(line)) < 0) {
		*err = -errno;
		close(fd);
		return NULL;
	}
	buf = malloc(cap);
	while ((n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += n;
	if (n < 0)
		*err = -errno;
	buf[len] = '\0';
	close(fd);
	return buf;
}

/* ---- the checks ---- */

/* Pages whose state or flags differ between a and b (node too when asked). */
static unsigned long diff(const struct mt_answer *a, const struct mt_answer *b,
			  unsigned long n, bool uncache_b)
{
	unsigned long bad = 0;

	for (unsigned long i = 0; i < n; i++) {
		int sb = b->pages[i].state;
		uint32_t fb = b->pages[i].flags;

		if (uncache_b && sb == MEMTRACE_CACHED) {
			sb = MEMTRACE_NONE;
			fb = 0;
		}
		if (a->pages[i].state != sb || a->pages[i].flags != fb ||
		    a->pages[i].node != b->pages[i].node) {
			if (bad++ < 3)
				tap_diag("page %lu: %s 0x%x vs %s 0x%x", i,
					 mt_state_names[a->pages[i].state], a->pages[i].flags,
					 mt_state_names[sb], fb);
		}
	}
	return bad;
}

static bool written(int i)
{
	return i % 3 == 0;
}

static void check_file(const char *what, int fd, uint32_t kind)
{
	char *buf = malloc(cor_psz), *res, *p, line[160];
	struct mt_answer a, b;
	unsigned char vec[NPG];
	unsigned long bad = 0, n;
	unsigned int nsum;
	volatile char sink;
	uint64_t s, cached = 0, dirty = 0, wb = 0, present = 0;
	int err;

	memset(buf, 'c', cor_psz);
	if (ftruncate(fd, (off_t)NPG * cor_psz))
		exit(2);
	for (int i = 0; i < NPG; i++)
		if (written(i) && pwrite(fd, buf, cor_psz, (off_t)i * cor_psz) != cor_psz)
			exit(2);
	free(buf);
	/* 2 MiB aligned: the first PMD of the file gets no PTE table */
	res = mmap(NULL, NPG * cor_psz + (2 << 20), PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	p = (char *)(((uintptr_t)res + (2 << 20) - 1) & ~(uintptr_t)((2 << 20) - 1));
	if (res == MAP_FAILED ||
	    mmap(p, NPG * cor_psz, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) != p)
		exit(2);
	sink = p[(size_t)TOUCH * cor_psz];
	(void)sink;
	s = (uintptr_t)p;

	/* the /proc answer with "cached", pages mode */
	snprintf(line, sizeof(line), "%d 0x%" PRIx64 " 0x%" PRIx64 " pages cached",
		 getpid(), s, s + NPG * cor_psz);
	err = mt_query(getpid(), s, s + NPG * cor_psz, "pages cached", &a);
	if (!tap_ok(!err, "%s: /proc query with \"cached\" answers (%s)", what, strerror(-err)))
		goto out;
	for (int i = 0; i < NPG; i++) {
		const struct mt_page *pg = &a.pages[i];
		bool ok;

		if (i == TOUCH)
			ok = pg->state == MEMTRACE_PRESENT;
		else if (!written(i))
			ok = pg->state == MEMTRACE_NONE && !pg->flags;
		else if (i < FAR)
			ok = pg->state == MEMTRACE_CACHED;
		else	/* fault-around may have mapped it */
			ok = pg->state == MEMTRACE_CACHED || pg->state == MEMTRACE_PRESENT;
		if (pg->state == MEMTRACE_CACHED)
			ok = ok && (pg->flags & ~(MEMTRACE_F_DIRTY | MEMTRACE_F_WRITEBACK)) == kind &&
			     pg->node == MEMTRACE_NO_NODE && !pg->pfn;
		cached += pg->state == MEMTRACE_CACHED;
		present += pg->state == MEMTRACE_PRESENT;
		dirty += pg->state == MEMTRACE_CACHED && (pg->flags & MEMTRACE_F_DIRTY);
		wb += pg->state == MEMTRACE_CACHED && (pg->flags & MEMTRACE_F_WRITEBACK);
		if (!ok && bad++ < 3)
			tap_diag("page %d: %s flags 0x%x", i, mt_state_names[pg->state], pg->flags);
	}
	tap_ok(!bad && a.have_cached && a.counts[MEMTRACE_CACHED] == cached,
	       "%s: written pages with no entry are cached (%" PRIu64 "), holes none, the read one present (%lu bad, summary cached=%" PRIu64 ")",
	       what, cached, bad, a.counts[MEMTRACE_CACHED]);

	/* mincore: resident = present + cached, page by page */
	bad = 0;
	if (mincore(p, NPG * cor_psz, vec))
		tap_diag("mincore: %s", strerror(errno));
	for (int i = 0; i < NPG; i++) {
		bool res1 = a.pages[i].state == MEMTRACE_PRESENT || a.pages[i].state == MEMTRACE_CACHED;

		if (res1 != (vec[i] & 1) && bad++ < 3)
			tap_diag("page %d: %s, mincore %d", i, mt_state_names[a.pages[i].state], vec[i] & 1);
	}
	tap_ok(!bad, "%s: mincore(2) agrees on every page (resident = present + cached; %lu differ)", what, bad);

	/* cachestat: the whole file */
	{
		struct cs_range r = { 0, (uint64_t)NPG * cor_psz };
		struct cs_stat cs;

		if (syscall(__NR_cachestat, fd, &r, &cs, 0)) {
			tap_ok(1, "# SKIP %s: no cachestat(2) (%s; 6.5+)", what, strerror(errno));
		} else {
			tap_ok(cs.nr_cache == cached + present &&
			       cs.nr_dirty >= dirty && cs.nr_dirty <= dirty + present &&
			       cs.nr_writeback >= wb && cs.nr_writeback <= wb + present,
			       "%s: cachestat(2) agrees: nr_cache %" PRIu64 " = %" PRIu64 " cached + %" PRIu64
			       " present, nr_dirty %" PRIu64 " (%" PRIu64 " cached dirty), nr_writeback %" PRIu64,
			       what, cs.nr_cache, cached, present, cs.nr_dirty, dirty, cs.nr_writeback);
		}
	}

	/* the same query without "cached": the old answer, CACHED as NONE */
	{
		char *t1 = proc_text(line, &err), *t0;

		line[strlen(line) - strlen(" cached")] = '\0';
		t0 = proc_text(line, &err);
		tap_ok(t0 && t1 && !strstr(t0, "cached") && strstr(t1, " cached\n") &&
		       strstr(t1, "cached="),
		       "%s: /proc: only the query with \"cached\" says cached (header, records, summary)", what);
		free(t0);
		free(t1);
	}
	err = mt_query(getpid(), s, s + NPG * cor_psz, "pages", &b);
	n = err ? NPG : diff(&b, &a, NPG, true);
	tap_ok(!err && !n && !b.have_cached && b.counts[MEMTRACE_NONE] == a.counts[MEMTRACE_NONE] + cached,
	       "%s: without \"cached\" the same pages, cached ones none (%lu differ)", what, n);
	mt_answer_free(&b);

	/* runs mode, and a window starting and ending mid-way */
	err = mt_query(getpid(), s, s + NPG * cor_psz, "runs cached", &b);
	n = err ? NPG : diff(&b, &a, NPG, false);
	tap_ok(!err && !n && b.records < a.records, "%s: runs mode: the same pages, fewer records (%lu differ)", what, n);
	mt_answer_free(&b);
	err = mt_query(getpid(), s + 5 * cor_psz, s + 1001 * cor_psz, "pages cached", &b);
	if (!err) {
		struct mt_answer sub = a;

		sub.pages = a.pages + 5;
		n = diff(&b, &sub, 996, false);
	}
	tap_ok(!err && !n, "%s: a window [5, 1001) answers the same (%lu differ)", what, err ? 996UL : n);
	mt_answer_free(&b);

	/* netlink, every packing, runs and pages, with and without CACHED */
	for (int pk = NL_NEST; pk <= NL_INDEXED; pk++) {
		static const char *const pkn[] = { "nests", "packed", "indexed" };

		for (int pages = 0; pages < 2; pages++) {
			for (int c = 1; c >= 0; c--) {
				err = nl_query(getpid(), s, s + NPG * cor_psz, pages, pk, c, &b, &nsum);
				n = err ? NPG : diff(&b, &a, NPG, !c);
				tap_ok(!err && !n && b.have_cached == c &&
				       nsum == (unsigned int)(c ? MEMTRACE_NSTATES_ALL : MEMTRACE_NSTATES) &&
				       (!c || b.counts[MEMTRACE_CACHED] == cached),
				       "%s: netlink %s %s%s: %s (%lu differ, %u summary counts)", what,
				       pkn[pk], pages ? "pages" : "runs", c ? " CACHED" : "",
				       c ? "the /proc answer" : "cached pages none", n, nsum);
				if (err)
					tap_diag("netlink: %s", strerror(-err));
				mt_answer_free(&b);
			}
		}
	}
out:
	mt_answer_free(&a);
	munmap(res, NPG * cor_psz + (2 << 20));
}

/*
 * Whose residency is shown (uapi/memtrace.h, MEMTRACE_CACHED: the rule of
 * mincore(2) since 5.0): a uid-1000 process maps, read-only and shared, a
 * file of root's (mode 0644), a file of its own, and shared anonymous
 * memory root made before the fork; all their pages are in the page cache
 * and none has an entry. Asking for itself, over /proc and netlink, it sees
 * root's file none, the rest cached; root (CAP_SYS_ADMIN), asking for the
 * same process, sees root's file cached.
 */
#define PPG	8

static int policy_kind(const struct mt_answer *a, unsigned long n)
{
	int st = a->pages[0].state;

	for (unsigned long i = 1; i < n; i++)
		if (a->pages[i].state != st)
			return -1;
	return st;
}

static void check_policy(void)
{
	char rpath[] = "/tmp/memtrace-cached-root-XXXXXX";
	char upath[] = "/tmp/memtrace-cached-user-XXXXXX";
	char wpath[] = "/tmp/memtrace-cached-w666-XXXXXX";
	char *buf = malloc(cor_psz), *shm;
	int rfd, ufd, wfd, pipefd[2], st;
	struct {
		uint64_t addr[4];
		int res;
	} msg = { { 0 }, -1 };
	pid_t child;

	rfd = mkstemp(rpath);
	ufd = mkstemp(upath);
	wfd = mkstemp(wpath);
	shm = mmap(NULL, PPG * cor_psz, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(buf, 'r', cor_psz);
	if (rfd < 0 || ufd < 0 || wfd < 0 || shm == MAP_FAILED || fchmod(rfd, 0644) ||
	    fchmod(ufd, 0644) || fchown(ufd, 1000, 1000) || fchmod(wfd, 0666) || pipe(pipefd))
		exit(2);
	for (int i = 0; i < PPG; i++)
		if (pwrite(rfd, buf, cor_psz, (off_t)i * cor_psz) != cor_psz ||
		    pwrite(ufd, buf, cor_psz, (off_t)i * cor_psz) != cor_psz ||
		    pwrite(wfd, buf, cor_psz, (off_t)i * cor_psz) != cor_psz)
			exit(2);
	memset(shm, 's', PPG * cor_psz);
	/* its pages stay in the shmem file; the entries go */
	if (madvise(shm, PPG * cor_psz, MADV_DONTNEED))
		exit(2);
	free(buf);
	close(rfd);
	close(ufd);
	close(wfd);

	child = fork();
	if (!child) {
		const char *paths[3] = { rpath, upath, wpath };
		struct mt_answer a;
		unsigned int nsum;
		int res = 0, err;

		close(pipefd[0]);
		if (setgroups(0, NULL) || setgid(1000) || setuid(1000))
			_exit(3);
		prctl(PR_SET_DUMPABLE, 1);
		for (int f = 0; f < 3; f++) {
			/* root's 0666 file, opened for writing: still not ours */
			int fd = open(paths[f], f == 2 ? O_RDWR : O_RDONLY);
			void *m = fd < 0 ? MAP_FAILED :
				  mmap(NULL, PPG * cor_psz, PROT_READ, MAP_SHARED, fd, 0);

			if (m == MAP_FAILED)
				_exit(4);
			close(fd);
			msg.addr[f] = (uintptr_t)m;
		}
		msg.addr[3] = (uintptr_t)shm;
		for (int f = 0; f < 4; f++) {
			int want = f == 0 || f == 2 ? MEMTRACE_NONE : MEMTRACE_CACHED;
			uint64_t s = msg.addr[f], e = s + PPG * cor_psz;

			err = mt_query(getpid(), s, e, "pages cached", &a);
			res |= (err || policy_kind(&a, PPG) != want) << (2 * f);
			if (!err)
				mt_answer_free(&a);
			err = nl_query(getpid(), s, e, true, NL_NEST, true, &a, &nsum);
			res |= (err || policy_kind(&a, PPG) != want) << (2 * f + 1);
			if (!err)
				mt_answer_free(&a);
		}
		msg.res = res;
		if (write(pipefd[1], &msg, sizeof(msg)) != sizeof(msg))
			_exit(5);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &msg, sizeof(msg)) != sizeof(msg))
		msg.res = -1;
	close(pipefd[0]);
	tap_ok(msg.res >= 0 && !(msg.res & 3),
	       "cached, uid 1000: root's 0644 file mapped read-only is none (/proc, netlink; 0x%x)", msg.res);
	tap_ok(msg.res >= 0 && !(msg.res & 12),
	       "cached, uid 1000: its own file mapped read-only is cached (/proc, netlink)");
	tap_ok(msg.res >= 0 && !(msg.res & 48),
	       "cached, uid 1000: root's 0666 file mapped shared, opened for writing, is none "
	       "(the owner's or CAP_SYS_ADMIN only; /proc, netlink)");
	tap_ok(msg.res >= 0 && !(msg.res & 192),
	       "cached, uid 1000: shared anonymous memory (root's, inherited) is cached (/proc, netlink)");
	if (msg.res >= 0) {
		struct mt_answer a;
		int err = mt_query(child, msg.addr[0], msg.addr[0] + PPG * cor_psz,
				   "pages cached", &a);
		int kind = err ? -1 : policy_kind(&a, PPG);

		tap_ok(kind == MEMTRACE_CACHED,
		       "cached, root: the same mapping of root's file is cached (%s)",
		       err ? strerror(-err) : kind < 0 ? "mixed" : mt_state_names[kind]);
		if (!err)
			mt_answer_free(&a);
	} else {
		tap_ok(0, "cached, root: the uid-1000 process did not answer");
	}
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	munmap(shm, PPG * cor_psz);
	unlink(rpath);
	unlink(upath);
	unlink(wpath);
}

/*
 * A long walk of the page cache lets mmap_lock writers in. A memfd of
 * pages all in the page cache is mapped, untouched, alone in a 1 GiB
 * aligned slot: its whole range is one none PUD, looked up in one pass over
 * the tree (cache.c), one run of CACHED pages, so no page table or full
 * sink breaks the walk. A thread of ours meanwhile calls mprotect(2) (it
 * takes mmap_lock for writing) in a loop, and every call's start and end
 * are kept. Both threads run on one CPU: the writer then runs inside a walk
 * when the walk reschedules (a tick said so), which does not depend on how
 * the machine runs its CPUs side by side (QEMU's TCG runs them in turns of
 * up to 100 ms, longer than a walk). A call that starts in the middle half of a query (inside the
 * walk, which is nearly all of it) cannot end there if the walk never
 * yields; if it yields, it ends in an entry or so. The check: of the calls
 * that start there, at least half end there too. Judged on 2 such calls or
 * more: else SKIP (the writer did not run inside the walks, as on a
 * machine so quick that a walk of 512 MiB takes a few ms).
 */
#define YIELD_QUERIES	16
#define YIELD_CALLS	(1 << 16)

struct yield_writer {
	char *page;
	volatile int stop;
	uint64_t (*call)[2];	/* start, end (ns) */
	unsigned int n;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *yield_writer(void *arg)
{
	struct yield_writer *y = arg;

	while (!y->stop && y->n < YIELD_CALLS) {
		uint64_t t = now_ns();

		if (mprotect(y->page, cor_psz, y->n % 2 ? PROT_READ : PROT_READ | PROT_WRITE))
			break;
		y->call[y->n][0] = t;
		y->call[y->n][1] = now_ns();
		y->n++;
	}
	return NULL;
}

/* A /proc query of [p, p + len) with "cached", timed (text read, not parsed) */
static char *yield_query(const char *p, uint64_t len, uint64_t *t0, uint64_t *t1, int *err)
{
	char line[128], *text;

	snprintf(line, sizeof(line), "%d 0x%" PRIxPTR " 0x%" PRIxPTR " runs cached\n", getpid(),
		 (uintptr_t)p, (uintptr_t)p + (uintptr_t)len);
	*t0 = now_ns();
	text = proc_text(line, err);
	*t1 = now_ns();
	return text;
}

static void check_yield(void)
{
	static struct yield_writer y;
	static uint64_t q[YIELD_QUERIES][2];
	uint64_t gib = 1ull << 30, len, t0, t1;
	unsigned int started = 0, ended = 0, bad = 0;
	char *res = MAP_FAILED, *p, want[64];
	cpu_set_t one, all;
	pthread_t th;
	int fd = -1, err;

	for (len = 64ull << 20;; len *= 2) {
		if (fd >= 0) {
			munmap(res, 2 * gib);
			close(fd);
		}
		fd = memfd_create("memtrace-yield", 0);
		if (fd < 0 || fallocate(fd, 0, 0, (off_t)len)) {
			tap_ok(0, "yield: a memfd of %" PRIu64 " MiB: %s", len >> 20, strerror(errno));
			if (fd >= 0)
				close(fd);
			return;
		}
		res = mmap(NULL, 2 * gib, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		p = (char *)(((uintptr_t)res + gib - 1) & ~(uintptr_t)(gib - 1));
		if (res == MAP_FAILED ||
		    mmap(p, len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) != p)
			exit(2);
		free(yield_query(p, len, &t0, &t1, &err));
		if (err || t1 - t0 >= 16000000 || len == (512ull << 20))
			break;
	}
	if (err) {
		tap_ok(0, "yield: a query of %" PRIu64 " MiB of page cache: %s", len >> 20,
		       strerror(-err));
		goto out;
	}
	y.page = cor_map(cor_psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	y.call = calloc(YIELD_CALLS, sizeof(*y.call));
	y.stop = 0;
	y.n = 0;
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (sched_getaffinity(0, sizeof(all), &all) || sched_setaffinity(0, sizeof(one), &one) ||
	    !y.call || pthread_create(&th, NULL, yield_writer, &y)) {
		tap_ok(0, "yield: the writer thread, on CPU 0: %s", strerror(errno));
		goto out;
	}
	snprintf(want, sizeof(want), " cached=%" PRIu64 "\n", len / cor_psz);
	for (int i = 0; i < YIELD_QUERIES; i++) {
		char *text = yield_query(p, len, &q[i][0], &q[i][1], &err);
		const char *r = text ? strstr(text, "\n0x") : NULL;

		/* one record (one CACHED run), and the summary counts them all */
		if (err || !r || strstr(r + 1, "\n0x") || !strstr(r, "\tcached\t") ||
		    !strstr(text, want)) {
			if (bad++ < 2)
				tap_diag("yield: answer %.200s", text ? text : strerror(-err));
		}
		free(text);
	}
	y.stop = 1;
	pthread_join(th, NULL);
	sched_setaffinity(0, sizeof(all), &all);
	for (int i = 0; i < YIELD_QUERIES; i++) {
		uint64_t quarter = (q[i][1] - q[i][0]) / 4;
		uint64_t lo = q[i][0] + quarter, hi = q[i][1] - quarter;

		for (unsigned int c = 0; c < y.n; c++) {
			if (y.call[c][0] < lo || y.call[c][0] >= hi)
				continue;
			started++;
			ended += y.call[c][1] < hi;
		}
	}
	tap_ok(!bad, "yield: %d queries of %" PRIu64 " MiB of page cache, one CACHED run each, "
	       "with mprotect(2) in a loop beside them", YIELD_QUERIES, len >> 20);
	if (started < 2)
		tap_ok(1, "# SKIP yield: %u mprotect(2) calls started inside a walk (%" PRIu64
		       " us), too few to judge", started, (q[0][1] - q[0][0]) / 1000);
	else
		tap_ok(ended * 2 >= started,
		       "yield: mmap_lock writers get in during a cached walk: of %u mprotect(2) "
		       "calls started in the middle of a query, %u ended there", started, ended);
	munmap(y.page, cor_psz);
	free(y.call);
out:
	munmap(res, 2 * gib);
	close(fd);
}

void cor_t_cached(void)
{
	char path[] = "/tmp/memtrace-cached-XXXXXX";
	int64_t features;
	uint32_t nstates;
	struct statfs sf;
	struct mt_answer a;
	char *p;
	int fd, err;

	err = nl_info(&features, &nstates);
	tap_ok(!err && features >= 0 && (features & MEMTRACE_FEAT_CACHED) &&
	       !(features & MEMTRACE_FEAT_SWAPCACHE) && nstates == MEMTRACE_NSTATES,
	       "GET_INFO: FEATURES 0x%" PRIx64 " has CACHED (not SWAPCACHE), NSTATES %u as before",
	       features, nstates);

	fd = memfd_create("memtrace-cached", 0);
	if (fd < 0) {
		tap_ok(0, "memfd_create: %s", strerror(errno));
	} else {
		check_file("memfd (shmem)", fd, MEMTRACE_F_SHMEM);
		close(fd);
	}
	fd = mkstemp(path);
	if (fd < 0 || fstatfs(fd, &sf)) {
		tap_ok(0, "%s: %s", path, strerror(errno));
	} else {
		check_file("file in /tmp", fd, sf.f_type == TMPFS_MAGIC ? MEMTRACE_F_SHMEM : MEMTRACE_F_FILE);
		close(fd);
		unlink(path);
	}

	/* anonymous memory asks no page cache: none stays none */
	p = cor_map(NP * cor_psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	p[0] = 1;
	err = mt_query(getpid(), (uintptr_t)p, (uintptr_t)p + NP * cor_psz, "pages cached", &a);
	if (tap_ok(!err, "anonymous, \"cached\": answers (%s)", strerror(-err)))
		cor_expect(&a, NP, "PNNNNNNNNNNNNNNN", MEMTRACE_F_ANON, 0, "anonymous, \"cached\"");
	mt_answer_free(&a);
	munmap(p, NP * cor_psz);

	/* the proc syntax: "cached" after the mode or alone, once, last */
	{
		char l[128];
		const char *tails[] = { "cached", "runs cached", "pages cached", "cached pages",
					"cached cached", "pages cached x" };
		const int want[] = { 0, 0, 0, -EINVAL, -EINVAL, -EINVAL };
		int bad = 0;

		for (unsigned int i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
			snprintf(l, sizeof(l), "%d all %s\n", getpid(), tails[i]);
			err = mt_write_raw(l, strlen(l));
			if (err != want[i] && bad++ < 3)
				tap_diag("\"%s\": %s", l, strerror(-err));
		}
		tap_ok(!bad, "/proc: \"cached\" is read after the mode, once; other orders are EINVAL");
	}

	check_yield();

	if (cor_root)
		check_policy();
	else
		tap_ok(1, "# SKIP cached policy tests need root to set up users");
}
