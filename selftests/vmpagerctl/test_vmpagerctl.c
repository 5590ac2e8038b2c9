// Proves: vmpagerctl's output matches what the test did (objects, frames, stat, lru, pool, rmap, walk, swap, top), its tunables round-trip and refuse bad values leaving them unchanged, its daemon client speaks the control protocol, and it fails clearly without the module, debugfs, root or daemon.
// SPDX-License-Identifier: GPL-2.0
/*
 * Runs the real vmpagerctl binary ($VMPAGERCTL, default ./vmpagerctl next to
 * this test in /tests) and parses its aligned-table output by column name,
 * the way a user's script would. Each fixture loads vmpager.ko itself.
 */
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/un.h>
#include <termios.h>

#include "vmp_test.h"

#define POOL	512

/* ---- running vmpagerctl ---- */

struct run {
	int status;	/* exit code, or 128 + signal */
	char *out, *err;
};

static const char *ctl_path(void)
{
	const char *p = getenv("VMPAGERCTL");

	if (p && *p)
		return p;
	return access("./vmpagerctl", X_OK) == 0 ? "./vmpagerctl" : "/tests/vmpagerctl";
}

static char *slurp_fd(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	while (buf) {
		if (cap - len < 1024) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

/*
 * Run vmpagerctl with the blank-separated arguments of fmt; stderr goes to a
 * temporary file so a long stdout cannot deadlock. uid >= 0: run as that uid.
 */
static struct run run_as(int uid, const char *fmt, va_list ap)
{
	char line[512], *argv[32], *s, *save = NULL, errpath[] = "/tmp/vmpctl-err-XXXXXX";
	struct run r = { .status = -1 };
	int out[2], errfd, argc = 0, st;
	pid_t pid;

	vsnprintf(line, sizeof(line), fmt, ap);
	argv[argc++] = (char *)ctl_path();
	for (s = strtok_r(line, " ", &save); s && argc < 31; s = strtok_r(NULL, " ", &save))
		argv[argc++] = s;
	argv[argc] = NULL;
	errfd = mkstemp(errpath);
	if (errfd < 0 || pipe(out))
		return r;
	unlink(errpath);
	pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(errfd, 2);
		close(out[0]);
		if (uid >= 0 && (setgid(uid) || setuid(uid)))
			_exit(120);
		execv(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	r.out = slurp_fd(out[0]);
	close(out[0]);
	st = vmp_wait(pid);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	lseek(errfd, 0, SEEK_SET);
	r.err = slurp_fd(errfd);
	close(errfd);
	if (!r.out)
		r.out = strdup("");
	if (!r.err)
		r.err = strdup("");
	return r;
}

static struct run __attribute__((format(printf, 1, 2))) ctl(const char *fmt, ...)
{
	struct run r;
	va_list ap;

	va_start(ap, fmt);
	r = run_as(-1, fmt, ap);
	va_end(ap);
	return r;
}

static struct run __attribute__((format(printf, 2, 3)))
ctl_uid(int uid, const char *fmt, ...)
{
	struct run r;
	va_list ap;

	va_start(ap, fmt);
	r = run_as(uid, fmt, ap);
	va_end(ap);
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* ---- parsing aligned tables by column name ---- */

#define MAXC 16
#define MAXR 4096

struct tab {
	int ncols, nrows;
	char *cols[MAXC];
	char **cell;	/* nrows * MAXC */
	char *buf;
};

/*
 * The table in text whose header line starts with the word first (any
 * case, after blanks): header, then rows up to a blank line. Columns split on blanks (the
 * last column may hold blanks: it gets the rest of the line).
 */
static int tab_parse(struct tab *t, const char *text, const char *first)
{
	char *line, *rest, *w, *wsave;
	bool in = false;

	memset(t, 0, sizeof(*t));
	t->buf = strdup(text);
	t->cell = calloc((size_t)MAXR * MAXC, sizeof(char *));
	if (!t->buf || !t->cell)
		return -1;
	rest = t->buf;
	while ((line = strsep(&rest, "\n"))) {	/* keeps empty lines */
		if (!in) {
			while (*line == ' ')
				line++;
			if (strncasecmp(line, first, strlen(first)) ||
			    (line[strlen(first)] != ' ' && line[strlen(first)]))
				continue;
			for (w = strtok_r(line, " ", &wsave); w && t->ncols < MAXC;
			     w = strtok_r(NULL, " ", &wsave))
				t->cols[t->ncols++] = w;
			in = true;
			continue;
		}
		if (!*line || t->nrows >= MAXR)
			break;
		{
			int c = 0;

			while (*line == ' ')
				line++;
			for (w = strtok_r(line, " ", &wsave); w && c < t->ncols;
			     w = strtok_r(NULL, " ", &wsave))
				t->cell[(size_t)t->nrows * MAXC + c++] = w;
			if (c < t->ncols)
				break;	/* not a row of this table */
			t->nrows++;
		}
	}
	return in ? 0 : -1;
}

static void tab_free(struct tab *t)
{
	free(t->buf);
	free(t->cell);
}

static int tab_col(const struct tab *t, const char *name)
{
	int c;

	for (c = 0; c < t->ncols; c++)
		if (!strcasecmp(t->cols[c], name))
			return c;
	return -1;
}

/* Cell (row r, column name), or NULL. */
static const char *tab_get(const struct tab *t, int r, const char *name)
{
	int c = tab_col(t, name);

	return c < 0 || r >= t->nrows ? NULL : t->cell[(size_t)r * MAXC + c];
}

/* Row whose column key equals val, or -1. */
static int tab_find(const struct tab *t, const char *key, const char *val)
{
	int r;

	for (r = 0; r < t->nrows; r++)
		if (tab_get(t, r, key) && !strcmp(tab_get(t, r, key), val))
			return r;
	return -1;
}

static long long num(const char *s)
{
	return s ? strtoll(s, NULL, 0) : -1;
}

/* "key  value" lines (pool, swap, policy): the value or NULL (static buf). */
static const char *kv(const char *text, const char *key)
{
	static char val[256];
	const char *p = text;
	size_t n = strlen(key);

	while (p && *p) {
		if (!strncmp(p, key, n) && p[n] == ' ') {
			p += n;
			while (*p == ' ')
				p++;
			snprintf(val, sizeof(val), "%.*s", (int)strcspn(p, "\n"), p);
			return val;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static long long dfs_num(const char *file)
{
	char path[128], *s;
	long long v;

	snprintf(path, sizeof(path), VMP_DEBUGFS "/%s", file);
	s = vmp_read_file(path);
	v = s ? strtoll(s, NULL, 10) : -1;
	free(s);
	return v;
}

/* One counter from "vmpagerctl stat" (text), or -1. */
static long long stat_of(const char *name)
{
	struct run r = ctl("stat");
	struct tab t;
	long long v = -1;
	int row;

	if (r.status == 0 && !tab_parse(&t, r.out, "COUNTER")) {
		row = tab_find(&t, "counter", name);
		if (row >= 0)
			v = num(tab_get(&t, row, "value"));
		tab_free(&t);
	}
	run_free(&r);
	return v;
}

/* Map npages of a fresh object and write the first ntouch: its id, or 0. */
static uint64_t make_object(int *fd, char **p, size_t npages, size_t ntouch)
{
	struct vmpager_obj_info oi;

	*fd = vmp_open();
	if (*fd < 0)
		return 0;
	*p = vmp_map(*fd, 0, npages, MAP_SHARED);
	if (*p == MAP_FAILED)
		return 0;
	vmp_fill(*p, 0, ntouch, 0x5a);
	return vmp_obj(*fd, &oi) ? 0 : oi.id;
}

#define NEED_DEBUGFS() do {						\
	if (!vmp_debugfs_mounted())					\
		SKIP(return, "debugfs not mounted at " VMP_DEBUGFS_ROOT); \
} while (0)

#define EXPECT_OK(r) EXPECT_EQ(0, (r).status) TH_LOG("stderr: %s", (r).err)

/* ================================================================ */

VMP_FIXTURE(ctl, "pool_pages=512 max_obj_pages=4096")

/* N written pages of a fresh object: objects shows N resident, in JSON too. */
TEST_F(ctl, objects_resident)
{
	const size_t npages = 64, n = 37;
	char id[32], want[128], pid[32];
	struct run r;
	struct tab t;
	char *p;
	int fd, row;
	uint64_t oid;

	NEED_DEBUGFS();
	oid = make_object(&fd, &p, npages, n);
	ASSERT_NE(0ULL, oid);
	snprintf(id, sizeof(id), "%llu", (unsigned long long)oid);

	r = ctl("objects");
	EXPECT_OK(r);
	ASSERT_EQ(0, tab_parse(&t, r.out, "ID")) TH_LOG("output: %s", r.out);
	row = tab_find(&t, "id", id);
	ASSERT_LE(0, row) TH_LOG("object %s not listed: %s", id, r.out);
	EXPECT_EQ((long long)npages, num(tab_get(&t, row, "size")));
	EXPECT_EQ((long long)n, num(tab_get(&t, row, "resident")));
	EXPECT_EQ(0, num(tab_get(&t, row, "swapped")));
	EXPECT_EQ(1, num(tab_get(&t, row, "mappers")));
	EXPECT_EQ((long long)n, num(tab_get(&t, row, "faults")));
	snprintf(pid, sizeof(pid), "%d", getpid());
	EXPECT_STREQ(pid, tab_get(&t, row, "pids"));
	tab_free(&t);
	run_free(&r);

	r = ctl("-j objects -m");
	EXPECT_OK(r);
	snprintf(want, sizeof(want), "{\"id\":%s,\"size\":%zu,\"resident\":%zu,\"swapped\":0,",
		 id, npages, n);
	EXPECT_NE(NULL, strstr(r.out, want)) TH_LOG("no %s in %s", want, r.out);
	snprintf(want, sizeof(want), "\"mappings\":[{\"pid\":%d,\"start\":\"%p\"",
		 getpid(), p);
	EXPECT_NE(NULL, strstr(r.out, want)) TH_LOG("no %s in %s", want, r.out);
	run_free(&r);
	munmap(p, npages * PG);
	close(fd);
}

/* frames --obj lists exactly the object's N pages, used and dirty. */
TEST_F(ctl, frames_of_object)
{
	const size_t n = 29;
	char id[32], seen[64] = { 0 };
	struct run r;
	struct tab t;
	char *p;
	int fd, i;
	uint64_t oid;

	NEED_DEBUGFS();
	oid = make_object(&fd, &p, 48, n);
	ASSERT_NE(0ULL, oid);
	snprintf(id, sizeof(id), "%llu", (unsigned long long)oid);

	r = ctl("frames --obj %s", id);
	EXPECT_OK(r);
	ASSERT_EQ(0, tab_parse(&t, r.out, "FRAME"));
	EXPECT_EQ((int)n, t.nrows);
	for (i = 0; i < t.nrows; i++) {
		long long idx = num(tab_get(&t, i, "index"));

		EXPECT_STREQ(id, tab_get(&t, i, "obj"));
		EXPECT_NE(NULL, strchr(tab_get(&t, i, "flags"), 'U'));
		EXPECT_NE(NULL, strchr(tab_get(&t, i, "flags"), 'D'))
			TH_LOG("written page %lld not dirty", idx);
		ASSERT_TRUE(idx >= 0 && idx < (long long)n) TH_LOG("index %lld", idx);
		EXPECT_EQ(0, seen[idx]++) TH_LOG("index %lld twice", idx);
	}
	tab_free(&t);
	run_free(&r);

	/* the only object: state counts agree with the pool */
	r = ctl("frames --state used");
	EXPECT_OK(r);
	ASSERT_EQ(0, tab_parse(&t, r.out, "FRAME"));
	EXPECT_EQ((int)n, t.nrows);
	tab_free(&t);
	run_free(&r);
	r = ctl("frames -s");
	EXPECT_OK(r);
	ASSERT_EQ(0, tab_parse(&t, r.out, "STATE"));
	EXPECT_EQ(POOL, num(tab_get(&t, tab_find(&t, "state", "total"), "frames")));
	EXPECT_EQ((long long)n, num(tab_get(&t, tab_find(&t, "state", "used"), "frames")));
	EXPECT_EQ((long long)(POOL - n),
		  num(tab_get(&t, tab_find(&t, "state", "free"), "frames")));
	EXPECT_EQ((long long)n, num(tab_get(&t, tab_find(&t, "state", "dirty"), "frames")));
	tab_free(&t);
	run_free(&r);
	munmap(p, 48 * PG);
	close(fd);
}

/* stat moves by exactly the faults the test caused; --ioctl agrees. */
TEST_F(ctl, stat_counts_faults)
{
	const size_t m = 23;
	long long f0, z0, f1, z1;
	struct run r;
	struct tab t;
	char *p;
	int fd;

	NEED_DEBUGFS();
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, 64, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	f0 = stat_of("faults");
	z0 = stat_of("faults_zero");
	ASSERT_LE(0, f0);
	vmp_fill(p, 0, m, 0x77);
	f1 = stat_of("faults");
	z1 = stat_of("faults_zero");
	EXPECT_EQ((long long)m, f1 - f0);
	EXPECT_EQ((long long)m, z1 - z0);

	r = ctl("stat --ioctl");
	EXPECT_OK(r);
	ASSERT_EQ(0, tab_parse(&t, r.out, "COUNTER"));
	EXPECT_EQ(f1, num(tab_get(&t, tab_find(&t, "counter", "faults"), "value")));
	EXPECT_EQ(z1, num(tab_get(&t, tab_find(&t, "counter", "faults_zero"), "value")));
	tab_free(&t);
	run_free(&r);

	/* -z hides zero counters, -j is one object with every counter */
	r = ctl("stat -z");
	EXPECT_OK(r);
	EXPECT_EQ(NULL, strstr(r.out, " 0\n")) TH_LOG("%s", r.out);
	run_free(&r);
	r = ctl("-j stat");
	EXPECT_OK(r);
	EXPECT_EQ('{', r.out[0]);
	EXPECT_NE(NULL, strstr(r.out, "\"faults_zero\":"));
	run_free(&r);
	munmap(p, 64 * PG);
	close(fd);
}

/*
 * Rolling mode: "-i 2 -c 2 -d" prints the totals, then the change over the
 * next 2 s; the test faults K pages right after reading the totals line.
 */
TEST_F(ctl, stat_rolling_delta)
{
	const size_t k = 19;
	char line[3][512], *argv[] = { (char *)ctl_path(), "stat", "-i", "2",
		"-c", "2", "-d", "-f", "faults,faults_zero", NULL };
	long long tf, tz, df, dz, now;
	int out[2], st, i;
	FILE *f;
	pid_t pid;
	char *p, tm[16], hdr[3][32];
	int fd;

	NEED_DEBUGFS();
	fd = vmp_open();
	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, 64, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, pipe(out));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		dup2(out[1], 1);
		close(out[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	f = fdopen(out[0], "r");
	ASSERT_NE(NULL, f);
	for (i = 0; i < 3; i++) {
		ASSERT_NE(NULL, fgets(line[i], sizeof(line[i]), f)) TH_LOG("line %d", i);
		if (i == 1)	/* the totals are printed: fault now */
			vmp_fill(p, 0, k, 0x33);
	}
	fclose(f);
	st = vmp_wait(pid);
	EXPECT_TRUE(VMP_EXITED(st, 0));
	EXPECT_EQ(3, sscanf(line[0], "%31s %31s %31s", hdr[0], hdr[1], hdr[2]));
	EXPECT_STREQ("time", hdr[0]);
	EXPECT_STREQ("faults", hdr[1]);
	EXPECT_STREQ("faults_zero", hdr[2]);
	ASSERT_EQ(2, sscanf(line[1], " total %lld %lld", &tf, &tz)) TH_LOG("%s", line[1]);
	ASSERT_EQ(3, sscanf(line[2], " %15s %lld %lld", tm, &df, &dz)) TH_LOG("%s", line[2]);
	EXPECT_EQ((long long)k, df);
	EXPECT_EQ((long long)k, dz);
	now = stat_of("faults");
	EXPECT_EQ(tf + (long long)k, now);
	munmap(p, 64 * PG);
	close(fd);
}

/* Every policy round-trips; an unknown name is refused, nothing changes. */
TEST_F(ctl, policy_round_trip)
{
	char avail[256], cur[32], *s, *save = NULL, want[64], *file;
	struct run r;
	char *p;
	int fd, n = 0;
	uint64_t oid;

	NEED_DEBUGFS();
	oid = make_object(&fd, &p, 32, 20);
	ASSERT_NE(0ULL, oid);
	r = ctl("policy");
	EXPECT_OK(r);
	ASSERT_NE(NULL, kv(r.out, "available"));
	snprintf(avail, sizeof(avail), "%s", kv(r.out, "available"));
	ASSERT_NE(NULL, kv(r.out, "policy"));
	snprintf(cur, sizeof(cur), "%s", kv(r.out, "policy"));
	run_free(&r);

	for (s = strtok_r(avail, " ", &save); s; s = strtok_r(NULL, " ", &save)) {
		struct run l;
		struct tab t;
		long long sum = 0;
		int i;

		r = ctl("policy %s", s);
		EXPECT_OK(r);
		snprintf(want, sizeof(want), "policy %s (was %s)\n", s, cur);
		EXPECT_STREQ(want, r.out);
		run_free(&r);
		file = vmp_read_file(VMP_DEBUGFS "/policy");
		snprintf(want, sizeof(want), "[%s]", s);
		EXPECT_NE(NULL, strstr(file, want)) TH_LOG("%s after switching to %s", file, s);
		free(file);
		/* the new policy holds every resident frame */
		l = ctl("lru");
		EXPECT_OK(l);
		EXPECT_STREQ(s, kv(l.out, "policy"));
		ASSERT_EQ(0, tab_parse(&t, l.out, "LIST"));
		for (i = 0; i < t.nrows; i++)
			sum += num(tab_get(&t, i, "frames"));
		EXPECT_EQ(20, sum) TH_LOG("%s", l.out);
		tab_free(&t);
		run_free(&l);
		snprintf(cur, sizeof(cur), "%s", s);
		n++;
	}
	EXPECT_LE(2, n);

	r = ctl("policy nosuchpolicy");
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "refused")) TH_LOG("stderr: %s", r.err);
	run_free(&r);
	r = ctl("policy");
	EXPECT_STREQ(cur, kv(r.out, "policy"));
	run_free(&r);
	munmap(p, 32 * PG);
	close(fd);
}

static void read_wmarks(long long w[3])
{
	char *s = vmp_read_file(VMP_DEBUGFS "/watermarks");

	w[0] = w[1] = w[2] = -1;
	if (s && sscanf(s, "min low high %lld %lld %lld", &w[0], &w[1], &w[2]) != 3)
		w[0] = -1;
	free(s);
}

/* watermarks set and read back; bad ones refused (1) or rejected (2). */
TEST_F(ctl, watermarks_knob)
{
	long long w0[3], w[3];
	struct run r;

	NEED_DEBUGFS();
	read_wmarks(w0);
	ASSERT_LE(0, w0[0]);
	r = ctl("watermarks");
	EXPECT_OK(r);
	{
		char want[96];

		snprintf(want, sizeof(want), "min %lld  low %lld  high %lld\n",
			 w0[0], w0[1], w0[2]);
		EXPECT_STREQ(want, r.out);
	}
	run_free(&r);

	r = ctl("watermarks 5 11 23");
	EXPECT_OK(r);
	read_wmarks(w);
	EXPECT_EQ(5, w[0]);
	EXPECT_EQ(11, w[1]);
	EXPECT_EQ(23, w[2]);
	run_free(&r);

	/* refused by the module: ordering, and high above pool_pages / 2 */
	r = ctl("watermarks 30 20 10");
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "refused")) TH_LOG("stderr: %s", r.err);
	run_free(&r);
	r = ctl("watermarks 1 2 %d", POOL / 2 + 1);
	EXPECT_EQ(1, r.status);
	run_free(&r);
	/* rejected before the module sees them */
	r = ctl("watermarks 1 2 x");
	EXPECT_EQ(2, r.status);
	run_free(&r);
	r = ctl("watermarks 1 2");
	EXPECT_EQ(2, r.status);
	run_free(&r);
	read_wmarks(w);
	EXPECT_EQ(5, w[0]);
	EXPECT_EQ(11, w[1]);
	EXPECT_EQ(23, w[2]);

	r = ctl("watermarks %lld %lld %lld", w0[0], w0[1], w0[2]);
	EXPECT_OK(r);
	run_free(&r);
}

/* readahead, fail_*, soft_unmap, ra_adaptive and ra_async knobs: set, read back, bad values refused. */
TEST_F(ctl, readahead_and_fail_knobs)
{
	struct run r;

	NEED_DEBUGFS();
	r = ctl("readahead 3");
	EXPECT_OK(r);
	run_free(&r);
	EXPECT_EQ(3, dfs_num("readahead"));
	r = ctl("readahead");
	EXPECT_STREQ("readahead 3 pages\n", r.out);
	run_free(&r);
	r = ctl("readahead 17");
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "refused")) TH_LOG("stderr: %s", r.err);
	run_free(&r);
	r = ctl("readahead -1");
	EXPECT_EQ(2, r.status);
	run_free(&r);
	EXPECT_EQ(3, dfs_num("readahead"));

	r = ctl("fail writes 2");
	EXPECT_OK(r);
	run_free(&r);
	EXPECT_EQ(2, dfs_num("fail_writes"));
	r = ctl("-j fail");
	EXPECT_STREQ("{\"reads\":0,\"writes\":2,\"allocs\":0}\n", r.out);
	run_free(&r);
	r = ctl("fail writes 4294967296");
	EXPECT_EQ(1, r.status);
	run_free(&r);
	EXPECT_EQ(2, dfs_num("fail_writes"));
	r = ctl("fail writes 0");
	EXPECT_OK(r);
	run_free(&r);
	EXPECT_EQ(0, dfs_num("fail_writes"));

	if (access(VMP_DEBUGFS "/soft_unmap", F_OK))
		return;		/* a module without soft-unmap aging */
	r = ctl("soft_unmap off");
	EXPECT_OK(r);
	EXPECT_EQ(0, dfs_num("soft_unmap"));
	run_free(&r);
	r = ctl("soft_unmap on");
	EXPECT_OK(r);
	EXPECT_STREQ("soft_unmap on (was off)\n", r.out);
	EXPECT_EQ(1, dfs_num("soft_unmap"));
	run_free(&r);
	r = ctl("soft_unmap 2");
	EXPECT_EQ(2, r.status);
	run_free(&r);
	EXPECT_EQ(1, dfs_num("soft_unmap"));

	r = ctl("ra_adaptive");
	EXPECT_STREQ("ra_adaptive on\n", r.out);
	run_free(&r);
	r = ctl("ra_adaptive 0");
	EXPECT_OK(r);
	EXPECT_STREQ("ra_adaptive off (was on)\n", r.out);
	EXPECT_EQ(0, dfs_num("ra_adaptive"));
	run_free(&r);
	r = ctl("-j ra_adaptive on");
	EXPECT_STREQ("{\"ra_adaptive\":1}\n", r.out);
	EXPECT_EQ(1, dfs_num("ra_adaptive"));
	run_free(&r);
	r = ctl("ra_adaptive maybe");
	EXPECT_EQ(2, r.status);
	run_free(&r);
	EXPECT_EQ(1, dfs_num("ra_adaptive"));

	r = ctl("ra_async");
	EXPECT_STREQ("ra_async on\n", r.out);
	run_free(&r);
	r = ctl("ra_async off");
	EXPECT_OK(r);
	EXPECT_STREQ("ra_async off (was on)\n", r.out);
	EXPECT_EQ(0, dfs_num("ra_async"));
	run_free(&r);
	r = ctl("ra_async 3");
	EXPECT_EQ(2, r.status);
	run_free(&r);
	EXPECT_EQ(0, dfs_num("ra_async"));
}

/* ref_source and harvest_batch: shown, set, read back, bad values refused. */
TEST_F(ctl, ref_source_and_harvest_batch)
{
	struct run r;
	char *file;

	NEED_DEBUGFS();
	r = ctl("ref_source accessed");
	EXPECT_OK(r);
	EXPECT_NE(NULL, strstr(r.out, "ref_source accessed (was ")) TH_LOG("%s", r.out);
	run_free(&r);
	file = vmp_read_file(VMP_DEBUGFS "/ref_source");
	EXPECT_STREQ("faults soft-unmap [accessed] both\n", file);
	free(file);
	r = ctl("ref_source");
	EXPECT_STREQ("ref_source accessed\navailable  faults soft-unmap accessed both\n", r.out);
	run_free(&r);
	r = ctl("-j ref_source");
	EXPECT_STREQ("{\"ref_source\":\"accessed\",\"available\":[\"faults\",\"soft-unmap\",\"accessed\",\"both\"]}\n",
		     r.out);
	run_free(&r);
	r = ctl("ref_source young");
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "refused 'young'")) TH_LOG("stderr: %s", r.err);
	run_free(&r);
	/* soft_unmap is the soft-unmap half of ref_source */
	r = ctl("soft_unmap on");
	EXPECT_OK(r);
	run_free(&r);
	r = ctl("ref_source");
	EXPECT_NE(NULL, strstr(r.out, "ref_source both\n")) TH_LOG("%s", r.out);
	run_free(&r);

	r = ctl("harvest_batch 64");
	EXPECT_OK(r);
	EXPECT_NE(NULL, strstr(r.out, "harvest_batch 64 frames (was ")) TH_LOG("%s", r.out);
	run_free(&r);
	EXPECT_EQ(64, dfs_num("harvest_batch"));
	r = ctl("harvest_batch 1025");
	EXPECT_EQ(1, r.status);
	run_free(&r);
	r = ctl("harvest_batch x");
	EXPECT_EQ(2, r.status);
	run_free(&r);
	EXPECT_EQ(64, dfs_num("harvest_batch"));
	r = ctl("harvest_batch 32");
	EXPECT_OK(r);
	run_free(&r);
	r = ctl("harvest_flush off");
	EXPECT_OK(r);
	EXPECT_STREQ("harvest_flush off (was on)\n", r.out);
	run_free(&r);
	EXPECT_EQ(0, dfs_num("harvest_flush"));
	r = ctl("harvest_flush on");
	EXPECT_OK(r);
	run_free(&r);
	r = ctl("ref_source soft-unmap");
	EXPECT_OK(r);
	run_free(&r);
}

