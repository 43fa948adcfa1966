#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the lab VM (busybox sh), from tests/run: loads the module, runs
# every in-VM suite that was added to /lab, unloads the module, and on a
# debug kernel asks kmemleak. Each suite prints TAP; each suite's exit status
# and each step is one more test line, so a suite that dies is never silent.

n=0
step() { # step DESC CMD...: one test line for a command's status
	desc=$1
	shift
	"$@"
	rc=$?
	n=$((n + 1))
	if [ "$rc" = 0 ]; then echo "ok - $desc"; else echo "not ok - $desc (exit $rc)"; fi
	return $rc
}

echo "# kernel $(uname -r)"
# DAMON_STAT (6.17+, on by default in Debian's 7.x) samples every page's
# accessed bit and clears it, a few times a second: a young bit the suites
# saw in their reference is gone moments later. That is the kernel, not the
# module; the suites compare snapshots taken seconds apart, so it is off
# while they run.
damon=/sys/module/damon_stat/parameters/enabled
if [ -w "$damon" ] && [ "$(cat $damon)" = Y ]; then
	echo N > "$damon"
	step "DAMON_STAT off for the suites (it ages young bits)" [ "$(cat $damon)" = N ]
fi
step "insmod memtrace.ko" insmod /lab/memtrace.ko || exit 1
grep -q memtrace /proc/modules && [ -e /proc/memtrace ]
step "module listed and /proc/memtrace present" [ $? = 0 ]

[ -x /lab/correctness ] && step "suite: module correctness" /lab/correctness
[ -f /lab/vm-tests.sh ] && step "suite: client" sh /lab/vm-tests.sh
for s in /lab/suite-*.sh; do
	[ -f "$s" ] || continue
	name=${s##*/suite-}
	step "suite: ${name%.sh}" sh "$s"
done

step "rmmod memtrace" rmmod memtrace
[ ! -e /proc/memtrace ]
step "/proc/memtrace gone after rmmod" [ $? = 0 ]

# debugfs may already be mounted by the lab VM's init
[ -e /sys/kernel/debug/kmemleak ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
if [ -e /sys/kernel/debug/kmemleak ]; then
	# two scans: kmemleak reports an object only once it is old enough
	echo scan > /sys/kernel/debug/kmemleak
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	leaks=$(grep -c 'unreferenced object' /sys/kernel/debug/kmemleak)
	[ "$leaks" = 0 ] || head -40 /sys/kernel/debug/kmemleak
	step "leak detector scan after rmmod: $leaks objects" [ "$leaks" = 0 ]
fi
exit 0
