// SPDX-License-Identifier: GPL-2.0
/*
 * The io_uring swap server for vmpager.ko: `vmpagerd --swap-server FILE...`.
 *
 * It attaches to /dev/vmpager (VMPAGER_IOC_SRV_ATTACH), parks one
 * IORING_OP_URING_CMD FETCH per tag, and serves the module's swap requests:
 * a completed command names a slot and an operation, with the page already
 * in the tag's buffer for a write; the server reads or writes that page of
 * its swap files (vmp_uswap: striped, preallocated, O_DIRECT where the
 * filesystem allows) with a fixed-buffer io_uring request on the same ring,
 * then answers with COMMIT_AND_FETCH carrying the result. Once attached it
 * keeps no capability and sets no_new_privs; its memory is locked
 * (mlockall) so the module's copies into it never fault.
 *
 * The files hold the data, the server keeps no state of its own: a server
 * that is killed and started again on the same files (same slot count)
 * serves the slots the first one wrote. docs/swap-server.md has the protocol.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "vmpager.h"
#include "vmp_uswap.h"
#include "swap_server.h"

#define UD_IO		(1ULL << 32)	/* user_data: file I/O of tag (low bits) */
#define UD_PAGES(ud)	((uint32_t)((ud) >> 33))	/* ... of that many pages */

struct srv {
	int dev;
	struct io_uring ring;
	struct vmp_uswap *sw;
	unsigned char *bufs;
	struct vmpager_srv_desc *descs;		/* one page per request */
	struct vmpager_srv_run_desc *rdescs;	/* runs (-r N, N > 0) */
	uint32_t depth;
	uint32_t run;			/* pages per tag: 1, or N with runs */
	uint32_t *op;			/* op in flight per tag */
	uint32_t *pending;		/* file I/Os in flight per tag */
	int *result;			/* per tag: 0 or the first error */
	uint64_t reads, writes, errors, bad, requests;
};

static volatile sig_atomic_t stop_requested, stats_requested;
static bool detached;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		stats_requested = 1;
	else
		stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmpagerd --swap-server [-d DEPTH] [-r RUN] [-s SLOTS_PER_FILE]\n"
		"                [-t TIMEOUT_MS] [-D DEVICE] [-q] FILE...\n"
		"Serves vmpager.ko's swap I/O over io_uring from FILE... (striped).\n"
		"  -d  parked commands (default 32, at most %d)\n"
		"  -r  pages per request: runs of consecutive slots, 1..%d (default 32);\n"
		"      0: one page per request (the protocol before ABI 1.3)\n"
		"  -s  pages per file (default 65536); the same files and size resume\n"
		"      a previous server's data\n"
		"  -t  the module declares the server dead after this long (default 5000)\n"
		"  -D  device (default %s)\n"
		"  -q  no statistics line at exit\n"
		"SIGTERM/SIGINT detach and exit 0; SIGUSR1 prints statistics.\n",
		VMPAGER_SRV_MAX_DEPTH, VMPAGER_SRV_MAX_RUN, VMPAGER_DEVICE);
}

static struct io_uring_sqe *get_sqe(struct srv *s)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);

	if (!sqe) {
		io_uring_submit(&s->ring);
		sqe = io_uring_get_sqe(&s->ring);
	}
	return sqe;
}

static int queue_cmd(struct srv *s, uint32_t cmd_op, uint32_t tag, int result)
{
	struct io_uring_sqe *sqe = get_sqe(s);
	struct vmpager_srv_cmd c = { .tag = tag, .result = result };

	if (!sqe)
		return -EBUSY;
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = s->dev;
	sqe->cmd_op = cmd_op;
	memcpy(sqe->cmd, &c, sizeof(c));
	sqe->user_data = tag;
	return 0;
}

/* A command completed: the module handed us a request (or gave up). */
static int on_request(struct srv *s, uint32_t tag, int res)
{
	unsigned char *buf = s->bufs + (size_t)tag * s->run * VMP_USWAP_PAGE;
	struct io_uring_sqe *sqe;
	uint64_t slot;
	uint32_t count, i, n, dtag;

	if (res < 0)
		return res;	/* -ENODEV: the module ended the session */
	if (s->rdescs) {
		slot = s->rdescs[tag].slot;
		count = s->rdescs[tag].count;
		dtag = s->rdescs[tag].tag;
	} else {
		slot = s->descs[tag].slot;
		count = 1;
		dtag = s->descs[tag].tag;
	}
	if (dtag != tag || !count || count > s->run ||
	    slot >= vmp_uswap_nslots(s->sw) ||
	    count > vmp_uswap_nslots(s->sw) - slot ||
	    (res != VMPAGER_SRV_OP_READ && res != VMPAGER_SRV_OP_WRITE)) {
		s->bad++;
		fprintf(stderr, "vmpagerd: bad request on tag %u: op %d slot %llu count %u\n",
			tag, res, (unsigned long long)slot, count);
		return queue_cmd(s, VMPAGER_URING_COMMIT_AND_FETCH, tag, -EINVAL);
	}
	s->requests++;
	s->op[tag] = res;
	s->result[tag] = 0;
	s->pending[tag] = 0;
	/* one file I/O per stretch of the run that is contiguous in a file */
	for (i = 0; i < count; i += n) {
		n = vmp_uswap_contig(s->sw, slot + i, count - i);
		sqe = get_sqe(s);
		if (!sqe)
			return -EBUSY;
		vmp_uswap_prep_pages(s->sw, sqe, res == VMPAGER_SRV_OP_WRITE,
				     slot + i, n, buf + (size_t)i * VMP_USWAP_PAGE, 0);
		sqe->user_data = UD_IO | ((uint64_t)n << 33) | tag;
		s->pending[tag]++;
	}
	return 0;
}

