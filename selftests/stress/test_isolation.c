// SPDX-License-Identifier: GPL-2.0
/*
 * Isolation and privilege: reused frames and swap slots never show another
 * object's data; an object cannot be reached without its fd; privileged
 * operations are refused without CAP_SYS_ADMIN (or CAP_SYS_MODULE);
 * debugfs and the module parameters are root-only; swap files that others
 * could read are refused and new ones are created 0600.
 */
#include <dirent.h>
#include <sys/prctl.h>
#include <grp.h>
#include <sys/uio.h>
#include "vmp_test.h"

#define POOL	256
#define NOBODY	65534

static char swapf[256];

static int load_swap(unsigned int swap_pages)
{
	char params[384];

	snprintf(swapf, sizeof(swapf), "%s/vmp-isolation.swap", vmp_swap_dir());
	unlink(swapf);
	snprintf(params, sizeof(params), "pool_pages=%d swapfile=%s swap_pages=%u", POOL, swapf,
		 swap_pages);
	return vmp_load(params);
}

/* In a child: become uid/gid 65534 with no capabilities at all. */
static int become_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return -1;
	return getuid() == NOBODY && geteuid() == NOBODY ? 0 : -1;
}

/*
 * A first process fills 2x the pool (half of it ends in swap), dirties
 * private copies too, and exits; a second then maps 2x the pool shared and
 * private and reads every page: all zero, though every frame and the
 * first process's swap slots have been reused. It then writes half, which
 * pushes pages through swap again, and the half it never wrote still reads
 * zero after eviction.
 */
TEST(reused_frames_and_slots_never_show_old_data)
{
	struct vmpager_global_info a, b;
	pid_t pid;
	int st;

	ASSERT_EQ(0, load_swap(8 * POOL));
	ASSERT_EQ(0, vmp_global(&a));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = vmp_open();
		char *p = fd < 0 ? MAP_FAILED : vmp_map(fd, 0, 2 * POOL, MAP_SHARED);
		char *q = fd < 0 ? MAP_FAILED : vmp_map(fd, 0, 2 * POOL, MAP_PRIVATE);

		VMP_CHILD_CHECK(p != MAP_FAILED && q != MAP_FAILED);
		vmp_fill(p, 0, 2 * POOL, 0xdead);
		vmp_fill(q, 0, POOL, 0xbeef);
		VMP_CHILD_CHECK(vmp_check(p, 0, 2 * POOL, 0xdead) == -1);
		_exit(0);	/* the object dies with us */
	}
	ASSERT_EQ(0, vmp_wait(pid));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = vmp_open();
		char *p = fd < 0 ? MAP_FAILED : vmp_map(fd, 0, 2 * POOL, MAP_SHARED);
		char *q = fd < 0 ? MAP_FAILED : vmp_map(fd, 0, 2 * POOL, MAP_PRIVATE);
		long bad;

		VMP_CHILD_CHECK(p != MAP_FAILED && q != MAP_FAILED);
		bad = vmp_check_zero(q, 2 * POOL);
		if (bad >= 0)
			fprintf(stderr, "# private page %ld word %ld not zero: %#llx\n",
				bad / (long)WORDS_PER_PG, bad % (long)WORDS_PER_PG,
				(unsigned long long)((uint64_t *)q)[bad]);
		VMP_CHILD_CHECK(bad == -1);
		bad = vmp_check_zero(p, 2 * POOL);
		VMP_CHILD_CHECK(bad == -1);
		/* write the even pages: the odd ones get evicted as zero pages */
		for (size_t i = 0; i < 2 * POOL; i += 2)
			vmp_fill(p + i * PG, i, 1, 0x1234);
		for (size_t i = 0; i < 2 * POOL; i++) {
			if (i % 2)
				VMP_CHILD_CHECK(vmp_check_zero(p + i * PG, 1) == -1);
			else
				VMP_CHILD_CHECK(vmp_check(p + i * PG, i, 1, 0x1234) == -1);
		}
		_exit(0);
	}
	st = vmp_wait(pid);
	EXPECT_TRUE(VMP_EXITED(st, 0)) TH_LOG("reader status %#x", st);
	ASSERT_EQ(0, vmp_global(&b));
	/* the first process really went through swap and the reader reused it */
	EXPECT_LT(0ULL, DST(a, b, swap_outs));
	EXPECT_LE((unsigned long long)(4 * POOL), (unsigned long long)DST(a, b, alloc_ok));
	EXPECT_EQ(b.pool_pages, b.free_pages);
	EXPECT_EQ(0, vmp_unload_wait(3000));
	unlink(swapf);
}

