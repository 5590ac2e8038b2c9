// SPDX-License-Identifier: GPL-2.0
/*
 * vmpbench common code: the output protocol (KTAP subtests, progress, CSV
 * and result lines), timing and statistics, loading the module, backend
 * probing, regions, and the guest plumbing for baselines (scratch disk
 * files, kernel swap files, cgroup v2).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "libvmpager.h"
#include "vmp_stat_names.h"

_Static_assert(ARRAY_SIZE(vmp_stat_names) == VMPAGER_NR_STATS,
	       "stat names cover every counter");

/* The daemon bk_start() started last: regions connect to its socket. */
static char daemon_sock[108], daemon_ctl[108];

const char *const backend_names[BK_NR] = {
	[BK_KERNEL] = "kernel", [BK_URING] = "uring", [BK_DAEMON] = "daemon",
};

/* ---- output ----------------------------------------------------------------- */

static struct {
	const char *bench;
	int planned, n, passed, failed, skipped;
} out;

void out_init(const char *bench, int planned)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	out.bench = bench;
	out.planned = planned;
	printf("TAP version 13\n1..%d\n", planned);
}

int out_finish(void)
{
	if (out.n != out.planned) {
		printf("check failed: %s planned %d rows, reported %d\n",
		       out.bench, out.planned, out.n);
		out.failed++;
	}
	printf("%s: %d ok, %d failed, %d skipped\n", out.bench, out.passed,
	       out.failed, out.skipped);
	fflush(stdout);
	if (out.failed)
		return 1;
	return out.passed ? 0 : 4;
}

static void vline(const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, stdout);
	vprintf(fmt, ap);
	putchar('\n');
}

void progress(const char *fmt, ...)
{
	va_list ap;

	printf("progress %s: ", out.bench);
	va_start(ap, fmt);
	vline("", fmt, ap);
	va_end(ap);
}

void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("", fmt, ap);
	va_end(ap);
}

void csv_header(const char *file, const char *cols)
{
	printf("csvh %s %s\n", file, cols);
}

void csv_row(const char *file, const char *fmt, ...)
{
	va_list ap;

	printf("csv %s ", file);
	va_start(ap, fmt);
	vline("", fmt, ap);
	va_end(ap);
}

void result(const char *figure, enum backend b, const char *unit, double vmp,
	    const char *base_name, double base, const char *better)
{
	/*
	 * See sane(): on a coarse clock a short time reads 0, which makes a
	 * time figure 0 and a rate infinite. Counts may be 0 for real.
	 */
	if (coarse_clock() &&
	    (!isfinite(vmp) || !isfinite(base) ||
	     ((!strncmp(unit, "ns", 2) || !strcmp(unit, "us")) && (vmp == 0 || base == 0)))) {
		result_skip(figure, b, "a time below the clock step of this kernel");
		return;
	}
	printf("result %s %s %s %.6g %s %.6g %.4f %s\n", figure,
	       backend_names[b], unit, vmp, base_name, base,
	       base > 0 ? vmp / base : NAN, better);
}

void result_skip(const char *figure, enum backend b, const char *reason)
{
	printf("result %s %s skipped: %s\n", figure, backend_names[b], reason);
}

void subtest(bool ok, const char *name)
{
	out.n++;
	if (ok)
		out.passed++;
	else
		out.failed++;
	printf("%sok %d %s\n", ok ? "" : "not ", out.n, name);
}

void subtest_skip(const char *name, const char *reason)
{
	out.n++;
	out.skipped++;
	printf("ok %d %s # SKIP %s\n", out.n, name, reason);
}

bool check(bool cond, const char *fmt, ...)
{
	va_list ap;

	if (cond)
		return true;
	va_start(ap, fmt);
	vline("check failed: ", fmt, ap);
	va_end(ap);
	return false;
}

bool sane(double v, const char *what)
{
	/*
	 * On a kernel whose clocksource is jiffies (the debug kernel under
	 * TCG: no HPET, steps of 4 ms) a short interval reads 0. That is no
	 * figure, not a broken benchmark: say so and go on.
	 */
	if (v == 0 && coarse_clock()) {
		note("%s = 0: below the clock step (%.0f ns) of this kernel; no figure",
		     what, clock_step_ns());
		return true;
	}
	return check(isfinite(v) && v > 0, "%s = %g is not a finite positive figure",
		     what, v);
}

