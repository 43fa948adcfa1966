// SPDX-License-Identifier: GPL-2.0
/*
 * rcv-netlink: the tests: every receive size, the last message truncated,
 * close mid-dump, two dumps at once, a reader that stalls.
 */
#include "netlink.h"

/* ---- the tests ---- */

void rnl_test_sizes(struct rl_rng *r)
{
	static const size_t around[] = { 4096, 8192, 16384, 32768 };
	unsigned int fails = 0, n = 0, nrand = rl_quick() ? 6 : 16;
	char why[512] = "", first[600] = "";
	double t0 = rc_now();

	/* a 64 KiB reader, every encoding, both modes: what the others must get */
	for (int enc = 0; enc < NENC; enc++)
		for (int mode = 0; mode <= MEMTRACE_MODE_MAX; mode++) {
			why[0] = '\0';
			if (rnl_sized_dump(r, BUFMAX, false, false, mode, enc, why, sizeof(why)) && !fails++)
				snprintf(first, sizeof(first), "%s %s: %s", rnl_enc_names[enc],
					 mode ? "pages" : "runs", why);
		}
	if (!tap_ok(!fails, "a 64 KiB reader: 3 encodings x 2 modes, complete and equal to /proc"))
		tap_diag("%u fail; first: %s", fails, first);

	fails = 0;
	for (unsigned int i = 0; i < 4; i++)
		for (int d = -4; d < 4; d++, n++) {
			size_t max = around[i] + d;
			int enc = (int)rl_below(r, NENC), mode = rl_chance(r, 75);

			if (max < mt_nl_min_recv()) {	/* 4 KiB with 16K pages */
				n--;
				continue;
			}

			why[0] = '\0';
			if (rnl_sized_dump(r, max, true, true, mode, enc, why, sizeof(why)) && !fails++)
				snprintf(first, sizeof(first), "sizes up to %zu (%s, %s): %s", max,
					 rnl_enc_names[enc], mode ? "pages" : "runs", why);
		}
	if (!tap_ok(!fails, "every residue mod 8 around 4/8/16/32 KiB as the largest receive size (%u dumps: a first peek of that size sizes the skbs, then random peeks and reads up to it): complete, equal to the 64 KiB reader's (%.1f s)",
		    n, rc_now() - t0))
		tap_diag("%u fail; first: %s", fails, first);

	fails = 0;
	t0 = rc_now();
	for (unsigned int i = 0; i < nrand; i++) {
		int enc = (int)rl_below(r, NENC), mode = rl_chance(r, 75);

		why[0] = '\0';
		if (rnl_sized_dump(r, BUFMAX, true, false, mode, enc, why, sizeof(why)) && !fails++)
			snprintf(first, sizeof(first), "dump %u (%s, %s): %s", i,
				 rnl_enc_names[enc],
				 mode ? "pages" : "runs", why);
	}
	if (!tap_ok(!fails, "random sizes 1..64 KiB within a dump (%u dumps): complete, equal (%.1f s)",
		    nrand, rc_now() - t0))
		tap_diag("%u fail; first: %s", fails, first);
	tap_diag("%lu skbs, %lu data messages, %lu peeks (%lu short), %lu truncating reads",
		 rnl_n_skbs, rnl_n_msgs, rnl_n_peeks, rnl_n_short_peeks, rnl_n_truncs);
	if (!tap_ok(!rnl_peek_bad[0] && rnl_n_short_peeks > 0,
		    "MSG_PEEK: %lu peeks (%lu shorter than the skb, MSG_TRUNC set): the bytes peeked are the bytes the next read got",
		    rnl_n_peeks, rnl_n_short_peeks))
		tap_diag("%s", rnl_peek_bad[0] ? rnl_peek_bad : "no short peek at all");
	if (!tap_ok(!rnl_trunc_bad[0] && rnl_n_truncs > 0,
		    "MSG_TRUNC: %lu reads shorter than their skb returned its real length with MSG_TRUNC, and the dump went on with the next message where the lost one ended",
		    rnl_n_truncs))
		tap_diag("%s", rnl_trunc_bad[0] ? rnl_trunc_bad : "no truncating read at all");
}

