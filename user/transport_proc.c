// SPDX-License-Identifier: GPL-2.0
/*
 * The procfs transport: open MEMTRACE_PROC (default /proc/memtrace) O_RDWR,
 * write one query line, read the answer until EOF through answer.c.
 * MEMTRACE_PROC=/nonexistent exercises the "not loaded" path. The tests'
 * fake module (transport_fake.c) shares the query line and the reading.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport.h"

const char *mt_proc_path(void)
{
	const char *p = getenv("MEMTRACE_PROC");

	return p && *p ? p : "/proc/" MEMTRACE_PROC_NAME;
}

static const char *const modes[] = { "runs", "pages" };	/* enum memtrace_mode */

/* The query as the module reads it: "PID START END MODE\n" or "PID all MODE\n". */
int mt_proc_line(const struct mt_query *q, char *line, size_t size)
{
	const char *cached = q->cached ? " cached" : "", *folio = q->folio ? " folio" : "";

	if (q->all)
		return snprintf(line, size, "%ld all %s%s%s\n", q->pid, modes[q->mode], cached,
				folio);
	return snprintf(line, size, "%ld 0x%llx 0x%llx %s%s%s\n", q->pid,
			(unsigned long long)q->start, (unsigned long long)q->end,
			modes[q->mode], cached, folio);
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

/* Read the answer to q from fd until EOF: 0, -errno (err set), or the callback's value. */
int mt_proc_answer(struct mt_session *s, int fd, const char *path, const struct mt_query *q,
		   mt_record_cb cb, void *arg, struct mt_header *hdr, struct mt_summary *sum,
		   struct mt_error *err)
{
	struct proc_wrap w = { .q = q, .err = err, .cb = cb, .arg = arg };
	struct mt_answer *a = &s->answer;
	int ret = 0;

	mt_answer_init(a, proc_cb, &w);
	for (;;) {
		ssize_t n = read(fd, s->buf, sizeof(s->buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mt_transport_fail(err, -errno, q, path);
		if (n == 0)
			break;
		ret = mt_answer_feed(a, s->buf, (size_t)n);
		if (ret)
			break;
	}
	if (!ret)
		ret = mt_answer_finish(a);
	if (ret == -EPROTO && !err->msg[0])
		snprintf(err->msg, sizeof(err->msg), "%s: %s", path, a->err);
	if (!ret && !w.checked)
		ret = mt_transport_check_header(q, &a->hdr, err);
	if (!ret || ret > 0) {
		if (hdr)
			*hdr = a->hdr;
		if (sum)
			*sum = a->sum;
	}
	if (ret < 0)
		err->err = ret;
	return ret;
}

static int write_query(int fd, const char *path, const struct mt_query *q, struct mt_error *err)
{
	char line[MEMTRACE_QUERY_MAX];
	int len = mt_proc_line(q, line, sizeof(line));
	ssize_t n;

	do {
		n = write(fd, line, (size_t)len);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno, ret = mt_transport_fail(err, -e, q, path);

		if (e == ENOENT)	/* not "module not loaded" here */
			snprintf(err->msg, sizeof(err->msg), "%s: write: %s", path,
				 strerror(ENOENT));
		return ret;
	}
	if (n != len) {
		int ret = mt_transport_fail(err, -EIO, q, path);

		snprintf(err->msg, sizeof(err->msg), "%s: short write of the query", path);
		return ret;
	}
	return 0;
}

static int proc_query(struct mt_session *s, const struct mt_query *q, mt_record_cb cb,
		      void *arg, struct mt_header *hdr, struct mt_summary *sum,
		      struct mt_error *err)
{
	const char *path = mt_proc_path();
	int fd, ret;

	if (q->path && access(path, F_OK))
		return mt_transport_fail(err, -ENOENT, q, path);	/* not loaded */
	if (q->path)
		return mt_transport_no_file(err, path);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return mt_transport_fail(err, -errno, q, path);
	ret = write_query(fd, path, q, err);
	if (!ret)
		ret = mt_proc_answer(s, fd, path, q, cb, arg, hdr, sum, err);
	close(fd);
	return ret;
}

static int proc_probe(struct mt_session *s, struct mt_error *err)
{
	const char *path = mt_proc_path();
	struct mt_query q = { .pid = 0 };
	int fd = open(path, O_RDWR | O_CLOEXEC);

	(void)s;
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
