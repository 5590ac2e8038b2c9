// SPDX-License-Identifier: GPL-2.0
/*
 * vmpager reference harvesting: the hardware accessed bit of every PTE that
 * maps a frame, found through the object's mappers and passed to the
 * policy as a reference (the same vmp_policy_reference() a fault makes).
 *
 * Why by hand: on 6.1 folio_referenced(), page_vma_mapped_walk(),
 * walk_page_range() and ptep_test_and_clear_young() are not exported to
 * modules, and apply_to_existing_page_range() WARNs on a huge PMD. What
 * a module can do is what rmap does for a file page: take each VMA that
 * maps the page, walk its mm's page table to the PTE and, under the
 * page-table lock, test and clear _PAGE_ACCESSED, which is the whole body
 * of x86's ptep_test_and_clear_young().
 *
 * TLBs: x86's ptep_clear_flush_young() does not flush after clearing the
 * bit, counting on context switches to drop the translation soon. But a
 * CPU that keeps the translation cached uses the page without setting the
 * bit again (x86 sets it only when it loads the entry), so a page in use
 * can look unused until its translation leaves the TLB: in test_harvest,
 * without a flush, CLOCK lost a hot set that stays in use about 2 times
 * in 3 (the task reclaims for itself and never switches). So with
 * harvest_flush (debugfs, on by default) a harvest that cleared a bit
 * ends with one flush of every CPU's TLB (vmp_harvest_flush();
 * flush_tlb_mm_range() is not exported, so the flush cannot be limited to
 * the mm, and a CPU that ran the mm earlier may keep its translations
 * under another PCID: __flush_tlb_all() drops them all). Secondary MMUs (KVM) are not told
 * (the _notify variants are not exported either); a pool page is not
 * expected to be mapped by a guest.
 *
 * Which VMAs: the object's own list (obj->vmas, kept by vm_ops open and
 * close; the kernel's i_mmap tree cannot be walked by a module), read
 * under obj->vmas_lock, a spinlock, so that close() cannot free a VMA
 * while it is looked at (and its mm, which outlives its VMAs). For each
 * VMA the mm's mmap_lock is only tried (mmap_read_trylock: a contended mm
 * is skipped and counted in harvest_busy, never waited for, so reclaim
 * cannot deadlock with a task that holds its mmap_lock and waits for a
 * frame). With it held, find_vma() must still return this VMA: munmap
 * takes a VMA out of the mm's tree before it frees its page tables, and
 * may do that with the lock downgraded to read, so a VMA that is still on
 * our list but no longer in the tree is skipped. mmap_lock (read) then
 * keeps the page tables; the PTE is read and cleared under its lock.
 *
 * Which frames, at each reclaim pass (vmp_harvest_pass(), under
 * vmp_policy_lock read):
 *   - the fresh ring: frames mapped by a fault since the last pass. On
 *     x86 a new PTE is created young, and the fault was the policy's
 *     reference already, so that first young bit is consumed (cleared,
 *     counted in harvest_fresh) and is not a reference. A frame carries
 *     VMP_FRAME_FRESH until its first harvest.
 *   - candidates: harvest_batch frames from the victim end of the
 *     policy's lists (vmp_policy_candidates()), so the policy's choice
 *     sees their use.
 * and in vmp_evict_one() the victim itself, just before it would be
 * unmapped: a young victim is requeued and referenced instead of evicted
 * (harvest_saved). Look-around (MGLRU's lru_gen_look_around() idea): when
 * a harvested PTE is young, the PTEs around it in the same page table and
 * VMA (VMP_LOOK_AROUND on each side) are tested too, while the lock is
 * held, so a hot region is aged by one walk instead of one per page.
 *
 * Frames are harvested with their page locked (trylock under the pool
 * lock, as reclaim takes victims): the object then cannot be destroyed
 * (its teardown locks each page). Neighbours found by look-around are
 * not locked: their result is applied under the pool lock only if the
 * frame still holds the same object and index.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/pagemap.h>
#include <linux/pgtable.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>
#include <linux/smp.h>

#include <asm/tlbflush.h>

#include "vmp_internal.h"
#include "vmp_trace.h"

#ifndef CONFIG_X86_64
#error "vmp_harvest.c clears x86's _PAGE_ACCESSED: x86-64 only"
#endif

#define VMP_LOOK_AROUND	8	/* PTEs on each side of a young one */
#define VMP_LOOK_MAX	64	/* neighbours remembered per harvest */

