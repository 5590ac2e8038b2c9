// SPDX-License-Identifier: GPL-2.0
/*
 * vmpstress: proves that no page of a vmpager object is ever lost, stale,
 * torn or mixed up while many processes and threads hammer objects several
 * times larger than the pool, get killed, fork, remap and change the
 * module's knobs under it.
 *
 * Layout. The supervisor (this process) loads the module with a small pool
 * and a swap file, opens NOBJ shared objects (RATIO x the pool together) and
 * forks PROCS workers of THREADS threads each. Every page of every shared
 * object has a generation number in a seqlock word kept in anonymous shared
 * memory (even: stable generation * 2; odd: being written), and exactly one
 * writer thread in the whole run owns it (page % (PROCS * THREADS)). A page of
 * generation g holds vs_fill(tag, page, g): a reader copies the page between
 * two reads of the seqlock word and, when they agree, checks it exactly. So
 * a lost write, a stale swap copy, a page of another object or index and a
 * torn page are all corruptions; a page whose writer was killed mid-write
 * stays odd and is skipped until its owner (or the final pass) rewrites it.
 *
 * Thread roles in a worker:
 *   0, 3..: write owned pages, verify random pages and short sequential runs
 *   1: a MAP_PRIVATE mapping with its own copy-on-write pages (verified
 *      against a private record), MADV_DONTNEED on it, fork storms (children
 *      verify and write privately; some are killed), and short-lived objects
 *      that are closed and unmapped by their creator while a child still maps
 *      them (some children are killed: the object dies with the child)
 *   2: windows of the objects: mmap, writes through the window, mremap move
 *      and shrink, mprotect read-only and back, partial munmap, MADV_DONTNEED,
 *      mlock/munlock, and MADV_DONTNEED/COLD/PAGEOUT on the main mappings
 *      while the other threads fault there
 * The last shared object (of two or more) is file-backed: bound by
 * VMPAGER_IOC_MAP_FILE to a sparse file (never-written pages read as zeros
 * from it, as anonymous ones do), so its evictions are write-backs; once it
 * is released its file must hold every page's final generation.
 * The supervisor meanwhile SIGKILLs random workers (respawning them), writes
 * random policies, watermarks and readahead windows to debugfs, tries to
 * unload the busy module (must be refused) and checks the pool's accounting.
 * At the end every page of every object is verified once more, everything is
 * closed, the pool must be entirely free, the swap empty, and the module must
 * unload.
 *
 * Output is KTAP. The seed is printed; it fixes every random choice of every
 * thread, not the interleaving (that is the scheduler's).
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "stress.h"
#include "vmp_stat_names.h"

#define VS_MAX_OBJ	32
#define VS_MAX_PROCS	32
#define VS_MAX_THREADS	16
#define VS_MAX_EVENTS	32

/* Tags in page headers: which kind of object or copy a page belongs to. */
#define TAG_SHARED(o)	(1 + (o))		/* shared objects: 1..32 */
#define TAG_CHURN(s)	(0x40 | (s))		/* short-lived objects */
#define TAG_PRIV(s)	(0x80 | (s))		/* a worker's (and its children's) private copies */

/* ---- counters, kept in shared memory so killed processes' work counts ---- */

#define VS_COUNTERS(X)							\
	X(verified, "pages read and checked exactly (shared, window, private-follow)") \
	X(corrupt, "pages that were wrong: must stay 0")		\
	X(skipped, "reads abandoned because the page was being written") \
	X(writes, "shared page writes (one generation each)")		\
	X(repairs, "pages a killed writer left half-written, rewritten") \
	X(priv_writes, "private copy-on-write page writes")		\
	X(priv_verified, "private copies checked exactly")		\
	X(forks, "fork storm children")					\
	X(child_kills, "fork and churn children killed with SIGKILL")	\
	X(child_bad, "children that failed or died of another signal: must stay 0") \
	X(obj_churn, "short-lived objects created, shared and closed")	\
	X(mmaps, "window mmaps")					\
	X(mremaps, "mremap moves and shrinks")				\
	X(mprotects, "mprotect calls")					\
	X(munmaps, "partial and full window munmaps")			\
	X(madvises, "madvise DONTNEED/COLD/PAGEOUT calls")		\
	X(mlocks, "mlock+munlock pairs")				\
	X(syserr, "unexpected syscall failures: must stay 0")		\
	X(kills, "workers killed with SIGKILL")				\
	X(respawns, "workers started again after a death")		\
	X(bad_deaths, "workers that died of anything else: must stay 0") \
	X(policy, "policy switches")					\
	X(wmarks, "watermark changes")					\
	X(readahead, "readahead window and mode changes")			\
	X(refsrc, "reference source changes (ref_source, harvest_batch, harvest_flush)") \
	X(knob_err, "valid knob writes refused: must stay 0")		\
	X(rmmod, "unload attempts while busy")				\
	X(rmmod_bad, "unload attempts not refused with EAGAIN/EBUSY: must stay 0") \
	X(info, "GLOBAL_INFO accounting checks")			\
	X(info_bad, "checks where free + resident + orphaned != pool: must stay 0") \
	X(final_verified, "pages checked in the final pass")

#define X_ENUM(n, d)	C_##n,
enum vs_ctr { VS_COUNTERS(X_ENUM) C_NR };
#undef X_ENUM
#define X_NAME(n, d)	#n,
static const char *const ctr_names[C_NR] = { VS_COUNTERS(X_NAME) };
#undef X_NAME

struct vs_event {
	int pid;
	char what[200];
};

struct vs_shared {
	uint64_t ctr[C_NR];
	uint32_t nevents;
	int stop;
	struct vs_event ev[VS_MAX_EVENTS];
	uint32_t seq[];		/* per shared page: 2 * gen, odd while written */
};

/* ---- configuration: set before the first fork, read-only afterwards ---- */

static struct {
	unsigned int secs, procs, threads, pool, nobj;
	double ratio;
	uint64_t seed;
	const char *backend, *policy;
	bool kill, rmmod, knobs, load;
	int verbose;
} cfg = {
	.secs = 60, .procs = 3, .threads = 3, .pool = 2048, .nobj = 8,
	.ratio = 4.0, .backend = "kernel", .kill = true, .rmmod = true,
	.knobs = true, .load = true,
};

static uint64_t objpages;		/* pages per shared object */
static uint64_t total;			/* pages in all shared objects */
static int fds[VS_MAX_OBJ];		/* the shared objects (supervisor's fds) */
static struct vs_shared *sh;
static pid_t super_pid;

/* Per worker process (after fork). */
static unsigned int w_slot, w_inc;
static char *smap[VS_MAX_OBJ];		/* MAP_SHARED of each whole object */

static inline void ctr_add(enum vs_ctr c, uint64_t n)
{
	__atomic_fetch_add(&sh->ctr[c], n, __ATOMIC_RELAXED);
}

static inline uint64_t ctr(enum vs_ctr c)
{
	return __atomic_load_n(&sh->ctr[c], __ATOMIC_RELAXED);
}

static inline int stopping(void)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_RELAXED);
}

