/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmp_test.h: helpers shared by the vmpager kselftests: module load/unload by
 * syscall, ioctl wrappers, page-unique patterns, signal probing, children,
 * fd passing, capabilities, debugfs/sysfs access and a buddy allocator model.
 *
 * Includes kselftest_harness.h (test files include only this header). The
 * 6.1 harness has unused parameters in its own code and in the TEST()/TEST_F()
 * expansions, so -Wunused-parameter is switched off for files including it
 * (the build keeps -Wall -Wextra -Werror otherwise).
 *
 * Nothing here uses ASSERT_* except the
 * VMP_FIXTURE()/VMP_TEARDOWN() macros, so the helpers are safe in forked
 * children (which must never ASSERT: that would longjmp into the harness and
 * run the fixture teardown in the child). Children report with VMP_CHILD_CHECK
 * and exit codes instead.
 */
#ifndef VMP_TEST_H
#define VMP_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/magic.h>

#include "vmpager.h"
#include "vmp_stat_names.h"	/* module/: the names debugfs prints */

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"

/*
 * The harness kills a test that runs longer than TEST_TIMEOUT_DEFAULT (30 s
 * in 6.1) unless it is declared with TEST_F_TIMEOUT(). On the debug kernel
 * under TCG several tests take 20-35 s, one 42 s with the host busy, and
 * CI's machine pushed one past 30 s (a timeout reported as a failure).
 * TEST() and TEST_F() expand the macro where they are used, so redefining
 * it here raises the limit of every test without its own. 120 s: below the
 * shortest plan line of these programs (150 s), so a hung test is still
 * reported as itself, not as its program.
 */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 120

/*
 * VMP_TESTS=PAT[,PAT...] runs only the tests whose "fixture.test" name
 * contains one of the patterns (the 6.1 harness has no -t option); the
 * KTAP plan counts only those. Without it every test runs.
 */
static inline bool vmp_test_wanted(const char *pats,
				   const struct __test_metadata *t)
{
	char name[256], *list, *tok, *save = NULL;
	bool hit = false;

	snprintf(name, sizeof(name), "%s.%s", t->fixture->name, t->name);
	list = strdup(pats);
	if (!list)
		return true;
	for (tok = strtok_r(list, ",", &save); tok && !hit;
	     tok = strtok_r(NULL, ",", &save))
		hit = strstr(name, tok) != NULL;
	free(list);
	return hit;
}

static inline void vmp_filter_tests(void)
{
	const char *pats = getenv("VMP_TESTS");
	struct __fixture_metadata *f;
	struct __test_metadata *t, *next, *head;

	if (!pats || !*pats)
		return;
	for (f = __fixture_list; f; f = f->next) {
		head = NULL;
		for (t = f->tests; t; t = next) {
			next = t->next;
			if (!vmp_test_wanted(pats, t))
				continue;
			/* the harness's list: next ends in NULL, head->prev is the tail */
			t->next = NULL;
			if (!head) {
				head = t;
			} else {
				t->prev = head->prev;
				head->prev->next = t;
			}
			head->prev = t;
		}
		f->tests = head;
	}
}

/*
 * Before any test, a program that loads the module checks that it can
 * (vmp_preflight(), below): run as root, a module to load or one this run
 * loaded, and never someone else's loaded vmpager. If not, the whole
 * program is skipped (KSFT_SKIP, exit 4) with the reason, as kselftests do
 * when what they test is not there. Programs that need no module (the
 * daemon's tests) define VMP_NO_PREFLIGHT before including this header.
 */
static inline void vmp_preflight(void);

#undef TEST_HARNESS_MAIN
#ifdef VMP_NO_PREFLIGHT
#define TEST_HARNESS_MAIN \
	int main(int argc, char **argv) \
	{ \
		vmp_filter_tests(); \
		return test_harness_run(argc, argv); \
	}
#else
#define TEST_HARNESS_MAIN \
	int main(int argc, char **argv) \
	{ \
		vmp_preflight(); \
		vmp_filter_tests(); \
		return test_harness_run(argc, argv); \
	}
#endif

#define VMP_DEFAULT_KO	"/modules/vmpager.ko"
#define VMP_SYSFS	"/sys/module/vmpager"
#define VMP_PARAMS	VMP_SYSFS "/parameters"
#define VMP_DEBUGFS_ROOT "/sys/kernel/debug"
#define VMP_DEBUGFS	VMP_DEBUGFS_ROOT "/vmpager"

