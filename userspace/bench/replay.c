// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark 6, module side: the policy traces replayed through vmpager.ko.
 * For a trace of D distinct blocks at cache size C, the module gets
 * pool_pages = C and a swap file, an object of D pages is mapped, and every
 * reference reads one word of its page. A miss is a fault that had to fill
 * the page (faults_zero + faults_major), cold misses included, as vmpsim
 * counts them. run.sh sets these beside vmpsim's misses for the same
 * policy and size (the same policy source, which sees every reference),
 * so the ratio shows what the module loses by seeing the references only
 * through ref_source: faults, soft-unmap aging, the PTE accessed bits
 * (harvested, module/vmp_harvest.c) or both. The watermarks are 0 0 0:
 * one eviction per allocation that finds no frame, the simulator's exact
 * cache. Each row also has the reclaim passes and the harvest's cost
 * (harvest_ns and harvest_ptes over them).
 *
 *   vmpbench replay [-b BACKENDS] [-d TRACEDIR] [-p POLICY[,POLICY...]]
 *                   [-r SOURCE[,SOURCE...]] [-H BATCH] [-c SIZE] [TRACE...]
 * SOURCE: a ref_source value (default soft-unmap,accessed; the daemon
 * backend has only faults and runs once). BATCH: harvest_batch.
 * TRACE is a name (cpp) looked up as TRACEDIR/NAME.trace.gz (default
 * TRACEDIR: bench-traces next to this program); without TRACE, every
 * *.trace.gz there. Sizes default to the traces' README sizes.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define MAX_TRACES	32
#define MAX_POLICIES	8
#define MAX_SOURCES	4

static const struct {
	const char *name;
	size_t size;
} readme_sizes[] = {
	{ "multi1", 1000 }, { "multi2", 2000 }, { "gli", 1000 }, { "ps", 1000 },
	{ "cpp", 200 }, { "cs", 500 }, { "loop", 900 }, { "zigzag", 1000 },
	{ "2_pools", 1000 },
};

struct trace {
	char name[64];
	uint32_t *ids;
	size_t n, distinct;
};

/* Dense ids 0..distinct-1 for the block numbers, in order of first use. */
static int trace_load(const char *dir, const char *name, struct trace *t)
{
	size_t cap = 1 << 16, hcap = 1 << 16, i, h;
	uint64_t *keys = NULL, key;
	uint32_t *vals = NULL;
	char cmd[PATH_MAX + 32], line[128];
	FILE *f;

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(cmd, sizeof(cmd), "zcat '%s/%s.trace.gz'", dir, name);
	f = popen(cmd, "r");
	if (!f)
		return -errno;
	t->ids = malloc(cap * sizeof(*t->ids));
	keys = malloc(hcap * sizeof(*keys));
	vals = malloc(hcap * sizeof(*vals));
	if (!t->ids || !keys || !vals)
		goto nomem;
	memset(vals, 0xff, hcap * sizeof(*vals));
	while (fgets(line, sizeof(line), f)) {
		char *end;

		if (line[0] == '*' || line[0] == '\n')
			continue;
		key = strtoull(line, &end, 10);
		if (end == line)
			continue;
		if (2 * t->distinct >= hcap) {	/* rehash at half full */
			size_t ncap = hcap * 2;
			uint64_t *nk = malloc(ncap * sizeof(*nk));
			uint32_t *nv = malloc(ncap * sizeof(*nv));

			if (!nk || !nv) {
				free(nk);
				free(nv);
				goto nomem;
			}
			memset(nv, 0xff, ncap * sizeof(*nv));
			for (i = 0; i < hcap; i++) {
				if (vals[i] == UINT32_MAX)
					continue;
				h = (keys[i] * 0x9e3779b97f4a7c15ULL >> 17) & (ncap - 1);
				while (nv[h] != UINT32_MAX)
					h = (h + 1) & (ncap - 1);
				nk[h] = keys[i];
				nv[h] = vals[i];
			}
			free(keys);
			free(vals);
			keys = nk;
			vals = nv;
			hcap = ncap;
		}
		h = (key * 0x9e3779b97f4a7c15ULL >> 17) & (hcap - 1);
		while (vals[h] != UINT32_MAX && keys[h] != key)
			h = (h + 1) & (hcap - 1);
		if (vals[h] == UINT32_MAX) {
			keys[h] = key;
			vals[h] = (uint32_t)t->distinct++;
		}
		if (t->n == cap) {
			uint32_t *n = realloc(t->ids, 2 * cap * sizeof(*n));

			if (!n)
				goto nomem;
			t->ids = n;
			cap *= 2;
		}
		t->ids[t->n++] = vals[h];
	}
	free(keys);
	free(vals);
	if (pclose(f) || !t->n) {
		free(t->ids);
		t->ids = NULL;
		return -EINVAL;
	}
	return 0;
nomem:
	pclose(f);
	free(keys);
	free(vals);
	free(t->ids);
	t->ids = NULL;
	return -ENOMEM;
}

