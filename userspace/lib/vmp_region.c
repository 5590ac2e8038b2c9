// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libvmpager: regions backed by the vmpager module or by vmpagerd.
 *
 * The library never calls malloc and makes its own anonymous mappings with
 * raw syscalls, because the LD_PRELOAD shim (vmp_preload.c) that is built on
 * it replaces malloc and mmap. Regions are kept in a fixed table.
 *
 * Daemon regions: see vmpd_proto.h for the handshake. A watchdog thread
 * (started with the first daemon region) polls the regions' sockets: a
 * VMPD_LOST message poisons that one page (an empty memfd mapped over it:
 * SIGBUS). When the daemon's end closes and its welcome named the region
 * (a token: the daemon keeps state across a restart), the region is
 * detached: its faults stay blocked in the kernel while the watchdog
 * connects again every RETRY_MS and sends the hello with
 * VMPD_HELLO_REATTACH, for up to VMPAGER_REATTACH_MS (default 30000). A
 * region that no daemon takes back in time, or whose daemon kept no
 * state, is lost: truncate the memfd to 0 (SIGBUS everywhere), unregister
 * (wakes threads blocked in a fault, which then get SIGBUS), drain the
 * queue (completes events other threads wait for in munmap/madvise).
 *
 * Fork: regions are MADV_DONTFORK, so the child inherits nothing mapped
 * there. For a daemon region the prepare handler asks the daemon for a
 * copy (VMPD_FORK with a new memfd: the region as it is at that moment,
 * write-protected meanwhile), and the child handler maps that memfd at
 * the same address and hands it to the daemon as a region of its own
 * (VMPD_HELLO_FORK): the child sees the parent's data as of the fork, and
 * each side's later writes are its own, as with fork() of private memory.
 * For a module region the prepare handler fills a new object of the device
 * with a copy of the region's (VMPAGER_IOC_COPY) and the child handler maps
 * it there. A region that cannot be copied (a file-backed one, one no
 * longer mapped whole, a daemon that refuses, a copy that fails) is marked
 * forked in the child: nothing mapped (SIGSEGV), and freeing it in the
 * child only forgets it. The child's copies of the parent's region fds are
 * closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmp_lib_internal.h"
#include "libvmpager.h"
#include "vmpager.h"
#include "vmpd_proto.h"

#define PG		4096ul
#define MAX_REGIONS	4096
#define DEVICE		"/dev/vmpager"
#define RETRY_MS	50		/* a detached region's reconnect interval */
#define REATTACH_MS	30000		/* VMPAGER_REATTACH_MS's default */
#define FORK_WAIT_MS	10000		/* VMPAGER_FORK_WAIT_MS's default */

struct region {
	uintptr_t base;		/* 0: free entry */
	size_t size;
	uintptr_t user;		/* the pointer handed out (shim) */
	int backend;
	int fd;			/* module: device fd; daemon: memfd */
	int uffd, sock;		/* daemon */
	uint32_t gen;		/* bumped on reuse: stale watchdog events */
	bool lost;
	bool forked;		/* inherited by fork: nothing mapped */
	bool setting_up;	/* held by region_create(), not published yet */
	bool file;		/* vmp_region_map_file() */
	uint64_t budget, cache;
	bool releasing;		/* region_release() waits for its flush */
	/* daemon, file-backed: VMPD_FLUSH requests sent, answers received */
	uint64_t flush_sent, flush_done;
	int flush_res[64];	/* answer n's error at n % 64 */
	/* daemon: what a re-attach sends again (token 0: not possible) */
	uint64_t token;
	struct vmpd_hello hello;
	int filefd;		/* file-backed: the file, ours; else -1 */
	char socket[108];	/* the daemon's socket, asked by the options */
	bool detached;		/* the daemon went away: waiting for the next */
	unsigned int fork_owed;	/* VMPD_FORK requests timed out, unanswered */
	uint64_t fork_token;	/* between atfork prepare and parent/child: */
	int fork_memfd;		/* ... the child's copy (VMPD_FORKED), else -1 */
	uint64_t detach_end;	/* CLOCK_MONOTONIC ms: then it is lost */
};

static pthread_cond_t flush_cv = PTHREAD_COND_INITIALIZER;	/* with lock */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct region regions[MAX_REGIONS];	/* protected by lock */
static int nregions;				/* highest used index + 1 */
static uintptr_t lo_addr = UINTPTR_MAX, hi_addr;	/* quick reject */
static int wd_epfd = -1;			/* watchdog, protected by lock */
static bool wd_running, atfork_done;
static int sigbus_fd = -1;			/* empty memfd, for poisoning */
static unsigned long nlost;			/* pages poisoned */
static __thread char errbuf[256];

static void seterr(int e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void seterr(int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	errno = e;
}

const char *vmp_region_strerror(void)
{
	return errbuf[0] ? errbuf : "no error";
}

/* ---- raw memory syscalls: never the shim's interposed mmap/munmap ---- */

void *vmp__mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	long r = syscall(SYS_mmap, addr, len, prot, flags, fd, off);

	return r == -1 ? MAP_FAILED : (void *)r;
}

int vmp__munmap(void *addr, size_t len)
{
	return syscall(SYS_munmap, addr, len) ? -1 : 0;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (write(STDERR_FILENO, buf, n) < 0)
		return;
}

/* ---- the table ---- */

static struct region *region_new(void)
{
	int i;

	for (i = 0; i < MAX_REGIONS; i++) {
		if (!regions[i].base) {
			if (i >= nregions)
				nregions = i + 1;
			regions[i].gen++;
			return &regions[i];
		}
	}
	return NULL;
}

static struct region *find_locked(uintptr_t a, bool by_user)
{
	int i;

	if (a < lo_addr || a >= hi_addr)
		return NULL;
	for (i = 0; i < nregions; i++) {
		struct region *r = &regions[i];

		if (!r->base || r->releasing)
			continue;	/* free, or being freed (lock dropped) */
		if (by_user ? r->user == a : (a >= r->base && a < r->base + r->size))
			return r;
	}
	return NULL;
}

/* Widen the quick-reject bounds (lock held; read without it by the shim). */
static void bounds_add(const struct region *r)
{
	if (r->base < lo_addr)
		__atomic_store_n(&lo_addr, r->base, __ATOMIC_RELAXED);
	if (r->base + r->size > hi_addr)
		__atomic_store_n(&hi_addr, r->base + r->size, __ATOMIC_RELAXED);
}

bool vmp__maybe_region(const void *p)
{
	uintptr_t a = (uintptr_t)p;

	return a >= __atomic_load_n(&lo_addr, __ATOMIC_RELAXED) &&
	       a < __atomic_load_n(&hi_addr, __ATOMIC_RELAXED);
}

/* ---- losing a daemon region ---- */

