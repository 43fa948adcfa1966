/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMTRACE_NETLINK_H
#define _MEMTRACE_NETLINK_H

int memtrace_netlink_init(void);
void memtrace_netlink_exit(void);

#endif /* _MEMTRACE_NETLINK_H */
