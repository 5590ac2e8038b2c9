// SPDX-License-Identifier: GPL-2.0
/*
 * vmpager swap: slots on files, and the in-kernel I/O backend.
 *
 * Files: the swapfile= module parameter names one or more files (comma
 * separated). Each is opened O_DIRECT when its filesystem allows (regular
 * files on ext4/xfs..., block devices) and buffered otherwise (tmpfs), must
 * not be accessible to group or others, and is preallocated with
 * vfs_fallocate() to swap_pages pages, because extending direct writes are
 * synchronous on ext4. Their slots are concatenated: slot s lives in the file
 * whose [first, first + nslots) holds it, at offset (s - first) pages.
 *
 * Slots: a bitmap with a next-fit cursor, so that consecutive evictions get
 * consecutive slots and the writes form sequential runs ("clustering").
 *
 * I/O: each page moves with one kiocb over a one-entry bio_vec iterator on
 * the pool page itself (zero copy), submitted with vfs_iocb_iter_read/write
 * and a ki_complete callback: asynchronous direct I/O where the file allows
 * it, completing inline otherwise. A batch counts its I/Os in flight and the
 * submitter sleeps until the last completes; completions only record the
 * result and wake it, so they are safe in interrupt context.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bvec.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uio.h>

#include "vmp_internal.h"

struct vmp_swap vmp_swap;

static int vmp_swap_open_one(const char *path, u32 npages)
{
	struct vmp_swap_file *sf = &vmp_swap.files[vmp_swap.nfiles];
	int flags = O_RDWR | O_CREAT | O_LARGEFILE | O_NOATIME;
	struct file *file;
	struct inode *inode;
	loff_t size = (loff_t)npages << PAGE_SHIFT;

	/* slots are u32; VMP_NIL (~0) is never a slot */
	if ((u64)vmp_swap.nslots + npages >= VMP_NIL) {
		pr_err("swap file %s: more than 2^32 - 1 slots in all\n", path);
		return -E2BIG;
	}
	bool direct = true;
	int ret;

	file = filp_open(path, flags | O_DIRECT, 0600);
	if (IS_ERR(file) && PTR_ERR(file) == -EINVAL) {
		direct = false;
		file = filp_open(path, flags, 0600);
	}
	if (IS_ERR(file)) {
		pr_err("swap file %s: open failed (%ld)\n", path, PTR_ERR(file));
		return PTR_ERR(file);
	}
	inode = file_inode(file);
	ret = -EINVAL;
	if (!S_ISREG(inode->i_mode) && !S_ISBLK(inode->i_mode)) {
		pr_err("swap file %s: not a regular file or block device\n", path);
		goto close;
	}
	ret = -EACCES;
	if (inode->i_mode & 0077) {
		pr_err("swap file %s: mode %04o lets others read swapped pages; chmod 600 it\n",
		       path, inode->i_mode & 07777);
		goto close;
	}
	if (S_ISREG(inode->i_mode)) {
		ret = vfs_fallocate(file, 0, 0, size);
		if (ret) {
			pr_err("swap file %s: preallocating %lld bytes failed (%d)\n",
			       path, size, ret);
			goto close;
		}
	} else if (i_size_read(file->f_mapping->host) < size) {
		npages = i_size_read(file->f_mapping->host) >> PAGE_SHIFT;
	}
	sf->file = file;
	sf->first = vmp_swap.nslots;
	sf->nslots = npages;
	sf->direct = direct;
	vmp_swap.nslots += npages;
	vmp_swap.nfiles++;
	pr_info("swap file %s: %u slots, %s I/O\n", path, npages,
		direct ? "direct" : "buffered (no O_DIRECT on this filesystem)");
	return 0;

close:
	filp_close(file, NULL);
	return ret;
}

