// SPDX-License-Identifier: GPL-2.0
/*
 * MEMTRACE_CMD_TOP: every process the caller may query, counted over its
 * whole address space. A process's counts equal a QUERY of its whole space
 * taken while it holds still, and move by exactly what it does (pages
 * touched, read, left alone); processes of another user are left out for an
 * unprivileged caller and told to root; processes exiting during the dump
 * never make it fail; a socket closed half-way through a dump lets go of it;
 * a process whose leader thread exited is counted through another thread;
 * one whose mmap_lock stays busy does not hold the dump up (it is told,
 * flagged BUSY); a caller in a child pid namespace sees that namespace's.
 * And QUERY beside it: the request's sendmsg() waits for no lock of a busy
 * process (genetlink's cb_lock is held there), the rest of its answer is
 * read after.
 */
#include "correctness.h"
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>

#include "kasan.h"
#include "nlraw.h"

#define TOP_PAGES 64	/* the child's region */
#define TOP_TOUCH 16	/* written */
#define TOP_READ  8	/* read: the zero page */

struct top_proc {
	uint32_t pid;
	char comm[16];
	uint64_t counts[MEMTRACE_NSTATES_ALL];
	unsigned int ncounts;
	uint64_t thp;
	bool have_thp;
	bool busy;
};

struct top_dump {
	struct top_proc *p;
	size_t n, cap;
	unsigned int bad;	/* malformed messages */
	uint32_t last;		/* the last pid: pids come in order */
	unsigned int out_of_order;
};

static int top_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct top_dump *d = arg;
	struct nlattr *a, *b, *c;
	int rem, rem2, rem3;

	nlr_for_each_attr(a, (char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
			  nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, rem) {
		struct top_proc p = { 0 };
		bool have_pid = false;

		if (nlr_type(a) != MEMTRACE_A_PROC) {
			d->bad++;
			continue;
		}
		nlr_for_each_attr(b, nlr_data(a), nlr_len(a), rem2) {
			switch (nlr_type(b)) {
			case MEMTRACE_P_PID:
				have_pid = nlr_len(b) == 4;
				memcpy(&p.pid, nlr_data(b), 4);
				break;
			case MEMTRACE_P_COMM:
				snprintf(p.comm, sizeof(p.comm), "%.*s", nlr_len(b),
					 (char *)nlr_data(b));
				break;
			case MEMTRACE_P_BUSY:
				p.busy = true;
				break;
			case MEMTRACE_P_THP:
				p.have_thp = nlr_len(b) == 8;
				memcpy(&p.thp, nlr_data(b), 8);
				break;
			case MEMTRACE_P_SUMMARY:
				nlr_for_each_attr(c, nlr_data(b), nlr_len(b), rem3) {
					int t = nlr_type(c);

					if (t < 1 || t > MEMTRACE_NSTATES_ALL || nlr_len(c) != 8)
						continue;
					memcpy(&p.counts[t - 1], nlr_data(c), 8);
					p.ncounts++;
				}
				break;
			}
		}
		if (!have_pid || !p.have_thp || p.ncounts < MEMTRACE_NSTATES) {
			d->bad++;
			continue;
		}
		if (p.pid <= d->last)
			d->out_of_order++;
		d->last = p.pid;
		if (d->n == d->cap) {
			d->cap = d->cap ? 2 * d->cap : 256;
			d->p = realloc(d->p, d->cap * sizeof(*d->p));
			if (!d->p)
				exit(2);
		}
		d->p[d->n++] = p;
	}
	return 0;
}

/* One TOP dump into d (rcvbuf: the receive buffer, 0 for nlr's): 0 or -errno. */
static int top_dump(struct top_dump *d, bool cached, struct nlr_result *r)
{
	static struct nlr s;
	static struct nlb b;
	int err;

	memset(d, 0, sizeof(*d));
	memset(r, 0, sizeof(*r));
	err = nlr_open(&s);
	if (err)
		return err;
	nlb_start(&b, &s, MEMTRACE_CMD_TOP, NLM_F_DUMP);
	if (cached)
		nlb_attr(&b, MEMTRACE_A_CACHED, NULL, 0);
	err = nlr_send(&s, &b);
	if (!err)
		err = nlr_wait(&s, b.seq, r, top_msg, d);
	if (!err)
		err = r->error;
	nlr_close(&s);
	if (!err && (d->bad || d->out_of_order))
		err = -EBADMSG;
	return err;
}

static const struct top_proc *top_find(const struct top_dump *d, pid_t pid)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->p[i].pid == (uint32_t)pid)
			return &d->p[i];
	return NULL;
}

/*
 * The summary of a QUERY of pid's whole space ("all", runs mode, through
 * /proc/memtrace), and its THP pages: present runs of PMD or PUD size (not a page's), neither
 * hugetlb (h) nor of a raw PFN mapping (kind p).
 */
static int query_all(pid_t pid, bool cached, uint64_t *counts, uint64_t *thp)
{
	char line[64], base[24], *text = NULL, *p;
	size_t len = 0, cap = 0;
	int fd, n, err = 0;
	ssize_t got;

	memset(counts, 0, MEMTRACE_NSTATES_ALL * sizeof(*counts));
	*thp = 0;
	snprintf(base, sizeof(base), "%ldK", cor_psz >> 10);	/* a page's size */
	fd = open("/proc/memtrace", O_RDWR);
	if (fd < 0)
		return -errno;
	n = snprintf(line, sizeof(line), "%d all runs%s\n", pid, cached ? " cached" : "");
	if (write(fd, line, n) != n) {
		err = -errno;
		close(fd);
		return err;
	}
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? 2 * cap : 1 << 20;
			text = realloc(text, cap + 1);
			if (!text)
				exit(2);
		}
		got = read(fd, text + len, cap - len);
		if (got < 0) {
			err = -errno;
			break;
		}
		if (!got)
			break;
		len += got;
	}
	close(fd);
	if (err) {
		free(text);
		return err;
	}
	text[len] = 0;
	err = -EBADMSG;
	for (p = text; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		unsigned long long addr, pages;
		char state[16], size[8], flags[16];

		if (!strncmp(p, "# summary ", 10)) {
			for (int s = 0; s < MEMTRACE_NSTATES_ALL; s++) {
				char key[32];
				const char *at;

				snprintf(key, sizeof(key), " %s=", mt_state_names[s]);
				at = strstr(p, key);
				if (at)
					counts[s] = strtoull(at + strlen(key), NULL, 10);
			}
			err = 0;
			continue;
		}
		if (*p == '#')
			continue;
		if (sscanf(p, "%llx %llu %15s %7s %15s", &addr, &pages, state, size, flags) != 5)
			continue;
		if (!strcmp(state, "present") && strcmp(size, base) && flags[0] != 'p' &&
		    flags[1] != 'h')
			*thp += pages;
	}
	free(text);
	return err;
}

