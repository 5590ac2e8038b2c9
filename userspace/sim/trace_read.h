/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmpsim's trace readers: a trace file becomes the sequence of the block
 * (page, object) numbers it references, in order. Formats:
 *
 *   text        one decimal number per line; a line "*" is a checkpoint
 *               marker, not a reference (the LIRS/CLOCK-Pro trace set)
 *   csv[:COL]   libCacheSim's csv: one request per line, comma-separated;
 *               the object id is column COL (1-based). Without COL, a first
 *               line naming a column obj_id, obj-id, object, id, key,
 *               block or lba is a header and names it; else column 2 if
 *               there are two or more, else 1. A first line with no
 *               number in any field is a header too. Ids that are not
 *               numbers are hashed (64-bit FNV-1a), as libCacheSim does
 *               with string ids.
 *   oracleGeneral
 *               libCacheSim's binary trace: 24-byte little-endian records
 *               { u32 time; u64 obj_id; u32 size; s64 next_access_vtime },
 *               of which only obj_id is used
 *   tracepoint  a text dump of vmpager's tracepoints (tracefs "trace" or
 *               "trace_pipe", trace-cmd report, perf script): every
 *               vmpager_fault event that did not fail is a reference to
 *               page (obj << 32 | index); other lines are skipped
 *
 * A name ending in .gz is read through "gzip -dc", in .zst through
 * "zstd -dc". Without a format, the name says: ".oracleGeneral" in it
 * means oracleGeneral, a ".csv" ending csv, else text.
 */
#ifndef _TRACE_READ_H
#define _TRACE_READ_H

#include <stddef.h>
#include <stdint.h>

enum trace_fmt {
	TF_AUTO,
	TF_TEXT,
	TF_CSV,
	TF_ORACLE,
	TF_TRACEPOINT,
};

struct trace_fmt_opts {
	enum trace_fmt fmt;
	unsigned int csv_col;	/* 1-based; 0: from the header, or the default */
};

/* Parse a -f argument: 0, or -1 with a message on stderr. */
int trace_fmt_parse(const char *arg, struct trace_fmt_opts *o);

/* The name of a format, for messages. */
const char *trace_fmt_name(enum trace_fmt f);

/*
 * Read every reference of @path into *keys (malloc'd, *n of them), in the
 * format @o says (TF_AUTO: guessed from the name). 0, or -1 with a message
 * naming the file (and line or record) on stderr.
 */
int trace_read(const char *path, const struct trace_fmt_opts *o,
	       uint64_t **keys, size_t *n);

#endif /* _TRACE_READ_H */
