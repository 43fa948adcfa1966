// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/PID/pagemap, as tools/mm/page-types.c and
 * tools/testing/selftests/mm/vm_util.c read it: 8 bytes per page at offset
 * vaddr / page_size * 8; bit 63 present, 62 swapped, 61 file-page or
 * shared-anon, 56 exclusively mapped, 55 soft-dirty, 0-54 the PFN (0 without
 * CAP_SYS_ADMIN) or the swap type (0-4) and offset (5-54). A short read is
 * an error. Entries are read MT_PM_CACHE at a time into a fixed cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "mt.h"

int mt_pagemap_open(struct mt_pagemap *pm, long pid, unsigned int page_size)
{
	char path[64];

	memset(pm, 0, sizeof(*pm));
	if (pid)
		snprintf(path, sizeof(path), "/proc/%ld/pagemap", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/pagemap");
	pm->page_size = page_size;
	pm->fd = open(path, O_RDONLY | O_CLOEXEC);
	return pm->fd < 0 ? -errno : 0;
}

void mt_pagemap_reset(struct mt_pagemap *pm)
{
	pm->n = 0;
}

int mt_pagemap_get(struct mt_pagemap *pm, uint64_t vaddr, uint64_t *entry)
{
	uint64_t idx = vaddr / pm->page_size;
	uint64_t cidx = pm->base / pm->page_size;
	ssize_t n;

	if (pm->n && idx >= cidx && idx < cidx + pm->n) {
		*entry = pm->cache[idx - cidx];
		return 0;
	}
	if (idx > (uint64_t)INT64_MAX / 8)
		return -EINVAL;
	do {
		n = pread(pm->fd, pm->cache, sizeof(pm->cache), (off_t)(idx * 8));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	pm->n = (unsigned int)((size_t)n / 8);
	pm->base = idx * pm->page_size;
	if (pm->n == 0)
		return -EIO;	/* short read */
	*entry = pm->cache[0];
	return 0;
}

void mt_pagemap_close(struct mt_pagemap *pm)
{
	if (pm->fd >= 0)
		close(pm->fd);
	pm->fd = -1;
}

const char *mt_pm_describe(uint64_t e, char *buf, size_t len)
{
	if (e & MT_PM_PRESENT)
		snprintf(buf, len, "present pfn=0x%llx%s%s", (unsigned long long)mt_pm_pfn(e),
			 e & MT_PM_FILE ? " file" : " anon", e & MT_PM_MMAP_EXCL ? " excl" : "");
	else if (e & MT_PM_SWAP)
		snprintf(buf, len, "swap type=%llu offset=0x%llx",
			 (unsigned long long)(e & MEMTRACE_SWAP_TYPE_MASK),
			 (unsigned long long)(mt_pm_pfn(e) >> MEMTRACE_SWAP_TYPE_BITS));
	else
		snprintf(buf, len, "not present");
	return buf;
}
