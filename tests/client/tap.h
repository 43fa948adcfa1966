/* SPDX-License-Identifier: GPL-2.0 */
/* A tiny TAP harness: ok N - name / not ok N - name, then the plan. */
#ifndef MT_TAP_H
#define MT_TAP_H

#include <stdio.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                    \
	do {                                                             \
		int _c = !!(cond);                                       \
		printf("%sok %d - ", _c ? "" : "not ", ++tap_n);         \
		printf(__VA_ARGS__);                                     \
		printf("\n");                                            \
		if (!_c) {                                               \
			tap_failed++;                                    \
			printf("#   failed at %s:%d: %s\n", __FILE__,    \
			       __LINE__, #cond);                         \
		}                                                        \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	printf("# %d passed, %d failed\n", tap_n - tap_failed, tap_failed);
	return tap_failed ? 1 : 0;
}

#endif