static void drain_uffd(int uffd)
{
	struct uffd_msg msgs[16];

	while (read(uffd, msgs, sizeof(msgs)) > 0)
		;
}

static void region_lose_locked(struct region *r, const char *why)
{
	struct uffdio_range rg = { .start = r->base, .len = r->size };

	if (r->lost)
		return;
	r->lost = true;
	/* no data any more: every access now raises SIGBUS (beyond EOF) */
	if (ftruncate(r->fd, 0))
		say("libvmpager: truncating the lost region's memfd: %s\n",
		    strerror(errno));
	/* wake threads blocked in a fault; no more events or faults here */
	ioctl(r->uffd, UFFDIO_UNREGISTER, &rg);
	drain_uffd(r->uffd);
	if (wd_epfd >= 0 && r->sock >= 0)
		epoll_ctl(wd_epfd, EPOLL_CTL_DEL, r->sock, NULL);
	say("libvmpager: pid %d: %s: region %#lx (%zu bytes) is lost; accesses raise SIGBUS\n",
	    getpid(), why, (unsigned long)r->base, r->size);
	pthread_cond_broadcast(&flush_cv);
}

/* One page whose data the daemon could not read: SIGBUS on access. */
static void region_poison_locked(struct region *r, uintptr_t addr,
				 const char *why)
{
	if (addr < r->base || addr >= r->base + r->size || addr % PG)
		return;
	if (sigbus_fd < 0)
		sigbus_fd = memfd_create("vmpager-lost", MFD_CLOEXEC);
	if (++nlost <= 10)
		say("libvmpager: pid %d: page %#lx lost by vmpagerd (%s); accesses raise SIGBUS%s\n",
		    getpid(), (unsigned long)addr, why,
		    nlost == 10 ? " (no more such messages)" : "");
	/* the daemon sees UNMAP for this page, forgets it and wakes the fault */
	if (sigbus_fd < 0 ||
	    vmp__mmap((void *)addr, PG, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_FIXED, sigbus_fd, 0) == MAP_FAILED)
		region_lose_locked(r, "cannot poison a lost page");
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int send_hello_ext(int sock, const struct vmpd_hello *h, int memfd,
			  int uffd, int filefd,
			  const struct vmpd_hello_ext *ext, unsigned int next);
#define send_hello(s, h, m, u, f)	send_hello_ext(s, h, m, u, f, NULL, 0)

/*
 * Where region @r's memfd is mapped in this process now, from
 * /proc/self/maps (no malloc: the shim may be malloc): up to @max pieces
 * into @ext, their number; 0 if it cannot be read. @within: only pieces
 * that start inside the region's range (every mapping of the device names
 * the same inode, whatever its object).
 */
static unsigned int region_maps(const struct region *r,
				struct vmpd_hello_ext *ext, unsigned int max,
				bool within)
{
	char buf[4096];
	size_t have = 0;
	unsigned int n = 0;
	struct stat st;
	ssize_t got;
	int fd;

	if (fstat(r->fd, &st))
		return 0;
	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	for (;;) {
		char *nl, *line = buf;

		got = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (got <= 0)
			break;
		have += (size_t)got;
		buf[have] = '\0';
		while ((nl = strchr(line, '\n'))) {
			unsigned long lo, hi, off, ino;
			unsigned int maj, min;

			*nl = '\0';
			if (sscanf(line, "%lx-%lx %*s %lx %x:%x %lu", &lo, &hi,
				   &off, &maj, &min, &ino) == 6 &&
			    ino == (unsigned long)st.st_ino &&
			    makedev(maj, min) == st.st_dev && n < max &&
			    (!within || (lo >= r->base &&
					 lo < r->base + r->size)))
				ext[n++] = (struct vmpd_hello_ext){
					lo, (hi - lo) / PG, off / PG };
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1)
			have = 0;	/* a line longer than the buffer: not ours */
	}
	close(fd);
	return n;
}

/*
 * Is module region @r still mapped whole, every page at its own offset of
 * its object (no munmap of a part, nothing mapped over one)? The device's
 * mappings all show the device node in /proc/self/maps, so only those
 * inside the region's range count.
 */
static bool module_region_whole(const struct region *r)
{
	struct vmpd_hello_ext ext[64];
	unsigned int n = region_maps(r, ext, 64, true), i;
	uint64_t pages = 0;

	for (i = 0; i < n; i++) {
		if (ext[i].pgoff != (ext[i].start - r->base) / PG ||
		    ext[i].start + ext[i].npages * PG > r->base + r->size)
			return false;
		pages += ext[i].npages;
	}
	return pages == r->size / PG;
}

/* How long fork() waits for the daemon's copy: VMPAGER_FORK_WAIT_MS. */
static int fork_wait_ms(void)
{
	const char *e = getenv("VMPAGER_FORK_WAIT_MS");
	long v = e && *e ? strtol(e, NULL, 0) : 0;

	return v > 0 && v <= 600000 ? (int)v : FORK_WAIT_MS;
}

/* How long a detached region waits: VMPAGER_REATTACH_MS, 0 = never. */
static uint64_t reattach_ms(void)
{
	const char *e = getenv("VMPAGER_REATTACH_MS");

	return e && *e ? strtoull(e, NULL, 0) : REATTACH_MS;
}

/*
 * The daemon's end closed: wait for the next daemon if this one kept the
 * region's state, else lose the region. Lock held.
 */
static void region_gone_locked(struct region *r, const char *why)
{
	uint64_t ms = reattach_ms();

	if (!r->token || !ms) {
		region_lose_locked(r, why);
		return;
	}
	if (wd_epfd >= 0)
		epoll_ctl(wd_epfd, EPOLL_CTL_DEL, r->sock, NULL);
	close(r->sock);
	r->sock = -1;
	r->detached = true;
	r->detach_end = now_ms() + ms;
	/* write-backs asked of the dead daemon: their answers never come */
	while (r->flush_done < r->flush_sent)
		r->flush_res[r->flush_done++ % 64] = -ECONNRESET;
	pthread_cond_broadcast(&flush_cv);
	say("libvmpager: pid %d: %s: region %#lx (%zu bytes) waits up to %llu ms for vmpagerd to take it back; its faults wait too\n",
	    getpid(), why, (unsigned long)r->base, r->size,
	    (unsigned long long)ms);
}

/*
 * One attempt to hand detached region @r (at index @i) to a daemon: true
 * when it is settled (served again, or lost), false to try again later.
 * Lock held.
 */
static bool region_reattach_locked(struct region *r, int i)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t now = now_ms(), wait_ms;
	struct timeval tv;
	const char *path = getenv("VMPAGER_SOCKET");
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	struct vmpd_reply rep;
	struct vmpd_hello h = r->hello;
	struct vmpd_hello_ext ext[VMPD_REATTACH_EXT];
	unsigned int next;
	char why[200];
	ssize_t n;
	int sock;

	if (!path || !*path)
		path = r->socket[0] ? r->socket : VMPD_SOCKET_DEFAULT;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa))) {
		if (sock >= 0)
			close(sock);
		if (now_ms() < r->detach_end)
			return false;
		region_lose_locked(r, "vmpagerd did not come back in time (VMPAGER_REATTACH_MS)");
		return true;
	}
	h.flags |= VMPD_HELLO_REATTACH;
	h.token = r->token;
	/* a daemon recovering many regions may answer late: wait it out */
	wait_ms = r->detach_end > now + 1000 ? r->detach_end - now : 1000;
	tv = (struct timeval){ .tv_sec = (time_t)(wait_ms / 1000),
			       .tv_usec = (suseconds_t)(wait_ms % 1000) * 1000 };
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	next = region_maps(r, ext, VMPD_REATTACH_EXT, false);
	n = send_hello_ext(sock, &h, r->fd, r->uffd, r->filefd, ext, next) ?
	    -1 : recv(sock, &rep, sizeof(rep), 0);
	if (n != sizeof(rep) || rep.magic != VMPD_MAGIC) {
		/*
		 * No answer: the dying daemon's listening socket took the
		 * connection and closed (ECONNRESET), or a daemon died
		 * answering. Only a daemon's answer is final.
		 */
		close(sock);
		if (now_ms() < r->detach_end)
			return false;
		snprintf(why, sizeof(why),
			 "no answer from vmpagerd to the re-attach: %s",
			 n < 0 ? strerror(errno) : "short message");
		region_lose_locked(r, why);
		return true;
	}
	if (rep.type != VMPD_WELCOME) {
		close(sock);
		/* short of memory or client slots: may pass, try again */
		if ((rep.error == -ENOMEM || rep.error == -EBUSY ||
		     rep.error == -EAGAIN) && now_ms() < r->detach_end)
			return false;
		rep.text[sizeof(rep.text) - 1] = '\0';
		snprintf(why, sizeof(why),
			 "vmpagerd refused to take the region back: %s",
			 rep.text);
		region_lose_locked(r, why);
		return true;
	}
	r->sock = sock;
	r->fork_owed = 0;
	r->detached = false;
	r->token = rep.token;
	ev.data.u64 = (uint64_t)r->gen << 32 | (uint32_t)i;
	if (wd_epfd >= 0)
		epoll_ctl(wd_epfd, EPOLL_CTL_ADD, sock, &ev);
	say("libvmpager: pid %d: region %#lx re-attached to vmpagerd\n",
	    getpid(), (unsigned long)r->base);
	pthread_cond_broadcast(&flush_cv);	/* region_release() may wait */
	return true;
}

