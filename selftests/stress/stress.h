/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stress.h: helpers shared by vmpstress and vmpfuzz (programs that print KTAP
 * themselves, without the kselftest harness): module load/unload by syscall,
 * debugfs and sysfs access, a seeded PRNG, page patterns that carry a tag, a
 * page number and a generation number, and a monotonic clock.
 *
 * Everything here is async-signal-safe enough to use in a forked child of a
 * multi-threaded process (no malloc, no stdio) except vs_read_file().
 */
#ifndef VMP_STRESS_H
#define VMP_STRESS_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vmpager.h"

#define VS_PG		4096UL
#define VS_WORDS	(VS_PG / sizeof(uint64_t))
#define VS_KO_DEFAULT	"/modules/vmpager.ko"
#define VS_SYSFS	"/sys/module/vmpager"
#define VS_DFS		"/sys/kernel/debug/vmpager"

/* ---- time ---- */

static inline double vs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void vs_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- PRNG: splitmix64, one state per thread/process ---- */

static inline uint64_t vs_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t vs_rand(uint64_t *state)
{
	*state += 0x9e3779b97f4a7c15ULL;
	return vs_mix64(*state);
}

/* Uniform in [0, n), n > 0. */
static inline uint64_t vs_below(uint64_t *state, uint64_t n)
{
	return n ? vs_rand(state) % n : 0;
}

/* ---- page patterns ---- */

/*
 * A written page: word 0 is a readable header, tag (8 bits) | page (24 bits)
 * | generation (32 bits); every other word is derived from all three, so a
 * page of another object, another index or another generation, a torn page
 * and a zero page all fail the check. Generation 0 means never written: the
 * page must read as zeros.
 */
static inline uint64_t vs_hdr(unsigned int tag, uint32_t page, uint32_t gen)
{
	return ((uint64_t)(tag & 0xff) << 56) | ((uint64_t)(page & 0xffffff) << 32) | gen;
}

static inline uint64_t vs_word(uint64_t hdr, size_t w)
{
	return w ? vs_mix64(hdr) + w * 0x9e3779b97f4a7c15ULL : hdr;
}

static inline void vs_fill(void *dst, unsigned int tag, uint32_t page, uint32_t gen)
{
	uint64_t *p = dst, hdr = vs_hdr(tag, page, gen);
	size_t w;

	for (w = 0; w < VS_WORDS; w++)
		p[w] = vs_word(hdr, w);
}

/* -1 if @buf holds (tag, page, gen) (zeros for gen 0), else the first bad word. */
static inline long vs_check(const void *buf, unsigned int tag, uint32_t page, uint32_t gen)
{
	const uint64_t *p = buf;
	uint64_t hdr = vs_hdr(tag, page, gen);
	size_t w;

	for (w = 0; w < VS_WORDS; w++)
		if (p[w] != (gen ? vs_word(hdr, w) : 0))
			return (long)w;
	return -1;
}

/* ---- module, sysfs, debugfs ---- */

static inline const char *vs_ko(void)
{
	const char *p = getenv("VMP_KO");

	return p && *p ? p : VS_KO_DEFAULT;
}

static inline int vs_loaded(void)
{
	return access(VS_SYSFS, F_OK) == 0;
}

/* delete_module("vmpager", flags): 0 or -errno. */
static inline int vs_unload(int flags)
{
	return syscall(SYS_delete_module, "vmpager", flags) ? -errno : 0;
}

/* Unload, retrying EAGAIN/EBUSY for up to @ms (a dying process may hold the file). */
static inline int vs_unload_wait(int ms)
{
	int ret;

	for (;;) {
		ret = vs_unload(O_NONBLOCK);
		if ((ret != -EAGAIN && ret != -EBUSY) || ms <= 0)
			return ret;
		vs_sleep_ms(10);
		ms -= 10;
	}
}

/* Load vs_ko() with @params (unloading a loaded copy first): 0 or -errno. */
static inline int vs_load(const char *params)
{
	int fd, ret;

	if (vs_loaded()) {
		ret = vs_unload_wait(3000);
		if (ret)
			return ret;
	}
	fd = open(vs_ko(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

/* Write @len bytes to @path in one write(): 0 or -errno. */
static inline int vs_write_buf(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	close(fd);
	return ret;
}

static inline int vs_write_str(const char *path, const char *s)
{
	return vs_write_buf(path, s, strlen(s));
}

/* debugfs knob VS_DFS/@name := @s: 0 or -errno. */
static inline int vs_knob(const char *name, const char *s)
{
	char path[128];

	snprintf(path, sizeof(path), VS_DFS "/%s", name);
	return vs_write_str(path, s);
}

/* Read a small file into @buf (NUL-terminated): bytes read or -errno. */
static inline ssize_t vs_read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (len + 1 < size) {
		n = read(fd, buf + len, size - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (!n)
			break;
		len += n;
	}
	buf[len] = '\0';
	close(fd);
	return (ssize_t)len;
}

/* Value of "KEY VALUE" in debugfs file @name, or -1. */
static inline long long vs_dfs_value(const char *name, const char *key)
{
	char path[128], buf[4096], *line, *save = NULL;
	size_t kl = strlen(key);
	long long v = -1;

	snprintf(path, sizeof(path), VS_DFS "/%s", name);
	if (vs_read_small(path, buf, sizeof(buf)) < 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, key, kl) && line[kl] == ' ')
			v = strtoll(line + kl + 1, NULL, 10);
	return v;
}

/* GLOBAL_INFO on @fd: 0 or -errno. */
static inline int vs_global(int fd, struct vmpager_global_info *gi)
{
	memset(gi, 0, sizeof(*gi));
	return ioctl(fd, VMPAGER_IOC_GLOBAL_INFO, gi) ? -errno : 0;
}

/* Swap file directory: $VMP_DIRECT_DIR (ext4, O_DIRECT) or /tmp. */
static inline const char *vs_swapdir(void)
{
	const char *d = getenv("VMP_DIRECT_DIR");

	return d && *d ? d : "/tmp";
}

#endif /* VMP_STRESS_H */
