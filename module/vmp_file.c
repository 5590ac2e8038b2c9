// SPDX-License-Identifier: GPL-2.0
/*
 * File-backed objects (VMPAGER_IOC_MAP_FILE): an object bound to a byte
 * range of a regular file. The pool holds its pages as it holds anonymous
 * ones, under the same policy; what differs is where a page lives when it
 * is not in a frame:
 *
 *   anonymous object:   no entry = zero page, value entry = swap slot
 *   file-backed object: no entry = the file's bytes, never a swap slot
 *
 * A fault on an absent page reads it from the file (with read-ahead of the
 * absent pages after it, vmp_obj.c); eviction drops a clean page and writes
 * a dirty one back first (vmp_reclaim.c); fsync/msync(MS_SYNC) of the
 * object and its release write back every dirty page (here). A page is
 * dirtied through ->page_mkwrite, and write-protected in every mapping with
 * folio_mkclean() before it is written back, so a write during or after
 * the write-back dirties it again.
 *
 * Where the file allows it, its pages are read and written with bios to
 * its blocks, as swap's are (vmp_bio_file_map(); the inode is S_SWAPFILE
 * while any object does so: write(2) and shrinking fail with ETXTBSY).
 * Otherwise the file's I/O runs in the vmpager_io worker
 * (vmp_file_io_submit() in vmp_swap.c), through the file's page cache: the
 * file's locks are never taken by a faulting task, and read(2) of the file
 * sees a page once it is written back. Writes to the file through write(2)
 * while its pages are resident here are not seen by the mapping (as with
 * Umap; docs/design.md).
 *
 * Locking: obj->backing is set once under obj->lock while nothing maps the
 * object and no page is in it, then never changes until the object is
 * destroyed (its extents too: mapped before it is published); mmap reads
 * it under obj->lock, faults (which need a mapping) and reclaim (which
 * needs a page) without a lock. Write-back takes page
 * locks with lock_page() and no vmpager lock held.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/rmap.h>
#include <linux/slab.h>

#include "vmp_internal.h"

/* Bytes of page @index that belong to the file range. */
u32 vmp_file_page_len(const struct vmp_backing *fb, pgoff_t index)
{
	u64 start = (u64)index << PAGE_SHIFT;

	if (start >= fb->length)
		return 0;
	return min_t(u64, PAGE_SIZE, fb->length - start);
}

/*
 * Every bound file, so that S_SWAPFILE is set only on an inode no object
 * reaches through its page cache, and cleared when the last object that
 * reads it with bios goes. Taken before the inode's lock.
 */
static DEFINE_MUTEX(vmp_bound_lock);
static LIST_HEAD(vmp_bound);

/* Is @inode bound to an object (VMPAGER_IOC_SWAP_ADD refuses it)? */
bool vmp_file_uses_inode(struct inode *inode)
{
	struct vmp_backing *o;
	bool found = false;

	mutex_lock(&vmp_bound_lock);
	list_for_each_entry(o, &vmp_bound, node)
		found |= file_inode(o->file) == inode;
	mutex_unlock(&vmp_bound_lock);
	return found;
}

/*
 * Choose @fb's I/O and list it. Bios (vmp_bio_file_map()) only for a caller
 * with CAP_SYS_RAWIO (a bio to the file's blocks is raw device access: the
 * blocks are found with bmap(), which FIBMAP keeps to that capability, and
 * a racing fallocate could free them between its check of S_SWAPFILE and
 * its punch) through an fd open for writing (S_SWAPFILE locks the file's
 * writers out, which someone who may only read it must not do). An inode
 * some object reaches through its page cache gets no bios; one that some
 * object reads with bios: bios again for such a caller (refused with
 * ETXTBSY if this range cannot have them), the page cache for a read-only
 * object, ETXTBSY for anyone else (its writes to the file would fail).
 * Returns 0 or -errno.
 */
