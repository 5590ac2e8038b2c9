// SPDX-License-Identifier: GPL-2.0
/*
 * vmpager paging policies: which resident frame to evict next.
 *
 * Kernel/user-neutral (see vmp_policy.h): the same file is compiled into
 * vmpager.ko, the host unit tests and the trace simulator, so the numbers in
 * docs/policy.md are the numbers of the code that runs in the kernel.
 *
 *		The problem
 *
 * The pool has nframes frames. When a fault needs a frame and none is free,
 * the pager asks victim() for a frame to write out. The pager reports what
 * it can see: a page brought in (insert), a fault or a write on a resident
 * page (reference), a page freed by its owner (remove). vmpager cannot read
 * the accessed bits of the PTEs cheaply, so "reference" is as good as the
 * pager's signals make it; every policy here only needs those events.
 *
 * The measure is the number of misses relative to Belady's OPT on the
 * classic LIRS traces (userspace/sim/vmpsim, table in docs/policy.md).
 *
 *		Lists
 *
 * All policies keep resident frames on index-linked lists made of the
 * caller's struct vmp_pnode (prev/next are frame numbers, VMP_NIL ends).
 * Every list runs from head (hot, newest) to tail (the victim end):
 *
 *	head -> [f] <-> [f] <-> ... <-> [f] <- tail	  victim() looks here
 *
 * Invariants, for every policy:
 *  - a frame held by the policy has pnode.list == the index of exactly one
 *    entry of vmp_policy.lists[], and lists[i].len counts them;
 *  - a frame returned by victim() has pnode.list == VMP_PL_DETACHED until
 *    evicted() or putback(); it is on no list;
 *  - held == sum of lists[i].len + detached frames;
 *  - a frame not held has pnode.list == VMP_PL_NONE (after evicted, remove).
 *
 *		FIFO
 *
 * One list, "fifo". insert() adds at the head, victim() takes the tail,
 * reference() does nothing. Shows Belady's anomaly (test_policy.c).
 *
 *		CLOCK
 *
 * One list, "clock", used as the clock face: the tail is the hand.
 * reference() sets VMP_PN_REF. victim() looks at the tail: with REF set the
 * frame gets its second chance (REF cleared, moved to the head, counted in
 * stats.scans), else it is the victim. Terminates within len + 1 steps.
 *
 *		LRU
 *
 * One list, "lru": reference() moves the frame to the head. Exact LRU, for
 * comparison: a loop one block larger than the cache misses every time.
 *
 *		LRU2: the Linux active/inactive lists
 *
 * The page frame reclaim algorithm of Linux (mm/vmscan.c, mm/swap.c,
 * mm/workingset.c), reduced to what vmpager can observe:
 *
 *	     insert                         refault with distance <= active
 *	       |                                         |
 *	       v        2nd reference                    v
 *	 +-inactive-+  (REF already set)   +---------active----------+
 *	 | head     | -------------------> | head                    |
 *	 |          |                      |                   tail  | REF: clear,
 *	 |     tail | <------------------- |                         | rotate
 *	 +----------+  demote when         +-------------------------+
 *	      |        inactive * inactive_ratio < active
 *	      v
 *	   victim (REF at the tail: activate instead)
 *
 *  - lists[0] is "active", lists[1] is "inactive".
 *  - reference(): on the inactive list the first reference sets VMP_PN_REF,
 *    the second promotes to the active head (mark_page_accessed); on the
 *    active list it sets VMP_PN_REF.
 *  - victim() first rebalances: while inactive_is_low, i.e.
 *    lists[1].len * inactive_ratio < lists[0].len, the active tail is
 *    demoted to the inactive head (REF clear) or, with REF set, rotated to
 *    the active head with REF cleared (the PTE-young second chance of
 *    shrink_active_list). Linux computes the ratio as int_sqrt(10 * GiB of
 *    the LRU), 1 below 1 GiB; here it is the field inactive_ratio, default
 *    1, which the caller may set (vmpager: from the pool size).
 *    Then the inactive tail is the victim, unless REF is set: then it was
 *    referenced since it came in and is activated (folio_check_references).
 *  - Refault distance (mm/workingset.c): nonresident_age counts evictions
 *    and activations. evicted() stores the age in a ghost entry (aux);
 *    insert() of a key with a ghost computes distance = age now - age then,
 *    the number of pages that left the inactive list meanwhile. If
 *    distance <= lists[0].len, the page would have stayed resident had the
 *    active list been shorter: it goes straight to the active head.
 *
 *		ARC
 *
 * Adaptive replacement cache (Megiddo and Modha, FAST 2003):
 *
 *	  B1 (ghosts) <- T1 (seen once) | T2 (seen twice+) -> B2 (ghosts)
 *	  <------- arc_p ------------>
 *
 *  - lists[0] is T1, lists[1] is T2; glists[0] is B1, glists[1] is B2,
 *    ghost aux says which (0 or 1).
 *  - insert(): a key in B1 grows arc_p by max(1, |B2| / |B1|), one in B2
 *    shrinks it by max(1, |B1| / |B2|); both enter the T2 head. A new key
 *    enters the T1 head. reference() moves to the T2 head.
 *  - victim(): the T1 tail if |T1| > arc_p (or T2 is empty), else the T2
 *    tail. (The paper also takes T1 when |T1| == p and the missing key is
 *    in B2; victim() does not know the missing key, so it does not.)
 *  - evicted() remembers the key in B1 or B2 after the list it left, then
 *    keeps |T1| + |B1| <= nframes - 1 (room for the page coming in) by
 *    dropping the B1 tail; when all nghost == nframes entries are used the
 *    B2 tail (else the B1 tail) is recycled: |B1| + |B2| <= nframes.
 *
 *		LIRS
 *
 * Low inter-reference recency set (Jiang and Zhang, SIGMETRICS 2002). A
 * block's IRR is the number of other blocks referenced between its last two
 * references. Blocks with a small IRR are LIR and stay resident; the others
 * (HIR) get a small share of the frames, so a one-time scan only ever
 * passes through that share.
 *
 *	 stack S (recency, slinks[])            queue Q = lists[1] "hir"
 *	 top    L h L n L L h n L   bottom      head  h h h  tail -> victim
 *	        ^ bottom is always LIR (pruned)
 *	 L: LIR frame (lists[0] "lir", only counted: its order is S's)
 *	 h: resident HIR frame, in Q, and in S if VMP_PN_IN_S
 *	 n: non-resident HIR block: a ghost entry, in S only
 *
 *  - S holds nframes + nghost nodes in slinks[]: node i < nframes is frame
 *    i, node nframes + g is ghost g. s_top/s_bottom are node numbers.
 *  - Invariant: the bottom of S is a LIR frame, or S is empty (lirs_prune
 *    removes HIR frames and ghosts from the bottom after every change).
 *  - Invariant: lists[0].len <= lir_max = nframes - max(1, nframes / 100)
 *    (the paper's 1% HIR share).
 *  - Every LIR frame is in S; a ghost is always in S (it is forgotten when
 *    pruned); a resident HIR frame is in S iff VMP_PN_IN_S.
 *  - insert() of a key with a ghost (its IRR is less than the recency of the
 *    bottom LIR block): the frame takes the ghost's place in S, becomes LIR
 *    and moves to the top; the bottom LIR is demoted to the Q head and S is
 *    pruned. Any other insert() is a HIR frame at the top of S and the Q
 *    head, except during start-up: until the first victim(), while fewer
 *    than lir_max frames are LIR, a new block is LIR (and after it, when no
 *    frame is LIR: S must have a LIR bottom). Start-up ends at the
 *    first victim(), not when lir_max is reached: a pager that keeps free
 *    frames ahead of its faults (watermarks, background reclaim) may never
 *    reach lir_max, and every new block would then be LIR and evicted
 *    from the bottom of S: LRU, without LIRS's scan resistance.
 *  - reference() of a LIR frame moves it to the top (prune if it was the
 *    bottom). Of a HIR frame in S: it becomes LIR (as a refault). Of a HIR
 *    frame not in S: pushed on S, moved to the Q head.
 *  - victim() is the Q tail (if Q is empty, the bottom LIR is demoted
 *    first). evicted() turns the frame's S node, if any, into a ghost.
 *  - Ghosts are bounded: at most nghost == nframes; they are also kept on
 *    glists[0] in creation order and the oldest is recycled when all are in
 *    use. Ghost entries are found by key through an open hash with chains
 *    (buckets[] of size a power of two >= nghost).
 *
 *		SIEVE (Zhang et al., NSDI 2024)
 *
 * One list, "sieve", in insertion order: insert() adds at the head and a
 * frame never moves after that. reference() sets VMP_PN_REF. victim()
 * sweeps a hand from where it stopped last (the tail at first) towards the
 * head: a frame with REF loses it and the hand moves on; the first frame
 * without REF is the victim, and the hand stays at its newer neighbour.
 * Past the head the hand wraps to the tail. Unlike CLOCK, a referenced
 * frame is not moved to the head, so new frames near the head are swept
 * sooner than old ones that were referenced once. Terminates within
 * len + 1 steps. A frame leaving the list under the hand (remove, victim)
 * moves the hand to its newer neighbour (pl_del()).
 *
 *		S3-FIFO (Yang et al., SOSP 2023)
 *
 * Two lists, "small" (S, a tenth of the frames) and "main" (M), and a
 * ghost FIFO G of keys evicted from S, holding as many keys as M may hold
 * frames (nine tenths; glists[0]). A frame counts its references, capped
 * at 3 (VMP_PN_FREQ, two bits of pnode.flags). insert() puts a key found
 * in G into M (a refault and an activation), any other at the head of S.
 * victim() takes from S while S holds at least a tenth of the frames or M
 * is empty, else from M: the S tail with a reference moves to the M head
 * (counter cleared; an activation), one without is the victim and its key
 * goes to G when evicted (the oldest key leaves a full G); the M tail with
 * a reference goes back to the M head with its counter one lower, one
 * without is the victim. Each frame is moved at most 1 + 3 times before it
 * is chosen, so the search ends within 3 * held + 2 steps.
 *
 *		CLOCK-Pro (Jiang, Chen, Zhang, USENIX ATC 2005)
 *
 * A circle of nodes in slinks[] (frames, and ghosts as nframes + g): hot
 * frames (lists[0], counted), cold frames (lists[1], counted), and ghosts:
 * cold pages evicted during their test period (VMP_PN_TEST). New nodes go
 * just before the hot hand. reference() sets VMP_PN_REF only. victim()
 * runs the cold hand: an unreferenced cold frame is the victim; a
 * referenced one loses the bit and turns hot if in test (else a new test
 * period), moving to the head. The hot hand keeps hot <= m - cp_mc: it
 * clears bits, demotes the first unreferenced hot frame, and ends the test
 * periods it passes (ghosts leave, cp_mc - 1). The test hand does the same
 * when the ghosts would exceed m. A ghost found by insert(): the frame is
 * hot and cp_mc + 1. cp_mc within max(1, m / 100) .. m - 1. Start-up: new
 * frames are hot while the hot share has room, until the first victim.
 *
 *		ADAPT ("adaptive")
 *
 * Follows the best of three experts, LIRS, LRU and ARC, each a policy of
 * this file run on keys alone with as many frames as the real cache (a
 * shadow cache; CLOCK-Pro's cold hand passes every hot page, too slow for
 * an expert). insert() and reference() show the frame's key
 * to every expert; each scores its misses (65536 a miss, decayed by
 * 1/2^wshift per reference: a window of about 4 * cap references). The
 * leader changes to the expert with the lowest score when that is 3%
 * below the leader's, at most once per cap references. lists[0] "out"
 * holds the resident frames whose key the leader does not hold (moved
 * there when the leader evicts the key), lists[1] "in" the others;
 * victim() takes the out tail, else the leader's own next victim if it is
 * resident, else the in tail. A change of leader re-sorts every frame
 * (O(held), amortised O(1)).
 *
 *		Memory
 *
 * The caller's pnode array (12 bytes per frame) plus vmp_policy_mem_size():
 * FIFO, CLOCK, LRU and SIEVE need nothing; LRU2, ARC and S3-FIFO need
 * nframes ghosts (24 bytes) and the buckets (4 bytes, rounded up to a power
 * of two); LIRS also needs the S links for frames and ghosts (2 * 8 bytes
 * per frame). ADAPT needs its experts' pnodes, keys and hashes, their own
 * memory, and a key and hash per real frame: 172 bytes per frame.
 *
 *		Switching policy
 *
 * vmp_policy_drain() removes frames coldest first; the caller inserts them
 * into the new policy in that order. The old policy's history is dropped.
 */

