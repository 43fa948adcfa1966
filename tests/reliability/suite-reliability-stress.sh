#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Reliability: 8 concurrent queriers (/proc and netlink, runs and pages)
# against processes that churn their memory, fork and exit (rel-stress), for
# mt_stress=SECONDS (default 60; mt_quick=1: 10). With zram swap when it can be
# had, so that MADV_PAGEOUT makes swap entries too. Lab VM, root, module loaded.
here=$(cd "$(dirname "$0")" && pwd)
swap=
if [ -e /sys/block/zram0 ] || modprobe zram 2>/dev/null; then
	if [ -e /sys/block/zram0 ] && ! grep -q zram0 /proc/swaps &&
		echo 128M > /sys/block/zram0/disksize 2>/dev/null &&
		mkswap /dev/zram0 >/dev/null 2>&1 && swapon /dev/zram0 2>/dev/null; then
		swap=zram0
	fi
fi
echo "# swap: ${swap:-none}"
"$here/rel-stress"
rc=$?
if [ -n "$swap" ]; then
	swapoff /dev/zram0
	echo 1 > /sys/block/zram0/reset
fi
exit $rc