/*
 * Frees and first touches racing: one process frees objects full of data
 * while another faults new pages; every first touch reads zero.
 */
TEST(concurrent_free_and_first_touch)
{
	pid_t writer, reader;
	int st;

	ASSERT_EQ(0, load_swap(8 * POOL));
	writer = fork();
	ASSERT_LE(0, writer);
	if (!writer) {
		for (int round = 0; round < 40; round++) {
			int fd = vmp_open();
			char *p = fd < 0 ? MAP_FAILED : vmp_map(fd, 0, POOL, MAP_SHARED);

			VMP_CHILD_CHECK(p != MAP_FAILED);
			vmp_fill(p, 0, POOL, 0xf00d + round);
			munmap(p, POOL * PG);
			close(fd);
		}
		_exit(0);
	}
	reader = fork();
	ASSERT_LE(0, reader);
	if (!reader) {
		for (int round = 0; round < 40; round++) {
			int fd = vmp_open();
			char *p = fd < 0 ? MAP_FAILED : vmp_map(fd, 0, POOL / 2, MAP_SHARED);

			VMP_CHILD_CHECK(p != MAP_FAILED);
			VMP_CHILD_CHECK(vmp_check_zero(p, POOL / 2) == -1);
			munmap(p, POOL / 2 * PG);
			close(fd);
		}
		_exit(0);
	}
	st = vmp_wait(writer);
	EXPECT_TRUE(VMP_EXITED(st, 0)) TH_LOG("writer status %#x", st);
	st = vmp_wait(reader);
	EXPECT_TRUE(VMP_EXITED(st, 0)) TH_LOG("reader status %#x", st);
	EXPECT_EQ(0, vmp_unload_wait(3000));
	unlink(swapf);
}

/*
 * Without the fd there is no way in: opening the device, the owner's
 * /proc/PID/fd/N or /proc/PID/map_files entry creates a new, empty object
 * (the open goes to the device, not to the object); as another user every
 * path (device, /proc fd, /proc mem, process_vm_readv) is refused.
 */
