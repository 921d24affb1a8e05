#!/usr/bin/env bash
# dkms.conf, exercised by the real dkms, staged: its trees (--sourcetree,
# --dkmstree, --installtree) in a temporary directory, the kernel the
# cached build tree (KDIR, by default the cached release kernel, through
# --kernelsourcedir, as for a kernel whose headers are not installed under
# /lib/modules).  add, build, install, status, uninstall, remove; the module
# DKMS built must be a module for that kernel (vermagic), installed where
# dkms.conf says and gone again; and the BUILD_EXCLUSIVE_* directives must
# refuse a kernel without CONFIG_RUST and a kernel that is not 6.12, with
# nothing built.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
kdir=${KDIR:-$(scripts/kernel.sh --dir)}
release=$(cat "$kdir/include/config/kernel.release")
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/common/tap.sh
. "$top/tests/common/tap.sh"
export PATH=$PATH:/usr/sbin:/sbin
command -v dkms >/dev/null || {
	echo "tests/dkms: dkms is not installed (scripts/deps.sh installs it)" >&2
	exit 1
}

# The source as it would be unpacked under /usr/src: the tracked files a
# module build needs (no build products, no tools).
src=$tmp/src/seqsplice-$version
mkdir -p "$src" "$tmp/dkms" "$tmp/lib/modules/$release"
git ls-files -z Kbuild Makefile dkms.conf src include scripts/native-bench.sh scripts/guest/sweep.sh |
	xargs -0 cp --parents -t "$src"
trees=(--sourcetree "$tmp/src" --dkmstree "$tmp/dkms" --installtree "$tmp/lib/modules")
d() { dkms "$@" "${trees[@]}"; }
built=$tmp/dkms/seqsplice/$version/$release/x86_64/module/seqsplice.ko

check "dkms add seqsplice/$version" d add -m seqsplice -v "$version"
check "dkms build against $release ($kdir)" \
	d build -m seqsplice -v "$version" -k "$release" --kernelsourcedir "$kdir"
check "dkms kept the module it built" test -f "$built"
check "its vermagic is $release's" \
	bash -c "modinfo -F vermagic '$built' | grep -q '^$release '"
check "it is the seqsplice module (name, license GPL)" \
	bash -c "[ \"\$(modinfo -F name '$built')\" = seqsplice ] && [ \"\$(modinfo -F license '$built')\" = GPL ]"
check "dkms install into the staged /lib/modules" \
	d install -m seqsplice -v "$version" -k "$release" --kernelsourcedir "$kdir" --no-depmod
# Debian's dkms installs under updates/dkms whatever DEST_MODULE_LOCATION
# says; others honour it (extra/).
lib=$tmp/lib/modules/$release
installed() { (cd "$lib" && find . -name 'seqsplice.ko*' | sed 's|^\./||'); }
installed_once() {
	local where
	where=$(installed)
	case "$where" in
	updates/dkms/seqsplice.ko | extra/seqsplice.ko) cmp "$lib/$where" "$built" ;;
	*)
		echo "installed: '$where'"
		return 1
		;;
	esac
}
check "installed once, under updates/dkms/ (Debian) or extra/, the module dkms built" \
	installed_once
check "dkms status says installed" \
	bash -c "dkms status ${trees[*]} -m seqsplice -v $version -k $release | grep -q ': installed'"
check "dkms uninstall removes it" \
	bash -c "dkms uninstall ${trees[*]} -m seqsplice -v $version -k $release --no-depmod && [ -z \"\$(cd '$lib' && find . -name 'seqsplice.ko*')\" ]"
check "dkms remove forgets it" \
	bash -c "dkms remove ${trees[*]} -m seqsplice -v $version --all --no-depmod && test ! -e '$tmp/dkms/seqsplice/$version'"

# A kernel the module cannot take: the same build tree, CONFIG_RUST off or
# another release.  DKMS must refuse before building anything.
refuse() { # label release kernelsourcedir
	local out=$tmp/refuse-$1.log
	d add -m seqsplice -v "$version" >/dev/null
	if d build -m seqsplice -v "$version" -k "$2" --kernelsourcedir "$3" >"$out" 2>&1; then
		echo "dkms built for $2 ($1)"
		return 1
	fi
	grep -q BUILD_EXCLUSIVE "$out" || {
		cat "$out"
		return 1
	}
	local ko
	ko=$(find "$tmp/dkms" -name 'seqsplice.ko*' | head -1)
	d remove -m seqsplice -v "$version" --all --no-depmod >/dev/null 2>&1 || true
	[ -z "$ko" ] || {
		echo "a module was built: $ko"
		return 1
	}
}
norust=$tmp/norust
mkdir -p "$norust"
sed 's/^CONFIG_RUST=y$/# CONFIG_RUST is not set/' "$kdir/.config" >"$norust/.config"
check "BUILD_EXCLUSIVE_CONFIG refuses a kernel without CONFIG_RUST, building nothing" \
	refuse norust "$release" "$norust"
mkdir -p "$tmp/lib/modules/6.1.0-99-amd64"
check "BUILD_EXCLUSIVE_KERNEL refuses a kernel that is not 6.12, building nothing" \
	refuse 6.1 6.1.0-99-amd64 "$kdir"
echo "1..$n"
exit $bad
