// SPDX-License-Identifier: GPL-2.0
/*
 * vmpager memory objects: what one open() of /dev/vmpager creates.
 *
 * The fault path returns a pool page in vmf->page, locked and with a
 * reference for the core mm, so mappings get ordinary PTEs: mapcount and the
 * file rmap are kept by the core mm, MAP_PRIVATE copy-on-write is the core
 * mm's do_cow_fault/wp_page_copy, and get_user_pages users (O_DIRECT,
 * process_vm_readv, ptrace) work unchanged.
 *
 * Reverse map: the kernel's own i_mmap tree of obj->mapping finds every PTE
 * for unmap_mapping_pages(); it is not exported for walking, so each object
 * also keeps the list of its live VMAs (vm_ops open/close) to answer "which
 * (pid, address) map page @index" for inspection.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>

#include "vmp_internal.h"
#include "vmp_trace.h"

/* vmp_objs_lock: the object list, vmp_nr_objs; outermost vmpager lock */
DEFINE_MUTEX(vmp_objs_lock);
LIST_HEAD(vmp_objs);
unsigned long vmp_nr_objs;
static atomic64_t vmp_next_id = ATOMIC64_INIT(0);

static const struct address_space_operations vmp_aops = {
	.dirty_folio = noop_dirty_folio,
};

static const struct vm_operations_struct vmp_vm_ops;

struct vmp_obj *vmp_obj_create(struct super_block *sb)
{
	struct vmp_obj *obj;
	struct inode *inode;
	int ret;

	obj = kzalloc(sizeof(*obj), GFP_KERNEL);
	if (!obj)
		return ERR_PTR(-ENOMEM);
	inode = alloc_anon_inode(sb);
	if (IS_ERR(inode)) {
		ret = PTR_ERR(inode);
		goto free_obj;
	}
	inode->i_mapping->a_ops = &vmp_aops;
	obj->inode = inode;
	obj->mapping = inode->i_mapping;
	obj->id = atomic64_inc_return(&vmp_next_id);
	obj->max_size = READ_ONCE(vmp_max_obj_pages);
	xa_init(&obj->pages);
	vmp_ra_init(&obj->ra);
	mutex_init(&obj->lock);
	spin_lock_init(&obj->vmas_lock);
	INIT_LIST_HEAD(&obj->vmas);
	atomic_long_set(&obj->resident, 0);
	atomic_long_set(&obj->swapped, 0);
	atomic_long_set(&obj->faults, 0);

	mutex_lock(&vmp_objs_lock);
	list_add_tail(&obj->node, &vmp_objs);
	vmp_nr_objs++;
	mutex_unlock(&vmp_objs_lock);
	vmp_count(VMPAGER_STAT_objects_created);
	return obj;

free_obj:
	kfree(obj);
	return ERR_PTR(ret);
}

/*
 * Called from ->release: the last file reference is gone, and every VMA holds
 * one, so nothing maps the object any more.
 */
void vmp_obj_destroy(struct vmp_obj *obj)
{
	unsigned long index;
	void *entry;

	mutex_lock(&vmp_objs_lock);
	list_del(&obj->node);
	vmp_nr_objs--;
	mutex_unlock(&vmp_objs_lock);

	WARN_ON_ONCE(!list_empty(&obj->vmas));
	xa_for_each(&obj->pages, index, entry) {
		struct page *page;

again:
		xa_lock(&obj->pages);
		entry = xa_load(&obj->pages, index);
		if (entry && !xa_is_value(entry) && !get_page_unless_zero(entry)) {
			/* reclaim froze it while changing the slot */
			xa_unlock(&obj->pages);
			cpu_relax();
			goto again;
		}
		xa_unlock(&obj->pages);
		if (!entry)
			continue;
		if (xa_is_value(entry)) {
			xa_erase(&obj->pages, index);
			vmp_slot_free(xa_to_value(entry));
			continue;
		}
		/* reclaim may hold the page: it changes the slot under its lock */
		page = entry;
		lock_page(page);
		if (xa_load(&obj->pages, index) != page) {
			unlock_page(page);
			put_page(page);
			goto again;
		}
		if (obj->backing && vmp_file_wb_busy(page)) {
			/* its write-back still uses the frame: let it end */
			unlock_page(page);
			put_page(page);
			vmp_file_wb_wait_page(page);
			goto again;
		}
		xa_erase(&obj->pages, index);
		/*
		 * Off the policy's lists before the page is unlocked: reclaim
		 * only picks frames on the lists, and must never pick one
		 * whose object is about to be freed.
		 */
		vmp_frame_unlist(page);
		unlock_page(page);
		put_page(page);
		atomic_long_dec(&obj->resident);
		vmp_frame_release(page);
	}
	xa_destroy(&obj->pages);
	vmp_file_wb_drain(obj);	/* the last write-back's end touches obj */
	vmp_file_put(obj);
	iput(obj->inode);
	vmp_count(VMPAGER_STAT_objects_freed);
	kfree(obj);
}

/* ---- the VMA list ---- */

