// SPDX-License-Identifier: GPL-2.0
/*
 * nlbad: malformed and refused requests to the memtrace generic netlink
 * family, sent as raw bytes (tests/lib/nlraw.h), each checked for the
 * errno kmod/uapi/memtrace.h documents and for the kernel's extended ACK
 * message; then a good query must still be answered correctly. Run as root
 * in the lab VM with the module loaded; the permission cases drop to uid 1000
 * (user "lab") in a child. TAP on stdout; exit status 1 if a test failed.
 *
 * Where an error comes from netlink's own policy validation the message is
 * the kernel's generic one ("invalid attribute length", "Unknown attribute
 * type", ...); QUERY's own errors carry the module's messages. Errors the
 * generic netlink core returns without looking at the family (an unknown
 * command, a header too short for genetlink) have no message on every
 * kernel: those check the errno only and say whether a message came.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "nlraw.h"
#include "tap.h"

static struct nlr s;
static struct nlb b;

enum { MSG_OPTIONAL, MSG_REQUIRED };

static const char *errname(int e)
{
	static char buf[32];

	switch (-e) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case ERANGE: return "ERANGE";
	case ESRCH: return "ESRCH";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case E2BIG: return "E2BIG";
	case EMSGSIZE: return "EMSGSIZE";
	case EBUSY: return "EBUSY";
	}
	snprintf(buf, sizeof(buf), "errno %d", -e);
	return buf;
}

static int ask(struct nlr *sk, const struct nlb *req, struct nlr_result *r)
{
	int ret = nlr_send(sk, req);

	if (ret) {
		memset(r, 0, sizeof(*r));
		return ret;
	}
	return nlr_wait(sk, req->seq, r, NULL, NULL);
}

/* Send b; the answer must be errno want, with an extended ACK message if need_msg. */
static void expect(const char *what, int want, int need_msg)
{
	struct nlr_result r;
	int ret = ask(&s, &b, &r);
	bool ok_err = !ret && r.answered && r.error == want;
	bool ok_msg = r.msg[0] || need_msg == MSG_OPTIONAL;

	tap_ok(ok_err && ok_msg, "%s: %s%s%s%s", what, errname(want),
	       r.msg[0] ? ", kernel says \"" : need_msg ? ", with a message" : "",
	       r.msg, r.msg[0] ? "\"" : "");
	if (ret)
		tap_diag("send/receive failed: %s", strerror(-ret));
	else if (!r.answered)
		tap_diag("no answer%s", r.timeout ? " (timeout)" : "");
	else if (r.error != want)
		tap_diag("got %s%s, %u data messages", errname(r.error),
			 r.via_done ? " (in NLMSG_DONE)" : "", r.nmsgs);
	else if (!ok_msg)
		tap_diag("the right errno, but no extended ACK message came with it");
	if (ok_err && need_msg == MSG_OPTIONAL && !r.msg[0])
		tap_diag("(no message from the kernel here)");
}

static void query(int pid)
{
	nlb_start(&b, &s, MEMTRACE_CMD_QUERY, NLM_F_DUMP);
	if (pid >= 0)
		nlb_u32(&b, MEMTRACE_A_PID, (uint32_t)pid);
}

/* ---- a good query, parsed ---- */

struct answer {
	unsigned long records, pages;
	uint64_t next, start, end;
	uint64_t count[MEMTRACE_NSTATES];
	bool summary, bad;
	int state[16];
	uint32_t flags[16];
	uint64_t pfn[16];
};

