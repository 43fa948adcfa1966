// SPDX-License-Identifier: GPL-2.0
/*
 * A file's page cache with no process (issue 20, item 3: MEMTRACE_CMD_FILE,
 * the module's fincore). A file of NPG pages, every third one written, is
 * asked for by descriptor and checked against mincore(2) over a mapping of
 * it that is never touched, and against cachestat(2) (6.5+); over every
 * packing, runs and pages, windows, the default range and ranges past EOF.
 * A block device (a zram disk of our own) shows dirty pages as cachestat
 * counts them. Then bad input (each with its errno and a message), who may
 * ask (cachestat's rule, as a uid-1000 process), the file reference (held
 * for the whole dump, dropped when the socket closes half-way: seen with
 * inotify's IN_CLOSE, which comes when the last reference goes), and a
 * truncation racing the walk.
 */
#include "correctness.h"

#include <pthread.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/magic.h>
#include <poll.h>

#include "nlraw.h"

#define NPG	256

#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif

struct fc_range {
	uint64_t off, len;
};

struct fc_stat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

static bool written(int i)
{
	return i % 3 == 0;
}

static int file_dump(int fd, uint64_t start, uint64_t end, unsigned int opts, int packing,
		     struct mt_answer *a, char *msg)
{
	unsigned int nsum;

	return cor_nl_dump(MEMTRACE_CMD_FILE, fd, start, end, opts, packing, a, &nsum, msg,
			   1UL << 20);
}

/* Pages that differ in state or flags; n pages from each one's first. */
static unsigned long differ(const struct mt_answer *a, const struct mt_answer *b,
			    unsigned long n)
{
	unsigned long bad = 0;

	for (unsigned long i = 0; i < n; i++)
		if (a->pages[i].state != b->pages[i].state ||
		    a->pages[i].flags != b->pages[i].flags) {
			if (bad++ < 3)
				tap_diag("page %lu: %s 0x%x, not %s 0x%x", i,
					 mt_state_names[a->pages[i].state], a->pages[i].flags,
					 mt_state_names[b->pages[i].state], b->pages[i].flags);
		}
	return bad;
}

/*
 * The answer of [0, n pages) of fd, a (pages mode, nested), against
 * mincore(2) over a shared mapping of it and against cachestat(2).
 */
static void against_kernel(const char *what, int fd, const struct mt_answer *a,
			   unsigned long n, uint32_t kind)
{
	unsigned char *vec = malloc(n);
	unsigned long bad = 0, cached = 0, dirty = 0, wb = 0;
	struct fc_range r = { 0, (uint64_t)n * cor_psz };
	struct fc_stat cs;
	void *m;

	for (unsigned long i = 0; i < n; i++) {
		const struct mt_page *pg = &a->pages[i];

		if (pg->state == MEMTRACE_CACHED) {
			cached++;
			dirty += !!(pg->flags & MEMTRACE_F_DIRTY);
			wb += !!(pg->flags & MEMTRACE_F_WRITEBACK);
			if ((pg->flags & ~(MEMTRACE_F_DIRTY | MEMTRACE_F_WRITEBACK)) != kind &&
			    bad++ < 3)
				tap_diag("page %lu: flags 0x%x", i, pg->flags);
		} else if (pg->state != MEMTRACE_NONE || pg->flags) {
			if (bad++ < 3)
				tap_diag("page %lu: %s", i, mt_state_names[pg->state]);
		}
	}
	tap_ok(!bad && a->have_cached && a->counts[MEMTRACE_CACHED] == cached &&
	       a->counts[MEMTRACE_NONE] == n - cached,
	       "%s: every page cached (kind 0x%x) or none, the summary agrees (%lu cached)",
	       what, kind, cached);

	bad = 0;
	m = mmap(NULL, n * cor_psz, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED || mincore(m, n * cor_psz, vec)) {
		tap_ok(0, "%s: mincore: %s", what, strerror(errno));
	} else {
		for (unsigned long i = 0; i < n; i++)
			if ((a->pages[i].state == MEMTRACE_CACHED) != (vec[i] & 1) && bad++ < 3)
				tap_diag("page %lu: %s, mincore %d", i,
					 mt_state_names[a->pages[i].state], vec[i] & 1);
		tap_ok(!bad, "%s: mincore(2) over a mapping agrees page by page (%lu differ)",
		       what, bad);
	}
	if (m != MAP_FAILED)
		munmap(m, n * cor_psz);
	free(vec);

	if (syscall(__NR_cachestat, fd, &r, &cs, 0)) {
		tap_ok(1, "# SKIP %s: no cachestat(2) (%s; 6.5+)", what, strerror(errno));
	} else {
		tap_ok(cs.nr_cache == cached && cs.nr_dirty == dirty && cs.nr_writeback == wb,
		       "%s: cachestat(2) agrees: nr_cache %" PRIu64 "/%lu, nr_dirty %" PRIu64
		       "/%lu, nr_writeback %" PRIu64 "/%lu", what, cs.nr_cache, cached,
		       cs.nr_dirty, dirty, cs.nr_writeback, wb);
	}
}

