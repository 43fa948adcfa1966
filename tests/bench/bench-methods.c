// SPDX-License-Identifier: GPL-2.0
/*
 * bench: the methods timed: memtrace over generic netlink and /proc, and
 * what a user has today: /proc/PID/pagemap, mincore(2), PAGEMAP_SCAN.
 */
#include "bench.h"

/* ------------------------------------------------------------------ */
/* generic netlink, through the tests' raw client (tests/lib/nlraw.h) */

static struct nlr nl;

/* Receive one datagram, waiting as long as the kernel takes; a truncated one is an error. */
static ssize_t nl_recv(void)
{
	ssize_t n = nlr_recv(&nl, 0);

	if (n == -EMSGSIZE) {
		fprintf(stderr, "bench: netlink message truncated\n");
		exit(1);
	}
	if (n < 0) {
		errno = (int)-n;
		bench_die("netlink recv");
	}
	return n;
}

void bench_nl_open(void)
{
	int err = nlr_open(&nl);

	if (err) {
		fprintf(stderr, "bench: genl family %s not found (module loaded?): %s\n",
			MEMTRACE_GENL_NAME, strerror(-err));
		exit(1);
	}
}

static uint64_t get_u64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static bool state_backed(unsigned int st)
{
	return st == MEMTRACE_PRESENT || st == MEMTRACE_ZERO;
}

/*
 * Add up one QUERY message: *backed gets the present and zero pages of its
 * records (packed arrays or nested records), *sum_backed those of the
 * summary, when the message carries it.
 */
static void nl_parse(struct nlmsghdr *h, uint64_t *backed, uint64_t *sum_backed)
{
	struct nlattr *a, *b;
	int rem, rem2;

	nlr_for_each_attr(a, (char *)NLMSG_DATA(h) + GENL_HDRLEN,
			  (int)(h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN)), rem) {
		unsigned int len = a->nla_len - NLA_HDRLEN;
		const char *d = nlr_data(a);

		switch (a->nla_type & NLA_TYPE_MASK) {
		case MEMTRACE_A_RUNS:
			for (unsigned int i = 0; i + sizeof(struct memtrace_run) <= len;
			     i += sizeof(struct memtrace_run)) {
				uint32_t w;

				memcpy(&w, d + i + offsetof(struct memtrace_run, word), 4);
				if (state_backed(MEMTRACE_PW_STATE(w)))
					*backed += get_u64(d + i + offsetof(struct memtrace_run, pages));
			}
			break;
		case MEMTRACE_A_PAGEVEC: {
			const uint32_t *w = (const uint32_t *)(d + sizeof(struct memtrace_pagevec));
			uint32_t n = ((const struct memtrace_pagevec *)d)->count;

			for (uint32_t i = 0; i < n; i++)
				*backed += state_backed(MEMTRACE_PW_STATE(w[i]));
			break;
		}
		case MEMTRACE_A_PAGEIDX: {
			const struct memtrace_pageidx *v = (const void *)d;
			const uint8_t *ix = (const uint8_t *)(v + 1);
			const uint32_t *w = (const uint32_t *)(d + MEMTRACE_PAGEIDX_WORDS_OFF(v->count));
			uint8_t b[MEMTRACE_PAGEIDX_WORDS_MAX] = { 0 };

			for (unsigned int i = 0; i < v->nwords; i++)
				b[i] = state_backed(MEMTRACE_PW_STATE(w[i]));
			for (uint32_t i = 0; i < v->count; i++)
				*backed += b[ix[i]];
			break;
		}
		case MEMTRACE_A_RECORD: {
			uint64_t pages = 0;
			int st = -1;

			nlr_for_each_attr(b, nlr_data(a), (int)len, rem2) {
				if (b->nla_type == MEMTRACE_R_PAGES)
					pages = get_u64(nlr_data(b));
				else if (b->nla_type == MEMTRACE_R_STATE)
					st = *(uint8_t *)nlr_data(b);
			}
			if (state_backed(st))
				*backed += pages;
			break;
		}
		case MEMTRACE_A_SUMMARY:
			nlr_for_each_attr(b, nlr_data(a), (int)len, rem2)
				if (state_backed(b->nla_type - 1))
					*sum_backed += get_u64(nlr_data(b));
			break;
		}
	}
}

