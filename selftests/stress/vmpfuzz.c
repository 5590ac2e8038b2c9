// SPDX-License-Identifier: GPL-2.0
/*
 * vmpfuzz: a seeded fuzzer for /dev/vmpager. Proves that random ioctls,
 * mmap/mremap/mprotect/madvise/mlock/msync calls, touches, forks, io_uring
 * URING_CMD payloads and debugfs/sysfs writes never crash the kernel, never
 * break the module's accounting, never damage an object nobody fuzzed, and
 * that the module still unloads cleanly afterwards.
 *
 * Each of PROCS processes runs its own stream of operations drawn from
 * splitmix64(seed + process index): "--seed S" repeats every choice of every
 * stream ("--ops N" stops each stream after N operations, "--log" prints each
 * operation before it runs, so a crash names the operation that caused it).
 * The interleaving of the streams is the scheduler's.
 *
 * Memory safety of the fuzzer itself: it only unmaps, remaps, protects or
 * advises ranges it mapped from the device and still tracks exactly, never
 * uses MAP_FIXED (only MAP_FIXED_NOREPLACE, and MREMAP_FIXED onto a
 * placeholder it just mapped), and touches pages under sigsetjmp guards, so
 * SIGSEGV/SIGBUS from a touch are expected outcomes, counted, not crashes.
 *
 * Checks (KTAP): the known ioctl numbers with another size or direction get
 * ENOTTY; known ioctls with a kernel or NULL pointer get EFAULT; read/write
 * on the device fail; a canary object, mapped before fuzzing and never given
 * to the fuzz operations, holds its exact contents at the end (fault
 * injection may make a read SIGBUS, never return wrong data); no process dies
 * of anything but the SIGKILLs the fuzzer sends; after everything is closed
 * the pool is entirely free, no frame is orphaned, no swap slot is used, and
 * the module unloads.
 */
#include <dirent.h>
#include <getopt.h>
#include <liburing.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "stress.h"

#define MAX_FDS		12
#define MAX_MAPS	48
#define MAX_MAP_PAGES	256
#define CANARY_TAG	0x5a

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE	0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC		0x80000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP	4
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT		1
#endif

/* ---- per-process statistics, summed in shared memory ---- */

#define FZ_COUNTERS(X)						\
	X(ops, "operations run")				\
	X(ioctls, "ioctls")					\
	X(mmaps, "mmap calls")					\
	X(mmaps_ok, "mmap calls that succeeded")		\
	X(touches, "guarded reads and writes of mapped pages")	\
	X(sigbus, "touches answered with SIGBUS")		\
	X(sigsegv, "touches answered with SIGSEGV")		\
	X(munmaps, "munmap calls")				\
	X(mremaps, "mremap calls")				\
	X(mprotects, "mprotect calls")				\
	X(madvises, "madvise calls")				\
	X(mlocks, "mlock/mlock2/munlock calls")			\
	X(msyncs, "msync calls")				\
	X(forks, "fuzzing children forked")			\
	X(child_kills, "children killed with SIGKILL")		\
	X(dfs_writes, "debugfs/sysfs writes")			\
	X(dfs_reads, "debugfs file reads")			\
	X(uring_cmds, "IORING_OP_URING_CMD submissions")	\
	X(rw, "read/write/lseek calls on the device")		\
	X(opens, "objects opened")				\
	X(closes, "fds closed")					\
	X(injected, "fault injection budget units set via fail_*") \
	X(canary_checks, "canary pages read back exactly")	\
	X(unexpected, "results that broke a documented rule: must stay 0") \
	X(bad_deaths, "processes that died unexpectedly: must stay 0")

#define X_ENUM(n, d)	F_##n,
enum fz_ctr { FZ_COUNTERS(X_ENUM) F_NR };
#undef X_ENUM
#define X_NAME(n, d)	#n,
static const char *const fz_names[F_NR] = { FZ_COUNTERS(X_NAME) };
#undef X_NAME

struct fz_shared {
	uint64_t ctr[F_NR];
	uint32_t nmsgs;
	char msg[16][200];
};

static struct fz_shared *fsh;

static struct {
	unsigned int secs, procs, pool;
	uint64_t seed, ops;
	bool log, load, uring, debugfs;
} cfg = { .secs = 30, .procs = 2, .pool = 512, .load = true, .uring = true, .debugfs = true };

static inline void cadd(enum fz_ctr c, uint64_t n)
{
	__atomic_fetch_add(&fsh->ctr[c], n, __ATOMIC_RELAXED);
}

