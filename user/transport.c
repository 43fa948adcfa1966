// SPDX-License-Identifier: GPL-2.0
/*
 * The transport table, the default choice between them, and the error
 * messages every transport shares.
 */
#include <sys/utsname.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport.h"

static bool env_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v;
}

/* The tests' fake module stands in for /proc/memtrace when it is asked for. */
static const struct mt_transport_ops *proc_or_fake(void)
{
	return env_set("MEMTRACE_FAKE_ANSWER") ? &mt_transport_fake : &mt_transport_proc;
}

const struct mt_transport_ops *mt_transport_get(const char *name, bool *available)
{
	*available = true;
	if (!strcmp(name, "proc"))
		return proc_or_fake();
	if (!strcmp(name, "netlink")) {
#ifdef MT_HAVE_NETLINK
		return &mt_transport_netlink;
#else
		*available = false;	/* built without libnl-genl-3 */
		return NULL;
#endif
	}
	*available = false;
	return NULL;
}

/*
 * The default: netlink when the family resolves, else proc, silently; proc
 * also when the proc transport's testing aids are set. Chosen once, at the
 * first use, so that commands that never reach the module never probe.
 */
static const struct mt_transport_ops *auto_pick(struct mt_session *s)
{
	struct mt_error err;

	if (s->auto_choice)
		return s->auto_choice;
	s->auto_choice = proc_or_fake();
	if (env_set("MEMTRACE_PROC") || env_set("MEMTRACE_FAKE_ANSWER"))
		return s->auto_choice;
#ifdef MT_HAVE_NETLINK
	memset(&err, 0, sizeof(err));
	if (!mt_transport_netlink.probe(s, &err))
		s->auto_choice = &mt_transport_netlink;
#else
	(void)err;
#endif
	return s->auto_choice;
}

const struct mt_transport_ops *mt_transport_resolve(struct mt_session *s,
						    const struct mt_transport_ops *tp)
{
	return tp == &mt_transport_auto ? auto_pick(s) : tp;
}

static int auto_probe(struct mt_session *s, struct mt_error *err)
{
	const struct mt_transport_ops *tp = auto_pick(s);

	return tp->probe ? tp->probe(s, err) : 0;
}

static int auto_query(struct mt_session *s, const struct mt_query *q, mt_record_cb cb,
		      void *arg, struct mt_header *hdr, struct mt_summary *sum,
		      struct mt_error *err)
{
	return auto_pick(s)->query(s, q, cb, arg, hdr, sum, err);
}

const struct mt_transport_ops mt_transport_auto = {
	.name = "auto",
	.probe = auto_probe,
	.query = auto_query,
	.info = NULL,
};

int mt_transport_info(struct mt_session *s, struct mt_info *info, struct mt_error *err)
{
#ifdef MT_HAVE_NETLINK
	return mt_transport_netlink.info(s, info, err);
#else
	int ret = proc_or_fake()->probe(s, err);	/* not loaded: say that first */

	(void)info;
	if (ret)
		return ret;
	err->err = -EOPNOTSUPP;
	snprintf(err->msg, sizeof(err->msg),
		 "this memtrace is built without the netlink transport (libnl-genl-3), "
		 "which GET_INFO needs");
	return err->err;
#endif
}

#ifndef MT_HAVE_NETLINK
int mt_top(struct mt_session *s, bool cached, mt_proc_cb cb, void *arg, struct mt_error *err)
{
	(void)s;
	(void)cached;
	(void)cb;
	(void)arg;
	err->err = -EOPNOTSUPP;
	snprintf(err->msg, sizeof(err->msg),
		 "this memtrace is built without the netlink transport (libnl-genl-3), "
		 "which top needs");
	return err->err;
}
#endif

void mt_session_close(struct mt_session *s)
{
#ifdef MT_HAVE_NETLINK
	mt_netlink_close(s);
#else
	(void)s;
#endif
}

void mt_transport_print_error(const struct mt_error *err)
{
	mt_err("%s", err->msg);
	if (err->kmsg[0])
		mt_err("kernel says: %s", err->kmsg);
}

/* Is a file matching pattern (a glob) there? */
static bool exists(const char *pattern)
{
	glob_t g;
	bool found = !glob(pattern, GLOB_NOSORT, NULL, &g);

	if (found)
		globfree(&g);
	return found;
}