/* pool and buddyinfo agree with each other and with the pages in use. */
TEST_F(ctl, pool_and_buddyinfo)
{
	long long free_pages, pages = 0;
	struct run r;
	struct tab t;
	char *p;
	int fd, i;

	NEED_DEBUGFS();
	ASSERT_NE(0ULL, make_object(&fd, &p, 16, 11));
	r = ctl("pool");
	EXPECT_OK(r);
	EXPECT_EQ(POOL, num(kv(r.out, "pool_pages")));
	EXPECT_EQ(11, num(kv(r.out, "resident_pages")));
	free_pages = num(kv(r.out, "free_pages"));
	EXPECT_EQ(POOL - 11, free_pages);
	ASSERT_EQ(0, tab_parse(&t, r.out, "ORDER"));
	EXPECT_EQ(VMPAGER_NR_ORDERS, t.nrows);
	for (i = 0; i < t.nrows; i++)
		pages += num(tab_get(&t, i, "pages"));
	EXPECT_EQ(free_pages, pages);
	tab_free(&t);
	run_free(&r);
	r = ctl("buddyinfo");
	EXPECT_OK(r);
	ASSERT_EQ(0, tab_parse(&t, r.out, "ORDER"));
	for (i = 0, pages = 0; i < t.nrows; i++)
		pages += num(tab_get(&t, i, "free_blocks")) << num(tab_get(&t, i, "order"));
	EXPECT_EQ(free_pages, pages);
	tab_free(&t);
	run_free(&r);
	munmap(p, 16 * PG);
	close(fd);
}

