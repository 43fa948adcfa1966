// SPDX-License-Identifier: GPL-2.0
/*
 * mt_squat: a test module that registers an empty generic netlink family
 * under memtrace's name, and nothing else. memtrace.ko loaded after it makes
 * /proc/memtrace, then fails to register its family (EEXIST) and must undo
 * the /proc file: suite-coverage.sh checks that the failed load leaves
 * nothing behind and that memtrace loads again once this is gone.
 */
#include <linux/module.h>
#include <net/genetlink.h>

/*
 * MEMTRACE_GENL_NAME of kmod/uapi/memtrace.h, written out: scripts/build-kmod
 * builds a copy of this directory alone. A mismatch fails the suite (memtrace
 * then loads).
 */
static struct genl_family mt_squat_family = {
	.name = "memtrace",
	.version = 1,
	.module = THIS_MODULE,
};

static int __init mt_squat_init(void)
{
	return genl_register_family(&mt_squat_family);
}

static void __exit mt_squat_exit(void)
{
	genl_unregister_family(&mt_squat_family);
}

module_init(mt_squat_init);
module_exit(mt_squat_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("memtrace test: holds the memtrace generic netlink family name");
