/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvmpager.h: one small C API for memory paged by vmpager, whichever pager
 * serves it: the kernel module (/dev/vmpager) or the userfaultfd daemon
 * (vmpagerd). docs/libvmpager.md is the manual.
 *
 *	void *p = vmp_region_alloc(1 << 30, VMP_BACKEND_DAEMON);
 *	...
 *	vmp_region_free(p);
 *
 * A region reads as zeros until written, like anonymous memory; it is
 * page-aligned, readable and writable, and not inherited by fork (the child
 * has nothing mapped there). Backend choice: the flags, else the environment
 * variable VMPAGER_BACKEND=module|daemon, else the module if /dev/vmpager
 * can be opened, else the daemon.
 *
 * Environment: VMPAGER_BACKEND (above), VMPAGER_SOCKET (the daemon's socket,
 * default /run/vmpager/vmpagerd.sock), VMPAGER_BUDGET (frames asked of the
 * daemon per region; default: the daemon's client_frames).
 *
 * If the daemon dies, every daemon-backed region of the process is lost:
 * a message is printed on stderr and any access to the region raises
 * SIGBUS (threads blocked in a fault there are woken to get it too).
 *
 * Thread-safe. Functions set errno and return NULL or -1 on failure;
 * vmp_region_strerror() gives the last failure's reason in words.
 */
#ifndef _VMPAGER_LIB_H
#define _VMPAGER_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* flags: the backend (one of), plus options */
#define VMP_BACKEND_AUTO	0x0	/* env, else module, else daemon */
#define VMP_BACKEND_MODULE	0x1	/* mmap of /dev/vmpager */
#define VMP_BACKEND_DAEMON	0x2	/* memfd + userfaultfd sent to vmpagerd */
#define VMP_BACKEND_MASK	0x3

struct vmp_region_opts {
	const char *socket;	/* daemon socket; NULL: env or default */
	uint64_t budget;	/* daemon frames for this region; 0: env/default */
};

/* A region of @size bytes (rounded up to pages), or NULL with errno. */
void *vmp_region_alloc(size_t size, int flags);
void *vmp_region_alloc_opts(size_t size, int flags,
			    const struct vmp_region_opts *opts);

/*
 * A region backed by bytes [offset, offset + length) of the regular file
 * @fd (offset a multiple of the page size): pages are read from the file on
 * first touch, paged under the same policy, and dirty ones written back when
 * evicted, by vmp_region_flush() and by vmp_region_free(). Bytes past the
 * range in the last page read as zero and never reach the file. flags: the
 * backend as above (either: the module, or vmpagerd, which reads and
 * writes the file itself), plus VMP_FILE_RDONLY (mapped read-only; an fd not open for writing implies
 * it). The fd may be closed afterwards. NULL with errno on failure.
 */
#define VMP_FILE_RDONLY		0x10
void *vmp_region_map_file(int fd, uint64_t offset, size_t length, int flags);

/*
 * Write the dirty pages of [addr, addr + length) of a file-backed region to
 * its file and sync that range of the file: 0, or -1 with errno (EIO: a
 * write failed; the pages stay dirty and a later flush retries; ETIMEDOUT:
 * vmpagerd did not answer in 60 s). On an anonymous region: 0, nothing to
 * do.
 */
int vmp_region_flush(void *addr, size_t length);

/*
 * Advice on [addr, addr + length) of a region, as Umap's prefetch and
 * evict: VMP_ADVICE_WILLNEED brings the range's pages in now rather than
 * at their faults (swapped ones, and for a file-backed region the file's;
 * at most the region's budget; never-touched pages stay untouched);
 * VMP_ADVICE_DONTNEED evicts the range's resident pages, which keep their
 * data (dirty ones go to swap or the file). 0, or -1 with errno (EINVAL:
 * not inside a region, or unknown advice; EOPNOTSUPP: DONTNEED on a module
 * region, which the module's own reclaim evicts; ENOTCONN: vmpagerd is
 * restarting). Best effort: the daemon stops at a page it cannot move.
 */
#define VMP_ADVICE_WILLNEED	1
#define VMP_ADVICE_DONTNEED	2
int vmp_region_advise(void *addr, size_t length, int advice);

/* Free a region returned by vmp_region_alloc*(): 0, or -1 with errno. */
int vmp_region_free(void *addr);

struct vmp_region_info {
	void *addr;
	size_t size;		/* bytes */
	int backend;		/* VMP_BACKEND_MODULE or VMP_BACKEND_DAEMON */
	bool lost;		/* the daemon died: accesses raise SIGBUS */
	uint64_t budget;	/* daemon: frames granted; module: 0 */
	uint64_t cache;		/* daemon: soft-eviction pages granted */
	bool file;		/* vmp_region_map_file() */
};

/* The region containing @addr: 0, or -1 with errno ENOENT. */
int vmp_region_info(const void *addr, struct vmp_region_info *info);

/* Why the last call of this thread failed, in words. */
const char *vmp_region_strerror(void);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* _VMPAGER_LIB_H */
