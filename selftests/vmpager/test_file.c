// SPDX-License-Identifier: GPL-2.0
/*
 * File-backed objects (VMPAGER_IOC_MAP_FILE): a file larger than the pool
 * mapped, read and written in random order and verified through read(2)
 * after msync and after close; what kill -9 leaves in the file; read-only
 * files; a size that is not a page multiple; write-back errors; bad input.
 * On the disk (ext4) each test runs with block-level I/O (bios to the
 * file's blocks) and through the page cache (VMPAGER_FILE_CACHED); which
 * files get bios, and what the bios change for other users of the file.
 */
#include <sys/wait.h>

#include "vmp_test.h"

#define POOL	256
#define NPG	(3 * POOL)		/* pages of the file range: 3x the pool */
#define TAIL	100			/* the last page holds this many bytes */
#define LEN	((NPG - 1) * PG + TAIL)	/* bytes of the range */
#define DFS	VMP_DEBUGFS

static char path[256];

/* A file of @bytes whose page i holds vmp_word(seed, i, w), at @dir. */
static int make_file(const char *dir, size_t bytes, uint64_t seed)
{
	uint64_t buf[WORDS_PER_PG];
	size_t done = 0, pg = 0, w;
	int fd;

	snprintf(path, sizeof(path), "%s/vmp-file-test.dat", dir);
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	while (done < bytes) {
		size_t n = bytes - done < PG ? bytes - done : PG;

		for (w = 0; w < WORDS_PER_PG; w++)
			buf[w] = vmp_word(seed, pg, w);
		if (pwrite(fd, buf, n, (off_t)done) != (ssize_t)n) {
			close(fd);
			return -1;
		}
		done += n;
		pg++;
	}
	return fd;
}

/*
 * Through read(2): -1 if the file's page @pg holds the pattern of
 * seed seeds[pg] (the bytes inside the file only), else the bad word.
 */
static long file_check_page(int fd, size_t pg, uint64_t seed, size_t bytes)
{
	uint64_t buf[WORDS_PER_PG];
	size_t n = bytes - pg * PG < PG ? bytes - pg * PG : PG, w;

	memset(buf, 0xa5, sizeof(buf));
	if (pread(fd, buf, n, (off_t)(pg * PG)) != (ssize_t)n)
		return -2;
	for (w = 0; w < n / sizeof(uint64_t); w++)
		if (buf[w] != vmp_word(seed, pg, w))
			return (long)w;
	return -1;
}

/* Write page @pg of the mapping with the pattern of @seed (the whole page). */
static void map_fill_page(char *p, size_t pg, uint64_t seed)
{
	vmp_fill(p + pg * PG, pg, 1, seed);
}

/*
 * -1 if page @pg of the mapping holds @seed's pattern in the bytes of the
 * range (the last page's rest is not the file's: zero once read back).
 */
static long map_check_page(const char *p, size_t pg, uint64_t seed)
{
	const volatile uint64_t *q = (const uint64_t *)(p + pg * PG);
	size_t n = LEN - pg * PG < PG ? LEN - pg * PG : PG, w;

	for (w = 0; w < n / sizeof(uint64_t); w++)
		if (q[w] != vmp_word(seed, pg, w))
			return (long)w;
	return -1;
}

FIXTURE(file) {
	int dev;		/* the object's fd */
	int fd;			/* the backing file */
	char *p;
};

FIXTURE_VARIANT(file) {
	const char *policy;
	bool tmpfs;		/* the file on tmpfs, else the disk (ext4) */
	bool cached;		/* VMPAGER_FILE_CACHED: no bios */
};

FIXTURE_VARIANT_ADD(file, lru2_disk) { .policy = "lru2" };
FIXTURE_VARIANT_ADD(file, lru2_disk_cached) { .policy = "lru2", .cached = true };
FIXTURE_VARIANT_ADD(file, lirs_tmpfs) { .policy = "lirs", .tmpfs = true };

/* The guest's scratch disk is ext4 on a block device: bios there. */
static bool on_disk(void)
{
	const char *d = getenv("VMP_DIRECT_DIR");

	return d && *d;
}

