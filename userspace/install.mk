# SPDX-License-Identifier: GPL-2.0
# Where "make install" puts things (docs/install.md). Included by the top
# Makefile and by userspace/*/Makefile, so every level agrees; set any of
# them on the command line (make install PREFIX=/usr DESTDIR=/tmp/stage).
# DESTDIR is prepended to each at install time, never written into a file.
PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
SBINDIR		?= $(PREFIX)/sbin
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
PKGCONFIGDIR	?= $(LIBDIR)/pkgconfig
DOCDIR		?= $(PREFIX)/share/doc/vmpager
# Read by udev and systemd whatever PREFIX is, so not under it.
SYSCONFDIR	?= /etc
UDEVRULESDIR	?= $(SYSCONFDIR)/udev/rules.d
UNITDIR		?= $(SYSCONFDIR)/systemd/system

# The release, dkms.conf's PACKAGE_VERSION (the module's MODULE_VERSION too):
# what the programs' --version prints.
VMPAGER_TOPDIR	:= $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
VMPAGER_RELEASE	:= $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' $(VMPAGER_TOPDIR)/dkms.conf)
RELEASE_CFLAGS	:= -DVMPAGER_RELEASE='"$(VMPAGER_RELEASE)"'