/* ---- time and statistics ---------------------------------------------------- */

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * The step of CLOCK_MONOTONIC as observed, in ns: about 1 on a
 * high-resolution clocksource, a jiffy (4 ms at HZ=250) on a kernel that
 * runs on the jiffies clocksource (the debug kernel under TCG has no HPET).
 * clock_getres() reports the timer resolution, not this.
 */
double clock_step_ns(void)
{
	static double step;
	uint64_t t0, t1, best = UINT64_MAX;
	int i;

	if (step > 0)
		return step;
	for (i = 0; i < 5; i++) {
		t0 = now_ns();
		do
			t1 = now_ns();
		while (t1 == t0);
		if (t1 - t0 < best)
			best = t1 - t0;
	}
	step = (double)best;
	return step;
}

/* A clock step over 1 us: short intervals can read 0. */
bool coarse_clock(void)
{
	return clock_step_ns() > 1000;
}

int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double quantile(const double *sorted, size_t n, double q)
{
	double pos, frac;
	size_t i;

	if (!n)
		return NAN;
	pos = q * (double)(n - 1);
	i = (size_t)pos;
	if (i + 1 >= n)
		return sorted[n - 1];
	frac = pos - (double)i;
	return sorted[i] + frac * (sorted[i + 1] - sorted[i]);
}

double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return quantile(v, n, 0.5);
}

/* ---- options ------------------------------------------------------------------ */

unsigned long arg_ulong(const char *opt, const char *s, unsigned long min,
			unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v < min || v > max) {
		fprintf(stderr, "vmpbench: %s '%s': expected a number in %lu..%lu\n",
			opt, s, min, max);
		exit(2);
	}
	return v;
}

int arg_list(const char *opt, const char *s, unsigned long *v, int max,
	     unsigned long min, unsigned long lim)
{
	char *dup = strdup(s), *tok, *save = NULL;
	int n = 0;

	if (!dup) {
		fprintf(stderr, "vmpbench: out of memory\n");
		exit(2);
	}
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max) {
			fprintf(stderr, "vmpbench: %s: at most %d values\n", opt, max);
			exit(2);
		}
		v[n++] = arg_ulong(opt, tok, min, lim);
	}
	free(dup);
	if (!n) {
		fprintf(stderr, "vmpbench: %s: empty list\n", opt);
		exit(2);
	}
	return n;
}

/* ---- backends ----------------------------------------------------------------- */

int parse_backends(const char *s, unsigned int *mask)
{
	char *dup = strdup(s), *tok, *save = NULL;
	int b, ret = 0;

	if (!dup)
		return -ENOMEM;
	*mask = 0;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			*mask |= (1U << BK_NR) - 1;
			continue;
		}
		for (b = 0; b < BK_NR; b++)
			if (!strcmp(tok, backend_names[b]))
				break;
		if (b == BK_NR) {
			fprintf(stderr, "vmpbench: unknown backend '%s' (kernel, uring, daemon, all)\n",
				tok);
			ret = -EINVAL;
			break;
		}
		*mask |= 1U << b;
	}
	free(dup);
	if (!ret && !*mask)
		ret = -EINVAL;
	return ret;
}

static const char *ko_path(void)
{
	const char *p = getenv("VMP_KO");

	return p && *p ? p : VMP_KO_DEFAULT;
}

/*
 * vmpagerd: $VMPAGERD, else next to this program (the guest's /tests, or
 * build/guest/bin on the host).
 */
static int find_vmpagerd(char *path, size_t len)
{
	const char *env = getenv("VMPAGERD");
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (env && *env) {
		snprintf(path, len, "%s", env);
		return access(path, X_OK) ? -errno : 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -ENOENT;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	snprintf(path, len, "%s/vmpagerd", self);
	return access(path, X_OK) ? -errno : 0;
}

/* The io_uring swap server: vmpager-swapd next to us, else vmpagerd --swap-server. */
static bool vmpagerd_mentions(const char *path, const char *word);

static int find_swapd(char *path, size_t len, bool *via_vmpagerd)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	*via_vmpagerd = false;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(path, len, "%s/vmpager-swapd", self);
			if (!access(path, X_OK))
				return 0;
		}
	}
	if (!find_vmpagerd(path, len) && vmpagerd_mentions(path, "--swap-server")) {
		*via_vmpagerd = true;
		return 0;
	}
	return -ENOENT;
}

