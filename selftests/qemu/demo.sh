#!/bin/sh
# make run, inside the guest: load vmpager with a small pool, run a workload
# that maps twice the pool, verify every page, and show what happened.
pool=${VMP_DEMO_POOL:-4096}
pages=$((pool * 2))
ko=${VMP_KO:-/modules/vmpager.ko}
d=/sys/kernel/debug/vmpager
echo "== insmod vmpager.ko pool_pages=$pool"
insmod "$ko" pool_pages=$pool || exit 1
echo "== workload: $pages pages (twice the pool), 2 processes, MAP_SHARED, sequential"
./vmpwork -n $pages -p 2 -P 2 -a seq
rc=$?
echo "== workload: $((pool / 2)) pages (half the pool), 2 processes, MAP_SHARED, zipf"
./vmpwork -n $((pool / 2)) -p 2 -P 3 -a zipf || rc=$?
echo "== $d/pool"; cat $d/pool
echo "== $d/buddyinfo"; cat $d/buddyinfo
echo "== $d/stats"; cat $d/stats
echo "== rmmod vmpager"
rmmod vmpager || rc=1
# The first workload exits 3 (SIGBUS) while vmpager has no reclaim: that is
# the honest outcome of overcommit without swap, not a demo failure.
[ $rc = 0 ] || [ $rc = 3 ]
