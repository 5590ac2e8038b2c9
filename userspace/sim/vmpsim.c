// SPDX-License-Identifier: GPL-2.0
/*
 * vmpsim: replay block reference traces through the vmpager paging policies
 * (the same module/policy sources the kernel module runs) and through
 * Belady's OPT, and print misses per policy and cache size.
 *
 * usage: vmpsim [-p POLICY[,POLICY...]|all] [-c SIZE[,SIZE...]]
 *		 [-f FORMAT] [--csv FILE] TRACE...
 *
 * A trace is text, one integer block number per line (a line holding only
 * '*' is a checkpoint marker and is skipped), libCacheSim's csv or
 * oracleGeneral, or a dump of vmpager's fault tracepoint (trace_read.h);
 * gzip'd or zstd'd if the name ends in .gz or .zst. Every reference to a
 * non-resident block is a miss, cold misses included.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_read.h"
#include "vmp_policy.h"

#define MAX_SIZES	32
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct trace {
	const char *path;
	char name[64];
	u64 *keys;		/* block numbers */
	u32 *ids;		/* dense ids 0..nids-1 */
	size_t n;
	u32 nids;
};

static const struct {
	const char *name;
	u32 size;
} default_sizes[] = {
	{ "multi1", 1000 }, { "multi2", 2000 }, { "gli", 1000 },
	{ "ps", 1000 }, { "cpp", 200 }, { "cs", 500 }, { "loop", 900 },
	{ "zigzag", 1000 }, { "2_pools", 1000 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmpsim [-p POLICY[,POLICY...]|all] [-c SIZE[,SIZE...]] [-f FORMAT] [--csv FILE] TRACE...\n"
		"       vmpsim -h|--help | -V|--version\n"
		"formats (-f): text, csv[:COL], oracleGeneral, tracepoint (default: from the name:\n"
		"  *.oracleGeneral* oracleGeneral, *.csv csv, else text; .gz and .zst are decompressed)\n"
		"policies:");
	for (int k = 0; k < VMP_POL_NR; k++)
		fprintf(f, " %s", vmp_policy_name(k));
	fprintf(f, " (default all; OPT is always run)\n"
		"without -c, known traces use their usual size:");
	for (size_t i = 0; i < ARRAY_SIZE(default_sizes); i++)
		fprintf(f, " %s@%u", default_sizes[i].name, default_sizes[i].size);
	fprintf(f, "\n");
}

/* ---- trace loading ------------------------------------------------------ */

/* Dense ids through an open-addressed hash on the block number. */
struct idmap {
	u64 *keys;
	u32 *vals;
	size_t mask;
};

static int idmap_init(struct idmap *m, size_t n)
{
	size_t sz = 16;

	while (sz < 2 * n)
		sz <<= 1;
	m->keys = malloc(sz * sizeof(*m->keys));
	m->vals = malloc(sz * sizeof(*m->vals));
	if (!m->keys || !m->vals)
		return -ENOMEM;
	memset(m->vals, 0xff, sz * sizeof(*m->vals));
	m->mask = sz - 1;
	return 0;
}

static u32 idmap_get(struct idmap *m, u64 key, u32 *next_id)
{
	size_t h = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 20) & m->mask;

	while (m->vals[h] != VMP_NIL) {
		if (m->keys[h] == key)
			return m->vals[h];
		h = (h + 1) & m->mask;
	}
	m->keys[h] = key;
	m->vals[h] = (*next_id)++;
	return m->vals[h];
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static void trace_name(struct trace *t)
{
	const char *base = strrchr(t->path, '/');
	char *dot;

	base = base ? base + 1 : t->path;
	snprintf(t->name, sizeof(t->name), "%s", base);
	if (ends_with(t->name, ".gz"))
		t->name[strlen(t->name) - 3] = 0;
	if (ends_with(t->name, ".zst"))
		t->name[strlen(t->name) - 4] = 0;
	if (ends_with(t->name, ".trace"))
		t->name[strlen(t->name) - 6] = 0;
	dot = strrchr(t->name, '.');
	if (dot && dot != t->name)
		*dot = 0;
	if (ends_with(t->name, ".oracleGeneral"))
		t->name[strlen(t->name) - 14] = 0;
}

static int trace_load(struct trace *t, const struct trace_fmt_opts *fo)
{
	struct idmap map;

	if (trace_read(t->path, fo, &t->keys, &t->n))
		return -1;
	t->ids = malloc(t->n * sizeof(*t->ids));
	if (!t->ids || idmap_init(&map, t->n)) {
		fprintf(stderr, "vmpsim: %s: out of memory\n", t->path);
		return -1;
	}
	t->nids = 0;
	for (size_t i = 0; i < t->n; i++)
		t->ids[i] = idmap_get(&map, t->keys[i], &t->nids);
	free(map.keys);
	free(map.vals);
	return 0;
}

/* ---- Belady's OPT ------------------------------------------------------- */

struct heap_ent {
	u64 next;	/* index of the next use; larger = evict first */
	u32 id;
};