static bool same_counts(const uint64_t *a, const uint64_t *b, int n, const char *what)
{
	bool same = true;

	for (int s = 0; s < n; s++) {
		if (a[s] != b[s]) {
			tap_diag("%s: %s %" PRIu64 " != %" PRIu64, what, mt_state_names[s],
				 a[s], b[s]);
			same = false;
		}
	}
	return same;
}

/* A child holding still on a pipe; steps written to it move it on. */
struct top_child {
	pid_t pid;
	int cmd, ack;
};

static void top_child_wait(struct top_child *c)
{
	char x;

	if (read(c->ack, &x, 1) != 1)
		exit(2);
}

static void top_child_step(struct top_child *c, char step)
{
	if (write(c->cmd, &step, 1) != 1)
		exit(2);
	top_child_wait(c);
}

/*
 * The child: maps TOP_PAGES pages (and a 4M THP-able region, touched), then
 * on 't' writes TOP_TOUCH of them and reads TOP_READ more; on 'q' exits.
 */
static void top_child(struct top_child *c, uid_t uid)
{
	int cmd[2], ack[2];

	if (pipe(cmd) || pipe(ack))
		exit(2);
	c->pid = fork();
	if (!c->pid) {
		volatile char *p;
		char x = 0, *h;
		size_t hl = 4 << 20;

		close(cmd[1]);
		close(ack[0]);
		if (uid && (setgroups(0, NULL) || setgid(uid) || setuid(uid)))
			_exit(3);
		prctl(PR_SET_DUMPABLE, 1);
		p = cor_map(TOP_PAGES * cor_psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
		h = mmap(NULL, 2 * hl, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (h != MAP_FAILED) {
			h = (char *)(((uintptr_t)h + hl / 2 - 1) & ~(hl / 2 - 1));
			madvise(h, hl, MADV_HUGEPAGE);
			memset(h, 1, hl);
		}
		for (;;) {
			if (write(ack[1], &x, 1) != 1 || read(cmd[0], &x, 1) != 1 || x == 'q')
				_exit(0);
			if (x == 't') {
				for (int i = 0; i < TOP_TOUCH; i++)
					p[i * cor_psz] = 1;
				for (int i = TOP_TOUCH; i < TOP_TOUCH + TOP_READ; i++)
					x += p[i * cor_psz];
			}
		}
	}
	close(cmd[0]);
	close(ack[1]);
	c->cmd = cmd[1];
	c->ack = ack[0];
	if (c->pid < 0)
		exit(2);
	top_child_wait(c);
}

static void top_child_end(struct top_child *c)
{
	char q = 'q';
	int st;

	if (write(c->cmd, &q, 1) != 1)
		kill(c->pid, SIGKILL);
	waitpid(c->pid, &st, 0);
	close(c->cmd);
	close(c->ack);
}

/* The counts of a process that holds still, and what a known step adds. */
static void t_counts(bool cached)
{
	int n = cached ? MEMTRACE_NSTATES_ALL : MEMTRACE_NSTATES;
	uint64_t q1[MEMTRACE_NSTATES_ALL], q2[MEMTRACE_NSTATES_ALL], thp1, thp2;
	const char *how = cached ? "top cached" : "top";
	struct top_dump d1, d2;
	const struct top_proc *p1, *p2;
	struct nlr_result r;
	struct top_child c;
	int err;

	top_child(&c, 0);
	err = query_all(c.pid, cached, q1, &thp1);
	err = err ?: top_dump(&d1, cached, &r);
	if (!tap_ok(!err, "%s: QUERY and TOP answer (%s)", how, strerror(-err)))
		goto out;
	p1 = top_find(&d1, c.pid);
	if (tap_ok(p1 != NULL, "%s: the child (%d) is listed, among %zu", how, c.pid, d1.n)) {
		tap_ok(same_counts(p1->counts, q1, n, how) && p1->ncounts == (unsigned int)n,
		       "%s: its counts are its whole-space QUERY's (present %" PRIu64
		       ", none %" PRIu64 ", %u states)", how, q1[MEMTRACE_PRESENT],
		       q1[MEMTRACE_NONE], p1->ncounts);
		tap_ok(p1->thp == thp1, "%s: THP %" PRIu64 " pages, the QUERY's %" PRIu64,
		       how, p1->thp, thp1);
		tap_ok(!strcmp(p1->comm, "correctness"), "%s: comm '%s'", how, p1->comm);
	}
	top_child_step(&c, 't');
	err = top_dump(&d2, cached, &r);
	err = err ?: query_all(c.pid, cached, q2, &thp2);
	if (!tap_ok(!err, "%s: after the step: TOP and QUERY answer", how))
		goto free1;
	p2 = top_find(&d2, c.pid);
	if (p1 && tap_ok(p2 != NULL, "%s: the child is listed again", how)) {
		uint64_t want[MEMTRACE_NSTATES_ALL];

		memcpy(want, p1->counts, sizeof(want));
		want[MEMTRACE_PRESENT] += TOP_TOUCH;
		want[MEMTRACE_ZERO] += TOP_READ;
		want[MEMTRACE_NONE] -= TOP_TOUCH + TOP_READ;
		tap_ok(same_counts(p2->counts, want, n, how),
		       "%s: %d written pages moved from none to present, %d read to zero, "
		       "nothing else", how, TOP_TOUCH, TOP_READ);
		tap_ok(same_counts(p2->counts, q2, n, how) && p2->thp == thp2,
		       "%s: and equal its whole-space QUERY's again", how);
	}
	free(d2.p);
free1:
	free(d1.p);
out:
	top_child_end(&c);
}

/* Another user's process: left out for an unprivileged caller, told to root. */
static void t_policy(void)
{
	struct top_child c;
	struct top_dump d;
	struct nlr_result r;
	int pipefd[2], st, err;
	pid_t caller;
	struct {
		int err;
		int sees_child, sees_self, sees_init;
	} res[2];

	top_child(&c, 1000);
	err = top_dump(&d, false, &r);
	tap_ok(!err && top_find(&d, c.pid) && top_find(&d, 1),
	       "top policy: root sees uid 1000's process and init");
	free(d.p);
	for (int u = 0; u < 2; u++) {
		uid_t uid = u ? 1001 : 1000;

		if (pipe(pipefd))
			exit(2);
		caller = fork();
		if (!caller) {
			close(pipefd[0]);
			if (setgroups(0, NULL) || setgid(uid) || setuid(uid))
				_exit(3);
			prctl(PR_SET_DUMPABLE, 1);
			res[u].err = top_dump(&d, false, &r);
			res[u].sees_child = top_find(&d, c.pid) != NULL;
			res[u].sees_self = top_find(&d, getpid()) != NULL;
			res[u].sees_init = top_find(&d, 1) != NULL;
			if (write(pipefd[1], &res[u], sizeof(res[u])) != sizeof(res[u]))
				_exit(4);
			_exit(0);
		}
		close(pipefd[1]);
		memset(&res[u], 0, sizeof(res[u]));
		res[u].err = -EPIPE;
		if (read(pipefd[0], &res[u], sizeof(res[u])) != sizeof(res[u]))
			res[u].err = -EPIPE;
		close(pipefd[0]);
		waitpid(caller, &st, 0);
	}
	tap_ok(!res[0].err && res[0].sees_child && res[0].sees_self && !res[0].sees_init,
	       "top policy: uid 1000 sees its own process and itself, not init (%s)",
	       strerror(-res[0].err));
	tap_ok(!res[1].err && !res[1].sees_child && res[1].sees_self && !res[1].sees_init,
	       "top policy: uid 1001 sees itself, neither uid 1000's process nor init (%s)",
	       strerror(-res[1].err));
	top_child_end(&c);
}

/* Children forked and exiting in a loop while dumps run: none fails. */
static void t_churn(void)
{
	unsigned int fails = 0, dumps = 0, empty = 0;
	int st, err = 0;
	pid_t spawner = fork();

	if (!spawner) {
		for (;;) {
			for (int i = 0; i < 200; i++) {
				pid_t k = fork();

				if (!k) {
					volatile char *m = malloc(1 << 16);

					if (m)
						m[0] = 1;
					_exit(0);
				}
			}
			while (waitpid(-1, NULL, 0) > 0)
				;
		}
	}
	for (dumps = 0; dumps < 30; dumps++) {
		struct top_dump d;
		struct nlr_result r;

		err = top_dump(&d, true, &r);
		if (err) {
			if (fails++ < 3)
				tap_diag("dump %u: %s (%s)", dumps, strerror(-err), r.msg);
		}
		if (!top_find(&d, getpid()))
			empty++;
		free(d.p);
	}
	kill(spawner, SIGKILL);
	waitpid(spawner, &st, 0);
	tap_ok(!fails && !empty,
	       "top churn: %u dumps while 200 children at a time fork and exit: %u failed, "
	       "%u without us", dumps, fails, empty);
}

/* The thread that outlives its leader: maps and writes pages, then waits. */
static void *leader_gone_thread(void *arg)
{
	int *fds = arg;
	volatile char *p = cor_map(TOP_PAGES * cor_psz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS);
	char x = 0;

	for (int i = 0; i < TOP_TOUCH; i++)
		p[i * cor_psz] = 1;
	if (write(fds[1], &x, 1) != 1)
		_exit(4);
	for (;;)
		pause();
	return NULL;
}

/*
 * A process whose leader thread exited (SYS_exit: that thread only) while
 * another runs on: /proc shows its maps empty (the leader's mm is gone), TOP
 * counts it through the live thread, under the leader's pid and name.
 */
static void t_leader_gone(void)
{
	const struct top_proc *p;
	struct nlr_result r;
	struct top_dump d;
	int fds[2], st, err;
	char x;
	pid_t c;

	if (pipe(fds))
		exit(2);
	c = fork();
	if (!c) {
		pthread_t t;

		if (pthread_create(&t, NULL, leader_gone_thread, fds))
			_exit(3);
		syscall(SYS_exit, 0);	/* this thread only */
	}
	close(fds[1]);
	if (read(fds[0], &x, 1) != 1)
		exit(2);
	/* the leader is a zombie once its State says so */
	for (int i = 0; i < 200; i++) {
		char path[64], state = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", c);
		f = fopen(path, "r");
		if (f) {
			if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
				state = 0;
			fclose(f);
		}
		if (state == 'Z')
			break;
		usleep(10000);
	}
	err = top_dump(&d, false, &r);
	p = err ? NULL : top_find(&d, c);
	tap_ok(p && p->counts[MEMTRACE_PRESENT] >= TOP_TOUCH && !strcmp(p->comm, "correctness"),
	       "top: a process whose leader exited is counted through its live thread "
	       "(pid %d listed: %s, present %" PRIu64 ", comm '%s')", c, p ? "yes" : "no",
	       p ? p->counts[MEMTRACE_PRESENT] : 0, p ? p->comm : "");
	free(d.p);
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	close(fds[0]);
}

/*
 * Processes that share the busy one's mm: 200 ms of waiting each would make
 * 12 of them 2.4 s; the dump's budget (1 s) caps the whole dump's waiting.
 */
#define BUSY_SHARERS 12

/* What the busy process and its test share (a MAP_SHARED page) */
struct busy_state {
	volatile int ready;		/* the threads are there, their stacks present */
	volatile int go;		/* the populate may begin */
	volatile int populating;	/* the populating thread is in mlock() */
	volatile int populated;		/* ... and out of it */
	volatile int populate_err;	/* mlock()'s errno, 0 if it populated */
	volatile double populate_secs;	/* how long it took */
	volatile double populate_end;	/* when it ended (CLOCK_MONOTONIC) */
	volatile int mapping;		/* the other thread calls mmap() */
	volatile pid_t spawned;		/* a vfork() child's execve() waits */
	pid_t sharers[BUSY_SHARERS];	/* processes sharing the mm (CLONE_VM) */
	/*
	 * the vfork() child's state when the probe began: 'D' while its
	 * execve() waits (for the mmap_lock of the mm it shares, holding its
	 * exec_update_lock); on 5.10 an execve() does not wait for it (the
	 * child is through, 'S' in its new program)
	 */
	char child_state;
};

/* What a dump told of them */
struct busy_result {
	bool listed, busy;	/* the process, flagged BUSY */
	bool spawned;		/* its vfork() child was told */
	bool child_waited;	/* ... while its execve() waited (state D) */
	unsigned int sharers_busy;	/* sharers told, flagged BUSY */
	size_t others;		/* processes told besides */
	double secs;		/* the dump's time */
};

static int busy_sharer(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

struct busy_arg {
	struct busy_state *st;
	char *region;
	size_t len;
};

static double busy_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *busy_populate(void *arg)
{
	struct busy_arg *a = arg;
	double t0;

	while (!a->st->go)
		sched_yield();
	t0 = busy_now();
	a->st->populating = 1;
	/* its read faults run under mmap_lock */
	a->st->populate_err = mlock(a->region, a->len) ? errno : 0;
	a->st->populate_end = busy_now();
	a->st->populate_secs = a->st->populate_end - t0;
	__atomic_store_n(&a->st->populated, 1, __ATOMIC_RELEASE);	/* after those */
	return NULL;
}

/*
 * What the busy process runs while its populate holds the mmap_lock must
 * not fault: the fault would wait for the populate. fork() copied no page
 * table entry of its file mappings (the program's and libraries' text and
 * data), its private pages are copy-on-write, and a new thread's stack is
 * faulted in as it grows: every mapping it has (but the kernel's special
 * ones and anything big) is mlock()ed before the populate's region is
 * mapped; a thread touches its stack.
 */
static void busy_prefault(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && hi - lo <= (64UL << 20) &&
		    !strstr(line, "[vvar") && !strstr(line, "[vsyscall]"))
			mlock((void *)lo, hi - lo);	/* not fatal: the test may skip */
	}
	if (f)
		fclose(f);
}

static void __attribute__((noinline)) busy_touch_stack(void)
{
	volatile char buf[64 << 10];

	for (size_t i = 0; i < sizeof(buf); i += 512)
		buf[i] = 0;
}

/*
 * vfork() and execve(): the child's exec waits for the stuck mmap_lock of
 * the mm it shares (exec_mmap()) holding its own exec_update_lock.
 */
static void *busy_spawn(void *arg)
{
	struct busy_state *st = arg;
	/*
	 * execve()'s arguments on this stack, present: read without a fault,
	 * which would wait for the stuck lock before exec_update_lock is taken
	 */
	char path[] = "/bin/sh", a0[] = "sh", a1[] = "-c", a2[] = "exec sleep 60";
	char *argv[] = { a0, a1, a2, NULL }, *envp[] = { NULL };
	pid_t c;

	busy_touch_stack();
	st->ready = 1;
	while (!st->mapping)
		sched_yield();
	usleep(20000);
	c = vfork();
	if (!c) {
		st->spawned = getpid();
		execve(path, argv, envp);
		_exit(127);
	}
	return NULL;
}


/*
 * A process's state letter ('?' if gone) from /proc/PID/status, which
 * takes no sleeping lock of the task: /proc/PID/stat and wchan take its
 * exec_update_lock on some kernels (6.1), which the vfork() child's
 * execve() holds while it waits for the busy mmap_lock: reading them
 * would wait for the populate.
 */
static char busy_state_of(pid_t pid)
{
	char path[64], buf[256], st = '?';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return st;
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "State: %c", &st) == 1)
			break;
	fclose(f);
	return st;
}

