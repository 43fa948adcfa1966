#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The samples of real output that README.md and memtrace.1 show, taken in
# the lab VM (busybox sh, root, the module loaded, /lab/memtrace and
# /lab/target):
#   samples.sh take DIR          write DIR/NAME for each sample
#   samples.sh check DOC...      TAP: each sample block of each DOC against
#                                a run now, numbers that change from run to
#                                run (pids, addresses, sizes) masked
# A sample block in a DOC follows its marker line, which names the sample
# and the kernel of the lab VM it was taken on:
#   README.md    <!-- sample NAME KERNEL -->   then a ``` block
#   memtrace.1   .\" sample NAME KERNEL        then a .nf ... .fi block
# scripts/samples takes them in a VM of that kernel and writes them into the
# DOCs; the check compares on that kernel only (another kernel's output may
# differ where kernels do: VmRSS is exact from 6.2 on), and says so
# elsewhere.

MEMTRACE=${MEMTRACE:-/lab/memtrace}
TARGET=${TARGET:-/lab/target}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/mt-samples.XXXXXX)
tpid=
cleanup() {
	[ -n "$tpid" ] && kill "$tpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

mt() { COLUMNS=80 "$MEMTRACE" --color=never "$@"; }

# The demo's first lines, and the stage where the pattern is written.
sample_demo() {
	echo '$ memtrace demo'
	mt demo >"$tmp/demo" || return 1
	sed -n '1,2p' "$tmp/demo"
	echo '...'
	awk '/^== 3\// { f = 1 } f && /^$/ { exit } f' "$tmp/demo"
}

# until_line FILE PATTERN: wait (10 s at most) for a line matching PATTERN
until_line() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		grep -q "$2" "$1" && return 0
		sleep 1
	done
	return 1
}

# The target: 8 anonymous pages, the first 4 written. Its pid and address.
start_target() {
	[ -n "$tpid" ] && return 0
	"$TARGET" "$tmp" >"$tmp/target" &
	tpid=$!
	until_line "$tmp/target" .
	taddr=$(head -1 "$tmp/target")
	[ -n "$taddr" ]
}

# One query through /proc/memtrace from the shell, as the README shows it.
sample_proc() {
	start_target || return 1
	q="$tpid $taddr +0x8000 pages"
	echo "\$ exec 3<>/proc/memtrace; echo \"$q\" >&3; cat <&3"
	exec 3<>/proc/memtrace
	echo "$q" >&3
	cat <&3
	exec 3>&-
}

sample_query() {
	start_target || return 1
	echo "\$ memtrace query $tpid $taddr+32K --pages --picture"
	mt query "$tpid" "$taddr+32K" --pages --picture
}

# demo --tsv: its header, one stage, the result
sample_demo_tsv() {
	echo '$ memtrace demo --tsv'
	mt demo --tsv >"$tmp/demo.tsv" || return 1
	grep '^#' "$tmp/demo.tsv" | grep -v '^# result'
	grep -E '^(stage|maps)	3	' "$tmp/demo.tsv"
	echo '...'
	grep '^# result' "$tmp/demo.tsv"
}

sample_maps_tsv() {
	start_target || return 1
	echo "\$ memtrace maps $tpid --tsv | grep '^#'"
	mt maps "$tpid" --tsv | grep '^#'
}

# A snapshot, a step of the program, what changed: a target of its own
# (SIGUSR1 writes its pages 4-7), so that the other samples' stays as it is.
sample_since() {
	"$TARGET" "$tmp" >"$tmp/starget" &
	spid=$!
	until_line "$tmp/starget" .
	r="$(head -1 "$tmp/starget")+32K"
	echo "\$ memtrace snapshot $spid $r -o before.json"
	mt snapshot "$spid" "$r" -o "$tmp/before.json" || return 1
	echo "\$ kill -USR1 $spid          # the program writes pages 4-7"
	kill -USR1 "$spid"
	until_line "$tmp/starget" '^stage 1$'
	echo "\$ memtrace query $spid $r --since before.json"
	(cd "$tmp" && mt query "$spid" "$r" --since before.json)
	rc=$?
	kill "$spid"
	[ $rc = 1 ]	# as diff(1): 1, pages changed
}

names="demo proc query demo_tsv maps_tsv since"

