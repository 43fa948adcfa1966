// SPDX-License-Identifier: GPL-2.0
/*
 * rel-fuzz: the netlink messages: what the kernel reads in the bytes sent
 * (nl_parse(), nl_judge()) and how they are built and mutated (fz_nl_build()).
 */
#include "fuzz.h"
#include "pg.h"

struct nstats fz_ns;
static uint16_t unused_ids[64];
int fz_n_unused;

/* the documented errnos of a reply: memtrace's and the generic netlink core's */
bool fz_nl_errno_ok(int e)
{
	switch (e) {
	case EINVAL: case ERANGE: case ESRCH: case EACCES:	/* memtrace, attribute policy */
	case EOPNOTSUPP:	/* no such command, or doit/dump not offered */
	case ENOENT:		/* no such family */
	case EBADF: case EPERM:	/* FILE (a command byte mutated to 3): FD, who may */
		return true;
	}
	return false;
}

/* Family ids in use: CTRL_CMD_GETFAMILY dump; unused ones are safe to aim at. */
void fz_find_unused_ids(struct nlr *s)
{
	unsigned char req[64] = { 0 };
	struct nlmsghdr *h = (struct nlmsghdr *)req;
	struct genlmsghdr *g = (struct genlmsghdr *)(req + NLMSG_HDRLEN);
	bool used[0x400] = { false };
	bool done = false;

	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	h->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN;
	h->nlmsg_type = GENL_ID_CTRL;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = ++s->seq;
	nlr_send_raw(s, req, h->nlmsg_len);
	while (!done) {
		ssize_t n = nlr_recv(s, 10000);
		int left = (int)n;

		if (n <= 0)
			break;
		for (h = (struct nlmsghdr *)s->buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			struct nlattr *a;
			int rem;

			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			rem = (int)h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
			for (a = (struct nlattr *)((char *)NLMSG_DATA(h) + GENL_HDRLEN);
			     rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem;
			     rem -= NLA_ALIGN(a->nla_len),
			     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len)))
				if (a->nla_type == CTRL_ATTR_FAMILY_ID) {
					uint16_t id;

					memcpy(&id, (char *)a + NLA_HDRLEN, 2);
					if (id < 0x400)
						used[id] = true;
				}
		}
	}
	used[s->family] = true;
	for (int id = 0x3ff; id >= NLMSG_MIN_TYPE && fz_n_unused < 64; id--)
		if (!used[id])
			unused_ids[fz_n_unused++] = id;
}

struct nattr {
	uint16_t type;
	uint16_t len;		/* nla_len as sent */
	uint16_t dlen;		/* payload bytes present */
	unsigned char d[64];
};

unsigned char fz_nbuf[70000];

static void na_set(struct nattr *a, uint16_t type, const void *d, uint16_t dlen)
{
	a->type = type;
	a->dlen = dlen;
	a->len = NLA_HDRLEN + dlen;
	memcpy(a->d, d, dlen);
}

/* ---- the netlink oracle ---- */

/* A request's attributes as the kernel reads them. */
struct nlq {
	int verr;		/* strict validation: 0, -EINVAL or -ERANGE */
	bool have_pid, have_start, have_end, have_mode, packed, indexed, no_pfn, folio;
	uint32_t pid;
	uint64_t start, end;
	uint8_t mode;
};

/*
 * Parse the attributes of [p, p + len) as genetlink does for memtrace,
 * NL_VALIDATE_STRICT (lib/nlattr.c, __nla_validate_parse(), validate_nla(),
 * the same from 5.10 on): the first attribute at fault decides. Type 0, one
 * above MEMTRACE_A_MAX or one without a policy (NLA_UNSPEC) is EINVAL, so is
 * a U8/U32/U64 of another length or NLA_F_NESTED on a plain type; a FLAG
 * with a payload fails policy validation, which says ERANGE; a MODE above
 * MEMTRACE_MODE_MAX is ERANGE; bytes left that hold no attribute are EINVAL.
 * An attribute may come again: the last one counts. info: GET_INFO's policy,
 * which takes no attribute at all.
 */
