// SPDX-License-Identifier: GPL-2.0
/*
 * The page map picture: one character per page.
 *
 *   #  present (a frame of its own)     H  present, mapped by a huge entry
 *   0  the shared zero page             .  none (in a VMA, no entry)
 *   S  swap      M  migration      ?  other      ' '  unmapped
 *
 * Rows of WIDTH cells, optionally labelled with their address. A cell is a
 * page, or SCALE pages when the range would take more than MT_PICTURE_ROWS
 * rows: then it shows their most common state, with a lighter glyph ('+'
 * for '#', 'o' for '0', ...) when other states share the cell. An unmapped
 * run of a row or more is folded into one line.
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
	case MEMTRACE_CACHED: return 'c';
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
	case MEMTRACE_CACHED: return "\033[34m";
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
	p->scale = 1;
	p->color = color;
	p->labels = labels;
}

/*
 * Fit the picture of pages pages to columns: as many cells a row as fit
 * after the label (MT_PICTURE_MIN at least), and as many pages a cell as
 * keep it to MT_PICTURE_ROWS rows.
 */
void mt_picture_fit(struct mt_picture *p, unsigned int columns, uint64_t pages)
{
	uint64_t per_row;

	p->width = columns > MT_PICTURE_LABEL + MT_PICTURE_MIN ? columns - MT_PICTURE_LABEL
								 : MT_PICTURE_MIN;
	per_row = (uint64_t)p->width * MT_PICTURE_ROWS;
	p->scale = pages > per_row ? (pages - 1) / per_row + 1 : 1;
}

/* "scale: a cell is N pages (SIZE)..." when a cell is more than a page */
void mt_picture_scale_note(const struct mt_picture *p)
{
	char buf[32];

	if (p->scale > 1)
		fprintf(p->out, "  scale: a cell is %llu pages (%s), its main state\n"
			"  mixed cells: + h o , s m _\n",
			(unsigned long long)p->scale,
			mt_human_size(p->scale * p->page_size, buf, sizeof(buf)));
}

/* A mixed cell's glyph: its dominant state's, lighter */
static char mixed_char(char c)
{
	switch (c) {
	case '#': return '+';
	case 'H': return 'h';
	case '0': return 'o';
	case '.': return ',';
	case 'S': return 's';
	case 'M': return 'm';
	case ' ': return '_';
	default: return c;
	}
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

/* n cells of state s drawn as c */
static void cells(struct mt_picture *p, int s, char c, uint64_t n)
{
	if (p->color && s != MEMTRACE_UNMAPPED)
		fputs(mt_picture_color(s), p->out);
	for (uint64_t i = 0; i < n; i++)
		fputc(c, p->out);
	if (p->color && s != MEMTRACE_UNMAPPED)
		fputs("\033[0m", p->out);
}

/* Draw the cell filled so far (scale > 1): its dominant state, lighter if mixed */
static void cell_flush(struct mt_picture *p)
{
	int best = 0;
	char c;

	if (!p->cell_pages)
		return;
	for (int s = 1; s < MEMTRACE_NSTATES_ALL; s++)
		if (p->cell[s] >= p->cell[best])	/* a tie: the later (rarer) state */
			best = s;
	c = mt_picture_char(best, best == MEMTRACE_PRESENT && p->cell_huge ?
				   MEMTRACE_F_SIZE_2M : 0);
	if (p->col == 0)
		row_start(p);
	cells(p, best, p->cell[best] == p->cell_pages ? c : mixed_char(c), 1);
	p->addr += p->cell_pages * p->page_size;
	memset(p->cell, 0, sizeof(p->cell));
	p->cell_pages = 0;
	p->cell_huge = false;
	if (++p->col == p->width)
		row_end(p);
}

void mt_picture_add(struct mt_picture *p, const struct mt_record *r)
{
	char ch = mt_picture_char(r->state, r->flags);
	uint64_t left = r->pages;

	if (p->col == 0 && !p->rows && !p->cell_pages)
		p->addr = r->addr;
	if (r->state == MEMTRACE_UNMAPPED && r->pages >= (uint64_t)p->width * p->scale) {
		char buf[32];

		cell_flush(p);
		if (p->col)
			row_end(p);
		fprintf(p->out, "  0x%012llx  (%llu page%s unmapped, %s)\n",
			(unsigned long long)r->addr, (unsigned long long)r->pages,
			mt_plural(r->pages),
			mt_human_size(r->pages * p->page_size, buf, sizeof(buf)));
		p->rows++;
		p->addr = r->addr + r->pages * p->page_size;
		return;
	}
	while (left && p->scale > 1) {
		uint64_t n = p->scale - p->cell_pages;

		if (n > left)
			n = left;
		if ((unsigned int)r->state < MEMTRACE_NSTATES_ALL)
			p->cell[r->state] += n;
		else
			p->cell[MEMTRACE_OTHER] += n;
		p->cell_huge |= r->state == MEMTRACE_PRESENT && (r->flags & MEMTRACE_F_SIZE_MASK);
		p->cell_pages += n;
		left -= n;
		if (p->cell_pages == p->scale)
			cell_flush(p);
	}
	while (left) {
		uint64_t n = p->width - p->col;

		if (n > left)
			n = left;
		if (p->col == 0)
			row_start(p);
		cells(p, r->state, ch, n);
		p->col += (unsigned int)n;
		p->addr += n * p->page_size;
		left -= n;
		if (p->col == p->width)
			row_end(p);
	}
}

void mt_picture_end(struct mt_picture *p)
{
	cell_flush(p);
	if (p->col)
		row_end(p);
}

/* The legend, wrapped to columns */
void mt_picture_legend(FILE *out, bool color, unsigned int columns, bool cached)
{
	static const int order[] = { MEMTRACE_PRESENT, MEMTRACE_ZERO, MEMTRACE_NONE,
				     MEMTRACE_SWAP, MEMTRACE_MIGRATION, MEMTRACE_OTHER,
				     MEMTRACE_UNMAPPED, MEMTRACE_CACHED };
	unsigned int col = 9;

	fputs("  legend:", out);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int s = order[i];
		const char *huge = s == MEMTRACE_PRESENT ? " ('H' huge)" : "";
		unsigned int len = 5 + (unsigned int)(strlen(mt_state_names[s]) + strlen(huge));

		if (s == MEMTRACE_CACHED && !cached)
			continue;
		if (col + len > columns && col > 9) {
			fputs("\n         ", out);
			col = 9;
		}
		fprintf(out, " %s'%c'%s %s%s", color ? mt_picture_color(s) : "",
			mt_picture_char(s, 0), color && *mt_picture_color(s) ? "\033[0m" : "",
			mt_state_names[s], huge);
		col += len;
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
