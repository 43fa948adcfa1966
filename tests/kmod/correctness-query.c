// SPDX-License-Identifier: GPL-2.0
/*
 * correctness: the interface: the whole address space, bad input (each with
 * its errno), two files' isolation, a target that exits midway, permissions
 * as a real unprivileged user.
 */
#include "correctness.h"

static bool below_task_size(uint64_t addr)
{
	void *want = (void *)(uintptr_t)addr;
	void *m = mmap(want, cor_psz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		       -1, 0);

	if (m == MAP_FAILED)
		return errno == EEXIST;
	munmap(m, cor_psz);
	return m == want;
}

/*
 * This process's TASK_SIZE (a child's is the same): 2^47 - 4096 with 4-level
 * paging, 2^56 - 4096 with 5-level (x86-64 TASK_SIZE_MAX); on arm64
 * 2^VA_BITS, no guard page (39, 42, 47, 48 or 52 bits); 0 if none fits.
 */
static uint64_t task_size(void)
{
	static const int bits[] = { 39, 42, 47, 48, 52, 56 };

	for (unsigned int i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		for (int guard = 1; guard >= 0; guard--) {
			uint64_t ts = (1ULL << bits[i]) - (guard ? 4096 : 0);

			if (below_task_size(ts - cor_psz) && !below_task_size(ts))
				return ts;
		}
	}
	return 0;
}

/* the page size, as the queries below are written in pages */
#define PSZ ((unsigned long)cor_psz)

/* The header and summary of an "all" answer: 0, or what is wrong with them. */
static const char *whole_answer(const char *text, uint64_t ts, uint64_t *end, uint64_t *total,
				uint64_t *sum)
{
	const char *s = strstr(text, "\n# summary ");
	uint64_t start = 1;
	char line[512], *tok, *save;

	*end = *total = *sum = 0;
	if (sscanf(text, "# memtrace pid=%*d start=0x%" SCNx64 " end=0x%" SCNx64,
		   &start, end) != 2)
		return "no header";
	if (!s)
		return "no summary";
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(s + 11, "\n"), s + 11);
	for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq)
			return "summary token without '='";
		*eq = '\0';
		if (!strcmp(tok, "pages"))
			*total = strtoull(eq + 1, NULL, 10);
		else if (mt_state_of(tok) >= 0)
			*sum += strtoull(eq + 1, NULL, 10);
		else
			return "unknown summary token";
	}
	if (start != 0 || *end != ts)
		return "range is not [0, TASK_SIZE)";
	if (*total != ts / cor_psz)
		return "pages is not TASK_SIZE / page size";
	if (*sum != *total)
		return "the states do not add up to pages";
	return NULL;
}

