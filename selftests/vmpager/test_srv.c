// SPDX-License-Identifier: GPL-2.0
/*
 * The io_uring swap server (vmpager-swapd = vmpagerd --swap-server): attach
 * rules, data through it under overcommit, kill -9 in the middle (no hang,
 * no silent zero page: SIGBUS for what the dead server held, new writes fail
 * over to the in-kernel file), and re-attach bringing every page back; the
 * defects of issue 13 (docs/reliability.md, bugs 6-9): clean pages whose
 * copy sits with a dead server survive reclaim, kill and attach racing
 * never leave a live server's area offline, a server killed under load
 * again and again, and an area too large for kmalloc's bitmap.
 */
#include <pthread.h>
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
		/* runs: 1..VMPAGER_SRV_MAX_RUN pages, and only with the flag */
		bad.reserved[0] = 0;
		bad.run_pages = 2;
		VMP_CHILD_CHECK(ioctl(fd, VMPAGER_IOC_SRV_ATTACH, &bad) == -1 && errno == EINVAL);
		bad.flags = VMPAGER_SRV_F_RUNS;
		bad.run_pages = 0;
		VMP_CHILD_CHECK(ioctl(fd, VMPAGER_IOC_SRV_ATTACH, &bad) == -1 && errno == EINVAL);
		bad.run_pages = VMPAGER_SRV_MAX_RUN + 1;
		VMP_CHILD_CHECK(ioctl(fd, VMPAGER_IOC_SRV_ATTACH, &bad) == -1 && errno == EINVAL);
		bad.flags = 0x2;
		bad.run_pages = 0;
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

/*
 * 1,024 pages through a 256-frame pool from two processes, the server the
 * only swap; @run: its pages per request ("0": the one-page protocol).
 */
