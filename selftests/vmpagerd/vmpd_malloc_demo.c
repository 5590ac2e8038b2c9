// SPDX-License-Identifier: GPL-2.0
/*
 * An ordinary program for the LD_PRELOAD shim test (test_preload): large
 * buffers from malloc, calloc, realloc, posix_memalign and anonymous mmap,
 * filled, checked and folded into one digest printed on stdout. Built
 * dynamically and knowing nothing of vmpager: its output must be the same
 * with and without libvmpager-preload.so.
 *   vmpd-malloc-demo [MiB] [fork]     (default 8)
 * With "fork", as a Python program with a large bytearray that forks: the
 * child folds the same buffers (the same digest), then rewrites them; the
 * parent's must not change.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t digest(uint64_t h, const uint64_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

int main(int argc, char **argv)
{
	size_t mb = argc > 1 ? strtoul(argv[1], NULL, 0) : 8;
	size_t n = (mb << 20) / 8, i;
	uint64_t h = 14695981039346656037ull, *a, *b, *m, *al;
	void *x;

	a = malloc(n * 8);
	b = calloc(n, 8);
	if (!a || !b)
		return 1;
	for (i = 0; i < n; i++) {
		if (b[i])
			return 2;		/* calloc must give zeros */
		a[i] = next();
	}
	for (i = 0; i < n; i++)
		b[i] = a[n - 1 - i] + i;
	a = realloc(a, 2 * n * 8);
	if (!a)
		return 3;
	for (i = n; i < 2 * n; i++)
		a[i] = next() ^ a[i - n];
	m = mmap(NULL, n * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (m == MAP_FAILED)
		return 4;
	for (i = 0; i < n; i++)
		m[i] = b[i] * 3 + a[2 * n - 1 - i];
	if (posix_memalign(&x, 65536, n * 8) || ((uintptr_t)x & 65535))
		return 5;
	al = x;
	memcpy(al, m, n * 8);
	h = digest(h, a, 2 * n);
	h = digest(h, b, n);
	h = digest(h, m, n);
	h = digest(h, al, n);
	printf("digest %016llx over %zu MiB\n", (unsigned long long)h, 5 * mb);
	if (argc > 2 && !strcmp(argv[2], "fork")) {
		uint64_t hc = 14695981039346656037ull;
		pid_t pid;
		int st;

		fflush(stdout);
		pid = fork();
		if (pid < 0)
			return 6;
		hc = digest(hc, a, 2 * n);
		hc = digest(hc, b, n);
		hc = digest(hc, m, n);
		hc = digest(hc, al, n);
		if (pid == 0) {
			printf("child: %s\n", hc == h ? "the same data" : "OTHER data");
			for (i = 0; i < 2 * n; i++)
				a[i] = ~a[i];
			for (i = 0; i < n; i++)
				m[i] = 0;
			fflush(stdout);
			_exit(hc == h ? 0 : 7);
		}
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st))
			return 8;
		hc = 14695981039346656037ull;
		hc = digest(hc, a, 2 * n);
		hc = digest(hc, b, n);
		hc = digest(hc, m, n);
		hc = digest(hc, al, n);
		printf("parent after the child: %s\n", hc == h ? "unchanged" : "CHANGED");
		if (hc != h)
			return 9;
	}
	munmap(m, n * 8);
	free(al);
	free(b);
	free(a);
	return 0;
}