/* Record an event (corruption, unexpected failure); the supervisor prints it. */
static void __attribute__((format(printf, 1, 2))) event(const char *fmt, ...)
{
	uint32_t i = __atomic_fetch_add(&sh->nevents, 1, __ATOMIC_RELAXED);
	va_list ap;

	if (i >= VS_MAX_EVENTS)
		return;
	va_start(ap, fmt);
	vsnprintf(sh->ev[i].what, sizeof(sh->ev[i].what), fmt, ap);
	va_end(ap);
	__atomic_store_n(&sh->ev[i].pid, getpid(), __ATOMIC_RELEASE);
}

static void syserr(const char *what)
{
	ctr_add(C_syserr, 1);
	event("%s failed: %s", what, strerror(errno));
}

/* ---- shared pages: owner, address, seqlocked read and write ---- */

static inline unsigned int nowners(void)
{
	return cfg.procs * cfg.threads;
}

static inline unsigned int gi_tag(uint64_t gi)
{
	return TAG_SHARED(gi / objpages);
}

static inline uint32_t gi_page(uint64_t gi)
{
	return gi % objpages;
}

static inline char *gi_addr(uint64_t gi)
{
	return smap[gi / objpages] + gi_page(gi) * VS_PG;
}

/* A random page owned by writer @id, or total if it owns none. */
static uint64_t owned_page(uint64_t *rng, unsigned int id)
{
	uint64_t n;

	if (id >= total)
		return total;
	n = (total - id + nowners() - 1) / nowners();
	return id + vs_below(rng, n) * nowners();
}

static void note_corrupt(const char *kind, const uint64_t *buf, unsigned int tag,
			 uint32_t page, uint32_t gen, long w)
{
	uint64_t want = gen ? vs_word(vs_hdr(tag, page, gen), w) : 0;
	uint64_t h = buf[0];

	ctr_add(C_corrupt, 1);
	event("CORRUPTION (%s): tag %#x page %u gen %u: word %ld is %#llx, want %#llx; "
	      "the page's header says tag %#x page %u gen %u", kind, tag, page, gen, w,
	      (unsigned long long)buf[w], (unsigned long long)want,
	      (unsigned int)(h >> 56), (unsigned int)(h >> 32) & 0xffffff, (unsigned int)h);
}

/*
 * Read shared page @gi through @src (any mapping of it) under its seqlock
 * and check it. 1: verified; 0: skipped (being written); -1: corrupt.
 */
static int verify_shared(const char *src, uint64_t gi, uint64_t *buf, const char *kind)
{
	uint32_t *sq = &sh->seq[gi];
	uint32_t s1;
	long w;
	int tries;

	for (tries = 0; tries < 3; tries++) {
		s1 = __atomic_load_n(sq, __ATOMIC_ACQUIRE);
		if (s1 & 1)
			break;
		memcpy(buf, src, VS_PG);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(sq, __ATOMIC_RELAXED) != s1)
			continue;
		w = vs_check(buf, gi_tag(gi), gi_page(gi), s1 >> 1);
		if (w >= 0) {
			note_corrupt(kind, buf, gi_tag(gi), gi_page(gi), s1 >> 1, w);
			return -1;
		}
		ctr_add(C_verified, 1);
		return 1;
	}
	ctr_add(C_skipped, 1);
	return 0;
}

/* Write the next generation of shared page @gi (owned by the caller) at @dst. */
static void write_shared(char *dst, uint64_t gi)
{
	uint32_t *sq = &sh->seq[gi];
	uint32_t s = __atomic_load_n(sq, __ATOMIC_RELAXED);
	uint32_t g = (s >> 1) + 1;

	if (s & 1)
		ctr_add(C_repairs, 1);	/* a killed owner left it half-written */
	__atomic_store_n(sq, s | 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vs_fill(dst, gi_tag(gi), gi_page(gi), g);
	__atomic_store_n(sq, g << 1, __ATOMIC_RELEASE);
	ctr_add(C_writes, 1);
}

/* ---- thread roles ---- */

struct vs_thread {
	pthread_t tid;
	unsigned int t;		/* thread index in the worker */
	uint64_t rng;
	uint64_t *buf;		/* one page */
};

static void role_shared(struct vs_thread *th)
{
	unsigned int id = w_slot * cfg.threads + th->t;
	uint64_t gi, i, n;
	unsigned int r;

	while (!stopping()) {
		r = vs_below(&th->rng, 100);
		if (r < 35) {
			gi = owned_page(&th->rng, id);
			if (gi < total)
				write_shared(gi_addr(gi), gi);
		} else if (r < 38) {
			/* a sequential run: swap-in readahead territory */
			gi = vs_below(&th->rng, total);
			n = 8 + vs_below(&th->rng, 57);
			for (i = 0; i < n && gi + i < total && !stopping(); i++)
				verify_shared(gi_addr(gi + i), gi + i, th->buf, "sequential");
		} else {
			gi = vs_below(&th->rng, total);
			verify_shared(gi_addr(gi), gi, th->buf, "random");
		}
	}
}

/* -- role 1: private mapping, fork storms, short-lived objects -- */

struct vs_priv {
	char *pm;		/* MAP_PRIVATE of object po */
	unsigned int po;
	uint32_t *pgen;		/* per page: 0 = follows the object, else our gen */
	uint32_t count;		/* last private generation used */
	unsigned int tag;
};

/* Check private page @p: our own copy, or the object's page. -1 if corrupt. */
static int verify_priv(struct vs_priv *pv, uint32_t p, uint64_t *buf, const char *kind)
{
	long w;

	if (!pv->pgen[p])
		return verify_shared(pv->pm + p * VS_PG, pv->po * objpages + p, buf, kind) < 0 ?
		       -1 : 0;
	memcpy(buf, pv->pm + p * VS_PG, VS_PG);
	w = vs_check(buf, pv->tag, p, pv->pgen[p]);
	if (w >= 0) {
		note_corrupt(kind, buf, pv->tag, p, pv->pgen[p], w);
		return -1;
	}
	ctr_add(C_priv_verified, 1);
	return 0;
}

static void priv_write(struct vs_priv *pv, uint32_t p)
{
	pv->pgen[p] = ++pv->count;
	vs_fill(pv->pm + p * VS_PG, pv->tag, p, pv->count);
	ctr_add(C_priv_writes, 1);
}

/* A fork child: verify inherited copies, write its own, read shared pages. */
static int __attribute__((noreturn)) fork_child(struct vs_priv *pv, uint64_t rng, uint64_t *buf)
{
	unsigned int i, n = 20 + vs_below(&rng, 180), bad = 0;
	uint32_t p;
	uint64_t gi;

	/*
	 * Our private writes continue the parent's generation count, so one
	 * leaking into the parent's copy would fail the parent's next check.
	 */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (i = 0; i < n; i++) {
		switch (vs_below(&rng, 3)) {
		case 0:
			p = vs_below(&rng, objpages);
			bad += verify_priv(pv, p, buf, "fork child, private") < 0;
			break;
		case 1:
			p = vs_below(&rng, objpages);
			priv_write(pv, p);
			bad += verify_priv(pv, p, buf, "fork child, own write") < 0;
			break;
		default:
			gi = vs_below(&rng, total);
			bad += verify_shared(gi_addr(gi), gi, buf, "fork child, shared") < 0;
		}
	}
	_exit(bad ? 3 : 0);
}

/* Wait for @pid; a death other than exit 0 or the SIGKILL we sent is bad. */
static void reap_child(pid_t pid, bool killed, const char *what)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			syserr("waitpid");
			return;
		}
	if (WIFEXITED(st) && !WEXITSTATUS(st))
		return;
	if (killed && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
		return;
	ctr_add(C_child_bad, 1);
	if (WIFSIGNALED(st))
		event("%s child %d died of signal %d", what, pid, WTERMSIG(st));
	else
		event("%s child %d exited %d", what, pid, WEXITSTATUS(st));
}