/* rmap of the frame holding page 5 names this process at that address;
 * walk of that address lands on the same frame. */
TEST_F(ctl, rmap_and_walk)
{
	char id[32], frame[32], want[160];
	struct run r;
	struct tab t;
	char *p;
	int fd;
	uint64_t oid;

	NEED_DEBUGFS();
	oid = make_object(&fd, &p, 8, 0);
	ASSERT_NE(0ULL, oid);
	p[5 * PG] = 1;
	snprintf(id, sizeof(id), "%llu", (unsigned long long)oid);
	r = ctl("frames --obj %s", id);
	ASSERT_EQ(0, tab_parse(&t, r.out, "FRAME"));
	ASSERT_EQ(1, t.nrows);
	EXPECT_STREQ("5", tab_get(&t, 0, "index"));
	snprintf(frame, sizeof(frame), "%s", tab_get(&t, 0, "frame"));
	tab_free(&t);
	run_free(&r);

	r = ctl("rmap %s", frame);
	EXPECT_OK(r);
	snprintf(want, sizeof(want), "frame %s  object %s  index 5  (1 mapping)\n",
		 frame, id);
	EXPECT_EQ(0, strncmp(r.out, want, strlen(want))) TH_LOG("%s", r.out);
	ASSERT_EQ(0, tab_parse(&t, r.out, "PID"));
	ASSERT_EQ(1, t.nrows);
	EXPECT_EQ(getpid(), num(tab_get(&t, 0, "pid")));
	EXPECT_EQ((long long)(uintptr_t)(p + 5 * PG), num(tab_get(&t, 0, "vaddr")));
	EXPECT_STREQ("shared", tab_get(&t, 0, "kind"));
	tab_free(&t);
	run_free(&r);
	r = ctl("rmap %d", POOL);
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "the pool has 512 frames")) TH_LOG("%s", r.err);
	run_free(&r);

	if (access(VMP_DEBUGFS "/walk", F_OK)) {
		munmap(p, 8 * PG);
		close(fd);
		SKIP(return, "this module has no debugfs walk file");
	}
	r = ctl("walk %d %p", getpid(), p + 5 * PG + 123);
	EXPECT_OK(r);
	snprintf(want, sizeof(want), "result: pool frame %s (object %s, index 5)\n",
		 frame, id);
	EXPECT_NE(NULL, strstr(r.out, want)) TH_LOG("%s", r.out);
	ASSERT_EQ(0, tab_parse(&t, r.out, "LEVEL"));
	EXPECT_STREQ("pte", tab_get(&t, t.nrows - 1, "level"));
	EXPECT_NE(NULL, strstr(tab_get(&t, t.nrows - 1, "flags"), "present"));
	tab_free(&t);
	run_free(&r);
	r = ctl("-j walk %d %llu", getpid(), (unsigned long long)(uintptr_t)(p + 5 * PG));
	EXPECT_OK(r);
	snprintf(want, sizeof(want), "\"result\":{\"kind\":\"frame\",\"frame\":%s,\"pool\":\"yes\",\"obj\":%s,\"index\":5}",
		 frame, id);
	EXPECT_NE(NULL, strstr(r.out, want)) TH_LOG("%s", r.out);
	run_free(&r);
	/* a page not faulted in yet: no PTE */
	r = ctl("walk %d %p", getpid(), p + 6 * PG);
	EXPECT_OK(r);
	EXPECT_NE(NULL, strstr(r.out, "result: not mapped")) TH_LOG("%s", r.out);
	run_free(&r);
	/* errors: an address in no mapping, a pid that does not exist */
	r = ctl("walk %d 0x1000", getpid());
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "in no mapping")) TH_LOG("%s", r.err);
	run_free(&r);
	r = ctl("walk 2147483647 0x1000");
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "no process")) TH_LOG("%s", r.err);
	run_free(&r);
	munmap(p, 8 * PG);
	close(fd);
}

