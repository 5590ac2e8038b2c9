// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerctl: the commands that show one debugfs file (or two) and the
 * tunables. Each reads the file, checks its header (a module whose format
 * differs gets a clear error, not garbage), and prints a table or JSON.
 * Setting a tunable writes the new value, reads it back and prints it;
 * a refused value (EINVAL from the module) is explained and exits 1, and
 * the module then left the old value in place (docs/debugfs.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "vmpagerctl.h"

#define OPT_JSON_HELP	{ "json", no_argument, NULL, 'j' }, \
			{ "help", no_argument, NULL, 'h' }

/*
 * Options of a command that takes only -j/-h, and between min and max
 * arguments. Returns -1 to go on (arguments at argv[optind..]), else an exit
 * code.
 */
static int plain_opts(int argc, char **argv, const char *use, int min, int max)
{
	static const struct option lopts[] = { OPT_JSON_HELP, { NULL, 0, NULL, 0 } };
	int opt;

	while ((opt = getopt_long(argc, argv, "+jh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			vc_json = true;
			break;
		case 'h':
			printf("usage: vmpagerctl %s %s\n", argv[0], use);
			return VC_OK;
		default:
			fprintf(stderr, "usage: vmpagerctl %s %s\n", argv[0], use);
			return VC_USAGE;
		}
	}
	if (argc - optind < min)
		return vc_usage_err(argv[0], "missing argument (usage: %s %s)",
				    argv[0], use);
	if (argc - optind > max)
		return vc_usage_err(argv[0], "unexpected argument '%s'",
				    argv[optind + max]);
	return -1;
}

/* The module printed something else than this tool knows. */
static int bad_format(const char *file, const char *want)
{
	vc_err("%s/%s: unexpected format (no \"%s\" header); is vmpagerctl as new as the module?",
	       vc_dfs_dir(), file, want);
	return VC_ERR;
}

/*
 * Rows of the table whose header line is at h, up to the next comment line,
 * the line stop_hdr, or a line with fewer words than columns. Words beyond
 * the last column are joined into it (walk's flags).
 */
static int tab_from_doc(struct vc_tab *t, const struct vc_doc *d, int h,
			const char *stop_hdr)
{
	const struct vc_line *hl = &d->l[h];
	int i, c, stop = stop_hdr ? vc_doc_find(d, h + 1, stop_hdr) : -1;

	if (vc_tab_init(t, hl->nw, (const char *const *)hl->w))
		return -ENOMEM;
	for (i = h + 1; i < d->n && i != stop; i++) {
		const struct vc_line *l = &d->l[i];
		const char *cells[32];
		char last[1024];

		if (l->comment || l->nw < hl->nw || hl->nw > 32)
			break;
		for (c = 0; c < hl->nw; c++)
			cells[c] = l->w[c];
		if (l->nw > hl->nw) {
			last[0] = '\0';
			for (c = hl->nw - 1; c < l->nw; c++)
				snprintf(last + strlen(last), sizeof(last) - strlen(last),
					 "%s%s", c == hl->nw - 1 ? "" : " ", l->w[c]);
			cells[hl->nw - 1] = last;
		}
		if (vc_tab_add(t, cells))
			return -ENOMEM;
	}
	return 0;
}

/* "KEY VALUE" lines from h+1 up to stop_hdr: aligned text or JSON members. */
static void print_kv(const struct vc_doc *d, int h, const char *stop_hdr)
{
	int i, w = 0, stop = stop_hdr ? vc_doc_find(d, h + 1, stop_hdr) : -1;

	for (i = h + 1; i < d->n && i != stop; i++)
		if (!d->l[i].comment && d->l[i].nw == 2 &&
		    (int)strlen(d->l[i].w[0]) > w)
			w = strlen(d->l[i].w[0]);
	for (i = h + 1; i < d->n && i != stop; i++) {
		const struct vc_line *l = &d->l[i];

		if (l->comment || l->nw != 2)
			continue;
		if (vc_json)
			vc_j_auto(stdout, l->w[0], l->w[1]);
		else
			printf("%-*s  %s\n", w, l->w[0], l->w[1]);
	}
}

/* A table as text, or as the JSON member key (an array of objects). */
static void print_tab(const struct vc_tab *t, const char *key)
{
	int r, c;

	if (vc_json) {
		vc_j_open(stdout, key, '[');
		for (r = 0; r < t->nrows; r++) {
			vc_j_open(stdout, NULL, '{');
			for (c = 0; c < t->ncols; c++)
				vc_j_auto(stdout, t->cols[c],
					  t->cells[(size_t)r * t->ncols + c]);
			vc_j_close(stdout, '}');
		}
		vc_j_close(stdout, ']');
	} else {
		vc_tab_print(t, stdout);
	}
}

/* Read pool_pages from "pool" (for messages); 0 if unknown. */
static uint64_t pool_pages(void)
{
	char *text;
	uint64_t v = 0;
	struct vc_doc d;

	if (vc_dfs_read("pool", &text))
		return 0;
	if (!vc_doc_parse(&d, text)) {
		const char *s = vc_doc_value(&d, 0, "pool_pages");

		if (!s || vc_parse_u64(s, 10, &v))
			v = 0;
		vc_doc_free(&d);
	}
	return v;
}

/* ---- objects, mappers ---- */

static int doc_table(const char *file, const char *hdr, struct vc_doc *d,
		     struct vc_tab *t)
{
	int h;

	if (vc_doc_get(file, d))
		return VC_ERR;
	h = vc_doc_find(d, 0, hdr);
	if (h < 0) {
		vc_doc_free(d);
		return bad_format(file, hdr);
	}
	if (tab_from_doc(t, d, h, NULL)) {
		vc_doc_free(d);
		vc_err("out of memory");
		return VC_ERR;
	}
	return VC_OK;
}

#define MAPPERS_HDR	"id pid start end pgoff kind"

/* Is pid one of the comma-separated pids in list? */
static bool pid_listed(const char *list, const char *pid)
{
	size_t n = strlen(pid);
	const char *p;

	for (p = list; (p = strstr(p, pid)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

/* Distinct pids mapping object id, comma-separated, from mappers m. */
static void object_pids(const struct vc_tab *m, const char *id, char *buf,
			size_t len)
{
	int r;

	buf[0] = '\0';
	for (r = 0; m && r < m->nrows; r++) {
		const char *rid = m->cells[(size_t)r * m->ncols];
		const char *pid = m->cells[(size_t)r * m->ncols + 1];

		if (strcmp(rid, id) || pid_listed(buf, pid))
			continue;
		if (strlen(buf) + strlen(pid) + 2 < len)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
				 buf[0] ? "," : "", pid);
	}
	if (!buf[0])
		snprintf(buf, len, "-");
}

int vc_cmd_objects(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "mappers", no_argument, NULL, 'm' }, OPT_JSON_HELP,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const cols[] = {
		"id", "size", "resident", "swapped", "mappers", "faults",
		"file_pages", "file_io", "pids",
	};
	struct vc_doc od, md;
	struct vc_tab ot, mt, out;
	bool with_maps = false, have_maps;
	int opt, r, c, h;

	while ((opt = getopt_long(argc, argv, "+mjh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			with_maps = true;
			break;
		case 'j':
			vc_json = true;
			break;
		case 'h':
			puts("usage: vmpagerctl objects [-m] [-j]");
			return VC_OK;
		default:
			return VC_USAGE;
		}
	}
	if (optind < argc)
		return vc_usage_err("objects", "unexpected argument '%s'", argv[optind]);
	/* a module of ABI 2.0 has no file_pages column, of 2.1 no file_io: "-" */
	if (vc_doc_get("objects", &od))
		return VC_ERR;
	h = vc_objects_hdr(&od);
	if (h < 0) {
		vc_doc_free(&od);
		return bad_format("objects", OBJECTS_HDR);
	}
	if (tab_from_doc(&ot, &od, h, NULL)) {
		vc_doc_free(&od);
		vc_err("out of memory");
		return VC_ERR;
	}
	/* mappings are optional: an object list without pids beats none */
	have_maps = !doc_table("mappers", MAPPERS_HDR, &md, &mt);
	if (vc_tab_init(&out, 9, cols))
		goto nomem;
	for (r = 0; r < ot.nrows; r++) {
		const char *cells[9];
		char pids[1024];

		for (c = 0; c < 8; c++)
			cells[c] = c < ot.ncols ? ot.cells[(size_t)r * ot.ncols + c] : "-";
		object_pids(have_maps ? &mt : NULL, cells[0], pids, sizeof(pids));
		cells[8] = pids;
		if (vc_tab_add(&out, cells))
			goto nomem;
	}
	if (vc_json) {
		vc_j_open(stdout, NULL, '[');
		for (r = 0; r < ot.nrows; r++) {
			int m;

			vc_j_open(stdout, NULL, '{');
			for (c = 0; c < ot.ncols && c < 8; c++)
				vc_j_auto(stdout, cols[c], ot.cells[(size_t)r * ot.ncols + c]);
			if (with_maps && have_maps) {
				vc_j_open(stdout, "mappings", '[');
				for (m = 0; m < mt.nrows; m++) {
					char **mc = &mt.cells[(size_t)m * mt.ncols];

					if (strcmp(mc[0], ot.cells[(size_t)r * ot.ncols]))
						continue;
					vc_j_open(stdout, NULL, '{');
					vc_j_auto(stdout, "pid", mc[1]);
					vc_j_str(stdout, "start", mc[2]);
					vc_j_str(stdout, "end", mc[3]);
					vc_j_auto(stdout, "pgoff", mc[4]);
					vc_j_str(stdout, "kind", mc[5]);
					vc_j_close(stdout, '}');
				}
				vc_j_close(stdout, ']');
			}
			vc_j_close(stdout, '}');
		}
		vc_j_close(stdout, ']');
		vc_j_end(stdout);
	} else {
		vc_tab_print(&out, stdout);
		if (with_maps && have_maps) {
			putchar('\n');
			vc_tab_print(&mt, stdout);
		}
	}
	vc_tab_free(&out);
	vc_tab_free(&ot);
	vc_doc_free(&od);
	if (have_maps) {
		vc_tab_free(&mt);
		vc_doc_free(&md);
	}
	return VC_OK;
nomem:
	vc_err("out of memory");
	return VC_ERR;
}

int vc_cmd_mappers(int argc, char **argv)
{
	struct vc_doc d;
	struct vc_tab t;
	int ret = plain_opts(argc, argv, "[-j]", 0, 0);

	if (ret >= 0)
		return ret;
	if (doc_table("mappers", MAPPERS_HDR, &d, &t))
		return VC_ERR;
	if (vc_json) {
		vc_tab_json(&t, stdout);
		vc_j_end(stdout);
	} else {
		vc_tab_print(&t, stdout);
	}
	vc_tab_free(&t);
	vc_doc_free(&d);
	return VC_OK;
}

/* ---- frames ---- */

#define FRAMES_HDR	"frame flags order obj index count mapcount"

static const struct {
	const char *name;
	char letter;
} frame_states[] = {
	{ "free", 'F' }, { "used", 'U' }, { "orphan", 'O' }, { "locked", 'L' },
	{ "dirty", 'D' }, { "referenced", 'R' }, { "tail", '.' },
};
#define NR_STATES (sizeof(frame_states) / sizeof(frame_states[0]))

/* "used,dirty" or "UD" into a set of flag letters; -EINVAL on a bad name. */
static int parse_states(const char *arg, char *set, size_t len)
{
	char buf[256], *s, *save = NULL;
	size_t i, n = 0;

	snprintf(buf, sizeof(buf), "%s", arg);
	for (s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		bool found = false;

		for (i = 0; i < NR_STATES; i++) {
			/* a name, a unique prefix of 3+ letters, or the letter */
			if (!strcmp(s, frame_states[i].name) ||
			    (strlen(s) >= 3 && !strncmp(s, frame_states[i].name, strlen(s))) ||
			    (s[1] == '\0' && s[0] == frame_states[i].letter)) {
				if (n + 1 < len)
					set[n++] = frame_states[i].letter;
				found = true;
				break;
			}
		}
		if (!found)
			return -EINVAL;
	}
	set[n] = '\0';
	return n ? 0 : -EINVAL;
}

static bool frame_has(const char *flags, const char *set)
{
	for (; *set; set++)
		if (strchr(flags, *set))
			return true;
	return false;
}

int vc_frames_summary(struct vc_frame_sum *s)
{
	struct vc_doc d;
	int h, i;

	memset(s, 0, sizeof(*s));
	if (vc_doc_get("frames", &d))
		return VC_ERR;
	h = vc_doc_find(&d, 0, FRAMES_HDR);
	if (h < 0) {
		vc_doc_free(&d);
		return bad_format("frames", FRAMES_HDR);
	}
	for (i = h + 1; i < d.n; i++) {
		const struct vc_line *l = &d.l[i];
		const char *f;

		if (l->comment || l->nw < 3)
			continue;
		f = l->w[1];
		s->frames++;
		if (strchr(f, 'F')) {
			uint64_t order;

			s->free_blocks++;
			if (!vc_parse_u64(l->w[2], 10, &order) && order < 64)
				s->free += 1ULL << order;
		}
		s->used += !!strchr(f, 'U');
		s->orphan += !!strchr(f, 'O');
		s->locked += !!strchr(f, 'L');
		s->dirty += !!strchr(f, 'D');
		s->ref += !!strchr(f, 'R');
	}
	vc_doc_free(&d);
	return VC_OK;
}

static int frames_summary_cmd(void)
{
	struct vc_frame_sum s;
	static const char *const cols[] = { "state", "frames" };
	struct vc_tab t;

	if (vc_frames_summary(&s))
		return VC_ERR;
	if (vc_tab_init(&t, 2, cols))
		return VC_ERR;
	vc_tab_addf(&t, "total\t%llu", (unsigned long long)s.frames);
	vc_tab_addf(&t, "free\t%llu", (unsigned long long)s.free);
	vc_tab_addf(&t, "free_blocks\t%llu", (unsigned long long)s.free_blocks);
	vc_tab_addf(&t, "used\t%llu", (unsigned long long)s.used);
	vc_tab_addf(&t, "orphan\t%llu", (unsigned long long)s.orphan);
	vc_tab_addf(&t, "locked\t%llu", (unsigned long long)s.locked);
	vc_tab_addf(&t, "dirty\t%llu", (unsigned long long)s.dirty);
	vc_tab_addf(&t, "referenced\t%llu", (unsigned long long)s.ref);
	if (vc_json) {
		int r;

		vc_j_open(stdout, NULL, '{');
		for (r = 0; r < t.nrows; r++)
			vc_j_auto(stdout, t.cells[r * 2], t.cells[r * 2 + 1]);
		vc_j_close(stdout, '}');
		vc_j_end(stdout);
	} else {
		vc_tab_print(&t, stdout);
	}
	vc_tab_free(&t);
	return VC_OK;
}

int vc_cmd_frames(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "state", required_argument, NULL, 's' + 256 },
		{ "obj", required_argument, NULL, 'o' },
		{ "summary", no_argument, NULL, 's' },
		OPT_JSON_HELP, { NULL, 0, NULL, 0 },
	};
	const char *obj = NULL;
	char states[16] = "";
	bool summary = false;
	struct vc_doc d;
	struct vc_tab t, out;
	uint64_t v;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "+S:o:sjh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'S':
		case 's' + 256:
			if (parse_states(optarg, states, sizeof(states)))
				return vc_usage_err("frames", "bad state '%s' (free, used, orphan, locked, dirty, referenced, tail, or the letters FUOLDR.)",
						    optarg);
			break;
		case 'o':
			if (vc_parse_u64(optarg, 10, &v))
				return vc_usage_err("frames", "bad object id '%s'", optarg);
			obj = optarg;
			break;
		case 's':
			summary = true;
			break;
		case 'j':
			vc_json = true;
			break;
		case 'h':
			puts("usage: vmpagerctl frames [--state S[,S...]] [--obj ID] [-s] [-j]");
			return VC_OK;
		default:
			return VC_USAGE;
		}
	}
	if (optind < argc)
		return vc_usage_err("frames", "unexpected argument '%s'", argv[optind]);
	if (summary) {
		if (obj || states[0])
			return vc_usage_err("frames", "-s counts every frame; it takes no filter");
		return frames_summary_cmd();
	}
	if (doc_table("frames", FRAMES_HDR, &d, &t))
		return VC_ERR;
	if (vc_tab_init(&out, t.ncols, (const char *const *)t.cols)) {
		vc_err("out of memory");
		return VC_ERR;
	}
	for (r = 0; r < t.nrows; r++) {
		char **row = &t.cells[(size_t)r * t.ncols];

		if (states[0] && !frame_has(row[1], states))
			continue;
		/* the same id, however written: compare as numbers */
		if (obj && (vc_parse_u64(row[3], 10, &v) ||
			    v != strtoull(obj, NULL, 10)))
			continue;
		if (vc_tab_add(&out, (const char *const *)row)) {
			vc_err("out of memory");
			return VC_ERR;
		}
	}
	if (vc_json) {
		vc_tab_json(&out, stdout);
		vc_j_end(stdout);
	} else {
		vc_tab_print(&out, stdout);
	}
	vc_tab_free(&out);
	vc_tab_free(&t);
	vc_doc_free(&d);
	return VC_OK;
}

