// SPDX-License-Identifier: GPL-2.0
/*
 * vmpager: a paging system in a module. /dev/vmpager hands out memory
 * objects whose pages live in a module-private pool of frames.
 *
 * This file holds the module parameters, the statistics, the character
 * device (open = new object, mmap, ioctls) and module init/exit.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <linux/uaccess.h>

#include "vmp_internal.h"

#define VMPAGER_FS_MAGIC	0x766d7067	/* "vmpg" */
#define VMP_MAX_OBJ_PAGES	((unsigned long)U32_MAX)	/* frame index is u32 */

/* ---- parameters ---- */

unsigned int vmp_pool_pages = 4096;
module_param_named(pool_pages, vmp_pool_pages, uint, 0444);
MODULE_PARM_DESC(pool_pages,
		 "frames taken for the pool at load (32..2^28; default 4096 = 16 MiB)");

unsigned long vmp_max_obj_pages = 262144;

static int vmp_set_max_obj_pages(const char *val, const struct kernel_param *kp)
{
	unsigned long v;
	int ret = kstrtoul(val, 0, &v);

	if (ret)
		return ret;
	if (!v || v > VMP_MAX_OBJ_PAGES)
		return -EINVAL;
	WRITE_ONCE(vmp_max_obj_pages, v);
	return 0;
}

static const struct kernel_param_ops vmp_max_obj_pages_ops = {
	.set = vmp_set_max_obj_pages,
	.get = param_get_ulong,
};
module_param_cb(max_obj_pages, &vmp_max_obj_pages_ops, &vmp_max_obj_pages, 0644);
MODULE_PARM_DESC(max_obj_pages,
		 "largest object, in pages, for objects opened afterwards (1..2^32-1; default 262144 = 1 GiB)");

static char *vmp_swapfile;
module_param_named(swapfile, vmp_swapfile, charp, 0444);
MODULE_PARM_DESC(swapfile,
		 "swap files, comma separated (created mode 0600 and preallocated); none: no swap");

static unsigned int vmp_swap_pages;
module_param_named(swap_pages, vmp_swap_pages, uint, 0444);
MODULE_PARM_DESC(swap_pages,
		 "slots per swap file, in pages (default 4 * pool_pages)");

/* ---- statistics ---- */

struct vmp_stats __percpu *vmp_stats;

/* Sum the per-cpu counters into @out; the buddy and the policy keep theirs. */
void vmp_stats_snapshot(u64 out[VMPAGER_NR_STATS])
{
	unsigned int i, cpu;

	for (i = 0; i < VMPAGER_NR_STATS; i++)
		out[i] = 0;
	for_each_possible_cpu(cpu) {
		struct vmp_stats *s = per_cpu_ptr(vmp_stats, cpu);

		for (i = 0; i < VMPAGER_NR_STATS; i++)
			out[i] += READ_ONCE(s->v[i]);
	}
	/* these count under the pool lock themselves */
	spin_lock(&vmp_pool.lock);
	out[VMPAGER_STAT_buddy_splits] = vmp_pool.buddy.splits;
	out[VMPAGER_STAT_buddy_merges] = vmp_pool.buddy.merges;
	out[VMPAGER_STAT_activations] = vmp_pol_stat(activations);
	out[VMPAGER_STAT_deactivations] = vmp_pol_stat(deactivations);
	out[VMPAGER_STAT_refaults] = vmp_pol_stat(refaults);
	spin_unlock(&vmp_pool.lock);
}

void vmp_stats_reset(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(vmp_stats, cpu), 0, sizeof(struct vmp_stats));
	spin_lock(&vmp_pool.lock);
	vmp_pool.buddy.splits = 0;
	vmp_pool.buddy.merges = 0;
	memset(&vmp_pool.pol.stats, 0, sizeof(vmp_pool.pol.stats));
	if (vmp_pool.pol_next)
		memset(&vmp_pool.pol_next->stats, 0,
		       sizeof(vmp_pool.pol_next->stats));
	spin_unlock(&vmp_pool.lock);
}

