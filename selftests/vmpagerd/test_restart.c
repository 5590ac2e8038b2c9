// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerd restart: a daemon with a state_dir is killed (-9) and started
 * again, and its clients' regions come back with every page, including
 * the ones that were only in its soft-eviction cache, in swap or in flight
 * in a fault; faults made while no daemon runs wait for the next one; a
 * region no daemon takes back in time, or whose state does not match the
 * new daemon's swap files, raises SIGBUS, never a zero page.
 */
#include <pthread.h>

#include "vmpd_test.h"

#define NPG	1024			/* region pages */
#define ARGS	"--frames 128 --client-cache 32 --policy fifo --reattach-timeout 30"

FIXTURE(rs) {
	struct vmpd_inst d;
	char state[96];
	char args[256];
};

/* vmp_check() that says which word of which page was wrong, and how. */
static bool region_ok(const char *p, uint64_t first, size_t n, uint64_t seed)
{
	long b = vmp_check(p + first * PG, first, n, seed);
	uint64_t pg, w;

	if (b == -1)
		return true;
	pg = first + (uint64_t)b / WORDS_PER_PG;
	w = (uint64_t)b % WORDS_PER_PG;
	fprintf(stderr, "# page %llu word %llu: %#llx, not %#llx\n",
		(unsigned long long)pg, (unsigned long long)w,
		(unsigned long long)((const uint64_t *)p)[b + first * WORDS_PER_PG],
		(unsigned long long)vmp_word(seed, pg, w));
	return false;
}

/* Files in @dir whose name starts with @prefix. */
static int state_count(const char *dir, const char *prefix)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	while (d && (e = readdir(d)))
		n += !strncmp(e->d_name, prefix, strlen(prefix));
	if (d)
		closedir(d);
	return n;
}

FIXTURE_SETUP(rs)
{
	/* /dev/shm: a tmpfs in the guest and on most hosts */
	int r = vmpd_state_mkdtemp(self->state, sizeof(self->state),
				   "vmpd-state");

	if (r)
		SKIP(return, "no tmpfs at /dev/shm for the state_dir");
	snprintf(self->args, sizeof(self->args), "%s --state-dir %s", ARGS,
		 self->state);
	r = vmpd_start(&self->d, self->args);
	ASSERT_EQ(0, r) TH_LOG("starting vmpagerd: %s", strerror(-r));
}

FIXTURE_TEARDOWN(rs)
{
	if (!self->state[0])
		return;
	vmpd_stop(&self->d);
	vmpd_state_rm(self->state);
}

/* SIGKILL the daemon and start another with @args in the same place. */
static int restart(struct vmpd_inst *d, const char *args, useconds_t gap)
{
	int st;

	if (kill(d->pid, SIGKILL))
		return -errno;
	st = vmp_wait(d->pid);
	d->pid = 0;
	if (!VMP_KILLED(st, SIGKILL))
		return -ECHILD;
	usleep(gap);
	return vmpd_spawn(d, args);
}

/*
 * Every page written, the daemon killed while idle and started again:
 * every page reads back (resident ones from the memfd, cached ones from
 * the dead daemon's arena, swapped ones from their slots), and the new
 * daemon pages the region on (all of it rewritten and checked twice).
 */
