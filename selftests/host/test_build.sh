#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Proves the module builds without warnings (W=1), is sparse-clean (C=1) and
# checkpatch-clean, against Debian's 6.1 headers, and carries the release of
# dkms.conf as its MODULE_VERSION. KTAP.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
kver=$(ls -d /lib/modules/*-amd64/build 2>/dev/null | sort -V | tail -n 1 | cut -d/ -f4)
kdir=/lib/modules/$kver/build
tarball=${KSRC_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
b=$top/build/buildcheck
echo "TAP version 13"
echo "1..4"
rm -rf "$b/mod"; mkdir -p "$b/mod"
cp -a "$top/Kbuild" "$top/dkms.conf" "$top/module" "$b/mod/"
make -C "$kdir" M="$b/mod" W=1 C=1 modules >"$b/build.log" 2>&1
rc=$?
# gcc's warnings name their flag ("[-Wfoo]"); sparse's do not.
ours=$(grep "$b/mod/" "$b/build.log" | grep -E ': (warning|error):' || true)
gccw=$(echo "$ours" | grep -E '\[-W' || true)
spw=$(echo "$ours" | grep -vE '\[-W' | grep . || true)
if [ $rc = 0 ] && [ -f "$b/mod/vmpager.ko" ] && [ -z "$gccw" ]; then
	echo "ok 1 module builds with W=1 and no warnings"
else
	tail -n 20 "$b/build.log" | sed 's/^/# /'; echo "not ok 1 module builds with W=1 and no warnings"
fi
if [ $rc = 0 ] && [ -z "$spw" ]; then
	echo "ok 2 sparse (C=1) reports nothing in vmpager"
else
	echo "$spw" | sed 's/^/# /'; echo "not ok 2 sparse (C=1) reports nothing in vmpager"
fi
if [ ! -f "$b/cp/scripts/checkpatch.pl" ]; then
	topdir=$(tar -tJf "$tarball" 2>/dev/null | head -n 1 | cut -d/ -f1)
	mkdir -p "$b/cp"
	xz -T2 -dc "$tarball" | tar -x -C "$b/cp" --strip-components=1 \
		"$topdir/scripts/checkpatch.pl" "$topdir/scripts/spelling.txt" \
		"$topdir/scripts/const_structs.checkpatch" 2>/dev/null
fi
files=$(cd "$top" && ls module/*.c module/*.h module/uapi/*.h module/policy/*.c module/policy/*.h)
out=$(cd "$top" && perl "$b/cp/scripts/checkpatch.pl" --no-tree --terse --show-types \
	--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES -f $files 2>&1 | grep -E 'ERROR|WARNING' || true)
if [ -f "$b/cp/scripts/checkpatch.pl" ] && [ -z "$out" ]; then
	echo "ok 3 checkpatch: no errors or warnings in module/"
else
	echo "$out" | sed 's/^/# /'; echo "not ok 3 checkpatch: no errors or warnings in module/"
fi
want=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
got=$(modinfo -F version "$b/mod/vmpager.ko" 2>/dev/null || true)
if [ -n "$want" ] && [ "$got" = "$want" ]; then
	echo "ok 4 modinfo version is dkms.conf's PACKAGE_VERSION ($want)"
else
	echo "# modinfo version '$got', dkms.conf '$want'"
	echo "not ok 4 modinfo version is dkms.conf's PACKAGE_VERSION"
fi
