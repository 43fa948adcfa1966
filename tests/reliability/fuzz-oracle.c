// SPDX-License-Identifier: GPL-2.0
/*
 * rel-fuzz: the /proc oracle, the contract's grammar: which outcomes a line
 * written to /proc/memtrace may have.
 */
#include "fuzz.h"

unsigned int fz_xbit(int err)
{
	switch (err) {
	case 0: return XS_OK;
	case EINVAL: return XS_EINVAL;
	case ERANGE: return XS_ERANGE;
	case E2BIG: return XS_E2BIG;
	case ESRCH: return XS_ESRCH;
	case EACCES: return XS_EACCES;
	}
	return 0;
}

const char *fz_xnames(unsigned int m)
{
	static char s[96];
	static const char *const n[] = { "ok", "EINVAL", "ERANGE", "E2BIG", "ESRCH", "EACCES" };

	s[0] = '\0';
	for (int i = 0; i < 6; i++)
		if (m & (1U << i))
			snprintf(s + strlen(s), sizeof(s) - strlen(s), "%s%s", s[0] ? "|" : "", n[i]);
	return s;
}

/* ---- the oracle: the contract's grammar ---- */

/*
 * 0: a number by the grammar, 1: not one, 2: one that overflows u64.
 * With kstrtoull set, the module's reading instead (kstrtoull after its own
 * 0x test): one '+' sign, then for hex another 0x, both accepted; digits are
 * read up to the first non-digit and an overflow among them wins over what
 * follows. This is the "known deviation" model, see grammar_cases().
 */
static bool kstrtoull_model;

static int num(const char *t, uint64_t *v)
{
	int base = 10;
	unsigned __int128 x = 0;
	bool over = false;

	if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
		base = 16;
		t += 2;
	}
	if (kstrtoull_model) {
		if (*t == '+')
			t++;
		if (base == 16 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
			t += 2;
		if (!*t)
			return 1;
		for (; *t; t++) {
			int d;

			if (*t >= '0' && *t <= '9')
				d = *t - '0';
			else if (base == 16 && *t >= 'a' && *t <= 'f')
				d = *t - 'a' + 10;
			else if (base == 16 && *t >= 'A' && *t <= 'F')
				d = *t - 'A' + 10;
			else
				break;
			x = x * base + d;
			if (x > UINT64_MAX) {
				over = true;
				x = UINT64_MAX;
			}
		}
		*v = (uint64_t)x;
		if (over)
			return 2;
		return *t ? 1 : 0;
	}
	if (!*t)
		return 1;
	for (; *t; t++) {
		int d;

		if (*t >= '0' && *t <= '9')
			d = *t - '0';
		else if (base == 16 && *t >= 'a' && *t <= 'f')
			d = *t - 'a' + 10;
		else if (base == 16 && *t >= 'A' && *t <= 'F')
			d = *t - 'A' + 10;
		else
			return 1;
		x = x * base + d;
		if (x > UINT64_MAX) {
			over = true;
			x = UINT64_MAX;
		}
	}
	*v = (uint64_t)x;
	return over ? 2 : 0;
}

/* What querying pid v may give, for this process. */
unsigned int fz_target(uint64_t v)
{
	if (v == 0 || v > RL_PID_MAX_LIMIT || v == 2 || v == (uint64_t)fz_dead_pid)
		return XS_ESRCH;
	if (v == (uint64_t)fz_self)
		return XS_OK;
	if (v == 1 || v == (uint64_t)fz_parent_pid)
		return fz_is_root ? XS_OK : XS_EACCES;
	return XS_OK | XS_ESRCH | XS_EACCES;
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n'; }

static struct expect oracle1(const char *buf, size_t len)
{
	struct expect x = { 0 };
	char line[MEMTRACE_QUERY_MAX + 1], *tok[64], *p;
	unsigned int v = 0, t = 0;
	bool lax = false, amb = false, whole = false, range_ok = true;
	uint64_t pid, start = 0, end = 0, l;
	int n = 0, rest, r;
	size_t i;

	if (len > MEMTRACE_QUERY_MAX) {
		x.allowed = XS_E2BIG;
		return x;
	}
	if (!len || memchr(buf, '\0', len)) {
		x.allowed = XS_EINVAL;
		return x;
	}
	memcpy(line, buf, len);
	line[len] = '\0';
	/* strict layout: TOKEN([ \t]+TOKEN)*[ \t]*\n? ; anything else may be EINVAL */
	if (is_ws(line[0]))
		lax = true;
	for (i = 0; i < len; i++)
		if (line[i] == '\n' && i != len - 1)
			lax = true;
	for (p = line; *p;) {
		while (*p && is_ws(*p))
			*p++ = '\0';
		if (!*p)
			break;
		if (n < 64)
			tok[n++] = p;
		while (*p && !is_ws(*p))
			p++;
	}
	if (n < 2) {
		x.allowed = XS_EINVAL;
		return x;
	}
	r = num(tok[0], &pid);
	if (r == 1)
		v |= XS_EINVAL;
	else if (r == 2)
		v |= XS_ESRCH | XS_ERANGE | XS_EINVAL;
	else
		t = fz_target(pid);

	if (!strcmp(tok[1], "all")) {
		whole = true;
		rest = 2;
	} else if (n < 3) {
		v |= XS_EINVAL;
		range_ok = false;
		rest = n;
	} else {
		rest = 3;
		r = num(tok[1], &start);
		if (r) {
			v |= r == 1 ? XS_EINVAL : XS_ERANGE | XS_EINVAL;
			range_ok = false;
		}
		if (tok[2][0] == '+') {
			r = num(tok[2] + 1, &l);
			if (r) {
				v |= r == 1 ? XS_EINVAL : XS_ERANGE | XS_EINVAL;
				range_ok = false;
			} else if (range_ok && __builtin_add_overflow(start, l, &end)) {
				v |= XS_ERANGE;
				range_ok = false;
			}
		} else {
			r = num(tok[2], &end);
			if (r) {
				v |= r == 1 ? XS_EINVAL : XS_ERANGE | XS_EINVAL;
				range_ok = false;
			}
		}
	}
	x.mode = MEMTRACE_MODE_RUNS;
	if (n > rest) {
		if (!strcmp(tok[rest], "pages"))
			x.mode = MEMTRACE_MODE_PAGES;
		else if (strcmp(tok[rest], "runs"))
			v |= XS_EINVAL;
		if (n > rest + 1)
			v |= XS_EINVAL;
	}
	if (whole) {
		x.start = 0;
		x.end = fz_ts;
	} else if (range_ok) {
		if (start >= fz_ts)
			v |= XS_ERANGE;
		if (end > fz_ts)
			v |= XS_ERANGE;
		if (start < fz_ts && end <= fz_ts) {
			x.start = start & ~(RL_PAGE - 1);
			x.end = (end + RL_PAGE - 1) & ~(RL_PAGE - 1);
			if (x.end <= x.start)
				v |= XS_EINVAL;
			else if (end <= start)
				amb = true;	/* END <= START before rounding: either reading */
		}
	}
	x.pid = (int)pid;
	if (!v)
		x.allowed = t | (lax || amb ? XS_EINVAL : 0);
	else
		x.allowed = v | (t & ~XS_OK);
	return x;
}

/* The contract's allowed outcomes, and the module's kstrtoull reading's. */
struct expect fz_oracle(const char *buf, size_t len, struct expect *lenient)
{
	struct expect x = oracle1(buf, len);

	kstrtoull_model = true;
	*lenient = oracle1(buf, len);
	kstrtoull_model = false;
	return x;
}

/* ---- query generation ---- */
