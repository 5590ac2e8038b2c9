// SPDX-License-Identifier: GPL-2.0
/*
 * fork() of a vmpagerd client: the child gets a copy of each daemon region
 * as it was at the fork (resident, cached and swapped pages alike: a
 * region 8x its budget), each side's later writes are its own, a page
 * written by another thread during the fork is copied whole, swap copies
 * are shared until both sides are done with them, forks nest, and a
 * file-backed region leaves the child nothing mapped (docs/libvmpager.md
 * "Fork"); a copy the daemon answers too late is no later fork's
 * (reliability bug 22, against a stand-in daemon).
 */
#include <pthread.h>

#include "vmpd_test.h"
#include "vmpd_proto.h"

#define NPG	1024
#define ARGS	"--frames 128 --client-cache 32 --policy fifo"

FIXTURE(fk) {
	struct vmpd_inst d;
};

FIXTURE_SETUP(fk)
{
	int r = vmpd_start(&self->d, ARGS);

	ASSERT_EQ(0, r) TH_LOG("starting vmpagerd: %s", strerror(-r));
}

FIXTURE_TEARDOWN(fk)
{
	vmpd_stop(&self->d);
}

/* Pages 0..NPG-65 hold @a, the last 64 @b (written last: resident or cached). */
static bool two_seeds_ok(const char *p, uint64_t a, uint64_t b)
{
	long x = vmp_check(p, 0, NPG - 64, a);

	if (x == -1)
		x = vmp_check(p + (NPG - 64) * PG, NPG - 64, 64, b);
	if (x != -1)
		fprintf(stderr, "# pid %d: word %ld wrong\n", getpid(), x);
	return x == -1;
}

static void fill_two(char *p, uint64_t a, uint64_t b)
{
	vmp_fill(p, 0, NPG, a);
	vmp_fill(p + (NPG - 64) * PG, NPG - 64, 64, b);
}

/* The child reads the parent's data; its writes never reach the parent. */
TEST_F_TIMEOUT(fk, child_reads_the_fork_time_copy, 180)
{
	char *p = vmpd_region(&self->d, NPG, 0);
	long long used;
	pid_t pid;

	ASSERT_NE(NULL, p) TH_LOG("%s", vmp_region_strerror());
	fill_two(p, 0x11, 0x12);
	used = vmpd_stat(&self->d, "swap_used");
	EXPECT_LT(0, used);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		vmp_no_core();
		VMP_CHILD_CHECK(two_seeds_ok(p, 0x11, 0x12));
		vmp_fill(p, 0, 64, 0x13);
		VMP_CHILD_CHECK(vmp_check(p, 0, 64, 0x13) == -1);
		VMP_CHILD_CHECK(vmp_region_free(p) == 0);
		_exit(0);
	}
	EXPECT_EQ(0, vmp_wait(pid));
	EXPECT_TRUE(two_seeds_ok(p, 0x11, 0x12));
	EXPECT_EQ(1, vmpd_stat(&self->d, "forks"));
	EXPECT_EQ(1, vmpd_stat(&self->d, "clients_forked"));
	EXPECT_EQ(0, vmp_region_free(p));
	/* every shared swap copy freed by both sides */
	for (pid = 0; pid < 200 && vmpd_stat(&self->d, "clients"); pid++)
		usleep(20000);
	EXPECT_EQ(0, vmpd_stat(&self->d, "swap_used"));
}

/* The parent's writes after the fork are not the child's. */
TEST_F_TIMEOUT(fk, parent_writes_after_the_fork_stay_its_own, 180)
{
	char *p = vmpd_region(&self->d, NPG, 0);
	int go[2];
	pid_t pid;

	ASSERT_NE(NULL, p) TH_LOG("%s", vmp_region_strerror());
	ASSERT_EQ(0, pipe(go));
	fill_two(p, 0x21, 0x22);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		vmp_no_core();
		vmp_pend(go[0]);	/* the parent has rewritten everything */
		VMP_CHILD_CHECK(two_seeds_ok(p, 0x21, 0x22));
		_exit(0);
	}
	vmp_fill(p, 0, NPG, 0x23);
	vmp_post(go[1]);
	EXPECT_EQ(0, vmp_wait(pid));
	EXPECT_EQ(-1, vmp_check(p, 0, NPG, 0x23));
	EXPECT_EQ(0, vmp_region_free(p));
}

