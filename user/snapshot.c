// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots: one query's answer with the process's maps and Rss at that
 * instant, written as JSON (the members of `memtrace query --json`, and
 * more: memtrace(1), SNAPSHOTS) and read back strictly: anything that is
 * not a snapshot of this format version is refused with a reason.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

/* The records of an answer as they come (mt_record_cb). */
int mt_snap_add(const struct mt_header *h, const struct mt_record *r, void *arg)
{
	struct mt_snap *s = arg;

	s->hdr = *h;
	if (s->nrecs == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->recs = mt_xrealloc(s->recs, s->cap * sizeof(*s->recs));
	}
	s->recs[s->nrecs++] = *r;
	return 0;
}

void mt_snap_free(struct mt_snap *s)
{
	free(s->recs);
	mt_maps_free(&s->maps);
	free(s->range);
	if (s->doc) {
		mt_json_free(s->doc);
		free(s->doc);
	}
	memset(s, 0, sizeof(*s));
}

static void write_maps(FILE *f, const struct mt_maps *maps)
{
	for (size_t i = 0; i < maps->n; i++) {
		const struct mt_map *m = &maps->v[i];

		fprintf(f, "%s\n{\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"perms\":\"%s\","
			"\"offset\":\"0x%llx\",\"dev\":", i ? "," : "",
			(unsigned long long)m->start, (unsigned long long)m->end, m->perms,
			(unsigned long long)m->offset);
		mt_json_str(f, m->dev);
		fprintf(f, ",\"inode\":%llu,\"name\":", (unsigned long long)m->inode);
		mt_json_str(f, m->name);
		fputc('}', f);
	}
}

/* The snapshot as JSON: query --json's members first, one record a line. */
void mt_snap_write(FILE *f, const struct mt_snap *s)
{
	const struct mt_header *h = &s->hdr;

	fprintf(f, "{\"format\":\"%s\",\"format_version\":%d,\"client_version\":",
		MT_SNAP_FORMAT, MT_SNAP_VERSION);
	mt_json_str(f, MEMTRACE_VERSION);
	fprintf(f, ",\"time\":\"%s\",\"range\":", s->time);
	mt_json_str(f, s->range ? s->range : "");
	fprintf(f, ",\n\"pid\":%ld,\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"page_size\":%u,"
		"\"mode\":\"%s\",\"records\":[", h->pid, (unsigned long long)h->start,
		(unsigned long long)h->end, h->page_size, mt_mode_names[h->mode]);
	for (size_t i = 0; i < s->nrecs; i++) {
		fputs(i ? ",\n" : "\n", f);
		mt_json_record(f, &s->recs[i], h->page_size);
	}
	fprintf(f, "],\n\"summary\":");
	mt_json_summary(f, &s->sum);
	fprintf(f, ",\n\"rss_kbytes\":");
	if (s->rss_kb >= 0)
		fprintf(f, "%lld", s->rss_kb);
	else
		fputs("null", f);
	fprintf(f, ",\n\"maps\":[");
	write_maps(f, &s->maps);
	fprintf(f, "]}\n");
}
