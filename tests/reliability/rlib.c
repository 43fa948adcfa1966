// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rlib.h"

const char *const rl_state_names[MEMTRACE_NSTATES] = MEMTRACE_STATE_NAMES;

/* ---- knobs ---- */

long long rl_knob(const char *name, long long dflt)
{
	char env[64], buf[4096], *tok, *save;
	size_t i, nl = strlen(name);
	const char *e;
	FILE *f;

	for (i = 0; i < nl && i < sizeof(env) - 1; i++)
		env[i] = toupper((unsigned char)name[i]);
	env[i] = '\0';
	e = getenv(env);
	if (e && *e)
		return strtoll(e, NULL, 0);
	f = fopen("/proc/cmdline", "r");
	if (!f)
		return dflt;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	/* later words override earlier ones, like the kernel's own parsing */
	for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		if (!strncmp(tok, name, nl) && tok[nl] == '=')
			dflt = strtoll(tok + nl + 1, NULL, 0);
	return dflt;
}

bool rl_quick(void)
{
	return rl_knob("mt_quick", 0) != 0;
}

/* ---- answer checker ---- */

void rl_check_init(struct rl_check *c, int pid, uint64_t start, uint64_t end, int mode,
		   bool admin)
{
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->start = start;
	c->end = end;
	c->mode = mode;
	c->admin = admin;
	c->next = start;
}

bool rl_check_fail(struct rl_check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err[0])
		return false;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return false;
}

static int popcount32(uint32_t v)
{
	return __builtin_popcount(v);
}

bool rl_check_record(struct rl_check *c, uint64_t addr, uint64_t pages, unsigned int state,
		     uint32_t flags, uint64_t pfn, int64_t node)
{
	if (c->err[0])
		return false;
	if (c->summary)
		return rl_check_fail(c, "record after the summary");
	if (state >= MEMTRACE_NSTATES)
		return rl_check_fail(c, "record 0x%" PRIx64 ": state %u", addr, state);
	if (flags & ~(uint32_t)MEMTRACE_F_ALL)
		return rl_check_fail(c, "record 0x%" PRIx64 ": unknown flags 0x%x", addr, flags);
	if (popcount32(flags & MEMTRACE_F_KIND_MASK) > 1 ||
	    popcount32(flags & MEMTRACE_F_SIZE_MASK) > 1)
		return rl_check_fail(c, "record 0x%" PRIx64 ": two kinds or sizes 0x%x", addr, flags);
	if (addr != c->next)
		return rl_check_fail(c, "record at 0x%" PRIx64 ", expected 0x%" PRIx64, addr, c->next);
	if (!pages || pages > (c->end - addr) / RL_PAGE)
		return rl_check_fail(c, "record 0x%" PRIx64 ": %" PRIu64 " pages, end 0x%" PRIx64,
				     addr, pages, c->end);
	if (c->mode == MEMTRACE_MODE_PAGES && state != MEMTRACE_UNMAPPED && pages != 1)
		return rl_check_fail(c, "pages mode: record 0x%" PRIx64 " has %" PRIu64 " pages",
				     addr, pages);
	if (c->have_prev && c->prev_state == state &&
	    (c->mode == MEMTRACE_MODE_RUNS ? c->prev_flags == flags && c->prev_node == node :
	     state == MEMTRACE_UNMAPPED))
		return rl_check_fail(c, "record 0x%" PRIx64 " should have been merged with the one before",
				     addr);
	switch (state) {
	case MEMTRACE_PRESENT:
		if (node < -1 || node > 1024)
			return rl_check_fail(c, "present 0x%" PRIx64 ": node %" PRId64, addr, node);
		if ((flags & MEMTRACE_F_PFNMAP) && node != -1)
			return rl_check_fail(c, "pfnmap 0x%" PRIx64 " with node %" PRId64, addr, node);
		break;
	case MEMTRACE_ZERO:
		if (flags & ~(uint32_t)MEMTRACE_F_SIZE_MASK)
			return rl_check_fail(c, "zero 0x%" PRIx64 ": flags 0x%x", addr, flags);
		if (node != -1)
			return rl_check_fail(c, "zero 0x%" PRIx64 ": node %" PRId64, addr, node);
		break;
	default:
		if (flags || node != -1)
			return rl_check_fail(c, "%s 0x%" PRIx64 ": flags 0x%x node %" PRId64,
					     rl_state_names[state], addr, flags, node);
		if ((state == MEMTRACE_UNMAPPED || state == MEMTRACE_NONE) && pfn)
			return rl_check_fail(c, "%s 0x%" PRIx64 ": pfn 0x%" PRIx64,
					     rl_state_names[state], addr, pfn);
	}
	if (!c->admin && pfn)
		return rl_check_fail(c, "record 0x%" PRIx64 ": pfn 0x%" PRIx64 " shown without CAP_SYS_ADMIN",
				     addr, pfn);
	c->counts[state] += pages;
	c->next = addr + pages * RL_PAGE;
	c->have_prev = true;
	c->prev_state = state;
	c->prev_flags = flags;
	c->prev_node = node;
	c->records++;
	if (c->on_record)
		c->on_record(c->arg, addr, pages, state, flags, pfn, node);
	return true;
}

