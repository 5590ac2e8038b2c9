// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerd file-backed regions (VMPD_HELLO_FILE; libvmpager's
 * vmp_region_map_file()): a region whose pages come from a range of a
 * file. The daemon's states (vmpd.h) stay as they are, with one change of
 * meaning: a page the daemon holds no copy of (EMPTY) is the file's bytes,
 * not zeros, and a dirty page leaving the soft-eviction cache goes back to
 * the file, never to a swap slot. So:
 *
 *   fault on an EMPTY page     read from the file (file_read_page())
 *   eviction, clean page       punched: the file has it
 *   eviction, dirty page       into the cache, dirty (as for any region)
 *   cache write-back           to the file (vmpd_cache.c), then EMPTY
 *   VMPD_FLUSH                 every dirty page of the range, resident or
 *                              cached, to the file, then fdatasync()
 *   the client's end           every dirty page to the file, then freed
 *
 * The file is read and written with pread/pwrite (through its page cache)
 * by the thread holding the client's lock. All functions here run with
 * c->lock held.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmpd.h"

#define PG	VMPD_PAGE

/* Bytes of page @idx inside the file range. */
static size_t page_bytes(const struct vmpd_client *c, uint64_t idx)
{
	uint64_t start = idx * PG;

	if (start >= c->flen)
		return 0;
	return c->flen - start < PG ? (size_t)(c->flen - start) : PG;
}

/*
 * Page @idx read from the file into the thread's bounce page (bytes past
 * the file's end, or past the range, read as zero), or NULL after an error.
 */
