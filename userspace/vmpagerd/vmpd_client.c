// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerd client regions: the arena of cache buffers, the client table, the
 * address map (the client's extents: addresses to memfd pages), a client's
 * life (its epoll events, its socket, teardown) and the policy switch. The
 * page states and the lock order are in vmpd.h. The paths that serve a
 * region have files of their own:
 *
 *   vmpd_fault.c    fault service and uffd events: serve()
 *   vmpd_evict.c    eviction and the frame budget
 *   vmpd_cache.c    the soft-eviction cache
 *   vmpd_swapio.c   swap I/O on the thread's ring
 *   vmpd_uffd.c     userfaultfd messages and ioctls
 *
 * The address map and vmpd_client_swapped() run with the client's lock
 * held. vmpd_client_event() runs without it, and so do serve_polling() and
 * client_sock_event(): serve() takes it, vmpd_client_kill() takes
 * clients_lock and then it. The table helpers and the policy switch take
 * their locks themselves.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
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
	if (c->filefd >= 0)
		close(c->filefd);
	vmpd_state_free(c);
	free(c->ext);
	free(c->frames);
	free(c->free_frames);
	free(c->pol_mem);
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

bool addr_to_idx(struct vmpd_client *c, uint64_t addr, uint64_t *idx)
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

bool idx_to_addr(struct vmpd_client *c, uint64_t idx, uint64_t *addr)
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
int ext_cut(struct vmpd_client *c, uint64_t s, uint64_t e,
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
	vmpd_state_ext(c);
	return 0;
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

int vmpd_send_reply(struct vmpd_client *c, int sock,
		      const struct vmpd_reply *r)
{
	(void)c;
	return send(sock, r, sizeof(*r), MSG_NOSIGNAL | MSG_DONTWAIT) ==
	       sizeof(*r) ? 0 : -errno;
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

	if (c->filefd >= 0) {
		/*
		 * A file-backed region's dirty pages go to the file first,
		 * outside clients_lock (file I/O); the memfd still holds the
		 * resident ones, whatever became of the client.
		 */
		pthread_mutex_lock(&c->lock);
		if (!c->dead && vmpd_file_flush(c, 0, c->npages, false, false))
			err("pid %d: %s: some dirty pages could not be written to the region's file",
			    c->pid, why);
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_lock(&vmpd.clients_lock);
	if (vmpd.clients[c->slot] != c) {
		pthread_mutex_unlock(&vmpd.clients_lock);
		return;
	}
	vmpd.clients[c->slot] = NULL;
	vmpd.nclients--;
	pthread_mutex_lock(&c->lock);
	c->dead = true;
	vmpd_state_drop(c);	/* gone for good: no restart brings it back */
	/* pairs with the arming under c->lock in accept_one() */
	epoll_ctl(vmpd.epfd, EPOLL_CTL_DEL, c->uffd, NULL);
	epoll_ctl(vmpd.epfd, EPOLL_CTL_DEL, c->sock, NULL);
	if (c->pidfd >= 0)
		epoll_ctl(vmpd.epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
	/* what an evictor batch cached since the write-back above */
	if (c->filefd >= 0 && vmpd_file_flush(c, 0, c->npages, false, true))
		err("pid %d: %s: some dirty pages could not be written to the region's file",
		    c->pid, why);
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
	/* with nclients: "clients 0" is never read before the count */
	count(clients_exited);
	pthread_mutex_unlock(&vmpd.clients_lock);
	info("client pid %d: %s; %llu swap slots freed", c->pid, why,
	     (unsigned long long)swapped);
	vmpd_client_put(c);	/* the table's reference */
}

static void client_sock_event(struct vmpd_thread *t, struct vmpd_client *c)
{
	union {
		struct vmpd_flush f;
		struct vmpd_fork k;
	} buf;
	char cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = { .iov_base = &buf, .iov_len = sizeof(buf) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd = -1, i, nfd;
	ssize_t n;

	/* MSG_TRUNC: the real length of a longer message, which is refused */
	n = recvmsg(c->sock, &msg, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
	for (cm = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL; cm;
	     cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (i = 0; i < nfd; i++) {
			int x = ((int *)CMSG_DATA(cm))[i];

			if (fd < 0)
				fd = x;
			else
				close(x);
		}
	}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		if (fd >= 0)
			close(fd);
		vmpd_client_kill(c, "connection closed");
		return;
	}
	if (n >= 12 && buf.k.magic == VMPD_MAGIC && buf.k.type == VMPD_FORK) {
		vmpd_fork_msg(c, &buf, (size_t)n, fd);	/* closes fd */
	} else if (n >= 12 && buf.f.magic == VMPD_MAGIC &&
		   buf.f.type == VMPD_ADVISE) {
		if (fd >= 0)
			close(fd);
		vmpd_advise_msg(t, c, &buf, (size_t)n);
	} else if (n > 0) {
		if (fd >= 0)
			close(fd);
		vmpd_file_sock_msg(c, &buf, (size_t)n);
	}
	vmpd_ep_arm(c->sock, c, VMPD_EP_SOCK, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
}

/*
 * The time a polling thread waits for the next fault is spent on its
 * client's reclaim, which the evictor would do otherwise (a thread that
 * needs the CPU that this one holds): a batch of evictions at a time while
 * fewer than the high watermark's frames are free, and the cache's
 * writeback. With c->lock taken by trylock and held for the batch (the
 * next fault waits for it; there is no other thread to serve it anyway).
 * The victims' uffd ioctls run with serving NULL: one that meets a pending
 * event gives its victim back. True if it evicted anything.
 */
static bool idle_reclaim(struct vmpd_thread *t, struct vmpd_client *c)
{
	uint32_t m[3], f;
	bool did = false;

	if (pthread_mutex_trylock(&c->lock))
		return false;
	if (!c->dead && c->resident) {
		vmpd_client_marks(c, m);
		f = vmpd_free_frames(c);
		if (f < m[2]) {
			count(reclaim_idle);
			did = vmpd_evict_batch(t, c, m[2] - f, false) > 0;
		}
		if (c->ncfree < VMPD_FLUSH_BATCH)
			did |= vmpd_cache_flush(t, c) > 0;
	}
	/* pages beyond the budget: back within it */
	if (!c->dead && c->untracked)
		did |= vmpd_evict_untracked(t, c, VMPD_FLUSH_BATCH) > 0;
	pthread_mutex_unlock(&c->lock);
	return did;
}

/*
 * The client's polling window, in us, for a round that a wake-up from
 * epoll_wait() started, at @woke (before that fault was served): poll_us,
 * or more while the client's faults keep coming soon after its window ran
 * out. Like the kernel's haltpoll governor, on the whole idle time (the
 * window plus the time after it): a fault that came within poll_max_us of
 * the window's start would have been caught by a window of poll_max_us, so
 * the window doubles (up to poll_max_us); one that came later halves it
 * (down to poll_us). A client faulting every millisecond thus gets a thread
 * watching it all the time; one that pauses for longer than poll_max_us
 * gets the plain poll_us back, a halving per pause.
 */
static unsigned int poll_window(struct vmpd_client *c, uint64_t woke)
{
	unsigned int base = __atomic_load_n(&vmpd.cfg.poll_us, __ATOMIC_RELAXED);
	unsigned int max = __atomic_load_n(&vmpd.cfg.poll_max_us, __ATOMIC_RELAXED);
	unsigned int win = c->poll_win_us;
	uint64_t idle;

	if (!base || max <= base) {
		c->poll_win_us = 0;
		return base;
	}
	if (win < base || win > max)
		win = base;
	if (c->poll_end_ns && woke > c->poll_end_ns) {
		idle = win + (woke - c->poll_end_ns) / 1000;
		if (idle <= max && win < max) {
			win = win > max / 2 ? max : win * 2;
			count(poll_grow);
		} else if (idle > max && win > base) {
			win = win / 2 < base ? base : win / 2;
			count(poll_shrink);
		}
	}
	c->poll_win_us = win;
	return win;
}

/*
 * poll_us: a client that faults again soon after its last fault was served
 * (a sequential or random reader) finds this thread still watching its
 * userfaultfd, not asleep in epoll_wait(): the wake-up of a sleeping thread
 * is part of every fault's round trip otherwise. Without c->lock, reclaiming
 * for the client (idle_reclaim()) or yielding the CPU between looks. The
 * window is poll_window()'s. It ends early when the epoll set holds an
 * event that no thread has taken while no other thread waits in
 * epoll_wait() (each takes one event at a time, worker()): this thread goes
 * back for it (poll_yield), before its own client's next fault if both are
 * there, and that end says nothing about this client's next fault. The
 * epoll set is looked at only then: a poll() of it costs a lock in the
 * kernel.
 */
static void serve_polling(struct vmpd_thread *t, struct vmpd_client *c,
			  uint64_t woke)
{
	unsigned int us = poll_window(c, woke);
	struct pollfd pfd[2] = {
		{ .fd = c->uffd, .events = POLLIN },
		{ .fd = vmpd.epfd, .events = POLLIN },
	};
	uint64_t until;
	int nfds;

	c->poll_end_ns = 0;
	if (!us)
		return;
	until = vmpd_now_ns() + (uint64_t)us * 1000;
	while (!vmpd.stop && !__atomic_load_n(&c->dead, __ATOMIC_RELAXED) &&
	       vmpd_now_ns() < until) {
		nfds = __atomic_load_n(&vmpd.idle_threads, __ATOMIC_RELAXED) ? 1 : 2;
		if (poll(pfd, (nfds_t)nfds, 0) > 0) {
			if (nfds == 2 && pfd[1].revents) {
				count(poll_yield);
				return;
			}
			count(faults_polled);
			serve(t, c);
			until = vmpd_now_ns() + (uint64_t)us * 1000;
			continue;
		}
		if (idle_reclaim(t, c))
			continue;
		sched_yield();
	}
	c->poll_end_ns = vmpd_now_ns();
}

void vmpd_client_event(struct vmpd_thread *t, uint64_t data)
{
	struct vmpd_client *c = vmpd_client_get((data >> 8) & 0xffffff);
	int tag = data & 0xff;
	uint64_t woke;

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
		woke = vmpd_now_ns();
		serve(t, c);
		serve_polling(t, c, woke);
		vmpd_ep_arm(c->uffd, c, VMPD_EP_UFFD, EPOLLIN, EPOLL_CTL_MOD);
		break;
	case VMPD_EP_SOCK:
		client_sock_event(t, c);
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
		/* its victims are detached from the policy until it is done */
		vmpd_evictor_wait(c);
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
