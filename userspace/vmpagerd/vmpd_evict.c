// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerd eviction and the frame budget. A fault takes a frame with
 * frame_get(), which evicts as needed: from its own client at its budget,
 * else (the global budget spent) from the client holding the most frames.
 * The evictor (vmpd_reclaim.c) evicts in batches: vmpd_evict_batch().
 *
 * All with the client's lock held. The evictor's evict_batch() lets go of
 * it while it copies out and punches its victims (VMPD_PG_BUSY,
 * c->evicting); a fault's direct reclaim batch keeps it. A thread
 * holding a client's lock takes clients_lock and other clients' locks only
 * with pthread_mutex_trylock (vmpd_largest_client(), frame_get()), never
 * waiting on them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vmpd.h"

#define PG	VMPD_PAGE

/* ------------------------------------------------------------------ */
/* Frames: a client's budget, within the global one.                   */

bool vmpd_frame_reserve(void)
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

void frame_release(struct vmpd_client *c, uint32_t f)
{
	c->free_frames[c->nfree++] = f;
	__atomic_sub_fetch(&c->resident, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&vmpd.frames_used, 1, __ATOMIC_RELAXED);
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
		ce_hold(c, e, idx, dirty ? VMPD_CE_DIRTY : 0);
		count(evict_soft);
	} else if (p->slot == VMP_NIL && c->filefd < 0) {
		count(evict_zero);
	} else {	/* in its slot, or in the region's file */
		count(evict_clean);
	}
	if (dirty)
		page_slot_drop(p);	/* a stale copy */
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
		ce_stage(c, e, idx, true);	/* what a restart finds */
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
	if (e != VMP_NIL)
		ce_stage(c, e, idx, false);
	/* our punch: a restart must not take the hole for the client's */
	p->flags |= VMPD_PG_BUSY;
	ret = punch(c, idx);
	if (ret) {
		p->flags &= ~VMPD_PG_BUSY;
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
 *
 * With @unlock (the evictor) the copy-out and the punch run without
 * c->lock; a fault needing a frame (direct reclaim, frame_get()) keeps it
 * throughout, as its fault's state must not change under it.
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

/*
 * A file-backed region's dirty victim @v whose page left the client while
 * it was being evicted (the client died: vmpd_client_kill() left it to us;
 * or it was unmapped): its data is in its cache entry, or, if the copy-out
 * failed, still in the memfd. To the file.
 */
static void dead_write_back(struct vmpd_client *c, const struct victim *v)
{
	static __thread char buf[PG] __attribute__((aligned(64)));

	if (v->ok && v->e != VMP_NIL)
		file_write_page(c, v->idx, ce_buf(c, v->e));
	else if (!v->ok &&
		 pread(c->memfd, buf, PG, (off_t)(v->idx * PG)) == PG)
		file_write_page(c, v->idx, buf);
}

static unsigned int evict_batch(struct vmpd_thread *t, struct vmpd_client *c,
				unsigned int want, bool unlock)
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
	busy &= unlock;
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
		for (k = i; k < j; k++)
			if (v[k].ok)
				ce_stage(c, v[k].e, v[k].idx, v[k].dirty);
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
		/* a file-backed region's dirty victims: only here now */
		for (i = 0; c->filefd >= 0 && i < n; i++)
			if (v[i].dirty)
				dead_write_back(c, &v[i]);
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
			if (c->filefd >= 0 && v[i].dirty) {
				/* its changes go to the file, as on munmap(2) */
				dead_write_back(c, &v[i]);
				if (!v[i].ok)
					punch(c, v[i].idx);
			}
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

/*
 * With c->lock held: wait, the lock dropped meanwhile, until no evictor
 * batch of @c is in flight (c->evicting; a batch clears it even when @c
 * died meanwhile). The hold keeps
 * the evictor from starting another batch on @c meanwhile: polling alone
 * could miss the short gaps between its batches for a long time (a fork
 * request once went unanswered for over 10 s that way on a loaded guest).
 */
void vmpd_evictor_wait(struct vmpd_client *c)
{
	c->evict_hold++;
	while (c->evicting) {
		pthread_mutex_unlock(&c->lock);
		usleep(200);
		pthread_mutex_lock(&c->lock);
	}
	c->evict_hold--;
}

unsigned int vmpd_evict_batch(struct vmpd_thread *t, struct vmpd_client *c,
			      unsigned int want, bool unlock)
{
	return evict_batch(t, c, want, unlock);
}

/*
 * Called by ring_run() (t->overlap) once a fault's swap reads are out,
 * c->lock held: the serving thread evicts for the fault's client up to the
 * high watermark while the device works. That is the batch it would
 * otherwise run after this fault, while it waits for the next one
 * (idle_reclaim() in vmpd_client.c), where the next fault could find it
 * busy; here the thread has nothing else to do. Only as many victims as the
 * cache has free entries, so that no victim needs a write-back (the ring is
 * the read's until it completes: t->overlapping makes cache_get() take no
 * I/O), and at most VMPD_OVERLAP_MAX, about what one read hides.
 */
#define VMPD_OVERLAP_MAX	8

void vmpd_evict_overlap(struct vmpd_thread *t, struct vmpd_client *c)
{
	struct vmpd_client *saved;
	uint32_t m[3], f, want;

	if (c->dead || !c->resident)
		return;
	vmpd_client_marks(c, m);
	f = vmpd_free_frames(c);
	if (f >= m[2])
		return;
	want = m[2] - f;
	if (want > c->ncfree)
		want = c->ncfree;
	if (want > VMPD_OVERLAP_MAX)
		want = VMPD_OVERLAP_MAX;
	if (!want)
		return;
	/*
	 * Not as the serving thread: a victim whose ioctl meets a pending
	 * event is given back (uffd_ioctl() drains events only for the
	 * client served), so no event is read here that the caller (the
	 * fault, read_queued()) would not apply before the next fault; the
	 * fault's own UFFDIO_COPY then meets it and is retried.
	 */
	saved = serving;
	serving = NULL;
	t->overlapping = true;
	if (evict_batch(t, c, want, false))
		count(reclaim_overlap);
	t->overlapping = false;
	serving = saved;
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

/* Evict resident page @idx now (VMPD_DONTNEED): 0, or -errno. */
int vmpd_evict_idx(struct vmpd_thread *t, struct vmpd_client *c, uint64_t idx)
{
	struct vmpd_page *p = &c->pages[idx];
	uint32_t f = p->frame;
	int ret;

	if (!(p->flags & VMPD_PG_RESIDENT) || (p->flags & VMPD_PG_BUSY))
		return -ENOENT;
	ret = evict_page(t, c, idx);
	if (ret)
		return ret;
	if (f == VMP_NIL) {
		c->untracked--;
		return 0;
	}
	p->frame = VMP_NIL;
	vmp_policy_remove(&c->pol, f);
	frame_release(c, f);
	return 0;
}

/*
 * Pages resident beyond the budget (frames_over: a fault that found no
 * frame, a restart's or a fork's surplus) hold no frame, so no policy
 * offers them: up to @want of them are evicted here, in index order from
 * where the last call stopped. Returns how many.
 */
unsigned int vmpd_evict_untracked(struct vmpd_thread *t, struct vmpd_client *c,
				  unsigned int want)
{
	uint64_t i, idx = c->ucursor;
	unsigned int done = 0;
	int ret;

	for (i = 0; i < c->npages && c->untracked && done < want; i++) {
		struct vmpd_page *p;

		idx = (c->ucursor + i) % c->npages;
		p = &c->pages[idx];
		if (!(p->flags & VMPD_PG_RESIDENT) || p->frame != VMP_NIL ||
		    (p->flags & VMPD_PG_BUSY))
			continue;
		ret = evict_page(t, c, idx);
		/* no swap, an event pending, the client gone: not now */
		if (ret == -ENOSPC || ret == -EAGAIN || ret == -ESRCH ||
		    c->nevq)
			break;
		if (!ret) {
			c->untracked--;
			done++;
		}
	}
	c->ucursor = (idx + 1) % c->npages;
	return done;
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
uint32_t frame_get(struct vmpd_thread *t, struct vmpd_client *c)
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
		/* below min: the evictor is behind; this fault helps, up to low */
		count(reclaim_direct);
		count(reclaim_runs);
		evict_batch(t, c, m[1] - vmpd_free_frames(c), false);
	}
	for (tries = 0; tries < 64; tries++) {
		if (!c->nfree) {
			count(reclaim_direct);
			count(reclaim_runs);
			if (evict_one(t, c))
				break;
			continue;
		}
		if (vmpd_frame_reserve()) {
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

/*
 * A frame for a page mapped around a fault (vmpd_fault.c): one already
 * free, never an eviction, and none that would leave fewer than the min
 * watermark @m[0] (+1, so the next fault has one) free. VMP_NIL otherwise.
 */
uint32_t frame_try(struct vmpd_client *c, const uint32_t m[3])
{
	uint32_t f;

	if (!c->nfree || vmpd_free_frames(c) <= m[0] + 1 || !vmpd_frame_reserve())
		return VMP_NIL;
	__atomic_add_fetch(&c->resident, 1, __ATOMIC_RELAXED);
	f = c->free_frames[--c->nfree];
	if (vmpd_free_frames(c) < m[1])
		vmpd_reclaim_kick();
	return f;
}
