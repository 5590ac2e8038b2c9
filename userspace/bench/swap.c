// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark 4: the swap paths against the raw disk.
 *
 * Swap-out: a fresh object of X times the pool is written sequentially; the
 * figure is swap_outs / elapsed time (pages written out per second of that
 * phase, which also pays the zero-fill faults). Baseline: sequential
 * O_DIRECT writes of the same number of pages to a fresh preallocated file
 * on the same disk, in 4 KiB writes (the swap I/O size) and in 1 MiB
 * writes (the disk's streaming rate).
 *
 * Swap-in: with readahead off (debugfs readahead = 0) and every page
 * written out once (a sequential read pass flushes the dirty ones, so
 * evictions are clean drops), random pages are read one at a time; a touch
 * is a sample when the module's faults_major moved by exactly one. Each is
 * followed by a 4 KiB O_DIRECT pread at a random written slot of the same
 * swap file (the baseline), so both sides see the same disk state.
 * Figures: p50 and p99 latency; the CDFs go to swapin_cdf.csv.
 *
 *   vmpbench swap [-b BACKENDS] [-p POOL] [-x RATIO] [-s SAMPLES]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

#define TAG	SWAP_TAG

struct sopts {
	size_t pool;
	unsigned long ratio;
	size_t samples;
	const char *disk;
};

/* Sequential O_DIRECT writes of @pages pages, chunk bytes at a time: pages/s. */
static double raw_write(const char *path, size_t pages, size_t chunk, bool *ok)
{
	uint64_t bytes = (uint64_t)pages * PG, off, t0, t1;
	void *buf;
	int fd, ret;

	ret = prealloc_file(path, bytes);
	if (!check(!ret, "preallocating %s: %s", path, strerror(-ret))) {
		*ok = false;
		return 0;
	}
	if (posix_memalign(&buf, PG, chunk)) {
		*ok = false;
		return 0;
	}
	memset(buf, 0xa5, chunk);
	fd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
	if (!check(fd >= 0, "open %s O_DIRECT: %s", path, strerror(errno))) {
		free(buf);
		*ok = false;
		return 0;
	}
	t0 = now_ns();
	for (off = 0; off < bytes; off += chunk) {
		size_t n = bytes - off < chunk ? bytes - off : chunk;

		if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n) {
			*ok = check(false, "O_DIRECT write at %llu of %s: %s",
				    (unsigned long long)off, path, strerror(errno));
			break;
		}
	}
	t1 = now_ns();
	close(fd);
	unlink(path);
	free(buf);
	return (double)pages * 1e9 / (double)(t1 - t0);
}

void cdf_side(enum backend b, const char *side, const double *sorted, size_t n)
{
	int q;

	for (q = 0; q <= 100; q++)
		csv_row("swapin_cdf.csv", "%s,%s,%.3f,%.2f", backend_names[b], side,
			q / 100.0, quantile(sorted, n, q / 100.0));
	csv_row("swapin_cdf.csv", "%s,%s,%.3f,%.2f", backend_names[b], side, 0.999,
		quantile(sorted, n, 0.999));
}

size_t swap_fill(struct region *reg, double *out_rate, bool *ok)
{
	struct vmpager_global_info g0, g1;
	volatile uint64_t *p = (volatile uint64_t *)reg->addr;
	uint64_t t0, t1;
	size_t i, outs;

	*ok &= !region_stats_settled(reg, &g0);
	t0 = now_ns();
	for (i = 0; i < reg->pages; i++)
		p[i * (PG / 8)] = TAG ^ i;
	t1 = now_ns();
	*ok &= !region_stats_settled(reg, &g1);
	outs = DST(g0, g1, swap_outs);
	*out_rate = (double)outs * 1e9 / (double)(t1 - t0);
	return outs;
}

bool swap_flush(struct region *reg)
{
	volatile uint64_t *p = (volatile uint64_t *)reg->addr;
	size_t i, bad = 0;

	for (i = 0; i < reg->pages; i++)
		if (p[i * (PG / 8)] != (TAG ^ i))
			bad++;
	return check(!bad, "%zu of %zu pages read back wrong after swap-out", bad,
		     reg->pages);
}

