#!/bin/bash
# Build everything one guest run needs for one kernel, then boot it.
#
# usage: guest-suite.sh [-K stock|debug|IMAGE] [-D KDIR] [-r | -b] [-o GLOB] [-t SECS]
#   -K  stock: Debian's linux-image-amd64 (6.1) with linux-headers-amd64 (default)
#       debug: the debug kernel of build-kernel.sh (built and cached on first use)
#       IMAGE: any bzImage; -D names the kernel tree to build the module against
#   -r  "make run": the demo plan (selftests/qemu/run.plan) instead of the tests
#   -b  "make bench": the benchmark plan (userspace/bench/plan)
#   -o  run only the plan lines whose name matches GLOB
# stdout is the guest's KTAP stream; build output and progress go to stderr.
# Logs: build/logs/guest-<kernel>-<mode>/ (console.log holds the whole kernel log).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
K=stock D= mode=check only= total=
while getopts K:D:rbo:t: opt; do
	case $opt in
	K) K=$OPTARG ;;
	D) D=$OPTARG ;;
	r) mode=run ;;
	b) mode=bench ;;
	o) only=$OPTARG ;;
	t) total=$OPTARG ;;
	*) sed -n '3,12p' "$0" >&2; exit 2 ;;
	esac
done

append=
case $K in
stock)
	kver=$(ls -d /lib/modules/*-amd64/build 2>/dev/null | sort -V | tail -n 1 | cut -d/ -f4)
	[ -n "$kver" ] || { echo "guest-suite: no Debian kernel headers (apt-get install linux-headers-amd64)" >&2; exit 1; }
	image=/boot/vmlinuz-$kver
	kdir=/lib/modules/$kver/build
	tag=stock
	;;
debug)
	kdir=$("$top/selftests/qemu/build-kernel.sh")
	image=$kdir/arch/x86/boot/bzImage
	tag=debug
	append="vmp.kmemleak=1"
	;;
*)
	image=$K
	kdir=${D:-}
	[ -n "$kdir" ] || { echo "guest-suite: KERNEL=$K needs KDIR=<the tree it was built from>" >&2; exit 2; }
	tag=custom
	;;
esac
[ -r "$image" ] || { echo "guest-suite: kernel image $image not readable" >&2; exit 1; }

# The module, built in a copy so stock and debug builds never share objects.
kb=$top/build/kmod-$tag
rm -rf "$kb"
mkdir -p "$kb"
cp -a "$top/Kbuild" "$top/module" "$kb/"
echo "guest-suite: building vmpager.ko against $kdir" >&2
if ! make -s -C "$kdir" M="$kb" modules >"$kb/build.log" 2>&1; then
	cat "$kb/build.log" >&2
	echo "guest-suite: module build failed" >&2
	exit 1
fi

# Static test and tool binaries (kernel-independent).
bin=$top/build/guest/bin
make -s -C "$top/selftests/vmpager" O="$bin" >&2
make -s -C "$top/userspace/tools" O="$bin" >&2
cp "$top/selftests/qemu/demo.sh" "$bin/"

case $mode in
check) plan=$top/selftests/vmpager/plan; total=${total:-900} ;;
run) plan=$top/selftests/qemu/run.plan; total=${total:-600} ;;
bench) plan=$top/userspace/bench/plan; total=${total:-1800} ;;
esac
[ -z "$only" ] || append="$append vmp.only=$only"

initrd=$top/build/guest/$tag-$mode.cpio.gz
"$top/selftests/qemu/mkinitramfs.sh" -o "$initrd" -p "$plan" -k "$kb/vmpager.ko" -b "$bin" >&2
exec "$top/selftests/qemu/run-guest.sh" -k "$image" -i "$initrd" \
	-l "$top/build/logs/guest-$tag-$mode" -t "$total" -n "guest-$tag" -a "$append"
