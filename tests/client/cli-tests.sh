#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host tests of the memtrace CLI without the module: exit codes, messages,
# and answers from a fake answer file (MEMTRACE_FAKE_ANSWER) or from the
# stand-in module fakemod.py. TAP output.
#   MEMTRACE=path/to/memtrace TARGET=path/to/target sh cli-tests.sh
# MEMTRACE may be a command line ("valgrind -q ... memtrace").

here=$(cd "$(dirname "$0")" && pwd)
# the TAP helpers: tests/lib/tap.sh in the tree
# shellcheck source=tests/lib/tap.sh
if [ -f "$here/../lib/tap.sh" ]; then . "$here/../lib/tap.sh"; else . "$here/tap.sh"; fi
MEMTRACE=${MEMTRACE:-$here/../../user/memtrace}
TARGET=${TARGET:-$here/target}
tmp=$(mktemp -d)
tpid=

cleanup() {
	[ -n "$tpid" ] && kill "$tpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# a failed test shows the output of the last command it ran
tap_on_fail() { sed 's/^/#   /' "$tmp/out" "$tmp/err" 2>/dev/null | head -20; }

# run EXPECTED-EXIT NAME ARGS...: run memtrace, check its exit status
run() {
	want=$1 name=$2
	shift 2
	$MEMTRACE "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq "$want" ]
	tap_ok $? "$name (exit $rc, want $want)"
}

has() { # FILE PATTERN NAME
	grep -q -- "$2" "$1"
	tap_ok $? "$3"
}

json_ok() { # NAME
	if command -v python3 >/dev/null; then
		python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/out" 2>>"$tmp/err"
		tap_ok $? "$1"
	fi
}

unset MEMTRACE_FAKE_ANSWER MEMTRACE_FAKE_LIE MEMTRACE_PROC NO_COLOR

# ---- usage: exit 2 ----
run 2 "no arguments" 
run 2 "unknown command" frobnicate
run 2 "unknown global option" --frob query 1 all
run 2 "query without arguments" query
run 2 "query without RANGE" query 1
run 2 "query with a bad PID" query abc all
run 2 "query with PID 0" query 0 all
run 2 "query END < START" query 1 0x2000-0x1000
has "$tmp/err" "end must be above start" "END < START explained"
run 2 "query overflowing START+LEN" query 1 0xffffffffffffffff+2
run 2 "query junk range" query 1 12junk
run 2 "query empty range" query 1 ""
run 2 "query too many arguments" query 1 all extra
run 2 "query bad option" query --frob 1 all
run 2 "verify bad range" verify 1 0x10+0
run 2 "maps without PID" maps
run 2 "demo --pages 0" demo --pages 0
run 2 "demo --pattern 102" demo --pattern 102
run 2 "demo extra argument" demo now
run 2 "help for an unknown command" help frobnicate
run 2 "bad --color" --color=sometimes maps 1

# ---- help and version: exit 0 ----
run 0 "--help" --help
has "$tmp/out" "verify" "--help lists the commands"
for c in demo query verify maps map watch snapshot diff info; do
	run 0 "$c --help" $c --help
	has "$tmp/out" "Usage: memtrace $c" "$c --help shows its usage"
	run 0 "help $c" help $c
done
run 0 "--version" --version
grep -Eq '^memtrace [^ ]+$' "$tmp/out"
tap_ok $? "--version prints memtrace VERSION"

# ---- bash completion: memtrace.bash-completion, sourced into bash ----
# comp OUT WORD...: run _memtrace for the command line WORD... (the last word
# is the one being completed) in $tmp/cwd; OUT gets what the shell reads from
# each word it offers, put in place of the one typed (after its opening quote,
# the quote closed), one printf %q line each
cat >"$tmp/complete.sh" <<'COMP'
. "$1"
out=$2
shift 2
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMPREPLY=()
_memtrace
q=${COMP_WORDS[COMP_CWORD]:0:1}
[[ $q == [\"\'] ]] || q=
: >"$out"
for r in "${COMPREPLY[@]}"; do
	eval "w=$q$r$q"
	printf '%q\n' "$w" >>"$out"
done
COMP
comp() {
	out=$1
	shift
	(cd "$tmp/cwd" && bash "$tmp/complete.sh" "$tmp/completion" "$out" "$@") 2>"$tmp/err"
}
# offers OUT NAME WORD...: OUT holds each WORD (unquoted text)
offers() {
	out=$1 name=$2
	shift 2
	bash -c 'printf "%q\n" "$@"' _ "$@" >"$tmp/want"
	grep -vxF -f "$out" "$tmp/want" >"$tmp/out"	# shown if it fails
	[ ! -s "$tmp/out" ]
	tap_ok $? "$name"
}
if command -v bash >/dev/null; then
	mkdir -p "$tmp/cwd" "$tmp/c d"
	$MEMTRACE --bash-completion >"$tmp/completion"
	# names that run code if expanded, and break on word splitting; a
	# newline shows as \012 in /proc/PID/maps, which memtrace matches
	cd1="$tmp/c d/\$(touch PWNED1)"
	cd2="$tmp/c d/\`touch PWNED2\`"
	cd3="$tmp/c d/a;touch PWNED3;b"
	cd4="$tmp/c d/new
line \$(touch PWNED4)"
	cd5="$tmp/c d/two  spaces & |x| *"
	cd6="$tmp/c d/it's \"q\" \\ \$HOME"
	"$TARGET" "$tmp/c d" "$cd1" "$cd2" "$cd3" "$cd4" "$cd5" "$cd6" >"$tmp/caddr" &
	cpid=$!
	i=0
	while [ ! -s "$tmp/caddr" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	tgt=$(readlink -f "$TARGET")
	cd4m="$tmp/c d/new\\012line \$(touch PWNED4)"
	comp "$tmp/cr" memtrace query "$cpid" ""
	ls "$tmp/cwd" >"$tmp/out"
	[ ! -s "$tmp/out" ]
	tap_ok $? "completing mapping names runs no command they contain"
	offers "$tmp/cr" "completion offers the mapping names quoted: the shell reads them back" \
		all "$cd1" "$cd2" "$cd3" "$cd4m" "$cd5" "$cd6" "$tgt"
	offers "$tmp/cr" "completion offers the base names of paths" \
		"\$(touch PWNED1)" "\`touch PWNED2\`" "a;touch PWNED3;b" target
	comp "$tmp/cr" memtrace query "$cpid" "'$tmp/c d/\$(to"
	offers "$tmp/cr" "completion matches a word typed in single quotes" "$cd1"
	comp "$tmp/cr" memtrace query "$cpid" "'$tmp/c d/it"
	offers "$tmp/cr" "completion completes a word opened with ' inside the quotes" "$cd6"
	comp "$tmp/cr" memtrace query "$cpid" "\"$tmp/c d/it"
	offers "$tmp/cr" 'completion completes a word opened with " inside the quotes' "$cd6"
	comp "$tmp/cr" memtrace query "$cpid" "$(printf '%s' "$tmp/c d/a;" | sed 's/[ ;]/\\&/g')"
	offers "$tmp/cr" "completion matches a word typed with backslashes" "$cd3"
	[ "$(wc -l <"$tmp/cr")" -eq 1 ]
	tap_ok $? "completion offers only what the word begins"
	comp "$tmp/cr" memtrace query "$cpid" "targ"
	offers "$tmp/cr" "completion offers a base name from its beginning" target
	ls "$tmp/cwd" >"$tmp/out"
	[ ! -s "$tmp/out" ]
	tap_ok $? "no command ran in any completion"
	# what each command's completion offers is what its --help lists
	for c in demo query verify maps map watch snapshot diff info; do
		comp "$tmp/cr" memtrace "$c" -
		sort "$tmp/cr" | sed 's/=$//' >"$tmp/got"
		$MEMTRACE help "$c" | grep -oE -- '--[a-z-]+' | sort -u >"$tmp/want"
		cmp -s "$tmp/got" "$tmp/want"
		tap_ok $? "completion offers the options of $c that its --help lists"
	done
	comp "$tmp/cr" memtrace verify --
	! grep -qxE -- '--(runs|pages|picture|no-picture)' "$tmp/cr"
	tap_ok $? "completion offers verify none of query's options"
	comp "$tmp/cr" memtrace query --pages "$cpid" ""
	! grep -qx "$cpid" "$tmp/cr" && grep -qx all "$tmp/cr"
	tap_ok $? "completion after query --pages PID offers ranges, not PIDs"
	comp "$tmp/cr" memtrace --tsv verify -e "$cpid" ""
	grep -qx all "$tmp/cr"
	tap_ok $? "completion after verify -e PID offers ranges"
	comp "$tmp/cr" memtrace query --color never ""
	grep -qx "$cpid" "$tmp/cr" && ! grep -qx all "$tmp/cr"
	tap_ok $? "completion after query --color WHEN offers PIDs"
	comp "$tmp/cr" memtrace demo --pages ""
	[ ! -s "$tmp/cr" ]
	tap_ok $? "completion offers nothing for demo --pages N"
	comp "$tmp/cr" memtrace demo --pattern o
	grep -qx odd "$tmp/cr"
	tap_ok $? "completion offers demo --pattern's words"
	comp "$tmp/cr" memtrace ""
	offers "$tmp/cr" "completion offers the commands and main's options" \
		demo query verify maps map watch snapshot diff info help --version --json
	kill "$cpid" 2>/dev/null
	wait "$cpid" 2>/dev/null
else
	tap_skip "" "bash completion: no bash"
fi

# ---- options without their argument, output that cannot be written ----
run 2 "--color without its argument" --color
has "$tmp/err" "option '--color' needs an argument" "says --color needs an argument"
run 2 "query ... --transport without its argument" query 1 all --transport
has "$tmp/err" "option '--transport' needs an argument" "says --transport needs an argument"
run 2 "demo -n without its argument" demo -n
has "$tmp/err" "option '-n' needs an argument" "says -n needs an argument"
run 2 "an unknown option of a command" query --frob 1 all
has "$tmp/err" "unknown option '--frob'" "says the option is unknown"
if [ -w /dev/full ]; then
	printf '%s\n' "# memtrace pid=$$ start=0x1000 end=0x2000 page_size=4096 mode=pages" \
		"# addr	pages	state	size	flags	pfn	node" \
		"0x1000	1	unmapped	4K	------	0x0	-1" \
		"# summary pages=1 unmapped=1 none=0 zero=0 present=0 swap=0 migration=0 other=0" \
		>"$tmp/one"
	for args in --help --version "help query" "query --help" --bash-completion \
		"query --pages --tsv $$ 0x1000-0x2000" "query --pages --json $$ 0x1000-0x2000"; do
		# shellcheck disable=SC2086
		MEMTRACE_FAKE_ANSWER="$tmp/one" $MEMTRACE $args >/dev/full 2>"$tmp/err"
		rc=$?
		[ "$rc" -eq 1 ] && grep -q "write error on standard output" "$tmp/err"
		tap_ok $? "$args >/dev/full fails and says so (exit $rc, want 1)"
	done
else
	tap_skip "" "output that cannot be written: no /dev/full"
fi

# ---- a mapping name in brackets is quoted in every example ('[stack]') ----
top=$here/../..
if command -v groff >/dev/null; then
	groff -man -Tascii -P-bcou "$top/user/memtrace.1" 2>/dev/null
else
	sed 's/\\(aq/'"'"'/g; s/\\-/-/g' "$top/user/memtrace.1"
fi >"$tmp/man"
{
	grep -h '^memtrace ' "$top/README.md"
	cat "$tmp/man"
	for c in query verify; do $MEMTRACE help $c; done
} >"$tmp/docs"
grep -E 'memtrace +(query|verify)( +-[^ ]+)* +[^ -][^ ]* +\[[a-z]+\]' "$tmp/docs" >"$tmp/out"
[ ! -s "$tmp/out" ]
tap_ok $? "no example leaves a bracketed mapping name to the shell's globbing"
for f in "$top/README.md" "$tmp/man"; do
	grep -qF 'memtrace query $$ '"'[stack]'" "$f"
	tap_ok $? "${f##*/} shows memtrace query \$\$ '[stack]'"
done
for c in query verify; do
	$MEMTRACE help $c | grep -qF "memtrace $c \$\$ '[stack]'"
	tap_ok $? "help $c shows memtrace $c \$\$ '[stack]'"
done

# issue 19: every option of every command is in the man page
for c in demo query verify maps snapshot diff info; do
	$MEMTRACE help "$c" | grep -oE -- '--[a-z-]+' | sort -u | while read -r o; do
		grep -qe "$o" "$tmp/man" || echo "$c $o"
	done
done >"$tmp/out"
[ ! -s "$tmp/out" ]
tap_ok $? "every option that help lists is in memtrace.1"

# ---- the module is not loaded: exit 1 ----
export MEMTRACE_PROC=/nonexistent/memtrace
run 1 "query without the module" query $$ 0x1000+4096
has "$tmp/err" "the memtrace module is not loaded" "says the module is not loaded"
run 1 "demo without the module" demo
has "$tmp/err" "not loaded" "demo says the module is not loaded"
run 1 "info without the module" info
has "$tmp/err" "not loaded" "info says the module is not loaded"
unset MEMTRACE_PROC
run 2 "info with an argument" info extra
run 2 "an unknown transport" --transport=carrier-pigeon query $$ all
if [ -d /sys/module/memtrace ]; then
	tap_skip "" "the netlink transport without the module: the module is loaded here"
elif $MEMTRACE --transport=netlink query $$ all 2>&1 | grep -q "not built into"; then
	run 1 "the netlink transport, not built in" --transport=netlink query $$ all
	has "$tmp/err" "not built into" "says the netlink transport is not built in"
else
	run 1 "the netlink transport without the module" --transport=netlink query $$ all
	has "$tmp/err" 'family "memtrace" not found: the memtrace module is not loaded' \
		"netlink: says the module is not loaded"
	run 1 "the default transport without the module falls back to proc" query $$ all
	has "$tmp/err" "/proc/memtrace not found: the memtrace module is not loaded" \
		"default: the proc transport's message"
fi

# ---- a target process and canned answers ----
"$TARGET" "$tmp" >"$tmp/addr" &
tpid=$!
i=0
while [ ! -s "$tmp/addr" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
addr=$(cat "$tmp/addr")
ps=$(getconf PAGESIZE)
end=$(printf '0x%x' $((addr + 8 * ps)))
mid=$(printf '0x%x' $((addr + 4 * ps)))
hdr="# memtrace pid=$tpid start=$addr end=$end page_size=$ps mode=pages
# addr	pages	state	size	flags	pfn	node"
{
	echo "$hdr"
	for k in 0 1 2 3 4 5 6 7; do
		printf '0x%x\t1\tpresent\t4K\ta-wdyx\t0x0\t0\n' $((addr + k * ps))
	done
	echo "# summary pages=8 unmapped=0 none=0 zero=0 present=8 swap=0 migration=0 other=0"
} >"$tmp/all-present"
{
	echo "$hdr"
	for k in 0 1 2 3; do
		printf '0x%x\t1\tpresent\t4K\ta-wdyx\t0x0\t0\n' $((addr + k * ps))
	done
	for k in 4 5 6 7; do
		printf '0x%x\t1\tnone\t4K\t------\t0x0\t-1\n' $((addr + k * ps))
	done
	echo "# summary pages=8 unmapped=0 none=4 zero=0 present=4 swap=0 migration=0 other=0"
} >"$tmp/right"

export MEMTRACE_FAKE_ANSWER="$tmp/all-present"
run 1 "verify catches present where pagemap says not" verify $tpid $addr-$end --no-pfn
has "$tmp/out" "DISAGREE" "verify prints each disagreement"
[ "$(grep -c DISAGREE "$tmp/out")" -eq 4 ]
tap_ok $? "verify prints exactly the 4 disagreeing pages"
run 1 "verify --json on a disagreement" verify --json $tpid $addr-$end --no-pfn
json_ok "verify --json is valid JSON"
has "$tmp/out" '"ok":false' "verify --json says not ok"
run 1 "verify --tsv on a disagreement" verify --tsv $tpid $addr-$end --no-pfn
has "$tmp/out" "^# result checked=8 agree=4 disagree=4" "verify --tsv result line"

export MEMTRACE_FAKE_ANSWER="$tmp/right"
run 0 "verify agrees with a right answer" verify $tpid $addr-$end --no-pfn
has "$tmp/out" "8/8 pages agree" "verify reports 8/8"
run 0 "query --pages --tsv" query --pages --tsv $tpid $addr+$((8 * ps))
has "$tmp/out" "^# summary pages=8 unmapped=0 none=4 zero=0 present=4" "query --tsv summary"
run 0 "query --json" query --pages --json $tpid $addr-$end
json_ok "query --json is valid JSON"
run 0 "query human with --picture" query --pages --picture --color=never $tpid $addr-$end
has "$tmp/out" "####\.\.\.\." "the picture shows 4 present, 4 none"
run 1 "an answer about another pid is refused" query --pages $((tpid + 1)) $addr-$end
has "$tmp/err" "answer is about pid" "says the answer is about another pid"
run 1 "an answer about another range is refused" query --pages $tpid $addr-$mid
has "$tmp/err" "answer covers" "says the answer covers another range"
sed 's/present/presnt/' "$tmp/right" >"$tmp/bad"
export MEMTRACE_FAKE_ANSWER="$tmp/bad"
run 1 "a malformed answer is refused" query --pages $tpid $addr-$end
has "$tmp/err" "malformed answer, line 3: unknown state" "says which line is malformed"
: >"$tmp/empty"
export MEMTRACE_FAKE_ANSWER="$tmp/empty"
run 1 "an empty answer is refused" query $tpid $addr-$end
unset MEMTRACE_FAKE_ANSWER

run 1 "query a mapping of a process that does not exist" query 999999999 '[heap]'
has "$tmp/err" "no such process" "says no such process"
run 1 "maps of a process that does not exist" maps 999999999
has "$tmp/err" "no such process" "maps says no such process"

# ---- through the stand-in module (needs python3 and, for zero pages, root) ----
if command -v python3 >/dev/null && [ -r /proc/self/pagemap ]; then
	export MEMTRACE_FAKE_ANSWER="|python3 $here/fakemod.py"
	run 0 "maps --json through fakemod" maps --json $tpid
	json_ok "maps --json is valid JSON with an awkward file name"
	has "$tmp/out" 'we\\"ird\\\\na\\u0001me x (deleted)' "maps --json escapes the name"
	run 0 "maps human" maps $tpid
	has "$tmp/out" "smaps Rss" "maps shows smaps' Rss"
	run 0 "query a mapping by its deleted name" query --tsv $tpid "$tmp/we\"ird\\na$(printf '\001')me x"
	has "$tmp/out" "^# summary pages=1 " "the deleted file mapping is one page"
	run 0 "verify all through fakemod" verify --no-pfn $tpid all
	run 0 "demo --tsv through fakemod" demo --tsv
	awk -F'\t' '$1 == "stage" { printf "%s:%s/%s/%s/%s/%s %s/%s\n", $3, $9, $10, $11, $12, $13, $17, $18 }' \
		"$tmp/out" >"$tmp/stages"
	# Does this (host) kernel map the shared zero page on a read fault of
	# private anonymous memory? Some do not (seen: a 6.18 sandbox kernel
	# gives every read page a frame of its own), and the stage counts
	# follow the kernel; pfns need root.
	zp=$(python3 -c '
import ctypes, mmap, struct
m = mmap.mmap(-1, 2 * mmap.PAGESIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
m[0], m[mmap.PAGESIZE]
a = ctypes.addressof(ctypes.c_char.from_buffer(m))
with open("/proc/self/pagemap", "rb") as f:
    e = []
    for i in range(2):
        f.seek((a // mmap.PAGESIZE + i) * 8)
        e.append(struct.unpack("Q", f.read(8))[0])
pfn = [x & ((1 << 55) - 1) for x in e]
print("zero" if all(x >> 63 for x in e) and pfn[0] and pfn[0] == pfn[1] else "own")' 2>/dev/null)
	if [ "$zp" = own ]; then
		echo "# this kernel gives a read fault a frame of its own (no zero page): expecting that"
		rd=0/0/0/16/0 pat=0/0/0/16/0 odd='"map":"########"'
	else
		rd=0/0/16/0/0 pat=0/0/8/8/0 odd='"map":"0#0#0#0#"'
	fi
	cat >"$tmp/want" <<WANT
initial:-/-/-/-/- -/-
mmap:0/16/0/0/0 16/16
read:$rd 16/16
pattern:$pat 16/16
write:0/0/0/16/0 16/16
dontneed:0/16/0/0/0 16/16
munmap:16/0/0/0/0 16/16
WANT
	if [ "$(id -u)" -eq 0 ]; then
		cmp -s "$tmp/stages" "$tmp/want"
		tap_ok $? "demo stage counts are exactly right"
	fi
	has "$tmp/out" "^# result agree disagreements=0" "demo --tsv result line"
	run 0 "demo --json through fakemod" demo --json --pages 8 --pattern odd
	json_ok "demo --json is valid JSON"
	# zero pages are told apart through /proc/kpageflags: root only
	if [ "$(id -u)" -eq 0 ]; then
		has "$tmp/out" "$odd" "demo --json pattern odd"
	fi

	# A lying stand-in (MEMTRACE_FAKE_LIE, see fakemod.py): verify and the
	# demo must name the page it lies about and fail. Target pages 0-3 are
	# present, 4-7 untouched (none).
	pg() { printf '0x%x' $((addr + $1 * ps)); }
	run 0 "verify the target's pages through the honest fakemod" verify $tpid $addr-$end
	has "$tmp/out" "8/8 pages agree with .* and maps: OK$" "honest fakemod: 8/8 pages agree"
	export MEMTRACE_FAKE_LIE=+5
	run 0 "the lying fakemod: query --pages --tsv" query --pages --tsv $tpid $addr-$end
	has "$tmp/out" "^$(pg 5)	1	present	" "the lying fakemod reports untouched page 5 present"
	run 1 "verify catches a page reported present that is not" verify $tpid $addr-$end
	[ "$(grep -c '^DISAGREE' "$tmp/out")" -eq 1 ]
	tap_ok $? "verify prints exactly one disagreement"
	has "$tmp/out" "^DISAGREE $(printf '0x%016x' $((addr + 5 * ps)))  memtrace: present .*(pagemap: not present)$" \
		"verify names page 5 and says pagemap shows it not present"
	has "$tmp/out" "7/8 pages agree" "verify counts 7/8 pages agree"
	run 1 "verify --json catches the lie" verify --json $tpid $addr-$end
	json_ok "verify --json on the lie is valid JSON"
	has "$tmp/out" '"disagreements":\[{"addr":"'"$(pg 5)"'","state":"present"' \
		"verify --json names page 5"
	has "$tmp/out" '"disagree":1,.*"ok":false}' "verify --json: disagree 1, not ok"

	# present -> none, none -> unmapped, none -> swap (and a wrong frame
	# number, where pagemap shows frame numbers)
	MEMTRACE_FAKE_LIE=+2,+6:unmapped,+7:swap
	{
		echo "$(pg 2) none pagemap: present"
		echo "$(pg 6) unmapped unmapped, but /proc/PID/maps has a mapping here"
		echo "$(pg 7) swap pagemap: not swapped"
	} >"$tmp/want"
	if [ "$(id -u)" -eq 0 ]; then
		MEMTRACE_FAKE_LIE=$MEMTRACE_FAKE_LIE,+0:pfn
		{ echo "$(pg 0) present pfn differs"; cat "$tmp/want"; } >"$tmp/want2"
		mv "$tmp/want2" "$tmp/want"
	fi
	lies=$(wc -l <"$tmp/want")
	run 1 "verify --tsv catches $lies lies of different kinds" verify --tsv $tpid $addr-$end
	awk -F'\t' '!/^#/ { print $1, $2, $6 }' "$tmp/out" >"$tmp/got"
	cmp -s "$tmp/got" "$tmp/want"
	tap_ok $? "verify --tsv names exactly the lying pages, with the right reasons"
	# (agree is not 8 - lies: the unmapped lie's page also counts as agreeing
	# with pagemap, its disagreement is with maps)
	has "$tmp/out" "^# result checked=8 agree=[0-9]* disagree=$lies " \
		"verify --tsv result line counts the lies"

	# the audit's case: verify all; one lie in the mapped region, one in the
	# unmapped gap at 0 (below mmap_min_addr), where gaps are sampled
	MEMTRACE_FAKE_LIE=0x0,$(pg 5)
	run 1 "verify all catches lies through fakemod" verify --no-pfn $tpid all
	grep '^DISAGREE' "$tmp/out" | cut -d' ' -f2 >"$tmp/got"
	printf '0x%016x\n' 0 $((addr + 5 * ps)) >"$tmp/want"
	cmp -s "$tmp/got" "$tmp/want"
	tap_ok $? "verify all names exactly page 0 and page 5 of the region"

	# verify --each: a lie in the first line of a mapping, none in its last
	# line: the run fails all the same (it once took the last span's status)
	tgt=$(readlink -f "$TARGET")
	first=$(awk -v f="$tgt" '$6 == f { print "0x" substr($1, 1, index($1, "-") - 1); exit }' \
		/proc/$tpid/maps)
	lines=$(awk -v f="$tgt" '$6 == f' /proc/$tpid/maps | wc -l)
	MEMTRACE_FAKE_LIE=$first
	run 1 "verify --each fails on a lie in the first of $lines spans only" \
		verify --no-pfn --each $tpid "$tgt"
	[ "$(grep -c '^DISAGREE' "$tmp/out")" -eq 1 ] && [ "$lines" -gt 1 ]
	tap_ok $? "verify --each names the one lie, at $first"

	# the demo: page 3 of its region is flipped at every stage that has one
	MEMTRACE_FAKE_LIE=+3
	run 1 "demo --tsv fails on a lying module" demo --tsv
	has "$tmp/out" "^# result disagree disagreements=6$" "demo --tsv: 6 disagreements"
	a3=$(awk '/^# region start=/ { sub(/.*start=/, ""); sub(/ .*/, ""); print }' "$tmp/out")
	a3=$(printf '0x%x' $((a3 + 3 * ps)))
	awk -F'\t' '$1 == "disagree" { print $2, $3, $4, $6 }' "$tmp/out" >"$tmp/got"
	cat >"$tmp/want" <<WANT
1 $a3 present pagemap: not present
2 $a3 none pagemap: present
3 $a3 none pagemap: present
4 $a3 none pagemap: present
5 $a3 present pagemap: not present
6 $a3 present pagemap: not present
WANT
	cmp -s "$tmp/got" "$tmp/want"
	tap_ok $? "demo --tsv names page 3 at each of stages 1-6"
	run 1 "demo (human) fails on a lying module" demo --pages 8 --color=never
	[ "$(grep -c '^    0x[0-9a-f]*: memtrace says' "$tmp/out")" -eq 6 ]
	tap_ok $? "demo prints the 6 disagreements"
	has "$tmp/out" "^FAIL: the module and /proc/self/pagemap disagree" "demo says FAIL"
	run 1 "demo --json fails on a lying module" demo --json --pages 8
	json_ok "demo --json on a lie is valid JSON"
	has "$tmp/out" '"disagreements":6,"ok":false}$' "demo --json: 6 disagreements, not ok"
	unset MEMTRACE_FAKE_ANSWER MEMTRACE_FAKE_LIE
fi

# ---- issue 18: items 2, 4, 8, 11, 13 ----
# 2: ranges as /proc/PID/maps prints them; ranges outside user space
export MEMTRACE_FAKE_ANSWER="$tmp/right"
run 0 "issue 18.2: a maps-style range (bare hex)" query --pages --tsv $tpid "${addr#0x}-${end#0x}"
has "$tmp/out" "^# summary pages=8 unmapped=0 none=4 zero=0 present=4" \
	"issue 18.2: the maps-style range is read as hex"
run 1 "issue 18.2: the [vsyscall] range" query $tpid ffffffffff600000-ffffffffff601000
has "$tmp/err" "lies outside the user address space" \
	"issue 18.2: says the [vsyscall] range lies outside the user address space"
run 1 "issue 18.2: a range reaching into the kernel's half" query $tpid 0x7fff00000000-0x8000000000001000
has "$tmp/err" "reaches outside the user address space" \
	"issue 18.2: says the range reaches outside the user address space"

# 8: PFNs in human output: hidden ones as "-" with one note, none/unmapped
# as "-", a run's first frame as "0x...."
run 0 "issue 18.8: query --pages (pfns hidden)" query --pages --no-picture $tpid $addr-$end
[ "$(grep -c ' present .* a-wdyx -  *0$' "$tmp/out")" -eq 4 ]
tap_ok $? "issue 18.8: hidden pfns of present pages print as -"
[ "$(grep -c ' none .* ------ -  *-$' "$tmp/out")" -eq 4 ]
tap_ok $? "issue 18.8: none pages print - for pfn and node"
[ "$(grep -c 'CAP_SYS_ADMIN' "$tmp/out")" -eq 1 ]
tap_ok $? "issue 18.8: says once why pfns are hidden"
! grep -q '0x0 ' "$tmp/out"
tap_ok $? "issue 18.8: no 0x0 pfn in human output"
{
	echo "# memtrace pid=$tpid start=$addr end=$end page_size=$ps mode=runs"
	echo "# addr	pages	state	size	flags	pfn	node"
	printf '0x%x\t3\tpresent\t4K\ta-wdyx\t0x1234\t0\n' $((addr))
	printf '0x%x\t1\tpresent\t4K\ta-wdyx\t0x99\t0\n' $((addr + 3 * ps))
	printf '0x%x\t4\tnone\t4K\t------\t0x0\t-1\n' $((addr + 4 * ps))
	echo "# summary pages=8 unmapped=0 none=4 zero=0 present=4 swap=0 migration=0 other=0"
} >"$tmp/runs"
export MEMTRACE_FAKE_ANSWER="$tmp/runs"
run 0 "issue 18.8: query --runs" query --no-picture $tpid $addr-$end
has "$tmp/out" " 3  present .* 0x1234\.\.  *0$" "issue 18.8: a run shows its first frame as 0x1234.."
has "$tmp/out" " 1  present .* 0x99  *0$" "issue 18.8: a one-page run shows its frame alone"
! grep -q CAP_SYS_ADMIN "$tmp/out"
tap_ok $? "issue 18.8: no note when pfns are shown"
export MEMTRACE_FAKE_ANSWER="$tmp/all-present"
run 1 "issue 18.8: verify's disagreements (pfns hidden)" verify --no-pfn $tpid $addr-$end
[ "$(grep -c '^DISAGREE .* memtrace: present a-wdyx pfn=-  pagemap' "$tmp/out")" -eq 4 ]
tap_ok $? "issue 18.8: verify prints a hidden pfn as pfn=-"
export MEMTRACE_FAKE_ANSWER="$tmp/runs"
run 0 "issue 18.8: query --runs --tsv" query --tsv $tpid $addr-$end
has "$tmp/out" "	none	4K	------	0x0	-1$" "issue 18.8: tsv unchanged (0x0 -1)"
unset MEMTRACE_FAKE_ANSWER

# 4: the module not loaded: the fix that fits this system; kernel threads
export MEMTRACE_PROC=/nonexistent/memtrace
if [ ! -e /proc/modules ]; then
	hint="this kernel cannot load modules (no /proc/modules"
elif ls /lib/modules/"$(uname -r)"/*/memtrace.ko* /lib/modules/"$(uname -r)"/*/*/memtrace.ko* \
	>/dev/null 2>&1 || grep -qs /memtrace.ko /lib/modules/"$(uname -r)"/modules.dep; then
	hint="sudo modprobe memtrace"
else
	hint="insmod kmod/memtrace.ko"
fi
run 1 "issue 18.4: query without the module" query $$ 0x1000+4096
has "$tmp/err" "not loaded; .*$hint" "issue 18.4: says how to load it here: $hint"
if awk '{ sub(/.*\) /, ""); exit !(int($7 / 2097152) % 2) }' /proc/2/stat 2>/dev/null; then
	run 1 "issue 18.4: verify a kernel thread" verify 2 all
	has "$tmp/err" "process 2 is a kernel thread: it has no user memory" \
		"issue 18.4: says pid 2 is a kernel thread without user memory"
else
	tap_skip "issue 18.4: a kernel thread" "pid 2 is not a kernel thread here"
fi
unset MEMTRACE_PROC

# 11 and 13, through the stand-in module
if command -v python3 >/dev/null && [ -r /proc/self/pagemap ]; then
	export MEMTRACE_FAKE_ANSWER="|python3 $here/fakemod.py"
	run 0 "issue 18.11: maps human with a control byte in a name" maps $tpid
	has "$tmp/out" 'we"ird\\na\\001me x (deleted)$' "issue 18.11: the control byte as \\001"
	! grep -q "$(printf '\001')" "$tmp/out"
	tap_ok $? "issue 18.11: no raw control byte in human output"
	run 0 "issue 18.11: maps --tsv" maps --tsv $tpid
	! grep -q "$(printf '\001')" "$tmp/out"
	tap_ok $? "issue 18.11: no raw control byte in tsv output"
	tgt=$(readlink -f "$TARGET")
	lines=$(awk -v f="$tgt" '$6 == f' /proc/$tpid/maps | wc -l)
	run 0 "issue 18.13: query --each" query --each --no-picture $tpid "$tgt"
	[ "$(grep -c "^mapping [0-9]* of $lines: 0x[0-9a-f]*-0x[0-9a-f]* [-r][-w][-x][ps] offset 0x[0-9a-f]* $tgt$" "$tmp/out")" -eq "$lines" ]
	tap_ok $? "issue 18.13: query --each labels each of the $lines blocks"
	run 0 "issue 18.13: verify --each" verify --no-pfn --each $tpid "$tgt"
	[ "$(grep -c "^mapping [0-9]* of $lines: " "$tmp/out")" -eq "$lines" ]
	tap_ok $? "issue 18.13: verify --each labels each of the $lines blocks"
	unset MEMTRACE_FAKE_ANSWER
fi

# 6: sizes for people in binary units (KiB, MiB, ... TiB), singular forms;
# tsv and json keep their exact numbers
top4k=$((0x7ffffffff000 / 4096))
{
	echo "# memtrace pid=$$ start=0x0 end=0x7ffffffff000 page_size=4096 mode=runs"
	echo "# addr	pages	state	size	flags	pfn	node"
	printf '0x0\t%s\tunmapped\t4K\t------\t0x0\t-1\n' $top4k
	echo "# summary pages=$top4k unmapped=$top4k none=0 zero=0 present=0 swap=0 migration=0 other=0"
} >"$tmp/huge"
{
	echo "# memtrace pid=$$ start=0x1000 end=0x2000 page_size=4096 mode=pages"
	echo "# addr	pages	state	size	flags	pfn	node"
	printf '0x1000\t1\tpresent\t4K\ta-wdyx\t0x0\t0\n'
	echo "# summary pages=1 unmapped=0 none=0 zero=0 present=1 swap=0 migration=0 other=0"
} >"$tmp/onepage"
# no size in KiB (or kB) of more than 1024*1024: it would read better in GiB
big_kib() { grep -Eq '[0-9]{7,} *(KiB|kB)' "$1" || awk '{ for (i = 2; i <= NF; i++)
	if (($i == "KiB" || $i == "kB") && $(i - 1) + 0 >= 1048576) f = 1 } END { exit !f }' "$1"; }
export MEMTRACE_FAKE_ANSWER="$tmp/huge"
run 0 "issue 18.6: query of 128 TiB" query --picture --color=never $$ 0x0-0x7ffffffff000
has "$tmp/out" "^$top4k pages (128\.0 TiB): " "issue 18.6: 128 TiB in TiB, one decimal"
! big_kib "$tmp/out"
tap_ok $? "issue 18.6: no KiB value over 1024*1024 unscaled"
run 0 "issue 18.6: query --tsv of 128 TiB" query --tsv $$ 0x0-0x7ffffffff000
has "$tmp/out" "^# summary pages=$top4k unmapped=$top4k " "issue 18.6: tsv keeps the exact count"
export MEMTRACE_FAKE_ANSWER="$tmp/onepage"
run 0 "issue 18.6: query of one page" query --pages --no-picture $$ 0x1000-0x2000
has "$tmp/out" "^1 page (4 KiB): 1 present; backed (present): 4 KiB$" "issue 18.6: '1 page', singular"
run 1 "issue 18.6: verify of one page" verify --no-pfn $$ 0x1000-0x2000
has "$tmp/out" " 0/1 page agree " "issue 18.6: verify says '0/1 page agree'"
has "$tmp/out" "^1 disagreement (" "issue 18.6: verify says '1 disagreement'"
run 0 "issue 18.6: query --json of one page" query --pages --json $$ 0x1000-0x2000
has "$tmp/out" '"pages": *1' "issue 18.6: json keeps the exact count"
unset MEMTRACE_FAKE_ANSWER
if command -v python3 >/dev/null && [ -r /proc/self/pagemap ]; then
	export MEMTRACE_FAKE_ANSWER="|python3 $here/fakemod.py"
	run 0 "issue 18.6: maps human" maps $tpid
	! grep -Eq 'kB|KBYTES' "$tmp/out" && grep -q "^ADDRESS  *SIZE  *PRESENT" "$tmp/out"
	tap_ok $? "issue 18.6: maps: a SIZE column, no kB or KBYTES"
	has "$tmp/out" "^backed (present): [0-9]* pages\{0,1\} = [0-9.]* [KMG]iB;  smaps Rss: " \
		"issue 18.6: maps totals in KiB/MiB/GiB"
	run 0 "issue 18.6: maps --tsv" maps --tsv $tpid
	has "$tmp/out" "kbytes" "issue 18.6: maps tsv keeps its kbytes column"
	run 0 "issue 18.6: demo human" demo --pages 1 --color=never
	! grep -q ' kB' "$tmp/out" && grep -q "^memtrace demo: pid [0-9]*, 1 page of 4 KiB," "$tmp/out"
	tap_ok $? "issue 18.6: demo: binary units, '1 page'"
	has "$tmp/out" "VmSize [0-9.]* [KMG]iB (+[0-9.]* [KMG]*i*B)" "issue 18.6: demo deltas in units"
	unset MEMTRACE_FAKE_ANSWER
fi

# 5: the picture fits $COLUMNS (80 when unknown) or --width, and at most
# MT_PICTURE_ROWS (64) rows of cells for any size: a cell is then several
# pages, and the scale is said
{
	echo "# memtrace pid=$$ start=0x10000000 end=0x50000000 page_size=4096 mode=runs"
	echo "# addr	pages	state	size	flags	pfn	node"
	printf '0x10000000\t100000\tpresent\t4K\ta-wdyx\t0x0\t0\n'
	printf '0x%x\t162144\tnone\t4K\t------\t0x0\t-1\n' $((0x10000000 + 100000 * 4096))
	echo "# summary pages=262144 unmapped=0 none=162144 zero=0 present=100000 swap=0 migration=0 other=0"
} >"$tmp/gib"
# picture_fits COLS NAME: the picture (after the summary's blank line) fits COLS
# columns, in at most 64 rows of cells, and says its scale
picture_fits() {
	sed '1,/^$/d' "$tmp/out" >"$tmp/pic"
	awk -v w="$1" 'length($0) > w { bad = 1 } END { exit bad }' "$tmp/pic"
	tap_ok $? "issue 18.5: $2: every line of the picture fits $1 columns"
	[ "$(grep -c '^  0x' "$tmp/pic")" -le 64 ]
	tap_ok $? "issue 18.5: $2: at most 64 rows ($(grep -c '^  0x' "$tmp/pic"))"
}
export MEMTRACE_FAKE_ANSWER="$tmp/gib"
for cols in 80 60 132 junk; do
	w=$cols; [ "$cols" = junk ] && w=80
	COLUMNS=$cols run 0 "issue 18.5: 1 GiB with COLUMNS=$cols" query --picture --color=never $$ 0x10000000-0x50000000
	picture_fits $w "1 GiB, COLUMNS=$cols"
	has "$tmp/pic" "^  scale: a cell is [0-9]* pages ([0-9.]* [KM]iB)" "issue 18.5: COLUMNS=$cols: the scale is said"
done
COLUMNS=200 run 0 "issue 18.5: --width 70 over COLUMNS" query --picture --width 70 --color=never $$ 0x10000000-0x50000000
picture_fits 70 "--width 70"
[ "$(grep -c '^  0x.*[#+.]$' "$tmp/pic")" -ge 60 ] && grep -q '^  0x.*#+\.' "$tmp/pic"
tap_ok $? "issue 18.5: the rows are full, the mixed cell between present and none is '+'"
run 2 "issue 18.5: --width 0 is refused" query --width 0 $$ 0x10000000-0x50000000
run 0 "issue 18.5: help lists --width" help query
has "$tmp/out" "^      --width N  " "issue 18.5: help query shows --width N"
export MEMTRACE_FAKE_ANSWER="$tmp/huge"
COLUMNS=80 run 0 "issue 18.5: 128 TiB" query --picture --color=never $$ 0x0-0x7ffffffff000
picture_fits 80 "128 TiB"
export MEMTRACE_FAKE_ANSWER="$tmp/onepage"
run 0 "issue 18.5: one page at --width 40" query --pages --picture --width 40 --color=never $$ 0x1000-0x2000
picture_fits 40 "one page"
! grep -q scale "$tmp/pic"
tap_ok $? "issue 18.5: a page a cell: no scale said"
unset MEMTRACE_FAKE_ANSWER
if command -v python3 >/dev/null && [ -r /proc/self/pagemap ]; then
	export MEMTRACE_FAKE_ANSWER="|python3 $here/fakemod.py"
	COLUMNS=60 run 0 "issue 18.5: demo of 20000 pages, COLUMNS=60" demo --pages 20000 --color=never
	awk '/^  (0x|legend:|scale:|mixed cells:|         )/ && length($0) > 60 { bad = 1 } END { exit bad }' "$tmp/out"
	tap_ok $? "issue 18.5: the demo's pictures and legend fit 60 columns"
	[ "$(grep -c '^  0x' "$tmp/out")" -le $((6 * 64)) ] && grep -q '^  0x' "$tmp/out"
	tap_ok $? "issue 18.5: the demo's pictures: at most 64 rows a stage"
	unset MEMTRACE_FAKE_ANSWER
fi

# ---- map: a heat map as SVG or HTML ----
run 2 "map without PID" map --svg x.svg
run 2 "map without --svg or --html" map 1
has "$tmp/err" "\\-\\-svg FILE or --html FILE" "map says it needs --svg or --html"
run 2 "map --json" --json map 1 --svg "$tmp/x.svg"
has "$tmp/err" "not --json or --tsv" "map says --json does not apply"
run 2 "map with both outputs on stdout" map 1 --svg - --html -
run 2 "map with too many arguments" map 1 all extra --svg -
run 2 "map --svg without FILE" map 1 --svg
run 1 "map of a process that does not exist" map 999999999 --svg "$tmp/x.svg"
has "$tmp/err" "no such process" "map says no such process"
comp_ok=0
command -v bash >/dev/null && comp_ok=1
if [ $comp_ok = 1 ]; then
	: >"$tmp/cwd/heat-map.svg"
	comp "$tmp/cr" memtrace map --svg heat
	grep -qx heat-map.svg "$tmp/cr"
	tap_ok $? "completion offers file names for map --svg FILE"
	rm -f "$tmp/cwd/heat-map.svg"
fi
if command -v python3 >/dev/null && [ -r /proc/self/pagemap ]; then
	chk() { python3 "$here/mapcheck.py" "$@" 2>"$tmp/err"; }
	md="$tmp/m d"
	mkdir -p "$md"
	n1="$md/<script>alert(1)"
	n2="$md/q\"uo'te & <img src=x onerror=alert(2)>"
	n3="$md/]]><!--x-->"
	n4="$md/bad$(printf '\377')byte"
	"$TARGET" "$md" "$n1" "$n2" "$n3" "$n4" >"$tmp/maddr" &
	mpid=$!
	i=0
	while [ ! -s "$tmp/maddr" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	ma=$(cat "$tmp/maddr")
	mend=$(printf '0x%x' $((ma + 8 * ps)))
	export MEMTRACE_FAKE_ANSWER="|python3 $here/fakemod.py"
	run 0 "map --svg --html through fakemod" map $mpid --svg "$tmp/m.svg" --html "$tmp/m.html"
	chk xml "$tmp/m.svg"
	tap_ok $? "map: the SVG is well-formed XML, awkward names and all"
	for f in m.svg m.html; do
		chk clean "$tmp/$f"
		tap_ok $? "map: $f: nothing injected by the names, no external reference"
		chk labels "$tmp/$f" "$n1" "$n2" "$n3" "$md/bad$(printf '\357\277\275')byte" \
			"$md/we\"ird\\na\\001me x (deleted)"
		tap_ok $? "map: $f: the names label their bands as they are (U+FFFD, \\001)"
		chk band "$tmp/$f" "$ma" "$ps" present present present present none none none none
		tap_ok $? "map: $f: the target's 8 pages, 4 present then 4 none, each its address"
		chk bounded "$tmp/$f"
		tap_ok $? "map: $f: cells bounded, scales powers of two"
	done
	chk tip "$tmp/m.html" "$ma" 0 "flags: a-w--- 4K" "mapping: (anonymous) (rw-p)"
	tap_ok $? "map: a present cell's hover text gives its flags"
	nb=$(awk '{ split($1, r, "-"); if (length(r[1]) < 16) n++ } END { print n }' /proc/$mpid/maps)
	[ "$(grep -c '<g class="band"' "$tmp/m.html")" -eq "$nb" ]
	tap_ok $? "map: one band per line of maps below the kernel's half ($nb)"
	run 0 "map RANGE --svg -" map $mpid $ma-$mend --svg -
	[ "$(grep -c '<g class="band"' "$tmp/out")" -eq 1 ] && head -n1 "$tmp/out" | grep -q '^<?xml '
	tap_ok $? "map RANGE: one band, the SVG on stdout"
	run 1 "map into a file that cannot be written" map $mpid --html "$tmp/no/such/dir.html"
	has "$tmp/err" "cannot write $tmp/no/such/dir.html" "map says it cannot write the file"
	if [ -w /dev/full ]; then
		$MEMTRACE map $mpid --svg - >/dev/full 2>"$tmp/err"
		rc=$?
		[ "$rc" -eq 1 ] && grep -q "write error on standard output" "$tmp/err"
		tap_ok $? "map --svg - >/dev/full fails and says so (exit $rc, want 1)"
		$MEMTRACE map $mpid --svg /dev/full 2>"$tmp/err"
		rc=$?
		[ "$rc" -eq 1 ] && grep -q "cannot write /dev/full" "$tmp/err"
		tap_ok $? "map --svg /dev/full fails and says so (exit $rc, want 1)"
	fi
	kill $mpid 2>/dev/null
	wait $mpid 2>/dev/null

	# a 1 GiB mapping: cells of a power of two pages, the first 512 pages
	# by a huge entry, 100000 present, the rest none (a canned answer)
	python3 -c 'import mmap, time
m = mmap.mmap(-1, 1 << 30, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=mmap.PROT_READ)
print("ok", flush=True)
time.sleep(300)' >"$tmp/bready" &
	bpid=$!
	i=0
	while [ ! -s "$tmp/bready" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	bs=$(awk '{ split($1, r, "-"); if (length(r[1]) < 16 && $2 == "r--p" && $6 == "" &&
		strtonum("0x" r[2]) - strtonum("0x" r[1]) >= 1073741824) { print "0x" r[1]; exit } }' \
		/proc/$bpid/maps 2>/dev/null)
	if [ -z "$bs" ]; then
		bs=$(python3 -c 'import sys
for l in open("/proc/%s/maps" % sys.argv[1]):
    a, b = (int(x, 16) for x in l.split()[0].split("-"))
    if l.split()[1] == "r--p" and len(l.split()) == 5 and b - a >= 1 << 30:
        print(hex(a)); break' $bpid)
	fi
	be=$(printf '0x%x' $((bs + (1 << 30))))
	top=$((0x7ffffffff000))
	{
		echo "# memtrace pid=$bpid start=0x0 end=0x7ffffffff000 page_size=$ps mode=runs"
		echo "# addr	pages	state	size	flags	pfn	node"
		printf '0x0\t%d\tunmapped\t4K\t------\t0x0\t-1\n' $((bs / ps))
		printf '%s\t512\tpresent\t2M\ta-wdyx\t0x0\t0\n' "$bs"
		printf '0x%x\t99488\tpresent\t4K\ta-wdyx\t0x0\t0\n' $((bs + 512 * ps))
		printf '0x%x\t%d\tnone\t4K\t------\t0x0\t-1\n' $((bs + 100000 * ps)) $(((1 << 30) / ps - 100000))
		printf '%s\t%d\tunmapped\t4K\t------\t0x0\t-1\n' "$be" $(((top - be) / ps))
		echo "# summary pages=$((top / ps)) unmapped=$(((top - (1 << 30)) / ps)) none=$(((1 << 30) / ps - 100000)) zero=0 present=100000 swap=0 migration=0 other=0"
	} >"$tmp/gib-map"
	export MEMTRACE_FAKE_ANSWER="$tmp/gib-map"
	run 0 "map of a process with a 1 GiB mapping" map $bpid --html "$tmp/big.html"
	chk bounded "$tmp/big.html"
	tap_ok $? "map 1 GiB: cells bounded, scales powers of two, said"
	scale=$(grep -o "data-start=\"$bs\" data-end=\"$be\" data-scale=\"[0-9]*\"" "$tmp/big.html" |
		sed 's/.*data-scale="//; s/"//')
	[ "${scale:-1}" -gt 1 ] && chk scaled "$tmp/big.html" "$bs" "$scale"
	tap_ok $? "map 1 GiB: a cell is $scale pages, said in its label and hover texts"
	mix=$((100000 / ${scale:-1}))
	chk tip "$tmp/big.html" "$bs" $mix "state: $( [ $((100000 % scale)) -ge $((scale / 2)) ] &&
		echo present || echo none) (mixed: none $((scale - 100000 % scale)), present $((100000 % scale)))"
	tap_ok $? "map 1 GiB: the cell where present gives way to none counts both"
	grep -q "<rect class=\"cell present huge\" x=\"416\" y=\"[0-9]*\" width=\"11\" height=\"11\" fill=\"#145a24\" data-tip=\"$bs-" "$tmp/big.html"
	tap_ok $? "map 1 GiB: the first cell, under a huge entry, is dark green"
	cp "$tmp/gib-map" "$tmp/big-answer"	# for browser-tests.sh
	kill $bpid 2>/dev/null
	wait $bpid 2>/dev/null
	unset MEMTRACE_FAKE_ANSWER
else
	tap_skip "" "map through the stand-in module: no python3 or no pagemap"
fi

# ---- snapshots and diff; filters and totals ----
# refused: usage errors, files that are not snapshots (exit 1, with a reason)
run 2 "diff without B" diff "$tmp/x"
run 2 "diff with three files" diff a b c
run 2 "snapshot without RANGE" snapshot 1
run 2 "query --state junk" query --state presnt 1 all
has "$tmp/err" "unknown state 'presnt'" "--state names the unknown state"
run 2 "query --flags junk" query --flags 2M,q 1 all
has "$tmp/err" "unknown flag 'q'" "--flags names the unknown flag"
run 2 "--flags w,-w" verify --flags w,-w 1 all
run 2 "maps --state without its list" maps 1 --state
run 2 "query --since with --each" query --each --since "$tmp/x" 1 all
run 2 "snapshot --tsv" snapshot --tsv 1 all
# bad ONE-LINE-FILE NAME REASON: diff refuses the file, says why, exits 1
bad() {
	printf '%s' "$1" >"$tmp/bad.json"
	run 1 "diff refuses $2" diff "$tmp/bad.json" "$tmp/bad.json"
	grep -q "^memtrace: $tmp/bad.json: .*$3" "$tmp/err"
	tap_ok $? "$2: says '$3'"
}
bad "" "an empty file" "empty file"
bad "hello" "a file that is not JSON" "line 1: unexpected 'h'"
bad "[1,2]" "a JSON array" "not a memtrace snapshot"
bad '{"format":"memtrace-snapshot","format_version":2}' "another format version" \
	"format version 2: this memtrace reads version 1"
bad '{"format":"x"}' "another format" "not a memtrace snapshot"
bad '{"format":"memtrace-snapshot","format_version":1,"pid":1' "a cut object" \
	"unexpected end of file"
bad "$(printf '%0500d' 0 | tr 0 '[')" "500 nested arrays" "nested more than"
printf '{\000}' >"$tmp/nul.json"
run 1 "diff refuses a NUL byte" diff "$tmp/nul.json" "$tmp/nul.json"
has "$tmp/err" "a NUL byte" "says a NUL byte"
run 1 "diff of a file that does not exist" diff "$tmp/none.json" "$tmp/none.json"
has "$tmp/err" "none.json: No such file" "says no such file"

if command -v python3 >/dev/null && [ -r /proc/self/pagemap ]; then
	export MEMTRACE_FAKE_ANSWER="|python3 $here/fakemod.py"
	mkdir -p "$tmp/s"
	"$TARGET" "$tmp/s" >"$tmp/s/out" &
	spid=$!
	i=0
	while [ ! -s "$tmp/s/out" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	sa=$(head -n 1 "$tmp/s/out")
	sp() { printf '0x%x' $((sa + $1 * ps)); }
	# stage N SIGNAL: drive the target to its stage N
	stage() {
		kill -"$2" "$spid"
		i=0
		while ! grep -qx "stage $1" "$tmp/s/out" && [ $i -lt 100 ]; do
			sleep 0.05; i=$((i + 1))
		done
	}
	srange=$sa+$((8 * ps))
	run 0 "snapshot -o FILE" snapshot "$spid" "$srange" -o "$tmp/s/1.json"
	[ ! -s "$tmp/out" ]
	tap_ok $? "snapshot -o prints nothing"
	run 0 "query --json at the same instant" query --json "$spid" "$srange"
	python3 - "$tmp/s/1.json" "$tmp/out" "$spid" "$ps" >"$tmp/err" 2>&1 <<'PY'
import json, sys
s, q = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert s["format"] == "memtrace-snapshot" and s["format_version"] == 1, s
assert s["pid"] == int(sys.argv[3]) and s["page_size"] == int(sys.argv[4])
for k in ("pid", "start", "end", "page_size", "mode", "records", "summary"):
    assert s[k] == q[k], k
assert s["maps"] and all(m["start"].startswith("0x") for m in s["maps"])
assert s["rss_kbytes"] > 0 and s["time"].endswith("Z")
PY
	tap_ok $? "the snapshot is query --json's document plus format, maps, Rss"
	run 0 "snapshot to standard output" snapshot "$spid" "$srange"
	json_ok "snapshot to standard output is valid JSON"
	run 0 "diff of a snapshot with itself" diff "$tmp/s/1.json" "$tmp/s/1.json"
	has "$tmp/out" "^no page changed of 8; maps: 0 lines added, 0 removed$" \
		"diff says nothing changed"
	stage 1 USR1
	run 0 "snapshot after the target wrote pages 4-7" \
		snapshot -o "$tmp/s/2.json" "$spid" "$srange"
	run 1 "diff of a change exits 1" diff "$tmp/s/1.json" "$tmp/s/2.json"
	has "$tmp/out" "^none -> present a-w---: 4 pages at $(sp 4) (16 KiB)$" \
		"diff shows the run none -> present, 4 pages at page 4"
	[ "$(grep -c ' pages\{0,1\} at 0x' "$tmp/out")" -eq 1 ] && grep -qx '  none -> present: 4 pages' "$tmp/out"
	tap_ok $? "diff shows one run and one move"
	has "$tmp/out" "^4 pages changed (16 KiB) of 8;" "diff totals the changed pages"
	has "$tmp/out" "by state: none 4 -> 0 (-4), present 4 -> 8 (+4)$" \
		"diff says each state before and after"
	run 1 "diff --tsv" diff --tsv "$tmp/s/1.json" "$tmp/s/2.json"
	has "$tmp/out" "^$(sp 4)	4	none	4K	------	present	4K	a-w---$" "diff --tsv run"
	has "$tmp/out" "^# result changed=4 compared=8 runs=1 " "diff --tsv result"
	has "$tmp/out" "^# totals-b pages=8 .* present=8 " "diff --tsv totals of b"
	run 1 "diff --json" diff --json "$tmp/s/1.json" "$tmp/s/2.json"
	json_ok "diff --json is valid JSON"
	has "$tmp/out" '"changes":\[{"addr":"'"$(sp 4)"'","pages":4,"from":{"state":"none"' \
		"diff --json change"
	has "$tmp/out" '"changed_pages":4,"compared_pages":8,"changed":true' \
		"diff --json counts"
	run 1 "diff --state none keeps changes from none" \
		diff --state none "$tmp/s/1.json" "$tmp/s/2.json"
	run 0 "diff --state zero: no change from or to zero" \
		diff --state zero "$tmp/s/1.json" "$tmp/s/2.json"
	run 0 "snapshot --pages" snapshot --pages -o "$tmp/s/2p.json" "$spid" "$srange"
	run 1 "diff of a runs and a pages snapshot" diff "$tmp/s/1.json" "$tmp/s/2p.json"
	[ "$(grep -c ' pages\{0,1\} at 0x' "$tmp/out")" -eq 1 ] &&
		grep -q "^none -> present a-w---: 4 pages at $(sp 4) " "$tmp/out"
	tap_ok $? "diff merges page records into one run"
	run 0 "query --since the last snapshot: no change" \
		query "$spid" "$srange" --since "$tmp/s/2.json"
	stage 2 USR2
	run 1 "query --since after MADV_DONTNEED of pages 0-1" \
		query "$spid" "$srange" --since "$tmp/s/2.json"
	has "$tmp/out" "^present a-w--- -> none: 2 pages at $sa (8 KiB)$" \
		"query --since shows present -> none at page 0"
	has "$tmp/out" "^  b: now, pid $spid, " "query --since names the process as b, once"
	run 1 "query --since --json" query --json "$spid" "$srange" --since "$tmp/s/1.json"
	json_ok "query --since --json is valid JSON"
	head -n 3 "$tmp/s/1.json" >"$tmp/s/cut.json"	# after the first record
	run 1 "query --since a cut snapshot" query "$spid" "$srange" --since "$tmp/s/cut.json"
	has "$tmp/err" "cut.json: line 4: unexpected end of file" "says where it is cut"
	sed 's/"format_version":1/"format_version":9/' "$tmp/s/1.json" >"$tmp/s/v9.json"
	run 1 "diff refuses format version 9" diff "$tmp/s/v9.json" "$tmp/s/1.json"
	has "$tmp/err" "v9.json: format version 9: this memtrace reads version 1" \
		"says which version it reads"
	sed '3s/"pages":[0-9]*/"pages":3/' "$tmp/s/1.json" >"$tmp/s/gap.json"
	run 1 "diff refuses records that leave a gap" diff "$tmp/s/gap.json" "$tmp/s/1.json"
	has "$tmp/err" "gap.json: record 2: .*not where the last record ended" \
		"says which record does not follow"
	sed 's/"present":4,/"present":5,/' "$tmp/s/1.json" >"$tmp/s/sum.json"
	run 1 "diff refuses a summary that does not add up" diff "$tmp/s/sum.json" "$tmp/s/1.json"
	has "$tmp/err" "does not add up" "says the summary does not add up"

	# filters and totals on the live target: pages 0-1 none, 2-7 present
	run 0 "query --state none --tsv" query --pages --tsv --state none "$spid" "$srange"
	[ "$(grep -vc '^#' "$tmp/out")" -eq 2 ] && ! grep -q '	present	' "$tmp/out"
	tap_ok $? "--state none lists only the 2 none pages"
	has "$tmp/out" "^# summary pages=8 " "the summary stays the range's"
	has "$tmp/out" "^# totals pages=2 unmapped=0 none=2 zero=0 present=0 " \
		"tsv totals of the pages shown"
	run 0 "query --state present --flags w,-x" \
		query --tsv --state present --flags w,-x "$spid" "$srange"
	has "$tmp/out" "^# totals pages=6 .* present=6 .* excl=0 shared=6 node0=6$" \
		"totals: 6 present, shared, on node 0"
	run 0 "query --flags -w (no page)" query --tsv --state present --flags -w "$spid" "$srange"
	[ "$(grep -vc '^#' "$tmp/out")" -eq 0 ]
	tap_ok $? "--flags -w lists no writable page"
	run 0 "query --state present --json" query --json --state present "$spid" "$srange"
	json_ok "query --state --json is valid JSON"
	has "$tmp/out" '"totals":{"pages":6,"kbytes":'$((6 * ps / 1024))',' "json totals"
	run 0 "query --totals (human)" query --totals --no-picture "$spid" "$srange"
	has "$tmp/out" "^shown: 8 pages ([0-9]* KiB): 2 none, 6 present$" "human totals"
	has "$tmp/out" "^  present by node: 0: 6; THP 0, hugetlb 0; exclusive 0, shared 6$" \
		"human totals of the present pages"
	run 0 "verify --state present" verify --state present "$spid" "$srange"
	has "$tmp/out" " 6/6 pages agree " "verify checks only the 6 present pages"
	has "$tmp/out" "^checked: 6 pages" "verify prints the totals of the pages checked"
	run 0 "verify --tsv --totals" verify --tsv --totals "$spid" "$srange"
	has "$tmp/out" "^# totals pages=8 " "verify --tsv totals"
	run 0 "maps --json --state present" maps --json --state present "$spid"
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["totals"]["present"] == sum(m["present"] for m in d["mappings"]) > 0
assert d["totals"]["none"] == sum(m["none"] for m in d["mappings"]) == 0' "$tmp/out" 2>"$tmp/err"
	tap_ok $? "maps --state present counts and totals only present pages"
	run 0 "maps --tsv --totals" maps --tsv --totals "$spid"
	has "$tmp/out" "^# totals pages=" "maps --tsv totals"
	kill "$spid" 2>/dev/null
	unset MEMTRACE_FAKE_ANSWER
fi

# totals of huge pages, nodes and exclusive pages, from a canned answer
h2=$((2097152 / ps))
{
	echo "# memtrace pid=$$ start=0x40000000 end=$(printf '0x%x' $((0x40000000 + 2 * h2 * ps + 3 * ps))) page_size=$ps mode=runs"
	echo "# addr	pages	state	size	flags	pfn	node"
	printf '0x40000000\t%d\tpresent\t2M\ta-wdyx\t0x0\t0\n' $h2
	printf '0x%x\t%d\tpresent\t2M\tah----\t0x0\t1\n' $((0x40000000 + h2 * ps)) $h2
	printf '0x%x\t2\tpresent\t4K\ta-w---\t0x0\t1\n' $((0x40000000 + 2 * h2 * ps))
	printf '0x%x\t1\tzero\t4K\ta-----\t0x0\t-1\n' $((0x40000000 + 2 * h2 * ps + 2 * ps))
	echo "# summary pages=$((2 * h2 + 3)) unmapped=0 none=0 zero=1 present=$((2 * h2 + 2)) swap=0 migration=0 other=0"
} >"$tmp/huge2m"
export MEMTRACE_FAKE_ANSWER="$tmp/huge2m"
hr=0x40000000+$(((2 * h2 + 3) * ps))
run 0 "query --totals --tsv of THP, hugetlb, two nodes" query --tsv --totals $$ $hr
has "$tmp/out" "^# totals pages=$((2 * h2 + 3)) unmapped=0 none=0 zero=1 present=$((2 * h2 + 2)) swap=0 migration=0 other=0 thp=$h2 hugetlb=$h2 excl=$h2 shared=$((h2 + 2)) node0=$h2 node1=$((h2 + 2))$" \
	"tsv totals per node, THP, hugetlb, exclusive, shared"
run 0 "query --flags 2M,-h" query --tsv --flags 2M,-h $$ $hr
[ "$(grep -vc '^#' "$tmp/out")" -eq 1 ] && has "$tmp/out" "^0x40000000	$h2	present	2M" \
	"--flags 2M,-h chooses the THP only"
run 0 "query --flags hugetlb" query --tsv --flags hugetlb $$ $hr
has "$tmp/out" "^# totals pages=$h2 .* thp=0 hugetlb=$h2 " "--flags hugetlb, by name"
run 0 "query --flags 4K --state present" query --tsv --flags 4K --state present $$ $hr
has "$tmp/out" "^# totals pages=2 " "--flags 4K: neither 2M nor 1G"
run 0 "query --totals --json" query --json --totals $$ $hr
json_ok "query --totals --json is valid JSON"
has "$tmp/out" '"thp":'$h2',"hugetlb":'$h2',"exclusive":'$h2',"shared":'$((h2 + 2))',"nodes":{"0":'$h2',"1":'$((h2 + 2))'}' \
	"json totals per node, THP, hugetlb"
run 0 "query --totals (human)" query --totals --no-picture $$ $hr
has "$tmp/out" "present by node: 0: $h2 1: $((h2 + 2)); THP $h2, hugetlb $h2; exclusive $h2, shared $((h2 + 2))$" \
	"human totals per node, THP, hugetlb"
unset MEMTRACE_FAKE_ANSWER

# completion: snapshot files after diff, -o, --since
if command -v bash >/dev/null; then
	mkdir -p "$tmp/cwd2"
	: >"$tmp/cwd2/before.json"
	for words in "diff b" "diff x.json b" "snapshot -o b" "query --since b"; do
		# shellcheck disable=SC2086
		(cd "$tmp/cwd2" && bash "$tmp/complete.sh" "$tmp/completion" "$tmp/cr" memtrace $words) \
			2>"$tmp/err"
		grep -qx before.json "$tmp/cr"
		tap_ok $? "completion offers snapshot files after '$words'"
	done
fi

tap_done
tap_exit
