// Proves: /sys/kernel/debug/vmpager exists only while the module is loaded, its stats and buddyinfo agree with the ioctls, objects lists each object's size/resident/swapped/mappers, frames is readable, and rmap names every (pid, vaddr, shared|private) mapping a frame.
// SPDX-License-Identifier: GPL-2.0
#include "vmp_test.h"

#define POOL	512

VMP_FIXTURE(dfs, "pool_pages=512 max_obj_pages=1024")

#define NEED_DEBUGFS() do {						\
	if (!vmp_debugfs_mounted())					\
		SKIP(return, "debugfs not mounted at " VMP_DEBUGFS_ROOT); \
} while (0)

/* The lines of a file after its header line; NULL-terminated, malloc'd. */
static char **body_lines(const char *path, int *n)
{
	char *s = vmp_read_file(path), *line, *save = NULL, **v;
	int cap = 16, i = 0, first = 1;

	*n = -1;
	if (!s)
		return NULL;
	v = calloc(cap, sizeof(*v));
	for (line = strtok_r(s, "\n", &save); line && v;
	     line = strtok_r(NULL, "\n", &save)) {
		if (first) {	/* header */
			first = 0;
			continue;
		}
		if (i + 2 > cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				break;
		}
		v[i++] = strdup(line);
		v[i] = NULL;
	}
	free(s);
	*n = v ? i : -1;
	return v;
}

static void free_lines(char **v)
{
	int i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

TEST_F(dfs, files_exist)
{
	static const char *const files[] = {
		"stats", "buddyinfo", "objects", "frames", "rmap",
	};
	char path[128], *s;
	unsigned int i;

	NEED_DEBUGFS();
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), VMP_DEBUGFS "/%s", files[i]);
		EXPECT_EQ(0, access(path, R_OK)) TH_LOG("%s", path);
	}
	s = vmp_read_file(VMP_DEBUGFS "/frames");
	ASSERT_NE(NULL, s);
	EXPECT_LT(0U, (unsigned int)strlen(s));
	free(s);
}

TEST_F(dfs, stats_match_ioctl)
{
	struct vmpager_global_info gi;
	int fd = vmp_open(), n, i, found[VMPAGER_NR_STATS] = { 0 };
	char **lines, name[64], *p;
	unsigned long long v;

	NEED_DEBUGFS();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, 8, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, 8, 0x91);
	ASSERT_EQ(0, madvise(p, 8 * PG, MADV_DONTNEED));
	EXPECT_EQ(-1, vmp_check(p, 0, 4, 0x91));	/* 4 minor faults */

	ASSERT_EQ(0, vmp_global_fd(fd, &gi));
	lines = body_lines(VMP_DEBUGFS "/stats", &n);
	ASSERT_NE(NULL, lines);
	for (i = 0; i < n; i++) {
		int id;

		ASSERT_EQ(2, sscanf(lines[i], "%63s %llu", name, &v))
			TH_LOG("stats line \"%s\"", lines[i]);
		id = vmp_stat_index(name);
		if (id < 0)
			continue;	/* a newer counter than this test knows */
		found[id]++;
		EXPECT_EQ(gi.stats[id], (__u64)v) TH_LOG("counter %s", name);
	}
	/* One line per counter the module fills; each known one exactly once. */
	EXPECT_EQ(gi.nr_stats, (__u32)n);
	for (i = 0; i < VMPAGER_NR_STATS; i++) {
		if (!vmp_stat_name(i))
			continue;	/* appended after this test was written */
		EXPECT_EQ(1, found[i]) TH_LOG("counter %s listed %d times",
					      vmp_stat_name(i), found[i]);
	}
	EXPECT_LE(8ULL, ST(gi, faults_zero));
	EXPECT_LE(4ULL, ST(gi, faults_minor));
	free_lines(lines);
	munmap(p, 8 * PG);
	close(fd);
}

