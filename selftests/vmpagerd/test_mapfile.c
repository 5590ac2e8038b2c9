// SPDX-License-Identifier: GPL-2.0
/*
 * vmp_region_map_file() on both backends (the module: skipped on the host;
 * vmpagerd): a file 4x the pager's memory read, rewritten in random order,
 * flushed and freed, verified through read(2) each time; kill -9 of the
 * writer keeps what vmp_region_flush() returned for; a read-only file; what
 * is refused.
 */
#include "vmpd_test.h"

#define MEM	128			/* frames: module pool, daemon budget */
#define NPG	(4 * MEM)		/* pages of the file range */
#define TAIL	200			/* bytes of the range in its last page */
#define LEN	((NPG - 1) * PG + TAIL)

/* A file of @bytes at @path whose page i holds vmp_word(seed, i, w). */
static int file_of(const char *path, size_t bytes, uint64_t seed)
{
	uint64_t buf[WORDS_PER_PG];
	size_t pg, w, n;
	int fd;

	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	for (pg = 0; fd >= 0 && pg * PG < bytes; pg++) {
		n = bytes - pg * PG < PG ? bytes - pg * PG : PG;
		for (w = 0; w < WORDS_PER_PG; w++)
			buf[w] = vmp_word(seed, pg, w);
		if (pwrite(fd, buf, n, (off_t)(pg * PG)) != (ssize_t)n) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* -1 if page @pg of the file holds @seed's pattern (its bytes in range). */
static long file_page_bad(int fd, size_t pg, uint64_t seed)
{
	uint64_t buf[WORDS_PER_PG];
	size_t n = LEN - pg * PG < PG ? LEN - pg * PG : PG, w;

	if (pread(fd, buf, n, (off_t)(pg * PG)) != (ssize_t)n)
		return -2;
	for (w = 0; w < n / 8; w++)
		if (buf[w] != vmp_word(seed, pg, w))
			return (long)w;
	return -1;
}

/* -1 if page @pg of the region holds @seed's pattern (its bytes in range). */
static long region_page_bad(const char *p, size_t pg, uint64_t seed)
{
	const volatile uint64_t *q = (const uint64_t *)(p + pg * PG);
	size_t n = LEN - pg * PG < PG ? LEN - pg * PG : PG, w;

	for (w = 0; w < n / 8; w++)
		if (q[w] != vmp_word(seed, pg, w))
			return (long)w;
	return -1;
}

FIXTURE(mapf) {
	struct vmpd_inst d;
	char path[200];
	int fd;
	bool up;
};

FIXTURE_VARIANT(mapf) {
	int backend;
};

FIXTURE_VARIANT_ADD(mapf, kmod) { VMP_BACKEND_MODULE };
FIXTURE_VARIANT_ADD(mapf, uffd) { VMP_BACKEND_DAEMON };

FIXTURE_SETUP(mapf)
{
	char args[128];
	int r;

	self->up = false;
	self->d.pid = 0;
	self->fd = -1;
	if (variant->backend == VMP_BACKEND_MODULE) {
		if (access(vmp_ko(), R_OK))
			SKIP(return, "%s not here (the module runs in the guest)",
			     vmp_ko());
		snprintf(args, sizeof(args), "pool_pages=%d", MEM);
		r = vmp_load(args);
		ASSERT_EQ(0, r) TH_LOG("loading the module: %s", strerror(-r));
	} else {
		r = vmpd_start(&self->d, "--frames 128 --client-cache 64 --policy lru2");
		ASSERT_EQ(0, r) TH_LOG("starting vmpagerd: %s", strerror(-r));
		setenv("VMPAGER_SOCKET", self->d.sock, 1);
	}
	snprintf(self->path, sizeof(self->path), "%s/vmp-mapfile.dat",
		 vmpd_scratch());
	self->fd = file_of(self->path, LEN, 1);
	ASSERT_LE(0, self->fd) TH_LOG("%s: %s", self->path, strerror(errno));
	self->up = true;
}

FIXTURE_TEARDOWN(mapf)
{
	if (self->fd >= 0)
		close(self->fd);
	unlink(self->path);
	if (variant->backend == VMP_BACKEND_MODULE) {
		if (vmp_loaded())
			EXPECT_EQ(0, vmp_unload_wait(2000));
	} else if (self->d.pid > 0) {
		EXPECT_EQ(0, vmpd_stop(&self->d));
	}
}

/* The 6.1 harness runs the body even after SKIP() in the setup. */
#define NEED_UP() do { if (!self->up) return; } while (0)

static long long pager_stat(FIXTURE_DATA(mapf) *self, int backend,
			    const char *name)
{
	return backend == VMP_BACKEND_MODULE ? vmp_stat(name) :
					       vmpd_stat(&self->d, name);
}

TEST_F_TIMEOUT(mapf, reads_writes_flush_and_free, 300)
{
	uint64_t *seed = calloc(NPG, sizeof(*seed));
	struct vmp_region_info ri;
	size_t i, pg;
	char *p;

	NEED_UP();
	ASSERT_NE(NULL, seed);
	p = vmp_region_map_file(self->fd, 0, LEN, variant->backend);
	ASSERT_NE(NULL, p) TH_LOG("%s", vmp_region_strerror());
	ASSERT_EQ(0, vmp_region_info(p, &ri));
	EXPECT_TRUE(ri.file);
	EXPECT_EQ(variant->backend, ri.backend);
	EXPECT_EQ((size_t)NPG * PG, ri.size);
	for (pg = 0; pg < NPG; pg++) {
		seed[pg] = 1;
		ASSERT_EQ(-1, region_page_bad(p, pg, 1)) TH_LOG("page %zu", pg);
	}
	/* past the range in the last page: zeros */
	for (i = TAIL; i < PG; i++)
		ASSERT_EQ(0, p[(NPG - 1) * PG + i]) TH_LOG("byte %zu", i);
	EXPECT_LE(NPG, pager_stat(self, variant->backend, "file_reads"));
	srandom(7);
	for (i = 0; i < 2 * NPG; i++) {
		pg = (size_t)random() % NPG;
		seed[pg] = 10 + i;
		vmp_fill(p + pg * PG, pg, 1, seed[pg]);
	}
	for (pg = 0; pg < NPG; pg++)
		ASSERT_EQ(-1, region_page_bad(p, pg, seed[pg])) TH_LOG("page %zu", pg);
	EXPECT_LT(0, pager_stat(self, variant->backend, "file_writes"))
		TH_LOG("4x the memory rewritten and nothing went back to the file?");
	EXPECT_EQ(0, pager_stat(self, variant->backend, "swap_outs"));
	ASSERT_EQ(0, vmp_region_flush(p, LEN)) TH_LOG("%s", vmp_region_strerror());
	for (pg = 0; pg < NPG; pg++)
		ASSERT_EQ(-1, file_page_bad(self->fd, pg, seed[pg]))
			TH_LOG("page %zu after the flush", pg);
	/* more writes, then only free: written back first */
	for (pg = 1; pg < NPG; pg += 3) {
		seed[pg] = 5000 + pg;
		vmp_fill(p + pg * PG, pg, 1, seed[pg]);
	}
	ASSERT_EQ(0, vmp_region_free(p));
	for (pg = 0; pg < NPG; pg++)
		ASSERT_EQ(-1, file_page_bad(self->fd, pg, seed[pg]))
			TH_LOG("page %zu after the free", pg);
	/* the bytes past the range in the last page never reached the file */
	{
		struct stat st;

		ASSERT_EQ(0, fstat(self->fd, &st));
		EXPECT_EQ((off_t)LEN, st.st_size);
	}
	EXPECT_EQ(0, pager_stat(self, variant->backend, "read_errors"));
	EXPECT_EQ(0, pager_stat(self, variant->backend, "write_errors"));
	free(seed);
}

/*
 * kill -9 of the writer: what vmp_region_flush() returned for is in the
 * file; a page written after it holds the old or the new bytes.
 */
TEST_F_TIMEOUT(mapf, kill_9_keeps_what_flush_returned_for, 300)
{
	int pipefd[2], st;
	size_t pg;
	pid_t pid;
	char c;

	NEED_UP();
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *p = vmp_region_map_file(self->fd, 0, LEN, variant->backend);

		vmp_no_core();
		close(pipefd[0]);
		if (!p)
			_exit(2);
		for (pg = 0; pg < NPG; pg++)
			vmp_fill(p + pg * PG, pg, 1, 7);
		if (vmp_region_flush(p, LEN))
			_exit(3);
		for (pg = 0; pg < NPG; pg += 2)
			vmp_fill(p + pg * PG, pg, 1, 8);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(4);
		pause();
		_exit(5);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1)) TH_LOG("the writer died early");
	close(pipefd[0]);
	/* flushed, before the kill: the pages not written since */
	for (pg = 1; pg < NPG; pg += 2)
		ASSERT_EQ(-1, file_page_bad(self->fd, pg, 7))
			TH_LOG("page %zu: not in the file after the flush", pg);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(VMP_KILLED(st, SIGKILL));
	if (variant->backend == VMP_BACKEND_DAEMON) {
		/* the daemon notices the exit (pidfd) and writes back then */
		for (st = 0; st < 500 && vmpd_stat(&self->d, "clients_exited") < 1; st++)
			usleep(10000);
		ASSERT_LE(1, vmpd_stat(&self->d, "clients_exited"));
	}
	/* the pager wrote the rest back when the writer's region went */
	for (pg = 0; pg < NPG; pg++)
		ASSERT_EQ(-1, file_page_bad(self->fd, pg, pg % 2 ? 7 : 8))
			TH_LOG("page %zu after the kill", pg);
}

