// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerctl stat: the module's (or vmpagerd's) counters, once or rolling.
 *
 * Sources, same counter names for all three:
 *   debugfs "stats"          default: "counter value" lines
 *   VMPAGER_IOC_GLOBAL_INFO  --ioctl: names from module/vmp_stat_names.h
 *   vmpagerd's control socket --daemon[=PATH]: write "stats\n", read
 *                            "NAME VALUE" lines up to "end" (or
 *                            "error ERRNAME MESSAGE" then "end")
 *
 * Rolling mode (-i/-c) prints, like vmstat, the totals first and then one
 * line per interval with the per-second rate (or, with -d, the difference)
 * of each chosen counter over that interval.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmpagerctl.h"
#include "vmpager.h"
#include "vmp_stat_names.h"

_Static_assert(sizeof(vmp_stat_names) / sizeof(vmp_stat_names[0]) ==
	       VMPAGER_NR_STATS, "stat names cover every counter");

#define DAEMON_TIMEOUT_MS	5000

void vc_counters_free(struct vc_counters *c)
{
	free(c->name);
	free(c->val);
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

static int counters_alloc(struct vc_counters *c, int n, size_t namebytes)
{
	memset(c, 0, sizeof(*c));
	c->name = calloc(n ? n : 1, sizeof(char *));
	c->val = calloc(n ? n : 1, sizeof(uint64_t));
	c->buf = malloc(namebytes + 1);
	if (!c->name || !c->val || !c->buf) {
		vc_counters_free(c);
		vc_err("out of memory");
		return VC_ERR;
	}
	return VC_OK;
}

bool vc_counter(const struct vc_counters *c, const char *name, uint64_t *v)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->name[i], name)) {
			*v = c->val[i];
			return true;
		}
	return false;
}

/*
 * "NAME VALUE" lines of text into c; '#' lines, blank lines and the header
 * line skip_hdr are skipped. A line of another form is an error naming src.
 */
static int counters_from_lines(struct vc_counters *c, char *text,
			       const char *src, const char *skip_hdr)
{
	char *p, *nl, *o;
	int lines = 0;

	for (p = text; *p; p++)
		lines += *p == '\n';
	if (counters_alloc(c, lines + 1, strlen(text)))
		return VC_ERR;
	o = c->buf;
	for (p = text; *p; p = nl + 1) {
		char name[128], val[32], extra[2];
		uint64_t v;

		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		if (*p && *p != '#' && !(skip_hdr && !strcmp(p, skip_hdr))) {
			if (sscanf(p, "%127s %31s %1s", name, val, extra) != 2 ||
			    vc_parse_u64(val, 10, &v)) {
				vc_err("%s: malformed counter line \"%s\"", src, p);
				vc_counters_free(c);
				return VC_ERR;
			}
			strcpy(o, name);
			c->name[c->n] = o;
			c->val[c->n++] = v;
			o += strlen(name) + 1;
		}
		if (!nl)
			break;
	}
	return VC_OK;
}

int vc_counters_module(struct vc_counters *c)
{
	char *text;
	int ret;

	if (vc_dfs_get("stats", &text))
		return VC_ERR;
	ret = counters_from_lines(c, text, "debugfs stats", "counter value");
	free(text);
	return ret;
}

int vc_counters_ioctl(struct vc_counters *c)
{
	struct vmpager_global_info gi;
	unsigned int i;
	char *o;
	int fd;

	fd = open(VMPAGER_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		if (err == ENOENT && access(VC_SYSMOD, F_OK))
			vc_err("the vmpager module is not loaded (insmod vmpager.ko, or modprobe vmpager)");
		else if (err == EACCES || err == EPERM)
			vc_err("%s: permission denied (run as root, or see userspace/etc/60-vmpager.rules)",
			       VMPAGER_DEVICE);
		else
			vc_err("%s: %s", VMPAGER_DEVICE, strerror(err));
		return VC_ERR;
	}
	memset(&gi, 0, sizeof(gi));
	if (ioctl(fd, VMPAGER_IOC_GLOBAL_INFO, &gi)) {
		vc_err("VMPAGER_IOC_GLOBAL_INFO: %s", strerror(errno));
		close(fd);
		return VC_ERR;
	}
	close(fd);
	if (gi.nr_stats > VMPAGER_STATS_MAX)
		gi.nr_stats = VMPAGER_STATS_MAX;
	if (counters_alloc(c, gi.nr_stats, gi.nr_stats * 24))
		return VC_ERR;
	o = c->buf;
	for (i = 0; i < gi.nr_stats; i++) {
		c->name[i] = o;
		/* a newer module's counters get a placeholder name */
		if (i < VMPAGER_NR_STATS)
			o += sprintf(o, "%s", vmp_stat_names[i]) + 1;
		else
			o += sprintf(o, "stat_%u", i) + 1;
		c->val[i] = gi.stats[i];
	}
	c->n = gi.nr_stats;
	return VC_OK;
}

