// SPDX-License-Identifier: GPL-2.0
/*
 * vmpager swap: slots, swap areas, and the in-kernel I/O backend.
 *
 * Areas: the slot space is a sequence of areas, each with one backend.
 * A files area is the set of files given together -- the swapfile= module
 * parameter (comma separated) at load, or one file per VMPAGER_IOC_SWAP_ADD
 * ioctl -- striped page by page: slot s of the area lives in file
 * s % nfiles at page s / nfiles, so a run of consecutive slots spreads over
 * every file while each file still sees sequential offsets. A server area
 * is the userspace io_uring swap server's (vmp_uring.c). Areas are appended,
 * never removed before unload.
 *
 * Files are opened O_DIRECT when their filesystem allows (ext4, xfs, block
 * devices) and buffered otherwise (tmpfs), must not be accessible to group
 * or others, and are preallocated with vfs_fallocate(). A block device, or
 * a file whose filesystem can map it to extents of its device (bmap), then
 * moves its pages with bios (vmp_bio.c); other files with kiocbs (below).
 *
 * Slots: each area has its own bitmap, allocated with the area and never
 * resized (kvmalloc: a 128 GiB area has 2^25 slots, a 4 MiB map, more than
 * kmalloc gives), and its own next-fit cursor,
 * so consecutive evictions get consecutive slots and the writes form
 * sequential runs ("clustering"). Allocation prefers an online server area,
 * then files areas in order; an offline (dead) server area gets no new
 * slots, which is how writes fail over to the in-kernel files.
 *
 * Kiocb I/O (files without extents: tmpfs, btrfs; the block backend is
 * in vmp_bio.c): each page moves with one kiocb over a one-entry bio_vec
 * iterator on the pool page itself (zero copy), submitted with
 * vfs_iocb_iter_read/write and a ki_complete callback: asynchronous direct
 * I/O where the file allows it, completing inline otherwise. A batch counts
 * its I/Os in flight and the submitter sleeps until the last completes;
 * completions only record the result and wake it, so they are safe in
 * interrupt context. An asynchronous batch (read-ahead, vmp_obj.c) waits
 * for nothing: its I/Os complete through their end_io, and the pages are
 * finished in vmpager_ra, a workqueue of its own that never runs file I/O,
 * so a task that holds a file's lock while it waits for such a page never
 * waits behind a worker blocked on that lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bvec.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uio.h>

#include "vmp_internal.h"
#include "vmp_trace.h"

struct vmp_swap vmp_swap;
static struct workqueue_struct *vmp_io_wq;
static struct workqueue_struct *vmp_ra_wq;	/* read-ahead completions only */

static struct vmp_swap_area *vmp_swap_area_of(u32 slot);

/* Release a set-up swap file: its block backend state, then the file. */
static void vmp_swap_put_file(struct vmp_swap_file *sf)
{
	vmp_bio_release(sf);
	fput(sf->file);
	sf->file = NULL;
}

/*
 * Check and preallocate an opened swap file; fills @sf. @npages 0 means the
 * file's current size. Consumes @file on error.
 */
