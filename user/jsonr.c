// SPDX-License-Identifier: GPL-2.0
/*
 * A strict JSON reader (RFC 8259) for the files memtrace reads back, its
 * snapshots: the document as a tree of values. Any byte that is not JSON is
 * an error with its line; nesting is bounded, so hostile input costs memory
 * in proportion to its size and never the stack.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mt.h"

#define DEPTH_MAX 32

struct reader {
	const char *p, *start, *end;
	char *err;
	size_t errlen;
};

static int fail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct reader *r, const char *fmt, ...)
{
	unsigned int line = 1;
	size_t n;
	va_list ap;

	for (const char *q = r->start; q < r->p; q++)
		line += *q == '\n';
	n = (size_t)snprintf(r->err, r->errlen, "line %u: ", line);
	if (n < r->errlen) {
		va_start(ap, fmt);
		vsnprintf(r->err + n, r->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void skip_ws(struct reader *r)
{
	while (r->p < r->end && strchr(" \t\r\n", *r->p) && *r->p)
		r->p++;
}

static bool word(struct reader *r, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n))
		return false;
	r->p += n;
	return true;
}

static int hex4(struct reader *r, unsigned int *cp)
{
	*cp = 0;
	for (int i = 0; i < 4; i++, r->p++) {
		char c = r->p < r->end ? *r->p : 0;

		if (c >= '0' && c <= '9')
			*cp = *cp << 4 | (unsigned int)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			*cp = *cp << 4 | (unsigned int)((c | 0x20) - 'a' + 10);
		else
			return fail(r, "bad \\u escape");
	}
	return 0;
}

static char *put_utf8(char *o, unsigned int cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

/* \uXXXX, or a surrogate pair of them; r->p after the 'u' */
static int unicode(struct reader *r, char **o)
{
	unsigned int cp, lo;

	if (hex4(r, &cp))
		return -EINVAL;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (!word(r, "\\u") || hex4(r, &lo) || lo < 0xdc00 || lo > 0xdfff)
			return fail(r, "unpaired surrogate in \\u escape");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	} else if ((cp >= 0xdc00 && cp <= 0xdfff) || !cp) {
		return fail(r, cp ? "unpaired surrogate in \\u escape" : "\\u0000 in a string");
	}
	*o = put_utf8(*o, cp);
	return 0;
}

/* A string at r->p (its opening quote), unescaped into *out. */
static int read_string(struct reader *r, char **out)
{
	static const char esc[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	char *o = mt_xmalloc((size_t)(r->end - r->p) + 1);	/* never grows */

	*out = o;
	for (r->p++; r->p < r->end && *r->p != '"'; ) {
		unsigned char c = (unsigned char)*r->p++;
		const char *e;

		if (c < 0x20)
			return fail(r, "control character in a string");
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		if (r->p == r->end)
			break;
		if (*r->p == 'u') {
			r->p++;
			if (unicode(r, &o))
				return -EINVAL;
			continue;
		}
		for (e = esc; *e && *e != *r->p; e += 2)
			;
		if (!*e)
			return fail(r, "bad escape '\\%c'", *r->p);
		*o++ = e[1];
		r->p++;
	}
	*o = '\0';
	if (r->p == r->end)
		return fail(r, "unterminated string");
	r->p++;
	return 0;
}

static int read_number(struct reader *r, struct mt_jval *v)
{
	const char *s = r->p;

	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0')
		r->p++;
	else if (r->p < r->end && *r->p >= '1' && *r->p <= '9')
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	else
		return fail(r, "unexpected '%c'", r->p < r->end ? *r->p : '?');
	if (r->p < r->end && strchr(".eE", *r->p) && *r->p)
		return fail(r, "a number that is not an integer");
	v->type = MT_J_NUM;
	v->s = mt_xmalloc((size_t)(r->p - s) + 1);
	memcpy(v->s, s, (size_t)(r->p - s));
	v->s[r->p - s] = '\0';
	return 0;
}

static int value(struct reader *r, struct mt_jval *v, int depth);

/* The elements of an array or the members of an object, r->p after its '[' or '{' */
static int members(struct reader *r, struct mt_jval *v, bool obj, int depth)
{
	size_t cap = 0;
	char close = obj ? '}' : ']';

	skip_ws(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		return 0;
	}
	for (;;) {
		struct mt_jval *m;

		if (v->n == cap) {
			cap = cap ? cap * 2 : 8;
			v->v = mt_xrealloc(v->v, cap * sizeof(*v->v));
		}
		m = memset(&v->v[v->n++], 0, sizeof(*m));
		skip_ws(r);
		if (obj && (r->p == r->end || *r->p != '"'))
			return fail(r, "expected a member name");
		if (obj && read_string(r, &m->key))
			return -EINVAL;
		skip_ws(r);
		if (obj && (r->p == r->end || *r->p++ != ':'))
			return fail(r, "expected ':'");
		if (value(r, m, depth + 1))
			return -EINVAL;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == close) {
			r->p++;
			return 0;
		}
		return fail(r, r->p == r->end ? "unexpected end of file" : "expected ',' or '%c'",
			    close);
	}
}

static int value(struct reader *r, struct mt_jval *v, int depth)
{
	skip_ws(r);
	if (depth > DEPTH_MAX)
		return fail(r, "nested more than %d deep", DEPTH_MAX);
	if (r->p == r->end)
		return fail(r, "unexpected end of file");
	switch (*r->p) {
	case '{':
	case '[':
		v->type = *r->p == '{' ? MT_J_OBJ : MT_J_ARR;
		r->p++;
		return members(r, v, v->type == MT_J_OBJ, depth);
	case '"':
		v->type = MT_J_STR;
		return read_string(r, &v->s);
	}
	if (word(r, "true") || word(r, "false")) {
		v->type = MT_J_BOOL;
		v->b = r->p[-1] == 'e' && r->p[-2] == 'u';
		return 0;
	}
	if (word(r, "null")) {
		v->type = MT_J_NULL;
		return 0;
	}
	return read_number(r, v);
}

int mt_json_parse(const char *buf, size_t len, struct mt_jval *out, char *err, size_t errlen)
{
	struct reader r = { .p = buf, .start = buf, .end = buf + len, .err = err,
			    .errlen = errlen };

	memset(out, 0, sizeof(*out));
	if (value(&r, out, 0))
		goto bad;
	skip_ws(&r);
	if (r.p != r.end) {
		fail(&r, "more after the document");
		goto bad;
	}
	return 0;
bad:
	mt_json_free(out);
	return -EINVAL;
}

void mt_json_free(struct mt_jval *v)
{
	for (size_t i = 0; i < v->n; i++)
		mt_json_free(&v->v[i]);
	free(v->v);
	free(v->key);
	free(v->s);
	memset(v, 0, sizeof(*v));
}

/* The member of object o named key, NULL if none (or o is not an object) */
const struct mt_jval *mt_json_get(const struct mt_jval *o, const char *key)
{
	for (size_t i = 0; o && o->type == MT_J_OBJ && i < o->n; i++)
		if (!strcmp(o->v[i].key, key))
			return &o->v[i];
	return NULL;
}
