#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The safety suite (kmod issue 14), in the lab VM as root with the module
# loaded: every safety-* program next to this script, each printing TAP with
# its plan; a program that exits non-zero, or prints fewer results than it
# planned, fails here too.
here=$(cd "$(dirname "$0")" && pwd)
rc=0
for p in "$here"/safety-*; do
	[ -x "$p" ] || continue
	name=${p##*/}
	echo "# $name"
	out=$("$p" 2>&1)
	prc=$?
	echo "$out"
	plan=$(echo "$out" | sed -n 's/^1\.\.\([0-9]*\).*/\1/p' | tail -n1)
	ran=$(echo "$out" | grep -cE '^(not )?ok ')
	if [ "$prc" != 0 ] || [ -z "$plan" ] || [ "$plan" != "$ran" ]; then
		echo "not ok - $name: exit $prc, plan ${plan:-none}, $ran results"
		rc=1
	fi
done
exit $rc
