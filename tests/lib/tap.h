/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The TAP harness of the C test programs (in-VM suites, bench, the client's
 * unit tests): one line a test, "ok N - name" or "not ok N - name", "# "
 * diagnostics, and the plan "1..N" printed last by tap_done(), so that a
 * program need not know its count in advance. Each program counts its own
 * tests: the state is static (one per translation unit) unless TAP_SHARED is
 * defined before this header, for a program whose tests are reported from
 * several files: then every one of them defines TAP_SHARED (its internal
 * header does) and exactly one, the one with main(), also holds the state
 * with TAP_SHARED_STATE; at file scope.
 */
#ifndef MEMTRACE_TAP_H
#define MEMTRACE_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef TAP_SHARED
extern int tap_n, tap_failed;
#define TAP_SHARED_STATE int tap_n, tap_failed
#else
static int tap_n, tap_failed;
#endif

static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

/* Reports one test; returns cond so callers can chain diagnostics. */
static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

/*
 * A test that needs something of the environment it lacks (swap, hugetlb
 * pages, KSM, THP...). On a user's machine it is a skip; in the lab lane
 * (tests/vm-suite.sh sets MT_LANE=1), which provides all of it, it fails.
 * The reason is printed either way.
 */
static inline void tap_skip(const char *what, const char *fmt, ...)
{
	const char *lane = getenv("MT_LANE");
	int strict = lane && lane[0] == '1';
	va_list ap;

	printf("%sok %d - %s # %s", strict ? "not " : "", ++tap_n, what,
	       strict ? "the lab lane should provide it: " : "SKIP ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (strict)
		tap_failed++;
}

/*
 * tap_expect(cond, fmt, ...): tap_ok() that also says, when it fails, where
 * and what it asserted (the client's unit tests: many small assertions).
 */
#define tap_expect(cond, ...)							\
	do {									\
		if (!tap_ok(!!(cond), __VA_ARGS__))				\
			tap_diag("  failed at %s:%d: %s", __FILE__, __LINE__, #cond); \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	printf("# %d passed, %d failed\n", tap_n - tap_failed, tap_failed);
	return tap_failed ? 1 : 0;
}

#endif
