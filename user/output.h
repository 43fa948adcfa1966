/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The output layer: one printer per format, as wg(8) has one function per
 * output. Commands gather what they found into the views below and hand
 * them over; a printer only prints (out_human.c, out_tsv.c, out_json.c).
 * Stable machine formats: never change what tsv and json print without a
 * reason, scripts read them.
 */
#ifndef MT_OUTPUT_H
#define MT_OUTPUT_H

#include "transport.h"

struct mt_demo;

/* One query's answer (query.c), after its records. */
struct mt_query_view {
	const struct mt_summary *sum;
	unsigned int page_size;
	bool color;
	unsigned int columns;		/* the picture fits them */
	const struct mt_record *recs;	/* the records kept for the picture */
	size_t nrecs;
	bool draw;			/* draw the picture of recs */
	bool omitted;			/* the picture is too large: say so */
	uint64_t mapped_pages;
	bool pfn_note;			/* frames hidden from us: say why (once a command) */
	const struct mt_totals *totals;	/* of the pages shown (--totals, a filter), or NULL */
};

/* One verify query's result (verify.c). */
struct mt_verify_view {
	long pid;
	const struct mt_header *hdr;
	const struct mt_check *check;
	bool cmp_pfn;
	bool pfn_hidden;		/* compared, but pagemap hides frames from us */
	const struct mt_totals *totals;	/* of the pages checked, or NULL */
};

/* One line of maps with its pages by state (maps.c). */
struct mt_maps_row {
	size_t index;
	const struct mt_map *map;
	const uint64_t *count;		/* [MEMTRACE_NSTATES] */
	uint64_t kbytes;
	bool queried;			/* below the answer's end */
};

struct mt_maps_total {
	uint64_t kbytes;
	const uint64_t *count;		/* [MEMTRACE_NSTATES] */
	const uint64_t *outside;	/* mapped pages in no line of maps */
	unsigned int page_size;
	long long smaps_rss_kb;		/* -1: unavailable */
	const struct mt_totals *totals;	/* of the pages counted, or NULL */
};

struct mt_printer {
	const char *name;
	bool human;	/* for people: colors by default, the picture, the demo's prompts */

	/* --each (query and verify): which line of maps span i of n is, before it */
	void (*span_label)(const struct mt_map *m, size_t i, size_t n);

	/* query: open, then per span [sep], [label], header, records, summary; close */
	void (*query_open)(bool each);
	void (*query_sep)(void);
	void (*query_header)(const struct mt_header *h);
	void (*query_record)(const struct mt_record *r, bool first);
	void (*query_summary)(const struct mt_query_view *v);
	void (*query_close)(bool each);

	/* verify: the same frame (and labels); disagreements between header and result */
	void (*verify_open)(bool each);
	void (*verify_sep)(void);
	void (*verify_header)(const struct mt_header *h);
	void (*verify_disagree)(const struct mt_disagreement *d, unsigned int n, bool color);
	void (*verify_result)(const struct mt_verify_view *v);
	void (*verify_abort)(void);	/* a failed query after the header */
	void (*verify_close)(bool each);

	/* maps */
	void (*maps_header)(long pid, unsigned int page_size);
	void (*maps_row)(const struct mt_maps_row *row);
	void (*maps_total)(const struct mt_maps_total *t);

	/* info */
	void (*info)(const char *transport, const struct mt_info *info);

	/* diff and query --since (out_diff.c) */
	const struct mt_diff_ops *diff;

	/* demo: begin, region (once mapped), a stage each, end */
	void (*demo_begin)(const struct mt_demo *d);
	void (*demo_region)(const struct mt_demo *d);
	void (*demo_stage)(const struct mt_demo *d);
	void (*demo_end)(const struct mt_demo *d);
};

extern const struct mt_printer mt_out_human, mt_out_tsv, mt_out_json;
extern const struct mt_diff_ops mt_diff_human, mt_diff_tsv, mt_diff_json;

/* out_common.c: what more than one printer writes */
extern const char *const mt_mode_names[];
extern const char *const mt_flag_names[];
extern const unsigned int mt_nflag_names;
void mt_out_states(unsigned int n, const char *sep, bool json);
void mt_out_flag_list(uint32_t mask, const char *sep, bool json);
void mt_out_name(const char *name);
bool mt_out_has_frame(const struct mt_record *r);
bool mt_out_pfn_hidden(const struct mt_record *r);
void mt_out_nothing(void);
void mt_out_nothing_b(bool b);
void mt_out_no_label(const struct mt_map *m, size_t i, size_t n);

/* out_totals.c: totals in each format (json: a member of the object open) */
void mt_out_totals_human(const char *label, const struct mt_totals *t, unsigned int ps);
void mt_out_totals_tsv(const char *label, const struct mt_totals *t);
void mt_out_totals_json(const char *key, const struct mt_totals *t, unsigned int ps);

/* out_demo.c: the human printer's demo */
void mt_out_demo_begin(const struct mt_demo *d);
void mt_out_demo_region(const struct mt_demo *d);
void mt_out_demo_stage(const struct mt_demo *d);
void mt_out_demo_end(const struct mt_demo *d);

#endif /* MT_OUTPUT_H */
