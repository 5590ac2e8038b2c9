/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel/user-neutral base types for vmpager code that is compiled both into
 * vmpager.ko and into userspace (the policy core, the buddy allocator).
 * Neutral code includes only this header: no kernel or libc calls.
 */
#ifndef _VMP_TYPES_H
#define _VMP_TYPES_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/stddef.h>
#include <linux/compiler.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;
#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#endif
#endif

/* "No frame": terminates the index-linked lists of neutral code. */
#define VMP_NIL		((u32)~0u)

#endif /* _VMP_TYPES_H */