TEST_F_TIMEOUT(rs, idle_kill_keeps_every_page, 180)
{
	int ready[2], go[2], r;
	pid_t pid;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *p = vmpd_region(&self->d, NPG, 0);

		VMP_CHILD_CHECK(p);
		vmp_no_core();
		vmp_fill(p, 0, NPG, 0x11);
		VMP_CHILD_CHECK(vmp_check(p, 0, NPG, 0x11) == -1);
		/* the last pages written are resident or cached, dirty */
		vmp_fill(p + (NPG - 64) * PG, NPG - 64, 64, 0x12);
		vmp_post(ready[1]);
		vmp_pend(go[0]);		/* a new daemon runs */
		VMP_CHILD_CHECK(region_ok(p, 0, NPG - 64, 0x11));
		VMP_CHILD_CHECK(region_ok(p, NPG - 64, 64, 0x12));
		vmp_fill(p, 0, 256, 0x13);	/* 2x the budget: it pages on */
		VMP_CHILD_CHECK(region_ok(p, 0, 256, 0x13));
		VMP_CHILD_CHECK(vmp_region_free(p) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, vmp_pend(ready[0]));
	EXPECT_LT(0, vmpd_stat(&self->d, "swap_used"));
	EXPECT_EQ(1, state_count(self->state, "region."));
	r = restart(&self->d, self->args, 0);
	ASSERT_EQ(0, r) TH_LOG("restarting vmpagerd: %s", strerror(-r));
	/* the orphan waits; the client's watchdog re-attaches within ms */
	for (r = 0; r < 200 && vmpd_stat(&self->d, "clients_reattached") < 1; r++)
		usleep(20000);
	EXPECT_EQ(1, vmpd_stat(&self->d, "clients_reattached"));
	EXPECT_EQ(NPG, vmpd_stat(&self->d, "pages_recovered"));
	vmp_post(go[1]);
	r = vmp_wait(pid);
	EXPECT_EQ(0, r);
	if (r)
		vmpd_dump_problems(&self->d);
	/* the region is gone: its state file too, its slots free */
	for (r = 0; r < 200 && vmpd_stat(&self->d, "clients_exited") < 1; r++)
		usleep(20000);
	EXPECT_EQ(0, state_count(self->state, "region."));
	EXPECT_EQ(0, vmpd_stat(&self->d, "swap_used"));
}

/*
 * Faults while no daemon runs: a thread reading an evicted page while the
 * daemon is stopped (its message unread) and then killed gets the page's
 * data from the next daemon, not SIGBUS.
 */
TEST_F_TIMEOUT(rs, fault_in_the_gap_waits, 180)
{
	int ready[2], go[2], r;
	pid_t pid;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *p = vmpd_region(&self->d, NPG, 0);
		uint64_t v = 0;
		int sig;

		VMP_CHILD_CHECK(p);
		vmp_no_core();
		vmp_fill(p, 0, NPG, 0x21);
		vmp_post(ready[1]);
		vmp_pend(go[0]);	/* the daemon is stopped */
		/* FIFO evicted page 0 long ago: this waits for a daemon */
		sig = vmp_try_read(p + 8, &v, NULL);
		VMP_CHILD_CHECK(sig == 0);
		VMP_CHILD_CHECK(v == vmp_word(0x21, 0, 1));
		VMP_CHILD_CHECK(vmp_check(p, 0, NPG, 0x21) == -1);
		_exit(0);
	}
	ASSERT_EQ(0, vmp_pend(ready[0]));
	ASSERT_EQ(0, kill(self->d.pid, SIGSTOP));
	vmp_post(go[1]);
	usleep(300000);		/* the child is blocked in its fault */
	r = restart(&self->d, self->args, 300000);
	ASSERT_EQ(0, r) TH_LOG("restarting vmpagerd: %s", strerror(-r));
	r = vmp_wait(pid);
	EXPECT_EQ(0, r);
	if (r)
		vmpd_dump_problems(&self->d);
	EXPECT_EQ(1, vmpd_stat(&self->d, "clients_reattached"));
}

/*
 * Killed under load: two threads of the client fault through the region
 * (reads of random pages, each checked, and rewrites) while the daemon
 * is killed three times, at random points of its work, and started again
 * each time. No access may fail or see another page's data.
 */
struct load {
	char *p;
	unsigned int seed;
	volatile int *stop;
	long bad;
	uint64_t *ver;		/* per page: the seed its words hold */
	pthread_mutex_t *locks;	/* per 64 pages: a write and its check */
};

static void *load_thread(void *arg)
{
	struct load *l = arg;
	unsigned int pg, i = 0;

	while (!*l->stop && !l->bad) {
		pg = rand_r(&l->seed) % NPG;
		pthread_mutex_lock(&l->locks[pg / 64]);
		if (++i % 4 == 0) {
			l->ver[pg] += 0x100;
			vmp_fill(l->p + (size_t)pg * PG, pg, 1, l->ver[pg]);
		} else if (vmp_check(l->p + (size_t)pg * PG, pg, 1,
				     l->ver[pg]) != -1) {
			l->bad = pg + 1;
		}
		pthread_mutex_unlock(&l->locks[pg / 64]);
	}
	return NULL;
}

