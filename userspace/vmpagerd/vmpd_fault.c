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
		page_slot_drop(p);
		/*
		 * A file-backed region's page is being copied out: punching it
		 * now could hand the copy a hole; the evictor punches it after
		 * its copy and writes it back (evict_batch(), GONE).
		 */
		if (punch_it && c->filefd < 0)
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
	page_slot_drop(p);
	p->frame = p->cache = VMP_NIL;
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
 * pages into free cache entries: @ra of them at most (the window,
 * around_window()). Called with c->lock held.
 * Returns the buffer holding @idx (a cache entry in *ce, or the thread's
 * bounce page with *ce = VMP_NIL), or NULL after a read error.
 */
static void swap_read_error(struct vmpd_client *c, uint64_t idx, int res)
{
	count(read_errors);
	err("pid %d: swap read of page %llu from slot %u: %s", c->pid,
	    (unsigned long long)idx, c->pages[idx].slot,
	    res < 0 ? strerror(-res) : "short read");
}

static void *swap_in(struct vmpd_thread *t, struct vmpd_client *c,
		     uint64_t idx, unsigned int ra, uint32_t *ce)
{
	uint32_t ents[VMP_RA_MAX + 1], slots[VMP_RA_MAX + 1];
	uint64_t idxs[VMP_RA_MAX + 1], j;
	void *bufs[VMP_RA_MAX + 1];
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
	/* evict while they are read (after cache_get(): a flush is no read) */
	t->overlap = c;
	swap_rw(t, false, slots, bufs, n, res);
	t->overlap = NULL;
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
		ce_hold(c, ents[i], idxs[i], VMPD_CE_RA);
	}
	*ce = ents[0];
	if (res[0] != (int)PG) {
		swap_read_error(c, idx, res[0]);
		if (ents[0] != VMP_NIL)
			ce_free(c, ents[0]);
		return NULL;
	}
	count(swap_ins);
	return buf;
}

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

/* ------------------------------------------------------------------ */
/* Fault-around.                                                       */
/*                                                                     */
/* A fault on a never-touched page (the zero kind) or on a swapped one */
/* (the swap kind) maps the pages after it too, with the same          */
/* UFFDIO_COPY, so that a sequential pass costs one fault per run of   */
/* pages instead of one per page: at most fault_around pages, as many  */
/* as the kind's window says (vmp_ra.h: c->zra for the zero kind, at   */
/* most fault_around; c->ra for the swap kind, at most readahead). A   */
/* mapped page never faults, so its use is inferred: the kind's next   */
/* fault right after the run counts each page of the run as a hit,     */
/* which grows the window, while a random pattern shrinks it to        */
/* nothing within a few faults. A page joins the run only while it is  */
/* of the same kind, the next page in the client's address space too,  */
/* and a frame is free for it without an eviction (frame_try()). The   */
/* run of a swap fault is read with it, in one request per run of      */
/* slots, into the thread's run buffer.                                */

struct around {
	bool swap;			/* the kind: swapped, else never touched */
	unsigned int n;			/* pages planned after the faulting one */
	uint32_t f[VMP_RA_MAX];		/* their frames */
};

static const char zero_run[VMPD_RUN_PAGES * PG] __attribute__((aligned(PG)));

/* The window for a fault of kind @swap at @idx, after the last run's hits. */
static unsigned int around_window(struct vmpd_client *c, uint64_t idx,
				  bool swap)
{
	struct vmp_ra *ra = swap ? &c->ra : &c->zra;
	uint64_t *next = swap ? &c->ra_next : &c->zra_next;
	uint32_t *len = swap ? &c->ra_len : &c->zra_len;
	unsigned int max, i;

	if (idx == *next && *len) {
		for (i = 0; i < *len; i++)
			vmp_ra_hit(ra);
		count_n(fault_around_hits, *len);
		if (swap)
			count_n(readahead_hits, *len);
	}
	*next = VMP_RA_NONE;
	*len = 0;
	max = __atomic_load_n(swap ? &vmpd.cfg.readahead :
			      &vmpd.cfg.fault_around, __ATOMIC_RELAXED);
	return vmp_ra_window(ra, idx, max,
			     __atomic_load_n(&vmpd.cfg.ra_adaptive,
					     __ATOMIC_RELAXED));
}

