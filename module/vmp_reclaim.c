// SPDX-License-Identifier: GPL-2.0
/*
 * vmpager reclaim: keeps free frames between the watermarks by evicting the
 * pages the policy (module/policy/) chooses.
 *
 * Watermarks on free frames, min < low < high (debugfs "watermarks"): an
 * allocation that finds fewer than low free wakes the reclaim kthread, which
 * evicts until high are free; an allocation that finds fewer than min (or
 * none) reclaims directly, in the faulting task, before it allocates.
 *
 * Evicting one victim (the policy detaches it under pool->lock):
 *   1. trylock its page, still under pool->lock; a locked page is busy
 *      (being faulted, read or written): put it back;
 *   2. re-check that the object still holds the page (a dying object
 *      erases its pages under the page lock, so it waits for us);
 *   3. skip mlocked and maybe-DMA-pinned pages;
 *   3a. soft-unmap aging (debugfs "soft_unmap", ref_source soft-unmap or
 *      both; off by default since accessed bits are harvested): a victim
 *      that is still mapped and was not soft-unmapped since its last touch
 *      is unmapped but kept: requeue() gives it one more trip down the
 *      lists, flagged SOFT. Touching it meanwhile is a cheap minor fault
 *      that the policy sees as a reference (and maps it again); if it comes
 *      up again untouched it is evicted. (The PTE young bit the zap moves
 *      to PG_referenced is not used: the access that mapped the page set it
 *      and the policy saw that access as a fault already.)
 *   3b. accessed-bit harvesting (debugfs "ref_source" accessed, the
 *      default, or both; vmp_harvest.c): each pass first tests the PTE
 *      accessed bits of the frames mapped since the last pass (consumed:
 *      their fault was the reference) and of harvest_batch candidates at
 *      the victim end of the lists, passing young ones to the policy as
 *      references; then a victim whose PTE is still young is requeued
 *      and referenced instead of evicted (before 3a, which then only sees
 *      untouched victims).
 *   4. unmap_mapping_pages() removes it from every process (one TLB
 *      shootdown), moving PTE dirty and young bits to the page;
 *   5. only the pool's reference may remain: anything else (a fault that
 *      took a reference and waits for the lock, a GUP pin) means busy; the
 *      count is checked again, frozen, when the slot changes (below);
 *   6. never written since zero-fill: drop it, the slot becomes empty and
 *      the next touch zero-fills again; clean with a readable swap copy:
 *      drop it and point the slot at the copy (swap-cache semantics); dirty,
 *      or clean with its only copy in a dead server's area: write it to a
 *      new swap slot, and only when the write succeeded point the slot at
 *      the copy, free the old slot and free the frame. Until then the old
 *      slot stays the frame's: a clean page whose copy sits with a dead
 *      server and that finds no new slot (server-only swap, full files)
 *      goes back clean with that slot, so it can never be mistaken for a
 *      zero page (it waits for the server or for room). A dirty page's old
 *      copy is stale: when no other slot is free it gives it up for the
 *      new one. A failed write leaves the page resident, as dirty as it
 *      was, with the slot it had, back on the lists.
 * The page stays locked from step 1 until its slot is updated, so a fault on
 * it waits and then finds either the page or the swap entry.
 *
 * vmp_policy_lock (rwsem): reclaim passes take it for read, a policy switch
 * for write, so no frame is detached while the policy changes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kthread.h>
#include <linux/pagemap.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include "vmp_internal.h"
#include "vmp_trace.h"

#define VMP_RECLAIM_BATCH	32

enum { EV_ZERO, EV_CLEAN, EV_WRITTEN, EV_BUSY, EV_NOSWAP, EV_WERR };

DECLARE_RWSEM(vmp_policy_lock);
static struct task_struct *vmp_kthread;
static DECLARE_WAIT_QUEUE_HEAD(vmp_kthread_wq);

u64 vmp_page_key(struct vmp_obj *obj, pgoff_t index)
{
	return (obj->id << 32) | (u32)index;
}

/* ---- the policy, under pool->lock ---- */

