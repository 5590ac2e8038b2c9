#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Summarises KTAP logs (ktap-run.sh output, run-guest.sh records) into failures and one count line.
#
# usage: ktap-summary.sh [LABEL=]FILE...      ("-" or no FILE: standard input)
#
# Prints one line per failure, "FAIL SUITE/TEST: reason" (SUITE/TEST/SUBTEST for a
# failing subtest), then one closing line alone: "N passed, N failed" or
# "N passed, N failed, N skipped" (the latter when something was skipped).
# Exit status 0 only if nothing failed and at least one test passed or skipped.
#
# Input: any number of KTAP top levels, in one or several files. A top-level
# "TAP version"/"KTAP version" line starts a new suite, and so does each FILE. The
# suite label is, by priority, a "# vmpager-suite: LABEL" line in the stream, the
# LABEL= of the argument, the directory name for a file called ktap.log, else the file
# name without extension.
# Counting (see docs/testing.md):
#  - subtests are "# ok N name" / "# not ok N name" lines (a program's own KTAP, which
#    ktap-run.sh prefixes with "# "); deeper "# # " lines are ignored; a subtest
#    "# SKIP" counts as skipped, "# XFAIL" as passed, "# TODO" as skipped;
#  - a top-level "not ok" whose program printed no failing subtest counts as one extra
#    failure (crash, timeout, non-zero exit); a top-level ok / SKIP with no subtests
#    counts as one pass / skip;
#  - a record "not ok - NAME # REASON" (no number; appended by run-guest.sh for a kernel
#    splat or an unfinished / timed-out guest) marks test NAME of the suite failed: it
#    turns one of that test's passes (else skips) into a failure, adds nothing if the
#    test already failed, and counts one failure if NAME reported nothing (boot,
#    "kmemleak scan", a test the guest never finished);
#  - a suite that planned more tests than it reported, and has no such record, counts
#    one failure.

set -u
args=
# q STRING: STRING quoted for eval
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
if [ $# -eq 0 ]; then set -- -; fi
for a in "$@"; do
	case $a in
	*=*) label=${a%%=*} file=${a#*=} ;;
	*) label= file=$a ;;
	esac
	if [ "$file" != - ]; then
		[ -r "$file" ] || { echo "ktap-summary: cannot read $file" >&2; exit 2; }
		if [ -z "$label" ]; then
			base=$(basename "$file")
			if [ "$base" = ktap.log ]; then
				label=$(basename "$(cd "$(dirname "$file")" && pwd)")
			else
				label=${base%.*}
			fi
		fi
		case $file in /*) ;; *) file=./$file ;; esac
	fi
	# awk operands: the assignment "argl=LABEL", then FILE
	args="$args $(q "argl=$label") $(q "$file")"
done

eval "set -- $args"
exec awk '
function reset_suite(lbl) {
	if (insuite) end_suite()
	insuite = 1; label = lbl; planned = -1; reported = 0; records = 0
	split("", tpass); split("", tskip); split("", tfail)
	clear_subs(); current = ""
}
function clear_subs() { sp = 0; sf = 0; ss = 0; nsubfail = 0; split("", subfail); split("", subwhy) }
function who(t) { return (label != "" ? label "/" : "") t }
function fail(t, why) { print "FAIL " who(t) ": " why }
# parse a result line (without its "# " prefix): sets r_ok, r_num, r_name, r_dir
function parse(s,    i) {
	r_ok = (substr(s, 1, 3) == "ok ") || s == "ok"
	sub(/^(not )?ok/, "", s)
	r_num = ""
	if (match(s, /^ [0-9]+/)) { r_num = substr(s, 2, RLENGTH - 1); s = substr(s, RLENGTH + 1) }
	sub(/^ /, "", s); sub(/^- /, "", s)
	r_dir = ""
	i = index(s, " # ")
	if (i) { r_dir = substr(s, i + 3); s = substr(s, 1, i - 1) }
	else if (substr(s, 1, 2) == "# ") { r_dir = substr(s, 3); s = "" }
	r_name = s
}
function kind(ok, dir,    d) {
	d = toupper(dir)
	if (d ~ /^SKIP/ || d ~ /^TODO/) return "skip"
	if (d ~ /^XFAIL/) return "pass"
	return ok ? "pass" : "fail"
}
# account the subtests collected for top-level test t
function flush_subs(t,    i) {
	passed += sp; skipped += ss; failed += sf
	tpass[t] += sp; tskip[t] += ss
	if (sf) tfail[t] = 1
	for (i = 1; i <= nsubfail; i++) fail(t "/" subfail[i], subwhy[i])
}
function top(s,    k, t, why) {
	parse(s); t = r_name; k = kind(r_ok, r_dir); reported++
	if (t == "") t = "#" r_num
	if (sp + sf + ss > 0) {
		flush_subs(t)
		if (k == "fail" && sf == 0) {
			failed++; tfail[t] = 1
			fail(t, (r_dir != "" ? r_dir : "not ok") " (after " sp " passed subtests)")
		}
	} else if (k == "pass") { passed++; tpass[t]++ }
	else if (k == "skip") { skipped++; tskip[t]++ }
	else { failed++; tfail[t] = 1; fail(t, r_dir != "" ? r_dir : "not ok") }
	clear_subs(); current = ""
}
function record(s,    t, why, i) {
	s = substr(s, 10)           # after "not ok - "
	i = index(s, " # ")
	if (i) { t = substr(s, 1, i - 1); why = substr(s, i + 3) } else { t = s; why = "failed" }
	if (sp + sf + ss > 0) { flush_subs(current != "" ? current : "(unfinished)"); clear_subs() }
	records++
	fail(t, why)
	if (t in tfail) return
	tfail[t] = 1
	if (tpass[t] > 0) { tpass[t]--; passed--; failed++ }
	else if (tskip[t] > 0) { tskip[t]--; skipped--; failed++ }
	else failed++
}
function end_suite() {
	if (sp + sf + ss > 0) flush_subs(current != "" ? current : "(unfinished)")
	clear_subs()
	if (planned > reported && records == 0) {
		failed++
		fail(current != "" ? current : "(suite)", "only " reported " of " planned " planned tests reported")
	}
	insuite = 0
}
BEGIN { insuite = 0; passed = failed = skipped = 0 }
FNR == 1 { reset_suite(argl) }
{ sub(/\r$/, "") }
/^# vmpager-suite: / {
	if (reported > 0 || planned >= 0) reset_suite(argl)
	label = substr($0, 18); next
}
/^K?TAP version / { if (reported > 0 || planned >= 0) reset_suite(argl); next }
/^1\.\.[0-9]+/ { planned = substr($1, 4) + 0; next }
/^not ok - / { record($0); next }
/^(not )?ok( |$)/ { top($0); next }
/^# ktap-run: begin / { current = $4; next }
/^# (not )?ok( |$)/ {
	parse(substr($0, 3)); k = kind(r_ok, r_dir)
	if (k == "pass") sp++; else if (k == "skip") ss++
	else {
		sf++; subfail[++nsubfail] = (r_name != "" ? r_name : "#" r_num)
		subwhy[nsubfail] = (r_dir != "" ? "not ok # " r_dir : "not ok")
	}
	next
}
END {
	if (insuite) end_suite()
	if (skipped) printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped
	else printf "%d passed, %d failed\n", passed, failed
	exit !(failed == 0 && passed + skipped > 0)
}
' "$@"
