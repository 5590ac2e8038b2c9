#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Proves "make install DESTDIR=... PREFIX=/usr" stages every file vmpager
# installs, there and nowhere else, without the test bench (deps.sh) and
# without depmod; that a program builds against the staged headers, .pc file
# and libraries; and that "make uninstall" takes every file back. Runs on a
# copy of the tree (its own build/, so the working tree is not touched), with
# depmod, ldconfig, systemctl, udevadm and apt-get replaced by stubs that
# record any call, and deps.sh by one that fails. The module is installed too
# when the kernel headers at KDIR (picked as the top Makefile does) exist.
# KTAP. docs/install.md.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${KDIR:-}" ]; then
	if [ -f "/lib/modules/$(uname -r)/build/Makefile" ]; then
		KDIR=/lib/modules/$(uname -r)/build
	else
		gk=$(ls -d /lib/modules/*-amd64/build 2>/dev/null | sort -V | tail -n 1 | cut -d/ -f4)
		KDIR=/lib/modules/$gk/build
	fi
fi
# its release, the module's directory under /lib/modules (the vermagic)
kver=
[ -f "$KDIR/Makefile" ] &&
	kver=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' "$KDIR/include/generated/utsrelease.h")

w=$(mktemp -d "${TMPDIR:-/tmp}/vmpager-install.XXXXXX")
trap 'rm -rf "$w"' EXIT
src=$w/src d=$w/dest calls=$w/calls
mkdir -p "$src" "$d" "$w/bin"
: >"$calls"

# the copy: the tree's files as git sees them (tracked and new), no build/
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z -co --exclude-standard |
		while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf - | tar -xf - -C "$src")
else
	tar -C "$top" --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$src"
fi
printf '#!/bin/sh\necho "deps.sh $*" >>"%s"\nexit 1\n' "$calls" >"$src/selftests/qemu/deps.sh"
for c in depmod ldconfig systemctl udevadm apt-get apt; do
	printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$c" "$calls" >"$w/bin/$c"
	chmod +x "$w/bin/$c"
done
export PATH=$w/bin:$PATH
# make in the copy, with nothing of the caller's make or install settings
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u O -u DESTDIR -u PREFIX -u BINDIR \
	    -u SBINDIR -u LIBDIR -u INCLUDEDIR -u PKGCONFIGDIR -u DOCDIR -u SYSCONFDIR \
	    -u UDEVRULESDIR -u UNITDIR -u INSTALL_MOD_PATH -u INSTALL_MOD_DIR -u KVER \
	    make -C "$src" -j"$(nproc)" "$@"
}
# the files and links under a directory, relative to it, sorted
files_in() { (cd "$1" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort); }
# what changed since marker file $1 in the system's directories (not under $w)
written_since() {
	local dirs="/usr /etc /opt /boot" dir
	for dir in /lib /lib64 /bin /sbin; do [ -L $dir ] || dirs="$dirs $dir"; done
	find $dirs -xdev -cnewer "$1" 2>/dev/null | grep -v "^$w" || true
}

n=0 failed=0
result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=1; fi
}
diag() { sed 's/^/# /'; }

echo "TAP version 13"
echo "1..23"

# 1: the check names what is missing and installs nothing
out=$("$src/userspace/check-deps.sh" -u -k "$w/no-kernel" 2>&1)
rc=$?
ok=1
[ $rc -ne 0 ] && echo "$out" | grep -q 'linux-headers-' &&
	echo "$out" | grep -q 'apt-get install' && ! grep -q '^apt' "$calls" && ok=0
[ $ok = 0 ] || { echo "$out"; cat "$calls"; } | diag
result $ok "install.check_deps_names_the_package_and_installs_nothing"

# 2-3: make install (the module too if there are headers)
if [ -n "$kver" ]; then what=install; else what=install-userspace; fi
touch "$w/marker"
mk $what DESTDIR="$d" PREFIX=/usr KDIR="$KDIR" >"$w/install.log" 2>&1
rc=$?
[ $rc = 0 ] || tail -n 30 "$w/install.log" | diag
result $rc "install.make_${what//-/_}_destdir_prefix_usr${kver:+ # module for $kver}"
ok=0
grep -q '^deps.sh' "$calls" && ok=1
[ $ok = 0 ] || diag <"$calls"
result $ok "install.does_not_run_deps_sh"

# 3b: plain "make" builds the module and the programs without the test bench
mk >"$w/make.log" 2>&1
rc=$?
[ $rc = 0 ] && ! grep -q '^deps.sh' "$calls" && [ -x "$src/build/vmpagerd/vmpagerd" ] &&
	[ -x "$src/build/sim/vmpsim" ] && { [ -z "$kver" ] || [ -f "$src/vmpager.ko" ]; }
rc=$?
[ $rc = 0 ] || { tail -n 20 "$w/make.log"; cat "$calls"; } | diag
result $rc "install.plain_make_builds_without_the_test_bench"

# 4: the programs
bad=
for f in usr/sbin/vmpagerd usr/sbin/vmpagerctl usr/sbin/vmpager-swapd usr/bin/vmpsim; do
	[ -f "$d/$f" ] && [ -x "$d/$f" ] || bad="$bad $f"
done
[ -z "$bad" ] || echo "missing or not executable:$bad" | diag
result "$([ -z "$bad" ]; echo $?)" "install.programs_are_executable"

# 4b: --version prints the release (dkms.conf's, the module's MODULE_VERSION)
rel=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$src/dkms.conf")
bad=
for f in usr/sbin/vmpagerd usr/sbin/vmpagerctl usr/bin/vmpsim; do
	v=$("$d/$f" --version 2>&1 | head -n 1)
	[[ $v == "$(basename "$f") $rel"* ]] || bad="$bad $f: '$v';"
done
[ -n "$rel" ] && [ -z "$bad" ]
ok=$?
[ $ok = 0 ] || echo "release '$rel':$bad" | diag
result $ok "install.programs_print_the_release # $rel"

# 5: libvmpager.so -> libvmpager.so.1 -> the real file, whose soname is .so.1
lib=$d/usr/lib
real=$(readlink "$lib/libvmpager.so.1")
soname=$(readelf -d "$lib/$real" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
ok=1
[ -L "$lib/libvmpager.so" ] && [ "$(readlink "$lib/libvmpager.so")" = libvmpager.so.1 ] &&
	[ -L "$lib/libvmpager.so.1" ] && [[ $real == libvmpager.so.1.* ]] &&
	[ -f "$lib/$real" ] && [ ! -L "$lib/$real" ] && [ "$soname" = libvmpager.so.1 ] && ok=0
[ $ok = 0 ] || ls -l "$lib" 2>&1 | diag
result $ok "install.shared_library_soname_and_links # libvmpager.so.1 -> ${real:-?}"

# 6: the static library and the preload shim
ok=1
ar t "$lib/libvmpager.a" 2>/dev/null | grep -q vmp_region.o &&
	readelf -h "$lib/libvmpager-preload.so" 2>/dev/null | grep -q 'DYN' && ok=0
result $ok "install.static_library_and_preload_shim"

# 7: headers and the .pc file, found through PKG_CONFIG_* in the staged tree
export PKG_CONFIG_LIBDIR=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$d
unset PKG_CONFIG_PATH
rel=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$src/dkms.conf")
ok=1
[ -f "$d/usr/include/vmpager/libvmpager.h" ] && [ -f "$d/usr/include/vmpager/vmpager.h" ] &&
	[ "$(pkg-config --modversion libvmpager 2>/dev/null)" = "$rel" ] &&
	grep -qx 'prefix=/usr' "$lib/pkgconfig/libvmpager.pc" && ok=0
[ $ok = 0 ] || cat "$lib/pkgconfig/libvmpager.pc" 2>&1 | diag
result $ok "install.headers_and_pkgconfig_file"

# 8-9: a program builds against the staged headers and links against the
# staged shared library (then runs with it), and against the static one
cat >"$w/prog.c" <<'EOF'
#include <errno.h>
#include <stdio.h>
#include <libvmpager.h>
#include <vmpager.h>

int main(void)
{
	struct vmp_region_info info = { 0 };
	unsigned long cmd = VMPAGER_IOC_VERSION;

	/* no region contains a stack address */
	if (vmp_region_info(&info, &info) != -1 || errno != ENOENT)
		return 1;
	printf("%lx %s\n", cmd, vmp_region_strerror());
	return 0;
}
EOF
cflags=$(pkg-config --cflags libvmpager 2>/dev/null)
libs=$(pkg-config --libs libvmpager 2>/dev/null)
ok=1
if cc -std=gnu11 -Wall -Wextra -Werror $cflags -o "$w/prog" "$w/prog.c" $libs >"$w/cc.log" 2>&1; then
	needed=$(readelf -d "$w/prog" | sed -n 's/.*(NEEDED).*\[\(libvmpager.*\)\]/\1/p')
	res=$(LD_LIBRARY_PATH=$lib ldd "$w/prog" | sed -n 's/.*libvmpager.so.1 => \([^ ]*\).*/\1/p')
	[ "$needed" = libvmpager.so.1 ] && [ "$res" = "$lib/libvmpager.so.1" ] &&
		LD_LIBRARY_PATH=$lib "$w/prog" >/dev/null 2>&1 && ok=0
	[ $ok = 0 ] || echo "NEEDED '$needed', resolved to '$res'" | diag
