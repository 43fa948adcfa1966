/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Is the running kernel built with KASAN (the lab's debug kernel)? Its
 * quarantine keeps freed objects out of the allocator for a while, so slab
 * counts grow with traffic, not with what is live: tests that bound kernel
 * memory by them skip there (kmemleak, after rmmod, is that kernel's check).
 */
#ifndef MT_KASAN_H
#define MT_KASAN_H
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static inline bool mt_kasan_kernel(void)
{
	char line[256];
	bool yes = false;
	FILE *f = fopen("/proc/kallsyms", "r");

	while (f && !yes && fgets(line, sizeof(line), f))
		yes = strstr(line, " kasan_report\n") != NULL;
	if (f)
		fclose(f);
	return yes;
}

#endif /* MT_KASAN_H */