static int vmp_swap_setup_file(struct vmp_swap_file *sf, struct file *file,
			       const char *what, u64 npages, bool direct)
{
	struct inode *inode = file_inode(file);
	int ret;

	ret = -EINVAL;
	if (!S_ISREG(inode->i_mode) && !S_ISBLK(inode->i_mode)) {
		pr_err("swap file %s: not a regular file or block device\n", what);
		goto close;
	}
	ret = -EACCES;
	if (!uid_eq(inode->i_uid, GLOBAL_ROOT_UID)) {
		pr_err("swap file %s: owned by uid %u, who could read swapped pages; chown root it\n",
		       what, from_kuid(&init_user_ns, inode->i_uid));
		goto close;
	}
	ret = -EBUSY;
	if (IS_SWAPFILE(inode)) {
		pr_err("swap file %s: in use as swap (by swapon or another area)\n",
		       what);
		goto close;
	}
	if (vmp_file_uses_inode(inode)) {
		pr_err("swap file %s: bound to an object (VMPAGER_IOC_MAP_FILE)\n",
		       what);
		goto close;
	}
	ret = -EACCES;
	if (inode->i_mode & 0077) {
		pr_err("swap file %s: mode %04o lets others read swapped pages; chmod 600 it\n",
		       what, inode->i_mode & 07777);
		goto close;
	}
	if (!npages)
		npages = i_size_read(file->f_mapping->host) >> PAGE_SHIFT;
	ret = -EINVAL;
	if (!npages) {
		pr_err("swap file %s: no size given and the file is empty\n", what);
		goto close;
	}
	ret = -E2BIG;
	if (npages >= VMP_NIL) {
		pr_err("swap file %s: %llu pages, more than 2^32 - 2\n", what, npages);
		goto close;
	}
	if (S_ISREG(inode->i_mode)) {
		ret = vfs_fallocate(file, 0, 0, (loff_t)npages << PAGE_SHIFT);
		if (ret) {
			pr_err("swap file %s: preallocating %llu pages failed (%d)\n",
			       what, npages, ret);
			goto close;
		}
	} else {
		npages = min_t(u64, npages,
			       i_size_read(file->f_mapping->host) >> PAGE_SHIFT);
	}
	*sf = (struct vmp_swap_file){
		.file = file, .nslots = npages,
		.io = direct ? VMP_IO_DIRECT : VMP_IO_BUFFERED,
	};
	ret = vmp_bio_setup(sf, what);
	if (!ret)
		return 0;
	sf->file = NULL;
close:
	fput(file);
	return ret;
}

static int vmp_swap_open_path(struct vmp_swap_file *sf, const char *path,
			      u32 npages)
{
	int flags = O_RDWR | O_CREAT | O_LARGEFILE | O_NOATIME;
	struct file *file;
	bool direct = true;

	file = filp_open(path, flags | O_DIRECT, 0600);
	if (IS_ERR(file) && PTR_ERR(file) == -EINVAL) {
		direct = false;
		file = filp_open(path, flags, 0600);
	}
	if (IS_ERR(file)) {
		pr_err("swap file %s: open failed (%ld)\n", path, PTR_ERR(file));
		return PTR_ERR(file);
	}
	return vmp_swap_setup_file(sf, file, path, npages, direct);
}

/*
 * Append an area of @nslots slots with a map of its own, then publish it.
 * Called under add_lock, with the area's files (if any) already in
 * vmp_swap.files[file0 .. file0 + nfiles).
 */
static int vmp_swap_publish(enum vmp_area_kind kind, u32 nslots, int file0,
			    int nfiles, u32 *first)
{
	struct vmp_swap_area *a;
	unsigned long *map;
	u32 old;

	lockdep_assert_held(&vmp_swap.add_lock);
	if (vmp_swap.nareas == VMP_MAX_SWAPAREAS)
		return -E2BIG;
	old = READ_ONCE(vmp_swap.nslots);
	if ((u64)old + nslots >= VMP_NIL) {
		pr_err("swap: more than 2^32 - 2 slots in all\n");
		return -E2BIG;
	}
	map = kvcalloc(BITS_TO_LONGS(nslots), sizeof(long), GFP_KERNEL);
	if (!map)
		return -ENOMEM;
	a = &vmp_swap.areas[vmp_swap.nareas];
	a->map = map;
	a->first = old;
	a->nslots = nslots;
	a->used = 0;
	a->cursor = 0;
	a->kind = kind;
	a->file0 = file0;
	a->nfiles = nfiles;
	/* a server area goes online when its server is ready (vmp_uring.c) */
	a->online = kind == VMP_AREA_FILES;
	spin_lock(&vmp_swap.lock);
	vmp_swap.nslots = old + nslots;
	/* pairs with smp_load_acquire() in vmp_swap_area_of() */
	smp_store_release(&vmp_swap.nareas, vmp_swap.nareas + 1);
	spin_unlock(&vmp_swap.lock);
	if (first)
		*first = old;
	return 0;
}

