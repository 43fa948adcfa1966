# SPDX-License-Identifier: GPL-2.0
#
# memtrace: see README.md.
#   make            build the client, and the module when this machine has
#                   kernel headers for the running kernel (KDIR=)
#   make test       host tests, then every in-VM suite on every kernel
#                   of the "test" list (x86, arm64-6.12, arm64-16k)
#   make test-all   the same on every kernel (arm64-6.1 and arm64-latest too)
#   make demo       the lazy-allocation experiment in a throw-away lab VM
#   make vm         a lab VM: make vm KERNEL=6.12 CMD='memtrace demo'
#   make check      checkpatch, sparse and W=1 on the module, all kernels
#   make bench      benchmarks against pagemap, mincore, PAGEMAP_SCAN
# On a machine that can load modules (a lab VM), as root:
#   make load / make unload               insmod / rmmod with clear messages
#   make install / make uninstall         module (extra/), client, man page,
#                                         bash completion (DESTDIR, PREFIX)
#   make dkms-install / dkms-uninstall    rebuild on every kernel upgrade
# Debian packages (memtrace, memtrace-dkms), into build/deb/:
#   make deb        dpkg-buildpackage -us -uc -b in a clean copy, then lintian

# the kernel matrix: scripts/kernels
KERNEL ?= $(shell scripts/kernel --list default)
KERNELS ?= $(shell scripts/kernel --list test)
ALL_KERNELS ?= $(shell scripts/kernel --list all-test)
CHECK_KERNELS ?= $(shell scripts/kernel --list check)
KDIR ?= /lib/modules/$(shell uname -r)/build
CMD ?=
PREFIX ?= /usr/local
DESTDIR ?=
VERSION := $(shell cat VERSION)
# The kernel release the module is built for, as modules_install names it.
KRELEASE = $(shell modinfo -F vermagic kmod/memtrace.ko 2>/dev/null | cut -d' ' -f1)
DKMS_SRC = $(DESTDIR)/usr/src/memtrace-$(VERSION)

all: client module

client:
	$(MAKE) -C user

module:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C kmod KDIR=$(KDIR); else \
	  echo "memtrace: no kernel headers at $(KDIR): module not built."; \
	  echo "  On a lab VM: apt-get install linux-headers-\$$(uname -r), or pass KDIR=."; \
	  echo "  Here: 'make demo' / 'make test' build it for the lab VM's kernels."; fi

setup:
	scripts/setup

test: setup
	KERNELS="$(KERNELS)" tests/run

test-all: setup
	KERNELS="$(ALL_KERNELS)" tests/run

# Where demo and vm build the module (tests/lane/run passes its own, so as
# not to rewrite the one the test jobs beside it boot).
KMOD_OUT ?= build/kmod-$(KERNEL)

# The module for the lab VM's kernel (built into KMOD_OUT), the client, and
# the demo inside the VM. The guest's console is a terminal whatever the host's stdout is, so the
# colour is decided here: only when make's stdout is a terminal and NO_COLOR
# is unset (--color in DEMO_ARGS still wins: it comes later).
demo: setup client
	scripts/build-kmod $(KERNEL) kmod $(KMOD_OUT)
	@color=never; [ -t 1 ] && [ -z "$${NO_COLOR:-}" ] && color=always; \
	echo "scripts/vm --kernel $(KERNEL) ... -- 'memtrace --color=$$color demo $(DEMO_ARGS)'"; \
	scripts/vm --kernel $(KERNEL) --add $(KMOD_OUT)/memtrace.ko \
	  --add user/memtrace -- "insmod /lab/memtrace.ko && memtrace --color=$$color demo $(DEMO_ARGS)"

vm: setup client
	scripts/build-kmod $(KERNEL) kmod $(KMOD_OUT)
	scripts/vm --kernel $(KERNEL) --add $(KMOD_OUT)/memtrace.ko \
	  --add user/memtrace $(if $(CMD),-- 'insmod /lab/memtrace.ko && $(CMD)',)

# (make check KERNELS=6.12 checks only those, as before the check list)
check: setup
	CHECK_KERNELS="$(if $(filter-out file,$(origin KERNELS)),$(KERNELS),$(CHECK_KERNELS))" scripts/check

