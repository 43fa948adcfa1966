// SPDX-License-Identifier: GPL-2.0
/*
 * Reading a snapshot back (snapshot.c writes them): the JSON document
 * (jsonr.c), then every member checked as strictly as the module's answer
 * is (answer.c): the records must tile [start, end) and add up to the
 * summary. A file that is not a snapshot, of another format version, or
 * cut short, is refused with the reason in err.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

struct ctx {
	char *err;
	size_t errlen;
	const char *what;	/* "record 3", "maps line 2", or "" */
};

static int bad(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct ctx *c, const char *fmt, ...)
{
	size_t n = (size_t)snprintf(c->err, c->errlen, "%s%s", c->what, *c->what ? ": " : "");
	va_list ap;

	if (n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static const char *str(struct ctx *c, const struct mt_jval *o, const char *key)
{
	const struct mt_jval *v = mt_json_get(o, key);

	if (!v || v->type != MT_J_STR) {
		bad(c, "'%s' %s", key, v ? "is not a string" : "is missing");
		return NULL;
	}
	return v->s;
}

/* An integer member, unsigned (or -1 and up with neg) */
static int num(struct ctx *c, const struct mt_jval *o, const char *key, bool neg,
	       long long *out)
{
	const struct mt_jval *v = mt_json_get(o, key);
	uint64_t u;
	bool minus;

	if (!v || v->type != MT_J_NUM)
		return bad(c, "'%s' %s", key, v ? "is not a number" : "is missing");
	minus = v->s[0] == '-';
	if (mt_parse_u64(v->s + minus, strlen(v->s + minus), &u) || u > INT64_MAX ||
	    (minus && (!neg || u > 1)))
		return bad(c, "'%s' is out of range: %s", key, v->s);
	*out = minus ? -(long long)u : (long long)u;
	return 0;
}

static int hex(struct ctx *c, const struct mt_jval *o, const char *key, uint64_t *out)
{
	const char *s = str(c, o, key);

	if (!s)
		return -EINVAL;
	if (strncmp(s, "0x", 2) || mt_parse_u64(s, strlen(s), out))
		return bad(c, "'%s' is not a 0x number: '%s'", key, s);
	return 0;
}

static int read_record(struct ctx *c, const struct mt_jval *o, struct mt_record *r)
{
	const char *state, *size, *flags;
	long long pages, node;

	if (o->type != MT_J_OBJ)
		return bad(c, "not an object");
	if (hex(c, o, "addr", &r->addr) || num(c, o, "pages", false, &pages) ||
	    hex(c, o, "pfn", &r->pfn) || num(c, o, "node", true, &node))
		return -EINVAL;
	state = str(c, o, "state");
	size = state ? str(c, o, "size") : NULL;
	flags = size ? str(c, o, "flags") : NULL;
	if (!flags)
		return -EINVAL;
	r->pages = (uint64_t)pages;
	r->node = (int)node;
	r->state = mt_state_from_name(state, strlen(state));
	if (r->state < 0)
		return bad(c, "unknown state '%s'", state);
	if (!pages)
		return bad(c, "no pages");
	if (mt_parse_flags(flags, strlen(flags), &r->flags))
		return bad(c, "bad flags '%s'", flags);
	if (mt_parse_size(size, strlen(size), &r->flags))
		return bad(c, "bad size '%s'", size);
	return 0;
}

/* The records: they tile [start, end) and add up to the summary. */
static int read_records(struct ctx *c, const struct mt_jval *a, struct mt_snap *s)
{
	uint64_t next = s->hdr.start, ps = s->hdr.page_size;
	struct mt_summary tally = { 0 };
	char what[32];

	if (!a || a->type != MT_J_ARR)
		return bad(c, "'records' %s", a ? "is not an array" : "is missing");
	c->what = what;
	for (size_t i = 0; i < a->n; i++) {
		struct mt_record r;

		snprintf(what, sizeof(what), "record %zu", i + 1);
		if (read_record(c, &a->v[i], &r))
			return -EINVAL;
		if (r.addr != next || r.pages > (s->hdr.end - next) / ps)
			return bad(c, "0x%llx+%llu pages: not where the last record ended "
				   "(0x%llx), or past the end", (unsigned long long)r.addr,
				   (unsigned long long)r.pages, (unsigned long long)next);
		next += r.pages * ps;
		tally.pages += r.pages;
		tally.count[r.state] += r.pages;
		mt_snap_add(&s->hdr, &r, s);
	}
	c->what = "";
	if (next != s->hdr.end)
		return bad(c, "the records end at 0x%llx, not at 'end' (cut short?)",
			   (unsigned long long)next);
	if (memcmp(&tally, &s->sum, sizeof(tally)))
		return bad(c, "'summary' does not add up the records");
	return 0;
}

static int read_summary(struct ctx *c, const struct mt_jval *o, struct mt_summary *sum)
{
	long long v;

	if (!o || o->type != MT_J_OBJ)
		return bad(c, "'summary' %s", o ? "is not an object" : "is missing");
	if (num(c, o, "pages", false, &v))
		return -EINVAL;
	sum->pages = (uint64_t)v;
	for (int i = 0; i < MEMTRACE_NSTATES; i++) {
		if (num(c, o, mt_state_names[i], false, &v))
			return -EINVAL;
		sum->count[i] = (uint64_t)v;
	}
	return 0;
}

static int read_map(struct ctx *c, const struct mt_jval *o, struct mt_map *m)
{
	const char *perms, *dev, *name;
	long long inode;

	if (o->type != MT_J_OBJ)
		return bad(c, "not an object");
	if (hex(c, o, "start", &m->start) || hex(c, o, "end", &m->end) ||
	    hex(c, o, "offset", &m->offset) || num(c, o, "inode", false, &inode))
		return -EINVAL;
	perms = str(c, o, "perms");
	dev = perms ? str(c, o, "dev") : NULL;
	name = dev ? str(c, o, "name") : NULL;
	if (!name)
		return -EINVAL;
	if (m->end <= m->start)
		return bad(c, "end 0x%llx is not above start", (unsigned long long)m->end);
	if (strlen(perms) != 4 || strlen(dev) >= sizeof(m->dev))
		return bad(c, "bad perms or dev");
	m->inode = (uint64_t)inode;
	memcpy(m->perms, perms, 5);
	strcpy(m->dev, dev);
	m->name = name;		/* lives in the snapshot's document */
	return 0;
}

static int read_maps(struct ctx *c, const struct mt_jval *a, struct mt_maps *maps)
{
	char what[32];

	if (!a || a->type != MT_J_ARR)
		return bad(c, "'maps' %s", a ? "is not an array" : "is missing");
	maps->v = mt_xmalloc((a->n ? a->n : 1) * sizeof(*maps->v));
	c->what = what;
	for (size_t i = 0; i < a->n; i++) {
		snprintf(what, sizeof(what), "maps line %zu", i + 1);
		if (read_map(c, &a->v[i], &maps->v[i]))
			return -EINVAL;
		if (i && maps->v[i].start < maps->v[i - 1].end)
			return bad(c, "overlaps the line before");
		maps->n++;
	}
	c->what = "";
	return 0;
}

/* What a snapshot is: its format and version, first, then the query's frame. */
static int read_frame(struct ctx *c, const struct mt_jval *d, struct mt_snap *s)
{
	const char *fmt = str(c, d, MT_SNAP_FORMAT_KEY), *mode, *time, *range;
	long long v, pid, ps;

	if (!fmt || strcmp(fmt, MT_SNAP_FORMAT))
		return bad(c, "not a memtrace snapshot (no \"format\":\"%s\")", MT_SNAP_FORMAT);
	if (num(c, d, "format_version", false, &v))
		return -EINVAL;
	if (v != MT_SNAP_VERSION)
		return bad(c, "format version %lld: this memtrace reads version %d", v,
			   MT_SNAP_VERSION);
	if (num(c, d, "pid", false, &pid) || num(c, d, "page_size", false, &ps) ||
	    hex(c, d, "start", &s->hdr.start) || hex(c, d, "end", &s->hdr.end))
		return -EINVAL;
	mode = str(c, d, "mode");
	time = mode ? str(c, d, "time") : NULL;
	range = time ? str(c, d, "range") : NULL;
	if (!range)
		return -EINVAL;
	if (ps < 512 || ps > (1LL << 30) || (ps & (ps - 1)))
		return bad(c, "bad page_size %lld", ps);
	if (!pid || pid > 0x3fffffff || s->hdr.end <= s->hdr.start ||
	    (s->hdr.start | s->hdr.end) & (uint64_t)(ps - 1))
		return bad(c, "bad pid, or start and end not pages in order");
	s->hdr.pid = (long)pid;
	s->hdr.page_size = (unsigned int)ps;
	s->hdr.mode = !strcmp(mode, "pages") ? MEMTRACE_MODE_PAGES : MEMTRACE_MODE_RUNS;
	if (strcmp(mode, mt_mode_names[s->hdr.mode]))
		return bad(c, "bad mode '%s'", mode);
	snprintf(s->time, sizeof(s->time), "%s", time);
	s->range = mt_xstrdup(range);
	return 0;
}

static int read_doc(struct ctx *c, const struct mt_jval *d, struct mt_snap *s)
{
	const struct mt_jval *rss = mt_json_get(d, "rss_kbytes");

	if (d->type != MT_J_OBJ)
		return bad(c, "not a memtrace snapshot (not a JSON object)");
	if (read_frame(c, d, s) || read_summary(c, mt_json_get(d, "summary"), &s->sum) ||
	    read_records(c, mt_json_get(d, "records"), s) ||
	    read_maps(c, mt_json_get(d, "maps"), &s->maps))
		return -EINVAL;
	s->rss_kb = -1;
	if (rss && rss->type != MT_J_NULL) {
		long long v;

		if (num(c, d, "rss_kbytes", false, &v))
			return -EINVAL;
		s->rss_kb = v;
	}
	return 0;
}

/* A snapshot from its text; s is freed on failure. */
int mt_snap_parse(const char *buf, size_t len, struct mt_snap *s, char *err, size_t errlen)
{
	struct ctx c = { .err = err, .errlen = errlen, .what = "" };

	memset(s, 0, sizeof(*s));
	if (!len)
		return bad(&c, "empty file");
	s->doc = mt_xmalloc(sizeof(*s->doc));
	if (mt_json_parse(buf, len, s->doc, err, errlen)) {
		free(s->doc);
		s->doc = NULL;
		return -EINVAL;
	}
	if (read_doc(&c, s->doc, s)) {
		mt_snap_free(s);
		return -EINVAL;
	}
	return 0;
}

/* FILE, or standard input for "-"; err says why not (with the file's name). */
int mt_snap_read(const char *path, struct mt_snap *s, char *err, size_t errlen)
{
	char why[MT_ERR_MAX];
	size_t len;
	char *buf;
	int ret;

	memset(s, 0, sizeof(*s));
	ret = mt_read_file(strcmp(path, "-") ? path : "/dev/stdin", &buf, &len);
	if (ret) {
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = -EINVAL;
	if (strlen(buf) != len)
		snprintf(why, sizeof(why), "a NUL byte: not a memtrace snapshot");
	else
		ret = mt_snap_parse(buf, len, s, why, sizeof(why));
	free(buf);
	if (ret)
		snprintf(err, errlen, "%s: %s", path, why);
	return ret ? -EINVAL : 0;
}