/* Every third page of fd's NPG written (so in the page cache), holes between. */
static void fill(int fd)
{
	char *buf = malloc(cor_psz);

	memset(buf, 'f', cor_psz);
	for (int i = 0; i < NPG; i++)
		if (written(i) && pwrite(fd, buf, cor_psz, (off_t)i * cor_psz) != cor_psz) {
			tap_diag("fill: pwrite: %s", strerror(errno));
			exit(2);
		}
	free(buf);
}

/* The answers of a file of NPG pages (size exactly that) in every form. */
static void check_forms(const char *what, int fd, uint32_t kind)
{
	static const char *const pkn[] = { "nested", "words", "indexed" };
	struct mt_answer a, b;
	uint64_t len = (uint64_t)NPG * cor_psz;
	unsigned long n;
	char msg[256];
	int err;

	err = file_dump(fd, 0, len, COR_NL_PAGES, NL_NEST, &a, msg);
	if (!tap_ok(!err, "%s: FILE answers (%s %s)", what, strerror(-err), msg))
		return;
	for (int i = 0; i < NPG; i++)
		if (written(i) != (a.pages[i].state == MEMTRACE_CACHED)) {
			tap_diag("page %d: %s", i, mt_state_names[a.pages[i].state]);
			err = 1;
			break;
		}
	tap_ok(!err, "%s: the written pages are cached, the holes none", what);
	against_kernel(what, fd, &a, NPG, kind);

	for (int pk = NL_NEST; pk <= NL_INDEXED; pk++) {
		for (int pages = 0; pages < 2; pages++) {
			if (pk == NL_NEST && pages)
				continue;	/* the reference */
			err = file_dump(fd, 0, len, pages ? COR_NL_PAGES : 0, pk, &b, msg);
			n = err ? NPG : differ(&b, &a, NPG);
			tap_ok(!err && !n && b.counts[MEMTRACE_CACHED] == a.counts[MEMTRACE_CACHED],
			       "%s: %s %s: the same pages (%lu differ; %s)", what, pkn[pk],
			       pages ? "pages" : "runs", n, err ? strerror(-err) : "ok");
			if (!err && !pages)
				tap_ok(b.records < NPG, "%s: %s runs: merged (%lu records)",
				       what, pkn[pk], b.records);
			mt_answer_free(&b);
		}
	}

	/* no START, no END: the whole file, as its size says */
	err = file_dump(fd, 0, 0, COR_NL_PAGES | COR_NL_NOSTART | COR_NL_NOEND, NL_INDEXED,
			&b, msg);
	n = err ? NPG : differ(&b, &a, NPG);
	tap_ok(!err && b.start == 0 && b.end == len && !n,
	       "%s: no START or END: [0, size) 0x%" PRIx64 "-0x%" PRIx64 ", the same pages (%s)",
	       what, b.start, b.end, err ? strerror(-err) : "ok");
	mt_answer_free(&b);

	/* a window in bytes, not page aligned: START rounded down, END up */
	err = file_dump(fd, 5 * cor_psz + 7, 200 * cor_psz + 1, COR_NL_PAGES, NL_WORDS, &b, msg);
	if (!err && (b.start != 5 * (uint64_t)cor_psz || b.end != 201 * (uint64_t)cor_psz))
		err = -EBADMSG;
	if (!err) {
		struct mt_answer sub = a;

		sub.pages = a.pages + 5;
		n = differ(&b, &sub, 196);
	}
	tap_ok(!err && !n, "%s: window [5p+7, 200p+1) is [5p, 201p), the same pages (%s)",
	       what, err ? strerror(-err) : "ok");
	mt_answer_free(&b);

	/* an END past EOF is answered: none there */
	err = file_dump(fd, 0, len + 16 * cor_psz, COR_NL_PAGES, NL_INDEXED, &b, msg);
	n = err ? NPG : differ(&b, &a, NPG);
	for (int i = NPG; !err && i < NPG + 16; i++)
		n += b.pages[i].state != MEMTRACE_NONE;
	tap_ok(!err && !n && b.end == len + 16 * cor_psz,
	       "%s: END 16 pages past EOF: answered, those none (%s)", what,
	       err ? strerror(-err) : "ok");
	mt_answer_free(&b);

	/* START past EOF without END: an empty answer */
	err = file_dump(fd, len + cor_psz, 0, COR_NL_PAGES | COR_NL_NOEND, NL_INDEXED, &b, msg);
	tap_ok(!err && b.start == len + cor_psz && b.end == b.start && b.have_summary &&
	       !b.counts[MEMTRACE_NONE] && !b.counts[MEMTRACE_CACHED],
	       "%s: START past EOF, no END: an empty answer at START (%s)", what,
	       err ? strerror(-err) : "ok");
	mt_answer_free(&b);
	mt_answer_free(&a);
}