#include "vmp_policy.h"

#define LRU2_ACTIVE	0
#define LRU2_INACTIVE	1
#define ARC_T1		0
#define ARC_T2		1
#define LIRS_LIR	0
#define LIRS_HIR	1
#define S3_SMALL	0
#define S3_MAIN		1
#define CP_HOT		0
#define CP_COLD		1

static const char *const policy_names[VMP_POL_NR] = {
	[VMP_POL_FIFO] = "fifo",
	[VMP_POL_CLOCK] = "clock",
	[VMP_POL_LRU] = "lru",
	[VMP_POL_LRU2] = "lru2",
	[VMP_POL_ARC] = "arc",
	[VMP_POL_LIRS] = "lirs",
	[VMP_POL_SIEVE] = "sieve",
	[VMP_POL_S3FIFO] = "s3fifo",
	[VMP_POL_ADAPT] = "adaptive",
	[VMP_POL_CLOCKPRO] = "clockpro",
};

static const char *const list_names[VMP_POL_NR][VMP_POL_MAX_LISTS] = {
	[VMP_POL_FIFO] = { "fifo" },
	[VMP_POL_CLOCK] = { "clock" },
	[VMP_POL_LRU] = { "lru" },
	[VMP_POL_LRU2] = { "active", "inactive" },
	[VMP_POL_ARC] = { "t1", "t2" },
	[VMP_POL_LIRS] = { "lir", "hir" },
	[VMP_POL_SIEVE] = { "sieve" },
	[VMP_POL_S3FIFO] = { "small", "main" },
	[VMP_POL_ADAPT] = { "out", "in" },
	[VMP_POL_CLOCKPRO] = { "hot", "cold" },
};

static const u8 nr_lists[VMP_POL_NR] = {
	[VMP_POL_FIFO] = 1, [VMP_POL_CLOCK] = 1, [VMP_POL_LRU] = 1,
	[VMP_POL_LRU2] = 2, [VMP_POL_ARC] = 2, [VMP_POL_LIRS] = 2,
	[VMP_POL_SIEVE] = 1, [VMP_POL_S3FIFO] = 2, [VMP_POL_ADAPT] = 2,
	[VMP_POL_CLOCKPRO] = 2,
};

const char *vmp_policy_name(enum vmp_policy_kind k)
{
	if ((unsigned int)k >= VMP_POL_NR)
		return "?";
	return policy_names[k];
}

static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

int vmp_policy_by_name(const char *name)
{
	int k;

	if (!name)
		return -1;
	for (k = 0; k < VMP_POL_NR; k++)
		if (str_eq(name, policy_names[k]))
			return k;
	return -1;
}

/* ---- memory layout ---------------------------------------------------- */

static u32 ghosts_for(enum vmp_policy_kind k, u32 nframes)
{
	switch (k) {
	case VMP_POL_LRU2:
	case VMP_POL_ARC:
	case VMP_POL_LIRS:
	case VMP_POL_S3FIFO:
	case VMP_POL_CLOCKPRO:
		return nframes;
	default:
		return 0;
	}
}

static size_t adapt_mem_size(u32 nframes);
static u32 cp_mc_min(const struct vmp_policy *p);
static int adapt_init(struct vmp_policy *p, char *m);

static u32 hash_bits_for(u32 nghost)
{
	u32 bits = 1;

	while (bits < 31 && ((u32)1 << bits) < nghost)
		bits++;
	return bits;
}

size_t vmp_policy_mem_size(enum vmp_policy_kind k, u32 nframes)
{
	u32 ng = ghosts_for(k, nframes);
	size_t sz;

	if (k == VMP_POL_ADAPT)
		return adapt_mem_size(nframes);
	if (!ng)
		return 0;
	sz = (size_t)ng * sizeof(struct vmp_ghost);
	sz += ((size_t)1 << hash_bits_for(ng)) * sizeof(u32);
	if (k == VMP_POL_LIRS || k == VMP_POL_CLOCKPRO)
		sz += ((size_t)nframes + ng) * sizeof(struct vmp_slink);
	return sz;
}

/* LIRS's LIR limit for nframes - @reserve held frames: 1% of them HIR. */
static void lirs_size(struct vmp_policy *p, u32 reserve)
{
	u32 n = p->nframes > reserve ? p->nframes - reserve : 1, h;

	h = n / 100;
	if (h < 1)
		h = 1;
	p->lir_max = n > h ? n - h : 1;
}

int vmp_policy_init(struct vmp_policy *p, enum vmp_policy_kind k, u32 nframes,
		    void *node_base, size_t stride, void *mem)
{
	char *m = mem;
	u32 i, nb;

	if ((unsigned int)k >= VMP_POL_NR || !nframes || nframes >= VMP_NIL / 2 ||
	    !node_base || stride < sizeof(struct vmp_pnode))
		return -1;
	if (vmp_policy_mem_size(k, nframes) && !mem)
		return -1;

	*p = (struct vmp_policy){ 0 };
	p->kind = k;
	p->nframes = nframes;
	p->node_base = node_base;
	p->stride = stride;
	for (i = 0; i < VMP_POL_MAX_LISTS; i++) {
		p->lists[i].head = p->lists[i].tail = VMP_NIL;
		p->glists[i].head = p->glists[i].tail = VMP_NIL;
	}
	p->ghost_free = VMP_NIL;
	p->s_top = p->s_bottom = VMP_NIL;
	p->sieve_hand = VMP_NIL;
	p->inactive_ratio = 1;

	p->nghost = ghosts_for(k, nframes);
	if (p->nghost) {
		p->hash_bits = hash_bits_for(p->nghost);
		nb = (u32)1 << p->hash_bits;
		p->ghosts = (struct vmp_ghost *)m;
		m += (size_t)p->nghost * sizeof(struct vmp_ghost);
		p->buckets = (u32 *)m;
		m += (size_t)nb * sizeof(u32);
		for (i = 0; i < nb; i++)
			p->buckets[i] = VMP_NIL;
		/* free list in index order, so entries are used 0, 1, 2... */
		for (i = p->nghost; i-- > 0;) {
			p->ghosts[i].next = p->ghost_free;
			p->ghost_free = i;
		}
	}
	if (k == VMP_POL_LIRS) {
		p->slinks = (struct vmp_slink *)m;
		lirs_size(p, 0);
	}
	if (k == VMP_POL_CLOCKPRO) {
		p->slinks = (struct vmp_slink *)m;
		p->cp_hand_hot = p->cp_hand_cold = p->cp_hand_test = VMP_NIL;
		p->cp_m = nframes;
		p->cp_mc = cp_mc_min(p);
	}
	if (k == VMP_POL_ADAPT)
		return adapt_init(p, m);
	return 0;
}

/* ---- frame lists ------------------------------------------------------- */

