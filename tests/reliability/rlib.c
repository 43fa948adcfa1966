// SPDX-License-Identifier: GPL-2.0
/* rlib: knobs, the answer checker, /proc text (netlink queries: rlib-nl.c). */
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

/* 4096 as "4K": the size column's words */
static void rl_size_label(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	int i = 0;

	bytes >>= 10;
	while (bytes >= 1024 && units[i + 1]) {
		bytes >>= 10;
		i++;
	}
	snprintf(buf, len, "%llu%c", (unsigned long long)bytes, units[i]);
}

/* The size column: a page, a PMD or a PUD (4K 2M 1G, or 16K 32M 64G). */
const char *rl_size_name(uint32_t f)
{
	static char names[3][24];

	if (!names[0][0]) {
		rl_size_label(MT_PG * MT_PG / 8 * MT_PG / 8, names[2], sizeof(names[2]));
		rl_size_label(MT_PG * MT_PG / 8, names[1], sizeof(names[1]));
		rl_size_label(MT_PG, names[0], sizeof(names[0]));
	}
	return names[f & MEMTRACE_F_SIZE_PUD ? 2 : f & MEMTRACE_F_SIZE_PMD ? 1 : 0];
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
		if (sscanf(line, "# memtrace pid=%d start=0x%llx end=0x%llx page_size=%llu mode=%15s",
			   &pid, &a, &b, &e, mode) != 5 || e != MT_PG)
			return rl_check_fail(c, "bad header: %s", line);
		snprintf(canon, sizeof(canon),
			 "# memtrace pid=%d start=0x%llx end=0x%llx page_size=%lu mode=%s",
			 pid, a, b, MT_PG, mode);
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
	if (!strcmp(size, rl_size_name(MEMTRACE_F_SIZE_PMD)))
		flags |= MEMTRACE_F_SIZE_PMD;
	else if (!strcmp(size, rl_size_name(MEMTRACE_F_SIZE_PUD)))
		flags |= MEMTRACE_F_SIZE_PUD;
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