static void vmp_vma_add_locked(struct vmp_obj *obj, struct vm_area_struct *vma,
			       struct vmp_vma *rec)
{
	lockdep_assert_held(&obj->lock);
	rec->vma = vma;
	vma->vm_private_data = rec;
	spin_lock(&obj->vmas_lock);
	list_add_tail(&rec->node, &obj->vmas);
	spin_unlock(&obj->vmas_lock);
	obj->nr_vmas++;
}

static void vmp_vma_add(struct vmp_obj *obj, struct vm_area_struct *vma,
			struct vmp_vma *rec)
{
	mutex_lock(&obj->lock);
	vmp_vma_add_locked(obj, vma, rec);
	mutex_unlock(&obj->lock);
}

/*
 * ->open: a new VMA copied from one of ours (fork, split, mremap move).
 * It cannot fail, and the record is a few bytes: __GFP_NOFAIL.
 */
static void vmp_vm_open(struct vm_area_struct *vma)
{
	struct vmp_obj *obj = vma->vm_file->private_data;
	struct vmp_vma *rec = kmalloc(sizeof(*rec), GFP_KERNEL | __GFP_NOFAIL);

	vmp_vma_add(obj, vma, rec);
}

static void vmp_vm_close(struct vm_area_struct *vma)
{
	struct vmp_obj *obj = vma->vm_file->private_data;
	struct vmp_vma *rec = vma->vm_private_data;

	if (WARN_ON_ONCE(!rec || rec->vma != vma))
		return;
	mutex_lock(&obj->lock);
	spin_lock(&obj->vmas_lock);
	list_del(&rec->node);
	spin_unlock(&obj->vmas_lock);
	obj->nr_vmas--;
	mutex_unlock(&obj->lock);
	vma->vm_private_data = NULL;
	kfree(rec);
}

int vmp_obj_mmap(struct vmp_obj *obj, struct vm_area_struct *vma)
{
	pgoff_t end = vma->vm_pgoff + vma_pages(vma);
	struct vmp_vma *rec;

	if (end < vma->vm_pgoff || end > obj->max_size)
		return -EFBIG;
	rec = kmalloc(sizeof(*rec), GFP_KERNEL);
	if (!rec)
		return -ENOMEM;
	/* one section with MAP_FILE's check that nothing maps the object */
	mutex_lock(&obj->lock);
	if (obj->copying) {
		/* VMPAGER_IOC_COPY is filling it: mapped once it is whole */
		mutex_unlock(&obj->lock);
		kfree(rec);
		return -EBUSY;
	}
	if (obj->backing && obj->backing->ro && (vma->vm_flags & VM_SHARED)) {
		/* as a shared mapping of a file not open for writing */
		if (vma->vm_flags & VM_WRITE) {
			mutex_unlock(&obj->lock);
			kfree(rec);
			return -EACCES;
		}
		vma->vm_flags &= ~VM_MAYWRITE;
	}
	/* growth by in-place mremap has no callback: forbid it */
	vma->vm_flags |= VM_DONTEXPAND;
	vma->vm_ops = &vmp_vm_ops;
	vmp_vma_add_locked(obj, vma, rec);
	if (end > obj->size)
		WRITE_ONCE(obj->size, end);
	mutex_unlock(&obj->lock);
	return 0;
}

pid_t vmp_mm_pid(struct mm_struct *mm)
{
	pid_t pid = 0;
#ifdef CONFIG_MEMCG
	struct task_struct *task;

	rcu_read_lock();
	task = rcu_dereference(mm->owner);
	if (task)
		pid = task_tgid_nr(task);
	rcu_read_unlock();
#endif
	return pid;
}

/*
 * Visit every VMA mapping page @index of @obj with the address it sits at.
 * i_mmap_rwsem keeps vm_start/vm_end/vm_pgoff stable (split and mremap
 * change them under its write side); obj->lock keeps the list.
 */
void vmp_obj_rmap_walk(struct vmp_obj *obj, pgoff_t index, vmp_rmap_fn fn,
		       void *arg)
{
	struct vmp_vma *rec;

	i_mmap_lock_read(obj->mapping);
	mutex_lock(&obj->lock);
	list_for_each_entry(rec, &obj->vmas, node) {
		struct vm_area_struct *vma = rec->vma;

		if (index < vma->vm_pgoff ||
		    index >= vma->vm_pgoff + vma_pages(vma))
			continue;
		fn(vma, vma->vm_start + ((index - vma->vm_pgoff) << PAGE_SHIFT),
		   arg);
	}
	mutex_unlock(&obj->lock);
	i_mmap_unlock_read(obj->mapping);
}

void vmp_obj_info(struct vmp_obj *obj, struct vmpager_obj_info *info)
{
	memset(info, 0, sizeof(*info));
	info->id = obj->id;
	info->max_size = obj->max_size;
	info->resident = atomic_long_read(&obj->resident);
	info->swapped = atomic_long_read(&obj->swapped);
	info->faults = atomic_long_read(&obj->faults);
	mutex_lock(&obj->lock);
	info->size = obj->size;
	info->mappers = obj->nr_vmas;
	if (obj->backing) {
		info->file_pages = obj->backing->npages;
		info->flags = VMPAGER_OBJ_FILE;
		if (obj->backing->ro)
			info->flags |= VMPAGER_OBJ_RDONLY;
		if (obj->backing->ext)
			info->flags |= VMPAGER_OBJ_BIO;
	}
	mutex_unlock(&obj->lock);
}

