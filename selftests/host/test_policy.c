// SPDX-License-Identifier: GPL-2.0
/* Proves the paging policies evict what their definitions say, on hand-worked cases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest.h"
#include "vmp_policy.h"

/* Like vmpager's 32-byte frame descriptor: the pnode is embedded, stride 32. */
struct frame_desc {
	u64 owner;
	struct vmp_pnode node;
	u32 pad[3];
};

enum { F_FREE, F_HELD, F_DETACHED };

struct rig {
	struct vmp_policy p;
	struct frame_desc *fd;
	void *mem;
	u32 n;
	u8 *state;
	u64 *key;
	char why[160];
};

static int rig_init(struct rig *r, enum vmp_policy_kind k, u32 n)
{
	size_t msz = vmp_policy_mem_size(k, n);

	memset(r, 0, sizeof(*r));
	r->n = n;
	r->fd = malloc(n * sizeof(*r->fd));
	r->mem = msz ? malloc(msz) : NULL;
	r->state = calloc(n, 1);
	r->key = calloc(n, sizeof(*r->key));
	if (!r->fd || (msz && !r->mem) || !r->state || !r->key)
		return -1;
	/* garbage, to prove init and insert need no zeroed memory */
	memset(r->fd, 0xa5, n * sizeof(*r->fd));
	if (r->mem)
		memset(r->mem, 0x5a, msz);
	return vmp_policy_init(&r->p, k, n, &r->fd[0].node, sizeof(*r->fd),
			       r->mem);
}

static void rig_free(struct rig *r)
{
	free(r->fd);
	free(r->mem);
	free(r->state);
	free(r->key);
}

static struct vmp_pnode *node(struct rig *r, u32 f)
{
	return &r->fd[f].node;
}

#define FAIL(...) do { snprintf(r->why, sizeof(r->why), __VA_ARGS__); return -1; } while (0)

/*
 * The invariant checker: every held frame is on exactly one list (walked
 * through the introspection API), list lengths match, detached and free
 * frames are on none, ghosts are bounded; for LIRS the stack S is walked.
 */
static int check(struct rig *r)
{
	struct vmp_policy *p = &r->p;
	u32 *seen = calloc(r->n, sizeof(u32));
	u32 i, f, cnt, total = 0, detached = 0, prev;

	if (!seen)
		FAIL("oom");
	for (i = 0; i < vmp_policy_nr_lists(p); i++) {
		cnt = 0;
		prev = VMP_NIL;
		for (f = vmp_policy_list_first(p, i); f != VMP_NIL;
		     f = vmp_policy_list_next(p, f)) {
			if (f >= r->n || ++cnt > r->n) {
				free(seen);
				FAIL("list %u: bad frame %u or cycle", i, f);
			}
			if (seen[f]++) {
				free(seen);
				FAIL("frame %u on two lists", f);
			}
			if (node(r, f)->list != i || r->state[f] != F_HELD) {
				free(seen);
				FAIL("frame %u on list %u has list %u state %u", f,
				     i, node(r, f)->list, r->state[f]);
			}
			if (!(p->kind == VMP_POL_LIRS && i == 0) &&
			    p->kind != VMP_POL_CLOCKPRO &&
			    node(r, f)->prev != prev) {
				free(seen);
				FAIL("frame %u: prev %u, expected %u", f,
				     node(r, f)->prev, prev);
			}
			prev = f;
		}
		if (!(p->kind == VMP_POL_LIRS && i == 0) &&
		    p->kind != VMP_POL_CLOCKPRO && p->lists[i].tail != prev) {
			free(seen);
			FAIL("list %u: tail %u, last walked %u", i, p->lists[i].tail, prev);
		}
		if (cnt != vmp_policy_list_len(p, i)) {
			free(seen);
			FAIL("list %u: walked %u, len %u", i, cnt, vmp_policy_list_len(p, i));
		}
		total += cnt;
	}
	for (f = 0; f < r->n; f++) {
		if (r->state[f] == F_HELD && !seen[f]) {
			free(seen);
			FAIL("held frame %u on no list", f);
		}
		if (r->state[f] == F_DETACHED) {
			detached++;
			if (node(r, f)->list != VMP_PL_DETACHED) {
				free(seen);
				FAIL("detached frame %u has list %u", f, node(r, f)->list);
			}
		}
		if (r->state[f] == F_FREE && node(r, f)->list != VMP_PL_NONE &&
		    r->fd[f].node.list != 0xa5) {
			free(seen);
			FAIL("free frame %u has list %u", f, node(r, f)->list);
		}
	}
	free(seen);
	if (p->held != total + detached)
		FAIL("held %u != %u listed + %u detached", p->held, total, detached);
	if (vmp_policy_nr_ghosts(p) > p->nghost || p->nghost > r->n)
		FAIL("ghosts %u > bound %u", vmp_policy_nr_ghosts(p), p->nghost);
	if (p->kind == VMP_POL_LIRS) {
		u32 id, ghosts = 0, lir = 0, in_s = 0, steps = 0, last = VMP_NIL;

		for (id = p->s_top; id != VMP_NIL; id = p->slinks[id].next) {
			if (++steps > r->n + p->nghost)
				FAIL("S: cycle");
			if (p->slinks[id].prev != last)
				FAIL("S: node %u prev %u != %u", id, p->slinks[id].prev, last);
			last = id;
			if (id >= r->n) {
				ghosts++;
				continue;
			}
			if (node(r, id)->list == 0)
				lir++;
			else if (!(node(r, id)->flags & VMP_PN_IN_S))
				FAIL("S: frame %u without IN_S", id);
			in_s++;
		}
		if (p->s_bottom != last)
			FAIL("S: bottom %u != %u", p->s_bottom, last);
		if (last != VMP_NIL && (last >= r->n || node(r, last)->list != 0))
			FAIL("S: bottom %u is not LIR", last);
		if (ghosts != vmp_policy_nr_ghosts(p))
			FAIL("S: %u ghosts, table %u", ghosts, vmp_policy_nr_ghosts(p));
		if (lir != p->lists[0].len || lir > p->lir_max)
			FAIL("S: %u LIR, len %u max %u", lir, p->lists[0].len, p->lir_max);
		for (f = 0, cnt = 0; f < r->n; f++)
			if (r->state[f] != F_FREE && (node(r, f)->flags & VMP_PN_IN_S))
				cnt++;
		if (cnt != in_s)
			FAIL("S: %u frames, %u flagged IN_S", in_s, cnt);
	}
	return 0;
}