TEST(no_access_without_the_fd)
{
	struct vmpager_obj_info oi;
	int fd, sv[2], st;
	char path[128], *p;
	pid_t owner = getpid(), pid;

	ASSERT_EQ(0, vmp_load("pool_pages=256"));
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, 16, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, 16, 0x5ec2e7);
	ASSERT_EQ(0, vmp_obj(fd, &oi));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* root, but without the fd (closed in the child) */
		struct vmpager_obj_info o2;
		char *q;
		int f2;

		close(fd);
		munmap(p, 16 * PG);
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", owner, fd);
		f2 = open(path, O_RDWR);
		VMP_CHILD_CHECK(f2 >= 0);
		VMP_CHILD_CHECK(vmp_obj(f2, &o2) == 0 && o2.id != oi.id);
		q = vmp_map(f2, 0, 16, MAP_SHARED);
		VMP_CHILD_CHECK(q != MAP_FAILED && vmp_check_zero(q, 16) == -1);
		munmap(q, 16 * PG);
		close(f2);
		snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", owner,
			 (unsigned long)p, (unsigned long)p + 16 * PG);
		f2 = open(path, O_RDWR);
		if (f2 >= 0) {
			VMP_CHILD_CHECK(vmp_obj(f2, &o2) == 0 && o2.id != oi.id);
			q = vmp_map(f2, 0, 16, MAP_SHARED);
			VMP_CHILD_CHECK(q != MAP_FAILED && vmp_check_zero(q, 16) == -1);
			munmap(q, 16 * PG);
			close(f2);
		} else {
			VMP_CHILD_CHECK(errno == ENOENT || errno == EPERM);
		}
		/* offsets and lengths of a new object never reach another object */
		f2 = vmp_open();
		q = f2 < 0 ? MAP_FAILED : vmp_map(f2, oi.size, 16, MAP_SHARED);
		VMP_CHILD_CHECK(q != MAP_FAILED && vmp_check_zero(q, 16) == -1);
		_exit(0);
	}
	st = vmp_wait(pid);
	EXPECT_TRUE(VMP_EXITED(st, 0)) TH_LOG("root child status %#x", st);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct iovec local, remote;
		char buf[64];

		close(fd);
		VMP_CHILD_CHECK(become_nobody() == 0);
		VMP_CHILD_CHECK(open(VMPAGER_DEVICE, O_RDWR) < 0 && errno == EACCES);
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", owner, fd);
		VMP_CHILD_CHECK(open(path, O_RDWR) < 0 && errno == EACCES);
		snprintf(path, sizeof(path), "/proc/%d/mem", owner);
		VMP_CHILD_CHECK(open(path, O_RDONLY) < 0 && errno == EACCES);
		local.iov_base = buf;
		local.iov_len = sizeof(buf);
		remote.iov_base = p;
		remote.iov_len = sizeof(buf);
		VMP_CHILD_CHECK(process_vm_readv(owner, &local, 1, &remote, 1, 0) < 0 &&
				(errno == EPERM || errno == ENOSYS));
		_exit(0);
	}
	st = vmp_wait(pid);
	EXPECT_TRUE(VMP_EXITED(st, 0)) TH_LOG("nobody child status %#x", st);
	EXPECT_EQ(-1, vmp_check(p, 0, 16, 0x5ec2e7));
	close(sv[0]);
	close(sv[1]);
	munmap(p, 16 * PG);
	close(fd);
	EXPECT_EQ(0, vmp_unload_wait(3000));
}

/*
 * Every privileged operation is refused without its capability and
 * changes nothing: RESET_STATS, SWAP_ADD and SRV_ATTACH without
 * CAP_SYS_ADMIN (EPERM), unloading without CAP_SYS_MODULE (EPERM). With the
 * capability RESET_STATS works (the test can tell the difference).
 */
TEST(privileged_ops_need_the_capability)
{
	struct vmpager_global_info a, b;
	pid_t pid;
	int fd, st;

	ASSERT_EQ(0, vmp_load("pool_pages=256"));
	fd = vmp_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vmp_global_fd(fd, &a));
	ASSERT_LT(0ULL, ST(a, objects_created));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char sw[256];
		int sfd;

		VMP_CHILD_CHECK(vmp_drop_cap(CAP_SYS_ADMIN) == 0);
		VMP_CHILD_CHECK(vmp_drop_cap(CAP_SYS_MODULE) == 0);
		VMP_CHILD_CHECK(ioctl(fd, VMPAGER_IOC_RESET_STATS) < 0 && errno == EPERM);
#ifdef VMPAGER_IOC_SWAP_ADD
		snprintf(sw, sizeof(sw), "%s/vmp-isolation-add.swap", vmp_swap_dir());
		unlink(sw);
		sfd = open(sw, O_RDWR | O_CREAT | O_EXCL, 0600);
		VMP_CHILD_CHECK(sfd >= 0);
		{
			struct vmpager_swap_add add = { .fd = sfd, .pages = 64 };

			VMP_CHILD_CHECK(ioctl(fd, VMPAGER_IOC_SWAP_ADD, &add) < 0 && errno == EPERM);
		}
		close(sfd);
		unlink(sw);
#else
		(void)sw;
		(void)sfd;
#endif
#ifdef VMPAGER_IOC_SRV_ATTACH
		{
			static char bufs[4096] __attribute__((aligned(4096)));
			struct vmpager_srv_desc desc;
			struct vmpager_srv_attach at = {
				.bufs = (uintptr_t)bufs, .descs = (uintptr_t)&desc,
				.nslots = 64, .depth = 1,
			};
			int sfd2 = vmp_open();

			mlockall(MCL_CURRENT | MCL_FUTURE);
			VMP_CHILD_CHECK(ioctl(sfd2, VMPAGER_IOC_SRV_ATTACH, &at) < 0 &&
					errno == EPERM);
			close(sfd2);
		}
