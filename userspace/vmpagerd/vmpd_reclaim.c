// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerd background reclaim: the evictor thread keeps free frames between
 * the watermarks, as the module's reclaim kthread does (module/vmp_reclaim.c),
 * so that a fault finds a frame ready and does not wait for an eviction.
 *
 * Watermarks on free frames, min <= low <= high (config "watermarks", control
 * command "watermarks"). A client's free frames are the fewer of its own
 * (budget - resident) and the global budget's (frames - frames_used). A fault
 * that takes a frame and leaves fewer than low free wakes the evictor, which
 * evicts from that client (and, when the global budget is short, from the
 * client holding the most frames) until high are free; a fault that finds
 * fewer than min free, or none, evicts one frame itself first (direct
 * reclaim, as before this thread existed). "auto" (the default) sizes them
 * per client as the module sizes its pool's: budget / 64, / 32, * 3 / 64.
 * "0,0,0": no background reclaim, one eviction per miss, the exact
 * fixed-size cache (tests and trace replay).
 *
 * The evictor takes a client's lock like any handler thread, for at most
 * VMPD_RECLAIM_HOLD evictions at a time, so a fault of that client waits for
 * a few evictions at most. It is not the client's serving thread: a uffd
 * ioctl that meets a pending event gives the victim back at once
 * (vmpd_uffd.c: uffd_ioctl(), vmpd_evict.c: evict_batch()). With the
 * evictions it writes back the soft-eviction cache's oldest dirty pages
 * whenever fewer than VMPD_FLUSH_BATCH entries are free, so that a fault
 * finds a free entry too.
 *
 * Lock order: kick_lock is a leaf, taken with no other lock held or under
 * a client's lock (vmpd_reclaim_kick() from a fault).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmpd.h"

#define VMPD_RECLAIM_HOLD	16	/* evictions per hold of a client's lock */

static pthread_mutex_t kick_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t kick_cond;
static bool kicked;		/* kick_lock */
static int busy;		/* atomic: the evictor is in a pass */

/* ------------------------------------------------------------------ */
/* Watermarks.                                                         */