static void nl_parse(const unsigned char *p, int len, bool info, struct nlq *q)
{
	int rem = len;

	memset(q, 0, sizeof(*q));
	while (rem >= NLA_HDRLEN) {
		struct nlattr a;
		const unsigned char *d = p + NLA_HDRLEN;
		unsigned int t, alen;
		int e = 0;

		memcpy(&a, p, NLA_HDRLEN);
		if (a.nla_len < NLA_HDRLEN || a.nla_len > rem)
			break;
		t = a.nla_type & NLA_TYPE_MASK;
		alen = a.nla_len - NLA_HDRLEN;
		switch (info ? 0 : t) {
		case MEMTRACE_A_PID:
			e = alen != 4 ? -EINVAL : 0;
			break;
		case MEMTRACE_A_START:
		case MEMTRACE_A_END:
			e = alen != 8 ? -EINVAL : 0;
			break;
		case MEMTRACE_A_MODE:
			e = alen != 1 ? -EINVAL : 0;
			break;
		case MEMTRACE_A_PACKED:
		case MEMTRACE_A_NO_PFN:
		case MEMTRACE_A_INDEXED:
		case MEMTRACE_A_CACHED:	/* the generator never sends these whole */
		case MEMTRACE_A_FOLIO:
			e = alen ? -ERANGE : 0;
			break;
		default:	/* unknown, or no policy */
			e = -EINVAL;
		}
		if (e != -EINVAL && (a.nla_type & NLA_F_NESTED))
			e = -EINVAL;	/* checked before the payload */
		if (!e && t == MEMTRACE_A_MODE && d[0] > MEMTRACE_MODE_MAX)
			e = -ERANGE;
		if (e) {
			q->verr = e;
			return;
		}
		switch (t) {
		case MEMTRACE_A_PID:
			q->have_pid = true;
			memcpy(&q->pid, d, 4);
			break;
		case MEMTRACE_A_START:
			q->have_start = true;
			memcpy(&q->start, d, 8);
			break;
		case MEMTRACE_A_END:
			q->have_end = true;
			memcpy(&q->end, d, 8);
			break;
		case MEMTRACE_A_MODE:
			q->have_mode = true;
			q->mode = d[0];
			break;
		case MEMTRACE_A_PACKED:
			q->packed = true;
			break;
		case MEMTRACE_A_NO_PFN:
			q->no_pfn = true;
			break;
		case MEMTRACE_A_CACHED:
			break;
		case MEMTRACE_A_FOLIO:
			q->folio = true;
			break;
		default:
			q->indexed = true;
		}
		rem -= NLA_ALIGN(a.nla_len);
		p += NLA_ALIGN(a.nla_len);
	}
	if (rem > 0)
		q->verr = -EINVAL;	/* trailing bytes */
}

/*
 * What querying pid gives over netlink: fz_target()'s answer, made exact for a
 * pid it does not know when no process has it (nothing forks while netlink
 * is fuzzed, so none can appear).
 */
static unsigned int nl_target(uint32_t pid)
{
	unsigned int t;

	if (!pid || pid > RL_PID_MAX_LIMIT)
		return XS_ESRCH;
	t = fz_target(pid);
	if (t != (XS_OK | XS_ESRCH | XS_EACCES))
		return t;
	if (kill((pid_t)pid, 0) && errno == ESRCH)
		return XS_ESRCH;
	/* a process, or a kernel thread (ESRCH); CAP_SYS_PTRACE sees any */
	return fz_is_root ? XS_OK | XS_ESRCH : t;
}

/*
 * The outcomes a QUERY q may have (XS_*): its validation errno, else each
 * errno one of its parameters justifies (the contract does not order them),
 * else what its target gives.
 */
static unsigned int nl_query_outcomes(const struct nlq *q)
{
	uint64_t start = q->have_start ? q->start : 0;
	unsigned int v = 0;

	if (q->verr)
		return q->verr == -ERANGE ? XS_ERANGE : XS_EINVAL;
	if ((q->indexed && !q->packed) || (q->folio && q->packed))
		v |= XS_EINVAL;
	if (start >= fz_ts || (q->have_end && q->end > fz_ts))
		v |= XS_ERANGE;
	else if (q->have_end && q->end <= start)
		v |= XS_EINVAL;		/* judged before rounding */
	if (!q->have_pid)
		return v | XS_EINVAL;
	if (v)
		return v | (nl_target(q->pid) & ~XS_OK);
	return nl_target(q->pid);
}

/*
 * Judge the message of dlen bytes in nbuf (nlmsg_len nlen), from its bytes:
 * framed when its headers are those the generator built (type, flags, cmd,
 * version, reserved) and the netlink core hands genetlink the whole of it.
 */
