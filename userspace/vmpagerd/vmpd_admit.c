// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerd admission: one thread owns the listening socket and every
 * connection whose hello has not arrived yet; a region whose hello arrives
 * is validated, given its budget and joined to the client table.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "vmpd.h"

#define PG	VMPD_PAGE

static bool uid_allowed(const struct ucred *cr)
{
	const struct vmpd_config *cfg = &vmpd.cfg;
	int i;

	if (cr->uid == 0)
		return true;
	for (i = 0; i < cfg->nallow_uids; i++)
		if (cfg->allow_uids[i] == cr->uid)
			return true;
	for (i = 0; i < cfg->nallow_gids; i++)
		if (cfg->allow_gids[i] == cr->gid)
			return true;
	return false;
}

static void refuse(int sock, const struct ucred *cr, int error,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void refuse(int sock, const struct ucred *cr, int error,
		   const char *fmt, ...)
{
	struct vmpd_reply r = {
		.magic = VMPD_MAGIC, .version = VMPD_VERSION,
		.type = VMPD_REFUSED, .error = error,
	};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r.text, sizeof(r.text), fmt, ap);
	va_end(ap);
	count(clients_refused);
	warn("refused pid %d uid %d: %s", cr->pid, cr->uid, r.text);
	vmpd_send_reply(NULL, sock, &r);
}

/*
 * Receive the hello and its fds (the socket is readable: no wait): the
 * memfd, the userfaultfd and, for a file-backed region, the file.
 */
static int recv_hello(int sock, struct vmpd_hello *h, int fds[3],
		      struct vmpd_hello_ext *ext, unsigned int *next)
{
	char cbuf[CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov[2] = {
		{ .iov_base = h, .iov_len = sizeof(*h) },
		{ .iov_base = ext, .iov_len = VMPD_REATTACH_EXT * sizeof(*ext) },
	};
	struct msghdr msg = {
		.msg_iov = iov, .msg_iovlen = 2,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	fds[0] = fds[1] = fds[2] = -1;
	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int), i;
			int got[4] = { -1, -1, -1, -1 };

			memcpy(got, CMSG_DATA(cm),
			       (nfd > 4 ? 4 : nfd) * sizeof(int));
			for (i = 0; i < nfd && i < 4; i++) {
				if (i < 3 && fds[i] < 0)
					fds[i] = got[i];
				else if (got[i] >= 0)
					close(got[i]);
			}
		}
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		return -EMSGSIZE;
	*next = 0;
	if (n > (ssize_t)sizeof(*h) && (h->flags & VMPD_HELLO_REATTACH) &&
	    !((size_t)(n - sizeof(*h)) % sizeof(*ext))) {
		/* a re-attach: the region's map as the client sees it now */
		*next = (unsigned int)((size_t)(n - sizeof(*h)) / sizeof(*ext));
		n = sizeof(*h);
	}
	if (n != sizeof(*h) || h->magic != VMPD_MAGIC ||
	    h->type != VMPD_HELLO)
		return -EPROTO;
	if (h->version != VMPD_VERSION)
		return -EPROTONOSUPPORT;
	if (fds[0] < 0 || fds[1] < 0 ||
	    (fds[2] < 0) != !(h->flags & VMPD_HELLO_FILE))
		return -EBADF;
	return 0;
}

