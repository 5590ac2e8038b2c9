// SPDX-License-Identifier: GPL-2.0
/*
 * vmpsim's trace readers; the formats are described in trace_read.h.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "trace_read.h"

#define ORACLE_RECORD	24	/* u32 time, u64 obj_id, u32 size, s64 next */

struct keybuf {
	uint64_t *k;
	size_t n, cap;
};

static int push(struct keybuf *b, uint64_t v)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 1 << 16;
		uint64_t *k = realloc(b->k, cap * sizeof(*k));

		if (!k)
			return -1;
		b->k = k;
		b->cap = cap;
	}
	b->k[b->n++] = v;
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* The decompressing command for @path, or NULL for a plain file. */
static const char *unzipper(const char *path)
{
	if (ends_with(path, ".gz"))
		return "gzip";
	if (ends_with(path, ".zst"))
		return "zstd";
	return NULL;
}

const char *trace_fmt_name(enum trace_fmt f)
{
	switch (f) {
	case TF_TEXT:
		return "text";
	case TF_CSV:
		return "csv";
	case TF_ORACLE:
		return "oracleGeneral";
	case TF_TRACEPOINT:
		return "tracepoint";
	default:
		return "auto";
	}
}

int trace_fmt_parse(const char *arg, struct trace_fmt_opts *o)
{
	char *end;
	unsigned long col;

	o->csv_col = 0;
	if (!strcmp(arg, "text")) {
		o->fmt = TF_TEXT;
	} else if (!strcmp(arg, "oracleGeneral") || !strcmp(arg, "oracle")) {
		o->fmt = TF_ORACLE;
	} else if (!strcmp(arg, "tracepoint")) {
		o->fmt = TF_TRACEPOINT;
	} else if (!strcmp(arg, "auto")) {
		o->fmt = TF_AUTO;
	} else if (!strncmp(arg, "csv", 3) && (!arg[3] || arg[3] == ':')) {
		o->fmt = TF_CSV;
		if (arg[3]) {
			errno = 0;
			col = strtoul(arg + 4, &end, 10);
			if (errno || end == arg + 4 || *end || !col || col > 1024) {
				fprintf(stderr, "vmpsim: bad csv column in '%s' (csv:N, N from 1 to 1024)\n",
					arg);
				return -1;
			}
			o->csv_col = (unsigned int)col;
		}
	} else {
		fprintf(stderr, "vmpsim: unknown trace format '%s' (text, csv[:COL], oracleGeneral, tracepoint)\n",
			arg);
		return -1;
	}
	return 0;
}

static enum trace_fmt guess(const char *path)
{
	char name[512];
	size_t len;

	snprintf(name, sizeof(name), "%s", path);
	len = strlen(name);
	if (ends_with(name, ".gz"))
		name[len - 3] = 0;
	else if (ends_with(name, ".zst"))
		name[len - 4] = 0;
	if (strstr(name, ".oracleGeneral"))
		return TF_ORACLE;
	if (ends_with(name, ".csv"))
		return TF_CSV;
	return TF_TEXT;
}

/* A whole field of decimal digits: 0 and its value, else -1. */
static int decimal(const char *s, uint64_t *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Strip surrounding blanks (and one pair of double quotes) in place. */
static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	if (e - s >= 2 && *s == '"' && e[-1] == '"') {
		e[-1] = 0;
		s++;
	}
	return s;
}

static int read_text(FILE *f, const char *path, struct keybuf *b)
{
	size_t cap = 0, lineno = 0;
	char *line = NULL;
	uint64_t v;
	int ret = 0;

	while (getline(&line, &cap, f) > 0) {
		char *s = trim(line);

		lineno++;
		if (!*s || !strcmp(s, "*"))
			continue;
		if (decimal(s, &v)) {
			fprintf(stderr, "vmpsim: %s:%zu: not a block number: %.40s\n",
				path, lineno, s);
			ret = -1;
			break;
		}
		if (push(b, v)) {
			ret = -ENOMEM;
			break;
		}
	}
	free(line);
	return ret;
}

static const char *const id_names[] = {
	"obj_id", "obj-id", "object", "objid", "id", "key", "block", "lba",
};

static int read_csv(FILE *f, const char *path, unsigned int col,
		    struct keybuf *b)
{
	size_t cap = 0, lineno = 0, i;
	char *line = NULL, *fields[1025];
	bool first = true;
	unsigned int nf;
	uint64_t v;
	int ret = 0;