static int vmp_file_io_setup(struct vmp_backing *fb, u32 flags)
{
	struct inode *inode = file_inode(fb->file);
	unsigned int bio_users = 0, others = 0;
	const char *why;
	struct vmp_backing *o;
	bool may_bio;
	int ret = 0;

	why = "VMPAGER_FILE_CACHED";
	may_bio = !(flags & VMPAGER_FILE_CACHED);
	if (may_bio && !(fb->file->f_mode & FMODE_WRITE)) {
		why = "the fd is not open for writing";
		may_bio = false;
	}
	/* not audited: a caller without it simply gets the page cache */
	if (may_bio && !ns_capable_noaudit(&init_user_ns, CAP_SYS_RAWIO)) {
		why = "the caller lacks CAP_SYS_RAWIO";
		may_bio = false;
	}
	mutex_lock(&vmp_bound_lock);
	list_for_each_entry(o, &vmp_bound, node) {
		if (file_inode(o->file) != inode)
			continue;
		others++;
		bio_users += !!o->ext;
	}
	if (bio_users) {
		if (!may_bio && !fb->ro) {
			ret = -ETXTBSY;	/* its writes to the file would fail */
			goto out;
		}
		if (!may_bio)
			goto cached;
		ret = vmp_bio_file_map(fb, false, &why);
		if (ret > 0 && fb->ro) {
			ret = 0;	/* not this range: a reader does without */
			goto cached;
		}
		if (ret > 0)
			ret = -ETXTBSY;	/* not this range: it could not be written */
		if (ret)
			goto out;
		goto add;
	}
	if (IS_SWAPFILE(inode)) {
		ret = -ETXTBSY;		/* swapon got there since the check */
		goto out;
	}
	if (may_bio && others) {
		why = "another object of the file goes through its page cache";
		may_bio = false;
	}
	if (!may_bio)
		goto cached;
	ret = vmp_bio_file_map(fb, true, &why);
	if (ret < 0)
		goto out;
	if (ret > 0) {
		ret = 0;
		goto cached;
	}
add:
	vmp_count(VMPAGER_STAT_file_binds_bio);
	list_add(&fb->node, &vmp_bound);
	goto out;
cached:
	pr_debug("bound file %pD: through its page cache: %s\n", fb->file,
		 why);
	list_add(&fb->node, &vmp_bound);
out:
	mutex_unlock(&vmp_bound_lock);
	return ret;
}

/* Bios wrote @fb's file since the last call: its times, as write(2) sets. */
static void vmp_file_bio_touch(struct vmp_backing *fb)
{
	if (!fb->ext || !atomic_xchg(&fb->bio_written, 0))
		return;
	file_start_write(fb->file);
	file_update_time(fb->file);
	file_end_write(fb->file);
}

/* Undo vmp_file_io_setup() once no I/O of @fb is left. */
static void vmp_file_io_release(struct vmp_backing *fb)
{
	struct inode *inode = file_inode(fb->file);
	struct vmp_backing *o;
	bool last = true;

	vmp_file_bio_touch(fb);
	mutex_lock(&vmp_bound_lock);
	list_del(&fb->node);
	list_for_each_entry(o, &vmp_bound, node)
		last &= !(o->ext && file_inode(o->file) == inode);
	vmp_bio_file_unmap(fb, last);
	mutex_unlock(&vmp_bound_lock);
}

