// SPDX-License-Identifier: GPL-2.0
/*
 * safety-recv [SEED]: any receive buffer length gives a complete, correct
 * netlink answer (kmod issue 14).
 *
 * The kernel sizes a dump's next socket buffer from the caller's largest
 * recvmsg() length so far (netlink_dump(): max_recvmsg_len, capped near
 * 32 KiB, at least NLMSG_GOODSIZE), so an unprivileged caller chooses the
 * tailroom every record, run array and page vector is put into, down to the
 * byte: "how much fits" arithmetic that forgets an attribute's 4-byte
 * alignment fails (or oopses, on an unchecked nla_reserve()) only for
 * tailrooms of 1, 2 or 3 mod 4.
 *
 * A stopped target with many distinct page words and unmapped gaps (so a
 * pages-mode dump opens vectors at many tailrooms) is answered over
 * /proc/memtrace in pages mode: the reference, one entry a page. Then every
 * combination of encoding (nested records, PACKED, PACKED+INDEXED) x mode
 * (runs, pages) x pfns (shown, NO_PFN) is dumped over netlink once per
 * receive length: every length p-16..p+16 around p = 4096, 8192, 16384,
 * 32768, then 8185, then random lengths in [4000, 33000] (seeded: SEED
 * argument, MT_SEED env or mt_seed= on the kernel command line; fewer with
 * mt_quick; MT_RECV_LEN=N: that length alone, to replay one). Each dump
 * gets a fresh socket (max_recvmsg_len only grows) and reads EVERY message
 * with exactly that length, over a range cut (by one probe dump at 32 KiB)
 * to what the first two messages at the largest length hold, so that every
 * length fills at least one message sized from it. Each answer must be
 * complete and well formed (rlib's checker decodes nests, RUNS, PAGEVEC,
 * PAGEIDX and PFNVEC), hold no PFNVEC when pfns are hidden, carry no
 * message longer than the buffer (MSG_TRUNC), and equal the reference page
 * by page (runs expanded; pfns compared where shown, else all 0).
 *
 * All of it twice: as root, and as uid/gid 1000 (no CAP_SYS_ADMIN: pfns
 * never shown) against a target that uid 1000 forked. One TAP line per
 * identity x encoding x mode x pfns, covering every length; the first
 * mismatch and the failing lengths in diagnostics. MT_RECV_USER=1: the
 * uid 1000 pass alone (an unprivileged caller's view).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rlib.h"
#include "tap.h"

#define PS		4096UL
#define NPAGES		8192	/* the target's span, holes included */
#define FILE_PAGES	64	/* its temp file, mapped in pieces */
#define CHUNK_MAX	12	/* pages a piece of the layout */
#define HOLE_PCT	70	/* pieces followed by a hole of 1-3 pages */
#define USER_ID		1000
#define MAX_SIZES	256
#define LEN_PROBE	32768U	/* above the cap: the largest messages */

/* One page of an answer. */
struct pg {
	uint8_t state;
	bool seen;
	bool pfn_known;		/* runs give the first page's pfn only */
	uint32_t flags;
	int32_t node;
	uint64_t pfn;
};

struct collect {
	uint64_t start;
	size_t npages;
	struct pg *pg;
};

static void on_record(void *arg, uint64_t addr, uint64_t pages, unsigned int state,
		      uint32_t flags, uint64_t pfn, int64_t node)
{
	struct collect *k = arg;
	size_t i0 = (addr - k->start) / PS;

	for (uint64_t i = 0; i < pages && i0 + i < k->npages; i++) {
		struct pg *p = &k->pg[i0 + i];

		p->state = state;
		p->flags = flags;
		p->node = (int32_t)node;
		p->pfn = i ? 0 : pfn;
		p->pfn_known = !i;
		p->seen = true;
	}
}

/* ---- the target ---- */

struct target_info {
	pid_t pid, child;
	uint64_t start, end;
	int err;
};

static void target_die(int wfd, const char *what)
{
	struct target_info ti = { .err = errno ? errno : EIO };

	fprintf(stderr, "safety-recv target: %s: %s\n", what, strerror(ti.err));
	if (write(wfd, &ti, sizeof(ti)) < 0)
		_exit(2);
	_exit(2);
}

