// SPDX-License-Identifier: GPL-2.0
/*
 * The fault-injection matrix: for each injected failure (pool frame
 * allocation, kernel metadata allocation, swap read, swap write, swap full)
 * the documented outcome happens, and nothing else is harmed: the victim's
 * other pages, a bystander process's object and the pool's accounting stay
 * intact, and the module unloads clean afterwards.
 */
#include <sys/prctl.h>
#include "vmp_test.h"

#define POOL	256
#define NPG	(2 * POOL)
#define DFS	VMP_DEBUGFS
#define FAILSLAB VMP_DEBUGFS_ROOT "/failslab"

static char swapf[256];

static int load_pool(const char *extra, unsigned int swap_pages)
{
	char params[512];

	snprintf(swapf, sizeof(swapf), "%s/vmp-faultinj.swap", vmp_swap_dir());
	unlink(swapf);
	if (swap_pages)
		snprintf(params, sizeof(params), "pool_pages=%d policy=fifo swapfile=%s "
			 "swap_pages=%u %s", POOL, swapf, swap_pages, extra);
	else
		snprintf(params, sizeof(params), "pool_pages=%d policy=fifo %s", POOL, extra);
	return vmp_load(params);
}

static long long knob(const char *name)
{
	char path[128], *s;
	long long v = -1;

	snprintf(path, sizeof(path), DFS "/%s", name);
	s = vmp_read_file(path);
	if (s)
		v = strtoll(s, NULL, 0);
	free(s);
	return v;
}

static int set_knob(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), DFS "/%s", name);
	return vmp_write_file(path, val);
}

/* Every test loads its own module; the teardown clears the injection knobs. */
FIXTURE(fi) { int unused; };
FIXTURE_SETUP(fi) { }
FIXTURE_TEARDOWN(fi)
{
	if (vmp_loaded()) {
		set_knob("fail_reads", "0");
		set_knob("fail_writes", "0");
		set_knob("fail_allocs", "0");
	}
}

/* ---- the bystander: a process with its own object, checked on demand ---- */

struct bystander {
	pid_t pid;
	int cmd, res;		/* our ends of its two pipes */
};

/* Start it: its object of @n pages is written with seed 0x900 before this returns. */
static int bystander_start(struct bystander *b, size_t n)
{
	int to[2], from[2];
	uint64_t seed = 0x900;
	char c;

	if (pipe(to) || pipe(from))
		return -1;
	b->pid = fork();
	if (b->pid < 0)
		return -1;
	if (!b->pid) {
		int fd = vmp_open();
		char *p = fd < 0 ? MAP_FAILED : vmp_map(fd, 0, n, MAP_SHARED);

		close(to[1]);
		close(from[0]);
		if (p == MAP_FAILED)
			_exit(2);
		vmp_fill(p, 0, n, seed);
		vmp_post(from[1]);
		while (read(to[0], &c, 1) == 1 && c == 'c') {
			/* check, then rewrite with the next seed */
			c = vmp_check(p, 0, n, seed) == -1 ? 'y' : 'n';
			vmp_fill(p, 0, n, ++seed);
			if (write(from[1], &c, 1) != 1)
				break;
		}
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	b->cmd = to[1];
	b->res = from[0];
	return vmp_pend(b->res);
}

/* 1 if its object is exact and it could rewrite it, else 0. */
static int bystander_ok(struct bystander *b)
{
	char c = 'c';

	if (write(b->cmd, &c, 1) != 1 || read(b->res, &c, 1) != 1)
		return 0;
	return c == 'y';
}

static int bystander_stop(struct bystander *b)
{
	close(b->cmd);
	close(b->res);
	return vmp_wait(b->pid);
}

/* Pages of object @id resident in the pool, from debugfs "frames". */
static void resident_map(uint64_t id, unsigned char *res, size_t n)
{
	char *buf = vmp_read_file(DFS "/frames"), *line, *save = NULL;
	unsigned long long obj, idx;
	char flags[16], order[16];
	unsigned int frame;

	memset(res, 0, n);
	if (!buf)
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%u %15s %15s %llu %llu", &frame, flags, order, &obj, &idx) == 5 &&
		    obj == id && idx < n)
			res[idx] = 1;
	free(buf);
}

/* A page of @fd's object with pages [pg, pg + run) all in swap, or -1. */
static long swapped_run(int fd, size_t n, size_t run)
{
	static unsigned char res[NPG];
	struct vmpager_obj_info oi;
	size_t i, k;

	if (vmp_obj(fd, &oi))
		return -1;
	resident_map(oi.id, res, n);
	for (i = 0; i + run <= n; i++) {
		for (k = 0; k < run && !res[i + k]; k++)
			;
		if (k == run)
			return (long)i;
	}
	return -1;
}

static int pool_consistent(struct vmpager_global_info *gi)
{
	return gi->free_pages + gi->resident_pages + gi->orphaned_pages == gi->pool_pages &&
	       gi->orphaned_pages == 0;
}

/* Every object closed: every frame free, no slot used, unload works. */
static void expect_clean_end(struct __test_metadata *_metadata)
{
	struct vmpager_global_info gi;
	char *s;

	ASSERT_EQ(0, vmp_global(&gi));
	EXPECT_EQ(gi.pool_pages, gi.free_pages);
	EXPECT_EQ(0ULL, (unsigned long long)gi.orphaned_pages);
	s = vmp_read_file(DFS "/swap");
	if (s)
		EXPECT_TRUE(strstr(s, "used 0\n") != NULL) TH_LOG("swap: %s", s);
	free(s);
	EXPECT_EQ(0, vmp_unload_wait(3000));
	unlink(swapf);
}

