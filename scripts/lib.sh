# SPDX-License-Identifier: GPL-2.0
#
# scripts/lib.sh - shared helpers of the memtrace lab VM lane.
# Sourced by scripts/setup, scripts/kernel, scripts/build-kmod, scripts/vm
# and tests/lane/run; never run directly.
#
# Everything lives under one cache directory:
#   $MEMTRACE_CACHE/chroots/<suite>/            debootstrap chroots (+ .memtrace-ok marker)
#   $MEMTRACE_CACHE/kernels/<kver>/root/        extracted linux-image-<kver> (+ .memtrace-ok)
#   $MEMTRACE_CACHE/initramfs/base-<hash>.cpio  cached busybox base of the guest initramfs
#   $MEMTRACE_CACHE/logs/                       apt/debootstrap logs of the last runs

MEMTRACE_CACHE=${MEMTRACE_CACHE:-/var/cache/memtrace}
MT_MIRROR=${MEMTRACE_MIRROR:-http://deb.debian.org/debian}
MT_SECURITY_MIRROR=${MEMTRACE_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
MT_PROG=${MT_PROG:-${0##*/}}
MT_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MT_KERNEL_TABLE=$MT_TOP/scripts/kernels

# mt_kernel_list TAG: the names of scripts/kernels with TAG, one line; TAG
# "all" is every kernel, "archive" every one from Debian's archive,
# "all-test" every one of the test and all-test lists (make test-all).
mt_kernel_list() {
	awk -v t="$1" '!/^#/ && NF >= 5 {
		ok = t == "all" || (t == "archive" && $5 != "-")
		for (i = 6; i <= NF; i++) ok = ok || $i == t || (t == "all-test" && $i == "test")
		if (ok) printf "%s%s", n++ ? " " : "", $1
	} END { print "" }' "$MT_KERNEL_TABLE"
}
# The Debian kernels (setup --kernel all), and the lab VM's kernel when one
# is meant.
MT_KERNELS=$(mt_kernel_list archive)
MT_DEFAULT_KERNEL=$(mt_kernel_list default)

# Host packages the lane (and the project's build) needs. qemu is installed
# without recommends (they pull in a graphical stack). The arm64 lanes need
# qemu-system-arm (qemu-system-aarch64), qemu-user-static (to list the
# arm64 busybox's applets) and the cross compiler of bookworm's 6.1 arm64
# kernel, which also builds the client and test programs for arm64
# (gcc-12-aarch64-linux-gnu, libc6-dev-arm64-cross). `make deb` needs
# debhelper, dh-dkms (dh_dkms, a package of its own from bookworm on),
# lintian, dpkg-dev, build-essential (dpkg-buildpackage checks it) and git.
# The browser test of `memtrace map` (tests/client/browser-tests.sh) needs
# chromium, python3 and a monospace font.
MT_HOST_PKGS="qemu-system-x86 busybox-static cpio debootstrap libnl-genl-3-dev
libnl-3-dev pkg-config sparse linux-source-6.1 xz-utils zstd kmod gcc make
libc6-dev gzip util-linux dkms valgrind libc6-dbg debhelper dh-dkms lintian
dpkg-dev build-essential git chromium python3 fonts-dejavu-core tmux
qemu-system-arm qemu-user-static gcc-12-aarch64-linux-gnu libc6-dev-arm64-cross"
# Packages every build chroot gets (the --include of debootstrap).
MT_CHROOT_PKGS="make,gcc,libc6-dev,libelf-dev,ca-certificates"

die() { printf '%s: error: %s\n' "$MT_PROG" "$*" >&2; exit 1; }

# mt_valgrind_adds DIR: set MT_VG_ADDS to the scripts/vm --add arguments
# that bring the host's valgrind (memcheck only: the launcher, the tool, its
# preloads, the suppressions, and ld.so's detached debug symbols from
# libc6-dbg, which memcheck needs for strlen) into the lab VM, staged in
# DIR. Returns 1, with a reason on stderr and MT_VG_ADDS empty, if the host
# lacks one of them.
mt_valgrind_adds() {
	local dir=$1 id dbg f
	MT_VG_ADDS=()
	[ -x /usr/bin/valgrind.bin ] || { warn "no /usr/bin/valgrind.bin (apt-get install valgrind)"; return 1; }
	mkdir -p "$dir/lib" || return 1
	for f in memcheck-amd64-linux vgpreload_core-amd64-linux.so vgpreload_memcheck-amd64-linux.so default.supp; do
		cp "/usr/libexec/valgrind/$f" "$dir/lib/" || { warn "valgrind: no /usr/libexec/valgrind/$f"; return 1; }
	done
	id=$(readelf -n "$(readlink -f /lib64/ld-linux-x86-64.so.2)" 2>/dev/null |
		sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p')
	dbg=/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug
	if [ -z "$id" ] || [ ! -f "$dbg" ]; then
		warn "no debug symbols of ld.so (apt-get install libc6-dbg): no valgrind in the VM"
		return 1
	fi
	MT_VG_ADDS=(--add /usr/bin/valgrind.bin:/usr/bin/valgrind --add "$dir/lib:/usr/libexec/valgrind"
		    --add "$dbg:$dbg")
}
# mt_valgrind_arm64_root: print the root that Debian bookworm's arm64
# valgrind, libc6 (the loader and libc for valgrind and for the client it
# runs), libc6-dbg (ld.so's symbols, which memcheck needs) and libnl are
# extracted into, once ($MEMTRACE_CACHE/valgrind-arm64; bookworm's glibc is
# the one gcc-12-aarch64-linux-gnu links against).
mt_valgrind_arm64_root() {
	local root=$MEMTRACE_CACHE/valgrind-arm64 dl deb
	if [ ! -e "$root/.memtrace-ok" ]; then
		dl=$(mktemp -d "$MEMTRACE_CACHE/.vg.XXXXXX")
		mt_logged apt-download-valgrind-arm64 mt_in_dir "$dl" mt_arm_apt bookworm \
			apt-get -q download valgrind libc6 libc6-dbg libnl-3-200 libnl-genl-3-200 ||
			{ rm -rf "$dl"; warn "cannot download valgrind for arm64"; return 1; }
		rm -rf "$root"
		for deb in "$dl"/*.deb; do
			dpkg-deb -x "$deb" "$root" || { rm -rf "$dl"; warn "cannot extract $deb"; return 1; }
		done
		rm -rf "$dl"
		touch "$root/.memtrace-ok"
	fi
	echo "$root"
}

# mt_valgrind_adds_arm64 DIR: set MT_VG_ADDS_ARM64 to the scripts/vm --add
# arguments that bring that valgrind (memcheck only) into an arm64 lab VM
# with the libraries of the dynamic client it runs (build-cross's
# memtrace-vg: memcheck sees no malloc of a static program).
mt_valgrind_adds_arm64() {
	local dir=$1 root id dbg f l=/lib/aarch64-linux-gnu
	MT_VG_ADDS_ARM64=()
	root=$(mt_valgrind_arm64_root) || return 1
	mkdir -p "$dir/lib-arm64" || return 1
	for f in memcheck-arm64-linux vgpreload_core-arm64-linux.so vgpreload_memcheck-arm64-linux.so default.supp; do
		cp "$root/usr/libexec/valgrind/$f" "$dir/lib-arm64/" ||
			{ warn "valgrind arm64: no /usr/libexec/valgrind/$f"; return 1; }
	done
	id=$(readelf -n "$root$l/ld-linux-aarch64.so.1" 2>/dev/null |
		sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p')
	dbg=/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug
	[ -n "$id" ] && [ -f "$root$dbg" ] || { warn "valgrind arm64: no debug symbols of ld.so"; return 1; }
	MT_VG_ADDS_ARM64=(--add "$root/usr/bin/valgrind.bin:/usr/bin/valgrind"
			  --add "$dir/lib-arm64:/usr/libexec/valgrind" --add "$root$dbg:$dbg"
			  --add "$root$l/ld-linux-aarch64.so.1:/lib/ld-linux-aarch64.so.1")
	for f in libc.so.6 libnl-3.so.200 libnl-genl-3.so.200; do
		MT_VG_ADDS_ARM64+=(--add "$(readlink -f "$root$l/$f"):$l/$f")
	done
}
warn() { printf '%s: warning: %s\n' "$MT_PROG" "$*" >&2; }
# Progress messages go to stderr, so stdout stays machine-readable.
note() { printf '%s: %s\n' "$MT_PROG" "$*" >&2; }

mt_need_root() {
	[ "$(id -u)" = 0 ] || die "must run as root (needs apt-get, chroot, debootstrap)"
}

# Print the usage block at the top of a script: the comment lines after the
# SPDX line, up to the first blank line, without the leading '# '.
mt_usage() {
	sed -n '3,/^$/{/^#/!q;s/^# \{0,1\}//;p}' "$0"
}

# mt_kernel_spec K: K's line of scripts/kernels: sets MT_K_FLAVOUR (amd64,
# arm64, arm64-16k), MT_K_ARCH (the kernel's ARCH: x86 or arm64),
# MT_K_SUITE (chroot suite, empty = host), MT_K_RELEASE (apt target release,
# may be empty) and MT_K_VERRE (regexp the linux-headers-FLAVOUR metapackage
# version must match; the newest match wins; empty for the debug kernel).
mt_kernel_spec() {
	local line name
	line=$(awk -v k="$1" '!/^#/ && $1 == k' "$MT_KERNEL_TABLE")
	[ -n "$line" ] || die "unknown kernel '$1' (choose one of: $(mt_kernel_list all))"
	read -r name MT_K_FLAVOUR MT_K_SUITE MT_K_RELEASE MT_K_VERRE _ <<<"$line"
	case "$MT_K_FLAVOUR" in
	amd64) MT_K_ARCH=x86 ;;
	arm64|arm64-*) MT_K_ARCH=arm64 ;;
	*) die "scripts/kernels: kernel $1 has an unknown flavour '$MT_K_FLAVOUR'" ;;
	esac
	[ "$MT_K_SUITE" != - ] || MT_K_SUITE=
	[ "$MT_K_RELEASE" != - ] || MT_K_RELEASE=
	[ "$MT_K_VERRE" != - ] || MT_K_VERRE=
}

mt_chroot_dir() { printf '%s/chroots/%s\n' "$MEMTRACE_CACHE" "$1"; }

# mt_in ROOT CMD...: run CMD on the host (ROOT empty) or inside the chroot
# ROOT, in a private mount namespace with /proc and /dev mounted, so nothing
# stays mounted when the command ends (even when it is killed).
mt_in() {
	local root=$1; shift
	if [ -z "$root" ]; then
		env DEBIAN_FRONTEND=noninteractive "$@"
		return
	fi
	unshare --mount --propagation private -- sh -c '
		root=$1; shift
		mount -t proc proc "$root/proc" &&
		mount --rbind /dev "$root/dev" &&
		exec chroot "$root" "$@"' sh "$root" \
		env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C DEBIAN_FRONTEND=noninteractive "$@"
}

# mt_logged LOGNAME CMD...: run CMD quietly; on failure show the end of its log.
mt_logged() {
	local log="$MEMTRACE_CACHE/logs/$1.log"; shift
	mkdir -p "$MEMTRACE_CACHE/logs"
	"$@" >"$log" 2>&1 && return 0
	local rc=$?
	warn "command failed (exit $rc): $*"
	tail -n 25 "$log" | sed 's/^/  | /' >&2
	warn "full log: $log"
	return $rc
}

# mt_missing ROOT PKG...: print the packages not installed in ROOT ("" = host),
# with a single dpkg-query call (a warm setup costs next to nothing).
mt_missing() {
	local root=$1; shift
	# dpkg-query fails for a package it has never heard of: that is "missing"
	{ dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Package} ${db:Status-Status}\n' \
		"$@" 2>/dev/null || true; } | awk -v want="$*" '
		$2 == "installed" { ok[$1] = 1 }
		END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!ok[w[i]]) print w[i] }'
}

mt_apt_update() {
	local root=$1
	mt_logged apt-update mt_in "$root" apt-get -q update
}

# mt_install ROOT RELEASE PKG...: install the missing ones of PKG (quietly,
# without recommends, with -t RELEASE when set). One "installing" line per
# package actually installed; apt-get update only when an install fails
# (empty or stale package lists), then one retry.
mt_install() {
	local root=$1 rel=$2; shift 2
	local missing where=${root:+" in ${root##*/} chroot"}
	missing=$(mt_missing "$root" "$@")
	[ -n "$missing" ] || return 0
	mkdir -p "$MEMTRACE_CACHE/logs"
	local p
	for p in $missing; do note "installing $p$where"; done
	# shellcheck disable=SC2086
	set -- apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends \
		${rel:+-t "$rel"} install $missing
	if ! mt_in "$root" "$@" >"$MEMTRACE_CACHE/logs/apt-install.log" 2>&1; then
		mt_apt_update "$root" || die "apt-get update failed$where"
		mt_logged apt-install mt_in "$root" "$@" || die "cannot install:" $missing
	fi
}

# Host side: the bookworm-backports source (for the 6.12 kernel), pinned at
# 100 so it never upgrades anything by itself.
mt_host_backports() {
	grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ && return 0
	. /etc/os-release
	[ "${VERSION_CODENAME:-}" = bookworm ] ||
		die "bookworm-backports needs a Debian 12 (bookworm) host, this is '${VERSION_CODENAME:-?}'"
	note "adding bookworm-backports to /etc/apt/sources.list.d (pin priority 100)"
	echo "deb $MT_MIRROR bookworm-backports main" >/etc/apt/sources.list.d/bookworm-backports.list
	printf 'Package: *\nPin: release n=bookworm-backports\nPin-Priority: 100\n' \
		>/etc/apt/preferences.d/memtrace-bookworm-backports
	mt_apt_update "" || die "apt-get update failed"
}

# mt_host_setup: the host packages, and bookworm-backports on a bookworm host.
mt_host_setup() {
	mkdir -p "$MEMTRACE_CACHE/logs"
	if grep -qs '^VERSION_CODENAME=bookworm$' /etc/os-release; then
		mt_host_backports
	fi
	mt_install "" "" $MT_HOST_PKGS
}

# The sources.list a chroot suite should have.
mt_chroot_sources() {
	case "$1" in
	trixie)	 printf 'deb %s trixie main\ndeb %s trixie-backports main\n' "$MT_MIRROR" "$MT_MIRROR" ;;
	bullseye) printf 'deb %s bullseye main\ndeb %s bullseye-security main\n' "$MT_MIRROR" "$MT_SECURITY_MIRROR" ;;
	*)	 printf 'deb %s %s main\n' "$MT_MIRROR" "$1" ;;
	esac
}

