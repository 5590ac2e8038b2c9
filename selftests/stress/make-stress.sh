#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make stress: the long stress plan in a guest.
#   STRESS_SECS=N     time shared by the time-bounded lines (default 600, at least 60):
#                     40% vmpstress (in-kernel swap), 15% vmpstress over the io_uring
#                     swap server, 15% vmpdstress (vmpagerd), 20% vmpfuzz, 10% trinity
#                     (at least 20 s); the
#                     fault-injection sweep
#                     (every injection point), isolation and regression tests add
#                     a few minutes on top
#   STRESS_KERNEL=K   debug (default: KASAN, lockdep, kmemleak) or stock; on the
#                     debug kernel the plan ends with the daemon-only check suites
#                     that make check runs on the stock kernel only
#                     (selftests/qemu/check-stock-only, about 17 minutes)
# Writes build/guest/stress.plan from selftests/stress/stress.plan, runs it with
# guest-suite.sh -P, keeps the KTAP in build/logs/stress-K.ktap and ends with
# the "N passed, N failed" line. The guest run fails on any kernel splat.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${STRESS_SECS:-600}
kernel=${STRESS_KERNEL:-debug}
if ! [[ $secs =~ ^[0-9]+$ ]] || (( secs < 60 )); then
	echo "make stress: STRESS_SECS=$secs: want a number of seconds, at least 60" >&2
	exit 2
fi
k=$((secs * 40 / 100)) u=$((secs * 15 / 100)) d=$((secs * 15 / 100)) f=$((secs * 20 / 100)) t=$((secs * 10 / 100))
(( t >= 20 )) || t=20
mkdir -p "$top/build/guest" "$top/build/logs"
plan=$top/build/guest/stress.plan
# timeouts: the run itself plus the final pass, teardown and a slow debug kernel
sed -e "s/@KERNEL@/$k/g; s/@T_KERNEL@/$((k + 300))/g" \
    -e "s/@URING@/$u/g; s/@T_URING@/$((u + 240))/g" \
    -e "s/@DAEMON@/$d/g; s/@T_DAEMON@/$((d + 240))/g" \
    -e "s/@FUZZ@/$f/g; s/@T_FUZZ@/$((f + 180))/g" \
    -e "s/@TRINITY@/$t/g; s/@T_TRINITY@/$((t + 120))/g" \
    "$top/selftests/stress/stress.plan" > "$plan"
if [ "$kernel" = debug ]; then
	# The check plan's lines named in check-stock-only, as make check would run them.
	grep -v '^#' "$top/selftests/qemu/check-stock-only" | while read -r pat; do
		[ -n "$pat" ] || continue
		cat "$top"/selftests/*/plan | while read -r name rest; do
			# shellcheck disable=SC2053 # $pat is a glob on purpose
			if [[ $name != \#* && $name == $pat ]]; then
				printf '%s %s\n' "$name" "$rest"
			fi
		done
	done >> "$plan"
fi
echo "make stress: ${secs}s on the $kernel kernel: vmpstress ${k}s + ${u}s (io_uring server)," \
     "vmpdstress ${d}s (vmpagerd), vmpfuzz ${f}s, trinity ${t}s, then the full fault-injection sweep" >&2
log=$top/build/logs/stress-$kernel.ktap
"$top/selftests/qemu/guest-suite.sh" -K "$kernel" -P "$plan" | tee "$log"
cd "$top/build/logs" && "$top/selftests/lib/ktap-summary.sh" "stress-$kernel.ktap"
