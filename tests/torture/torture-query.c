// SPDX-License-Identifier: GPL-2.0
/*
 * tor-torture: the queriers: 8 processes that walk every target's area and
 * check what the answers say about the pages.
 */
#include "torture.h"

/* ---- queriers ---- */

/* What a complete answer said about the pages a content check looks at. */
struct content {
	int kind;
	uint64_t s, e;		/* the pages looked at */
	unsigned long pages, bad;
	uint8_t nstate[NUMA_PAGES];
	uint32_t nflags[NUMA_PAGES];
	int64_t nnode[NUMA_PAGES];
	bool seen[NUMA_PAGES];
	char first[200];
};

static void content_bad(struct content *c, uint64_t a, unsigned int state, uint32_t flags,
			int64_t node, const char *why)
{
	if (!c->bad++)
		snprintf(c->first, sizeof(c->first), "0x%" PRIx64 ": %s flags 0x%x node %" PRId64
			 ": %s", a, rl_state_names[state], flags, node, why);
}

static void on_rec(void *arg, uint64_t addr, uint64_t pages, unsigned int state,
		   uint32_t flags, uint64_t pfn, int64_t node)
{
	struct content *c = arg;
	uint64_t from = addr > c->s ? addr : c->s, to = addr + pages * PG;

	(void)pfn;
	if (to > c->e)
		to = c->e;
	for (uint64_t a = from; a < to; a += PG) {
		switch (c->kind) {
		case K_NUMA: {
			unsigned int i = (a - c->s) / PG;

			c->seen[i] = true;
			c->nstate[i] = state;
			c->nflags[i] = flags;
			c->nnode[i] = node;
			break;
		}
		case K_MREMAP:
			c->pages++;
			if (state != MEMTRACE_UNMAPPED &&
			    (state != MEMTRACE_PRESENT || !(flags & MEMTRACE_F_ANON) ||
			     (flags & MEMTRACE_F_SIZE_MASK)))
				content_bad(c, a, state, flags, node,
					    "a moved mlocked page must be present (anon, 4K) or unmapped");
			break;
		case K_HT_OWNER:
		case K_HT_SHARER:
			c->pages++;
			if (state == MEMTRACE_ZERO || state == MEMTRACE_SWAP || state == MEMTRACE_OTHER)
				content_bad(c, a, state, flags, node, "not a hugetlb page's state");
			else if (state == MEMTRACE_PRESENT &&
				 (flags & (MEMTRACE_F_HUGETLB | MEMTRACE_F_SIZE_MASK)) !=
				 (MEMTRACE_F_HUGETLB | MEMTRACE_F_SIZE_2M))
				content_bad(c, a, state, flags, node, "present but not hugetlb 2M");
			break;
		}
	}
}

/* The numa target's pages: judged when no move happened around the query. */
/*
 * The slot's generation for a query about to start; for numa, once no move
 * is under way (up to 5 s): under TCG a move can take seconds, and a query
 * started during one cannot be judged (on a loaded debug kernel, none was).
 */
static unsigned long still_gen(int k, struct slot *sl)
{
	double t0 = tor_now();

	while (k == K_NUMA && (atomic_load(&sl->gen) & 1) && !atomic_load(&tor_sh->stop) &&
	       tor_now() - t0 < 5)
		usleep(2000);
	return atomic_load(&sl->gen);
}

