// SPDX-License-Identifier: GPL-2.0
/*
 * bounded [MEMTRACE]: the netlink QUERY dump streams in bounded memory.
 *
 * A target maps 64 MiB with 16 MiB written and 1 GiB untouched
 * (MAP_NORESERVE: no memory), then waits. Its whole address space is
 * answered in runs mode, then in pages mode the 64 MiB region alone (16384
 * records) and "all" (more than 278528 records, tens of MiB of messages),
 * read slowly, one socket buffer at a time, while /proc/meminfo is sampled:
 * the kernel's memory (Slab, and MemFree) must not grow by more than 1 MiB
 * above idle for either, whatever the size of the range. Then the same with
 * the client (MEMTRACE, default /lab/memtrace) writing its TSV into a pipe
 * read slowly: its RSS must not grow with the range either (it streams,
 * never buffers the answer). TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kasan.h"
#include "nlraw.h"
#include "tap.h"

#define MiB (1ULL << 20)
#define LIMIT (1 * MiB)		/* allowed growth over idle */

static struct nlr s;
static struct nlb b;
static long psz;

struct mem {
	long long free_kb, slab_kb;
};

static struct mem meminfo(void)
{
	struct mem m = { -1, -1 };
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "MemFree:", 8))
			m.free_kb = atoll(line + 8);
		else if (!strncmp(line, "Slab:", 5))
			m.slab_kb = atoll(line + 5);
	}
	if (f)
		fclose(f);
	return m;
}

/* Idle level: the median-ish of a few samples (max free, min slab). */
static struct mem idle_level(void)
{
	struct mem best = meminfo();

	for (int i = 0; i < 5; i++) {
		struct mem m;

		usleep(20000);
		m = meminfo();
		if (m.free_kb > best.free_kb)
			best.free_kb = m.free_kb;
		if (m.slab_kb < best.slab_kb)
			best.slab_kb = m.slab_kb;
	}
	return best;
}

struct watch {
	struct mem idle, worst;	/* lowest free, highest slab seen */
	unsigned int samples;
};

static void sample(struct watch *w)
{
	struct mem m = meminfo();

	if (!w->samples++ || m.free_kb < w->worst.free_kb)
		w->worst.free_kb = m.free_kb;
	if (w->samples == 1 || m.slab_kb > w->worst.slab_kb)
		w->worst.slab_kb = m.slab_kb;
}

static long long grew_free(const struct watch *w)
{
	return (w->idle.free_kb - w->worst.free_kb) * 1024;
}

static long long grew_slab(const struct watch *w)
{
	return (w->worst.slab_kb - w->idle.slab_kb) * 1024;
}

/* ---- raw dump, read slowly ---- */

struct dump {
	struct watch w;
	uint64_t records, pages, next, total;
	bool bad, summary;
	unsigned int msgs;
};

static int dump_cb(const struct nlmsghdr *h, void *arg)
{
	struct dump *d = arg;
	struct nlattr *a, *r;
	int rem, rrem;

	nlr_for_each_attr(a, (char *)NLMSG_DATA(h) + GENL_HDRLEN,
			  (int)(h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN), rem) {
		if (nlr_type(a) == MEMTRACE_A_RECORD) {
			uint64_t addr = 0, pages = 0;

			nlr_for_each_attr(r, nlr_data(a), nlr_len(a), rrem) {
				if (nlr_type(r) == MEMTRACE_R_ADDR)
					memcpy(&addr, nlr_data(r), 8);
				else if (nlr_type(r) == MEMTRACE_R_PAGES)
					memcpy(&pages, nlr_data(r), 8);
			}
			if (d->records && addr != d->next)
				d->bad = true;
			d->records++;
			d->pages += pages;
			d->next = addr + pages * psz;
		} else if (nlr_type(a) == MEMTRACE_A_SUMMARY) {
			d->summary = true;
			nlr_for_each_attr(r, nlr_data(a), nlr_len(a), rrem)
				if (nlr_len(r) == 8)
					d->total += *(uint64_t *)nlr_data(r);
		}
	}
	/* slow reader: a pause after every message, a sample every other */
	usleep(1000);
	if (++d->msgs % 2 == 0)
		sample(&d->w);
	return 0;
}