static volatile char sink;

/* prot of each page of the span: 0 no access, 1 read, 2 read/write */
static unsigned char prot[NPAGES];

static void touch(char *p, int how)
{
	if (how == 1)
		sink = *p;
	else if (how == 2)
		*p = 1;
}

/*
 * Lay out [lo, hi) of the span at base in pieces of 1..CHUNK_MAX pages, most
 * followed by a hole of 1-3 pages (each gap ends a page vector): private
 * anon (untouched, read, written, dropped), private anon made read-only or
 * PROT_NONE after writing, private and shared file maps, shared anon. Every
 * new VMA is MADV_NOHUGEPAGE (nothing may collapse).
 */
static void layout(struct rl_rng *r, char *base, size_t lo, size_t hi, int fd, int wfd)
{
	size_t i = lo;

	while (i < hi) {
		size_t n = 1 + rl_below(r, CHUNK_MAX), off;
		char *p = base + i * PS, *m;
		int kind = 1 + (int)rl_below(r, 7);

		if (n > hi - i)
			n = hi - i;
		switch (kind) {
		case 1:		/* private anon, page by page */
		case 2:
			memset(prot + i, 2, n);
			for (size_t j = 0; j < n; j++) {
				unsigned int how = rl_below(r, 4);

				touch(p + j * PS, how < 3 ? (int)how : 2);
				if (how == 3)
					madvise(p + j * PS, PS, MADV_DONTNEED);
			}
			break;
		case 3:		/* written, then read-only or no access */
			for (size_t j = 0; j < n; j++)
				if (rl_chance(r, 70))
					p[j * PS] = 1;
			if (rl_chance(r, 75)) {
				mprotect(p, n * PS, PROT_READ);
				memset(prot + i, 1, n);
			} else {
				mprotect(p, n * PS, PROT_NONE);
				memset(prot + i, 0, n);
			}
			break;
		case 4:		/* private file map: page cache, COW copies */
		case 5:		/* shared file map, read only (never dirty) */
			off = rl_below(r, FILE_PAGES - n + 1);
			m = mmap(p, n * PS, kind == 4 ? PROT_READ | PROT_WRITE : PROT_READ,
				 (kind == 4 ? MAP_PRIVATE : MAP_SHARED) | MAP_FIXED, fd, off * PS);
			if (m != p)
				target_die(wfd, "mmap file");
			madvise(p, n * PS, MADV_NOHUGEPAGE);
			memset(prot + i, kind == 4 ? 2 : 1, n);
			for (size_t j = 0; j < n; j++)
				touch(p + j * PS, (int)rl_below(r, kind == 4 ? 3 : 2));
			break;
		case 6:		/* shared anon (shmem) */
			m = mmap(p, n * PS, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			if (m != p)
				target_die(wfd, "mmap shared");
			madvise(p, n * PS, MADV_NOHUGEPAGE);
			memset(prot + i, 2, n);
			for (size_t j = 0; j < n; j++)
				touch(p + j * PS, (int)rl_below(r, 3));
			break;
		default:	/* private anon, all written (runs) */
			memset(prot + i, 2, n);
			for (size_t j = 0; j < n; j++)
				p[j * PS] = 1;
			break;
		}
		i += n;
		if (i < hi && rl_chance(r, HOLE_PCT)) {
			n = 1 + rl_below(r, 3);
			if (n > hi - i)
				n = hi - i;
			if (munmap(base + i * PS, n * PS))
				target_die(wfd, "munmap");
			memset(prot + i, 0, n);
			i += n;
		}
	}
}

/*
 * The target: builds its span, forks a child that shares its first half
 * copy-on-write (and breaks some of it), builds the second half, writes
 * some first-half pages (breaking COW on its side), clears the young bits
 * of everything and reads some pages again, reports, and stops.
 */
static void target_main(int wfd)
{
	struct rl_rng r = { 0x5afe5ec7 };
	struct target_info ti = { 0 };
	char path[] = "/tmp/safety-recv-XXXXXX", buf[PS];
	char *base;
	int fd, st, cfd;
	pid_t child;

	prctl(PR_SET_DUMPABLE, 1);
	signal(SIGPIPE, SIG_IGN);
	fd = mkstemp(path);
	if (fd < 0)
		target_die(wfd, "mkstemp");
	for (int i = 0; i < FILE_PAGES; i++) {
		memset(buf, 'a' + i % 26, sizeof(buf));
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			target_die(wfd, "write");
	}
	unlink(path);
	base = mmap(NULL, NPAGES * PS, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		target_die(wfd, "mmap");
	madvise(base, NPAGES * PS, MADV_NOHUGEPAGE);
	layout(&r, base, 0, NPAGES / 2, fd, wfd);

	child = fork();
	if (child < 0)
		target_die(wfd, "fork");
	if (!child) {
		/* break COW on some pages: the parent's copies go back to one mapping */
		for (size_t i = 0; i < NPAGES / 2; i++)
			if (prot[i] == 2 && rl_chance(&r, 15))
				base[i * PS] = 3;
		raise(SIGSTOP);
		for (;;)
			pause();
	}
	if (waitpid(child, &st, WUNTRACED) != child || !WIFSTOPPED(st))
		target_die(wfd, "waitpid (child)");
	r.s ^= 0x1234;	/* the child drew from the same stream */
	layout(&r, base, NPAGES / 2, NPAGES, fd, wfd);
	for (size_t i = 0; i < NPAGES / 2; i++)
		if (prot[i] == 2 && rl_chance(&r, 20))
			base[i * PS] = 4;
	/* old pages lose their young bits, some get them back */
	cfd = open("/proc/self/clear_refs", O_WRONLY);
	if (cfd < 0 || write(cfd, "1", 1) != 1)
		target_die(wfd, "clear_refs");
	close(cfd);
	for (size_t i = 0; i < NPAGES; i++)
		if (prot[i] && rl_chance(&r, 30))
			touch(base + i * PS, 1);
	close(fd);

	ti.pid = getpid();
	ti.child = child;
	ti.start = (uintptr_t)base;
	ti.end = (uintptr_t)base + NPAGES * PS;
	if (write(wfd, &ti, sizeof(ti)) != (ssize_t)sizeof(ti))
		_exit(2);
	close(wfd);
	raise(SIGSTOP);
	for (;;)
		pause();
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* Fork the target and wait until it is stopped (state T). */
static int start_target(struct target_info *ti)
{
	int pfd[2], st;
	pid_t pid;

	memset(ti, 0, sizeof(*ti));
	if (pipe(pfd))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		close(pfd[0]);
		target_main(pfd[1]);
	}
	close(pfd[1]);
	if (read(pfd[0], ti, sizeof(*ti)) != (ssize_t)sizeof(*ti) || ti->err) {
		close(pfd[0]);
		waitpid(pid, &st, 0);
		return ti->err ? -ti->err : -EIO;
	}
	close(pfd[0]);
	if (waitpid(pid, &st, WUNTRACED) != pid || !WIFSTOPPED(st))
		return -ECHILD;
	for (int i = 0; i < 100 && proc_state(pid) != 'T'; i++)
		usleep(10000);
	return proc_state(pid) == 'T' && proc_state(ti->child) == 'T' ? 0 : -EBUSY;
}

static void stop_target(const struct target_info *ti)
{
	if (ti->child > 0)
		kill(ti->child, SIGKILL);
	if (ti->pid > 0) {
		kill(ti->pid, SIGKILL);
		waitpid(ti->pid, NULL, 0);
	}
}

/* ---- the reference: /proc/memtrace, pages mode ---- */

static int proc_reference(const struct target_info *ti, bool admin, struct pg *pg, char *why,
			  size_t wlen)
{
	struct collect k = { ti->start, (ti->end - ti->start) / PS, pg };
	struct rl_check c;
	char q[128];
	int fd, n, rc;

	memset(pg, 0, k.npages * sizeof(*pg));
	fd = open("/proc/memtrace", O_RDWR);
	if (fd < 0) {
		snprintf(why, wlen, "open /proc/memtrace: %s", strerror(errno));
		return -1;
	}
	n = snprintf(q, sizeof(q), "%d 0x%" PRIx64 " 0x%" PRIx64 " pages\n", (int)ti->pid,
		     ti->start, ti->end);
	if (write(fd, q, n) != n) {
		snprintf(why, wlen, "write query: %s", strerror(errno));
		close(fd);
		return -1;
	}
	rl_check_init(&c, ti->pid, ti->start, ti->end, MEMTRACE_MODE_PAGES, admin);
	c.on_record = on_record;
	c.arg = &k;
	rc = rl_proc_read_all(fd, &c, 65536, NULL);
	close(fd);
	if (rc) {
		snprintf(why, wlen, "read: %s%s%s", strerror(-rc), c.err[0] ? ": " : "", c.err);
		return -1;
	}
	return 0;
}

/* ---- one netlink dump with one receive length ---- */

enum { ENC_NESTS, ENC_PACKED, ENC_INDEXED, NENC };
static const char *const enc_names[NENC] = { "nests", "packed", "packed+indexed" };
static const char *const mode_names[] = { "runs", "pages" };

static unsigned char rbuf[64 * 1024];

static int sock_for(uint16_t family, size_t len, struct nlr *s)
{
	int big = 4 << 20, err = nlr_socket(s);

	if (err)
		return err;
	/* room for the dump to keep going; FORCE works as root only */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	s->family = family;
	s->cap = len;		/* nlr_recv() reads exactly this much */
	s->buf = rbuf;
	return 0;
}

struct combo {
	int enc, mode;
	bool nopfn;
};

/*
 * Dump [ti->start, end) of pid with every recvmsg() of len bytes; fill got.
 * 0, or -1 with why set. ends (if not NULL) gets where each of the first
 * max_ends data messages left the answer, *nmsgs how many there were.
 */
static int dump_once(uint16_t family, const struct target_info *ti, uint64_t end,
		     const struct combo *cb, bool show_pfns, size_t len, struct pg *got,
		     char *why, size_t wlen, uint64_t *ends, unsigned int max_ends,
		     unsigned int *nmsgs)
{
	struct collect k = { ti->start, (end - ti->start) / PS, got };
	unsigned int msgs = 0;
	unsigned char req[128];
	struct rl_check c;
	struct nlr s;
	struct nlmsghdr *h;
	int flags = cb->mode, err, rc = -1;
	bool first = true, done = false;
	size_t qlen;
	uint32_t seq;

	memset(got, 0, k.npages * sizeof(*got));
	err = sock_for(family, len, &s);
	if (err) {
		snprintf(why, wlen, "socket: %s", strerror(-err));
		return -1;
	}
	if (cb->enc != ENC_NESTS)
		flags |= RL_PACKED;
	if (cb->enc == ENC_INDEXED)
		flags |= RL_INDEXED;
	qlen = rl_nl_query_msg(&s, req, ti->pid, ti->start, end, true, flags);
	if (cb->nopfn) {
		struct nlattr a = { .nla_len = NLA_HDRLEN, .nla_type = MEMTRACE_A_NO_PFN };

		memcpy(req + qlen, &a, sizeof(a));
		qlen += NLA_HDRLEN;
		((struct nlmsghdr *)req)->nlmsg_len = qlen;
	}
	seq = ((struct nlmsghdr *)req)->nlmsg_seq;
	rl_check_init(&c, ti->pid, ti->start, end, cb->mode, show_pfns);
	c.on_record = on_record;
	c.arg = &k;
	err = nlr_send_raw(&s, req, qlen);
	if (err) {
		snprintf(why, wlen, "send: %s", strerror(-err));
		goto out;
	}
	while (!done) {
		ssize_t n = nlr_recv(&s, 20000);
		int left = (int)n;

		if (n == -EMSGSIZE) {
			snprintf(why, wlen, "MSG_TRUNC: a message longer than the %zu-byte buffer",
				 len);
			goto out;
		}
		if (n <= 0) {
			snprintf(why, wlen, "recv: %s", n ? strerror((int)-n) : "no answer in 20 s");
			goto out;
		}
		for (h = (struct nlmsghdr *)s.buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq) {
				snprintf(why, wlen, "message of seq %u, expected %u", h->nlmsg_seq, seq);
				goto out;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				snprintf(why, wlen, "NLMSG_ERROR %d (%s)", e->error,
					 strerror(-e->error));
				goto out;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				int e = 0;

				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&e, NLMSG_DATA(h), sizeof(e));
				if (e) {
					snprintf(why, wlen, "NLMSG_DONE with error %d", e);
					goto out;
				}
				done = true;
				break;
			}
			if (!show_pfns && h->nlmsg_len >= NLMSG_HDRLEN + GENL_HDRLEN) {
				/* hidden pfns: no PFNVEC at all */
				const char *p = (const char *)NLMSG_DATA(h) + GENL_HDRLEN;
				int rem = (int)h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
				const struct nlattr *a = (const struct nlattr *)p;

				for (; rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
				       a->nla_len <= rem;
				     rem -= NLA_ALIGN(a->nla_len),
				     a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len)))
					if ((a->nla_type & NLA_TYPE_MASK) == MEMTRACE_A_PFNVEC) {
						snprintf(why, wlen, "a PFNVEC though pfns are hidden");
						goto out;
					}
			}
			if (!rl_nl_check_msg(&c, h, s.family, &first)) {
				snprintf(why, wlen, "%s", c.err);
				goto out;
			}
			if (ends && msgs < max_ends)
				ends[msgs] = c.next;
			msgs++;
		}
		if (!done && left >= (int)NLMSG_HDRLEN) {
			snprintf(why, wlen, "%d bytes of a partial message", left);
			goto out;
		}
	}
	if (nmsgs)
		*nmsgs = msgs;
	if (!c.summary || c.next != end) {
		snprintf(why, wlen, "incomplete: summary %d, answer ends at 0x%" PRIx64,
			 c.summary, c.next);
		goto out;
	}
	rc = 0;
