// SPDX-License-Identifier: GPL-2.0
/*
 * rcv-fd: a uid 1000 opener's fd across exec of a setuid-root program (this
 * program's copy, run as "suid"): the fd answers for its opener only.
 */
#include "fd.h"

/* ---- a uid 1000 opener's fd across exec of a setuid-root program ---- */

static void report(int rfd, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void report(int rfd, bool ok, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	int n;

	line[0] = ok ? '1' : '0';
	line[1] = ' ';
	va_start(ap, fmt);
	n = vsnprintf(line + 2, sizeof(line) - 3, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 3)
		n = sizeof(line) - 3;
	line[2 + n] = '\n';
	if (write(rfd, line, n + 3) < 0)
		_exit(3);
}

struct pfn_count {
	unsigned long present, with_pfn;
};

static void count_pfn(void *arg, uint64_t addr, uint64_t pages, unsigned int state,
		      uint32_t flags, uint64_t pfn, int64_t node)
{
	struct pfn_count *k = arg;

	(void)addr, (void)pages, (void)flags, (void)node;
	if (state == MEMTRACE_PRESENT) {
		k->present++;
		k->with_pfn += !!pfn;
	}
}

/* Query fd (pages mode) and read it checked: 0, or -errno (why set). */
static int query_fd(int fd, int pid, uint64_t start, uint64_t end, bool admin,
		    struct pfn_count *k, uint64_t *hash, char *why, size_t wlen)
{
	char q[128], *buf = malloc(1 << 20);
	struct rl_check c;
	struct rl_text t;
	size_t n = 0;
	ssize_t got;
	int len;

	len = snprintf(q, sizeof(q), "%d 0x%" PRIx64 " 0x%" PRIx64 " pages\n", pid, start, end);
	if (!buf)
		return -ENOMEM;
	if (write(fd, q, len) != len) {
		int e = errno;

		snprintf(why, wlen, "write: %s", strerror(e));
		free(buf);
		return -e;
	}
	rl_check_init(&c, pid, start, end, MEMTRACE_MODE_PAGES, admin);
	c.on_record = count_pfn;
	c.arg = k;
	rl_text_init(&t, &c);
	while ((got = read(fd, buf + n, (1 << 20) - n)) > 0) {
		if (!rl_text_feed(&t, buf + n, got))
			break;
		n += got;
	}
	if (got < 0 || !rl_text_end(&t)) {
		snprintf(why, wlen, "%s", got < 0 ? strerror(errno) : c.err);
		free(buf);
		return got < 0 ? -errno : -EBADMSG;
	}
	if (hash)
		*hash = rcvfd_fnv(buf, n);
	free(buf);
	return 0;
}

/*
 * The setuid-root helper: argv "suid FD RFD TPID TSTART TEND UPID USTART UEND".
 * FD: the uid 1000 opener's /proc/memtrace; T: a root process; U: uid 1000's.
 */
int rcvfd_suid_main(int argc, char **argv)
{
	int fd, rfd, tpid, upid, nfd, err;
	uint64_t ts, te, us, ue, h = 0;
	struct pfn_count k = { 0 };
	char why[512] = "";

	if (argc < 10)
		return 2;
	fd = atoi(argv[2]);
	rfd = atoi(argv[3]);
	tpid = atoi(argv[4]);
	ts = strtoull(argv[5], NULL, 0);
	te = strtoull(argv[6], NULL, 0);
	upid = atoi(argv[7]);
	us = strtoull(argv[8], NULL, 0);
	ue = strtoull(argv[9], NULL, 0);
	report(rfd, geteuid() == 0 && getuid() == USER_ID,
	       "setuid-root helper exec'd with the opener's fd: uid %d euid %d", (int)getuid(),
	       (int)geteuid());
	err = query_fd(fd, tpid, ts, te, true, &k, NULL, why, sizeof(why));
	report(rfd, err == -EACCES,
	       "the inherited fd, query of a root process: refused as its uid 1000 opener (%s)",
	       err ? strerror(-err) : "answered");
	memset(&k, 0, sizeof(k));
	err = query_fd(fd, upid, us, ue, false, &k, NULL, why, sizeof(why));
	report(rfd, !err && k.present > 0 && !k.with_pfn,
	       "the inherited fd, query of uid 1000's process: answered with pfns hidden as for its opener (%lu present pages, %lu with a pfn%s%s)",
	       k.present, k.with_pfn, err ? "; " : "", err ? why : "");
	nfd = open("/proc/memtrace", O_RDWR | O_CLOEXEC);
	memset(&k, 0, sizeof(k));
	err = nfd < 0 ? -errno : query_fd(nfd, tpid, ts, te, true, &k, &h, why, sizeof(why));
	report(rfd, !err, "its own fresh open, the root process: answered (%s) hash %016" PRIx64,
	       err ? why : "checked", h);
	memset(&k, 0, sizeof(k));
	err = nfd < 0 ? -EBADF : query_fd(nfd, upid, us, ue, true, &k, NULL, why, sizeof(why));
	report(rfd, !err && k.present > 0 && k.with_pfn == k.present,
	       "its own fresh open, uid 1000's process: pfns shown (%lu present pages, %lu with a pfn%s%s)",
	       k.present, k.with_pfn, err ? "; " : "", err ? why : "");
	return 0;
}

static int make_suid_copy(char *path)
{
	char buf[65536];
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), out;
	ssize_t n;

	if (in < 0)
		return -errno;
	out = mkstemp(path);
	if (out < 0) {
		close(in);
		return -errno;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			n = -1;
	close(in);
	if (n < 0 || fchown(out, 0, 0) || fchmod(out, 04755)) {
		close(out);
		return -EIO;
	}
	return close(out) ? -errno : 0;
}

void rcvfd_test_suid(struct rl_rng *r)
{
	static const char *const lines[N_SUID] = {
		"uid 1000 opener, before exec: query of a root process refused",
		"setuid-root helper exec'd",
		"inherited fd: root process refused",
		"inherited fd: uid 1000 process, pfns hidden",
		"fresh open: root process answered",
		"fresh open: uid 1000 process, pfns shown",
	};
	char path[] = "/tmp/rcv-fd-suid.XXXXXX", rbuf[4096], *line;
	int p[2], st = -1, err;
	size_t rn = 0;
	ssize_t k;
	pid_t pid;

	err = make_suid_copy(path);
	if (err || pipe(p)) {
		for (int i = 0; i < N_SUID; i++)
			tap_ok(0, "setuid: %s: no setuid copy of this program (%s)", lines[i],
			       strerror(err ? -err : errno));
		unlink(path);
		return;
	}
	fflush(NULL);
	pid = fork();
	if (!pid) {
		char a[9][40];
		struct rc_target u;
		char why[256];
		int fd;

		close(p[0]);
		if (setgroups(0, NULL) || setgid(USER_ID) || setuid(USER_ID)) {
			report(p[1], false, "drop to uid %d: %s", USER_ID, strerror(errno));
			_exit(1);
		}
		prctl(PR_SET_DUMPABLE, 1);
		err = rc_target_start(&u, rl_next(r), 64);
		fd = open("/proc/memtrace", O_RDWR);	/* no O_CLOEXEC: handed on */
		if (err || fd < 0) {
			report(p[1], false, "uid 1000: target %s, open %s", strerror(-err),
			       strerror(errno));
			_exit(1);
		}
		err = query_fd(fd, rcvfd_tg.pid, rcvfd_tg.start, rcvfd_tg.end, false,
			       &(struct pfn_count){ 0 },
			       NULL, why, sizeof(why));
		report(p[1], err == -EACCES,
		       "uid 1000 opens /proc/memtrace: a query of root's process refused (%s)",
		       err ? strerror(-err) : "answered");
		snprintf(a[0], 40, "%d", fd);
		snprintf(a[1], 40, "%d", p[1]);
		snprintf(a[2], 40, "%d", rcvfd_tg.pid);
		snprintf(a[3], 40, "0x%" PRIx64, rcvfd_tg.start);
		snprintf(a[4], 40, "0x%" PRIx64, rcvfd_tg.end);
		snprintf(a[5], 40, "%d", u.pid);
		snprintf(a[6], 40, "0x%" PRIx64, u.start);
		snprintf(a[7], 40, "0x%" PRIx64, u.end);
		execl(path, "rcv-fd-suid", "suid", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7],
		      (char *)NULL);
		report(p[1], false, "exec %s: %s", path, strerror(errno));
		_exit(1);
	}
	close(p[1]);
	while (pid > 0 && rn < sizeof(rbuf) - 1 &&
	       (k = read(p[0], rbuf + rn, sizeof(rbuf) - 1 - rn)) > 0)
		rn += k;
	rbuf[rn] = '\0';
	close(p[0]);
	if (pid > 0)
		waitpid(pid, &st, 0);
	unlink(path);
	line = rbuf;
	for (int i = 0; i < N_SUID; i++) {
		char *nl = line ? strchr(line, '\n') : NULL;

		if (!nl) {
			tap_ok(0, "setuid: %s: no report (helper exit status 0x%x)", lines[i], st);
			line = NULL;
			continue;
		}
		*nl = '\0';
		if (i == 4 && line[0] == '1') {
			/* the fresh open's answer is root's own, byte for byte */
			char *hp = strstr(line, "hash ");
			uint64_t h = hp ? strtoull(hp + 5, NULL, 16) : 0;

			if (h != rcvfd_fnv(rcvfd_r1, rcvfd_n1))
				line[0] = '0';
		}
		tap_ok(line[0] == '1', "setuid: %s", line + 2);
		line = nl + 1;
	}
}