static int client_setup(struct vmpd_client *c, const struct vmpd_hello *h,
			int kind, uint64_t token)
{
	size_t polbytes;
	uint32_t i;
	int ret;

	vmp_ra_init(&c->ra);
	vmp_ra_init(&c->zra);
	c->ra_next = c->zra_next = VMP_RA_NONE;
	c->ra_len = c->zra_len = 0;
	c->frames = calloc(c->budget, sizeof(*c->frames));
	c->free_frames = malloc(c->budget * sizeof(*c->free_frames));
	polbytes = vmp_policy_mem_size(kind, c->budget);
	c->pol_mem = polbytes ? malloc(polbytes) : NULL;
	c->cfree = malloc(c->ncache * sizeof(*c->cfree));
	if (!c->frames || !c->free_frames || (polbytes && !c->pol_mem) ||
	    !c->cfree)
		return -ENOMEM;
	/* pages[] and centries[], in the region's state file if kept */
	ret = vmpd_state_create(c, token);
	if (ret)
		return ret;
	for (i = 0; i < c->budget; i++)
		c->free_frames[i] = c->budget - 1 - i;
	c->nfree = c->budget;
	if (vmp_policy_init(&c->pol, kind, c->budget, &c->frames[0].pn,
			    sizeof(struct vmpd_frame), c->pol_mem))
		return -EINVAL;
	if (vmpd_arena_take(c->ncache, c->cfree))
		return -ENOMEM;
	c->arena_held = true;
	for (i = 0; i < c->ncache; i++) {
		c->centries[i].buf = c->cfree[i];
		c->cfree[i] = c->ncache - 1 - i;
	}
	c->ncfree = c->ncache;
	c->chead = c->ctail = VMP_NIL;
	if (token)
		return 0;	/* a re-attach: the extents come from its state */
	ret = vmpd_ext_add(c, h->base, c->npages, 0);
	if (!ret)
		vmpd_state_ext(c);
	return ret;
}

