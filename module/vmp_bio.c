// SPDX-License-Identifier: GPL-2.0
/*
 * vmpager block I/O: swap files mapped to extents of their block device,
 * and block devices, read and written with bios.
 *
 * The kernel's swap maps a swap file once, at swapon, by asking the
 * filesystem where each block lives (bmap), and from then on sends bios
 * straight to the block device: the filesystem is never on the I/O path.
 * vmpager does the same for a file whose filesystem has ->bmap and lives
 * on one block device (ext4, xfs):
 *
 *   - the file is preallocated (vmp_swap.c), and the pages bmap() does not
 *     map yet are written with zeros through the filesystem, once: holes,
 *     and the unwritten extents fallocate leaves (bmap() reports both as
 *     block 0; a raw write under an unwritten extent would be read back as
 *     zeros by the filesystem, and a hole has no block at all);
 *   - the inode gets S_SWAPFILE for as long as the module holds it, as
 *     swapon does: the VFS then fails write(2), a shrinking truncate and
 *     fallocate with ETXTBSY, so no block moves under the bios;
 *   - every page's blocks must be contiguous on the device and start on a
 *     logical block of it; the pages are kept as a sorted array of extents
 *     (file page, pages, first sector), found by binary search. A file
 *     where that fails (fragmented 1 KiB blocks, xfs reflinked or realtime
 *     files, whose bmap reports no block) keeps the kiocb backend, as do
 *     encrypted files (a bio would bypass the encryption).
 *
 * A file-backed object (vmp_file.c) reads and writes its file the same
 * way when the file's range is whole on the device (vmp_bio_file_map()):
 * the same extents, the same S_SWAPFILE guard, set by the first such
 * object of the inode and cleared by the last.
 *
 * A block device area is claimed exclusively (FMODE_EXCL), as swapon does:
 * mounting it, swapon and a second area on it then fail with EBUSY.
 *
 * A file on any filesystem but ext4 and xfs (vmp_bio_fs_ok(): tmpfs and
 * btrfs have no bmap, others may move blocks) keeps the kiocb backend of
 * vmp_swap.c; the swap debugfs file names each file's backend in its io
 * column (bio, direct, buffered).
 *
 * Submission: vmp_bio_submit() adds a page to the bio its batch is building
 * while the page's sector follows the bio's last one and the direction is
 * the same, and starts a new bio otherwise: consecutive slots (the slot
 * allocator's next-fit cursor hands them out to a batch of evictions, and
 * read-ahead reads them back) go to the device as one multi-page request.
 * The batch also holds a block plug, so its bios reach the device driver
 * together (a striped area's bios, alternating between files, are not
 * merged by the plug, which only tries the last request; an I/O scheduler
 * may merge them). Bios are submitted by the faulting or reclaiming task itself,
 * with mmap_lock possibly held: no filesystem lock is taken here, which is
 * what made the kiocb path hand its I/O to a workqueue. A bio completes in
 * interrupt context and completes each of its pages' vmp_io there (a
 * write with an end_io callback, a file object's write-back, in the
 * vmpager_io worker; a read-ahead's end_io runs in interrupt context).
 *
 * A device that fails or times out a bio (the block layer's own timeouts:
 * a remote device's driver fails it after its timeout) fails the pages of
 * that bio only: a read error is SIGBUS for the fault that waited for it,
 * a write error keeps the page resident (vmp_reclaim.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "vmp_internal.h"

#define VMP_BIO_PAGES	32	/* pages per bio we build (a reclaim batch) */
#define VMP_WB_BIOS	16	/* write-back bios the pool keeps in reserve */
#define VMP_BIO_UNMAPPABLE 2	/* a page one bio cannot cover: kiocb backend */
#define VMP_ZERO_PAGES	64	/* pages per write when filling holes */

/*
 * A file object's write-back bio is allocated while the batch of the
 * reclaim pass that starts it may hold an unsubmitted bio from
 * fs_bio_set: taking a second one from the same mempool could wait for
 * itself. Write-backs have a pool of their own.
 */
