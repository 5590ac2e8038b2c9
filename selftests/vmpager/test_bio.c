// SPDX-License-Identifier: GPL-2.0
/*
 * The block I/O swap backend (module/vmp_bio.c): a swap file on a block
 * filesystem is mapped to extents of its device at add time (holes and
 * unwritten extents written once), marked S_SWAPFILE while attached, and
 * read and written with bios of consecutive slots; a block device is
 * claimed exclusively; a tmpfs file keeps the kiocb backend; a remote
 * block device (nbd) that stops answering fails the faults that wait for
 * it, with SIGBUS, and nothing else.
 * Env: VMP_DIRECT_DIR (ext4 on the guest's first disk) and VMP_SWAP_DEV
 * (the guest's second, raw disk); each test skips with a reason without
 * the one it needs (the nbd tests without /dev/nbd0).
 */
#include <endian.h>
#include <linux/falloc.h>
#include <linux/nbd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/swap.h>

#include "vmp_test.h"

#define POOL	256
#define NPG	(4 * POOL)
#define SWAPPG	2048

struct swapfile_line {
	char io[16];
	unsigned int slots, extents;
};

/* The debugfs "swap" line of file @idx: its io backend and extents. */
static int swap_file_line(int idx, struct swapfile_line *l)
{
	char *buf = vmp_read_file(VMP_DEBUGFS "/swap"), *s;
	int f, a, ret = -ENOENT;

	if (!buf)
		return -errno;
	s = strstr(buf, "file area slots io extents path\n");
	if (!s)
		goto out;
	for (s = strchr(s, '\n'); s && *++s; s = strchr(s, '\n')) {
		if (sscanf(s, "%d %d %u %15s %u", &f, &a, &l->slots, l->io,
			   &l->extents) == 5 && f == idx) {
			ret = 0;
			break;
		}
	}
out:
	free(buf);
	return ret;
}

/*
 * debugfs "swap_extents" of file @idx: sums its pages, checks the extents
 * follow each other from page 0 without overlap on the device; returns the
 * number of extents or -1.
 */
static long extents_of(int idx, unsigned long *pages)
{
	char *buf = vmp_read_file(VMP_DEBUGFS "/swap_extents"), *s;
	unsigned long long sector;
	unsigned int page, nr, next = 0;
	long n = 0;
	int f;

	*pages = 0;
	if (!buf)
		return -1;
	s = strchr(buf, '\n');		/* the header */
	for (; s && *++s; s = strchr(s, '\n')) {
		if (sscanf(s, "%d %u %u %llu", &f, &page, &nr, &sector) != 4 ||
		    f != idx)
			continue;
		if (page != next) {
			n = -1;
			break;
		}
		next = page + nr;
		*pages += nr;
		n++;
	}
	free(buf);
	return n;
}

/*
 * Write NPG pages (4x the pool) in order, read them back twice, the second
 * time sequentially: swap-outs in batches and read-ahead both use bios.
 */
static void churn(struct __test_metadata *_metadata,
		  struct vmpager_global_info *a, struct vmpager_global_info *b)
{
	int fd = vmp_open();
	char *p;

	ASSERT_LE(0, fd);
	p = vmp_map(fd, 0, NPG, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, vmp_global_fd(fd, a));
	vmp_fill(p, 0, NPG, 0xb10);
	EXPECT_EQ(-1, vmp_check(p, 0, NPG, 0xb10));
	vmp_fill(p, 0, NPG / 2, 0xb11);		/* dirty again: rewritten */
	EXPECT_EQ(-1, vmp_check(p, 0, NPG / 2, 0xb11));
	EXPECT_EQ(-1, vmp_check(p + NPG / 2 * PG, NPG / 2, NPG / 2, 0xb10));
	ASSERT_EQ(0, vmp_global_fd(fd, b));
	munmap(p, NPG * PG);
	close(fd);
}

