#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make run, inside the guest: load vmpager with a 16 MiB pool and a swap
# file, run workloads that map 2x and 4x the pool, verify every page, and
# show what happened with vmpagerctl (which reads debugfs).
pool=${VMP_DEMO_POOL:-4096}
ko=${VMP_KO:-/modules/vmpager.ko}
# the scratch disk (ext4: block I/O to the file's extents), else tmpfs
swap=${VMP_DIRECT_DIR:-/tmp}/vmpager.swap
rc=0
echo "== insmod vmpager.ko pool_pages=$pool swapfile=$swap swap_pages=$((pool * 8))"
insmod "$ko" pool_pages=$pool swapfile=$swap swap_pages=$((pool * 8)) || exit 1
echo "== vmpagerctl policy; vmpagerctl watermarks"
./vmpagerctl policy || rc=1
./vmpagerctl watermarks || rc=1
echo
echo "== workload 1: $((pool * 2)) pages (2x the pool), 2 processes, MAP_SHARED, sequential, 2 passes"
./vmpwork -n $((pool * 2)) -p 2 -P 2 -a seq || rc=1
echo
echo "== workload 2: $((pool * 4)) pages (4x the pool), 2 processes, MAP_SHARED, uniform random"
./vmpwork -n $((pool * 4)) -p 2 -P 1 -a rand -s 7 || rc=1
echo
echo "== workload 3: $((pool * 2)) pages (2x the pool), 1 process, MAP_SHARED, zipf, 3 passes"
./vmpwork -n $((pool * 2)) -p 1 -P 3 -a zipf -s 9 || rc=1
echo
echo "== vmpagerctl pool"; ./vmpagerctl pool || rc=1
echo
echo "== vmpagerctl swap"; ./vmpagerctl swap || rc=1
echo
echo "== vmpagerctl lru"; ./vmpagerctl lru || rc=1
echo
echo "== vmpagerctl stat -z (the counters that moved)"; ./vmpagerctl stat -z || rc=1
echo "== rmmod vmpager"
rmmod vmpager || rc=1
rm -f $swap
exit $rc
