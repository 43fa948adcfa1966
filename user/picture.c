// SPDX-License-Identifier: GPL-2.0
/*
 * The page map picture: one character per page.
 *
 *   #  present (a frame of its own)     H  present, mapped by a huge entry
 *   0  the shared zero page             .  none (in a VMA, no entry)
 *   S  swap      M  migration      ?  other      ' '  unmapped
 *
 * Rows of WIDTH pages, optionally labelled with their address. An unmapped
 * run longer than a row is folded into one line.
 */
#include <string.h>

#include "mt.h"

char mt_picture_char(int state, uint32_t flags)
{
	switch (state) {
	case MEMTRACE_PRESENT: return flags & MEMTRACE_F_SIZE_MASK ? 'H' : '#';
	case MEMTRACE_ZERO: return '0';
	case MEMTRACE_NONE: return '.';
	case MEMTRACE_SWAP: return 'S';
	case MEMTRACE_MIGRATION: return 'M';
	case MEMTRACE_UNMAPPED: return ' ';
	default: return '?';
	}
}

const char *mt_picture_color(int state)
{
	switch (state) {
	case MEMTRACE_PRESENT: return "\033[1;32m";
	case MEMTRACE_ZERO: return "\033[36m";
	case MEMTRACE_NONE: return "\033[2m";
	case MEMTRACE_SWAP: return "\033[1;33m";
	case MEMTRACE_MIGRATION: return "\033[35m";
	case MEMTRACE_OTHER: return "\033[1;31m";
	default: return "";
	}
}

void mt_picture_init(struct mt_picture *p, FILE *out, unsigned int page_size,
		     unsigned int width, bool color, bool labels)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
	p->page_size = page_size;
	p->width = width ? width : 64;
	p->color = color;
	p->labels = labels;
}

static void row_start(struct mt_picture *p)
{
	if (p->labels)
		fprintf(p->out, "  0x%012llx  ", (unsigned long long)p->addr);
	else
		fputs("  ", p->out);
	p->rows++;
}

static void row_end(struct mt_picture *p)
{
	fputc('\n', p->out);
	p->col = 0;
}

void mt_picture_add(struct mt_picture *p, const struct mt_record *r)
{
	char ch = mt_picture_char(r->state, r->flags);
	uint64_t left = r->pages;

	if (p->col == 0 && !p->rows)
		p->addr = r->addr;
	if (r->state == MEMTRACE_UNMAPPED && r->pages > p->width) {
		char buf[32];

		if (p->col)
			row_end(p);
		fprintf(p->out, "  0x%012llx  (%llu pages unmapped, %s)\n",
			(unsigned long long)r->addr, (unsigned long long)r->pages,
			mt_human_size(r->pages * p->page_size, buf, sizeof(buf)));
		p->rows++;
		p->addr = r->addr + r->pages * p->page_size;
		return;
	}
	while (left) {
		uint64_t n = p->width - p->col;

		if (n > left)
			n = left;
		if (p->col == 0)
			row_start(p);
		if (p->color && r->state != MEMTRACE_UNMAPPED)
			fputs(mt_picture_color(r->state), p->out);
		for (uint64_t i = 0; i < n; i++)
			fputc(ch, p->out);
		if (p->color && r->state != MEMTRACE_UNMAPPED)
			fputs("\033[0m", p->out);
		p->col += (unsigned int)n;
		p->addr += n * p->page_size;
		left -= n;
		if (p->col == p->width)
			row_end(p);
	}
}

void mt_picture_end(struct mt_picture *p)
{
	if (p->col)
		row_end(p);
}

void mt_picture_legend(FILE *out, bool color)
{
	static const int order[] = { MEMTRACE_PRESENT, MEMTRACE_ZERO, MEMTRACE_NONE,
				     MEMTRACE_SWAP, MEMTRACE_MIGRATION, MEMTRACE_OTHER,
				     MEMTRACE_UNMAPPED };

	fputs("  legend:", out);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int s = order[i];

		fprintf(out, " %s'%c'%s %s", color ? mt_picture_color(s) : "",
			mt_picture_char(s, 0), color && *mt_picture_color(s) ? "\033[0m" : "",
			mt_state_names[s]);
		if (s == MEMTRACE_PRESENT)
			fputs(" ('H' huge)", out);
	}
	fputc('\n', out);
}

void mt_picture_fill(char *buf, uint64_t start, uint64_t npages, unsigned int page_size,
		     const struct mt_record *r)
{
	uint64_t end = start + npages * page_size;
	uint64_t rend = r->addr + r->pages * page_size;
	uint64_t a = r->addr > start ? r->addr : start;
	uint64_t b = rend < end ? rend : end;
	char ch = mt_picture_char(r->state, r->flags);

	for (; a < b; a += page_size)
		buf[(a - start) / page_size] = ch;
}
