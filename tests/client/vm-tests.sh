#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In-VM tests of the memtrace client against the real module (TAP).
# Run inside the lab VM as root with the module loaded (busybox sh):
#   sh vm-tests.sh
# MEMTRACE (default /lab/memtrace) is the client; RUNAS (default: runas next
# to this script, else /lab/runas) the uid-dropping helper built from runas.c
# (`make -C user vm-helpers` builds static ones). Users lab (1000) and
# other (1001) must exist for the permission tests. TRANSPORT=proc|netlink
# runs every query through that transport (default: the client's own choice,
# netlink when the module's family resolves).

here=$(cd "$(dirname "$0")" && pwd)
# the TAP helpers: tests/lib/tap.sh in the tree, /lab/tap.sh in the guest
# shellcheck source=tests/lib/tap.sh
if [ -f "$here/../lib/tap.sh" ]; then . "$here/../lib/tap.sh"; else . "$here/tap.sh"; fi
MEMTRACE=${MEMTRACE:-/lab/memtrace}
if [ -z "$RUNAS" ]; then
	if [ -x "$here/runas" ]; then RUNAS=$here/runas; else RUNAS=/lab/runas; fi
fi
topt=
[ -n "$TRANSPORT" ] && topt="--transport=$TRANSPORT"
tmp=$(mktemp -d /tmp/mt-vm.XXXXXX)
# the kernel's page size (4K, or 16K on arm64-16k; busybox has no getconf)
# and a THP's, in pages (512 with 4K pages, 2048 with 16K)
PSIZE=$(mt_page_size)
THP_PAGES=$(( $(cat /sys/kernel/mm/transparent_hugepage/hpage_pmd_size 2>/dev/null || echo 2097152) / PSIZE ))
pids=

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# a failed test shows the output of the last command it ran
tap_on_fail() { sed 's/^/#   /' "$tmp/out" "$tmp/err" 2>/dev/null | head -30; }

run() { # EXPECTED-EXIT NAME ARGS...
	want=$1 name=$2
	shift 2
	"$MEMTRACE" $topt "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq "$want" ]
	tap_ok $? "$name (exit $rc, want $want)"
}

has() { grep -q -- "$2" "$1"; tap_ok $? "$3"; }

[ "$(id -u)" -eq 0 ] || echo "# warning: not root; some tests will fail"
[ -e /proc/memtrace ] || echo "# warning: /proc/memtrace missing: is the module loaded?"
echo "# transport: ${TRANSPORT:-default}"

# ---- demo: every stage's counts exactly, full agreement everywhere ----
run 0 "demo" demo
has "$tmp/out" "^OK: the module and /proc/self/pagemap agree at every stage" "demo agrees"
run 0 "demo --tsv" demo --tsv
cp "$tmp/out" "$tmp/demo.tsv"
# stage name: unmapped/none/zero/present/swap  agree/checked
awk -F'\t' '$1 == "stage" { printf "%s:%s/%s/%s/%s/%s %s/%s\n", $3, $9, $10, $11, $12, $13, $17, $18 }' \
	"$tmp/demo.tsv" >"$tmp/stages"