static struct bio_set vmp_wb_bioset;
static bool vmp_wb_bioset_ready;

int vmp_bio_init(void)
{
	int ret = bioset_init(&vmp_wb_bioset, VMP_WB_BIOS, 0, BIOSET_NEED_BVECS);

	vmp_wb_bioset_ready = !ret;
	return ret;
}

void vmp_bio_exit(void)
{
	if (vmp_wb_bioset_ready)
		bioset_exit(&vmp_wb_bioset);
	vmp_wb_bioset_ready = false;
}

/*
 * Filesystems whose blocks stay where bmap() said while the inode is
 * S_SWAPFILE, and whose bmap() reports unwritten extents as holes: ext4
 * and xfs, by their type's name (ext2 and ext3 share ext4's magic number,
 * and the ext2 driver rewrites the end of the last block when a file
 * grows). Others may move blocks under us (f2fs's garbage collector
 * honours only pinned files), report unwritten extents as mapped (ocfs2),
 * or be shared with other nodes (gfs2, ocfs2): they keep filesystem I/O.
 */
static bool vmp_bio_is_fs(const struct super_block *sb, const char *name)
{
	return !strcmp(sb->s_type->name, name);
}

static bool vmp_bio_fs_ok(const struct super_block *sb)
{
	return vmp_bio_is_fs(sb, "ext4") || vmp_bio_is_fs(sb, "xfs");
}

static sector_t vmp_pages_to_sectors(u32 pages)
{
	return (sector_t)pages << (PAGE_SHIFT - SECTOR_SHIFT);
}

const char *vmp_swap_io_name(const struct vmp_swap_file *sf)
{
	switch (sf->io) {
	case VMP_IO_BIO:
		return "bio";
	case VMP_IO_DIRECT:
		return "direct";
	default:
		return "buffered";
	}
}

