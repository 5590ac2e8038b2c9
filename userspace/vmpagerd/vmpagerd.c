// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerd: pages other processes' memory with userfaultfd, with the
 * module's policy core, swapping to files through io_uring. This file:
 * options and the config file, logging, counters, sockets (or systemd
 * socket activation), swap files, rings, the privilege drop, the handler
 * threads. docs/vmpagerd.md is the user's manual.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmpager.h"	/* the ABI version --version prints */
#include "vmpd.h"
#ifdef VMPD_SWAP_SERVER
#include "swap_server.h"
#endif

#define VMPD_CONF_DEFAULT	"/etc/vmpager/vmpagerd.conf"
#define VMPD_EP_STOP		0xff

struct vmpd vmpd;
int vmpd_log_level = VMPD_INFO;
uint64_t vmpd_stats[VMPD_NR_STATS];
uint64_t vmpd_hist[VMPD_HIST_BUCKETS + 1];

const char *const vmpd_stat_names[VMPD_NR_STATS] = {
#define VMPD_NAME(n) [VMPD_STAT_##n] = #n,
	VMPD_STATS(VMPD_NAME)
#undef VMPD_NAME
};

static const char *const level_names[] = { "err", "warn", "info", "debug" };
static bool to_journal;		/* stderr is the journal: "<N>" prefixes */
static bool socket_activated;
static int stop_fd = -1;

/* ------------------------------------------------------------------ */
/* Logging, time, histogram.                                           */

void vmpd_log(int level, const char *fmt, ...)
{
	static const int prio[] = { 3, 4, 6, 7 };	/* syslog levels */
	char buf[1024];
	va_list ap;
	int n;

	if (level > vmpd_log_level)
		return;
	if (to_journal)
		n = snprintf(buf, sizeof(buf), "<%d>", prio[level]);
	else
		n = snprintf(buf, sizeof(buf), "vmpagerd[%d]: %s: ", getpid(),
			     level_names[level]);
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, n) < 0)
		return;
}