# mt_chroot SUITE: create (or finish, or adopt) the build chroot of SUITE and
# make sure its apt sources are the lane's. A chroot is complete once it has
# the .memtrace-ok marker; a half-made one is removed and made again.
mt_chroot() {
	local suite=$1 dir
	dir=$(mt_chroot_dir "$suite")
	if [ ! -e "$dir/.memtrace-ok" ] && [ -d "$dir" ] && [ ! -e "$dir/debootstrap" ] &&
		[ -x "$dir/usr/bin/make" ] && [ -x "$dir/usr/bin/gcc" ] &&
		[ -e "$dir/usr/include/libelf.h" ]; then
		# Finished by a debootstrap run outside these scripts: adopt it.
		touch "$dir/.memtrace-ok"
	fi
	if [ ! -e "$dir/.memtrace-ok" ]; then
		command -v debootstrap >/dev/null || mt_install "" "" debootstrap
		if [ -e "$dir" ]; then
			findmnt -rn -o TARGET | grep -q "^$dir/" &&
				die "half-made chroot $dir has mounts below it; unmount them first"
			note "removing half-made chroot $dir"
			rm -rf --one-file-system "$dir"
		fi
		note "creating $suite chroot $dir (debootstrap, takes a few minutes)"
		mkdir -p "${dir%/*}"
		mt_logged "debootstrap-$suite" debootstrap --variant=minbase \
			--include="$MT_CHROOT_PKGS" "$suite" "$dir" "$MT_MIRROR" ||
			die "debootstrap of $suite failed"
		touch "$dir/.memtrace-ok"
	fi
	local want
	want=$(mt_chroot_sources "$suite")
	if [ "$(cat "$dir/etc/apt/sources.list" 2>/dev/null)" != "$want" ]; then
		note "setting apt sources of the $suite chroot"
		printf '%s\n' "$want" >"$dir/etc/apt/sources.list"
		cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
		mt_apt_update "$dir" || die "apt-get update failed in the $suite chroot"
	fi
}

