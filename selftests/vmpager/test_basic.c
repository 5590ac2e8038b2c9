// Proves: vmpager.ko loads/unloads with its parameters, exposes a root-only 0600 char device and a debugfs dir, answers the version ioctl, rejects bad ioctls and bad mmaps, and only ever hands out zero-filled pages (never a freed object's data).
// SPDX-License-Identifier: GPL-2.0
#include <sys/sysmacros.h>
#include "vmp_test.h"

#define POOL	512
#define MAXOBJ	1024

TEST(load_unload_params)
{
	struct vmpager_global_info gi;
	struct stat st;
	int fd, i, r;

	r = vmp_load("pool_pages=512");
	ASSERT_EQ(0, r) TH_LOG("load %s: %s", vmp_ko(), strerror(-r));
	ASSERT_TRUE(vmp_loaded());
	EXPECT_EQ(512, vmp_param("pool_pages"));
	EXPECT_EQ(262144, vmp_param("max_obj_pages"));

	/* pool_pages is read-only after load, even for root. */
	ASSERT_EQ(0, stat(VMP_PARAMS "/pool_pages", &st));
	EXPECT_EQ(0U, st.st_mode & 0222);
	fd = open(VMP_PARAMS "/pool_pages", O_WRONLY);
	EXPECT_EQ(-1, fd);
	if (fd >= 0)
		close(fd);
	/* max_obj_pages is root-writable. */
	ASSERT_EQ(0, stat(VMP_PARAMS "/max_obj_pages", &st));
	EXPECT_NE(0U, st.st_mode & 0200);

	ASSERT_EQ(0, vmp_global(&gi));
	EXPECT_EQ(512ULL, gi.pool_pages);
	EXPECT_EQ(512ULL, gi.free_pages);
	EXPECT_EQ(0ULL, gi.resident_pages);
	EXPECT_EQ(262144ULL, gi.max_obj_pages);
	EXPECT_EQ(1ULL, gi.nr_objects);	/* the query's own object */

	ASSERT_EQ(0, vmp_unload());
	EXPECT_FALSE(vmp_loaded());
	EXPECT_NE(0, access(VMPAGER_DEVICE, F_OK));
	EXPECT_EQ(-ENOENT, vmp_unload());

	/* Defaults. */
	ASSERT_EQ(0, vmp_load(""));
	EXPECT_EQ(4096, vmp_param("pool_pages"));
	EXPECT_EQ(262144, vmp_param("max_obj_pages"));
	ASSERT_EQ(0, vmp_global(&gi));
	EXPECT_EQ(4096ULL, gi.pool_pages);
	EXPECT_EQ(4096ULL, gi.free_pages);
	ASSERT_EQ(0, vmp_unload());

	/* Repeated cycles with pages in use in between. */
	for (i = 0; i < 3; i++) {
		char *p;

		ASSERT_EQ(0, vmp_load("pool_pages=64 max_obj_pages=64"));
		fd = vmp_open();
		ASSERT_LE(0, fd);
		p = vmp_map(fd, 0, 8, MAP_SHARED);
		ASSERT_NE(MAP_FAILED, p);
		vmp_fill(p, 0, 8, 0x1000 + i);
		EXPECT_EQ(-1, vmp_check(p, 0, 8, 0x1000 + i));
		ASSERT_EQ(0, vmp_global_fd(fd, &gi));
		EXPECT_EQ(56ULL, gi.free_pages);
		munmap(p, 8 * PG);
		close(fd);
		ASSERT_EQ(0, vmp_unload()) TH_LOG("cycle %d", i);
	}
}

/* /sys/module/vmpager/parameters/@name, without its newline (malloc'd). */
static char *param_str(const char *name)
{
	char path[256], *s, *nl;

	snprintf(path, sizeof(path), VMP_PARAMS "/%s", name);
	s = vmp_read_file(path);
	if (s) {
		nl = strchr(s, '\n');
		if (nl)
			*nl = '\0';
	}
	return s;
}

static int param_write(const char *name, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), VMP_PARAMS "/%s", name);
	return vmp_write_file(path, val);
}

