# SPDX-License-Identifier: GPL-2.0
# vmpager top-level Makefile. Kbuild (read by the kernel's build) lists the
# module's objects; everything here is the userspace/test/QEMU side.
#
#   make            module + userspace + tests     make check   every test
#   make run        the demo in a QEMU guest       make kernel  debug kernel
#   make C=1        sparse over the module         make install / uninstall
#
# KDIR picks the kernel tree to build the module against: the running
# kernel's when its headers exist, otherwise Debian's 6.1 guest headers.
ifeq ($(KBUILD_MODULES),)

SHELL := /bin/bash
TOP := $(CURDIR)
B := $(TOP)/build
GUEST_KVER ?= $(shell ls -d /lib/modules/*-amd64/build 2>/dev/null | sort -V | tail -n 1 | cut -d/ -f4)
ifneq ($(wildcard /lib/modules/$(shell uname -r)/build/Makefile),)
KDIR ?= /lib/modules/$(shell uname -r)/build
else
KDIR ?= /lib/modules/$(GUEST_KVER)/build
endif
KERNEL ?= stock
DEPS := $(TOP)/selftests/qemu/deps.sh

.PHONY: all deps module modules modules-clean userspace selftests host-check guest-check check run \
	kernel install uninstall clean dkms-check bench bench-quick stress

all: module userspace selftests

deps:
	@$(DEPS)

module: deps modules

# The module alone, no dependency check (what dkms.conf runs).
modules:
	$(MAKE) -C $(KDIR) M=$(TOP) modules

modules-clean:
	$(MAKE) -C $(KDIR) M=$(TOP) clean

userspace: deps
	$(MAKE) -C userspace/sim
	$(MAKE) -C userspace/lib
	$(MAKE) -C userspace/vmpagerd
	$(MAKE) -C userspace/vmpagerctl

selftests: deps
	$(MAKE) -C selftests/host
	$(MAKE) -C selftests/vmpager O=$(B)/guest/bin
	$(MAKE) -C selftests/vmpagerd O=$(B)/guest/bin

# Host unit tests and the runner's own test; KTAP into build/logs.
host-check: deps
	@mkdir -p $(B)/logs
	$(MAKE) -s -C selftests/host run 2>&1 | tee $(B)/logs/host.ktap
	$(MAKE) -s -C selftests/vmpagerd host-run 2>&1 | tee $(B)/logs/host-vmpagerd.ktap

# One guest suite: KERNEL=stock|debug|/path/to/bzImage (with KDIR=/path).
guest-check: deps
	@selftests/qemu/guest-suite.sh -K "$(KERNEL)" $(if $(filter-out stock debug,$(KERNEL)),-D "$(KDIR)")

kernel: deps
	@selftests/qemu/build-kernel.sh >/dev/null

check: deps
	@selftests/qemu/check.sh

run: deps
	@selftests/qemu/guest-suite.sh -K "$(KERNEL)" -r

# Benchmarks (docs/performance.md): guest plan userspace/bench/plan, results in build/bench/.
bench: deps
	@userspace/bench/run.sh -K "$(KERNEL)"

bench-quick: deps
	@userspace/bench/run.sh -q -K "$(KERNEL)"

# The stress suite (docs/reliability.md): STRESS_SECS (default 600) on STRESS_KERNEL
# (default debug); the 1-minute variant is part of make check.
STRESS_SECS ?= 600
STRESS_KERNEL ?= debug
stress: deps
	@STRESS_SECS=$(STRESS_SECS) STRESS_KERNEL=$(STRESS_KERNEL) selftests/stress/make-stress.sh

dkms-check: deps
	@selftests/host/test_dkms.sh

install: module
	$(MAKE) -C $(KDIR) M=$(TOP) modules_install
	install -D -m 0644 userspace/etc/60-vmpager.rules $(DESTDIR)/etc/udev/rules.d/60-vmpager.rules
	$(MAKE) -C userspace/lib install
	$(MAKE) -C userspace/vmpagerd install
	$(MAKE) -C userspace/vmpagerctl install
	depmod -a $(notdir $(patsubst %/build,%,$(KDIR))) || true

uninstall:
	rm -f /lib/modules/$(notdir $(patsubst %/build,%,$(KDIR)))/updates/vmpager.ko \
	      /lib/modules/$(notdir $(patsubst %/build,%,$(KDIR)))/extra/vmpager.ko
	rm -f $(DESTDIR)/etc/udev/rules.d/60-vmpager.rules
	$(MAKE) -C userspace/lib uninstall
	$(MAKE) -C userspace/vmpagerd uninstall
	$(MAKE) -C userspace/vmpagerctl uninstall
	depmod -a $(notdir $(patsubst %/build,%,$(KDIR))) || true

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean 2>/dev/null
	rm -rf $(B)

endif
