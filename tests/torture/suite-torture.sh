#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Torture (issue 15, section 2): every kernel path that rewrites page tables
# while 8 queriers walk (tor-torture), for mt_torture=SECONDS (default 60;
# mt_quick=1: 15). With zram swap (swapped out, in, swapoff). The lane boots
# the VM with two NUMA nodes (scripts/vm --numa 2). Lab VM, root, module loaded.
here=$(cd "$(dirname "$0")" && pwd)
swap=
if [ -e /sys/block/zram0 ] || modprobe zram 2>/dev/null; then
	if [ -e /sys/block/zram0 ] && ! grep -q zram0 /proc/swaps &&
		echo 256M > /sys/block/zram0/disksize 2>/dev/null &&
		mkswap /dev/zram0 >/dev/null 2>&1 && swapon /dev/zram0 2>/dev/null; then
		swap=zram0
	fi
fi
echo "# swap: ${swap:-none}"
"$here/tor-torture"
rc=$?
if [ -n "$swap" ]; then
	swapoff /dev/zram0
	echo 1 > /sys/block/zram0/reset
fi
exit $rc
