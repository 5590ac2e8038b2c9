// SPDX-License-Identifier: GPL-2.0
/* Instantiates the vmpager:* tracepoints declared in vmp_trace.h. */
#define CREATE_TRACE_POINTS
#include "vmp_trace.h"
