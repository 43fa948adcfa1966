// SPDX-License-Identifier: GPL-2.0
/*
 * rel-stress: the queriers, which walk the targets and check every answer
 * (the targets' stable parts page by page).
 */
#include "stress.h"

/* ---- queriers ---- */

/* The target of an ESRCH must be gone or going. */
static bool esrch_ok(int idx, int pid)
{
	return atomic_load(&stress_sh->slot[idx].pid) != pid || atomic_load(&stress_sh->slot[idx].exiting) ||
	       atomic_load(&stress_sh->stop);
}

/* One answer's comparison with a target's stable tail (an on_record hook). */
struct stable_cmp {
	const struct stable *st;
	unsigned long pages, pfns, bad;
	char first[160];	/* the first disagreement */
};

static void stable_rec(void *arg, uint64_t addr, uint64_t pages, unsigned int state,
		       uint32_t flags, uint64_t pfn, int64_t node)
{
	struct stable_cmp *k = arg;
	uint64_t s = k->st->addr, e = s + SPAGES * MT_PG;
	uint64_t from = addr > s ? addr : s, to = addr + pages * MT_PG;

	(void)node;
	if (to > e)
		to = e;
	for (uint64_t a = from; a < to; a += MT_PG) {
		unsigned int i = (a - s) / MT_PG, want = k->st->state[i];
		bool bad = state != want;

		k->pages++;
		if (want == MEMTRACE_PRESENT && (!(flags & MEMTRACE_F_ANON) ||
						 (flags & MEMTRACE_F_SIZE_MASK)))
			bad = true;
		if (want == MEMTRACE_ZERO && (flags & MEMTRACE_F_SIZE_MASK))
			bad = true;
		/* a record's pfn is its first page's */
		if (!bad && a == addr && k->st->pfn[i]) {
			k->pfns++;
			bad = pfn != k->st->pfn[i];
		}
		if (bad && !k->bad++)
			snprintf(k->first, sizeof(k->first),
				 "stable page %u at 0x%" PRIx64 ": %s flags 0x%x pfn 0x%" PRIx64
				 ", expected %s pfn 0x%" PRIx64, i, a, rl_state_names[state], flags,
				 a == addr ? pfn : 0, rl_state_names[want], k->st->pfn[i]);
	}
}

void stress_querier(int qi, uint64_t seed)
{
	struct rl_rng r = { seed };
	struct qstat *st = &stress_sh->q[qi];
	bool nl = qi & 2;
	int mode = qi & 1;
	struct nlr nls;
	unsigned long bytes = 0;
	int err;

	if (nl && (err = nlr_open(&nls))) {
		stress_report("querier %d: netlink: %s", qi, strerror(-err));
		atomic_fetch_add(&st->errors, 1);
		_exit(1);
	}
	while (!atomic_load(&stress_sh->stop)) {
		int idx = rl_below(&r, NT), pid;
		struct slot *sl = &stress_sh->slot[idx];
		unsigned long gen = atomic_load(&sl->gen);
		uint64_t base, s, e;
		bool whole = false;
		struct rl_check c;
		struct stable stab;
		struct stable_cmp cmp = { .st = &stab };
		unsigned int k = rl_below(&r, 100);

		/* pid, base and stable tail of one target, not of two */
		pid = atomic_load(&sl->pid);
		base = atomic_load(&sl->base);
		stab = sl->stable;
		atomic_thread_fence(memory_order_acquire);
		if ((gen & 1) || atomic_load(&sl->gen) != gen || !pid || !base) {
			usleep(1000);
			continue;
		}
		s = base;
		e = base + SPAN;
		if (k < 15 && (!mode || k < 3)) {
			whole = true;
		} else if (k < 45) {
			s = base + rl_below(&r, APAGES + SPAGES) * MT_PG;
			e = s + (1 + rl_below(&r, 1024)) * MT_PG;
			if (e > base + SPAN)
				e = base + SPAN;
		}
		if (whole)
			s = e = 0;
		rl_check_init(&c, pid, s, e, mode, true);
		if (stab.addr) {
			c.on_record = stable_rec;
			c.arg = &cmp;
		}
		if (nl)
			err = rl_nl_query(&nls, &c, pid, s, e, !whole,
					  mode | (rl_chance(&r, 50) ? RL_PACKED |
						  (rl_chance(&r, 50) ? RL_INDEXED : 0) : 0), NULL);
		else
			err = rl_proc_query(&c, pid, s, e, whole, mode, &r, &bytes);
		atomic_fetch_add(&st->queries, 1);
		atomic_fetch_add(&st->alive, 1);
		/* a complete answer about the target the tail was published by */
		if (!err && cmp.pages && atomic_load(&sl->gen) == gen) {
			atomic_fetch_add(&st->st_answers, 1);
			atomic_fetch_add(&st->st_pages, cmp.pages);
			atomic_fetch_add(&st->st_pfns, cmp.pfns);
			if (cmp.bad) {
				atomic_fetch_add(&st->st_bad, cmp.bad);
				stress_report("querier %d (%s %s%s): pid %d: %lu of %lu stable pages wrong; %s",
					      qi, nl ? "netlink" : "proc", mode ? "pages" : "runs",
					      whole ? " all" : "", pid, cmp.bad, cmp.pages, cmp.first);
			}
		}
		if (err == -ESRCH) {
			atomic_fetch_add(&st->esrch, 1);
			if (c.records)	/* after part of the answer: the target left mid-query */
				atomic_fetch_add(&st->mid_esrch, 1);
			if (!esrch_ok(idx, pid)) {
				char path[64], stat[256] = "?";
				unsigned int pflags = 0;
				const char *st_end;
				char pstate = '?';
				bool gone;
				FILE *f;

				snprintf(path, sizeof(path), "/proc/%d/stat", pid);
				f = fopen(path, "r");
				gone = !f || !fgets(stat, sizeof(stat), f);
				if (f)
					fclose(f);
				/*
				 * A target killed by a signal never marks itself
				 * exiting: gone (no stat to open or read), a
				 * zombie or on its way out (PF_EXITING, 0x4 in
				 * stat's flags), its ESRCH is right (its death is
				 * judged when the harness reaps it).
				 */
				st_end = gone ? NULL : strrchr(stat, ')');
				if (st_end)
					sscanf(st_end + 1, " %c %*d %*d %*d %*d %*d %u", &pstate, &pflags);
				if (gone || pstate == 'Z' || pstate == 'X' || (pflags & 0x4))
					continue;
				atomic_fetch_add(&st->errors, 1);
				stress_report("querier %d (%s %s): ESRCH for pid %d, which is alive (after %lu "
					      "records; stat: %.60s)", qi, nl ? "netlink" : "proc",
					      mode ? "pages" : "runs", pid, c.records, stat);
			}
			continue;
		}
		if (err) {
			atomic_fetch_add(&st->errors, 1);
			stress_report("querier %d (%s %s): pid %d [0x%" PRIx64 ", 0x%" PRIx64 ")%s: %s%s%s", qi,
				      nl ? "netlink" : "proc", mode ? "pages" : "runs", pid, s, e,
				      whole ? " all" : "", strerror(-err), c.err[0] ? ": " : "", c.err);
			if (nl && err == -EBADMSG) {
				/* out of step: a fresh socket */
				nlr_close(&nls);
				if (nlr_open(&nls))
					_exit(1);
			}
		}
	}
	atomic_fetch_add(&st->bytes, bytes);
	if (nl)
		nlr_close(&nls);
	_exit(0);
}