/* Does "vmpagerd --help" mention word? */
static bool vmpagerd_mentions(const char *path, const char *word)
{
	char cmd[PATH_MAX + 32], line[512];
	bool found = false;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' --help 2>&1", path);
	if (strchr(path, '\''))
		return false;
	f = popen(cmd, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, word))
			found = true;
	pclose(f);
	return found;
}

int backend_probe(enum backend b, char *reason, size_t len)
{
	char path[PATH_MAX];

	switch (b) {
	case BK_KERNEL:
		if (access(ko_path(), R_OK)) {
			snprintf(reason, len, "no module file %s (%s)", ko_path(),
				 strerror(errno));
			return -1;
		}
		return 0;
	case BK_URING: {
		bool via;

		if (access(ko_path(), R_OK)) {
			snprintf(reason, len, "no module file %s (%s)", ko_path(),
				 strerror(errno));
			return -1;
		}
		if (find_swapd(path, sizeof(path), &via)) {
			snprintf(reason, len,
				 "no io_uring swap server (vmpager-swapd or vmpagerd --swap-server, issue 5) next to vmpbench");
			return -1;
		}
		return 0;
	}
	case BK_DAEMON:
		if (find_vmpagerd(path, sizeof(path))) {
			snprintf(reason, len,
				 "vmpagerd not built: the userfaultfd daemon (issue 6) does not exist yet");
			return -1;
		}
		return 0;	/* the daemon needs no module */
	default:
		snprintf(reason, len, "unknown backend");
		return -1;
	}
}

/* ---- the module --------------------------------------------------------------- */

int mod_unload(void)
{
	int tries;

	if (access("/sys/module/vmpager", F_OK))
		return 0;
	/* A process that just exited may still hold the last file reference. */
	for (tries = 0; tries < 300; tries++) {
		if (!syscall(SYS_delete_module, "vmpager", O_NONBLOCK))
			return 0;
		if (errno != EAGAIN && errno != EBUSY)
			break;
		usleep(10000);
	}
	return -errno;
}

int mod_load(const char *fmt, ...)
{
	const char *more = getenv("VMPBENCH_MODPARAMS");
	char params[1024];
	size_t len;
	va_list ap;
	int fd, ret;

	va_start(ap, fmt);
	vsnprintf(params, sizeof(params), fmt, ap);
	va_end(ap);
	/* extra module parameters for A/B runs, e.g. policy=lirs */
	len = strlen(params);
	if (more && *more)
		snprintf(params + len, sizeof(params) - len, " %s", more);
	ret = mod_unload();
	if (ret) {
		printf("check failed: unloading the previous vmpager: %s\n",
		       strerror(-ret));
		return ret;
	}
	fd = open(ko_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		printf("check failed: open %s: %s\n", ko_path(), strerror(errno));
		return ret;
	}
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	if (ret)
		printf("check failed: loading vmpager.ko \"%s\": %s\n", params,
		       strerror(-ret));
	return ret;
}

int mod_info(int fd, struct vmpager_global_info *gi)
{
	memset(gi, 0, sizeof(*gi));
	if (ioctl(fd, VMPAGER_IOC_GLOBAL_INFO, gi)) {
		printf("check failed: VMPAGER_IOC_GLOBAL_INFO: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

int mod_debugfs_write(const char *name, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), VMP_DEBUGFS "/%s", name);
	return write_file(path, val);
}

/* ---- regions ------------------------------------------------------------------- */

int region_map(struct region *r, enum backend b, size_t pages)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->b = b;
	r->pages = pages;
	if (b == BK_DAEMON) {
		struct vmp_region_opts o = { .socket = daemon_sock };

		r->addr = vmp_region_alloc_opts(pages * PG, VMP_BACKEND_DAEMON, &o);
		if (!r->addr) {
			ret = errno ? -errno : -EIO;
			printf("check failed: a vmpagerd region of %zu pages: %s\n", pages,
			       vmp_region_strerror());
			return ret;
		}
		return 0;
	}
	r->fd = open(VMPAGER_DEVICE, O_RDWR | O_CLOEXEC);
	if (r->fd < 0) {
		ret = -errno;
		printf("check failed: open %s: %s\n", VMPAGER_DEVICE, strerror(errno));
		return ret;
	}
	r->addr = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		       r->fd, 0);
	if (r->addr == MAP_FAILED) {
		ret = -errno;
		printf("check failed: mmap %zu pages of %s: %s\n", pages,
		       VMPAGER_DEVICE, strerror(errno));
		close(r->fd);
		r->fd = -1;
		r->addr = NULL;
		return ret;
	}
	return 0;
}

