// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of a userfaultfd pager on this machine, for "vmpbench umap":
 * what one missing fault costs the faulting thread when the handler does
 * nothing but, at most, one 4 KiB O_DIRECT read of the swap file and one
 * UFFDIO_COPY into a shmem (memfd) region, as vmpagerd's regions are. No
 * policy, no eviction, no bookkeeping: any userfaultfd pager (vmpagerd,
 * Umap) pays at least this per major fault, so it says how close to the
 * device a userfaultfd design can come here at all.
 *
 * The handler watches the userfaultfd without sleeping (a non-blocking
 * read in a loop, as vmpagerd's poll_us does), in a thread of the faulting
 * process (Umap's shape) or in another process (vmpagerd's), and serves
 * every fault of a region of SAMPLES pages, touched once each in order by
 * the client, which times each touch. Without the read it copies a page
 * holding the page's number, which the client checks: the round trip alone.
 *
 * For "vmpbench daemon" (isolated swap-ins) the client can sleep GAP_US
 * between touches, and the handler can sleep in poll() until a fault comes
 * (sleep), as any pager that does not keep a CPU spinning must once its
 * polling window has passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define FLOOR_SEED	0x666c6f6fULL	/* "floo"; ^ 1 in a process: other pages */

struct floor_run {
	const struct floor_opts *o;
	int uffd, fd;
	uint64_t base;
	int err;			/* handler: 0 or errno */
};

/* Serve o->samples missing faults; 0 or an errno. */
static int floor_handler(struct floor_run *r)
{
	const struct floor_opts *o = r->o;
	uint64_t rng = FLOOR_SEED ^ o->process, *buf, addr;
	struct uffdio_copy cp;
	struct uffd_msg m;
	size_t served = 0;
	int err = 0;
	ssize_t n;

	if (posix_memalign((void **)&buf, PG, PG)) {
		close(r->uffd);	/* the client's faults are resolved without us */
		return ENOMEM;
	}
	while (served < o->samples) {
		n = read(r->uffd, &m, sizeof(m));
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = r->uffd, .events = POLLIN };

			if (o->sleep && poll(&pfd, 1, -1) < 0 && errno != EINTR) {
				err = errno;
				break;
			}
			continue;
		}
		if (n != (ssize_t)sizeof(m) || m.event != UFFD_EVENT_PAGEFAULT) {
			err = n < 0 ? errno : EPROTO;
			break;
		}
		addr = m.arg.pagefault.address & ~(uint64_t)(PG - 1);
		cp = (struct uffdio_copy){ .dst = addr, .src = (uintptr_t)buf, .len = PG };

		if (o->read) {
			off_t off = (off_t)(rng_next(&rng) % o->pages) * PG;

			n = pread(r->fd, buf, PG, off);
			if (n != (ssize_t)PG) {
				err = n < 0 ? errno : EIO;
				break;
			}
		} else {
			buf[0] = (addr - r->base) / PG;
		}
		if (ioctl(r->uffd, UFFDIO_COPY, &cp)) {
			err = errno;
			break;
		}
		served++;
	}
	free(buf);
	if (err)	/* released: the client's faults are resolved without us */
		close(r->uffd);
	return err;
}

static void *floor_thread(void *arg)
{
	struct floor_run *r = arg;

	r->err = floor_handler(r);
	return NULL;
}

static int new_uffd(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);

	if (fd < 0 && errno == EINVAL)	/* before 5.11 */
		fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	return fd;
}

bool uffd_floor(const struct floor_opts *o, double *p50, double *p99, double *mean)
{
	struct floor_run r = { .o = o, .uffd = -1, .fd = -1 };
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	size_t len = o->samples * PG, i, bad = 0;
	volatile uint64_t *p = MAP_FAILED;
	double *lat = calloc(o->samples, sizeof(double));
	pthread_t th;
	pid_t pid = -1;
	bool ok = false;
	int mfd = -1, st;

	if (!check(lat != NULL, "out of memory"))
		return false;
	mfd = memfd_create("vmpbench-floor", MFD_CLOEXEC);
	if (!check(mfd >= 0 && !ftruncate(mfd, (off_t)len), "memfd: %s", strerror(errno)))
		goto out;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (!check(p != MAP_FAILED, "mmap of the memfd: %s", strerror(errno)))
		goto out;
	r.base = (uintptr_t)p;
	r.uffd = new_uffd();
	if (!check(r.uffd >= 0, "userfaultfd: %s", strerror(errno)))
		goto out;
	reg.range.start = r.base;
	reg.range.len = len;
	if (!check(!ioctl(r.uffd, UFFDIO_API, &api) && !ioctl(r.uffd, UFFDIO_REGISTER, &reg),
		   "userfaultfd API/REGISTER: %s", strerror(errno)))
		goto out;
	if (o->read) {
		r.fd = open(o->path, O_RDONLY | O_DIRECT | O_CLOEXEC);
		if (!check(r.fd >= 0, "open %s O_DIRECT: %s", o->path, strerror(errno)))
			goto out;
	}
	fflush(stdout);
	if (o->process) {
		pid = fork();
		if (!check(pid >= 0, "fork: %s", strerror(errno)))
			goto out;
		if (!pid)
			_exit(floor_handler(&r));
		/* the handler's copy is the only one: its end wakes every fault */
		close(r.uffd);
		r.uffd = -1;
	} else if (!check(!pthread_create(&th, NULL, floor_thread, &r), "pthread_create")) {
		goto out;
	}
	for (i = 0; i < o->samples; i++) {
		uint64_t t0, v;

		if (o->gap_us)
			usleep(o->gap_us);
		t0 = now_ns();
		v = p[i * (PG / 8)];
		lat[i] = (double)(now_ns() - t0) / 1000.0;
		if (!o->read && v != i)
			bad++;
	}
	if (o->process) {
		ok = waitpid(pid, &st, 0) == pid && WIFEXITED(st);
		r.err = ok ? WEXITSTATUS(st) : EIO;
	} else {
		pthread_join(th, NULL);
		if (r.err)
			r.uffd = -1;	/* closed by the thread */
	}
	ok = check(!r.err, "the %s handler stopped: %s", o->process ? "process" : "thread",
		   strerror(r.err)) &&
	     check(!bad, "%zu of %zu pages held another page's number", bad, o->samples);
	if (ok) {
		for (*mean = 0, i = 0; i < o->samples; i++)
			*mean += lat[i] / (double)o->samples;
		qsort(lat, o->samples, sizeof(double), cmp_double);
		*p50 = quantile(lat, o->samples, 0.5);
		*p99 = quantile(lat, o->samples, 0.99);
		ok = sane(*p50, "floor p50") && sane(*p99, "floor p99") &&
		     sane(*mean, "floor mean");
	}
out:
	if (r.fd >= 0)
		close(r.fd);
	if (r.uffd >= 0)
		close(r.uffd);
	if (p != MAP_FAILED)
		munmap((void *)p, len);
	if (mfd >= 0)
		close(mfd);
	free(lat);
	return ok;
}
