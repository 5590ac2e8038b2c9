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
 *         page lock (PG_locked)
 *           obj->pages xa_lock
 *           vmp_pool.lock (spinlock: buddy, frame table)
 *
 * The fault handler takes a page lock with no vmpager lock held, then at
 * most obj->pages' xa_lock and the pool lock, never a mutex.
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

#include "uapi/vmpager.h"
#include "vmp_buddy.h"

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

void vmp_stats_snapshot(u64 *out, unsigned int n);
void vmp_stats_reset(void);

/* ---- the pool (vmp_pool.c) ---- */
struct vmp_chunk {
	struct page *page;	/* first page; invariant after load */
	u32 first;		/* first frame number */
	u32 order;
};

struct vmp_pool {
	spinlock_t lock;		/* buddy, frame table, counters */
	struct vmp_buddy buddy;		/* protected by lock */
	struct vmp_frame *frames;	/* fields protected by lock */
	u32 nframes;			/* invariant after load */
	u64 resident;			/* protected by lock */
	u64 orphaned;			/* protected by lock */
	struct vmp_chunk *chunks;	/* invariant after load */
	u32 nr_chunks;			/* invariant after load */
};

extern struct vmp_pool vmp_pool;

int vmp_pool_init(unsigned int nframes);
void vmp_pool_exit(void);
struct page *vmp_frame_page(u32 frame);
struct page *vmp_frame_alloc(struct vmp_obj *obj, pgoff_t index);
void vmp_frame_release(struct page *page);
size_t vmp_frame_meta_bytes(void);

static inline u32 vmp_page_frame(struct page *page)
{
	return (u32)page_private(page);
}

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
	struct list_head vmas;		/* struct vmp_vma, protected by lock */
	unsigned int nr_vmas;		/* protected by lock */
	atomic_long_t resident;		/* pages in frames */
	atomic_long_t faults;		/* faults served */
	struct list_head node;		/* on vmp_objs, protected by vmp_objs_lock */
};

extern struct mutex vmp_objs_lock;
extern struct list_head vmp_objs;	/* protected by vmp_objs_lock */
extern unsigned long vmp_nr_objs;	/* protected by vmp_objs_lock */

struct vmp_obj *vmp_obj_create(struct super_block *sb);
void vmp_obj_destroy(struct vmp_obj *obj);
int vmp_obj_mmap(struct vmp_obj *obj, struct vm_area_struct *vma);
void vmp_obj_info(struct vmp_obj *obj, struct vmpager_obj_info *info);

/* rmap: visit every (mm, address, vma) mapping @index of @obj */
typedef void (*vmp_rmap_fn)(struct vm_area_struct *vma, unsigned long addr,
			    void *arg);
void vmp_obj_rmap_walk(struct vmp_obj *obj, pgoff_t index, vmp_rmap_fn fn,
		       void *arg);
pid_t vmp_mm_pid(struct mm_struct *mm);

/* ---- debugfs (vmp_debugfs.c) ---- */
void vmp_debugfs_init(void);
void vmp_debugfs_exit(void);

#endif /* _VMP_INTERNAL_H */
