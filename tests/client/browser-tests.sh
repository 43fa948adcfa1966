#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `memtrace map` in a real browser: headless Chromium loads the HTML and the
# SVG drawn for a known target (target.c, through the stand-in module
# fakemod.py, with mapping names that would inject markup if they were not
# escaped); the DOM it built (--dump-dom) must have the bands, labels and
# cells memtrace wrote and nothing else, the screenshots (--screenshot) the
# documented colour in the middle of every cell and legend swatch, and
# moving the pointer onto a cell (DevTools protocol over a pipe) must show
# the cell's address, state, flags and mapping. mapcheck.py checks. TAP.
#   MEMTRACE=path/to/memtrace TARGET=path/to/target sh browser-tests.sh
# CHROMIUM names the browser (default: chromium, else chromium-browser).
# Without one the tests skip, saying why; under CI (CI set) they fail, as
# scripts/setup installs it. MAP_SHOTS=DIR keeps the screenshots there.

here=$(cd "$(dirname "$0")" && pwd)
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

tap_on_fail() { sed 's/^/#   /' "$tmp/err" 2>/dev/null | head -20; }

if [ -z "$CHROMIUM" ]; then
	for b in chromium chromium-browser; do
		command -v $b >/dev/null && CHROMIUM=$b && break
	done
fi
why=
[ -n "$CHROMIUM" ] || why="no chromium (apt-get install chromium; scripts/setup installs it)"
command -v python3 >/dev/null || why="no python3"
[ -r /proc/self/pagemap ] || why="no /proc/self/pagemap for the stand-in module"
if [ -n "$why" ]; then
	if [ -n "${CI:-}" ]; then
		tap_ok 1 "map in a browser: CI must have it: $why"
	else
		tap_skip "map in a browser" "$why"
	fi
	tap_done
	tap_exit
	exit
fi
shots=${MAP_SHOTS:-$tmp}
mkdir -p "$shots"
start=$(date +%s)

# chromium's own options: no sandbox (root, containers), no GPU, 1:1 pixels
browser() {
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--no-first-run --force-device-scale-factor=1 --force-color-profile=srgb "$@" \
		2>>"$tmp/chromium.log"
}
chk() { python3 "$here/mapcheck.py" "$@" 2>"$tmp/err"; }