static void fork_storm(struct vs_thread *th, struct vs_priv *pv)
{
	unsigned int i, n = 1 + vs_below(&th->rng, 4), victim = n;
	pid_t pids[4];
	uint32_t p;

	for (i = 0; i < n; i++) {
		uint64_t crng = vs_rand(&th->rng);

		pids[i] = fork();
		if (pids[i] < 0) {
			syserr("fork");
			n = i;
			break;
		}
		if (!pids[i])
			fork_child(pv, crng, th->buf);
		ctr_add(C_forks, 1);
	}
	if (n && !vs_below(&th->rng, 3)) {
		victim = vs_below(&th->rng, n);
		vs_sleep_ms(vs_below(&th->rng, 30));
		kill(pids[victim], SIGKILL);
		ctr_add(C_child_kills, 1);
	}
	for (i = 0; i < n; i++)
		reap_child(pids[i], i == victim, "fork");
	/* the children's private writes must not show here */
	for (i = 0; i < 16; i++) {
		p = vs_below(&th->rng, objpages);
		if (pv->pgen[p])
			verify_priv(pv, p, th->buf, "private after fork");
	}
}

/* A child of an object its parent closed and unmapped: verify, rewrite, verify. */
static int __attribute__((noreturn)) churn_child(char *m, unsigned int n, uint64_t *buf)
{
	unsigned int tag = TAG_CHURN(w_slot), p, bad = 0, gen;
	long w;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (gen = 1; gen <= 3; gen++) {
		for (p = 0; p < n; p++) {
			memcpy(buf, m + p * VS_PG, VS_PG);
			w = vs_check(buf, tag, p, gen);
			if (w >= 0) {
				note_corrupt("closed object, child", buf, tag, p, gen, w);
				bad++;
			} else {
				ctr_add(C_verified, 1);
			}
		}
		for (p = 0; p < n; p++)
			vs_fill(m + p * VS_PG, tag, p, gen + 1);
	}
	_exit(bad ? 3 : 0);
}

static void obj_churn(struct vs_thread *th)
{
	unsigned int n = 16 + vs_below(&th->rng, 113), p;
	bool close_first = vs_below(&th->rng, 2), killed = false;
	char *m;
	pid_t pid;
	int fd;

	fd = open(VMPAGER_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		syserr("open " VMPAGER_DEVICE);
		return;
	}
	m = mmap(NULL, n * VS_PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		syserr("mmap churn object");
		close(fd);
		return;
	}
	for (p = 0; p < n; p++)
		vs_fill(m + p * VS_PG, TAG_CHURN(w_slot), p, 1);
	if (close_first)
		close(fd);	/* only the mapping holds the object now */
	pid = fork();
	if (pid < 0) {
		syserr("fork");
	} else if (!pid) {
		churn_child(m, n, th->buf);
	}
	/* the child's mapping is the object's last reference from here on */
	if (!close_first)
		close(fd);
	munmap(m, n * VS_PG);
	ctr_add(C_obj_churn, 1);
	if (pid < 0)
		return;
	if (!vs_below(&th->rng, 4)) {
		vs_sleep_ms(vs_below(&th->rng, 20));
		kill(pid, SIGKILL);
		ctr_add(C_child_kills, 1);
		killed = true;
	}
	reap_child(pid, killed, "churn");
}

static void role_private(struct vs_thread *th)
{
	struct vs_priv pv = { .po = w_slot % cfg.nobj, .tag = TAG_PRIV(w_slot) };
	uint32_t p, a, len;
	unsigned int r;

	pv.pgen = calloc(objpages, sizeof(*pv.pgen));
	pv.pm = mmap(NULL, objpages * VS_PG, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		     fds[pv.po], 0);
	if (!pv.pgen || pv.pm == MAP_FAILED) {
		syserr("private mapping");
		return;
	}
	while (!stopping()) {
		r = vs_below(&th->rng, 100);
		if (r < 30) {
			priv_write(&pv, vs_below(&th->rng, objpages));
		} else if (r < 85) {
			verify_priv(&pv, vs_below(&th->rng, objpages), th->buf, "private");
		} else if (r < 89) {
			a = vs_below(&th->rng, objpages);
			len = 1 + vs_below(&th->rng, objpages - a);
			if (madvise(pv.pm + a * VS_PG, len * VS_PG, MADV_DONTNEED))
				syserr("madvise(private, DONTNEED)");
			memset(pv.pgen + a, 0, len * sizeof(*pv.pgen));
			ctr_add(C_madvises, 1);
			for (p = a; p < a + len && p < a + 8; p++)
				verify_priv(&pv, p, th->buf, "private after DONTNEED");
		} else if (r < 96) {
			fork_storm(th, &pv);
		} else {
			obj_churn(th);
		}
	}
	munmap(pv.pm, objpages * VS_PG);
	free(pv.pgen);
}

/* -- role 2: windows: mmap, mremap, mprotect, munmap, madvise, mlock -- */

/* Verify (or, if we own them, write) window pages [from, to) mapping object @o page @a.. */
static void window_pass(struct vs_thread *th, char *w, unsigned int o, uint64_t a,
			uint64_t from, uint64_t to, bool may_write)
{
	unsigned int id = w_slot * cfg.threads + th->t;
	uint64_t i, gi;

	for (i = from; i < to && !stopping(); i++) {
		gi = o * objpages + a + i;
		if (may_write && gi % nowners() == id && vs_below(&th->rng, 2))
			write_shared(w + i * VS_PG, gi);
		else
			verify_shared(w + i * VS_PG, gi, th->buf, "window");
	}
}

static void window_round(struct vs_thread *th)
{
	unsigned int o = vs_below(&th->rng, cfg.nobj);
	uint64_t len = 1 + vs_below(&th->rng, objpages < 64 ? objpages : 64);
	uint64_t a = vs_below(&th->rng, objpages - len + 1), half, mid;
	size_t bytes = len * VS_PG;
	char *w, *dst, *w2;

	w = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fds[o], a * VS_PG);
	if (w == MAP_FAILED) {
		syserr("mmap window");
		return;
	}
	ctr_add(C_mmaps, 1);
	window_pass(th, w, o, a, 0, len, true);

	/* move it somewhere else */
	dst = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED) {
		syserr("mmap placeholder");
		munmap(w, bytes);
		return;
	}
	w2 = mremap(w, bytes, bytes, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (w2 == MAP_FAILED) {
		syserr("mremap move");
		munmap(w, bytes);
		munmap(dst, bytes);
		return;
	}
	w = w2;
	ctr_add(C_mremaps, 1);
	window_pass(th, w, o, a, 0, len, true);

	/* read-only for a while, then writable again */
	if (mprotect(w, bytes, PROT_READ))
		syserr("mprotect(PROT_READ)");
	window_pass(th, w, o, a, 0, len, false);
	if (mprotect(w, bytes, PROT_READ | PROT_WRITE))
		syserr("mprotect(RW)");
	ctr_add(C_mprotects, 2);

	if (madvise(w, bytes, MADV_DONTNEED))
		syserr("madvise(window, DONTNEED)");
	ctr_add(C_madvises, 1);
	window_pass(th, w, o, a, 0, len, true);

	if (len <= 8 && !vs_below(&th->rng, 4)) {
		if (mlock(w, bytes)) {
			syserr("mlock");
		} else {
			window_pass(th, w, o, a, 0, len, true);
			if (munlock(w, bytes))
				syserr("munlock");
			ctr_add(C_mlocks, 1);
		}
	}

	if (len >= 3) {
		/* punch out the middle page, then shrink the head */
		mid = len / 2;
		if (munmap(w + mid * VS_PG, VS_PG))
			syserr("munmap middle");
		ctr_add(C_munmaps, 1);
		window_pass(th, w, o, a, 0, mid, true);
		window_pass(th, w + (mid + 1) * VS_PG, o, a + mid + 1, 0, len - mid - 1, true);
		half = (mid + 1) / 2;
		if (mremap(w, mid * VS_PG, half * VS_PG, 0) == MAP_FAILED)
			syserr("mremap shrink");
		ctr_add(C_mremaps, 1);
		window_pass(th, w, o, a, 0, half, true);
		if (munmap(w, half * VS_PG) || munmap(w + (mid + 1) * VS_PG,
						      (len - mid - 1) * VS_PG))
			syserr("munmap window");
	} else if (munmap(w, bytes)) {
		syserr("munmap window");
	}
	ctr_add(C_munmaps, 1);
}