static void overcommit_via_server(struct __test_metadata *_metadata,
				  const char *run)
{
	struct vmpager_global_info a, b;
	pid_t srv, pid;
	char *p;
	int fd, st;

	vmp_swapd_remove_files();
	ASSERT_EQ(0, vmp_load("pool_pages=256 policy=lirs"));
	srv = vmp_swapd_start_run(2048, run);
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
	TH_LOG("-r %s: %llu pages in %llu requests", run,
	       (unsigned long long)DST(a, b, srv_requests),
	       (unsigned long long)DST(a, b, srv_runs));
	if (strcmp(run, "0")) {
		/* consecutive slots of a batch went to the server together */
		EXPECT_LT(DST(a, b, srv_runs), DST(a, b, srv_requests));
	} else {
		EXPECT_EQ(DST(a, b, srv_runs), DST(a, b, srv_requests));
	}
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

TEST(overcommit_through_server)
{
	overcommit_via_server(_metadata, "32");
}

/* The one-page protocol of ABI 1.2 and before still works. */
TEST(overcommit_through_server_one_page_requests)
{
	overcommit_via_server(_metadata, "0");
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

struct toucher {
	volatile char *page;
	volatile int started, done;
};

static void *touch_page(void *arg)
{
	struct toucher *t = arg;

	t->started = 1;
	(void)*t->page;
	t->done = 1;
	return NULL;
}

/*
 * Asynchronous read-ahead through the server: the touch of a read-ahead
 * window's first page sends the next window's reads and returns at once,
 * even with the server stopped; a fault on a page of that window waits
 * for its read (read_waits) until the server answers, then reads the
 * right data. Nothing fails.
 */
TEST(async_readahead_waits_for_the_server)
{
	struct vmpager_global_info a, b;
	struct toucher t = { 0 };
	pthread_t th;
	pid_t srv;
	char *p, *q;
	int fd, fd2, st;

	vmp_swapd_remove_files();
	ASSERT_EQ(0, vmp_load("pool_pages=64 policy=fifo ref_source=faults"));
	srv = vmp_swapd_start(1024);
	ASSERT_LT(0, srv);
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, 128, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, 128, 0x74);
	/* a second object as large as the pool pushes all of ours out (FIFO) */
	fd2 = vmp_open();
	ASSERT_LE(0, fd2);
	q = vmp_map(fd2, 0, 64, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, q);
	vmp_fill(q, 0, 64, 0x75);
	munmap(q, 64 * PG);
	close(fd2);
	ASSERT_EQ(0, vmp_global_fd(fd, &a));
	/* page 0: no read-ahead; page 1, next to it: reads page 2 ahead */
	EXPECT_EQ(-1, vmp_check(p, 0, 2, 0x74));
	ASSERT_EQ(0, kill(srv, SIGSTOP));
	/* page 2 was read ahead: its touch sends pages 3.. to the server */
	EXPECT_EQ(-1, vmp_check(p + 2 * PG, 2, 1, 0x74));
	t.page = p + 3 * PG;
	ASSERT_EQ(0, pthread_create(&th, NULL, touch_page, &t));
	while (!t.started)
		usleep(1000);
	usleep(300 * 1000);
	EXPECT_EQ(0, t.done) TH_LOG("page 3 was read with the server stopped");
	ASSERT_EQ(0, kill(srv, SIGCONT));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(-1, vmp_check(p, 0, 128, 0x74));
	ASSERT_EQ(0, vmp_global_fd(fd, &b));
	TH_LOG("%llu pages read ahead asynchronously, %llu faults waited for a read",
	       (unsigned long long)DST(a, b, readahead_async),
	       (unsigned long long)DST(a, b, read_waits));
	EXPECT_LE(1ULL, DST(a, b, read_waits));
	EXPECT_LE(8ULL, DST(a, b, readahead_async));
	EXPECT_EQ(0ULL, DST(a, b, srv_failed));
	EXPECT_EQ(0ULL, DST(a, b, read_errors));
	munmap(p, 128 * PG);
	close(fd);
	kill(srv, SIGTERM);
	ASSERT_EQ(srv, waitpid(srv, &st, 0));
	EXPECT_TRUE(VMP_EXITED(st, 0));
	EXPECT_EQ(0, vmp_unload());
	vmp_swapd_remove_files();
}

/* No set-up: each test loads what it needs; TEST_F_TIMEOUT gives long ones room. */
FIXTURE(srv) { int unused; };
FIXTURE_SETUP(srv) { }
FIXTURE_TEARDOWN(srv) { }

/*
 * Bug 6: with the server as the only swap, a clean resident page whose copy
 * sits in the dead server's area must keep that copy through reclaim. The
 * eviction freed the slot before trying to allocate a new one, found none,
 * put the page back clean and slotless, and the next pass dropped it as a
 * zero page: re-attaching the server read back zeros.
 */
TEST_F_TIMEOUT(srv, kill9_clean_pages_survive_reclaim, 120)
{
	struct vmpager_global_info a, b;
	pid_t srv, pid;
	char *p, *q;
	int fd, fd2, st;

	vmp_swapd_remove_files();
	ASSERT_EQ(0, vmp_load("pool_pages=64 policy=fifo"));
	srv = vmp_swapd_start(1024);
	ASSERT_LT(0, srv);
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, 256, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, 256, 0x81);
	/* read back: the pool ends up full of clean pages with server slots */
	ASSERT_EQ(-1, vmp_check(p, 0, 256, 0x81));

	kill(srv, SIGKILL);
	ASSERT_EQ(srv, waitpid(srv, &st, 0));
	ASSERT_EQ(0, vmp_server_wait("offline", 5000));
	ASSERT_EQ(0, vmp_global_fd(fd, &a));

	/* reclaim over them: a second object's zero-fill faults need frames */
	fd2 = vmp_open();
	ASSERT_LE(0, fd2);
	q = vmp_map(fd2, 0, 256, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, q);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t v;
		int round, i;

		vmp_no_core();
		/* SIGBUS is fine: nothing may be evictable while it is dead */
		for (round = 0; round < 3; round++)
			for (i = 0; i < 256; i++)
				vmp_try_read(q + i * PG, &v, NULL);
		_exit(0);
	}
	ASSERT_EQ(0, vmp_wait(pid));
	ASSERT_EQ(0, vmp_global_fd(fd, &b));
	/* reclaim saw pages it could neither drop nor write, and kept them */
	EXPECT_LT(0ULL, DST(a, b, evict_noswap));

	srv = vmp_swapd_start(1024);
	ASSERT_LT(0, srv);
	EXPECT_EQ(-1, vmp_check(p, 0, 256, 0x81))
		TH_LOG("a clean page lost its only copy while the server was dead");
	munmap(p, 256 * PG);
	munmap(q, 256 * PG);
	close(fd);
	close(fd2);
	st = vmp_swapd_stop(srv);
	EXPECT_TRUE(VMP_EXITED(st, 0));
	EXPECT_EQ(0, vmp_unload());
	vmp_swapd_remove_files();
}

