#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Proves the guest test bench catches failures: exit codes, timeouts, kernel WARNINGs, hung and crashed guests.
#
# usage: test_runner.sh [-q] [-K DEBUG_KERNEL_BUILD_DIR]
#   -q  host-only checks of ktap-run.sh / ktap-summary.sh (no QEMU, about 5 s)
#   -K  also case 4 on the debug kernel (build-kernel.sh's output directory): a WARNING
#       and a kmemleak report (vmp_splat.ko leak=1) are both caught (about 40 s)
# Without -q it also builds selftests/qemu/splat (a module that WARNs on load) against
# the stock Debian kernel's headers and boots three guests on that kernel (about a
# minute under TCG):
#   1. plan pass / fail (exit 1) / hang (5 s timeout) / warn (insmod vmp_splat.ko):
#      the summary must say exactly "1 passed, 3 failed" with the right reasons;
#   2. a test that blocks forever under a 40 s whole-run timeout: "guest timed out";
#   3. a test that crashes the kernel (sysrq c): "guest did not finish" + the panic.
# Prints KTAP (one line per assertion, plan at the end) for ktap-summary.sh; work
# files and guest logs stay in build/test-runner/. VMP_KVER / VMP_KERNEL select the
# kernel (default: the newest /lib/modules/*/build and its /boot/vmlinuz).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
lib=$top/selftests/lib
work=$top/build/test-runner
quick=0
debug=
while getopts qK: opt; do
	case $opt in
	q) quick=1 ;;
	K) debug=$OPTARG ;;
	*) echo "usage: test_runner.sh [-q] [-K DEBUG_KERNEL_BUILD_DIR]" >&2; exit 2 ;;
	esac
done

n=0
nfail=0
echo "TAP version 13"
# check NAME COMMAND...: one KTAP result line for an assertion
check() {
	_name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n $_name"
	else
		echo "not ok $n $_name"
		nfail=$((nfail + 1))
		return 1
	fi
}
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }
# show FILE: a file as KTAP diagnostics
show() { sed 's/^/# | /' "$1"; }
now() { date +%s; }

rm -rf "$work"
mkdir -p "$work"

# ---- host checks: ktap-run.sh ----------------------------------------------------
cat > "$work/host.plan" <<'EOF'
# comment, then a blank line

pass 5 echo hello; echo world
fail 5 echo bad >&2; exit 3
skip 5 exit 4
hang 1 sleep 987 & sleep 986; echo never
nonl - printf 'no newline'
EOF
cat > "$work/host.expected" <<'EOF'
TAP version 13
1..5
# ktap-run: begin pass (timeout 5s)
# hello
# world
# ktap-run: end pass (Ns)
ok 1 pass
# ktap-run: begin fail (timeout 5s)
# bad
# ktap-run: end fail (Ns)
not ok 2 fail # exit=3
# ktap-run: begin skip (timeout 5s)
# ktap-run: end skip (Ns)
ok 3 skip # SKIP
# ktap-run: begin hang (timeout 1s)
# ktap-run: end hang (Ns)
not ok 4 hang # TIMEOUT after 1s
# ktap-run: begin nonl (timeout 7s)
# no newline
# ktap-run: end nonl (Ns)
ok 5 nonl
EOF
no_leftovers() { ! pgrep -f 'sleep 98[67]' >/dev/null; }
for sh in dash bash busybox; do
	case $sh in busybox) cmd="busybox sh" ;; *) cmd=$sh ;; esac
	if ! command -v $sh >/dev/null; then
		skip "ktap-run under $sh" "$sh not installed"
		continue
	fi
	$cmd "$lib/ktap-run.sh" -t 7 "$work/host.plan" > "$work/host.$sh.out" 2>&1
	rc=$?
	# (the wall times vary: compared as N, and the hang's checked on its own)
	sed 's/^\(# ktap-run: end [^ ]* (\)[0-9]*s)$/\1Ns)/' "$work/host.$sh.out" > "$work/host.$sh.cmp"
	check "ktap-run under $sh: output" cmp -s "$work/host.expected" "$work/host.$sh.cmp" ||
		diff "$work/host.expected" "$work/host.$sh.cmp" | sed 's/^/# /'
	hang_s=$(sed -n 's/^# ktap-run: end hang (\([0-9]*\)s)$/\1/p' "$work/host.$sh.out")
	check "ktap-run under $sh: end line has the wall time (hang ${hang_s}s of a 1 s timeout)" \
		[ "${hang_s:-0}" -ge 1 -a "${hang_s:-9}" -le 5 ]
	check "ktap-run under $sh: exit 1 when a test failed" [ $rc = 1 ]
	check "ktap-run under $sh: timeout killed the whole process group" no_leftovers
