// SPDX-License-Identifier: GPL-2.0
/*
 * RANGE arguments and /proc/PID/maps.
 *
 *   RANGE := START-END | START+LEN | all | NAME
 *
 * START, END: decimal or 0x hex. LEN may end in K, M or G (binary units).
 * START-END as /proc/PID/maps prints it (bare hex, 8 to 16 digits each:
 * "7f612eb7d000-7f612eb85000") is hex. Otherwise a RANGE that starts with
 * a digit is numeric (and junk is an error); any other word but "all" names
 * a mapping of /proc/PID/maps: "[heap]", "[stack]", a path, or the base
 * name of a path ("libc.so.6").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mt.h"

static int rfail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int rfail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int parse_len(const char *s, size_t len, uint64_t *out)
{
	unsigned int shift = 0;
	uint64_t v;
	int ret;

	if (len > 1 && !(len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))) {
		switch (s[len - 1]) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		}
		if (shift)
			len--;
	}
	ret = mt_parse_u64(s, len, &v);
	if (ret)
		return ret;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

/* Hex without 0x, as /proc/PID/maps prints its numbers: 1 to 16 digits. */
static int bare_hex(const char *s, size_t n, uint64_t *v)
{
	char tmp[2 + 16];

	if (!n || n > 16)
		return -EINVAL;
	tmp[0] = '0';
	tmp[1] = 'x';
	memcpy(tmp + 2, s, n);
	return mt_parse_u64(tmp, n + 2, v) ? -EINVAL : 0;
}

/* An address as /proc/PID/maps prints it (%08lx): at least 8 digits. */
static int maps_hex(const char *s, size_t n, uint64_t *v)
{
	return n < 8 ? -EINVAL : bare_hex(s, n, v);
}

int mt_range_parse(const char *s, struct mt_range *r, char *err, size_t errlen)
{
	size_t sep;
	uint64_t a, b;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!s || !*s)
		return rfail(err, errlen, "empty range");
	if (!strcmp(s, "all")) {
		r->kind = MT_RANGE_ALL;
		return 0;
	}
	if (s[0] == '-' || s[0] == '+')
		return rfail(err, errlen, "range '%s': missing start", s);
	sep = strcspn(s, "-");
	if (s[sep] && !maps_hex(s, sep, &a) && !maps_hex(s + sep + 1, strlen(s + sep + 1), &b)) {
		if (b <= a)
			return rfail(err, errlen, "range '%s': end must be above start", s);
		goto span;
	}
	if (s[0] < '0' || s[0] > '9') {
		r->kind = MT_RANGE_NAME;
		r->name = s;
		return 0;
	}
	sep = strcspn(s, "-+");
	if (!s[sep])
		return rfail(err, errlen, "range '%s': expected START-END or START+LEN", s);
	ret = mt_parse_u64(s, sep, &a);
	if (ret == -ERANGE)
		return rfail(err, errlen, "range '%s': start does not fit in 64 bits", s);
	if (ret)
		return rfail(err, errlen, "range '%s': bad start '%.*s'", s, (int)sep, s);
	if (!s[sep + 1])
		return rfail(err, errlen, "range '%s': missing %s", s,
			     s[sep] == '-' ? "end" : "length");
	if (s[sep] == '-') {
		ret = mt_parse_u64(s + sep + 1, strlen(s + sep + 1), &b);
		if (ret == -ERANGE)
			return rfail(err, errlen, "range '%s': end does not fit in 64 bits", s);
		if (ret)
			return rfail(err, errlen, "range '%s': bad end '%s'", s, s + sep + 1);
		if (b <= a)
			return rfail(err, errlen, "range '%s': end must be above start", s);
	} else {
		uint64_t len;

		ret = parse_len(s + sep + 1, strlen(s + sep + 1), &len);
		if (ret == -ERANGE)
			return rfail(err, errlen, "range '%s': length does not fit in 64 bits", s);
		if (ret)
			return rfail(err, errlen, "range '%s': bad length '%s'", s, s + sep + 1);
		if (!len)
			return rfail(err, errlen, "range '%s': empty (length 0)", s);
		if (a > UINT64_MAX - len)
			return rfail(err, errlen, "range '%s': start + length overflows", s);
		b = a + len;
	}
span:
	r->kind = MT_RANGE_SPAN;
	r->start = a;
	r->end = b;
	return 0;
}