FIXTURE_SETUP(file)
{
	char params[128];
	struct vmpager_map_file mf = { .length = LEN };
	int r;

	snprintf(params, sizeof(params), "pool_pages=%d policy=%s", POOL,
		 variant->policy);
	r = vmp_load(params);
	ASSERT_EQ(0, r) TH_LOG("load: %s", strerror(-r));
	self->fd = make_file(variant->tmpfs ? "/tmp" : vmp_swap_dir(), LEN, 1);
	ASSERT_LE(0, self->fd) TH_LOG("%s: %s", path, strerror(errno));
	self->dev = vmp_open();
	ASSERT_LE(0, self->dev);
	mf.fd = self->fd;
	mf.flags = variant->cached ? VMPAGER_FILE_CACHED : 0;
	ASSERT_EQ(0, ioctl(self->dev, VMPAGER_IOC_MAP_FILE, &mf))
		TH_LOG("MAP_FILE: %s", strerror(errno));
	self->p = vmp_map(self->dev, 0, NPG, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, self->p);
}

FIXTURE_TEARDOWN(file)
{
	struct vmpager_global_info gi;

	if (self->p != MAP_FAILED)
		munmap(self->p, NPG * PG);
	if (self->dev >= 0)
		close(self->dev);
	close(self->fd);
	unlink(path);
	vmp_write_file(DFS "/fail_writes", "0");
	vmp_write_file(DFS "/fail_reads", "0");
	ASSERT_EQ(0, vmp_global(&gi));
	EXPECT_EQ((__u64)POOL, gi.free_pages) TH_LOG("frames left held");
	EXPECT_EQ(0, vmp_unload());
}

/* Every page reads the file's bytes; the tail past the range reads zero. */
TEST_F(file, reads_the_file_larger_than_the_pool)
{
	struct vmpager_global_info a, b;
	struct vmpager_obj_info oi;
	size_t pg, w;
	bool bio;

	ASSERT_EQ(0, vmp_global(&a));
	for (pg = 0; pg < NPG - 1; pg++)
		ASSERT_EQ(-1, vmp_check(self->p + pg * PG, pg, 1, 1))
			TH_LOG("page %zu", pg);
	for (w = 0; w < TAIL / 8; w++)
		ASSERT_EQ(vmp_word(1, NPG - 1, w),
			  ((uint64_t *)(self->p + (NPG - 1) * PG))[w]);
	for (w = TAIL; w < PG; w++)
		ASSERT_EQ(0, self->p[(NPG - 1) * PG + w]) TH_LOG("tail byte %zu", w);
	ASSERT_EQ(0, vmp_global(&b));
	/* each page once, or more if read ahead and evicted before its use */
	EXPECT_LE((__u64)NPG, DST(a, b, file_reads));
	EXPECT_LT(0ULL, (unsigned long long)DST(a, b, evict_clean));
	EXPECT_EQ(0ULL, (unsigned long long)DST(a, b, file_writes))
		TH_LOG("clean pages were written");
	EXPECT_EQ(0ULL, (unsigned long long)DST(a, b, swap_outs));
	ASSERT_EQ(0, vmp_obj(self->dev, &oi));
	EXPECT_EQ((__u64)NPG, oi.file_pages);
	bio = !variant->tmpfs && !variant->cached && on_disk();
	EXPECT_EQ(VMPAGER_OBJ_FILE | (bio ? VMPAGER_OBJ_BIO : 0), oi.flags);
	/* with bios every page was read from the device by one */
	EXPECT_LE(bio ? (__u64)NPG : 0, DST(a, b, bio_read_pages));
	EXPECT_EQ(bio, DST(a, b, bio_read_pages) != 0);
	EXPECT_EQ(0ULL, (unsigned long long)oi.swapped);
	/* debugfs objects: the last columns */
	if (vmp_debugfs_mounted()) {
		char *objs = vmp_read_file(DFS "/objects"), want[64];

		ASSERT_NE(NULL, objs);
		EXPECT_NE(NULL, strstr(objs, "faults file_pages file_io\n"));
		snprintf(want, sizeof(want), "\n%llu ", (unsigned long long)oi.id);
		EXPECT_NE(NULL, strstr(objs, want)) TH_LOG("%s", objs);
		snprintf(want, sizeof(want), " %d %s\n", NPG, bio ? "bio" : "cached");
		EXPECT_NE(NULL, strstr(objs, want)) TH_LOG("%s", objs);
		free(objs);
	}
}

