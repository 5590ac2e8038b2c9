// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerd control socket: a line protocol for vmpagerctl and people.
 *
 * The client writes one command per line; the daemon answers with lines and
 * a final "end", or "error ERRNO-NAME message" then "end". Any number of
 * commands per connection. Root and the ctl_allow_uid uids only (others get
 * "error EACCES ..." and the connection is closed). One thread serves
 * connections one at a time; a connection idle for 10 s is closed.
 *
 *   stats               "name value" per counter, then gauges
 *   clients             header "pid uid pages resident swapped", a line each
 *   policy [NAME]       the current policy; with NAME switch every client
 *   readahead [N]       the swap readahead window (0-16 pages)
 *   ra_adaptive [0|1]   1: the window is sized by readahead hits
 *   max_region_pages [N] the largest region admitted, pages
 *   dirty_guess [0|1]   fill read faults writable while most get written
 *   fault_around [N]    pages mapped after a sequential fault (0-16)
 *   poll_us [N]         watch a served client's userfaultfd N us (0-100000)
 *   poll_max_us [N]     ... and up to N us while its faults keep coming soon
 *                       after the window (0-100000; <= poll_us: no growth)
 *   watermarks [W]      free frames the evictor keeps: "auto", "off" or
 *                       MIN,LOW,HIGH (vmpd_reclaim.c)
 *   hist                fault latency: "LE_US COUNT" lines, cumulative,
 *                       LE_US = 1, 2, 4, ... then "inf"
 *   fail_reads [N]      fault injection: the next N swap reads fail (EIO)
 *   fail_writes [N]     ... swap writes
 *   fail_again [N]      ... the next N swap I/O requests complete with EAGAIN
 *                       (transient: submitted again, nothing fails)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "vmpd.h"

struct out {
	int fd;
	char buf[8192];
	size_t len;
	bool failed;
};

static void flush_out(struct out *o)
{
	size_t off = 0;
	ssize_t n;

	while (off < o->len && !o->failed) {
		n = send(o->fd, o->buf + off, o->len - off, MSG_NOSIGNAL);
		if (n <= 0) {
			o->failed = true;
			break;
		}
		off += n;
	}
	o->len = 0;
}

static void say(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len > sizeof(o->buf) - 256)
		flush_out(o);
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, sizeof(o->buf) - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n < sizeof(o->buf) - o->len ?
			  (size_t)n : sizeof(o->buf) - o->len - 1;
}

static void say_error(struct out *o, int e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say_error(struct out *o, int e, const char *fmt, ...)
{
	const char *name = strerrorname_np(e);
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say(o, "error %s %s\n", name ? name : "EIO", msg);
}

static void cmd_stats(struct out *o)
{
	struct vmp_policy_stats ps;
	uint64_t cache_used;
	int i;

	for (i = 0; i < VMPD_NR_STATS; i++)
		say(o, "%s %llu\n", vmpd_stat_names[i],
		    (unsigned long long)__atomic_load_n(&vmpd_stats[i],
							__ATOMIC_RELAXED));
	vmpd_policy_stats(&ps);
	say(o, "activations %llu\n", (unsigned long long)ps.activations);
	say(o, "deactivations %llu\n", (unsigned long long)ps.deactivations);
	say(o, "refaults %llu\n", (unsigned long long)ps.refaults);
	say(o, "frames_total %llu\n", (unsigned long long)vmpd.cfg.frames);
	say(o, "frames_used %llu\n",
	    (unsigned long long)__atomic_load_n(&vmpd.frames_used,
						__ATOMIC_RELAXED));
	pthread_mutex_lock(&vmpd.arena_lock);
	cache_used = vmpd.arena_pages - vmpd.arena_nfree;
	pthread_mutex_unlock(&vmpd.arena_lock);
	say(o, "cache_total %llu\n", (unsigned long long)vmpd.arena_pages);
	say(o, "cache_reserved %llu\n", (unsigned long long)cache_used);
	say(o, "swap_slots %llu\n", (unsigned long long)
	    (vmpd.swap ? vmp_uswap_nslots(vmpd.swap) : 0));
	say(o, "swap_used %llu\n", (unsigned long long)
	    (vmpd.swap ? vmp_uswap_used(vmpd.swap) : 0));
	pthread_mutex_lock(&vmpd.clients_lock);
	say(o, "clients %d\n", vmpd.nclients);
	pthread_mutex_unlock(&vmpd.clients_lock);
	say(o, "orphans %u\n", vmpd_orphans());
	say(o, "forks_pending %u\n", vmpd_forks_pending());
}

static void cmd_clients(struct out *o)
{
	struct vmpd_client *c;
	int i;

	say(o, "pid uid pages resident swapped\n");
	for (i = 0; i < VMPD_MAX_CLIENTS; i++) {
		c = vmpd_client_get(i);
		if (!c)
			continue;
		pthread_mutex_lock(&c->lock);
		if (!c->dead)
			say(o, "%d %u %llu %llu %llu\n", c->pid, c->uid,
			    (unsigned long long)c->npages,
			    (unsigned long long)(c->resident + c->untracked),
			    (unsigned long long)vmpd_client_swapped(c));
		pthread_mutex_unlock(&c->lock);
		vmpd_client_put(c);
	}
}

static void cmd_policy(struct out *o, const char *arg)
{
	int k, ret;

	if (arg) {
		k = vmp_policy_by_name(arg);
		if (k < 0) {
			say_error(o, EINVAL,
				  "unknown policy '%s' (fifo clock lru lru2 arc lirs sieve s3fifo clockpro adaptive)",
				  arg);
			return;
		}
		ret = vmpd_policy_switch(k);
		if (ret) {
			say_error(o, -ret, "switching to %s: %s", arg,
				  strerror(-ret));
			return;
		}
		info("policy switched to %s", vmp_policy_name(k));
	}
	say(o, "%s\n", vmp_policy_name(__atomic_load_n(&vmpd.policy,
						       __ATOMIC_RELAXED)));
}

/* A number knob: show it, or set it to @min..@max first. */
static void cmd_knob_min(struct out *o, const char *name, unsigned int *knob,
			 long min, long max, const char *arg)
{
	char *end;
	long v;

	if (arg) {
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || *end || end == arg || v < min || v > max) {
			say_error(o, EINVAL, "%s takes %ld-%ld, not '%s'", name,
				  min, max, arg);
			return;
		}
		__atomic_store_n(knob, (unsigned int)v, __ATOMIC_RELAXED);
	}
	say(o, "%u\n", __atomic_load_n(knob, __ATOMIC_RELAXED));
}