bool swapin_samples(struct region *reg, size_t want, int pread_fd, size_t wr,
		    double *lat, size_t *nlat, double *plat, size_t *nplat)
{
	volatile uint64_t *p = (volatile uint64_t *)reg->addr;
	struct vmpager_global_info g0, g1;
	uint64_t rng = 12345, t0, t1, v;
	size_t i, tries, bad = 0;
	static void *buf;
	ssize_t ret;

	*nlat = *nplat = 0;
	if (!buf && posix_memalign(&buf, PG, PG))
		return check(false, "out of memory");
	if (region_stats_settled(reg, &g0))
		return false;
	for (tries = 0; *nlat < want && tries < 20 * want; tries++, g0 = g1) {
		i = rng_next(&rng) % reg->pages;
		g1 = g0;
		/*
		 * vmpagerd counts a fault after waking the thread: touch only
		 * pages absent from the region's memfd, then wait for the count.
		 */
		if (reg->b == BK_DAEMON) {
			unsigned char in;

			if (!mincore(reg->addr + i * PG, PG, &in) && (in & 1))
				continue;
		}
		t0 = now_ns();
		v = p[i * (PG / 8)];
		t1 = now_ns();
		if (region_stats_after(reg, &g0, &g1))
			return false;
		if (v != (TAG ^ i))
			bad++;
		if (DST(g0, g1, faults_major) != 1 || DST(g0, g1, faults) > 1)
			continue;	/* resident, or not a single swap-in */
		lat[(*nlat)++] = (double)(t1 - t0) / 1000.0;
		if (pread_fd < 0)
			continue;
		/* The baseline: a page written during the swap-out phase. */
		t0 = now_ns();
		ret = pread(pread_fd, buf, PG, (off_t)((rng_next(&rng) % wr) * PG));
		t1 = now_ns();
		if (ret != (ssize_t)PG)
			return check(false, "O_DIRECT pread of the swap file: %s",
				     ret < 0 ? strerror(errno) : "short read");
		plat[(*nplat)++] = (double)(t1 - t0) / 1000.0;
	}
	return check(!bad, "%zu reads returned wrong contents", bad) &&
	       check(*nlat >= want / 2, "only %zu of %zu touches were single major faults",
		     *nlat, tries);
}