void vmpd_wmark_get(unsigned int m[3], bool *autom)
{
	unsigned int seq;
	int i;

	do {
		seq = __atomic_load_n(&vmpd.cfg.wmark_seq, __ATOMIC_ACQUIRE);
		for (i = 0; i < 3; i++)
			m[i] = __atomic_load_n(&vmpd.cfg.wmark[i],
					       __ATOMIC_RELAXED);
		*autom = __atomic_load_n(&vmpd.cfg.wmark_auto,
					 __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((seq & 1) ||
		 seq != __atomic_load_n(&vmpd.cfg.wmark_seq, __ATOMIC_RELAXED));
}

/* One writer at a time: the config parser, then the control thread. */
void vmpd_wmark_set(const unsigned int m[3], bool autom)
{
	int i;

	__atomic_fetch_add(&vmpd.cfg.wmark_seq, 1, __ATOMIC_ACQ_REL);
	for (i = 0; i < 3; i++)
		__atomic_store_n(&vmpd.cfg.wmark[i], m[i], __ATOMIC_RELAXED);
	__atomic_store_n(&vmpd.cfg.wmark_auto, autom, __ATOMIC_RELAXED);
	__atomic_fetch_add(&vmpd.cfg.wmark_seq, 1, __ATOMIC_ACQ_REL);
	vmpd_reclaim_kick();
}

/*
 * "auto", "off" (0,0,0) or "MIN,LOW,HIGH" with MIN <= LOW <= HIGH, or all
 * three 0. 0, or -EINVAL.
 */
int vmpd_wmark_parse(const char *s, unsigned int m[3], bool *autom)
{
	unsigned long v[3];
	char *end;
	int i;

	*autom = false;
	if (!strcmp(s, "auto")) {
		*autom = true;
		m[0] = m[1] = m[2] = 0;
		return 0;
	}
	if (!strcmp(s, "off")) {
		m[0] = m[1] = m[2] = 0;
		return 0;
	}
	for (i = 0; i < 3; i++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		errno = 0;
		v[i] = strtoul(s, &end, 10);
		if (errno || v[i] >= VMP_NIL || *end != (i < 2 ? ',' : '\0'))
			return -EINVAL;
		s = end + 1;
	}
	if (v[0] > v[1] || v[1] > v[2] || (v[2] && !v[1]))
		return -EINVAL;
	for (i = 0; i < 3; i++)
		m[i] = (unsigned int)v[i];
	return 0;
}

/*
 * The watermarks of client @c, in frames: the configured ones, each at
 * most half the budget, or auto's; none for a client whose budget holds
 * its whole region. high 0: no background reclaim.
 */
void vmpd_client_marks(const struct vmpd_client *c, uint32_t m[3])
{
	unsigned int w[3], half = c->budget / 2;
	bool autom;
	int i;

	vmpd_wmark_get(w, &autom);
	if (c->budget >= c->npages) {
		/*
		 * Every page of the region fits: a fault is always for a page
		 * not resident, so a frame is always free. Nothing to keep.
		 */
		m[0] = m[1] = m[2] = 0;
		return;
	}
	if (autom) {
		m[0] = c->budget / 64;
		m[1] = c->budget / 32;
		m[2] = c->budget * 3 / 64;
		return;
	}
	for (i = 0; i < 3; i++)
		m[i] = w[i] < half ? w[i] : half;
}

uint32_t vmpd_free_frames(const struct vmpd_client *c)
{
	uint64_t used = __atomic_load_n(&vmpd.frames_used, __ATOMIC_RELAXED);
	uint64_t g = vmpd.cfg.frames > used ? vmpd.cfg.frames - used : 0;

	return c->nfree < g ? c->nfree : (uint32_t)g;
}

/* ------------------------------------------------------------------ */
/* The evictor.                                                        */

void vmpd_reclaim_kick(void)
{
	if (__atomic_load_n(&busy, __ATOMIC_RELAXED))
		return;		/* in a pass: it looks again before sleeping */
	pthread_mutex_lock(&kick_lock);
	if (!kicked) {
		kicked = true;
		count(kthread_wakeups);
		pthread_cond_signal(&kick_cond);
	}
	pthread_mutex_unlock(&kick_lock);
}

void vmpd_reclaim_stop(void)
{
	pthread_mutex_lock(&kick_lock);
	kicked = true;
	pthread_cond_broadcast(&kick_cond);
	pthread_mutex_unlock(&kick_lock);
}

/*
 * Evict from @c until it has its high watermark of free frames in its
 * budget (or, @global set, until the global budget has @gtarget free),
 * VMPD_RECLAIM_HOLD evictions per hold of its lock. Returns the frames
 * freed.
 */
static uint64_t reclaim_client(struct vmpd_thread *t, struct vmpd_client *c,
			       bool global, uint64_t gtarget)
{
	uint64_t freed = 0;
	uint32_t m[3], n, got;
	bool more = true;

	while (more && !vmpd.stop) {
		pthread_mutex_lock(&c->lock);
		if (c->dead) {
			pthread_mutex_unlock(&c->lock);
			break;
		}
		vmpd_client_marks(c, m);
		count(reclaim_runs);
		for (n = 0; n < VMPD_RECLAIM_HOLD; n += got) {
			uint64_t used = __atomic_load_n(&vmpd.frames_used,
							__ATOMIC_RELAXED);
			uint64_t want = global ? gtarget - (vmpd.cfg.frames - used) :
					m[2] - c->nfree;

			if (global ? vmpd.cfg.frames - used >= gtarget ||
				     !c->resident : c->nfree >= m[2]) {
				more = false;
				break;
			}
			/* someone waits for our batches to end: let it in */
			if (c->evict_hold) {
				more = false;
				break;
			}
			if (want > VMPD_RECLAIM_HOLD - n)
				want = VMPD_RECLAIM_HOLD - n;
			got = vmpd_evict_batch(t, c, (unsigned int)want, true);
			if (!got) {
				more = false;
				break;
			}
			freed += got;
		}
		/* a batch drops the lock: the client may have gone meanwhile */
		if (c->dead)
			more = false;
		else if (c->ncfree < VMPD_FLUSH_BATCH)
			vmpd_cache_flush(t, c);
		if (!c->dead && c->untracked)
			vmpd_evict_untracked(t, c, VMPD_FLUSH_BATCH);
		pthread_mutex_unlock(&c->lock);
		if (more)
			sched_yield();	/* let a waiting fault in */
	}
	return freed;
}

/* Global watermarks: auto's fractions of frames_total, or the configured. */
static void global_marks(uint64_t m[3])
{
	unsigned int w[3];
	bool autom;
	int i;

	vmpd_wmark_get(w, &autom);
	if (autom) {
		m[0] = vmpd.cfg.frames / 64;
		m[1] = vmpd.cfg.frames / 32;
		m[2] = vmpd.cfg.frames * 3 / 64;
		return;
	}
	for (i = 0; i < 3; i++)
		m[i] = w[i];
}

static void reclaim_pass(struct vmpd_thread *t)
{
	struct vmpd_client *c;
	uint64_t gm[3], used;
	uint32_t m[3], f;
	int i, tries;

	for (i = 0; i < VMPD_MAX_CLIENTS && !vmpd.stop; i++) {
		c = vmpd_client_get(i);
		if (!c)
			continue;
		pthread_mutex_lock(&c->lock);
		vmpd_client_marks(c, m);
		f = c->dead ? UINT32_MAX : c->nfree;
		pthread_mutex_unlock(&c->lock);
		/* below low in its own budget: up to high */
		if (m[2] && f < m[1])
			reclaim_client(t, c, false, 0);
		vmpd_client_put(c);
	}
	global_marks(gm);
	for (tries = 0; tries < 8 && gm[2] && !vmpd.stop; tries++) {
		used = __atomic_load_n(&vmpd.frames_used, __ATOMIC_RELAXED);
		if (vmpd.cfg.frames - used >= gm[1] ||
		    (tries && vmpd.cfg.frames - used >= gm[2]))
			break;
		c = vmpd_largest_client();
		if (!c)
			break;
		f = (uint32_t)reclaim_client(t, c, true, gm[2]);
		vmpd_client_put(c);
		if (!f)
			break;
	}
}

void *vmpd_reclaim_thread(void *arg)
{
	struct vmpd_thread *t = arg;
	struct timespec ts;

	while (!vmpd.stop) {
		pthread_mutex_lock(&kick_lock);
		if (!kicked && !vmpd.stop) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += 100 * 1000000;	/* a look every 100 ms */
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&kick_cond, &kick_lock, &ts);
		}
		kicked = false;
		pthread_mutex_unlock(&kick_lock);
		if (vmpd.stop)
			break;
		__atomic_store_n(&busy, 1, __ATOMIC_RELAXED);
		reclaim_pass(t);
		__atomic_store_n(&busy, 0, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* The condition variable waits on CLOCK_MONOTONIC (wall-clock steps). */
static void __attribute__((constructor)) reclaim_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&kick_cond, &a);
	pthread_condattr_destroy(&a);
}