/* A message from the daemon other than an answer waited for (lock held). */
static void reply_locked(struct region *r, struct vmpd_reply *rep)
{
	rep->text[sizeof(rep->text) - 1] = '\0';
	if (rep->type == VMPD_LOST) {
		region_poison_locked(r, rep->addr, rep->text);
	} else if (rep->type == VMPD_FLUSHED || rep->type == VMPD_ADVISED) {
		r->flush_res[r->flush_done++ % 64] = rep->error;
		pthread_cond_broadcast(&flush_cv);
	}
}

static void *watchdog(void *arg)
{
	struct epoll_event evs[8];
	int i, n, epfd = (int)(intptr_t)arg;

	for (;;) {
		bool waiting = false;

		pthread_mutex_lock(&lock);
		for (i = 0; i < nregions; i++) {
			struct region *r = &regions[i];

			if (r->base && r->detached && !r->lost && !r->forked &&
			    !region_reattach_locked(r, i))
				waiting = true;
		}
		pthread_mutex_unlock(&lock);
		n = epoll_wait(epfd, evs, 8, waiting ? RETRY_MS : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (i = 0; i < n; i++) {
			uint32_t idx = evs[i].data.u64 & 0xffffffff;
			uint32_t gen = evs[i].data.u64 >> 32;
			struct vmpd_reply rep;
			struct region *r;
			ssize_t got;

			pthread_mutex_lock(&lock);
			r = idx < MAX_REGIONS ? &regions[idx] : NULL;
			if (!r || !r->base || r->gen != gen || r->lost ||
			    r->detached) {
				pthread_mutex_unlock(&lock);
				continue;
			}
			got = recv(r->sock, &rep, sizeof(rep), MSG_DONTWAIT);
			if (got == sizeof(rep) && rep.magic == VMPD_MAGIC &&
			    (rep.type == VMPD_LOST || rep.type == VMPD_FLUSHED ||
			     rep.type == VMPD_ADVISED)) {
				reply_locked(r, &rep);
			} else if (got == sizeof(rep) && rep.magic == VMPD_MAGIC &&
				   rep.type == VMPD_FORKED) {
				/* a timed-out fork request's late answer */
				if (r->fork_owed)
					r->fork_owed--;
			} else if (got == 0 || (got < 0 && errno != EAGAIN &&
						errno != EINTR)) {
				region_gone_locked(r, "lost the connection to vmpagerd");
			} else if (evs[i].events & (EPOLLHUP | EPOLLERR)) {
				region_gone_locked(r, "vmpagerd hung up");
			}
			pthread_mutex_unlock(&lock);
		}
	}
	return NULL;
}

static int uffd_create(bool *user_only);
static int watchdog_start_locked(void);

/*
 * In the child: map r->fork_memfd, the child's copy of region @r, where the
 * region is, not inherited by a fork of the child. 0, or -1 (nothing
 * mapped).
 */
static int fork_map_copy(struct region *r)
{
	void *p = vmp__mmap((void *)r->base, r->size, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_FIXED_NOREPLACE, r->fork_memfd, 0);

	if (p != (void *)r->base) {
		if (p != MAP_FAILED)
			vmp__munmap(p, r->size);
		return -1;
	}
	madvise(p, r->size, MADV_DONTFORK);
	return 0;
}

/*
 * In the child: map the copy of module region @r (r->fork_memfd, an object
 * of the device filled by VMPAGER_IOC_COPY before fork()) at the region's
 * address; it is the child's region from now on. 0, or -1 (nothing mapped).
 */
static int fork_child_attach_module(struct region *r)
{
	if (fork_map_copy(r))
		return -1;
	r->fd = r->fork_memfd;
	r->fork_memfd = -1;
	return 0;
}

/*
 * The child's copy of daemon region @r (lock held, in the child): its
 * memfd mapped where the region is, registered with a new userfaultfd and
 * handed to the daemon with the fork's token. 0, or -1 with nothing left
 * mapped.
 */
static int fork_child_attach(struct region *r)
{
	struct uffdio_api api = { .api = UFFD_API, .features = VMPD_UFFD_FEATURES };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };
	struct uffdio_register reg;
	struct vmpd_hello h = r->hello;
	struct vmpd_reply rep;
	int uffd = -1, sock = -1;
	bool user_only;

	if (fork_map_copy(r))
		return -1;
	uffd = uffd_create(&user_only);
	reg = (struct uffdio_register){
		.range = { .start = r->base, .len = r->size },
		.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
	};
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) ||
	    ioctl(uffd, UFFDIO_REGISTER, &reg))
		goto fail;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", r->socket);
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)))
		goto fail;
	h.flags = (h.flags & ~(VMPD_HELLO_REATTACH | VMPD_HELLO_USER_MODE_ONLY)) |
		  VMPD_HELLO_FORK | (user_only ? VMPD_HELLO_USER_MODE_ONLY : 0);
	h.token = r->fork_token;
	h.features = api.features;
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send_hello(sock, &h, r->fork_memfd, uffd, -1) ||
	    recv(sock, &rep, sizeof(rep), 0) != sizeof(rep) ||
	    rep.magic != VMPD_MAGIC || rep.type != VMPD_WELCOME) {
		rep.text[sizeof(rep.text) - 1] = '\0';
		say("libvmpager: pid %d: vmpagerd did not take the child's copy of region %#lx%s%s\n",
		    getpid(), (unsigned long)r->base,
		    rep.magic == VMPD_MAGIC ? ": " : "",
		    rep.magic == VMPD_MAGIC ? rep.text : "");
		goto fail;
	}
	h.flags &= ~VMPD_HELLO_FORK;
	h.token = 0;
	r->hello = h;
	r->fd = r->fork_memfd;
	r->uffd = uffd;
	r->sock = sock;
	r->fork_owed = 0;
	r->token = rep.token;
	r->budget = rep.budget;
	r->cache = rep.cache;
	r->fork_memfd = -1;
	return 0;
