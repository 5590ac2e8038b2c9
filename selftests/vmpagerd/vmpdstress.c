// SPDX-License-Identifier: GPL-2.0
/*
 * vmpdstress: vmpagerd under load for a bounded time (make stress and the
 * stress line of make check; docs/reliability.md).
 *
 * One daemon whose global frame budget is smaller than the sum of its
 * clients' budgets, so clients also evict each other. Several client
 * processes, each with a region four times its budget and several threads:
 * writes with a generation per page, exact verification of the pages a
 * thread owns, reads of other threads' pages (faults on the same pages),
 * MADV_DONTNEED over ranges (REMOVE events while faults are in flight) and
 * forks whose children must find a copy of the region as of the fork
 * (a file-backed one: nothing mapped). One
 * client in three maps a file instead (vmp_region_map_file(), its pages
 * prefilled with generation 1) and also flushes it now and then; whatever
 * ended it, its file must then hold every page's last completed write
 * (a page being written when SIGKILL came: each word old or new). The
 * supervisor kills clients with SIGKILL at random moments, stops others
 * cleanly (final full verification, region freed), switches the policy,
 * the readahead window and its mode and fault_around through the control
 * socket, kills the daemon itself with SIGKILL now and then and starts it
 * again on the same state_dir (its clients must re-attach with every page
 * intact; in-flight faults wait), and keeps
 * the number of clients constant. At the end every live client verifies every page, the
 * daemon must hold no frame, slot or client, and must exit cleanly.
 *
 * Every page carries (client tag, page, generation) in every word
 * (selftests/stress/stress.h); a torn page, a zero page, an old
 * generation or another client's page fails the check.
 *
 *   VMPD_STRESS_SECS   run time in seconds (default 20)
 *   VMPD_STRESS_SEED   the seed (default: time); printed, reproduces the schedule
 *   VMPD_STRESS_RESTARTS=0  never restart the daemon (default: about one
 *                      action in 15, when /dev/shm is a tmpfs for its state)
 */
#include <pthread.h>
#include <sched.h>

#include "vmpd_test.h"
#include "stress.h"

#define BUDGET		128			/* frames per client */
#define NPG		(4 * BUDGET)		/* pages per region */
#define NCLIENTS	3
#define NTHREADS	3
#define GLOBAL		(2 * BUDGET)		/* < NCLIENTS * BUDGET */
#define MAX_SLOTS	256			/* clients over the run */

/* Per-client results, in memory shared with the supervisor. */
struct result {
	long verified;		/* pages compared exactly */
	long corrupt;		/* pages that differed */
	long writes;
	long contended;		/* reads of other threads' pages */
	long dontneeds;
	long forks;
	long forks_copied;	/* children whose copy was right */
	long fork_nocopy;	/* ... that had none (a daemon restart) */
	long fork_bad;		/* children with a wrong copy, or a file region's */
	long final_pages;	/* pages verified by the final pass */
	int region_failed;	/* errno of a failed region allocation */
	long ready;		/* 1: the region exists */
	int done;		/* the final pass finished */
	long flushes;		/* file clients: vmp_region_flush() calls */
	long flush_failed;
	long flush_restart;	/* ... that met a daemon restart (ENOTCONN, ECONNRESET) */
};

/* File clients: the generation of each page's last completed write. */
struct fstate {
	uint32_t written[NPG];
};

static struct result *results;		/* MAP_SHARED, MAX_SLOTS entries */
static struct fstate *fstates;		/* MAP_SHARED, MAX_SLOTS entries */

/* One client in three is file-backed. */
static bool file_slot(unsigned int slot)
{
	return slot % 3 == 2;
}

static void file_path(const struct vmpd_inst *d, unsigned int slot,
		      char *buf, size_t len)
{
	snprintf(buf, len, "%s/f%u", d->dir, slot);
}
static volatile sig_atomic_t stop;

