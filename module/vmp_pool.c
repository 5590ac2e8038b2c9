// SPDX-License-Identifier: GPL-2.0
/*
 * vmpager page pool: frames taken from the page allocator at load, kept for
 * the module's lifetime, handed to objects one page at a time by the buddy
 * allocator (vmp_buddy.c) and returned on object teardown.
 *
 * The pool is taken as physically contiguous chunks: pool_pages is split
 * into powers of two, largest first (order VMP_MAX_ORDER while possible), so
 * each chunk starts at a frame number aligned to its size and buddy blocks
 * never cross a chunk. A chunk whose allocation fails is retried as two
 * halves, down to VMP_MIN_CHUNK_ORDER. Each chunk is split_page()d, so every
 * frame is an ordinary order-0 page with one reference: the pool's.
 *
 * A frame whose page still has other references when it is released (a
 * get_user_pages pin that outlived every mapping) is never reused: the pool
 * drops its own reference, the page goes back to the kernel when the last
 * user lets go, and the frame is counted as orphaned.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>

#include "vmp_internal.h"

#define VMP_MIN_CHUNK_ORDER	6	/* failed chunks split down to this */
#define VMP_MIN_POOL		32
#define VMP_MAX_POOL		(1U << 28)	/* 1 TiB of 4 KiB frames */

struct vmp_pool vmp_pool;

size_t vmp_frame_meta_bytes(void)
{
	BUILD_BUG_ON(sizeof(struct vmp_frame) > 32);
	return sizeof(struct vmp_frame);
}

struct page *vmp_frame_page(u32 frame)
{
	u32 lo = 0, hi = vmp_pool.nr_chunks;

	/* chunks are sorted by first frame: binary search */
	while (hi - lo > 1) {
		u32 mid = (lo + hi) / 2;

		if (vmp_pool.chunks[mid].first <= frame)
			lo = mid;
		else
			hi = mid;
	}
	return vmp_pool.chunks[lo].page + (frame - vmp_pool.chunks[lo].first);
}

static int vmp_pool_take_chunk(u32 first, unsigned int order)
{
	gfp_t gfp = GFP_KERNEL | __GFP_NOWARN | __GFP_RETRY_MAYFAIL;
	struct vmp_chunk *c;
	struct page *page;
	u32 i;
	int ret;

	page = alloc_pages(gfp, order);
	if (!page) {
		if (order <= VMP_MIN_CHUNK_ORDER ||
		    vmp_pool.nr_chunks + 2 > vmp_pool.max_chunks)
			return -ENOMEM;
		ret = vmp_pool_take_chunk(first, order - 1);
		if (ret)
			return ret;
		return vmp_pool_take_chunk(first + (1U << (order - 1)),
					   order - 1);
	}
	split_page(page, order);
	c = &vmp_pool.chunks[vmp_pool.nr_chunks++];
	c->page = page;
	c->first = first;
	c->order = order;
	for (i = 0; i < (1U << order); i++)
		set_page_private(page + i, first + i);
	vmp_buddy_add_chunk(&vmp_pool.buddy, first, order);
	vmp_buddy_free(&vmp_pool.buddy, first, order);
	return 0;
}

static void vmp_pool_put_chunks(void)
{
	u32 c, i;

	for (c = 0; c < vmp_pool.nr_chunks; c++) {
		struct vmp_chunk *ch = &vmp_pool.chunks[c];

		for (i = 0; i < (1U << ch->order); i++) {
			struct page *page = ch->page + i;

			if (vmp_pool.frames[ch->first + i].flags &
			    VMP_FRAME_ORPHAN)
				continue;	/* the pool's ref is gone */
			set_page_private(page, 0);
			__free_page(page);
		}
	}
	vmp_pool.nr_chunks = 0;
}

