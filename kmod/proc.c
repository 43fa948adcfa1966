// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/memtrace: write a query line, read the answer as text.
 *
 * Each open file has its own query and answer. A line written is parsed
 * into a request and started as a query (query.c); the answer is produced a
 * buffer at a time from the records its walk hands back, and copied out with
 * no lock of the target held, so any range streams in bounded memory: one
 * MEMTRACE_PROC_BUF per open file, whatever the range.
 *
 * Every query written to a file is judged as its opener, like
 * /proc/PID/pagemap: the credentials, capabilities, address space and pid
 * namespace it had at open (struct memtrace_caller), whoever writes or reads
 * the file later (a child that inherited it, a setuid program it was handed
 * to as stdin).
 * A file answers only the queries written to it: one read without a query
 * of its own fails with ENODATA.
 */
#include <linux/capability.h>
#include <linux/ctype.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>

#include "proc.h"
#include "query.h"

#define MEMTRACE_PROC_BUF	(8 * 1024)	/* a kmalloc slab size */
#define MEMTRACE_LINE_MAX	160	/* one record line, with room to spare */
/*
 * The summary line at its longest: "# summary pages=" and 20 digits, then
 * " name=" and 20 digits for each of the 8 states (47 letters of names),
 * "\n": 36 + 8 * 22 + 47 + 1 = 260.
 */
#define MEMTRACE_SUMMARY_MAX	260

/*
 * Everyone may open /proc/memtrace for reading and writing: a query is judged
 * by the opener's credentials like /proc/PID/pagemap (target.c), so an
 * unprivileged user reaches only what pagemap would show them.
 */
#define MEMTRACE_PROC_MODE	0666

enum memtrace_proc_state {
	MEMTRACE_PROC_EMPTY,	/* no query yet */
	MEMTRACE_PROC_ACTIVE,	/* answer being produced */
	MEMTRACE_PROC_FINISHED,	/* summary produced; reads return what is left, then EOF */
	MEMTRACE_PROC_FAILED,	/* the walk failed; reads return ->err */
};

struct memtrace_proc_file {
	struct mutex lock;	/* serialises read and write on this file */
	struct memtrace_caller caller;	/* the opener, taken at open */
	enum memtrace_proc_state state;
	int err;
	struct memtrace_query query;
	char *buf;
	size_t len;		/* bytes in buf */
	size_t off;		/* bytes of buf already read */
};

static struct proc_dir_entry *memtrace_proc_entry;

static const char *const memtrace_mode_names[] = {
	[MEMTRACE_MODE_RUNS] = "runs",
	[MEMTRACE_MODE_PAGES] = "pages",
};

/*
 * Decimal, or hex with a 0x prefix, and nothing else: kstrtoull() alone
 * would also take a sign and a second 0x, and report an overflow before a
 * syntax error, so the digits are checked first.
 */
static int memtrace_parse_u64(const char *s, u64 *v)
{
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *digits = hex ? s + 2 : s;
	const char *p = digits;

	while (hex ? isxdigit(*p) : isdigit(*p))
		p++;
	if (p == digits || *p)
		return -EINVAL;
	return kstrtoull(digits, hex ? 16 : 10, v);
}

static int memtrace_parse_query(char *line, struct memtrace_request *req)
{
	char *tok[6];	/* PID START END MODE cached folio */
	int n = 0, i, err;
	u64 v, len;
	char *p;

	while ((p = strsep(&line, " \t\n")) != NULL) {
		if (!*p)
			continue;
		if (n == ARRAY_SIZE(tok))
			return -EINVAL;
		tok[n++] = p;
	}
	if (n < 2)
		return -EINVAL;

	err = memtrace_parse_u64(tok[0], &v);
	if (err)
		return err == -ERANGE ? -ESRCH : err;
	if (v == 0 || v > PID_MAX_LIMIT)
		return -ESRCH;
	req->pid = v;

	req->to_task_size = !strcmp(tok[1], "all");
	if (req->to_task_size) {
		req->start = 0;
		req->end = 0;
		i = 2;
	} else {
		if (n < 3)
			return -EINVAL;
		err = memtrace_parse_u64(tok[1], &req->start);
		if (err)
			return err;
		if (tok[2][0] == '+') {
			err = memtrace_parse_u64(tok[2] + 1, &len);
			if (err)
				return err;
			if (check_add_overflow(req->start, len, &req->end))
				return -ERANGE;
		} else {
			err = memtrace_parse_u64(tok[2], &req->end);
			if (err)
				return err;
		}
		i = 3;
	}

	req->mode = MEMTRACE_MODE_RUNS;
	if (i < n && (!strcmp(tok[i], "pages") || !strcmp(tok[i], "runs")))
		req->mode = strcmp(tok[i++], "pages") ? MEMTRACE_MODE_RUNS :
						       MEMTRACE_MODE_PAGES;
	if (i < n && !strcmp(tok[i], "cached")) {
		req->cached = true;
		i++;
	}
	if (i < n && !strcmp(tok[i], "folio")) {
		req->folio = true;
		i++;
	}
	return i == n ? 0 : -EINVAL;
}

