// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerctl top: a live view of the pool. Every refresh reads stats, pool,
 * frames, lru, swap, readahead, objects and mappers, and shows frames by
 * state, the policy's list sizes, the counters' rates over the last refresh
 * and the objects with the most resident pages.
 *
 * The screen is drawn with plain ANSI escapes on the alternate screen (no
 * curses): home, each line followed by erase-to-end-of-line, then erase
 * below. The terminal is put in non-canonical no-echo mode so 'q' is read
 * at once; ISIG stays on, so Ctrl-C is SIGINT, handled like 'q'. Every exit
 * path (q, Ctrl-C, SIGTERM/SIGHUP, an error) restores the terminal; Ctrl-Z
 * restores it before stopping and sets it up again on SIGCONT.
 *
 * -b: batch mode, for logs and tests: the same text, no escapes, one block
 * per refresh separated by a blank line, -n blocks.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "vmpagerctl.h"

#define MAX_LISTS	4

struct top_obj {
	uint64_t id, size, resident, swapped, mappers, faults;
	double rate;		/* faults/s, < 0 when unknown */
	char pids[64];
};

struct top_sample {
	double t;
	struct vc_counters c;
	struct vc_frame_sum fs;
	uint64_t pool_pages, free_pages, resident, orphaned;
	char policy[32];
	unsigned int ghosts, wmark[3];
	int nlists;
	char list_name[MAX_LISTS][16];
	unsigned int list_len[MAX_LISTS];
	uint64_t slots, slots_used, readahead;
	bool have_swap;
	int nobj;
	struct top_obj *obj;
};

struct top_opts {
	double delay;
	bool batch;
	long iterations;	/* 0: until q */
	int max_objs;		/* 0: as many as fit (batch: all) */
};

static void sample_free(struct top_sample *s)
{
	vc_counters_free(&s->c);
	free(s->obj);
	memset(s, 0, sizeof(*s));
}

