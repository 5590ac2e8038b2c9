// SPDX-License-Identifier: GPL-2.0
/* Proves the same integrity-under-overcommit bodies pass on both libvmpager backends (module, daemon) under several policies. */
#include <pthread.h>

#include "vmpd_test.h"

#define POOL	256
#define NPG	(3 * POOL)	/* 3x the pool: overcommitted, and short enough for make check */
#define SWAPF	"vmp-integrity.swap"

FIXTURE(integ) {
	struct vmpd_inst d;
	char swapfile[160];
	char *p;
};

FIXTURE_VARIANT(integ) {
	int backend;
	const char *policy;
};

FIXTURE_VARIANT_ADD(integ, kmod_fifo) { VMP_BACKEND_MODULE, "fifo" };
FIXTURE_VARIANT_ADD(integ, kmod_lru2) { VMP_BACKEND_MODULE, "lru2" };
FIXTURE_VARIANT_ADD(integ, kmod_lirs) { VMP_BACKEND_MODULE, "lirs" };
FIXTURE_VARIANT_ADD(integ, uffd_fifo) { VMP_BACKEND_DAEMON, "fifo" };
FIXTURE_VARIANT_ADD(integ, uffd_lru2) { VMP_BACKEND_DAEMON, "lru2" };
FIXTURE_VARIANT_ADD(integ, uffd_lirs) { VMP_BACKEND_DAEMON, "lirs" };

FIXTURE_SETUP(integ)
{
	char args[256];
	int r;

	self->p = NULL;
	self->d.pid = 0;
	if (variant->backend == VMP_BACKEND_MODULE) {
		if (access(vmp_ko(), R_OK))
			SKIP(return, "%s not here (the module runs in the guest)",
			     vmp_ko());
		/*
		 * /tmp, as the module's own swap tests: with the module's swap
		 * file on ext4, lockdep reports vmp_policy_lock -> sb_writers
		 * -> i_rwsem -> mmap_lock (an O_DIRECT write elsewhere on ext4,
		 * e.g. the daemon's swap) against mmap_lock -> vmp_policy_lock
		 * (direct reclaim in vmp_fault): a module issue, reported.
		 */
		snprintf(self->swapfile, sizeof(self->swapfile), "/tmp/" SWAPF);
		unlink(self->swapfile);
		snprintf(args, sizeof(args),
			 "pool_pages=%d swapfile=%s swap_pages=%d policy=%s",
			 POOL, self->swapfile, 4 * NPG, variant->policy);
		r = vmp_load(args);
		ASSERT_EQ(0, r) TH_LOG("loading the module: %s", strerror(-r));
		self->p = vmp_region_alloc(NPG * PG, VMP_BACKEND_MODULE);
	} else {
		snprintf(args, sizeof(args), "--frames %d --client-cache 64 --policy %s",
			 POOL, variant->policy);
		r = vmpd_start(&self->d, args);
		ASSERT_EQ(0, r) TH_LOG("starting vmpagerd: %s", strerror(-r));
		self->p = vmpd_region(&self->d, NPG, 0);
	}
	ASSERT_NE(NULL, self->p) TH_LOG("%s", vmp_region_strerror());
}

FIXTURE_TEARDOWN(integ)
{
	if (self->p)
		EXPECT_EQ(0, vmp_region_free(self->p));
	if (variant->backend == VMP_BACKEND_MODULE) {
		if (vmp_loaded())
			EXPECT_EQ(0, vmp_unload_wait(2000));
		unlink(self->swapfile);
	} else if (self->d.pid > 0) {
		EXPECT_EQ(0, vmpd_stop(&self->d));
	}
}

/* The 6.1 harness runs the body even after SKIP() in the setup. */
#define NEED_REGION() do { if (!self->p) return; } while (0)

/* A counter of whichever pager serves the region. */
static long long counter(FIXTURE_DATA(integ) *self, int backend,
			 const char *name)
{
	if (backend == VMP_BACKEND_MODULE)
		return vmp_stat(name);
	return vmpd_stat(&self->d, name);
}

TEST_F_TIMEOUT(integ, fill_and_verify_twice, 180)
{
	NEED_REGION();
	vmp_fill(self->p, 0, NPG, 0x51);
	EXPECT_EQ(-1, vmp_check(self->p, 0, NPG, 0x51));
	EXPECT_EQ(-1, vmp_check(self->p, 0, NPG, 0x51));
	EXPECT_LT(0, counter(self, variant->backend, "swap_outs"));
	EXPECT_LT(0, counter(self, variant->backend, "swap_ins"));
	EXPECT_EQ(0, counter(self, variant->backend, "read_errors"));
}

