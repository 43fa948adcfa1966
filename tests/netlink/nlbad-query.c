// SPDX-License-Identifier: GPL-2.0
/*
 * nlbad: a good query, parsed, after the bad ones; the permission cases as uid
 * 1000 (user "lab") in a child; the target exits in the middle of a dump.
 */
#include "nlbad.h"
#include "pg.h"

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

	if (h->nlmsg_type != nlbad_sk.family) {
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
			a->next = addr + pages * MT_PG;
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
void nlbad_good_query(const char *when)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 8 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct answer a = { 0 };
	struct nlr_result r;
	bool states = true, pfns = true;
	int ret;

	madvise(p, 8 * ps, MADV_NOHUGEPAGE);
	memset(p, 1, 4 * ps);
	nlbad_query(getpid());
	nlb_u64(&nlbad_req, MEMTRACE_A_START, (uintptr_t)p);
	nlb_u64(&nlbad_req, MEMTRACE_A_END, (uintptr_t)p + 8 * ps);
	nlb_u8(&nlbad_req, MEMTRACE_A_MODE, MEMTRACE_MODE_PAGES);
	ret = nlr_send(&nlbad_sk, &nlbad_req);
	if (!ret)
		ret = nlr_wait(&nlbad_sk, nlbad_req.seq, &r, parse_cb, &a);
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
			 nlbad_errname(r.error), a.bad, a.records);
	munmap(p, 8 * ps);

	nlb_start(&nlbad_req, &nlbad_sk, MEMTRACE_CMD_GET_INFO, NLM_F_ACK);
	ret = nlbad_ask(&nlbad_sk, &nlbad_req, &r);
	tap_ok(!ret && r.answered && !r.error && r.nmsgs == 1,
	       "%s: GET_INFO answers (one message, then the ack)", when);
}

/* ---- as uid 1000, in a child: the answers come back through a pipe ---- */

struct child_result {
	struct nlr_result r[3];
};

void nlbad_as_lab(void)
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
			tap_diag("got %s", r->answered ? nlbad_errname(r->error) : "no answer");
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

void nlbad_exit_midway(void)
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
	nlbad_query(k.victim);
	nlb_u8(&nlbad_req, MEMTRACE_A_MODE, MEMTRACE_MODE_PAGES);
	if (nlr_send(&nlbad_sk, &nlbad_req) || nlr_wait(&nlbad_sk, nlbad_req.seq, &r, kill_after_first, &k))
		memset(&r, 0, sizeof(r));
	tap_ok(r.answered && r.error == -ESRCH && r.via_done && k.seen >= 1,
	       "the target exits half-way through a dump: NLMSG_DONE carries ESRCH "
	       "(after %u messages)", k.seen);
	if (r.error != -ESRCH)
		tap_diag("got %s%s", nlbad_errname(r.error), r.answered ? "" : " (no answer)");
	tap_diag("(%s%s%s)", r.msg[0] ? "the kernel says: " : "no message from the kernel",
		 r.msg[0] ? r.msg : "", "");
}
