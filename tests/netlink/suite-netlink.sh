#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In-VM suite of the generic netlink family and the client's netlink
# transport (TAP). Runs as root in the lab VM (busybox sh) with the module
# loaded; tests/run picks it up as /lab/suite-netlink.sh, tests/netlink/run
# runs it on its own. Programs, from /lab unless set in the environment:
#   MEMTRACE  the client            RUNAS     tests/client/runas
#   MEMTRACE_VG  the client valgrind runs (default: /lab/memtrace-vg when
#             there is one, the arm64 lanes' dynamic build: memcheck sees no
#             malloc of a static program; else MEMTRACE)
#   PATTERNS  tests/netlink/patterns    NLBAD  tests/netlink/nlbad
#   BOUNDED   tests/netlink/bounded     MODULE the .ko (for the unload tests)
# 1. transport equivalence: a stopped target (patterns.c: the correctness
#    suite's regions, a fork+COW child, THP) answers the same, record by
#    record, through --transport=proc and --transport=netlink, in runs and
#    pages modes, over each region and "all", as root and as uid 1000 on its
#    own process; verify agrees with pagemap through netlink;
# 2. nlbad: malformed requests, each with its errno and extended ACK;
# 3. bounded: memory does not grow with the range, kernel or client;
# 4. the default transport, and what happens when the module is unloaded
#    (then it is loaded again); valgrind of the netlink client (tests/run
#    and tests/netlink/run add it to the VM; only MT_NO_VALGRIND=1, set by
#    tests/netlink/run --no-valgrind, makes its absence a skip).
# A program that is missing is a failure, not a skip.

here=$(cd "$(dirname "$0")" && pwd)
# the TAP helpers: tests/lib/tap.sh in the tree, /lab/tap.sh in the guest
# shellcheck source=tests/lib/tap.sh
if [ -f "$here/../lib/tap.sh" ]; then . "$here/../lib/tap.sh"; else . "$here/tap.sh"; fi
L=/lab
MEMTRACE=${MEMTRACE:-$L/memtrace}
RUNAS=${RUNAS:-$L/runas}
PATTERNS=${PATTERNS:-$L/patterns}
NLBAD=${NLBAD:-$L/nlbad}
BOUNDED=${BOUNDED:-$L/bounded}
MODULE=${MODULE:-$L/memtrace.ko}
if [ -z "$MEMTRACE_VG" ] && [ -x "$L/memtrace-vg" ]; then MEMTRACE_VG=$L/memtrace-vg; fi
MEMTRACE_VG=${MEMTRACE_VG:-$MEMTRACE}
tmp=$(mktemp -d /tmp/mt-nl.XXXXXX)
chmod 1777 "$tmp"	# uid 1000 writes its regions file here
pids=

cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$tmp"
	# never left set (stop_early() below): answers would come an entry a message
	[ -w /sys/module/memtrace/parameters/stop_early ] &&
		echo N >/sys/module/memtrace/parameters/stop_early
}
trap cleanup EXIT

# need PROG NAME: PROG is there, or NAME fails
need() {
	[ -x "$1" ] && return 0
	tap_ok 1 "$2: $1 is missing (make -C tests)"
	return 1
}

# mt [--as UID] ARGS...: the client, as root or as UID, output in $tmp/out, $tmp/err
mt() {
	if [ "$1" = --as ]; then
		u=$2
		shift 2
		"$RUNAS" "$u" "$u" "$MEMTRACE" "$@" >"$tmp/out" 2>"$tmp/err"
	else
		"$MEMTRACE" "$@" >"$tmp/out" 2>"$tmp/err"
	fi
}

show() { sed 's/^/#   /' "$@" | head -20; }

# wait_stopped PID: until the process is in state T (stopped)
wait_stopped() {
	i=0
	while [ $i -lt 200 ]; do
		st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
		[ "$st" = T ] && return 0
		sleep 0.05 2>/dev/null || sleep 1
		i=$((i + 1))
	done
	return 1
}

[ "$(id -u)" -eq 0 ] || echo "# warning: not root; some tests will fail"
echo "# kernel $(uname -r), client $("$MEMTRACE" --version 2>&1)"
if [ ! -e /proc/memtrace ] && [ -f "$MODULE" ]; then
	echo "# the module is not loaded (an earlier suite unloaded it?): insmod $MODULE"
	insmod "$MODULE"
fi

