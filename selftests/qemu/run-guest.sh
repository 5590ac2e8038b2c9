#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Boots a test initramfs in QEMU (TCG), streams its KTAP, and fails the run on kernel splats or an unfinished guest.
#
# usage: run-guest.sh [-k KERNEL_IMAGE] -i INITRAMFS [-l LOGDIR] [-t TOTAL_TIMEOUT]
#                     [-a "extra append"] [-d DISK_IMAGE] [-n LABEL] [-s]
#
#  -k  kernel image (default: $VMP_KERNEL, else /boot/vmlinuz-$VMP_KVER, VMP_KVER
#      defaulting to the newest /lib/modules/*/build, i.e. Debian's stock kernel)
#  -i  initramfs from mkinitramfs.sh
#  -l  log directory (default build/guest-logs/<kernel tag>-<timestamp>)
#  -t  whole-run timeout in seconds (default 900); QEMU is killed at it
#  -a  appended to the kernel command line (e.g. "vmp.only=uffd_* vmp.timeout=120")
#  -d  raw disk image attached as virtio-blk (/dev/vda in the guest); repeat it for
#      more disks (/dev/vdb, ...; paths without spaces)
#  -n  suite label written into the KTAP stream (default guest-<kernel tag>)
#  -s  interactive: console on this terminal, a shell instead of the plan, no timeout
#
# Logs: LOGDIR/console.log (ttyS0: kernel log + markers), LOGDIR/ktap.log (ttyS1: the
# KTAP stream, plus the failure records appended below), LOGDIR/qemu.log (QEMU's own
# output), LOGDIR/cmdline (the QEMU command). stdout carries only KTAP (the stream
# and the records), so "run-guest.sh ... | ktap-summary.sh" works; progress and
# diagnostics go to stderr.
#
# After QEMU exits, console.log is checked for kernel splats (patterns in splat_re
# below). Each splat is attributed with the "vmpager-ktap: begin/end NAME" markers to
# the test that was running ("kmemleak scan" for the kmemleak section, "boot" before
# the first test; between two tests, to the one that just ended), and one record per
# test is appended to ktap.log and printed:
#     not ok - NAME # splat: <first splat line> [console.log:LINE]
# A guest that never printed "vmpager-ktap: done" adds
#     not ok - NAME # guest did not finish ...      or
#     not ok - NAME # guest timed out after Ts ...
# with NAME the last test that began. ktap-summary.sh turns the records into
# failures of those tests. Exit status: 0 if the summary shows no failure, else 1
# (2 on usage or QEMU start errors).
set -u
here=$(cd "$(dirname "$0")" && pwd)
lib=$(cd "$here/../lib" && pwd)
top=$(cd "$here/../.." && pwd)

kernel=${VMP_KERNEL:-}
initrd= logdir= total=900 extra= disk= label= interactive=0
usage() {
	echo "usage: run-guest.sh [-k KERNEL_IMAGE] -i INITRAMFS [-l LOGDIR] [-t TOTAL_TIMEOUT] [-a \"extra append\"] [-d DISK_IMAGE] [-n LABEL] [-s]" >&2
	exit 2
}
while getopts k:i:l:t:a:d:n:sh opt; do
	case $opt in
	k) kernel=$OPTARG ;;
	i) initrd=$OPTARG ;;
	l) logdir=$OPTARG ;;
	t) total=$OPTARG ;;
	a) extra=$OPTARG ;;
	d) disk="$disk${disk:+ }$OPTARG" ;;
	n) label=$OPTARG ;;
	s) interactive=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] && [ -n "$initrd" ] || usage
case $total in ''|*[!0-9]*|0) echo "run-guest: bad timeout '$total'" >&2; exit 2 ;; esac
[ -r "$initrd" ] || { echo "run-guest: cannot read initramfs $initrd" >&2; exit 2; }