cat >"$tmp/want" <<'WANT'
initial:-/-/-/-/- -/-
mmap:0/16/0/0/0 16/16
read:0/0/16/0/0 16/16
pattern:0/0/8/8/0 16/16
write:0/0/0/16/0 16/16
dontneed:0/16/0/0/0 16/16
munmap:16/0/0/0/0 16/16
WANT
cmp -s "$tmp/stages" "$tmp/want"
rc=$?
[ $rc -ne 0 ] && { echo "# got:"; sed 's/^/#   /' "$tmp/stages"; }
tap_ok $rc "demo stage counts exactly right (16 pages, every other page)"
grep -q "^# result agree disagreements=0" "$tmp/demo.tsv"
tap_ok $? "demo --tsv reports no disagreement"
# columns: stage num name vsz rss rss_delta ps_vsz ps_rss, the 7 states ($9-$15),
# backed_delta agree checked ($16-$18), map ($19)
awk -F'\t' '$1 == "stage" && $3 == "pattern" { print $19 }' "$tmp/demo.tsv" | grep -qx '#0#0#0#0#0#0#0#0'
tap_ok $? "demo pattern picture is #0#0..."
run 0 "demo --json --pages 32 --pattern 1100" demo --json --pages 32 --pattern 1100
grep -q '"name":"pattern".*"counts":{"unmapped":0,"none":0,"zero":16,"present":16' "$tmp/out"
tap_ok $? "demo --json pattern 1100: 16 present, 16 zero"
grep -q '"ok":true' "$tmp/out"
tap_ok $? "demo --json ok"
run 0 "demo --pattern all" demo --tsv --pattern all
awk -F'\t' '$1 == "stage" && $3 == "pattern" { print $12 }' "$tmp/out" | grep -qx 16
tap_ok $? "demo --pattern all: 16 present after the pattern"
if [ -e /sys/kernel/mm/transparent_hugepage/enabled ] && \
   ! grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled; then
	run 0 "demo --thp" demo --tsv --thp
	awk -F'\t' '$1 == "stage" && $3 == "pattern" { print $12 }' "$tmp/out" | grep -qx $THP_PAGES
	tap_ok $? "demo --thp: the first write backs all $THP_PAGES pages at once"
	awk -F'\t' '$1 == "stage" && $3 == "pattern" { print $19 }' "$tmp/out" | grep -qx "H\{$THP_PAGES\}"
	tap_ok $? "demo --thp: drawn as huge pages"
else
	tap_lack "demo --thp" "no THP"
	tap_lack "demo --thp counts" "no THP"
	tap_lack "demo --thp picture" "no THP"
fi

# ---- another process ----
sleep 100 &
sp=$!
pids="$pids $sp"
sleep 0.2 2>/dev/null || sleep 1
run 0 "query another process, all" query $sp all
has "$tmp/out" "present" "query all shows present pages"
run 0 "query [stack] --pages --tsv" query --pages --tsv $sp '[stack]'
has "$tmp/out" "^# summary pages=" "query [stack] summary"
run 0 "query --json all" query --json $sp all
grep -q '"summary":{"pages":' "$tmp/out"
tap_ok $? "query --json has the summary"
# ---- --cached: the file pages of the sleeping busybox with no entry, in the page cache ----
# (the initramfs keeps every file page in the page cache: present + cached = its pages)
bb=$(awk '$6 ~ /busybox$/ { print $6; exit }' /proc/$sp/maps)
for tr in proc netlink; do
	run 0 "query --cached --pages --tsv, $tr" --transport=$tr query --cached --pages --tsv $sp "$bb"
	cp "$tmp/out" "$tmp/cached.$tr"
	# kind f, or s where the root file system is tmpfs (the lab VM's initramfs)
	awk -F'\t' '$3 == "cached" && $5 ~ /^[fs]/ { c++ } $3 == "cached" && $5 !~ /^[fs]/ { bad++ }
		/^# summary/ { for (i = 2; i <= NF; i++) if ($i ~ /^cached=/) s = substr($i, 8) }
		END { exit !(c > 0 && !bad && s == c) }' FS='\t| ' "$tmp/out"
	tap_ok $? "query --cached, $tr: cached file pages (kind f or s), as many as the summary's cached="
	run 0 "query --pages --tsv without --cached, $tr" --transport=$tr query --pages --tsv $sp "$bb"
	! grep -q cached "$tmp/out"
	tap_ok $? "without --cached, $tr: no cached page, no cached= in the summary"
done
cmp -s "$tmp/cached.proc" "$tmp/cached.netlink"
tap_ok $? "query --cached: proc and netlink give the same answer"
# ---- --folio: a column of folio sizes, the same over both transports ----
for tr in proc netlink; do
	run 0 "query --cached --folio --pages --tsv, $tr" --transport=$tr query --cached --folio --pages --tsv $sp "$bb"
	cp "$tmp/out" "$tmp/folio.$tr"
	# 8 columns; present and cached pages have a size, the others '-'
	awk -F'\t' '/^#/ { next } NF != 8 { bad++ }
		($3 == "present" || $3 == "cached") && $8 !~ /^[0-9]+[KMG]$/ { bad++ }
		$3 != "present" && $3 != "cached" && $3 != "zero" && $8 != "-" { bad++ }
		{ n++ } END { exit !(n > 0 && !bad) }' "$tmp/out" &&
		grep -q '^# addr.*	folio$' "$tmp/out"
	tap_ok $? "query --folio, $tr: a folio column, a size for each present or cached page"
	# the same pages as without --folio
	cut -f1-7 "$tmp/out" | grep -v '^#' >"$tmp/folio7"
	grep -v '^#' "$tmp/cached.$tr" | cmp -s - "$tmp/folio7"
	tap_ok $? "query --folio, $tr: the other columns as without --folio"