/*
 * The pager's part: replay @refs, evicting through the policy, using at
 * most @limit of the frames (fewer than the policy was sized for: a pager
 * under outside pressure).
 */
static long replay_limit(struct rig *r, const u64 *refs, size_t nrefs,
			 u64 *victims, size_t *nvict, u32 limit)
{
	long misses = 0;
	size_t i, nv = 0;
	u32 f, free_f;

	for (i = 0; i < nrefs; i++) {
		free_f = VMP_NIL;
		for (f = 0; f < r->n; f++) {
			if (r->state[f] == F_FREE && free_f == VMP_NIL &&
			    f < limit)
				free_f = f;
			if (r->state[f] == F_HELD && r->key[f] == refs[i])
				break;
		}
		if (f < r->n) {
			vmp_policy_reference(&r->p, f);
		} else {
			misses++;
			if (free_f != VMP_NIL) {
				f = free_f;
			} else {
				if (vmp_policy_victim(&r->p, &f))
					return -1;
				r->state[f] = F_DETACHED;
				if (check(r))
					return -1;
				vmp_policy_evicted(&r->p, f, r->key[f]);
				if (victims)
					victims[nv++] = r->key[f];
			}
			r->key[f] = refs[i];
			r->state[f] = F_HELD;
			vmp_policy_insert(&r->p, f, refs[i]);
		}
		if (check(r))
			return -1;
	}
	if (nvict)
		*nvict = nv;
	return misses;
}

static long replay(struct rig *r, const u64 *refs, size_t nrefs, u64 *victims,
		   size_t *nvict)
{
	return replay_limit(r, refs, nrefs, victims, nvict, r->n);
}

static bool same(const u64 *a, const u64 *b, size_t n)
{
	return !memcmp(a, b, n * sizeof(*a));
}

static const u64 anomaly[] = { 1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5 };
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define CP_HOT_LIST	0	/* vmp_policy_list_name(): "hot" */

static void test_fifo_belady_anomaly(void)
{
	struct rig r3, r4;
	long m3, m4;

	rig_init(&r3, VMP_POL_FIFO, 3);
	rig_init(&r4, VMP_POL_FIFO, 4);
	m3 = replay(&r3, anomaly, N(anomaly), NULL, NULL);
	m4 = replay(&r4, anomaly, N(anomaly), NULL, NULL);
	ksft_test_result(m3 == 9 && m4 == 10,
			 "fifo: Belady's anomaly, 9 misses with 3 frames, 10 with 4 (got %ld, %ld)%s\n",
			 m3, m4, m3 < 0 ? r3.why : r4.why);
	rig_free(&r3);
	rig_free(&r4);
}

/* 1 2 3 1 4 5 with 3 frames; who leaves, in order. */
static void test_victims(enum vmp_policy_kind k, const u64 *refs, size_t n,
			 const u64 *want, size_t nwant, long want_misses,
			 const char *what)
{
	u64 v[64];
	size_t nv = 0;
	struct rig r;
	long m;

	rig_init(&r, k, 3);
	m = replay(&r, refs, n, v, &nv);
	ksft_test_result(m == want_misses && nv == nwant && same(v, want, nv),
			 "%s: %s (misses %ld)%s\n", vmp_policy_name(k), what, m, r.why);
	rig_free(&r);
}