/* The whole address space of a stopped child, runs mode, against pagemap. */
void cor_t_whole(void)
{
	struct mt_answer a;
	uint64_t ts = task_size(), sum = 0;
	pid_t c = fork();
	int st, err;

	if (!c) {
		raise(SIGSTOP);
		_exit(0);
	}
	waitpid(c, &st, WUNTRACED);
	{
		int fd = open("/proc/memtrace", O_RDWR);
		size_t cap = 1 << 24;
		char q[64], *text = malloc(cap);
		ssize_t n, len = 0;
		int ql = snprintf(q, sizeof(q), "%d all", c);
		uint64_t end, total, states;
		const char *why;

		tap_ok(write(fd, q, ql) == ql, "whole address space: query accepted");
		while ((size_t)len < cap - 1 &&
		       (n = read(fd, text + len, cap - 1 - len < 65536 ? cap - 1 - len : 65536)) > 0)
			len += n;
		text[len] = 0;
		close(fd);
		why = whole_answer(text, ts, &end, &total, &states);
		tap_ok(ts && !why,
		       "whole address space (%zd bytes): end 0x%" PRIx64 ", %" PRIu64
		       " pages, states add up to %" PRIu64 "; TASK_SIZE by mmap 0x%" PRIx64
		       " is %" PRIu64 " pages%s%s", len, end, total, states, ts, ts / cor_psz,
		       why ? ": " : "", why ? why : "");
		free(text);
	}
	err = mt_query(c, 0, 0x7ffffffff000ULL, "runs", &a);
	tap_ok(!err, "whole 47-bit space in runs mode (%s)", strerror(-err));
	if (!err) {
		for (int i = 0; i < MEMTRACE_NSTATES; i++)
			sum += a.counts[i];
		/* END page-rounded: 2^47 with pages of more than 4K */
		tap_ok(sum == a.total &&
		       a.total == (0x7ffffffff000ULL + cor_psz - 1) / cor_psz,
		       "summary adds up: %" PRIu64 " pages", a.total);
		tap_ok(a.counts[MEMTRACE_PRESENT] > 0 && a.counts[MEMTRACE_UNMAPPED] > a.total / 2,
		       "whole space: %" PRIu64 " present, %" PRIu64 " unmapped",
		       a.counts[MEMTRACE_PRESENT], a.counts[MEMTRACE_UNMAPPED]);
		mt_answer_free(&a);
	}
	/* every mapping of the child, pages mode, against pagemap */
	{
		char path[64], line[512];
		unsigned long bad = 0, pages = 0, nj = 0;
		const char *first = NULL;
		struct mt_xcheck x;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/maps", c);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f)) {
			uint64_t s, e;

			if (sscanf(line, "%" SCNx64 "-%" SCNx64, &s, &e) != 2 ||
			    strstr(line, "[vsyscall]"))
				continue;
			if (mt_query(c, s, e, "pages", &a)) {
				bad++;
				continue;
			}
			mt_crosscheck_ex(c, &a, cor_root, &x);
			if (x.disagree || x.unjudged)
				tap_diag("in mapping %.*s: %lu disagree, %lu not judged",
					 (int)strcspn(line, "\n"), line, x.disagree, x.unjudged);
			if (x.unjudged && !first)
				first = x.why;
			bad += x.disagree;
			nj += x.unjudged;
			pages += (e - s) / cor_psz;
			mt_answer_free(&a);
		}
		if (f)
			fclose(f);
		tap_ok(bad == 0 && pages > 0,
		       "every mapping of a stopped process: %lu pages, %lu disagree, %lu not judged%s%s%s",
		       pages, bad, nj, first ? " (first: " : "", first ? first : "", first ? ")" : "");
	}
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
}

struct bad { const char *line; int err; const char *what; };