/* Does debugfs file @name read @want (with its newline), or is it unmounted? */
static bool dfs_agrees(const char *name, const char *want)
{
	char path[256], *s;
	bool ok;

	if (!vmp_debugfs_mounted())
		return true;
	snprintf(path, sizeof(path), VMP_DEBUGFS "/%s", name);
	s = vmp_read_file(path);
	ok = s && strstr(s, want);
	free(s);
	return ok;
}

#define EXPECT_PARAM(name, want) do {					\
	char *__s = param_str(name);					\
	EXPECT_STREQ(want, __s ? __s : "(unreadable)");			\
	free(__s);							\
} while (0)

/*
 * The stable settings are module parameters (issue 19): given at load,
 * writable at run time without debugfs, each read back as the module acts
 * now, checked whole (a bad value changes nothing), and the same as the
 * debugfs file of the same name, whichever of the two was written.
 */
TEST(settings_are_module_parameters)
{
	struct stat st;
	int r;

	r = vmp_load("pool_pages=512 policy=lirs watermarks=\"4 8 16\" readahead=3 ra_adaptive=0 ra_async=0 ref_source=faults harvest_batch=7");
	ASSERT_EQ(0, r) TH_LOG("load: %s", strerror(-r));
	EXPECT_PARAM("policy", "fifo clock lru lru2 arc [lirs] sieve s3fifo adaptive clockpro");
	EXPECT_PARAM("watermarks", "4 8 16");
	EXPECT_PARAM("readahead", "3");
	EXPECT_PARAM("ra_adaptive", "0");
	EXPECT_PARAM("ra_async", "0");
	EXPECT_PARAM("ref_source", "[faults] soft-unmap accessed both");
	EXPECT_PARAM("harvest_batch", "7");
	EXPECT_TRUE(dfs_agrees("policy", "[lirs]"));
	EXPECT_TRUE(dfs_agrees("watermarks", "\n4 8 16\n"));
	EXPECT_TRUE(dfs_agrees("readahead", "3\n"));
	ASSERT_EQ(0, stat(VMP_PARAMS "/policy", &st));
	EXPECT_EQ(0644U, st.st_mode & 0777);

	/* written at run time: the module and debugfs follow */
	EXPECT_EQ(0, param_write("policy", "arc\n"));
	EXPECT_PARAM("policy", "fifo clock lru lru2 [arc] lirs sieve s3fifo adaptive clockpro");
	EXPECT_TRUE(dfs_agrees("policy", "[arc]"));
	EXPECT_EQ(0, param_write("watermarks", "8 16 32"));
	EXPECT_PARAM("watermarks", "8 16 32");
	EXPECT_TRUE(dfs_agrees("watermarks", "\n8 16 32\n"));
	EXPECT_EQ(0, param_write("readahead", "16"));
	EXPECT_PARAM("readahead", "16");
	EXPECT_EQ(0, param_write("ra_adaptive", "1"));
	EXPECT_PARAM("ra_adaptive", "1");
	EXPECT_TRUE(dfs_agrees("ra_adaptive", "1\n"));
	EXPECT_EQ(0, param_write("ra_async", "1"));
	EXPECT_PARAM("ra_async", "1");
	EXPECT_TRUE(dfs_agrees("ra_async", "1\n"));
	EXPECT_EQ(0, param_write("ref_source", "both"));
	EXPECT_PARAM("ref_source", "faults soft-unmap accessed [both]");
	EXPECT_TRUE(dfs_agrees("soft_unmap", "1\n"));
	EXPECT_EQ(0, param_write("harvest_batch", "1024"));
	EXPECT_PARAM("harvest_batch", "1024");

	/* a switch through debugfs shows in the parameter (it stays truthful) */
	if (vmp_debugfs_mounted()) {
		EXPECT_EQ(0, vmp_write_file(VMP_DEBUGFS "/policy", "lru\n"));
		EXPECT_PARAM("policy", "fifo clock [lru] lru2 arc lirs sieve s3fifo adaptive clockpro");
		EXPECT_EQ(0, vmp_write_file(VMP_DEBUGFS "/watermarks", "0 0 0\n"));
		EXPECT_PARAM("watermarks", "0 0 0");
		EXPECT_EQ(0, param_write("watermarks", "8 16 32"));
	}

	/* bad values: EINVAL, nothing changed */
	EXPECT_EQ(-EINVAL, param_write("policy", "bogus"));
	EXPECT_EQ(-EINVAL, param_write("policy", "lirs lru"));
	EXPECT_EQ(-EINVAL, param_write("watermarks", "16 8 4"));
	EXPECT_EQ(-EINVAL, param_write("watermarks", "4 8 300"));	/* > 512 / 2 */
	EXPECT_EQ(-EINVAL, param_write("watermarks", "4 8"));
	EXPECT_EQ(-EINVAL, param_write("watermarks", "4 8 16 32"));
	EXPECT_EQ(-EINVAL, param_write("readahead", "17"));
	EXPECT_EQ(-EINVAL, param_write("readahead", "-1"));
	EXPECT_EQ(-EINVAL, param_write("ra_adaptive", "2"));
	EXPECT_EQ(-EINVAL, param_write("ra_async", "2"));
	EXPECT_EQ(-EINVAL, param_write("ref_source", "all"));
	EXPECT_EQ(-EINVAL, param_write("harvest_batch", "1025"));
	EXPECT_PARAM("watermarks", "8 16 32");
	EXPECT_PARAM("readahead", "16");
	EXPECT_PARAM("ra_adaptive", "1");
	EXPECT_PARAM("ra_async", "1");
	EXPECT_PARAM("ref_source", "faults soft-unmap accessed [both]");
	EXPECT_PARAM("harvest_batch", "1024");
	if (vmp_debugfs_mounted())
		EXPECT_PARAM("policy", "fifo clock [lru] lru2 arc lirs sieve s3fifo adaptive clockpro");
	ASSERT_EQ(0, vmp_unload());

	/* a bad value at load fails the load, and leaves nothing behind */
	EXPECT_EQ(-EINVAL, vmp_load("pool_pages=512 policy=bogus"));
	EXPECT_FALSE(vmp_loaded());
	EXPECT_EQ(-EINVAL, vmp_load("pool_pages=512 watermarks=\"4 8 300\""));
	EXPECT_FALSE(vmp_loaded());
	EXPECT_EQ(-EINVAL, vmp_load("pool_pages=512 readahead=17"));
	EXPECT_FALSE(vmp_loaded());
	EXPECT_EQ(-EINVAL, vmp_load("pool_pages=512 ref_source=none"));
	EXPECT_FALSE(vmp_loaded());

	/* defaults */
	ASSERT_EQ(0, vmp_load("pool_pages=512"));
	EXPECT_PARAM("policy", "fifo clock lru lru2 arc lirs sieve s3fifo [adaptive] clockpro");
	EXPECT_PARAM("watermarks", "8 16 24");	/* 1/64, 2/64, 3/64, at least 4, 8, 16 */
	EXPECT_PARAM("readahead", "8");
	EXPECT_PARAM("ra_adaptive", "1");
	EXPECT_PARAM("ra_async", "1");
	EXPECT_PARAM("ref_source", "faults soft-unmap [accessed] both");
	EXPECT_PARAM("harvest_batch", "128");
	ASSERT_EQ(0, vmp_unload());
}

