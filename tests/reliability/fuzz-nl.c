// SPDX-License-Identifier: GPL-2.0
/*
 * rel-fuzz: netlink fuzzing: the replies checked against the oracle's
 * verdict, the socket kept in step, the fuzz loop.
 */
#include "fuzz.h"
#include "pg.h"

/* GET_INFO's reply, checked. */
static bool check_info(const struct nlmsghdr *h, uint16_t family, char *why, size_t wl)
{
	const struct genlmsghdr *g = NLMSG_DATA(h);
	const struct nlattr *a;
	uint64_t seen = 0;	/* bit n: attribute n came (by name below, not number) */
	int rem;

	if (h->nlmsg_type != family || h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN ||
	    g->cmd != MEMTRACE_CMD_GET_INFO) {
		snprintf(why, wl, "reply of type %u cmd %u", h->nlmsg_type, g->cmd);
		return false;
	}
	for (a = (const struct nlattr *)((const char *)g + GENL_HDRLEN),
	     rem = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	     rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem;
	     rem -= NLA_ALIGN(a->nla_len), a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len))) {
		const void *d = (const char *)a + NLA_HDRLEN;
		uint32_t u32 = 0;
		uint64_t u64 = 0;

		seen |= 1ULL << (a->nla_type & 63);
		switch (a->nla_type) {
		case MEMTRACE_A_VERSION:
			if (a->nla_len <= NLA_HDRLEN || ((const char *)d)[a->nla_len - NLA_HDRLEN - 1]) {
				snprintf(why, wl, "VERSION not a string");
				return false;
			}
			break;
		case MEMTRACE_A_PAGE_SIZE:
		case MEMTRACE_A_NSTATES:
		case MEMTRACE_A_FLAGS_MASK:
			if (a->nla_len != NLA_HDRLEN + 4) {
				snprintf(why, wl, "attribute %u length %u", a->nla_type, a->nla_len);
				return false;
			}
			memcpy(&u32, d, 4);
			if ((a->nla_type == MEMTRACE_A_PAGE_SIZE && u32 != MT_PG) ||
			    (a->nla_type == MEMTRACE_A_NSTATES && u32 != MEMTRACE_NSTATES) ||
			    (a->nla_type == MEMTRACE_A_FLAGS_MASK && u32 != MEMTRACE_F_ALL)) {
				snprintf(why, wl, "attribute %u = %u", a->nla_type, u32);
				return false;
			}
			break;
		case MEMTRACE_A_TASK_SIZE:
			memcpy(&u64, d, 8);
			if (a->nla_len != NLA_HDRLEN + 8 || u64 != fz_ts) {
				snprintf(why, wl, "TASK_SIZE 0x%" PRIx64 ", /proc says 0x%" PRIx64, u64, fz_ts);
				return false;
			}
			break;
		case MEMTRACE_A_PMD_SIZE:
		case MEMTRACE_A_PUD_SIZE:
			/* 2M and 1G with 4K pages, 32M and 64G with 16K */
			memcpy(&u64, d, 8);
			if (a->nla_len != NLA_HDRLEN + 8 ||
			    u64 != MT_PG * MT_PG / 8 * (a->nla_type == MEMTRACE_A_PUD_SIZE ? MT_PG / 8 : 1)) {
				snprintf(why, wl, "attribute %u = 0x%" PRIx64, a->nla_type, u64);
				return false;
			}
			break;
		case MEMTRACE_A_FEATURES:
			memcpy(&u32, d, 4);
			if (a->nla_len != NLA_HDRLEN + 4 ||
			    u32 != (MEMTRACE_FEAT_CACHED | MEMTRACE_FEAT_FOLIO |
				    MEMTRACE_FEAT_FILE | MEMTRACE_FEAT_TOP)) {
				snprintf(why, wl, "FEATURES length %u = 0x%x", a->nla_len, u32);
				return false;
			}
			break;
		case MEMTRACE_A_PAD:
			break;
		default:
			snprintf(why, wl, "unexpected attribute %u", a->nla_type);
			return false;
		}
	}
	const uint64_t want = 1ULL << MEMTRACE_A_VERSION | 1ULL << MEMTRACE_A_PAGE_SIZE |
			      1ULL << MEMTRACE_A_NSTATES | 1ULL << MEMTRACE_A_FLAGS_MASK |
			      1ULL << MEMTRACE_A_TASK_SIZE | 1ULL << MEMTRACE_A_PMD_SIZE |
			      1ULL << MEMTRACE_A_PUD_SIZE;

	_Static_assert(MEMTRACE_A_MAX < 64, "seen: one bit per attribute");
	if ((seen & want) != want) {
		snprintf(why, wl, "attributes missing (0x%" PRIx64 ")", seen);
		return false;
	}
	return true;
}

