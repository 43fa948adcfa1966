#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Reliability: the module's lifecycle, in the lab VM as root, module loaded
# (tests/vm-suite.sh). rmmod while /proc/memtrace files are open (one in the
# middle of a big pages-mode answer) and queries are in flight; rmmod while a
# netlink dump is in flight (refused, as the dump holds the module) and after
# its socket is closed mid-dump; stale files and family ids afterwards;
# 200 insmod/rmmod cycles (mt_quick=1: 20), each checked by a one-line query;
# no module parameters. Leaves the module loaded.
here=$(cd "$(dirname "$0")" && pwd)
# the TAP helpers: tests/lib/tap.sh in the tree, /lab/tap.sh in the guest
# shellcheck source=tests/lib/tap.sh
if [ -f "$here/../lib/tap.sh" ]; then . "$here/../lib/tap.sh"; else . "$here/tap.sh"; fi
L=$here/rel-life
KO=${MEMTRACE_KO:-$here/memtrace.ko}
[ -f "$KO" ] || KO=/lab/memtrace.ko
tmp=$(mktemp -d /tmp/rel-life.XXXXXX)
loaded() { grep -q '^memtrace ' /proc/modules; }
wait_file() { i=0; while [ ! -e "$1" ] && [ $i -lt 3000 ]; do sleep 0.02; i=$((i + 1)); done; [ -e "$1" ]; }
# helper_out FILE NAME: the helper's TAP lines become ours (counted, and
# printed unnumbered), and one more: it printed as many results as it planned
helper_out() {
	sed -e 's/^ok [0-9]* - /ok - /' -e 's/^not ok [0-9]* - /not ok - /' -e '/^1\.\./d' "$1"
	tap_n=$((tap_n + $(grep -cE '^(not )?ok( |$)' "$1")))
	tap_failed=$((tap_failed + $(grep -cE '^not ok( |$)' "$1")))
	hp=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$1")
	hr=$(grep -cE '^(not )?ok( |$)' "$1")
	tap_ok $([ -n "$hp" ] && [ "$hp" = "$hr" ] && echo 0 || echo 1) "$2: plan ${hp:-none}, $hr results"
}
ensure_loaded() { loaded || insmod "$KO"; }
# reload WHY: the module must be out; insmod it (a test of its own)
reload() {
	! loaded && insmod "$KO" && loaded
	tap_ok $? "insmod $1"
}

cycles=200
grep -q 'mt_quick=1' /proc/cmdline && cycles=20
echo "# kernel $(uname -r), module $KO"

# --- parameters: the testing knobs, nothing else ---------------------------
ensure_loaded
p=$(ls -A /sys/module/memtrace/parameters 2>/dev/null | tr '\n' ' ')
tap_ok $([ "$p" = "pageidx_words stop_early " ] && echo 0 || echo 1) "the module's parameters: pageidx_words and stop_early only (/sys/module/memtrace/parameters: '${p:-absent}')"

# --- rmmod with open files, a partial answer, queries in flight ------------
"$L" proc-hold "$tmp/ready" "$tmp/go" >"$tmp/hold.out" 2>&1 &
hold=$!
wait_file "$tmp/ready"
"$L" proc-loop 12 >"$tmp/loop.out" 2>&1 &
loop=$!
sleep 2
# an open /proc file does not pin the module: proc_remove() waits for the
# calls in progress and later calls fail, so rmmod must complete
rmmod memtrace 2>"$tmp/rmmod.err"
tap_ok $? "rmmod completes with /proc/memtrace files open (one mid-answer) and queries in flight $(cat "$tmp/rmmod.err")"
tap_ok $([ ! -e /proc/memtrace ] && ! loaded && echo 0 || echo 1) "/proc/memtrace and the module are gone"
touch "$tmp/go"
wait $hold
tap_ok $? "stale /proc/memtrace files fail cleanly and close"
helper_out "$tmp/hold.out" proc-hold
sleep 1
reload "after the unload"
wait $loop
tap_ok $? "queries running across the unload and reload: whole answers or clean errors"
helper_out "$tmp/loop.out" proc-loop