/* Run this program again in a session of its own, without VMP_TAKE_MODULE. */
static int run_self_alone(const char *tests, char *out, size_t size)
{
	char *const argv[] = { "/proc/self/exe", NULL };
	char want[128];
	const char *const env[] = { "VMP_TAKE_MODULE", want, NULL };

	snprintf(want, sizeof(want), "VMP_TESTS=%s", tests);
	return vmp_run_output(argv, true, env, out, size);
}

/*
 * A vmpager loaded by someone else (not by a vmp_load() of this session)
 * is left alone: a test program started without VMP_TAKE_MODULE skips
 * whole (exit 4), saying why, and the module stays loaded as it was.
 */
TEST(foreign_module_is_left_alone)
{
	char out[4096];
	int fd, r;

	if (vmp_loaded())
		ASSERT_EQ(0, vmp_unload_wait(2000));
	fd = open(vmp_ko(), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	/* loaded as someone else would: no owner record */
	ASSERT_EQ(0, syscall(SYS_finit_module, fd, "pool_pages=64", 0));
	close(fd);
	unlink(vmp_owner_path());
	r = run_self_alone("load_unload_params", out, sizeof(out));
	EXPECT_EQ(4, r) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "1..0 # SKIP vmpager is loaded, not by these tests")) TH_LOG("%s", out);
	EXPECT_TRUE(vmp_loaded());
	EXPECT_EQ(64, vmp_param("pool_pages"));	/* not reloaded either */
	/* an owner record of another process group is someone else's too */
	fd = open(vmp_owner_path(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(2, write(fd, "1\n", 2));	/* group 1: init's, never ours */
	close(fd);
	r = run_self_alone("load_unload_params", out, sizeof(out));
	EXPECT_EQ(4, r) TH_LOG("%s", out);
	EXPECT_TRUE(vmp_loaded());
	EXPECT_EQ(0, vmp_unload_wait(2000));	/* VMP_TAKE_MODULE=1 here */
	/* with no module loaded the same program runs its test */
	r = run_self_alone("load_unload_params", out, sizeof(out));
	EXPECT_EQ(0, r) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "ok 1 global.load_unload_params")) TH_LOG("%s", out);
	EXPECT_FALSE(vmp_loaded());
}