static void pl_add_head(struct vmp_policy *p, u32 l, u32 f)
{
	struct vmp_plist *L = &p->lists[l];
	struct vmp_pnode *n = vmp_pnode(p, f);

	n->list = (u8)l;
	n->prev = VMP_NIL;
	n->next = L->head;
	if (L->head != VMP_NIL)
		vmp_pnode(p, L->head)->prev = f;
	else
		L->tail = f;
	L->head = f;
	L->len++;
}

/* Unlink @f from the list it is on; leaves n->list for the caller to set. */
static void pl_del(struct vmp_policy *p, u32 f)
{
	struct vmp_pnode *n = vmp_pnode(p, f);
	struct vmp_plist *L = &p->lists[n->list];

	if (p->sieve_hand == f)		/* SIEVE: the hand moves on */
		p->sieve_hand = n->prev;

	if (n->prev != VMP_NIL)
		vmp_pnode(p, n->prev)->next = n->next;
	else
		L->head = n->next;
	if (n->next != VMP_NIL)
		vmp_pnode(p, n->next)->prev = n->prev;
	else
		L->tail = n->prev;
	L->len--;
	n->prev = n->next = VMP_NIL;
}

static void pl_move_head(struct vmp_policy *p, u32 l, u32 f)
{
	pl_del(p, f);
	pl_add_head(p, l, f);
}

/* Take @f off its list and mark it detached, remembering where it was. */
static void pl_detach(struct vmp_policy *p, u32 f)
{
	struct vmp_pnode *n = vmp_pnode(p, f);

	n->aux = n->list;
	pl_del(p, f);
	n->list = VMP_PL_DETACHED;
	p->stats.victims++;
}

/* ---- ghost history ----------------------------------------------------- */

/* Fibonacci hashing of a page key into @bits bits. */
static u32 key_hash(u64 key, u32 bits)
{
	return (u32)((key * 0x9e3779b97f4a7c15ULL) >> (64 - bits));
}

static u32 g_hash(const struct vmp_policy *p, u64 key)
{
	return key_hash(key, p->hash_bits);
}

static u32 g_lookup(const struct vmp_policy *p, u64 key)
{
	u32 g;

	if (!p->nghost)
		return VMP_NIL;
	for (g = p->buckets[g_hash(p, key)]; g != VMP_NIL; g = p->ghosts[g].hnext)
		if (p->ghosts[g].key == key)
			return g;
	return VMP_NIL;
}

/* Forget ghost @g, which is on glists[@gl]; the LIRS caller unlinks S. */
static void g_free(struct vmp_policy *p, u32 gl, u32 g)
{
	struct vmp_ghost *e = &p->ghosts[g];
	struct vmp_plist *L = &p->glists[gl];
	u32 *pp = &p->buckets[g_hash(p, e->key)];

	while (*pp != g)
		pp = &p->ghosts[*pp].hnext;
	*pp = e->hnext;

	if (e->prev != VMP_NIL)
		p->ghosts[e->prev].next = e->next;
	else
		L->head = e->next;
	if (e->next != VMP_NIL)
		p->ghosts[e->next].prev = e->prev;
	else
		L->tail = e->prev;
	L->len--;

	e->next = p->ghost_free;
	p->ghost_free = g;
}

/* Remember @key at the head of glists[@gl]; a free entry must exist. */
static u32 g_alloc(struct vmp_policy *p, u32 gl, u64 key, u32 aux)
{
	struct vmp_plist *L = &p->glists[gl];
	u32 g = p->ghost_free;
	struct vmp_ghost *e = &p->ghosts[g];
	u32 h = g_hash(p, key);

	p->ghost_free = e->next;
	e->key = key;
	e->aux = aux;
	e->hnext = p->buckets[h];
	p->buckets[h] = g;
	e->prev = VMP_NIL;
	e->next = L->head;
	if (L->head != VMP_NIL)
		p->ghosts[L->head].prev = g;
	else
		L->tail = g;
	L->head = g;
	L->len++;
	return g;
}

u32 vmp_policy_nr_ghosts(const struct vmp_policy *p)
{
	return p->glists[0].len + p->glists[1].len;
}

/* ---- LRU2 -------------------------------------------------------------- */

static void lru2_activate(struct vmp_policy *p, u32 f)
{
	vmp_pnode(p, f)->flags &= ~VMP_PN_REF;
	pl_move_head(p, LRU2_ACTIVE, f);
	p->stats.activations++;
	p->nonresident_age++;
}

static bool lru2_inactive_is_low(const struct vmp_policy *p)
{
	return (u64)p->lists[LRU2_INACTIVE].len * p->inactive_ratio <
	       p->lists[LRU2_ACTIVE].len;
}

static void lru2_insert(struct vmp_policy *p, u32 f, u64 key)
{
	u32 g = g_lookup(p, key);
	u32 dist;

	pl_add_head(p, LRU2_INACTIVE, f);
	if (g == VMP_NIL)
		return;
	p->stats.refaults++;
	dist = p->nonresident_age - p->ghosts[g].aux;
	g_free(p, 0, g);
	if (dist <= p->lists[LRU2_ACTIVE].len)
		lru2_activate(p, f);
}

static void lru2_reference(struct vmp_policy *p, u32 f)
{
	struct vmp_pnode *n = vmp_pnode(p, f);

	if (n->list == LRU2_INACTIVE && (n->flags & VMP_PN_REF))
		lru2_activate(p, f);
	else
		n->flags |= VMP_PN_REF;
}

static int lru2_victim(struct vmp_policy *p, u32 *frame)
{
	struct vmp_pnode *n;
	u32 f;

	for (;;) {
		while (p->lists[LRU2_ACTIVE].len && lru2_inactive_is_low(p)) {
			f = p->lists[LRU2_ACTIVE].tail;
			n = vmp_pnode(p, f);
			p->stats.scans++;
			if (n->flags & VMP_PN_REF) {
				n->flags &= ~VMP_PN_REF;
				pl_move_head(p, LRU2_ACTIVE, f);
				continue;
			}
			pl_move_head(p, LRU2_INACTIVE, f);
			p->stats.deactivations++;
		}
		f = p->lists[LRU2_INACTIVE].tail;
		if (f == VMP_NIL)
			return -1;
		n = vmp_pnode(p, f);
		p->stats.scans++;
		if (n->flags & VMP_PN_REF) {
			lru2_activate(p, f);
			continue;
		}
		pl_detach(p, f);
		*frame = f;
		return 0;
	}
}

static void lru2_evicted(struct vmp_policy *p, u64 key)
{
	p->nonresident_age++;
	if (p->ghost_free == VMP_NIL)
		g_free(p, 0, p->glists[0].tail);
	g_alloc(p, 0, key, p->nonresident_age);
}

/* ---- ARC --------------------------------------------------------------- */

static void arc_insert(struct vmp_policy *p, u32 f, u64 key)
{
	u32 g = g_lookup(p, key);
	u32 b1 = p->glists[0].len, b2 = p->glists[1].len, d;

	if (g == VMP_NIL) {
		pl_add_head(p, ARC_T1, f);
		return;
	}
	p->stats.refaults++;
	p->stats.activations++;
	if (p->ghosts[g].aux == 0) {
		d = b1 >= b2 ? 1 : b2 / b1;
		p->arc_p = p->arc_p + d > p->nframes ? p->nframes : p->arc_p + d;
	} else {
		d = b2 >= b1 ? 1 : b1 / b2;
		p->arc_p = p->arc_p > d ? p->arc_p - d : 0;
	}
	g_free(p, p->ghosts[g].aux, g);
	pl_add_head(p, ARC_T2, f);
}

static void arc_reference(struct vmp_policy *p, u32 f)
{
	if (vmp_pnode(p, f)->list == ARC_T1)
		p->stats.activations++;
	pl_move_head(p, ARC_T2, f);
}

static int arc_victim(struct vmp_policy *p, u32 *frame)
{
	u32 t1 = p->lists[ARC_T1].len;
	u32 f;

	if (t1 && (t1 > p->arc_p || !p->lists[ARC_T2].len))
		f = p->lists[ARC_T1].tail;
	else
		f = p->lists[ARC_T2].tail;
	if (f == VMP_NIL)
		return -1;
	p->stats.scans++;
	pl_detach(p, f);
	*frame = f;
	return 0;
}

static void arc_evicted(struct vmp_policy *p, u32 from, u64 key)
{
	u32 gl = from == ARC_T1 ? 0 : 1;

	if (p->ghost_free == VMP_NIL) {
		if (p->glists[1].len)
			g_free(p, 1, p->glists[1].tail);
		else
			g_free(p, 0, p->glists[0].tail);
	}
	g_alloc(p, gl, key, gl);
	while (p->glists[0].len &&
	       p->lists[ARC_T1].len + p->glists[0].len > p->nframes - 1)
		g_free(p, 0, p->glists[0].tail);
}

/* ---- LIRS -------------------------------------------------------------- */

static void s_del(struct vmp_policy *p, u32 id)
{
	struct vmp_slink *s = &p->slinks[id];

	if (s->prev != VMP_NIL)
		p->slinks[s->prev].next = s->next;
	else
		p->s_top = s->next;
	if (s->next != VMP_NIL)
		p->slinks[s->next].prev = s->prev;
	else
		p->s_bottom = s->prev;
}

static void s_push(struct vmp_policy *p, u32 id)
{
	struct vmp_slink *s = &p->slinks[id];

	s->prev = VMP_NIL;
	s->next = p->s_top;
	if (p->s_top != VMP_NIL)
		p->slinks[p->s_top].prev = id;
	else
		p->s_bottom = id;
	p->s_top = id;
}