static void check_tmp_file(void)
{
	char path[] = "/tmp/memtrace-file-XXXXXX";
	struct statfs sf;
	int fd = mkstemp(path);

	if (fd < 0 || fstatfs(fd, &sf) || ftruncate(fd, (off_t)NPG * cor_psz)) {
		tap_ok(0, "%s: %s", path, strerror(errno));
		return;
	}
	fill(fd);
	check_forms("file in /tmp", fd,
		    sf.f_type == TMPFS_MAGIC ? MEMTRACE_F_SHMEM : MEMTRACE_F_FILE);
	close(fd);
	unlink(path);
	fd = memfd_create("memtrace-file", 0);
	if (fd < 0 || ftruncate(fd, (off_t)NPG * cor_psz)) {
		tap_ok(0, "memfd: %s", strerror(errno));
		return;
	}
	fill(fd);
	check_forms("memfd", fd, MEMTRACE_F_SHMEM);
	close(fd);
}

/*
 * A block device's page cache has dirty tags: a zram disk of our own
 * (hot_add), written through its page cache, shows the dirty pages as
 * cachestat(2) counts them, and none once fsync(2) wrote them back.
 * Writeback itself is over before a test can look (zram completes its
 * writes at once): only its absence is checked.
 */
static void check_blockdev(void)
{
	char dev[64], sys[96];
	struct mt_answer a;
	char msg[256];
	int id = -1, fd, err;
	FILE *f;
	unsigned long dirty = 0;

	if (access("/sys/class/zram-control", F_OK) && system("modprobe zram 2>/dev/null"))
		tap_diag("modprobe zram failed");
	f = fopen("/sys/class/zram-control/hot_add", "r");
	if (!f || fscanf(f, "%d", &id) != 1) {
		tap_ok(1, "# SKIP block device: no zram (%s)", strerror(errno));
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	snprintf(sys, sizeof(sys), "/sys/block/zram%d/disksize", id);
	snprintf(dev, sizeof(dev), "/dev/zram%d", id);
	f = fopen(sys, "w");
	if (!f || fprintf(f, "%ld", (long)NPG * cor_psz) < 0 || fclose(f)) {
		tap_ok(0, "zram%d: disksize: %s", id, strerror(errno));
		return;
	}
	fd = open(dev, O_RDWR);
	if (fd < 0) {
		tap_ok(0, "%s: %s", dev, strerror(errno));
		goto out;
	}
	fill(fd);
	err = file_dump(fd, 0, (uint64_t)NPG * cor_psz, COR_NL_PAGES, NL_NEST, &a, msg);
	if (tap_ok(!err, "block device: FILE answers (%s %s)", strerror(-err), msg)) {
		for (int i = 0; i < NPG; i++)
			dirty += a.pages[i].state == MEMTRACE_CACHED &&
				 (a.pages[i].flags & MEMTRACE_F_DIRTY);
		tap_ok(dirty > 0, "block device: written pages are dirty (%lu)", dirty);
		against_kernel("block device, written", fd, &a, NPG, MEMTRACE_F_FILE);
	}
	mt_answer_free(&a);
	if (fsync(fd))
		tap_diag("fsync: %s", strerror(errno));
	err = file_dump(fd, 0, 0, COR_NL_PAGES | COR_NL_NOSTART | COR_NL_NOEND, NL_INDEXED,
			&a, msg);
	dirty = 0;
	for (int i = 0; !err && i < NPG; i++)
		dirty += !!(a.pages[i].flags & (MEMTRACE_F_DIRTY | MEMTRACE_F_WRITEBACK));
	tap_ok(!err && !dirty && a.end == (uint64_t)NPG * cor_psz,
	       "block device, after fsync: [0, its size), nothing dirty or under writeback (%s)",
	       err ? strerror(-err) : "ok");
	if (!err)
		against_kernel("block device, after fsync", fd, &a, NPG, MEMTRACE_F_FILE);
	mt_answer_free(&a);
	close(fd);
out:
	f = fopen("/sys/class/zram-control/hot_remove", "w");
	if (f) {
		fprintf(f, "%d", id);
		fclose(f);
	}
}

/* A raw FILE request: its errno and message. */
static int raw_file(const void *attrs, size_t len, char *msg)
{
	static struct nlr s;
	static struct nlb b;
	struct nlr_result r;
	int err = nlr_open(&s);

	if (err)
		return err;
	nlb_start(&b, &s, MEMTRACE_CMD_FILE, NLM_F_DUMP);
	nlb_put(&b, attrs, len);
	err = nlr_send(&s, &b);
	if (!err)
		err = nlr_wait(&s, b.seq, &r, NULL, NULL);
	if (!err) {
		err = r.error;
		snprintf(msg, 256, "%s", r.msg);
	}
	nlr_close(&s);
	return err;
}

static void check_bad_input(void)
{
	char path[] = "/tmp/memtrace-file-bad-XXXXXX", msg[256];
	int fd = mkstemp(path), pfd = -1, dfd, pipefd[2], sk, err, bad = 0;
	uint64_t big = (uint64_t)INT64_MAX + 1, max = (uint64_t)INT64_MAX;
	struct mt_answer a;
	struct {
		const char *what;
		int fd;		/* -2: no FD attribute */
		uint64_t start, end;
		int want;
	} cases[8];
	int nc = 0;

	if (fd < 0 || ftruncate(fd, 4 * cor_psz) || pipe(pipefd))
		exit(2);
	pfd = open(path, O_PATH);
	dfd = open("/tmp", O_RDONLY | O_DIRECTORY);
	sk = socket(AF_UNIX, SOCK_STREAM, 0);
	cases[nc++] = (typeof(cases[0])){ "fd -1", -1, 0, cor_psz, -EBADF };
	cases[nc++] = (typeof(cases[0])){ "an fd not open", 999, 0, cor_psz, -EBADF };
	cases[nc++] = (typeof(cases[0])){ "an O_PATH fd", pfd, 0, cor_psz, -EBADF };
	cases[nc++] = (typeof(cases[0])){ "a pipe", pipefd[0], 0, cor_psz, -EINVAL };
	cases[nc++] = (typeof(cases[0])){ "a directory", dfd, 0, cor_psz, -EINVAL };
	cases[nc++] = (typeof(cases[0])){ "a socket", sk, 0, cor_psz, -EINVAL };
	for (int i = 0; i < nc; i++) {
		err = file_dump(cases[i].fd, cases[i].start, cases[i].end, 0, NL_INDEXED, &a, msg);
		mt_answer_free(&a);
		tap_ok(err == cases[i].want && *msg, "bad input: %s: %s (want %s), \"%s\"",
		       cases[i].what, strerror(-err), strerror(-cases[i].want), msg);
	}
	{
		int pr = open("/proc/self/status", O_RDONLY);

		err = file_dump(pr, 0, cor_psz, 0, NL_INDEXED, &a, msg);
		mt_answer_free(&a);
		tap_ok(err == -EINVAL && *msg,
		       "bad input: a procfs file (no page cache): %s, \"%s\"", strerror(-err), msg);
		close(pr);
	}
	/* ranges */
	{
		const struct { const char *what; uint64_t s, e; int want; } rc[] = {
			{ "END < START", 2 * cor_psz, cor_psz, -EINVAL },
			{ "END = START", cor_psz, cor_psz, -EINVAL },
			{ "END = START, unaligned", 5, 5, -EINVAL },
			{ "START past MAX_LFS_FILESIZE", big, big + cor_psz, -ERANGE },
			{ "END past MAX_LFS_FILESIZE", 0, big, -ERANGE },
			{ "END = 2^64 - 1", 0, UINT64_MAX, -ERANGE },
		};

		for (unsigned int i = 0; i < sizeof(rc) / sizeof(rc[0]); i++) {
			err = file_dump(fd, rc[i].s, rc[i].e, 0, NL_INDEXED, &a, msg);
			mt_answer_free(&a);
			tap_ok(err == rc[i].want && *msg, "bad range: %s: %s (want %s), \"%s\"",
			       rc[i].what, strerror(-err), strerror(-rc[i].want), msg);
		}
		/* the largest END is answered, in runs: one record of none */
		err = file_dump(fd, max - 4 * cor_psz + 1, max, 0, NL_INDEXED, &a, msg);
		tap_ok(!err && a.records == 1 && a.counts[MEMTRACE_NONE] == 4,
		       "range: the last pages below MAX_LFS_FILESIZE: answered, none (%s)",
		       err ? strerror(-err) : "ok");
		mt_answer_free(&a);
	}
	/* attributes: FD required, PID refused (strict) */
	{
		unsigned char at[64];
		size_t l;
		uint32_t pid = getpid(), ufd = fd;

		l = nlr_put_attr(at, MEMTRACE_A_START, &(uint64_t){ 0 }, 8);
		err = raw_file(at, l, msg);
		bad |= !(err == -EINVAL && strstr(msg, "FD"));
		tap_ok(err == -EINVAL && *msg, "bad input: no FD: %s, \"%s\"", strerror(-err), msg);
		l = nlr_put_attr(at, MEMTRACE_A_FD, &ufd, 4);
		l += nlr_put_attr(at + l, MEMTRACE_A_PID, &pid, 4);
		err = raw_file(at, l, msg);
		tap_ok(err == -EINVAL, "bad input: FILE with a PID: %s, \"%s\"", strerror(-err), msg);
		l = nlr_put_attr(at, MEMTRACE_A_FD, &ufd, 2);
		err = raw_file(at, l, msg);
		tap_ok(err == -EINVAL || err == -ERANGE,
		       "bad input: a 2-byte FD: %s, \"%s\"", strerror(-err), msg);
		l = nlr_put_attr(at, MEMTRACE_A_FD, &ufd, 4);
		l += nlr_put_attr(at + l, MEMTRACE_A_INDEXED, NULL, 0);
		err = raw_file(at, l, msg);
		tap_ok(err == -EINVAL && *msg, "bad input: INDEXED without PACKED: %s, \"%s\"",
		       strerror(-err), msg);
	}
	(void)bad;
	close(sk);
	close(dfd);
	close(pfd);
	close(pipefd[0]);
	close(pipefd[1]);
	close(fd);
	unlink(path);
}

/*
 * cachestat(2)'s rule, as a uid-1000 process: root's 0644 file opened
 * read-only is EPERM (with a message); the same file opened read-only by
 * root is answered (root owns it); a 0666 file of root's opened read-only
 * (the caller may write it) and its own 0644 file opened read-only are
 * answered; a 0644 file of root's that root opened for writing and handed
 * down (fork) is answered.
 */
static void check_permission(void)
{
	char rpath[] = "/tmp/memtrace-file-root-XXXXXX";
	char wpath[] = "/tmp/memtrace-file-w-XXXXXX";
	char upath[] = "/tmp/memtrace-file-user-XXXXXX";
	int rfd = mkstemp(rpath), wfd = mkstemp(wpath), ufd = mkstemp(upath);
	int pipefd[2], st, res[5] = { -1, -1, -1, -1, -1 };
	char msgs[256] = "";
	struct mt_answer a;
	char msg[256];
	pid_t child;
	int err;

	if (rfd < 0 || wfd < 0 || ufd < 0 || fchmod(rfd, 0644) || fchmod(wfd, 0666) ||
	    fchmod(ufd, 0644) || fchown(ufd, 1000, 1000) || pipe(pipefd)) {
		tap_diag("permission: set-up: %s (fds %d %d %d)", strerror(errno), rfd, wfd, ufd);
		exit(2);
	}
	fill(rfd);
	close(wfd);
	close(ufd);
	err = file_dump(rfd, 0, 0, COR_NL_NOSTART | COR_NL_NOEND, NL_INDEXED, &a, msg);
	tap_ok(!err, "permission: root, its file open read-write: answered (%s)",
	       err ? strerror(-err) : "ok");
	mt_answer_free(&a);
	child = fork();
	if (!child) {
		const char *paths[3] = { rpath, wpath, upath };

		close(pipefd[0]);
		if (setgroups(0, NULL) || setgid(1000) || setuid(1000))
			_exit(3);
		for (int i = 0; i < 3; i++) {
			int fd = open(paths[i], O_RDONLY);

			res[i] = fd < 0 ? -errno :
				 file_dump(fd, 0, 0, COR_NL_NOSTART | COR_NL_NOEND, NL_INDEXED,
					   &a, i ? NULL : msgs);
			mt_answer_free(&a);
			close(fd);
		}
		res[3] = file_dump(rfd, 0, 0, COR_NL_NOSTART | COR_NL_NOEND, NL_INDEXED, &a,
				   NULL);
		mt_answer_free(&a);
		if (write(pipefd[1], res, sizeof(res)) != sizeof(res) ||
		    write(pipefd[1], msgs, sizeof(msgs)) != sizeof(msgs))
			_exit(5);
		_exit(0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], res, sizeof(res)) != sizeof(res) ||
	    read(pipefd[0], msgs, sizeof(msgs)) != sizeof(msgs))
		res[0] = 1;
	close(pipefd[0]);
	waitpid(child, &st, 0);
	tap_ok(res[0] == -EPERM && *msgs,
	       "permission: uid 1000, root's 0644 file opened read-only: EPERM (%s), \"%s\"",
	       strerror(-res[0]), msgs);
	tap_ok(res[1] == 0, "permission: uid 1000, root's 0666 file opened read-only: answered (%s)",
	       strerror(-res[1]));
	tap_ok(res[2] == 0, "permission: uid 1000, its own 0644 file opened read-only: answered (%s)",
	       strerror(-res[2]));
	tap_ok(res[3] == 0,
	       "permission: uid 1000, root's 0644 file root opened for writing (inherited): answered (%s)",
	       strerror(-res[3]));
	{
		int fd = open(rpath, O_RDONLY);

		err = file_dump(fd, 0, 0, COR_NL_NOSTART | COR_NL_NOEND, NL_INDEXED, &a, msg);
		tap_ok(!err, "permission: root, its 0644 file opened read-only: answered (%s)",
		       err ? strerror(-err) : "ok");
		mt_answer_free(&a);
		close(fd);
	}
	close(rfd);
	unlink(rpath);
	unlink(wpath);
	unlink(upath);
}

