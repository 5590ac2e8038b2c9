// Proves: MAP_SHARED mappers of one object (fork, SCM_RIGHTS between unrelated processes, two mmaps of one fd) see the same bytes, MAP_PRIVATE is copy-on-write both ways and never reaches the object, and MADV_DONTNEED keeps shared data but drops private copies.
// SPDX-License-Identifier: GPL-2.0
#include "vmp_test.h"

#define N	16	/* pages per mapping in these tests */

VMP_FIXTURE(share, "pool_pages=1024 max_obj_pages=1024")

/* Parent and child ping-pong through one MAP_SHARED mapping while both live. */
TEST_F(share, shared_fork)
{
	int sv[2], fd = vmp_open(), status;
	char *p;
	pid_t pid;

	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, N, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, 8, 0x101);	/* pages 0..7 before fork */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sv[0]);
		VMP_CHILD_CHECK(vmp_check(p, 0, 8, 0x101) == -1);
		vmp_fill(p + 8 * PG, 8, 8, 0x202);	/* pages 8..15 */
		vmp_fill(p, 0, 1, 0x303);		/* overwrite page 0 */
		VMP_CHILD_CHECK(vmp_post(sv[1]) == 0);
		VMP_CHILD_CHECK(vmp_pend(sv[1]) == 0);
		/* parent rewrote pages 1..2 */
		VMP_CHILD_CHECK(vmp_check(p + PG, 1, 2, 0x404) == -1);
		VMP_CHILD_CHECK(vmp_check(p + 3 * PG, 3, 5, 0x101) == -1);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(0, vmp_pend(sv[0]));
	EXPECT_EQ(-1, vmp_check(p + 8 * PG, 8, 8, 0x202));
	EXPECT_EQ(-1, vmp_check(p, 0, 1, 0x303));
	vmp_fill(p + PG, 1, 2, 0x404);
	ASSERT_EQ(0, vmp_post(sv[0]));
	status = vmp_wait(pid);
	EXPECT_TRUE(VMP_EXITED(status, 0));
	close(sv[0]);
	munmap(p, N * PG);
	close(fd);
}

/*
 * Two unrelated processes: A opens and fills an object and passes the fd to B
 * over a unix socket; B maps it (at a page offset) and both see each other's
 * writes. Neither inherits a mapping from the other.
 */
TEST_F(share, shared_scm_rights)
{
	int sv[2], status_a, status_b;
	pid_t a, b;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	a = fork();
	ASSERT_LE(0, a);
	if (a == 0) {
		struct vmpager_obj_info oi;
		uint64_t peer_id;
		int fd;
		char *p;

		close(sv[1]);
		fd = vmp_open();
		VMP_CHILD_CHECK(fd >= 0);
		p = vmp_map(fd, 0, N, MAP_SHARED);
		VMP_CHILD_CHECK(p != MAP_FAILED);
		vmp_fill(p, 0, N, 0xa1);
		VMP_CHILD_CHECK(vmp_obj(fd, &oi) == 0);
		VMP_CHILD_CHECK(vmp_send_fd(sv[0], fd) == 0);
		close(fd);	/* our mapping keeps the object alive */
		VMP_CHILD_CHECK(vmp_recv_u64(sv[0], &peer_id) == 0);
		VMP_CHILD_CHECK(peer_id == oi.id);
		/* B wrote pages 4..7 with 0xb2 */
		VMP_CHILD_CHECK(vmp_check(p + 4 * PG, 4, 4, 0xb2) == -1);
		VMP_CHILD_CHECK(vmp_check(p, 0, 4, 0xa1) == -1);
		VMP_CHILD_CHECK(vmp_check(p + 8 * PG, 8, N - 8, 0xa1) == -1);
		vmp_fill(p + 12 * PG, 12, 1, 0xa3);
		VMP_CHILD_CHECK(vmp_post(sv[0]) == 0);
		VMP_CHILD_CHECK(vmp_pend(sv[0]) == 0);
		_exit(0);
	}
	b = fork();
	ASSERT_LE(0, b);
	if (b == 0) {
		struct vmpager_obj_info oi;
		int fd;
		char *q;

		close(sv[0]);
		fd = vmp_recv_fd(sv[1]);
		VMP_CHILD_CHECK(fd >= 0);
		VMP_CHILD_CHECK(vmp_obj(fd, &oi) == 0);
		VMP_CHILD_CHECK(oi.size == N);
		VMP_CHILD_CHECK(oi.resident == N);
		/* map pages 4..N-1 only */
		q = vmp_map(fd, 4, N - 4, MAP_SHARED);
		VMP_CHILD_CHECK(q != MAP_FAILED);
		VMP_CHILD_CHECK(vmp_check(q, 4, N - 4, 0xa1) == -1);
		vmp_fill(q, 4, 4, 0xb2);
		VMP_CHILD_CHECK(vmp_send_u64(sv[1], oi.id) == 0);
		VMP_CHILD_CHECK(vmp_pend(sv[1]) == 0);
		VMP_CHILD_CHECK(vmp_check(q + 8 * PG, 12, 1, 0xa3) == -1);
		VMP_CHILD_CHECK(vmp_post(sv[1]) == 0);
		_exit(0);
	}
	close(sv[0]);
	close(sv[1]);
	status_a = vmp_wait(a);
	status_b = vmp_wait(b);
	EXPECT_TRUE(VMP_EXITED(status_a, 0));
	EXPECT_TRUE(VMP_EXITED(status_b, 0));
}

