// Proves: get_user_pages users work on vmpager mappings: O_DIRECT file I/O into and out of shared and private mappings, process_vm_readv/writev, /proc/PID/mem and ptrace PEEKDATA/POKEDATA (including a forced COW write into a read-only private mapping).
// SPDX-License-Identifier: GPL-2.0
#include <sys/ptrace.h>
#include <sys/uio.h>
#include "vmp_test.h"

#define N	16

VMP_FIXTURE(gup, "pool_pages=1024 max_obj_pages=1024")

TEST_F(gup, odirect_read_write)
{
	const char *dir = getenv("VMP_DIRECT_DIR");
	int explicit_dir = dir && *dir;
	char path[512], *buf, *s, *s2, *pv, *s3;
	struct vmpager_obj_info oi;
	int bfd, dfd, fd, err;

	if (!explicit_dir)
		dir = "/tmp";
	snprintf(path, sizeof(path), "%s/vmp_direct.XXXXXX", dir);
	bfd = mkstemp(path);
	ASSERT_LE(0, bfd) TH_LOG("mkstemp in %s: %s", dir, strerror(errno));
	buf = mmap(NULL, N * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	vmp_fill(buf, 0, N, 0x0d);
	ASSERT_EQ((ssize_t)(N * PG), pwrite(bfd, buf, N * PG, 0));
	ASSERT_EQ(0, fsync(bfd));
	dfd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	err = errno;
	if (dfd < 0) {
		close(bfd);
		unlink(path);
		if (err == EINVAL && !explicit_dir)
			SKIP(return, "%s has no O_DIRECT (tmpfs on 6.1); set VMP_DIRECT_DIR to a dir on a filesystem with O_DIRECT", dir);
		ASSERT_LE(0, dfd) TH_LOG("open(%s, O_DIRECT): %s", path, strerror(err));
	}
	fd = vmp_open();
	ASSERT_LE(0, fd);

	/* File -> MAP_SHARED mapping: the data lands in the object. */
	s = vmp_map(fd, 0, N, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	EXPECT_EQ((ssize_t)(N * PG), pread(dfd, s, N * PG, 0)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, vmp_check(s, 0, N, 0x0d));
	s2 = vmp_map(fd, 0, N, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s2);
	EXPECT_EQ(-1, vmp_check(s2, 0, N, 0x0d));
	ASSERT_EQ(0, vmp_obj(fd, &oi));
	EXPECT_EQ((__u64)N, oi.resident);

	/* File -> MAP_PRIVATE mapping of object pages N..2N-1: COW, object stays 0. */
	pv = vmp_map(fd, N, N, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, pv);
	EXPECT_EQ((ssize_t)(N * PG), pread(dfd, pv, N * PG, 0));
	EXPECT_EQ(-1, vmp_check(pv, 0, N, 0x0d));
	s3 = vmp_map(fd, N, N, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s3);
	EXPECT_EQ(-1, vmp_check_zero(s3, N));

	/* MAP_SHARED mapping -> file. */
	vmp_fill(s, 0, N, 0x0e);
	EXPECT_EQ((ssize_t)(N * PG), pwrite(dfd, s, N * PG, 0));
	memset(buf, 0, N * PG);
	EXPECT_EQ((ssize_t)(N * PG), pread(bfd, buf, N * PG, 0));
	EXPECT_EQ(-1, vmp_check(buf, 0, N, 0x0e));

	munmap(s, N * PG);
	munmap(s2, N * PG);
	munmap(s3, N * PG);
	munmap(pv, N * PG);
	munmap(buf, N * PG);
	close(fd);
	close(dfd);
	close(bfd);
	unlink(path);
}

TEST_F(gup, process_vm_readv_writev)
{
	int sv[2], fd = vmp_open(), status;
	struct iovec local, remote;
	uint64_t caddr;
	char *s;
	pid_t pid;

	ASSERT_LE(0, fd);
	/* Probe: tinyconfig kernels may lack CONFIG_CROSS_MEMORY_ATTACH. */
	local.iov_base = &caddr;
	local.iov_len = sizeof(caddr);
	remote = local;
	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) < 0 && errno == ENOSYS) {
		close(fd);
		SKIP(return, "process_vm_readv: ENOSYS (CONFIG_CROSS_MEMORY_ATTACH off)");
	}
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct vmpager_obj_info oi;
		int cfd;
		char *c;

		close(sv[0]);
		close(fd);
		cfd = vmp_open();	/* the child's own object */
		VMP_CHILD_CHECK(cfd >= 0);
		c = vmp_map(cfd, 0, N, MAP_SHARED);
		VMP_CHILD_CHECK(c != MAP_FAILED);
		vmp_fill(c, 0, N / 2, 0x61);	/* upper half left untouched */
		VMP_CHILD_CHECK(vmp_send_u64(sv[1], (uintptr_t)c) == 0);
		VMP_CHILD_CHECK(vmp_pend(sv[1]) == 0);
		VMP_CHILD_CHECK(vmp_check(c, 0, N, 0x62) == -1);
		VMP_CHILD_CHECK(vmp_obj(cfd, &oi) == 0);
		VMP_CHILD_CHECK(oi.resident == N);
		_exit(0);
	}
	close(sv[1]);
	s = vmp_map(fd, 0, N, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	ASSERT_EQ(0, vmp_recv_u64(sv[0], &caddr));

	local.iov_base = s;
	local.iov_len = N * PG;
	remote.iov_base = (void *)(uintptr_t)caddr;
	remote.iov_len = N * PG;
	EXPECT_EQ((ssize_t)(N * PG), process_vm_readv(pid, &local, 1, &remote, 1, 0))
		TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, vmp_check(s, 0, N / 2, 0x61));
	EXPECT_EQ(-1, vmp_check_zero(s + N / 2 * PG, N / 2));

	vmp_fill(s, 0, N, 0x62);
	EXPECT_EQ((ssize_t)(N * PG), process_vm_writev(pid, &local, 1, &remote, 1, 0))
		TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, vmp_post(sv[0]));
	status = vmp_wait(pid);
	EXPECT_TRUE(VMP_EXITED(status, 0));
	close(sv[0]);
	munmap(s, N * PG);
	close(fd);
}

