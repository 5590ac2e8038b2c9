#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Builds the guest test initramfs (busybox, /init, ktap-run, tests, modules) as a gzip'd newc cpio; no root needed.
#
# usage: mkinitramfs.sh -o OUT.cpio.gz -p PLANFILE [-k KMOD_DIR_OR_KO]... [-b BINDIR]...
#                       [-m EXTRA_KO]...
#
# Layout of the image:
#   /init              selftests/qemu/init (guest PID 1)
#   /bin/busybox       busybox-static, plus a symlink per applet (busybox --list);
#                      /sbin, /usr/bin, /usr/sbin are links to /bin
#   /lib/ktap-run.sh   selftests/lib/ktap-run.sh
#   /tests/plan        PLANFILE (whatever its name), default vmp.plan of /init
#   /tests/*           every file of each BINDIR (recursively, modes kept)
#   /modules/*.ko      each -k / -m .ko file, or every .ko found under a -k directory
# Files are owned by root in the archive. BUSYBOX=path overrides /bin/busybox.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
lib=$(cd "$here/../lib" && pwd)
busybox=${BUSYBOX:-/bin/busybox}

out= plan= kos= bins=
usage() {
	echo "usage: mkinitramfs.sh -o OUT.cpio.gz -p PLANFILE [-k KMOD_DIR_OR_KO]... [-b BINDIR]... [-m EXTRA_KO]..." >&2
	exit 2
}
# Lists are newline separated, so paths may hold spaces (not newlines).
nl='
'
while getopts o:k:b:p:m:h opt; do
	case $opt in
	o) out=$OPTARG ;;
	k|m) kos="$kos$OPTARG$nl" ;;
	b) bins="$bins$OPTARG$nl" ;;
	p) plan=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
# Allow "-k DIR a.ko b.ko": extra operands are more modules.
for a in "$@"; do kos="$kos$a$nl"; done
[ -n "$out" ] && [ -n "$plan" ] || usage
[ -r "$plan" ] || { echo "mkinitramfs: cannot read plan $plan" >&2; exit 1; }
[ -x "$busybox" ] || { echo "mkinitramfs: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
if command -v readelf >/dev/null 2>&1 && readelf -l "$busybox" 2>/dev/null | grep -q INTERP; then
	echo "mkinitramfs: $busybox is dynamically linked; use busybox-static" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmp-initramfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root/bin" "$root/lib" "$root/tests" "$root/modules" "$root/dev" "$root/proc" \
	"$root/sys" "$root/tmp" "$root/run" "$root/mnt" "$root/root" "$root/etc" "$root/usr"
ln -s bin "$root/sbin"
ln -s ../bin "$root/usr/bin"
ln -s ../bin "$root/usr/sbin"
cp "$busybox" "$root/bin/busybox"
for app in $("$busybox" --list); do
	case $app in busybox|*/*) continue ;; esac
	[ -e "$root/bin/$app" ] || ln -s busybox "$root/bin/$app"
done
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"
cp "$here/init" "$root/init"
chmod 755 "$root/init"
cp "$lib/ktap-run.sh" "$root/lib/ktap-run.sh"
chmod 755 "$root/lib/ktap-run.sh"

printf '%s' "$bins" | while IFS= read -r d; do
	[ -n "$d" ] || continue
	[ -d "$d" ] || { echo "mkinitramfs: $d is not a directory" >&2; exit 1; }
	cp -pR "$d/." "$root/tests/"
	# A dynamic binary fails in the guest with a puzzling "not found": say so now.
	if command -v readelf >/dev/null 2>&1; then
		find "$d" -type f -perm -u+x | while IFS= read -r f; do
			if readelf -l "$f" 2>/dev/null | grep -q 'Requesting program interpreter'; then
				echo "mkinitramfs: warning: $f is dynamically linked; it will not run in the guest" >&2
			fi
		done
	fi
done
cp "$plan" "$root/tests/plan"

printf '%s' "$kos" | while IFS= read -r k; do
	[ -n "$k" ] || continue
	if [ -d "$k" ]; then
		n=$(find "$k" -name '*.ko' | wc -l)
		[ "$n" -gt 0 ] || echo "mkinitramfs: warning: no .ko under $k" >&2
		find "$k" -name '*.ko' -exec cp {} "$root/modules/" \;
	elif [ -f "$k" ]; then
		cp "$k" "$root/modules/"
	else
		echo "mkinitramfs: $k: no such module or directory" >&2
		exit 1
	fi
done

mkdir -p "$(dirname "$out")"
(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -6 > "$out.tmp"
mv "$out.tmp" "$out"