int vmp_policy_setup(int kind)
{
	size_t bytes = vmp_policy_mem_size(kind, vmp_pool.nframes);
	void *mem = NULL;

	if (bytes) {
		mem = kvmalloc(bytes, GFP_KERNEL);
		if (!mem)
			return -ENOMEM;
	}
	if (vmp_policy_init(&vmp_pool.pol, kind, vmp_pool.nframes,
			    &vmp_pool.frames[0].pn, sizeof(struct vmp_frame),
			    mem)) {
		kvfree(mem);
		return -EINVAL;
	}
	vmp_pool.pol_mem = mem;
	vmp_pool.pol_bytes = bytes;
	return 0;
}

/*
 * Switch policy at run time: move every held frame, coldest first, into a
 * fresh policy of @kind. Ghost history is not carried over. The frames move
 * VMP_LOCK_BATCH at a time with the pool lock dropped in between, so faults
 * go on and a large pool never holds the lock long (vmp_frame_policy() in
 * vmp_internal.h routes each fault's policy call meanwhile).
 */
int vmp_policy_switch(int kind)
{
	struct vmp_policy *newp;
	size_t bytes = vmp_policy_mem_size(kind, vmp_pool.nframes);
	void *mem = NULL, *oldmem;
	bool done;
	u32 f, n;
	int ret = -ENOMEM;

	newp = kmalloc(sizeof(*newp), GFP_KERNEL);
	if (bytes)
		mem = kvmalloc(bytes, GFP_KERNEL);
	if (!newp || (bytes && !mem))
		goto out;
	ret = -EINVAL;
	/* touches only *newp and mem: a frame's pnode is written by insert() */
	if (vmp_policy_init(newp, kind, vmp_pool.nframes,
			    &vmp_pool.frames[0].pn, sizeof(struct vmp_frame),
			    mem))
		goto out;
	down_write(&vmp_policy_lock);
	spin_lock(&vmp_pool.lock);
	/* with pol_next, under the lock vmp_watermarks_set() takes */
	vmp_policy_set_reserve(newp, vmp_pool.wmark_high);
	vmp_pool.pol_next = newp;
	spin_unlock(&vmp_pool.lock);
	do {
		spin_lock(&vmp_pool.lock);
		/* the frames' pnodes are shared: drain one, then insert it */
		for (n = 0; n < VMP_LOCK_BATCH; n++) {
			struct vmp_frame *fr;

			if (vmp_policy_drain(&vmp_pool.pol, &f))
				break;
			fr = &vmp_pool.frames[f];
			vmp_policy_insert(newp, f,
					  vmp_page_key(fr->obj, fr->index));
			fr->flags ^= VMP_FRAME_PGEN;
		}
		done = n < VMP_LOCK_BATCH;
		if (done) {
			/* every held frame is in newp now: it becomes pol */
			vmp_policy_stats_add(&newp->stats, &vmp_pool.pol.stats);
			vmp_pool.pol = *newp;
			vmp_pool.pol_next = NULL;
			vmp_pool.pol_gen ^= VMP_FRAME_PGEN;
			oldmem = vmp_pool.pol_mem;
			vmp_pool.pol_mem = mem;
			vmp_pool.pol_bytes = bytes;
			mem = oldmem;
		}
		spin_unlock(&vmp_pool.lock);
		cond_resched();
	} while (!done);
	up_write(&vmp_policy_lock);
	ret = 0;
out:
	kvfree(mem);
	kfree(newp);
	return ret;
}

/* ---- eviction ---- */

struct vmp_victim {
	struct vmp_io io;		/* io.page, io.slot: the write, if any */
	struct vmp_obj *obj;		/* valid until vmp_evict_finish() frees */
	u64 obj_id;			/* for tracing, after the object may be gone */
	pgoff_t index;
	u32 frame;
	u32 old_slot;			/* the frame's slot while the write runs */
	bool was_dirty;			/* dirty before the write cleared it */
};