bool rl_check_summary(struct rl_check *c, uint64_t total, const uint64_t *counts)
{
	uint64_t sum = 0;

	if (c->err[0])
		return false;
	if (c->summary)
		return rl_check_fail(c, "two summaries");
	c->summary = true;
	if (c->next != c->end)
		return rl_check_fail(c, "summary after 0x%" PRIx64 ", range ends at 0x%" PRIx64,
				     c->next, c->end);
	for (int i = 0; i < MEMTRACE_NSTATES; i++) {
		sum += counts[i];
		if (counts[i] != c->counts[i])
			return rl_check_fail(c, "summary %s=%" PRIu64 ", records say %" PRIu64,
					     rl_state_names[i], counts[i], c->counts[i]);
	}
	if (sum != total || total != (c->end - c->start) / RL_PAGE)
		return rl_check_fail(c, "summary pages=%" PRIu64 " (states add to %" PRIu64
				     ") for a range of %" PRIu64 " pages",
				     total, sum, (c->end - c->start) / RL_PAGE);
	return true;
}

/* ---- /proc text ---- */

void rl_flag_word(uint32_t f, char *s)
{
	static const char kinds[] = MEMTRACE_KIND_LETTERS, letters[] = MEMTRACE_FLAG_LETTERS;

	s[0] = '-';
	for (unsigned int i = 0; i < sizeof(kinds) - 1; i++)
		if (f & (MEMTRACE_F_ANON << i))
			s[0] = kinds[i];
	for (unsigned int i = 0; i < MEMTRACE_FLAGS_WIDTH - 1; i++)
		s[i + 1] = f & (MEMTRACE_F_HUGETLB << i) ? letters[i] : '-';
	s[MEMTRACE_FLAGS_WIDTH] = '\0';
}

const char *rl_size_name(uint32_t f)
{
	return f & MEMTRACE_F_SIZE_1G ? "1G" : f & MEMTRACE_F_SIZE_2M ? "2M" : "4K";
}

static const char *const mode_names[] = { "runs", "pages" };

void rl_text_init(struct rl_text *t, struct rl_check *c)
{
	memset(t, 0, sizeof(*t));
	t->c = c;
}

