#!/usr/bin/env bash
# Build an initramfs (busybox-static, seqsplice.ko, test and tool binaries,
# pv with its libraries) and boot the cached kernel in QEMU, then judge the
# serial log with scripts/parse-log.sh.
#   scripts/guest.sh MODE        MODE: check | demo | bench | leak | only
# only: just the steps named by APPEND="seqsplice.only=NAME[,NAME...]"
# (scripts/guest/only.sh), judged like check.
# Environment: ACCEL=tcg|kvm (default tcg: nested KVM here is ~1000x slower),
# CPU (default max), ICOUNT=1 (deterministic instruction count), TIMEOUT
# (seconds), APPEND (extra kernel command line), FLAVOUR=release|debug|batched.
set -euo pipefail
. "$(dirname "$0")/env.sh"
mode=${1:?usage: guest.sh check|demo|bench|leak|only}
top=$SEQSPLICE_TOP
KDIR=$(kernel_dir)
out=$top/build/guest-$mode-$FLAVOUR
rm -rf "$out"
mkdir -p "$out/root"/{bin,sbin,usr/bin,proc,sys,dev,tmp,tests,tools,guest,consumer,lib64,lib/x86_64-linux-gnu}
root=$out/root

cp /bin/busybox "$root/bin/busybox"
for app in $("$root/bin/busybox" --list); do
	[ -e "$root/bin/$app" ] || ln -s busybox "$root/bin/$app"
done
# Each flavour has its own build of the module (Makefile: debug-module,
# batched-module).
ko=$top/seqsplice.ko
[ "$FLAVOUR" = release ] || ko=$top/build/$FLAVOUR/seqsplice.ko
cp "$ko" "$root/seqsplice.ko"
# The test consumers of the exported API, this flavour's build (make
# consumer): /consumer/seqsplice_consumer.ko and seqsplice_noimport.ko, and
# make bench's C seq_file, seqsplice_bench.ko (scripts/guest/bench.sh).
consumer=$top/build/consumer/$FLAVOUR
for k in "$consumer/seqsplice_consumer.ko" "$consumer/noimport/seqsplice_noimport.ko" \
	"$consumer/seqsplice_bench.ko"; do
	if [ -f "$k" ]; then cp "$k" "$root/consumer/"; fi
done
cp "$top/scripts/guest/init" "$root/init"
cp "$top"/scripts/guest/*.sh "$root/guest/"
# make check runs the native benchmark driver's smoke mode (beside sweep.sh).
cp "$top/scripts/native-bench.sh" "$root/guest/"
# Debian's pv is dynamically linked: carry its loader and libraries.
cp /usr/bin/pv "$root/usr/bin/pv"
for lib in $(ldd /usr/bin/pv | grep -o '/[^ ]*'); do
	cp -L "$lib" "$root$lib"
done
[ -d "$top/build/selftests" ] && cp "$top"/build/selftests/* "$root/tests/" 2>/dev/null || true
[ -d "$top/build/tools" ] && cp "$top"/build/tools/* "$root/tools/" 2>/dev/null || true
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initramfs.cpio.gz"

accel=${ACCEL:-tcg}
cpu=${CPU:-max}
# The debug suite takes about 18 min under TCG (KASAN, every object in
# KFENCE; every suite in three map modes), the release one 6: about twice
# that before the run counts as hung (other guests on the same cores slow
# it down further).
timeout=${TIMEOUT:-1200}
[ "$FLAVOUR" = debug ] && timeout=${TIMEOUT:-3000}
append="console=ttyS0 panic=-1 oops=panic quiet seqsplice.mode=$mode seqsplice.flavour=$FLAVOUR ${APPEND:-}"
# Debug runs: unmap freed pages (use after free faults), sample every slab
# object with KFENCE, kmemleak scanned by the guest at the end.  no5lvl:
# with -cpu max's LA57, an interrupt during early boot (identify_cpu)
# hit a KASAN wild-memory-access in handle_edge_irq once in six boots.
[ "$FLAVOUR" = debug ] && append+=" debug_pagealloc=on kfence.sample_interval=1 no5lvl"
# The exact leak oracle: with profiling on from boot, the kernel counts the
# live pages of the module's allocation tag (stats: pages_alive) and
# /proc/allocinfo the module's other allocations.  The leak suite (last in
# a check boot, or alone in a leak boot) also unloads the module with pages
# in a pipe under profiling (it must not warn).
case "$mode" in check | leak | only) append+=" sysctl.vm.mem_profiling=1" ;; esac
qemu=(qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -smp "${SMP:-2}" -m "${MEM:-1G}"
	-nodefaults -no-reboot -nographic -serial stdio -bios /usr/share/qemu/qboot.rom
	-kernel "$KDIR/arch/x86/boot/bzImage" -initrd "$out/initramfs.cpio.gz"
	-append "$append")
[ "${ICOUNT:-0}" = 1 ] && qemu+=(-icount shift=0)
log=$out/serial.log
echo "guest: booting $mode ($FLAVOUR kernel, $accel, log: ${log#"$top"/}, timeout ${timeout}s)"
start=$(date +%s)
set +e
# The serial log as it comes, and each step's result and time as it ends.
timeout "$timeout" "${qemu[@]}" </dev/null 2>&1 | tee "$log" |
	"$top/scripts/guest-progress.sh" "$mode/$FLAVOUR" "$out/steps.wall"
qrc=${PIPESTATUS[0]}
set -e
[ "$qrc" = 124 ] && echo "guest: timed out after ${timeout}s"
wall=$(($(date +%s) - start))
echo "$wall" >"$out/wall"
echo "guest: $mode finished in $wall s (wall)"
case "$mode" in
check | leak | only) "$top/scripts/parse-log.sh" "$log" ;;
*)
	# Judge first, quietly (its verdict only on failure), so that the run's
	# own output is the last thing printed.
	verdict=0
	"$top/scripts/parse-log.sh" "$log" --no-tap >"$out/verdict" || verdict=$?
	sed -n '/^SEQSPLICE-GUEST-START/,/^SEQSPLICE-DMESG-BEGIN/p' "$log" | tr -d '\r' | grep -v '^SEQSPLICE-'
	if [ "$verdict" != 0 ]; then
		cat "$out/verdict"
		exit "$verdict"
	fi
	;;
esac