/* A child's child copies the child's region. */
TEST_F_TIMEOUT(fk, forks_nest, 180)
{
	char *p = vmpd_region(&self->d, NPG, 0);
	pid_t pid;

	ASSERT_NE(NULL, p) TH_LOG("%s", vmp_region_strerror());
	fill_two(p, 0x31, 0x32);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pid_t gc;

		vmp_no_core();
		/* the child's own last pages; the rest still the parent's */
		vmp_fill(p + (NPG - 64) * PG, NPG - 64, 64, 0x34);
		gc = fork();
		VMP_CHILD_CHECK(gc >= 0);
		if (gc == 0) {
			VMP_CHILD_CHECK(two_seeds_ok(p, 0x31, 0x34));
			vmp_fill(p, 0, 64, 0x35);
			_exit(0);
		}
		VMP_CHILD_CHECK(vmp_wait(gc) == 0);
		VMP_CHILD_CHECK(two_seeds_ok(p, 0x31, 0x34));
		_exit(0);
	}
	EXPECT_EQ(0, vmp_wait(pid));
	EXPECT_TRUE(two_seeds_ok(p, 0x31, 0x32));
	EXPECT_EQ(2, vmpd_stat(&self->d, "clients_forked"));
	EXPECT_EQ(0, vmp_region_free(p));
}

/*
 * Threads write pages (every word of a page the same generation) while
 * the main thread forks: each child's copy of every page is whole, one
 * generation in every word, never torn.
 */
struct writer {
	char *p;
	unsigned int seed;
	volatile int *stop;
};

static void *write_gens(void *arg)
{
	struct writer *w = arg;
	uint64_t gen = 0x100;

	while (!*w->stop) {
		unsigned int pg = rand_r(&w->seed) % NPG;

		vmp_fill(w->p + (size_t)pg * PG, pg, 1, gen++);
	}
	return NULL;
}

/* Is page @pg of @p whole: every word vmp_word(g, pg, w) for one g? */
static bool page_whole(const char *p, unsigned int pg)
{
	const uint64_t *q = (const uint64_t *)(p + (size_t)pg * PG);
	uint64_t g, w;

	/* vmp_word(seed, pg, w) = seed << 32 ^ pg << 12 ^ w: recover seed */
	g = (q[0] ^ vmp_word(0, pg, 0)) >> 32;
	for (w = 0; w < WORDS_PER_PG; w++)
		if (q[w] != vmp_word(g, pg, w))
			return false;
	return true;
}

TEST_F_TIMEOUT(fk, pages_written_during_the_fork_are_copied_whole, 300)
{
	char *p = vmpd_region(&self->d, NPG, 0);
	volatile int stop = 0;
	struct writer w[2];
	pthread_t th[2];
	int i, k;

	ASSERT_NE(NULL, p) TH_LOG("%s", vmp_region_strerror());
	vmp_fill(p, 0, NPG, 0x41);
	ASSERT_TRUE(page_whole(p, 5));
	for (i = 0; i < 2; i++) {
		w[i] = (struct writer){ p, 7 + i, &stop };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, write_gens, &w[i]));
	}
	for (k = 0; k < 4; k++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			unsigned int pg;

			vmp_no_core();
			for (pg = 0; pg < NPG; pg++)
				if (!page_whole(p, pg)) {
					fprintf(stderr, "# page %u torn\n", pg);
					_exit(1);
				}
			_exit(0);
		}
		EXPECT_EQ(0, vmp_wait(pid)) TH_LOG("fork %d", k);
	}
	stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < NPG; i++)
		ASSERT_TRUE(page_whole(p, i)) TH_LOG("parent page %d", i);
	EXPECT_EQ(4, vmpd_stat(&self->d, "clients_forked"));
	EXPECT_EQ(0, vmp_region_free(p));
}

/*
 * Pages the parent had read back from swap (clean, their slot kept) and
 * pages it had only read as zero: the child's writes to them survive
 * their eviction (the child's copies are write-protected, so the writes
 * are seen), and the parent's stay as they were.
 */
TEST_F_TIMEOUT(fk, child_writes_to_clean_pages_survive_eviction, 180)
{
	char *p = vmpd_region(&self->d, 2 * NPG, 0);
	pid_t pid;

	ASSERT_NE(NULL, p) TH_LOG("%s", vmp_region_strerror());
	vmp_fill(p, 0, NPG, 0x61);
	/* pages 0..63 back from swap: clean; NPG..NPG+63 read as zero */
	ASSERT_EQ(-1, vmp_check(p, 0, 64, 0x61));
	ASSERT_EQ(-1, vmp_check_zero(p + NPG * PG, 64));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		vmp_no_core();
		vmp_fill(p, 0, 64, 0x62);
		vmp_fill(p + NPG * PG, NPG, 64, 0x63);
		/* push them out: everything else is read */
		VMP_CHILD_CHECK(vmp_check(p + 64 * PG, 64, NPG - 64, 0x61) == -1);
		VMP_CHILD_CHECK(vmp_check_zero(p + (NPG + 64) * PG, NPG - 64) == -1);
		VMP_CHILD_CHECK(vmp_check(p, 0, 64, 0x62) == -1);
		VMP_CHILD_CHECK(vmp_check(p + NPG * PG, NPG, 64, 0x63) == -1);
		_exit(0);
	}
	EXPECT_EQ(0, vmp_wait(pid));
	EXPECT_EQ(-1, vmp_check(p, 0, NPG, 0x61));
	EXPECT_EQ(-1, vmp_check_zero(p + NPG * PG, NPG));
	EXPECT_EQ(0, vmp_region_free(p));
}

