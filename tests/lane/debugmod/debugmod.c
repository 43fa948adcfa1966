// SPDX-License-Identifier: GPL-2.0
/*
 * debugmod - a test-only module for tests/lane/debug: at load time it commits
 * the bug its parameter names, so the lane can prove that each detector of
 * the debug kernel (scripts/debug-kernel.config) reports it and that the
 * report fails the run.
 *   oob=1          read one byte past a kmalloc'ed object      (KASAN)
 *   uaf=1          read a kfree'd object                       (KASAN)
 *   kfence=1       read past an object KFENCE sampled          (KFENCE)
 *   ubsan=1        index an array member past its end          (UBSAN bounds)
 *   lockdep=1      take two mutexes in both orders             (lockdep)
 *   atomic_sleep=1 might_sleep() under a spinlock              (DEBUG_ATOMIC_SLEEP)
 *   leak=1         lose a kmalloc'ed object                    (kmemleak, on scan)
 * Loaded without parameters it does nothing and loads cleanly. The indexes
 * come from a module parameter, so the compiler cannot see the bugs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compiler.h>
#include <linux/delay.h>
#include <linux/kfence.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#define DEBUGMOD_BUG(name, what)                                     \
	static bool name;                                            \
	module_param(name, bool, 0444);                              \
	MODULE_PARM_DESC(name, what)

DEBUGMOD_BUG(oob, "read past a kmalloc'ed object (KASAN)");
DEBUGMOD_BUG(uaf, "read a freed object (KASAN)");
DEBUGMOD_BUG(kfence, "read past a KFENCE-sampled object (KFENCE)");
DEBUGMOD_BUG(ubsan, "index an array past its end (UBSAN)");
DEBUGMOD_BUG(lockdep, "AB-BA mutex order (lockdep)");
DEBUGMOD_BUG(atomic_sleep, "might_sleep() in atomic context");
DEBUGMOD_BUG(leak, "leak a kmalloc'ed object (kmemleak)");

/* The object size, and where the bad accesses go (relative to it). */
static unsigned int size = 32;
module_param(size, uint, 0444);
MODULE_PARM_DESC(size, "size of the objects (default 32)");

static DEFINE_MUTEX(debugmod_a);
static DEFINE_MUTEX(debugmod_b);
static DEFINE_SPINLOCK(debugmod_lock);

struct debugmod_arr {
	int arr[4];
	int after;
};

/*
 * A kmalloc()ed object from the slab, never one KFENCE sampled: KASAN does
 * not check KFENCE's objects, and reading past one that KFENCE put at the
 * start of its page reads its canary, which nothing reports. KFENCE samples
 * at most one allocation per kfence.sample_interval (100 ms), so a second
 * try is almost always from the slab; the sampled ones are kept until then,
 * so that each try is a new object.
 */
static char *debugmod_slab_object(void)
{
	char *kept[4], *p = NULL;
	unsigned int n = 0, i;

	while (n < ARRAY_SIZE(kept)) {
		p = kmalloc(size, GFP_KERNEL);
		if (!p || !is_kfence_address(p))
			break;
		kept[n++] = p;
		p = NULL;
	}
	for (i = 0; i < n; i++)
		kfree(kept[i]);
	if (n)
		pr_info("KFENCE sampled %u object(s) first\n", n);
	if (!p)
		pr_err("no slab object of %u bytes (%u sampled by KFENCE)\n", size, n);
	return p;
}

static int debugmod_oob(void)
{
	char *p = debugmod_slab_object();

	if (!p)
		return -ENOMEM;
	pr_info("oob: reading byte %u of a %u-byte object\n", size, size);
	pr_info("oob: read %d\n", READ_ONCE(p[size]));
	kfree(p);
	return 0;
}

static int debugmod_uaf(void)
{
	char *p = debugmod_slab_object();

	if (!p)
		return -ENOMEM;
	kfree(p);
	pr_info("uaf: reading a freed object\n");
	pr_info("uaf: read %d\n", READ_ONCE(p[0]));
	return 0;
}

static int debugmod_kfence(void)
{
	unsigned int i;
	char *p, *q;

	/* Allocate until KFENCE samples one (kfence.sample_interval=100). */
	for (i = 0; i < 1000; i++) {
		p = kmalloc(size, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		if (is_kfence_address(p))
			break;
		kfree(p);
		p = NULL;
		msleep(20);
	}
	if (!p) {
		pr_err("kfence: no object sampled in %u tries\n", i);
		return -EAGAIN;
	}
	/*
	 * KFENCE puts the object at the start or at the end of its page,
	 * between guard pages: read the guard byte next to it.
	 */
	if (offset_in_page(p) == 0)
		q = p - 1;
	else
		q = (char *)PAGE_ALIGN((unsigned long)p + size);
	pr_info("kfence: sampled after %u tries, reading byte %td of it\n", i, q - p);
	pr_info("kfence: read %d\n", READ_ONCE(*q));
	kfree(p);
	return 0;
}

static int debugmod_ubsan(void)
{
	struct debugmod_arr s = { .after = 0 };
	unsigned int i = size / 8;	/* 4 with the default size */
	int val;

	/*
	 * A plain s.arr[i]: -fsanitize=bounds checks the index of an array
	 * access, not a dereference through &s.arr[i] (as READ_ONCE() does).
	 */
	pr_info("ubsan: reading arr[%u] of an int[4]\n", i);
	val = s.arr[i];
	pr_info("ubsan: read %d\n", val);
	return 0;
}

static int debugmod_lockdep(void)
{
	pr_info("lockdep: taking a then b, then b then a\n");
	mutex_lock(&debugmod_a);
	mutex_lock(&debugmod_b);
	mutex_unlock(&debugmod_b);
	mutex_unlock(&debugmod_a);
	mutex_lock(&debugmod_b);
	mutex_lock(&debugmod_a);
	mutex_unlock(&debugmod_a);
	mutex_unlock(&debugmod_b);
	return 0;
}

static int debugmod_atomic_sleep(void)
{
	pr_info("atomic_sleep: might_sleep() under a spinlock\n");
	spin_lock(&debugmod_lock);
	might_sleep();
	spin_unlock(&debugmod_lock);
	return 0;
}

static int debugmod_leak(void)
{
	char *p = kmalloc(size, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	memset(p, 0x6b, size);
	pr_info("leak: lost a %u-byte object\n", size);
	/* Forget the address: only kmemleak can find the object now. */
	p = NULL;
	return 0;
}

static int __init debugmod_init(void)
{
	int ret = 0;

	pr_info("loaded\n");
	if (!ret && oob)
		ret = debugmod_oob();
	if (!ret && uaf)
		ret = debugmod_uaf();
	if (!ret && kfence)
		ret = debugmod_kfence();
	if (!ret && ubsan)
		ret = debugmod_ubsan();
	if (!ret && lockdep)
		ret = debugmod_lockdep();
	if (!ret && atomic_sleep)
		ret = debugmod_atomic_sleep();
	if (!ret && leak)
		ret = debugmod_leak();
	return ret;
}

static void __exit debugmod_exit(void)
{
	pr_info("unloaded\n");
}

module_init(debugmod_init);
module_exit(debugmod_exit);
MODULE_DESCRIPTION("memtrace debug lane self-test: commits a bug on request");
MODULE_LICENSE("GPL");