/* readahead, ra_adaptive, dirty_guess, fault_around: 0..@max */
static void cmd_knob(struct out *o, const char *name, unsigned int *knob,
		     long max, const char *arg)
{
	cmd_knob_min(o, name, knob, 0, max, arg);
}

static void cmd_watermarks(struct out *o, const char *arg)
{
	unsigned int m[3];
	bool autom;

	if (arg) {
		if (vmpd_wmark_parse(arg, m, &autom)) {
			say_error(o, EINVAL,
				  "watermarks takes auto, off or MIN,LOW,HIGH with MIN <= LOW <= HIGH (LOW > 0 unless all are 0), not '%s'",
				  arg);
			return;
		}
		vmpd_wmark_set(m, autom);
		info("watermarks set to %s", arg);
	}
	vmpd_wmark_get(m, &autom);
	if (autom)
		say(o, "auto\n");
	else
		say(o, "%u,%u,%u\n", m[0], m[1], m[2]);
}

static void cmd_fail(struct out *o, uint64_t *ctr, const char *arg)
{
	unsigned long long v;
	char *end;

	if (arg) {
		errno = 0;
		v = strtoull(arg, &end, 10);
		if (errno || *end || end == arg || *arg == '-') {
			say_error(o, EINVAL, "a count of I/Os to fail, not '%s'",
				  arg);
			return;
		}
		__atomic_store_n(ctr, v, __ATOMIC_RELAXED);
		if (v)
			warn("fault injection: the next %llu swap %s", v,
			     ctr == &vmpd.fail_reads ? "reads fail" :
			     ctr == &vmpd.fail_writes ? "writes fail" :
			     "I/O requests complete with EAGAIN");
	}
	say(o, "%llu\n", (unsigned long long)__atomic_load_n(ctr, __ATOMIC_RELAXED));
}

static void cmd_hist(struct out *o)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i <= VMPD_HIST_BUCKETS; i++) {
		sum += __atomic_load_n(&vmpd_hist[i], __ATOMIC_RELAXED);
		if (i < VMPD_HIST_BUCKETS)
			say(o, "%llu %llu\n", 1ull << i, (unsigned long long)sum);
		else
			say(o, "inf %llu\n", (unsigned long long)sum);
	}
}

