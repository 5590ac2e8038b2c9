// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark 5: vmpagerd (the userfaultfd daemon) against the module, on the
 * same workloads, each side measured in the same run:
 *
 *   daemon-firsttouch-p50/p99  latency of single first-touch (zero-fill)
 *                              faults, the pool holding every page
 *   daemon-swapin-p50/p99      latency of single swap-in major faults
 *                              (readahead off, evictions clean), as in
 *                              "vmpbench swap"
 *   daemon-oc-2x-uniform       overcommit throughput (accesses/s) and
 *                              major faults per 1000 accesses, as in
 *                              "vmpbench overcommit"
 *
 * The module runs with its in-kernel swap backend; the daemon gets a swap
 * file of the same size on the same disk and frame budget + soft-eviction
 * cache = the module's pool (bk_start()). The ratio is daemon / module.
 *
 *   vmpbench daemon [-p POOL] [-s SAMPLES] [-x RATIO] [-a PATTERN] [-P PASSES]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define NFIG	4

struct side {
	double ft_p50, ft_p99, in_p50, in_p99, oc_tput, oc_maj;
	bool ok[NFIG];		/* first touch, swap-in, overcommit */
};

struct dopts {
	size_t pool, samples;
	unsigned long ratio, passes;
	const char *pattern, *disk;
};

/* Per-fault first-touch latencies of half the pool's pages. */
static bool first_touch(enum backend b, size_t pages, struct side *s)
{
	double *lat = calloc(pages, sizeof(double));
	volatile uint64_t *p;
	struct region reg;
	uint64_t t0, t1;
	size_t i, bad = 0;

	if (!lat || region_map(&reg, b, pages)) {
		free(lat);
		return false;
	}
	p = (volatile uint64_t *)reg.addr;
	for (i = 0; i < pages; i++) {
		t0 = now_ns();
		p[i * (PG / 8)] = i + 1;
		t1 = now_ns();
		lat[i] = (double)(t1 - t0) / 1000.0;
	}
	for (i = 0; i < pages; i++)
		if (p[i * (PG / 8)] != i + 1 || p[i * (PG / 8) + 1])
			bad++;
	region_unmap(&reg);
	qsort(lat, pages, sizeof(double), cmp_double);
	s->ft_p50 = quantile(lat, pages, 0.5);
	s->ft_p99 = quantile(lat, pages, 0.99);
	free(lat);
	return check(!bad, "%zu first-touched pages not zero-filled", bad) &&
	       sane(s->ft_p50, "first-touch p50") && sane(s->ft_p99, "first-touch p99");
}

static bool swap_in(struct bk *k, const struct dopts *o, struct side *s)
{
	size_t ws = o->pool * 4, n, np;
	double *lat = calloc(o->samples, sizeof(double)), rate;
	struct region reg;
	bool ok = true;

	if (!lat)
		return false;
	if (bk_readahead(k, 0))
		note("%s: readahead 0 failed: some swap-ins may read ahead",
		     backend_names[k->b]);
	if (region_map(&reg, k->b, ws)) {
		free(lat);
		return false;
	}
	swap_fill(&reg, &rate, &ok);
	ok &= swap_flush(&reg);
	region_dump_stats(&reg, "swapin-start");
	ok &= swapin_samples(&reg, o->samples, -1, 0, lat, &n, NULL, &np);
	region_dump_stats(&reg, "swapin");
	region_unmap(&reg);
	qsort(lat, n, sizeof(double), cmp_double);
	s->in_p50 = quantile(lat, n, 0.5);
	s->in_p99 = quantile(lat, n, 0.99);
	if (ok)
		cdf_side(k->b, "swapin-bench5", lat, n);
	free(lat);
	return ok && sane(s->in_p50, "swap-in p50") && sane(s->in_p99, "swap-in p99");
}

static void measure(enum backend b, const struct dopts *o, struct side *s)
{
	struct bk k;

	memset(s, 0, sizeof(*s));
	if (bk_start(&k, b, o->pool, o->pool * (o->ratio > 4 ? o->ratio : 4) + o->pool,
		     o->disk, ""))
		return;
	progress("%s: first touch: %zu single zero-fill faults", backend_names[b],
		 o->pool / 2);
	s->ok[0] = first_touch(b, o->pool / 2, s);
	progress("%s: swap-in: %zu single major faults over %zu pages", backend_names[b],
		 o->samples, o->pool * 4);
	s->ok[1] = swap_in(&k, o, s);
	bk_readahead(&k, 8);
	progress("%s: overcommit %lux %s, %lu pass(es)", backend_names[b], o->ratio,
		 o->pattern, o->passes);
	s->ok[2] = oc_measure(b, o->pool, o->ratio, o->pattern, o->passes, &s->oc_tput,
			      &s->oc_maj) && sane(s->oc_tput, "accesses/s");
	if (bk_stop(&k))
		s->ok[0] = s->ok[1] = s->ok[2] = false;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vmpbench daemon [-p POOL_PAGES] [-s SAMPLES] [-x RATIO]\n"
		"                       [-a seq|uniform|zipf] [-P PASSES]\n");
	exit(2);
}

