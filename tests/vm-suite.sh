#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Usage: vm-suite.sh [SUITE...]
# Runs inside the lab VM (busybox sh), from tests/run: loads the module, runs
# the in-VM suites (SUITEs, or all but torture), unloads the module, and on
# a debug kernel asks kmemleak.
# Each suite prints TAP with a plan; each suite is one more test line here,
# ok only when it exited 0 and printed exactly as many results as its plans
# add up to, so a suite that dies or stops early is never silent. A suite
# this script expects but cannot find is a failure, not a skip. It ends
# with its own plan (the log's plans add up to its results) and a
# "# N passed, N failed" of its own lines.
# It and the shell suites print through tests/lib/tap.sh, which every
# scripts/vm run that ships them ships too, as /lab/tap.sh.
#
# The lane's environment is known (tests/run boots it: zram, hugepages,
# KSM, THP, valgrind, the runas helper and a user lab): MT_LANE=1 tells the
# programs that a test needing one of those must fail, not skip, when it is
# missing.

export MT_LANE=1
# shellcheck source=tests/lib/tap.sh
. /lab/tap.sh
tap_numbers=0
step() { # step DESC CMD...: one test line for a command's status
	desc=$1
	shift
	"$@"
	rc=$?
	if [ "$rc" = 0 ]; then tap_ok 0 "$desc"; else tap_ok "$rc" "$desc (exit $rc)"; fi
	return $rc
}

# suite NAME CMD...: run a TAP suite, echo its output as it comes, and one
# test line for its exit status, plans and results.
out=/tmp/vm-suite.out
suite() {
	name=$1
	shift
	rm -f "$out.rc"
	t0=$(date +%s)
	{ "$@"; echo $? > "$out.rc"; } 2>&1 | tee "$out"
	t=$(($(date +%s) - t0))
	src=$(cat "$out.rc" 2>/dev/null)
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$out" | awk '{ s += $1 } END { print s + 0 }')
	ran=$(grep -cE '^(not )?ok( |$)' "$out")
	if [ "$src" = 0 ] && [ "$plan" -gt 0 ] && [ "$plan" = "$ran" ]; then
		tap_ok 0 "suite: $name (exit 0, plan $plan, $ran results, $t s)"
	else
		tap_ok 1 "suite: $name (exit ${src:-none}, plan $plan, $ran results, $t s)"
	fi
}

echo "# kernel $(uname -r)"
# DAMON_STAT (6.17+, on by default in Debian's 7.x) samples every page's
# accessed bit and clears it, continually: a young bit the suites saw in
# their reference is gone moments later. That is the kernel, not the module;
# the suites compare snapshots taken seconds apart, so it is off while they
# run.
damon=/sys/module/damon_stat/parameters/enabled
if [ -w "$damon" ] && [ "$(cat $damon)" = Y ]; then
	echo N > "$damon"
	step "DAMON_STAT off for the suites (it ages young bits)" [ "$(cat $damon)" = N ]
fi
if step "insmod memtrace.ko" insmod /lab/memtrace.ko; then
	grep -q memtrace /proc/modules && [ -e /proc/memtrace ]
	step "module listed and /proc/memtrace present" [ $? = 0 ]

	# every suite the lane runs, in this order: none may be missing.
	# tests/run boots twice: these on one NUMA node, then "torture" on
	# two (the debug kernel: its own split, and a VM for "coverage").
	suites="$*"
	[ -n "$suites" ] || suites="correctness client bench netlink reliability-fuzz
		reliability-lifecycle reliability-mem reliability-stress safety
		receive faults docs"
	for s in $suites; do
		case $s in
		correctness) f=/lab/correctness; set -- /lab/correctness ;;
		client) f=/lab/vm-tests.sh; set -- sh /lab/vm-tests.sh ;;
		docs) f=/lab/samples.sh
		      set -- sh "$f" check /lab/README.md /lab/memtrace.1 ;;
		*) f=/lab/suite-$s.sh; set -- sh "$f" ;;
		esac
		if [ -f "$f" ]; then
			suite "$s" "$@"
		else
			tap_ok 1 "suite: $s (missing: $f)"
		fi
	done

	step "rmmod memtrace" rmmod memtrace
	[ ! -e /proc/memtrace ]
	step "/proc/memtrace gone after rmmod" [ $? = 0 ]
fi

# debugfs may already be mounted by the lab VM's init
[ -e /sys/kernel/debug/kmemleak ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
# (mt_noleakscan=1: the coverage VM, 5 GiB, where a scan takes minutes)
if [ -e /sys/kernel/debug/kmemleak ] && ! grep -qw mt_noleakscan=1 /proc/cmdline; then
	# two scans: kmemleak reports an object only once it is old enough
	echo scan > /sys/kernel/debug/kmemleak
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	leaks=$(grep -c 'unreferenced object' /sys/kernel/debug/kmemleak)
	[ "$leaks" = 0 ] || head -40 /sys/kernel/debug/kmemleak
	step "leak detector scan after rmmod: $leaks objects" [ "$leaks" = 0 ]
fi
# The module's gcov counters (debug kernel, CONFIG_GCOV_KERNEL; kept after
# rmmod by gcov_persist), for tests/run: scripts/vm --out brings /out back.
if [ -d /sys/kernel/debug/gcov ] && [ -d /out ]; then
	mkdir -p /out/gcov
	for f in $(find /sys/kernel/debug/gcov -name '*.gcda'); do
		cat "$f" > "/out/gcov/${f##*/}"
	done
	step "gcov counters copied out: $(ls /out/gcov | wc -l) files" [ -s /out/gcov/main.gcda ]
fi
tap_done
exit 0
