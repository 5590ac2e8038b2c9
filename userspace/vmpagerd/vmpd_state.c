// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerd state that outlives the daemon, so that a restarted daemon
 * takes its clients back (docs/vmpagerd.md, "Restart and re-attach").
 *
 * The state directory (state_dir, a tmpfs such as /run: it must survive
 * the daemon, not a reboot, which ends the clients too) holds:
 *
 *   lock           flock()ed by the daemon that owns the directory
 *   arena.PID.N    the soft-eviction arena of daemon PID, mapped shared:
 *                  a dirty cached page lives only here
 *   region.TOKEN   one per region: a header, then the region's struct
 *                  vmpd_page array and its cache entries, mapped shared and
 *                  used in place by the daemon (c->pages, c->centries), so
 *                  every change is in the file the moment it is made
 *
 * Nothing is written twice and nothing is synced: the files are memory
 * that stays when the process goes. A daemon killed at any instruction
 * leaves each page recoverable by this order of trust (vmpd_state_recover()):
 *
 *   1. a page in the memfd is the client's latest data (a fill whose
 *      state update never happened, or a resident page); its slot copy is
 *      kept only if the state says clean and write-protected (a write
 *      marks the page dirty before its protection is lifted, fault_wp());
 *   2. else a cache entry that holds it, or that an eviction staged it
 *      into before its punch (staged, set before the punch, cleared by
 *      ce_hold() or ce_free());
 *   3. else, unless the state says resident and no punch of the daemon's
 *      was under way (VMPD_PG_BUSY: then the client punched it, and it
 *      reads zero), its swap slot;
 *   4. else it is EMPTY (zero, or the file's bytes).
 *
 * A userfaultfd event read by the dead daemon and not yet applied would
 * leave the address map stale (VMPD_ST_EVENT, set when events are queued
 * and cleared when they have been applied): such a region is refused.
 *
 * At start the daemon locks the directory, and every region file whose
 * client process still lives (pid and start time), whose swap files are
 * these ones (swap_sig) and whose slots are all distinct becomes an
 * orphan: its slots are taken in the swap bitmap, and it waits
 * reattach_timeout seconds for its client's VMPD_HELLO_REATTACH. The rest
 * is deleted with a reason in the log. The orphan table belongs to the
 * admission thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "vmpd.h"

#define PG		VMPD_PAGE
#define ST_MAGIC	"VMPDST01"
#define ST_EXT		16	/* extents the header holds */
#define ST_EVENT	0x1	/* an event read and not yet applied */
#define ST_EXT_LOST	0x2	/* more extents than ST_EXT */

struct vmpd_state_hdr {
	char magic[8];
	uint32_t hdr_size;	/* sizeof(struct vmpd_state_hdr) */
	uint32_t flags;		/* ST_* */
	uint64_t token;
	int32_t pid;
	uint32_t uid;
	uint64_t starttime;	/* /proc/PID/stat field 22 */
	uint64_t npages;
	uint32_t ncache;
	uint32_t next;		/* extents in ext[] */
	uint64_t memfd_dev, memfd_ino;
	uint64_t file_dev, file_ino;	/* file-backed: the file, else 0 */
	uint64_t swap_sig;
	uint64_t pages_off, centries_off;	/* bytes from the header */
	char arena[64];		/* the arena file's name in the directory */
	struct vmpd_extent ext[ST_EXT];
};

struct vmpd_orphan {
	uint64_t token;
	struct vmpd_state_hdr *st;	/* NULL: free entry */
	size_t bytes;
	uint64_t deadline;		/* vmpd_now_ns() */
};

static int dirfd_ = -1, lockfd = -1;
static uint64_t swap_sig;
static char arena_name[64];
static struct vmpd_orphan orphans[VMPD_MAX_CLIENTS];
static unsigned int norphans;		/* atomic: read by the control thread */

static bool enabled(void)
{
	return dirfd_ >= 0;
}

unsigned int vmpd_orphans(void)
{
	return __atomic_load_n(&norphans, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* Identities: a process (pid and start time), the swap files.        */

static uint64_t proc_starttime(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* the command may hold spaces and ')' */
	if (!p)
		return 0;
	/* field 3 (state) follows ") "; starttime is field 22 */
	for (i = 3; p && i <= 22; i++) {
		p = strchr(p + 1, ' ');
		if (p && i == 22)
			v = strtoull(p + 1, NULL, 10);
	}
	return v;
}

static uint64_t fnv(uint64_t h, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++, v >>= 8)
		h = (h ^ (v & 0xff)) * 0x100000001b3ull;
	return h;
}

/* The swap files by device and inode, their count and size: 0 without swap. */
static uint64_t compute_swap_sig(void)
{
	uint64_t h = 0xcbf29ce484222325ull, i, n;
	struct stat st;
	off_t off;
	int fd;

	if (!vmpd.swap)
		return 0;
	n = (uint64_t)vmp_uswap_nfiles(vmpd.swap);
	h = fnv(h, n);
	h = fnv(h, vmp_uswap_nslots(vmpd.swap));
	for (i = 0; i < n; i++) {
		fd = vmp_uswap_fd(vmpd.swap, i, &off);
		if (fd < 0 || fstat(fd, &st))
			return 0;
		h = fnv(fnv(h, st.st_dev), st.st_ino);
	}
	return h;
}

/* ------------------------------------------------------------------ */
/* Region files.                                                       */

static size_t st_size(uint64_t npages, uint32_t ncache, uint64_t *poff,
		      uint64_t *coff)
{
	uint64_t pb = (npages * sizeof(struct vmpd_page) + PG - 1) / PG * PG;
	uint64_t cb = ((uint64_t)ncache * sizeof(struct vmpd_centry) + PG - 1) /
		      PG * PG;

	*poff = PG;	/* the header fits a page */
	*coff = PG + pb;
	return (size_t)(PG + pb + cb);
}

static void region_name(char *buf, size_t len, uint64_t token)
{
	snprintf(buf, len, "region.%016llx", (unsigned long long)token);
}

static void st_unmap(struct vmpd_state_hdr *st, size_t bytes)
{
	if (st)
		munmap(st, bytes);
}

/*
 * A fresh state for @c (npages, ncache, memfd, pid set; token 0: a new
 * one), pages and entries initialised; without a state_dir, plain memory.
 * The file keeps a temporary name until vmpd_state_commit(): a restart
 * before then finds the region's earlier file (a re-attach), or none.
 */
int vmpd_state_create(struct vmpd_client *c, uint64_t token)
{
	struct vmpd_state_hdr *st;
	char name[64], tmp[80];
	uint64_t poff, coff, i;
	struct stat sb;
	size_t bytes;
	int fd, ret;

	if (!enabled()) {
		c->pages = malloc(c->npages * sizeof(*c->pages));
		c->centries = calloc(c->ncache, sizeof(*c->centries));
		if (!c->pages || !c->centries)
			return -ENOMEM;
		goto init;
	}
	while (!token)
		if (getrandom(&token, sizeof(token), 0) != sizeof(token))
			return -errno;
	bytes = st_size(c->npages, c->ncache, &poff, &coff);
	region_name(name, sizeof(name), token);
	snprintf(tmp, sizeof(tmp), ".new.%s", name);
	fd = openat(dirfd_, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)bytes)) {
		ret = -errno;
		goto fail;
	}
	st = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (st == MAP_FAILED) {
		ret = -errno;
		goto fail;
	}
	memcpy(st->magic, ST_MAGIC, 8);
	st->hdr_size = sizeof(*st);
	st->token = token;
	st->pid = c->pid;
	st->uid = c->uid;
	st->starttime = proc_starttime(c->pid);
	st->npages = c->npages;
	st->ncache = c->ncache;
	st->swap_sig = swap_sig;
	st->pages_off = poff;
	st->centries_off = coff;
	snprintf(st->arena, sizeof(st->arena), "%s", arena_name);
	if (!fstat(c->memfd, &sb)) {
		st->memfd_dev = sb.st_dev;
		st->memfd_ino = sb.st_ino;
	}
	if (c->filefd >= 0 && !fstat(c->filefd, &sb)) {
		st->file_dev = sb.st_dev;
		st->file_ino = sb.st_ino;
	}
	close(fd);
	c->st = st;
	c->st_bytes = bytes;
	c->token = token;
	c->pages = (struct vmpd_page *)((char *)st + poff);
	c->centries = (struct vmpd_centry *)((char *)st + coff);
init:
	for (i = 0; i < c->npages; i++)
		c->pages[i] = (struct vmpd_page){ VMP_NIL, VMP_NIL, VMP_NIL, 0, 0 };
	for (i = 0; i < c->ncache; i++)
		c->centries[i] = (struct vmpd_centry){
			.idx = VMP_NIL, .prev = VMP_NIL, .next = VMP_NIL,
			.staged = VMP_NIL,
		};
	return 0;
fail:
	close(fd);
	unlinkat(dirfd_, tmp, 0);
	return ret;
}

