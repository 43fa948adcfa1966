// SPDX-License-Identifier: GPL-2.0
/* Small helpers: numbers, memory, files, messages. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mt.h"

const char *mt_prog = "memtrace";

/*
 * A number as the contract spells it: decimal, or hex with a 0x prefix.
 * No sign, no spaces, no octal. -EINVAL for junk, -ERANGE for overflow.
 */
int mt_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	unsigned int base = 10;
	size_t i = 0;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		unsigned int d;
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A' + 10);
		else
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

int mt_parse_pid(const char *s, long *pid)
{
	uint64_t v;

	if (!s || mt_parse_u64(s, strlen(s), &v) || v == 0 || v > 0x3fffffff)
		return -EINVAL;
	*pid = (long)v;
	return 0;
}

void mt_verr(const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: ", mt_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void mt_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mt_verr(fmt, ap);
	va_end(ap);
}

void *mt_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		mt_err("out of memory");
		exit(MT_EXIT_FAIL);
	}
	return p;
}

void *mt_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		mt_err("out of memory");
		exit(MT_EXIT_FAIL);
	}
	return p;
}

char *mt_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(mt_xmalloc(n), s, n);
}

/* Read a whole (proc) file, NUL-terminated. */
int mt_read_file(const char *path, char **bufp, size_t *lenp)
{
	size_t cap = 16384, len = 0;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	buf = mt_xmalloc(cap);
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			cap *= 2;
			buf = mt_xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;

			free(buf);
			close(fd);
			return e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	if (lenp)
		*lenp = len;
	return 0;
}

/* Rss in kB from smaps_rollup (or the sum over smaps); -1 if unavailable. */
long long mt_smaps_rss_kb(long pid)
{
	char path[64], *buf, *p;
	long long total = -1;

	snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", pid);
	if (mt_read_file(path, &buf, NULL)) {
		snprintf(path, sizeof(path), "/proc/%ld/smaps", pid);
		if (mt_read_file(path, &buf, NULL))
			return -1;
	}
	for (p = buf; (p = strstr(p, "\nRss:")); p += 5) {
		long long kb;

		if (sscanf(p + 5, " %lld kB", &kb) == 1)
			total = (total < 0 ? 0 : total) + kb;
	}
	free(buf);
	return total;
}

#define PF_KTHREAD 0x00200000	/* include/linux/sched.h */

/* In /proc's "Key: value" text, the value after KEY ("\nVmRSS:"), blanks skipped; NULL if none */
const char *mt_proc_field(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? p + strlen(key) + strspn(p + strlen(key), " \t") : NULL;
}

/* Its number (kB in status and smaps_rollup), -1 if none */
long mt_proc_kb(const char *buf, const char *key)
{
	const char *p = mt_proc_field(buf, key);

	return p ? strtol(p, NULL, 10) : -1;
}

/*
 * Why process pid, which /proc shows, has no user memory: a kernel thread
 * or a zombie. NULL when it has some, or when /proc does not show it. The
 * module's ESRCH covers all of these.
 *
 * From /proc/PID/status, which takes no sleeping lock of the process: /proc/PID/stat
 * takes its exec_update_lock on some kernels (6.1, 7.x), which an execve()
 * holds as long as it waits for anything (the mm's mmap_lock behind a
 * stuck fault): reading it first would hang where the module answers
 * EAGAIN. Before 6.4 status has no "Kthread:" line; then the flags of
 * /proc/PID/stat are read, only for a process with no memory to show
 * (no "VmSize:" line), which is not in an execve().
 */
const char *mt_pid_no_mm(long pid)
{
	const char *kt, *st;
	unsigned long flags = 0;
	bool kthread;
	char path[64], *buf, *p;
	char state = 0;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if (mt_read_file(path, &buf, NULL))
		return NULL;
	st = mt_proc_field(buf, "\nState:");
	kt = mt_proc_field(buf, "\nKthread:");
	if (st)
		state = *st;
	kthread = kt && *kt == '1';
	if (!kt && state != 'Z' && state != 'X' && !mt_proc_field(buf, "\nVmSize:")) {
		free(buf);
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		if (mt_read_file(path, &buf, NULL))
			return NULL;
		/* pid (comm) state ppid pgrp session tty_nr tpgid flags: comm may hold ')' */
		p = strrchr(buf, ')');
		kthread = p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) == 1 &&
			  (flags & PF_KTHREAD);
	}
	free(buf);
	if (kthread)
		return "is a kernel thread: it has no user memory";
	if (state == 'Z' || state == 'X')
		return "is a zombie: it has no user memory left";
	return NULL;
}
