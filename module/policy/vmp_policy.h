/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmpager paging policy core: chooses which resident frame of the pool to
 * evict next. Kernel/user-neutral: compiled into vmpager.ko and into the
 * host tests and the trace simulator (userspace/sim/vmpsim). It calls nothing,
 * allocates nothing and uses no floating point; every byte it touches is
 * passed in by the caller. The essay on the policies, their lists and their
 * invariants opens vmp_policy.c and is repeated in docs/policy.md.
 *
 * Locking: none inside. The caller serialises every call on one
 * struct vmp_policy (vmpager holds pool->lock around them).
 *
 * Frames are u32 indices 0..nframes-1. Pages are u64 keys (vmpager uses
 * object id << 32 | page index); a key is only used to recognise a refault
 * of a page evicted earlier (ghost history).
 *
 * Life of a frame, as the caller sees it:
 *
 *   free --insert--> on a list --victim--> detached --evicted--> free
 *                    ^   |  \                  |
 *                    |   |   \--reference      \--putback--> on a list
 *                    |   \--remove--> free
 *
 * Every call names a frame in the state shown: reference() and remove() on a
 * frame that is on a list, evicted() and putback() on a frame returned by
 * victim(), insert() on a frame the policy does not hold.
 */
#ifndef _VMP_POLICY_H
#define _VMP_POLICY_H

#include "vmp_types.h"

enum vmp_policy_kind {
	VMP_POL_FIFO,		/* first in, first out: the baseline */
	VMP_POL_CLOCK,		/* second chance on a reference bit */
	VMP_POL_LRU,		/* exact LRU: every reference moves to the head */
	VMP_POL_LRU2,		/* Linux active/inactive lists + refault distance */
	VMP_POL_ARC,		/* adaptive replacement cache (Megiddo, Modha) */
	VMP_POL_LIRS,		/* low inter-reference recency set (Jiang, Zhang) */
	VMP_POL_SIEVE,		/* FIFO with a visited bit and a sweeping hand (NSDI 2024) */
	VMP_POL_S3FIFO,		/* small, main and ghost FIFO queues (SOSP 2023) */
	VMP_POL_ADAPT,		/* follows the expert missing least (the default) */
	VMP_POL_CLOCKPRO,	/* hot/cold clock with test periods (USENIX ATC 2005) */
	VMP_POL_NR
};

/* The default: within 1.05x of the best policy on every trace (policy.md). */
#define VMP_POLICY_DEFAULT	VMP_POL_ADAPT

/*
 * Per-frame policy state. The caller owns an array of these (or embeds one in
 * each of its frame descriptors, reached by base + frame * stride). The policy
 * owns the contents while the frame is held by it (inserted and not yet
 * evicted or removed); the caller need not initialise it and must not
 * write it (reading list/flags for a debugfs dump is fine).
 */
struct vmp_pnode {
	u32 prev;		/* towards the head of the list; VMP_NIL ends */
	u32 next;		/* towards the tail (the victim end) */
	u8 list;		/* index into vmp_policy.lists, or VMP_PL_* */
	u8 flags;		/* VMP_PN_* */
	u16 aux;		/* per policy: origin list while detached */
};

#define VMP_PL_NONE	0xff	/* not held by the policy */
#define VMP_PL_DETACHED	0xfe	/* returned by victim(), awaiting a verdict */

#define VMP_PN_REF	0x01	/* referenced since last looked at */
#define VMP_PN_IN_S	0x02	/* LIRS: the frame has an entry in the stack S */
#define VMP_PN_FREQ	0x0c	/* S3-FIFO: references while resident, 0..3 */
#define VMP_PN_FREQ_SHIFT 2
#define VMP_PN_TEST	0x10	/* CLOCK-Pro: a cold page in its test period */

#define VMP_POL_MAX_LISTS	2

