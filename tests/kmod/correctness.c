// SPDX-License-Identifier: GPL-2.0
/*
 * The module's correctness suite, run as root in the lab VM: regions in known
 * states, checked page by page against what they must be and against
 * /proc/PID/pagemap; bad input, each with its errno; permissions as a real
 * unprivileged user.
 */
#include "correctness.h"

TAP_SHARED_STATE;

long cor_psz;

size_t cor_huge(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "re");
	unsigned long v = 0;

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v > (unsigned long)cor_psz ? v : (size_t)cor_psz * cor_psz / 8;
}
bool cor_root;

char *cor_map(size_t len, int prot, int flags)
{
	char *p = mmap(NULL, len, prot, flags | MAP_PRIVATE * !(flags & MAP_SHARED), -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

/* Query [p, p+n pages) of pid in pages mode, check it against pagemap. */
bool cor_look(int pid, void *p, unsigned long n, struct mt_answer *a,
	      const char *what)
{
	uint64_t s = (uintptr_t)p;
	int err = mt_query(pid, s, s + n * cor_psz, "pages", a);
	struct mt_xcheck x;

	if (!tap_ok(err == 0, "%s: query answers (%s)", what, strerror(-err)))
		return false;
	/* as root, pagemap and kpageflags can judge every page of these regions */
	mt_crosscheck_ex(pid, a, cor_root, &x);
	tap_ok(!x.disagree && (!cor_root || !x.unjudged),
	       "%s: %lu/%lu pages agree with pagemap, %lu not judged%s%s", what, x.agree, n,
	       x.unjudged, x.unjudged ? ": " : "", x.unjudged ? x.why : "");
	return true;
}

/* Every page's state equals want[i % len(want)]; extra flag tests by mask. */
void cor_expect(const struct mt_answer *a, unsigned long n, const char *pattern,
		uint32_t must, uint32_t mustnot, const char *what)
{
	unsigned long i, bad = 0;

	for (i = 0; i < n; i++) {
		int want;
		const struct mt_page *p = &a->pages[i];

		switch (pattern[i % strlen(pattern)]) {
		case 'P': want = MEMTRACE_PRESENT; break;
		case 'Z': want = MEMTRACE_ZERO; break;
		case 'N': want = MEMTRACE_NONE; break;
		case 'U': want = MEMTRACE_UNMAPPED; break;
		default: want = MEMTRACE_SWAP;
		}
		if (p->state != want ||
		    (want == MEMTRACE_PRESENT &&
		     ((p->flags & must) != must || (p->flags & mustnot)))) {
			if (bad++ < 4)
				tap_diag("page %lu: %s flags 0x%x", i,
					 mt_state_names[p->state], p->flags);
		}
	}
	tap_ok(bad == 0, "%s: states are %s", what, pattern);
}

int main(int argc, char **argv)
{
	cor_psz = sysconf(_SC_PAGESIZE);
	cor_root = geteuid() == 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access("/proc/memtrace", F_OK)) {
		tap_ok(0, "/proc/memtrace exists (is the module loaded?)");
		return tap_done();
	}
	if (argc > 1 && !strcmp(argv[1], "top")) {	/* that part alone */
		cor_t_top();
		return tap_done();
	}
	cor_t_anon();
	cor_t_populate_shared_holes();
	cor_t_file();
	cor_t_fork_cow();
	cor_t_thp();
	cor_t_cached();
	cor_t_folio();
	cor_t_file_cache();
	cor_t_whole();
	cor_t_bad_input();
	cor_t_isolation();
	cor_t_exit_midway();
	cor_t_unprivileged();
	cor_t_top();
	return tap_done();
}