static uint64_t op_no;		/* this stream's current operation */
static unsigned int stream;	/* this process's stream index */

static void __attribute__((format(printf, 1, 2))) unexpected(const char *fmt, ...)
{
	uint32_t i = __atomic_fetch_add(&fsh->nmsgs, 1, __ATOMIC_RELAXED);
	int n = 0;
	va_list ap;

	cadd(F_unexpected, 1);
	if (i >= 16)
		return;
	n = snprintf(fsh->msg[i], sizeof(fsh->msg[i]), "stream %u op %llu: ", stream,
		     (unsigned long long)op_no);
	va_start(ap, fmt);
	vsnprintf(fsh->msg[i] + n, sizeof(fsh->msg[i]) - n, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 1, 2))) oplog(const char *fmt, ...)
{
	va_list ap;

	if (!cfg.log)
		return;
	printf("# [%u:%llu] ", stream, (unsigned long long)op_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* ---- guarded touches ---- */

static sigjmp_buf guard_jmp;
static volatile sig_atomic_t in_guard;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	char m[160];
	int n;

	(void)uc;
	if (in_guard)
		siglongjmp(guard_jmp, sig);
	n = snprintf(m, sizeof(m), "# vmpfuzz stream %u: unguarded signal %d at %p in op %llu\n",
		     stream, sig, si->si_addr, (unsigned long long)op_no);
	if (write(1, m, n) < 0)
		_exit(70);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Read or write one word at @p: 0, or the signal that stopped it. */
static int guarded(volatile uint64_t *p, bool write, uint64_t val, uint64_t *out)
{
	int sig;

	sig = sigsetjmp(guard_jmp, 1);
	if (!sig) {
		in_guard = 1;
		if (write)
			*p = val;
		else
			*out = *p;
	}
	in_guard = 0;
	return sig;
}

/* ---- state of one stream ---- */

struct fz_map {
	char *addr;
	size_t len;
};

static int fds[MAX_FDS];
static struct fz_map maps[MAX_MAPS];
static unsigned int nmaps;
static uint64_t rng;
static struct io_uring ring;
static bool ring_ok;
static char **dfs_files;
static unsigned int ndfs;

/* The canary: an object only the checks touch. */
static int canary_fd = -1;
static char *canary;
static unsigned int canary_pages;

static uint64_t rnd(uint64_t n)
{
	return vs_below(&rng, n);
}

static void map_add(char *a, size_t len)
{
	if (nmaps < MAX_MAPS) {
		maps[nmaps].addr = a;
		maps[nmaps].len = len;
		nmaps++;
	} else {
		munmap(a, len);
	}
}

static void map_del(unsigned int i)
{
	maps[i] = maps[--nmaps];
}

/* Forget [a, a+len) (now unmapped or moved away) from the tracked maps. */
static void map_forget(char *a, size_t len)
{
	unsigned int i;

	for (i = 0; i < nmaps; i++) {
		char *s = maps[i].addr, *e = s + maps[i].len;

		if (a + len <= s || a >= e)
			continue;
		if (a <= s && a + len >= e) {
			map_del(i--);
		} else if (a <= s) {
			maps[i].addr = a + len;
			maps[i].len = e - (a + len);
		} else if (a + len >= e) {
			maps[i].len = a - s;
		} else {
			maps[i].len = a - s;
			map_add(a + len, e - (a + len));
		}
	}
}

/* A random page-aligned sub-range of tracked map @i. */
static void subrange(unsigned int i, char **a, size_t *len)
{
	size_t pages = maps[i].len / VS_PG, first = rnd(pages);

	*a = maps[i].addr + first * VS_PG;
	*len = (1 + rnd(pages - first)) * VS_PG;
}

static int rand_fd(void)
{
	unsigned int i, start = rnd(MAX_FDS);

	for (i = 0; i < MAX_FDS; i++)
		if (fds[(start + i) % MAX_FDS] >= 0)
			return fds[(start + i) % MAX_FDS];
	return -1;
}

/* A user buffer of some kind for ioctl arguments; *kind says which. */
static void *rand_arg(void *good, int *kind)
{
	static char *ro, *none;

	if (!ro) {
		ro = mmap(NULL, VS_PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		none = mmap(NULL, VS_PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	*kind = rnd(7);
	switch (*kind) {
	case 0:
		return NULL;
	case 1:
		return (void *)0xffffffff81000000UL;	/* kernel text */
	case 2:
		return ro;
	case 3:
		return none;
	case 4:
		/* a vmpager mapping: copy_to_user faults into the module */
		if (nmaps) {
			unsigned int i = rnd(nmaps);

			return maps[i].addr + (rnd(maps[i].len / VS_PG) * VS_PG);
		}
		*kind = 5;
		return good;
	default:
		return good;
	}
}

/* ---- operations ---- */

static void op_open_close(void)
{
	unsigned int i = rnd(MAX_FDS);

	if (fds[i] < 0) {
		fds[i] = open(VMPAGER_DEVICE, rnd(8) ? O_RDWR : O_RDONLY);
		oplog("open -> %d", fds[i]);
		if (fds[i] >= 0)
			cadd(F_opens, 1);
	} else if (rnd(3)) {
		oplog("close fd %d", fds[i]);
		close(fds[i]);
		fds[i] = -1;
		cadd(F_closes, 1);
	} else {
		int d = dup(fds[i]), j = (i + 1) % MAX_FDS;

		oplog("dup fd %d -> %d", fds[i], d);
		if (d >= 0 && fds[j] < 0)
			fds[j] = d;
		else if (d >= 0)
			close(d);
	}
}

static bool dangerous_ioctl(unsigned int cmd)
{
	/* filesystem-wide VFS ioctls (FIFREEZE/FITHAW, FICLONE...) act on devtmpfs */
	return _IOC_TYPE(cmd) == 'X' || _IOC_TYPE(cmd) == 0x94 || _IOC_TYPE(cmd) == 'f';
}

static void op_ioctl(void)
{
	static const unsigned int known[] = { VMPAGER_IOC_VERSION, VMPAGER_IOC_OBJ_INFO,
		VMPAGER_IOC_GLOBAL_INFO, VMPAGER_IOC_RESET_STATS };
	static uint64_t buf[1024];
	unsigned int cmd, r = rnd(10), k;
	int fd = rand_fd(), kind, ret, err;
	void *arg;

	if (fd < 0)
		return;
	if (r < 4) {
		k = rnd(4);
		cmd = known[k];
	} else if (r < 8) {
		cmd = _IOC(rnd(4), VMPAGER_IOC_MAGIC, rnd(16), rnd(1 << 14));
	} else {
		do
			cmd = (unsigned int)vs_rand(&rng);
		while (dangerous_ioctl(cmd));
	}
	arg = rand_arg(buf, &kind);
	oplog("ioctl fd %d cmd %#x arg %p (kind %d)", fd, cmd, arg, kind);
	ret = ioctl(fd, cmd, arg);
	err = errno;
	cadd(F_ioctls, 1);
	if (_IOC_TYPE(cmd) == VMPAGER_IOC_MAGIC && _IOC_NR(cmd) <= 3) {
		bool is_known = false;

		for (k = 0; k < 4; k++)
			is_known |= cmd == known[k];
		if (!is_known && !(ret < 0 && err == ENOTTY))
			unexpected("ioctl %#x (a known number, other size/direction) gave %d/%s, "
				   "want ENOTTY", cmd, ret, strerror(err));
		if (is_known && cmd != VMPAGER_IOC_RESET_STATS && kind <= 3 &&
		    !(ret < 0 && err == EFAULT))
			unexpected("ioctl %#x with a NULL, kernel, read-only or PROT_NONE "
				   "pointer (kind %d) gave %d/%s, want EFAULT", cmd, kind, ret,
				   strerror(err));
		if (is_known && kind >= 5 && ret)
			unexpected("ioctl %#x with a good buffer failed: %s", cmd, strerror(err));
	}
}

static void op_mmap(void)
{
	static const int extra[] = { 0, MAP_POPULATE, MAP_LOCKED, MAP_NORESERVE, MAP_FIXED_NOREPLACE,
		MAP_SYNC, MAP_HUGETLB, MAP_32BIT, MAP_STACK };
	int fd = rand_fd(), prot, flags, r = rnd(10);
	size_t len, pages;
	off_t off;
	void *hint = NULL, *p;

	if (fd < 0)
		return;
	pages = 1 + rnd(r ? 64 : MAX_MAP_PAGES);
	len = pages * VS_PG;
	if (!rnd(20))
		len = rnd(2) ? 0 : (size_t)vs_rand(&rng);	/* 0 or absurd */
	else if (!rnd(20))
		len -= 1 + rnd(VS_PG - 1);			/* unaligned */
	off = rnd(256) * VS_PG;
	if (!rnd(15))
		off = (off_t)vs_rand(&rng) & ~(off_t)(rnd(2) ? VS_PG - 1 : 0);
	prot = rnd(8);		/* any mix of READ, WRITE, EXEC */
	switch (rnd(8)) {
	case 0:
		flags = MAP_PRIVATE;
		break;
	case 1:
		flags = MAP_SHARED_VALIDATE;
		break;
	case 2:
		flags = rnd(2) ? 0 : MAP_SHARED | MAP_PRIVATE;
		break;
	default:
		flags = MAP_SHARED;
	}
	if (!rnd(3))
		flags |= extra[rnd(sizeof(extra) / sizeof(extra[0]))];
	if (flags & MAP_FIXED_NOREPLACE)
		hint = (void *)((0x100000000ULL + rnd(1ULL << 30)) & ~(VS_PG - 1));
	if ((flags & (MAP_POPULATE | MAP_LOCKED)) && len > 64 * VS_PG)
		len = 64 * VS_PG;	/* keep populate and mlock bounded */
	oplog("mmap(%p, %zu, prot %#x, flags %#x, fd %d, off %#llx)", hint, len, prot, flags, fd,
	      (unsigned long long)off);
	p = mmap(hint, len, prot, flags, fd, off);
	cadd(F_mmaps, 1);
	if (p == MAP_FAILED)
		return;
	cadd(F_mmaps_ok, 1);
	if (len > (size_t)MAX_MAP_PAGES * VS_PG * 64) {
		/* an absurd length that the kernel accepted: don't keep it */
		munmap(p, len);
		return;
	}
	map_add(p, (len + VS_PG - 1) & ~(VS_PG - 1));
}

static void op_touch(void)
{
	unsigned int i, n = 1 + rnd(16), k;
	uint64_t v;
	char *a;
	int sig;
	bool w;

	if (!nmaps)
		return;
	i = rnd(nmaps);
	for (k = 0; k < n; k++) {
		a = maps[i].addr + rnd(maps[i].len / VS_PG) * VS_PG + rnd(VS_WORDS) * 8;
		w = rnd(2);
		sig = guarded((volatile uint64_t *)a, w, vs_rand(&rng), &v);
		cadd(F_touches, 1);
		if (sig == SIGBUS)
			cadd(F_sigbus, 1);
		else if (sig == SIGSEGV)
			cadd(F_sigsegv, 1);
	}
	oplog("touch %u words of map %p+%zu", n, maps[i].addr, maps[i].len);
}

static void op_munmap(void)
{
	unsigned int i;
	size_t len;
	char *a;

	if (!nmaps)
		return;
	i = rnd(nmaps);
	subrange(i, &a, &len);
	oplog("munmap(%p, %zu)", a, len);
	cadd(F_munmaps, 1);
	if (!munmap(a, len))
		map_forget(a, len);
}

static void op_mremap(void)
{
	unsigned int i, r = rnd(6);
	size_t len, nlen;
	char *a, *p, *dst = NULL;
	int flags = 0;

	if (!nmaps)
		return;
	i = rnd(nmaps);
	subrange(i, &a, &len);
	nlen = (1 + rnd(len / VS_PG + 8)) * VS_PG;
	if (r == 0)
		flags = MREMAP_MAYMOVE;
	else if (r <= 2)
		flags = MREMAP_MAYMOVE | MREMAP_FIXED;
	else if (r == 3)
		flags = MREMAP_MAYMOVE | MREMAP_DONTUNMAP;
	if (flags & MREMAP_DONTUNMAP)
		nlen = len;
	if (flags & MREMAP_FIXED) {
		dst = mmap(NULL, nlen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (dst == MAP_FAILED)
			return;
	}
	oplog("mremap(%p, %zu, %zu, %#x, %p)", a, len, nlen, flags, dst);
	p = mremap(a, len, nlen, flags, dst);
	cadd(F_mremaps, 1);
	if (p == MAP_FAILED) {
		if (dst)
			munmap(dst, nlen);
		return;
	}
	if (!(flags & MREMAP_DONTUNMAP))
		map_forget(a, len);
	map_add(p, nlen);
}

static void op_mprotect(void)
{
	unsigned int i;
	size_t len;
	char *a;

	if (!nmaps)
		return;
	i = rnd(nmaps);
	subrange(i, &a, &len);
	oplog("mprotect(%p, %zu)", a, len);
	mprotect(a, len, rnd(8));
	cadd(F_mprotects, 1);
}

static void op_madvise(void)
{
	unsigned int i;
	size_t len;
	char *a;
	int adv;

	if (!nmaps)
		return;
	i = rnd(nmaps);
	subrange(i, &a, &len);
	/*
	 * Every advice of 6.1 up to MADV_COLLAPSE (25), except MADV_HWPOISON
	 * and MADV_SOFT_OFFLINE (100, 101): those test the kernel's
	 * memory-failure handling, not vmpager, and poison the frame for good.
	 */
	adv = rnd(26);
	oplog("madvise(%p, %zu, %d)", a, len, adv);
	madvise(a, len, adv);
	cadd(F_madvises, 1);
}

static void op_mlock(void)
{
	unsigned int i;
	size_t len;
	char *a;

	if (!nmaps)
		return;
	i = rnd(nmaps);
	subrange(i, &a, &len);
	if (len > 32 * VS_PG)
		len = 32 * VS_PG;
	oplog("mlock/munlock(%p, %zu)", a, len);
	switch (rnd(3)) {
	case 0:
		mlock(a, len);
		break;
	case 1:
		syscall(SYS_mlock2, a, len, MLOCK_ONFAULT);
		break;
	default:
		munlock(a, len);
	}
	cadd(F_mlocks, 1);
}

static void op_msync(void)
{
	static const int fl[] = { MS_ASYNC, MS_SYNC, MS_INVALIDATE, MS_SYNC | MS_INVALIDATE, 0 };
	unsigned int i;
	size_t len;
	char *a;

	if (!nmaps)
		return;
	i = rnd(nmaps);
	subrange(i, &a, &len);
	oplog("msync(%p, %zu)", a, len);
	msync(a, len, fl[rnd(5)]);
	cadd(F_msyncs, 1);
}

static void op_rw(void)
{
	int fd = rand_fd();
	char b[64];

	if (fd < 0)
		return;
	cadd(F_rw, 1);
	oplog("read/write/lseek fd %d", fd);
	switch (rnd(3)) {
	case 0:
		if (read(fd, b, sizeof(b)) >= 0)
			unexpected("read() of the device succeeded");
		break;
	case 1:
		if (write(fd, b, sizeof(b)) >= 0)
			unexpected("write() to the device succeeded");
		break;
	default:
		lseek(fd, (off_t)vs_rand(&rng), rnd(5));
	}
}

static void op_uring(void)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts = { 0, 50 * 1000 * 1000 };
	int fd = rand_fd();
	unsigned int i;

	if (!ring_ok || fd < 0)
		return;
	sqe = io_uring_get_sqe(&ring);
	if (!sqe)
		return;
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = rnd(4) ? (uint32_t)rnd(64) : (uint32_t)vs_rand(&rng);
	for (i = 0; i < 16; i++)
		sqe->cmd[i] = (uint8_t)rnd(256);
	oplog("uring_cmd fd %d op %#x", fd, sqe->cmd_op);
	io_uring_submit(&ring);
	cadd(F_uring_cmds, 1);
	/* a command the module parks stays queued: don't wait for it forever */
	while (!io_uring_wait_cqe_timeout(&ring, &cqe, &ts))
		io_uring_cqe_seen(&ring, cqe);
}

static void load_dfs_files(void)
{
	struct dirent *de;
	DIR *d = opendir(VS_DFS);

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			char **nf = realloc(dfs_files, (ndfs + 1) * sizeof(*nf));

			if (!nf)
				break;
			dfs_files = nf;
			dfs_files[ndfs++] = strdup(de->d_name);
		}
	closedir(d);
}

static void op_debugfs(void)
{
	static const char *const words[] = { "fifo", "clock", "lru", "lru2", "arc", "lirs", "sieve", "s3fifo",
		"lirs\n", " arc ", "LRU", "", "\n", "-1", "0x10", "010", "18446744073709551616",
		"4294967295", "2147483648", "1 2 3", "0 1 2", "9 8 7", "1 2 100000000",
		"accessed", "both", "soft-unmap", "faults", "accessed\n", "both faults" };
	char path[160], buf[512];
	const char *name;
	size_t len = 0, i;
	int r;

	if (!ndfs)
		return;
	name = dfs_files[rnd(ndfs)];
	snprintf(path, sizeof(path), VS_DFS "/%s", name);
	if (rnd(3)) {
		static char big[1 << 16];

		oplog("read %s", path);
		vs_read_small(path, big, sizeof(big));
		cadd(F_dfs_reads, 1);
		return;
	}
	switch (rnd(5)) {
	case 0:
		len = snprintf(buf, sizeof(buf), "%s", words[rnd(sizeof(words) / sizeof(words[0]))]);
		break;
	case 1:
		/* a small number: fail_* budgets stay small */
		len = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)rnd(5));
		if (!strncmp(name, "fail_", 5))
			cadd(F_injected, strtoull(buf, NULL, 10));
		break;
	case 2:
		len = snprintf(buf, sizeof(buf), "%llu %llu %llu", (unsigned long long)rnd(300),
			       (unsigned long long)rnd(300), (unsigned long long)rnd(300));
		break;
	case 3:
		len = rnd(sizeof(buf));
		for (i = 0; i < len; i++)
			buf[i] = (char)rnd(256);
		break;
	default:
		len = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)rnd(cfg.pool * 2));
	}
	oplog("write %zu bytes to %s", len, path);
	r = vs_write_buf(path, buf, len);
	cadd(F_dfs_writes, 1);
	if (r == -EFAULT)
		unexpected("write to %s gave EFAULT", path);
}

