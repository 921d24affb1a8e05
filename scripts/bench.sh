#!/usr/bin/env bash
# make bench: build the module (the Makefile did) and spbench, then
#   1. boot the guest in bench mode under QEMU TCG -icount shift=0: guest
#      time is the emulated instruction count, the primary figures;
#   2. boot it again, identically, to measure how closely they repeat;
#   3. boot it under plain TCG (no icount, 2 vCPUs, multi-threaded) with
#      5 rounds per path: wall-clock medians and spread, a second view;
# each boot ending with the live line (scripts/guest/sweep.sh sweep_live:
# one spbench capture of >= 64 MiB of sched events, then ftrace's trace vs
# the module's events and events_copy, each whole per run);
# then write bench/results/<date>.md, .json and .png (scripts/bench-report.py).
#
# Environment:
#   SWEEP=full|short     what the icount boots run (default full; short is a
#                        4-configuration check that takes ~2 minutes)
#   VOLUME=MiB PVOLUME=MiB REPS=N   per-run volume (raw / printf records)
#                        and ABAB rounds of the icount boots (default 8 8 2)
#   WALL_REPS=N          rounds of the wall-clock boot (default 5)
#   ACCEL=kvm            on a host where KVM works: no icount boots (icount
#                        is TCG-only); one KVM boot with CPU=host (override
#                        with CPU) runs the full sweep with WALL_REPS rounds
#   OUT=dir              results directory (default bench/results)
#   BATCHED=auto|1|0     the batched line (default auto: run it when the
#                        batched kernel is built; 1: build it if need be):
#                        the release kernel booted twice and the batched
#                        kernel once, each with spbench.sweep=batched under
#                        icount, then bench/results/<date>-batched.md
#                        (scripts/bench-report.py --batched)
#   BATCHED_FLAVOUR=f    the kernel booted as the batched one (default
#                        batched; release boots the release kernel in its
#                        place, to try the line without the batched kernel)
#   LIVE_TEXT=MiB        the batched line's live capture (default 64; a
#                        small one makes a fast trial of the line)
#   LINE=batched         the batched line alone (its three boots and its
#                        report; VOLUME/PVOLUME/REPS as above)
set -euo pipefail
. "$(dirname "$0")/env.sh"
top=$SEQSPLICE_TOP
cd "$top"
t_start=$(date +%s)

sweep=${SWEEP:-full}
volume=${VOLUME:-8}
pvolume=${PVOLUME:-8}
reps=${REPS:-2}
wall_reps=${WALL_REPS:-5}
results=${OUT:-$top/bench/results}
logs=$top/build/bench
rm -rf "$logs"
mkdir -p "$logs" "$results" build/tools

echo "bench: building spbench"
(cd tools/spbench && RUSTFLAGS='-C target-feature=+crt-static' \
	cargo build --quiet --release --target x86_64-unknown-linux-gnu)
cp tools/spbench/target/x86_64-unknown-linux-gnu/release/spbench build/tools/spbench

# -erms,-fsrm: the kernel's memcpy becomes an unrolled loop instead of one
# `rep movsb`, which icount would count as a single instruction per
# iteration.  -rdrand,-rdseed: no host entropy reaches the guest.
cpu_tcg=max,-erms,-fsrm,-rdrand,-rdseed
# tsc=reliable: under TCG the clocksource watchdog otherwise marks the TSC
# unstable and the guest falls back to jiffies (spbench refuses to time
# with that).  norandmaps: user mappings at fixed addresses in every boot.
append_common="tsc=reliable norandmaps"

boot() { # name, then VAR=value settings for guest.sh
	local name=$1
	shift
	local t0
	t0=$(date +%s)
	echo "bench: boot '$name' ($*)"
	local ok=1 serial
	env "$@" TIMEOUT="${TIMEOUT:-1800}" scripts/guest.sh bench >"$logs/$name.out" 2>&1 || ok=0
	# guest.sh names its serial log on its first line ("log: PATH, timeout
	# Ns)" since 0810ab6; "log: PATH)" before).
	serial=$(sed -n 's/^guest: booting .*log: \([^,)]*\)[,)].*/\1/p' "$logs/$name.out" | head -1)
	[ -n "$serial" ] && cp "$top/$serial" "$logs/$name.log" 2>/dev/null || ok=0
	if [ "$ok" = 0 ]; then
		tail -30 "$logs/$name.out"
		echo "bench: boot '$name' failed (output: ${logs#"$top"/}/$name.out)"
		exit 1
	fi
	echo "$name $(($(date +%s) - t0))" >>"$logs/durations"
	echo "bench: boot '$name' done in $(($(date +%s) - t0)) s"
}