/* Node @to takes the place of node @from in S. */
static void s_replace(struct vmp_policy *p, u32 from, u32 to)
{
	struct vmp_slink *s = &p->slinks[from];

	p->slinks[to] = *s;
	if (s->prev != VMP_NIL)
		p->slinks[s->prev].next = to;
	else
		p->s_top = to;
	if (s->next != VMP_NIL)
		p->slinks[s->next].prev = to;
	else
		p->s_bottom = to;
}

static bool lirs_node_is_lir(const struct vmp_policy *p, u32 id)
{
	return id < p->nframes && vmp_pnode(p, id)->list == LIRS_LIR;
}

/* Restore "the bottom of S is LIR": drop HIR frames and ghosts below it. */
static void lirs_prune(struct vmp_policy *p)
{
	u32 id;

	while ((id = p->s_bottom) != VMP_NIL && !lirs_node_is_lir(p, id)) {
		s_del(p, id);
		p->stats.scans++;
		if (id >= p->nframes)
			g_free(p, 0, id - p->nframes);
		else
			vmp_pnode(p, id)->flags &= ~VMP_PN_IN_S;
	}
}

/* The bottom LIR frame becomes a resident HIR frame at the head of Q. */
static void lirs_demote_bottom(struct vmp_policy *p)
{
	struct vmp_pnode *n;
	u32 f;

	lirs_prune(p);
	f = p->s_bottom;
	if (f == VMP_NIL)
		return;
	n = vmp_pnode(p, f);
	s_del(p, f);
	n->flags &= ~VMP_PN_IN_S;
	p->lists[LIRS_LIR].len--;
	pl_add_head(p, LIRS_HIR, f);
	p->stats.deactivations++;
	lirs_prune(p);
}

/* @f, already in S, becomes LIR at the top of S. */
static void lirs_make_lir(struct vmp_policy *p, u32 f)
{
	struct vmp_pnode *n = vmp_pnode(p, f);

	s_del(p, f);
	s_push(p, f);
	n->flags |= VMP_PN_IN_S;
	n->list = LIRS_LIR;
	p->lists[LIRS_LIR].len++;
	p->stats.activations++;
	if (p->lists[LIRS_LIR].len > p->lir_max)
		lirs_demote_bottom(p);
	else
		lirs_prune(p);
}

static void lirs_insert(struct vmp_policy *p, u32 f, u64 key)
{
	struct vmp_pnode *n = vmp_pnode(p, f);
	u32 g = g_lookup(p, key);

	n->flags = 0;
	if (g != VMP_NIL) {
		p->stats.refaults++;
		s_replace(p, p->nframes + g, f);
		g_free(p, 0, g);
		lirs_make_lir(p, f);
		return;
	}
	s_push(p, f);
	n->flags = VMP_PN_IN_S;
	if ((!p->lirs_full || !p->lists[LIRS_LIR].len) &&
	    p->lists[LIRS_LIR].len < p->lir_max) {
		n->list = LIRS_LIR;
		p->lists[LIRS_LIR].len++;
		n->prev = n->next = VMP_NIL;
	} else {
		pl_add_head(p, LIRS_HIR, f);
	}
}

static void lirs_reference(struct vmp_policy *p, u32 f)
{
	struct vmp_pnode *n = vmp_pnode(p, f);
	bool was_bottom = p->s_bottom == f;

	if (n->list == LIRS_LIR) {
		s_del(p, f);
		s_push(p, f);
		if (was_bottom)
			lirs_prune(p);
		return;
	}
	if (n->flags & VMP_PN_IN_S) {
		pl_del(p, f);
		lirs_make_lir(p, f);
		return;
	}
	s_push(p, f);
	n->flags |= VMP_PN_IN_S;
	pl_move_head(p, LIRS_HIR, f);
}

static int lirs_victim(struct vmp_policy *p, u32 *frame)
{
	u32 f;

	if (!p->lists[LIRS_HIR].len) {
		if (!p->lists[LIRS_LIR].len)
			return -1;
		lirs_demote_bottom(p);
	}
	f = p->lists[LIRS_HIR].tail;
	if (f == VMP_NIL)
		return -1;
	p->stats.scans++;
	pl_detach(p, f);
	p->lirs_full = true;
	*frame = f;
	return 0;
}

static void lirs_evicted(struct vmp_policy *p, u32 f, u64 key)
{
	struct vmp_pnode *n = vmp_pnode(p, f);
	u32 g;

	if (!(n->flags & VMP_PN_IN_S))
		return;
	if (p->ghost_free == VMP_NIL) {
		g = p->glists[0].tail;
		s_del(p, p->nframes + g);
		g_free(p, 0, g);
	}
	g = g_alloc(p, 0, key, 0);
	s_replace(p, f, p->nframes + g);
	n->flags &= ~VMP_PN_IN_S;
}

static void lirs_remove(struct vmp_policy *p, u32 f)
{
	struct vmp_pnode *n = vmp_pnode(p, f);

	if (n->list == LIRS_LIR)
		p->lists[LIRS_LIR].len--;
	else if (n->list == LIRS_HIR)
		pl_del(p, f);
	if (n->flags & VMP_PN_IN_S) {
		s_del(p, f);
		n->flags &= ~VMP_PN_IN_S;
		lirs_prune(p);
	}
}

/* ---- SIEVE ------------------------------------------------------------- */

static int sieve_victim(struct vmp_policy *p, u32 *frame)
{
	u32 f = p->sieve_hand, budget = p->lists[0].len + 1;
	struct vmp_pnode *n;

	if (f == VMP_NIL)
		f = p->lists[0].tail;
	while (f != VMP_NIL && budget--) {
		n = vmp_pnode(p, f);
		p->stats.scans++;
		if (!(n->flags & VMP_PN_REF))
			break;
		n->flags &= ~VMP_PN_REF;
		f = n->prev != VMP_NIL ? n->prev : p->lists[0].tail;
	}
	if (f == VMP_NIL)
		return -1;
	p->sieve_hand = f;	/* pl_detach() moves it to the newer neighbour */
	pl_detach(p, f);
	*frame = f;
	return 0;
}

/* ---- S3-FIFO ----------------------------------------------------------- */

static u32 s3_freq(const struct vmp_pnode *n)
{
	return (n->flags & VMP_PN_FREQ) >> VMP_PN_FREQ_SHIFT;
}

static void s3_set_freq(struct vmp_pnode *n, u32 v)
{
	n->flags = (u8)((n->flags & ~VMP_PN_FREQ) | (v << VMP_PN_FREQ_SHIFT));
}

/* S's share of the frames, and G's capacity (M's share). */
static u32 s3_small_max(const struct vmp_policy *p)
{
	return p->nframes / 10 ? p->nframes / 10 : 1;
}

static u32 s3_ghost_max(const struct vmp_policy *p)
{
	u32 g = p->nframes - s3_small_max(p);

	return g ? g : 1;
}

static void s3fifo_insert(struct vmp_policy *p, u32 f, u64 key)
{
	u32 g = g_lookup(p, key);

	if (g == VMP_NIL) {
		pl_add_head(p, S3_SMALL, f);
		return;
	}
	g_free(p, 0, g);
	p->stats.refaults++;
	p->stats.activations++;
	pl_add_head(p, S3_MAIN, f);
}

static void s3fifo_reference(struct vmp_policy *p, u32 f)
{
	struct vmp_pnode *n = vmp_pnode(p, f);
	u32 v = s3_freq(n);

	if (v < 3)
		s3_set_freq(n, v + 1);
}

static int s3fifo_victim(struct vmp_policy *p, u32 *frame)
{
	u32 budget = 3 * p->held + 2, f = VMP_NIL, l;
	struct vmp_pnode *n;

	while (budget--) {
		if (p->lists[S3_SMALL].len &&
		    (p->lists[S3_SMALL].len >= s3_small_max(p) ||
		     !p->lists[S3_MAIN].len))
			l = S3_SMALL;
		else if (p->lists[S3_MAIN].len)
			l = S3_MAIN;
		else
			return -1;
		f = p->lists[l].tail;
		n = vmp_pnode(p, f);
		p->stats.scans++;
		if (!s3_freq(n))
			break;
		if (l == S3_SMALL) {
			/* used while on probation: into main */
			s3_set_freq(n, 0);
			p->stats.activations++;
		} else {
			s3_set_freq(n, s3_freq(n) - 1);
		}
		pl_move_head(p, S3_MAIN, f);
		f = VMP_NIL;
	}
	if (f == VMP_NIL)
		return -1;
	pl_detach(p, f);
	*frame = f;
	return 0;
}

static void s3fifo_evicted(struct vmp_policy *p, u32 from, u64 key)
{
	if (from != S3_SMALL)
		return;
	while (p->glists[0].len >= s3_ghost_max(p) && p->glists[0].tail != VMP_NIL)
		g_free(p, 0, p->glists[0].tail);
	if (p->ghost_free != VMP_NIL)
		g_alloc(p, 0, key, 0);
}

/* ---- CLOCK-Pro --------------------------------------------------------- */

/*
 * The clock is a circle of nodes linked through slinks[] (next: the way
 * the hands move): frames (hot, or cold resident) and ghosts (cold pages
 * no longer resident whose test period runs). A new node goes in just
 * before the hot hand, the last place any hand reaches.
 */
static bool cp_is_frame(const struct vmp_policy *p, u32 id)
{
	return id < p->nframes;
}

static void cp_link(struct vmp_policy *p, u32 id)
{
	u32 at = p->cp_hand_hot, before;

	if (at == VMP_NIL) {
		p->slinks[id].next = p->slinks[id].prev = id;
		p->cp_hand_hot = p->cp_hand_cold = p->cp_hand_test = id;
		return;
	}
	before = p->slinks[at].prev;
	p->slinks[id].prev = before;
	p->slinks[id].next = at;
	p->slinks[before].next = id;
	p->slinks[at].prev = id;
}