/* One frame to harvest: locked by us, or a neighbour found young. */
struct vmp_hframe {
	struct vmp_obj *obj;
	u32 frame;
	u32 index;
};

/* What one harvest found; neighbours are applied by vmp_harvest_apply(). */
struct vmp_hstate {
	struct vmp_hframe look[VMP_LOOK_MAX];
	u32 nlook;
	u64 ptes;		/* PTEs visited */
	u64 busy;		/* mappers skipped: mmap_lock contended */
	u64 cleared;		/* accessed bits cleared (TLBs may hold them) */
};

/*
 * The PMD entry that points to the PTE table for @addr, or NULL when there
 * is none (nothing mapped) or it is a huge mapping (never one of ours).
 * mmap_lock is held.
 */
static pmd_t *vmp_harvest_pmd(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	p4d_t *p4d;
	pud_t *pud, pudv;
	pmd_t *pmd, pmdv;

	if (pgd_none(READ_ONCE(*pgd)) || pgd_bad(READ_ONCE(*pgd)))
		return NULL;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(READ_ONCE(*p4d)) || p4d_bad(READ_ONCE(*p4d)))
		return NULL;
	pud = pud_offset(p4d, addr);
	pudv = READ_ONCE(*pud);
	if (pud_none(pudv) || pud_large(pudv) || pud_bad(pudv))
		return NULL;
	pmd = pmd_offset(pud, addr);
	pmdv = READ_ONCE(*pmd);
	if (pmd_none(pmdv) || pmd_large(pmdv) || pmd_bad(pmdv))
		return NULL;
	return pmd;
}

/* x86's ptep_test_and_clear_young(), with the page-table lock held. */
static bool vmp_pte_test_and_clear_young(pte_t *pte)
{
	return pte_young(*pte) &&
	       test_and_clear_bit(_PAGE_BIT_ACCESSED, (unsigned long *)&pte->pte);
}

/* The pool frame @v maps, or VMP_NIL. */
static u32 vmp_pte_frame(pte_t v)
{
	unsigned long pfn;
	struct page *page;
	u32 frame;

	if (!pte_present(v))
		return VMP_NIL;
	pfn = pte_pfn(v);
	if (!pfn_valid(pfn))
		return VMP_NIL;
	page = pfn_to_page(pfn);
	frame = vmp_page_frame(page);
	if (frame >= vmp_pool.nframes || vmp_frame_page(frame) != page)
		return VMP_NIL;
	return frame;
}

/*
 * Test and clear the accessed bit of the PTE mapping @page at @addr in
 * @vma; when it was set and @look, those of the pool frames around it too.
 * mmap_lock of vma->vm_mm is held.
 */
static bool vmp_harvest_pte(struct vm_area_struct *vma, unsigned long addr,
			    struct page *page, struct vmp_obj *obj,
			    bool look, struct vmp_hstate *h)
{
	unsigned long start, end, a;
	spinlock_t *ptl;
	pmd_t *pmd;
	pte_t *pte;
	bool young = false;
	u32 f;

	pmd = vmp_harvest_pmd(vma->vm_mm, addr);
	if (!pmd)
		return false;
	pte = pte_offset_map_lock(vma->vm_mm, pmd, addr, &ptl);
	h->ptes++;
	if (pte_present(*pte) && pte_pfn(*pte) == page_to_pfn(page))
		young = vmp_pte_test_and_clear_young(pte);
	h->cleared += young;
	if (young && look) {
		/* the same page table (PMD) and the same VMA only */
		start = max3(vma->vm_start, addr & PMD_MASK,
			     addr - min(addr, VMP_LOOK_AROUND * PAGE_SIZE));
		end = min3(vma->vm_end, (addr & PMD_MASK) + PMD_SIZE,
			   addr + (VMP_LOOK_AROUND + 1) * PAGE_SIZE);
		for (a = start; a < end && h->nlook < VMP_LOOK_MAX;
		     a += PAGE_SIZE) {
			pte_t *p = pte + (long)(a - addr) / (long)PAGE_SIZE;

			if (a == addr)
				continue;
			h->ptes++;
			f = vmp_pte_frame(*p);
			if (f == VMP_NIL || !vmp_pte_test_and_clear_young(p))
				continue;
			h->cleared++;
			h->look[h->nlook++] = (struct vmp_hframe){
				.obj = obj, .frame = f,
				.index = vma->vm_pgoff +
					 ((a - vma->vm_start) >> PAGE_SHIFT),
			};
		}
	}
	pte_unmap_unlock(pte, ptl);
	return young;
}