/* Wait up to ms for an IN_CLOSE_* event on ino: true if one came. */
static bool closed_within(int ino, int ms)
{
	struct pollfd p = { .fd = ino, .events = POLLIN };
	char buf[4096] __attribute__((aligned(8)));

	while (poll(&p, 1, ms) > 0) {
		ssize_t n = read(ino, buf, sizeof(buf));

		for (char *q = buf; n > 0 && q < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)q;

			if (e->mask & IN_CLOSE)
				return true;
			q += sizeof(*e) + e->len;
		}
	}
	return false;
}

/*
 * The file's reference: a dump of a file of many pages, nested (a message
 * holds a few hundred), is read one message at a time. Its descriptor is
 * closed after the first message: the dump goes on and the file stays open
 * (no IN_CLOSE) until the answer is whole, then IN_CLOSE comes. Again, but
 * the socket is closed after the first message: IN_CLOSE comes.
 */
static void check_reference(void)
{
	char path[] = "/tmp/memtrace-file-ref-XXXXXX";
	static struct nlr s;
	static struct nlb b;
	int fd = mkstemp(path), ino = inotify_init1(IN_NONBLOCK), round;

	if (ino < 0) {
		/* a kernel without CONFIG_INOTIFY_USER (the lab's debug kernel) */
		tap_ok(1, "# SKIP reference: no inotify here (%s)", strerror(errno));
		close(fd);
		unlink(path);
		return;
	}
	if (fd < 0 || ftruncate(fd, (off_t)4 * NPG * cor_psz) ||
	    inotify_add_watch(ino, path, IN_CLOSE) < 0) {
		tap_diag("reference: set-up: %s", strerror(errno));
		exit(2);
	}
	close(fd);
	closed_within(ino, 100);	/* our own close */
	for (round = 0; round < 2; round++) {
		ssize_t n;
		bool early, late, done = false;
		unsigned int msgs = 0;

		fd = open(path, O_RDONLY);
		if (fd < 0 || nlr_open(&s))
			exit(2);
		nlb_start(&b, &s, MEMTRACE_CMD_FILE, NLM_F_DUMP);
		nlb_u32(&b, MEMTRACE_A_FD, fd);
		nlb_u8(&b, MEMTRACE_A_MODE, MEMTRACE_MODE_PAGES);
		if (nlr_send(&s, &b))
			exit(2);
		n = nlr_recv(&s, 5000);
		close(fd);
		early = closed_within(ino, 300);
		if (round == 0) {
			while (n > 0 && !done) {
				for (struct nlmsghdr *h = (struct nlmsghdr *)s.buf;
				     NLMSG_OK(h, (unsigned int)n); h = NLMSG_NEXT(h, n)) {
					msgs++;
					done |= h->nlmsg_type == NLMSG_DONE ||
						h->nlmsg_type == NLMSG_ERROR;
				}
				if (!done)
					n = nlr_recv(&s, 5000);
			}
			nlr_close(&s);
			late = closed_within(ino, 2000);
			tap_ok(!early && done && msgs > 2 && late,
			       "reference: the descriptor closed after the first message: the dump goes on (%u messages, %s), the file closes after it (%s, after: %s)",
			       msgs, done ? "whole" : "cut", early ? "closed early" : "held",
			       late ? "closed" : "still open");
		} else {
			nlr_close(&s);
			late = closed_within(ino, 3000);
			tap_ok(!early && late,
			       "reference: the socket closed mid-dump: the file was held (%s), then let go (%s)",
			       early ? "closed early" : "yes", late ? "yes" : "still open");
		}
	}
	close(ino);
	unlink(path);
}