int bench_daemon(int argc, char **argv)
{
	static const char *const cells[3] = { "daemon.firsttouch", "daemon.swapin",
					      "daemon.overcommit" };
	struct dopts o = { .pool = 4096, .samples = 1000, .ratio = 2, .passes = 1,
			   .pattern = "uniform" };
	struct side mod, dmn;
	char reason[512], fig[64];
	int c, i;

	while ((c = getopt(argc, argv, "p:s:x:a:P:")) != -1) {
		switch (c) {
		case 'p':
			o.pool = arg_ulong("-p", optarg, 1024, 1UL << 20);
			break;
		case 's':
			o.samples = arg_ulong("-s", optarg, 10, 1000000);
			break;
		case 'x':
			o.ratio = arg_ulong("-x", optarg, 2, 16);
			break;
		case 'a':
			o.pattern = optarg;
			break;
		case 'P':
			o.passes = arg_ulong("-P", optarg, 1, 100);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	out_init("daemon", 3);
	csv_header("daemon.csv",
		   "figure,unit,daemon,module,ratio");
	csv_header("swapin_cdf.csv", "backend,side,quantile,us");
	o.disk = disk_dir(reason, sizeof(reason));
	if (!o.disk || backend_probe(BK_DAEMON, reason, sizeof(reason)) ||
	    backend_probe(BK_KERNEL, reason, sizeof(reason))) {
		for (i = 0; i < 3; i++) {
			result_skip(cells[i] + 7, BK_DAEMON, reason);
			subtest_skip(cells[i], reason);
		}
		return out_finish();
	}
	measure(BK_KERNEL, &o, &mod);
	measure(BK_DAEMON, &o, &dmn);

	for (i = 0; i < 3; i++) {
		bool ok = mod.ok[i] && dmn.ok[i];
		double d[2], m[2];
		const char *unit = i < 2 ? "us" : "acc/s";

		if (!ok) {
			subtest(false, cells[i]);
			continue;
		}
		d[0] = i == 0 ? dmn.ft_p50 : i == 1 ? dmn.in_p50 : dmn.oc_tput;
		m[0] = i == 0 ? mod.ft_p50 : i == 1 ? mod.in_p50 : mod.oc_tput;
		d[1] = i == 0 ? dmn.ft_p99 : i == 1 ? dmn.in_p99 : dmn.oc_maj;
		m[1] = i == 0 ? mod.ft_p99 : i == 1 ? mod.in_p99 : mod.oc_maj;
		if (i < 2) {
			snprintf(fig, sizeof(fig), "daemon-%s-p50", i ? "swapin" : "firsttouch");
			result(fig, BK_DAEMON, unit, d[0], "module", m[0], "lower");
			csv_row("daemon.csv", "%s,%s,%.2f,%.2f,%.4f", fig, unit, d[0], m[0],
				d[0] / m[0]);
			snprintf(fig, sizeof(fig), "daemon-%s-p99", i ? "swapin" : "firsttouch");
			result(fig, BK_DAEMON, unit, d[1], "module", m[1], "lower");
			csv_row("daemon.csv", "%s,%s,%.2f,%.2f,%.4f", fig, unit, d[1], m[1],
				d[1] / m[1]);
		} else {
			snprintf(fig, sizeof(fig), "daemon-oc-%lux-%s", o.ratio, o.pattern);
			result(fig, BK_DAEMON, unit, d[0], "module", m[0], "higher");
			csv_row("daemon.csv", "%s,%s,%.1f,%.1f,%.4f", fig, unit, d[0], m[0],
				d[0] / m[0]);
			snprintf(fig, sizeof(fig), "daemon-oc-%lux-%s-majflt", o.ratio, o.pattern);
			if (m[1] > 0)
				result(fig, BK_DAEMON, "majflt/1k-acc", d[1], "module", m[1],
				       "lower");
		}
		subtest(true, cells[i]);
	}
	return out_finish();
}