# --- a netlink dump in flight ----------------------------------------------
rm -f "$tmp/ready" "$tmp/go"
"$L" nl-hold "$tmp/ready" "$tmp/go" >"$tmp/nl.out" 2>&1 &
h=$!
wait_file "$tmp/ready"
# a dump in flight holds the module (netlink_dump_start() takes a reference
# on the family's module): rmmod must be refused, and everything still work
rmmod memtrace 2>"$tmp/rmmod.err"
rc=$?
[ $rc != 0 ] && loaded && [ -e /proc/memtrace ] && grep -qiE 'in use|busy|temporarily' "$tmp/rmmod.err"
tap_ok $? "rmmod during a netlink dump is refused cleanly (exit $rc: $(cat "$tmp/rmmod.err"))"
touch "$tmp/go"
wait $h
tap_ok $? "the dump in flight ends well formed"
helper_out "$tmp/nl.out" nl-hold
rmmod memtrace
tap_ok $? "rmmod once the dump has finished"
reload "after the dump"

rm -f "$tmp/ready" "$tmp/go"
"$L" nl-hold "$tmp/ready" "$tmp/go" close >"$tmp/nl.out" 2>&1 &
h=$!
wait_file "$tmp/ready"
touch "$tmp/go"
wait $h
tap_ok $? "a socket closed in the middle of a dump: the helper exits 0"
helper_out "$tmp/nl.out" nl-hold-close
rmmod memtrace
tap_ok $? "rmmod after a socket was closed in the middle of a dump"
reload "after it"

rm -f "$tmp/ready" "$tmp/go"
"$L" nl-stale "$tmp/ready" "$tmp/go" >"$tmp/nl.out" 2>&1 &
h=$!
wait_file "$tmp/ready"
rmmod memtrace
tap_ok $? "rmmod with a socket that resolved the family open (no dump)"
touch "$tmp/go"
wait $h
tap_ok $? "a stale netlink family id gets clean errors"
helper_out "$tmp/nl.out" nl-stale
reload "after the stale family test"

# --- insmod with an unknown parameter --------------------------------------
rmmod memtrace
tap_ok $? "rmmod before the unknown-parameter test"
dmesg -c >/dev/null 2>&1
# Linux ignores unknown parameters since 3.17 (with a warning)
insmod "$KO" mt_no_such_param=1 2>"$tmp/insmod.err" && loaded &&
	dmesg | grep -q "unknown parameter 'mt_no_such_param' ignored"
tap_ok $? "insmod with an unknown parameter: loaded, the kernel ignores it with a warning $(cat "$tmp/insmod.err")"
p=$(ls -A /sys/module/memtrace/parameters 2>/dev/null | tr '\n' ' ')
tap_ok $([ "$p" = "pageidx_words stop_early " ] && echo 0 || echo 1) "still pageidx_words and stop_early only after it ('$p')"
rmmod memtrace
tap_ok $? "rmmod after it"

# --- cycles ---------------------------------------------------------------
start=$(date +%s)
bad=0
i=0
psize=$(mt_page_size)
while [ $i -lt $cycles ]; do
	i=$((i + 1))
	if ! insmod "$KO"; then
		bad=$((bad + 1)); echo "# cycle $i: insmod failed"; break
	fi
	exec 3<>/proc/memtrace
	echo "$$ 0 +$psize" >&3
	read -r hdr <&3
	exec 3<&-
	if [ "$hdr" != "# memtrace pid=$$ start=0x0 end=$(printf 0x%x "$psize") page_size=$psize mode=runs" ]; then
		bad=$((bad + 1)); echo "# cycle $i: header '$hdr'"
	fi
	if [ $((i % 10)) = 0 ] && ! "$L" nl-check; then
		bad=$((bad + 1)); echo "# cycle $i: netlink check failed"
	fi
	if ! rmmod memtrace; then
		bad=$((bad + 1)); echo "# cycle $i: rmmod failed"; break
	fi
	[ $bad -gt 5 ] && break
done
secs=$(($(date +%s) - start))
echo "# cycles: $i insmod/rmmod cycles in $secs s, $bad bad"
tap_ok $([ $bad = 0 ] && [ $i = $cycles ] && echo 0 || echo 1) "$i insmod/rmmod cycles, each answering a one-line query (netlink every 10th)"

reload "at the end (the cycles leave it out)"
[ -e /proc/memtrace ]
tap_ok $? "the module is loaded at the end, /proc/memtrace there"
rm -rf "$tmp"
tap_done
tap_exit