/* Every swap-in and swap-out went through bios, several pages per bio. */
static void expect_bio_io(struct __test_metadata *_metadata,
			  struct vmpager_global_info *a,
			  struct vmpager_global_info *b)
{
	EXPECT_LT(0ULL, DST(*a, *b, swap_outs));
	EXPECT_LT(0ULL, DST(*a, *b, swap_ins));
	EXPECT_EQ(DST(*a, *b, swap_outs), DST(*a, *b, bio_write_pages));
	EXPECT_EQ(DST(*a, *b, swap_ins), DST(*a, *b, bio_read_pages));
	EXPECT_EQ(0ULL, DST(*a, *b, read_errors));
	EXPECT_EQ(0ULL, DST(*a, *b, write_errors));
	/* consecutive slots of a batch, and read-ahead, share a bio */
	EXPECT_LT(DST(*a, *b, bio_writes), DST(*a, *b, bio_write_pages))
		TH_LOG("%llu write bios for %llu pages",
		       (unsigned long long)DST(*a, *b, bio_writes),
		       (unsigned long long)DST(*a, *b, bio_write_pages));
	EXPECT_LT(DST(*a, *b, bio_reads), DST(*a, *b, bio_read_pages))
		TH_LOG("%llu read bios for %llu pages",
		       (unsigned long long)DST(*a, *b, bio_reads),
		       (unsigned long long)DST(*a, *b, bio_read_pages));
	TH_LOG("%llu pages out in %llu bios, %llu in in %llu bios",
	       (unsigned long long)DST(*a, *b, bio_write_pages),
	       (unsigned long long)DST(*a, *b, bio_writes),
	       (unsigned long long)DST(*a, *b, bio_read_pages),
	       (unsigned long long)DST(*a, *b, bio_reads));
}

static const char *disk_dir(void)
{
	const char *d = getenv("VMP_DIRECT_DIR");

	return d && *d ? d : NULL;
}

FIXTURE(diskfile) {
	char path[256];
};

FIXTURE_SETUP(diskfile)
{
	int fd;

	if (!disk_dir())
		SKIP(return, "no VMP_DIRECT_DIR (a block filesystem) here");
	snprintf(self->path, sizeof(self->path), "%s/vmp-bio.swap", disk_dir());
	unlink(self->path);
	/* sparse: no block at all until the module writes it */
	fd = open(self->path, O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, (off_t)SWAPPG * PG));
	close(fd);
}

FIXTURE_TEARDOWN(diskfile)
{
	VMP_TEARDOWN();
	if (disk_dir())
		unlink(self->path);
}

/* A sparse file is written once, mapped to extents, and paged with bios. */
TEST_F(diskfile, sparse_file_is_filled_mapped_and_paged_by_bio)
{
	struct vmpager_global_info a, b;
	struct swapfile_line l;
	unsigned long pages;
	char params[512];
	struct stat st;
	long n;

	snprintf(params, sizeof(params),
		 "pool_pages=%d swapfile=%s swap_pages=%d policy=fifo", POOL,
		 self->path, SWAPPG);
	ASSERT_EQ(0, vmp_load(params));
	ASSERT_EQ(0, swap_file_line(0, &l));
	EXPECT_STREQ("bio", l.io);
	EXPECT_EQ((unsigned int)SWAPPG, l.slots);
	n = extents_of(0, &pages);
	EXPECT_LT(0, n);
	EXPECT_EQ((long)l.extents, n);
	EXPECT_EQ((unsigned long)SWAPPG, pages);
	/* every page has a block now */
	ASSERT_EQ(0, stat(self->path, &st));
	EXPECT_LE((long long)SWAPPG * (long long)PG, (long long)st.st_blocks * 512);
	churn(_metadata, &a, &b);
	expect_bio_io(_metadata, &a, &b);
	EXPECT_EQ(0, vmp_unload());
}

/* While attached the file cannot be written, truncated or reallocated. */
TEST_F(diskfile, attached_file_refuses_write_truncate_fallocate)
{
	char params[512];
	int fd;

	snprintf(params, sizeof(params), "pool_pages=%d swapfile=%s swap_pages=%d",
		 POOL, self->path, SWAPPG);
	ASSERT_EQ(0, vmp_load(params));
	fd = open(self->path, O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, write(fd, "x", 1));
	EXPECT_EQ(ETXTBSY, errno);
	EXPECT_EQ(-1, ftruncate(fd, 0));
	EXPECT_EQ(ETXTBSY, errno);
	EXPECT_EQ(-1, truncate(self->path, PG));
	EXPECT_EQ(ETXTBSY, errno);
	EXPECT_EQ(-1, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				0, PG));
	EXPECT_EQ(ETXTBSY, errno);
	close(fd);
	EXPECT_EQ(0, vmp_unload());
	/* released at unload */
	EXPECT_EQ(0, truncate(self->path, PG));
}

/*
 * Make @path a kernel swap file of @pages pages: written (no holes), with
 * the v1 header in page 0 (include/linux/swap.h, union swap_header).
 */