/*
 * What is tried on the busy process c while its populate runs: 1 when it
 * was still running after what the probe must not wait for, 2 when it ended
 * during that (which may have waited for it), -1: error.
 */
typedef int (*busy_probe_t)(pid_t c, struct busy_state *st, void *res);

/*
 * One try: a child populates len bytes of read-only anonymous memory (zero
 * pages: no memory spent) with mlock(), holding its mmap_lock for read
 * throughout, while its other thread queues for it as a writer (mmap());
 * a reader that waited would wait for both. The probe's 1 or 2 (res: what
 * it saw), 0: the populate ended before the probe began (too soon to
 * tell), -1: error.
 */
static int busy_once(size_t len, busy_probe_t probe, void *res)
{
	struct busy_state *st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int ret = -1, wst;
	pid_t c;

	if (st == MAP_FAILED)
		return -1;
	c = fork();
	if (!c) {
		struct busy_arg a = { .st = st, .len = len };
		pthread_t t;

		busy_prefault();
		a.region = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				-1, 0);
		if (a.region == MAP_FAILED)
			_exit(3);
		madvise(a.region, len, MADV_NOHUGEPAGE);	/* 4K zero pages: slow */
		for (int i = 0; i < BUSY_SHARERS; i++) {
			char *stack = malloc(64 << 10);

			if (stack)
				memset(stack, 0, 64 << 10);
			st->sharers[i] = stack ? clone(busy_sharer, stack + (64 << 10),
						       CLONE_VM | SIGCHLD, NULL) : -1;
			if (st->sharers[i] < 0)
				_exit(3);
		}
		/* both threads there before the populate begins (mmap() of a stack waits) */
		if (pthread_create(&t, NULL, busy_populate, &a) ||
		    pthread_create(&t, NULL, busy_spawn, st))
			_exit(3);
		while (!st->ready)
			sched_yield();
		st->go = 1;
		while (!st->populating)
			sched_yield();
		usleep(20000);
		st->mapping = 1;
		mmap(NULL, cor_psz, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		for (;;)
			pause();
	}
	if (c < 0)
		goto out;
	while (!st->mapping || !st->spawned)
		usleep(1000);
	usleep(100000);		/* the writer queued, the execve() waiting */
	if (!st->populated) {
		st->child_state = busy_state_of(st->spawned);
		tap_diag("busy: %zu MiB: the vfork() child %d: state %c", len >> 20,
			 (int)st->spawned, st->child_state);
	}
	ret = st->populated ? 0 : probe(c, st, res);
	if (!ret)
		tap_diag("busy: %zu MiB: the populate ended before the probe began (%.2f s, %s)",
			 len >> 20, st->populate_secs,
			 st->populate_err ? strerror(st->populate_err) : "populated");
	for (int i = 0; i < BUSY_SHARERS; i++)
		if (st->sharers[i] > 0)
			kill(st->sharers[i], SIGKILL);
	kill(st->spawned, SIGKILL);	/* a sleep once its execve() is through */
	kill(c, SIGKILL);
	waitpid(c, &wst, 0);
out:
	munmap(st, sizeof(*st));
	return ret;
}

