// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark 7: daemon vs umap-like. The workload of LLNL Umap's own
 * evaluation, so that vmpagerd's figures can be set beside Umap's published
 * ones (Umap itself is neither run nor needed): a region of W pages paged
 * through M = W / RATIO pages of memory (RATIO 4 by default), in four
 * phases timed one by one:
 *
 *   write    every page written in order, every 8-byte word of it (the word
 *            w of page i holds TAG ^ (i << 9 | w));
 *   seq      every page read back in order, every word verified;
 *   uniform  W reads of independent uniform pages, every word verified;
 *   zipf     W reads of pages drawn from YCSB's Zipfian (theta 0.99, ranks
 *            scattered by a multiplicative permutation, as in "vmpbench
 *            overcommit"), every word verified.
 *
 * The sides, each in a fresh child process, with the same access sequences
 * (the same seed):
 *
 *   daemon   vmpagerd, frame budget + soft-eviction cache = POOL (bk_start());
 *   kernel   vmpager.ko with its in-kernel swap backend, pool_pages = POOL
 *            (as "module" in the daemon-vs-module figures);
 *   anon     private anonymous memory (MADV_NOHUGEPAGE), no memory limit:
 *            no paging at all, the upper bound.
 *
 * Each backend has a swap file of W + POOL pages on the scratch disk and its
 * default read-ahead. After its phases, SAMPLES random 4 KiB O_DIRECT preads
 * of written pages of that swap file (as "vmpbench swap" does) give the
 * device limit, odirect-pread-4k.
 *
 * Figures, for each phase P (pages/s, higher is better):
 *
 *   umap-P           daemon vs module
 *   umap-P-vs-anon   daemon and module (backend kernel) vs anon
 *
 * and for P = uniform, zipf (us, lower is better):
 *
 *   umap-P-majfault  cost per major fault, (T_backend - T_anon) / major
 *                    faults of the phase, vs the p50 of odirect-pread-4k:
 *                    1.0 means that a major fault costs one raw 4 KiB read.
 *
 * Beside the daemon, on its swap file, the floor of any userfaultfd pager
 * here (uffd_floor.c): the p50 latency of a fault whose handler does only
 * a UFFDIO_COPY (umap-uffd-roundtrip-thread, -process) or one raw read and
 * the copy (umap-uffd-pager-thread, -process), in a thread of the faulting
 * process (Umap's shape) or in another process (vmpagerd's), each vs
 * odirect-pread-4k; and umap-P-majfault-vs-floor, the daemon's cost per
 * major fault (a mean) vs the mean of uffd-pager-process: what the daemon
 * adds to that floor.
 *
 * The raw figures per side and phase go to umap.csv, the floors to
 * umap_floor.csv.
 *
 *   vmpbench umap [-b BACKENDS] [-p POOL] [-x RATIO] [-s SEED] [-S SAMPLES]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define TAG		0x756d617000000000ULL	/* "umap" */
#define WORDS		(PG / 8)
#define ZIPF_SEED	0x7a697066ULL		/* the zipf stream: seed ^ this */
#define PREAD_SEED	0x70726561ULL

enum phase { PH_WRITE, PH_SEQ, PH_UNIFORM, PH_ZIPF, PH_NR };
static const char *const ph_names[PH_NR] = { "write", "seq", "uniform", "zipf" };

struct uopts {
	size_t pool, ws, samples;	/* ws = ratio * pool: the region */
	unsigned long ratio;
	unsigned long threads;		/* -T: threads of the uniform and zipf phases */
	uint64_t seed;
	const char *disk;
	struct zipf zipf;
};

/* What a workload child reports through its pipe, per phase. */
struct uphase {
	uint64_t ns;
	uint64_t major, swapins, swapouts;	/* the backend's counters */
	long majflt;				/* ru_majflt */
	uint64_t bad;				/* words with wrong contents */
};

struct ures {
	int err;		/* 0, or the line of the failed step */
	int errnum;		/* errno there */
	struct uphase ph[PH_NR];
	uint64_t outs;		/* swap-outs over the whole run */
};

/* The userfaultfd floors measured beside the daemon (uffd_floor()). */
enum floor { FL_RT_THREAD, FL_RT_PROCESS, FL_PAGER_THREAD, FL_PAGER_PROCESS, FL_NR };
static const char *const fl_names[FL_NR] = {
	"roundtrip-thread", "roundtrip-process", "pager-thread", "pager-process",
};