void cor_t_bad_input(void)
{
	char q[512], big[400];
	int me = getpid();
	const struct bad cases[] = {
		{ "\n", EINVAL, "empty line" },
		{ "garbage", EINVAL, "garbage" },
		{ "%d", EINVAL, "PID alone" },
		{ "self 0 4096", EINVAL, "PID not a number" },
		{ "-1 0 4096", EINVAL, "negative PID" },
		{ "%d -4096 4096", EINVAL, "negative START" },
		{ "%d 0x1000 0x1000", EINVAL, "END == START" },
		{ "%d 0x2000 0x1000", EINVAL, "END < START" },
		{ "%d 0x2000 +0", EINVAL, "zero LENGTH" },
		{ "%d 0xfffffffffffff000 +0x2000", ERANGE, "START+LENGTH overflows" },
		{ "%d 0 0x200000000000000", ERANGE, "END past TASK_SIZE (2^57)" },
		{ "%d 0 0xffffffffffffffff", ERANGE, "END at 2^64-1" },
		{ "%d 0 99999999999999999999999", ERANGE, "END overflows u64" },
		{ "%d 0 4096 sideways", EINVAL, "unknown mode word" },
		{ "%d 0 4096 runs extra", EINVAL, "trailing token" },
		{ "%d 0x 4096", EINVAL, "bare 0x" },
		{ "%d 0 +", EINVAL, "bare +" },
		{ "%d 1O 4096", EINVAL, "letter in number" },
		{ "%d 99999999999999999999abc 4096", EINVAL,
		  "regression parse-u64-sign: junk after an overflowing number" },
		{ "%d 0x0x1000 0x2000", EINVAL, "regression parse-u64-sign: 0x0x" },
		{ "+%d 0 4096", EINVAL, "regression parse-u64-sign: +PID" },
		{ "%d 0x1001 0x1001", EINVAL,
		  "regression end-rounding: END == START before rounding" },
		{ "999999 0 4096", ESRCH, "no such PID" },
		{ "0 0 4096", ESRCH, "PID 0" },
		{ "99999999999 0 4096", ESRCH, "PID too large" },
		{ "2 0 4096", ESRCH, "kernel thread (kthreadd)" },
	};
	int err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(q, sizeof(q), cases[i].line, me);

		err = mt_write_raw(q, n);
		tap_ok(err == -cases[i].err, "bad input, %s: %s (got %s)", cases[i].what,
		       strerror(cases[i].err), strerror(-err));
	}
	memset(big, ' ', sizeof(big));
	memcpy(big, "1 0 4096", 8);
	err = mt_write_raw(big, sizeof(big));
	tap_ok(err == -E2BIG, "bad input, %zu-byte line: E2BIG (got %s)", sizeof(big), strerror(-err));
	err = mt_write_raw("1 0 4\0096", 8);
	tap_ok(err == -EINVAL, "bad input, NUL byte: EINVAL (got %s)", strerror(-err));
	{
		unsigned char junk[200];

		srand(1);
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = rand();
		err = mt_write_raw(junk, sizeof(junk));
		tap_ok(err == -EINVAL || err == -ESRCH || err == -ERANGE,
		       "bad input, binary junk: rejected (got %s)", strerror(-err));
	}
	/* A zombie is a process without memory. */
	{
		pid_t z = fork();

		if (!z)
			_exit(0);
		usleep(100000);
		snprintf(q, sizeof(q), "%d 0 4096", z);
		err = mt_write_raw(q, strlen(q));
		tap_ok(err == -ESRCH, "zombie: ESRCH (got %s)", strerror(-err));
		waitpid(z, NULL, 0);
	}
	/* Offsets and state: pwrite is refused; a bad line keeps the old query. */
	{
		int fd = open("/proc/memtrace", O_RDWR);
		char buf[256];
		int n;

		/* pages 1 to 2: 0x1000-0x2000 with 4K pages */
		n = snprintf(q, sizeof(q), "%d 0x%lx +0x%lx", me, PSZ, PSZ);
		tap_ok(pwrite(fd, q, n, 5) < 0 && errno == ESPIPE, "pwrite at an offset: ESPIPE");
		tap_ok(write(fd, q, n) == n, "good query accepted");
		tap_ok(write(fd, "junk", 4) < 0 && errno == EINVAL, "then a bad one: EINVAL");
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		snprintf(q, sizeof(q), "# memtrace pid=%d start=0x%lx end=0x%lx", me, PSZ, 2 * PSZ);
		tap_ok(!strncmp(buf, q, strlen(q)), "the bad line left the good query in place");
		close(fd);
	}
}

