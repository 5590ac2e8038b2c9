/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvmpager internals shared by vmp_region.c and the LD_PRELOAD shim
 * (vmp_preload.c). Not installed; names start with vmp__.
 */
#ifndef _VMP_LIB_INTERNAL_H
#define _VMP_LIB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* mmap/munmap by raw syscall: never through an interposed mmap. */
void *vmp__mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int vmp__munmap(void *addr, size_t len);

/* May @p be inside a region? (lock-free bounds check; false: surely not) */
bool vmp__maybe_region(const void *p);

/*
 * A region (backend from the environment) of @size bytes whose pointer
 * *@user is aligned to @align; returns the region's base or NULL.
 */
void *vmp__region_alloc_aligned(size_t size, size_t align, void **user);
/* Free the region whose user pointer is @user: 0, or -1 if none. */
int vmp__region_free_user(void *user);
/* Bytes usable at @user if it is a region's user pointer, else 0. */
size_t vmp__region_usable(const void *user);
/* Does a region start at @addr and span @len bytes (rounded to pages)? */
bool vmp__region_exact(const void *addr, size_t len);

#endif /* _VMP_LIB_INTERNAL_H */