fail:
	if (uffd >= 0)
		close(uffd);
	if (sock >= 0)
		close(sock);
	vmp__munmap((void *)r->base, r->size);
	return -1;
}

static void atfork_child(void)
{
	int i, attached = 0;

	/* the lock was taken in prepare: the table is consistent */
	pthread_cond_init(&flush_cv, NULL);	/* no waiter came along */
	if (wd_epfd >= 0)
		close(wd_epfd);
	wd_epfd = -1;
	wd_running = false;
	for (i = 0; i < nregions; i++) {
		struct region *r = &regions[i];

		if (!r->base || !r->size || r->forked)
			continue;	/* free, or being set up by another thread */
		close(r->fd);
		if (r->backend == VMP_BACKEND_DAEMON) {
			close(r->uffd);
			if (r->sock >= 0)
				close(r->sock);
			r->sock = -1;
			if (r->filefd >= 0)
				close(r->filefd);
			r->filefd = -1;
		}
		r->forked = true;
		if (r->fork_memfd < 0)
			continue;
		if (r->backend == VMP_BACKEND_MODULE) {
			if (fork_child_attach_module(r)) {
				say("libvmpager: pid %d: region %#lx: its copy cannot be mapped there (%s): nothing is mapped\n",
				    getpid(), (unsigned long)r->base,
				    strerror(errno));
				close(r->fork_memfd);
				r->fork_memfd = -1;
			} else {
				r->forked = false;
			}
			continue;
		}
		if (fork_child_attach(r)) {
			close(r->fork_memfd);
			r->fork_memfd = -1;
			continue;
		}
		r->forked = false;
		r->detached = false;
		r->flush_sent = r->flush_done = 0;
		r->gen++;
		attached++;
	}
	/* the child's own watchdog, for the copies it was given */
	if (attached && !watchdog_start_locked()) {
		for (i = 0; i < nregions; i++) {
			struct region *r = &regions[i];
			struct epoll_event ev = {
				.events = EPOLLIN | EPOLLRDHUP,
				.data.u64 = (uint64_t)r->gen << 32 | (uint32_t)i,
			};

			if (r->base && r->size && !r->forked &&
			    r->backend == VMP_BACKEND_DAEMON)
				epoll_ctl(wd_epfd, EPOLL_CTL_ADD, r->sock, &ev);
		}
	}
	pthread_mutex_unlock(&lock);
}

/*
 * Before fork(): a copy of module region @r for the child, a new object of
 * the device filled by VMPAGER_IOC_COPY, in r->fork_memfd; nothing (-1) if
 * it cannot have one.
 */
static void fork_prepare_module_locked(struct region *r)
{
	struct vmpager_copy cp = { .fd = r->fd };
	const char *why = NULL;
	int fd = -1;

	if (!module_region_whole(r))
		why = "no longer mapped whole";
	else if ((fd = open(DEVICE, O_RDWR | O_CLOEXEC)) < 0 ||
		 ioctl(fd, VMPAGER_IOC_COPY, &cp))
		why = strerror(errno);
	if (!why) {
		r->fork_memfd = fd;
		return;
	}
	say("libvmpager: pid %d: region %#lx is not copied for the child (it has nothing mapped there): %s\n",
	    getpid(), (unsigned long)r->base, why);
	if (fd >= 0)
		close(fd);
}

/*
 * Before fork(): a copy of daemon region @r for the child (VMPD_FORK), in
 * r->fork_token and r->fork_memfd; nothing if it cannot have one. Lock
 * held: the watchdog cannot take the answer, so it is read here.
 */
static void fork_prepare_locked(struct region *r)
{
	struct vmpd_fork f = { .magic = VMPD_MAGIC, .version = VMPD_VERSION,
			       .type = VMPD_FORK, .base = r->base };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &f, .iov_len = sizeof(f) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct vmpd_reply rep = { .magic = 0 };
	struct pollfd pfd;
	struct cmsghdr *cm;
	int memfd, tries, got = 0;

	r->fork_token = 0;
	r->fork_memfd = -1;
	if (r->setting_up)
		return;		/* another thread is making it: not the child's */
	if (r->base && r->size && !r->forked && !r->file &&
	    r->backend == VMP_BACKEND_MODULE) {
		fork_prepare_module_locked(r);
		return;
	}
	if (!r->base || !r->size || r->forked || r->lost || r->detached ||
	    r->backend != VMP_BACKEND_DAEMON || r->file)
		return;
	memfd = memfd_create("vmpager-region", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, (off_t)r->size)) {
		say("libvmpager: pid %d: region %#lx is not copied for the child: memfd: %s\n",
		    getpid(), (unsigned long)r->base, strerror(errno));
		if (memfd >= 0)
			close(memfd);
		return;
	}
	for (tries = 0; tries < 100; tries++) {
		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &memfd, sizeof(int));
		if (sendmsg(r->sock, &msg, MSG_NOSIGNAL) != sizeof(f))
			break;
		/*
		 * Its answer; LOST and FLUSHED messages may come first, and so
		 * may the late answers to requests that timed out here before
		 * (made with another memfd: taking one would give the child a
		 * copy the daemon made for a memfd it does not have).
		 */
		for (;;) {
			pfd = (struct pollfd){ .fd = r->sock, .events = POLLIN };
			if (poll(&pfd, 1, fork_wait_ms()) != 1) {
				got = -1;
				r->fork_owed++;
				break;
			}
			got = recv(r->sock, &rep, sizeof(rep), MSG_DONTWAIT);
			if (got != sizeof(rep) || rep.magic != VMPD_MAGIC)
				break;
			if (rep.type == VMPD_FORKED && r->fork_owed) {
				r->fork_owed--;
				continue;
			}
			if (rep.type == VMPD_FORKED)
				break;
			reply_locked(r, &rep);
		}
		if (got != sizeof(rep) || rep.type != VMPD_FORKED ||
		    rep.error != -EAGAIN)
			break;
		usleep(1000);	/* an unmap or mremap of it pending */
	}
	if (got == sizeof(rep) && rep.magic == VMPD_MAGIC &&
	    rep.type == VMPD_FORKED && !rep.error) {
		r->fork_token = rep.token;
		r->fork_memfd = memfd;
		return;
	}
	rep.text[sizeof(rep.text) - 1] = '\0';
	say("libvmpager: pid %d: region %#lx is not copied for the child (it has nothing mapped there): %s\n",
	    getpid(), (unsigned long)r->base,
	    got == sizeof(rep) && rep.type == VMPD_FORKED ? rep.text :
	    "no answer from vmpagerd");
	close(memfd);
}

