/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmpager tracepoints: /sys/kernel/tracing/events/vmpager/. docs/tracing.md
 * describes each event and its fields. All are cheap when disabled (a static
 * branch). Fault kinds are enum vmp_fault_kind (vmp_obj.c), eviction reasons
 * the EV_* of vmp_reclaim.c, in the order printed here.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vmpager

#if !defined(_VMP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VMP_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(vmpager_fault,
	TP_PROTO(u64 obj, unsigned long index, int kind, int err, u64 ns),
	TP_ARGS(obj, index, kind, err, ns),
	TP_STRUCT__entry(
		__field(u64, obj)
		__field(unsigned long, index)
		__field(int, kind)
		__field(int, err)
		__field(u64, ns)
	),
	TP_fast_assign(
		__entry->obj = obj;
		__entry->index = index;
		__entry->kind = kind;
		__entry->err = err;
		__entry->ns = ns;
	),
	TP_printk("obj=%llu index=%lu kind=%s err=%d ns=%llu", __entry->obj,
		  __entry->index,
		  __print_symbolic(__entry->kind, { 0, "minor" }, { 1, "zero" },
				   { 2, "major" }, { 3, "sigbus" }),
		  __entry->err, __entry->ns)
);

TRACE_EVENT(vmpager_evict,
	TP_PROTO(u64 obj, unsigned long index, u32 frame, int reason, u32 slot),
	TP_ARGS(obj, index, frame, reason, slot),
	TP_STRUCT__entry(
		__field(u64, obj)
		__field(unsigned long, index)
		__field(u32, frame)
		__field(int, reason)
		__field(u32, slot)
	),
	TP_fast_assign(
		__entry->obj = obj;
		__entry->index = index;
		__entry->frame = frame;
		__entry->reason = reason;
		__entry->slot = slot;
	),
	TP_printk("obj=%llu index=%lu frame=%u reason=%s slot=%d",
		  __entry->obj, __entry->index, __entry->frame,
		  __print_symbolic(__entry->reason, { 0, "zero" },
				   { 1, "clean" }, { 2, "written" }, { 3, "busy" },
				   { 4, "noswap" }, { 5, "write_error" }),
		  (int)__entry->slot)
);

TRACE_EVENT(vmpager_harvest,
	TP_PROTO(u32 frames, u64 ptes, u64 young, u64 fresh, u64 busy, u64 ns),
	TP_ARGS(frames, ptes, young, fresh, busy, ns),
	TP_STRUCT__entry(
		__field(u32, frames)
		__field(u64, ptes)
		__field(u64, young)
		__field(u64, fresh)
		__field(u64, busy)
		__field(u64, ns)
	),
	TP_fast_assign(
		__entry->frames = frames;
		__entry->ptes = ptes;
		__entry->young = young;
		__entry->fresh = fresh;
		__entry->busy = busy;
		__entry->ns = ns;
	),
	TP_printk("frames=%u ptes=%llu young=%llu fresh=%llu busy=%llu ns=%llu",
		  __entry->frames, __entry->ptes, __entry->young,
		  __entry->fresh, __entry->busy, __entry->ns)
);

TRACE_EVENT(vmpager_swap_submit,
	TP_PROTO(bool write, u32 slot, u32 frame),
	TP_ARGS(write, slot, frame),
	TP_STRUCT__entry(
		__field(bool, write)
		__field(u32, slot)
		__field(u32, frame)
	),
	TP_fast_assign(
		__entry->write = write;
		__entry->slot = slot;
		__entry->frame = frame;
	),
	TP_printk("%s slot=%u frame=%u", __entry->write ? "write" : "read",
		  __entry->slot, __entry->frame)
);

TRACE_EVENT(vmpager_swap_done,
	TP_PROTO(bool write, u32 slot, u32 frame, int err, u64 ns),
	TP_ARGS(write, slot, frame, err, ns),
	TP_STRUCT__entry(
		__field(bool, write)
		__field(u32, slot)
		__field(u32, frame)
		__field(int, err)
		__field(u64, ns)
	),
	TP_fast_assign(
		__entry->write = write;
		__entry->slot = slot;
		__entry->frame = frame;
		__entry->err = err;
		__entry->ns = ns;
	),
	TP_printk("%s slot=%u frame=%u err=%d latency_ns=%llu",
		  __entry->write ? "write" : "read", __entry->slot,
		  __entry->frame, __entry->err, __entry->ns)
);

TRACE_EVENT(vmpager_reclaim_begin,
	TP_PROTO(unsigned long nr, u64 nr_free, bool direct),
	TP_ARGS(nr, nr_free, direct),
	TP_STRUCT__entry(
		__field(unsigned long, nr)
		__field(u64, nr_free)
		__field(bool, direct)
	),
	TP_fast_assign(
		__entry->nr = nr;
		__entry->nr_free = nr_free;
		__entry->direct = direct;
	),
	TP_printk("target=%lu free=%llu %s", __entry->nr, __entry->nr_free,
		  __entry->direct ? "direct" : "kthread")
);

TRACE_EVENT(vmpager_reclaim_end,
	TP_PROTO(unsigned long freed, unsigned long scanned, u64 ns),
	TP_ARGS(freed, scanned, ns),
	TP_STRUCT__entry(
		__field(unsigned long, freed)
		__field(unsigned long, scanned)
		__field(u64, ns)
	),
	TP_fast_assign(
		__entry->freed = freed;
		__entry->scanned = scanned;
		__entry->ns = ns;
	),
	TP_printk("freed=%lu scanned=%lu ns=%llu", __entry->freed,
		  __entry->scanned, __entry->ns)
);

/* Policy list moves seen by one policy call: frame is the one touched. */
DECLARE_EVENT_CLASS(vmpager_policy_move,
	TP_PROTO(u32 frame, u64 key, u32 nr),
	TP_ARGS(frame, key, nr),
	TP_STRUCT__entry(
		__field(u32, frame)
		__field(u64, key)
		__field(u32, nr)
	),
	TP_fast_assign(
		__entry->frame = frame;
		__entry->key = key;
		__entry->nr = nr;
	),
	TP_printk("frame=%u obj=%llu index=%llu nr=%u", __entry->frame,
		  __entry->key >> 32, __entry->key & 0xffffffffULL, __entry->nr)
);

DEFINE_EVENT(vmpager_policy_move, vmpager_activate,
	TP_PROTO(u32 frame, u64 key, u32 nr), TP_ARGS(frame, key, nr));
DEFINE_EVENT(vmpager_policy_move, vmpager_deactivate,
	TP_PROTO(u32 frame, u64 key, u32 nr), TP_ARGS(frame, key, nr));
DEFINE_EVENT(vmpager_policy_move, vmpager_refault,
	TP_PROTO(u32 frame, u64 key, u32 nr), TP_ARGS(frame, key, nr));

#endif /* _VMP_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vmp_trace
#include <trace/define_trace.h>