static void run_command(struct out *o, char *line)
{
	char *save = NULL, *cmd = strtok_r(line, " \t\r", &save);
	char *arg = strtok_r(NULL, " \t\r", &save);

	count(ctl_commands);
	if (!cmd)
		say_error(o, EINVAL, "empty command");
	else if (strtok_r(NULL, " \t\r", &save))
		say_error(o, EINVAL, "%s: too many arguments", cmd);
	else if (!strcmp(cmd, "stats") && !arg)
		cmd_stats(o);
	else if (!strcmp(cmd, "clients") && !arg)
		cmd_clients(o);
	else if (!strcmp(cmd, "policy"))
		cmd_policy(o, arg);
	else if (!strcmp(cmd, "readahead"))
		cmd_knob(o, cmd, &vmpd.cfg.readahead, VMP_RA_MAX, arg);
	else if (!strcmp(cmd, "ra_adaptive"))
		cmd_knob(o, cmd, &vmpd.cfg.ra_adaptive, 1, arg);
	else if (!strcmp(cmd, "max_region_pages"))
		cmd_knob_min(o, cmd, &vmpd.cfg.max_region_pages, 1,
			     VMP_NIL - 1, arg);
	else if (!strcmp(cmd, "dirty_guess"))
		cmd_knob(o, cmd, &vmpd.cfg.dirty_guess, 1, arg);
	else if (!strcmp(cmd, "fault_around"))
		cmd_knob(o, cmd, &vmpd.cfg.fault_around, VMP_RA_MAX, arg);
	else if (!strcmp(cmd, "poll_us"))
		cmd_knob(o, cmd, &vmpd.cfg.poll_us, 100000, arg);
	else if (!strcmp(cmd, "poll_max_us"))
		cmd_knob(o, cmd, &vmpd.cfg.poll_max_us, 100000, arg);
	else if (!strcmp(cmd, "watermarks"))
		cmd_watermarks(o, arg);
	else if (!strcmp(cmd, "hist") && !arg)
		cmd_hist(o);
	else if (!strcmp(cmd, "fail_reads"))
		cmd_fail(o, &vmpd.fail_reads, arg);
	else if (!strcmp(cmd, "fail_writes"))
		cmd_fail(o, &vmpd.fail_writes, arg);
	else if (!strcmp(cmd, "fail_again"))
		cmd_fail(o, &vmpd.fail_again, arg);
	else
		say_error(o, EINVAL,
			  "unknown command '%s' (stats clients policy readahead ra_adaptive max_region_pages dirty_guess fault_around poll_us poll_max_us watermarks hist fail_reads fail_writes fail_again)",
			  cmd);
	say(o, "end\n");
	flush_out(o);
}

static bool ctl_allowed(const struct ucred *cr)
{
	int i;

	if (cr->uid == 0)
		return true;
	for (i = 0; i < vmpd.cfg.nctl_uids; i++)
		if (vmpd.cfg.ctl_uids[i] == cr->uid)
			return true;
	return false;
}

/*
 * Let a refused peer read its answer: closing on unread data resets the
 * connection, and it would see ECONNRESET instead. What it sent is read
 * and dropped, but only up to VMPD_CTL_DRAIN_BYTES and for one second in
 * all: this thread serves every control connection, and a peer that kept
 * sending held it for as long as it liked (then the socket is closed
 * anyway, reset or not).
 */
#define VMPD_CTL_DRAIN_BYTES	65536

static void refused_drain(int fd)
{
	uint64_t end = vmpd_now_ns() + 1000000000ull, now;
	size_t total = 0;
	struct timeval tv;
	char buf[4096];
	ssize_t n;

	shutdown(fd, SHUT_WR);
	while (total < VMPD_CTL_DRAIN_BYTES) {
		now = vmpd_now_ns();
		if (now >= end)
			break;
		tv.tv_sec = (end - now) / 1000000000ull;
		tv.tv_usec = (end - now) % 1000000000ull / 1000;
		if (!tv.tv_sec && !tv.tv_usec)	/* 0 would mean no timeout */
			tv.tv_usec = 1;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		total += n;
	}
}

static void serve_conn(int fd)
{
	struct timeval tv = { .tv_sec = 10 };
	struct out o = { .fd = fd };
	char line[512];
	size_t len = 0;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	ssize_t n;
	char *nl;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen))
		return;
	if (!ctl_allowed(&cr)) {
		warn("control: refused pid %d uid %d", cr.pid, cr.uid);
		say_error(&o, EACCES, "uid %u may not use the control socket (ctl_allow_uid)",
			  cr.uid);
		say(&o, "end\n");
		flush_out(&o);
		refused_drain(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (!o.failed) {
		n = recv(fd, line + len, sizeof(line) - 1 - len, 0);
		if (n <= 0)
			break;
		len += n;
		line[len] = '\0';
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			run_command(&o, line);
			len -= nl + 1 - line;
			memmove(line, nl + 1, len + 1);
		}
		if (len == sizeof(line) - 1) {
			say_error(&o, E2BIG, "line longer than %zu bytes",
				  sizeof(line) - 2);
			say(&o, "end\n");
			flush_out(&o);
			break;
		}
	}
	/* a last command without a newline */
	if (len && !o.failed)
		run_command(&o, line);
}

void *vmpd_ctl_thread(void *arg)
{
	int fd;

	(void)arg;
	while (!vmpd.stop) {
		fd = accept4(vmpd.ctlsock, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED) {
				err("control accept: %s", strerror(errno));
				usleep(100000);
			}
			continue;
		}
		serve_conn(fd);
		close(fd);
	}
	return NULL;
}
