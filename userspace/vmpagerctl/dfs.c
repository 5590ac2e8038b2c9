// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerctl: reading and writing /sys/kernel/debug/vmpager/ files (and the
 * module parameters that carry the stable settings), telling the user why
 * one cannot be used, and splitting a file into lines and words.
 *
 * $VMPAGER_DEBUGFS replaces the directory (tests point it at fixture files);
 * the module/mount/root diagnosis is then skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "vmpagerctl.h"

static const char *dfs_override(void)
{
	const char *d = getenv("VMPAGER_DEBUGFS");

	return d && *d ? d : NULL;
}

const char *vc_dfs_dir(void)
{
	return dfs_override() ?: VC_DEBUGFS;
}

/*
 * The stable settings are module parameters too (docs/ioctl.md#module-parameters):
 * /sys/module/vmpager/parameters/NAME, which needs no debugfs. Those are
 * used when the module has them as settings (writable by root: a 1.x
 * module's read-only policy=, which printed the name given at load, is
 * not) and no $VMPAGER_DEBUGFS is set; they read as the debugfs files do,
 * except watermarks ("MIN LOW HIGH", no header).
 */
static const char *const param_knobs[] = {
	"policy", "watermarks", "readahead", "ra_adaptive", "ra_async",
	"ref_source", "harvest_batch", NULL,
};

static bool knob_param(const char *name, char *path, size_t size)
{
	struct stat st;
	int i;

	if (dfs_override())
		return false;
	for (i = 0; param_knobs[i]; i++)
		if (!strcmp(name, param_knobs[i]))
			break;
	if (!param_knobs[i])
		return false;
	snprintf(path, size, "%s/parameters/%s", VC_SYSMOD, name);
	return stat(path, &st) == 0 && (st.st_mode & 0200);
}

