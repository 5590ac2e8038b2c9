// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark 3: overcommit. A working set of X times the pool (X = 2, 4) is
 * written once (populate), then accessed PASSES * W times in one of three
 * orders: seq (0, 1, ..., W-1, 0, ...), uniform (independent uniform
 * pages), zipf (YCSB's Zipfian, theta 0.99, ranks scattered over the pages
 * by a multiplicative permutation). Each access adds 1 to a word of the page
 * (read-modify-write), so evictions write pages out.
 *
 * vmpager: pool_pages = POOL, swap file on the scratch disk, the region a
 * MAP_SHARED object. Baseline: the same program on private anonymous
 * memory (MADV_NOHUGEPAGE) in a cgroup v2 child with memory.max = POOL
 * pages, swapping to a kernel swap file (swapon) of the same number of
 * pages on the same ext4 disk. Both run in a fresh child process; the
 * access sequence is the same (same seed). Figures: accesses per second of
 * the measured phase and major faults per 1000 accesses.
 *
 * POOL is at least 1024 pages: the baseline's memory.max also holds its page
 * tables and stack, which cannot be swapped (smaller limits OOM-kill it).
 *
 *   vmpbench overcommit [-b BACKENDS] [-p POOL] [-x RATIOS] [-a PATTERNS]
 *                       [-P PASSES] [-s SEED] [-V]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define MAX_RATIOS	8
#define TAG		0x0c0ffee000000000ULL

enum pattern { PAT_SEQ, PAT_UNIFORM, PAT_ZIPF, PAT_NR };
static const char *const pat_names[PAT_NR] = { "seq", "uniform", "zipf" };

struct oopts {
	size_t pool;
	unsigned long ratios[MAX_RATIOS];
	int nratios;
	bool pats[PAT_NR];
	unsigned long passes;
	uint64_t seed;
	bool verify;
	size_t swap_pages;	/* per side: the largest working set */
	char cgdir[256];
	char kswap[512];
};

/* What a workload child reports through its pipe. */
struct ores {
	int err;		/* 0, or the line of the failed step */
	size_t bad;		/* pages with wrong contents */
	uint64_t populate_ns, run_ns, accesses;
	long majflt;		/* ru_majflt of the measured phase */
	uint64_t vmp_major, vmp_swapins, vmp_swapouts, vmp_ra_hits, vmp_total_outs;
	uint64_t pswpin, pswpout;	/* /proc/vmstat deltas of the measured phase */
};

/* ---- access orders ------------------------------------------------------------- */

struct gen {
	enum pattern pat;
	size_t n, i;
	uint64_t rng;
	struct zipf z;
};

static void gen_init(struct gen *g, enum pattern pat, size_t n, uint64_t seed)
{
	memset(g, 0, sizeof(*g));
	g->pat = pat;
	g->n = n;
	g->rng = seed;
	if (pat == PAT_ZIPF)
		zipf_init(&g->z, n, 0.99);
}

static size_t gen_next(struct gen *g)
{
	size_t r;

	switch (g->pat) {
	case PAT_SEQ:
		r = g->i++;
		if (g->i == g->n)
			g->i = 0;
		return r;
	case PAT_UNIFORM:
		return rng_next(&g->rng) % g->n;
	default:
		return zipf_next(&g->z, &g->rng);
	}
}

/* ---- the workload child ---------------------------------------------------------- */

static void vmstat_swap(uint64_t *in, uint64_t *out)
{
	char key[64];
	unsigned long long v;
	FILE *f = fopen("/proc/vmstat", "r");

	*in = *out = 0;
	if (!f)
		return;
	while (fscanf(f, "%63s %llu", key, &v) == 2) {
		if (!strcmp(key, "pswpin"))
			*in = v;
		else if (!strcmp(key, "pswpout"))
			*out = v;
	}
	fclose(f);
}

#define FAIL_IF(cond) do { if (cond) { res->err = __LINE__; return; } } while (0)

static void workload(const struct oopts *o, enum backend b, bool kernel, size_t ws,
		     enum pattern pat, struct ores *res)
{
	struct vmpager_global_info gs, g0, g1;
	volatile uint64_t *p;
	uint64_t t0, t1, in0, out0, in1, out1, j, sum = 0;
	struct rusage ru0, ru1;
	struct region reg;
	struct gen g;
	size_t i;

