// SPDX-License-Identifier: GPL-2.0
/* Test-only module: its load prints one kernel WARNING (or, with leak=1, leaks memory for kmemleak), to prove run-guest.sh catches splats. */
#include <linux/module.h>
#include <linux/bug.h>
#include <linux/slab.h>

static bool leak;
module_param(leak, bool, 0444);
MODULE_PARM_DESC(leak, "leak 100 bytes instead of warning");

static int __init vmp_splat_init(void)
{
	if (leak)
		pr_info("vmp_splat: leaking %px\n", kmalloc(100, GFP_KERNEL));
	else
		WARN(1, "vmpager deliberate warning for the runner test");
	return 0;
}

static void __exit vmp_splat_exit(void)
{
}

module_init(vmp_splat_init);
module_exit(vmp_splat_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vmpager test bench: deliberate WARNING or leak on load");
