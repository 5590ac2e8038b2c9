// SPDX-License-Identifier: GPL-2.0
/*
 * vmpwork: a verifying workload for /dev/vmpager. Maps an object of N pages,
 * has P processes write page-unique patterns in a chosen order (sequential,
 * uniform random or Zipfian), then reads every page back and checks it. It
 * prints what it did and what the module counted, and exits non-zero on any
 * corruption. A process killed by SIGBUS (pool exhausted, no reclaim) is
 * reported as such.
 *
 *   vmpwork [-n PAGES] [-p PROCS] [-P passes] [-m shared|private]
 *           [-a seq|rand|zipf] [-s SEED] [-q]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmpager.h"
#include "vmp_stat_names.h"
#include "vmp_zipf.h"

_Static_assert(sizeof(vmp_stat_names) / sizeof(vmp_stat_names[0]) ==
	       VMPAGER_NR_STATS, "stat names cover every counter");

#define PAGE 4096UL

enum access { ACC_SEQ, ACC_RAND, ACC_ZIPF };

struct opts {
	unsigned long pages;
	int procs;
	int passes;
	int shared;
	enum access access;
	uint64_t seed;
	int quiet;
};

/*
 * The order of one pass: sequential, uniform, or YCSB's Zipfian (theta
 * 0.99, hot ranks scattered over the object: vmp_zipf.h, as vmpbench's).
 */
static unsigned long pick(const struct opts *o, const struct zipf *z,
			  uint64_t *rng, unsigned long i)
{
	switch (o->access) {
	case ACC_SEQ:
		return i % o->pages;
	case ACC_RAND:
		return rng_next(rng) % o->pages;
	default:
		return zipf_next(z, rng);
	}
}

/* Every 8-byte word names its page, word, generation and seed. */
static uint64_t word(uint64_t seed, unsigned long page, unsigned int w,
		    uint32_t gen)
{
	return (seed << 48) ^ ((uint64_t)gen << 40) ^ ((uint64_t)page << 9) ^ w;
}

static void fill(uint64_t *p, uint64_t seed, unsigned long page, uint32_t gen)
{
	for (unsigned int w = 0; w < PAGE / 8; w++)
		p[w] = word(seed, page, w, gen);
}

/* A page never written (gen 0) must read as zeros: first touch zero-fills. */
static long check(const uint64_t *p, uint64_t seed, unsigned long page,
		  uint32_t gen)
{
	for (unsigned int w = 0; w < PAGE / 8; w++)
		if (p[w] != (gen ? word(seed, page, w, gen) : 0))
			return w;
	return -1;
}