/* top -b: two refreshes, the object with its resident pages, rates after
 * the first. */
TEST_F(ctl, top_batch)
{
	char id[32], want[160], *second;
	struct run r;
	char *p;
	int fd;
	uint64_t oid;

	NEED_DEBUGFS();
	oid = make_object(&fd, &p, 40, 31);
	ASSERT_NE(0ULL, oid);
	snprintf(id, sizeof(id), "%llu", (unsigned long long)oid);
	r = ctl("top -b -n 2 -d 0.3");
	EXPECT_OK(r);
	EXPECT_EQ(NULL, strchr(r.out, '\033')) TH_LOG("escape in batch output");
	second = strstr(r.out, "\n\nvmpager ");
	ASSERT_NE(NULL, second) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "faults/s -")) TH_LOG("first refresh has no rate");
	EXPECT_NE(NULL, strstr(second, "faults/s 0 ")) TH_LOG("%s", second);
	snprintf(want, sizeof(want), "frames   free %d  used 31 ", POOL - 31);
	EXPECT_NE(NULL, strstr(second, want)) TH_LOG("%s", second);
	snprintf(want, sizeof(want), "%8s %10d %10d %10d %7d %12d %9s  %d\n", id, 40,
		 31, 0, 1, 31, "0", getpid());
	EXPECT_NE(NULL, strstr(second, want)) TH_LOG("want '%s' in %s", want, second);
	run_free(&r);
	munmap(p, 40 * PG);
	close(fd);
}