/* Counters; all only grow. */
struct vmp_policy_stats {
	u64 inserts;		/* insert() calls */
	u64 references;		/* reference() calls */
	u64 activations;	/* promotions to the hot set (active, T2, LIR) */
	u64 deactivations;	/* demotions from the hot set */
	u64 refaults;		/* insert() of a key found in the ghost history */
	u64 scans;		/* frames looked at while choosing victims */
	u64 victims;		/* frames returned by victim() */
	u64 evictions;		/* evicted() calls */
	u64 putbacks;		/* putback() calls */
	u64 removes;		/* remove() calls */
	u64 requeues;		/* requeue() calls */
};

/* An index-linked list: head is the hot/new end, tail the victim end. */
struct vmp_plist {
	u32 head;
	u32 tail;
	u32 len;
};

/* One entry of the ghost (non-resident) history; lives in caller memory. */
struct vmp_ghost {
	u64 key;
	u32 hnext;		/* hash chain */
	u32 prev;		/* ghost list: age order, head = newest */
	u32 next;
	u32 aux;		/* LRU2: eviction age; ARC: 0 = B1, 1 = B2 */
};

/* A LIRS stack S link: nodes 0..nframes-1 are frames, nframes+g ghost g. */
struct vmp_slink {
	u32 prev;		/* towards the top (most recent) */
	u32 next;		/* towards the bottom */
};

struct vmp_adapt;

struct vmp_policy {
	enum vmp_policy_kind kind;
	u32 nframes;
	char *node_base;
	size_t stride;
	u32 held;			/* frames inserted and not evicted/removed */
	struct vmp_plist lists[VMP_POL_MAX_LISTS];
	struct vmp_policy_stats stats;

	/* ghost history, in the caller's memory; nghost == 0 if unused */
	struct vmp_ghost *ghosts;
	u32 *buckets;
	u32 nghost;
	u32 hash_bits;
	u32 ghost_free;			/* free ghost entries, linked by next */
	struct vmp_plist glists[2];	/* ghost lists, in age order */

	/* LRU2: tunable by the caller between calls */
	u32 inactive_ratio;		/* keep inactive * ratio >= active */
	u32 nonresident_age;		/* evictions + activations (workingset) */

	/* ARC */
	u32 arc_p;			/* target size of T1, 0..nframes */

	/* LIRS */
	struct vmp_slink *slinks;	/* nframes + nghost links */
	u32 s_top;
	u32 s_bottom;
	u32 lir_max;			/* nframes - HIR share */
	bool lirs_full;			/* LIRS, CLOCK-Pro: a victim was taken, start-up is over */
	/* CLOCK-Pro: the three hands (node numbers, as S's) and the sizes */
	u32 cp_hand_hot;
	u32 cp_hand_cold;
	u32 cp_hand_test;
	u32 cp_m;			/* frames held at most: nframes - reserve */
	u32 cp_mc;			/* cold share target, 1% .. m - 1 */
	/* SIEVE: the frame the hand is at (VMP_NIL: the tail) */
	u32 sieve_hand;
	/* ADAPT: the experts and the frames' keys, in the caller's memory */
	struct vmp_adapt *adapt;
};

const char *vmp_policy_name(enum vmp_policy_kind k);
int vmp_policy_by_name(const char *name);	/* -1 if unknown */

/* Bytes of memory the caller must pass to vmp_policy_init(); may be 0. */
size_t vmp_policy_mem_size(enum vmp_policy_kind k, u32 nframes);

/*
 * Set up @p for @nframes frames whose pnodes are at @node_base + i * @stride.
 * @mem: vmp_policy_mem_size() bytes, 8-byte aligned (NULL if that is 0); it
 * need not be zeroed. The pnodes need not be initialised either: a frame's
 * pnode is written by insert(). Returns 0, or -1 for bad arguments.
 */
int vmp_policy_init(struct vmp_policy *p, enum vmp_policy_kind k, u32 nframes,
		    void *node_base, size_t stride, void *mem);

