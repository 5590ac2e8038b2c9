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

/* Free a region returned by vmp_region_alloc*(): 0, or -1 with errno. */
int vmp_region_free(void *addr);

struct vmp_region_info {
	void *addr;
	size_t size;		/* bytes */
	int backend;		/* VMP_BACKEND_MODULE or VMP_BACKEND_DAEMON */
	bool lost;		/* the daemon died: accesses raise SIGBUS */
	uint64_t budget;	/* daemon: frames granted; module: 0 */
	uint64_t cache;		/* daemon: soft-eviction pages granted */
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