/*
 * top on a terminal (a pty): it draws on the alternate screen, and q or
 * Ctrl-C ends it with status 0 and the terminal restored (alternate screen
 * left, canonical mode and echo back).
 */
static void top_on_pty(struct __test_metadata *_metadata, const char *key)
{
	struct winsize ws = { .ws_row = 30, .ws_col = 120 };
	char *argv[] = { (char *)ctl_path(), "top", "-d", "0.3", NULL };
	char buf[65536], *name;
	struct termios tio;
	struct timespec t0;
	size_t len = 0;
	int m, s, st = -1, i;
	pid_t pid;

	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0)
		SKIP(return, "no pty: %s", strerror(errno));
	ASSERT_EQ(0, grantpt(m));
	ASSERT_EQ(0, unlockpt(m));
	name = ptsname(m);
	ASSERT_NE(NULL, name);
	ASSERT_EQ(0, ioctl(m, TIOCSWINSZ, &ws));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		setsid();
		s = open(name, O_RDWR);	/* the session's controlling tty */
		if (s < 0)
			_exit(121);
		dup2(s, 0);
		dup2(s, 1);
		dup2(s, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	/* read until the object table's header is on the screen */
	for (i = 0; i < 200 && !strstr(buf, "FAULTS/S"); i++) {
		struct pollfd pfd = { .fd = m, .events = POLLIN };
		ssize_t n;

		buf[len] = '\0';
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(m, buf + len, sizeof(buf) - 1 - len);
		if (n > 0)
			len += n;
		buf[len] = '\0';
	}
	EXPECT_NE(NULL, strstr(buf, "\033[?1049h")) TH_LOG("no alternate screen");
	ASSERT_NE(NULL, strstr(buf, "FAULTS/S")) TH_LOG("no screen drawn: %s", buf);
	ASSERT_EQ(1, write(m, key, 1));
	/*
	 * Drain until it exits: 20 s at most, by the clock (a count of polls
	 * ends early while top keeps drawing, as it may on the debug kernel,
	 * where a refresh in progress takes a while to finish).
	 */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = m, .events = POLLIN };
		struct timespec t1;
		ssize_t n;

		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 20) {
			st = -1;
			break;
		}
		if (poll(&pfd, 1, 50) > 0) {
			if (len > sizeof(buf) / 2)
				len = 0;	/* keep the tail */
			n = read(m, buf + len, sizeof(buf) - 1 - len);
			if (n > 0)
				len += n;
			buf[len] = '\0';
		}
		st = -1;
	}
	if (st == -1) {
		kill(pid, SIGKILL);
		vmp_wait(pid);
		ASSERT_TRUE(0) TH_LOG("top did not exit after key 0x%02x", key[0]);
	}
	EXPECT_TRUE(VMP_EXITED(st, 0)) TH_LOG("status %#x", st);
	while (len < sizeof(buf) - 1) {	/* what it wrote last */
		struct pollfd pfd = { .fd = m, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 50) <= 0)
			break;
		n = read(m, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	EXPECT_NE(NULL, strstr(buf, "\033[?1049l")) TH_LOG("alternate screen not left");
	EXPECT_NE(NULL, strstr(buf, "\033[?25h")) TH_LOG("cursor not shown again");
	s = open(name, O_RDWR | O_NOCTTY);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, tcgetattr(s, &tio));
	EXPECT_TRUE((tio.c_lflag & (ICANON | ECHO)) == (ICANON | ECHO))
		TH_LOG("terminal left with lflag %#x", tio.c_lflag);
	close(s);
	close(m);
}