static void test_clock_second_chance(void)
{
	static const u64 refs[] = { 1, 2, 3, 1, 4, 5 };
	static const u64 clock_v[] = { 2, 3 }, fifo_v[] = { 1, 2 };
	static const u64 lru_refs[] = { 1, 2, 3, 1, 4, 2 }, lru_v[] = { 2, 3 };

	test_victims(VMP_POL_CLOCK, refs, N(refs), clock_v, 2, 5,
		     "second chance spares the referenced oldest page");
	test_victims(VMP_POL_FIFO, refs, N(refs), fifo_v, 2, 5,
		     "evicts the oldest page despite its reference");
	test_victims(VMP_POL_LRU, lru_refs, N(lru_refs), lru_v, 2, 5,
		     "evicts the least recently used page");
}

/*
 * LIRS with 3 frames (lir_max 2), by hand; S top first, g = ghost:
 *  1 2: LIR, S = 2 1.  3: HIR, S = 3 2 1, Q = 3.
 *  4: evict 3 (ghost), 4 HIR: S = 4 g3 2 1, Q = 4.
 *  3: evict 4 (ghost); g3 hit: 3 LIR, bottom LIR 1 demoted: S = 3 g4 2, Q = 1.
 *  1: hit, HIR not in S: S = 1 3 g4 2.  5: evict 1 (ghost), S = 5 g1 3 g4 2.
 * Victims 3 4 1, 6 misses, LIR {3, 2}, HIR {5}, 2 ghosts, 1 refault.
 */
static void test_lirs_hand(void)
{
	static const u64 refs[] = { 1, 2, 3, 4, 3, 1, 5 };
	static const u64 want[] = { 3, 4, 1 };
	u64 v[8];
	size_t nv = 0;
	struct rig r;
	long m;
	u32 f0, f1;
	bool ok;

	rig_init(&r, VMP_POL_LIRS, 3);
	m = replay(&r, refs, N(refs), v, &nv);
	f0 = vmp_policy_list_first(&r.p, 0);
	f1 = f0 == VMP_NIL ? VMP_NIL : vmp_policy_list_next(&r.p, f0);
	ok = m == 6 && nv == 3 && same(v, want, 3) &&
	     r.p.lists[0].len == 2 && r.p.lists[1].len == 1 &&
	     f0 != VMP_NIL && r.key[f0] == 3 && f1 != VMP_NIL && r.key[f1] == 2 &&
	     r.key[vmp_policy_list_first(&r.p, 1)] == 5 &&
	     vmp_policy_nr_ghosts(&r.p) == 2 && r.p.stats.refaults == 1;
	ksft_test_result(ok, "lirs: hand-worked 1 2 3 4 3 1 5: victims 3 4 1, LIR {3,2}, HIR {5}%s\n",
			 r.why);
	rig_free(&r);
}

static void test_lru2_promote_demote(void)
{
	struct rig r;
	u32 f, v = VMP_NIL;
	bool ok = true;

	rig_init(&r, VMP_POL_LRU2, 4);
	for (f = 0; f < 4; f++) {
		r.key[f] = 10 + f;
		r.state[f] = F_HELD;
		vmp_policy_insert(&r.p, f, 10 + f);
	}
	ok &= r.p.lists[1].len == 4 && r.p.lists[0].len == 0;
	vmp_policy_reference(&r.p, 0);
	ok &= r.p.lists[0].len == 0 && (node(&r, 0)->flags & VMP_PN_REF);
	vmp_policy_reference(&r.p, 0);		/* second reference: promote */
	ok &= r.p.lists[0].len == 1 && node(&r, 0)->list == 0;
	for (f = 1; f < 3; f++) {
		vmp_policy_reference(&r.p, f);
		vmp_policy_reference(&r.p, f);
	}
	ok &= r.p.lists[0].len == 3 && r.p.stats.activations == 3;
	ok &= !check(&r);
	/* inactive 1 < active 3: frame 0 (active tail) is demoted, 3 evicted */
	ok &= vmp_policy_victim(&r.p, &v) == 0 && v == 3;
	r.state[3] = F_DETACHED;
	ok &= r.p.stats.deactivations == 1 && node(&r, 0)->list == 1;
	ok &= !check(&r);
	vmp_policy_evicted(&r.p, 3, 13);
	r.state[3] = F_FREE;
	/* quick refault: distance 0 <= active size, goes straight to active */
	vmp_policy_insert(&r.p, 3, 13);
	r.state[3] = F_HELD;
	ok &= r.p.stats.refaults == 1 && node(&r, 3)->list == 0;
	ok &= !check(&r);
	ksft_test_result(ok, "lru2: promotion on 2nd reference, demotion when inactive is low, refault activation%s\n",
			 r.why);
	rig_free(&r);
}