done
cmp -s "$tmp/folio.proc" "$tmp/folio.netlink"
tap_ok $? "query --folio: proc and netlink give the same answer"
run 0 "query --folio --json" query --folio --json $sp "$bb"
grep -q '"folio":"[0-9]*[KMG]"' "$tmp/out"
tap_ok $? "query --folio --json: records carry a folio size"
# ---- file: a file's page cache, no process (netlink only) ----
# busybox, on the initramfs, is all in the page cache: every page cached
run 0 "file busybox --tsv" --transport=netlink file --tsv "$bb"
sz=$(wc -c <"$bb")
awk -v want=$(( (sz + PSIZE - 1) / PSIZE )) -v bb="$bb" '
	NR == 1 { ok = $0 ~ ("^# memtrace file=" bb " start=0x0 ") }
	/^0x/ && $3 == "cached" { c += $2 } /^0x/ && $3 != "cached" { bad++ }
	END { exit !(ok && !bad && c == want) }' FS='\t' "$tmp/out"
tap_ok $? "file busybox: the header names it, all its pages cached"
# a file of 8 pages (of the kernel's size: 16K ones on arm64-16k), pages 0,
# 2 and 5 written
f=$tmp/file8
dd if=/dev/zero of="$f" bs=$PSIZE count=0 seek=8 2>/dev/null
for i in 0 2 5; do dd if=/dev/zero of="$f" bs=$PSIZE count=1 seek=$i conv=notrunc 2>/dev/null; done
run 0 "file --pages --tsv" --transport=netlink file --pages --tsv "$f"
awk '/^0x/ { s = s $3 "," } END { exit s != "cached,none,cached,none,none,cached,none,none," }' \
	FS='\t' "$tmp/out"
tap_ok $? "file --pages: pages 0, 2, 5 cached, the rest none"
has "$tmp/out" "cached=3" "file: the summary counts 3 cached"
# pages 2-4: 8192+12K with 4K pages
frange=$((2 * PSIZE))+$((3 * PSIZE / 1024))K
run 0 "file RANGE $frange" --transport=netlink file --pages --tsv "$f" "$frange"
awk -v want="$(printf '0x%x:cached,0x%x:none,0x%x:none,' $((2 * PSIZE)) $((3 * PSIZE)) $((4 * PSIZE)))" \
	'/^0x/ { s = s $1 ":" $3 "," } END { exit s != want }' FS='\t' "$tmp/out"
tap_ok $? "file RANGE $frange: offsets $(printf '0x%x-0x%x' $((2 * PSIZE)) $((5 * PSIZE)))"
run 0 "file --runs --json" --transport=netlink file --json "$f"
grep -q "^{\"file\":\"$f\",\"start\":\"0x0\",\"end\":\"$(printf 0x%x $((8 * PSIZE)))\"" "$tmp/out"
tap_ok $? "file --json: the object names the file, [0, 8 pages)"
run 0 "file --state cached --pages --tsv" --transport=netlink file --state cached --pages --tsv "$f"
awk '/^0x/ && $3 == "cached" { c++ } /^0x/ && $3 != "cached" { bad++ }
	END { exit !(c == 3 && !bad) }' FS='\t' "$tmp/out"
tap_ok $? "file --state cached: the 3 cached pages listed, nothing else"
run 0 "file --folio --pages --tsv" --transport=netlink file --folio --pages --tsv "$f"
awk -v one="$((PSIZE / 1024))K" '/^0x/ { s = s $3 ":" $NF "," }
	END { exit s != "cached:" one ",none:-,cached:" one ",none:-,none:-,cached:" one ",none:-,none:-," }' \
	FS='\t' "$tmp/out"