static void op_param(void)
{
	char v[32];

	snprintf(v, sizeof(v), "%llu", rnd(4) ? (unsigned long long)(1 + rnd(4096)) :
					      (unsigned long long)vs_rand(&rng));
	oplog("max_obj_pages = %s", v);
	vs_write_str(VS_SYSFS "/parameters/max_obj_pages", v);
	cadd(F_dfs_writes, 1);
}

static void fuzz_one(void);

/* A child runs a short stream of its own and exits; some are killed. */
static void op_fork(void)
{
	uint64_t crng = vs_rand(&rng);
	unsigned int n = 5 + rnd(40), i;
	bool killed = false;
	pid_t pid;
	int st;

	oplog("fork (%u ops)", n);
	pid = fork();
	if (pid < 0)
		return;
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		rng = crng;
		cfg.log = false;
		ring_ok = false;	/* the ring belongs to the parent */
		for (i = 0; i < n; i++)
			fuzz_one();
		_exit(0);
	}
	cadd(F_forks, 1);
	if (!rnd(3)) {
		vs_sleep_ms(rnd(10));
		kill(pid, SIGKILL);
		cadd(F_child_kills, 1);
		killed = true;
	}
	if (waitpid(pid, &st, 0) != pid)
		return;
	if (!(WIFEXITED(st) && !WEXITSTATUS(st)) &&
	    !(killed && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)) {
		cadd(F_bad_deaths, 1);
		unexpected("fuzz child died: status %#x", st);
	}
}