/*
 * Test and clear the accessed bits of every PTE that maps page @index of
 * @obj (@page, locked by the caller). Returns true if any was set.
 */
static bool vmp_harvest_frame(struct vmp_obj *obj, pgoff_t index,
			      struct page *page, bool look,
			      struct vmp_hstate *h)
{
	struct vmp_vma *rec;
	bool young = false;

	spin_lock(&obj->vmas_lock);
	list_for_each_entry(rec, &obj->vmas, node) {
		struct vm_area_struct *vma = rec->vma;
		struct mm_struct *mm = vma->vm_mm;
		unsigned long addr;

		if (!mmap_read_trylock(mm)) {
			h->busy++;
			continue;
		}
		/* vm_start, vm_pgoff and the tree are stable now */
		if (index >= vma->vm_pgoff &&
		    index < vma->vm_pgoff + vma_pages(vma)) {
			addr = vma->vm_start +
			       ((index - vma->vm_pgoff) << PAGE_SHIFT);
			if (find_vma(mm, addr) == vma)
				young |= vmp_harvest_pte(vma, addr, page, obj,
							 look, h);
		}
		mmap_read_unlock(mm);
	}
	spin_unlock(&obj->vmas_lock);
	vmp_count_add(VMPAGER_STAT_harvest_frames, 1);
	return young;
}

/*
 * Under the pool lock: a young bit of @hf's frame is a reference, unless
 * the frame is fresh (then the bit was its fault's and is only consumed).
 * Returns 1 for a reference, 0 for a consumed fresh bit, -1 if the frame
 * is no longer that page or not on a list.
 */
static int vmp_harvest_ref_locked(const struct vmp_hframe *hf)
{
	struct vmp_frame *fr = &vmp_pool.frames[hf->frame];

	lockdep_assert_held(&vmp_pool.lock);
	if (!(fr->flags & VMP_FRAME_USED) || fr->obj != hf->obj ||
	    fr->index != hf->index)
		return -1;
	if (fr->flags & VMP_FRAME_FRESH) {
		fr->flags &= ~VMP_FRAME_FRESH;
		return 0;
	}
	if (!(fr->flags & VMP_FRAME_ONLIST))
		return -1;
	vmp_policy_reference(vmp_frame_policy(hf->frame), hf->frame);
	return 1;
}

/* vmp_harvest_ref_locked() for @hf, counted in *young or *fresh. */
static void vmp_harvest_tally_locked(const struct vmp_hframe *hf, u64 *young,
				     u64 *fresh)
{
	int r = vmp_harvest_ref_locked(hf);

	if (r == 1)
		(*young)++;
	else if (r == 0)
		(*fresh)++;
}

/* Apply the neighbours look-around found; pool lock held. */
static void vmp_harvest_apply_locked(struct vmp_hstate *h, u64 *young,
				     u64 *fresh)
{
	u32 i;

	for (i = 0; i < h->nlook; i++)
		vmp_harvest_tally_locked(&h->look[i], young, fresh);
	h->nlook = 0;
}

static void vmp_flush_this_cpu(void *unused)
{
	__flush_tlb_all();
}

/*
 * After accessed bits were cleared: with harvest_flush on, flush every
 * CPU's TLB, so that the next use of those pages walks the page table and
 * sets the bit again. Without it a CPU that keeps a translation cached
 * uses the page without setting the bit (x86 sets it only when it loads
 * the entry). The kernel does without (ptep_clear_flush_young() on x86),
 * counting on context switches; vmpager flushes by default (see the top
 * of this file). It is one IPI to every CPU per harvest.
 */
static void vmp_harvest_flush(const struct vmp_hstate *h)
{
	if (!h->cleared || !READ_ONCE(vmp_pool.harvest_flush))
		return;
	on_each_cpu(vmp_flush_this_cpu, NULL, 1);
	vmp_count(VMPAGER_STAT_harvest_flushes);
}