static void atfork_prepare(void)
{
	int i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < nregions; i++)
		fork_prepare_locked(&regions[i]);
}

static void atfork_parent(void)
{
	int i;

	for (i = 0; i < nregions; i++) {
		struct region *r = &regions[i];

		if (r->base && r->fork_memfd >= 0)
			close(r->fork_memfd);	/* the child's */
		r->fork_memfd = -1;
		r->fork_token = 0;
	}
	pthread_mutex_unlock(&lock);
}

/* Start the watchdog (lock held); 0 or -errno. */
static int watchdog_start_locked(void)
{
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t all, old;
	int ret;

	if (wd_running)
		return 0;
	if (wd_epfd < 0) {
		wd_epfd = epoll_create1(EPOLL_CLOEXEC);
		if (wd_epfd < 0)
			return -errno;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	/* the watchdog takes no signals meant for the program */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&tid, &attr, watchdog, (void *)(intptr_t)wd_epfd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (ret)
		return -ret;
	wd_running = true;
	return 0;
}

/* ---- backends ---- */

/* vmp_region_map_file()'s file range */
struct file_range {
	int fd;
	uint64_t offset, length;
	bool rdonly;
};

/* Bind the fresh object of @dev to @f (VMPAGER_IOC_MAP_FILE). */
static int module_bind(int dev, const struct file_range *f)
{
	struct vmpager_map_file mf = {
		.fd = f->fd, .offset = f->offset, .length = f->length,
		.flags = f->rdonly ? VMPAGER_FILE_RDONLY : 0,
	};
	struct vmpager_version v;
	int e;

	if (!ioctl(dev, VMPAGER_IOC_MAP_FILE, &mf))
		return 0;
	e = errno;
	if (e == ENOTTY && !ioctl(dev, VMPAGER_IOC_VERSION, &v))
		seterr(EOPNOTSUPP, "the module (ABI %u.%u) has no file-backed objects (ABI 2.1)",
		       v.major, v.minor);
	else
		seterr(e, "binding fd %d bytes %llu+%llu: %s%s", f->fd,
		       (unsigned long long)f->offset,
		       (unsigned long long)f->length, strerror(e),
		       e == EINVAL ? " (a regular file, page-aligned offset?)" :
		       e == EACCES ? " (the fd must be open for reading)" :
		       e == EFBIG ? " (max_obj_pages)" : "");
	return -1;
}

static int module_region(struct region *r, size_t size,
			 const struct file_range *f)
{
	int prot = PROT_READ | PROT_WRITE;
	void *p;
	int fd;

	fd = open(DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		seterr(errno, "opening " DEVICE ": %s (is vmpager.ko loaded?)",
		       strerror(errno));
		return -1;
	}
	if (f) {
		if (module_bind(fd, f)) {
			close(fd);
			return -1;
		}
		if (f->rdonly)
			prot = PROT_READ;
	}
	/* no fork() between the mmap and MADV_DONTFORK (atfork takes lock) */
	pthread_mutex_lock(&lock);
	p = vmp__mmap(NULL, size, prot, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		int e = errno;

		pthread_mutex_unlock(&lock);
		seterr(e, "mapping %zu bytes of " DEVICE ": %s%s", size,
		       strerror(e), e == EFBIG ? " (max_obj_pages)" : "");
		close(fd);
		return -1;
	}
	madvise(p, size, MADV_DONTFORK);
	r->base = (uintptr_t)p;
	r->size = size;
	r->fd = fd;
	r->uffd = r->sock = -1;
	r->backend = VMP_BACKEND_MODULE;
	pthread_mutex_unlock(&lock);
	return 0;
}

static int uffd_create(bool *user_only)
{
	int fd, dev;

	*user_only = false;
	fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0 || errno != EPERM)
		return fd;
	/* unprivileged and vm.unprivileged_userfaultfd=0: the device node */
	dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev >= 0) {
		fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
		close(dev);
		if (fd >= 0)
			return fd;
	}
	/* last resort: faults from system calls into the region get EFAULT */
	*user_only = true;
	return syscall(SYS_userfaultfd,
		       O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
}