/* A TOP dump of everything while c is busy */
static int busy_top(pid_t c, struct busy_state *st, void *arg)
{
	struct busy_result *res = arg;
	const struct top_proc *p;
	struct nlr_result r;
	struct top_dump d;
	double t0;
	bool populated;
	int err;

	t0 = busy_now();
	err = top_dump(&d, false, &r);
	res->secs = busy_now() - t0;
	populated = st->populated;	/* before anything else is read */
	if (err) {
		tap_diag("busy: dump: %s", strerror(-err));
		return -1;
	}
	p = top_find(&d, c);
	res->listed = p != NULL;
	res->busy = p && p->busy;
	res->spawned = top_find(&d, st->spawned) != NULL;
	res->child_waited = st->child_state == 'D';
	res->sharers_busy = 0;
	for (int i = 0; i < BUSY_SHARERS; i++) {
		const struct top_proc *s = top_find(&d, st->sharers[i]);

		res->sharers_busy += s && s->busy;
	}
	if (res->spawned)
		tap_diag("busy: the vfork() child %d was told (busy %d), state %c now",
			 st->spawned, top_find(&d, st->spawned)->busy,
			 busy_state_of(st->spawned));
	res->others = d.n - (p != NULL) - res->spawned - res->sharers_busy;
	free(d.p);
	return populated ? 2 : 1;
}

