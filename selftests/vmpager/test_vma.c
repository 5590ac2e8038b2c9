// Proves: vmpager mappings survive VMA surgery (partial munmap, mremap move and shrink, mprotect) with their contents, refuse mremap growth, fault writes after mprotect(PROT_READ), outlive close(fd), and OBJ_INFO.mappers counts live VMAs through mmap/munmap/split/fork/exit.
// SPDX-License-Identifier: GPL-2.0
#include "vmp_test.h"

#define N	16

VMP_FIXTURE(vma, "pool_pages=1024 max_obj_pages=1024")

static uint64_t mappers(int fd)
{
	struct vmpager_obj_info oi;

	if (vmp_obj(fd, &oi))
		return ~0ULL;
	return oi.mappers;
}

/* True if [addr, addr+len) is entirely unmapped. */
static int unmapped(void *addr, size_t len)
{
	unsigned char vec[64];
	size_t i;

	/* mincore fails with ENOMEM on the first unmapped page of a range. */
	for (i = 0; i < len / PG; i++)
		if (mincore((char *)addr + i * PG, PG, vec) == 0 ||
		    errno != ENOMEM)
			return 0;
	return 1;
}

TEST_F(vma, partial_munmap_middle)
{
	int fd = vmp_open();
	char *p, *q;

	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, N, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, N, 0xa0);
	EXPECT_EQ(1ULL, mappers(fd));

	ASSERT_EQ(0, munmap(p + 6 * PG, 4 * PG));	/* drop pages 6..9 */
	EXPECT_EQ(2ULL, mappers(fd));			/* two VMAs remain */
	EXPECT_TRUE(unmapped(p + 6 * PG, 4 * PG));
	EXPECT_EQ(-1, vmp_check(p, 0, 6, 0xa0));
	EXPECT_EQ(-1, vmp_check(p + 10 * PG, 10, 6, 0xa0));
	/* Both ends still work for writes. */
	vmp_fill(p, 0, 1, 0xa1);
	vmp_fill(p + 15 * PG, 15, 1, 0xa2);

	/* The object kept pages 6..9, and sees the new writes. */
	q = vmp_map(fd, 0, N, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(3ULL, mappers(fd));
	EXPECT_EQ(-1, vmp_check(q + 6 * PG, 6, 4, 0xa0));
	EXPECT_EQ(-1, vmp_check(q, 0, 1, 0xa1));
	EXPECT_EQ(-1, vmp_check(q + 15 * PG, 15, 1, 0xa2));

	ASSERT_EQ(0, munmap(p, 6 * PG));
	ASSERT_EQ(0, munmap(p + 10 * PG, 6 * PG));
	EXPECT_EQ(1ULL, mappers(fd));
	munmap(q, N * PG);
	EXPECT_EQ(0ULL, mappers(fd));
	close(fd);
}

TEST_F(vma, mremap_move)
{
	int fd = vmp_open();
	char *p, *dst, *q;

	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, 8, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, 8, 0xb0);
	/* Reserve a destination, then move onto it. */
	dst = mmap(NULL, 8 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, dst);
	q = mremap(p, 8 * PG, 8 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ(dst, q);
	EXPECT_TRUE(unmapped(p, 8 * PG));
	EXPECT_EQ(-1, vmp_check(q, 0, 8, 0xb0));
	EXPECT_EQ(1ULL, mappers(fd));
	vmp_fill(q + 3 * PG, 3, 1, 0xb1);
	/* Moved mapping is still the object. */
	p = vmp_map(fd, 0, 8, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, vmp_check(p + 3 * PG, 3, 1, 0xb1));
	vmp_fill(p + 4 * PG, 4, 1, 0xb2);
	EXPECT_EQ(-1, vmp_check(q + 4 * PG, 4, 1, 0xb2));
	EXPECT_EQ(2ULL, mappers(fd));
	munmap(p, 8 * PG);
	munmap(q, 8 * PG);
	EXPECT_EQ(0ULL, mappers(fd));
	close(fd);
}

TEST_F(vma, mremap_shrink)
{
	int fd = vmp_open();
	char *p, *q;

	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, 8, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, 8, 0xc0);
	q = mremap(p, 8 * PG, 4 * PG, 0);
	ASSERT_EQ(p, q);
	EXPECT_TRUE(unmapped(p + 4 * PG, 4 * PG));
	EXPECT_EQ(-1, vmp_check(p, 0, 4, 0xc0));
	EXPECT_EQ(1ULL, mappers(fd));
	/* The dropped tail's data is still in the object. */
	q = vmp_map(fd, 4, 4, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, vmp_check(q, 4, 4, 0xc0));
	munmap(q, 4 * PG);
	munmap(p, 4 * PG);
	close(fd);
}

TEST_F(vma, mremap_grow_refused)
{
	int fd = vmp_open();
	char *p, *q;

	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, 4, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, 4, 0xd0);
	/* ASSERT: a growth that succeeded (no VM_DONTEXPAND) may have moved p. */
	q = mremap(p, 4 * PG, 8 * PG, 0);
	ASSERT_EQ(MAP_FAILED, q);
	EXPECT_EQ(EFAULT, errno);
	q = mremap(p, 4 * PG, 8 * PG, MREMAP_MAYMOVE);
	ASSERT_EQ(MAP_FAILED, q);
	EXPECT_EQ(EFAULT, errno);
	/* Original mapping intact and still the only one. */
	EXPECT_EQ(-1, vmp_check(p, 0, 4, 0xd0));
	EXPECT_EQ(1ULL, mappers(fd));
	munmap(p, 4 * PG);
	close(fd);
}