TEST_F(dfs, buddyinfo_matches_ioctl)
{
	struct vmpager_global_info gi;
	unsigned long long nr;
	unsigned int order, seen = 0;
	int fd = vmp_open(), n, i;
	char **lines, *p;

	NEED_DEBUGFS();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, 3, MAP_SHARED);	/* three frames: a mixed state */
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, 3, 0x92);
	ASSERT_EQ(0, vmp_global_fd(fd, &gi));
	lines = body_lines(VMP_DEBUGFS "/buddyinfo", &n);
	ASSERT_NE(NULL, lines);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(2, sscanf(lines[i], "%u %llu", &order, &nr))
			TH_LOG("buddyinfo line \"%s\"", lines[i]);
		ASSERT_GE(VMPAGER_MAX_ORDER, (int)order);
		EXPECT_EQ(gi.nr_free[order], (__u64)nr) TH_LOG("order %u", order);
		seen |= 1U << order;
	}
	EXPECT_EQ((1U << VMPAGER_NR_ORDERS) - 1, seen);
	/* Pool 512 = one order-9 block; three frames taken from it. */
	EXPECT_EQ(1ULL, gi.nr_free[0]);
	EXPECT_EQ(0ULL, gi.nr_free[1]);
	EXPECT_EQ(0ULL, gi.nr_free[9]);
	free_lines(lines);
	munmap(p, 3 * PG);
	close(fd);
}

/* The objects line of id: 0 and its columns, or -1. */
static int find_object(uint64_t id, unsigned long long col[5])
{
	char **lines;
	int n, i, ret = -1;

	lines = body_lines(VMP_DEBUGFS "/objects", &n);
	for (i = 0; i < n && ret; i++)
		if (sscanf(lines[i], "%llu %llu %llu %llu %llu", &col[0], &col[1],
			   &col[2], &col[3], &col[4]) == 5 && col[0] == id)
			ret = 0;
	free_lines(lines);
	return ret;
}