static void role_vma(struct vs_thread *th)
{
	static const int advice[] = { MADV_DONTNEED, MADV_COLD, MADV_PAGEOUT };
	unsigned int o, adv;
	uint64_t a, len;

	while (!stopping()) {
		if (vs_below(&th->rng, 4)) {
			window_round(th);
			continue;
		}
		/* drop, cool or page out a range of the main mapping others use */
		o = vs_below(&th->rng, cfg.nobj);
		a = vs_below(&th->rng, objpages);
		len = 1 + vs_below(&th->rng, objpages - a < 256 ? objpages - a : 256);
		adv = vs_below(&th->rng, 3);
		if (madvise(smap[o] + a * VS_PG, len * VS_PG, advice[adv]) &&
		    !(errno == EINVAL && advice[adv] != MADV_DONTNEED))
			syserr("madvise(main mapping)");
		ctr_add(C_madvises, 1);
	}
}

static void *thread_main(void *arg)
{
	struct vs_thread *th = arg;

	switch (th->t) {
	case 1:
		role_private(th);
		break;
	case 2:
		role_vma(th);
		break;
	default:
		role_shared(th);
	}
	return NULL;
}

/* A worker dying of SIGBUS/SIGSEGV says where before it goes. */
static void worker_fatal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	event("worker slot %u pid %d: signal %d code %d at %p", w_slot, getpid(), sig,
	      si->si_code, si->si_addr);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void __attribute__((noreturn)) worker_main(unsigned int slot, unsigned int inc)
{
	struct vs_thread th[VS_MAX_THREADS];
	struct sigaction sa;
	unsigned int o, t;

	w_slot = slot;
	w_inc = inc;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != super_pid)
		_exit(1);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = worker_fatal;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	for (o = 0; o < cfg.nobj; o++) {
		smap[o] = mmap(NULL, objpages * VS_PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			       fds[o], 0);
		if (smap[o] == MAP_FAILED) {
			syserr("mmap shared object");
			_exit(2);
		}
	}
	for (t = 0; t < cfg.threads; t++) {
		th[t].t = t;
		th[t].rng = cfg.seed ^ vs_mix64(((uint64_t)slot << 40) |
						((uint64_t)inc << 16) | t);
		th[t].buf = aligned_alloc(VS_PG, VS_PG);
		if (!th[t].buf)
			_exit(2);
	}
	for (t = 1; t < cfg.threads; t++)
		if (pthread_create(&th[t].tid, NULL, thread_main, &th[t])) {
			event("pthread_create failed");
			ctr_add(C_syserr, 1);
			_exit(2);
		}
	thread_main(&th[0]);
	for (t = 1; t < cfg.threads; t++)
		pthread_join(th[t].tid, NULL);
	_exit(0);
}

/* ---- the supervisor ---- */

static pid_t srv_pid;			/* the io_uring swap server, if any */
static pid_t wpid[VS_MAX_PROCS];
static unsigned int winc[VS_MAX_PROCS];
static bool wkilled[VS_MAX_PROCS];
static uint32_t events_printed;
static int failures;

static void spawn(unsigned int slot)
{
	pid_t pid = fork();

	if (pid < 0) {
		syserr("fork worker");
		return;
	}
	if (!pid)
		worker_main(slot, winc[slot]);
	wpid[slot] = pid;
	wkilled[slot] = false;
	winc[slot]++;
}

static void print_events(void)
{
	uint32_t n = __atomic_load_n(&sh->nevents, __ATOMIC_ACQUIRE);

	for (; events_printed < n && events_printed < VS_MAX_EVENTS; events_printed++) {
		struct vs_event *e = &sh->ev[events_printed];

		if (!__atomic_load_n(&e->pid, __ATOMIC_ACQUIRE))
			break;	/* still being written */
		printf("# event (pid %d): %s\n", e->pid, e->what);
	}
	if (n > VS_MAX_EVENTS && events_printed == VS_MAX_EVENTS) {
		printf("# ... %u more events not recorded\n", n - VS_MAX_EVENTS);
		events_printed++;
	}
	fflush(stdout);
}

/* Handle a dead worker: expected (we killed it) or not; start it again. */
static void worker_died(unsigned int slot, int st, bool respawn)
{
	if (wkilled[slot] && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
		/* ours */
	} else if (WIFEXITED(st) && !WEXITSTATUS(st) && stopping()) {
		/* a clean stop */
	} else {
		ctr_add(C_bad_deaths, 1);
		if (WIFSIGNALED(st))
			event("worker slot %u pid %d died of signal %d", slot, wpid[slot],
			      WTERMSIG(st));
		else
			event("worker slot %u pid %d exited %d", slot, wpid[slot],
			      WEXITSTATUS(st));
	}
	wpid[slot] = 0;
	if (respawn) {
		spawn(slot);
		ctr_add(C_respawns, 1);
	}
}

static void reap_workers(bool respawn)
{
	unsigned int s;
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == srv_pid) {
			ctr_add(C_bad_deaths, 1);
			event("the swap server (pid %d) died: status %#x", pid, st);
			srv_pid = 0;
		}
		for (s = 0; s < cfg.procs; s++)
			if (wpid[s] == pid)
				worker_died(s, st, respawn);
	}
}

static void knob_policy(uint64_t *rng)
{
	static const char *const names[] = { "fifo", "clock", "lru", "lru2", "arc", "lirs",
					     "sieve", "s3fifo" };
	const char *n = names[vs_below(rng, 6)];
	int r = vs_knob("policy", n);

	ctr_add(C_policy, 1);
	if (r) {
		ctr_add(C_knob_err, 1);
		event("policy %s refused: %s", n, strerror(-r));
	} else if (cfg.verbose) {
		printf("# policy %s\n", n);
	}
}