/* ---- the fault path ---- */

/* the order of the kinds printed by trace event vmpager_fault */
enum vmp_fault_kind { VMP_MINOR, VMP_ZERO, VMP_MAJOR, VMP_TRACE_SIGBUS };

#define VMP_MAX_RA	16
#define VMP_RA_ASYNC_MAX	(4 * VMP_MAX_RA)	/* an asynchronous window, pages */

void vmp_pol_trace(const struct vmp_pol_snap *b, const struct vmp_pol_snap *a,
		   u32 frame, u64 key)
{
	if (a->act != b->act)
		trace_vmpager_activate(frame, key, a->act - b->act);
	if (a->deact != b->deact)
		trace_vmpager_deactivate(frame, key, a->deact - b->deact);
	if (a->refault != b->refault)
		trace_vmpager_refault(frame, key, a->refault - b->refault);
}

/*
 * The object holds @page now: let the policy see it. @flags: VMP_FRAME_FRESH
 * for the page a fault maps (on the harvest's fresh ring), the read-ahead
 * flags (VMP_FRAME_RA...) for a page read ahead, 0 for a page nothing maps
 * yet (a failed read-ahead, a copy).
 */
static void vmp_frame_activate(struct vmp_obj *obj, struct page *page,
			       pgoff_t index, u16 flags)
{
	u32 frame = vmp_page_frame(page);
	u64 key = vmp_page_key(obj, index);
	struct vmp_pol_snap b, a;

	spin_lock(&vmp_pool.lock);
	vmp_pol_snap(&b);
	vmp_frame_insert_locked(frame, key);
	vmp_pol_snap(&a);
	if (flags & VMP_FRAME_FRESH)
		vmp_harvest_fresh_locked(frame);	/* the fault maps it */
	vmp_pool.frames[frame].flags |= flags & ~VMP_FRAME_FRESH;
	spin_unlock(&vmp_pool.lock);
	vmp_pol_trace(&b, &a, frame, key);
}

/*
 * A resident page was touched (minor fault, first write): a reference. A
 * touch of a soft-unmapped page is what soft-unmap aging samples. @map: a
 * fault that maps the page (its new PTE is young: vmp_harvest.c). Returns
 * true if the page was the first of a read-ahead window (VMP_FRAME_RA_MARK).
 */
static bool vmp_frame_touch(struct page *page, bool map)
{
	u32 frame = vmp_page_frame(page);
	struct vmp_frame *fr = &vmp_pool.frames[frame];
	bool ra_hit = false, soft = false, mark = false;
	struct vmp_pol_snap b, a;
	u64 key;

	spin_lock(&vmp_pool.lock);
	vmp_pol_snap(&b);
	if (fr->flags & VMP_FRAME_ONLIST)
		vmp_policy_reference(vmp_frame_policy(frame), frame);
	vmp_pol_snap(&a);
	key = vmp_page_key(fr->obj, fr->index);
	if (fr->flags & VMP_FRAME_RA) {
		mark = fr->flags & VMP_FRAME_RA_MARK;
		fr->flags &= ~(VMP_FRAME_RA | VMP_FRAME_RA_MARK);
		vmp_ra_hit(&fr->obj->ra);
		ra_hit = true;
	}
	if (fr->flags & VMP_FRAME_SOFT) {
		fr->flags &= ~VMP_FRAME_SOFT;
		soft = true;
	}
	if (map)
		vmp_harvest_fresh_locked(frame);
	spin_unlock(&vmp_pool.lock);
	vmp_pol_trace(&b, &a, frame, key);
	if (ra_hit)
		vmp_count(VMPAGER_STAT_readahead_hits);
	if (soft)
		vmp_count(VMPAGER_STAT_soft_refs);
	return mark;
}

static void vmp_frame_set_slot(struct page *page, u32 slot)
{
	spin_lock(&vmp_pool.lock);
	vmp_pool.frames[vmp_page_frame(page)].slot = slot;
	spin_unlock(&vmp_pool.lock);
}

/*
 * Install a frame for swapped page @index, locked and not yet up to date.
 * Returns the page, or NULL if there is no frame or the slot changed.
 */
static struct page *vmp_install_swapped(struct vmp_obj *obj, pgoff_t index,
					void *entry, bool reclaim)
{
	struct page *page;
	void *old;

	page = reclaim ? vmp_frame_alloc(obj, index) :
			 vmp_frame_alloc_noreclaim(obj, index);
	if (!page)
		return NULL;
	__SetPageLocked(page);
	ClearPageUptodate(page);
	vmp_frame_set_slot(page, xa_to_value(entry));
	old = xa_cmpxchg(&obj->pages, index, entry, page,
			 reclaim ? GFP_KERNEL : GFP_NOWAIT);
	if (old != entry) {
		vmp_frame_set_slot(page, VMP_NIL);	/* the slot is not ours */
		__ClearPageLocked(page);
		vmp_frame_release(page);
		return NULL;
	}
	atomic_long_dec(&obj->swapped);
	atomic_long_inc(&obj->resident);
	return page;
}