#define PG		((size_t)4096)	/* x86_64; test_basic checks it against the module */
#define WORDS_PER_PG	(PG / sizeof(uint64_t))

/* ------------------------------------------------------------------ */
/* Module load / unload (syscalls only: no busybox insmod/rmmod).      */

static inline const char *vmp_ko(void)
{
	const char *p = getenv("VMP_KO");

	return (p && *p) ? p : VMP_DEFAULT_KO;
}

static inline int vmp_loaded(void)
{
	return access(VMP_SYSFS, F_OK) == 0;
}

/*
 * Whose vmpager is loaded. vmp_load() records the process group of the
 * program that loaded it in vmp_owner_path() (the kernel's runner.sh and
 * ktap-run.sh start each program in a process group of its own, as a shell
 * does each job; a harness's forked tests share it), and a successful
 * vmp_unload() removes the record. A loaded vmpager without a record of
 * this group was loaded by someone else: the tests neither unload nor
 * reload it (vmp_load() fails with EEXIST, vmp_preflight() skips), unless
 * VMP_TAKE_MODULE=1 says the machine is the tests' own (the project's QEMU
 * guest sets it: every plan line owns the guest). The record lives in /run
 * (root's) where there is one, else /tmp, and is never followed if a link.
 */
static inline const char *vmp_owner_path(void)
{
	return access("/run", W_OK) == 0 ? "/run/vmpager-selftests.owner" :
	       "/tmp/.vmpager-selftests.owner";
}

static inline bool vmp_module_ours(void)
{
	const char *take = getenv("VMP_TAKE_MODULE");
	char buf[32] = "";
	long pgid = -1;
	ssize_t n;
	int fd;

	if (take && !strcmp(take, "1"))
		return true;
	fd = open(vmp_owner_path(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0)
			pgid = strtol(buf, NULL, 10);
	}
	return pgid == (long)getpgrp();
}

static inline void vmp_owner_mark(bool loaded)
{
	char buf[32];
	int fd, n;

	unlink(vmp_owner_path());
	if (!loaded)
		return;
	fd = open(vmp_owner_path(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		  O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpgrp());
	if (write(fd, buf, n) != n)
		unlink(vmp_owner_path());
	close(fd);
}

/* delete_module("vmpager", O_NONBLOCK): 0 or -errno. No retry. */
static inline int vmp_unload(void)
{
	if (syscall(SYS_delete_module, "vmpager", O_NONBLOCK))
		return -errno;
	vmp_owner_mark(false);
	return 0;
}

/*
 * Unload, retrying a refused unload (-EAGAIN/-EBUSY) for up to ms
 * milliseconds: a process that just exited may still be dropping its last
 * file reference. Returns 0 or the last -errno.
 */
static inline int vmp_unload_wait(int ms)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int ret;

	for (;;) {
		ret = vmp_unload();
		if (ret != -EAGAIN && ret != -EBUSY)
			return ret;
		if (ms <= 0)
			return ret;
		nanosleep(&ts, NULL);
		ms -= 10;
	}
}

/*
 * Load $VMP_KO (default /modules/vmpager.ko) with params, unloading a copy
 * this run loaded first. Returns 0 or -errno: -EEXIST when the loaded
 * vmpager is someone else's (vmp_module_ours()).
 */