/* The state of the server's area in debugfs "swap": 1 online, 0 offline, -1 none. */
static int server_area_online(void)
{
	char *buf = vmp_read_file(VMP_DEBUGFS "/swap"), *l;
	int ret = -1;

	if (!buf)
		return -1;
	for (l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
		if (!strstr(l, " server "))
			continue;
		ret = strstr(l, " online ") != NULL;
		break;
	}
	free(buf);
	return ret;
}

struct attacher {
	int fd;
	void *bufs;
	void *descs;
	int ret;
};

static void *attach_until_free(void *arg)
{
	struct attacher *at = arg;

	do {
		at->ret = attach(at->fd, at->bufs, at->descs, 4);
	} while (at->ret == -EBUSY);
	return NULL;
}

/*
 * Bug 7: a detach (or a death) and an attach racing. The kill took the
 * server offline under vmp_srv_lock but its area only after dropping it; an
 * attach in between put the area online for the new server first, and the
 * kill then took it offline under a live server. Each round: a server is
 * attached, another thread attaches as soon as it may, this one detaches
 * the first; then the second must be online with its area.
 */
TEST_F_TIMEOUT(srv, detach_and_attach_race_keeps_the_area_online, 120)
{
	pid_t pid;

	ASSERT_EQ(0, vmp_load("pool_pages=64"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		static struct vmpager_srv_desc descs[2][4];
		void *bufs[2] = { aligned_alloc(4096, 4 * 4096),
				  aligned_alloc(4096, 4 * 4096) };
		int round, bad = 0;

		VMP_CHILD_CHECK(bufs[0] && bufs[1]);
		VMP_CHILD_CHECK(mlockall(MCL_CURRENT | MCL_FUTURE) == 0);
		for (round = 0; round < 300; round++) {
			struct attacher at = { .bufs = bufs[1], .descs = descs[1] };
			int fd = vmp_open();
			pthread_t th;

			at.fd = vmp_open();
			VMP_CHILD_CHECK(fd >= 0 && at.fd >= 0);
			VMP_CHILD_CHECK(attach(fd, bufs[0], descs[0], 4) == 0);
			VMP_CHILD_CHECK(pthread_create(&th, NULL, attach_until_free,
						       &at) == 0);
			if (round & 1)
				VMP_CHILD_CHECK(ioctl(fd, VMPAGER_IOC_SRV_DETACH) == 0);
			close(fd);	/* even rounds: the release kills it */
			VMP_CHILD_CHECK(pthread_join(th, NULL) == 0);
			VMP_CHILD_CHECK(at.ret == 0);
			VMP_CHILD_CHECK(vmp_server_state_is("online"));
			if (server_area_online() != 1) {
				fprintf(stderr, "# round %d: server online, its area offline\n",
					round);
				bad++;
			}
			VMP_CHILD_CHECK(ioctl(at.fd, VMPAGER_IOC_SRV_DETACH) == 0);
			VMP_CHILD_CHECK(server_area_online() == 0);
			close(at.fd);
		}
		_exit(bad ? 1 : 0);
	}
	EXPECT_EQ(0, vmp_wait(pid));
	EXPECT_EQ(0, vmp_unload());
}

/*
 * Bug 8: a server killed while it holds requests, again and again, with a
 * files area to fail over to. The dispatch task work that runs after the
 * server's task has exited (io_uring's fallback, in a kworker) ended its
 * command before declaring the server dead, and ending it may drop the last
 * reference to the server's file, whose release frees the server: KASAN on
 * the debug kernel. Every page stays right (the writer rewrites each page
 * with its own contents, so every write is a dirty page to swap out).
 */
TEST_F_TIMEOUT(srv, kill9_under_load_repeatedly, 240)
{
	char swapf[256], params[512];
	int fd, round, st, i;
	pid_t srv, pid;
	char *p;

	vmp_swapd_remove_files();
	snprintf(swapf, sizeof(swapf), "%s/vmp-srv-loop.swap", vmp_swap_dir());
	unlink(swapf);
	snprintf(params, sizeof(params),
		 "pool_pages=64 policy=fifo swapfile=%s swap_pages=1024", swapf);
	ASSERT_EQ(0, vmp_load(params));
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, 256, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, 256, 0xa1);
	for (round = 0; round < 8; round++) {
		long long req0;
		int waited;

		srv = vmp_swapd_start(1024);
		ASSERT_LT(0, srv);
		ASSERT_EQ(1, server_area_online());
		req0 = vmp_stat("srv_requests");
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			vmp_no_core();
			/* pages on a dead server give SIGBUS: skip them */
			for (;;)
				for (i = 0; i < 256; i++)
					vmp_try_write(p + i * PG, vmp_word(0xa1, i, 0),
						      NULL);
		}
		for (waited = 0; waited < 10000 &&
		     vmp_stat("srv_requests") < req0 + 64; waited += 10)
			usleep(10000);
		kill(srv, SIGKILL);
		ASSERT_EQ(srv, waitpid(srv, &st, 0));
		ASSERT_EQ(0, vmp_server_wait("offline", 5000));
		EXPECT_EQ(0, server_area_online());
		kill(pid, SIGKILL);
		vmp_wait(pid);
	}
	EXPECT_EQ(8, vmp_stat("srv_deaths"));
	srv = vmp_swapd_start(1024);
	ASSERT_LT(0, srv);
	EXPECT_EQ(-1, vmp_check(p, 0, 256, 0xa1));
	munmap(p, 256 * PG);
	close(fd);
	st = vmp_swapd_stop(srv);
	EXPECT_TRUE(VMP_EXITED(st, 0));
	EXPECT_EQ(0, vmp_unload());
	unlink(swapf);
	vmp_swapd_remove_files();
}