/* Two open files, two queries: neither sees the other's answer. */
void cor_t_isolation(void)
{
	int f1 = open("/proc/memtrace", O_RDWR), f2 = open("/proc/memtrace", O_RDWR);
	char q[128], b1[128], b2[128], w1[64], w2[64];
	int n;

	/* in pages: 0x1000 +0x1000 etc. with 4K pages */
	n = snprintf(q, sizeof(q), "%d 0x%lx +0x%lx", getpid(), PSZ, PSZ);
	tap_ok(write(f1, q, n) == n, "isolation: first file's query");
	n = snprintf(q, sizeof(q), "%d 0x%lx +0x%lx pages", getpid(), 5 * PSZ, 3 * PSZ);
	tap_ok(write(f2, q, n) == n, "isolation: second file's query");
	n = read(f1, b1, 60);
	b1[n > 0 ? n : 0] = 0;
	n = read(f2, b2, 60);
	b2[n > 0 ? n : 0] = 0;
	snprintf(w1, sizeof(w1), "start=0x%lx end=0x%lx", PSZ, 2 * PSZ);
	snprintf(w2, sizeof(w2), "start=0x%lx end=0x%lx", 5 * PSZ, 8 * PSZ);
	tap_ok(strstr(b1, w1) && strstr(b2, w2),
	       "isolation: each file answers its own query");
	/* a second query on the same file replaces the first, even mid-answer */
	n = snprintf(q, sizeof(q), "%d 0x%lx +0x%lx", getpid(), 12 * PSZ, 2 * PSZ);
	tap_ok(write(f1, q, n) == n, "reuse: a second query on a half-read file");
	n = read(f1, b1, 60);
	b1[n > 0 ? n : 0] = 0;
	snprintf(w1, sizeof(w1), "start=0x%lx end=0x%lx", 12 * PSZ, 14 * PSZ);
	tap_ok(strncmp(b1, "# memtrace", 10) == 0 && strstr(b1, w1),
	       "reuse: the answer to the second query starts afresh");
	while (read(f1, b1, sizeof(b1)) > 0)
		;
	n = snprintf(q, sizeof(q), "%d 0x%lx +0x%lx", getpid(), 16 * PSZ, PSZ);
	tap_ok(write(f1, q, n) == n, "reuse: a third query after the end of an answer");
	n = read(f1, b1, 60);
	b1[n > 0 ? n : 0] = 0;
	snprintf(w1, sizeof(w1), "start=0x%lx end=0x%lx", 16 * PSZ, 17 * PSZ);
	tap_ok(strncmp(b1, "# memtrace", 10) == 0 && strstr(b1, w1),
	       "reuse: the third query is answered");
	close(f1);
	close(f2);

	/*
	 * A file answers only queries written to it: no "last query of the
	 * same user" for a fresh file, even in the process that wrote one.
	 */
	n = snprintf(q, sizeof(q), "%d 0x%lx +0x%lx\n", getpid(), 9 * PSZ, PSZ);
	tap_ok(mt_write_raw(q, n) == 0, "write a query to one file and close it");
	f1 = open("/proc/memtrace", O_RDONLY);
	errno = 0;
	n = read(f1, b1, sizeof(b1) - 1);
	tap_ok(n < 0 && errno == ENODATA,
	       "a fresh file without a query of its own reads ENODATA (got %zd, %s)",
	       n, strerror(errno));
	close(f1);
	/* the shell idiom that works: one open file for the query and the answer */
	f1 = open("/proc/memtrace", O_RDWR);
	n = strlen(q);
	tap_ok(write(f1, q, n) == n, "exec 3<>/proc/memtrace; echo QUERY >&3");
	n = read(f1, b1, sizeof(b1) - 1);
	b1[n > 0 ? n : 0] = 0;
	close(f1);
	snprintf(w1, sizeof(w1), "start=0x%lx end=0x%lx", 9 * PSZ, 10 * PSZ);
	tap_ok(strstr(b1, w1) != NULL, "cat <&3 answers it");
}