TEST_F_TIMEOUT(ctl, top_quits_on_q, 90)
{
	NEED_DEBUGFS();
	top_on_pty(_metadata, "q");
}

TEST_F_TIMEOUT(ctl, top_quits_on_ctrl_c, 90)
{
	NEED_DEBUGFS();
	top_on_pty(_metadata, "\003");
}

/* Without the module: every debugfs command says so and exits 1. */
TEST_F(ctl, error_not_loaded)
{
	static const char *const cmds[] = {
		"stat", "stat --ioctl", "objects", "frames", "lru", "pool",
		"policy", "watermarks 1 2 3", "top -b -n 1",
	};
	unsigned int i;

	NEED_DEBUGFS();
	ASSERT_EQ(0, vmp_unload_wait(2000));
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		struct run r = ctl("%s", cmds[i]);

		EXPECT_EQ(1, r.status) TH_LOG("%s", cmds[i]);
		EXPECT_NE(NULL, strstr(r.err, "module is not loaded"))
			TH_LOG("%s: stderr: %s", cmds[i], r.err);
		EXPECT_STREQ("", r.out) TH_LOG("%s", cmds[i]);
		run_free(&r);
	}
}

/* Not root: debugfs is root-only, and the message says so. */
TEST_F(ctl, error_not_root)
{
	struct run r;

	NEED_DEBUGFS();
	r = ctl_uid(65534, "objects");
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "run as root")) TH_LOG("stderr: %s", r.err);
	run_free(&r);
	r = ctl_uid(65534, "stat --ioctl");
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "permission denied")) TH_LOG("stderr: %s", r.err);
	run_free(&r);
}

/* debugfs not mounted (in a private mount namespace): said so, exit 1. */
TEST_F(ctl, error_no_debugfs)
{
	int pfd[2], st;
	char buf[512] = "";
	ssize_t n;
	pid_t pid;

	NEED_DEBUGFS();
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *argv[] = { (char *)ctl_path(), "objects", NULL };

		dup2(pfd[1], 2);
		dup2(pfd[1], 1);
		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    umount2(VMP_DEBUGFS_ROOT, MNT_DETACH))
			_exit(99);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	n = 0;
	for (;;) {	/* to EOF: the message may come in pieces */
		ssize_t got = read(pfd[0], buf + n, sizeof(buf) - 1 - n);

		if (got <= 0)
			break;
		n += got;
	}
	buf[n] = '\0';
	close(pfd[0]);
	st = vmp_wait(pid);
	if (VMP_EXITED(st, 99))
		SKIP(return, "no private mount namespace to unmount debugfs in");
	EXPECT_TRUE(VMP_EXITED(st, 1));
	EXPECT_NE(NULL, strstr(buf, "debugfs is not mounted")) TH_LOG("%s", buf);
}