/*
 * The flags word at s (no NUL): MEMTRACE_FLAGS_WIDTH letters, or with
 * cached, MEMTRACE_FLAGS_WIDTH_CACHED.
 */
static char *memtrace_put_flags(char *s, u32 f, bool cached)
{
	static const char letters[] = MEMTRACE_FLAG_LETTERS_CACHED;
	static const char kinds[] = MEMTRACE_KIND_LETTERS;
	unsigned int i;

	BUILD_BUG_ON(sizeof(letters) != MEMTRACE_FLAGS_WIDTH_CACHED);
	s[0] = '-';
	for (i = 0; i < sizeof(kinds) - 1; i++)
		if (f & (MEMTRACE_F_ANON << i))
			s[0] = kinds[i];
	for (i = 0; i < MEMTRACE_FLAGS_WIDTH - 1; i++)
		s[i + 1] = f & (MEMTRACE_F_HUGETLB << i) ? letters[i] : '-';
	if (!cached)
		return s + MEMTRACE_FLAGS_WIDTH;
	s[MEMTRACE_FLAGS_WIDTH] = f & MEMTRACE_F_WRITEBACK ?
				  letters[MEMTRACE_FLAGS_WIDTH - 1] : '-';
	return s + MEMTRACE_FLAGS_WIDTH_CACHED;
}

/*
 * The size column: what one entry maps, PAGE_SIZE, PMD_SIZE or PUD_SIZE, as
 * 4K, 2M, 1G (4K pages) or 16K, 32M, 64G (arm64's 16K pages). Made once
 * from the shifts, which are constants of the kernel built against.
 */
static char memtrace_size_names[3][8];

static void memtrace_size_label(char *buf, size_t len, unsigned int shift)
{
	static const char units[] = "KMGTPE";
	unsigned int i = 0;

	shift -= 10;
	while (shift >= 10 && units[i + 1]) {
		shift -= 10;
		i++;
	}
	snprintf(buf, len, "%lu%c", 1UL << shift, units[i]);
}

static const char *memtrace_size_name(u32 f)
{
	return memtrace_size_names[f & MEMTRACE_F_SIZE_PUD ? 2 :
				   f & MEMTRACE_F_SIZE_PMD ? 1 : 0];
}

/*
 * Record lines are written by hand, not with snprintf(): a large answer has
 * hundreds of thousands of them, and vsnprintf()'s format parsing was most of
 * the cost of /proc/memtrace. Each helper writes at p and returns the end.
 */
static char *memtrace_put_hex(char *p, u64 v)
{
	static const char digits[] = "0123456789abcdef";
	int n = v ? DIV_ROUND_UP(fls64(v), 4) : 1;
	char *q;

	*p++ = '0';
	*p++ = 'x';
	for (q = p + n; q > p; v >>= 4)
		*--q = digits[v & 0xf];
	return p + n;
}

