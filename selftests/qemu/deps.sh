#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages vmpager needs, only those missing. Idempotent and
# silent when everything is present; without root it prints the exact command.
# Called by every Makefile target that needs a tool.
set -eu
pkgs="qemu-system-x86 linux-image-amd64 linux-headers-amd64 linux-source-6.1
busybox-static liburing-dev libcap-dev dkms sparse cpio kmod xz-utils gzip bc
flex bison libelf-dev libssl-dev gcc make gnuplot-nox trinity pkg-config"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
	echo "vmpager: missing Debian packages:$missing" >&2
	echo "vmpager: run as root:  apt-get update && $cmd" >&2
	exit 1
fi
echo "vmpager: installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists may be absent on a fresh machine; refresh them once.
apt-get update -q >&2
apt-get install -y -q --no-install-recommends $missing >&2
