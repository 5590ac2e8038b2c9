/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vmpager user ABI: the one contract between vmpager.ko, vmpagerd, vmpagerctl,
 * the client library and the tests.
 *
 * /dev/vmpager: every open() creates a new, empty memory object. mmap() of the
 * fd (MAP_SHARED or MAP_PRIVATE) maps the object; the object grows to cover
 * what is mapped, up to the max_obj_pages module parameter. The ioctls below
 * are issued on such an fd. All sizes are in pages unless named *_bytes.
 *
 * Compatibility: the ioctl numbers (which encode the structure sizes) change
 * only with the major version. ABI 2.0 is ABI 1.3 with the magic moved from
 * 0xB6 (the kernel's fpga-dfl ioctls use it) to 0xB9, free in the kernel's
 * ioctl-number list: a 1.x program's VERSION ioctl fails with ENOTTY. Structures grow only into their reserved fields, which read as
 * zero until used, and VMPAGER_IOC_VERSION reports the ABI version. Counters are indexed by enum vmpager_stat_id; new counters are
 * appended and nr_stats says how many the running module filled in.
 * ABI 2.1 adds VMPAGER_IOC_MAP_FILE (file-backed objects), the obj_info
 * fields file_pages and flags, and the file_* counters. ABI 2.2 adds
 * block-level I/O for file-backed objects: the map_file flag
 * VMPAGER_FILE_CACHED and the obj_info flag VMPAGER_OBJ_BIO. ABI 2.3 adds
 * the counters readahead_async and read_waits (asynchronous read-ahead),
 * VMPAGER_IOC_COPY and the counter copy_pages.
 */
#ifndef _UAPI_LINUX_VMPAGER_H
#define _UAPI_LINUX_VMPAGER_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define VMPAGER_VERSION_MAJOR	2
#define VMPAGER_VERSION_MINOR	3

#define VMPAGER_DEVICE		"/dev/vmpager"
#define VMPAGER_MAX_ORDER	10	/* buddy orders 0..VMPAGER_MAX_ORDER */
#define VMPAGER_NR_ORDERS	(VMPAGER_MAX_ORDER + 1)

/*
 * Counters, indexed into vmpager_global_info.stats[]. New counters are only
 * appended. Their names (module/vmp_stat_names.h) are what debugfs "stats"
 * and vmpagerctl print; docs/debugfs.md describes each.
 */
enum vmpager_stat_id {
	VMPAGER_STAT_faults,	/* page faults handled by the fault handler */
	VMPAGER_STAT_faults_minor,	/* faults served from a resident frame */
	VMPAGER_STAT_faults_major,	/* faults that needed swap-in I/O */
	VMPAGER_STAT_faults_zero,	/* first-touch faults served by a zeroed frame */
	VMPAGER_STAT_faults_retry,	/* faults retried after losing a race */
	VMPAGER_STAT_mkwrite,	/* first writes to a clean shared page */
	VMPAGER_STAT_alloc_ok,	/* frames allocated from the buddy allocator */
	VMPAGER_STAT_alloc_fail,	/* frame allocations that found no free block */
	VMPAGER_STAT_frees,	/* frames returned to the buddy allocator */
	VMPAGER_STAT_oom_sigbus,	/* faults answered with SIGBUS: pool exhausted */
	VMPAGER_STAT_range_sigbus,	/* faults answered with SIGBUS: beyond object size */
	VMPAGER_STAT_unmaps,	/* unmap_mapping_pages calls (TLB shootdowns) */
	VMPAGER_STAT_orphaned,	/* frames given up because someone kept a reference */
	VMPAGER_STAT_objects_created,	/* memory objects created */
	VMPAGER_STAT_objects_freed,	/* memory objects freed */
	VMPAGER_STAT_buddy_splits,	/* buddy blocks split */
	VMPAGER_STAT_buddy_merges,	/* buddy blocks coalesced */
	VMPAGER_STAT_swap_ins,		/* pages read from swap (incl. readahead) */
	VMPAGER_STAT_swap_outs,		/* pages written to swap */
	VMPAGER_STAT_reclaim_runs,	/* reclaim passes (kthread and direct) */
	VMPAGER_STAT_reclaim_direct,	/* reclaim passes run by a faulting task */
	VMPAGER_STAT_reclaim_scans,	/* victims the policy offered */
	VMPAGER_STAT_evict_zero,	/* never-written pages dropped, no I/O */
	VMPAGER_STAT_evict_clean,	/* clean pages with a valid swap copy dropped */
	VMPAGER_STAT_evict_written,	/* dirty pages written out, then freed */
	VMPAGER_STAT_evict_busy,	/* victims skipped: locked, mapped or pinned */
	VMPAGER_STAT_evict_noswap,	/* dirty victims kept: no swap or swap full */
	VMPAGER_STAT_activations,	/* policy promotions to its hot set */
	VMPAGER_STAT_deactivations,	/* policy demotions from its hot set */
	VMPAGER_STAT_refaults,		/* faults on pages found in ghost history */
	VMPAGER_STAT_readahead,		/* pages read ahead of a swap-in fault */
	VMPAGER_STAT_readahead_hits,	/* faults served by a read-ahead page */
	VMPAGER_STAT_read_errors,	/* swap reads that failed (faulting access: SIGBUS) */
	VMPAGER_STAT_write_errors,	/* swap writes that failed (page kept dirty) */
	VMPAGER_STAT_swap_full,		/* slot allocations that found no free slot */
	VMPAGER_STAT_kthread_wakeups,	/* reclaim kthread woken below low */
	VMPAGER_STAT_srv_requests,	/* swap page I/Os handed to the userspace server */
	VMPAGER_STAT_srv_failed,	/* server I/Os failed: server dead, detached or faulty */
	VMPAGER_STAT_srv_deaths,	/* servers declared dead or detached */
	VMPAGER_STAT_soft_unmaps,	/* inactive pages unmapped to sample references */
	VMPAGER_STAT_soft_refs,		/* minor faults on soft-unmapped pages (references) */
	VMPAGER_STAT_harvest_frames,	/* frames whose PTEs' accessed bits were tested */
	VMPAGER_STAT_harvest_ptes,	/* PTEs visited by harvests, look-around included */
	VMPAGER_STAT_harvest_young,	/* accessed bits passed to the policy as references */
	VMPAGER_STAT_harvest_fresh,	/* accessed bits consumed as their mapping fault's own */
	VMPAGER_STAT_harvest_busy,	/* mappers skipped: their mmap_lock was contended */
	VMPAGER_STAT_harvest_saved,	/* victims kept because their accessed bit was set */
	VMPAGER_STAT_harvest_ns,	/* nanoseconds spent harvesting (local_clock) */
	VMPAGER_STAT_harvest_flushes,	/* TLB flushes of every CPU after a harvest */
	VMPAGER_STAT_bio_reads,		/* read bios sent to a swap block device */
	VMPAGER_STAT_bio_read_pages,	/* pages those bios carried */
	VMPAGER_STAT_bio_writes,	/* write bios sent to a swap block device */
	VMPAGER_STAT_bio_write_pages,	/* pages those bios carried */
	VMPAGER_STAT_srv_runs,		/* requests handed to the server (a run each) */
	VMPAGER_STAT_file_reads,	/* pages read from a file-backed object's file */
	VMPAGER_STAT_file_writes,	/* dirty pages written back to their file */
	VMPAGER_STAT_file_syncs,	/* fsync/msync(MS_SYNC) of a file-backed object */
	VMPAGER_STAT_file_binds_bio,	/* MAP_FILE binds whose file is read with bios (2.2) */
	VMPAGER_STAT_readahead_async,	/* pages read by asynchronous read-ahead (2.3) */
	VMPAGER_STAT_read_waits,	/* faults that waited for a read in flight of their page (2.3) */
	VMPAGER_STAT_copy_pages,	/* pages copied by VMPAGER_IOC_COPY (2.3) */
	VMPAGER_NR_STATS
};

#define VMPAGER_STATS_MAX	128	/* room in struct vmpager_global_info */

struct vmpager_version {
	__u32 major;
	__u32 minor;
	__u32 page_size;
	__u32 max_order;
};

/* VMPAGER_IOC_OBJ_INFO: the object behind this fd. */
struct vmpager_obj_info {
	__u64 id;		/* unique object id, as in debugfs "objects" */
	__u64 size;		/* pages covered by mappings so far */
	__u64 max_size;		/* max_obj_pages at creation */
	__u64 resident;		/* pages held in pool frames */
	__u64 swapped;		/* pages held in swap slots */
	__u64 mappers;		/* live VMAs mapping the object */
	__u64 faults;		/* faults served for this object */
	__u64 file_pages;	/* file-backed: pages of the file range (2.1) */
	__u32 flags;		/* VMPAGER_OBJ_* (2.1) */
	__u32 reserved32;
	__u64 reserved[6];
};

#define VMPAGER_OBJ_FILE	(1U << 0)	/* bound to a file (VMPAGER_IOC_MAP_FILE) */
#define VMPAGER_OBJ_RDONLY	(1U << 1)	/* its file is never written */
#define VMPAGER_OBJ_BIO		(1U << 2)	/* its file's blocks read and written with bios (2.2) */

/*
 * VMPAGER_IOC_MAP_FILE (ABI 2.1): bind a fresh object (nothing mapped yet)
 * to bytes [offset, offset + length) of a regular file. Its page i is then
 * read from the file at offset + i * page size on first fault, kept in the
 * pool under the policy, and written back (only its bytes inside length)
 * when it is evicted dirty, on msync(MS_SYNC)/fsync of the object's fd and
 * when the object is released; it never takes a swap slot. The fd must be
 * open for reading; an fd not open for writing, or flags
 * VMPAGER_FILE_RDONLY, makes the object read-only (MAP_SHARED with
 * PROT_WRITE fails with EACCES, MAP_PRIVATE copies on write as usual).
 *
 * Block-level I/O (ABI 2.2): when the caller has CAP_SYS_RAWIO, the fd is
 * open for writing, no other object reaches the file through its page
 * cache, and the range lies on ext4 or xfs on one block device, fully
 * allocated and written, inside the file's size, ending on a page boundary
 * (or, on ext4, at the end of the file), the object reads and writes the
 * file's blocks with bios, as swap does, and the file's page cache is not
 * used; the inode is then marked as swap is (S_SWAPFILE) until the last
 * such object goes: write(2), shrinking truncate and fallocate of the file
 * fail with ETXTBSY. Any other file goes through its page cache, and so
 * does one bound with VMPAGER_FILE_CACHED; a writable object that cannot
 * have bios on a file another object reads with bios is refused with
 * ETXTBSY, a read-only one takes the page cache. An append-only or
 * immutable file gives a read-only object. VMPAGER_OBJ_BIO in obj_info
 * says which (docs/ioctl.md, "Block-level I/O").
 */
struct vmpager_map_file {
	__s32 fd;		/* a regular file, open for reading */
	__u32 flags;		/* VMPAGER_FILE_* */
	__u64 offset;		/* bytes, a multiple of the page size */
	__u64 length;		/* bytes, > 0; need not be a page multiple */
	__u64 reserved[2];	/* zero */
};

#define VMPAGER_FILE_RDONLY	(1U << 0)
#define VMPAGER_FILE_CACHED	(1U << 1)	/* through the page cache, never bios (2.2) */

/*
 * VMPAGER_IOC_COPY (ABI 2.3): make a fresh object (never mapped nor bound,
 * no page) a copy of the object behind @fd, an fd of /dev/vmpager open for
 * reading: every page that object holds, in the pool or in swap, as it is
 * at the instant it is copied, becomes a page of this one (pages it never
 * held stay holes, reading zero); the object's size is copied too. Each
 * page is copied whole: its mappings are unmapped and it is locked while
 * it is copied, so a write lands before or after its copy. The two objects
 * are independent afterwards. Pages copied count in copy_pages. A
 * file-backed source is refused (EINVAL). libvmpager uses it to give a
 * forked child its copy of a module region.
 */
struct vmpager_copy {
	__s32 fd;		/* the source object */
	__u32 flags;		/* zero */
	__u64 reserved[2];	/* zero */
};

/* VMPAGER_IOC_GLOBAL_INFO: the pool and every counter. */
struct vmpager_global_info {
	__u64 pool_pages;	/* frames taken at load */
	__u64 free_pages;	/* frames free in the buddy allocator */
	__u64 resident_pages;	/* frames holding object pages */
	__u64 orphaned_pages;	/* frames given up (see stats) */
	__u64 nr_free[VMPAGER_NR_ORDERS]; /* free blocks per order */
	__u64 frame_meta_bytes;	/* module metadata bytes per frame */
	__u64 nr_objects;	/* live objects */
	__u64 max_obj_pages;	/* current per-object limit */
	__u32 nr_stats;		/* entries of stats[] the module filled */
	__u32 reserved32;
	__u64 reserved[8];
	__u64 stats[VMPAGER_STATS_MAX];	/* indexed by enum vmpager_stat_id */
};

/* VMPAGER_IOC_SWAP_ADD: add a swap file as a new swap area. */
struct vmpager_swap_add {
	__s32 fd;		/* a regular file or block device, open O_RDWR */
	__u32 flags;		/* 0 */
	__u64 pages;		/* slots to use; 0: the file's size in pages */
	__u64 reserved[2];	/* 0 */
};

/*
 * The userspace swap server (docs/swap-server.md). A process attaches with
 * VMPAGER_IOC_SRV_ATTACH on an fd of /dev/vmpager, then submits @depth
 * IORING_OP_URING_CMD requests on that fd (cmd_op VMPAGER_URING_FETCH, one
 * per tag 0..depth-1, struct vmpager_srv_cmd in sqe->cmd). The module parks
 * them; a swap request completes one with cqe->res = VMPAGER_SRV_OP_READ or
 * VMPAGER_SRV_OP_WRITE after writing the request into descs[tag] and, for a
 * write, the page (or run of pages, VMPAGER_SRV_F_RUNS) into the tag's
 * buffer. The server does the I/O and answers with
 * VMPAGER_URING_COMMIT_AND_FETCH (tag, result 0 or -errno; for a read the
 * pages are taken from the tag's buffer), which also parks the command
 * again. cqe->res < 0 ends a command: -ENODEV when the module gave the
 * server up (timeout, detach), -EINVAL/-EBUSY on protocol errors.
 */
struct vmpager_srv_attach {
	__u64 bufs;		/* user address of depth * run_pages * 4096 bytes, page aligned */
	__u64 descs;		/* user address of depth descriptors (below) */
	__u64 nslots;		/* pages the server can store (its slot space) */
	__u32 depth;		/* tags: 1..VMPAGER_SRV_MAX_DEPTH */
	__u32 timeout_ms;	/* unanswered this long: server dead (0: 5000) */
	__u32 flags;		/* VMPAGER_SRV_F_*; 0 (ABI 1.3; reserved before) */
	__u32 run_pages;	/* F_RUNS: pages per tag, 1..VMPAGER_SRV_MAX_RUN; else 0 */
	__u64 reserved[3];	/* 0 */
};

/*
 * VMPAGER_SRV_F_RUNS: a request may carry a run of consecutive slots
 * (slot .. slot + count - 1, count <= run_pages), whose pages sit one after
 * the other in the tag's buffer, bufs + tag * run_pages * 4096; descs is an
 * array of struct vmpager_srv_run_desc. The result of the commit is the
 * run's. Without it, one page per request and struct vmpager_srv_desc.
 */
#define VMPAGER_SRV_F_RUNS	0x1
#define VMPAGER_SRV_MAX_RUN	32

struct vmpager_srv_desc {
	__u64 slot;		/* the server's slot, 0..nslots-1 */
	__u32 op;		/* VMPAGER_SRV_OP_* */
	__u32 tag;
};

struct vmpager_srv_run_desc {
	__u64 slot;		/* the first slot of the run */
	__u32 op;		/* VMPAGER_SRV_OP_* */
	__u32 tag;
	__u32 count;		/* pages in the run, 1..run_pages */
	__u32 reserved;		/* 0 */
};

struct vmpager_srv_cmd {	/* sqe->cmd, 16 bytes */
	__u32 tag;
	__s32 result;		/* COMMIT_AND_FETCH: 0 or -errno of the I/O */
	__u64 reserved;		/* 0 */
};

#define VMPAGER_SRV_MAX_DEPTH		256
#define VMPAGER_SRV_OP_READ		1
#define VMPAGER_SRV_OP_WRITE		2
#define VMPAGER_URING_FETCH		0x10
#define VMPAGER_URING_COMMIT_AND_FETCH	0x11

#define VMPAGER_IOC_MAGIC	0xB9

/* Read the ABI version. Any fd. */
#define VMPAGER_IOC_VERSION	_IOR(VMPAGER_IOC_MAGIC, 0x00, struct vmpager_version)
/* Read this fd's object. */
#define VMPAGER_IOC_OBJ_INFO	_IOR(VMPAGER_IOC_MAGIC, 0x01, struct vmpager_obj_info)
/* Read the pool and counters. Any fd. */
#define VMPAGER_IOC_GLOBAL_INFO	_IOR(VMPAGER_IOC_MAGIC, 0x02, struct vmpager_global_info)
/* Zero the counters. CAP_SYS_ADMIN. */
#define VMPAGER_IOC_RESET_STATS	_IO(VMPAGER_IOC_MAGIC, 0x03)
/* Add a swap file (struct vmpager_swap_add). CAP_SYS_ADMIN. */
#define VMPAGER_IOC_SWAP_ADD	_IOW(VMPAGER_IOC_MAGIC, 0x04, struct vmpager_swap_add)
/*
 * Attach this fd as the swap server. CAP_SYS_ADMIN; the caller must have
 * called mlockall(MCL_CURRENT | MCL_FUTURE) and must never map the device.
 * timeout_ms is at most 600000.
 */
#define VMPAGER_IOC_SRV_ATTACH	_IOW(VMPAGER_IOC_MAGIC, 0x05, struct vmpager_srv_attach)
/* Detach the server of this fd: its requests fail over, its commands end. */
#define VMPAGER_IOC_SRV_DETACH	_IO(VMPAGER_IOC_MAGIC, 0x06)
/* Bind this fd's fresh object to a file range (struct vmpager_map_file). */
#define VMPAGER_IOC_MAP_FILE	_IOW(VMPAGER_IOC_MAGIC, 0x07, struct vmpager_map_file)
/* fill this fresh object with a copy of another one (ABI 2.3) */
#define VMPAGER_IOC_COPY	_IOW(VMPAGER_IOC_MAGIC, 0x08, struct vmpager_copy)

#endif /* _UAPI_LINUX_VMPAGER_H */