/*
 * The skb holding the summary (and NLMSG_DONE with it, when it fit) read
 * into a 16-byte buffer: it is gone. The dump is over: nothing more comes,
 * or NLMSG_DONE alone; the socket then serves a new dump.
 */
void rnl_test_trunc_last(void)
{
	int fd = rnl_sock_open(), fl, ok = 0;
	unsigned char hdr[16];
	char why[512] = "";
	struct dump d;
	ssize_t n;
	bool lost_done = false, last = false;

	if (fd < 0) {
		tap_ok(0, "MSG_TRUNC on the last skb: socket: %s", strerror(-fd));
		return;
	}
	rnl_dump_init(&d, fd, 1, rnl_tg.pid, rnl_tg.start, rnl_tg.end, MEMTRACE_MODE_PAGES,
		      rnl_admin);
	rnl_send_query(fd, 1, rnl_tg.pid, rnl_tg.start, rnl_tg.end, MEMTRACE_MODE_PAGES, ENC_NESTS);
	while (!last) {
		n = rnl_rcv(fd, rnl_full, 8192, MSG_PEEK | MSG_TRUNC, &fl);
		if (n <= 0 || n > 8192) {
			snprintf(why, sizeof(why), "peek: %zd", n);
			goto out;
		}
		/* is the summary in it? feed a copy of the checker to see */
		{
			struct dump t = d;

			t.pg = NULL;
			t.c.on_record = NULL;
			if (rnl_feed(&t, NULL, rnl_full, n)) {
				snprintf(why, sizeof(why), "%s", t.why);
				goto out;
			}
			last = t.c.summary;
			lost_done = t.done;
		}
		if (last)
			break;
		n = rnl_rcv(fd, rnl_full, 8192, MSG_TRUNC, &fl);
		if (n <= 0 || rnl_feed(&d, NULL, rnl_full, n)) {
			snprintf(why, sizeof(why), "read: %zd %s", n, d.why);
			goto out;
		}
	}
	n = rnl_rcv(fd, hdr, sizeof(hdr), MSG_TRUNC, &fl);
	if (n <= (ssize_t)sizeof(hdr) || !(fl & MSG_TRUNC)) {
		snprintf(why, sizeof(why), "truncated read returned %zd, msg_flags 0x%x", n, fl);
		goto out;
	}
	{
		struct timeval tv = { .tv_sec = 1 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	n = rnl_rcv(fd, rnl_full, BUFMAX, 0, &fl);
	if (lost_done ? n != -EAGAIN :
	    !(n >= (ssize_t)NLMSG_LENGTH(sizeof(int)) &&
	      ((struct nlmsghdr *)rnl_full)->nlmsg_type == NLMSG_DONE &&
	      ((struct nlmsghdr *)rnl_full)->nlmsg_seq == 1 && !*(int *)NLMSG_DATA(rnl_full))) {
		snprintf(why, sizeof(why), "after the lost summary (NLMSG_DONE %s): recv %zd (%s)",
			 lost_done ? "with it" : "apart", n, n < 0 ? strerror((int)-n) : "data");
		goto out;
	}
	if (!lost_done) {
		n = rnl_rcv(fd, rnl_full, BUFMAX, 0, &fl);
		if (n != -EAGAIN) {
			snprintf(why, sizeof(why), "after NLMSG_DONE: recv %zd", n);
			goto out;
		}
	}
	/* a new dump on the same socket */
	free(d.pg);
	rnl_dump_init(&d, fd, 2, rnl_tg.pid, rnl_tg.start, rnl_tg.end, MEMTRACE_MODE_RUNS,
		      rnl_admin);
	rnl_send_query(fd, 2, rnl_tg.pid, rnl_tg.start, rnl_tg.end, MEMTRACE_MODE_RUNS, ENC_PACKED);
	while (!d.done) {
		n = rnl_rcv(fd, rnl_full, BUFMAX, MSG_TRUNC, &fl);
		if (n <= 0 || n > BUFMAX || rnl_feed(&d, NULL, rnl_full, n)) {
			snprintf(why, sizeof(why), "next dump: recv %zd %s", n, d.why);
			goto out;
		}
	}
	ok = !d.err && !rnl_compare(&d, rnl_ref, 0, why, sizeof(why));
	if (d.err)
		snprintf(why, sizeof(why), "next dump: error %d", d.err);
out:
	if (!tap_ok(ok, "MSG_TRUNC on the skb with the summary (NLMSG_DONE %s): lost, the dump is over, nothing more comes, and the socket serves a new dump, complete and equal",
		    lost_done ? "in it" : "after it"))
		tap_diag("%s", why);
	close(fd);
	free(d.pg);
}

/* Read d to its end with plain reads of len (d2 too, when not NULL). */
static int drain(struct dump *d, struct dump *d2, size_t len, char *why, size_t wlen)
{
	int fl;

	while (!d->done || (d2 && !d2->done)) {
		ssize_t n = rnl_rcv(d->fd, rnl_full, len, MSG_TRUNC, &fl);

		if (n == -EAGAIN) {
			snprintf(why, wlen, "no message in %d s: a hang", TIMEOUT_MS / 1000);
			return -1;
		}
		if (n <= 0 || (size_t)n > len) {
			snprintf(why, wlen, "recv: %zd (%s)", n, n < 0 ? strerror((int)-n) : "");
			return -1;
		}
		if (rnl_feed(d, d2, rnl_full, n)) {
			snprintf(why, wlen, "%s", d->why);
			return -1;
		}
	}
	return 0;
}

void rnl_test_close(void)
{
	long before = rc_refcnt(), during = -1, after = -1;
	int fd = rnl_sock_open(), ok = 0, fl;
	char why[512] = "";
	struct dump d = { 0 };
	ssize_t n;

	if (fd >= 0) {
		rnl_send_query(fd, 1, rnl_tg.pid, rnl_tg.start, rnl_tg.end, MEMTRACE_MODE_PAGES,
			       ENC_NESTS);
		n = rnl_rcv(fd, rnl_full, mt_nl_one_msg(), MSG_TRUNC, &fl);
		during = rc_refcnt();
		close(fd);
		after = rc_refcnt_wait(before);
		ok = n > 0 && during > before && after == before;
	}
	if (!tap_ok(ok, "a socket closed mid-dump: module refcount %ld before, %ld during, %ld after",
		    before, during, after))
		tap_diag("the refcount must rise while the dump runs and come back after close");
	fd = rnl_sock_open();
	ok = 0;
	if (fd >= 0) {
		rnl_dump_init(&d, fd, 7, rnl_tg.pid, rnl_tg.start, rnl_tg.end, MEMTRACE_MODE_PAGES,
			      rnl_admin);
		rnl_send_query(fd, 7, rnl_tg.pid, rnl_tg.start, rnl_tg.end, MEMTRACE_MODE_PAGES,
			       ENC_INDEXED);
		ok = !drain(&d, NULL, BUFMAX, why, sizeof(why)) && !d.err &&
		     !rnl_compare(&d, rnl_ref, 0, why, sizeof(why));
		close(fd);
	}
	if (!tap_ok(ok, "and a new dump after it: complete and equal"))
		tap_diag("%s (error %d)", why, d.err);
	free(d.pg);
}

void rnl_test_two(void)
{
	int fd = rnl_sock_open(), ok = 0, fl;
	uint64_t mid = rnl_tg.start + (rnl_tg.end - rnl_tg.start) / 2;
	struct dump d1, d2, d3;
	char why[512] = "";
	ssize_t n;

	memset(&d3, 0, sizeof(d3));
	rnl_dump_init(&d1, fd, 11, rnl_tg.pid, rnl_tg.start, rnl_tg.end, MEMTRACE_MODE_PAGES,
		      rnl_admin);
	rnl_dump_init(&d2, fd, 12, rnl_tg.pid, rnl_tg.start, mid, MEMTRACE_MODE_RUNS, rnl_admin);
	if (fd < 0) {
		snprintf(why, sizeof(why), "socket: %s", strerror(-fd));
		goto out;
	}
	rnl_send_query(fd, 11, rnl_tg.pid, rnl_tg.start, rnl_tg.end, MEMTRACE_MODE_PAGES, ENC_NESTS);
	n = rnl_rcv(fd, rnl_full, mt_nl_one_msg(), MSG_TRUNC, &fl);
	if (n <= 0 || (size_t)n > mt_nl_one_msg() || rnl_feed(&d1, NULL, rnl_full, n)) {
		snprintf(why, sizeof(why), "first message: %zd %s", n, d1.why);
		goto out;
	}
	rnl_send_query(fd, 12, rnl_tg.pid, rnl_tg.start, mid, MEMTRACE_MODE_RUNS, ENC_PACKED);
	if (drain(&d1, &d2, mt_nl_one_msg(), why, sizeof(why)))
		goto out;
	if (d1.err || rnl_compare(&d1, rnl_ref, 0, why, sizeof(why))) {
		snprintf(why + strlen(why), sizeof(why) - strlen(why), " first dump: error %d",
			 d1.err);
		goto out;
	}
	if (d2.err && d2.err != -EBUSY) {
		snprintf(why, sizeof(why), "second dump: error %d (%s)", d2.err, strerror(-d2.err));
		goto out;
	}
	if (!d2.err && rnl_compare(&d2, rnl_ref, 0, why, sizeof(why)))
		goto out;
	tap_diag("the second request mid-dump: %s", d2.err ? "refused with EBUSY" : "answered");
	rnl_dump_init(&d3, fd, 13, rnl_tg.pid, rnl_tg.start, rnl_tg.end, MEMTRACE_MODE_RUNS,
		      rnl_admin);
	rnl_send_query(fd, 13, rnl_tg.pid, rnl_tg.start, rnl_tg.end, MEMTRACE_MODE_RUNS, ENC_NESTS);
	if (drain(&d3, NULL, BUFMAX, why, sizeof(why)) || d3.err ||
	    rnl_compare(&d3, rnl_ref, 0, why, sizeof(why)))
		goto out;
	ok = 1;
out:
	if (!tap_ok(ok, "two dumps on one socket (the second sent mid-way): the first complete and equal, the second refused (EBUSY) or complete and equal, a third after them complete and equal"))
		tap_diag("%s", why);
	if (fd >= 0)
		close(fd);
	free(d1.pg);
	free(d2.pg);
	free(d3.pg);
}

/*
 * A dump whose reader stops for seconds after its first message while its
 * target exits ('q'), exec's ('x') or changes the second half of its span
 * ('m'): ESRCH, or a valid answer (after 'm': the messages produced after the
 * change equal the target's new layout).
 */
void rnl_test_stall(struct rl_rng *r, char cmd)
{
	static const char *const what[] = { "exits", "exec's", "changes its mappings" };
	const char *w = what[cmd == 'q' ? 0 : cmd == 'x' ? 1 : 2];
	unsigned int stall = rl_quick() ? 1 : 2;
	size_t stall_pages = rl_quick() ? 1024 : 2048;
	struct rc_pg *before = NULL, *after = NULL;
	char why[512] = "", tmp[512];
	struct rc_target t;
	struct dump d = { 0 };
	int fd = -1, ok = 0, fl, err;
	long rc0 = rc_refcnt(), rc1 = -1;
	ssize_t n;
	char *text;
	size_t len;

	err = rc_target_start(&t, rl_next(r), stall_pages);
	if (err) {
		snprintf(why, sizeof(why), "target: %s", strerror(-err));
		goto out;
	}
	before = calloc(stall_pages, sizeof(*before));
	after = calloc(stall_pages, sizeof(*after));
	if (rc_proc_answer(t.pid, t.start, t.end, "pages", rnl_admin, &text, &len, before, tmp,
			   sizeof(tmp))) {
		snprintf(why, sizeof(why), "reference before: %.400s", tmp);
		goto out;
	}
	free(text);
	fd = rnl_sock_open();
	rnl_dump_init(&d, fd, 21, t.pid, t.start, t.end, MEMTRACE_MODE_PAGES, rnl_admin);
	rnl_send_query(fd, 21, t.pid, t.start, t.end, MEMTRACE_MODE_PAGES, ENC_NESTS);
	/* one message read: the next is produced now, the rest after the stall */
	n = rnl_rcv(fd, rnl_full, mt_nl_one_msg(), MSG_TRUNC, &fl);
	if (n <= 0 || (size_t)n > mt_nl_one_msg() || rnl_feed(&d, NULL, rnl_full, n)) {
		snprintf(why, sizeof(why), "first message: %zd %s", n, d.why);
		goto out;
	}
	err = rc_target_cmd(&t, cmd);
	if (err) {
		snprintf(why, sizeof(why), "target command '%c': %s", cmd, strerror(-err));
		goto out;
	}
	if (cmd == 'm' && rc_proc_answer(t.pid, t.start, t.end, "pages", rnl_admin, &text, &len,
					 after, tmp, sizeof(tmp))) {
		snprintf(why, sizeof(why), "reference after: %.400s", tmp);
		goto out;
	}
	if (cmd == 'm')
		free(text);
	sleep(stall);
	if (drain(&d, NULL, mt_nl_one_msg(), why, sizeof(why)))
		goto out;
	if (cmd != 'm') {
		/* the messages before the end are valid (checked); then ESRCH or complete */
		if (d.err && d.err != -ESRCH) {
			snprintf(why, sizeof(why), "ended with error %d (%s), not ESRCH", d.err,
				 strerror(-d.err));
			goto out;
		}
		tap_diag("target %s: %u messages, then %s", w, d.msgs,
			 d.err ? "ESRCH" : "a complete answer");
		if (!d.err && rnl_compare(&d, before, 0, why, sizeof(why)))
			goto out;
	} else {
		if (d.err) {
			snprintf(why, sizeof(why), "ended with error %d (%s)", d.err,
				 strerror(-d.err));
			goto out;
		}
		/* messages 1 and 2 were produced before the change, 3 on after it */
		for (size_t i = 0; i < stall_pages; i++)
			if (d.pg[i].msg < 3 && d.pg[i].p.seen)
				after[i] = before[i];
		if (rnl_compare(&d, after, 0, why, sizeof(why)))
			goto out;
		tap_diag("target %s: %u messages, complete, the new layout from message 3 on",
			 w, d.msgs);
	}
	close(fd);
	fd = -1;
	rc1 = rc_refcnt_wait(rc0);
	if (rc1 != rc0) {
		snprintf(why, sizeof(why), "module refcount %ld after the socket closed, %ld before",
			 rc1, rc0);
		goto out;
	}
	ok = 1;
out:
	if (!tap_ok(ok, "a dump stalled %u s while its target %s: %s, never garbage, no hang",
		    stall, w, cmd == 'm' ? "complete, the new layout after the stall" :
		    "ESRCH or a complete answer"))
		tap_diag("%s", why);
	if (fd >= 0)
		close(fd);
	rc_target_stop(&t);
	free(d.pg);
	free(before);
	free(after);
}