/* Add the files of the swapfile= parameter as one striped area. */
int vmp_swap_init(const char *paths, u32 pages_per_file)
{
	char *buf, *cur, *path;
	u32 per = U32_MAX;
	int ret = 0, i, n = 0;

	spin_lock_init(&vmp_swap.lock);
	mutex_init(&vmp_swap.add_lock);
	vmp_io_wq = alloc_workqueue("vmpager_io", WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	vmp_ra_wq = alloc_workqueue("vmpager_ra",
				    WQ_MEM_RECLAIM | WQ_UNBOUND | WQ_HIGHPRI, 0);
	if (!vmp_io_wq || !vmp_ra_wq) {
		vmp_swap_exit();
		return -ENOMEM;
	}
	ret = vmp_bio_init();
	if (ret) {
		vmp_swap_exit();
		return ret;
	}
	if (!paths || !*paths)
		return 0;
	buf = kstrdup(paths, GFP_KERNEL);
	if (!buf) {
		vmp_swap_exit();
		return -ENOMEM;
	}
	mutex_lock(&vmp_swap.add_lock);
	cur = buf;
	while ((path = strsep(&cur, ",")) != NULL) {
		if (!*path)
			continue;
		if (n == VMP_MAX_SWAPFILES) {
			pr_err("at most %d swap files\n", VMP_MAX_SWAPFILES);
			ret = -E2BIG;
			break;
		}
		ret = vmp_swap_open_path(&vmp_swap.files[n], path,
					 pages_per_file);
		if (ret)
			break;
		for (i = 0; i < n; i++) {
			if (file_inode(vmp_swap.files[i].file) ==
			    file_inode(vmp_swap.files[n].file)) {
				pr_err("swap file %s: named twice\n", path);
				ret = -EBUSY;
			}
		}
		if (ret) {
			vmp_swap_put_file(&vmp_swap.files[n]);
			break;
		}
		per = min(per, vmp_swap.files[n].nslots);
		n++;
		vmp_swap.nfiles = n;
	}
	if (!ret && n) {
		/* striping needs equal files: a short block device bounds all */
		if ((u64)per * n >= VMP_NIL)
			ret = -E2BIG;
		else
			ret = vmp_swap_publish(VMP_AREA_FILES, per * n, 0, n, NULL);
	}
	mutex_unlock(&vmp_swap.add_lock);
	kfree(buf);
	if (ret) {
		vmp_swap_exit();
		return ret;
	}
	for (i = 0; i < n; i++) {
		pr_info("swap file %s: %u slots, %s I/O\n",
			vmp_swap.files[i].file->f_path.dentry->d_name.name, per,
			vmp_swap_io_name(&vmp_swap.files[i]));
	}
	return 0;
}

/*
 * VMPAGER_IOC_SWAP_ADD: add the file behind @fd (open for reading and
 * writing) as a new area. It is reopened from its path, O_DIRECT when the
 * filesystem allows, so the caller's file flags do not matter.
 */
int vmp_swap_add_fd(int fd, u64 pages)
{
	struct vmp_swap_file *sf;
	struct file *f, *file;
	bool direct = true;
	int ret, i;

	f = fget(fd);
	if (!f)
		return -EBADF;
	ret = -EBADF;
	if ((f->f_mode & (FMODE_READ | FMODE_WRITE)) != (FMODE_READ | FMODE_WRITE))
		goto put;
	ret = -EINVAL;
	if (f->f_op == vmp_misc_fops())
		goto put;	/* not even as a joke */
	file = dentry_open(&f->f_path, O_RDWR | O_LARGEFILE | O_NOATIME | O_DIRECT,
			   current_cred());
	if (IS_ERR(file) && PTR_ERR(file) == -EINVAL) {
		direct = false;
		file = dentry_open(&f->f_path, O_RDWR | O_LARGEFILE | O_NOATIME,
				   current_cred());
	}
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto put;
	}
	mutex_lock(&vmp_swap.add_lock);
	for (i = 0; i < vmp_swap.nfiles; i++) {
		if (file_inode(vmp_swap.files[i].file) == file_inode(file)) {
			pr_err("swap file %pD: already in use\n", file);
			fput(file);
			ret = -EBUSY;
			goto unlock;
		}
	}
	ret = -E2BIG;
	if (vmp_swap.nfiles == VMP_MAX_SWAPFILES) {
		fput(file);
		goto unlock;
	}
	sf = &vmp_swap.files[vmp_swap.nfiles];
	ret = vmp_swap_setup_file(sf, file, file->f_path.dentry->d_name.name,
				  pages, direct);
	if (ret)
		goto unlock;
	ret = vmp_swap_publish(VMP_AREA_FILES, sf->nslots, vmp_swap.nfiles, 1,
			       NULL);
	if (ret) {
		vmp_swap_put_file(sf);
		goto unlock;
	}
	vmp_swap.nfiles++;
	pr_info("swap file %pD added: %u slots, %s I/O\n", sf->file,
		sf->nslots, vmp_swap_io_name(sf));
unlock:
	mutex_unlock(&vmp_swap.add_lock);
put:
	fput(f);
	return ret;
}