VMP_FIXTURE(basic, "pool_pages=512 max_obj_pages=1024")

TEST_F(basic, device_node)
{
	unsigned int maj = ~0u, mnr = ~0u;
	struct stat st;
	char *dev;
	pid_t pid;
	int status;

	ASSERT_EQ(0, stat(VMPAGER_DEVICE, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600U, st.st_mode & 07777);
	EXPECT_EQ(0U, st.st_uid);
	dev = vmp_read_file("/sys/class/misc/vmpager/dev");
	ASSERT_NE(NULL, dev) TH_LOG("not a misc device named vmpager?");
	ASSERT_EQ(2, sscanf(dev, "%u:%u", &maj, &mnr));
	free(dev);
	EXPECT_EQ(maj, major(st.st_rdev));
	EXPECT_EQ(mnr, minor(st.st_rdev));

	/* An unprivileged user cannot open it. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		VMP_CHILD_CHECK(setresgid(65534, 65534, 65534) == 0);
		VMP_CHILD_CHECK(setresuid(65534, 65534, 65534) == 0);
		VMP_CHILD_CHECK(vmp_open() == -1 && errno == EACCES);
		_exit(0);
	}
	status = vmp_wait(pid);
	EXPECT_TRUE(VMP_EXITED(status, 0));
}

TEST_F(basic, debugfs_dir_lifetime)
{
	struct stat st;

	if (!vmp_debugfs_mounted())
		SKIP(return, "debugfs not mounted at " VMP_DEBUGFS_ROOT);
	ASSERT_EQ(0, stat(VMP_DEBUGFS, &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_EQ(0, access(VMP_DEBUGFS "/stats", R_OK));
	ASSERT_EQ(0, vmp_unload());
	EXPECT_NE(0, access(VMP_DEBUGFS, F_OK));
	EXPECT_EQ(ENOENT, errno);
	/* And it comes back with the next load. */
	ASSERT_EQ(0, vmp_load("pool_pages=512"));
	EXPECT_EQ(0, access(VMP_DEBUGFS "/stats", R_OK));
}

TEST_F(basic, version_ioctl)
{
	struct vmpager_version v;
	int fd = vmp_open(), fd2 = vmp_open();

	ASSERT_LE(0, fd);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, vmp_version(fd, &v));
	EXPECT_EQ((__u32)VMPAGER_VERSION_MAJOR, v.major);
	EXPECT_LE((__u32)VMPAGER_VERSION_MINOR, v.minor);
	EXPECT_EQ((__u32)sysconf(_SC_PAGESIZE), v.page_size);
	EXPECT_EQ((__u32)PG, v.page_size);
	EXPECT_EQ((__u32)VMPAGER_MAX_ORDER, v.max_order);
	memset(&v, 0xff, sizeof(v));
	ASSERT_EQ(0, vmp_version(fd2, &v));
	EXPECT_EQ((__u32)VMPAGER_VERSION_MAJOR, v.major);
	close(fd);
	close(fd2);
}