/*
 * Put a detached frame back on the policy's lists. Always before the page
 * is unlocked: a dying object waiting for the lock frees the frame as soon
 * as it gets it, and a frame put back after that would sit on the lists
 * while free.
 */
static void vmp_putback(u32 frame)
{
	spin_lock(&vmp_pool.lock);
	vmp_policy_putback(&vmp_pool.pol, frame);
	vmp_pool.frames[frame].flags |= VMP_FRAME_ONLIST;
	spin_unlock(&vmp_pool.lock);
}

/* Change a detached frame's slot; its page is locked by reclaim. */
static void vmp_evict_set_slot(u32 frame, u32 slot)
{
	spin_lock(&vmp_pool.lock);
	vmp_pool.frames[frame].slot = slot;
	spin_unlock(&vmp_pool.lock);
}

/*
 * Take the page out of the object: point the object's slot at @entry (a swap
 * value, or NULL for "zero"), let the policy remember it, unlock the page and
 * free the frame. The refcount is frozen at the pool's single reference
 * around the slot update, so no fault can take a new reference in between
 * (faults and teardown take theirs with get_page_unless_zero() under the
 * xa_lock, and retry). If a fault already holds one and waits for the lock,
 * the page stays: clean, with @keep_slot as its valid swap copy. Returns
 * true if the frame was freed.
 */
static bool vmp_evict_finish(struct vmp_victim *v, void *entry, u32 keep_slot)
{
	struct page *page = v->io.page;
	struct vmp_obj *obj = v->obj;

	if (!page_ref_freeze(page, 1)) {
		spin_lock(&vmp_pool.lock);
		vmp_pool.frames[v->frame].slot = keep_slot;
		vmp_policy_putback(&vmp_pool.pol, v->frame);
		vmp_pool.frames[v->frame].flags |= VMP_FRAME_ONLIST;
		spin_unlock(&vmp_pool.lock);
		unlock_page(page);
		vmp_count(VMPAGER_STAT_evict_busy);
		return false;
	}
	/*
	 * Everything that touches the object happens before the slot changes:
	 * until then a dying object waits for this page (its teardown cannot
	 * take a reference to a frozen page), afterwards it may be freed at
	 * once. The frame forgets its object here too, so debugfs dumps never
	 * follow a stale pointer.
	 */
	if (entry)
		atomic_long_inc(&obj->swapped);
	atomic_long_dec(&obj->resident);
	spin_lock(&vmp_pool.lock);
	vmp_policy_evicted(&vmp_pool.pol, v->frame, vmp_page_key(obj, v->index));
	vmp_pool.frames[v->frame].slot = VMP_NIL;
	vmp_pool.frames[v->frame].obj = NULL;
	spin_unlock(&vmp_pool.lock);
	if (entry)
		xa_store(&obj->pages, v->index, entry, GFP_NOFS);
	else
		xa_erase(&obj->pages, v->index);
	page_ref_unfreeze(page, 1);
	/* no access to obj from here on */
	unlock_page(page);
	vmp_frame_release(page);
	return true;
}

/*
 * A file-backed object's page (vmp_file.c), unmapped and with only the
 * pool's reference: a clean one is dropped (the file has it); a dirty one
 * gets its write-back started and stays until a later pass finds it clean
 * (reclaim never waits for a file's write: see vmp_file.c). Returns as
 * vmp_evict_one(), 4 for a write-back started.
 */
