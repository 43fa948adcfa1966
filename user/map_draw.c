// SPDX-License-Identifier: GPL-2.0
/*
 * The heat map drawn: one SVG picture, standalone or inside one HTML page
 * with no external resources. A header, the legend, then one band per
 * mapping: its label on the left (name, addresses, permissions, size, the
 * scale), its cells on the right, MT_MAP_COLS a row; between bands that do
 * not touch, a line says how much lies unmapped. Every cell carries its
 * description (address, state, flags, mapping): an SVG <title>, which
 * viewers show on hover, or in HTML a data-tip attribute that the page's
 * script shows at once.
 *
 * Mapping names and the command name are the target's, so untrusted: they
 * are written escaped (markup characters as entities, control bytes as \ooo
 * as maps prints them, invalid UTF-8 as U+FFFD) everywhere they appear.
 */
#include <string.h>

#include "map.h"

#define PAD	 16
#define LABEL_W	 400		/* the labels' column */
#define PITCH	 12		/* a cell and the gap after it */
#define CELL	 11
#define LINE	 14		/* a label's line */
#define GRID_X	 (PAD + LABEL_W)
#define WIDTH	 (GRID_X + MT_MAP_COLS * PITCH + PAD)
#define HEAD_H	 112
#define GAP_H	 16
#define NAME_MAX 52		/* characters of a name in a label; all of it on hover */

enum { SVG, HTML };

/* Colours by state; a present cell whose pages are huge has its own. */
static const char *const fill[MEMTRACE_NSTATES] = {
	[MEMTRACE_UNMAPPED] = "#ffffff", [MEMTRACE_NONE] = "#d4d4d4",
	[MEMTRACE_ZERO] = "#3fa7d6", [MEMTRACE_PRESENT] = "#2e9e44",
	[MEMTRACE_SWAP] = "#f0a30a", [MEMTRACE_MIGRATION] = "#a64dc4",
	[MEMTRACE_OTHER] = "#d7301f",
};

#define FILL_HUGE "#145a24"

/* A mixed cell: its main state's colour halfway to white ("#2e9e44" -> "#96cea1"). */
static const char *lighter(const char *c, char buf[8])
{
	unsigned int v[3];

	if (sscanf(c, "#%2x%2x%2x", &v[0], &v[1], &v[2]) != 3)
		return c;
	for (int i = 0; i < 3; i++)
		v[i] = (unsigned char)((v[i] + 255) / 2);
	snprintf(buf, 8, "#%02x%02x%02x", v[0] & 0xff, v[1] & 0xff, v[2] & 0xff);
	return buf;
}

/*
 * s as XML text or attribute value (quoted with "): at most max characters,
 * then an ellipsis. U+FFFE and U+FFFF, which XML forbids, become U+FFFD too.
 */
static void xml_str(FILE *f, const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strlen(str), i = 0, n;

	for (size_t chars = 0; i < len; i += n, chars++) {
		if (chars == max) {
			fputs("\u2026", f);
			return;
		}
		n = mt_utf8_len(s + i, len - i);
		if (s[i] == '<' || s[i] == '>' || s[i] == '&' || s[i] == '"' || s[i] == '\'')
			fprintf(f, "&#%u;", s[i]);
		else if (s[i] < 0x20 || s[i] == 0x7f)
			fprintf(f, "\\%03o", s[i]);
		else if (!n || (n == 3 && s[i] == 0xef && s[i + 1] == 0xbf && s[i + 2] >= 0xbe))
			fputs("\ufffd", f);
		else
			fwrite(s + i, 1, n, f);
		if (!n)
			n = 1;
	}
}

static const char *map_name(const struct mt_map_band *b)
{
	return b->map->name[0] ? b->map->name : "(anonymous)";
}

static unsigned int band_height(const struct mt_map_band *b)
{
	unsigned int rows = (unsigned int)((b->ncells - 1) / MT_MAP_COLS + 1);
	unsigned int h = rows * PITCH > 3 * LINE ? rows * PITCH : 3 * LINE;

	return h + 8;
}

static unsigned int map_height(const struct mt_map_pic *p)
{
	unsigned int h = HEAD_H + PAD;

	for (size_t i = 0; i < p->nbands; i++)
		h += band_height(&p->bands[i]) + (i && p->bands[i].start > p->bands[i - 1].end ?
						  GAP_H : 0);
	return h;
}

