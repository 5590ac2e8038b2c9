// SPDX-License-Identifier: GPL-2.0
/*
 * vmpager swap server backend: swap I/O done by a userspace server over
 * io_uring (IORING_OP_URING_CMD), in the manner of ublk.
 *
 * The server attaches with VMPAGER_IOC_SRV_ATTACH on an fd of the device,
 * giving a buffer area (depth pages), a descriptor array (depth entries),
 * its slot count and a timeout, then parks one FETCH command per tag. The
 * first attach creates the server's swap area (vmp_swap.c); a later attach
 * with the same slot count brings it back online. A swap request goes to a
 * parked tag; the copy into the server's memory (descriptor, and the page for
 * a write) is done by task work in the server's own task, which then
 * completes the command with the operation. The server answers with
 * COMMIT_AND_FETCH; for a read the page is copied in from its buffer in that
 * call (the server's task again). Requests that find no parked tag wait on a
 * FIFO queue and are handed out as commands come back.
 *
 * Tag states (under vmp_srv_lock):
 *   IDLE     no command parked
 *   PARKED   a FETCH command waits for a request
 *   DISPATCH request assigned, task work queued to copy it out
 *   COPY     task work copying out (owns io until done)
 *   OUT      request handed to the server, awaiting COMMIT
 *   COMMIT   commit copying the page in (owns io until done)
 *   ABANDON  DISPATCH whose request was failed; the task work only ends
 *            the command
 *
 * Liveness: a delayed work polls the server every 100 ms. When its task is
 * exiting, or a request has waited longer than the timeout (queued, handed
 * out or not yet copied), the server is declared dead: the area goes
 * offline (no new slots: evictions write to the in-kernel files, if any),
 * every request it holds or that waits fails with -EIO (a write keeps its
 * page dirty and resident, a read gives SIGBUS to the faulting access),
 * parked commands complete with -ENODEV, and so do commands that come later.
 * Nothing waits on a dead server. Slots it stored are unreadable (-EIO)
 * until a server re-attaches with the same slot count.
 *
 * Locking: vmp_srv_lock (spinlock) is a leaf; no io_uring call and no user
 * copy is made under it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/io_uring.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "vmp_internal.h"

enum vmp_tag_state {
	TAG_IDLE, TAG_PARKED, TAG_DISPATCH, TAG_COPY, TAG_OUT, TAG_COMMIT,
	TAG_ABANDON,
};

/* Every field of a tag is protected by vmp_srv_lock. */
struct vmp_srv_tag {
	enum vmp_tag_state state;
	struct io_uring_cmd *cmd;	/* PARKED, DISPATCH, COPY, ABANDON */
	struct vmp_io *io;		/* DISPATCH, COPY, OUT, COMMIT: the run's first */
	u32 n;				/* pages in the run (io, io->next, ...) */
	unsigned long since;		/* jiffies: request assigned */
};

struct vmp_srv {
	struct list_head node;		/* on vmp_srvs */
	struct file *file;		/* the attached fd; valid until release */
	struct task_struct *task;	/* reference held */
	struct mm_struct *mm;		/* mmgrab'ed, compared only */
	u64 bufs, descs;		/* user addresses, invariant */
	u32 depth;			/* invariant */
	u32 run;			/* pages per tag (1 without F_RUNS), invariant */
	u32 dsize;			/* descriptor size (run or one-page), invariant */
	unsigned long timeout;		/* jiffies, invariant */
	bool online;			/* vmp_srv_lock; false once dead or detached */
	struct list_head queue;		/* vmp_srv_lock; vmp_io waiting for a tag */
	struct delayed_work monitor;
	struct vmp_srv_tag tags[];	/* vmp_srv_lock */
};

static DEFINE_SPINLOCK(vmp_srv_lock);
static LIST_HEAD(vmp_srvs);		/* vmp_srv_lock; every attached instance */
static struct vmp_srv *vmp_srv_cur;	/* vmp_srv_lock; the online one, or NULL */
/*
 * The server area: set once, by the first attach under vmp_srv_attach_lock,
 * before any server is online (so requests see them through vmp_srv_lock);
 * nslots 0 means no area yet, read with READ_ONCE outside the attach lock.
 */
static u32 vmp_srv_area_first, vmp_srv_area_nslots;
static DEFINE_MUTEX(vmp_srv_attach_lock);