	memset(res, 0, sizeof(*res));
	gen_init(&g, pat, ws, o->seed);
	if (kernel) {
		FAIL_IF(cgroup_enter(o->cgdir));
		p = mmap(NULL, ws * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		FAIL_IF(p == MAP_FAILED);
		madvise((void *)p, ws * PG, MADV_NOHUGEPAGE);
	} else {
		FAIL_IF(region_map(&reg, b, ws));
		p = (volatile uint64_t *)reg.addr;
		FAIL_IF(region_stats_settled(&reg, &gs));
	}

	t0 = now_ns();
	for (i = 0; i < ws; i++)
		p[i * (PG / 8)] = TAG ^ i;
	t1 = now_ns();
	res->populate_ns = t1 - t0;

	res->accesses = (uint64_t)o->passes * ws;
	if (!kernel)
		FAIL_IF(region_stats_settled(&reg, &g0));
	vmstat_swap(&in0, &out0);
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_ns();
	for (j = 0; j < res->accesses; j++)
		p[gen_next(&g) * (PG / 8) + 1] += 1;
	t1 = now_ns();
	getrusage(RUSAGE_SELF, &ru1);
	vmstat_swap(&in1, &out1);
	res->run_ns = t1 - t0;
	res->majflt = ru1.ru_majflt - ru0.ru_majflt;
	res->pswpin = in1 - in0;
	res->pswpout = out1 - out0;
	if (!kernel) {
		FAIL_IF(region_stats_settled(&reg, &g1));
		res->vmp_major = DST(g0, g1, faults_major);
		res->vmp_swapins = DST(g0, g1, swap_ins);
		res->vmp_swapouts = DST(g0, g1, swap_outs);
		res->vmp_ra_hits = DST(g0, g1, readahead_hits);
		res->vmp_total_outs = DST(gs, g1, swap_outs);
	}

	/* Sanity: every page still has its tag, every access is counted. */
	if (o->verify) {
		for (i = 0; i < ws; i++) {
			if (p[i * (PG / 8)] != (TAG ^ i))
				res->bad++;
			sum += p[i * (PG / 8) + 1];
		}
		if (sum != res->accesses)
			res->bad++;
	} else {
		uint64_t rng = o->seed ^ 0x55;

		for (j = 0; j < 256; j++) {
			i = rng_next(&rng) % ws;
			if (p[i * (PG / 8)] != (TAG ^ i))
				res->bad++;
		}
	}
}

struct ochild {
	const struct oopts *o;
	enum backend b;
	bool kernel;
	size_t ws;
	enum pattern pat;
};

static void child_workload(const void *arg, void *res)
{
	const struct ochild *c = arg;

	workload(c->o, c->b, c->kernel, c->ws, c->pat, res);
}

/* Runs the workload in a child; false if it failed or died. */
static bool run_child(const struct oopts *o, enum backend b, bool kernel, size_t ws,
		      enum pattern pat, struct ores *res)
{
	const char *who = kernel ? "kernel swap" : "vmpager";
	struct ochild c = { o, b, kernel, ws, pat };