static bool text_line(struct rl_text *t, char *line)
{
	struct rl_check *c = t->c;
	char canon[512], mode[16], state[16], size[8], word[16];
	unsigned long long a, b, d, e;
	uint64_t counts[MEMTRACE_NSTATES], total;
	uint32_t flags = 0;
	int pid, node, s = -1;

	t->line_no++;
	if (t->line_no == 1) {
		if (sscanf(line, "# memtrace pid=%d start=0x%llx end=0x%llx page_size=4096 mode=%15s",
			   &pid, &a, &b, mode) != 4)
			return rl_check_fail(c, "bad header: %s", line);
		snprintf(canon, sizeof(canon),
			 "# memtrace pid=%d start=0x%llx end=0x%llx page_size=4096 mode=%s",
			 pid, a, b, mode);
		if (strcmp(canon, line))
			return rl_check_fail(c, "header not canonical: %s", line);
		if (strcmp(mode, "runs") && strcmp(mode, "pages"))
			return rl_check_fail(c, "header mode %s", mode);
		if (!c->pid) {
			c->pid = pid;
			c->start = c->next = a;
			c->mode = !strcmp(mode, "pages");
		}
		if (!c->end)
			c->end = b;
		if (pid != c->pid || a != c->start || b != c->end ||
		    strcmp(mode, mode_names[c->mode]))
			return rl_check_fail(c, "header %s, asked pid=%d start=0x%" PRIx64
					     " end=0x%" PRIx64 " mode=%s", line, c->pid,
					     c->start, c->end, mode_names[c->mode]);
		if (a % RL_PAGE || b % RL_PAGE || b <= a)
			return rl_check_fail(c, "header range: %s", line);
		return true;
	}
	if (t->line_no == 2) {
		if (strcmp(line, "# addr\tpages\tstate\tsize\tflags\tpfn\tnode"))
			return rl_check_fail(c, "bad column header: %s", line);
		return true;
	}
	if (!strncmp(line, "# summary ", 10)) {
		if (sscanf(line, "# summary pages=%" SCNu64 " unmapped=%" SCNu64 " none=%" SCNu64
			   " zero=%" SCNu64 " present=%" SCNu64 " swap=%" SCNu64
			   " migration=%" SCNu64 " other=%" SCNu64, &total, &counts[0],
			   &counts[1], &counts[2], &counts[3], &counts[4], &counts[5],
			   &counts[6]) != 8)
			return rl_check_fail(c, "bad summary: %s", line);
		snprintf(canon, sizeof(canon),
			 "# summary pages=%" PRIu64 " unmapped=%" PRIu64 " none=%" PRIu64
			 " zero=%" PRIu64 " present=%" PRIu64 " swap=%" PRIu64
			 " migration=%" PRIu64 " other=%" PRIu64, total, counts[0],
			 counts[1], counts[2], counts[3], counts[4], counts[5], counts[6]);
		if (strcmp(canon, line))
			return rl_check_fail(c, "summary not canonical: %s", line);
		return rl_check_summary(c, total, counts);
	}
	if (sscanf(line, "0x%llx\t%llu\t%15[a-z]\t%7s\t%15s\t0x%llx\t%d", &a, &b, state, size,
		   word, &d, &node) != 7)
		return rl_check_fail(c, "bad record line: %s", line);
	for (int i = 0; i < MEMTRACE_NSTATES; i++)
		if (!strcmp(state, rl_state_names[i]))
			s = i;
	if (s < 0)
		return rl_check_fail(c, "bad state: %s", line);
	if (!strcmp(size, "2M"))
		flags |= MEMTRACE_F_SIZE_2M;
	else if (!strcmp(size, "1G"))
		flags |= MEMTRACE_F_SIZE_1G;
	if (strlen(word) == MEMTRACE_FLAGS_WIDTH) {
		const char *k = strchr(MEMTRACE_KIND_LETTERS, word[0]);

		if (k && word[0])
			flags |= MEMTRACE_F_ANON << (k - MEMTRACE_KIND_LETTERS);
		for (int i = 1; i < MEMTRACE_FLAGS_WIDTH; i++)
			if (word[i] == MEMTRACE_FLAG_LETTERS[i - 1])
				flags |= MEMTRACE_F_HUGETLB << (i - 1);
	}
	rl_flag_word(flags, word);
	e = d;
	snprintf(canon, sizeof(canon), "0x%llx\t%llu\t%s\t%s\t%s\t0x%llx\t%d", a, b,
		 rl_state_names[s], rl_size_name(flags), word, e, node);
	if (strcmp(canon, line))
		return rl_check_fail(c, "record not canonical: '%s' (reads as '%s')", line, canon);
	return rl_check_record(c, a, b, s, flags, d, node);
}

bool rl_text_feed(struct rl_text *t, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (t->c->err[0])
			return false;
		if (buf[i] == '\n') {
			t->line[t->len] = '\0';
			t->len = 0;
			if (t->c->summary)
				return rl_check_fail(t->c, "text after the summary");
			if (!text_line(t, t->line))
				return false;
			continue;
		}
		if (buf[i] == '\0' || t->len >= sizeof(t->line) - 1)
			return rl_check_fail(t->c, "NUL or overlong line in the answer");
		t->line[t->len++] = buf[i];
	}
	return !t->c->err[0];
}