out:
	close(s.fd);
	return rc;
}

/* got against the reference; 0, or -1 with the first difference in why. */
static int compare(const struct target_info *ti, uint64_t end, const struct pg *ref,
		   const struct pg *got, bool show_pfns, char *why, size_t wlen)
{
	size_t n = (end - ti->start) / PS;

	for (size_t i = 0; i < n; i++) {
		const struct pg *a = &ref[i], *b = &got[i];
		char fa[8], fb[8];

		if (!b->seen) {
			snprintf(why, wlen, "page 0x%" PRIx64 " missing", ti->start + i * PS);
			return -1;
		}
		if (a->state == b->state && a->flags == b->flags && a->node == b->node &&
		    (!show_pfns || !b->pfn_known || a->pfn == b->pfn))
			continue;
		rl_flag_word(a->flags, fa);
		rl_flag_word(b->flags, fb);
		snprintf(why, wlen, "page 0x%" PRIx64 ": %s %s node %d pfn 0x%" PRIx64
			 ", /proc says %s %s node %d pfn 0x%" PRIx64, ti->start + i * PS,
			 rl_state_names[b->state], fb, b->node, b->pfn,
			 rl_state_names[a->state], fa, a->node, a->pfn);
		return -1;
	}
	return 0;
}

/* ---- one identity ---- */

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static size_t sizes[MAX_SIZES];
static unsigned int nsizes;

