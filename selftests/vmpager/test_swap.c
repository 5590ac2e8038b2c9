// SPDX-License-Identifier: GPL-2.0
/* Proves data survives overcommit through reclaim and swap under every policy, and each swap error path. */
#include "vmp_test.h"

#define POOL	256
#define NPG	(3 * POOL)	/* 3x the pool: overcommitted, and short enough for make check */
#define DFS	"/sys/kernel/debug/vmpager"

/* The in-kernel swap file: on the O_DIRECT disk, or tmpfs (buffered). */
static char swapf[256];

static const char *swap_path(bool tmpfs)
{
	snprintf(swapf, sizeof(swapf), "%s/vmp-test.swap",
		 tmpfs ? "/tmp" : vmp_swap_dir());
	return swapf;
}

/* "key value" line of a debugfs file, or -1. */
static long long dfs_value(const char *file, const char *key)
{
	char path[128], *buf, *line, *save = NULL;
	long long v = -1;
	size_t kl = strlen(key);

	snprintf(path, sizeof(path), DFS "/%s", file);
	buf = vmp_read_file(path);
	if (!buf)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, key, kl) && line[kl] == ' ')
			v = atoll(line + kl + 1);
	free(buf);
	return v;
}

static int load_with_swap(const char *policy, unsigned int swap_pages)
{
	char params[512];

	unlink(swapf);
	snprintf(params, sizeof(params),
		 "pool_pages=%d swapfile=%s swap_pages=%u policy=%s", POOL,
		 swapf, swap_pages, policy);
	return vmp_load(params);
}

/* After every object is gone: no slot in use, every frame free, unload. */
static void expect_clean_unload(struct __test_metadata *_metadata)
{
	struct vmpager_global_info gi;

	EXPECT_EQ(0, dfs_value("swap", "used"));
	ASSERT_EQ(0, vmp_global(&gi));
	EXPECT_EQ((__u64)POOL, gi.free_pages);
	EXPECT_EQ(0, vmp_unload());
	unlink(swapf);
}

FIXTURE(overcommit) {
	int fd;
	char *p;
	pid_t server;
};

/* One test body per policy and swap backend. */
enum backend { DISK, TMPFS, SERVER };

FIXTURE_VARIANT(overcommit) {
	const char *policy;
	enum backend backend;
};

FIXTURE_VARIANT_ADD(overcommit, fifo) { .policy = "fifo" };
FIXTURE_VARIANT_ADD(overcommit, clock) { .policy = "clock" };
FIXTURE_VARIANT_ADD(overcommit, lru2) { .policy = "lru2" };
FIXTURE_VARIANT_ADD(overcommit, arc) { .policy = "arc" };
FIXTURE_VARIANT_ADD(overcommit, lirs) { .policy = "lirs" };
FIXTURE_VARIANT_ADD(overcommit, lirs_tmpfs) { .policy = "lirs", .backend = TMPFS };
FIXTURE_VARIANT_ADD(overcommit, lirs_server) { .policy = "lirs", .backend = SERVER };
FIXTURE_VARIANT_ADD(overcommit, fifo_server) { .policy = "fifo", .backend = SERVER };

FIXTURE_SETUP(overcommit)
{
	char params[128];
	int r;

	self->server = 0;
	if (variant->backend == SERVER) {
		vmp_swapd_remove_files();
		snprintf(params, sizeof(params), "pool_pages=%d policy=%s", POOL,
			 variant->policy);
		r = vmp_load(params);
		ASSERT_EQ(0, r) TH_LOG("load: %s", strerror(-r));
		self->server = vmp_swapd_start(2 * NPG);
		ASSERT_LT(0, self->server) TH_LOG("the swap server did not come online");
	} else {
		swap_path(variant->backend == TMPFS);
		r = load_with_swap(variant->policy, 4 * NPG);
		ASSERT_EQ(0, r) TH_LOG("load: %s", strerror(-r));
	}
	self->fd = vmp_open();
	ASSERT_LE(0, self->fd);
	self->p = vmp_map(self->fd, 0, NPG, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, self->p);
}