static char *memtrace_put_dec(char *p, u64 v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* A few letters: copied inline, not through strlen() and memcpy() calls. */
static char *memtrace_put_str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

/* The size of a folio of that order: "4K", "64K", "2M", "32M", "1G", "64G" */
static char *memtrace_put_folio(char *p, unsigned int order)
{
	unsigned int shift = PAGE_SHIFT + order;

	p = memtrace_put_dec(p, 1ULL << (shift % 10));
	*p++ = "BKMGTPE"[min(shift / 10, 6U)];
	return p;
}

static int memtrace_proc_sink(void *arg, const struct memtrace_record *r)
{
	struct memtrace_proc_file *pf = arg;
	char *p = pf->buf + pf->len;

	/*
	 * "0x<16>\t<20>\t<9>\t<4>\t<7>\t0x<16>\t-<10>\t<4>\n": at most 96
	 * bytes (size and folio "512M" with 64K pages)
	 */
	BUILD_BUG_ON(MEMTRACE_LINE_MAX < 96);
	if (MEMTRACE_PROC_BUF - pf->len < MEMTRACE_LINE_MAX)
		return -ENOSPC;
	p = memtrace_put_hex(p, r->addr);
	*p++ = '\t';
	p = memtrace_put_dec(p, r->pages);
	*p++ = '\t';
	p = memtrace_put_str(p, memtrace_state_names[r->state]);
	*p++ = '\t';
	p = memtrace_put_str(p, memtrace_size_name(r->flags));
	*p++ = '\t';
	p = memtrace_put_flags(p, r->flags, pf->query.req.cached);
	*p++ = '\t';
	p = memtrace_put_hex(p, r->pfn);
	*p++ = '\t';
	if (r->node < 0)
		*p++ = '-';
	p = memtrace_put_dec(p, r->node < 0 ? -(s64)r->node : r->node);
	if (pf->query.req.folio) {
		*p++ = '\t';
		if ((r->state == MEMTRACE_PRESENT || r->state == MEMTRACE_ZERO ||
		     r->state == MEMTRACE_CACHED) && !(r->flags & MEMTRACE_F_PFNMAP))
			p = memtrace_put_folio(p, MEMTRACE_REC_ORDER_OF(r->flags));
		else
			*p++ = '-';	/* no folio */
	}
	*p++ = '\n';
	pf->len = p - pf->buf;
	return 0;
}

static void memtrace_proc_summary(struct memtrace_proc_file *pf)
{
	const u64 *counts = memtrace_query_counts(&pf->query);
	/* the states of this answer: CACHED only when asked for */
	int i, n = pf->query.req.cached ? MEMTRACE_NSTATES_ALL : MEMTRACE_NSTATES;
	u64 total = 0;

	for (i = 0; i < n; i++)
		total += counts[i];
	pf->len += scnprintf(pf->buf + pf->len, MEMTRACE_PROC_BUF - pf->len,
			     "# summary pages=%llu", total);
	for (i = 0; i < n; i++)
		pf->len += scnprintf(pf->buf + pf->len,
				     MEMTRACE_PROC_BUF - pf->len, " %s=%llu",
				     memtrace_state_names[i], counts[i]);
	pf->len += scnprintf(pf->buf + pf->len, MEMTRACE_PROC_BUF - pf->len,
			     "\n");
}

/* Start answering req for the opener of the file. Called with pf->lock held. */
static int memtrace_proc_start(struct memtrace_proc_file *pf,
			       const struct memtrace_request *req)
{
	struct memtrace_query *q = &pf->query;
	int err;

	err = memtrace_query_start(q, req, &pf->caller, memtrace_proc_sink, pf,
				   NULL);
	if (err)
		return err;
	pf->state = MEMTRACE_PROC_ACTIVE;
	pf->off = 0;
	pf->len = scnprintf(pf->buf, MEMTRACE_PROC_BUF,
			    "# memtrace pid=%d start=0x%lx end=0x%lx page_size=%lu mode=%s%s%s\n"
			    "# addr\tpages\tstate\tsize\tflags\tpfn\tnode%s\n",
			    q->req.pid, q->start, q->end,
			    PAGE_SIZE, memtrace_mode_names[q->req.mode],
			    q->req.cached ? " cached" : "",
			    q->req.folio ? " folio" : "",
			    q->req.folio ? "\tfolio" : "");
	return 0;
}

/* Parse line (modified in place) and start answering it. */
static int memtrace_proc_query(struct memtrace_proc_file *pf, char *line)
{
	struct memtrace_request req = {};
	int err;

	err = memtrace_parse_query(line, &req);
	if (err)
		return err;
	return memtrace_proc_start(pf, &req);
}

static ssize_t memtrace_proc_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	struct memtrace_proc_file *pf = file->private_data;
	char line[MEMTRACE_QUERY_MAX + 1];
	int err;

	if (count > MEMTRACE_QUERY_MAX)
		return -E2BIG;
	if (!count)
		return -EINVAL;
	if (copy_from_user(line, ubuf, count))
		return -EFAULT;
	line[count] = '\0';
	if (strlen(line) != count)
		return -EINVAL;	/* a NUL byte inside the query */

	if (mutex_lock_interruptible(&pf->lock))
		return -EINTR;
	err = memtrace_proc_query(pf, line);
	mutex_unlock(&pf->lock);
	return err ? err : count;
}