/*
 * MADV_REMOVE of pages that are resident and clean (their slot kept):
 * they read zero after their eviction too, in the parent and in a child.
 */
TEST_F_TIMEOUT(fk, removed_pages_stay_zero_after_eviction, 180)
{
	char *p = vmpd_region(&self->d, NPG, 0);
	pid_t pid;

	ASSERT_NE(NULL, p) TH_LOG("%s", vmp_region_strerror());
	vmp_fill(p, 0, NPG, 0x71);
	ASSERT_EQ(-1, vmp_check(p, 0, 64, 0x71));	/* clean, with slots */
	ASSERT_EQ(0, madvise(p, 64 * PG, MADV_REMOVE));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		vmp_no_core();
		VMP_CHILD_CHECK(vmp_check_zero(p, 64) == -1);
		VMP_CHILD_CHECK(vmp_check(p + 64 * PG, 64, NPG - 64, 0x71) == -1);
		VMP_CHILD_CHECK(vmp_check_zero(p, 64) == -1);
		_exit(0);
	}
	EXPECT_EQ(0, vmp_wait(pid));
	EXPECT_EQ(-1, vmp_check(p + 64 * PG, 64, NPG - 64, 0x71));
	EXPECT_EQ(-1, vmp_check_zero(p, 64));
	EXPECT_EQ(0, vmp_region_free(p));
}

/* A region no longer mapped whole is not copied: nothing in the child. */
TEST_F_TIMEOUT(fk, partly_unmapped_region_is_not_copied, 120)
{
	char *p = vmpd_region(&self->d, NPG, 0);
	pid_t pid;

	ASSERT_NE(NULL, p) TH_LOG("%s", vmp_region_strerror());
	vmp_fill(p, 0, NPG, 0x81);
	ASSERT_EQ(0, munmap(p + (NPG - 16) * PG, 16 * PG));
	pid = vmp_fork_expect_segv(p);
	ASSERT_LE(0, pid);
	EXPECT_EQ(0, vmp_wait(pid));
	EXPECT_EQ(1, vmpd_stat(&self->d, "fork_refused"));
	EXPECT_EQ(-1, vmp_check(p, 0, NPG - 16, 0x81));
}

/* A file-backed region is shared by fork(), not copied: not supported. */
TEST_F_TIMEOUT(fk, file_region_child_has_nothing_mapped, 120)
{
	char path[256];
	char *p;
	pid_t pid;
	int fd;

	snprintf(path, sizeof(path), "%s/data", self->d.dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 64 * PG));
	setenv("VMPAGER_SOCKET", self->d.sock, 1);
	p = vmp_region_map_file(fd, 0, 64 * PG, VMP_BACKEND_DAEMON);
	ASSERT_NE(NULL, p) TH_LOG("%s", vmp_region_strerror());
	vmp_fill(p, 0, 64, 0x51);
	pid = vmp_fork_expect_segv(p);
	ASSERT_LE(0, pid);
	EXPECT_EQ(0, vmp_wait(pid));
	EXPECT_EQ(-1, vmp_check(p, 0, 64, 0x51));
	EXPECT_EQ(0, vmp_region_free(p));
	close(fd);
	unlink(path);
}

/* ---- reliability bug 22: an answer to a fork request that came late ---- */

struct standin {
	int lfd;		/* its listening socket */
	int tokfd;		/* the token of each child's hello goes here */
	int forks;		/* fork requests seen */
};

/* One message of up to @len bytes from @fd; its fds are closed. */
static ssize_t standin_recv(int fd, void *buf, size_t len)
{
	char cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	ssize_t n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
	size_t k;

	for (cm = n >= 0 ? CMSG_FIRSTHDR(&m) : NULL; cm;
	     cm = CMSG_NXTHDR(&m, cm)) {
		int *fds = (int *)CMSG_DATA(cm);

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (k = 0; k < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++)
			close(fds[k]);
	}
	return n;
}