FIXTURE_TEARDOWN(overcommit)
{
	munmap(self->p, NPG * PG);
	close(self->fd);
	if (self->server > 0) {
		int st = vmp_swapd_stop(self->server);

		EXPECT_TRUE(VMP_EXITED(st, 0)) TH_LOG("server status %#x", st);
		EXPECT_EQ(0ULL, (unsigned long long)vmp_stat("srv_failed"));
		EXPECT_LT(0LL, vmp_stat("srv_requests"));
	}
	expect_clean_unload(_metadata);
	vmp_swapd_remove_files();
}

/* Two processes write disjoint halves of a 4x-pool mapping, then each reads all. */
TEST_F(overcommit, shared_two_writers_fork)
{
	struct vmpager_global_info a, b;
	pid_t pid;

	ASSERT_EQ(0, vmp_global_fd(self->fd, &a));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		vmp_fill(self->p + NPG / 2 * PG, NPG / 2, NPG / 2, 0x51);
		_exit(0);
	}
	vmp_fill(self->p, 0, NPG / 2, 0x51);
	ASSERT_EQ(0, vmp_wait(pid));
	EXPECT_EQ(-1, vmp_check(self->p, 0, NPG, 0x51));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(vmp_check(self->p, 0, NPG, 0x51) == -1 ? 0 : 1);
	EXPECT_EQ(0, vmp_wait(pid));
	ASSERT_EQ(0, vmp_global_fd(self->fd, &b));
	EXPECT_LT(0ULL, DST(a, b, swap_outs));
	EXPECT_LT(0ULL, DST(a, b, faults_major));
	EXPECT_EQ(0ULL, DST(a, b, oom_sigbus));
	EXPECT_EQ(0ULL, DST(a, b, read_errors));
	EXPECT_GE((__u64)POOL, b.resident_pages);
}

/* Random rewrites with generations: the latest write of every page survives. */
TEST_F(overcommit, random_rewrites)
{
	static unsigned char gen[NPG];
	uint64_t rng = 12345;
	unsigned int i, pg;
	long bad = -1;

	memset(gen, 0, sizeof(gen));
	for (i = 0; i < 3 * NPG; i++) {
		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		pg = (rng >> 33) % NPG;
		gen[pg]++;
		vmp_fill(self->p + (size_t)pg * PG, pg, 1, 0x100 + gen[pg]);
	}
	for (pg = 0; pg < NPG && bad < 0; pg++) {
		if (gen[pg])
			bad = vmp_check(self->p + (size_t)pg * PG, pg, 1,
					0x100 + gen[pg]);
		else
			bad = vmp_check_zero(self->p + (size_t)pg * PG, 1);
		if (bad >= 0)
			TH_LOG("page %u (gen %u) bad at word %ld", pg, gen[pg], bad);
	}
	EXPECT_EQ(-1, bad);
}

/* Object contents written through MAP_SHARED read back through MAP_PRIVATE, whose writes stay private. */
TEST_F(overcommit, private_reads_swapped_object)
{
	char *q;

	vmp_fill(self->p, 0, NPG, 0x77);
	q = vmp_map(self->fd, 0, NPG, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, vmp_check(q, 0, NPG, 0x77));
	vmp_fill(q, 0, 16, 0x78);		/* COW copies, not the object */
	EXPECT_EQ(-1, vmp_check(self->p, 0, NPG, 0x77));
	EXPECT_EQ(-1, vmp_check(q, 0, 16, 0x78));
	munmap(q, NPG * PG);
}

/* Deterministic error paths: FIFO evicts in fault order. */
FIXTURE(swaperr) {
	int fd;
	char *p;
};

FIXTURE_SETUP(swaperr)
{
	int r;

	swap_path(false);
	r = load_with_swap("fifo", 4 * NPG);

	ASSERT_EQ(0, r) TH_LOG("load: %s", strerror(-r));
	self->fd = vmp_open();
	ASSERT_LE(0, self->fd);
	self->p = vmp_map(self->fd, 0, NPG, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, self->p);
}

