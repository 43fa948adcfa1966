/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's page size, for the test programs: 4096 on x86-64 and arm64
 * with 4K pages, 16384 on arm64-16k. glibc reads it once from the auxiliary
 * vector, so asking is cheap.
 */
#ifndef MT_PG_H
#define MT_PG_H
#include <stdio.h>
#include <unistd.h>

#define MT_PG ((unsigned long)sysconf(_SC_PAGESIZE))

/*
 * The smallest receive buffer a netlink dump fits: the core allocates its
 * skbs of at least NLMSG_GOODSIZE, SKB_WITH_OVERHEAD(min(PAGE_SIZE, 8K)),
 * and the first message of a dump is built in one before any recvmsg():
 * 3776 bytes with 4K pages (every length the tests try fits), 7872 with
 * 16K pages (8192 less a 320-byte skb_shared_info: Debian's arm64-16k
 * kernel truncates a 7871-byte read of the first message and not a 7872
 * one), so a reader of 4 KiB there gets MSG_TRUNC from any dump. 0 with
 * 4K pages: no length is left out there.
 */
static inline size_t mt_nl_min_recv(void)
{
	return MT_PG > 4096 ? 8192 - 320 : 0;
}

/*
 * A receive buffer that one dump message always fits, and not two: 4 KiB
 * with 4K pages, 8 KiB with 16K pages (the skbs above hold 3776 and about
 * 7870 bytes). The tests that read "one message, then the dump is
 * mid-way" read this much.
 */
static inline size_t mt_nl_one_msg(void)
{
	return MT_PG > 4096 ? 8192 : 4096;
}

/* A PMD-sized THP: 2M with 4K pages, 32M with 16K (hpage_pmd_size). */
static inline unsigned long mt_thp_size(void)
{
	static unsigned long v;
	FILE *f;

	if (v)
		return v;
	f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "re");
	if (!f || fscanf(f, "%lu", &v) != 1 || v <= MT_PG)
		v = MT_PG * MT_PG / 8;
	if (f)
		fclose(f);
	return v;
}

#endif