int vmp_pool_init(unsigned int nframes)
{
	u32 first = 0, max_chunks;
	unsigned int order;
	int ret;

	if (nframes < VMP_MIN_POOL || nframes > VMP_MAX_POOL) {
		pr_err("pool_pages=%u: must be %u..%u\n", nframes,
		       VMP_MIN_POOL, VMP_MAX_POOL);
		return -EINVAL;
	}
	spin_lock_init(&vmp_pool.lock);
	vmp_pool.nframes = nframes;
	vmp_pool.resident = 0;
	vmp_pool.orphaned = 0;
	atomic_set(&vmp_pool.fail_allocs, 0);
	vmp_pool.frames = kvcalloc(nframes, sizeof(*vmp_pool.frames),
				   GFP_KERNEL);
	if (!vmp_pool.frames)
		return -ENOMEM;
	/*
	 * At most one chunk per order for the natural split, plus the halves
	 * of failed allocations, which are never smaller than the minimum.
	 */
	max_chunks = (nframes >> VMP_MIN_CHUNK_ORDER) + VMP_NR_ORDERS;
	vmp_pool.chunks = kvcalloc(max_chunks, sizeof(*vmp_pool.chunks),
				   GFP_KERNEL);
	ret = -ENOMEM;
	if (!vmp_pool.chunks)
		goto free_frames;
	vmp_pool.nr_chunks = 0;
	vmp_pool.max_chunks = max_chunks;
	vmp_buddy_init(&vmp_pool.buddy, vmp_pool.frames, nframes);

	while (first < nframes) {
		order = min_t(unsigned int, VMP_MAX_ORDER,
			      ilog2(nframes - first));
		ret = vmp_pool_take_chunk(first, order);
		if (ret) {
			pr_err("pool_pages=%u: could not take %u frames from the page allocator\n",
			       nframes, nframes - first);
			goto put_chunks;
		}
		first += 1U << order;
	}
	pr_info("pool: %u frames (%u KiB) in %u chunks, %zu bytes of metadata per frame\n",
		nframes, nframes * (unsigned int)(PAGE_SIZE / 1024),
		vmp_pool.nr_chunks, vmp_frame_meta_bytes());
	return 0;

put_chunks:
	vmp_pool_put_chunks();
	kvfree(vmp_pool.chunks);
free_frames:
	kvfree(vmp_pool.frames);
	return ret;
}

void vmp_pool_exit(void)
{
	u64 free_pages = vmp_pool.buddy.free_pages;

	/*
	 * Unload is only possible once every object is gone, so every frame
	 * must be free or orphaned; anything else is a vmpager bug.
	 */
	if (WARN_ON_ONCE(free_pages + vmp_pool.orphaned != vmp_pool.nframes))
		pr_err("pool: %llu frames free, %llu orphaned, of %u at unload\n",
		       free_pages, vmp_pool.orphaned, vmp_pool.nframes);
	WARN_ON_ONCE(vmp_buddy_check(&vmp_pool.buddy));
	vmp_pool_put_chunks();
	kvfree(vmp_pool.pol_mem);
	kvfree(vmp_pool.chunks);
	kvfree(vmp_pool.frames);
}

/*
 * Take a zeroed frame for page @index of @obj without reclaiming. Returns the
 * frame's page with the pool's single reference, mapping and index set, or
 * NULL if the buddy allocator has no free frame. The caller inserts it into
 * the policy once the object holds it (vmp_frame_activate() in vmp_obj.c).
 */
struct page *vmp_frame_alloc_noreclaim(struct vmp_obj *obj, pgoff_t index)
{
	struct vmp_frame *fr;
	struct page *page;
	u32 frame;
	int ret = -1;

	if (unlikely(vmp_should_fail(VMP_FAULT_ALLOC)))
		goto fail;
	spin_lock(&vmp_pool.lock);
	ret = vmp_buddy_alloc(&vmp_pool.buddy, 0, &frame);
	if (!ret) {
		fr = &vmp_pool.frames[frame];
		fr->flags = VMP_FRAME_USED;
		fr->obj = obj;
		fr->index = (u32)index;
		fr->slot = VMP_NIL;
		vmp_pool.resident++;
	}
	spin_unlock(&vmp_pool.lock);
fail:
	if (ret) {
		vmp_count(VMPAGER_STAT_alloc_fail);
		return NULL;
	}
	vmp_count(VMPAGER_STAT_alloc_ok);