TEST_F_TIMEOUT(rs, kill_under_load_keeps_every_page, 300)
{
	int ready[2], done[2], r, k;
	pid_t pid;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		static uint64_t ver[NPG];
		static pthread_mutex_t locks[NPG / 64];
		volatile int stop = 0;
		struct load l[2];
		pthread_t tid[2];
		char *p = vmpd_region(&self->d, NPG, 0);
		unsigned int i;

		VMP_CHILD_CHECK(p);
		vmp_no_core();
		for (i = 0; i < NPG; i++)
			ver[i] = 0x31;
		for (i = 0; i < NPG / 64; i++)
			pthread_mutex_init(&locks[i], NULL);
		vmp_fill(p, 0, NPG, 0x31);
		for (i = 0; i < 2; i++) {
			l[i] = (struct load){ p, 77 + i, &stop, 0, ver, locks };
			VMP_CHILD_CHECK(!pthread_create(&tid[i], NULL,
							load_thread, &l[i]));
		}
		vmp_post(ready[1]);
		vmp_pend(done[0]);
		stop = 1;
		for (i = 0; i < 2; i++) {
			pthread_join(tid[i], NULL);
			if (l[i].bad)
				fprintf(stderr, "# page %ld read wrong\n",
					l[i].bad - 1);
			VMP_CHILD_CHECK(!l[i].bad);
		}
		for (i = 0; i < NPG; i++)
			VMP_CHILD_CHECK(vmp_check(p + (size_t)i * PG, i, 1,
						  ver[i]) == -1);
		_exit(0);
	}
	ASSERT_EQ(0, vmp_pend(ready[0]));
	for (k = 0; k < 3; k++) {
		usleep(400000 + 150000 * k);
		r = restart(&self->d, self->args, 100000);
		ASSERT_EQ(0, r) TH_LOG("restart %d: %s", k, strerror(-r));
	}
	usleep(500000);
	vmp_post(done[1]);
	r = vmp_wait(pid);
	EXPECT_EQ(0, r);
	if (r)
		vmpd_dump_problems(&self->d);
	EXPECT_EQ(1, vmpd_stat(&self->d, "clients_reattached"));
	EXPECT_LT(0, vmpd_stat(&self->d, "faults"));
}

/*
 * No daemon comes back within VMPAGER_REATTACH_MS: the waiting fault and
 * every later access raise SIGBUS, never a zero page.
 */
TEST_F_TIMEOUT(rs, no_restart_is_sigbus_after_the_wait, 120)
{
	int ready[2], go[2];
	pid_t pid;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *p;
		uint64_t v, t0, t1;
		int pg, sig, sigbus = 0;

		setenv("VMPAGER_REATTACH_MS", "1000", 1);
		p = vmpd_region(&self->d, NPG, 0);
		VMP_CHILD_CHECK(p);
		vmp_no_core();
		vmp_fill(p, 0, NPG, 0x41);
		vmp_post(ready[1]);
		vmp_pend(go[0]);	/* the daemon is dead */
		t0 = time(NULL);
		sig = vmp_try_read(p, &v, NULL);
		t1 = time(NULL);
		VMP_CHILD_CHECK(sig == SIGBUS);
		VMP_CHILD_CHECK(t1 - t0 <= 10);
		for (pg = 0; pg < NPG; pg++) {
			v = 0x1234;
			sig = vmp_try_read(p + pg * PG + 8, &v, NULL);
			VMP_CHILD_CHECK(sig == SIGBUS ||
					v == vmp_word(0x41, pg, 1));
			sigbus += sig == SIGBUS;
		}
		VMP_CHILD_CHECK(sigbus == NPG);
		_exit(0);
	}
	ASSERT_EQ(0, vmp_pend(ready[0]));
	ASSERT_EQ(0, kill(self->d.pid, SIGKILL));
	vmp_wait(self->d.pid);
	self->d.pid = 0;
	vmp_post(go[1]);
	EXPECT_EQ(0, vmp_wait(pid));
}

/*
 * The new daemon runs with other swap files than the state was written
 * for: the state is dropped at start, the re-attach is refused, and the
 * region raises SIGBUS (its swapped pages are not there), never zeros.
 */
