# SPDX-License-Identifier: GPL-2.0
# vmpager top-level Makefile. Kbuild (read by the kernel's build) lists the
# module's objects; everything here is the userspace/test/QEMU side.
#
#   make            module + userspace             make check   every test
#   make run        the demo in a QEMU guest       make kernel  debug kernel
#   make C=1        sparse over the module         make install / uninstall
#   make install-module / install-userspace   each half alone (docs/install.md)
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

.PHONY: all deps build-check-module build-check-userspace module modules modules-clean userspace \
	selftests host-check guest-check check run \
	kernel install uninstall clean dkms-check bench bench-quick stress \
	install-check install-module install-userspace uninstall-module uninstall-userspace

# Building what gets installed needs only what that needs (check-deps.sh
# names what is missing; it installs nothing): no QEMU, no test bench. The
# tests set themselves up (deps.sh) in selftests, check, run, bench, stress.
all: module userspace

deps:
	@$(DEPS)

build-check-module:
	@$(TOP)/userspace/check-deps.sh -k "$(KDIR)"

build-check-userspace:
	@$(TOP)/userspace/check-deps.sh -u

module: build-check-module modules

# The module alone, no dependency check (what dkms.conf runs).
modules:
	$(MAKE) -C $(KDIR) M=$(TOP) modules

modules-clean:
	$(MAKE) -C $(KDIR) M=$(TOP) clean

userspace: build-check-userspace
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

# Installing (docs/install.md) needs only what building the installed files
# needs, none of the test bench (no deps.sh): userspace/check-deps.sh checks
# a compiler, make, pkg-config, the static libc, liburing and libcap, and
# (the module) the headers at KDIR; it names the Debian package of whatever
# is missing and installs nothing. PREFIX (default /usr/local) and the other
# places are userspace/install.mk's; DESTDIR stages everything, the module
# included: Kbuild's INSTALL_MOD_PATH defaults to DESTDIR. depmod runs only
# when INSTALL_MOD_PATH is empty; ldconfig and systemctl daemon-reload only
# when DESTDIR is.
# (-include: dkms builds the module from a copy without userspace/)
-include $(TOP)/userspace/install.mk
CHECK_DEPS := $(TOP)/userspace/check-deps.sh
INSTALL_MOD_PATH ?= $(DESTDIR)
# The release of the kernel at KDIR, its directory under /lib/modules: the
# module's vermagic (not include/config/kernel.release, which in Debian's
# headers is the upstream version); else taken from KDIR=/lib/modules/R/build.
KVER ?= $(or $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
		$(KDIR)/include/generated/utsrelease.h 2>/dev/null), \
	     $(notdir $(patsubst %/build,%,$(KDIR))))
MODLIB = $(INSTALL_MOD_PATH)/lib/modules/$(KVER)
DEPMOD_CMD = $(if $(INSTALL_MOD_PATH)$(filter-out 1,$(words $(KVER))),, \
		[ ! -d $(MODLIB) ] || depmod -a $(KVER))
# docs/*.md and the images they show, relative to docs/ and to DOCDIR
DOC_FILES := $(patsubst docs/%,%,$(wildcard docs/*.md docs/*/*.png))
# One check for every half asked for, before anything is built.
CHECK_ARGS := $(if $(filter install install-check install-userspace,$(MAKECMDGOALS)),-u) \
	      $(if $(filter install install-check install-module,$(MAKECMDGOALS)),-k "$(KDIR)")

install: install-module install-userspace

install-check:
	@$(CHECK_DEPS) $(CHECK_ARGS)

install-module: install-check
	$(MAKE) -C $(KDIR) M=$(TOP) modules
	$(MAKE) -C $(KDIR) M=$(TOP) $(if $(INSTALL_MOD_PATH),INSTALL_MOD_PATH=$(INSTALL_MOD_PATH) \
		DEPMOD=true) modules_install
	$(DEPMOD_CMD)

# Every program and library, the udev rule, the systemd units, the docs.
install-userspace: install-check
	$(MAKE) -C userspace/lib install
	$(MAKE) -C userspace/vmpagerd install
	$(MAKE) -C userspace/vmpagerctl install
	$(MAKE) -C userspace/swapserver install
	$(MAKE) -C userspace/sim install
	install -D -m 0644 userspace/etc/60-vmpager.rules $(DESTDIR)$(UDEVRULESDIR)/60-vmpager.rules
	for f in $(DOC_FILES); do \
		install -D -m 0644 docs/$$f $(DESTDIR)$(DOCDIR)/$$f || exit 1; \
	done

uninstall: uninstall-module uninstall-userspace

uninstall-module:
	rm -f $(addsuffix /vmpager.ko*,$(addprefix $(MODLIB)/,extra updates $(INSTALL_MOD_DIR)))
	$(DEPMOD_CMD)

uninstall-userspace:
	$(MAKE) -C userspace/lib uninstall
	$(MAKE) -C userspace/vmpagerd uninstall
	$(MAKE) -C userspace/vmpagerctl uninstall
	$(MAKE) -C userspace/swapserver uninstall
	$(MAKE) -C userspace/sim uninstall
	rm -f $(DESTDIR)$(UDEVRULESDIR)/60-vmpager.rules \
	      $(addprefix $(DESTDIR)$(DOCDIR)/,$(DOC_FILES))
	for d in $(filter-out ./,$(sort $(dir $(DOC_FILES)))) ""; do \
		[ ! -d $(DESTDIR)$(DOCDIR)/$$d ] || rmdir --ignore-fail-on-non-empty $(DESTDIR)$(DOCDIR)/$$d; \
	done

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean 2>/dev/null
	rm -rf $(B)

endif
