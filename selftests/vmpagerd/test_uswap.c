// SPDX-License-Identifier: GPL-2.0
/* Proves vmp_uswap creates safe preallocated files, allocates slots next-fit and moves pages through a real io_uring to the striped place. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "vmp_uswap.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"

#define PG	4096u

/*
 * Scratch directories: $VMP_DIRECT_DIR (a filesystem with O_DIRECT, e.g.
 * ext4; default /var/tmp) and /dev/shm (tmpfs: no O_DIRECT).
 */
static const char *direct_dir(void)
{
	const char *d = getenv("VMP_DIRECT_DIR");

	return d && *d ? d : "/var/tmp";
}

struct files {
	char dir[256];
	char path[8][300];
	char *paths[8];
	int n;
};

static int files_make(struct files *f, const char *base, int n)
{
	int i;

	snprintf(f->dir, sizeof(f->dir), "%s/vmp-uswap.XXXXXX", base);
	if (!mkdtemp(f->dir))
		return -errno;
	for (i = 0; i < n; i++) {
		snprintf(f->path[i], sizeof(f->path[i]), "%s/swap%d", f->dir, i);
		f->paths[i] = f->path[i];
	}
	f->n = n;
	return 0;
}

static void files_rm(struct files *f)
{
	int i;

	for (i = 0; i < f->n; i++)
		unlink(f->path[i]);
	rmdir(f->dir);
}

static uint64_t word(uint64_t seed, uint64_t slot, uint64_t w)
{
	return (seed << 40) ^ (slot << 12) ^ w;
}

static void fill(void *buf, uint64_t seed, uint64_t slot)
{
	uint64_t *p = buf, w;

	for (w = 0; w < PG / 8; w++)
		p[w] = word(seed, slot, w);
}

static int check(const void *buf, uint64_t seed, uint64_t slot)
{
	const uint64_t *p = buf;
	uint64_t w;

	for (w = 0; w < PG / 8; w++)
		if (p[w] != word(seed, slot, w))
			return (int)w;
	return -1;
}

/* Submit what is queued, wait for @n completions; count those != PG. */
static int reap(struct io_uring *ring, unsigned int n, int *bad)
{
	struct io_uring_cqe *cqe;
	int ret;

	ret = io_uring_submit_and_wait(ring, n);
	if (ret < 0)
		return ret;
	*bad = 0;
	while (n--) {
		ret = io_uring_wait_cqe(ring, &cqe);
		if (ret)
			return ret;
		if (cqe->res != (int)PG)
			(*bad)++;
		io_uring_cqe_seen(ring, cqe);
	}
	return 0;
}

TEST(bad_arguments_are_refused)
{
	struct vmp_uswap *sw = (void *)1;
	char *none[] = { NULL };
	char *empty[] = { "" };
	struct files f;

	ASSERT_EQ(0, files_make(&f, direct_dir(), 1));
	EXPECT_EQ(-EINVAL, vmp_uswap_open(&sw, f.paths, 0, 16));
	EXPECT_EQ(NULL, sw);
	EXPECT_EQ(-EINVAL, vmp_uswap_open(&sw, f.paths, 1, 0));
	EXPECT_EQ(-EINVAL, vmp_uswap_open(&sw, none, 1, 16));
	EXPECT_EQ(-EINVAL, vmp_uswap_open(&sw, empty, 1, 16));
	EXPECT_EQ(-EINVAL, vmp_uswap_open(&sw, f.paths, VMP_USWAP_MAX_FILES + 1, 16));
	EXPECT_EQ(-ENOENT, vmp_uswap_open(&sw, (char *[]){ "/nonexistent-dir/x" }, 1, 16));
	EXPECT_EQ(-EINVAL, vmp_uswap_open(&sw, (char *[]){ "/dev/null" }, 1, 16))
		TH_LOG("a character device is no swap file");
	files_rm(&f);
}

TEST(created_0600_and_preallocated)
{
	struct vmp_uswap *sw;
	struct files f;
	struct stat st;
	int i;

	ASSERT_EQ(0, files_make(&f, direct_dir(), 3));
	ASSERT_EQ(0, vmp_uswap_open(&sw, f.paths, 3, 100));
	EXPECT_EQ(300, vmp_uswap_nslots(sw));
	EXPECT_EQ(3, vmp_uswap_nfiles(sw));
	EXPECT_EQ(0, vmp_uswap_used(sw));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, stat(f.path[i], &st));
		EXPECT_EQ(0600, st.st_mode & 07777);
		EXPECT_EQ(100 * PG, st.st_size);
		/* fallocate: blocks exist before any write */
		EXPECT_LE(100 * PG / 512, st.st_blocks);
	}
	vmp_uswap_close(sw);
	files_rm(&f);
}