static int parse_cb(const struct nlmsghdr *h, void *arg)
{
	struct answer *a = arg;
	struct nlattr *at, *r;
	int rem, rrem;

	if (h->nlmsg_type != s.family) {
		a->bad = true;
		return 1;
	}
	nlr_for_each_attr(at, (char *)NLMSG_DATA(h) + GENL_HDRLEN,
			  (int)(h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN), rem) {
		if (nlr_type(at) == MEMTRACE_A_START && nlr_len(at) == 8)
			memcpy(&a->start, nlr_data(at), 8);
		else if (nlr_type(at) == MEMTRACE_A_END && nlr_len(at) == 8)
			memcpy(&a->end, nlr_data(at), 8);
		else if (nlr_type(at) == MEMTRACE_A_RECORD) {
			uint64_t addr = 0, pages = 0, pfn = 0;
			uint32_t flags = 0;
			int state = -1;

			nlr_for_each_attr(r, nlr_data(at), nlr_len(at), rrem) {
				if (nlr_type(r) == MEMTRACE_R_ADDR)
					memcpy(&addr, nlr_data(r), 8);
				else if (nlr_type(r) == MEMTRACE_R_PAGES)
					memcpy(&pages, nlr_data(r), 8);
				else if (nlr_type(r) == MEMTRACE_R_STATE)
					state = *(uint8_t *)nlr_data(r);
				else if (nlr_type(r) == MEMTRACE_R_FLAGS)
					memcpy(&flags, nlr_data(r), 4);
				else if (nlr_type(r) == MEMTRACE_R_PFN)
					memcpy(&pfn, nlr_data(r), 8);
			}
			if (state < 0 || state >= MEMTRACE_NSTATES || !pages ||
			    (a->records && addr != a->next)) {
				a->bad = true;
				continue;
			}
			if (a->records < 16) {
				a->state[a->records] = state;
				a->flags[a->records] = flags;
				a->pfn[a->records] = pfn;
			}
			a->records++;
			a->pages += pages;
			a->next = addr + pages * 4096;
		} else if (nlr_type(at) == MEMTRACE_A_SUMMARY) {
			nlr_for_each_attr(r, nlr_data(at), nlr_len(at), rrem) {
				int t = nlr_type(r);

				if (t >= 1 && t <= MEMTRACE_NSTATES && nlr_len(r) == 8)
					memcpy(&a->count[t - 1], nlr_data(r), 8);
			}
			a->summary = true;
		}
	}
	return 0;
}

/* 8 pages: 0-3 written, 4-7 untouched; pages mode. */
static void good_query(const char *when)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 8 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct answer a = { 0 };
	struct nlr_result r;
	bool states = true, pfns = true;
	int ret;

	madvise(p, 8 * ps, MADV_NOHUGEPAGE);
	memset(p, 1, 4 * ps);
	query(getpid());
	nlb_u64(&b, MEMTRACE_A_START, (uintptr_t)p);
	nlb_u64(&b, MEMTRACE_A_END, (uintptr_t)p + 8 * ps);
	nlb_u8(&b, MEMTRACE_A_MODE, MEMTRACE_MODE_PAGES);
	ret = nlr_send(&s, &b);
	if (!ret)
		ret = nlr_wait(&s, b.seq, &r, parse_cb, &a);
	for (int i = 0; i < 8 && a.records == 8; i++) {
		states &= a.state[i] == (i < 4 ? MEMTRACE_PRESENT : MEMTRACE_NONE);
		if (i < 4)
			pfns &= a.pfn[i] != 0 && (a.flags[i] & MEMTRACE_F_ANON);
	}
	tap_ok(!ret && r.answered && !r.error && !a.bad && a.records == 8 && states &&
	       (pfns || geteuid()) && a.summary && a.count[MEMTRACE_PRESENT] == 4 &&
	       a.count[MEMTRACE_NONE] == 4 && a.start == (uintptr_t)p,
	       "%s: a good query answers: 8 records, 4 present (anon, PFNs), 4 none, summary",
	       when);
	if (ret || !r.answered || r.error || a.bad || a.records != 8)
		tap_diag("ret %d answered %d error %s bad %d records %lu", ret, r.answered,
			 errname(r.error), a.bad, a.records);
	munmap(p, 8 * ps);

	nlb_start(&b, &s, MEMTRACE_CMD_GET_INFO, NLM_F_ACK);
	ret = ask(&s, &b, &r);
	tap_ok(!ret && r.answered && !r.error && r.nmsgs == 1,
	       "%s: GET_INFO answers (one message, then the ack)", when);
}

/* ---- as uid 1000, in a child: the answers come back through a pipe ---- */

struct child_result {
	struct nlr_result r[3];
};