# mt_resolve ROOT VERRE [FLAVOUR]: print "<headers-package> <version>" for
# the newest linux-headers-FLAVOUR (default amd64) metapackage whose version
# matches VERRE, as seen by apt in ROOT (for arm64 flavours: by the arm64
# package lists of ROOT's suite, mt_arm_apt). Nothing is hard-coded: the ABI
# comes from the archive.
mt_resolve() {
	local root=$1 re=$2 fl=${3:-amd64} best="" bestv="" pkg ver
	while read -r pkg ver; do
		[ -n "$pkg" ] || continue
		if [ -z "$bestv" ] || dpkg --compare-versions "$ver" gt "$bestv"; then
			best=$pkg bestv=$ver
		fi
	done < <(mt_kcache "$root" "$fl" show "linux-headers-$fl" 2>/dev/null | awk -v re="$re" -v fl="$fl" '
		/^Version:/ { v = $2 }
		/^Depends:/ && v ~ re {
			if (match($0, "linux-headers-[^ ,]+-" fl " \\(= [^)]*\\)")) {
				s = substr($0, RSTART, RLENGTH); gsub(/[(=)]/, "", s); print s
			}
		}')
	[ -n "$best" ] && printf '%s %s\n' "$best" "$bestv"
}

# arm64 kernels: their packages are resolved and downloaded with the host's
# apt, but with package lists of their own, for arm64, of the suite they are
# built in (bookworm for the host), kept in $MEMTRACE_CACHE/apt-arm64/SUITE;
# the host's apt sources and dpkg architectures are not touched.
mt_arm_suite() {
	if [ -n "$1" ]; then basename "$1"; else . /etc/os-release; echo "${VERSION_CODENAME:-bookworm}"; fi
}
# mt_arm_apt SUITE CMD ARGS...: apt-get or apt-cache (CMD) for arm64 in the
# lists of SUITE, made (and updated) when missing.
mt_arm_apt() {
	local suite=$1 cmd=$2 dir
	shift 2
	dir=$MEMTRACE_CACHE/apt-arm64/$suite
	if [ ! -e "$dir/.memtrace-ok" ]; then
		mkdir -p "$dir/etc/apt/apt.conf.d" "$dir/etc/apt/preferences.d" \
			"$dir/etc/apt/sources.list.d" "$dir/var/lib/apt/lists/partial" \
			"$dir/var/cache/apt/archives/partial" "$dir/var/lib/dpkg"
		: >"$dir/var/lib/dpkg/status"
		case "$suite" in
		bookworm) printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\n' \
			"$MT_MIRROR" "$MT_MIRROR" "$MT_SECURITY_MIRROR" ;;
		*) mt_chroot_sources "$suite" ;;
		esac >"$dir/etc/apt/sources.list"
		mt_logged "apt-update-arm64-$suite" mt_arm_apt_run "$dir" apt-get -q update ||
			die "apt-get update of the arm64 $suite lists failed"
		touch "$dir/.memtrace-ok"
	fi
	mt_arm_apt_run "$dir" "$cmd" "$@"
}
mt_arm_apt_run() {
	local dir=$1 cmd=$2
	shift 2
	"$cmd" -o Dir="$dir" -o Dir::State::status="$dir/var/lib/dpkg/status" \
		-o APT::Architecture=arm64 -o APT::Architectures::=arm64 \
		-o Dir::Etc::Trusted=/etc/apt/trusted.gpg -o Dir::Etc::TrustedParts=/etc/apt/trusted.gpg.d \
		-o Debug::NoDropPrivs=1 -o APT::Sandbox::User=root "$@"
}
# mt_kcache ROOT FLAVOUR ARGS...: apt-cache ARGS for the kernel packages of
# FLAVOUR: ROOT's own apt for amd64, the arm64 lists of ROOT's suite else.
mt_kcache() {
	local root=$1 fl=$2
	shift 2
	if [ "$fl" = amd64 ]; then
		mt_in "$root" apt-cache "$@"
	else
		mt_arm_apt "$(mt_arm_suite "$root")" apt-cache "$@"
	fi
}