if [ -z "$kernel" ]; then
	kver=${VMP_KVER:-}
	if [ -z "$kver" ]; then
		for d in /lib/modules/*/build; do [ -d "$d" ] && kver=$(basename "$(dirname "$d")"); done
	fi
	kernel=/boot/vmlinuz-$kver
fi
[ -r "$kernel" ] || { echo "run-guest: cannot read kernel $kernel (install linux-image-amd64, or pass -k)" >&2; exit 2; }
for d in $disk; do
	[ -r "$d" ] || { echo "run-guest: cannot read disk image $d" >&2; exit 2; }
done
command -v qemu-system-x86_64 >/dev/null || { echo "run-guest: qemu-system-x86_64 missing (apt-get install qemu-system-x86)" >&2; exit 2; }

# Kernel tag: "6.1.0-56-amd64" for /boot/vmlinuz-6.1.0-56-amd64, "kernel-<hash>" for
# .../kernel-<hash>/arch/x86/boot/bzImage (build-kernel.sh's cache).
case $kernel in
*/arch/x86/boot/bzImage) tag=$(basename "$(cd "$(dirname "$kernel")/../../.." && pwd)") ;;
*) tag=$(basename "$kernel"); tag=${tag#vmlinuz-} ;;
esac
[ -n "$label" ] || label=guest-$tag
[ -n "$logdir" ] || logdir=$top/build/guest-logs/$tag-$(date +%Y%m%d-%H%M%S)
mkdir -p "$logdir" || exit 2
console=$logdir/console.log ktap=$logdir/ktap.log
rm -f "$console" "$ktap" "$logdir/records"

# tsc=reliable: under TCG the TSC follows the host's clock, but the
# clocksource watchdog, starved of CPU on a loaded 2-core host, can mark it
# unstable; the guest then falls back to jiffies (4 ms resolution) and timed
# samples read 0 (seen: the debug kernel's bench-swap line, 2026-12-06).
append="console=ttyS0 loglevel=7 printk.time=1 panic=-1 printk.devkmsg=on tsc=reliable vmp.plan=/tests/plan vmp.kmemleak=1"
[ $interactive = 1 ] && append="$append vmp.shell=1"
[ -n "$extra" ] && append="$append $extra"

set -- qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1G \
	-nodefaults -display none -no-reboot \
	-kernel "$kernel" -initrd "$initrd" -append "$append"
for d in $disk; do
	set -- "$@" -drive "file=$d,if=virtio,format=raw"
done
if [ $interactive = 1 ]; then
	set -- "$@" -serial mon:stdio -serial "file:$ktap"
	printf '%s\n' "$*" > "$logdir/cmdline"
	echo "run-guest: interactive guest; Ctrl-A X quits QEMU; KTAP of ktap-run goes to $ktap" >&2
	exec "$@"
fi
set -- "$@" -monitor none -serial "file:$console" -serial "file:$ktap"
printf '%s\n' "$*" > "$logdir/cmdline"

echo "run-guest: booting $kernel (logs in $logdir)" >&2
start=$(date +%s)
# timeout(1) puts QEMU in its own process group: forward our own interruption.
timeout -k 10 "$total" "$@" > "$logdir/qemu.log" 2>&1 < /dev/null &
qpid=$!
trap 'kill -TERM $qpid 2>/dev/null; wait $qpid; exit 130' INT TERM HUP
# Stream the guest's KTAP while it runs. QEMU creates the file when it starts.
while [ ! -e "$ktap" ] && kill -0 $qpid 2>/dev/null; do sleep 0.2; done
# The suite label goes first in stdout (ktap.log gets it through the guest).
echo "# vmpager-suite: $label"
if [ -e "$ktap" ]; then
	tail -n +1 -f --pid=$qpid "$ktap" 2>/dev/null
fi
wait $qpid
qrc=$?
trap - INT TERM HUP
secs=$(( $(date +%s) - start ))
touch "$console" "$ktap"

timed_out=0
if [ $qrc = 124 ] || [ $qrc = 137 ]; then
	timed_out=1
elif [ $qrc != 0 ]; then
	echo "run-guest: QEMU failed (exit $qrc):" >&2
	sed 's/^/  /' "$logdir/qemu.log" >&2
	# Still check what the guest managed to log.
fi

# The splat checker: attribute every splat line of the console log to a test.
splat_re='WARNING:|BUG:|Oops|KASAN|possible circular locking|inconsistent lock state|suspicious RCU usage|kmemleak: .* new suspected memory leaks|unreferenced object|general protection fault|Kernel panic|sleeping function called from invalid context|[Bb]ad page state'
tr -d '\r' < "$console" | awk -v re="$splat_re" -v timed_out=$timed_out -v total="$total" -v qrc=$qrc '
	function note(name, line, n, after) {
		if (!(name in first)) {
			order[++nnames] = name; first[name] = line; firstno[name] = n
			why[name] = after ? "splat after the test ended" : "splat"
		}
		count[name]++
	}
	BEGIN { cur = ""; last = ""; section = "boot"; done = 0 }
	{
		i = index($0, "vmpager-ktap: ")
		if (i) {
			m = substr($0, i + 14)
			if (m ~ /^begin /) { cur = last = substr(m, 7); section = "" }
			else if (m ~ /^end /) cur = ""
			else if (m == "kmemleak begin") section = "kmemleak scan"
			else if (m == "kmemleak end") section = "after kmemleak scan"
			else if (m == "done") done = 1
			next
		}
		if ($0 ~ re) {
			line = $0
			sub(/^\[ *[0-9]+\.[0-9]+\] /, "", line)   # printk time stamp
			sub(/^\[ *[TC][0-9]+\] /, "", line)       # printk caller id
			if (cur != "") note(cur, line, NR, 0)
			else if (section != "") note(section, line, NR, 0)
			else note(last, line, NR, 1)
		}
	}
	END {
		for (k = 1; k <= nnames; k++) {
			name = order[k]
			more = count[name] > 1 ? " (+" count[name] - 1 " more splat lines)" : ""
			printf "not ok - %s # %s: %s%s [console.log:%d]\n", name, why[name], first[name], more, firstno[name]
		}
		if (!done) {
			name = last != "" ? last : "boot"
			state = last == "" ? "no test had begun" : (cur != "" ? "test " cur " was running" : "after test " last " ended")
			if (timed_out)
				printf "not ok - %s # guest timed out after %ss (%s)\n", name, total, state
			else
				printf "not ok - %s # guest did not finish: no \"vmpager-ktap: done\" (QEMU exit %d, %s)\n", name, qrc, state
		}
	}' > "$logdir/records"

# Make the KTAP of this run complete: records go after the guest stream.
if [ -s "$logdir/records" ]; then
	cat "$logdir/records" >> "$ktap"
	cat "$logdir/records"
fi
# ktap.log itself gets the label line first (the guest cannot know it).
{ echo "# vmpager-suite: $label"; cat "$ktap"; } > "$ktap.tmp" && mv "$ktap.tmp" "$ktap"

if [ $timed_out = 1 ]; then
	echo "run-guest: guest timed out after ${total}s; last 30 console lines:" >&2
	tail -n 30 "$console" | tr -d '\r' | sed 's/^/  | /' >&2
fi
echo "run-guest: guest ran ${secs}s; full console log: $console" >&2
# The five longest tests (ktap-run's "end NAME (Ns)" lines), for make check's time.
slow=$(sed -n 's/^# ktap-run: end \([^ ]*\) (\([0-9]*\)s)$/\2 \1/p' "$ktap" | sort -rn | head -n 5 |
	awk '{ printf "%s%s %ss", sep, $2, $1; sep = ", " }')
[ -n "$slow" ] && echo "run-guest: longest: $slow" >&2
echo "run-guest: summary:" >&2
"$lib/ktap-summary.sh" "$label=$ktap" >&2