/* ---- the daemon client, against a scripted control socket ---- */

#define CTL_SOCK	"/tmp/vmpctl-test.ctl"

/*
 * A fake vmpagerd: per connection, read a line; "stats" gets counters where
 * faults grows by 7 per request; in error mode, an error reply.
 */
static pid_t fake_daemon(bool error_mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ls, c, pfd[2];
	pid_t pid;

	strcpy(sa.sun_path, CTL_SOCK);
	unlink(CTL_SOCK);
	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid != 0) {
		char ch;

		close(pfd[1]);
		if (pid < 0 || read(pfd[0], &ch, 1) != 1)
			pid = -1;	/* listening failed */
		close(pfd[0]);
		return pid;
	}
	close(pfd[0]);
	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive a failed test */
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 8))
		_exit(1);
	VMP_CHILD_CHECK(write(pfd[1], "x", 1) == 1);
	for (int n = 1;; n++) {
		char req[64] = "", rep[256];
		ssize_t got;

		c = accept(ls, NULL, NULL);
		if (c < 0)
			_exit(1);
		got = read(c, req, sizeof(req) - 1);
		if (got > 0 && !strcmp(req, "stats\n") && !error_mode)
			snprintf(rep, sizeof(rep),
				 "faults %d\nfaults_major 2\nswap_ins %d\nuffd_wakeups 9\nend\n",
				 7 * n, n);
		else
			snprintf(rep, sizeof(rep),
				 "error EINVAL unknown request\nend\n");
		VMP_CHILD_CHECK(write(c, rep, strlen(rep)) == (ssize_t)strlen(rep));
		close(c);
	}
}

static void stop_daemon(pid_t pid)
{
	kill(pid, SIGKILL);
	vmp_wait(pid);
	unlink(CTL_SOCK);
}

TEST(daemon_stats)
{
	struct run r;
	struct tab t;
	pid_t d = fake_daemon(false);
	long long v;
	char tm[16];
	int i;

	ASSERT_LT(0, d);
	r = ctl("stat --daemon=%s", CTL_SOCK);
	EXPECT_OK(r);
	ASSERT_EQ(0, tab_parse(&t, r.out, "COUNTER"));
	EXPECT_EQ(4, t.nrows);
	EXPECT_EQ(7, num(tab_get(&t, tab_find(&t, "counter", "faults"), "value")));
	EXPECT_EQ(9, num(tab_get(&t, tab_find(&t, "counter", "uffd_wakeups"), "value")));
	tab_free(&t);
	run_free(&r);

	/* rolling with the module's column names; -d: 7 faults per request */
	r = ctl("stat --daemon=%s -i 0.2 -c 3 -d", CTL_SOCK);
	EXPECT_OK(r);
	ASSERT_EQ(0, tab_parse(&t, r.out, "TIME"));
	EXPECT_EQ(3, t.nrows);
	EXPECT_STREQ("total", tab_get(&t, 0, "time"));
	EXPECT_EQ(14, num(tab_get(&t, 0, "faults")));
	EXPECT_STREQ("-", tab_get(&t, 0, "faults_zero"));	/* not reported */
	for (i = 1; i < t.nrows; i++) {
		EXPECT_EQ(7, num(tab_get(&t, i, "faults")));
		EXPECT_EQ(0, num(tab_get(&t, i, "faults_major")));
		EXPECT_EQ(1, num(tab_get(&t, i, "swap_ins")));
	}
	tab_free(&t);
	run_free(&r);

	/* rates: 7 faults per 0.5 s is about 14/s */
	r = ctl("stat --daemon=%s -i 0.5 -c 2 -f faults", CTL_SOCK);
	EXPECT_OK(r);
	{
		const char *l2 = strchr(strchr(r.out, '\n') + 1, '\n') + 1;
		double rate = 0;

		ASSERT_EQ(2, sscanf(l2, "%15s %lf", tm, &rate)) TH_LOG("%s", r.out);
		EXPECT_TRUE(rate > 10 && rate < 15) TH_LOG("rate %f", rate);
	}
	run_free(&r);

	r = ctl("stat --daemon=%s -i 0.2 -c 2 -f nosuchcounter", CTL_SOCK);
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "no counter 'nosuchcounter'")) TH_LOG("%s", r.err);
	run_free(&r);
	r = ctl("-j stat --daemon=%s", CTL_SOCK);
	EXPECT_OK(r);
	v = -1;
	sscanf(r.out, "{\"faults\":%lld,", &v);
	EXPECT_LT(0, v) TH_LOG("%s", r.out);
	run_free(&r);
	stop_daemon(d);
}

TEST(daemon_errors)
{
	struct run r;
	pid_t d;

	unlink(CTL_SOCK);
	r = ctl("stat --daemon=%s", CTL_SOCK);
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "vmpagerd is not running")) TH_LOG("%s", r.err);
	EXPECT_STREQ("", r.out);
	run_free(&r);

	d = fake_daemon(true);
	ASSERT_LT(0, d);
	r = ctl("stat --daemon=%s", CTL_SOCK);
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "vmpagerd: EINVAL unknown request")) TH_LOG("%s", r.err);
	run_free(&r);
	kill(d, SIGKILL);
	vmp_wait(d);
	/* the socket file stays, nobody listens: a stale socket */
	r = ctl("stat --daemon=%s", CTL_SOCK);
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "not running")) TH_LOG("%s", r.err);
	run_free(&r);
	unlink(CTL_SOCK);
}

/* Bad command lines exit 2 with a message, before touching anything. */
TEST(usage_errors)
{
	static const char *const bad[] = {
		"", "nosuchcommand", "stat -i 0", "stat -c x", "stat -d",
		"frames --state bogus", "rmap", "rmap x", "walk 1", "walk 0 0x1000",
		"walk 1 zz", "policy a b", "readahead x", "fail reads",
		"fail bogus 1", "top -n 0", "objects extra",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct run r = ctl("%s", bad[i]);

		EXPECT_EQ(2, r.status) TH_LOG("'%s'", bad[i]);
		EXPECT_NE('\0', r.err[0]) TH_LOG("'%s': no message", bad[i]);
		run_free(&r);
	}
}

/* ---- fixture files in place of debugfs ($VMPAGER_DEBUGFS) ---- */

#define FIX_DIR	"/tmp/vmpctl-fixture"

static void fix_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), FIX_DIR "/%s", name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/*
 * Formats without a module: an older swap layout (one table), objects
 * without a mappers file, a changed header, a malformed counter and a
 * missing file each give the right output or a clear error.
 */