void region_unmap(struct region *r)
{
	if (r->addr && r->b == BK_DAEMON)
		vmp_region_free(r->addr);
	else if (r->addr)
		munmap(r->addr, r->pages * PG);
	if (r->fd >= 0)
		close(r->fd);
	r->addr = NULL;
	r->fd = -1;
}

/* ---- files ----------------------------------------------------------------------- */

const char *disk_dir(char *reason, size_t len)
{
	const char *d = getenv("VMP_DIRECT_DIR");
	struct statfs sfs;

	if (!d || !*d) {
		snprintf(reason, len,
			 "no scratch disk: VMP_DIRECT_DIR is unset (kernel swap and O_DIRECT need a block-backed filesystem)");
		return NULL;
	}
	if (statfs(d, &sfs)) {
		snprintf(reason, len, "VMP_DIRECT_DIR=%s: %s", d, strerror(errno));
		return NULL;
	}
	if ((unsigned long)sfs.f_type == 0x01021994UL) {	/* TMPFS_MAGIC */
		snprintf(reason, len, "VMP_DIRECT_DIR=%s is tmpfs: it can neither swap nor O_DIRECT",
			 d);
		return NULL;
	}
	return d;
}

int write_file(const char *path, const char *s)
{
	ssize_t len = strlen(s);
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, s, len) != len)
		ret = errno ? -errno : -EIO;
	close(fd);
	return ret;
}

int prealloc_file(const char *path, uint64_t bytes)
{
	int fd, ret = 0;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fallocate(fd, 0, 0, (off_t)bytes))
		ret = -errno;
	close(fd);
	return ret;
}

int make_kernel_swap(const char *path, uint64_t pages)
{
	const size_t chunk = 1UL << 20;
	uint64_t left = pages * PG;
	char *buf;
	int fd, ret = 0;

	if (pages < 2 || pages > UINT32_MAX)
		return -EINVAL;
	buf = calloc(1, chunk);
	if (!buf)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out_free;
	}
	/* Written, not fallocated: swapon refuses files with holes. */
	while (left) {
		size_t n = left < chunk ? left : chunk;

		if (write(fd, buf, n) != (ssize_t)n) {
			ret = errno ? -errno : -EIO;
			goto out_close;
		}
		left -= n;
	}
	/*
	 * The v1 swap header in page 0 (include/linux/swap.h, union
	 * swap_header): version at byte 1024, last_page at 1028, nr_badpages
	 * at 1032, "SWAPSPACE2" in the last 10 bytes of the page.
	 */
	memset(buf, 0, PG);
	*(uint32_t *)(buf + 1024) = 1;
	*(uint32_t *)(buf + 1028) = (uint32_t)(pages - 1);
	memcpy(buf + PG - 10, "SWAPSPACE2", 10);
	if (pwrite(fd, buf, PG, 0) != (ssize_t)PG || fsync(fd))
		ret = errno ? -errno : -EIO;
out_close:
	close(fd);
out_free:
	free(buf);
	return ret;
}

/* ---- cgroup v2 ----------------------------------------------------------------- */

#define CG_ROOT	"/sys/fs/cgroup"