# Preparing a kernel of the archive is three steps, each printing what it
# found; mt_kernel runs them under the cache's lock.
# mt_kernel_root K: the apt root K's packages are resolved in, made ready
# (its chroot, or the host's backports source): printed, empty for the host.
mt_kernel_root() {
	mt_kernel_spec "$1"
	if [ -n "$MT_K_SUITE" ]; then
		mt_chroot "$MT_K_SUITE" >&2
		mt_chroot_dir "$MT_K_SUITE"
	elif [ -n "$MT_K_RELEASE" ]; then
		mt_host_backports >&2
	fi
}

# mt_kernel_resolve K ROOT: "<headers-package> <version>" of K's newest
# headers in ROOT (apt's lists refreshed once when nothing matches).
mt_kernel_resolve() {
	mt_kernel_spec "$1"
	mt_resolve "$2" "$MT_K_VERRE" "$MT_K_FLAVOUR" ||
		{ mt_kupdate "$2" >/dev/null && mt_resolve "$2" "$MT_K_VERRE" "$MT_K_FLAVOUR"; } ||
		die "no linux-headers-$MT_K_FLAVOUR matching /$MT_K_VERRE/ for kernel $1${2:+ in $2}"
}
# mt_kupdate ROOT: refresh the package lists the kernel's are resolved in.
mt_kupdate() {
	if [ "$MT_K_FLAVOUR" = amd64 ]; then
		mt_apt_update "$1"
	else
		mt_logged "apt-update-arm64" mt_arm_apt "$(mt_arm_suite "$1")" apt-get -q update
	fi
}