static int kernel_swapfile(const char *path, unsigned int pages)
{
	static char buf[PG];
	unsigned int i;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_TRUNC, 0600);
	if (fd < 0)
		return -errno;
	memset(buf, 0, sizeof(buf));
	for (i = 0; i < pages && !ret; i++)
		if (write(fd, buf, PG) != (ssize_t)PG)
			ret = -EIO;
	*(uint32_t *)(buf + 1024) = 1;			/* version */
	*(uint32_t *)(buf + 1028) = pages - 1;		/* last_page */
	memcpy(buf + PG - 10, "SWAPSPACE2", 10);
	if (!ret && (pwrite(fd, buf, PG, 0) != (ssize_t)PG || fsync(fd)))
		ret = -EIO;
	close(fd);
	return ret;
}

/* A file the kernel's own swap uses is refused, and stays the kernel's. */
TEST_F(diskfile, file_in_use_by_swapon_is_refused)
{
	struct vmpager_swap_add sa = { 0 };
	int devfd, fd, r;

	ASSERT_EQ(0, kernel_swapfile(self->path, 2048));
	if (swapon(self->path, 0))
		SKIP(return, "swapon %s: %s", self->path, strerror(errno));
	ASSERT_EQ(0, vmp_load("pool_pages=256"));
	devfd = vmp_open();
	ASSERT_LE(0, devfd);
	fd = open(self->path, O_RDWR);
	ASSERT_LE(0, fd);
	sa.fd = fd;
	r = ioctl(devfd, VMPAGER_IOC_SWAP_ADD, &sa) ? -errno : 0;
	EXPECT_EQ(-EBUSY, r);
	close(fd);
	close(devfd);
	EXPECT_EQ(0, swapoff(self->path)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, vmp_unload());
}

/* tmpfs has no extents: the kiocb backend, chosen without being asked. */
TEST(tmpfs_file_keeps_the_kiocb_backend)
{
	struct vmpager_global_info a, b;
	struct swapfile_line l;
	const char *path = "/tmp/vmp-bio-tmpfs.swap";
	char params[256];

	unlink(path);
	snprintf(params, sizeof(params),
		 "pool_pages=%d swapfile=%s swap_pages=%d", POOL, path, SWAPPG);
	ASSERT_EQ(0, vmp_load(params));
	ASSERT_EQ(0, swap_file_line(0, &l));
	EXPECT_STREQ("buffered", l.io);
	EXPECT_EQ(0U, l.extents);
	churn(_metadata, &a, &b);
	EXPECT_LT(0ULL, DST(a, b, swap_outs));
	EXPECT_EQ(0ULL, DST(a, b, bio_writes));
	EXPECT_EQ(0ULL, DST(a, b, bio_reads));
	EXPECT_EQ(0, vmp_unload());
	unlink(path);
}

static const char *swap_dev(void)
{
	const char *d = getenv("VMP_SWAP_DEV");

	return d && *d ? d : NULL;
}

/* A whole block device as a swap area: claimed exclusively, paged by bio. */
TEST(block_device_area_is_claimed_and_paged_by_bio)
{
	struct vmpager_global_info a, b;
	struct vmpager_swap_add sa = { .pages = SWAPPG };
	struct swapfile_line l;
	unsigned long pages;
	int devfd, fd, ex, r;

	if (!swap_dev())
		SKIP(return, "no VMP_SWAP_DEV (a spare block device) here");
	ASSERT_EQ(0, vmp_load("pool_pages=256 policy=lru2"));
	devfd = vmp_open();
	ASSERT_LE(0, devfd);
	fd = open(swap_dev(), O_RDWR);
	ASSERT_LE(0, fd);
	sa.fd = fd;
	ASSERT_EQ(0, ioctl(devfd, VMPAGER_IOC_SWAP_ADD, &sa)) TH_LOG("%s", strerror(errno));
	/* the same device twice: refused */
	r = ioctl(devfd, VMPAGER_IOC_SWAP_ADD, &sa) ? -errno : 0;
	EXPECT_EQ(-EBUSY, r);
	close(fd);
	close(devfd);
	ASSERT_EQ(0, swap_file_line(0, &l));
	EXPECT_STREQ("bio", l.io);
	EXPECT_EQ(1U, l.extents);
	EXPECT_EQ(1, extents_of(0, &pages));
	EXPECT_EQ((unsigned long)SWAPPG, pages);
	/* claimed: an exclusive open (what mount and swapon do) fails */
	ex = open(swap_dev(), O_RDWR | O_EXCL);
	EXPECT_EQ(-1, ex);
	EXPECT_EQ(EBUSY, errno);
	if (ex >= 0)
		close(ex);
	churn(_metadata, &a, &b);
	expect_bio_io(_metadata, &a, &b);
	EXPECT_EQ(0, vmp_unload());
	ex = open(swap_dev(), O_RDWR | O_EXCL);
	EXPECT_LE(0, ex) TH_LOG("after unload: %s", strerror(errno));
	if (ex >= 0)
		close(ex);
}