TEST_F(gup, proc_pid_mem)
{
	int sv[2], fd = vmp_open(), mfd, status;
	uint64_t saddr, paddr;
	char path[64], *buf;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd;
		char *cs, *cp;

		close(sv[0]);
		close(fd);
		cfd = vmp_open();
		VMP_CHILD_CHECK(cfd >= 0);
		cs = vmp_map(cfd, 0, N, MAP_SHARED);
		VMP_CHILD_CHECK(cs != MAP_FAILED);
		cp = vmp_map(cfd, 0, N, MAP_PRIVATE);
		VMP_CHILD_CHECK(cp != MAP_FAILED);
		vmp_fill(cs, 0, N, 0x71);
		VMP_CHILD_CHECK(vmp_send_u64(sv[1], (uintptr_t)cs) == 0);
		VMP_CHILD_CHECK(vmp_send_u64(sv[1], (uintptr_t)cp) == 0);
		VMP_CHILD_CHECK(vmp_pend(sv[1]) == 0);
		/* shared write via /proc/PID/mem reached the object */
		VMP_CHILD_CHECK(vmp_check(cs + 3 * PG, 3, 1, 0x72) == -1);
		VMP_CHILD_CHECK(vmp_check(cp + 3 * PG, 3, 1, 0x72) == -1);
		/* private write stayed private */
		VMP_CHILD_CHECK(vmp_check(cp + 5 * PG, 5, 1, 0x73) == -1);
		VMP_CHILD_CHECK(vmp_check(cs + 5 * PG, 5, 1, 0x71) == -1);
		VMP_CHILD_CHECK(vmp_check(cs, 0, 3, 0x71) == -1);
		VMP_CHILD_CHECK(vmp_check(cs + 6 * PG, 6, N - 6, 0x71) == -1);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(0, vmp_recv_u64(sv[0], &saddr));
	ASSERT_EQ(0, vmp_recv_u64(sv[0], &paddr));
	buf = vmp_map(fd, 0, N, MAP_SHARED);	/* our own object as the buffer */
	ASSERT_NE(MAP_FAILED, buf);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	mfd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, mfd);
	EXPECT_EQ((ssize_t)(N * PG), pread(mfd, buf, N * PG, (off_t)saddr))
		TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, vmp_check(buf, 0, N, 0x71));
	/* Untouched private pages read the object too. */
	EXPECT_EQ((ssize_t)PG, pread(mfd, buf, PG, (off_t)(paddr + 9 * PG)));
	EXPECT_EQ(-1, vmp_check(buf, 9, 1, 0x71));

	vmp_fill(buf, 3, 1, 0x72);
	EXPECT_EQ((ssize_t)PG, pwrite(mfd, buf, PG, (off_t)(saddr + 3 * PG)));
	vmp_fill(buf, 5, 1, 0x73);
	EXPECT_EQ((ssize_t)PG, pwrite(mfd, buf, PG, (off_t)(paddr + 5 * PG)));
	close(mfd);
	ASSERT_EQ(0, vmp_post(sv[0]));
	status = vmp_wait(pid);
	EXPECT_TRUE(VMP_EXITED(status, 0));
	close(sv[0]);
	munmap(buf, N * PG);
	close(fd);
}

