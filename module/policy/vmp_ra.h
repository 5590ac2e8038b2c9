/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Swap read-ahead sizing, shared by vmpager.ko (per object) and vmpagerd
 * (per client). Kernel/user-neutral like the policy core: no calls, no
 * allocation; the caller serialises every call on one struct vmp_ra.
 *
 * A swap-in fault at page i may read pages i+1 .. i+w in the same batch.
 * A fixed w wastes w reads on every fault of a random access pattern. The
 * adaptive window is sized by evidence instead:
 *
 *  - a hit is a read-ahead page that was touched before it was evicted
 *    (the caller reports each with vmp_ra_hit());
 *  - at a fault, h hits since the previous fault give a window of the
 *    next power of two >= h + 2 pages, minus the faulting page (h = 1 ->
 *    3, h = 3 -> 7, h = 5 -> 7, h = 7 -> 15);
 *  - with no hit, a fault next to the previous fault (i = prev +- 1) gives
 *    a window of 1, so a sequential scan starts a window; any other fault
 *    gives 0;
 *  - the window never drops below half the previous one (a few misses in a
 *    scan do not collapse it), and never exceeds the caller's maximum.
 *
 * So a random pattern decays to no read-ahead within a few faults (8, 4, 2,
 * 1, 0) and a sequential scan grows to the maximum (1, 3, 7, 15, ...). The
 * heuristic follows the one mm/swap_state.c uses for the kernel's swap
 * read-ahead (hits + 2, rounded up; halving floor).
 */
#ifndef _VMP_RA_H
#define _VMP_RA_H

#include "vmp_types.h"

struct vmp_ra {
	u64 prev;	/* page of the last swap-in fault; VMP_RA_NONE at start */
	u32 hits;	/* read-ahead pages touched since that fault */
	u32 win;	/* the window chosen at that fault */
};

#define VMP_RA_NONE	((u64)~0ull)
#define VMP_RA_MAX	16	/* the largest window, pages (module and daemon) */

static inline void vmp_ra_init(struct vmp_ra *ra)
{
	ra->prev = VMP_RA_NONE;
	ra->hits = 0;
	ra->win = 0;
}

/* A read-ahead page was touched. */
static inline void vmp_ra_hit(struct vmp_ra *ra)
{
	if (ra->hits != (u32)~0u)
		ra->hits++;
}

/*
 * A swap-in fault at page @index: the number of following pages to read
 * with it, at most @max. @adaptive false: always @max (the fixed window);
 * the state is still updated, so switching modes starts from the evidence.
 */
u32 vmp_ra_window(struct vmp_ra *ra, u64 index, u32 max, bool adaptive);

#endif /* _VMP_RA_H */
