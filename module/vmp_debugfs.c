// SPDX-License-Identifier: GPL-2.0
/*
 * vmpager debugfs: /sys/kernel/debug/vmpager/. Tables print a header line
 * and then one record per line; single-value knobs print just the value.
 * docs/debugfs.md describes each column. Dumps build their text in
 * seq_file's kernel buffer, never copying to userspace under a lock; frames
 * takes the pool lock one record at a time, lru for the whole walk of the
 * policy's lists (bounded by pool_pages).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "vmp_internal.h"
#include "vmp_stat_names.h"

static struct dentry *vmp_debugfs_dir;

static int stats_show(struct seq_file *m, void *v)
{
	u64 vals[VMPAGER_NR_STATS];
	unsigned int i;

	BUILD_BUG_ON(ARRAY_SIZE(vmp_stat_names) != VMPAGER_NR_STATS);
	vmp_stats_snapshot(vals);
	seq_puts(m, "counter value\n");
	for (i = 0; i < VMPAGER_NR_STATS; i++)
		seq_printf(m, "%s %llu\n", vmp_stat_names[i], vals[i]);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

static int pool_show(struct seq_file *m, void *v)
{
	u64 free_pages, resident, orphaned;

	spin_lock(&vmp_pool.lock);
	free_pages = vmp_pool.buddy.free_pages;
	resident = vmp_pool.resident;
	orphaned = vmp_pool.orphaned;
	spin_unlock(&vmp_pool.lock);
	seq_puts(m, "key value\n");
	seq_printf(m, "pool_pages %u\n", vmp_pool.nframes);
	seq_printf(m, "free_pages %llu\n", free_pages);
	seq_printf(m, "resident_pages %llu\n", resident);
	seq_printf(m, "orphaned_pages %llu\n", orphaned);
	seq_printf(m, "chunks %u\n", vmp_pool.nr_chunks);
	seq_printf(m, "frame_meta_bytes %zu\n", vmp_frame_meta_bytes());
	seq_printf(m, "frame_table_bytes %zu\n",
		   (size_t)vmp_pool.nframes * vmp_frame_meta_bytes());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pool);

static int buddyinfo_show(struct seq_file *m, void *v)
{
	u64 nr_free[VMP_NR_ORDERS];
	unsigned int k;

	spin_lock(&vmp_pool.lock);
	for (k = 0; k < VMP_NR_ORDERS; k++)
		nr_free[k] = vmp_pool.buddy.nr_free[k];
	spin_unlock(&vmp_pool.lock);
	seq_puts(m, "order free_blocks\n");
	for (k = 0; k < VMP_NR_ORDERS; k++)
		seq_printf(m, "%u %llu\n", k, nr_free[k]);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(buddyinfo);

/* ---- frames: one line per frame ---- */

static void *frames_start(struct seq_file *m, loff_t *pos)
{
	if (*pos == 0)
		return SEQ_START_TOKEN;
	return *pos <= vmp_pool.nframes ? pos : NULL;
}

static void *frames_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return *pos <= vmp_pool.nframes ? pos : NULL;
}

static void frames_stop(struct seq_file *m, void *v)
{
}

