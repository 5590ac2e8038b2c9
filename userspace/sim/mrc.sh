#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Miss-ratio curves: every policy and OPT through vmpsim at 12 cache sizes
# from 2% to 100% of each trace's distinct blocks.
#
# usage: mrc.sh [-p POLICIES] [-o DIR] [TRACE...]
#   -p  vmpsim's -p list (default: all)
#   -o  where policy_sweep.csv and policy.png go (default: build/sim/mrc)
#   TRACE...  default: the repository's userspace/sim/traces/*.trace.gz
# Writes DIR/policy_sweep.csv (vmpsim's csv columns) and, with gnuplot,
# DIR/policy.png (one panel per trace). Exit status: vmpsim's or gnuplot's
# first failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
pols=all
dir=$top/build/sim/mrc
while getopts p:o: opt; do
	case $opt in
	p) pols=$OPTARG ;;
	o) dir=$OPTARG ;;
	*) echo "usage: mrc.sh [-p POLICIES] [-o DIR] [TRACE...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- "$top"/userspace/sim/traces/*.trace.gz
for t in "$@"; do
	[ -r "$t" ] || { echo "mrc.sh: $t: no such trace" >&2; exit 2; }
done
make -s -C "$top/userspace/sim" >&2 || exit 1
sim=$top/build/sim/vmpsim
mkdir -p "$dir" || exit 1
status=0
csv=$dir/policy_sweep.csv
echo "trace,size,policy,refs,misses,ratio_to_opt" > "$csv"
for t in "$@"; do
	case $t in
	*.gz) blocks=$(gzip -dc "$t" | grep -v '^\*' | sort -u | wc -l) ;;
	*) blocks=$(grep -v '^\*' "$t" | sort -u | wc -l) ;;
	esac
	sizes=$(awk -v b="$blocks" 'BEGIN { n = split("2 5 10 15 20 30 40 50 60 70 85 100", f, " ");
		for (i = 1; i <= n; i++) { s = int(b * f[i] / 100); if (s < 2) s = 2;
		if (!(s in seen)) { seen[s] = 1; printf "%s%d", (c++ ? "," : ""), s } } }')
	"$sim" -p "$pols" -c "$sizes" --csv "$dir/sweep.tmp" "$t" > /dev/null || status=1
	tail -n +2 "$dir/sweep.tmp" >> "$csv"
done
rm -f "$dir/sweep.tmp"
# one run of rows per trace and policy, by size: the plot's lines join them
{ head -n 1 "$csv"; tail -n +2 "$csv" | sort -t, -k1,1 -k3,3 -k2,2n; } > "$dir/sweep.tmp" &&
	mv "$dir/sweep.tmp" "$csv"
if ! command -v gnuplot > /dev/null; then
	echo "mrc.sh: no gnuplot (apt-get install gnuplot-nox): policy.png not drawn" >&2
	exit $status
fi
trs=$(tail -n +2 "$csv" | cut -d, -f1 | awk '!s[$0]++' | tr '\n' ' ')
pl=$(tail -n +2 "$csv" | cut -d, -f3 | awk '$0 != "opt" && $0 != "adaptive" && !s[$0]++' | tr '\n' ' ')
gnuplot 2> "$dir/policy.gnuplot.err" <<-GP || status=1
	set terminal pngcairo size 1500,1100 font 'sans,9' noenhanced
	set output '$dir/policy.png'
	set datafile separator ','
	set multiplot layout 3,3 title 'Miss ratio vs cache size per policy (vmpsim; the module runs the same policy code)'
	set xlabel 'cache size (blocks)'; set ylabel 'miss ratio'; set grid; set key top right
	do for [t in "$trs"] {
		set title t
		plot for [p in "$pl"] '$csv' using (strcol(1) eq t && strcol(3) eq p ? \$2 : NaN):(\$5/\$4) with linespoints lw 1.2 title p, \\
			'$csv' using (strcol(1) eq t && strcol(3) eq 'adaptive' ? \$2 : NaN):(\$5/\$4) with linespoints lw 2.5 lc rgb 'red' title 'adaptive', \\
			'$csv' using (strcol(1) eq t && strcol(3) eq 'opt' ? \$2 : NaN):(\$5/\$4) with lines lw 3 dt 2 lc rgb 'black' title 'opt' 
	}
	unset multiplot
GP
[ -s "$dir/policy.gnuplot.err" ] && { cat "$dir/policy.gnuplot.err" >&2; status=1; }
rm -f "$dir/policy.gnuplot.err"
exit $status