else
	diag <"$w/cc.log"
fi
echo "# pkg-config --cflags --libs libvmpager:" $cflags $libs
result $ok "install.program_builds_with_pkg_config_and_runs_with_staged_so"
ok=1
cc -std=gnu11 -Wall -Werror $cflags -o "$w/prog-static" "$w/prog.c" "$lib/libvmpager.a" \
	-pthread >"$w/cc.log" 2>&1 && "$w/prog-static" >/dev/null 2>&1 && ok=0
[ $ok = 0 ] || diag <"$w/cc.log"
result $ok "install.program_links_staged_static_library"

# 10: udev rule, config, systemd units naming the staged paths and docs
svc=$d/etc/systemd/system/vmpagerd.service sock=$d/etc/systemd/system/vmpagerd.socket
doc=$(sed -n 's|^Documentation=file://||p' "$svc" 2>/dev/null)
exe=$(sed -n 's|^ExecStart=\([^ ]*\).*|\1|p' "$svc" 2>/dev/null)
ok=1
[ -f "$d/etc/udev/rules.d/60-vmpager.rules" ] && [ -f "$d/etc/vmpager/vmpagerd.conf" ] &&
	[ "$exe" = /usr/sbin/vmpagerd ] && [ -x "$d$exe" ] &&
	[ "$doc" = /usr/share/doc/vmpager/vmpagerd.md ] && [ -f "$d$doc" ] &&
	grep -q "^Documentation=file://$doc\$" "$sock" &&
	grep -q -- '--config /etc/vmpager/vmpagerd.conf' "$svc" &&
	! grep -q '@[A-Z]*@' "$svc" "$sock" && ok=0
