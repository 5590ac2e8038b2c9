/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmpager internals shared by the module's files.
 *
 * Objects: every open() of /dev/vmpager creates a struct vmp_obj with its own
 * anonymous inode, so that the object has its own address_space: the core mm
 * links every VMA of the object into that mapping's i_mmap tree, and
 * unmap_mapping_pages() on it reaches every mapper (shared, private, after
 * fork, mremap or split). The object's pages live in pool frames, found
 * through obj->pages (index -> struct page *).
 *
 * Frames: the pool takes its frames at load (vmp_pool.c) as physically
 * contiguous chunks, splits them into order-0 pages each holding one
 * reference owned by the pool, and manages them with the buddy allocator in
 * vmp_buddy.c. page->private holds the frame number of a pool page.
 *
 * Lock ordering (outermost first):
 *
 *   vmp_objs_lock (mutex: global object list)
 *     mapping->i_mmap_rwsem (read, only for rmap dumps)
 *       obj->lock (mutex: size, VMA list)
 *         obj->vmas_lock (spinlock: VMA list changes; the harvest reads
 *           the list under it alone, from reclaim, with page locks held,
 *           and only tries each mapper's mmap_lock, vmp_harvest.c)
 *   THIS_MODULE->param_lock (mutex: kernel_param_lock(), held by the
 *     kernel around every module parameter's set/get; vmp_param.c)
 *     vmp_policy_lock (a policy= write switches; watermarks= takes
 *       vmp_pool.lock)
 *   vmp_policy_lock (rwsem: read by reclaim passes, write by policy switch)
 *     page lock (PG_locked; never held while waiting for a file-backed
 *       object's file: its write-back copies the page and writes the
 *       copy, vmp_file.c)
 *       mapping->i_mmap_rwsem (read: folio_mkclean() before that copy)
 *       obj->pages xa_lock
 *       vmp_pool.lock (spinlock: buddy, frame table, policy, objects' ra)
 *         vmp_swap.lock (spinlock: slot bitmaps, swap areas)
 *   vmp_srv_attach_lock (mutex: attaching or killing the swap server,
 *     vmp_uring.c)
 *     vmp_swap.add_lock (mutex: adding swap areas)
 *       the swap file's i_rwsem (filling its holes, setting S_SWAPFILE,
 *         vmp_bio.c), a block device's open_mutex (claiming it)
 *       vmp_swap.lock
 *     vmp_srv_lock (vmp_srv_kill), then vmp_swap.lock after dropping it
 *   vmp_srv_lock (spinlock: server instances and tags; a leaf: no other
 *     vmpager lock, io_uring call or user copy is taken under it)
 *
 * Swap I/O through a filesystem (kiocbs) never runs in the faulting task:
 * it is submitted from the vmpager_io workqueue, so the filesystem's locks
 * (sb_writers, i_rwsem) are never taken under a task's mmap_lock or
 * vmp_policy_lock. Block I/O (bios to an extent-mapped file's device or a
 * block device, vmp_bio.c) takes no filesystem lock and is submitted by
 * the faulting or reclaiming task itself.
 *
 * The fault handler takes a page lock with no vmpager lock held, then at
 * most obj->pages' xa_lock and the pool lock, never a mutex; it may run a
 * reclaim pass (vmp_policy_lock read) before it takes any page lock.
 * Reclaim takes page locks with trylock_page() under the pool lock, the
 * one place the page lock nests inside it, so it can never wait there.
 */
#ifndef _VMP_INTERNAL_H
#define _VMP_INTERNAL_H

#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include <linux/blkdev.h>
#include <linux/bvec.h>
#include <linux/completion.h>
#include <linux/workqueue.h>
#include <linux/fs.h>

#include "uapi/vmpager.h"
#include "vmp_buddy.h"
#include "policy/vmp_policy.h"
#include "policy/vmp_ra.h"

/* Module parameters (vmp_main.c). */
extern unsigned int vmp_pool_pages;		/* invariant after load */
extern unsigned long vmp_max_obj_pages;		/* read once per open */

/* ---- statistics: one per-cpu array indexed by enum vmpager_stat_id ---- */
struct vmp_stats {
	u64 v[VMPAGER_NR_STATS];
};

extern struct vmp_stats __percpu *vmp_stats;

static inline void vmp_count(enum vmpager_stat_id id)
{
	this_cpu_inc(vmp_stats->v[id]);
}

static inline void vmp_count_add(enum vmpager_stat_id id, u64 n)
{
	this_cpu_add(vmp_stats->v[id], n);
}

void vmp_stats_snapshot(u64 out[VMPAGER_NR_STATS]);
void vmp_stats_reset(void);

/* ---- the pool (vmp_pool.c) ---- */
struct vmp_chunk {
	struct page *page;	/* first page; invariant after load */
	u32 first;		/* first frame number */
	u32 order;
};

#define VMP_FRESH_RING	64	/* frames mapped between passes, remembered */
#define VMP_HARVEST_MAX	1024	/* harvest_batch limit (debugfs) */

struct vmp_pool {
	spinlock_t lock;		/* buddy, frame table, counters */
	struct vmp_buddy buddy;		/* protected by lock */
	struct vmp_frame *frames;	/* fields protected by lock */
	u32 nframes;			/* invariant after load */
	u64 resident;			/* protected by lock */
	u64 orphaned;			/* protected by lock */
	struct vmp_chunk *chunks;	/* invariant after load */
	u32 nr_chunks;			/* invariant after load */
	u32 max_chunks;			/* room in chunks[], invariant */
	struct vmp_policy pol;		/* protected by lock */
	struct vmp_policy *pol_next;	/* lock; the new policy during a switch */
	u16 pol_gen;			/* lock; VMP_FRAME_PGEN of frames in pol */
	void *pol_mem;			/* policy history; vmp_policy_lock */
	size_t pol_bytes;		/* size of pol_mem; vmp_policy_lock */
	u32 wmark_min;			/* WRITE_ONCE by vmp_watermarks_set */
	u32 wmark_low;			/* WRITE_ONCE by vmp_watermarks_set */
	u32 wmark_high;			/* WRITE_ONCE by vmp_watermarks_set */
	u32 ra_window;			/* swap readahead pages, WRITE_ONCE */
	bool ra_adaptive;		/* window sized by hits, WRITE_ONCE */
	bool ra_async;			/* read the next window ahead, WRITE_ONCE */
	bool kthread_busy;		/* the kthread is reclaiming */
	bool soft_unmap;		/* soft-unmap aging on, WRITE_ONCE */
	bool harvest;			/* accessed-bit harvesting on, WRITE_ONCE */
	bool harvest_flush;		/* flush TLBs after a harvest, WRITE_ONCE */
	u32 harvest_batch;		/* candidates per pass, WRITE_ONCE */
	u32 fresh[VMP_FRESH_RING];	/* lock: frames mapped since the last pass */
	u32 fresh_next;			/* lock: next slot of fresh[] */
	u32 fresh_n;			/* lock: valid entries of fresh[]; READ_ONCE glance in vmp_fault */
	atomic_t fail_allocs;		/* fault injection: fail next N allocs */
};

extern struct vmp_pool vmp_pool;

int vmp_pool_init(unsigned int nframes);
void vmp_pool_exit(void);
struct page *vmp_frame_page(u32 frame);
struct page *vmp_frame_alloc(struct vmp_obj *obj, pgoff_t index);
struct page *vmp_frame_alloc_noreclaim(struct vmp_obj *obj, pgoff_t index);
void vmp_frame_release(struct page *page);
void vmp_frame_unlist(struct page *page);
size_t vmp_frame_meta_bytes(void);

/* ---- reclaim (vmp_reclaim.c) ---- */
extern struct rw_semaphore vmp_policy_lock;
int vmp_reclaim_init(void);
void vmp_reclaim_exit(void);
int vmp_policy_setup(int kind);
int vmp_policy_switch(int kind);
unsigned long vmp_reclaim(unsigned long nr, bool direct);
unsigned long vmp_reclaim_direct(unsigned long nr);
void vmp_reclaim_before_alloc(void);
int vmp_watermarks_set(u32 min, u32 low, u32 high);

/*
 * Fault injection (vmp_debugfs.c): the next N of a kind fail (debugfs
 * fail_reads, fail_writes, fail_allocs); with CONFIG_FAULT_INJECTION also
 * the kernel's framework, one fault_attr per kind (debugfs fault_reads/,
 * fault_writes/, fault_allocs/: probability, interval, times, space,
 * task-filter, verbose), consulted once it has a probability.
 */
enum vmp_inject_kind { VMP_FAULT_READ, VMP_FAULT_WRITE, VMP_FAULT_ALLOC, VMP_FAULT_NR };
bool vmp_should_fail(enum vmp_inject_kind k);

/* vmp_param.c: the stable settings as module parameters */
#define VMP_REF_NR	4	/* ref_source: bit 0 soft-unmap, bit 1 accessed */
extern const char *const vmp_ref_source_names[VMP_REF_NR];
int vmp_ref_source_get(void);
void vmp_ref_source_apply(int k);
int vmp_params_policy(void);
int vmp_params_start(void);
void vmp_params_stop(void);

/* ---- reference harvesting (vmp_harvest.c) ---- */
void vmp_harvest_pass(void);
bool vmp_harvest_victim(struct vmp_obj *obj, pgoff_t index, u32 frame);
void vmp_harvest_fresh_locked(u32 frame);
void vmp_harvest_fresh_sweep(void);

/* ---- swap (vmp_swap.c) ---- */
#define VMP_MAX_SWAPFILES	16
#define VMP_MAX_SWAPAREAS	16

/* How a swap file's pages move (vmp_bio.c, vmp_swap.c); invariant. */
enum vmp_io_kind {
	VMP_IO_BUFFERED,		/* kiocb through the page cache (tmpfs) */
	VMP_IO_DIRECT,			/* O_DIRECT kiocb (no bmap: btrfs...) */
	VMP_IO_BIO,			/* bios to the block device, extent-mapped */
};

/* A run of a swap file's pages that is contiguous on its block device. */
struct vmp_swap_extent {
	u32 page;			/* first page of the file */
	u32 nr;				/* pages */
	sector_t sector;		/* where the first one starts on the device */
};

struct vmp_swap_file {
	struct file *file;		/* invariant once published */
	u32 nslots;			/* slots this file holds, invariant */
	enum vmp_io_kind io;		/* invariant once published */
	/* VMP_IO_BIO only, invariant once published: */
	struct block_device *bdev;	/* where the bios go */
	struct block_device *claimed;	/* a block device area, held FMODE_EXCL */
	struct vmp_swap_extent *ext;	/* sorted by page, covering 0..nslots */
	u32 next;			/* extents in ext[] */
	bool swapflag;			/* we set S_SWAPFILE on the inode */
};

enum vmp_area_kind { VMP_AREA_FILES, VMP_AREA_SERVER };

/*
 * A range of slots with one backend: files striped page by page (slot s of
 * the area is in file s % nfiles at page s / nfiles), or the userspace swap
 * server (vmp_uring.c). Areas are only ever appended; nareas is published
 * with release semantics once the area and its files are filled in.
 */
struct vmp_swap_area {
	unsigned long *map;		/* pointer invariant; bits under lock */
	u32 first;			/* first slot, invariant */
	u32 nslots;			/* invariant */
	u32 used;			/* protected by vmp_swap.lock */
	u32 cursor;			/* next-fit start, protected by lock */
	enum vmp_area_kind kind;	/* invariant */
	bool online;			/* written under lock, READ_ONCE to glance */
	u8 file0;			/* FILES: first of its files, invariant */
	u8 nfiles;			/* FILES: invariant */
};

struct vmp_swap {
	spinlock_t lock;		/* area maps, used, nslots, area used/cursor/online */
	u32 nslots;			/* protected by lock; READ_ONCE for a glance */
	u32 used;			/* protected by lock */
	struct mutex add_lock;		/* serializes adding areas */
	int nfiles;			/* protected by add_lock; acquire via nareas */
	int nareas;			/* written under add_lock with release */
	struct vmp_swap_file files[VMP_MAX_SWAPFILES];
	struct vmp_swap_area areas[VMP_MAX_SWAPAREAS];
	atomic_t fail_reads;		/* fault injection: fail next N reads */
	atomic_t fail_writes;		/* fault injection: fail next N writes */
};

extern struct vmp_swap vmp_swap;

/*
 * A set of I/Os in flight; the submitter waits for all of them. The block
 * backend builds one bio at a time in it (pages whose sectors follow each
 * other, same direction), submitted when the next page does not fit or at
 * vmp_batch_wait(), all under a block plug so that they reach the driver
 * together. A reclaim batch also holds a run of
 * consecutive swap slots for its writes (vmp_slot_alloc_batch()), given
 * back in vmp_batch_wait() if unused. A batch lives on its submitter's
 * stack, between vmp_batch_init() and vmp_batch_wait() in one task. An
 * asynchronous batch (end_io set: read-ahead) ends with vmp_batch_submit()
 * instead, and its I/Os complete through end_io, not the batch.
 */
struct vmp_batch {
	atomic_t pending;
	struct completion done;
	struct blk_plug plug;
	struct bio *bio;		/* being built, not submitted yet */
	struct vmp_io *tail;		/* its last page's I/O */
	sector_t next_sector;		/* the sector after its last page */
	u32 slot_next, slot_end;	/* slots taken for its writes, not used yet */
	u32 slot_want;			/* writes it may still make (reclaim) */
	struct vmp_io *srv_head;	/* server area: requests not handed over yet */
	struct vmp_io *srv_tail;
	/* set: each I/O calls it and the batch waits for none (async reads) */
	void (*end_io)(struct vmp_io *io);
};

struct vmp_io {
	struct kiocb iocb;
	struct bio_vec bv;
	struct page *page;
	u32 slot;
	int rw;				/* READ or WRITE */
	int result;			/* 0 or -errno, set on completion */
	u64 start_ns;			/* submission time (tracepoints) */
	unsigned long queued;		/* server backend: jiffies when queued */
	struct vmp_batch *batch;
	/*
	 * Set: called instead of completing the batch. A read's may be called
	 * in interrupt context; a write's is called in vmpager_io.
	 */
	void (*end_io)(struct vmp_io *io);
	void *priv;			/* end_io's */
	struct list_head node;		/* server backend: queued requests */
	struct work_struct work;	/* files backend: submission in vmpager_io */
	struct vmp_swap_file *sf;	/* files backend: the file */
	struct file *filp;		/* files backend, file objects: the file */
	u32 len;			/* bytes to move (a file object's last page: fewer) */
	bool fobj;			/* a file-backed object's page (vmp_file.c) */
	atomic_t refs;			/* files backend: submission + completion */
	long ret;			/* files backend: bytes or -errno */
	struct vmp_io *next;		/* next page of its bio, or of its server run */
};

int vmp_swap_init(const char *paths, u32 pages_per_file);
void vmp_swap_exit(void);
int vmp_swap_add_fd(int fd, u64 pages);
int vmp_swap_add_server(u32 nslots, u32 *first);
void vmp_swap_area_set_online(u32 first, bool online);
bool vmp_swap_configured(void);
bool vmp_swap_uses_inode(struct inode *inode);
bool vmp_slot_readable(u32 slot);
int vmp_slot_alloc(u32 *slot);
int vmp_slot_alloc_batch(struct vmp_batch *b, u32 *slot);
void vmp_slot_free(u32 slot);
u32 vmp_swap_map_line(u32 first, u32 n, char *line);
void vmp_io_complete_one(struct vmp_io *io, long ret);
void vmp_io_complete_irq(struct vmp_io *io, long ret);

/* ---- the userspace swap server backend (vmp_uring.c) ---- */
struct io_uring_cmd;
void vmp_srv_submit(struct vmp_io *io);
int vmp_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags);
int vmp_srv_attach(struct file *file, const struct vmpager_srv_attach *a);
int vmp_srv_detach(struct file *file);
void vmp_srv_release(struct file *file);
bool vmp_srv_is_server_mm(struct mm_struct *mm);
const char *vmp_srv_state_name(void);
const struct file_operations *vmp_misc_fops(void);
/* ---- block I/O backend (vmp_bio.c) ---- */
int vmp_bio_setup(struct vmp_swap_file *sf, const char *what);
void vmp_bio_release(struct vmp_swap_file *sf);
void vmp_bio_submit(struct vmp_batch *b, struct vmp_io *io,
		    struct vmp_swap_file *sf, u32 page);
void vmp_bio_flush(struct vmp_batch *b);
int vmp_bio_init(void);
void vmp_bio_exit(void);
struct vmp_backing;
int vmp_bio_file_map(struct vmp_backing *fb, bool setflag, const char **why);
void vmp_bio_file_unmap(struct vmp_backing *fb, bool clearflag);
void vmp_bio_file_invalidate(const struct vmp_backing *fb);
void vmp_bio_file_submit(struct vmp_batch *b, struct vmp_io *io,
			 const struct vmp_backing *fb, pgoff_t index);
const char *vmp_swap_io_name(const struct vmp_swap_file *sf);

void vmp_batch_init(struct vmp_batch *b);
void vmp_io_submit(struct vmp_batch *b, struct vmp_io *io, int rw);
void vmp_batch_submit(struct vmp_batch *b);
void vmp_batch_wait(struct vmp_batch *b);
void vmp_ra_queue(struct work_struct *work);
void vmp_io_drain(void);

static inline u32 vmp_page_frame(struct page *page)
{
	return (u32)page_private(page);
}

/*
 * Policy switches move the held frames from vmp_pool.pol to the new policy
 * *vmp_pool.pol_next a batch at a time, dropping the pool lock in between
 * (vmp_policy_switch), so that a large pool never holds the lock for long.
 * Meanwhile faults still insert, reference and remove frames: a frame's
 * VMP_FRAME_PGEN bit says which policy holds it (equal to pol_gen: pol;
 * otherwise pol_next). Reclaim is excluded by vmp_policy_lock (write) for
 * the whole switch, so no frame is detached while frames move.
 */
#define VMP_LOCK_BATCH	256	/* frames handled per pool-lock hold */

static inline struct vmp_policy *vmp_frame_policy(u32 frame)
{
	lockdep_assert_held(&vmp_pool.lock);
	if (unlikely(vmp_pool.pol_next) &&
	    (vmp_pool.frames[frame].flags & VMP_FRAME_PGEN) != vmp_pool.pol_gen)
		return vmp_pool.pol_next;
	return &vmp_pool.pol;
}

/* Hand a frame that is on no list to the policy: the new one in a switch. */
static inline void vmp_frame_insert_locked(u32 frame, u64 key)
{
	struct vmp_frame *fr = &vmp_pool.frames[frame];
	struct vmp_policy *p = &vmp_pool.pol;
	u16 gen = vmp_pool.pol_gen;

	lockdep_assert_held(&vmp_pool.lock);
	if (unlikely(vmp_pool.pol_next)) {
		p = vmp_pool.pol_next;
		gen ^= VMP_FRAME_PGEN;
	}
	vmp_policy_insert(p, frame, key);
	fr->flags = (fr->flags & ~VMP_FRAME_PGEN) | gen | VMP_FRAME_ONLIST;
}

/* A policy counter; in a switch both policies count (pool lock held). */
#define vmp_pol_stat(field)						\
	(vmp_pool.pol.stats.field +					\
	 (vmp_pool.pol_next ? vmp_pool.pol_next->stats.field : 0))

/* Policy counters before a policy call, to trace what the call moved. */
struct vmp_pol_snap {
	u64 act, deact, refault;
};

static inline void vmp_pol_snap(struct vmp_pol_snap *s)
{
	s->act = vmp_pol_stat(activations);
	s->deact = vmp_pol_stat(deactivations);
	s->refault = vmp_pol_stat(refaults);
}

/* Called after the pool lock is dropped, with the snapshot taken under it. */
void vmp_pol_trace(const struct vmp_pol_snap *before,
		   const struct vmp_pol_snap *after, u32 frame, u64 key);

/* ---- objects (vmp_obj.c) ---- */
struct vmp_vma {
	struct list_head node;		/* on obj->vmas, protected by obj->lock */
	struct vm_area_struct *vma;	/* invariant */
};

struct vmp_obj {
	u64 id;				/* invariant */
	struct inode *inode;		/* anon inode, invariant */
	struct address_space *mapping;	/* inode->i_mapping, invariant */
	struct xarray pages;		/* index -> struct page *; xa_lock */
	struct mutex lock;
	pgoff_t size;			/* written under lock, read with READ_ONCE */
	pgoff_t max_size;		/* invariant */
	struct list_head vmas;		/* struct vmp_vma; lock and vmas_lock */
	spinlock_t vmas_lock;		/* vmas changes; harvest reads (vmp_harvest.c) */
	unsigned int nr_vmas;		/* protected by lock */
	atomic_long_t resident;		/* pages in frames */
	atomic_long_t swapped;		/* pages only in swap slots */
	atomic_long_t faults;		/* faults served */
	struct vmp_ra ra;		/* read-ahead state, vmp_pool.lock */
	struct list_head node;		/* on vmp_objs, protected by vmp_objs_lock */
	/* set once under lock before anything maps it, then invariant: */
	struct vmp_backing *backing;	/* file-backed objects (vmp_file.c) */
	atomic_t wb_inflight;		/* file-backed: write-backs in flight */
	atomic_t wb_errors;		/* file-backed: write-backs that failed */
	bool copying;			/* VMPAGER_IOC_COPY fills it; lock */
};

/*
 * A file-backed object (VMPAGER_IOC_MAP_FILE, vmp_file.c): page i is bytes
 * [off + i * PAGE_SIZE, + PAGE_SIZE) of file, cut at length. A page that is
 * not in obj->pages is in the file (never a swap slot, never zero).
 */
struct vmp_backing {
	struct file *file;		/* a reference held until destroy */
	loff_t off;			/* page-aligned */
	u64 length;			/* bytes */
	pgoff_t npages;			/* DIV_ROUND_UP(length, PAGE_SIZE) */
	bool ro;			/* never written back */
	/* block-level I/O (vmp_bio.c), invariant once the object is bound: */
	struct block_device *bdev;	/* NULL: through the file's page cache */
	struct vmp_swap_extent *ext;	/* sorted by page, covering 0..npages */
	u32 next;			/* extents in ext[] */
	atomic_t bio_written;		/* bios wrote since the last time update */
	struct list_head node;		/* in vmp_bound, under vmp_bound_lock */
};

extern struct mutex vmp_objs_lock;
extern struct list_head vmp_objs;	/* protected by vmp_objs_lock */
extern unsigned long vmp_nr_objs;	/* protected by vmp_objs_lock */

u64 vmp_page_key(struct vmp_obj *obj, pgoff_t index);
struct vmp_obj *vmp_obj_create(struct super_block *sb);
void vmp_obj_destroy(struct vmp_obj *obj);
int vmp_obj_mmap(struct vmp_obj *obj, struct vm_area_struct *vma);
void vmp_obj_info(struct vmp_obj *obj, struct vmpager_obj_info *info);
int vmp_obj_copy(struct vmp_obj *dst, const struct vmpager_copy *cp);

/* rmap: visit every (mm, address, vma) mapping @index of @obj */
typedef void (*vmp_rmap_fn)(struct vm_area_struct *vma, unsigned long addr,
			    void *arg);
void vmp_obj_rmap_walk(struct vmp_obj *obj, pgoff_t index, vmp_rmap_fn fn,
		       void *arg);
pid_t vmp_mm_pid(struct mm_struct *mm);
bool vmp_vma_is_ours(struct vm_area_struct *vma);
bool vmp_mm_maps_device(struct mm_struct *mm);

/* ---- file-backed objects (vmp_file.c) ---- */
int vmp_file_bind(struct vmp_obj *obj, const struct vmpager_map_file *mf);
void vmp_file_put(struct vmp_obj *obj);
bool vmp_file_uses_inode(struct inode *inode);
u32 vmp_file_page_len(const struct vmp_backing *fb, pgoff_t index);
void vmp_file_io_submit(struct vmp_batch *b, struct vmp_io *io,
			struct vmp_obj *obj, pgoff_t index, int rw);
int vmp_file_write_start(struct vmp_obj *obj, struct page *page, pgoff_t index,
			 gfp_t gfp);
bool vmp_file_wb_busy(struct page *page);
void vmp_file_wb_wait_page(struct page *page);
void vmp_file_wb_drain(struct vmp_obj *obj);
bool vmp_file_wb_wait_some(void);
int vmp_file_writeback(struct vmp_obj *obj, pgoff_t first, pgoff_t last,
		       bool nofail);
int vmp_file_fsync(struct file *file, loff_t start, loff_t end, int datasync);

/* ---- debugfs (vmp_debugfs.c) ---- */
void vmp_debugfs_init(void);
void vmp_debugfs_exit(void);
extern const struct file_operations vmp_walk_fops;	/* vmp_walk.c */

#endif /* _VMP_INTERNAL_H */
