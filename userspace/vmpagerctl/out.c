// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerctl: output. Tables are collected first (to size the columns), then
 * printed aligned: headers upper-case, columns of numbers right-aligned, two
 * spaces between columns, no trailing blanks. The JSON writer is a stack of
 * "first element" flags; it emits compact JSON, one value per line.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vmpagerctl.h"

int vc_tab_init(struct vc_tab *t, int ncols, const char *const *cols)
{
	int i;

	memset(t, 0, sizeof(*t));
	t->cols = calloc(ncols, sizeof(char *));
	if (!t->cols)
		return -ENOMEM;
	t->ncols = ncols;
	for (i = 0; i < ncols; i++) {
		t->cols[i] = strdup(cols[i]);
		if (!t->cols[i])
			return -ENOMEM;
	}
	return 0;
}

int vc_tab_add(struct vc_tab *t, const char *const *cells)
{
	char **row;
	int i;

	if (t->nrows == t->cap) {
		int cap = t->cap ? t->cap * 2 : 64;
		char **nc = realloc(t->cells, (size_t)cap * t->ncols * sizeof(char *));

		if (!nc)
			return -ENOMEM;
		t->cells = nc;
		t->cap = cap;
	}
	row = &t->cells[(size_t)t->nrows * t->ncols];
	for (i = 0; i < t->ncols; i++) {
		row[i] = strdup(cells[i] ? cells[i] : "-");
		if (!row[i]) {
			while (i--)
				free(row[i]);
			return -ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

int vc_tab_addf(struct vc_tab *t, const char *fmt, ...)
{
	const char *cells[32];
	char buf[4096], *s, *save = NULL;
	va_list ap;
	int n = 0;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (s = strtok_r(buf, "\t", &save); s && n < 32;
	     s = strtok_r(NULL, "\t", &save))
		cells[n++] = s;
	while (n < t->ncols && n < 32)
		cells[n++] = "-";
	return vc_tab_add(t, cells);
}

void vc_tab_free(struct vc_tab *t)
{
	size_t i;

	for (i = 0; i < (size_t)t->nrows * t->ncols; i++)
		free(t->cells[i]);
	for (i = 0; t->cols && i < (size_t)t->ncols; i++)
		free(t->cols[i]);
	free(t->cells);
	free(t->cols);
	memset(t, 0, sizeof(*t));
}

static const char *cell(const struct vc_tab *t, int r, int c)
{
	return t->cells[(size_t)r * t->ncols + c];
}

/* Looks like a number: decimal (maybe signed, fractional, %), or 0x hex. */
static bool numeric(const char *s)
{
	if (!strcmp(s, "-"))
		return true;
	if (s[0] == '0' && s[1] == 'x') {
		for (s += 2; *s; s++)
			if (!isxdigit((unsigned char)*s))
				return false;
		return true;
	}
	if (*s == '-' || *s == '+')
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s) && *s != '.' && !(*s == '%' && !s[1]))
			return false;
	return true;
}

void vc_tab_print(const struct vc_tab *t, FILE *f)
{
	int *w = calloc(t->ncols, sizeof(int)), r, c;
	bool *right = calloc(t->ncols, sizeof(bool));

	if (!w || !right) {
		free(w);
		free(right);
		return;
	}
	for (c = 0; c < t->ncols; c++) {
		w[c] = strlen(t->cols[c]);
		right[c] = t->nrows > 0;
		for (r = 0; r < t->nrows; r++) {
			int len = strlen(cell(t, r, c));

			if (len > w[c])
				w[c] = len;
			if (!numeric(cell(t, r, c)))
				right[c] = false;
		}
	}
	for (r = -1; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = r < 0 ? t->cols[c] : cell(t, r, c);
			bool last = c == t->ncols - 1;
			int pad = w[c] - (int)strlen(s), i;

			if (c)
				fputs("  ", f);
			if (right[c])
				fprintf(f, "%*s", pad, "");
			if (r < 0)
				for (i = 0; s[i]; i++)
					fputc(toupper((unsigned char)s[i]), f);
			else
				fputs(s, f);
			if (!right[c] && !last)
				fprintf(f, "%*s", pad, "");
		}
		fputc('\n', f);
	}
	free(w);
	free(right);
}

void vc_tab_json(const struct vc_tab *t, FILE *f)
{
	int r, c;

	vc_j_open(f, NULL, '[');
	for (r = 0; r < t->nrows; r++) {
		vc_j_open(f, NULL, '{');
		for (c = 0; c < t->ncols; c++)
			vc_j_auto(f, t->cols[c], cell(t, r, c));
		vc_j_close(f, '}');
	}
	vc_j_close(f, ']');
}

/* ---- JSON ---- */

#define J_DEPTH 16
static bool j_first[J_DEPTH];
static int j_depth;

static void j_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = *s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void j_prefix(FILE *f, const char *key)
{
	if (j_depth > 0) {
		if (!j_first[j_depth])
			fputc(',', f);
		j_first[j_depth] = false;
	}
	if (key) {
		j_string(f, key);
		fputc(':', f);
	}
}

void vc_j_open(FILE *f, const char *key, char kind)
{
	j_prefix(f, key);
	fputc(kind, f);
	if (j_depth < J_DEPTH - 1)
		j_depth++;
	j_first[j_depth] = true;
}

void vc_j_close(FILE *f, char kind)
{
	fputc(kind, f);
	if (j_depth > 0)
		j_depth--;
}

void vc_j_str(FILE *f, const char *key, const char *val)
{
	j_prefix(f, key);
	j_string(f, val);
}

void vc_j_num(FILE *f, const char *key, uint64_t val)
{
	j_prefix(f, key);
	fprintf(f, "%llu", (unsigned long long)val);
}

void vc_j_dbl(FILE *f, const char *key, double val)
{
	j_prefix(f, key);
	fprintf(f, "%.3f", val);
}

/* val is written as is: a number the caller formatted */
void vc_j_raw(FILE *f, const char *key, const char *val)
{
	j_prefix(f, key);
	fputs(val, f);
}

void vc_j_bool(FILE *f, const char *key, bool val)
{
	j_prefix(f, key);
	fputs(val ? "true" : "false", f);
}

void vc_j_auto(FILE *f, const char *key, const char *val)
{
	if (!strcmp(val, "-")) {
		j_prefix(f, key);
		fputs("null", f);
	} else if (vc_is_uint(val) && strlen(val) <= 19) {
		j_prefix(f, key);
		fputs(val, f);
	} else {
		vc_j_str(f, key, val);
	}
}

void vc_j_end(FILE *f)
{
	fputc('\n', f);
	j_depth = 0;
	fflush(f);
}