/* ---- the pseudo filesystem that gives each object its own inode ---- */

static int vmp_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, VMPAGER_FS_MAGIC) ? 0 : -ENOMEM;
}

/* .owner stays NULL: the pinned superblock must not pin the module */
static struct file_system_type vmp_fs_type = {
	.name = "vmpager",
	.init_fs_context = vmp_init_fs_context,
	.kill_sb = kill_anon_super,
};

static struct vfsmount *vmp_mnt;
static int vmp_mnt_count;

/* ---- the device ---- */

static int vmp_open(struct inode *inode, struct file *file)
{
	struct vmp_obj *obj = vmp_obj_create(vmp_mnt->mnt_sb);

	if (IS_ERR(obj))
		return PTR_ERR(obj);
	file->private_data = obj;
	file->f_mapping = obj->mapping;
	return 0;
}

static int vmp_release(struct inode *inode, struct file *file)
{
	struct vmp_obj *obj = file->private_data;

	vmp_srv_release(file);
	/* a file-backed object's dirty pages go to its file (errors: counted, logged) */
	if (obj->backing)
		vmp_file_writeback(obj, 0, ULONG_MAX, true);
	vmp_obj_destroy(obj);
	return 0;
}

static int vmp_mmap(struct file *file, struct vm_area_struct *vma)
{
	/* a server faulting on its own device could wait on itself */
	if (vmp_srv_is_server_mm(current->mm))
		return -EPERM;
	return vmp_obj_mmap(file->private_data, vma);
}

static void vmp_global_info(struct vmpager_global_info *gi)
{
	unsigned int k;

	memset(gi, 0, sizeof(*gi));
	spin_lock(&vmp_pool.lock);
	gi->pool_pages = vmp_pool.nframes;
	gi->free_pages = vmp_pool.buddy.free_pages;
	gi->resident_pages = vmp_pool.resident;
	gi->orphaned_pages = vmp_pool.orphaned;
	for (k = 0; k < VMPAGER_NR_ORDERS; k++)
		gi->nr_free[k] = vmp_pool.buddy.nr_free[k];
	spin_unlock(&vmp_pool.lock);
	gi->frame_meta_bytes = vmp_frame_meta_bytes();
	gi->max_obj_pages = READ_ONCE(vmp_max_obj_pages);
	mutex_lock(&vmp_objs_lock);
	gi->nr_objects = vmp_nr_objs;
	mutex_unlock(&vmp_objs_lock);
	BUILD_BUG_ON(VMPAGER_NR_STATS > VMPAGER_STATS_MAX);
	gi->nr_stats = VMPAGER_NR_STATS;
	vmp_stats_snapshot(gi->stats);
}

static long vmp_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VMPAGER_IOC_VERSION: {
		struct vmpager_version v = {
			.major = VMPAGER_VERSION_MAJOR,
			.minor = VMPAGER_VERSION_MINOR,
			.page_size = PAGE_SIZE,
			.max_order = VMPAGER_MAX_ORDER,
		};

		return copy_to_user(uarg, &v, sizeof(v)) ? -EFAULT : 0;
	}
	case VMPAGER_IOC_OBJ_INFO: {
		struct vmpager_obj_info info;

		vmp_obj_info(file->private_data, &info);
		return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
	}
	case VMPAGER_IOC_GLOBAL_INFO: {
		struct vmpager_global_info *gi;
		long ret = 0;

		gi = kmalloc(sizeof(*gi), GFP_KERNEL);
		if (!gi)
			return -ENOMEM;
		vmp_global_info(gi);
		if (copy_to_user(uarg, gi, sizeof(*gi)))
			ret = -EFAULT;
		kfree(gi);
		return ret;
	}
	case VMPAGER_IOC_RESET_STATS:
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		vmp_stats_reset();
		return 0;
	case VMPAGER_IOC_SWAP_ADD: {
		struct vmpager_swap_add sa;

		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		if (copy_from_user(&sa, uarg, sizeof(sa)))
			return -EFAULT;
		if (sa.flags || sa.reserved[0] || sa.reserved[1])
			return -EINVAL;
		return vmp_swap_add_fd(sa.fd, sa.pages);
	}
	case VMPAGER_IOC_SRV_ATTACH: {
		struct vmpager_srv_attach sa;

		if (copy_from_user(&sa, uarg, sizeof(sa)))
			return -EFAULT;
		return vmp_srv_attach(file, &sa);
	}
	case VMPAGER_IOC_SRV_DETACH:
		return vmp_srv_detach(file);
	case VMPAGER_IOC_MAP_FILE: {
		struct vmpager_map_file mf;

		if (copy_from_user(&mf, uarg, sizeof(mf)))
			return -EFAULT;
		return vmp_file_bind(file->private_data, &mf);
	}
	case VMPAGER_IOC_COPY: {
		struct vmpager_copy cp;

		if (copy_from_user(&cp, uarg, sizeof(cp)))
			return -EFAULT;
		return vmp_obj_copy(file->private_data, &cp);
	}
	default:
		return -ENOTTY;
	}
}