static void as_lab(void)
{
	struct child_result cr;
	int fds[2], st;
	pid_t c;

	if (geteuid() != 0) {
		tap_ok(1, "# SKIP uid 1000 cases need root");
		return;
	}
	if (pipe(fds))
		exit(2);
	c = fork();
	if (!c) {
		static struct nlr ls;
		static struct nlb lb;
		long ps = sysconf(_SC_PAGESIZE);
		char *p;

		memset(&cr, 0, sizeof(cr));
		close(fds[0]);
		if (setgroups(0, NULL) || setgid(1000) || setuid(1000))
			_exit(3);
		prctl(PR_SET_DUMPABLE, 1);	/* setuid() cleared it */
		if (nlr_open(&ls))
			_exit(4);
		/* init, root's */
		nlb_start(&lb, &ls, MEMTRACE_CMD_QUERY, NLM_F_DUMP);
		nlb_u32(&lb, MEMTRACE_A_PID, 1);
		if (!nlr_send(&ls, &lb))
			nlr_wait(&ls, lb.seq, &cr.r[0], NULL, NULL);
		/* the parent test, root's */
		nlb_start(&lb, &ls, MEMTRACE_CMD_QUERY, NLM_F_DUMP);
		nlb_u32(&lb, MEMTRACE_A_PID, (uint32_t)getppid());
		nlb_u64(&lb, MEMTRACE_A_START, 0x400000);
		nlb_u64(&lb, MEMTRACE_A_END, 0x401000);
		if (!nlr_send(&ls, &lb))
			nlr_wait(&ls, lb.seq, &cr.r[1], NULL, NULL);
		/* its own process */
		p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		p[0] = 1;
		nlb_start(&lb, &ls, MEMTRACE_CMD_QUERY, NLM_F_DUMP);
		nlb_u32(&lb, MEMTRACE_A_PID, (uint32_t)getpid());
		nlb_u64(&lb, MEMTRACE_A_START, (uintptr_t)p);
		nlb_u64(&lb, MEMTRACE_A_END, (uintptr_t)p + ps);
		if (!nlr_send(&ls, &lb))
			nlr_wait(&ls, lb.seq, &cr.r[2], NULL, NULL);
		if (write(fds[1], &cr, sizeof(cr)) != sizeof(cr))
			_exit(5);
		_exit(0);
	}
	close(fds[1]);
	memset(&cr, 0, sizeof(cr));
	if (read(fds[0], &cr, sizeof(cr)) != sizeof(cr))
		tap_diag("the uid 1000 child failed");
	close(fds[0]);
	waitpid(c, &st, 0);
	for (int i = 0; i < 2; i++) {
		struct nlr_result *r = &cr.r[i];

		tap_ok(r->answered && r->error == -EACCES && r->msg[0],
		       "uid 1000, %s: EACCES%s%s%s", i ? "another user's process (the test's)" :
		       "another user's process (init)", r->msg[0] ? ", kernel says \"" :
		       ", with a message", r->msg, r->msg[0] ? "\"" : "");
		if (!r->answered || r->error != -EACCES)
			tap_diag("got %s", r->answered ? errname(r->error) : "no answer");
		else if (!r->msg[0])
			tap_diag("the right errno, but no extended ACK message came with it");
	}
	tap_ok(cr.r[2].answered && !cr.r[2].error && cr.r[2].nmsgs >= 1,
	       "uid 1000, its own process: answered");
}

/* ---- the target exits in the middle of a dump ---- */

struct kill_arg {
	pid_t victim;
	unsigned int seen;
};

static int kill_after_first(const struct nlmsghdr *h, void *arg)
{
	struct kill_arg *k = arg;
	int st;

	(void)h;
	if (k->seen++ == 0) {
		kill(k->victim, SIGKILL);
		waitpid(k->victim, &st, 0);
	}
	return 0;
}

static void exit_midway(void)
{
	int fds[2];
	struct kill_arg k = { 0 };
	struct nlr_result r;
	char c;

	if (pipe(fds))
		exit(2);
	k.victim = fork();
	if (!k.victim) {
		/* 64 MiB untouched: 16384 records in pages mode, many messages */
		void *p = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		(void)p;
		close(fds[0]);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1)
		tap_diag("child did not start");
	close(fds[0]);
	query(k.victim);
	nlb_u8(&b, MEMTRACE_A_MODE, MEMTRACE_MODE_PAGES);
	if (nlr_send(&s, &b) || nlr_wait(&s, b.seq, &r, kill_after_first, &k))
		memset(&r, 0, sizeof(r));
	tap_ok(r.answered && r.error == -ESRCH && r.via_done && k.seen >= 1,
	       "the target exits half-way through a dump: NLMSG_DONE carries ESRCH "
	       "(after %u messages)", k.seen);
	if (r.error != -ESRCH)
		tap_diag("got %s%s", errname(r.error), r.answered ? "" : " (no answer)");
	tap_diag("(%s%s%s)", r.msg[0] ? "the kernel says: " : "no message from the kernel",
		 r.msg[0] ? r.msg : "", "");
}