TEST_F_TIMEOUT(rs, other_swap_files_refuse_the_region, 120)
{
	char args[400];
	int ready[2], go[2], r;
	pid_t pid;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *p = vmpd_region(&self->d, NPG, 0);
		int pg, sig, sigbus = 0;
		uint64_t v;

		VMP_CHILD_CHECK(p);
		vmp_no_core();
		vmp_fill(p, 0, NPG, 0x51);
		vmp_post(ready[1]);
		vmp_pend(go[0]);
		for (pg = 0; pg < NPG; pg++) {
			v = 0x1234;
			sig = vmp_try_read(p + pg * PG + 8, &v, NULL);
			VMP_CHILD_CHECK(sig == SIGBUS ||
					v == vmp_word(0x51, pg, 1));
			sigbus += sig == SIGBUS;
		}
		VMP_CHILD_CHECK(sigbus == NPG);
		_exit(0);
	}
	ASSERT_EQ(0, vmp_pend(ready[0]));
	/* a third swap file: not the set the state's slots are in */
	snprintf(args, sizeof(args), "%s --swapfile %s/swap2", self->args,
		 self->d.dir);
	r = restart(&self->d, args, 0);
	ASSERT_EQ(0, r) TH_LOG("restarting vmpagerd: %s", strerror(-r));
	vmp_post(go[1]);
	EXPECT_EQ(0, vmp_wait(pid));
	EXPECT_EQ(1, vmpd_stat(&self->d, "orphans_dropped"));
	EXPECT_EQ(1, vmpd_stat(&self->d, "reattach_refused"));
	EXPECT_EQ(0, vmpd_stat(&self->d, "clients_reattached"));
	snprintf(args, sizeof(args), "%s/swap2", self->d.dir);
	unlink(args);
}

/*
 * A file-backed region: pages written and not yet written back survive
 * the restart and reach the file at vmp_region_flush().
 */
TEST_F_TIMEOUT(rs, file_region_survives_restart, 180)
{
	char path[256];
	int ready[2], go[2], r, fd;
	uint64_t buf[WORDS_PER_PG];
	size_t pg;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/data", self->d.dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, NPG * PG));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *p;

		setenv("VMPAGER_SOCKET", self->d.sock, 1);
		p = vmp_region_map_file(fd, 0, NPG * PG, VMP_BACKEND_DAEMON);

		VMP_CHILD_CHECK(p);
		vmp_no_core();
		vmp_fill(p, 0, NPG, 0x61);
		vmp_post(ready[1]);
		vmp_pend(go[0]);	/* a new daemon runs */
		VMP_CHILD_CHECK(vmp_check(p, 0, NPG, 0x61) == -1);
		VMP_CHILD_CHECK(vmp_region_flush(p, NPG * PG) == 0);
		VMP_CHILD_CHECK(vmp_region_free(p) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, vmp_pend(ready[0]));
	r = restart(&self->d, self->args, 0);
	ASSERT_EQ(0, r) TH_LOG("restarting vmpagerd: %s", strerror(-r));
	for (r = 0; r < 200 && vmpd_stat(&self->d, "clients_reattached") < 1; r++)
		usleep(20000);
	vmp_post(go[1]);
	EXPECT_EQ(0, vmp_wait(pid));
	for (pg = 0; pg < NPG; pg++) {
		ASSERT_EQ((ssize_t)PG, pread(fd, buf, PG, (off_t)(pg * PG)));
		ASSERT_EQ(vmp_word(0x61, pg, 7), buf[7]) TH_LOG("page %zu", pg);
	}
	close(fd);
	unlink(path);
}

/*
 * A clean page the client punched itself (MADV_REMOVE: zero now) while
 * its swap copy is kept reads zero after a restart too, not the old copy.
 */
TEST_F_TIMEOUT(rs, punched_page_stays_zero, 120)
{
	int ready[2], go[2], r;
	pid_t pid;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *p = vmpd_region(&self->d, NPG, 0);

		VMP_CHILD_CHECK(p);
		vmp_no_core();
		vmp_fill(p, 0, NPG, 0x71);
		/* page 0 back from swap: clean, its slot kept */
		VMP_CHILD_CHECK(region_ok(p, 0, 1, 0x71));
		VMP_CHILD_CHECK(!madvise(p, PG, MADV_REMOVE));
		VMP_CHILD_CHECK(vmp_check_zero(p, 1) == -1);
		vmp_post(ready[1]);
		vmp_pend(go[0]);
		VMP_CHILD_CHECK(vmp_check_zero(p, 1) == -1);
		VMP_CHILD_CHECK(region_ok(p, 1, NPG - 1, 0x71));
		_exit(0);
	}
	ASSERT_EQ(0, vmp_pend(ready[0]));
	r = restart(&self->d, self->args, 0);
	ASSERT_EQ(0, r) TH_LOG("restarting vmpagerd: %s", strerror(-r));
	vmp_post(go[1]);
	EXPECT_EQ(0, vmp_wait(pid));
	EXPECT_EQ(1, vmpd_stat(&self->d, "clients_reattached"));
}

