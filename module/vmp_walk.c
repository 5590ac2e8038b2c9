// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs "walk": write "PID ADDR", read the page-table walk of that address
 * in that process. The walk runs at write time (so a bad pid or address is
 * the write's error) under the target mm's mmap_lock in read mode, which
 * keeps the page tables from being freed; each entry is read once with
 * READ_ONCE, the PTE under its page-table lock. The text is kept in the open
 * file and printed by read, with no lock held. Entry flags are decoded for
 * x86-64 (the only architecture the module is built and tested on).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/seq_buf.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vmp_internal.h"

#define WALK_TEXT	1024

struct walk_state {
	char text[WALK_TEXT];
	bool set;
};

static const struct {
	unsigned long bit;
	const char *name;
	bool upper_only;	/* the bit means something else in a PTE */
} walk_bits[] = {
	{ _PAGE_RW, "rw" }, { _PAGE_USER, "user" }, { _PAGE_PWT, "pwt" },
	{ _PAGE_PCD, "pcd" }, { _PAGE_ACCESSED, "accessed" },
	{ _PAGE_DIRTY, "dirty" }, { _PAGE_PSE, "huge", true },
	{ _PAGE_GLOBAL, "global" }, { _PAGE_NX, "nx" },
	{ _PAGE_SOFT_DIRTY, "soft-dirty" },
};

static void walk_flags(struct seq_buf *s, unsigned long v, bool leaf)
{
	unsigned int i;

	seq_buf_printf(s, " %s", (v & _PAGE_PRESENT) ? "present" : "not-present");
	for (i = 0; i < ARRAY_SIZE(walk_bits); i++)
		if ((v & walk_bits[i].bit) && !(leaf && walk_bits[i].upper_only))
			seq_buf_printf(s, " %s", walk_bits[i].name);
}

static void walk_entry(struct seq_buf *s, const char *level, unsigned long v,
		       bool leaf)
{
	seq_buf_printf(s, "%s %#018lx", level, v);
	if (v)
		walk_flags(s, v, leaf);
	else
		seq_buf_printf(s, " none");
	seq_buf_printf(s, "\n");
}

/* The page a present leaf entry lands on: pool frame or any other page. */
static void walk_result(struct seq_buf *s, struct vm_area_struct *vma,
			unsigned long pfn)
{
	struct page *page;
	u32 frame;

	if (!pfn_valid(pfn)) {
		/* no struct page (device memory): said apart from a page */
		seq_buf_printf(s, "result pfn %#lx pool no\n", pfn);
		return;
	}
	page = pfn_to_page(pfn);
	frame = vmp_page_frame(page);
	/* private is the frame number for pool pages; check it maps back */
	if (frame < vmp_pool.nframes && vmp_frame_page(frame) == page &&
	    vmp_vma_is_ours(vma)) {
		struct vmp_obj *obj = vma->vm_file->private_data;

		seq_buf_printf(s, "result frame %u pool yes obj %llu index %lu\n",
			       frame, obj->id, page->index);
		return;
	}
	seq_buf_printf(s, "result page pfn %#lx pool no\n", pfn);
}

static int vmp_walk(struct seq_buf *s, pid_t nr, unsigned long addr)
{
	struct vm_area_struct *vma;
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;
	unsigned long v;
	spinlock_t *ptl;
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;
	pte_t *pte, ptev;
	const char *level;
	pmd_t pmdv;
	pud_t pudv;
	int ret = 0;

	pid = find_get_pid(nr);
	task = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
	put_pid(pid);
	if (!task)
		return -ESRCH;
	mm = get_task_mm(task);
	put_task_struct(task);
	if (!mm)
		return -ESRCH;	/* a kernel thread or an exiting task */
	if (mmap_read_lock_killable(mm)) {
		mmput(mm);
		return -EINTR;
	}
	vma = find_vma(mm, addr);
	if (!vma || vma->vm_start > addr) {
		ret = -EFAULT;
		goto out;
	}
	seq_buf_printf(s, "pid %d addr %#lx vma %#lx-%#lx pgoff %lu flags %c%c%c%c vmpager %s\n",
		       nr, addr, vma->vm_start, vma->vm_end, vma->vm_pgoff,
		       (vma->vm_flags & VM_READ) ? 'r' : '-',
		       (vma->vm_flags & VM_WRITE) ? 'w' : '-',
		       (vma->vm_flags & VM_EXEC) ? 'x' : '-',
		       (vma->vm_flags & VM_SHARED) ? 's' : 'p',
		       vmp_vma_is_ours(vma) ? "yes" : "no");
	seq_buf_printf(s, "level entry flags\n");

	level = "pgd";
	pgd = pgd_offset(mm, addr);
	v = pgd_val(READ_ONCE(*pgd));
	walk_entry(s, level, v, false);
	if (pgd_none(__pgd(v)) || pgd_bad(__pgd(v)))
		goto none;
	level = "p4d";
	p4d = p4d_offset(pgd, addr);
	v = p4d_val(READ_ONCE(*p4d));
	walk_entry(s, level, v, false);
	if (p4d_none(__p4d(v)) || p4d_bad(__p4d(v)))
		goto none;
	level = "pud";
	pud = pud_offset(p4d, addr);
	pudv = READ_ONCE(*pud);
	walk_entry(s, level, pud_val(pudv), false);
	if (pud_none(pudv))
		goto none;
	if (pud_large(pudv)) {
		walk_result(s, vma, pud_pfn(pudv) +
			    ((addr & ~PUD_MASK) >> PAGE_SHIFT));
		goto out;
	}
	if (pud_bad(pudv))
		goto none;
	level = "pmd";
	pmd = pmd_offset(pud, addr);
	pmdv = READ_ONCE(*pmd);
	walk_entry(s, level, pmd_val(pmdv), false);
	if (pmd_none(pmdv))
		goto none;
	if (pmd_large(pmdv)) {
		if (!pmd_present(pmdv))
			goto none;
		walk_result(s, vma, pmd_pfn(pmdv) +
			    ((addr & ~PMD_MASK) >> PAGE_SHIFT));
		goto out;
	}
	if (pmd_bad(pmdv))
		goto none;
	level = "pte";
	pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	ptev = *pte;
	pte_unmap_unlock(pte, ptl);
	walk_entry(s, level, pte_val(ptev), true);
	if (pte_present(ptev)) {
		walk_result(s, vma, pte_pfn(ptev));
		goto out;
	}
	if (!pte_none(ptev)) {
		seq_buf_printf(s, "result swap-entry level pte\n");
		goto out;
	}
none:
	seq_buf_printf(s, "result none level %s\n", level);
out:
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}

static int walk_show(struct seq_file *m, void *v)
{
	struct walk_state *st = m->private;

	if (!st->set)
		seq_puts(m, "# write \"PID ADDR\" to this file, then read it\n");
	else
		seq_puts(m, st->text);
	return 0;
}

static int walk_open(struct inode *inode, struct file *file)
{
	struct walk_state *st = kzalloc(sizeof(*st), GFP_KERNEL);
	int ret;

	if (!st)
		return -ENOMEM;
	ret = single_open(file, walk_show, st);
	if (ret)
		kfree(st);
	return ret;
}

static ssize_t walk_write(struct file *file, const char __user *ubuf,
			  size_t len, loff_t *ppos)
{
	struct seq_file *m = file->private_data;
	struct walk_state *st = m->private;
	unsigned long addr;
	struct seq_buf s;
	char buf[64], *p, *a;
	int pid, ret;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	p = strim(buf);
	a = strpbrk(p, " \t");
	if (!a)
		return -EINVAL;
	*a++ = '\0';
	a = skip_spaces(a);
	if (kstrtoint(p, 10, &pid) || pid <= 0 || kstrtoul(a, 0, &addr))
		return -EINVAL;
	st->set = false;
	seq_buf_init(&s, st->text, sizeof(st->text));
	ret = vmp_walk(&s, pid, addr);
	if (ret)
		return ret;
	st->set = true;
	return len;
}

static int walk_release(struct inode *inode, struct file *file)
{
	struct seq_file *m = file->private_data;

	kfree(m->private);
	return single_release(inode, file);
}

const struct file_operations vmp_walk_fops = {
	.owner = THIS_MODULE,
	.open = walk_open,
	.read = seq_read,
	.write = walk_write,
	.llseek = seq_lseek,
	.release = walk_release,
};