static int send_hello_ext(int sock, const struct vmpd_hello *h, int memfd,
			  int uffd, int filefd,
			  const struct vmpd_hello_ext *ext, unsigned int next)
{
	char cbuf[CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov[2] = {
		{ .iov_base = (void *)h, .iov_len = sizeof(*h) },
		{ .iov_base = (void *)ext, .iov_len = next * sizeof(*ext) },
	};
	struct msghdr msg = {
		.msg_iov = iov, .msg_iovlen = next ? 2 : 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fds[3] = { memfd, uffd, filefd };
	size_t nfds = filefd >= 0 ? 3 : 2;

	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) ==
	       (ssize_t)(sizeof(*h) + next * sizeof(*ext)) ? 0 : -1;
}

static int daemon_region(struct region *r, size_t size,
			 const struct vmp_region_opts *o,
			 const struct file_range *f)
{
	struct uffdio_api api = { .api = UFFD_API, .features = VMPD_UFFD_FEATURES };
	struct uffdio_register reg;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };
	struct vmpd_hello h;
	struct vmpd_reply rep;
	const char *path = o && o->socket ? o->socket : getenv("VMPAGER_SOCKET");
	const char *benv = getenv("VMPAGER_BUDGET");
	bool user_only, registered = false;
	int memfd, uffd = -1, sock = -1, e, send_err, ownfd = -1;
	void *p = MAP_FAILED;
	ssize_t n;

	if (!path || !*path)
		path = VMPD_SOCKET_DEFAULT;
	memfd = memfd_create("vmpager-region", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, (off_t)size)) {
		seterr(errno, "memfd of %zu bytes: %s", size, strerror(errno));
		goto fail;
	}
	/* no fork() between the mmap and MADV_DONTFORK (atfork takes lock) */
	pthread_mutex_lock(&lock);
	p = vmp__mmap(NULL, size, f && f->rdonly ? PROT_READ :
		      PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (p != MAP_FAILED)
		madvise(p, size, MADV_DONTFORK);
	pthread_mutex_unlock(&lock);
	if (p == MAP_FAILED) {
		seterr(errno, "mapping %zu bytes: %s", size, strerror(errno));
		goto fail;
	}
	uffd = uffd_create(&user_only);
	if (uffd < 0) {
		seterr(errno, "userfaultfd: %s", strerror(errno));
		goto fail;
	}
	if (ioctl(uffd, UFFDIO_API, &api) ||
	    (api.features & VMPD_UFFD_FEATURES) != VMPD_UFFD_FEATURES) {
		seterr(errno ? errno : EOPNOTSUPP,
		       "UFFDIO_API: shmem missing+wp faults and events unsupported by this kernel");
		goto fail;
	}
	reg = (struct uffdio_register){
		.range = { .start = (uintptr_t)p, .len = size },
		.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
	};
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		seterr(errno, "UFFDIO_REGISTER: %s", strerror(errno));
		goto fail;
	}
	registered = true;
	if (!(reg.ioctls & (1ull << _UFFDIO_COPY)) ||
	    !(reg.ioctls & (1ull << _UFFDIO_WRITEPROTECT))) {
		seterr(EOPNOTSUPP, "userfaultfd: no COPY/WRITEPROTECT on shmem");
		goto fail;
	}
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa))) {
		seterr(errno, "connecting to vmpagerd at %s: %s (is it running?)",
		       path, strerror(errno));
		goto fail;
	}
	h = (struct vmpd_hello){
		.magic = VMPD_MAGIC, .version = VMPD_VERSION, .type = VMPD_HELLO,
		.flags = (user_only ? VMPD_HELLO_USER_MODE_ONLY : 0) |
			 (f ? VMPD_HELLO_FILE : 0) |
			 (f && f->rdonly ? VMPD_HELLO_FILE_RDONLY : 0),
		.base = (uintptr_t)p, .size = size,
		.budget = o && o->budget ? o->budget :
			  benv ? strtoull(benv, NULL, 0) : 0,
		.features = api.features,
		.file_offset = f ? f->offset : 0,
		.file_length = f ? f->length : 0,
	};
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (f && (fcntl(f->fd, F_GETFL) & O_APPEND)) {
		/*
		 * The daemon writes with pwrite(2), which appends on an
		 * O_APPEND description: it gets a description of its own.
		 */
		char fdpath[64];

		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", f->fd);
		ownfd = open(fdpath, (f->rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (ownfd < 0) {
			seterr(errno, "reopening fd %d without O_APPEND: %s",
			       f->fd, strerror(errno));
			goto fail;
		}
	}
	send_err = send_hello(sock, &h, memfd, uffd,
			      ownfd >= 0 ? ownfd : f ? f->fd : -1) ? errno : 0;
	/* a refusal may have been sent, and the socket closed, before */
	n = recv(sock, &rep, sizeof(rep), send_err ? MSG_DONTWAIT : 0);
	if (send_err && n != sizeof(rep)) {
		seterr(send_err, "sending the region to vmpagerd: %s",
		       strerror(send_err));
		goto fail;
	}
	if (n != sizeof(rep) || rep.magic != VMPD_MAGIC) {
		seterr(n < 0 ? errno : EPROTO, "no answer from vmpagerd%s%s",
		       n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		goto fail;
	}
	rep.text[sizeof(rep.text) - 1] = '\0';
	if (rep.type != VMPD_WELCOME) {
		seterr(rep.error < 0 ? -rep.error : EPROTO,
		       "vmpagerd refused the region: %s", rep.text);
		goto fail;
	}
	/* a re-attach sends the same hello and fds: the file's stays ours */
	if (rep.token && f && ownfd < 0)
		ownfd = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
	if (!rep.token && ownfd >= 0) {
		close(ownfd);	/* the daemon has its copy */
		ownfd = -1;
	}
	r->token = rep.token;
	r->hello = h;
	r->filefd = ownfd;
	snprintf(r->socket, sizeof(r->socket), "%s", path);
	r->base = (uintptr_t)p;
	r->size = size;
	r->fd = memfd;
	r->uffd = uffd;
	r->sock = sock;
	r->fork_owed = 0;
	r->backend = VMP_BACKEND_DAEMON;
	r->budget = rep.budget;
	r->cache = rep.cache;
	return 0;

fail:
	e = errno;
	if (ownfd >= 0)
		close(ownfd);
	if (registered) {
		struct uffdio_range rg = { .start = (uintptr_t)p, .len = size };

		ioctl(uffd, UFFDIO_UNREGISTER, &rg);
	}
	if (p != MAP_FAILED)
		vmp__munmap(p, size);
	if (sock >= 0)
		close(sock);
	if (uffd >= 0)
		close(uffd);
	if (memfd >= 0)
		close(memfd);
	errno = e;
	return -1;
}

static int pick_backend(int flags)
{
	const char *env;

	if (flags & VMP_BACKEND_MASK)
		return flags & VMP_BACKEND_MASK;
	env = getenv("VMPAGER_BACKEND");
	if (env && *env) {
		if (!strcmp(env, "module"))
			return VMP_BACKEND_MODULE;
		if (!strcmp(env, "daemon"))
			return VMP_BACKEND_DAEMON;
		seterr(EINVAL, "VMPAGER_BACKEND=%s: module or daemon", env);
		return -1;
	}
	return access(DEVICE, R_OK | W_OK) ? VMP_BACKEND_DAEMON :
					     VMP_BACKEND_MODULE;
}

static void *region_create(size_t size, int flags,
			   const struct vmp_region_opts *opts,
			   const struct file_range *f)
{
	struct region *r;
	int backend, ret;

	size = (size + PG - 1) & ~(PG - 1);
	backend = pick_backend(flags);
	if (backend < 0)
		return NULL;

	pthread_mutex_lock(&lock);
	if (!atfork_done) {
		pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
		atfork_done = true;
	}
	r = region_new();
	if (!r) {
		pthread_mutex_unlock(&lock);
		seterr(ENOMEM, "more than %d regions", MAX_REGIONS);
		return NULL;
	}
	if (backend == VMP_BACKEND_DAEMON) {
		ret = watchdog_start_locked();
		if (ret) {
			pthread_mutex_unlock(&lock);
			seterr(-ret, "starting the watchdog thread: %s",
			       strerror(-ret));
			return NULL;
		}
	}
	/* hold the entry (base stays 0 until ready) and drop the lock */
	r->base = 1;
	r->size = 0;
	r->user = 0;
	r->filefd = -1;
	r->token = 0;
	r->detached = false;
	r->fork_memfd = -1;
	r->setting_up = true;
	pthread_mutex_unlock(&lock);
	if (backend == VMP_BACKEND_MODULE)
		ret = module_region(r, size, f);
	else
		ret = daemon_region(r, size, opts, f);
	pthread_mutex_lock(&lock);
	r->setting_up = false;
	if (ret) {
		int e = errno;

		r->base = 0;
		pthread_mutex_unlock(&lock);
		errno = e;
		return NULL;
	}
	r->user = r->base;
	r->lost = r->forked = false;
	r->file = f != NULL;
	r->flush_sent = r->flush_done = 0;
	r->releasing = false;
	bounds_add(r);
	if (backend == VMP_BACKEND_DAEMON) {
		struct epoll_event ev = {
			.events = EPOLLIN | EPOLLRDHUP,
			.data.u64 = (uint64_t)r->gen << 32 | (uint64_t)(r - regions),
		};

		if (epoll_ctl(wd_epfd, EPOLL_CTL_ADD, r->sock, &ev))
			say("libvmpager: watching the daemon socket: %s\n",
			    strerror(errno));
	}
	pthread_mutex_unlock(&lock);
	return (void *)r->base;
}

void *vmp_region_alloc_opts(size_t size, int flags,
			    const struct vmp_region_opts *opts)
{
	errbuf[0] = '\0';
	if (!size || size > (SIZE_MAX & ~(PG - 1)) ||
	    (flags & ~VMP_BACKEND_MASK) ||
	    (flags & VMP_BACKEND_MASK) == VMP_BACKEND_MASK) {
		seterr(EINVAL, "bad size %zu or flags %#x", size, flags);
		return NULL;
	}
	return region_create(size, flags, opts, NULL);
}

void *vmp_region_map_file(int fd, uint64_t offset, size_t length, int flags)
{
	struct file_range f = {
		.fd = fd, .offset = offset, .length = length,
		.rdonly = flags & VMP_FILE_RDONLY,
	};
	int acc;

	errbuf[0] = '\0';
	if (!length || length > (SIZE_MAX & ~(PG - 1)) || (offset & (PG - 1)) ||
	    (flags & ~(VMP_BACKEND_MASK | VMP_FILE_RDONLY)) ||
	    (flags & VMP_BACKEND_MASK) == VMP_BACKEND_MASK) {
		seterr(EINVAL, "bad length %zu, offset %llu or flags %#x",
		       length, (unsigned long long)offset, flags);
		return NULL;
	}
	acc = fcntl(fd, F_GETFL);
	if (acc < 0) {
		seterr(errno, "fd %d: %s", fd, strerror(errno));
		return NULL;
	}
	if ((acc & O_ACCMODE) == O_RDONLY)
		f.rdonly = true;
	return region_create(length, flags & VMP_BACKEND_MASK, NULL, &f);
}

/*
 * VMPD_FLUSH of pages @first .. @first + @n - 1 of daemon region @r, and
 * wait for the answer (the watchdog thread receives it): 0 or -errno.
 * Lock held (dropped while waiting).
 */
static int daemon_request_locked(struct region *r, uint32_t type,
				 uint32_t flags, uint64_t first, uint64_t n)
{
	struct vmpd_flush f = {
		.magic = VMPD_MAGIC, .version = VMPD_VERSION,
		.type = type, .flags = flags, .first = first, .npages = n,
	};
	uint64_t ticket;
	uint32_t gen = r->gen;
	struct timespec dl;

	if (r->lost)
		return -EIO;
	if (r->detached)
		return -ENOTCONN;	/* vmpagerd is restarting */
	if (send(r->sock, &f, sizeof(f), MSG_NOSIGNAL) != sizeof(f))
		return -errno;
	ticket = ++r->flush_sent;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 60;
	while (r->gen == gen && !r->lost && r->flush_done < ticket)
		if (pthread_cond_timedwait(&flush_cv, &lock, &dl) == ETIMEDOUT)
			return -ETIMEDOUT;
	if (r->gen != gen || r->lost)
		return -EIO;
	/* answers come in order; 64 more before this thread woke: unknown */
	return r->flush_done - ticket < 64 ? r->flush_res[(ticket - 1) % 64] :
					     -EIO;
}

static int daemon_flush_locked(struct region *r, uint64_t first, uint64_t n)
{
	return daemon_request_locked(r, VMPD_FLUSH, 0, first, n);
}

int vmp_region_advise(void *addr, size_t length, int advice)
{
	struct region *r;
	uintptr_t a = (uintptr_t)addr & ~(PG - 1), end;
	volatile const char *q;
	int ret = 0;

	errbuf[0] = '\0';
	if (advice != VMP_ADVICE_WILLNEED && advice != VMP_ADVICE_DONTNEED) {
		seterr(EINVAL, "unknown advice %d", advice);
		return -1;
	}
	pthread_mutex_lock(&lock);
	r = find_locked((uintptr_t)addr, false);
	if (!r || !length || length > r->base + r->size - (uintptr_t)addr) {
		pthread_mutex_unlock(&lock);
		seterr(EINVAL, "%p + %zu is not inside a region", addr, length);
		return -1;
	}
	end = (uintptr_t)addr + length;
	if (r->forked || r->lost) {
		pthread_mutex_unlock(&lock);
		seterr(EIO, "the region at %p is gone", addr);
		return -1;
	}
	if (r->backend == VMP_BACKEND_DAEMON) {
		uint64_t first = (a - r->base) / PG;

		ret = daemon_request_locked(r, VMPD_ADVISE,
					    advice == VMP_ADVICE_WILLNEED ?
					    VMPD_WILLNEED : VMPD_DONTNEED, first,
					    (end - a + PG - 1) / PG);
		pthread_mutex_unlock(&lock);
		if (ret) {
			seterr(-ret, "advice on %zu bytes at %p: %s", length,
			       addr, strerror(-ret));
			return -1;
		}
		return 0;
	}
	pthread_mutex_unlock(&lock);
	if (advice == VMP_ADVICE_DONTNEED) {
		seterr(EOPNOTSUPP, "the module evicts by its own reclaim only");
		return -1;
	}
	/* the module: a read of each page brings it into the pool */
	for (q = (const char *)a; (uintptr_t)q < end; q += PG)
		(void)*q;
	return 0;
}

int vmp_region_flush(void *addr, size_t length)
{
	struct region *r;
	uintptr_t a = (uintptr_t)addr & ~(PG - 1);
	size_t len;
	bool file;
	int ret;

	errbuf[0] = '\0';
	pthread_mutex_lock(&lock);
	r = find_locked((uintptr_t)addr, false);
	if (!r || length > r->base + r->size - (uintptr_t)addr) {
		pthread_mutex_unlock(&lock);
		seterr(EINVAL, "%p + %zu is not inside a region", addr, length);
		return -1;
	}
	file = r->file && !r->forked;
	if (file && length && r->backend == VMP_BACKEND_DAEMON) {
		uint64_t first = (a - r->base) / PG;
		uint64_t last = ((uintptr_t)addr + length - 1 - r->base) / PG;

		ret = daemon_flush_locked(r, first, last - first + 1);
		pthread_mutex_unlock(&lock);
		if (ret) {
			seterr(-ret, "writing back %zu bytes at %p: %s%s", length,
			       addr, strerror(-ret),
			       ret == -ETIMEDOUT ? " (no answer from vmpagerd in 60 s)" :
			       ret == -ENOTCONN ? " (vmpagerd is restarting: try again)" : "");
			return -1;
		}
		return 0;
	}
	pthread_mutex_unlock(&lock);
	if (!file || !length)
		return 0;
	len = (uintptr_t)addr + length - a;
	if (msync((void *)a, len, MS_SYNC)) {
		seterr(errno, "writing back %zu bytes at %p: %s", length, addr,
		       strerror(errno));
		return -1;
	}
	return 0;
}

void *vmp_region_alloc(size_t size, int flags)
{
	return vmp_region_alloc_opts(size, flags, NULL);
}

static void region_release(struct region *r)
{
	if (r->forked)
		goto out;
	if (r->backend == VMP_BACKEND_DAEMON) {
		struct uffdio_range rg = { .start = r->base, .len = r->size };
		int ret;

		/*
		 * A file-backed region's pages go to the file at its end: one
		 * whose daemon is restarting waits for the next (the watchdog
		 * re-attaches it), so that they are not left to expire.
		 */
		if (r->file && r->detached && !r->lost) {
			uint32_t gen = r->gen;
			struct timespec dl;

			clock_gettime(CLOCK_REALTIME, &dl);
			dl.tv_sec += (time_t)(reattach_ms() / 1000) + 1;
			while (r->gen == gen && r->detached && !r->lost)
				if (pthread_cond_timedwait(&flush_cv, &lock,
							   &dl) == ETIMEDOUT)
					break;
		}
		/* the daemon writes back at the end too: here, synchronously */
		r->releasing = true;
		ret = r->file && !r->lost ?
		      daemon_flush_locked(r, 0, r->size / PG) : 0;
		if (ret)
			say("libvmpager: pid %d: writing back file-backed region %#lx: %s\n",
			    getpid(), (unsigned long)r->base, strerror(-ret));

		if (wd_epfd >= 0 && r->sock >= 0)
			epoll_ctl(wd_epfd, EPOLL_CTL_DEL, r->sock, NULL);
		/* no UNMAP event to wait for: the daemon learns from the socket */
		if (!r->lost)
			ioctl(r->uffd, UFFDIO_UNREGISTER, &rg);
	}
	vmp__munmap((void *)r->base, r->size);
	close(r->fd);
	if (r->backend == VMP_BACKEND_DAEMON) {
		close(r->uffd);
		if (r->sock >= 0)
			close(r->sock);
		if (r->filefd >= 0)
			close(r->filefd);
		r->filefd = -1;
		r->detached = false;
	}
out:
	r->base = 0;
	r->releasing = false;
	pthread_cond_broadcast(&flush_cv);	/* flushes of it end: -EIO */
}

int vmp__region_free_user(void *user)
{
	struct region *r;

	pthread_mutex_lock(&lock);
	r = find_locked((uintptr_t)user, true);
	if (!r) {
		pthread_mutex_unlock(&lock);
		return -1;
	}
	region_release(r);
	pthread_mutex_unlock(&lock);
	return 0;
}

int vmp_region_free(void *addr)
{
	struct region *r;

	errbuf[0] = '\0';
	pthread_mutex_lock(&lock);
	r = find_locked((uintptr_t)addr, false);
	if (!r || r->base != (uintptr_t)addr) {
		pthread_mutex_unlock(&lock);
		seterr(EINVAL, "%p is not the start of a region", addr);
		return -1;
	}
	region_release(r);
	pthread_mutex_unlock(&lock);
	return 0;
}

int vmp_region_info(const void *addr, struct vmp_region_info *info)
{
	struct region *r;

	pthread_mutex_lock(&lock);
	r = find_locked((uintptr_t)addr, false);
	if (!r) {
		pthread_mutex_unlock(&lock);
		seterr(ENOENT, "%p is in no region", addr);
		return -1;
	}
	*info = (struct vmp_region_info){
		.addr = (void *)r->base, .size = r->size,
		.backend = r->backend, .lost = r->lost,
		.budget = r->budget, .cache = r->cache, .file = r->file,
	};
	pthread_mutex_unlock(&lock);
	return 0;
}

/* ---- for the shim ---- */

void *vmp__region_alloc_aligned(size_t size, size_t align, void **user)
{
	struct region *r;
	void *base;

	if (align > PG) {
		if (size > SIZE_MAX - align)
			return NULL;
		size += align;
	}
	base = vmp_region_alloc(size, VMP_BACKEND_AUTO);
	if (!base)
		return NULL;
	*user = align > PG ?
		(void *)(((uintptr_t)base + align - 1) & ~(uintptr_t)(align - 1)) :
		base;
	pthread_mutex_lock(&lock);
	r = find_locked((uintptr_t)base, false);
	if (r)
		r->user = (uintptr_t)*user;
	pthread_mutex_unlock(&lock);
	return base;
}

/* Usable bytes after @user if it is a region's user pointer, else 0. */
size_t vmp__region_usable(const void *user)
{
	struct region *r;
	size_t n = 0;

	if (!vmp__maybe_region(user))
		return 0;
	pthread_mutex_lock(&lock);
	r = find_locked((uintptr_t)user, true);
	if (r)
		n = r->base + r->size - r->user;
	pthread_mutex_unlock(&lock);
	return n;
}

/* The region starting exactly at @addr spans exactly @len bytes? */
bool vmp__region_exact(const void *addr, size_t len)
{
	struct region *r;
	bool ret = false;

	if (!vmp__maybe_region(addr))
		return false;
	pthread_mutex_lock(&lock);
	r = find_locked((uintptr_t)addr, false);
	if (r && r->base == (uintptr_t)addr &&
	    r->size == ((len + PG - 1) & ~(PG - 1)))
		ret = true;
	pthread_mutex_unlock(&lock);
	return ret;
}