/*
 * Frame allocation failure with nothing to reclaim (no swap, every
 * resident page dirty): the faulting access gets SIGBUS (BUS_ADRERR at its
 * address), the budget is consumed, the next access to the page works, and
 * neither the victim's other pages nor the bystander notice.
 */
TEST_F_TIMEOUT(fi, alloc_fail_nothing_to_reclaim_sigbus, 60)
{
	struct vmpager_global_info a, b;
	struct bystander by;
	siginfo_t si;
	char *p;
	int fd;

	ASSERT_EQ(0, load_pool("", 0));
	ASSERT_EQ(0, bystander_start(&by, 64));
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, 16, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p + PG, 1, 15, 0x11);
	ASSERT_EQ(0, vmp_global_fd(fd, &a));
	ASSERT_EQ(0, set_knob("fail_allocs", "1"));
	EXPECT_EQ(SIGBUS, vmp_try_write(p, 0x1234, &si));
	EXPECT_EQ(BUS_ADRERR, si.si_code);
	EXPECT_EQ((void *)p, si.si_addr);
	ASSERT_EQ(0, vmp_global_fd(fd, &b));
	EXPECT_EQ(0LL, knob("fail_allocs"));
	EXPECT_EQ(1ULL, DST(a, b, alloc_fail));
	EXPECT_EQ(1ULL, DST(a, b, oom_sigbus));
	vmp_fill(p, 0, 1, 0x11);
	EXPECT_EQ(-1, vmp_check(p, 0, 16, 0x11));
	EXPECT_TRUE(bystander_ok(&by));
	EXPECT_TRUE(pool_consistent(&b));
	EXPECT_EQ(0, bystander_stop(&by));
	munmap(p, 16 * PG);
	close(fd);
	expect_clean_end(_metadata);
}

/*
 * Frame allocation failure with reclaimable pages: each failed try
 * reclaims and the fault tries again (4 tries); 3 injected failures are
 * absorbed (no signal), 4 make the access SIGBUS. Data stays exact.
 */
TEST_F_TIMEOUT(fi, alloc_fail_absorbed_by_reclaim_then_sigbus, 120)
{
	struct vmpager_global_info a, b;
	struct bystander by;
	siginfo_t si;
	char *p;
	int fd;

	ASSERT_EQ(0, load_pool("", 8 * NPG));
	ASSERT_EQ(0, bystander_start(&by, 32));
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, NPG, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, NPG - 2, 0x22);		/* 2x the pool, dirty: reclaim writes */

	ASSERT_EQ(0, vmp_global_fd(fd, &a));
	ASSERT_EQ(0, set_knob("fail_allocs", "3"));
	EXPECT_EQ(0, vmp_try_write(p + (NPG - 2) * PG, 1, &si));
	ASSERT_EQ(0, vmp_global_fd(fd, &b));
	EXPECT_EQ(0LL, knob("fail_allocs"));
	EXPECT_EQ(3ULL, DST(a, b, alloc_fail));
	EXPECT_EQ(0ULL, DST(a, b, oom_sigbus));
	vmp_fill(p + (NPG - 2) * PG, NPG - 2, 1, 0x22);

	ASSERT_EQ(0, set_knob("fail_allocs", "4"));
	EXPECT_EQ(SIGBUS, vmp_try_write(p + (NPG - 1) * PG, 1, &si));
	ASSERT_EQ(0, vmp_global_fd(fd, &a));
	EXPECT_EQ(0LL, knob("fail_allocs"));
	EXPECT_EQ(4ULL, DST(b, a, alloc_fail));
	EXPECT_EQ(1ULL, DST(b, a, oom_sigbus));
	vmp_fill(p + (NPG - 1) * PG, NPG - 1, 1, 0x22);
	EXPECT_EQ(-1, vmp_check(p, 0, NPG, 0x22));
	EXPECT_TRUE(bystander_ok(&by));
	EXPECT_TRUE(pool_consistent(&a));
	EXPECT_EQ(0, bystander_stop(&by));
	munmap(p, NPG * PG);
	close(fd);
	expect_clean_end(_metadata);
}

/*
 * Swap read error without readahead: exactly the faulting access gets
 * SIGBUS; the page is read again by the next access and is exact.
 */
TEST_F_TIMEOUT(fi, swap_read_error_only_that_access, 120)
{
	struct vmpager_global_info a, b;
	struct bystander by;
	siginfo_t si;
	uint64_t v;
	long pg;
	char *p;
	int fd;

	ASSERT_EQ(0, load_pool("", 8 * NPG));
	ASSERT_EQ(0, set_knob("readahead", "0"));
	ASSERT_EQ(0, bystander_start(&by, 32));
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, NPG, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, NPG, 0x33);
	pg = swapped_run(fd, NPG, 1);
	ASSERT_LE(0, pg) TH_LOG("no swapped page found");
	ASSERT_EQ(0, vmp_global_fd(fd, &a));
	ASSERT_EQ(0, set_knob("fail_reads", "1"));
	EXPECT_EQ(SIGBUS, vmp_try_read(p + pg * PG, &v, &si));
	EXPECT_EQ((void *)(p + pg * PG), si.si_addr);
	ASSERT_EQ(0, vmp_global_fd(fd, &b));
	EXPECT_EQ(0LL, knob("fail_reads"));
	EXPECT_EQ(1ULL, DST(a, b, read_errors));
	EXPECT_EQ(-1, vmp_check(p + pg * PG, pg, 1, 0x33));
	EXPECT_EQ(-1, vmp_check(p, 0, NPG, 0x33));
	EXPECT_TRUE(bystander_ok(&by));
	EXPECT_EQ(0, bystander_stop(&by));
	munmap(p, NPG * PG);
	close(fd);
	expect_clean_end(_metadata);
}

