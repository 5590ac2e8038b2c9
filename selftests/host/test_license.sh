#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every source file of the repository carries, in its first three lines, the
# SPDX identifier its directory calls for (COPYING): module/uapi/ GPL-2.0
# WITH Linux-syscall-note, userspace/lib/ LGPL-2.1-or-later, everything else
# GPL-2.0; and the license texts COPYING names are there. Source files are
# C sources and headers, Makefiles, Kbuild files, shell/awk/python scripts
# and every other file that starts with "#!". KTAP on stdout.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1

want_for() {
	case $1 in
	module/uapi/* | module/vmp_stat_names.h)
			echo "GPL-2.0 WITH Linux-syscall-note" ;;
	userspace/lib/*) echo "LGPL-2.1-or-later" ;;
	*)		echo "GPL-2.0" ;;
	esac
}

is_source() {
	case $1 in
	*.c | *.h | *.sh | *.awk | *.py | */Makefile | Makefile | */Kbuild | Kbuild) return 0 ;;
	esac
	[ "$(head -c 2 "$1" 2>/dev/null)" = "#!" ]
}

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	files=$(git ls-files --cached --others --exclude-standard)
else
	files=$(find . -path ./build -prune -o -type f -print | sed 's|^\./||')
fi

n=0 bad=0 checked=0
out=""
for f in $files; do
	[ -f "$f" ] || continue
	case $f in build/* | LICENSES/* | docs/*) continue ;; esac
	is_source "$f" || continue
	checked=$((checked + 1))
	want=$(want_for "$f")
	got=$(head -n 3 "$f" | sed -n 's/.*SPDX-License-Identifier: \(.*\)$/\1/p' |
	      sed 's/ *\*\/ *$//' | head -n 1)
	if [ "$got" != "$want" ]; then
		bad=$((bad + 1))
		out+="# $f: ${got:-no SPDX identifier} (wants $want)"$'\n'
	fi
done

echo "TAP version 13"
echo "1..3"
printf '%s' "$out"
n=$((n + 1))
if [ "$bad" -eq 0 ] && [ "$checked" -gt 100 ]; then
	echo "ok $n license.every_source_file_has_its_directorys_identifier # $checked files"
else
	echo "not ok $n license.every_source_file_has_its_directorys_identifier # $bad of $checked wrong"
fi
n=$((n + 1))
if [ -s COPYING ] && grep -q "Linux-syscall-note" COPYING &&
   grep -q "LGPL-2.1-or-later" COPYING; then
	echo "ok $n license.copying_states_the_licenses"
else
	echo "not ok $n license.copying_states_the_licenses"
fi
n=$((n + 1))
if grep -q "GNU GENERAL PUBLIC LICENSE" LICENSES/GPL-2.0 2>/dev/null &&
   grep -q "Version 2, June 1991" LICENSES/GPL-2.0 &&
   grep -q "GNU LESSER GENERAL PUBLIC LICENSE" LICENSES/LGPL-2.1 2>/dev/null &&
   grep -q "Version 2.1, February 1999" LICENSES/LGPL-2.1 &&
   grep -q 'MODULE_LICENSE("GPL")' module/vmp_main.c; then
	echo "ok $n license.texts_present_and_module_declares_gpl"
else
	echo "not ok $n license.texts_present_and_module_declares_gpl"
fi
[ "$bad" -eq 0 ]