/* ---- lru ---- */

#define LRU_HDR	"list pos frame obj index ref"

int vc_cmd_lru(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "all", no_argument, NULL, 'a' }, OPT_JSON_HELP,
		{ NULL, 0, NULL, 0 },
	};
	unsigned int ghosts = 0, wmin = 0, wlow = 0, whigh = 0;
	unsigned long long free_frames = 0, changes = 0;
	char policy[32] = "?", leader[32] = "?";
	bool all = false, have_head = false, have_leader = false;
	static const char *const lcols[] = { "list", "frames" };
	struct vc_tab lists, frames;
	struct vc_doc d;
	int opt, i, h;

	while ((opt = getopt_long(argc, argv, "+ajh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			all = true;
			break;
		case 'j':
			vc_json = true;
			break;
		case 'h':
			puts("usage: vmpagerctl lru [-a] [-j]");
			return VC_OK;
		default:
			return VC_USAGE;
		}
	}
	if (optind < argc)
		return vc_usage_err("lru", "unexpected argument '%s'", argv[optind]);
	if (vc_doc_get("lru", &d))
		return VC_ERR;
	h = vc_doc_find(&d, 0, LRU_HDR);
	if (h < 0 || vc_tab_init(&lists, 2, lcols)) {
		vc_doc_free(&d);
		return bad_format("lru", LRU_HDR);
	}
	for (i = 0; i < h; i++) {
		char name[32];
		unsigned int len;

		if (!d.l[i].comment)
			continue;
		if (sscanf(d.l[i].raw, "policy %31[^,], %u ghosts, watermarks %u %u %u, free %llu",
			   policy, &ghosts, &wmin, &wlow, &whigh, &free_frames) == 6)
			have_head = true;
		else if (sscanf(d.l[i].raw, "adaptive leader %31[^,], %llu changes",
				leader, &changes) == 2)
			have_leader = true;
		else if (sscanf(d.l[i].raw, "list %31s %u", name, &len) == 2)
			vc_tab_addf(&lists, "%s\t%u", name, len);
	}
	if (!have_head) {
		vc_tab_free(&lists);
		vc_doc_free(&d);
		return bad_format("lru", "# policy NAME, G ghosts, watermarks MIN LOW HIGH, free F");
	}
	if (all && tab_from_doc(&frames, &d, h, NULL)) {
		vc_err("out of memory");
		return VC_ERR;
	}
	if (vc_json) {
		vc_j_open(stdout, NULL, '{');
		vc_j_str(stdout, "policy", policy);
		vc_j_num(stdout, "ghosts", ghosts);
		vc_j_open(stdout, "watermarks", '{');
		vc_j_num(stdout, "min", wmin);
		vc_j_num(stdout, "low", wlow);
		vc_j_num(stdout, "high", whigh);
		vc_j_close(stdout, '}');
		vc_j_num(stdout, "free", free_frames);
		if (have_leader) {
			vc_j_str(stdout, "leader", leader);
			vc_j_num(stdout, "leader_changes", changes);
		}
		print_tab(&lists, "lists");
		if (all)
			print_tab(&frames, "frames");
		vc_j_close(stdout, '}');
		vc_j_end(stdout);
	} else {
		printf("policy      %s\n", policy);
		if (have_leader)
			printf("leader      %s (%llu changes)\n", leader, changes);
		printf("ghosts      %u\nwatermarks  min %u  low %u  high %u\nfree        %llu\n\n",
		       ghosts, wmin, wlow, whigh, free_frames);
		vc_tab_print(&lists, stdout);
		if (all) {
			putchar('\n');
			vc_tab_print(&frames, stdout);
		}
	}
	if (all)
		vc_tab_free(&frames);
	vc_tab_free(&lists);
	vc_doc_free(&d);
	return VC_OK;
}