/* @c's state file is the region's from now on (replacing an orphan's). */
int vmpd_state_commit(struct vmpd_client *c)
{
	char name[64], tmp[80];

	if (!c->st)
		return 0;
	region_name(name, sizeof(name), c->token);
	snprintf(tmp, sizeof(tmp), ".new.%s", name);
	return renameat(dirfd_, tmp, dirfd_, name) ? -errno : 0;
}

/* The address map changed (c->lock, or before the client is in the table). */
void vmpd_state_ext(struct vmpd_client *c)
{
	struct vmpd_state_hdr *st = c->st;

	if (!st)
		return;
	if (c->next > ST_EXT) {
		st->flags |= ST_EXT_LOST;
		return;
	}
	/* the flag covers the copy: a death in the middle leaves it set */
	st->flags |= ST_EVENT;
	memcpy(st->ext, c->ext, (size_t)c->next * sizeof(*c->ext));
	st->next = (uint32_t)c->next;
	st->flags &= ~ST_EXT_LOST;
	if (!c->nevq)
		st->flags &= ~ST_EVENT;
}

/* Events were queued (@pending), or every queued one is applied. */
void vmpd_state_event(struct vmpd_client *c, bool pending)
{
	if (!c->st)
		return;
	if (pending)
		c->st->flags |= ST_EVENT;
	else
		c->st->flags &= ~ST_EVENT;
}

