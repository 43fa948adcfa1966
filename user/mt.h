/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memtrace client: declarations shared by the subcommands.
 * Every non-static symbol is prefixed mt_.
 */
#ifndef MT_H
#define MT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "memtrace.h"

#ifndef MEMTRACE_VERSION
#define MEMTRACE_VERSION "unknown"
#endif

#define MT_EXIT_OK	 0
#define MT_EXIT_FAIL	 1
#define MT_EXIT_USAGE	 2

#define MT_ERR_MAX	 256
#define MT_LINE_MAX	 512	/* longest line accepted in an answer */

/* every state's name, CACHED's too (only in answers that ask for it) */
extern const char *const mt_state_names[MEMTRACE_NSTATES_ALL];
extern const char *mt_prog;

/* ---- one record of an answer, and the answer's frame ---- */
struct mt_record {
	uint64_t addr;
	uint64_t pages;
	int state;		/* enum memtrace_state */
	uint32_t flags;		/* enum memtrace_flag */
	uint64_t pfn;
	int node;
	/* bytes of its pages' folio when asked (--folio); 1: asked, it has none; else 0 */
	uint64_t folio;
};

struct mt_header {
	long pid;		/* a file's answer: the descriptor */
	const char *path;	/* a file's answer: its path, else NULL */
	uint64_t start, end;
	unsigned int page_size;
	int mode;		/* enum memtrace_mode */
	bool folio;		/* records carry folio sizes */
};

int mt_parse_folio(const char *s, size_t len, uint64_t *bytes);
const char *mt_folio_name(uint64_t bytes, char buf[16]);
struct mt_record;
/* FOLIO: its size where the page has one (present, zero, cached), else "-" */
const char *mt_folio_text(const struct mt_record *r, char buf[16]);

struct mt_summary {
	uint64_t pages;
	uint64_t count[MEMTRACE_NSTATES_ALL];	/* CACHED: when asked for */
};

/* Return non-zero to stop the answer (the value is handed back). */
typedef int (*mt_record_cb)(const struct mt_header *h,
			    const struct mt_record *r, void *arg);

/* ---- answer.c: the text answer of /proc/memtrace ---- */
enum mt_answer_phase {
	MT_ANS_HEADER = 0,	/* expecting "# memtrace ..." */
	MT_ANS_COLUMNS,		/* expecting "# addr\tpages..." */
	MT_ANS_RECORDS,		/* records, then the summary */
	MT_ANS_DONE,		/* summary seen */
};

struct mt_answer {
	char line[MT_LINE_MAX];
	size_t len;
	unsigned int lineno;
	int phase;
	bool overlong;
	struct mt_header hdr;
	struct mt_summary tally;	/* counted from the records */
	struct mt_summary sum;		/* as printed by the module */
	uint64_t next;			/* address the next record must start at */
	mt_record_cb cb;
	void *arg;
	int cb_ret;
	char err[MT_ERR_MAX];
};

int mt_state_from_name(const char *s, size_t len);
int mt_parse_flags(const char *s, size_t len, uint32_t *flags);
/* MEMTRACE_FLAGS_WIDTH letters, one more (b) for a page under writeback */
#define MT_FLAGS_BUF (MEMTRACE_FLAGS_WIDTH_CACHED + 1)
void mt_format_flags(uint32_t flags, char out[MT_FLAGS_BUF]);
/*
 * What one entry maps: a page, or a PMD or PUD of page_size/8 entries of
 * the one below (2M and 1G with 4K pages, 32M and 64G with 16K pages).
 */
uint64_t mt_pmd_size(unsigned int page_size);
uint64_t mt_pud_size(unsigned int page_size);
const char *mt_size_name(uint32_t flags, unsigned int page_size);
int mt_parse_size(const char *s, size_t len, uint32_t *flags);
int mt_parse_header(const char *line, struct mt_header *h, char *err, size_t errlen);
int mt_parse_record(const char *line, struct mt_record *r, char *err, size_t errlen);
int mt_parse_summary(const char *line, struct mt_summary *s, char *err, size_t errlen);
void mt_answer_init(struct mt_answer *a, mt_record_cb cb, void *arg);
/* 0 ok, -EPROTO malformed (a->err says why), >0 the callback's value */
int mt_answer_feed(struct mt_answer *a, const char *buf, size_t n);
int mt_answer_finish(struct mt_answer *a);