#define VMP_SRV_POLL	(HZ / 10)

/* pdu of a parked command: its instance and tag */
struct vmp_srv_pdu {
	struct vmp_srv *srv;
	u32 tag;
};

static struct vmp_srv_pdu *vmp_pdu(struct io_uring_cmd *cmd)
{
	BUILD_BUG_ON(sizeof(struct vmp_srv_pdu) > sizeof(cmd->pdu));
	return (struct vmp_srv_pdu *)cmd->pdu;
}

const char *vmp_srv_state_name(void)
{
	const char *s;

	spin_lock(&vmp_srv_lock);
	if (vmp_srv_cur)
		s = "online";
	else if (READ_ONCE(vmp_srv_area_nslots))
		s = "offline";
	else
		s = "none";
	spin_unlock(&vmp_srv_lock);
	return s;
}

/* Is @mm a swap server's? (it must never map the device) */
bool vmp_srv_is_server_mm(struct mm_struct *mm)
{
	struct vmp_srv *s;
	bool ret = false;

	spin_lock(&vmp_srv_lock);
	list_for_each_entry(s, &vmp_srvs, node)
		if (s->mm == mm && s->online)
			ret = true;
	spin_unlock(&vmp_srv_lock);
	return ret;
}

/* Put the requests of a run (@io, io->next, ...) on @list, in order. */
static void vmp_srv_run_to_list(struct vmp_io *io, struct list_head *list)
{
	for (; io; io = io->next)
		list_add_tail(&io->node, list);
}

/*
 * Complete the requests of a run with @ret (PAGE_SIZE or -errno); each may
 * be the last its batch waits for, so io->next is read before io is
 * completed. @ours: the module failed them itself (srv_failed), not the
 * server's answer.
 */
static void vmp_srv_run_complete(struct vmp_io *io, long ret, bool ours)
{
	struct vmp_io *next;

	for (; io; io = next) {
		next = io->next;
		if (ours)
			vmp_count(VMPAGER_STAT_srv_failed);
		vmp_io_complete_one(io, ret);
	}
}

/*
 * Take everything away from a server that is dead or detached: called with
 * vmp_srv_lock held; moves the requests to fail onto @fail and the parked
 * commands to end into @cmds (at most depth of them).
 */
static void vmp_srv_kill_locked(struct vmp_srv *s, struct list_head *fail,
				struct io_uring_cmd **cmds, int *ncmds)
{
	u32 i;

	lockdep_assert_held(&vmp_srv_lock);
	if (s->online) {
		s->online = false;
		if (vmp_srv_cur == s)
			vmp_srv_cur = NULL;
	}
	list_splice_tail_init(&s->queue, fail);
	for (i = 0; i < s->depth; i++) {
		struct vmp_srv_tag *t = &s->tags[i];

		switch (t->state) {
		case TAG_PARKED:
			cmds[(*ncmds)++] = t->cmd;
			t->cmd = NULL;
			t->state = TAG_IDLE;
			break;
		case TAG_DISPATCH:
			vmp_srv_run_to_list(t->io, fail);
			t->io = NULL;
			t->state = TAG_ABANDON;
			break;
		case TAG_OUT:
			vmp_srv_run_to_list(t->io, fail);
			t->io = NULL;
			t->state = TAG_IDLE;
			break;
		default:	/* COPY and COMMIT finish on their own */
			break;
		}
	}
}

static void vmp_srv_fail(struct list_head *fail, struct io_uring_cmd **cmds,
			 int ncmds)
{
	struct vmp_io *io, *tmp;
	int i;

	list_for_each_entry_safe(io, tmp, fail, node) {
		list_del(&io->node);
		vmp_count(VMPAGER_STAT_srv_failed);
		vmp_io_complete_one(io, -EIO);
	}
	for (i = 0; i < ncmds; i++)
		io_uring_cmd_done(cmds[i], -ENODEV, 0, IO_URING_F_UNLOCKED);
}

/*
 * Declare @s dead (or detached): fail over everything it holds. The caller
 * holds a reference to s->file (a command of it, the release, or the
 * monitor, which the release cancels synchronously), so @s stays valid.
 *
 * The area goes offline under vmp_srv_attach_lock, in the same critical
 * section that takes @s offline: otherwise an attach running between the
 * two (it sees no current server once vmp_srv_lock is dropped) could put
 * the area online for the new server first, and this would then take it
 * offline under a live server (issue 13, defect 2).
 */