/*
 * An mremap of part of the region while no daemon runs (it waits for its
 * event to be read): the client's map as it is now reaches the next daemon
 * with the re-attach, and every page is found at its new address.
 */
struct mover {
	char *from, *to;
	size_t len;
	void *res;
};

static void *move_pages(void *arg)
{
	struct mover *m = arg;

	m->res = mremap(m->from, m->len, m->len, MREMAP_MAYMOVE | MREMAP_FIXED,
			m->to);
	return NULL;
}

TEST_F_TIMEOUT(rs, mremap_in_the_gap_is_followed, 180)
{
	int ready[2], go[2], r;
	pid_t pid;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *p = vmpd_region(&self->d, NPG, 0), *to;
		struct mover m;
		pthread_t th;

		VMP_CHILD_CHECK(p);
		vmp_no_core();
		vmp_fill(p, 0, NPG, 0x81);
		to = mmap(NULL, 100 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
		VMP_CHILD_CHECK(to != MAP_FAILED);
		m = (struct mover){ p + 100 * PG, to, 100 * PG, NULL };
		vmp_post(ready[1]);
		vmp_pend(go[0]);	/* the daemon is stopped */
		VMP_CHILD_CHECK(!pthread_create(&th, NULL, move_pages, &m));
		pthread_join(th, NULL);	/* until a daemon reads its event */
		VMP_CHILD_CHECK(m.res == to);
		VMP_CHILD_CHECK(region_ok(p, 0, 100, 0x81));
		VMP_CHILD_CHECK(vmp_check(to, 100, 100, 0x81) == -1);
		VMP_CHILD_CHECK(region_ok(p, 200, NPG - 200, 0x81));
		_exit(0);
	}
	ASSERT_EQ(0, vmp_pend(ready[0]));
	ASSERT_EQ(0, kill(self->d.pid, SIGSTOP));
	vmp_post(go[1]);
	usleep(300000);		/* the mremap waits for its event to be read */
	r = restart(&self->d, self->args, 100000);
	ASSERT_EQ(0, r) TH_LOG("restarting vmpagerd: %s", strerror(-r));
	r = vmp_wait(pid);
	EXPECT_EQ(0, r);
	if (r)
		vmpd_dump_problems(&self->d);
	EXPECT_EQ(1, vmpd_stat(&self->d, "clients_reattached"));
}

/*
 * vmp_region_free() of a file-backed region while its daemon is down
 * waits for the next one: its pages reach the file.
 */
TEST_F_TIMEOUT(rs, file_region_freed_in_the_gap_reaches_the_file, 180)
{
	char path[256];
	int ready[2], go[2], r, fd;
	uint64_t buf[WORDS_PER_PG];
	size_t pg;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/data2", self->d.dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, NPG * PG));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *p;

		setenv("VMPAGER_SOCKET", self->d.sock, 1);
		p = vmp_region_map_file(fd, 0, NPG * PG, VMP_BACKEND_DAEMON);
		VMP_CHILD_CHECK(p);
		vmp_no_core();
		vmp_fill(p, 0, NPG, 0x91);
		vmp_post(ready[1]);
		vmp_pend(go[0]);	/* the daemon is dead */
		VMP_CHILD_CHECK(vmp_region_free(p) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, vmp_pend(ready[0]));
	ASSERT_EQ(0, kill(self->d.pid, SIGKILL));
	vmp_wait(self->d.pid);
	self->d.pid = 0;
	vmp_post(go[1]);
	usleep(300000);		/* the free waits */
	r = vmpd_spawn(&self->d, self->args);
	ASSERT_EQ(0, r) TH_LOG("restarting vmpagerd: %s", strerror(-r));
	EXPECT_EQ(0, vmp_wait(pid));
	for (pg = 0; pg < NPG; pg++) {
		ASSERT_EQ((ssize_t)PG, pread(fd, buf, PG, (off_t)(pg * PG)));
		ASSERT_EQ(vmp_word(0x91, pg, 3), buf[3]) TH_LOG("page %zu", pg);
	}
	close(fd);
	unlink(path);
}