/*
 * A hot set of 5 pages used 4 times over, then a one-time scan of 100 new
 * pages, then the hot set again: with 10 frames LRU has lost the hot set,
 * a scan-resistant policy keeps it.
 */
static void test_scan_resistance(enum vmp_policy_kind k, bool resists)
{
	u64 refs[200];
	size_t n = 0, i, j;
	long before, after;
	struct rig r;

	for (j = 0; j < 4; j++)
		for (i = 0; i < 5; i++)
			refs[n++] = i;
	for (i = 0; i < 100; i++)
		refs[n++] = 1000 + i;
	rig_init(&r, k, 10);
	before = replay(&r, refs, n, NULL, NULL);
	for (i = 0; i < 5; i++)
		refs[i] = i;
	after = replay(&r, refs, 5, NULL, NULL);
	if (resists)
		ksft_test_result(before == 105 && after == 0,
				 "%s: hot set survives a one-time scan (%ld, %ld misses)%s\n",
				 vmp_policy_name(k), before, after, r.why);
	else
		ksft_test_result(before == 105 && after == 5,
				 "%s: one-time scan flushes the hot set (%ld, %ld misses)%s\n",
				 vmp_policy_name(k), before, after, r.why);
	rig_free(&r);
}

/*
 * A pager that keeps @reserve frames free (background reclaim to its high
 * watermark): after each miss it evicts until that many are free again.
 */
static long replay_ahead(struct rig *r, const u64 *refs, size_t nrefs,
			 u32 reserve)
{
	long misses = 0;
	u32 f, held;
	size_t i;

	for (i = 0; i < nrefs; i++) {
		held = 0;
		for (f = 0; f < r->n; f++)
			held += r->state[f] == F_HELD;
		for (f = 0; f < r->n; f++)
			if (r->state[f] == F_HELD && r->key[f] == refs[i])
				break;
		if (f < r->n) {
			vmp_policy_reference(&r->p, f);
			continue;
		}
		misses++;
		for (f = 0; f < r->n && r->state[f] != F_FREE; f++)
			;
		if (f == r->n)
			return -1;
		r->key[f] = refs[i];
		r->state[f] = F_HELD;
		vmp_policy_insert(&r->p, f, refs[i]);
		for (held++; held > r->n - reserve; held--) {
			if (vmp_policy_victim(&r->p, &f))
				return -1;
			r->state[f] = F_DETACHED;
			vmp_policy_evicted(&r->p, f, r->key[f]);
			r->state[f] = F_FREE;
		}
		if (check(r))
			return -1;
	}
	return misses;
}

/*
 * LIRS under a pager that keeps frames free: told the reserve, it still
 * resists a scan (its 1% HIR share is sized for the frames it may hold);
 * without it, every new block would be LIR and LIRS would be LRU.
 */
static void test_lirs_reserve(void)
{
	u64 refs[400];
	size_t n = 0, i, j;
	long before, after;
	struct rig r;

	for (j = 0; j < 4; j++)
		for (i = 0; i < 20; i++)
			refs[n++] = i;
	for (i = 0; i < 300; i++)
		refs[n++] = 1000 + i;
	rig_init(&r, VMP_POL_LIRS, 32);
	vmp_policy_set_reserve(&r.p, 8);
	before = replay_ahead(&r, refs, n, 8);
	for (i = 0; i < 20; i++)
		refs[i] = i;
	after = replay_ahead(&r, refs, 20, 8);
	ksft_test_result(before == 320 && after == 0,
			 "lirs: reserve 8 of 32 frames kept free, the hot set survives a one-time scan (%ld, %ld misses)%s\n",
			 before, after, r.why);
	rig_free(&r);
}

/* vmp_policy_stats_add() adds every counter (a new one must be added there). */
static void test_stats_add(void)
{
	struct vmp_policy_stats a, b, twice;

	memset(&a, 0x11, sizeof(a));
	memset(&b, 0x11, sizeof(b));
	memset(&twice, 0x22, sizeof(twice));
	vmp_policy_stats_add(&a, &b);
	ksft_test_result(!memcmp(&a, &twice, sizeof(a)),
			 "vmp_policy_stats_add() adds every counter\n");
}

