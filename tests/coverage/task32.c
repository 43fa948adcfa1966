// SPDX-License-Identifier: GPL-2.0
/*
 * cov-task32: a 32-bit (i386) process for cov-reach, built with -m32
 * -nostdlib (no 32-bit libc needed): it writes one byte to stdout, to say
 * it runs, and pauses until killed. Its TASK_SIZE is 4 GiB less a page on
 * an x86-64 kernel with IA32 emulation.
 */
static long sys3(long nr, long a, long b, long c)
{
	long r;

	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}

void _start(void);

void _start(void)
{
	static const char ready = 'r';

	sys3(4, 1, (long)&ready, 1);	/* write(1, "r", 1) */
	for (;;)
		sys3(29, 0, 0, 0);	/* pause() */
}