/* munmap(2) of part of a region: those pages' writes still reach the file. */
TEST_F_TIMEOUT(mapf, munmap_of_part_keeps_its_writes, 120)
{
	struct stat st;
	size_t pg;
	char *p;

	NEED_UP();
	p = vmp_region_map_file(self->fd, 0, LEN, variant->backend);
	ASSERT_NE(NULL, p) TH_LOG("%s", vmp_region_strerror());
	vmp_fill(p, 0, 16, 9);
	ASSERT_EQ(0, munmap(p, 4 * PG));
	ASSERT_EQ(0, vmp_region_free(p));
	for (pg = 0; pg < 16; pg++)
		ASSERT_EQ(-1, file_page_bad(self->fd, pg, 9)) TH_LOG("page %zu", pg);
	EXPECT_EQ(-1, file_page_bad(self->fd, 16, 1));
	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_EQ((off_t)LEN, st.st_size);
}

/* An O_APPEND fd: pages are written in place, the file does not grow. */
TEST_F_TIMEOUT(mapf, append_fd_writes_in_place, 120)
{
	struct stat st;
	char *p;
	int afd;

	NEED_UP();
	afd = open(self->path, O_RDWR | O_APPEND);
	ASSERT_LE(0, afd);
	p = vmp_region_map_file(afd, 0, LEN, variant->backend);
	close(afd);
	ASSERT_NE(NULL, p) TH_LOG("%s", vmp_region_strerror());
	vmp_fill(p + 2 * PG, 2, 1, 11);
	ASSERT_EQ(0, vmp_region_flush(p, LEN)) TH_LOG("%s", vmp_region_strerror());
	EXPECT_EQ(-1, file_page_bad(self->fd, 2, 11));
	EXPECT_EQ(-1, file_page_bad(self->fd, 3, 1));
	ASSERT_EQ(0, vmp_region_free(p));
	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_EQ((off_t)LEN, st.st_size);
}

