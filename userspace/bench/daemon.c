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
 * Beside the daemon's swap-ins, on its swap file, the floor of any
 * userfaultfd pager for the same isolated faults (uffd_floor.c, subtest
 * daemon.swapin-floor): a handler process that does nothing but one raw
 * 4 KiB O_DIRECT read and one UFFDIO_COPY per fault, the client sleeping
 * 1 ms between touches as the samples' stats queries make it. The handler
 * spins on the userfaultfd (the least any pager pays) or sleeps in poll()
 * (a pager that does not keep a CPU spinning, as vmpagerd after poll_us):
 *   daemon-swapin-floor-spin-p50, -sleep-p50   each floor against the module
 *   daemon-swapin-p50-vs-floor                 the daemon's p50 over the
 *                                              spinning floor's: what the
 *                                              daemon adds to it
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
#define FLOOR_GAP_US	1000

struct side {
	double ft_p50, ft_p99, in_p50, in_p99, oc_tput, oc_maj;
	bool ok[NFIG];		/* first touch, swap-in, overcommit */
	/* the daemon's side: the userfaultfd floor, [0] spinning, [1] sleeping */
	double fl_p50[2], fl_p99[2];
	bool fl_ok;
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

/* The floor of a userfaultfd pager for isolated swap-ins, on @path. */
static bool swapin_floor(const struct dopts *o, const char *path, size_t written,
			 struct side *s)
{
	struct floor_opts f = { .path = path, .pages = written, .samples = o->samples,
				.process = true, .read = true, .gap_us = FLOOR_GAP_US };
	double mean;
	int i;

	for (i = 0; i < 2; i++) {
		f.sleep = i;
		progress("daemon: userfaultfd floor: %zu isolated faults, the handler %s",
			 o->samples, i ? "sleeping" : "spinning");
		if (!uffd_floor(&f, &s->fl_p50[i], &s->fl_p99[i], &mean))
			return false;
	}
	return true;
}

static bool swap_in(struct bk *k, const struct dopts *o, struct side *s)
{
	size_t ws = o->pool * 4, n, np, outs;
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
	outs = swap_fill(&reg, &rate, &ok);
	ok &= swap_flush(&reg);
	region_dump_stats(&reg, "swapin-start");
	ok &= swapin_samples(&reg, o->samples, -1, 0, lat, &n, NULL, &np);
	region_dump_stats(&reg, "swapin");
	region_unmap(&reg);
	/* slots are taken next-fit from the first: the fill wrote the first @outs */
	if (ok && k->b == BK_DAEMON)
		s->fl_ok = check(outs > 0, "the fill wrote nothing to swap: no floor to measure") &&
			   swapin_floor(o, k->swap, outs, s);
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

/* The floors against the module, and the daemon against the spinning one. */
static void report_floor(const struct side *mod, const struct side *dmn)
{
	static const char *const names[2] = { "spin", "sleep" };
	char fig[64];
	int i;

	if (!dmn->fl_ok || !mod->ok[1] || !dmn->ok[1]) {
		subtest(false, "daemon.swapin-floor");
		return;
	}
	for (i = 0; i < 2; i++) {
		snprintf(fig, sizeof(fig), "daemon-swapin-floor-%s-p50", names[i]);
		result(fig, BK_DAEMON, "us", dmn->fl_p50[i], "module", mod->in_p50, "lower");
		csv_row("daemon.csv", "%s,us,%.2f,%.2f,%.4f", fig, dmn->fl_p50[i], mod->in_p50,
			dmn->fl_p50[i] / mod->in_p50);
		snprintf(fig, sizeof(fig), "daemon-swapin-floor-%s-p99", names[i]);
		csv_row("daemon.csv", "%s,us,%.2f,%.2f,%.4f", fig, dmn->fl_p99[i], mod->in_p99,
			dmn->fl_p99[i] / mod->in_p99);
	}
	result("daemon-swapin-p50-vs-floor", BK_DAEMON, "us", dmn->in_p50,
	       "uffd-floor-spin-p50", dmn->fl_p50[0], "lower");
	csv_row("daemon.csv", "daemon-swapin-p50-vs-floor,us,%.2f,%.2f,%.4f", dmn->in_p50,
		dmn->fl_p50[0], dmn->in_p50 / dmn->fl_p50[0]);
	subtest(true, "daemon.swapin-floor");
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
	out_init("daemon", 4);
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
		result_skip("daemon-swapin-floor-spin-p50", BK_DAEMON, reason);
		result_skip("daemon-swapin-floor-sleep-p50", BK_DAEMON, reason);
		result_skip("daemon-swapin-p50-vs-floor", BK_DAEMON, reason);
		subtest_skip("daemon.swapin-floor", reason);
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
	report_floor(&mod, &dmn);
	return out_finish();
}
