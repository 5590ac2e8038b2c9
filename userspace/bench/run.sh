#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench / make bench-quick: every benchmark of issue 8, results in build/bench/.
#
# usage: run.sh [-q] [-K stock|debug] [-o GLOB] [-n]
#   -q  quick: userspace/bench/plan-quick, small sizes, results in build/bench/quick/
#   -K  the guest kernel (default stock; benchmarks on the debug kernel measure KASAN)
#   -o  run only the guest plan lines whose name matches GLOB
#   -n  no guest run: rebuild CSVs, plots and the table from the last ktap.log
#
# 1. policy quality on the host: vmpsim over the traces at their README sizes
#    (policy.csv) and over a range of sizes (policy_sweep.csv);
# 2. the guest benchmarks (selftests/qemu/guest-suite.sh -B PLAN); their KTAP
#    stream is ktap.log, progress goes to the terminal as it arrives;
# 3. the "# csvh/csv FILE" lines become FILE in the results folder, "# result"
#    lines summary.csv; the module's trace replay is set beside vmpsim;
# 4. gnuplot PNGs, the table (figure, baseline, ratio, better direction) on
#    stdout and in table.txt / table.md, the machine in machine.txt.
# Exit status: non-zero if a benchmark failed (a row "not ok" or a splat).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
quick=0 K=stock only= noguest=0
while getopts qK:o:n opt; do
	case $opt in
	q) quick=1 ;;
	K) K=$OPTARG ;;
	o) only=$OPTARG ;;
	n) noguest=1 ;;
	*) sed -n '3,8p' "$0" >&2; exit 2 ;;
	esac
done
if [ $quick = 1 ]; then
	plan=$top/userspace/bench/plan-quick out=$top/build/bench/quick
else
	plan=$top/userspace/bench/plan out=$top/build/bench
fi
traces=${TRACES:-$top/userspace/sim/traces}
start=$(date +%s)
say() { printf '[bench %3ds] %s\n' $(( $(date +%s) - start )) "$*" >&2; }
mkdir -p "$out"
status=0