/*
 * A client and its forked child share swap slots (the child's copy): both
 * re-attach to the next daemon (which takes a shared slot once for each),
 * read their own data, and the slots are free once both are done.
 */
TEST_F_TIMEOUT(rs, forked_pair_shares_slots_across_restart, 180)
{
	int ready[2], go[2], r;
	pid_t pid;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *p = vmpd_region(&self->d, NPG, 0);
		int cready[2], cgo[2];
		pid_t kid;

		VMP_CHILD_CHECK(p);
		VMP_CHILD_CHECK(!pipe(cready) && !pipe(cgo));
		vmp_no_core();
		vmp_fill(p, 0, NPG, 0xa1);
		kid = fork();
		VMP_CHILD_CHECK(kid >= 0);
		if (kid == 0) {
			vmp_fill(p, 0, 32, 0xa2);	/* its own, the rest shared */
			vmp_post(cready[1]);
			vmp_pend(cgo[0]);
			VMP_CHILD_CHECK(region_ok(p, 0, 32, 0xa2));
			VMP_CHILD_CHECK(region_ok(p, 32, NPG - 32, 0xa1));
			VMP_CHILD_CHECK(vmp_region_free(p) == 0);
			_exit(0);
		}
		vmp_pend(cready[0]);
		vmp_post(ready[1]);
		vmp_pend(go[0]);	/* a new daemon runs */
		vmp_post(cgo[1]);
		VMP_CHILD_CHECK(region_ok(p, 0, NPG, 0xa1));
		VMP_CHILD_CHECK(vmp_wait(kid) == 0);
		VMP_CHILD_CHECK(vmp_region_free(p) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, vmp_pend(ready[0]));
	EXPECT_EQ(2, state_count(self->state, "region."));
	r = restart(&self->d, self->args, 0);
	ASSERT_EQ(0, r) TH_LOG("restarting vmpagerd: %s", strerror(-r));
	for (r = 0; r < 200 && vmpd_stat(&self->d, "clients_reattached") < 2; r++)
		usleep(20000);
	EXPECT_EQ(2, vmpd_stat(&self->d, "clients_reattached"));
	vmp_post(go[1]);
	r = vmp_wait(pid);
	EXPECT_EQ(0, r);
	if (r)
		vmpd_dump_problems(&self->d);
	for (r = 0; r < 200 && vmpd_stat(&self->d, "clients"); r++)
		usleep(20000);
	EXPECT_EQ(0, vmpd_stat(&self->d, "swap_used"));
	EXPECT_EQ(0, state_count(self->state, "region."));
}

/* A state_dir that is not on a tmpfs is refused at start, with the reason. */
TEST_F(rs, state_dir_off_tmpfs_is_refused)
{
	struct vmpd_inst e;
	struct statfs sfs;
	char args[400], *log;

	if (statfs(vmpd_scratch(), &sfs) || sfs.f_type == TMPFS_MAGIC)
		SKIP(return, "%s is a tmpfs here", vmpd_scratch());
	snprintf(args, sizeof(args), "%s --state-dir %s/vmpd-state-disk",
		 ARGS, vmpd_scratch());
	EXPECT_EQ(-ECHILD, vmpd_start(&e, args));
	log = vmp_read_file(e.log);
	EXPECT_NE(NULL, log);
	if (log)
		EXPECT_NE(NULL, strstr(log, "not on a tmpfs")) TH_LOG("%s", log);
	free(log);
	vmpd_stop(&e);
	snprintf(args, sizeof(args), "%s/vmpd-state-disk", vmpd_scratch());
	rmdir(args);
}

/* Two daemons may not share a state_dir: the second refuses to start. */
TEST_F(rs, state_dir_is_one_daemons)
{
	struct vmpd_inst e;

	EXPECT_EQ(-ECHILD, vmpd_start(&e, self->args));
	vmpd_stop(&e);
}

TEST_HARNESS_MAIN