bool rl_text_end(struct rl_text *t)
{
	if (t->c->err[0])
		return false;
	if (t->len)
		return rl_check_fail(t->c, "answer ends inside a line");
	if (!t->c->summary)
		return rl_check_fail(t->c, "answer ends without a summary (after %lu records)",
				     t->c->records);
	return true;
}

int rl_proc_read_all(int fd, struct rl_check *c, size_t chunk, size_t *bytes)
{
	static __thread char buf[65536];
	struct rl_text t;
	ssize_t n;

	if (chunk > sizeof(buf))
		chunk = sizeof(buf);
	rl_text_init(&t, c);
	if (bytes)
		*bytes = 0;
	for (;;) {
		n = read(fd, buf, chunk);
		if (n < 0)
			return -errno;
		if (!n)
			break;
		if (bytes)
			*bytes += n;
		if (!rl_text_feed(&t, buf, n))
			return -EBADMSG;
	}
	return rl_text_end(&t) ? 0 : -EBADMSG;
}

/* ---- memtrace queries over netlink ---- */

size_t rl_nl_query_msg(struct nlr *s, void *buf, uint32_t pid, uint64_t start,
		       uint64_t end, bool have_end, int mode)
{
	unsigned char *p = buf;
	struct nlmsghdr *h = buf;
	struct genlmsghdr *g = (struct genlmsghdr *)(p + NLMSG_HDRLEN);
	size_t len = NLMSG_HDRLEN + GENL_HDRLEN;
	uint8_t m = mode & 0xff;

	memset(buf, 0, len);
	g->cmd = MEMTRACE_CMD_QUERY;
	g->version = MEMTRACE_GENL_VERSION;
	len += nlr_put_attr(p + len, MEMTRACE_A_PID, &pid, 4);
	len += nlr_put_attr(p + len, MEMTRACE_A_START, &start, 8);
	if (have_end)
		len += nlr_put_attr(p + len, MEMTRACE_A_END, &end, 8);
	len += nlr_put_attr(p + len, MEMTRACE_A_MODE, &m, 1);
	if (mode & RL_PACKED)
		len += nlr_put_attr(p + len, MEMTRACE_A_PACKED, NULL, 0);
	if (mode & RL_INDEXED)
		len += nlr_put_attr(p + len, MEMTRACE_A_INDEXED, NULL, 0);
	h->nlmsg_len = len;
	h->nlmsg_type = s->family;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = ++s->seq;
	return len;
}

/* Walk the attributes of [p, p+len): every byte must belong to one. */
#define for_attrs(a, p, len, rem)                                                   \
	for ((a) = (struct nlattr *)(p), (rem) = (int)(len);                         \
	     (rem) >= NLA_HDRLEN && (a)->nla_len >= NLA_HDRLEN && (a)->nla_len <= (rem); \
	     (rem) -= NLA_ALIGN((a)->nla_len),                                       \
	     (a) = (struct nlattr *)((char *)(a) + NLA_ALIGN((a)->nla_len)))

static bool get_fixed(const struct nlattr *a, void *out, size_t len)
{
	if (a->nla_len != NLA_HDRLEN + len)
		return false;
	memcpy(out, (const char *)a + NLA_HDRLEN, len);
	return true;
}

static bool check_record_nest(struct rl_check *c, const struct nlattr *nest)
{
	uint64_t addr = 0, pages = 0, pfn = 0;
	uint32_t flags = 0;
	int32_t node = 0;
	uint8_t state = 0;
	unsigned int seen = 0;
	const struct nlattr *a;
	int rem;

	for_attrs(a, (const char *)nest + NLA_HDRLEN, nest->nla_len - NLA_HDRLEN, rem) {
		unsigned int t = a->nla_type;
		bool ok;

		if (t == MEMTRACE_R_PAD && a->nla_len == NLA_HDRLEN)
			continue;
		if (t == 0 || t > MEMTRACE_R_NODE || (seen & (1U << t)))
			return rl_check_fail(c, "record nest: attribute %u (again?)", t);
		seen |= 1U << t;
		switch (t) {
		case MEMTRACE_R_ADDR: ok = get_fixed(a, &addr, 8); break;
		case MEMTRACE_R_PAGES: ok = get_fixed(a, &pages, 8); break;
		case MEMTRACE_R_STATE: ok = get_fixed(a, &state, 1); break;
		case MEMTRACE_R_FLAGS: ok = get_fixed(a, &flags, 4); break;
		case MEMTRACE_R_PFN: ok = get_fixed(a, &pfn, 8); break;
		default: ok = get_fixed(a, &node, 4); break;
		}
		if (!ok)
			return rl_check_fail(c, "record nest: attribute %u of length %u", t, a->nla_len);
	}
	if (rem > 0 && rem >= NLA_HDRLEN)
		return rl_check_fail(c, "record nest: %d bytes left over", rem);
	if (seen != 0x7e)
		return rl_check_fail(c, "record nest: attributes 0x%x of 0x7e", seen);
	return rl_check_record(c, addr, pages, state, flags, pfn, node);
}

