#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Reliability: swap (zram), hugetlb and THP pages as memtrace reports them,
# cross-checked with /proc/self/pagemap (rel-mem). Lab VM, root, module
# loaded; zram comes from 'modprobe zram' (tests/run passes --kmod zram) or is
# built in (debug kernel). Everything set up here is undone at the end.
here=$(cd "$(dirname "$0")" && pwd)
swap=
[ -e /sys/block/zram0 ] || modprobe zram 2>/dev/null
if [ -e /sys/block/zram0 ] && ! grep -q zram0 /proc/swaps; then
	echo 1 > /sys/block/zram0/reset 2>/dev/null
	if echo 256M > /sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null &&
		swapon /dev/zram0; then
		swap=zram0
	fi
fi
echo "# swap: ${swap:-none} ($(grep -c . /proc/swaps) lines in /proc/swaps)"
hp=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null)
echo 8 > /proc/sys/vm/nr_hugepages 2>/dev/null
echo "# hugetlb: $(cat /proc/sys/vm/nr_hugepages 2>/dev/null) pages of $(grep Hugepagesize /proc/meminfo | tr -s ' ' | cut -d' ' -f2-)"
echo "# THP: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"
"$here/rel-mem"
rc=$?
[ -n "$hp" ] && echo "$hp" > /proc/sys/vm/nr_hugepages
if [ -n "$swap" ]; then
	swapoff /dev/zram0
	echo 1 > /sys/block/zram0/reset
fi
exit $rc
