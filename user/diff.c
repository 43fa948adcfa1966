// SPDX-License-Identifier: GPL-2.0
/*
 * What changed between two snapshots: the lines of maps added and removed,
 * then the pages whose state or flags changed, in runs of pages that made
 * the same change (none -> present: 8 pages at 0x...), with the totals of
 * each side. Only where both snapshots have pages is compared.
 */
#include <errno.h>
#include <string.h>

#include "output.h"

static uint64_t rec_end(const struct mt_record *r, unsigned int ps)
{
	return r->addr + r->pages * ps;
}

/* The common range and page size of a and b; -EINVAL (err says why) if none. */
int mt_diff_init(struct mt_diff *d, const struct mt_snap *a, const struct mt_snap *b,
		 char *err, size_t errlen)
{
	memset(d, 0, sizeof(*d));
	d->a = a;
	d->b = b;
	d->page_size = a->hdr.page_size;
	if (a->hdr.page_size != b->hdr.page_size) {
		snprintf(err, errlen, "the snapshots have different page sizes (%u, %u)",
			 a->hdr.page_size, b->hdr.page_size);
		return -EINVAL;
	}
	d->start = a->hdr.start > b->hdr.start ? a->hdr.start : b->hdr.start;
	d->end = a->hdr.end < b->hdr.end ? a->hdr.end : b->hdr.end;
	if (d->start >= d->end) {
		snprintf(err, errlen, "the snapshots cover no common range (0x%llx-0x%llx, "
			 "0x%llx-0x%llx)", (unsigned long long)a->hdr.start,
			 (unsigned long long)a->hdr.end, (unsigned long long)b->hdr.start,
			 (unsigned long long)b->hdr.end);
		return -EINVAL;
	}
	return 0;
}

static bool map_same(const struct mt_map *x, const struct mt_map *y)
{
	return x->start == y->start && x->end == y->end && x->offset == y->offset &&
	       x->inode == y->inode && !strcmp(x->perms, y->perms) &&
	       !strcmp(x->dev, y->dev) && !strcmp(x->name, y->name);
}

/* Lines of maps only a has (removed) or only b has (added), in address order. */
static void diff_maps(struct mt_diff *d, const struct mt_diff_ops *ops, void *arg)
{
	const struct mt_maps *ma = &d->a->maps, *mb = &d->b->maps;
	size_t i = 0, j = 0;

	while (i < ma->n || j < mb->n) {
		const struct mt_map *x = i < ma->n ? &ma->v[i] : NULL;
		const struct mt_map *y = j < mb->n ? &mb->v[j] : NULL;

		if (x && y && map_same(x, y)) {
			i++;
			j++;
		} else if (x && (!y || x->start <= y->start)) {
			d->maps_removed++;
			ops->map(d, x, false, arg);
			i++;
		} else {
			d->maps_added++;
			ops->map(d, y, true, arg);
			j++;
		}
	}
}

/* The first record of s that ends after addr */
static size_t rec_at(const struct mt_snap *s, uint64_t addr)
{
	size_t i = 0;

	while (i + 1 < s->nrecs && rec_end(&s->recs[i], s->hdr.page_size) <= addr)
		i++;
	return i;
}

/* A piece of pages in one state in a, another in b: into the run being built */
static void changed(struct mt_diff *d, struct mt_change *cur, const struct mt_change *c,
		    const struct mt_diff_ops *ops, void *arg)
{
	d->changed += c->pages;
	d->moves[c->from.state][c->to.state] += c->pages;
	if (cur->pages && cur->addr + cur->pages * d->page_size == c->addr &&
	    cur->from.state == c->from.state && cur->from.flags == c->from.flags &&
	    cur->to.state == c->to.state && cur->to.flags == c->to.flags) {
		cur->pages += c->pages;
		return;
	}
	if (cur->pages) {
		d->nchanges++;
		ops->change(d, cur, arg);
	}
	*cur = *c;
}

static void diff_pages(struct mt_diff *d, const struct mt_diff_ops *ops, void *arg)
{
	const struct mt_snap *a = d->a, *b = d->b;
	size_t i = rec_at(a, d->start), j = rec_at(b, d->start);
	struct mt_change cur = { 0 };
	uint64_t addr = d->start, ps = d->page_size;

	while (addr < d->end) {
		const struct mt_record *x = &a->recs[i], *y = &b->recs[j];
		uint64_t end = rec_end(x, ps) < rec_end(y, ps) ? rec_end(x, ps) : rec_end(y, ps);
		struct mt_change c = { .addr = addr, .from = *x, .to = *y };

		end = end < d->end ? end : d->end;
		c.pages = (end - addr) / ps;
		mt_totals_add(&d->ta, x, c.pages);
		mt_totals_add(&d->tb, y, c.pages);
		if ((x->state != y->state || x->flags != y->flags) &&
		    (mt_filter_match(d->filter, x->state, x->flags) ||
		     mt_filter_match(d->filter, y->state, y->flags)))
			changed(d, &cur, &c, ops, arg);
		addr = end;
		i += rec_end(x, ps) == end && i + 1 < a->nrecs;
		j += rec_end(y, ps) == end && j + 1 < b->nrecs;
	}
	if (cur.pages) {
		d->nchanges++;
		ops->change(d, &cur, arg);
	}
}

/* The whole diff through ops: begin, maps, pages, end. */
void mt_diff_run(struct mt_diff *d, const struct mt_diff_ops *ops, void *arg)
{
	ops->begin(d, arg);
	diff_maps(d, ops, arg);
	ops->pages(d, arg);
	diff_pages(d, ops, arg);
	ops->end(d, arg);
}