static bool nl_failed;

static void nl_fail(const char *what, const unsigned char *msg, size_t len)
{
	nl_failed = true;
	fz_ns.bad++;
	fz_fail_once("netlink message %lu: %s; message: %s", fz_ns.sent, what,
		     rl_escape(msg, len < 96 ? len : 96));
}

/*
 * A dump message's answer attributes are of the format asked: nests without
 * PACKED; with it RUNS, and in pages mode PAGEIDX with INDEXED, else PAGEVEC,
 * each followed by a PFNVEC exactly when pfns are shown.
 */
static bool nl_dump_form(const struct nlmsghdr *h, const struct nl_want *w, char *why, size_t wl)
{
	const char *p = (const char *)NLMSG_DATA(h) + GENL_HDRLEN;
	const struct nlattr *a;
	int rem = (int)h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	bool pages = w->mode == MEMTRACE_MODE_PAGES;

	for (a = (const struct nlattr *)p;
	     rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem;
	     rem -= NLA_ALIGN(a->nla_len), p += NLA_ALIGN(a->nla_len), a = (const void *)p) {
		unsigned int t = a->nla_type & NLA_TYPE_MASK;
		bool ok;

		switch (t) {
		case MEMTRACE_A_RECORD:
			ok = !w->packed;
			break;
		case MEMTRACE_A_RUNS:
			ok = w->packed;
			break;
		case MEMTRACE_A_PAGEVEC:
			ok = w->packed && pages && !w->indexed;
			break;
		case MEMTRACE_A_PAGEIDX:
			ok = w->packed && pages && w->indexed;
			break;
		case MEMTRACE_A_PFNVEC:
			ok = w->packed && pages && w->admin;
			break;
		default:
			continue;	/* the query repeated, the summary: rl_nl_check_msg() */
		}
		if (!ok) {
			snprintf(why, wl, "dump: attribute %u answers a request %s%s%s in %s mode",
				 t, w->packed ? "PACKED" : "not packed",
				 w->indexed ? " INDEXED" : "", w->admin ? "" : " without pfns",
				 pages ? "pages" : "runs");
			return false;
		}
	}
	return true;
}

/* A TOP dump's message: MEMTRACE_A_PROC nests and nothing else. */
static bool nl_top_form(const struct nlmsghdr *h, char *why, size_t wl)
{
	const char *p = (const char *)NLMSG_DATA(h) + GENL_HDRLEN;
	const struct nlattr *a;
	int rem = (int)h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

	for (a = (const struct nlattr *)p;
	     rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem;
	     rem -= NLA_ALIGN(a->nla_len), p += NLA_ALIGN(a->nla_len), a = (const void *)p) {
		if ((a->nla_type & NLA_TYPE_MASK) != MEMTRACE_A_PROC) {
			snprintf(why, wl, "TOP dump: attribute %u", a->nla_type & NLA_TYPE_MASK);
			return false;
		}
	}
	return true;
}

/* An errno the kernel answered: the one(s) the oracle allows, if it knows. */
static bool nl_errno_allowed(const struct nl_want *w, int e, char *why, size_t wl)
{
	if (w->strict && !(fz_xbit(e) & w->allowed)) {
		snprintf(why, wl, "error %d (%s) for a request whose outcome is %s", -e,
			 strerror(e), fz_xnames(w->allowed));
		return false;
	}
	if (!w->strict && !fz_nl_errno_ok(e)) {
		snprintf(why, wl, "error %d (%s) not documented", -e, strerror(e));
		return false;
	}
	return true;
}

/*
 * The errno of an NLMSG_DONE: a refusal (5.10 sends it with the first dump
 * call, not as an NLMSG_ERROR), or after data the end of a dump, which only
 * the target's exit may cause, if it may have one.
 */
static bool nl_done_error_ok(const struct nl_want *w, int e, bool in_dump, char *why, size_t wl)
{
	if (!in_dump)
		return nl_errno_allowed(w, e, why, wl);
	if (e == ESRCH && (w->allowed & XS_ESRCH))
		return true;
	snprintf(why, wl, "error %d (%s) after data", -e, strerror(e));
	return false;
}

/*
 * Read what the kernel says to message seq until its answer ends (or, with
 * ping, until the ping's ack); check every message against w.
 */