# ---- 1. policy quality: the simulator on the host --------------------------------
make -s -C "$top/userspace/sim" >&2 || exit 1
sim=$top/build/sim/vmpsim
if [ -n "$traces" ] && ls "$traces"/*.trace.gz >/dev/null 2>&1; then
	say "policy: vmpsim on $(ls "$traces"/*.trace.gz | wc -l) traces in $traces"
	"$sim" --csv "$out/policy.csv" "$traces"/*.trace.gz > "$out/policy.txt" || status=1
	# Miss ratio vs cache size: 12 sizes from 2% to 100% of each trace's
	# blocks (userspace/sim/mrc.sh: policy_sweep.csv and policy.png)
	"$top/userspace/sim/mrc.sh" -o "$out/mrc" "$traces"/*.trace.gz || status=1
	cp "$out/mrc/policy_sweep.csv" "$out/policy_sweep.csv" 2>/dev/null
else
	say "policy: no traces (set TRACES=dir with *.trace.gz); skipped"
	rm -f "$out/policy.csv" "$out/policy_sweep.csv" "$out/policy.txt"
fi

# ---- 2. the guest ------------------------------------------------------------------
ktap=$out/ktap.log
if [ $noguest = 0 ]; then
	say "guest: $(grep -cv '^\s*\(#\|$\)' "$plan") benchmarks from ${plan#"$top"/} on the $K kernel (build, boot, run)"
	args=(-K "$K" -B "$plan")
	[ -z "$only" ] || args+=(-o "$only")
	"$top/selftests/qemu/guest-suite.sh" "${args[@]}" 2> "$out/guest.stderr" | tee "$ktap" |
	while IFS= read -r l; do
		case $l in
		"# ktap-run: begin "*) set -- ${l#"# ktap-run: begin "}; say "guest: $1 ${*:2}" ;;
		"# progress "*) say "  ${l#"# progress "}" ;;
		"# result "*) say "    ${l#"# result "}" ;;
		"# check failed: "*) say "  !! ${l#"# "}" ;;
		"not ok "*|"ok "*) say "guest: $l" ;;
		esac
	done
	rc=${PIPESTATUS[0]}
	if [ "$rc" != 0 ]; then
		status=1
		say "guest run failed (exit $rc); last lines of its stderr:"
		tail -n 15 "$out/guest.stderr" >&2
	fi
fi
[ -r "$ktap" ] || { say "no $ktap: nothing to report"; exit 1; }

# ---- 3. CSVs and the summary ---------------------------------------------------------
# Guest CSVs are rewritten from this run only.
for f in fault touch overcommit swap swapin_cdf daemon umap replay file summary; do rm -f "$out/$f.csv"; done
awk -v out="$out" '
	/^# csvh / { f = out "/" $3; if (!(f in head)) { head[f] = 1; sub(/^# csvh [^ ]+ /, ""); print > f } next }
	/^# csv /  { f = out "/" $3; sub(/^# csv [^ ]+ /, ""); print >> f; next }
' "$ktap"
{
	echo "figure,backend,unit,vmpager,baseline_name,baseline,ratio,better,note"
	awk '/^# result / {
		if ($5 == "skipped:") { n = $0; sub(/^.*skipped: /, "", n); gsub(/,/, ";", n);
			printf "%s,%s,,,,,,,skipped: %s\n", $3, $4, n }
		else printf "%s,%s,%s,%s,%s,%s,%s,%s,\n", $3, $4, $5, $6, $7, $8, $9, $10 }' "$ktap"
} > "$out/summary.csv"

# The module's trace replay beside vmpsim (same policy source, same size).
if [ -s "$out/replay.csv" ] && [ -n "$traces" ]; then
	tail -n +2 "$out/replay.csv" | while IFS=, read -r tr be size pool pol refs distinct misses secs src passes hns hptes; do
		[ -r "$traces/$tr.trace.gz" ] || continue
		"$sim" -c "$size" -p "$pol" --csv "$out/replay.tmp" "$traces/$tr.trace.gz" >/dev/null || continue
		# the figure is replay-TRACE@SIZE-POLICY/SOURCE
		awk -F, -v tr="$tr" -v be="$be" -v pol="$pol" -v m="$misses" -v size="$size" -v src="${src:-faults}" '
			NR > 1 && $3 == "opt" { opt = $5 } NR > 1 && $3 == pol { sim = $5 }
			END { if (sim > 0) printf "replay-%s@%d-%s/%s,%s,misses,%d,vmpsim-%s,%d,%.4f,lower,module/OPT %.2f\n",
				tr, size, pol, src, be, m, pol, sim, m / sim, (opt > 0 ? m / opt : 0) }' "$out/replay.tmp"
	done >> "$out/summary.csv"
	rm -f "$out/replay.tmp"
fi

# ---- 4. plots -----------------------------------------------------------------------------
# gnuplot joins the points of a series only where its rows are adjacent: sort
# the rows by series (header kept).
sort_csv() {	# sort_csv FILE SORT-KEYS...
	[ -s "$1" ] || return 0
	local f=$1; shift
	{ head -n 1 "$f"; tail -n +2 "$f" | sort -t, "$@"; } > "$f.tmp" && mv "$f.tmp" "$f"
}
sort_csv "$out/overcommit.csv" -k3,3 -k1,1 -k2,2n
sort_csv "$out/policy_sweep.csv" -k1,1 -k3,3 -k2,2n
plot() {	# plot NAME: gnuplot script on stdin -> NAME.png
	if ! command -v gnuplot >/dev/null; then
		say "no gnuplot (apt-get install gnuplot-nox): $1.png not drawn"
		return
	fi
	gnuplot 2> "$out/$1.gnuplot.err" || { say "gnuplot failed for $1.png: $(head -3 "$out/$1.gnuplot.err")"; status=1; }
	[ -s "$out/$1.gnuplot.err" ] || rm -f "$out/$1.gnuplot.err"
}
rm -f "$out"/*.png
term="set terminal pngcairo size 1200,800 font 'sans,10' noenhanced"
# Each backend has one colour; its own baseline, measured in the same run,
# is the dashed curve of that colour (swapin_cdf); the overcommit panels show
# the ratio vmpager / kernel swap per backend, as the text quotes it.
if [ -s "$out/swapin_cdf.csv" ]; then
	clauses=$(tail -n +2 "$out/swapin_cdf.csv" | cut -d, -f1,2 | awk -F, '
		!seen[$0]++ {
			if (!($1 in col)) col[$1] = ++nb
			dt = $2 == "odirect-pread-4k" ? 2 : $2 == "swapin" ? 1 : 4
			printf "%s\x27'"$out"'/swapin_cdf.csv\x27 using (strcol(1) eq \x27%s\x27 && strcol(2) eq \x27%s\x27 ? $4 : NaN):3 with lines lw 2 lc %d dt %d title \x27%s: %s\x27",
				n++ ? ", " : "", $1, $2, col[$1], dt, $1, $2
		}')
	plot swapin_cdf <<-EOF
	$term
	set output '$out/swapin_cdf.png'
	set datafile separator ','
	set title "Swap-in major fault latency (solid) and each backend's own 4 KiB O_DIRECT pread of its swap file (dashed), CDF"
	set xlabel 'latency (us, log scale)'; set ylabel 'fraction of samples'
	set logscale x; set key bottom right; set grid
	plot $clauses
	EOF
fi
if [ -s "$out/overcommit.csv" ]; then
	pats=$(tail -n +2 "$out/overcommit.csv" | cut -d, -f3 | awk '!s[$0]++' | tr '\n' ' ')
	bes=$(tail -n +2 "$out/overcommit.csv" | cut -d, -f1 | awk '!s[$0]++' | tr '\n' ' ')
	n=$(echo $pats | wc -w)
	plot overcommit <<-EOF
	$term
	set output '$out/overcommit.png'
	set datafile separator ','
	set multiplot layout 1,$n title 'Overcommit: vmpager accesses/s over kernel swap accesses/s (memory.max), each backend against its own kernel-swap run'
	set xlabel 'working set / pool'; set ylabel 'vmpager / kernel swap (log scale)'
	set logscale y; set grid; set key top right; set xtics 1
	do for [p in "$pats"] {
		set title p
		plot for [b in "$bes"] '$out/overcommit.csv' using (strcol(3) eq p && strcol(1) eq b ? \$2 : NaN):9 with linespoints lw 2 title b, \
			1 with lines lc 'black' dt 2 title 'equal'
	}
	unset multiplot
	EOF
fi
if [ -s "$out/fault.csv" ]; then
	plot fault <<-EOF
	$term
	set output '$out/fault.png'
	set datafile separator ','
	set title 'Resident fault (PTE zapped, page resident): ns per fault, vmpager vs shmem'
	set style data histograms; set style histogram clustered gap 1; set style fill solid 0.8 border -1
	set ylabel 'ns per fault (wall time / faults)'; set grid ytics; set key top left
	set yrange [0:*]; set xtics rotate by 45 right; set bmargin 8
	plot '< tail -n +2 $out/fault.csv' using 6:xtic(strcol(1).' '.strcol(2).'t '.strcol(3)) title 'vmpager', \
		'' using 7 title 'shmem (fault-around off)'
	EOF
fi
if [ -s "$out/mrc/policy.png" ]; then
	cp "$out/mrc/policy.png" "$out/policy.png"	# drawn by mrc.sh
fi

# ---- the table ------------------------------------------------------------------------------
{
	printf '%-30s %-7s %-16s %12s  %-20s %12s %8s  %s\n' figure backend unit vmpager baseline "" ratio better
	tail -n +2 "$out/summary.csv" | awk -F, '{
		if ($9 ~ /^skipped/) printf "%-30s %-7s %s\n", $1, $2, $9
		else printf "%-30s %-7s %-16s %12.6g  %-20s %12.6g %8.3f  %s%s\n", $1, $2, $3, $4, $5, $6, $7, $8,
			($9 != "" ? "  (" $9 ")" : "") }'
} > "$out/table.txt"
{
	echo "| figure | backend | unit | vmpager | baseline | baseline figure | ratio | better |"
	echo "|---|---|---|---:|---|---:|---:|---|"
	tail -n +2 "$out/summary.csv" | awk -F, '{
		if ($9 ~ /^skipped/) printf "| %s | %s | | | | | %s | |\n", $1, $2, $9
		else printf "| %s | %s | %s | %.4g | %s | %.4g | %.3f | %s%s |\n", $1, $2, $3, $4, $5, $6, $7, $8,
			($9 != "" ? " (" $9 ")" : "") }'
} > "$out/table.md"
# The ratios side by side: one row per figure, one column per backend.
awk -F, 'NR > 1 && $9 !~ /^skipped/ && $1 !~ /^replay-/ {
		k = $1 "|" $5; if (!(k in seen)) { seen[k] = 1; row[n++] = k; unit[k] = $3; better[k] = $8 }
		r[k, $2] = $7; if (!($2 in bs)) { bs[$2] = 1; be[m++] = $2 } }
	END { printf "| figure | unit | baseline | better |"; for (j = 0; j < m; j++) printf " %s |", be[j];
		printf "\n|---|---|---|---|"; for (j = 0; j < m; j++) printf "---:|"; printf "\n";
		for (i = 0; i < n; i++) { split(row[i], f, "|"); printf "| %s | %s | %s | %s |", f[1], unit[row[i]], f[2], better[row[i]];
			for (j = 0; j < m; j++) printf " %s |", ((row[i], be[j]) in r ? sprintf("%.2f", r[row[i], be[j]]) : "");
			printf "\n" } }' "$out/summary.csv" > "$out/ratios.md"
# The module's trace replay: misses relative to vmpsim (same policy) and to OPT,
# one table per reference source, then the harvest's cost per reclaim pass.
awk -F, 'NR > 1 && $1 ~ /^replay-/ { name = $1; sub(/^replay-/, "", name)
		t = name; sub(/-.*/, "", t); p = substr(name, length(t) + 2)
		src = p; sub(/^[^\/]*\//, "", src); sub(/\/.*/, "", p)
		if (!(t in ts)) { ts[t] = 1; tr[n++] = t } if (!(p in ps)) { ps[p] = 1; pol[m++] = p }
		if (!(src in ss)) { ss[src] = 1; srcs[k++] = src }
		o = $9; sub(/^module\/OPT /, "", o); r[src, t, p] = sprintf("%.2f (%s)", $7, o) }
	END { for (s = 0; s < k; s++) { if (s) printf "\n"
		printf "References from %s:\n\n| trace@size |", srcs[s]; for (j = 0; j < m; j++) printf " %s |", pol[j];
		printf "\n|---|"; for (j = 0; j < m; j++) printf "---:|"; printf "\n";
		for (i = 0; i < n; i++) { printf "| %s |", tr[i]
			for (j = 0; j < m; j++) printf " %s |", ((srcs[s], tr[i], pol[j]) in r ? r[srcs[s], tr[i], pol[j]] : "")
			printf "\n" } } }' \
	"$out/summary.csv" > "$out/replay.md"