/*
 * Swap read errors in a readahead batch: the faulting page gets SIGBUS;
 * failed read-ahead pages stay in the object not up to date and are read
 * again by their own next fault; every page ends exact.
 */
TEST_F_TIMEOUT(fi, swap_read_error_readahead_batch, 120)
{
	struct vmpager_global_info a, b;
	siginfo_t si;
	uint64_t v;
	long pg, left;
	char *p;
	int fd;

	ASSERT_EQ(0, load_pool("", 8 * NPG));
	ASSERT_EQ(0, set_knob("readahead", "8"));
	ASSERT_EQ(0, set_knob("ra_adaptive", "0"));	/* a whole batch, always */
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, NPG, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, NPG, 0x44);
	pg = swapped_run(fd, NPG, 9);
	ASSERT_LE(0, pg) TH_LOG("no run of 9 swapped pages");
	ASSERT_EQ(0, vmp_global_fd(fd, &a));
	ASSERT_EQ(0, set_knob("fail_reads", "9"));
	EXPECT_EQ(SIGBUS, vmp_try_read(p + pg * PG, &v, &si));
	left = knob("fail_reads");
	ASSERT_EQ(0, set_knob("fail_reads", "0"));
	ASSERT_EQ(0, vmp_global_fd(fd, &b));
	/* every read of the batch failed: the faulting page and each read-ahead one */
	EXPECT_EQ(1 + DST(a, b, readahead), DST(a, b, read_errors));
	EXPECT_EQ((unsigned long long)(9 - left), (unsigned long long)DST(a, b, read_errors));
	TH_LOG("batch: %llu read-ahead pages failed with the faulting one",
	       (unsigned long long)DST(a, b, readahead));
	EXPECT_EQ(-1, vmp_check(p + pg * PG, pg, 9, 0x44));
	EXPECT_EQ(-1, vmp_check(p, 0, NPG, 0x44));
	munmap(p, NPG * PG);
	close(fd);
	expect_clean_end(_metadata);
}

/*
 * Swap write errors: a page whose write fails stays resident and dirty,
 * nothing is lost; when the pool is full of such pages a new page's fault
 * gets SIGBUS. Once writes work again everything proceeds and is exact.
 */
TEST_F_TIMEOUT(fi, swap_write_error_never_loses_data, 120)
{
	struct vmpager_global_info a, b;
	struct bystander by;
	size_t i, first_bus = NPG;
	siginfo_t si;
	char *p;
	int fd;

	ASSERT_EQ(0, load_pool("", 8 * NPG));
	ASSERT_EQ(0, bystander_start(&by, 32));
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, NPG, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, vmp_global_fd(fd, &a));
	ASSERT_EQ(0, set_knob("fail_writes", "2147483647"));
	for (i = 0; i < NPG; i++) {
		if (vmp_try_write(p + i * PG, vmp_word(0x55, i, 0), &si)) {
			first_bus = i;
			break;
		}
		vmp_fill(p + i * PG, i, 1, 0x55);
	}
	ASSERT_EQ(0, vmp_global_fd(fd, &b));
	EXPECT_GT((size_t)NPG, first_bus) TH_LOG("no SIGBUS with every write failing");
	EXPECT_LT(0ULL, DST(a, b, write_errors));
	EXPECT_EQ(0ULL, DST(a, b, swap_outs));
	EXPECT_EQ(-1, vmp_check(p, 0, first_bus, 0x55));
	ASSERT_EQ(0, set_knob("fail_writes", "0"));
	vmp_fill(p + first_bus * PG, first_bus, NPG - first_bus, 0x55);
	EXPECT_EQ(-1, vmp_check(p, 0, NPG, 0x55));
	TH_LOG("first SIGBUS at page %zu of a %d-page pool; %llu write errors", first_bus, POOL,
	       (unsigned long long)DST(a, b, write_errors));
	EXPECT_TRUE(bystander_ok(&by));
	EXPECT_EQ(0, bystander_stop(&by));
	munmap(p, NPG * PG);
	close(fd);
	expect_clean_end(_metadata);
}

/*
 * Swap full: the process overrunning pool + swap gets SIGBUS; the others
 * keep their data; when its object dies its slots are free again and a new
 * object can go beyond the pool.
 */
TEST_F_TIMEOUT(fi, swap_full_then_recovers, 120)
{
	struct vmpager_global_info gi;
	struct bystander by;
	siginfo_t si;
	pid_t pid;
	char *p;
	int fd;

	ASSERT_EQ(0, load_pool("", 128));
	ASSERT_EQ(0, bystander_start(&by, 32));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int cfd = vmp_open();
		char *c = cfd < 0 ? MAP_FAILED : vmp_map(cfd, 0, 4 * POOL, MAP_SHARED);

		if (c == MAP_FAILED)
			_exit(2);
		for (size_t i = 0; i < 4 * POOL; i++)
			if (vmp_try_write(c + i * PG, 1, &si) == SIGBUS)
				_exit(0);
		_exit(1);
	}
	EXPECT_EQ(0, vmp_wait(pid));
	ASSERT_EQ(0, vmp_global(&gi));
	EXPECT_LT(0ULL, ST(gi, swap_full));
	EXPECT_TRUE(bystander_ok(&by));
	/* the overrunner is gone: beyond the pool works again */
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, POOL + 64, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, POOL + 64, 0x66);
	EXPECT_EQ(-1, vmp_check(p, 0, POOL + 64, 0x66));
	EXPECT_TRUE(bystander_ok(&by));
	EXPECT_EQ(0, bystander_stop(&by));
	munmap(p, (POOL + 64) * PG);
	close(fd);
	expect_clean_end(_metadata);
}