static int frames_show(struct seq_file *m, void *v)
{
	struct vmp_frame fr;
	struct page *page;
	char flags[8];
	u64 obj_id = 0;
	u32 frame;
	int n = 0;

	if (v == SEQ_START_TOKEN) {
		seq_puts(m, "frame flags order obj index count mapcount\n");
		return 0;
	}
	frame = *(loff_t *)v - 1;
	page = vmp_frame_page(frame);
	spin_lock(&vmp_pool.lock);
	fr = vmp_pool.frames[frame];
	/*
	 * A USED frame's obj is live under the pool lock: teardown releases
	 * its frames under it first, and eviction clears obj before the
	 * object can go.
	 */
	if ((fr.flags & VMP_FRAME_USED) && fr.obj)
		obj_id = fr.obj->id;
	spin_unlock(&vmp_pool.lock);

	if (fr.flags & VMP_FRAME_FREE)
		flags[n++] = 'F';
	if (fr.flags & VMP_FRAME_USED)
		flags[n++] = 'U';
	if (fr.flags & VMP_FRAME_ORPHAN)
		flags[n++] = 'O';
	if (fr.flags & VMP_FRAME_USED) {
		if (PageLocked(page))
			flags[n++] = 'L';
		if (PageDirty(page))
			flags[n++] = 'D';
		if (PageReferenced(page))
			flags[n++] = 'R';
	}
	if (!n)
		flags[n++] = '.';
	flags[n] = '\0';
	if (fr.flags & VMP_FRAME_USED)
		seq_printf(m, "%u %s - %llu %u %d %d\n", frame, flags, obj_id,
			   fr.index, page_count(page), page_mapcount(page));
	else if (fr.flags & VMP_FRAME_FREE)
		seq_printf(m, "%u %s %u - - - -\n", frame, flags, fr.order);
	else
		seq_printf(m, "%u %s - - - - -\n", frame, flags);
	return 0;
}

static const struct seq_operations frames_sops = {
	.start = frames_start,
	.next = frames_next,
	.stop = frames_stop,
	.show = frames_show,
};
DEFINE_SEQ_ATTRIBUTE(frames);

/* ---- objects and their mappers ---- */

