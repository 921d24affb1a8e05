# Sourced by the other scripts: one place for the toolchain and cache paths.
# shellcheck shell=bash

SEQSPLICE_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FLAVOUR=${FLAVOUR:-release}
case "$FLAVOUR" in
release | debug) ;;
*)
	echo "FLAVOUR must be release or debug, not '$FLAVOUR'" >&2
	exit 2
	;;
esac
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/seqsplice
KSRC_TARBALL=/usr/src/linux-source-6.12.tar.xz

# rustup's rustc (1.95) comes first on PATH; the kernel's crates must be
# built by the same compiler as the module (E0514 otherwise), so name
# Debian's rustc-web explicitly.  The whole project builds with LLVM=1:
# KASAN with Rust needs a clang-built kernel, and one toolchain for both
# flavours keeps module bindgen flags identical to the kernel's.
export PATH=${CARGO_HOME:-$HOME/.cargo}/bin:$PATH
KMAKE_VARS=(
	LLVM=1
	RUSTC=/usr/bin/rustc
	RUSTDOC=/usr/bin/rustdoc
	RUSTFMT=/usr/bin/rustfmt
	CLIPPY_DRIVER=/usr/bin/clippy-driver
	RUST_LIB_SRC=/usr/src/rustc-1.96.0/library
	BINDGEN="${CARGO_HOME:-$HOME/.cargo}/bin/bindgen"
)

ksrc_version() {
	dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo none
}

# The fragment of this flavour, applied after base.config: debug.config
# (KASAN, lockdep, ...) or release.config (the bench kernel: DEBUG_TLBFLUSH).
flavour_config() {
	echo "$SEQSPLICE_TOP/scripts/kconfig/$FLAVOUR.config"
}

# The cache key: source version, flavour, the config fragments and the
# toolchain versions.  Anything that changes the kernel's rust metadata
# changes the directory.  base.config is in both flavours' keys (even a
# comment edited there rebuilds both kernels); a flavour's own fragment only
# in its own.
kernel_dir() {
	local h
	h=$({
		cat "$SEQSPLICE_TOP/scripts/kconfig/base.config"
		cat "$(flavour_config)"
		/usr/bin/rustc --version 2>/dev/null
		clang --version 2>/dev/null | head -1
		"${CARGO_HOME:-$HOME/.cargo}/bin/bindgen" --version 2>/dev/null
	} | sha256sum | cut -c1-12)
	echo "$CACHE/linux-$(ksrc_version)-$FLAVOUR-$h"
}