/* Events from the pager. */
void vmp_policy_insert(struct vmp_policy *p, u32 frame, u64 key);
void vmp_policy_reference(struct vmp_policy *p, u32 frame);
void vmp_policy_remove(struct vmp_policy *p, u32 frame);
int vmp_policy_victim(struct vmp_policy *p, u32 *frame);
void vmp_policy_evicted(struct vmp_policy *p, u32 frame, u64 key);
void vmp_policy_putback(struct vmp_policy *p, u32 frame);
/*
 * Not evicted yet, but not referenced either: the pager unmapped a mapped
 * victim to sample its references (soft unmap) and gives it one more trip.
 * Back at the hot end of the list victim() took it from; no reference is
 * recorded and no list changes class (an ARC T1 page stays in T1, a LIRS
 * HIR page stays HIR with its stack position).
 */
void vmp_policy_requeue(struct vmp_policy *p, u32 frame);
/*
 * The pager keeps up to @reserve of the frames free (its high watermark):
 * the policy sizes its lists for nframes - reserve held frames. Only LIRS
 * has a fixed split (its 1% HIR share: with fewer frames held than it was
 * sized for, its HIR queue empties and each new block is the next victim,
 * before it could be touched twice). Any time; the LIR frames beyond the
 * new limit are demoted at once.
 */
void vmp_policy_set_reserve(struct vmp_policy *p, u32 reserve);
/* @to += @from, every counter (a replaced policy's, an exited client's). */
void vmp_policy_stats_add(struct vmp_policy_stats *to,
			  const struct vmp_policy_stats *from);

/*
 * Switching policy: call vmp_policy_drain() until it returns -1; each call
 * removes one frame (coldest first, no ghost kept) and returns it. Insert
 * each returned frame into the new policy in that order, so that the hottest
 * frames end up at the hot end. Detached frames (victim() without a verdict)
 * must be resolved with evicted() or putback() first.
 */
int vmp_policy_drain(struct vmp_policy *p, u32 *frame);

/*
 * Up to @max frames from the victim end of each list (coldest first, an
 * equal share per list; LIRS: the HIR queue's tail and the LIR frames at
 * the bottom of the stack S), all on a list. Returns how many. Nothing
 * changes: the pager tests their references and calls reference() for
 * those used, before it asks for a victim.
 */
u32 vmp_policy_candidates(const struct vmp_policy *p, u32 *out, u32 max);

/* Introspection, for debugfs: walk each list from head (hot) to tail. */
u32 vmp_policy_nr_lists(const struct vmp_policy *p);
const char *vmp_policy_list_name(const struct vmp_policy *p, u32 i);
u32 vmp_policy_list_len(const struct vmp_policy *p, u32 i);
u32 vmp_policy_list_first(const struct vmp_policy *p, u32 i);
u32 vmp_policy_list_next(const struct vmp_policy *p, u32 frame);
u32 vmp_policy_nr_ghosts(const struct vmp_policy *p);

/*
 * ADAPT: the expert it follows now (a policy kind; VMP_POL_NR for any
 * other policy), how often it changed, and each expert's recent misses
 * (misses[i] for expert i, scaled: a miss adds 65536 and every reference
 * decays the sum by 1/2^window_shift). @n: room in kinds/misses.
 */
struct vmp_adapt_info {
	enum vmp_policy_kind leader;
	u64 switches;
	u32 nexperts;
	enum vmp_policy_kind kinds[4];
	u64 misses[4];
};
void vmp_policy_adapt_info(const struct vmp_policy *p,
			   struct vmp_adapt_info *info);

static inline struct vmp_pnode *vmp_pnode(const struct vmp_policy *p,
					  u32 frame)
{
	return (struct vmp_pnode *)(p->node_base + (size_t)frame * p->stride);
}

#endif /* _VMP_POLICY_H */