static int vmp_evict_file(struct vmp_victim *v)
{
	struct page *page = v->io.page;
	int ret = -EAGAIN;

	if (!vmp_file_wb_busy(page) &&
	    (!PageDirty(page) || !PageUptodate(page) || v->obj->backing->ro)) {
		/* clean, or a failed read: the file holds the page */
		if (!vmp_evict_finish(v, NULL, VMP_NIL))
			return -EAGAIN;
		vmp_count(VMPAGER_STAT_evict_clean);
		trace_vmpager_evict(v->obj_id, v->index, v->frame, EV_CLEAN,
				    VMP_NIL);
		return 1;
	}
	if (vmp_file_wb_busy(page))
		vmp_count(VMPAGER_STAT_evict_busy);
	else if (!vmp_file_write_start(v->obj, page, v->index,
				       GFP_NOWAIT | __GFP_NOWARN))
		ret = 4;
	vmp_putback(v->frame);
	unlock_page(page);
	return ret;
}

/*
 * Steps 1-6 above for one victim. Returns 1 if it was freed at once, 0 if a
 * write was queued on @batch (v is then in use), 2 if it was soft-unmapped
 * (only when @soft), 3 if its accessed bit kept it, -EAGAIN if it was put
 * back, -ENOENT if the policy holds nothing.
 */
