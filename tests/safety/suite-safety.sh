#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The safety suite (kmod issue 14), in the lab VM as root with the module
# loaded: the safety-* programs next to this script, each printing TAP with
# its plan, and one test line of ours per program: ok only when it is there,
# exits 0 and prints exactly as many results as it planned. Our own plan
# comes last.
here=$(cd "$(dirname "$0")" && pwd)
# the TAP helpers: tests/lib/tap.sh in the tree, /lab/tap.sh in the guest
# shellcheck source=tests/lib/tap.sh
if [ -f "$here/../lib/tap.sh" ]; then . "$here/../lib/tap.sh"; else . "$here/tap.sh"; fi
for name in recv window exec ident race; do
	p=$here/safety-$name
	if [ ! -x "$p" ]; then
		tap_ok 1 "safety-$name: missing ($p)"
		continue
	fi
	echo "# safety-$name"
	out=$("$p" 2>&1)
	prc=$?
	echo "$out"
	plan=$(echo "$out" | sed -n 's/^1\.\.\([0-9]*\)$/\1/p' | tail -n1)
	ran=$(echo "$out" | grep -cE '^(not )?ok( |$)')
	if [ "$prc" = 0 ] && [ -n "$plan" ] && [ "$plan" = "$ran" ]; then
		tap_ok 0 "safety-$name: exit 0, plan $plan, $ran results"
	else
		tap_ok 1 "safety-$name: exit $prc, plan ${plan:-none}, $ran results"
	fi
done
tap_done
tap_exit