/* The region is over for good (its client gone): no restart brings it back. */
void vmpd_state_drop(struct vmpd_client *c)
{
	char name[64], tmp[80];

	if (!c->st)
		return;
	region_name(name, sizeof(name), c->token);
	snprintf(tmp, sizeof(tmp), ".new.%s", name);
	if (!unlinkat(dirfd_, tmp, 0))
		return;		/* never committed: an orphan may own @name */
	if (unlinkat(dirfd_, name, 0) && errno != ENOENT)
		warn("state: removing %s: %s", name, strerror(errno));
}

void vmpd_state_free(struct vmpd_client *c)
{
	if (c->st) {
		st_unmap(c->st, c->st_bytes);
	} else {
		free(c->pages);
		free(c->centries);
	}
	c->st = NULL;
	c->pages = NULL;
	c->centries = NULL;
}

/* ------------------------------------------------------------------ */
/* Orphans: regions of a dead daemon, waiting for their clients.       */

static bool arena_in_use(const char *name)
{
	unsigned int i;

	if (!strcmp(name, arena_name))
		return true;
	for (i = 0; i < VMPD_MAX_CLIENTS; i++)
		if (orphans[i].st && !strncmp(orphans[i].st->arena, name,
					      sizeof(orphans[i].st->arena)))
			return true;
	return false;
}

/* Remove every arena file no orphan needs (and not ours). */
static void arenas_sweep(void)
{
	struct dirent *d;
	DIR *dir;
	int fd = dup(dirfd_);

	if (fd < 0)
		return;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}
	rewinddir(dir);
	while ((d = readdir(dir)))
		if (!strncmp(d->d_name, "arena.", 6) && !arena_in_use(d->d_name))
			unlinkat(dirfd_, d->d_name, 0);
	closedir(dir);
}

/* Give back the slots an orphan took, the first @upto of its pages. */
static void orphan_unreserve(struct vmpd_state_hdr *st, uint64_t upto)
{
	const struct vmpd_page *pg = (const void *)((char *)st + st->pages_off);
	uint64_t i;

	for (i = 0; i < upto; i++)
		if (pg[i].slot != VMP_NIL)
			vmp_uswap_free(vmpd.swap, pg[i].slot);
}

/*
 * One region file found at start: an orphan, or a reason why not (then
 * the file is deleted). Takes its slots.
 */