/* A random mix of every event, checked after each: lists stay consistent. */
static u64 rnd_state = 88172645463325252ULL;
static u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static int churn(struct rig *r, int steps, u32 keyspace, u32 *max_ghosts)
{
	u32 f, g;
	int s;

	for (s = 0; s < steps; s++) {
		u32 op = rnd() % 100;

		f = rnd() % r->n;
		if (op < 35) {			/* fault: insert somewhere */
			if (r->state[f] != F_FREE) {
				if (vmp_policy_victim(&r->p, &f)) {
					snprintf(r->why, sizeof(r->why), "no victim");
					return -1;
				}
				if (r->state[f] != F_HELD) {
					snprintf(r->why, sizeof(r->why), "victim %u not held", f);
					return -1;
				}
				r->state[f] = F_DETACHED;
				if (check(r))
					return -1;
				if (rnd() % 8 == 0) {
					vmp_policy_putback(&r->p, f);
					r->state[f] = F_HELD;
					continue;
				}
				if (rnd() % 8 == 0) {
					vmp_policy_requeue(&r->p, f);
					r->state[f] = F_HELD;
					continue;
				}
				vmp_policy_evicted(&r->p, f, r->key[f]);
				r->state[f] = F_FREE;
			}
			r->key[f] = rnd() % keyspace;
			r->state[f] = F_HELD;
			vmp_policy_insert(&r->p, f, r->key[f]);
		} else if (op < 90) {
			if (r->state[f] == F_HELD)
				vmp_policy_reference(&r->p, f);
		} else if (r->state[f] == F_HELD) {
			vmp_policy_remove(&r->p, f);
			r->state[f] = F_FREE;
		}
		if (check(r))
			return -1;
		g = vmp_policy_nr_ghosts(&r->p);
		if (g > *max_ghosts)
			*max_ghosts = g;
	}
	return 0;
}

static void test_churn(enum vmp_policy_kind k)
{
	u32 maxg = 0;
	struct rig r;
	int ret;

	rig_init(&r, k, 16);
	ret = churn(&r, 20000, 200, &maxg);
	ksft_test_result(!ret && maxg <= 16,
			 "%s: insert/reference/remove/victim/putback keep lists consistent, ghosts <= 16 (max %u)%s\n",
			 vmp_policy_name(k), maxg, r.why);
	rig_free(&r);
}

/* Fill policy @a, drain it into @b: every frame moves, hot ones stay hot. */
static void test_switch(enum vmp_policy_kind a, enum vmp_policy_kind b)
{
	struct rig r, s;
	u32 f, maxg = 0, moved = 0, order[32];
	bool ok = true;
	int ret;

	rig_init(&r, a, 32);
	rig_init(&s, b, 32);
	ret = churn(&r, 3000, 100, &maxg);
	/* resolve nothing: churn leaves no detached frame behind */
	while (!ret && vmp_policy_drain(&r.p, &f) == 0) {
		if (r.state[f] != F_HELD || moved >= 32) {
			ok = false;
			break;
		}
		r.state[f] = F_FREE;
		order[moved++] = f;
		s.key[f] = r.key[f];
		s.state[f] = F_HELD;
		vmp_policy_insert(&s.p, f, s.key[f]);
		if (check(&r) || check(&s)) {
			ok = false;
			break;
		}
	}
	ok &= !ret && r.p.held == 0 && s.p.held == moved;
	for (f = 0; f < 32; f++)
		ok &= r.state[f] == F_FREE;
	/* LRU to LRU keeps the order: the first drained is the first victim */
	if (ok && a == VMP_POL_LRU && b == VMP_POL_LRU && moved)
		ok &= vmp_policy_victim(&s.p, &f) == 0 && f == order[0];
	ksft_test_result(ok, "switch %s -> %s: drain moves all %u frames, coldest first%s%s\n",
			 vmp_policy_name(a), vmp_policy_name(b), moved, r.why, s.why);
	rig_free(&r);
	rig_free(&s);
}

/* Insert key @key into frame @f of @r. */
static void put(struct rig *r, u32 f, u64 key)
{
	r->state[f] = F_HELD;
	vmp_policy_insert(&r->p, f, key);
}

/* The next victim, evicted with @key: the frame, or VMP_NIL. */
static u32 evict_next(struct rig *r, u64 key)
{
	u32 f;

	if (vmp_policy_victim(&r->p, &f))
		return VMP_NIL;
	vmp_policy_evicted(&r->p, f, key);
	r->state[f] = F_FREE;
	return f;
}

/*
 * SIEVE by hand: frames stay where they were inserted, the hand sweeps
 * from the tail towards the head, clears marks as it passes and stays
 * where it stopped.
 */
