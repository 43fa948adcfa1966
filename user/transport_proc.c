// SPDX-License-Identifier: GPL-2.0
/*
 * The procfs transport: open MEMTRACE_PROC (default /proc/memtrace) O_RDWR,
 * write one query line, read the answer until EOF through answer.c.
 *
 * Testing aids: with MEMTRACE_FAKE_ANSWER=FILE the query is not written
 * anywhere; FILE is read as the module's answer (it must still be a
 * well-formed answer about the queried pid and range, unless the query was
 * "all"). With MEMTRACE_FAKE_ANSWER='|COMMAND', /bin/sh -c 'COMMAND "$@"'
 * runs with the query's words as arguments (PID START END MODE or PID all
 * MODE) and its output is the answer: a stand-in module for hosts without
 * one (tests/client/fakemod.py). MEMTRACE_PROC=/nonexistent exercises the
 * "not loaded" path.
 */
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport.h"

static const char *proc_path(void)
{
	const char *p = getenv("MEMTRACE_PROC");

	return p && *p ? p : "/proc/" MEMTRACE_PROC_NAME;
}

struct proc_wrap {
	const struct mt_query *q;
	struct mt_error *err;
	mt_record_cb cb;
	void *arg;
	bool checked;
};

/* Check the header once, before the first record reaches the caller. */
static int proc_cb(const struct mt_header *h, const struct mt_record *r, void *arg)
{
	struct proc_wrap *w = arg;

	if (!w->checked) {
		if (mt_transport_check_header(w->q, h, w->err))
			return -EPROTO;
		w->checked = true;
	}
	return w->cb ? w->cb(h, r, w->arg) : 0;
}

/* Testing aid: run a stand-in module; returns the read end of its stdout. */
static int fake_cmd(const char *cmd, char *line, pid_t *child)
{
	char *argv[10] = { "sh", "-c", NULL, "sh" };
	static char script[1024];
	int fds[2], n = 4;
	char *save = NULL;

	snprintf(script, sizeof(script), "%s \"$@\"", cmd);
	argv[2] = script;
	for (char *w = strtok_r(line, " \n", &save); w && n < 9; w = strtok_r(NULL, " \n", &save))
		argv[n++] = w;
	argv[n] = NULL;
	if (pipe(fds))
		return -1;
	*child = vfork();
	if (*child < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (*child == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execv("/bin/sh", argv);
		_exit(127);
	}
	close(fds[1]);
	return fds[0];
}

static int proc_query(const struct mt_query *q, mt_record_cb cb, void *arg,
		      struct mt_header *hdr, struct mt_summary *sum, struct mt_error *err)
{
	static struct mt_answer a;	/* static: demo must not allocate */
	static char buf[16384];
	static const char *const modes[] = { "runs", "pages" };
	struct proc_wrap w = { .q = q, .err = err, .cb = cb, .arg = arg };
	const char *fake = getenv("MEMTRACE_FAKE_ANSWER");
	const char *path = fake && *fake ? fake : proc_path();
	char line[MEMTRACE_QUERY_MAX];
	int fd, len, ret = 0;
	pid_t child = 0;

	if (q->all)
		len = snprintf(line, sizeof(line), "%ld all %s\n", q->pid, modes[q->mode]);
	else
		len = snprintf(line, sizeof(line), "%ld 0x%llx 0x%llx %s\n", q->pid,
			       (unsigned long long)q->start, (unsigned long long)q->end,
			       modes[q->mode]);
	if (fake && fake[0] == '|')
		fd = fake_cmd(fake + 1, line, &child);
	else
		fd = open(path, (fake && *fake ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return mt_transport_fail(err, -errno, q, path);
	if (!(fake && *fake)) {
		ssize_t n;

		do {
			n = write(fd, line, (size_t)len);
		} while (n < 0 && errno == EINTR);
		if (n < 0) {
			int e = errno;

			ret = mt_transport_fail(err, -e, q, path);
			if (e == ENOENT)	/* not "module not loaded" here */
				snprintf(err->msg, sizeof(err->msg), "%s: write: %s", path,
					 strerror(ENOENT));
			goto out;
		}
		if (n != len) {
			ret = mt_transport_fail(err, -EIO, q, path);
			snprintf(err->msg, sizeof(err->msg), "%s: short write of the query", path);
			goto out;
		}
	}
	mt_answer_init(&a, proc_cb, &w);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = mt_transport_fail(err, -errno, q, path);
			goto out;
		}
		if (n == 0)
			break;
		ret = mt_answer_feed(&a, buf, (size_t)n);
		if (ret)
			break;
	}
	if (!ret)
		ret = mt_answer_finish(&a);
	if (ret == -EPROTO && !err->msg[0])
		snprintf(err->msg, sizeof(err->msg), "%s: %s", path, a.err);
	if (!ret && !w.checked)
		ret = mt_transport_check_header(q, &a.hdr, err);
	if (!ret || ret > 0) {
		if (hdr)
			*hdr = a.hdr;
		if (sum)
			*sum = a.sum;
	}
	if (ret < 0)
		err->err = ret;
out:
	close(fd);
	if (child > 0) {
		int status;

		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
		if (!ret && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			snprintf(err->msg, sizeof(err->msg), "fake module command failed");
			ret = -EIO;
		}
	}
	return ret;
}

static int proc_probe(struct mt_error *err)
{
	const char *fake = getenv("MEMTRACE_FAKE_ANSWER");
	const char *path = fake && *fake ? fake : proc_path();
	struct mt_query q = { .pid = 0 };
	int fd;

	if (fake && fake[0] == '|')
		return 0;
	fd = open(path, (fake && *fake ? O_RDONLY : O_RDWR) | O_CLOEXEC);

	if (fd < 0)
		return mt_transport_fail(err, -errno, &q, path);
	close(fd);
	return 0;
}

const struct mt_transport_ops mt_transport_proc = {
	.name = "proc",
	.probe = proc_probe,
	.query = proc_query,
};
