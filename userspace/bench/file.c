// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark 8: file-backed objects (VMPAGER_IOC_MAP_FILE) on the scratch
 * disk. A file of W pages is paged through M = W / RATIO pages of memory
 * (RATIO 4 by default) in three phases timed one by one:
 *
 *   seq      every page read in order, every 8-byte word verified;
 *   uniform  W reads of independent uniform pages, every word verified;
 *   write    W / 2 writes of uniform pages (every word, with the value it
 *            already holds, so the file stays the same for the next side),
 *            then msync(MS_SYNC) of the whole file: the time includes the
 *            write-back of every page still dirty.
 *
 * The sides, each in a fresh child process with the same access sequences
 * (the same seed), the file's page cache dropped before each:
 *
 *   bio      vmpager.ko, pool_pages = M, the file bound with block-level
 *            I/O (the default on a whole ext4 file; checked: VMPAGER_OBJ_BIO);
 *   cached   the same with VMPAGER_FILE_CACHED: through the file's page cache,
 *            by the vmpager_io worker;
 *   kernel   the file mmap'ed MAP_SHARED by the kernel itself, the child in
 *            a cgroup v2 with memory.max = M pages (the page cache is
 *            charged to it): the kernel's own file paging at equal memory,
 *            with its read-ahead and fault-around as they come.
 *
 * After the phases, SAMPLES random 4 KiB O_DIRECT preads of the file give
 * the device limit, odirect-pread-4k. After each phase the pages of the
 * file in the kernel's page cache are counted (mincore): the cached side
 * keeps what its worker read and wrote there, memory outside its pool
 * that no limit bounds, and its figures include that help (a note says
 * how much).
 *
 * Figures (pages/s, higher is better), for each phase P:
 *
 *   file-P             bio vs cached
 *   file-P-vs-kernel   bio vs the kernel's mmap of the file
 *
 * and file-uniform-majfault (us, lower is better): the bio side's uniform
 * phase time per major fault vs the p50 of odirect-pread-4k (1.0: a fault
 * costs one raw 4 KiB read, verification included).
 *
 *   vmpbench file [-p POOL] [-x RATIO] [-s SEED] [-S SAMPLES]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

#define TAG		0x66696c6500000000ULL	/* "file" */
#define WORDS		(PG / 8)
#define PREAD_SEED	0x70726561ULL

enum phase { PH_SEQ, PH_UNIFORM, PH_WRITE, PH_NR };
static const char *const ph_names[PH_NR] = { "seq", "uniform", "write" };

enum fside { FS_BIO, FS_CACHED, FS_KERNEL, FS_NR };
static const char *const fs_names[FS_NR] = { "bio", "cached", "kernel" };

struct fopts {
	size_t pool, ws, samples;
	unsigned long ratio;
	uint64_t seed;
	char path[512];
	char cgdir[256];
};

struct fphase {
	uint64_t ns;
	uint64_t cached;	/* pages of the file in the page cache at its end */
	uint64_t major;		/* module: faults_major; kernel: ru_majflt */
	uint64_t reads, writes;	/* module: file_reads, file_writes */
	uint64_t bad;		/* words read back wrong */
};

struct fres {
	int err, errnum;	/* 0, or the line of the failed step and errno */
	unsigned int flags;	/* the object's obj_info flags (module sides) */
	struct fphase ph[PH_NR];
};

struct fchild {
	const struct fopts *o;
	enum fside side;
};

static inline uint64_t word(size_t page, size_t w)
{
	return TAG ^ ((uint64_t)page << 9 | w);
}

#define FAIL_IF(cond)							\
	do {								\
		if (cond) {						\
			res->errnum = errno;				\
			res->err = __LINE__;				\
			return;						\
		}							\
	} while (0)

static void run_phase(const struct fopts *o, volatile uint64_t *p, enum phase ph,
		      struct fphase *u)
{
	uint64_t rng = o->seed, t0 = now_ns();
	size_t i, n = ph == PH_WRITE ? o->ws / 2 : o->ws, pg, w;

	for (i = 0; i < n; i++) {
		volatile uint64_t *q;

		pg = ph == PH_SEQ ? i : rng_next(&rng) % o->ws;
		q = p + pg * WORDS;
		if (ph == PH_WRITE) {
			for (w = 0; w < WORDS; w++)
				q[w] = word(pg, w);
			continue;
		}
		for (w = 0; w < WORDS; w++)
			u->bad += q[w] != word(pg, w);
	}
	if (ph == PH_WRITE && msync((void *)p, o->ws * PG, MS_SYNC))
		u->bad++;
	u->ns = now_ns() - t0;
}