static bool check_summary_nest(struct rl_check *c, const struct nlattr *nest)
{
	uint64_t counts[MEMTRACE_NSTATES] = { 0 }, total = 0;
	unsigned int seen = 0;
	const struct nlattr *a;
	int rem;

	for_attrs(a, (const char *)nest + NLA_HDRLEN, nest->nla_len - NLA_HDRLEN, rem) {
		unsigned int t = a->nla_type;

		if (t == MEMTRACE_A_PAD && a->nla_len == NLA_HDRLEN)
			continue;
		if (t == 0 || t > MEMTRACE_NSTATES || (seen & (1U << t)) ||
		    !get_fixed(a, &counts[t - 1], 8))
			return rl_check_fail(c, "summary nest: attribute %u length %u", t, a->nla_len);
		seen |= 1U << t;
		total += counts[t - 1];
	}
	if (seen != ((1U << (MEMTRACE_NSTATES + 1)) - 2))
		return rl_check_fail(c, "summary nest: attributes 0x%x", seen);
	return rl_check_summary(c, total, counts);
}

/* MEMTRACE_A_RUNS: whole struct memtrace_run records, each checked. */
static bool check_runs(struct rl_check *c, const struct nlattr *a)
{
	unsigned int len = a->nla_len - NLA_HDRLEN;
	struct memtrace_run run;

	if (len % sizeof(run))
		return rl_check_fail(c, "runs array of %u bytes", len);
	for (unsigned int off = 0; off < len; off += sizeof(run)) {
		memcpy(&run, (const char *)a + NLA_HDRLEN + off, sizeof(run));
		if (run.reserved)
			return rl_check_fail(c, "run 0x%" PRIx64 ": reserved 0x%x", (uint64_t)run.addr,
					     run.reserved);
		if (MEMTRACE_PW_FLAGS(run.word) >> 11 || MEMTRACE_PW_STATE(run.word) >= MEMTRACE_NSTATES)
			return rl_check_fail(c, "run 0x%" PRIx64 ": word 0x%x", (uint64_t)run.addr,
					     run.word);
		if (!rl_check_record(c, run.addr, run.pages, MEMTRACE_PW_STATE(run.word),
				     MEMTRACE_PW_FLAGS(run.word), run.pfn, MEMTRACE_PW_NODE(run.word)))
			return false;
	}
	return true;
}

/*
 * The PFNVEC after a page vector of count pages at addr (NULL if none): one
 * pfn a page, and there must be one when pfns are shown (as admin).
 */
static bool check_pfnvec(struct rl_check *c, uint64_t addr, uint32_t count,
			 const struct nlattr *pfns)
{
	if (pfns && pfns->nla_len != NLA_HDRLEN + count * 8)
		return rl_check_fail(c, "page vector 0x%" PRIx64 " of %u pages: pfn vector of %u bytes",
				     addr, count, pfns->nla_len - NLA_HDRLEN);
	if (!pfns && c->admin)
		return rl_check_fail(c, "page vector 0x%" PRIx64 " without pfns (as admin)", addr);
	return true;
}

