// SPDX-License-Identifier: GPL-2.0
/*
 * The io_uring swap server (vmpager-swapd = vmpagerd --swap-server): attach
 * rules, data through it under overcommit, kill -9 in the middle (no hang,
 * no silent zero page: SIGBUS for what the dead server held, new writes fail
 * over to the in-kernel file), and re-attach bringing every page back.
 */
#include <sys/stat.h>
#include "vmp_test.h"


static int attach(int fd, void *bufs, void *descs, uint32_t depth)
{
	struct vmpager_srv_attach at = {
		.bufs = (uintptr_t)bufs, .descs = (uintptr_t)descs,
		.nslots = 1024, .depth = depth,
	};

	return ioctl(fd, VMPAGER_IOC_SRV_ATTACH, &at) ? -errno : 0;
}

TEST(attach_rules)
{
	pid_t pid;

	ASSERT_EQ(0, vmp_load("pool_pages=64"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		static struct vmpager_srv_desc descs[4];
		void *bufs = aligned_alloc(4096, 4 * 4096);
		int fd = vmp_open(), fd2 = vmp_open();
		struct vmpager_srv_attach bad = {
			.bufs = (uintptr_t)bufs, .descs = (uintptr_t)descs,
			.nslots = 1024, .depth = 4, .reserved = { 1 },
		};

		VMP_CHILD_CHECK(fd >= 0 && fd2 >= 0 && bufs);
		/* memory not locked */
		VMP_CHILD_CHECK(attach(fd, bufs, descs, 4) == -EPERM);
		VMP_CHILD_CHECK(mlockall(MCL_CURRENT | MCL_FUTURE) == 0);
		VMP_CHILD_CHECK(attach(fd, bufs, descs, 0) == -EINVAL);
		VMP_CHILD_CHECK(attach(fd, bufs, descs, VMPAGER_SRV_MAX_DEPTH + 1) == -EINVAL);
		VMP_CHILD_CHECK(attach(fd, (char *)bufs + 8, descs, 4) == -EINVAL);
		VMP_CHILD_CHECK(ioctl(fd, VMPAGER_IOC_SRV_ATTACH, &bad) == -1 && errno == EINVAL);
		VMP_CHILD_CHECK(attach(fd, bufs, descs, 4) == 0);
		VMP_CHILD_CHECK(vmp_server_state_is("online"));
		/* one server at a time; a server never maps the device */
		VMP_CHILD_CHECK(attach(fd2, bufs, descs, 4) == -EBUSY);
		VMP_CHILD_CHECK(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd2, 0) == MAP_FAILED &&
				errno == EPERM);
		VMP_CHILD_CHECK(ioctl(fd, VMPAGER_IOC_SRV_DETACH) == 0);
		VMP_CHILD_CHECK(vmp_server_state_is("offline"));
		/* a detached fd cannot serve again */
		VMP_CHILD_CHECK(attach(fd, bufs, descs, 4) == -EBUSY);
		_exit(0);
	}
	EXPECT_EQ(0, vmp_wait(pid));
	/* without CAP_SYS_ADMIN */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		static struct vmpager_srv_desc descs[4];
		void *bufs = aligned_alloc(4096, 4 * 4096);
		int fd = vmp_open();

		VMP_CHILD_CHECK(fd >= 0 && mlockall(MCL_CURRENT | MCL_FUTURE) == 0);
		VMP_CHILD_CHECK(setresuid(65534, 65534, 65534) == 0);
		VMP_CHILD_CHECK(attach(fd, bufs, descs, 4) == -EPERM);
		_exit(0);
	}
	EXPECT_EQ(0, vmp_wait(pid));
	EXPECT_EQ(1, vmp_stat("srv_deaths"));	/* the detach */
	EXPECT_EQ(0, vmp_unload());
}

