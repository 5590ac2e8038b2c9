#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# trace-swapin.sh [VMPBENCH DAEMON OPTIONS]: where the time of benchmark 5's
# isolated swap-ins goes (run in the guest, as root, from /tests).
#
# Runs "vmpbench daemon" with the kernel's io_uring and block tracepoints
# enabled and VMPBENCH_TRACE_MARK=1, which marks the start and end of each
# backend's swap-in phase in the trace buffer and traces only those phases.
# For each phase it prints:
#   rq      block requests issued (by the issuing task's name), their mean
#           time from issue to completion (the device) and reads/writes
#   sqe     io_uring requests submitted, how many of them io_uring punted to
#           its io-wq workers (io_uring_queue_async_work: the nonblocking
#           attempt returned EAGAIN), and the mean submit-to-completion time
#           of the punted ones and of those issued inline
#   read    for the reads issued inline: submission to block issue, the
#           device, and block completion to the io_uring completion (posted
#           when the thread returns to user space: from its wait, or from a
#           system call of the eviction it runs meanwhile)
# TRACE_EXTRA="sched/sched_switch ..." enables more events; TRACE_RAW=K prints
# the raw trace from each phase's K-th block read request up to its (K+3)-th.
# Block requests other than reads and writes (flushes, discards) are counted
# apart. The trace settings it changes are put back at the end.
# Nothing here changes what is measured; the tracepoints add a little time to
# each event on both sides.
set -u
T=/sys/kernel/tracing
[ -w "$T/trace_marker" ] || T=/sys/kernel/debug/tracing
if [ ! -w "$T/trace_marker" ]; then
	echo "trace-swapin: no writable tracefs (mount -t tracefs nodev /sys/kernel/tracing)" >&2
	exit 4
fi
was_on=$(cat "$T/tracing_on")
was_kb=$(cat "$T/buffer_size_kb")
was_clock=$(sed 's/.*\[\(.*\)\].*/\1/' "$T/trace_clock")
echo 0 > "$T/tracing_on"
echo > "$T/trace"
echo global > "$T/trace_clock"
echo 8192 > "$T/buffer_size_kb"
n=0 enabled=
for e in io_uring/io_uring_submit_sqe io_uring/io_uring_submit_req \
	 io_uring/io_uring_queue_async_work io_uring/io_uring_complete \
	 block/block_rq_issue block/block_rq_complete ${TRACE_EXTRA:-}; do
	[ -e "$T/events/$e/enable" ] || continue
	[ "$(cat "$T/events/$e/enable")" = 1 ] && continue	# on before: left on
	echo 1 > "$T/events/$e/enable" && n=$((n + 1)) && enabled="$enabled $e"
done
echo "trace-swapin: $n tracepoints on"
VMPBENCH_TRACE_MARK=$T ./vmpbench daemon "$@"
rc=$?
echo 0 > "$T/tracing_on"
for e in $enabled; do
	echo 0 > "$T/events/$e/enable"