TEST_F(basic, bad_ioctls)
{
	struct vmpager_version v;
	char *guard, *ro;
	int fd = vmp_open();

	ASSERT_LE(0, fd);
	/* Unknown numbers. */
	EXPECT_EQ(-1, ioctl(fd, _IO(VMPAGER_IOC_MAGIC, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, _IOR(VMPAGER_IOC_MAGIC, 0x40, struct vmpager_version), &v));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, _IOR('x', 0x00, struct vmpager_version), &v));
	EXPECT_EQ(ENOTTY, errno);
	/* ABI 1.x's magic (0xB6, fpga-dfl's): every request of a 1.x program */
	EXPECT_EQ(0xB9, VMPAGER_IOC_MAGIC);
	EXPECT_EQ(2, VMPAGER_VERSION_MAJOR);
	EXPECT_EQ(-1, ioctl(fd, _IOR(0xB6, 0x00, struct vmpager_version), &v));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, _IOW(VMPAGER_IOC_MAGIC, 0x00, struct vmpager_version), &v));
	EXPECT_EQ(ENOTTY, errno);

	/* Bad user pointers. */
	EXPECT_EQ(-1, ioctl(fd, VMPAGER_IOC_VERSION, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, VMPAGER_IOC_OBJ_INFO, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, VMPAGER_IOC_GLOBAL_INFO, (void *)-4096L));
	EXPECT_EQ(EFAULT, errno);

	/* A buffer whose tail runs into a PROT_NONE page. */
	guard = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, guard);
	ASSERT_EQ(0, mprotect(guard + PG, PG, PROT_NONE));
	EXPECT_EQ(-1, ioctl(fd, VMPAGER_IOC_GLOBAL_INFO, guard + PG - 64));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, VMPAGER_IOC_OBJ_INFO, guard + PG - 16));
	EXPECT_EQ(EFAULT, errno);
	/* Read-only memory: the kernel must not be able to write it. */
	ro = guard;
	ASSERT_EQ(0, mprotect(ro, PG, PROT_READ));
	EXPECT_EQ(-1, ioctl(fd, VMPAGER_IOC_VERSION, ro));
	EXPECT_EQ(EFAULT, errno);
	munmap(guard, 2 * PG);

	/* The fd still works. */
	EXPECT_EQ(0, vmp_version(fd, &v));
	close(fd);
}

TEST_F(basic, reset_stats)
{
	struct vmpager_global_info gi;
	unsigned int i;
	pid_t pid;
	char *p;
	int fd = vmp_open(), status;

	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, 4, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, 4, 0x77);
	ASSERT_EQ(0, vmp_global_fd(fd, &gi));
	EXPECT_GE(gi.nr_stats, (__u32)VMPAGER_NR_STATS);
	EXPECT_LE(gi.nr_stats, (__u32)VMPAGER_STATS_MAX);
	EXPECT_LE(4ULL, ST(gi, faults));
	EXPECT_LE(4ULL, ST(gi, faults_zero));
	EXPECT_LE(1ULL, ST(gi, objects_created));

	/* Without CAP_SYS_ADMIN: EPERM, counters untouched. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		VMP_CHILD_CHECK(vmp_drop_cap(CAP_SYS_ADMIN) == 0);
		VMP_CHILD_CHECK(ioctl(fd, VMPAGER_IOC_RESET_STATS) == -1);
		VMP_CHILD_CHECK(errno == EPERM);
		_exit(0);
	}
	status = vmp_wait(pid);
	EXPECT_TRUE(VMP_EXITED(status, 0));
	ASSERT_EQ(0, vmp_global_fd(fd, &gi));
	EXPECT_LE(4ULL, ST(gi, faults_zero));

	/* As root: every counter reads 0, gauges unchanged. */
	ASSERT_EQ(0, ioctl(fd, VMPAGER_IOC_RESET_STATS));
	ASSERT_EQ(0, vmp_global_fd(fd, &gi));
	for (i = 0; i < gi.nr_stats && i < VMPAGER_STATS_MAX; i++) {
		EXPECT_EQ(0ULL, gi.stats[i]) TH_LOG("counter %u (%s)", i,
						   vmp_stat_name(i) ?: "?");
	}
	EXPECT_EQ(4ULL, gi.resident_pages);
	EXPECT_EQ((__u64)POOL - 4, gi.free_pages);
	EXPECT_EQ(1ULL, gi.nr_objects);
	EXPECT_EQ(-1, vmp_check(p, 0, 4, 0x77));
	munmap(p, 4 * PG);
	close(fd);
}