int vmp_file_bind(struct vmp_obj *obj, const struct vmpager_map_file *mf)
{
	struct vmp_backing *fb;
	struct file *file;
	struct inode *inode;
	u64 end;
	int ret;

	if (mf->flags & ~(VMPAGER_FILE_RDONLY | VMPAGER_FILE_CACHED) ||
	    mf->reserved[0] || mf->reserved[1])
		return -EINVAL;
	if (!mf->length || !PAGE_ALIGNED(mf->offset))
		return -EINVAL;
	if (check_add_overflow(mf->offset, mf->length, &end) ||
	    end > (u64)MAX_LFS_FILESIZE)
		return -EOVERFLOW;
	file = fget(mf->fd);
	if (!file)
		return -EBADF;
	inode = file_inode(file);
	ret = -EINVAL;
	if (!S_ISREG(inode->i_mode) || !file->f_op->read_iter)
		goto put;
	ret = -EACCES;
	if (!(file->f_mode & FMODE_READ))
		goto put;
	ret = -ETXTBSY;		/* a swap file, ours or the kernel's */
	if (vmp_swap_uses_inode(inode))
		goto put;
	ret = -ENOMEM;
	fb = kzalloc(sizeof(*fb), GFP_KERNEL);
	if (!fb)
		goto put;
	fb->file = file;
	fb->off = mf->offset;
	fb->length = mf->length;
	fb->npages = DIV_ROUND_UP_ULL(mf->length, PAGE_SIZE);
	/* an append-only or immutable file (chattr +a, +i): never written */
	fb->ro = (mf->flags & VMPAGER_FILE_RDONLY) || IS_APPEND(inode) ||
		 IS_IMMUTABLE(inode) ||
		 !(file->f_mode & FMODE_WRITE) || !file->f_op->write_iter;

	mutex_lock(&obj->lock);
	if (obj->backing || obj->nr_vmas || obj->size || obj->copying ||
	    !xa_empty(&obj->pages))
		ret = -EBUSY;
	else if (fb->npages > obj->max_size)
		ret = -EFBIG;
	else
		ret = 0;
	mutex_unlock(&obj->lock);
	/* the mapping of the file's blocks may take long: no object lock */
	if (!ret)
		ret = vmp_file_io_setup(fb, mf->flags);
	if (ret)
		goto free;
	mutex_lock(&obj->lock);
	if (obj->backing || obj->nr_vmas || obj->size || obj->copying ||
	    !xa_empty(&obj->pages))
		ret = -EBUSY;	/* a racing bind, mmap or copy won */
	else
		obj->backing = fb;
	mutex_unlock(&obj->lock);
	if (!ret)
		return 0;
	vmp_file_io_release(fb);
free:
	kfree(fb);
put:
	fput(file);
	return ret;
}

/* The object is being destroyed: no page and no I/O of it is left. */
void vmp_file_put(struct vmp_obj *obj)
{
	struct vmp_backing *fb = obj->backing;

	if (!fb)
		return;
	obj->backing = NULL;
	vmp_file_io_release(fb);
	fput(fb->file);
	kfree(fb);
}

/*
 * Write-back is asynchronous and holds no page lock while the file is
 * written: the page is copied to a bounce page under its lock, marked
 * VMP_FRAME_WB, unlocked, and the copy written by the vmpager_io worker.
 * Whoever writes the file through write(2) holds its i_rwsem while it
 * faults in its source buffer, which may be a page of any vmpager object,
 * one of this object's included: a fault, reclaim or write-back that
 * waited for the file's lock with a page locked could wait for itself.
 * One write-back per page at a time (VMP_FRAME_WB), so an older copy never
 * lands after a newer one; the page stays resident until it is done
 * (eviction and teardown wait for it or pass it by).
 */
static DECLARE_WAIT_QUEUE_HEAD(vmp_wb_wait);	/* a write-back ended */
static atomic_t vmp_wb_all = ATOMIC_INIT(0);	/* write-backs in flight */

struct vmp_wb {
	struct vmp_io io;		/* io.page: the bounce copy */
	struct vmp_obj *obj;
	struct page *page;		/* the object's page (VMP_FRAME_WB) */
	pgoff_t index;
};

bool vmp_file_wb_busy(struct page *page)
{
	return READ_ONCE(vmp_pool.frames[vmp_page_frame(page)].flags) &
	       VMP_FRAME_WB;
}