static size_t default_size(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(readme_sizes); i++)
		if (!strcmp(name, readme_sizes[i].name))
			return readme_sizes[i].size;
	return 0;
}

static void default_dir(char *dir, size_t len)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		snprintf(dir, len, "bench-traces");
		return;
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	snprintf(dir, len, "%s/bench-traces", self);
}

/* Names of dir's *.trace.gz, sorted. */
static int list_traces(const char *dir, char names[][64], int max)
{
	struct dirent *de;
	int n = 0, i, j;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	while ((de = readdir(d)) && n < max) {
		size_t l = strlen(de->d_name);

		if (l <= 9 || l - 9 >= 64 || strcmp(de->d_name + l - 9, ".trace.gz"))
			continue;
		memcpy(names[n], de->d_name, l - 9);
		names[n++][l - 9] = '\0';
	}
	closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char tmp[64];

			memcpy(tmp, names[j], 64);
			memcpy(names[j], names[j - 1], 64);
			memcpy(names[j - 1], tmp, 64);
		}
	return n;
}

static bool replay_one(enum backend b, const struct trace *t, size_t size,
		       const char *policy, const char *src, const char *batch,
		       const char *disk)
{
	char extra[64];
	struct bk k;
	struct vmpager_global_info g0, g1;
	volatile uint64_t *p;
	uint64_t sum = 0, t0, t1, misses;
	size_t pool = size < 32 ? 32 : size, i;
	struct region reg;
	bool ok = true;

	snprintf(extra, sizeof(extra), "policy=%s", policy);
	if (bk_start(&k, b, pool, t->distinct + pool, disk, extra))
		return false;
	if (b != BK_DAEMON &&
	    (!check(!mod_debugfs_write("watermarks", "0 0 0"), "watermarks 0 0 0") ||
	     !check(!mod_debugfs_write("ref_source", src), "ref_source %s", src) ||
	     (batch && !check(!mod_debugfs_write("harvest_batch", batch),
			      "harvest_batch %s", batch)))) {
		bk_stop(&k);
		return false;
	}
	if (region_map(&reg, b, t->distinct)) {
		bk_stop(&k);
		return false;
	}
	p = (volatile uint64_t *)reg.addr;
	ok &= !region_stats_settled(&reg, &g0);
	t0 = now_ns();
	for (i = 0; i < t->n; i++)
		sum += p[(size_t)t->ids[i] * (PG / 8)];
	t1 = now_ns();
	ok &= !region_stats_settled(&reg, &g1);
	region_unmap(&reg);
	misses = DST(g0, g1, faults_zero) + DST(g0, g1, faults_major);
	/* Never written: every page reads as zero, and at least the cold misses. */
	ok &= check(sum == 0, "%s: pages read back non-zero", t->name);
	ok &= check(misses >= t->distinct && misses <= t->n,
		    "%s: %llu misses for %zu references to %zu blocks", t->name,
		    (unsigned long long)misses, t->n, t->distinct);
	if (ok)
		csv_row("replay.csv", "%s,%s,%zu,%zu,%s,%zu,%zu,%llu,%.3f,%s,%llu,%llu,%llu",
			t->name, backend_names[b], size, pool, policy, t->n,
			t->distinct, (unsigned long long)misses, (t1 - t0) / 1e9,
			b == BK_DAEMON ? "faults" : src,
			(unsigned long long)DST(g0, g1, reclaim_runs),
			(unsigned long long)DST(g0, g1, harvest_ns),
			(unsigned long long)DST(g0, g1, harvest_ptes));
	if (bk_stop(&k))
		ok = false;
	return ok;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vmpbench replay [-b kernel,uring,daemon|all] [-d TRACEDIR]\n"
		"                       [-p POLICY[,POLICY...]] [-r SOURCE[,SOURCE...]]\n"
		"                       [-H BATCH] [-c SIZE] [TRACE...]\n"
		"SOURCE: faults, soft-unmap, accessed or both (ref_source)\n");
	exit(2);
}