static int vmp_evict_one(struct vmp_batch *batch, struct vmp_victim *v,
			 bool soft)
{
	struct vmp_frame *fr;
	struct page *page;
	u32 frame, slot;

	struct vmp_pol_snap b, a;

	spin_lock(&vmp_pool.lock);
	vmp_pol_snap(&b);
	if (vmp_policy_victim(&vmp_pool.pol, &frame)) {
		spin_unlock(&vmp_pool.lock);
		return -ENOENT;
	}
	vmp_pol_snap(&a);
	vmp_count(VMPAGER_STAT_reclaim_scans);
	fr = &vmp_pool.frames[frame];
	fr->flags &= ~VMP_FRAME_ONLIST;
	page = vmp_frame_page(frame);
	if (!trylock_page(page)) {
		vmp_policy_putback(&vmp_pool.pol, frame);
		fr->flags |= VMP_FRAME_ONLIST;
		spin_unlock(&vmp_pool.lock);
		vmp_count(VMPAGER_STAT_evict_busy);
		return -EAGAIN;
	}
	v->obj = fr->obj;
	v->obj_id = fr->obj->id;
	v->index = fr->index;
	v->frame = frame;
	v->io.page = page;
	slot = fr->slot;
	spin_unlock(&vmp_pool.lock);
	vmp_pol_trace(&b, &a, frame, vmp_page_key(v->obj, v->index));

	if (xa_load(&v->obj->pages, v->index) != page) {
		/*
		 * Cannot happen while teardown takes frames off the lists
		 * under their page lock (vmp_obj_destroy); kept as a guard.
		 */
		spin_lock(&vmp_pool.lock);
		vmp_policy_evicted(&vmp_pool.pol, frame, 0);
		spin_unlock(&vmp_pool.lock);
		unlock_page(page);
		return -EAGAIN;
	}
	if (PageMlocked(page) || page_maybe_dma_pinned(page))
		goto busy;
	/* 3b: used since its last harvest (not only by its fault): kept */
	if (READ_ONCE(vmp_pool.harvest) && page_mapped(page) &&
	    vmp_harvest_victim(v->obj, v->index, frame)) {
		unlock_page(page);
		return 3;
	}
	if (soft && READ_ONCE(vmp_pool.soft_unmap) && page_mapped(page) &&
	    !(READ_ONCE(fr->flags) & VMP_FRAME_SOFT)) {
		unmap_mapping_pages(v->obj->mapping, v->index, 1, false);
		vmp_count(VMPAGER_STAT_unmaps);
		vmp_count(VMPAGER_STAT_soft_unmaps);
		/*
		 * The young bit the zap moved to PG_referenced was set by the
		 * access that mapped the page, which the policy already saw
		 * as a fault: it says nothing new. The next touch will.
		 */
		ClearPageReferenced(page);
		spin_lock(&vmp_pool.lock);
		vmp_policy_requeue(&vmp_pool.pol, frame);
		fr->flags |= VMP_FRAME_SOFT | VMP_FRAME_ONLIST;
		spin_unlock(&vmp_pool.lock);
		unlock_page(page);
		return 2;
	}
	unmap_mapping_pages(v->obj->mapping, v->index, 1, false);
	vmp_count(VMPAGER_STAT_unmaps);
	if (page_mapped(page) || page_count(page) != 1)
		goto busy;
	if (v->obj->backing)
		return vmp_evict_file(v);

	/*
	 * A clean page whose only copy sits with a dead server is written
	 * again (below), so dropping it cannot turn a readable page into a
	 * SIGBUS while the server is away.
	 */
	if ((!PageDirty(page) && (slot == VMP_NIL || vmp_slot_readable(slot))) ||
	    !PageUptodate(page)) {
		/* clean, or a failed swap-in whose copy is still in its slot */
		if (slot == VMP_NIL) {
			if (!vmp_evict_finish(v, NULL, slot))
				return -EAGAIN;
			vmp_count(VMPAGER_STAT_evict_zero);
			trace_vmpager_evict(v->obj_id, v->index, frame, EV_ZERO,
					    slot);
		} else {
			if (!vmp_evict_finish(v, xa_mk_value(slot), slot))
				return -EAGAIN;
			vmp_count(VMPAGER_STAT_evict_clean);
			trace_vmpager_evict(v->obj_id, v->index, frame, EV_CLEAN,
					    slot);
		}
		return 1;
	}
	/*
	 * Dirty, or clean with its copy in an offline server area: write it
	 * to a new slot and keep the old one until that write succeeded
	 * (vmp_evict_written). Freeing the old slot first lost the page once:
	 * a clean page with no slot left is a zero page to the next pass.
	 */
	if (!vmp_swap_configured())
		goto noswap;
	v->was_dirty = PageDirty(page);
	if (vmp_slot_alloc_batch(batch, &v->io.slot)) {
		/* only a dirty page's stale copy may make room for it */
		if (slot == VMP_NIL || !v->was_dirty)
			goto noswap;
		vmp_evict_set_slot(frame, VMP_NIL);
		vmp_slot_free(slot);
		slot = VMP_NIL;
		if (vmp_slot_alloc(&v->io.slot))
			goto noswap;
	}
	v->old_slot = slot;
	ClearPageDirty(page);
	vmp_io_submit(batch, &v->io, WRITE);
	return 0;

noswap:
	vmp_count(VMPAGER_STAT_evict_noswap);
	trace_vmpager_evict(v->obj_id, v->index, frame, EV_NOSWAP, VMP_NIL);
	vmp_putback(frame);
	unlock_page(page);
	return -EAGAIN;
busy:
	vmp_count(VMPAGER_STAT_evict_busy);
	trace_vmpager_evict(v->obj_id, v->index, frame, EV_BUSY, VMP_NIL);
	vmp_putback(frame);
	unlock_page(page);
	return -EAGAIN;
}

/* A queued write completed: finish the eviction or keep the page. */
static int vmp_evict_written(struct vmp_victim *v)
{
	if (!v->io.result) {
		vmp_count(VMPAGER_STAT_swap_outs);
		/* the new copy is good: the old one goes (the page is locked) */
		if (v->old_slot != VMP_NIL) {
			vmp_evict_set_slot(v->frame, v->io.slot);
			vmp_slot_free(v->old_slot);
		}
		if (!vmp_evict_finish(v, xa_mk_value(v->io.slot), v->io.slot))
			return 0;
		vmp_count(VMPAGER_STAT_evict_written);
		trace_vmpager_evict(v->obj_id, v->index, v->frame, EV_WRITTEN,
				    v->io.slot);
		return 1;
	}
	vmp_count(VMPAGER_STAT_write_errors);
	trace_vmpager_evict(v->obj_id, v->index, v->frame, EV_WERR, v->io.slot);
	pr_warn_ratelimited("swap write of slot %u failed (%d): page kept resident\n",
			    v->io.slot, v->io.result);
	vmp_slot_free(v->io.slot);
	/* the frame still has its old slot, if any: a clean page stays clean */
	if (v->was_dirty)
		SetPageDirty(v->io.page);
	vmp_putback(v->frame);
	unlock_page(v->io.page);
	return 0;
}

