#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Reliability: seeded fuzzing of /proc/memtrace writes and of the generic
# netlink family (rel-fuzz), then a known query answered correctly. Runs in
# the lab VM as root with the module loaded (tests/vm-suite.sh). Knobs on the
# kernel command line: mt_seed=N replays a run, mt_quick=1 does 10x fewer.
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/rel-fuzz"