/* The read-ahead window for a swap-in fault at @index (vmp_ra.h). */
static u32 vmp_ra_decide(struct vmp_obj *obj, pgoff_t index)
{
	u32 max = min_t(u32, READ_ONCE(vmp_pool.ra_window), VMP_MAX_RA);
	u32 window;

	spin_lock(&vmp_pool.lock);
	window = vmp_ra_window(&obj->ra, index, max,
			       READ_ONCE(vmp_pool.ra_adaptive));
	spin_unlock(&vmp_pool.lock);
	return window;
}

/*
 * Install a frame for absent page @index of file-backed @obj, locked and not
 * yet up to date, for read-ahead (no reclaim). NULL if no frame is free or
 * the page is there already.
 */
static struct page *vmp_install_file(struct vmp_obj *obj, pgoff_t index)
{
	struct page *page = vmp_frame_alloc_noreclaim(obj, index);

	if (!page)
		return NULL;
	__SetPageLocked(page);
	ClearPageUptodate(page);
	if (xa_cmpxchg(&obj->pages, index, NULL, page, GFP_NOWAIT)) {
		__ClearPageLocked(page);
		vmp_frame_release(page);
		return NULL;
	}
	atomic_long_inc(&obj->resident);
	return page;
}

/*
 * Pages @first.. of @obj that are to be read ahead, at most @window of
 * them, into io[@n..]: each is installed in a frame that is free anyway
 * (no reclaim), locked and not up to date. The run stops at the first page
 * that is not one to read: resident, never written (an anonymous object's
 * hole reads as zero without I/O), past the object's end or its file's.
 * Returns the new count of io[].
 */
static u32 vmp_ra_collect(struct vmp_obj *obj, struct vmp_io *io, u32 n,
			  pgoff_t first, u32 window)
{
	pgoff_t idx, end = first + window;
	struct page *page;
	void *entry;

	for (idx = first; idx < end; idx++) {
		if (idx >= READ_ONCE(obj->size) ||
		    (obj->backing && idx >= obj->backing->npages))
			break;
		if (READ_ONCE(vmp_pool.buddy.free_pages) <=
		    READ_ONCE(vmp_pool.wmark_low))
			break;
		entry = xa_load(&obj->pages, idx);
		if (obj->backing) {
			page = entry ? NULL : vmp_install_file(obj, idx);
		} else {
			page = xa_is_value(entry) ?
			       vmp_install_swapped(obj, idx, entry, false) : NULL;
			io[n].slot = xa_to_value(entry);
		}
		if (!page)
			break;
		io[n++].page = page;
	}
	return n;
}

/*
 * Reads of @n pages io[0..@n-1], pages @index.. of @obj, in @b: from the
 * object's file or from swap (io[].slot).
 */
static void vmp_reads_submit(struct vmp_obj *obj, struct vmp_batch *b,
			     struct vmp_io *io, u32 n, pgoff_t index)
{
	u32 i;

	for (i = 0; i < n; i++) {
		if (obj->backing)
			vmp_file_io_submit(b, &io[i], obj, index + i, READ);
		else
			vmp_io_submit(b, &io[i], READ);
	}
}

/*
 * The read of locked page @io->page, page @index of @obj, is done: up to
 * date if it succeeded; a failed one stays in the object, not up to date,
 * and is read again by the next fault on it.
 */
static void vmp_read_done(struct vmp_obj *obj, struct vmp_io *io,
			  pgoff_t index)
{
	bool file = obj->backing;

	if (io->result) {
		vmp_count(VMPAGER_STAT_read_errors);
		if (file)
			pr_warn_ratelimited("read of object %llu page %lu from its file failed (%d)\n",
					    obj->id, index, io->result);
		else
			pr_warn_ratelimited("swap read of slot %u failed (%d)\n",
					    io->slot, io->result);
		return;
	}
	/* a bio read the last block whole: the rest is not ours */
	if (file && io->len < PAGE_SIZE)
		zero_user_segment(io->page, io->len, PAGE_SIZE);
	SetPageUptodate(io->page);
	vmp_count(file ? VMPAGER_STAT_file_reads : VMPAGER_STAT_swap_ins);
}

/*
 * Read-ahead page @io->page (page @index) was read: on the policy's lists,
 * flagged as read ahead (@mark: the first of its window, whose touch reads
 * the next window), then unlocked. @obj may be gone once it is unlocked.
 */
static void vmp_ra_page_done(struct vmp_obj *obj, struct vmp_io *io,
			     pgoff_t index, bool mark)
{
	u16 flags = VMP_FRAME_RA | (mark ? VMP_FRAME_RA_MARK : 0);

	vmp_read_done(obj, io, index);
	/* a failed read is no read-ahead: its next fault reads it again */
	vmp_frame_activate(obj, io->page, index, io->result ? 0 : flags);
	unlock_page(io->page);
}

