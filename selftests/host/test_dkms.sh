#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Proves dkms.conf really builds vmpager.ko against Debian's linux-headers-amd64.
# Uses private dkms trees, so nothing is installed on the machine. KTAP.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
kver=$(ls -d /lib/modules/*-amd64/build 2>/dev/null | sort -V | tail -n 1 | cut -d/ -f4)
echo "TAP version 13"
echo "1..3"
if [ -z "$kver" ] || ! command -v dkms >/dev/null; then
	for i in 1 2 3; do echo "ok $i dkms # SKIP no dkms or no linux-headers-amd64"; done
	exit 0
fi
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
src=$w/src/vmpager-$ver
mkdir -p "$src" "$w/tree"
cp -a "$top/Kbuild" "$top/Makefile" "$top/dkms.conf" "$top/module" "$src/"
args=(--sourcetree "$w/src" --dkmstree "$w/tree" -m vmpager -v "$ver" -k "$kver")
if dkms add "${args[@]}" >"$w/add.log" 2>&1; then
	echo "ok 1 dkms add"
else
	sed 's/^/# /' "$w/add.log"; echo "not ok 1 dkms add"
fi
if dkms build "${args[@]}" >"$w/build.log" 2>&1; then
	echo "ok 2 dkms build -k $kver"
else
	sed 's/^/# /' "$w/build.log"; tail -n 30 "$w/tree/vmpager/$ver/build/make.log" 2>/dev/null | sed 's/^/# /'
	echo "not ok 2 dkms build -k $kver"
fi
ko=$(find "$w/tree/vmpager/$ver" -name 'vmpager.ko*' | head -n 1)
vm=$( [ -n "$ko" ] && modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)
if [ "$vm" = "$kver" ] && [ "$(modinfo -F license "$ko")" = GPL ]; then
	echo "ok 3 built module has vermagic $kver and license GPL"
else
	echo "not ok 3 built module has vermagic $kver (got '${vm:-no module}')"
fi