/*
 * One QUERY dump of pid's [start, end) (end 0: to TASK_SIZE) in mode, packed
 * or with nested records, with pfns or not (how). Returns the backed pages of the summary, checked
 * against the records'. hook, when set, is called every 16 messages (kernel
 * memory probe).
 */

uint64_t bench_nl_query(int pid, uint64_t start, uint64_t end, int mode, int how,
			void (*hook)(void))
{
	static struct nlb r;
	uint64_t backed = 0, sum_backed = 0;
	unsigned int msgs = 0;
	bool done = false;
	int err;

	nlb_start(&r, &nl, MEMTRACE_CMD_QUERY, NLM_F_DUMP);
	nlb_u32(&r, MEMTRACE_A_PID, (uint32_t)pid);
	nlb_u64(&r, MEMTRACE_A_START, start);
	if (end)
		nlb_u64(&r, MEMTRACE_A_END, end);
	nlb_u8(&r, MEMTRACE_A_MODE, (uint8_t)mode);
	if (how & NL_PACKED)
		nlb_attr(&r, MEMTRACE_A_PACKED, NULL, 0);
	if (how & NL_NO_PFN)
		nlb_attr(&r, MEMTRACE_A_NO_PFN, NULL, 0);
	if (how & NL_INDEXED)
		nlb_attr(&r, MEMTRACE_A_INDEXED, NULL, 0);
	err = nlr_send(&nl, &r);
	if (err) {
		errno = -err;
		bench_die("netlink send");
	}

	while (!done) {
		ssize_t n = nl_recv();
		struct nlmsghdr *h;

		for (h = (struct nlmsghdr *)nl.buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r.seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				errno = -e->error;
				bench_die("memtrace QUERY");
			}
			nl_parse(h, &backed, &sum_backed);
			if (hook && ++msgs % 16 == 1)
				hook();
		}
	}
	if (backed != sum_backed) {
		fprintf(stderr, "bench: netlink records say %" PRIu64
			" backed pages, the summary %" PRIu64 "\n", backed, sum_backed);
		exit(1);
	}
	return sum_backed;
}

/* ------------------------------------------------------------------ */
/* /proc/memtrace */

char *bench_proc_buf;
char bench_proc_tail[512];

static int proc_fd = -1;

uint64_t bench_proc_query(int pid, uint64_t start, uint64_t end, const char *mode,
			  bool parse, void (*hook)(void))
{
	uint64_t backed = 0, sum_backed = 0;
	size_t keep = 0;
	unsigned int reads = 0;
	char q[128];
	int fd, len;
	ssize_t n;

	bench_proc_tail[0] = '\0';
	/*
	 * One open file for every query, as the netlink socket is one: a new
	 * query written to it replaces the last (memtrace.h).
	 */
	if (proc_fd < 0)
		proc_fd = open("/proc/memtrace", O_RDWR | O_CLOEXEC);
	if (proc_fd < 0)
		bench_die("open /proc/memtrace");
	fd = proc_fd;
	if (end)
		len = snprintf(q, sizeof(q), "%d 0x%" PRIx64 " 0x%" PRIx64 " %s\n",
			       pid, start, end, mode);
	else
		len = snprintf(q, sizeof(q), "%d all %s\n", pid, mode);
	if (write(fd, q, len) != len)
		bench_die("write /proc/memtrace");
	/*
	 * Lines may straddle reads: keep the partial last line in front of
	 * the next read. Parsing counts pages of present and zero lines.
	 */
	while ((n = read(fd, bench_proc_buf + keep, PROC_READ)) > 0) {
		char *p = bench_proc_buf, *e = bench_proc_buf + keep + n, *nl;

		if (hook && ++reads % 4 == 1)
			hook();
		if (!parse) {
			/* keep the last bytes: the summary is the last line */
			size_t cap = sizeof(bench_proc_tail) - 1, t = strlen(bench_proc_tail);

			if ((size_t)n >= cap) {
				memcpy(bench_proc_tail, e - cap, cap);
				t = cap;
			} else {
				if (t + n > cap) {
					memmove(bench_proc_tail, bench_proc_tail + t + n - cap,
						cap - n);
					t = cap - n;
				}
				memcpy(bench_proc_tail + t, e - n, n);
				t += n;
			}
			bench_proc_tail[t] = '\0';
			continue;
		}
		while ((nl = memchr(p, '\n', e - p))) {
			if (p[0] == '0') {
				char *t = memchr(p, '\t', nl - p);
				uint64_t pages = strtoull(t + 1, &t, 10);

				if (t[1] == 'p' || t[1] == 'z')	/* present, zero */
					backed += pages;
			} else if (!strncmp(p, "# summary", 9)) {
				*nl = '\0';
				snprintf(bench_proc_tail, sizeof(bench_proc_tail), "%s", p);
			}
			p = nl + 1;
		}
		keep = e - p;
		memmove(bench_proc_buf, p, keep);
	}
	if (n < 0)
		bench_die("read /proc/memtrace");
	{
		char *s = strstr(bench_proc_tail, " zero="), *t = strstr(bench_proc_tail, " present=");

		if (!s || !t) {
			fprintf(stderr, "bench: no summary in /proc/memtrace's answer\n");
			exit(1);
		}
		sum_backed = strtoull(s + 6, NULL, 10) + strtoull(t + 9, NULL, 10);
	}
	if (parse && backed != sum_backed) {
		fprintf(stderr, "bench: /proc records say %" PRIu64
			" backed pages, the summary %" PRIu64 "\n", backed, sum_backed);
		exit(1);
	}
	return sum_backed;
}

