// SPDX-License-Identifier: GPL-2.0
/*
 * The demo's measurements: VmSize and VmRSS from /proc/self/status, Rss
 * from /proc/self/smaps_rollup, and ps's VSZ and RSS. None of them
 * allocates: the buffers are static and touched before the first stage, and
 * ps runs through vfork + execv of a path resolved up front.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "demo.h"

static char stdout_buf[1 << 16];
static char status_buf[8192];
static char rollup_buf[4096];
static char ps_buf[16384];

ssize_t mt_demo_read_into(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - len - 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

static void measure_status(struct mt_demo *d)
{
	if (mt_demo_read_into("/proc/self/status", status_buf, sizeof(status_buf)) < 0) {
		d->vsz_kb = d->rss_kb = -1;
		return;
	}
	d->vsz_kb = mt_proc_kb(status_buf, "\nVmSize:");
	d->rss_kb = mt_proc_kb(status_buf, "\nVmRSS:");
	/*
	 * VmRSS is a counter; before 6.2 each thread folds its share into it
	 * only every 64 faults, so it lags. smaps_rollup counts Rss from the
	 * page tables: exact, at the cost of a walk.
	 */
	d->srss_kb = -1;
	if (mt_demo_read_into("/proc/self/smaps_rollup", rollup_buf, sizeof(rollup_buf)) > 0)
		d->srss_kb = mt_proc_kb(rollup_buf, "\nRss:");
}

void mt_demo_find_ps(struct mt_demo *d)
{
	const char *path = getenv("PATH");
	const char *p = path && *path ? path : "/usr/bin:/bin:/usr/sbin:/sbin";

	d->ps_path[0] = '\0';
	while (*p) {
		size_t n = strcspn(p, ":");

		if (n && n + 4 < sizeof(d->ps_path)) {
			memcpy(d->ps_path, p, n);
			memcpy(d->ps_path + n, "/ps", 4);
			if (!access(d->ps_path, X_OK))
				return;
		}
		p += n + (p[n] == ':');
	}
	d->ps_path[0] = '\0';
}

static void read_pipe(int fd)
{
	size_t len = 0;

	while (len + 1 < sizeof(ps_buf)) {
		ssize_t n = read(fd, ps_buf + len, sizeof(ps_buf) - len - 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	ps_buf[len] = '\0';
}

/* Run ps into ps_buf; 0 if it exited 0. vfork: no copy of our memory. */
static int run_ps(struct mt_demo *d, char *const argv[])
{
	int fds[2], status;
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = vfork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(fds[1], STDOUT_FILENO);
		if (devnull >= 0)
			dup2(devnull, STDERR_FILENO);
		execv(d->ps_path, argv);
		_exit(127);
	}
	close(fds[1]);
	read_pipe(fds[0]);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Find our line ("PID VSZ RSS COMM") in ps_buf. */
static bool parse_ps(struct mt_demo *d)
{
	char *line = ps_buf;
	long me = (long)getpid();

	while (line && *line) {
		char *nl = strchr(line, '\n'), *p = line, *e;
		long pid;

		if (nl)
			*nl = '\0';
		while (*p == ' ')
			p++;
		pid = strtol(p, &e, 10);
		if (e != p && pid == me) {
			size_t n;

			p = e + strspn(e, " ");
			n = strcspn(p, " ");
			if (n && n < sizeof(d->ps_vsz)) {
				memcpy(d->ps_vsz, p, n);
				d->ps_vsz[n] = '\0';
				p += n;
				p += strspn(p, " ");
				n = strcspn(p, " ");
				if (n && n < sizeof(d->ps_rss)) {
					memcpy(d->ps_rss, p, n);
					d->ps_rss[n] = '\0';
					return true;
				}
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return false;
}

static void measure_ps(struct mt_demo *d)
{
	char pidstr[24];
	char *argv1[] = { "ps", "-o", "pid,vsz,rss,comm", "-p", pidstr, NULL };
	char *argv2[] = { "ps", "-o", "pid,vsz,rss,comm", NULL };

	d->have_ps = false;
	if (!d->ps_path[0])
		return;
	snprintf(pidstr, sizeof(pidstr), "%ld", (long)getpid());
	/* busybox ps may not know -p: then list everything and find us */
	if ((!run_ps(d, argv1) && parse_ps(d)) || (!run_ps(d, argv2) && parse_ps(d)))
		d->have_ps = true;
}

void mt_demo_measure(struct mt_demo *d)
{
	measure_status(d);
	measure_ps(d);
}

/* every buffer now, touched, so that no stage allocates or faults them in */
void mt_demo_measure_init(void)
{
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	memset(ps_buf, 0, sizeof(ps_buf));
	memset(status_buf, 0, sizeof(status_buf));
}
