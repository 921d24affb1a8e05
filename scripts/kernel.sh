#!/usr/bin/env bash
# Build (or reuse) the guest kernel: Debian's linux-source-6.12, allnoconfig
# plus scripts/kconfig/base.config and the flavour's fragment (release.config
# or debug.config; batched: release.config on a copy of the source with
# upstream/'s seq_file series applied), with CONFIG_RUST=y, into a cache
# directory outside the repository.
#   scripts/kernel.sh          build if needed, print nothing else when cached
#   scripts/kernel.sh --dir    print the build directory (KDIR) and exit
set -euo pipefail
. "$(dirname "$0")/env.sh"

OUT=$(kernel_dir)
if [ "${1:-}" = --dir ]; then
	echo "$OUT"
	exit 0
fi
[ -f "$OUT/.seqsplice-complete" ] && exit 0

# One build per directory at a time: a second `make` waits here, then finds
# the kernel built (two makes in one O= directory corrupt each other).
mkdir -p "$CACHE"
exec 9>"$OUT.lock"
flock 9
[ -f "$OUT/.seqsplice-complete" ] && exit 0

SRC=$CACHE/src/linux-source-$(ksrc_version)
if [ ! -f "$SRC/.unpacked" ]; then
	echo "kernel: unpacking $KSRC_TARBALL"
	rm -rf "$SRC"
	mkdir -p "$SRC"
	tar -xJf "$KSRC_TARBALL" -C "$SRC" --strip-components=1
	touch "$SRC/.unpacked"
fi
# batched: a copy of that source with upstream/'s series applied, in a
# directory of its own keyed by the series' diffs; the pristine one stays
# pristine.
if [ "$FLAVOUR" = batched ]; then
	PSRC=$(ksrc_dir)
	if [ ! -f "$PSRC/.patched" ]; then
		mapfile -t series < <(batched_series)
		[ "${#series[@]}" -gt 0 ] || {
			echo "kernel: no patches in $SEQSPLICE_TOP/upstream" >&2
			exit 1
		}
		echo "kernel: applying upstream/ (${#series[@]} patches) to a copy in $PSRC"
		rm -rf "$PSRC" "$PSRC.tmp"
		cp -a "$SRC" "$PSRC.tmp"
		rm -f "$PSRC.tmp/.unpacked"
		for p in "${series[@]}"; do
			patch -s -p1 -N -d "$PSRC.tmp" <"$p"
		done
		touch "$PSRC.tmp/.patched"
		mv "$PSRC.tmp" "$PSRC"
	fi
	SRC=$PSRC
fi

echo "kernel: building 6.12 ($FLAVOUR) in $OUT (first run: 6-11 min each on 2 cores)"
mkdir -p "$OUT"
K=(-C "$SRC" O="$OUT" "${KMAKE_VARS[@]}")
frags=("$SEQSPLICE_TOP/scripts/kconfig/base.config" "$(flavour_config)")

make -s "${K[@]}" allnoconfig
"$SRC/scripts/kconfig/merge_config.sh" -m -O "$OUT" "$OUT/.config" "${frags[@]}" >/dev/null
make -s "${K[@]}" olddefconfig
make -s "${K[@]}" rustavailable >/dev/null

# olddefconfig drops options whose dependencies fail (RUST with KASAN on
# gcc, for one) without a word: insist on every line of the fragments.
bad=0
for f in "${frags[@]}"; do
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*) want=$line ;;
		"# CONFIG_"*" is not set") want=$line ;;
		*) continue ;;
		esac
		if ! grep -qxF "$want" "$OUT/.config"; then
			opt=${want#\# }
			opt=${opt%%[= ]*}
			# "is not set" lines may also be absent altogether
			if [[ $want == "# "* ]] && ! grep -q "^$opt=" "$OUT/.config"; then
				continue
			fi
			echo "kernel: $want requested but .config has: $(grep -E "(^|# )$opt[= ]" "$OUT/.config" || echo nothing)" >&2
			bad=1
		fi
	done <"$f"
done
[ "$bad" = 0 ] || exit 1

start=$(date +%s)
make -s "${K[@]}" -j"$(nproc)" bzImage modules
[ -f "$OUT/arch/x86/boot/bzImage" ] && [ -f "$OUT/Module.symvers" ] || {
	echo "kernel: build failed" >&2
	exit 1
}
echo "kernel: built in $(($(date +%s) - start)) s"
touch "$OUT/.seqsplice-complete"
