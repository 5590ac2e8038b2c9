// SPDX-License-Identifier: GPL-2.0
/*
 * Inspection and the newer knobs, checked against what the test just did:
 * debugfs walk (and rmap agreeing with it), the vmpager:* tracepoints,
 * soft-unmap aging, swap areas added by ioctl and striping over files.
 */
#include <sys/stat.h>
#include "vmp_test.h"

#define POOL	256
#define TRACING	"/sys/kernel/tracing"

/* "key value" line of a debugfs table, or -1. */
static long long dfs_value(const char *file, const char *key)
{
	char path[128], *buf, *line, *save = NULL;
	long long v = -1;
	size_t kl = strlen(key);

	snprintf(path, sizeof(path), VMP_DEBUGFS "/%s", file);
	buf = vmp_read_file(path);
	if (!buf)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, key, kl) && line[kl] == ' ')
			v = atoll(line + kl + 1);
	free(buf);
	return v;
}

/* Write "pid addr" to walk; 0 and the text in *out, or -errno. */
static int walk(pid_t pid, const void *addr, char **out)
{
	char req[64], *buf;
	int fd, ret = 0;

	fd = open(VMP_DEBUGFS "/walk", O_RDWR);
	if (fd < 0)
		return -errno;
	snprintf(req, sizeof(req), "%d %#lx", pid, (unsigned long)addr);
	buf = calloc(1, 4096);
	if (!buf)
		ret = -ENOMEM;
	else if (write(fd, req, strlen(req)) < 0)
		ret = -errno;
	else if (pread(fd, buf, 4095, 0) < 0)
		ret = -EIO;
	close(fd);
	if (ret)
		free(buf);
	else
		*out = buf;
	return ret;
}