static void knob_watermarks(uint64_t *rng)
{
	unsigned int high = 2 + vs_below(rng, cfg.pool / 2 - 1);
	unsigned int low = 1 + vs_below(rng, high - 1);
	unsigned int min = vs_below(rng, low);
	char s[64];
	int r;

	/* mostly moderate settings; sometimes the extremes */
	if (vs_below(rng, 4)) {
		high = 16 + vs_below(rng, cfg.pool / 8);
		low = high / 2 + 1;
		min = low / 2;
	}
	snprintf(s, sizeof(s), "%u %u %u\n", min, low, high);
	r = vs_knob("watermarks", s);
	ctr_add(C_wmarks, 1);
	if (r) {
		ctr_add(C_knob_err, 1);
		event("watermarks %u %u %u refused: %s", min, low, high, strerror(-r));
	}
}

static void knob_readahead(uint64_t *rng)
{
	unsigned int ra = vs_below(rng, 17);
	char s[16];
	int r;

	snprintf(s, sizeof(s), "%u\n", ra);
	r = vs_knob("readahead", s);
	ctr_add(C_readahead, 1);
	if (r) {
		ctr_add(C_knob_err, 1);
		event("readahead %u refused: %s", ra, strerror(-r));
	}
	/* and the window's mode: adaptive or fixed */
	r = vs_knob("ra_adaptive", vs_below(rng, 2) ? "1\n" : "0\n");
	if (r) {
		ctr_add(C_knob_err, 1);
		event("ra_adaptive refused: %s", strerror(-r));
	}
}

/* Where references come from: harvesting on or off, its batch and flush. */
static void knob_ref_source(uint64_t *rng)
{
	static const char *const names[] = { "faults", "soft-unmap", "accessed", "both" };
	const char *n = names[vs_below(rng, 4)];
	char s[16];
	int r;

	/* a module without harvesting has no ref_source: nothing to change */
	if (access(VS_DFS "/ref_source", F_OK))
		return;
	r = vs_knob("ref_source", n);
	ctr_add(C_refsrc, 1);
	if (r) {
		ctr_add(C_knob_err, 1);
		event("ref_source %s refused: %s", n, strerror(-r));
	}
	snprintf(s, sizeof(s), "%u\n", vs_below(rng, 4) ? 32U : (unsigned int)vs_below(rng, 1025));
	r = vs_knob("harvest_batch", s);
	if (r) {
		ctr_add(C_knob_err, 1);
		event("harvest_batch %s refused: %s", s, strerror(-r));
	}
	r = vs_knob("harvest_flush", vs_below(rng, 4) ? "1\n" : "0\n");
	if (r) {
		ctr_add(C_knob_err, 1);
		event("harvest_flush refused: %s", strerror(-r));
	}
}

static void try_rmmod(uint64_t *rng)
{
	int r = vs_unload(vs_below(rng, 2) ? O_NONBLOCK : 0);

	ctr_add(C_rmmod, 1);
	if (r != -EAGAIN && r != -EBUSY) {
		ctr_add(C_rmmod_bad, 1);
		event("delete_module while busy returned %s", r ? strerror(-r) : "success");
	}
}

static void check_info(void)
{
	struct vmpager_global_info gi;

	ctr_add(C_info, 1);
	if (vs_global(fds[0], &gi)) {
		syserr("GLOBAL_INFO");
		return;
	}
	if (gi.free_pages + gi.resident_pages + gi.orphaned_pages != gi.pool_pages) {
		ctr_add(C_info_bad, 1);
		event("accounting: free %llu + resident %llu + orphaned %llu != pool %llu",
		      (unsigned long long)gi.free_pages, (unsigned long long)gi.resident_pages,
		      (unsigned long long)gi.orphaned_pages, (unsigned long long)gi.pool_pages);
	}
}

static void progress(double t0)
{
	struct vmpager_global_info gi;

	if (vs_global(fds[0], &gi))
		return;
	printf("# %4.0fs verified %llu writes %llu corrupt %llu kills %llu forks %llu | "
	       "faults %llu swap_ins %llu swap_outs %llu free %llu\n", vs_now() - t0,
	       (unsigned long long)ctr(C_verified), (unsigned long long)ctr(C_writes),
	       (unsigned long long)ctr(C_corrupt), (unsigned long long)ctr(C_kills),
	       (unsigned long long)ctr(C_forks),
	       (unsigned long long)gi.stats[VMPAGER_STAT_faults],
	       (unsigned long long)gi.stats[VMPAGER_STAT_swap_ins],
	       (unsigned long long)gi.stats[VMPAGER_STAT_swap_outs],
	       (unsigned long long)gi.free_pages);
	fflush(stdout);
}

static unsigned int test_no;

/*
 * One KTAP result: @name is stable (stress.NAME); the figures of the run go
 * in a diagnostic line before it ("# NAME: ..."), never in the name.
 */
static void __attribute__((format(printf, 3, 4)))
result(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("# %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n%s %u stress.%s%s\n", ok == 0 ? "not ok" : "ok", ++test_no,
	       name, ok < 0 ? " # SKIP" : "");
	if (!ok)
		failures++;
	fflush(stdout);
}

#define NTESTS 11

/* Stop the workers: flag, then wait up to @secs, then SIGKILL (a hang). */
static void stop_workers(unsigned int secs)
{
	double end = vs_now() + secs;
	unsigned int s, left;

	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	for (;;) {
		reap_workers(false);
		for (left = 0, s = 0; s < cfg.procs; s++)
			left += wpid[s] != 0;
		if (!left)
			return;
		if (vs_now() > end)
			break;
		vs_sleep_ms(20);
	}
	for (s = 0; s < cfg.procs; s++)
		if (wpid[s]) {
			event("worker slot %u pid %d did not stop within %u s: killed", s,
			      wpid[s], secs);
			ctr_add(C_bad_deaths, 1);
			kill(wpid[s], SIGKILL);
			waitpid(wpid[s], NULL, 0);
			wpid[s] = 0;
		}
}

/* Final pass: repair pages left half-written by killed owners, check all. */
static uint64_t final_verify(void)
{
	uint64_t gi, bad = 0, *buf = aligned_alloc(VS_PG, VS_PG);
	unsigned int o;
	long w;

	for (o = 0; o < cfg.nobj; o++) {
		smap[o] = mmap(NULL, objpages * VS_PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			       fds[o], 0);
		if (smap[o] == MAP_FAILED || !buf) {
			syserr("mmap for the final pass");
			return total;
		}
	}
	for (gi = 0; gi < total; gi++) {
		if (sh->seq[gi] & 1)
			write_shared(gi_addr(gi), gi);
		memcpy(buf, gi_addr(gi), VS_PG);
		w = vs_check(buf, gi_tag(gi), gi_page(gi), sh->seq[gi] >> 1);
		if (w >= 0) {
			note_corrupt("final pass", buf, gi_tag(gi), gi_page(gi),
				     sh->seq[gi] >> 1, w);
			bad++;
		} else {
			ctr_add(C_final_verified, 1);
		}
	}
	for (o = 0; o < cfg.nobj; o++)
		munmap(smap[o], objpages * VS_PG);
	free(buf);
	return bad;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: vmpstress [options]\n"
"  -t, --secs N       run time in seconds (default 60)\n"
"  -s, --seed N       seed of every random choice (default: from the clock; printed)\n"
"  -p, --procs N      worker processes (default 3, max %d)\n"
"  -T, --threads N    threads per worker (default 3: shared, private+fork, windows; max %d)\n"
"  -P, --pool N       pool_pages to load the module with (default 2048)\n"
"  -r, --ratio R      shared objects together = R x the pool (default 4)\n"
"  -o, --objects N    shared objects (default 8, max %d)\n"
"  -b, --backend B    swap backend: kernel (swapfile=, default), uring (no swapfile;\n"
"                     vmpager-swapd = vmpagerd --swap-server on 2 files), daemon\n"
"                     (skipped: vmpagerd serves libvmpager regions, not objects)\n"
"      --policy NAME  policy at load (default: the module's)\n"
"      --no-kill      do not SIGKILL workers\n"
"      --no-rmmod     do not try to unload the busy module\n"
"      --no-knobs     do not change policy, watermarks, readahead\n"
"      --no-load      use the loaded module as it is (no load, no unload)\n"
"  -v, --verbose      more progress lines\n"
"Env: VMP_KO (module, default " VS_KO_DEFAULT "), VMP_DIRECT_DIR (swap file dir,\n"
"default /tmp), VMP_SWAPD (server binary, default ./vmpager-swapd).\n",
		VS_MAX_PROCS, VS_MAX_THREADS, VS_MAX_OBJ);
}