/*
 * Read locked page @page (page @index of @obj) from swap (its frame's slot
 * says where) or from the object's file, and, if @ra, the pages after it
 * that are to be read too (vmp_ra_collect()), in one batch: as many as the
 * read-ahead window says (at most ra_window; fewer when adaptive and the
 * object's faults are not sequential, see policy/vmp_ra.h). Read-ahead
 * pages are unlocked and put on the policy's lists here; the first is
 * marked, so that its first touch reads the next window ahead
 * (vmp_ra_async()). Returns 0 or -EIO for @page itself; a page whose read
 * failed stays in the object, not up to date, and is read again by the
 * next fault on it. Bytes past a file's end read as zero (the frame was
 * zeroed).
 */
static int vmp_read_locked(struct vmp_obj *obj, struct page *page,
			   pgoff_t index, bool ra)
{
	u32 window = ra ? vmp_ra_decide(obj, index) : 0;
	struct vmp_batch batch;
	struct vmp_io *io;
	u32 i, n;
	int ret;

	io = kmalloc_array(1 + window, sizeof(*io), GFP_KERNEL);
	if (!io)
		return -ENOMEM;
	io[0].page = page;
	io[0].slot = vmp_pool.frames[vmp_page_frame(page)].slot;
	n = vmp_ra_collect(obj, io, 1, index + 1, window);
	vmp_batch_init(&batch);
	vmp_reads_submit(obj, &batch, io, n, index);
	vmp_batch_wait(&batch);
	vmp_read_done(obj, &io[0], index);
	for (i = 1; i < n; i++) {
		vmp_count(VMPAGER_STAT_readahead);
		vmp_ra_page_done(obj, &io[i], index + i, i == 1);
	}
	ret = io[0].result ? -EIO : 0;
	kfree(io);
	return ret;
}

/*
 * Asynchronous read-ahead, as the kernel's PG_readahead marker: the first
 * page of each read-ahead window is marked (VMP_FRAME_RA_MARK), and the
 * fault that first touches it sends the reads of the next window and
 * returns without waiting for them. A sequential reader then finds each
 * window read, or being read, by the time it gets there; a fault on a page
 * still being read waits for its page lock, as on a page another fault is
 * reading. The pages stay locked until their reads are done and
 * vmp_ra_async_done() has put them on the policy's lists, in vmpager_io.
 */
struct vmp_ra_req {
	struct work_struct work;
	struct vmp_obj *obj;		/* holds the locked pages: not freed */
	pgoff_t index;			/* page of io[0] */
	u32 n;
	atomic_t left;			/* reads not done, + 1 while submitting */
	struct vmp_io io[];
};

static void vmp_ra_async_done(struct work_struct *work)
{
	struct vmp_ra_req *req = container_of(work, struct vmp_ra_req, work);
	u32 i, n = req->n;

	/* vmp_obj_destroy() waits for each page's lock: obj is not touched after */
	for (i = 0; i < n; i++)
		vmp_ra_page_done(req->obj, &req->io[i], req->index + i, i == 0);
	vmp_count_add(VMPAGER_STAT_readahead_async, n);
	kfree(req);
}

static void vmp_ra_req_put(struct vmp_ra_req *req)
{
	/* fully ordered: every read's io->result is seen by the worker */
	if (atomic_dec_and_test(&req->left))
		vmp_ra_queue(&req->work);
}

/* Any context (a bio's completion): the page's part is done in vmpager_io. */
static void vmp_ra_io_end(struct vmp_io *io)
{
	trace_vmpager_swap_done(false, io->slot, vmp_page_frame(io->page),
				io->result, local_clock() - io->start_ns);
	vmp_ra_req_put(io->priv);
}

/*
 * A fault touched the marked page @index of @obj: read the window after
 * the read-ahead run it starts, without waiting. The window is twice that
 * run, at least ra_window and at most 4 * ra_window (VMP_RA_ASYNC_MAX), so
 * that a sequential reader's requests grow as the kernel's asynchronous
 * read-ahead does (mm/readahead.c doubles them). Called with that page
 * locked, in the fault.
 */
static void vmp_ra_async(struct vmp_obj *obj, pgoff_t index)
{
	u32 ra = min_t(u32, READ_ONCE(vmp_pool.ra_window), VMP_MAX_RA);
	struct vmp_ra_req *req;
	struct vmp_batch batch;
	pgoff_t first;
	void *entry;
	u32 i, n, window;

	if (!READ_ONCE(vmp_pool.ra_async) || !ra)
		return;
	/* the end of the run this page starts: its window, or less */
	for (first = index + 1; first <= index + VMP_RA_ASYNC_MAX; first++) {
		entry = xa_load(&obj->pages, first);
		if (!entry || xa_is_value(entry))
			break;
	}
	if (first > index + VMP_RA_ASYNC_MAX)
		return;		/* all there already */
	window = clamp_t(u32, 2 * (first - index), ra, 4 * ra);
	/* in a fault, for pages nobody asked for yet: no reclaim for it */
	req = kmalloc(struct_size(req, io, window), GFP_NOWAIT | __GFP_NOWARN);
	if (!req)
		return;
	n = vmp_ra_collect(obj, req->io, 0, first, window);
	if (!n) {
		kfree(req);
		return;
	}
	req->obj = obj;
	req->index = first;
	req->n = n;
	atomic_set(&req->left, n + 1);
	INIT_WORK(&req->work, vmp_ra_async_done);
	vmp_batch_init(&batch);
	batch.end_io = vmp_ra_io_end;
	for (i = 0; i < n; i++)
		req->io[i].priv = req;
	vmp_reads_submit(obj, &batch, req->io, n, first);
	vmp_batch_submit(&batch);
	vmp_ra_req_put(req);
}