/* Page i of a page vector at addr: its word w, its pfn from pfns (or 0). */
static bool check_page(struct rl_check *c, uint64_t addr, uint32_t i, uint32_t w,
		       const struct nlattr *pfns)
{
	uint64_t pfn = 0;

	if (pfns)
		memcpy(&pfn, (const char *)pfns + NLA_HDRLEN + i * 8, 8);
	if (MEMTRACE_PW_FLAGS(w) >> 11 || MEMTRACE_PW_STATE(w) == MEMTRACE_UNMAPPED)
		return rl_check_fail(c, "page 0x%" PRIx64 ": word 0x%x", addr + i * RL_PAGE, w);
	return rl_check_record(c, addr + i * RL_PAGE, 1, MEMTRACE_PW_STATE(w),
			       MEMTRACE_PW_FLAGS(w), pfn, MEMTRACE_PW_NODE(w));
}

/*
 * MEMTRACE_A_PAGEVEC, with pfns from the PFNVEC that must follow it when pfns
 * are shown (pfns: the PFNVEC, NULL when there is none).
 */
static bool check_pagevec(struct rl_check *c, const struct nlattr *a, const struct nlattr *pfns)
{
	unsigned int len = a->nla_len - NLA_HDRLEN;
	const char *d = (const char *)a + NLA_HDRLEN;
	struct memtrace_pagevec v;
	uint32_t w;

	if (c->mode != MEMTRACE_MODE_PAGES)
		return rl_check_fail(c, "a page vector in runs mode");
	if (len < sizeof(v))
		return rl_check_fail(c, "page vector of %u bytes", len);
	memcpy(&v, d, sizeof(v));
	if (!v.count || v.reserved || len != sizeof(v) + v.count * 4)
		return rl_check_fail(c, "page vector 0x%" PRIx64 ": count %u reserved %u, %u bytes",
				     (uint64_t)v.addr, v.count, v.reserved, len);
	if (!check_pfnvec(c, v.addr, v.count, pfns))
		return false;
	for (uint32_t i = 0; i < v.count; i++) {
		memcpy(&w, d + sizeof(v) + i * 4, 4);
		if (!check_page(c, v.addr, i, w, pfns))
			return false;
	}
	return true;
}

/*
 * MEMTRACE_A_PAGEIDX: a byte a page indexing the words after them (layout,
 * zero padding, indexes in range), with pfns as for a PAGEVEC.
 */
static bool check_pageidx(struct rl_check *c, const struct nlattr *a, const struct nlattr *pfns)
{
	unsigned int len = a->nla_len - NLA_HDRLEN;
	const unsigned char *d = (const unsigned char *)a + NLA_HDRLEN;
	struct memtrace_pageidx v;
	size_t off;
	uint32_t w;

	if (c->mode != MEMTRACE_MODE_PAGES)
		return rl_check_fail(c, "a page index vector in runs mode");
	if (len < sizeof(v))
		return rl_check_fail(c, "page index vector of %u bytes", len);
	memcpy(&v, d, sizeof(v));
	off = MEMTRACE_PAGEIDX_WORDS_OFF((size_t)v.count);
	if (!v.count || !v.nwords || v.nwords > MEMTRACE_PAGEIDX_WORDS_MAX || v.reserved ||
	    len != off + v.nwords * 4)
		return rl_check_fail(c, "page index vector 0x%" PRIx64 ": count %u words %u "
				     "reserved %u, %u bytes", (uint64_t)v.addr, v.count, v.nwords,
				     v.reserved, len);
	for (size_t i = sizeof(v) + v.count; i < off; i++)
		if (d[i])
			return rl_check_fail(c, "page index vector 0x%" PRIx64 ": padding not zero",
					     (uint64_t)v.addr);
	if (!check_pfnvec(c, v.addr, v.count, pfns))
		return false;
	for (uint32_t i = 0; i < v.count; i++) {
		unsigned int ix = d[sizeof(v) + i];

		if (ix >= v.nwords)
			return rl_check_fail(c, "page 0x%" PRIx64 ": index %u of %u words",
					     (uint64_t)v.addr + i * RL_PAGE, ix, v.nwords);
		memcpy(&w, d + off + ix * 4, 4);
		if (!check_page(c, v.addr, i, w, pfns))
			return false;
	}
	return true;
}