/* ---- vmpagerd's control socket ---- */

static int daemon_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		vc_err("%s: socket path too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		vc_err("socket: %s", strerror(errno));
		return -1;
	}
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return fd;
	err = errno;
	close(fd);
	switch (err) {
	case ENOENT:
		vc_err("vmpagerd is not running: no control socket %s (start vmpagerd, or name its socket: stat --daemon=PATH, daemon --ctl PATH)",
		       path);
		break;
	case ECONNREFUSED:
		vc_err("vmpagerd is not running: nothing listens on %s (stale socket)",
		       path);
		break;
	case EACCES:
	case EPERM:
		vc_err("%s: permission denied (run as root or as vmpagerd's user)",
		       path);
		break;
	case ENOTSOCK:
		vc_err("%s is not a socket", path);
		break;
	default:
		vc_err("connect %s: %s", path, strerror(err));
	}
	return -1;
}

/*
 * Send @req (one command line) and read the reply up to its "end" line (at most
 * DAEMON_TIMEOUT_MS in all). *reply gets the lines before "end".
 */
static int daemon_request(const char *path, const char *req, char **reply)
{
	size_t cap = 8192, len = 0;
	double deadline = vc_now() + DAEMON_TIMEOUT_MS / 1000.0;
	char *buf = NULL, *nb, *end;
	int fd, ret = VC_ERR;
	ssize_t n;

	fd = daemon_connect(path);
	if (fd < 0)
		return VC_ERR;
	n = send(fd, req, strlen(req), MSG_NOSIGNAL);
	if (n != (ssize_t)strlen(req)) {
		vc_err("vmpagerd (%s): sending the request: %s", path,
		       n < 0 ? strerror(errno) : "short write");
		goto out;
	}
	buf = malloc(cap);
	if (!buf)
		goto out;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int left = (deadline - vc_now()) * 1000;

		buf[len] = '\0';
		/* the reply ends with a line "end" */
		end = len >= 4 && !strcmp(buf + len - 4, "end\n") &&
		      (len == 4 || buf[len - 5] == '\n') ? buf + len - 4 : NULL;
		if (end) {
			*end = '\0';
			break;
		}
		if (left <= 0 || poll(&pfd, 1, left) == 0) {
			vc_err("vmpagerd (%s): no complete reply within %d ms",
			       path, DAEMON_TIMEOUT_MS);
			goto out;
		}
		if (cap - len < 2048) {
			nb = realloc(buf, cap * 2);
			if (!nb)
				goto out;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			vc_err("vmpagerd (%s): connection closed before the reply's \"end\" line%s%s",
			       path, n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
			goto out;
		}
		len += n;
	}
	/* "error ERRNAME MESSAGE" is the whole reply on failure */
	if (!strncmp(buf, "error ", 6)) {
		char *nl = strchr(buf, '\n');

		if (nl)
			*nl = '\0';
		vc_err("vmpagerd: %s", buf + 6);
		goto out;
	}
	*reply = buf;
	buf = NULL;
	ret = VC_OK;
out:
	free(buf);
	close(fd);
	return ret;
}

/*
 * vmpagerctl daemon [--ctl PATH] [COMMAND [ARG...]]: one control command to
 * vmpagerd (docs/vmpagerd.md#control-socket: stats, clients, policy [NAME],
 * readahead [N], ...), its reply printed as it comes (without "end"); an
 * "error ERRNAME MESSAGE" reply is an error (exit 1). -j: the reply lines
 * as a JSON array.
 */