/* The userspace server's area: created on first attach, kept after. */
int vmp_swap_add_server(u32 nslots, u32 *first)
{
	int ret;

	mutex_lock(&vmp_swap.add_lock);
	ret = vmp_swap_publish(VMP_AREA_SERVER, nslots, 0, 0, first);
	mutex_unlock(&vmp_swap.add_lock);
	return ret;
}

void vmp_swap_area_set_online(u32 first, bool online)
{
	/* pairs with the smp_store_release() in vmp_swap_publish() */
	int i, n = smp_load_acquire(&vmp_swap.nareas);

	spin_lock(&vmp_swap.lock);
	for (i = 0; i < n; i++)
		if (vmp_swap.areas[i].first == first)
			WRITE_ONCE(vmp_swap.areas[i].online, online);
	spin_unlock(&vmp_swap.lock);
}

/* Can @slot be read now? (not if it is in a dead server's area) */
bool vmp_slot_readable(u32 slot)
{
	struct vmp_swap_area *a = vmp_swap_area_of(slot);

	return a && READ_ONCE(a->online);
}

/* Is @inode one of the swap files (MAP_FILE refuses them: vmp_file.c)? */
bool vmp_swap_uses_inode(struct inode *inode)
{
	bool found = false;
	int i;

	mutex_lock(&vmp_swap.add_lock);
	for (i = 0; i < vmp_swap.nfiles && !found; i++)
		found = vmp_swap.files[i].file &&
			file_inode(vmp_swap.files[i].file) == inode;
	mutex_unlock(&vmp_swap.add_lock);
	return found;
}

/* Is there anywhere to write a page to? (a glance, no lock) */
bool vmp_swap_configured(void)
{
	return READ_ONCE(vmp_swap.nslots) != 0;
}

void vmp_swap_exit(void)
{
	int i;

	WARN_ON_ONCE(vmp_swap.used);
	if (vmp_io_wq)
		destroy_workqueue(vmp_io_wq);
	vmp_io_wq = NULL;
	if (vmp_ra_wq)
		destroy_workqueue(vmp_ra_wq);
	vmp_ra_wq = NULL;
	vmp_bio_exit();		/* after the worker: it completes write-backs */
	for (i = 0; i < vmp_swap.nfiles; i++)
		vmp_swap_put_file(&vmp_swap.files[i]);
	vmp_swap.nfiles = 0;
	for (i = 0; i < vmp_swap.nareas; i++) {
		kvfree(vmp_swap.areas[i].map);
		vmp_swap.areas[i].map = NULL;
	}
	vmp_swap.nareas = 0;
	vmp_swap.nslots = 0;
}

