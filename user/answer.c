// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing the text answer of /proc/memtrace (see kmod/uapi/memtrace.h):
 *
 *   # memtrace pid=P start=0x... end=0x... page_size=4096 mode=runs|pages
 *   # addr	pages	state	size	flags	pfn	node
 *   ADDR	PAGES	STATE	SIZE	FLAGS	PFN	NODE
 *   # summary pages=N unmapped=N none=N zero=N present=N swap=N migration=N other=N
 *
 * Strict: every record must follow the previous one without a gap or an
 * overlap, lie in [start, end), and the summary must match the records.
 * Anything else is a malformed answer (-EPROTO), never silently skipped.
 * The parser is fed arbitrary chunks and never allocates.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "mt.h"

const char *const mt_state_names[MEMTRACE_NSTATES_ALL] = MEMTRACE_STATE_NAMES_ALL;

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EPROTO;
}

int mt_state_from_name(const char *s, size_t len)
{
	for (int i = 0; i < MEMTRACE_NSTATES_ALL; i++)
		if (strlen(mt_state_names[i]) == len && !memcmp(s, mt_state_names[i], len))
			return i;
	return -1;
}

static uint32_t letter_flag(char c)
{
	static const uint32_t bits[] = { MEMTRACE_F_HUGETLB, MEMTRACE_F_WRITE,
					 MEMTRACE_F_DIRTY, MEMTRACE_F_YOUNG,
					 MEMTRACE_F_EXCL, MEMTRACE_F_WRITEBACK };
	const char *p = c ? strchr(MEMTRACE_FLAG_LETTERS_CACHED, c) : NULL;

	if (!p || (size_t)(p - MEMTRACE_FLAG_LETTERS_CACHED) >= sizeof(bits) / sizeof(bits[0]))
		return 0;
	return bits[p - MEMTRACE_FLAG_LETTERS_CACHED];
}

/*
 * The flags word: the kind (a, f, s, p or -) first, then the letters of
 * MEMTRACE_FLAG_LETTERS in order, '-' where unset. Letters are decoded by
 * identity so that a word padded with extra '-' still parses; a letter out
 * of order, repeated or unknown is an error.
 */
int mt_parse_flags(const char *s, size_t len, uint32_t *flags)
{
	uint32_t f = 0;
	int last = -1;

	if (len < 1 || len > MEMTRACE_FLAGS_WIDTH + 2)
		return -EINVAL;
	if (s[0] != '-') {
		const char *k = strchr(MEMTRACE_KIND_LETTERS, s[0]);

		if (!s[0] || !k)
			return -EINVAL;
		f |= MEMTRACE_F_ANON << (k - MEMTRACE_KIND_LETTERS);
	}
	for (size_t i = 1; i < len; i++) {
		uint32_t bit;
		int pos;

		if (s[i] == '-')
			continue;
		bit = letter_flag(s[i]);
		if (!bit)
			return -EINVAL;
		pos = (int)(strchr(MEMTRACE_FLAG_LETTERS_CACHED, s[i]) -
			    MEMTRACE_FLAG_LETTERS_CACHED);
		if (pos <= last)
			return -EINVAL;
		last = pos;
		f |= bit;
	}
	*flags = f;
	return 0;
}

void mt_format_flags(uint32_t flags, char out[MT_FLAGS_BUF])
{
	const char *l = MEMTRACE_FLAG_LETTERS;

	out[0] = '-';
	for (int i = 0; MEMTRACE_KIND_LETTERS[i]; i++)
		if (flags & (MEMTRACE_F_ANON << i))
			out[0] = MEMTRACE_KIND_LETTERS[i];
	for (int i = 0; l[i] && i + 1 < MEMTRACE_FLAGS_WIDTH; i++)
		out[i + 1] = flags & letter_flag(l[i]) ? l[i] : '-';
	out[MEMTRACE_FLAGS_WIDTH] = '\0';
	/* a cached page under writeback: one letter more, as the module writes it */
	if (flags & MEMTRACE_F_WRITEBACK) {
		out[MEMTRACE_FLAGS_WIDTH] = MEMTRACE_FLAG_LETTERS_CACHED[MEMTRACE_FLAGS_WIDTH - 1];
		out[MEMTRACE_FLAGS_WIDTH + 1] = '\0';
	}
}

uint64_t mt_pmd_size(unsigned int page_size)
{
	return (uint64_t)page_size * page_size / 8;
}

uint64_t mt_pud_size(unsigned int page_size)
{
	return mt_pmd_size(page_size) * page_size / 8;
}

/* 4096 as "4K", 2^21 as "2M": a power of two with its largest unit. */
static void size_label(uint64_t bytes, char *buf, size_t len)
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

