// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vmp_uswap: preallocated, striped swap files with a next-fit slot bitmap,
 * and SQE preparation for liburing. See vmp_uswap.h for the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmp_uswap.h"

struct vmp_uswap {
	int nfiles;			/* invariant after open */
	bool direct;			/* every file opened O_DIRECT */
	uint64_t slots_per_file;
	uint64_t nslots;		/* nfiles * slots_per_file */
	int fds[VMP_USWAP_MAX_FILES];

	pthread_mutex_t lock;
	uint64_t *bitmap;		/* protected by lock: 1 = in use */
	uint16_t *refs;			/* lock: references beyond the first (vmp_uswap_dup), lazily */
	uint64_t used;			/* protected by lock */
	uint64_t cursor;		/* protected by lock: next-fit start */
};

/* Open one file; on success *direct says whether O_DIRECT stuck. */
static int uswap_open_one(const char *path, uint64_t bytes, bool *direct)
{
	int flags = O_RDWR | O_CREAT | O_CLOEXEC | O_NOATIME;
	struct stat st;
	int fd, ret;

	fd = open(path, flags | O_DIRECT, 0600);
	if (fd < 0 && errno == EPERM)	/* O_NOATIME on someone else's file */
		fd = open(path, (flags & ~O_NOATIME) | O_DIRECT, 0600);
	*direct = fd >= 0;
	if (fd < 0 && errno == EINVAL) {	/* no O_DIRECT here (tmpfs) */
		fd = open(path, flags, 0600);
		if (fd < 0 && errno == EPERM)
			fd = open(path, flags & ~O_NOATIME, 0600);
	}
	if (fd < 0) {
		ret = -errno;
		fprintf(stderr, "vmp_uswap: %s: %s\n", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		fprintf(stderr, "vmp_uswap: %s: not a regular file or block device\n",
			path);
		ret = -EINVAL;
		goto out_close;
	}
	if (st.st_mode & 077) {
		fprintf(stderr,
			"vmp_uswap: %s: mode %04o grants group/other access; swapped pages would be readable by others (chmod 600 it)\n",
			path, (unsigned int)(st.st_mode & 07777));
		ret = -EACCES;
		goto out_close;
	}
	if (S_ISREG(st.st_mode)) {
		ret = fallocate(fd, 0, 0, (off_t)bytes);
		if (ret && (errno == EOPNOTSUPP || errno == ENOSYS))
			ret = (off_t)bytes > st.st_size ?
			      ftruncate(fd, (off_t)bytes) : 0;
		if (ret) {
			ret = -errno;
			fprintf(stderr, "vmp_uswap: %s: preallocating %llu bytes: %s\n",
				path, (unsigned long long)bytes, strerror(-ret));
			goto out_close;
		}
	} else {
		uint64_t size = 0;

		if (ioctl(fd, BLKGETSIZE64, &size)) {
			ret = -errno;
			goto out_close;
		}
		if (size < bytes) {
			fprintf(stderr, "vmp_uswap: %s: %llu bytes, %llu needed\n",
				path, (unsigned long long)size,
				(unsigned long long)bytes);
			ret = -ENOSPC;
			goto out_close;
		}
	}
	return fd;

out_close:
	close(fd);
	return ret;
}

int vmp_uswap_open(struct vmp_uswap **out, char *const paths[], int npaths,
		   uint64_t slots_per_file)
{
	struct vmp_uswap *sw;
	uint64_t words;
	bool direct;
	int i, ret;

	*out = NULL;
	if (npaths < 1 || npaths > VMP_USWAP_MAX_FILES || !slots_per_file ||
	    slots_per_file > (UINT64_MAX / VMP_USWAP_PAGE) / (uint64_t)npaths)
		return -EINVAL;
	for (i = 0; i < npaths; i++)
		if (!paths[i] || !*paths[i])
			return -EINVAL;
	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return -ENOMEM;
	sw->slots_per_file = slots_per_file;
	sw->nslots = slots_per_file * (uint64_t)npaths;
	words = (sw->nslots + 63) / 64;
	sw->bitmap = calloc(words, sizeof(uint64_t));
	if (!sw->bitmap) {
		ret = -ENOMEM;
		goto out_free;
	}
	pthread_mutex_init(&sw->lock, NULL);
	sw->direct = true;
	for (i = 0; i < npaths; i++) {
		ret = uswap_open_one(paths[i], slots_per_file * VMP_USWAP_PAGE,
				     &direct);
		if (ret < 0)
			goto out_close;
		sw->fds[i] = ret;
		sw->nfiles = i + 1;
		sw->direct &= direct;
	}
	*out = sw;
	return 0;

out_close:
	while (sw->nfiles)
		close(sw->fds[--sw->nfiles]);
	pthread_mutex_destroy(&sw->lock);
	free(sw->bitmap);
out_free:
	free(sw);
	return ret;
}

void vmp_uswap_close(struct vmp_uswap *sw)
{
	int i;

	if (!sw)
		return;
	for (i = 0; i < sw->nfiles; i++)
		close(sw->fds[i]);
	pthread_mutex_destroy(&sw->lock);
	free(sw->bitmap);
	free(sw->refs);
	free(sw);
}

uint64_t vmp_uswap_nslots(const struct vmp_uswap *sw)
{
	return sw->nslots;
}

uint64_t vmp_uswap_used(const struct vmp_uswap *sw)
{
	return __atomic_load_n(&sw->used, __ATOMIC_RELAXED);
}

bool vmp_uswap_direct(const struct vmp_uswap *sw)
{
	return sw->direct;
}

int vmp_uswap_nfiles(const struct vmp_uswap *sw)
{
	return sw->nfiles;
}

/* First clear bit at or after @from, below @end; @end if none. */
static uint64_t uswap_find_free(const struct vmp_uswap *sw, uint64_t from,
				uint64_t end)
{
	uint64_t w, bits;

	while (from < end) {
		w = from / 64;
		bits = ~sw->bitmap[w] & (~0ULL << (from % 64));
		if (bits) {
			from = w * 64 + (uint64_t)__builtin_ctzll(bits);
			return from < end ? from : end;
		}
		from = (w + 1) * 64;
	}
	return end;
}

int64_t vmp_uswap_alloc(struct vmp_uswap *sw)
{
	uint64_t s;

	pthread_mutex_lock(&sw->lock);
	if (sw->used == sw->nslots) {
		pthread_mutex_unlock(&sw->lock);
		return -ENOSPC;
	}
	s = uswap_find_free(sw, sw->cursor, sw->nslots);
	if (s == sw->nslots)
		s = uswap_find_free(sw, 0, sw->cursor);
	/* used < nslots, so one of the two searches found a slot */
	sw->bitmap[s / 64] |= 1ULL << (s % 64);
	__atomic_store_n(&sw->used, sw->used + 1, __ATOMIC_RELAXED);
	sw->cursor = s + 1 == sw->nslots ? 0 : s + 1;
	pthread_mutex_unlock(&sw->lock);
	return (int64_t)s;
}

void vmp_uswap_free(struct vmp_uswap *sw, uint64_t slot)
{
	uint64_t bit = 1ULL << (slot % 64);

	if (slot >= sw->nslots) {
		fprintf(stderr, "vmp_uswap: free of slot %llu beyond %llu\n",
			(unsigned long long)slot,
			(unsigned long long)sw->nslots);
		return;
	}
	pthread_mutex_lock(&sw->lock);
	if (!(sw->bitmap[slot / 64] & bit)) {
		pthread_mutex_unlock(&sw->lock);
		fprintf(stderr, "vmp_uswap: free of free slot %llu\n",
			(unsigned long long)slot);
		return;
	}
	if (sw->refs && sw->refs[slot]) {
		sw->refs[slot]--;	/* another holder keeps it */
		pthread_mutex_unlock(&sw->lock);
		return;
	}
	sw->bitmap[slot / 64] &= ~bit;
	__atomic_store_n(&sw->used, sw->used - 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&sw->lock);
}

/* One more reference to used @slot (lock held): 0, -ENOMEM or -EMLINK. */
static int uswap_ref(struct vmp_uswap *sw, uint64_t slot)
{
	if (!sw->refs) {
		sw->refs = calloc(sw->nslots, sizeof(*sw->refs));
		if (!sw->refs)
			return -ENOMEM;
	}
	if (sw->refs[slot] == UINT16_MAX)
		return -EMLINK;
	sw->refs[slot]++;
	return 0;
}

int vmp_uswap_dup(struct vmp_uswap *sw, uint64_t slot)
{
	int ret;

	if (slot >= sw->nslots)
		return -ERANGE;
	pthread_mutex_lock(&sw->lock);
	ret = sw->bitmap[slot / 64] & (1ULL << (slot % 64)) ?
	      uswap_ref(sw, slot) : -ENOENT;
	pthread_mutex_unlock(&sw->lock);
	return ret;
}

int vmp_uswap_reserve(struct vmp_uswap *sw, uint64_t slot, bool shared)
{
	uint64_t bit = 1ULL << (slot % 64);
	int ret = 0;

	if (slot >= sw->nslots)
		return -ERANGE;
	pthread_mutex_lock(&sw->lock);
	if (sw->bitmap[slot / 64] & bit) {
		ret = shared ? uswap_ref(sw, slot) : -EEXIST;
	} else {
		sw->bitmap[slot / 64] |= bit;
		__atomic_store_n(&sw->used, sw->used + 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&sw->lock);
	return ret;
}

bool vmp_uswap_in_use(struct vmp_uswap *sw, uint64_t slot)
{
	bool ret;

	if (slot >= sw->nslots)
		return false;
	pthread_mutex_lock(&sw->lock);
	ret = sw->bitmap[slot / 64] & (1ULL << (slot % 64));
	pthread_mutex_unlock(&sw->lock);
	return ret;
}

int vmp_uswap_fd(const struct vmp_uswap *sw, uint64_t slot, off_t *off)
{
	*off = (off_t)(slot / (uint64_t)sw->nfiles) * VMP_USWAP_PAGE;
	return sw->fds[slot % (uint64_t)sw->nfiles];
}

uint32_t vmp_uswap_contig(const struct vmp_uswap *sw, uint64_t slot,
			  uint32_t n)
{
	/* striped page by page: consecutive slots share a file only alone */
	if (sw->nfiles > 1)
		return n ? 1 : 0;
	if (slot >= sw->nslots)
		return 0;
	return sw->nslots - slot < n ? (uint32_t)(sw->nslots - slot) : n;
}

void vmp_uswap_prep_pages(struct vmp_uswap *sw, struct io_uring_sqe *sqe,
			  bool write, uint64_t slot, uint32_t n, void *buf,
			  int buf_index)
{
	unsigned int len = n * VMP_USWAP_PAGE;
	off_t off;
	int fd = vmp_uswap_fd(sw, slot, &off);

	if (buf_index >= 0 && write)
		io_uring_prep_write_fixed(sqe, fd, buf, len, off, buf_index);
	else if (buf_index >= 0)
		io_uring_prep_read_fixed(sqe, fd, buf, len, off, buf_index);
	else if (write)
		io_uring_prep_write(sqe, fd, buf, len, off);
	else
		io_uring_prep_read(sqe, fd, buf, len, off);
}

void vmp_uswap_prep_pagesv(struct vmp_uswap *sw, struct io_uring_sqe *sqe,
			   bool write, uint64_t slot, const struct iovec *iov,
			   uint32_t n)
{
	off_t off;
	int fd = vmp_uswap_fd(sw, slot, &off);

	if (write)
		io_uring_prep_writev(sqe, fd, iov, n, off);
	else
		io_uring_prep_readv(sqe, fd, iov, n, off);
}

void vmp_uswap_prep_read(struct vmp_uswap *sw, struct io_uring_sqe *sqe,
			 uint64_t slot, void *buf, int buf_index)
{
	vmp_uswap_prep_pages(sw, sqe, false, slot, 1, buf, buf_index);
}

void vmp_uswap_prep_write(struct vmp_uswap *sw, struct io_uring_sqe *sqe,
			  uint64_t slot, void *buf, int buf_index)
{
	vmp_uswap_prep_pages(sw, sqe, true, slot, 1, buf, buf_index);
}