static int cmp_obj(const void *a, const void *b)
{
	const struct top_obj *x = a, *y = b;

	if (x->resident != y->resident)
		return x->resident < y->resident ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void add_pid(char *pids, size_t len, const char *pid)
{
	char pat[32], tmp[80];

	snprintf(pat, sizeof(pat), ",%s,", pid);
	snprintf(tmp, sizeof(tmp), ",%s,", pids);
	if (strstr(tmp, pat))
		return;
	if (strlen(pids) + strlen(pid) + 2 < len)
		snprintf(pids + strlen(pids), len - strlen(pids), "%s%s",
			 pids[0] ? "," : "", pid);
	else if (!strstr(pids, "+") && strlen(pids) + 2 < len)
		strcat(pids, "+");
}

static int read_objects(struct top_sample *s, const struct top_sample *prev)
{
	struct vc_doc d, m;
	int h, i, j, k;
	bool have_m;

	if (vc_doc_get("objects", &d))
		return VC_ERR;
	h = vc_objects_hdr(&d);
	if (h < 0) {
		vc_err("%s/objects: unexpected format", vc_dfs_dir());
		vc_doc_free(&d);
		return VC_ERR;
	}
	s->obj = calloc(d.n + 1, sizeof(*s->obj));
	if (!s->obj) {
		vc_doc_free(&d);
		return VC_ERR;
	}
	for (i = h + 1; i < d.n; i++) {
		struct top_obj *o = &s->obj[s->nobj];
		uint64_t *f[] = { &o->id, &o->size, &o->resident, &o->swapped,
				  &o->mappers, &o->faults };

		if (d.l[i].comment || d.l[i].nw < 6)
			continue;
		for (k = 0; k < 6; k++)
			if (vc_parse_u64(d.l[i].w[k], 10, f[k]))
				break;
		if (k < 6)
			continue;
		o->rate = -1;
		for (j = 0; prev && j < prev->nobj; j++)
			if (prev->obj[j].id == o->id && s->t > prev->t &&
			    o->faults >= prev->obj[j].faults)
				o->rate = (o->faults - prev->obj[j].faults) /
					  (s->t - prev->t);
		s->nobj++;
	}
	vc_doc_free(&d);
	/* pids from mappers, if this module has it */
	have_m = !vc_dfs_read("mappers", &m.text) && !vc_doc_parse(&m, m.text);
	for (i = 0; have_m && i < m.n; i++) {
		uint64_t id;

		if (m.l[i].comment || m.l[i].nw < 2 ||
		    vc_parse_u64(m.l[i].w[0], 10, &id))
			continue;
		for (j = 0; j < s->nobj; j++)
			if (s->obj[j].id == id)
				add_pid(s->obj[j].pids, sizeof(s->obj[j].pids),
					m.l[i].w[1]);
	}
	if (have_m)
		vc_doc_free(&m);
	qsort(s->obj, s->nobj, sizeof(*s->obj), cmp_obj);
	return VC_OK;
}

static int take_sample(struct top_sample *s, const struct top_sample *prev)
{
	struct vc_doc d;
	const char *v;
	int i;

	memset(s, 0, sizeof(*s));
	s->t = vc_now();
	if (vc_counters_module(&s->c))
		return VC_ERR;
	if (vc_doc_get("pool", &d))
		goto err;
	v = vc_doc_value(&d, 0, "pool_pages");
	if (v)
		vc_parse_u64(v, 10, &s->pool_pages);
	v = vc_doc_value(&d, 0, "free_pages");
	if (v)
		vc_parse_u64(v, 10, &s->free_pages);
	v = vc_doc_value(&d, 0, "resident_pages");
	if (v)
		vc_parse_u64(v, 10, &s->resident);
	v = vc_doc_value(&d, 0, "orphaned_pages");
	if (v)
		vc_parse_u64(v, 10, &s->orphaned);
	vc_doc_free(&d);
	if (vc_frames_summary(&s->fs))
		goto err;
	if (vc_doc_get("lru", &d))
		goto err;
	snprintf(s->policy, sizeof(s->policy), "?");
	for (i = 0; i < d.n && d.l[i].comment; i++) {
		unsigned long long f;
		unsigned int len;
		char name[16];

		if (sscanf(d.l[i].raw, "policy %31[^,], %u ghosts, watermarks %u %u %u, free %llu",
			   s->policy, &s->ghosts, &s->wmark[0], &s->wmark[1],
			   &s->wmark[2], &f) == 6)
			continue;
		if (sscanf(d.l[i].raw, "list %15s %u", name, &len) == 2 &&
		    s->nlists < MAX_LISTS) {
			strcpy(s->list_name[s->nlists], name);
			s->list_len[s->nlists++] = len;
		}
	}
	vc_doc_free(&d);
	if (!vc_dfs_read("swap", &d.text) && !vc_doc_parse(&d, d.text)) {
		v = vc_doc_value(&d, 0, "slots");
		s->have_swap = v && !vc_parse_u64(v, 10, &s->slots);
		v = vc_doc_value(&d, 0, "used");
		if (v)
			vc_parse_u64(v, 10, &s->slots_used);
		vc_doc_free(&d);
	}
	if (!vc_dfs_read("readahead", &d.text)) {
		s->readahead = strtoull(d.text, NULL, 10);
		free(d.text);
	}
	if (read_objects(s, prev))
		goto err;
	return VC_OK;
err:
	sample_free(s);
	return VC_ERR;
}

/* ---- rendering into lines ---- */

struct screen {
	char **line;
	int n, cap;
};

static void __attribute__((format(printf, 2, 3)))
sc_add(struct screen *sc, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (sc->n == sc->cap) {
		int cap = sc->cap ? sc->cap * 2 : 64;
		char **nl = realloc(sc->line, cap * sizeof(char *));

		if (!nl)
			return;
		sc->line = nl;
		sc->cap = cap;
	}
	sc->line[sc->n] = strdup(buf);
	if (sc->line[sc->n])
		sc->n++;
}

static void sc_free(struct screen *sc)
{
	int i;

	for (i = 0; i < sc->n; i++)
		free(sc->line[i]);
	free(sc->line);
	memset(sc, 0, sizeof(*sc));
}

/* Rate of counter name between the two samples, as text ("-" if unknown). */
static const char *rate(const struct top_sample *s, const struct top_sample *p,
			const char *name, char *buf)
{
	uint64_t a, b;
	double r;

	if (!p || s->t <= p->t || !vc_counter(&s->c, name, &b) ||
	    !vc_counter(&p->c, name, &a)) {
		strcpy(buf, "-");
		return buf;
	}
	r = (b >= a ? b - a : b) / (s->t - p->t);
	vc_fmt_rate(buf, 32, r);
	return buf;
}

static void render(struct screen *sc, const struct top_sample *s,
		   const struct top_sample *p, const struct top_opts *o,
		   int rows)
{
	char b[12][32], hdr[64], lists[160] = "";
	time_t now = time(NULL);
	int i, nobj;

	strftime(hdr, sizeof(hdr), "%H:%M:%S", localtime(&now));
	sc_add(sc, "vmpager %s  policy %s  pool %llu frames (%.1f MiB)  refresh %.1fs%s",
	       hdr, s->policy, (unsigned long long)s->pool_pages,
	       s->pool_pages * 4096.0 / (1 << 20), o->delay,
	       o->batch ? "" : "  [q quit]");
	sc_add(sc, "frames   free %llu  used %llu  orphan %llu  |  locked %llu  dirty %llu  referenced %llu",
	       (unsigned long long)s->free_pages, (unsigned long long)s->fs.used,
	       (unsigned long long)s->fs.orphan, (unsigned long long)s->fs.locked,
	       (unsigned long long)s->fs.dirty, (unsigned long long)s->fs.ref);
	for (i = 0; i < s->nlists; i++)
		snprintf(lists + strlen(lists), sizeof(lists) - strlen(lists),
			 "%s %u  ", s->list_name[i], s->list_len[i]);
	sc_add(sc, "lists    %sghosts %u  |  watermarks min %u low %u high %u",
	       lists, s->ghosts, s->wmark[0], s->wmark[1], s->wmark[2]);
	if (s->have_swap && s->slots)
		sc_add(sc, "swap     %llu / %llu slots used (%.1f%%)  readahead %llu",
		       (unsigned long long)s->slots_used, (unsigned long long)s->slots,
		       100.0 * s->slots_used / s->slots,
		       (unsigned long long)s->readahead);
	else
		sc_add(sc, "swap     none  readahead %llu", (unsigned long long)s->readahead);
	sc_add(sc, "faults/s %s  minor %s  major %s  zero %s  retry %s  mkwrite %s",
	       rate(s, p, "faults", b[0]), rate(s, p, "faults_minor", b[1]),
	       rate(s, p, "faults_major", b[2]), rate(s, p, "faults_zero", b[3]),
	       rate(s, p, "faults_retry", b[4]), rate(s, p, "mkwrite", b[5]));
	sc_add(sc, "swap/s   in %s  out %s  readahead %s  ra hits %s  errors r %s w %s",
	       rate(s, p, "swap_ins", b[0]), rate(s, p, "swap_outs", b[1]),
	       rate(s, p, "readahead", b[2]), rate(s, p, "readahead_hits", b[3]),
	       rate(s, p, "read_errors", b[4]), rate(s, p, "write_errors", b[5]));
	sc_add(sc, "evict/s  zero %s  clean %s  written %s  busy %s  noswap %s  scans %s  soft-unmaps %s",
	       rate(s, p, "evict_zero", b[0]), rate(s, p, "evict_clean", b[1]),
	       rate(s, p, "evict_written", b[2]), rate(s, p, "evict_busy", b[3]),
	       rate(s, p, "evict_noswap", b[4]), rate(s, p, "reclaim_scans", b[5]),
	       rate(s, p, "soft_unmaps", b[6]));
	sc_add(sc, "harvest/s frames %s  ptes %s  young %s  fresh %s  saved %s  busy %s",
	       rate(s, p, "harvest_frames", b[0]), rate(s, p, "harvest_ptes", b[1]),
	       rate(s, p, "harvest_young", b[2]), rate(s, p, "harvest_fresh", b[3]),
	       rate(s, p, "harvest_saved", b[4]), rate(s, p, "harvest_busy", b[5]));
	sc_add(sc, "policy/s activations %s  deactivations %s  refaults %s  |  reclaim/s %s direct %s",
	       rate(s, p, "activations", b[0]), rate(s, p, "deactivations", b[1]),
	       rate(s, p, "refaults", b[2]), rate(s, p, "reclaim_runs", b[3]),
	       rate(s, p, "reclaim_direct", b[4]));
	sc_add(sc, "alloc/s  ok %s  fail %s  |  sigbus/s oom %s range %s",
	       rate(s, p, "alloc_ok", b[0]), rate(s, p, "alloc_fail", b[1]),
	       rate(s, p, "oom_sigbus", b[2]), rate(s, p, "range_sigbus", b[3]));
	sc_add(sc, "%s", "");
	sc_add(sc, "%8s %10s %10s %10s %7s %12s %9s  %s", "ID", "SIZE", "RESIDENT",
	       "SWAPPED", "MAPPERS", "FAULTS", "FAULTS/S", "PIDS");
	nobj = s->nobj;
	if (o->max_objs && nobj > o->max_objs)
		nobj = o->max_objs;
	if (rows > 0 && nobj > rows - sc->n)
		nobj = rows - sc->n > 0 ? rows - sc->n : 0;
	for (i = 0; i < nobj; i++) {
		const struct top_obj *ob = &s->obj[i];
		char r[32] = "-";

		if (ob->rate >= 0)
			snprintf(r, sizeof(r), "%.0f", ob->rate);
		sc_add(sc, "%8llu %10llu %10llu %10llu %7llu %12llu %9s  %s",
		       (unsigned long long)ob->id, (unsigned long long)ob->size,
		       (unsigned long long)ob->resident,
		       (unsigned long long)ob->swapped,
		       (unsigned long long)ob->mappers,
		       (unsigned long long)ob->faults, r,
		       ob->pids[0] ? ob->pids : "-");
	}
	if (!s->nobj)
		sc_add(sc, "%8s", "(no objects)");
}

/* ---- the terminal ---- */

static struct termios saved_tio;
static bool tio_saved, screen_on;
static volatile sig_atomic_t quit_sig, winch, cont;

static void put(const char *s)
{
	ssize_t n, len = strlen(s);

	while (len > 0) {
		n = write(STDOUT_FILENO, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= n;
	}
}

/* Async-signal-safe: used from the SIGTSTP handler too. */
static void term_restore(void)
{
	if (screen_on)
		put("\033[?25h\033[?1049l");
	screen_on = false;
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
}

static void term_setup(void)
{
	struct termios t;

	if (isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved_tio)) {
		tio_saved = true;
		t = saved_tio;
		t.c_lflag &= ~(ICANON | ECHO);
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
	}
	put("\033[?1049h\033[?25l\033[H\033[2J");
	screen_on = true;
}

static void on_quit(int sig)
{
	quit_sig = sig;
}

static void on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

static void on_tstp(int sig)
{
	int saved = errno;

	(void)sig;
	term_restore();
	signal(SIGTSTP, SIG_DFL);
	raise(SIGTSTP);
	errno = saved;
}

static void on_cont(int sig)
{
	struct sigaction sa = { .sa_handler = on_tstp };

	(void)sig;
	sigaction(SIGTSTP, &sa, NULL);
	cont = 1;
}

static void install(int sig, void (*fn)(int))
{
	struct sigaction sa = { .sa_handler = fn };

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);	/* no SA_RESTART: poll returns EINTR */
}