/* ---- swap, pool, buddyinfo ---- */

/*
 * swap: a "key value" section, then tables (areas, files): each a header
 * line and rows that start with a number. Every table is shown, whatever
 * its columns, so a module with more sections still prints fully.
 */
#define MAX_SECTIONS	8

int vc_cmd_swap(int argc, char **argv)
{
	struct vc_tab tabs[MAX_SECTIONS];
	struct vc_doc d;
	int ret = plain_opts(argc, argv, "[-j]", 0, 0), h, i, k, ntabs = 0;
	int kv_end;

	if (ret >= 0)
		return ret;
	if (vc_doc_get("swap", &d))
		return VC_ERR;
	h = vc_doc_find(&d, 0, "key value");
	if (h < 0) {
		vc_doc_free(&d);
		return bad_format("swap", "key value");
	}
	/* the key-value rows: two words; a longer line is the next header */
	for (kv_end = h + 1; kv_end < d.n; kv_end++)
		if (!d.l[kv_end].comment && d.l[kv_end].nw > 2)
			break;
	for (i = kv_end; i < d.n && ntabs < MAX_SECTIONS; i = k) {
		struct vc_line *hl = &d.l[i];

		for (k = i + 1; k < d.n; k++)	/* rows start with a number */
			if (d.l[k].comment || !d.l[k].nw || !vc_is_uint(d.l[k].w[0]))
				break;
		if (hl->comment || !hl->nw || vc_is_uint(hl->w[0]))
			continue;
		/* tab_from_doc stops at the next non-row line by itself */
		if (k < d.n)
			d.l[k].comment = !d.l[k].comment;
		ret = tab_from_doc(&tabs[ntabs], &d, i, NULL);
		if (k < d.n)
			d.l[k].comment = !d.l[k].comment;
		if (ret) {
			vc_err("out of memory");
			vc_doc_free(&d);
			return VC_ERR;
		}
		ntabs++;
	}
	if (vc_json) {
		vc_j_open(stdout, NULL, '{');
		for (i = h + 1; i < kv_end; i++)
			if (!d.l[i].comment && d.l[i].nw == 2)
				vc_j_auto(stdout, d.l[i].w[0], d.l[i].w[1]);
		vc_j_open(stdout, "tables", '{');
		for (i = 0; i < ntabs; i++)
			print_tab(&tabs[i], tabs[i].cols[0]);
		vc_j_close(stdout, '}');
		vc_j_close(stdout, '}');
		vc_j_end(stdout);
	} else {
		int w = 0;

		for (i = h + 1; i < kv_end; i++)
			if (d.l[i].nw == 2 && (int)strlen(d.l[i].w[0]) > w)
				w = strlen(d.l[i].w[0]);
		for (i = h + 1; i < kv_end; i++)
			if (!d.l[i].comment && d.l[i].nw == 2)
				printf("%-*s  %s\n", w, d.l[i].w[0], d.l[i].w[1]);
		for (i = 0; i < ntabs; i++) {
			putchar('\n');
			if (tabs[i].nrows)
				vc_tab_print(&tabs[i], stdout);
			else
				printf("(no %ss)\n", tabs[i].cols[0]);
		}
	}
	for (i = 0; i < ntabs; i++)
		vc_tab_free(&tabs[i]);
	vc_doc_free(&d);
	return VC_OK;
}