/* ---- filter.c: which pages to show (--state, --flags), and their totals ---- */
struct mt_filter {
	bool active;		/* a --state or --flags was given */
	uint32_t states;	/* 1 << state of the states shown; 0: all */
	uint32_t set, clear;	/* flags a page must have, must not have */
};

#define MT_TOTALS_NODES 64

struct mt_totals {
	uint64_t pages;
	uint64_t state[MEMTRACE_NSTATES_ALL];	/* CACHED: when asked for */
	/* present pages only: */
	uint64_t node[MT_TOTALS_NODES];	/* by NUMA node */
	uint64_t node_other;		/* no node, or one past MT_TOTALS_NODES */
	uint64_t thp;			/* mapped by a huge entry (2M, 1G), not hugetlb */
	uint64_t hugetlb;
	uint64_t excl, shared;		/* mapped once (x), or not */
};

int mt_filter_states(struct mt_filter *f, const char *arg, char *err, size_t errlen);
int mt_filter_flags(struct mt_filter *f, const char *arg, char *err, size_t errlen);
bool mt_filter_match(const struct mt_filter *f, int state, uint32_t flags);
void mt_totals_add(struct mt_totals *t, const struct mt_record *r, uint64_t pages);

/* ---- util.c ---- */
int mt_parse_u64(const char *s, size_t len, uint64_t *out);
int mt_parse_pid(const char *s, long *pid);
void *mt_xmalloc(size_t n);
void *mt_xrealloc(void *p, size_t n);
char *mt_xstrdup(const char *s);
void mt_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mt_verr(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int mt_read_file(const char *path, char **buf, size_t *len);	/* -errno */
long long mt_smaps_rss_kb(long pid);	/* Rss of smaps_rollup (or smaps); -1 */
const char *mt_proc_field(const char *buf, const char *key);	/* key "\nVmRSS:" */
long mt_proc_kb(const char *buf, const char *key);	/* -1: no such key */
/* out_common.c: sizes and counts for people (the library's printers use them) */
const char *mt_human_size(uint64_t bytes, char *buf, size_t len);
const char *mt_human_kb_delta(long kb, char *buf, size_t len);
const char *mt_plural(uint64_t n);
const char *mt_pid_no_mm(long pid);	/* a kernel thread or a zombie: why, else NULL */

/* ---- range.c: RANGE arguments and /proc/PID/maps ---- */
enum mt_range_kind { MT_RANGE_SPAN, MT_RANGE_ALL, MT_RANGE_NAME };

struct mt_range {
	int kind;
	uint64_t start, end;	/* MT_RANGE_SPAN: [start, end) */
	const char *name;	/* MT_RANGE_NAME */
};

struct mt_map {
	uint64_t start, end, offset, inode;
	char perms[5];
	char dev[16];
	const char *name;	/* "" for anonymous; points into mt_maps.buf */
};

struct mt_maps {
	struct mt_map *v;
	size_t n;
	char *buf;
};

int mt_range_parse(const char *s, struct mt_range *r, char *err, size_t errlen);
int mt_maps_parse_line(char *line, struct mt_map *m);
int mt_maps_parse(char *buf, struct mt_maps *maps);	/* takes buf */
int mt_maps_read(long pid, struct mt_maps *maps);	/* pid 0: self; -errno */
void mt_maps_free(struct mt_maps *maps);
bool mt_map_matches(const struct mt_map *m, const char *name);
ssize_t mt_maps_lookup(const struct mt_maps *maps, uint64_t addr);
bool mt_maps_overlap(const struct mt_maps *maps, uint64_t start, uint64_t end);
/* Resolve a name: the matching lines [*first, *last]; -ENOENT if none. */
int mt_maps_find(const struct mt_maps *maps, const char *name,
		 size_t *first, size_t *last);

/* ---- pagemap.c ---- */
#define MT_PM_PFN_MASK	    ((1ULL << 55) - 1)
#define MT_PM_SOFT_DIRTY    (1ULL << 55)
#define MT_PM_MMAP_EXCL     (1ULL << 56)
#define MT_PM_UFFD_WP	    (1ULL << 57)
#define MT_PM_FILE	    (1ULL << 61)
#define MT_PM_SWAP	    (1ULL << 62)
#define MT_PM_PRESENT	    (1ULL << 63)
#define MT_PM_CACHE	    512

struct mt_pagemap {
	int fd;
	unsigned int page_size;
	uint64_t base;		/* first cached vaddr */
	unsigned int n;		/* cached entries */
	uint64_t cache[MT_PM_CACHE];
};

int mt_pagemap_open(struct mt_pagemap *pm, long pid, unsigned int page_size);
void mt_pagemap_reset(struct mt_pagemap *pm);
int mt_pagemap_get(struct mt_pagemap *pm, uint64_t vaddr, uint64_t *entry);
void mt_pagemap_close(struct mt_pagemap *pm);
static inline bool mt_pm_present(uint64_t e) { return e & MT_PM_PRESENT; }
static inline bool mt_pm_swap(uint64_t e) { return e & MT_PM_SWAP; }
static inline uint64_t mt_pm_pfn(uint64_t e) { return e & MT_PM_PFN_MASK; }
const char *mt_pm_describe(uint64_t e, char *buf, size_t len);

/* ---- check.c: a record against pagemap (and maps) ---- */
struct mt_disagreement {
	uint64_t addr;
	const struct mt_record *rec;
	uint64_t entry;		/* pagemap entry */
	const char *why;
};

typedef void (*mt_disagree_cb)(const struct mt_disagreement *d, void *arg);

struct mt_check {
	struct mt_pagemap *pm;
	const struct mt_maps *maps;	/* optional */
	bool cmp_pfn;
	unsigned int page_size;
	mt_disagree_cb on_disagree;
	void *arg;
	uint64_t checked, agree, disagree, sampled_gaps;
	int err;		/* -errno of a failed pagemap read */
};

#define MT_CHECK_GAP_MAX 65536	/* unmapped runs longer than this are sampled */

int mt_check_record(struct mt_check *c, const struct mt_record *r);

/* ---- json.c ---- */
void mt_json_str(FILE *f, const char *s);
void mt_json_strn(FILE *f, const char *s, size_t len);
void mt_json_record(FILE *f, const struct mt_record *r, unsigned int page_size);
void mt_json_summary(FILE *f, const struct mt_summary *s);

/* ---- jsonr.c: reading JSON back (snapshots) ---- */
enum mt_jtype { MT_J_NULL, MT_J_BOOL, MT_J_NUM, MT_J_STR, MT_J_ARR, MT_J_OBJ };

struct mt_jval {
	int type;		/* enum mt_jtype */
	char *key;		/* a member's name */
	char *s;		/* a string, or a number's text (integers only) */
	bool b;
	struct mt_jval *v;	/* the elements, or the members */
	size_t n;
};

int mt_json_parse(const char *buf, size_t len, struct mt_jval *out, char *err, size_t errlen);
void mt_json_free(struct mt_jval *v);
const struct mt_jval *mt_json_get(const struct mt_jval *o, const char *key);

/* ---- snapshot.c, snap_read.c: a query's answer with maps and Rss, as JSON ---- */
#define MT_SNAP_FORMAT_KEY "format"
#define MT_SNAP_FORMAT	   "memtrace-snapshot"
#define MT_SNAP_VERSION	   1

struct mt_snap {
	struct mt_header hdr;
	struct mt_summary sum;
	struct mt_record *recs;
	size_t nrecs, cap;
	struct mt_maps maps;
	long long rss_kb;		/* Rss of smaps_rollup; -1: unknown */
	char time[40];			/* UTC, ISO 8601 */
	char *range;			/* the RANGE it was taken of */
	struct mt_jval *doc;		/* read back: the document (maps' names) */
};

int mt_snap_add(const struct mt_header *h, const struct mt_record *r, void *arg);
void mt_snap_write(FILE *f, const struct mt_snap *s);
int mt_snap_parse(const char *buf, size_t len, struct mt_snap *s, char *err, size_t errlen);
int mt_snap_read(const char *path, struct mt_snap *s, char *err, size_t errlen);
void mt_snap_free(struct mt_snap *s);

/* ---- diff.c: what changed between two snapshots ---- */
struct mt_change {
	uint64_t addr, pages;
	struct mt_record from, to;	/* the state and flags before and after */
};

struct mt_diff {
	const struct mt_snap *a, *b;
	const char *name_a, *name_b;	/* what to call them */
	const struct mt_filter *filter;	/* changes from or to these pages only */
	uint64_t start, end;		/* compared: where both have pages */
	unsigned int page_size;
	bool totals;			/* --totals: all of them, for people too */
	uint64_t changed;		/* pages */
	size_t nchanges;		/* runs of them */
	size_t maps_added, maps_removed;
	uint64_t moves[MEMTRACE_NSTATES_ALL][MEMTRACE_NSTATES_ALL];	/* pages, from -> to */
	struct mt_totals ta, tb;	/* of [start, end) */
};

struct mt_diff_ops {
	void (*begin)(const struct mt_diff *d, void *arg);
	void (*map)(const struct mt_diff *d, const struct mt_map *m, bool added, void *arg);
	void (*pages)(const struct mt_diff *d, void *arg);	/* after the maps */
	void (*change)(const struct mt_diff *d, const struct mt_change *c, void *arg);
	void (*end)(const struct mt_diff *d, void *arg);
};

int mt_diff_init(struct mt_diff *d, const struct mt_snap *a, const struct mt_snap *b,
		 char *err, size_t errlen);
void mt_diff_run(struct mt_diff *d, const struct mt_diff_ops *ops, void *arg);

size_t mt_utf8_len(const unsigned char *s, size_t left);	/* 0: invalid there */

/* ---- picture.c ---- */
#define MT_PICTURE_ROWS	  64	/* rows of cells at most, for any size (see memtrace(1)) */
#define MT_PICTURE_LABEL  18	/* "  0x000000010000  " before each row's cells */
#define MT_PICTURE_MIN	  8	/* cells a row has at least, however narrow the screen */

struct mt_picture {
	FILE *out;
	unsigned int width;	/* cells per row */
	uint64_t scale;		/* pages per cell */
	unsigned int page_size;
	bool color;
	bool labels;		/* address at the start of each row */
	uint64_t addr;		/* address of the next page */
	unsigned int col;
	uint64_t rows;
	uint64_t cell[MEMTRACE_NSTATES_ALL];	/* pages of each state in the cell being filled */
	uint64_t cell_pages;
	bool cell_huge;
};

char mt_picture_char(int state, uint32_t flags);
const char *mt_picture_color(int state);
void mt_picture_init(struct mt_picture *p, FILE *out, unsigned int page_size,
		     unsigned int width, bool color, bool labels);
void mt_picture_add(struct mt_picture *p, const struct mt_record *r);
void mt_picture_end(struct mt_picture *p);
void mt_picture_fit(struct mt_picture *p, unsigned int columns, uint64_t pages);
void mt_picture_scale_note(const struct mt_picture *p);
void mt_picture_legend(FILE *out, bool color, unsigned int columns, bool cached);
/* Fill buf[0..npages) for [start, start + npages pages) from one record. */
void mt_picture_fill(char *buf, uint64_t start, uint64_t npages,
		     unsigned int page_size, const struct mt_record *r);

/* ---- the context of a command (main.c) ---- */
struct mt_transport_ops;
struct mt_session;
struct mt_printer;	/* output.h: one per format */

struct mt_ctx {
	const struct mt_transport_ops *tp;
	struct mt_session *ses;		/* the transport's, owned by main */
	const struct mt_printer *out;	/* &mt_out_human, _tsv or _json */
	int color_mode;			/* --color: -1 auto, 0 never, 1 always */
	bool color;
	unsigned int columns;		/* --width, else $COLUMNS, else 80 */
};

/* ---- the command table (cmd.c) ---- */
struct mt_opt {
	const char *name;	/* the long option */
	char shrt;		/* its short letter, or 0 */
	int val;		/* what the parser hands to the command */
	const char *arg;	/* its argument as help shows it (" N", "=WHEN"), or NULL */
	const char *help;	/* lines for help; NULL: an alias, not shown */
	const char *words;	/* what completion offers for the argument */
};

struct mt_command {
	const char *name;
	const char *args;	/* operands, as help shows them */
	const char *summary;
	const struct mt_opt *opts;	/* ends with { NULL } */
	int (*run)(struct mt_ctx *ctx, int argc, char **argv);
};

#define MT_OPT_COLOR	  1000
#define MT_OPT_TRANSPORT  1001
#define MT_OPT_WIDTH	  1002
#define MT_OPT_STATE	  1003
#define MT_OPT_FLAGS	  1004
#define MT_OPT_TOTALS	  1005
#define MT_OPT_SINCE	  1006
#define MT_OPT_FOLIO	  1007
#define MT_OPT_OUTPUT	  'o'
#define MT_OPT_VERSION	  'V'
#define MT_OPT_COMPLETION 1100
#define MT_OPTS_MAX	  24	/* options of main or of a command, with the common ones */
#define MT_GO		  (-1)	/* mt_parse_opts: go on with the operands */

typedef int (*mt_opt_fn)(void *state, int val, const char *arg);
struct option;

extern const struct mt_command *const mt_commands[];	/* NULL-terminated */
extern const struct mt_opt mt_common_opts[];
extern const struct mt_opt mt_main_opts[];	/* main's own, before the command */
extern const struct mt_command mt_cmd_demo, mt_cmd_query, mt_cmd_verify, mt_cmd_maps,
			       mt_cmd_map, mt_cmd_info, mt_cmd_snapshot, mt_cmd_diff, mt_cmd_file;
extern const struct mt_command mt_cmd_watch, mt_cmd_top;

const struct mt_command *mt_command_find(const char *name);
void mt_getopt_tables(const struct mt_opt *const lists[], struct option *lo, size_t nlo,
		      char *so, size_t nso);
int mt_parse_opts(struct mt_ctx *ctx, const struct mt_command *c, int argc, char **argv,
		  mt_opt_fn fn, void *state);
int mt_common_opt(struct mt_ctx *ctx, int opt, const char *arg);

/* --state, --flags and --totals: which pages a command shows, and their totals */
struct mt_select {
	struct mt_filter filter;
	bool totals;
};

/* the three in each command's table that takes them */
#define MT_SELECT_STATE_OPT						\
	{ .name = "state",						\
	  .val = MT_OPT_STATE,						\
	  .arg = " LIST",						\
	  .help = "only pages in these states (present,zero,...)",	\
	  .words = "unmapped none zero present swap migration other" }
#define MT_SELECT_FLAGS_OPT						\
	{ .name = "flags",						\
	  .val = MT_OPT_FLAGS,						\
	  .arg = " LIST",						\
	  .help = "only pages with these flags, -F: without F (2M,x,-w)\n" \
		  "a f s p h w d y x, 4K 2M 1G, or their names" }
#define MT_SELECT_TOTALS_OPT						\
	{ .name = "totals",						\
	  .val = MT_OPT_TOTALS,						\
	  .help = "totals per state, NUMA node, THP, hugetlb, exclusive\n" \
		  "and shared (implied by --state and --flags)" }

/* One of the MT_SELECT_*_OPT into s: 0, or the exit code of a bad one */
int mt_select_opt(const char *cmd, struct mt_select *s, int val, const char *arg);
/* The totals to print, or NULL */
const struct mt_totals *mt_select_totals(const struct mt_select *s, const struct mt_totals *t);
int mt_bad_opt(const char *cmd, int opt, char *const argv[]);
void mt_ctx_finish(struct mt_ctx *ctx);
void mt_usage(FILE *f);
void mt_usage_of(const char *cmd, FILE *f);
int mt_bad_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mt_complete_bash(FILE *f);		/* complete.c */

/*
 * Resolve RANGE for PID into spans; caller frees *spans. maps_out, unless
 * NULL: /proc/PID/maps as read (whatever the RANGE), for mt_maps_free().
 */
struct mt_span { uint64_t start, end; bool all; };
int mt_resolve_range(long pid, const char *arg, bool each, struct mt_span **spans,
		     size_t *n, struct mt_maps *maps_out);

/* query.c: PID and RANGE arguments (prints errors, returns an exit code) */
int mt_pid_range_args(const char *cmd, int argc, char **argv, bool each, long *pid,
		      struct mt_span **spans, size_t *n, struct mt_maps *maps);
int mt_proc_fail(long pid, const char *what, int e);
/* snap_cmd.c: query --since FILE */
/* query.c: one query printed whole, as query prints a span (memtrace file) */
struct mt_query;
int mt_query_print(struct mt_ctx *ctx, const struct mt_query *q, int picture,
		   const struct mt_select *sel);
int mt_since(const struct mt_ctx *ctx, const char *file, long pid, const char *range,
	     const struct mt_span *sp, const struct mt_select *sel);
void mt_span_label(const struct mt_ctx *ctx, bool each, const struct mt_maps *maps,
		   const struct mt_span *spans, size_t i, size_t n);

#endif /* MT_H */