static const char *find_line(const char *text, const char *prefix)
{
	const char *p = text;
	size_t l = strlen(prefix);

	while (p && *p) {
		if (!strncmp(p, prefix, l))
			return p;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

TEST(walk_lands_on_the_frame_rmap_lists)
{
	struct vmpager_obj_info oi;
	unsigned int frame;
	unsigned long long obj;
	unsigned long idx;
	char *text = NULL, *rm, req[32], want[64];
	const char *res;
	bool same_table;
	char *p, *q;
	int fd;

	ASSERT_EQ(0, vmp_load("pool_pages=256"));
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, 8, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	p[3 * PG] = 1;
	ASSERT_EQ(0, vmp_obj(fd, &oi));
	ASSERT_EQ(0, walk(getpid(), p + 3 * PG + 100, &text));
	TH_LOG("walk:\n%s", text);
	ASSERT_NE(NULL, find_line(text, "pte "));
	EXPECT_NE(NULL, strstr(find_line(text, "pte "), " present"));
	EXPECT_NE(NULL, strstr(find_line(text, "pte "), " dirty"));
	EXPECT_NE(NULL, strstr(text, "vmpager yes"));
	res = find_line(text, "result ");
	ASSERT_NE(NULL, res);
	ASSERT_EQ(3, sscanf(res, "result frame %u pool yes obj %llu index %lu",
			    &frame, &obj, &idx));
	EXPECT_EQ(oi.id, obj);
	EXPECT_EQ(3UL, idx);
	free(text);

	/* rmap of that frame lists this process at that address */
	snprintf(req, sizeof(req), "%u", frame);
	{
		int rfd = open(VMP_DEBUGFS "/rmap", O_RDWR);

		ASSERT_LE(0, rfd);
		ASSERT_EQ((ssize_t)strlen(req), write(rfd, req, strlen(req)));
		rm = calloc(1, 4096);
		ASSERT_LT(0, pread(rfd, rm, 4095, 0));
		close(rfd);
	}
	snprintf(want, sizeof(want), "%d %#lx shared", getpid(),
		 (unsigned long)(p + 3 * PG));
	EXPECT_NE(NULL, strstr(rm, want)) TH_LOG("rmap:\n%s", rm);
	free(rm);

	/*
	 * An untouched page: no PTE. It is in the same page table as page 3
	 * unless the mapping crosses a 2 MiB boundary between them (ASLR);
	 * then the walk stops earlier, at an empty PMD.
	 */
	ASSERT_EQ(0, walk(getpid(), p + 5 * PG, &text));
	same_table = (uintptr_t)(p + 3 * PG) >> 21 == (uintptr_t)(p + 5 * PG) >> 21;
	EXPECT_NE(NULL, find_line(text, same_table ? "result none level pte" :
						      "result none level "))
		TH_LOG("%s", text);
	free(text);

	/* a private COW copy is not a pool page */
	q = vmp_map(fd, 0, 8, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, q);
	q[3 * PG] = 2;
	ASSERT_EQ(0, walk(getpid(), q + 3 * PG, &text));
	EXPECT_NE(NULL, strstr(text, "pool no")) TH_LOG("%s", text);
	free(text);

	/* bad input: the write fails with a precise errno, nothing printed */
	{
		int wfd = open(VMP_DEBUGFS "/walk", O_RDWR);

		ASSERT_LE(0, wfd);
		EXPECT_EQ(-1, write(wfd, "nonsense", 8));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(-1, write(wfd, "999999 0x1000", 13));
		EXPECT_EQ(ESRCH, errno);
		close(wfd);
	}
	EXPECT_EQ(-EFAULT, walk(getpid(), (void *)0x1000, &text));
	munmap(q, 8 * PG);
	munmap(p, 8 * PG);
	close(fd);
	EXPECT_EQ(0, vmp_unload());
}

/* Count lines of the trace buffer holding @needle. */
static long trace_count(const char *needle)
{
	char *buf = vmp_read_file(TRACING "/trace");
	long n = 0;
	char *s;

	if (!buf)
		return -1;
	for (s = buf; (s = strstr(s, needle)); s++)
		n++;
	free(buf);
	return n;
}

TEST(tracepoints_count_what_happened)
{
	struct vmpager_global_info a, b;
	char path[128], *p;
	int fd, i;

	if (access(TRACING "/events", F_OK))
		SKIP(return, "no tracefs at " TRACING);
	unlink("/tmp/vmp-inspect.swap");
	ASSERT_EQ(0, vmp_load("pool_pages=64 swapfile=/tmp/vmp-inspect.swap swap_pages=1024 policy=fifo"));
	snprintf(path, sizeof(path), TRACING "/events/vmpager/enable");
	ASSERT_EQ(0, access(path, W_OK)) TH_LOG("no vmpager events in tracefs");
	ASSERT_EQ(0, vmp_write_file(TRACING "/buffer_size_kb", "4096"));
	ASSERT_EQ(0, vmp_write_file(TRACING "/trace", ""));
	ASSERT_EQ(0, vmp_write_file(path, "1"));
	ASSERT_EQ(0, vmp_write_file(TRACING "/tracing_on", "1"));
	fd = vmp_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vmp_global_fd(fd, &a));
	p = vmp_map(fd, 0, 256, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, 256, 0x21);		/* 4x the pool: evictions, writes */
	EXPECT_EQ(-1, vmp_check(p, 0, 256, 0x21));	/* swap-ins */
	/*
	 * Writes and read-ahead complete on the I/O workqueue and the reclaim
	 * kthread may still run: count only once the module is quiet, so the
	 * counters and the trace cover the same events.
	 */
	ASSERT_EQ(0, vmp_global_settled(fd, &b, 10000));
	ASSERT_EQ(0, vmp_write_file(path, "0"));
	EXPECT_EQ((long)DST(a, b, faults), trace_count("vmpager_fault:"));
	EXPECT_EQ((long)DST(a, b, faults_zero), trace_count("kind=zero"));
	EXPECT_EQ((long)DST(a, b, faults_major), trace_count("kind=major"));
	EXPECT_EQ((long)DST(a, b, evict_written), trace_count("reason=written"));
	EXPECT_EQ((long)(DST(a, b, swap_outs) + DST(a, b, write_errors)),
		  trace_count("vmpager_swap_done: write"));
	EXPECT_EQ((long)(DST(a, b, swap_ins) + DST(a, b, read_errors)),
		  trace_count("vmpager_swap_done: read"));
	EXPECT_EQ((long)DST(a, b, reclaim_runs), trace_count("vmpager_reclaim_end:"));
	EXPECT_LT(0, trace_count("vmpager_swap_submit:"));
	i = trace_count("latency_ns=");
	EXPECT_LT(0, i);
	munmap(p, 256 * PG);
	close(fd);
	vmp_write_file(TRACING "/trace", "");
	EXPECT_EQ(0, vmp_unload());
	unlink("/tmp/vmp-inspect.swap");
}

/*
 * A hot set kept in use while a stream goes by: with soft-unmap aging the
 * FIFO victims that are still mapped get unmapped and requeued, the next
 * touch is a minor fault (a reference), and the hot set stays resident;
 * without it FIFO evicts the hot set like any other page.
 */
static long hot_set_majors(struct __test_metadata *_metadata, int soft,
			   long long *soft_unmaps, long long *soft_refs)
{
	struct vmpager_global_info a, b, c;
	const size_t hot = 32, stream = 3 * POOL;
	size_t i, j;
	char *p;
	int fd;

	unlink("/tmp/vmp-inspect.swap");
	if (vmp_load("pool_pages=256 swapfile=/tmp/vmp-inspect.swap swap_pages=2048 policy=fifo"))
		return -1;
	vmp_write_file(VMP_DEBUGFS "/ref_source", soft ? "soft-unmap" : "faults");
	/* no readahead: every return of an evicted hot page is a major fault */
	vmp_write_file(VMP_DEBUGFS "/readahead", "0");
	/*
	 * Exact watermarks: each allocation that finds no frame reclaims one,
	 * in the faulting task. With the reclaim thread, how many frames a
	 * pass frees depends on when it runs, and a big pass evicts mapped
	 * victims directly once its soft unmaps are used up (26 to 51 major
	 * faults with aging in CI runs).
	 */
	vmp_write_file(VMP_DEBUGFS "/watermarks", "0 0 0");
	fd = vmp_open();
	p = vmp_map(fd, 0, hot + stream, MAP_SHARED);
	if (fd < 0 || p == MAP_FAILED)
		return -1;
	vmp_global_fd(fd, &a);
	vmp_fill(p, 0, hot, 0x31);
	for (i = 0; i < stream; i++) {
		vmp_fill(p + (hot + i) * PG, hot + i, 1, 0x32);
		if (i % 16 == 15)
			for (j = 0; j < hot; j++)
				(void)*(volatile char *)(p + j * PG);
	}
	vmp_global_fd(fd, &b);
	EXPECT_EQ(-1, vmp_check(p, 0, hot, 0x31));
	vmp_global_fd(fd, &c);
	*soft_unmaps = DST(a, b, soft_unmaps);
	*soft_refs = DST(a, b, soft_refs);
	TH_LOG("soft_unmap=%d: majors while streaming %llu, on the final hot read %llu, soft_unmaps %lld soft_refs %lld",
	       soft, DST(a, b, faults_major), DST(b, c, faults_major),
	       *soft_unmaps, *soft_refs);
	munmap(p, (hot + stream) * PG);
	close(fd);
	EXPECT_EQ(0, vmp_unload());
	unlink("/tmp/vmp-inspect.swap");
	return DST(a, b, faults_major) + DST(b, c, faults_major);
}

TEST(soft_unmap_keeps_a_touched_hot_set)
{
	long long su_on, sr_on, su_off, sr_off;
	long on, off;

	off = hot_set_majors(_metadata, 0, &su_off, &sr_off);
	on = hot_set_majors(_metadata, 1, &su_on, &sr_on);
	ASSERT_LE(0, off);
	ASSERT_LE(0, on);
	EXPECT_EQ(0, su_off);
	EXPECT_LT(0, su_on);
	EXPECT_LT(0, sr_on);
	/*
	 * Without aging FIFO evicts the 32 hot pages every trip of the queue;
	 * with it most of them stay. Some may still go: a pass that has used
	 * its 32 soft unmaps evicts the next mapped victim directly.
	 */
	EXPECT_LE(32, off);
	EXPECT_LT(on * 2, off);
}

TEST(watermarks_exact_mode_and_refusals)
{
	ASSERT_EQ(0, vmp_load("pool_pages=256"));
	EXPECT_EQ(0, vmp_write_file(VMP_DEBUGFS "/watermarks", "0 0 0"));
	EXPECT_EQ(0, dfs_value("watermarks", "0"));	/* header "min low high" */
	EXPECT_NE(0, vmp_write_file(VMP_DEBUGFS "/watermarks", "5 3 1"));
	EXPECT_NE(0, vmp_write_file(VMP_DEBUGFS "/watermarks", "0 0 1"));
	EXPECT_NE(0, vmp_write_file(VMP_DEBUGFS "/soft_unmap", "2"));
	EXPECT_EQ(0, vmp_write_file(VMP_DEBUGFS "/watermarks", "4 8 16"));
	EXPECT_EQ(0, vmp_unload());
}

static int swap_add(int devfd, int fd, uint64_t pages, uint32_t flags)
{
	struct vmpager_swap_add sa = { .fd = fd, .flags = flags, .pages = pages };

	return ioctl(devfd, VMPAGER_IOC_SWAP_ADD, &sa) ? -errno : 0;
}

TEST(swap_add_by_ioctl)
{
	char a[256], b[256];
	int dev, fa, fb, ro, loose;
	char *p;
	pid_t pid;

	snprintf(a, sizeof(a), "%s/vmp-add-a.swap", vmp_swap_dir());
	snprintf(b, sizeof(b), "%s/vmp-add-b.swap", vmp_swap_dir());
	unlink(a);
	unlink(b);
	ASSERT_EQ(0, vmp_load("pool_pages=64 policy=fifo"));
	dev = vmp_open();
	ASSERT_LE(0, dev);
	EXPECT_EQ(0, dfs_value("swap", "slots"));
	fa = open(a, O_RDWR | O_CREAT, 0600);
	ASSERT_LE(0, fa);
	ro = open(a, O_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EBADF, swap_add(dev, ro, 256, 0));
	EXPECT_EQ(-EBADF, swap_add(dev, 9999, 256, 0));
	EXPECT_EQ(-EINVAL, swap_add(dev, fa, 256, 1));
	EXPECT_EQ(-EINVAL, swap_add(dev, fa, 0, 0));	/* empty file, no size */
	EXPECT_EQ(-EINVAL, swap_add(dev, dev, 256, 0));	/* the device itself */
	/* without CAP_SYS_ADMIN: refused */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setresuid(65534, 65534, 65534))
			_exit(2);
		_exit(swap_add(dev, fa, 256, 0) == -EPERM ? 0 : 1);
	}
	EXPECT_EQ(0, vmp_wait(pid));
	EXPECT_EQ(0, swap_add(dev, fa, 256, 0));
	EXPECT_EQ(-EBUSY, swap_add(dev, fa, 256, 0));	/* already in use */
	EXPECT_EQ(256, dfs_value("swap", "slots"));
	loose = open(b, O_RDWR | O_CREAT, 0600);
	ASSERT_LE(0, loose);
	fchmod(loose, 0644);
	EXPECT_EQ(-EACCES, swap_add(dev, loose, 256, 0));
	fchmod(loose, 0600);
	EXPECT_EQ(0, swap_add(dev, loose, 256, 0));
	EXPECT_EQ(512, dfs_value("swap", "slots"));
	EXPECT_EQ(2, dfs_value("swap", "areas"));
	fb = loose;

	/* 4x the pool through the added areas, every page verified */
	p = vmp_map(dev, 0, 256, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, 256, 0x41);
	EXPECT_EQ(-1, vmp_check(p, 0, 256, 0x41));
	EXPECT_LT(0, vmp_stat("swap_outs"));
	munmap(p, 256 * PG);
	close(dev);
	close(ro);
	close(fa);
	close(fb);
	EXPECT_EQ(0, dfs_value("swap", "used"));
	EXPECT_EQ(0, vmp_unload());
	unlink(a);
	unlink(b);
}

