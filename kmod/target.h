/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMTRACE_TARGET_H
#define _MEMTRACE_TARGET_H

#include <linux/types.h>

struct mm_struct;
struct memtrace_caller;

struct mm_struct *memtrace_target_get(pid_t nr, const struct memtrace_caller *c);

#endif /* _MEMTRACE_TARGET_H */