static void run_backend(const struct sopts *o, enum backend b)
{
	size_t ws = o->pool * o->ratio, nv = 0, np = 0, outs;
	double *vlat, *plat, out_rate, raw4k, raw1m, vp50, vp99, pp50, pp99;
	char raw[512], name_in[32], name_out[32];
	struct vmpager_global_info g0, g1;
	struct region reg;
	bool ok = true, have_gi;
	struct bk k;
	int fd, ret;

	snprintf(name_in, sizeof(name_in), "swap.in.%s", backend_names[b]);
	snprintf(name_out, sizeof(name_out), "swap.out.%s", backend_names[b]);
	snprintf(raw, sizeof(raw), "%s/vmpbench-raw", o->disk);
	vlat = calloc(o->samples, sizeof(double));
	plat = calloc(o->samples, sizeof(double));
	if (!vlat || !plat)
		exit(1);
	if (bk_start(&k, b, o->pool, ws + o->pool, o->disk, "")) {
		fail_cells("swap", b, 2);
		goto out_free;
	}
	ret = bk_readahead(&k, 0);
	if (ret)
		note("readahead 0 failed (%s): some swap-ins may read ahead", strerror(-ret));
	if (region_map(&reg, b, ws)) {
		fail_cells("swap", b, 2);
		goto out_stop;
	}

	progress("%s: swap-out: writing %zu pages through a %zu-page pool", backend_names[b],
		 ws, o->pool);
	have_gi = b == BK_KERNEL && !region_stats(&reg, &g0);
	outs = swap_fill(&reg, &out_rate, &ok);
	if (have_gi && !region_stats(&reg, &g1)) {
		uint64_t bios = g1.stats[VMPAGER_STAT_bio_writes] -
				g0.stats[VMPAGER_STAT_bio_writes];
		uint64_t pages = g1.stats[VMPAGER_STAT_bio_write_pages] -
				 g0.stats[VMPAGER_STAT_bio_write_pages];

		note("kernel: swap-out wrote %llu pages in %llu bios (%.1f pages per bio)",
		     (unsigned long long)pages, (unsigned long long)bios,
		     bios ? (double)pages / (double)bios : 0.0);
	}
	/* vmpagerd's soft-eviction cache writes back behind the faults */
	ok &= check(b == BK_DAEMON ? outs > 0 : outs >= ws - o->pool,
		    "%zu swap-outs writing %zu pages through a %zu-page pool", outs, ws,
		    o->pool);
	progress("%s: swap-out baseline: %zu pages of sequential O_DIRECT writes",
		 backend_names[b], outs);
	raw4k = outs ? raw_write(raw, outs, PG, &ok) : 0;
	raw1m = outs ? raw_write(raw, outs, 1UL << 20, &ok) : 0;

	/* Every dirty resident page goes out once: evictions become clean drops. */
	ok &= swap_flush(&reg);

	progress("%s: swap-in: %zu major faults at random pages, each with a 4 KiB O_DIRECT pread",
		 backend_names[b], o->samples);
	/* The baseline reads the backend's own swap file, where it wrote. */
	fd = open(k.swap, O_RDONLY | O_DIRECT | O_CLOEXEC);
	ok &= check(fd >= 0, "open %s O_DIRECT: %s", k.swap, strerror(errno));
	if (fd >= 0) {
		ok &= swapin_samples(&reg, o->samples, fd, outs ? outs : 1, vlat, &nv, plat,
				     &np);
		close(fd);
	}
	region_unmap(&reg);

	qsort(vlat, nv, sizeof(double), cmp_double);
	qsort(plat, np, sizeof(double), cmp_double);
	vp50 = quantile(vlat, nv, 0.5);
	vp99 = quantile(vlat, nv, 0.99);
	pp50 = quantile(plat, np, 0.5);
	pp99 = quantile(plat, np, 0.99);
	if (ok && sane(vp50, "swap-in p50") && sane(vp99, "swap-in p99") &&
	    sane(pp50, "pread p50") && sane(pp99, "pread p99")) {
		cdf_side(b, "swapin", vlat, nv);
		cdf_side(b, "odirect-pread-4k", plat, np);
		result("swapin-p50", b, "us", vp50, "odirect-pread-4k", pp50, "lower");
		result("swapin-p99", b, "us", vp99, "odirect-pread-4k", pp99, "lower");
		subtest(true, name_in);
	} else {
		subtest(false, name_in);
	}
	if (ok && sane(out_rate, "swap-out pages/s") && sane(raw4k, "4 KiB write pages/s") &&
	    sane(raw1m, "1 MiB write pages/s")) {
		result("swapout-rate", b, "pages/s", out_rate, "odirect-write-4k", raw4k,
		       "higher");
		result("swapout-rate", b, "pages/s", out_rate, "odirect-write-1m", raw1m,
		       "higher");
		csv_row("swap.csv", "%s,%zu,%zu,%zu,%.1f,%.1f,%.1f,%zu,%.2f,%.2f,%.2f,%.2f",
			backend_names[b], o->pool, ws, outs, out_rate, raw4k, raw1m, nv,
			vp50, vp99, pp50, pp99);
		subtest(true, name_out);
	} else {
		subtest(false, name_out);
	}
out_stop:
	bk_stop(&k);
out_free:
	free(vlat);
	free(plat);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vmpbench swap [-b kernel,uring,daemon|all] [-p POOL_PAGES] [-x RATIO]\n"
		"                     [-s SAMPLES]\n");
	exit(2);
}

int bench_swap(int argc, char **argv)
{
	struct sopts o = { .pool = 4096, .ratio = 4, .samples = 2000 };
	unsigned int mask = (1U << BK_NR) - 1;
	char reason[512];
	int c, b;

	while ((c = getopt(argc, argv, "b:p:x:s:")) != -1) {
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
			o.samples = arg_ulong("-s", optarg, 10, 1000000);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	out_init("swap", 2 * __builtin_popcount(mask));
	csv_header("swap.csv",
		   "backend,pool_pages,ws_pages,swap_outs,vmp_out_pages_per_s,odirect_4k_pages_per_s,odirect_1m_pages_per_s,samples,vmp_in_p50_us,vmp_in_p99_us,pread_p50_us,pread_p99_us");
	csv_header("swapin_cdf.csv", "backend,side,quantile,us");
	o.disk = disk_dir(reason, sizeof(reason));
	for (b = 0; b < BK_NR; b++) {
		if (!(mask & (1U << b)))
			continue;
		if (!o.disk || backend_probe(b, reason, sizeof(reason))) {
			skip_cells("swap", b, 2, reason);
			continue;
		}
		run_backend(&o, b);
	}
	return out_finish();
}