/*
 * New frame @page of page @index (locked, with the fault's reference) was
 * read, from swap or from the object's file, with result @ret: it goes on
 * the policy's lists either way; returns it, or an ERR_PTR after letting
 * it go (a failed read stays in the object, not up to date).
 */
static struct page *vmp_major_done(struct vmp_obj *obj, struct page *page,
				   pgoff_t index, int ret,
				   enum vmp_fault_kind *kind)
{
	vmp_frame_activate(obj, page, index, VMP_FRAME_FRESH);
	if (ret) {
		unlock_page(page);
		put_page(page);
		return ERR_PTR(ret);
	}
	*kind = VMP_MAJOR;
	return page;
}

/*
 * The page at @index of @obj, locked, with a reference, rechecked under its
 * lock; or NULL with *@entryp the entry found there instead: NULL (never
 * held) or a swap slot's value.
 */
static struct page *vmp_obj_find_lock(struct vmp_obj *obj, pgoff_t index,
				      void **entryp)
{
	struct page *page;
	void *entry;

retry:
	xa_lock(&obj->pages);
	entry = xa_load(&obj->pages, index);
	page = NULL;
	if (entry && !xa_is_value(entry)) {
		page = entry;
		if (!get_page_unless_zero(page)) {
			/* reclaim froze it while changing the slot */
			xa_unlock(&obj->pages);
			cpu_relax();
			goto retry;
		}
	}
	xa_unlock(&obj->pages);
	*entryp = entry;
	if (!page)
		return NULL;
	if (!trylock_page(page)) {
		/* its read, by read-ahead or another fault, in flight? */
		if (!PageUptodate(page))
			vmp_count(VMPAGER_STAT_read_waits);
		lock_page(page);
	}
	/*
	 * Re-check the slot under the page lock: whoever takes a page out of
	 * obj->pages holds its lock while doing so.
	 */
	if (unlikely(xa_load(&obj->pages, index) != page)) {
		unlock_page(page);
		put_page(page);
		vmp_count(VMPAGER_STAT_faults_retry);
		goto retry;
	}
	return page;
}

/*
 * Page @index of @obj as it holds it, locked, with a reference: resident
 * (*kind VMP_MINOR; no reference for the policy yet), or read now (*kind
 * VMP_MAJOR): from swap, with read-ahead if @ra, or again after an earlier
 * read of it failed. NULL if @obj never held the page, or an ERR_PTR:
 * -ENOMEM when no frame could be had, -EIO when the read failed.
 */
static struct page *vmp_obj_read_page(struct vmp_obj *obj, pgoff_t index,
				      bool ra, enum vmp_fault_kind *kind)
{
	struct page *page;
	void *entry;
	int ret;

retry:
	page = vmp_obj_find_lock(obj, index, &entry);
	if (page) {
		*kind = VMP_MINOR;
		if (likely(PageUptodate(page)))
			return page;
		/* an earlier read of it failed: read again */
		ret = vmp_read_locked(obj, page, index, false);
		if (ret) {
			unlock_page(page);
			put_page(page);
			return ERR_PTR(ret);
		}
		*kind = VMP_MAJOR;
		return page;
	}
	if (!xa_is_value(entry))
		return NULL;
	page = vmp_install_swapped(obj, index, entry, true);
	if (!page) {
		if (xa_load(&obj->pages, index) != entry)
			goto retry;	/* someone else swapped it in */
		return ERR_PTR(-ENOMEM);
	}
	get_page(page);		/* the caller's reference */
	return vmp_major_done(obj, page, index,
			      vmp_read_locked(obj, page, index, ra), kind);
}

/*
 * Find, create or swap in page @index of @obj. Returns it locked, with a
 * reference for the caller, or an ERR_PTR: -ENOMEM when no frame could be
 * had, -EIO when its swap read failed. *kind says how it was served.
 */
static struct page *vmp_obj_get_page(struct vmp_obj *obj, pgoff_t index,
				     enum vmp_fault_kind *kind)
{
	struct page *page;
	void *old;

retry:
	page = vmp_obj_read_page(obj, index, true, kind);
	if (page) {
		if (!IS_ERR(page) && *kind == VMP_MINOR &&
		    vmp_frame_touch(page, true))
			vmp_ra_async(obj, index);
		return page;
	}