static void vmp_harvest_count(const struct vmp_hstate *h, u64 young,
			      u64 fresh)
{
	vmp_count_add(VMPAGER_STAT_harvest_ptes, h->ptes);
	vmp_count_add(VMPAGER_STAT_harvest_young, young);
	vmp_count_add(VMPAGER_STAT_harvest_fresh, fresh);
	vmp_count_add(VMPAGER_STAT_harvest_busy, h->busy);
}

/*
 * Lock up to @n of @frames (pool lock held): those on a list whose page
 * lock is free. Fills @out; returns how many.
 */
static u32 vmp_harvest_lock_locked(const u32 *frames, u32 n,
				   struct vmp_hframe *out, bool fresh_only)
{
	u32 i, k = 0;

	for (i = 0; i < n; i++) {
		struct vmp_frame *fr = &vmp_pool.frames[frames[i]];

		if ((fr->flags & (VMP_FRAME_USED | VMP_FRAME_ONLIST)) !=
		    (VMP_FRAME_USED | VMP_FRAME_ONLIST))
			continue;
		if (fresh_only && !(fr->flags & VMP_FRAME_FRESH))
			continue;
		if (!trylock_page(vmp_frame_page(frames[i])))
			continue;
		out[k++] = (struct vmp_hframe){ .obj = fr->obj,
						.frame = frames[i],
						.index = fr->index };
	}
	return k;
}

/* Harvest @n locked frames and unlock them. */
static void vmp_harvest_locked_frames(struct vmp_hframe *hf, u32 n,
				      bool look, struct vmp_hstate *h,
				      u64 *young, u64 *fresh)
{
	u32 i;

	for (i = 0; i < n; i++) {
		struct page *page = vmp_frame_page(hf[i].frame);
		bool y = vmp_harvest_frame(hf[i].obj, hf[i].index, page,
					   look, h);

		spin_lock(&vmp_pool.lock);
		if (y) {
			vmp_harvest_tally_locked(&hf[i], young, fresh);
		} else {
			/* not young: a fresh frame's bit went otherwise */
			vmp_pool.frames[hf[i].frame].flags &= ~VMP_FRAME_FRESH;
		}
		vmp_harvest_apply_locked(h, young, fresh);
		spin_unlock(&vmp_pool.lock);
		unlock_page(page);
	}
}

/*
 * A frame was mapped by a fault (pool lock held): its PTE is young from
 * birth. Remember it for the next pass, which consumes that bit.
 */
void vmp_harvest_fresh_locked(u32 frame)
{
	lockdep_assert_held(&vmp_pool.lock);
	vmp_pool.frames[frame].flags |= VMP_FRAME_FRESH;
	vmp_pool.fresh[vmp_pool.fresh_next++ % VMP_FRESH_RING] = frame;
	if (vmp_pool.fresh_n < VMP_FRESH_RING)
		vmp_pool.fresh_n++;
}

/*
 * Consume the young bits of the frames on the fresh ring (their faults'
 * own), all of them, or all but the newest when @keep_newest (the fault
 * path: the newest is the page it holds locked). Returns the frames
 * harvested.
 */
static u32 vmp_harvest_fresh(struct vmp_hframe *hf, u32 *frames,
			     struct vmp_hstate *h, u64 *young, u64 *fresh,
			     bool keep_newest)
{
	u32 i, n = 0, k, newest = VMP_NIL;

	spin_lock(&vmp_pool.lock);
	for (i = 0; i < vmp_pool.fresh_n; i++)
		frames[n++] = vmp_pool.fresh[(vmp_pool.fresh_next - 1 - i) %
					     VMP_FRESH_RING];
	vmp_pool.fresh_n = 0;
	if (keep_newest && n) {
		newest = frames[0];
		vmp_pool.fresh[vmp_pool.fresh_next++ % VMP_FRESH_RING] = newest;
		vmp_pool.fresh_n = 1;
	}
	k = vmp_harvest_lock_locked(frames + (newest != VMP_NIL),
				    n - (newest != VMP_NIL), hf, true);
	spin_unlock(&vmp_pool.lock);
	vmp_harvest_locked_frames(hf, k, false, h, young, fresh);
	return k;
}

static struct vmp_hstate *vmp_hstate_alloc(void)
{
	return kzalloc(sizeof(struct vmp_hstate), GFP_NOFS);
}