TEST_F(gup, ptrace_peek_poke)
{
	int sv[2], status;
	uint64_t saddr, raddr;
	long w;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		volatile uint64_t *rp;
		int cfd;
		char *cs, *cr;

		close(sv[0]);
		cfd = vmp_open();
		VMP_CHILD_CHECK(cfd >= 0);
		cs = vmp_map(cfd, 0, N, MAP_SHARED);
		VMP_CHILD_CHECK(cs != MAP_FAILED);
		cr = mmap(NULL, N * PG, PROT_READ, MAP_PRIVATE, cfd, 0);
		VMP_CHILD_CHECK(cr != MAP_FAILED);
		vmp_fill(cs, 0, N, 0x81);
		VMP_CHILD_CHECK(vmp_check(cr + 2 * PG, 2, 1, 0x81) == -1);
		VMP_CHILD_CHECK(vmp_send_u64(sv[1], (uintptr_t)cs) == 0);
		VMP_CHILD_CHECK(vmp_send_u64(sv[1], (uintptr_t)cr) == 0);
		VMP_CHILD_CHECK(vmp_pend(sv[1]) == 0);
		/* POKE into the shared mapping reached the object. */
		VMP_CHILD_CHECK(*(volatile uint64_t *)(cs + 6 * PG) == 0xfeedULL);
		VMP_CHILD_CHECK(*(volatile uint64_t *)(cr + 6 * PG) == 0xfeedULL);
		/* Forced POKE into the read-only private mapping: a private copy. */
		rp = (volatile uint64_t *)(cr + 2 * PG);
		VMP_CHILD_CHECK(rp[0] == 0xbeefULL);
		VMP_CHILD_CHECK(rp[1] == vmp_word(0x81, 2, 1));
		VMP_CHILD_CHECK(*(volatile uint64_t *)(cs + 2 * PG) == vmp_word(0x81, 2, 0));
		/* Other private pages still follow the object. */
		*(volatile uint64_t *)(cs + 3 * PG) = 0xabcULL;
		VMP_CHILD_CHECK(*(volatile uint64_t *)(cr + 3 * PG) == 0xabcULL);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(0, vmp_recv_u64(sv[0], &saddr));
	ASSERT_EQ(0, vmp_recv_u64(sv[0], &raddr));
	/* EXITKILL: a failing tracer cannot leave the child stopped (and the
	 * module busy) behind. */
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, pid, NULL, (void *)PTRACE_O_EXITKILL))
		TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, ptrace(PTRACE_INTERRUPT, pid, NULL, NULL));
	status = vmp_wait(pid);
	ASSERT_TRUE(WIFSTOPPED(status)) TH_LOG("status %#x", status);

	errno = 0;
	w = ptrace(PTRACE_PEEKDATA, pid, (void *)(uintptr_t)(saddr + 5 * PG + 3 * 8), NULL);
	EXPECT_EQ(0, errno);
	EXPECT_EQ(vmp_word(0x81, 5, 3), (uint64_t)w);
	errno = 0;	/* page 7 of the private mapping was never touched by the child */
	w = ptrace(PTRACE_PEEKDATA, pid, (void *)(uintptr_t)(raddr + 7 * PG), NULL);
	EXPECT_EQ(0, errno);
	EXPECT_EQ(vmp_word(0x81, 7, 0), (uint64_t)w);
	EXPECT_EQ(0, ptrace(PTRACE_POKEDATA, pid, (void *)(uintptr_t)(saddr + 6 * PG), (void *)0xfeedUL));
	EXPECT_EQ(0, ptrace(PTRACE_POKEDATA, pid, (void *)(uintptr_t)(raddr + 2 * PG), (void *)0xbeefUL));
	errno = 0;
	w = ptrace(PTRACE_PEEKDATA, pid, (void *)(uintptr_t)(raddr + 2 * PG), NULL);
	EXPECT_EQ(0, errno);
	EXPECT_EQ(0xbeefL, w);
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, pid, NULL, NULL));

	ASSERT_EQ(0, vmp_post(sv[0]));
	status = vmp_wait(pid);
	EXPECT_TRUE(VMP_EXITED(status, 0)) TH_LOG("status %#x", status);
	close(sv[0]);
}

TEST_HARNESS_MAIN