static void heap_push(struct heap_ent *h, size_t *n, struct heap_ent e)
{
	size_t i = (*n)++;

	while (i) {
		size_t parent = (i - 1) / 2;

		if (h[parent].next >= e.next)
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = e;
}

static struct heap_ent heap_pop(struct heap_ent *h, size_t *n)
{
	struct heap_ent top = h[0], last = h[--(*n)];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1].next > h[c].next)
			c++;
		if (h[c].next <= last.next)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = last;
	return top;
}

/*
 * Demand-paging OPT: on a miss with a full cache, evict the resident block
 * whose next use is farthest (never used again counts as farthest). The next
 * uses come from one backward pass; stale heap entries (the block was hit
 * since, or evicted) are recognised by comparing with cur_next[].
 */
static long long run_opt(const struct trace *t, u32 size)
{
	u64 *next = malloc(t->n * sizeof(*next));
	u64 *last = malloc(t->nids * sizeof(*last));
	u64 *cur_next = malloc(t->nids * sizeof(*cur_next));
	bool *res = calloc(t->nids, sizeof(*res));
	struct heap_ent *h = malloc((t->n + 1) * sizeof(*h));
	size_t hn = 0;
	long long misses = -1;
	u32 used = 0;

	if (!next || !last || !cur_next || !res || !h)
		goto out;
	for (u32 i = 0; i < t->nids; i++)
		last[i] = (u64)t->n + i;	/* never again: beyond the end */
	for (size_t i = t->n; i-- > 0;) {
		next[i] = last[t->ids[i]];
		last[t->ids[i]] = i;
	}
	misses = 0;
	for (size_t i = 0; i < t->n; i++) {
		u32 id = t->ids[i];

		if (!res[id]) {
			misses++;
			if (used == size) {
				for (;;) {
					struct heap_ent e = heap_pop(h, &hn);

					if (res[e.id] && cur_next[e.id] == e.next) {
						res[e.id] = false;
						break;
					}
				}
			} else {
				used++;
			}
			res[id] = true;
		}
		cur_next[id] = next[i];
		heap_push(h, &hn, (struct heap_ent){ next[i], id });
	}
out:
	free(next);
	free(last);
	free(cur_next);
	free(res);
	free(h);
	return misses;
}

/* ---- the policies ------------------------------------------------------- */

static long long run_policy(const struct trace *t, enum vmp_policy_kind k,
			    u32 size)
{
	struct vmp_pnode *nodes = malloc((size_t)size * sizeof(*nodes));
	size_t msz = vmp_policy_mem_size(k, size);
	void *mem = msz ? malloc(msz) : NULL;
	u32 *where = malloc((size_t)t->nids * sizeof(*where));
	u64 *key_of = malloc((size_t)size * sizeof(*key_of));
	u32 *id_of = malloc((size_t)size * sizeof(*id_of));
	struct vmp_policy pol;
	long long misses = -1;
	u32 used = 0, f;

	if (!nodes || (msz && !mem) || !where || !key_of || !id_of)
		goto out;
	if (vmp_policy_init(&pol, k, size, nodes, sizeof(*nodes), mem))
		goto out;
	memset(where, 0xff, (size_t)t->nids * sizeof(*where));
	misses = 0;
	for (size_t i = 0; i < t->n; i++) {
		u32 id = t->ids[i];

		if (where[id] != VMP_NIL) {
			vmp_policy_reference(&pol, where[id]);
			continue;
		}
		misses++;
		if (used < size) {
			f = used++;
		} else {
			if (vmp_policy_victim(&pol, &f)) {
				fprintf(stderr, "vmpsim: %s: no victim with a full cache\n",
					vmp_policy_name(k));
				misses = -1;
				goto out;
			}
			vmp_policy_evicted(&pol, f, key_of[f]);
			where[id_of[f]] = VMP_NIL;
		}
		key_of[f] = t->keys[i];
		id_of[f] = id;
		where[id] = f;
		vmp_policy_insert(&pol, f, t->keys[i]);
	}
	if (k == VMP_POL_ADAPT && getenv("VMPSIM_ADAPT_DEBUG")) {
		struct vmp_adapt_info ai;

		vmp_policy_adapt_info(&pol, &ai);
		fprintf(stderr, "adaptive %u: leader %s, %llu switches\n", size,
			vmp_policy_name(ai.leader),
			(unsigned long long)ai.switches);
	}
out:
	free(nodes);
	free(mem);
	free(where);
	free(key_of);
	free(id_of);
	return misses;
}

/* ---- main --------------------------------------------------------------- */

static int parse_sizes(const char *arg, u32 *sizes, int *nsizes)
{
	char *copy = strdup(arg), *save = NULL, *tok, *end;
	int ret = 0;

	if (!copy)
		return -1;
	*nsizes = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned long v;

		errno = 0;
		v = strtoul(tok, &end, 10);
		if (errno || end == tok || *end || *tok == '-' || !v ||
		    v > 100000000UL || *nsizes == MAX_SIZES) {
			fprintf(stderr, "vmpsim: bad cache size '%s' (1..100000000, at most %d sizes)\n",
				tok, MAX_SIZES);
			ret = -1;
			break;
		}
		sizes[(*nsizes)++] = v;
	}
	if (!ret && !*nsizes) {
		fprintf(stderr, "vmpsim: bad cache size list '%s'\n", arg);
		ret = -1;
	}
	free(copy);
	return ret;
}

