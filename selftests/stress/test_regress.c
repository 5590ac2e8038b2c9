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

TEST_HARNESS_MAIN