static struct vmp_swap_area *vmp_swap_area_of(u32 slot)
{
	/* pairs with the smp_store_release() in vmp_swap_publish() */
	int i, n = smp_load_acquire(&vmp_swap.nareas);

	for (i = 0; i < n; i++) {
		struct vmp_swap_area *a = &vmp_swap.areas[i];

		if (slot - a->first < a->nslots)
			return a;
	}
	return NULL;
}

/*
 * Take up to @want free slots of @a that follow each other, from its
 * next-fit cursor on (wrapping once): the first run of free slots there,
 * cut at @want. Returns how many (0: the area is full or offline).
 */
static u32 vmp_area_alloc(struct vmp_swap_area *a, u32 *slot, u32 want)
{
	unsigned long s, e;

	lockdep_assert_held(&vmp_swap.lock);
	if (!a->online || a->used == a->nslots)
		return 0;
	s = find_next_zero_bit(a->map, a->nslots, a->cursor);
	if (s >= a->nslots)
		s = find_first_zero_bit(a->map, a->nslots);
	if (WARN_ON_ONCE(s >= a->nslots))
		return 0;
	e = find_next_bit(a->map, min_t(unsigned long, a->nslots, s + want), s);
	bitmap_set(a->map, s, e - s);
	a->used += e - s;
	a->cursor = e;
	*slot = a->first + s;
	return e - s;
}

/*
 * Up to @want consecutive slots, the first in *@slot: an online server
 * area first, then files areas in the order they were added. Returns how
 * many (at least 1), or 0 with swap_full counted when every area is full.
 */
static u32 vmp_slot_alloc_run(u32 *slot, u32 want)
{
	/* pairs with the smp_store_release() in vmp_swap_publish() */
	int i, n = smp_load_acquire(&vmp_swap.nareas);
	int pass;
	u32 got;

	spin_lock(&vmp_swap.lock);
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			struct vmp_swap_area *a = &vmp_swap.areas[i];

			if ((a->kind == VMP_AREA_SERVER) != (pass == 0))
				continue;
			got = vmp_area_alloc(a, slot, want);
			if (got) {
				vmp_swap.used += got;
				spin_unlock(&vmp_swap.lock);
				return got;
			}
		}
	}
	spin_unlock(&vmp_swap.lock);
	vmp_count(VMPAGER_STAT_swap_full);
	return 0;
}

int vmp_slot_alloc(u32 *slot)
{
	return vmp_slot_alloc_run(slot, 1) ? 0 : -ENOSPC;
}

/* Give back the slots of @n..@end, all in one area and all taken. */
static void vmp_slot_free_run(u32 n, u32 end)
{
	struct vmp_swap_area *a;

	if (n == end)
		return;
	a = vmp_swap_area_of(n);
	spin_lock(&vmp_swap.lock);
	for (; n < end; n++) {
		if (WARN_ON_ONCE(!a || !test_bit(n - a->first, a->map)))
			continue;
		__clear_bit(n - a->first, a->map);
		a->used--;
		vmp_swap.used--;
	}
	spin_unlock(&vmp_swap.lock);
}

/*
 * A slot for one of @b's writes: from the run of consecutive slots the
 * batch holds, or a new run of up to b->slot_want (the writes the batch
 * may still make, set by its reclaim pass). Concurrent reclaimers (the
 * kthread and faulting tasks) each take whole runs, so one batch's writes
 * go to consecutive slots and become one bio, however they interleave;
 * vmp_batch_wait() gives back what is left.
 */
int vmp_slot_alloc_batch(struct vmp_batch *b, u32 *slot)
{
	struct vmp_swap_area *a;
	u32 got;

	/* a run in a server area that went offline: give it back */
	if (b->slot_next != b->slot_end) {
		a = vmp_swap_area_of(b->slot_next);
		if (!a || !READ_ONCE(a->online)) {
			vmp_slot_free_run(b->slot_next, b->slot_end);
			b->slot_next = b->slot_end;
		}
	}
	if (b->slot_next == b->slot_end) {
		got = vmp_slot_alloc_run(&b->slot_next, max(b->slot_want, 1U));
		if (!got)
			return -ENOSPC;
		b->slot_end = b->slot_next + got;
	}
	*slot = b->slot_next++;
	return 0;
}

