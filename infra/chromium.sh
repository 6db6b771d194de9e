#!/usr/bin/env bash
# Installs the Chromium that the browser tests drive (infra/browsertest):
# Debian's chromium package, through apt-get. Idempotent: when a chromium is
# there already (HERALD_CHROMIUM, /usr/bin/chromium or chromium in PATH) it
# returns at once.
#
#   infra/chromium.sh install
#
# It uses sudo (non-interactive) when it does not run as root. Where it cannot
# install (no apt-get, no root and no sudo without a password), it says so and
# fails under CI, where the browser tests must run; elsewhere it exits 0 and
# the browser tests skip with a message that points here.
set -euo pipefail

installed() {
	if [ -n "${HERALD_CHROMIUM:-}" ]; then
		[ -x "$HERALD_CHROMIUM" ]
		return
	fi
	[ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1
}

cannot() {
	echo "infra/chromium.sh: cannot install chromium: $*" >&2
	echo "install it yourself (apt-get install chromium) or point HERALD_CHROMIUM at a Chromium binary" >&2
	if [ -n "${CI:-}" ]; then
		exit 1
	fi
	exit 0
}

install() {
	if installed; then
		return
	fi
	if ! command -v apt-get >/dev/null 2>&1; then
		cannot "no apt-get on this machine"
	fi
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		if ! command -v sudo >/dev/null 2>&1 || ! sudo -n true 2>/dev/null; then
			cannot "not root, and no sudo without a password"
		fi
		sudo=(sudo -n)
	fi
	local start=$SECONDS
	echo "installing chromium with apt-get" >&2
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
	echo "$(chromium --version 2>/dev/null) ready in $((SECONDS - start)) s" >&2
}

case "${1:-}" in
install) install ;;
*)
	echo "usage: $0 install" >&2
	exit 2
	;;
esac