static const struct file_operations vmp_fops = {
	.owner = THIS_MODULE,
	.open = vmp_open,
	.release = vmp_release,
	.mmap = vmp_mmap,
	.fsync = vmp_file_fsync,
	.uring_cmd = vmp_uring_cmd,
	.unlocked_ioctl = vmp_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

const struct file_operations *vmp_misc_fops(void)
{
	return &vmp_fops;
}

static struct miscdevice vmp_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vmpager",
	.fops = &vmp_fops,
	.mode = 0600,
};

static int __init vmp_init(void)
{
	int kind = vmp_params_policy();	/* policy=, checked when parsed */
	int ret;

	vmp_stats = alloc_percpu(struct vmp_stats);
	if (!vmp_stats)
		return -ENOMEM;
	ret = vmp_pool_init(vmp_pool_pages);
	if (ret)
		goto free_stats;
	ret = vmp_policy_setup(kind);
	if (ret)
		goto exit_pool;
	ret = vmp_swap_init(vmp_swapfile,
			    vmp_swap_pages ? vmp_swap_pages : 4 * vmp_pool_pages);
	if (ret)
		goto exit_pool;
	ret = vmp_reclaim_init();
	if (ret)
		goto exit_swap;
	ret = vmp_params_start();
	if (ret)
		goto exit_reclaim;
	ret = simple_pin_fs(&vmp_fs_type, &vmp_mnt, &vmp_mnt_count);
	if (ret)
		goto exit_params;
	vmp_debugfs_init();
	ret = misc_register(&vmp_misc);
	if (ret)
		goto exit_debugfs;
	pr_info("ready: /dev/vmpager, policy %s, %u swap slots, max_obj_pages=%lu\n",
		vmp_policy_name(kind), READ_ONCE(vmp_swap.nslots), vmp_max_obj_pages);
	return 0;

exit_debugfs:
	vmp_debugfs_exit();
	simple_release_fs(&vmp_mnt, &vmp_mnt_count);
exit_params:
	vmp_params_stop();
exit_reclaim:
	vmp_reclaim_exit();
exit_swap:
	vmp_swap_exit();
exit_pool:
	vmp_pool_exit();
free_stats:
	free_percpu(vmp_stats);
	return ret;
}

static void __exit vmp_exit(void)
{
	misc_deregister(&vmp_misc);
	vmp_debugfs_exit();
	simple_release_fs(&vmp_mnt, &vmp_mnt_count);
	vmp_params_stop();
	vmp_reclaim_exit();
	vmp_io_drain();		/* a worker may still be unlocking a frame */
	vmp_pool_exit();
	vmp_swap_exit();
	free_percpu(vmp_stats);
}

module_init(vmp_init);
module_exit(vmp_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vmpager: demand paging from a private, buddy-managed page pool");
MODULE_AUTHOR("The vmpager developers");
#ifndef VMPAGER_RELEASE
#error "VMPAGER_RELEASE is set by Kbuild from dkms.conf"
#endif
MODULE_VERSION(VMPAGER_RELEASE);