void vmp_slot_free(u32 slot)
{
	vmp_slot_free_run(slot, slot + 1);
}

/*
 * debugfs swapmap: '#' (in use) or '.' (free) for the @n slots from @first
 * into @line, under the swap lock; returns how many are in use.
 */
u32 vmp_swap_map_line(u32 first, u32 n, char *line)
{
	struct vmp_swap_area *a = NULL;
	u32 i, slot, used = 0;
	bool b;

	spin_lock(&vmp_swap.lock);
	for (i = 0; i < n; i++) {
		slot = first + i;
		if (!a || slot - a->first >= a->nslots)
			a = vmp_swap_area_of(slot);
		b = a && test_bit(slot - a->first, a->map);
		line[i] = b ? '#' : '.';
		used += b;
	}
	spin_unlock(&vmp_swap.lock);
	return used;
}

/* ---- batched asynchronous I/O ---- */

void vmp_batch_init(struct vmp_batch *b)
{
	atomic_set(&b->pending, 1);	/* the submitter's own count */
	init_completion(&b->done);
	b->bio = NULL;
	b->slot_next = 0;
	b->slot_end = 0;
	b->slot_want = 1;
	b->srv_head = NULL;
	b->end_io = NULL;
	blk_start_plug(&b->plug);
}

/* An I/O finished with @ret (bytes or -errno), from any backend, any context. */
void vmp_io_complete_one(struct vmp_io *io, long ret)
{
	struct vmp_batch *b = io->batch;

	if (io->fobj && io->rw == READ && ret >= 0)
		io->result = 0;		/* past the file's end: the zeroed rest stays */
	else
		io->result = ret == io->len ? 0 : (ret < 0 ? ret : -EIO);
	if (io->end_io) {
		/* a file object's write-back (vmp_file.c), a read-ahead (vmp_obj.c) */
		io->end_io(io);
		return;
	}
	trace_vmpager_swap_done(io->rw == WRITE, io->slot,
				vmp_page_frame(io->page), io->result,
				local_clock() - io->start_ns);
	/* pairs with the atomic_dec_and_test in vmp_batch_wait() */
	if (atomic_dec_and_test(&b->pending))
		complete(&b->done);
}

static void vmp_io_complete_work(struct work_struct *work)
{
	struct vmp_io *io = container_of(work, struct vmp_io, work);

	vmp_io_complete_one(io, io->ret);
}

/*
 * vmp_io_complete_one() from a bio's completion, in interrupt context: a
 * write with an end_io callback (a file object's write-back, which takes
 * vmp_pool.lock, never taken with interrupts off) completes in vmpager_io.
 */
void vmp_io_complete_irq(struct vmp_io *io, long ret)
{
	if (!io->end_io || io->rw == READ) {
		vmp_io_complete_one(io, ret);
		return;
	}
	io->ret = ret;
	INIT_WORK(&io->work, vmp_io_complete_work);
	queue_work(vmp_io_wq, &io->work);
}

/*
 * Files backend: the kiocb must stay valid until the submitting call has
 * returned, even when the completion ran first. A filesystem may touch it
 * after the I/O was queued: ext4_dio_read_iter() calls
 * file_accessed(iocb->ki_filp) after iomap_dio_rw() returned -EIOCBQUEUED,
 * when the completion may already have woken the waiter, which frees the
 * vmp_io (a NULL dereference in ext4_file_read_iter on Debian's 6.1 when
 * that memory was reused). The submission and the completion each hold a
 * reference; whichever ends last completes the I/O to its batch, as fs/aio.c
 * does with its two iocb references.
 */