[ $ok = 0 ] || grep -H -e '^Documentation' -e '^ExecStart' "$svc" "$sock" 2>&1 | diag
result $ok "install.udev_rule_config_and_systemd_units"

# 11: the docs, as they are in docs/
bad=
for f in $(cd "$src/docs" && ls *.md */*.png 2>/dev/null); do
	cmp -s "$src/docs/$f" "$d/usr/share/doc/vmpager/$f" || bad="$bad $f"
done
[ -z "$bad" ] || echo "missing or different:$bad" | diag
result "$([ -z "$bad" ]; echo $?)" "install.docs_in_share_doc_vmpager"

# 12: the module, in the staged /lib/modules
if [ -n "$kver" ]; then
	ko=$d/lib/modules/$kver/extra/vmpager.ko
	vm=$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)
	[ "$vm" = "$kver" ] || echo "$ko: vermagic '${vm:-none}'" | diag
	result "$([ "$vm" = "$kver" ]; echo $?)" "install.module_in_destdir_lib_modules"
else
	n=$((n + 1)); echo "ok $n install.module_in_destdir_lib_modules # SKIP no kernel headers at $KDIR"
fi

# 13: staging runs no depmod (no modules.dep), ldconfig or systemctl
deps=$(find "$d" -name 'modules.*')
ok=1
[ -z "$deps" ] && ! grep -qE '^(depmod|ldconfig|systemctl|udevadm)' "$calls" && ok=0
[ $ok = 0 ] || { echo "$deps"; cat "$calls"; } | diag
result $ok "install.no_depmod_ldconfig_or_systemctl_when_staging"

# 14: exactly the expected files, no more
{
	printf '%s\n' usr/sbin/vmpagerd usr/sbin/vmpagerctl usr/sbin/vmpager-swapd usr/bin/vmpsim \
		usr/lib/libvmpager.so usr/lib/libvmpager.so.1 "usr/lib/${real:-libvmpager.so.1.?}" \
		usr/lib/libvmpager.a usr/lib/libvmpager-preload.so usr/lib/pkgconfig/libvmpager.pc \
		usr/include/vmpager/libvmpager.h usr/include/vmpager/vmpager.h \
		etc/udev/rules.d/60-vmpager.rules etc/vmpager/vmpagerd.conf \
		etc/systemd/system/vmpagerd.service etc/systemd/system/vmpagerd.socket
	(cd "$src/docs" && ls *.md */*.png 2>/dev/null) | sed 's|^|usr/share/doc/vmpager/|'
	[ -z "$kver" ] || echo "lib/modules/$kver/extra/vmpager.ko"
} | LC_ALL=C sort >"$w/expected"
files_in "$d" >"$w/installed"
ok=0
cmp -s "$w/expected" "$w/installed" || ok=1
[ $ok = 0 ] || diff "$w/expected" "$w/installed" | grep '^[<>]' | diag
result $ok "install.exactly_the_expected_files # $(wc -l <"$w/installed") files"