/* What a packed answer held (packed_cb). */
struct packed_seen {
	unsigned int records, runs, pagevecs, pageidxs, pfnvecs, other;
	unsigned int pages;	/* in PAGEVECs and PAGEIDXs */
	unsigned int bad_idx;	/* PAGEIDXs not as memtrace.h says */
	uint32_t words[4];	/* the words of the first 4 pages */
	uint64_t pfn_or;	/* every pfn of the PFNVECs or-ed */
};

/* A PAGEIDX: lengths, padding and indexes as memtrace.h says; its pages. */
static void packed_pageidx(struct packed_seen *ps, const unsigned char *d, size_t len)
{
	struct memtrace_pageidx v;
	size_t off;

	if (len < sizeof(v)) {
		ps->bad_idx++;
		return;
	}
	memcpy(&v, d, sizeof(v));
	off = MEMTRACE_PAGEIDX_WORDS_OFF((size_t)v.count);
	if (!v.count || !v.nwords || v.nwords > MEMTRACE_PAGEIDX_WORDS_MAX || v.reserved ||
	    len != off + v.nwords * 4u) {
		ps->bad_idx++;
		return;
	}
	for (size_t i = sizeof(v) + v.count; i < off; i++)
		ps->bad_idx += d[i] != 0;
	for (uint32_t i = 0; i < v.count; i++) {
		unsigned int ix = d[sizeof(v) + i];

		if (ix >= v.nwords) {
			ps->bad_idx++;
			return;
		}
		if (ps->pages < 4)
			memcpy(&ps->words[ps->pages], d + off + ix * 4, 4);
		ps->pages++;
	}
}

static int packed_cb(const struct nlmsghdr *h, void *arg)
{
	struct packed_seen *ps = arg;
	const unsigned char *p = (const unsigned char *)NLMSG_DATA(h) + GENL_HDRLEN;
	int rem = (int)h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	const struct nlattr *a;

	for (a = (const struct nlattr *)p; nlr_attr_ok(a, rem); a = nlr_attr_next((struct nlattr *)a, &rem)) {
		switch (nlr_type(a)) {
		case MEMTRACE_A_RECORD: ps->records++; break;
		case MEMTRACE_A_RUNS: ps->runs++; break;
		case MEMTRACE_A_PAGEVEC: {
			struct memtrace_pagevec v;

			ps->pagevecs++;
			if (nlr_len(a) < (int)sizeof(v))
				break;
			memcpy(&v, nlr_data(a), sizeof(v));
			for (uint32_t i = 0; i < v.count && ps->pages < 4; i++)
				memcpy(&ps->words[ps->pages++],
				       (const char *)nlr_data(a) + sizeof(v) + 4 * i, 4);
			break;
		}
		case MEMTRACE_A_PAGEIDX:
			ps->pageidxs++;
			packed_pageidx(ps, nlr_data(a), (size_t)nlr_len(a));
			break;
		case MEMTRACE_A_PFNVEC:
			ps->pfnvecs++;
			for (int i = 0; i + 8 <= nlr_len(a); i += 8) {
				uint64_t v;

				memcpy(&v, (const char *)nlr_data(a) + i, 8);
				ps->pfn_or |= v;
			}
			break;
		case MEMTRACE_A_PID: case MEMTRACE_A_START: case MEMTRACE_A_END:
		case MEMTRACE_A_MODE: case MEMTRACE_A_SUMMARY: case MEMTRACE_A_PAD:
			break;
		default: ps->other++; break;
		}
	}
	return 0;
}

/* QUERY of [p, p + 4 pages) of this process in mode, with the flags given. */
#define Q_PACKED 1	/* MEMTRACE_A_PACKED */
#define Q_NO_PFN 2	/* MEMTRACE_A_NO_PFN */
#define Q_INDEXED 4	/* MEMTRACE_A_INDEXED */
static void packed_query(const char *what, const void *p, int mode, int how,
			 struct packed_seen *ps)
{
	struct nlr_result r;
	int ret;

	memset(ps, 0, sizeof(*ps));
	query(getpid());
	nlb_u64(&b, MEMTRACE_A_START, (uintptr_t)p);
	nlb_u64(&b, MEMTRACE_A_END, (uintptr_t)p + 4 * 4096);
	nlb_u8(&b, MEMTRACE_A_MODE, (uint8_t)mode);
	if (how & Q_PACKED)
		nlb_attr(&b, MEMTRACE_A_PACKED, NULL, 0);
	if (how & Q_NO_PFN)
		nlb_attr(&b, MEMTRACE_A_NO_PFN, NULL, 0);
	if (how & Q_INDEXED)
		nlb_attr(&b, MEMTRACE_A_INDEXED, NULL, 0);
	ret = nlr_send(&s, &b);
	if (!ret)
		ret = nlr_wait(&s, b.seq, &r, packed_cb, ps);
	if (ret || !r.answered || r.error) {
		tap_ok(0, "%s: answered (%s, error %d)", what, strerror(ret < 0 ? -ret : 0), r.error);
		ps->other = ~0U;
	}
}

