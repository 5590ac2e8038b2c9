// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerd: client regions, fault service, eviction, the soft-eviction cache
 * and swap I/O. The page states and the lock order are in vmpd.h.
 *
 * Every function here that takes a struct vmpd_client runs with its lock
 * held, except vmpd_admit_thread(), vmpd_client_event(), the table helpers and
 * the policy switch, which take it themselves.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "vmpd.h"

#define PG	VMPD_PAGE

/* ------------------------------------------------------------------ */
/* The arena of cache buffers.                                         */

void *vmpd_arena_page(uint32_t i)
{
	return vmpd.arena + (size_t)i * PG;
}

/* Take @n arena pages into @out: 0, or -ENOMEM (nothing taken). */
int vmpd_arena_take(uint32_t n, uint32_t *out)
{
	int ret = -ENOMEM;

	pthread_mutex_lock(&vmpd.arena_lock);
	if (vmpd.arena_nfree >= n) {
		vmpd.arena_nfree -= n;
		memcpy(out, vmpd.arena_free + vmpd.arena_nfree,
		       n * sizeof(*out));
		ret = 0;
	}
	pthread_mutex_unlock(&vmpd.arena_lock);
	return ret;
}

static void arena_give(uint32_t n, const uint32_t *pages)
{
	pthread_mutex_lock(&vmpd.arena_lock);
	memcpy(vmpd.arena_free + vmpd.arena_nfree, pages, n * sizeof(*pages));
	vmpd.arena_nfree += n;
	pthread_mutex_unlock(&vmpd.arena_lock);
}

/* ------------------------------------------------------------------ */
/* The client table.                                                   */

struct vmpd_client *vmpd_client_get(uint32_t slot)
{
	struct vmpd_client *c = NULL;

	if (slot >= VMPD_MAX_CLIENTS)
		return NULL;
	pthread_mutex_lock(&vmpd.clients_lock);
	c = vmpd.clients[slot];
	if (c)
		__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&vmpd.clients_lock);
	return c;
}

void vmpd_client_destroy(struct vmpd_client *c)
{
	if (c->uffd >= 0)
		close(c->uffd);
	if (c->memfd >= 0)
		close(c->memfd);
	if (c->sock >= 0)
		close(c->sock);
	if (c->pidfd >= 0)
		close(c->pidfd);
	free(c->pages);
	free(c->ext);
	free(c->frames);
	free(c->free_frames);
	free(c->pol_mem);
	free(c->centries);
	free(c->cfree);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void vmpd_client_put(struct vmpd_client *c)
{
	if (c && !__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL))
		vmpd_client_destroy(c);
}

/* ------------------------------------------------------------------ */
/* Addresses: the client's extents map addresses to memfd pages.       */

static bool addr_to_idx(struct vmpd_client *c, uint64_t addr, uint64_t *idx)
{
	int i;

	for (i = 0; i < c->next; i++) {
		struct vmpd_extent *e = &c->ext[i];

		if (addr >= e->start && addr < e->start + e->npages * PG) {
			*idx = e->pgoff + (addr - e->start) / PG;
			return *idx < c->npages;
		}
	}
	return false;
}

static bool idx_to_addr(struct vmpd_client *c, uint64_t idx, uint64_t *addr)
{
	int i;

	for (i = 0; i < c->next; i++) {
		struct vmpd_extent *e = &c->ext[i];

		if (idx >= e->pgoff && idx < e->pgoff + e->npages) {
			*addr = e->start + (idx - e->pgoff) * PG;
			return true;
		}
	}
	return false;
}

int vmpd_ext_add(struct vmpd_client *c, uint64_t start, uint64_t npages,
		   uint64_t pgoff)
{
	struct vmpd_extent *n;

	if (!npages)
		return 0;
	if (c->next == c->ext_cap) {
		n = realloc(c->ext, (c->ext_cap * 2 + 4) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		c->ext = n;
		c->ext_cap = c->ext_cap * 2 + 4;
	}
	c->ext[c->next++] = (struct vmpd_extent){ start, npages, pgoff };
	return 0;
}

static int ext_cmp(const void *a, const void *b)
{
	const struct vmpd_extent *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * Join extents adjacent both in the client's address space and in the
 * memfd (a piece moved back where it came from), so that the map stays as
 * small as the kernel's own VMAs: the kernel merges them, and one mremap
 * may then move what the daemon knew as many pieces.
 */
static void ext_merge(struct vmpd_client *c)
{
	int i, n = 0;

	if (c->next < 2)
		return;
	qsort(c->ext, c->next, sizeof(*c->ext), ext_cmp);
	for (i = 1; i < c->next; i++) {
		struct vmpd_extent *a = &c->ext[n], *b = &c->ext[i];

		if (a->start + a->npages * PG == b->start &&
		    a->pgoff + a->npages == b->pgoff)
			a->npages += b->npages;
		else
			c->ext[++n] = *b;
	}
	c->next = n + 1;
}

/*
 * Cut [s, e) out of the extents. With @moved, the cut pieces are re-added
 * shifted by @delta bytes (mremap); otherwise they are gone (munmap).
 * 0, or -ENOMEM with the map unchanged: all the memory the cut needs (up
 * to two remainders and a moved piece per extent it meets) is taken
 * before anything changes, so the map is never left half cut.
 */
static int ext_cut(struct vmpd_client *c, uint64_t s, uint64_t e,
		   bool moved, int64_t delta)
{
	struct vmpd_extent *cut = NULL, *n;
	int i, ncut = 0, hit = 0, need;

	for (i = 0; i < c->next; i++)
		if (c->ext[i].start < e &&
		    c->ext[i].start + c->ext[i].npages * PG > s)
			hit++;
	if (!hit)
		return 0;
	need = c->next + 3 * hit;
	if (need > c->ext_cap) {
		n = realloc(c->ext, need * sizeof(*n));
		if (!n)
			return -ENOMEM;
		c->ext = n;
		c->ext_cap = need;
	}
	if (moved) {
		cut = malloc(hit * sizeof(*cut));
		if (!cut)
			return -ENOMEM;
	}
	for (i = 0; i < c->next; i++) {
		struct vmpd_extent x = c->ext[i];
		uint64_t xe = x.start + x.npages * PG, lo, hi;

		if (xe <= s || x.start >= e)
			continue;
		lo = x.start > s ? x.start : s;
		hi = xe < e ? xe : e;
		/* drop x (the last one takes its place), re-add the rest */
		c->next--;
		c->ext[i] = c->ext[c->next];
		i--;
		/* cannot fail: the room was made above */
		vmpd_ext_add(c, x.start, (lo - x.start) / PG, x.pgoff);
		vmpd_ext_add(c, hi, (xe - hi) / PG, x.pgoff + (hi - x.start) / PG);
		if (moved)
			cut[ncut++] = (struct vmpd_extent){
				lo + delta, (hi - lo) / PG,
				x.pgoff + (lo - x.start) / PG };
	}
	for (i = 0; i < ncut; i++)
		vmpd_ext_add(c, cut[i].start, cut[i].npages, cut[i].pgoff);
	free(cut);
	ext_merge(c);
	return 0;
}

/* ------------------------------------------------------------------ */
/* userfaultfd messages and ioctls.                                    */
/*                                                                     */
/* EAGAIN from UFFDIO_COPY or UFFDIO_WRITEPROTECT means an event        */
/* (REMOVE, UNMAP, REMAP) is pending: it completes when someone reads  */
/* it, and the client's address space is already past it. So an event */
/* that has been read must reach the address map (c->ext) before any   */
/* other address is used: after an mremap(MREMAP_FIXED) inside the    */
/* region, the address the daemon resolved for page A may hold page B. */
/* The thread serving the client reads messages into two queues: the  */
/* events are applied (serve()) before any queued fault is served, and */
/* while events read during an ioctl's retry wait in c->evq every      */
/* address-based ioctl fails with EAGAIN: its caller unwinds, wakes    */
/* the faulting thread (it faults again, and that fault is resolved    */
/* against the new map) or gives up the victim. Any other thread      */
/* (cross-client eviction) gives up at the first EAGAIN.               */

/* Queue @n messages just read: events to c->evq, faults to c->pend. */
static void queue_msgs(struct vmpd_client *c, const struct uffd_msg *m, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (m[i].event == UFFD_EVENT_PAGEFAULT)
			c->pend[(c->phead + c->npend++) % VMPD_PEND_MAX] = m[i];
		else
			c->evq[c->nevq++] = m[i];
	}
}

/* Read what both queues can take: the number of messages, or -errno. */
static int read_msgs(struct vmpd_client *c)
{
	struct uffd_msg buf[VMPD_MSG_BATCH];
	int room = VMPD_MSG_BATCH;
	ssize_t n;

	if (room > VMPD_PEND_MAX - c->npend)
		room = VMPD_PEND_MAX - c->npend;
	if (room > VMPD_PEND_MAX - c->nevq)
		room = VMPD_PEND_MAX - c->nevq;
	if (room <= 0)
		return 0;
	n = read(c->uffd, buf, room * sizeof(*buf));
	if (n < 0)
		return -errno;
	queue_msgs(c, buf, n / sizeof(*buf));
	return n / sizeof(*buf);
}

static void drain_pending(struct vmpd_client *c)
{
	while (read_msgs(c) > 0)
		;
}

static __thread struct vmpd_client *serving;	/* client this thread serves */

static int uffd_ioctl(struct vmpd_client *c, unsigned long req, void *arg)
{
	int tries;

	for (tries = 0;; tries++) {
		/*
		 * Events read but not applied: the caller's address was
		 * resolved with a map the kernel has already left behind.
		 * (c->evq is only ever non-empty inside serve(), under
		 * c->lock, so other lockers never see it so.)
		 */
		if (c->nevq)
			return -EAGAIN;
		if (!ioctl(c->uffd, req, arg))
			return 0;
		if (errno != EAGAIN)
			return -errno;
		count(copy_eagain);
		if (serving != c || tries == 20000)
			return -EAGAIN;
		drain_pending(c);
		if (tries > 4)
			usleep(20);
	}
}

static int uffd_copy(struct vmpd_client *c, uint64_t addr, const void *src,
		     bool wp)
{
	struct uffdio_copy cp = {
		.dst = addr, .src = (uintptr_t)src, .len = PG,
		.mode = wp ? UFFDIO_COPY_MODE_WP : 0,
	};

	return uffd_ioctl(c, UFFDIO_COPY, &cp);
}

static int uffd_wp_range(struct vmpd_client *c, uint64_t addr, uint64_t len,
			 bool protect)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = addr, .len = len },
		/* (WP with DONTWAKE is EINVAL: protecting wakes nobody) */
		.mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return uffd_ioctl(c, UFFDIO_WRITEPROTECT, &wp);
}