static const char *orphan_adopt(const char *name)
{
	struct vmpd_state_hdr *st;
	const struct vmpd_page *pg;
	uint64_t *seen;
	struct stat sb;
	uint64_t poff, coff, i;
	size_t bytes;
	unsigned int k;
	void *m;
	int fd;

	fd = openat(dirfd_, name, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) || sb.st_size < (off_t)PG) {
		if (fd >= 0)
			close(fd);
		return "unreadable or short";
	}
	m = mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return "cannot be mapped";
	st = m;
	bytes = (size_t)sb.st_size;
	if (memcmp(st->magic, ST_MAGIC, 8) || st->hdr_size != sizeof(*st) ||
	    !st->npages || st->npages >= VMP_NIL ||
	    st_size(st->npages, st->ncache, &poff, &coff) != bytes ||
	    st->pages_off != poff || st->centries_off != coff) {
		munmap(m, bytes);
		return "not a state file of this version";
	}
	if (!st->starttime || proc_starttime(st->pid) != st->starttime) {
		munmap(m, bytes);
		return "its client process is gone";
	}
	if (st->swap_sig != swap_sig) {
		munmap(m, bytes);
		return "the swap files are not the ones it was written to";
	}
	pg = (const void *)((char *)st + poff);
	/* one region never holds a slot twice (a fork's copy shares them) */
	seen = vmpd.swap ? calloc((vmp_uswap_nslots(vmpd.swap) + 63) / 64, 8) :
			   NULL;
	if (vmpd.swap && !seen) {
		munmap(m, bytes);
		return "out of memory";
	}
	for (i = 0; i < st->npages; i++) {
		uint32_t s = pg[i].slot;

		if (s == VMP_NIL)
			continue;
		if (!vmpd.swap || s >= vmp_uswap_nslots(vmpd.swap) ||
		    (seen[s / 64] & (1ull << (s % 64))) ||
		    vmp_uswap_reserve(vmpd.swap, s, true)) {
			if (vmpd.swap)
				orphan_unreserve(st, i);
			free(seen);
			munmap(m, bytes);
			return "a swap slot out of range or held twice";
		}
		seen[s / 64] |= 1ull << (s % 64);
	}
	free(seen);
	for (k = 0; k < VMPD_MAX_CLIENTS && orphans[k].st; k++)
		;
	if (k == VMPD_MAX_CLIENTS) {
		orphan_unreserve(st, st->npages);
		munmap(m, bytes);
		return "too many regions";
	}
	orphans[k] = (struct vmpd_orphan){
		.token = st->token, .st = st, .bytes = bytes,
		.deadline = vmpd_now_ns() +
			    (uint64_t)vmpd.cfg.reattach_timeout * 1000000000ull,
	};
	norphans++;
	return NULL;
}

static void scan(void)
{
	struct dirent *d;
	const char *why;
	DIR *dir;
	int fd = dup(dirfd_);

	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((d = readdir(dir))) {
		if (!strncmp(d->d_name, ".new.", 5)) {
			unlinkat(dirfd_, d->d_name, 0);
			continue;
		}
		if (strncmp(d->d_name, "region.", 7))
			continue;
		why = orphan_adopt(d->d_name);
		if (why) {
			warn("state: %s: %s; removed", d->d_name, why);
			unlinkat(dirfd_, d->d_name, 0);
			count(orphans_dropped);
		} else {
			info("state: %s waits %u s for its client to re-attach",
			     d->d_name, vmpd.cfg.reattach_timeout);
		}
	}
	closedir(dir);
}

/*
 * Open and lock the state directory and take the orphans' slots (after
 * the swap files are open, before any client). 0 or -errno (logged).
 */
int vmpd_state_start(void)
{
	const char *dir = vmpd.cfg.state_dir;
	struct statfs sfs;

	if (!dir[0])
		return 0;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		err("state_dir %s: %s", dir, strerror(errno));
		return -errno;
	}
	dirfd_ = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd_ < 0) {
		err("state_dir %s: %s", dir, strerror(errno));
		return -errno;
	}
	if (fstatfs(dirfd_, &sfs) || sfs.f_type != TMPFS_MAGIC) {
		/* its arena is registered with io_uring: shmem only */
		err("state_dir %s: not on a tmpfs (such as /run)", dir);
		close(dirfd_);
		dirfd_ = -1;
		return -EINVAL;
	}
	lockfd = openat(dirfd_, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB)) {
		int e = errno;

		err("state_dir %s: %s", dir, e == EWOULDBLOCK ?
		    "in use by another vmpagerd (one state_dir per daemon)" :
		    strerror(e));
		close(dirfd_);
		dirfd_ = -1;
		return -e;
	}
	swap_sig = compute_swap_sig();
	snprintf(arena_name, sizeof(arena_name), "arena.%d.%llu",
		 (int)getpid(), (unsigned long long)vmpd_now_ns());
	scan();
	arenas_sweep();
	return 0;
}

