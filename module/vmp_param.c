// SPDX-License-Identifier: GPL-2.0
/*
 * The stable settings, as module parameters: given at load (insmod, modprobe,
 * modprobe.d) and writable at run time in /sys/module/vmpager/parameters/,
 * which needs neither debugfs nor a kernel without lockdown. Each reads back
 * what the module does now (policy after a switch through debugfs too):
 *
 *   policy         "fifo clock ... [adaptive]"; write a name to switch
 *   watermarks     "MIN LOW HIGH" frames; "0 0 0" turns background reclaim off
 *   readahead      swap read-ahead window, 0..VMP_RA_MAX pages
 *   ra_adaptive    0|1: the window follows read-ahead hits
 *   ra_async       0|1: a touch of a window's first page reads the next
 *   ref_source     "[faults] soft-unmap accessed both"
 *   harvest_batch  accessed-bit candidates per reclaim pass, 0..VMP_HARVEST_MAX
 *
 * The debugfs files of the same names stay (inspection, scripts); both ends
 * call the same setters. A value given at load is checked for its syntax and
 * range when it is parsed and against the pool when vmp_params_start()
 * applies it; a bad one fails the load with EINVAL and a message.
 *
 * Locking: the kernel calls every set and get with the module's parameter
 * mutex held (kernel_param_lock(THIS_MODULE)); vmp_params_start() and
 * vmp_params_stop() take it too, so "live" (the pool exists) cannot change
 * under a setter. Order: parameter mutex -> vmp_policy_lock -> pool lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

#include "vmp_internal.h"

/*
 * Values given at load, applied by vmp_params_start(); -1: not given.
 * kernel_param_lock(THIS_MODULE).
 */
static struct {
	int policy;
	bool wmarks_set;
	u32 wmarks[3];
	int readahead, ra_adaptive, ra_async, ref_source, harvest_batch;
} vmp_load = {
	.policy = -1, .readahead = -1, .ra_adaptive = -1, .ra_async = -1,
	.ref_source = -1,
	.harvest_batch = -1,
};

static bool vmp_params_live;	/* kernel_param_lock(THIS_MODULE) */

/* Every set and get runs under the module's parameter mutex. */
static void vmp_param_assert_locked(void)
{
#ifdef CONFIG_SYSFS
	lockdep_assert_held(&THIS_MODULE->param_lock);
#endif
}

const char *const vmp_ref_source_names[VMP_REF_NR] = {
	"faults", "soft-unmap", "accessed", "both",
};

/* A name from @names, blanks around it ignored: its index, or -EINVAL. */
static int vmp_param_choice(const char *val, const char *const *names, int n,
			    const char *(*name_of)(int))
{
	char buf[24], *s;
	int k;

	if (strscpy(buf, val, sizeof(buf)) < 0)
		return -EINVAL;
	s = strim(buf);
	for (k = 0; k < n; k++)
		if (!strcmp(s, names ? names[k] : name_of(k)))
			return k;
	return -EINVAL;
}

static int vmp_param_show_choice(char *buf, int cur, int n,
				 const char *const *names,
				 const char *(*name_of)(int))
{
	int k, len = 0;

	for (k = 0; k < n; k++)
		len += sysfs_emit_at(buf, len, k == cur ? "[%s]%s" : "%s%s",
				     names ? names[k] : name_of(k),
				     k == n - 1 ? "\n" : " ");
	return len;
}

static const char *vmp_policy_name_of(int k)
{
	return vmp_policy_name(k);
}

/* ---- policy ---- */

static int vmp_policy_param_set(const char *val, const struct kernel_param *kp)
{
	int kind = vmp_param_choice(val, NULL, VMP_POL_NR, vmp_policy_name_of);

	vmp_param_assert_locked();
	if (!vmp_params_live && !*skip_spaces(val)) {
		vmp_load.policy = -1;	/* "policy=": the default */
		return 0;
	}
	if (kind < 0) {
		/* at load a message says why; at run time EINVAL does */
		if (!vmp_params_live)
			pr_err("policy=%s: unknown (fifo, clock, lru, lru2, arc, lirs, sieve, s3fifo, clockpro, adaptive)\n",
			       val);
		return -EINVAL;
	}
	if (!vmp_params_live) {
		vmp_load.policy = kind;
		return 0;
	}
	return vmp_policy_switch(kind);
}

static int vmp_policy_param_get(char *buf, const struct kernel_param *kp)
{
	int cur = vmp_load.policy >= 0 ? vmp_load.policy : VMP_POLICY_DEFAULT;

	vmp_param_assert_locked();
	if (vmp_params_live) {
		down_read(&vmp_policy_lock);
		cur = vmp_pool.pol.kind;
		up_read(&vmp_policy_lock);
	}
	return vmp_param_show_choice(buf, cur, VMP_POL_NR, NULL,
				     vmp_policy_name_of);
}

