#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The options the man page, the README and --help document against the
# parser's table (TAP). The table is read through the help the client
# generates from it: `memtrace --help` lists the options every command takes
# (and main's), `memtrace help CMD` a command's own and those. For each
# command the man page's SYNOPSIS and the README's client block must list
# exactly its own options, its COMMANDS entry must mention each, and the
# man page's OPTIONS exactly the common ones; an option named anywhere in
# the man page, or after `memtrace CMD` in the README, must exist.
#   MEMTRACE=path/to/memtrace sh docs-tests.sh
# The samples of real output in both are checked in the lab VM
# (tests/client/samples.sh, from vm-tests.sh).

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
top=$here/../..
MEMTRACE=${MEMTRACE:-$top/user/memtrace}
MAN=${MAN:-$top/user/memtrace.1}
README=${README:-$top/README.md}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tap_on_fail() { sed 's/^/#   /' "$tmp/diff" 2>/dev/null | head -20; }

# the --words of standard input, one a line, sorted, each once
opts() { grep -oE -- '--[a-z][a-z0-9-]*' | sed 's/^--//' | sort -u; }
# help's option lines ("  -j, --json ...", "      --thp ...") -> names
help_opts() { sed -n 's/^  \(-[A-Za-z], \|    \)--\([a-z][a-z0-9-]*\).*/\2/p' | sort -u; }
# same NAME FILE1 FILE2: the two lists are equal (the difference is shown)
same() {
	diff "$2" "$3" >"$tmp/diff"
	tap_ok $? "$1"
}
# within NAME LIST ALLOWED: every line of LIST is in ALLOWED
within() {
	comm -23 "$2" "$3" >"$tmp/diff"
	[ ! -s "$tmp/diff" ]
	tap_ok $? "$1"
}

# ---- the table, through the help generated from it ----
"$MEMTRACE" --help >"$tmp/help"
cmds=$(awk '/^Commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 } f && /^$/ { exit }' \
	"$tmp/help" | tr '\n' ' ')
awk '/^Options/ { f = 1; next } f && /^$/ { exit } f' "$tmp/help" | help_opts >"$tmp/common"
[ -n "$cmds" ] && [ -s "$tmp/common" ]
tap_ok $? "memtrace --help lists the commands (${cmds% }) and the common options"
cp "$tmp/common" "$tmp/all"
for c in $cmds; do
	"$MEMTRACE" help "$c" >"$tmp/help.$c"
	help_opts <"$tmp/help.$c" | comm -23 - "$tmp/common" >"$tmp/own.$c"
	cat "$tmp/own.$c" >>"$tmp/all"
	# the Usage line names only the command's own options
	head -1 "$tmp/help.$c" | opts >"$tmp/usage.$c"
	within "help $c: its Usage line names only its options" "$tmp/usage.$c" "$tmp/own.$c"
done
sort -u -o "$tmp/all" "$tmp/all"

# ---- the man page ----
# roff to text: fonts dropped, \- to -, \(aq to ', \e to \, \& dropped
sed 's/\\f[BIRP]//g; s/\\-/-/g; s/\\(aq/'"'"'/g; s/\\e/\\/g; s/\\&//g' "$MAN" >"$tmp/man"
section() { awk -v s="$1" '/^\.SH / { f = ($2 == s) } f' "$tmp/man"; }

# SYNOPSIS: one entry per `.B memtrace [CMD]`; CMD's own options exactly
section SYNOPSIS | awk -v d="$tmp" '
	/^\.B memtrace/ { f = d "/syn." ($3 == "" ? "-" : $3); printf "" >f; next }
	f { print >>f }'
for c in $cmds; do
	[ -f "$tmp/syn.$c" ] || : >"$tmp/syn.$c"
	opts <"$tmp/syn.$c" >"$tmp/syn-opts.$c"
	same "memtrace.1 SYNOPSIS: memtrace $c with exactly its options" "$tmp/own.$c" "$tmp/syn-opts.$c"
done
cat "$tmp/syn.-" "$tmp/syn.help" 2>/dev/null | opts >"$tmp/syn-opts.main"
within "memtrace.1 SYNOPSIS: memtrace and memtrace help with common options only" \
	"$tmp/syn-opts.main" "$tmp/common"

# COMMANDS: the entry of each command mentions each of its options (it may
# name another command's too: "query --since")
section COMMANDS | awk -v d="$tmp" '
	/^\.TP/ { head = 1; next }
	head && /^\.B / { f = d "/cmd." $2; printf "" >f; head = 0 }
	{ head = 0 }
	f { print >>f }'
for c in $cmds; do
	[ -f "$tmp/cmd.$c" ] || : >"$tmp/cmd.$c"
	opts <"$tmp/cmd.$c" >"$tmp/cmd-opts.$c"
	comm -23 "$tmp/own.$c" "$tmp/cmd-opts.$c" >"$tmp/diff"
	[ -s "$tmp/cmd.$c" ] && [ ! -s "$tmp/diff" ]
	tap_ok $? "memtrace.1 COMMANDS: $c says what each of its options does"
done

# OPTIONS: the .TP headings are the common options, exactly
section OPTIONS | awk '/^\.TP/ { head = 1; next } head { print; head = 0 }' | opts \
	>"$tmp/man-common"
same "memtrace.1 OPTIONS: exactly the options every command takes" "$tmp/common" \
	"$tmp/man-common"

opts <"$tmp/man" >"$tmp/man-all"
within "memtrace.1 names no option the client does not have" "$tmp/man-all" "$tmp/all"

# ---- the README ----
# the client block: the first code block after "## The client"
# (an indented line continues the one above)
awk '/^## The client/ { f = 1; next } f && /^```/ { if (in_) exit; in_ = 1; next }
	in_ && /^[ \t]/ { line = line $0; next }
	in_ { if (line != "") print line; line = $0 }
	END { if (line != "") print line }' "$README" >"$tmp/readme-client"
for c in $cmds; do
	grep "^memtrace $c\( \|$\)" "$tmp/readme-client" | opts >"$tmp/rd.$c"
	grep -q "^memtrace $c\( \|$\)" "$tmp/readme-client" &&
		diff "$tmp/own.$c" "$tmp/rd.$c" >"$tmp/diff"
	tap_ok $? "README's client block: memtrace $c with exactly its options"
	# anywhere: the options after `memtrace [OPTS] CMD` on a line
	sed -n "s/.*memtrace\( --*[a-z=|-]*\)* $c\( \(.*\)\|\$\)/\3/p" "$README" | opts \
		>"$tmp/rd-any.$c"
	cat "$tmp/own.$c" "$tmp/common" | sort -u >"$tmp/allowed"
	within "README: memtrace $c is shown with its options only" "$tmp/rd-any.$c" "$tmp/allowed"
done
tap_done
