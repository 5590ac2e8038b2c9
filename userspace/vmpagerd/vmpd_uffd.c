// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerd: a client's userfaultfd, its messages and ioctls, and the hole
 * punch in its memfd; shared by fault service (vmpd_fault.c) and eviction
 * (vmpd_evict.c). All with the client's lock held: c->evq and c->pend are
 * used by the thread serving the client only (serve()).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmpd.h"

#define PG	VMPD_PAGE

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
		if (m[i].event == UFFD_EVENT_PAGEFAULT) {
			c->pend[(c->phead + c->npend++) % VMPD_PEND_MAX] = m[i];
			continue;
		}
		c->evq[c->nevq++] = m[i];
		/* the address map is stale until serve() applied it */
		if (m[i].event == UFFD_EVENT_UNMAP ||
		    m[i].event == UFFD_EVENT_REMAP)
			vmpd_state_event(c, true);
	}
}

/* Read what both queues can take: the number of messages, or -errno. */
int read_msgs(struct vmpd_client *c)
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

__thread struct vmpd_client *serving;	/* client this thread serves */

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
		/*
		 * A copy that filled part of its range (it stopped at a page
		 * already present, or out of memory) also says EAGAIN, with
		 * the bytes done in .copy: the kernel woke that part; the
		 * caller settles it and nothing is retried.
		 */
		if (req == UFFDIO_COPY && ((struct uffdio_copy *)arg)->copy > 0)
			return -EAGAIN;
		count(copy_eagain);
		if (serving != c || tries == 20000)
			return -EAGAIN;
		drain_pending(c);
		if (tries > 4)
			usleep(20);
	}
}

/*
 * Fill the @n pages at @addr from @src with one UFFDIO_COPY. 0 when all
 * are filled; else -errno, with *done the pages filled first (0: none,
 * the error is the first page's).
 */
int uffd_copy_run(struct vmpd_client *c, uint64_t addr, const void *src,
		  unsigned int n, bool wp, unsigned int *done)
{
	struct uffdio_copy cp = {
		.dst = addr, .src = (uintptr_t)src, .len = (uint64_t)n * PG,
		.mode = wp ? UFFDIO_COPY_MODE_WP : 0,
	};
	int ret = uffd_ioctl(c, UFFDIO_COPY, &cp);

	*done = ret ? (cp.copy > 0 ? (unsigned int)(cp.copy / PG) : 0) : n;
	return ret;
}

int uffd_copy(struct vmpd_client *c, uint64_t addr, const void *src,
	      bool wp)
{
	unsigned int done;

	return uffd_copy_run(c, addr, src, 1, wp, &done);
}

int uffd_wp_range(struct vmpd_client *c, uint64_t addr, uint64_t len,
		  bool protect)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = addr, .len = len },
		/* (WP with DONTWAKE is EINVAL: protecting wakes nobody) */
		.mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return uffd_ioctl(c, UFFDIO_WRITEPROTECT, &wp);
}

int uffd_wp(struct vmpd_client *c, uint64_t addr, bool protect)
{
	return uffd_wp_range(c, addr, PG, protect);
}

void uffd_wake(struct vmpd_client *c, uint64_t addr, uint64_t len)
{
	struct uffdio_range r = { .start = addr, .len = len };

	if (ioctl(c->uffd, UFFDIO_WAKE, &r) && errno != ESRCH)
		dbg("pid %d: UFFDIO_WAKE %#llx+%llu: %s", c->pid,
		    (unsigned long long)addr, (unsigned long long)len,
		    strerror(errno));
}

int punch(struct vmpd_client *c, uint64_t idx)
{
	if (fallocate(c->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(idx * PG), PG))
		return -errno;
	return 0;
}