static void vmp_srv_kill(struct vmp_srv *s, const char *why)
{
	struct io_uring_cmd **cmds;
	LIST_HEAD(fail);
	bool was;
	int n = 0;

	/* GFP_NOFAIL: failing here would leave faults waiting */
	cmds = kcalloc(s->depth, sizeof(*cmds), GFP_KERNEL | __GFP_NOFAIL);
	mutex_lock(&vmp_srv_attach_lock);
	spin_lock(&vmp_srv_lock);
	was = s->online;
	vmp_srv_kill_locked(s, &fail, cmds, &n);
	spin_unlock(&vmp_srv_lock);
	if (was)
		vmp_swap_area_set_online(vmp_srv_area_first, false);
	mutex_unlock(&vmp_srv_attach_lock);
	if (was) {
		pr_warn("swap server pid %d gone (%s): its area is offline, its requests fail over\n",
			task_pid_nr(s->task), why);
		vmp_count(VMPAGER_STAT_srv_deaths);
	}
	vmp_srv_fail(&fail, cmds, n);
	kfree(cmds);
}

static void vmp_srv_monitor(struct work_struct *work)
{
	struct vmp_srv *s = container_of(to_delayed_work(work), struct vmp_srv,
					 monitor);
	unsigned long now = jiffies;
	const char *why = NULL;
	struct vmp_io *io;
	u32 i;

	if (s->task->flags & PF_EXITING)
		why = "task exiting";
	spin_lock(&vmp_srv_lock);
	if (!s->online) {
		spin_unlock(&vmp_srv_lock);
		return;
	}
	for (i = 0; i < s->depth && !why; i++) {
		struct vmp_srv_tag *t = &s->tags[i];

		if ((t->state == TAG_DISPATCH || t->state == TAG_OUT ||
		     t->state == TAG_COPY || t->state == TAG_COMMIT) &&
		    time_after(now, t->since + s->timeout))
			why = "request timed out";
	}
	io = list_first_entry_or_null(&s->queue, struct vmp_io, node);
	if (!why && io && time_after(now, io->queued + s->timeout))
		why = "no command came back in time";
	spin_unlock(&vmp_srv_lock);
	if (why) {
		vmp_srv_kill(s, why);
		return;
	}
	schedule_delayed_work(&s->monitor, VMP_SRV_POLL);
}

/* Copy the run of tag @tag out to the server: its descriptor, a write's pages. */
static bool vmp_srv_copy_out(struct vmp_srv *s, u32 tag, struct vmp_io *head,
			     u32 n, u32 op)
{
	u64 buf = s->bufs + (((u64)tag * s->run) << PAGE_SHIFT);
	struct vmpager_srv_run_desc d = {
		.slot = head->slot - vmp_srv_area_first,
		.op = op, .tag = tag, .count = n,
	};
	struct vmp_io *io;
	void *kaddr;
	bool ok;

	/* the one-page descriptor is the run descriptor's first 16 bytes */
	BUILD_BUG_ON(offsetof(struct vmpager_srv_run_desc, count) !=
		     sizeof(struct vmpager_srv_desc));
	ok = !copy_to_user(u64_to_user_ptr(s->descs) + tag * s->dsize, &d,
			   s->dsize);
	for (io = head; ok && io && op == VMPAGER_SRV_OP_WRITE; io = io->next) {
		kaddr = kmap_local_page(io->page);
		ok = !copy_to_user(u64_to_user_ptr(buf), kaddr, PAGE_SIZE);
		kunmap_local(kaddr);
		buf += PAGE_SIZE;
	}
	return ok;
}