if [ -s "$out/replay.md" ] && [ -s "$out/replay.csv" ]; then
	awk -F, 'NR > 1 && $10 != "" && $10 != "faults" && $10 != "soft-unmap" && $11 > 0 {
			k = $10 " " $1 "@" $3; if (!(k in seen)) { seen[k] = 1; row[n++] = k }
			passes[k] += $11; ns[k] += $12; ptes[k] += $13 }
		END { if (!n) exit; printf "\nHarvest cost per reclaim pass (all policies of a trace together):\n\n"
			printf "| source trace@size | passes | PTEs / pass | us / pass |\n|---|---:|---:|---:|\n"
			for (i = 0; i < n; i++) printf "| %s | %d | %.1f | %.2f |\n", row[i], passes[row[i]],
				ptes[row[i]] / passes[row[i]], ns[row[i]] / passes[row[i]] / 1000 }' \
		"$out/replay.csv" >> "$out/replay.md"
fi
[ -s "$out/replay.md" ] || rm -f "$out/replay.md"
if [ -s "$out/policy.csv" ]; then
	awk -F, 'NR > 1 { r[$1 "@" $2, $3] = $6; if (!($1 "@" $2 in seen)) { seen[$1 "@" $2] = 1; row[n++] = $1 "@" $2 }
		if (!($3 in ps)) { ps[$3] = 1; pol[m++] = $3 } }
		END { printf "| trace@size |"; for (j = 0; j < m; j++) printf " %s |", pol[j]; printf "\n|---|";
			for (j = 0; j < m; j++) printf "---:|"; printf "\n";
			for (i = 0; i < n; i++) { printf "| %s |", row[i]; for (j = 0; j < m; j++) printf " %s |", r[row[i], pol[j]]; printf "\n" } }' \
		"$out/policy.csv" > "$out/policy.md"