/* The size column as the module writes it: the entry's size, PAGE_SIZE, PMD or PUD. */
const char *mt_size_name(uint32_t flags, unsigned int page_size)
{
	static char names[3][24];
	static unsigned int made;

	if (page_size != made) {
		size_label(page_size, names[0], sizeof(names[0]));
		size_label(mt_pmd_size(page_size), names[1], sizeof(names[1]));
		size_label(mt_pud_size(page_size), names[2], sizeof(names[2]));
		made = page_size;
	}
	return names[flags & MEMTRACE_F_SIZE_PUD ? 2 : flags & MEMTRACE_F_SIZE_PMD ? 1 : 0];
}

/*
 * The size column read back (the inverse of mt_size_name), its flag ORed
 * into *flags: a page of 4K to 64K, or a PMD or PUD of such pages. The
 * three sets (4K 2M 1G, 16K 32M 64G, 64K 512M 4T) do not overlap, so the
 * label alone says which one it is. -1: none of them.
 */
int mt_parse_size(const char *s, size_t len, uint32_t *flags)
{
	uint32_t flag;

	uint64_t n = 0;
	int shift;

	if (len < 2 || len > 5)
		return -1;
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] < '0' || s[i] > '9' || (i == 0 && s[i] == '0'))
			return -1;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	switch (s[len - 1]) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default: return -1;
	}
	n <<= shift;
	/* the page sizes of x86-64 (4K) and of arm64's granules (4K, 16K, 64K) */
	for (unsigned int ps = 4096; ps <= 65536; ps <<= 2) {
		if (n == ps)
			flag = 0;
		else if (n == mt_pmd_size(ps))
			flag = MEMTRACE_F_SIZE_PMD;
		else if (n == mt_pud_size(ps))
			flag = MEMTRACE_F_SIZE_PUD;
		else
			continue;
		*flags |= flag;
		return 0;
	}
	return -1;
}

/* Split at tabs; returns the number of fields (at most max). */
static int split_tabs(const char *line, const char *f[], size_t flen[], int max)
{
	int n = 0;
	const char *p = line;

	for (;;) {
		const char *t = strchr(p, '\t');

		if (n == max)
			return max + 1;
		f[n] = p;
		flen[n] = t ? (size_t)(t - p) : strlen(p);
		n++;
		if (!t)
			return n;
		p = t + 1;
	}
}

static int parse_s32(const char *s, size_t len, int *out)
{
	uint64_t v;
	bool neg = len && s[0] == '-';

	if (neg) {
		s++;
		len--;
	}
	if (mt_parse_u64(s, len, &v) || v > (neg ? 2147483648ULL : 2147483647ULL))
		return -EINVAL;
	*out = neg ? (int)(-(int64_t)v) : (int)v;
	return 0;
}

int mt_parse_record(const char *line, struct mt_record *r, char *err, size_t errlen)
{
	const char *f[9];
	size_t fl[9];
	int n = split_tabs(line, f, fl, 8);

	if (n != 7 && n != 8)
		return fail(err, errlen, "record has %d fields, expected 7 (8 with folio)", n);
	if (fl[0] < 3 || f[0][0] != '0' || (f[0][1] != 'x' && f[0][1] != 'X') ||
	    mt_parse_u64(f[0], fl[0], &r->addr))
		return fail(err, errlen, "bad address '%.*s'", (int)fl[0], f[0]);
	if (fl[1] < 1 || f[1][0] < '1' || f[1][0] > '9' ||
	    mt_parse_u64(f[1], fl[1], &r->pages))
		return fail(err, errlen, "bad page count '%.*s'", (int)fl[1], f[1]);
	r->state = mt_state_from_name(f[2], fl[2]);
	if (r->state < 0)
		return fail(err, errlen, "unknown state '%.*s'", (int)fl[2], f[2]);
	if (mt_parse_flags(f[4], fl[4], &r->flags))
		return fail(err, errlen, "bad flags '%.*s'", (int)fl[4], f[4]);
	if (mt_parse_size(f[3], fl[3], &r->flags))
		return fail(err, errlen, "bad size '%.*s'", (int)fl[3], f[3]);
	if (mt_parse_u64(f[5], fl[5], &r->pfn) ||
	    (fl[5] > 1 && !(f[5][0] == '0' && (f[5][1] == 'x' || f[5][1] == 'X'))))
		return fail(err, errlen, "bad pfn '%.*s'", (int)fl[5], f[5]);
	if (r->pfn > MT_PM_PFN_MASK)
		return fail(err, errlen, "pfn '%.*s' wider than 55 bits", (int)fl[5], f[5]);
	if (parse_s32(f[6], fl[6], &r->node) || r->node < MEMTRACE_NO_NODE)
		return fail(err, errlen, "bad node '%.*s'", (int)fl[6], f[6]);
	r->folio = 0;
	if (n == 8 && fl[7] == 1 && f[7][0] == '-')
		r->folio = 1;	/* asked for, but the page has no folio */
	else if (n == 8 && mt_parse_folio(f[7], fl[7], &r->folio))
		return fail(err, errlen, "bad folio size '%.*s'", (int)fl[7], f[7]);
	return 0;
}