uint64_t vmpd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vmpd_hist_add(uint64_t ns)
{
	uint64_t us = (ns + 999) / 1000;
	unsigned int i = us <= 1 ? 0 : 64 - __builtin_clzll(us - 1);

	if (i > VMPD_HIST_BUCKETS)
		i = VMPD_HIST_BUCKETS;
	__atomic_fetch_add(&vmpd_hist[i], 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* Configuration: defaults, the file, the command line.                */

static void config_defaults(struct vmpd_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->socket_path, sizeof(c->socket_path), "%s", VMPD_SOCKET_DEFAULT);
	snprintf(c->ctl_path, sizeof(c->ctl_path), "%s", VMPD_CTL_DEFAULT);
	c->swap_pages = 262144;		/* 1 GiB per file */
	c->frames = 65536;		/* 256 MiB */
	c->client_frames = 0;		/* = frames */
	c->cache_pages = 8192;		/* 32 MiB */
	c->client_cache = 256;		/* 1 MiB */
	c->policy = VMP_POLICY_DEFAULT;
	c->readahead = 8;
	c->ra_adaptive = 1;
	c->hello_timeout = 2000;
	c->max_region_pages = 1u << 22;	/* 16 GiB: 64 MiB of page states */
	c->wmark_auto = 1;		/* budget / 64, / 32, * 3 / 64 */
	c->poll_us = 500;
	c->poll_max_us = 2000;
	c->dirty_guess = 1;
	c->fault_around = VMP_RA_MAX;
	c->threads = 2;
	c->reattach_timeout = 60;
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_level(const char *s)
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		if (!strcmp(s, level_names[i]))
			return i;
	if (!strcmp(s, "error"))
		return VMPD_ERR;
	if (!strcmp(s, "warning"))
		return VMPD_WARN;
	return -1;
}

/* Apply one setting ("key", "value"); 0 or -EINVAL with a message. */
static int config_set(struct vmpd_config *c, const char *key, const char *val,
		      const char *where)
{
	uint64_t v;
	int k;

#define NUM(name, field, lo, hi)					\
	if (!strcmp(key, name)) {					\
		if (parse_u64(val, lo, hi, &v))				\
			goto bad;					\
		c->field = v;						\
		return 0;						\
	}
	NUM("swap_pages", swap_pages, 1, 1ull << 31)
	NUM("frames", frames, 1, 1ull << 31)
	NUM("client_frames", client_frames, 1, 1ull << 31)
	NUM("cache_pages", cache_pages, VMPD_FLUSH_BATCH, 262144 - VMPD_MAX_THREADS)
	NUM("client_cache", client_cache, VMPD_FLUSH_BATCH, 262144)
	NUM("readahead", readahead, 0, VMP_RA_MAX)
	NUM("ra_adaptive", ra_adaptive, 0, 1)
	NUM("threads", threads, 1, VMPD_MAX_THREADS)
	NUM("hello_timeout", hello_timeout, 10, 600000)
	NUM("max_region_pages", max_region_pages, 1, VMP_NIL - 1)
	NUM("poll_us", poll_us, 0, 100000)
	NUM("poll_max_us", poll_max_us, 0, 100000)
	NUM("dirty_guess", dirty_guess, 0, 1)
	NUM("fault_around", fault_around, 0, VMP_RA_MAX)
	NUM("reattach_timeout", reattach_timeout, 1, 86400)
#undef NUM
	if (!strcmp(key, "state_dir")) {
		if (!strcmp(val, "none")) {
			c->state_dir[0] = '\0';
			return 0;
		}
		if (val[0] != '/' || strlen(val) >= sizeof(c->state_dir))
			goto bad;
		strcpy(c->state_dir, val);
		return 0;
	}
	if (!strcmp(key, "socket") || !strcmp(key, "ctl")) {
		char *dst = key[0] == 's' ? c->socket_path : c->ctl_path;

		if (val[0] != '/' || strlen(val) >= sizeof(c->socket_path))
			goto bad;
		strcpy(dst, val);
		return 0;
	}
	if (!strcmp(key, "swapfile")) {
		if (c->nswapfiles == VMPD_MAX_SWAPFILES || !*val)
			goto bad;
		c->swapfiles[c->nswapfiles++] = strdup(val);
		return 0;
	}
	if (!strcmp(key, "watermarks")) {
		unsigned int m[3];
		bool autom;

		if (vmpd_wmark_parse(val, m, &autom))
			goto bad;
		vmpd_wmark_set(m, autom);
		return 0;
	}
	if (!strcmp(key, "policy")) {
		k = vmp_policy_by_name(val);
		if (k < 0)
			goto bad;
		c->policy = k;
		return 0;
	}
	if (!strcmp(key, "log_level")) {
		k = parse_level(val);
		if (k < 0)
			goto bad;
		vmpd_log_level = k;
		return 0;
	}
	if (!strcmp(key, "allow_uid") || !strcmp(key, "allow_gid") ||
	    !strcmp(key, "ctl_allow_uid")) {
		uint32_t *arr = !strcmp(key, "allow_uid") ? c->allow_uids :
				!strcmp(key, "allow_gid") ? c->allow_gids :
				c->ctl_uids;
		int *n = !strcmp(key, "allow_uid") ? &c->nallow_uids :
			 !strcmp(key, "allow_gid") ? &c->nallow_gids :
			 &c->nctl_uids;

		if (parse_u64(val, 0, UINT32_MAX - 1, &v) || *n == VMPD_MAX_UIDS)
			goto bad;
		arr[(*n)++] = (uint32_t)v;
		return 0;
	}
	fprintf(stderr, "vmpagerd: %s: unknown setting '%s'\n", where, key);
	return -EINVAL;
bad:
	fprintf(stderr, "vmpagerd: %s: bad value '%s' for %s\n", where, val, key);
	return -EINVAL;
}

/*
 * The config file: "key = value" (or "key value") lines, # comments. A
 * value with blanks (allow_uid 0 1000) sets each word.
 */
static int config_file(struct vmpd_config *c, const char *path, bool must)
{
	char line[512], where[PATH_MAX + 16];
	FILE *f = fopen(path, "re");
	int lineno = 0, ret = 0;

	if (!f) {
		if (!must && errno == ENOENT)
			return 0;
		fprintf(stderr, "vmpagerd: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		char *key, *val, *save = NULL, *w, *hash = strchr(line, '#');

		lineno++;
		if (hash)
			*hash = '\0';
		key = strtok_r(line, " \t\r\n=", &save);
		if (!key)
			continue;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		val = strtok_r(NULL, " \t\r\n=", &save);
		if (!val) {
			fprintf(stderr, "vmpagerd: %s: '%s' needs a value\n",
				where, key);
			ret = -EINVAL;
			continue;
		}
		for (w = val; w; w = strtok_r(NULL, " \t\r\n", &save))
			if (config_set(c, key, w, where))
				ret = -EINVAL;
	}
	fclose(f);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: vmpagerd [options]\n"
"  -c, --config FILE       config file (default " VMPD_CONF_DEFAULT " if present)\n"
"      --socket PATH       client socket (default " VMPD_SOCKET_DEFAULT ")\n"
"      --ctl PATH          control socket (default " VMPD_CTL_DEFAULT ")\n"
"      --swapfile PATH     a swap file (repeat for striping; none: dirty pages stay)\n"
"      --swap-pages N      slots (pages) per swap file (default 262144)\n"
"      --frames N          global frame budget, pages (default 65536)\n"
"      --client-frames N   per-client budget: default and maximum (default: frames)\n"
"      --cache-pages N     soft-eviction cache, all clients (default 8192)\n"
"      --client-cache N    soft-eviction cache per client (default 256)\n"
"      --policy NAME       fifo clock lru lru2 arc lirs sieve s3fifo clockpro\n"
"                          adaptive (the default)\n"
"      --readahead N       swap readahead window, 0-16 pages (default 8)\n"
"      --ra-adaptive 0|1   size the window by readahead hits (default 1)\n"
"      --threads N         fault handler threads (default 2)\n"
"      --hello-timeout MS  time a connection has to send its region (default 2000)\n"
"      --max-region-pages N  largest region admitted, pages (default 4194304)\n"
"      --watermarks W      free frames the evictor keeps: MIN,LOW,HIGH, auto\n"
"                          (default: budget/64,/32,*3/64) or off (0,0,0)\n"
"      --poll-us US        after serving a client, watch its userfaultfd\n"
"                          this long for the next fault before sleeping\n"
"                          (default 500 us; 0: sleep at once)\n"
"      --poll-max-us US    let a client's window grow up to US while its next\n"
"                          fault keeps coming soon after the window ended\n"
"                          (default 2000 us; at most poll-us: no growth)\n"
"      --dirty-guess 0|1   fill read faults writable while most of them get\n"
"                          written (default 1)\n"
"      --fault-around N    map up to N more pages at a fault: the following\n"
"                          never-touched or swapped pages, while faults are\n"
"                          sequential (0-16, default 16; 0: one page a fault)\n"
"      --state-dir DIR     keep each region's state in DIR (a tmpfs), so that\n"
"                          a restarted vmpagerd takes its clients back\n"
"                          (default none: regions end with the daemon)\n"
"      --reattach-timeout S  how long a dead daemon's region waits for its\n"
"                          client to re-attach (default 60 s)\n"
"      --allow-uid UID     uid allowed to connect (repeat; root always is)\n"
"      --allow-gid GID     gid allowed to connect (repeat)\n"
"      --ctl-allow-uid UID uid allowed on the control socket besides root\n"
"      --log-level LEVEL   err, warn, info (default), debug\n"
"  -v                      one level more verbose\n"
"  -h, --help              this text\n"
"  -V, --version           the release and the ABI versions\n"
"      --swap-server ...   run the module's io_uring swap server instead\n"
"                          (vmpagerd --swap-server -h; docs/swap-server.md)\n"
"Every option is also a config file key: swap_pages, client_frames, ...\n");
}

static int config_args(struct vmpd_config *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 1 },
		{ "ctl", required_argument, NULL, 2 },
		{ "swapfile", required_argument, NULL, 3 },
		{ "swap-pages", required_argument, NULL, 4 },
		{ "frames", required_argument, NULL, 5 },
		{ "client-frames", required_argument, NULL, 6 },
		{ "cache-pages", required_argument, NULL, 7 },
		{ "client-cache", required_argument, NULL, 8 },
		{ "policy", required_argument, NULL, 9 },
		{ "readahead", required_argument, NULL, 10 },
		{ "threads", required_argument, NULL, 11 },
		{ "allow-uid", required_argument, NULL, 12 },
		{ "allow-gid", required_argument, NULL, 13 },
		{ "ctl-allow-uid", required_argument, NULL, 14 },
		{ "log-level", required_argument, NULL, 15 },
		{ "ra-adaptive", required_argument, NULL, 16 },
		{ "hello-timeout", required_argument, NULL, 17 },
		{ "max-region-pages", required_argument, NULL, 18 },
		{ "watermarks", required_argument, NULL, 19 },
		{ "poll-us", required_argument, NULL, 20 },
		{ "dirty-guess", required_argument, NULL, 21 },
		{ "fault-around", required_argument, NULL, 22 },
		{ "state-dir", required_argument, NULL, 23 },
		{ "reattach-timeout", required_argument, NULL, 24 },
		{ "poll-max-us", required_argument, NULL, 25 },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const keys[] = {
		NULL, "socket", "ctl", "swapfile", "swap_pages", "frames",
		"client_frames", "cache_pages", "client_cache", "policy",
		"readahead", "threads", "allow_uid", "allow_gid",
		"ctl_allow_uid", "log_level", "ra_adaptive", "hello_timeout",
		"max_region_pages", "watermarks", "poll_us", "dirty_guess",
		"fault_around", "state_dir", "reattach_timeout", "poll_max_us",
	};
	const char *conf = NULL;
	int o, i, ret;

	/* the file first, so the command line overrides it */
	for (i = 1; i < argc - 1; i++) {
		if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config"))
			conf = argv[i + 1];
		else if (!strncmp(argv[i], "--config=", 9))
			conf = argv[i] + 9;
	}
	if (argc > 1 && !strncmp(argv[argc - 1], "--config=", 9))
		conf = argv[argc - 1] + 9;
	ret = config_file(c, conf ? conf : VMPD_CONF_DEFAULT, conf != NULL);
	if (ret)
		return ret;
	while ((o = getopt_long(argc, argv, "c:vhV", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			break;
		case 'V':
			printf("vmpagerd %s (vmpager ABI %d.%d, client protocol %u)\n",
			       VMPAGER_RELEASE, VMPAGER_VERSION_MAJOR,
			       VMPAGER_VERSION_MINOR, VMPD_VERSION);
			exit(0);
		case 'v':
			if (vmpd_log_level < VMPD_DEBUG)
				vmpd_log_level++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case '?':
			usage(stderr);
			return -EINVAL;
		default:
			if (config_set(c, keys[o], optarg, "command line"))
				return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vmpagerd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!c->client_frames || c->client_frames > c->frames)
		c->client_frames = c->frames;
	if (c->client_cache > c->cache_pages)
		c->client_cache = c->cache_pages;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Sockets.                                                            */

/* Create the directory of @path (and its parents) with @mode if missing. */
static int mkdir_parent(const char *path, mode_t mode)
{
	char dir[PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, mode) && errno != EEXIST) {
		if (errno == ENOENT && !mkdir_parent(dir, mode) &&
		    !mkdir(dir, mode))
			return 0;
		return -errno;
	}
	return 0;
}

/*
 * A listening socket at @path. A stale socket file is replaced; a live one
 * (another vmpagerd answers) is an error.
 */
static int listen_at(const char *path, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, probe, ret;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ret = mkdir_parent(path, 0755);
	if (ret) {
		err("creating the directory of %s: %s", path, strerror(-ret));
		return ret;
	}
	probe = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (probe >= 0 && !connect(probe, (struct sockaddr *)&sa, sizeof(sa))) {
		close(probe);
		err("%s: another vmpagerd is listening there", path);
		return -EADDRINUSE;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(path, 0666) || listen(fd, 64)) {
		ret = -errno;
		err("%s: %s", path, strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

/* systemd socket activation: LISTEN_FDS sockets from fd 3, matched by path. */
static void activation_fds(void)
{
	const char *pid = getenv("LISTEN_PID"), *nfds = getenv("LISTEN_FDS");
	int n, fd;

	if (!pid || !nfds || atoi(pid) != getpid())
		return;
	n = atoi(nfds);
	for (fd = 3; fd < 3 + n; fd++) {
		struct sockaddr_un sa;
		socklen_t len = sizeof(sa);

		memset(&sa, 0, sizeof(sa));
		if (getsockname(fd, (struct sockaddr *)&sa, &len) ||
		    sa.sun_family != AF_UNIX)
			continue;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		if (!strcmp(sa.sun_path, vmpd.cfg.socket_path)) {
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
			vmpd.lsock = fd;
		} else if (!strcmp(sa.sun_path, vmpd.cfg.ctl_path)) {
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
			vmpd.ctlsock = fd;
		} else {
			warn("socket activation: fd %d (%s) matches neither socket",
			     fd, sa.sun_path);
		}
	}
	socket_activated = vmpd.lsock >= 0;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

/* ------------------------------------------------------------------ */
/* Privileges.                                                         */

static void log_status_line(const char *key)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, strlen(key))) {
			line[strcspn(line, "\n")] = '\0';
			info("  %s", line);
		}
	}
	fclose(f);
}

/*
 * Everything privileged is done (sockets, swap files, rings, pinned
 * buffers): give up every capability, the bounding and ambient sets, and
 * set no_new_privs, so even uid 0 can only do what the open fds allow.
 */
static int drop_privileges(void)
{
	bool bound_kept = false;
	cap_t caps;
	int cap, ret = 0;

	/* without CAP_SETPCAP (started unprivileged) the bounding set stays */
	for (cap = 0; cap <= CAP_LAST_CAP; cap++) {
		if (!cap_drop_bound(cap) || errno == EINVAL)
			continue;
		if (errno != EPERM)
			ret = -errno;
		bound_kept = true;
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	caps = cap_init();
	if (!caps)
		return -ENOMEM;
	if (cap_set_proc(caps))
		ret = -errno;
	cap_free(caps);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		ret = -errno;
	caps = cap_get_proc();
	if (caps) {
		cap_flag_value_t v;

		for (cap = 0; cap <= CAP_LAST_CAP; cap++) {
			if (!cap_get_flag(caps, cap, CAP_EFFECTIVE, &v) &&
			    v == CAP_SET)
				ret = -EPERM;
			if (!cap_get_flag(caps, cap, CAP_PERMITTED, &v) &&
			    v == CAP_SET)
				ret = -EPERM;
		}
		cap_free(caps);
	}
	if (ret) {
		err("dropping privileges failed: %s", strerror(-ret));
		return ret;
	}
	info("privileges dropped: no capabilities (effective, permitted, inheritable, ambient%s), no_new_privs set:",
	     bound_kept ? "; bounding set kept: no CAP_SETPCAP" : ", bounding");
	log_status_line("Cap");
	log_status_line("NoNewPrivs");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Threads.                                                            */

/*
 * One event per epoll_wait(): an event this thread would hold while it
 * serves (and watches, poll_us) another client stays in the epoll set for a
 * thread that is free, or for this one's early end of its window
 * (serve_polling()). vmpd.idle_threads counts the threads in epoll_wait().
 */
static void *worker(void *arg)
{
	struct vmpd_thread *t = arg;
	struct epoll_event ev;
	int n;

	while (!vmpd.stop) {
		__atomic_add_fetch(&vmpd.idle_threads, 1, __ATOMIC_RELAXED);
		n = epoll_wait(vmpd.epfd, &ev, 1, -1);
		__atomic_sub_fetch(&vmpd.idle_threads, 1, __ATOMIC_RELAXED);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err("epoll_wait: %s", strerror(errno));
			break;
		}
		if (n == 1 && !vmpd.stop && (ev.data.u64 & 0xff) != VMPD_EP_STOP)
			vmpd_client_event(t, ev.data.u64);
	}
	return NULL;
}

static int setup_rings(void)
{
	struct iovec iov = {
		.iov_base = vmpd.arena,
		.iov_len = (size_t)(vmpd.arena_pages + vmpd.cfg.threads + 1 +
				    vmpd.cfg.threads * VMPD_RUN_PAGES) * VMPD_PAGE,
	};
	int i, ret;

	vmpd.nthreads = vmpd.cfg.threads;
	/*
	 * The handler threads' rings, then the evictor's; after the cache
	 * buffers, a bounce page each, then each handler's run buffer.
	 */
	for (i = 0; i <= vmpd.nthreads; i++) {
		struct vmpd_thread *t = i < vmpd.nthreads ? &vmpd.threads[i] :
					&vmpd.reclaimer;

		t->id = i;
		t->bounce = vmpd_arena_page(vmpd.arena_pages + i);
		t->runbuf = i == vmpd.nthreads ? NULL :
			    vmpd_arena_page(vmpd.arena_pages + vmpd.nthreads +
					    1 + i * VMPD_RUN_PAGES);
		ret = io_uring_queue_init(VMPD_RING_DEPTH, &t->ring, 0);
		if (ret) {
			err("io_uring_queue_init: %s", strerror(-ret));
			return ret;
		}
		ret = io_uring_register_buffers(&t->ring, &iov, 1);
		t->fixed = !ret;
		if (ret && !i)
			warn("registering %zu KiB of buffers: %s; plain reads and writes",
			     iov.iov_len >> 10, strerror(-ret));
	}
	return 0;
}

static int setup_arena(void)
{
	uint32_t i, n = vmpd.cfg.cache_pages;
	size_t bytes = (size_t)(n + vmpd.cfg.threads + 1 +
				vmpd.cfg.threads * VMPD_RUN_PAGES) * VMPD_PAGE;

	/* in the state_dir if there is one: dirty cached pages outlive us */
	vmpd.arena = vmpd_state_arena(bytes);
	if (vmpd.arena == MAP_FAILED)
		return -errno;
	vmpd.arena_free = malloc(n * sizeof(uint32_t));
	if (!vmpd.arena_free)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		vmpd.arena_free[i] = n - 1 - i;
	vmpd.arena_pages = n;
	vmpd.arena_nfree = n;
	pthread_mutex_init(&vmpd.arena_lock, NULL);
	return 0;
}

static int ep_add(int fd, uint64_t data, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(vmpd.epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int main(int argc, char **argv)
{
	pthread_t ctl_tid, admit_tid;
	sigset_t sigs;
	int sfd, i, ret;

#ifdef VMPD_SWAP_SERVER
	/* the module's io_uring swap server: another program in this binary */
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--swap-server"))
			return vmp_swap_server_main(argc, argv);
#endif
	to_journal = getenv("JOURNAL_STREAM") != NULL;
	config_defaults(&vmpd.cfg);
	if (config_args(&vmpd.cfg, argc, argv))
		return 2;
	vmpd.policy = vmpd.cfg.policy;
	vmpd.lsock = vmpd.ctlsock = -1;
	pthread_mutex_init(&vmpd.clients_lock, NULL);
	pthread_mutex_init(&vmpd.policy_lock, NULL);
	signal(SIGPIPE, SIG_IGN);

	activation_fds();
	if (vmpd.lsock < 0) {
		vmpd.lsock = listen_at(vmpd.cfg.socket_path, SOCK_SEQPACKET);
		if (vmpd.lsock < 0)
			return 1;
	}
	if (vmpd.ctlsock < 0) {
		vmpd.ctlsock = listen_at(vmpd.cfg.ctl_path, SOCK_STREAM);
		if (vmpd.ctlsock < 0)
			return 1;
		fcntl(vmpd.ctlsock, F_SETFL,
		      fcntl(vmpd.ctlsock, F_GETFL) & ~O_NONBLOCK);
	}
	if (vmpd.cfg.nswapfiles) {
		for (i = 0; i < vmpd.cfg.nswapfiles; i++)
			mkdir_parent(vmpd.cfg.swapfiles[i], 0700);
		ret = vmp_uswap_open(&vmpd.swap, vmpd.cfg.swapfiles,
				     vmpd.cfg.nswapfiles, vmpd.cfg.swap_pages);
		if (ret) {
			err("swap files: %s", strerror(-ret));
			return 1;
		}
		if ((uint64_t)vmp_uswap_nslots(vmpd.swap) >= VMP_NIL) {
			err("swap: %llu slots; at most %u",
			    (unsigned long long)vmp_uswap_nslots(vmpd.swap),
			    VMP_NIL - 1);
			return 1;
		}
	}
	if (vmpd_state_start())
		return 1;
	ret = setup_arena();
	if (!ret)
		ret = setup_rings();
	if (ret) {
		err("setting up buffers and rings: %s", strerror(-ret));
		return 1;
	}
	vmpd.epfd = epoll_create1(EPOLL_CLOEXEC);
	stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vmpd.epfd < 0 || stop_fd < 0 ||
	    ep_add(stop_fd, VMPD_EP_STOP, EPOLLIN)) {
		err("epoll: %s", strerror(errno));
		return 1;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);	/* threads inherit it */
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);

	if (drop_privileges())
		return 1;

	for (i = 0; i < vmpd.nthreads; i++) {
		ret = pthread_create(&vmpd.threads[i].tid, NULL, worker,
				     &vmpd.threads[i]);
		if (ret) {
			err("pthread_create: %s", strerror(ret));
			return 1;
		}
	}
	ret = pthread_create(&vmpd.reclaimer.tid, NULL, vmpd_reclaim_thread,
			     &vmpd.reclaimer);
	if (ret) {
		err("pthread_create: %s", strerror(ret));
		return 1;
	}
	ret = pthread_create(&admit_tid, NULL, vmpd_admit_thread,
			     (void *)(intptr_t)stop_fd);
	if (ret) {
		err("pthread_create: %s", strerror(ret));
		return 1;
	}
	ret = pthread_create(&ctl_tid, NULL, vmpd_ctl_thread, NULL);
	if (ret) {
		err("pthread_create: %s", strerror(ret));
		return 1;
	}
	info("ready: socket %s, control %s%s; frames %llu (per client %llu), cache %llu pages (per client %llu), policy %s, readahead %u%s, %d threads",
	     vmpd.cfg.socket_path, vmpd.cfg.ctl_path,
	     socket_activated ? " (socket-activated)" : "",
	     (unsigned long long)vmpd.cfg.frames,
	     (unsigned long long)vmpd.cfg.client_frames,
	     (unsigned long long)vmpd.cfg.cache_pages,
	     (unsigned long long)vmpd.cfg.client_cache,
	     vmp_policy_name(vmpd.policy), vmpd.cfg.readahead,
	     vmpd.cfg.ra_adaptive ? " adaptive" : " fixed", vmpd.nthreads);
	if (vmpd.swap)
		info("swap: %d file(s), %llu slots, %s, buffers %s",
		     vmp_uswap_nfiles(vmpd.swap),
		     (unsigned long long)vmp_uswap_nslots(vmpd.swap),
		     vmp_uswap_direct(vmpd.swap) ? "O_DIRECT" : "buffered",
		     vmpd.threads[0].fixed ? "registered" : "plain");
	else
		warn("no swap file: dirty pages cannot be evicted (--swapfile)");

	for (;;) {
		struct signalfd_siginfo si;

		if (read(sfd, &si, sizeof(si)) != sizeof(si)) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (si.ssi_signo == SIGHUP) {
			info("SIGHUP: nothing to reload (restart to apply config changes)");
			continue;
		}
		info("signal %d: stopping; %d client(s) %s",
		     si.ssi_signo, vmpd.nclients, vmpd.cfg.state_dir[0] ?
		     "wait for the next vmpagerd (state_dir)" :
		     "lose their regions");
		break;
	}
	vmpd.stop = 1;
	if (write(stop_fd, &(uint64_t){ 1 }, 8) != 8)
		err("waking the threads: %s", strerror(errno));
	for (i = 0; i < vmpd.nthreads; i++)
		pthread_join(vmpd.threads[i].tid, NULL);
	vmpd_reclaim_stop();
	pthread_join(vmpd.reclaimer.tid, NULL);
	pthread_join(admit_tid, NULL);
	if (!socket_activated) {
		unlink(vmpd.cfg.socket_path);
		unlink(vmpd.cfg.ctl_path);
	}
	vmpd_state_stop((unsigned int)vmpd.nclients);
	info("stopped: %llu faults, %llu swap-ins, %llu swap-outs",
	     (unsigned long long)vmpd_stats[VMPD_STAT_faults],
	     (unsigned long long)vmpd_stats[VMPD_STAT_swap_ins],
	     (unsigned long long)vmpd_stats[VMPD_STAT_swap_outs]);
	return 0;
}