/* The module's testing knob: words a PAGEIDX holds. */
#define PAGEIDX_KNOB "/sys/module/memtrace/parameters/pageidx_words"

/* Write val to the sysfs file path, its old value first into old (if set). */
static bool set_knob(const char *path, const char *val, char *old, size_t oldsz)
{
	FILE *f;
	bool ok;

	if (old) {
		f = fopen(path, "r");
		if (!f || !fgets(old, (int)oldsz, f)) {
			if (f)
				fclose(f);
			return false;
		}
		fclose(f);
		old[strcspn(old, "\n")] = '\0';
	}
	f = fopen(path, "w");
	if (!f)
		return false;
	ok = fputs(val, f) >= 0;
	return fclose(f) == 0 && ok;
}

/* Pages 0 and 2 written, 1 and 3 not, as page words say. */
static bool packed_words_ok(const struct packed_seen *ps)
{
	for (int i = 0; i < 4; i++)
		if (MEMTRACE_PW_STATE(ps->words[i]) != (i % 2 ? MEMTRACE_NONE : MEMTRACE_PRESENT))
			return false;
	return ps->pages == 4;
}

/* PACKED, INDEXED and NO_PFN do what memtrace.h says (run as root: pfns shown). */
static void packed_checks(void)
{
	char *p = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct packed_seen ps;
	char old[16];

	if (p == MAP_FAILED) {
		tap_ok(0, "packed checks: mmap");
		return;
	}
	p[0] = 1;
	p[2 * 4096] = 1;
	packed_query("pages, packed", p, MEMTRACE_MODE_PAGES, Q_PACKED, &ps);
	tap_ok(ps.pagevecs >= 1 && ps.pfnvecs == ps.pagevecs && !ps.records && !ps.other &&
	       !ps.pageidxs && ps.pfn_or != 0 && geteuid() == 0 && packed_words_ok(&ps),
	       "pages, packed, as root: page vectors (%u) each with its pfns (%u), pfns shown, "
	       "words right, no nests (%u)", ps.pagevecs, ps.pfnvecs, ps.records);
	packed_query("pages, packed, NO_PFN", p, MEMTRACE_MODE_PAGES, Q_PACKED | Q_NO_PFN, &ps);
	tap_ok(ps.pagevecs >= 1 && !ps.pfnvecs && !ps.records && !ps.other,
	       "pages, packed, NO_PFN: page vectors (%u), no pfn vector (%u)", ps.pagevecs,
	       ps.pfnvecs);
	packed_query("pages, packed, INDEXED", p, MEMTRACE_MODE_PAGES, Q_PACKED | Q_INDEXED, &ps);
	tap_ok(ps.pageidxs >= 1 && !ps.bad_idx && ps.pfnvecs == ps.pageidxs && !ps.pagevecs &&
	       !ps.records && !ps.other && ps.pfn_or != 0 && packed_words_ok(&ps),
	       "pages, packed, INDEXED: index vectors (%u) as memtrace.h says (%u not), each "
	       "with its pfns (%u), words right, no word vectors (%u)", ps.pageidxs, ps.bad_idx,
	       ps.pfnvecs, ps.pagevecs);
	packed_query("pages, packed, INDEXED, NO_PFN", p, MEMTRACE_MODE_PAGES,
		     Q_PACKED | Q_INDEXED | Q_NO_PFN, &ps);
	tap_ok(ps.pageidxs >= 1 && !ps.bad_idx && !ps.pfnvecs && !ps.pagevecs && !ps.other &&
	       packed_words_ok(&ps),
	       "pages, packed, INDEXED, NO_PFN: index vectors (%u), no pfn vector (%u)",
	       ps.pageidxs, ps.pfnvecs);
	if (set_knob(PAGEIDX_KNOB, "1", old, sizeof(old))) {
		packed_query("pages, INDEXED, 1 word a vector", p, MEMTRACE_MODE_PAGES,
			     Q_PACKED | Q_INDEXED, &ps);
		set_knob(PAGEIDX_KNOB, old, NULL, 0);
		tap_ok(ps.pageidxs == 4 && ps.pfnvecs == 4 && !ps.bad_idx && packed_words_ok(&ps),
		       "pages, INDEXED, pageidx_words=1: a vector a page (%u of 4), each with its "
		       "pfns (%u), words right (old value %s)", ps.pageidxs, ps.pfnvecs, old);
	} else {
		tap_ok(0, "the module's %s can be set", PAGEIDX_KNOB);
	}
	packed_query("runs, packed, INDEXED", p, MEMTRACE_MODE_RUNS, Q_PACKED | Q_INDEXED, &ps);
	tap_ok(ps.runs >= 1 && !ps.pagevecs && !ps.pageidxs && !ps.pfnvecs && !ps.records &&
	       !ps.other, "runs, packed, INDEXED: runs arrays (%u), nothing else", ps.runs);
	packed_query("runs, packed", p, MEMTRACE_MODE_RUNS, Q_PACKED, &ps);
	tap_ok(ps.runs >= 1 && !ps.pagevecs && !ps.pfnvecs && !ps.records && !ps.other,
	       "runs, packed: runs arrays (%u), nothing else", ps.runs);
	packed_query("pages, nested", p, MEMTRACE_MODE_PAGES, 0, &ps);
	tap_ok(ps.records == 4 && !ps.runs && !ps.pagevecs && !ps.other,
	       "pages, not packed: 4 record nests (%u), no arrays", ps.records);
	munmap(p, 4 * 4096);
}