/*
 * Bug 9: the slot bitmap of a 256 GiB area (2^26 slots, an 8 MiB map) was
 * one kmalloc, above its largest order: a WARN and ENOMEM for a legitimate
 * area. The server's area is the one that needs no disk to be that large.
 */
TEST(huge_server_area)
{
	pid_t pid;

	ASSERT_EQ(0, vmp_load("pool_pages=64"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		static struct vmpager_srv_desc descs[4];
		void *bufs = aligned_alloc(4096, 4 * 4096);
		struct vmpager_srv_attach at = {
			.bufs = (uintptr_t)bufs, .descs = (uintptr_t)descs,
			.nslots = 1ULL << 26, .depth = 4,
		};
		char *sw;
		int fd = vmp_open();

		VMP_CHILD_CHECK(fd >= 0 && bufs);
		VMP_CHILD_CHECK(mlockall(MCL_CURRENT | MCL_FUTURE) == 0);
		VMP_CHILD_CHECK(ioctl(fd, VMPAGER_IOC_SRV_ATTACH, &at) == 0);
		sw = vmp_read_file(VMP_DEBUGFS "/swap");
		VMP_CHILD_CHECK(sw && strstr(sw, "slots 67108864\n"));
		VMP_CHILD_CHECK(strstr(sw, "free 67108864\n"));
		free(sw);
		VMP_CHILD_CHECK(server_area_online() == 1);
		VMP_CHILD_CHECK(ioctl(fd, VMPAGER_IOC_SRV_DETACH) == 0);
		_exit(0);
	}
	EXPECT_EQ(0, vmp_wait(pid));
	EXPECT_EQ(0, vmp_unload());
}

TEST_HARNESS_MAIN