TEST(group_or_other_bits_refused)
{
	struct vmp_uswap *sw = NULL;
	struct files f;
	int fd;

	ASSERT_EQ(0, files_make(&f, direct_dir(), 2));
	fd = open(f.path[1], O_CREAT | O_WRONLY, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fchmod(fd, 0640));
	close(fd);
	EXPECT_EQ(-EACCES, vmp_uswap_open(&sw, f.paths, 2, 8));
	EXPECT_EQ(NULL, sw);
	ASSERT_EQ(0, chmod(f.path[1], 0604));
	EXPECT_EQ(-EACCES, vmp_uswap_open(&sw, f.paths, 2, 8));
	/* an existing private file is reused */
	ASSERT_EQ(0, chmod(f.path[1], 0600));
	ASSERT_EQ(0, vmp_uswap_open(&sw, f.paths, 2, 8));
	vmp_uswap_close(sw);
	files_rm(&f);
}

/* O_DIRECT can be opened here (tmpfs: only since Linux 6.6). */
static bool direct_works(const char *dir)
{
	char path[300];
	int fd;

	snprintf(path, sizeof(path), "%s/probe", dir);
	fd = open(path, O_CREAT | O_RDWR | O_DIRECT, 0600);
	if (fd >= 0)
		close(fd);
	unlink(path);
	return fd >= 0;
}

TEST(direct_where_the_filesystem_allows)
{
	const char *bases[] = { "/dev/shm", direct_dir() };
	struct vmp_uswap *sw;
	struct files f;
	struct statfs sfs;
	unsigned int i;
	bool probe;

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, files_make(&f, bases[i], 1));
		ASSERT_EQ(0, statfs(f.dir, &sfs));
		probe = direct_works(f.dir);
		ASSERT_EQ(0, vmp_uswap_open(&sw, f.paths, 1, 8));
		/* direct where the filesystem takes it, buffered (not failed) elsewhere */
		EXPECT_EQ(probe, vmp_uswap_direct(sw));
		if (sfs.f_type == EXT4_SUPER_MAGIC)
			EXPECT_TRUE(probe);
		TH_LOG("%s: fs magic %#lx, direct %d", f.dir,
		       (unsigned long)sfs.f_type, vmp_uswap_direct(sw));
		vmp_uswap_close(sw);
		files_rm(&f);
	}
}

TEST(alloc_next_fit_until_full)
{
	struct vmp_uswap *sw;
	struct files f;
	int64_t s;
	int i;

	ASSERT_EQ(0, files_make(&f, direct_dir(), 2));
	ASSERT_EQ(0, vmp_uswap_open(&sw, f.paths, 2, 70));	/* 140: crosses words */
	for (i = 0; i < 140; i++)
		ASSERT_EQ(i, vmp_uswap_alloc(sw));
	EXPECT_EQ(140, vmp_uswap_used(sw));
	EXPECT_EQ(-ENOSPC, vmp_uswap_alloc(sw));
	EXPECT_TRUE(vmp_uswap_in_use(sw, 139));
	vmp_uswap_free(sw, 5);
	vmp_uswap_free(sw, 100);
	vmp_uswap_free(sw, 101);
	EXPECT_FALSE(vmp_uswap_in_use(sw, 100));
	/* the cursor wrapped to 0: next-fit finds 5 first, then 100, 101 */
	EXPECT_EQ(5, vmp_uswap_alloc(sw));
	EXPECT_EQ(100, vmp_uswap_alloc(sw));
	EXPECT_EQ(101, vmp_uswap_alloc(sw));
	EXPECT_EQ(-ENOSPC, vmp_uswap_alloc(sw));
	/* next-fit, not first-fit: after 101, a free 3 is found after 120 */
	vmp_uswap_free(sw, 3);
	vmp_uswap_free(sw, 120);
	EXPECT_EQ(120, vmp_uswap_alloc(sw));
	EXPECT_EQ(3, vmp_uswap_alloc(sw));
	/* a freed run comes back as a cluster, in order */
	for (s = 60; s < 68; s++)
		vmp_uswap_free(sw, (uint64_t)s);
	for (s = 60; s < 68; s++)
		EXPECT_EQ(s, vmp_uswap_alloc(sw));
	EXPECT_EQ(140, vmp_uswap_used(sw));
	vmp_uswap_close(sw);
	files_rm(&f);
}