tap_ok $? "file --folio: the 3 cached pages are folios of one page, the others have none ('-')"
# tmpfs huge=always: the file's page cache is huge folios (when the kernel gives them)
hd=$tmp/huge
mkdir -p "$hd"
if mount -t tmpfs -o huge=always,size=16M memtrace-huge "$hd" 2>/dev/null; then
	h0=$(awk '/^ShmemHugePages:/ { print $2 }' /proc/meminfo)
	dd if=/dev/zero of="$hd/f" bs=1M count=4 2>/dev/null
	h1=$(awk '/^ShmemHugePages:/ { print $2 }' /proc/meminfo)
	if [ -n "$h0" ] && [ $((h1 - h0)) -ge 4096 ]; then
		pmd_kb=$((PSIZE / 8 * PSIZE / 1024))
		run 0 "file --folio on tmpfs huge=always" --transport=netlink file --folio --tsv "$hd/f"
		# runs of cached pages, each folio the PMD size (5.17+: one multi-index entry;
		# before, a huge page is an entry a page: 4K)
		want=$((pmd_kb / 1024))M
		case $(uname -r) in 5.1[0-6].*|5.[0-9].*) want=$((PSIZE / 1024))K ;; esac
		awk -v want="$want" '/^0x/ && $3 == "cached" && $NF == want { c += $2 }
			/^0x/ && ($3 != "cached" || $NF != want) { bad++ }
			END { exit !(c > 0 && !bad) }' FS='\t' "$tmp/out"
		tap_ok $? "file --folio: a 4M file on tmpfs huge=always is cached in $want folios"
	else
		tap_skip "file --folio: a 4M file on tmpfs huge=always" "tmpfs got no huge pages (ShmemHugePages $h0 -> $h1 kB)"
	fi
	umount "$hd"
else
	tap_skip "file --folio: a 4M file on tmpfs huge=always" "cannot mount tmpfs huge=always"
fi
run 0 "file --totals (human)" --transport=netlink file --totals "$f"
has "$tmp/out" "cached" "file, human output: says cached"
run 1 "file, proc transport" --transport=proc file "$f"
has "$tmp/err" "needs the netlink transport" "file over proc: says it needs netlink"
run 1 "file of a directory" --transport=netlink file /tmp
has "$tmp/err" "regular file or block device" "file of a directory: the module's message"
run 1 "file that does not exist" --transport=netlink file "$tmp/nope"
has "$tmp/err" "No such file" "file that does not exist: says so"
run 2 "file, a mapping name as RANGE" --transport=netlink file "$f" '[heap]'
if [ -x "$RUNAS" ] && id lab >/dev/null 2>&1; then
	chmod 0644 "$f"; chmod 0755 "$tmp"
	"$MEMTRACE" --transport=netlink file "$f" >"$tmp/out" 2>"$tmp/err" &&
		cp "$tmp/out" "$tmp/out.root"
	"$RUNAS" 1000 1000 "$MEMTRACE" --transport=netlink file "$f" >"$tmp/out" 2>"$tmp/err"
	[ $? -eq 1 ] && grep -q "permission denied" "$tmp/err" && grep -q "cachestat" "$tmp/err"
	tap_ok $? "file, uid 1000, root's 0644 file: permission denied (cachestat's rule)"
	chmod 0666 "$f"
	"$RUNAS" 1000 1000 "$MEMTRACE" --transport=netlink file "$f" >"$tmp/out" 2>"$tmp/err"
	tap_ok $? "file, uid 1000, root's 0666 file (it may write it): answered"
else
	tap_lack "file permission" "no runas or no user lab"
	tap_lack "file permission" "no runas or no user lab"
fi
run 0 "maps another process" maps $sp
has "$tmp/out" "smaps Rss" "maps shows smaps Rss"
run 0 "maps --tsv" maps --tsv $sp
# the module's present total must equal smaps' Rss for a sleeping process
# ([vvar] is a PFN map: present to the module perhaps, never in Rss)
awk -F'\t' -v ps="$PSIZE" '
	$1 !~ /^#/ && $11 !~ /^\[vvar/ { kb += $4 * ps / 1024 }
	/^# rss/ { split($0, f, "smaps_rss_kbytes="); rss = f[2] + 0 }
	END { if (kb != rss) { print "# present " kb " kB, Rss " rss " kB"; exit 1 } }' "$tmp/out"