int bench_replay(int argc, char **argv)
{
	static char default_policy[] = "lirs", default_src[] = "soft-unmap,accessed";
	static const char *const src_names[] = { "faults", "soft-unmap", "accessed", "both" };
	char dir[PATH_MAX], reason[512], names[MAX_TRACES][64], batch[16] = "";
	char *policies[MAX_POLICIES], *pol_arg = NULL, *save = NULL, *tok;
	char *srcs[MAX_SOURCES], *src_arg = NULL;
	unsigned int mask = 1U << BK_KERNEL;
	int c, b, ti, pi, si, ntraces = 0, npol = 0, nsrc = 0, nrun;
	size_t j;
	size_t size_override = 0;
	const char *disk;

	default_dir(dir, sizeof(dir));
	while ((c = getopt(argc, argv, "b:d:p:r:H:c:")) != -1) {
		switch (c) {
		case 'b':
			if (parse_backends(optarg, &mask))
				usage();
			break;
		case 'd':
			snprintf(dir, sizeof(dir), "%s", optarg);
			break;
		case 'p':
			pol_arg = optarg;
			break;
		case 'r':
			src_arg = optarg;
			break;
		case 'H':
			snprintf(batch, sizeof(batch), "%lu", arg_ulong("-H", optarg, 0, 1024));
			break;
		case 'c':
			size_override = arg_ulong("-c", optarg, 1, 1UL << 24);
			break;
		default:
			usage();
		}
	}
	for (tok = strtok_r(pol_arg ? pol_arg : default_policy, ",", &save);
	     tok && npol < MAX_POLICIES; tok = strtok_r(NULL, ",", &save))
		policies[npol++] = tok;
	save = NULL;
	for (tok = strtok_r(src_arg ? src_arg : default_src, ",", &save);
	     tok && nsrc < MAX_SOURCES; tok = strtok_r(NULL, ",", &save)) {
		for (j = 0; j < sizeof(src_names) / sizeof(src_names[0]); j++)
			if (!strcmp(tok, src_names[j]))
				break;
		if (j == sizeof(src_names) / sizeof(src_names[0])) {
			fprintf(stderr, "vmpbench replay: -r: unknown source '%s'\n", tok);
			usage();
		}
		srcs[nsrc++] = tok;
	}
	if (optind < argc) {
		for (; optind < argc && ntraces < MAX_TRACES; optind++)
			snprintf(names[ntraces++], 64, "%s", argv[optind]);
	} else {
		ntraces = list_traces(dir, names, MAX_TRACES);
	}
	/* the daemon has no ref_source: it runs once per policy */
	nrun = 0;
	for (b = 0; b < BK_NR; b++)
		if (mask & (1U << b))
			nrun += b == BK_DAEMON ? 1 : nsrc;
	out_init("replay", (ntraces > 0 ? ntraces : 1) * npol * nrun);
	csv_header("replay.csv",
		   "trace,backend,size,pool_pages,policy,refs,distinct,module_misses,seconds,"
		   "ref_source,reclaim_passes,harvest_ns,harvest_ptes");
	disk = disk_dir(reason, sizeof(reason));
	if (ntraces <= 0 && disk)
		snprintf(reason, sizeof(reason), "no traces in %s (%s)", dir,
			 ntraces < 0 ? strerror(-ntraces) : "no *.trace.gz");
	if (ntraces <= 0 || !disk) {
		for (b = 0; b < BK_NR; b++)
			if (mask & (1U << b))
				skip_cells("replay", b, (ntraces > 0 ? ntraces : 1) * npol *
					   (b == BK_DAEMON ? 1 : nsrc), reason);
		return out_finish();
	}
	for (b = 0; b < BK_NR; b++) {
		if (!(mask & (1U << b)))
			continue;
		if (backend_probe(b, reason, sizeof(reason))) {
			skip_cells("replay", b, ntraces * npol * (b == BK_DAEMON ? 1 : nsrc),
				   reason);
			continue;
		}
		for (ti = 0; ti < ntraces; ti++) {
			struct trace t;
			size_t size = size_override ? size_override : default_size(names[ti]);
			int ret = trace_load(dir, names[ti], &t);
			char name[128];

			if (!size && !ret)
				size = t.distinct / 2 ? t.distinct / 2 : 1;
			for (pi = 0; pi < npol; pi++) {
				for (si = 0; si < (b == BK_DAEMON ? 1 : nsrc); si++) {
					snprintf(name, sizeof(name), "replay.%s.%s.%s.%s",
						 names[ti], policies[pi],
						 b == BK_DAEMON ? "faults" : srcs[si],
						 backend_names[b]);
					if (ret) {
						check(false, "loading trace %s/%s.trace.gz: %s",
						      dir, names[ti], strerror(-ret));
						subtest(false, name);
						continue;
					}
					progress("%s: %s, %zu references, %zu blocks, cache %zu, policy %s, references from %s",
						 backend_names[b], names[ti], t.n, t.distinct,
						 size, policies[pi], srcs[si]);
					subtest(replay_one(b, &t, size, policies[pi], srcs[si],
							   batch[0] ? batch : NULL, disk),
						name);
				}
			}
			free(t.ids);
		}
	}
	return out_finish();
}