static void vmp_file_wb_end(struct vmp_io *io)
{
	struct vmp_wb *wb = container_of(io, struct vmp_wb, io);
	struct vmp_obj *obj = wb->obj;
	u32 frame = vmp_page_frame(wb->page);

	if (io->result) {
		/* the page stays dirty: the next write-back tries again */
		SetPageDirty(wb->page);
		atomic_inc(&obj->wb_errors);
		vmp_count(VMPAGER_STAT_write_errors);
		pr_warn_ratelimited("write-back of object %llu page %lu failed (%d): page kept resident\n",
				    obj->id, wb->index, io->result);
	} else {
		vmp_count(VMPAGER_STAT_file_writes);
		if (obj->backing->ext)
			atomic_set(&obj->backing->bio_written, 1);
	}
	spin_lock(&vmp_pool.lock);
	vmp_pool.frames[frame].flags &= ~VMP_FRAME_WB;
	spin_unlock(&vmp_pool.lock);
	set_page_private(io->page, 0);
	__free_page(io->page);
	kfree(wb);
	/* the object may be freed once this is 0: the wait queue is global */
	atomic_dec(&obj->wb_inflight);
	atomic_dec(&vmp_wb_all);
	wake_up_all(&vmp_wb_wait);
}

/*
 * Start writing back dirty page @page (index @index) of file-backed @obj,
 * locked by the caller: write-protect it in every mapping, clean it, copy
 * it, and queue the copy. A write after this dirties it again. Returns 0,
 * -EBUSY if a write-back of it is in flight, -ENOMEM.
 */
int vmp_file_write_start(struct vmp_obj *obj, struct page *page, pgoff_t index,
			 gfp_t gfp)
{
	u32 frame = vmp_page_frame(page);
	struct vmp_wb *wb;
	struct page *copy;

	if (vmp_file_wb_busy(page))
		return -EBUSY;
	wb = kmalloc(sizeof(*wb), gfp);
	copy = wb ? alloc_page(gfp) : NULL;
	if (!copy) {
		kfree(wb);
		return -ENOMEM;
	}
	if (page_mapped(page))
		folio_mkclean(page_folio(page));
	ClearPageDirty(page);
	copy_highpage(copy, page);
	/* past the file's end, a whole-page bio writes zeros, as writeback does */
	if (vmp_file_page_len(obj->backing, index) < PAGE_SIZE)
		zero_user_segment(copy, vmp_file_page_len(obj->backing, index),
				  PAGE_SIZE);
	set_page_private(copy, frame);	/* for the swap tracepoints */
	spin_lock(&vmp_pool.lock);
	vmp_pool.frames[frame].flags |= VMP_FRAME_WB;
	spin_unlock(&vmp_pool.lock);
	wb->obj = obj;
	wb->page = page;
	wb->index = index;
	wb->io.page = copy;
	wb->io.end_io = vmp_file_wb_end;
	atomic_inc(&obj->wb_inflight);
	atomic_inc(&vmp_wb_all);
	vmp_file_io_submit(NULL, &wb->io, obj, index, WRITE);
	return 0;
}

/* Wait until no write-back of @page is in flight (no lock held). */
void vmp_file_wb_wait_page(struct page *page)
{
	wait_event(vmp_wb_wait, !vmp_file_wb_busy(page));
}

/* Wait until none of @obj's write-backs is in flight. */
void vmp_file_wb_drain(struct vmp_obj *obj)
{
	wait_event(vmp_wb_wait, !atomic_read(&obj->wb_inflight));
}

/*
 * Direct reclaim freed nothing: if write-backs are in flight, wait up to
 * 100 ms for one to end (its page is clean then). False if none was.
 */
bool vmp_file_wb_wait_some(void)
{
	int n = atomic_read(&vmp_wb_all);

	if (!n)
		return false;
	wait_event_timeout(vmp_wb_wait, atomic_read(&vmp_wb_all) < n, HZ / 10);
	return true;
}

/*
 * Take page @index of @obj locked with a reference, if it is resident,
 * up to date and dirty; NULL otherwise. *@busy: it is dirty, but a
 * write-back of it is in flight.
 */