/*
 * The kernel's fault-injection framework (issue 19), where the kernel has
 * it (CONFIG_FAULT_INJECTION_DEBUG_FS: the debug kernel): fault_reads/
 * with probability 100 and times 2 fails exactly the next two swap reads,
 * whatever task does them; with task-filter on, only tasks marked
 * make-it-fail fail, so this one reads normally. Nothing is lost: each
 * failed page reads back exact at its next access.
 */
TEST_F_TIMEOUT(fi, fault_attr_fails_swap_reads, 120)
{
	struct vmpager_global_info a, b;
	siginfo_t si;
	uint64_t v;
	long pg;
	char *p;
	int fd;

	ASSERT_EQ(0, load_pool("", 8 * NPG));
	if (access(VMP_DEBUGFS "/fault_reads/probability", W_OK)) {
		ASSERT_EQ(0, vmp_unload_wait(2000));
		SKIP(return, "no debugfs fault_reads/ (CONFIG_FAULT_INJECTION_DEBUG_FS: the debug kernel has it)");
	}
	ASSERT_EQ(0, set_knob("readahead", "0"));
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, NPG, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, NPG, 0x3a);
	pg = swapped_run(fd, NPG, 4);
	ASSERT_LE(0, pg) TH_LOG("no run of 4 swapped pages");
	ASSERT_EQ(0, vmp_global_fd(fd, &a));
	ASSERT_EQ(0, set_knob("fault_reads/task-filter", "N"));
	ASSERT_EQ(0, set_knob("fault_reads/interval", "1"));
	ASSERT_EQ(0, set_knob("fault_reads/times", "2"));
	ASSERT_EQ(0, set_knob("fault_reads/probability", "100"));
	EXPECT_EQ(SIGBUS, vmp_try_read(p + pg * PG, &v, &si));
	EXPECT_EQ(SIGBUS, vmp_try_read(p + (pg + 1) * PG, &v, &si));
	EXPECT_EQ(0, vmp_try_read(p + (pg + 2) * PG, &v, &si));	/* times used up */
	EXPECT_EQ(0LL, knob("fault_reads/times"));
	ASSERT_EQ(0, vmp_global_fd(fd, &b));
	EXPECT_EQ(2ULL, DST(a, b, read_errors));
	/* task-filter: this task is not marked make-it-fail */
	ASSERT_EQ(0, set_knob("fault_reads/times", "5"));
	ASSERT_EQ(0, set_knob("fault_reads/task-filter", "Y"));
	EXPECT_EQ(0, vmp_try_read(p + (pg + 3) * PG, &v, &si));
	EXPECT_EQ(5LL, knob("fault_reads/times"));
	ASSERT_EQ(0, vmp_global_fd(fd, &a));
	EXPECT_EQ(0ULL, DST(b, a, read_errors));
	ASSERT_EQ(0, set_knob("fault_reads/probability", "0"));
	ASSERT_EQ(0, set_knob("fault_reads/task-filter", "N"));
	EXPECT_EQ(-1, vmp_check(p, 0, NPG, 0x3a));
	munmap(p, NPG * PG);
	close(fd);
	expect_clean_end(_metadata);
}

/* ---- kernel metadata allocation failure: failslab (debug kernel) ---- */

static int nth_fd = -1;

/* 0 if this kernel can fail the n-th slab allocation of this task. */
static int failslab_setup(void)
{
	if (access(FAILSLAB, F_OK))
		return -1;
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (nth_fd < 0)
		return -1;
	/* GFP_KERNEL allocations too; no stack dump per injected failure */
	if (vmp_write_file(FAILSLAB "/ignore-gfp-wait", "N") ||
	    vmp_write_file(FAILSLAB "/verbose", "0"))
		return -1;
	return 0;
}

static void failslab_restore(void)
{
	vmp_write_file(FAILSLAB "/ignore-gfp-wait", "Y");
	vmp_write_file(FAILSLAB "/probability", "0");
	if (nth_fd >= 0)
		close(nth_fd);
	nth_fd = -1;
}

static void nth_set(unsigned int n)
{
	char s[16];
	int len = snprintf(s, sizeof(s), "%u", n);

	if (pwrite(nth_fd, s, len, 0) != len)
		abort();
}

/* Injections not yet consumed (0: the n-th allocation failed). */
static unsigned int nth_left(void)
{
	char s[16] = "";

	if (pread(nth_fd, s, sizeof(s) - 1, 0) <= 0)
		return 0;
	return strtoul(s, NULL, 10);
}

/*
 * Sweep: run @op with its n-th slab allocation failing, n = 1, 2, ...,
 * until an op completes without reaching n (it made fewer allocations).
 * @op returns 0 (worked), 1 (failed cleanly: ENOMEM, SIGBUS), -1 (wrong).
 * After every run @check (no injection) must find everything intact.
 */
struct sweep {
	const char *name;
	int (*op)(void *ctx);
	int (*prep)(void *ctx);		/* before each run, outside the injection */
	void *ctx;
	unsigned int points, clean_fails, bad, bad_checks;
};

static int check_intact(void *c);
static char damage[160], wrong[160];

/*
 * Which n to fail next: every one with VMP_SWEEP=full (make stress), else
 * every one up to 16 and then every 1.25x (make check's time budget).
 */
static unsigned int next_n(unsigned int n)
{
	const char *e = getenv("VMP_SWEEP");

	if ((e && !strcmp(e, "full")) || n < 16)
		return n + 1;
	return n + n / 4;
}

