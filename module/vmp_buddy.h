/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pool's binary buddy allocator: kernel/user-neutral C, compiled into
 * vmpager.ko and into the host unit tests (selftests/host/test_buddy.c).
 *
 * Frames are u32 indices into the frame table. A free block of order k is
 * 2^k frames starting at a multiple of 2^k; only its first frame (the head)
 * is marked VMP_FRAME_FREE and carries the order and the free-list links.
 * Each frame also records max_order, the largest order of the physically
 * contiguous chunk it belongs to: two buddies are only coalesced below that
 * order, so a block never spans two separately allocated chunks.
 *
 * Not thread-safe: the caller holds the pool lock around every call.
 */
#ifndef _VMP_BUDDY_H
#define _VMP_BUDDY_H

#include "policy/vmp_types.h"
#include "policy/vmp_policy.h"

#define VMP_MAX_ORDER	10
#define VMP_NR_ORDERS	(VMP_MAX_ORDER + 1)

/* vmp_frame.flags */
#define VMP_FRAME_FREE		0x0001	/* head of a free buddy block */
#define VMP_FRAME_USED		0x0002	/* holds a page of an object */
#define VMP_FRAME_ORPHAN	0x0004	/* given up: someone kept a reference */
#define VMP_FRAME_ONLIST	0x0008	/* held by the policy, not detached */
#define VMP_FRAME_RA		0x0010	/* read ahead, not yet faulted on */
#define VMP_FRAME_SOFT		0x0020	/* soft-unmapped, not touched since */
#define VMP_FRAME_PGEN		0x0040	/* policy generation (vmp_frame_policy) */
#define VMP_FRAME_FRESH		0x0080	/* mapped by a fault, not harvested since */
#define VMP_FRAME_WB		0x0100	/* file-backed: a write-back of it in flight */
/* the first page of a read-ahead window: its touch reads the next (ra_async) */
#define VMP_FRAME_RA_MARK	0x0200

struct vmp_obj;

/*
 * One frame descriptor per pool frame: the module's whole per-frame
 * metadata (sizeof must stay <= 32 bytes; checked at build time).
 * All fields are protected by pool->lock.
 */
struct vmp_frame {
	union {
		struct vmp_obj *obj;	/* VMP_FRAME_USED: owner */
		struct {
			u32 prev, next;	/* VMP_FRAME_FREE: buddy free list */
		} free;
	};
	u32 index;			/* VMP_FRAME_USED: page index in obj */
	u16 flags;			/* VMP_FRAME_* */
	u8 order;			/* VMP_FRAME_FREE: block order */
	u8 max_order;			/* order of the chunk, invariant */
	struct vmp_pnode pn;		/* policy list node, owned by the policy */
	u32 slot;			/* VMP_FRAME_USED: valid swap copy */
};

struct vmp_buddy {
	struct vmp_frame *frames;
	u32 nframes;
	u32 free_head[VMP_NR_ORDERS];	/* first free block per order */
	u64 nr_free[VMP_NR_ORDERS];	/* free blocks per order */
	u64 free_pages;			/* sum of nr_free[k] << k */
	u64 splits;			/* blocks split to serve smaller orders */
	u64 merges;			/* buddies coalesced */
};

/* Frames start out not free; the pool hands chunks in with vmp_buddy_free(). */
void vmp_buddy_init(struct vmp_buddy *b, struct vmp_frame *frames, u32 nframes);
/* Set max_order for frames [first, first + 2^order) before freeing them. */
void vmp_buddy_add_chunk(struct vmp_buddy *b, u32 first, unsigned int order);
/* Allocate a block of 2^order frames; returns 0 and the head, or -1. */
int vmp_buddy_alloc(struct vmp_buddy *b, unsigned int order, u32 *frame);
/* Free a block and coalesce it with free buddies. */
void vmp_buddy_free(struct vmp_buddy *b, u32 frame, unsigned int order);
/* Walk every free list; returns 0 or a negative code naming the breakage. */
int vmp_buddy_check(const struct vmp_buddy *b);

#endif /* _VMP_BUDDY_H */