static int on_io_done(struct srv *s, uint32_t tag, uint32_t pages, int res)
{
	if (res != (int)(pages * VMP_USWAP_PAGE)) {
		if (!s->result[tag])
			s->result[tag] = res < 0 ? res : -EIO;
		s->errors++;
	} else if (s->op[tag] == VMPAGER_SRV_OP_WRITE) {
		s->writes += pages;
	} else {
		s->reads += pages;
	}
	if (--s->pending[tag])
		return 0;	/* the rest of the run is still in flight */
	return queue_cmd(s, VMPAGER_URING_COMMIT_AND_FETCH, tag, s->result[tag]);
}

static void print_stats(struct srv *s)
{
	fprintf(stderr, "vmpagerd: swap server: requests %llu reads %llu writes %llu io_errors %llu bad_requests %llu\n",
		(unsigned long long)s->requests, (unsigned long long)s->reads,
		(unsigned long long)s->writes, (unsigned long long)s->errors,
		(unsigned long long)s->bad);
}

/* Keep nothing: the device, the files and the ring are open already. */
static int drop_privileges(void)
{
	cap_t none = cap_init();
	int ret;

	if (!none)
		return -errno;
	ret = cap_set_proc(none);
	cap_free(none);
	if (ret)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return 0;
}

static int serve(struct srv *s)
{
	struct __kernel_timespec tick = { .tv_nsec = 200 * 1000 * 1000 };
	struct io_uring_cqe *cqe;
	unsigned int head, n;
	int ret = 0;

	while (!ret) {
		if (stats_requested) {
			stats_requested = 0;
			print_stats(s);
		}
		if (stop_requested) {
			stop_requested = 0;
			/* the module ends every parked command with -ENODEV */
			if (ioctl(s->dev, VMPAGER_IOC_SRV_DETACH))
				return -errno;
			detached = true;
		}
		/* wake up now and then: a signal between the checks above and
		 * the wait must not leave an idle server running */
		ret = io_uring_submit_and_wait_timeout(&s->ring, &cqe, 1, &tick, NULL);
		if (ret == -EINTR || ret == -ETIME) {
			ret = 0;
			continue;
		}
		if (ret < 0)
			break;
		ret = 0;
		n = 0;
		io_uring_for_each_cqe(&s->ring, head, cqe) {
			uint64_t ud = cqe->user_data;
			uint32_t tag = (uint32_t)ud;

			n++;
			if (tag >= s->depth) {
				ret = -EPROTO;
				break;
			}
			ret = (ud & UD_IO) ? on_io_done(s, tag, UD_PAGES(ud), cqe->res) :
					     on_request(s, tag, cqe->res);
			if (ret)
				break;
		}
		io_uring_cq_advance(&s->ring, n);
	}
	return ret;
}

/*
 * Option -@opt's number @arg, whole (base 0: decimal, 0x hex, 0 octal) and
 * within @min..@max, into *@v: 0, or -1 after saying why on stderr.
 */
