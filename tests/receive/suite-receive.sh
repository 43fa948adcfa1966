#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The receive suite (issue 15, section 1), in the lab VM as root with the
# module loaded: the rcv-* programs next to this script, each printing TAP
# with its plan, and one test line of ours per program: ok only when it is
# there, exits 0 and prints exactly as many results as it planned.
here=$(cd "$(dirname "$0")" && pwd)
rc=0 n=0
for name in proc netlink fd; do
	p=$here/rcv-$name
	n=$((n + 1))
	if [ ! -x "$p" ]; then
		echo "not ok $n - rcv-$name: missing ($p)"
		rc=1
		continue
	fi
	echo "# rcv-$name"
	t0=$(date +%s)
	out=$("$p" 2>&1)
	prc=$?
	secs=$(($(date +%s) - t0))
	echo "$out"
	plan=$(echo "$out" | sed -n 's/^1\.\.\([0-9]*\)$/\1/p' | tail -n1)
	ran=$(echo "$out" | grep -cE '^(not )?ok( |$)')
	if [ "$prc" = 0 ] && [ -n "$plan" ] && [ "$plan" = "$ran" ]; then
		echo "ok $n - rcv-$name: exit 0, plan $plan, $ran results (${secs} s)"
	else
		echo "not ok $n - rcv-$name: exit $prc, plan ${plan:-none}, $ran results (${secs} s)"
		rc=1
	fi
done
echo "1..$n"
exit $rc
