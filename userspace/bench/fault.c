// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark 1: resident fault rate. Every page of a MAP_SHARED mapping is
 * resident (in the vmpager pool, or in shmem for the baseline, a memfd);
 * MADV_DONTNEED zaps the PTEs, and the timed loop touches each page once, so
 * each touch is one fault that finds the page resident. With T threads each
 * takes a contiguous 1/T of the pages (scaling: faults/s at T threads over
 * faults/s at 1). The figure is the wall time per fault, median over rounds;
 * the rounds of vmpager and of the baselines alternate, so a change in the
 * host's load hits both sides alike.
 *
 * shmem has ->map_pages, so a read fault maps up to fault_around_bytes
 * (64 KiB) of resident neighbours at once; vmpager has none (the helpers are
 * not exported). The per-fault baseline runs with fault_around_bytes = 4096
 * (debugfs), so every shmem read touch is one fault too; a second read
 * baseline keeps the default ("shmem+faultaround": the cost per touch an
 * application sees).
 *
 *   vmpbench fault [-b BACKENDS] [-n PAGES] [-r ROUNDS] [-t THREADS,...]
 *                  [-m read,write]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

#define MAX_THREADS	8
#define MAGIC		0x5aa5f00dULL
#define FAULT_AROUND	"/sys/kernel/debug/fault_around_bytes"

/* One side of the comparison: a mapping and its rounds. */
struct side {
	const char *what;
	volatile uint64_t *base;
	size_t pages;
	bool no_fault_around;	/* fault_around_bytes = 4096 during its rounds */
	long faults;		/* ru_minflt over its rounds */
	double *ns;		/* per round: wall ns per fault */
};

/* One round's threads. */
struct frun {
	struct side *s;
	int nthreads;
	bool write;
	uint64_t round;		/* value written this round (write mode) */
	pthread_barrier_t start;
	uint64_t t0[MAX_THREADS], t1[MAX_THREADS];
	uint64_t sink;
};

struct targ {
	struct frun *r;
	int k;
};