const char *mt_module_hint(const char *root, const char *release)
{
	static const char *const where[] = { "*", "*/*" };	/* extra/, updates/dkms/ */
	struct utsname u;
	char path[PATH_MAX], *dep;
	bool installed = false;

	snprintf(path, sizeof(path), "%s/proc/modules", root);
	if (access(path, F_OK))
		return "this kernel cannot load modules (no /proc/modules: built without "
		       "CONFIG_MODULES), and memtrace is a module; run `make demo` to use "
		       "the lab VM";
	if (!release)
		release = uname(&u) ? "" : u.release;
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]) && !installed; i++) {
		snprintf(path, sizeof(path), "%s/lib/modules/%s/%s/memtrace.ko*", root, release,
			 where[i]);
		installed = exists(path);
	}
	snprintf(path, sizeof(path), "%s/lib/modules/%s/modules.dep", root, release);
	if (!installed && !mt_read_file(path, &dep, NULL)) {
		installed = strstr(dep, "/memtrace.ko") != NULL;
		free(dep);
	}
	if (installed)
		return "it is installed for this kernel: load it with `sudo modprobe memtrace`";
	return "load it from the source tree with `sudo make load` (or `sudo insmod "
	       "kmod/memtrace.ko`), or run `make demo` to use the lab VM";
}

int mt_transport_fail(struct mt_error *err, int e, const struct mt_query *q,
		      const char *path)
{
	const char *why;

	err->err = e;
	if (q->path && e != -ENOENT) {
		/* a file's: the kernel's message (err->kmsg) says which check */
		if (e == -EPERM)
			snprintf(err->msg, sizeof(err->msg),
				 "%s: permission denied: a file's page cache is shown only "
				 "to its owner or whoever may write it, as cachestat(2) does",
				 q->path);
		else if (e == -ERANGE)
			snprintf(err->msg, sizeof(err->msg),
				 "%s: range 0x%llx-0x%llx is past the largest file offset",
				 q->path, (unsigned long long)q->start,
				 (unsigned long long)q->end);
		else if (e == -EINVAL)
			snprintf(err->msg, sizeof(err->msg),
				 "%s: the module refused it (%s)", q->path, strerror(-e));
		else
			snprintf(err->msg, sizeof(err->msg), "%s: %s", q->path, strerror(-e));
		return e;
	}
	switch (-e) {
	case ENOENT:
		snprintf(err->msg, sizeof(err->msg), "%s not found: the memtrace module is not "
			 "loaded; %s", path, mt_module_hint("", NULL));
		break;
	case ESRCH:
		why = mt_pid_no_mm(q->pid);
		if (why)
			snprintf(err->msg, sizeof(err->msg), "process %ld %s to look at",
				 q->pid, why);
		else
			snprintf(err->msg, sizeof(err->msg), "no such process: %ld (or it exited)",
				 q->pid);
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
			 "range 0x%llx-0x%llx is outside the user address space of process "
			 "%ld: it ends past the task size (`memtrace info` shows it)",
			 (unsigned long long)q->start, (unsigned long long)q->end, q->pid);
		break;
	case E2BIG:
		snprintf(err->msg, sizeof(err->msg), "query line too long for the module");
		break;
	case EAGAIN:
		snprintf(err->msg, sizeof(err->msg),
			 "process %ld stayed in an execve() for %d s (its exec_update_lock held: "
			 "a new program is being set up, or it waits for a stuck lock): try again",
			 q->pid, MT_NL_EXEC_WAIT_S);
		break;
	default:
		snprintf(err->msg, sizeof(err->msg), "%s: %s", path, strerror(-e));
		break;
	}
	return e;
}

int mt_transport_no_file(struct mt_error *err, const char *what)
{
	err->err = -EOPNOTSUPP;
	snprintf(err->msg, sizeof(err->msg),
		 "memtrace file needs the netlink transport: %s cannot be handed the file's "
		 "descriptor (is the module's generic netlink family there? try "
		 "--transport=netlink)", what);
	return -EOPNOTSUPP;
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
	struct mt_error *err = &ctx->ses->err;	/* not on the demo's small stack */
	int ret;

	memset(err, 0, sizeof(*err));
	ret = ctx->tp->query(ctx->ses, q, cb, arg, hdr, sum, err);
	if (ret < 0) {
		if (!err->msg[0])
			return ret;	/* the callback's own error */
		mt_transport_print_error(err);
		return MT_EXIT_FAIL;
	}
	return ret;	/* 0, or what the callback returned */
}