TEST_F(vma, mprotect_readonly_sigsegv)
{
	struct vmpager_obj_info oi;
	siginfo_t si;
	uint64_t v = 0;
	int fd = vmp_open(), status;
	char *p;
	pid_t pid;

	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, 4, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, 4, 0xe0);
	ASSERT_EQ(0, mprotect(p + PG, 2 * PG, PROT_READ));	/* splits the VMA */
	ASSERT_EQ(0, vmp_obj(fd, &oi));
	EXPECT_EQ(3ULL, oi.mappers);

	EXPECT_EQ(0, vmp_try_read(p + PG, &v, NULL));
	EXPECT_EQ(vmp_word(0xe0, 1, 0), v);
	memset(&si, 0, sizeof(si));
	EXPECT_EQ(SIGSEGV, vmp_try_write(p + 2 * PG + 64, 0x1234, &si));
	EXPECT_EQ(SEGV_ACCERR, si.si_code);
	EXPECT_EQ((void *)(p + 2 * PG + 64), si.si_addr);
	EXPECT_EQ(-1, vmp_check(p, 0, 4, 0xe0));		/* nothing landed */
	EXPECT_EQ(0, vmp_try_write(p, 0x1234, NULL));	/* rw part still rw */

	/* Default disposition: the process dies of SIGSEGV. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		vmp_no_core();
		*(volatile uint64_t *)(p + PG) = 1;
		_exit(0);
	}
	status = vmp_wait(pid);
	EXPECT_TRUE(VMP_KILLED(status, SIGSEGV)) TH_LOG("status %#x", status);

	/* Back to read-write: writes work again and reach the object. */
	ASSERT_EQ(0, mprotect(p, 4 * PG, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, vmp_try_write(p + 2 * PG, 0x5678, NULL));
	EXPECT_EQ(0, vmp_try_read(p + 2 * PG, &v, NULL));
	EXPECT_EQ(0x5678ULL, v);
	munmap(p, 4 * PG);
	close(fd);
}

TEST_F(vma, mapping_outlives_close)
{
	struct vmpager_global_info g0, g1;
	int fd = vmp_open(), q;
	char *p, *r;

	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, 8, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, 8, 0xf0);
	ASSERT_EQ(0, close(fd));

	q = vmp_open();
	ASSERT_LE(0, q);
	ASSERT_EQ(0, vmp_global_fd(q, &g0));
	EXPECT_EQ(2ULL, g0.nr_objects);		/* the closed one lives on */
	EXPECT_EQ(8ULL, g0.resident_pages);
	EXPECT_EQ(-1, vmp_check(p, 0, 8, 0xf0));
	vmp_fill(p, 0, 8, 0xf1);
	EXPECT_EQ(-1, vmp_check(p, 0, 8, 0xf1));
	/* A new object does not see it. */
	r = vmp_map(q, 0, 8, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, r);
	EXPECT_EQ(-1, vmp_check_zero(r, 8));
	munmap(r, 8 * PG);

	ASSERT_EQ(0, munmap(p, 8 * PG));	/* last reference: object freed */
	ASSERT_EQ(0, vmp_global_fd(q, &g1));
	EXPECT_EQ(1ULL, g1.nr_objects);
	EXPECT_EQ(1ULL, DST(g0, g1, objects_freed));
	EXPECT_EQ(8ULL, g1.resident_pages);	/* q's own 8 pages */
	EXPECT_EQ(8ULL, DST(g0, g1, frees));
	close(q);
}

TEST_F(vma, mappers_count)
{
	int sv[2], fd = vmp_open(), status;
	char *a, *b, *c;
	pid_t pid;

	ASSERT_LE(0, fd);
	EXPECT_EQ(0ULL, mappers(fd));
	a = vmp_map(fd, 0, 4, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, a);
	EXPECT_EQ(1ULL, mappers(fd));
	b = vmp_map(fd, 0, 4, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, b);
	EXPECT_EQ(2ULL, mappers(fd));
	c = vmp_map(fd, 2, 4, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, c);
	EXPECT_EQ(3ULL, mappers(fd));

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sv[0]);
		VMP_CHILD_CHECK(vmp_post(sv[1]) == 0);
		VMP_CHILD_CHECK(vmp_pend(sv[1]) == 0);
		VMP_CHILD_CHECK(munmap(a, 4 * PG) == 0);
		VMP_CHILD_CHECK(vmp_post(sv[1]) == 0);
		VMP_CHILD_CHECK(vmp_pend(sv[1]) == 0);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(0, vmp_pend(sv[0]));
	EXPECT_EQ(6ULL, mappers(fd));		/* the child's three copies */
	ASSERT_EQ(0, vmp_post(sv[0]));
	ASSERT_EQ(0, vmp_pend(sv[0]));
	EXPECT_EQ(5ULL, mappers(fd));		/* child unmapped one */
	ASSERT_EQ(0, vmp_post(sv[0]));
	status = vmp_wait(pid);
	EXPECT_TRUE(VMP_EXITED(status, 0));
	EXPECT_EQ(3ULL, mappers(fd));		/* exit dropped the rest */
	close(sv[0]);

	/* Splitting a VMA adds one, merging nothing back is fine either way. */
	ASSERT_EQ(0, mprotect(b, PG, PROT_READ));
	EXPECT_EQ(4ULL, mappers(fd));
	ASSERT_EQ(0, munmap(b, 4 * PG));
	EXPECT_EQ(2ULL, mappers(fd));
	ASSERT_EQ(0, munmap(a, 4 * PG));
	EXPECT_EQ(1ULL, mappers(fd));
	ASSERT_EQ(0, munmap(c, 4 * PG));
	EXPECT_EQ(0ULL, mappers(fd));
	close(fd);
}

TEST_HARNESS_MAIN