#endif
		VMP_CHILD_CHECK(syscall(SYS_delete_module, "vmpager", O_NONBLOCK) < 0 &&
				errno == EPERM);
		_exit(0);
	}
	st = vmp_wait(pid);
	EXPECT_TRUE(VMP_EXITED(st, 0)) TH_LOG("child status %#x", st);
	ASSERT_TRUE(vmp_loaded());
	ASSERT_EQ(0, vmp_global_fd(fd, &b));
	/* nothing was reset, no swap was added */
	EXPECT_LE(ST(a, objects_created), ST(b, objects_created));
	EXPECT_TRUE(vmp_server_state_is("none") || !vmp_server_state_is("online"));
	/* with the capability it works */
	EXPECT_EQ(0, ioctl(fd, VMPAGER_IOC_RESET_STATS));
	ASSERT_EQ(0, vmp_global_fd(fd, &b));
	EXPECT_EQ(0ULL, (unsigned long long)ST(b, objects_created));
	close(fd);
	EXPECT_EQ(0, vmp_unload_wait(3000));
}

/* Every debugfs file and module parameter: root's, no access for others. */
TEST(debugfs_and_params_root_only)
{
	char path[512];
	struct dirent *de;
	struct stat st;
	unsigned int nfiles = 0, nparams = 0;
	pid_t pid;
	DIR *d;
	int s;

	if (!vmp_debugfs_mounted())
		SKIP(return, "debugfs not mounted");
	ASSERT_EQ(0, vmp_load("pool_pages=256"));
	ASSERT_EQ(0, stat(VMP_DEBUGFS_ROOT, &st));
	EXPECT_EQ(0U, st.st_mode & 0077) TH_LOG("debugfs mount mode %o", st.st_mode & 07777);
	ASSERT_EQ(0, stat(VMP_DEBUGFS, &st));
	EXPECT_EQ(0U, st.st_uid);
	/* debugfs_create_dir() makes it 0755: the 0700 mount keeps others out */
	EXPECT_EQ(0U, st.st_mode & 0022) TH_LOG("vmpager dir mode %o", st.st_mode & 07777);
	d = opendir(VMP_DEBUGFS);
	ASSERT_NE(NULL, d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), VMP_DEBUGFS "/%s", de->d_name);
		ASSERT_EQ(0, stat(path, &st));
		EXPECT_EQ(0U, st.st_uid) TH_LOG("%s owner %u", path, st.st_uid);
		if (S_ISDIR(st.st_mode)) {
			/* fault_*: the kernel's fault-injection attributes */
			struct dirent *fe;
			char fpath[768];
			DIR *fd;

			EXPECT_EQ(0U, st.st_mode & 0022) TH_LOG("%s mode %o", path, st.st_mode & 07777);
			fd = opendir(path);
			ASSERT_NE(NULL, fd);
			while ((fe = readdir(fd))) {
				if (fe->d_name[0] == '.')
					continue;
				snprintf(fpath, sizeof(fpath), "%s/%s", path, fe->d_name);
				ASSERT_EQ(0, stat(fpath, &st));
				EXPECT_EQ(0U, st.st_mode & 0077)
					TH_LOG("%s mode %o", fpath, st.st_mode & 07777);
				nfiles++;
			}
			closedir(fd);
			continue;
		}
		EXPECT_EQ(0U, st.st_mode & 0077) TH_LOG("%s mode %o", path, st.st_mode & 07777);
		nfiles++;
	}
	closedir(d);
	EXPECT_LT(10U, nfiles);
	d = opendir(VMP_PARAMS);
	ASSERT_NE(NULL, d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), VMP_PARAMS "/%s", de->d_name);
		ASSERT_EQ(0, stat(path, &st));
		EXPECT_EQ(0U, st.st_mode & 0022) TH_LOG("%s mode %o", path, st.st_mode & 07777);
		nparams++;
	}
	closedir(d);
	EXPECT_LE(5U, nparams);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		VMP_CHILD_CHECK(become_nobody() == 0);
		d = opendir(VMP_DEBUGFS);
		VMP_CHILD_CHECK(!d && errno == EACCES);
		for (const char *const *f = (const char *const[]){ "stats", "frames", "policy",
			"watermarks", "readahead", "ra_adaptive", "fail_reads", "fail_writes", "fail_allocs",
			"rmap", "swap", "soft_unmap", "ref_source", "harvest_batch", "harvest_flush",
			NULL }; *f; f++) {
			snprintf(path, sizeof(path), VMP_DEBUGFS "/%s", *f);
			VMP_CHILD_CHECK(open(path, O_RDONLY) < 0 && errno == EACCES);
			VMP_CHILD_CHECK(open(path, O_WRONLY) < 0 && errno == EACCES);
		}
		d = opendir(VMP_PARAMS);
		VMP_CHILD_CHECK(d != NULL);
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), VMP_PARAMS "/%s", de->d_name);
			VMP_CHILD_CHECK(open(path, O_WRONLY) < 0 && errno == EACCES);
		}
		_exit(0);
	}
	s = vmp_wait(pid);
	EXPECT_TRUE(VMP_EXITED(s, 0)) TH_LOG("nobody child status %#x", s);
	TH_LOG("%u debugfs files, %u parameters checked", nfiles, nparams);
	EXPECT_EQ(0, vmp_unload_wait(3000));
}

