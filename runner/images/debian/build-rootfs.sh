#!/bin/bash
# Builds a slim Debian root filesystem, the way the official debian:<suite>-slim image is made:
# debootstrap's minbase variant, then the files that dpkg is told to leave out from now on
# (documentation, man pages, translations) are removed from what is already installed.
# Usage: build-rootfs.sh SUITE TARGET_DIR
set -euo pipefail
suite=$1
target=$2
here=$(cd "$(dirname "$0")" && pwd)

echo "debootstrap: downloading and unpacking Debian $suite (minbase)"
debootstrap --variant=minbase "$suite" "$target" >"$target.debootstrap.log" 2>&1 || {
  tail -n 20 "$target.debootstrap.log" >&2
  exit 1
}
rm -f "$target.debootstrap.log"

echo "slimming: removing documentation, translations and caches"
cp -a "$here/rootfs/." "$target/"
cd "$target"
find usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete
find usr/share/doc -mindepth 1 -type d -empty -delete
rm -rf usr/share/man/* usr/share/info/* usr/share/groff/* usr/share/lintian/* usr/share/linda/*
find usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
rm -rf var/lib/apt/lists/* var/cache/apt/* var/cache/debconf/*-old var/lib/dpkg/*-old
find var/log -type f -delete
# The host's name and resolver do not belong in an image; the engine provides both at run time.
: >etc/resolv.conf
rm -f etc/hostname
echo "rootfs ready: $(du -sh . | cut -f1)"