void *file_read_page(struct vmpd_thread *t, struct vmpd_client *c,
		     uint64_t idx)
{
	size_t want = page_bytes(c, idx), got = 0;
	char *buf = t->bounce;
	int res = (int)PG;
	ssize_t r;

	while (got < want) {
		r = pread(c->filefd, buf + got, want - got,
			  (off_t)(c->foff + idx * PG + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			res = -errno;
		if (r <= 0)
			break;	/* 0: the file's end, the rest reads as zero */
		got += (size_t)r;
	}
	res = inject(&vmpd.fail_reads, res);
	if (res != (int)PG) {
		count(read_errors);
		err("pid %d: read of page %llu from its file: %s", c->pid,
		    (unsigned long long)idx, strerror(res < 0 ? -res : EIO));
		return NULL;
	}
	memset(buf + got, 0, PG - got);
	count(file_reads);
	return buf;
}

/* Write the bytes of page @idx in the range from @buf: 0 or -errno. */
int file_write_page(struct vmpd_client *c, uint64_t idx, const void *buf)
{
	size_t want = page_bytes(c, idx), done = 0;
	int res = (int)PG;
	ssize_t r;

	if (c->file_ro)
		return -EROFS;
	/* pwrite(2) of an O_APPEND description appends, whatever the offset */
	if (fcntl(c->filefd, F_GETFL) & O_APPEND) {
		res = -EINVAL;
		want = 0;
	}
	while (done < want) {
		r = pwrite(c->filefd, (const char *)buf + done, want - done,
			   (off_t)(c->foff + idx * PG + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			res = r < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)r;
	}
	res = inject(&vmpd.fail_writes, res);
	if (res != (int)PG) {
		count(write_errors);
		warn("pid %d: write-back of page %llu to its file: %s", c->pid,
		     (unsigned long long)idx, strerror(res < 0 ? -res : EIO));
		return res < 0 ? res : -EIO;
	}
	count(file_writes);
	return 0;
}

/* Wait (c->lock dropped meanwhile) until no evictor batch is in flight. */
static void wait_evictor(struct vmpd_client *c)
{
	vmpd_evictor_wait(c);
}

/*
 * Write back page @idx if it is dirty: a cached copy from its buffer; a
 * resident page write-protected first (unless the client has no mapping
 * of it), so that a write after the copy is a WP fault that dirties it
 * again. When the write protection cannot be had now (an event pending:
 * EAGAIN), the page is written all the same and stays dirty: what the
 * client wrote before is in the file, and the next write-back writes the
 * rest. 0 (written, or nothing to do) or -errno.
 */
static int flush_page(struct vmpd_client *c, uint64_t idx, void *buf,
		      bool wp)
{
	struct vmpd_page *p = &c->pages[idx];
	uint64_t addr;
	int ret;

	if (p->cache != VMP_NIL) {
		struct vmpd_centry *x = &c->centries[p->cache];

		if (!(x->flags & VMPD_CE_DIRTY))
			return 0;
		ret = file_write_page(c, idx, ce_buf(c, p->cache));
		if (!ret)
			x->flags &= ~VMPD_CE_DIRTY;
		return ret;
	}
	if (!(p->flags & VMPD_PG_RESIDENT) || (p->flags & VMPD_PG_BUSY) ||
	    ((p->flags & VMPD_PG_WP) && !(p->flags & VMPD_PG_DIRTY)))
		return 0;
	if (wp && !(p->flags & VMPD_PG_WP) && idx_to_addr(c, idx, &addr)) {
		ret = uffd_wp(c, addr, true);
		if (ret && ret != -EAGAIN)
			return ret;
		if (!ret)
			p->flags |= VMPD_PG_WP;
	}
	if (pread(c->memfd, buf, PG, (off_t)(idx * PG)) != PG)
		return errno ? -errno : -EIO;
	ret = file_write_page(c, idx, buf);
	/*
	 * Written: clean, if no write can follow unseen (write-protected, or
	 * no mapping of the client's left); a page still writable stays dirty
	 * for eviction, which tests the WP flag too.
	 */
	/* without @wp (the client's end, an unmapped page) no writer is left */
	if (!ret && !wp)
		p->flags |= VMPD_PG_WP;
	if (!ret && (p->flags & VMPD_PG_WP))
		p->flags &= ~VMPD_PG_DIRTY;
	return ret;
}

/* Page @idx, no longer mapped by the client: its changes to the file. */
void vmpd_file_save_page(struct vmpd_client *c, uint64_t idx)
{
	static __thread char buf[PG] __attribute__((aligned(64)));

	if (!c->file_ro)
		flush_page(c, idx, buf, false);
}

/*
 * Write back the dirty pages @first .. @first + @n - 1 of file-backed @c
 * and, with @sync (a client's VMPD_FLUSH), fdatasync() the file; resident
 * pages are write-protected first then. 0, or the last error (the pages
 * that failed stay dirty). Without @sync (vmpd_client_kill(): no writer
 * left), no write protection and no sync. With @final (kill, after the
 * client is dead) an evictor batch in flight is not waited for: it writes
 * its own dirty victims back when it sees the client dead (vmpd_evict.c).
 */
int vmpd_file_flush(struct vmpd_client *c, uint64_t first, uint64_t n,
		    bool sync, bool final)
{
	static __thread char buf[PG] __attribute__((aligned(64)));
	uint64_t idx, end;
	int ret = 0, r;

	if (c->filefd < 0 || c->file_ro)
		return 0;
	end = first + n < first || first + n > c->npages ? c->npages :
							    first + n;
	if (!final)
		wait_evictor(c);
	for (idx = first; idx < end && (final || !c->dead); idx++) {
		r = flush_page(c, idx, buf, sync);
		if (r)
			ret = r;
	}
	if (sync && !ret && fdatasync(c->filefd))
		ret = -errno;
	return ret;
}

/* A message on the client's socket (vmpd_client.c): VMPD_FLUSH. */
void vmpd_file_sock_msg(struct vmpd_client *c, const void *msg, size_t len)
{
	struct vmpd_reply r = { .magic = VMPD_MAGIC, .version = VMPD_VERSION,
				.type = VMPD_FLUSHED };
	const struct vmpd_flush *f = msg;

	if (len != sizeof(*f) || f->magic != VMPD_MAGIC ||
	    f->version != VMPD_VERSION || f->type != VMPD_FLUSH || f->flags ||
	    f->reserved[0] || f->reserved[1]) {
		warn("pid %d: unexpected %zu bytes on the socket", c->pid, len);
		r.error = -EPROTO;
	} else if (c->filefd < 0) {
		r.error = -EINVAL;
		snprintf(r.text, sizeof(r.text), "not a file-backed region");
	} else {
		pthread_mutex_lock(&c->lock);
		count(file_syncs);
		r.error = c->dead ? -ESRCH :
			  vmpd_file_flush(c, f->first, f->npages, true, false);
		pthread_mutex_unlock(&c->lock);
		if (r.error)
			snprintf(r.text, sizeof(r.text), "write-back: %s",
				 strerror(-r.error));
	}
	if (vmpd_send_reply(c, c->sock, &r)) {
		/* a client gone meanwhile (EPIPE) is no news */
		if (errno == EPIPE || errno == ECONNRESET)
			dbg("pid %d: flush answer not sent: %s", c->pid,
			    strerror(errno));
		else
			warn("pid %d: flush answer not sent: %s", c->pid,
			     strerror(errno));
	}
}