static void test_sieve_hand(void)
{
	struct rig r;
	bool ok = true;

	rig_init(&r, VMP_POL_SIEVE, 4);
	put(&r, 0, 100);		/* A */
	put(&r, 1, 101);		/* B */
	put(&r, 2, 102);		/* C: head C B A tail */
	vmp_policy_reference(&r.p, 0);
	ok &= evict_next(&r, 101) == 1;	/* A's mark cleared, B taken */
	put(&r, 1, 103);		/* D at the head: D C A */
	ok &= evict_next(&r, 102) == 2;	/* the hand was at C */
	put(&r, 2, 104);		/* E: E D A, the hand at D */
	vmp_policy_reference(&r.p, 1);
	ok &= evict_next(&r, 104) == 2;	/* D's mark cleared, E taken */
	ok &= evict_next(&r, 100) == 0;	/* past the head: the tail, A */
	ok &= !check(&r) && r.p.stats.scans == 6;
	ksft_test_result(ok, "sieve: the hand sweeps tail to head, clears marks, keeps its place, wraps%s\n",
			 r.why);
	rig_free(&r);
}

/*
 * S3-FIFO by hand (10 frames: the small queue's share is 1): a frame used
 * on probation moves to main, one that was not leaves a ghost, a ghost's
 * key comes back into main, main's evictions leave none.
 */
static void test_s3fifo_hand(void)
{
	struct rig r;
	bool ok = true;

	rig_init(&r, VMP_POL_S3FIFO, 10);
	put(&r, 0, 1);
	put(&r, 1, 2);
	put(&r, 2, 3);			/* small: 3 2 1 */
	vmp_policy_reference(&r.p, 0);
	ok &= evict_next(&r, 2) == 1;	/* 1 to main, 2 out: ghost 2 */
	ok &= vmp_policy_nr_ghosts(&r.p) == 1 && r.p.stats.activations == 1;
	put(&r, 1, 2);			/* ghost hit: into main */
	ok &= r.p.stats.refaults == 1 && r.p.lists[1].len == 2;
	ok &= vmp_policy_nr_ghosts(&r.p) == 0;
	ok &= evict_next(&r, 3) == 2;	/* small's last: ghost 3 */
	vmp_policy_reference(&r.p, 0);
	vmp_policy_reference(&r.p, 0);
	ok &= evict_next(&r, 2) == 1;	/* main: 0 goes round (count 2 to 1), 1 out */
	ok &= vmp_policy_nr_ghosts(&r.p) == 1;	/* main leaves no ghost */
	ok &= evict_next(&r, 1) == 0;	/* its count ran out */
	ok &= !check(&r) && r.p.held == 0;
	ksft_test_result(ok, "s3fifo: probation, promotion on use, ghosts of the small queue only%s\n",
			 r.why);
	rig_free(&r);
}

/* requeue: a FIFO victim given another trip goes behind every other frame, unreferenced. */
static void test_requeue(void)
{
	struct rig r;
	bool ok = true;
	u32 f, i;

	rig_init(&r, VMP_POL_FIFO, 3);
	for (i = 0; i < 3; i++) {
		r.state[i] = F_HELD;
		vmp_policy_insert(&r.p, i, i);
	}
	ok &= vmp_policy_victim(&r.p, &f) == 0 && f == 0;
	vmp_policy_requeue(&r.p, 0);
	ok &= !check(&r);
	ok &= vmp_policy_victim(&r.p, &f) == 0 && f == 1;
	vmp_policy_evicted(&r.p, 1, 1);
	r.state[1] = F_FREE;
	ok &= vmp_policy_victim(&r.p, &f) == 0 && f == 2;
	vmp_policy_evicted(&r.p, 2, 2);
	r.state[2] = F_FREE;
	ok &= vmp_policy_victim(&r.p, &f) == 0 && f == 0;
	ok &= r.p.stats.requeues == 1 && r.p.stats.references == 0;
	/* requeue of a frame that is not detached is ignored */
	vmp_policy_requeue(&r.p, 1);
	ok &= r.p.stats.requeues == 1;
	ksft_test_result(ok, "fifo: requeue sends the victim behind the others, no reference counted\n");
	rig_free(&r);
}

/*
 * candidates(): after a random history, every frame named is held and on a
 * list, none twice, at most max; nothing changes; and the frame victim()
 * returns next is among them (CLOCK, LRU2, SIEVE and S3-FIFO: with every
 * frame a candidate, since their victim() passes over any number of frames
 * marked referenced; S3-FIFO's share per list must hold its longer list).
 */
