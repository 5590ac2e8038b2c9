// SPDX-License-Identifier: GPL-2.0
/*
 * Binary buddy allocator over the pool's frame table (see vmp_buddy.h).
 *
 * Splitting: a request of order k takes the first block of the smallest
 * non-empty order j >= k and halves it j - k times, putting each upper half
 * on the free list of its order. Coalescing: a freed block of order k looks
 * at its buddy (head ^ 2^k); while that buddy is a free head of the same
 * order and k is below the chunk's max_order, the two leave their list and
 * merge into one block of order k + 1. So every free block is maximal, and a
 * pool whose frames are all free holds exactly its chunks as free blocks.
 */
#include "vmp_buddy.h"

static void buddy_list_add(struct vmp_buddy *b, u32 f, unsigned int order)
{
	struct vmp_frame *fr = &b->frames[f];
	u32 head = b->free_head[order];

	fr->flags = VMP_FRAME_FREE;
	fr->order = order;
	fr->free.prev = VMP_NIL;
	fr->free.next = head;
	if (head != VMP_NIL)
		b->frames[head].free.prev = f;
	b->free_head[order] = f;
	b->nr_free[order]++;
	b->free_pages += (u64)1 << order;
}

static void buddy_list_del(struct vmp_buddy *b, u32 f)
{
	struct vmp_frame *fr = &b->frames[f];
	unsigned int order = fr->order;

	if (fr->free.prev != VMP_NIL)
		b->frames[fr->free.prev].free.next = fr->free.next;
	else
		b->free_head[order] = fr->free.next;
	if (fr->free.next != VMP_NIL)
		b->frames[fr->free.next].free.prev = fr->free.prev;
	fr->flags = 0;
	fr->obj = NULL;
	b->nr_free[order]--;
	b->free_pages -= (u64)1 << order;
}

void vmp_buddy_init(struct vmp_buddy *b, struct vmp_frame *frames, u32 nframes)
{
	unsigned int k;
	u32 f;

	b->frames = frames;
	b->nframes = nframes;
	for (k = 0; k < VMP_NR_ORDERS; k++) {
		b->free_head[k] = VMP_NIL;
		b->nr_free[k] = 0;
	}
	b->free_pages = 0;
	b->splits = 0;
	b->merges = 0;
	for (f = 0; f < nframes; f++) {
		frames[f].obj = NULL;
		frames[f].flags = 0;
		frames[f].order = 0;
		frames[f].max_order = 0;
		frames[f].index = 0;
	}
}

void vmp_buddy_add_chunk(struct vmp_buddy *b, u32 first, unsigned int order)
{
	u32 f;

	for (f = first; f < first + ((u32)1 << order) && f < b->nframes; f++)
		b->frames[f].max_order = order;
}

int vmp_buddy_alloc(struct vmp_buddy *b, unsigned int order, u32 *frame)
{
	unsigned int j;
	u32 f;

	if (order > VMP_MAX_ORDER)
		return -1;
	for (j = order; j < VMP_NR_ORDERS; j++)
		if (b->free_head[j] != VMP_NIL)
			break;
	if (j == VMP_NR_ORDERS)
		return -1;
	f = b->free_head[j];
	buddy_list_del(b, f);
	while (j > order) {
		j--;
		buddy_list_add(b, f + ((u32)1 << j), j);
		b->splits++;
	}
	*frame = f;
	return 0;
}

void vmp_buddy_free(struct vmp_buddy *b, u32 frame, unsigned int order)
{
	u32 buddy;

	/*
	 * The block stops being the caller's now: if it merges into a block
	 * headed by its buddy, nothing else would reset its flags, and a
	 * stale USED (with a stale owner) would outlive the block.
	 */
	b->frames[frame].flags = 0;

	while (order < b->frames[frame].max_order) {
		buddy = frame ^ ((u32)1 << order);
		if (buddy >= b->nframes)
			break;
		if (!(b->frames[buddy].flags & VMP_FRAME_FREE) ||
		    b->frames[buddy].order != order)
			break;
		buddy_list_del(b, buddy);
		b->merges++;
		if (buddy < frame)
			frame = buddy;
		order++;
	}
	buddy_list_add(b, frame, order);
}

int vmp_buddy_check(const struct vmp_buddy *b)
{
	u64 pages = 0, n;
	unsigned int k;
	u32 f, prev;

	for (k = 0; k < VMP_NR_ORDERS; k++) {
		n = 0;
		prev = VMP_NIL;
		for (f = b->free_head[k]; f != VMP_NIL; f = b->frames[f].free.next) {
			if (f >= b->nframes)
				return -1;	/* link out of range */
			if (!(b->frames[f].flags & VMP_FRAME_FREE) ||
			    b->frames[f].order != k)
				return -2;	/* listed block not a free head */
			if (f & (((u32)1 << k) - 1))
				return -3;	/* misaligned block */
			if (b->frames[f].free.prev != prev)
				return -4;	/* broken back link */
			if (k > b->frames[f].max_order)
				return -5;	/* block spans chunks */
			prev = f;
			if (++n > b->nframes)
				return -6;	/* cycle */
		}
		if (n != b->nr_free[k])
			return -7;	/* count mismatch */
		pages += n << k;
	}
	if (pages != b->free_pages)
		return -8;
	return 0;
}
