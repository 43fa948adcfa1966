/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMTRACE_PROC_H
#define _MEMTRACE_PROC_H

int memtrace_proc_init(void);
void memtrace_proc_exit(void);

#endif /* _MEMTRACE_PROC_H */