/* The query a dump message repeats: adopted from the first, then equal. */
static bool header_ok(struct rl_check *c, uint32_t pid, uint64_t start, uint64_t end,
		      uint8_t mode, bool *first)
{
	if (*first && !c->pid) {
		c->pid = pid;
		c->start = c->next = start;
		c->end = end;
		c->mode = mode;
	}
	if (*first && !c->end)
		c->end = end;
	*first = false;
	if ((int)pid != c->pid || start != c->start || end != c->end || mode != c->mode)
		return rl_check_fail(c, "dump message for pid %u [0x%" PRIx64 ", 0x%" PRIx64
				     ") mode %u, asked pid %d [0x%" PRIx64 ", 0x%" PRIx64 ") mode %d",
				     pid, start, end, mode, c->pid, c->start, c->end, c->mode);
	if (start % RL_PAGE || end % RL_PAGE || end <= start || mode > MEMTRACE_MODE_MAX)
		return rl_check_fail(c, "dump of [0x%" PRIx64 ", 0x%" PRIx64 ") mode %u", start,
				     end, mode);
	return true;
}

bool rl_nl_check_msg(struct rl_check *c, const struct nlmsghdr *h, uint16_t family, bool *first)
{
	const struct genlmsghdr *g = NLMSG_DATA(h);
	uint32_t pid = 0;
	uint64_t start = 0, end = 0;
	uint8_t mode = 0;
	unsigned int seen = 0, prev = 0;
	const struct nlattr *a;
	int rem;

	if (c->err[0])
		return false;
	if (h->nlmsg_type != family || h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return rl_check_fail(c, "data message of type %u, length %u", h->nlmsg_type,
				     h->nlmsg_len);
	if (g->cmd != MEMTRACE_CMD_QUERY)
		return rl_check_fail(c, "data message with cmd %u", g->cmd);
	if (!(h->nlmsg_flags & NLM_F_MULTI))
		return rl_check_fail(c, "dump message without NLM_F_MULTI");
	if (c->summary)
		return rl_check_fail(c, "data message after the summary");
	/* first the repeated query, then records and the summary */
	for_attrs(a, (const char *)g + GENL_HDRLEN, h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, rem) {
		unsigned int t = a->nla_type & NLA_TYPE_MASK;
		bool ok = true;

		switch (t) {
		case MEMTRACE_A_PID: ok = get_fixed(a, &pid, 4); break;
		case MEMTRACE_A_START: ok = get_fixed(a, &start, 8); break;
		case MEMTRACE_A_END: ok = get_fixed(a, &end, 8); break;
		case MEMTRACE_A_MODE: ok = get_fixed(a, &mode, 1); break;
		case MEMTRACE_A_PAD: ok = a->nla_len == NLA_HDRLEN; break;
		case MEMTRACE_A_RECORD:
		case MEMTRACE_A_SUMMARY:
		case MEMTRACE_A_RUNS:
		case MEMTRACE_A_PAGEVEC:
		case MEMTRACE_A_PAGEIDX:
		case MEMTRACE_A_PFNVEC: {
			const struct nlattr *next = (const struct nlattr *)((const char *)a +
									    NLA_ALIGN(a->nla_len));
			int left = rem - NLA_ALIGN(a->nla_len);

			if (seen != 0x1e)
				return rl_check_fail(c, "record before PID/START/END/MODE");
			if (!header_ok(c, pid, start, end, mode, first))
				return false;
			if (t == MEMTRACE_A_RECORD)
				ok = check_record_nest(c, a);
			else if (t == MEMTRACE_A_SUMMARY)
				ok = check_summary_nest(c, a);
			else if (t == MEMTRACE_A_RUNS)
				ok = check_runs(c, a);
			else if (t == MEMTRACE_A_PAGEVEC)
				ok = check_pagevec(c, a, left >= NLA_HDRLEN && next->nla_len >= NLA_HDRLEN &&
						   next->nla_len <= left &&
						   next->nla_type == MEMTRACE_A_PFNVEC ? next : NULL);
			else if (t == MEMTRACE_A_PAGEIDX)
				ok = check_pageidx(c, a, left >= NLA_HDRLEN && next->nla_len >= NLA_HDRLEN &&
						   next->nla_len <= left &&
						   next->nla_type == MEMTRACE_A_PFNVEC ? next : NULL);
			else if (prev != MEMTRACE_A_PAGEVEC && prev != MEMTRACE_A_PAGEIDX)
				return rl_check_fail(c, "a pfn vector without its page vector");
			if (!ok)
				return false;
			prev = t;
			continue;
		}
		default:
			return rl_check_fail(c, "unexpected attribute %u in a dump message", t);
		}
		if (!ok)
			return rl_check_fail(c, "attribute %u of length %u", t, a->nla_len);
		if (t != MEMTRACE_A_PAD) {
			if (seen & (1U << t))
				return rl_check_fail(c, "attribute %u twice", t);
			seen |= 1U << t;
		}
	}
	if (rem >= NLA_HDRLEN)
		return rl_check_fail(c, "%d bytes of attributes left over", rem);
	if (seen != 0x1e)
		return rl_check_fail(c, "dump message lacks PID/START/END/MODE (0x%x)", seen);
	return header_ok(c, pid, start, end, mode, first);
}

int rl_nl_query(struct nlr *s, struct rl_check *c, uint32_t pid, uint64_t start,
		uint64_t end, bool have_end, int mode, unsigned long *msgs)
{
	unsigned char req[128];
	size_t len = rl_nl_query_msg(s, req, pid, start, end, have_end, mode);
	uint32_t seq = ((struct nlmsghdr *)req)->nlmsg_seq;
	bool first = true;
	int err;

	if (msgs)
		*msgs = 0;
	err = nlr_send_raw(s, req, len);
	if (err)
		return err;
	for (;;) {
		ssize_t n = nlr_recv(s, 60000);
		struct nlmsghdr *h;
		int left = (int)n;

		if (n < 0)
			return (int)n;
		if (!n) {
			rl_check_fail(c, "no answer in 60 s");
			return -ETIMEDOUT;
		}
		for (h = (struct nlmsghdr *)s->buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq) {
				rl_check_fail(c, "message of seq %u while waiting for %u (type %u)",
					      h->nlmsg_seq, seq, h->nlmsg_type);
				return -EBADMSG;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) || e->error >= 0) {
					rl_check_fail(c, "NLMSG_ERROR %d in a dump", e->error);
					return -EBADMSG;
				}
				return e->error;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				int e = 0;

				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&e, NLMSG_DATA(h), sizeof(e));
				if (e < 0)
					return e;
				if (!c->summary) {
					rl_check_fail(c, "NLMSG_DONE without a summary (%lu records)",
						      c->records);
					return -EBADMSG;
				}
				return 0;
			}
			if (msgs)
				(*msgs)++;
			if (!rl_nl_check_msg(c, h, s->family, &first))
				return -EBADMSG;
		}
		if (left > 0 && left >= (int)NLMSG_HDRLEN) {
			rl_check_fail(c, "%d bytes of a partial message", left);
			return -EBADMSG;
		}
	}
}