int cgroup_setup(const char *name, uint64_t bytes, char *dir, size_t dlen,
		 char *reason, size_t rlen)
{
	char path[512], val[64], *ctl = NULL;
	struct statfs sfs;
	FILE *f;
	int ret;

	if (statfs(CG_ROOT, &sfs) || (unsigned long)sfs.f_type != 0x63677270UL) {
		/* not CGROUP2_SUPER_MAGIC: mount it */
		mkdir(CG_ROOT, 0755);
		if (mount("none", CG_ROOT, "cgroup2", 0, NULL)) {
			ret = -errno;
			snprintf(reason, rlen, "mount -t cgroup2 %s: %s", CG_ROOT,
				 strerror(errno));
			return ret;
		}
	}
	f = fopen(CG_ROOT "/cgroup.controllers", "r");
	if (f) {
		size_t cap = 0;

		if (getline(&ctl, &cap, f) < 0) {
			free(ctl);
			ctl = NULL;
		}
		fclose(f);
	}
	if (!ctl || !strstr(ctl, "memory")) {
		free(ctl);
		snprintf(reason, rlen, "cgroup v2 has no memory controller");
		return -ENOTSUP;
	}
	free(ctl);
	ret = write_file(CG_ROOT "/cgroup.subtree_control", "+memory");
	if (ret) {
		snprintf(reason, rlen, "enabling +memory in %s/cgroup.subtree_control: %s",
			 CG_ROOT, strerror(-ret));
		return ret;
	}
	snprintf(dir, dlen, CG_ROOT "/%s", name);
	if (mkdir(dir, 0755) && errno != EEXIST) {
		ret = -errno;
		snprintf(reason, rlen, "mkdir %s: %s", dir, strerror(errno));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/memory.max", dir);
	snprintf(val, sizeof(val), "%llu", (unsigned long long)bytes);
	ret = write_file(path, val);
	if (!ret) {
		snprintf(path, sizeof(path), "%s/memory.swap.max", dir);
		ret = write_file(path, "max");
	}
	if (ret) {
		snprintf(reason, rlen, "writing %s: %s", path, strerror(-ret));
		return ret;
	}
	return 0;
}

int cgroup_enter(const char *dir)
{
	char path[512], val[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(val, sizeof(val), "%d", (int)getpid());
	return write_file(path, val);
}

void cgroup_remove(const char *dir)
{
	int tries;

	/* The memcg of a process just reaped can take a moment to empty. */
	for (tries = 0; tries < 100; tries++) {
		if (!rmdir(dir) || errno == ENOENT)
			return;
		usleep(10000);
	}
}

/* ---- whole backends that cannot run --------------------------------------------- */

void skip_cells(const char *bench, enum backend b, int cells, const char *reason)
{
	char name[96];
	int i;

	result_skip(bench, b, reason);
	for (i = 0; i < cells; i++) {
		snprintf(name, sizeof(name), "%s.%s.%d", bench, backend_names[b], i + 1);
		subtest_skip(name, reason);
	}
}

void fail_cells(const char *bench, enum backend b, int cells)
{
	char name[96];
	int i;

	for (i = 0; i < cells; i++) {
		snprintf(name, sizeof(name), "%s.%s.%d", bench, backend_names[b], i + 1);
		subtest(false, name);
	}
}

/* ---- a running backend ------------------------------------------------------------ */

/* debugfs "swap" says "server STATE" (none, online, offline). */
static bool server_is(const char *state)
{
	char buf[4096], want[32];
	ssize_t n;
	int fd;

	fd = open(VMP_DEBUGFS "/swap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	snprintf(want, sizeof(want), "server %s\n", state);
	return strstr(buf, want) != NULL;
}

static int start_swapd(struct bk *k, size_t slots)
{
	char path[PATH_MAX], s[32];
	bool via;
	int ms, st;

	if (find_swapd(path, sizeof(path), &via)) {
		printf("check failed: no io_uring swap server binary\n");
		return -ENOENT;
	}
	snprintf(s, sizeof(s), "%zu", slots);
	unlink(k->swap);
	fflush(stdout);
	k->server = fork();
	if (k->server < 0)
		return -errno;
	if (k->server == 0) {
		if (via)
			execl(path, path, "--swap-server", "-q", "-s", s, k->swap, (char *)NULL);
		else
			execl(path, path, "-q", "-s", s, k->swap, (char *)NULL);
		_exit(127);
	}
	for (ms = 0; ms < 20000; ms += 20) {
		if (server_is("online"))
			return 0;
		if (waitpid(k->server, &st, WNOHANG) == k->server) {
			printf("check failed: %s exited with status 0x%x before going online\n",
			       path, st);
			k->server = 0;
			return -ECHILD;
		}
		usleep(20000);
	}
	printf("check failed: %s not online after 20 s\n", path);
	return -ETIMEDOUT;
}

/* ---- vmpagerd ---- */

/* One control-socket command; the answer up to "end" (malloc'd) or NULL. */
static char *daemon_cmd(const char *ctl, const char *cmd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t cap = 16384, len = 0;
	char *buf = NULL;
	ssize_t n;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ctl);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) != (ssize_t)strlen(cmd) ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1)
		goto out;
	buf = malloc(cap);
	while (buf) {
		if (cap - len < 1024) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += n;
		buf[len] = '\0';
		if (len >= 4 && !strcmp(buf + len - 4, "end\n"))
			break;
	}
	if (buf)
		buf[len] = '\0';
out:
	close(fd);
	return buf;
}