/* A folio's size as the module writes it: "4K", "64K", "2M", "1G" */
int mt_parse_folio(const char *s, size_t len, uint64_t *bytes)
{
	static const char units[] = "KMGT";
	const char *u;
	uint64_t v;

	if (len < 2 || !(u = memchr(units, s[len - 1], sizeof(units) - 1)) ||
	    mt_parse_u64(s, len - 1, &v) || !v || (v & (v - 1)) || v >= 1024)
		return -EINVAL;
	*bytes = v << (10 * (u - units + 1));
	return 0;
}

const char *mt_folio_text(const struct mt_record *r, char buf[16])
{
	if (r->folio <= 1 || (r->state != MEMTRACE_PRESENT && r->state != MEMTRACE_ZERO &&
			  r->state != MEMTRACE_CACHED) || (r->flags & MEMTRACE_F_PFNMAP))
		return "-";
	return mt_folio_name(r->folio, buf);
}

/* The other way: "64K" */
const char *mt_folio_name(uint64_t bytes, char buf[16])
{
	static const char units[] = "KMGT";
	int u = 0;

	bytes >>= 10;
	while (bytes >= 1024 && u < 3) {
		bytes >>= 10;
		u++;
	}
	snprintf(buf, 16, "%llu%c", (unsigned long long)bytes, units[u]);
	return buf;
}

/* "key=value" tokens separated by single spaces after a fixed prefix. */
static const char *kv(const char *line, const char *key, size_t *len)
{
	size_t kl = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key))) {
		if ((p == line || p[-1] == ' ') && p[kl] == '=') {
			p += kl + 1;
			*len = strcspn(p, " \t");
			return p;
		}
		p += kl;
	}
	return NULL;
}

int mt_parse_header(const char *line, struct mt_header *h, char *err, size_t errlen)
{
	const char *v;
	size_t len;
	uint64_t x;

	if (strncmp(line, "# memtrace ", 11))
		return fail(err, errlen, "answer does not start with '# memtrace'");
	line += 11;
	v = kv(line, "pid", &len);
	if (!v || mt_parse_u64(v, len, &x) || x == 0 || x > 0x7fffffff)
		return fail(err, errlen, "header: bad or missing pid");
	h->pid = (long)x;
	v = kv(line, "start", &len);
	if (!v || mt_parse_u64(v, len, &h->start))
		return fail(err, errlen, "header: bad or missing start");
	v = kv(line, "end", &len);
	if (!v || mt_parse_u64(v, len, &h->end))
		return fail(err, errlen, "header: bad or missing end");
	v = kv(line, "page_size", &len);
	if (!v || mt_parse_u64(v, len, &x) || x < 512 || x > (1U << 30) || (x & (x - 1)))
		return fail(err, errlen, "header: bad or missing page_size");
	h->page_size = (unsigned int)x;
	/* "mode=pages cached folio": the words after the mode */
	v = strstr(line, " folio");
	h->folio = v && (v[6] == '\0' || v[6] == ' ' || v[6] == '\n');
	v = kv(line, "mode", &len);
	if (v && len == 4 && !memcmp(v, "runs", 4))
		h->mode = MEMTRACE_MODE_RUNS;
	else if (v && len == 5 && !memcmp(v, "pages", 5))
		h->mode = MEMTRACE_MODE_PAGES;
	else
		return fail(err, errlen, "header: bad or missing mode");
	if ((h->start | h->end) & (h->page_size - 1))
		return fail(err, errlen, "header: start/end not page aligned");
	if (h->end <= h->start)
		return fail(err, errlen, "header: end <= start");
	return 0;
}

int mt_parse_summary(const char *line, struct mt_summary *s, char *err, size_t errlen)
{
	const char *v;
	size_t len;

	if (strncmp(line, "# summary ", 10))
		return fail(err, errlen, "not a summary line");
	line += 10;
	v = kv(line, "pages", &len);
	if (!v || mt_parse_u64(v, len, &s->pages))
		return fail(err, errlen, "summary: bad or missing pages");
	for (int i = 0; i < MEMTRACE_NSTATES; i++) {
		v = kv(line, mt_state_names[i], &len);
		if (!v || mt_parse_u64(v, len, &s->count[i]))
			return fail(err, errlen, "summary: bad or missing %s", mt_state_names[i]);
	}
	/* only in the answer to a query with "cached" */
	v = kv(line, mt_state_names[MEMTRACE_CACHED], &len);
	if (v && mt_parse_u64(v, len, &s->count[MEMTRACE_CACHED]))
		return fail(err, errlen, "summary: bad %s", mt_state_names[MEMTRACE_CACHED]);
	return 0;
}

