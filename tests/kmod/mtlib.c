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

const char *const mt_state_names[MEMTRACE_NSTATES_ALL] = MEMTRACE_STATE_NAMES_ALL;

int mt_state_of(const char *name)
{
	for (int i = 0; i < MEMTRACE_NSTATES_ALL; i++)
		if (!strcmp(name, mt_state_names[i]))
			return i;
	return -1;
}

static uint32_t flags_of(const char *w, const char *size)
{
	static const char letters[] = MEMTRACE_FLAG_LETTERS;
	uint32_t f = 0;

	/* an answer with "cached": one letter more, b (WRITEBACK) */
	if (strlen(w) == MEMTRACE_FLAGS_WIDTH_CACHED) {
		if (w[MEMTRACE_FLAGS_WIDTH] == 'b')
			f |= MEMTRACE_F_WRITEBACK;
		else if (w[MEMTRACE_FLAGS_WIDTH] != '-')
			return ~0U;
	} else if (strlen(w) != MEMTRACE_FLAGS_WIDTH) {
		return ~0U;
	}
	static const char kinds[] = MEMTRACE_KIND_LETTERS;
	const char *k = w[0] != '-' ? strchr(kinds, w[0]) : NULL;

	if (w[0] != '-' && !k)
		return ~0U;
	if (k)
		f |= MEMTRACE_F_ANON << (k - kinds);
	for (int i = 0; i < MEMTRACE_FLAGS_WIDTH - 1; i++)
		if (w[i + 1] == letters[i])
			f |= MEMTRACE_F_HUGETLB << i;
	/*
	 * The size column: this kernel's page, PMD or PUD size (4K 2M 1G, or
	 * 16K 32M 64G on arm64-16k); any other word (a "4K" where pages are
	 * 16K) is a bad record.
	 */
	char *end;
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE), n = strtoull(size, &end, 10);

	if (!strcmp(end, "K"))
		n <<= 10;
	else if (!strcmp(end, "M"))
		n <<= 20;
	else if (!strcmp(end, "G"))
		n <<= 30;
	else if (!strcmp(end, "T"))
		n <<= 40;
	else
		return ~0U;
	if (n == ps * ps / 8)
		f |= MEMTRACE_F_SIZE_PMD;
	else if (n == ps * ps / 8 * ps / 8)
		f |= MEMTRACE_F_SIZE_PUD;
	else if (n != ps)
		return ~0U;
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
				else if ((s = mt_state_of(tok)) >= 0) {
					a->counts[s] = strtoull(eq + 1, NULL, 10);
					a->have_cached |= s == MEMTRACE_CACHED;
				}
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
			p->pfn_unknown = i && !(f & MEMTRACE_F_SIZE_MASK);
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

int mt_kpageflags(uint64_t pfn, uint64_t *flags)
{
	int fd = open("/proc/kpageflags", O_RDONLY), err = 0;

	if (fd < 0)
		return -errno;
	errno = 0;
	if (pread(fd, flags, 8, pfn * 8) != 8)
		err = errno ? -errno : -EIO;
	close(fd);
	return err;
}

/* What the cross-check of one answer reads besides pagemap, read once. */
struct xcheck_ctx {
	int pid;
	bool pfns;
	int kpf;		/* /proc/kpageflags, or -errno */
	int swap_areas;		/* active ones, from /proc/swaps; -1: not read */
	/* the VMA last looked up in /proc/PID/smaps */
	uint64_t vma_start, vma_end;
	bool vma_pfnmap, vma_hugetlb;
};

static bool has_word(const char *line, const char *w)
{
	size_t len = strlen(w);

	for (const char *s = line; (s = strstr(s, w)); s += len)
		if ((s == line || s[-1] == ' ') &&
		    (s[len] == ' ' || s[len] == '\n' || !s[len]))
			return true;
	return false;
}

/* Find addr's VMA in smaps (VmFlags pf: VM_PFNMAP, ht: VM_HUGETLB). */
static bool xcheck_vma(struct xcheck_ctx *c, uint64_t addr)
{
	char path[64], line[512];
	bool in = false, found = false;
	uint64_t s, e;
	FILE *f;

	if (addr >= c->vma_start && addr < c->vma_end)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/smaps", c->pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " ", &s, &e) == 2) {
			in = s <= addr && addr < e;
			if (in) {
				c->vma_start = s;
				c->vma_end = e;
			}
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			c->vma_pfnmap = has_word(line + 8, "pf");
			c->vma_hugetlb = has_word(line + 8, "ht");
			found = true;
			break;
		}
	}
	if (f)
		fclose(f);
	if (!found)
		c->vma_start = c->vma_end = 0;
	return found;
}