TEST(overcommit_through_server)
{
	struct vmpager_global_info a, b;
	pid_t srv, pid;
	char *p;
	int fd, st;

	vmp_swapd_remove_files();
	ASSERT_EQ(0, vmp_load("pool_pages=256 policy=lirs"));
	srv = vmp_swapd_start(2048);
	ASSERT_LT(0, srv);
	fd = vmp_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vmp_global_fd(fd, &a));
	p = vmp_map(fd, 0, 1024, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		vmp_fill(p + 512 * PG, 512, 512, 0x61);
		_exit(0);
	}
	vmp_fill(p, 0, 512, 0x61);
	ASSERT_EQ(0, vmp_wait(pid));
	EXPECT_EQ(-1, vmp_check(p, 0, 1024, 0x61));
	ASSERT_EQ(0, vmp_global_fd(fd, &b));
	EXPECT_LT(0ULL, DST(a, b, srv_requests));
	EXPECT_EQ(0ULL, DST(a, b, srv_failed));
	EXPECT_LT(0ULL, DST(a, b, swap_outs));
	EXPECT_LT(0ULL, DST(a, b, faults_major));
	EXPECT_EQ(0ULL, DST(a, b, read_errors));
	munmap(p, 1024 * PG);
	close(fd);
	/* SIGTERM: the server detaches and exits 0 */
	kill(srv, SIGTERM);
	ASSERT_EQ(srv, waitpid(srv, &st, 0));
	EXPECT_TRUE(VMP_EXITED(st, 0));
	EXPECT_EQ(0, vmp_server_wait("offline", 2000));
	EXPECT_EQ(0, vmp_unload());
	vmp_swapd_remove_files();
}

TEST(kill9_failover_and_reattach)
{
	struct vmpager_global_info a, b;
	char swapf[256], params[512];
	long sigbus = 0, bad = -1;
	pid_t srv, pid;
	size_t i;
	char *p, *q;
	int fd, fd2, st;

	vmp_swapd_remove_files();
	snprintf(swapf, sizeof(swapf), "%s/vmp-srv-kernel.swap", vmp_swap_dir());
	unlink(swapf);
	snprintf(params, sizeof(params),
		 "pool_pages=64 policy=fifo swapfile=%s swap_pages=1024", swapf);
	ASSERT_EQ(0, vmp_load(params));
	srv = vmp_swapd_start(1024);
	ASSERT_LT(0, srv);
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, 256, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, 256, 0x71);		/* most pages go to the server */
	ASSERT_EQ(0, vmp_global_fd(fd, &a));
	ASSERT_LT(0ULL, ST(a, srv_requests));

	kill(srv, SIGKILL);
	ASSERT_EQ(srv, waitpid(srv, &st, 0));	/* no hang in the server's exit */
	ASSERT_EQ(0, vmp_server_wait("offline", 5000));

	/* new data (a second object) fails over to the in-kernel file */
	fd2 = vmp_open();
	ASSERT_LE(0, fd2);
	q = vmp_map(fd2, 0, 128, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, q);
	vmp_fill(q, 0, 128, 0x72);
	EXPECT_EQ(-1, vmp_check(q, 0, 128, 0x72));
	/* every page reads right or raises SIGBUS: never a silent zero */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		long nbus = 0;
		siginfo_t si;
		uint64_t v;

		vmp_no_core();
		for (i = 0; i < 256; i++) {
			int r = vmp_try_read(p + i * PG, &v, &si);

			if (r == SIGBUS) {
				nbus++;
				continue;
			}
			if (r || vmp_check(p + i * PG, i, 1, 0x71) != -1)
				_exit(100);
		}
		_exit(nbus > 0 ? 1 : 2);	/* 1: some pages were on the dead server */
	}
	st = vmp_wait(pid);
	EXPECT_TRUE(VMP_EXITED(st, 1))
		TH_LOG("child status %#x (exit 100: wrong data, 2: no SIGBUS at all)", st);
	sigbus = VMP_EXITED(st, 1);
	ASSERT_EQ(0, vmp_global_fd(fd, &b));
	EXPECT_EQ(1ULL, DST(a, b, srv_deaths));
	EXPECT_LT(0ULL, DST(a, b, read_errors));

	/* the same files again: every page is back */
	srv = vmp_swapd_start(1024);
	ASSERT_LT(0, srv);
	bad = vmp_check(p, 0, 256, 0x71);
	EXPECT_EQ(-1, bad);
	bad = vmp_check(q, 0, 128, 0x72);
	EXPECT_EQ(-1, bad);
	TH_LOG("SIGBUS seen while the server was dead: %s", sigbus ? "yes" : "no");
	munmap(p, 256 * PG);
	munmap(q, 128 * PG);
	close(fd);
	close(fd2);
	kill(srv, SIGTERM);
	ASSERT_EQ(srv, waitpid(srv, &st, 0));
	EXPECT_TRUE(VMP_EXITED(st, 0));
	EXPECT_EQ(0, vmp_unload());
	unlink(swapf);
	vmp_swapd_remove_files();
}

TEST_HARNESS_MAIN