/* Target exits in the middle of an answer: a clean errno. */
void cor_t_exit_midway(void)
{
	char q[64], buf[256];
	int fd, st;
	ssize_t n;
	pid_t c = fork();

	if (!c) {
		/* an answer far longer than one kernel buffer */
		mmap(NULL, 64 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		pause();
		_exit(0);
	}
	usleep(50000);
	fd = open("/proc/memtrace", O_RDWR);
	n = snprintf(q, sizeof(q), "%d all pages", c);
	tap_ok(write(fd, q, n) == n, "exit mid-query: query accepted");
	n = read(fd, buf, sizeof(buf));
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	do
		n = read(fd, buf, sizeof(buf));
	while (n > 0);
	tap_ok(n < 0 && errno == ESRCH, "exit mid-query: ESRCH (got %s)", n < 0 ? strerror(errno) : "EOF");
	close(fd);
}

/* As uid 1000: own process allowed without PFNs; others refused. */
void cor_t_unprivileged(void)
{
	int pipefd[2], st;
	pid_t other, lab;

	if (!cor_root) {
		tap_ok(1, "# SKIP unprivileged tests need root to set up users");
		return;
	}
	/* a uid-1000 process that is not dumpable */
	other = fork();
	if (!other) {
		if (setgid(1000) || setuid(1000))
			_exit(3);
		prctl(PR_SET_DUMPABLE, 0);
		pause();
		_exit(0);
	}
	if (pipe(pipefd))
		exit(2);
	lab = fork();
	if (!lab) {
		char *p, q[128];
		struct mt_answer a;
		int res = 0, err, fd;
		pid_t peer;

		close(pipefd[0]);
		if (setgroups(0, NULL) || setgid(1000) || setuid(1000))
			_exit(3);
		/* setuid() made us non-dumpable; be an ordinary user process */
		prctl(PR_SET_DUMPABLE, 1);
		p = cor_map(4 * cor_psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
		memset(p, 1, 4 * cor_psz);
		err = mt_query(getpid(), (uintptr_t)p, (uintptr_t)p + 4 * cor_psz, "pages", &a);
		res |= (err != 0) << 0;
		if (!err) {
			for (int i = 0; i < 4; i++)
				res |= (a.pages[i].state != MEMTRACE_PRESENT ||
					a.pages[i].pfn != 0) << 1;
			mt_answer_free(&a);
		}
		snprintf(q, sizeof(q), "%d 0 4096", getppid());
		res |= (mt_write_raw(q, strlen(q)) != -EACCES) << 2;
		snprintf(q, sizeof(q), "%d 0 4096", other);
		res |= (mt_write_raw(q, strlen(q)) != -EACCES) << 3;
		snprintf(q, sizeof(q), "1 all");
		res |= (mt_write_raw(q, strlen(q)) != -EACCES) << 4;
		/* a dumpable uid-1000 process of our own: allowed */
		peer = fork();
		if (!peer) {
			pause();
			_exit(0);
		}
		snprintf(q, sizeof(q), "%d all", peer);
		res |= (mt_write_raw(q, strlen(q)) != 0) << 5;
		/* a fresh file answers no earlier query, this user's or root's */
		{
			char b[64];

			fd = open("/proc/memtrace", O_RDONLY);
			res |= !(read(fd, b, sizeof(b)) < 0 && errno == ENODATA) << 6;
			close(fd);
		}
		kill(peer, SIGKILL);
		waitpid(peer, NULL, 0);
		if (write(pipefd[1], &res, sizeof(res)) != sizeof(res))
			_exit(4);
		_exit(0);
	}
	close(pipefd[1]);
	{
		int res = -1;

		if (read(pipefd[0], &res, sizeof(res)) != sizeof(res))
			res = -1;
		waitpid(lab, &st, 0);
		tap_ok(res >= 0 && !(res & 1), "uid 1000: own process can be queried");
		tap_ok(res >= 0 && !(res & 2), "uid 1000: own pages present, PFNs hidden (0)");
		tap_ok(res >= 0 && !(res & 4), "uid 1000: root's process refused with EACCES");
		tap_ok(res >= 0 && !(res & 8), "uid 1000: non-dumpable uid-1000 process refused with EACCES");
		tap_ok(res >= 0 && !(res & 16), "uid 1000: init refused with EACCES");
		tap_ok(res >= 0 && !(res & 32), "uid 1000: another dumpable uid-1000 process allowed");
		tap_ok(res >= 0 && !(res & 64), "uid 1000: a fresh file answers no earlier query (ENODATA)");
	}
	/* uid 1001 never wrote a query: nothing to answer */
	lab = fork();
	if (!lab) {
		char b[64];
		int fd;

		if (setgroups(0, NULL) || setgid(1001) || setuid(1001))
			_exit(3);
		fd = open("/proc/memtrace", O_RDONLY);
		_exit(read(fd, b, sizeof(b)) < 0 && errno == ENODATA ? 0 : 1);
	}
	waitpid(lab, &st, 0);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "uid 1001: read without any query: ENODATA");
	kill(other, SIGKILL);
	waitpid(other, &st, 0);
	close(pipefd[0]);
}