static int client_slot(struct vmpd_client *c)
{
	int i;

	pthread_mutex_lock(&vmpd.clients_lock);
	for (i = 0; i < VMPD_MAX_CLIENTS; i++) {
		if (!vmpd.clients[i]) {
			vmpd.clients[i] = c;
			vmpd.nclients++;
			c->slot = i;
			c->serial = ++vmpd.client_serial;
			pthread_mutex_unlock(&vmpd.clients_lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&vmpd.clients_lock);
	return -EBUSY;
}

/*
 * A client that has closed its socket or exited still holds its cache
 * buffers and frames until a handler thread takes the event, and a new
 * client may connect first (a program that frees a region and allocates
 * the next one at once). Before refusing for lack of cache buffers,
 * accept tears down every client that is already gone, so admission
 * never depends on how fast the event was taken.
 */
static void reap_gone_clients(void)
{
	struct vmpd_client *gone[VMPD_MAX_CLIENTS];
	struct pollfd pfd[2];
	int i, n = 0;

	pthread_mutex_lock(&vmpd.clients_lock);
	for (i = 0; i < VMPD_MAX_CLIENTS; i++) {
		struct vmpd_client *c = vmpd.clients[i];

		if (!c)
			continue;
		pfd[0] = (struct pollfd){ .fd = c->sock, .events = POLLRDHUP };
		pfd[1] = (struct pollfd){ .fd = c->pidfd, .events = POLLIN };
		if (poll(pfd, 2, 0) <= 0 ||
		    !((pfd[0].revents & (POLLRDHUP | POLLHUP | POLLERR)) ||
		      (pfd[1].revents & POLLIN)))
			continue;
		__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
		gone[n++] = c;
	}
	pthread_mutex_unlock(&vmpd.clients_lock);
	for (i = 0; i < n; i++) {
		vmpd_client_kill(gone[i], "gone (reaped at admission)");
		vmpd_client_put(gone[i]);
	}
}

/*
 * Receive the hello and check it: the region's shape and size, that the
 * fds are a memfd of its size and its userfaultfd, the features. true, or
 * false after refusing (the caller closes the fds).
 */
static bool admit_validate(int sock, const struct ucred *cr,
			   struct vmpd_hello *h, int fds[3],
			   struct vmpd_hello_ext *ext, unsigned int *next)
{
	struct uffdio_range rg;
	struct statfs sfs;
	struct stat st;
	uint64_t max;
	int ret;

	ret = recv_hello(sock, h, fds, ext, next);
	if (ret) {
		refuse(sock, cr, ret, "bad hello: %s", strerror(-ret));
		return false;
	}
	if (!h->size || h->size % PG || h->base % PG ||
	    h->size / PG >= VMP_NIL) {
		refuse(sock, cr, -EINVAL, "bad region %#llx+%llu",
		       (unsigned long long)h->base, (unsigned long long)h->size);
		return false;
	}
	/* the daemon keeps 16 bytes per page of the region, sparse or not */
	max = __atomic_load_n(&vmpd.cfg.max_region_pages, __ATOMIC_RELAXED);
	if (h->size / PG > max) {
		refuse(sock, cr, -EFBIG,
		       "region of %llu pages is larger than max_region_pages (%llu)",
		       (unsigned long long)(h->size / PG),
		       (unsigned long long)max);
		return false;
	}
	if (fstat(fds[0], &st) || !S_ISREG(st.st_mode) ||
	    fstatfs(fds[0], &sfs) || sfs.f_type != TMPFS_MAGIC ||
	    (uint64_t)st.st_size != h->size) {
		refuse(sock, cr, -EINVAL,
		       "the first fd must be a memfd of the region's size");
		return false;
	}
	rg = (struct uffdio_range){ .start = h->base, .len = h->size };
	if (ioctl(fds[1], UFFDIO_WAKE, &rg)) {
		refuse(sock, cr, -EINVAL,
		       "the second fd must be the region's userfaultfd: %s",
		       strerror(errno));
		return false;
	}
	if (h->flags & ~(VMPD_HELLO_USER_MODE_ONLY | VMPD_HELLO_FILE |
			 VMPD_HELLO_FILE_RDONLY | VMPD_HELLO_REATTACH |
			 VMPD_HELLO_FORK) ||
	    h->reserved || !(h->flags & (VMPD_HELLO_REATTACH | VMPD_HELLO_FORK)) != !h->token ||
	    (h->flags & VMPD_HELLO_REATTACH && h->flags & VMPD_HELLO_FORK) ||
	    (!(h->flags & VMPD_HELLO_FILE) &&
	    (h->file_offset || h->file_length ||
	     (h->flags & VMPD_HELLO_FILE_RDONLY)))) {
		refuse(sock, cr, -EINVAL, "unknown hello flags %#x or fields",
		       h->flags);
		return false;
	}
	if (h->flags & VMPD_HELLO_FILE) {
		int acc = fcntl(fds[2], F_GETFL);

		if (fstat(fds[2], &st) || !S_ISREG(st.st_mode) || acc < 0 ||
		    (acc & O_ACCMODE) == O_WRONLY || (acc & O_PATH)) {
			refuse(sock, cr, -EINVAL,
			       "the third fd must be a regular file open for reading");
			return false;
		}
		if (acc & O_APPEND) {
			/* pwrite(2) there appends: write-back would land at the end */
			refuse(sock, cr, -EINVAL,
			       "the file must not be open with O_APPEND");
			return false;
		}
		if (h->file_offset % PG || !h->file_length ||
		    (h->file_length + PG - 1) / PG != h->size / PG ||
		    h->file_offset + h->file_length < h->file_offset) {
			refuse(sock, cr, -EINVAL,
			       "bad file range %llu+%llu for a region of %llu bytes",
			       (unsigned long long)h->file_offset,
			       (unsigned long long)h->file_length,
			       (unsigned long long)h->size);
			return false;
		}
		if ((acc & O_ACCMODE) == O_RDONLY)
			h->flags |= VMPD_HELLO_FILE_RDONLY;
	}
	if ((h->features & VMPD_UFFD_FEATURES) != VMPD_UFFD_FEATURES) {
		refuse(sock, cr, -EOPNOTSUPP,
		       "userfaultfd features %#llx lack %#llx",
		       (unsigned long long)h->features,
		       (unsigned long long)(VMPD_UFFD_FEATURES & ~h->features));
		return false;
	}
	return true;
}

/* Frames of a new region: asked (or client_frames), within every limit. */
static uint32_t admit_budget(const struct vmpd_hello *h)
{
	uint64_t budget = h->budget ? h->budget : vmpd.cfg.client_frames;

	if (budget > vmpd.cfg.client_frames)
		budget = vmpd.cfg.client_frames;
	if (budget > vmpd.cfg.frames)
		budget = vmpd.cfg.frames;
	if (budget > h->size / PG)
		budget = h->size / PG;
	return budget < 1 ? 1 : (uint32_t)budget;
}

/* A re-attach not taken: its slots are still the orphan's, not @c's to free. */
static void slots_disown(struct vmpd_client *c)
{
	uint64_t pg;

	for (pg = 0; pg < c->npages; pg++)
		c->pages[pg].slot = VMP_NIL;
}

/*
 * Admit the region of an allowed peer whose hello has arrived: validate,
 * budget, then join (cache buffers, policy, table slot, welcome, arming).
 */
static void accept_one(int sock, struct ucred cr)
{
	struct vmpd_reply r = { .magic = VMPD_MAGIC, .version = VMPD_VERSION,
				.type = VMPD_WELCOME };
	struct vmpd_hello h;
	struct vmpd_client *c = NULL;
	struct vmpd_orphan *o = NULL;
	struct vmpd_forkling *k = NULL;
	struct vmpd_hello_ext ext[VMPD_REATTACH_EXT];
	unsigned int next = 0;
	char why[128];
	uint64_t avail, pg;
	int fds[3], ret, i;

	if (!admit_validate(sock, &cr, &h, fds, ext, &next))
		goto out_fds;
	c = calloc(1, sizeof(*c));
	if (!c) {
		refuse(sock, &cr, -ENOMEM, "out of memory");
		goto out_fds;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->refs = 2;		/* the table's, and this function's until armed */
	c->pid = cr.pid;
	c->uid = cr.uid;
	c->gid = cr.gid;
	c->sock = sock;
	c->memfd = fds[0];
	c->uffd = fds[1];
	c->filefd = fds[2];
	c->file_ro = h.flags & VMPD_HELLO_FILE_RDONLY;
	c->foff = h.file_offset;
	c->flen = h.file_length;
	c->user_mode_only = h.flags & VMPD_HELLO_USER_MODE_ONLY;
	c->npages = h.size / PG;
	c->budget = admit_budget(&h);
	c->pidfd = -1;
	if (h.flags & VMPD_HELLO_REATTACH) {
		o = vmpd_orphan_find(h.token);
		ret = o ? vmpd_orphan_check(o, c, next, why, sizeof(why)) :
		      -ESTALE;
		if (!o)
			snprintf(why, sizeof(why),
				 "no region %016llx to re-attach: it expired (reattach_timeout) or vmpagerd restarted without its state_dir",
				 (unsigned long long)h.token);
		if (ret) {
			count(reattach_refused);
			refuse(sock, &cr, ret, "%s", why);
			goto out_free;
		}
	}
	if (h.flags & VMPD_HELLO_FORK) {
		k = vmpd_forkling_take(h.token, cr.uid, c->memfd, c->npages,
				       why, sizeof(why));
		if (!k) {
			count(fork_refused);
			refuse(sock, &cr, -ESTALE, "%s", why);
			goto out_free;
		}
	}
	pthread_mutex_lock(&vmpd.arena_lock);
	avail = vmpd.arena_nfree;
	pthread_mutex_unlock(&vmpd.arena_lock);
	if (avail < vmpd.cfg.client_cache) {
		reap_gone_clients();
		/* a gone client's buffers may wait for an evictor batch (ms) */
		for (i = 0; i < 1000 && __atomic_load_n(&vmpd.arena_pending,
							 __ATOMIC_ACQUIRE); i++)
			usleep(1000);
	}
	/* no policy switch between choosing the kind and joining the table */
	pthread_mutex_lock(&vmpd.policy_lock);
	pthread_mutex_lock(&vmpd.arena_lock);
	avail = vmpd.arena_nfree;
	pthread_mutex_unlock(&vmpd.arena_lock);
	c->ncache = vmpd.cfg.client_cache < avail ? vmpd.cfg.client_cache : avail;
	if (c->ncache < VMPD_FLUSH_BATCH) {
		refuse(sock, &cr, -ENOMEM,
		       "soft-eviction arena exhausted (%llu pages free; raise cache_pages)",
		       (unsigned long long)avail);
		goto out_client;
	}
	ret = client_setup(c, &h, vmpd.policy, o ? h.token : 0);
	if (ret) {
		refuse(sock, &cr, ret, "setting up: %s", strerror(-ret));
		goto out_client;
	}
	if (k) {
		vmpd_fork_adopt(c, k);	/* the child's copy: its pages now */
		k = NULL;
	}
	ret = o ? vmpd_state_recover(c, o, ext, next) : 0;
	if (ret) {
		count(reattach_refused);
		refuse(sock, &cr, ret, "recovering region %016llx: %s",
		       (unsigned long long)h.token, strerror(-ret));
		goto out_client;
	}
	fcntl(c->uffd, F_SETFL, fcntl(c->uffd, F_GETFL) | O_NONBLOCK);
	c->pidfd = syscall(SYS_pidfd_open, cr.pid, 0);
	if (c->pidfd < 0)
		warn("pidfd_open(%d): %s; exit noticed by the socket only",
		     cr.pid, strerror(errno));
	/* a re-attach's slots stay the orphan's until its state is committed */
	ret = client_slot(c);
	if (!ret) {
		ret = vmpd_state_commit(c);
		if (ret) {
			pthread_mutex_unlock(&vmpd.policy_lock);
			refuse(sock, &cr, ret, "state file: %s", strerror(-ret));
			if (o)
				slots_disown(c);
			vmpd_client_kill(c, "state file not written");
			vmpd_client_put(c);
			return;
		}
	} else {
		refuse(sock, &cr, ret, "too many clients (%d)", VMPD_MAX_CLIENTS);
		if (o)
			slots_disown(c);
		goto out_client;
	}
	if (o)
		vmpd_orphan_done(o, c);	/* c owns its pages now */
	pthread_mutex_unlock(&vmpd.policy_lock);
	r.budget = c->budget;
	r.cache = c->ncache;
	r.token = c->token;
	/*
	 * Counted before the welcome is sent, as refuse() counts before its
	 * reply: a client that has read its welcome must find itself in
	 * clients_accepted (the debug-kernel CI run read 0 here).
	 */
	count(clients_accepted);
	if (o)
		count(clients_reattached);
	if (h.flags & VMPD_HELLO_FORK)
		count(clients_forked);
	if (vmpd_send_reply(c, sock, &r)) {
		warn("pid %d: welcome not sent: %s", cr.pid, strerror(errno));
		vmpd_client_kill(c, "welcome failed");
		vmpd_client_put(c);
		return;
	}
	info("client pid %d uid %d: region %#llx, %llu pages, budget %u frames, cache %u pages%s%s%s",
	     c->pid, c->uid, (unsigned long long)h.base,
	     (unsigned long long)c->npages, c->budget, c->ncache,
	     c->user_mode_only ? ", user-mode faults only" : "",
	     c->filefd < 0 ? "" : c->file_ro ? ", file-backed, read-only" :
	     ", file-backed", o ? ", re-attached" :
	     h.flags & VMPD_HELLO_FORK ? ", a fork child's copy" : "");
	/*
	 * Once armed, another thread may serve or kill the client: this
	 * function keeps its own reference until it is done with c, and arms
	 * under c->lock so that vmpd_client_kill() (which disarms under it after
	 * marking the client dead) never leaves an fd armed behind it.
	 */
	pthread_mutex_lock(&c->lock);
	if (!c->dead) {
		vmpd_ep_arm(c->uffd, c, VMPD_EP_UFFD, EPOLLIN, EPOLL_CTL_ADD);
		vmpd_ep_arm(c->sock, c, VMPD_EP_SOCK, EPOLLIN | EPOLLRDHUP,
		       EPOLL_CTL_ADD);
		if (c->pidfd >= 0)
			vmpd_ep_arm(c->pidfd, c, VMPD_EP_PIDFD, EPOLLIN,
			       EPOLL_CTL_ADD);
		/*
		 * Faults the dead daemon read and never answered sleep until
		 * woken: each faults again, now to us (a page filled since is
		 * found present).
		 */
		for (i = 0; o && i < c->next; i++) {
			struct uffdio_range rg = {
				.start = c->ext[i].start,
				.len = c->ext[i].npages * PG,
			};

			ioctl(c->uffd, UFFDIO_WAKE, &rg);
		}
	}
	pthread_mutex_unlock(&c->lock);
	vmpd_client_put(c);	/* this function's reference */
	return;

out_client:
	pthread_mutex_unlock(&vmpd.policy_lock);
out_free:
	/* not in the table: frames, arena pages (if taken) go back, fds close */
	__atomic_sub_fetch(&vmpd.frames_used, c->resident, __ATOMIC_RELAXED);
	vmpd_forkling_drop(k);
	vmpd_state_drop(c);	/* before its slots go */
	for (pg = 0; c->pages && vmpd.swap && pg < c->npages; pg++)
		if (c->pages[pg].slot != VMP_NIL)
			vmp_uswap_free(vmpd.swap, c->pages[pg].slot);
	vmpd_client_arena_give(c);
	vmpd_client_destroy(c);	/* closes sock, memfd, uffd, pidfd */
	return;
out_fds:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	if (fds[2] >= 0)
		close(fds[2]);
	close(sock);
}

/*
 * Admission: one thread of its own owns the listening socket and every
 * connection whose hello has not arrived yet, and polls them all, so a
 * peer that sends nothing (or slowly) never delays another. Credentials
 * come first, from SO_PEERCRED at accept: a refused peer is answered at
 * once and never gets to send its fds; its connection is kept (hello
 * drained) until it sends, hangs up or reaches hello_timeout, because
 * closing a socket with unread data would show the peer ECONNRESET
 * instead of the reason. An allowed peer is admitted when its hello
 * arrives, or refused with ETIMEDOUT at hello_timeout. The table of
 * waiting connections is bounded: when it is full the oldest is dropped.
 */
#define VMPD_ADMIT_MAX	64

struct admit {
	int sock;		/* -1: free */
	struct ucred cr;
	bool refused;		/* answered EPERM, waiting to drain */
	uint64_t deadline;	/* vmpd_now_ns() */
};

/* Read and discard whatever a refused peer sent, closing any fds in it. */
static void admit_drain(int sock)
{
	char buf[sizeof(struct vmpd_hello)], cbuf[CMSG_SPACE(4 * sizeof(int))];
	int i, k;

	for (i = 0; i < 4; i++) {
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *cm;

		if (recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
			return;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_RIGHTS)
				for (k = 0; k < (int)((cm->cmsg_len - CMSG_LEN(0)) /
						      sizeof(int)); k++)
					close(((int *)CMSG_DATA(cm))[k]);
	}
}

static void admit_close(struct admit *a, bool expired)
{
	if (a->refused)
		admit_drain(a->sock);
	else if (expired)
		refuse(a->sock, &a->cr, -ETIMEDOUT,
		       "no hello within %u ms (hello_timeout)",
		       __atomic_load_n(&vmpd.cfg.hello_timeout, __ATOMIC_RELAXED));
	close(a->sock);
	a->sock = -1;
}

/* A new connection: into the table (the oldest dropped if it is full). */
static void admit_new(struct admit *tab, int sock)
{
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	struct admit *a = NULL;
	int i;

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &crlen)) {
		err("SO_PEERCRED: %s", strerror(errno));
		close(sock);
		return;
	}
	for (i = 0; i < VMPD_ADMIT_MAX; i++) {
		if (tab[i].sock < 0) {
			a = &tab[i];
			break;
		}
		if (!a || tab[i].deadline < a->deadline)
			a = &tab[i];
	}
	if (a->sock >= 0) {
		warn("admission: %d connections wait for their hello; dropping the oldest (pid %d)",
		     VMPD_ADMIT_MAX, a->cr.pid);
		admit_close(a, true);
	}
	*a = (struct admit){
		.sock = sock, .cr = cr,
		.deadline = vmpd_now_ns() + (uint64_t)__atomic_load_n(
			&vmpd.cfg.hello_timeout, __ATOMIC_RELAXED) * 1000000,
	};
	if (!uid_allowed(&cr)) {
		refuse(sock, &cr, -EPERM,
		       "uid %d gid %d may not use vmpagerd (allow_uid/allow_gid in vmpagerd.conf)",
		       cr.uid, cr.gid);
		a->refused = true;
	}
}

void *vmpd_admit_thread(void *arg)
{
	struct admit tab[VMPD_ADMIT_MAX];
	struct pollfd pfd[VMPD_ADMIT_MAX + 2];
	int who[VMPD_ADMIT_MAX + 2];
	int stop_fd = (int)(intptr_t)arg, n, i, sock, timeout;
	uint64_t now, first;

	for (i = 0; i < VMPD_ADMIT_MAX; i++)
		tab[i].sock = -1;
	while (!vmpd.stop) {
		pfd[0] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = vmpd.lsock, .events = POLLIN };
		n = 2;
		first = UINT64_MAX;
		for (i = 0; i < VMPD_ADMIT_MAX; i++) {
			if (tab[i].sock < 0)
				continue;
			who[n] = i;
			pfd[n++] = (struct pollfd){ .fd = tab[i].sock,
						    .events = POLLIN | POLLRDHUP };
			if (tab[i].deadline < first)
				first = tab[i].deadline;
		}
		now = vmpd_now_ns();
		/* a dead daemon's regions whose clients never came back */
		if (vmpd_orphans()) {
			uint64_t o = vmpd_orphans_expire(now);

			if (o < first)
				first = o;
		}
		/* forks whose children never came */
		{
			uint64_t f = vmpd_forklings_expire(now);

			if (f < first)
				first = f;
		}
		timeout = first == UINT64_MAX ? -1 :
			  first <= now ? 0 : (int)((first - now) / 1000000 + 1);
		if (poll(pfd, n, timeout) < 0) {
			if (errno != EINTR) {
				err("admission poll: %s", strerror(errno));
				usleep(100000);
			}
			continue;
		}
		if (pfd[0].revents)
			break;
		for (i = 2; i < n; i++) {
			struct admit *a = &tab[who[i]];

			if (!pfd[i].revents)
				continue;
			if (a->refused) {
				admit_close(a, false);
				continue;
			}
			sock = a->sock;
			a->sock = -1;
			accept_one(sock, a->cr);	/* closes or keeps sock */
		}
		now = vmpd_now_ns();
		for (i = 0; i < VMPD_ADMIT_MAX; i++)
			if (tab[i].sock >= 0 && tab[i].deadline <= now)
				admit_close(&tab[i], true);
		if (!pfd[1].revents)
			continue;
		for (;;) {
			sock = accept4(vmpd.lsock, NULL, NULL,
				       SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (sock < 0) {
				if (errno == ECONNABORTED || errno == EINTR)
					continue;
				if (errno != EAGAIN)
					err("accept: %s", strerror(errno));
				break;
			}
			admit_new(tab, sock);
		}
	}
	for (i = 0; i < VMPD_ADMIT_MAX; i++)
		if (tab[i].sock >= 0)
			close(tab[i].sock);
	return NULL;
}