int vc_cmd_daemon(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "ctl", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char use[] = "[--ctl PATH] [COMMAND [ARG...]]";
	const char *path = VC_DAEMON_CTL;
	char req[256] = "", *reply, *line, *nl;
	size_t len = 0;
	int opt, i;

	while ((opt = getopt_long(argc, argv, "+c:jh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'j':
			vc_json = true;
			break;
		case 'h':
			printf("usage: vmpagerctl daemon %s\n"
			       "  COMMAND: stats (default), clients, policy [NAME], readahead [N],\n"
			       "  ra_adaptive [0|1], watermarks [auto|off|MIN,LOW,HIGH], ... (docs/vmpagerd.md)\n"
			       "  --ctl PATH: the control socket (default " VC_DAEMON_CTL ")\n", use);
			return VC_OK;
		default:
			fprintf(stderr, "usage: vmpagerctl daemon %s\n", use);
			return VC_USAGE;
		}
	}
	for (i = optind; i < argc; i++) {
		if (strpbrk(argv[i], "\n\r") || !*argv[i])
			return vc_usage_err("daemon", "bad word '%s' (no newlines, not empty)",
					    argv[i]);
		len += snprintf(req + len, sizeof(req) - len, "%s%s",
				i > optind ? " " : "", argv[i]);
		if (len + 2 > sizeof(req))
			return vc_usage_err("daemon", "command longer than %zu bytes",
					    sizeof(req) - 2);
	}
	if (!len)
		len = snprintf(req, sizeof(req), "stats");
	req[len++] = '\n';
	req[len] = '\0';
	if (daemon_request(path, req, &reply))
		return VC_ERR;
	if (vc_json) {
		/* one string per line, empty ones too; none after the last '\n' */
		vc_j_open(stdout, NULL, '[');
		for (line = reply; *line; line = nl + 1) {
			nl = strchr(line, '\n');
			if (!nl) {
				vc_j_str(stdout, NULL, line);
				break;
			}
			*nl = '\0';
			vc_j_str(stdout, NULL, line);
		}
		vc_j_close(stdout, ']');
		vc_j_end(stdout);
	} else {
		fputs(reply, stdout);
	}
	free(reply);
	return VC_OK;
}

int vc_counters_daemon(const char *path, struct vc_counters *c)
{
	char *reply, src[300];
	int ret;

	if (daemon_request(path, "stats\n", &reply))
		return VC_ERR;
	snprintf(src, sizeof(src), "vmpagerd (%s)", path);
	ret = counters_from_lines(c, reply, src, NULL);
	free(reply);
	return ret;
}

/* ---- the command ---- */

enum stat_src { SRC_DEBUGFS, SRC_IOCTL, SRC_DAEMON };

struct stat_opts {
	enum stat_src src;
	const char *ctl;
	double interval;	/* 0: one sample */
	long count;		/* 0: forever (rolling) */
	bool delta, all, nonzero;
	const char **fields;
	int nfields;
	char *fields_buf;
};

static const char *const default_fields[] = {
	"faults", "faults_major", "faults_zero", "swap_ins", "swap_outs",
	"evict_written", "refaults",
};

static int sample(const struct stat_opts *o, struct vc_counters *c)
{
	switch (o->src) {
	case SRC_IOCTL:
		return vc_counters_ioctl(c);
	case SRC_DAEMON:
		return vc_counters_daemon(o->ctl, c);
	default:
		return vc_counters_module(c);
	}
}

static int stat_once(const struct stat_opts *o)
{
	struct vc_counters c;
	struct vc_tab t;
	static const char *const cols[] = { "counter", "value" };
	int i;

	if (sample(o, &c))
		return VC_ERR;
	if (vc_json) {
		vc_j_open(stdout, NULL, '{');
		for (i = 0; i < c.n; i++)
			if (!o->nonzero || c.val[i])
				vc_j_num(stdout, c.name[i], c.val[i]);
		vc_j_close(stdout, '}');
		vc_j_end(stdout);
		vc_counters_free(&c);
		return VC_OK;
	}
	if (vc_tab_init(&t, 2, cols))
		return VC_ERR;
	for (i = 0; i < c.n; i++)
		if (!o->nonzero || c.val[i])
			vc_tab_addf(&t, "%s\t%llu", c.name[i],
				    (unsigned long long)c.val[i]);
	vc_tab_print(&t, stdout);
	vc_tab_free(&t);
	vc_counters_free(&c);
	return VC_OK;
}

/* A rate: whole numbers from 100 up, else one decimal, without ".0". */
void vc_fmt_rate(char *buf, size_t len, double r)
{
	size_t n;

	snprintf(buf, len, r >= 100 ? "%.0f" : "%.1f", r);
	n = strlen(buf);
	if (n > 2 && !strcmp(buf + n - 2, ".0"))
		buf[n - 2] = '\0';
}

static void print_header(const struct stat_opts *o, const int *w)
{
	int i;

	printf("%8s", "time");
	for (i = 0; i < o->nfields; i++)
		printf("  %*s", w[i], o->fields[i]);
	putchar('\n');
}

/* One line: totals (prev NULL) or the change from prev over secs. */
static void print_line(const struct stat_opts *o, const int *w,
		       const struct vc_counters *cur,
		       const struct vc_counters *prev, double secs)
{
	char tbuf[16] = "total", val[32];
	time_t now = time(NULL);
	uint64_t a, b;
	int i;

	if (prev)
		strftime(tbuf, sizeof(tbuf), "%H:%M:%S", localtime(&now));
	if (vc_json) {
		vc_j_open(stdout, NULL, '{');
		vc_j_str(stdout, "time", tbuf);
		vc_j_str(stdout, "kind", !prev ? "total" : o->delta ? "delta" : "rate");
		vc_j_dbl(stdout, "seconds", prev ? secs : 0);
		vc_j_open(stdout, "values", '{');
	} else {
		printf("%8s", tbuf);
	}
	for (i = 0; i < o->nfields; i++) {
		bool have = vc_counter(cur, o->fields[i], &b);

		if (have && prev && vc_counter(prev, o->fields[i], &a)) {
			/* a counter below its last value was reset: count from 0 */
			uint64_t d = b >= a ? b - a : b;

			if (o->delta)
				snprintf(val, sizeof(val), "%llu", (unsigned long long)d);
			else
				vc_fmt_rate(val, sizeof(val), secs > 0 ? d / secs : 0);
		} else if (have && !prev) {
			snprintf(val, sizeof(val), "%llu", (unsigned long long)b);
		} else {
			strcpy(val, "-");
		}
		if (vc_json) {
			if (strcmp(val, "-"))
				vc_j_raw(stdout, o->fields[i], val);
			else
				vc_j_auto(stdout, o->fields[i], val);
		} else {
			printf("  %*s", w[i], val);
		}
	}
	if (vc_json) {
		vc_j_close(stdout, '}');
		vc_j_close(stdout, '}');
		vc_j_end(stdout);
	} else {
		putchar('\n');
		fflush(stdout);
	}
}

/* Sleep until the monotonic time t (seconds). */
static void sleep_until(double t)
{
	struct timespec ts = {
		.tv_sec = (time_t)t,
		.tv_nsec = (long)((t - (time_t)t) * 1e9),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int stat_rolling(struct stat_opts *o)
{
	struct vc_counters prev, cur;
	double t_prev, t_cur, next;
	int *w = NULL, i, ret = VC_ERR;
	bool tty = isatty(STDOUT_FILENO);
	long lines = 0, n;
	uint64_t dummy;

	if (sample(o, &prev))
		return VC_ERR;
	t_prev = vc_now();
	if (o->all) {
		/* every counter of the first sample, names copied */
		size_t sz = 0;
		char *q;

		for (i = 0; i < prev.n; i++)
			sz += strlen(prev.name[i]) + 1;
		o->fields = calloc(prev.n + 1, sizeof(char *));
		o->fields_buf = malloc(sz + 1);
		if (!o->fields || !o->fields_buf)
			goto out_prev;
		q = o->fields_buf;
		for (i = 0; i < prev.n; i++) {
			o->fields[i] = strcpy(q, prev.name[i]);
			q += strlen(q) + 1;
		}
		o->nfields = prev.n;
	}
	for (i = 0; i < o->nfields; i++)
		if (!vc_counter(&prev, o->fields[i], &dummy) &&
		    o->fields != default_fields) {
			vc_err("stat: the %s has no counter '%s' ('%s stat%s' lists them)",
			       o->src == SRC_DAEMON ? "daemon" : "module",
			       o->fields[i], vc_prog,
			       o->src == SRC_DAEMON ? " --daemon" : "");
			goto out_prev;
		}
	w = calloc(o->nfields + 1, sizeof(int));
	if (!w)
		goto out_prev;
	for (i = 0; i < o->nfields; i++) {
		w[i] = strlen(o->fields[i]);
		if (w[i] < 7)
			w[i] = 7;
	}
	if (!vc_json)
		print_header(o, w);
	print_line(o, w, &prev, NULL, 0);
	next = t_prev;
	for (n = 1; !o->count || n < o->count; n++) {
		next += o->interval;
		sleep_until(next);
		if (sample(o, &cur))
			goto out;
		t_cur = vc_now();
		if (!vc_json && tty && ++lines % 20 == 0)
			print_header(o, w);
		print_line(o, w, &cur, &prev, t_cur - t_prev);
		vc_counters_free(&prev);
		prev = cur;
		t_prev = t_cur;
	}
	ret = VC_OK;
out:
	free(w);
out_prev:
	vc_counters_free(&prev);
	return ret;
}

static const char stat_help[] =
	"usage: vmpagerctl stat [-i SEC] [-c COUNT] [-d] [-f LIST | -a] [-z] [-j]\n"
	"                       [--daemon[=CTLPATH] | --ioctl]\n"
	"  no -i/-c: every counter once; -i SEC: totals, then per-second rates\n"
	"  every SEC seconds; -c COUNT: stop after COUNT lines (totals included);\n"
	"  -d: differences instead of rates; -f: counters to show (comma list);\n"
	"  -a: all counters; -z: hide zero counters (one-shot).\n"
	"  --daemon: vmpagerd's counters (default socket " VC_DAEMON_CTL ");\n"
	"  --ioctl: the module's counters through /dev/vmpager, not debugfs.\n";

/* "a,b,c" into o->fields (pointing into a copy of list). */
static int parse_fields(struct stat_opts *o, const char *list)
{
	char *s, *save = NULL;
	int n = 1;

	if (o->fields_buf) {	/* a second -f replaces the first */
		free(o->fields_buf);
		free(o->fields);
	}
	o->fields_buf = strdup(list);
	for (s = o->fields_buf; s && *s; s++)
		n += *s == ',';
	o->fields = calloc(n + 1, sizeof(char *));
	if (!o->fields_buf || !o->fields)
		return -ENOMEM;
	o->nfields = 0;
	for (s = strtok_r(o->fields_buf, ",", &save); s;
	     s = strtok_r(NULL, ",", &save))
		o->fields[o->nfields++] = s;
	return o->nfields ? 0 : -EINVAL;
}

int vc_cmd_stat(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "delta", no_argument, NULL, 'd' },
		{ "fields", required_argument, NULL, 'f' },
		{ "all", no_argument, NULL, 'a' },
		{ "nonzero", no_argument, NULL, 'z' },
		{ "json", no_argument, NULL, 'j' },
		{ "daemon", optional_argument, NULL, 'D' },
		{ "ioctl", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct stat_opts o = {
		.src = SRC_DEBUGFS,
		.ctl = VC_DAEMON_CTL,
		.fields = (const char **)default_fields,
		.nfields = sizeof(default_fields) / sizeof(default_fields[0]),
	};
	bool custom = false;
	uint64_t v;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "+i:c:df:azjh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (vc_parse_secs(optarg, &o.interval))
				return vc_usage_err("stat", "bad interval '%s' (seconds > 0, e.g. 1 or 0.5)",
						    optarg);
			break;
		case 'c':
			if (vc_parse_u64(optarg, 10, &v) || v == 0 || v > 1000000000)
				return vc_usage_err("stat", "bad count '%s' (a number >= 1)",
						    optarg);
			o.count = v;
			break;
		case 'd':
			o.delta = true;
			break;
		case 'f':
			if (parse_fields(&o, optarg))
				return vc_usage_err("stat", "bad field list '%s'", optarg);
			custom = true;
			break;
		case 'a':
			o.all = true;
			break;
		case 'z':
			o.nonzero = true;
			break;
		case 'j':
			vc_json = true;
			break;
		case 'D':
			o.src = SRC_DAEMON;
			if (optarg && *optarg)
				o.ctl = optarg;
			break;
		case 'I':
			o.src = SRC_IOCTL;
			break;
		case 'h':
			fputs(stat_help, stdout);
			return VC_OK;
		default:
			fputs(stat_help, stderr);
			return VC_USAGE;
		}
	}
	if (optind < argc)
		return vc_usage_err("stat", "unexpected argument '%s'", argv[optind]);
	if (o.all && custom)
		return vc_usage_err("stat", "-a and -f exclude each other");
	if (o.count && !o.interval)
		o.interval = 1;
	if (!o.interval) {
		if (o.delta || o.all || custom)
			return vc_usage_err("stat", "-d, -a and -f need -i or -c (rolling mode)");
		ret = stat_once(&o);
	} else {
		ret = stat_rolling(&o);
	}
	if (custom || o.all) {
		free(o.fields);
		free(o.fields_buf);
	}
	return ret;
}