	if (!run_in_child(who, child_workload, &c, res, sizeof(*res)))
		return false;
	if (res->err)
		return check(false, "%s workload failed at overcommit.c:%d (errno %s)",
			     who, res->err, strerror(errno));
	return check(!res->bad, "%s workload: %zu pages with wrong contents", who,
		     res->bad);
}

bool oc_measure(enum backend b, size_t pool, unsigned long ratio, const char *pattern,
		unsigned long passes, double *acc_per_s, double *majflt_per_k)
{
	struct oopts o = { .pool = pool, .passes = passes, .seed = 1 };
	enum pattern pat;
	struct ores r;

	for (pat = 0; pat < PAT_NR; pat++)
		if (!strcmp(pattern, pat_names[pat]))
			break;
	if (pat == PAT_NR)
		return check(false, "unknown access pattern %s", pattern);
	if (!run_child(&o, b, false, pool * ratio, pat, &r))
		return false;
	*acc_per_s = (double)r.accesses * 1e9 / (double)r.run_ns;
	*majflt_per_k = 1000.0 * (double)r.vmp_major / (double)r.accesses;
	return check(r.vmp_total_outs > 0, "%s wrote nothing to swap at %lux",
		     backend_names[b], ratio);
}

/* ---- the kernel baseline's setup --------------------------------------------------- */

static int kernel_setup(struct oopts *o, const char *disk, char *reason, size_t len)
{
	int ret;

	if (cgroup_setup("vmpbench", o->pool * PG, o->cgdir, sizeof(o->cgdir), reason,
			 len))
		return -1;
	snprintf(o->kswap, sizeof(o->kswap), "%s/vmpbench-kswap", disk);
	progress("kernel baseline: %zu-page swap file %s, memory.max %zu KiB",
		 o->swap_pages, o->kswap, o->pool * PG / 1024);
	/* + 1: the header page; the same number of usable slots as vmpager */
	ret = make_kernel_swap(o->kswap, o->swap_pages + 1);
	if (ret) {
		snprintf(reason, len, "creating %s: %s", o->kswap, strerror(-ret));
		return -1;
	}
	swapoff(o->kswap);
	if (swapon(o->kswap, 0)) {
		snprintf(reason, len, "swapon %s: %s", o->kswap, strerror(errno));
		unlink(o->kswap);
		return -1;
	}
	return 0;
}

static void kernel_teardown(struct oopts *o)
{
	if (o->kswap[0]) {
		if (swapoff(o->kswap))
			printf("check failed: swapoff %s: %s\n", o->kswap, strerror(errno));
		unlink(o->kswap);
	}
	if (o->cgdir[0])
		cgroup_remove(o->cgdir);
}

/* ---- the table ------------------------------------------------------------------------ */

struct cell {
	bool have;
	struct ores r;
};

static void report(const struct oopts *o, enum backend b, unsigned long x,
		   enum pattern pat, const struct ores *v, const struct ores *k, bool *ok)
{
	double vt = (double)v->accesses * 1e9 / (double)v->run_ns;
	double kt = (double)k->accesses * 1e9 / (double)k->run_ns;
	double vm = 1000.0 * (double)v->vmp_major / (double)v->accesses;
	double km = 1000.0 * (double)k->majflt / (double)k->accesses;
	char fig[64];

	*ok &= sane(vt, "vmpager accesses/s") && sane(kt, "kernel accesses/s");
	*ok &= check(v->vmp_total_outs > 0, "vmpager wrote nothing to swap at %lux", x);
	*ok &= check(k->pswpout > 0 || k->pswpin > 0 || k->majflt > 0,
		     "the kernel baseline never swapped at %lux: is memory.max in force?", x);
	csv_row("overcommit.csv",
		"%s,%lu,%s,%zu,%zu,%llu,%.1f,%.1f,%.4f,%llu,%ld,%llu,%llu,%llu,%llu,%llu,%.3f,%.3f",
		backend_names[b], x, pat_names[pat], o->pool, o->pool * x,
		(unsigned long long)v->accesses, vt, kt, vt / kt,
		(unsigned long long)v->vmp_major, k->majflt,
		(unsigned long long)v->vmp_swapins, (unsigned long long)v->vmp_swapouts,
		(unsigned long long)k->pswpin, (unsigned long long)k->pswpout,
		(unsigned long long)v->vmp_ra_hits,
		v->populate_ns / 1e9, k->populate_ns / 1e9);
	snprintf(fig, sizeof(fig), "oc-%lux-%s", x, pat_names[pat]);
	result(fig, b, "acc/s", vt, "kernel-swap", kt, "higher");
	snprintf(fig, sizeof(fig), "oc-%lux-%s-majflt", x, pat_names[pat]);
	if (km > 0)
		result(fig, b, "majflt/1k-acc", vm, "kernel-swap", km, "lower");
	else
		note("%s: kernel baseline had no major faults (vmpager %.2f per 1k accesses)",
		     fig, vm);
	/* Pages read from swap: readahead that missed costs I/O too. */
	snprintf(fig, sizeof(fig), "oc-%lux-%s-swapin", x, pat_names[pat]);
	if (k->pswpin > 0)
		result(fig, b, "pages-in/1k-acc", 1000.0 * (double)v->vmp_swapins /
		       (double)v->accesses, "kernel-swap",
		       1000.0 * (double)k->pswpin / (double)k->accesses, "lower");
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vmpbench overcommit [-b kernel,uring,daemon|all] [-p POOL_PAGES]\n"
		"                           [-x RATIO[,RATIO...]] [-a seq,uniform,zipf]\n"
		"                           [-P PASSES] [-s SEED] [-V]\n");
	exit(2);
}