static void describe(const struct target_info *ti, const struct pg *ref)
{
	size_t n = (ti->end - ti->start) / PS, gaps = 0, runs = 0;
	uint32_t words[256];
	unsigned int nw = 0;
	uint64_t counts[MEMTRACE_NSTATES] = { 0 };

	for (size_t i = 0; i < n; i++) {
		uint32_t w = MEMTRACE_PW(ref[i].state, ref[i].flags, ref[i].node);
		unsigned int j;

		counts[ref[i].state]++;
		if (ref[i].state == MEMTRACE_UNMAPPED && (!i || ref[i - 1].state != MEMTRACE_UNMAPPED))
			gaps++;
		if (!i || w != MEMTRACE_PW(ref[i - 1].state, ref[i - 1].flags, ref[i - 1].node))
			runs++;
		for (j = 0; j < nw && words[j] != w; j++)
			;
		if (j == nw && nw < 256)
			words[nw++] = w;
	}
	tap_diag("target %d [0x%" PRIx64 ", 0x%" PRIx64 "): %zu pages, %zu gaps, %zu runs, "
		 "%u distinct page words; none %" PRIu64 " zero %" PRIu64 " present %" PRIu64,
		 (int)ti->pid, ti->start, ti->end, n, gaps, runs, nw,
		 counts[MEMTRACE_NONE], counts[MEMTRACE_ZERO], counts[MEMTRACE_PRESENT]);
}