/* "0x1000 (12 pages, 48 KiB)": the pages of a cell or a band */
static void pages_of(FILE *f, uint64_t start, uint64_t pages, unsigned int ps)
{
	char sz[32];

	fprintf(f, "0x%llx", (unsigned long long)start);
	if (pages > 1)
		fprintf(f, "-0x%llx (%llu pages, %s)",
			(unsigned long long)(start + pages * ps), (unsigned long long)pages,
			mt_human_size(pages * ps, sz, sizeof(sz)));
}

/* What hovering a cell shows: address, state(s), flags, mapping (escaped). */
static void cell_tip(FILE *f, const struct mt_map_pic *p, const struct mt_map_band *b,
		     size_t i, const char *nl)
{
	const struct mt_map_cell *c = &b->cells[i];
	uint64_t start = b->start + i * b->scale * p->page_size, pages;
	int best = mt_map_cell_state(c, &pages);
	char fl[MT_FLAGS_BUF];
	const char *sep = "";

	pages_of(f, start, pages, p->page_size);
	fprintf(f, "%sstate: %s", nl, mt_state_names[best]);
	if (c->count[best] != pages) {
		fputs(" (mixed:", f);
		for (int s = 0; s < MEMTRACE_NSTATES; s++) {
			if (!c->count[s])
				continue;
			fprintf(f, "%s %s %llu", sep, mt_state_names[s],
				(unsigned long long)c->count[s]);
			sep = ",";
		}
		fputs(")", f);
	}
	mt_format_flags(c->flags, fl);
	if (c->has_present && !c->flags_mixed)
		fprintf(f, "%sflags: %s %s", nl, fl, mt_size_name(c->flags, p->page_size));
	else if (c->has_present)
		fprintf(f, "%sflags: mixed", nl);
	fprintf(f, "%smapping: ", nl);
	xml_str(f, map_name(b), (size_t)-1);
	fprintf(f, " (%s)", b->map->perms);
}

static void draw_cell(FILE *f, int mode, const struct mt_map_pic *p,
		      const struct mt_map_band *b, size_t i, unsigned int y)
{
	const struct mt_map_cell *c = &b->cells[i];
	uint64_t pages;
	int s = mt_map_cell_state(c, &pages);
	bool mixed = c->count[s] != pages, huge = s == MEMTRACE_PRESENT && c->huge;
	const char *col = huge ? FILL_HUGE : fill[s];
	char buf[8];

	fprintf(f, "<rect class=\"cell %s%s%s\" ", mt_state_names[s], huge ? " huge" : "",
		mixed ? " mixed" : "");
	fprintf(f, "x=\"%zu\" y=\"%zu\" width=\"%d\" height=\"%d\" fill=\"%s\"",
		GRID_X + i % MT_MAP_COLS * PITCH, y + i / MT_MAP_COLS * PITCH, CELL, CELL,
		mixed ? lighter(col, buf) : col);
	if (s == MEMTRACE_UNMAPPED)
		fputs(" stroke=\"#c8c8c8\" stroke-width=\"1\"", f);
	if (mode == HTML) {
		fputs(" data-tip=\"", f);
		cell_tip(f, p, b, i, "&#10;");
		fputs("\"/>\n", f);
	} else {
		fputs("><title>", f);
		cell_tip(f, p, b, i, "\n");
		fputs("</title></rect>\n", f);
	}
}

/* The band's label: name, addresses and permissions, size and scale. */
static void band_label(FILE *f, const struct mt_map_pic *p, const struct mt_map_band *b,
		       unsigned int y)
{
	uint64_t pages = (b->end - b->start) / p->page_size;
	char sz[32], pr[32], cs[32];

	fprintf(f, "<text class=\"name\" x=\"%d\" y=\"%u\">", PAD, y + LINE - 2);
	xml_str(f, map_name(b), NAME_MAX);
	fprintf(f, "<title>");
	xml_str(f, map_name(b), (size_t)-1);
	fprintf(f, "</title></text>\n<text x=\"%d\" y=\"%u\">0x%llx-0x%llx %s</text>\n", PAD,
		y + 2 * LINE - 2, (unsigned long long)b->start, (unsigned long long)b->end,
		b->map->perms);
	fprintf(f, "<text x=\"%d\" y=\"%u\">%s, %s present", PAD, y + 3 * LINE - 2,
		mt_human_size(pages * p->page_size, sz, sizeof(sz)),
		mt_human_size(b->count[MEMTRACE_PRESENT] * p->page_size, pr, sizeof(pr)));
	if (b->scale > 1)
		fprintf(f, "<tspan class=\"scale\"> \u00d7%llu: a cell is %s</tspan>",
			(unsigned long long)b->scale,
			mt_human_size(b->scale * p->page_size, cs, sizeof(cs)));
	fputs("</text>\n", f);
}