static struct page *vmp_file_dirty_page(struct vmp_obj *obj, pgoff_t index,
					bool *busy)
{
	struct page *page;

retry:
	xa_lock(&obj->pages);
	page = xa_load(&obj->pages, index);
	if (!page || xa_is_value(page)) {
		xa_unlock(&obj->pages);
		return NULL;
	}
	if (!get_page_unless_zero(page)) {
		/* reclaim froze it while taking it out */
		xa_unlock(&obj->pages);
		cpu_relax();
		goto retry;
	}
	xa_unlock(&obj->pages);
	lock_page(page);
	if (xa_load(&obj->pages, index) != page) {
		unlock_page(page);
		put_page(page);
		goto retry;
	}
	if (PageDirty(page) && PageUptodate(page) && vmp_file_wb_busy(page))
		*busy = true;
	else if (PageDirty(page) && PageUptodate(page))
		return page;
	unlock_page(page);
	put_page(page);
	return NULL;
}

/*
 * Write back the dirty pages @first..@last of file-backed @obj and wait for
 * them: the pages dirty when it is called, also those whose earlier
 * write-back was still in flight. Returns 0, -EIO if a write-back of @obj
 * failed meanwhile (its page stays dirty and resident, to be written by the
 * next write-back or eviction), -ENOMEM. @nofail: the last one, at release.
 */
int vmp_file_writeback(struct vmp_obj *obj, pgoff_t first, pgoff_t last,
		       bool nofail)
{
	const struct vmp_backing *fb = obj->backing;
	gfp_t gfp = GFP_KERNEL | (nofail ? __GFP_NOFAIL : 0);
	int errors = atomic_read(&obj->wb_errors);
	int pass, err = 0;

	if (!fb || fb->ro || !fb->npages)
		return 0;
	last = min_t(pgoff_t, last, fb->npages - 1);
	/* a second pass for the pages whose older write-back was in flight */
	for (pass = 0; pass < 2; pass++) {
		unsigned long index = first;
		bool busy = false;
		void *entry;

		xa_for_each_range(&obj->pages, index, entry, first, last) {
			struct page *page;

			if (xa_is_value(entry))
				continue;
			page = vmp_file_dirty_page(obj, index, &busy);
			if (!page)
				continue;
			err = vmp_file_write_start(obj, page, index, gfp);
			unlock_page(page);
			put_page(page);
			if (err)
				break;
			cond_resched();
		}
		vmp_file_wb_drain(obj);
		if (err || !busy)
			break;
	}
	if (!err && atomic_read(&obj->wb_errors) != errors)
		err = -EIO;
	return err;
}

/* ->fsync of an object's fd: msync(MS_SYNC) of its mappings comes here. */
int vmp_file_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	struct vmp_obj *obj = file->private_data;
	struct vmp_backing *fb = obj->backing;
	pgoff_t first, last;
	int err;

	if (!fb)
		return 0;	/* anonymous: nothing outlives the object */
	vmp_count(VMPAGER_STAT_file_syncs);
	if (fb->ro || start > end)
		return 0;
	first = start >> PAGE_SHIFT;
	last = end == LLONG_MAX ? ULONG_MAX : end >> PAGE_SHIFT;
	err = vmp_file_writeback(obj, first, last, false);
	if (err)
		return err;
	if (first >= fb->npages)
		return 0;
	if ((u64)end >= fb->length)
		end = fb->length - 1;
	if (!fb->ext)
		return vfs_fsync_range(fb->file, fb->off + start,
				       fb->off + end, datasync);
	/*
	 * Bios wrote the blocks: read(2) must not see older cached copies,
	 * the times change as write(2) changes them, and the device's write
	 * cache is flushed (the filesystem's fsync flushes it only when it
	 * had something of its own to write).
	 */
	vmp_bio_file_invalidate(fb);
	vmp_file_bio_touch(fb);
	err = vfs_fsync_range(fb->file, fb->off + start, fb->off + end,
			      datasync);
	return err ? err : blkdev_issue_flush(fb->bdev);
}