const char *rl_escape(const void *buf, size_t len)
{
	static __thread char out[1200];
	const unsigned char *p = buf;
	size_t o = 0;

	for (size_t i = 0; i < len && o < sizeof(out) - 8; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			out[o++] = p[i];
		else if (p[i] == '\n')
			o += sprintf(out + o, "\\n");
		else if (p[i] == '\t')
			o += sprintf(out + o, "\\t");
		else
			o += sprintf(out + o, "\\x%02x", p[i]);
	}
	if (o >= sizeof(out) - 8)
		o += sprintf(out + o, "...");
	out[o] = '\0';
	return out;
}

int rl_proc_query(struct rl_check *c, int pid, uint64_t s, uint64_t e, bool whole, int mode,
		  struct rl_rng *r, unsigned long *bytes)
{
	char q[128];
	int fd = open("/proc/memtrace", O_RDWR), n, err;
	size_t b = 0;

	if (fd < 0)
		return -errno;
	if (whole)
		n = snprintf(q, sizeof(q), "%d all %s\n", pid, mode ? "pages" : "runs");
	else
		n = snprintf(q, sizeof(q), "%d 0x%" PRIx64 " 0x%" PRIx64 " %s", pid, s, e,
			     mode ? "pages" : "runs");
	if (write(fd, q, n) != n) {
		err = -errno;
		close(fd);
		return err;
	}
	err = rl_proc_read_all(fd, c, rl_chance(r, 20) ? 1 + rl_below(r, 512) :
				       rl_chance(r, 50) ? 4096 : 65536, &b);
	if (bytes)
		*bytes += b;
	close(fd);
	return err;
}