/* Every hand on node @from moves to node @to. */
static void cp_hands_move(struct vmp_policy *p, u32 from, u32 to)
{
	if (p->cp_hand_hot == from)
		p->cp_hand_hot = to;
	if (p->cp_hand_cold == from)
		p->cp_hand_cold = to;
	if (p->cp_hand_test == from)
		p->cp_hand_test = to;
}

/* Take @id out of the circle; a hand on it moves on. */
static void cp_unlink(struct vmp_policy *p, u32 id)
{
	u32 next = p->slinks[id].next, prev = p->slinks[id].prev;

	if (next == id) {
		p->cp_hand_hot = p->cp_hand_cold = p->cp_hand_test = VMP_NIL;
		return;
	}
	p->slinks[prev].next = next;
	p->slinks[next].prev = prev;
	cp_hands_move(p, id, next);
}

/* Node @to takes the place of node @from in the circle (and the hands). */
static void cp_replace(struct vmp_policy *p, u32 from, u32 to)
{
	u32 next = p->slinks[from].next, prev = p->slinks[from].prev;

	if (next == from) {
		p->slinks[to].next = p->slinks[to].prev = to;
	} else {
		p->slinks[to].next = next;
		p->slinks[to].prev = prev;
		p->slinks[prev].next = to;
		p->slinks[next].prev = to;
	}
	cp_hands_move(p, from, to);
}

/* The cold share: at least 1% of the frames, at most all but one. */
static u32 cp_mc_min(const struct vmp_policy *p)
{
	return p->cp_m / 100 ? p->cp_m / 100 : 1;
}

static void cp_mc_adjust(struct vmp_policy *p, bool grow)
{
	if (grow && p->cp_mc + 1 < p->cp_m)
		p->cp_mc++;
	else if (!grow && p->cp_mc > cp_mc_min(p))
		p->cp_mc--;
}

/* A ghost leaves the clock (its test period is over). */
static void cp_drop_ghost(struct vmp_policy *p, u32 id)
{
	cp_unlink(p, id);
	g_free(p, 0, id - p->nframes);
}

/*
 * A hand passes node @id: a cold page in its test period ends it, and the
 * cold share shrinks (its page was not wanted back in time); a ghost then
 * leaves the clock. Returns whether a ghost left.
 */
static bool cp_end_test(struct vmp_policy *p, u32 id)
{
	struct vmp_pnode *n;

	if (!cp_is_frame(p, id)) {
		cp_mc_adjust(p, false);
		cp_drop_ghost(p, id);
		return true;
	}
	n = vmp_pnode(p, id);
	if (n->list == CP_COLD && (n->flags & VMP_PN_TEST)) {
		n->flags &= ~VMP_PN_TEST;
		cp_mc_adjust(p, false);
	}
	return false;
}

/* The test hand: ends test periods until one ghost has left. */
static void cp_run_test(struct vmp_policy *p)
{
	u32 budget = p->held + vmp_policy_nr_ghosts(p) + 1, id;

	while ((id = p->cp_hand_test) != VMP_NIL && budget--) {
		p->cp_hand_test = p->slinks[id].next;
		p->stats.scans++;
		if (cp_end_test(p, id))
			return;
	}
}

/*
 * The hot hand: a hot page with its reference bit loses it; one without
 * turns cold (and the hand stops). Cold pages it passes end their test
 * period, as under the test hand.
 */
static void cp_run_hot(struct vmp_policy *p)
{
	u32 budget = 2 * (p->held + vmp_policy_nr_ghosts(p)) + 2, id;
	struct vmp_pnode *n;

	while ((id = p->cp_hand_hot) != VMP_NIL && budget--) {
		p->cp_hand_hot = p->slinks[id].next;
		p->stats.scans++;
		if (cp_end_test(p, id))
			continue;
		n = vmp_pnode(p, id);
		if (n->list == CP_HOT) {
			if (n->flags & VMP_PN_REF) {
				n->flags &= ~VMP_PN_REF;
			} else {
				n->list = CP_COLD;
				p->lists[CP_HOT].len--;
				p->lists[CP_COLD].len++;
				p->stats.deactivations++;
				return;
			}
		}
	}
}

/* Keep the hot pages within m - mc. */
static void cp_balance(struct vmp_policy *p)
{
	u32 limit = p->cp_m > p->cp_mc ? p->cp_m - p->cp_mc : 0;

	while (p->lists[CP_HOT].len > limit) {
		u32 before = p->lists[CP_HOT].len;

		cp_run_hot(p);
		if (p->lists[CP_HOT].len == before)
			break;
	}
}

/* Frame @f, in the clock already, moves to just before the hot hand. */
static void cp_to_head(struct vmp_policy *p, u32 f)
{
	cp_unlink(p, f);
	cp_link(p, f);
}

static void clockpro_insert(struct vmp_policy *p, u32 f, u64 key)
{
	struct vmp_pnode *n = vmp_pnode(p, f);
	u32 g = g_lookup(p, key);

	n->prev = n->next = VMP_NIL;
	if (g != VMP_NIL) {
		/* back within its test period: hot, and the cold share grows */
		p->stats.refaults++;
		p->stats.activations++;
		cp_mc_adjust(p, true);
		cp_drop_ghost(p, p->nframes + g);
		n->list = CP_HOT;
		p->lists[CP_HOT].len++;
		cp_link(p, f);
		cp_balance(p);
		return;
	}
	if (!p->lirs_full && p->lists[CP_HOT].len + p->cp_mc < p->cp_m) {
		/* start-up: hot until the hot share is full (as LIRS's LIR) */
		n->list = CP_HOT;
		p->lists[CP_HOT].len++;
		cp_link(p, f);
		return;
	}
	n->list = CP_COLD;
	n->flags |= VMP_PN_TEST;
	p->lists[CP_COLD].len++;
	cp_link(p, f);
}

/*
 * The cold hand: a cold page without its reference bit is the victim; one
 * with it becomes hot if it was in its test period, else starts a new one;
 * both move to the head. Hot pages and ghosts are passed. With no cold
 * page at all, the hot hand turns one cold first.
 */
static int clockpro_victim(struct vmp_policy *p, u32 *frame)
{
	u32 budget = 3 * (p->held + vmp_policy_nr_ghosts(p)) + 3, id;
	struct vmp_pnode *n;

	while (budget--) {
		if (!p->lists[CP_COLD].len) {
			if (!p->lists[CP_HOT].len)
				return -1;
			cp_run_hot(p);
			continue;
		}
		id = p->cp_hand_cold;
		if (id == VMP_NIL)
			return -1;
		p->cp_hand_cold = p->slinks[id].next;
		p->stats.scans++;
		if (!cp_is_frame(p, id))
			continue;
		n = vmp_pnode(p, id);
		if (n->list != CP_COLD)
			continue;
		if (!(n->flags & VMP_PN_REF)) {
			p->lirs_full = true;	/* start-up is over */
			n->aux = CP_COLD;
			n->list = VMP_PL_DETACHED;
			p->lists[CP_COLD].len--;
			p->stats.victims++;
			*frame = id;
			return 0;
		}
		n->flags &= ~VMP_PN_REF;
		if (n->flags & VMP_PN_TEST) {
			n->flags &= ~VMP_PN_TEST;
			n->list = CP_HOT;
			p->lists[CP_COLD].len--;
			p->lists[CP_HOT].len++;
			p->stats.activations++;
			cp_to_head(p, id);
			cp_balance(p);
		} else {
			n->flags |= VMP_PN_TEST;
			cp_to_head(p, id);
		}
	}
	return -1;
}

/* The victim leaves: a page in its test period stays as a ghost. */
static void clockpro_evicted(struct vmp_policy *p, u32 f, u64 key)
{
	struct vmp_pnode *n = vmp_pnode(p, f);
	u32 g;

	if (!(n->flags & VMP_PN_TEST)) {
		cp_unlink(p, f);
		return;
	}
	while (p->ghost_free == VMP_NIL || vmp_policy_nr_ghosts(p) >= p->cp_m) {
		u32 before = vmp_policy_nr_ghosts(p);

		cp_run_test(p);
		if (vmp_policy_nr_ghosts(p) == before)
			break;
	}
	if (p->ghost_free == VMP_NIL) {
		cp_unlink(p, f);
		return;
	}
	g = g_alloc(p, 0, key, 0);
	cp_replace(p, f, p->nframes + g);
}

static void clockpro_remove(struct vmp_policy *p, u32 f)
{
	struct vmp_pnode *n = vmp_pnode(p, f);

	if (n->list == CP_HOT || n->list == CP_COLD)
		p->lists[n->list].len--;
	cp_unlink(p, f);
}

/* A detached frame back (putback: referenced; requeue: not). */
static void clockpro_back(struct vmp_policy *p, u32 f, bool ref)
{
	struct vmp_pnode *n = vmp_pnode(p, f);

	n->list = CP_COLD;
	p->lists[CP_COLD].len++;
	if (ref)
		n->flags |= VMP_PN_REF;
	cp_to_head(p, f);
}

/* The first frame of class @l from node @start on, all round the clock. */
static u32 cp_find(const struct vmp_policy *p, u32 start, u32 l)
{
	u32 id = start;

	while (id != VMP_NIL) {
		if (cp_is_frame(p, id) && vmp_pnode(p, id)->list == l)
			return id;
		id = p->slinks[id].next;
		if (id == start)
			break;
	}
	return VMP_NIL;
}

