// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerd fault service: serve() reads a client's userfaultfd messages and
 * serves them, one thread at a time (the uffd is armed EPOLLONESHOT). A
 * missing fault is filled from the soft-eviction cache, by a swap read with
 * readahead, or with zeroes; a WP fault makes a clean page dirty; events
 * (REMOVE, UNMAP, REMAP) reach the address map before any queued fault is
 * served. serve() takes the client's lock; everything else here runs under
 * it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmpd.h"

#define PG	VMPD_PAGE

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

/* Is there data at page @idx of the memfd (SEEK_DATA never allocates)? */
static bool memfd_has_page(struct vmpd_client *c, uint64_t idx)
{
	off_t off = lseek(c->memfd, (off_t)(idx * PG), SEEK_DATA);

	return off == (off_t)(idx * PG);
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
void serve(struct vmpd_thread *t, struct vmpd_client *c)
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
