/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmpd_test.h: helpers for the vmpagerd tests: start and stop a private
 * vmpagerd (own sockets, swap files and log in a scratch directory), query
 * its control socket, allocate daemon regions. Builds on the module tests'
 * vmp_test.h (patterns, signal probes, children, module loading).
 *
 * The daemon binary: $VMPAGERD, else "vmpagerd" next to the test binary;
 * $VMPD_EXTRA adds options to every daemon started.
 * Scratch: $VMP_DIRECT_DIR (ext4 with O_DIRECT in the guest), else /tmp.
 */
#ifndef VMPD_TEST_H
#define VMPD_TEST_H

#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/un.h>

#define VMP_NO_PREFLIGHT	/* the daemon's tests need no module */
#include <dirent.h>
#include <linux/magic.h>
#include <sys/vfs.h>

#include "vmp_test.h"
#include "libvmpager.h"

struct vmpd_inst {
	pid_t pid;
	char dir[80];
	char sock[108];
	char ctl[108];
	char log[192];
};

/* Program @name: $@env, else next to this test program (into @path). */
static inline const char *vmpd_tool(const char *env, const char *name,
				    char *path, size_t size)
{
	const char *e = getenv(env);
	ssize_t n;
	char *slash;

	if (e && *e)
		return e;
	n = readlink("/proc/self/exe", path, size - strlen(name) - 1);
	if (n <= 0)
		return name;
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, name);
	return path;
}

static inline const char *vmpd_bin(void)
{
	static char path[PATH_MAX];

	return vmpd_tool("VMPAGERD", "vmpagerd", path, sizeof(path));
}

static inline const char *vmpd_scratch(void)
{
	const char *d = getenv("VMP_DIRECT_DIR");

	return d && *d ? d : "/tmp";
}

