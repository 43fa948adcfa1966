// SPDX-License-Identifier: GPL-2.0
/* The transport table and the error messages every transport shares. */
#include <errno.h>
#include <string.h>

#include "transport.h"

const struct mt_transport_ops *mt_transport_get(const char *name, bool *available)
{
	*available = true;
	if (!strcmp(name, "proc"))
		return &mt_transport_proc;
	if (!strcmp(name, "netlink")) {
		*available = false;	/* transport_netlink.c: not yet */
		return NULL;
	}
	*available = false;
	return NULL;
}

int mt_transport_fail(struct mt_error *err, int e, const struct mt_query *q,
		      const char *path)
{
	err->err = e;
	switch (-e) {
	case ENOENT:
		snprintf(err->msg, sizeof(err->msg),
			 "%s not found: the memtrace module is not loaded; load it with "
			 "`sudo make load` (or `sudo insmod kmod/memtrace.ko`), or run "
			 "`make demo` to use the lab VM", path);
		break;
	case ESRCH:
		snprintf(err->msg, sizeof(err->msg),
			 "no such process: %ld (or a kernel thread, or it exited)", q->pid);
		break;
	case EACCES:
	case EPERM:
		if (!q->pid) {
			snprintf(err->msg, sizeof(err->msg), "%s: permission denied", path);
			break;
		}
		snprintf(err->msg, sizeof(err->msg),
			 "permission denied: may not look at process %ld "
			 "(another user's process needs root or CAP_SYS_PTRACE)", q->pid);
		break;
	case EINVAL:
		snprintf(err->msg, sizeof(err->msg),
			 "the module rejected the query as invalid (%s)", strerror(-e));
		break;
	case ERANGE:
		snprintf(err->msg, sizeof(err->msg),
			 "range out of bounds: past the task size of process %ld, or overflows",
			 q->pid);
		break;
	case E2BIG:
		snprintf(err->msg, sizeof(err->msg), "query line too long for the module");
		break;
	default:
		snprintf(err->msg, sizeof(err->msg), "%s: %s", path, strerror(-e));
		break;
	}
	return e;
}

int mt_transport_check_header(const struct mt_query *q, const struct mt_header *h,
			      struct mt_error *err)
{
	uint64_t mask = h->page_size - 1;

	err->err = -EPROTO;
	if (h->pid != q->pid) {
		snprintf(err->msg, sizeof(err->msg),
			 "answer is about pid %ld, asked for %ld", h->pid, q->pid);
		return -EPROTO;
	}
	if (h->mode != q->mode) {
		snprintf(err->msg, sizeof(err->msg), "answer is in another mode");
		return -EPROTO;
	}
	if (!q->all && (h->start != (q->start & ~mask) ||
			h->end != ((q->end + mask) & ~mask))) {
		snprintf(err->msg, sizeof(err->msg),
			 "answer covers 0x%llx-0x%llx, asked for 0x%llx-0x%llx",
			 (unsigned long long)h->start, (unsigned long long)h->end,
			 (unsigned long long)q->start, (unsigned long long)q->end);
		return -EPROTO;
	}
	err->err = 0;
	return 0;
}

int mt_run_query(const struct mt_ctx *ctx, const struct mt_query *q, mt_record_cb cb,
		 void *arg, struct mt_header *hdr, struct mt_summary *sum)
{
	static struct mt_error err;	/* static: no allocation, small stack */
	int ret;

	memset(&err, 0, sizeof(err));
	ret = ctx->tp->query(q, cb, arg, hdr, sum, &err);
	if (ret < 0) {
		if (!err.msg[0])
			return ret;	/* the callback's own error */
		mt_err("%s", err.msg);
		return MT_EXIT_FAIL;
	}
	return ret;	/* 0, or what the callback returned */
}