	page = vmp_frame_alloc(obj, index);
	if (!page)
		return ERR_PTR(-ENOMEM);
	get_page(page);		/* the fault's reference */
	__SetPageLocked(page);	/* nobody else can see it yet */
	if (obj->backing)
		ClearPageUptodate(page);	/* until its file read succeeded */
	old = xa_cmpxchg(&obj->pages, index, NULL, page, GFP_KERNEL);
	if (unlikely(old)) {
		/* another fault filled the slot first, or no memory */
		__ClearPageLocked(page);
		put_page(page);
		vmp_frame_release(page);
		if (xa_is_err(old))
			return ERR_PTR(xa_err(old));
		vmp_count(VMPAGER_STAT_faults_retry);
		goto retry;
	}
	atomic_long_inc(&obj->resident);
	if (obj->backing)
		return vmp_major_done(obj, page, index,
				      vmp_read_locked(obj, page, index, true),
				      kind);
	vmp_frame_activate(obj, page, index, VMP_FRAME_FRESH);
	*kind = VMP_ZERO;
	return page;
}

/* ---- copies (VMPAGER_IOC_COPY) ---- */

/* A new frame of @dst at @index holding a copy of locked @from; 0 or -errno. */
static int vmp_copy_page(struct vmp_obj *dst, pgoff_t index,
			 struct page *from)
{
	struct page *page = vmp_frame_alloc(dst, index);
	void *old;

	if (!page)
		return -ENOMEM;
	copy_highpage(page, from);
	SetPageDirty(page);	/* its only copy: eviction writes it */
	old = xa_store(&dst->pages, index, page, GFP_KERNEL);
	if (xa_is_err(old)) {
		vmp_frame_release(page);
		return xa_err(old);
	}
	atomic_long_inc(&dst->resident);
	vmp_frame_activate(dst, page, index, 0);
	vmp_count(VMPAGER_STAT_copy_pages);
	return 0;
}

/*
 * @src's size, and whether it can be copied into @dst: 0, or -errno. A
 * file-backed object is shared through its file, not copied; with no swap,
 * the copies must fit in the free frames above the high watermark (dirty
 * copies cannot be evicted, and a copy that ate the free frames would make
 * other faults fail).
 */
static int vmp_copy_check(struct vmp_obj *src, struct vmp_obj *dst,
			  pgoff_t *size)
{
	long need;

	mutex_lock(&src->lock);
	*size = src->size;
	need = src->backing ? -1 : atomic_long_read(&src->resident);
	mutex_unlock(&src->lock);
	if (need < 0)
		return -EINVAL;
	if (*size > dst->max_size)
		return -EFBIG;
	if (!vmp_swap_configured() &&
	    need + READ_ONCE(vmp_pool.wmark_high) >
	    READ_ONCE(vmp_pool.buddy.free_pages))
		return -ENOMEM;
	return 0;
}

/*
 * Copy pages @base..@base + @n - 1 of @src into @dst: each is locked and
 * unmapped from every mapper before it is copied (a fault on it waits for
 * the page lock; a write through an old PTE is over once
 * unmap_mapping_pages() has flushed it), so each page is copied whole. A
 * clean page with no slot is a zero page (what reclaim drops as
 * evict_zero): it stays a hole. 0 or -errno.
 */
static int vmp_copy_batch(struct vmp_obj *src, struct vmp_obj *dst,
			  pgoff_t base, u32 n, struct page **pages)
{
	enum vmp_fault_kind kind;
	int ret = 0;
	u32 i, got;

	for (got = 0; got < n; got++) {
		/* read in as a fault would, no read-ahead; not a reference */
		pages[got] = vmp_obj_read_page(src, base + got, false, &kind);
		if (IS_ERR(pages[got])) {
			ret = PTR_ERR(pages[got]);
			break;
		}
	}
	if (!ret)
		unmap_mapping_pages(src->mapping, base, n, false);
	for (i = 0; i < got; i++) {
		struct page *page = pages[i];

		if (!page)
			continue;
		if (!ret && (PageDirty(page) ||
			     vmp_pool.frames[vmp_page_frame(page)].slot != VMP_NIL))
			ret = vmp_copy_page(dst, base + i, page);
		unlock_page(page);
		put_page(page);
	}
	return ret;
}

/*
 * VMPAGER_IOC_COPY: fill fresh @dst with a copy of the object behind
 * @cp->fd, a batch of its pages at a time (vmp_copy_batch()), the holes
 * skipped. The batch is small enough for the pool to hold it and its
 * copies (the source pages are locked: reclaim skips them). @dst is marked
 * copying under its lock, so nothing maps or binds it before it is whole;
 * the lock itself is not held during the copy (the rmap walk and debugfs
 * take it under other locks).
 */
