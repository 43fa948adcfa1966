/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the safety suite: a setuid-root copy of the running program
 * (its own "helper modes" play the setuid program), dropping to uid 1000,
 * and a small shared block for processes that cooperate in a test.
 */
#ifndef MEMTRACE_SLIB_H
#define MEMTRACE_SLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SL_UID 1000

/* Copy /proc/self/exe to a setuid-root file; its path, or NULL (errno). */
const char *sl_suid_copy(void);
void sl_suid_remove(void);
/* Drop to uid/gid SL_UID for good (real, effective, saved; no groups). */
void sl_drop(void);
/* Anonymous shared memory of len bytes, zeroed; exits on failure. */
void *sl_shared(size_t len);
/* Monotonic seconds. */
double sl_now(void);

#endif
