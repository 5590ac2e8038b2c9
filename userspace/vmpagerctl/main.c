// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerctl: inspect and tune vmpager. One command per invocation:
 *
 *   vmpagerctl [-j] COMMAND [ARGS...]
 *
 * Every command reads /sys/kernel/debug/vmpager/ (or vmpagerd's control
 * socket) and prints aligned tables, or JSON with -j. Exit status: 0 done,
 * 1 the operation failed (module not loaded, not root, refused value...),
 * 2 bad command line. docs/vmpagerctl.md describes every command.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "vmpagerctl.h"
#include "vmpager.h"

const char *vc_prog = "vmpagerctl";
bool vc_json;

struct vc_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;
	const char *what;
};

static const struct vc_cmd cmds[] = {
	{ "stat", vc_cmd_stat, "[-i SEC] [-c N] [-d] [-f LIST|-a] [-z] [--daemon[=CTL]|--ioctl]",
	  "counters once, or rolling rates like vmstat" },
	{ "top", vc_cmd_top, "[-d SEC] [-b] [-n N] [-o N]",
	  "live full-screen view (q or Ctrl-C quits); -b: batch" },
	{ "objects", vc_cmd_objects, "[-m]", "memory objects; -m: with their mappings" },
	{ "mappers", vc_cmd_mappers, "", "every VMA mapping an object" },
	{ "frames", vc_cmd_frames, "[--state S[,S]] [--obj ID] [-s]",
	  "pool frames; -s: counts by state" },
	{ "lru", vc_cmd_lru, "[-a]", "policy lists and sizes; -a: every frame on them" },
	{ "swap", vc_cmd_swap, "", "swap slots and files" },
	{ "pool", vc_cmd_pool, "", "pool summary and free blocks per order" },
	{ "buddyinfo", vc_cmd_buddyinfo, "", "free blocks per buddy order" },
	{ "rmap", vc_cmd_rmap, "FRAME", "every (pid, address) mapping a frame" },
	{ "walk", vc_cmd_walk, "PID ADDR", "page-table walk of an address" },
	{ "policy", vc_cmd_policy, "[NAME]", "show or switch the replacement policy" },
	{ "watermarks", vc_cmd_watermarks, "[MIN LOW HIGH]", "show or set reclaim watermarks" },
	{ "readahead", vc_cmd_readahead, "[N]", "show or set the swap readahead window" },
	{ "ra_adaptive", vc_cmd_ra_adaptive, "[0|1|off|on]",
	  "size the readahead window by hits (on) or use it whole" },
	{ "ra_async", vc_cmd_ra_async, "[0|1|off|on]",
	  "read the next readahead window ahead of the reader (on) or not" },
	{ "soft_unmap", vc_cmd_soft_unmap, "[0|1|off|on]", "show or set soft-unmap aging" },
	{ "ref_source", vc_cmd_ref_source, "[faults|soft-unmap|accessed|both]",
	  "show or set where the policy's references come from" },
	{ "harvest_batch", vc_cmd_harvest_batch, "[N]",
	  "show or set the frames whose accessed bits each reclaim pass tests" },
	{ "harvest_flush", vc_cmd_harvest_flush, "[0|1|off|on]",
	  "show or set the TLB flush after a harvest cleared accessed bits" },
	{ "fail", vc_cmd_fail, "[reads|writes|allocs N]", "show or set fault injection" },
	{ "daemon", vc_cmd_daemon, "[--ctl PATH] [COMMAND [ARG...]]",
	  "a control command to vmpagerd (stats, clients, policy [NAME], readahead [N], ...)" },
};
#define NR_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s [-j|--json] COMMAND [ARGS...]\n"
		"       %s help | --version\n\ncommands:\n", vc_prog, vc_prog);
	for (i = 0; i < NR_CMDS; i++) {
		if (strlen(cmds[i].args) > 24)	/* long: description below */
			fprintf(f, "  %-10s %s\n  %-10s %-24s %s\n", cmds[i].name,
				cmds[i].args, "", "", cmds[i].what);
		else
			fprintf(f, "  %-10s %-24s %s\n", cmds[i].name,
				cmds[i].args, cmds[i].what);
	}
	fprintf(f, "\nReads %s (root only; $VMPAGER_DEBUGFS overrides)"
		" and vmpagerd's socket %s.\n"
		"Exit status: 0 ok, 1 failed, 2 bad usage. Details: docs/vmpagerctl.md\n",
		VC_DEBUGFS, VC_DAEMON_CTL);
}

static const struct vc_cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < NR_CMDS; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct vc_cmd *cmd;
	int opt;

	/* '+': stop at the command; its own options follow it */
	while ((opt = getopt_long(argc, argv, "+jhV", lopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			vc_json = true;
			break;
		case 'h':
			usage(stdout);
			return VC_OK;
		case 'V':
			printf("vmpagerctl %s (vmpager ABI %d.%d)\n", VMPAGER_RELEASE,
			       VMPAGER_VERSION_MAJOR, VMPAGER_VERSION_MINOR);
			return VC_OK;
		default:
			usage(stderr);
			return VC_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return VC_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		if (optind + 1 < argc && (cmd = find_cmd(argv[optind + 1]))) {
			printf("usage: %s %s %s\n  %s\n", vc_prog, cmd->name,
			       cmd->args, cmd->what);
			return VC_OK;
		}
		usage(stdout);
		return VC_OK;
	}
	cmd = find_cmd(argv[optind]);
	if (!cmd) {
		fprintf(stderr, "%s: unknown command '%s'\n\n", vc_prog, argv[optind]);
		usage(stderr);
		return VC_USAGE;
	}
	/* the command sees argv[0] = its name, and parses from 1 */
	argc -= optind;
	argv += optind;
	optind = 0;	/* glibc: 0 re-initialises getopt (it starts at 1) */
	return cmd->fn(argc, argv);
}