/* buddyinfo as a table with a pages column (blocks << order). */
static int buddy_tab(struct vc_tab *t)
{
	static const char *const cols[] = { "order", "free_blocks", "pages" };
	struct vc_doc d;
	uint64_t order, blocks;
	int h, i;

	if (vc_doc_get("buddyinfo", &d))
		return VC_ERR;
	h = vc_doc_find(&d, 0, "order free_blocks");
	if (h < 0) {
		vc_doc_free(&d);
		return bad_format("buddyinfo", "order free_blocks");
	}
	if (vc_tab_init(t, 3, cols))
		return VC_ERR;
	for (i = h + 1; i < d.n; i++) {
		const struct vc_line *l = &d.l[i];

		if (l->comment || l->nw != 2 || vc_parse_u64(l->w[0], 10, &order) ||
		    vc_parse_u64(l->w[1], 10, &blocks) || order >= 64)
			continue;
		vc_tab_addf(t, "%llu\t%llu\t%llu", (unsigned long long)order,
			    (unsigned long long)blocks,
			    (unsigned long long)(blocks << order));
	}
	vc_doc_free(&d);
	return VC_OK;
}

int vc_cmd_buddyinfo(int argc, char **argv)
{
	struct vc_tab t;
	int ret = plain_opts(argc, argv, "[-j]", 0, 0);

	if (ret >= 0)
		return ret;
	if (buddy_tab(&t))
		return VC_ERR;
	if (vc_json) {
		vc_tab_json(&t, stdout);
		vc_j_end(stdout);
	} else {
		vc_tab_print(&t, stdout);
	}
	vc_tab_free(&t);
	return VC_OK;
}

