/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one random-number generator and Zipfian generator of the workloads
 * (vmpbench, vmpwork), header-only: splitmix64, and YCSB's Zipfian after
 * Gray et al., "Quickly generating billion-record synthetic databases"
 * (SIGMOD 1994), over n >= 3 items with skew theta (0.99 in YCSB): item r
 * (0-based) is drawn with probability proportional to 1 / (r + 1)^theta.
 * The ranks are scattered over 0..n-1 by a multiplicative permutation
 * r -> r * mult mod n, so that the hot items are not neighbours.
 * zipf_init() is O(n) (the zeta sum); zipf_next() takes one rng_next().
 * Link with -lm.
 */
#ifndef VMP_ZIPF_H
#define VMP_ZIPF_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* splitmix64 */
static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct zipf {
	size_t n;
	uint64_t mult;
	double zetan, theta, alpha, eta, half_pow;
};

static inline size_t zipf_gcd(size_t a, size_t b)
{
	while (b) {
		size_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static inline void zipf_init(struct zipf *z, size_t n, double theta)
{
	size_t i;

	memset(z, 0, sizeof(*z));
	z->n = n;
	z->mult = 2654435761ULL % n;
	while (z->mult < 2 || zipf_gcd(z->mult, n) != 1)
		z->mult = (z->mult + 1) % n;
	z->theta = theta;
	for (i = 1; i <= n; i++)
		z->zetan += 1.0 / pow((double)i, z->theta);
	z->alpha = 1.0 / (1.0 - z->theta);
	z->half_pow = 1.0 + pow(0.5, z->theta);
	z->eta = (1.0 - pow(2.0 / (double)n, 1.0 - z->theta)) /
		 (1.0 - z->half_pow / z->zetan);
}

static inline size_t zipf_next(const struct zipf *z, uint64_t *rng)
{
	double u, uz;
	size_t r;

	u = (double)(rng_next(rng) >> 11) / (double)(1ULL << 53);
	uz = u * z->zetan;
	if (uz < 1.0)
		r = 0;
	else if (uz < z->half_pow)
		r = 1;
	else
		r = (size_t)((double)z->n * pow(z->eta * u - z->eta + 1.0, z->alpha));
	if (r >= z->n)
		r = z->n - 1;
	return (size_t)(((unsigned __int128)r * z->mult) % z->n);
}

#endif /* VMP_ZIPF_H */