/* One past the file range: SIGBUS, as past the end of a file mapping. */
TEST_F(file, past_the_range_is_sigbus)
{
	siginfo_t si;
	char *q;

	q = vmp_map(self->dev, 0, NPG + 2, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(SIGBUS, vmp_try_write(q + NPG * PG, 7, &si));
	EXPECT_EQ(SIGBUS, vmp_try_write(q + (NPG + 1) * PG, 7, &si));
	EXPECT_EQ(0, vmp_try_write(q + (NPG - 1) * PG, 7, &si));
	munmap(q, (NPG + 2) * PG);
}

/*
 * Random-order writes over 3x the pool: what msync returns for is in the
 * file (read(2)), also what eviction wrote before; after close, all of it;
 * the file's size never changes, and the bytes past the range stay out.
 */
TEST_F(file, random_writes_reach_the_file_by_msync_and_close)
{
	struct vmpager_global_info a, b;
	uint64_t *seed = calloc(NPG, sizeof(*seed));
	size_t i, pg;
	struct stat st;

	ASSERT_NE(NULL, seed);
	for (pg = 0; pg < NPG; pg++)
		seed[pg] = 1;
	srandom(42);
	ASSERT_EQ(0, vmp_global(&a));
	for (i = 0; i < 2 * NPG; i++) {
		pg = (size_t)random() % NPG;
		seed[pg] = 2 + i;
		map_fill_page(self->p, pg, seed[pg]);
	}
	/* every page read back through the mapping, evicted or not */
	for (pg = 0; pg < NPG; pg++)
		ASSERT_EQ(-1, map_check_page(self->p, pg, seed[pg]))
			TH_LOG("page %zu", pg);
	ASSERT_EQ(0, vmp_global(&b));
	EXPECT_LT(0ULL, (unsigned long long)DST(a, b, file_writes))
		TH_LOG("3x the pool written and nothing evicted dirty?");
	ASSERT_EQ(0, msync(self->p, NPG * PG, MS_SYNC)) TH_LOG("%s", strerror(errno));
	for (pg = 0; pg < NPG; pg++)
		ASSERT_EQ(-1, file_check_page(self->fd, pg, seed[pg], LEN))
			TH_LOG("page %zu after msync", pg);
	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_EQ((off_t)LEN, st.st_size);

	/* a second round, then only close: the release writes it back */
	for (pg = 0; pg < NPG; pg += 3) {
		seed[pg] = 5000 + pg;
		map_fill_page(self->p, pg, seed[pg]);
	}
	munmap(self->p, NPG * PG);
	self->p = MAP_FAILED;
	close(self->dev);
	self->dev = -1;
	for (pg = 0; pg < NPG; pg++)
		ASSERT_EQ(-1, file_check_page(self->fd, pg, seed[pg], LEN))
			TH_LOG("page %zu after close", pg);
	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_EQ((off_t)LEN, st.st_size);
	free(seed);
}

/*
 * kill -9 of the writer, which holds the object's only references: every
 * page msync returned for is in the file before the kill, and the pages
 * written after it are there once the writer is gone.
 */
TEST_F(file, kill_9_keeps_what_msync_returned_for)
{
	struct vmpager_map_file mf = { .fd = self->fd, .length = LEN };
	int sync_pipe[2];
	size_t pg;
	pid_t pid;
	char c;
	int st;

	/* the fixture's object is not the one under test */
	munmap(self->p, NPG * PG);
	self->p = MAP_FAILED;
	close(self->dev);
	self->dev = -1;
	ASSERT_EQ(0, pipe(sync_pipe));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev = vmp_open();
		char *p;

		vmp_no_core();
		close(sync_pipe[0]);
		if (dev < 0 || ioctl(dev, VMPAGER_IOC_MAP_FILE, &mf))
			_exit(2);
		p = vmp_map(dev, 0, NPG, MAP_SHARED);
		if (p == MAP_FAILED)
			_exit(2);
		close(dev);	/* the mapping is the only reference */
		for (pg = 0; pg < NPG; pg++)
			map_fill_page(p, pg, 7);
		if (msync(p, NPG * PG, MS_SYNC))
			_exit(3);
		for (pg = 0; pg < NPG; pg += 2)
			map_fill_page(p, pg, 8);
		if (write(sync_pipe[1], "x", 1) != 1)
			_exit(4);
		pause();
		_exit(5);
	}
	close(sync_pipe[1]);
	ASSERT_EQ(1, read(sync_pipe[0], &c, 1)) TH_LOG("the writer died early");
	close(sync_pipe[0]);
	for (pg = 1; pg < NPG; pg += 2)
		ASSERT_EQ(-1, file_check_page(self->fd, pg, 7, LEN))
			TH_LOG("page %zu: not in the file after msync", pg);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(VMP_KILLED(st, SIGKILL));
	/* the release at the writer's exit wrote the rest back */
	for (pg = 0; pg < NPG; pg++)
		ASSERT_EQ(-1, file_check_page(self->fd, pg, pg % 2 ? 7 : 8, LEN))
			TH_LOG("page %zu after the kill", pg);
}