/* Introspection: the frames of class @l from node @id on, clock order. */
static u32 cp_next_of(const struct vmp_policy *p, u32 id, u32 l)
{
	u32 stop = p->cp_hand_hot;

	while (id != VMP_NIL) {
		if (cp_is_frame(p, id) && vmp_pnode(p, id)->list == l)
			return id;
		id = p->slinks[id].next;
		if (id == stop)
			return VMP_NIL;
	}
	return VMP_NIL;
}

/* ---- ADAPT ------------------------------------------------------------- */

/*
 * The experts ADAPT follows, and its two lists: "out" (resident frames the
 * leading expert does not hold: the victims, oldest first) and "in".
 */
#define ADAPT_NEXP	3
#define ADAPT_OUT	0
#define ADAPT_IN	1
#define ADAPT_MISS	65536		/* a miss's weight in an expert's score */
#define ADAPT_MARGIN	3		/* percent fewer misses to take the lead */
#define ADAPT_WINDOW	4		/* score window, in cap references */

#define ADAPT_INFO_MAX	(sizeof(((struct vmp_adapt_info *)0)->kinds) / \
			 sizeof(enum vmp_policy_kind))
_Static_assert(ADAPT_INFO_MAX >= ADAPT_NEXP, "vmp_adapt_info holds every expert");

static const enum vmp_policy_kind adapt_kinds[ADAPT_NEXP] = {
	VMP_POL_LIRS, VMP_POL_LRU, VMP_POL_ARC,
};

/* One expert, run on keys alone: a shadow cache of cap frames. */
struct vmp_adapt_expert {
	struct vmp_policy pol;
	struct vmp_pnode *nodes;	/* nframes */
	u64 *keys;			/* key of each shadow frame */
	u32 *hnext;			/* hash chain; free list when free */
	u32 *buckets;
	u32 used;			/* frames handed out so far */
	u32 free;			/* frames given back (capacity shrank) */
	u64 score;			/* recent misses, decayed */
};

struct vmp_adapt {
	struct vmp_adapt_expert ex[ADAPT_NEXP];
	u64 *rkeys;			/* key of each real frame */
	u32 *rhnext;			/* real frames by key */
	u32 *rbuckets;
	u32 hash_bits;
	u32 cap;			/* nframes - reserve */
	u32 wshift;			/* score window: 2^wshift >= 4 * cap */
	u32 leader;			/* index into ex[] */
	u32 since_switch;		/* references since the leader changed */
	u64 switches;
};

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static size_t adapt_mem_size(u32 nframes)
{
	size_t nb = (size_t)1 << hash_bits_for(nframes), sz;
	int e;

	sz = align8(sizeof(struct vmp_adapt));
	sz += align8((size_t)nframes * 8) + align8((size_t)nframes * 4) +
	      align8(nb * 4);
	for (e = 0; e < ADAPT_NEXP; e++)
		sz += align8((size_t)nframes * sizeof(struct vmp_pnode)) +
		      align8((size_t)nframes * 8) +
		      align8((size_t)nframes * 4) + align8(nb * 4) +
		      align8(vmp_policy_mem_size(adapt_kinds[e], nframes));
	return sz;
}

static char *adapt_take(char **m, size_t n)
{
	char *r = *m;

	*m += align8(n);
	return r;
}

static void adapt_resize(struct vmp_adapt *a, u32 cap)
{
	a->cap = cap ? cap : 1;
	a->wshift = 1;
	while (a->wshift < 40 && ((u64)1 << a->wshift) < ADAPT_WINDOW * (u64)a->cap)
		a->wshift++;
}

static int adapt_init(struct vmp_policy *p, char *m)
{
	u32 n = p->nframes, nb = (u32)1 << hash_bits_for(n), i;
	struct vmp_adapt *a;
	int e;

	a = (struct vmp_adapt *)adapt_take(&m, sizeof(*a));
	*a = (struct vmp_adapt){ 0 };
	a->hash_bits = hash_bits_for(n);
	a->rkeys = (u64 *)adapt_take(&m, (size_t)n * 8);
	a->rhnext = (u32 *)adapt_take(&m, (size_t)n * 4);
	a->rbuckets = (u32 *)adapt_take(&m, (size_t)nb * 4);
	for (i = 0; i < nb; i++)
		a->rbuckets[i] = VMP_NIL;
	for (e = 0; e < ADAPT_NEXP; e++) {
		struct vmp_adapt_expert *x = &a->ex[e];
		size_t msz = vmp_policy_mem_size(adapt_kinds[e], n);

		x->nodes = (struct vmp_pnode *)adapt_take(&m, (size_t)n *
						sizeof(struct vmp_pnode));
		x->keys = (u64 *)adapt_take(&m, (size_t)n * 8);
		x->hnext = (u32 *)adapt_take(&m, (size_t)n * 4);
		x->buckets = (u32 *)adapt_take(&m, (size_t)nb * 4);
		for (i = 0; i < nb; i++)
			x->buckets[i] = VMP_NIL;
		x->free = VMP_NIL;
		if (vmp_policy_init(&x->pol, adapt_kinds[e], n, x->nodes,
				    sizeof(struct vmp_pnode),
				    msz ? adapt_take(&m, msz) : NULL))
			return -1;
	}
	adapt_resize(a, n);
	p->adapt = a;
	return 0;
}

static u32 adapt_hash(const struct vmp_adapt *a, u64 key)
{
	return key_hash(key, a->hash_bits);
}

/* Frame of @key in the table (keys[], hnext[], buckets[]), or VMP_NIL. */
static u32 adapt_find(const struct vmp_adapt *a, const u64 *keys,
		      const u32 *hnext, const u32 *buckets, u64 key)
{
	u32 f;

	for (f = buckets[adapt_hash(a, key)]; f != VMP_NIL; f = hnext[f])
		if (keys[f] == key)
			return f;
	return VMP_NIL;
}

static void adapt_hash_add(const struct vmp_adapt *a, u64 *keys, u32 *hnext,
			   u32 *buckets, u32 f, u64 key)
{
	u32 h = adapt_hash(a, key);

	keys[f] = key;
	hnext[f] = buckets[h];
	buckets[h] = f;
}

static void adapt_hash_del(const struct vmp_adapt *a, const u64 *keys,
			   u32 *hnext, u32 *buckets, u32 f)
{
	u32 *pp = &buckets[adapt_hash(a, keys[f])];

	while (*pp != VMP_NIL && *pp != f)
		pp = &hnext[*pp];
	if (*pp == f)
		*pp = hnext[f];
}

/* The real frame holding @key moves to list @l (if it is on a list). */
static void adapt_move(struct vmp_policy *p, u64 key, u32 l)
{
	struct vmp_adapt *a = p->adapt;
	u32 f = adapt_find(a, a->rkeys, a->rhnext, a->rbuckets, key);
	struct vmp_pnode *n;

	if (f == VMP_NIL)
		return;
	n = vmp_pnode(p, f);
	if (n->list != ADAPT_OUT && n->list != ADAPT_IN) {
		if (n->list == VMP_PL_DETACHED)
			n->aux = (u16)l;	/* a putback goes there */
		return;
	}
	if (n->list == l)
		return;
	pl_del(p, f);
	pl_add_head(p, l, f);
	if (l == ADAPT_OUT)
		p->stats.deactivations++;
	else
		p->stats.activations++;
}

/* Expert @e sees a reference to @key: a hit, or a miss it makes room for. */
static void adapt_expert_ref(struct vmp_policy *p, int e, u64 key)
{
	struct vmp_adapt *a = p->adapt;
	struct vmp_adapt_expert *x = &a->ex[e];
	u32 f = adapt_find(a, x->keys, x->hnext, x->buckets, key), v, cap;

	x->score -= x->score >> a->wshift;
	if (f != VMP_NIL) {
		vmp_policy_reference(&x->pol, f);
		return;
	}
	x->score += ADAPT_MISS;
	/*
	 * An expert holds no more pages than the real cache does: a pager
	 * under outside pressure (other clients, a shared pool) may hold far
	 * fewer than cap, and an expert sized for cap would hold every page
	 * it has, leaving victim() nothing to follow.
	 */
	cap = p->held && p->held < a->cap ? p->held : a->cap;
	while (x->pol.held >= cap && !vmp_policy_victim(&x->pol, &v)) {
		vmp_policy_evicted(&x->pol, v, x->keys[v]);
		adapt_hash_del(a, x->keys, x->hnext, x->buckets, v);
		x->hnext[v] = x->free;
		x->free = v;
		if (e == (int)a->leader)
			adapt_move(p, x->keys[v], ADAPT_OUT);
	}
	if (x->free != VMP_NIL) {
		f = x->free;
		x->free = x->hnext[f];
	} else if (x->used < p->nframes) {
		f = x->used++;
	} else {
		return;		/* cannot happen: held < cap <= nframes */
	}
	adapt_hash_add(a, x->keys, x->hnext, x->buckets, f, key);
	vmp_policy_insert(&x->pol, f, key);
}

/* Does the leading expert hold @key? */
static bool adapt_leader_has(const struct vmp_adapt *a, u64 key)
{
	const struct vmp_adapt_expert *x = &a->ex[a->leader];

	return adapt_find(a, x->keys, x->hnext, x->buckets, key) != VMP_NIL;
}

/*
 * A new leader: every real frame goes to "in" or "out" by what it holds.
 * O(frames held), at most once per cap references.
 */
static void adapt_switch(struct vmp_policy *p, u32 leader)
{
	struct vmp_adapt *a = p->adapt;
	u32 f, next, l;

	a->leader = leader;
	a->switches++;
	a->since_switch = 0;
	for (l = 0; l < 2; l++)
		for (f = p->lists[l].head; f != VMP_NIL; f = next) {
			next = vmp_pnode(p, f)->next;
			p->stats.scans++;
			adapt_move(p, a->rkeys[f],
				   adapt_leader_has(a, a->rkeys[f]) ?
				   ADAPT_IN : ADAPT_OUT);
		}
}

