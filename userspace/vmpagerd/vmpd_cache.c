// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerd soft-eviction cache: pages taken from the client (hole punched)
 * but kept in buffers of the daemon (CACHED in vmpd.h), so that a re-touch
 * is a minor fault. A client's entries hold buffers of the arena
 * (vmpd_client.c), the daemon's memory registered with every handler
 * thread's io_uring; used ones are on a FIFO, head newest. The oldest dirty
 * entries are written back to swap (vmpd_swapio.c), the oldest clean ones
 * dropped. All with the client's lock held, across the writeback too.
 */
#include <string.h>

#include "vmpd.h"

#define PG	VMPD_PAGE

/* ------------------------------------------------------------------ */
/* The soft-eviction cache: FIFO of entries, head newest.              */

void *ce_buf(struct vmpd_client *c, uint32_t e)
{
	return vmpd_arena_page(c->centries[e].buf);
}

void ce_link_head(struct vmpd_client *c, uint32_t e)
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

/* Entry @e now holds page @idx (CACHED), newest, marked @flags. */
void ce_hold(struct vmpd_client *c, uint32_t e, uint64_t idx, uint8_t flags)
{
	c->centries[e].idx = (uint32_t)idx;
	c->centries[e].flags |= flags;
	ce_link_head(c, e);
	c->pages[idx].cache = e;
	c->centries[e].staged = VMP_NIL;
}

/*
 * Entry @e holds a copy of resident page @idx that is about to be punched
 * (@dirty: the only copy then): a restarted daemon finds it even if this
 * one dies before ce_hold() (vmpd_state.c).
 */
void ce_stage(struct vmpd_client *c, uint32_t e, uint64_t idx, bool dirty)
{
	c->centries[e].staged_flags = dirty ? VMPD_CE_DIRTY : 0;
	__atomic_store_n(&c->centries[e].staged, (uint32_t)idx, __ATOMIC_RELEASE);
}

/* Free an entry that may or may not be on the FIFO. */
void ce_free(struct vmpd_client *c, uint32_t e)
{
	ce_unlink(c, e);
	c->centries[e].flags = 0;
	c->centries[e].idx = VMP_NIL;
	c->centries[e].staged = VMP_NIL;
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

/* Is the page at @buf all zero? (Most pages that are not, say so early.) */
static bool page_is_zero(const void *buf)
{
	const uint64_t *w = buf;
	unsigned int i;

	for (i = 0; i < PG / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

/*
 * Write back the oldest dirty entries (up to VMPD_FLUSH_BATCH, one
 * submission) and drop the oldest clean ones met on the way. A dirty page
 * that is all zero (a page mapped by fault-around and never written, or
 * zeroed by the client) is not written: it becomes never-touched again
 * and faults back as a zero page. Returns the number of entries freed.
 */
/*
 * cache_flush() of a file-backed region: the oldest dirty entries go back
 * to the file (never zero-skipped: the file may hold other bytes there),
 * the clean ones met on the way are dropped. The page is then the file's.
 */
static int cache_flush_file(struct vmpd_client *c)
{
	uint32_t e, prev, kept = VMP_NIL;
	int n = 0, freed = 0;

	for (e = c->ctail; e != VMP_NIL && e != kept && n < VMPD_FLUSH_BATCH;
	     e = prev) {
		struct vmpd_centry *x = &c->centries[e];

		prev = x->prev;
		/*
		 * A read-only region's page can be dirty only if the client
		 * made its own mapping writable (mprotect): never written.
		 */
		if (!(x->flags & VMPD_CE_DIRTY) || c->file_ro) {
			ce_drop_clean(c, e);
			freed++;
			continue;
		}
		n++;
		if (file_write_page(c, x->idx, ce_buf(c, e))) {
			/* keep it, newest: other entries get their turn */
			ce_unlink(c, e);
			ce_link_head(c, e);
			if (kept == VMP_NIL)
				kept = e;	/* met again: all tried */
			continue;
		}
		count(evict_written);
		c->pages[x->idx].cache = VMP_NIL;
		ce_free(c, e);
		freed++;
	}
	return freed;
}

static int cache_flush(struct vmpd_thread *t, struct vmpd_client *c)
{
	uint32_t ents[VMPD_FLUSH_BATCH], slots[VMPD_FLUSH_BATCH];
	int res[VMPD_FLUSH_BATCH] = { 0 };
	void *bufs[VMPD_FLUSH_BATCH];
	uint32_t e, prev;
	int n = 0, freed = 0, i;
	int64_t s;

	if (c->filefd >= 0)
		return cache_flush_file(c);
	for (e = c->ctail; e != VMP_NIL && n < VMPD_FLUSH_BATCH; e = prev) {
		struct vmpd_centry *x = &c->centries[e];

		prev = x->prev;
		if (!(x->flags & VMPD_CE_DIRTY)) {
			ce_drop_clean(c, e);
			freed++;
			continue;
		}
		if (page_is_zero(ce_buf(c, e))) {
			count(swap_zero);
			c->pages[x->idx].cache = VMP_NIL;
			ce_free(c, e);
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
 * @io (or inside vmpd_evict_overlap(), whose read holds the ring) only a
 * free entry or one of the oldest clean ones is taken.
 */
uint32_t cache_get(struct vmpd_thread *t, struct vmpd_client *c,
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
	if (!c->ncfree && io && !t->overlapping)
		cache_flush(t, c);
	if (!c->ncfree)
		return VMP_NIL;
	e = c->cfree[--c->ncfree];
	c->centries[e].flags = VMPD_CE_USED;
	c->centries[e].prev = c->centries[e].next = VMP_NIL;
	return e;
}

int vmpd_cache_flush(struct vmpd_thread *t, struct vmpd_client *c)
{
	return cache_flush(t, c);
}
