#!/usr/bin/env bash
# make modules_install / install / uninstall, staged: into a temporary
# INSTALL_MOD_PATH (and once through DESTDIR) against the kernel the module
# was built for (KDIR, by default the cached one), no root needed.  The
# exact file must appear, be the module just built, be known to depmod,
# and disappear again.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
kdir=${KDIR:-$(scripts/kernel.sh --dir)}
release=$(cat "$kdir/include/config/kernel.release")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/common/tap.sh
. "$top/tests/common/tap.sh"
for how in INSTALL_MOD_PATH DESTDIR; do
	root=$tmp/$how
	ko=$root/lib/modules/$release/extra/seqsplice.ko
	check "$how: make modules_install runs" \
		make -s --no-print-directory KDIR="$kdir" "$how=$root" modules_install
	check "$how: $ko is there" test -f "$ko"
	check "$how: it is the module built in the tree" cmp "$top/seqsplice.ko" "$ko"
	check "$how: nothing else installed under lib/modules/$release besides depmod's files" \
		bash -c "[ \"\$(cd '$root/lib/modules/$release' && find . -type f ! -name 'modules.*' | sort)\" = ./extra/seqsplice.ko ]"
	check "$how: depmod lists it" grep -qx 'extra/seqsplice.ko:' "$root/lib/modules/$release/modules.dep"
	check "$how: make uninstall runs" make -s --no-print-directory KDIR="$kdir" "$how=$root" uninstall
	check "$how: $ko is gone" test ! -e "$ko"
	check "$how: and so is its extra/ directory" test ! -e "$root/lib/modules/$release/extra"
	check "$how: depmod no longer lists it" bash -c "! grep -q seqsplice '$root/lib/modules/$release/modules.dep'"
done
# make install is modules_install.
check "make install is modules_install" \
	bash -c "make -s --no-print-directory KDIR='$kdir' INSTALL_MOD_PATH='$tmp/i' install && test -f '$tmp/i/lib/modules/$release/extra/seqsplice.ko'"
echo "1..$n"
exit $bad
