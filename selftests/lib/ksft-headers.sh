#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Extract the kselftest headers (kselftest.h, kselftest_harness.h) from Debian's
# linux-source-6.1 tarball into DIR. Nothing from the kernel tree is kept in this
# repository; this runs at build time and is a no-op when DIR is up to date.
set -eu
dir=${1:?usage: ksft-headers.sh DIR}
tarball=${KSRC_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
[ -f "$dir/kselftest_harness.h" ] && [ -f "$dir/kselftest.h" ] && exit 0
[ -r "$tarball" ] || { echo "ksft-headers: $tarball missing (apt-get install linux-source-6.1)" >&2; exit 1; }
top=$(tar -tJf "$tarball" 2>/dev/null | head -n 1 | cut -d/ -f1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
xz -T2 -dc "$tarball" | tar -x -C "$tmp" \
	"$top/tools/testing/selftests/kselftest.h" \
	"$top/tools/testing/selftests/kselftest_harness.h"
mkdir -p "$dir"
cp "$tmp/$top/tools/testing/selftests/kselftest.h" \
   "$tmp/$top/tools/testing/selftests/kselftest_harness.h" "$dir/"