/* Every expert sees @key; the one with clearly fewer recent misses leads. */
static void adapt_access(struct vmp_policy *p, u64 key)
{
	struct vmp_adapt *a = p->adapt;
	u32 best = a->leader;
	int e;

	for (e = 0; e < ADAPT_NEXP; e++)
		adapt_expert_ref(p, e, key);
	if (++a->since_switch < a->cap)
		return;
	for (e = 0; e < ADAPT_NEXP; e++)
		if (a->ex[e].score < a->ex[best].score)
			best = e;
	if (a->ex[best].score * 100 <
	    a->ex[a->leader].score * (100 - ADAPT_MARGIN))
		adapt_switch(p, best);
}

static void adapt_insert(struct vmp_policy *p, u32 f, u64 key)
{
	struct vmp_adapt *a = p->adapt;

	adapt_hash_add(a, a->rkeys, a->rhnext, a->rbuckets, f, key);
	adapt_access(p, key);
	pl_add_head(p, adapt_leader_has(a, key) ? ADAPT_IN : ADAPT_OUT, f);
}

static void adapt_reference(struct vmp_policy *p, u32 f)
{
	struct vmp_adapt *a = p->adapt;
	u64 key = a->rkeys[f];

	adapt_access(p, key);
	pl_move_head(p, adapt_leader_has(a, key) ? ADAPT_IN : ADAPT_OUT, f);
}

/* The frame victim() would return now, without taking it (an expert). */
static u32 adapt_peek(const struct vmp_policy *q)
{
	u32 t1;

	switch (q->kind) {
	case VMP_POL_LIRS:
		if (q->lists[LIRS_HIR].tail != VMP_NIL)
			return q->lists[LIRS_HIR].tail;
		return q->s_bottom < q->nframes ? q->s_bottom : VMP_NIL;
	case VMP_POL_ARC:
		t1 = q->lists[ARC_T1].len;
		if (t1 && (t1 > q->arc_p || !q->lists[ARC_T2].len))
			return q->lists[ARC_T1].tail;
		return q->lists[ARC_T2].tail;
	default:			/* LRU */
		return q->lists[0].tail;
	}
}

/* The resident "in" frame holding the leader's next victim, or VMP_NIL. */
static u32 adapt_victim_in(const struct vmp_policy *p)
{
	const struct vmp_adapt *a = p->adapt;
	const struct vmp_adapt_expert *x = &a->ex[a->leader];
	u32 v = adapt_peek(&x->pol), r;

	if (v == VMP_NIL)
		return VMP_NIL;
	r = adapt_find(a, a->rkeys, a->rhnext, a->rbuckets, x->keys[v]);
	return r != VMP_NIL && vmp_pnode(p, r)->list == ADAPT_IN ? r : VMP_NIL;
}

/*
 * The oldest frame the leader does not hold; else (the pager evicts ahead
 * of the miss that will make the leader drop a page) the page the leader
 * would drop next, if it is resident; else the least recently referenced
 * frame.
 */
static int adapt_victim(struct vmp_policy *p, u32 *frame)
{
	u32 f = p->lists[ADAPT_OUT].tail;

	if (f == VMP_NIL)
		f = adapt_victim_in(p);
	if (f == VMP_NIL)
		f = p->lists[ADAPT_IN].tail;
	if (f == VMP_NIL)
		return -1;
	p->stats.scans++;
	pl_detach(p, f);
	*frame = f;
	return 0;
}

/* The frame leaves the pool (evicted or removed): forget its key. */
static void adapt_forget(struct vmp_policy *p, u32 f)
{
	struct vmp_adapt *a = p->adapt;

	adapt_hash_del(a, a->rkeys, a->rhnext, a->rbuckets, f);
}

void vmp_policy_adapt_info(const struct vmp_policy *p,
			   struct vmp_adapt_info *info)
{
	const struct vmp_adapt *a = p->adapt;
	int e;

	*info = (struct vmp_adapt_info){ .leader = VMP_POL_NR };
	if (p->kind != VMP_POL_ADAPT || !a)
		return;
	info->leader = adapt_kinds[a->leader];
	info->switches = a->switches;
	info->nexperts = ADAPT_NEXP;
	for (e = 0; e < ADAPT_NEXP; e++) {
		info->kinds[e] = adapt_kinds[e];
		info->misses[e] = a->ex[e].score;
	}
}

/* ---- the events -------------------------------------------------------- */

void vmp_policy_insert(struct vmp_policy *p, u32 frame, u64 key)
{
	struct vmp_pnode *n = vmp_pnode(p, frame);

	n->flags = 0;
	n->aux = 0;
	p->held++;
	p->stats.inserts++;
	switch (p->kind) {
	case VMP_POL_LRU2:
		lru2_insert(p, frame, key);
		break;
	case VMP_POL_ARC:
		arc_insert(p, frame, key);
		break;
	case VMP_POL_LIRS:
		lirs_insert(p, frame, key);
		break;
	case VMP_POL_S3FIFO:
		s3fifo_insert(p, frame, key);
		break;
	case VMP_POL_ADAPT:
		adapt_insert(p, frame, key);
		break;
	case VMP_POL_CLOCKPRO:
		clockpro_insert(p, frame, key);
		break;
	default:
		pl_add_head(p, 0, frame);
		break;
	}
}

void vmp_policy_reference(struct vmp_policy *p, u32 frame)
{
	struct vmp_pnode *n = vmp_pnode(p, frame);

	if (unlikely(n->list >= nr_lists[p->kind]))
		return;		/* detached or not held: nothing to age */
	p->stats.references++;
	switch (p->kind) {
	case VMP_POL_FIFO:
		break;
	case VMP_POL_CLOCK:
	case VMP_POL_SIEVE:
	case VMP_POL_CLOCKPRO:
		n->flags |= VMP_PN_REF;
		break;
	case VMP_POL_S3FIFO:
		s3fifo_reference(p, frame);
		break;
	case VMP_POL_LRU:
		pl_move_head(p, 0, frame);
		break;
	case VMP_POL_LRU2:
		lru2_reference(p, frame);
		break;
	case VMP_POL_ARC:
		arc_reference(p, frame);
		break;
	case VMP_POL_LIRS:
		lirs_reference(p, frame);
		break;
	case VMP_POL_ADAPT:
		adapt_reference(p, frame);
		break;
	default:
		break;
	}
}

void vmp_policy_remove(struct vmp_policy *p, u32 frame)
{
	struct vmp_pnode *n = vmp_pnode(p, frame);

	if (n->list == VMP_PL_NONE)
		return;
	p->stats.removes++;
	p->held--;
	if (p->kind == VMP_POL_LIRS)
		lirs_remove(p, frame);
	else if (p->kind == VMP_POL_CLOCKPRO)
		clockpro_remove(p, frame);
	else if (n->list != VMP_PL_DETACHED)
		pl_del(p, frame);
	if (p->kind == VMP_POL_ADAPT)
		adapt_forget(p, frame);
	n->list = VMP_PL_NONE;
	n->flags = 0;
}

int vmp_policy_victim(struct vmp_policy *p, u32 *frame)
{
	struct vmp_pnode *n;
	u32 f, budget;

	switch (p->kind) {
	case VMP_POL_LRU2:
		return lru2_victim(p, frame);
	case VMP_POL_ARC:
		return arc_victim(p, frame);
	case VMP_POL_LIRS:
		return lirs_victim(p, frame);
	case VMP_POL_SIEVE:
		return sieve_victim(p, frame);
	case VMP_POL_S3FIFO:
		return s3fifo_victim(p, frame);
	case VMP_POL_ADAPT:
		return adapt_victim(p, frame);
	case VMP_POL_CLOCKPRO:
		return clockpro_victim(p, frame);
	case VMP_POL_CLOCK:
		budget = p->lists[0].len + 1;
		while ((f = p->lists[0].tail) != VMP_NIL && budget--) {
			n = vmp_pnode(p, f);
			p->stats.scans++;
			if (!(n->flags & VMP_PN_REF))
				break;
			n->flags &= ~VMP_PN_REF;
			pl_move_head(p, 0, f);
		}
		break;
	default:
		f = p->lists[0].tail;
		p->stats.scans++;
		break;
	}
	if (f == VMP_NIL)
		return -1;
	pl_detach(p, f);
	*frame = f;
	return 0;
}

void vmp_policy_evicted(struct vmp_policy *p, u32 frame, u64 key)
{
	struct vmp_pnode *n = vmp_pnode(p, frame);

	if (unlikely(n->list != VMP_PL_DETACHED))
		return;
	p->stats.evictions++;
	switch (p->kind) {
	case VMP_POL_LRU2:
		lru2_evicted(p, key);
		break;
	case VMP_POL_ARC:
		arc_evicted(p, n->aux, key);
		break;
	case VMP_POL_LIRS:
		lirs_evicted(p, frame, key);
		break;
	case VMP_POL_S3FIFO:
		s3fifo_evicted(p, n->aux, key);
		break;
	case VMP_POL_ADAPT:
		adapt_forget(p, frame);
		break;
	case VMP_POL_CLOCKPRO:
		clockpro_evicted(p, frame, key);
		break;
	default:
		break;
	}
	p->held--;
	n->list = VMP_PL_NONE;
	n->flags = 0;
}

