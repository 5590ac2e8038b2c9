// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerd fork: a client about to fork asks for a copy of its region for
 * the child (VMPD_FORK, with a new empty memfd), docs/vmpagerd.md "Fork".
 *
 * Under the client's lock, with no evictor batch in flight, the daemon
 * write-protects every writable resident page (a write by any thread of
 * the parent from then on waits in a WP fault until the copy is done, and
 * is the parent's alone) and takes the snapshot, a forkling:
 *
 *   parent page                      child page
 *   RESIDENT, clean with a slot      copied into the child's memfd, clean,
 *                                    the slot shared (vmp_uswap_dup)
 *   RESIDENT otherwise               copied, dirty
 *   CACHED clean, with a slot        the slot shared, SWAPPED
 *   CACHED dirty                     copied from the cache buffer, dirty
 *   SWAPPED                          the slot shared
 *   EMPTY                            EMPTY
 *
 * A slot is never written again once written (a dirty page takes a new
 * one), so parent and child share it until each has freed it. The child
 * maps the memfd and sends a hello with VMPD_HELLO_FORK and the token;
 * accept_one() adopts the forkling (vmpd_fork_adopt()): the pages in the
 * memfd take frames up to the child's budget. A forkling no child takes
 * within VMPD_FORK_WAIT_S is freed (a fork() that failed, a child that
 * exec'd or died first). File-backed regions are not forked (EOPNOTSUPP):
 * a child of a MAP_SHARED file mapping would share it, not copy it.
 *
 * The table is protected by its own mutex, a leaf taken under c->lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "vmpd.h"

#define PG			VMPD_PAGE
#define VMPD_FORKLINGS		64
#define VMPD_FORK_WAIT_S	10	/* a child attaches within ms of its fork */

struct vmpd_forkling {
	uint64_t token;			/* 0: free entry */
	uid_t uid;
	uint64_t npages;
	uint64_t memfd_dev, memfd_ino;	/* the child's memfd */
	struct vmpd_page *pages;	/* slot and flags per page */
	uint64_t deadline;		/* vmpd_now_ns() */
};

static pthread_mutex_t fork_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vmpd_forkling forklings[VMPD_FORKLINGS];	/* fork_lock */
static unsigned int nforklings;				/* atomic */

static void forkling_free(struct vmpd_forkling *k)
{
	uint64_t i;

	for (i = 0; k->pages && i < k->npages; i++)
		if (k->pages[i].slot != VMP_NIL)
			vmp_uswap_free(vmpd.swap, k->pages[i].slot);
	free(k->pages);
	k->pages = NULL;
	k->token = 0;
}

/* Copy pages [@idx, @idx + @n) of the parent's memfd into the child's. */
static int copy_run(int from, int to, uint64_t idx, uint64_t n)
{
	char buf[PG] __attribute__((aligned(64)));
	loff_t in = (loff_t)(idx * PG), out = in;
	size_t left = n * PG;
	ssize_t got;

	while (left) {
		got = copy_file_range(from, &in, to, &out, left, 0);
		if (got <= 0)
			break;
		left -= (size_t)got;
	}
	/* a kernel that will not copy between these files: by hand */
	while (left) {
		if (pread(from, buf, PG, in) != PG ||
		    pwrite(to, buf, PG, out) != PG)
			return -errno ?: -EIO;
		in += PG;
		out += PG;
		left -= PG;
	}
	return 0;
}

/* Stop the parent's writers: every resident page not write-protected. */
static int protect_all(struct vmpd_client *c)
{
	uint64_t idx, run, a0, a;
	int ret;

	for (idx = 0; idx < c->npages; idx = run) {
		struct vmpd_page *p = &c->pages[idx];

		run = idx + 1;
		if (!(p->flags & VMPD_PG_RESIDENT) || (p->flags & VMPD_PG_WP))
			continue;
		if (!idx_to_addr(c, idx, &a0))
			continue;	/* unmapped: nobody writes it */
		while (run < c->npages &&
		       (c->pages[run].flags & (VMPD_PG_RESIDENT | VMPD_PG_WP)) ==
		       VMPD_PG_RESIDENT && idx_to_addr(c, run, &a) &&
		       a == a0 + (run - idx) * PG)
			run++;
		/* dirty and protected: its next write lifts it (fault_wp()) */
		ret = uffd_wp_range(c, a0, (run - idx) * PG, true);
		if (ret)
			return ret;
	}
	return 0;
}

/* The snapshot of @c into @k and the child's memfd @to (c->lock held). */
static int snapshot(struct vmpd_client *c, struct vmpd_forkling *k, int to)
{
	uint64_t idx, run;
	int ret;

	for (idx = 0; idx < c->npages; idx = run) {
		struct vmpd_page *p = &c->pages[idx], *q = &k->pages[idx];
		bool clean = (p->flags & VMPD_PG_WP) && !(p->flags & VMPD_PG_DIRTY);

		run = idx + 1;
		if (p->flags & VMPD_PG_RESIDENT) {
			/* a run of resident pages: one copy */
			while (run < c->npages &&
			       (c->pages[run].flags & VMPD_PG_RESIDENT))
				run++;
			ret = copy_run(c->memfd, to, idx, run - idx);
			if (ret)
				return ret;
			for (; idx < run; idx++) {
				p = &c->pages[idx];
				q = &k->pages[idx];
				clean = (p->flags & VMPD_PG_WP) &&
					!(p->flags & VMPD_PG_DIRTY);
				q->flags = VMPD_PG_RESIDENT |
					   (clean ? VMPD_PG_WP : VMPD_PG_DIRTY);
				if (clean && p->slot != VMP_NIL) {
					ret = vmp_uswap_dup(vmpd.swap, p->slot);
					if (ret)
						return ret;
					q->slot = p->slot;
				}
			}
			continue;
		}
		if (p->cache != VMP_NIL &&
		    ((c->centries[p->cache].flags & VMPD_CE_DIRTY) ||
		     p->slot == VMP_NIL)) {
			if (pwrite(to, ce_buf(c, p->cache), PG,
				   (off_t)(idx * PG)) != PG)
				return -errno ?: -EIO;
			q->flags = VMPD_PG_RESIDENT | VMPD_PG_DIRTY;
			continue;
		}
		if (p->slot != VMP_NIL) {
			ret = vmp_uswap_dup(vmpd.swap, p->slot);
			if (ret)
				return ret;
			q->slot = p->slot;
		}
	}
	return 0;
}

/* VMPD_FORK from @c with the child's memfd @to: 0 and *@token, or -errno. */
static int fork_region(struct vmpd_client *c, int to, uint64_t base,
		       uint64_t *token, char *why, size_t len)
{
	struct vmpd_forkling k = { .npages = c->npages, .uid = c->uid };
	struct statfs sfs;
	struct stat st;
	unsigned int i;
	uint64_t idx;
	int ret;

	if (c->filefd >= 0) {
		snprintf(why, len, "a file-backed region is shared with a child, not copied: not supported");
		return -EOPNOTSUPP;
	}
	/* the child maps the whole memfd at @base: the region must be so */
	pthread_mutex_lock(&c->lock);
	ret = c->next == 1 && c->ext[0].start == base && !c->ext[0].pgoff &&
	      c->ext[0].npages == c->npages ? 0 : -EOPNOTSUPP;
	pthread_mutex_unlock(&c->lock);
	if (ret) {
		snprintf(why, len, "the region is no longer mapped whole at %#llx (munmap or mremap of part of it)",
			 (unsigned long long)base);
		return ret;
	}
	if (to < 0 || fstat(to, &st) || fstatfs(to, &sfs) ||
	    sfs.f_type != TMPFS_MAGIC || (uint64_t)st.st_size != c->npages * PG ||
	    lseek(to, 0, SEEK_DATA) >= 0) {
		snprintf(why, len, "the fd must be an empty memfd of the region's size");
		return -EINVAL;
	}
	k.memfd_dev = st.st_dev;
	k.memfd_ino = st.st_ino;
	k.pages = malloc(c->npages * sizeof(*k.pages));
	if (!k.pages)
		return -ENOMEM;
	for (idx = 0; idx < c->npages; idx++)
		k.pages[idx] = (struct vmpd_page){ VMP_NIL, VMP_NIL, VMP_NIL, 0, 0 };
	while (getrandom(&k.token, sizeof(k.token), 0) != sizeof(k.token) ||
	       !k.token)
		;
	pthread_mutex_lock(&c->lock);
	/* an evictor batch copies pages out unlocked: let it finish */
	vmpd_evictor_wait(c);
	ret = c->dead ? -ESRCH : protect_all(c);
	if (!ret)
		ret = snapshot(c, &k, to);
	pthread_mutex_unlock(&c->lock);
	if (ret) {
		snprintf(why, len, "%s", ret == -EAGAIN ?
			 "an unmap or mremap of the region is pending: try again" :
			 strerror(-ret));
		forkling_free(&k);
		return ret;
	}
	k.deadline = vmpd_now_ns() + VMPD_FORK_WAIT_S * 1000000000ull;
	pthread_mutex_lock(&fork_lock);
	for (i = 0; i < VMPD_FORKLINGS && forklings[i].token; i++)
		;
	if (i < VMPD_FORKLINGS) {
		forklings[i] = k;
		__atomic_add_fetch(&nforklings, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&fork_lock);
	if (i == VMPD_FORKLINGS) {
		snprintf(why, len, "%d forks wait for their children already",
			 VMPD_FORKLINGS);
		forkling_free(&k);
		return -EBUSY;
	}
	*token = k.token;
	return 0;
}

void vmpd_fork_msg(struct vmpd_client *c, const void *msg, size_t len, int fd)
{
	struct vmpd_reply r = { .magic = VMPD_MAGIC, .version = VMPD_VERSION,
				.type = VMPD_FORKED };
	const struct vmpd_fork *f = msg;

	if (len != sizeof(*f) || f->version != VMPD_VERSION || f->flags ||
	    f->reserved[0] || f->reserved[1] || f->reserved[2]) {
		r.error = -EINVAL;
		snprintf(r.text, sizeof(r.text), "bad fork request");
	} else {
		r.error = fork_region(c, fd, f->base, &r.token, r.text,
				      sizeof(r.text));
	}
	if (fd >= 0)
		close(fd);
	if (r.error) {
		count(fork_refused);
		warn("pid %d: fork refused: %s", c->pid, r.text);
	} else {
		count(forks);
	}
	if (vmpd_send_reply(c, c->sock, &r))
		dbg("pid %d: fork answer not sent: %s", c->pid, strerror(errno));
}

/*
 * A child's hello (VMPD_HELLO_FORK, @token): its forkling, taken out of
 * the table, if the child's uid and memfd are the ones it was made for.
 * NULL and @why otherwise.
 */
struct vmpd_forkling *vmpd_forkling_take(uint64_t token, uid_t uid, int memfd,
					 uint64_t npages, char *why, size_t len)
{
	struct vmpd_forkling *k = NULL;
	struct stat st;
	unsigned int i;

	if (fstat(memfd, &st)) {
		snprintf(why, len, "fstat of the memfd: %s", strerror(errno));
		return NULL;
	}
	pthread_mutex_lock(&fork_lock);
	for (i = 0; i < VMPD_FORKLINGS; i++) {
		struct vmpd_forkling *x = &forklings[i];

		if (!x->token || x->token != token)
			continue;
		if (x->uid != uid || x->npages != npages ||
		    x->memfd_dev != (uint64_t)st.st_dev ||
		    x->memfd_ino != (uint64_t)st.st_ino) {
			snprintf(why, len, "the fork %016llx was made for another uid or memfd",
				 (unsigned long long)token);
			break;
		}
		k = malloc(sizeof(*k));
		if (k) {
			*k = *x;
			x->token = 0;
			x->pages = NULL;
			__atomic_sub_fetch(&nforklings, 1, __ATOMIC_RELAXED);
		} else {
			snprintf(why, len, "out of memory");
		}
		break;
	}
	if (i == VMPD_FORKLINGS)
		snprintf(why, len, "no fork %016llx (it expired after %d s)",
			 (unsigned long long)token, VMPD_FORK_WAIT_S);
	pthread_mutex_unlock(&fork_lock);
	return k;
}

/*
 * The child's clean pages are in its memfd but not mapped yet: write-
 * protect their addresses (on shmem this leaves a marker where no page is
 * mapped, so the mapping the first access makes is protected too), else
 * the child's first write would not be seen and its eviction would keep a
 * slot that holds the parent's data. A page that cannot be protected is
 * made dirty instead.
 */
static void protect_clean(struct vmpd_client *c)
{
	uint64_t idx, run, a0;

	for (idx = 0; idx < c->npages; idx = run) {
		struct uffdio_writeprotect wp;

		run = idx + 1;
		if ((c->pages[idx].flags & (VMPD_PG_WP | VMPD_PG_DIRTY)) !=
		    VMPD_PG_WP || !idx_to_addr(c, idx, &a0))
			continue;
		while (run < c->npages &&
		       (c->pages[run].flags & (VMPD_PG_WP | VMPD_PG_DIRTY)) ==
		       VMPD_PG_WP)
			run++;
		wp = (struct uffdio_writeprotect){
			.range = { .start = a0, .len = (run - idx) * PG },
			.mode = UFFDIO_WRITEPROTECT_MODE_WP,
		};
		if (!ioctl(c->uffd, UFFDIO_WRITEPROTECT, &wp))
			continue;
		warn("pid %d: write-protecting a fork's copy: %s; %llu pages made dirty",
		     c->pid, strerror(errno), (unsigned long long)(run - idx));
		for (a0 = idx; a0 < run; a0++) {
			page_make_dirty(&c->pages[a0]);
		}
	}
}

/* @c (set up, not in the table yet) takes @k's pages; @k is freed. */
void vmpd_fork_adopt(struct vmpd_client *c, struct vmpd_forkling *k)
{
	uint64_t i, n = 0;

	for (i = 0; i < c->npages; i++) {
		struct vmpd_page *q = &k->pages[i];

		c->pages[i].slot = q->slot;
		if (q->flags & VMPD_PG_RESIDENT)
			vmpd_page_adopt(c, i, q->flags & (VMPD_PG_WP | VMPD_PG_DIRTY));
		n += q->slot != VMP_NIL || q->flags;
		q->slot = VMP_NIL;	/* c's now */
	}
	protect_clean(c);
	count_n(pages_recovered, n);
	forkling_free(k);
	free(k);
}

/* Give a forkling back (its child was refused after taking it). */
void vmpd_forkling_drop(struct vmpd_forkling *k)
{
	if (!k)
		return;
	forkling_free(k);
	free(k);
}

/* Forks waiting for their child (the ctl gauge forks_pending). */
unsigned int vmpd_forks_pending(void)
{
	return __atomic_load_n(&nforklings, __ATOMIC_RELAXED);
}

/* Forklings no child took in time are freed; the next deadline, or UINT64_MAX. */
uint64_t vmpd_forklings_expire(uint64_t now)
{
	uint64_t next = UINT64_MAX;
	unsigned int i;

	if (!__atomic_load_n(&nforklings, __ATOMIC_RELAXED))
		return next;
	pthread_mutex_lock(&fork_lock);
	for (i = 0; i < VMPD_FORKLINGS; i++) {
		struct vmpd_forkling *k = &forklings[i];

		if (!k->token)
			continue;
		if (k->deadline > now) {
			if (k->deadline < next)
				next = k->deadline;
			continue;
		}
		warn("fork %016llx: no child came for it within %d s; freed",
		     (unsigned long long)k->token, VMPD_FORK_WAIT_S);
		forkling_free(k);
		__atomic_sub_fetch(&nforklings, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&fork_lock);
	return next;
}