static void nl_collect(struct nlr *s, uint32_t seq, bool expect_reply, bool ack_only,
		       uint16_t flags, uint32_t ping, const struct nl_want *w,
		       const unsigned char *msg, size_t mlen)
{
	struct rl_check c;
	bool first = true, in_dump = false, got_info = false, answered = false;
	char why[400];

	/* a dump must be about what was sent, not what it says of itself */
	rl_check_init(&c, w->pid, w->start, w->end, w->mode, w->admin);
	for (;;) {
		ssize_t n;
		struct nlmsghdr *h;
		int left;

		fz_doing = "netlink recv";
		n = nlr_recv(s, 20000);
		fz_progress++;
		if (n <= 0) {
			nl_fail(n ? "recv error" : "no reply in 20 s", msg, mlen);
			return;
		}
		left = (int)n;
		for (h = (struct nlmsghdr *)s->buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (ping && h->nlmsg_seq == ping) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_type != NLMSG_ERROR || e->error) {
					nl_fail("ping answered wrongly", msg, mlen);
					return;
				}
				if (ack_only && !answered)
					nl_fail("no ack for a message asking one", msg, mlen);
				if (!ack_only)
					fz_ns.silent++;
				return;
			}
			if (h->nlmsg_seq != seq) {
				if (h->nlmsg_seq < seq && h->nlmsg_type == NLMSG_ERROR &&
				    !((struct nlmsgerr *)NLMSG_DATA(h))->error) {
					fz_ns.late++;
					continue;
				}
				snprintf(why, sizeof(why), "message of seq %u type %u while at seq %u",
					 h->nlmsg_seq, h->nlmsg_type, seq);
				nl_fail(why, msg, mlen);
				return;
			}
			if (!expect_reply && !ack_only) {
				snprintf(why, sizeof(why), "a reply (type %u) to a message the core must drop",
					 h->nlmsg_type);
				nl_fail(why, msg, mlen);
				return;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
					nl_fail("short NLMSG_ERROR", msg, mlen);
					return;
				}
				fz_ns.replies++;
				answered = true;
				if (e->error > 0) {
					snprintf(why, sizeof(why), "error %d", e->error);
					nl_fail(why, msg, mlen);
					return;
				}
				if (e->error < 0 && !ack_only &&
				    !nl_errno_allowed(w, -e->error, why, sizeof(why))) {
					nl_fail(why, msg, mlen);
					return;
				}
				if (e->error < 0 && ack_only && !fz_nl_errno_ok(-e->error)) {
					snprintf(why, sizeof(why), "error %d (%s) not documented", e->error,
						 strerror(-e->error));
					nl_fail(why, msg, mlen);
					return;
				}
				if (!e->error && !ack_only && !(got_info && (flags & NLM_F_ACK))) {
					nl_fail("an ack without an answer", msg, mlen);
					return;
				}
				if (e->error) {
					fz_ns.errors++;
					if (w->strict)
						fz_ns.strict_err++;
					if (-e->error < 140)
						fz_ns.errno_seen[-e->error]++;
				} else {
					fz_ns.acks++;
				}
				if (in_dump) {
					nl_fail("NLMSG_ERROR inside a dump", msg, mlen);
					return;
				}
				if (!ping)
					return;
				continue;
			}
			if (ack_only) {
				nl_fail("data for a message the core only acks", msg, mlen);
				return;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				int e = 0;

				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&e, NLMSG_DATA(h), sizeof(e));
				fz_ns.replies++;
				answered = true;
				if (e < 0) {
					if (!nl_done_error_ok(w, -e, in_dump, why, sizeof(why))) {
						nl_fail(why, msg, mlen);
						return;
					}
					fz_ns.errors++;
					if (w->strict)
						fz_ns.strict_err++;
					fz_ns.errno_seen[-e < 140 ? -e : 0]++;
				} else if (!c.summary && !w->top_ok) {
					nl_fail("NLMSG_DONE without a summary", msg, mlen);
					return;
				} else {
					fz_ns.dumps++;
					if (w->strict)
						fz_ns.strict_ok++;
				}
				if (!ping)
					return;
				continue;
			}
			if ((h->nlmsg_flags & NLM_F_MULTI) && w->top_ok) {
				/* a TOP dump: PROC nests only */
				if (!nl_top_form(h, why, sizeof(why))) {
					nl_fail(why, msg, mlen);
					return;
				}
				in_dump = true;
				continue;
			}
			if (h->nlmsg_flags & NLM_F_MULTI) {
				if (!w->dump_ok) {
					snprintf(why, sizeof(why), "a dump answers a request %s%s",
						 w->strict ? "whose outcome is " :
						 "whose bytes make no valid QUERY",
						 w->strict ? fz_xnames(w->allowed) : "");
					nl_fail(why, msg, mlen);
					return;
				}
				in_dump = true;
				if (!rl_nl_check_msg(&c, h, s->family, &first)) {
					snprintf(why, sizeof(why), "dump: %s", c.err);
					nl_fail(why, msg, mlen);
					return;
				}
				if (!nl_dump_form(h, w, why, sizeof(why))) {
					nl_fail(why, msg, mlen);
					return;
				}
				continue;
			}
			if (!w->info_ok) {
				snprintf(why, sizeof(why), "a reply (type %u) to a request that %s",
					 h->nlmsg_type, w->strict ? "must be refused or dumped" :
					 "its bytes do not make a valid GET_INFO");
				nl_fail(why, msg, mlen);
				return;
			}
			if (got_info || !check_info(h, s->family, why, sizeof(why))) {
				nl_fail(got_info ? "two replies" : why, msg, mlen);
				return;
			}
			got_info = true;
			fz_ns.infos++;
			if (w->strict)
				fz_ns.strict_ok++;
			fz_ns.replies++;
			answered = true;
			if (!(flags & NLM_F_ACK) && !ping)
				return;
		}
	}
}