struct side {
	bool probed;		/* selected and not skipped */
	bool ran;		/* the child completed: r holds figures */
	bool ok;		/* and the backend started and stopped cleanly */
	bool pread_ok;
	struct ures r;
	size_t npread;
	double pread_p50, pread_p99;
	bool floor_ok;			/* daemon side: uffd_floor() ran, all four */
	double floor_p50[FL_NR], floor_p99[FL_NR], floor_mean[FL_NR];
};

/* ---- the workload child ------------------------------------------------------------ */

static inline uint64_t word(size_t page, size_t w)
{
	return TAG ^ ((uint64_t)page << 9 | w);
}

static uint64_t verify_page(volatile uint64_t *p, size_t page)
{
	volatile uint64_t *q = p + page * WORDS;
	uint64_t bad = 0;
	size_t w;

	for (w = 0; w < WORDS; w++)
		bad += q[w] != word(page, w);
	return bad;
}

/* One thread's share of a uniform or zipf phase (-T). */
struct rthread {
	const struct uopts *o;
	volatile uint64_t *p;
	enum phase ph;
	unsigned long k;		/* 0 .. threads - 1 */
	uint64_t bad;
};

static void *read_share(void *arg)
{
	struct rthread *r = arg;
	const struct uopts *o = r->o;
	uint64_t rng = o->seed, mix = o->seed ^ 0x74687264ULL;	/* "thrd" */
	size_t i, n = o->ws / o->threads;

	/*
	 * Each thread's stream starts at an output of the generator, not at
	 * seed + k steps: splitmix64's state only advances by a constant, so
	 * nearby seeds would give the threads the same pages, shifted.
	 */
	for (i = 0; i <= r->k; i++)
		rng = rng_next(&mix);

	if (r->ph == PH_ZIPF)
		rng ^= ZIPF_SEED;
	for (i = 0; i < n; i++)
		r->bad += verify_page(r->p, r->ph == PH_ZIPF ? zipf_next(&o->zipf, &rng) :
					    rng_next(&rng) % o->ws);
	return NULL;
}

/* The uniform or zipf phase in o->threads threads; false if one failed to start. */
static bool run_threads(const struct uopts *o, volatile uint64_t *p, enum phase ph,
			uint64_t *bad)
{
	struct rthread r[16];
	pthread_t th[16];
	unsigned long k, started;

	for (started = 0; started < o->threads; started++) {
		r[started] = (struct rthread){ .o = o, .p = p, .ph = ph, .k = started };
		if (pthread_create(&th[started], NULL, read_share, &r[started]))
			break;
	}
	for (k = 0; k < started; k++) {
		pthread_join(th[k], NULL);
		*bad += r[k].bad;
	}
	return started == o->threads;
}

static void run_phase(const struct uopts *o, volatile uint64_t *p, enum phase ph,
		      struct uphase *u)
{
	uint64_t rng = o->seed, t0, bad = 0;
	size_t i, w;

	t0 = now_ns();
	if (o->threads > 1 && (ph == PH_UNIFORM || ph == PH_ZIPF)) {
		if (!run_threads(o, p, ph, &bad))
			bad++;		/* reported as wrong words: the row fails */
		u->ns = now_ns() - t0;
		u->bad = bad;
		return;
	}
	switch (ph) {
	case PH_WRITE:
		for (i = 0; i < o->ws; i++)
			for (w = 0; w < WORDS; w++)
				p[i * WORDS + w] = word(i, w);
		break;
	case PH_SEQ:
		for (i = 0; i < o->ws; i++)
			bad += verify_page(p, i);
		break;
	case PH_UNIFORM:
		for (i = 0; i < o->ws; i++)
			bad += verify_page(p, rng_next(&rng) % o->ws);
		break;
	default:
		rng ^= ZIPF_SEED;
		for (i = 0; i < o->ws; i++)
			bad += verify_page(p, zipf_next(&o->zipf, &rng));
		break;
	}
	u->ns = now_ns() - t0;
	u->bad = bad;
}

#define FAIL_IF(cond)							\
	do {								\
		if (cond) {						\
			res->errnum = errno;				\
			res->err = __LINE__;				\
			return;						\
		}							\
	} while (0)

