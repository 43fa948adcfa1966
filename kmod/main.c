// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace: for a process and a virtual range, what backs each page.
 */
#include <linux/module.h>

#include "netlink.h"
#include "proc.h"

static int __init memtrace_init(void)
{
	int ret;

	ret = memtrace_proc_init();
	if (ret)
		return ret;
	ret = memtrace_netlink_init();
	if (ret)
		goto err_proc;
	pr_info("version %s loaded\n", MEMTRACE_VERSION);
	return 0;

err_proc:
	memtrace_proc_exit();
	return ret;
}

static void __exit memtrace_exit(void)
{
	memtrace_netlink_exit();
	memtrace_proc_exit();
}

module_init(memtrace_init);
module_exit(memtrace_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The memtrace authors");
MODULE_DESCRIPTION("Show how a process's virtual memory is backed, page by page");
MODULE_VERSION(MEMTRACE_VERSION);