static void numa_judge(int qi, int pid, unsigned long gen, struct content *c)
{
	struct slot *sl = &tor_sh->slot[K_NUMA];
	void *pages[NUMA_PAGES];
	int status[NUMA_PAGES];
	unsigned long judged = 0;
	bool any = false;

	for (int i = 0; i < NUMA_PAGES; i++) {
		pages[i] = (void *)(uintptr_t)(c->s + i * PG);
		any |= c->seen[i];
	}
	if (!any)
		return;
	if (tor_sys_move_pages(pid, NUMA_PAGES, pages, NULL, status, 0) ||
	    (gen & 1) || atomic_load(&sl->gen) != gen) {
		atomic_fetch_add(&tor_sh->c_unjudged[K_NUMA], 1);
		return;
	}
	for (int i = 0; i < NUMA_PAGES; i++) {
		uint64_t a = c->s + i * PG;

		if (!c->seen[i])
			continue;
		if (status[i] < 0) {
			atomic_fetch_add(&tor_sh->c_unjudged[K_NUMA], 1);
			continue;
		}
		judged++;
		if (c->nstate[i] != MEMTRACE_PRESENT || !(c->nflags[i] & MEMTRACE_F_ANON) ||
		    (c->nflags[i] & MEMTRACE_F_SIZE_MASK))
			content_bad(c, a, c->nstate[i], c->nflags[i], c->nnode[i],
				    "an mlocked page nobody moves must be present, anon, 4K");
		else if (c->nnode[i] != status[i]) {
			char why[64];

			snprintf(why, sizeof(why), "move_pages(2) says node %d", status[i]);
			content_bad(c, a, c->nstate[i], c->nflags[i], c->nnode[i], why);
		}
	}
	(void)qi;
	c->pages = judged;
}

/* An ESRCH is explained when its target is gone, a zombie or exiting. */
/* Does pid run another program than this one (it has exec'd)? */
static bool exec_replaced(int pid)
{
	char path[64], exe[PATH_MAX], self[PATH_MAX];
	ssize_t n, m;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	m = readlink("/proc/self/exe", self, sizeof(self) - 1);
	return n > 0 && m > 0 && (n != m || memcmp(exe, self, n));
}

/*
 * pre_exec: the target was an exec child that had not exec'd yet when the
 * query began.
 */
static bool esrch_explained(int k, int pid, bool pre_exec)
{
	struct slot *sl = &tor_sh->slot[k];
	char path[64], stat[256] = "";
	unsigned int pflags = 0;
	const char *end;
	char st = '?';
	bool gone;
	FILE *f;

	if (atomic_load(&sl->pid) != pid || atomic_load(&sl->exiting) || atomic_load(&tor_sh->stop))
		return true;
	/*
	 * An exec child that exec'd during the query: a query that took its
	 * address space before the execve() finds it gone (the walk's mmget_not_zero() fails:
	 * ESRCH, as pagemap read through an fd opened before the exec gives
	 * nothing), though the pid lives on in the setuid image.
	 */
	if (pre_exec && exec_replaced(pid))
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	gone = !f || !fgets(stat, sizeof(stat), f);
	if (f)
		fclose(f);
	end = gone ? NULL : strrchr(stat, ')');
	if (end)
		sscanf(end + 1, " %c %*d %*d %*d %*d %*d %u", &st, &pflags);
	return gone || st == 'Z' || st == 'X' || (pflags & 0x4);	/* PF_EXITING */
}