/* Refill pf->buf with the next part of the answer. */
static int memtrace_proc_fill(struct memtrace_proc_file *pf)
{
	struct memtrace_query *q = &pf->query;
	int err;

	pf->len = 0;
	pf->off = 0;
	do {
		err = memtrace_query_step(q);
		if (err)
			return err;
	} while (!memtrace_query_done(q) && !pf->len);

	if (memtrace_query_done(q) &&
	    MEMTRACE_PROC_BUF - pf->len >= MEMTRACE_SUMMARY_MAX) {
		memtrace_proc_summary(pf);
		memtrace_query_release(q);
		pf->state = MEMTRACE_PROC_FINISHED;
	}
	return 0;
}

static ssize_t memtrace_proc_read(struct file *file, char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct memtrace_proc_file *pf = file->private_data;
	size_t copied = 0, n;
	int err = 0;

	if (mutex_lock_interruptible(&pf->lock))
		return -EINTR;

	if (pf->state == MEMTRACE_PROC_EMPTY) {
		err = -ENODATA;	/* write a query to this file first */
		goto out;
	}
	if (pf->state == MEMTRACE_PROC_FAILED) {
		err = pf->err;
		goto out;
	}

	while (copied < count) {
		if (pf->off == pf->len) {
			if (pf->state != MEMTRACE_PROC_ACTIVE)
				break;
			err = memtrace_proc_fill(pf);
			if (err) {
				memtrace_query_release(&pf->query);
				pf->state = MEMTRACE_PROC_FAILED;
				pf->err = err;
				pf->len = 0;
				pf->off = 0;
				break;
			}
		}
		n = min(count - copied, pf->len - pf->off);
		if (copy_to_user(ubuf + copied, pf->buf + pf->off, n)) {
			err = -EFAULT;
			break;
		}
		pf->off += n;
		copied += n;
	}
out:
	mutex_unlock(&pf->lock);
	return copied ? copied : err;
}

static int memtrace_proc_open(struct inode *inode, struct file *file)
{
	struct memtrace_proc_file *pf;

	pf = kzalloc(sizeof(*pf), GFP_KERNEL);
	if (!pf)
		return -ENOMEM;
	pf->buf = kmalloc(MEMTRACE_PROC_BUF, GFP_KERNEL);
	if (!pf->buf) {
		kfree(pf);
		return -ENOMEM;
	}
	mutex_init(&pf->lock);
	pf->caller.cred = file->f_cred;	/* lives as long as the file */
	pf->caller.cap_ptrace = file_ns_capable(file, &init_user_ns,
						CAP_SYS_PTRACE);
	pf->caller.cap_admin = file_ns_capable(file, &init_user_ns,
					       CAP_SYS_ADMIN);
	pf->caller.mm = current->mm;
	if (pf->caller.mm)
		mmgrab(pf->caller.mm);	/* compared, never walked */
	pf->caller.ns = get_pid_ns(task_active_pid_ns(current));
	file->private_data = pf;
	return nonseekable_open(inode, file);
}

static int memtrace_proc_release(struct inode *inode, struct file *file)
{
	struct memtrace_proc_file *pf = file->private_data;

	memtrace_query_release(&pf->query);
	if (pf->caller.mm)
		mmdrop(pf->caller.mm);
	put_pid_ns(pf->caller.ns);
	mutex_destroy(&pf->lock);
	kfree(pf->buf);
	kfree(pf);
	return 0;
}

static const struct proc_ops memtrace_proc_ops = {
	.proc_open = memtrace_proc_open,
	.proc_read = memtrace_proc_read,
	.proc_write = memtrace_proc_write,
	.proc_release = memtrace_proc_release,
};

int memtrace_proc_init(void)
{
	memtrace_size_label(memtrace_size_names[0], sizeof(memtrace_size_names[0]),
			    PAGE_SHIFT);
	memtrace_size_label(memtrace_size_names[1], sizeof(memtrace_size_names[1]),
			    PMD_SHIFT);
	memtrace_size_label(memtrace_size_names[2], sizeof(memtrace_size_names[2]),
			    PUD_SHIFT);
	memtrace_proc_entry = proc_create(MEMTRACE_PROC_NAME, MEMTRACE_PROC_MODE, NULL,
					  &memtrace_proc_ops);
	return memtrace_proc_entry ? 0 : -ENOMEM;
}

void memtrace_proc_exit(void)
{
	/* Waits for running operations and releases files still open. */
	proc_remove(memtrace_proc_entry);
}