/*
 * A process whose mmap_lock stays busy: the dump does not wait for it; it
 * is told, flagged BUSY, with everything else. Its vfork() child, whose
 * execve() waits for that lock holding the child's exec_update_lock, is
 * not waited for either: left out. Processes sharing the mm are each told
 * BUSY, the dump's waiting capped. The populate must outlast the dump for
 * the test to tell anything: tried bigger until it does.
 */
static void t_busy(void)
{
	struct busy_result res = { 0 };
	size_t len = (size_t)65536 * cor_psz;
	int ret = 0;

	bool ended_during = false;

	for (int i = 0; i < 5; i++) {
		if (i)
			len *= 2;
		ret = busy_once(len, busy_top, &res);
		if (ret == 1 || ret < 0)
			break;
		ended_during |= ret == 2;
	}
	if (ret < 0) {
		tap_ok(0, "top busy: set-up failed");
		return;
	}
	if (ret == 0 && !ended_during) {
		/* a populate (read faults of zero pages) faster than the set-up */
		tap_ok(1, "top busy # SKIP every populate holding mmap_lock (up to %zu MiB of "
		       "zero pages) ended before a dump began: nothing to tell here",
		       len >> 20);
		return;
	}
	tap_ok(ret == 1, "top busy: a populate of %zu MiB of zero pages outlasted a dump "
	       "(%.2f s)", len >> 20, res.secs);
	if (ret != 1)
		return;
	tap_ok(res.listed && res.busy && (!res.spawned || !res.child_waited) && res.others > 0,
	       "top busy: the dump did not wait for the process whose mmap_lock a "
	       "populate holds and a writer waits for (listed %s, flagged BUSY %s), nor "
	       "for its vfork() child whose execve() waits for it (%s); "
	       "%zu others told", res.listed ? "yes" : "no", res.busy ? "yes" : "no",
	       !res.child_waited ? "its execve() did not wait on this kernel: told" :
	       res.spawned ? "told" : "left out", res.others);
	tap_ok(res.sharers_busy == BUSY_SHARERS && res.secs < 2.4,
	       "top busy: %u of %d processes sharing that mm told, flagged BUSY, in a dump of "
	       "%.2f s (its waits capped at 1 s; 200 ms each would be %.1f s)",
	       res.sharers_busy, BUSY_SHARERS, res.secs, 0.2 * (BUSY_SHARERS + 2));
}

/* A thread reading a QUERY's first message, and what it saw */
struct busy_read {
	struct nlr *s;
	struct busy_state *st;
	ssize_t n;
	double secs;		/* that recvmsg() */
	bool populated;		/* the populate had ended when it returned */
};

/*
 * QUERY (and the client) while a process is busy: the request's sendmsg()
 * runs under genetlink's cb_lock (genl_rcv()), which genl_register_family()
 * waits for and every genetlink request after it: nothing there may wait
 * for a lock of the target.
 */
struct busy_query {
	double send_secs;	/* the QUERY's sendmsg() */
	bool first;		/* its first message was there when it returned */
	unsigned int first_records;	/* records in that first message */
	bool first_sum;		/* ... and the summary (not busy after all) */
	double exec_secs;	/* sendmsg() and answer of the QUERY of the execve() */
	struct nlr_result exec_r;
	char child_state;	/* the vfork() child's when the probe began: 'D' waiting */
	double other_secs;	/* a request sent on the socket while a recvmsg() reads */
	bool other_populated;	/* the populate ended before it returned */
	struct busy_read rd;	/* that recvmsg(): the first message */
	bool cli_ran;		/* the client, on the process in its execve() */
	int cli_status;
	double cli_secs;
	double cli_end;		/* when it ended (CLOCK_MONOTONIC) */
	bool cli_populated;	/* the populate ended before the client did */
	char cli_out[512];
	struct nlr_result rest;	/* the rest of the answer, read after */
	uint64_t start, end, next, pages, sum_pages;
	unsigned int records;
	bool sum, bad;
};

/* A QUERY answer's message into q: records in order from START, the summary */
static int busy_query_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct busy_query *q = arg;
	struct nlattr *a, *b;
	int rem, rem2;

	nlr_for_each_attr(a, (char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
			  nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, rem) {
		uint64_t addr = 0, pages = 0;

		switch (nlr_type(a)) {
		case MEMTRACE_A_START:
			memcpy(&q->start, nlr_data(a), 8);
			if (!q->next)
				q->next = q->start;
			break;
		case MEMTRACE_A_END:
			memcpy(&q->end, nlr_data(a), 8);
			break;
		case MEMTRACE_A_RECORD:
			nlr_for_each_attr(b, nlr_data(a), nlr_len(a), rem2) {
				if (nlr_type(b) == MEMTRACE_R_ADDR)
					memcpy(&addr, nlr_data(b), 8);
				else if (nlr_type(b) == MEMTRACE_R_PAGES)
					memcpy(&pages, nlr_data(b), 8);
			}
			if (addr != q->next || !pages || q->sum)
				q->bad = true;
			q->next = addr + pages * cor_psz;
			q->pages += pages;
			q->records++;
			break;
		case MEMTRACE_A_SUMMARY:
			nlr_for_each_attr(b, nlr_data(a), nlr_len(a), rem2) {
				uint64_t n;

				memcpy(&n, nlr_data(b), 8);
				q->sum_pages += n;
			}
			q->sum = true;
			break;
		}
	}
	return 0;
}

