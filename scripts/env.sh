# Sourced by the other scripts: one place for the toolchain and cache paths.
# shellcheck shell=bash

SEQSPLICE_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FLAVOUR=${FLAVOUR:-release}
case "$FLAVOUR" in
release | debug | batched) ;;
*)
	echo "FLAVOUR must be release, debug or batched, not '$FLAVOUR'" >&2
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
# batched is the release configuration on a source with the seq_file series
# of upstream/ applied.
flavour_config() {
	case "$FLAVOUR" in
	batched) echo "$SEQSPLICE_TOP/scripts/kconfig/release.config" ;;
	*) echo "$SEQSPLICE_TOP/scripts/kconfig/$FLAVOUR.config" ;;
	esac
}

# The patches of upstream/ in order, without the cover letter.
batched_series() {
	local p
	for p in "$SEQSPLICE_TOP"/upstream/[0-9][0-9][0-9][0-9]-*.patch; do
		case "$p" in */0000-cover-letter.patch) continue ;; esac
		[ -f "$p" ] && echo "$p"
	done
}

# What the batched kernel's source is keyed by: the series' diffs, from
# each patch's first "diff --git" line to its signature separator, so that
# a reworded commit message or cover letter does not rebuild the kernel.
batched_series_hash() {
	local p
	batched_series | while read -r p; do
		sed -n '/^diff --git /,/^-- $/p' "$p"
	done | sha256sum | cut -c1-12
}

# The kernel source a flavour builds: the unpacked linux-source-6.12, or for
# batched a copy of it with the series applied (scripts/kernel.sh makes it).
ksrc_dir() {
	local src
	src=$CACHE/src/linux-source-$(ksrc_version)
	case "$FLAVOUR" in
	batched) echo "$src-batched-$(batched_series_hash)" ;;
	*) echo "$src" ;;
	esac
}

# The cache key: source version, flavour, the config fragments and the
# toolchain versions (and for batched the series' diffs).  Anything that
# changes the kernel's rust metadata
# changes the directory.  base.config is in both flavours' keys (even a
# comment edited there rebuilds both kernels); a flavour's own fragment only
# in its own.
kernel_dir() {
	local h
	h=$({
		cat "$SEQSPLICE_TOP/scripts/kconfig/base.config"
		cat "$(flavour_config)"
		# Only batched's key names the series (the others' stay as they were).
		if [ "$FLAVOUR" = batched ]; then echo "series $(batched_series_hash)"; fi
		/usr/bin/rustc --version 2>/dev/null
		clang --version 2>/dev/null | head -1
		"${CARGO_HOME:-$HOME/.cargo}/bin/bindgen" --version 2>/dev/null
	} | sha256sum | cut -c1-12)
	echo "$CACHE/linux-$(ksrc_version)-$FLAVOUR-$h"
}