/*
 * A stop (SIGTERM): regions still served stay for the next daemon; with
 * none left, and no orphan waiting, nothing of ours needs the arena.
 */
void vmpd_state_stop(unsigned int nclients)
{
	if (!enabled())
		return;
	if (!nclients && !norphans)
		unlinkat(dirfd_, arena_name, 0);
	else
		info("state: %u region(s) kept in %s for the next vmpagerd",
		     nclients + norphans, vmpd.cfg.state_dir);
}

/* The arena, as a file of the state directory when there is one. */
void *vmpd_state_arena(size_t bytes)
{
	void *m;
	int fd;

	if (!enabled())
		return mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	fd = openat(dirfd_, arena_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return MAP_FAILED;
	if (ftruncate(fd, (off_t)bytes)) {
		close(fd);
		return MAP_FAILED;
	}
	m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		 fd, 0);
	close(fd);
	return m;
}

struct vmpd_orphan *vmpd_orphan_find(uint64_t token)
{
	unsigned int i;

	if (!token)
		return NULL;
	for (i = 0; i < VMPD_MAX_CLIENTS; i++)
		if (orphans[i].st && orphans[i].token == token)
			return &orphans[i];
	return NULL;
}

/* Is @c (a re-attach hello, fds received) the client of @o? 0, or -errno and @why. */
int vmpd_orphan_check(const struct vmpd_orphan *o, const struct vmpd_client *c,
		      unsigned int next, char *why, size_t len)
{
	const struct vmpd_state_hdr *st = o->st;
	struct stat sb;

	if (st->pid != c->pid || st->uid != c->uid) {
		snprintf(why, len, "region %016llx belongs to pid %d uid %u",
			 (unsigned long long)o->token, st->pid, st->uid);
		return -EPERM;
	}
	if (fstat(c->memfd, &sb) || (uint64_t)sb.st_dev != st->memfd_dev ||
	    (uint64_t)sb.st_ino != st->memfd_ino || st->npages != c->npages) {
		snprintf(why, len, "the memfd is not region %016llx's",
			 (unsigned long long)o->token);
		return -EINVAL;
	}
	if ((c->filefd >= 0) != (st->file_ino != 0) ||
	    (c->filefd >= 0 && (fstat(c->filefd, &sb) ||
				(uint64_t)sb.st_dev != st->file_dev ||
				(uint64_t)sb.st_ino != st->file_ino))) {
		snprintf(why, len, "the file is not region %016llx's",
			 (unsigned long long)o->token);
		return -EINVAL;
	}
	/* without the client's own map, the kept one must be whole */
	if (!next && (st->flags & (ST_EVENT | ST_EXT_LOST) || !st->next)) {
		snprintf(why, len, "%s",
			 st->flags & ST_EXT_LOST ?
			 "its address map had more pieces than the state file holds" :
			 "vmpagerd died while applying an unmap or mremap of it");
		return -EIO;
	}
	return 0;
}

/* Bitmap of the pages the memfd holds (SEEK_DATA/SEEK_HOLE runs). */
static uint64_t *memfd_pages(int memfd, uint64_t npages)
{
	uint64_t *bm = calloc((npages + 63) / 64, 8), i;
	off_t end = (off_t)(npages * PG), d = 0, h;

	if (!bm)
		return NULL;
	for (;;) {
		d = lseek(memfd, d, SEEK_DATA);
		if (d < 0 || d >= end)
			break;
		h = lseek(memfd, d, SEEK_HOLE);
		if (h < 0 || h > end)
			h = end;
		for (i = (uint64_t)d / PG; i < ((uint64_t)h + PG - 1) / PG; i++)
			bm[i / 64] |= 1ull << (i % 64);
		d = h;
	}
	return bm;
}

/* A cache entry of @c for a recovered page: its buffer, or NULL. */
static void *recover_entry(struct vmpd_client *c, uint64_t idx, bool dirty)
{
	uint32_t e;

	if (!c->ncfree)
		return NULL;
	e = c->cfree[--c->ncfree];
	c->centries[e].flags = VMPD_CE_USED;
	ce_hold(c, e, idx, dirty ? VMPD_CE_DIRTY : 0);
	return ce_buf(c, e);
}

/*
 * Page @idx of @c (being set up) is in its memfd: RESIDENT with @fl, in a
 * frame if one is free, else untracked (frames_over). A restart's or a
 * fork's recovery.
 */