# ---- the default transport ----
mt info
tap_ok $? "info answers (GET_INFO)"
grep -q '^transport: *netlink' "$tmp/out"
tap_ok $? "the default transport is netlink when the family resolves"
show "$tmp/out"
MEMTRACE_PROC=/proc/memtrace "$MEMTRACE" info >"$tmp/out" 2>&1
grep -q '^transport: *proc' "$tmp/out"
tap_ok $? "MEMTRACE_PROC set: the default is proc"
mt --transport=proc info
grep -q '^transport: *proc' "$tmp/out"
tap_ok $? "--transport=proc info: says proc"
mt info --json
grep -q "\"transport\":\"netlink\".*\"page_size\":$(mt_page_size),\"nstates\":7," "$tmp/out"
tap_ok $? "info --json"

# ---- 1. transport equivalence on stopped targets ----
# ask3 AS PID RANGE MODE: the answer through proc, netlink (packed, the
# default: pages a byte each), netlink packed with a word a page, and netlink
# with nested records, in $tmp/proc, $tmp/nl, $tmp/words, $tmp/nest; true
# when all four succeeded and are the same
ask3() {
	mt $1 --transport=proc query --$4 --tsv "$2" "$3"
	rp=$?
	cp "$tmp/out" "$tmp/proc"
	cp "$tmp/err" "$tmp/proc.err"
	mt $1 --transport=netlink query --$4 --tsv "$2" "$3"
	rn=$?
	cp "$tmp/out" "$tmp/nl"
	cp "$tmp/err" "$tmp/nl.err"
	export MEMTRACE_NL_WORDS=1
	mt $1 --transport=netlink query --$4 --tsv "$2" "$3"
	rw=$?
	unset MEMTRACE_NL_WORDS
	cp "$tmp/out" "$tmp/words"
	export MEMTRACE_NL_NESTED=1
	mt $1 --transport=netlink query --$4 --tsv "$2" "$3"
	rs=$?
	unset MEMTRACE_NL_NESTED
	cp "$tmp/out" "$tmp/nest"
	[ $rp -eq 0 ] && [ $rn -eq 0 ] && [ $rw -eq 0 ] && [ $rs -eq 0 ] &&
		cmp -s "$tmp/proc" "$tmp/nl" && cmp -s "$tmp/nl" "$tmp/words" &&
		cmp -s "$tmp/nl" "$tmp/nest"
}

# equiv WHO PID RANGE MODE NAME: proc and netlink (both encodings) answer the same
equiv() {
	who=$1 pid=$2 range=$3 mode=$4 name=$5
	as=
	[ "$who" = root ] || as="--as $who"
	what="$who: $name, $mode mode: proc == netlink packed (bytes) == words == nested"
	if ask3 "$as" "$pid" "$range" "$mode"; then
		tap_ok 0 "$what ($(grep -vc '^#' "$tmp/nl") records)"
		return
	fi
	# A stopped target does not change, but the kernel may (khugepaged,
	# reclaim): ask once more before calling it a difference.
	echo "# $who $name $mode: first answers differ (exit proc $rp, packed $rn, words $rw," \
		"nested $rs); asking again"
	diff "$tmp/proc" "$tmp/nl" 2>/dev/null | head -6 | sed 's/^/#   /'
	diff "$tmp/nl" "$tmp/words" 2>/dev/null | head -6 | sed 's/^/#   /'
	diff "$tmp/nl" "$tmp/nest" 2>/dev/null | head -6 | sed 's/^/#   /'
	ask3 "$as" "$pid" "$range" "$mode"
	r=$?
	tap_ok $r "$what ($(grep -vc '^#' "$tmp/nl") records)"
	if [ $r -ne 0 ]; then
		echo "#   exit proc $rp, packed $rn, words $rw, nested $rs"
		show "$tmp/proc.err" "$tmp/nl.err" "$tmp/err"
		diff "$tmp/proc" "$tmp/nl" 2>/dev/null | head -20 | sed 's/^/#   /'
		diff "$tmp/nl" "$tmp/words" 2>/dev/null | head -20 | sed 's/^/#   /'
		diff "$tmp/nl" "$tmp/nest" 2>/dev/null | head -20 | sed 's/^/#   /'
	fi
}