static void test_candidates(enum vmp_policy_kind k)
{
	u32 out[128], n, i, j, f, round;
	u32 max = k == VMP_POL_CLOCK || k == VMP_POL_LRU2 || k == VMP_POL_SIEVE ? 64 :
		  k == VMP_POL_S3FIFO ? 128 : 4;
	struct vmp_policy_stats before;
	struct rig r;
	bool ok = true, found;

	rig_init(&r, k, 64);
	for (round = 0; round < 20 && ok; round++) {
		ok &= !churn(&r, 500, 300, &(u32){ 0 });
		before = r.p.stats;
		n = vmp_policy_candidates(&r.p, out, max);
		ok &= n <= max && (r.p.held ? n > 0 : n == 0);
		ok &= !memcmp(&before, &r.p.stats, sizeof(before)) && !check(&r);
		for (i = 0; i < n; i++) {
			ok &= out[i] < r.n && r.state[out[i]] == F_HELD;
			for (j = 0; j < i; j++)
				ok &= out[j] != out[i];
		}
		if (!r.p.held || vmp_policy_victim(&r.p, &f))
			continue;
		for (i = 0, found = false; i < n; i++)
			found |= out[i] == f;
		ok &= found;
		if (!found)
			snprintf(r.why, sizeof(r.why), " (victim %u not among %u candidates)",
				 f, n);
		vmp_policy_putback(&r.p, f);
	}
	ok &= vmp_policy_candidates(&r.p, out, 0) == 0;
	ksft_test_result(ok, "%s: candidates are held, distinct, at most max, change nothing, and include the next victim%s\n",
			 vmp_policy_name(k), r.why);
	rig_free(&r);
}

/*
 * CLOCK-Pro: a cold page evicted during its test period and faulted back
 * within it comes back hot (a refault, an activation).
 */
static void test_clockpro_test_period(void)
{
	static u64 refs[64];
	struct rig r;
	size_t n = 0, i;
	long m;
	u32 f, hot_before;
	bool ok;

	/* 8 frames: start-up fills the hot share (all but 1% = 7) */
	for (i = 0; i < 8; i++)
		refs[n++] = 100 + i;
	/* new pages: cold, in test; 200 is evicted and comes back soon */
	refs[n++] = 200;
	refs[n++] = 201;
	refs[n++] = 200;
	rig_init(&r, VMP_POL_CLOCKPRO, 8);
	m = replay(&r, refs, n, NULL, NULL);
	hot_before = r.p.lists[CP_HOT_LIST].len;
	for (f = 0; f < r.n && r.key[f] != 200; f++)
		;
	ok = m == 11 && r.p.stats.refaults == 1 && f < r.n &&
	     node(&r, f)->list == CP_HOT_LIST;
	ksft_test_result(ok,
			 "clockpro: a page back within its test period is hot (misses %ld, refaults %llu, hot %u)%s\n",
			 m, (unsigned long long)r.p.stats.refaults, hot_before,
			 r.why);
	rig_free(&r);
}

/*
 * adaptive in a pager that holds half the frames it was sized for: the
 * experts shrink to the real cache, so on a loop of 12 blocks in 10 frames
 * it still follows LIRS (and does not fall back to the least recently used
 * frame, which misses every reference of a loop).
 */
static void test_adapt_pressure(void)
{
	static u64 lp[100 * 12];
	struct rig r;
	long a, lirs, lru;
	size_t n = 0, i;

	for (i = 0; i < 100; i++)
		for (u64 b = 0; b < 12; b++)
			lp[n++] = b;
	rig_init(&r, VMP_POL_ADAPT, 20);
	a = replay_limit(&r, lp, n, NULL, NULL, 10);
	rig_free(&r);
	rig_init(&r, VMP_POL_LIRS, 10);
	lirs = replay(&r, lp, n, NULL, NULL);
	rig_free(&r);
	rig_init(&r, VMP_POL_LRU, 10);
	lru = replay(&r, lp, n, NULL, NULL);
	rig_free(&r);
	ksft_test_result(a > 0 && a * 100 <= lirs * 110 && lru == (long)n,
			 "adaptive: 10 of its 20 frames held, a loop of 12: %ld misses (lirs at 10: %ld, lru: %ld)\n",
			 a, lirs, lru);
}

static void test_names(void)
{
	bool ok = true;
	int k;

	for (k = 0; k < VMP_POL_NR; k++)
		ok &= vmp_policy_by_name(vmp_policy_name(k)) == k;
	ok &= vmp_policy_by_name("lr") == -1 && vmp_policy_by_name("lruu") == -1 &&
	      vmp_policy_by_name("") == -1 && vmp_policy_by_name(NULL) == -1;
	ok &= vmp_policy_mem_size(VMP_POL_FIFO, 1000) == 0 &&
	      vmp_policy_mem_size(VMP_POL_LIRS, 1000) > 0;
	ok &= VMP_POLICY_DEFAULT == VMP_POL_ADAPT;
	ksft_test_result(ok, "names round-trip, unknown names are -1, memory sizes\n");
}