# The batched line: the release kernel and the batched kernel (release
# config + upstream/*.patch: seq_read_iter() batching), the same sweep under
# icount; the release kernel twice, for the repeat spread across boots.
batched=${BATCHED:-auto}
bflavour=${BATCHED_FLAVOUR:-batched}
[ "${LINE:-}" = batched ] && [ "$batched" = auto ] && batched=1
[ "${ACCEL:-tcg}" = kvm ] && batched=0
if [ "$batched" != 0 ]; then
	bkdir=$(FLAVOUR=$bflavour scripts/kernel.sh --dir 2>/dev/null) || bkdir=
	if [ -n "$bkdir" ] && [ ! -f "$bkdir/.seqsplice-complete" ] && [ "$batched" = 1 ]; then
		FLAVOUR=$bflavour scripts/kernel.sh
	fi
	if [ -z "$bkdir" ] || [ ! -f "$bkdir/.seqsplice-complete" ]; then
		[ "$batched" = 1 ] && {
			echo "bench: no $bflavour kernel (FLAVOUR=$bflavour scripts/kernel.sh)"
			exit 1
		}
		echo "bench: no $bflavour kernel built: the batched line is skipped (BATCHED=1 builds it)"
		batched=0
	elif [ "$bflavour" != release ]; then
		# The module for that kernel (make batched-module, as
		# debug-module): build/<flavour>/seqsplice.ko, which
		# scripts/guest.sh boots with FLAVOUR=<flavour>.
		echo "bench: building seqsplice.ko for the $bflavour kernel"
		make -s "$bflavour-module"
	fi
fi
batched_boots() {
	local b="tsc=reliable norandmaps spbench.sweep=batched spbench.volume=$volume spbench.pvolume=$pvolume spbench.reps=$reps${LIVE_TEXT:+ spbench.livetext=$LIVE_TEXT}"
	boot bstock1 ICOUNT=1 SMP=1 CPU="$cpu_tcg" FLAVOUR=release APPEND="$b spbench.tag=bstock1"
	boot bbatched ICOUNT=1 SMP=1 CPU="$cpu_tcg" FLAVOUR="$bflavour" APPEND="$b spbench.tag=bbatched"
	boot bstock2 ICOUNT=1 SMP=1 CPU="$cpu_tcg" FLAVOUR=release APPEND="$b spbench.tag=bstock2"
}
batched_report() {
	local date
	date=$(date -u +%F)
	python3 scripts/bench-report.py --batched "$logs/bstock1.log" "$logs/bbatched.log" \
		--batched-repeat "$logs/bstock2.log" --batched-repeat-of stock \
		--out "$results/$date-batched" \
		--meta platform="QEMU $(qemu-system-x86_64 --version | head -1 | sed 's/.*version //') TCG -icount shift=0, 1 vCPU, CPU $cpu_tcg, $append_common; host $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) CPUs" \
		--meta method="three boots of scripts/guest.sh bench with spbench.sweep=batched spbench.volume=$volume spbench.pvolume=$pvolume spbench.reps=$reps (make bench, scripts/bench.sh): the release kernel, the $bflavour kernel, the release kernel again" \
		--meta commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
		--meta batched_flavour="$bflavour" \
		--meta sweep_name="volume $volume/$pvolume MiB, $reps rounds${LIVE_TEXT:+, live text $LIVE_TEXT MiB}"
}
if [ "${LINE:-}" = batched ]; then
	batched_boots
	batched_report
	echo "bench: $(($(date +%s) - t_start)) s in all"
	exit 0
fi

boots=()
if [ "${ACCEL:-tcg}" = kvm ]; then
	boot kvm ACCEL=kvm CPU="${CPU:-host}" SMP="${SMP:-2}" \
		APPEND="$append_common spbench.sweep=$sweep spbench.volume=$volume spbench.pvolume=$pvolume spbench.reps=$wall_reps spbench.tag=kvm"
	boots+=(--kvm "$logs/kvm.log")
else
	# One vCPU: with two, QEMU's round-robin vCPU scheduling is kicked by
	# host-timed events and the counts wander by up to a few percent.
	for i in 1 2; do
		boot "icount$i" ICOUNT=1 SMP=1 CPU="$cpu_tcg" \
			APPEND="$append_common spbench.sweep=$sweep spbench.volume=$volume spbench.pvolume=$pvolume spbench.reps=$reps spbench.tag=icount$i"
	done
	boots+=(--icount "$logs/icount1.log" "$logs/icount2.log")
	# Plain TCG follows the host clock; PIT calibration of the TSC fails
	# on a loaded host, so give the guest the host's TSC rate.
	khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
	boot wall SMP=2 CPU="$cpu_tcg" \
		APPEND="$append_common tsc_early_khz=$khz spbench.sweep=wall spbench.volume=$volume spbench.pvolume=$pvolume spbench.reps=$wall_reps spbench.tag=wall"
	boots+=(--wall "$logs/wall.log")
fi

date=$(date -u +%F)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- src Kbuild 2>/dev/null || commit="$commit+dirty"
python3 scripts/bench-report.py "${boots[@]}" \
	--out "$results/$date" \
	--meta host_cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
	--meta host_cpus="$(nproc)" \
	--meta host_kernel="$(uname -r)" \
	--meta qemu="$(qemu-system-x86_64 --version | head -1)" \
	--meta commit="$commit" \
	--meta cpu_tcg="$([ "${ACCEL:-tcg}" = kvm ] && echo "${CPU:-host}" || echo "$cpu_tcg")" \
	--meta sweep="$sweep" --meta flavour="$FLAVOUR" \
	--meta volume_mib="$volume" --meta pvolume_mib="$pvolume" \
	--meta reps="$reps" --meta wall_reps="$wall_reps" \
	--meta durations="$(tr '\n' ' ' <"$logs/durations")" \
	--meta total_seconds="$(($(date +%s) - t_start))"
if [ "$batched" != 0 ]; then
	batched_boots
	batched_report
fi
echo "bench: $(($(date +%s) - t_start)) s in all; report: ${results#"$top"/}/$date.md"
