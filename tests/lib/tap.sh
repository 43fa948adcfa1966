# SPDX-License-Identifier: GPL-2.0
# tests/lib/tap.sh: the TAP helpers of the shell test scripts, the shell's
# twin of tests/lib/tap.h. Plain POSIX sh: the in-VM suites source it under
# the guest's busybox sh (from /lab/tap.sh: every scripts/vm run that ships
# a script using it also ships it, --add tests/lib/tap.sh), the host scripts
# under dash or bash. A script finds it next to itself (the guest's /lab)
# or in the tree:
#   here=$(cd "$(dirname "$0")" && pwd)
#   if [ -f "$here/../lib/tap.sh" ]; then . "$here/../lib/tap.sh"; else . "$here/tap.sh"; fi
#
# One line a test, "ok N - DESC" or "not ok N - DESC" ("ok - DESC" when
# tap_numbers=0), "# " diagnostics, and the plan "1..N", printed last by
# tap_done (or first by tap_plan), so that a script need not know its count
# in advance.
#   tap_ok STATUS DESC [LOG]  one test: STATUS 0 passes, like an exit status
#                             (tap_ok $? "..."); a failure prints the last
#                             30 lines of LOG, when given, as diagnostics
#   tap_check DESC CMD...     one test: CMD's exit status (its output goes to
#                             the file $tap_cmd_log when set, appended)
#   tap_skip DESC WHY         "ok N - DESC # SKIP WHY"
#   tap_lack DESC WHY         a test the machine lacks something for (swap,
#                             a user, a helper...): a skip, but in the lab
#                             lane (MT_LANE=1, tests/vm-suite.sh), which
#                             provides all of it, a failure (tap.h's tap_skip)
#   tap_diag TEXT...          "# TEXT"
#   tap_plan N                "1..N" now (tap_done then prints no plan)
#   tap_done                  "1..N" (unless planned) and "# P passed, F failed"
#   tap_exit                  returns 1 if a test failed, else 0: a
#                             script's last command, its exit status
#   tap_on_fail DESC          called after each failure's line; does nothing
#                             unless the script defines its own after
#                             sourcing this file (to show a failure's output)
# Every function but tap_exit returns 0, so that scripts under set -e may
# call them.
# State: tap_n (tests so far) and tap_failed; a script that relays another
# program's results, already printed, adds them to these.

tap_n=0
tap_failed=0
tap_planned=
tap_numbers=1

tap_on_fail() { :; }

# tap_line RESULT DESC [DIRECTIVE]: RESULT "ok" or "not ok"
tap_line() {
	tap_n=$((tap_n + 1))
	if [ "$tap_numbers" = 1 ]; then
		printf '%s %d -' "$1" "$tap_n"
	else
		printf '%s -' "$1"
	fi
	[ -z "$2" ] || printf ' %s' "$2"
	[ -z "${3:-}" ] || printf ' # %s' "$3"
	printf '\n'
}

tap_ok() {
	if [ "$1" = 0 ]; then
		tap_line ok "$2"
	else
		tap_line "not ok" "$2"
		tap_failed=$((tap_failed + 1))
		[ -z "${3:-}" ] || tail -n 30 "$3" | sed 's/^/# /'
		tap_on_fail "$2"
	fi
	return 0
}

tap_check() {
	tap_desc=$1
	shift
	# (in an if: a failing CMD must not end a script under set -e)
	if [ -n "${tap_cmd_log:-}" ]; then
		if "$@" >>"$tap_cmd_log" 2>&1; then tap_ok 0 "$tap_desc"; else tap_ok $? "$tap_desc"; fi
	elif "$@"; then
		tap_ok 0 "$tap_desc"
	else
		tap_ok $? "$tap_desc"
	fi
}

tap_skip() {
	tap_line ok "$1" "SKIP $2"
}

tap_lack() {
	if [ "${MT_LANE:-}" = 1 ]; then
		tap_line "not ok" "$1" "the lab lane should provide it: $2"
		tap_failed=$((tap_failed + 1))
	else
		tap_line ok "$1" "SKIP $2"
	fi
	return 0
}

tap_diag() {
	printf '# %s\n' "$*"
}

tap_plan() {
	tap_planned=$1
	printf '1..%d\n' "$1"
}

tap_done() {
	[ -n "$tap_planned" ] || printf '1..%d\n' "$tap_n"
	printf '# %d passed, %d failed\n' $((tap_n - tap_failed)) "$tap_failed"
}

tap_exit() {
	[ "$tap_failed" = 0 ]
}

# mt_page_size: the kernel's page size in bytes (4096; 16384 on arm64-16k),
# from smaps (busybox has no getconf).
mt_page_size() {
	getconf PAGESIZE 2>/dev/null ||
		awk '/^KernelPageSize:/ { print $2 * 1024; exit }' /proc/self/smaps
}