static void run_sweep(struct sweep *s)
{
	unsigned int n, left;
	int r;

	for (n = 1; n < 2000; n = next_n(n)) {
		if (s->prep && s->prep(s->ctx))
			break;
		nth_set(n);
		r = s->op(s->ctx);
		left = nth_left();
		nth_set(0);
		if (left)
			break;		/* it needed fewer than n allocations */
		s->points++;
		s->clean_fails += r == 1;
		if (r < 0 && !s->bad++)
			fprintf(stderr, "# %s: n=%u wrong result: %s\n", s->name, n, wrong);
		if (check_intact(s->ctx) && !s->bad_checks++)
			fprintf(stderr, "# %s: n=%u damaged: %s\n", s->name, n, damage);
	}
}

struct fs_ctx {
	int fd;			/* the victim object */
	char *p;		/* its NPG-page shared mapping, pattern 0x77 */
	int nfd;		/* an object for new-page faults */
	char *nm;		/* its 4 * NPG-page mapping */
	unsigned int next;	/* next page of nm to touch */
	long swapped[16];	/* victim pages in swap, for the swap-in op */
	uint64_t nobj;		/* live objects outside the op */
	uint64_t mappers;	/* the victim's mappers outside the op */
};

/*
 * munmap under injection: in 6.1 it allocates (maple tree) and can fail with
 * ENOMEM, leaving the mapping. The injection is one-shot, so try again.
 */
static int xmunmap(void *a, size_t len)
{
	int i, r = 0;

	for (i = 0; i < 3; i++) {
		r = munmap(a, len);
		if (!r || errno != ENOMEM)
			break;
	}
	return r;
}

static int op_open(void *c)
{
	int fd = vmp_open();

	(void)c;
	if (fd < 0)
		return errno == ENOMEM ? 1 : -1;
	close(fd);
	return 0;
}