tap_ok $? "maps: present pages (less [vvar]) x page size == smaps Rss"
# map: the heat map through the module (a band a line of maps but [vsyscall])
run 0 "map another process --svg --html" map $sp --svg "$tmp/m.svg" --html "$tmp/m.html"
nb=$(awk '{ split($1, r, "-"); if (length(r[1]) < 16) n++ } END { print n }' /proc/$sp/maps)
[ "$(grep -c '<g class="band"' "$tmp/m.svg")" -eq "$nb" ] &&
	[ "$(grep -c '<g class="band"' "$tmp/m.html")" -eq "$nb" ]
tap_ok $? "map: one band per line of maps ($nb), in the SVG and in the HTML"
grep -q '<rect class="cell present' "$tmp/m.svg"
tap_ok $? "map: present cells"
kill -STOP $sp
run 0 "verify another process, all" verify $sp all
has "$tmp/out" ": OK" "verify says OK"
run 0 "verify [stack]" verify $sp '[stack]'
# a file mapped by several lines of maps, by its base name: libc when the
# process has one, else its own binary (busybox is static in the lab VM)
lib=$(awk '$6 ~ /^\// { n = split($6, p, "/"); c[p[n]]++; if (!o[p[n]]++) l[++k] = p[n] }
	END { for (i = 1; i <= k; i++) if (l[i] ~ /^libc[.-]/ && c[l[i]] > 1) { print l[i]; exit }
	      for (i = 1; i <= k; i++) if (c[l[i]] > 1) { print l[i]; exit } }' /proc/$sp/maps)
echo "# verify --each of '$lib' ($(grep -c "/$lib\$" /proc/$sp/maps) lines of maps)"
run 0 "verify by library name --each" verify --each $sp "$lib"
[ "$(grep -c ': OK$' "$tmp/out")" -eq "$(grep -c "/$lib\$" /proc/$sp/maps)" ]
tap_ok $? "verify --each: one OK per line of maps"
kill -CONT $sp

# ---- info: GET_INFO and the transport in use ----
run 0 "info" info
has "$tmp/out" "^transport: *${TRANSPORT:-netlink}" "info names the transport (${TRANSPORT:-netlink})"
has "$tmp/out" "^page size: *$PSIZE\$" "info: page size"
run 0 "info --json" info --json
has "$tmp/out" '"nstates":7,' "info --json: 7 states"

# ---- top: every process, one netlink dump (whatever TRANSPORT says) ----
kill -STOP $sp
"$MEMTRACE" query --tsv $sp all >"$tmp/q" 2>"$tmp/err"
"$MEMTRACE" top --tsv >"$tmp/out" 2>"$tmp/err"
tap_ok $? "top --tsv (exit 0)"
head -1 "$tmp/out" | grep -q "^# pid	comm	present_kb	zero_kb	swap_kb	cached_kb	none_kb	thp_kb	busy$"
tap_ok $? "top --tsv: its header"
# its kB are the whole-space query's pages x the page's kB (the process is
# stopped); top asks for cached pages, which a query without --cached counts
# as none
awk -v pid=$sp -v kb=$((PSIZE / 1024)) 'FNR == NR && /^# summary/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); q[kv[1]] = kv[2] * kb } next }
	FNR != NR && $1 == pid { n++; ok = $2 == "sleep" && $3 == q["present"] && $4 == q["zero"] &&
		$5 == q["swap"] && $6 + $7 == q["none"] }
	END { exit !(n == 1 && ok) }' FS=' ' "$tmp/q" FS='	' "$tmp/out"
tap_ok $? "top --tsv: sleep's line, its present, zero, swap and cached + none kB those of 'query all'"
"$MEMTRACE" top --json >"$tmp/out" 2>"$tmp/err"
tap_ok $? "top --json (exit 0)"
grep -q "{\"pid\":$sp,\"comm\":\"sleep\",\"present_kb\":[0-9]*,\"zero_kb\":[0-9]*,\"swap_kb\":[0-9]*,\"cached_kb\":[0-9]*,\"none_kb\":[0-9]*,\"thp_kb\":[0-9]*" "$tmp/out"
tap_ok $? "top --json: sleep's object"
"$MEMTRACE" top --sort pid --tsv >"$tmp/out" 2>"$tmp/err" &&
	awk '!/^#/ { if (seen && $1 <= last) bad = 1; last = $1; seen = 1 } END { exit bad || !seen }' "$tmp/out"
tap_ok $? "top --sort pid: pids ascending"
"$MEMTRACE" top --sort present --tsv >"$tmp/out" 2>"$tmp/err" &&
	awk '!/^#/ { if (seen && $3 > last) bad = 1; last = $3; seen = 1 } END { exit bad || !seen }' "$tmp/out"
tap_ok $? "top --sort present (the default): present descending"
"$MEMTRACE" top --count 2 --interval 0.1 >"$tmp/out" 2>"$tmp/err"
[ $? -eq 0 ] && [ "$(grep -c '^    PID COMM' "$tmp/out")" -eq 2 ] && grep -q "^ *$sp sleep " "$tmp/out"
tap_ok $? "top off a terminal, --count 2: two tables, sleep in them"
"$MEMTRACE" --transport=proc top >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "top needs the generic netlink transport" "$tmp/err"
tap_ok $? "top --transport=proc: exit 1, netlink is needed"
"$MEMTRACE" top --sort rss >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ]
tap_ok $? "top --sort rss: usage, exit 2"
kill -CONT $sp