int vc_cmd_pool(int argc, char **argv)
{
	struct vc_doc d;
	struct vc_tab t;
	int ret = plain_opts(argc, argv, "[-j]", 0, 0), h;

	if (ret >= 0)
		return ret;
	if (vc_doc_get("pool", &d))
		return VC_ERR;
	h = vc_doc_find(&d, 0, "key value");
	if (h < 0) {
		vc_doc_free(&d);
		return bad_format("pool", "key value");
	}
	if (buddy_tab(&t)) {
		vc_doc_free(&d);
		return VC_ERR;
	}
	if (vc_json) {
		vc_j_open(stdout, NULL, '{');
		print_kv(&d, h, NULL);
		print_tab(&t, "buddyinfo");
		vc_j_close(stdout, '}');
		vc_j_end(stdout);
	} else {
		print_kv(&d, h, NULL);
		putchar('\n');
		vc_tab_print(&t, stdout);
	}
	vc_tab_free(&t);
	vc_doc_free(&d);
	return VC_OK;
}

/* ---- rmap ---- */

int vc_cmd_rmap(int argc, char **argv)
{
	char in[32], *text;
	unsigned long long frame, obj, index;
	struct vc_doc d;
	struct vc_tab t;
	uint64_t v;
	int ret = plain_opts(argc, argv, "FRAME [-j]", 1, 1), h, i;

	if (ret >= 0)
		return ret;
	if (vc_parse_u64(argv[optind], 0, &v) || v > UINT32_MAX)
		return vc_usage_err("rmap", "bad frame number '%s'", argv[optind]);
	snprintf(in, sizeof(in), "%llu\n", (unsigned long long)v);
	ret = vc_dfs_query("rmap", in, &text);
	if (ret == -EINVAL) {
		uint64_t p = pool_pages();

		if (p)
			vc_err("rmap: no frame %llu: the pool has %llu frames (0..%llu)",
			       (unsigned long long)v, (unsigned long long)p,
			       (unsigned long long)p - 1);
		else
			vc_err("rmap: the module refused frame %llu", (unsigned long long)v);
		return VC_ERR;
	}
	if (ret) {
		vc_dfs_perror("rmap", ret);
		return VC_ERR;
	}
	if (vc_doc_parse(&d, text)) {
		vc_err("out of memory");
		return VC_ERR;
	}
	h = vc_doc_find(&d, 0, "pid vaddr kind");
	for (i = 0; i < d.n; i++)
		if (d.l[i].comment &&
		    sscanf(d.l[i].raw, "frame %llu obj %llu index %llu", &frame, &obj,
			   &index) == 3)
			break;
	if (h < 0 || i == d.n) {
		vc_doc_free(&d);
		return bad_format("rmap", "# frame F obj ID index I");
	}
	if (tab_from_doc(&t, &d, h, NULL)) {
		vc_doc_free(&d);
		vc_err("out of memory");
		return VC_ERR;
	}
	if (vc_json) {
		vc_j_open(stdout, NULL, '{');
		vc_j_num(stdout, "frame", frame);
		if (obj) {
			vc_j_num(stdout, "obj", obj);
			vc_j_num(stdout, "index", index);
		} else {
			vc_j_auto(stdout, "obj", "-");
			vc_j_auto(stdout, "index", "-");
		}
		print_tab(&t, "mappings");
		vc_j_close(stdout, '}');
		vc_j_end(stdout);
	} else if (!obj) {
		printf("frame %llu holds no object page (free, or its object is gone)\n",
		       frame);
	} else {
		printf("frame %llu  object %llu  index %llu  (%d mapping%s)\n", frame,
		       obj, index, t.nrows, t.nrows == 1 ? "" : "s");
		if (t.nrows)
			vc_tab_print(&t, stdout);
	}
	vc_tab_free(&t);
	vc_doc_free(&d);
	return VC_OK;
}

/* ---- walk ---- */

/* JSON members of "k v k v..." words, from word 'from'. */
static void json_pairs(const struct vc_line *l, int from)
{
	int i;

	for (i = from; i + 1 < l->nw; i += 2)
		vc_j_auto(stdout, l->w[i], l->w[i + 1]);
}

/* The value after key in a "k v k v" line, or NULL. */
static const char *pair(const struct vc_line *l, int from, const char *key)
{
	int i;

	for (i = from; i + 1 < l->nw; i += 2)
		if (!strcmp(l->w[i], key))
			return l->w[i + 1];
	return NULL;
}