/* SWAP_ADD of a 0644 file: EACCES (a no-op where the ioctl does not exist). */
static void swap_add_loose_refused(struct __test_metadata *_metadata)
{
#ifdef VMPAGER_IOC_SWAP_ADD
	char add_path[300];
	struct vmpager_swap_add add = { .pages = 64 };
	int dfd = vmp_open();

	ASSERT_LE(0, dfd);
	snprintf(add_path, sizeof(add_path), "%s.add", swapf);
	unlink(add_path);
	add.fd = open(add_path, O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, add.fd);
	ASSERT_EQ(0, fchmod(add.fd, 0644));
	EXPECT_NE(0, ioctl(dfd, VMPAGER_IOC_SWAP_ADD, &add));
	EXPECT_EQ(EACCES, errno);
	close(add.fd);
	unlink(add_path);
	close(dfd);
#else
	(void)_metadata;
#endif
}

/*
 * Swap files others could read are refused (EACCES) at load and by
 * SWAP_ADD, and left untouched; a missing file is created 0600.
 */
TEST(swapfile_loose_modes_refused)
{
	static const mode_t loose[] = { 0644, 0640, 0604, 0660, 0606, 0666, 0610, 0601 };
	char params[384];
	struct stat st;
	unsigned int i;
	int fd, r;

	snprintf(swapf, sizeof(swapf), "%s/vmp-isolation.swap", vmp_swap_dir());
	for (i = 0; i < sizeof(loose) / sizeof(loose[0]); i++) {
		unlink(swapf);
		fd = open(swapf, O_RDWR | O_CREAT | O_EXCL, 0600);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, fchmod(fd, loose[i]));
		close(fd);
		snprintf(params, sizeof(params), "pool_pages=%d swapfile=%s swap_pages=64", POOL,
			 swapf);
		r = vmp_load(params);
		EXPECT_EQ(-EACCES, r) TH_LOG("mode %o: load gave %s", loose[i], strerror(-r));
		if (!r)
			vmp_unload_wait(3000);
		ASSERT_EQ(0, stat(swapf, &st));
		EXPECT_EQ(0, st.st_size) TH_LOG("mode %o: the refused file was written", loose[i]);
	}
	/* a missing file is created 0600 and preallocated */
	unlink(swapf);
	ASSERT_EQ(0, load_swap(64));
	ASSERT_EQ(0, stat(swapf, &st));
	EXPECT_EQ(0600U, st.st_mode & 07777);
	EXPECT_EQ((off_t)(64 * PG), st.st_size);
	swap_add_loose_refused(_metadata);
	EXPECT_EQ(0, vmp_unload_wait(3000));
	unlink(swapf);
}

TEST_HARNESS_MAIN
