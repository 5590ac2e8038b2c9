// SPDX-License-Identifier: GPL-2.0
/* Test-only module: its load prints one kernel WARNING, to prove run-guest.sh catches splats. */
#include <linux/module.h>
#include <linux/bug.h>

static int __init vmp_splat_init(void)
{
	WARN(1, "vmpager deliberate warning for the runner test");
	return 0;
}

static void __exit vmp_splat_exit(void)
{
}

module_init(vmp_splat_init);
module_exit(vmp_splat_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vmpager test bench: deliberate WARNING on load");
