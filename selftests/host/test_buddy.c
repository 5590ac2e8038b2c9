// SPDX-License-Identifier: GPL-2.0
/* Proves the pool's buddy allocator splits, coalesces and respects chunk limits exactly. */
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "vmp_buddy.h"

struct pool {
	struct vmp_buddy b;
	struct vmp_frame *f;
};

/* A pool laid out as vmp_pool.c does: chunks, largest first. */
static void pool_init(struct pool *p, u32 nframes, const unsigned int *orders)
{
	u32 first = 0;

	p->f = calloc(nframes, sizeof(*p->f));
	vmp_buddy_init(&p->b, p->f, nframes);
	for (; first < nframes; orders++) {
		vmp_buddy_add_chunk(&p->b, first, *orders);
		vmp_buddy_free(&p->b, first, *orders);
		first += 1u << *orders;
	}
}

TEST(frame_descriptor_fits_32_bytes)
{
	ASSERT_LE(sizeof(struct vmp_frame), 32);
}

TEST(fresh_pool_is_its_chunks)
{
	static const unsigned int orders[] = { 10, 10, 9, 6 };
	struct pool p;

	pool_init(&p, 2048 + 512 + 64, orders);
	ASSERT_EQ(0, vmp_buddy_check(&p.b));
	EXPECT_EQ(2, p.b.nr_free[10]);
	EXPECT_EQ(1, p.b.nr_free[9]);
	EXPECT_EQ(1, p.b.nr_free[6]);
	EXPECT_EQ(2048 + 512 + 64, p.b.free_pages);
	EXPECT_EQ(0, p.b.merges);	/* chunks never merge across */
	free(p.f);
}

TEST(first_alloc_splits_down_and_free_coalesces_back)
{
	static const unsigned int orders[] = { 10 };
	struct pool p;
	unsigned int k;
	u32 f;

	pool_init(&p, 1024, orders);
	ASSERT_EQ(0, vmp_buddy_alloc(&p.b, 0, &f));
	EXPECT_EQ(10, p.b.splits);
	for (k = 0; k < 10; k++)
		EXPECT_EQ(1, p.b.nr_free[k]);
	EXPECT_EQ(0, p.b.nr_free[10]);
	ASSERT_EQ(0, vmp_buddy_check(&p.b));
	vmp_buddy_free(&p.b, f, 0);
	EXPECT_EQ(10, p.b.merges);
	EXPECT_EQ(1, p.b.nr_free[10]);
	EXPECT_EQ(1024, p.b.free_pages);
	ASSERT_EQ(0, vmp_buddy_check(&p.b));
	free(p.f);
}

/* A freed frame that merges under its lower buddy keeps no owner's flags. */
TEST(freed_frame_merged_under_its_buddy_is_not_used)
{
	static const unsigned int orders[] = { 1 };
	struct pool p;
	u32 a, b, k;

	pool_init(&p, 2, orders);
	ASSERT_EQ(0, vmp_buddy_alloc(&p.b, 0, &a));
	ASSERT_EQ(0, vmp_buddy_alloc(&p.b, 0, &b));
	/* the pool marks allocated frames as holding a page */
	p.b.frames[a].flags = VMP_FRAME_USED;
	p.b.frames[b].flags = VMP_FRAME_USED;
	vmp_buddy_free(&p.b, a < b ? a : b, 0);
	vmp_buddy_free(&p.b, a < b ? b : a, 0);	/* merges under the lower */
	EXPECT_EQ(1, p.b.nr_free[1]);
	for (k = 0; k < 2; k++)
		EXPECT_EQ(0, p.b.frames[k].flags & VMP_FRAME_USED);
	ASSERT_EQ(0, vmp_buddy_check(&p.b));
	free(p.f);
}

TEST(exhaust_then_free_in_random_order)
{
	static const unsigned int orders[] = { 10, 9 };
	u32 n = 1536, got[1536], i, f, tmp;
	struct pool p;

	pool_init(&p, n, orders);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, vmp_buddy_alloc(&p.b, 0, &got[i]));
	EXPECT_EQ(-1, vmp_buddy_alloc(&p.b, 0, &f));
	EXPECT_EQ(0, p.b.free_pages);
	srand(7);
	for (i = n - 1; i > 0; i--) {
		u32 j = rand() % (i + 1);

		tmp = got[i];
		got[i] = got[j];
		got[j] = tmp;
	}
	for (i = 0; i < n; i++) {
		vmp_buddy_free(&p.b, got[i], 0);
		ASSERT_EQ(0, vmp_buddy_check(&p.b));
	}
	EXPECT_EQ(1, p.b.nr_free[10]);
	EXPECT_EQ(1, p.b.nr_free[9]);
	EXPECT_EQ(n, p.b.free_pages);
}

TEST(higher_orders_are_aligned_and_disjoint)
{
	static const unsigned int orders[] = { 10 };
	struct pool p;
	u32 a, b, c;

	pool_init(&p, 1024, orders);
	ASSERT_EQ(0, vmp_buddy_alloc(&p.b, 3, &a));
	ASSERT_EQ(0, vmp_buddy_alloc(&p.b, 5, &b));
	ASSERT_EQ(0, vmp_buddy_alloc(&p.b, 3, &c));
	EXPECT_EQ(0, a % 8);
	EXPECT_EQ(0, b % 32);
	EXPECT_EQ(0, c % 8);
	EXPECT_TRUE(a + 8 <= b || b + 32 <= a);
	EXPECT_TRUE(a + 8 <= c || c + 8 <= a);
	EXPECT_EQ(1024 - 8 - 32 - 8, p.b.free_pages);
	EXPECT_EQ(-1, vmp_buddy_alloc(&p.b, 11, &a));
	vmp_buddy_free(&p.b, a, 3);
	vmp_buddy_free(&p.b, b, 5);
	vmp_buddy_free(&p.b, c, 3);
	EXPECT_EQ(1, p.b.nr_free[10]);
	ASSERT_EQ(0, vmp_buddy_check(&p.b));
	free(p.f);
}

TEST(check_catches_a_corrupt_list)
{
	static const unsigned int orders[] = { 10 };
	struct pool p;
	u32 f;

	pool_init(&p, 1024, orders);
	ASSERT_EQ(0, vmp_buddy_alloc(&p.b, 0, &f));
	p.b.nr_free[3]++;
	EXPECT_NE(0, vmp_buddy_check(&p.b));
	free(p.f);
}

TEST_HARNESS_MAIN
