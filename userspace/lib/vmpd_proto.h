/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wire protocol between libvmpager (a client process) and vmpagerd.
 * docs/vmpagerd.md describes it for people; this header is the contract.
 *
 * Client socket: AF_UNIX SOCK_SEQPACKET (default VMPD_SOCKET_DEFAULT). One
 * connection per region. The client prepares the region first:
 *
 *   memfd = memfd_create(), ftruncate(size)
 *   base  = mmap(size, PROT_READ|PROT_WRITE, MAP_SHARED, memfd), MADV_DONTFORK
 *   uffd  = userfaultfd(O_NONBLOCK), UFFDIO_API (VMPD_UFFD_FEATURES),
 *           UFFDIO_REGISTER [base, size) MISSING|WP
 *
 * then sends struct vmpd_hello with SCM_RIGHTS { memfd, uffd } and waits for
 * one struct vmpd_reply: VMPD_WELCOME (faults are served from now on) or
 * VMPD_REFUSED (error, text; the daemon closes the connection). The region
 * must not be touched before the welcome. Later the daemon may send
 * VMPD_LOST (a page whose data could not be read back: addr) at any time.
 *
 * A file-backed region (VMPD_HELLO_FILE; libvmpager's vmp_region_map_file)
 * sends a third fd, the file, with file_offset and file_length: a page the
 * daemon holds no copy of is then the file's bytes (read on fault), dirty
 * pages go back to the file (never to swap), and the client may send
 * struct vmpd_flush (VMPD_FLUSH) at any time after the welcome: the daemon
 * writes back every dirty page of the range, syncs the file and answers
 * one struct vmpd_reply VMPD_FLUSHED (error: 0 or a negative errno).
 *
 * End of a region: the client unregisters the range, unmaps it and closes
 * the socket; the daemon frees everything when the socket closes or the
 * client process exits (pidfd). If the daemon's end closes first, the
 * daemon is gone. Its faults stay blocked in the kernel (the client still
 * holds the userfaultfd) while the client connects again and sends the
 * same hello with VMPD_HELLO_REATTACH and the token of its welcome, with
 * the same fds: a daemon that kept the region's state (its state_dir)
 * answers VMPD_WELCOME and serves the region again, every page as it was;
 * any other answer is final. When no daemon takes the region back in
 * time, the client library truncates the memfd to 0, so every access to
 * the region raises SIGBUS, and unregisters the range, which wakes threads
 * blocked in a fault (they then get SIGBUS as well).
 */
#ifndef _VMPD_PROTO_H
#define _VMPD_PROTO_H

#include <stdint.h>

#define VMPD_SOCKET_DEFAULT	"/run/vmpager/vmpagerd.sock"
#define VMPD_CTL_DEFAULT	"/run/vmpager/vmpagerd.ctl"
#define VMPD_MAGIC		0x766d7064u	/* "vmpd" */
#define VMPD_VERSION		1u

/* What the client asks of UFFDIO_API (all present in Linux 6.1). */
#define VMPD_UFFD_FEATURES	(UFFD_FEATURE_MISSING_SHMEM |		\
				 UFFD_FEATURE_WP_HUGETLBFS_SHMEM |	\
				 UFFD_FEATURE_EVENT_REMOVE |		\
				 UFFD_FEATURE_EVENT_UNMAP |		\
				 UFFD_FEATURE_EVENT_REMAP)

enum vmpd_msg_type {
	VMPD_HELLO = 1,		/* client -> daemon, with { memfd, uffd } */
	VMPD_WELCOME = 2,	/* daemon -> client: served from now on */
	VMPD_REFUSED = 3,	/* daemon -> client: error, text; then close */
	VMPD_LOST = 4,		/* daemon -> client: addr lost (read error) */
	VMPD_FLUSH = 5,		/* client -> daemon: write back a file range */
	VMPD_FLUSHED = 6,	/* daemon -> client: done (error) */
	VMPD_FORK = 7,		/* client -> daemon: snapshot for a child, with { memfd } */
	VMPD_FORKED = 8,	/* daemon -> client: token for the child's hello, or error */
	VMPD_ADVISE = 9,	/* client -> daemon: struct vmpd_flush, flags the advice */
	VMPD_ADVISED = 10,	/* daemon -> client: done (error, addr: pages done) */
};