/* Plan up to @w pages after @idx (mapped at @addr) into @a, with frames. */
static void around_plan(struct vmpd_client *c, uint64_t addr, uint64_t idx,
			unsigned int w, struct around *a)
{
	uint64_t j, at;
	uint32_t m[3], f;

	/*
	 * A run must not push itself out before it is used. Its frames come
	 * from those the evictor keeps free, and the evictor takes them back
	 * at once, oldest first, from the pages a policy holds for newcomers:
	 * LIRS's HIR share, 1% of the budget, is the smallest such set. So
	 * when the region does not fit, a run is at most budget / 256 pages
	 * (at least 1), well inside that share: 16 from a budget of 16 MiB.
	 */
	if (c->budget < c->npages && w > c->budget / 256)
		w = c->budget < 512 ? 1 : c->budget / 256;
	if (!w)
		return;
	vmpd_client_marks(c, m);
	for (j = idx + 1; j < c->npages && j <= idx + w; j++) {
		struct vmpd_page *q = &c->pages[j];

		if (q->flags || q->cache != VMP_NIL ||
		    (q->slot != VMP_NIL) != a->swap)
			break;
		if (!idx_to_addr(c, j, &at) || at != addr + (j - idx) * PG)
			break;
		f = frame_try(c, m);
		if (f == VMP_NIL)
			break;
		a->f[a->n++] = f;
	}
}

/* Give back the frames of the planned pages from the @keep-th on. */
static void around_trim(struct vmpd_client *c, struct around *a,
			unsigned int keep)
{
	while (a->n > keep)
		frame_release(c, a->f[--a->n]);
}

/*
 * Read page @idx and its run (a->n swapped pages after it) into the
 * thread's run buffer. The run ends before its first page that failed.
 * The buffer, or NULL (run given back) when @idx itself failed.
 */
static void *around_read(struct vmpd_thread *t, struct vmpd_client *c,
			 uint64_t idx, struct around *a)
{
	uint32_t slots[VMPD_RUN_PAGES];
	void *bufs[VMPD_RUN_PAGES];
	int res[VMPD_RUN_PAGES];
	unsigned int i;

	for (i = 0; i <= a->n; i++) {
		slots[i] = c->pages[idx + i].slot;
		bufs[i] = (char *)t->runbuf + i * PG;
	}
	t->overlap = c;		/* evict while it is read */
	swap_rw(t, false, slots, bufs, a->n + 1, res);
	t->overlap = NULL;
	for (i = 0; i <= a->n; i++)
		res[i] = inject(&vmpd.fail_reads, res[i]);
	for (i = 1; i <= a->n && res[i] == (int)PG; i++)
		;
	if (i <= a->n)
		swap_read_error(c, idx + i, res[i]);
	around_trim(c, a, i - 1);
	if (res[0] != (int)PG) {
		swap_read_error(c, idx, res[0]);
		around_trim(c, a, 0);
		return NULL;
	}
	count(swap_ins);
	return t->runbuf;
}

/*
 * The first @k planned pages after @idx were filled (@dirty: writable):
 * they are resident now, the rest of the run gives its frames back.
 */
static void around_settle(struct vmpd_client *c, uint64_t idx,
			  struct around *a, unsigned int k, bool dirty)
{
	unsigned int i;

	for (i = 0; i < k && i < a->n; i++) {
		struct vmpd_page *q = &c->pages[idx + 1 + i];

		q->flags = VMPD_PG_RESIDENT |
			   (dirty ? VMPD_PG_DIRTY : VMPD_PG_WP);
		q->frame = a->f[i];
		c->frames[a->f[i]].idx = (uint32_t)(idx + 1 + i);
		vmp_policy_insert(&c->pol, a->f[i], idx + 1 + i);
		if (a->swap) {
			count(swap_ins);
			count(readahead);
			if (dirty)
				page_slot_drop(q);
		}
		if (!dirty)
			guess_account(c, false);
	}
	count_n(fault_around, i);
	if (i) {
		*(a->swap ? &c->ra_next : &c->zra_next) = idx + 1 + i;
		*(a->swap ? &c->ra_len : &c->zra_len) = i;
	}
	/* frames of pages not filled go back; those settled above stay */
	around_trim(c, a, i);
	a->n = 0;
}


/*
 * Serve a missing fault at @addr, page @idx, and map its fault-around run
 * with it. 0, or -EAGAIN when events were read meanwhile (c->nevq):
 * nothing changed, the caller wakes the faulting thread, which faults
 * again once the events are applied.
 */
