/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmpbench: benchmarks of vmpager against the kernel's own paths, run in
 * the guest. One static binary, one subcommand per benchmark (issue 8):
 *
 *   fault       resident fault rate vs shmem (PTEs zapped by MADV_DONTNEED)
 *   touch       first-touch zero-fill rate vs anonymous memory
 *   overcommit  working set 2x/4x the pool vs the kernel swapping anonymous
 *               memory under a cgroup v2 memory.max of the same size
 *   swap        swap-in fault latency vs O_DIRECT pread, swap-out rate vs
 *               sequential O_DIRECT writes
 *   daemon      vmpagerd (userfaultfd) vs the module
 *   umap        vmpagerd, the module and anonymous memory on the workload
 *               of LLNL Umap's evaluation (write, seq, uniform, zipf)
 *   replay      the policy traces replayed through the module
 *   file        file-backed objects: bios vs the page cache vs the kernel's mmap
 *
 * Every benchmark takes the backend as a parameter (-b kernel,uring,daemon):
 * kernel is vmpager.ko with its in-kernel swap backend, uring the module
 * with the io_uring swap server (vmpagerd --swap-server), daemon the
 * userfaultfd daemon. A backend that is not there gives rows that say
 * "skipped: <reason>".
 *
 * Output (stdout, line-buffered; the guest's ktap-run.sh prefixes "# "):
 *   TAP version 13 / 1..N / ok N NAME [# SKIP reason]   one subtest per row
 *   progress BENCH: TEXT                               what runs now
 *   csvh FILE COLUMNS / csv FILE ROW                   CSV files for the host
 *   result FIGURE BACKEND UNIT VMP BASENAME BASE RATIO BETTER
 *   result FIGURE BACKEND skipped: REASON
 * userspace/bench/run.sh collects them into build/bench/ (docs/performance.md).
 * The programs check that what they measured is sane (counters moved as
 * the workload implies, data intact, figures finite and positive) and fail
 * the row otherwise; they never compare timings with thresholds.
 */
#ifndef VMPBENCH_H
#define VMPBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmpager.h"

#define PG		4096UL
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define VMP_KO_DEFAULT	"/modules/vmpager.ko"
#define VMP_DEBUGFS	"/sys/kernel/debug/vmpager"

/* ---- backends ------------------------------------------------------------ */

enum backend { BK_KERNEL, BK_URING, BK_DAEMON, BK_NR };

extern const char *const backend_names[BK_NR];

/* "kernel,uring,daemon" or "all" into a mask of 1 << enum backend. */
int parse_backends(const char *s, unsigned int *mask);
/*
 * Can this backend run here? 0, or -1 with the reason (no module file,
 * vmpagerd not built, ...) in reason.
 */
int backend_probe(enum backend b, char *reason, size_t len);

/* ---- output --------------------------------------------------------------- */

void out_init(const char *bench, int planned);
/* Closes the KTAP plan; returns the exit code (0 ok, 1 failed, 4 all skipped). */
int out_finish(void);
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void csv_header(const char *file, const char *cols);
void csv_row(const char *file, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* vmp and base are the two figures; ratio = vmp / base. better: lower|higher */
void result(const char *figure, enum backend b, const char *unit, double vmp,
	    const char *base_name, double base, const char *better);
void result_skip(const char *figure, enum backend b, const char *reason);
/* One KTAP subtest line; name is "bench.figure.backend". */
void subtest(bool ok, const char *name);
void subtest_skip(const char *name, const char *reason);
/* A backend that cannot run: every one of its cells skipped / failed. */
void skip_cells(const char *bench, enum backend b, int cells, const char *reason);
void fail_cells(const char *bench, enum backend b, int cells);
/* A failed sanity check: "check failed: ..." on stdout; returns false. */
bool check(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A figure that is usable in a ratio: finite and > 0. */
bool sane(double v, const char *what);

/* ---- time and statistics ------------------------------------------------ */

uint64_t now_ns(void);
double clock_step_ns(void);	/* observed step of CLOCK_MONOTONIC */
bool coarse_clock(void);	/* that step is over 1 us */
int cmp_double(const void *a, const void *b);
/* q in [0,1] of sorted v[0..n): linear interpolation. */
double quantile(const double *sorted, size_t n, double q);
double median(double *v, size_t n);	/* sorts v */

/*
 * rng_next() (splitmix64) and YCSB's Zipfian (struct zipf, zipf_init(),
 * zipf_next()): userspace/tools/vmp_zipf.h, shared with vmpwork.
 */
#include "vmp_zipf.h"

/*
 * The floor of a userfaultfd pager (uffd_floor.c): the latency of a missing
 * fault on a memfd region whose handler, a thread of this process or
 * another process, does one 4 KiB O_DIRECT pread of a random page of the
 * first @pages of @path (@read) and one UFFDIO_COPY. p50, p99 and mean in
 * us of @samples faults; false with a "check failed" line.
 */
struct floor_opts {
	const char *path;
	size_t pages, samples;
	bool process, read;
	bool sleep;		/* the handler blocks in poll() between faults */
	unsigned int gap_us;	/* the client sleeps this long between touches */
};
bool uffd_floor(const struct floor_opts *o, double *p50, double *p99, double *mean);

/* ---- the module ----------------------------------------------------------- */

/* Load $VMP_KO (default /modules/vmpager.ko), unloading a loaded copy. -errno */
int mod_load(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int mod_unload(void);
int mod_info(int fd, struct vmpager_global_info *gi);
/* debugfs vmpager/<name>: write val; 0 or -errno. */
int mod_debugfs_write(const char *name, const char *val);

#define ST(gi, name)	((gi).stats[VMPAGER_STAT_##name])
#define DST(a, b, name)	(ST(b, name) - ST(a, name))

/* ---- a running backend ---------------------------------------------------- */

/*
 * kernel: vmpager.ko with swapfile= on the disk (the in-kernel backend).
 * uring:  vmpager.ko without swapfile=, and the io_uring swap server
 *         (vmpager-swapd, or vmpagerd --swap-server) serving a swap file of
 *         the same size on the same disk; started and online before use.
 * daemon: vmpagerd with a swap file of the same size on the same disk, frame
 *         budget + soft-eviction cache = the pool; regions through
 *         libvmpager (vmp_region_alloc_opts(VMP_BACKEND_DAEMON)).
 */
struct bk {
	enum backend b;
	pid_t server;		/* uring: the swap server; daemon: vmpagerd */
	char swap[512];		/* the backend's swap file, "" if none */
	char dir[160];		/* daemon: scratch directory (sockets, swap) */
	char sock[108], ctl[108];
};

/*
 * Start backend b with pool_pages = pool, swap_pages slots in a swap file
 * in disk (disk NULL or swap_pages 0: no swap; the uring server still gets
 * a small file so that the configuration is the real one), and extra
 * module parameters (policy=...; may be ""). 0, or -errno after printing
 * why.
 */
int bk_start(struct bk *k, enum backend b, size_t pool, size_t swap_pages,
	     const char *disk, const char *extra);
/* Swap readahead window (module debugfs / daemon control socket): 0 or -errno. */
int bk_readahead(struct bk *k, unsigned int pages);
/*
 * Stop the server, unload the module, remove the swap file. 0 or -errno;
 * a failure also fails the program (out_finish() returns 1).
 */
int bk_stop(struct bk *k);

/* ---- regions: the memory a benchmark pages through a backend -------------- */

struct region {
	enum backend b;
	int fd;			/* the vmpager object (kernel, uring) */
	char *addr;
	size_t pages;
};

/*
 * A new region of pages of the backend bk_start() started last: an object
 * of /dev/vmpager mapped MAP_SHARED, or a vmpagerd region. 0 or -errno.
 */
int region_map(struct region *r, enum backend b, size_t pages);
void region_unmap(struct region *r);
/*
 * The backend's counters, by the module's names (the daemon's control
 * socket "stats" uses the same names where they mean the same). For the
 * daemon only stats[] is filled. 0 or -errno.
 */
int region_stats(const struct region *r, struct vmpager_global_info *gi);
/*
 * vmpagerd counts a fault after it has woken the faulting thread, so right
 * after a phase its counters can lag behind. For the daemon this reads until
 * two reads 10 ms apart agree (at most 2 s); for the module it is
 * region_stats() (the fault handler counts before it returns).
 */
void region_dump_stats(const struct region *r, const char *label);
unsigned long long region_daemon_stat(const struct region *r, const char *stat);
int region_stats_settled(const struct region *r, struct vmpager_global_info *gi);
/*
 * After one access known to have faulted: for the daemon, read until
 * "faults" moved past before (at most 1 s).
 */
int region_stats_after(const struct region *r, const struct vmpager_global_info *before,
		       struct vmpager_global_info *gi);

/* ---- files, disks, cgroups, kernel swap ----------------------------------- */

/* $VMP_DIRECT_DIR (ext4 scratch disk in the guest) or NULL with a reason. */
const char *disk_dir(char *reason, size_t len);
int write_file(const char *path, const char *s);
/* Preallocated file of bytes (fallocate), mode 0600; 0 or -errno. */
int prealloc_file(const char *path, uint64_t bytes);
/* A swap file for swapon(2): zero-filled (no holes) plus a v1 header. */
int make_kernel_swap(const char *path, uint64_t pages);
/*
 * cgroup v2 child "name" with memory.max = bytes and unlimited swap:
 * mounts /sys/fs/cgroup and enables +memory as needed. Writes the child's
 * directory to dir. 0 or -errno, with a reason.
 */
int cgroup_setup(const char *name, uint64_t bytes, char *dir, size_t dlen,
		 char *reason, size_t rlen);
int cgroup_enter(const char *dir);	/* moves the calling process */
void cgroup_remove(const char *dir);

/* ---- swap phases (swap.c), shared with the daemon benchmark ------------- */

#define SWAP_TAG	0x5a5a000000000000ULL

/*
 * Write every page of reg once (word 0 = SWAP_TAG ^ page), sequentially;
 * returns the swap-outs it caused and their rate (pages/s of the phase).
 */
size_t swap_fill(struct region *reg, double *out_rate, bool *ok);
/* Rows of swapin_cdf.csv: backend, side, quantile 0..1 by 0.01 and 0.999, us. */
void cdf_side(enum backend b, const char *side, const double *sorted, size_t n);
/* Read every page back once: dirty resident pages leave, evictions get clean. */
bool swap_flush(struct region *reg);
/*
 * Random single-page reads of a filled region: the latency (us) of each
 * that was exactly one major fault goes to lat[] until want of them. With
 * pread_fd >= 0, each is followed by a 4 KiB O_DIRECT pread at a random
 * page of the first wr pages of that file, timed into plat[].
 */
bool swapin_samples(struct region *reg, size_t want, int pread_fd, size_t wr,
		    double *lat, size_t *nlat, double *plat, size_t *nplat);

/*
 * One overcommit run (overcommit.c) of the running backend b in a child:
 * working set ratio * pool pages, pattern "seq", "uniform" or "zipf",
 * passes * ws accesses. Accesses/s and major faults per 1000 accesses.
 */
bool oc_measure(enum backend b, size_t pool, unsigned long ratio, const char *pattern,
		unsigned long passes, double *acc_per_s, double *majflt_per_k);

/*
 * Run fn(arg, res) in a fresh child process and bring its @size bytes of
 * result back into @res through a pipe. true if the child wrote them and
 * exited 0; else false after a "check failed" line naming @who and how it
 * died (a signal: SIGBUS, SIGKILL named).
 */
bool run_in_child(const char *who, void (*fn)(const void *arg, void *res),
		  const void *arg, void *res, size_t size);

/* Subcommands. */
int bench_fault(int argc, char **argv);
int bench_touch(int argc, char **argv);
int bench_overcommit(int argc, char **argv);
int bench_swap(int argc, char **argv);
int bench_daemon(int argc, char **argv);
int bench_umap(int argc, char **argv);
int bench_replay(int argc, char **argv);
int bench_file(int argc, char **argv);

/* Option parsing helpers: exit(2) with a message on bad input. */
unsigned long arg_ulong(const char *opt, const char *s, unsigned long min,
			unsigned long max);
/* Comma list of numbers into v[0..max); returns the count. */
int arg_list(const char *opt, const char *s, unsigned long *v, int max,
	     unsigned long min, unsigned long lim);

#endif /* VMPBENCH_H */