# equiv_all WHO: start patterns as WHO, compare every region and "all"
equiv_all() {
	who=$1
	file=$tmp/regions-$who
	if [ "$who" = root ]; then
		"$PATTERNS" "$file" &
	else
		"$RUNAS" "$who" "$who" "$PATTERNS" "$file" &
	fi
	tp=$!
	pids="$pids $tp"
	if ! wait_stopped $tp || ! grep -q '^done ' "$file" 2>/dev/null; then
		tap_ok 1 "$who: the patterns target sets up and stops"
		return
	fi
	cp=$(awk '$1 == "child" { print $2 }' "$file")
	pids="$pids $cp"
	tap_ok 0 "$who: the patterns target (pid $tp, COW child $cp) sets up and stops"
	while read -r name pid start end; do
		case $name in child|done) continue ;; esac
		for mode in runs pages; do
			equiv "$who" "$pid" "$start-$end" $mode "$name"
		done
	done <"$file"
	for pid in $tp $cp; do
		for mode in runs pages; do
			equiv "$who" "$pid" all $mode "all of pid $pid"
		done
	done
	# the netlink answers against pagemap too
	as=
	[ "$who" = root ] || as="--as $who"
	mt $as --transport=netlink verify "$tp" all
	r=$?
	tap_ok $r "$who: verify --transport=netlink of the whole target agrees with pagemap"
	[ $r -eq 0 ] || show "$tmp/out" "$tmp/err"
	mt $as --transport=netlink verify "$cp" all
	r=$?
	tap_ok $r "$who: verify --transport=netlink of the COW child agrees with pagemap"
	[ $r -eq 0 ] || show "$tmp/out" "$tmp/err"
	kill -9 $tp $cp 2>/dev/null
}

# patterns_target NAME WHAT: root's stopped patterns target (regions in
# $tmp/regions-NAME) as $tp, its COW child as $cp; or a failure for WHAT
patterns_target() {
	"$PATTERNS" "$tmp/regions-$1" &
	tp=$!
	pids="$pids $tp"
	if ! wait_stopped $tp || ! grep -q '^done ' "$tmp/regions-$1" 2>/dev/null; then
		tap_ok 1 "$2: the patterns target sets up and stops"
		return 1
	fi
	cp=$(awk '$1 == "child" { print $2 }' "$tmp/regions-$1")
	pids="$pids $cp"
}

# small_words: index vectors that end because their words are full (the
# module's pageidx_words knob at 1 and 2) answer as the others do
small_words() {
	knob=/sys/module/memtrace/parameters/pageidx_words
	patterns_target words "small index vectors" || return
	old=$(cat $knob 2>/dev/null)
	tap_ok $? "the module has the pageidx_words knob (${old:-none})"
	for k in 1 2; do
		echo $k >$knob && [ "$(cat $knob)" = $k ]
		tap_ok $? "pageidx_words set to $k (reads $(cat $knob 2>/dev/null))"
		for pid in $tp $cp; do
			equiv root "$pid" all pages "all of pid $pid, $k word(s) an index vector"
		done
	done
	echo "${old:-64}" >$knob && [ "$(cat $knob)" = "${old:-64}" ]
	tap_ok $? "pageidx_words back to ${old:-64}"
	kill -9 $tp $cp 2>/dev/null
}

# stop_early: every dump call stops its walk at the first place it may (as
# at the deadline that keeps a call from waiting for a busy lock), so an
# answer comes a page table at a time and goes on where each call stopped:
# it answers as the others do
stop_early() {
	knob=/sys/module/memtrace/parameters/stop_early
	patterns_target early "stopping early" || return
	echo Y >$knob && [ "$(cat $knob)" = Y ]
	tap_ok $? "stop_early set (reads $(cat $knob 2>/dev/null))"
	for pid in $tp $cp; do
		for mode in runs pages; do
			equiv root "$pid" all $mode "all of pid $pid, each call stopping early"
		done
	done
	# a file's page cache (the client itself: all in the page cache), a
	# page-cache entry a call
	"$MEMTRACE" --transport=netlink file --tsv --pages "$MEMTRACE" >"$tmp/file-early" 2>&1
	rc=$?
	echo N >$knob
	"$MEMTRACE" --transport=netlink file --tsv --pages "$MEMTRACE" >"$tmp/file-late" 2>&1
	[ $rc = 0 ] && cmp -s "$tmp/file-early" "$tmp/file-late" &&
		[ "$(grep -c cached "$tmp/file-late")" -gt 1 ]
	tap_ok $? "file --pages of $MEMTRACE, each call stopping early: as answered at once ($(grep -c cached "$tmp/file-late") cached pages)"
	[ $rc = 0 ] || sed 's/^/#   /' "$tmp/file-early" | head -5
	[ "$(cat $knob)" = N ]
	tap_ok $? "stop_early back to N (reads $(cat $knob 2>/dev/null))"
	kill -9 $tp $cp 2>/dev/null
}

if need "$PATTERNS" "transport equivalence"; then
	equiv_all root
	small_words
	stop_early
fi
if [ ! -x "$PATTERNS" ]; then
	:
elif need "$RUNAS" "uid 1000 equivalence" && id lab >/dev/null 2>&1; then
	equiv_all 1000
	# and uid 1000 may not look at root's stopped target
	"$PATTERNS" "$tmp/regions-other" &
	tp=$!
	pids="$pids $tp"
	wait_stopped $tp
	mt --as 1000 --transport=netlink query "$tp" all
	r=$?
	[ $r -eq 1 ] && grep -q "permission denied" "$tmp/err"
	tap_ok $? "uid 1000 on root's process over netlink: exit 1 ($r), permission denied"
	show "$tmp/err"
	grep -q "kernel says: " "$tmp/err"
	tap_ok $? "uid 1000 on root's process: the kernel's message is printed"
	kill -9 $tp $(awk '$1 == "child" { print $2 }' "$tmp/regions-other") 2>/dev/null
else
	tap_ok 1 "uid 1000 equivalence: the lab VM has no user lab"
fi

# ---- errors through the client ----
mt --transport=netlink query 999999 0x1000+4096
r=$?
[ $r -eq 1 ] && grep -q "no such process" "$tmp/err"
tap_ok $? "netlink, no such process: exit 1 ($r), no such process"
grep -q "^memtrace: kernel says: " "$tmp/err"
tap_ok $? "netlink, no such process: 'memtrace: kernel says: ...'"
show "$tmp/err"
mt --transport=netlink query 1 0x0-0xffffffffffff000
r=$?
[ $r -eq 1 ] && grep -q "is outside the user address space of process 1: it ends past the task size" "$tmp/err" &&
	grep -q "kernel says: START or END is past the process's TASK_SIZE" "$tmp/err"
tap_ok $? "netlink, END past TASK_SIZE: exit 1 ($r), outside the user address space, and the kernel's why"
show "$tmp/err"

# ---- 2. malformed requests ----
if need "$NLBAD" nlbad; then
	echo "# nlbad"
	"$NLBAD"
	tap_ok $? "nlbad: every malformed request refused as documented"
fi

# ---- 3. bounded memory ----
if need "$BOUNDED" bounded; then
	echo "# bounded"
	"$BOUNDED" "$MEMTRACE"
	tap_ok $? "bounded: the dump streams in bounded memory"
fi

# ---- 4. valgrind of the netlink client ----
if [ -n "$MT_NO_VALGRIND" ]; then
	tap_skip "valgrind of the netlink client" "MT_NO_VALGRIND set (tests/netlink/run --no-valgrind)"
elif ! command -v valgrind >/dev/null 2>&1; then
	tap_ok 1 "valgrind of the netlink client: no valgrind in the VM (scripts/setup installs valgrind and libc6-dbg)"
else
	# slow under TCG: a few runs that cover the transport's paths
	vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"
	sleep 1000 &
	sp=$!
	pids="$pids $sp"
	for t in "0 info --json" "0 query --pages $sp all" "0 verify $sp all" "0 demo --tsv" \
		"1 query 999999 all" "1 query $sp 0x0-0xffffffffffff000"; do
		want=${t%% *} args=${t#* }
		$vg "$MEMTRACE_VG" --transport=netlink $args >"$tmp/out" 2>"$tmp/err"
		r=$?
		[ $r -eq "$want" ] && ! grep -q '^==' "$tmp/err"
		tap_ok $? "valgrind: memtrace --transport=netlink $args (exit $r, want $want, no error, no leak)"
		[ $r -eq "$want" ] || show "$tmp/err"
	done
	kill $sp 2>/dev/null
fi

# ---- 5. the module unloaded, then loaded again ----
# Nothing holds the module now: a refused rmmod is a leaked reference, the
# very thing this block exists to catch, so it fails, and so do the tests
# after it (they run regardless).
if [ ! -f "$MODULE" ]; then
	tap_ok 1 "module unload tests: $MODULE is missing"
else
	rmmod memtrace 2>"$tmp/err"
	tap_ok $? "rmmod memtrace after the suite (nothing holds it) $(cat "$tmp/err")"
	mt query $$ all
	r=$?
	[ $r -eq 1 ] && grep -q "the memtrace module is not loaded" "$tmp/err"
	tap_ok $? "unloaded, default transport: exit 1 ($r), the module is not loaded"
	show "$tmp/err"
	mt --transport=netlink query $$ all
	r=$?
	[ $r -eq 1 ] && grep -q 'family "memtrace" not found: the memtrace module is not loaded' "$tmp/err"
	tap_ok $? "unloaded, --transport=netlink: exit 1 ($r), the module is not loaded"
	mt info
	r=$?
	[ $r -eq 1 ] && grep -q "the memtrace module is not loaded" "$tmp/err"
	tap_ok $? "unloaded, info: exit 1 ($r), the module is not loaded"
	insmod "$MODULE"
	tap_ok $? "insmod again"
	mt info
	tap_ok $? "loaded again: info answers"
	mt query $$ '[stack]'
	tap_ok $? "loaded again: a query answers"
fi

tap_done
tap_exit