# Not a test: timings side by side in one boot per kernel, to bench/results/.
bench: setup client
	scripts/bench

load: module
	scripts/load

unload:
	scripts/unload

install: install-client install-module

install-client: client
	install -D -m 0755 user/memtrace $(DESTDIR)$(PREFIX)/bin/memtrace
	install -D -m 0644 user/memtrace.1 $(DESTDIR)$(PREFIX)/share/man/man1/memtrace.1
	install -D -m 0644 user/memtrace.bash-completion \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/memtrace

install-module:
	@test -d "$(KDIR)" || { echo "memtrace: no kernel headers at $(KDIR); pass KDIR=" >&2; exit 1; }
	$(MAKE) -C kmod KDIR=$(KDIR)
	# Unsigned, like any local build (distribution headers carry no
	# signing key; DKMS signs with its own MOK key where Secure Boot needs it).
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod INSTALL_MOD_PATH=$(DESTDIR) \
	  INSTALL_MOD_DIR=extra CONFIG_MODULE_SIG_ALL= modules_install
	$(if $(DESTDIR),,depmod $(KRELEASE))

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/memtrace \
	  $(DESTDIR)$(PREFIX)/share/man/man1/memtrace.1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/memtrace
	rm -f $(DESTDIR)/lib/modules/$(or $(KRELEASE),$(shell uname -r))/extra/memtrace.ko*
	$(if $(DESTDIR),,-depmod $(or $(KRELEASE),$(shell uname -r)))

# The module's sources as DKMS wants them: /usr/src/memtrace-VERSION.
dkms-src:
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)/uapi
	cp kmod/Kbuild kmod/Makefile kmod/*.c kmod/*.h VERSION $(DKMS_SRC)/
	cp kmod/uapi/memtrace.h $(DKMS_SRC)/uapi/
	sed 's/@VERSION@/$(VERSION)/' kmod/dkms.conf.in > $(DKMS_SRC)/dkms.conf

dkms-install: dkms-src
	dkms add memtrace/$(VERSION)
	dkms build memtrace/$(VERSION)
	dkms install memtrace/$(VERSION)

dkms-uninstall:
	-dkms remove memtrace/$(VERSION) --all
	rm -rf $(DKMS_SRC)

# Debian packages, built in a clean copy of the tree (the files git tracks
# or would track: committed or not, never build outputs) in build/deb/src;
# the packages land in build/deb/. debian/changelog is written there, its
# version VERSION (a native package: debian/ lives here). lintian must
# report no errors (LINTIAN=0 skips it); its report: build/deb/lintian.txt.
DEB_DIR = build/deb
LINTIAN ?= 1
deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/src
	git ls-files -z --cached --others --exclude-standard | \
	  xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh | \
	  tar --null -T - -cf - | tar -xf - -C $(DEB_DIR)/src
	printf '%s\n\n%s\n\n%s\n' \
	  'memtrace ($(VERSION)) unstable; urgency=medium' \
	  '  * memtrace $(VERSION), packaged from the source tree.' \
	  ' -- $(shell sed -n 's/^Maintainer: //p' debian/control)  $(shell date -R -d @$$(git log -1 --format=%ct 2>/dev/null || date +%s))' \
	  >$(DEB_DIR)/src/debian/changelog
	cd $(DEB_DIR)/src && dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
	  { tail -n 30 ../build.log; echo "make deb: dpkg-buildpackage failed (build/deb/build.log)" >&2; exit 1; }
	ls $(DEB_DIR)/*.deb
	$(if $(filter 1,$(LINTIAN)),cd $(DEB_DIR) && { lintian --info --display-info *.changes >lintian.txt 2>&1; \
	  rc=$$?; cat lintian.txt; [ $$rc = 0 ] && ! grep -q '^E: ' lintian.txt || \
	  { echo "make deb: lintian failed (exit $$rc) or reports errors" >&2; exit 1; }; })

clean:
	$(MAKE) -C user clean
	$(MAKE) -C tests clean
	rm -rf build kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd \
	  kmod/modules.order kmod/Module.symvers

.PHONY: all client module setup test test-all demo vm check bench clean load unload install \
	install-client install-module uninstall dkms-src dkms-install dkms-uninstall deb
