// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark 2: first-touch zero-fill. Each round maps a fresh object (a new
 * /dev/vmpager open; for the baseline a fresh private anonymous mapping with
 * MADV_NOHUGEPAGE, so both sides fault 4 KiB pages) and writes one word of
 * every page: one zero-fill fault per page. The figure is the wall time per
 * page, median over rounds; vmpager and anonymous rounds alternate.
 *
 *   vmpbench touch [-b BACKENDS] [-n PAGES] [-r ROUNDS]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

/* Writes one word per page; returns ns per page. Checks the zero fill. */
static double first_touch(volatile uint64_t *p, size_t pages, bool *ok)
{
	uint64_t t0, t1;
	size_t i, bad = 0;

	t0 = now_ns();
	for (i = 0; i < pages; i++)
		p[i * (PG / 8)] = i + 1;
	t1 = now_ns();
	/* Fresh memory reads as zero past the word written. */
	for (i = 0; i < pages; i++)
		if (p[i * (PG / 8)] != i + 1 || p[i * (PG / 8) + 1] != 0)
			bad++;
	*ok &= check(!bad, "%zu of %zu first-touched pages are not zero-filled", bad,
		     pages);
	return (double)(t1 - t0) / (double)pages;
}

static void run_backend(enum backend b, size_t pages, int rounds)
{
	double *vns = calloc(rounds, sizeof(double)), *ans = calloc(rounds, sizeof(double));
	struct vmpager_global_info g0, g1;
	unsigned long long around;
	double vmp_ns, anon_ns;
	struct region reg;
	bool ok = true;
	char name[64];
	int n;

	if (!vns || !ans)
		exit(1);
	snprintf(name, sizeof(name), "touch.%s", backend_names[b]);
	progress("%s: %d rounds of %zu first touches, vmpager and anonymous alternating",
		 backend_names[b], rounds, pages);
	for (n = 0; n < rounds; n++) {
		char *anon;

		if (region_map(&reg, b, pages)) {
			ok = false;
			break;
		}
		ok &= !region_stats_settled(&reg, &g0);
		around = region_daemon_stat(&reg, "fault_around");
		vns[n] = first_touch((volatile uint64_t *)reg.addr, pages, &ok);
		ok &= !region_stats_settled(&reg, &g1);
		/* the daemon maps runs of pages around a fault (fault_around) */
		around = region_daemon_stat(&reg, "fault_around") - around;
		region_unmap(&reg);
		ok &= check(DST(g0, g1, faults_zero) + around == pages,
			    "vmpager counted %llu zero-fill faults and %llu pages mapped around them for %zu first touches",
			    (unsigned long long)DST(g0, g1, faults_zero), around, pages);
		ok &= check(DST(g0, g1, faults_major) == 0 &&
			    DST(g0, g1, swap_outs) == 0,
			    "pool too small: %llu swap-outs during first touch",
			    (unsigned long long)DST(g0, g1, swap_outs));

		anon = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (anon == MAP_FAILED) {
			printf("check failed: mmap anonymous: %s\n", strerror(errno));
			exit(1);
		}
		/* THP is "always" on Debian: compare 4 KiB faults with 4 KiB faults. */
		madvise(anon, pages * PG, MADV_NOHUGEPAGE);
		ans[n] = first_touch((volatile uint64_t *)anon, pages, &ok);
		munmap(anon, pages * PG);
	}
	if (ok && b != BK_DAEMON) {
		/* Every frame came back to the pool when the objects went. */
		if (region_map(&reg, b, 1) || region_stats(&reg, &g1)) {
			ok = false;
		} else {
			ok &= check(g1.free_pages == g1.pool_pages,
				    "%llu of %llu frames free after the objects were closed",
				    (unsigned long long)g1.free_pages,
				    (unsigned long long)g1.pool_pages);
		}
		region_unmap(&reg);
	}
	vmp_ns = ok ? median(vns, rounds) : 0;
	anon_ns = ok ? median(ans, rounds) : 0;
	ok = ok && sane(vmp_ns, "vmpager ns/page") && sane(anon_ns, "anonymous ns/page");
	if (ok) {
		csv_row("touch.csv", "%s,%zu,%d,%.1f,%.1f,%.4f", backend_names[b], pages,
			rounds, vmp_ns, anon_ns, vmp_ns / anon_ns);
		result("first-touch", b, "ns/page", vmp_ns, "anon", anon_ns, "lower");
	}
	subtest(ok, name);
	free(vns);
	free(ans);
}

static void usage(void)
{
	fprintf(stderr, "usage: vmpbench touch [-b kernel,uring,daemon|all] [-n PAGES] [-r ROUNDS]\n");
	exit(2);
}

int bench_touch(int argc, char **argv)
{
	unsigned int mask = (1U << BK_NR) - 1;
	size_t pages = 16384;
	int c, b, rounds = 5;
	char reason[512];
	const char *disk;
	struct bk k;

	while ((c = getopt(argc, argv, "b:n:r:")) != -1) {
		switch (c) {
		case 'b':
			if (parse_backends(optarg, &mask))
				usage();
			break;
		case 'n':
			pages = arg_ulong("-n", optarg, 16, 1UL << 22);
			break;
		case 'r':
			rounds = (int)arg_ulong("-r", optarg, 1, 1000);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	out_init("touch", __builtin_popcount(mask));
	csv_header("touch.csv", "backend,pages,rounds,vmp_ns_per_page,anon_ns_per_page,ratio");
	disk = disk_dir(reason, sizeof(reason));
	for (b = 0; b < BK_NR; b++) {
		if (!(mask & (1U << b)))
			continue;
		if (backend_probe(b, reason, sizeof(reason))) {
			skip_cells("first-touch", b, 1, reason);
			continue;
		}
		/* No swap needed: the pool holds every page. */
		if (bk_start(&k, b, pages + pages / 8 + 256, 0, disk, "")) {
			fail_cells("first-touch", b, 1);
			continue;
		}
		run_backend(b, pages, rounds);
		bk_stop(&k);
	}
	return out_finish();
}