static void test_empty(void)
{
	struct rig r;
	bool ok = true;
	u32 f;
	int k;

	for (k = 0; k < VMP_POL_NR; k++) {
		rig_init(&r, k, 1);
		ok &= vmp_policy_victim(&r.p, &f) == -1;
		ok &= vmp_policy_drain(&r.p, &f) == -1;
		r.key[0] = 7;
		r.state[0] = F_HELD;
		vmp_policy_insert(&r.p, 0, 7);
		ok &= vmp_policy_victim(&r.p, &f) == 0 && f == 0;
		r.state[0] = F_DETACHED;
		ok &= !check(&r);
		vmp_policy_evicted(&r.p, 0, 7);
		r.state[0] = F_FREE;
		ok &= !check(&r);
		vmp_policy_insert(&r.p, 0, 7);
		r.state[0] = F_HELD;
		ok &= !check(&r);
		rig_free(&r);
	}
	ksft_test_result(ok, "every policy: empty has no victim, a 1-frame pool works\n");
}

/*
 * adaptive: follows LRU on alternating scans (where LIRS misses far more)
 * and stays with LIRS on a loop larger than the cache (where LRU misses
 * every reference), within a few percent of the expert it follows.
 */
static long adapt_run(enum vmp_policy_kind k, const u64 *refs, size_t n,
		      struct vmp_adapt_info *info, const char **why)
{
	struct rig r;
	long m;

	rig_init(&r, k, 20);
	m = replay(&r, refs, n, NULL, NULL);
	if (info)
		vmp_policy_adapt_info(&r.p, info);
	*why = m < 0 ? "replay failed" : "";
	rig_free(&r);
	return m;
}

static void test_adapt(void)
{
	static u64 zz[60 * 40], lp[200 * 25];
	struct vmp_adapt_info ai, li;
	long a, lru, lirs, a2, lirs2, lru2;
	const char *why;
	size_t i, n = 0;

	for (i = 0; i < 60; i++)
		for (u64 b = 0; b < 40; b++)
			zz[n++] = i % 2 ? 39 - b : b;
	a = adapt_run(VMP_POL_ADAPT, zz, n, &ai, &why);
	lru = adapt_run(VMP_POL_LRU, zz, n, &li, &why);
	lirs = adapt_run(VMP_POL_LIRS, zz, n, NULL, &why);
	ksft_test_result(a > 0 && ai.leader == VMP_POL_LRU && ai.switches >= 1 &&
			 a * 100 <= lru * 110 && lirs > lru * 11 / 10 &&
			 li.leader == VMP_POL_NR && ai.nexperts == 3,
			 "adaptive: alternating scans: leader %s after %llu changes, %ld misses (lru %ld, lirs %ld)%s\n",
			 vmp_policy_name(ai.leader),
			 (unsigned long long)ai.switches, a, lru, lirs, why);
	for (i = 0, n = 0; i < 200; i++)
		for (u64 b = 0; b < 25; b++)
			lp[n++] = b;
	a2 = adapt_run(VMP_POL_ADAPT, lp, n, &ai, &why);
	lirs2 = adapt_run(VMP_POL_LIRS, lp, n, NULL, &why);
	lru2 = adapt_run(VMP_POL_LRU, lp, n, NULL, &why);
	ksft_test_result(a2 > 0 && ai.leader == VMP_POL_LIRS && !ai.switches &&
			 a2 * 100 <= lirs2 * 105 && lru2 == (long)n,
			 "adaptive: a loop larger than the cache: leader %s after %llu changes, %ld misses (lirs %ld, lru %ld)%s\n",
			 vmp_policy_name(ai.leader),
			 (unsigned long long)ai.switches, a2, lirs2, lru2, why);
}

int main(void)
{
	int k;

	ksft_print_header();
	ksft_set_plan(1 + 3 + 1 + 1 + 4 + VMP_POL_NR + 4 + 3 + VMP_POL_NR + 2 + 2 +
		      2 + 2 + 1);

	test_fifo_belady_anomaly();
	test_clock_second_chance();
	test_lirs_hand();
	test_lru2_promote_demote();
	test_scan_resistance(VMP_POL_LRU, false);
	test_scan_resistance(VMP_POL_CLOCK, false);
	test_scan_resistance(VMP_POL_ARC, true);
	test_scan_resistance(VMP_POL_LIRS, true);
	test_scan_resistance(VMP_POL_CLOCKPRO, true);
	test_clockpro_test_period();
	test_lirs_reserve();
	test_stats_add();
	for (k = 0; k < VMP_POL_NR; k++)
		test_churn(k);
	test_switch(VMP_POL_LRU, VMP_POL_LRU);
	test_switch(VMP_POL_LIRS, VMP_POL_LRU2);
	test_switch(VMP_POL_ARC, VMP_POL_LIRS);
	test_switch(VMP_POL_LRU2, VMP_POL_CLOCK);
	test_requeue();
	test_sieve_hand();
	test_s3fifo_hand();
	for (k = 0; k < VMP_POL_NR; k++)
		test_candidates(k);
	test_names();
	test_empty();
	test_adapt();
	test_adapt_pressure();
	ksft_finished();
}