/* Task work in the server's task: copy request @t out and complete the command. */
static void vmp_srv_dispatch(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	struct vmp_srv_pdu *pdu = vmp_pdu(cmd);
	struct vmp_srv *s = pdu->srv;
	struct vmp_srv_tag *t = &s->tags[pdu->tag];
	bool ok = false, exiting;
	struct vmp_io *io;
	u32 n, op;

	spin_lock(&vmp_srv_lock);
	if (t->state != TAG_DISPATCH) {
		/* ABANDON: the request was failed over */
		t->state = TAG_IDLE;
		t->cmd = NULL;
		spin_unlock(&vmp_srv_lock);
		io_uring_cmd_done(cmd, -ENODEV, 0, issue_flags);
		return;
	}
	io = t->io;
	n = t->n;
	t->state = TAG_COPY;
	spin_unlock(&vmp_srv_lock);

	op = io->rw == WRITE ? VMPAGER_SRV_OP_WRITE : VMPAGER_SRV_OP_READ;
	/* the exit-time fallback runs us in a kworker: no user memory there */
	exiting = current != s->task || (current->flags & PF_EXITING);
	if (!exiting)
		ok = vmp_srv_copy_out(s, pdu->tag, io, n, op);

	spin_lock(&vmp_srv_lock);
	if (ok && s->online) {
		t->state = TAG_OUT;
		t->cmd = NULL;
		t->since = jiffies;
		spin_unlock(&vmp_srv_lock);
		io_uring_cmd_done(cmd, op, 0, issue_flags);
		return;
	}
	t->state = TAG_IDLE;
	t->cmd = NULL;
	t->io = NULL;
	spin_unlock(&vmp_srv_lock);
	vmp_srv_run_complete(io, -EIO, true);
	/*
	 * Kill before ending the command: ending it may drop the last
	 * reference to the server's file (the exit-time fallback runs when
	 * the task has closed its fds), whose release frees @s.
	 */
	if (!ok)
		vmp_srv_kill(s, exiting ? "task exiting" :
			     "cannot reach its buffers");
	io_uring_cmd_done(cmd, ok ? -ENODEV : -EFAULT, 0, issue_flags);
}

/*
 * Give tag @t the oldest queued request and those queued right behind it
 * that continue it (same direction, the next slots), up to s->run pages.
 * Called with vmp_srv_lock held and the queue not empty.
 */
static void vmp_srv_take_run_locked(struct vmp_srv *s, struct vmp_srv_tag *t)
{
	struct vmp_io *head, *prev, *io;

	lockdep_assert_held(&vmp_srv_lock);
	head = list_first_entry(&s->queue, struct vmp_io, node);
	list_del(&head->node);
	prev = head;
	t->n = 1;
	while (t->n < s->run) {
		io = list_first_entry_or_null(&s->queue, struct vmp_io, node);
		if (!io || io->rw != head->rw || io->slot != prev->slot + 1)
			break;
		list_del(&io->node);
		prev->next = io;
		prev = io;
		t->n++;
	}
	prev->next = NULL;
	t->io = head;
	t->since = jiffies;
	t->state = TAG_DISPATCH;
	vmp_count(VMPAGER_STAT_srv_runs);
}

/*
 * Park @cmd on tag @t of @s, or give it the oldest queued requests.
 * Called with vmp_srv_lock held; returns true if task work must be queued.
 */
static bool vmp_srv_park_locked(struct vmp_srv *s, struct vmp_srv_tag *t,
				struct io_uring_cmd *cmd)
{
	t->cmd = cmd;
	if (list_empty(&s->queue)) {
		t->state = TAG_PARKED;
		return false;
	}
	vmp_srv_take_run_locked(s, t);
	return true;
}

/*
 * Backend entry (vmp_swap.c, at the end of a batch or of a run): queue the
 * requests of @head, @head->next, ... (consecutive slots when they can form
 * runs) and hand runs of them to the parked commands.
 */
void vmp_srv_submit(struct vmp_io *head)
{
	struct io_uring_cmd *cmds[32];	/* a reclaim batch's worth */
	struct vmp_io *io, *next;
	struct vmp_srv *s;
	int n = 0, i;
	u32 t;

	spin_lock(&vmp_srv_lock);
	s = vmp_srv_cur;
	if (!s) {
		spin_unlock(&vmp_srv_lock);
		vmp_srv_run_complete(head, -EIO, true);
		return;
	}
	for (io = head; io; io = next) {
		next = io->next;
		vmp_count(VMPAGER_STAT_srv_requests);
		io->queued = jiffies;
		list_add_tail(&io->node, &s->queue);
	}
	for (t = 0; t < s->depth && n < ARRAY_SIZE(cmds) &&
	     !list_empty(&s->queue); t++) {
		struct vmp_srv_tag *tag = &s->tags[t];

		if (tag->state != TAG_PARKED)
			continue;
		cmds[n++] = tag->cmd;
		vmp_srv_take_run_locked(s, tag);
	}
	spin_unlock(&vmp_srv_lock);
	/* no use of @s from here: a completed command may let it be freed */
	for (i = 0; i < n; i++)
		io_uring_cmd_complete_in_task(cmds[i], vmp_srv_dispatch);
	/* requests left queued go out as commands come back */
}

