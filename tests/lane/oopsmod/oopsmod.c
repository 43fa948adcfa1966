// SPDX-License-Identifier: GPL-2.0
/*
 * oopsmod - a test-only module for tests/lane/run: it misbehaves on request
 * at load time, so the lane can prove that a kernel report fails a run.
 *   warn=1  WARN_ON(1)
 *   oops=1  a NULL pointer dereference (an oops)
 * Loaded without parameters it does nothing and loads cleanly.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/module.h>

static bool warn;
module_param(warn, bool, 0444);
MODULE_PARM_DESC(warn, "WARN_ON(1) at load");

static bool oops;
module_param(oops, bool, 0444);
MODULE_PARM_DESC(oops, "dereference a NULL pointer at load");

static int __init oopsmod_init(void)
{
	pr_info("loaded (warn=%d oops=%d)\n", warn, oops);
	WARN_ON(warn);
	if (oops) {
		int *volatile p = NULL;

		pr_info("read %d\n", READ_ONCE(*p));
	}
	return 0;
}

static void __exit oopsmod_exit(void)
{
	pr_info("unloaded\n");
}

module_init(oopsmod_init);
module_exit(oopsmod_exit);
MODULE_DESCRIPTION("memtrace lane self-test: misbehaves on request");
MODULE_LICENSE("GPL");