done
printf 'h 5 printf "#  RUN           f.t ...\\n"; sleep 1; printf "#            OK  f.t\\nok 1 f.t\\n"\n' > "$work/times.plan"
sh "$lib/ktap-run.sh" "$work/times.plan" > "$work/times.out" 2>&1
check "ktap-run appends a harness test's seconds to its OK line" \
	grep -Eq '^# #            OK  f\.t \([12]s\)$' "$work/times.out"
printf 'a 5 true\nb 5 false\nab 5 true\n' > "$work/filter.plan"
sh "$lib/ktap-run.sh" -f 'a*' "$work/filter.plan" > "$work/filter.out" 2>&1
check "ktap-run -f runs only matching tests" \
	[ "$(grep -v '^#' "$work/filter.out" | tr '\n' ' ')" = "TAP version 13 1..2 ok 1 a ok 2 ab " ]

# ---- host checks: ktap-summary.sh ---------------------------------------------------
cat > "$work/sum.ktap" <<'EOF'
# vmpager-suite: s1
TAP version 13
1..4
# ktap-run: begin harness (timeout 45s)
# TAP version 13
# 1..3
# # Starting 3 tests from 1 test cases.
# ok 1 global.foo
# not ok 2 global.bar
# # ok 9 deeper nesting is ignored
# # not ok 10 deeper nesting is ignored
# ok 3 global.baz # SKIP no userfaultfd
not ok 1 harness # exit=1
# ktap-run: begin crashy (timeout 45s)
# ok 1 a
not ok 2 crashy # exit=139
# ktap-run: begin warn (timeout 45s)
ok 3 warn
# ktap-run: begin dies (timeout 45s)
not ok - warn # splat: WARNING: CPU: 0 PID: 1 at x.c:1 f
not ok - dies # guest did not finish
not ok - kmemleak scan # splat: kmemleak: 1 new suspected memory leaks
TAP version 13
1..2
ok 1 skipped # SKIP no feature
ok 2 fine
EOF
cat > "$work/sum.expected" <<'EOF'
FAIL s1/harness/global.bar: not ok
FAIL s1/crashy: exit=139 (after 1 passed subtests)
FAIL s1/warn: splat: WARNING: CPU: 0 PID: 1 at x.c:1 f
FAIL s1/dies: guest did not finish
FAIL s1/kmemleak scan: splat: kmemleak: 1 new suspected memory leaks
3 passed, 5 failed, 2 skipped
EOF
sh "$lib/ktap-summary.sh" "$work/sum.ktap" > "$work/sum.out" 2>&1
rc=$?
check "ktap-summary: subtests, records and suites counted" cmp -s "$work/sum.expected" "$work/sum.out" ||
	diff "$work/sum.expected" "$work/sum.out" | sed 's/^/# /'
check "ktap-summary: exit 1 on failures" [ $rc = 1 ]
printf 'TAP version 13\n1..1\nok 1 a # SKIP x\n' | sh "$lib/ktap-summary.sh" > "$work/sum2.out"
rc=$?
check "ktap-summary: all skipped is a success" [ $rc = 0 ] && [ "$(cat "$work/sum2.out")" = "0 passed, 0 failed, 1 skipped" ]
printf 'TAP version 13\n1..0\n' | sh "$lib/ktap-summary.sh" > /dev/null
check "ktap-summary: no test at all is a failure" [ $? = 1 ]
printf 'TAP version 13\n1..3\nok 1 a\n' | sh "$lib/ktap-summary.sh" > "$work/sum3.out"
check "ktap-summary: missing results count as a failure" [ "$(tail -n 1 "$work/sum3.out")" = "1 passed, 1 failed" ]

if [ $quick = 1 ]; then
	echo "1..$n"
	[ $nfail = 0 ]
	exit
fi

