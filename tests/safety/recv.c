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
 * 32768, then 8185, the smallest a dump fits with 16K pages (7872:
 * mt_nl_min_recv(), below which lengths are left out), then random lengths
 * in [4000, 33000] (seeded: SEED argument, MT_SEED env or mt_seed= on the
 * kernel command line; fewer with mt_quick; MT_RECV_LEN=N: that length
 * alone, to replay one, even below that smallest). Each dump
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
#include "recv.h"

TAP_SHARED_STATE;

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

	err = recv_start_target(&ti);
	if (!tap_ok(!err, "%s: target built and stopped", who)) {
		tap_diag("start_target: %s", strerror(-err));
		recv_stop_target(&ti);
		return;
	}
	npages = (ti.end - ti.start) / PS;
	ref = calloc(npages, sizeof(*ref));
	ref2 = calloc(npages, sizeof(*ref2));
	got = calloc(npages, sizeof(*got));
	if (!tap_ok(!recv_proc_reference(&ti, admin, ref, why, sizeof(why)),
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
				if (recv_dump_once(family, &ti, ti.end, &cb, show, LEN_PROBE, got,
						   why, sizeof(why), ends, 3, &nmsgs) ||
				    recv_compare(&ti, ti.end, ref, got, show, why, sizeof(why))) {
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
					int r = recv_dump_once(family, &ti, end, &cb, show, sizes[i], got,
							       why, sizeof(why), NULL, 0, &m);

					if (!r)
						r = recv_compare(&ti, end, ref, got, show, why, sizeof(why));
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
					    who, recv_enc_names[enc], recv_mode_names[mode],
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
	if (!tap_ok(!recv_proc_reference(&ti, admin, ref2, why, sizeof(why)) &&
		    !recv_compare(&ti, ti.end, ref, ref2, admin, why, sizeof(why)),
		    "%s: /proc reference unchanged after the dumps", who))
		tap_diag("%s", why);
out:
	recv_stop_target(&ti);
	free(ref);
	free(ref2);
	free(got);
}

static void add_size(size_t len)
{
	if (len < mt_nl_min_recv())	/* below what the kernel's dumps fit */
		return;
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
		/* that length, even one below what a dump fits: a replay */
		sizes[nsizes++] = (size_t)rl_knob("mt_recv_len", 0);
	} else {
		/* the smallest length a dump fits, where it is above 4000 */
		if (mt_nl_min_recv())
			add_size(mt_nl_min_recv());
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
