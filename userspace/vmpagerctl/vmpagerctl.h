/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmpagerctl: shared declarations. The tool reads the module's debugfs files
 * (module/vmp_debugfs.c, docs/debugfs.md) and vmpagerd's control socket, and
 * prints them as aligned tables or JSON. Nothing here keeps state between
 * commands: every command reads what it needs, prints, and returns an exit
 * code (VC_OK, VC_ERR, VC_USAGE).
 */
#ifndef VMPAGERCTL_H
#define VMPAGERCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define VC_OK		0	/* success */
#define VC_ERR		1	/* the operation failed (message on stderr) */
#define VC_USAGE	2	/* bad command line (message on stderr) */

#define VC_DEBUGFS_ROOT	"/sys/kernel/debug"
#define VC_DEBUGFS	VC_DEBUGFS_ROOT "/vmpager"
#define VC_SYSMOD	"/sys/module/vmpager"
#define VC_DAEMON_CTL	"/run/vmpager/vmpagerd.ctl"

extern const char *vc_prog;	/* argv[0]'s base name, for messages */
extern bool vc_json;		/* -j: JSON instead of tables */

void vc_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vc_usage_err(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- numbers (util.c) ---- */
int vc_parse_u64(const char *s, int base, uint64_t *v);	/* whole string */
int vc_parse_secs(const char *s, double *secs);	/* > 0, <= 1 day */
bool vc_is_uint(const char *s);
double vc_now(void);	/* CLOCK_MONOTONIC, seconds */
void vc_fmt_rate(char *buf, size_t len, double r);	/* stat.c */

/* ---- debugfs access (dfs.c) ---- */
const char *vc_dfs_dir(void);	/* $VMPAGER_DEBUGFS or VC_DEBUGFS */
int vc_dfs_read(const char *name, char **text);	/* 0 or -errno */
int vc_dfs_write(const char *name, const char *s);	/* 0 or -errno */
/* Write in on a fresh open of name, then read the reply on the same file. */
int vc_dfs_query(const char *name, const char *in, char **text);
/* Explain why name could not be used (module, mount, root...). */
void vc_dfs_perror(const char *name, int err);
/* vc_dfs_read + vc_dfs_perror; returns VC_OK or VC_ERR. */
int vc_dfs_get(const char *name, char **text);

/* ---- a parsed debugfs file (dfs.c) ---- */
struct vc_line {
	char *raw;	/* the line, NUL-terminated, without '\n' */
	int nw;		/* words (split on blanks); comment lines have none */
	char **w;
	bool comment;	/* starts with '#'; raw then skips "# " */
};

struct vc_doc {
	char *text;	/* owned; lines point into it */
	int n;
	struct vc_line *l;
};

int vc_doc_parse(struct vc_doc *d, char *text);	/* takes text; 0/-ENOMEM */
void vc_doc_free(struct vc_doc *d);
/* Index of the first non-comment line from 'from' whose words equal hdr. */
int vc_doc_find(const struct vc_doc *d, int from, const char *hdr);
/* Word 1 of the "KEY VALUE" line with word 0 == key, from line 'from'. */
const char *vc_doc_value(const struct vc_doc *d, int from, const char *key);
/* Read and parse a debugfs file; message printed on failure. */
int vc_doc_get(const char *name, struct vc_doc *d);

/* ---- output (out.c) ---- */
struct vc_tab {
	int ncols;
	char **cols;	/* column names as given (lowercase) */
	int nrows, cap;
	char **cells;	/* nrows * ncols, owned */
};

int vc_tab_init(struct vc_tab *t, int ncols, const char *const *cols);
int vc_tab_add(struct vc_tab *t, const char *const *cells);
int vc_tab_addf(struct vc_tab *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));	/* cells split on '\t' */
void vc_tab_free(struct vc_tab *t);
/* Aligned text: upper-case headers, numeric columns right-aligned. */
void vc_tab_print(const struct vc_tab *t, FILE *f);
/* JSON array of objects, one per row. */
void vc_tab_json(const struct vc_tab *t, FILE *f);

/*
 * A small JSON writer: vc_j_open(f, key, '{' or '['), values, vc_j_close.
 * key is NULL inside arrays and at top level. vc_j_auto() writes numbers for
 * decimal integers, null for "-", strings otherwise.
 */
void vc_j_open(FILE *f, const char *key, char kind);
void vc_j_close(FILE *f, char kind);
void vc_j_str(FILE *f, const char *key, const char *val);
void vc_j_num(FILE *f, const char *key, uint64_t val);
void vc_j_dbl(FILE *f, const char *key, double val);
void vc_j_bool(FILE *f, const char *key, bool val);
void vc_j_raw(FILE *f, const char *key, const char *val);
void vc_j_auto(FILE *f, const char *key, const char *val);
void vc_j_end(FILE *f);	/* newline after a top-level value; resets state */

/* ---- counters from either source (stat.c) ---- */
struct vc_counters {
	int n;
	char **name;
	uint64_t *val;
	char *buf;	/* storage of the names */
};

/* Module counters from debugfs "stats". */
int vc_counters_module(struct vc_counters *c);
/* Module counters from VMPAGER_IOC_GLOBAL_INFO (no debugfs needed). */
int vc_counters_ioctl(struct vc_counters *c);
/* vmpagerd's counters from its control socket at path. */
int vc_counters_daemon(const char *path, struct vc_counters *c);
void vc_counters_free(struct vc_counters *c);
/* Value of name, or false when the source has no such counter. */
bool vc_counter(const struct vc_counters *c, const char *name, uint64_t *v);

/* ---- commands ---- */
int vc_cmd_stat(int argc, char **argv);
int vc_cmd_daemon(int argc, char **argv);
int vc_cmd_top(int argc, char **argv);
int vc_cmd_objects(int argc, char **argv);
int vc_cmd_mappers(int argc, char **argv);
int vc_cmd_frames(int argc, char **argv);
int vc_cmd_lru(int argc, char **argv);
int vc_cmd_swap(int argc, char **argv);
int vc_cmd_pool(int argc, char **argv);
int vc_cmd_buddyinfo(int argc, char **argv);
int vc_cmd_rmap(int argc, char **argv);
int vc_cmd_walk(int argc, char **argv);
int vc_cmd_policy(int argc, char **argv);
int vc_cmd_ref_source(int argc, char **argv);
int vc_cmd_harvest_batch(int argc, char **argv);
int vc_cmd_harvest_flush(int argc, char **argv);
int vc_cmd_watermarks(int argc, char **argv);
int vc_cmd_readahead(int argc, char **argv);
int vc_cmd_soft_unmap(int argc, char **argv);
int vc_cmd_ra_adaptive(int argc, char **argv);
int vc_cmd_ra_async(int argc, char **argv);
int vc_cmd_fail(int argc, char **argv);

/* Frame state counts from "frames" (shared by frames -s and top). */
struct vc_frame_sum {
	uint64_t frames, free_blocks, free, used, orphan, locked, dirty, ref;
};
int vc_frames_summary(struct vc_frame_sum *s);

/* debugfs objects: the header of ABI 2.2, of 2.1 (no file_io), of 2.0 (no file_pages) */
#define OBJECTS_HDR	"id size resident swapped mappers faults file_pages file_io"
#define OBJECTS_HDR_2_1	"id size resident swapped mappers faults file_pages"
#define OBJECTS_HDR_2_0	"id size resident swapped mappers faults"
int vc_objects_hdr(const struct vc_doc *d);

#endif /* VMPAGERCTL_H */