/*
 * A truncation racing the walk: a thread truncates the file to nothing and
 * refills it in a loop while dumps of it run; every answer is whole and the
 * console shows nothing (the run fails on any report).
 */
static volatile int racing;

static void *truncator(void *arg)
{
	int fd = *(int *)arg;

	while (racing) {
		if (ftruncate(fd, 0) || ftruncate(fd, (off_t)NPG * cor_psz))
			break;
		fill(fd);
	}
	return NULL;
}

static void check_truncate_race(void)
{
	char path[] = "/tmp/memtrace-file-race-XXXXXX", msg[256];
	int fd = mkstemp(path), bad = 0, n = 0;
	struct mt_answer a;
	pthread_t t;

	if (fd < 0 || ftruncate(fd, (off_t)NPG * cor_psz))
		exit(2);
	fill(fd);
	racing = 1;
	if (pthread_create(&t, NULL, truncator, &fd))
		exit(2);
	for (; n < 200; n++) {
		int err = file_dump(fd, 0, (uint64_t)NPG * cor_psz, n & 1 ? COR_NL_PAGES : 0,
				    n % 3, &a, msg);

		if (err && bad++ < 3)
			tap_diag("dump %d: %s %s", n, strerror(-err), msg);
		mt_answer_free(&a);
	}
	racing = 0;
	pthread_join(t, NULL);
	tap_ok(!bad, "truncate racing: %d dumps of a file truncated and refilled meanwhile, all whole (%d not)",
	       n, bad);
	close(fd);
	unlink(path);
}

void cor_t_file_cache(void)
{
	int64_t features = -1;
	static struct nlr s;
	static struct nlb b;

	/* GET_INFO's FEATURES */
	if (!nlr_open(&s)) {
		ssize_t n;

		nlb_start(&b, &s, MEMTRACE_CMD_GET_INFO, 0);
		n = nlr_send(&s, &b) ? -1 : nlr_recv(&s, 5000);
		if (n > 0) {
			struct nlmsghdr *nlh = (struct nlmsghdr *)s.buf;
			struct nlattr *at;
			int rem;

			nlr_for_each_attr(at, (char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
					  nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, rem)
				if (nlr_type(at) == MEMTRACE_A_FEATURES && nlr_len(at) == 4)
					features = *(uint32_t *)nlr_data(at);
		}
		nlr_close(&s);
	}
	tap_ok(features >= 0 && (features & MEMTRACE_FEAT_FILE),
	       "GET_INFO: FEATURES 0x%" PRIx64 " has FILE", features);
	check_tmp_file();
	check_blockdev();
	check_bad_input();
	check_reference();
	check_truncate_race();
	if (cor_root)
		check_permission();
	else
		tap_ok(1, "# SKIP file permission tests need root to set up users");
}