/* A field of a maps line up to stop: bare hex */
static int hexfield(char **p, char stop, uint64_t *v)
{
	char *e = strchr(*p, stop);

	if (!e || bare_hex(*p, (size_t)(e - *p), v))
		return -EINVAL;
	*p = e + 1;
	return 0;
}

/*
 * "start-end perms offset dev inode   pathname"; pathname may be empty and
 * may contain spaces. Parsed in place; m->name points into line.
 */
int mt_maps_parse_line(char *line, struct mt_map *m)
{
	char *p = line, *e;
	uint64_t v;

	memset(m, 0, sizeof(*m));
	if (hexfield(&p, '-', &m->start) || hexfield(&p, ' ', &m->end) || m->end <= m->start)
		return -EINVAL;
	if (strlen(p) < 5 || p[4] != ' ')
		return -EINVAL;
	memcpy(m->perms, p, 4);
	m->perms[4] = '\0';
	p += 5;
	if (hexfield(&p, ' ', &m->offset))
		return -EINVAL;
	e = strchr(p, ' ');
	if (!e || (size_t)(e - p) >= sizeof(m->dev) || e == p)
		return -EINVAL;
	memcpy(m->dev, p, (size_t)(e - p));
	m->dev[e - p] = '\0';
	p = e + 1;
	e = p + strcspn(p, " ");
	if (mt_parse_u64(p, (size_t)(e - p), &v))
		return -EINVAL;
	m->inode = v;
	while (*e == ' ')
		e++;
	m->name = e;
	return 0;
}

int mt_maps_parse(char *buf, struct mt_maps *maps)
{
	size_t cap = 0;
	char *line = buf;

	memset(maps, 0, sizeof(*maps));
	maps->buf = buf;
	while (*line) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (maps->n == cap) {
			cap = cap ? cap * 2 : 64;
			maps->v = mt_xrealloc(maps->v, cap * sizeof(*maps->v));
		}
		if (mt_maps_parse_line(line, &maps->v[maps->n]))
			return -EINVAL;
		if (maps->n && maps->v[maps->n].start < maps->v[maps->n - 1].end)
			return -EINVAL;
		maps->n++;
		if (!nl)
			break;
		line = nl + 1;
	}
	return 0;
}

int mt_maps_read(long pid, struct mt_maps *maps)
{
	char path[64], *buf;
	int ret;

	memset(maps, 0, sizeof(*maps));
	if (pid)
		snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/maps");
	ret = mt_read_file(path, &buf, NULL);
	if (ret)
		return ret;
	ret = mt_maps_parse(buf, maps);
	if (ret)
		mt_maps_free(maps);
	return ret;
}

void mt_maps_free(struct mt_maps *maps)
{
	free(maps->v);
	free(maps->buf);
	memset(maps, 0, sizeof(*maps));
}

/* Exact name, name + " (deleted)", or the base name of a path. */
bool mt_map_matches(const struct mt_map *m, const char *name)
{
	static const char deleted[] = " (deleted)";
	size_t nl = strlen(name), ml = strlen(m->name);
	const char *base;

	if (!nl || !ml)
		return false;
	if (!strcmp(m->name, name))
		return true;
	if (ml == nl + sizeof(deleted) - 1 && !strncmp(m->name, name, nl) &&
	    !strcmp(m->name + nl, deleted))
		return true;
	if (strchr(name, '/') || m->name[0] != '/')
		return false;
	base = strrchr(m->name, '/') + 1;
	if (!strcmp(base, name))
		return true;
	ml = strlen(base);
	return ml == nl + sizeof(deleted) - 1 && !strncmp(base, name, nl) &&
	       !strcmp(base + nl, deleted);
}

ssize_t mt_maps_lookup(const struct mt_maps *maps, uint64_t addr)
{
	size_t lo = 0, hi = maps->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < maps->v[mid].start)
			hi = mid;
		else if (addr >= maps->v[mid].end)
			lo = mid + 1;
		else
			return (ssize_t)mid;
	}
	return -1;
}

bool mt_maps_overlap(const struct mt_maps *maps, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < maps->n; i++)
		if (maps->v[i].start < end && start < maps->v[i].end)
			return true;
	return false;
}

int mt_maps_find(const struct mt_maps *maps, const char *name, size_t *first, size_t *last)
{
	bool found = false;

	for (size_t i = 0; i < maps->n; i++) {
		if (!mt_map_matches(&maps->v[i], name))
			continue;
		if (!found)
			*first = i;
		*last = i;
		found = true;
	}
	return found ? 0 : -ENOENT;
}