static struct vmp_srv *vmp_srv_of_file(struct file *file)
{
	struct vmp_srv *s;

	lockdep_assert_held(&vmp_srv_lock);
	list_for_each_entry(s, &vmp_srvs, node)
		if (s->file == file)
			return s;
	return NULL;
}

/* file_operations.uring_cmd of the device. */
int vmp_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	const struct vmpager_srv_cmd *uc = cmd->cmd;
	struct vmp_srv_tag *t;
	struct vmp_srv *s;
	struct vmp_io *io;
	u32 tag = READ_ONCE(uc->tag);
	s32 result = READ_ONCE(uc->result);
	void *kaddr;
	bool queue;
	long ret;

	if (cmd->cmd_op != VMPAGER_URING_FETCH &&
	    cmd->cmd_op != VMPAGER_URING_COMMIT_AND_FETCH)
		return -EOPNOTSUPP;
	if (READ_ONCE(uc->reserved))
		return -EINVAL;
	spin_lock(&vmp_srv_lock);
	s = vmp_srv_of_file(cmd->file);
	if (!s || !s->online) {
		spin_unlock(&vmp_srv_lock);
		return s ? -ENODEV : -EINVAL;
	}
	if (current != s->task) {
		spin_unlock(&vmp_srv_lock);
		return -EPERM;	/* copies need the server's own task */
	}
	if (tag >= s->depth) {
		spin_unlock(&vmp_srv_lock);
		return -EINVAL;
	}
	t = &s->tags[tag];
	if (cmd->cmd_op == VMPAGER_URING_FETCH) {
		if (t->state != TAG_IDLE) {
			spin_unlock(&vmp_srv_lock);
			return -EBUSY;
		}
		goto park;
	}
	if (t->state != TAG_OUT) {
		spin_unlock(&vmp_srv_lock);
		return -EINVAL;
	}
	io = t->io;
	t->state = TAG_COMMIT;
	spin_unlock(&vmp_srv_lock);

	ret = PAGE_SIZE;
	if (result < 0)
		ret = result < -MAX_ERRNO ? -EIO : result;
	else if (result > 0)
		ret = -EIO;
	if (ret == PAGE_SIZE && io->rw == READ) {
		u64 buf = s->bufs + (((u64)tag * s->run) << PAGE_SHIFT);
		struct vmp_io *p;

		for (p = io; p && ret == PAGE_SIZE; p = p->next) {
			kaddr = kmap_local_page(p->page);
			if (copy_from_user(kaddr, u64_to_user_ptr(buf), PAGE_SIZE))
				ret = -EFAULT;
			kunmap_local(kaddr);
			buf += PAGE_SIZE;
		}
	}
	vmp_srv_run_complete(io, ret, false);

	spin_lock(&vmp_srv_lock);
	t->io = NULL;
	t->state = TAG_IDLE;
	if (!s->online) {
		spin_unlock(&vmp_srv_lock);
		return -ENODEV;
	}
park:
	vmp_pdu(cmd)->srv = s;
	vmp_pdu(cmd)->tag = tag;
	queue = vmp_srv_park_locked(s, t, cmd);
	spin_unlock(&vmp_srv_lock);
	if (queue)
		io_uring_cmd_complete_in_task(cmd, vmp_srv_dispatch);
	return -EIOCBQUEUED;
}