# ---- error paths ----
MEMTRACE_PROC=/nonexistent "$MEMTRACE" query $sp all >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ]
tap_ok $? "module not loaded: exit 1"
has "$tmp/err" "the memtrace module is not loaded" "module not loaded: message"
run 1 "no such process" query 999999 0x1000+4096
has "$tmp/err" "no such process" "no such process: message"
run 2 "bad range" query $sp 0x2000-0x1000
run 1 "kernel thread (kthreadd)" query 2 all

if [ -x "$RUNAS" ] && id lab >/dev/null 2>&1; then
	"$RUNAS" 1001 1001 sleep 100 &
	op=$!
	pids="$pids $op"
	sleep 0.2 2>/dev/null || sleep 1
	"$RUNAS" 1000 1000 "$MEMTRACE" $topt query $op all >"$tmp/out" 2>"$tmp/err"
	[ $? -eq 1 ]
	tap_ok $? "unprivileged on another user's process: exit 1"
	has "$tmp/err" "permission denied" "unprivileged: permission denied"
	"$RUNAS" 1000 1000 "$MEMTRACE" $topt query $op 0x400000+4096 >"$tmp/out" 2>"$tmp/err"
	[ $? -eq 1 ]
	tap_ok $? "unprivileged, numeric range: exit 1"
	has "$tmp/err" "permission denied" "unprivileged numeric range: permission denied"
	"$RUNAS" 1000 1000 "$MEMTRACE" $topt verify $op all >"$tmp/out" 2>"$tmp/err"
	[ $? -eq 1 ]
	tap_ok $? "unprivileged verify of another user's process: exit 1"
	"$RUNAS" 1000 1000 "$MEMTRACE" $topt demo --tsv >"$tmp/out" 2>"$tmp/err"
	[ $? -eq 0 ]
	tap_ok $? "unprivileged demo on itself works (PFNs hidden on both sides)"
	"$RUNAS" 1000 1000 sleep 100 &
	lp=$!
	pids="$pids $lp"
	# until runas has exec'd sleep: mid-exec, its layout changes between
	# the module's answer and /proc/PID/maps (the debug lane saw it)
	i=0
	while [ "$(cat /proc/$lp/comm 2>/dev/null)" != sleep ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	"$RUNAS" 1000 1000 "$MEMTRACE" $topt verify $lp all >"$tmp/out" 2>"$tmp/err"
	[ $? -eq 0 ]
	tap_ok $? "unprivileged verify of its own user's process"
	"$RUNAS" 1000 1000 "$MEMTRACE" top --tsv --sort pid >"$tmp/out" 2>"$tmp/err"
	[ $? -eq 0 ] && awk -v lp=$lp -v op=$op -v sp=$sp '$1 == lp { l = 1 } $1 == op || $1 == sp || $1 == 1 { bad = 1 }
		END { exit !l || bad }' "$tmp/out"
	tap_ok $? "unprivileged top: its own user's process, not another user's nor root's"
else
	for t in 1 2 3 4 5 6 7 8; do tap_lack "unprivileged test $t" "no runas helper or no user lab"; done
fi

tap_done
tap_exit
