// SPDX-License-Identifier: GPL-2.0
/*
 * vmpbench: the guest side of "make bench" (see bench.h for the output
 * protocol and docs/performance.md for what each benchmark measures).
 *
 *   vmpbench fault|touch|overcommit|swap|daemon|umap|replay|file [OPTIONS]
 *   vmpbench BENCH -h      options of one benchmark
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
} benches[] = {
	{ "fault", bench_fault, "resident fault rate vs shmem, 1 and 2 threads" },
	{ "touch", bench_touch, "first-touch zero-fill vs anonymous memory" },
	{ "overcommit", bench_overcommit, "2x/4x overcommit vs kernel swap under memory.max" },
	{ "swap", bench_swap, "swap-in latency vs O_DIRECT pread, swap-out vs O_DIRECT write" },
	{ "daemon", bench_daemon, "vmpagerd vs the module" },
	{ "umap", bench_umap, "daemon vs umap-like: write/seq/uniform/zipf vs module, anon" },
	{ "replay", bench_replay, "policy traces replayed through the module vs the simulator" },
	{ "file", bench_file, "file-backed objects: bios vs page cache vs the kernel's mmap" },
};

int main(int argc, char **argv)
{
	size_t i;

	if (argc >= 2) {
		for (i = 0; i < ARRAY_SIZE(benches); i++)
			if (!strcmp(argv[1], benches[i].name))
				return benches[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "usage: vmpbench BENCH [OPTIONS]   (vmpbench BENCH -h: its options)\n");
	for (i = 0; i < ARRAY_SIZE(benches); i++)
		fprintf(stderr, "  %-11s %s\n", benches[i].name, benches[i].what);
	return 2;
}