/* `memtrace query PID RANGE` (the lab's client): its status and first line */
static void busy_cli(pid_t pid, const char *range, struct busy_query *q)
{
	static const char *const client = "/lab/memtrace";
	char cmd[160];
	double t0 = busy_now();
	FILE *f;

	if (access(client, X_OK))
		return;
	snprintf(cmd, sizeof(cmd), "%s --transport=netlink --tsv query %d %s 2>&1", client,
		 (int)pid, range);
	f = popen(cmd, "r");
	if (!f)
		return;
	if (!fgets(q->cli_out, sizeof(q->cli_out), f))
		q->cli_out[0] = '\0';
	while (fgetc(f) != EOF)
		;
	q->cli_status = pclose(f);
	q->cli_end = busy_now();
	q->cli_secs = q->cli_end - t0;
	q->cli_ran = true;
	q->cli_out[strcspn(q->cli_out, "\n")] = '\0';
}

/* How long the client asks again (user/transport.h MT_NL_EXEC_WAIT_S) */
#define BUSY_CLI_WAIT_S 2

/* A thread reading the first message (its recvmsg() makes the next one) */
static void *busy_reader(void *arg)
{
	struct busy_read *r = arg;
	double t0 = busy_now();

	r->n = nlr_recv(r->s, 20000);
	r->secs = busy_now() - t0;
	r->populated = r->st->populated;
	return NULL;
}

/*
 * While c is busy: a QUERY of it (sent, not read yet: reading a message
 * makes the next one in that recvmsg()), a QUERY of its vfork() child; a
 * thread reads the first message while another request is sent on that
 * socket (it waits for the socket's dump mutex, which that recvmsg() holds
 * while it makes the next message, and it holds genetlink's cb_lock); the
 * client on the vfork() child; then the rest of the first QUERY's answer.
 */
/* The client on c's vfork() child, whose execve() waits */
static int busy_client(pid_t c, struct busy_state *st, void *arg)
{
	struct busy_query *q = arg;

	(void)c;
	q->child_state = st->child_state;
	busy_cli(st->spawned, "all", q);
	/* the populate ended before the client did */
	q->cli_populated = __atomic_load_n(&st->populated, __ATOMIC_ACQUIRE) &&
			   st->populate_end < q->cli_end;
	return q->cli_populated ? 2 : 1;
}

static int busy_query(pid_t c, struct busy_state *st, void *arg)
{
	static struct nlr s, s2;
	static struct nlb b, b2;
	struct busy_query *q = arg;
	struct pollfd pfd;
	pthread_t reader;
	double t0;
	ssize_t n;
	int ret = -1;

	if (nlr_open(&s))
		return -1;
	if (nlr_open(&s2)) {
		nlr_close(&s);
		return -1;
	}
	nlb_start(&b, &s, MEMTRACE_CMD_QUERY, NLM_F_DUMP);
	nlb_u32(&b, MEMTRACE_A_PID, (uint32_t)c);
	t0 = busy_now();
	if (nlr_send(&s, &b))
		goto out;
	q->send_secs = busy_now() - t0;
	/* the first message, made in that sendmsg(): queued when it returned */
	pfd = (struct pollfd){ .fd = s.fd, .events = POLLIN };
	q->first = poll(&pfd, 1, 0) == 1;
	/* the vfork() child, whose execve() waits holding its exec_update_lock */
	q->child_state = st->child_state;
	nlb_start(&b2, &s2, MEMTRACE_CMD_QUERY, NLM_F_DUMP);
	nlb_u32(&b2, MEMTRACE_A_PID, (uint32_t)st->spawned);
	t0 = busy_now();
	if (nlr_send(&s2, &b2) || nlr_wait(&s2, b2.seq, &q->exec_r, NULL, NULL))
		goto out;
	q->exec_secs = busy_now() - t0;
	q->rd = (struct busy_read){ .s = &s, .st = st };
	if (pthread_create(&reader, NULL, busy_reader, &q->rd))
		goto out;
	usleep(20000);		/* its recvmsg() making the second message */
	nlb_start(&b2, &s, MEMTRACE_CMD_QUERY, NLM_F_DUMP);
	nlb_u32(&b2, MEMTRACE_A_PID, (uint32_t)c);
	t0 = busy_now();
	nlr_send(&s, &b2);	/* EBUSY (a dump is running), in an ack read below */
	q->other_secs = busy_now() - t0;
	q->other_populated = st->populated;
	pthread_join(reader, NULL);
	n = q->rd.n;
	/* the first message (the reader's), then the rest */
	if (n > 0) {
		struct nlmsghdr *h = (struct nlmsghdr *)s.buf;
		int left = (int)n;

		for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left))
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				q->first_sum = true;	/* the answer ended */
				q->rest.answered = true;
			} else {
				busy_query_msg(h, q);
			}
		q->first_records = q->records;
		q->first_sum |= q->sum;
	}
	if (!q->rest.answered && nlr_wait(&s, b.seq, &q->rest, busy_query_msg, q))
		goto out;
	ret = q->other_populated || q->rd.populated ? 2 : 1;
out:
	nlr_close(&s);
	nlr_close(&s2);
	return ret;
}

/*
 * A QUERY of a process whose mmap_lock a populate holds and a writer waits
 * for: its sendmsg() returns at once with a first message of the header
 * alone (or what was classified without waiting), the rest comes when it
 * is read; a QUERY of its vfork() child, whose execve() waits for that lock
 * holding its exec_update_lock, is EAGAIN at once, and the client asks
 * again until the execve() is through, for 2 s at most before it says so.
 */