static void term_size(int *rows, int *cols)
{
	struct winsize ws;

	*rows = 24;
	*cols = 80;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

static void draw(const struct screen *sc, int rows, int cols)
{
	char *buf, *p;
	size_t cap = (size_t)(cols + 8) * rows + 64;
	int i;

	buf = malloc(cap);
	if (!buf)
		return;
	p = buf;
	p += sprintf(p, "\033[H");
	for (i = 0; i < sc->n && i < rows; i++) {
		int len = strlen(sc->line[i]);

		if (len > cols)
			len = cols;
		memcpy(p, sc->line[i], len);
		p += len;
		/* no newline after the last row: the screen would scroll */
		p += sprintf(p, i + 1 < rows ? "\033[K\r\n" : "\033[K");
	}
	p += sprintf(p, "\033[J");
	*p = '\0';
	put(buf);
	free(buf);
}

/* ---- the command ---- */

static const char top_help[] =
	"usage: vmpagerctl top [-d SEC] [-b] [-n N] [-o N]\n"
	"  -d SEC: refresh interval (default 2); -b: batch mode (plain text,\n"
	"  no terminal needed); -n N: stop after N refreshes; -o N: show at most\n"
	"  N objects. Keys: q quits (also Ctrl-C), space refreshes now.\n";

static int top_batch(const struct top_opts *o)
{
	struct top_sample cur, prev;
	bool have_prev = false;
	double next = vc_now();
	long n;

	for (n = 0; !o->iterations || n < o->iterations; n++) {
		struct screen sc = { 0 };
		int i;

		if (n) {
			struct timespec ts;

			next += o->delay;
			ts.tv_sec = (time_t)next;
			ts.tv_nsec = (long)((next - (time_t)next) * 1e9);
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				;
		}
		if (take_sample(&cur, have_prev ? &prev : NULL)) {
			if (have_prev)
				sample_free(&prev);
			return VC_ERR;
		}
		render(&sc, &cur, have_prev ? &prev : NULL, o, 0);
		if (n)
			putchar('\n');
		for (i = 0; i < sc.n; i++)
			puts(sc.line[i]);
		fflush(stdout);
		sc_free(&sc);
		if (have_prev)
			sample_free(&prev);
		prev = cur;
		have_prev = true;
	}
	if (have_prev)
		sample_free(&prev);
	return VC_OK;
}

static int top_live(const struct top_opts *o)
{
	struct top_sample cur, prev;
	struct screen sc = { 0 };
	bool have_prev = false, have_cur = false;
	int rows = 24, cols = 80, ret = VC_OK;
	double next;
	long n = 0;

	install(SIGINT, on_quit);
	install(SIGTERM, on_quit);
	install(SIGHUP, on_quit);
	install(SIGWINCH, on_winch);
	install(SIGTSTP, on_tstp);
	install(SIGCONT, on_cont);
	term_setup();
	next = vc_now();
	while (!quit_sig) {
		if (vc_now() >= next) {
			if (have_cur) {
				if (have_prev)
					sample_free(&prev);
				prev = cur;
				have_prev = true;
				have_cur = false;
			}
			if (take_sample(&cur, have_prev ? &prev : NULL)) {
				ret = VC_ERR;
				break;
			}
			have_cur = true;
			next = vc_now() + o->delay;
			n++;
			winch = 1;
		}
		if (cont) {
			cont = 0;
			term_setup();
			winch = 1;
		}
		if (winch) {
			winch = 0;
			term_size(&rows, &cols);
			sc_free(&sc);
			render(&sc, &cur, have_prev ? &prev : NULL, o, rows);
			draw(&sc, rows, cols);
		}
		if (o->iterations && n >= o->iterations)
			break;
		{
			struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
			int ms = (next - vc_now()) * 1000 + 1;
			char key;

			if (ms < 1)
				ms = 1;
			if (poll(&pfd, tio_saved ? 1 : 0, ms) > 0 &&
			    read(STDIN_FILENO, &key, 1) == 1) {
				if (key == 'q' || key == 'Q')
					break;
				if (key == ' ')
					next = 0;
			}
		}
	}
	sc_free(&sc);
	term_restore();
	if (ret) {
		/* the message went to the alternate screen: say it again */
		struct top_sample again;

		if (!take_sample(&again, NULL)) {
			vc_err("top: reading the module failed");
			sample_free(&again);
		}
	}
	if (have_cur)
		sample_free(&cur);
	if (have_prev)
		sample_free(&prev);
	return ret;
}

int vc_cmd_top(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "batch", no_argument, NULL, 'b' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "objects", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct top_opts o = { .delay = 2 };
	uint64_t v;
	int opt;

	while ((opt = getopt_long(argc, argv, "+d:i:bn:o:h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
		case 'i':
			if (vc_parse_secs(optarg, &o.delay))
				return vc_usage_err("top", "bad delay '%s' (seconds > 0)", optarg);
			break;
		case 'b':
			o.batch = true;
			break;
		case 'n':
			if (vc_parse_u64(optarg, 10, &v) || !v || v > 1000000000)
				return vc_usage_err("top", "bad count '%s'", optarg);
			o.iterations = v;
			break;
		case 'o':
			if (vc_parse_u64(optarg, 10, &v) || v > 1000000)
				return vc_usage_err("top", "bad object count '%s'", optarg);
			o.max_objs = v;
			break;
		case 'h':
			fputs(top_help, stdout);
			return VC_OK;
		default:
			fputs(top_help, stderr);
			return VC_USAGE;
		}
	}
	if (optind < argc)
		return vc_usage_err("top", "unexpected argument '%s'", argv[optind]);
	if (vc_json)
		return vc_usage_err("top", "no JSON output (use 'stat -j' or the other commands)");
	if (!o.batch && !isatty(STDOUT_FILENO))
		return vc_usage_err("top", "standard output is not a terminal; use -b (batch mode)");
	/* fail before touching the terminal if nothing can be read */
	{
		struct vc_counters c;

		if (vc_counters_module(&c))
			return VC_ERR;
		vc_counters_free(&c);
	}
	return o.batch ? top_batch(&o) : top_live(&o);
}