static int opt_num(int opt, const char *arg, uint64_t min, uint64_t max,
		   uint64_t *v)
{
	unsigned long long n;
	char *end;

	errno = 0;
	n = strtoull(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-' || n < min || n > max) {
		fprintf(stderr, "vmpagerd: -%c: '%s' is not a number in %llu..%llu\n",
			opt, arg, (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*v = n;
	return 0;
}

int vmp_swap_server_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "swap-server", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vmpager_srv_attach at = { 0 };
	uint64_t per_file = 65536;
	const char *dev = VMPAGER_DEVICE;
	struct srv s = { .depth = 32, .run = 32 };
	struct iovec iov;
	struct sigaction sa = { .sa_handler = on_signal };
	bool quiet = false;
	int opt, ret;
	uint64_t v;
	uint32_t t;

	while ((opt = getopt_long(argc, argv, "d:r:s:t:D:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'S':
			break;
		case 'd':
			if (opt_num(opt, optarg, 1, VMPAGER_SRV_MAX_DEPTH, &v))
				return 2;
			s.depth = v;
			break;
		case 'r':
			if (opt_num(opt, optarg, 0, VMPAGER_SRV_MAX_RUN, &v))
				return 2;
			s.run = v;
			break;
		case 's':
			if (opt_num(opt, optarg, 1, UINT32_MAX - 1, &per_file))
				return 2;
			break;
		case 't':
			if (opt_num(opt, optarg, 0, 600000, &v))
				return 2;
			at.timeout_ms = v;
			break;
		case 'D':
			dev = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc || !s.depth || s.depth > VMPAGER_SRV_MAX_DEPTH || !per_file) {
		usage(stderr);
		return 2;
	}

	s.dev = open(dev, O_RDWR | O_CLOEXEC);
	if (s.dev < 0) {
		fprintf(stderr, "vmpagerd: %s: %s (is vmpager.ko loaded?)\n", dev,
			strerror(errno));
		return 1;
	}
	ret = vmp_uswap_open(&s.sw, argv + optind, argc - optind, per_file);
	if (ret) {
		fprintf(stderr, "vmpagerd: swap files: %s\n", strerror(-ret));
		return 1;
	}
	if (s.run) {
		struct vmpager_version ver;

		/* runs came with ABI 1.3 (every 2.x has them) */
		if (ioctl(s.dev, VMPAGER_IOC_VERSION, &ver) ||
		    ver.major != VMPAGER_VERSION_MAJOR) {
			fprintf(stderr, "vmpagerd: the module predates runs (ABI 1.3): one page per request\n");
			s.run = 0;
		}
	}
	if (s.run) {
		at.flags = VMPAGER_SRV_F_RUNS;
		at.run_pages = s.run;
		s.rdescs = calloc(s.depth, sizeof(*s.rdescs));
	} else {
		s.run = 1;
		s.descs = calloc(s.depth, sizeof(*s.descs));
	}
	s.bufs = aligned_alloc(VMP_USWAP_PAGE, (size_t)s.depth * s.run * VMP_USWAP_PAGE);
	s.op = calloc(s.depth, sizeof(*s.op));
	s.pending = calloc(s.depth, sizeof(*s.pending));
	s.result = calloc(s.depth, sizeof(*s.result));
	if (!s.bufs || (!s.descs && !s.rdescs) || !s.op || !s.pending || !s.result) {
		fprintf(stderr, "vmpagerd: out of memory\n");
		return 1;
	}
	memset(s.bufs, 0, (size_t)s.depth * s.run * VMP_USWAP_PAGE);
	if (mlockall(MCL_CURRENT | MCL_FUTURE)) {
		fprintf(stderr, "vmpagerd: mlockall: %s\n", strerror(errno));
		return 1;
	}
	/* a run striped over files takes one file I/O per page */
	ret = io_uring_queue_init(s.depth * (s.run + 1) + 8, &s.ring, 0);
	if (ret) {
		fprintf(stderr, "vmpagerd: io_uring_queue_init: %s\n", strerror(-ret));
		return 1;
	}
	iov.iov_base = s.bufs;
	iov.iov_len = (size_t)s.depth * s.run * VMP_USWAP_PAGE;
	ret = io_uring_register_buffers(&s.ring, &iov, 1);
	if (ret) {
		fprintf(stderr, "vmpagerd: registering buffers: %s\n", strerror(-ret));
		return 1;
	}
	at.bufs = (uintptr_t)s.bufs;
	at.descs = s.rdescs ? (uintptr_t)s.rdescs : (uintptr_t)s.descs;
	at.nslots = vmp_uswap_nslots(s.sw);
	at.depth = s.depth;
	if (ioctl(s.dev, VMPAGER_IOC_SRV_ATTACH, &at)) {
		fprintf(stderr, "vmpagerd: attach to %s: %s\n", dev, strerror(errno));
		return 1;
	}
	ret = drop_privileges();
	if (ret) {
		fprintf(stderr, "vmpagerd: dropping privileges: %s\n", strerror(-ret));
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	for (t = 0; t < s.depth; t++) {
		ret = queue_cmd(&s, VMPAGER_URING_FETCH, t, 0);
		if (ret)
			return 1;
	}
	fprintf(stderr, "vmpagerd: swap server pid %d attached: %llu slots on %d file(s), %s I/O, depth %u, %u pages per request; no capabilities, no_new_privs\n",
		getpid(), (unsigned long long)at.nslots, argc - optind,
		vmp_uswap_direct(s.sw) ? "direct" : "buffered", s.depth, s.run);
	ret = serve(&s);
	if (!quiet)
		print_stats(&s);
	if (ret != -ENODEV || !detached) {
		fprintf(stderr, "vmpagerd: swap server: %s\n",
			ret == -ENODEV ? "the module gave this server up (timeout or protocol error; see dmesg)" :
			strerror(-ret));
		return 1;
	}
	io_uring_queue_exit(&s.ring);
	vmp_uswap_close(s.sw);
	return 0;
}
