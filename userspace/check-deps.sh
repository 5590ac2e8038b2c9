#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Checks what "make install" needs, and nothing of the test bench (that is
# selftests/qemu/deps.sh). Installs nothing: names the Debian package of
# whatever is missing, prints the apt-get command, and fails.
#
# usage: check-deps.sh [-u] [-k KDIR]
#   -u       userspace: a C compiler, make, pkg-config, the static C library,
#            liburing and libcap (headers and static libraries: vmpagerd,
#            vmpagerctl and vmpager-swapd are static)
#   -k KDIR  the module: a kernel build tree (the headers) at KDIR
# A compiler and make are checked in either case. CC as in make (default cc).
set -eu
user=0 kdir='' want_k=0
while getopts uk: o; do
	case $o in
	u) user=1 ;;
	k) want_k=1 kdir=$OPTARG ;;
	*) echo "usage: check-deps.sh [-u] [-k KDIR]" >&2; exit 2 ;;
	esac
done
cc=${CC:-cc}
missing='' why=''
# need PACKAGE REASON: PACKAGE is missing because of REASON
need() {
	case " $missing " in *" $1 "*) ;; *) missing="$missing $1" ;; esac
	why="$why
vmpager:   $1: $2"
}

w=$(mktemp -d "${TMPDIR:-/tmp}/vmpager-deps.XXXXXX")
trap 'rm -rf "$w"' EXIT
# links FLAGS...: a C program (the source on stdin) compiles and links
links() { $cc -x c -o "$w/a.out" - "$@" >"$w/log" 2>&1; }
# staticlib NAME: the compiler finds libNAME.a
staticlib() { [ "$($cc -print-file-name="lib$1.a" 2>/dev/null)" != "lib$1.a" ]; }

command -v make >/dev/null 2>&1 || need make "no make in PATH"
if ! command -v "${cc%% *}" >/dev/null 2>&1; then
	need gcc "no C compiler ($cc) in PATH"
	cc=
fi
if [ "$user" = 1 ]; then
	command -v pkg-config >/dev/null 2>&1 || need pkg-config "no pkg-config in PATH"
	if [ -n "$cc" ]; then
		echo 'int main(void) { return 0; }' | links -static ||
			need libc6-dev "cannot link a static C program (no libc.a)"
		printf '#include <liburing.h>\nint main(void) { return 0; }\n' | links -c &&
			staticlib uring || need liburing-dev "no liburing.h or liburing.a"
		printf '#include <sys/capability.h>\nint main(void) { return 0; }\n' | links -c &&
			staticlib cap || need libcap-dev "no sys/capability.h or libcap.a"
	fi
fi
if [ "$want_k" = 1 ] && [ ! -f "$kdir/Makefile" ]; then
	# The package of the running kernel's headers if apt knows it (Debian's
	# own kernels), else Debian 12's default kernel's.
	hdr=linux-headers-$(uname -r)
	apt-cache show "$hdr" >/dev/null 2>&1 || hdr=linux-headers-amd64
	need "$hdr" "no kernel headers at KDIR=${kdir:-(empty)} (linux-headers-amd64 for Debian 12's 6.1 kernel, linux-headers-$(uname -r) for the running one; or make KDIR=/path/to/kernel/build)"
fi
[ -z "$missing" ] && exit 0
echo "vmpager: make install needs Debian packages that are missing:$why" >&2
echo "vmpager: install them (as root):  apt-get install$missing" >&2
exit 1