static unsigned int draw_band(FILE *f, int mode, const struct mt_map_pic *p, size_t k,
			      unsigned int y)
{
	const struct mt_map_band *b = &p->bands[k];
	unsigned int h = band_height(b);
	char sz[32];

	if (k && b->start > p->bands[k - 1].end) {
		mt_human_size(b->start - p->bands[k - 1].end, sz, sizeof(sz));
		fprintf(f, "<text class=\"gap\" x=\"%d\" y=\"%u\">", GRID_X, y + GAP_H - 4);
		fprintf(f, "\u22ef %s unmapped \u22ef</text>\n", sz);
		y += GAP_H;
	}
	fprintf(f, "<g class=\"band\" data-start=\"0x%llx\" data-end=\"0x%llx\" ",
		(unsigned long long)b->start, (unsigned long long)b->end);
	fprintf(f, "data-scale=\"%llu\">\n", (unsigned long long)b->scale);
	fprintf(f, "<rect class=\"bg\" x=\"0\" y=\"%u\" width=\"%d\" height=\"%u\" fill=\"%s\"/>\n",
		y, WIDTH, h, k % 2 ? "#f4f4f4" : "#fbfbfb");
	band_label(f, p, b, y + 4);
	for (size_t i = 0; i < b->ncells; i++)
		draw_cell(f, mode, p, b, i, y + 4);
	fputs("</g>\n", f);
	return y + h;
}

/* One legend entry at x: a swatch and its words; the next entry's x. */
static unsigned int swatch(FILE *f, unsigned int x, unsigned int y, const char *col,
			   const char *cls, const char *what)
{
	fprintf(f, "<rect class=\"key %s\" x=\"%u\" y=\"%u\" width=\"%d\" height=\"%d\" ",
		cls, x, y - CELL + 1, CELL, CELL);
	fprintf(f, "fill=\"%s\" stroke=\"#888\" stroke-width=\"0.5\"/>", col);
	fprintf(f, "<text x=\"%u\" y=\"%u\">%s</text>\n", x + PITCH + 2, y, what);
	return x + PITCH + 10 + 8 * (unsigned int)strlen(what);
}

static const char scale_note[] =
	"A band marked \u00d7N has N pages a cell, coloured by the state most of them are in,\n"
	"lighter when others share it.";

static void draw_legend(FILE *f, unsigned int y, unsigned int ps)
{
	static const int order[] = { MEMTRACE_PRESENT, MEMTRACE_ZERO, MEMTRACE_NONE,
				     MEMTRACE_SWAP, MEMTRACE_MIGRATION, MEMTRACE_OTHER,
				     MEMTRACE_UNMAPPED, -1 };
	unsigned int x = PAD;
	char buf[8], sz[32];

	fputs("<g class=\"legend\">\n", f);
	for (const int *s = order; *s >= 0; s++) {
		x = swatch(f, x, y, fill[*s], mt_state_names[*s], mt_state_names[*s]);
		if (*s == MEMTRACE_PRESENT)
			x = swatch(f, x, y, FILL_HUGE, "huge", "present (huge)");
	}
	swatch(f, x, y, lighter(fill[MEMTRACE_PRESENT], buf), "mixed", "mixed (lighter)");
	fprintf(f, "<text class=\"scale\" x=\"%d\" y=\"%u\">A cell is a page (%s). %s</text>\n",
		PAD, y + 20, mt_human_size(ps, sz, sizeof(sz)), scale_note);
	fputs("</g>\n", f);
}