/* Connect to the control socket: fd or -errno. */
static inline int vmpd_ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* Send @cmd, return the answer up to and including "end\n" (malloc'd). */
static inline char *vmpd_ctl_path(const char *path, const char *cmd)
{
	size_t cap = 16384, len = 0;
	char *buf;
	ssize_t n;
	int fd = vmpd_ctl_connect(path);

	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	if (!buf ||
	    send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) != (ssize_t)strlen(cmd) ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		free(buf);
		close(fd);
		return NULL;
	}
	for (;;) {
		if (cap - len < 1024) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += n;
		buf[len] = '\0';
		if (len >= 4 && (!strcmp(buf + len - 4, "end\n")))
			break;
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

static inline char *vmpd_ctl(struct vmpd_inst *d, const char *cmd)
{
	return vmpd_ctl_path(d->ctl, cmd);
}

/* "name value" from "stats", or -1. */
static inline long long vmpd_stat(struct vmpd_inst *d, const char *name)
{
	char *s = vmpd_ctl(d, "stats"), *line, *save = NULL;
	size_t kl = strlen(name);
	long long v = -1;

	if (!s)
		return -1;
	for (line = strtok_r(s, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, name, kl) && line[kl] == ' ')
			v = atoll(line + kl + 1);
	free(s);
	return v;
}

/*
 * Start a daemon with the default test settings plus @extra (a
 * space-separated option string, may be NULL). 0 or -errno.
 */
static inline int vmpd_spawn(struct vmpd_inst *d, const char *extra);

static inline int vmpd_start(struct vmpd_inst *d, const char *extra)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "%s/vmpd-test.XXXXXX", vmpd_scratch());
	if (!mkdtemp(d->dir))
		return -errno;
	snprintf(d->sock, sizeof(d->sock), "%s/sock", d->dir);
	snprintf(d->ctl, sizeof(d->ctl), "%s/ctl", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/log", d->dir);
	return vmpd_spawn(d, extra);
}

/*
 * Start a daemon in @d's directory (its swap files, sockets and log;
 * the log is appended to): vmpd_start(), or a restart. 0 or -errno.
 */
static inline int vmpd_spawn(struct vmpd_inst *d, const char *extra)
{
	char args[1024], swap0[192], swap1[192], *argv[64], *save = NULL, *w;
	int argc = 0, i, fd;

	snprintf(swap0, sizeof(swap0), "%s/swap0", d->dir);
	snprintf(swap1, sizeof(swap1), "%s/swap1", d->dir);
	/* $VMPD_EXTRA: more options for every daemon (e.g. "--threads 1") */
	snprintf(args, sizeof(args),
		 "--socket %s --ctl %s --swapfile %s --swapfile %s --swap-pages 8192 --threads 2 --log-level debug %s %s",
		 d->sock, d->ctl, swap0, swap1, extra ? extra : "",
		 getenv("VMPD_EXTRA") ? getenv("VMPD_EXTRA") : "");
	argv[argc++] = (char *)vmpd_bin();
	for (w = strtok_r(args, " ", &save); w && argc < 62;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	d->pid = fork();
	if (d->pid < 0)
		return -errno;
	if (d->pid == 0) {
		fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
			dup2(fd, STDOUT_FILENO);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	/* ready: the control thread answers (it starts after the privilege drop) */
	for (i = 0; i < 250; i++) {
		char *ans = vmpd_ctl(d, "policy");
		int st;

		if (ans && strstr(ans, "end\n")) {
			free(ans);
			return 0;
		}
		free(ans);
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			return -ECHILD;
		}
		usleep(20000);
	}
	return -ETIMEDOUT;
}

/* Print the daemon's log as TAP comments (on failure, for the reader). */
static inline void vmpd_dump_log(struct vmpd_inst *d)
{
	char *s = vmp_read_file(d->log), *line, *save = NULL;

	if (!s)
		return;
	for (line = strtok_r(s, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		fprintf(stderr, "#   %s\n", line);
	free(s);
}

/*
 * A failed test's reader needs the daemon's own account: print its
 * warnings and errors (the debug lines of a long test would bury them).
 */
static inline void vmpd_dump_problems(struct vmpd_inst *d)
{
	char *s = vmp_read_file(d->log), *line, *save = NULL;
	int n = 0;

	if (!s)
		return;
	for (line = strtok_r(s, "\n", &save); line && n < 60;
	     line = strtok_r(NULL, "\n", &save))
		if (strstr(line, ": warn: ") || strstr(line, ": err: ")) {
			fprintf(stderr, "#   %s\n", line);
			n++;
		}
	free(s);
}

/* SIGTERM, reap, remove the scratch directory: the exit status, or -1. */
static inline int vmpd_stop(struct vmpd_inst *d)
{
	char path[256];
	int st = -1;
	static const char *const files[] = { "swap0", "swap1", "log", "sock",
					     "ctl" };
	unsigned int i;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		st = vmp_wait(d->pid);
		d->pid = 0;
	}
	if (getenv("VMPD_KEEP_LOG") || (st != 0 && st != -1))
		vmpd_dump_log(d);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", d->dir, files[i]);
		unlink(path);
	}
	rmdir(d->dir);
	return st;
}

/* A daemon region of @npages pages with budget @budget (0: default). */
static inline void *vmpd_region(struct vmpd_inst *d, size_t npages,
				uint64_t budget)
{
	struct vmp_region_opts o = { .socket = d->sock, .budget = budget };

	return vmp_region_alloc_opts(npages * PG, VMP_BACKEND_DAEMON, &o);
}

/* Value of "Key:" in /proc/PID/status as a hex or decimal number, or -1. */
static inline long long proc_status(pid_t pid, const char *key, int base)
{
	char path[64], *s, *p;
	long long v = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	s = vmp_read_file(path);
	if (!s)
		return -1;
	p = strstr(s, key);
	if (p)
		v = strtoll(p + strlen(key) + 1, NULL, base);
	free(s);
	return v;
}

/*
 * A fresh state_dir for a daemon (--state-dir) on the tmpfs /dev/shm,
 * named @name.XXXXXX, into @buf: 0, or -ENOENT without a tmpfs there.
 */
static inline int vmpd_state_mkdtemp(char *buf, size_t len, const char *name)
{
	struct statfs sfs;

	if (statfs("/dev/shm", &sfs) || sfs.f_type != TMPFS_MAGIC)
		return -ENOENT;
	snprintf(buf, len, "/dev/shm/%s.XXXXXX", name);
	return mkdtemp(buf) ? 0 : -errno;
}

/* Remove a state_dir and the files in it. */
static inline void vmpd_state_rm(const char *dir)
{
	char path[384];
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] ||
					    (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

#endif /* VMPD_TEST_H */