int vmp_obj_copy(struct vmp_obj *dst, const struct vmpager_copy *cp)
{
	struct page *src_pages[16];
	u32 batch = clamp_t(u32, vmp_pool.nframes / 16, 1,
			    ARRAY_SIZE(src_pages));
	unsigned long idx;
	pgoff_t size, base;
	struct vmp_obj *src;
	struct file *f;
	int ret;
	u32 n;

	if (cp->flags || cp->reserved[0] || cp->reserved[1])
		return -EINVAL;
	/* a server reading its own area would wait on itself */
	if (vmp_srv_is_server_mm(current->mm))
		return -EPERM;
	f = fget(cp->fd);
	if (!f)
		return -EBADF;
	ret = -EINVAL;
	if (f->f_op != vmp_misc_fops())
		goto put;
	src = f->private_data;
	if (src == dst)
		goto put;
	ret = -EACCES;
	if (!(f->f_mode & FMODE_READ))
		goto put;
	/* the source's lock, then this one's: never both at once */
	ret = vmp_copy_check(src, dst, &size);
	if (ret)
		goto put;
	mutex_lock(&dst->lock);
	if (dst->backing || dst->nr_vmas || dst->size || dst->copying ||
	    !xa_empty(&dst->pages))
		ret = -EBUSY;
	else
		dst->copying = true;
	mutex_unlock(&dst->lock);
	if (ret)
		goto put;
	for (base = 0; base < size && !ret; base += n) {
		idx = base;
		if (!xa_find(&src->pages, &idx, size - 1, XA_PRESENT))
			break;		/* holes to the end */
		base = idx;
		n = min_t(pgoff_t, size - base, batch);
		ret = vmp_copy_batch(src, dst, base, n, src_pages);
		if (!ret && fatal_signal_pending(current))
			ret = -EINTR;
		cond_resched();
	}
	mutex_lock(&dst->lock);
	dst->copying = false;
	if (!ret)
		WRITE_ONCE(dst->size, size);
	mutex_unlock(&dst->lock);
put:
	fput(f);
	return ret;
}

static vm_fault_t vmp_fault(struct vm_fault *vmf)
{
	struct vmp_obj *obj = vmf->vma->vm_file->private_data;
	static const enum vmpager_stat_id stat[] = {
		[VMP_MINOR] = VMPAGER_STAT_faults_minor,
		[VMP_ZERO] = VMPAGER_STAT_faults_zero,
		[VMP_MAJOR] = VMPAGER_STAT_faults_major,
	};
	u64 t0 = trace_vmpager_fault_enabled() ? local_clock() : 0;
	enum vmp_fault_kind kind;
	struct page *page;

	vmp_count(VMPAGER_STAT_faults);
	atomic_long_inc(&obj->faults);
	if (unlikely(vmf->pgoff >= READ_ONCE(obj->size) ||
		     (obj->backing && vmf->pgoff >= obj->backing->npages))) {
		vmp_count(VMPAGER_STAT_range_sigbus);
		if (t0)
			trace_vmpager_fault(obj->id, vmf->pgoff, VMP_TRACE_SIGBUS,
					    -ERANGE, local_clock() - t0);
		return VM_FAULT_SIGBUS;
	}
	page = vmp_obj_get_page(obj, vmf->pgoff, &kind);
	if (IS_ERR(page)) {
		if (PTR_ERR(page) == -ENOMEM)
			vmp_count(VMPAGER_STAT_oom_sigbus);
		if (t0)
			trace_vmpager_fault(obj->id, vmf->pgoff, VMP_TRACE_SIGBUS,
					    PTR_ERR(page), local_clock() - t0);
		/* -EIO: a failed swap read; only this access gets SIGBUS */
		return VM_FAULT_SIGBUS;
	}
	vmp_count(stat[kind]);
	/* the fresh ring is full: no reclaim pass took it (vmp_harvest.c) */
	if (READ_ONCE(vmp_pool.harvest) &&
	    READ_ONCE(vmp_pool.fresh_n) >= VMP_FRESH_RING)
		vmp_harvest_fresh_sweep();
	if (t0)
		trace_vmpager_fault(obj->id, vmf->pgoff, kind, 0,
				    local_clock() - t0);
	vmf->page = page;
	return VM_FAULT_LOCKED | (kind == VMP_MAJOR ? VM_FAULT_MAJOR : 0);
}

/* First write to a clean page of a shared writable mapping. */
static vm_fault_t vmp_page_mkwrite(struct vm_fault *vmf)
{
	struct vmp_obj *obj = vmf->vma->vm_file->private_data;
	struct page *page = vmf->page;

	lock_page(page);
	if (page->mapping != obj->mapping) {
		/* the page left the object under us: fault again */
		unlock_page(page);
		return VM_FAULT_NOPAGE;
	}
	set_page_dirty(page);
	vmp_frame_touch(page, false);
	vmp_count(VMPAGER_STAT_mkwrite);
	return VM_FAULT_LOCKED;
}

bool vmp_vma_is_ours(struct vm_area_struct *vma)
{
	return vma->vm_ops == &vmp_vm_ops;
}

/* Does @mm map any object of the device? */
bool vmp_mm_maps_device(struct mm_struct *mm)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct vm_area_struct *vma;
	bool ret = false;

	mmap_read_lock(mm);
	for_each_vma(vmi, vma) {
		if (vmp_vma_is_ours(vma)) {
			ret = true;
			break;
		}
	}
	mmap_read_unlock(mm);
	return ret;
}

static const struct vm_operations_struct vmp_vm_ops = {
	.open = vmp_vm_open,
	.close = vmp_vm_close,
	.fault = vmp_fault,
	.page_mkwrite = vmp_page_mkwrite,
};