static inline int vmp_load(const char *params)
{
	int fd, ret;

	if (vmp_loaded()) {
		if (!vmp_module_ours())
			return -EEXIST;
		ret = vmp_unload_wait(2000);
		if (ret)
			return ret;
	}
	fd = open(vmp_ko(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params ? params : "", 0) ? -errno : 0;
	close(fd);
	if (!ret)
		vmp_owner_mark(true);
	return ret;
}

/*
 * Can this program test the module at all? Else skip it whole, saying why:
 * not root; a vmpager loaded by someone else; no module file to load.
 */
static inline void vmp_preflight(void)
{
	const char *why = NULL;
	char msg[512];

	if (geteuid() != 0)
		why = "needs root (loads and unloads vmpager.ko)";
	else if (vmp_loaded() && !vmp_module_ours())
		why = "vmpager is loaded, not by these tests: not unloading it (unload it, or VMP_TAKE_MODULE=1)";
	else if (access(vmp_ko(), R_OK))
		snprintf(msg, sizeof(msg), "no module to load: %s: %s (set VMP_KO=path/to/vmpager.ko)",
			 vmp_ko(), strerror(errno)), why = msg;
	if (!why)
		return;
	ksft_print_header();
	ksft_exit_skip("%s\n", why);
}

/* ------------------------------------------------------------------ */
/* Files: sysfs parameters, debugfs.                                   */

/* Read a whole (small, possibly seq_file) file. malloc'd, NUL-terminated. */
static inline char *vmp_read_file(const char *path)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap), *nb;
	ssize_t n;
	int fd;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	for (;;) {
		if (cap - len < 2048) {
			nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* Write a string to a file: 0 or -errno. */
static inline int vmp_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;
	ssize_t len = strlen(s);

	if (fd < 0)
		return -errno;
	if (write(fd, s, len) != len)
		ret = -errno ?: -EIO;
	close(fd);
	return ret;
}

/* Value of /sys/module/vmpager/parameters/<name>, or -1. */
static inline long long vmp_param(const char *name)
{
	char path[256], *s;
	long long v = -1;

	snprintf(path, sizeof(path), VMP_PARAMS "/%s", name);
	s = vmp_read_file(path);
	if (s && *s)
		v = strtoll(s, NULL, 0);
	free(s);
	return v;
}

static inline int vmp_set_param(const char *name, long long v)
{
	char path[256], val[32];

	snprintf(path, sizeof(path), VMP_PARAMS "/%s", name);
	snprintf(val, sizeof(val), "%lld\n", v);
	return vmp_write_file(path, val);
}

static inline int vmp_debugfs_mounted(void)
{
	struct statfs sfs;

	return statfs(VMP_DEBUGFS_ROOT, &sfs) == 0 &&
	       (unsigned long)sfs.f_type == (unsigned long)DEBUGFS_MAGIC;
}

/* ------------------------------------------------------------------ */
/* Device and ioctls.                                                  */

static inline int vmp_open(void)
{
	return open(VMPAGER_DEVICE, O_RDWR | O_CLOEXEC);
}

static inline int vmp_version(int fd, struct vmpager_version *v)
{
	memset(v, 0, sizeof(*v));
	return ioctl(fd, VMPAGER_IOC_VERSION, v) ? -errno : 0;
}

static inline int vmp_obj(int fd, struct vmpager_obj_info *oi)
{
	memset(oi, 0, sizeof(*oi));
	return ioctl(fd, VMPAGER_IOC_OBJ_INFO, oi) ? -errno : 0;
}

static inline int vmp_global_fd(int fd, struct vmpager_global_info *gi)
{
	memset(gi, 0, sizeof(*gi));
	return ioctl(fd, VMPAGER_IOC_GLOBAL_INFO, gi) ? -errno : 0;
}

/*
 * Global info once the module is quiet: the counters did not move over
 * three reads 50 ms apart (asynchronous swap writes, read-ahead and the
 * reclaim kthread finish after the faulting access returns). Gives up
 * after @timeout_ms with -ETIMEDOUT, leaving the last reading in @gi.
 */
static inline int vmp_global_settled(int fd, struct vmpager_global_info *gi,
				     int timeout_ms)
{
	struct vmpager_global_info prev;
	int same = 0, waited = 0, ret;

	ret = vmp_global_fd(fd, &prev);
	while (!ret) {
		usleep(50 * 1000);
		waited += 50;
		ret = vmp_global_fd(fd, gi);
		if (ret)
			break;
		if (!memcmp(gi->stats, prev.stats, sizeof(gi->stats)) &&
		    gi->free_pages == prev.free_pages) {
			if (++same == 3)
				return 0;
		} else {
			same = 0;
			prev = *gi;
		}
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
	}
	return ret;
}

/*
 * Global info through a temporary fd. Side effects: that fd is an (empty)
 * object, so nr_objects includes it and objects_created/objects_freed each
 * move by one. Use vmp_global_fd() on an open fd for exact object counts.
 */
static inline int vmp_global(struct vmpager_global_info *gi)
{
	int fd = vmp_open(), ret;

	if (fd < 0)
		return -errno;
	ret = vmp_global_fd(fd, gi);
	close(fd);
	return ret;
}

/* Counter names (as debugfs "stats" prints them), by enum vmpager_stat_id. */
static inline const char *vmp_stat_name(unsigned int i)
{
	_Static_assert(sizeof(vmp_stat_names) / sizeof(vmp_stat_names[0]) ==
		       VMPAGER_NR_STATS, "vmp_stat_names.h covers every counter");
	return i < VMPAGER_NR_STATS ? vmp_stat_names[i] : NULL;
}

static inline int vmp_stat_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < VMPAGER_NR_STATS; i++)
		if (vmp_stat_name(i) && !strcmp(vmp_stat_name(i), name))
			return i;
	return -1;
}