/* Count the pages of @path that are not all zero. */
static long nonzero_pages(const char *path)
{
	static char buf[4096];
	long n = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while (read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf)) {
		size_t i;

		for (i = 0; i < sizeof(buf) && !buf[i]; i++)
			;
		n += i < sizeof(buf);
	}
	close(fd);
	return n;
}

/* Count '#' (slots in use) and lines in debugfs swapmap. */
static int swapmap_count(long *hashes, long *lines)
{
	char *map = vmp_read_file(VMP_DEBUGFS "/swapmap"), *c;

	*hashes = *lines = 0;
	if (!map)
		return -1;
	for (c = map; *c; c++) {
		*hashes += *c == '#';
		*lines += *c == '\n';
	}
	free(map);
	return 0;
}

TEST(swapfile_param_stripes_over_files)
{
	long hashes, lines;
	char a[256], b[256], params[700];
	long na, nb, outs;
	char *p;
	int fd;

	snprintf(a, sizeof(a), "%s/vmp-stripe-a.swap", vmp_swap_dir());
	snprintf(b, sizeof(b), "%s/vmp-stripe-b.swap", vmp_swap_dir());
	unlink(a);
	unlink(b);
	snprintf(params, sizeof(params),
		 "pool_pages=64 policy=fifo swapfile=%s,%s swap_pages=512", a, b);
	ASSERT_EQ(0, vmp_load(params));
	EXPECT_EQ(1024, dfs_value("swap", "slots"));
	EXPECT_EQ(1, dfs_value("swap", "areas"));
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, 256, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, 256, 0x51);
	outs = vmp_stat("swap_outs");
	EXPECT_EQ(-1, vmp_check(p, 0, 256, 0x51));
	/* swapmap: one '#' per slot in use, as many as swap "used" */
	EXPECT_EQ(0, swapmap_count(&hashes, &lines));
	EXPECT_EQ(dfs_value("swap", "used"), hashes);
	EXPECT_EQ(1 + 1024 / 64, lines);
	na = nonzero_pages(a);
	nb = nonzero_pages(b);
	TH_LOG("swap_outs %ld: %ld pages in %s, %ld in %s", outs, na, a, nb, b);
	/* consecutive slots alternate files: the halves differ by at most one run */
	EXPECT_LT(0, na);
	EXPECT_LT(0, nb);
	EXPECT_GE(1 + (na + nb) / 8, labs(na - nb));
	munmap(p, 256 * PG);
	close(fd);
	EXPECT_EQ(0, vmp_unload());
	unlink(a);
	unlink(b);
}

TEST_HARNESS_MAIN