int main(void)
{
	uint64_t task_size = 0;
	int me = getpid(), err;
	struct nlr_result r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	err = nlr_open(&s);
	if (err) {
		tap_ok(0, "the memtrace generic netlink family resolves (%s)", strerror(-err));
		return tap_done();
	}
	tap_ok(1, "the memtrace generic netlink family resolves (id %u)", s.family);

	/* GET_INFO first: TASK_SIZE for the range cases */
	nlb_start(&b, &s, MEMTRACE_CMD_GET_INFO, NLM_F_ACK);
	{
		static struct nlr_result ir;
		int rem;
		struct nlattr *a;

		if (!nlr_send(&s, &b)) {
			struct nlmsghdr *h = (struct nlmsghdr *)s.buf;
			ssize_t n = recv(s.fd, s.buf, s.cap, 0);

			if (n > 0 && h->nlmsg_type == s.family)
				nlr_for_each_attr(a, (char *)NLMSG_DATA(h) + GENL_HDRLEN,
						  (int)(h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN), rem)
					if (nlr_type(a) == MEMTRACE_A_TASK_SIZE && nlr_len(a) == 8)
						memcpy(&task_size, nlr_data(a), 8);
			nlr_wait(&s, b.seq, &ir, NULL, NULL);	/* the ack */
		}
		tap_ok(task_size >= 0x7ffffffff000ULL, "GET_INFO: TASK_SIZE 0x%" PRIx64, task_size);
	}

	/* ---- attribute validation: netlink's policy ---- */
	query(-1);
	expect("QUERY without PID", -EINVAL, MSG_REQUIRED);

	query(-1);
	nlb_u8(&b, MEMTRACE_A_PID, 1);
	expect("PID sent as u8", -EINVAL, MSG_REQUIRED);

	query(-1);
	nlb_u64(&b, MEMTRACE_A_PID, (uint64_t)me);
	expect("PID sent as u64", -EINVAL, MSG_REQUIRED);

	query(me);
	nlb_u32(&b, MEMTRACE_A_START, 0x1000);
	expect("START sent as u32", -EINVAL, MSG_REQUIRED);

	query(me);
	nlb_u32(&b, MEMTRACE_A_END, 0x2000);
	expect("END sent as u32", -EINVAL, MSG_REQUIRED);

	query(me);
	nlb_u32(&b, MEMTRACE_A_MODE, MEMTRACE_MODE_PAGES);
	expect("MODE sent as u32", -EINVAL, MSG_REQUIRED);

	/*
	 * memtrace.h: "a MODE above MEMTRACE_MODE_MAX is EINVAL (ERANGE for the
	 * range check)": the policy's range check (NLA_POLICY_MAX) says ERANGE.
	 */
	query(me);
	nlb_u8(&b, MEMTRACE_A_MODE, 2);
	expect("MODE 2 (above MEMTRACE_MODE_MAX)", -ERANGE, MSG_REQUIRED);

	query(me);
	nlb_u8(&b, MEMTRACE_A_MODE, 255);
	expect("MODE 255", -ERANGE, MSG_REQUIRED);

	query(me);
	nlb_u32(&b, MEMTRACE_A_MAX + 1, 0);
	expect("unknown attribute type (MEMTRACE_A_MAX + 1)", -EINVAL, MSG_REQUIRED);

	query(me);
	nlb_u32(&b, 0x7fff, 0);
	expect("unknown attribute type 0x7fff", -EINVAL, MSG_REQUIRED);

	query(me);
	nlb_u32(&b, MEMTRACE_A_UNSPEC, 0);
	expect("attribute type 0 (MEMTRACE_A_UNSPEC)", -EINVAL, MSG_REQUIRED);

	query(me);
	nlb_attr(&b, MEMTRACE_A_RECORD | NLA_F_NESTED, NULL, 0);
	expect("MEMTRACE_A_RECORD in a QUERY (known, unexpected)", -EINVAL, MSG_REQUIRED);

	query(me);
	nlb_attr(&b, MEMTRACE_A_VERSION, "1.0", 4);
	expect("MEMTRACE_A_VERSION in a QUERY (a reply attribute)", -EINVAL, MSG_REQUIRED);

	query(me);
	nlb_u32(&b, MEMTRACE_A_PAGE_SIZE, 4096);
	expect("MEMTRACE_A_PAGE_SIZE in a QUERY", -EINVAL, MSG_REQUIRED);

	/* the flags carry no payload: the policy's length check says ERANGE */
	packed_checks();

	query(me);
	nlb_u32(&b, MEMTRACE_A_PACKED, 1);
	expect("MEMTRACE_A_PACKED with a payload (a flag)", -ERANGE, MSG_REQUIRED);

	query(me);
	nlb_u8(&b, MEMTRACE_A_NO_PFN, 1);
	expect("MEMTRACE_A_NO_PFN with a payload (a flag)", -ERANGE, MSG_REQUIRED);

	query(me);
	nlb_attr(&b, MEMTRACE_A_RUNS, NULL, 0);
	expect("MEMTRACE_A_RUNS in a QUERY (a reply attribute)", -EINVAL, MSG_REQUIRED);

	query(me);
	nlb_attr(&b, MEMTRACE_A_PAGEVEC, NULL, 0);
	expect("MEMTRACE_A_PAGEVEC in a QUERY (a reply attribute)", -EINVAL, MSG_REQUIRED);

	query(me);
	nlb_attr(&b, MEMTRACE_A_PAGEIDX, NULL, 0);
	expect("MEMTRACE_A_PAGEIDX in a QUERY (a reply attribute)", -EINVAL, MSG_REQUIRED);

	query(me);
	nlb_u32(&b, MEMTRACE_A_INDEXED, 1);
	expect("MEMTRACE_A_INDEXED with a payload (a flag)", -ERANGE, MSG_REQUIRED);

	query(me);
	nlb_u8(&b, MEMTRACE_A_MODE, MEMTRACE_MODE_PAGES);
	nlb_attr(&b, MEMTRACE_A_INDEXED, NULL, 0);
	expect("MEMTRACE_A_INDEXED without MEMTRACE_A_PACKED", -EINVAL, MSG_REQUIRED);

	nlb_start(&b, &s, MEMTRACE_CMD_GET_INFO, NLM_F_ACK);
	nlb_u32(&b, MEMTRACE_A_PID, (uint32_t)me);
	expect("GET_INFO with an attribute (PID)", -EINVAL, MSG_REQUIRED);

	nlb_start(&b, &s, MEMTRACE_CMD_GET_INFO, NLM_F_ACK);
	nlb_u32(&b, MEMTRACE_A_MAX + 1, 0);
	expect("GET_INFO with an unknown attribute", -EINVAL, MSG_REQUIRED);

	/* truncated: nlmsg_len ends in the middle of START */
	query(me);
	nlb_u64(&b, MEMTRACE_A_START, 0x1000);
	((struct nlmsghdr *)b.buf)->nlmsg_len = (uint32_t)(b.len - 6);
	expect("truncated: nlmsg_len ends inside an attribute", -EINVAL, MSG_REQUIRED);

	/* an attribute header that claims more than the message holds */
	query(me);
	nlb_u64(&b, MEMTRACE_A_START, 0x1000);
	((struct nlattr *)(b.buf + b.len - 12))->nla_len = 200;
	expect("an attribute longer than the message", -EINVAL, MSG_REQUIRED);

	/* too short for the generic netlink header: the core refuses it */
	nlb_init(&b, &s, s.family, NLM_F_DUMP);
	nlb_put(&b, "\x02", 1);
	((struct nlmsghdr *)b.buf)->nlmsg_len = NLMSG_HDRLEN + 2;
	expect("message shorter than a genlmsghdr", -EINVAL, MSG_OPTIONAL);

	/* oversized: 64 KiB of attributes */
	query(me);
	while (b.len + 8 <= NLMSG_HDRLEN + GENL_HDRLEN + 65536)
		nlb_u32(&b, MEMTRACE_A_PAD, 0);
	expect("64 KiB of attributes (8192 MEMTRACE_A_PAD)", -EINVAL, MSG_REQUIRED);

	{
		static char big[65531 - NLA_HDRLEN];

		query(-1);
		nlb_attr(&b, MEMTRACE_A_PID, big, sizeof(big));
		expect("one 64 KiB attribute (a PID of 65527 bytes)", -EINVAL, MSG_REQUIRED);
	}

	/* ---- commands ---- */
	nlb_start(&b, &s, 99, NLM_F_ACK);
	expect("unknown command 99", -EOPNOTSUPP, MSG_OPTIONAL);

	nlb_start(&b, &s, MEMTRACE_CMD_UNSPEC, NLM_F_ACK);
	expect("command 0 (MEMTRACE_CMD_UNSPEC)", -EOPNOTSUPP, MSG_OPTIONAL);

	nlb_start(&b, &s, MEMTRACE_CMD_QUERY, NLM_F_ACK);
	nlb_u32(&b, MEMTRACE_A_PID, (uint32_t)me);
	expect("QUERY without NLM_F_DUMP (it is a dump)", -EOPNOTSUPP, MSG_OPTIONAL);

	nlb_start(&b, &s, MEMTRACE_CMD_GET_INFO, NLM_F_DUMP);
	expect("GET_INFO as a dump (it is not)", -EOPNOTSUPP, MSG_OPTIONAL);

	/* ---- QUERY's own checks: the errors of /proc/memtrace's write(2) ---- */
	query(me);
	nlb_u64(&b, MEMTRACE_A_START, 0x2000);
	nlb_u64(&b, MEMTRACE_A_END, 0x1000);
	expect("START > END", -EINVAL, MSG_REQUIRED);

	query(me);
	nlb_u64(&b, MEMTRACE_A_START, 0x1000);
	nlb_u64(&b, MEMTRACE_A_END, 0x1000);
	expect("START == END", -EINVAL, MSG_REQUIRED);

	query(me);
	nlb_u64(&b, MEMTRACE_A_START, 0);
	nlb_u64(&b, MEMTRACE_A_END, task_size + 0x1000);
	expect("END one page past TASK_SIZE", -ERANGE, MSG_REQUIRED);

	query(me);
	nlb_u64(&b, MEMTRACE_A_START, 0);
	nlb_u64(&b, MEMTRACE_A_END, UINT64_MAX);
	expect("END 2^64-1", -ERANGE, MSG_REQUIRED);

	query(me);
	nlb_u64(&b, MEMTRACE_A_START, task_size + 0x1000);
	expect("START past TASK_SIZE, no END", -ERANGE, MSG_REQUIRED);

	query(999999);
	expect("nonexistent PID 999999", -ESRCH, MSG_REQUIRED);

	query(0);
	expect("PID 0", -ESRCH, MSG_REQUIRED);

	query(-1);
	nlb_u32(&b, MEMTRACE_A_PID, 0xffffffff);
	expect("PID 2^32-1", -ESRCH, MSG_REQUIRED);

	query(2);
	expect("kernel thread (PID 2, kthreadd)", -ESRCH, MSG_REQUIRED);

	{
		pid_t z = fork();
		int st;

		if (!z)
			_exit(0);
		usleep(100000);
		query(z);
		expect("a zombie (no memory)", -ESRCH, MSG_REQUIRED);
		waitpid(z, &st, 0);
	}

	as_lab();
	exit_midway();

	/* after all that, the family still works, on the same socket and a new one */
	good_query("same socket, afterwards");
	nlr_close(&s);
	err = nlr_open(&s);
	if (err)
		tap_ok(0, "reopen: %s", strerror(-err));
	else
		good_query("new socket");
	(void)r;
	return tap_done();
}
