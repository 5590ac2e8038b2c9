#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Build the vmpager debug kernel from Debian's linux-source-6.1 tarball.
# tinyconfig + selftests/qemu/debug.config, cached outside the checkout under
# $VMP_CACHE (default ~/.cache/vmpager) and keyed on the fragment's hash, so a
# second run costs nothing. Prints the build directory on the last line.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
frag=$here/debug.config
tarball=${KSRC_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
cache=${VMP_CACHE:-$HOME/.cache/vmpager}
key=$(cat "$frag" "$0" | sha256sum | cut -c1-12)
out=$cache/kernel-$key
jobs=${JOBS:-$(nproc)}

if [ -f "$out/.done" ]; then
	echo "debug kernel: cached in $out" >&2
	echo "$out"
	exit 0
fi
[ -r "$tarball" ] || { echo "build-kernel: $tarball missing (apt-get install linux-source-6.1)" >&2; exit 1; }
mkdir -p "$cache"
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
echo "debug kernel: extracting $tarball (about a minute)" >&2
xz -T2 -dc "$tarball" | tar -x -C "$out.tmp" --strip-components=1
cd "$out.tmp"
echo "debug kernel: configuring (tinyconfig + debug.config)" >&2
make -s tinyconfig >/dev/null
./scripts/kconfig/merge_config.sh -m .config "$frag" >/dev/null
make -s olddefconfig >/dev/null
# Report fragment lines that did not stick, so the fragment stays honest.
grep '^CONFIG_.*=y' "$frag" | while read -r line; do
	grep -qx "$line" .config || echo "debug kernel: note: $line not set" >&2
done
echo "debug kernel: building bzImage and modules with $jobs jobs (about 5 minutes)" >&2
start=$(date +%s)
make -j"$jobs" bzImage modules 2>&1 | awk '/^  (CC|LD|AR)/ { n++; if (n % 250 == 0) { printf "debug kernel: %d objects built\n", n > "/dev/stderr" } next } { print > "/dev/stderr" }'
[ -f arch/x86/boot/bzImage ] || { echo "build-kernel: bzImage missing" >&2; exit 1; }
make -s modules_prepare
echo "debug kernel: built in $(( $(date +%s) - start ))s" >&2
touch .done
cd /
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out"