void tor_querier(int qi, uint64_t seed)
{
	struct rl_rng r = { seed };
	struct qstat *st = &tor_sh->q[qi];
	bool nl = qi & 2;
	int mode = qi & 1;
	struct nlr nls;
	int err;

	if (nl && (err = nlr_open(&nls))) {
		tor_report("querier %d: netlink: %s", qi, strerror(-err));
		atomic_fetch_add(&st->errors, 1);
		_exit(1);
	}
	while (!atomic_load(&tor_sh->stop)) {
		/* one query in four on numa: its pages are judged only when still */
		int k = rl_chance(&r, 25) ? K_NUMA : (int)rl_below(&r, NK);
		struct slot *sl = &tor_sh->slot[k];
		unsigned long gen = still_gen(k, sl);
		int pid = atomic_load(&sl->pid);
		uint64_t s = atomic_load(&sl->start), e = atomic_load(&sl->end);
		struct content ct = { .kind = k };
		unsigned int pick = rl_below(&r, 100);
		bool whole = false, pre_exec;
		struct rl_check c;

		if (!pid || !s) {
			usleep(1000);
			continue;
		}
		if ((k == K_HT_OWNER || k == K_HT_SHARER) && (mode || pick < 60))
			e = s + HT_QUERY;	/* 8 MiB; runs mode sometimes the whole GiB */
		if (!mode && pick < 10) {
			whole = true;
		} else if (pick < 40 && k != K_NUMA) {
			uint64_t n = (e - s) / PG, o = rl_below(&r, n);

			uint64_t len = (1 + rl_below(&r, 1024)) * PG;

			s += o * PG;
			if (s + len < e)
				e = s + len;
		}
		ct.s = atomic_load(&sl->start);
		ct.e = k == K_NUMA ? ct.s + NUMA_PAGES * PG : e;
		/* an exec child still in this program: an exec may take its mm away */
		pre_exec = k == K_EXEC && !exec_replaced(pid);
		rl_check_init(&c, pid, whole ? 0 : s, whole ? 0 : e, mode, true);
		c.on_record = on_rec;
		c.arg = &ct;
		if (nl)
			err = rl_nl_query(&nls, &c, pid, whole ? 0 : s, whole ? 0 : e, !whole,
					  mode | (rl_chance(&r, 50) ? RL_PACKED |
						  (rl_chance(&r, 50) ? RL_INDEXED : 0) : 0), NULL);
		else
			err = rl_proc_query(&c, pid, s, e, whole, mode, &r, NULL);
		atomic_fetch_add(&st->queries, 1);
		atomic_fetch_add(&st->alive, 1);
		atomic_fetch_add(&tor_sh->kq[k], 1);
		if (!err) {
			if (k == K_NUMA)
				numa_judge(qi, pid, gen, &ct);
			if (ct.pages && (k == K_NUMA || k == K_MREMAP || k == K_HT_OWNER ||
					 k == K_HT_SHARER)) {
				atomic_fetch_add(&tor_sh->c_answers[k], 1);
				atomic_fetch_add(&tor_sh->c_pages[k], ct.pages);
				if (ct.bad) {
					atomic_fetch_add(&tor_sh->c_bad[k], ct.bad);
					tor_report("querier %d (%s %s): %s pid %d: %lu of %lu pages wrong; "
						   "first %s", qi, nl ? "netlink" : "proc",
						   mode ? "pages" : "runs", tor_kname[k], pid, ct.bad,
						   ct.pages, ct.first);
				}
			}
			continue;
		}
		if (err == -ESRCH) {
			atomic_fetch_add(&st->esrch, 1);
			atomic_fetch_add(&tor_sh->kesrch[k], 1);
			if (esrch_explained(k, pid, pre_exec))
				continue;
			atomic_fetch_add(&st->errors, 1);
			tor_report("querier %d (%s %s): ESRCH for %s pid %d, which is alive (after %lu "
				   "records)", qi, nl ? "netlink" : "proc", mode ? "pages" : "runs",
				   tor_kname[k], pid, c.records);
			continue;
		}
		if (err == -EAGAIN && nl && k == K_EXEC) {
			/* caught in its execve(): netlink's sendmsg() does not wait */
			atomic_fetch_add(&tor_sh->exec_eagain, 1);
			continue;
		}
		atomic_fetch_add(&st->errors, 1);
		tor_report("querier %d (%s %s): %s pid %d [0x%" PRIx64 ", 0x%" PRIx64 ")%s: %s%s%s",
			   qi,
			   nl ? "netlink" : "proc", mode ? "pages" : "runs", tor_kname[k], pid, s, e,
			   whole ? " all" : "", strerror(-err), c.err[0] ? ": " : "", c.err);
		if (nl && err == -EBADMSG) {
			nlr_close(&nls);
			if (nlr_open(&nls))
				_exit(1);
		}
	}
	if (nl)
		nlr_close(&nls);
	_exit(0);
}