/* After a failure: a ping, and everything up to its ack dropped. */
static void nl_resync(struct nlr *s)
{
	struct nlmsghdr p = { .nlmsg_len = NLMSG_HDRLEN, .nlmsg_type = NLMSG_NOOP,
			      .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = ++s->seq };

	nlr_send_raw(s, &p, sizeof(p));
	for (;;) {
		ssize_t n = nlr_recv(s, 20000);
		struct nlmsghdr *h;
		int left = (int)n;

		if (n <= 0)
			return;
		for (h = (struct nlmsghdr *)s->buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left))
			if (h->nlmsg_seq == p.nlmsg_seq)
				return;
	}
}

void fz_nl_fuzz(unsigned long count)
{
	struct nlr s;
	int err = nlr_open(&s);

	if (!tap_ok(err == 0, "netlink: the memtrace family resolves through CTRL_CMD_GETFAMILY (%s)",
		    strerror(-err)))
		return;
	fz_find_unused_ids(&s);
	tap_diag("netlink: family %u, %d unused ids to aim at", s.family, fz_n_unused);
	while (fz_ns.sent < count) {
		uint16_t flags, type;
		uint32_t nlen, seq = ++s.seq, ping = 0;
		bool reply, ack_only = false;
		struct nl_want want;
		size_t dlen = fz_nl_build(&s, seq, &flags, &type, &nlen, &want);

		/* what the netlink core does with it (netlink_rcv_skb) */
		reply = dlen >= NLMSG_HDRLEN && nlen >= NLMSG_HDRLEN && nlen <= dlen;
		if (reply && (!(flags & NLM_F_REQUEST) || type < NLMSG_MIN_TYPE)) {
			reply = false;
			ack_only = flags & NLM_F_ACK;
		}
		fz_doing = "netlink send";
		err = nlr_send_raw(&s, fz_nbuf, dlen);
		fz_ns.sent++;
		fz_progress++;
		fz_ns.unmutated += !want.mutated;
		fz_ns.strict += want.strict;
		fz_ns.lenient += !want.strict;
		if (!want.mutated && (!want.strict || !reply)) {
			/* the generator's own requests are always judged exactly */
			nl_fail("oracle: an unmutated request not judged exactly", fz_nbuf, dlen);
			nl_resync(&s);
			continue;
		}
		if (err == -ENODATA && !dlen) {
			fz_ns.empty++;	/* the socket refuses an empty datagram itself */
			continue;
		}
		if (err) {
			char why[64];

			snprintf(why, sizeof(why), "sendto of %zu bytes failed: %s", dlen, strerror(-err));
			nl_fail(why, fz_nbuf, dlen);
			continue;
		}
		if (!reply) {
			struct nlmsghdr p = { .nlmsg_len = NLMSG_HDRLEN, .nlmsg_type = NLMSG_NOOP,
					      .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
					      .nlmsg_seq = ping = ++s.seq };

			nlr_send_raw(&s, &p, sizeof(p));
		}
		nl_failed = false;
		nl_collect(&s, seq, reply, ack_only, flags, ping, &want, fz_nbuf, dlen);
		if (nl_failed)
			nl_resync(&s);
	}
	nlr_close(&s);
}

/* ---- the known answer afterwards ---- */