TEST_F_TIMEOUT(integ, random_rewrites, 180)
{
	static unsigned char gen[NPG];
	uint64_t rng = 12345;
	unsigned int i, pg;
	long bad = -1;

	NEED_REGION();
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

TEST_F_TIMEOUT(integ, untouched_pages_read_zero, 180)
{
	NEED_REGION();
	vmp_fill(self->p, 0, NPG / 2, 0x52);
	EXPECT_EQ(-1, vmp_check_zero(self->p + NPG / 2 * PG, NPG / 2));
	EXPECT_EQ(-1, vmp_check(self->p, 0, NPG / 2, 0x52));
}

struct worker {
	char *p;
	int id;
	long bad;
};

/* Each thread writes its own stripe, then reads every page. */
static void *stripe(void *arg)
{
	struct worker *w = arg;
	unsigned int pg;

	for (pg = w->id; pg < NPG; pg += 4)
		vmp_fill(w->p + (size_t)pg * PG, pg, 1, 0x53);
	return NULL;
}

static void *verify(void *arg)
{
	struct worker *w = arg;

	w->bad = vmp_check(w->p, 0, NPG, 0x53);
	return NULL;
}

TEST_F_TIMEOUT(integ, threads_share_pages, 180)
{
	struct worker w[4];
	pthread_t th[4];
	int i;

	NEED_REGION();
	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){ self->p, i, -1 };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, stripe, &w[i]));
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, verify, &w[i]));
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(-1, w[i].bad) TH_LOG("thread %d", i);
	}
}

/*
 * Documented fork semantics, on both backends: the child gets a copy of the
 * region as of the fork (a module region through VMPAGER_IOC_COPY, a
 * daemon region through VMPD_FORK): the whole region, 3x the pool, so
 * resident and swapped pages alike; the parent's writes after the fork are
 * not the child's, and the child's are its own.
 */
TEST_F_TIMEOUT(integ, fork_child_gets_a_copy, 300)
{
	int go[2], done[2];
	pid_t pid;

	NEED_REGION();
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	vmp_fill(self->p, 0, NPG, 0x54);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		vmp_no_core();
		vmp_pend(go[0]);	/* the parent has rewritten its first half */
		VMP_CHILD_CHECK(vmp_check(self->p, 0, NPG, 0x54) == -1);
		vmp_fill(self->p, 0, NPG / 2, 0x55);
		VMP_CHILD_CHECK(vmp_check(self->p, 0, NPG / 2, 0x55) == -1);
		VMP_CHILD_CHECK(vmp_check(self->p + NPG / 2 * PG, NPG / 2,
					  NPG - NPG / 2, 0x54) == -1);
		vmp_post(done[1]);
		VMP_CHILD_CHECK(vmp_region_free(self->p) == 0);
		_exit(0);
	}
	vmp_fill(self->p, 0, NPG / 2, 0x56);
	vmp_post(go[1]);
	vmp_pend(done[0]);	/* the child has written its first half */
	EXPECT_EQ(0, vmp_wait(pid));
	EXPECT_EQ(-1, vmp_check(self->p, 0, NPG / 2, 0x56));
	EXPECT_EQ(-1, vmp_check(self->p + NPG / 2 * PG, NPG / 2, NPG - NPG / 2,
				0x54));
	if (variant->backend == VMP_BACKEND_MODULE) {
		struct vmpager_global_info gi;

		ASSERT_EQ(0, vmp_global(&gi));
		EXPECT_LE((__u64)NPG, gi.stats[VMPAGER_STAT_copy_pages]);
	}
}

/*
 * A region no longer mapped whole (a part munmap()ed) is not copied, on
 * both backends: the child has nothing mapped there, the parent keeps the
 * rest.
 */
TEST_F_TIMEOUT(integ, partly_unmapped_region_is_not_copied, 120)
{
	pid_t pid;

	NEED_REGION();
	vmp_fill(self->p, 0, 64, 0x57);
	ASSERT_EQ(0, munmap(self->p + (NPG - 16) * PG, 16 * PG));
	pid = vmp_fork_expect_segv(self->p);
	ASSERT_LE(0, pid);
	EXPECT_EQ(0, vmp_wait(pid));
	EXPECT_EQ(-1, vmp_check(self->p, 0, 64, 0x57));
}

TEST_HARNESS_MAIN