static int global_info(int fd, struct vmpager_global_info *gi)
{
	if (ioctl(fd, VMPAGER_IOC_GLOBAL_INFO, gi) < 0) {
		fprintf(stderr, "vmpwork: VMPAGER_IOC_GLOBAL_INFO: %s\n",
			strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * Worker k owns the pages i with i % procs == k (so processes never race on
 * one page's contents) and writes them in the chosen order, then verifies.
 */
static int worker(const struct opts *o, const struct zipf *z, char *map,
		  int k)
{
	uint64_t rng = o->seed * 1000003 + k;
	unsigned long i, n = o->pages, bad = 0;
	uint32_t *gen = calloc(n, sizeof(*gen));

	if (!gen)
		return 2;
	for (int pass = 0; pass < o->passes; pass++) {
		for (i = 0; i < n; i++) {
			unsigned long pg = pick(o, z, &rng, i);

			if ((long)(pg % o->procs) != k)
				continue;
			gen[pg]++;
			fill((uint64_t *)(map + pg * PAGE), o->seed, pg, gen[pg]);
		}
	}
	for (i = k; i < n; i += o->procs) {
		long w = check((uint64_t *)(map + i * PAGE), o->seed, i,
			       gen[i]);

		if (w >= 0) {
			if (bad++ < 5)
				fprintf(stderr, "vmpwork[%d]: page %lu word %ld corrupt\n",
					k, i, w);
		}
	}
	free(gen);
	return bad ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: vmpwork [-n PAGES] [-p PROCS] [-P PASSES] [-m shared|private] [-a seq|rand|zipf] [-s SEED] [-q]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = { .pages = 8192, .procs = 2, .passes = 2, .shared = 1,
			  .access = ACC_SEQ, .seed = 1 };
	struct vmpager_global_info before, after;
	struct zipf zipf = { 0 };
	int fd, c, failed = 0, sigbus = 0;
	char *map;

	while ((c = getopt(argc, argv, "n:p:P:m:a:s:q")) != -1) {
		switch (c) {
		case 'n': o.pages = strtoul(optarg, NULL, 0); break;
		case 'p': o.procs = atoi(optarg); break;
		case 'P': o.passes = atoi(optarg); break;
		case 'm':
			if (!strcmp(optarg, "shared"))
				o.shared = 1;
			else if (!strcmp(optarg, "private"))
				o.shared = 0;
			else
				usage();
			break;
		case 'a':
			if (!strcmp(optarg, "seq"))
				o.access = ACC_SEQ;
			else if (!strcmp(optarg, "rand"))
				o.access = ACC_RAND;
			else if (!strcmp(optarg, "zipf"))
				o.access = ACC_ZIPF;
			else
				usage();
			break;
		case 's': o.seed = strtoull(optarg, NULL, 0); break;
		case 'q': o.quiet = 1; break;
		default: usage();
		}
	}
	if (!o.pages || o.procs < 1 || o.procs > 64 || o.passes < 1 ||
	    (o.access == ACC_ZIPF && o.pages < 3))
		usage();
	if (o.access == ACC_ZIPF)
		zipf_init(&zipf, o.pages, 0.99);
	if (!o.shared)
		o.procs = 1;	/* private copies are per process */

	fd = open(VMPAGER_DEVICE, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "vmpwork: open %s: %s (is vmpager.ko loaded?)\n",
			VMPAGER_DEVICE, strerror(errno));
		return 2;
	}
	if (global_info(fd, &before))
		return 2;
	map = mmap(NULL, o.pages * PAGE, PROT_READ | PROT_WRITE,
		   o.shared ? MAP_SHARED : MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "vmpwork: mmap %lu pages: %s\n", o.pages,
			strerror(errno));
		return 2;
	}
	printf("vmpwork: %lu pages (%lu MiB) %s, %d process(es), %s access, %d pass(es); pool %llu pages\n",
	       o.pages, o.pages * PAGE >> 20, o.shared ? "MAP_SHARED" : "MAP_PRIVATE",
	       o.procs, o.access == ACC_SEQ ? "sequential" :
	       o.access == ACC_RAND ? "random" : "zipf", o.passes,
	       (unsigned long long)before.pool_pages);
	fflush(stdout);

	for (int k = 0; k < o.procs; k++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("vmpwork: fork");
			return 2;
		}
		if (pid == 0)
			_exit(worker(&o, &zipf, map, k));
	}
	for (int k = 0; k < o.procs; k++) {
		int st;

		if (wait(&st) < 0)
			break;
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS)
			sigbus++;
		else if (!WIFEXITED(st) || WEXITSTATUS(st))
			failed++;
	}
	if (global_info(fd, &after))
		return 2;
	if (!o.quiet) {
		printf("vmpwork: counters during the run:\n");
		for (unsigned int i = 0; i < VMPAGER_NR_STATS && i < after.nr_stats; i++) {
			unsigned long long d = after.stats[i] - before.stats[i];

			if (d)
				printf("  %-16s %llu\n", vmp_stat_names[i], d);
		}
		printf("vmpwork: resident %llu of %llu frames, %llu free\n",
		       (unsigned long long)after.resident_pages,
		       (unsigned long long)after.pool_pages,
		       (unsigned long long)after.free_pages);
	}
	munmap(map, o.pages * PAGE);
	close(fd);
	if (failed) {
		printf("vmpwork: FAILED: %d process(es) found corrupt pages\n", failed);
		return 1;
	}
	if (sigbus) {
		printf("vmpwork: %d process(es) got SIGBUS: the pool ran out and nothing could be reclaimed\n",
		       sigbus);
		return 3;
	}
	printf("vmpwork: OK: every page verified\n");
	return 0;
}