static int dump(pid_t pid, uint64_t start, uint64_t end, int mode, struct dump *d,
		struct nlr_result *r)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->w.idle = idle_level();
	nlb_start(&b, &s, MEMTRACE_CMD_QUERY, NLM_F_DUMP);
	nlb_u32(&b, MEMTRACE_A_PID, (uint32_t)pid);
	if (end) {
		nlb_u64(&b, MEMTRACE_A_START, start);
		nlb_u64(&b, MEMTRACE_A_END, end);
	}
	nlb_u8(&b, MEMTRACE_A_MODE, (uint8_t)mode);
	ret = nlr_send(&s, &b);
	if (!ret)
		ret = nlr_wait(&s, b.seq, r, dump_cb, d);
	sample(&d->w);
	return ret;
}

static void report(const char *what, const struct dump *d, const struct nlr_result *r,
		   uint64_t want_pages)
{
	tap_ok(r->answered && !r->error && !d->bad && d->summary && d->pages == want_pages &&
	       d->total == want_pages,
	       "%s: answered, %" PRIu64 " records, %" PRIu64 " pages, %u messages, %zu KiB",
	       what, d->records, d->pages, d->msgs, r->bytes / 1024);
	if (r->error || !r->answered)
		tap_diag("error %d answered %d", r->error, r->answered);
	if (d->pages != want_pages || d->total != want_pages)
		tap_diag("pages %" PRIu64 " summary %" PRIu64 ", want %" PRIu64, d->pages,
			 d->total, want_pages);
}

/*
 * Slab's growth and MemFree's drop at the worst sample, against idle. With a
 * client process running, MemFree also pays for its pages, pipe and page
 * cache: then only Slab is the kernel's, and MemFree is shown for reference.
 */
static void bounded_as(const char *what, const struct watch *w, size_t answer_bytes,
		       bool count_free)
{
	/*
	 * KASAN's quarantine keeps freed objects (every netlink buffer the dump
	 * used) out of the allocator for a while, so Slab grows with traffic,
	 * not with what is live: the bound means nothing there. kmemleak,
	 * after rmmod, is the debug kernel's check.
	 */
	if (mt_kasan_kernel()) {
		tap_ok(1, "%s: Slab %lld KiB, MemFree %lld KiB # SKIP KASAN quarantine", what,
		       grew_slab(w) / 1024, grew_free(w) / 1024);
		return;
	}
	tap_ok(grew_slab(w) < (long long)LIMIT &&
	       (!count_free || grew_free(w) < (long long)LIMIT),
	       "%s: kernel memory taken at worst: Slab %lld KiB, MemFree %lld KiB "
	       "(limit %llu KiB each; the answer is %zu KiB; %u samples)", what,
	       grew_slab(w) / 1024, grew_free(w) / 1024, LIMIT / 1024, answer_bytes / 1024,
	       w->samples);
}

static void bounded(const char *what, const struct watch *w, size_t answer_bytes)
{
	bounded_as(what, w, answer_bytes, true);
}

/* ---- the client into a slow pipe ---- */

struct client_run {
	int status;
	size_t bytes;
	long rss_min_kb, rss_max_kb, hwm_kb;
	struct watch w;
};

/*
 * The client's resident set, counted from its page tables (smaps_rollup's
 * Rss): VmRSS is a counter that kernels before 6.2 fold in per thread every
 * 64 faults, so with fault-around it can lag by megabytes and then jump
 * (seen: 324..2000 KiB on 5.10 for a client whose peak was 2004 KiB).
 */