/*
 * Pages of the file in the kernel's page cache now (mincore of a mapping of
 * it): memory a side uses beyond its pool, or its memory.max for the kernel.
 */
static uint64_t file_cached_pages(int fd, size_t pages)
{
	unsigned char *vec = malloc(pages);
	uint64_t n = 0;
	size_t i;
	void *m;

	if (!vec)
		return 0;
	m = mmap(NULL, pages * PG, PROT_READ, MAP_SHARED, fd, 0);
	if (m != MAP_FAILED) {
		if (!mincore(m, pages * PG, vec))
			for (i = 0; i < pages; i++)
				n += vec[i] & 1;
		munmap(m, pages * PG);
	}
	free(vec);
	return n;
}

static void workload(const struct fopts *o, enum fside side, struct fres *res)
{
	struct vmpager_global_info g0, g1;
	struct vmpager_map_file mf = { .length = o->ws * PG };
	struct vmpager_obj_info oi;
	struct rusage ru0, ru1;
	volatile uint64_t *p;
	int fd, dev = -1, ph;

	memset(res, 0, sizeof(*res));
	memset(&g0, 0, sizeof(g0));
	memset(&g1, 0, sizeof(g1));
	if (side == FS_KERNEL)
		FAIL_IF(cgroup_enter(o->cgdir));
	fd = open(o->path, O_RDWR | O_CLOEXEC);
	FAIL_IF(fd < 0);
	if (side == FS_KERNEL) {
		p = mmap(NULL, o->ws * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		FAIL_IF(p == MAP_FAILED);
	} else {
		dev = open(VMPAGER_DEVICE, O_RDWR | O_CLOEXEC);
		FAIL_IF(dev < 0);
		mf.fd = fd;
		mf.flags = side == FS_CACHED ? VMPAGER_FILE_CACHED : 0;
		FAIL_IF(ioctl(dev, VMPAGER_IOC_MAP_FILE, &mf));
		FAIL_IF(ioctl(dev, VMPAGER_IOC_OBJ_INFO, &oi));
		res->flags = oi.flags;
		p = mmap(NULL, o->ws * PG, PROT_READ | PROT_WRITE, MAP_SHARED, dev, 0);
		FAIL_IF(p == MAP_FAILED);
		FAIL_IF(mod_info(dev, &g0));
	}
	for (ph = 0; ph < PH_NR; ph++) {
		struct fphase *u = &res->ph[ph];

		progress("%s: %s: %zu pages of a file through %zu pages of memory",
			 fs_names[side], ph_names[ph], o->ws, o->pool);
		getrusage(RUSAGE_SELF, &ru0);
		run_phase(o, p, ph, u);
		getrusage(RUSAGE_SELF, &ru1);
		u->cached = file_cached_pages(fd, o->ws);
		if (side == FS_KERNEL) {
			u->major = ru1.ru_majflt - ru0.ru_majflt;
			continue;
		}
		FAIL_IF(mod_info(dev, &g1));
		u->major = DST(g0, g1, faults_major);
		u->reads = DST(g0, g1, file_reads);
		u->writes = DST(g0, g1, file_writes);
		g0 = g1;
	}
	munmap((void *)p, o->ws * PG);
	if (dev >= 0)
		close(dev);
	close(fd);
}

static void child_workload(const void *arg, void *res)
{
	const struct fchild *c = arg;

	workload(c->o, c->side, res);
}

/* The file: page i word w = word(i, w), written once and synced. */
static int make_data_file(const struct fopts *o)
{
	uint64_t buf[WORDS];
	size_t pg, w;
	int fd, ret = 0;

	fd = open(o->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (pg = 0; pg < o->ws && !ret; pg++) {
		for (w = 0; w < WORDS; w++)
			buf[w] = word(pg, w);
		if (pwrite(fd, buf, PG, (off_t)(pg * PG)) != (ssize_t)PG)
			ret = -EIO;
	}
	if (!ret && fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

/* Write back and drop the file's cached pages: every side starts cold. */
static void drop_file_cache(const struct fopts *o)
{
	int fd = open(o->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	fdatasync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}

/* p50 of SAMPLES random 4 KiB O_DIRECT preads of the file, or 0. */
static double pread_p50(const struct fopts *o)
{
	uint64_t rng = o->seed ^ PREAD_SEED, t0;
	double *lat = calloc(o->samples, sizeof(double)), p50 = 0;
	void *buf = NULL;
	size_t i;
	int fd;

	if (!lat || posix_memalign(&buf, PG, PG)) {
		free(lat);
		return 0;
	}
	fd = open(o->path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	for (i = 0; fd >= 0 && i < o->samples; i++) {
		t0 = now_ns();
		if (pread(fd, buf, PG, (off_t)((rng_next(&rng) % o->ws) * PG)) != (ssize_t)PG)
			break;
		lat[i] = (double)(now_ns() - t0) / 1000.0;
	}
	if (fd >= 0 && i == o->samples) {
		qsort(lat, o->samples, sizeof(double), cmp_double);
		p50 = quantile(lat, o->samples, 0.5);
	}
	check(p50 > 0, "O_DIRECT preads of %s failed: %s", o->path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(buf);
	free(lat);
	return p50;
}

static double rate(const struct fopts *o, enum phase ph, const struct fphase *u)
{
	size_t n = ph == PH_WRITE ? o->ws / 2 : o->ws;

	return u->ns ? (double)n * 1e9 / (double)u->ns : 0;
}

static bool side_ok(const struct fopts *o, enum fside s, bool ran, const struct fres *r)
{
	bool ok = ran && check(!r->err, "%s workload failed at file.c:%d (errno %s)",
			       fs_names[s], r->err, strerror(r->errnum));
	int ph;

	if (!ok)
		return false;
	if (s == FS_BIO)
		ok &= check(r->flags & VMPAGER_OBJ_BIO,
			    "bio: the file was not bound with block-level I/O (flags %#x)",
			    r->flags);
	if (s == FS_CACHED)
		ok &= check(!(r->flags & VMPAGER_OBJ_BIO), "cached: bound with bios");
	for (ph = 0; ph < PH_NR; ph++) {
		const struct fphase *u = &r->ph[ph];

		ok &= check(!u->bad, "%s: %s: %llu words read back wrong (or msync failed)",
			    fs_names[s], ph_names[ph], (unsigned long long)u->bad);
		/* a phase below the step of a coarse clock (the debug kernel) */
		if (u->ns || !coarse_clock())
			ok &= sane(rate(o, ph, u), "pages/s");
		if (s != FS_KERNEL && ph != PH_WRITE)
			ok &= check(u->reads > 0, "%s: %s read nothing from the file",
				    fs_names[s], ph_names[ph]);
		if (s != FS_KERNEL && ph == PH_WRITE)
			ok &= check(u->writes > 0, "%s: write: nothing written back",
				    fs_names[s]);
		csv_row("file.csv", "%s,%s,%zu,%zu,%.4f,%.1f,%llu,%llu,%llu,%llu", fs_names[s],
			ph_names[ph], o->pool, o->ws, u->ns / 1e9, rate(o, ph, u),
			(unsigned long long)u->major, (unsigned long long)u->reads,
			(unsigned long long)u->writes, (unsigned long long)u->cached);
		if (s != FS_KERNEL && u->cached)
			note("%s: after %s %llu pages of the file were in the page cache: memory beyond the %zu-page pool",
			     fs_names[s], ph_names[ph], (unsigned long long)u->cached, o->pool);
	}
	return ok;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vmpbench file [-p POOL_PAGES] [-x RATIO] [-s SEED] [-S PREAD_SAMPLES]\n"
		"  a file of RATIO * POOL_PAGES pages (default 4 * 4096) on the scratch disk,\n"
		"  read in order, at uniform pages, and half rewritten then msync'ed, by a\n"
		"  vmpager object with bios, one through the page cache, and the kernel's mmap\n");
	exit(2);
}

int bench_file(int argc, char **argv)
{
	struct fopts o = { .pool = 4096, .ratio = 4, .samples = 2000, .seed = 1 };
	struct fres res[FS_NR];
	bool ok[FS_NR] = { false };
	char reason[512] = "";
	const char *disk;
	double p50;
	int c, s, ph;

	while ((c = getopt(argc, argv, "p:x:s:S:")) != -1) {
		switch (c) {
		case 'p':
			o.pool = arg_ulong("-p", optarg, 256, 1UL << 20);
			break;
		case 'x':
			o.ratio = arg_ulong("-x", optarg, 2, 16);
			break;
		case 's':
			o.seed = arg_ulong("-s", optarg, 0, ~0UL);
			break;
		case 'S':
			o.samples = arg_ulong("-S", optarg, 10, 1000000);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	o.ws = o.pool * o.ratio;
	out_init("file", FS_NR);
	csv_header("file.csv", "side,phase,pool_pages,file_pages,seconds,pages_per_s,major_faults,file_reads,file_writes,page_cache_pages");
	disk = disk_dir(reason, sizeof(reason));
	if (!disk || backend_probe(BK_KERNEL, reason, sizeof(reason))) {
		for (s = 0; s < FS_NR; s++) {
			char name[64];

			snprintf(name, sizeof(name), "file.%s", fs_names[s]);
			subtest_skip(name, reason);
		}
		return out_finish();
	}
	snprintf(o.path, sizeof(o.path), "%s/vmpbench-file.dat", disk);
	progress("writing a %zu-page file", o.ws);
	if (!check(!make_data_file(&o), "cannot write %s", o.path))
		goto out;
	if (!check(!mod_load("pool_pages=%zu", o.pool), "cannot load the module"))
		goto out;
	for (s = FS_BIO; s <= FS_CACHED; s++) {
		struct fchild ch = { &o, s };

		drop_file_cache(&o);
		ok[s] = side_ok(&o, s, run_in_child(fs_names[s], child_workload, &ch,
						     &res[s], sizeof(res[s])), &res[s]);
	}
	if (!check(!mod_unload(), "cannot unload the module"))
		ok[FS_BIO] = ok[FS_CACHED] = false;
	if (cgroup_setup("vmpbench-file", o.pool * PG, o.cgdir, sizeof(o.cgdir), reason,
			 sizeof(reason))) {
		note("kernel side: %s", reason);
	} else {
		struct fchild ch = { &o, FS_KERNEL };

		drop_file_cache(&o);
		ok[FS_KERNEL] = side_ok(&o, FS_KERNEL,
					run_in_child("kernel", child_workload, &ch,
						     &res[FS_KERNEL], sizeof(res[FS_KERNEL])),
					&res[FS_KERNEL]);
		cgroup_remove(o.cgdir);
	}
	progress("device limit: %zu random 4 KiB O_DIRECT preads of %s", o.samples, o.path);
	p50 = pread_p50(&o);

	for (ph = 0; ph < PH_NR && ok[FS_BIO]; ph++) {
		double v = rate(&o, ph, &res[FS_BIO].ph[ph]);
		char fig[64];

		snprintf(fig, sizeof(fig), "file-%s", ph_names[ph]);
		if (!v) {
			result_skip(fig, BK_KERNEL, "a time below the clock step of this kernel");
			continue;
		}
		if (ok[FS_CACHED] && rate(&o, ph, &res[FS_CACHED].ph[ph]))
			result(fig, BK_KERNEL, "pages/s", v, "cached",
			       rate(&o, ph, &res[FS_CACHED].ph[ph]), "higher");
		else
			result_skip(fig, BK_KERNEL, "the cached side failed or took no time");
		snprintf(fig, sizeof(fig), "file-%s-vs-kernel", ph_names[ph]);
		if (ok[FS_KERNEL] && rate(&o, ph, &res[FS_KERNEL].ph[ph]))
			result(fig, BK_KERNEL, "pages/s", v, "kernel-mmap",
			       rate(&o, ph, &res[FS_KERNEL].ph[ph]), "higher");
		else
			result_skip(fig, BK_KERNEL, "the kernel side did not run or took no time");
	}
	if (ok[FS_BIO] && p50 > 0 && res[FS_BIO].ph[PH_UNIFORM].major)
		result("file-uniform-majfault", BK_KERNEL, "us",
		       res[FS_BIO].ph[PH_UNIFORM].ns / 1000.0 /
		       (double)res[FS_BIO].ph[PH_UNIFORM].major,
		       "odirect-pread-4k", p50, "lower");
out:
	unlink(o.path);
	for (s = 0; s < FS_NR; s++) {
		char name[64];

		snprintf(name, sizeof(name), "file.%s", fs_names[s]);
		if (s == FS_KERNEL && !o.cgdir[0])
			subtest_skip(name, "no cgroup v2 memory controller");
		else
			subtest(ok[s], name);
	}
	return out_finish();
}