struct worker {
	char *p;
	uint32_t *gen;		/* generation per page; a thread owns pg % NTHREADS */
	uint32_t *written;	/* file clients: shared copy, after each write */
	struct result *r;
	unsigned int tag;
	unsigned int t;
	uint64_t seed;
};

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void report(struct worker *w, uint32_t pg, long word)
{
	const uint64_t *q = (const uint64_t *)(w->p + (size_t)pg * VS_PG);

	__atomic_add_fetch(&w->r->corrupt, 1, __ATOMIC_RELAXED);
	fprintf(stderr, "# client tag %u page %u: word %ld differs; expected generation %u, header %#llx\n",
		w->tag, pg, word, w->gen[pg], (unsigned long long)q[0]);
}

static void verify(struct worker *w, uint32_t pg)
{
	long bad = vs_check(w->p + (size_t)pg * VS_PG, w->tag, pg, w->gen[pg]);

	if (bad >= 0)
		report(w, pg, bad);
	else
		__atomic_add_fetch(&w->r->verified, 1, __ATOMIC_RELAXED);
}

/* A page of this thread's stripe. */
static uint32_t own_page(struct worker *w)
{
	return (uint32_t)(vs_below(&w->seed, NPG / NTHREADS) * NTHREADS + w->t);
}

/*
 * A forked child finds a copy of the region as of the fork: this thread's
 * stripe (written by it alone) at the generations it wrote. A file-backed
 * region is not copied: its child has nothing mapped there.
 */