/* An O_APPEND fd: write-back goes to each page's place, never the end. */
TEST_F(file, append_fd_writes_in_place)
{
	struct vmpager_map_file mf = { .length = LEN };
	struct stat st;
	int afd, dev;
	char *p;

	afd = open(path, O_RDWR | O_APPEND);
	ASSERT_LE(0, afd);
	dev = vmp_open();
	ASSERT_LE(0, dev);
	mf.fd = afd;
	ASSERT_EQ(0, ioctl(dev, VMPAGER_IOC_MAP_FILE, &mf));
	close(afd);
	p = vmp_map(dev, 0, 4, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	map_fill_page(p, 2, 11);
	ASSERT_EQ(0, msync(p, 4 * PG, MS_SYNC));
	munmap(p, 4 * PG);
	close(dev);
	EXPECT_EQ(-1, file_check_page(self->fd, 2, 11, LEN));
	EXPECT_EQ(-1, file_check_page(self->fd, 1, 1, LEN));
	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_EQ((off_t)LEN, st.st_size);
}

/* Write-back errors: msync reports EIO, the page stays; a retry writes it. */
TEST_F(file, write_back_error_keeps_the_page)
{
	size_t pg;

	for (pg = 0; pg < 8; pg++)
		map_fill_page(self->p, pg, 9);
	ASSERT_EQ(0, vmp_write_file(DFS "/fail_writes", "1"));
	EXPECT_EQ(-1, msync(self->p, 8 * PG, MS_SYNC));
	EXPECT_EQ(EIO, errno);
	ASSERT_EQ(0, vmp_write_file(DFS "/fail_writes", "0"));
	for (pg = 0; pg < 8; pg++)
		ASSERT_EQ(-1, vmp_check(self->p + pg * PG, pg, 1, 9));
	ASSERT_EQ(0, msync(self->p, 8 * PG, MS_SYNC)) TH_LOG("%s", strerror(errno));
	for (pg = 0; pg < 8; pg++)
		ASSERT_EQ(-1, file_check_page(self->fd, pg, 9, LEN))
			TH_LOG("page %zu", pg);
}

/* A failed read: that access gets SIGBUS, the next one reads the page. */
TEST_F(file, read_error_is_sigbus_then_retried)
{
	siginfo_t si;
	uint64_t v;

	ASSERT_EQ(0, vmp_write_file(DFS "/fail_reads", "1"));
	EXPECT_EQ(SIGBUS, vmp_try_read(self->p + 5 * PG, &v, &si));
	ASSERT_EQ(0, vmp_write_file(DFS "/fail_reads", "0"));
	EXPECT_EQ(-1, vmp_check(self->p + 5 * PG, 5, 1, 1));
}

/* Bind @fd (bytes [0, @len)) to a new object with @flags: its fd, or -errno. */
static int bind_file(int fd, size_t len, unsigned int flags, unsigned int *oflags)
{
	struct vmpager_map_file mf = { .fd = fd, .length = len, .flags = flags };
	struct vmpager_obj_info oi;
	int dev = vmp_open(), err;

	if (dev < 0)
		return dev;
	if (ioctl(dev, VMPAGER_IOC_MAP_FILE, &mf) || vmp_obj(dev, &oi)) {
		err = -errno;
		close(dev);
		return err;
	}
	*oflags = oi.flags;
	return dev;
}

/*
 * Asynchronous read-ahead (ra_async): the first touch of a read-ahead
 * window reads the next one without waiting, so a sequential pass through
 * a fresh object takes fewer major faults with it than without it, and
 * every page still reads the file's bytes.
 */
TEST_F(file, async_readahead_reads_the_next_window)
{
	unsigned int fl, flags = variant->cached ? VMPAGER_FILE_CACHED : 0;
	unsigned long long majors[2], async[2], ra[2];
	struct vmpager_global_info a, b;
	int mode, dev;
	size_t pg;
	char *q;

	for (mode = 0; mode < 2; mode++) {
		ASSERT_EQ(0, vmp_write_file(DFS "/ra_async", mode ? "1" : "0"));
		dev = bind_file(self->fd, LEN, flags, &fl);
		ASSERT_LE(0, dev) TH_LOG("MAP_FILE: %s", strerror(-dev));
		q = vmp_map(dev, 0, NPG, MAP_SHARED);
		ASSERT_NE(MAP_FAILED, q);
		ASSERT_EQ(0, vmp_global(&a));
		for (pg = 0; pg < NPG - 1; pg++)
			ASSERT_EQ(-1, vmp_check(q + pg * PG, pg, 1, 1))
				TH_LOG("ra_async=%d page %zu", mode, pg);
		ASSERT_EQ(0, vmp_global(&b));
		majors[mode] = DST(a, b, faults_major);
		async[mode] = DST(a, b, readahead_async);
		ra[mode] = DST(a, b, readahead);
		munmap(q, NPG * PG);
		close(dev);
	}
	TH_LOG("%d pages: ra_async=0: %llu major faults, %llu pages read ahead; ra_async=1: %llu major faults, %llu read ahead in faults, %llu asynchronously",
	       NPG, majors[0], ra[0], majors[1], ra[1], async[1]);
	EXPECT_EQ(0ULL, async[0]);
	EXPECT_LT(0ULL, async[1]);
	EXPECT_LT(majors[1], majors[0]);
}

/*
 * A page touched right after the touch that sent its asynchronous read
 * reads the file's bytes (its fault may wait for the read: read_waits;
 * test_srv.c holds a read back to make sure of it); an object closed while
 * its read-ahead is in flight is freed once the reads are done, every frame
 * back in the pool (the teardown checks).
 */
TEST_F(file, async_readahead_in_flight)
{
	unsigned int fl, flags = variant->cached ? VMPAGER_FILE_CACHED : 0;
	struct vmpager_global_info a, b;
	size_t base;
	char *q;
	int i, dev;

	ASSERT_EQ(0, vmp_global(&a));
	for (i = 0; i < 16; i++) {
		base = (size_t)i * 40 % (NPG - 40);
		dev = bind_file(self->fd, LEN, flags, &fl);
		ASSERT_LE(0, dev) TH_LOG("MAP_FILE: %s", strerror(-dev));
		q = vmp_map(dev, 0, NPG, MAP_SHARED);
		ASSERT_NE(MAP_FAILED, q);
		/*
		 * base: no read-ahead yet; base + 1, next to it: reads base + 2
		 * ahead, the first page of its window; its touch reads base + 3..
		 */
		(void)*(volatile char *)(q + base * PG);
		(void)*(volatile char *)(q + (base + 1) * PG);
		(void)*(volatile char *)(q + (base + 2) * PG);
		if (i % 2) {
			(void)*(volatile char *)(q + (base + 3) * PG);
			EXPECT_EQ(-1, vmp_check(q + base * PG, base, 12, 1))
				TH_LOG("pages %zu..", base);
		}
		munmap(q, NPG * PG);
		close(dev);
	}
	ASSERT_EQ(0, vmp_global(&b));
	TH_LOG("%llu pages read ahead asynchronously, %llu faults waited for a read",
	       DST(a, b, readahead_async), DST(a, b, read_waits));
	EXPECT_LE(16ULL, DST(a, b, readahead_async));
}

/*
 * Block-level I/O of a file on the disk: the reads and write-backs are
 * bios; while any object reads the file with bios, write(2), truncate and
 * fallocate of it fail with ETXTBSY, a second object shares the bios, one
 * that asks for the page cache or a range bios cannot cover is refused, a
 * reader's object gets the page cache and does not keep the file marked,
 * and swap refuses the file;
 * after msync read(2) sees the written pages even when it had cached the
 * older ones, and the file's modification time moved; once the objects are
 * gone the file is writable again.
 */
TEST(bio_file_excludes_writers)
{
	struct vmpager_global_info a, b;
	struct vmpager_swap_add sa = { 0 };
	struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };
	unsigned int fl, fl2;
	struct stat st;
	int fd, ro, dev, dev2, dev3, one = 1;
	uint64_t before;
	char *p;

	if (!on_disk())
		SKIP(return, "no scratch disk (VMP_DIRECT_DIR)");
	ASSERT_EQ(0, vmp_load("pool_pages=64"));
	fd = make_file(vmp_swap_dir(), 32 * PG, 3);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, futimens(fd, old));
	ASSERT_EQ(0, vmp_global(&a));
	dev = bind_file(fd, 32 * PG, 0, &fl);
	ASSERT_LE(0, dev) TH_LOG("MAP_FILE: %s", strerror(-dev));
	EXPECT_EQ(VMPAGER_OBJ_FILE | VMPAGER_OBJ_BIO, fl);
	p = vmp_map(dev, 0, 32, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, vmp_check(p, 0, 32, 3));

	/* the file's blocks are the object's now */
	EXPECT_EQ(-1, pwrite(fd, &one, sizeof(one), 0));
	EXPECT_EQ(ETXTBSY, errno);
	EXPECT_EQ(-1, ftruncate(fd, PG));
	EXPECT_EQ(ETXTBSY, errno);
	EXPECT_EQ(-1, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				0, PG));
	EXPECT_EQ(ETXTBSY, errno);
	EXPECT_EQ(-ETXTBSY, bind_file(fd, 32 * PG, VMPAGER_FILE_CACHED, &fl2));
	/* a range bios cannot cover (past the end) cannot be written either */
	EXPECT_EQ(-ETXTBSY, bind_file(fd, 32 * PG + 100, 0, &fl2));
	/* ... but can be read, through the page cache */
	dev2 = bind_file(fd, 32 * PG + 100, VMPAGER_FILE_RDONLY, &fl2);
	ASSERT_LE(0, dev2) TH_LOG("read-only past the end: %s", strerror(-dev2));
	EXPECT_EQ(VMPAGER_OBJ_FILE | VMPAGER_OBJ_RDONLY, fl2);
	close(dev2);
	/* a reader gets the page cache, and does not keep the file marked */
	ro = open(path, O_RDONLY);
	ASSERT_LE(0, ro);
	dev3 = bind_file(ro, 32 * PG, 0, &fl2);
	ASSERT_LE(0, dev3) TH_LOG("read-only MAP_FILE: %s", strerror(-dev3));
	EXPECT_EQ(VMPAGER_OBJ_FILE | VMPAGER_OBJ_RDONLY, fl2);
	close(ro);
	dev2 = bind_file(fd, 32 * PG, 0, &fl2);
	ASSERT_LE(0, dev2) TH_LOG("second MAP_FILE: %s", strerror(-dev2));
	EXPECT_EQ(VMPAGER_OBJ_FILE | VMPAGER_OBJ_BIO, fl2);
	sa.fd = fd;
	EXPECT_EQ(-1, ioctl(dev2, VMPAGER_IOC_SWAP_ADD, &sa));
	EXPECT_EQ(EBUSY, errno);

	/* read(2) cached the old page 5; msync makes it see the new one */
	EXPECT_EQ(-1, file_check_page(fd, 5, 3, 32 * PG));
	before = vmp_word(3, 5, 0);
	vmp_fill(p + 5 * PG, 5, 1, 4);
	vmp_fill(p + 31 * PG, 31, 1, 4);
	ASSERT_EQ(0, msync(p, 32 * PG, MS_SYNC)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, file_check_page(fd, 5, 4, 32 * PG))
		TH_LOG("read(2) still sees the old page (word 0 was %llx)",
		       (unsigned long long)before);
	EXPECT_EQ(-1, file_check_page(fd, 31, 4, 32 * PG));
	EXPECT_EQ(-1, file_check_page(fd, 6, 3, 32 * PG));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_LT(1000, st.st_mtim.tv_sec) TH_LOG("mtime unchanged by msync");
	ASSERT_EQ(0, vmp_global(&b));
	EXPECT_LE(2ULL, (unsigned long long)DST(a, b, bio_write_pages));
	EXPECT_LE(32ULL, (unsigned long long)DST(a, b, bio_read_pages));
	EXPECT_EQ(2ULL, (unsigned long long)DST(a, b, file_binds_bio));

	/* the second object going leaves the file to the first */
	close(dev2);
	EXPECT_EQ(-1, pwrite(fd, &one, sizeof(one), 0));
	EXPECT_EQ(ETXTBSY, errno);
	munmap(p, 32 * PG);
	close(dev);
	EXPECT_EQ((ssize_t)sizeof(one), pwrite(fd, &one, sizeof(one), 0))
		TH_LOG("still refused once every writer's object is gone: %s",
		       strerror(errno));
	EXPECT_EQ(0, ftruncate(fd, 16 * PG));
	close(dev3);
	close(fd);
	unlink(path);
	EXPECT_EQ(0, vmp_unload());
}