/* Write every slot through the ring, check the striping in the files, read back. */
static void roundtrip(struct __test_metadata *_metadata, const char *base,
		      int nfiles, uint64_t per_file, bool fixed)
{
	uint64_t nslots = nfiles * per_file, s, batch;
	struct io_uring ring;
	struct vmp_uswap *sw;
	struct files f;
	struct iovec iov;
	char *bufs, *page;
	int bad = 0, i;

	ASSERT_EQ(0, files_make(&f, base, nfiles));
	ASSERT_EQ(0, vmp_uswap_open(&sw, f.paths, nfiles, per_file));
	ASSERT_EQ(0, io_uring_queue_init(32, &ring, 0));
	bufs = mmap(NULL, 32 * PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bufs);
	page = aligned_alloc(PG, PG);
	ASSERT_NE(NULL, page);
	if (fixed) {
		iov.iov_base = bufs;
		iov.iov_len = 32 * PG;
		ASSERT_EQ(0, io_uring_register_buffers(&ring, &iov, 1));
	}
	/* writes in batches of 32, each from its own buffer */
	for (s = 0; s < nslots; s += batch) {
		batch = nslots - s < 32 ? nslots - s : 32;
		for (i = 0; i < (int)batch; i++) {
			ASSERT_EQ((int64_t)(s + i), vmp_uswap_alloc(sw));
			fill(bufs + i * PG, 7, s + i);
			vmp_uswap_prep_write(sw, io_uring_get_sqe(&ring), s + i,
					     bufs + i * PG, fixed ? 0 : -1);
		}
		ASSERT_EQ(0, reap(&ring, batch, &bad));
		ASSERT_EQ(0, bad);
	}
	/* striping: slot s is in file s % n at page s / n */
	for (s = 0; s < nslots; s++) {
		int fd = open(f.path[s % nfiles], O_RDONLY);

		ASSERT_LE(0, fd);
		ASSERT_EQ(PG, pread(fd, page, PG, (off_t)(s / nfiles) * PG));
		close(fd);
		ASSERT_EQ(-1, check(page, 7, s)) TH_LOG("slot %llu in file",
							 (unsigned long long)s);
	}
	/* read back in reverse order, batched */
	for (s = nslots; s > 0; s -= batch) {
		batch = s < 32 ? s : 32;
		memset(bufs, 0, 32 * PG);
		for (i = 0; i < (int)batch; i++)
			vmp_uswap_prep_read(sw, io_uring_get_sqe(&ring),
					    s - 1 - i, bufs + i * PG,
					    fixed ? 0 : -1);
		ASSERT_EQ(0, reap(&ring, batch, &bad));
		ASSERT_EQ(0, bad);
		for (i = 0; i < (int)batch; i++)
			ASSERT_EQ(-1, check(bufs + i * PG, 7, s - 1 - i));
	}
	if (fixed)
		io_uring_unregister_buffers(&ring);
	io_uring_queue_exit(&ring);
	munmap(bufs, 32 * PG);
	free(page);
	vmp_uswap_close(sw);
	files_rm(&f);
}

TEST(roundtrip_fixed_buffers_three_files)
{
	roundtrip(_metadata, direct_dir(), 3, 67, true);
}

TEST(roundtrip_plain_buffers_one_file)
{
	roundtrip(_metadata, direct_dir(), 1, 100, false);
}

TEST(roundtrip_buffered_tmpfs_two_files)
{
	roundtrip(_metadata, "/dev/shm", 2, 50, true);
}

/*
 * Runs (the swap server's VMPAGER_SRV_F_RUNS): with one file a run of
 * slots is one stretch of it and moves with one request; striped files
 * give one page per stretch; the stretch never passes the last slot.
 */
