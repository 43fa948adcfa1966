// SPDX-License-Identifier: GPL-2.0
/*
 * A target process for the client tests: maps 8 anonymous pages, writes
 * pages 0-3, leaves 4-7 untouched; maps a file with an awkward name
 * (quotes, backslash, a control character, spaces) and deletes it, so that
 * /proc/PID/maps shows it with " (deleted)"; maps each further argument, a
 * file it creates (names for the completion tests). Prints the anonymous
 * region's address, then sleeps until killed.
 *   target [DIR [FILE...]]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Create PATH one page long and map it; unlink it if asked. */
static void map_file(const char *path, long ps, int unlink_it)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd >= 0 && ftruncate(fd, ps) == 0) {
		char *f = mmap(NULL, ps, PROT_READ, MAP_SHARED, fd, 0);

		if (f != MAP_FAILED)
			(void)*(volatile char *)f;
		if (unlink_it)
			unlink(path);
	}
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	long ps = sysconf(_SC_PAGESIZE);
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	char path[4096];
	char *p;

	p = mmap(NULL, 8 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	madvise(p, 8 * ps, MADV_NOHUGEPAGE);
	memset(p, 0x11, 4 * ps);
	snprintf(path, sizeof(path), "%s/we\"ird\\na\001me x", dir);
	map_file(path, ps, 1);
	for (int i = 2; i < argc; i++)
		map_file(argv[i], ps, 0);
	printf("%p\n", (void *)p);
	fflush(stdout);
	for (;;)
		pause();
}
