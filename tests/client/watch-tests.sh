#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host tests of memtrace watch, through the stand-in module fakemod.py: a
# target driven through the demo's stages (target --stages: mmap, read,
# pattern, write, dontneed, munmap, exit) while watch looks, off a terminal
# (a line per change: human, --json, --tsv) and on one, under tmux (the
# screens captured with capture-pane; q, Ctrl-C, SIGTERM, a resize, an
# error, the exit: the terminal as it was after each). TAP output.
#   MEMTRACE=path/to/memtrace TARGET=path/to/target sh watch-tests.sh
# MEMTRACE may be a command line ("valgrind -q ... memtrace").

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/tap.sh
if [ -f "$here/../lib/tap.sh" ]; then . "$here/../lib/tap.sh"; else . "$here/tap.sh"; fi
MEMTRACE=${MEMTRACE:-$here/../../user/memtrace}
TARGET=${TARGET:-$here/target}
tmp=$(mktemp -d)
sock= socks=
tpid= spid=
ps=$(getconf PAGESIZE)
export MEMTRACE TARGET

cleanup() {
	for t in $socks; do
		tmux -L "$t" kill-server 2>/dev/null
		rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$t"
	done
	exec 3>&- 2>/dev/null
	[ -n "$tpid" ] && kill "$tpid" 2>/dev/null
	[ -n "$spid" ] && kill "$spid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

tap_on_fail() { sed 's/^/#   /' "$tmp/out" "$tmp/err" 2>/dev/null | head -30; }

run() { # EXPECTED-EXIT NAME ARGS...
	want=$1 name=$2
	shift 2
	$MEMTRACE "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq "$want" ]
	tap_ok $? "$name (exit $rc, want $want)"
}

has() { # FILE PATTERN NAME
	grep -Eq -- "$2" "$1"
	tap_ok $? "$3"
}

unset MEMTRACE_FAKE_ANSWER MEMTRACE_FAKE_LIE MEMTRACE_PROC NO_COLOR COLUMNS

# ---- usage, help, man page, completion ----
run 2 "watch without arguments" watch
run 2 "watch without RANGE" watch 1
run 2 "watch -n 0.05: below 0.1 s" watch -n 0.05 1 all
has "$tmp/err" "--interval: seconds from 0.1 to 86400, not '0.05'" "says what -n takes"
run 2 "watch -n 1e1 (not a plain decimal)" watch -n 1e1 1 all
run 2 "watch -n -1" watch -n -1 1 all
run 2 "watch -n without its argument" watch -n
has "$tmp/err" "option '-n' needs an argument" "says -n needs an argument"
run 2 "watch --count 0" watch --count 0 1 all
run 2 "watch --count x" watch --count x 1 all
run 0 "watch --help" watch --help
for o in "-n, --interval SECONDS" "--count N" "--until-exit"; do
	has "$tmp/out" "^ *$o " "watch --help lists $o"
done
run 0 "help watch" help watch
run 0 "--help" --help
has "$tmp/out" "^  watch " "--help lists watch"

# (the man page's and README's watch options: docs-tests.sh, for every command)

if command -v bash >/dev/null; then
	$MEMTRACE --bash-completion >"$tmp/completion"
	cat >"$tmp/complete.sh" <<'COMP'
. "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMPREPLY=()
_memtrace
printf '%s\n' "${COMPREPLY[@]}"
COMP
	bash "$tmp/complete.sh" "$tmp/completion" memtrace "" >"$tmp/out"
	grep -qx watch "$tmp/out"
	tap_ok $? "completion offers the watch command"
	bash "$tmp/complete.sh" "$tmp/completion" memtrace watch - | sed 's/=$//' | sort >"$tmp/got"
	$MEMTRACE help watch | grep -oE -- '--[a-z-]+' | sort -u >"$tmp/want"
	cmp -s "$tmp/got" "$tmp/want"
	tap_ok $? "completion offers the options of watch that its --help lists"
	bash "$tmp/complete.sh" "$tmp/completion" memtrace watch -n 1 "" >"$tmp/out"
	grep -qx "$$" "$tmp/out"
	tap_ok $? "completion after watch -n SECONDS offers PIDs"
	bash "$tmp/complete.sh" "$tmp/completion" memtrace watch --count 3 "$$" "" >"$tmp/out"
	grep -qx all "$tmp/out"
	tap_ok $? "completion after watch --count N PID offers ranges"
else
	tap_skip "" "watch's completion: no bash"
fi

# ---- the stand-in module; a target driven through the stages ----
# fakemod.py starts once a frame: the interpreter itself, not a wrapper
# (a pyenv shim takes seconds)
py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
if [ -z "$py" ] || [ ! -r /proc/self/pagemap ]; then
	tap_skip "" "memtrace watch through fakemod.py: no python3 or no pagemap"
	tap_done
	tap_exit
	exit
fi
export MEMTRACE_FAKE_ANSWER="|$py $here/fakemod.py"

# start_target: target --stages 16, its stdin on fd 3; sets tpid, addr, range
start_target() {
	rm -f "$tmp/in" "$tmp/tout"
	mkfifo "$tmp/in"
	"$TARGET" --stages 16 <"$tmp/in" >"$tmp/tout" &
	tpid=$!
	exec 3>"$tmp/in"
	i=0
	while [ ! -s "$tmp/tout" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	addr=$(head -n 1 "$tmp/tout")
	range=$addr+$((16 * ps))
}

# stage NAME: the target does it (and says so)
stage() {
	echo "$1" >&3
	i=0
	while ! grep -qx "ok $1" "$tmp/tout" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}

end_target() {
	echo exit >&3
	exec 3>&-
	wait "$tpid" 2>/dev/null
	tpid=
}

# until_in FILE PATTERN: wait (15 s at most) for a line matching PATTERN
until_in() {
	i=0
	while ! grep -Eq -- "$2" "$1" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	grep -Eq -- "$2" "$1" 2>/dev/null
}

# ---- off a terminal: a line per change ----
for fmt in human json tsv; do
	start_target
	case $fmt in human) f= ;; *) f=--$fmt ;; esac
	# shellcheck disable=SC2086
	$MEMTRACE watch $f -n 0.1 --until-exit "$tpid" "$range" >"$tmp/w.$fmt" 2>"$tmp/w.$fmt.err" &
	wpid=$!
	case $fmt in
	human) first='frame 1: .*unmapped 16' ;;
	json) first='"event":"frame","frame":1,' ;;
	tsv) first='^frame	1	' ;;
	esac
	until_in "$tmp/w.$fmt" "$first"
	for s in mmap read pattern write dontneed munmap; do
		n=$(wc -l <"$tmp/w.$fmt")
		stage $s
		# a stage that changes no page (pattern and write, where a read
		# fault gets a frame) prints nothing: then 1 s of frames
		i=0
		while [ "$(wc -l <"$tmp/w.$fmt")" -le "$n" ] && [ $i -lt 10 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		sleep 0.5	# the frame that printed it may have more to print
	done
	case $fmt in	# the frame of the munmap, before the exit
	human) last='unmapped 16 \(\+16\); 16 pages changed' ;;
	json) last='"changed":16,"counts":\{"unmapped":16,' ;;
	tsv) last='^frame	[0-9]+	[0-9.]+	16	16	' ;;
	esac
	until_in "$tmp/w.$fmt" "$last"
	end_target
	wait "$wpid"
	echo $? >"$tmp/w.$fmt.rc"
	echo "$addr" >"$tmp/w.$fmt.addr"