/*
 * A remote swap area: /dev/nbd0 served by this test. The server is a child
 * on one end of a socketpair serving an in-memory disk with the NBD
 * request/reply protocol; the client is a child that hands the other end
 * to /dev/nbd0 and sits in NBD_DO_IT, as nbd-client does. SIGUSR1 makes
 * the server stop answering while it keeps its socket open: a remote
 * machine that hangs. nbd then fails the requests in flight after its
 * timeout (NBD_SET_TIMEOUT) and, its only connection dead, every later one.
 */
#define NBD_DEV		"/dev/nbd0"
#define NBD_PAGES	2048
#define NBD_TIMEOUT_S	5

static volatile sig_atomic_t nbd_frozen;

static void nbd_freeze(int sig)
{
	(void)sig;
	nbd_frozen = 1;
}

static int full_io(int fd, void *buf, size_t n, bool wr)
{
	char *b = buf;

	while (n) {
		ssize_t r = wr ? write(fd, b, n) : read(fd, b, n);

		if (r <= 0)
			return -1;	/* EOF, error, or EINTR from SIGUSR1 */
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static void __attribute__((noreturn)) nbd_serve(int sock)
{
	static char scratch[1 << 17];
	struct nbd_reply rp = { .magic = htobe32(NBD_REPLY_MAGIC) };
	struct sigaction sa = { .sa_handler = nbd_freeze };	/* no SA_RESTART */
	struct nbd_request rq;
	char *disk = calloc(NBD_PAGES, PG), *at;
	uint64_t from;
	uint32_t len, type;

	if (!disk)
		_exit(3);
	sigaction(SIGUSR1, &sa, NULL);
	for (;;) {
		if (!nbd_frozen && full_io(sock, &rq, sizeof(rq), false) &&
		    !nbd_frozen)
			_exit(0);	/* the client hung up */
		while (nbd_frozen)
			pause();	/* hung, socket open: until SIGKILL */
		if (be32toh(rq.magic) != NBD_REQUEST_MAGIC)
			_exit(2);
		type = be32toh(rq.type) & 0xffff;
		from = be64toh(rq.from);
		len = be32toh(rq.len);
		if (type == NBD_CMD_DISC)
			_exit(0);
		at = from + len <= (uint64_t)NBD_PAGES * PG && len <= sizeof(scratch) ?
		     disk + from : NULL;
		if (type == NBD_CMD_WRITE &&
		    full_io(sock, at ? at : scratch, len > sizeof(scratch) ?
			    sizeof(scratch) : len, false))
			continue;	/* frozen mid-request, or hung up */
		memcpy(rp.handle, rq.handle, sizeof(rp.handle));
		rp.error = htobe32(at || type > NBD_CMD_WRITE ? 0 : EIO);
		if (full_io(sock, &rp, sizeof(rp), true))
			continue;
		if (type == NBD_CMD_READ && at)
			full_io(sock, at, len, true);
	}
}

static int nbd_pages_now(void)
{
	char *s = vmp_read_file("/sys/block/nbd0/size");
	long long sectors = s ? atoll(s) : 0;

	free(s);
	return (int)(sectors / (PG / 512));
}

FIXTURE(nbd) {
	pid_t server, client;
};

FIXTURE_SETUP(nbd)
{
	int sv[2], i;

	self->server = self->client = 0;
	if (access(NBD_DEV, R_OK | W_OK))
		SKIP(return, "no %s (nbd module): %s", NBD_DEV, strerror(errno));
	ASSERT_EQ(0, vmp_load("pool_pages=256 policy=fifo"));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	self->server = fork();
	ASSERT_LE(0, self->server);
	if (!self->server) {
		close(sv[0]);
		nbd_serve(sv[1]);
	}
	self->client = fork();
	ASSERT_LE(0, self->client);
	if (!self->client) {
		int nbd = open(NBD_DEV, O_RDWR);

		close(sv[1]);
		VMP_CHILD_CHECK(nbd >= 0);
		VMP_CHILD_CHECK(!ioctl(nbd, NBD_SET_BLKSIZE, PG));
		VMP_CHILD_CHECK(!ioctl(nbd, NBD_SET_SIZE_BLOCKS, NBD_PAGES));
		VMP_CHILD_CHECK(!ioctl(nbd, NBD_SET_TIMEOUT, NBD_TIMEOUT_S));
		VMP_CHILD_CHECK(!ioctl(nbd, NBD_SET_SOCK, sv[0]));
		ioctl(nbd, NBD_DO_IT);	/* until the connection dies */
		ioctl(nbd, NBD_CLEAR_SOCK);
		_exit(0);
	}
	close(sv[0]);
	close(sv[1]);
	for (i = 0; i < 200 && nbd_pages_now() != NBD_PAGES; i++)
		usleep(50000);
	ASSERT_EQ(NBD_PAGES, nbd_pages_now());
	/* devtmpfs makes it 0660 root:disk; the module takes no group access */
	ASSERT_EQ(0, chmod(NBD_DEV, 0600));
}

FIXTURE_TEARDOWN(nbd)
{
	VMP_TEARDOWN();
	if (self->server > 0) {
		kill(self->server, SIGKILL);
		waitpid(self->server, NULL, 0);
	}
	if (self->client > 0)
		EXPECT_EQ(0, vmp_wait(self->client));
}

static int nbd_add(void)
{
	struct vmpager_swap_add sa = { 0 };
	int dev = vmp_open(), fd = open(NBD_DEV, O_RDWR), r;

	sa.fd = fd;
	r = dev < 0 || fd < 0 ? -EBADF :
	    ioctl(dev, VMPAGER_IOC_SWAP_ADD, &sa) ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (dev >= 0)
		close(dev);
	return r;
}

TEST_F(nbd, remote_area_pages_by_bio)
{
	struct vmpager_global_info a, b;
	struct swapfile_line l;

	ASSERT_EQ(0, nbd_add());
	ASSERT_EQ(0, swap_file_line(0, &l));
	EXPECT_STREQ("bio", l.io);
	EXPECT_EQ((unsigned int)NBD_PAGES, l.slots);
	churn(_metadata, &a, &b);
	expect_bio_io(_metadata, &a, &b);
}

/*
 * The server hangs: the fault that needs a page from it gets SIGBUS once
 * nbd's timeout fails the read, and nothing waits for more than that. A
 * process using its own resident pages meanwhile is not held up (it is
 * done while the faulting one still waits), resident pages keep their
 * data, and the lost page stays lost (SIGBUS again), never a zero page.
 */
TEST_F(nbd, hung_server_is_sigbus_for_the_faulting_access_only)
{
	struct vmpager_global_info a, b;
	int fd, fdb, st;
	pid_t fa, fb;
	char *p, *q;
	uint64_t v;

	ASSERT_EQ(0, nbd_add());
	fd = vmp_open();
	fdb = vmp_open();
	ASSERT_LE(0, fd);
	ASSERT_LE(0, fdb);
	p = vmp_map(fd, 0, NPG, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	vmp_fill(p, 0, NPG, 0xdead);		/* FIFO: page 0 is on nbd */
	q = vmp_map(fdb, 0, 16, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, q);
	vmp_fill(q, 0, 16, 0xb0b);		/* resident, newest */
	munmap(q, 16 * PG);
	ASSERT_EQ(0, vmp_global(&a));
	ASSERT_EQ(0, kill(self->server, SIGUSR1));

	fa = fork();
	ASSERT_LE(0, fa);
	if (!fa) {
		/* SIGBUS, never the data or a zero page */
		_exit(vmp_try_read(p, &v, NULL) == SIGBUS ? 0 : 1);
	}
	fb = fork();
	ASSERT_LE(0, fb);
	if (!fb) {
		/* minor faults on resident pages of another object */
		q = vmp_map(fdb, 0, 16, MAP_SHARED);
		VMP_CHILD_CHECK(q != MAP_FAILED);
		VMP_CHILD_CHECK(vmp_check(q, 0, 16, 0xb0b) == -1);
		_exit(0);
	}
	EXPECT_EQ(0, vmp_wait(fb));
	/* the hung read has not been answered yet: b did not wait for it */
	EXPECT_EQ(0, waitpid(fa, &st, WNOHANG));
	EXPECT_EQ(0, vmp_wait(fa));
	ASSERT_EQ(0, vmp_global(&b));
	EXPECT_LT(0ULL, DST(a, b, read_errors));
	/* the page stays lost: SIGBUS again, not a zero page */
	EXPECT_EQ(SIGBUS, vmp_try_read(p, &v, NULL));
	/* the newest pages of the object were resident: intact */
	EXPECT_EQ(-1, vmp_check(p + (NPG - 16) * PG, NPG - 16, 16, 0xdead));
	TH_LOG("%llu read errors, %llu write errors",
	       (unsigned long long)DST(a, b, read_errors),
	       (unsigned long long)DST(a, b, write_errors));
	munmap(p, NPG * PG);
	close(fd);
	close(fdb);
}

TEST_HARNESS_MAIN