/*
 * VMPD_ADVISE (struct vmpd_flush with type VMPD_ADVISE, flags one of
 * these): VMPD_WILLNEED reads the range's pages in now (swapped, cached or,
 * for a file-backed region, in the file), at most the region's budget;
 * VMPD_DONTNEED evicts its resident pages (they keep their data). The
 * answer, VMPD_ADVISED, comes in order with VMPD_FLUSHED answers; its
 * addr is the number of pages moved.
 */
#define VMPD_WILLNEED	1
#define VMPD_DONTNEED	2

/* struct vmpd_hello.flags */
#define VMPD_HELLO_USER_MODE_ONLY	0x1	/* uffd is UFFD_USER_MODE_ONLY */
#define VMPD_HELLO_FILE			0x2	/* a third fd: the region's file */
#define VMPD_HELLO_FILE_RDONLY		0x4	/* ... never written */
#define VMPD_HELLO_REATTACH		0x8	/* a region a dead daemon served: token */
#define VMPD_HELLO_FORK			0x10	/* a fork child's copy of a region: token */

struct vmpd_hello {
	uint32_t magic;		/* VMPD_MAGIC */
	uint32_t version;	/* VMPD_VERSION */
	uint32_t type;		/* VMPD_HELLO */
	uint32_t flags;		/* VMPD_HELLO_* */
	uint64_t base;		/* region start in the client */
	uint64_t size;		/* bytes: a page multiple, the memfd's size */
	uint64_t budget;	/* frames wanted; 0: the daemon's client_frames */
	uint64_t features;	/* uffdio_api.features the kernel granted */
	uint64_t file_offset;	/* HELLO_FILE: bytes, page-aligned; else 0 */
	uint64_t file_length;	/* HELLO_FILE: bytes, > size - page; else 0 */
	uint64_t token;		/* HELLO_REATTACH: the welcome's token; HELLO_FORK: the FORKED one; else 0 */
	uint64_t reserved;	/* zero */
};

/* client -> daemon, after the welcome of a file-backed region */
/*
 * A VMPD_HELLO_REATTACH hello may carry, after it in the same message, up
 * to VMPD_REATTACH_EXT of these: where the region's memfd is mapped in the
 * client now (its /proc/self/maps). They replace the map the dead daemon
 * kept, which misses an unmap or mremap it had read and not yet applied;
 * pages mapped nowhere are dropped.
 */
#define VMPD_REATTACH_EXT	64
struct vmpd_hello_ext {
	uint64_t start;		/* client address, page-aligned */
	uint64_t npages;
	uint64_t pgoff;		/* first page of the memfd mapped there */
};

struct vmpd_flush {
	uint32_t magic;		/* VMPD_MAGIC */
	uint32_t version;	/* VMPD_VERSION */
	uint32_t type;		/* VMPD_FLUSH */
	uint32_t flags;		/* zero */
	uint64_t first;		/* first page of the region to write back */
	uint64_t npages;	/* pages from there */
	uint64_t reserved[2];	/* zero */
};

/*
 * VMPD_FORK, with SCM_RIGHTS { memfd }: a new empty memfd of the region's
 * size. The daemon write-protects the region, copies every page it has in
 * memory into that memfd, shares the swap copies of the others, and
 * answers VMPD_FORKED with a token (error 0) or an error. The child maps
 * the memfd at the region's address, registers it with a userfaultfd of
 * its own and sends a hello with VMPD_HELLO_FORK and the token.
 */
struct vmpd_fork {
	uint32_t magic;		/* VMPD_MAGIC */
	uint32_t version;	/* VMPD_VERSION */
	uint32_t type;		/* VMPD_FORK */
	uint32_t flags;		/* zero */
	uint64_t base;		/* where the child maps it: the whole region there */
	uint64_t reserved[3];	/* zero */
};

struct vmpd_reply {
	uint32_t magic;		/* VMPD_MAGIC */
	uint32_t version;	/* VMPD_VERSION */
	uint32_t type;		/* VMPD_WELCOME, VMPD_REFUSED or VMPD_LOST */
	int32_t error;		/* REFUSED, FLUSHED: negative errno; else 0 */
	uint64_t budget;	/* WELCOME: frames granted */
	uint64_t addr;		/* LOST: the page's address */
	uint64_t cache;		/* WELCOME: soft-eviction cache pages granted */
	uint64_t token;		/* WELCOME: names the region for a re-attach (0: none); FORKED: the child's */
	uint64_t reserved[2];
	char text[128];		/* REFUSED, LOST: why, NUL-terminated */
};

#endif /* _VMPD_PROTO_H */