/* An fd open for reading only: a read-only region; writing it is SIGSEGV. */
TEST_F_TIMEOUT(mapf, read_only_file, 120)
{
	siginfo_t si;
	char *p;
	int ro;

	NEED_UP();
	ro = open(self->path, O_RDONLY);
	ASSERT_LE(0, ro);
	p = vmp_region_map_file(ro, 0, LEN, variant->backend);
	close(ro);
	ASSERT_NE(NULL, p) TH_LOG("%s", vmp_region_strerror());
	EXPECT_EQ(-1, region_page_bad(p, 3, 1));
	EXPECT_EQ(SIGSEGV, vmp_try_write(p + 3 * PG, 5, &si));
	EXPECT_EQ(-1, region_page_bad(p, NPG - 1, 1));
	EXPECT_EQ(0, vmp_region_flush(p, LEN));
	EXPECT_EQ(0, vmp_region_free(p));
	EXPECT_EQ(-1, file_page_bad(self->fd, 3, 1));
	/* VMP_FILE_RDONLY on a writable fd: the same */
	p = vmp_region_map_file(self->fd, 0, LEN,
				variant->backend | VMP_FILE_RDONLY);
	ASSERT_NE(NULL, p) TH_LOG("%s", vmp_region_strerror());
	EXPECT_EQ(SIGSEGV, vmp_try_write(p + 5 * PG, 5, &si));
	EXPECT_EQ(-1, region_page_bad(p, 5, 1));
	EXPECT_EQ(0, vmp_region_free(p));
}

