#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The coverage suite (issue 15, part 3): cov-reach, next to this script,
# reaches the module's paths the other suites do not (a 1 GiB hugetlb page,
# non-present huge entries, an empty top-level entry above 128 TiB). Only
# the debug lane runs it, in a VM of its own that tests/run boots with one
# NUMA node, --mem 5G and a 1 GiB page reserved at boot (hugepagesz=1G
# hugepages=1: the debug kernel has no CONTIG_ALLOC for one at run time, and
# only RAM above 4 GiB has a whole aligned GiB free; QEMU puts the initrd
# below 2 GiB and ACPI tables below 3 GiB). Lab VM, root, module loaded
# (tests/vm-suite.sh coverage).
here=$(cd "$(dirname "$0")" && pwd)
echo "# $(ls -d /sys/devices/system/node/node* | wc -l) node(s), 1G pages: $(cat /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages 2>/dev/null)"
echo 8 > /proc/sys/vm/nr_hugepages
"$here/cov-reach"