static int xcheck_swap_areas(struct xcheck_ctx *c)
{
	char line[256];
	FILE *f;

	if (c->swap_areas >= 0)
		return c->swap_areas;
	c->swap_areas = 0;
	f = fopen("/proc/swaps", "r");
	while (f && fgets(line, sizeof(line), f))
		c->swap_areas += strncmp(line, "Filename", 8) != 0;
	if (f)
		fclose(f);
	return c->swap_areas;
}

/*
 * What the module says of a page against /proc/PID/pagemap (as
 * fs/proc/task_mmu.c writes it, 5.10 to 7.3) and /proc/kpageflags of the
 * frame pagemap shows:
 *
 *   module says     pagemap must show
 *   unmapped        nothing: the entry is 0 (a hole outside every VMA)
 *   none            nothing but maybe soft-dirty (a hole or an empty entry)
 *   zero            present, not exclusive, and a 4K one no file page
 *                   (vm_normal_page() is NULL for the zero page); kpageflags
 *                   of the frame: ZERO_PAGE, with THP for 2M, without for 4K
 *   present         present; anon no file page, file and shmem a file page;
 *                   kpageflags: not ZERO_PAGE, not NOPAGE, HUGE exactly for
 *                   hugetlb
 *   present pfnmap  present; or nothing in a VM_PFNMAP mapping, which
 *                   pagemap does not walk: not judged
 *   swap            swapped, a swap area's type, a swap area active
 *   migration,      swapped, a type no swap area has (a migration entry no
 *   other           guard marker); in a hugetlb mapping pagemap shows no
 *                   swap bit for these entries: not judged there
 *
 * With pfns, the frame or swap entry is the module's, where it knows it.
 * Without the frames (pagemap shows them to CAP_SYS_ADMIN only) the zero
 * page cannot be told from a frame of its own, nor a swap area's type from
 * another: not judged. Returns why the page disagrees, or NULL; then *nj
 * says why it could not be judged, if so.
 */
static const char *xcheck_page(struct xcheck_ctx *c, const struct mt_page *p,
			       uint64_t addr, uint64_t e, const char **nj)
{
	bool present = e & PM_PRESENT, swapped = e & PM_SWAP;
	bool cmp = c->pfns && !p->pfn_unknown;
	uint64_t frame = e & PM_PFN, kpf = 0;

	*nj = NULL;
	switch (p->state) {
	case MEMTRACE_UNMAPPED:
		return e ? "unmapped here, pagemap has an entry" : NULL;
	case MEMTRACE_NONE:
		if (present || swapped)
			return present ? "pagemap: present" : "pagemap: swapped";
		return e & ~PM_SOFT_DIRTY ? "none here, pagemap has bits set" : NULL;
	case MEMTRACE_ZERO:
	case MEMTRACE_PRESENT:
		if (!present && p->state == MEMTRACE_PRESENT &&
		    (p->flags & MEMTRACE_F_PFNMAP) && !(e & ~PM_SOFT_DIRTY)) {
			if (!xcheck_vma(c, addr))
				return "pfnmap here, in no mapping of smaps";
			if (!c->vma_pfnmap)
				return "pfnmap here, no entry in pagemap, which walks this mapping";
			*nj = "pagemap does not walk VM_PFNMAP mappings";
			return NULL;
		}
		if (!present)
			return swapped ? "pagemap: swapped" : "pagemap: not present";
		if (cmp && frame && p->pfn != frame)
			return p->pfn ? "pfn differs" : "pfn hidden by the module, shown by pagemap";
		if (p->flags & MEMTRACE_F_PFNMAP)
			return NULL;	/* a raw frame: pagemap's flags say nothing */
		if (p->state == MEMTRACE_ZERO) {
			if (e & PM_EXCLUSIVE)
				return "zero page here, pagemap: mapped exclusively";
			if (!(p->flags & MEMTRACE_F_SIZE_MASK) && (e & PM_FILE))
				return "zero page here, pagemap: a file page";
		} else if (!(p->flags & MEMTRACE_F_KIND_MASK)) {
			return "present, but neither anon, file, shmem nor pfnmap";
		} else if (!(p->flags & MEMTRACE_F_ANON) != !!(e & PM_FILE)) {
			return p->flags & MEMTRACE_F_ANON ? "anon here, file page in pagemap" :
			       "file or shmem here, anonymous in pagemap";
		}
		if (!frame) {
			*nj = "pagemap hides frames (no CAP_SYS_ADMIN): zero page or a frame of its own?";
			return NULL;
		}
		if (c->kpf < 0 || pread(c->kpf, &kpf, 8, frame * 8) != 8) {
			*nj = "no /proc/kpageflags entry: zero page or a frame of its own?";
			return NULL;
		}
		if (p->state == MEMTRACE_ZERO) {
			if (!(kpf & 1ULL << MT_KPF_ZERO_PAGE))
				return "zero here, kpageflags: not the zero page";
			if ((p->flags & MEMTRACE_F_SIZE_2M) && !(kpf & 1ULL << MT_KPF_THP))
				return "2M zero here, kpageflags: the 4K zero page";
			if (!(p->flags & MEMTRACE_F_SIZE_MASK) && (kpf & 1ULL << MT_KPF_THP))
				return "4K zero here, kpageflags: the huge zero page";
			return NULL;
		}
		if (kpf & 1ULL << MT_KPF_ZERO_PAGE)
			return "present here, kpageflags: the zero page";
		if (kpf & 1ULL << MT_KPF_NOPAGE)
			return "present here, kpageflags: no struct page (a raw frame)";
		if (!(p->flags & MEMTRACE_F_HUGETLB) != !(kpf & 1ULL << MT_KPF_HUGE))
			return p->flags & MEMTRACE_F_HUGETLB ? "hugetlb here, kpageflags: not HUGE" :
			       "kpageflags: a hugetlb page, not flagged h here";
		return NULL;
	case MEMTRACE_SWAP:
		if (present || !swapped)
			return present ? "pagemap: present" : "pagemap: not swapped";
		if (!xcheck_swap_areas(c))
			return "swap here, but /proc/swaps lists no swap area";
		if (!frame) {
			*nj = "pagemap hides swap entries (no CAP_SYS_ADMIN): a swap area's or not?";
			return NULL;
		}
		if (PM_SWAP_TYPE(frame) >= MT_SWAP_TYPE_SPECIAL_MIN)
			return "swap here, pagemap: a type no swap area has (migration, hwpoison, device, marker)";
		if (cmp && p->pfn != frame)
			return p->pfn ? "swap entry differs" :
			       "swap entry hidden by the module, shown by pagemap";
		return NULL;
	default:	/* migration, other */
		if (present)
			return "pagemap: present";
		if (!swapped) {
			if (xcheck_vma(c, addr) && c->vma_hugetlb) {
				*nj = "pagemap shows no swap bit for a non-present hugetlb entry";
				return NULL;
			}
			return "pagemap: not swapped";
		}
		if (!frame) {
			*nj = "pagemap hides entry types (no CAP_SYS_ADMIN): a swap area's or not?";
			return NULL;
		}
		if (PM_SWAP_TYPE(frame) < MT_SWAP_TYPE_SPECIAL_MIN)
			return "pagemap: a swap area's entry (by its type)";
		if (p->state == MEMTRACE_MIGRATION && (e & PM_GUARD))
			return "migration here, pagemap: a guard region marker";
		return NULL;
	}
}