/* "result ..." as a sentence. */
static void print_result(const struct vc_line *l)
{
	/* odd word count after "result": kind, then pairs; else pairs only */
	int first = (l->nw - 1) % 2 ? 2 : 1;
	const char *kind = l->nw > 1 ? l->w[1] : "?";
	const char *v;

	if (!strcmp(kind, "frame") && (v = pair(l, 1, "frame")))
		printf("result: pool frame %s (object %s, index %s)\n", v,
		       pair(l, 1, "obj") ?: "?", pair(l, 1, "index") ?: "?");
	else if (!strcmp(kind, "page"))
		printf("result: page pfn %s, not a vmpager pool frame\n",
		       pair(l, first, "pfn") ?: "?");
	else if (!strcmp(kind, "pfn"))
		printf("result: pfn %s without a struct page, not a pool frame\n",
		       pair(l, 1, "pfn") ?: "?");
	else if (!strcmp(kind, "none"))
		printf("result: not mapped (empty %s entry)\n",
		       pair(l, first, "level") ?: "?");
	else if (!strcmp(kind, "swap-entry"))
		printf("result: not present (a swap or migration entry in the %s)\n",
		       pair(l, first, "level") ?: "?");
	else
		printf("%s\n", l->raw);
}

int vc_cmd_walk(int argc, char **argv)
{
	char in[80], *text;
	struct vc_doc d;
	struct vc_tab t;
	uint64_t pid, addr;
	int ret = plain_opts(argc, argv, "PID ADDR [-j]", 2, 2), h, i, res = -1;

	if (ret >= 0)
		return ret;
	if (vc_parse_u64(argv[optind], 10, &pid) || pid == 0 || pid > INT32_MAX)
		return vc_usage_err("walk", "bad pid '%s'", argv[optind]);
	if (vc_parse_u64(argv[optind + 1], 0, &addr))
		return vc_usage_err("walk", "bad address '%s' (0x... hex or decimal)",
				    argv[optind + 1]);
	snprintf(in, sizeof(in), "%llu %#llx\n", (unsigned long long)pid,
		 (unsigned long long)addr);
	ret = vc_dfs_query("walk", in, &text);
	switch (-ret) {
	case 0:
		break;
	case ESRCH:
		vc_err("walk: no process %llu (or it has no address space)",
		       (unsigned long long)pid);
		return VC_ERR;
	case EFAULT:
		vc_err("walk: address %#llx is in no mapping of process %llu",
		       (unsigned long long)addr, (unsigned long long)pid);
		return VC_ERR;
	case EINVAL:
		vc_err("walk: the module refused \"%llu %#llx\"",
		       (unsigned long long)pid, (unsigned long long)addr);
		return VC_ERR;
	default:
		vc_dfs_perror("walk", ret);
		return VC_ERR;
	}
	if (vc_doc_parse(&d, text)) {
		vc_err("out of memory");
		return VC_ERR;
	}
	h = vc_doc_find(&d, 0, "level entry flags");
	for (i = 0; i < d.n; i++)
		if (!d.l[i].comment && d.l[i].nw >= 1 && !strcmp(d.l[i].w[0], "result"))
			res = i;
	if (h < 1 || res < 0 || d.l[0].nw < 2 || strcmp(d.l[0].w[0], "pid")) {
		vc_doc_free(&d);
		return bad_format("walk", "level entry flags");
	}
	/* the level lines: from the header to the result line */
	d.l[res].comment = true;	/* stops tab_from_doc there */
	if (tab_from_doc(&t, &d, h, NULL)) {
		vc_doc_free(&d);
		vc_err("out of memory");
		return VC_ERR;
	}
	d.l[res].comment = false;
	if (vc_json) {
		const struct vc_line *r = &d.l[res];
		int first = (r->nw - 1) % 2 ? 2 : 1, k;

		vc_j_open(stdout, NULL, '{');
		json_pairs(&d.l[0], 0);
		vc_j_open(stdout, "levels", '[');
		for (k = 0; k < t.nrows; k++) {
			char **row = &t.cells[(size_t)k * t.ncols], *s, *save = NULL;

			vc_j_open(stdout, NULL, '{');
			vc_j_str(stdout, "level", row[0]);
			vc_j_str(stdout, "entry", row[1]);
			vc_j_open(stdout, "flags", '[');
			for (s = strtok_r(row[2], " ", &save); s;
			     s = strtok_r(NULL, " ", &save))
				vc_j_str(stdout, NULL, s);
			vc_j_close(stdout, ']');
			vc_j_close(stdout, '}');
		}
		vc_j_close(stdout, ']');
		vc_j_open(stdout, "result", '{');
		vc_j_str(stdout, "kind", r->nw > 1 ? r->w[1] : "?");
		json_pairs(r, first);
		vc_j_close(stdout, '}');
		vc_j_close(stdout, '}');
		vc_j_end(stdout);
	} else {
		const struct vc_line *l0 = &d.l[0];

		printf("pid %s  addr %s\n", pair(l0, 0, "pid") ?: "?",
		       pair(l0, 0, "addr") ?: "?");
		printf("vma %s  pgoff %s  flags %s  vmpager %s\n\n",
		       pair(l0, 0, "vma") ?: "?", pair(l0, 0, "pgoff") ?: "?",
		       pair(l0, 0, "flags") ?: "?", pair(l0, 0, "vmpager") ?: "?");
		vc_tab_print(&t, stdout);
		putchar('\n');
		print_result(&d.l[res]);
	}
	vc_tab_free(&t);
	vc_doc_free(&d);
	return VC_OK;
}

/* ---- tunables ---- */

/* "fifo [lru] arc" in file @name: names into avail, the bracketed one into cur. */
static int read_choice(const char *name, char *cur, size_t clen, char *avail,
		       size_t alen)
{
	char *text, *s, *save = NULL;

	if (vc_dfs_get(name, &text))
		return VC_ERR;
	cur[0] = avail[0] = '\0';
	for (s = strtok_r(text, " \n", &save); s; s = strtok_r(NULL, " \n", &save)) {
		size_t n = strlen(s);

		if (n > 2 && s[0] == '[' && s[n - 1] == ']') {
			s[n - 1] = '\0';
			s++;
			snprintf(cur, clen, "%s", s);
		}
		snprintf(avail + strlen(avail), alen - strlen(avail), "%s%s",
			 avail[0] ? " " : "", s);
	}
	free(text);
	if (!cur[0]) {
		vc_err("%s/%s: unexpected format (no [current] value)", vc_dfs_dir(), name);
		return VC_ERR;
	}
	return VC_OK;
}