static void workload(const struct uopts *o, enum backend b, bool anon, struct ures *res)
{
	const char *who = anon ? "anon" : backend_names[b];
	struct vmpager_global_info gs, g0, g1;
	struct rusage ru0, ru1;
	volatile uint64_t *p;
	struct region reg;
	int ph;

	memset(res, 0, sizeof(*res));
	memset(&gs, 0, sizeof(gs));
	if (anon) {
		p = mmap(NULL, o->ws * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		FAIL_IF(p == MAP_FAILED);
		madvise((void *)p, o->ws * PG, MADV_NOHUGEPAGE);
	} else {
		FAIL_IF(region_map(&reg, b, o->ws));
		p = (volatile uint64_t *)reg.addr;
		FAIL_IF(region_stats_settled(&reg, &gs));
	}
	g0 = g1 = gs;
	for (ph = 0; ph < PH_NR; ph++) {
		struct uphase *u = &res->ph[ph];

		if (anon)
			progress("anon: %s: %zu pages, no memory limit", ph_names[ph], o->ws);
		else
			progress("%s: %s: %zu pages through a %zu-page pool", who, ph_names[ph],
				 o->ws, o->pool);
		getrusage(RUSAGE_SELF, &ru0);
		run_phase(o, p, ph, u);
		getrusage(RUSAGE_SELF, &ru1);
		u->majflt = ru1.ru_majflt - ru0.ru_majflt;
		if (anon)
			continue;
		/* vmpagerd counts behind the faults: wait for its counters. */
		FAIL_IF(region_stats_settled(&reg, &g1));
		region_dump_stats(&reg, ph_names[ph]);
		u->major = DST(g0, g1, faults_major);
		u->swapins = DST(g0, g1, swap_ins);
		u->swapouts = DST(g0, g1, swap_outs);
		g0 = g1;
	}
	if (anon) {
		munmap((void *)p, o->ws * PG);
	} else {
		res->outs = DST(gs, g1, swap_outs);
		region_unmap(&reg);
	}
}

struct uchild {
	const struct uopts *o;
	enum backend b;
	bool anon;
};

static void child_workload(const void *arg, void *res)
{
	const struct uchild *c = arg;

	workload(c->o, c->b, c->anon, res);
}

/* Runs the workload in a child; false if it failed or died. */
static bool run_child(const struct uopts *o, enum backend b, bool anon, struct ures *res)
{
	const char *who = anon ? "anon" : backend_names[b];
	struct uchild c = { o, b, anon };

	if (!run_in_child(who, child_workload, &c, res, sizeof(*res)))
		return false;
	return check(!res->err, "%s workload failed at umap.c:%d (errno %s)", who, res->err,
		     strerror(res->errnum));
}

/* ---- the device limit ----------------------------------------------------------------- */

/*
 * Random 4 KiB O_DIRECT preads of the backend's swap file, at pages its
 * swap-outs wrote (both backends hand out slots next-fit from slot 0; the
 * module also zero-fills its file when it loads).
 */
static bool pread_device(const struct uopts *o, const char *path, struct side *s)
{
	uint64_t rng = o->seed ^ PREAD_SEED, wr = s->r.outs, t0, t1;
	double *lat;
	void *buf;
	ssize_t ret = 0;
	size_t i;
	int fd;

	if (wr > o->ws + o->pool)
		wr = o->ws + o->pool;
	if (!check(wr > 0, "nothing written to %s to read back", path))
		return false;
	lat = calloc(o->samples, sizeof(double));
	if (!lat || posix_memalign(&buf, PG, PG)) {
		free(lat);
		return check(false, "out of memory");
	}
	fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (!check(fd >= 0, "open %s O_DIRECT: %s", path, strerror(errno))) {
		free(buf);
		free(lat);
		return false;
	}
	for (i = 0; i < o->samples; i++) {
		off_t off = (off_t)((rng_next(&rng) % wr) * PG);

		t0 = now_ns();
		ret = pread(fd, buf, PG, off);
		t1 = now_ns();
		if (ret != (ssize_t)PG)
			break;
		lat[i] = (double)(t1 - t0) / 1000.0;
	}
	close(fd);
	free(buf);
	if (i < o->samples) {
		free(lat);
		return check(false, "O_DIRECT pread of %s: %s", path,
			     ret < 0 ? strerror(errno) : "short read");
	}
	qsort(lat, o->samples, sizeof(double), cmp_double);
	s->npread = o->samples;
	s->pread_p50 = quantile(lat, o->samples, 0.5);
	s->pread_p99 = quantile(lat, o->samples, 0.99);
	free(lat);
	return sane(s->pread_p50, "pread p50") && sane(s->pread_p99, "pread p99");
}

/*
 * Beside the daemon, on its swap file: the latency of a fault whose
 * userfaultfd handler does nothing but one UFFDIO_COPY (round trip), or a
 * raw read of a written page and the copy (pager), in a thread of the
 * faulting process and in another process (the daemon's shape).
 */
static bool floors(const struct uopts *o, const char *path, struct side *s)
{
	struct floor_opts f = { .path = path, .samples = o->samples };
	int i;

	f.pages = s->r.outs < o->ws + o->pool ? s->r.outs : o->ws + o->pool;
	for (i = 0; i < FL_NR; i++) {
		f.read = i >= FL_PAGER_THREAD;
		f.process = i == FL_RT_PROCESS || i == FL_PAGER_PROCESS;
		progress("daemon: userfaultfd floor: %zu faults, %s", o->samples, fl_names[i]);
		if (!uffd_floor(&f, &s->floor_p50[i], &s->floor_p99[i], &s->floor_mean[i]))
			return false;
	}
	return true;
}

static void run_backend(const struct uopts *o, enum backend b, struct side *s)
{
	struct bk k;

	if (bk_start(&k, b, o->pool, o->ws + o->pool, o->disk, ""))
		return;
	s->ran = run_child(o, b, false, &s->r);
	if (s->ran) {
		progress("%s: device limit: %zu random 4 KiB O_DIRECT preads of %s",
			 backend_names[b], o->samples, k.swap);
		s->pread_ok = pread_device(o, k.swap, s);
		if (b == BK_DAEMON && s->pread_ok)
			s->floor_ok = floors(o, k.swap, s);
	}
	s->ok = !bk_stop(&k);
}

/* ---- the figures ------------------------------------------------------------------------ */

/* Pages/s of a phase; 0 for a phase shorter than a coarse clock's step (sane()). */
static double rate(const struct uopts *o, const struct uphase *u)
{
	return u->ns ? (double)o->ws * 1e9 / (double)u->ns : 0;
}

/* "-tN" after a threaded phase's name in its figures (-T N), else "". */
static const char *tsuffix(const struct uopts *o, enum phase ph)
{
	static char buf[16];

	if (o->threads < 2 || (ph != PH_UNIFORM && ph != PH_ZIPF))
		return "";
	snprintf(buf, sizeof(buf), "-t%lu", o->threads);
	return buf;
}

/* result(), or a skip when one of the times read 0 on a coarse clock. */
static void figure(const char *fig, enum backend b, const char *unit, double v,
		   const char *base_name, double base, const char *better, bool clock0)
{
	if (clock0)
		result_skip(fig, b, "a time below the clock step of this kernel");
	else
		result(fig, b, unit, v, base_name, base, better);
}

static void csv_side(const struct uopts *o, const char *who, const struct side *s,
		     enum phase ph, const struct side *anon, bool backend)
{
	const struct uphase *u = &s->r.ph[ph], *a = &anon->r.ph[ph];
	char cost[32] = "", pread[64] = ",,";

	if (backend && (ph == PH_UNIFORM || ph == PH_ZIPF) && u->major && u->ns > a->ns)
		snprintf(cost, sizeof(cost), "%.2f",
			 (double)(u->ns - a->ns) / 1000.0 / (double)u->major);
	if (backend && s->pread_ok)
		snprintf(pread, sizeof(pread), "%zu,%.2f,%.2f", s->npread, s->pread_p50,
			 s->pread_p99);
	csv_row("umap.csv", "%s,%s%s,%zu,%zu,%zu,%.4f,%.1f,%llu,%llu,%llu,%.4f,%s,%s", who,
		ph_names[ph], tsuffix(o, ph), o->pool, o->ws, o->ws, u->ns / 1e9, rate(o, u),
		(unsigned long long)(backend ? u->major : (uint64_t)u->majflt),
		(unsigned long long)u->swapins, (unsigned long long)u->swapouts,
		rate(o, u) > 0 && rate(o, a) > 0 ? rate(o, u) / rate(o, a) : 0.0, cost, pread);
}

/* The row of phase ph for backend b (which ran or failed, not skipped). */
static void report(const struct uopts *o, enum backend b, enum phase ph,
		   const struct side *sides, const struct side *anon, unsigned int mask)
{
	const struct side *s = &sides[b], *m = &sides[BK_KERNEL];
	const struct uphase *u = &s->r.ph[ph], *a = &anon->r.ph[ph];
	char name[64], fig[64];
	bool ok = s->ran && s->ok && anon->ran, clock0;
	double v, cost;

	snprintf(name, sizeof(name), "umap.%s.%s", ph_names[ph], backend_names[b]);
	if (!s->ran || !anon->ran) {
		subtest(false, name);
		return;
	}
	ok &= check(!u->bad, "%s: %s: %llu words read back wrong", backend_names[b],
		    ph_names[ph], (unsigned long long)u->bad);
	v = rate(o, u);
	ok &= sane(v, "pages/s");
	if (ph == PH_WRITE)
		ok &= check(u->swapouts > 0,
			    "%s wrote nothing to swap writing %zu pages through a %zu-page pool",
			    backend_names[b], o->ws, o->pool);
	if (ph == PH_UNIFORM)
		ok &= check(u->major > 0,
			    "%s had no major faults in %zu uniform reads of %zu pages",
			    backend_names[b], o->ws, o->ws);
	if ((ph == PH_UNIFORM || ph == PH_ZIPF) && !s->pread_ok)
		ok = false;
	if (!ok) {
		subtest(false, name);
		return;
	}
	csv_side(o, backend_names[b], s, ph, anon, true);
	clock0 = !u->ns || !a->ns;

	snprintf(fig, sizeof(fig), "umap-%s%s", ph_names[ph], tsuffix(o, ph));
	if (b == BK_DAEMON && m->ran && m->ok && !m->r.ph[ph].bad)
		figure(fig, b, "pages/s", v, "module", rate(o, &m->r.ph[ph]), "higher",
		       clock0 || !m->r.ph[ph].ns);
	else if (b == BK_DAEMON)
		result_skip(fig, b, !(mask & (1U << BK_KERNEL)) ?
			    "the module side was not run (-b kernel)" : !m->probed ?
			    "the module side was skipped" : "the module side failed");
	snprintf(fig, sizeof(fig), "umap-%s%s-vs-anon", ph_names[ph], tsuffix(o, ph));
	figure(fig, b, "pages/s", v, "anon", rate(o, a), "higher", clock0);

	if (ph == PH_UNIFORM || ph == PH_ZIPF) {
		snprintf(fig, sizeof(fig), "umap-%s%s-majfault", ph_names[ph], tsuffix(o, ph));
		if (!u->major) {
			note("%s: %s had no major faults", fig, backend_names[b]);
			result_skip(fig, b, "no major faults in the phase");
		} else if (u->ns <= a->ns) {
			note("%s: %s took %.3f s, anon %.3f s: no cost left per fault", fig,
			     backend_names[b], u->ns / 1e9, a->ns / 1e9);
			result_skip(fig, b, "the phase was no slower than anon");
		} else {
			cost = (double)(u->ns - a->ns) / 1000.0 / (double)u->major;
			figure(fig, b, "us", cost, "odirect-pread-4k", s->pread_p50, "lower",
			       clock0);
			/* what the daemon adds to the least a uffd pager pays */
			snprintf(fig, sizeof(fig), "umap-%s%s-majfault-vs-floor",
				 ph_names[ph], tsuffix(o, ph));
			if (b == BK_DAEMON && s->floor_ok)
				figure(fig, b, "us", cost, "uffd-pager-process-mean",
				       s->floor_mean[FL_PAGER_PROCESS], "lower", clock0);
			else if (b == BK_DAEMON)
				result_skip(fig, b, "the userfaultfd floor was not measured (umap.uffd-floor)");
		}
	}
	subtest(true, name);
}

/* The userfaultfd floors, each against the raw read: subtest umap.uffd-floor. */
static void report_floor(const struct side *d)
{
	char fig[64];
	int i;

	if (!d->ran || !d->floor_ok) {
		subtest(false, "umap.uffd-floor");
		return;
	}
	for (i = 0; i < FL_NR; i++) {
		snprintf(fig, sizeof(fig), "umap-uffd-%s", fl_names[i]);
		figure(fig, BK_DAEMON, "us", d->floor_p50[i], "odirect-pread-4k", d->pread_p50,
		       "lower", false);
		csv_row("umap_floor.csv", "%s,%zu,%.2f,%.2f,%.2f,%.2f", fl_names[i], d->npread,
			d->floor_p50[i], d->floor_p99[i], d->floor_mean[i], d->pread_p50);
	}
	subtest(true, "umap.uffd-floor");
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vmpbench umap [-b kernel,uring,daemon|all] [-p POOL_PAGES] [-x RATIO]\n"
		"                     [-s SEED] [-S PREAD_SAMPLES] [-T THREADS]\n"
		"  a region of RATIO * POOL_PAGES pages (default 4 * 4096) written, read in\n"
		"  order, read at uniform and at zipf pages (by THREADS threads, each its\n"
		"  share, default 1); anon always runs as the bound\n");
	exit(2);
}