/* Read back a few canary pages; a signal is allowed (fault injection), wrong data is not. */
static void op_canary(void)
{
	unsigned int k, p;
	uint64_t v;
	long w;

	for (k = 0; k < 4; k++) {
		p = rnd(canary_pages);
		if (guarded((volatile uint64_t *)(canary + p * VS_PG), false, 0, &v))
			continue;
		w = vs_check(canary + p * VS_PG, CANARY_TAG, p, 1);
		if (w >= 0)
			unexpected("canary page %u word %ld is %#llx", p, w,
				   (unsigned long long)((uint64_t *)(canary + p * VS_PG))[w]);
		else
			cadd(F_canary_checks, 1);
	}
}

static void fuzz_one(void)
{
	unsigned int r = rnd(100);

	op_no++;
	cadd(F_ops, 1);
	if (r < 6)
		op_open_close();
	else if (r < 22)
		op_ioctl();
	else if (r < 34)
		op_mmap();
	else if (r < 50)
		op_touch();
	else if (r < 55)
		op_munmap();
	else if (r < 60)
		op_mremap();
	else if (r < 64)
		op_mprotect();
	else if (r < 70)
		op_madvise();
	else if (r < 73)
		op_mlock();
	else if (r < 75)
		op_msync();
	else if (r < 77)
		op_rw();
	else if (r < 81)
		op_uring();
	else if (r < 90 && cfg.debugfs)
		op_debugfs();
	else if (r < 91 && cfg.debugfs)
		op_param();
	else if (r < 94)
		op_fork();
	else
		op_canary();
}

