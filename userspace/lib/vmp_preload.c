// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libvmpager-preload.so: puts the large anonymous allocations of an
 * unmodified program into vmpager regions.
 *
 *	LD_PRELOAD=libvmpager-preload.so VMPAGER_PRELOAD_MIN=16M prog ...
 *
 * Interposed: malloc, calloc, realloc, reallocarray, free, memalign,
 * posix_memalign, aligned_alloc, valloc, pvalloc, malloc_usable_size, and
 * mmap/mmap64/munmap/mremap of private anonymous read-write memory.
 * Requests of VMPAGER_PRELOAD_MIN bytes or more (default 16 MiB; suffixes
 * K, M, G) become regions (backend: VMPAGER_BACKEND, else the module if
 * present, else the daemon); everything smaller, and every request the
 * region allocator refuses, goes to glibc (__libc_malloc, ...) or the
 * kernel as before. VMPAGER_PRELOAD_VERBOSE=1 reports each region.
 *
 * Differences an unmodified program can see (docs/libvmpager.md):
 *  - fork: each region is copied for the child by the library's fork
 *    handlers (docs/libvmpager.md "Fork"), at a cost per fork; one that
 *    cannot be copied leaves the child SIGSEGV there.
 *  - a mmap()ed region is shared memory of this process (no difference
 *    without fork), and mprotect/madvise on it act on a shared mapping.
 *  - munmap of part of a mmap()ed region unmaps that part; the rest stays
 *    until munmap of the whole.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmp_lib_internal.h"

#define EXPORT	__attribute__((visibility("default")))
#define PG	4096ul

/* glibc's own allocator, under its exported internal names */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static size_t threshold;	/* 0: not read yet */
static int verbose = -1;
static __thread int busy;	/* inside the region allocator */

static size_t min_size(void)
{
	const char *s;
	char *end;
	unsigned long long v;

	if (threshold)
		return threshold;
	s = getenv("VMPAGER_PRELOAD_MIN");
	v = 16ull << 20;
	if (s && *s) {
		v = strtoull(s, &end, 0);
		switch (*end) {
		case 'k': case 'K': v <<= 10; break;
		case 'm': case 'M': v <<= 20; break;
		case 'g': case 'G': v <<= 30; break;
		}
		if (!v)
			v = 1;
	}
	threshold = v;
	s = getenv("VMPAGER_PRELOAD_VERBOSE");
	verbose = s && *s == '1';
	return threshold;
}

static void note(const char *what, size_t size, void *p)
{
	char buf[160];
	int n;

	if (verbose <= 0)
		return;
	n = snprintf(buf, sizeof(buf), "libvmpager-preload: %s %zu bytes -> %p\n",
		     what, size, p);
	if (write(STDERR_FILENO, buf, n) < 0)
		return;
}

/* A region for @size bytes aligned to @align, or NULL (then use glibc). */
static void *region(size_t size, size_t align, const char *what)
{
	void *user = NULL;
	int saved = errno;

	if (busy || size < min_size())
		return NULL;
	busy = 1;
	if (!vmp__region_alloc_aligned(size, align, &user))
		user = NULL;
	busy = 0;
	errno = saved;
	if (user)
		note(what, size, user);
	return user;
}

EXPORT void *malloc(size_t size)
{
	return region(size, 16, "malloc") ?: __libc_malloc(size);
}

EXPORT void *calloc(size_t n, size_t m)
{
	void *p;

	if (m && n > SIZE_MAX / m) {
		errno = ENOMEM;
		return NULL;
	}
	p = region(n * m, 16, "calloc");	/* a new region reads as zero */
	return p ?: __libc_calloc(n, m);
}

EXPORT void free(void *p)
{
	if (!p)
		return;
	if (vmp__maybe_region(p) && !vmp__region_free_user(p))
		return;
	__libc_free(p);
}

EXPORT size_t malloc_usable_size(void *p)
{
	static size_t (*libc_usable)(void *);
	size_t n;

	if (!p)
		return 0;
	n = vmp__region_usable(p);
	if (n)
		return n;
	/* glibc's, which this definition hides: found once by dlsym */
	if (!libc_usable)
		libc_usable = (size_t (*)(void *))dlsym(RTLD_NEXT,
							"malloc_usable_size");
	return libc_usable ? libc_usable(p) : 0;
}

EXPORT void *realloc(void *p, size_t size)
{
	size_t old;
	void *q;

	if (!p)
		return malloc(size);
	if (!size) {
		free(p);
		return NULL;
	}
	old = vmp__region_usable(p);
	if (!old) {
		if (size < min_size())
			return __libc_realloc(p, size);
		/* a glibc block growing past the threshold moves into a region */
		q = region(size, 16, "realloc");
		if (!q)
			return __libc_realloc(p, size);
		old = malloc_usable_size(p);
		memcpy(q, p, old < size ? old : size);
		__libc_free(p);
		return q;
	}
	if (size <= old && size >= old / 2)
		return p;
	q = malloc(size);
	if (!q)
		return NULL;
	memcpy(q, p, old < size ? old : size);
	free(p);
	return q;
}

EXPORT void *reallocarray(void *p, size_t n, size_t m)
{
	if (m && n > SIZE_MAX / m) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n * m);
}

EXPORT void *memalign(size_t align, size_t size)
{
	return region(size, align, "memalign") ?: __libc_memalign(align, size);
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
	return memalign(align, size);
}

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (!align || (align & (align - 1)) || align % sizeof(void *))
		return EINVAL;
	p = memalign(align, size);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

EXPORT void *valloc(size_t size)
{
	return memalign(PG, size);
}

EXPORT void *pvalloc(size_t size)
{
	return memalign(PG, (size + PG - 1) & ~(PG - 1));
}

/* ---- mmap family ---- */

static bool interpose_mmap(void *addr, size_t len, int prot, int flags, int fd)
{
	return !addr && fd == -1 && len >= min_size() &&
	       prot == (PROT_READ | PROT_WRITE) &&
	       (flags & (MAP_PRIVATE | MAP_SHARED | MAP_ANONYMOUS)) ==
	       (MAP_PRIVATE | MAP_ANONYMOUS) &&
	       !(flags & (MAP_FIXED | MAP_STACK | MAP_GROWSDOWN | MAP_HUGETLB |
			  MAP_NORESERVE | MAP_32BIT));
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off)
{
	void *p;

	if (interpose_mmap(addr, len, prot, flags, fd)) {
		p = region(len, PG, "mmap");
		if (p)
			return p;
	}
	return vmp__mmap(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
		    off_t off) __attribute__((alias("mmap")));

EXPORT int munmap(void *addr, size_t len)
{
	if (vmp__region_exact(addr, len) && !vmp__region_free_user(addr))
		return 0;
	return vmp__munmap(addr, len);
}

EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *new_addr = NULL, *q;
	va_list ap;
	long r;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	if (vmp__region_exact(old, old_len)) {
		/* a region cannot grow in place: move it to a new one */
		if (!(flags & MREMAP_MAYMOVE) || (flags & MREMAP_FIXED)) {
			errno = ENOMEM;
			return MAP_FAILED;
		}
		q = mmap(NULL, new_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (q == MAP_FAILED)
			return MAP_FAILED;
		memcpy(q, old, old_len < new_len ? old_len : new_len);
		munmap(old, old_len);
		return q;
	}
	r = syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
	return r == -1 ? MAP_FAILED : (void *)r;
}
