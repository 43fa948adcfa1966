// SPDX-License-Identifier: GPL-2.0
/*
 * The cross-check, in the spirit of page_entry_is() in the mm selftests:
 * two views of the same page must agree.
 *
 *   module state        pagemap must show
 *   present, zero       present (same PFN when pagemap shows one), except
 *                       raw PFN mappings, which pagemap does not report
 *   swap, migration     swapped (same swap entry when pagemap shows one)
 *   none, unmapped      neither present nor swapped
 *   other               not present
 *
 * An anonymous page must not be a file page in pagemap either. With maps,
 * pages in a state other than unmapped must lie in a mapping and unmapped
 * runs must not touch one. Unmapped runs longer than MT_CHECK_GAP_MAX pages
 * (the gaps of an "all" query) are checked at their two ends only.
 */
#include <errno.h>

#include "mt.h"

static void disagree(struct mt_check *c, const struct mt_record *r, uint64_t addr,
		     uint64_t e, const char *why)
{
	struct mt_disagreement d = { .addr = addr, .rec = r, .entry = e, .why = why };

	c->disagree++;
	if (c->on_disagree)
		c->on_disagree(&d, c->arg);
}

static const char *page_problem(struct mt_check *c, const struct mt_record *r,
				uint64_t i, uint64_t e)
{
	bool first = i == 0;

	switch (r->state) {
	case MEMTRACE_PRESENT:
	case MEMTRACE_ZERO:
		/* pagemap skips VM_PFNMAP/VM_IO mappings ([vvar]): it can't tell */
		if (r->flags & MEMTRACE_F_PFNMAP)
			return NULL;
		if (!mt_pm_present(e))
			return mt_pm_swap(e) ? "pagemap: swapped" : "pagemap: not present";
		if (c->cmp_pfn && mt_pm_pfn(e)) {
			/* runs: only the first page's frame is known */
			uint64_t want = r->pfn + (r->pages == 1 ? 0 : i);

			if ((r->pages == 1 || first) && r->pfn && mt_pm_pfn(e) != want)
				return "pfn differs";
			if ((r->pages == 1 || first) && !r->pfn)
				return "pfn hidden by the module, shown by pagemap";
		}
		if (r->state == MEMTRACE_PRESENT && (r->flags & MEMTRACE_F_ANON) &&
		    (e & MT_PM_FILE))
			return "anon here, file page in pagemap";
		return NULL;
	case MEMTRACE_SWAP:
	case MEMTRACE_MIGRATION:
		if (!mt_pm_swap(e))
			return mt_pm_present(e) ? "pagemap: present" : "pagemap: not swapped";
		if (c->cmp_pfn && first && mt_pm_pfn(e) && r->pfn && mt_pm_pfn(e) != r->pfn)
			return "swap entry differs";
		return NULL;
	case MEMTRACE_OTHER:
		return mt_pm_present(e) ? "pagemap: present" : NULL;
	default:	/* none, unmapped */
		if (mt_pm_present(e))
			return "pagemap: present";
		if (mt_pm_swap(e))
			return "pagemap: swapped";
		return NULL;
	}
}

static int check_page(struct mt_check *c, const struct mt_record *r, uint64_t i)
{
	uint64_t addr = r->addr + i * c->page_size, e = 0;
	const char *why;
	int ret = mt_pagemap_get(c->pm, addr, &e);

	if (ret) {
		c->err = ret;
		return ret;
	}
	c->checked++;
	why = page_problem(c, r, i, e);
	if (!why && c->maps && r->state != MEMTRACE_UNMAPPED &&
	    mt_maps_lookup(c->maps, addr) < 0)
		why = "in no mapping of /proc/PID/maps";
	if (why)
		disagree(c, r, addr, e, why);
	else
		c->agree++;
	return 0;
}

int mt_check_record(struct mt_check *c, const struct mt_record *r)
{
	uint64_t end = r->addr + r->pages * c->page_size;
	int ret;

	if (r->state == MEMTRACE_UNMAPPED && c->maps && mt_maps_overlap(c->maps, r->addr, end))
		disagree(c, r, r->addr, 0, "unmapped, but /proc/PID/maps has a mapping here");
	if (r->state == MEMTRACE_UNMAPPED && r->pages > MT_CHECK_GAP_MAX) {
		c->sampled_gaps++;
		ret = check_page(c, r, 0);
		return ret ? ret : check_page(c, r, r->pages - 1);
	}
	for (uint64_t i = 0; i < r->pages; i++) {
		ret = check_page(c, r, i);
		if (ret)
			return ret;
	}
	return 0;
}