static void t_busy_query(void)
{
	struct busy_query q, base;
	size_t len = (size_t)65536 * cor_psz;
	double bound;
	int ret = 0;
	bool ended_during = false;

	for (int i = 0; i < 5; i++) {
		if (i)
			len *= 2;
		memset(&q, 0, sizeof(q));
		ret = busy_once(len, busy_query, &q);
		if (ret == 1 || ret < 0)
			break;
		ended_during |= ret == 2;
	}
	if (ret < 0) {
		tap_ok(0, "query busy: set-up failed");
		return;
	}
	if (ret == 0 && !ended_during) {
		tap_ok(1, "query busy # SKIP every populate holding mmap_lock (up to %zu MiB of "
		       "zero pages) ended before a QUERY was sent: nothing to tell here",
		       len >> 20);
		return;
	}
	tap_ok(ret == 1 && q.first,
	       "query busy: the QUERY's sendmsg() (%.3f s) returned with its first message "
	       "queued (%u records%s) while the populate of %zu MiB holding the process's "
	       "mmap_lock went on", q.send_secs, q.first_records,
	       q.first_sum ? ", the summary" : "", len >> 20);
	if (q.child_state != 'D')
		tap_ok(1, "query busy: a QUERY of the vfork() child # SKIP its execve() did not "
		       "wait for the busy lock on this kernel (state %c): no exec_update_lock held",
		       q.child_state);
	else if (!tap_ok(q.exec_r.answered && q.exec_r.error == -EAGAIN && ret == 1 &&
			 q.exec_secs < 0.5,
			 "query busy: a QUERY of the vfork() child whose execve() waits for that "
			 "lock: EAGAIN at once (%.3f s), the populate still running", q.exec_secs))
		tap_diag("answered %d, error %d (%s), '%s'", q.exec_r.answered, q.exec_r.error,
			 strerror(-q.exec_r.error), q.exec_r.msg);
	if (!tap_ok(q.rd.n > 0 && !q.rd.populated && q.rd.secs < 1 && !q.other_populated &&
		    q.other_secs < 1,
		    "query busy: reading the first message made the next one in that recvmsg() "
		    "(%.3f s: no message waits for the busy lock unboundedly), and a request sent "
		    "on the socket meanwhile (it waits for that socket's dump mutex) returned in "
		    "%.3f s, the populate still running", q.rd.secs, q.other_secs))
		tap_diag("the reader's recvmsg(): %zd", q.rd.n);
	if (!tap_ok(q.rest.answered && !q.rest.error && q.sum && !q.bad &&
		    q.next == q.end && q.pages == q.sum_pages &&
		    q.pages == (q.end - q.start) / cor_psz,
		    "query busy: the rest of the answer, read after, complete and in order "
		    "(%" PRIu64 " pages in records, summary %" PRIu64 ")", q.pages, q.sum_pages))
		tap_diag("answered %d error %d sum %d bad %d next 0x%" PRIx64 " end 0x%" PRIx64,
			 q.rest.answered, q.rest.error, q.sum, q.bad, q.next, q.end);
	/*
	 * The client: started while a populate 32 times that size runs (it
	 * must outlast the client's start-up and its 2 s of asking again: a
	 * client that waited for the populate some other way, like reading
	 * /proc/PID/stat, which takes the exec_update_lock on 6.1 and 7.x,
	 * cannot be told from one that asked again if the populate ends in
	 * those 2 s). Its start-up: the same client on a page of this process.
	 */
	memset(&base, 0, sizeof(base));
	busy_cli(getpid(), "1000-2000", &base);
	/* its 2 s of asking again, its start-up twice, 1.5 s for a slow VM */
	bound = BUSY_CLI_WAIT_S + 2 * base.cli_secs + 1.5;
	memset(&q, 0, sizeof(q));
	len = len * 32 < ((size_t)16 << 30) ? len * 32 : (size_t)16 << 30;
	ret = busy_once(len, busy_client, &q);
	if (ret < 0) {
		tap_ok(0, "query busy: the client: set-up failed");
	} else if (!ret) {
		tap_ok(1, "query busy: the client # SKIP the populate of %zu MiB ended before "
		       "it started", len >> 20);
	} else if (q.child_state != 'D') {
		tap_ok(1, "query busy: the client on the vfork() child # SKIP its execve() did "
		       "not wait for the busy lock on this kernel (state %c)", q.child_state);
	} else if (!q.cli_ran || !base.cli_ran) {
		tap_skip("query busy: the client on the process in its execve()",
			 "no /lab/memtrace");
	} else if (q.cli_populated && q.cli_secs < bound) {
		tap_ok(1, "query busy: the client on the process in its execve() # SKIP the "
		       "populate of %zu MiB ended within the client's time of asking again "
		       "(%.2f s, exit %d): one that waited for it some other way would look "
		       "the same", len >> 20, q.cli_secs,
		       WIFEXITED(q.cli_status) ? WEXITSTATUS(q.cli_status) : -1);
	} else if (!tap_ok(!q.cli_populated && q.cli_status != 0 &&
			   strstr(q.cli_out, "execve()") &&
			   q.cli_secs - base.cli_secs >= BUSY_CLI_WAIT_S - 0.1 &&
			   q.cli_secs < bound,
			   "query busy: the client on the process in its execve(): asks again "
			   "for %d s, then says why, waiting for nothing else (%.2f s of at most "
			   "%.2f: a query of one page took %.2f s), the populate of %zu MiB %s",
			   BUSY_CLI_WAIT_S, q.cli_secs, bound, base.cli_secs, len >> 20,
			   q.cli_populated ? "ended before the client did" : "still running")) {
		tap_diag("client: exit %d, '%s'",
			 WIFEXITED(q.cli_status) ? WEXITSTATUS(q.cli_status) : -1, q.cli_out);
	}
}

