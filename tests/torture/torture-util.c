// SPDX-License-Identifier: GPL-2.0
/*
 * tor-torture: the state shared with the targets and queriers, reports, the
 * knobs it changes (restored at the end) and small helpers.
 */
#include "torture.h"

const char *const tor_kname[NK] = {
	"khugepaged", "split", "compact", "numa", "mremap", "ksm", "uffd", "free",
	"swap", "hugetlb owner", "hugetlb sharer", "fork", "fork child", "exec child"
};

struct shared *tor_sh;

void tor_report(const char *fmt, ...)
{
	char line[700];
	va_list ap;

	if (atomic_fetch_add(&tor_sh->msgs, 1) >= 20)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("# %s\n", line);
	fflush(stdout);
}

/* A target's setup or operation failed where it must not: counted, fails. */
void tor_terr(int k, const char *what)
{
	atomic_fetch_add(&tor_sh->target_errs, 1);
	tor_report("target %s: %s: %s", tor_kname[k], what, strerror(errno));
}

/* ---- knobs (sysfs/procfs), restored at the end ---- */
struct knob {
	const char *path;
	char old[64];
	bool set;
};
static struct knob knobs[16];
static int nknobs;

int tor_read_file(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	return 0;
}

int tor_write_file(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = write(fd, v, strlen(v));
	close(fd);
	return r == (ssize_t)strlen(v) ? 0 : -1;
}

long long tor_read_num(const char *path)
{
	char b[64];

	return tor_read_file(path, b, sizeof(b)) ? -1 : atoll(b);
}

bool tor_knob_set(const char *path, const char *v)
{
	struct knob *k = &knobs[nknobs];

	if (nknobs >= 16 || tor_read_file(path, k->old, sizeof(k->old)))
		return false;
	k->path = path;
	if (tor_write_file(path, v)) {
		printf("# %s: cannot write %s: %s\n", path, v, strerror(errno));
		return false;
	}
	k->set = true;
	nknobs++;
	return true;
}

void tor_knobs_restore(void)
{
	for (int i = nknobs - 1; i >= 0; i--) {
		char *s = strchr(knobs[i].old, '[');	/* "always [madvise] never" */
		char v[64];

		if (s) {
			snprintf(v, sizeof(v), "%s", s + 1);
			*strchrnul(v, ']') = '\0';
		} else {
			snprintf(v, sizeof(v), "%s", knobs[i].old);
		}
		if (tor_write_file(knobs[i].path, v))
			printf("# restore %s to %s: %s\n", knobs[i].path, v, strerror(errno));
	}
}

/* A /proc/vmstat counter, -1 when the kernel has none of that name. */
long long tor_vmstat(const char *name)
{
	FILE *f = fopen("/proc/vmstat", "r");
	char n[64];
	long long v, r = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", n, &v) == 2)
		if (!strcmp(n, name)) {
			r = v;
			break;
		}
	fclose(f);
	return r;
}

double tor_now(void)
{
	return sl_now();
}

void *tor_map_at(uint64_t at, size_t len, int prot, int flags, int fd)
{
	return mmap((void *)(uintptr_t)at, len, prot, flags | MAP_FIXED_NOREPLACE, fd, 0);
}

void tor_publish(int k, uint64_t start, uint64_t end)
{
	struct slot *sl = &tor_sh->slot[k];

	atomic_store(&sl->start, start);
	atomic_store(&sl->end, end);
	atomic_store(&sl->pid, getpid());
	atomic_store(&sl->exiting, 0);
}

bool tor_running(void)
{
	return !atomic_load(&tor_sh->stop_actors);
}

void tor_touch(char *p, size_t len)
{
	for (size_t i = 0; i < len; i += PG)
		p[i] = (char)(i >> 12 | 1);
}