static void *worker(void *arg)
{
	struct targ *a = arg;
	struct frun *r = a->r;
	size_t lo = r->s->pages * a->k / r->nthreads;
	size_t hi = r->s->pages * (a->k + 1) / r->nthreads, i;
	volatile uint64_t *p = r->s->base;
	uint64_t sum = 0;

	pthread_barrier_wait(&r->start);
	r->t0[a->k] = now_ns();
	if (r->write) {
		for (i = lo; i < hi; i++)
			p[i * (PG / 8) + 1] = r->round;
	} else {
		for (i = lo; i < hi; i++)
			sum += p[i * (PG / 8)];
	}
	r->t1[a->k] = now_ns();
	__atomic_add_fetch(&r->sink, sum, __ATOMIC_RELAXED);
	return NULL;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static char fa_saved[32];	/* fault_around_bytes before we changed it */

/* Set fault_around_bytes to 4096 (on) or back (off); false if impossible. */
static bool fault_around_off(bool on)
{
	ssize_t n;
	int fd;

	if (!on)
		return !fa_saved[0] || !write_file(FAULT_AROUND, fa_saved);
	if (!fa_saved[0]) {
		fd = open(FAULT_AROUND, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return false;
		n = read(fd, fa_saved, sizeof(fa_saved) - 1);
		close(fd);
		fa_saved[n > 0 ? n : 0] = '\0';
	}
	return fa_saved[0] && !write_file(FAULT_AROUND, "4096");
}

/* Zap, then touch every page once with nthreads threads: round n. */
static bool side_round(struct side *s, int nthreads, bool write, int n)
{
	struct targ args[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	struct frun r = { .s = s, .nthreads = nthreads, .write = write, .round = n + 1 };
	uint64_t lo = UINT64_MAX, hi = 0;
	bool ok = true;
	long f0;
	int k;

	pthread_barrier_init(&r.start, NULL, nthreads + 1);
	for (k = 0; k < nthreads; k++) {
		args[k] = (struct targ){ .r = &r, .k = k };
		if (pthread_create(&tid[k], NULL, worker, &args[k])) {
			printf("check failed: pthread_create: %s\n", strerror(errno));
			exit(1);
		}
	}
	if (s->no_fault_around && !fault_around_off(true)) {
		note("cannot set %s: %s read faults map up to 16 pages each", FAULT_AROUND,
		     s->what);
		s->no_fault_around = false;
	}
	ok &= check(!madvise((void *)s->base, s->pages * PG, MADV_DONTNEED),
		    "madvise(MADV_DONTNEED): %s", strerror(errno));
	f0 = minflt();
	pthread_barrier_wait(&r.start);
	for (k = 0; k < nthreads; k++)
		pthread_join(tid[k], NULL);
	s->faults += minflt() - f0;
	if (s->no_fault_around)
		fault_around_off(false);
	pthread_barrier_destroy(&r.start);
	for (k = 0; k < nthreads; k++) {
		lo = r.t0[k] < lo ? r.t0[k] : lo;
		hi = r.t1[k] > hi ? r.t1[k] : hi;
	}
	s->ns[n] = (double)(hi - lo) / (double)s->pages;
	return ok;
}

static void side_populate(struct side *s)
{
	size_t i;

	s->faults = 0;
	for (i = 0; i < s->pages; i++) {
		s->base[i * (PG / 8)] = MAGIC ^ i;
		s->base[i * (PG / 8) + 1] = 0;
	}
}

/* The data survived the zaps, and each touch was a fault. */
static bool side_verify(struct side *s, bool write, int rounds, long min_faults)
{
	size_t i;

	for (i = 0; i < s->pages; i++)
		if (s->base[i * (PG / 8)] != (MAGIC ^ i) ||
		    (write && s->base[i * (PG / 8) + 1] != (uint64_t)rounds))
			return check(false, "%s: page %zu lost its contents after %d zaps",
				     s->what, i, rounds);
	return check(s->faults >= min_faults,
		     "%s: %ld minor faults for %zu touches of zapped pages (expected >= %ld)",
		     s->what, s->faults, s->pages * rounds, min_faults);
}

static volatile uint64_t *memfd_map(size_t pages)
{
	int fd = memfd_create("vmpbench-fault", MFD_CLOEXEC);
	void *p;

	if (fd < 0 || ftruncate(fd, pages * PG)) {
		printf("check failed: memfd: %s\n", strerror(errno));
		exit(1);
	}
	p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		printf("check failed: mmap memfd: %s\n", strerror(errno));
		exit(1);
	}
	return p;
}

struct fopts {
	size_t pages;
	int rounds;
	unsigned long threads[MAX_THREADS];
	int nthreads;
	bool modes[2];		/* [0] read, [1] write */
};

/* One backend: every (threads, mode) cell, vmpager and shmem side by side. */
static void run_backend(const struct fopts *o, enum backend b)
{
	double vmp_rate1[2] = { 0 }, shm_rate1[2] = { 0 };
	struct vmpager_global_info g0, g1;
	struct side vs, ss, fs;
	struct region reg;
	int ti, m, n, nsides;
	bool ok;

	vs.ns = calloc(o->rounds, sizeof(double));
	ss.ns = calloc(o->rounds, sizeof(double));
	fs.ns = calloc(o->rounds, sizeof(double));
	if (!vs.ns || !ss.ns || !fs.ns)
		exit(1);
	for (ti = 0; ti < o->nthreads; ti++) {
		for (m = 0; m < 2; m++) {
			int t = (int)o->threads[ti];
			double vmp_ns, shm_ns, fa_ns = 0, scale_v = 0, scale_s = 0;
			const char *acc = m ? "write" : "read";
			char name[96], fig[64];
			long touches = (long)(o->pages * o->rounds);

			if (!o->modes[m])
				continue;
			snprintf(fig, sizeof(fig), "fault-%dt-%s", t, acc);
			snprintf(name, sizeof(name), "fault.%dt.%s.%s", t, acc,
				 backend_names[b]);
			progress("%s: %d thread(s), %s touches, %d rounds of %zu zapped pages",
				 backend_names[b], t, acc, o->rounds, o->pages);
			if (region_map(&reg, b, o->pages)) {
				subtest(false, name);
				continue;
			}
			vs.what = "vmpager";
			vs.base = (volatile uint64_t *)reg.addr;
			vs.pages = o->pages;
			vs.no_fault_around = false;
			ss.what = "shmem";
			ss.base = memfd_map(o->pages);
			ss.pages = o->pages;
			ss.no_fault_around = !m;
			fs.what = "shmem+faultaround";
			fs.base = m ? NULL : memfd_map(o->pages);
			fs.pages = o->pages;
			fs.no_fault_around = false;
			nsides = m ? 2 : 3;
			side_populate(&vs);
			side_populate(&ss);
			if (!m)
				side_populate(&fs);

			ok = !region_stats_settled(&reg, &g0);
			for (n = 0; n < o->rounds; n++) {
				ok &= side_round(&vs, t, m, n);
				ok &= side_round(&ss, t, m, n);
				if (nsides == 3)
					ok &= side_round(&fs, t, m, n);
			}
			ok &= !region_stats_settled(&reg, &g1);
			ok &= side_verify(&vs, m, o->rounds, touches);
			ok &= side_verify(&ss, m, o->rounds,
					  ss.no_fault_around || m ? touches : touches / 16);
			if (nsides == 3)
				ok &= side_verify(&fs, m, o->rounds, 1);
			vmp_ns = median(vs.ns, o->rounds);
			shm_ns = median(ss.ns, o->rounds);
			if (nsides == 3)
				fa_ns = median(fs.ns, o->rounds);
			region_unmap(&reg);
			munmap((void *)ss.base, o->pages * PG);
			if (fs.base)
				munmap((void *)fs.base, o->pages * PG);

			/* Zero-fill was the populate pass; the rounds find pages resident. */
			ok &= check(DST(g0, g1, faults_major) == 0,
				    "%llu major faults: pool too small for %zu pages?",
				    (unsigned long long)DST(g0, g1, faults_major), o->pages);
			/*
			 * vmpagerd: a zapped page is still in the client's memfd, so
			 * the touch is a shmem fault the daemon never sees.
			 */
			if (b == BK_DAEMON && ti == 0 && m == 0)
				note("daemon: zapped pages stay in the region's memfd: these are shmem faults, vmpagerd sees none");
			ok &= b == BK_DAEMON ||
			      check(DST(g0, g1, faults_minor) >= (uint64_t)touches,
				    "vmpager counted %llu minor faults for %ld touches",
				    (unsigned long long)DST(g0, g1, faults_minor), touches);
			ok &= sane(vmp_ns, "vmpager ns/fault");
			ok &= sane(shm_ns, "shmem ns/fault");
			ok &= m || sane(fa_ns, "shmem ns/touch with fault-around");
			if (!ok) {
				subtest(false, name);
				continue;
			}
			if (t == 1) {
				vmp_rate1[m] = 1e9 / vmp_ns;
				shm_rate1[m] = 1e9 / shm_ns;
			} else if (vmp_rate1[m] > 0) {
				scale_v = 1e9 / vmp_ns / vmp_rate1[m];
				scale_s = 1e9 / shm_ns / shm_rate1[m];
			}
			csv_row("fault.csv", "%s,%d,%s,%zu,%d,%.1f,%.1f,%.4f,%.3f,%.3f,%.1f",
				backend_names[b], t, acc, o->pages, o->rounds, vmp_ns, shm_ns,
				vmp_ns / shm_ns, scale_v, scale_s, fa_ns);
			result(fig, b, "ns/fault", vmp_ns, "shmem", shm_ns, "lower");
			if (!m) {
				snprintf(fig, sizeof(fig), "fault-%dt-read-touch", t);
				result(fig, b, "ns/touch", vmp_ns, "shmem+faultaround", fa_ns,
				       "lower");
			}
			if (scale_v > 0) {
				snprintf(fig, sizeof(fig), "fault-scaling-%dt-%s", t, acc);
				result(fig, b, "x-of-1t", scale_v, "shmem", scale_s, "higher");
			}
			subtest(true, name);
		}
	}
	free(vs.ns);
	free(ss.ns);
	free(fs.ns);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vmpbench fault [-b kernel,uring,daemon|all] [-n PAGES] [-r ROUNDS]\n"
		"                      [-t THREADS[,THREADS...]] [-m read,write]\n");
	exit(2);
}

int bench_fault(int argc, char **argv)
{
	struct fopts o = { .pages = 16384, .rounds = 5, .threads = { 1, 2 },
			   .nthreads = 2, .modes = { true, true } };
	unsigned int mask = (1U << BK_NR) - 1;
	char reason[512];
	const char *disk;
	int c, b, cells;
	struct bk k;

	while ((c = getopt(argc, argv, "b:n:r:t:m:")) != -1) {
		switch (c) {
		case 'b':
			if (parse_backends(optarg, &mask))
				usage();
			break;
		case 'n':
			o.pages = arg_ulong("-n", optarg, 16, 1UL << 22);
			break;
		case 'r':
			o.rounds = (int)arg_ulong("-r", optarg, 1, 1000);
			break;
		case 't':
			o.nthreads = arg_list("-t", optarg, o.threads, MAX_THREADS, 1,
					      MAX_THREADS);
			break;
		case 'm':
			o.modes[0] = strstr(optarg, "read") != NULL;
			o.modes[1] = strstr(optarg, "write") != NULL;
			if (!o.modes[0] && !o.modes[1])
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	cells = o.nthreads * (o.modes[0] + o.modes[1]);
	out_init("fault", cells * __builtin_popcount(mask));
	csv_header("fault.csv",
		   "backend,threads,access,pages,rounds,vmp_ns_per_fault,shmem_ns_per_fault,ratio,vmp_scaling,shmem_scaling,shmem_faultaround_ns_per_touch");
	disk = disk_dir(reason, sizeof(reason));
	for (b = 0; b < BK_NR; b++) {
		if (!(mask & (1U << b)))
			continue;
		if (backend_probe(b, reason, sizeof(reason))) {
			skip_cells("fault", b, cells, reason);
			continue;
		}
		/* No swap needed: the pool holds every page. */
		if (bk_start(&k, b, o.pages + o.pages / 8 + 256, 0, disk, "")) {
			fail_cells("fault", b, cells);
			continue;
		}
		run_backend(&o, b);
		bk_stop(&k);
	}
	return out_finish();
}