/* Counter by name (via a temporary fd, see vmp_global()), or -1. */
static inline long long vmp_stat(const char *name)
{
	struct vmpager_global_info gi;
	int i = vmp_stat_index(name);

	if (i < 0 || vmp_global(&gi) || gi.nr_stats <= (unsigned int)i)
		return -1;
	return (long long)gi.stats[i];
}

/* gi.stats[] by enum name, e.g. ST(gi, faults_zero). */
#define ST(gi, name)	((gi).stats[VMPAGER_STAT_##name])
/* Difference of a counter between two snapshots. */
#define DST(a, b, name)	(ST(b, name) - ST(a, name))

/* mmap npages of fd at page offset off_pg, read-write. */
static inline void *vmp_map(int fd, uint64_t off_pg, size_t npages, int flags)
{
	return mmap(NULL, npages * PG, PROT_READ | PROT_WRITE, flags, fd,
		    (off_t)(off_pg * PG));
}

/* ------------------------------------------------------------------ */
/* Patterns: every 8-byte word unique per (seed, object page, word).   */

static inline uint64_t vmp_word(uint64_t seed, uint64_t pg, uint64_t w)
{
	return (seed << 32) ^ ((pg << 12) | w);
}

/* Fill npages at addr, which maps object pages first_pg.. (seed != 0). */
static inline void vmp_fill(void *addr, uint64_t first_pg, size_t npages,
			    uint64_t seed)
{
	volatile uint64_t *p = addr;
	size_t i, w;

	for (i = 0; i < npages; i++)
		for (w = 0; w < WORDS_PER_PG; w++)
			p[i * WORDS_PER_PG + w] = vmp_word(seed, first_pg + i, w);
}

/* -1 if addr holds the pattern, else the index of the first bad word. */
static inline long vmp_check(const void *addr, uint64_t first_pg,
			     size_t npages, uint64_t seed)
{
	const volatile uint64_t *p = addr;
	size_t i, w;

	for (i = 0; i < npages; i++)
		for (w = 0; w < WORDS_PER_PG; w++)
			if (p[i * WORDS_PER_PG + w] != vmp_word(seed, first_pg + i, w))
				return (long)(i * WORDS_PER_PG + w);
	return -1;
}

/* -1 if npages at addr are all zero, else the index of the first bad word. */
static inline long vmp_check_zero(const void *addr, size_t npages)
{
	const volatile uint64_t *p = addr;
	size_t i;

	for (i = 0; i < npages * WORDS_PER_PG; i++)
		if (p[i])
			return (long)i;
	return -1;
}

/* Read one word of each page (faults every page in for reading). */
static inline uint64_t vmp_touch_read(const void *addr, size_t npages)
{
	const volatile uint64_t *p = addr;
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < npages; i++)
		sum += p[i * WORDS_PER_PG];
	return sum;
}

/* ------------------------------------------------------------------ */
/* Probing an access that may fault: returns 0 or the signal number.   */

static sigjmp_buf vmp_jmp __attribute__((unused));
static siginfo_t vmp_siginfo __attribute__((unused));

static void __attribute__((unused)) vmp_sig_handler(int sig, siginfo_t *si,
						     void *uc)
{
	(void)uc;
	vmp_siginfo = *si;
	siglongjmp(vmp_jmp, sig);
}

/* write ? store val : load into *val. si (optional) gets the siginfo. */
static inline int vmp_try_access(volatile uint64_t *addr, int write,
				 uint64_t *val, siginfo_t *si)
{
	struct sigaction sa, old_segv, old_bus;
	volatile int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = vmp_sig_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	sig = sigsetjmp(vmp_jmp, 1);
	if (sig == 0) {
		if (write)
			*addr = *val;
		else
			*val = *addr;
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	if (sig && si)
		*si = vmp_siginfo;
	return sig;
}

static inline int vmp_try_write(void *addr, uint64_t val, siginfo_t *si)
{
	return vmp_try_access(addr, 1, &val, si);
}

static inline int vmp_try_read(const void *addr, uint64_t *val, siginfo_t *si)
{
	return vmp_try_access((volatile uint64_t *)addr, 0, val, si);
}

/* ------------------------------------------------------------------ */
/* Children and synchronisation.                                       */

/* In a forked child: never ASSERT; report and exit non-zero instead. */
#define VMP_CHILD_CHECK(cond) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "# child %d: %s:%d: check failed: %s "	\
			"(errno %d)\n", getpid(), __FILE__, __LINE__,	\
			#cond, errno);					\
		_exit(100);						\
	}								\
} while (0)