/*
 * Try to free @nr frames. Returns how many were freed. Gives up after
 * looking at every held frame a few times without progress.
 */
static unsigned long vmp_reclaim_one_pass(unsigned long nr,
					  unsigned long *scanned);

unsigned long vmp_reclaim(unsigned long nr, bool direct)
{
	unsigned long freed, scanned = 0;
	u64 t0 = 0;

	if (trace_vmpager_reclaim_begin_enabled()) {
		t0 = ktime_get_ns();
		trace_vmpager_reclaim_begin(nr, READ_ONCE(vmp_pool.buddy.free_pages),
					    direct);
	}
	freed = vmp_reclaim_one_pass(nr, &scanned);
	if (t0)
		trace_vmpager_reclaim_end(freed, scanned, ktime_get_ns() - t0);
	return freed;
}

static unsigned long vmp_reclaim_one_pass(unsigned long nr,
					  unsigned long *scanned)
{
	struct vmp_victim *v;
	unsigned long freed = 0, tries, budget;
	struct vmp_batch batch;
	int i, n, ret;
	/*
	 * Soft unmaps per pass are bounded: aging needs time between the
	 * unmap and the next look, and a pass that requeued everything would
	 * come back to the first page at once, before anyone could touch it.
	 */
	unsigned int soft_left = VMP_RECLAIM_BATCH;

	v = kmalloc_array(VMP_RECLAIM_BATCH, sizeof(*v), GFP_NOFS);
	if (!v)
		return 0;
	vmp_count(VMPAGER_STAT_reclaim_runs);
	down_read(&vmp_policy_lock);
	if (READ_ONCE(vmp_pool.harvest))
		vmp_harvest_pass();
	budget = 2 * (unsigned long)vmp_pool.nframes + nr;
	for (tries = 0; freed < nr && tries < budget;) {
		vmp_batch_init(&batch);
		n = 0;
		while (n < VMP_RECLAIM_BATCH && freed < nr && tries < budget) {
			tries++;
			/* its slot run: what this batch may still write */
			batch.slot_want = min_t(unsigned long,
						VMP_RECLAIM_BATCH - n,
						nr - freed - n);
			ret = vmp_evict_one(&batch, &v[n], soft_left > 0);
			if (ret != -ENOENT)
				(*scanned)++;
			if (ret == 2)
				soft_left--;
			if (ret == -ENOENT) {
				tries = budget;
				break;
			}
			if (ret == 1)
				freed++;
			else if (ret == 0)
				n++;
			if (ret == 0 && freed + n >= nr)
				break;
		}
		vmp_batch_wait(&batch);
		for (i = 0; i < n; i++)
			freed += vmp_evict_written(&v[i]);
		if (!n && freed < nr && tries >= budget)
			break;
	}
	up_read(&vmp_policy_lock);
	kfree(v);
	return freed;
}

/* ---- watermarks and the kthread ---- */

static u64 vmp_free_frames(void)
{
	return READ_ONCE(vmp_pool.buddy.free_pages);
}

/* Reclaim in the allocating task; returns the frames freed. */
unsigned long vmp_reclaim_direct(unsigned long nr)
{
	vmp_count(VMPAGER_STAT_reclaim_direct);
	return vmp_reclaim(nr, true);
}