static void nl_judge(const struct nlr *s, size_t dlen, uint32_t nlen, uint16_t flags0,
		     uint8_t cmd0, struct nl_want *w)
{
	struct nlmsghdr h;
	struct genlmsghdr g;
	struct nlq q;
	unsigned int sem;
	bool framed, whole;

	memset(w, 0, sizeof(*w));
	if (dlen < NLMSG_HDRLEN + GENL_HDRLEN)
		return;		/* no answer at all, or a refusal */
	memcpy(&h, fz_nbuf, NLMSG_HDRLEN);
	memcpy(&g, fz_nbuf + NLMSG_HDRLEN, GENL_HDRLEN);
	whole = nlen >= NLMSG_HDRLEN + GENL_HDRLEN && nlen <= dlen && h.nlmsg_type == s->family;
	if (!whole)
		return;
	framed = h.nlmsg_flags == flags0 && g.cmd == cmd0 &&
		 g.version == MEMTRACE_GENL_VERSION && !g.reserved;
	nl_parse(fz_nbuf + NLMSG_HDRLEN + GENL_HDRLEN, (int)nlen - NLMSG_HDRLEN - GENL_HDRLEN,
		 g.cmd == MEMTRACE_CMD_GET_INFO, &q);
	if (g.cmd == MEMTRACE_CMD_GET_INFO) {
		sem = q.verr ? (q.verr == -ERANGE ? XS_ERANGE : XS_EINVAL) : XS_OK;
		w->info_ok = (h.nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP && (sem & XS_OK);
	} else if (g.cmd == MEMTRACE_CMD_QUERY) {
		sem = nl_query_outcomes(&q);
		w->dump_ok = (h.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP && (sem & XS_OK);
		w->pid = (int)q.pid;
		w->start = (q.have_start ? q.start : 0) & ~(RL_PAGE - 1);
		w->end = q.have_end ? (q.end + RL_PAGE - 1) & ~(RL_PAGE - 1) : fz_ts;
		w->mode = q.have_mode ? q.mode : MEMTRACE_MODE_RUNS;
		w->packed = q.packed;
		w->indexed = q.indexed;
		w->admin = fz_is_root && !q.no_pfn;
	} else if (g.cmd == MEMTRACE_CMD_TOP) {
		/* judged leniently: a dump of PROC nests, or a documented errno */
		w->top_ok = (h.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
		return;
	} else {
		return;
	}
	w->strict = framed;
	w->allowed = sem;
}

/* Build one message into nbuf; returns the datagram length. */
size_t fz_nl_build(struct nlr *s, uint32_t seq, uint16_t *flags_out, uint16_t *type_out,
		   uint32_t *nlmsg_len_out, struct nl_want *want)
{
	struct nattr at[12];
	int na = 0, k;
	uint16_t type = s->family, flags = NLM_F_REQUEST;
	uint8_t cmd, cmd0, version = MEMTRACE_GENL_VERSION, reserved = 0;
	size_t len, dlen;
	uint32_t nlen;
	bool query = rl_chance(&fz_rng, 70), mutated = false, raw = false;
	unsigned int many = 0;
	uint16_t flags0;

	if (query) {
		uint32_t pid = rl_chance(&fz_rng, 70) ? (uint32_t)fz_self : (uint32_t)fz_pick_pid();
		uint64_t start = (uintptr_t)fz_region, end = start + NREG * MT_PG;
		uint8_t mode = rl_below(&fz_rng, 2);

		cmd = MEMTRACE_CMD_QUERY;
		flags |= NLM_F_DUMP;
		if (rl_chance(&fz_rng, 25)) {
			start = fz_pick_addr();
			end = rl_chance(&fz_rng, 50) ? fz_pick_addr() : start + rl_below(&fz_rng, 64) * MT_PG;
		}
		if (pid == 1 && mode == 1 && rl_chance(&fz_rng, 80))
			mode = 0;
		na_set(&at[na++], MEMTRACE_A_PID, &pid, 4);
		if (rl_chance(&fz_rng, 90))
			na_set(&at[na++], MEMTRACE_A_START, &start, 8);
		if (rl_chance(&fz_rng, 85) || pid == (uint32_t)fz_self)
			na_set(&at[na++], MEMTRACE_A_END, &end, 8);
		if (rl_chance(&fz_rng, 70))
			na_set(&at[na++], MEMTRACE_A_MODE, &mode, 1);
		/* packed answers, pages a byte each or a word (not NO_PFN: the checker
		 * wants the pfns a root caller is shown) */
		if (rl_chance(&fz_rng, 40))
			na_set(&at[na++], MEMTRACE_A_PACKED, NULL, 0);
		if (rl_chance(&fz_rng, 30))
			na_set(&at[na++], MEMTRACE_A_INDEXED, NULL, 0);
	} else {
		cmd = MEMTRACE_CMD_GET_INFO;
	}
	if (rl_chance(&fz_rng, 30))
		flags |= NLM_F_ACK;
	flags0 = flags;
	cmd0 = cmd;

	k = rl_chance(&fz_rng, 25) ? 0 : 1 + rl_below(&fz_rng, 3);
	mutated = k > 0;
	while (k--) {
		int i = na ? rl_below(&fz_rng, na) : 0;

		switch (rl_below(&fz_rng, 18)) {
		case 0:	/* attribute type */
			if (na)
				at[i].type = rl_chance(&fz_rng, 60) ? rl_below(&fz_rng, 16) :
					     rl_chance(&fz_rng, 50) ? at[i].type | NLA_F_NESTED :
					     rl_chance(&fz_rng, 50) ? at[i].type | NLA_F_NET_BYTEORDER :
					     (uint16_t)rl_next(&fz_rng);
			break;
		case 1:	/* payload length */
			if (na) {
				at[i].dlen = rl_below(&fz_rng, 13);
				for (int j = 0; j < at[i].dlen; j++)
					at[i].d[j] = rl_next(&fz_rng);
				at[i].len = NLA_HDRLEN + at[i].dlen;
			}
			break;
		case 2:	/* nla_len disagrees with the bytes */
			if (na)
				at[i].len = rl_chance(&fz_rng, 30) ? rl_below(&fz_rng, 4) :
					    rl_chance(&fz_rng, 50) ? at[i].len + 1 + rl_below(&fz_rng, 64) :
					    rl_chance(&fz_rng, 50) ? 0xffffU : at[i].len - 1U;
			break;
		case 3:	/* duplicate */
			if (na && na < 12)
				at[na++] = at[i];
			break;
		case 4:	/* drop */
			if (na) {
				memmove(&at[i], &at[i + 1], (na - i - 1) * sizeof(at[0]));
				na--;
			}
			break;
		case 5:	/* swap */
			if (na > 1) {
				struct nattr t = at[i];
				int j = rl_below(&fz_rng, na);

				at[i] = at[j];
				at[j] = t;
			}
			break;
		case 6:	/* a nest of attributes */
			if (na < 12) {
				struct nattr *n = &at[na++];
				unsigned int sub = 1 + rl_below(&fz_rng, 3), o = 0;

				n->type = (rl_chance(&fz_rng, 50) ? MEMTRACE_A_RECORD : rl_below(&fz_rng, 16)) |
					  (rl_chance(&fz_rng, 60) ? NLA_F_NESTED : 0);
				while (sub-- && o + 12 <= sizeof(n->d)) {
					struct nlattr h = { .nla_len = NLA_HDRLEN + 8,
							    .nla_type = rl_below(&fz_rng, 10) };
					uint64_t v = rl_next(&fz_rng);

					if (rl_chance(&fz_rng, 20))
						h.nla_len = rl_below(&fz_rng, 40);
					memcpy(n->d + o, &h, 4);
					memcpy(n->d + o + 4, &v, 8);
					o += 12;
				}
				n->dlen = o;
				n->len = NLA_HDRLEN + o;
			}
			break;
		case 7:	/* values */
			if (na) {
				uint64_t v = rl_chance(&fz_rng, 50) ? fz_pick_addr() : rl_next(&fz_rng);

				memcpy(at[i].d, &v, at[i].dlen < 8 ? at[i].dlen : 8);
			}
			break;
		case 8:	/* genl command */
			cmd = rl_chance(&fz_rng, 70) ? rl_below(&fz_rng, 6) : (uint8_t)rl_next(&fz_rng);
			break;
		case 9:	/* genl version, reserved */
			version = rl_next(&fz_rng);
			if (rl_chance(&fz_rng, 50))
				reserved = rl_next(&fz_rng);
			break;
		case 10:	/* flags */
			flags ^= 1U << rl_below(&fz_rng, 16);
			if (rl_chance(&fz_rng, 20))
				flags = rl_next(&fz_rng);
			break;
		case 11:	/* type */
			if (rl_chance(&fz_rng, 50) && fz_n_unused)
				type = unused_ids[rl_below(&fz_rng, fz_n_unused)];
			else
				type = rl_below(&fz_rng, NLMSG_MIN_TYPE);
			break;
		case 12:	/* oversize: many attributes */
			many = rl_chance(&fz_rng, 10) ? 1500 + rl_below(&fz_rng, 2000) : 10 + rl_below(&fz_rng, 200);
			break;
		case 13:	/* raw bytes as payload */
			raw = true;
			break;
		default:	/* header lengths: below */
			break;
		}
	}

	/* serialise */
	len = NLMSG_HDRLEN;
	{
		struct genlmsghdr g = { .cmd = cmd, .version = version, .reserved = reserved };

		memcpy(fz_nbuf + len, &g, GENL_HDRLEN);
		len += GENL_HDRLEN;
	}
	if (raw) {
		size_t r = rl_below(&fz_rng, 300);

		for (size_t i = 0; i < r; i++)
			fz_nbuf[len + i] = rl_next(&fz_rng);
		len += r;
	} else {
		for (int i = 0; i < na; i++) {
			struct nlattr h = { .nla_len = at[i].len, .nla_type = at[i].type };

			memcpy(fz_nbuf + len, &h, NLA_HDRLEN);
			memcpy(fz_nbuf + len + NLA_HDRLEN, at[i].d, at[i].dlen);
			memset(fz_nbuf + len + NLA_HDRLEN + at[i].dlen, 0,
			       NLA_ALIGN(at[i].dlen) - at[i].dlen);
			len += NLA_HDRLEN + NLA_ALIGN(at[i].dlen);
		}
		for (unsigned int i = 0; i < many && len + 12 < 65000; i++) {
			struct nlattr h = { .nla_len = NLA_HDRLEN + 8, .nla_type = MEMTRACE_A_START };
			uint64_t v = (uintptr_t)fz_region;

			memcpy(fz_nbuf + len, &h, NLA_HDRLEN);
			memcpy(fz_nbuf + len + NLA_HDRLEN, &v, 8);
			len += 12;
		}
	}
	nlen = len;
	dlen = len;
	if (mutated && rl_chance(&fz_rng, 12)) {
		switch (rl_below(&fz_rng, 7)) {
		case 0: nlen = rl_below(&fz_rng, NLMSG_HDRLEN); break;
		case 1: nlen = NLMSG_HDRLEN + rl_below(&fz_rng, GENL_HDRLEN); break;
		case 2: nlen = len - rl_below(&fz_rng, len - NLMSG_HDRLEN + 1); break;
		case 3: nlen = len + 1 + rl_below(&fz_rng, 100); break;
		case 4: nlen = (uint32_t)rl_next(&fz_rng); break;
		case 5: dlen = rl_below(&fz_rng, len + 1); break;		/* truncated datagram */
		default:	/* longer datagram: zeros or a short tail */
			if (rl_chance(&fz_rng, 50)) {
				size_t extra = 1 + rl_below(&fz_rng, 200);

				memset(fz_nbuf + len, 0, extra);
				dlen = len + extra;
			} else {
				size_t extra = 1 + rl_below(&fz_rng, NLMSG_HDRLEN - 1);

				for (size_t i = 0; i < extra; i++)
					fz_nbuf[len + i] = rl_next(&fz_rng);
				dlen = len + extra;
			}
		}
		mutated = true;
	}
	/* Nothing after this message may parse as another one (it could reach
	 * any family): zero what would follow it. */
	if (nlen >= NLMSG_HDRLEN && nlen <= dlen && NLMSG_ALIGN((size_t)nlen) + NLMSG_HDRLEN <= dlen)
		memset(fz_nbuf + NLMSG_ALIGN((size_t)nlen), 0, dlen - NLMSG_ALIGN((size_t)nlen));
	{
		struct nlmsghdr h = { .nlmsg_len = nlen, .nlmsg_type = type, .nlmsg_flags = flags,
				      .nlmsg_seq = seq, .nlmsg_pid = rl_chance(&fz_rng, 5) ? (uint32_t)rl_next(&fz_rng) : 0 };

		memcpy(fz_nbuf, &h, dlen < NLMSG_HDRLEN ? dlen : NLMSG_HDRLEN);
	}
	*flags_out = flags;
	*type_out = type;
	*nlmsg_len_out = nlen;
	nl_judge(s, dlen, nlen, flags0, cmd0, want);
	want->mutated = mutated;
	return dlen;
}