/* One stream: fuzz until the deadline or --ops, then drop everything. */
static void __attribute__((noreturn)) stream_main(unsigned int idx, double end)
{
	struct sigaction sa;
	unsigned int i;

	stream = idx;
	rng = cfg.seed + idx;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	for (i = 0; i < MAX_FDS; i++)
		fds[i] = -1;
	if (cfg.uring && !io_uring_queue_init(8, &ring, 0))
		ring_ok = true;
	if (cfg.debugfs)
		load_dfs_files();
	while (vs_now() < end && (!cfg.ops || op_no < cfg.ops))
		fuzz_one();
	if (ring_ok)
		io_uring_queue_exit(&ring);
	while (nmaps) {
		munmap(maps[0].addr, maps[0].len);
		map_del(0);
	}
	for (i = 0; i < MAX_FDS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	_exit(0);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: vmpfuzz [options]\n"
"  -t, --secs N      run time in seconds (default 30)\n"
"  -s, --seed N      seed (default: from the clock; printed)\n"
"  -n, --ops N       stop each stream after N operations (default: no limit)\n"
"  -p, --procs N     concurrent fuzzing streams (default 2, max 16)\n"
"  -P, --pool N      pool_pages to load the module with (default 512)\n"
"  -l, --log         print every operation before running it\n"
"      --no-uring    no IORING_OP_URING_CMD submissions\n"
"      --no-debugfs  no debugfs or sysfs writes (no fault injection)\n"
"      --no-load     fuzz the loaded module (no load, no unload)\n"
"Env: VMP_KO (module, default " VS_KO_DEFAULT "), VMP_DIRECT_DIR (swap file dir).\n");
}

