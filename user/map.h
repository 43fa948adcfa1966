/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memtrace map: the heat map of a process, internal to map.c (what it
 * gathers) and map_draw.c (how it is drawn, as SVG or as one HTML file).
 */
#ifndef MT_MAP_H
#define MT_MAP_H

#include "mt.h"

#define MT_MAP_COLS	64	/* cells a band's row */
#define MT_MAP_ROWS	16	/* rows a band has at most */
#define MT_MAP_CELLS	32768	/* cells a map has at most, but for a row a band */

/* A cell: one page, or scale pages of a large mapping (its main state). */
struct mt_map_cell {
	uint64_t count[MEMTRACE_NSTATES];
	uint32_t flags;		/* of its present pages, if they agree */
	bool flags_mixed;	/* they do not */
	bool has_present;
	bool huge;		/* a present page mapped by a huge entry */
};

/* A band: one line of /proc/PID/maps, clipped to the range drawn. */
struct mt_map_band {
	const struct mt_map *map;
	uint64_t start, end;
	uint64_t scale;		/* pages a cell: 1, or a power of two */
	size_t ncells;
	struct mt_map_cell *cells;
	uint64_t count[MEMTRACE_NSTATES];
};

struct mt_map_pic {
	long pid;
	char comm[64];		/* /proc/PID/comm, untrusted like the names */
	unsigned int page_size;
	struct mt_map_band *bands;
	size_t nbands;
	uint64_t count[MEMTRACE_NSTATES];	/* over the bands */
};

/* The state a cell shows: the one most of its pages are in (a tie: the later). */
int mt_map_cell_state(const struct mt_map_cell *c, uint64_t *pages);
/* Write the map as a standalone SVG document, or as one HTML file. */
void mt_map_svg(FILE *f, const struct mt_map_pic *p);
void mt_map_html(FILE *f, const struct mt_map_pic *p);

#endif /* MT_MAP_H */