/* A caller in a new pid namespace sees its processes, numbered as there. */
static void t_pidns(void)
{
	int fds[2], st;
	struct {
		int err, unshared;
		size_t n;
		uint32_t pids[4];
	} res = { .err = -EPIPE };
	pid_t c;

	if (pipe(fds))
		exit(2);
	c = fork();
	if (!c) {
		pid_t init;

		close(fds[0]);
		res.unshared = !unshare(CLONE_NEWPID);
		init = fork();	/* pid 1 of the new namespace */
		if (!init) {
			struct nlr_result r;
			struct top_dump d;
			pid_t k = fork();	/* its pid 2, holding still */

			if (!k) {
				for (;;)
					pause();
			}
			res.err = top_dump(&d, false, &r);
			res.n = d.n;
			for (size_t i = 0; i < d.n && i < 4; i++)
				res.pids[i] = d.p[i].pid;
			kill(k, SIGKILL);
			if (write(fds[1], &res, sizeof(res)) != sizeof(res))
				_exit(4);
			_exit(0);
		}
		waitpid(init, &st, 0);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &res, sizeof(res)) != sizeof(res))
		res.err = -EPIPE;
	close(fds[0]);
	waitpid(c, &st, 0);
	if (!res.unshared && res.err == -EPIPE) {
		tap_ok(1, "# SKIP top pid namespace: unshare(CLONE_NEWPID) failed");
		return;
	}
	tap_ok(!res.err && res.n == 2 && res.pids[0] == 1 && res.pids[1] == 2,
	       "top pid namespace: a caller that is pid 1 of a new namespace sees its 2 "
	       "processes as pids 1 and 2 (%s; %zu told: %u, %u, ...)", strerror(-res.err),
	       res.n, res.pids[0], res.pids[1]);
}

/* Does the datagram in s->buf (n bytes) end the dump (NLMSG_DONE or ERROR)? */
static bool top_last(const struct nlr *s, ssize_t n)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)s->buf;
	int len = (int)n;

	for (; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len))
		if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR)
			return true;
	return false;
}

/* Active objects of a slab cache (/proc/slabinfo), or -1. */
static long slab_active(const char *name)
{
	char line[512], n[64];
	long active = -1, v;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld", n, &v) == 2 && !strcmp(n, name))
			active = v;
	fclose(f);
	return active;
}

/* One dump, left after its first buffer by a process of its own: 1 if partial, 0, -1. */
static int closed_once(bool cached)
{
	int pipefd[2], st;
	char res = -1;
	pid_t p;

	if (pipe(pipefd))
		exit(2);
	p = fork();
	if (!p) {
		struct nlr s;
		struct nlb *b = malloc(sizeof(*b));
		int small = 4096, err;
		ssize_t n;

		close(pipefd[0]);
		err = nlr_open(&s);
		if (err || !b)
			_exit(2);
		setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		nlb_start(b, &s, MEMTRACE_CMD_TOP, NLM_F_DUMP);
		if (cached)
			nlb_attr(b, MEMTRACE_A_CACHED, NULL, 0);
		err = nlr_send(&s, b);
		n = err ? -1 : nlr_recv(&s, 5000);
		if (n <= 0 || ((struct nlmsghdr *)s.buf)->nlmsg_type == NLMSG_ERROR)
			res = -1;
		else
			res = !top_last(&s, n);
		nlr_close(&s);
		if (write(pipefd[1], &res, 1) != 1)
			_exit(3);
		_exit(0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &res, 1) != 1)
		res = -1;
	close(pipefd[0]);
	waitpid(p, &st, 0);
	return res;
}

/* A small process (a shell's sleep), not a copy of this big one */
static pid_t sleeper(void)
{
	pid_t p = vfork();

	if (!p) {
		execl("/bin/sh", "sh", "-c", "exec sleep 1000", (char *)NULL);
		_exit(127);
	}
	return p;
}

/*
 * Dumps left half-way: the socket closed after their first buffer, with
 * 300 more processes than usual (small: sleep(1)), so that a buffer cannot
 * hold them all;
 * each by a process of its own that exits then. What a dump holds across
 * buffers (its state, the caller's credentials, pid namespace and
 * mm_struct) must be let go of when the socket closes: the caller's
 * mm_structs must not pile up (slab counts; kmemleak on the debug kernel
 * sees the rest).
 */
static void t_closed(void)
{
	unsigned int bad = 0, partial = 0;
	long mm0, mm1, task0, task1;
	pid_t kids[300];
	int i, st, r;

	for (i = 0; i < 300; i++)
		kids[i] = sleeper();
	sleep(1);
	mm0 = slab_active("mm_struct");
	task0 = slab_active("task_struct");
	for (i = 0; i < 100; i++) {
		r = closed_once(i & 1);
		bad += r < 0;
		partial += r > 0;
	}
	sleep(1);	/* RCU frees the tasks */
	mm1 = slab_active("mm_struct");
	task1 = slab_active("task_struct");
	for (i = 0; i < 300; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], &st, 0);
	}
	tap_ok(!bad && partial == 100,
	       "top closed: 100 dumps closed after their first buffer (%u were part of one, "
	       "%u failed)", partial, bad);
	if (mm0 < 0 || task0 < 0) {
		tap_ok(1, "# SKIP no mm_struct or task_struct in /proc/slabinfo");
		return;
	}
	if (mt_kasan_kernel()) {
		/* freed task_structs stay counted there: kmemleak is its check */
		tap_ok(1, "top closed: mm_struct %ld -> %ld, task_struct %ld -> %ld # SKIP KASAN "
		       "quarantine", mm0, mm1, task0, task1);
		return;
	}
	tap_ok(mm1 - mm0 < 50 && task1 - task0 < 50,
	       "top closed: nothing held after them: mm_struct %ld -> %ld, task_struct %ld -> %ld "
	       "(100 callers came and went)", mm0, mm1, task0, task1);
}

/* Bad input: an attribute TOP does not take. */
static void t_bad(void)
{
	static struct nlr s;
	static struct nlb b;
	struct nlr_result r = { 0 };
	int err = nlr_open(&s);

	if (err)
		exit(2);
	nlb_start(&b, &s, MEMTRACE_CMD_TOP, NLM_F_DUMP);
	nlb_u32(&b, MEMTRACE_A_PID, 1);
	err = nlr_send(&s, &b);
	if (!err)
		err = nlr_wait(&s, b.seq, &r, NULL, NULL);
	nlr_close(&s);
	tap_ok(!err && r.error == -EINVAL && r.msg[0] && !r.nmsgs,
	       "top bad input: MEMTRACE_A_PID is refused, EINVAL, '%s'", r.msg);
}

void cor_t_top(void)
{
	if (!cor_root) {
		tap_ok(1, "# SKIP top tests need root to set up users");
		return;
	}
	t_counts(false);
	t_counts(true);
	t_policy();
	t_churn();
	t_leader_gone();
	t_busy();
	t_busy_query();
	t_pidns();
	t_closed();
	t_bad();
}