unsigned long mt_crosscheck_ex(int pid, const struct mt_answer *a, bool pfns,
			       struct mt_xcheck *x)
{
	uint64_t pagesz = sysconf(_SC_PAGESIZE);
	unsigned long n = (a->end - a->start) / pagesz;
	uint64_t *pm = calloc(n ? n : 1, 8);
	struct xcheck_ctx c = { .pid = pid, .pfns = pfns, .swap_areas = -1 };

	memset(x, 0, sizeof(*x));
	if (!a->pages || mt_pagemap(pid, a->start, a->end, pm)) {
		printf("# pagemap of pid %d for [0x%" PRIx64 ", 0x%" PRIx64 ") not read\n",
		       pid, a->start, a->end);
		free(pm);
		x->pages = n;
		x->disagree = n ? n : 1;
		return x->disagree;
	}
	c.kpf = open("/proc/kpageflags", O_RDONLY);
	if (c.kpf < 0)
		c.kpf = -errno;
	for (unsigned long i = 0; i < n; i++) {
		const struct mt_page *p = &a->pages[i];
		uint64_t addr = a->start + i * pagesz;
		const char *nj, *why = xcheck_page(&c, p, addr, pm[i], &nj);

		x->pages++;
		if (why) {
			if (x->disagree++ < 5)
				printf("# page 0x%" PRIx64 ": memtrace %s flags 0x%x pfn 0x%" PRIx64
				       ", pagemap 0x%016" PRIx64 ": %s\n", addr,
				       mt_state_names[p->state], p->flags, p->pfn, pm[i], why);
		} else if (nj) {
			if (!x->unjudged++)
				x->why = nj;
			if (x->unjudged <= 3)
				printf("# page 0x%" PRIx64 ": memtrace %s flags 0x%x, pagemap 0x%016"
				       PRIx64 ": not judged: %s\n", addr,
				       mt_state_names[p->state], p->flags, pm[i], nj);
		} else {
			x->agree++;
		}
	}
	if (c.kpf >= 0)
		close(c.kpf);
	free(pm);
	return x->disagree;
}

unsigned long mt_crosscheck(int pid, const struct mt_answer *a, bool pfns)
{
	struct mt_xcheck x;
	unsigned long bad = mt_crosscheck_ex(pid, a, pfns, &x);

	if (x.unjudged)
		printf("# %lu of %lu pages not judged against pagemap (first: %s)\n",
		       x.unjudged, x.pages, x.why);
	return bad;
}