/*
 * Which files keep the page cache path, each still paged correctly: a
 * sparse file (its holes have no blocks), an fd open read-only (marking
 * the file would lock out its writers), VMPAGER_FILE_CACHED, a caller
 * without CAP_SYS_RAWIO, a file that
 * another object reaches through the page cache, a range that ends inside
 * a page that is not the file's last, and tmpfs (no blocks at all).
 */
TEST(which_files_get_bios)
{
	struct vmpager_swap_add sa = { 0 };
	unsigned int fl, fl2;
	int fd, ro, dev, dev2, tfd, st;
	pid_t pid;
	char *p;

	if (!on_disk())
		SKIP(return, "no scratch disk (VMP_DIRECT_DIR)");
	ASSERT_EQ(0, vmp_load("pool_pages=64"));
	fd = make_file(vmp_swap_dir(), 8 * PG, 5);
	ASSERT_LE(0, fd);
	/* sparse: pages 8..15 a hole */
	ASSERT_EQ(0, ftruncate(fd, 16 * PG));
	dev = bind_file(fd, 16 * PG, 0, &fl);
	ASSERT_LE(0, dev);
	EXPECT_EQ(VMPAGER_OBJ_FILE, fl);
	p = vmp_map(dev, 0, 16, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, vmp_check(p, 0, 8, 5));
	EXPECT_EQ(0ULL, (unsigned long long)((volatile uint64_t *)p)[10 * WORDS_PER_PG]);
	vmp_fill(p + 12 * PG, 12, 1, 6);
	ASSERT_EQ(0, msync(p, 16 * PG, MS_SYNC));
	EXPECT_EQ(-1, file_check_page(fd, 12, 6, 16 * PG));
	/* no bios: write(2) stays allowed, and a second object follows suit */
	EXPECT_EQ((ssize_t)PG, pwrite(fd, p, PG, 20 * PG));
	sa.fd = fd;
	EXPECT_EQ(-1, ioctl(dev, VMPAGER_IOC_SWAP_ADD, &sa));
	EXPECT_EQ(EBUSY, errno) TH_LOG("swap took a bound file");
	dev2 = bind_file(fd, 8 * PG, 0, &fl2);
	ASSERT_LE(0, dev2);
	EXPECT_EQ(VMPAGER_OBJ_FILE, fl2) TH_LOG("bios beside a page-cache object");
	close(dev2);
	munmap(p, 16 * PG);
	close(dev);

	/* whole, but read-only fd, or asked not to */
	ASSERT_EQ(0, ftruncate(fd, 8 * PG));
	ro = open(path, O_RDONLY);
	ASSERT_LE(0, ro);
	dev = bind_file(ro, 8 * PG, 0, &fl);
	ASSERT_LE(0, dev);
	EXPECT_EQ(VMPAGER_OBJ_FILE | VMPAGER_OBJ_RDONLY, fl);
	close(dev);
	close(ro);
	dev = bind_file(fd, 8 * PG, VMPAGER_FILE_CACHED, &fl);
	ASSERT_LE(0, dev);
	EXPECT_EQ(VMPAGER_OBJ_FILE, fl);
	close(dev);
	/* a caller without CAP_SYS_RAWIO: the page cache, reads still right */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (vmp_drop_cap(CAP_SYS_RAWIO))
			_exit(2);
		dev = bind_file(fd, 8 * PG, 0, &fl);
		if (dev < 0)
			_exit(3);
		if (fl != VMPAGER_OBJ_FILE)
			_exit(4);
		p = vmp_map(dev, 0, 8, MAP_SHARED);
		if (p == MAP_FAILED || vmp_check(p, 0, 8, 5) != -1)
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, WIFEXITED(st) ? WEXITSTATUS(st) : -1)
		TH_LOG("without CAP_SYS_RAWIO (4: it got bios)");
	/* a range ending inside page 2 of an 8-page file; then the same to EOF */
	dev = bind_file(fd, 2 * PG + 100, 0, &fl);
	ASSERT_LE(0, dev);
	EXPECT_EQ(VMPAGER_OBJ_FILE, fl);
	close(dev);
	ASSERT_EQ(0, ftruncate(fd, 2 * PG + 100));
	dev = bind_file(fd, 2 * PG + 100, 0, &fl);
	ASSERT_LE(0, dev);
	EXPECT_EQ(VMPAGER_OBJ_FILE | VMPAGER_OBJ_BIO, fl);
	p = vmp_map(dev, 0, 3, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, vmp_check(p, 0, 2, 5));
	EXPECT_EQ(0, p[2 * PG + 100]) TH_LOG("past the end of the file");
	memset(p + 2 * PG, 0x5a, PG);	/* the bytes past the end too */
	ASSERT_EQ(0, msync(p, 3 * PG, MS_SYNC));
	munmap(p, 3 * PG);
	close(dev);
	{
		struct stat st;
		char buf[PG];

		ASSERT_EQ(0, fstat(fd, &st));
		EXPECT_EQ((off_t)(2 * PG + 100), st.st_size);
		/* extended again: the bytes past the old end read as zero */
		ASSERT_EQ(0, ftruncate(fd, 3 * PG));
		ASSERT_EQ((ssize_t)PG, pread(fd, buf, PG, 2 * PG));
		EXPECT_EQ(0x5a, buf[99]);
		EXPECT_EQ(0, buf[100]);
		EXPECT_EQ(0, buf[PG - 1]);
	}
	close(fd);
	unlink(path);

	tfd = make_file("/tmp", 8 * PG, 5);
	ASSERT_LE(0, tfd);
	dev = bind_file(tfd, 8 * PG, 0, &fl);
	ASSERT_LE(0, dev);
	EXPECT_EQ(VMPAGER_OBJ_FILE, fl);
	close(dev);
	close(tfd);
	unlink(path);
	EXPECT_EQ(0, vmp_unload());
}