static int parse_uint(const char *s, unsigned int lo, unsigned int hi, unsigned int *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 0);
	if (errno || *end || end == s || x < lo || x > hi)
		return -1;
	*v = x;
	return 0;
}

enum { OPT_POLICY = 256, OPT_NOKILL, OPT_NORMMOD, OPT_NOKNOBS, OPT_NOLOAD };

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "secs", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "procs", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 'T' },
		{ "pool", required_argument, NULL, 'P' },
		{ "ratio", required_argument, NULL, 'r' },
		{ "objects", required_argument, NULL, 'o' },
		{ "backend", required_argument, NULL, 'b' },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "no-kill", no_argument, NULL, OPT_NOKILL },
		{ "no-rmmod", no_argument, NULL, OPT_NORMMOD },
		{ "no-knobs", no_argument, NULL, OPT_NOKNOBS },
		{ "no-load", no_argument, NULL, OPT_NOLOAD },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool seeded = false;
	char *end;
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "t:s:p:T:P:r:o:b:vh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			bad |= parse_uint(optarg, 1, 86400 * 7, &cfg.secs);
			break;
		case 's':
			errno = 0;
			cfg.seed = strtoull(optarg, &end, 0);
			bad |= errno || *end || end == optarg ? -1 : 0;
			seeded = true;
			break;
		case 'p':
			bad |= parse_uint(optarg, 1, VS_MAX_PROCS, &cfg.procs);
			break;
		case 'T':
			bad |= parse_uint(optarg, 1, VS_MAX_THREADS, &cfg.threads);
			break;
		case 'P':
			bad |= parse_uint(optarg, 64, 1U << 24, &cfg.pool);
			break;
		case 'r':
			cfg.ratio = strtod(optarg, &end);
			bad |= *end || end == optarg || cfg.ratio <= 0 || cfg.ratio > 64 ? -1 : 0;
			break;
		case 'o':
			bad |= parse_uint(optarg, 1, VS_MAX_OBJ, &cfg.nobj);
			break;
		case 'b':
			cfg.backend = optarg;
			break;
		case OPT_POLICY:
			cfg.policy = optarg;
			break;
		case OPT_NOKILL:
			cfg.kill = false;
			break;
		case OPT_NORMMOD:
			cfg.rmmod = false;
			break;
		case OPT_NOKNOBS:
			cfg.knobs = false;
			break;
		case OPT_NOLOAD:
			cfg.load = false;
			break;
		case 'v':
			cfg.verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
		if (bad) {
			fprintf(stderr, "vmpstress: bad value for option -%c: %s\n",
				c < 256 ? c : '-', optarg);
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vmpstress: unexpected argument %s\n", argv[optind]);
		usage(stderr);
		exit(2);
	}
	if (!seeded)
		cfg.seed = vs_mix64((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
	return 0;
}

/* ---- the io_uring backend: vmpager-swapd (vmpagerd --swap-server) ---- */

static char srv_files[2][256];

static const char *swapd_binary(void)
{
	static const char *const cand[] = { "./vmpager-swapd", "/tests/vmpager-swapd" };
	const char *e = getenv("VMP_SWAPD");
	unsigned int i;

	if (e && *e)
		return access(e, X_OK) ? NULL : e;
	for (i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
		if (!access(cand[i], X_OK))
			return cand[i];
	return NULL;
}

static int server_online(void)
{
	char buf[4096];

	return vs_read_small(VS_DFS "/swap", buf, sizeof(buf)) > 0 &&
	       strstr(buf, "server online\n") != NULL;
}

/* Start the server on two files of @slots pages each; 0 once it is online. */
static int server_start(const char *bin, uint64_t slots)
{
	char s[32];
	unsigned int i;

	snprintf(srv_files[0], sizeof(srv_files[0]), "%s/vmpstress-srv-a.swap", vs_swapdir());
	snprintf(srv_files[1], sizeof(srv_files[1]), "%s/vmpstress-srv-b.swap", vs_swapdir());
	unlink(srv_files[0]);
	unlink(srv_files[1]);
	snprintf(s, sizeof(s), "%llu", (unsigned long long)slots);
	srv_pid = fork();
	if (srv_pid < 0)
		return -errno;
	if (!srv_pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl(bin, bin, "-q", "-t", "5000", "-s", s, srv_files[0], srv_files[1],
		      (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200; i++) {
		if (server_online())
			return 0;
		vs_sleep_ms(50);
	}
	kill(srv_pid, SIGKILL);
	waitpid(srv_pid, NULL, 0);
	srv_pid = 0;
	return -ETIMEDOUT;
}

/* SIGTERM: the server detaches and exits 0. Returns its wait status. */
static int server_stop(void)
{
	int st = -1;

	if (srv_pid <= 0)
		return -1;
	kill(srv_pid, SIGTERM);
	waitpid(srv_pid, &st, 0);
	srv_pid = 0;
	unlink(srv_files[0]);
	unlink(srv_files[1]);
	return st;
}

/* GLOBAL_INFO through a temporary fd (one more object while it runs). */
static int vs_global_probe(struct vmpager_global_info *gi)
{
	int fd = open(VMPAGER_DEVICE, O_RDWR), r;

	if (fd < 0)
		return -errno;
	r = vs_global(fd, gi);
	close(fd);
	return r;
}

static long stat_by_name(const struct vmpager_global_info *gi, const char *name)
{
	unsigned int i;

	for (i = 0; i < VMPAGER_NR_STATS && i < gi->nr_stats; i++)
		if (vmp_stat_names[i] && !strcmp(vmp_stat_names[i], name))
			return (long)gi->stats[i];
	return -1;
}

int main(int argc, char **argv)
{
	char params[512], swapfile[256], filepath[256];
	int filefd = -1;
	struct vmpager_global_info g0, g1;
	uint64_t rng, bad_final;
	double t0, tprog, end;
	unsigned int o, s, i;
	size_t shbytes;
	long long used;
	int r, fd, sst = 0;

	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	if (!strcmp(cfg.backend, "daemon")) {
		/*
		 * vmpagerd pages libvmpager regions (a memfd + userfaultfd per
		 * client), not /dev/vmpager objects: no fd to fork, mremap or
		 * reopen the way the workers do. Its own suite covers it.
		 */
		printf("1..0 # SKIP backend daemon: vmpagerd serves libvmpager regions, not "
		       "/dev/vmpager objects; vmpdstress (selftests/vmpagerd) stresses it\n");
		return 4;
	}
	if (strcmp(cfg.backend, "kernel") && strcmp(cfg.backend, "uring")) {
		fprintf(stderr, "vmpstress: unknown backend %s (kernel, uring, daemon)\n",
			cfg.backend);
		return 2;
	}
	if (!strcmp(cfg.backend, "uring") && !swapd_binary()) {
		printf("1..0 # SKIP backend uring: vmpager-swapd not found (set VMP_SWAPD, or "
		       "build userspace/swapserver)\n");
		return 4;
	}
	if (!strcmp(cfg.backend, "uring") && !cfg.load) {
		fprintf(stderr, "vmpstress: --backend uring loads the module itself\n");
		return 2;
	}
	objpages = (uint64_t)(cfg.pool * cfg.ratio) / cfg.nobj;
	if (!objpages) {
		fprintf(stderr, "vmpstress: pool * ratio / objects is 0 pages\n");
		return 2;
	}
	total = objpages * cfg.nobj;
	printf("1..%d\n", NTESTS);
	printf("# vmpstress: seed %llu (--seed %llu repeats every random choice)\n",
	       (unsigned long long)cfg.seed, (unsigned long long)cfg.seed);
	printf("# backend %s, pool %u pages, %u shared objects x %llu pages = %llu pages "
	       "(%.1fx the pool), %u workers x %u threads, %u s%s%s%s\n", cfg.backend,
	       cfg.pool, cfg.nobj, (unsigned long long)objpages, (unsigned long long)total,
	       (double)total / cfg.pool, cfg.procs, cfg.threads, cfg.secs,
	       cfg.kill ? ", kill -9" : "", cfg.rmmod ? ", rmmod" : "",
	       cfg.knobs ? ", knobs" : "");
	rng = cfg.seed;
	super_pid = getpid();

	/* 1: load */
	snprintf(swapfile, sizeof(swapfile), "%s/vmpstress-%d.swap", vs_swapdir(), getpid());
	if (cfg.load) {
		bool uring = !strcmp(cfg.backend, "uring");

		unlink(swapfile);
		if (uring)
			snprintf(params, sizeof(params), "pool_pages=%u max_obj_pages=%llu%s%s",
				 cfg.pool, (unsigned long long)(objpages > 256 ? objpages : 256),
				 cfg.policy ? " policy=" : "", cfg.policy ? cfg.policy : "");
		else
			snprintf(params, sizeof(params), "pool_pages=%u swapfile=%s swap_pages=%llu "
				 "max_obj_pages=%llu%s%s", cfg.pool, swapfile,
				 (unsigned long long)(total + cfg.pool + 256),
				 (unsigned long long)(objpages > 256 ? objpages : 256),
				 cfg.policy ? " policy=" : "", cfg.policy ? cfg.policy : "");
		r = vs_load(params);
		if (!r && uring) {
			r = server_start(swapd_binary(), total / 2 + cfg.pool + 256);
			if (r)
				vs_unload_wait(3000);
		}
		result(!r, "load", "%s%s", params, uring ? " + vmpager-swapd on 2 files" : "");
		if (r) {
			printf("# loading %s%s: %s\nBail out!\n", vs_ko(),
			       uring ? " or starting vmpager-swapd" : "", strerror(-r));
			return 1;
		}
	} else {
		result(vs_loaded(), "load", "module already loaded (--no-load)");
		if (!vs_loaded()) {
			printf("Bail out!\n");
			return 1;
		}
	}
	if (cfg.knobs && access(VS_DFS "/policy", W_OK)) {
		printf("# %s/policy not writable (debugfs not mounted?): no knob changes\n",
		       VS_DFS);
		cfg.knobs = false;
	}

	shbytes = sizeof(*sh) + total * sizeof(sh->seq[0]);
	sh = mmap(NULL, shbytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("vmpstress: shared state");
		return 1;
	}
	for (o = 0; o < cfg.nobj; o++) {
		fds[o] = open(VMPAGER_DEVICE, O_RDWR);
		if (fds[o] < 0) {
			printf("# open %s: %s\nBail out!\n", VMPAGER_DEVICE, strerror(errno));
			return 1;
		}
	}
	/* the last object maps a sparse file (zeros, as anonymous pages read) */
	snprintf(filepath, sizeof(filepath), "%s/vmpstress-%d.obj", vs_swapdir(), getpid());
	if (cfg.nobj >= 2) {
		struct vmpager_map_file mf = { .length = objpages * VS_PG };

		filefd = open(filepath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		mf.fd = filefd;
		if (filefd < 0 || ftruncate(filefd, (off_t)(objpages * VS_PG)) ||
		    ioctl(fds[cfg.nobj - 1], VMPAGER_IOC_MAP_FILE, &mf)) {
			printf("# file-backed object on %s: %s\nBail out!\n", filepath,
			       strerror(errno));
			return 1;
		}
	}
	if (vs_global(fds[0], &g0)) {
		printf("# GLOBAL_INFO: %s\nBail out!\n", strerror(errno));
		return 1;
	}

	/* the run */
	t0 = vs_now();
	tprog = t0;
	end = t0 + cfg.secs;
	for (s = 0; s < cfg.procs; s++)
		spawn(s);
	while (vs_now() < end) {
		vs_sleep_ms(20 + vs_below(&rng, 130));
		reap_workers(true);
		r = vs_below(&rng, 100);
		if (r < 20 && cfg.kill) {
			s = vs_below(&rng, cfg.procs);
			if (wpid[s] && !wkilled[s]) {
				wkilled[s] = true;
				kill(wpid[s], SIGKILL);
				ctr_add(C_kills, 1);
			}
		} else if (r < 35 && cfg.knobs) {
			knob_policy(&rng);
		} else if (r < 50 && cfg.knobs) {
			knob_watermarks(&rng);
		} else if (r < 60 && cfg.knobs) {
			knob_readahead(&rng);
			knob_ref_source(&rng);
		} else if (r < 75 && cfg.rmmod) {
			try_rmmod(&rng);
		} else {
			check_info();
		}
		print_events();
		if (vs_now() - tprog >= 10) {
			tprog = vs_now();
			progress(t0);
		}
	}
	stop_workers(60);
	progress(t0);
	print_events();

	/* 2..5: what happened during the run */
	result(ctr(C_corrupt) == 0 && ctr(C_verified) > 0,
	       "integrity", "%llu pages verified, %llu corruptions",
	       (unsigned long long)ctr(C_verified), (unsigned long long)ctr(C_corrupt));
	result(ctr(C_bad_deaths) == 0 && ctr(C_child_bad) == 0,
	       "deaths", "workers and children died only of our SIGKILL (%llu kills, "
	       "%llu child kills; %llu other worker deaths, %llu bad children)",
	       (unsigned long long)ctr(C_kills), (unsigned long long)ctr(C_child_kills),
	       (unsigned long long)ctr(C_bad_deaths), (unsigned long long)ctr(C_child_bad));
	result(ctr(C_syserr) == 0, "syscalls", "%llu unexpected failures",
	       (unsigned long long)ctr(C_syserr));
	if (cfg.rmmod)
		result(ctr(C_rmmod_bad) == 0 && ctr(C_rmmod) > 0,
		       "rmmod_refused_while_busy", "%llu attempts, %llu not refused",
		       (unsigned long long)ctr(C_rmmod), (unsigned long long)ctr(C_rmmod_bad));
	else
		result(-1, "rmmod_refused_while_busy", "--no-rmmod");
	if (cfg.knobs)
		result(ctr(C_knob_err) == 0, "knobs", "%llu policy, %llu watermark, %llu "
		       "readahead, %llu reference source changes, %llu refused",
		       (unsigned long long)ctr(C_policy), (unsigned long long)ctr(C_wmarks),
		       (unsigned long long)ctr(C_readahead), (unsigned long long)ctr(C_refsrc),
		       (unsigned long long)ctr(C_knob_err));
	else
		result(-1, "knobs", "--no-knobs or no debugfs");
	check_info();
	result(ctr(C_info_bad) == 0, "accounting", "free + resident + orphaned == pool in "
	       "%llu checks", (unsigned long long)ctr(C_info));

	/* 8: every page once more */
	bad_final = final_verify();
	print_events();
	result(!bad_final && ctr(C_final_verified) == total,
	       "final_pass", "%llu of %llu pages exact", (unsigned long long)ctr(C_final_verified),
	       (unsigned long long)total);

	/* 9: the run went through swap, without I/O errors or SIGBUS */
	r = vs_global(fds[0], &g1);
	result(!r && g1.stats[VMPAGER_STAT_swap_outs] > g0.stats[VMPAGER_STAT_swap_outs] &&
	       g1.stats[VMPAGER_STAT_swap_ins] > g0.stats[VMPAGER_STAT_swap_ins] &&
	       g1.stats[VMPAGER_STAT_read_errors] == g0.stats[VMPAGER_STAT_read_errors] &&
	       g1.stats[VMPAGER_STAT_write_errors] == g0.stats[VMPAGER_STAT_write_errors] &&
	       g1.stats[VMPAGER_STAT_oom_sigbus] == g0.stats[VMPAGER_STAT_oom_sigbus],
	       "swap_exercised", "swap_outs %llu, swap_ins %llu, read_errors %llu, "
	       "write_errors %llu, oom_sigbus %llu",
	       (unsigned long long)(g1.stats[VMPAGER_STAT_swap_outs] - g0.stats[VMPAGER_STAT_swap_outs]),
	       (unsigned long long)(g1.stats[VMPAGER_STAT_swap_ins] - g0.stats[VMPAGER_STAT_swap_ins]),
	       (unsigned long long)(g1.stats[VMPAGER_STAT_read_errors] - g0.stats[VMPAGER_STAT_read_errors]),
	       (unsigned long long)(g1.stats[VMPAGER_STAT_write_errors] - g0.stats[VMPAGER_STAT_write_errors]),
	       (unsigned long long)(g1.stats[VMPAGER_STAT_oom_sigbus] - g0.stats[VMPAGER_STAT_oom_sigbus]));
	printf("# module counters over the run:");
	for (i = 0; i < VMPAGER_NR_STATS && !r; i++)
		if (g1.stats[i] != g0.stats[i])
			printf(" %s=%llu", vmp_stat_names[i],
			       (unsigned long long)(g1.stats[i] - g0.stats[i]));
	printf("\n# stress counters:");
	for (i = 0; i < C_NR; i++)
		printf(" %s=%llu", ctr_names[i], (unsigned long long)ctr(i));
	printf("\n");

	for (o = 1; o < cfg.nobj; o++)
		close(fds[o]);
	/* the server (its fd is an object too) detaches and exits 0 */
	if (!strcmp(cfg.backend, "uring")) {
		struct vmpager_global_info gs;

		if (!vs_global_probe(&gs))
			printf("# swap server: srv_requests %ld, srv_failed %ld, srv_deaths %ld\n",
			       stat_by_name(&gs, "srv_requests"), stat_by_name(&gs, "srv_failed"),
			       stat_by_name(&gs, "srv_deaths"));
		sst = server_stop();
		if (!(WIFEXITED(sst) && !WEXITSTATUS(sst)))
			printf("# swap server exit status %#x\n", sst);
		sst = !(WIFEXITED(sst) && !WEXITSTATUS(sst)) || vs_global_probe(&gs) ||
		      stat_by_name(&gs, "srv_failed") > 0;
	}

	/* 10: everything closed: the pool is free, the swap empty, unload works */
	/* a dying child's last file reference may still be on its way out */
	for (i = 0; i < 200; i++) {
		r = vs_global(fds[0], &g1);
		if (r || (g1.nr_objects == 1 && g1.resident_pages == 0))
			break;
		vs_sleep_ms(10);
	}
	/* 11: the file-backed object is gone: its file holds every page */
	if (filefd >= 0) {
		uint64_t *buf = aligned_alloc(VS_PG, VS_PG), gi, fbad = 0, fok = 0;
		unsigned int fo = cfg.nobj - 1;

		for (gi = (uint64_t)fo * objpages; buf && gi < total; gi++) {
			long w = -2;

			if (pread(filefd, buf, VS_PG, (off_t)(gi_page(gi) * VS_PG)) == VS_PG)
				w = vs_check(buf, gi_tag(gi), gi_page(gi), sh->seq[gi] >> 1);
			if (w != -1) {
				if (fbad++ < 5)
					printf("# file page %llu: word %ld differs from generation %llu\n",
					       (unsigned long long)gi_page(gi), w,
					       (unsigned long long)(sh->seq[gi] >> 1));
			} else {
				fok++;
			}
		}
		result(buf && !fbad && fok == objpages, "file_object",
		       "%llu of %llu pages of the file-backed object exact in its file",
		       (unsigned long long)fok, (unsigned long long)objpages);
		free(buf);
		close(filefd);
		unlink(filepath);
	} else {
		result(-1, "file_object", "one object only");
	}
	close(fds[0]);
	fd = open(VMPAGER_DEVICE, O_RDWR);
	r = fd < 0 ? -errno : vs_global(fd, &g1);
	if (fd >= 0)
		close(fd);
	used = vs_dfs_value("swap", "used");
	if (cfg.load) {
		int u;

		u = vs_unload_wait(3000);

		result(!r && g1.nr_objects == 1 && g1.resident_pages == 0 &&
		       g1.orphaned_pages == 0 && g1.free_pages == g1.pool_pages && used <= 0 &&
		       !u && !sst, "teardown", "objects %llu (the probe), resident %llu, orphaned %llu, "
		       "free %llu of %llu, swap slots used %lld, unload %s%s",
		       (unsigned long long)g1.nr_objects, (unsigned long long)g1.resident_pages,
		       (unsigned long long)g1.orphaned_pages, (unsigned long long)g1.free_pages,
		       (unsigned long long)g1.pool_pages, used, u ? strerror(-u) : "ok",
		       sst ? ", swap server failed or exited badly" : "");
		unlink(swapfile);
	} else {
		result(!r && g1.orphaned_pages == 0 && g1.free_pages + g1.resident_pages ==
		       g1.pool_pages, "teardown", "--no-load: orphaned %llu",
		       (unsigned long long)g1.orphaned_pages);
	}
	printf("# vmpstress: %s; seed %llu\n", failures ? "FAILED" : "passed",
	       (unsigned long long)cfg.seed);
	return failures ? 1 : 0;
}