# 15: and nothing outside DESTDIR
out=$(written_since "$w/marker")
[ -z "$out" ] || echo "$out" | head -n 20 | diag
result "$([ -z "$out" ]; echo $?)" "install.nothing_written_outside_destdir"

# 16-17: each half alone: the userspace needs no kernel headers, the module
# without headers fails naming the package, before building anything
mk install-userspace DESTDIR="$w/dest2" PREFIX=/usr KDIR="$w/no-kernel" >"$w/install2.log" 2>&1
rc=$?
[ $rc = 0 ] && [ -f "$w/dest2/usr/sbin/vmpagerd" ] && [ ! -e "$w/dest2/lib" ] || rc=1
[ $rc = 0 ] || tail -n 20 "$w/install2.log" | diag
result $rc "install.install_userspace_needs_no_kernel_headers"
mk install-module DESTDIR="$w/dest3" KDIR="$w/no-kernel" >"$w/install3.log" 2>&1
rc=$?
ok=1
[ $rc != 0 ] && grep -q 'linux-headers-' "$w/install3.log" && [ ! -e "$w/dest3" ] &&
	! grep -q -- "M=$src modules" "$w/install3.log" && ok=0
[ $ok = 0 ] || tail -n 20 "$w/install3.log" | diag
result $ok "install.install_module_without_headers_names_the_package"

# 18-20: make uninstall takes back every file, still staged
touch "$w/marker2"
: >"$calls"
mk uninstall DESTDIR="$d" PREFIX=/usr KDIR="$KDIR" >"$w/uninstall.log" 2>&1
rc=$?
[ $rc = 0 ] || tail -n 20 "$w/uninstall.log" | diag
result $rc "uninstall.make_uninstall_destdir_prefix_usr"
left=$(files_in "$d")
for x in usr/include/vmpager usr/share/doc/vmpager etc/vmpager; do
	[ ! -d "$d/$x" ] || left="$left $x/"
done
[ -z "$left" ] || echo "left:" $left | diag
result "$([ -z "$left" ]; echo $?)" "uninstall.leaves_no_files_nor_vmpagers_own_directories"
out=$(written_since "$w/marker2")
ok=1
[ -z "$out" ] && [ ! -s "$calls" ] && ok=0
[ $ok = 0 ] || { echo "$out" | head -n 20; cat "$calls"; } | diag
result $ok "uninstall.no_depmod_and_nothing_written_outside_destdir"

# 21: an edited vmpagerd.conf is kept, and nothing else
echo "threads = 4" >>"$w/dest2/etc/vmpager/vmpagerd.conf"
mk uninstall-userspace DESTDIR="$w/dest2" PREFIX=/usr >"$w/uninstall2.log" 2>&1
rc=$?
left=$(files_in "$w/dest2")
[ $rc = 0 ] && [ "$left" = etc/vmpager/vmpagerd.conf ] || rc=1
[ $rc = 0 ] || { tail -n 5 "$w/uninstall2.log"; echo "left: $left"; } | diag
result $rc "uninstall.keeps_an_edited_vmpagerd_conf"

exit $failed
