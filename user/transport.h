/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How a query reaches the module. One vtable per transport: procfs text
 * (transport_proc.c) now, generic netlink (transport_netlink.c, libnl-genl-3)
 * later. A transport streams the records to the callback, in address order,
 * fills in the header and summary, and returns 0 or a negative errno with
 * err->msg saying what went wrong (mt_transport_strerror() for the common
 * cases).
 */
#ifndef MT_TRANSPORT_H
#define MT_TRANSPORT_H

#include "mt.h"

struct mt_query {
	long pid;
	bool all;		/* RANGE "all": start/end unused */
	uint64_t start, end;	/* [start, end), rounded by the module */
	int mode;		/* enum memtrace_mode */
};

struct mt_error {
	int err;		/* negative errno */
	char msg[MT_ERR_MAX + 128];
};

struct mt_transport_ops {
	const char *name;
	/* Is the module there at all? 0 or -errno, err->msg set. */
	int (*probe)(struct mt_error *err);
	int (*query)(const struct mt_query *q, mt_record_cb cb, void *arg,
		     struct mt_header *hdr, struct mt_summary *sum,
		     struct mt_error *err);
};

extern const struct mt_transport_ops mt_transport_proc;

/* NULL: unknown name. *available false: known, but not built in. */
const struct mt_transport_ops *mt_transport_get(const char *name, bool *available);
int mt_transport_fail(struct mt_error *err, int e, const struct mt_query *q,
		      const char *path);
/* The answer's header must be the one asked for. */
int mt_transport_check_header(const struct mt_query *q, const struct mt_header *h,
			      struct mt_error *err);
/* Run a query; print the error and return MT_EXIT_FAIL on failure. */
int mt_run_query(const struct mt_ctx *ctx, const struct mt_query *q, mt_record_cb cb,
		 void *arg, struct mt_header *hdr, struct mt_summary *sum);

#endif /* MT_TRANSPORT_H */
