// SPDX-License-Identifier: GPL-2.0
/*
 * Trace replay over the device: the module's misses equal the policy core's
 * own simulation of the same trace at the same cache size.
 *
 * Each reference of a trace (userspace/sim/traces, copied decompressed into
 * /tests/traces by the Makefile) reads one page of a mapping and then zaps
 * its PTE with MADV_DONTNEED, so every reference is a fault the module sees:
 * minor (a hit: a reference for the policy) or zero-fill (a miss). The pool
 * is the cache: pool_pages = cache size, watermarks 0 0 0 (no background
 * reclaim; one eviction per miss, as in the simulator), ref_source faults
 * (every reference is already a fault). Pages are only read, so evictions
 * drop zero pages and no I/O is needed. Block numbers are renumbered densely
 * in order of first use; the policy sees keys, so this changes nothing.
 * The expected misses come from the same policy source (module/policy/)
 * driven the way userspace/sim/vmpsim drives it.
 */
#include "vmp_test.h"
#include "vmp_policy.h"

#define TRACE_DIR	"traces"

struct trace {
	uint32_t *ids;		/* dense page index per reference */
	size_t n;
	uint32_t distinct;
};

static int trace_load(const char *name, struct trace *t)
{
	char path[256], line[64];
	uint64_t *blocks = NULL;	/* distinct block numbers, first-use order */
	size_t cap = 0, bcap = 0, i;
	FILE *f;

	snprintf(path, sizeof(path), TRACE_DIR "/%s.trace", name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	memset(t, 0, sizeof(*t));
	while (fgets(line, sizeof(line), f)) {
		uint64_t b;
		char *end;

		if (line[0] == '*' || line[0] == '\n')
			continue;
		b = strtoull(line, &end, 10);
		if (end == line)
			continue;
		/* linear search is fine for a few thousand blocks */
		for (i = 0; i < t->distinct && blocks[i] != b; i++)
			;
		if (i == t->distinct) {
			if (t->distinct == bcap) {
				bcap = bcap ? 2 * bcap : 1024;
				blocks = realloc(blocks, bcap * sizeof(*blocks));
			}
			blocks[t->distinct++] = b;
		}
		if (t->n == cap) {
			cap = cap ? 2 * cap : 4096;
			t->ids = realloc(t->ids, cap * sizeof(*t->ids));
		}
		t->ids[t->n++] = i;
	}
	fclose(f);
	free(blocks);
	return t->n ? 0 : -ENODATA;
}

/* The simulator's loop over the policy core (userspace/sim/vmpsim.c). */
static long simulate(int kind, const struct trace *t, uint32_t size)
{
	struct { uint64_t pad; struct vmp_pnode pn; } *nodes;
	uint32_t *where, *id_of, used = 0, f;
	struct vmp_policy pol;
	void *mem = NULL;
	long misses = 0;
	size_t i, msz = vmp_policy_mem_size(kind, size);

	nodes = calloc(size, sizeof(*nodes));
	where = malloc(t->distinct * sizeof(*where));
	id_of = calloc(size, sizeof(*id_of));
	if (msz)
		mem = malloc(msz);
	if (!nodes || !where || !id_of || (msz && !mem) ||
	    vmp_policy_init(&pol, kind, size, &nodes[0].pn, sizeof(*nodes), mem))
		return -1;
	memset(where, 0xff, t->distinct * sizeof(*where));
	for (i = 0; i < t->n; i++) {
		uint32_t id = t->ids[i];

		if (where[id] != VMP_NIL) {
			vmp_policy_reference(&pol, where[id]);
			continue;
		}
		misses++;
		if (used < size) {
			f = used++;
		} else {
			if (vmp_policy_victim(&pol, &f))
				return -1;
			vmp_policy_evicted(&pol, f, id_of[f]);
			where[id_of[f]] = VMP_NIL;
		}
		id_of[f] = id;
		where[id] = f;
		vmp_policy_insert(&pol, f, id);
	}
	free(nodes);
	free(where);
	free(id_of);
	free(mem);
	return misses;
}

FIXTURE(replay) {
	int dummy;
};

FIXTURE_VARIANT(replay) {
	const char *policy;
};

FIXTURE_VARIANT_ADD(replay, fifo) { .policy = "fifo" };
FIXTURE_VARIANT_ADD(replay, clock) { .policy = "clock" };
FIXTURE_VARIANT_ADD(replay, lru) { .policy = "lru" };
FIXTURE_VARIANT_ADD(replay, lru2) { .policy = "lru2" };
FIXTURE_VARIANT_ADD(replay, arc) { .policy = "arc" };
FIXTURE_VARIANT_ADD(replay, lirs) { .policy = "lirs" };
FIXTURE_VARIANT_ADD(replay, sieve) { .policy = "sieve" };
FIXTURE_VARIANT_ADD(replay, s3fifo) { .policy = "s3fifo" };
FIXTURE_VARIANT_ADD(replay, clockpro) { .policy = "clockpro" };
FIXTURE_VARIANT_ADD(replay, adaptive) { .policy = "adaptive" };

FIXTURE_SETUP(replay) { }
FIXTURE_TEARDOWN(replay)
{
	if (vmp_loaded())
		vmp_unload();
}

static void replay_one(struct __test_metadata *_metadata, const char *policy,
		       const char *name, uint32_t size)
{
	struct vmpager_global_info a, b;
	struct trace t;
	char params[128];
	long expect, got;
	volatile char *p;
	size_t i;
	int fd, r;

	r = trace_load(name, &t);
	ASSERT_EQ(0, r) TH_LOG("loading " TRACE_DIR "/%s.trace (copied from userspace/sim/traces by the build): %s",
			       name, strerror(-r));
	expect = simulate(vmp_policy_by_name(policy), &t, size);
	ASSERT_LT(0, expect);

	snprintf(params, sizeof(params), "pool_pages=%u policy=%s", size, policy);
	ASSERT_EQ(0, vmp_load(params));
	ASSERT_EQ(0, vmp_write_file(VMP_DEBUGFS "/watermarks", "0 0 0"));
	ASSERT_EQ(0, vmp_write_file(VMP_DEBUGFS "/ref_source", "faults"));
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, t.distinct, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, (void *)p);
	ASSERT_EQ(0, vmp_global_fd(fd, &a));
	for (i = 0; i < t.n; i++) {
		volatile char *q = p + (size_t)t.ids[i] * PG;

		(void)*q;
		madvise((void *)q, PG, MADV_DONTNEED);
	}
	ASSERT_EQ(0, vmp_global_fd(fd, &b));
	got = DST(a, b, faults_zero) + DST(a, b, faults_major);
	TH_LOG("%s %s@%u: %zu refs, module misses %ld, simulator %ld",
	       policy, name, size, t.n, got, expect);
	EXPECT_EQ((__u64)t.n, DST(a, b, faults));
	EXPECT_EQ(0ULL, DST(a, b, oom_sigbus));
	/* the issue allows 2%; the two should agree exactly */
	EXPECT_GE(expect * 2, labs(got - expect) * 100);
	munmap((void *)p, (size_t)t.distinct * PG);
	close(fd);
	EXPECT_EQ(0, vmp_unload());
	free(t.ids);
}

TEST_F(replay, cpp_200) { replay_one(_metadata, variant->policy, "cpp", 200); }
TEST_F(replay, cs_500) { replay_one(_metadata, variant->policy, "cs", 500); }

/*
 * The adaptive policy on zigzag at half its distinct blocks: LIRS misses
 * 1.9x LRU there, and the adaptive policy must hand the lead to its LRU
 * expert in the module as it does in the simulator (within 5% of LRU).
 */
TEST(adaptive_follows_lru_on_zigzag)
{
	struct trace t;
	long lru;

	replay_one(_metadata, "adaptive", "zigzag", 1000);
	ASSERT_EQ(0, trace_load("zigzag", &t));
	lru = simulate(vmp_policy_by_name("lru"), &t, 1000);
	EXPECT_LT(0, lru);
	EXPECT_GE(lru * 105, simulate(vmp_policy_by_name("adaptive"), &t,
				      1000) * 100);
	free(t.ids);
}

TEST_HARNESS_MAIN