int vmp_swap_init(const char *paths, u32 pages_per_file)
{
	char *buf, *cur, *path;
	int ret = 0;

	spin_lock_init(&vmp_swap.lock);
	if (!paths || !*paths)
		return 0;
	buf = kstrdup(paths, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	cur = buf;
	while ((path = strsep(&cur, ",")) != NULL) {
		if (!*path)
			continue;
		if (vmp_swap.nfiles == VMP_MAX_SWAPFILES) {
			pr_err("at most %d swap files\n", VMP_MAX_SWAPFILES);
			ret = -E2BIG;
			break;
		}
		ret = vmp_swap_open_one(path, pages_per_file);
		if (ret)
			break;
	}
	kfree(buf);
	if (!ret && vmp_swap.nslots) {
		vmp_swap.bitmap = bitmap_zalloc(vmp_swap.nslots, GFP_KERNEL);
		if (!vmp_swap.bitmap)
			ret = -ENOMEM;
	}
	if (ret)
		vmp_swap_exit();
	return ret;
}

void vmp_swap_exit(void)
{
	int i;

	WARN_ON_ONCE(vmp_swap.used);
	for (i = 0; i < vmp_swap.nfiles; i++)
		filp_close(vmp_swap.files[i].file, NULL);
	vmp_swap.nfiles = 0;
	vmp_swap.nslots = 0;
	bitmap_free(vmp_swap.bitmap);
	vmp_swap.bitmap = NULL;
}

int vmp_slot_alloc(u32 *slot)
{
	unsigned long s;

	spin_lock(&vmp_swap.lock);
	if (vmp_swap.used == vmp_swap.nslots) {
		spin_unlock(&vmp_swap.lock);
		vmp_count(VMPAGER_STAT_swap_full);
		return -ENOSPC;
	}
	s = find_next_zero_bit(vmp_swap.bitmap, vmp_swap.nslots,
			       vmp_swap.cursor);
	if (s >= vmp_swap.nslots)
		s = find_first_zero_bit(vmp_swap.bitmap, vmp_swap.nslots);
	__set_bit(s, vmp_swap.bitmap);
	vmp_swap.used++;
	vmp_swap.cursor = s + 1;
	spin_unlock(&vmp_swap.lock);
	*slot = s;
	return 0;
}

void vmp_slot_free(u32 slot)
{
	spin_lock(&vmp_swap.lock);
	if (!WARN_ON_ONCE(slot >= vmp_swap.nslots ||
			  !test_bit(slot, vmp_swap.bitmap))) {
		__clear_bit(slot, vmp_swap.bitmap);
		vmp_swap.used--;
	}
	spin_unlock(&vmp_swap.lock);
}

/* ---- batched asynchronous I/O ---- */

void vmp_batch_init(struct vmp_batch *b)
{
	atomic_set(&b->pending, 1);	/* the submitter's own count */
	init_completion(&b->done);
}

static void vmp_io_complete(struct kiocb *iocb, long ret)
{
	struct vmp_io *io = container_of(iocb, struct vmp_io, iocb);
	struct vmp_batch *b = io->batch;

	io->result = ret == PAGE_SIZE ? 0 : (ret < 0 ? ret : -EIO);
	/* pairs with the atomic_dec_and_test in vmp_batch_wait() */
	if (atomic_dec_and_test(&b->pending))
		complete(&b->done);
}

/* Fault injection: debugfs fail_reads / fail_writes. */
static bool vmp_inject(atomic_t *budget)
{
	return atomic_add_unless(budget, -1, 0);
}

void vmp_io_submit(struct vmp_batch *b, struct vmp_io *io, int rw)
{
	struct vmp_swap_file *sf = NULL;
	struct iov_iter iter;
	ssize_t ret;
	int i;

	io->batch = b;
	atomic_inc(&b->pending);
	for (i = 0; i < vmp_swap.nfiles; i++) {
		if (io->slot - vmp_swap.files[i].first < vmp_swap.files[i].nslots) {
			sf = &vmp_swap.files[i];
			break;
		}
	}
	if (WARN_ON_ONCE(!sf)) {
		ret = -EIO;
		goto inline_done;
	}
	if (vmp_inject(rw == WRITE ? &vmp_swap.fail_writes :
		       &vmp_swap.fail_reads)) {
		ret = -EIO;
		goto inline_done;
	}
	io->bv.bv_page = io->page;
	io->bv.bv_len = PAGE_SIZE;
	io->bv.bv_offset = 0;
	iov_iter_bvec(&iter, rw, &io->bv, 1, PAGE_SIZE);
	init_sync_kiocb(&io->iocb, sf->file);
	io->iocb.ki_pos = (loff_t)(io->slot - sf->first) << PAGE_SHIFT;
	io->iocb.ki_complete = vmp_io_complete;
	if (rw == WRITE) {
		file_start_write(sf->file);
		ret = vfs_iocb_iter_write(sf->file, &io->iocb, &iter);
		file_end_write(sf->file);
	} else {
		ret = vfs_iocb_iter_read(sf->file, &io->iocb, &iter);
	}
	if (ret == -EIOCBQUEUED)
		return;		/* vmp_io_complete() will run */
inline_done:
	vmp_io_complete(&io->iocb, ret);
}

void vmp_batch_wait(struct vmp_batch *b)
{
	if (!atomic_dec_and_test(&b->pending))
		wait_for_completion(&b->done);
}
