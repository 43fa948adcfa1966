#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The safety suite (kmod issue 14), in the lab VM as root with the module
# loaded: the safety-* programs next to this script, each printing TAP with
# its plan, and one test line of ours per program: ok only when it is there,
# exits 0 and prints exactly as many results as it planned. Our own plan
# comes last.
here=$(cd "$(dirname "$0")" && pwd)
rc=0 n=0
for name in recv window exec ident race; do
	p=$here/safety-$name
	n=$((n + 1))
	if [ ! -x "$p" ]; then
		echo "not ok $n - safety-$name: missing ($p)"
		rc=1
		continue
	fi
	echo "# safety-$name"
	out=$("$p" 2>&1)
	prc=$?
	echo "$out"
	plan=$(echo "$out" | sed -n 's/^1\.\.\([0-9]*\)$/\1/p' | tail -n1)
	ran=$(echo "$out" | grep -cE '^(not )?ok( |$)')
	if [ "$prc" = 0 ] && [ -n "$plan" ] && [ "$plan" = "$ran" ]; then
		echo "ok $n - safety-$name: exit 0, plan $plan, $ran results"
	else
		echo "not ok $n - safety-$name: exit $prc, plan ${plan:-none}, $ran results"
		rc=1
	fi
done
echo "1..$n"
exit $rc
