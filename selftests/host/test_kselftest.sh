#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Proves selftests/vmpager works as a kernel developer would use it: copied
# into a kernel tree's tools/testing/selftests (the kernel's own lib.mk,
# runner and harness, from Debian's linux-source tarball) by "make
# kselftest-install", built there by lib.mk, and run by "make run_tests":
# every program is reported, and on this machine (no vmpager.ko for the
# running kernel) each one skips with its reason instead of failing; as a
# user other than root each skips saying it needs root. KTAP.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
tarball=${KSRC_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
echo "TAP version 13"
echo "1..6"
if [ ! -r "$tarball" ]; then
	for i in 1 2 3 4 5 6; do echo "ok $i kselftest # SKIP no $tarball"; done
	exit 0
fi
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
n=0 failed=0
result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=1; fi
}
diag() { sed 's/^/# /'; }

kt=$(tar -tJf "$tarball" 2>/dev/null | head -n 1 | cut -d/ -f1)
xz -T2 -dc "$tarball" | tar -x -C "$w" \
	"$kt/tools/testing/selftests/lib.mk" \
	"$kt/tools/testing/selftests/kselftest.h" \
	"$kt/tools/testing/selftests/kselftest_harness.h" \
	"$kt/tools/testing/selftests/kselftest" 2>"$w/tar.log"
ksft=$w/$kt/tools/testing/selftests
progs=$(cd "$top/selftests/vmpager" && ls test_*.c | sed 's/\.c$//')
nprogs=$(echo "$progs" | wc -w)

# 1: the copy
make -s -C "$top/selftests/vmpager" kselftest-install KSFT_DIR="$ksft" \
	O="$w/bin" >"$w/install.log" 2>&1
rc=$?
[ $rc = 0 ] && [ -f "$ksft/vmpager/settings" ] && [ -f "$ksft/vmpager/config" ] &&
	[ -f "$ksft/vmpager/vmpager-src/uapi/vmpager.h" ] && [ -s "$ksft/vmpager/traces/cpp.trace" ]
rc=$?
[ $rc = 0 ] || diag <"$w/install.log"
result $rc "kselftest.install_copies_sources_settings_config_and_traces"

# 2: built by the kernel's lib.mk, one program per test_*.c
make -C "$ksft/vmpager" >"$w/build.log" 2>&1
rc=$? bad=
for p in $progs; do [ -x "$ksft/vmpager/$p" ] || bad="$bad $p"; done
[ $rc = 0 ] && [ -z "$bad" ]
rc=$?
[ $rc = 0 ] || { echo "missing:$bad"; tail -n 20 "$w/build.log"; } | diag
result $rc "kselftest.lib_mk_builds_every_program # $nprogs programs"

# 3: the settings file carries the longest plan timeout
want=$(awk '!/^#/ && NF >= 3 && $2 ~ /^[0-9]+$/ { if ($2 > m) m = $2 } END { print m }' \
	"$top/selftests/vmpager/plan")
got=$(sed -n 's/^timeout=//p' "$ksft/vmpager/settings")
[ -n "$want" ] && [ "$got" = "$want" ]
result $? "kselftest.settings_timeout_covers_the_plan # timeout=$got"

# 4-5: run_tests through the kernel's runner; no module for this kernel
VMP_KO=$w/no-such-vmpager.ko make -C "$ksft/vmpager" run_tests >"$w/run.log" 2>&1
skips=$(grep -c '^ok [0-9]* selftests: vmpager: test_.* # SKIP' "$w/run.log")
notok=$(grep -c '^not ok' "$w/run.log")
[ "$skips" = "$nprogs" ] && [ "$notok" = 0 ]
rc=$?
[ $rc = 0 ] || tail -n 30 "$w/run.log" | diag
result $rc "kselftest.run_tests_reports_every_program_skipped_without_a_module # $skips of $nprogs"
# (not root: every program says that first)
if [ "$(id -u)" = 0 ]; then
	grep -q '1\.\.0 # SKIP no module to load: .*no-such-vmpager.ko' "$w/run.log"
else
	grep -q '1\.\.0 # SKIP needs root' "$w/run.log"
fi
rc=$?
[ $rc = 0 ] || head -n 20 "$w/run.log" | diag
result $rc "kselftest.skip_says_why"

# 6: not root: skipped, saying so
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod -R a+rX "$w"
	out=$(cd "$ksft/vmpager" && setpriv --reuid=65534 --regid=65534 --clear-groups \
		./test_basic 2>&1)
	rc=$?
	[ $rc = 4 ] && echo "$out" | grep -q '1\.\.0 # SKIP needs root'
	rc2=$?
	[ $rc2 = 0 ] || echo "exit $rc: $out" | diag
	result $rc2 "kselftest.not_root_skips_saying_so"
else
	n=$((n + 1)); echo "ok $n kselftest.not_root_skips_saying_so # SKIP not root or no setpriv"
fi
[ $failed = 0 ]
