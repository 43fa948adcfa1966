# SPDX-License-Identifier: GPL-2.0
#
# memtrace: see README.md.
#   make            build the client, and the module when this machine has
#                   kernel headers for the running kernel (KDIR=)
#   make test       host tests, then every in-VM suite on every kernel
#   make demo       the lazy-allocation experiment in a throw-away lab VM
#   make vm         a lab VM: make vm KERNEL=6.12 CMD='memtrace demo'
#   make check      checkpatch, sparse and W=1 on the module, all kernels
#   make bench      benchmarks against pagemap, mincore, PAGEMAP_SCAN

KERNEL ?= 6.1
KERNELS ?= 5.10 6.1 6.12 latest
KDIR ?= /lib/modules/$(shell uname -r)/build
CMD ?=

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

# The module for the lab VM's kernel, the client, and the demo inside the VM.
demo: setup client
	scripts/build-kmod $(KERNEL) kmod build/kmod-$(KERNEL)
	scripts/vm --kernel $(KERNEL) --add build/kmod-$(KERNEL)/memtrace.ko \
	  --add user/memtrace -- 'insmod /lab/memtrace.ko && memtrace demo $(DEMO_ARGS)'

vm: setup client
	scripts/build-kmod $(KERNEL) kmod build/kmod-$(KERNEL)
	scripts/vm --kernel $(KERNEL) --add build/kmod-$(KERNEL)/memtrace.ko \
	  --add user/memtrace $(if $(CMD),-- 'insmod /lab/memtrace.ko && $(CMD)',)

check: setup
	KERNELS="$(KERNELS)" scripts/check

clean:
	$(MAKE) -C user clean
	$(MAKE) -C tests clean
	rm -rf build kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd \
	  kmod/modules.order kmod/Module.symvers

.PHONY: all client module setup test demo vm check clean
