#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check: every test, in order, then one closing line "N passed, N failed".
#   1. host: unit tests (policy, buddy), build checks (warnings, sparse,
#      checkpatch), dkms, and the guest runner's own test
#   2. the guest suite on Debian's stock 6.1 kernel
#   3. the guest suite on the debug kernel (KASAN, lockdep, kmemleak), less
#      the daemon-only suites of selftests/qemu/check-stock-only (make stress
#      runs those on the debug kernel)
# KTAP logs go to build/logs/*.ktap; guest console logs to build/logs/guest-*/.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
logs=$top/build/logs
mkdir -p "$logs"
rm -f "$logs"/*.ktap
start=$(date +%s)
cd "$top"

phase() { echo "=== make check: $* ($(( $(date +%s) - start ))s)" >&2; }

phase "host unit tests"
make -s -C selftests/host run 2>&1 | tee "$logs/host.ktap"
phase "build checks"
selftests/host/test_build.sh 2>&1 | tee "$logs/build.ktap"
phase "dkms"
selftests/host/test_dkms.sh 2>&1 | tee "$logs/dkms.ktap"
phase "guest runner self-test"
selftests/qemu/test_runner.sh 2>&1 | tee "$logs/runner.ktap"
phase "guest suite, stock kernel"
selftests/qemu/guest-suite.sh -K stock | tee "$logs/guest-stock.ktap"
phase "guest suite, debug kernel"
stock_only=$(grep -v '^#' selftests/qemu/check-stock-only | paste -sd, -)
selftests/qemu/guest-suite.sh -K debug -x "$stock_only" | tee "$logs/guest-debug.ktap"

elapsed=$(( $(date +%s) - start ))
echo "=== make check: wall time $((elapsed / 60))m$((elapsed % 60))s; logs in build/logs" >&2
cd "$logs" && "$top/selftests/lib/ktap-summary.sh" host.ktap build.ktap dkms.ktap \
	runner.ktap guest-stock.ktap guest-debug.ktap