void vmpd_page_adopt(struct vmpd_client *c, uint64_t idx, uint16_t fl)
{
	struct vmpd_page *p = &c->pages[idx];
	uint32_t f;

	p->flags = VMPD_PG_RESIDENT | fl;
	if (!c->nfree || !vmpd_frame_reserve()) {
		c->untracked++;
		count(frames_over);
		return;
	}
	f = c->free_frames[--c->nfree];
	__atomic_add_fetch(&c->resident, 1, __ATOMIC_RELAXED);
	p->frame = f;
	c->frames[f].idx = (uint32_t)idx;
	vmp_policy_insert(&c->pol, f, idx);
}

/*
 * Rebuild @c (fresh state, its budget and cache set up) from orphan @o,
 * the memfd and @o's arena; @c takes @o's slots. 0 or -errno (nothing of
 * @o is used then; the caller refuses and keeps @o until it expires).
 */
int vmpd_state_recover(struct vmpd_client *c, struct vmpd_orphan *o,
		       const struct vmpd_hello_ext *ext, unsigned int next)
{
	const struct vmpd_state_hdr *st = o->st;
	const struct vmpd_page *op = (const void *)((const char *)st + st->pages_off);
	const struct vmpd_centry *oce =
		(const void *)((const char *)st + st->centries_off);
	uint32_t *ent = NULL, j;
	uint64_t *present, *mapped = NULL, i, recovered = 0;
	const char *oarena = NULL;
	size_t abytes = 0;
	struct stat sb;
	int fd, ret = 0;

	/* the client's map of the region if it sent one, else the kept one */
	for (j = 0; j < (next ? next : st->next) && (next || j < ST_EXT); j++) {
		const struct vmpd_extent *x = next ?
			(const struct vmpd_extent *)&ext[j] : &st->ext[j];

		if (!x->npages || x->start % PG || x->pgoff >= c->npages ||
		    x->npages > c->npages - x->pgoff)
			return -EINVAL;
		ret = vmpd_ext_add(c, x->start, x->npages, x->pgoff);
		if (ret)
			return ret;
	}
	vmpd_state_ext(c);
	present = memfd_pages(c->memfd, c->npages);
	ent = malloc(c->npages * sizeof(*ent));
	mapped = calloc((c->npages + 63) / 64, 8);
	if (!present || !ent || !mapped) {
		ret = -ENOMEM;
		goto out;
	}
	for (j = 0; j < (uint32_t)c->next; j++)
		for (i = c->ext[j].pgoff;
		     i < c->ext[j].pgoff + c->ext[j].npages; i++)
			mapped[i / 64] |= 1ull << (i % 64);
	for (i = 0; i < c->npages; i++)
		ent[i] = VMP_NIL;
	/* which old entry holds which page: linked, or staged before a punch */
	for (j = 0; j < st->ncache; j++) {
		if (oce[j].idx < c->npages && op[oce[j].idx].cache == j)
			ent[oce[j].idx] = j;
		else if (oce[j].staged < c->npages && ent[oce[j].staged] == VMP_NIL)
			ent[oce[j].staged] = j;
	}
	fd = openat(dirfd_, st->arena, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && !fstat(fd, &sb) && sb.st_size > 0) {
		abytes = (size_t)sb.st_size;
		oarena = mmap(NULL, abytes, PROT_READ, MAP_SHARED, fd, 0);
		if (oarena == MAP_FAILED)
			oarena = NULL;
	}
	if (fd >= 0)
		close(fd);
	for (i = 0; i < c->npages; i++) {
		struct vmpd_page *p = &c->pages[i];
		uint32_t slot = op[i].slot;
		bool dirty;
		void *buf;

		if (!(mapped[i / 64] & (1ull << (i % 64)))) {
			/* unmapped (an UNMAP the dead daemon never applied) */
			if (present[i / 64] & (1ull << (i % 64)))
				fallocate(c->memfd, FALLOC_FL_PUNCH_HOLE |
					  FALLOC_FL_KEEP_SIZE, (off_t)(i * PG), PG);
			continue;	/* its slot goes in vmpd_orphan_done() */
		}
		if (present[i / 64] & (1ull << (i % 64))) {
			/* 1. the memfd's page; clean only as the state says */
			dirty = (op[i].flags & (VMPD_PG_RESIDENT | VMPD_PG_WP |
						 VMPD_PG_DIRTY)) !=
				(VMPD_PG_RESIDENT | VMPD_PG_WP);
			/* a stale slot is freed by vmpd_orphan_done() */
			p->slot = dirty ? VMP_NIL : slot;
			vmpd_page_adopt(c, i, dirty ? VMPD_PG_DIRTY : VMPD_PG_WP);
			recovered++;
			continue;
		}
		if (ent[i] != VMP_NIL) {
			/* 2. a cache entry: dirty, or clean beside its slot */
			const struct vmpd_centry *x = &oce[ent[i]];
			const void *src;

			dirty = op[i].cache == ent[i] ?
				!!(x->flags & VMPD_CE_DIRTY) :
				!!(x->staged_flags & VMPD_CE_DIRTY);
			if (!dirty && (slot != VMP_NIL || c->filefd >= 0)) {
				p->slot = slot;		/* 3. its slot has it */
				recovered++;
				continue;
			}
			/* the only copy: without its arena, no recovery */
			if (!oarena || x->buf >= abytes / PG) {
				ret = oarena ? -EINVAL : -ENOENT;
				goto out;
			}
			src = oarena + (size_t)x->buf * PG;
			buf = recover_entry(c, i, true);
			if (buf) {
				memcpy(buf, src, PG);
			} else if (pwrite(c->memfd, src, PG, (off_t)(i * PG)) == PG) {
				/* no entry left: into the memfd, resident */
				vmpd_page_adopt(c, i, VMPD_PG_DIRTY);
			} else {
				ret = -errno;
				goto out;
			}
			recovered++;
			continue;
		}
		/*
		 * Resident, not in the memfd, and no punch of ours under way
		 * (those are BUSY): the client punched it (MADV_REMOVE), so
		 * it reads zero, as the daemon would have told it.
		 */
		if ((op[i].flags & (VMPD_PG_RESIDENT | VMPD_PG_BUSY)) ==
		    VMPD_PG_RESIDENT)
			continue;	/* its slot is freed by vmpd_orphan_done() */
		/* 3. swapped, or 4. empty */
		p->slot = slot;
		if (slot != VMP_NIL)
			recovered++;
	}
	count_n(pages_recovered, recovered);
out:
	if (ret) {
		/* the slots stay the orphan's; the caller frees the rest */
		for (i = 0; i < c->npages; i++)
			c->pages[i].slot = VMP_NIL;
	}
	if (oarena)
		munmap((void *)oarena, abytes);
	free(present);
	free(mapped);
	free(ent);
	return ret;
}