static void standin_reply(int fd, uint32_t type, uint64_t token)
{
	struct vmpd_reply r = { .magic = VMPD_MAGIC, .version = VMPD_VERSION,
				.type = type, .token = token };

	if (send(fd, &r, sizeof(r), MSG_NOSIGNAL) != sizeof(r))
		fprintf(stderr, "# stand-in: reply not sent: %s\n",
			strerror(errno));
}

/*
 * A daemon that serves no fault: it welcomes the region, answers its
 * first fork request only when the second comes (the late answer, token 1,
 * then the second's, token 2, as a daemon stalled past the client's wait
 * would), and welcomes each child's copy after writing its token to tokfd.
 * It ends when the region's connection closes.
 */
static void *standin_run(void *arg)
{
	struct standin *s = arg;
	int region = -1, kids[4], nkids = 0;
	uint64_t buf[64];

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = s->lfd, .events = POLLIN },
			{ .fd = region, .events = POLLIN },
		};
		struct vmpd_hello *h = (void *)buf;
		struct vmpd_fork *f = (void *)buf;
		ssize_t n;

		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			int c = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);

			if (c < 0)
				continue;
			n = standin_recv(c, buf, sizeof(buf));
			if (n < (ssize_t)sizeof(*h) || h->magic != VMPD_MAGIC) {
				close(c);
				continue;
			}
			if (h->flags & VMPD_HELLO_FORK) {
				uint64_t token = h->token;

				if (write(s->tokfd, &token, sizeof(token)) < 0)
					fprintf(stderr, "# stand-in: %s\n",
						strerror(errno));
				standin_reply(c, VMPD_WELCOME, 0);
				if (nkids < 4)
					kids[nkids++] = c;
				else
					close(c);
				continue;
			}
			region = c;
			standin_reply(c, VMPD_WELCOME, 0);
		}
		if (region >= 0 && pfd[1].revents) {
			n = standin_recv(region, buf, sizeof(buf));
			if (n <= 0)
				break;		/* the region is gone */
			if (n != sizeof(*f) || f->type != VMPD_FORK)
				continue;
			if (++s->forks == 1)
				continue;	/* stalled: no answer in time */
			standin_reply(region, VMPD_FORKED, 1);	/* the late one */
			standin_reply(region, VMPD_FORKED, 2);
		}
	}
	close(region);
	while (nkids)
		close(kids[--nkids]);
	return NULL;
}

/*
 * A fork whose copy is not answered within VMPAGER_FORK_WAIT_MS leaves the
 * child nothing mapped; when that answer comes late, in front of the next
 * fork's, the next child gets the next answer (token 2), not the late one
 * (token 1: before the fix, a copy made for a memfd the child does not
 * have).
 */
TEST(late_fork_answer_is_not_the_next_forks)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct standin s = { .lfd = -1 };
	struct vmp_region_opts o = { 0 };
	uint64_t token = 0;
	pthread_t th;
	int tok[2];
	pid_t pid;
	char *p;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/vmpd-standin.%d.sock",
		 getpid());
	unlink(sa.sun_path);
	s.lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, s.lfd);
	ASSERT_EQ(0, bind(s.lfd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, listen(s.lfd, 4));
	ASSERT_EQ(0, pipe2(tok, O_CLOEXEC));
	s.tokfd = tok[1];
	ASSERT_EQ(0, pthread_create(&th, NULL, standin_run, &s));
	ASSERT_EQ(0, setenv("VMPAGER_FORK_WAIT_MS", "300", 1));
	o.socket = sa.sun_path;
	p = vmp_region_alloc_opts(16 * PG, VMP_BACKEND_DAEMON, &o);
	ASSERT_NE(NULL, p) TH_LOG("%s", vmp_region_strerror());

	/* no answer in time: nothing for the child */
	pid = vmp_fork_expect_segv(p);
	ASSERT_LE(0, pid);
	EXPECT_EQ(0, vmp_wait(pid));
	pid = fork();		/* the late answer comes first: dropped */
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(0);
	EXPECT_EQ(0, vmp_wait(pid));
	ASSERT_EQ((ssize_t)sizeof(token), read(tok[0], &token, sizeof(token)));
	EXPECT_EQ(2ULL, (unsigned long long)token)
		TH_LOG("the child's copy is the one made for the first fork");
	EXPECT_EQ(2, s.forks);
	unsetenv("VMPAGER_FORK_WAIT_MS");
	EXPECT_EQ(0, vmp_region_free(p));
	pthread_join(th, NULL);
	close(s.lfd);
	close(tok[0]);
	close(tok[1]);
	unlink(sa.sun_path);
}

TEST_HARNESS_MAIN
