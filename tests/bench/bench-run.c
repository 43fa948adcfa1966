// SPDX-License-Identifier: GPL-2.0
/*
 * bench: the regions measured, kernel memory during a query, the small
 * process.
 */
#include "bench.h"

/* ------------------------------------------------------------------ */
/* regions */

uint8_t *bench_region_map(size_t size, enum rstate st)
{
	uint8_t *raw = mmap(NULL, size + HUGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	volatile uint8_t *p;
	uint8_t sink = 0;

	if (raw == MAP_FAILED)
		bench_die("mmap region");
	p = (uint8_t *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
	/* only the aligned part stays mapped: no neighbours in the range */
	if (p != raw)
		munmap(raw, (uint8_t *)p - raw);
	munmap((uint8_t *)p + size, raw + size + HUGE - (uint8_t *)p - size);
	if (madvise((void *)p, size, st == S_THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
		bench_die("madvise");
	for (size_t off = 0; off < size; off += PAGE) {
		switch (st) {
		case S_UNTOUCHED:
			return (uint8_t *)p;
		case S_WRITTEN:
		case S_THP:
			p[off] = 1;
			break;
		case S_ALTERNATE:
			if (!(off / PAGE % 2))
				p[off] = 1;
			break;
		case S_ZERO:
			sink += p[off];
			break;
		default:
			break;
		}
	}
	(void)sink;
	return (uint8_t *)p;
}

/* AnonHugePages of the mapping that starts at p, in kB (from smaps). */
long bench_thp_kb(const void *p)
{
	char line[256], want[32];
	FILE *f = fopen("/proc/self/smaps", "r");
	bool in = false;
	long kb = -1;

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "%lx-", (unsigned long)p);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perm[8];

		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) == 3)
			in = !strncmp(line, want, strlen(want));
		else if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* ------------------------------------------------------------------ */
/* kernel memory during a query */

long bench_km_base_free, bench_km_base_slab, bench_km_max_free, bench_km_max_slab;

static void meminfo(long *free_kb, long *slab_kb)
{
	char line[128];
	int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	static char buf[4096];
	ssize_t n;
	long v, slab = 0, ks = 0, fr = 0;
	char *p;

	if (fd < 0)
		bench_die("open /proc/meminfo");
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (sscanf(p, "MemFree: %ld", &v) == 1)
			fr = v;
		else if (sscanf(p, "Slab: %ld", &v) == 1)
			slab = v;
		else if (sscanf(p, "KernelStack: %ld", &v) == 1)
			ks = v;
	}
	(void)line;
	*free_kb = fr;
	*slab_kb = slab + ks;
}

void bench_km_hook(void)
{
	long f, s;

	meminfo(&f, &s);
	if (bench_km_base_free - f > bench_km_max_free)
		bench_km_max_free = bench_km_base_free - f;
	if (s - bench_km_base_slab > bench_km_max_slab)
		bench_km_max_slab = s - bench_km_base_slab;
}

void bench_km_start(void)
{
	bench_km_max_free = bench_km_max_slab = 0;
	meminfo(&bench_km_base_free, &bench_km_base_slab);
}

/* ------------------------------------------------------------------ */
/* the small process */

pid_t bench_child;

void bench_child_start(void)
{
	bench_child = fork();
	if (bench_child < 0)
		bench_die("fork");
	if (!bench_child) {
		for (;;)
			pause();
	}
	usleep(100000);
}

int bench_child_vmas(struct vma *v, int max)
{
	char path[64], line[512];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", bench_child);
	f = fopen(path, "r");
	if (!f)
		bench_die("open maps");
	while (n < max && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &v[n].s, &v[n].e) != 2)
			continue;
		/*
		 * x86-64's [vsyscall] lies above TASK_SIZE, outside what a
		 * query covers. Known by its name, not by its address: arm64's
		 * user space reaches 2^48, and its stack and [vdso] live above
		 * x86's 2^47 limit.
		 */
		if (strstr(line, "[vsyscall]"))
			continue;
		n++;
	}
	fclose(f);
	return n;
}