	page = vmp_frame_page(frame);
	/* never hand out another object's old bytes */
	clear_highpage(page);
	page->mapping = obj->mapping;
	page->index = index;
	SetPageUptodate(page);
	return page;
}

/*
 * The same, reclaiming first when below the watermarks, and directly when no
 * frame is free (a few times, while reclaim makes progress).
 */
struct page *vmp_frame_alloc(struct vmp_obj *obj, pgoff_t index)
{
	struct page *page;
	int tries, waits = 0;

	vmp_reclaim_before_alloc();
	for (tries = 0; tries < 4; tries++) {
		page = vmp_frame_alloc_noreclaim(obj, index);
		if (page)
			return page;
		/* watermarks 0 0 0: the exact cache, one eviction per miss */
		if (vmp_reclaim_direct(READ_ONCE(vmp_pool.wmark_high) ? 8 : 1))
			continue;
		/*
		 * Nothing freed: dirty pages of file-backed objects may be on
		 * their way to their files (vmp_file.c). Wait for them, 2 s at
		 * most: this task may hold a file's lock that such a write
		 * needs, and then only its fault fails.
		 */
		if (waits++ < 20 && vmp_file_wb_wait_some()) {
			tries--;
			continue;
		}
		return NULL;
	}
	return NULL;
}

/* Take a held frame off the policy's lists (its page is locked). */
void vmp_frame_unlist(struct page *page)
{
	u32 frame = vmp_page_frame(page);
	struct vmp_frame *fr = &vmp_pool.frames[frame];

	spin_lock(&vmp_pool.lock);
	if (fr->flags & VMP_FRAME_ONLIST) {
		vmp_policy_remove(vmp_frame_policy(frame), frame);
		fr->flags &= ~VMP_FRAME_ONLIST;
	}
	spin_unlock(&vmp_pool.lock);
}

/*
 * Give a frame back. The caller has removed @page from its object, so no
 * new reference can be taken through the object; the page must be unmapped.
 * If someone still holds a reference (a long-term GUP pin), the frame is
 * orphaned instead of reused.
 */
void vmp_frame_release(struct page *page)
{
	u32 frame = vmp_page_frame(page);
	bool orphan = page_count(page) != 1 || page_mapped(page);
	struct vmp_frame *fr = &vmp_pool.frames[frame];
	u32 slot;

	page->mapping = NULL;
	page->index = 0;
	ClearPageUptodate(page);
	ClearPageDirty(page);
	ClearPageReferenced(page);
	ClearPageActive(page);

	spin_lock(&vmp_pool.lock);
	if (fr->flags & VMP_FRAME_ONLIST)
		vmp_policy_remove(vmp_frame_policy(frame), frame);
	slot = fr->slot;
	fr->slot = VMP_NIL;
	vmp_pool.resident--;
	if (orphan) {
		vmp_pool.frames[frame].flags = VMP_FRAME_ORPHAN;
		vmp_pool.frames[frame].obj = NULL;
		vmp_pool.orphaned++;
	} else {
		vmp_buddy_free(&vmp_pool.buddy, frame, 0);
	}
	spin_unlock(&vmp_pool.lock);
	if (slot != VMP_NIL)
		vmp_slot_free(slot);

	if (orphan) {
		vmp_count(VMPAGER_STAT_orphaned);
		pr_warn_ratelimited("frame %u still referenced (count %d) at release: orphaned\n",
				    frame, page_count(page));
		set_page_private(page, 0);
		put_page(page);
	} else {
		vmp_count(VMPAGER_STAT_frees);
	}
}