static void vmp_io_put(struct vmp_io *io)
{
	/* fully ordered: the other side's io->ret is visible here */
	if (atomic_dec_and_test(&io->refs))
		vmp_io_complete_one(io, io->ret);
}

static void vmp_io_complete(struct kiocb *iocb, long ret)
{
	struct vmp_io *io = container_of(iocb, struct vmp_io, iocb);

	io->ret = ret;
	vmp_io_put(io);
}

/* Hand the server requests @b collected to the server backend. */
static void vmp_srv_batch_flush(struct vmp_batch *b)
{
	struct vmp_io *head = b->srv_head;

	if (!head)
		return;
	b->srv_head = NULL;
	vmp_srv_submit(head);	/* completes through vmp_io_complete_one() */
}

/*
 * A request for the server area: kept in @b, in submission order, until
 * the batch ends, so that the server backend sees the whole batch at once
 * and hands consecutive slots out as one request (VMPAGER_SRV_F_RUNS,
 * vmp_srv_take_run_locked()).
 */
static void vmp_srv_batch_add(struct vmp_batch *b, struct vmp_io *io)
{
	io->next = NULL;
	if (b->srv_head)
		b->srv_tail->next = io;
	else
		b->srv_head = io;
	b->srv_tail = io;
}

/* Runs in vmpager_io: the file I/O of one page. */
static void vmp_io_work(struct work_struct *work)
{
	struct vmp_io *io = container_of(work, struct vmp_io, work);
	struct file *filp = io->filp;
	loff_t pos = io->iocb.ki_pos;
	struct iov_iter iter;
	ssize_t ret;

	io->bv.bv_page = io->page;
	io->bv.bv_len = io->len;
	io->bv.bv_offset = 0;
	iov_iter_bvec(&iter, io->rw, &io->bv, 1, io->len);
	init_sync_kiocb(&io->iocb, filp);
	/*
	 * A file object's pages go through its file's page cache, whatever
	 * the fd's O_DIRECT: its last page may be a partial block, and
	 * read(2) of the file then sees what was written back.
	 */
	if (io->fobj)
		io->iocb.ki_flags &= ~(IOCB_DIRECT | IOCB_APPEND);
	io->iocb.ki_pos = pos;
	io->iocb.ki_complete = vmp_io_complete;
	atomic_set(&io->refs, 2);	/* this call and vmp_io_complete() */
	if (io->rw == WRITE) {
		file_start_write(filp);
		ret = vfs_iocb_iter_write(filp, &io->iocb, &iter);
		file_end_write(filp);
	} else {
		ret = vfs_iocb_iter_read(filp, &io->iocb, &iter);
	}
	/* a short read of a file object's page is good only at the file's end */
	if (io->fobj && io->rw == READ && ret >= 0 && ret < io->len &&
	    pos + ret < i_size_read(file_inode(filp)))
		ret = -EIO;
	if (ret != -EIOCBQUEUED)
		vmp_io_complete(&io->iocb, ret);	/* done inline: no callback comes */
	vmp_io_put(io);
}