static void header(FILE *f, const struct mt_map_pic *p)
{
	uint64_t mapped = 0;
	char a[32], b[32], c[32], d[32];

	for (int s = 1; s < MEMTRACE_NSTATES; s++)
		mapped += p->count[s];
	fprintf(f, "<text class=\"title\" x=\"%d\" y=\"%d\">memtrace map: pid %ld (", PAD,
		PAD + 16, p->pid);
	xml_str(f, p->comm, 64);
	fprintf(f, ")</text>\n<text x=\"%d\" y=\"%d\">", PAD, PAD + 38);
	fprintf(f, "%zu mapping%s, %s: %s present, %s zero, %s swap</text>\n",
		p->nbands, mt_plural(p->nbands), mt_human_size(mapped * p->page_size, a, sizeof(a)),
		mt_human_size(p->count[MEMTRACE_PRESENT] * p->page_size, b, sizeof(b)),
		mt_human_size(p->count[MEMTRACE_ZERO] * p->page_size, c, sizeof(c)),
		mt_human_size(p->count[MEMTRACE_SWAP] * p->page_size, d, sizeof(d)));
	draw_legend(f, PAD + 66, p->page_size);
}

static const char style[] =
	"text{font-family:'DejaVu Sans Mono',monospace;font-size:11.5px;fill:#222}\n"
	".title{font-size:18px;font-weight:bold}.name{font-weight:bold}\n"
	".gap,.scale{fill:#666;font-style:italic}\n"
	"rect.cell:hover{stroke:#000;stroke-width:1.5}\n";

/* The picture; xmlns for a standalone SVG document, not inside HTML. */
static void draw_svg(FILE *f, int mode, const struct mt_map_pic *p)
{
	unsigned int h = map_height(p), y = HEAD_H;

	fprintf(f, "<svg %swidth=\"%d\" height=\"%u\" viewBox=\"0 0 %d %u\">\n",
		mode == SVG ? "xmlns=\"http://www.w3.org/2000/svg\" " : "", WIDTH, h, WIDTH, h);
	fprintf(f, "<style>%s</style>\n", style);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%u\" fill=\"#ffffff\"/>\n",
		WIDTH, h);
	header(f, p);
	for (size_t k = 0; k < p->nbands; k++)
		y = draw_band(f, mode, p, k, y);
	fputs("</svg>\n", f);
}

void mt_map_svg(FILE *f, const struct mt_map_pic *p)
{
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	draw_svg(f, SVG, p);
}

/* The page's script: the hovered cell's data-tip, as text, beside the pointer. */
static const char script[] =
	"(function () {\n"
	"\tvar tip = document.getElementById('tip');\n"
	"\tdocument.addEventListener('mousemove', function (e) {\n"
	"\t\tvar t = e.target.getAttribute && e.target.getAttribute('data-tip');\n"
	"\t\tvar x = e.clientX + 14, y = e.clientY + 14;\n"
	"\t\tif (!t) {\n\t\t\ttip.style.display = 'none';\n\t\t\treturn;\n\t\t}\n"
	"\t\ttip.textContent = t;\n\t\ttip.style.display = 'block';\n"
	"\t\tif (x + tip.offsetWidth > innerWidth)\n"
	"\t\t\tx = Math.max(0, e.clientX - tip.offsetWidth - 8);\n"
	"\t\tif (y + tip.offsetHeight > innerHeight)\n"
	"\t\t\ty = Math.max(0, e.clientY - tip.offsetHeight - 8);\n"
	"\t\ttip.style.left = x + 'px';\n\t\ttip.style.top = y + 'px';\n\t});\n"
	"\tdocument.addEventListener('mouseleave', function () {\n"
	"\t\ttip.style.display = 'none';\n\t});\n})();\n";

static const char page_style[] =
	"body{margin:0;background:#fff}svg{display:block;max-width:100%;height:auto}\n"
	"#tip{position:fixed;display:none;white-space:pre;background:#222;color:#fff;\n"
	"font:12px 'DejaVu Sans Mono',monospace;padding:4px 6px;border-radius:3px;\n"
	"pointer-events:none}\n";

void mt_map_html(FILE *f, const struct mt_map_pic *p)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", f);
	fprintf(f, "<title>memtrace map: pid %ld (", p->pid);
	xml_str(f, p->comm, 64);
	fprintf(f, ")</title>\n<style>%s</style>\n</head>\n<body>\n", page_style);
	draw_svg(f, HTML, p);
	fprintf(f, "<div id=\"tip\" role=\"tooltip\"></div>\n<script>\n%s</script>\n", script);
	fputs("</body>\n</html>\n", f);
}
