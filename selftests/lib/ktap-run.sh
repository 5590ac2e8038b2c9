#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs a plan of test commands and prints one KTAP top level for them (kselftest style).
#
# usage: ktap-run.sh [-t DEFAULT_TIMEOUT] [-f GLOB] PLANFILE
#
# Plan lines: NAME TIMEOUT_SECONDS COMMAND...   ('#' comments and blank lines ignored).
# TIMEOUT "-" means the default (-t, else 45 s, the kselftest default). COMMAND runs
# under "sh -c" in its own session/process group, with stdin from /dev/null; at the
# timeout the whole group gets SIGKILL, and any process the test left behind in its
# group is killed when the test ends. Every line it prints is streamed with a "# "
# prefix, after a "# ktap-run: begin NAME (timeout Ts)" line (like the kselftest
# runner's "# selftests: DIR: NAME"), and a "# ktap-run: end NAME (Ns)" line
# with its wall time before its result line; a kselftest harness's
# "#  OK  fixture.test" line gets that test's seconds appended, " (Ns)". Exit 0 = ok, 4 = SKIP (kselftest convention), anything else = not ok.
# -f GLOB runs only the tests whose NAME matches the shell pattern GLOB (or any
# of several, comma separated: -f 'basic,swap*').
# With VMP_KMSG_MARKERS=1 and a writable /dev/kmsg, "vmpager-ktap: begin NAME" and
# "vmpager-ktap: end NAME" go to the kernel log around each test, so that kernel
# splats can be attributed to the test that was running (see run-guest.sh).
# Exit status: 0 if no test failed, 1 otherwise, 2 on usage errors.
# POSIX sh: runs under busybox sh (guest), dash and bash (host).

default_timeout=45
only=
usage() { echo "usage: ktap-run.sh [-t DEFAULT_TIMEOUT] [-f GLOB] PLANFILE" >&2; exit 2; }
while getopts t:f:h opt; do
	case $opt in
	t) default_timeout=$OPTARG ;;
	f) only=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
plan=$1
[ -r "$plan" ] || { echo "ktap-run: cannot read plan $plan" >&2; exit 2; }
case $default_timeout in ''|*[!0-9]*) echo "ktap-run: bad default timeout '$default_timeout'" >&2; exit 2 ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ktap-run.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

have_setsid=0
command -v setsid >/dev/null 2>&1 && have_setsid=1

kmsg() {
	if [ "${VMP_KMSG_MARKERS:-0}" = 1 ] && [ -w /dev/kmsg ]; then
		echo "vmpager-ktap: $*" > /dev/kmsg 2>/dev/null
	fi
}

# selected NAME: true if the test is to be run under -f (GLOB[,GLOB...])
selected() {
	[ -z "$only" ] && return 0
	set -f
	_ifs=$IFS
	IFS=,
	for _g in $only; do
		case $1 in $_g) IFS=$_ifs; set +f; return 0 ;; esac
	done
	IFS=$_ifs
	set +f
	return 1
}

# Count the tests first: KTAP wants the plan line before the results.
total=0
while read -r name rest; do
	case $name in ''|'#'*) continue ;; esac
	selected "$name" && total=$((total + 1))
done < "$plan"

echo "TAP version 13"
echo "1..$total"

# run_one TIMEOUT COMMAND: sets rc and timed_out
run_one() {
	_t=$1 _cmd=$2
	rm -f "$tmp/out" "$tmp/timedout"
	mkfifo "$tmp/out" || { rc=125; timed_out=0; return; }
	# The reader: prefixes every line (also a last one without newline),
	# unbuffered; a kselftest harness's "OK"/"FAIL" line of a test gets the
	# seconds since its "RUN" line appended, " (Ns)".
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		'#  RUN  '*) t_run=$(date +%s) ;;
		'#   '*' OK  '*|'#   '*' FAIL  '*)
			[ -n "${t_run:-}" ] && line="$line ($(( $(date +%s) - t_run ))s)"
			t_run= ;;
		esac
		printf '# %s\n' "$line"
	done < "$tmp/out" &
	reader=$!
	# The test: a new session makes it a process-group leader (pid == pgid), so the
	# whole group can be killed. Background jobs of a non-interactive shell are never
	# group leaders, so setsid does not fork and $! is the test's own pid.
	if [ $have_setsid = 1 ]; then
		setsid sh -c "$_cmd" < /dev/null > "$tmp/out" 2>&1 &
	else
		sh -c "$_cmd" < /dev/null > "$tmp/out" 2>&1 &
	fi
	pid=$!
	# The watchdog lives in its own group too, so killing it also kills its sleep.
	wd_cmd="sleep $_t; : > '$tmp/timedout'; kill -KILL -$pid 2>/dev/null || kill -KILL $pid 2>/dev/null"
	if [ $have_setsid = 1 ]; then
		setsid sh -c "$wd_cmd" < /dev/null > /dev/null 2>&1 &
	else
		sh -c "$wd_cmd" < /dev/null > /dev/null 2>&1 &
	fi
	wd=$!
	wait $pid 2>/dev/null
	rc=$?
	# Stop the watchdog (and its sleep), then reap leftovers of the test's group.
	if [ $have_setsid = 1 ]; then
		kill -KILL -$wd 2>/dev/null || kill -KILL $wd 2>/dev/null
		kill -KILL -$pid 2>/dev/null
	else
		kill -KILL $wd 2>/dev/null
	fi
	wait $wd 2>/dev/null
	# The reader ends when the last writer of the fifo is gone.
	wait $reader
	timed_out=0
	[ -e "$tmp/timedout" ] && timed_out=1
}

n=0
failed=0
while read -r name t cmd; do
	case $name in ''|'#'*) continue ;; esac
	selected "$name" || continue
	n=$((n + 1))
	[ "$t" = - ] && t=$default_timeout
	case $t in
	''|*[!0-9]*|0)
		echo "# ktap-run: bad timeout '$t' in plan line for $name"
		echo "not ok $n $name # bad plan line"
		failed=$((failed + 1))
		continue ;;
	esac
	if [ -z "$cmd" ]; then
		echo "# ktap-run: no command in plan line for $name"
		echo "not ok $n $name # bad plan line"
		failed=$((failed + 1))
		continue
	fi
	echo "# ktap-run: begin $name (timeout ${t}s)"
	kmsg "begin $name"
	t0=$(date +%s)
	run_one "$t" "$cmd" < /dev/null
	echo "# ktap-run: end $name ($(( $(date +%s) - t0 ))s)"
	if [ $timed_out = 1 ]; then
		echo "not ok $n $name # TIMEOUT after ${t}s"
		failed=$((failed + 1))
	elif [ $rc = 0 ]; then
		echo "ok $n $name"
	elif [ $rc = 4 ]; then
		echo "ok $n $name # SKIP"
	else
		echo "not ok $n $name # exit=$rc"
		failed=$((failed + 1))
	fi
	kmsg "end $name"
done < "$plan"

[ $failed = 0 ]