TEST(runs_of_slots_move_in_one_request_with_one_file)
{
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	struct vmp_uswap *sw, *sw2;
	struct files f, f2;
	char *buf;
	int i;

	ASSERT_EQ(0, files_make(&f, direct_dir(), 1));
	ASSERT_EQ(0, files_make(&f2, direct_dir(), 2));
	ASSERT_EQ(0, vmp_uswap_open(&sw, f.paths, 1, 64));
	ASSERT_EQ(0, vmp_uswap_open(&sw2, f2.paths, 2, 32));
	EXPECT_EQ(32U, vmp_uswap_contig(sw, 8, 32));
	EXPECT_EQ(4U, vmp_uswap_contig(sw, 60, 32));	/* the file ends */
	EXPECT_EQ(0U, vmp_uswap_contig(sw, 64, 1));
	EXPECT_EQ(1U, vmp_uswap_contig(sw2, 8, 32));
	buf = aligned_alloc(PG, 8 * PG);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	for (i = 0; i < 8; i++)
		fill(buf + i * PG, 9, 20 + i);
	vmp_uswap_prep_pages(sw, io_uring_get_sqe(&ring), true, 20, 8, buf, -1);
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ((int)(8 * PG), cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	memset(buf, 0, 8 * PG);
	vmp_uswap_prep_pages(sw, io_uring_get_sqe(&ring), false, 20, 8, buf, -1);
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ((int)(8 * PG), cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	for (i = 0; i < 8; i++)
		EXPECT_EQ(-1, check(buf + i * PG, 9, 20 + i));
	/* a run from separate buffers (vectored) lands page by page too */
	{
		struct iovec iov[4];
		char *pages[4];

		for (i = 0; i < 4; i++) {
			pages[i] = aligned_alloc(PG, PG);
			ASSERT_NE(NULL, pages[i]);
			fill(pages[i], 11, 40 + i);
			iov[i] = (struct iovec){ pages[i], PG };
		}
		vmp_uswap_prep_pagesv(sw, io_uring_get_sqe(&ring), true, 40,
				      iov, 4);
		ASSERT_EQ(1, io_uring_submit(&ring));
		ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
		EXPECT_EQ((int)(4 * PG), cqe->res);
		io_uring_cqe_seen(&ring, cqe);
		for (i = 0; i < 4; i++)
			memset(pages[i], 0, PG);
		vmp_uswap_prep_pagesv(sw, io_uring_get_sqe(&ring), false, 40,
				      iov, 4);
		ASSERT_EQ(1, io_uring_submit(&ring));
		ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
		EXPECT_EQ((int)(4 * PG), cqe->res);
		io_uring_cqe_seen(&ring, cqe);
		for (i = 0; i < 4; i++) {
			EXPECT_EQ(-1, check(pages[i], 11, 40 + i));
			free(pages[i]);
		}
		vmp_uswap_prep_read(sw, io_uring_get_sqe(&ring), 42, buf, -1);
		ASSERT_EQ(1, io_uring_submit(&ring));
		ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
		EXPECT_EQ((int)PG, cqe->res);
		io_uring_cqe_seen(&ring, cqe);
		EXPECT_EQ(-1, check(buf, 11, 42));
	}
	/* the single-page reader sees the run's pages at their slots */
	memset(buf, 0, PG);
	vmp_uswap_prep_read(sw, io_uring_get_sqe(&ring), 27, buf, -1);
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ((int)PG, cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	EXPECT_EQ(-1, check(buf, 9, 27));
	io_uring_queue_exit(&ring);
	free(buf);
	vmp_uswap_close(sw);
	vmp_uswap_close(sw2);
	files_rm(&f);
	files_rm(&f2);
}

/* Reading beyond the preallocated size is a short read the caller sees. */
TEST(short_read_beyond_end_is_visible)
{
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	struct vmp_uswap *sw;
	struct files f;
	void *buf;

	ASSERT_EQ(0, files_make(&f, direct_dir(), 1));
	ASSERT_EQ(0, vmp_uswap_open(&sw, f.paths, 1, 4));
	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	buf = aligned_alloc(PG, PG);
	ASSERT_NE(NULL, buf);
	/* slot 4 does not exist: offset 16 KiB is the end of the file */
	vmp_uswap_prep_read(sw, io_uring_get_sqe(&ring), 4, buf, -1);
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_NE((int)PG, cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
	free(buf);
	vmp_uswap_close(sw);
	files_rm(&f);
}

TEST_HARNESS_MAIN