# What a sample's mask leaves that still changes from run to run: the
# demo's kB columns (a process's VSZ and RSS), the target's totals.
vary_demo_tsv() {
	awk -F'\t' -v OFS='\t' '$1 == "stage" { $4 = $5 = $6 = $7 = $8 = $20 = "N" } 1'
}
vary_maps_tsv() { sed -E '/^# (total|rss)/s/[0-9]+/N/g'; }
# The demo's own page faults (its code, stack and heap touched for the first
# time) may fall in a stage and move its Rss beside the region's: more of
# them after memory was compacted or reclaimed (as after tests that map
# gigabytes: on 6.12, after compact_memory and drop_caches, the read stage
# moved Rss by +8 KiB with main's build too), so the clause that says so
# comes and goes.
vary_demo() { sed -E 's/ \(they differ by [^:]*: the rest of the process[^)]*\)$//'; }

take() {
	mkdir -p "$1" || return 1
	for n in $names; do
		sample_"$n" >"$1/$n" 2>&1 || { echo "samples: $n failed" >&2; return 1; }
	done
}

# Numbers that change from run to run: pids, addresses, frame numbers,
# sizes; and the spaces that align them.
mask() {
	sed -E 's/pid([= ])[0-9]+/pid\1P/g; s/(memtrace|query|maps|snapshot|-USR1) [0-9]+/\1 P/g;
		s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z/TIME/g;
		s/"[0-9]+ /"P /; s/0x[0-9a-f]+/0xH/g; s/[0-9a-f]{8,16}/H/g;
		s/[-+]?[0-9]+(\.[0-9])? (B|KiB|MiB|GiB|TiB)/SIZE/g;
		s/(kb|kbytes)=[0-9]+/\1=N/g; s/[ 	]+/ /g; s/ $//'
}

# The sample blocks of a DOC, as DIR/NAME, unescaped (roff in a man page);
# DIR/kernels lists NAME KERNEL.
blocks() {
	awk -v d="$2" '
	function out(line) { print line >(d "/" name) }
	/^<!-- sample / { name = $3; kern[name] = $4; st = 1; next }
	/^\.\\" sample / { name = $3; kern[name] = $4; st = 1; roff = 1; next }
	st == 1 && (/^```/ || /^\.nf/) { st = 2; printf "" >(d "/" name); next }
	st == 2 && (/^```/ || /^\.fi/) { st = 0; roff = 0; next }
	st == 2 && roff {
		gsub(/\\-/, "-"); gsub(/\\&/, ""); gsub(/\\e/, "\\"); out($0); next }
	st == 2 { out($0) }
	END { for (n in kern) print n, kern[n] >(d "/kernels") }' "$1"
}

check() {
	# shellcheck source=tests/lib/tap.sh
	if [ -f "$here/../lib/tap.sh" ]; then . "$here/../lib/tap.sh"; else . "$here/tap.sh"; fi
	rel=$(uname -r)
	# the samples are taken with 4K pages: another page size (arm64's
	# 16K) prints other sizes and counts
	kps=$(awk '/^KernelPageSize:/ { print $2; exit }' /proc/self/smaps 2>/dev/null)
	for doc; do
		d=$tmp/doc.${doc##*/}
		mkdir -p "$d"
		blocks "$doc" "$d"
		[ -s "$d/kernels" ]
		tap_ok $? "${doc##*/} has samples"
		while read -r n k; do
			case $rel in
			"$k".*) ;;
			*) tap_diag "${doc##*/} $n: taken on $k, this is $rel: not compared"
			   continue ;;
			esac
			if [ -n "$kps" ] && [ "$kps" != 4 ]; then
				tap_diag "${doc##*/} $n: taken with 4K pages, this kernel's are ${kps}K: not compared"
				continue
			fi
			if ! sample_"$n" >"$tmp/now" 2>&1; then
				tap_ok 1 "${doc##*/} $n: the sample runs"
				continue
			fi
			vary="cat"
			command -v "vary_$n" >/dev/null && vary=vary_$n
			$vary <"$d/$n" | mask >"$tmp/was"
			$vary <"$tmp/now" | mask >"$tmp/is"
			diff "$tmp/was" "$tmp/is" >"$tmp/diff"
			rc=$?
			[ $rc = 0 ] || { sed 's/^/#   /' "$tmp/diff" | head -20
				tap_diag "(scripts/samples writes the samples again)"; }
			tap_ok $rc "${doc##*/} $n: the sample is what memtrace prints on $k"
		done <"$d/kernels"
	done
}

case $1 in
take) take "$2" ;;
check) shift; check "$@"; tap_done; tap_exit ;;
*) echo "usage: samples.sh take DIR | check DOC..." >&2; exit 2 ;;
esac
