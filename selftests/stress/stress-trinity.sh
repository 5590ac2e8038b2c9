#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs trinity (Debian's syscall fuzzer) against /dev/vmpager in the guest,
# time-bounded, then checks that the module's pool is whole and that it
# unloads. Prints KTAP.
#
# usage: stress-trinity.sh [SECONDS] [SEED]      (defaults: 30, from the clock)
# SECONDS of fuzzing, after trinity's own 10 s start-up countdown (-X).
#
# trinity is a dynamically linked Debian binary; the guest is a static
# busybox world, so the build copies it with its libc and loader into
# /tests/trinity/ (selftests/stress/Makefile) and this script runs it through
# that loader. trinity fuzzes the fd-taking and memory syscalls (-c ...) on
# victim file /dev/vmpager (-V, the only fd provider left on), with 2 children,
# dropping to nobody (-X):
# the device is made 0666 for the run so they can open it. Seen as a normal
# user with group access (the udev rule's setup), not as root.
secs=${1:-30}
seed=${2:-$(date +%s)}
dir=/tests/trinity
ko=${VMP_KO:-/modules/vmpager.ko}
swap=${VMP_DIRECT_DIR:-/tmp}/vmp-trinity.swap

echo "TAP version 13"
if [ ! -r "$dir/trinity" ] || [ ! -x "$dir/ld-linux-x86-64.so.2" ]; then
	echo "1..0 # SKIP trinity not built into the guest (apt-get install trinity on the host)"
	exit 4
fi
echo "1..3"
echo "# trinity: $secs s, seed $seed (stress-trinity.sh $secs $seed repeats the choices)"
rmmod vmpager 2>/dev/null
rm -f "$swap"
if ! insmod "$ko" pool_pages=512 swap_pages=8192 swapfile="$swap"; then
	echo "# load: insmod $ko failed"
	echo "not ok 1 trinity.load"
	echo "Bail out!"
	exit 1
fi
chmod 0666 /dev/vmpager
# trinity -X looks "nobody" up; the guest's /etc/passwd only knows root
grep -q '^nobody:' /etc/passwd || echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >> /etc/passwd
grep -q '^nogroup:' /etc/group 2>/dev/null || echo 'nogroup:x:65534:' >> /etc/group
work=$(mktemp -d /tmp/trinity.XXXXXX)
chmod 0777 "$work"
cd "$work" || exit 1
# the memory and fd syscalls trinity can aim at the victim fd and its mappings
calls="-c ioctl -c mmap -c mremap -c munmap -c madvise -c process_madvise -c mprotect
-c mlock -c mlock2 -c munlock -c msync -c mincore -c read -c write -c pread64 -c pwrite64
-c readv -c writev -c lseek -c fcntl -c dup -c dup2 -c newfstat -c splice -c sendfile
-c remap_file_pages"
start=$(date +%s)
# shellcheck disable=SC2086
timeout -s INT "$((secs + 10))" "$dir/ld-linux-x86-64.so.2" --library-path "$dir" "$dir/trinity" \
	-q -l off -C 2 -X -T WARN,BAD_PAGE,DIE -s "$seed" -V /dev/vmpager $calls \
	--disable-fds=sockets,pipes,perf,epoll,eventfd,pseudo,timerfd,testfile,memfd,drm \
	> "$work/out" 2>&1
rc=$?
sleep 1
end=$(date +%s)
grep -v 'Marking syscall\|Marking 64-bit' "$work/out" | sed 's/^/# /' | tail -n 25
# The normal end is our SIGINT at the deadline (whatever trinity then exits
# with); exiting early with an error means it never really ran.
ran_ok=0
if [ "$rc" = 0 ] || [ $((end - start)) -ge $((secs + 10)) ]; then
	ran_ok=1
	echo "# ran: $((end - start)) s against /dev/vmpager (exit $rc):" \
		"$(grep -o 'Ran [0-9]* syscalls.*' "$work/out" | tail -n 1)"
	echo "ok 1 trinity.ran"
else
	echo "# ran: trinity exit $rc after $((end - start)) s of $((secs + 10))"
	echo "not ok 1 trinity.ran"
fi
chmod 0600 /dev/vmpager

# every frame free (no object left: trinity's processes are gone)
ok=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
	free=$(awk '$1 == "free_pages" { print $2 }' /sys/kernel/debug/vmpager/pool 2>/dev/null)
	pool=$(awk '$1 == "pool_pages" { print $2 }' /sys/kernel/debug/vmpager/pool 2>/dev/null)
	orph=$(awk '$1 == "orphaned_pages" { print $2 }' /sys/kernel/debug/vmpager/pool 2>/dev/null)
	if [ -n "$pool" ] && [ "$free" = "$pool" ] && [ "$orph" = 0 ]; then
		ok=1
		break
	fi
	sleep 1
done
if [ $ok = 1 ]; then
	echo "# pool_whole: free $free of $pool, orphaned 0"
	echo "ok 2 trinity.pool_whole"
else
	echo "# pool_whole: free $free of $pool, orphaned $orph"
	echo "not ok 2 trinity.pool_whole"
fi
if rmmod vmpager; then
	echo "ok 3 trinity.unload"
else
	echo "# unload: refused"
	echo "not ok 3 trinity.unload"
fi
cd / && rm -rf "$work" "$swap"
[ $ran_ok = 1 ] || exit 1
[ $ok = 1 ] || exit 1
lsmod | grep -q '^vmpager' && exit 1
exit 0