bool run_in_child(const char *who, void (*fn)(const void *arg, void *res),
		  const void *arg, void *res, size_t size)
{
	void *mine;
	int fds[2], st;
	ssize_t n;
	pid_t pid;

	if (pipe(fds))
		return check(false, "pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return check(false, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		mine = calloc(1, size);
		if (!mine)
			_exit(1);
		fn(arg, mine);
		_exit(write(fds[1], mine, size) == (ssize_t)size ? 0 : 1);
	}
	close(fds[1]);
	do
		n = read(fds[0], res, size);
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(st))
		return check(false, "%s workload killed by signal %d (%s)", who,
			     WTERMSIG(st), WTERMSIG(st) == SIGBUS ? "SIGBUS: no frame" :
			     WTERMSIG(st) == SIGKILL ? "SIGKILL: OOM?" : strsignal(WTERMSIG(st)));
	if (n != (ssize_t)size || !WIFEXITED(st) || WEXITSTATUS(st))
		return check(false, "%s workload exited with status 0x%x", who, st);
	return true;
}

int region_stats(const struct region *r, struct vmpager_global_info *gi)
{
	char *ans, *line, *save = NULL, name[64];
	unsigned long long v;
	unsigned int i;

	if (r->b != BK_DAEMON)
		return mod_info(r->fd, gi);
	memset(gi, 0, sizeof(*gi));
	ans = daemon_cmd(daemon_ctl, "stats");
	if (!ans || !strstr(ans, "end\n")) {
		free(ans);
		printf("check failed: vmpagerd \"stats\" on %s: no answer\n", daemon_ctl);
		return -EIO;
	}
	for (line = strtok_r(ans, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%63s %llu", name, &v) != 2)
			continue;
		for (i = 0; i < VMPAGER_NR_STATS; i++)
			if (!strcmp(name, vmp_stat_names[i]))
				gi->stats[i] = v;
	}
	gi->nr_stats = VMPAGER_NR_STATS;
	free(ans);
	return 0;
}

/* One of the daemon's own counters by name (0 for the module, or on error). */
unsigned long long region_daemon_stat(const struct region *r, const char *stat)
{
	char *ans, *line, *save = NULL, name[64];
	unsigned long long v, got = 0;

	if (r->b != BK_DAEMON)
		return 0;
	ans = daemon_cmd(daemon_ctl, "stats");
	if (!ans)
		return 0;
	for (line = strtok_r(ans, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%63s %llu", name, &v) == 2 && !strcmp(name, stat))
			got = v;
	free(ans);
	return got;
}

/*
 * VMPBENCH_TRACE_MARK=DIR (a tracefs directory; any other value means
 * /sys/kernel/tracing): at a label ending in "-start", tracing on and
 * "vmpbench BACKEND LABEL" in the trace buffer (trace_marker); at the next
 * label, its marker and tracing off. So a trace holds only the phases that
 * region_dump_stats() brackets (userspace/bench/trace-swapin.sh); labels
 * outside such a pair write nothing.
 */
static void trace_write(const char *file, const char *text)
{
	const char *dir = getenv("VMPBENCH_TRACE_MARK");
	size_t len = strlen(text);
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s",
		 dir && dir[0] == '/' ? dir : "/sys/kernel/tracing", file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		note("VMPBENCH_TRACE_MARK: %s: %s", path, strerror(errno));
		return;
	}
	n = write(fd, text, len);
	if (n != (ssize_t)len)
		note("VMPBENCH_TRACE_MARK: %s: %s", path,
		     n < 0 ? strerror(errno) : "short write");
	close(fd);
}

static void trace_mark(const struct region *r, const char *label)
{
	static bool on;
	size_t n = strlen(label);
	bool start = n >= 6 && !strcmp(label + n - 6, "-start");
	char line[96];

	if (!getenv("VMPBENCH_TRACE_MARK") || (!start && !on))
		return;
	snprintf(line, sizeof(line), "vmpbench %s %s\n", backend_names[r->b], label);
	if (start)
		trace_write("tracing_on", "1");
	trace_write("trace_marker", line);
	if (!start)
		trace_write("tracing_on", "0");
	on = start;
}

/*
 * With VMPBENCH_DAEMON_STATS set, print every nonzero counter of the
 * daemon's "stats" (cumulative since it started) as progress lines
 * "daemon-stats LABEL NAME VALUE": the daemon's own counters, which the
 * figures do not show (fault_around, reclaim_direct, ...); then its fault
 * service latency histogram, "daemon-hist LABEL LE_US COUNT".
 */
void region_dump_stats(const struct region *r, const char *label)
{
	char *ans, *line, *save = NULL, name[64];
	unsigned long long v;

	trace_mark(r, label);
	if (r->b != BK_DAEMON || !getenv("VMPBENCH_DAEMON_STATS"))
		return;
	ans = daemon_cmd(daemon_ctl, "stats");
	if (!ans)
		return;
	for (line = strtok_r(ans, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%63s %llu", name, &v) == 2 && v)
			progress("daemon-stats %s %s %llu", label, name, v);
	free(ans);
	/* the service latency histogram: "LE_US COUNT", cumulative */
	ans = daemon_cmd(daemon_ctl, "hist");
	if (!ans)
		return;
	save = NULL;
	for (line = strtok_r(ans, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%63s %llu", name, &v) == 2 && v)
			progress("daemon-hist %s %s %llu", label, name, v);
	free(ans);
}

int region_stats_settled(const struct region *r, struct vmpager_global_info *gi)
{
	struct vmpager_global_info next;
	int i, ret = region_stats(r, gi);

	if (ret || r->b != BK_DAEMON)
		return ret;
	for (i = 0; i < 200; i++) {
		usleep(10000);
		ret = region_stats(r, &next);
		if (ret)
			return ret;
		if (!memcmp(next.stats, gi->stats, sizeof(next.stats)))
			return 0;
		*gi = next;
	}
	return 0;
}

int region_stats_after(const struct region *r, const struct vmpager_global_info *before,
		       struct vmpager_global_info *gi)
{
	int i, ret;

	for (i = 0; i < 2000; i++) {
		ret = region_stats(r, gi);
		if (ret || r->b != BK_DAEMON || DST(*before, *gi, faults) > 0)
			return ret;
		usleep(500);
	}
	return 0;
}

/*
 * VMPBENCH_DAEMON_CMDS="poll_us 100000;watermarks 8,16,32": control commands
 * sent to every vmpagerd the benchmark starts, once it answers, for
 * experiments with its knobs. A command the daemon refuses is an error.
 */
static int daemon_extra_cmds(const char *ctl)
{
	const char *env = getenv("VMPBENCH_DAEMON_CMDS");
	char *list, *cmd, *save = NULL, *ans;
	int ret = 0;

	if (!env || !*env)
		return 0;
	list = strdup(env);
	if (!list)
		return -ENOMEM;
	for (cmd = strtok_r(list, ";", &save); cmd && !ret; cmd = strtok_r(NULL, ";", &save)) {
		cmd += strspn(cmd, " \t");
		if (!*cmd)
			continue;
		ans = daemon_cmd(ctl, cmd);
		if (!ans || !strstr(ans, "end\n") || !strncmp(ans, "error ", 6)) {
			printf("check failed: VMPBENCH_DAEMON_CMDS: '%s': %s\n", cmd,
			       ans ? ans : "no answer");
			ret = -EINVAL;
		} else {
			note("vmpagerd: %s", cmd);
		}
		free(ans);
	}
	free(list);
	return ret;
}

static int start_daemon(struct bk *k, size_t pool, size_t swap_pages, const char *disk,
			const char *extra)
{
	char path[PATH_MAX], sw[24], fr[24], ca[24], *ans;
	const char *policy = strstr(extra, "policy=");
	char pol[32] = "lirs";
	size_t cache;
	int i, st;

	if (find_vmpagerd(path, sizeof(path))) {
		printf("check failed: no vmpagerd binary\n");
		return -ENOENT;
	}
	if (policy)
		sscanf(policy + 7, "%31[a-z0-9]", pol);
	snprintf(k->dir, sizeof(k->dir), "%s/vmpbench-d.XXXXXX", disk);
	if (!mkdtemp(k->dir)) {
		printf("check failed: mkdtemp %s: %s\n", k->dir, strerror(errno));
		k->dir[0] = '\0';
		return -errno;
	}
	snprintf(k->sock, sizeof(k->sock), "%s/sock", k->dir);
	snprintf(k->ctl, sizeof(k->ctl), "%s/ctl", k->dir);
	snprintf(k->swap, sizeof(k->swap), "%s/swap", k->dir);
	/*
	 * The same memory as the module's pool: frames + soft-eviction cache
	 * (the cache holds pages taken from the client, so it is memory too).
	 */
	cache = pool / 16 > 32 ? pool / 16 : 32;
	snprintf(sw, sizeof(sw), "%zu", swap_pages ? swap_pages : 1024);
	snprintf(fr, sizeof(fr), "%zu", pool - cache);
	snprintf(ca, sizeof(ca), "%zu", cache);
	fflush(stdout);
	k->server = fork();
	if (k->server < 0)
		return -errno;
	if (k->server == 0) {
		execl(path, path, "--socket", k->sock, "--ctl", k->ctl, "--swapfile", k->swap,
		      "--swap-pages", sw, "--frames", fr, "--client-frames", fr,
		      "--cache-pages", ca, "--client-cache", ca, "--policy", pol,
		      "--threads", "2", "--log-level", "warn", (char *)NULL);
		_exit(127);
	}
	/* Ready when the control thread answers (after the privilege drop). */
	for (i = 0; i < 1000; i++) {
		ans = daemon_cmd(k->ctl, "policy");
		if (ans && strstr(ans, "end\n")) {
			free(ans);
			snprintf(daemon_sock, sizeof(daemon_sock), "%s", k->sock);
			snprintf(daemon_ctl, sizeof(daemon_ctl), "%s", k->ctl);
			return daemon_extra_cmds(k->ctl);
		}
		free(ans);
		if (waitpid(k->server, &st, WNOHANG) == k->server) {
			printf("check failed: vmpagerd exited with status 0x%x at start\n", st);
			k->server = 0;
			return -ECHILD;
		}
		usleep(20000);
	}
	printf("check failed: vmpagerd not answering on %s after 20 s\n", k->ctl);
	return -ETIMEDOUT;
}

int bk_readahead(struct bk *k, unsigned int pages)
{
	char cmd[32], *ans;
	int ret;

	snprintf(cmd, sizeof(cmd), "%u", pages);
	if (k->b != BK_DAEMON)
		return mod_debugfs_write("readahead", cmd);
	snprintf(cmd, sizeof(cmd), "readahead %u", pages);
	ans = daemon_cmd(k->ctl, cmd);
	ret = ans && strstr(ans, "end\n") && !strstr(ans, "error") ? 0 : -EIO;
	free(ans);
	return ret;
}

int bk_start(struct bk *k, enum backend b, size_t pool, size_t swap_pages,
	     const char *disk, const char *extra)
{
	int ret;

	memset(k, 0, sizeof(*k));
	k->b = b;
	switch (b) {
	case BK_KERNEL:
		if (!disk || !swap_pages)
			return mod_load("pool_pages=%zu %s", pool, extra);
		snprintf(k->swap, sizeof(k->swap), "%s/vmpbench-swap", disk);
		unlink(k->swap);
		return mod_load("pool_pages=%zu swapfile=%s swap_pages=%zu %s", pool, k->swap,
				swap_pages, extra);
	case BK_URING:
		if (!disk) {
			printf("check failed: the io_uring swap server needs the scratch disk\n");
			return -ENODEV;
		}
		ret = mod_load("pool_pages=%zu %s", pool, extra);
		if (ret)
			return ret;
		snprintf(k->swap, sizeof(k->swap), "%s/vmpbench-srv.swap", disk);
		ret = start_swapd(k, swap_pages ? swap_pages : 1024);
		if (ret) {
			bk_stop(k);
			return ret;
		}
		return 0;
	case BK_DAEMON:
		if (!disk) {
			printf("check failed: vmpagerd's swap file needs the scratch disk\n");
			return -ENODEV;
		}
		ret = start_daemon(k, pool, swap_pages, disk, extra);
		if (ret)
			bk_stop(k);
		return ret;
	default:
		return -EINVAL;
	}
}

int bk_stop(struct bk *k)
{
	int ret = 0, st;

	if (k->server > 0) {
		kill(k->server, SIGTERM);	/* detaches and exits 0 */
		while (waitpid(k->server, &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			printf("check failed: %s ended with status 0x%x\n",
			       k->b == BK_DAEMON ? "vmpagerd" : "the swap server", st);
			ret = -EIO;
		}
		k->server = 0;
	}
	if (k->b != BK_DAEMON && mod_unload()) {
		printf("check failed: vmpager did not unload\n");
		ret = -EBUSY;
	}
	if (k->swap[0])
		unlink(k->swap);
	if (k->dir[0]) {
		unlink(k->sock);
		unlink(k->ctl);
		rmdir(k->dir);
	}
	if (ret)
		out.failed++;	/* no row to pin it on: the program fails */
	return ret;
}