FIXTURE_TEARDOWN(swaperr)
{
	vmp_write_file(DFS "/fail_reads", "0");
	vmp_write_file(DFS "/fail_writes", "0");
	vmp_write_file(DFS "/fail_allocs", "0");
	munmap(self->p, NPG * PG);
	close(self->fd);
	expect_clean_unload(_metadata);
}

/* Failed swap writes keep the page resident and dirty: nothing is lost. */
TEST_F(swaperr, write_errors_lose_nothing)
{
	struct vmpager_global_info a, b;

	ASSERT_EQ(0, vmp_global_fd(self->fd, &a));
	ASSERT_EQ(0, vmp_write_file(DFS "/fail_writes", "20"));
	vmp_fill(self->p, 0, NPG, 0x44);
	EXPECT_EQ(-1, vmp_check(self->p, 0, NPG, 0x44));
	ASSERT_EQ(0, vmp_global_fd(self->fd, &b));
	EXPECT_EQ(20ULL, DST(a, b, write_errors));
	EXPECT_LT(0ULL, DST(a, b, swap_outs));
}

/* A failed swap read gives SIGBUS to that access only; the next access reads it fine. */
TEST_F(swaperr, read_error_sigbus_then_retry)
{
	struct vmpager_global_info a, b;
	siginfo_t si;
	uint64_t v;
	pid_t pid;
	int st;

	vmp_fill(self->p, 0, NPG, 0x55);
	ASSERT_EQ(0, vmp_global_fd(self->fd, &a));
	ASSERT_LT(0ULL, ST(a, swap_outs));
	ASSERT_EQ(0, vmp_write_file(DFS "/fail_reads", "1"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* page 0 was evicted first (FIFO); its read is the first I/O */
		st = vmp_try_read(self->p, &v, &si);
		_exit(st == SIGBUS ? 0 : 1);
	}
	EXPECT_EQ(0, vmp_wait(pid));
	ASSERT_EQ(0, vmp_global_fd(self->fd, &b));
	EXPECT_EQ(1ULL, DST(a, b, read_errors));
	EXPECT_EQ(-1, vmp_check(self->p, 0, NPG, 0x55));
}

/*
 * FIFO: the first read pass evicts the dirty pages (written once) and reads
 * everything back clean; the second pass then evicts only clean pages with
 * valid swap copies (no writes at all) and reads ahead sequentially.
 */
TEST_F(swaperr, clean_drop_and_readahead)
{
	struct vmpager_global_info a, b;

	vmp_fill(self->p, 0, NPG, 0x33);
	EXPECT_EQ(-1, vmp_check(self->p, 0, NPG, 0x33));
	ASSERT_EQ(0, vmp_global_fd(self->fd, &a));
	EXPECT_EQ(-1, vmp_check(self->p, 0, NPG, 0x33));
	ASSERT_EQ(0, vmp_global_fd(self->fd, &b));
	EXPECT_EQ(0ULL, DST(a, b, swap_outs));	/* reads never write */
	EXPECT_LT(0ULL, DST(a, b, evict_clean));
	EXPECT_LT(0ULL, DST(a, b, readahead));
	EXPECT_LT(0ULL, DST(a, b, readahead_hits));
	EXPECT_GT(DST(a, b, swap_ins), DST(a, b, faults_major));
}

/*
 * Push every page of the fixture's object out to swap and leave the pool
 * free: fill a second object as large as the pool, then close it (FIFO
 * without soft-unmap aging evicts the oldest pages first; clean ones go
 * without I/O).
 */
static int swap_out_all(void)
{
	int fd = vmp_open();
	char *q;

	if (fd < 0)
		return -1;
	q = vmp_map(fd, 0, POOL, MAP_SHARED);
	if (q == MAP_FAILED) {
		close(fd);
		return -1;
	}
	vmp_fill(q, 0, POOL, 0x78);
	munmap(q, POOL * PG);
	close(fd);
	return 0;
}

#define RA_SPAN	64	/* pages read per pass: the pool never runs short */

/* Read pages 0..RA_SPAN-1 once each, in the order i * 23 mod RA_SPAN. */
static long read_strided(char *p)
{
	long i, idx;

	for (i = 0; i < RA_SPAN; i++) {
		idx = i * 23 % RA_SPAN;
		if (vmp_check(p + idx * PG, idx, 1, 0x77) >= 0)
			return idx;
	}
	return -1;
}

/*
 * The adaptive read-ahead window (policy/vmp_ra.h): swap-in faults that
 * are never adjacent read nothing ahead, where the fixed window reads up to
 * its maximum each time; a sequential pass is then served mostly by
 * read-ahead pages. Each pass starts with the object all in swap and the
 * pool free, so no watermark stops read-ahead.
 */
TEST_F(swaperr, adaptive_readahead_follows_the_pattern)
{
	struct vmpager_global_info a, b;
	unsigned long long fixed, majors, hits;
	char *v;

	/* on by default; a value other than 0 or 1 is refused */
	EXPECT_NE(0, vmp_write_file(DFS "/ra_adaptive", "2"));
	v = vmp_read_file(DFS "/ra_adaptive");
	ASSERT_NE(NULL, v);
	EXPECT_STREQ("1\n", v);
	free(v);
	/* strict FIFO, so that swap_out_all() evicts every page of ours */
	ASSERT_EQ(0, vmp_write_file(DFS "/ref_source", "faults"));
	vmp_fill(self->p, 0, NPG, 0x77);

	/* adaptive: every read a major fault, not one page read ahead */
	ASSERT_EQ(0, swap_out_all());
	ASSERT_EQ(0, vmp_global_fd(self->fd, &a));
	EXPECT_EQ(-1, read_strided(self->p));
	ASSERT_EQ(0, vmp_global_fd(self->fd, &b));
	EXPECT_EQ((unsigned long long)RA_SPAN, DST(a, b, faults_major));
	EXPECT_EQ(0ULL, DST(a, b, readahead));

	/* fixed: the same order reads the following pages at each fault */
	ASSERT_EQ(0, vmp_write_file(DFS "/ra_adaptive", "0"));
	ASSERT_EQ(0, swap_out_all());
	ASSERT_EQ(0, vmp_global_fd(self->fd, &a));
	EXPECT_EQ(-1, read_strided(self->p));
	ASSERT_EQ(0, vmp_global_fd(self->fd, &b));
	fixed = DST(a, b, readahead);
	EXPECT_GT((unsigned long long)RA_SPAN, DST(a, b, faults_major));
	EXPECT_LT(DST(a, b, faults_major), fixed);

	/* adaptive, a sequential pass: the window grows to 8 */
	ASSERT_EQ(0, vmp_write_file(DFS "/ra_adaptive", "1"));
	ASSERT_EQ(0, swap_out_all());
	ASSERT_EQ(0, vmp_global_fd(self->fd, &a));
	EXPECT_EQ(-1, vmp_check(self->p, 0, 3 * RA_SPAN, 0x77));
	ASSERT_EQ(0, vmp_global_fd(self->fd, &b));
	majors = DST(a, b, faults_major);
	hits = DST(a, b, readahead_hits);
	EXPECT_LT(0ULL, majors);
	EXPECT_LE(4 * majors, hits);
	TH_LOG("strided: fixed window read %llu pages ahead; sequential: %llu major faults, %llu read-ahead hits",
	       fixed, majors, hits);
	EXPECT_EQ(-1, vmp_check(self->p, 0, NPG, 0x77));
}

/*
 * Asynchronous read-ahead from swap (ra_async): a sequential pass over an
 * object that is all in swap takes fewer major faults with it than without
 * it; the pages it read ahead read back right.
 */
TEST_F(swaperr, async_readahead_from_swap)
{
	unsigned long long majors[2], async[2];
	struct vmpager_global_info a, b;
	int mode;

	ASSERT_EQ(0, vmp_write_file(DFS "/ref_source", "faults"));
	vmp_fill(self->p, 0, NPG, 0x79);
	for (mode = 0; mode < 2; mode++) {
		ASSERT_EQ(0, vmp_write_file(DFS "/ra_async", mode ? "1" : "0"));
		ASSERT_EQ(0, swap_out_all());
		ASSERT_EQ(0, vmp_global_fd(self->fd, &a));
		EXPECT_EQ(-1, vmp_check(self->p, 0, 3 * RA_SPAN, 0x79));
		ASSERT_EQ(0, vmp_global_fd(self->fd, &b));
		majors[mode] = DST(a, b, faults_major);
		async[mode] = DST(a, b, readahead_async);
	}
	TH_LOG("%d pages from swap: %llu major faults with ra_async=0, %llu with 1 (%llu pages read asynchronously)",
	       3 * RA_SPAN, majors[0], majors[1], async[1]);
	EXPECT_EQ(0ULL, async[0]);
	EXPECT_LT(0ULL, async[1]);
	EXPECT_LT(majors[1], majors[0]);
	EXPECT_EQ(-1, vmp_check(self->p, 0, NPG, 0x79));
}

/* Every page but the holes (pg % 7 == 3) holds @seed's pattern; -1 if so. */
static long check_holed(const char *p, uint64_t seed)
{
	size_t pg;

	for (pg = 0; pg < NPG; pg++) {
		if (pg % 7 == 3) {
			if (vmp_check_zero(p + pg * PG, 1) != -1)
				return (long)pg;
		} else if (vmp_check(p + pg * PG, pg, 1, seed) != -1) {
			return (long)pg;
		}
	}
	return -1;
}

/*
 * VMPAGER_IOC_COPY: a fresh object becomes a copy of one 3x the pool (pages
 * in the pool and in swap, holes never written); the copy reads the same,
 * its holes are still holes, and each object's later writes are its own.
 * Bad input is refused with its errno.
 */
TEST(copy_ioctl)
{
	struct vmpager_copy cp = { 0 };
	struct vmpager_global_info a, b;
	struct vmpager_obj_info si, di;
	unsigned long long held = 0;
	int src, dst, fd3, r;
	size_t pg;
	char *p, *q;

	swap_path(false);
	r = load_with_swap("lru2", 4 * NPG);
	ASSERT_EQ(0, r) TH_LOG("load: %s", strerror(-r));
	src = vmp_open();
	ASSERT_LE(0, src);
	p = vmp_map(src, 0, NPG, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	for (pg = 0; pg < NPG; pg++) {
		if (pg % 7 == 3)
			continue;
		vmp_fill(p + pg * PG, pg, 1, 0x81);
		held++;
	}
	ASSERT_EQ(0, vmp_obj(src, &si));
	EXPECT_LT(0ULL, (unsigned long long)si.swapped);
	dst = vmp_open();
	ASSERT_LE(0, dst);
	ASSERT_EQ(0, vmp_global_fd(src, &a));
	cp.fd = src;
	ASSERT_EQ(0, ioctl(dst, VMPAGER_IOC_COPY, &cp)) TH_LOG("COPY: %s", strerror(errno));
	ASSERT_EQ(0, vmp_global_fd(src, &b));
	EXPECT_EQ(held, DST(a, b, copy_pages));
	ASSERT_EQ(0, vmp_obj(dst, &di));
	EXPECT_EQ((__u64)NPG, di.size);
	EXPECT_EQ(held, (unsigned long long)(di.resident + di.swapped));
	/* a second copy into a filled object, or into itself */
	EXPECT_EQ(-1, ioctl(dst, VMPAGER_IOC_COPY, &cp));
	EXPECT_EQ(EBUSY, errno);
	q = vmp_map(dst, 0, NPG, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, check_holed(q, 0x81));
	EXPECT_EQ(-1, check_holed(p, 0x81));
	/* independent: the source's rewrite is not the copy's, and back */
	for (pg = 0; pg < NPG; pg++)
		if (pg % 7 != 3)
			vmp_fill(p + pg * PG, pg, 1, 0x82);
	EXPECT_EQ(-1, check_holed(q, 0x81));
	for (pg = 0; pg < NPG; pg++)
		if (pg % 7 != 3)
			vmp_fill(q + pg * PG, pg, 1, 0x83);
	EXPECT_EQ(-1, check_holed(p, 0x82));
	EXPECT_EQ(-1, check_holed(q, 0x83));

	/* bad input */
	fd3 = vmp_open();
	ASSERT_LE(0, fd3);
	cp.fd = fd3;
	EXPECT_EQ(-1, ioctl(fd3, VMPAGER_IOC_COPY, &cp));
	EXPECT_EQ(EINVAL, errno);	/* itself */
	cp.fd = -1;
	EXPECT_EQ(-1, ioctl(fd3, VMPAGER_IOC_COPY, &cp));
	EXPECT_EQ(EBADF, errno);
	cp.fd = open("/dev/null", O_RDONLY);	/* not an object of the device */
	ASSERT_LE(0, cp.fd);
	EXPECT_EQ(-1, ioctl(fd3, VMPAGER_IOC_COPY, &cp));
	EXPECT_EQ(EINVAL, errno);
	close(cp.fd);
	cp.fd = src;
	cp.flags = 1;
	EXPECT_EQ(-1, ioctl(fd3, VMPAGER_IOC_COPY, &cp));
	EXPECT_EQ(EINVAL, errno);
	cp.flags = 0;
	cp.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(fd3, VMPAGER_IOC_COPY, &cp));
	EXPECT_EQ(EINVAL, errno);
	cp.reserved[1] = 0;
	/* still fresh after the refusals: a copy of the copy */
	cp.fd = dst;
	EXPECT_EQ(0, ioctl(fd3, VMPAGER_IOC_COPY, &cp));
	close(fd3);
	munmap(p, NPG * PG);
	munmap(q, NPG * PG);
	close(src);
	close(dst);
	expect_clean_unload(_metadata);
}

/* Swap full: the overrunning child gets SIGBUS, the data already written survives. */
TEST(swap_full_sigbus)
{
	struct vmpager_global_info gi;
	siginfo_t si;
	char *p;
	pid_t pid;
	int fd, r;

	swap_path(false);
	r = load_with_swap("fifo", 64);
	ASSERT_EQ(0, r) TH_LOG("load: %s", strerror(-r));
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, POOL / 2, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, POOL / 2, 0x66);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* its own object, 4x the pool: pool and swap run out */
		int cfd = vmp_open();
		char *c = vmp_map(cfd, 0, NPG, MAP_SHARED);

		vmp_no_core();
		if (c == MAP_FAILED)
			_exit(2);
		for (size_t i = 0; i < NPG; i++)
			if (vmp_try_write(c + i * PG, 1, &si) == SIGBUS)
				_exit(0);
		_exit(1);
	}
	EXPECT_EQ(0, vmp_wait(pid));
	ASSERT_EQ(0, vmp_global_fd(fd, &gi));
	EXPECT_LT(0ULL, ST(gi, swap_full));
	EXPECT_LT(0ULL, ST(gi, oom_sigbus));
	/* the child's object died with it: the parent's data is all there */
	EXPECT_EQ(-1, vmp_check(p, 0, POOL / 2, 0x66));
	munmap(p, POOL / 2 * PG);
	close(fd);
	expect_clean_unload(_metadata);
}

/* Bad swap files are refused at load with a clear errno. */
TEST(bad_swapfile_refused)
{
	char params[320];
	int fd;

	swap_path(false);
	fd = open(swapf, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	fchmod(fd, 0644);
	close(fd);
	snprintf(params, sizeof(params), "pool_pages=256 swapfile=%s", swapf);
	EXPECT_EQ(-EACCES, vmp_load(params));
	EXPECT_FALSE(vmp_loaded());
	unlink(swapf);
	/* not a regular file or block device (/proc refuses O_CREAT|O_RDWR) */
	EXPECT_GT(0, vmp_load("pool_pages=256 swapfile=/proc/self/status"));
	EXPECT_EQ(-EINVAL, vmp_load("pool_pages=256 policy=nosuch"));
	EXPECT_FALSE(vmp_loaded());
}

TEST_HARNESS_MAIN
