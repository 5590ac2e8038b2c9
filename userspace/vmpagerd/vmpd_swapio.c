// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerd swap I/O on the thread's ring: each handler thread, and the
 * evictor, has an io_uring of its own (struct vmpd_thread), used by that
 * thread only. Reads and writes of runs of slots, each batch waited for
 * whole (ring_run()), and the fault injection of the control commands
 * fail_reads and fail_writes. The callers (vmpd_cache.c, vmpd_fault.c) hold
 * the client's lock across the I/O; from submission to completion the
 * buffers and the slots belong to the kernel.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vmpd.h"

#define PG	VMPD_PAGE

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
 *
 * With t->overlap set (a fault's reads, its client's lock held), the
 * thread evicts for that client once everything is submitted, before it
 * waits (vmpd_evict_overlap(): no I/O on this ring), and clears it.
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
			ret = t->overlap ? io_uring_submit(&t->ring) :
			      io_uring_submit_and_wait(&t->ring, 1);
		else
			ret = io_uring_wait_cqe(&t->ring, &cqe);
		if (ret >= 0) {
			if (t->overlap && !io_uring_sq_ready(&t->ring)) {
				/* all out: evict while they are read, once */
				struct vmpd_client *c = t->overlap;

				t->overlap = NULL;
				vmpd_evict_overlap(t, c);
			}
			continue;
		}
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
 * Fault injection: while *@left is positive, a result equal to @ok (a
 * complete transfer) is reported as @err instead, and *@left drops by one.
 */
static int inject_as(uint64_t *left, int res, int ok, int err)
{
	uint64_t n = __atomic_load_n(left, __ATOMIC_RELAXED);

	while (n && res == ok)
		if (__atomic_compare_exchange_n(left, &n, n - 1, true,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return err;
	return res;
}

/* Control commands fail_reads, fail_writes: a page transfer fails (EIO). */
int inject(uint64_t *left, int res)
{
	return inject_as(left, res, (int)PG, -EIO);
}

static int buf_index(struct vmpd_thread *t)
{
	return t->fixed ? 0 : -1;
}

/*
 * A request's result that says "not now" rather than "failed": the kernel
 * may complete an O_DIRECT request with EAGAIN (a bio refused for want of
 * a tag where io_uring cannot reissue it), with ECANCELED (io-wq could not
 * start a worker for it) or with a short transfer, and EINTR can reach a
 * CQE too. Such a request is submitted again, up to VMPD_IO_TRIES times in
 * all, before its pages count as failed.
 */
#define VMPD_IO_TRIES	8

static bool io_transient(int res, int want)
{
	return res == -EAGAIN || res == -EINTR || res == -EBUSY ||
	       res == -ECANCELED || (res >= 0 && res < want);
}


/* Prepare the request for pages i..j-1 (consecutive slots of one file). */
static struct io_uring_sqe *prep_run(struct vmpd_thread *t, bool write,
				     const uint32_t *slots, void *const *bufs,
				     unsigned int i, unsigned int j,
				     struct iovec *iov)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&t->ring);
	unsigned int k;

	for (k = i + 1; k < j &&
	     (char *)bufs[k] == (char *)bufs[k - 1] + PG; k++)
		;
	if (k == j) {
		/* one buffer (a page, a fault-around run) */
		vmp_uswap_prep_pages(vmpd.swap, sqe, write, slots[i], j - i,
				     bufs[i], buf_index(t));
	} else {
		for (k = i; k < j; k++)
			iov[k] = (struct iovec){ bufs[k], PG };
		vmp_uswap_prep_pagesv(vmpd.swap, sqe, write, slots[i],
				      &iov[i], j - i);
	}
	return sqe;
}

/*
 * Read (@write false) or write the @n pages bufs[i] from/to slots[i] (n at
 * most VMPD_FLUSH_BATCH + 1), one request per run of consecutive slots in
 * one file (a readv/writev of the run's buffers; a single page with the
 * registered buffer when the run's buffers are one), and store each page's
 * result at res[i]: 4096, or the run's error (a short transfer is -EIO
 * for each page of its run). A request with a transient result
 * (io_transient()) is submitted again (io_retried).
 */
#define VMPD_IO_MAX	(VMPD_FLUSH_BATCH + 1)
_Static_assert(VMP_RA_MAX + 1 <= VMPD_IO_MAX, "a swap-in's reads fit");

void swap_rw(struct vmpd_thread *t, bool write, const uint32_t *slots,
	     void *const *bufs, unsigned int n, int *res)
{
	struct iovec iov[VMPD_IO_MAX];
	unsigned int start[VMPD_IO_MAX], len[VMPD_IO_MAX], todo[VMPD_IO_MAX];
	int rres[VMPD_IO_MAX], bres[VMPD_IO_MAX];
	unsigned int nr = 0, ntodo, again, try, i, j, k;

	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && slots[j] == slots[j - 1] + 1 &&
		     vmp_uswap_contig(vmpd.swap, slots[i], j - i + 1) ==
		     j - i + 1; j++)
			;
		start[nr] = i;
		len[nr] = j - i;
		todo[nr] = nr;
		nr++;
	}
	for (ntodo = nr, try = 1; ntodo; try++) {
		for (k = 0; k < ntodo; k++) {
			i = todo[k];
			io_uring_sqe_set_data64(prep_run(t, write, slots, bufs,
							 start[i],
							 start[i] + len[i],
							 iov),
						ring_tag(t, k));
			bres[k] = -EIO;
		}
		ring_run(t, ntodo, bres);
		for (k = 0, again = 0; k < ntodo; k++) {
			int want = (int)(len[todo[k]] * PG);

			i = todo[k];
			/* fail_again: a first submission reports EAGAIN */
			rres[i] = try == 1 ? inject_as(&vmpd.fail_again,
						       bres[k], want, -EAGAIN) :
					     bres[k];
			if (io_transient(rres[i], want) && try < VMPD_IO_TRIES) {
				count(io_retried);
				info("swap %s of %u pages at slot %u: %s, submitted again",
				    write ? "write" : "read", len[i],
				    slots[start[i]], rres[i] < 0 ?
				    strerror(-rres[i]) : "short transfer");
				todo[again++] = i;
			}
		}
		ntodo = again;
		if (ntodo)
			usleep(50u << try);
	}
	for (i = 0; i < nr; i++)
		for (k = start[i]; k < start[i] + len[i]; k++)
			res[k] = rres[i] == (int)(len[i] * PG) ? (int)PG :
				 rres[i] < 0 ? rres[i] : -EIO;
}
