// SPDX-License-Identifier: GPL-2.0
/*
 * Which pages a command shows (--state, --flags: page-types -b for
 * memtrace's flags) and what they add up to (totals per state, per NUMA
 * node, THP and hugetlb, exclusive and shared). Any command may use them:
 * query, verify, maps and diff do.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "output.h"

static int bad(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* "present,zero": the states a page may be in; a later option adds to the list. */
int mt_filter_states(struct mt_filter *f, const char *arg, char *err, size_t errlen)
{
	const char *p = arg;

	do {
		size_t len = strcspn(p, ",");
		int s = mt_state_from_name(p, len);

		if (s < 0)
			return bad(err, errlen, "--state: unknown state '%.*s' (unmapped, none, "
				   "zero, present, swap, migration, other)", (int)len, p);
		f->states |= 1U << s;
		p += len;
	} while (*p++ == ',');
	f->active = true;
	return 0;
}

/* A flag by its letter (the flags word's, or a kind), its name, or its size. */
static uint32_t flag_of(const char *s, size_t len)
{
	static const char letters[] = "afsphwdyx";
	const char *l = len == 1 ? memchr(letters, s[0], sizeof(letters) - 1) : NULL;
	uint32_t size = 0;

	if (l)
		return 1U << (l - letters);
	if (len == 1 && s[0] == 'b')	/* a cached page under writeback */
		return MEMTRACE_F_WRITEBACK;
	/* a size column's label: 4K 2M 1G, or 16K 32M 64G with 16K pages */
	if (!mt_parse_size(s, len, &size))
		return size ? size : MEMTRACE_F_SIZE_MASK;	/* a page: none of the huge sizes */
	for (unsigned int i = 0; i < mt_nflag_names; i++)
		if (strlen(mt_flag_names[i]) == len && !memcmp(s, mt_flag_names[i], len))
			return 1U << i;
	return 0;
}

/*
 * "2M,x,-w": flags a page must have, and with '-' (or '~', as page-types
 * says it) flags it must not have. 4K is "neither 2M nor 1G".
 */
int mt_filter_flags(struct mt_filter *f, const char *arg, char *err, size_t errlen)
{
	const char *p = arg;

	do {
		size_t len = strcspn(p, ",");
		bool neg = len && (*p == '-' || *p == '~');
		uint32_t bit = flag_of(p + neg, len - neg);

		if (!bit)
			return bad(err, errlen, "--flags: unknown flag '%.*s' (a f s p h w d y x, "
				   "4K 2M 1G, or their names; -FLAG: not set)", (int)len, p);
		if (bit == MEMTRACE_F_SIZE_MASK && neg)
			return bad(err, errlen, "--flags: '%.*s': say 2M or 1G", (int)len, p);
		if (bit == MEMTRACE_F_SIZE_MASK || neg)
			f->clear |= bit;
		else
			f->set |= bit;
		p += len;
	} while (*p++ == ',');
	if (f->set & f->clear)
		return bad(err, errlen, "--flags: '%s' asks for a flag both set and not set", arg);
	f->active = true;
	return 0;
}

bool mt_filter_match(const struct mt_filter *f, int state, uint32_t flags)
{
	if (!f || !f->active)
		return true;
	if (f->states && !(f->states & (1U << state)))
		return false;
	return (flags & f->set) == f->set && !(flags & f->clear);
}

/* pages of record r (at most r->pages) into the totals */
void mt_totals_add(struct mt_totals *t, const struct mt_record *r, uint64_t pages)
{
	t->pages += pages;
	t->state[r->state] += pages;
	if (r->state != MEMTRACE_PRESENT)
		return;
	if (r->node >= 0 && r->node < MT_TOTALS_NODES)
		t->node[r->node] += pages;
	else
		t->node_other += pages;
	if (r->flags & MEMTRACE_F_HUGETLB)
		t->hugetlb += pages;
	else if (r->flags & MEMTRACE_F_SIZE_MASK)
		t->thp += pages;
	if (r->flags & MEMTRACE_F_EXCL)
		t->excl += pages;
	else
		t->shared += pages;
}