static long rss_kb(pid_t pid)
{
	char path[64], line[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Rss:", 4))
			v = atol(line + 4);
	if (f)
		fclose(f);
	return v;
}

static void run_client(const char *memtrace, pid_t pid, const char *range, struct client_run *c)
{
	char pidarg[16], buf[65536];
	int fds[2];
	pid_t child;
	unsigned int n = 0;

	memset(c, 0, sizeof(*c));
	c->rss_min_kb = -1;
	snprintf(pidarg, sizeof(pidarg), "%d", (int)pid);
	if (pipe(fds))
		exit(2);
	child = fork();
	if (!child) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl(memtrace, memtrace, "--transport=netlink", "query", "--pages", "--tsv",
		      pidarg, range, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		ssize_t got = read(fds[0], buf, sizeof(buf));

		if (got <= 0)
			break;
		c->bytes += (size_t)got;
		/*
		 * The idle level once the client is up and streaming (it waits
		 * on the full pipe meanwhile): its own memory is not the
		 * kernel's growth.
		 */
		if (++n == 4)
			c->w.idle = idle_level();
		if (n > 4 && n % 4 == 0) {
			long r = rss_kb(child);

			if (r > 0 && n > 8) {
				if (c->rss_min_kb < 0 || r < c->rss_min_kb)
					c->rss_min_kb = r;
				if (r > c->rss_max_kb)
					c->rss_max_kb = r;
			}
			sample(&c->w);
			usleep(2000);
		}
	}
	close(fds[0]);
	{
		struct rusage ru;

		/* the peak RSS of its whole life (ru_maxrss, KiB) */
		if (wait4(child, &c->status, 0, &ru) == child)
			c->hwm_kb = ru.ru_maxrss;
	}
}

int main(int argc, char **argv)
{
	const char *memtrace = argc > 1 ? argv[1] : "/lab/memtrace";
	uint64_t task_size = 0, small, big;
	struct nlr_result r;
	struct dump d;
	int fds[2], err, st;
	pid_t t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	psz = sysconf(_SC_PAGESIZE);
	if (pipe(fds))
		return 2;
	t = fork();
	if (!t) {
		char *p = mmap(NULL, 64 * MiB, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *q = mmap(NULL, 1024 * MiB, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		uint64_t addr[2] = { (uintptr_t)p, (uintptr_t)q };

		if (p == MAP_FAILED || q == MAP_FAILED)
			_exit(2);
		madvise(p, 64 * MiB, MADV_NOHUGEPAGE);
		madvise(q, 1024 * MiB, MADV_NOHUGEPAGE);
		memset(p, 1, 16 * MiB);
		if (write(fds[1], addr, sizeof(addr)) != sizeof(addr))
			_exit(2);
		for (;;)
			pause();
	}
	close(fds[1]);
	{
		uint64_t addr[2];

		if (read(fds[0], addr, sizeof(addr)) != sizeof(addr)) {
			tap_ok(0, "target set up");
			return tap_done();
		}
		small = addr[0];
		big = addr[1];
	}
	kill(t, SIGSTOP);
	waitpid(t, &st, WUNTRACED);

	err = nlr_open(&s);
	if (err) {
		tap_ok(0, "the memtrace generic netlink family resolves (%s)", strerror(-err));
		kill(t, SIGKILL);
		return tap_done();
	}
	nlb_start(&b, &s, MEMTRACE_CMD_GET_INFO, NLM_F_ACK);
	if (!nlr_send(&s, &b)) {
		struct nlmsghdr *h = (struct nlmsghdr *)s.buf;
		ssize_t n = recv(s.fd, s.buf, s.cap, 0);
		struct nlattr *a;
		int rem;

		if (n > 0 && h->nlmsg_type == s.family)
			nlr_for_each_attr(a, (char *)NLMSG_DATA(h) + GENL_HDRLEN,
					  (int)(h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN), rem)
				if (nlr_type(a) == MEMTRACE_A_TASK_SIZE && nlr_len(a) == 8)
					memcpy(&task_size, nlr_data(a), 8);
		nlr_wait(&s, b.seq, &r, NULL, NULL);
	}
	tap_diag("target %d: 64 MiB at 0x%" PRIx64 " (16 MiB written), 1 GiB at 0x%" PRIx64
		 ", TASK_SIZE 0x%" PRIx64, (int)t, small, big, task_size);

	/* the whole address space, runs mode */
	err = dump(t, 0, 0, MEMTRACE_MODE_RUNS, &d, &r);
	report("runs mode, all", &d, &r, task_size / psz);

	/* pages mode: the 64 MiB region, then everything (the 1 GiB region too) */
	err = dump(t, small, small + 64 * MiB, MEMTRACE_MODE_PAGES, &d, &r);
	report("pages mode, the 64 MiB region", &d, &r, 64 * MiB / psz);
	bounded("pages mode, 64 MiB", &d.w, r.bytes);
	{
		struct dump all;
		struct nlr_result ra;

		err = dump(t, 0, 0, MEMTRACE_MODE_PAGES, &all, &ra);
		report("pages mode, all", &all, &ra, task_size / psz);
		tap_ok(all.records > (64 + 1024) * MiB / psz,
		       "pages mode, all: one record per mapped page (%" PRIu64 " > %llu)",
		       all.records, (64 + 1024) * MiB / psz);
		bounded("pages mode, all (1 GiB region included)", &all.w, ra.bytes);
		tap_diag("the range x 2^21, the answer x %zu: kernel memory taken, Slab %lld vs "
			 "%lld KiB, MemFree %lld vs %lld KiB", ra.bytes / (r.bytes ? r.bytes : 1),
			 grew_slab(&d.w) / 1024, grew_slab(&all.w) / 1024,
			 grew_free(&d.w) / 1024, grew_free(&all.w) / 1024);
	}
	(void)err;

	/* the client: its RSS while it streams a small and a big answer */
	if (access(memtrace, X_OK)) {
		tap_skip("client streaming", "no %s", memtrace);
	} else {
		struct client_run cs, cb;
		char range[64];

		snprintf(range, sizeof(range), "0x%" PRIx64 "+64M", small);
		run_client(memtrace, t, range, &cs);
		run_client(memtrace, t, "all", &cb);
		tap_ok(WIFEXITED(cs.status) && !WEXITSTATUS(cs.status) &&
		       WIFEXITED(cb.status) && !WEXITSTATUS(cb.status) &&
		       cb.bytes > 8 * MiB / (psz / 4096),	/* 2 MiB with 16K pages */
		       "client --transport=netlink query --pages --tsv: 64 MiB (%zu KiB of TSV) "
		       "and all (%zu KiB) through a slow pipe", cs.bytes / 1024, cb.bytes / 1024);
		tap_ok(cb.hwm_kb > 0 && cs.hwm_kb > 0 &&
		       (cb.hwm_kb - cs.hwm_kb) * 1024 < (long long)LIMIT &&
		       (cb.rss_max_kb - cb.rss_min_kb) * 1024 < (long long)LIMIT,
		       "client RSS does not grow with the answer: peak (ru_maxrss) %ld KiB (64 MiB, "
		       "%zu KiB of output) vs %ld KiB (all, %zu KiB), Rss %ld..%ld KiB while "
		       "streaming",
		       cs.hwm_kb, cs.bytes / 1024, cb.hwm_kb, cb.bytes / 1024, cb.rss_min_kb,
		       cb.rss_max_kb);
		bounded_as("client, all (idle: the client started, streaming; Slab counts)",
			   &cb.w, cb.bytes, false);
	}
	kill(t, SIGKILL);
	waitpid(t, &st, 0);
	nlr_close(&s);
	return tap_done();
}