static const struct kernel_param_ops vmp_policy_ops = {
	.set = vmp_policy_param_set,
	.get = vmp_policy_param_get,
};
module_param_cb(policy, &vmp_policy_ops, NULL, 0644);
MODULE_PARM_DESC(policy,
		 "replacement policy: fifo, clock, lru, lru2, arc, lirs, sieve, s3fifo, clockpro, adaptive (default adaptive); write a name to switch");

/* ---- watermarks ---- */

static int vmp_wmarks_set(const char *val, const struct kernel_param *kp)
{
	u32 w[3];
	char c;

	vmp_param_assert_locked();
	if (sscanf(val, "%u %u %u %c", &w[0], &w[1], &w[2], &c) != 3)
		return -EINVAL;
	if (!vmp_params_live) {
		/* the pool's size is checked when it exists */
		if (!(w[0] < w[1] && w[1] < w[2]) && (w[0] || w[1] || w[2]))
			return -EINVAL;
		memcpy(vmp_load.wmarks, w, sizeof(w));
		vmp_load.wmarks_set = true;
		return 0;
	}
	return vmp_watermarks_set(w[0], w[1], w[2]);
}

static int vmp_wmarks_get(char *buf, const struct kernel_param *kp)
{
	vmp_param_assert_locked();
	if (!vmp_params_live)
		return vmp_load.wmarks_set ?
		       sysfs_emit(buf, "%u %u %u\n", vmp_load.wmarks[0],
				  vmp_load.wmarks[1], vmp_load.wmarks[2]) :
		       sysfs_emit(buf, "default\n");
	return sysfs_emit(buf, "%u %u %u\n", READ_ONCE(vmp_pool.wmark_min),
			  READ_ONCE(vmp_pool.wmark_low),
			  READ_ONCE(vmp_pool.wmark_high));
}

static const struct kernel_param_ops vmp_wmarks_ops = {
	.set = vmp_wmarks_set,
	.get = vmp_wmarks_get,
};
module_param_cb(watermarks, &vmp_wmarks_ops, NULL, 0644);
MODULE_PARM_DESC(watermarks,
		 "free-frame watermarks \"MIN LOW HIGH\" (MIN < LOW < HIGH <= pool_pages/2; \"0 0 0\": no background reclaim; default 1/64, 2/64, 3/64 of the pool)");

/* ---- numbers: readahead, ra_adaptive, ra_async, harvest_batch ---- */

struct vmp_num_param {
	u32 max;
	int *load;		/* vmp_load's field */
	u32 *live_u32;		/* or */
	bool *live_bool;
};

static int vmp_num_set(const char *val, const struct kernel_param *kp)
{
	const struct vmp_num_param *np = kp->arg;
	unsigned int v;
	int ret = kstrtouint(val, 0, &v);

	vmp_param_assert_locked();
	if (ret)
		return ret;
	if (v > np->max)
		return -EINVAL;
	if (!vmp_params_live)
		*np->load = v;
	else if (np->live_bool)
		WRITE_ONCE(*np->live_bool, v);
	else
		WRITE_ONCE(*np->live_u32, v);
	return 0;
}

static int vmp_num_get(char *buf, const struct kernel_param *kp)
{
	const struct vmp_num_param *np = kp->arg;

	vmp_param_assert_locked();
	if (!vmp_params_live)
		return *np->load < 0 ? sysfs_emit(buf, "default\n") :
		       sysfs_emit(buf, "%d\n", *np->load);
	return sysfs_emit(buf, "%u\n", np->live_bool ?
			  (unsigned int)READ_ONCE(*np->live_bool) :
			  READ_ONCE(*np->live_u32));
}

static const struct kernel_param_ops vmp_num_ops = {
	.set = vmp_num_set,
	.get = vmp_num_get,
};

static struct vmp_num_param vmp_readahead_param = {
	.max = VMP_RA_MAX, .load = &vmp_load.readahead,
	.live_u32 = &vmp_pool.ra_window,
};
module_param_cb(readahead, &vmp_num_ops, &vmp_readahead_param, 0644);
MODULE_PARM_DESC(readahead, "swap read-ahead window, 0..16 pages (default 8)");

static struct vmp_num_param vmp_ra_adaptive_param = {
	.max = 1, .load = &vmp_load.ra_adaptive,
	.live_bool = &vmp_pool.ra_adaptive,
};
module_param_cb(ra_adaptive, &vmp_num_ops, &vmp_ra_adaptive_param, 0644);
MODULE_PARM_DESC(ra_adaptive,
		 "1: the read-ahead window follows read-ahead hits; 0: always the full window (default 1)");