done
addr=$(cat "$tmp/w.human.addr")
cp "$tmp/w.human" "$tmp/out"
cp "$tmp/w.human.err" "$tmp/err"
[ "$(cat "$tmp/w.human.rc")" = 0 ]
tap_ok $? "lines: --until-exit: the target's exit ends the watch, exit 0"
has "$tmp/out" "^memtrace watch: pid [0-9]+, $addr-0x[0-9a-f]+, 16 pages of [0-9]+ KiB, every 0.1s: a line when pages change$" \
	"lines: a first line says what is watched"
has "$tmp/out" "^[0-9:]{8} frame 1: present 0  zero 0  none 0  unmapped 16; VmRSS [0-9.]+ [KMG]iB, smaps Rss [0-9.]+ [KMG]iB$" \
	"lines: frame 1: the counts, VmRSS and smaps Rss"
has "$tmp/out" "^[0-9:]{8} mapped $addr-0x[0-9a-f]+ rw-p offset 0x0$" "lines: the mapping that appears"
has "$tmp/out" "none 16 \(\+16\)  unmapped 0 \(-16\); 16 pages changed" "lines: mmap: 16 pages unmapped -> none"
has "$tmp/out" "present 16 \(\+16\).*; 16 pages changed; VmRSS" "lines: write: all 16 present"
has "$tmp/out" "present 0 \(-16\)  zero 0  none 16 \(\+16\); 16 pages changed" "lines: dontneed: 16 present -> none"
has "$tmp/out" "^[0-9:]{8} unmapped $addr-0x[0-9a-f]+ rw-p offset 0x0$" "lines: the mapping that goes away"
has "$tmp/out" "^[0-9:]{8} process [0-9]+ exited$" "lines: the exit"
n=$(grep -c ' frame [0-9]*: ' "$tmp/out")
f=$(sed -n 's/.* frame \([0-9]*\): .*/\1/p' "$tmp/out" | tail -n 1)
[ "$n" -ge 5 ] && [ "$n" -lt "$f" ]
tap_ok $? "lines: a line per frame that changed, not per frame ($n lines, $f frames)"
if command -v python3 >/dev/null; then
	python3 - "$tmp/w.json" "$(cat "$tmp/w.json.addr")" <<'PY' >"$tmp/out" 2>&1
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
kinds = [e["event"] for e in ev]
assert kinds[0] == "start" and ev[0]["pages"] == 16 and ev[0]["start"] == sys.argv[2], ev[0]
assert kinds[-1] == "exited", kinds
frames = [e for e in ev if e["event"] == "frame"]
assert frames[0]["changed"] is None and frames[0]["counts"]["unmapped"] == 16
assert all(f["changed"] > 0 for f in frames[1:]), frames
maps = [f["map"] for f in frames]
assert maps[0] == " " * 16 and "." * 16 in maps and "#" * 16 in maps, maps
assert any(set(m) <= set("0#") for m in maps), maps
assert maps[-1] == " " * 16, maps
m = [e for e in ev if e["event"] in ("mapped", "unmapped")]
assert [e["event"] for e in m] == ["mapped", "unmapped"], m
assert m[0]["start"] == sys.argv[2] and m[0]["perms"] == "rw-p" and m[0]["name"] == "", m
assert all(isinstance(f["vmrss_kb"], int) and isinstance(f["smaps_rss_kb"], int) for f in frames)
print(len(ev), "objects")
PY
	tap_ok $? "--json: one object a line: start, frames (changed, counts, map: '.' -> '0'/'#' -> '#'), mapped, unmapped, exited"