/*
 * @o's region is @c's now (recovered and committed): the slots @c did not
 * keep (stale copies of dirty pages) are freed, the arena @o named goes
 * when no other orphan needs it.
 */
void vmpd_orphan_done(struct vmpd_orphan *o, struct vmpd_client *c)
{
	const struct vmpd_page *op =
		(const void *)((const char *)o->st + o->st->pages_off);
	uint64_t i;

	for (i = 0; i < o->st->npages; i++)
		if (op[i].slot != VMP_NIL && c->pages[i].slot != op[i].slot)
			vmp_uswap_free(vmpd.swap, op[i].slot);

	/* the new state file took its name (vmpd_state_commit()): unmap */
	st_unmap(o->st, o->bytes);
	o->st = NULL;
	norphans--;
	arenas_sweep();
}

/* Orphans past their deadline are freed. The next deadline, or UINT64_MAX. */
uint64_t vmpd_orphans_expire(uint64_t now)
{
	uint64_t next = UINT64_MAX;
	char name[64];
	unsigned int i;
	bool swept = false;

	for (i = 0; i < VMPD_MAX_CLIENTS && norphans; i++) {
		struct vmpd_orphan *o = &orphans[i];

		if (!o->st)
			continue;
		if (o->deadline > now) {
			if (o->deadline < next)
				next = o->deadline;
			continue;
		}
		region_name(name, sizeof(name), o->token);
		warn("state: %s: no client re-attached within %u s; its pages are freed",
		     name, vmpd.cfg.reattach_timeout);
		unlinkat(dirfd_, name, 0);	/* before its slots go */
		if (vmpd.swap)
			orphan_unreserve(o->st, o->st->npages);
		st_unmap(o->st, o->bytes);
		o->st = NULL;
		norphans--;
		count(orphans_dropped);
		swept = true;
	}
	if (swept)
		arenas_sweep();
	return next;
}
