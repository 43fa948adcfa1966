// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "slib.h"

static char suid_path[64];

const char *sl_suid_copy(void)
{
	char buf[65536];
	int in, out;
	ssize_t n;

	snprintf(suid_path, sizeof(suid_path), "/tmp/memtrace-suid-%d", (int)getpid());
	in = open("/proc/self/exe", O_RDONLY);
	out = open(suid_path, O_WRONLY | O_CREAT | O_TRUNC, 0700);
	if (in < 0 || out < 0)
		return NULL;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			return NULL;
	close(in);
	if (fchown(out, 0, 0) || fchmod(out, 04755) || close(out))
		return NULL;
	return suid_path;
}

void sl_suid_remove(void)
{
	if (suid_path[0])
		unlink(suid_path);
}

void sl_drop(void)
{
	if (setgroups(0, NULL) || setresgid(SL_UID, SL_UID, SL_UID) ||
	    setresuid(SL_UID, SL_UID, SL_UID)) {
		perror("sl_drop");
		_exit(99);
	}
	prctl(PR_SET_DUMPABLE, 1);
}

void *sl_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("sl_shared");
		exit(2);
	}
	return p;
}

double sl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}
