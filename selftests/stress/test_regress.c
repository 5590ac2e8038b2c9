// SPDX-License-Identifier: GPL-2.0
/*
 * Regression tests for module bugs the stress suite found; each reproduces
 * one bug in seconds. Some bugs only show as a KASAN report (the debug
 * kernel's guest run fails on it), so these tests also pass in userspace on
 * a broken module and must run on the debug kernel to mean anything.
 */
#include <pthread.h>
#include "vmp_test.h"

/*
 * Found by vmpfuzz on the debug kernel (KASAN: use-after-free in
 * frames_show, the object freed by vmp_obj_destroy): an eviction publishes
 * the page's new slot (xa_store/xa_erase) and unfreezes the page before it
 * is done with the object (obj->resident, vmp_page_key(obj)) and before the
 * frame stops being VMP_FRAME_USED with fr->obj = obj. An object being
 * destroyed at that moment sees the new slot, does not wait for the page
 * lock, and frees the object under the eviction and under debugfs "frames".
 *
 * Reproducer: a tiny pool, so the reclaim kthread evicts all the time;
 * processes that fault pages in read-only (never-written pages: evict_zero,
 * no I/O, the fastest eviction) and close their object at once; a thread
 * reading debugfs "frames" in a loop, which dereferences fr->obj.
 */
#define POOL		64
#define OBJ_PAGES	512
#define SECS		15

static volatile int stop_reader;

static void *frames_reader(void *arg)
{
	(void)arg;
	while (!stop_reader)
		free(vmp_read_file(VMP_DEBUGFS "/frames"));
	return NULL;
}

static void churn(unsigned int secs)
{
	time_t end = time(NULL) + secs;
	char *p;
	int fd;

	while (time(NULL) < end) {
		fd = vmp_open();
		if (fd < 0)
			_exit(2);
		p = vmp_map(fd, 0, OBJ_PAGES, MAP_PRIVATE);
		if (p == MAP_FAILED)
			_exit(3);
		vmp_touch_read(p, OBJ_PAGES);
		/* munmap + close: destroy while the kthread evicts its pages */
		munmap(p, OBJ_PAGES * PG);
		close(fd);
	}
	_exit(0);
}

TEST(destroy_during_eviction)
{
	struct vmpager_global_info gi;
	pthread_t reader;
	pid_t pids[3];
	unsigned int i;
	int st;

	ASSERT_EQ(0, vmp_load("pool_pages=64 policy=fifo"));
	ASSERT_EQ(0, pthread_create(&reader, NULL, frames_reader, NULL));
	for (i = 0; i < 3; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i])
			churn(SECS);
	}
	for (i = 0; i < 3; i++) {
		st = vmp_wait(pids[i]);
		EXPECT_TRUE(VMP_EXITED(st, 0)) TH_LOG("churn child status %#x", st);
	}
	stop_reader = 1;
	pthread_join(reader, NULL);
	ASSERT_EQ(0, vmp_global(&gi));
	EXPECT_EQ(gi.pool_pages, gi.free_pages);
	EXPECT_EQ(0ULL, (unsigned long long)gi.orphaned_pages);
	EXPECT_EQ(0, vmp_unload_wait(2000));
}

/*
 * Found by the isolation review: the module checks a swap file's mode
 * (group/other bits: EACCES) but not its owner. A file of mode 0600 owned
 * by another user is accepted, and that user can then read every page
 * vmpager swaps out, of every process. The README's example path is in
 * /var/tmp, where any user can create the file first. Refusing a file not
 * owned by root (or by the loader's fsuid) closes it.
 */
TEST(swapfile_of_another_user_refused)
{
	char path[256], params[384];
	int fd, r;

	snprintf(path, sizeof(path), "%s/vmp-regress-owner.swap", vmp_swap_dir());
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fchown(fd, 65534, 65534));
	close(fd);
	snprintf(params, sizeof(params), "pool_pages=64 swapfile=%s swap_pages=64", path);
	r = vmp_load(params);
	if (!r)
		vmp_unload_wait(2000);
	unlink(path);
	EXPECT_NE(0, r) TH_LOG("a swap file owned by uid 65534 was accepted: that user can "
			       "read every swapped page");
}