/* Two mmaps of one fd, at another address: same offset and overlapping. */
TEST_F(share, two_mmaps_one_fd)
{
	struct vmpager_obj_info oi;
	char *a, *b, *c;
	int fd = vmp_open();

	ASSERT_LE(0, fd);
	a = vmp_map(fd, 0, N, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, a);
	b = vmp_map(fd, 0, N, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, b);
	ASSERT_NE(a, b);
	c = vmp_map(fd, 8, N, MAP_SHARED);	/* pages 8..23 */
	ASSERT_NE(MAP_FAILED, c);
	ASSERT_EQ(0, vmp_obj(fd, &oi));
	EXPECT_EQ(3ULL, oi.mappers);
	EXPECT_EQ((__u64)(N + 8), oi.size);

	vmp_fill(a, 0, N, 0xc1);
	EXPECT_EQ(-1, vmp_check(b, 0, N, 0xc1));
	EXPECT_EQ(-1, vmp_check(c, 8, 8, 0xc1));
	EXPECT_EQ(-1, vmp_check_zero(c + 8 * PG, 8));
	vmp_fill(c, 8, N, 0xc2);
	EXPECT_EQ(-1, vmp_check(a + 8 * PG, 8, 8, 0xc2));
	EXPECT_EQ(-1, vmp_check(b + 8 * PG, 8, 8, 0xc2));
	EXPECT_EQ(-1, vmp_check(a, 0, 8, 0xc1));
	ASSERT_EQ(0, vmp_obj(fd, &oi));
	EXPECT_EQ((__u64)(N + 8), oi.resident);	/* one frame per page, not per mapping */
	munmap(a, N * PG);
	munmap(b, N * PG);
	munmap(c, N * PG);
	close(fd);
}

/*
 * MAP_PRIVATE next to MAP_SHARED of the same fd, then fork: private writes
 * stay private (in either process), untouched private pages follow the object.
 */
TEST_F(share, private_cow_fork)
{
	int sv[2], fd = vmp_open(), status;
	char *s, *pv;
	pid_t pid;

	ASSERT_LE(0, fd);
	s = vmp_map(fd, 0, N, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	pv = vmp_map(fd, 0, N, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, pv);

	vmp_fill(s, 0, N, 0x11);
	EXPECT_EQ(-1, vmp_check(pv, 0, N, 0x11));	/* reads see the object */
	vmp_fill(pv, 0, 1, 0x22);			/* COW page 0 */
	EXPECT_EQ(-1, vmp_check(s, 0, 1, 0x11));	/* object untouched */
	EXPECT_EQ(-1, vmp_check(pv, 0, 1, 0x22));
	/* A shared write to a page the private mapping only read shows through. */
	vmp_fill(s + 5 * PG, 5, 1, 0x55);
	EXPECT_EQ(-1, vmp_check(pv + 5 * PG, 5, 1, 0x55));

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sv[0]);
		VMP_CHILD_CHECK(vmp_check(pv, 0, 1, 0x22) == -1); /* inherited copy */
		vmp_fill(pv + PG, 1, 1, 0x33);		/* child's own COW */
		VMP_CHILD_CHECK(vmp_check(s + PG, 1, 1, 0x11) == -1);
		vmp_fill(pv, 0, 1, 0x66);		/* COW of a COW page */
		VMP_CHILD_CHECK(vmp_post(sv[1]) == 0);
		VMP_CHILD_CHECK(vmp_pend(sv[1]) == 0);
		/* parent wrote its private page 2 and its private page 0 */
		VMP_CHILD_CHECK(vmp_check(pv + 2 * PG, 2, 1, 0x11) == -1);
		VMP_CHILD_CHECK(vmp_check(pv, 0, 1, 0x66) == -1);
		VMP_CHILD_CHECK(vmp_check(pv + PG, 1, 1, 0x33) == -1);
		VMP_CHILD_CHECK(vmp_check(s + 2 * PG, 2, 1, 0x11) == -1);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(0, vmp_pend(sv[0]));
	EXPECT_EQ(-1, vmp_check(pv + PG, 1, 1, 0x11));	/* child's write invisible */
	EXPECT_EQ(-1, vmp_check(s + PG, 1, 1, 0x11));
	EXPECT_EQ(-1, vmp_check(pv, 0, 1, 0x22));
	vmp_fill(pv + 2 * PG, 2, 1, 0x44);
	vmp_fill(pv, 0, 1, 0x45);
	ASSERT_EQ(0, vmp_post(sv[0]));
	status = vmp_wait(pid);
	EXPECT_TRUE(VMP_EXITED(status, 0));
	EXPECT_EQ(-1, vmp_check(s, 0, 5, 0x11));	/* object never saw a private write */
	EXPECT_EQ(-1, vmp_check(s + 5 * PG, 5, 1, 0x55));
	EXPECT_EQ(-1, vmp_check(s + 6 * PG, 6, N - 6, 0x11));
	close(sv[0]);
	munmap(s, N * PG);
	munmap(pv, N * PG);
	close(fd);
}