fi
addr=$(cat "$tmp/w.tsv.addr")
has "$tmp/w.tsv" "^# memtrace-watch pid=[0-9]+ start=$addr end=0x[0-9a-f]+ pages=16 page_size=$ps scale=1 interval=0.1$" \
	"--tsv: the # header names the range and the page size"
has "$tmp/w.tsv" "^frame	1	[0-9.]+	-	16	0	0	0	0	0	0	[0-9]+	[0-9]+	 {16}$" \
	"--tsv: frame 1: no change yet, 16 unmapped, a map of 16 blanks"
has "$tmp/w.tsv" "^frame	[0-9]+	[0-9.]+	16	0	16	0	0	0	0	0	[0-9]+	[0-9]+	\.{16}$" \
	"--tsv: a frame of 16 none pages"
has "$tmp/w.tsv" "^mapped	[0-9]+	[0-9.]+	$addr	0x[0-9a-f]+	rw-p	0x0	-	-	$" "--tsv: the mapped line"
has "$tmp/w.tsv" "^exited	[0-9]+	[0-9.]+$" "--tsv: the exited line"

# without --until-exit the exit is a failure; --count; a signal
start_target
$MEMTRACE watch -n 0.1 "$tpid" "$range" >"$tmp/out" 2>"$tmp/err" &
wpid=$!
until_in "$tmp/out" "frame 1:"
end_target
wait "$wpid"
rc=$?
[ "$rc" = 1 ] && grep -q "^memtrace: process $tpid exited$" "$tmp/err" 2>/dev/null ||
	{ [ "$rc" = 1 ] && grep -q "process [0-9]* exited$" "$tmp/err"; }