/* For children expected to die of a signal: no core file in the test dir. */
static inline void vmp_no_core(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
}

/* waitpid, retrying EINTR: the raw status, or -1. */
static inline int vmp_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}

/*
 * fork() a child that reads @addr and exits 0 if the read got SIGSEGV
 * (nothing mapped there in the child), 1 otherwise. The child's pid, or
 * -1 when fork() failed.
 */
static inline pid_t vmp_fork_expect_segv(const void *addr)
{
	pid_t pid = fork();
	uint64_t v;

	if (pid == 0) {
		vmp_no_core();
		_exit(vmp_try_read(addr, &v, NULL) == SIGSEGV ? 0 : 1);
	}
	return pid;
}

/*
 * Run argv[0] with @argv, its stdout and stderr into @out (NUL-terminated,
 * at most @size - 1 bytes), with @alone in a session and process group of
 * its own; @env (NULL-terminated, or NULL) holds "NAME=VALUE" to set and
 * "NAME" to unset in it. Returns its exit status, or -1.
 */
static inline int vmp_run_output(char *const argv[], bool alone,
				 const char *const env[], char *out, size_t size)
{
	int pfd[2], st = -1;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		if (alone)
			setsid();
		for (; env && *env; env++)
			if (strchr(*env, '='))
				putenv((char *)*env);
			else
				unsetenv(*env);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	while (got < (ssize_t)size - 1 &&
	       (n = read(pfd[0], out + got, size - 1 - got)) > 0)
		got += n;
	out[got] = '\0';
	close(pfd[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* True if the status is a normal exit with code. */
#define VMP_EXITED(st, code)	(WIFEXITED(st) && WEXITSTATUS(st) == (code))
#define VMP_KILLED(st, sig)	(WIFSIGNALED(st) && WTERMSIG(st) == (sig))

/* One-byte token over a pipe/socket: 0 or -1. */
static inline int vmp_post(int fd)
{
	char c = 'x';

	return write(fd, &c, 1) == 1 ? 0 : -1;
}

static inline int vmp_pend(int fd)
{
	char c;
	ssize_t n;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

/* Pass a value (e.g. an address) over a pipe/socket. */
static inline int vmp_send_u64(int fd, uint64_t v)
{
	return write(fd, &v, sizeof(v)) == sizeof(v) ? 0 : -1;
}

static inline int vmp_recv_u64(int fd, uint64_t *v)
{
	ssize_t n;

	do
		n = read(fd, v, sizeof(*v));
	while (n < 0 && errno == EINTR);
	return n == sizeof(*v) ? 0 : -1;
}

/* SCM_RIGHTS over a unix socket. */
static inline int vmp_send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char data = 'F';
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static inline int vmp_recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char data;
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* ------------------------------------------------------------------ */
/* Capabilities without libcap: drop cap from effective and permitted. */

static inline int vmp_drop_cap(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[CAP_TO_INDEX(cap)].effective &= ~CAP_TO_MASK(cap);
	data[CAP_TO_INDEX(cap)].permitted &= ~CAP_TO_MASK(cap);
	data[CAP_TO_INDEX(cap)].inheritable &= ~CAP_TO_MASK(cap);
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Model of a binary buddy allocator over frames 0..pool_pages-1 that  */
/* serves order-0 requests from the smallest free block. It predicts   */
/* nr_free[] and the split count without assuming block addresses.     */

struct vmp_buddy_model {
	uint64_t nr_free[VMPAGER_NR_ORDERS];
	uint64_t splits;
};

/* All frames free, merged as far as alignment allows: binary digits. */
static inline void vmp_model_init(struct vmp_buddy_model *m, uint64_t pool)
{
	int k;

	memset(m, 0, sizeof(*m));
	for (k = 0; k < VMPAGER_MAX_ORDER; k++)
		m->nr_free[k] = (pool >> k) & 1;
	m->nr_free[VMPAGER_MAX_ORDER] = pool >> VMPAGER_MAX_ORDER;
}

/* Allocate one frame: 0, or -1 when the model pool is empty. */
static inline int vmp_model_alloc(struct vmp_buddy_model *m)
{
	int k, j;

	for (k = 0; k <= VMPAGER_MAX_ORDER; k++)
		if (m->nr_free[k])
			break;
	if (k > VMPAGER_MAX_ORDER)
		return -1;
	m->nr_free[k]--;
	for (j = k - 1; j >= 0; j--)
		m->nr_free[j]++;
	m->splits += k;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Fixtures: load the module in setup, check it unloads in teardown.    */

/*
 * Teardown: unload. A passed test must leave nothing behind, so a refused
 * unload fails it (leaked fd, mapping or module reference). After a failed
 * test the process may still hold mappings; the next vmp_load() unloads.
 */
#define VMP_TEARDOWN() do {						\
	int __r = vmp_loaded() ? vmp_unload_wait(2000) : 0;		\
	if (_metadata->passed && !_metadata->skip) {			\
		EXPECT_EQ(0, __r)					\
			TH_LOG("unload after the test failed: %s",	\
			       strerror(-__r));				\
	}								\
} while (0)

#define VMP_FIXTURE(fname, params)					\
	FIXTURE(fname) { int unused; };					\
	FIXTURE_SETUP(fname)						\
	{								\
		int __r = vmp_load(params);				\
		ASSERT_EQ(0, __r)					\
			TH_LOG("loading %s \"%s\": %s (set VMP_KO?)",	\
			       vmp_ko(), params, strerror(-__r));	\
		ASSERT_EQ(0, access(VMPAGER_DEVICE, R_OK | W_OK))	\
			TH_LOG(VMPAGER_DEVICE " missing after load: "	\
			       "is devtmpfs mounted on /dev?");		\
	}								\
	FIXTURE_TEARDOWN(fname)						\
	{								\
		VMP_TEARDOWN();						\
	}

/* ------------------------------------------------------------------ */
/* Swap files and the io_uring swap server (vmpager-swapd).            */

/* Where swap files go: the O_DIRECT scratch disk if there is one. */
static inline const char *vmp_swap_dir(void)
{
	const char *d = getenv("VMP_DIRECT_DIR");

	return d && *d ? d : "/tmp";
}

/* debugfs "swap" says "server STATE" (none, online, offline). */
static inline int vmp_server_state_is(const char *state)
{
	char *buf = vmp_read_file(VMP_DEBUGFS "/swap"), want[32];
	int ret;

	if (!buf)
		return 0;
	snprintf(want, sizeof(want), "server %s\n", state);
	ret = strstr(buf, want) != NULL;
	free(buf);
	return ret;
}

static inline int vmp_server_wait(const char *state, int ms)
{
	for (; ms > 0; ms -= 50) {
		if (vmp_server_state_is(state))
			return 0;
		usleep(50000);
	}
	return -1;
}

#define VMP_SWAPD	"./vmpager-swapd"

/* The server's two files, in vmp_swap_dir(). */
static inline void vmp_swapd_files(char *a, char *b, size_t len)
{
	snprintf(a, len, "%s/vmp-srv-a.swap", vmp_swap_dir());
	snprintf(b, len, "%s/vmp-srv-b.swap", vmp_swap_dir());
}

/* Start the server on its two files of @slots pages; wait until online. */
/* ... with @run pages per request ("-r RUN"; "0": one page, no runs). */
static inline pid_t vmp_swapd_start_run(unsigned int slots, const char *run)
{
	char a[256], b[256], s[32];
	pid_t pid;

	vmp_swapd_files(a, b, sizeof(a));
	snprintf(s, sizeof(s), "%u", slots);
	pid = fork();
	if (pid == 0) {
		execl(VMP_SWAPD, VMP_SWAPD, "-q", "-t", "2000", "-r", run,
		      "-s", s, a, b, (char *)NULL);
		_exit(127);
	}
	if (pid > 0 && vmp_server_wait("online", 10000)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

static inline pid_t vmp_swapd_start(unsigned int slots)
{
	return vmp_swapd_start_run(slots, "32");	/* the default */
}

/* SIGTERM: detach and exit; returns its wait status. */
static inline int vmp_swapd_stop(pid_t pid)
{
	int st = -1;

	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	return st;
}

static inline void vmp_swapd_remove_files(void)
{
	char a[256], b[256];

	vmp_swapd_files(a, b, sizeof(a));
	unlink(a);
	unlink(b);
}

#endif /* VMP_TEST_H */