int bench_umap(int argc, char **argv)
{
	struct uopts o = { .pool = 4096, .ratio = 4, .samples = 2000, .seed = 1, .threads = 1 };
	unsigned int mask = 1U << BK_KERNEL | 1U << BK_DAEMON;
	struct side sides[BK_NR], anon;
	char reason[512] = "";
	bool any = false;
	int c, b, ph;

	while ((c = getopt(argc, argv, "b:p:x:s:S:T:")) != -1) {
		switch (c) {
		case 'b':
			if (parse_backends(optarg, &mask))
				usage();
			break;
		case 'p':
			o.pool = arg_ulong("-p", optarg, 256, 1UL << 20);
			break;
		case 'x':
			o.ratio = arg_ulong("-x", optarg, 2, 16);
			break;
		case 's':
			o.seed = arg_ulong("-s", optarg, 0, ~0UL);
			break;
		case 'S':
			o.samples = arg_ulong("-S", optarg, 10, 1000000);
			break;
		case 'T':
			o.threads = arg_ulong("-T", optarg, 1, 16);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	o.ws = o.pool * o.ratio;
	memset(sides, 0, sizeof(sides));
	memset(&anon, 0, sizeof(anon));
	out_init("umap", PH_NR * __builtin_popcount(mask) + 1 + !!(mask & 1U << BK_DAEMON));
	csv_header("umap.csv",
		   "side,phase,pool_pages,region_pages,pages,seconds,pages_per_s,major_faults,swap_ins,swap_outs,ratio_to_anon,majfault_cost_us,pread_samples,pread_p50_us,pread_p99_us");
	csv_header("umap_floor.csv", "variant,samples,p50_us,p99_us,mean_us,pread_p50_us");

	o.disk = disk_dir(reason, sizeof(reason));
	for (b = 0; b < BK_NR; b++) {
		if (!(mask & (1U << b)))
			continue;
		if (!o.disk || backend_probe(b, reason, sizeof(reason))) {
			skip_cells("umap", b, PH_NR, reason);
			if (b == BK_DAEMON)
				subtest_skip("umap.uffd-floor", reason);
			continue;
		}
		sides[b].probed = any = true;
	}
	if (!any) {
		subtest_skip("umap.anon", "no backend to compare with");
		return out_finish();
	}
	zipf_init(&o.zipf, o.ws, 0.99);

	/* The bound first, with no module loaded and no daemon running. */
	anon.ran = run_child(&o, BK_KERNEL /* unused */, true, &anon.r);
	for (b = 0; b < BK_NR; b++)
		if (sides[b].probed)
			run_backend(&o, b, &sides[b]);

	if (anon.ran) {
		bool ok = true;

		for (ph = 0; ph < PH_NR; ph++) {
			if (check(!anon.r.ph[ph].bad, "anon: %s: %llu words read back wrong",
				  ph_names[ph], (unsigned long long)anon.r.ph[ph].bad) &&
			    sane(rate(&o, &anon.r.ph[ph]), "anon pages/s"))
				csv_side(&o, "anon", &anon, ph, &anon, false);
			else
				ok = false;
		}
		anon.ran = ok;
	}
	subtest(anon.ran, "umap.anon");
	for (ph = 0; ph < PH_NR; ph++)
		for (b = 0; b < BK_NR; b++)
			if (sides[b].probed)
				report(&o, b, ph, sides, &anon, mask);
	if (sides[BK_DAEMON].probed)
		report_floor(&sides[BK_DAEMON]);
	return out_finish();
}