static int parse_policies(const char *arg, bool *want)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int ret = 0, k;

	if (!copy)
		return -1;
	memset(want, 0, VMP_POL_NR * sizeof(*want));
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			for (k = 0; k < VMP_POL_NR; k++)
				want[k] = true;
			continue;
		}
		if (!strcmp(tok, "opt"))
			continue;	/* always run */
		k = vmp_policy_by_name(tok);
		if (k < 0) {
			fprintf(stderr, "vmpsim: unknown policy '%s'\n", tok);
			usage(stderr);
			ret = -1;
			break;
		}
		want[k] = true;
	}
	free(copy);
	return ret;
}

static void print_ratio(FILE *f, long long m, long long opt)
{
	long long r = opt ? (m * 100 + opt / 2) / opt : 0;

	fprintf(f, "%lld.%02lld", r / 100, r % 100);
}

static void row(FILE *out, FILE *csv, const struct trace *t, u32 size,
		const char *pol, long long m, long long opt)
{
	fprintf(out, "%-10s %7u  %-6s %9lld  ", t->name, size, pol, m);
	print_ratio(out, m, opt);
	fputc('\n', out);
	if (csv) {
		fprintf(csv, "%s,%u,%s,%zu,%lld,", t->name, size, pol, t->n, m);
		print_ratio(csv, m, opt);
		fputc('\n', csv);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "csv", required_argument, NULL, 'C' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bool want[VMP_POL_NR];
	u32 sizes[MAX_SIZES], tsizes[MAX_SIZES];
	int nsizes = 0, ntsizes, opt, k, ret = 0;
	struct trace_fmt_opts fo = { .fmt = TF_AUTO };
	const char *csv_path = NULL;
	FILE *csv = NULL;

	for (k = 0; k < VMP_POL_NR; k++)
		want[k] = true;
	while ((opt = getopt_long(argc, argv, "p:c:f:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'V':
			printf("vmpsim %s\n", VMPAGER_RELEASE);
			return 0;
		case 'f':
			if (trace_fmt_parse(optarg, &fo))
				return 2;
			break;
		case 'p':
			if (parse_policies(optarg, want))
				return 2;
			break;
		case 'c':
			if (parse_sizes(optarg, sizes, &nsizes))
				return 2;
			break;
		case 'C':
			csv_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vmpsim: no trace given\n");
		usage(stderr);
		return 2;
	}
	if (csv_path) {
		csv = fopen(csv_path, "w");
		if (!csv) {
			fprintf(stderr, "vmpsim: %s: %s\n", csv_path, strerror(errno));
			return 1;
		}
		fprintf(csv, "trace,size,policy,refs,misses,ratio_to_opt\n");
	}
	for (int a = optind; a < argc; a++) {
		struct trace t = { .path = argv[a] };

		trace_name(&t);
		if (trace_load(&t, &fo)) {
			free(t.keys);
			free(t.ids);
			ret = 1;
			break;
		}
		if (nsizes) {
			memcpy(tsizes, sizes, sizeof(sizes));
			ntsizes = nsizes;
		} else {
			ntsizes = 0;
			for (size_t i = 0; i < ARRAY_SIZE(default_sizes); i++)
				if (!strcmp(t.name, default_sizes[i].name))
					tsizes[ntsizes++] = default_sizes[i].size;
			if (!ntsizes) {
				fprintf(stderr, "vmpsim: %s: no default cache size for trace '%s'; give -c\n",
					t.path, t.name);
				free(t.keys);
				free(t.ids);
				ret = 1;
				break;
			}
		}
		if (a == optind)
			printf("%-10s %7s  %-6s %9s  %s\n", "trace", "size", "policy",
			       "misses", "misses/OPT");
		for (int s = 0; s < ntsizes; s++) {
			long long om = run_opt(&t, tsizes[s]);

			if (om < 0) {
				fprintf(stderr, "vmpsim: out of memory\n");
				ret = 1;
				break;
			}
			row(stdout, csv, &t, tsizes[s], "opt", om, om);
			for (k = 0; k < VMP_POL_NR; k++) {
				long long m;

				if (!want[k])
					continue;
				m = run_policy(&t, k, tsizes[s]);
				if (m < 0) {
					fprintf(stderr, "vmpsim: %s failed\n", vmp_policy_name(k));
					ret = 1;
					break;
				}
				row(stdout, csv, &t, tsizes[s], vmp_policy_name(k), m, om);
			}
			fflush(stdout);
		}
		free(t.keys);
		free(t.ids);
		if (ret)
			break;
	}
	if (csv && fclose(csv)) {
		fprintf(stderr, "vmpsim: %s: %s\n", csv_path, strerror(errno));
		ret = 1;
	}
	return ret;
}