done
lost=$(cat "$T"/per_cpu/cpu*/stats 2>/dev/null | awk '/^overrun:/ { s += $2 } END { print s + 0 }')
[ "$lost" = 0 ] || echo "trace-swapin: the trace buffer overran ($lost events lost): a phase may be missing or cut; fewer TRACE_EXTRA events"
awk -v raw="${TRACE_RAW:-0}" '
function ts(   i) {
	for (i = 1; i <= NF; i++)
		if ($i ~ /^[0-9]+\.[0-9]+:$/)
			return substr($i, 1, length($i) - 1) + 0
	return -1
}
function field(re,   s) {
	if (!match($0, re))
		return ""
	s = substr($0, RSTART, RLENGTH)
	sub(/^[a-z_]+ /, "", s)
	sub(/,$/, "", s)
	return s
}
function report(   k) {
	printf "trace-swapin: %s: %d block requests (%d reads, %d writes, %d other), device mean %.1f us\n",
	       side, nrq, nrd, nwr, noth, ndev ? dev / ndev * 1e6 : 0
	for (k in by)
		printf "trace-swapin: %s:   issued by %s: %d\n", side, k, by[k]
	for (k in opn)
		printf "trace-swapin: %s:   io_uring opcode %s: %d, %d punted\n", side, k, opn[k], opa[k] + 0
	printf "trace-swapin: %s: %d io_uring requests, %d punted to io-wq; submit to completion: inline %.1f us (%d), punted %.1f us (%d)\n",
	       side, nsqe, nasync, ns ? st / ns * 1e6 : 0, ns, na ? at / na * 1e6 : 0, na
	if (nch)
		printf "trace-swapin: %s: %d inline reads: submit to block issue %.1f us, device %.1f us, block completion to io_uring completion %.1f us\n",
		       side, nch, c1 / nch * 1e6, c2 / nch * 1e6, c3 / nch * 1e6
}
/tracing_mark_write: vmpbench [a-z]+ swapin-start/ {
	side = $(NF - 1); on = 1
	nrq = nrd = nwr = noth = ndev = dev = nsqe = nasync = ns = st = na = at = 0
	split("", by); split("", iss); split("", sub_t); split("", async); split("", opn); split("", opa); split("", opof); split("", rsec); split("", rcmp)
	nch = c1 = c2 = c3 = nrd = 0; lastread = ""
	next
}
/tracing_mark_write: vmpbench [a-z]+ swapin$/ { if (on) report(); on = 0; next }
!on { next }
{ k = nrd + ($0 ~ /block_rq_issue: [0-9]+,[0-9]+ R/) }
raw && k >= raw && k < raw + 3 { print "trace-swapin: raw: " $0 }
/block_rq_issue:/ {
	if (!match($0, "\\) [0-9]+ \\+")) next
	sec = substr($0, RSTART + 2, RLENGTH - 4)
	iss[sec] = ts(); nrq++
	task = $1; sub(/-[0-9]+$/, "", task); by[task]++
	if ($0 ~ / [0-9]+,[0-9]+ W/) { nwr++; next }
	if ($0 !~ / [0-9]+,[0-9]+ R/) { noth++; next }
	nrd++
	if (lastread != "") { rsec[lastread] = sec; lastread = "" }
	next
}
/block_rq_complete:/ {
	if (!match($0, "\\) [0-9]+ \\+")) next
	sec = substr($0, RSTART + 2, RLENGTH - 4)
	if (sec in iss) { dev += ts() - iss[sec]; ndev++; rcmp[sec] = ts() - iss[sec]; rts[sec] = ts(); delete iss[sec] }
	next
}
/io_uring_submit_(sqe|req):/ {
	r = field("req [0-9a-fx]+,")
	sub_t[r] = ts(); async[r] = 0; nsqe++
	o = field("opcode [A-Za-z_0-9]+"); opof[r] = o; opn[o]++
	if (o ~ /READ/) lastread = r
	next
}
/io_uring_queue_async_work:/ {
	r = field("req(uest)? [0-9a-fx]+")
	sub(/^request /, "", r)
	if (r in sub_t) { async[r] = 1; nasync++; opa[opof[r]]++ }
	next
}
/io_uring_complete:/ {
	r = field("req [0-9a-fx]+,")
	if (!(r in sub_t)) next
	d = ts() - sub_t[r]
	if (async[r]) { at += d; na++ } else { st += d; ns++ }
	if (!async[r] && (r in rsec) && (rsec[r] in rcmp)) {
		s = rsec[r]; nch++
		c2 += rcmp[s]; c3 += ts() - rts[s]; c1 += d - rcmp[s] - (ts() - rts[s])
		delete rcmp[s]; delete rsec[r]
	}
	delete sub_t[r]
	next
}
' "$T/trace"
echo > "$T/trace"
echo "$was_kb" > "$T/buffer_size_kb"
echo "$was_clock" > "$T/trace_clock"
echo "$was_on" > "$T/tracing_on"
exit $rc
