/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Names of the vmpager counters of enum vmpager_stat_id, shared by the module
 * (debugfs "stats") and the userspace tools, so both print the same names.
 * Designated initializers keep each name next to its id; users check at build
 * time that the table covers VMPAGER_NR_STATS.
 */
#ifndef _VMP_STAT_NAMES_H
#define _VMP_STAT_NAMES_H

#include "uapi/vmpager.h"

static const char *const vmp_stat_names[] = {
	[VMPAGER_STAT_faults] = "faults",
	[VMPAGER_STAT_faults_minor] = "faults_minor",
	[VMPAGER_STAT_faults_major] = "faults_major",
	[VMPAGER_STAT_faults_zero] = "faults_zero",
	[VMPAGER_STAT_faults_retry] = "faults_retry",
	[VMPAGER_STAT_mkwrite] = "mkwrite",
	[VMPAGER_STAT_alloc_ok] = "alloc_ok",
	[VMPAGER_STAT_alloc_fail] = "alloc_fail",
	[VMPAGER_STAT_frees] = "frees",
	[VMPAGER_STAT_oom_sigbus] = "oom_sigbus",
	[VMPAGER_STAT_range_sigbus] = "range_sigbus",
	[VMPAGER_STAT_unmaps] = "unmaps",
	[VMPAGER_STAT_orphaned] = "orphaned",
	[VMPAGER_STAT_objects_created] = "objects_created",
	[VMPAGER_STAT_objects_freed] = "objects_freed",
	[VMPAGER_STAT_buddy_splits] = "buddy_splits",
	[VMPAGER_STAT_buddy_merges] = "buddy_merges",
	[VMPAGER_STAT_swap_ins] = "swap_ins",
	[VMPAGER_STAT_swap_outs] = "swap_outs",
	[VMPAGER_STAT_reclaim_runs] = "reclaim_runs",
	[VMPAGER_STAT_reclaim_direct] = "reclaim_direct",
	[VMPAGER_STAT_reclaim_scans] = "reclaim_scans",
	[VMPAGER_STAT_evict_zero] = "evict_zero",
	[VMPAGER_STAT_evict_clean] = "evict_clean",
	[VMPAGER_STAT_evict_written] = "evict_written",
	[VMPAGER_STAT_evict_busy] = "evict_busy",
	[VMPAGER_STAT_evict_noswap] = "evict_noswap",
	[VMPAGER_STAT_activations] = "activations",
	[VMPAGER_STAT_deactivations] = "deactivations",
	[VMPAGER_STAT_refaults] = "refaults",
	[VMPAGER_STAT_readahead] = "readahead",
	[VMPAGER_STAT_readahead_hits] = "readahead_hits",
	[VMPAGER_STAT_read_errors] = "read_errors",
	[VMPAGER_STAT_write_errors] = "write_errors",
	[VMPAGER_STAT_swap_full] = "swap_full",
	[VMPAGER_STAT_kthread_wakeups] = "kthread_wakeups",
	[VMPAGER_STAT_srv_requests] = "srv_requests",
	[VMPAGER_STAT_srv_failed] = "srv_failed",
	[VMPAGER_STAT_srv_deaths] = "srv_deaths",
	[VMPAGER_STAT_soft_unmaps] = "soft_unmaps",
	[VMPAGER_STAT_soft_refs] = "soft_refs",
	[VMPAGER_STAT_harvest_frames] = "harvest_frames",
	[VMPAGER_STAT_harvest_ptes] = "harvest_ptes",
	[VMPAGER_STAT_harvest_young] = "harvest_young",
	[VMPAGER_STAT_harvest_fresh] = "harvest_fresh",
	[VMPAGER_STAT_harvest_busy] = "harvest_busy",
	[VMPAGER_STAT_harvest_saved] = "harvest_saved",
	[VMPAGER_STAT_harvest_ns] = "harvest_ns",
	[VMPAGER_STAT_harvest_flushes] = "harvest_flushes",
	[VMPAGER_STAT_bio_reads] = "bio_reads",
	[VMPAGER_STAT_bio_read_pages] = "bio_read_pages",
	[VMPAGER_STAT_bio_writes] = "bio_writes",
	[VMPAGER_STAT_bio_write_pages] = "bio_write_pages",
	[VMPAGER_STAT_srv_runs] = "srv_runs",
	[VMPAGER_STAT_file_reads] = "file_reads",
	[VMPAGER_STAT_file_writes] = "file_writes",
	[VMPAGER_STAT_file_syncs] = "file_syncs",
	[VMPAGER_STAT_file_binds_bio] = "file_binds_bio",
	[VMPAGER_STAT_readahead_async] = "readahead_async",
	[VMPAGER_STAT_read_waits] = "read_waits",
	[VMPAGER_STAT_copy_pages] = "copy_pages",
};

#endif /* _VMP_STAT_NAMES_H */