TEST_F(basic, bad_mmap)
{
	struct vmpager_obj_info oi;
	void *p;
	int fd = vmp_open();

	ASSERT_LE(0, fd);
	/* Length 0. */
	p = mmap(NULL, 0, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* Unaligned offset, straight to the kernel. */
	p = (void *)syscall(SYS_mmap, NULL, PG, PROT_READ | PROT_WRITE,
			    MAP_SHARED, fd, 100L);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* Beyond max_obj_pages. */
	p = vmp_map(fd, MAXOBJ, 1, MAP_SHARED);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EFBIG, errno);
	p = vmp_map(fd, 0, MAXOBJ + 1, MAP_SHARED);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EFBIG, errno);
	p = vmp_map(fd, MAXOBJ - 8, 9, MAP_PRIVATE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EFBIG, errno);
	p = vmp_map(fd, 1ULL << 36, 1, MAP_SHARED);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EFBIG, errno);
	/* The failures did not grow the object. */
	ASSERT_EQ(0, vmp_obj(fd, &oi));
	EXPECT_EQ(0ULL, oi.size);
	EXPECT_EQ(0ULL, oi.mappers);
	EXPECT_EQ((__u64)MAXOBJ, oi.max_size);
	/* Exactly up to the limit is fine. */
	p = vmp_map(fd, MAXOBJ - 1, 1, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, vmp_try_write(p, 42, NULL));
	ASSERT_EQ(0, vmp_obj(fd, &oi));
	EXPECT_EQ((__u64)MAXOBJ, oi.size);
	EXPECT_EQ(1ULL, oi.resident);
	munmap(p, PG);
	close(fd);
}

TEST_F(basic, obj_size_grows)
{
	struct vmpager_obj_info oi, oi2;
	char *a, *b;
	int fd = vmp_open(), fd2 = vmp_open();

	ASSERT_LE(0, fd);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, vmp_obj(fd, &oi));
	ASSERT_EQ(0, vmp_obj(fd2, &oi2));
	EXPECT_NE(oi.id, oi2.id);	/* each open is a new object */
	EXPECT_EQ(0ULL, oi.size);
	EXPECT_EQ(0ULL, oi.resident);
	a = vmp_map(fd, 10, 2, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_EQ(0, vmp_obj(fd, &oi));
	EXPECT_EQ(12ULL, oi.size);
	EXPECT_EQ(0ULL, oi.resident);	/* mmap alone allocates nothing */
	b = vmp_map(fd, 0, 1, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, b);
	ASSERT_EQ(0, vmp_obj(fd, &oi));
	EXPECT_EQ(12ULL, oi.size);
	ASSERT_EQ(0, vmp_obj(fd2, &oi2));
	EXPECT_EQ(0ULL, oi2.size);	/* other object unaffected */
	munmap(a, 2 * PG);
	munmap(b, PG);
	close(fd);
	close(fd2);
}

