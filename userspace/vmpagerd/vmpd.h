/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmpagerd internals: the userfaultfd paging daemon (docs/vmpagerd.md).
 *
 * A client region is a memfd that the client maps MAP_SHARED and registers
 * with its userfaultfd (MISSING + WP); vmpagerd holds both fds. A page of a
 * region is in exactly one of these states (struct vmpd_page):
 *
 *   EMPTY      never written, or dropped as zero: the next fault zero-fills
 *   RESIDENT   in the memfd (the client's memory), counted in a frame of the
 *              client's budget and held by the client's policy; WP while
 *              clean (mapped write-protected, the first write is a WP fault)
 *   CACHED     taken from the client (hole punched) but kept in a buffer of
 *              the client's soft-eviction cache: a re-touch is a minor fault
 *   SWAPPED    only in a swap slot
 *
 * A RESIDENT page the evictor is copying out (VMPD_PG_BUSY) is still
 * RESIDENT; faults on it wait for the evictor's batch (evict_batch()).
 *
 *            fault (zero)        evict (WP, pread, punch)
 *   EMPTY ----------------> RESIDENT ------------------> CACHED
 *     ^  <-- evict (clean,     | ^   <------------------   |  |
 *     |      never written)    | |   fault (copy back)     |  | writeback
 *     |                        | +---------------------    |  v (dirty) or drop
 *     |                        |     fault (swap read)  \-- SWAPPED
 *     +------ UNMAP event: every state -> EMPTY (slot, frame, cache freed)
 *
 * A slot, once written, stays with the page while the page is clean (swap
 * cache semantics: evicting it again costs no I/O); the first write (WP
 * fault) frees it. A slot is never rewritten, so a fork's copy of a region
 * shares its parent's slots (vmp_uswap_dup, vmpd_fork.c), each freeing its
 * reference; a page forgets its slot before freeing it (page_slot_drop()).
 *
 * With a state_dir, pages[] and centries[] live in a file that outlives the
 * daemon (vmpd_state.c): every change above is in it as it is made, in an
 * order a restarted daemon can recover from (an eviction stages its copy
 * in a cache entry, or with none marks the page BUSY, before the punch; a write marks the page dirty
 * before its protection is lifted).
 *
 * Frames are accounting units, not memory of the daemon: each client has
 * budget frames (its policy's nframes) and all clients together hold at
 * most frames_total (the global budget). The cache buffers are daemon
 * memory: one arena registered with every handler thread's io_uring.
 *
 * Locking (outermost first):
 *   vmpd.policy_lock (policy switch; accept holds it while joining)
 *     vmpd.clients_lock (the client table; lookups take a reference)
 *       client->lock (everything in the client; held across its swap I/O,
 *                     except the evictor's copy-out of BUSY pages)
 *         vmpd.arena_lock, the swap bitmap lock, the fork table's
 *         fork_lock (leaves)
 * A thread holding a client's lock takes clients_lock and other clients'
 * locks only with pthread_mutex_trylock (cross-client eviction under the
 * global budget: largest_client(), frame_get()), never waiting on them.
 * A client's uffd is armed EPOLLONESHOT: one thread at a time reads and
 * serves its messages, in order.
 */
#ifndef _VMPD_H
#define _VMPD_H

#include <liburing.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmp_policy.h"
#include "vmp_ra.h"
#include "vmp_uswap.h"
#include "vmpd_proto.h"

#define VMPD_PAGE		4096u
#define VMPD_MAX_CLIENTS	1024
#define VMPD_MAX_THREADS	64
#define VMPD_MAX_SWAPFILES	VMP_USWAP_MAX_FILES
#define VMPD_MAX_UIDS		64
#define VMPD_MSG_BATCH		64	/* uffd messages per read */
#define VMPD_RUN_PAGES		(VMP_RA_MAX + 1)	/* a fault and its fault-around */
#define VMPD_PEND_MAX		256	/* queued events, queued faults (each) */
#define VMPD_FLUSH_BATCH	32	/* cache writebacks per submission */
#define VMPD_RING_DEPTH		64
#define VMPD_GUESS_WINDOW	64	/* clean read fills per dirty-guess decision */
#define VMPD_GUESS_PROBE	8	/* while guessing, 1 read fill in 8 stays clean */
#define VMPD_DEFER_MAX		64	/* faults on BUSY pages woken after the batch */

/* ---- logging ---- */

enum vmpd_level { VMPD_ERR, VMPD_WARN, VMPD_INFO, VMPD_DEBUG };

extern int vmpd_log_level;
void vmpd_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define err(...)	vmpd_log(VMPD_ERR, __VA_ARGS__)
#define warn(...)	vmpd_log(VMPD_WARN, __VA_ARGS__)
#define info(...)	vmpd_log(VMPD_INFO, __VA_ARGS__)
#define dbg(...)	do { if (vmpd_log_level >= VMPD_DEBUG)		\
				vmpd_log(VMPD_DEBUG, __VA_ARGS__); } while (0)

/*
 * ---- counters (module names where the meaning is the same) ----
 * activations, deactivations and refaults come from the policies' own
 * counters (vmpd_policy_stats()), as in the module.
 */

#define VMPD_STATS(X)							\
	X(faults)		/* missing-page faults served */	\
	X(faults_minor)		/* ... from the soft-eviction cache */	\
	X(faults_major)		/* ... with a swap read */		\
	X(faults_zero)		/* ... by a zero page */		\
	X(faults_retry)		/* duplicate or stale faults: only woken */ \
	X(faults_polled)	/* serve() rounds started by a thread watching the client (poll_us) */ \
	X(poll_grow)		/* polling windows doubled: after one ran out, the next fault came within poll_max_us of its start */ \
	X(poll_shrink)		/* ... halved: it came later than that */ \
	X(poll_yield)		/* windows ended early: another client's event waited in epoll */ \
	X(mkwrite)		/* WP faults: first write to a clean page */ \
	X(fill_dirty_guess)	/* read faults filled writable: writes expected */ \
	X(swap_ins)		/* pages read from swap (incl. readahead) */ \
	X(swap_outs)		/* pages written to swap */		\
	X(reclaim_runs)		/* reclaim passes (evictor and direct) */ \
	X(reclaim_direct)	/* ... run by a fault: free < min, or none */ \
	X(kthread_wakeups)	/* evictor woken below low, not already busy */ \
	X(reclaim_idle)		/* ... batches run by a thread waiting for its client's next fault */ \
	X(reclaim_overlap)	/* ... batches that freed frames while a fault's own swap read was in flight */ \
	X(reclaim_scans)	/* victims the policies offered */	\
	X(evict_zero)		/* never-written pages dropped, no I/O */ \
	X(evict_clean)		/* clean pages with a slot dropped, no I/O */ \
	X(evict_written)	/* dirty pages written out, then dropped */ \
	X(evict_busy)		/* victims put back: the client changed */ \
	X(evict_noswap)		/* dirty victims kept: swap full or errors */ \
	X(evict_soft)		/* pages moved into the soft-eviction cache */ \
	X(readahead)		/* pages read ahead of a swap-in fault */ \
	X(readahead_hits)	/* faults served by a read-ahead page */ \
	X(read_batches)		/* swap reads of several queued faults in one submission */ \
	X(read_batched)		/* ... the faults' pages read so */ \
	X(fault_around)		/* pages mapped after a faulting one (no fault of their own) */ \
	X(fault_around_hits)	/* ... inferred used: the next fault came right after the run */ \
	X(swap_zero)		/* dirty pages found all zero at write-back: dropped, no I/O */ \
	X(read_errors)		/* swap reads that failed */		\
	X(write_errors)		/* swap writes that failed */		\
	X(swap_full)		/* slot allocations that found none */	\
	X(lost_pages)		/* faults answered VMPD_LOST (SIGBUS) */ \
	X(file_reads)		/* file-backed regions: pages read from their file */ \
	X(file_writes)		/* ... dirty pages written back to it */ \
	X(file_syncs)		/* ... flushes (VMPD_FLUSH) served */ \
	X(advise_willneed)	/* pages read in by VMPD_ADVISE WILLNEED */ \
	X(advise_dontneed)	/* pages evicted by VMPD_ADVISE DONTNEED */ \
	X(frames_over)		/* pages filled beyond the budget */	\
	X(copy_eagain)		/* uffd ioctls retried after EAGAIN */	\
	X(io_interrupted)	/* swap I/O waits interrupted by a signal, resumed */ \
	X(io_retried)		/* swap I/O requests submitted again after a transient result */ \
	X(fault_ns)		/* ns spent serving faults (the hist command's sum) */ \
	X(fault_read_ns)	/* ... of which reading swap (with read-ahead) */ \
	X(fault_fill_ns)	/* ... and in UFFDIO_COPY (with the client's wake-up) */ \
	X(events_remove)	/* UFFD_EVENT_REMOVE (madvise) */	\
	X(events_unmap)		/* UFFD_EVENT_UNMAP (munmap) */		\
	X(events_remap)		/* UFFD_EVENT_REMAP (mremap) */		\
	X(clients_accepted)	/* regions accepted */			\
	X(clients_refused)	/* connections refused */		\
	X(clients_exited)	/* regions torn down */			\
	X(clients_reattached)	/* regions taken back from a dead daemon's state */ \
	X(reattach_refused)	/* re-attach hellos refused */		\
	X(pages_recovered)	/* ... their pages found resident, cached or swapped */ \
	X(orphans_dropped)	/* dead daemons' regions never re-attached: freed */ \
	X(forks)		/* regions copied for a fork child (VMPD_FORK) */ \
	X(fork_refused)		/* ... requests refused */		\
	X(clients_forked)	/* children that took their copy (VMPD_HELLO_FORK) */ \
	X(events_stale)		/* epoll events of a client already gone, dropped */ \
	X(ctl_commands)		/* control socket commands */

enum vmpd_stat_id {
#define VMPD_ID(n) VMPD_STAT_##n,
	VMPD_STATS(VMPD_ID)
#undef VMPD_ID
	VMPD_NR_STATS
};

extern uint64_t vmpd_stats[VMPD_NR_STATS];
extern const char *const vmpd_stat_names[VMPD_NR_STATS];

static inline void vmpd_count_n(enum vmpd_stat_id id, uint64_t n)
{
	__atomic_fetch_add(&vmpd_stats[id], n, __ATOMIC_RELAXED);
}
#define count(name)		vmpd_count_n(VMPD_STAT_##name, 1)
#define count_n(name, n)	vmpd_count_n(VMPD_STAT_##name, (n))

/* Fault latency histogram: bucket i counts latencies <= 2^i microseconds. */
#define VMPD_HIST_BUCKETS	24
extern uint64_t vmpd_hist[VMPD_HIST_BUCKETS + 1];	/* last: larger */
void vmpd_hist_add(uint64_t ns);
uint64_t vmpd_now_ns(void);

/* ---- configuration ---- */

struct vmpd_config {
	char socket_path[108];
	char ctl_path[108];
	char *swapfiles[VMPD_MAX_SWAPFILES];
	int nswapfiles;
	uint64_t swap_pages;		/* slots per swap file */
	uint64_t frames;		/* global budget (frames_total) */
	uint64_t client_frames;		/* per-client budget: default and max */
	uint64_t cache_pages;		/* soft-eviction arena, all clients */
	uint64_t client_cache;		/* cache pages per client */
	int policy;			/* enum vmp_policy_kind */
	unsigned int readahead;		/* pages, 0..VMP_RA_MAX */
	unsigned int ra_adaptive;	/* 1: sized by hits (vmp_ra.h); atomic */
	unsigned int hello_timeout;	/* ms a connection may take to send its hello */
	unsigned int max_region_pages;	/* largest region admitted; atomic (ctl) */
	/*
	 * Watermarks on free frames, min <= low <= high (vmpd_reclaim.c):
	 * wmark[0..2] when wmark_auto is 0, else each client's budget / 64,
	 * / 32 and * 3 / 64. All three 0: no background reclaim. Written by
	 * the control thread while others read: wmark_seq odd during a write.
	 */
	unsigned int poll_us;		/* spin for the next fault this long; atomic */
	unsigned int poll_max_us;	/* a client's window grows up to this; atomic */
	unsigned int dirty_guess;	/* 1: fill read faults writable when most get written; atomic */
	unsigned int fault_around;	/* pages mapped after a faulting one, 0..VMP_RA_MAX; atomic */
	unsigned int wmark[3];
	unsigned int wmark_auto;
	unsigned int wmark_seq;
	int threads;
	uid_t allow_uids[VMPD_MAX_UIDS];
	int nallow_uids;
	gid_t allow_gids[VMPD_MAX_UIDS];
	int nallow_gids;
	uid_t ctl_uids[VMPD_MAX_UIDS];
	int nctl_uids;
	char state_dir[256];		/* "": no state kept across restarts */
	unsigned int reattach_timeout;	/* s a dead daemon's region waits for its client */
	bool keep_caps;			/* testing only: --keep-caps */
	bool foreground;
};

/* ---- per-client state ---- */

#define VMPD_PG_RESIDENT	0x1	/* in the memfd */
#define VMPD_PG_WP		0x2	/* mapped write-protected (clean) */
#define VMPD_PG_DIRTY		0x4	/* written since its slot copy */
#define VMPD_PG_GONE		0x8	/* unmapped by the client */
#define VMPD_PG_BUSY		0x10	/* the evictor copies it out, unlocked */

struct vmpd_page {
	uint32_t frame;		/* VMP_NIL unless resident in a frame */
	uint32_t slot;		/* valid swap copy, or VMP_NIL */
	uint32_t cache;		/* cache entry, or VMP_NIL */
	uint16_t flags;		/* VMPD_PG_* */
	uint16_t unused;
};

struct vmpd_frame {
	uint32_t idx;		/* page held, while the frame is used */
	struct vmp_pnode pn;	/* owned by the client's policy */
};

#define VMPD_CE_USED	0x1
#define VMPD_CE_DIRTY	0x2	/* the only copy: must be written */
#define VMPD_CE_RA	0x4	/* read ahead, not yet faulted */
#define VMPD_CE_BATCH	0x8	/* read for a queued fault, with others */

struct vmpd_centry {
	uint32_t idx;		/* page held */
	uint32_t prev, next;	/* FIFO: head newest, tail oldest */
	uint32_t buf;		/* arena page */
	uint32_t flags;		/* VMPD_CE_* */
	/*
	 * An eviction copied page @staged here and is about to punch it
	 * (VMP_NIL otherwise): what a restarted daemon reads if this one
	 * dies between the punch and ce_hold() (vmpd_state.c).
	 */
	uint32_t staged;
	uint32_t staged_flags;	/* VMPD_CE_DIRTY if the copy is the only one */
};

/* One contiguous piece of the region mapped in the client. */
struct vmpd_extent {
	uint64_t start;		/* client address */
	uint64_t npages;
	uint64_t pgoff;		/* first page of the memfd */
};

struct vmpd_state_hdr;

struct vmpd_client {
	pthread_mutex_t lock;
	uint32_t slot;			/* invariant: index in vmpd.clients */
	uint32_t serial;		/* invariant: this client's number, in epoll data */
	int refs;			/* atomic */
	bool dead;			/* protected by lock */
	pid_t pid;			/* invariant after accept */
	uid_t uid;
	gid_t gid;
	int sock, uffd, memfd, pidfd;	/* invariant until freed */
	bool user_mode_only;
	/*
	 * The adaptive polling window (serve_polling()), touched only by the
	 * thread that holds the client's userfaultfd event (EPOLLONESHOT):
	 * its length in us (0: poll_us), and when it last ran out (ns; 0
	 * while a window runs, and after one that a fault or another
	 * client's event ended).
	 */
	unsigned int poll_win_us;
	uint64_t poll_end_ns;
	/*
	 * A file-backed region (VMPD_HELLO_FILE, vmpd_file.c), invariant:
	 * a page with no copy here (no frame, cache entry or slot) is the
	 * file's bytes at foff + idx * PG, cut at flen; it never gets a slot.
	 */
	int filefd;			/* -1: anonymous */
	bool file_ro;			/* never written */
	uint64_t foff, flen;

	uint64_t npages;		/* region size in pages */
	/*
	 * With a state_dir, pages[] and centries[] live in the region's
	 * state file (vmpd_state.c), a tmpfs file that outlives the daemon;
	 * token names it. Invariant after accept.
	 */
	struct vmpd_state_hdr *st;	/* NULL: malloc'd, nothing kept */
	size_t st_bytes;
	uint64_t token;
	struct vmpd_page *pages;	/* protected by lock */
	struct vmpd_extent *ext;	/* protected by lock */
	int next, ext_cap;

	uint32_t budget;		/* frames: the policy's nframes */
	struct vmpd_frame *frames;
	uint32_t *free_frames;
	uint32_t nfree;
	uint32_t resident;		/* frames used; read without lock */
	uint64_t untracked;		/* resident beyond the budget */
	uint64_t ucursor;		/* lock: vmpd_evict_untracked()'s next look */
	struct vmp_policy pol;
	void *pol_mem;
	uint32_t pol_reserve;		/* lock: high watermark told to the policy */
	struct vmp_policy_stats pol_base; /* counters of replaced policies */
	struct vmp_ra ra;		/* swap read-ahead, protected by lock */
	/*
	 * Fault-around (lock; vmpd_fault.c): the window for never-touched
	 * pages (zra; swapped ones use ra), and for each kind the run mapped
	 * last: next fault at *_next means its *_len pages were used.
	 */
	struct vmp_ra zra;
	uint64_t ra_next, zra_next;
	uint32_t ra_len, zra_len;
	/*
	 * Dirty guess (lock): of the last VMPD_GUESS_WINDOW read faults filled
	 * write-protected, how many were written while resident (a WP fault).
	 * When most were, read faults are filled writable (vmpd_fault.c:
	 * guess_dirty()), all but one in VMPD_GUESS_PROBE, which keep
	 * measuring.
	 */
	uint32_t g_fills, g_writes, g_probe;
	bool g_dirty;

	/*
	 * The evictor's batch in flight (lock; evict_batch()): while set, it
	 * copies out and punches its victims (VMPD_PG_BUSY) without c->lock;
	 * faults on them are woken when it is done (defer[]), client_kill()
	 * leaves the arena buffers to it, a policy switch waits.
	 */
	bool evicting;
	/*
	 * Threads waiting for the evictor batch in flight to end
	 * (vmpd_evictor_wait()): while non-zero the evictor starts no new
	 * batch on this client, so the wait is one batch at most.
	 */
	unsigned int evict_hold;
	uint32_t ndefer;
	uint64_t defer[VMPD_DEFER_MAX];

	uint32_t ncache;		/* soft-eviction cache entries */
	bool arena_held;		/* their buffers came from the arena */
	struct vmpd_centry *centries;
	uint32_t *cfree;
	uint32_t ncfree;
	uint32_t chead, ctail;		/* FIFO of used entries */

	/*
	 * Messages read from the uffd, not yet served; protected by lock,
	 * used by the serving thread only. Events are applied before any
	 * queued fault is served, and while any wait here no address-based
	 * ioctl is made (vmpd_fault.c: serve(); vmpd_uffd.c: uffd_ioctl()).
	 */
	struct uffd_msg evq[VMPD_PEND_MAX];	/* events, in order */
	int nevq;
	struct uffd_msg pend[VMPD_PEND_MAX];	/* faults: ring from phead */
	int phead, npend;
};

/* ---- file-backed regions (vmpd_file.c), with c->lock held ---- */
struct vmpd_thread;
void *file_read_page(struct vmpd_thread *t, struct vmpd_client *c,
		     uint64_t idx);
int file_write_page(struct vmpd_client *c, uint64_t idx, const void *buf);
int vmpd_file_flush(struct vmpd_client *c, uint64_t first, uint64_t n,
		    bool sync, bool final);
void vmpd_file_sock_msg(struct vmpd_client *c, const void *msg, size_t len);
void vmpd_file_save_page(struct vmpd_client *c, uint64_t idx);

/*
 * ---- state kept across a restart (vmpd_state.c) ----
 * vmpd_state_start() and the orphan calls run in main() before the threads
 * and then in the admission thread only; the per-client calls with c->lock
 * held or before the client is in the table.
 */
struct vmpd_orphan;
int vmpd_state_start(void);
void vmpd_state_stop(unsigned int nclients);
void *vmpd_state_arena(size_t bytes);
int vmpd_state_create(struct vmpd_client *c, uint64_t token);
int vmpd_state_commit(struct vmpd_client *c);
void vmpd_state_ext(struct vmpd_client *c);
void vmpd_state_event(struct vmpd_client *c, bool pending);
void vmpd_state_drop(struct vmpd_client *c);
void vmpd_state_free(struct vmpd_client *c);
struct vmpd_orphan *vmpd_orphan_find(uint64_t token);
int vmpd_orphan_check(const struct vmpd_orphan *o, const struct vmpd_client *c,
		      unsigned int next, char *why, size_t len);
int vmpd_state_recover(struct vmpd_client *c, struct vmpd_orphan *o,
		       const struct vmpd_hello_ext *ext, unsigned int next);
void vmpd_orphan_done(struct vmpd_orphan *o, struct vmpd_client *c);
uint64_t vmpd_orphans_expire(uint64_t now);
unsigned int vmpd_orphans(void);
void vmpd_page_adopt(struct vmpd_client *c, uint64_t idx, uint16_t fl);

/* ---- fork (vmpd_fork.c) ---- */
struct vmpd_forkling;
void vmpd_fork_msg(struct vmpd_client *c, const void *msg, size_t len, int fd);
struct vmpd_forkling *vmpd_forkling_take(uint64_t token, uid_t uid, int memfd,
					 uint64_t npages, char *why, size_t len);
void vmpd_fork_adopt(struct vmpd_client *c, struct vmpd_forkling *k);
void vmpd_forkling_drop(struct vmpd_forkling *k);
uint64_t vmpd_forklings_expire(uint64_t now);
unsigned int vmpd_forks_pending(void);

/* ---- handler threads ---- */

struct vmpd_thread {
	pthread_t tid;
	int id;
	struct io_uring ring;
	bool fixed;			/* the arena is registered buffer 0 */
	uint32_t ring_batch;		/* own thread only: number of the next ring_run() */
	void *bounce;			/* one arena page of its own */
	void *runbuf;			/* handlers: VMPD_RUN_PAGES arena pages */
	struct vmpd_client *overlap;	/* own thread only: ring_run() evicts for it
					 * while its reads are in flight (c->lock held) */
	bool overlapping;		/* own thread only: in that eviction, no ring I/O */
};

/* ---- the daemon ---- */

struct vmpd {
	struct vmpd_config cfg;
	int epfd;
	int idle_threads;		/* handler threads in epoll_wait(); atomic */
	int lsock;			/* client socket */
	int ctlsock;			/* control socket */
	struct vmp_uswap *swap;		/* NULL: no swap, dirty pages stay */

	char *arena;			/* cache buffers, registered */
	uint32_t arena_pages;
	pthread_mutex_t arena_lock;
	uint32_t *arena_free;		/* protected by arena_lock */
	uint32_t arena_nfree;
	uint32_t arena_pending;		/* atomic: held by gone clients' evictor batches */

	uint64_t frames_used;		/* atomic: all clients' frames */
	int policy;			/* atomic: kind for new clients */
	pthread_mutex_t policy_lock;	/* serialises policy switches */

	pthread_mutex_t clients_lock;
	struct vmpd_client *clients[VMPD_MAX_CLIENTS]; /* clients_lock */
	int nclients;			/* protected by clients_lock */
	uint32_t client_serial;		/* protected by clients_lock: last serial given */
	struct vmp_policy_stats gone_pol; /* clients_lock: exited clients */

	uint64_t fail_reads;		/* atomic: fault injection, swap reads */
	uint64_t fail_writes;		/* atomic: ... swap writes */
	uint64_t fail_again;		/* atomic: ... transient results (EAGAIN) */

	struct vmpd_thread threads[VMPD_MAX_THREADS];
	int nthreads;
	struct vmpd_thread reclaimer;	/* the evictor's ring (vmpd_reclaim.c) */
	volatile int stop;
};

extern struct vmpd vmpd;

/*
 * epoll tags: data.u64 = serial << 32 | slot << 8 | tag. The serial tells
 * an event of a client from a stale one of an earlier client in the same
 * slot (fetched by one thread while another tore that client down).
 */
enum { VMPD_EP_LISTEN = 1, VMPD_EP_UFFD, VMPD_EP_SOCK, VMPD_EP_PIDFD };

/* vmpd_client.c: shared with admission (vmpd_admit.c) */
int vmpd_arena_take(uint32_t n, uint32_t *out);
int vmpd_ext_add(struct vmpd_client *c, uint64_t start, uint64_t npages,
		 uint64_t pgoff);
void vmpd_client_kill(struct vmpd_client *c, const char *why);
void vmpd_client_arena_give(struct vmpd_client *c);
void vmpd_client_destroy(struct vmpd_client *c);	/* not in the table */
void vmpd_ep_arm(int fd, struct vmpd_client *c, int tag, uint32_t events,
		 int op);
int vmpd_send_reply(struct vmpd_client *c, int sock,
		    const struct vmpd_reply *r);

/* vmpd_admit.c */
void *vmpd_admit_thread(void *stop_fd);

/* vmpd_client.c */
void vmpd_client_event(struct vmpd_thread *t, uint64_t data);
struct vmpd_client *vmpd_client_get(uint32_t slot);
void vmpd_client_put(struct vmpd_client *c);
int vmpd_policy_switch(int kind);
void vmpd_policy_stats(struct vmp_policy_stats *out);
uint64_t vmpd_client_swapped(struct vmpd_client *c);
void *vmpd_arena_page(uint32_t i);

/*
 * Eviction and the frame budget (vmpd_evict.c) and the soft-eviction
 * cache's writeback (vmpd_cache.c), used by the evictor (vmpd_reclaim.c);
 * all with c->lock held.
 */
void vmpd_evictor_wait(struct vmpd_client *c);
void vmpd_evict_overlap(struct vmpd_thread *t, struct vmpd_client *c);
unsigned int vmpd_evict_batch(struct vmpd_thread *t, struct vmpd_client *c,
			      unsigned int want, bool unlock);
int vmpd_cache_flush(struct vmpd_thread *t, struct vmpd_client *c);
unsigned int vmpd_evict_untracked(struct vmpd_thread *t, struct vmpd_client *c,
				  unsigned int want);
int vmpd_evict_idx(struct vmpd_thread *t, struct vmpd_client *c, uint64_t idx);
void vmpd_advise_msg(struct vmpd_thread *t, struct vmpd_client *c,
		     const void *msg, size_t len);
struct vmpd_client *vmpd_largest_client(void);

/*
 * ---- the paths that serve a region ----
 * Shared by vmpd_client.c, vmpd_fault.c, vmpd_evict.c, vmpd_cache.c,
 * vmpd_swapio.c and vmpd_uffd.c; all with c->lock held, except serve(),
 * which takes it.
 */

/* vmpd_client.c: the address map */
bool addr_to_idx(struct vmpd_client *c, uint64_t addr, uint64_t *idx);
bool idx_to_addr(struct vmpd_client *c, uint64_t idx, uint64_t *addr);
int ext_cut(struct vmpd_client *c, uint64_t s, uint64_t e,
	    bool moved, int64_t delta);

/* vmpd_fault.c */
void serve(struct vmpd_thread *t, struct vmpd_client *c);

/*
 * Page @p's slot is stale or unneeded: the page forgets it first, then
 * the slot is freed, so that the state file (vmpd_state.c) never names a
 * slot another page may have been given meanwhile.
 */
static inline void page_slot_drop(struct vmpd_page *p)
{
	uint32_t s = p->slot;

	if (s == VMP_NIL)
		return;
	__atomic_store_n(&p->slot, VMP_NIL, __ATOMIC_RELEASE);
	vmp_uswap_free(vmpd.swap, s);
}

/*
 * Resident page @p may now differ from its slot's copy: dirty, the slot
 * dropped. Its mapping may stay write-protected: the next write only
 * lifts the protection (fault_wp()).
 */
static inline void page_make_dirty(struct vmpd_page *p)
{
	p->flags = (p->flags & ~VMPD_PG_WP) | VMPD_PG_DIRTY;
	page_slot_drop(p);
}

/* vmpd_evict.c: frames */
uint32_t frame_get(struct vmpd_thread *t, struct vmpd_client *c);
uint32_t frame_try(struct vmpd_client *c, const uint32_t m[3]);
bool vmpd_frame_reserve(void);
void frame_release(struct vmpd_client *c, uint32_t f);

/* vmpd_cache.c */
void *ce_buf(struct vmpd_client *c, uint32_t e);
void ce_link_head(struct vmpd_client *c, uint32_t e);
void ce_hold(struct vmpd_client *c, uint32_t e, uint64_t idx, uint8_t flags);
void ce_free(struct vmpd_client *c, uint32_t e);
void ce_stage(struct vmpd_client *c, uint32_t e, uint64_t idx, bool dirty);
uint32_t cache_get(struct vmpd_thread *t, struct vmpd_client *c, bool io);

/* vmpd_swapio.c */
void swap_rw(struct vmpd_thread *t, bool write, const uint32_t *slots,
	     void *const *bufs, unsigned int n, int *res);
int inject(uint64_t *left, int res);

/* vmpd_uffd.c */
extern __thread struct vmpd_client *serving;	/* client this thread serves */
int read_msgs(struct vmpd_client *c);
int uffd_copy(struct vmpd_client *c, uint64_t addr, const void *src, bool wp);
int uffd_copy_run(struct vmpd_client *c, uint64_t addr, const void *src,
		  unsigned int n, bool wp, unsigned int *done);
int uffd_wp_range(struct vmpd_client *c, uint64_t addr, uint64_t len,
		  bool protect);
int uffd_wp(struct vmpd_client *c, uint64_t addr, bool protect);
void uffd_wake(struct vmpd_client *c, uint64_t addr, uint64_t len);
int punch(struct vmpd_client *c, uint64_t idx);

/* vmpd_reclaim.c */
uint32_t vmpd_free_frames(const struct vmpd_client *c);	/* c->lock */
void vmpd_client_marks(const struct vmpd_client *c, uint32_t m[3]);
void vmpd_reclaim_kick(void);
void *vmpd_reclaim_thread(void *arg);
void vmpd_reclaim_stop(void);
int vmpd_wmark_parse(const char *s, unsigned int m[3], bool *autom);
void vmpd_wmark_set(const unsigned int m[3], bool autom);
void vmpd_wmark_get(unsigned int m[3], bool *autom);

/* vmpd_ctl.c */
void *vmpd_ctl_thread(void *arg);

#endif /* _VMPD_H */
