#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The coverage suite (issue 15, part 3), in the lab VM as root with the module
# loaded (tests/vm-suite.sh coverage). Only the debug lane runs it, in a VM
# of its own that tests/run boots with one NUMA node, --mem 5G and a 1 GiB
# page reserved at boot (hugepagesz=1G hugepages=1: the debug kernel has no
# CONTIG_ALLOC for one at run time, and only RAM above 4 GiB has a whole
# aligned GiB free; QEMU puts the initrd below 2 GiB and ACPI tables below
# 3 GiB).
#  1. cov-reach, next to this script, reaches the module's paths the other
#     suites do not (a 1 GiB hugetlb page, non-present huge entries, an empty
#     top-level entry above 128 TiB, a 32-bit task: cov-task32);
#  2. a load that fails half-way (kmod/main.c): mt_squat.ko holds memtrace's
#     generic netlink family name, so memtrace.ko makes /proc/memtrace, then
#     fails to register its family (EEXIST) and must take the file away
#     again; once mt_squat is gone, memtrace loads and answers.
here=$(cd "$(dirname "$0")" && pwd)
# the TAP helpers: tests/lib/tap.sh in the tree, /lab/tap.sh in the guest
# shellcheck source=tests/lib/tap.sh
if [ -f "$here/../lib/tap.sh" ]; then . "$here/../lib/tap.sh"; else . "$here/tap.sh"; fi
MODULE=${MODULE:-/lab/memtrace.ko}
MEMTRACE=${MEMTRACE:-/lab/memtrace}
echo "# $(ls -d /sys/devices/system/node/node* | wc -l) node(s), 1G pages: $(cat /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages 2>/dev/null)"
echo 8 > /proc/sys/vm/nr_hugepages
"$here/cov-reach"
rc=$?

loaded() { grep -q "^$1 " /proc/modules; }

rmmod memtrace
! loaded memtrace
tap_ok $? "failed load: memtrace unloaded first"
insmod "$here/mt_squat.ko"
tap_ok $? "failed load: mt_squat.ko loaded (a generic netlink family named memtrace)"
err=$(insmod "$MODULE" 2>&1)
r=$?
case $err in *"File exists"*) e=0 ;; *) e=1 ;; esac
tap_ok $((r == 0 || e)) "failed load: insmod memtrace.ko fails with EEXIST while the name is taken (exit $r: $err)"
! loaded memtrace && [ ! -e /proc/memtrace ]
tap_ok $? "failed load: no memtrace module and no /proc/memtrace left behind"
rmmod mt_squat
tap_ok $? "failed load: mt_squat unloaded"
insmod "$MODULE"
tap_ok $? "failed load: memtrace.ko loads once the name is free"
out=$("$MEMTRACE" --transport=netlink info 2>&1) && out=$("$MEMTRACE" --transport=proc query $$ all 2>&1)
tap_ok $? "failed load: the reloaded module answers over netlink and /proc"
[ "$tap_failed" = 0 ] || rc=1
[ "$rc" = 0 ] || echo "$out" | tail -5 | sed 's/^/# /'
tap_done
exit $rc