static int uffd_wp(struct vmpd_client *c, uint64_t addr, bool protect)
{
	return uffd_wp_range(c, addr, PG, protect);
}

static void uffd_wake(struct vmpd_client *c, uint64_t addr, uint64_t len)
{
	struct uffdio_range r = { .start = addr, .len = len };

	if (ioctl(c->uffd, UFFDIO_WAKE, &r) && errno != ESRCH)
		dbg("pid %d: UFFDIO_WAKE %#llx+%llu: %s", c->pid,
		    (unsigned long long)addr, (unsigned long long)len,
		    strerror(errno));
}

static int punch(struct vmpd_client *c, uint64_t idx)
{
	if (fallocate(c->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(idx * PG), PG))
		return -errno;
	return 0;
}

/* Is there data at page @idx of the memfd (SEEK_DATA never allocates)? */
static bool memfd_has_page(struct vmpd_client *c, uint64_t idx)
{
	off_t off = lseek(c->memfd, (off_t)(idx * PG), SEEK_DATA);

	return off == (off_t)(idx * PG);
}

/* ------------------------------------------------------------------ */
/* Frames: a client's budget, within the global one.                   */

static bool global_reserve(void)
{
	uint64_t used = __atomic_load_n(&vmpd.frames_used, __ATOMIC_RELAXED);

	do {
		if (used >= vmpd.cfg.frames)
			return false;
	} while (!__atomic_compare_exchange_n(&vmpd.frames_used, &used,
					      used + 1, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return true;
}

static void frame_release(struct vmpd_client *c, uint32_t f)
{
	c->free_frames[c->nfree++] = f;
	__atomic_sub_fetch(&c->resident, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&vmpd.frames_used, 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* Swap I/O on the thread's ring.                                      */

/*
 * The user_data of SQE @i of the thread's next ring_run(): the batch
 * number in the high half, so a completion can never be taken for one of
 * another batch.
 */
static uint64_t ring_tag(struct vmpd_thread *t, unsigned int i)
{
	return (uint64_t)t->ring_batch << 32 | i;
}

/*
 * Submit the @n SQEs prepared on the thread's ring (user_data
 * ring_tag(t, i)), wait for all of their completions and store each
 * result at res[i].
 *
 * From submission to completion an I/O's buffer (a cache entry, the bounce
 * page) and its swap slot belong to the kernel: the caller frees slots
 * and reuses buffers as soon as this returns. So this never returns with
 * one of its SQEs queued or in flight. A wait ends early with EINTR
 * whenever the thread is stopped (SIGSTOP, the freezer) or a tracer
 * interrupts it (ptrace attach): it is resumed, and so is a submission
 * that the kernel refused for the moment (EAGAIN, EBUSY: SQEs left in the
 * SQ ring would otherwise go out with the next batch). Any other error
 * leaves I/O the daemon can no longer account for: it stops at once
 * rather than hand those buffers or slots to anything else (clients then
 * get SIGBUS, never wrong data).
 */
static void ring_run(struct vmpd_thread *t, unsigned int n, int *res)
{
	uint64_t done = 0;	/* bit i: res[i] is in */
	struct io_uring_cqe *cqe;
	unsigned int got = 0, i;
	int ret;

	while (got < n) {
		while (!io_uring_peek_cqe(&t->ring, &cqe)) {
			i = (uint32_t)cqe->user_data;
			if (cqe->user_data >> 32 != t->ring_batch || i >= n ||
			    (done & (1ull << i))) {
				/* cannot happen: every batch is reaped whole */
				err("io_uring: stray completion %#llx (res %d) in batch %u",
				    (unsigned long long)cqe->user_data, cqe->res,
				    t->ring_batch);
			} else {
				res[i] = cqe->res;
				done |= 1ull << i;
				got++;
			}
			io_uring_cqe_seen(&t->ring, cqe);
		}
		if (got == n)
			break;
		if (io_uring_sq_ready(&t->ring))
			ret = io_uring_submit_and_wait(&t->ring, 1);
		else
			ret = io_uring_wait_cqe(&t->ring, &cqe);
		if (ret >= 0)
			continue;
		if (ret == -EINTR) {
			count(io_interrupted);
			continue;
		}
		if (ret == -EAGAIN || ret == -EBUSY) {
			usleep(100);
			continue;
		}
		err("io_uring_enter: %s with %u of %u swap I/Os not completed; their buffers and slots cannot be reused: stopping",
		    strerror(-ret), n - got, n);
		abort();
	}
	t->ring_batch++;
}
/*
 * Fault injection (control commands fail_reads, fail_writes): a completed
 * transfer is reported as -EIO while the counter is positive.
 */
static int inject(uint64_t *left, int res)
{
	uint64_t n = __atomic_load_n(left, __ATOMIC_RELAXED);

	while (n && res == (int)PG)
		if (__atomic_compare_exchange_n(left, &n, n - 1, true,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return -EIO;
	return res;
}

static void *ce_buf(struct vmpd_client *c, uint32_t e)
{
	return vmpd_arena_page(c->centries[e].buf);
}

static int buf_index(struct vmpd_thread *t)
{
	return t->fixed ? 0 : -1;
}

/*
 * Read (@write false) or write the @n pages bufs[i] from/to slots[i] (n at
 * most VMPD_FLUSH_BATCH + 1), one request per run of consecutive slots in
 * one file (a readv/writev of the run's buffers; a single page with the
 * registered buffer), and store each page's result at res[i]: 4096, or the
 * run's error (a short transfer is -EIO for each page of its run).
 */
#define VMPD_IO_MAX	(VMPD_FLUSH_BATCH + 1)
_Static_assert(VMP_RA_MAX + 1 <= VMPD_IO_MAX, "a swap-in's reads fit");

static void swap_rw(struct vmpd_thread *t, bool write, const uint32_t *slots,
		    void *const *bufs, unsigned int n, int *res)
{
	struct iovec iov[VMPD_IO_MAX];
	unsigned int start[VMPD_IO_MAX], len[VMPD_IO_MAX];
	int rres[VMPD_IO_MAX];
	unsigned int nr = 0, i, j, k;

	for (i = 0; i < n; i = j) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&t->ring);

		for (j = i + 1; j < n && slots[j] == slots[j - 1] + 1 &&
		     vmp_uswap_contig(vmpd.swap, slots[i], j - i + 1) ==
		     j - i + 1; j++)
			;
		if (j - i == 1) {
			vmp_uswap_prep_pages(vmpd.swap, sqe, write, slots[i], 1,
					     bufs[i], buf_index(t));
		} else {
			for (k = i; k < j; k++)
				iov[k] = (struct iovec){ bufs[k], PG };
			vmp_uswap_prep_pagesv(vmpd.swap, sqe, write, slots[i],
					      &iov[i], j - i);
		}
		io_uring_sqe_set_data64(sqe, ring_tag(t, nr));
		start[nr] = i;
		len[nr] = j - i;
		rres[nr++] = -EIO;
	}
	ring_run(t, nr, rres);
	for (i = 0; i < nr; i++)
		for (k = start[i]; k < start[i] + len[i]; k++)
			res[k] = rres[i] == (int)(len[i] * PG) ? (int)PG :
				 rres[i] < 0 ? rres[i] : -EIO;
}

/* ------------------------------------------------------------------ */
/* The soft-eviction cache: FIFO of entries, head newest.              */

static void ce_link_head(struct vmpd_client *c, uint32_t e)
{
	struct vmpd_centry *x = &c->centries[e];

	x->prev = VMP_NIL;
	x->next = c->chead;
	if (c->chead != VMP_NIL)
		c->centries[c->chead].prev = e;
	else
		c->ctail = e;
	c->chead = e;
}

static void ce_unlink(struct vmpd_client *c, uint32_t e)
{
	struct vmpd_centry *x = &c->centries[e];

	if (x->prev != VMP_NIL)
		c->centries[x->prev].next = x->next;
	else if (c->chead == e)
		c->chead = x->next;
	if (x->next != VMP_NIL)
		c->centries[x->next].prev = x->prev;
	else if (c->ctail == e)
		c->ctail = x->prev;
	x->prev = x->next = VMP_NIL;
}

/* Free an entry that may or may not be on the FIFO. */
static void ce_free(struct vmpd_client *c, uint32_t e)
{
	ce_unlink(c, e);
	c->centries[e].flags = 0;
	c->centries[e].idx = VMP_NIL;
	c->cfree[c->ncfree++] = e;
}

/* Drop a clean entry: its page is in its slot (or was read ahead). */
static void ce_drop_clean(struct vmpd_client *c, uint32_t e)
{
	struct vmpd_page *p = &c->pages[c->centries[e].idx];

	if (!(c->centries[e].flags & VMPD_CE_RA))
		count(evict_clean);
	p->cache = VMP_NIL;
	ce_free(c, e);
}

/*
 * Write back the oldest dirty entries (up to VMPD_FLUSH_BATCH, one
 * submission) and drop the oldest clean ones met on the way. Returns the
 * number of entries freed.
 */
static int cache_flush(struct vmpd_thread *t, struct vmpd_client *c)
{
	uint32_t ents[VMPD_FLUSH_BATCH], slots[VMPD_FLUSH_BATCH];
	int res[VMPD_FLUSH_BATCH] = { 0 };
	void *bufs[VMPD_FLUSH_BATCH];
	uint32_t e, prev;
	int n = 0, freed = 0, i;
	int64_t s;

	for (e = c->ctail; e != VMP_NIL && n < VMPD_FLUSH_BATCH; e = prev) {
		struct vmpd_centry *x = &c->centries[e];

		prev = x->prev;
		if (!(x->flags & VMPD_CE_DIRTY)) {
			ce_drop_clean(c, e);
			freed++;
			continue;
		}
		if (!vmpd.swap) {
			count(evict_noswap);
			continue;
		}
		s = vmp_uswap_alloc(vmpd.swap);
		if (s < 0) {
			count(swap_full);
			count(evict_noswap);
			break;
		}
		bufs[n] = ce_buf(c, e);
		ents[n] = e;
		slots[n++] = (uint32_t)s;
	}
	if (!n)
		return freed;
	swap_rw(t, true, slots, bufs, n, res);
	for (i = 0; i < n; i++) {
		struct vmpd_page *p = &c->pages[c->centries[ents[i]].idx];

		res[i] = inject(&vmpd.fail_writes, res[i]);
		if (res[i] == (int)PG) {
			count(swap_outs);
			count(evict_written);
			p->slot = slots[i];
			p->cache = VMP_NIL;
			ce_free(c, ents[i]);
			freed++;
		} else {
			count(write_errors);
			warn("pid %d: swap write of page %u to slot %u: %s",
			     c->pid, c->centries[ents[i]].idx, slots[i],
			     res[i] < 0 ? strerror(-res[i]) : "short write");
			vmp_uswap_free(vmpd.swap, slots[i]);
			/* keep it, newest: other entries get their turn */
			ce_unlink(c, ents[i]);
			ce_link_head(c, ents[i]);
		}
	}
	return freed;
}

/*
 * A free cache entry (not on the FIFO, flags USED), or VMP_NIL. Without
 * @io only a free entry or one of the oldest clean ones is taken.
 */
static uint32_t cache_get(struct vmpd_thread *t, struct vmpd_client *c,
			  bool io)
{
	uint32_t e;
	int scan;

	if (!c->ncfree) {
		for (e = c->ctail, scan = 0; e != VMP_NIL && scan < 32;
		     e = c->centries[e].prev, scan++) {
			if (!(c->centries[e].flags & VMPD_CE_DIRTY)) {
				ce_drop_clean(c, e);
				break;
			}
		}
	}
	if (!c->ncfree && io)
		cache_flush(t, c);
	if (!c->ncfree)
		return VMP_NIL;
	e = c->cfree[--c->ncfree];
	c->centries[e].flags = VMPD_CE_USED;
	c->centries[e].prev = c->centries[e].next = VMP_NIL;
	return e;
}

/* ------------------------------------------------------------------ */
/* Eviction.                                                           */

/*
 * Page @idx has been copied out (into cache entry @e, or nowhere: VMP_NIL)
 * and punched: record its new state (CACHED, SWAPPED or EMPTY). A dirty
 * page's old slot is stale. The caller releases its frame.
 */
static void page_evicted(struct vmpd_client *c, uint64_t idx, uint32_t e,
			 bool dirty)
{
	struct vmpd_page *p = &c->pages[idx];

	if (e != VMP_NIL) {
		c->centries[e].idx = (uint32_t)idx;
		if (dirty)
			c->centries[e].flags |= VMPD_CE_DIRTY;
		ce_link_head(c, e);
		p->cache = e;
		count(evict_soft);
	} else if (p->slot == VMP_NIL) {
		count(evict_zero);
	} else {
		count(evict_clean);
	}
	if (dirty && p->slot != VMP_NIL) {	/* stale copy */
		vmp_uswap_free(vmpd.swap, p->slot);
		p->slot = VMP_NIL;
	}
	p->flags = 0;
}

/*
 * Take resident page @idx away from the client. Returns 0 (the page left
 * its frame), or a negative errno with nothing changed.
 */
static int evict_page(struct vmpd_thread *t, struct vmpd_client *c,
		      uint64_t idx)
{
	struct vmpd_page *p = &c->pages[idx];
	uint64_t addr;
	uint32_t e;
	int ret;

	if (!idx_to_addr(c, idx, &addr))
		return -ENOENT;
	if (!(p->flags & VMPD_PG_WP) || (p->flags & VMPD_PG_DIRTY)) {
		/* dirty: stop writers, copy out, then free it in the memfd */
		e = cache_get(t, c, true);
		if (e == VMP_NIL) {
			count(evict_noswap);
			return -ENOSPC;
		}
		if (!(p->flags & VMPD_PG_WP)) {
			ret = uffd_wp(c, addr, true);
			if (ret) {
				ce_free(c, e);
				return ret;
			}
			p->flags |= VMPD_PG_WP;
		}
		if (pread(c->memfd, ce_buf(c, e), PG, (off_t)(idx * PG)) != PG) {
			ret = -errno ?: -EIO;
			ce_free(c, e);
			return ret;
		}
		ret = punch(c, idx);
		if (ret) {
			ce_free(c, e);
			return ret;
		}
		page_evicted(c, idx, e, true);
		return 0;
	}
	/*
	 * Clean and write-protected: a write now would block in a WP fault
	 * that this thread serves later, after the punch, as a swap-in.
	 */
	if (p->slot == VMP_NIL) {
		ret = punch(c, idx);
		if (!ret)
			page_evicted(c, idx, VMP_NIL, false);
		return ret;
	}
	e = cache_get(t, c, false);
	if (e != VMP_NIL &&
	    pread(c->memfd, ce_buf(c, e), PG, (off_t)(idx * PG)) != PG) {
		ce_free(c, e);
		e = VMP_NIL;
	}
	ret = punch(c, idx);
	if (ret) {
		if (e != VMP_NIL)
			ce_free(c, e);
		return ret;
	}
	page_evicted(c, idx, e, false);
	return 0;
}

/*
 * Evict up to @want (at most VMPD_EVICT_BATCH) frames of @c at once, the
 * work of evict_page() with one system call per run of neighbouring pages
 * instead of one per page: write protection per run of pages adjacent in
 * the memfd and in the client's address space, one preadv per run into
 * cache entries, one hole punch per run. Victims the policy offers in LRU
 * order are often neighbours (a sequential writer's pages). A victim that
 * fails any step is given back to the policy unchanged (its write
 * protection, if set, stays: it is then a clean-looking dirty page, still
 * flagged DIRTY). Returns the frames freed.
 */
#define VMPD_EVICT_BATCH	16


struct victim {
	uint32_t f, e;
	uint64_t idx, addr;
	bool dirty, ok;
};

static int victim_cmp(const void *a, const void *b)
{
	const struct victim *x = a, *y = b;

	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The end of the run of victims from @i on that satisfy @same pairwise. */
static unsigned int run_end(const struct victim *v, unsigned int n,
			    unsigned int i, bool addr, bool need_e,
			    bool need_wp)
{
	unsigned int j;

	for (j = i + 1; j < n; j++) {
		if (!v[j].ok || v[j].idx != v[j - 1].idx + 1 ||
		    (addr && v[j].addr != v[j - 1].addr + PG) ||
		    (need_e && v[j].e == VMP_NIL) ||
		    (need_wp && !v[j].dirty))
			break;
	}
	return j;
}

static unsigned int evict_batch(struct vmpd_thread *t, struct vmpd_client *c,
				unsigned int want)
{
	struct victim v[VMPD_EVICT_BATCH];
	struct iovec iov[VMPD_EVICT_BATCH];
	unsigned int n = 0, i, j, k, freed = 0;
	struct vmpd_page *p;
	bool busy = false;

	if (want > VMPD_EVICT_BATCH)
		want = VMPD_EVICT_BATCH;
	while (n < want && !vmp_policy_victim(&c->pol, &v[n].f)) {
		count(reclaim_scans);
		v[n].idx = c->frames[v[n].f].idx;
		v[n].e = VMP_NIL;
		n++;
	}
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), victim_cmp);
	/* what each needs, and a cache entry where it can have one */
	for (i = 0; i < n; i++) {
		p = &c->pages[v[i].idx];
		v[i].ok = idx_to_addr(c, v[i].idx, &v[i].addr);
		v[i].dirty = !(p->flags & VMPD_PG_WP) ||
			     (p->flags & VMPD_PG_DIRTY);
		if (!v[i].ok || (!v[i].dirty && p->slot == VMP_NIL))
			continue;
		v[i].e = cache_get(t, c, v[i].dirty);
		if (v[i].e == VMP_NIL && v[i].dirty) {
			count(evict_noswap);
			v[i].ok = false;
		}
	}
	/* stop writers: one write-protect per run of dirty neighbours */
	for (i = 0; i < n; i = j) {
		p = &c->pages[v[i].idx];
		if (!v[i].ok || !v[i].dirty || (p->flags & VMPD_PG_WP)) {
			j = i + 1;
			continue;
		}
		for (j = i + 1; j < run_end(v, n, i, true, false, true) &&
		     !(c->pages[v[j].idx].flags & VMPD_PG_WP); j++)
			;
		if (uffd_wp_range(c, v[i].addr, (j - i) * PG, true)) {
			for (k = i; k < j; k++)
				v[k].ok = false;
			continue;
		}
		for (k = i; k < j; k++)
			c->pages[v[k].idx].flags |= VMPD_PG_WP;
	}
	/*
	 * Copy out and punch without c->lock: both go by memfd offset, which
	 * no event changes, and the pages are BUSY, so no fault touches them
	 * (handle_fault() defers those) until they are settled below.
	 */
	for (i = 0; i < n; i++) {
		if (v[i].ok) {
			c->pages[v[i].idx].flags |= VMPD_PG_BUSY;
			busy = true;
		}
	}
	if (busy) {
		c->evicting = true;
		pthread_mutex_unlock(&c->lock);
	}
	/* copy out: one preadv per run of neighbours with entries */
	for (i = 0; i < n; i = j) {
		if (!v[i].ok || v[i].e == VMP_NIL) {
			j = i + 1;
			continue;
		}
		j = run_end(v, n, i, false, true, false);
		for (k = i; k < j; k++)
			iov[k - i] = (struct iovec){ ce_buf(c, v[k].e), PG };
		if (preadv(c->memfd, iov, (int)(j - i), (off_t)(v[i].idx * PG)) !=
		    (ssize_t)((j - i) * PG))
			for (k = i; k < j; k++)
				v[k].ok = false;
	}
	/* free them in the memfd: one punch per run */
	for (i = 0; i < n; i = j) {
		if (!v[i].ok) {
			j = i + 1;
			continue;
		}
		j = run_end(v, n, i, false, false, false);
		if (fallocate(c->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(v[i].idx * PG), (off_t)((j - i) * PG)))
			for (k = i; k < j; k++)
				v[k].ok = false;
	}
	if (busy) {
		pthread_mutex_lock(&c->lock);
		c->evicting = false;
	}
	if (c->dead) {
		/* vmpd_client_kill() freed the rest and left the buffers to us */
		if (c->arena_held) {
			vmpd_client_arena_give(c);	/* before admission looks */
			__atomic_sub_fetch(&vmpd.arena_pending, c->ncache,
					   __ATOMIC_RELEASE);
		}
		c->ndefer = 0;
		return 0;
	}
	for (i = 0; i < n; i++) {
		p = &c->pages[v[i].idx];
		p->flags &= ~VMPD_PG_BUSY;
		if (p->flags & VMPD_PG_GONE) {
			/* unmapped meanwhile: page_forget() left us the frame */
			if (v[i].e != VMP_NIL)
				ce_free(c, v[i].e);
			p->frame = VMP_NIL;
			vmp_policy_evicted(&c->pol, v[i].f, v[i].idx);
			frame_release(c, v[i].f);
			freed++;
			continue;
		}
		if (!v[i].ok) {
			if (v[i].e != VMP_NIL)
				ce_free(c, v[i].e);
			count(evict_busy);
			vmp_policy_putback(&c->pol, v[i].f);
			continue;
		}
		page_evicted(c, v[i].idx, v[i].e, v[i].dirty);
		p->frame = VMP_NIL;
		vmp_policy_evicted(&c->pol, v[i].f, v[i].idx);
		frame_release(c, v[i].f);
		freed++;
	}
	/* the faults that met a BUSY page fault again, on the settled state */
	for (i = 0; i < c->ndefer; i++) {
		count(faults_retry);
		uffd_wake(c, c->defer[i], PG);
	}
	c->ndefer = 0;
	return freed;
}

unsigned int vmpd_evict_batch(struct vmpd_thread *t, struct vmpd_client *c,
			      unsigned int want)
{
	return evict_batch(t, c, want);
}

/* Evict one frame of @c chosen by its policy: 0 or -EBUSY/-EAGAIN. */
static int evict_one(struct vmpd_thread *t, struct vmpd_client *c)
{
	uint32_t f, tries = c->pol.held + 1;
	int ret;

	while (tries--) {
		if (vmp_policy_victim(&c->pol, &f))
			return -EAGAIN;
		count(reclaim_scans);
		ret = evict_page(t, c, c->frames[f].idx);
		if (!ret) {
			c->pages[c->frames[f].idx].frame = VMP_NIL;
			vmp_policy_evicted(&c->pol, f, c->frames[f].idx);
			frame_release(c, f);
			return 0;
		}
		if (ret != -ENOSPC)
			count(evict_busy);
		dbg("pid %d: evicting page %u: %s", c->pid, c->frames[f].idx,
		    strerror(-ret));
		vmp_policy_putback(&c->pol, f);
		/*
		 * With events waiting (c->nevq) every address is suspect; a
		 * thread not serving @c (the evictor, another client's) met
		 * one still in the kernel and cannot read it: it gives up.
		 */
		if (ret == -ENOSPC || ret == -ESRCH || c->nevq ||
		    (ret == -EAGAIN && serving != c))
			return ret;
	}
	return -EBUSY;
}

int vmpd_cache_flush(struct vmpd_thread *t, struct vmpd_client *c)
{
	return cache_flush(t, c);
}

/*
 * The client holding the most frames, with a reference. The caller holds
 * its own client's lock, which nests inside clients_lock: only a trylock
 * here (NULL if the table is busy; the caller then evicts its own). The
 * evictor, which holds no client lock, uses it too.
 */
struct vmpd_client *vmpd_largest_client(void)
{
	struct vmpd_client *best = NULL, *x;
	uint32_t most = 0, r;
	int i;

	if (pthread_mutex_trylock(&vmpd.clients_lock))
		return NULL;
	for (i = 0; i < VMPD_MAX_CLIENTS; i++) {
		x = vmpd.clients[i];
		if (!x)
			continue;
		r = __atomic_load_n(&x->resident, __ATOMIC_RELAXED);
		if (r > most) {
			most = r;
			best = x;
		}
	}
	if (best)
		__atomic_add_fetch(&best->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&vmpd.clients_lock);
	return best;
}

/*
 * A frame for a page of @c, evicting as needed: from @c when it is at its
 * budget, else (global budget exhausted) from the client holding the most
 * frames. VMP_NIL when nothing could be evicted.
 */
static uint32_t frame_get(struct vmpd_thread *t, struct vmpd_client *c)
{
	struct vmpd_client *d;
	uint32_t m[3], f;
	int tries, ret;

	vmpd_client_marks(c, m);
	if (m[2] != c->pol_reserve) {
		/* the frames kept free are not the policy's to fill */
		vmp_policy_set_reserve(&c->pol, m[2]);
		c->pol_reserve = m[2];
	}
	if (c->resident && vmpd_free_frames(c) < m[0]) {
		/* below min: the evictor is behind; this fault helps */
		count(reclaim_direct);
		count(reclaim_runs);
		evict_one(t, c);
	}
	for (tries = 0; tries < 64; tries++) {
		if (!c->nfree) {
			count(reclaim_direct);
			count(reclaim_runs);
			if (evict_one(t, c))
				break;
			continue;
		}
		if (global_reserve()) {
			__atomic_add_fetch(&c->resident, 1, __ATOMIC_RELAXED);
			f = c->free_frames[--c->nfree];
			if (vmpd_free_frames(c) < m[1])
				vmpd_reclaim_kick();
			return f;
		}
		/* the global budget is spent: another client gives one */
		count(reclaim_direct);
		count(reclaim_runs);
		vmpd_reclaim_kick();
		d = vmpd_largest_client();
		if (d && d != c && !pthread_mutex_trylock(&d->lock)) {
			ret = d->dead ? -ESRCH : evict_one(t, d);
			pthread_mutex_unlock(&d->lock);
			vmpd_client_put(d);
			if (!ret)
				continue;
		} else {
			vmpd_client_put(d);
		}
		if (c->resident && !evict_one(t, c))
			continue;
		usleep(100);
	}
	return VMP_NIL;
}

/* ------------------------------------------------------------------ */
/* Pages leaving for good.                                             */

static void page_forget(struct vmpd_client *c, uint64_t idx, bool punch_it)
{
	struct vmpd_page *p = &c->pages[idx];

	if (p->flags & VMPD_PG_BUSY) {
		/* the evictor holds its frame and buffer: it settles them */
		if (p->slot != VMP_NIL)
			vmp_uswap_free(vmpd.swap, p->slot);
		p->slot = VMP_NIL;
		if (punch_it)
			punch(c, idx);
		return;
	}
	if (p->flags & VMPD_PG_RESIDENT) {
		if (p->frame != VMP_NIL) {
			vmp_policy_remove(&c->pol, p->frame);
			frame_release(c, p->frame);
		} else {
			c->untracked--;
		}
		if (punch_it)
			punch(c, idx);
	}
	if (p->cache != VMP_NIL)
		ce_free(c, p->cache);
	if (p->slot != VMP_NIL)
		vmp_uswap_free(vmpd.swap, p->slot);
	p->frame = p->slot = p->cache = VMP_NIL;
	p->flags = 0;
}

/* ------------------------------------------------------------------ */
/* Faults.                                                             */

int vmpd_send_reply(struct vmpd_client *c, int sock,
		      const struct vmpd_reply *r)
{
	(void)c;
	return send(sock, r, sizeof(*r), MSG_NOSIGNAL | MSG_DONTWAIT) ==
	       sizeof(*r) ? 0 : -errno;
}

static void page_lost(struct vmpd_client *c, uint64_t addr, const char *why)
{
	struct vmpd_reply r = {
		.magic = VMPD_MAGIC, .version = VMPD_VERSION,
		.type = VMPD_LOST, .addr = addr,
	};

	count(lost_pages);
	snprintf(r.text, sizeof(r.text), "%s", why);
	err("pid %d: page %#llx lost: %s", c->pid, (unsigned long long)addr,
	    why);
	if (vmpd_send_reply(c, c->sock, &r))
		err("pid %d: cannot tell the client: %s", c->pid,
		    strerror(errno));
}

/*
 * Read page @idx from its slot, with readahead of the following swapped
 * pages into free cache entries: as many as the window says (at most
 * readahead; fewer when ra_adaptive and the client's faults are not
 * sequential, see module/policy/vmp_ra.h). Called with c->lock held.
 * Returns the buffer holding @idx (a cache entry in *ce, or the thread's
 * bounce page with *ce = VMP_NIL), or NULL after a read error.
 */
static void *swap_in(struct vmpd_thread *t, struct vmpd_client *c,
		     uint64_t idx, uint32_t *ce)
{
	uint32_t ents[VMP_RA_MAX + 1], slots[VMP_RA_MAX + 1];
	uint64_t idxs[VMP_RA_MAX + 1], j;
	void *bufs[VMP_RA_MAX + 1];
	unsigned int ra = vmp_ra_window(&c->ra, idx,
			__atomic_load_n(&vmpd.cfg.readahead, __ATOMIC_RELAXED),
			__atomic_load_n(&vmpd.cfg.ra_adaptive, __ATOMIC_RELAXED));
	int res[VMP_RA_MAX + 1];
	unsigned int n = 0, i;
	void *buf;
	uint32_t e;

	e = cache_get(t, c, true);
	buf = e == VMP_NIL ? t->bounce : ce_buf(c, e);
	ents[0] = e;
	idxs[n++] = idx;
	for (j = idx + 1; j < c->npages && j <= idx + ra; j++) {
		struct vmpd_page *q = &c->pages[j];

		if (q->flags || q->cache != VMP_NIL || q->slot == VMP_NIL)
			break;
		e = cache_get(t, c, false);
		if (e == VMP_NIL)
			break;
		ents[n] = e;
		idxs[n++] = j;
	}
	for (i = 0; i < n; i++) {
		slots[i] = c->pages[idxs[i]].slot;
		bufs[i] = i ? ce_buf(c, ents[i]) : buf;
	}
	swap_rw(t, false, slots, bufs, n, res);
	for (i = 0; i < n; i++)
		res[i] = inject(&vmpd.fail_reads, res[i]);
	for (i = 1; i < n; i++) {
		if (res[i] != (int)PG) {
			count(read_errors);
			ce_free(c, ents[i]);
			continue;
		}
		count(swap_ins);
		count(readahead);
		c->centries[ents[i]].idx = (uint32_t)idxs[i];
		c->centries[ents[i]].flags |= VMPD_CE_RA;
		ce_link_head(c, ents[i]);
		c->pages[idxs[i]].cache = ents[i];
	}
	*ce = ents[0];
	if (res[0] != (int)PG) {
		count(read_errors);
		err("pid %d: swap read of page %llu from slot %u: %s", c->pid,
		    (unsigned long long)idx, c->pages[idx].slot,
		    res[0] < 0 ? strerror(-res[0]) : "short read");
		if (ents[0] != VMP_NIL)
			ce_free(c, ents[0]);
		return NULL;
	}
	count(swap_ins);
	return buf;
}

static const char zero_page[PG] __attribute__((aligned(PG)));

/*
 * UFFDIO_COPY of page @idx found a page already in the memfd, which the
 * daemon did not put there (the map is current: see uffd_ioctl()). A page
 * the daemon holds no copy of (EMPTY) is taken as it is, dirty. Otherwise
 * the daemon's copy (cache entry or slot) is the page's data and may be
 * its only copy: the stray page (a second mapping's zero page, a write(2)
 * to the memfd) is punched and the fill retried once; if one is there
 * again, the copy is kept and the fault only woken. 0 (*dirty set when
 * the page was taken), or -errno with nothing changed.
 */
static int fill_exists(struct vmpd_client *c, uint64_t addr, uint64_t idx,
		       const void *src, bool *dirty)
{
	struct vmpd_page *p = &c->pages[idx];
	int ret;

	if (p->cache == VMP_NIL && p->slot == VMP_NIL) {
		warn("pid %d: page %llu already present at its first fill: taken",
		     c->pid, (unsigned long long)idx);
		*dirty = true;
		return 0;
	}
	err("pid %d: page %llu present in the memfd while its data is in the daemon (a second mapping, a write to the memfd?): replaced by the daemon's copy",
	    c->pid, (unsigned long long)idx);
	ret = punch(c, idx);
	if (!ret)
		ret = uffd_copy(c, addr, src, !*dirty);
	return ret;
}

/*
 * A read fault is usually filled write-protected, so that the page stays
 * clean (its swap copy stays valid) until written, and the first write
 * costs a WP fault: a second round trip to the daemon. A client that
 * writes nearly every page it reads (read-modify-write) pays it on every
 * miss; the kernel would see the PTE dirty bit instead, which a userfaultfd
 * pager cannot. So the daemon guesses: when at least 3/4 of the last
 * VMPD_GUESS_WINDOW write-protected read fills were written while resident,
 * read faults are filled writable and dirty (fill_dirty_guess), except one
 * in VMPD_GUESS_PROBE, whose writes keep the estimate current; below 3/4
 * it stops. A wrong guess costs a write at eviction, never data.
 */
static bool guess_dirty(struct vmpd_client *c)
{
	if (!c->g_dirty ||
	    !__atomic_load_n(&vmpd.cfg.dirty_guess, __ATOMIC_RELAXED))
		return false;
	if (++c->g_probe >= VMPD_GUESS_PROBE) {
		c->g_probe = 0;
		return false;
	}
	return true;
}

/* A read fill stayed clean (@written false), or was written while resident. */
static void guess_account(struct vmpd_client *c, bool written)
{
	if (written) {
		c->g_writes++;
		return;
	}
	if (++c->g_fills < VMPD_GUESS_WINDOW)
		return;
	c->g_dirty = c->g_writes * 4 >= c->g_fills * 3;
	c->g_fills = c->g_writes = 0;
}

/*
 * Serve a missing fault at @addr, page @idx. 0, or -EAGAIN when events
 * were read meanwhile (c->nevq): nothing changed, the caller wakes the
 * faulting thread, which faults again once the events are applied.
 */
static int fault_missing(struct vmpd_thread *t, struct vmpd_client *c,
			 uint64_t addr, uint64_t idx, bool write)
{
	struct vmpd_page *p = &c->pages[idx];
	uint32_t f, e = VMP_NIL;
	const void *src;
	bool dirty = write, ra = false, guessed = false;
	int ret;

	if (p->flags & VMPD_PG_RESIDENT) {
		if (memfd_has_page(c, idx)) {
			/* a duplicate: the fill that raced it woke it */
			count(faults_retry);
			uffd_wake(c, addr, PG);
			return 0;
		}
		/* the client punched it itself (MADV_REMOVE): now zero */
		page_forget(c, idx, false);
	}
	f = frame_get(t, c);
	if (c->nevq) {
		/* an eviction read events: @addr may be another page's now */
		if (f != VMP_NIL)
			frame_release(c, f);
		return -EAGAIN;
	}
	if (p->cache != VMP_NIL) {
		e = p->cache;
		src = ce_buf(c, e);
		dirty |= !!(c->centries[e].flags & VMPD_CE_DIRTY);
		ra = c->centries[e].flags & VMPD_CE_RA;
	} else if (p->slot != VMP_NIL) {
		src = swap_in(t, c, idx, &e);
		if (!src) {
			if (f != VMP_NIL) {
				c->free_frames[c->nfree++] = f;
				__atomic_sub_fetch(&c->resident, 1, __ATOMIC_RELAXED);
				__atomic_sub_fetch(&vmpd.frames_used, 1,
						   __ATOMIC_RELAXED);
			}
			page_lost(c, addr, "swap read failed");
			return 0;
		}
	} else {
		src = zero_page;
	}
	if (!dirty && guess_dirty(c))
		dirty = guessed = true;
	ret = uffd_copy(c, addr, src, !dirty);
	if (ret == -EEXIST)
		ret = fill_exists(c, addr, idx, src, &dirty);
	if (ret) {
		if (f != VMP_NIL)
			frame_release(c, f);
		/* a page read for this fault stays cached, clean */
		if (e != VMP_NIL && p->cache == VMP_NIL) {
			c->centries[e].idx = (uint32_t)idx;
			ce_link_head(c, e);
			p->cache = e;
		}
		dbg("pid %d: UFFDIO_COPY %#llx: %s", c->pid,
		    (unsigned long long)addr, strerror(-ret));
		return ret == -EAGAIN ? -EAGAIN : 0;
	}
	if (p->cache != VMP_NIL) {
		count(faults_minor);
		if (ra) {
			count(readahead_hits);
			vmp_ra_hit(&c->ra);
		}
		ce_free(c, p->cache);
		p->cache = VMP_NIL;
	} else if (p->slot != VMP_NIL) {
		count(faults_major);
		if (e != VMP_NIL)
			ce_free(c, e);
	} else {
		count(faults_zero);
	}
	if (guessed)
		count(fill_dirty_guess);
	else if (!dirty)
		guess_account(c, false);
	if (dirty && p->slot != VMP_NIL) {
		vmp_uswap_free(vmpd.swap, p->slot);
		p->slot = VMP_NIL;
	}
	p->flags = VMPD_PG_RESIDENT | (dirty ? VMPD_PG_DIRTY : VMPD_PG_WP);
	p->frame = f;
	if (f == VMP_NIL) {
		count(frames_over);
		c->untracked++;
		return 0;
	}
	c->frames[f].idx = (uint32_t)idx;
	vmp_policy_insert(&c->pol, f, idx);
	return 0;
}

static void fault_wp(struct vmpd_client *c, uint64_t addr, uint64_t idx)
{
	struct vmpd_page *p = &c->pages[idx];
	int ret;

	count(mkwrite);
	if ((p->flags & (VMPD_PG_RESIDENT | VMPD_PG_WP)) !=
	    (VMPD_PG_RESIDENT | VMPD_PG_WP)) {
		/* evicted meanwhile (it faults again as missing), or done */
		count(faults_retry);
		uffd_wake(c, addr, PG);
		return;
	}
	ret = uffd_wp(c, addr, false);
	if (ret) {
		dbg("pid %d: un-write-protect %#llx: %s", c->pid,
		    (unsigned long long)addr, strerror(-ret));
		uffd_wake(c, addr, PG);
		return;
	}
	p->flags = (p->flags & ~VMPD_PG_WP) | VMPD_PG_DIRTY;
	guess_account(c, true);
	if (p->slot != VMP_NIL) {
		vmp_uswap_free(vmpd.swap, p->slot);
		p->slot = VMP_NIL;
	}
	if (p->frame != VMP_NIL)
		vmp_policy_reference(&c->pol, p->frame);
}

static int event_unmap(struct vmpd_client *c, uint64_t start, uint64_t end)
{
	uint64_t idx, a, lo = UINT64_MAX, hi = 0;
	int i, ret;

	/* the memfd pages mapped in [start, end) */
	for (i = 0; i < c->next; i++) {
		struct vmpd_extent *x = &c->ext[i];
		uint64_t xe = x->start + x->npages * PG, s, e;

		if (xe <= start || x->start >= end)
			continue;
		s = x->start > start ? x->start : start;
		e = xe < end ? xe : end;
		if (x->pgoff + (s - x->start) / PG < lo)
			lo = x->pgoff + (s - x->start) / PG;
		if (x->pgoff + (e - x->start) / PG > hi)
			hi = x->pgoff + (e - x->start) / PG;
	}
	ret = ext_cut(c, start, end, false, 0);
	if (ret)
		return ret;
	for (idx = lo; idx < hi && idx < c->npages; idx++) {
		if (idx_to_addr(c, idx, &a))
			continue;	/* still mapped elsewhere */
		page_forget(c, idx, true);
		c->pages[idx].flags = VMPD_PG_GONE |
				      (c->pages[idx].flags & VMPD_PG_BUSY);
	}
	uffd_wake(c, start, end - start);
	return 0;
}

/*
 * Serve one fault. The address is resolved here, against the map of
 * every event read so far (serve() applies them first): a fault that the
 * client raised before an mremap is served at what the address holds now.
 */
static void handle_fault(struct vmpd_thread *t, struct vmpd_client *c,
			 const struct uffd_msg *m)
{
	uint64_t addr, idx, t0 = vmpd_now_ns();
	int ret = 0;

	addr = m->arg.pagefault.address & ~(uint64_t)(PG - 1);
	if (!addr_to_idx(c, addr, &idx) ||
	    (c->pages[idx].flags & VMPD_PG_GONE)) {
		count(faults_retry);
		dbg("pid %d: fault at %#llx outside the region", c->pid,
		    (unsigned long long)addr);
		uffd_wake(c, addr, PG);
		return;
	}
	if (c->pages[idx].flags & VMPD_PG_BUSY) {
		/* the evictor is copying it out: woken when it is done */
		if (c->ndefer < VMPD_DEFER_MAX) {
			c->defer[c->ndefer++] = addr;
		} else {
			count(faults_retry);
			uffd_wake(c, addr, PG);
		}
		return;
	}
	if (m->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) {
		fault_wp(c, addr, idx);
	} else {
		ret = fault_missing(t, c, addr, idx,
				    m->arg.pagefault.flags &
				    UFFD_PAGEFAULT_FLAG_WRITE);
		if (ret != -EAGAIN)	/* else counted when it comes back */
			count(faults);
	}
	if (ret == -EAGAIN) {
		/* events came in: it faults again, to be resolved anew */
		count(faults_retry);
		uffd_wake(c, addr, PG);
		return;
	}
	vmpd_hist_add(vmpd_now_ns() - t0);
}

/*
 * Apply one event. 0, or -ENOMEM when the address map could not follow
 * it: the region can no longer be served (the caller drops the client).
 */
static int handle_event(struct vmpd_client *c, const struct uffd_msg *m)
{
	int ret = 0;

	switch (m->event) {
	case UFFD_EVENT_REMOVE:
		/*
		 * MADV_DONTNEED/MADV_REMOVE. On a MAP_SHARED memfd DONTNEED
		 * keeps the data, so nothing changes; a page REMOVE really
		 * freed faults as missing and is found absent then.
		 */
		count(events_remove);
		dbg("pid %d: REMOVE %#llx-%#llx", c->pid,
		    (unsigned long long)m->arg.remove.start,
		    (unsigned long long)m->arg.remove.end);
		break;
	case UFFD_EVENT_UNMAP:
		count(events_unmap);
		dbg("pid %d: UNMAP %#llx-%#llx", c->pid,
		    (unsigned long long)m->arg.remove.start,
		    (unsigned long long)m->arg.remove.end);
		ret = event_unmap(c, m->arg.remove.start, m->arg.remove.end);
		break;
	case UFFD_EVENT_REMAP:
		count(events_remap);
		dbg("pid %d: REMAP %#llx -> %#llx (%llu bytes)", c->pid,
		    (unsigned long long)m->arg.remap.from,
		    (unsigned long long)m->arg.remap.to,
		    (unsigned long long)m->arg.remap.len);
		ret = ext_cut(c, m->arg.remap.from,
			      m->arg.remap.from + m->arg.remap.len, true,
			      (int64_t)(m->arg.remap.to - m->arg.remap.from));
		uffd_wake(c, m->arg.remap.from, m->arg.remap.len);
		uffd_wake(c, m->arg.remap.to, m->arg.remap.len);
		break;
	default:
		warn("pid %d: unexpected userfaultfd event %u", c->pid, m->event);
		break;
	}
	return ret;
}


/*
 * Serve every queued message of @c. Events first, in order, whenever
 * there are any: the kernel's address space is past every event read,
 * so no fault may be resolved with the map from before one (the race of
 * an mremap inside the region with a fill or an eviction, closed here
 * and in uffd_ioctl()). Both queues are empty when this returns (else
 * the messages already read would wait for the next epoll wake-up).
 */
static void serve(struct vmpd_thread *t, struct vmpd_client *c)
{
	bool lost = false;
	struct uffd_msg m;
	int rounds = 0, i, r;

	pthread_mutex_lock(&c->lock);
	serving = c;
	while (!c->dead && !lost) {
		if (c->nevq) {
			for (i = 0; i < c->nevq && !lost; i++)
				lost = handle_event(c, &c->evq[i]) != 0;
			c->nevq = 0;
			continue;
		}
		if (!c->npend) {
			if (rounds++ >= 16)	/* let other clients in */
				break;
			r = read_msgs(c);
			if (r <= 0) {
				if (r < 0 && r != -EAGAIN && r != -EINTR)
					warn("pid %d: reading userfaultfd: %s",
					     c->pid, strerror(-r));
				break;
			}
			continue;
		}
		m = c->pend[c->phead];
		c->phead = (c->phead + 1) % VMPD_PEND_MAX;
		c->npend--;
		handle_fault(t, c, &m);
	}
	serving = NULL;
	pthread_mutex_unlock(&c->lock);
	if (lost) {
		/*
		 * The map no longer says where the region's pages are: a
		 * fault there would be woken for ever, or filled with another
		 * page's data. The client is dropped (outside c->lock, which
		 * nests inside clients_lock): its library sees the socket
		 * close and makes the region SIGBUS.
		 */
		err("pid %d: out of memory following an unmap or mremap of the region: its address map is lost; dropping the client",
		    c->pid);
		vmpd_client_kill(c, "address map lost (out of memory)");
	}
}

/* ------------------------------------------------------------------ */
/* Client life.                                                        */

void vmpd_ep_arm(int fd, struct vmpd_client *c, int tag, uint32_t events,
		   int op)
{
	struct epoll_event ev = {
		.events = events | EPOLLONESHOT,
		.data.u64 = (uint64_t)c->serial << 32 | (uint64_t)c->slot << 8 |
			    (uint64_t)tag,
	};

	if (epoll_ctl(vmpd.epfd, op, fd, &ev) && errno != ENOENT)
		err("epoll_ctl(%d): %s", fd, strerror(errno));
}

/* Give the client's cache buffers back to the arena. */
void vmpd_client_arena_give(struct vmpd_client *c)
{
	uint32_t i, *bufs;

	if (!c->arena_held)
		return;
	bufs = malloc(c->ncache * sizeof(*bufs));
	if (!bufs) {
		err("out of memory: %u cache pages not returned", c->ncache);
		return;
	}
	for (i = 0; i < c->ncache; i++)
		bufs[i] = c->centries[i].buf;
	arena_give(c->ncache, bufs);
	free(bufs);
	c->arena_held = false;
}

void vmpd_client_kill(struct vmpd_client *c, const char *why)
{
	struct vmp_policy_stats *g = &vmpd.gone_pol;
	uint64_t idx, swapped = 0;

	pthread_mutex_lock(&vmpd.clients_lock);
	if (vmpd.clients[c->slot] != c) {
		pthread_mutex_unlock(&vmpd.clients_lock);
		return;
	}
	vmpd.clients[c->slot] = NULL;
	vmpd.nclients--;
	pthread_mutex_lock(&c->lock);
	c->dead = true;
	/* pairs with the arming under c->lock in accept_one() */
	epoll_ctl(vmpd.epfd, EPOLL_CTL_DEL, c->uffd, NULL);
	epoll_ctl(vmpd.epfd, EPOLL_CTL_DEL, c->sock, NULL);
	if (c->pidfd >= 0)
		epoll_ctl(vmpd.epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
	for (idx = 0; idx < c->npages; idx++) {
		if (c->pages[idx].slot != VMP_NIL) {
			vmp_uswap_free(vmpd.swap, c->pages[idx].slot);
			swapped++;
		}
	}
	__atomic_sub_fetch(&vmpd.frames_used, c->resident, __ATOMIC_RELAXED);
	c->resident = 0;
	/* an evictor batch in flight reads into them: it gives them back */
	if (!c->evicting)
		vmpd_client_arena_give(c);
	else if (c->arena_held)
		__atomic_add_fetch(&vmpd.arena_pending, c->ncache,
				   __ATOMIC_RELAXED);
	vmp_policy_stats_add(g, &c->pol.stats);
	vmp_policy_stats_add(g, &c->pol_base);
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&vmpd.clients_lock);
	count(clients_exited);
	info("client pid %d: %s; %llu swap slots freed", c->pid, why,
	     (unsigned long long)swapped);
	vmpd_client_put(c);	/* the table's reference */
}

static void client_sock_event(struct vmpd_client *c)
{
	char buf[64];
	ssize_t n;

	n = recv(c->sock, buf, sizeof(buf), MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		vmpd_client_kill(c, "connection closed");
		return;
	}
	if (n > 0)
		warn("pid %d: unexpected %zd bytes on the socket", c->pid, n);
	vmpd_ep_arm(c->sock, c, VMPD_EP_SOCK, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
}

/*
 * poll_us: a client that faults again soon after its last fault was served
 * (a sequential or random reader) finds this thread still watching its
 * userfaultfd, not asleep in epoll_wait(): the wake-up of a sleeping thread
 * is part of every fault's round trip otherwise. Without c->lock, yielding
 * the CPU between looks (the evictor and the client may need it).
 */
static void serve_polling(struct vmpd_thread *t, struct vmpd_client *c)
{
	unsigned int us = __atomic_load_n(&vmpd.cfg.poll_us, __ATOMIC_RELAXED);
	struct pollfd pfd = { .fd = c->uffd, .events = POLLIN };
	uint64_t until;

	if (!us)
		return;
	until = vmpd_now_ns() + (uint64_t)us * 1000;
	while (!vmpd.stop && !__atomic_load_n(&c->dead, __ATOMIC_RELAXED) &&
	       vmpd_now_ns() < until) {
		if (poll(&pfd, 1, 0) > 0) {
			serve(t, c);
			until = vmpd_now_ns() + (uint64_t)us * 1000;
			continue;
		}
		sched_yield();
	}
}

void vmpd_client_event(struct vmpd_thread *t, uint64_t data)
{
	struct vmpd_client *c = vmpd_client_get((data >> 8) & 0xffffff);
	int tag = data & 0xff;

	if (!c)
		return;
	if (c->serial != (uint32_t)(data >> 32)) {
		/* the client this event was for is gone; the slot has a new one */
		count(events_stale);
		vmpd_client_put(c);
		return;
	}
	switch (tag) {
	case VMPD_EP_UFFD:
		serve(t, c);
		serve_polling(t, c);
		vmpd_ep_arm(c->uffd, c, VMPD_EP_UFFD, EPOLLIN, EPOLL_CTL_MOD);
		break;
	case VMPD_EP_SOCK:
		client_sock_event(c);
		break;
	case VMPD_EP_PIDFD:
		vmpd_client_kill(c, "process exited");
		break;
	}
	vmpd_client_put(c);
}

/* ------------------------------------------------------------------ */
/* Policy switch and statistics.                                       */

int vmpd_policy_switch(int kind)
{
	struct vmpd_client *c;
	int i, ret = 0;

	pthread_mutex_lock(&vmpd.policy_lock);
	__atomic_store_n(&vmpd.policy, kind, __ATOMIC_RELAXED);
	for (i = 0; i < VMPD_MAX_CLIENTS; i++) {
		struct vmp_policy old;
		size_t bytes;
		void *mem;
		uint32_t f;

		c = vmpd_client_get(i);
		if (!c)
			continue;
		pthread_mutex_lock(&c->lock);
		while (c->evicting) {
			/* its victims are detached from the policy until it is done */
			pthread_mutex_unlock(&c->lock);
			usleep(100);
			pthread_mutex_lock(&c->lock);
		}
		bytes = vmp_policy_mem_size(kind, c->budget);
		mem = bytes ? malloc(bytes) : NULL;
		if (c->dead || (bytes && !mem)) {
			if (!c->dead)
				ret = -ENOMEM;
			free(mem);
			goto next;
		}
		old = c->pol;
		if (vmp_policy_init(&c->pol, kind, c->budget, &c->frames[0].pn,
				    sizeof(struct vmpd_frame), mem)) {
			c->pol = old;
			free(mem);
			ret = -EINVAL;
			goto next;
		}
		vmp_policy_set_reserve(&c->pol, c->pol_reserve);
		vmp_policy_stats_add(&c->pol_base, &old.stats);
		/* coldest first, so the hottest end up at the hot end */
		while (!vmp_policy_drain(&old, &f))
			vmp_policy_insert(&c->pol, f, c->frames[f].idx);
		free(c->pol_mem);
		c->pol_mem = mem;
next:
		pthread_mutex_unlock(&c->lock);
		vmpd_client_put(c);
	}
	pthread_mutex_unlock(&vmpd.policy_lock);
	return ret;
}

/*
 * Sum of every client's policy counters, exited ones included. Under
 * clients_lock throughout, so a client leaving the table (its counters
 * moving into gone_pol) is counted exactly once.
 */
void vmpd_policy_stats(struct vmp_policy_stats *out)
{
	struct vmpd_client *c;
	int i;

	pthread_mutex_lock(&vmpd.clients_lock);
	*out = vmpd.gone_pol;
	for (i = 0; i < VMPD_MAX_CLIENTS; i++) {
		c = vmpd.clients[i];
		if (!c)
			continue;
		pthread_mutex_lock(&c->lock);
		vmp_policy_stats_add(out, &c->pol.stats);
		vmp_policy_stats_add(out, &c->pol_base);
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&vmpd.clients_lock);
}

/* Pages whose data is only in swap or the cache (call with c->lock). */
uint64_t vmpd_client_swapped(struct vmpd_client *c)
{
	uint64_t idx, n = 0;

	for (idx = 0; idx < c->npages; idx++)
		if (!(c->pages[idx].flags & VMPD_PG_RESIDENT) &&
		    (c->pages[idx].slot != VMP_NIL ||
		     c->pages[idx].cache != VMP_NIL))
			n++;
	return n;
}