static int op_mmap(void *c)
{
	struct fs_ctx *x = c;
	char *m = vmp_map(x->fd, 3, 16, MAP_SHARED);

	if (m == MAP_FAILED)
		return errno == ENOMEM ? 1 : -1;
	if (xmunmap(m, 16 * PG)) {
		snprintf(wrong, sizeof(wrong), "munmap: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* 64 faults on pages never touched or long evicted (xarray nodes, reclaim). */
static int op_fault_new(void *c)
{
	struct fs_ctx *x = c;
	unsigned int i, bus = 0;
	siginfo_t si;
	int sig;

	for (i = 0; i < 64; i++) {
		sig = vmp_try_write(x->nm + (size_t)(x->next++ % (4 * NPG)) * PG, i, &si);
		if (sig && sig != SIGBUS)
			return -1;
		bus += sig == SIGBUS;
	}
	return bus ? 1 : 0;
}

static int prep_swapin(void *c)
{
	struct fs_ctx *x = c;
	static unsigned char res[NPG];
	struct vmpager_obj_info oi;
	unsigned int i, k = 0;

	if (vmp_obj(x->fd, &oi))
		return -1;
	resident_map(oi.id, res, NPG);
	for (i = random() % NPG; k < 16; i = (i + 1) % NPG)
		if (!res[i])
			x->swapped[k++] = i;
	return 0;
}

/* 16 swap-in faults (I/O arrays, readahead): data exact or SIGBUS. */
static int op_fault_swapin(void *c)
{
	struct fs_ctx *x = c;
	unsigned int i, bus = 0;
	siginfo_t si;
	uint64_t v;
	int sig;

	for (i = 0; i < 16; i++) {
		long pg = x->swapped[i];

		sig = vmp_try_read(x->p + pg * PG, &v, &si);
		if (sig && sig != SIGBUS)
			return -1;
		if (!sig && v != vmp_word(0x77, pg, 0))
			return -1;
		bus += sig == SIGBUS;
	}
	return bus ? 1 : 0;
}

static int op_fork(void *c)
{
	struct fs_ctx *x = c;
	pid_t pid = fork();

	int st;

	if (pid < 0) {
		snprintf(wrong, sizeof(wrong), "fork: %s", strerror(errno));
		return errno == ENOMEM || errno == EAGAIN ? 1 : -1;
	}
	if (!pid)
		_exit(vmp_check(x->p, 0, 4, 0x77) == -1 ? 0 : 1);
	st = vmp_wait(pid);
	snprintf(wrong, sizeof(wrong), "fork child status %#x", st);
	return VMP_EXITED(st, 0) ? 0 : -1;
}

static int op_split(void *c)
{
	struct fs_ctx *x = c;
	char *m = vmp_map(x->fd, 0, 8, MAP_SHARED), *dst;
	int ret = 0;

	if (m == MAP_FAILED)
		return errno == ENOMEM ? 1 : -1;
	if (munmap(m + 3 * PG, PG)) {		/* split */
		if (errno != ENOMEM)
			return -1;
		ret = 1;
		if (xmunmap(m + 3 * PG, PG))
			return -1;
	}
	dst = mmap(NULL, 3 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dst != MAP_FAILED && mremap(m, 3 * PG, 3 * PG, MREMAP_MAYMOVE | MREMAP_FIXED,
					dst) == MAP_FAILED) {
		if (errno != ENOMEM)
			ret = -1;
		else if (!ret)
			ret = 1;
		xmunmap(m, 3 * PG);
		xmunmap(dst, 3 * PG);
	} else if (dst != MAP_FAILED) {
		if (vmp_check(dst, 0, 3, 0x77) != -1)
			ret = -1;
		xmunmap(dst, 3 * PG);
		/*
		 * A move can succeed and still leave the old range mapped: when
		 * move_vma() cannot unmap it (do_munmap() fails with ENOMEM, as
		 * the injected failure makes it), mm/mremap.c keeps both and
		 * only fixes the accounting. Unmapping it again is a no-op
		 * otherwise.
		 */
		xmunmap(m, 3 * PG);
	} else {
		xmunmap(m, 3 * PG);
	}
	if (xmunmap(m + 4 * PG, 4 * PG))
		ret = -1;
	return ret;
}

static int op_global_info(void *c)
{
	struct fs_ctx *x = c;
	struct vmpager_global_info gi;
	int r = vmp_global_fd(x->fd, &gi);

	if (r)
		return r == -ENOMEM ? 1 : -1;
	return pool_consistent(&gi) ? 0 : -1;
}

static int op_debugfs(void *c)
{
	static const char *const files[] = { "objects", "mappers", "frames", "swap", "lru",
		"stats", "pool" };
	static unsigned int k;
	char path[128], buf[4096];
	ssize_t n;
	int fd;

	(void)c;
	snprintf(path, sizeof(path), DFS "/%s", files[k++ % 7]);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno == ENOMEM ? 1 : -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	close(fd);
	return n < 0 ? (errno == ENOMEM ? 1 : -1) : 0;
}

/* Intact: a sample of the victim's data, its mappers, the object count, the pool. */
static int check_intact(void *c)
{
	struct fs_ctx *x = c;
	struct vmpager_global_info gi;
	struct vmpager_obj_info oi;
	unsigned int i;

	if (vmp_global_fd(x->fd, &gi) || !pool_consistent(&gi) || gi.nr_objects != x->nobj) {
		snprintf(damage, sizeof(damage), "objects %llu (want %llu), free %llu resident "
			 "%llu orphaned %llu pool %llu", (unsigned long long)gi.nr_objects,
			 (unsigned long long)x->nobj, (unsigned long long)gi.free_pages,
			 (unsigned long long)gi.resident_pages,
			 (unsigned long long)gi.orphaned_pages, (unsigned long long)gi.pool_pages);
		return -1;
	}
	if (vmp_obj(x->fd, &oi) || oi.mappers != x->mappers) {
		snprintf(damage, sizeof(damage), "mappers %llu (want %llu)",
			 (unsigned long long)oi.mappers, (unsigned long long)x->mappers);
		return -1;
	}
	for (i = 0; i < NPG; i += NPG / 16)
		if (vmp_check(x->p + i * PG, i, 1, 0x77) != -1) {
			snprintf(damage, sizeof(damage), "victim page %u wrong", i);
			return -1;
		}
	return 0;
}

/*
 * Every slab allocation made by open, mmap, page faults (new pages and
 * swap-ins), fork, VMA split and move, GLOBAL_INFO and the debugfs dumps
 * fails once in turn (fail-nth): each op works or fails cleanly (ENOMEM or
 * SIGBUS), and afterwards the victim's data, its mapper count, the object
 * count and the pool accounting are intact; at the end every frame is free
 * and the module unloads. Leaks show in the run's kmemleak scan.
 */
TEST_F_TIMEOUT(fi, failslab_every_allocation, 600)
{
	struct fs_ctx x = { 0 };
	struct vmpager_global_info gi;
	struct vmpager_obj_info oi;
	struct sweep sw[] = {
		{ .name = "open", .op = op_open },
		{ .name = "mmap", .op = op_mmap },
		{ .name = "faults (new pages)", .op = op_fault_new },
		{ .name = "faults (swap-in)", .op = op_fault_swapin, .prep = prep_swapin },
		{ .name = "fork", .op = op_fork },
		{ .name = "munmap split + mremap move", .op = op_split },
		{ .name = "GLOBAL_INFO", .op = op_global_info },
		{ .name = "debugfs dumps", .op = op_debugfs },
	};
	unsigned int i, total = 0;

	if (failslab_setup()) {
		failslab_restore();
		SKIP(return, "no failslab or /proc/thread-self/fail-nth (CONFIG_FAILSLAB, "
		     "CONFIG_FAULT_INJECTION_DEBUG_FS): the debug kernel has them");
	}
	ASSERT_EQ(0, load_pool("", 16 * NPG));
	x.fd = vmp_open();
	ASSERT_LE(0, x.fd);
	x.p = vmp_map(x.fd, 0, NPG, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, x.p);
	vmp_fill(x.p, 0, NPG, 0x77);
	x.nfd = vmp_open();
	ASSERT_LE(0, x.nfd);
	x.nm = vmp_map(x.nfd, 0, 4 * NPG, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, x.nm);
	for (i = 0; i < sizeof(sw) / sizeof(sw[0]); i++) {
		ASSERT_EQ(0, vmp_global_fd(x.fd, &gi));
		ASSERT_EQ(0, vmp_obj(x.fd, &oi));
		x.nobj = gi.nr_objects;
		x.mappers = oi.mappers;
		sw[i].ctx = &x;
		run_sweep(&sw[i]);
		TH_LOG("%-28s %3u injection points, %3u clean failures, %u wrong results, "
		       "%u damaged checks", sw[i].name, sw[i].points, sw[i].clean_fails,
		       sw[i].bad, sw[i].bad_checks);
		EXPECT_EQ(0U, sw[i].bad) TH_LOG("%s: a wrong result", sw[i].name);
		EXPECT_EQ(0U, sw[i].bad_checks) TH_LOG("%s: something was damaged", sw[i].name);
		total += sw[i].points;
	}
	failslab_restore();
	EXPECT_LT(0U, total);
	EXPECT_EQ(-1, vmp_check(x.p, 0, NPG, 0x77));
	munmap(x.p, NPG * PG);
	munmap(x.nm, 4 * NPG * PG);
	close(x.fd);
	close(x.nfd);
	expect_clean_end(_metadata);
}

/*
 * The module's own load path: its n-th slab allocation fails, n = 1, 2,
 * ...: the load fails cleanly (nothing left behind: the next load works,
 * kmemleak finds nothing) or succeeds and the module works and unloads.
 */
#define TRACING	"/sys/kernel/tracing"

/*
 * The kernel's own tracepoint setup for a loading module
 * (trace_module_notify -> event_define_fields) WARNs when a field
 * allocation fails (kernel/trace/trace_events.c: WARN_ON_ONCE(ret) after
 * trace_define_field_ext()), so a load must not be failed there: the guest
 * run would fail on the kernel's warning, not on anything of ours. Find
 * those allocations' positions by a load without injection, recorded with
 * the kmem tracepoints of this task: the n-th slab allocation of the task
 * (hard/softirq allocations and large kmallocs, which fail-nth does not
 * count, left out) is the n of fail-nth. *lo..*hi, widened by a margin,
 * covers every allocation made by trace_define_field*; 0 on success with
 * *lo = *hi = 0 when there is none, -1 when tracing is unavailable.
 */
static int trace_field_window(int kfd, const char *params, unsigned int *lo,
			      unsigned int *hi, unsigned int *nallocs)
{
	char filter[64], *buf, *line, *save = NULL;
	unsigned int idx = 0;
	int r;

	*lo = *hi = *nallocs = 0;
	if (access(TRACING "/events/kmem/enable", W_OK))
		return -1;
	snprintf(filter, sizeof(filter), "common_pid == %d", (int)syscall(SYS_gettid));
	r = vmp_write_file(TRACING "/tracing_on", "0") ||
	    vmp_write_file(TRACING "/buffer_size_kb", "8192") ||
	    vmp_write_file(TRACING "/trace", "") ||
	    vmp_write_file(TRACING "/events/kmem/filter", filter) ||
	    vmp_write_file(TRACING "/events/kmem/enable", "1") ||
	    vmp_write_file(TRACING "/tracing_on", "1");
	if (!r) {
		r = syscall(SYS_finit_module, kfd, params, 0);
		if (!r)
			vmp_owner_mark(true);
	}
	/* undo whatever was set, also after a failed step */
	vmp_write_file(TRACING "/tracing_on", "0");
	vmp_write_file(TRACING "/events/kmem/enable", "0");
	vmp_write_file(TRACING "/events/kmem/filter", "0");
	if (r)
		return -1;
	buf = vmp_read_file(TRACING "/trace");
	vmp_write_file(TRACING "/trace", "");
	if (!buf)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *ev = strstr(line, ": kmalloc: ");
		char *flags, *ba;

		if (!ev)
			ev = strstr(line, ": kmem_cache_alloc: ");
		if (!ev || line[0] == '#')
			continue;
		/* "comm-pid [cpu] FLAGS ts: event": the third flag is h/s/H in irq context */
		flags = strchr(line, ']');
		if (flags && flags[1] == ' ' && flags[2] && flags[3] && flags[4] &&
		    strchr("hsH", flags[4]))
			continue;
		ba = strstr(ev, "bytes_alloc=");
		if (ba && strtoul(ba + 12, NULL, 10) > 8192)
			continue;	/* kmalloc_large: the page allocator */
		idx++;
		if (strstr(ev, "trace_define_field")) {	/* __trace_define_field, _ext */
			if (!*lo)
				*lo = idx;
			*hi = idx;
		}
	}
	free(buf);
	*nallocs = idx;
	if (*lo) {
		*lo = *lo > 16 ? *lo - 16 : 1;
		*hi += 16;
	}
	return 0;
}

/* Load points: make check's sampling; make stress every 1/16 beyond 64. */
static unsigned int next_load_n(unsigned int n)
{
	const char *e = getenv("VMP_SWEEP");

	if (e && !strcmp(e, "full"))
		return n < 64 ? n + 1 : n + n / 16;
	return next_n(n);
}

TEST_F_TIMEOUT(fi, failslab_module_load, 1200)
{
	char params[512];
	unsigned int n, points = 0, failed = 0, left, lo, hi, nallocs, skipped = 0;
	int kfd, r, fd;

	if (failslab_setup()) {
		failslab_restore();
		SKIP(return, "no failslab or fail-nth: the debug kernel has them");
	}
	if (vmp_loaded())
		ASSERT_EQ(0, vmp_unload_wait(3000));
	snprintf(swapf, sizeof(swapf), "%s/vmp-faultinj.swap", vmp_swap_dir());
	snprintf(params, sizeof(params), "pool_pages=%d swapfile=%s swap_pages=1024", POOL,
		 swapf);
	kfd = open(vmp_ko(), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, kfd);
	unlink(swapf);
	ASSERT_EQ(0, trace_field_window(kfd, params, &lo, &hi, &nallocs))
		TH_LOG("no kmem tracepoints to find the kernel's trace event setup");
	ASSERT_EQ(0, vmp_unload_wait(3000));
	TH_LOG("a load makes %u slab allocations; %u..%u are the kernel's trace event fields (not injected)",
	       nallocs, lo, hi);
	for (n = 1; n < 5000; n = next_load_n(n)) {
		if (lo && n >= lo && n <= hi) {
			skipped++;
			continue;
		}
		unlink(swapf);
		nth_set(n);
		r = syscall(SYS_finit_module, kfd, params, 0) ? -errno : 0;
		left = nth_left();
		nth_set(0);
		if (!r)
			vmp_owner_mark(true);
		if (left) {
			/* it got through with fewer than n allocations */
			EXPECT_EQ(0, r) TH_LOG("n=%u: load failed without an injected failure: %s",
					       n, strerror(-r));
			if (!r)
				EXPECT_EQ(0, vmp_unload_wait(3000));
			break;
		}
		points++;
		if (r) {
			failed++;
			EXPECT_FALSE(vmp_loaded()) TH_LOG("n=%u: load failed (%s) but the module "
							  "is there", n, strerror(-r));
			continue;
		}
		/* it loaded despite the failure: it must work and unload */
		fd = vmp_open();
		EXPECT_LE(0, fd) TH_LOG("n=%u: loaded but open failed: %s", n, strerror(errno));
		if (fd >= 0) {
			char *m = vmp_map(fd, 0, 2 * POOL, MAP_SHARED);

			EXPECT_NE(MAP_FAILED, m);
			if (m != MAP_FAILED) {
				vmp_fill(m, 0, 2 * POOL, 0x88);
				EXPECT_EQ(-1, vmp_check(m, 0, 2 * POOL, 0x88));
				munmap(m, 2 * POOL * PG);
			}
			close(fd);
		}
		EXPECT_EQ(0, vmp_unload_wait(3000)) TH_LOG("n=%u", n);
	}
	close(kfd);
	failslab_restore();
	TH_LOG("%u injection points in load, %u loads failed cleanly, %u skipped in the kernel's trace event setup",
	       points, failed, skipped);
	EXPECT_LT(0U, points);
	ASSERT_EQ(0, load_pool("", 1024));
	expect_clean_end(_metadata);
}

/* vmp_fill of one page under a SIGBUS/SIGSEGV guard: 0 or the signal. */
static int guarded_fill(char *page, uint64_t pg, uint64_t seed)
{
	struct sigaction sa, ob, os;
	volatile int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = vmp_sig_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, &ob);
	sigaction(SIGSEGV, &sa, &os);
	sig = sigsetjmp(vmp_jmp, 1);
	if (!sig)
		vmp_fill(page, pg, 1, seed);
	sigaction(SIGBUS, &ob, NULL);
	sigaction(SIGSEGV, &os, NULL);
	return sig;
}

/*
 * Random slab failures (failslab probability, task filter) in a process
 * that writes, reads, maps, forks and queries for a few seconds: every
 * write it completed without a signal is in the object afterwards, as read
 * by a process without injection.
 */
TEST_F_TIMEOUT(fi, failslab_random_workload, 120)
{
	uint32_t *gen;
	struct vmpager_global_info gi;
	pid_t pid;
	char *p;
	int fd, st;

	if (failslab_setup()) {
		failslab_restore();
		SKIP(return, "no failslab: the debug kernel has it");
	}
	ASSERT_EQ(0, load_pool("", 8 * NPG));
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, NPG, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	gen = mmap(NULL, NPG * sizeof(*gen), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, gen);
	memset(gen, 0, NPG * sizeof(*gen));
	ASSERT_EQ(0, vmp_write_file(FAILSLAB "/task-filter", "Y"));
	ASSERT_EQ(0, vmp_write_file(FAILSLAB "/interval", "1"));
	ASSERT_EQ(0, vmp_write_file(FAILSLAB "/times", "-1"));
	ASSERT_EQ(0, vmp_write_file(FAILSLAB "/probability", "5"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		time_t end = time(NULL) + 5;
		uint64_t rng = 99;
		unsigned int pg, r, i;
		siginfo_t si;
		uint64_t v;

		vmp_no_core();
		if (vmp_write_file("/proc/self/make-it-fail", "1"))
			_exit(2);
		while (time(NULL) < end) {
			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			pg = (rng >> 33) % NPG;
			r = (rng >> 20) % 10;
			if (r < 5) {
				uint32_t g = gen[pg] + 1;

				/* word 0 first: a fault there leaves the page as it was */
				if (vmp_try_write(p + pg * PG, vmp_word(0x500 + g, pg, 0), &si))
					continue;
				/* the rest may fault too (evicted meanwhile): retry it */
				for (i = 0; i < 1000 && guarded_fill(p + pg * PG, pg, 0x500 + g); i++)
					;
				if (i == 1000)
					_exit(3);
				gen[pg] = g;
			} else if (r < 8) {
				vmp_try_read(p + pg * PG, &v, &si);
			} else if (r == 8) {
				int f2 = vmp_open();
				char *m = f2 < 0 ? MAP_FAILED : vmp_map(f2, 0, 8, MAP_PRIVATE);

				if (m != MAP_FAILED) {
					for (i = 0; i < 8; i++)
						vmp_try_write(m + i * PG, i, &si);
					munmap(m, 8 * PG);
				}
				if (f2 >= 0)
					close(f2);
			} else {
				pid_t c = fork();

				if (!c)
					_exit(0);
				if (c > 0)
					vmp_wait(c);
			}
		}
		_exit(0);
	}
	st = vmp_wait(pid);
	vmp_write_file(FAILSLAB "/probability", "0");
	vmp_write_file(FAILSLAB "/task-filter", "N");
	failslab_restore();
	EXPECT_TRUE(VMP_EXITED(st, 0)) TH_LOG("workload status %#x", st);
	for (unsigned int pg = 0; pg < NPG; pg++) {
		long bad = gen[pg] ? vmp_check(p + pg * PG, pg, 1, 0x500 + gen[pg]) :
				     vmp_check_zero(p + pg * PG, 1);

		EXPECT_EQ(-1, bad) TH_LOG("page %u (gen %u) word %ld", pg, gen[pg], bad);
		if (bad != -1)
			break;
	}
	ASSERT_EQ(0, vmp_global_fd(fd, &gi));
	EXPECT_TRUE(pool_consistent(&gi));
	munmap(p, NPG * PG);
	munmap(gen, NPG * sizeof(*gen));
	close(fd);
	expect_clean_end(_metadata);
}

TEST_HARNESS_MAIN
