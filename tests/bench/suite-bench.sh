#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In-VM suite (tests/vm-suite.sh runs every /lab/suite-*.sh with the module
# loaded): the benchmark's smoke run. 4 MiB regions, one repeat: every method
# runs and all of them agree on the number of backed pages. Not a timing bar.
if [ ! -x /lab/bench ]; then
	echo "not ok 1 - /lab/bench is missing (make -C tests)"
	exit 1
fi
exec /lab/bench --smoke
