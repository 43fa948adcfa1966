// SPDX-License-Identifier: GPL-2.0
/*
 * The tests' fake module, in place of the proc transport when
 * MEMTRACE_FAKE_ANSWER is set (see memtrace(1)); nothing here runs otherwise.
 *
 * MEMTRACE_FAKE_ANSWER=FILE: the query is not written anywhere; FILE is read
 * as the module's answer (it must still be a well-formed answer about the
 * queried pid and range, unless the query was "all").
 * MEMTRACE_FAKE_ANSWER='|COMMAND': /bin/sh -c 'COMMAND "$@"' runs with the
 * query's words as arguments (PID START END MODE or PID all MODE) and its
 * output is the answer: a stand-in module for hosts without one
 * (tests/client/fakemod.py).
 *
 * It names itself "proc": it stands for /proc/memtrace in what is printed.
 */
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport.h"

static const char *fake_answer(void)
{
	return getenv("MEMTRACE_FAKE_ANSWER");	/* set: else proc is used */
}

/* Run the stand-in module; returns the read end of its stdout, or -1. */
static int fake_cmd(struct mt_session *s, const char *cmd, char *line, pid_t *child)
{
	char *argv[10] = { "sh", "-c", NULL, "sh" };
	int fds[2], n = 4;
	char *save = NULL;

	snprintf(s->script, sizeof(s->script), "%s \"$@\"", cmd);
	argv[2] = s->script;
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

/* The stand-in module must exit 0, or its answer does not count. */
static int fake_wait(pid_t child, int ret, struct mt_error *err)
{
	int status;

	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (!ret && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		snprintf(err->msg, sizeof(err->msg), "fake module command failed");
		ret = -EIO;
	}
	return ret;
}

static int fake_query(struct mt_session *s, const struct mt_query *q, mt_record_cb cb,
		      void *arg, struct mt_header *hdr, struct mt_summary *sum,
		      struct mt_error *err)
{
	const char *path = fake_answer();
	char line[MEMTRACE_QUERY_MAX];
	pid_t child = 0;
	int fd, ret;

	if (q->path)
		return mt_transport_no_file(err, "the fake module");
	mt_proc_line(q, line, sizeof(line));
	if (path[0] == '|')
		fd = fake_cmd(s, path + 1, line, &child);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mt_transport_fail(err, -errno, q, path);
	ret = mt_proc_answer(s, fd, path, q, cb, arg, hdr, sum, err);
	close(fd);
	if (child > 0)
		ret = fake_wait(child, ret, err);
	return ret;
}

static int fake_probe(struct mt_session *s, struct mt_error *err)
{
	const char *path = fake_answer();
	struct mt_query q = { .pid = 0 };
	int fd;

	(void)s;
	if (path[0] == '|')
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mt_transport_fail(err, -errno, &q, path);
	close(fd);
	return 0;
}

const struct mt_transport_ops mt_transport_fake = {
	.name = "proc",
	.probe = fake_probe,
	.query = fake_query,
};