/*
 * The fault path, when the fresh ring is full and no reclaim pass has
 * emptied it (the pool is filling, or the reclaim thread runs seldom):
 * consume those bits now, while they still are the faults' own.
 */
void vmp_harvest_fresh_sweep(void)
{
	struct vmp_hframe *hf;
	struct vmp_hstate *h;
	u64 young = 0, fresh = 0, t0 = local_clock();
	u32 *frames;

	frames = kmalloc_array(VMP_FRESH_RING, sizeof(*frames), GFP_NOFS);
	hf = kmalloc_array(VMP_FRESH_RING, sizeof(*hf), GFP_NOFS);
	h = vmp_hstate_alloc();
	if (frames && hf && h) {
		vmp_harvest_fresh(hf, frames, h, &young, &fresh, true);
		vmp_harvest_flush(h);
		vmp_harvest_count(h, young, fresh);
		vmp_count_add(VMPAGER_STAT_harvest_ns, local_clock() - t0);
	}
	kfree(h);
	kfree(hf);
	kfree(frames);
}

/*
 * The harvest of one reclaim pass: the fresh ring, then harvest_batch
 * candidates. Called with vmp_policy_lock held for read.
 */
void vmp_harvest_pass(void)
{
	u32 batch = READ_ONCE(vmp_pool.harvest_batch);
	u32 *frames, n, k, nharv;
	struct vmp_hframe *hf;
	struct vmp_hstate *h;
	u64 young = 0, fresh = 0, t0 = local_clock();

	lockdep_assert_held_read(&vmp_policy_lock);
	n = max_t(u32, batch, VMP_FRESH_RING);
	frames = kmalloc_array(n, sizeof(*frames), GFP_NOFS);
	hf = kmalloc_array(n, sizeof(*hf), GFP_NOFS);
	h = vmp_hstate_alloc();
	if (!frames || !hf || !h)
		goto out;
	nharv = vmp_harvest_fresh(hf, frames, h, &young, &fresh, false);

	spin_lock(&vmp_pool.lock);
	n = vmp_policy_candidates(&vmp_pool.pol, frames, batch);
	k = vmp_harvest_lock_locked(frames, n, hf, false);
	spin_unlock(&vmp_pool.lock);
	vmp_harvest_locked_frames(hf, k, true, h, &young, &fresh);
	nharv += k;

	vmp_harvest_flush(h);
	vmp_harvest_count(h, young, fresh);
	t0 = local_clock() - t0;
	vmp_count_add(VMPAGER_STAT_harvest_ns, t0);
	trace_vmpager_harvest(nharv, h->ptes, young, fresh, h->busy, t0);
out:
	kfree(h);
	kfree(hf);
	kfree(frames);
}

/*
 * The victim check of vmp_evict_one(): @frame (detached, its page locked)
 * is about to be evicted. If one of its PTEs is young (and not only from
 * the fault that mapped it), requeue it and pass the reference to the
 * policy, with those look-around found: returns true, the frame is on a
 * list again and its page still locked.
 */
bool vmp_harvest_victim(struct vmp_obj *obj, pgoff_t index, u32 frame)
{
	struct vmp_hframe self = { .obj = obj, .frame = frame, .index = index };
	struct vmp_frame *fr = &vmp_pool.frames[frame];
	struct vmp_hstate *h;
	u64 young = 0, fresh = 0, t0 = local_clock();
	bool y, kept = false;

	h = vmp_hstate_alloc();
	if (!h)
		return false;
	y = vmp_harvest_frame(obj, index, vmp_frame_page(frame), true, h);
	spin_lock(&vmp_pool.lock);
	if (y && !(fr->flags & VMP_FRAME_FRESH)) {
		vmp_policy_requeue(&vmp_pool.pol, frame);
		fr->flags |= VMP_FRAME_ONLIST;
		vmp_harvest_ref_locked(&self);
		young++;
		kept = true;
	} else if (y) {
		fresh++;
	}
	fr->flags &= ~VMP_FRAME_FRESH;
	vmp_harvest_apply_locked(h, &young, &fresh);
	spin_unlock(&vmp_pool.lock);
	vmp_harvest_flush(h);
	vmp_harvest_count(h, young, fresh);
	vmp_count_add(VMPAGER_STAT_harvest_ns, local_clock() - t0);
	if (kept)
		vmp_count(VMPAGER_STAT_harvest_saved);
	kfree(h);
	return kept;
}
