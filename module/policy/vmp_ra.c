// SPDX-License-Identifier: GPL-2.0
/*
 * Adaptive swap read-ahead window: the rules are in vmp_ra.h.
 */
#include "vmp_ra.h"

u32 vmp_ra_window(struct vmp_ra *ra, u64 index, u32 max, bool adaptive)
{
	u32 w, pages;

	if (ra->hits) {
		/* the smallest power of two >= hits + 2, at least 4 */
		pages = 4;
		while (pages < (u64)ra->hits + 2 && pages < (1u << 30))
			pages <<= 1;
		w = pages - 1;
	} else if (ra->prev != VMP_RA_NONE &&
		   (index == ra->prev + 1 || index + 1 == ra->prev)) {
		w = 1;
	} else {
		w = 0;
	}
	if (w < ra->win / 2)
		w = ra->win / 2;
	if (w > max)
		w = max;
	if (!adaptive)
		w = max;
	ra->prev = index;
	ra->hits = 0;
	ra->win = w;
	return w;
}