# ---- guest case 1: pass, fail, hang, warn -----------------------------------------
kver=${VMP_KVER:-}
if [ -z "$kver" ]; then
	for d in /lib/modules/*/build; do [ -d "$d" ] && kver=$(basename "$(dirname "$d")"); done
fi
kernel=${VMP_KERNEL:-/boot/vmlinuz-$kver}
echo "# kernel $kernel, headers /lib/modules/$kver/build"

mkdir -p "$work/splat"
cp "$here/splat/vmp_splat.c" "$here/splat/Kbuild" "$work/splat/"
t0=$(now)
make -s -C "/lib/modules/$kver/build" M="$work/splat" modules > "$work/splat/build.log" 2>&1
check "splat module builds ($(( $(now) - t0 ))s)" [ -f "$work/splat/vmp_splat.ko" ] || show "$work/splat/build.log"

mkdir -p "$work/bin"
printf '#!/bin/sh\necho "hello from pass"\n' > "$work/bin/pass.sh"
chmod +x "$work/bin/pass.sh"
cat > "$work/case1.plan" <<'EOF'
# test_runner.sh case 1: one pass and three different failures
pass 10 ./pass.sh
fail 10 echo failing on purpose; exit 1
hang 5 sleep 600
warn 30 insmod /modules/vmp_splat.ko
EOF
t0=$(date +%s%N)
"$here/mkinitramfs.sh" -o "$work/case1.cpio.gz" -p "$work/case1.plan" -b "$work/bin" -k "$work/splat" 2> "$work/mkinitramfs.err"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "mkinitramfs builds the image in under 2 s (${ms} ms)" [ $rc = 0 ] && [ $ms -lt 2000 ] || show "$work/mkinitramfs.err"

c1=$work/case1
t0=$(now)
"$here/run-guest.sh" -k "$kernel" -i "$work/case1.cpio.gz" -n case1 -l "$c1" -t 240 > "$c1.out" 2> "$c1.err"
rc=$?
echo "# case 1: run-guest took $(( $(now) - t0 ))s; logs in $c1"
sh "$lib/ktap-summary.sh" "$c1/ktap.log" > "$c1.summary"
sed 's/^/# summary: /' "$c1.summary"
check "case 1: run-guest exits non-zero" [ $rc != 0 ]
check "case 1: summary is exactly 1 passed, 3 failed" [ "$(tail -n 1 "$c1.summary")" = "1 passed, 3 failed" ]
check "case 1: three FAIL lines" [ "$(grep -c '^FAIL ' "$c1.summary")" = 3 ]
check "case 1: fail reported with its exit code" grep -q '^FAIL case1/fail: exit=1$' "$c1.summary"
check "case 1: hang reported as a timeout" grep -q '^FAIL case1/hang: TIMEOUT after 5s$' "$c1.summary"
check "case 1: warn reported as a splat during warn" \
	grep -q '^FAIL case1/warn: splat: WARNING: .*vmp_splat' "$c1.summary"
check "case 1: pass is not a failure and its output is prefixed" \
	eval '! grep -q "^FAIL case1/pass" "$c1.summary" && grep -qx "# hello from pass" "$c1/ktap.log"'
check "case 1: guest finished and the warning is in the console log" \
	eval 'grep -q "vmpager-ktap: done" "$c1/console.log" && grep -q "vmpager deliberate warning for the runner test" "$c1/console.log"'
check "case 1: no kernel message in the KTAP channel" eval '! grep -q "^\[ *[0-9]*\.[0-9]*\]" "$c1/ktap.log"'
check "case 1: stdout of run-guest is the KTAP with the records" \
	eval 'sh "$lib/ktap-summary.sh" - < "$c1.out" | tail -n 1 | grep -qx "1 passed, 3 failed"'
[ $nfail = 0 ] || { show "$c1.err"; }

# ---- guest case 2: a guest that never finishes -------------------------------------
cat > "$work/case2.plan" <<'EOF'
# test_runner.sh case 2: the whole-run timeout catches a guest that blocks
pass 10 true
block 600 sleep 100000
EOF
"$here/mkinitramfs.sh" -o "$work/case2.cpio.gz" -p "$work/case2.plan"
c2=$work/case2
t0=$(now)
"$here/run-guest.sh" -k "$kernel" -i "$work/case2.cpio.gz" -n case2 -l "$c2" -t 40 > "$c2.out" 2> "$c2.err"
rc=$?
secs=$(( $(now) - t0 ))
echo "# case 2: run-guest took ${secs}s; logs in $c2"
sh "$lib/ktap-summary.sh" "$c2/ktap.log" > "$c2.summary"
sed 's/^/# summary: /' "$c2.summary"
check "case 2: run-guest exits non-zero" [ $rc != 0 ]
check "case 2: QEMU killed at the 40 s whole-run timeout (${secs}s)" [ $secs -lt 60 ]
check "case 2: run-guest says guest timed out, with the console tail" \
	eval 'grep -q "guest timed out after 40s; last 30 console lines" "$c2.err" && [ "$(grep -c "^  | " "$c2.err")" -ge 1 ]'
check "case 2: summary names the blocked test" grep -q '^FAIL case2/block: guest timed out after 40s (test block was running)$' "$c2.summary"
check "case 2: summary is exactly 1 passed, 1 failed" [ "$(tail -n 1 "$c2.summary")" = "1 passed, 1 failed" ]

# ---- guest case 3: a test that crashes the kernel ---------------------------------
cat > "$work/case3.plan" <<'EOF'
# test_runner.sh case 3: a kernel crash ends the guest early
pass 10 true
crash 30 echo c > /proc/sysrq-trigger
after 10 true
EOF
"$here/mkinitramfs.sh" -o "$work/case3.cpio.gz" -p "$work/case3.plan"
c3=$work/case3
t0=$(now)
"$here/run-guest.sh" -k "$kernel" -i "$work/case3.cpio.gz" -n case3 -l "$c3" -t 120 > "$c3.out" 2> "$c3.err"
rc=$?
echo "# case 3: run-guest took $(( $(now) - t0 ))s; logs in $c3"
sh "$lib/ktap-summary.sh" "$c3/ktap.log" > "$c3.summary"
sed 's/^/# summary: /' "$c3.summary"
check "case 3: run-guest exits non-zero" [ $rc != 0 ]
check "case 3: the crash is a splat during crash" grep -q '^FAIL case3/crash: splat: .*\(Kernel panic\|Oops\|BUG:\)' "$c3.summary"
check "case 3: the unfinished guest is reported" grep -q '^FAIL case3/crash: guest did not finish.*test crash was running' "$c3.summary"
check "case 3: summary is exactly 1 passed, 1 failed" [ "$(tail -n 1 "$c3.summary")" = "1 passed, 1 failed" ]

# ---- guest case 4 (with -K): the debug kernel catches a WARNING and a leak --------
if [ -n "$debug" ]; then
	mkdir -p "$work/splat-debug"
	cp "$here/splat/vmp_splat.c" "$here/splat/Kbuild" "$work/splat-debug/"
	make -s -C "$debug" M="$work/splat-debug" modules > "$work/splat-debug/build.log" 2>&1
	check "case 4: splat module builds for the debug kernel" [ -f "$work/splat-debug/vmp_splat.ko" ] ||
		show "$work/splat-debug/build.log"
	cat > "$work/case4.plan" <<'EOF'
# test_runner.sh case 4: WARNING and kmemleak on the debug kernel
pass 10 true
warn 60 insmod /modules/vmp_splat.ko && rmmod vmp_splat
leak 60 insmod /modules/vmp_splat.ko leak=1
EOF
	"$here/mkinitramfs.sh" -o "$work/case4.cpio.gz" -p "$work/case4.plan" -k "$work/splat-debug"
	c4=$work/case4
	t0=$(now)
	"$here/run-guest.sh" -k "$debug/arch/x86/boot/bzImage" -i "$work/case4.cpio.gz" -n case4 -l "$c4" -t 300 > "$c4.out" 2> "$c4.err"
	rc=$?
	echo "# case 4: run-guest took $(( $(now) - t0 ))s; logs in $c4"
	sh "$lib/ktap-summary.sh" "$c4/ktap.log" > "$c4.summary"
	sed 's/^/# summary: /' "$c4.summary"
	check "case 4: run-guest exits non-zero" [ $rc != 0 ]
	check "case 4: warn reported as a splat" grep -q '^FAIL case4/warn: splat: WARNING: .*vmp_splat' "$c4.summary"
	check "case 4: the leak reported by the kmemleak scan" \
		grep -q '^FAIL case4/kmemleak scan: splat: kmemleak: .* new suspected memory leaks' "$c4.summary"
	check "case 4: summary is exactly 2 passed, 2 failed" [ "$(tail -n 1 "$c4.summary")" = "2 passed, 2 failed" ]
fi

echo "1..$n"
[ $nfail = 0 ]