md="$tmp/m d"
mkdir -p "$md"
n1="$md/<script>alert(1)"
n2="$md/q\"uo'te & <img src=x onerror=alert(2)>"
"$TARGET" "$md" "$n1" "$n2" >"$tmp/addr" &
tpid=$!
i=0
while [ ! -s "$tmp/addr" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
addr=$(cat "$tmp/addr")
ps=$(getconf PAGESIZE)
export MEMTRACE_FAKE_ANSWER="|python3 $here/fakemod.py"
$MEMTRACE map $tpid --svg "$tmp/m.svg" --html "$tmp/m.html" 2>"$tmp/err"
tap_ok $? "map --svg --html of the target"
h=$(sed -n 's/^<svg width="[0-9]*" height="\([0-9]*\)".*/\1/p' "$tmp/m.html")

# the DOM the browser built from the HTML
browser --dump-dom "file://$tmp/m.html" >"$tmp/dom.html"
grep -q '<g class="band"' "$tmp/dom.html"
tap_ok $? "chromium --dump-dom: the page's DOM"
chk clean "$tmp/dom.html"
tap_ok $? "DOM: one script (the page's), no element or attribute a name injected"
chk labels "$tmp/dom.html" "$n1" "$n2" "$md/we\"ird\\na\\001me x (deleted)"
tap_ok $? "DOM: the bands are labelled with the names as they are"
chk band "$tmp/dom.html" "$addr" "$ps" present present present present none none none none
tap_ok $? "DOM: the target's band has its 8 cells, 4 present then 4 none"
[ "$(grep -o '<rect class="cell' "$tmp/dom.html" | wc -l)" -eq \
	"$(grep -o '<rect class="cell' "$tmp/m.html" | wc -l)" ]
tap_ok $? "DOM: every cell memtrace wrote"
grep -q "<title>memtrace map: pid $tpid (target)</title>" "$tmp/dom.html"
tap_ok $? "DOM: the page's title names the process"

# what the browser drew: the HTML and the SVG
browser --window-size=1200,"$h" --screenshot="$shots/map.png" "file://$tmp/m.html" >/dev/null
chk pixels "$shots/map.png" "$tmp/m.html" >/dev/null
tap_ok $? "screenshot of the HTML: every cell and swatch in its colour"
chk pixels "$shots/map.png" "$tmp/m.html" "$addr" present present present present \
	none none none none >/dev/null
tap_ok $? "screenshot of the HTML: the target's 4 present and 4 none pages"
browser --window-size=1200,"$h" --screenshot="$shots/map-svg.png" "file://$tmp/m.svg" >/dev/null
chk pixels "$shots/map-svg.png" "$tmp/m.svg" >/dev/null
tap_ok $? "screenshot of the SVG: every cell and swatch in its colour"

# the pointer on the target's first page
# (a page a name broke into may hang it: an alert() waits for a click)
MAP_START=$addr timeout 180 python3 "$here/mapcheck.py" hover "$CHROMIUM" "$tmp/m.html" \
	"$shots/map-hover.png" >"$tmp/tip" 2>"$tmp/err"
tap_ok $? "hover: the tooltip shows"
printf '%s\n' "$addr" "state: present" "flags: a-w--- 4K" "mapping: (anonymous) (rw-p)" |
	cmp -s - "$tmp/tip"
tap_ok $? "hover: address, state, flags and mapping of the cell"
kill "$tpid" 2>/dev/null
wait "$tpid" 2>/dev/null
tpid=

# a 1 GiB mapping, a cell a power of two pages: mixed cells lighter
python3 -c 'import mmap, time
m = mmap.mmap(-1, 1 << 30, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=mmap.PROT_READ)
print("ok", flush=True)
time.sleep(300)' >"$tmp/bready" &
tpid=$!
i=0
while [ ! -s "$tmp/bready" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
bs=$(python3 -c 'import sys
for l in open("/proc/%s/maps" % sys.argv[1]):
    a, b = (int(x, 16) for x in l.split()[0].split("-"))
    if l.split()[1] == "r--p" and len(l.split()) == 5 and b - a >= 1 << 30:
        print(hex(a)); break' $tpid)
be=$(printf '0x%x' $((bs + (1 << 30))))
{
	echo "# memtrace pid=$tpid start=$bs end=$be page_size=$ps mode=runs"
	echo "# addr	pages	state	size	flags	pfn	node"
	printf '%s\t512\tpresent\t2M\ta-wdyx\t0x0\t0\n' "$bs"
	printf '0x%x\t99488\tpresent\t4K\ta-wdyx\t0x0\t0\n' $((bs + 512 * ps))
	printf '0x%x\t%d\tzero\t4K\ta-----\t0x0\t-1\n' $((bs + 100000 * ps)) 1000
	printf '0x%x\t%d\tnone\t4K\t------\t0x0\t-1\n' $((bs + 101000 * ps)) $(((1 << 30) / ps - 101000))
	echo "# summary pages=$(((1 << 30) / ps)) unmapped=0 none=$(((1 << 30) / ps - 101000)) zero=1000 present=100000 swap=0 migration=0 other=0"
} >"$tmp/gib"
MEMTRACE_FAKE_ANSWER="$tmp/gib" $MEMTRACE map $tpid "$bs-$be" \
	--html "$tmp/big.html" 2>"$tmp/err"
tap_ok $? "map of a 1 GiB mapping"
h=$(sed -n 's/^<svg width="[0-9]*" height="\([0-9]*\)".*/\1/p' "$tmp/big.html")
browser --window-size=1200,"$h" --screenshot="$shots/map-1g.png" "file://$tmp/big.html" >/dev/null
chk pixels "$shots/map-1g.png" "$tmp/big.html" >/dev/null
tap_ok $? "screenshot of 1 GiB: every cell in its colour"
grep -q 'class="cell present huge"' "$tmp/big.html" && grep -q 'class="cell present mixed"' "$tmp/big.html" &&
	grep -q 'class="cell zero mixed"' "$tmp/big.html"
tap_ok $? "1 GiB: huge, mixed present and mixed zero cells drawn"
tap_diag "browser tests: $(($(date +%s) - start)) s; screenshots in $shots"
tap_done
tap_exit
