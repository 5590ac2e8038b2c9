/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmp_uswap: swap files for userspace pagers, driven through liburing.
 *
 * Used by vmpagerd (the userfaultfd daemon) and by vmpagerd --swap-server
 * (the module's io_uring swap server). It owns the files and the slot
 * bitmap; the caller owns the rings and the buffers, and gets SQEs prepared
 * for one 4 KiB page each, so it can batch them with anything else.
 *
 * Files: created 0600 if missing; an existing file whose mode grants group
 * or other access is refused (-EACCES, with a message on stderr), because
 * swapped pages would be readable by others. Regular files are preallocated
 * (fallocate; extending direct writes are synchronous on ext4); block
 * devices must be large enough. O_DIRECT is tried first and the file is
 * opened buffered if the filesystem refuses it (tmpfs): vmp_uswap_direct()
 * says whether every file is direct. Direct I/O needs 4 KiB-aligned buffers.
 *
 * Slots: slot s lives in file s % npaths at byte offset (s / npaths) * 4096,
 * so consecutive slots stripe over the files. Allocation is next-fit from a
 * cursor that follows the last slot handed out, so a burst of allocations
 * gets consecutive slots (a cluster) and a batch of writes is a sequential
 * run on each file.
 *
 * Locking: vmp_uswap_alloc() and vmp_uswap_free() take an internal mutex
 * (any thread may call them); everything else is read-only after open.
 */
#ifndef _VMP_USWAP_H
#define _VMP_USWAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct io_uring_sqe;
struct iovec;
struct vmp_uswap;

#define VMP_USWAP_PAGE		4096u
#define VMP_USWAP_MAX_FILES	64

/*
 * Open (creating if needed) @npaths files of @slots_per_file pages each.
 * Returns 0 and *@out, or a negative errno (nothing left open).
 */
int vmp_uswap_open(struct vmp_uswap **out, char *const paths[], int npaths,
		   uint64_t slots_per_file);
void vmp_uswap_close(struct vmp_uswap *sw);

uint64_t vmp_uswap_nslots(const struct vmp_uswap *sw);
uint64_t vmp_uswap_used(const struct vmp_uswap *sw);	/* slots allocated */
bool vmp_uswap_direct(const struct vmp_uswap *sw);	/* every file O_DIRECT */
int vmp_uswap_nfiles(const struct vmp_uswap *sw);

/* A free slot (marked used), or -ENOSPC when every slot is in use. */
int64_t vmp_uswap_alloc(struct vmp_uswap *sw);
/* Return a slot. Freeing a free or out-of-range slot is reported on stderr. */
void vmp_uswap_free(struct vmp_uswap *sw, uint64_t slot);
bool vmp_uswap_in_use(struct vmp_uswap *sw, uint64_t slot);
/*
 * Another holder of used @slot (a forked region sharing the page's copy):
 * it stays used until every holder has freed it. 0, -ENOENT (free),
 * -ERANGE, -ENOMEM or -EMLINK (65536 holders).
 */
int vmp_uswap_dup(struct vmp_uswap *sw, uint64_t slot);
/*
 * Mark @slot used (a restarted vmpagerd taking back its slots); one used
 * already gets another holder if @shared, else -EEXIST. 0, -ERANGE, ...
 */
int vmp_uswap_reserve(struct vmp_uswap *sw, uint64_t slot, bool shared);

/* Where a slot lives: its file's fd and byte offset. */
int vmp_uswap_fd(const struct vmp_uswap *sw, uint64_t slot, off_t *off);

/*
 * Prepare @sqe for reading/writing the page of @slot into/from @buf (4096
 * bytes, 4 KiB aligned for O_DIRECT). @buf_index >= 0: @buf lies inside
 * the ring's registered buffer @buf_index (read_fixed/write_fixed); -1: a
 * plain read/write. The caller sets user_data and submits; a completion
 * res other than 4096 is a failure (negative errno, or short).
 */
void vmp_uswap_prep_read(struct vmp_uswap *sw, struct io_uring_sqe *sqe,
			 uint64_t slot, void *buf, int buf_index);
void vmp_uswap_prep_write(struct vmp_uswap *sw, struct io_uring_sqe *sqe,
			  uint64_t slot, void *buf, int buf_index);

/*
 * Runs of slots (the module's swap server with VMPAGER_SRV_F_RUNS): how
 * many of the @n slots from @slot on lie one after the other in one file
 * (all of them with one file; 1 when slots stripe over several), and an
 * SQE reading or writing @n such pages (n * 4096 bytes) at once.
 */
uint32_t vmp_uswap_contig(const struct vmp_uswap *sw, uint64_t slot,
			  uint32_t n);
void vmp_uswap_prep_pages(struct vmp_uswap *sw, struct io_uring_sqe *sqe,
			  bool write, uint64_t slot, uint32_t n, void *buf,
			  int buf_index);
/*
 * The same for a run whose pages are in @n separate buffers, iov[i] (each
 * 4096 bytes; the array must stay valid until the completion): one
 * readv/writev of n * 4096 bytes at @slot. @n at most
 * vmp_uswap_contig(sw, slot, n).
 */
void vmp_uswap_prep_pagesv(struct vmp_uswap *sw, struct io_uring_sqe *sqe,
			   bool write, uint64_t slot, const struct iovec *iov,
			   uint32_t n);

#endif /* _VMP_USWAP_H */