/*
 * A knob with named values shown as "a [b] c" (policy, ref_source): show
 * it, or write the value and show both. @what names a value in messages.
 */
static int choice_cmd(const char *name, const char *what, int argc, char **argv)
{
	char cur[32], old[32], avail[256], buf[64];
	int ret = plain_opts(argc, argv, "[NAME] [-j]", 0, 1);
	const char *val;

	if (ret >= 0)
		return ret;
	if (read_choice(name, cur, sizeof(cur), avail, sizeof(avail)))
		return VC_ERR;
	if (optind < argc) {
		val = argv[optind];
		if (!*val || strlen(val) > 15 || strpbrk(val, " \t\n"))
			return vc_usage_err(name, "bad %s '%s' (available: %s)",
					    what, val, avail);
		snprintf(old, sizeof(old), "%s", cur);
		snprintf(buf, sizeof(buf), "%s\n", val);
		ret = vc_dfs_write(name, buf);
		if (ret == -EINVAL) {
			vc_err("%s: the module refused '%s' (available: %s); still %s",
			       name, val, avail, old);
			return VC_ERR;
		}
		if (ret) {
			vc_dfs_perror(name, ret);
			return VC_ERR;
		}
		if (read_choice(name, cur, sizeof(cur), avail, sizeof(avail)))
			return VC_ERR;
		if (strcmp(cur, val)) {
			vc_err("%s: wrote '%s' but the module reports '%s'", name, val, cur);
			return VC_ERR;
		}
	}
	if (vc_json) {
		char *s, *save = NULL;

		vc_j_open(stdout, NULL, '{');
		vc_j_str(stdout, name, cur);
		vc_j_open(stdout, "available", '[');
		for (s = strtok_r(avail, " ", &save); s; s = strtok_r(NULL, " ", &save))
			vc_j_str(stdout, NULL, s);
		vc_j_close(stdout, ']');
		vc_j_close(stdout, '}');
		vc_j_end(stdout);
	} else if (optind < argc) {
		printf("%s %s (was %s)\n", name, cur, old);
	} else {
		printf("%-10s %s\navailable  %s\n", name, cur, avail);
	}
	return VC_OK;
}

int vc_cmd_policy(int argc, char **argv)
{
	return choice_cmd("policy", "policy name", argc, argv);
}

int vc_cmd_ref_source(int argc, char **argv)
{
	return choice_cmd("ref_source", "reference source", argc, argv);
}

static int read_watermarks(unsigned int w[3])
{
	struct vc_doc d;
	int h, i;
	uint64_t v;

	if (vc_doc_get("watermarks", &d))
		return VC_ERR;
	/* debugfs: a header line, then the values; the parameter: the values */
	h = vc_doc_find(&d, 0, "min low high") + 1;
	if (h >= d.n || d.l[h].nw != 3) {
		vc_doc_free(&d);
		return bad_format("watermarks", "min low high");
	}
	for (i = 0; i < 3; i++) {
		if (vc_parse_u64(d.l[h].w[i], 10, &v) || v > UINT32_MAX) {
			vc_doc_free(&d);
			return bad_format("watermarks", "min low high");
		}
		w[i] = v;
	}
	vc_doc_free(&d);
	return VC_OK;
}

int vc_cmd_watermarks(int argc, char **argv)
{
	static const char *const names[] = { "min", "low", "high" };
	unsigned int w[3], old[3];
	char buf[64];
	uint64_t v[3];
	int ret = plain_opts(argc, argv, "[MIN LOW HIGH] [-j]", 0, 3), i;

	if (ret >= 0)
		return ret;
	if (argc - optind != 0 && argc - optind != 3)
		return vc_usage_err("watermarks", "give all three: MIN LOW HIGH");
	for (i = 0; i < argc - optind; i++)
		if (vc_parse_u64(argv[optind + i], 10, &v[i]) || v[i] > UINT32_MAX)
			return vc_usage_err("watermarks", "bad %s '%s' (a number of frames)",
					    names[i], argv[optind + i]);
	if (read_watermarks(old))
		return VC_ERR;
	memcpy(w, old, sizeof(w));
	if (argc - optind == 3) {
		snprintf(buf, sizeof(buf), "%llu %llu %llu\n",
			 (unsigned long long)v[0], (unsigned long long)v[1],
			 (unsigned long long)v[2]);
		ret = vc_dfs_write("watermarks", buf);
		if (ret == -EINVAL) {
			uint64_t p = pool_pages();

			vc_err("watermarks: the module refused min %llu low %llu high %llu: it needs min < low < high <= pool_pages/2 (pool_pages %llu); unchanged: %u %u %u",
			       (unsigned long long)v[0], (unsigned long long)v[1],
			       (unsigned long long)v[2], (unsigned long long)p,
			       old[0], old[1], old[2]);
			return VC_ERR;
		}
		if (ret) {
			vc_dfs_perror("watermarks", ret);
			return VC_ERR;
		}
		if (read_watermarks(w))
			return VC_ERR;
	}
	if (vc_json) {
		vc_j_open(stdout, NULL, '{');
		for (i = 0; i < 3; i++)
			vc_j_num(stdout, names[i], w[i]);
		vc_j_close(stdout, '}');
		vc_j_end(stdout);
	} else {
		printf("min %u  low %u  high %u", w[0], w[1], w[2]);
		if (argc - optind == 3)
			printf("  (was %u %u %u)", old[0], old[1], old[2]);
		putchar('\n');
	}
	return VC_OK;
}

/* A one-number knob (readahead, fail_*): 0 and its value, or an error. */
static int read_knob(const char *file, uint64_t *v)
{
	char *text, *nl;
	int ret;

	if (vc_dfs_get(file, &text))
		return VC_ERR;
	nl = strchr(text, '\n');
	if (nl)
		*nl = '\0';
	ret = vc_parse_u64(text, 10, v);
	free(text);
	if (ret) {
		vc_err("%s/%s: unexpected format (not a number)", vc_dfs_dir(), file);
		return VC_ERR;
	}
	return VC_OK;
}

