// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mtlib.h"

const char *const mt_state_names[MEMTRACE_NSTATES] = MEMTRACE_STATE_NAMES;

int mt_state_of(const char *name)
{
	for (int i = 0; i < MEMTRACE_NSTATES; i++)
		if (!strcmp(name, mt_state_names[i]))
			return i;
	return -1;
}

static uint32_t flags_of(const char *w, const char *size)
{
	static const char letters[] = MEMTRACE_FLAG_LETTERS;
	uint32_t f = 0;

	if (strlen(w) != MEMTRACE_FLAGS_WIDTH)
		return ~0U;
	static const char kinds[] = MEMTRACE_KIND_LETTERS;
	const char *k = w[0] != '-' ? strchr(kinds, w[0]) : NULL;

	if (w[0] != '-' && !k)
		return ~0U;
	if (k)
		f |= MEMTRACE_F_ANON << (k - kinds);
	for (int i = 0; i < MEMTRACE_FLAGS_WIDTH - 1; i++)
		if (w[i + 1] == letters[i])
			f |= MEMTRACE_F_HUGETLB << i;
	if (!strcmp(size, "2M"))
		f |= MEMTRACE_F_SIZE_2M;
	else if (!strcmp(size, "1G"))
		f |= MEMTRACE_F_SIZE_1G;
	return f;
}

static char *read_all(int fd, int *err)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	for (;;) {
		if (len + 4096 > cap)
			buf = realloc(buf, cap *= 2);
		n = read(fd, buf + len, 4096);	/* small reads exercise resumption */
		if (n < 0) {
			*err = -errno;
			free(buf);
			return NULL;
		}
		if (!n)
			break;
		len += n;
	}
	buf[len] = '\0';
	return buf;
}

/* Parse text into a; pages outside [a->start, a->end) are an error. */
static int parse_answer(char *text, struct mt_answer *a)
{
	uint64_t pagesz = sysconf(_SC_PAGESIZE), next;
	char *save, *line;
	unsigned long npages;

	if (sscanf(text, "# memtrace pid=%d start=0x%" SCNx64 " end=0x%" SCNx64,
		   &a->pid, &a->start, &a->end) != 3)
		return -EBADMSG;
	npages = (a->end - a->start) / pagesz;
	/* Huge ranges are checked record by record, not expanded. */
	a->pages = npages <= (1UL << 22) ? calloc(npages ? npages : 1, sizeof(*a->pages)) : NULL;
	next = a->start;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char state[32], size[8], flags[16];
		uint64_t addr, pages, pfn;
		uint32_t f;
		int node, s;

		if (!strncmp(line, "# summary ", 10)) {
			char *p = line + 10, *tok, *s2;

			for (tok = strtok_r(p, " ", &s2); tok;
			     tok = strtok_r(NULL, " ", &s2)) {
				char *eq = strchr(tok, '=');

				if (!eq)
					return -EBADMSG;
				*eq = '\0';
				if (!strcmp(tok, "pages"))
					a->total = strtoull(eq + 1, NULL, 10);
				else if ((s = mt_state_of(tok)) >= 0)
					a->counts[s] = strtoull(eq + 1, NULL, 10);
				else
					return -EBADMSG;
			}
			a->have_summary = true;
			continue;
		}
		if (line[0] == '#')
			continue;
		if (sscanf(line, "0x%" SCNx64 "\t%" SCNu64 "\t%31s\t%7s\t%15s\t0x%" SCNx64 "\t%d",
			   &addr, &pages, state, size, flags, &pfn, &node) != 7)
			return -EBADMSG;
		s = mt_state_of(state);
		f = flags_of(flags, size);
		if (s < 0 || f == ~0U || addr != next || !pages ||
		    addr + pages * pagesz > a->end)
			return -EBADMSG;
		for (uint64_t i = 0; a->pages && i < pages; i++) {
			struct mt_page *p = &a->pages[(addr - a->start) / pagesz + i];

			p->state = s;
			p->flags = f;
			/* Runs carry the first pfn; huge pages step within. */
			p->pfn = pfn && (f & MEMTRACE_F_SIZE_MASK) ? pfn + i : pfn;
			p->node = node;
		}
		next = addr + pages * pagesz;
		a->records++;
	}
	if (next != a->end || !a->have_summary)
		return -EBADMSG;
	return 0;
}

int mt_query(int pid, uint64_t start, uint64_t end, const char *mode,
	     struct mt_answer *a)
{
	char q[128];
	int fd, err = 0, len;
	char *text;

	memset(a, 0, sizeof(*a));
	fd = open("/proc/memtrace", O_RDWR);
	if (fd < 0)
		return -errno;
	len = snprintf(q, sizeof(q), "%d 0x%" PRIx64 " 0x%" PRIx64 " %s\n",
		       pid, start, end, mode);
	if (write(fd, q, len) != len) {
		err = -errno;
		close(fd);
		return err;
	}
	text = read_all(fd, &err);
	close(fd);
	if (!text)
		return err;
	err = parse_answer(text, a);
	free(text);
	return err;
}

int mt_write_raw(const void *buf, size_t len)
{
	int fd = open("/proc/memtrace", O_RDWR), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, buf, len) < 0)
		err = -errno;
	close(fd);
	return err;
}

void mt_answer_free(struct mt_answer *a)
{
	free(a->pages);
	a->pages = NULL;
}

int mt_pagemap(int pid, uint64_t start, uint64_t end, uint64_t *out)
{
	uint64_t pagesz = sysconf(_SC_PAGESIZE);
	size_t len = (end - start) / pagesz * 8;
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = pread(fd, out, len, start / pagesz * 8);
	close(fd);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

unsigned long mt_crosscheck(int pid, const struct mt_answer *a, bool pfns)
{
	uint64_t pagesz = sysconf(_SC_PAGESIZE);
	unsigned long n = (a->end - a->start) / pagesz, bad = 0;
	uint64_t *pm = calloc(n ? n : 1, 8);

	if (mt_pagemap(pid, a->start, a->end, pm)) {
		free(pm);
		return n ? n : 1;
	}
	for (unsigned long i = 0; i < n; i++) {
		const struct mt_page *p = &a->pages[i];
		bool present = pm[i] & PM_PRESENT, swapped = pm[i] & PM_SWAP;
		bool ok;

		switch (p->state) {
		case MEMTRACE_PRESENT:
		case MEMTRACE_ZERO:
			/* pagemap skips VM_PFNMAP mappings: it cannot tell */
			ok = (p->flags & MEMTRACE_F_PFNMAP) ||
			     (present && (!pfns || (pm[i] & PM_PFN) == p->pfn));
			break;
		case MEMTRACE_SWAP:
			ok = swapped;
			break;
		case MEMTRACE_NONE:
		case MEMTRACE_UNMAPPED:
			ok = !present && !swapped;
			break;
		default:	/* migration and others: pagemap reports them variously */
			ok = true;
		}
		if (!ok && bad++ < 5)
			printf("# page 0x%" PRIx64 ": memtrace %s pfn 0x%" PRIx64
			       ", pagemap 0x%016" PRIx64 "\n",
			       a->start + i * pagesz, mt_state_names[p->state],
			       p->pfn, pm[i]);
	}
	free(pm);
	return bad;
}