void vmp_policy_putback(struct vmp_policy *p, u32 frame)
{
	struct vmp_pnode *n = vmp_pnode(p, frame);
	u32 from = n->aux;

	if (unlikely(n->list != VMP_PL_DETACHED))
		return;
	p->stats.putbacks++;
	switch (p->kind) {
	case VMP_POL_ARC:
		pl_add_head(p, ARC_T2, frame);
		break;
	case VMP_POL_LIRS:
		pl_add_head(p, LIRS_HIR, frame);
		lirs_reference(p, frame);
		break;
	case VMP_POL_S3FIFO:
		pl_add_head(p, from, frame);
		s3_set_freq(n, 1);
		break;
	case VMP_POL_ADAPT:
		pl_add_head(p, from, frame);
		break;
	case VMP_POL_CLOCKPRO:
		clockpro_back(p, frame, true);
		break;
	default:
		/* LRU2: back on the inactive head; the next look activates */
		pl_add_head(p, from, frame);
		n->flags |= VMP_PN_REF;
		break;
	}
}

void vmp_policy_requeue(struct vmp_policy *p, u32 frame)
{
	struct vmp_pnode *n = vmp_pnode(p, frame);

	if (unlikely(n->list != VMP_PL_DETACHED))
		return;
	p->stats.requeues++;
	if (p->kind == VMP_POL_CLOCKPRO)
		clockpro_back(p, frame, false);
	else
		pl_add_head(p, n->aux, frame);
}

void vmp_policy_stats_add(struct vmp_policy_stats *to,
			  const struct vmp_policy_stats *from)
{
	to->inserts += from->inserts;
	to->references += from->references;
	to->activations += from->activations;
	to->deactivations += from->deactivations;
	to->refaults += from->refaults;
	to->scans += from->scans;
	to->victims += from->victims;
	to->evictions += from->evictions;
	to->putbacks += from->putbacks;
	to->removes += from->removes;
	to->requeues += from->requeues;
}

void vmp_policy_set_reserve(struct vmp_policy *p, u32 reserve)
{
	if (p->kind == VMP_POL_ADAPT)
		adapt_resize(p->adapt, p->nframes > reserve ?
			     p->nframes - reserve : 1);
	if (p->kind == VMP_POL_CLOCKPRO) {
		p->cp_m = p->nframes > reserve ? p->nframes - reserve : 1;
		if (p->cp_mc < cp_mc_min(p))
			p->cp_mc = cp_mc_min(p);
		if (p->cp_mc >= p->cp_m && p->cp_m > 1)
			p->cp_mc = p->cp_m - 1;
		cp_balance(p);
	}
	if (p->kind != VMP_POL_LIRS)
		return;
	lirs_size(p, reserve);
	while (p->lists[LIRS_LIR].len > p->lir_max)
		lirs_demote_bottom(p);
}

int vmp_policy_drain(struct vmp_policy *p, u32 *frame)
{
	u32 f = VMP_NIL;

	switch (p->kind) {
	case VMP_POL_LRU2:
		f = p->lists[LRU2_INACTIVE].tail;
		if (f == VMP_NIL)
			f = p->lists[LRU2_ACTIVE].tail;
		break;
	case VMP_POL_ARC:
		f = p->lists[ARC_T1].tail;
		if (f == VMP_NIL)
			f = p->lists[ARC_T2].tail;
		break;
	case VMP_POL_S3FIFO:
		f = p->lists[S3_SMALL].tail;
		if (f == VMP_NIL)
			f = p->lists[S3_MAIN].tail;
		break;
	case VMP_POL_ADAPT:
		f = p->lists[ADAPT_OUT].tail;
		if (f == VMP_NIL)
			f = p->lists[ADAPT_IN].tail;
		break;
	case VMP_POL_CLOCKPRO:
		/*
		 * A search for a class with no frame left walks the whole
		 * ring, and one that starts at a hand that never moves walks
		 * the same nodes again: each drained frame becomes its hand
		 * first, so the removal moves the hand past it and draining
		 * the whole policy walks the ring about once (it was O(n^2):
		 * 3 s for 63K frames natively, minutes under QEMU).
		 */
		if (p->lists[CP_COLD].len)
			f = cp_find(p, p->cp_hand_cold, CP_COLD);
		if (f != VMP_NIL) {
			p->cp_hand_cold = f;
		} else if (p->lists[CP_HOT].len) {
			f = cp_find(p, p->cp_hand_hot, CP_HOT);
			if (f != VMP_NIL)
				p->cp_hand_hot = f;
		}
		break;
	case VMP_POL_LIRS:
		f = p->lists[LIRS_HIR].tail;
		if (f == VMP_NIL)
			f = p->s_bottom;	/* LIR, or S is empty */
		if (f != VMP_NIL && f >= p->nframes)
			return -1;		/* broken invariant */
		break;
	default:
		f = p->lists[0].tail;
		break;
	}
	if (f == VMP_NIL)
		return -1;
	vmp_policy_remove(p, f);
	*frame = f;
	return 0;
}

/* ---- introspection ----------------------------------------------------- */

u32 vmp_policy_nr_lists(const struct vmp_policy *p)
{
	return nr_lists[p->kind];
}

const char *vmp_policy_list_name(const struct vmp_policy *p, u32 i)
{
	if (i >= nr_lists[p->kind])
		return "?";
	return list_names[p->kind][i];
}

u32 vmp_policy_list_len(const struct vmp_policy *p, u32 i)
{
	if (i >= nr_lists[p->kind])
		return 0;
	return p->lists[i].len;
}

/* LIRS "lir" list: the LIR frames in S order, from node @id on. */
static u32 lirs_next_lir(const struct vmp_policy *p, u32 id)
{
	while (id != VMP_NIL && !lirs_node_is_lir(p, id))
		id = p->slinks[id].next;
	return id;
}

u32 vmp_policy_list_first(const struct vmp_policy *p, u32 i)
{
	if (i >= nr_lists[p->kind])
		return VMP_NIL;
	if (p->kind == VMP_POL_LIRS && i == LIRS_LIR)
		return lirs_next_lir(p, p->s_top);
	if (p->kind == VMP_POL_CLOCKPRO)
		return cp_next_of(p, p->cp_hand_hot, i);
	return p->lists[i].head;
}

u32 vmp_policy_list_next(const struct vmp_policy *p, u32 frame)
{
	const struct vmp_pnode *n = vmp_pnode(p, frame);

	if (n->list >= nr_lists[p->kind])
		return VMP_NIL;
	if (p->kind == VMP_POL_LIRS && n->list == LIRS_LIR)
		return lirs_next_lir(p, p->slinks[frame].next);
	if (p->kind == VMP_POL_CLOCKPRO) {
		u32 id = p->slinks[frame].next;

		return id == p->cp_hand_hot ? VMP_NIL :
		       cp_next_of(p, id, n->list);
	}
	return n->next;
}

/*
 * The frames victim() would look at next: up to @max, taken from the
 * victim end of each list in turn (an equal share per list, the lists in
 * index order), the coldest first. For LIRS the LIR "list" is the bottom
 * of the stack S upwards: the LIR frame that a promotion would demote
 * next. For SIEVE, the frames from its hand on, in the hand's order. The
 * pager tests these frames' references before it asks for a victim, so
 * the verdict sees them.
 */
u32 vmp_policy_candidates(const struct vmp_policy *p, u32 *out, u32 max)
{
	u32 nl = nr_lists[p->kind], share, i, n = 0, got, f, scan;

	if (!max)
		return 0;
	if (p->kind == VMP_POL_SIEVE) {
		/* from the hand towards the head, then from the tail */
		f = p->sieve_hand != VMP_NIL ? p->sieve_hand : p->lists[0].tail;
		for (scan = p->lists[0].len; f != VMP_NIL && scan-- && n < max;) {
			out[n++] = f;
			f = vmp_pnode(p, f)->prev;
			if (f == VMP_NIL)
				f = p->lists[0].tail;
		}
		return n;
	}
	if (p->kind == VMP_POL_ADAPT) {
		/* out from its tail, the leader's next victim, in from its tail */
		u32 lead = adapt_victim_in(p);

		for (f = p->lists[ADAPT_OUT].tail; f != VMP_NIL && n < max;
		     f = vmp_pnode(p, f)->prev)
			out[n++] = f;
		if (lead != VMP_NIL && n < max)
			out[n++] = lead;
		for (f = p->lists[ADAPT_IN].tail; f != VMP_NIL && n < max;
		     f = vmp_pnode(p, f)->prev)
			if (f != lead)
				out[n++] = f;
		return n;
	}
	if (p->kind == VMP_POL_CLOCKPRO) {
		/* the cold pages the cold hand meets next, then the hot */
		u32 l, start, id;

		for (l = 0; l < 2 && n < max; l++) {
			start = l ? p->cp_hand_hot : p->cp_hand_cold;
			id = start;
			for (scan = p->held + vmp_policy_nr_ghosts(p);
			     id != VMP_NIL && scan-- && n < max;) {
				if (cp_is_frame(p, id) &&
				    vmp_pnode(p, id)->list == (l ? CP_HOT : CP_COLD))
					out[n++] = id;
				id = p->slinks[id].next;
				if (id == start)
					break;
			}
		}
		return n;
	}
	share = max / nl ? max / nl : 1;
	for (i = 0; i < nl && n < max; i++) {
		got = 0;
		if (p->kind == VMP_POL_LIRS && i == LIRS_LIR) {
			/* ghosts interleave: look at a bounded stretch of S */
			scan = 4 * share;
			for (f = p->s_bottom; f != VMP_NIL && scan-- &&
			     got < share && n < max; f = p->slinks[f].prev)
				if (lirs_node_is_lir(p, f)) {
					out[n++] = f;
					got++;
				}
			continue;
		}
		for (f = p->lists[i].tail; f != VMP_NIL && got < share &&
		     n < max; f = vmp_pnode(p, f)->prev) {
			out[n++] = f;
			got++;
		}
	}
	return n;
}