void mt_answer_init(struct mt_answer *a, mt_record_cb cb, void *arg)
{
	memset(a, 0, sizeof(*a));
	a->cb = cb;
	a->arg = arg;
}

static int answer_line(struct mt_answer *a, const char *line)
{
	char why[MT_ERR_MAX - 64];
	struct mt_record r;
	uint64_t span;
	int ret;

	why[0] = '\0';
	switch (a->phase) {
	case MT_ANS_HEADER:
		if (mt_parse_header(line, &a->hdr, why, sizeof(why)))
			goto bad;
		a->next = a->hdr.start;
		a->phase = MT_ANS_COLUMNS;
		return 0;
	case MT_ANS_COLUMNS:
		if (strncmp(line, "# addr\t", 7)) {
			snprintf(why, sizeof(why), "missing column header");
			goto bad;
		}
		a->phase = MT_ANS_RECORDS;
		return 0;
	case MT_ANS_RECORDS:
		if (!strncmp(line, "# summary ", 10)) {
			if (mt_parse_summary(line, &a->sum, why, sizeof(why)))
				goto bad;
			if (a->next != a->hdr.end) {
				snprintf(why, sizeof(why), "records end at 0x%llx, not at end 0x%llx",
					 (unsigned long long)a->next,
					 (unsigned long long)a->hdr.end);
				goto bad;
			}
			if (memcmp(&a->sum, &a->tally, sizeof(a->sum))) {
				snprintf(why, sizeof(why), "summary does not match the records");
				goto bad;
			}
			a->phase = MT_ANS_DONE;
			return 0;
		}
		if (line[0] == '#')
			return 0;	/* a comment of a later version */
		if (mt_parse_record(line, &r, why, sizeof(why)))
			goto bad;
		if (!r.folio != !a->hdr.folio ||
		    (r.folio > 1 && r.folio < a->hdr.page_size)) {
			snprintf(why, sizeof(why), "record %s a folio size the header %s",
				 r.folio ? "has" : "lacks", a->hdr.folio ? "asks for" : "does not ask for");
			goto bad;
		}
		if (r.addr != a->next) {
			snprintf(why, sizeof(why), "record at 0x%llx, expected 0x%llx",
				 (unsigned long long)r.addr, (unsigned long long)a->next);
			goto bad;
		}
		span = a->hdr.end - r.addr;
		if (r.pages > span / a->hdr.page_size) {
			snprintf(why, sizeof(why), "record runs past end");
			goto bad;
		}
		if (a->hdr.mode == MEMTRACE_MODE_PAGES && r.pages != 1 &&
		    r.state != MEMTRACE_UNMAPPED) {
			snprintf(why, sizeof(why), "pages mode record of %llu pages",
				 (unsigned long long)r.pages);
			goto bad;
		}
		a->next += r.pages * a->hdr.page_size;
		a->tally.pages += r.pages;
		a->tally.count[r.state] += r.pages;
		if (a->cb) {
			ret = a->cb(&a->hdr, &r, a->arg);
			if (ret) {
				a->cb_ret = ret;
				return ret;
			}
		}
		return 0;
	default:
		snprintf(why, sizeof(why), "text after the summary");
		goto bad;
	}
bad:
	snprintf(a->err, sizeof(a->err), "malformed answer, line %u: %s", a->lineno, why);
	return -EPROTO;
}

int mt_answer_feed(struct mt_answer *a, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];
		int ret;

		if (c != '\n') {
			if (c == '\0' || a->len + 1 >= sizeof(a->line)) {
				a->lineno++;
				snprintf(a->err, sizeof(a->err),
					 "malformed answer, line %u: %s", a->lineno,
					 c ? "line too long" : "NUL byte");
				return -EPROTO;
			}
			a->line[a->len++] = c;
			continue;
		}
		a->line[a->len] = '\0';
		a->lineno++;
		ret = answer_line(a, a->line);
		a->len = 0;
		if (ret)
			return ret;
	}
	return 0;
}

int mt_answer_finish(struct mt_answer *a)
{
	if (a->len) {
		snprintf(a->err, sizeof(a->err),
			 "malformed answer, line %u: no newline at the end", a->lineno + 1);
		return -EPROTO;
	}
	if (a->phase != MT_ANS_DONE) {
		snprintf(a->err, sizeof(a->err), "malformed answer: %s",
			 a->phase == MT_ANS_HEADER ? "empty" : "truncated (no summary)");
		return -EPROTO;
	}
	return 0;
}