TEST_F(dfs, objects_lists_object)
{
	struct vmpager_obj_info oi, oi2;
	unsigned long long col[5];
	int fd = vmp_open(), fd2 = vmp_open();
	char *p, *q;

	NEED_DEBUGFS();
	ASSERT_LE(0, fd);
	ASSERT_LE(0, fd2);
	p = vmp_map(fd, 0, 8, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	q = vmp_map(fd, 0, 8, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, q);
	vmp_fill(p, 0, 5, 0x93);
	ASSERT_EQ(0, vmp_obj(fd, &oi));
	ASSERT_EQ(0, vmp_obj(fd2, &oi2));

	ASSERT_EQ(0, find_object(oi.id, col)) TH_LOG("object %llu not listed",
						   (unsigned long long)oi.id);
	EXPECT_EQ(8ULL, col[1]);	/* size */
	EXPECT_EQ(5ULL, col[2]);	/* resident */
	EXPECT_EQ(0ULL, col[3]);	/* swapped */
	EXPECT_EQ(2ULL, col[4]);	/* mappers */
	EXPECT_EQ(oi.size, col[1]);
	EXPECT_EQ(oi.resident, col[2]);
	EXPECT_EQ(oi.mappers, col[4]);
	ASSERT_EQ(0, find_object(oi2.id, col));
	EXPECT_EQ(0ULL, col[1]);
	EXPECT_EQ(0ULL, col[2]);
	EXPECT_EQ(0ULL, col[4]);

	/* Closing the fd keeps the line (mappings), unmapping removes it. */
	close(fd);
	EXPECT_EQ(0, find_object(oi.id, col));
	munmap(p, 8 * PG);
	munmap(q, 8 * PG);
	EXPECT_EQ(-1, find_object(oi.id, col));
	EXPECT_EQ(0, find_object(oi2.id, col));
	close(fd2);
	EXPECT_EQ(-1, find_object(oi2.id, col));
}

struct rmap_line {
	int pid;
	uint64_t addr;
	int shared;
};

/* vaddr printed as 0x..., bare hex or decimal: match any reading. */
static int addr_matches(const char *tok, uint64_t want)
{
	if (!strncmp(tok, "0x", 2) || !strncmp(tok, "0X", 2))
		return strtoull(tok, NULL, 16) == want;
	return strtoull(tok, NULL, 16) == want || strtoull(tok, NULL, 10) == want;
}

/*
 * rmap of the one allocated frame lists every mapping of its page, from the
 * parent and from a child, shared and private. The frame number is found by
 * scanning all frames: only this test's single page is allocated.
 */
TEST_F(dfs, rmap_lists_mappers)
{
	struct { int pid; uint64_t addr; int shared; int seen; } want[4];
	int sv[2], fd = vmp_open(), rfd, status, nframes = 0, i, j;
	char buf[4096], *s, *pv, *line, *save;
	pid_t pid;

	NEED_DEBUGFS();
	ASSERT_LE(0, fd);
	s = vmp_map(fd, 0, 8, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	pv = vmp_map(fd, 0, 8, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, pv);
	s[3 * PG] = 1;			/* the only allocated frame */
	EXPECT_EQ(1, pv[3 * PG]);	/* private read maps the same frame */

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sv[0]);
		VMP_CHILD_CHECK(((volatile char *)s)[3 * PG] == 1);
		VMP_CHILD_CHECK(((volatile char *)pv)[3 * PG] == 1);
		VMP_CHILD_CHECK(vmp_post(sv[1]) == 0);
		VMP_CHILD_CHECK(vmp_pend(sv[1]) == 0);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(0, vmp_pend(sv[0]));

	want[0].pid = getpid(); want[0].addr = (uintptr_t)(s + 3 * PG);  want[0].shared = 1;
	want[1].pid = getpid(); want[1].addr = (uintptr_t)(pv + 3 * PG); want[1].shared = 0;
	want[2].pid = pid;      want[2].addr = (uintptr_t)(s + 3 * PG);  want[2].shared = 1;
	want[3].pid = pid;      want[3].addr = (uintptr_t)(pv + 3 * PG); want[3].shared = 0;
	for (j = 0; j < 4; j++)
		want[j].seen = 0;

	rfd = open(VMP_DEBUGFS "/rmap", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, rfd);
	for (i = 0; i < POOL; i++) {
		char num[16];
		ssize_t n, len = 0;
		int hits = 0;

		snprintf(num, sizeof(num), "%d\n", i);
		/* seq_file: no pwrite/pread; seek, write, seek, read. */
		ASSERT_EQ(0, lseek(rfd, 0, SEEK_SET));
		ASSERT_EQ((ssize_t)strlen(num), write(rfd, num, strlen(num)))
			TH_LOG("write frame %d: %s", i, strerror(errno));
		ASSERT_EQ(0, lseek(rfd, 0, SEEK_SET));
		while ((n = read(rfd, buf + len, sizeof(buf) - 1 - len)) > 0)
			len += n;
		buf[len] = '\0';
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char tok[64], kind[16];
			int lpid;

			if (sscanf(line, "%d %63s %15s", &lpid, tok, kind) != 3)
				continue;	/* header / comment */
			if (strcmp(kind, "shared") && strcmp(kind, "private"))
				continue;
			hits++;
			for (j = 0; j < 4; j++)
				if (want[j].pid == lpid &&
				    want[j].shared == !strcmp(kind, "shared") &&
				    addr_matches(tok, want[j].addr))
					want[j].seen++;
			if (hits > 4)
				TH_LOG("frame %d: unexpected rmap line \"%s\"", i, line);
		}
		if (hits) {
			nframes++;
			EXPECT_EQ(4, hits) TH_LOG("frame %d", i);
		}
	}
	close(rfd);
	EXPECT_EQ(1, nframes);
	for (j = 0; j < 4; j++) {
		EXPECT_EQ(1, want[j].seen) TH_LOG("pid %d %#llx %s", want[j].pid,
			(unsigned long long)want[j].addr,
			want[j].shared ? "shared" : "private");
	}

	ASSERT_EQ(0, vmp_post(sv[0]));
	status = vmp_wait(pid);
	EXPECT_TRUE(VMP_EXITED(status, 0));
	close(sv[0]);
	munmap(s, 8 * PG);
	munmap(pv, 8 * PG);
	close(fd);
}

TEST_F(dfs, dir_gone_after_unload)
{
	NEED_DEBUGFS();
	ASSERT_EQ(0, access(VMP_DEBUGFS, F_OK));
	ASSERT_EQ(0, vmp_unload());
	EXPECT_EQ(-1, access(VMP_DEBUGFS, F_OK));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, access(VMP_DEBUGFS "/stats", F_OK));
}

TEST_HARNESS_MAIN