TEST(fixture_formats)
{
	struct run r;
	struct tab t;

	mkdir(FIX_DIR, 0700);
	ASSERT_EQ(0, setenv("VMPAGER_DEBUGFS", FIX_DIR, 1));
	fix_file("objects", "id size resident swapped mappers faults\n4 10 6 4 0 12\n");
	unlink(FIX_DIR "/mappers");
	r = ctl("objects");
	EXPECT_OK(r);
	ASSERT_EQ(0, tab_parse(&t, r.out, "ID"));
	EXPECT_EQ(1, t.nrows);
	EXPECT_STREQ("6", tab_get(&t, 0, "resident"));
	EXPECT_STREQ("-", tab_get(&t, 0, "file_pages"));	/* ABI 2.0 */
	EXPECT_STREQ("-", tab_get(&t, 0, "pids"));
	tab_free(&t);
	run_free(&r);
	/* ABI 2.1: a file-backed object's file range */
	fix_file("objects", "id size resident swapped mappers faults file_pages\n"
		 "4 10 6 4 0 12 0\n5 768 256 0 1 900 768\n");
	r = ctl("objects");
	EXPECT_OK(r);
	ASSERT_EQ(0, tab_parse(&t, r.out, "ID"));
	EXPECT_EQ(2, t.nrows);
	EXPECT_STREQ("0", tab_get(&t, 0, "file_pages"));
	EXPECT_STREQ("768", tab_get(&t, 1, "file_pages"));
	EXPECT_STREQ("256", tab_get(&t, 1, "resident"));
	tab_free(&t);
	run_free(&r);
	r = ctl("-j objects");
	EXPECT_OK(r);
	EXPECT_NE(NULL, strstr(r.out, "\"faults\":900,\"file_pages\":768}")) TH_LOG("%s", r.out);
	run_free(&r);
	/* ABI 2.2: how a file-backed object reaches its file */
	fix_file("objects", "id size resident swapped mappers faults file_pages file_io\n"
		 "4 10 6 4 0 12 0 -\n5 768 256 0 1 900 768 bio\n");
	r = ctl("objects");
	EXPECT_OK(r);
	ASSERT_EQ(0, tab_parse(&t, r.out, "ID"));
	EXPECT_EQ(2, t.nrows);
	EXPECT_STREQ("-", tab_get(&t, 0, "file_io"));
	EXPECT_STREQ("bio", tab_get(&t, 1, "file_io"));
	EXPECT_STREQ("768", tab_get(&t, 1, "file_pages"));
	tab_free(&t);
	run_free(&r);
	r = ctl("-j objects");
	EXPECT_OK(r);
	EXPECT_NE(NULL, strstr(r.out, "\"file_pages\":768,\"file_io\":\"bio\"}")) TH_LOG("%s", r.out);
	run_free(&r);

	fix_file("swap", "key value\nslots 64\nused 3\nfree 61\ncursor 3\n"
		 "file first slots io path\n0 0 64 direct /x/s\n");
	r = ctl("swap");
	EXPECT_OK(r);
	EXPECT_EQ(64, num(kv(r.out, "slots")));
	ASSERT_EQ(0, tab_parse(&t, r.out, "FILE"));
	EXPECT_STREQ("/x/s", tab_get(&t, 0, "path"));
	tab_free(&t);
	run_free(&r);
	r = ctl("-j swap");
	EXPECT_STREQ("{\"slots\":64,\"used\":3,\"free\":61,\"cursor\":3,\"tables\":{\"file\":[{\"file\":0,\"first\":0,\"slots\":64,\"io\":\"direct\",\"path\":\"/x/s\"}]}}\n",
		     r.out);
	run_free(&r);

	fix_file("frames", "frame state obj\n0 U 1\n");
	r = ctl("frames");
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "unexpected format")) TH_LOG("%s", r.err);
	run_free(&r);

	fix_file("stats", "counter value\nfaults 12\nfaults_zero -3\n");
	r = ctl("stat");
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "malformed counter line \"faults_zero -3\"")) TH_LOG("%s", r.err);
	run_free(&r);

	unlink(FIX_DIR "/lru");
	r = ctl("lru");
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, FIX_DIR "/lru: No such file")) TH_LOG("%s", r.err);
	run_free(&r);

	unsetenv("VMPAGER_DEBUGFS");
	unlink(FIX_DIR "/objects");
	unlink(FIX_DIR "/swap");
	unlink(FIX_DIR "/frames");
	unlink(FIX_DIR "/stats");
	rmdir(FIX_DIR);
}

/* ---- swap: a second module instance with a swap file ---- */

VMP_FIXTURE(ctlswap, "pool_pages=512 max_obj_pages=4096 swapfile=/tmp/vmpctl.swap swap_pages=2048")

/* 2x the pool written: objects' resident + swapped is every page, and swap
 * shows as many used slots as the object has swapped pages. */
TEST_F(ctlswap, swap_and_objects)
{
	const size_t n = 2 * POOL;
	char id[32];
	struct run r;
	struct tab t;
	long long res, sw;
	char *p;
	int fd, row;
	uint64_t oid;

	NEED_DEBUGFS();
	oid = make_object(&fd, &p, n, n);
	ASSERT_NE(0ULL, oid);
	snprintf(id, sizeof(id), "%llu", (unsigned long long)oid);
	r = ctl("objects");
	EXPECT_OK(r);
	ASSERT_EQ(0, tab_parse(&t, r.out, "ID"));
	row = tab_find(&t, "id", id);
	ASSERT_LE(0, row);
	res = num(tab_get(&t, row, "resident"));
	sw = num(tab_get(&t, row, "swapped"));
	EXPECT_LT(0, sw);
	EXPECT_EQ((long long)n, res + sw);	/* each page in one place */
	tab_free(&t);
	run_free(&r);

	r = ctl("swap");
	EXPECT_OK(r);
	EXPECT_EQ(2048, num(kv(r.out, "slots")));
	EXPECT_LE(sw, num(kv(r.out, "used")));
	EXPECT_EQ(2048 - num(kv(r.out, "used")), num(kv(r.out, "free")));
	ASSERT_EQ(0, tab_parse(&t, r.out, "FILE"));
	ASSERT_EQ(1, t.nrows);
	EXPECT_STREQ("/tmp/vmpctl.swap", tab_get(&t, 0, "path"));
	EXPECT_EQ(2048, num(tab_get(&t, 0, "slots")));
	tab_free(&t);
	run_free(&r);
	EXPECT_LT(0, stat_of("swap_outs"));
	munmap(p, n * PG);
	close(fd);
	unlink("/tmp/vmpctl.swap");
}

TEST_HARNESS_MAIN
