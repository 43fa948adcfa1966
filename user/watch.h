/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memtrace watch: what one frame gathers (watch.c) and how it is printed
 * (out_watch.c): the full screen on a terminal, one line per change
 * otherwise, in the format asked for.
 */
#ifndef MT_WATCH_H
#define MT_WATCH_H

#include <signal.h>
#include <time.h>

#include "mt.h"

#define MT_WATCH_EVENTS	  3	/* events the screen keeps under the picture */
#define MT_WATCH_NAME	  256	/* a mapping name kept by an event, cut there */

enum mt_watch_kind {
	MT_WATCH_MAPPED,	/* a line of maps over the range appeared */
	MT_WATCH_UNMAPPED,	/* one went away */
	MT_WATCH_REMAPPED,	/* one kept its start, changed its end or perms */
	MT_WATCH_EXITED,	/* the process exited */
};

struct mt_watch_event {
	int kind;			/* enum mt_watch_kind */
	uint64_t frame;
	double elapsed;
	time_t when;
	uint64_t start, end, offset;
	uint64_t old_end;		/* MT_WATCH_REMAPPED */
	char perms[5], old_perms[5];
	char name[MT_WATCH_NAME];
};

struct mt_watch {
	long pid;
	bool all;			/* RANGE all: start and end from the answer */
	uint64_t start, end;		/* page-aligned */
	uint64_t pages;
	unsigned int page_size;		/* sysconf(_SC_PAGESIZE) */
	double interval;		/* seconds */
	uint64_t count;			/* frames to show; 0: until stopped */
	bool until_exit;
	bool screen;			/* full-screen on a terminal */
	bool color;
	bool fixed_width;		/* --width: resizes change only the rows */
	unsigned int columns, rows;	/* the window, or --width/COLUMNS and 64 rows */
	unsigned int width;		/* cells a row */
	uint64_t scale;			/* pages a cell */
	size_t ncells;
	uint64_t (*cell)[MEMTRACE_NSTATES];	/* this frame: pages of each state a cell */
	uint64_t (*prev)[MEMTRACE_NSTATES];	/* the last frame's */
	bool *huge;			/* a cell holds a huge mapping */
	uint64_t count_now[MEMTRACE_NSTATES], count_prev[MEMTRACE_NSTATES];
	bool have_prev;			/* prev is comparable (same scale) */
	uint64_t frame;			/* frames so far */
	uint64_t changed;		/* pages that changed state since the last frame */
	uint64_t last_changed, last_change_frame;	/* the last frame with changes */
	time_t last_change_when;
	long rss_kb, srss_kb;		/* VmRSS, smaps_rollup Rss: -1 if unknown */
	long prev_rss_kb, prev_srss_kb;
	double elapsed;			/* since the first frame, seconds */
	time_t when;
	struct mt_maps maps;		/* the last frame's /proc/PID/maps */
	bool have_maps;
	struct mt_watch_event ev[MT_WATCH_EVENTS];	/* the latest, oldest first */
	unsigned int nev;
	const struct mt_select *sel;	/* --state, --flags, --totals */
	struct mt_totals totals;	/* this frame's, of the pages they choose */
	bool show_totals;		/* one of them was given */
	int pidfd;			/* readable once the process exits; -1: none */
	bool exited;
};

#define MT_WATCH_GONE	(-2)	/* mt_watch_sample: the process exited */

/* watch.c */
void mt_watch_fit(struct mt_watch *w);
int mt_watch_sample(const struct mt_ctx *ctx, struct mt_watch *w);
void mt_watch_keep(struct mt_watch *w);
void mt_watch_exited(const struct mt_ctx *ctx, struct mt_watch *w);

/* watch_loop.c: the frames, the terminal, the signals */
int mt_watch_loop(const struct mt_ctx *ctx, struct mt_watch *w);
bool mt_watch_gone(const struct mt_watch *w);

/*
 * watch_loop.c's terminal, shared with top: the alternate screen, keys (q
 * quits, space: now), the window's size, Ctrl-Z, and signals that restore
 * the terminal before they end the process.
 */
enum { MT_WAIT_TICK, MT_WAIT_NOW, MT_WAIT_QUIT, MT_WAIT_SIGNAL, MT_WAIT_EXIT, MT_WAIT_RESIZE };
#define MT_TERM_BY_SIGNAL 128	/* a loop ended by a signal: mt_term_end() raises it */

void mt_term_signals(bool screen, sigset_t *wait);
void mt_term_buffer(void);
void mt_term_enter(void);
void mt_term_leave(void);
void mt_term_size(unsigned int *columns, unsigned int *rows);
void mt_term_draw(const char *buf, size_t len, unsigned int rows, unsigned int columns);
int mt_term_wait(const struct timespec *deadline, const sigset_t *mask, bool screen, int pidfd);
void mt_term_advance(struct timespec *next, long long step);
int mt_term_end(int ret);

/* out_watch.c: one printer per format for the lines; the screen */
struct mt_watch_printer {
	void (*event)(const struct mt_watch *w, const struct mt_watch_event *e);
	void (*frame)(const struct mt_watch *w);
};

const struct mt_watch_printer *mt_watch_printer(const struct mt_printer *out);
/* The whole screen into f, rows lines at most, none longer than w->columns. */
void mt_watch_screen(const struct mt_watch *w, FILE *f);
/* Lines the screen takes besides the picture's rows. */
unsigned int mt_watch_chrome(const struct mt_watch *w);
/* The picture of the cells into f, width cells a row. */
void mt_watch_map(const struct mt_watch *w, FILE *f, unsigned int width, bool labels,
		  bool color);

#endif /* MT_WATCH_H */