	while (getline(&line, &cap, f) > 0) {
		char *s = line, *save = NULL, *tok;

		lineno++;
		s[strcspn(s, "\r\n")] = 0;
		if (!*trim(s))
			continue;
		nf = 0;
		for (tok = strtok_r(s, ",", &save); tok && nf < 1025;
		     tok = strtok_r(NULL, ",", &save))
			fields[nf++] = trim(tok);
		if (first) {
			first = false;
			if (!col) {
				for (unsigned int c = 0; c < nf && !col; c++)
					for (i = 0; i < sizeof(id_names) / sizeof(id_names[0]); i++)
						if (!strcasecmp(fields[c], id_names[i]))
							col = c + 1;
				if (col)
					continue;	/* the header named it */
				col = nf >= 2 ? 2 : 1;
			}
			for (i = 0; i < nf && decimal(fields[i], &v); i++)
				;
			if (i == nf)
				continue;	/* no number at all: a header */
		}
		if (col > nf) {
			fprintf(stderr, "vmpsim: %s:%zu: %u columns, no column %u (csv:COL)\n",
				path, lineno, nf, col);
			ret = -1;
			break;
		}
		if (!*fields[col - 1]) {
			fprintf(stderr, "vmpsim: %s:%zu: empty object id in column %u\n",
				path, lineno, col);
			ret = -1;
			break;
		}
		if (decimal(fields[col - 1], &v))
			v = fnv1a(fields[col - 1]);
		if (push(b, v)) {
			ret = -ENOMEM;
			break;
		}
	}
	free(line);
	return ret;
}

static int read_oracle(FILE *f, const char *path, struct keybuf *b)
{
	unsigned char rec[ORACLE_RECORD];
	size_t got, nrec = 0;
	uint64_t v;
	int i;

	while ((got = fread(rec, 1, sizeof(rec), f)) == sizeof(rec)) {
		v = 0;
		for (i = 7; i >= 0; i--)
			v = v << 8 | rec[4 + i];
		if (push(b, v))
			return -ENOMEM;
		nrec++;
	}
	if (ferror(f)) {
		fprintf(stderr, "vmpsim: %s: read error after %zu records\n",
			path, nrec);
		return -1;
	}
	if (got) {
		fprintf(stderr, "vmpsim: %s: %zu bytes after record %zu: not a whole %d-byte oracleGeneral record\n",
			path, got, nrec, ORACLE_RECORD);
		return -1;
	}
	return 0;
}

static int read_tracepoint(FILE *f, const char *path, struct keybuf *b)
{
	size_t cap = 0, lineno = 0;
	unsigned long long obj, idx;
	char *line = NULL, *p, *o, *x, *k;
	int ret = 0;

	while (getline(&line, &cap, f) > 0) {
		lineno++;
		p = strstr(line, "vmpager_fault:");
		if (!p)
			continue;
		o = strstr(p, " obj=");
		x = strstr(p, " index=");
		k = strstr(p, " kind=");
		if (!o || !x || sscanf(o, " obj=%llu", &obj) != 1 ||
		    sscanf(x, " index=%llu", &idx) != 1) {
			fprintf(stderr, "vmpsim: %s:%zu: a vmpager_fault event without obj= and index=\n",
				path, lineno);
			ret = -1;
			break;
		}
		/* a failed fault (SIGBUS) mapped no page: not a reference */
		if (k && (!strncmp(k + 6, "sigbus", 6) || !strncmp(k + 6, "3 ", 2)))
			continue;
		if (push(b, obj << 32 | (idx & 0xffffffffULL))) {
			ret = -ENOMEM;
			break;
		}
	}
	free(line);
	return ret;
}

int trace_read(const char *path, const struct trace_fmt_opts *o,
	       uint64_t **keys, size_t *n)
{
	enum trace_fmt fmt = o->fmt == TF_AUTO ? guess(path) : o->fmt;
	const char *zip = unzipper(path);
	struct keybuf b = { 0 };
	char *cmd = NULL;
	FILE *f;
	int ret, st;

	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "vmpsim: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (zip) {
		fclose(f);
		if (strchr(path, '\'')) {
			fprintf(stderr, "vmpsim: %s: quote in file name\n", path);
			return -1;
		}
		if (asprintf(&cmd, "%s -dc -- '%s'", zip, path) < 0)
			return -1;
		f = popen(cmd, "r");
		free(cmd);
		if (!f) {
			fprintf(stderr, "vmpsim: %s: cannot run %s: %s\n", path,
				zip, strerror(errno));
			return -1;
		}
	}
	switch (fmt) {
	case TF_CSV:
		ret = read_csv(f, path, o->csv_col, &b);
		break;
	case TF_ORACLE:
		ret = read_oracle(f, path, &b);
		break;
	case TF_TRACEPOINT:
		ret = read_tracepoint(f, path, &b);
		break;
	default:
		ret = read_text(f, path, &b);
		break;
	}
	if (zip) {
		st = pclose(f);
		if (!ret && st) {
			fprintf(stderr, "vmpsim: %s: %s -dc failed (status %d%s)\n",
				path, zip, WIFEXITED(st) ? WEXITSTATUS(st) : st,
				WIFEXITED(st) && WEXITSTATUS(st) == 127 ?
				": not installed?" : "");
			ret = -1;
		}
	} else {
		fclose(f);
	}
	if (ret == -ENOMEM)
		fprintf(stderr, "vmpsim: %s: out of memory\n", path);
	if (!ret && !b.n) {
		fprintf(stderr, "vmpsim: %s: no references (read as %s)\n", path,
			trace_fmt_name(fmt));
		ret = -1;
	}
	if (ret) {
		free(b.k);
		return -1;
	}
	*keys = b.k;
	*n = b.n;
	return 0;
}
