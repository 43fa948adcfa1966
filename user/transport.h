/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How a query reaches the module. One vtable per transport: procfs text
 * (transport_proc.c) and generic netlink (transport_netlink.c, libnl-genl-3,
 * built when pkg-config finds it). A transport streams the records to the
 * callback, in address order, fills in the header and summary, and returns 0
 * or a negative errno with err->msg saying what went wrong
 * (mt_transport_fail() for the common cases) and err->kmsg the kernel's own
 * words when it sent some (netlink extended ACK).
 *
 * mt_transport_auto, the default, picks netlink when the module's family
 * resolves and proc otherwise (or when MEMTRACE_PROC or MEMTRACE_FAKE_ANSWER
 * are set). With MEMTRACE_FAKE_ANSWER set, "proc" is the fake module of the
 * tests (transport_fake.c), which reads its answer from a file or a command.
 *
 * Every call takes the caller's session: what a transport keeps between
 * queries (auto's choice, the netlink socket, the answer parser and its
 * buffer) lives there, not in statics. One session per thread of queries.
 */
#ifndef MT_TRANSPORT_H
#define MT_TRANSPORT_H

#include "mt.h"

/*
 * How long the netlink client asks again while the module answers EAGAIN (a
 * process in an execve(): the module does not wait for it in sendmsg())
 */
#define MT_NL_EXEC_WAIT_S 2

struct mt_query {
	long pid;
	bool all;		/* RANGE "all": start/end unused */
	uint64_t start, end;	/* [start, end), rounded by the module */
	int mode;		/* enum memtrace_mode */
	bool cached;		/* ask for CACHED pages (MEMTRACE_FEAT_CACHED) */
	bool folio;		/* ask for folio sizes (MEMTRACE_FEAT_FOLIO) */
	/*
	 * A file's page cache (MEMTRACE_CMD_FILE, netlink only): path names it
	 * for messages and output, pid is the descriptor the caller opened;
	 * start/end are offsets in the file, all: the whole file.
	 */
	const char *path;
};

struct mt_error {
	int err;		/* negative errno */
	char msg[MT_ERR_MAX + 128];
	char kmsg[MT_ERR_MAX];	/* the kernel's extended ACK message, or "" */
};

/* What the module says about itself (generic netlink MEMTRACE_CMD_GET_INFO). */
struct mt_info {
	char version[64];
	unsigned int page_size;
	unsigned int nstates;
	uint32_t flags_mask;
	uint64_t task_size;
	uint32_t features;	/* enum memtrace_feature; 0 from a module without */
	int family_id;		/* the generic netlink family's id */
};

struct mt_nl;	/* transport_netlink.c */

/* What the transports keep between queries; zeroed by the caller, who owns it. */
struct mt_session {
	const struct mt_transport_ops *auto_choice;	/* made once */
	struct mt_nl *nl;		/* the netlink socket, opened at first use */
	struct mt_answer answer;	/* proc: the answer's parser */
	char buf[16384];		/* proc: what read() brings */
	char script[1024];		/* fake: the stand-in module's command line */
	struct mt_error err;		/* mt_run_query's */
};

struct mt_transport_ops {
	const char *name;
	/* Is the module there at all? 0 or -errno, err->msg set. */
	int (*probe)(struct mt_session *s, struct mt_error *err);
	int (*query)(struct mt_session *s, const struct mt_query *q, mt_record_cb cb,
		     void *arg, struct mt_header *hdr, struct mt_summary *sum,
		     struct mt_error *err);
	/* GET_INFO; NULL when the transport has none. 0 or -errno, err set. */
	int (*info)(struct mt_session *s, struct mt_info *info, struct mt_error *err);
};

extern const struct mt_transport_ops mt_transport_proc;
extern const struct mt_transport_ops mt_transport_fake;
extern const struct mt_transport_ops mt_transport_auto;
#ifdef MT_HAVE_NETLINK
extern const struct mt_transport_ops mt_transport_netlink;
void mt_netlink_close(struct mt_session *s);
#endif

/* One process of a TOP dump (MEMTRACE_CMD_TOP): its pages over its whole space. */
struct mt_proc {
	long pid;
	char comm[32];
	uint64_t counts[MEMTRACE_NSTATES_ALL];	/* pages of each state */
	bool have_cached;			/* counts[MEMTRACE_CACHED] was sent */
	uint64_t thp;				/* PRESENT pages of PMD/PUD entries */
	bool busy;				/* mmap_lock stayed busy: counted in part */
};

typedef int (*mt_proc_cb)(const struct mt_proc *p, void *arg);

/*
 * TOP over netlink (there is no /proc/memtrace form): every process the
 * caller may query, to cb in pid order; cached asks for CACHED counts (the
 * module must have MEMTRACE_FEAT_CACHED). 0, or -errno with err set
 * (-EOPNOTSUPP: no netlink transport, or a module without MEMTRACE_FEAT_TOP).
 */
int mt_top(struct mt_session *s, bool cached, mt_proc_cb cb, void *arg, struct mt_error *err);

/* NULL: unknown name. *available false: known, but not built in. */
const struct mt_transport_ops *mt_transport_get(const char *name, bool *available);
/* The transport tp stands for: auto's choice, made once; tp itself otherwise. */
const struct mt_transport_ops *mt_transport_resolve(struct mt_session *s,
						    const struct mt_transport_ops *tp);
/* The netlink transport's GET_INFO, whichever transport carries queries. */
int mt_transport_info(struct mt_session *s, struct mt_info *info, struct mt_error *err);
/* Close what the session keeps open between queries (a netlink socket). */
void mt_session_close(struct mt_session *s);

/* transport_proc.c, shared with the fake: the query line, and its answer from fd */
const char *mt_proc_path(void);
int mt_proc_line(const struct mt_query *q, char *line, size_t size);
int mt_proc_answer(struct mt_session *s, int fd, const char *path, const struct mt_query *q,
		   mt_record_cb cb, void *arg, struct mt_header *hdr, struct mt_summary *sum,
		   struct mt_error *err);
int mt_transport_fail(struct mt_error *err, int e, const struct mt_query *q,
		      const char *path);
/*
 * How to load the module here, for "not loaded": the kernel cannot load
 * modules; it is installed (modprobe); or from the source tree. root: ""
 * (a test's tree otherwise); release: NULL for the running kernel's.
 */
const char *mt_module_hint(const char *root, const char *release);
/* A file's query on a transport that cannot pass a descriptor: say so. */
int mt_transport_no_file(struct mt_error *err, const char *what);
/* The answer's header must be the one asked for. */
int mt_transport_check_header(const struct mt_query *q, const struct mt_header *h,
			      struct mt_error *err);
/* Print err->msg, and the kernel's message when there is one. */
void mt_transport_print_error(const struct mt_error *err);
/* Run a query; print the error and return MT_EXIT_FAIL on failure. */
int mt_run_query(const struct mt_ctx *ctx, const struct mt_query *q, mt_record_cb cb,
		 void *arg, struct mt_header *hdr, struct mt_summary *sum);

#endif /* MT_TRANSPORT_H */