/* ------------------------------------------------------------------ */
/* the others */

uint64_t *bench_pm_buf;
unsigned char *bench_mc_buf;
struct mt_page_region *bench_scan_buf;

size_t bench_pm_cap;	/* entries in pm_buf */

/* Like page-types: one pread of the range's entries (chunked past pm_cap). */
uint64_t bench_pagemap_pread(int pid, uint64_t start, uint64_t end)
{
	char path[64];
	uint64_t backed = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		bench_die("open pagemap");
	while (start < end) {
		size_t n = (end - start) / PAGE < bench_pm_cap ? (end - start) / PAGE : bench_pm_cap;

		if (pread(fd, bench_pm_buf, n * 8, start / PAGE * 8) != (ssize_t)(n * 8))
			bench_die("pread pagemap (short)");
		for (size_t i = 0; i < n; i++)
			backed += bench_pm_buf[i] >> 63;
		start += n * PAGE;
	}
	close(fd);
	return backed;
}

uint64_t bench_do_mincore(uint64_t start, uint64_t end)
{
	size_t n = (end - start) / PAGE;
	uint64_t backed = 0;

	if (mincore((void *)start, end - start, bench_mc_buf))
		bench_die("mincore");
	for (size_t i = 0; i < n; i++)
		backed += bench_mc_buf[i] & 1;
	return backed;
}

/* PAGEMAP_SCAN for present pages; -1 when the kernel lacks it. */
int64_t bench_pagemap_scan(int pid, uint64_t start, uint64_t end)
{
	struct mt_pm_scan_arg a = {
		.size = sizeof(a), .start = start, .end = end,
		.vec = (uintptr_t)bench_scan_buf, .vec_len = MT_SCAN_VEC,
		.category_mask = MT_PAGE_IS_PRESENT,
		.return_mask = MT_PAGE_IS_PRESENT,
	};
	char path[64];
	int64_t backed = 0;
	uint64_t seen = start;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		bench_die("open pagemap");
	for (;;) {
		n = ioctl(fd, MT_PAGEMAP_SCAN, &a);
		if (n < 0) {
			close(fd);
			return -1;
		}
		/*
		 * Count each page once: a walk resumed at walk_end can report
		 * again the end of a region the previous call returned.
		 */
		for (int i = 0; i < n; i++) {
			uint64_t lo = bench_scan_buf[i].start > seen ? bench_scan_buf[i].start : seen;

			if (bench_scan_buf[i].end > lo)
				backed += (bench_scan_buf[i].end - lo) / PAGE;
			if (bench_scan_buf[i].end > seen)
				seen = bench_scan_buf[i].end;
		}
		if (a.walk_end >= end)
			break;
		a.start = a.walk_end;
	}
	close(fd);
	return backed;
}
