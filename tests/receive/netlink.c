// SPDX-License-Identifier: GPL-2.0
/*
 * rcv-netlink [SEED]: the receive side of the netlink QUERY dump (issue 15,
 * section 1). tests/safety/recv.c already dumps with one fixed receive
 * length a dump (every message read with exactly that length, fresh socket,
 * no PEEK, no truncation); this program varies the receive size inside a
 * dump and attacks the dump's life. What the kernel does (net/netlink):
 *  - a dump's first buffer is produced by the request itself, each next one
 *    by a recvmsg() that found the receive queue at most half full; its size
 *    comes from the largest recvmsg() length the socket has seen (peeks
 *    included), capped near 32 KiB, at least NLMSG_GOODSIZE;
 *  - netlink is a datagram socket: MSG_PEEK leaves the buffer queued (and
 *    the same bytes come again), MSG_TRUNC makes recvmsg() return the real
 *    length; a buffer too small for a queued skb gets its first bytes and
 *    msg_flags MSG_TRUNC, and the rest of that skb is DROPPED: one message
 *    of the dump is lost, the dump goes on with the next one (which starts
 *    where the lost one ended), or, when the lost skb carried NLMSG_DONE,
 *    the dump is over and nothing more comes;
 *  - one dump at a time per socket: a second dump request while one runs
 *    is refused with NLMSG_ERROR EBUSY (the first dump goes on);
 *  - a socket closed mid-dump calls the dump's done() and drops the module
 *    reference the dump took (asynchronously: after an RCU grace period);
 *  - a dump's target that exits or exec's: the walk's mm is gone, the dump
 *    ends in NLMSG_DONE carrying -ESRCH; one that changes its mappings: the
 *    answer goes on, valid, with the new layout.
 * Each dump reads every skb fully (a peek of the largest size when the
 * random one was short) before it consumes it with a random size, so every
 * answer is still checked whole (rlib) and page by page against /proc.
 * Seeded: SEED, MT_SEED or mt_seed= replays a run; mt_quick: fewer dumps,
 * 1 s stalls.
 */
#include "netlink.h"

TAP_SHARED_STATE;

const char *const rnl_enc_names[NENC] = { "nests", "packed", "packed+indexed" };

uint16_t rnl_family;
struct rc_target rnl_tg;
struct rc_pg *rnl_ref;	/* /proc, pages mode: one entry a page of tg */
bool rnl_admin;
/* the main target's pages: a ~150 KiB nested pages answer (half with mt_quick) */
static size_t npages;

/* what the sized dumps saw, over all of them */
unsigned long rnl_n_peeks, rnl_n_short_peeks, rnl_n_truncs, rnl_n_msgs, rnl_n_skbs;
char rnl_peek_bad[256], rnl_trunc_bad[256];

unsigned char rnl_full[BUFMAX], rnl_part[BUFMAX];

int main(int argc, char **argv)
{
	struct nlr s0;
	struct rl_rng r;
	uint64_t seed;
	char why[512], *text;
	size_t len;
	double t0 = rc_now();
	long rc0;
	int err;

	if (argc > 1 && !strcmp(argv[1], "idle"))
		return rc_idle_main(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	seed = rc_seed(argc, argv);
	r.s = seed;
	rnl_admin = geteuid() == 0;
	tap_diag("seed %" PRIu64 " (MT_SEED=%" PRIu64 " replays)%s", seed, seed,
		 rl_quick() ? ", quick" : "");
	rc0 = rc_refcnt();
	if (!tap_ok(rc0 == 0, "module refcount 0 at the start (%ld)", rc0))
		tap_diag("something else holds the module: the refcount checks compare with %ld",
			 rc0);
	err = nlr_open(&s0);
	if (!tap_ok(!err, "resolve the memtrace family")) {
		tap_diag("%s", strerror(-err));
		return tap_done();
	}
	rnl_family = s0.family;
	nlr_close(&s0);
	npages = rl_quick() ? 1024 : 2048;
	err = rc_target_start(&rnl_tg, seed, npages);
	if (!tap_ok(!err, "target started (%zu pages)", npages)) {
		tap_diag("%s", strerror(-err));
		return tap_done();
	}
	rnl_ref = calloc(npages, sizeof(*rnl_ref));
	err = rc_proc_answer(rnl_tg.pid, rnl_tg.start, rnl_tg.end, "pages", rnl_admin, &text, &len,
			     rnl_ref, why,
			     sizeof(why));
	if (!tap_ok(!err, "/proc reference, pages mode, checked (%zu bytes)", err ? 0 : len)) {
		tap_diag("%s", why);
		goto out;
	}
	free(text);
	tap_diag("target and reference took %.1f s", rc_now() - t0);
	t0 = rc_now();
	rnl_test_sizes(&r);
	rnl_test_trunc_last();
	tap_diag("sizes, PEEK and TRUNC took %.1f s", rc_now() - t0);
	t0 = rc_now();
	rnl_test_close();
	rnl_test_two();
	tap_diag("close and two dumps took %.1f s", rc_now() - t0);
	t0 = rc_now();
	rnl_test_stall(&r, 'q');
	rnl_test_stall(&r, 'x');
	rnl_test_stall(&r, 'm');
	tap_diag("the stalled dumps took %.1f s", rc_now() - t0);
	{
		struct rc_pg *again = calloc(npages, sizeof(*again));
		struct dump d = { .npages = npages };
		bool same;

		err = rc_proc_answer(rnl_tg.pid, rnl_tg.start, rnl_tg.end, "pages", rnl_admin,
				     &text, &len, again,
				     why, sizeof(why));
		if (!err)
			free(text);
		d.pg = calloc(npages, sizeof(*d.pg));
		d.c.mode = MEMTRACE_MODE_PAGES;
		d.c.admin = rnl_admin;
		for (size_t i = 0; i < npages; i++) {
			d.pg[i].p = again[i];
			d.pg[i].pfn_known = true;
		}
		same = !err && !rnl_compare(&d, rnl_ref, 0, why, sizeof(why));
		if (!tap_ok(same, "the reference is unchanged at the end (the comparisons were fair)"))
			tap_diag("%s", why);
		free(again);
		free(d.pg);
	}
	{
		long v = rc_refcnt_wait(rc0);

		tap_ok(v == rc0, "module refcount back to %ld at the end (%ld)", rc0, v);
	}
out:
	rc_target_stop(&rnl_tg);
	free(rnl_ref);
	return tap_done();
}