static int dfs_open(const char *name, int flags)
{
	char path[4096];

	if (knob_param(name, path, sizeof(path)))
		return open(path, flags | O_CLOEXEC);
	if (snprintf(path, sizeof(path), "%s/%s", vc_dfs_dir(), name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	return open(path, flags | O_CLOEXEC);
}

/* Read fd to EOF into a malloc'd NUL-terminated buffer. */
static int read_all(int fd, char **text)
{
	size_t cap = 8192, len = 0;
	char *buf = malloc(cap), *nb;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (cap - len < 4096) {
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			free(buf);
			return n;
		}
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	*text = buf;
	return 0;
}

int vc_dfs_read(const char *name, char **text)
{
	int fd = dfs_open(name, O_RDONLY), ret;

	if (fd < 0)
		return -errno;
	ret = read_all(fd, text);
	close(fd);
	return ret;
}

static int write_str(int fd, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;

	do
		n = write(fd, s, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int vc_dfs_write(const char *name, const char *s)
{
	int fd = dfs_open(name, O_WRONLY), ret;

	if (fd < 0)
		return -errno;
	ret = write_str(fd, s);
	close(fd);
	return ret;
}

/* seq_file files (rmap, walk) keep the write's state per open file. */
int vc_dfs_query(const char *name, const char *in, char **text)
{
	int fd = dfs_open(name, O_RDWR), ret;

	if (fd < 0)
		return -errno;
	ret = write_str(fd, in);
	if (!ret && lseek(fd, 0, SEEK_SET) < 0)
		ret = -errno;
	if (!ret)
		ret = read_all(fd, text);
	close(fd);
	return ret;
}

static bool debugfs_mounted(void)
{
	struct statfs sfs;

	return statfs(VC_DEBUGFS_ROOT, &sfs) == 0 &&
	       (unsigned long)sfs.f_type == (unsigned long)DEBUGFS_MAGIC;
}

void vc_dfs_perror(const char *name, int err)
{
	char path[4096];

	if (err < 0)
		err = -err;
	if (knob_param(name, path, sizeof(path))) {
		vc_err("%s: %s%s", path, strerror(err),
		       (err == EACCES || err == EPERM) && geteuid() != 0 ?
		       " (writing a module parameter needs root)" : "");
		return;
	}
	if (dfs_override()) {
		vc_err("%s/%s: %s", dfs_override(), name, strerror(err));
		return;
	}
	switch (err) {
	case EACCES:
	case EPERM:
		if (geteuid() != 0)
			vc_err("%s/%s: permission denied: debugfs is root-only; run as root (e.g. sudo %s ...)",
			       VC_DEBUGFS, name, vc_prog);
		else
			vc_err("%s/%s: permission denied even as root (kernel lockdown?)",
			       VC_DEBUGFS, name);
		return;
	case ENOENT:
	case ENOTDIR:
		if (!debugfs_mounted())
			vc_err("debugfs is not mounted on %s (mount -t debugfs debugfs %s)",
			       VC_DEBUGFS_ROOT, VC_DEBUGFS_ROOT);
		else if (access(VC_SYSMOD, F_OK))
			vc_err("the vmpager module is not loaded (insmod vmpager.ko, or modprobe vmpager)");
		else if (access(VC_DEBUGFS, F_OK))
			vc_err("vmpager is loaded but %s is missing (module built without debugfs?)",
			       VC_DEBUGFS);
		else
			vc_err("%s/%s: no such file: this vmpager module does not provide it (older module?)",
			       VC_DEBUGFS, name);
		return;
	default:
		vc_err("%s/%s: %s", VC_DEBUGFS, name, strerror(err));
	}
}

int vc_dfs_get(const char *name, char **text)
{
	int ret = vc_dfs_read(name, text);

	if (ret) {
		vc_dfs_perror(name, ret);
		return VC_ERR;
	}
	return VC_OK;
}

/* ---- lines and words ---- */

void vc_doc_free(struct vc_doc *d)
{
	int i;

	for (i = 0; i < d->n; i++)
		free(d->l[i].w);
	free(d->l);
	free(d->text);
	memset(d, 0, sizeof(*d));
}

/*
 * Split text (taken over) into lines. Each non-comment line is copied into
 * its own buffer, words[0], so raw stays intact while words are cut.
 */
int vc_doc_parse(struct vc_doc *d, char *text)
{
	char *p, *nl;
	int cap = 0;

	memset(d, 0, sizeof(*d));
	d->text = text;
	for (p = text; *p; p = nl + 1) {
		struct vc_line *ln;
		char *copy, *s;
		int wcap = 8;

		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		if (d->n == cap) {
			struct vc_line *nlines;

			cap = cap ? cap * 2 : 64;
			nlines = realloc(d->l, cap * sizeof(*nlines));
			if (!nlines)
				goto nomem;
			d->l = nlines;
		}
		ln = &d->l[d->n];
		memset(ln, 0, sizeof(*ln));
		if (*p == '#') {
			ln->comment = true;
			ln->raw = p + 1 + (p[1] == ' ');
			d->n++;
		} else {
			ln->raw = p;
			/* word pointers and a copy of the line in one block */
			ln->w = malloc(wcap * sizeof(char *) + strlen(p) + 1);
			if (!ln->w)
				goto nomem;
			d->n++;
			for (;;) {
				copy = (char *)(ln->w + wcap);
				strcpy(copy, p);
				ln->nw = 0;
				for (s = strtok(copy, " \t"); s && ln->nw < wcap;
				     s = strtok(NULL, " \t"))
					ln->w[ln->nw++] = s;
				if (!s)
					break;
				wcap *= 2;	/* more words than room: redo */
				free(ln->w);
				ln->w = malloc(wcap * sizeof(char *) + strlen(p) + 1);
				if (!ln->w)
					goto nomem;
			}
		}
		if (!nl)
			break;
	}
	return 0;
nomem:
	vc_doc_free(d);
	return -ENOMEM;
}

static bool words_equal(const struct vc_line *l, const char *hdr)
{
	char buf[256], *s, *save = NULL;
	int i = 0;

	snprintf(buf, sizeof(buf), "%s", hdr);
	for (s = strtok_r(buf, " ", &save); s; s = strtok_r(NULL, " ", &save))
		if (i >= l->nw || strcmp(l->w[i++], s))
			return false;
	return i == l->nw;
}

int vc_doc_find(const struct vc_doc *d, int from, const char *hdr)
{
	int i;

	for (i = from; i < d->n; i++)
		if (!d->l[i].comment && words_equal(&d->l[i], hdr))
			return i;
	return -1;
}

/* The header line of debugfs objects, of any ABI since 2.0; -1 if none. */
int vc_objects_hdr(const struct vc_doc *d)
{
	static const char *const hdrs[] = {
		OBJECTS_HDR, OBJECTS_HDR_2_1, OBJECTS_HDR_2_0,
	};
	size_t i;
	int h;

	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		h = vc_doc_find(d, 0, hdrs[i]);
		if (h >= 0)
			return h;
	}
	return -1;
}

const char *vc_doc_value(const struct vc_doc *d, int from, const char *key)
{
	int i;

	for (i = from < 0 ? 0 : from; i < d->n; i++)
		if (!d->l[i].comment && d->l[i].nw >= 2 &&
		    !strcmp(d->l[i].w[0], key))
			return d->l[i].w[1];
	return NULL;
}

int vc_doc_get(const char *name, struct vc_doc *d)
{
	char *text;

	memset(d, 0, sizeof(*d));
	if (vc_dfs_get(name, &text))
		return VC_ERR;
	if (vc_doc_parse(d, text)) {
		vc_err("out of memory");
		return VC_ERR;
	}
	return VC_OK;
}