static void fork_check(struct worker *w)
{
	pid_t pid;
	int st, code;

	pid = fork();
	if (pid == 0) {
		uint64_t v;
		uint32_t pg;

		if (vmp_try_read(w->p, &v, NULL) == SIGSEGV)
			_exit(3);
		if (w->written)
			_exit(1);	/* a file-backed region copied */
		/* a sample of the stripe: one page in 8 (under TCG, time) */
		for (pg = w->t; pg < NPG; pg += 8 * NTHREADS)
			if (vs_check(w->p + (size_t)pg * VS_PG, w->tag, pg,
				     w->gen[pg]) >= 0)
				_exit(2);
		/* the copy is the child's: it writes it and reads it back */
		for (pg = w->t; pg < NPG; pg += 8 * NTHREADS)
			vs_fill(w->p + (size_t)pg * VS_PG, w->tag, pg,
				w->gen[pg] + 1000);
		for (pg = w->t; pg < NPG; pg += 8 * NTHREADS)
			if (vs_check(w->p + (size_t)pg * VS_PG, w->tag, pg,
				     w->gen[pg] + 1000) >= 0)
				_exit(2);
		_exit(0);
	}
	if (pid < 0)
		return;
	st = vmp_wait(pid);
	code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	__atomic_add_fetch(&w->r->forks, 1, __ATOMIC_RELAXED);
	if (code == 0) {
		__atomic_add_fetch(&w->r->forks_copied, 1, __ATOMIC_RELAXED);
	} else if (code == 3 && !w->written) {
		/* the daemon was restarting: no copy, nothing mapped */
		__atomic_add_fetch(&w->r->fork_nocopy, 1, __ATOMIC_RELAXED);
	} else if (code != 3) {
		__atomic_add_fetch(&w->r->fork_bad, 1, __ATOMIC_RELAXED);
		fprintf(stderr, "# client tag %u: a fork child found %s (status %#x)\n",
			w->tag, code == 2 ? "wrong data in its copy" :
			"a copy of a file-backed region", st);
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	uint32_t pg, i, n;

	while (!stop) {
		unsigned int op = vs_below(&w->seed, 100);

		if (op < 45) {
			pg = own_page(w);
			vs_fill(w->p + (size_t)pg * VS_PG, w->tag, pg, ++w->gen[pg]);
			if (w->written)
				__atomic_store_n(&w->written[pg], w->gen[pg],
						 __ATOMIC_RELEASE);
			__atomic_add_fetch(&w->r->writes, 1, __ATOMIC_RELAXED);
		} else if (op < 80) {
			verify(w, own_page(w));
		} else if (op < 90) {
			pg = vs_below(&w->seed, NPG);
			(void)*(volatile uint64_t *)(w->p + (size_t)pg * VS_PG);
			__atomic_add_fetch(&w->r->contended, 1, __ATOMIC_RELAXED);
		} else if (op < 94) {
			pg = own_page(w);
			n = 32;
			for (i = 0; i < n && pg < NPG; i++, pg += NTHREADS)
				verify(w, pg);
		} else if (op < 97) {
			pg = vs_below(&w->seed, NPG - 16);
			/* on a MAP_SHARED memfd the data stays: a REMOVE event */
			if (!madvise(w->p + (size_t)pg * VS_PG, 16 * VS_PG, MADV_DONTNEED))
				__atomic_add_fetch(&w->r->dontneeds, 1, __ATOMIC_RELAXED);
		} else if (op < 98 && w->t == 0) {
			fork_check(w);
		} else if (op < 98 && w->t == 1 && w->written) {
			/* VMPD_FLUSH while the other threads write */
			if (vmp_region_flush(w->p, (size_t)NPG * VS_PG)) {
				int e = errno;

				if (e == ENOTCONN || e == ECONNRESET) {
					/* the daemon restarts: nothing known written */
					__atomic_add_fetch(&w->r->flush_restart, 1,
							   __ATOMIC_RELAXED);
				} else {
					__atomic_add_fetch(&w->r->flush_failed, 1,
							   __ATOMIC_RELAXED);
					fprintf(stderr, "# client tag %u: flush: %s\n",
						w->tag, vmp_region_strerror());
				}
			}
			__atomic_add_fetch(&w->r->flushes, 1, __ATOMIC_RELAXED);
		} else {
			sched_yield();
		}
	}
	return NULL;
}

/* A client process: runs until SIGTERM (then verifies all, frees, exits 0) or SIGKILL. */
static void client(struct vmpd_inst *d, unsigned int slot, uint64_t seed)
{
	struct worker w[NTHREADS];
	struct result *r = &results[slot];
	pthread_t th[NTHREADS];
	uint32_t *gen, pg;
	unsigned int t;
	sigset_t set;
	char *p;

	vmp_no_core();
	if (file_slot(slot)) {
		char path[160], budget[16];
		int fd;

		file_path(d, slot, path, sizeof(path));
		snprintf(budget, sizeof(budget), "%d", BUDGET);
		setenv("VMPAGER_SOCKET", d->sock, 1);
		setenv("VMPAGER_BUDGET", budget, 1);
		fd = open(path, O_RDWR);
		p = fd < 0 ? NULL :
		    vmp_region_map_file(fd, 0, (size_t)NPG * VS_PG,
					VMP_BACKEND_DAEMON);
		if (fd >= 0)
			close(fd);
	} else {
		p = vmpd_region(d, NPG, BUDGET);
	}
	if (!p) {
		r->region_failed = errno ? errno : EIO;
		fprintf(stderr, "# client slot %u: %s\n", slot, vmp_region_strerror());
		_exit(2);
	}
	r->ready = 1;
	gen = calloc(NPG, sizeof(*gen));
	if (!gen)
		_exit(2);
	if (file_slot(slot))	/* the file's pages: generation 1 */
		for (pg = 0; pg < NPG; pg++)
			gen[pg] = 1;
	/* threads do not take SIGTERM: the flag is polled */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (t = 0; t < NTHREADS; t++) {
		w[t] = (struct worker){ .p = p, .gen = gen, .r = r,
					.tag = slot & 0xff, .t = t,
					.seed = seed * 31 + t + 1,
					.written = file_slot(slot) ?
						   fstates[slot].written : NULL };
		if (pthread_create(&th[t], NULL, work, &w[t]))
			_exit(2);
	}
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (!stop)
		usleep(10000);
	for (t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	for (pg = 0; pg < NPG; pg++) {
		verify(&w[pg % NTHREADS], pg);
		r->final_pages++;
	}
	r->done = 1;
	_exit(vmp_region_free(p) ? 3 : 0);
}

/* A file client's file: every page generation 1. 0 or -errno. */
static int file_make(const struct vmpd_inst *d, unsigned int slot)
{
	char path[160], buf[VS_PG];
	uint32_t pg;
	int fd;

	file_path(d, slot, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -errno;
	for (pg = 0; pg < NPG; pg++) {
		vs_fill(buf, slot & 0xff, pg, 1);
		fstates[slot].written[pg] = 1;
		if (pwrite(fd, buf, VS_PG, (off_t)pg * VS_PG) != VS_PG) {
			close(fd);
			return -EIO;
		}
	}
	close(fd);
	return 0;
}

/*
 * A file client's file, once its region is gone: every page holds its last
 * completed write; with @torn_ok (killed), a page may mix it with the next
 * generation word by word (SIGKILL in the middle of a fill). The number of
 * bad pages, each reported.
 */
static int file_verify(const struct vmpd_inst *d, unsigned int slot,
		       bool torn_ok)
{
	char path[160];
	uint64_t buf[VS_WORDS];
	int fd, bad = 0;
	uint32_t pg;
	size_t w;

	file_path(d, slot, path, sizeof(path));
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return NPG;
	for (pg = 0; pg < NPG; pg++) {
		uint32_t g = fstates[slot].written[pg];
		uint64_t h0 = vs_hdr(slot & 0xff, pg, g);
		uint64_t h1 = vs_hdr(slot & 0xff, pg, g + 1);

		if (pread(fd, buf, VS_PG, (off_t)pg * VS_PG) != VS_PG) {
			bad++;
			continue;
		}
		for (w = 0; w < VS_WORDS; w++)
			if (buf[w] != vs_word(h0, w) &&
			    (!torn_ok || buf[w] != vs_word(h1, w)))
				break;
		if (w < VS_WORDS) {
			bad++;
			fprintf(stderr, "# file client slot %u page %u: word %zu is neither generation %u%s (header %#llx)\n",
				slot, pg, w, g, torn_ok ? " nor the next" : "",
				(unsigned long long)buf[0]);
		}
	}
	close(fd);
	unlink(path);
	return bad;
}

static pid_t spawn(struct vmpd_inst *d, unsigned int slot, uint64_t seed)
{
	pid_t pid;

	if (file_slot(slot) && file_make(d, slot))
		return -1;
	pid = fork();

	if (pid == 0)
		client(d, slot, seed);
	return pid;
}

static long sum(unsigned int n, size_t off)
{
	long s = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		s += *(long *)((char *)&results[i] + off);
	return s;
}

#define SUM(n, field)	sum(n, offsetof(struct result, field))

/*
 * Daemon restarts: the state_dir, and the counters of the daemons killed
 * so far (summed with the last one's at the end).
 */
static char state[96];
static const char *const acc_names[] = {
	"faults", "swap_ins", "swap_outs", "clients_exited", "events_remove",
	"events_stale", "lost_pages", "clients_reattached", "pages_recovered",
	"orphans_dropped", "reattach_refused", "clients_forked",
};
static long long acc[ARRAY_SIZE(acc_names)];

static void acc_add(struct vmpd_inst *d)
{
	unsigned int i;
	long long v;

	for (i = 0; i < ARRAY_SIZE(acc_names); i++) {
		v = vmpd_stat(d, acc_names[i]);
		acc[i] += v > 0 ? v : 0;
	}
}

/* A counter summed over every daemon of the run (after acc_add() of the last). */
static long long acc_get(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(acc_names); i++)
		if (!strcmp(acc_names[i], name))
			return acc[i];
	return -1;
}

/*
 * Every live client has its region (or failed to get one) and the daemon
 * serves exactly those, with no region of a dead daemon left waiting: a
 * restart then catches the clients at work, not half set up or half gone
 * (a client killed while no daemon runs loses its unwritten file pages,
 * as documented). false after 10 s.
 */
static bool settled(struct vmpd_inst *d, const unsigned int *slots)
{
	unsigned int i, k, n;
	bool all;

	for (i = 0; i < 500; i++) {
		for (k = 0, n = 0, all = true; k < NCLIENTS; k++) {
			const struct result *r = &results[slots[k]];

			if (!__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE) &&
			    !r->region_failed)
				all = false;
			n += r->ready ? 1 : 0;
		}
		if (all && vmpd_stat(d, "clients") == n &&
		    vmpd_stat(d, "orphans") == 0)
			return true;
		usleep(20000);
	}
	return false;
}


FIXTURE(run) {
	int unused;
};

FIXTURE_SETUP(run)
{
	/* clients inherit the handler: a SIGTERM right after fork is not fatal */
	signal(SIGTERM, on_term);
}

FIXTURE_TEARDOWN(run)
{
}

/* The plan line's timeout bounds the run; VMPD_STRESS_SECS sizes it. */
TEST_F_TIMEOUT(run, daemon_clients_under_kills_and_knob_changes, 7200)
{
	static const char *const policies[] = { "fifo", "clock", "lru", "lru2",
						"arc", "lirs", "sieve", "s3fifo",
						"clockpro", "adaptive" };
	const char *e = getenv("VMPD_STRESS_SECS");
	unsigned int secs = e && *e ? (unsigned int)atoi(e) : 20;
	unsigned int nslots = 0, i, kills = 0, exits = 0, knobs = 0, nfiles = 0;
	unsigned int restarts = 0;
	int fbad = 0;
	long long faults, ins, outs, exited;
	pid_t pids[NCLIENTS];
	unsigned int slots[NCLIENTS];
	struct vmpd_inst d;
	uint64_t seed, rng;
	char extra[256], cmd[64], *ans;
	double end;
	int r, st;

	e = getenv("VMPD_STRESS_SEED");
	seed = e && *e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL);
	rng = seed;
	TH_LOG("seed %llu (VMPD_STRESS_SEED reproduces the schedule), %u s, %d clients x %d threads, budget %d of %d pages, global %d frames",
	       (unsigned long long)seed, secs, NCLIENTS, NTHREADS, BUDGET, NPG, GLOBAL);
	results = mmap(NULL, MAX_SLOTS * sizeof(*results), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, results);
	fstates = mmap(NULL, MAX_SLOTS * sizeof(*fstates), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, fstates);
	e = getenv("VMPD_STRESS_RESTARTS");
	if ((!e || strcmp(e, "0")) &&
	    vmpd_state_mkdtemp(state, sizeof(state), "vmpdstress"))
		state[0] = '\0';
	if (!state[0])
		TH_LOG("no daemon restarts (VMPD_STRESS_RESTARTS=0, or no tmpfs at /dev/shm)");
	snprintf(extra, sizeof(extra), "--frames %d --client-frames %d --client-cache 32 --threads 3 --log-level info%s%s",
		 GLOBAL, BUDGET, state[0] ? " --state-dir " : "", state);
	r = vmpd_start(&d, extra);
	ASSERT_EQ(0, r) TH_LOG("starting %s: %s", vmpd_bin(), strerror(-r));

	for (i = 0; i < NCLIENTS; i++) {
		slots[i] = nslots++;
		pids[i] = spawn(&d, slots[i], vs_rand(&rng));
		ASSERT_LT(0, pids[i]);
	}
	end = vs_now() + secs;
	while (vs_now() < end && nslots < MAX_SLOTS) {
		vs_sleep_ms(100 + vs_below(&rng, 500));
		ASSERT_EQ(0, waitpid(d.pid, &st, WNOHANG)) TH_LOG("vmpagerd died: status %#x", st);
		if (state[0] && !vs_below(&rng, 15)) {
			/* kill -9 the daemon in the middle of its clients' faults */
			ASSERT_TRUE(settled(&d, slots)) TH_LOG("clients never settled");
			acc_add(&d);
			kill(d.pid, SIGKILL);
			st = vmp_wait(d.pid);
			d.pid = 0;
			ASSERT_TRUE(VMP_KILLED(st, SIGKILL)) TH_LOG("status %#x", st);
			vs_sleep_ms(vs_below(&rng, 300));
			r = vmpd_spawn(&d, extra);
			ASSERT_EQ(0, r) TH_LOG("restarting: %s", strerror(-r));
			ASSERT_TRUE(settled(&d, slots))
				TH_LOG("clients never re-attached");
			restarts++;
			continue;
		}
		i = vs_below(&rng, NCLIENTS);
		switch (vs_below(&rng, 10)) {
		case 0 ... 3:		/* SIGKILL, at whatever the client was doing */
			kill(pids[i], SIGKILL);
			st = vmp_wait(pids[i]);
			ASSERT_TRUE(VMP_KILLED(st, SIGKILL))
				TH_LOG("client slot %u: status %#x", slots[i], st);
			kills++;
			break;
		case 4:			/* clean stop: final verification, free */
			kill(pids[i], SIGTERM);
			st = vmp_wait(pids[i]);
			ASSERT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st))
				TH_LOG("client slot %u: status %#x", slots[i], st);
			exits++;
			break;
		case 5 ... 6:
			snprintf(cmd, sizeof(cmd), "policy %s",
				 policies[vs_below(&rng, ARRAY_SIZE(policies))]);
			goto knob;
		case 7:
			snprintf(cmd, sizeof(cmd), "readahead %u",
				 (unsigned int)vs_below(&rng, 17));
			goto knob;
		case 8:
			snprintf(cmd, sizeof(cmd), "ra_adaptive %u",
				 (unsigned int)vs_below(&rng, 2));
			goto knob;
		case 9:
			snprintf(cmd, sizeof(cmd), "fault_around %u",
				 (unsigned int)vs_below(&rng, 17));
knob:
			ans = vmpd_ctl(&d, cmd);
			ASSERT_NE(NULL, ans);
			EXPECT_EQ(NULL, strstr(ans, "error")) TH_LOG("%s: %s", cmd, ans);
			free(ans);
			knobs++;
			continue;
		default:
			continue;
		}
		slots[i] = nslots++;
		pids[i] = spawn(&d, slots[i], vs_rand(&rng));
		ASSERT_LT(0, pids[i]);
	}
	for (i = 0; i < NCLIENTS; i++)
		kill(pids[i], SIGTERM);
	for (i = 0; i < NCLIENTS; i++) {
		st = vmp_wait(pids[i]);
		EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st))
			TH_LOG("client slot %u: status %#x", slots[i], st);
		EXPECT_EQ(1, results[slots[i]].done);
		EXPECT_EQ(NPG, results[slots[i]].final_pages);
		exits++;
	}
	for (i = 0; i < 250 && vmpd_stat(&d, "clients"); i++)
		usleep(20000);
	/*
	 * A client killed between a fork's copy and its fork() left a copy
	 * no child takes: it holds slots until it expires (10 s).
	 */
	if (vmpd_stat(&d, "forks_pending") > 0)
		TH_LOG("waiting for %lld fork copies no child took to expire",
		       vmpd_stat(&d, "forks_pending"));
	for (i = 0; i < 150 && vmpd_stat(&d, "forks_pending") > 0; i++)
		usleep(100000);
	/* every region is gone: the files hold what their clients wrote */
	for (i = 0; i < nslots; i++) {
		char path[160];

		if (file_slot(i) && !results[i].ready) {
			file_path(&d, i, path, sizeof(path));
			unlink(path);	/* killed before its region existed */
		}
		if (!file_slot(i) || !results[i].ready)
			continue;
		fbad += file_verify(&d, i, !results[i].done);
		nfiles++;
	}
	acc_add(&d);
	faults = acc_get("faults");
	ins = acc_get("swap_ins");
	outs = acc_get("swap_outs");
	/* a client gone while no daemon ran is dropped at the next start */
	exited = acc_get("clients_exited") + acc_get("orphans_dropped") -
		 acc_get("clients_forked");	/* fork children end too */
	TH_LOG("%ld pages verified, %ld corruptions, %ld writes, %ld contended reads, %ld DONTNEEDs, %ld forks (%ld copies verified, %ld wrong, %ld without a copy), %u SIGKILLs, %u clean exits, %u knob changes",
	       SUM(nslots, verified), SUM(nslots, corrupt), SUM(nslots, writes),
	       SUM(nslots, contended), SUM(nslots, dontneeds), SUM(nslots, forks),
	       SUM(nslots, forks_copied), SUM(nslots, fork_bad),
	       SUM(nslots, fork_nocopy), kills, exits, knobs);
	TH_LOG("vmpagerd: %lld faults, %lld swap-ins, %lld swap-outs, %lld clients exited, %lld REMOVE events, %lld stale epoll events dropped",
	       faults, ins, outs, exited, acc_get("events_remove"),
	       acc_get("events_stale"));
	TH_LOG("restarts: %u (kill -9), %lld regions re-attached, %lld pages recovered, %lld re-attaches refused, %lld regions of dead clients dropped",
	       restarts, acc_get("clients_reattached"),
	       acc_get("pages_recovered"), acc_get("reattach_refused"),
	       acc_get("orphans_dropped"));
	TH_LOG("file clients: %u files verified, %d bad pages, %ld flushes (%ld failed, %ld met a restart)",
	       nfiles, fbad, SUM(nslots, flushes), SUM(nslots, flush_failed),
	       SUM(nslots, flush_restart));
	EXPECT_EQ(0, fbad);
	EXPECT_LT(0u, nfiles);
	EXPECT_EQ(0, SUM(nslots, flush_failed));
	for (i = 0; i < nslots; i++)
		EXPECT_EQ(0, results[i].region_failed) TH_LOG("slot %u", i);
	EXPECT_EQ(0, SUM(nslots, corrupt));
	EXPECT_EQ(0, SUM(nslots, fork_bad));
	if (SUM(nslots, forks) > 10)
		EXPECT_LT(0, SUM(nslots, forks_copied));
	EXPECT_LT(0, SUM(nslots, verified));
	EXPECT_LT(0, outs) TH_LOG("no eviction: the run did not overcommit");
	EXPECT_LT(0, ins);
	/*
	 * A client killed before its region was set up never counted. With
	 * restarts the sum over daemons is read before each kill -9, and a
	 * fork child's end can fall on either side of that: not exact.
	 */
	if (!restarts) {
		EXPECT_LE(SUM(nslots, ready), exited);
		EXPECT_GE((long long)nslots, exited);
	}
	EXPECT_EQ(0, vmpd_stat(&d, "clients"));
	EXPECT_EQ(0, vmpd_stat(&d, "frames_used"));
	EXPECT_EQ(0, vmpd_stat(&d, "swap_used"));
	EXPECT_EQ(0, acc_get("lost_pages"));
	EXPECT_EQ(0, acc_get("reattach_refused"));
	EXPECT_EQ(0, vmpd_stat(&d, "orphans"));
	if (restarts)
		EXPECT_LT(0, acc_get("clients_reattached"));
	if (!_metadata->passed)
		vmpd_dump_problems(&d);
	EXPECT_EQ(0, vmpd_stop(&d)) TH_LOG("vmpagerd did not exit cleanly on SIGTERM");
	if (state[0])
		vmpd_state_rm(state);
	munmap(results, MAX_SLOTS * sizeof(*results));
	munmap(fstates, MAX_SLOTS * sizeof(*fstates));
}

TEST_HARNESS_MAIN