/* Not a regular file: refused by the pager, EINVAL, nothing left mapped. */
/*
 * Advice, Umap's prefetch and evict: WILLNEED reads 64 pages of the file
 * in at once (their later reads fault no more into the pager), DONTNEED
 * evicts written pages (the daemon writes them to the file); the module
 * takes WILLNEED (it reads each page) and refuses DONTNEED (EOPNOTSUPP).
 */
TEST_F_TIMEOUT(mapf, prefetch_and_evict_advice, 120)
{
	bool daemon = variant->backend == VMP_BACKEND_DAEMON;
	long long major;
	size_t pg;
	char *p;

	NEED_UP();
	p = vmp_region_map_file(self->fd, 0, LEN, variant->backend);
	ASSERT_NE(NULL, p) TH_LOG("%s", vmp_region_strerror());
	ASSERT_EQ(-1, vmp_region_advise(p, PG, 7));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, vmp_region_advise(p + 64 * PG, 64 * PG,
				       VMP_ADVICE_WILLNEED))
		TH_LOG("%s", vmp_region_strerror());
	major = pager_stat(self, variant->backend, "faults_major");
	if (daemon)
		EXPECT_EQ(64, vmpd_stat(&self->d, "advise_willneed"));
	for (pg = 64; pg < 128; pg++)
		ASSERT_EQ(-1, region_page_bad(p, pg, 1)) TH_LOG("page %zu", pg);
	/* read in already: no major fault for any of them */
	EXPECT_EQ(major, pager_stat(self, variant->backend, "faults_major"));
	vmp_fill(p, 0, 16, 0x77);
	if (!daemon) {
		EXPECT_EQ(-1, vmp_region_advise(p, 16 * PG, VMP_ADVICE_DONTNEED));
		EXPECT_EQ(EOPNOTSUPP, errno);
	} else {
		ASSERT_EQ(0, vmp_region_advise(p, 16 * PG, VMP_ADVICE_DONTNEED))
			TH_LOG("%s", vmp_region_strerror());
		EXPECT_EQ(16, vmpd_stat(&self->d, "advise_dontneed"));
		/* evicted: their bytes reach the file once the cache writes them */
		EXPECT_EQ(0, vmp_region_flush(p, 16 * PG));
		EXPECT_EQ(-1, file_page_bad(self->fd, 3, 0x77));
	}
	EXPECT_EQ(-1, vmp_check(p, 0, 16, 0x77));
	EXPECT_EQ(0, vmp_region_free(p));
}

TEST_F_TIMEOUT(mapf, pipe_is_refused, 60)
{
	int pfd[2];

	NEED_UP();
	ASSERT_EQ(0, pipe(pfd));
	EXPECT_EQ(NULL, vmp_region_map_file(pfd[0], 0, 4 * PG, variant->backend));
	EXPECT_EQ(EINVAL, errno) TH_LOG("%s", vmp_region_strerror());
	close(pfd[0]);
	close(pfd[1]);
}

/* What vmp_region_map_file() refuses before asking a pager, with errno. */
TEST(refusals)
{
	char path[200];
	int fd;

	snprintf(path, sizeof(path), "%s/vmp-mapfile-refuse.dat", vmpd_scratch());
	fd = file_of(path, 4 * PG, 1);
	ASSERT_LE(0, fd);
	EXPECT_EQ(NULL, vmp_region_map_file(fd, 100, PG, VMP_BACKEND_DAEMON));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, vmp_region_map_file(fd, 0, 0, VMP_BACKEND_DAEMON));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, vmp_region_map_file(fd, 0, PG, 0x100));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, vmp_region_map_file(-1, 0, PG, VMP_BACKEND_DAEMON));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, vmp_region_flush(&fd, 8));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
	unlink(path);
}

TEST_HARNESS_MAIN
