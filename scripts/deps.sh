#!/usr/bin/env bash
# Install everything seqsplice needs on a Debian 12 machine: the kernel
# source, the Rust toolchain the kernel builds with (Debian's rustc-web, a
# matched rustc + library source pair), bindgen-cli at a pinned version, the
# LLVM tools for the clang-built debug flavour, and QEMU + busybox for the
# guest.  Idempotent: quiet when everything is present.
set -euo pipefail

BINDGEN_VERSION=0.69.5
export PATH=${CARGO_HOME:-$HOME/.cargo}/bin:$PATH

PKGS=(
	linux-source-6.12
	rustc-web rust-web-src rust-web-clippy rustfmt-web
	libclang-dev clang lld llvm
	gcc make flex bison bc libelf-dev libssl-dev dwarves python3
	cpio kmod xz-utils zstd
	qemu-system-x86 busybox-static
	pv gnuplot-nox rsync dkms
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done

if ((${#missing[@]})); then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing packages: ${missing[*]}" >&2
		echo "deps: run 'sudo make deps' (or install them with apt-get) first" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's bindgen (0.60) is older than the kernel's minimum (0.65.1).
CARGO_BIN=${CARGO_HOME:-$HOME/.cargo}/bin
if ! "$CARGO_BIN/bindgen" --version 2>/dev/null | grep -q " $BINDGEN_VERSION\$"; then
	echo "deps: cargo install bindgen-cli $BINDGEN_VERSION (first run, ~6 min)"
	cargo install --quiet --locked bindgen-cli --version "$BINDGEN_VERSION"
fi