/* A file opened read-only: no shared writable mapping; private copies. */
TEST(read_only_file)
{
	struct vmpager_map_file mf = { .length = 16 * PG };
	struct vmpager_obj_info oi;
	int dev, fd, rw;
	char *p;

	ASSERT_EQ(0, vmp_load("pool_pages=64"));
	rw = make_file("/tmp", 16 * PG, 3);
	ASSERT_LE(0, rw);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	dev = vmp_open();
	ASSERT_LE(0, dev);
	mf.fd = fd;
	ASSERT_EQ(0, ioctl(dev, VMPAGER_IOC_MAP_FILE, &mf));
	ASSERT_EQ(0, vmp_obj(dev, &oi));
	EXPECT_EQ(VMPAGER_OBJ_FILE | VMPAGER_OBJ_RDONLY, oi.flags);
	EXPECT_EQ(MAP_FAILED, vmp_map(dev, 0, 16, MAP_SHARED));
	EXPECT_EQ(EACCES, errno);
	p = mmap(NULL, 16 * PG, PROT_READ, MAP_SHARED, dev, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, vmp_check(p, 0, 16, 3));
	EXPECT_EQ(-1, mprotect(p, 16 * PG, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap(p, 16 * PG);
	/* MAP_PRIVATE: writable, copied on write, the file untouched */
	p = vmp_map(dev, 0, 16, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, 16, 4);
	EXPECT_EQ(-1, vmp_check(p, 0, 16, 4));
	munmap(p, 16 * PG);
	close(dev);
	EXPECT_EQ(-1, file_check_page(rw, 0, 3, 16 * PG));
	EXPECT_EQ(-1, file_check_page(rw, 15, 3, 16 * PG));
	close(fd);
	close(rw);
	unlink(path);
	EXPECT_EQ(0, vmp_unload());
}

/* Every refusal of MAP_FILE, with its errno; the object is unchanged. */
TEST(bad_map_file)
{
	struct vmpager_map_file mf;
	int dev, fd, wo, pfd[2];
	char *p;

	ASSERT_EQ(0, vmp_load("pool_pages=64"));
	fd = make_file("/tmp", 8 * PG, 1);
	ASSERT_LE(0, fd);
	dev = vmp_open();
	ASSERT_LE(0, dev);
#define BAD(err, change) do {						\
		mf = (struct vmpager_map_file){ .fd = fd, .length = 8 * PG }; \
		change;							\
		errno = 0;						\
		EXPECT_EQ(-1, ioctl(dev, VMPAGER_IOC_MAP_FILE, &mf));	\
		EXPECT_EQ(err, errno) TH_LOG("%s", #change);		\
	} while (0)
	BAD(EINVAL, mf.length = 0);
	BAD(EINVAL, mf.offset = 100);
	BAD(EINVAL, mf.flags = 4);
	BAD(EINVAL, mf.reserved[0] = 1);
	BAD(EOVERFLOW, mf.offset = ~0ULL & ~(PG - 1));
	BAD(EBADF, mf.fd = -1);
	BAD(EFBIG, mf.length = 1ULL << 40);
	ASSERT_EQ(0, pipe(pfd));
	BAD(EINVAL, mf.fd = pfd[0]);
	wo = open(path, O_WRONLY);
	ASSERT_LE(0, wo);
	BAD(EACCES, mf.fd = wo);
	close(wo);
	/* a mapped object is not fresh */
	p = vmp_map(dev, 0, 1, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	BAD(EBUSY, (void)0);
	munmap(p, PG);
	close(dev);
	/* bound once, not twice */
	dev = vmp_open();
	ASSERT_LE(0, dev);
	mf = (struct vmpager_map_file){ .fd = fd, .length = 8 * PG };
	ASSERT_EQ(0, ioctl(dev, VMPAGER_IOC_MAP_FILE, &mf));
	BAD(EBUSY, (void)0);
#undef BAD
	close(dev);
	close(pfd[0]);
	close(pfd[1]);
	close(fd);
	unlink(path);
	EXPECT_EQ(0, vmp_unload());
}

TEST_HARNESS_MAIN