static unsigned int test_no;
static int failures;

/* One KTAP result, named fuzz.@name; its figures in "# NAME: ..." before it. */
static void __attribute__((format(printf, 3, 4)))
result(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("# %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n%s %u fuzz.%s\n", ok ? "ok" : "not ok", ++test_no, name);
	failures += !ok;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "secs", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'n' },
		{ "procs", required_argument, NULL, 'p' },
		{ "pool", required_argument, NULL, 'P' },
		{ "log", no_argument, NULL, 'l' },
		{ "no-uring", no_argument, NULL, 1 },
		{ "no-debugfs", no_argument, NULL, 2 },
		{ "no-load", no_argument, NULL, 3 },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char params[384], swapfile[256], *end;
	struct vmpager_global_info gi;
	unsigned long long v;
	bool seeded = false;
	pid_t pids[16];
	double tend;
	unsigned int i, p;
	long long used;
	int c, r, fd, st, u;

	while ((c = getopt_long(argc, argv, "t:s:n:p:P:lh", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == 'l' || c == 1 || c == 2 || c == 3) {
			cfg.log |= c == 'l';
			cfg.uring &= c != 1;
			cfg.debugfs &= c != 2;
			cfg.load &= c != 3;
			continue;
		}
		if (c == '?') {
			usage(stderr);
			return 2;
		}
		errno = 0;
		v = strtoull(optarg, &end, 0);
		if (errno || *end || end == optarg ||
		    (c == 't' && (v < 1 || v > 7 * 86400)) || (c == 'p' && (v < 1 || v > 16)) ||
		    (c == 'P' && (v < 64 || v > (1 << 24)))) {
			fprintf(stderr, "vmpfuzz: bad value for -%c: %s\n", c, optarg);
			usage(stderr);
			return 2;
		}
		switch (c) {
		case 't':
			cfg.secs = v;
			break;
		case 's':
			cfg.seed = v;
			seeded = true;
			break;
		case 'n':
			cfg.ops = v;
			break;
		case 'p':
			cfg.procs = v;
			break;
		case 'P':
			cfg.pool = v;
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vmpfuzz: unexpected argument %s\n", argv[optind]);
		return 2;
	}
	if (!seeded)
		cfg.seed = vs_mix64((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..5\n");
	printf("# vmpfuzz: seed %llu (--seed %llu repeats every stream's choices)\n",
	       (unsigned long long)cfg.seed, (unsigned long long)cfg.seed);
	printf("# %u streams, %u s%s, pool %u%s%s\n", cfg.procs, cfg.secs,
	       cfg.ops ? " or --ops per stream" : "", cfg.pool, cfg.uring ? ", uring_cmd" : "",
	       cfg.debugfs ? ", debugfs writes and fault injection" : "");

	fsh = mmap(NULL, sizeof(*fsh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fsh == MAP_FAILED) {
		perror("vmpfuzz: shared counters");
		return 1;
	}
	snprintf(swapfile, sizeof(swapfile), "%s/vmpfuzz-%d.swap", vs_swapdir(), getpid());
	if (cfg.load) {
		unlink(swapfile);
		snprintf(params, sizeof(params), "pool_pages=%u swapfile=%s swap_pages=%u "
			 "max_obj_pages=4096", cfg.pool, swapfile, 16 * cfg.pool);
		r = vs_load(params);
		result(!r, "load", "%s", params);
		if (r) {
			printf("# %s: %s\nBail out!\n", vs_ko(), strerror(-r));
			return 1;
		}
	} else {
		result(vs_loaded(), "load", "module already loaded (--no-load)");
	}

	/* the canary: written once, only read afterwards */
	canary_pages = cfg.pool / 4;
	canary_fd = open(VMPAGER_DEVICE, O_RDWR);
	canary = canary_fd < 0 ? MAP_FAILED :
		 mmap(NULL, canary_pages * VS_PG, PROT_READ | PROT_WRITE, MAP_SHARED, canary_fd, 0);
	if (canary == MAP_FAILED) {
		printf("# canary object: %s\nBail out!\n", strerror(errno));
		return 1;
	}
	for (p = 0; p < canary_pages; p++)
		vs_fill(canary + p * VS_PG, CANARY_TAG, p, 1);

	/* the streams (the canary mapping is inherited: only op_canary reads it) */
	tend = vs_now() + cfg.secs;
	for (i = 0; i < cfg.procs; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("vmpfuzz: fork");
			return 1;
		}
		if (!pids[i])
			stream_main(i, tend);
	}
	for (i = 0; i < cfg.procs; i++) {
		if (waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st)) {
			cadd(F_bad_deaths, 1);
			printf("# stream %u died: status %#x\n", i, st);
		}
	}
	for (i = 0; i < fsh->nmsgs && i < 16; i++)
		printf("# unexpected: %s\n", fsh->msg[i]);
	printf("# fuzz counters:");
	for (i = 0; i < F_NR; i++)
		printf(" %s=%llu", fz_names[i], (unsigned long long)fsh->ctr[i]);
	printf("\n");
	result(fsh->ctr[F_unexpected] == 0 && fsh->ctr[F_bad_deaths] == 0 && fsh->ctr[F_ops] > 0,
	       "streams", "%llu operations in %u streams, %llu unexpected results, %llu bad deaths",
	       (unsigned long long)fsh->ctr[F_ops], cfg.procs,
	       (unsigned long long)fsh->ctr[F_unexpected],
	       (unsigned long long)fsh->ctr[F_bad_deaths]);

	/* undo the knobs, then the canary must be exact */
	if (cfg.debugfs) {
		vs_knob("fail_reads", "0");
		vs_knob("fail_writes", "0");
		vs_knob("fail_allocs", "0");
		vs_write_str(VS_SYSFS "/parameters/max_obj_pages", "4096");
	}
	for (r = 0, p = 0; p < canary_pages; p++)
		r += vs_check(canary + p * VS_PG, CANARY_TAG, p, 1) >= 0;
	result(!r, "canary", "%u of %u pages exact", canary_pages - r, canary_pages);

	r = vs_global(canary_fd, &gi);
	result(!r && gi.free_pages + gi.resident_pages + gi.orphaned_pages == gi.pool_pages,
	       "accounting", "free %llu + resident %llu + orphaned %llu == pool %llu",
	       (unsigned long long)gi.free_pages, (unsigned long long)gi.resident_pages,
	       (unsigned long long)gi.orphaned_pages, (unsigned long long)gi.pool_pages);
	munmap(canary, canary_pages * VS_PG);
	close(canary_fd);

	/*
	 * Everything closed: the pool is free, the swap empty, unload works.
	 * A killed grandchild's files may take a moment to go.
	 */
	fd = open(VMPAGER_DEVICE, O_RDWR);
	for (i = 0; i < 300; i++) {
		r = fd < 0 ? -errno : vs_global(fd, &gi);
		if (r || (gi.nr_objects == 1 && gi.resident_pages == 0))
			break;
		vs_sleep_ms(10);
	}
	if (fd >= 0)
		close(fd);
	used = vs_dfs_value("swap", "used");
	u = cfg.load ? vs_unload_wait(3000) : 0;
	result(!r && gi.nr_objects == 1 && gi.orphaned_pages == 0 &&
	       gi.free_pages == gi.pool_pages && used <= 0 && !u,
	       "teardown", "objects %llu (the probe), orphaned %llu, free %llu of %llu, swap slots "
	       "used %lld, unload %s", (unsigned long long)gi.nr_objects,
	       (unsigned long long)gi.orphaned_pages, (unsigned long long)gi.free_pages,
	       (unsigned long long)gi.pool_pages, used, u ? strerror(-u) : "ok");
	if (cfg.load)
		unlink(swapfile);
	printf("# vmpfuzz: %s; seed %llu\n", failures ? "FAILED" : "passed",
	       (unsigned long long)cfg.seed);
	return failures ? 1 : 0;
}
