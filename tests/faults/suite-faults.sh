#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Fault injection (issue 15): every allocation of each kind of query fails
# in turn (flt-query next to this script: fail-nth, failslab,
# fail_page_alloc); each query must fail with a clean errno or answer
# correctly, and the next one must succeed. Lab VM, root, module loaded.
# Leaks are found by the lane's kmemleak scan after rmmod (vm-suite.sh).
#
# Only the debug kernel has fault injection. On the others this is one
# plain SKIP (tap_skip, not tap_lack or tap.h's tap_skip(): the lane,
# MT_LANE=1, would count that as a failure, and a stock kernel cannot
# provide it); the SKIP names the missing debugfs directories, and
# tests/run lists it among the skips.
here=$(cd "$(dirname "$0")" && pwd)
# the TAP helpers: tests/lib/tap.sh in the tree, /lab/tap.sh in the guest
# shellcheck source=tests/lib/tap.sh
if [ -f "$here/../lib/tap.sh" ]; then . "$here/../lib/tap.sh"; else . "$here/tap.sh"; fi
[ -e /sys/kernel/debug/failslab ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
if [ ! -d /sys/kernel/debug/failslab ] || [ ! -d /sys/kernel/debug/fail_page_alloc ]; then
	tap_skip "fault injection" "$(uname -r) has no /sys/kernel/debug/failslab or fail_page_alloc (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC: the debug kernel only)"
	tap_done
	exit 0
fi
if [ ! -x "$here/flt-query" ]; then
	tap_ok 1 "flt-query: missing ($here/flt-query)"
	tap_done
	exit 1
fi
echo "# $(uname -r), mt_quick=$(sed -n 's/.*mt_quick=\([0-9]*\).*/\1/p' /proc/cmdline)"
"$here/flt-query"