int vmp_srv_attach(struct file *file, const struct vmpager_srv_attach *a)
{
	struct vmp_srv *s;
	unsigned int i;
	size_t dsize;
	u32 first, run;
	bool runs;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	runs = a->flags & VMPAGER_SRV_F_RUNS;
	run = runs ? a->run_pages : 1;
	dsize = runs ? sizeof(struct vmpager_srv_run_desc) :
		       sizeof(struct vmpager_srv_desc);
	if (!a->depth || a->depth > VMPAGER_SRV_MAX_DEPTH ||
	    !a->nslots || a->nslots >= VMP_NIL ||
	    a->timeout_ms > 600000 || !PAGE_ALIGNED(a->bufs) ||
	    !IS_ALIGNED(a->descs, __alignof__(struct vmpager_srv_desc)) ||
	    (a->flags & ~VMPAGER_SRV_F_RUNS) ||
	    (runs ? !run || run > VMPAGER_SRV_MAX_RUN : a->run_pages))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(a->reserved); i++)
		if (a->reserved[i])
			return -EINVAL;
	if (!access_ok(u64_to_user_ptr(a->bufs),
		       ((u64)a->depth * run) << PAGE_SHIFT) ||
	    !access_ok(u64_to_user_ptr(a->descs), a->depth * dsize))
		return -EFAULT;
	if (!(current->mm->def_flags & VM_LOCKED)) {
		pr_err("swap server pid %d: call mlockall(MCL_CURRENT | MCL_FUTURE) before attaching\n",
		       task_pid_nr(current));
		return -EPERM;
	}
	if (vmp_mm_maps_device(current->mm)) {
		pr_err("swap server pid %d: maps the device; a server must not\n",
		       task_pid_nr(current));
		return -EBUSY;
	}

	s = kzalloc(struct_size(s, tags, a->depth), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->file = file;
	s->task = get_task_struct(current);
	s->mm = current->mm;
	mmgrab(s->mm);
	s->bufs = a->bufs;
	s->descs = a->descs;
	s->depth = a->depth;
	s->run = run;
	s->dsize = dsize;
	s->timeout = msecs_to_jiffies(a->timeout_ms ? a->timeout_ms : 5000);
	INIT_LIST_HEAD(&s->queue);
	INIT_DELAYED_WORK(&s->monitor, vmp_srv_monitor);

	mutex_lock(&vmp_srv_attach_lock);
	spin_lock(&vmp_srv_lock);
	ret = vmp_srv_cur ? -EBUSY : 0;
	if (!ret && vmp_srv_of_file(file))
		ret = -EBUSY;	/* this fd already served once: open a new one */
	spin_unlock(&vmp_srv_lock);
	if (ret)
		goto unlock;
	if (!vmp_srv_area_nslots) {
		ret = vmp_swap_add_server(a->nslots, &first);
		if (ret)
			goto unlock;
		vmp_srv_area_first = first;
		WRITE_ONCE(vmp_srv_area_nslots, a->nslots);
	} else if (a->nslots != vmp_srv_area_nslots) {
		pr_err("swap server pid %d: %llu slots, but the server area has %u: re-attach with the same files\n",
		       task_pid_nr(current), a->nslots, vmp_srv_area_nslots);
		ret = -EINVAL;
		goto unlock;
	}
	spin_lock(&vmp_srv_lock);
	s->online = true;
	list_add(&s->node, &vmp_srvs);
	vmp_srv_cur = s;
	spin_unlock(&vmp_srv_lock);
	vmp_swap_area_set_online(vmp_srv_area_first, true);
	schedule_delayed_work(&s->monitor, VMP_SRV_POLL);
	mutex_unlock(&vmp_srv_attach_lock);
	pr_info("swap server pid %d attached: %llu slots, depth %u, %u pages per request\n",
		task_pid_nr(current), a->nslots, a->depth, run);
	return 0;
unlock:
	mutex_unlock(&vmp_srv_attach_lock);
	mmdrop(s->mm);
	put_task_struct(s->task);
	kfree(s);
	return ret;
}

int vmp_srv_detach(struct file *file)
{
	struct vmp_srv *s;

	spin_lock(&vmp_srv_lock);
	s = vmp_srv_of_file(file);
	spin_unlock(&vmp_srv_lock);
	if (!s)
		return -EINVAL;
	vmp_srv_kill(s, "detached");
	return 0;
}

/* The fd is being released: no command of it can be in flight any more. */
void vmp_srv_release(struct file *file)
{
	struct vmp_srv *s;

	spin_lock(&vmp_srv_lock);
	s = vmp_srv_of_file(file);
	spin_unlock(&vmp_srv_lock);
	if (!s)
		return;
	vmp_srv_kill(s, "fd closed");
	cancel_delayed_work_sync(&s->monitor);
	spin_lock(&vmp_srv_lock);
	list_del(&s->node);
	spin_unlock(&vmp_srv_lock);
	mmdrop(s->mm);
	put_task_struct(s->task);
	kfree(s);
}