# mt_kernel_fetch K ROOT HEADERS VERSION: install HEADERS in ROOT, download
# and extract the image of the same version into the cache (once), unpack
# its vmlinux (once); prints "<vmlinux or empty>".
mt_kernel_fetch() {
	local root=$2 hdr=$3 ver=$4 kver kroot vmlinux
	mt_kernel_spec "$1"
	kver=${hdr#linux-headers-}
	if [ "$MT_K_ARCH" = x86 ]; then
		mt_install "$root" "$MT_K_RELEASE" "$hdr" >&2
		[ -e "$root/usr/src/$hdr/Makefile" ] ||
			die "$hdr is installed but $root/usr/src/$hdr/Makefile is missing"
	else
		mt_cross_headers "$root" "$hdr" "$ver" >&2
	fi
	kroot=$MEMTRACE_CACHE/kernels/$kver/root
	[ -e "$kroot/../.memtrace-ok" ] || mt_fetch_image "$root" "$kver" "$ver" "$MT_K_RELEASE" >&2
	if [ "$MT_K_ARCH" != x86 ]; then
		# arm64: QEMU boots the Image; no PVH vmlinux
		echo
		return
	fi
	vmlinux=$MEMTRACE_CACHE/kernels/$kver/vmlinux
	[ -e "$vmlinux" ] || [ -e "$vmlinux.none" ] ||
		mt_extract_vmlinux "$kroot/boot/vmlinuz-$kver" "$vmlinux" ||
		{ warn "no PVH vmlinux in $kroot/boot/vmlinuz-$kver: booting the bzImage (slower)"
		  : >"$vmlinux.none"; }
	[ -e "$vmlinux" ] && echo "$vmlinux" || echo
}

# mt_cross_dir ROOT KVER: where the headers of a cross-built kernel are
# extracted, as seen from ROOT (inside the chroot, or the cache for the host).
mt_cross_dir() {
	if [ -n "$1" ]; then echo "/usr/src/memtrace-cross/$2"; else echo "$MEMTRACE_CACHE/cross-headers/$2"; fi
}
mt_in_dir() { (cd "$1" && shift && "$@"); }

# mt_cross_headers ROOT HEADERS VERSION: the headers of an arm64 kernel,
# for a cross build in ROOT (the host when empty): the linux-headers
# packages of the flavour and the common ones, extracted (never installed)
# into mt_cross_dir; in ROOT the kbuild tools of the same version for the
# build machine (linux-kbuild-* is Multi-Arch: foreign, so the amd64 one
# serves) and gcc-N-aarch64-linux-gnu, N the kernel's compiler's version.
mt_cross_headers() {
	local root=$1 hdr=$2 ver=$3 kver dir hb deps p pkgs dl deb gccv kbuild
	kver=${hdr#linux-headers-}
	dir=$(mt_cross_dir "$root" "$kver")
	hb=$root$dir
	deps=$(mt_kcache "$root" "$MT_K_FLAVOUR" show "$hdr=$ver" | sed -n 's/^Depends: //p' | tr ',|' '\n\n' |
		sed 's/^ *//; s/ .*//')
	kbuild=$(grep -m1 '^linux-kbuild-' <<<"$deps") || die "$hdr=$ver depends on no linux-kbuild package"
	if [ ! -e "$hb/.memtrace-ok" ]; then
		pkgs="$hdr=$ver"
		for p in $(grep '^linux-headers-.*-common' <<<"$deps"); do pkgs+=" $p=$ver"; done
		note "downloading $pkgs (arm64 headers, for a cross build)"
		rm -rf "$hb"
		mkdir -p "$hb"
		dl=$(mktemp -d "$MEMTRACE_CACHE/kernels/.dl.XXXXXX")
		# shellcheck disable=SC2086
		mt_logged apt-download mt_in_dir "$dl" \
			mt_arm_apt "$(mt_arm_suite "$root")" apt-get -q download $pkgs ||
			{ rm -rf "$dl"; die "cannot download $pkgs"; }
		for deb in "$dl"/*.deb; do
			dpkg-deb -x "$deb" "$hb" || { rm -rf "$dl"; die "cannot extract $deb"; }
		done
		rm -rf "$dl"
		[ -e "$hb/usr/src/$hdr/Makefile" ] || die "$hdr has no Makefile"
		# Its Makefile includes the common headers' by absolute path
		# (and from 7.x sets KBUILD_OUTPUT to its own), and its scripts
		# and tools are the kbuild package's.
		sed -i "s#\\(^\\|[ =]\\)/usr/src/#\\1$dir/usr/src/#g" "$hb/usr/src/$hdr/Makefile"
		mkdir -p "$hb/usr/lib"
		ln -sfn "/usr/lib/$kbuild" "$hb/usr/lib/$kbuild"
		touch "$hb/.memtrace-ok"
	fi
	gccv=$(sed -n 's/.*(CROSS_COMPILE)gcc-\([0-9][0-9]*\).*/\1/p' "$hb/usr/src/$hdr/.kernelvariables")
	[ -n "$gccv" ] || die "no compiler version in $hb/usr/src/$hdr/.kernelvariables"
	mt_install "$root" "$MT_K_RELEASE" "$kbuild" "gcc-$gccv-aarch64-linux-gnu"
}

# mt_kernel K: prepare kernel K (chroot, headers, extracted image) when needed
# and set KERNEL KVER KDIR VMLINUZ MODDIR CHROOT (see scripts/kernel --help)
# plus KROOT (the extracted image) and KBUILD (KDIR as seen from the host).
MT_KERNEL_VARS="KERNEL KVER KDIR VMLINUZ VMLINUX MODDIR CHROOT ARCH CROSS_COMPILE PAGE_KIB"
mt_kernel() {
	local k=$1 root hdr ver
	mt_need_root
	mt_kernel_spec "$k"
	mkdir -p "$MEMTRACE_CACHE/logs"
	exec {MT_LOCKFD}>>"$MEMTRACE_CACHE/.lock"
	flock "$MT_LOCKFD"
	mt_host_setup
	if [ -z "$MT_K_VERRE" ]; then
		# The debug kernel, built from linux-source-6.1 by
		# scripts/debug-kernel, which caches and locks on its own: do not
		# hold the lane's lock for its build.
		exec {MT_LOCKFD}>&-
		local vars
		vars=$("$MT_TOP/scripts/debug-kernel") || die "the debug kernel is not available"
		eval "$vars"
		return 0
	fi
	root=$(mt_kernel_root "$k") || exit 1
	read -r hdr ver < <(mt_kernel_resolve "$k" "$root") || exit 1
	[ -n "$hdr" ] || exit 1
	VMLINUX=$(mt_kernel_fetch "$k" "$root" "$hdr" "$ver") || exit 1
	KERNEL=$k
	KVER=${hdr#linux-headers-}
	KDIR=/usr/src/$hdr
	ARCH=$MT_K_ARCH CROSS_COMPILE=""
	if [ "$ARCH" != x86 ]; then
		KDIR=$(mt_cross_dir "$root" "$KVER")/usr/src/$hdr
		CROSS_COMPILE=aarch64-linux-gnu-
	fi
	CHROOT=$root
	KBUILD=$root$KDIR
	KROOT=$MEMTRACE_CACHE/kernels/$KVER/root
	VMLINUZ=$KROOT/boot/vmlinuz-$KVER
	MODDIR=$KROOT/lib/modules/$KVER
	PAGE_KIB=4
	grep -qs '^CONFIG_ARM64_16K_PAGES=y' "$KROOT/boot/config-$KVER" && PAGE_KIB=16
	grep -qs '^CONFIG_ARM64_64K_PAGES=y' "$KROOT/boot/config-$KVER" && PAGE_KIB=64
	exec {MT_LOCKFD}>&-
}

# mt_extract_vmlinux BZIMAGE OUT: unpack the ELF vmlinux from BZIMAGE (xz,
# zstd or gzip) when it has a PVH entry note, so QEMU can boot it directly:
# decompressing the bzImage costs about 3 s under TCG, at every boot.
mt_extract_vmlinux() {
	local img=$1 out=$2 m dec off
	for m in 'xz -dcq:\xfd7zXZ\x00' 'zstd -qdc:\x28\xb5\x2f\xfd' 'gzip -dcq:\x1f\x8b\x08'; do
		dec=${m%%:*}
		for off in $(LC_ALL=C grep -obUaP "${m#*:}" "$img" | cut -d: -f1 | head -n 4); do
			# Trailing data after the stream makes the decompressor fail late.
			tail -c +$((off + 1)) "$img" | $dec >"$out.tmp" 2>/dev/null || true
			# PVH entry: Xen ELF note type 18 (XEN_ELFNOTE_PHYS32_ENTRY).
			if [ "$(head -c4 "$out.tmp")" = $'\x7fELF' ] &&
				readelf -n "$out.tmp" 2>/dev/null | grep -q 'Xen.*(0x00000012)'; then
				mv "$out.tmp" "$out"
				return 0
			fi
		done
	done
	rm -f "$out.tmp"
	return 1
}

# mt_image_pkgs ROOT KVER VERSION: the packages holding the image of KVER.
# Up to 7.2 that is linux-image-KVER-unsigned (else the signed
# linux-image-KVER); from 7.3 on linux-image-KVER is a metapackage of
# linux-{base,binary,modules}-KVER, where linux-binary-unsigned-KVER is preferred.
mt_image_pkgs() {
	local root=$1 kver=$2 ver=$3 p
	if mt_kcache "$root" "$MT_K_FLAVOUR" show "linux-image-$kver-unsigned=$ver" >/dev/null 2>&1; then
		echo "linux-image-$kver-unsigned=$ver"
		return
	fi
	mt_kcache "$root" "$MT_K_FLAVOUR" show "linux-image-$kver=$ver" >/dev/null 2>&1 ||
		die "neither linux-image-$kver-unsigned nor linux-image-$kver $ver is in the archive"
	echo "linux-image-$kver=$ver"
	for p in $(mt_kcache "$root" "$MT_K_FLAVOUR" depends "linux-image-$kver=$ver" |
		awk -v k="$kver" '$1 == "Depends:" && index($2, k) { print $2 }'); do
		if [ "$p" = "linux-binary-$kver" ] &&
			mt_kcache "$root" "$MT_K_FLAVOUR" show "linux-binary-unsigned-$kver=$ver" >/dev/null 2>&1; then
			p=linux-binary-unsigned-$kver
		fi
		echo "$p=$ver"
	done
}

# mt_fetch_image ROOT KVER VERSION RELEASE: apt-get download the image
# packages of KVER in ROOT (see mt_image_pkgs) and extract them into the
# cache, with a modules.dep made by depmod; never installed anywhere.
mt_fetch_image() {
	local root=$1 kver=$2 ver=$3 rel=$4
	local kdir=$MEMTRACE_CACHE/kernels/$kver pkgs deb dl
	pkgs=$(mt_image_pkgs "$root" "$kver" "$ver")
	note "downloading" $pkgs
	rm -rf "$kdir"
	mkdir -p "$kdir"
	# Download where apt runs (a chroot cannot see the cache), then extract.
	if [ "$MT_K_FLAVOUR" = amd64 ]; then
		dl=$(mktemp -d "$root/var/tmp/memtrace-dl.XXXXXX")
		# shellcheck disable=SC2086
		mt_logged apt-download mt_in "$root" \
			sh -c 'cd "$1" && shift && exec apt-get -q download "$@"' sh "${dl#"$root"}" \
			${rel:+-t "$rel"} $pkgs || { rm -rf "$dl"; die "cannot download" $pkgs; }
	else
		# arm64: the host's apt with the arm64 lists of ROOT's suite
		dl=$(mktemp -d "$MEMTRACE_CACHE/kernels/.dl.XXXXXX")
		# shellcheck disable=SC2086
		mt_logged apt-download mt_in_dir "$dl" \
			mt_arm_apt "$(mt_arm_suite "$root")" apt-get -q download $pkgs ||
			{ rm -rf "$dl"; die "cannot download" $pkgs; }
	fi
	for deb in "$dl"/*.deb; do
		dpkg-deb -x "$deb" "$kdir/root" || { rm -rf "$dl"; die "cannot extract $deb"; }
	done
	rm -rf "$dl"
	# usrmerged images (trixie and later) ship /usr/lib/modules only.
	[ -e "$kdir/root/lib" ] || ln -s usr/lib "$kdir/root/lib"
	# From 7.3 on the image is /usr/lib/modules/KVER/vmlinuz[.unsigned].
	local img
	for img in boot/vmlinuz-$kver lib/modules/$kver/vmlinuz.unsigned lib/modules/$kver/vmlinuz ""; do
		[ -z "$img" ] || [ -f "$kdir/root/$img" ] && break
	done
	[ -n "$img" ] || die "no vmlinuz in" $pkgs
	if [ "$img" != "boot/vmlinuz-$kver" ]; then
		mkdir -p "$kdir/root/boot"
		ln -s "../$img" "$kdir/root/boot/vmlinuz-$kver"
	fi
	[ -d "$kdir/root/lib/modules/$kver" ] || die "no /lib/modules/$kver in" $pkgs
	mt_logged depmod depmod -b "$kdir/root" "$kver" || die "depmod failed for $kver"
	touch "$kdir/.memtrace-ok"
	note "kernel $kver ready in $kdir"
}

# mt_dkms_chroot KVER HEADERS-VERSION: make sure the cached bookworm chroot
# of the package test exists (tests/install/run: apt installs the .debs in
# an overlay of it, never in it) and set MT_DKMS_ROOT to it, MT_DKMS_HDR2 to
# the second headers package (6.12, bookworm-backports) and MT_DKMS_REL2 to
# its release. It has dkms and linux-headers-amd64 = HEADERS-VERSION (whose
# kernel is KVER, the 6.1 lab VM's) installed, and the second headers and
# libnl-genl-3 (memtrace's dependency) downloaded into apt's cache, not
# installed: the test installs them. Made as chroots/bookworm-dkms.tmp and
# renamed when complete, so no caller ever sees half of it; remade when the
# 6.1 lab kernel moves to another ABI.
MT_DKMS_SUITE=bookworm-dkms
mt_dkms_chroot() {
	local kver=$1 ver=$2 dir tmp hdr2 ver2 lockfd k v
	dir=$(mt_chroot_dir "$MT_DKMS_SUITE")
	tmp=$dir.tmp
	MT_DKMS_ROOT=$dir
	MT_DKMS_REL2=bookworm-backports
	mt_need_root
	mkdir -p "$MEMTRACE_CACHE/logs" "${dir%/*}"
	exec {lockfd}>>"$MEMTRACE_CACHE/.lock-$MT_DKMS_SUITE"
	flock "$lockfd"
	# .memtrace-ok: "KVER HDR2 v2" (v2: the second kernel's image installed)
	if [ -e "$dir/.memtrace-ok" ] && read -r k hdr2 v <"$dir/.memtrace-ok" &&
		[ "$k" = "$kver" ] && [ "$v" = v2 ]; then
		MT_DKMS_HDR2=$hdr2
		exec {lockfd}>&-
		return 0
	fi
	findmnt -rn -o TARGET | grep -q "^$tmp/" &&
		die "half-made chroot $tmp has mounts below it; unmount them first"
	# A finished debootstrap (.debootstrap-ok) is kept; anything else is redone.
	if [ -e "$tmp" ] && [ ! -e "$tmp/.debootstrap-ok" ]; then
		rm -rf --one-file-system "$tmp"
	fi
	note "creating the $MT_DKMS_SUITE chroot $dir (debootstrap, dkms, headers $kver: takes a few minutes)"
	if [ ! -e "$tmp/.debootstrap-ok" ]; then
		command -v debootstrap >/dev/null || mt_install "" "" debootstrap
		mt_logged "debootstrap-$MT_DKMS_SUITE" debootstrap --variant=minbase \
			--include="$MT_CHROOT_PKGS" bookworm "$tmp" "$MT_MIRROR" ||
			die "debootstrap of bookworm failed"
		touch "$tmp/.debootstrap-ok"
	fi
	# As a Debian 12 system has them: the point releases, security updates
	# (where the 6.1 lab kernel's headers are) and backports (6.12).
	printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\ndeb %s bookworm-backports main\n' \
		"$MT_MIRROR" "$MT_MIRROR" "$MT_SECURITY_MIRROR" "$MT_MIRROR" >"$tmp/etc/apt/sources.list"
	cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
	mt_apt_update "$tmp" || die "apt-get update failed in $tmp"
	mt_logged "apt-$MT_DKMS_SUITE" mt_in "$tmp" apt-get -q -y -o Dpkg::Use-Pty=0 \
		--no-install-recommends install dkms "linux-headers-amd64=$ver" ||
		die "cannot install dkms and linux-headers-amd64=$ver in $tmp"
	[ -e "$tmp/usr/src/linux-headers-$kver/Makefile" ] ||
		die "linux-headers-amd64=$ver did not bring the headers of $kver"
	read -r hdr2 ver2 < <(mt_resolve "$tmp" '^6\.12\.') ||
		die "no 6.12 linux-headers-amd64 in bookworm-backports"
	# The second kernel's image is installed here, its headers only
	# downloaded: what the test installs is the headers, as a user with
	# that kernel would (their Depends on the image is then met, and what
	# the image's installation makes, an initramfs, systemd's files, is
	# in the test's "before").
	mt_logged "apt-$MT_DKMS_SUITE" mt_in "$tmp" apt-get -q -y -o Dpkg::Use-Pty=0 \
		--no-install-recommends -t "$MT_DKMS_REL2" install "linux-image-${hdr2#linux-headers-}" ||
		die "cannot install linux-image-${hdr2#linux-headers-} in $tmp"
	mt_logged "apt-$MT_DKMS_SUITE" mt_in "$tmp" apt-get -q -y -o Dpkg::Use-Pty=0 \
		--no-install-recommends -t "$MT_DKMS_REL2" install --download-only \
		"$hdr2" libnl-genl-3-200 || die "cannot download $hdr2 in $tmp"
	rm -f "$tmp/.debootstrap-ok"
	echo "$kver $hdr2 v2" >"$tmp/.memtrace-ok"
	if [ -e "$dir" ]; then
		mv "$dir" "$dir.old" && rm -rf --one-file-system "$dir.old"
	fi
	mv "$tmp" "$dir"
	MT_DKMS_HDR2=$hdr2
	note "$MT_DKMS_SUITE chroot ready in $dir"
	exec {lockfd}>&-
}