fi
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "command: make $([ $quick = 1 ] && echo bench-quick || echo bench) (userspace/bench/run.sh $*)"
	echo "commit: $(git -C "$top" rev-parse --short HEAD 2>/dev/null) $(git -C "$top" status --porcelain 2>/dev/null | grep -q . && echo '(with uncommitted changes)')"
	echo "host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
	echo "qemu: $(qemu-system-x86_64 --version | head -1), -accel tcg -cpu max -smp 2 -m 1G, virtio-blk raw image on the host's $(df -T "$top/build" | awk 'NR == 2 { print $2 }')"
	echo "guest: $(awk '/^# vmpager-suite/ { print $3 }' "$ktap" | head -1), Debian $(ls -d /lib/modules/*-amd64 2>/dev/null | sort -V | tail -1 | xargs basename) (busybox initramfs)"
	echo "wall time: $(( $(date +%s) - start )) s (guest: $(grep -o 'guest ran [0-9]*s' "$out/guest.stderr" 2>/dev/null | tail -n 1 | cut -d" " -f3), the rest builds, boots and waits for the guest lock)"
} > "$out/machine.txt"

echo
echo "vmpager benchmarks ($([ $quick = 1 ] && echo quick || echo full)); ratio = vmpager / baseline; results in ${out#"$top"/}/"
cat "$out/table.txt"
echo
echo "ratios side by side (vmpager / baseline per backend): ${out#"$top"/}/ratios.md"
cat "$out/ratios.md"
if [ -s "$out/replay.md" ]; then
	echo
	echo "trace replay through the module: module misses / vmpsim misses (module misses / OPT): ${out#"$top"/}/replay.md"
	cat "$out/replay.md"
fi
if [ -s "$out/policy.txt" ]; then
	echo
	echo "policy quality (vmpsim, misses / OPT at the traces' README sizes): ${out#"$top"/}/policy.md"
	cat "$out/policy.md"
fi
echo
cat "$out/machine.txt"
fails=$(grep -c '^not ok\|^# not ok' "$ktap")
[ "$fails" = 0 ] || { status=1; echo "$fails benchmark rows failed: see $ktap"; }
ls "$out"/*.png 2>/dev/null | sed "s|^$top/|plot: |"
exit $status
