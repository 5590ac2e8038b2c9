// SPDX-License-Identifier: GPL-2.0
/* Proves the adaptive swap read-ahead window grows on scans, decays on random faults and obeys its limits, on hand-worked cases. */
#include "kselftest_harness.h"
#include "vmp_ra.h"

/*
 * Replay a sequential scan of @npages swapped pages: fault at the first
 * page not read, touch every page read ahead (hits). Returns the faults;
 * @wins gets the window chosen at each of the first @nw faults.
 */
static u32 scan(struct vmp_ra *ra, u32 npages, u32 max, bool adaptive,
		u32 *wins, u32 nw)
{
	u32 i = 0, faults = 0, w, j;

	while (i < npages) {
		w = vmp_ra_window(ra, i, max, adaptive);
		if (faults < nw)
			wins[faults] = w;
		faults++;
		for (j = 1; j <= w && i + j < npages; j++)
			vmp_ra_hit(ra);
		i += w + 1;
	}
	return faults;
}

TEST(first_fault_reads_nothing_ahead)
{
	struct vmp_ra ra;

	vmp_ra_init(&ra);
	EXPECT_EQ(0, vmp_ra_window(&ra, 0, 16, true));
	vmp_ra_init(&ra);
	EXPECT_EQ(0, vmp_ra_window(&ra, 1000, 16, true));
}

TEST(sequential_scan_grows_to_the_maximum)
{
	static const u32 want[] = { 0, 1, 3, 7, 15, 16, 16, 16 };
	struct vmp_ra ra;
	u32 wins[8], faults, i;

	vmp_ra_init(&ra);
	faults = scan(&ra, 1000, 16, true, wins, 8);
	for (i = 0; i < 8; i++)
		EXPECT_EQ(want[i], wins[i]) TH_LOG("fault %u", i);
	/* 0+1+3+7+15 = 26 pages in 5 faults + 1 page each, then 17 per fault */
	EXPECT_EQ(5 + (1000 - 31 + 16) / 17, faults);
}

TEST(backward_scan_starts_a_window)
{
	struct vmp_ra ra;

	vmp_ra_init(&ra);
	EXPECT_EQ(0, vmp_ra_window(&ra, 100, 8, true));
	EXPECT_EQ(1, vmp_ra_window(&ra, 99, 8, true));
}

TEST(random_faults_decay_to_no_readahead)
{
	static const u32 idx[] = { 500, 17, 900, 233, 61, 702, 388, 5 };
	static const u32 want[] = { 4, 2, 1, 0, 0, 0, 0, 0 };
	struct vmp_ra ra;
	u32 i;

	vmp_ra_init(&ra);
	/* a scan first: the window reaches 8; its last pages were hits */
	scan(&ra, 204, 8, true, NULL, 0);	/* ends with a full window */
	EXPECT_EQ(8, ra.win);
	EXPECT_EQ(8, vmp_ra_window(&ra, 10000, 8, true));
	/* then faults far apart, no read-ahead page ever touched: halving */
	for (i = 0; i < 8; i++)
		EXPECT_EQ(want[i], vmp_ra_window(&ra, idx[i], 8, true))
			TH_LOG("fault %u", i);
	/* one hit brings a window of 3 back */
	vmp_ra_hit(&ra);
	EXPECT_EQ(3, vmp_ra_window(&ra, 40, 8, true));
}

TEST(hits_round_up_to_a_power_of_two)
{
	static const u32 hits[] = { 1, 2, 3, 5, 6, 7, 13, 14, 30 };
	static const u32 want[] = { 3, 3, 7, 7, 7, 15, 15, 15, 31 };
	struct vmp_ra ra;
	u32 i, h;

	for (i = 0; i < sizeof(hits) / sizeof(hits[0]); i++) {
		vmp_ra_init(&ra);
		for (h = 0; h < hits[i]; h++)
			vmp_ra_hit(&ra);
		EXPECT_EQ(want[i], vmp_ra_window(&ra, 7, 64, true))
			TH_LOG("%u hits", hits[i]);
	}
}

TEST(maximum_and_zero_are_obeyed)
{
	struct vmp_ra ra;
	u32 h;

	vmp_ra_init(&ra);
	for (h = 0; h < 100; h++)
		vmp_ra_hit(&ra);
	EXPECT_EQ(5, vmp_ra_window(&ra, 1, 5, true));
	for (h = 0; h < 100; h++)
		vmp_ra_hit(&ra);
	EXPECT_EQ(0, vmp_ra_window(&ra, 2, 0, true));
	EXPECT_EQ(0, vmp_ra_window(&ra, 3, 0, false));
}

TEST(fixed_mode_always_reads_the_maximum)
{
	struct vmp_ra ra;
	u32 i;

	vmp_ra_init(&ra);
	for (i = 0; i < 10; i++)
		EXPECT_EQ(8, vmp_ra_window(&ra, i * 1000, 8, false));
	/* back to adaptive: decays from the fixed window, no hits seen */
	EXPECT_EQ(4, vmp_ra_window(&ra, 5, 8, true));
}

TEST(hit_counter_saturates)
{
	struct vmp_ra ra;

	vmp_ra_init(&ra);
	ra.hits = (u32)~0u - 1;
	vmp_ra_hit(&ra);
	vmp_ra_hit(&ra);
	EXPECT_EQ((u32)~0u, ra.hits);
	EXPECT_EQ(16, vmp_ra_window(&ra, 9, 16, true));
}

TEST_HARNESS_MAIN