static int fault_missing(struct vmpd_thread *t, struct vmpd_client *c,
			 uint64_t addr, uint64_t idx, bool write)
{
	struct vmpd_page *p = &c->pages[idx];
	struct around a = { .n = 0 };
	unsigned int fa, w, done = 0;
	uint32_t f, e = VMP_NIL;
	const char *src, *why = NULL;
	bool dirty = write, rest_dirty, ra = false, guessed = false;
	uint64_t t0;
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
	fa = __atomic_load_n(&vmpd.cfg.fault_around, __ATOMIC_RELAXED);
	if (p->cache != VMP_NIL) {
		e = p->cache;
		src = ce_buf(c, e);
		dirty |= !!(c->centries[e].flags & VMPD_CE_DIRTY);
		ra = c->centries[e].flags & VMPD_CE_RA;
	} else if (p->slot != VMP_NIL) {
		a.swap = true;
		w = around_window(c, idx, true);
		if (f != VMP_NIL && fa)
			around_plan(c, addr, idx, w < fa ? w : fa, &a);
		t0 = vmpd_now_ns();
		if (a.n)
			src = around_read(t, c, idx, &a);
		else
			src = swap_in(t, c, idx, w, &e);
		count_n(fault_read_ns, vmpd_now_ns() - t0);
		why = "swap read failed";
	} else if (c->filefd >= 0) {
		/* a file-backed region's page: the file's bytes, one page */
		t0 = vmpd_now_ns();
		src = file_read_page(t, c, idx);
		count_n(fault_read_ns, vmpd_now_ns() - t0);
		why = "read from the region's file failed";
	} else {
		if (fa && f != VMP_NIL)
			around_plan(c, addr, idx, around_window(c, idx, false),
				    &a);
		src = zero_run;
	}
	if (!src) {
		if (f != VMP_NIL)
			frame_release(c, f);
		page_lost(c, addr, why);
		return 0;
	}
	if (!dirty && !c->file_ro && guess_dirty(c))
		dirty = guessed = true;
	/* the run is filled like its first page, but a swapped run as read */
	rest_dirty = a.swap ? guessed : dirty;
	t0 = vmpd_now_ns();
	if (a.n && rest_dirty == dirty) {
		ret = uffd_copy_run(c, addr, src, a.n + 1, !dirty, &done);
		if (done) {
			ret = 0;	/* the faulting page is in */
			done--;
		} else if (ret && ret != -EAGAIN && ret != -EEXIST) {
			/*
			 * Nothing filled: the run may cross into another
			 * mapping of the region (an mprotect() split it; a copy
			 * must stay in one VMA: ENOENT). The page alone.
			 */
			around_trim(c, &a, 0);
			ret = uffd_copy(c, addr, src, !dirty);
		}
	} else {
		ret = uffd_copy(c, addr, src, !dirty);
		if (!ret && a.n)
			uffd_copy_run(c, addr + PG, src + PG, a.n, !rest_dirty,
				      &done);
	}
	if (ret == -EEXIST)
		ret = fill_exists(c, addr, idx, src, &dirty);
	count_n(fault_fill_ns, vmpd_now_ns() - t0);
	if (ret) {
		around_trim(c, &a, 0);
		if (f != VMP_NIL)
			frame_release(c, f);
		/* a page read for this fault stays cached, clean */
		if (e != VMP_NIL && p->cache == VMP_NIL)
			ce_hold(c, e, idx, 0);
		dbg("pid %d: UFFDIO_COPY %#llx: %s", c->pid,
		    (unsigned long long)addr, strerror(-ret));
		return ret == -EAGAIN ? -EAGAIN : 0;
	}
	if (p->cache != VMP_NIL) {
		if (c->centries[p->cache].flags & VMPD_CE_BATCH)
			count(faults_major);	/* read for it, in a batch */
		else
			count(faults_minor);
		if (ra) {
			count(readahead_hits);
			vmp_ra_hit(&c->ra);
		}
		ce_free(c, p->cache);
		p->cache = VMP_NIL;
	} else if (p->slot != VMP_NIL || c->filefd >= 0) {
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
	if (dirty)
		page_slot_drop(p);
	p->flags = VMPD_PG_RESIDENT | (dirty ? VMPD_PG_DIRTY : VMPD_PG_WP);
	p->frame = f;
	if (f == VMP_NIL) {
		count(frames_over);
		c->untracked++;
		return 0;
	}
	c->frames[f].idx = (uint32_t)idx;
	vmp_policy_insert(&c->pol, f, idx);
	around_settle(c, idx, &a, done, rest_dirty);
	return 0;
}

static void fault_wp(struct vmpd_client *c, uint64_t addr, uint64_t idx)
{
	struct vmpd_page *p = &c->pages[idx];
	int ret;

	count(mkwrite);
	if (!(p->flags & VMPD_PG_RESIDENT)) {
		/* evicted meanwhile: it faults again as missing */
		count(faults_retry);
		uffd_wake(c, addr, PG);
		return;
	}
	if (!(p->flags & VMPD_PG_WP)) {
		/*
		 * Dirty already: a duplicate, a lift that met a pending event,
		 * or a page recovered after a restart whose mapping is still
		 * protected (vmpd_state.c). Lift it (that wakes the fault).
		 */
		count(faults_retry);
		if (uffd_wp(c, addr, false))
			uffd_wake(c, addr, PG);
		return;
	}
	/*
	 * Dirty before the protection goes, and the slot's copy stale: a
	 * daemon that dies in between leaves a page that a restart treats
	 * as dirty, never one written behind a slot it trusts.
	 */
	page_make_dirty(p);
	guess_account(c, true);
	ret = uffd_wp(c, addr, false);
	if (ret) {
		/* still protected: its next WP fault lifts it (above) */
		dbg("pid %d: un-write-protect %#llx: %s", c->pid,
		    (unsigned long long)addr, strerror(-ret));
		uffd_wake(c, addr, PG);
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
		/* a file-backed region's page keeps its changes, as on munmap(2) */
		if (c->filefd >= 0)
			vmpd_file_save_page(c, idx);
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
/* A REMOVE of [@start, @end): its clean resident pages become dirty. */
static void event_remove(struct vmpd_client *c, uint64_t start, uint64_t end)
{
	uint64_t a, idx;

	for (a = start & ~(uint64_t)(PG - 1); a < end; a += PG) {
		struct vmpd_page *p;

		if (!addr_to_idx(c, a, &idx))
			continue;
		p = &c->pages[idx];
		if ((p->flags & (VMPD_PG_RESIDENT | VMPD_PG_BUSY)) !=
		    VMPD_PG_RESIDENT || (p->flags & VMPD_PG_DIRTY))
			continue;
		page_make_dirty(p);
	}
}

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
	t0 = vmpd_now_ns() - t0;
	vmpd_hist_add(t0);
	count_n(fault_ns, t0);
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
		 * keeps the data; REMOVE punches the memfd once this event is
		 * read. A resident page there can no longer be trusted to
		 * match its slot: it is dirty now (its next eviction writes
		 * what the memfd holds, zero after a REMOVE), and a page
		 * REMOVE freed faults as missing and is found absent then.
		 */
		count(events_remove);
		event_remove(c, m->arg.remove.start, m->arg.remove.end);
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
 * Several queued faults on swapped pages (a client's threads faulting at
 * once) are read in one submission, before the first is served: their
 * reads overlap on the device instead of queueing behind each other's
 * round trip. Each page is read into a cache entry of its own (marked
 * VMPD_CE_BATCH), from which its fault is then served in turn as a
 * major fault. Only entries free without I/O are used; a page whose read
 * failed stays swapped and its fault reads it again (and reports the
 * error). A single queued fault takes the usual path, with read-ahead.
 */
static void read_queued(struct vmpd_thread *t, struct vmpd_client *c)
{
	uint32_t ents[VMPD_RUN_PAGES], slots[VMPD_RUN_PAGES];
	uint64_t idxs[VMPD_RUN_PAGES], addr, idx;
	void *bufs[VMPD_RUN_PAGES];
	int res[VMPD_RUN_PAGES], i, j, n = 0;
	struct vmpd_page *p;
	uint32_t e;

	for (i = 0; i < c->npend && n < VMPD_RUN_PAGES; i++) {
		const struct uffd_msg *m = &c->pend[(c->phead + i) % VMPD_PEND_MAX];

		if (m->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP)
			continue;
		addr = m->arg.pagefault.address & ~(uint64_t)(PG - 1);
		if (!addr_to_idx(c, addr, &idx))
			continue;
		p = &c->pages[idx];
		if (p->flags || p->cache != VMP_NIL || p->slot == VMP_NIL)
			continue;
		for (j = 0; j < n && idxs[j] != idx; j++)
			;
		if (j < n)
			continue;	/* two threads on one page */
		e = cache_get(t, c, false);
		if (e == VMP_NIL)
			break;
		ents[n] = e;
		idxs[n] = idx;
		slots[n] = p->slot;
		bufs[n++] = ce_buf(c, e);
	}
	if (n < 2) {
		for (i = 0; i < n; i++)
			ce_free(c, ents[i]);
		return;
	}
	t->overlap = c;
	swap_rw(t, false, slots, bufs, (unsigned int)n, res);
	t->overlap = NULL;
	count(read_batches);
	for (i = 0; i < n; i++) {
		if (inject(&vmpd.fail_reads, res[i]) != (int)PG) {
			count(read_errors);
			ce_free(c, ents[i]);	/* its fault reads it again */
			continue;
		}
		count(swap_ins);
		count(read_batched);
		ce_hold(c, ents[i], idxs[i], VMPD_CE_BATCH);
	}
}

/*
 * VMPD_ADVISE of pages [@first, @first + @n) (c->lock held): WILLNEED
 * serves each page the daemon does not hold in memory as if it faulted
 * (a read, with read-ahead; never a zero page: EMPTY anonymous pages are
 * left alone), at most the budget less the high watermark (more would
 * evict what it read first); DONTNEED evicts each resident page.
 * Best effort: it stops at the first page it cannot move (an event
 * pending, no swap left). The pages moved.
 */
static uint64_t advise(struct vmpd_thread *t, struct vmpd_client *c,
		       uint64_t first, uint64_t n, unsigned int advice)
{
	uint64_t idx, addr, done = 0, room, end, k;
	bool was[VMPD_RUN_PAGES];
	uint32_t m[3];

	/* what fits beside the frames the watermarks keep free */
	vmpd_client_marks(c, m);
	room = c->budget > m[2] + 1 ? c->budget - m[2] - 1 : 1;
	for (idx = first; idx < first + n; idx++) {
		struct vmpd_page *p = &c->pages[idx];

		if (p->flags & (VMPD_PG_BUSY | VMPD_PG_GONE))
			continue;
		if (advice == VMPD_DONTNEED) {
			if (!(p->flags & VMPD_PG_RESIDENT))
				continue;
			if (vmpd_evict_idx(t, c, idx))
				break;
			count(advise_dontneed);
			done++;
			continue;
		}
		if ((p->flags & VMPD_PG_RESIDENT) ||
		    (p->cache == VMP_NIL && p->slot == VMP_NIL && c->filefd < 0))
			continue;
		if (done >= room || !idx_to_addr(c, idx, &addr))
			break;
		/* the fault's run may bring its neighbours in too: count them */
		end = idx + VMPD_RUN_PAGES < first + n ? idx + VMPD_RUN_PAGES :
							  first + n;
		for (k = idx; k < end; k++)
			was[k - idx] = c->pages[k].flags & VMPD_PG_RESIDENT;
		if (fault_missing(t, c, addr, idx, false) ||
		    !(p->flags & VMPD_PG_RESIDENT))
			break;
		for (k = idx; k < end; k++) {
			if (was[k - idx] ||
			    !(c->pages[k].flags & VMPD_PG_RESIDENT))
				continue;
			count(advise_willneed);
			done++;
		}
	}
	return done;
}

void vmpd_advise_msg(struct vmpd_thread *t, struct vmpd_client *c,
		     const void *msg, size_t len)
{
	struct vmpd_reply r = { .magic = VMPD_MAGIC, .version = VMPD_VERSION,
				.type = VMPD_ADVISED };
	const struct vmpd_flush *f = msg;

	if (len != sizeof(*f) || f->version != VMPD_VERSION ||
	    (f->flags != VMPD_WILLNEED && f->flags != VMPD_DONTNEED) ||
	    f->reserved[0] || f->reserved[1] || f->first >= c->npages ||
	    f->npages > c->npages - f->first) {
		r.error = -EINVAL;
		snprintf(r.text, sizeof(r.text), "bad advice");
	} else {
		pthread_mutex_lock(&c->lock);
		if (c->dead)
			r.error = -ESRCH;
		else
			r.addr = advise(t, c, f->first, f->npages, f->flags);
		pthread_mutex_unlock(&c->lock);
	}
	if (vmpd_send_reply(c, c->sock, &r))
		dbg("pid %d: advice answer not sent: %s", c->pid,
		    strerror(errno));
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
	bool lost = false, batched = false;
	struct uffd_msg m;
	int rounds = 0, i, r;

	pthread_mutex_lock(&c->lock);
	serving = c;
	while (!c->dead && !lost) {
		if (c->nevq) {
			for (i = 0; i < c->nevq && !lost; i++)
				lost = handle_event(c, &c->evq[i]) != 0;
			c->nevq = 0;
			if (!lost)
				vmpd_state_event(c, false);
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
		if (c->npend >= 2 && !batched) {
			read_queued(t, c);
			batched = true;
		}
		m = c->pend[c->phead];
		c->phead = (c->phead + 1) % VMPD_PEND_MAX;
		c->npend--;
		handle_fault(t, c, &m);
		if (!c->npend)
			batched = false;
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