tap_ok $? "lines: without --until-exit the exit fails the watch, and it says so (exit $rc)"
"$TARGET" "$tmp" >"$tmp/saddr" &
spid=$!
i=0
while [ ! -s "$tmp/saddr" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
srange=$(cat "$tmp/saddr")+$((8 * ps))
run 0 "--count 3 --json: three frames, then exit 0" watch --count 3 -n 0.1 --json "$spid" "$srange"
[ "$(grep -c '"event":"frame"' "$tmp/out")" = 1 ] && grep -q '"map":"####...."' "$tmp/out"
tap_ok $? "--count 3 --json: a still target: one frame line (####....), the first"
# --state, --flags, --totals: the totals of the pages they choose, each frame
run 0 "--state present --flags w: a frame" watch --count 1 --state present --flags w "$spid" "$srange"
has "$tmp/out" "; chosen: 4 pages: 4 present; THP 0, hugetlb 0; exclusive [0-9]*, shared [0-9]*; node" \
	"--state present --flags w: the line says the 4 written pages are chosen"
run 0 "--state none --tsv: a frame" watch --count 1 --state none --tsv "$spid" "$srange"
has "$tmp/out" "^# totals pages=4 unmapped=0 none=4 zero=0 present=0 " \
	"--state none --tsv: a # totals line of the 4 untouched pages"
run 0 "--totals --json: a frame" watch --count 1 --totals --json "$spid" "$srange"
has "$tmp/out" '"totals":{"pages":8,"kbytes":[0-9]*,"unmapped":0,"none":4,"zero":0,"present":4,' \
	"--totals --json: the frame's totals of all 8 pages"
run 2 "--state junk: refused" watch --state presnt "$spid" "$srange"
$MEMTRACE watch -n 0.1 "$spid" "$srange" >"$tmp/out" 2>"$tmp/err" &
wpid=$!
until_in "$tmp/out" "frame 1:"
kill -TERM "$wpid"
wait "$wpid"
rc=$?
[ "$rc" = 143 ]
tap_ok $? "lines: SIGTERM ends the watch as SIGTERM (exit $rc, want 143)"

# ---- on a terminal: the screen, under tmux ----
if ! command -v tmux >/dev/null; then
	tap_skip "" "memtrace watch on a terminal: tmux is not installed (scripts/setup installs it)"
	tap_done
	tap_exit
	exit
fi
# pane.sh NAME ARGS...: memtrace watch ARGS in the pane; then its exit status,
# and the terminal's modes after it, into $tmp/NAME.rc and NAME.stty
cat >"$tmp/pane.sh" <<'PANE'
name=$1
shift
trap 'true' INT
echo $$ >"$tmp/$name.sh"
$MEMTRACE watch "$@" 2>"$tmp/$name.err"
echo $? >"$tmp/$name.rc"
stty -a >"$tmp/$name.stty"
exec sleep 600
PANE
export tmp
# pane NAME [VAR=VALUE...] ARGS...: pane.sh in a new tmux server's window of
# 80x24 (a server each: one killed may take a while to go)
pane() {
	sock=memtrace-watch-$$-$1
	socks="$socks $sock"
	shift
	tmux -L "$sock" -f /dev/null new-session -d -x 80 -y 24 env "$@"
}
cap() { tmux -L "$sock" capture-pane -p "$@" >"$tmp/screen"; }
# screen_has PATTERN: the screen shows a line matching it (15 s at most)
screen_has() {
	i=0
	while [ $i -lt 150 ]; do
		cap
		grep -Eq -- "$1" "$tmp/screen" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# restored NAME: it has exited, the alternate screen is off, the cursor
# shown, the terminal cooked and echoing
restored() {
	i=0
	while [ ! -s "$tmp/$1.stty" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	[ "$(tmux -L "$sock" display -p '#{alternate_on} #{cursor_flag}')" = "0 1" ] &&
		grep -qw icanon "$tmp/$1.stty" && grep -qw echo "$tmp/$1.stty"
}
shot() { sed 's/^/#   | /' "$tmp/screen"; }
tap_on_fail() { shot; sed 's/^/#   /' "$tmp"/*.err 2>/dev/null | head -20; }

start_target
pane stages sh "$tmp/pane.sh" stages -n 0.2 --until-exit "$tpid" "$range"
row="^  $addr  "
screen_has "^memtrace watch: every 0.2s, frame [0-9]+ at [0-9:]{8}; q quits$"
tap_ok $? "screen: the header: interval, frame, time, q quits"
has "$tmp/screen" "^pid $tpid, $addr-0x[0-9a-f]+, 16 pages of 4 KiB$|^pid $tpid, $addr-0x[0-9a-f]+, 16 pages of [0-9]+ KiB$" \
	"screen: the pid, the range and its pages"
screen_has "^unmapped 16$|^present 0  zero 0  none 0  unmapped 16$" && grep -Eq "^  $addr *$" "$tmp/screen"
tap_ok $? "screen: the range not mapped yet: a row of blanks, unmapped 16"
has "$tmp/screen" "^VmRSS [0-9.]+ [KMG]iB  smaps Rss [0-9.]+ [KMG]iB  changed: " "screen: VmRSS and smaps Rss"
stage mmap
screen_has "$row\.{16}$"
tap_ok $? "screen: mmap: 16 '.'"
screen_has "^  [0-9:]{8} mapped $addr-0x[0-9a-f]+ rw-p offset 0x0$"
tap_ok $? "screen: the mapping that appeared"
has "$tmp/screen" "changed: [0-9]+ \(16 at frame [0-9]+, [0-9:]{8}\)$" "screen: the last change: 16 pages, when"
stage read
screen_has "$row[0#]{16}$"
tap_ok $? "screen: read: 16 '0' (or '#', where a read fault gets a frame)"
stage pattern
screen_has "$row(#[0#]){8}$"
tap_ok $? "screen: the pattern: the even pages '#'"
stage write
screen_has "$row#{16}$" && grep -q "^present 16  zero 0  none 0$" "$tmp/screen"
tap_ok $? "screen: write: 16 '#', present 16"
stage dontneed
screen_has "$row\.{16}$"
tap_ok $? "screen: dontneed: 16 '.' again"
tmux -L "$sock" resize-window -x 50 -y 20 2>/dev/null
screen_has "^          'S' swap 'M' migration '\?' other$"
tap_ok $? "screen: a resize to 50 columns: the legend wraps again (SIGWINCH)"
awk 'length($0) > 50 { bad = 1 } END { exit bad }' "$tmp/screen" && grep -Eq "$row\.{16}$" "$tmp/screen"
tap_ok $? "screen: every line fits the 50 columns, the picture is still there"
tmux -L "$sock" resize-window -x 80 -y 24 2>/dev/null
stage munmap
screen_has "^  [0-9:]{8} unmapped $addr-0x[0-9a-f]+ rw-p offset 0x0$" && screen_has "^  $addr *$"
tap_ok $? "screen: munmap: the mapping went, its row blank again"
end_target
restored stages
tap_ok $? "screen: --until-exit: the exit ends it, the terminal restored"
[ "$(cat "$tmp/stages.rc")" = 0 ]
tap_ok $? "screen: --until-exit: exit 0"

# q, Ctrl-C, SIGTERM on a still target; the colours
pane q sh "$tmp/pane.sh" q -n 0.2 "$spid" "$srange"
screen_has "^  0x[0-9a-f]+  ####\.\.\.\.$"
tap_ok $? "screen: a still target: ####...."
cap -e
grep -q "$(printf '\033')\[1m.*$(printf '\033')\[32m####" "$tmp/screen" ||
	grep -q "$(printf '\033')\[1;32m####" "$tmp/screen"
tap_ok $? "screen: colours on a terminal"
tmux -L "$sock" send-keys q
restored q && [ "$(cat "$tmp/q.rc")" = 0 ]
tap_ok $? "screen: q quits, exit 0, the terminal restored"
pane nocolor NO_COLOR=1 sh "$tmp/pane.sh" nocolor -n 0.2 "$spid" "$srange"
screen_has "^  0x[0-9a-f]+  ####\.\.\.\.$"
cap -e
! grep -q "$(printf '\033')\[[0-9;]*m" "$tmp/screen"
tap_ok $? "screen: NO_COLOR: no colours"
tmux -L "$sock" send-keys C-c
restored nocolor && [ "$(cat "$tmp/nocolor.rc")" = 130 ]
tap_ok $? "screen: Ctrl-C: ends as SIGINT (exit $(cat "$tmp/nocolor.rc" 2>/dev/null), want 130), the terminal restored"
pane term sh "$tmp/pane.sh" term -n 0.2 "$spid" "$srange"
screen_has "^  0x[0-9a-f]+  ####\.\.\.\.$"
w=$(pgrep -P "$(cat "$tmp/term.sh")" | head -n 1)
kill -TERM "$w"
restored term && [ "$(cat "$tmp/term.rc")" = 143 ]
tap_ok $? "screen: SIGTERM: ends as SIGTERM (exit $(cat "$tmp/term.rc" 2>/dev/null), want 143), the terminal restored"

# an error on the screen: the terminal back first, then the message
{
	echo "# memtrace pid=$spid start=$(cat "$tmp/saddr") end=$(printf '0x%x' $(($(cat "$tmp/saddr") + 8 * ps))) page_size=$ps mode=runs"
	echo "# addr	pages	state	size	flags	pfn	node"
	printf '%s\t8\tnone\t4K\t------\t0x0\t-1\n' "$(cat "$tmp/saddr")"
	echo "# summary pages=8 unmapped=0 none=8 zero=0 present=0 swap=0 migration=0 other=0"
} >"$tmp/answer"
pane error MEMTRACE_FAKE_ANSWER="$tmp/answer" sh "$tmp/pane.sh" error -n 0.2 "$spid" "$srange"
screen_has "^  0x[0-9a-f]+  \.{8}$"
tap_ok $? "screen: a canned answer: 8 '.'"
sed -i 's/none/nonr/' "$tmp/answer"
restored error && [ "$(cat "$tmp/error.rc")" = 1 ] && grep -q "malformed answer" "$tmp/error.err"
tap_ok $? "screen: an error: exit 1, the message, the terminal restored"

# the exit without --until-exit: the last screen stays, says so, until q
start_target
row="^  $addr  "
pane stay sh "$tmp/pane.sh" stay -n 0.2 "$tpid" "$range"
screen_has "q quits$"
stage mmap
stage write
screen_has "$row#{16}$"
end_target
screen_has "process $tpid exited, q quits$|process [0-9]+ exited, q quits$" &&
	grep -Eq "$row#{16}$" "$tmp/screen"
tap_ok $? "screen: the exit: the last picture stays, 'process exited, q quits'"
tmux -L "$sock" send-keys q
restored stay && [ "$(cat "$tmp/stay.rc")" = 1 ] && grep -q "process [0-9]* exited" "$tmp/stay.err"
tap_ok $? "screen: then q: exit 1, 'process exited', the terminal restored"

tap_done
tap_exit