static void run_identity(const char *who, bool admin)
{
	struct target_info ti;
	struct pg *ref = NULL, *ref2 = NULL, *got = NULL;
	struct nlr s0;
	char why[512];
	size_t npages;
	uint16_t family;
	double t_setup = now();
	int err;

	err = start_target(&ti);
	if (!tap_ok(!err, "%s: target built and stopped", who)) {
		tap_diag("start_target: %s", strerror(-err));
		stop_target(&ti);
		return;
	}
	npages = (ti.end - ti.start) / PS;
	ref = calloc(npages, sizeof(*ref));
	ref2 = calloc(npages, sizeof(*ref2));
	got = calloc(npages, sizeof(*got));
	if (!tap_ok(!proc_reference(&ti, admin, ref, why, sizeof(why)),
		    "%s: /proc/memtrace reference in pages mode", who)) {
		tap_diag("%s", why);
		goto out;
	}
	describe(&ti, ref);
	tap_diag("target and reference took %.1f s", now() - t_setup);
	err = nlr_open(&s0);
	if (!tap_ok(!err, "%s: resolve the memtrace family", who)) {
		tap_diag("%s", strerror(-err));
		goto out;
	}
	family = s0.family;
	nlr_close(&s0);

	for (int enc = 0; enc < NENC; enc++) {
		for (int mode = 0; mode <= MEMTRACE_MODE_MAX; mode++) {
			for (int nopfn = 0; nopfn < 2; nopfn++) {
				struct combo cb = { enc, mode, nopfn };
				bool show = admin && !nopfn;
				char first[600] = "", bad[512] = "";
				uint64_t ends[3], end = ti.end;
				unsigned int fails = 0, nmsgs = 0, nmax = 0;
				size_t blen = 0;
				struct timespec t0, t1;

				clock_gettime(CLOCK_MONOTONIC, &t0);
				/*
				 * The range: as much of the span as 2 messages of the
				 * largest length hold (the first is NLMSG_GOODSIZE, sent
				 * before any recvmsg()), and a bit: every length then
				 * fills at least one message sized from it, and no more
				 * is walked (TCG is slow).
				 */
				if (dump_once(family, &ti, ti.end, &cb, show, LEN_PROBE, got,
					      why, sizeof(why), ends, 3, &nmsgs) ||
				    compare(&ti, ti.end, ref, got, show, why, sizeof(why))) {
					fails++;
					snprintf(first, sizeof(first), "length %u (whole span): %s",
						 LEN_PROBE, why);
					blen += snprintf(bad, sizeof(bad), " %u", LEN_PROBE);
				} else if (nmsgs >= 3) {
					end = ends[1] + 16 * PS;
					if (end > ti.end)
						end = ti.end;
				}
				for (unsigned int i = 0; i < nsizes; i++) {
					unsigned int m = 0;
					int r = dump_once(family, &ti, end, &cb, show, sizes[i], got,
							  why, sizeof(why), NULL, 0, &m);

					if (!r)
						r = compare(&ti, end, ref, got, show, why, sizeof(why));
					if (m > nmax)
						nmax = m;
					if (!r)
						continue;
					if (!fails++)
						snprintf(first, sizeof(first), "length %zu: %s",
							 sizes[i], why);
					if (blen < sizeof(bad) - 16)
						blen += snprintf(bad + blen, sizeof(bad) - blen, " %zu",
								 sizes[i]);
				}
				clock_gettime(CLOCK_MONOTONIC, &t1);
				if (!tap_ok(!fails, "%s: %s, %s mode, %s: %u receive lengths, "
					    "%" PRIu64 " pages, up to %u messages (%.1f s)",
					    who, enc_names[enc], mode_names[mode],
					    nopfn ? "NO_PFN" : "pfns", nsizes, (end - ti.start) / PS,
					    nmax,
					    (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9)) {
					tap_diag("%u of %u lengths fail; first: %s", fails, nsizes, first);
					tap_diag("failing lengths:%s", bad);
				}
			}
		}
	}
	/* the target did not change under us: the comparisons were fair */
	if (!tap_ok(!proc_reference(&ti, admin, ref2, why, sizeof(why)) &&
		    !compare(&ti, ti.end, ref, ref2, admin, why, sizeof(why)),
		    "%s: /proc reference unchanged after the dumps", who))
		tap_diag("%s", why);
out:
	stop_target(&ti);
	free(ref);
	free(ref2);
	free(got);
}

static void add_size(size_t len)
{
	for (unsigned int i = 0; i < nsizes; i++)
		if (sizes[i] == len)
			return;
	if (nsizes < MAX_SIZES)
		sizes[nsizes++] = len;
}

int main(int argc, char **argv)
{
	static const size_t around[] = { 4096, 8192, 16384, 32768 };
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0;
	unsigned int nrand = rl_quick() ? 6 : 40;
	/* quick (the debug kernel): still every residue mod 8 around each */
	int spread = rl_quick() ? 4 : 16;
	struct rl_rng r;
	struct timespec t0, t1;
	int pfd[2], st;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!seed)
		seed = (uint64_t)rl_knob("mt_seed", 0);
	if (!seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	r.s = seed;
	if (rl_knob("mt_recv_len", 0) > 0) {
		add_size((size_t)rl_knob("mt_recv_len", 0));
	} else {
		for (unsigned int i = 0; i < sizeof(around) / sizeof(around[0]); i++)
			for (int d = -spread; d <= spread; d++)
				add_size(around[i] + d);
		add_size(8185);
		add_size(8186);	/* the oops of issue 14 on 6.1 (tailroom 2 mod 4) */
		add_size(8187);
		for (unsigned int i = 0; i < nrand; i++)
			add_size(4000 + rl_below(&r, 33000 - 4000 + 1));
	}
	tap_diag("seed %" PRIu64 " (MT_SEED=%" PRIu64 " replays), %u receive lengths%s", seed,
		 seed, nsizes, rl_quick() ? " (quick)" : "");

	if (geteuid() != 0) {
		tap_diag("needs root (it also runs as uid %d)", USER_ID);
		tap_ok(0, "running as root");
		return tap_done();
	}
	if (!rl_knob("mt_recv_user", 0))
		run_identity("root", true);

	/* uid 1000: a child drops to it, then forks its own target */
	if (pipe(pfd))
		return 2;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return 2;
	if (!pid) {
		int res[2];

		close(pfd[0]);
		if (setgroups(0, NULL) || setgid(USER_ID) || setuid(USER_ID)) {
			tap_ok(0, "uid %d: drop privileges: %s", USER_ID, strerror(errno));
		} else {
			prctl(PR_SET_DUMPABLE, 1);	/* setuid() cleared it */
			run_identity("uid 1000", false);
		}
		res[0] = tap_n;
		res[1] = tap_failed;
		if (write(pfd[1], res, sizeof(res)) != (ssize_t)sizeof(res))
			_exit(3);
		_exit(0);
	} else {
		int res[2];
		bool got;

		close(pfd[1]);
		got = read(pfd[0], res, sizeof(res)) == (ssize_t)sizeof(res);
		close(pfd[0]);
		waitpid(pid, &st, 0);
		if (got) {
			tap_n = res[0];
			tap_failed = res[1];
		}
		if (!got || !WIFEXITED(st) || WEXITSTATUS(st))
			tap_ok(0, "uid %d pass ended early (status 0x%x)", USER_ID, st);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	tap_diag("%.1f s", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return tap_done();
}
