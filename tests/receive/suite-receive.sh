#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The receive suite (issue 15, section 1), in the lab VM as root with the
# module loaded: the rcv-* programs next to this script, each printing TAP
# with its plan, and one test line of ours per program: ok only when it is
# there, exits 0 and prints exactly as many results as it planned.
here=$(cd "$(dirname "$0")" && pwd)
# the TAP helpers: tests/lib/tap.sh in the tree, /lab/tap.sh in the guest
# shellcheck source=tests/lib/tap.sh
if [ -f "$here/../lib/tap.sh" ]; then . "$here/../lib/tap.sh"; else . "$here/tap.sh"; fi
for name in proc netlink fd; do
	p=$here/rcv-$name
	if [ ! -x "$p" ]; then
		tap_ok 1 "rcv-$name: missing ($p)"
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
		tap_ok 0 "rcv-$name: exit 0, plan $plan, $ran results (${secs} s)"
	else
		tap_ok 1 "rcv-$name: exit $prc, plan ${plan:-none}, $ran results (${secs} s)"
	fi
done
tap_done
tap_exit