/* Called once before a frame allocation. */
void vmp_reclaim_before_alloc(void)
{
	u64 nfree = vmp_free_frames();

	if (nfree < READ_ONCE(vmp_pool.wmark_min))
		vmp_reclaim_direct(VMP_RECLAIM_BATCH);
	if (nfree < READ_ONCE(vmp_pool.wmark_low) && vmp_kthread &&
	    !READ_ONCE(vmp_pool.kthread_busy)) {
		vmp_count(VMPAGER_STAT_kthread_wakeups);
		wake_up(&vmp_kthread_wq);
	}
}

static int vmp_reclaim_thread(void *arg)
{
	while (!kthread_should_stop()) {
		wait_event_interruptible(vmp_kthread_wq, kthread_should_stop() ||
			vmp_free_frames() < READ_ONCE(vmp_pool.wmark_low));
		if (kthread_should_stop())
			break;
		WRITE_ONCE(vmp_pool.kthread_busy, true);
		while (!kthread_should_stop()) {
			u64 nfree = vmp_free_frames();
			u64 high = READ_ONCE(vmp_pool.wmark_high);

			if (nfree >= high ||
			    !vmp_reclaim(min_t(u64, high - nfree, 256), false))
				break;
			cond_resched();
		}
		WRITE_ONCE(vmp_pool.kthread_busy, false);
		/* no progress possible (nothing evictable): don't spin */
		if (vmp_free_frames() < READ_ONCE(vmp_pool.wmark_low))
			schedule_timeout_interruptible(HZ / 10);
	}
	return 0;
}

/*
 * min < low < high <= pool/2; or 0 0 0: no background reclaim, and a frame
 * is evicted only when an allocation finds none free, one at a time (the
 * exact fixed-size cache of the simulator, for trace replay).
 */
int vmp_watermarks_set(u32 min, u32 low, u32 high)
{
	if (!(min < low && low < high && high <= vmp_pool.nframes / 2) &&
	    (min || low || high))
		return -EINVAL;
	spin_lock(&vmp_pool.lock);
	WRITE_ONCE(vmp_pool.wmark_min, min);
	WRITE_ONCE(vmp_pool.wmark_low, low);
	WRITE_ONCE(vmp_pool.wmark_high, high);
	/* the frames kept free are not the policy's to fill */
	vmp_policy_set_reserve(&vmp_pool.pol, high);
	if (vmp_pool.pol_next)
		vmp_policy_set_reserve(vmp_pool.pol_next, high);
	spin_unlock(&vmp_pool.lock);
	wake_up(&vmp_kthread_wq);
	return 0;
}

int vmp_reclaim_init(void)
{
	u32 n = vmp_pool.nframes;

	/* defaults: 1/64, 2/64, 3/64 of the pool, at least 4, 8, 16 frames */
	vmp_pool.wmark_min = max(n / 64, 4U);
	vmp_pool.wmark_low = max(n / 32, 8U);
	vmp_pool.wmark_high = max(3 * n / 64, 16U);
	spin_lock(&vmp_pool.lock);
	vmp_policy_set_reserve(&vmp_pool.pol, vmp_pool.wmark_high);
	spin_unlock(&vmp_pool.lock);
	vmp_pool.ra_window = 8;
	vmp_pool.ra_adaptive = true;
	vmp_pool.ra_async = true;
	/* ref_source accessed: the hardware's bit, no extra faults */
	vmp_pool.soft_unmap = false;
	vmp_pool.harvest = true;
	/* 128: the replay's misses match vmpsim's (docs/performance.md) */
	vmp_pool.harvest_batch = 128;
	vmp_pool.harvest_flush = true;
	vmp_kthread = kthread_run(vmp_reclaim_thread, NULL, "vmpager_reclaim");
	if (IS_ERR(vmp_kthread)) {
		int ret = PTR_ERR(vmp_kthread);

		vmp_kthread = NULL;
		return ret;
	}
	return 0;
}

void vmp_reclaim_exit(void)
{
	if (vmp_kthread)
		kthread_stop(vmp_kthread);
	vmp_kthread = NULL;
}
