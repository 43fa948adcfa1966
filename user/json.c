// SPDX-License-Identifier: GPL-2.0
/*
 * JSON strings. Mapping names are bytes, not necessarily UTF-8: quotes,
 * backslashes and control characters are escaped, valid UTF-8 sequences
 * are kept, and every byte of an invalid sequence becomes U+FFFD, so the
 * output is always valid JSON.
 */
#include <string.h>

#include "mt.h"

/* Length of the valid UTF-8 sequence at s (1-4), or 0. */
size_t mt_utf8_len(const unsigned char *s, size_t left)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void mt_json_strn(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	fputc('"', f);
	while (i < len) {
		unsigned char c = s[i];
		size_t n;

		switch (c) {
		case '"': fputs("\\\"", f); i++; continue;
		case '\\': fputs("\\\\", f); i++; continue;
		case '\b': fputs("\\b", f); i++; continue;
		case '\f': fputs("\\f", f); i++; continue;
		case '\n': fputs("\\n", f); i++; continue;
		case '\r': fputs("\\r", f); i++; continue;
		case '\t': fputs("\\t", f); i++; continue;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
			continue;
		}
		n = mt_utf8_len(s + i, len - i);
		if (!n) {
			fputs("\\ufffd", f);
			i++;
			continue;
		}
		fwrite(s + i, 1, n, f);
		i += n;
	}
	fputc('"', f);
}

void mt_json_str(FILE *f, const char *s)
{
	mt_json_strn(f, s, strlen(s));
}

/* One record, as query --json and snapshots write it. */
void mt_json_record(FILE *f, const struct mt_record *r, unsigned int page_size)
{
	char fl[MT_FLAGS_BUF], folio[16];

	mt_format_flags(r->flags, fl);
	fprintf(f, "{\"addr\":\"0x%llx\",\"pages\":%llu,\"state\":\"%s\",\"size\":\"%s\","
		"\"flags\":\"%s\",\"pfn\":\"0x%llx\",\"node\":%d",
		(unsigned long long)r->addr, (unsigned long long)r->pages,
		mt_state_names[r->state], mt_size_name(r->flags, page_size), fl,
		(unsigned long long)r->pfn, r->node);
	if (r->folio) {
		const char *name = mt_folio_text(r, folio);

		if (*name == '-')
			fputs(",\"folio\":null", f);
		else
			fprintf(f, ",\"folio\":\"%s\"", name);
	}
	fputc('}', f);
}

/* A summary: {"pages":N,"unmapped":N,...} */
void mt_json_summary(FILE *f, const struct mt_summary *s)
{
	fprintf(f, "{\"pages\":%llu", (unsigned long long)s->pages);
	for (int i = 0; i < MEMTRACE_NSTATES; i++)
		fprintf(f, ",\"%s\":%llu", mt_state_names[i], (unsigned long long)s->count[i]);
	if (s->count[MEMTRACE_CACHED])	/* only an answer that asked for it has any */
		fprintf(f, ",\"%s\":%llu", mt_state_names[MEMTRACE_CACHED],
			(unsigned long long)s->count[MEMTRACE_CACHED]);
	fputc('}', f);
}