static int objects_show(struct seq_file *m, void *v)
{
	struct vmpager_obj_info info;
	struct vmp_obj *obj;

	seq_puts(m, "id size resident swapped mappers faults file_pages file_io\n");
	mutex_lock(&vmp_objs_lock);
	list_for_each_entry(obj, &vmp_objs, node) {
		vmp_obj_info(obj, &info);
		seq_printf(m, "%llu %llu %llu %llu %llu %llu %llu %s\n", info.id,
			   info.size, info.resident, info.swapped,
			   info.mappers, info.faults, info.file_pages,
			   !(info.flags & VMPAGER_OBJ_FILE) ? "-" :
			   info.flags & VMPAGER_OBJ_BIO ? "bio" : "cached");
	}
	mutex_unlock(&vmp_objs_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(objects);

static int mappers_show(struct seq_file *m, void *v)
{
	struct vmp_obj *obj;
	struct vmp_vma *rec;

	seq_puts(m, "id pid start end pgoff kind\n");
	mutex_lock(&vmp_objs_lock);
	list_for_each_entry(obj, &vmp_objs, node) {
		i_mmap_lock_read(obj->mapping);
		mutex_lock(&obj->lock);
		list_for_each_entry(rec, &obj->vmas, node) {
			struct vm_area_struct *vma = rec->vma;

			seq_printf(m, "%llu %d %#lx %#lx %lu %s\n", obj->id,
				   vmp_mm_pid(vma->vm_mm), vma->vm_start,
				   vma->vm_end, vma->vm_pgoff,
				   (vma->vm_flags & VM_SHARED) ? "shared" :
				   "private");
		}
		mutex_unlock(&obj->lock);
		i_mmap_unlock_read(obj->mapping);
	}
	mutex_unlock(&vmp_objs_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mappers);

/* ---- rmap: write a frame number, read who maps it ---- */

struct rmap_state {
	u32 frame;
	bool set;
};

static void rmap_print(struct vm_area_struct *vma, unsigned long addr,
		       void *arg)
{
	struct seq_file *m = arg;

	seq_printf(m, "%d %#lx %s\n", vmp_mm_pid(vma->vm_mm), addr,
		   (vma->vm_flags & VM_SHARED) ? "shared" : "private");
}

static int rmap_show(struct seq_file *m, void *v)
{
	struct rmap_state *st = m->private;
	struct vmp_obj *obj, *cur;
	struct vmp_frame fr;
	bool live = false;

	if (!st->set) {
		seq_puts(m, "# write a frame number to this file, then read it\n");
		return 0;
	}
	mutex_lock(&vmp_objs_lock);
	spin_lock(&vmp_pool.lock);
	fr = vmp_pool.frames[st->frame];
	spin_unlock(&vmp_pool.lock);
	obj = (fr.flags & VMP_FRAME_USED) ? fr.obj : NULL;
	/* objects leave vmp_objs before their frames are released */
	list_for_each_entry(cur, &vmp_objs, node)
		if (cur == obj)
			live = true;
	seq_printf(m, "# frame %u obj %llu index %u\n", st->frame,
		   live ? obj->id : 0, live ? fr.index : 0);
	seq_puts(m, "pid vaddr kind\n");
	if (live)
		vmp_obj_rmap_walk(obj, fr.index, rmap_print, m);
	mutex_unlock(&vmp_objs_lock);
	return 0;
}

static int rmap_open(struct inode *inode, struct file *file)
{
	struct rmap_state *st = kzalloc(sizeof(*st), GFP_KERNEL);
	int ret;

	if (!st)
		return -ENOMEM;
	ret = single_open(file, rmap_show, st);
	if (ret)
		kfree(st);
	return ret;
}

static ssize_t rmap_write(struct file *file, const char __user *ubuf,
			  size_t len, loff_t *ppos)
{
	struct seq_file *m = file->private_data;
	struct rmap_state *st = m->private;
	u32 frame;
	int ret;

	ret = kstrtou32_from_user(ubuf, len, 0, &frame);
	if (ret)
		return ret;
	if (frame >= vmp_pool.nframes)
		return -EINVAL;
	st->frame = frame;
	st->set = true;
	return len;
}

static int rmap_release(struct inode *inode, struct file *file)
{
	struct seq_file *m = file->private_data;

	kfree(m->private);
	return single_release(inode, file);
}

static const struct file_operations rmap_fops = {
	.owner = THIS_MODULE,
	.open = rmap_open,
	.read = seq_read,
	.write = rmap_write,
	.llseek = seq_lseek,
	.release = rmap_release,
};

/* ---- reclaim and swap state ---- */

static int swap_show(struct seq_file *m, void *v)
{
	struct vmp_swap_area areas[VMP_MAX_SWAPAREAS];
	u32 used, nslots;
	int i, n, f;

	/* pairs with the smp_store_release() in vmp_swap_publish() */
	n = smp_load_acquire(&vmp_swap.nareas);
	spin_lock(&vmp_swap.lock);
	used = vmp_swap.used;
	nslots = vmp_swap.nslots;
	memcpy(areas, vmp_swap.areas, n * sizeof(areas[0]));
	spin_unlock(&vmp_swap.lock);
	seq_puts(m, "key value\n");
	seq_printf(m, "slots %u\n", nslots);
	seq_printf(m, "used %u\n", used);
	seq_printf(m, "free %u\n", nslots - used);
	seq_printf(m, "areas %d\n", n);
	seq_printf(m, "server %s\n", vmp_srv_state_name());
	seq_puts(m, "area kind first slots used cursor state files\n");
	for (i = 0; i < n; i++) {
		struct vmp_swap_area *a = &areas[i];

		seq_printf(m, "%d %s %u %u %u %u %s %u\n", i,
			   a->kind == VMP_AREA_SERVER ? "server" : "files",
			   a->first, a->nslots, a->used, a->cursor,
			   a->online ? "online" : "offline", a->nfiles);
	}
	seq_puts(m, "file area slots io extents path\n");
	for (i = 0; i < n; i++) {
		for (f = 0; f < areas[i].nfiles; f++) {
			struct vmp_swap_file *sf =
				&vmp_swap.files[areas[i].file0 + f];

			seq_printf(m, "%d %d %u %s %u ", areas[i].file0 + f, i,
				   sf->nslots, vmp_swap_io_name(sf), sf->next);
			seq_file_path(m, sf->file, " \t\n\\");
			seq_putc(m, '\n');
		}
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(swap);

/*
 * swap_extents: where the pages of each block-I/O swap file are on its
 * device, one line per extent: "file page pages sector device". Files with
 * kiocb I/O have none. Under add_lock, so no file is being added.
 */
static int swap_extents_show(struct seq_file *m, void *v)
{
	u32 e;
	int f;

	seq_puts(m, "file page pages sector device\n");
	mutex_lock(&vmp_swap.add_lock);
	for (f = 0; f < vmp_swap.nfiles; f++) {
		const struct vmp_swap_file *sf = &vmp_swap.files[f];

		for (e = 0; e < sf->next; e++) {
			seq_printf(m, "%d %u %u %llu %pg\n", f, sf->ext[e].page,
				   sf->ext[e].nr,
				   (unsigned long long)sf->ext[e].sector,
				   sf->bdev);
			if (!(e & 255))
				cond_resched();
		}
	}
	mutex_unlock(&vmp_swap.add_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(swap_extents);

/*
 * swapmap: every slot, 64 per line: "FIRST USED MAP" with '#' for a slot in
 * use and '.' for a free one. The swap lock is taken per line.
 */
static int swapmap_show(struct seq_file *m, void *v)
{
	char line[65];
	u32 first, nslots, n, used;

	seq_puts(m, "first used map\n");
	nslots = READ_ONCE(vmp_swap.nslots);
	for (first = 0; first < nslots; first += 64) {
		n = min(64U, nslots - first);
		used = vmp_swap_map_line(first, n, line);
		line[n] = '\0';
		seq_printf(m, "%u %u %s\n", first, used, line);
		cond_resched();
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(swapmap);

struct vmp_lru_ent {
	u64 obj;
	u32 frame;
	u32 index;
	bool ref;
};

/*
 * Copy up to VMP_LOCK_BATCH frames of list @i from *@f on (the first frame
 * if @n is 0) into @e under the pool lock, and advance *@f. Returns how
 * many, or -EAGAIN if *@f left list @i since the last batch.
 */
static int lru_batch(u32 i, u32 *f, u32 n, struct vmp_lru_ent *e)
{
	struct vmp_policy *p = &vmp_pool.pol;
	int k = 0;

	spin_lock(&vmp_pool.lock);
	if (!n) {
		*f = vmp_policy_list_first(p, i);
	} else if (*f != VMP_NIL && vmp_pnode(p, *f)->list != i) {
		spin_unlock(&vmp_pool.lock);
		return -EAGAIN;
	}
	for (; k < VMP_LOCK_BATCH && *f != VMP_NIL;
	     k++, *f = vmp_policy_list_next(p, *f)) {
		struct vmp_frame *fr = &vmp_pool.frames[*f];

		e[k].frame = *f;
		e[k].obj = fr->obj ? fr->obj->id : 0;
		e[k].index = fr->index;
		e[k].ref = fr->pn.flags & VMP_PN_REF;
	}
	spin_unlock(&vmp_pool.lock);
	return k;
}

/*
 * The policy's lists, hot end first; one frame per line. Each list is read
 * VMP_LOCK_BATCH frames per pool-lock hold, printed with no lock held, so a
 * large pool never holds the lock long; the lists may change between
 * batches. If the frame a batch would resume at has left its list, that
 * list ends with a "changed while reading" line.
 */
static int lru_show(struct seq_file *m, void *v)
{
	struct vmp_policy *p = &vmp_pool.pol;
	u32 i, f = VMP_NIL, n, nl, len[VMP_POL_MAX_LISTS];
	struct vmp_adapt_info ai;
	struct vmp_lru_ent *e;
	const char *name;
	int k, j;

	e = kmalloc_array(VMP_LOCK_BATCH, sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	/* no switch while we read: the lists and their names stay p's */
	down_read(&vmp_policy_lock);
	spin_lock(&vmp_pool.lock);
	nl = vmp_policy_nr_lists(p);
	seq_printf(m, "# policy %s, %u ghosts, watermarks %u %u %u, free %llu\n",
		   vmp_policy_name(p->kind), vmp_policy_nr_ghosts(p),
		   vmp_pool.wmark_min, vmp_pool.wmark_low, vmp_pool.wmark_high,
		   vmp_pool.buddy.free_pages);
	for (i = 0; i < nl; i++)
		len[i] = vmp_policy_list_len(p, i);
	vmp_policy_adapt_info(p, &ai);
	spin_unlock(&vmp_pool.lock);
	if (ai.leader != VMP_POL_NR) {
		/* adaptive: the expert followed, and each one's recent misses */
		seq_printf(m, "# adaptive leader %s, %llu changes, recent misses",
			   vmp_policy_name(ai.leader), ai.switches);
		for (i = 0; i < ai.nexperts; i++)
			seq_printf(m, " %s %llu", vmp_policy_name(ai.kinds[i]),
				   ai.misses[i] >> 16);
		seq_putc(m, '\n');
	}
	for (i = 0; i < nl; i++)
		seq_printf(m, "# list %s %u\n", vmp_policy_list_name(p, i),
			   len[i]);
	seq_puts(m, "list pos frame obj index ref\n");
	for (i = 0; i < nl; i++) {
		name = vmp_policy_list_name(p, i);
		/* at most every frame once: a list that keeps growing ends */
		for (n = 0; n < vmp_pool.nframes; n += k) {
			k = lru_batch(i, &f, n, e);
			if (k == -EAGAIN) {
				seq_printf(m, "# list %s changed while reading: %u shown\n",
					   name, n);
				break;
			}
			for (j = 0; j < k; j++)
				seq_printf(m, "%s %u %u %llu %u %d\n", name,
					   n + j, e[j].frame, e[j].obj,
					   e[j].index, e[j].ref);
			if (f == VMP_NIL)
				break;
			cond_resched();
		}
	}
	up_read(&vmp_policy_lock);
	kfree(e);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lru);

/* ---- tunables: each validates the whole write or changes nothing ---- */

static ssize_t knob_input(const char __user *ubuf, size_t len, char *buf,
			  size_t size)
{
	if (len == 0 || len >= size)
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	strim(buf);
	return 0;
}

static int policy_show(struct seq_file *m, void *v)
{
	int k, cur;

	down_read(&vmp_policy_lock);
	cur = vmp_pool.pol.kind;
	up_read(&vmp_policy_lock);
	for (k = 0; k < VMP_POL_NR; k++)
		seq_printf(m, k == cur ? "[%s]%s" : "%s%s", vmp_policy_name(k),
			   k == VMP_POL_NR - 1 ? "\n" : " ");
	return 0;
}

static int policy_open(struct inode *inode, struct file *file)
{
	return single_open(file, policy_show, NULL);
}

static ssize_t policy_write(struct file *file, const char __user *ubuf,
			    size_t len, loff_t *ppos)
{
	char buf[16];
	int kind, ret;

	ret = knob_input(ubuf, len, buf, sizeof(buf));
	if (ret)
		return ret;
	kind = vmp_policy_by_name(buf);
	if (kind < 0)
		return -EINVAL;
	ret = vmp_policy_switch(kind);
	return ret ? ret : len;
}

static const struct file_operations policy_fops = {
	.owner = THIS_MODULE,
	.open = policy_open,
	.read = seq_read,
	.write = policy_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int watermarks_show(struct seq_file *m, void *v)
{
	seq_puts(m, "min low high\n");
	seq_printf(m, "%u %u %u\n", READ_ONCE(vmp_pool.wmark_min),
		   READ_ONCE(vmp_pool.wmark_low), READ_ONCE(vmp_pool.wmark_high));
	return 0;
}

static int watermarks_open(struct inode *inode, struct file *file)
{
	return single_open(file, watermarks_show, NULL);
}

static ssize_t watermarks_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	u32 min, low, high;
	char buf[64];
	int ret;

	ret = knob_input(ubuf, len, buf, sizeof(buf));
	if (ret)
		return ret;
	if (sscanf(buf, "%u %u %u", &min, &low, &high) != 3)
		return -EINVAL;
	ret = vmp_watermarks_set(min, low, high);
	return ret ? ret : len;
}

static const struct file_operations watermarks_fops = {
	.owner = THIS_MODULE,
	.open = watermarks_open,
	.read = seq_read,
	.write = watermarks_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int readahead_get(void *data, u64 *val)
{
	*val = READ_ONCE(vmp_pool.ra_window);
	return 0;
}

static int readahead_set(void *data, u64 val)
{
	if (val > VMP_RA_MAX)
		return -EINVAL;
	WRITE_ONCE(vmp_pool.ra_window, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(readahead_fops, readahead_get, readahead_set, "%llu\n");

/* An on/off knob: @data is the bool in vmp_pool (soft_unmap, ra_adaptive, ra_async, harvest_flush). */
static int bool_knob_get(void *data, u64 *val)
{
	*val = READ_ONCE(*(bool *)data);
	return 0;
}

static int bool_knob_set(void *data, u64 val)
{
	if (val > 1)
		return -EINVAL;
	WRITE_ONCE(*(bool *)data, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(bool_knob_fops, bool_knob_get, bool_knob_set, "%llu\n");

/*
 * ref_source: where the policy's references come from besides faults
 * (vmp_harvest.c, vmp_reclaim.c): faults only, soft-unmap aging, the PTE
 * accessed bits, or both. It sets soft_unmap and harvest together; the
 * soft_unmap file sets the one bit alone.
 */
static int ref_source_show(struct seq_file *m, void *v)
{
	int cur = vmp_ref_source_get();
	int k;

	for (k = 0; k < VMP_REF_NR; k++)
		seq_printf(m, k == cur ? "[%s]%s" : "%s%s", vmp_ref_source_names[k],
			   k == VMP_REF_NR - 1 ? "\n" : " ");
	return 0;
}

static int ref_source_open(struct inode *inode, struct file *file)
{
	return single_open(file, ref_source_show, NULL);
}

static ssize_t ref_source_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	char buf[16];
	int k, ret;

	ret = knob_input(ubuf, len, buf, sizeof(buf));
	if (ret)
		return ret;
	for (k = 0; k < VMP_REF_NR; k++)
		if (!strcmp(buf, vmp_ref_source_names[k]))
			break;
	if (k == VMP_REF_NR)
		return -EINVAL;
	vmp_ref_source_apply(k);
	return len;
}

static const struct file_operations ref_source_fops = {
	.owner = THIS_MODULE,
	.open = ref_source_open,
	.read = seq_read,
	.write = ref_source_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/* harvest_batch: candidates harvested per reclaim pass, 0..1024. */
static int harvest_batch_get(void *data, u64 *val)
{
	*val = READ_ONCE(vmp_pool.harvest_batch);
	return 0;
}

static int harvest_batch_set(void *data, u64 val)
{
	if (val > VMP_HARVEST_MAX)
		return -EINVAL;
	WRITE_ONCE(vmp_pool.harvest_batch, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(harvest_batch_fops, harvest_batch_get,
			 harvest_batch_set, "%llu\n");

/* ---- fault injection ---- */

#ifdef CONFIG_FAULT_INJECTION
static DECLARE_FAULT_ATTR(vmp_fault_reads);
static DECLARE_FAULT_ATTR(vmp_fault_writes);
static DECLARE_FAULT_ATTR(vmp_fault_allocs);

static struct fault_attr *const vmp_fault_attrs[VMP_FAULT_NR] = {
	[VMP_FAULT_READ] = &vmp_fault_reads,
	[VMP_FAULT_WRITE] = &vmp_fault_writes,
	[VMP_FAULT_ALLOC] = &vmp_fault_allocs,
};
#endif

/*
 * Does this operation fail? The fail_* budget first (exact counts, on every
 * kernel), then the kind's fault_attr. An attr whose probability is 0 is not
 * asked: should_fail() would take a step of the task's fail-nth, which
 * belongs to failslab tests unless this kind was switched on.
 */
bool vmp_should_fail(enum vmp_inject_kind k)
{
	static atomic_t *const budgets[VMP_FAULT_NR] = {
		[VMP_FAULT_READ] = &vmp_swap.fail_reads,
		[VMP_FAULT_WRITE] = &vmp_swap.fail_writes,
		[VMP_FAULT_ALLOC] = &vmp_pool.fail_allocs,
	};

	if (atomic_add_unless(budgets[k], -1, 0))
		return true;
#ifdef CONFIG_FAULT_INJECTION
	if (READ_ONCE(vmp_fault_attrs[k]->probability))
		return should_fail(vmp_fault_attrs[k], PAGE_SIZE);
#endif
	return false;
}

/* fail_*: the next N operations of that kind fail (fault injection). */
static int fail_get(void *data, u64 *val)
{
	*val = atomic_read((atomic_t *)data);
	return 0;
}

static int fail_set(void *data, u64 val)
{
	if (val > INT_MAX)
		return -EINVAL;
	atomic_set((atomic_t *)data, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(fail_fops, fail_get, fail_set, "%llu\n");

void vmp_debugfs_init(void)
{
	struct dentry *d = debugfs_create_dir("vmpager", NULL);

	vmp_debugfs_dir = d;
	debugfs_create_file("stats", 0400, d, NULL, &stats_fops);
	debugfs_create_file("pool", 0400, d, NULL, &pool_fops);
	debugfs_create_file("buddyinfo", 0400, d, NULL, &buddyinfo_fops);
	debugfs_create_file("frames", 0400, d, NULL, &frames_fops);
	debugfs_create_file("objects", 0400, d, NULL, &objects_fops);
	debugfs_create_file("mappers", 0400, d, NULL, &mappers_fops);
	debugfs_create_file("rmap", 0600, d, NULL, &rmap_fops);
	debugfs_create_file("walk", 0600, d, NULL, &vmp_walk_fops);
	debugfs_create_file("swap", 0400, d, NULL, &swap_fops);
	debugfs_create_file("swapmap", 0400, d, NULL, &swapmap_fops);
	debugfs_create_file("swap_extents", 0400, d, NULL, &swap_extents_fops);
	debugfs_create_file("lru", 0400, d, NULL, &lru_fops);
	debugfs_create_file("policy", 0600, d, NULL, &policy_fops);
	debugfs_create_file("watermarks", 0600, d, NULL, &watermarks_fops);
	debugfs_create_file_unsafe("readahead", 0600, d, NULL,
				   &readahead_fops);
	debugfs_create_file_unsafe("ra_adaptive", 0600, d,
				   &vmp_pool.ra_adaptive, &bool_knob_fops);
	debugfs_create_file_unsafe("ra_async", 0600, d,
				   &vmp_pool.ra_async, &bool_knob_fops);
	debugfs_create_file_unsafe("soft_unmap", 0600, d,
				   &vmp_pool.soft_unmap, &bool_knob_fops);
	debugfs_create_file("ref_source", 0600, d, NULL, &ref_source_fops);
	debugfs_create_file_unsafe("harvest_batch", 0600, d, NULL,
				   &harvest_batch_fops);
	debugfs_create_file_unsafe("harvest_flush", 0600, d,
				   &vmp_pool.harvest_flush, &bool_knob_fops);
	debugfs_create_file_unsafe("fail_reads", 0600, d,
				   &vmp_swap.fail_reads, &fail_fops);
	debugfs_create_file_unsafe("fail_writes", 0600, d,
				   &vmp_swap.fail_writes, &fail_fops);
	debugfs_create_file_unsafe("fail_allocs", 0600, d,
				   &vmp_pool.fail_allocs, &fail_fops);
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
	fault_create_debugfs_attr("fault_reads", d, &vmp_fault_reads);
	fault_create_debugfs_attr("fault_writes", d, &vmp_fault_writes);
	fault_create_debugfs_attr("fault_allocs", d, &vmp_fault_allocs);
#endif
}

void vmp_debugfs_exit(void)
{
	debugfs_remove_recursive(vmp_debugfs_dir);
	vmp_debugfs_dir = NULL;
}