int bench_overcommit(int argc, char **argv)
{
	struct oopts o = { .pool = 8192, .ratios = { 2, 4 }, .nratios = 2,
			   .pats = { true, true, true }, .passes = 2, .seed = 1 };
	unsigned int mask = (1U << BK_NR) - 1;
	struct cell *base;
	char reason[512] = "", kreason[512] = "";
	const char *disk;
	int c, b, xi, cells, npats = 0;
	bool kernel_ok;
	struct bk bk;

	while ((c = getopt(argc, argv, "b:p:x:a:P:s:V")) != -1) {
		switch (c) {
		case 'b':
			if (parse_backends(optarg, &mask))
				usage();
			break;
		case 'p':
			o.pool = arg_ulong("-p", optarg, 1024, 1UL << 20);
			break;
		case 'x':
			o.nratios = arg_list("-x", optarg, o.ratios, MAX_RATIOS, 2, 16);
			break;
		case 'a':
			for (int k = 0; k < PAT_NR; k++)
				o.pats[k] = strstr(optarg, pat_names[k]) != NULL;
			break;
		case 'P':
			o.passes = arg_ulong("-P", optarg, 1, 100);
			break;
		case 's':
			o.seed = arg_ulong("-s", optarg, 0, ~0UL);
			break;
		case 'V':
			o.verify = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	for (int k = 0; k < PAT_NR; k++)
		npats += o.pats[k];
	if (!npats)
		usage();
	for (xi = 0; xi < o.nratios; xi++)
		if (o.ratios[xi] * o.pool > o.swap_pages)
			o.swap_pages = o.ratios[xi] * o.pool;
	cells = o.nratios * npats;
	out_init("overcommit", cells * __builtin_popcount(mask));
	csv_header("overcommit.csv",
		   "backend,ratio,pattern,pool_pages,ws_pages,accesses,vmp_acc_per_s,kernel_acc_per_s,ratio_tput,vmp_majflt,kernel_majflt,vmp_swapins,vmp_swapouts,kernel_pswpin,kernel_pswpout,vmp_readahead_hits,vmp_populate_s,kernel_populate_s");

	disk = disk_dir(reason, sizeof(reason));
	if (!disk) {
		for (b = 0; b < BK_NR; b++)
			if (mask & (1U << b))
				skip_cells("overcommit", b, cells, reason);
		return out_finish();
	}
	base = calloc(MAX_RATIOS * PAT_NR, sizeof(*base));
	if (!base)
		return 1;
	kernel_ok = !kernel_setup(&o, disk, kreason, sizeof(kreason));
	if (!kernel_ok)
		printf("check failed: kernel baseline: %s\n", kreason);

	for (b = 0; b < BK_NR; b++) {
		if (!(mask & (1U << b)))
			continue;
		if (backend_probe(b, reason, sizeof(reason))) {
			skip_cells("overcommit", b, cells, reason);
			continue;
		}
		if (!kernel_ok || bk_start(&bk, b, o.pool, o.swap_pages, disk, "")) {
			fail_cells("overcommit", b, cells);
			continue;
		}
		for (xi = 0; xi < o.nratios; xi++) {
			for (int pat = 0; pat < PAT_NR; pat++) {
				unsigned long x = o.ratios[xi];
				struct cell *k = &base[xi * PAT_NR + pat];
				size_t ws = o.pool * x;
				struct ores v;
				char name[64];
				bool ok;

				if (!o.pats[pat])
					continue;
				snprintf(name, sizeof(name), "overcommit.%lux.%s.%s", x,
					 pat_names[pat], backend_names[b]);
				progress("%s: %lux %s: %zu pages over a %zu-page pool, %llu accesses",
					 backend_names[b], x, pat_names[pat], ws, o.pool,
					 (unsigned long long)o.passes * ws);
				ok = run_child(&o, b, false, ws, pat, &v);
				/* The baseline does not depend on the backend: run it once. */
				if (!k->have) {
					progress("kernel swap: %lux %s under memory.max", x,
						 pat_names[pat]);
					k->have = run_child(&o, b, true, ws, pat, &k->r);
					if (!k->have)
						ok = false;
				}
				if (ok && k->have)
					report(&o, b, x, pat, &v, &k->r, &ok);
				subtest(ok, name);
			}
		}
		bk_stop(&bk);
	}
	kernel_teardown(&o);
	free(base);
	return out_finish();
}