static struct vmp_num_param vmp_ra_async_param = {
	.max = 1, .load = &vmp_load.ra_async,
	.live_bool = &vmp_pool.ra_async,
};
module_param_cb(ra_async, &vmp_num_ops, &vmp_ra_async_param, 0644);
MODULE_PARM_DESC(ra_async,
		 "1: the first touch of a read-ahead window reads the next one without waiting; 0: read-ahead only in major faults (default 1)");

static struct vmp_num_param vmp_harvest_batch_param = {
	.max = VMP_HARVEST_MAX, .load = &vmp_load.harvest_batch,
	.live_u32 = &vmp_pool.harvest_batch,
};
module_param_cb(harvest_batch, &vmp_num_ops, &vmp_harvest_batch_param, 0644);
MODULE_PARM_DESC(harvest_batch,
		 "accessed-bit candidates harvested per reclaim pass, 0..1024 (default 128)");

/* ---- ref_source ---- */

void vmp_ref_source_apply(int k)
{
	WRITE_ONCE(vmp_pool.soft_unmap, k & 1);
	WRITE_ONCE(vmp_pool.harvest, k & 2);
}

int vmp_ref_source_get(void)
{
	return (READ_ONCE(vmp_pool.soft_unmap) ? 1 : 0) |
	       (READ_ONCE(vmp_pool.harvest) ? 2 : 0);
}

static int vmp_ref_source_set(const char *val, const struct kernel_param *kp)
{
	int k = vmp_param_choice(val, vmp_ref_source_names,
				 ARRAY_SIZE(vmp_ref_source_names), NULL);

	vmp_param_assert_locked();
	if (k < 0)
		return k;
	if (!vmp_params_live)
		vmp_load.ref_source = k;
	else
		vmp_ref_source_apply(k);
	return 0;
}

static int vmp_ref_source_param_get(char *buf, const struct kernel_param *kp)
{
	int cur = vmp_params_live ? vmp_ref_source_get() :
		  vmp_load.ref_source >= 0 ? vmp_load.ref_source : 2;

	vmp_param_assert_locked();
	return vmp_param_show_choice(buf, cur, ARRAY_SIZE(vmp_ref_source_names),
				     vmp_ref_source_names, NULL);
}

static const struct kernel_param_ops vmp_ref_source_ops = {
	.set = vmp_ref_source_set,
	.get = vmp_ref_source_param_get,
};
module_param_cb(ref_source, &vmp_ref_source_ops, NULL, 0644);
MODULE_PARM_DESC(ref_source,
		 "where references come from besides faults: faults, soft-unmap, accessed, both (default accessed)");

/* ---- load and unload ---- */

int vmp_params_policy(void)
{
	return vmp_load.policy >= 0 ? vmp_load.policy : VMP_POLICY_DEFAULT;
}

/*
 * The pool exists (vmp_reclaim_init() has set the defaults): apply what was
 * given at load, then let the parameters act on the module directly.
 */
int vmp_params_start(void)
{
	int ret = 0;

	kernel_param_lock(THIS_MODULE);
	/* a write to policy between vmp_policy_setup() and now */
	if (vmp_load.policy >= 0 && vmp_load.policy != vmp_pool.pol.kind) {
		ret = vmp_policy_switch(vmp_load.policy);
		if (ret)
			goto out;
	}
	if (vmp_load.wmarks_set) {
		ret = vmp_watermarks_set(vmp_load.wmarks[0], vmp_load.wmarks[1],
					 vmp_load.wmarks[2]);
		if (ret) {
			pr_err("watermarks=%u %u %u: needs MIN < LOW < HIGH <= pool_pages/2 (%u), or 0 0 0\n",
			       vmp_load.wmarks[0], vmp_load.wmarks[1],
			       vmp_load.wmarks[2], vmp_pool.nframes / 2);
			goto out;
		}
	}
	if (vmp_load.readahead >= 0)
		WRITE_ONCE(vmp_pool.ra_window, vmp_load.readahead);
	if (vmp_load.ra_adaptive >= 0)
		WRITE_ONCE(vmp_pool.ra_adaptive, vmp_load.ra_adaptive);
	if (vmp_load.ra_async >= 0)
		WRITE_ONCE(vmp_pool.ra_async, vmp_load.ra_async);
	if (vmp_load.harvest_batch >= 0)
		WRITE_ONCE(vmp_pool.harvest_batch, vmp_load.harvest_batch);
	if (vmp_load.ref_source >= 0)
		vmp_ref_source_apply(vmp_load.ref_source);
	vmp_params_live = true;
out:
	kernel_param_unlock(THIS_MODULE);
	return ret;
}

/* Before the pool goes: the parameters hold values again. */
void vmp_params_stop(void)
{
	kernel_param_lock(THIS_MODULE);
	vmp_params_live = false;
	kernel_param_unlock(THIS_MODULE);
}