/* Write zeros through the filesystem over pages [first, first + n). */
static int vmp_bio_zero(struct file *file, u32 first, u32 n)
{
	struct bio_vec *bv;
	struct iov_iter iter;
	struct kiocb kiocb;
	ssize_t ret = 0;
	u32 i, chunk;

	bv = kmalloc_array(VMP_ZERO_PAGES, sizeof(*bv), GFP_KERNEL);
	if (!bv)
		return -ENOMEM;
	for (i = 0; i < VMP_ZERO_PAGES; i++) {
		bv[i].bv_page = ZERO_PAGE(0);
		bv[i].bv_len = PAGE_SIZE;
		bv[i].bv_offset = 0;
	}
	while (n) {
		chunk = min_t(u32, n, VMP_ZERO_PAGES);
		iov_iter_bvec(&iter, WRITE, bv, chunk, (size_t)chunk << PAGE_SHIFT);
		init_sync_kiocb(&kiocb, file);
		kiocb.ki_pos = (loff_t)first << PAGE_SHIFT;
		file_start_write(file);
		ret = vfs_iocb_iter_write(file, &kiocb, &iter);
		file_end_write(file);
		if (ret >= 0 && ret != (ssize_t)chunk << PAGE_SHIFT)
			ret = -EIO;	/* short: the disk is full */
		if (ret < 0)
			break;
		ret = 0;
		first += chunk;
		n -= chunk;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	kfree(bv);
	return ret;
}

/*
 * Where page @p of the file starts on the device: 0 with *@sector set, 1
 * if a block of it is not mapped, VMP_BIO_UNMAPPABLE if the page cannot be
 * read with one bio (its blocks are not contiguous, or not aligned to the
 * device's logical blocks; a block size above a page), or -errno. @kind
 * and @what name the file in the log ("swap file", its path).
 */
static int vmp_bio_page_sector(struct inode *inode, struct block_device *bdev,
			       u32 p, sector_t *sector, const char *kind,
			       const char *what)
{
	unsigned int bits = inode->i_blkbits;
	u32 per, j;
	sector_t first, blk, start = 0;
	int ret;

	if (bits > PAGE_SHIFT || bits < SECTOR_SHIFT)
		return VMP_BIO_UNMAPPABLE;
	per = PAGE_SIZE >> bits;
	first = (sector_t)p * per;
	for (j = 0; j < per; j++) {
		blk = first + j;
		ret = bmap(inode, &blk);
		if (ret)
			return ret;
		if (!blk)
			return 1;
		if (!j) {
			start = blk;
		} else if (blk != start + j) {
			pr_info("%s %s: the blocks of page %u are not contiguous on the device\n",
				kind, what, p);
			return VMP_BIO_UNMAPPABLE;
		}
	}
	*sector = start << (bits - SECTOR_SHIFT);
	if (*sector & ((bdev_logical_block_size(bdev) >> SECTOR_SHIFT) - 1)) {
		pr_info("%s %s: page %u starts inside a %u-byte block of the device\n",
			kind, what, p, bdev_logical_block_size(bdev));
		return VMP_BIO_UNMAPPABLE;
	}
	return 0;
}

/* Fill the pages of @sf that bmap() does not map; *@filled counts them. */
static int vmp_bio_fill(struct vmp_swap_file *sf, struct block_device *bdev,
			const char *what, u32 *filled)
{
	struct inode *inode = file_inode(sf->file);
	u32 p, run = 0;
	sector_t sector;
	int ret;

	*filled = 0;
	for (p = 0; p <= sf->nslots; p++) {
		if (!(p & 1023)) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
		ret = p < sf->nslots ?
		      vmp_bio_page_sector(inode, bdev, p, &sector, "swap file",
					  what) : 0;
		if (ret < 0 || ret == VMP_BIO_UNMAPPABLE)
			return ret;
		if (ret == 1) {
			run++;
			continue;
		}
		if (run) {
			ret = vmp_bio_zero(sf->file, p - run, run);
			if (ret) {
				pr_err("swap file %s: writing its %u unmapped pages from page %u failed (%d)\n",
				       what, run, p - run, ret);
				return ret;
			}
			*filled += run;
			run = 0;
		}
	}
	return 0;
}

/*
 * Map pages @first..@first + @n - 1 of @file to their sectors, as extents
 * whose page numbers count from @first: 0 with *@extp (kvmalloc'ed) and
 * *@nextp set, 1 if a page has no block (a hole, an unwritten extent),
 * VMP_BIO_UNMAPPABLE, or -errno.
 */
static int vmp_bio_map_pages(struct file *file, struct block_device *bdev,
			     u32 first, u32 n, const char *kind,
			     const char *what, struct vmp_swap_extent **extp,
			     u32 *nextp)
{
	struct inode *inode = file_inode(file);
	struct vmp_swap_extent *ext = NULL, *e;
	u32 p, next = 0, cap = 0;
	sector_t sector;
	int ret;

	for (p = 0; p < n; p++) {
		if (!(p & 1023)) {
			ret = -EINTR;
			if (fatal_signal_pending(current))
				goto fail;
			cond_resched();
		}
		ret = vmp_bio_page_sector(inode, bdev, first + p, &sector,
					  kind, what);
		if (ret)
			goto fail;
		e = next ? &ext[next - 1] : NULL;
		if (e && e->sector + vmp_pages_to_sectors(e->nr) == sector) {
			e->nr++;
			continue;
		}
		if (next == cap) {
			struct vmp_swap_extent *bigger;

			cap = cap ? 2 * cap : 16;
			bigger = kvrealloc(ext, next * sizeof(*ext),
					   cap * sizeof(*ext), GFP_KERNEL);
			ret = -ENOMEM;
			if (!bigger)
				goto fail;
			ext = bigger;
		}
		ext[next++] = (struct vmp_swap_extent){ .page = p, .nr = 1,
							.sector = sector };
	}
	*extp = ext;
	*nextp = next;
	return 0;
fail:
	kvfree(ext);
	return ret;
}

/* Map every page of @sf to its sectors; fills sf->ext and sf->next. */
static int vmp_bio_map(struct vmp_swap_file *sf, struct block_device *bdev,
		       const char *what)
{
	int ret = vmp_bio_map_pages(sf->file, bdev, 0, sf->nslots, "swap file",
				    what, &sf->ext, &sf->next);

	if (ret == 1) {
		pr_info("swap file %s: a page has no block even after it was written\n",
			what);
		ret = VMP_BIO_UNMAPPABLE;
	}
	return ret;
}

static int vmp_bio_claim(struct vmp_swap_file *sf, const char *what)
{
	struct inode *inode = file_inode(sf->file);
	struct block_device *bdev;

	bdev = blkdev_get_by_dev(inode->i_rdev,
				 FMODE_READ | FMODE_WRITE | FMODE_EXCL, sf);
	if (IS_ERR(bdev)) {
		pr_err("swap device %s: cannot claim it (%ld): mounted, used as swap or by another area?\n",
		       what, PTR_ERR(bdev));
		return PTR_ERR(bdev);
	}
	if (bdev_logical_block_size(bdev) > PAGE_SIZE) {
		pr_err("swap device %s: %u-byte logical blocks, larger than a page\n",
		       what, bdev_logical_block_size(bdev));
		blkdev_put(bdev, FMODE_READ | FMODE_WRITE | FMODE_EXCL);
		return -EINVAL;
	}
	sf->ext = kvmalloc(sizeof(*sf->ext), GFP_KERNEL);
	if (!sf->ext) {
		blkdev_put(bdev, FMODE_READ | FMODE_WRITE | FMODE_EXCL);
		return -ENOMEM;
	}
	sf->ext[0] = (struct vmp_swap_extent){ .nr = sf->nslots };
	sf->next = 1;
	sf->claimed = bdev;
	sf->bdev = bdev;
	sf->io = VMP_IO_BIO;
	return 0;
}

/*
 * Can the file be mapped at all? Page 0 is written first if bmap() does not
 * map it; a filesystem that still reports no block for a written page
 * (xfs for reflinked and realtime files) cannot be extent-mapped, and is
 * not filled in full for nothing.
 */
static int vmp_bio_probe(struct vmp_swap_file *sf, struct block_device *bdev,
			 const char *what)
{
	struct inode *inode = file_inode(sf->file);
	sector_t sector;
	int ret;

	ret = vmp_bio_page_sector(inode, bdev, 0, &sector, "swap file", what);
	if (ret != 1)
		return ret;
	ret = vmp_bio_zero(sf->file, 0, 1);
	if (ret)
		return ret;
	ret = vmp_bio_page_sector(inode, bdev, 0, &sector, "swap file", what);
	return ret == 1 ? VMP_BIO_UNMAPPABLE : ret;
}

/*
 * Choose @sf's backend once it is open, checked and preallocated: a block
 * device is claimed; a file whose filesystem maps it (bmap) is filled,
 * marked S_SWAPFILE, written back and mapped; any other file, or one whose
 * pages one bio cannot cover, keeps its kiocb backend (sf->io is already
 * direct or buffered), and the log says why. Encrypted files keep it too:
 * bios would bypass the encryption. Returns 0 or -errno, with @sf's own
 * state undone (the caller still holds and puts the file).
 */
int vmp_bio_setup(struct vmp_swap_file *sf, const char *what)
{
	struct inode *inode = file_inode(sf->file);
	struct block_device *bdev = inode->i_sb->s_bdev;
	u32 filled;
	int ret;

	if (S_ISBLK(inode->i_mode))
		return vmp_bio_claim(sf, what);
	if (!sf->file->f_mapping->a_ops->bmap || !bdev || IS_ENCRYPTED(inode) ||
	    !vmp_bio_fs_ok(inode->i_sb))
		return 0;	/* no extents to map: the kiocb backend */
	if (IS_SWAPFILE(inode)) {
		pr_err("swap file %s: in use as swap (by swapon or another area)\n",
		       what);
		return -EBUSY;
	}
	ret = vmp_bio_probe(sf, bdev, what);
	if (!ret)
		ret = vmp_bio_fill(sf, bdev, what, &filled);
	if (ret == VMP_BIO_UNMAPPABLE)
		goto kiocb;
	if (ret)
		return ret;
	if (filled)
		pr_info("swap file %s: wrote its %u unwritten or unallocated pages once, to map them\n",
			what, filled);
	inode_lock(inode);
	if (IS_SWAPFILE(inode)) {
		inode_unlock(inode);
		pr_err("swap file %s: in use as swap (by swapon or another area)\n",
		       what);
		return -EBUSY;
	}
	inode->i_flags |= S_SWAPFILE;
	inode_unlock(inode);
	sf->swapflag = true;
	/*
	 * Nothing may reach these blocks through the page cache later: write
	 * back what is dirty (a filesystem without delalloc does not flush in
	 * bmap) and drop every cached page, as swapon's activation does.
	 */
	ret = vfs_fsync(sf->file, 1);
	if (!ret)
		ret = invalidate_inode_pages2(sf->file->f_mapping);
	if (!ret)
		ret = vmp_bio_map(sf, bdev, what);
	if (ret) {
		vmp_bio_release(sf);
		if (ret == VMP_BIO_UNMAPPABLE)
			goto kiocb;
		return ret;
	}
	sf->bdev = bdev;
	sf->io = VMP_IO_BIO;
	return 0;
kiocb:
	pr_info("swap file %s: cannot be mapped to extents of its device: filesystem I/O\n",
		what);
	return 0;
}

/* Undo vmp_bio_setup(): at unload, or when adding the file failed. */
void vmp_bio_release(struct vmp_swap_file *sf)
{
	struct inode *inode;

	if (sf->swapflag) {
		inode = file_inode(sf->file);
		inode_lock(inode);
		inode->i_flags &= ~S_SWAPFILE;
		inode_unlock(inode);
		sf->swapflag = false;
	}
	if (sf->claimed)
		blkdev_put(sf->claimed, FMODE_READ | FMODE_WRITE | FMODE_EXCL);
	sf->claimed = NULL;
	sf->bdev = NULL;
	kvfree(sf->ext);
	sf->ext = NULL;
	sf->next = 0;
}

/* The device sector of page @page, in the @next extents @ext cover. */
static sector_t vmp_bio_sector(const struct vmp_swap_extent *ext, u32 next,
			       u32 page)
{
	u32 lo = 0, hi = next;

	while (hi - lo > 1) {
		u32 mid = lo + (hi - lo) / 2;

		if (ext[mid].page <= page)
			lo = mid;
		else
			hi = mid;
	}
	return ext[lo].sector + vmp_pages_to_sectors(page - ext[lo].page);
}

/* Interrupt context: complete every page of @bio with its status. */
static void vmp_bio_end(struct bio *bio)
{
	struct vmp_io *io = bio->bi_private, *next;
	int err = blk_status_to_errno(bio->bi_status);

	bio_put(bio);
	/*
	 * Each page holds a count of its batch, or of its read-ahead request
	 * (an asynchronous batch: vmp_ra_req.left): their vmp_io are not freed
	 * before the last of them is completed, and io->next is read before
	 * io is.
	 */
	for (; io; io = next) {
		next = io->next;
		vmp_io_complete_irq(io, err ? err : io->len);
	}
}

/* Submit the bio @b is building, if any. */
void vmp_bio_flush(struct vmp_batch *b)
{
	struct bio *bio = b->bio;

	if (!bio)
		return;
	b->bio = NULL;
	if (op_is_write(bio_op(bio))) {
		vmp_count(VMPAGER_STAT_bio_writes);
		vmp_count_add(VMPAGER_STAT_bio_write_pages, bio->bi_vcnt);
	} else {
		vmp_count(VMPAGER_STAT_bio_reads);
		vmp_count_add(VMPAGER_STAT_bio_read_pages, bio->bi_vcnt);
	}
	submit_bio(bio);
}

/*
 * Add @io's page (its batch counted it) to the bio @b is building when it
 * follows that bio's last page on the same device with the same flags, or
 * start a new bio. May sleep (bio allocation from the bio mempool,
 * GFP_NOIO: it waits rather than fails).
 */
static void vmp_bio_add(struct vmp_batch *b, struct vmp_io *io,
			struct block_device *bdev, sector_t sector,
			blk_opf_t opf)
{
	struct bio *bio = b->bio;

	if (bio && (bio->bi_bdev != bdev || bio->bi_opf != opf ||
		    b->next_sector != sector ||
		    bio->bi_vcnt >= bio->bi_max_vecs)) {
		vmp_bio_flush(b);
		bio = NULL;
	}
	if (!bio) {
		bio = bio_alloc(bdev, VMP_BIO_PAGES, opf, GFP_NOIO);
		bio->bi_iter.bi_sector = sector;
		bio->bi_end_io = vmp_bio_end;
		bio->bi_private = io;
		b->bio = bio;
	} else {
		b->tail->next = io;
	}
	io->next = NULL;
	b->tail = io;
	__bio_add_page(bio, io->page, PAGE_SIZE, 0);
	b->next_sector = sector + vmp_pages_to_sectors(1);
}

/* Page @page of swap file @sf, for @io (its batch counted it). */
void vmp_bio_submit(struct vmp_batch *b, struct vmp_io *io,
		    struct vmp_swap_file *sf, u32 page)
{
	blk_opf_t opf = io->rw == WRITE ? REQ_OP_WRITE | REQ_SWAP | REQ_SYNC :
					  REQ_OP_READ;

	vmp_bio_add(b, io, sf->bdev, vmp_bio_sector(sf->ext, sf->next, page),
		    opf);
}

/* ---- file-backed objects ---- */

/*
 * Map the range of file-backed @fb to extents of its filesystem's device,
 * so that its pages are read and written with bios as swap is (vmp_file.c
 * decides when to try). @setflag: no other object of this inode has done
 * it, set S_SWAPFILE. The range must be whole on the device: every page
 * inside the file's size, every block of it allocated and written (bmap()
 * reports holes and unwritten extents as block 0), each page one run of
 * blocks; and the range must end on a page boundary or at the end of the
 * file, since a bio writes whole pages. Returns 0 (fb->bdev, fb->ext and
 * fb->next set), 1 if the range cannot be mapped (the page cache path
 * stays; *@why says why), or -errno.
 */
int vmp_bio_file_map(struct vmp_backing *fb, bool setflag, const char **why)
{
	struct file *file = fb->file;
	struct inode *inode = file_inode(file);
	struct block_device *bdev = inode->i_sb->s_bdev;
	const char *what = file->f_path.dentry->d_name.name;
	loff_t end = fb->off + fb->length;
	int ret;

	*why = "its filesystem is not ext4 or xfs on a block device";
	if (!file->f_mapping->a_ops->bmap || !bdev || IS_DAX(inode) ||
	    !vmp_bio_fs_ok(inode->i_sb))
		return 1;
	*why = "it is encrypted";
	if (IS_ENCRYPTED(inode))
		return 1;
	*why = "it lies beyond 2^32 pages";
	if ((fb->off >> PAGE_SHIFT) + fb->npages > U32_MAX)
		return 1;
	if (setflag) {
		inode_lock(inode);
		if (IS_SWAPFILE(inode)) {
			inode_unlock(inode);
			return -ETXTBSY;	/* swapon got there first */
		}
		inode->i_flags |= S_SWAPFILE;
		inode_unlock(inode);
		/* direct writes that passed the check before it: drained */
		inode_dio_wait(inode);
	}
	/* from here the file cannot shrink and its blocks cannot move */
	ret = 1;
	*why = "the range goes past the end of the file";
	if (end > i_size_read(inode))
		goto undo;
	/*
	 * A bio writes the whole last page: past the end of the file it
	 * writes zeros, which ext4 keeps there. xfs zeroes the end of its
	 * last block from its page cache when the file grows (allowed under
	 * S_SWAPFILE), over what a bio wrote: only whole pages there.
	 */
	*why = "the range ends inside a page (at the end of a file: ext4 only)";
	if (!PAGE_ALIGNED(fb->length) &&
	    (end != i_size_read(inode) || !vmp_bio_is_fs(inode->i_sb, "ext4")))
		goto undo;
	/*
	 * What write(2) left in the page cache reaches the blocks first. Its
	 * errors are kept for the file's other users (fsync reports them):
	 * filemap_write_and_wait_range() would clear them.
	 */
	ret = filemap_fdatawrite_range(file->f_mapping, fb->off, end - 1);
	if (!ret)
		ret = filemap_fdatawait_range_keep_errors(file->f_mapping,
							  fb->off, end - 1);
	if (ret)
		goto undo;
	ret = vmp_bio_map_pages(file, bdev, fb->off >> PAGE_SHIFT, fb->npages,
				"bound file", what, &fb->ext, &fb->next);
	*why = ret == 1 ? "a page of the range is a hole or unwritten" :
			  "a page of the range is not one run of device blocks";
	if (ret)
		goto undo;
	fb->bdev = bdev;
	return 0;
undo:
	if (setflag) {
		inode_lock(inode);
		inode->i_flags &= ~S_SWAPFILE;
		inode_unlock(inode);
	}
	return ret == VMP_BIO_UNMAPPABLE ? 1 : ret;
}

/*
 * Undo vmp_bio_file_map() once no I/O of @fb is left: @clearflag, the last
 * object of the inode that used bios is going, clear S_SWAPFILE. The file's
 * cached pages of the range are dropped, so read(2) sees what the bios
 * wrote.
 */
void vmp_bio_file_unmap(struct vmp_backing *fb, bool clearflag)
{
	struct inode *inode = file_inode(fb->file);

	if (!fb->ext)
		return;
	vmp_bio_file_invalidate(fb);
	if (clearflag) {
		inode_lock(inode);
		inode->i_flags &= ~S_SWAPFILE;
		inode_unlock(inode);
	}
	kvfree(fb->ext);
	fb->ext = NULL;
	fb->next = 0;
	fb->bdev = NULL;
}

/*
 * Drop the file's cached pages of @fb's range, after bios wrote the range:
 * read(2) then reads the device. Mapped pages are unmapped first; a page
 * the filesystem cannot release now (-EBUSY: its journal holds its
 * buffers) stays, and the caller does not fail for it.
 */
void vmp_bio_file_invalidate(const struct vmp_backing *fb)
{
	pgoff_t first = fb->off >> PAGE_SHIFT;

	invalidate_inode_pages2_range(fb->file->f_mapping, first,
				      first + fb->npages - 1);
}

/*
 * Page @index of the object @fb backs, for @io: added to @b's bio, or with
 * @b NULL (an asynchronous write-back, io->end_io set) sent at once in a
 * bio of its own, from vmp_wb_bioset. No filesystem lock is taken; may
 * sleep as vmp_bio_add().
 */
void vmp_bio_file_submit(struct vmp_batch *b, struct vmp_io *io,
			 const struct vmp_backing *fb, pgoff_t index)
{
	blk_opf_t opf = io->rw == WRITE ? REQ_OP_WRITE | REQ_SYNC : REQ_OP_READ;
	sector_t sector = vmp_bio_sector(fb->ext, fb->next, index);
	struct bio *bio;

	if (b) {
		vmp_bio_add(b, io, fb->bdev, sector, opf);
		return;
	}
	io->next = NULL;
	bio = bio_alloc_bioset(fb->bdev, 1, opf, GFP_NOIO, &vmp_wb_bioset);
	bio->bi_iter.bi_sector = sector;
	bio->bi_end_io = vmp_bio_end;
	bio->bi_private = io;
	__bio_add_page(bio, io->page, PAGE_SIZE, 0);
	vmp_count(io->rw == WRITE ? VMPAGER_STAT_bio_writes :
				    VMPAGER_STAT_bio_reads);
	vmp_count(io->rw == WRITE ? VMPAGER_STAT_bio_write_pages :
				    VMPAGER_STAT_bio_read_pages);
	submit_bio(bio);
}