void vmp_io_submit(struct vmp_batch *b, struct vmp_io *io, int rw)
{
	struct vmp_swap_area *a = vmp_swap_area_of(io->slot);
	struct vmp_swap_file *sf;
	u32 rel;
	ssize_t ret;

	io->batch = b;
	io->rw = rw;
	io->len = PAGE_SIZE;
	io->fobj = false;
	io->end_io = b->end_io;
	io->start_ns = local_clock();
	if (!io->end_io)
		atomic_inc(&b->pending);
	trace_vmpager_swap_submit(rw == WRITE, io->slot,
				  vmp_page_frame(io->page));
	if (WARN_ON_ONCE(!a)) {
		ret = -EIO;
		goto inline_done;
	}
	if (vmp_should_fail(rw == WRITE ? VMP_FAULT_WRITE : VMP_FAULT_READ)) {
		ret = -EIO;
		goto inline_done;
	}
	if (a->kind == VMP_AREA_SERVER) {
		vmp_srv_batch_add(b, io);
		return;
	}
	rel = io->slot - a->first;
	sf = &vmp_swap.files[a->file0 + rel % a->nfiles];
	if (sf->io == VMP_IO_BIO) {
		/* no filesystem lock on this path: submitted by the caller */
		vmp_bio_submit(b, io, sf, rel / a->nfiles);
		return;
	}
	io->sf = sf;
	io->filp = sf->file;
	io->iocb.ki_pos = (loff_t)(rel / a->nfiles) << PAGE_SHIFT;
	/*
	 * The filesystem takes its own locks (sb_writers, i_rwsem) to do the
	 * I/O, and a task doing direct I/O holds i_rwsem while it faults in
	 * user pages under mmap_lock. Our submitters run in page faults, under
	 * mmap_lock: hand the submission to a worker that holds neither, as
	 * the loop driver does, and wait for the completion as before.
	 */
	INIT_WORK(&io->work, vmp_io_work);
	queue_work(vmp_io_wq, &io->work);
	return;
inline_done:
	vmp_io_complete_one(io, ret);
}

/*
 * A page of file-backed object @obj (vmp_file.c): @io->page is page @index,
 * locked (a read), or a copy of it (a write-back). With bios when the
 * object's file was mapped to extents (vmp_bio_file_map()), else through
 * the same worker as the files backend, for the same reason (the file's
 * locks are never taken under a task's mmap_lock). With @b NULL the caller
 * has set @io->end_io, which is called when the I/O is done.
 */
void vmp_file_io_submit(struct vmp_batch *b, struct vmp_io *io,
			struct vmp_obj *obj, pgoff_t index, int rw)
{
	const struct vmp_backing *fb = obj->backing;

	io->batch = b;
	io->rw = rw;
	io->slot = VMP_NIL;
	if (b) {
		io->end_io = b->end_io;
		if (!io->end_io)
			atomic_inc(&b->pending);
	}
	io->fobj = true;
	io->sf = NULL;
	io->filp = fb->file;
	io->len = vmp_file_page_len(fb, index);
	io->start_ns = local_clock();
	trace_vmpager_swap_submit(rw == WRITE, io->slot,
				  vmp_page_frame(io->page));
	if (vmp_should_fail(rw == WRITE ? VMP_FAULT_WRITE : VMP_FAULT_READ)) {
		vmp_io_complete_one(io, -EIO);
		return;
	}
	if (fb->ext) {
		/* block-level: no filesystem lock, submitted by the caller */
		vmp_bio_file_submit(b, io, fb, index);
		return;
	}
	io->iocb.ki_pos = fb->off + ((loff_t)index << PAGE_SHIFT);
	INIT_WORK(&io->work, vmp_io_work);
	queue_work(vmp_io_wq, &io->work);
}

/* Send what @b holds on to its backends, and end its plug. */
void vmp_batch_submit(struct vmp_batch *b)
{
	vmp_slot_free_run(b->slot_next, b->slot_end);
	b->slot_next = b->slot_end;
	vmp_srv_batch_flush(b);
	vmp_bio_flush(b);
	blk_finish_plug(&b->plug);
}

void vmp_batch_wait(struct vmp_batch *b)
{
	vmp_batch_submit(b);
	if (!atomic_dec_and_test(&b->pending))
		wait_for_completion(&b->done);
}

/*
 * Run @work in vmpager_ra: the end of an asynchronous read-ahead, which
 * must never wait behind file I/O (see the top of this file).
 */
void vmp_ra_queue(struct work_struct *work)
{
	queue_work(vmp_ra_wq, work);
}

/* Before the pool goes: no read-ahead end or write-back end still runs. */
void vmp_io_drain(void)
{
	if (vmp_ra_wq)
		flush_workqueue(vmp_ra_wq);
	if (vmp_io_wq)
		flush_workqueue(vmp_io_wq);
}