TEST_F(basic, zero_fill)
{
	struct vmpager_global_info g0, g1;
	struct vmpager_obj_info oi;
	const size_t n = 64;
	char *s, *pv;
	int fd = vmp_open();

	ASSERT_LE(0, fd);
	s = vmp_map(fd, 0, n, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	ASSERT_EQ(0, vmp_global_fd(fd, &g0));
	EXPECT_EQ(-1, vmp_check_zero(s, n));
	ASSERT_EQ(0, vmp_global_fd(fd, &g1));
	EXPECT_EQ((__u64)n, DST(g0, g1, faults_zero));
	EXPECT_EQ((__u64)n, DST(g0, g1, faults));
	EXPECT_EQ(0ULL, DST(g0, g1, faults_minor));
	EXPECT_EQ((__u64)n, DST(g0, g1, alloc_ok));
	EXPECT_EQ(g0.resident_pages + n, g1.resident_pages);
	EXPECT_EQ(g0.free_pages - n, g1.free_pages);
	ASSERT_EQ(0, vmp_obj(fd, &oi));
	EXPECT_EQ((__u64)n, oi.resident);
	EXPECT_EQ((__u64)n, oi.faults);

	/* Writing the now-resident pages allocates nothing more. */
	vmp_fill(s, 0, n, 0x5eed);
	EXPECT_EQ(-1, vmp_check(s, 0, n, 0x5eed));
	ASSERT_EQ(0, vmp_global_fd(fd, &g0));
	EXPECT_EQ(0ULL, DST(g1, g0, faults_zero));
	EXPECT_EQ(0ULL, DST(g1, g0, alloc_ok));

	/* A private mapping of untouched pages reads zeros too. */
	pv = vmp_map(fd, n, n, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, pv);
	EXPECT_EQ(-1, vmp_check_zero(pv, n));
	munmap(pv, n * PG);
	munmap(s, n * PG);
	close(fd);
}

/* Fill the whole pool through one object, free it, then read it all back
 * through a new object: every byte must be zero. */
TEST_F(basic, no_stale_data)
{
	struct vmpager_global_info gi;
	struct vmpager_obj_info oi;
	long long zero0;
	int round, fd;
	char *p;

	for (round = 0; round < 2; round++) {
		fd = vmp_open();
		ASSERT_LE(0, fd);
		p = vmp_map(fd, 0, POOL, MAP_SHARED);
		ASSERT_NE(MAP_FAILED, p);
		vmp_fill(p, 0, POOL, 0xdead0 + round);
		EXPECT_EQ(-1, vmp_check(p, 0, POOL, 0xdead0 + round));
		ASSERT_EQ(0, vmp_global_fd(fd, &gi));
		EXPECT_EQ(0ULL, gi.free_pages);
		ASSERT_EQ(0, vmp_obj(fd, &oi));
		EXPECT_EQ((__u64)POOL, oi.resident);
		munmap(p, POOL * PG);
		close(fd);

		ASSERT_EQ(0, vmp_global(&gi));
		EXPECT_EQ((__u64)POOL, gi.free_pages);
		EXPECT_EQ(0ULL, gi.resident_pages);

		fd = vmp_open();
		ASSERT_LE(0, fd);
		/* Round 0 reads through MAP_SHARED, round 1 through MAP_PRIVATE. */
		p = vmp_map(fd, 0, POOL, round ? MAP_PRIVATE : MAP_SHARED);
		ASSERT_NE(MAP_FAILED, p);
		zero0 = vmp_stat("faults_zero");
		EXPECT_EQ(-1, vmp_check_zero(p, POOL)) TH_LOG("round %d", round);
		/*
		 * Every page was zero-filled from a frame; reclaim may have
		 * dropped some of these clean pages again, so count the
		 * zero-fills rather than the resident pages.
		 */
		EXPECT_EQ((long long)POOL, vmp_stat("faults_zero") - zero0);
		ASSERT_EQ(0, vmp_obj(fd, &oi));
		EXPECT_GE((__u64)POOL, oi.resident);
		munmap(p, POOL * PG);
		close(fd);
	}
}

TEST_HARNESS_MAIN