/* A private write into a fresh object: the object stays zero. */
TEST_F(share, private_write_fresh_object)
{
	int fd = vmp_open();
	char *pv, *s;

	ASSERT_LE(0, fd);
	pv = vmp_map(fd, 0, 4, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, pv);
	vmp_fill(pv, 0, 4, 0x99);
	EXPECT_EQ(-1, vmp_check(pv, 0, 4, 0x99));
	s = vmp_map(fd, 0, 4, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	EXPECT_EQ(-1, vmp_check_zero(s, 4));
	munmap(pv, 4 * PG);
	munmap(s, 4 * PG);
	close(fd);
}

TEST_F(share, madv_dontneed_shared)
{
	struct vmpager_global_info g0, g1;
	struct vmpager_obj_info oi;
	int fd = vmp_open();
	char *s;

	ASSERT_LE(0, fd);
	s = vmp_map(fd, 0, N, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	vmp_fill(s, 0, N, 0x71);
	ASSERT_EQ(0, madvise(s, N * PG, MADV_DONTNEED));
	ASSERT_EQ(0, vmp_global_fd(fd, &g0));
	EXPECT_EQ(-1, vmp_check(s, 0, N, 0x71));	/* data kept */
	ASSERT_EQ(0, vmp_global_fd(fd, &g1));
	EXPECT_EQ((__u64)N, DST(g0, g1, faults_minor));
	EXPECT_EQ((__u64)N, DST(g0, g1, faults));
	EXPECT_EQ(0ULL, DST(g0, g1, faults_zero));
	EXPECT_EQ(0ULL, DST(g0, g1, alloc_ok));
	EXPECT_EQ(g0.resident_pages, g1.resident_pages);
	ASSERT_EQ(0, vmp_obj(fd, &oi));
	EXPECT_EQ((__u64)N, oi.resident);
	/* Still writable and shared afterwards. */
	vmp_fill(s, 0, 2, 0x72);
	EXPECT_EQ(-1, vmp_check(s, 0, 2, 0x72));
	munmap(s, N * PG);
	close(fd);
}

TEST_F(share, madv_dontneed_private)
{
	struct vmpager_global_info g0, g1;
	int fd = vmp_open();
	char *s, *pv;

	ASSERT_LE(0, fd);
	s = vmp_map(fd, 0, N, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	pv = vmp_map(fd, 0, N, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, pv);
	vmp_fill(s, 0, N, 0x81);
	vmp_fill(pv, 0, N, 0x82);			/* private copies */
	EXPECT_EQ(-1, vmp_check(s, 0, N, 0x81));
	EXPECT_EQ(-1, vmp_check(pv, 0, N, 0x82));

	ASSERT_EQ(0, madvise(pv, N * PG, MADV_DONTNEED));
	ASSERT_EQ(0, vmp_global_fd(fd, &g0));
	EXPECT_EQ(-1, vmp_check(pv, 0, N, 0x81));	/* copies dropped */
	ASSERT_EQ(0, vmp_global_fd(fd, &g1));
	EXPECT_EQ((__u64)N, DST(g0, g1, faults_minor));
	EXPECT_EQ(0ULL, DST(g0, g1, faults_zero));
	/* Untouched (read-only) private pages follow later shared writes. */
	vmp_fill(s, 0, N, 0x83);
	EXPECT_EQ(-1, vmp_check(pv, 0, N, 0x83));
	/* And private writes still do not reach the object. */
	vmp_fill(pv, 0, 1, 0x84);
	EXPECT_EQ(-1, vmp_check(s, 0, 1, 0x83));
	munmap(s, N * PG);
	munmap(pv, N * PG);
	close(fd);
}

TEST_HARNESS_MAIN