/* Set a one-number knob: usage checks done; errors explained. */
static int write_knob(const char *file, const char *what, uint64_t v, uint64_t old)
{
	char buf[32];
	int ret;

	snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)v);
	ret = vc_dfs_write(file, buf);
	if (ret == -EINVAL || ret == -ERANGE) {
		vc_err("%s: the module refused %llu (out of range, docs/debugfs.md#%s); unchanged: %llu",
		       what, (unsigned long long)v, file, (unsigned long long)old);
		return VC_ERR;
	}
	if (ret) {
		vc_dfs_perror(file, ret);
		return VC_ERR;
	}
	return VC_OK;
}

/*
 * Read single-value knob @name, write @v first when @set, read it back.
 * With -j prints {"name": cur}. Returns VC_ERR, or VC_OK with *old and *cur
 * (the caller prints the text form unless vc_json).
 */
static int knob_update(const char *name, bool set, uint64_t v, uint64_t *old,
		       uint64_t *cur)
{
	if (read_knob(name, old))
		return VC_ERR;
	*cur = *old;
	if (set && (write_knob(name, name, v, *old) || read_knob(name, cur)))
		return VC_ERR;
	if (vc_json) {
		vc_j_open(stdout, NULL, '{');
		vc_j_num(stdout, name, *cur);
		vc_j_close(stdout, '}');
		vc_j_end(stdout);
	}
	return VC_OK;
}

/*
 * A number knob (readahead, harvest_batch): show "NAME N UNIT", or set it
 * and add "(was M)". @what names the number in the usage error.
 */
static int num_cmd(const char *name, const char *what, const char *unit,
		   int argc, char **argv)
{
	uint64_t v = 0, old, cur;
	int ret = plain_opts(argc, argv, "[N] [-j]", 0, 1);
	bool set = false;

	if (ret >= 0)
		return ret;
	if (optind < argc) {
		if (vc_parse_u64(argv[optind], 10, &v))
			return vc_usage_err(name, "bad %s '%s' (a number of %s)", what,
					    argv[optind], unit);
		set = true;
	}
	if (knob_update(name, set, v, &old, &cur))
		return VC_ERR;
	if (vc_json)
		return VC_OK;
	printf("%s %llu %s", name, (unsigned long long)cur, unit);
	if (set)
		printf(" (was %llu)", (unsigned long long)old);
	putchar('\n');
	return VC_OK;
}

int vc_cmd_harvest_batch(int argc, char **argv)
{
	return num_cmd("harvest_batch", "batch", "frames", argc, argv);
}

int vc_cmd_readahead(int argc, char **argv)
{
	return num_cmd("readahead", "window", "pages", argc, argv);
}

/* An on/off knob (soft_unmap, ra_adaptive, ra_async, harvest_flush): show it, or set it and show both. */
static int onoff_cmd(const char *name, int argc, char **argv)
{
	uint64_t v = 0, old, cur;
	int ret = plain_opts(argc, argv, "[0|1|off|on] [-j]", 0, 1);
	bool set = false;

	if (ret >= 0)
		return ret;
	if (optind < argc) {
		const char *a = argv[optind];

		if (!strcmp(a, "on") || !strcmp(a, "1"))
			v = 1;
		else if (strcmp(a, "off") && strcmp(a, "0"))
			return vc_usage_err(name, "bad value '%s' (0, 1, off or on)", a);
		set = true;
	}
	if (knob_update(name, set, v, &old, &cur))
		return VC_ERR;
	if (!vc_json) {
		printf("%s %s", name, cur ? "on" : "off");
		if (set)
			printf(" (was %s)", old ? "on" : "off");
		putchar('\n');
	}
	return VC_OK;
}

int vc_cmd_soft_unmap(int argc, char **argv)
{
	return onoff_cmd("soft_unmap", argc, argv);
}

int vc_cmd_ra_adaptive(int argc, char **argv)
{
	return onoff_cmd("ra_adaptive", argc, argv);
}

int vc_cmd_ra_async(int argc, char **argv)
{
	return onoff_cmd("ra_async", argc, argv);
}

int vc_cmd_harvest_flush(int argc, char **argv)
{
	return onoff_cmd("harvest_flush", argc, argv);
}

int vc_cmd_fail(int argc, char **argv)
{
	static const char *const kinds[] = { "reads", "writes", "allocs" };
	int ret = plain_opts(argc, argv, "[reads|writes|allocs N] [-j]", 0, 2), i, k = -1;
	uint64_t v = 0, old, val[3];
	char file[32];

	if (ret >= 0)
		return ret;
	if (argc - optind == 1)
		return vc_usage_err("fail", "give a kind and a count, e.g. 'fail reads 3'");
	if (argc - optind == 2) {
		for (i = 0; i < 3; i++)
			if (!strcmp(argv[optind], kinds[i]))
				k = i;
		if (k < 0)
			return vc_usage_err("fail", "bad kind '%s' (reads, writes or allocs)",
					    argv[optind]);
		if (vc_parse_u64(argv[optind + 1], 10, &v))
			return vc_usage_err("fail", "bad count '%s'", argv[optind + 1]);
		snprintf(file, sizeof(file), "fail_%s", kinds[k]);
		if (read_knob(file, &old) || write_knob(file, file, v, old))
			return VC_ERR;
	}
	for (i = 0; i < 3; i++) {
		snprintf(file, sizeof(file), "fail_%s", kinds[i]);
		if (read_knob(file, &val[i]))
			return VC_ERR;
	}
	if (vc_json) {
		vc_j_open(stdout, NULL, '{');
		for (i = 0; i < 3; i++)
			vc_j_num(stdout, kinds[i], val[i]);
		vc_j_close(stdout, '}');
		vc_j_end(stdout);
	} else {
		static const char *const cols[] = { "fail", "remaining" };
		struct vc_tab t;

		if (vc_tab_init(&t, 2, cols))
			return VC_ERR;
		for (i = 0; i < 3; i++)
			vc_tab_addf(&t, "%s\t%llu", kinds[i], (unsigned long long)val[i]);
		vc_tab_print(&t, stdout);
		vc_tab_free(&t);
	}
	return VC_OK;
}
