#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build everything one guest run needs for one kernel, then boot it.
#
# usage: guest-suite.sh [-K stock|debug|IMAGE] [-D KDIR] [-r | -b | -B PLAN | -P PLANFILE] [-o GLOB] [-x GLOB] [-t SECS]
#   -K  stock: Debian's linux-image-amd64 (6.1) with linux-headers-amd64 (default)
#       debug: the debug kernel of build-kernel.sh (built and cached on first use)
#       IMAGE: any bzImage; -D names the kernel tree to build the module against
#   -r  "make run": the demo plan (selftests/qemu/run.plan) instead of the tests
#   -b  "make bench": the benchmark plan (userspace/bench/plan)
#   -B  like -b with another plan file (make bench-quick: userspace/bench/plan-quick)
#   -P  run PLANFILE instead of the check plan (make stress: selftests/stress/stress.plan)
#   -o  run only the plan lines whose name matches GLOB
#   -x  leave out the plan lines whose name matches GLOB (comma-separated patterns)
# stdout is the guest's KTAP stream; build output and progress go to stderr.
# Logs: build/logs/guest-<kernel>-<mode>/ (console.log holds the whole kernel log).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
K=stock D= mode=check only= skip= total= benchplan=$top/userspace/bench/plan
while getopts K:D:rbB:P:o:x:t: opt; do
	case $opt in
	K) K=$OPTARG ;;
	D) D=$OPTARG ;;
	r) mode=run ;;
	b) mode=bench ;;
	B) mode=bench benchplan=$OPTARG ;;
	P) mode=plan planfile=$(realpath "$OPTARG") ;;
	o) only=$OPTARG ;;
	x) skip=$OPTARG ;;
	t) total=$OPTARG ;;
	*) sed -n '3,15p' "$0" >&2; exit 2 ;;
	esac
done

# One guest (and its build tree) at a time on this machine: runs from several shells
# or agents queue here instead of clobbering build/kmod-* and sharing 2 cores.
lockdir=${XDG_CACHE_HOME:-$HOME/.cache}/vmpager
mkdir -p "$lockdir"
exec 9>"$lockdir/guest.lock"
if ! flock -n 9; then
	echo "guest-suite: another guest run holds $lockdir/guest.lock; waiting" >&2
	flock 9
fi

append=
extra_kos=()
case $K in
stock)
	kver=$(ls -d /lib/modules/*-amd64/build 2>/dev/null | sort -V | tail -n 1 | cut -d/ -f4)
	[ -n "$kver" ] || { echo "guest-suite: no Debian kernel headers (apt-get install linux-headers-amd64)" >&2; exit 1; }
	image=/boot/vmlinuz-$kver
	kdir=/lib/modules/$kver/build
	tag=stock
	# The scratch disk's driver and filesystem, and nbd, are modules on Debian's kernel.
	insmods=
	for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev \
		drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk \
		lib/crc16 fs/mbcache fs/jbd2/jbd2 crypto/crc32c_generic fs/ext4/ext4 drivers/block/nbd; do
		f=/lib/modules/$kver/kernel/$m.ko
		[ -r "$f" ] || continue
		extra_kos+=(-m "$f")
		insmods=$insmods${insmods:+,}$(basename "$m")
	done
	[ -z "$insmods" ] || append="vmp.insmod=$insmods"
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
cp -a "$top/Kbuild" "$top/dkms.conf" "$top/module" "$kb/"
echo "guest-suite: building vmpager.ko against $kdir" >&2
if ! make -s -C "$kdir" M="$kb" modules >"$kb/build.log" 2>&1; then
	cat "$kb/build.log" >&2
	echo "guest-suite: module build failed" >&2
	exit 1
fi

# Static test and tool binaries (kernel-independent).
bin=$top/build/guest/bin
# Each directory of selftests/qemu/guest-dirs builds its static guest binaries
# with "make -C DIR O=BIN" (the default target must build them into O).
mkdir -p "$bin"
grep -v '^#' "$top/selftests/qemu/guest-dirs" | while read -r d; do
	[ -n "$d" ] || continue
	[ -f "$top/$d/Makefile" ] || { echo "guest-suite: $d has no Makefile: skipped" >&2; continue; }
	make -s -C "$top/$d" O="$bin" >&2 || { echo "guest-suite: building $d failed" >&2; exit 1; }
done
cp "$top/selftests/qemu/demo.sh" "$bin/"

# The check plan is selftests/vmpager/plan followed by every other
# selftests/*/plan (one per suite: its owner adds lines there, nowhere else).
case $mode in
check) plans=("$top/selftests/vmpager/plan")
	for f in "$top"/selftests/*/plan; do
		[ "$f" = "$top/selftests/vmpager/plan" ] || plans+=("$f")
	done ;;
run) plans=("$top/selftests/qemu/run.plan") ;;
bench) plans=("$benchplan") ;;
plan) plans=("$planfile") ;;
esac
plan=$top/build/guest/$tag-$mode.plan
cat "${plans[@]}" > "$plan"
if [ -n "$skip" ]; then
	# -x: drop the lines whose first word matches one of the patterns.
	IFS=, read -ra pats <<< "$skip"
	while IFS= read -r line; do
		name=${line%%[[:space:]]*}
		for p in "${pats[@]}"; do
			# shellcheck disable=SC2053 # $p is a glob on purpose
			if [[ $line != \#* && -n $name && $name == $p ]]; then
				continue 2
			fi
		done
		printf '%s\n' "$line"
	done < "$plan" > "$plan.tmp"
	mv "$plan.tmp" "$plan"
fi
# Whole-run timeout: the sum of the per-test ones plus boot and kmemleak time.
if [ -z "$total" ]; then
	total=$(awk '!/^#/ && NF >= 3 { s += ($2 ~ /^[0-9]+$/ ? $2 : 45) } END { print s + 180 }' "$plan")
fi
[ -z "$only" ] || append="$append vmp.only=$only"

initrd=$top/build/guest/$tag-$mode.cpio.gz
"$top/selftests/qemu/mkinitramfs.sh" -o "$initrd" -p "$plan" -k "$kb/vmpager.ko" -b "$bin" \
	"${extra_kos[@]}" >&2

# A fresh ext4 scratch disk: /init mounts it on /mnt/disk and exports
# VMP_DIRECT_DIR, so O_DIRECT swap files and the kernel's own swap have a real
# block device under them (tmpfs has neither O_DIRECT nor swapfile support).
disk=$top/build/guest/$tag-$mode-disk.img
rm -f "$disk"
truncate -s "${VMP_DISK_MB:-1024}M" "$disk"
mkfs.ext4 -q -F "$disk" >&2 || { echo "guest-suite: mkfs.ext4 failed (apt-get install e2fsprogs)" >&2; exit 1; }
# A second, raw disk (/dev/vdb, VMP_SWAP_DEV in the guest): a block device
# for swap areas (the block I/O backend on a whole device).
disk2=$top/build/guest/$tag-$mode-swapdev.img
rm -f "$disk2"
truncate -s "${VMP_SWAPDEV_MB:-64}M" "$disk2"
exec "$top/selftests/qemu/run-guest.sh" -k "$image" -i "$initrd" -d "$disk" -d "$disk2" \
	-l "$top/build/logs/guest-$tag-$mode" -t "$total" -n "guest-$tag" -a "$append"