/*
 * Found by CI (make check, test_swap's overcommit.clock.random_rewrites on
 * Debian's kernel): BUG: kernel NULL pointer dereference in
 * ext4_file_read_iter, from vmp_io_work. ext4_dio_read_iter() calls
 * file_accessed(iocb->ki_filp) after iomap_dio_rw() has queued the read and
 * returned -EIOCBQUEUED. When the completion (an interrupt on another CPU,
 * or on this one right after submit_bio) ran first, the faulting task had
 * already been woken and had kfree()d the array holding the kiocb. The
 * kiocb must outlive the submitting call: the module now completes an I/O
 * only when both the submission and the completion have let go of it.
 *
 * Reproducer: swap-ins on ext4 with O_DIRECT (the scratch disk), as many at
 * once as possible: three processes reading pages of an object 16 times the
 * pool, with a read-ahead window of 16 pages (17 reads per fault, each in
 * its own kiocb). When the race hits, KASAN reports the freed kiocb on the
 * debug kernel and Debian's kernel may oops on the reused memory. It hits
 * rarely: the window is between iomap_dio_rw() dropping its reference (the
 * bio still in flight) and file_accessed(), a few instructions, and the
 * unfixed module survived 10,960 swap-ins of this test on the debug kernel.
 * So this keeps the path busy rather than reproducing the bug on demand.
 * The data must be exact, too.
 */
#define RA_POOL		64
#define RA_PAGES	1024
#define RA_SECS		15

static void swapin_reader(char *p, unsigned int secs, unsigned int id)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL * (id + 1);
	time_t end = time(NULL) + secs;
	unsigned long n = 0;
	size_t pg;

	while (time(NULL) < end) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		pg = seed % RA_PAGES;
		/* one page, exact: the read-ahead brings its neighbours */
		if (vmp_check(p + pg * PG, pg, 1, 0x5a) != -1) {
			fprintf(stderr, "# reader %u: page %zu differs\n", id, pg);
			_exit(1);
		}
		n++;
	}
	fprintf(stderr, "# reader %u: %lu pages checked\n", id, n);
	_exit(0);
}

TEST(swapin_kiocb_outlives_submission)
{
	struct vmpager_global_info a, b;
	char path[256], params[384], *p;
	const char *dir = getenv("VMP_DIRECT_DIR");
	pid_t pids[3];
	unsigned int i;
	int fd, st;

	if (!dir || !*dir)
		SKIP(return, "no O_DIRECT scratch disk (VMP_DIRECT_DIR)");
	snprintf(path, sizeof(path), "%s/vmp-regress-ra.swap", dir);
	unlink(path);
	snprintf(params, sizeof(params),
		 "pool_pages=%d policy=fifo swapfile=%s swap_pages=%d",
		 RA_POOL, path, 2 * RA_PAGES);
	ASSERT_EQ(0, vmp_load(params));
	ASSERT_EQ(0, vmp_write_file(VMP_DEBUGFS "/readahead", "16"));
	/* random reads: only the fixed window keeps the batches full */
	ASSERT_EQ(0, vmp_write_file(VMP_DEBUGFS "/ra_adaptive", "0"));
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, RA_PAGES, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, RA_PAGES, 0x5a);
	ASSERT_EQ(0, vmp_global_fd(fd, &a));
	for (i = 0; i < 3; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i])
			swapin_reader(p, RA_SECS, i);
	}
	for (i = 0; i < 3; i++) {
		st = vmp_wait(pids[i]);
		EXPECT_TRUE(VMP_EXITED(st, 0)) TH_LOG("reader status %#x", st);
	}
	ASSERT_EQ(0, vmp_global_fd(fd, &b));
	EXPECT_EQ(-1, vmp_check(p, 0, RA_PAGES, 0x5a));
	TH_LOG("%llu swap-ins, %llu read ahead, %llu major faults",
	       (unsigned long long)(b.stats[VMPAGER_STAT_swap_ins] - a.stats[VMPAGER_STAT_swap_ins]),
	       (unsigned long long)(b.stats[VMPAGER_STAT_readahead] - a.stats[VMPAGER_STAT_readahead]),
	       (unsigned long long)(b.stats[VMPAGER_STAT_faults_major] -
				    a.stats[VMPAGER_STAT_faults_major]));
	EXPECT_LT(0ULL, (unsigned long long)(b.stats[VMPAGER_STAT_readahead] -
					     a.stats[VMPAGER_STAT_readahead]));
	munmap(p, RA_PAGES * PG);
	close(fd);
	EXPECT_EQ(0, vmp_unload_wait(2000));
	unlink(path);
}

TEST_HARNESS_MAIN
