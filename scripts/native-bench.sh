#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make bench NATIVE=1: the benchmark sweep on the *running* kernel (a
# Rust-enabled 6.12 machine, bare metal or a KVM guest), no QEMU, no
# kernel cache.  As root:
#   1. build seqsplice.ko against KDIR (default /lib/modules/$(uname -r)/build)
#      with the toolchain that kernel was built with, the consumer line's C
#      seq_file (tests/consumer/seqsplice_bench.c, not with --build-only)
#      into build/consumer/native, and spbench;
#   2. insmod it and mount its filesystem at /sys/kernel/seqsplice (as the
#      guest's /init does), unless it is already loaded and mounted, then
#      seqsplice_bench.ko when there is one (BENCH_KO=path; without it the
#      sweep's consumer paths are left out);
#   3. spbench env, spbench --smoke (every path's bytes checked), then the
#      sweep of scripts/guest/sweep.sh (the one make bench runs under QEMU):
#      one spbench process per path and round, rounds interleaved (ABAB),
#      each under `perf stat -e cycles,instructions` counting only its
#      timed segment when perf and the PMU work ("pmu unavailable"
#      otherwise: recorded, never fatal); then, once, the sweep's live line
#      (sweep.sh sweep_live): spbench capture (sched_switch/sched_wakeup
#      in ftrace and in the module at once, LIVE_TEXT MiB of text), the
#      live runs (ftrace's trace, the module's events and events_copy, each
#      whole per run) with the same per-run discipline, spbench uncapture
#      (also on failure or interrupt: ftrace gets its settings back); no
#      ftrace or a refused capture: the live line's skip lines, with the
#      reason, and the rest goes on;
#   4. check every BENCH line, unmount and unload what it loaded, and
#      write bench/results/<date>-hardware.md and .json
#      (scripts/bench-report.py --hardware, with the platform: kernel
#      release, CPU model, bare metal or hypervisor).
#
#   scripts/native-bench.sh [--no-build] [--ko PATH] [--spbench PATH]
#   scripts/native-bench.sh --build-only
#       step 1's module build alone, no root (make NATIVE=1 runs this)
#   scripts/native-bench.sh --smoke [--ko PATH] [--spbench PATH]
#       the tiny sweep (two configurations, five paths, 1 MiB, two rounds)
#       and a live line on a 1 MiB capture (two sizes, two rounds), no
#       build (the module and spbench must exist); prints the checked
#       BENCH lines between SEQSPLICE-NATIVE-BEGIN/END markers and, when
#       python3 is there, writes the report into a temporary directory.
#       make check runs it in the guest (scripts/guest/check.sh), whose
#       busybox has no python3: the host then reports from the serial log:
#   scripts/native-bench.sh --report-from LOG [--out DIR]
#       the lines between the markers of LOG, checked again, to
#       DIR/<date>-hardware.md and .json (no root, no module).
#
# Environment: KDIR, SWEEP (default full; see sweep.sh), VOLUME and
# PVOLUME (MiB per run, raw and printf records; default 64 and 16), REPS
# (rounds, default 5), LIVE_TEXT (MiB of the module's text the live
# line's capture records, default 64, as make bench), OUT (default
# bench/results), PERF (the perf binary; PERF=none: no counters),
# PERF_EVENTS (default cycles,instructions), RUSTC, BINDGEN, CARGO (found on PATH and, under sudo, in the invoking
# user's ~/.cargo/bin otherwise), RUN_TIMEOUT (seconds per spbench
# process, default 900).
#
# POSIX sh: the guest runs it under busybox.
set -u

here=$(cd "$(dirname "$0")" && pwd)
if [ -f "$here/guest/sweep.sh" ]; then
	top=$(dirname "$here") # scripts/ in the repository
	. "$here/guest/sweep.sh"
else
	top= # the guest's /guest, beside sweep.sh
	. "$here/sweep.sh"
fi
dir=/sys/kernel/seqsplice
tag=hardware
begin=SEQSPLICE-NATIVE-BEGIN
end=SEQSPLICE-NATIVE-END

say() { echo "native-bench: $*" >&2; }
die() {
	say "$*"
	exit 1
}

# ---- arguments
mode=full build=1 ko= spbench= report_from=
while [ $# -gt 0 ]; do
	case "$1" in
	--smoke) mode=smoke build=0 ;;
	--build-only) mode=build ;;
	--no-build) build=0 ;;
	--ko) ko=${2:?--ko needs a path} && shift ;;
	--spbench) spbench=${2:?--spbench needs a path} && shift ;;
	--report-from) mode=report report_from=${2:?--report-from needs a log} && shift ;;
	--out) OUT=${2:?--out needs a directory} && shift ;;
	*) die "unknown argument '$1' (see the head of $0)" ;;
	esac
	shift
done
: "${ko:=$top/seqsplice.ko}"
: "${spbench:=$top/tools/spbench/target/release/spbench}"

# ---- checking the BENCH lines (also what --report-from and make check use)

# validate LOG EXPECTED_RUNS NEED_PERF [COARSE [LIVE_RUNS LIVE_PATHS]]:
# exactly one env line, EXPECTED_RUNS run lines tagged "hardware" in
# spbench's exact format, each configuration, path and round once, with
# perf counts when NEED_PERF is 1; a time of 0 ns only with COARSE=1 (a
# jiffies clock, smoke mode).  The live line (LIVE_RUNS run lines planned
# over LIVE_PATHS, a comma list; none when LIVE_RUNS is 0): either one
# capture line with nothing overwritten or lost and exactly LIVE_RUNS
# mode-live run lines of those paths, each moving its capture file's full
# size, or no capture and no live run but one skip line with a reason per
# live path (no ftrace, a refused capture); EXPECTED_RUNS counts the live
# runs too.
validate() {
	awk -v want="$2" -v need_perf="$3" -v coarse="${4:-0}" -v live_want="${5:-0}" \
		-v live_paths="${6:-}" -v tag="$tag" '
	BEGIN {
		num = "[0-9]+"
		pos = "[1-9][0-9]*"
		ns = coarse == 1 ? "[0-9]+" : pos
		str = "\"[a-z0-9_.]*\""
		jstr = "\"([^\"\\\\]|\\\\.)*\""
		kv = "\"[A-Za-z0-9_.]+\":-?[0-9]+"
		run = "^BENCH \\{\"type\":\"run\",\"tag\":\"" tag "\",\"path\":\"[a-z0-9.]+\",\"method\":" str \
			",\"sink\":" str ",\"source\":" str ",\"mode\":\"(raw|printf|live)\",\"width\":" num \
			",\"buf_kb\":" num ",\"copy_kb\":" num ",\"map_mode\":" str ",\"tcp_receiver\":" str \
			",\"size\":" num ",\"pipe_bytes\":" num ",\"pipe_bufs\":(null|[0-9]+),\"cpus\":" num \
			",\"rep\":" num ",\"bytes\":" pos \
			",\"ns\":" ns ",\"calls\":" pos ",\"d\":\\{(" kv "(," kv ")*)?\\}" \
			"(,\"perf\":\\{(\"[a-z-]+\":[0-9]+(,\"[a-z-]+\":[0-9]+)*)?\\})?\\}$"
		scan = "\\{\"bytes\":" pos ",\"lines\":" pos ",\"header_lines\":" num ",\"sched_switch\":" num \
			",\"sched_wakeup\":" num "\\}"
		# spbench refuses a capture that overwrote or lost events: zeros.
		cap = "^BENCH \\{\"type\":\"capture\",\"tag\":\"" tag "\",\"target_bytes\":" pos ",\"buf_kb\":" pos \
			",\"cpus\":" pos ",\"rounds\":" pos ",\"calib_text_per_event\":[0-9]+\\.[0-9]+" \
			",\"calib_ftrace_bytes_per_event\":[0-9]+\\.[0-9]+,\"events_recorded\":" pos \
			",\"events_overruns\":0,\"events_lost\":0,\"ftrace_entries\":" num ",\"ftrace_overrun\":0" \
			",\"ftrace_dropped\":" num ",\"ftrace\":" scan ",\"events\":" scan ",\"capped\":" jstr \
			",\"ns\":" num "\\}$"
		skip = "^BENCH \\{\"type\":\"skip\",\"tag\":\"" tag "\",\"path\":\"[a-z0-9.]+\",\"reason\":\"([^\"\\\\]|\\\\.)+\"\\}$"
		nlive = split(live_paths, lp, ",")
		for (i = 1; i <= nlive; i++)
			islive[lp[i]] = 1
		bad = 0
	}
	function field(s, name) { # the number after "name":
		sub(".*\"" name "\":", "", s)
		sub(/[^0-9].*/, "", s)
		return s
	}
	function pathof(s) {
		sub(/.*"path":"/, "", s)
		sub(/".*/, "", s)
		return s
	}
	/^BENCH \{"type":"env",/ {
		envs++
		if ($0 !~ /"kernel":"Linux version [^"]*"/ || $0 !~ /"cpu_model":"/ || $0 !~ /\}$/) {
			print "native-bench: malformed env line: " substr($0, 1, 200) > "/dev/stderr"
			bad = 1
		}
		next
	}
	/^BENCH \{"type":"capture",/ {
		captures++
		if ($0 !~ cap) {
			print "native-bench: malformed capture line: " substr($0, 1, 300) > "/dev/stderr"
			bad = cap_bad = 1
			next
		}
		s = $0
		sub(/,"events":\{.*/, "", s)
		cap_ftrace = field(s, "bytes")
		s = $0
		sub(/.*,"events":\{/, "", s)
		cap_events = field(s, "bytes")
		next
	}
	# The byte check before a run of the ftrace formatter through mirror
	# or mirror_copy (a failed one fails that run, whose line is missing).
	/^BENCH \{"type":"livecheck",/ {
		if ($0 !~ /"same":true,/) {
			print "native-bench: a live byte check failed: " substr($0, 1, 300) > "/dev/stderr"
			bad = 1
		}
		next
	}
	/^BENCH \{"type":"skip",/ {
		p = pathof($0)
		if ($0 !~ skip || !(p in islive)) {
			print "native-bench: unexpected or malformed skip line: " substr($0, 1, 300) > "/dev/stderr"
			bad = 1
			next
		}
		skips++
		if (skipped[p]++) {
			print "native-bench: skip line twice: " p > "/dev/stderr"
			bad = 1
		}
		next
	}
	/^BENCH / {
		runs++
		if ($0 !~ run) {
			if (malformed++ < 3)
				print "native-bench: malformed run line: " substr($0, 1, 300) > "/dev/stderr"
			bad = 1
			next
		}
		if (need_perf == 1 && $0 !~ /,"perf":\{"[a-z-]+":[0-9]+/) {
			print "native-bench: run line without perf counts: " substr($0, 1, 200) > "/dev/stderr"
			bad = 1
		}
		p = pathof($0)
		ml = $0 ~ /"mode":"live"/
		pl = p in islive
		if (ml != pl || (ml && $0 !~ /"width":0,/)) {
			print "native-bench: a live path outside the live line, or the live line with another path: " substr($0, 1, 200) > "/dev/stderr"
			bad = 1
		} else if (pl) {
			lives++
			lbytes[lives] = field($0, "bytes")
			lpath[lives] = p
		}
		k = $0
		sub(/"rep":[0-9]+,.*/, "", k)
		sub(/.*"path":/, "", k)
		r = $0
		sub(/.*"rep":/, "", r)
		sub(/,.*/, "", r)
		if (seen[k, r]++) {
			print "native-bench: run twice: " k " round " r > "/dev/stderr"
			bad = 1
		}
		next
	}
	END {
		if (envs != 1) {
			print "native-bench: " envs + 0 " env lines, expected 1" > "/dev/stderr"
			bad = 1
		}
		if (malformed > 3)
			print "native-bench: ... " malformed " malformed run lines in all" > "/dev/stderr"
		if (runs != want) {
			print "native-bench: " runs + 0 " run lines, expected " want > "/dev/stderr"
			bad = 1
		}
		if (live_want == 0) {
			if (captures + skips + lives > 0) {
				print "native-bench: live-line lines, but no live line was run" > "/dev/stderr"
				bad = 1
			}
		} else if (captures > 1) {
			print "native-bench: " captures " capture lines, expected 1" > "/dev/stderr"
			bad = 1
		} else if (captures == 1) {
			if (lives != live_want) {
				print "native-bench: " lives + 0 " live run lines after the capture, expected " live_want > "/dev/stderr"
				bad = 1
			}
			if (skips > 0) {
				print "native-bench: skip lines beside a capture" > "/dev/stderr"
				bad = 1
			}
			for (i = 1; i <= lives && !cap_bad; i++) {
				# The ftrace formatter (trace, mirror, mirror_copy): the ftrace size.
				b = lpath[i] ~ /live(ftrace|mirror|mirrorcopy)$/ ? cap_ftrace : cap_events
				if (lbytes[i] != b) {
					print "native-bench: " lpath[i] " moved " lbytes[i] " bytes, the capture has " b > "/dev/stderr"
					bad = 1
				}
			}
		} else {
			if (lives > 0) {
				print "native-bench: " lives " live run lines without a capture line" > "/dev/stderr"
				bad = 1
			}
			for (i = 1; i <= nlive; i++)
				if (!(lp[i] in skipped)) {
					print "native-bench: no capture and no skip line for " lp[i] > "/dev/stderr"
					bad = 1
				}
		}
		exit bad
	}' "$1"
}

# report LOG META OUTPREFIX: bench-report.py --hardware, META holding one
# key=value per line.
report() {
	_rlog=$1 _rmeta=$2 _rprefix=$3
	shift 3
	while IFS= read -r _kv; do
		set -- "$@" --meta "$_kv"
	done <"$_rmeta"
	python3 "$here/bench-report.py" --hardware "$_rlog" --out "$_rprefix" "$@"
}

if [ "$mode" = report ]; then
	[ -n "$top" ] || die "--report-from needs the repository's scripts/bench-report.py"
	command -v python3 >/dev/null || die "python3 not found: the report needs it"
	w=$(mktemp -d)
	trap 'rm -rf "$w"' EXIT
	tr -d '\r' <"$report_from" | sed -n "/^$begin\$/,/^$end\$/p" >"$w/frame"
	grep -q "^$end\$" "$w/frame" || die "no $begin ... $end block in $report_from"
	[ "$(grep -c "^$begin\$" "$w/frame")" = 1 ] || die "several $begin blocks in $report_from"
	grep '^BENCH ' "$w/frame" >"$w/hardware.log"
	sed -n 's/^SEQSPLICE-NATIVE-META //p' "$w/frame" >"$w/meta"
	# A guest without git: the commit of the tree that made its initramfs.
	if grep -qx 'commit=unknown' "$w/meta" && c=$(git -C "$top" rev-parse --short HEAD 2>/dev/null); then
		sed -i "s/^commit=unknown\$/commit=$c (this tree; the log's machine had no git)/" "$w/meta"
	fi
	runs=$(sed -n 's/^runs=//p' "$w/meta")
	need_perf=$(sed -n 's/^perf_ok=//p' "$w/meta")
	coarse=$(sed -n 's/^coarse_clock=//p' "$w/meta")
	live_runs=$(sed -n 's/^live_runs=//p' "$w/meta")
	live_paths=$(sed -n 's/^live_paths=//p' "$w/meta")
	[ -n "$runs" ] || die "no runs= line in the block"
	validate "$w/hardware.log" "$runs" "${need_perf:-0}" "${coarse:-0}" "${live_runs:-0}" "$live_paths" || die "the BENCH lines in $report_from are not well-formed"
	out=${OUT:-$top/bench/results}
	mkdir -p "$out"
	report "$w/hardware.log" "$w/meta" "$out/$(date -u +%F)-hardware"
	exit $?
fi

# ---- root, platform
if [ "$mode" != build ] && [ "$(id -u)" != 0 ]; then
	die "needs root: it loads a kernel module (insmod), mounts its filesystem and counts kernel cycles; run 'sudo make bench NATIVE=1' (or this script as root)"
fi
[ "$(uname -m)" = x86_64 ] || die "x86-64 only (this is $(uname -m)): the module is built and tested there"
release=$(uname -r)
cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
if grep '^flags' /proc/cpuinfo | grep -qw hypervisor; then hv_flag=1; else hv_flag=0; fi
sdv=
command -v systemd-detect-virt >/dev/null && sdv=$(systemd-detect-virt --vm 2>/dev/null)
if [ -n "$sdv" ] && [ "$sdv" != none ]; then
	virt="hypervisor $sdv"
	virt_how="systemd-detect-virt --vm: $sdv; /proc/cpuinfo hypervisor flag: $([ $hv_flag = 1 ] && echo yes || echo no)"
elif [ $hv_flag = 1 ]; then
	virt=hypervisor
	virt_how="/proc/cpuinfo hypervisor flag; $([ -n "$sdv" ] && echo "systemd-detect-virt --vm: $sdv" || echo "no systemd-detect-virt")"
else
	virt="bare metal"
	virt_how="no hypervisor flag in /proc/cpuinfo${sdv:+; systemd-detect-virt --vm: $sdv}"
fi

# ---- build
# Tools are looked for on PATH, in ~/.cargo/bin and, under sudo, in the
# invoking user's ~/.cargo/bin (RUSTC, BINDGEN and CARGO override).
user_cargo_bin=
if [ -n "${SUDO_USER:-}" ]; then
	h=$(awk -F: -v u="$SUDO_USER" '$1 == u { print $6 }' /etc/passwd)
	[ -n "$h" ] && [ -d "$h/.cargo/bin" ] && user_cargo_bin=$h/.cargo/bin
fi
find_tool() { # name: PATH, ~/.cargo/bin, the sudo user's ~/.cargo/bin
	for c in "$(command -v "$1" 2>/dev/null)" "${HOME:-/nonexistent}/.cargo/bin/$1" \
		${user_cargo_bin:+"$user_cargo_bin/$1"}; do
		[ -n "$c" ] && [ -x "$c" ] && echo "$c" && return 0
	done
	return 1
}

build_module() {
	KDIR=${KDIR:-/lib/modules/$release/build}
	cfg=$KDIR/.config
	[ -f "$cfg" ] || die "no kernel build directory at $KDIR (no .config): install the running kernel's build tree (its headers package with the Rust metadata, or the tree it was built in) or set KDIR=/path/to/build"
	grep -qx 'CONFIG_RUST=y' "$cfg" || die "$KDIR: CONFIG_RUST is not set: seqsplice needs a Rust-enabled kernel"
	[ -f "$KDIR/Module.symvers" ] || die "$KDIR: no Module.symvers (run 'make modules' there first)"
	[ -f "$KDIR/rust/libkernel.rmeta" ] || die "$KDIR: no rust/libkernel.rmeta: this build tree lacks the kernel crate's metadata"
	krel=$(cat "$KDIR/include/config/kernel.release" 2>/dev/null)
	case "$krel" in
	6.12 | 6.12.* | 6.12-* | 6.12+*) ;;
	*) die "$KDIR is kernel '$krel': seqsplice is written against 6.12" ;;
	esac
	if [ "$mode" != build ] && [ "$krel" != "$release" ]; then
		die "$KDIR is kernel $krel but the running kernel is $release: a module built there could not be loaded"
	fi
	want=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"$/\1/p' "$cfg")
	rustc=
	seen=
	# An explicit RUSTC is the only candidate.
	if [ -n "${RUSTC:-}" ]; then
		set -- "$RUSTC"
	else
		set -- "$(command -v rustc 2>/dev/null)" /usr/bin/rustc /usr/local/bin/rustc
	fi
	for c in "$@"; do
		[ -n "$c" ] && [ -x "$c" ] || continue
		v=$("$c" --version 2>/dev/null)
		seen="$seen
  $c: $v"
		if [ "$v" = "$want" ]; then
			rustc=$c
			break
		fi
	done
	[ -n "$rustc" ] || die "the kernel was built with '$want'; the module must be built by the same rustc (E0514 otherwise), and none of these is it:$seen
set RUSTC=/path/to/that/rustc"
	bindgen=${BINDGEN:-$(find_tool bindgen)} || die "bindgen not found (the kernel's: $(sed -n 's/^CONFIG_BINDGEN_VERSION_TEXT="\(.*\)"$/\1/p' "$cfg")); 'cargo install bindgen-cli' or set BINDGEN="
	set -- RUSTC="$rustc" BINDGEN="$bindgen"
	if grep -qx 'CONFIG_CC_IS_CLANG=y' "$cfg"; then
		set -- "$@" LLVM=1
		command -v clang >/dev/null || die "the kernel was built with clang ($(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "$cfg")): install clang and lld"
	fi
	say "building seqsplice.ko against $KDIR ($krel) with $*"
	make -C "$KDIR" M="$top" "$@" modules >&2 || die "module build failed"
	# The consumer line's C seq_file, against seqsplice's symbols; not for
	# --build-only (make NATIVE=1, DKMS: a source tree without tests/).
	[ "$mode" != build ] && [ -f "$top/tests/consumer/seqsplice_bench.c" ] || return 0
	bdir=$top/build/consumer/native
	mkdir -p "$bdir" && cp "$top/tests/consumer/Kbuild" "$top/tests/consumer/seqsplice_bench.c" "$bdir/" ||
		die "cannot copy tests/consumer to $bdir"
	make -C "$KDIR" M="$bdir" "$@" SSC_MODULE=bench SEQSPLICE_INCLUDE="$top/include" \
		KBUILD_EXTRA_SYMBOLS="$top/Module.symvers" modules >&2 || die "seqsplice_bench.ko build failed"
}

build_spbench() {
	cargo=${CARGO:-$(find_tool cargo)} || die "cargo not found (spbench is a Rust program): install cargo or set CARGO="
	# A user's rustup cargo run by root needs the user's toolchains.
	if [ -n "$user_cargo_bin" ] && [ "$cargo" = "$user_cargo_bin/cargo" ]; then
		RUSTUP_HOME=${RUSTUP_HOME:-$(dirname "$user_cargo_bin")/../.rustup}
		CARGO_HOME=${CARGO_HOME:-$(dirname "$user_cargo_bin")}
		export RUSTUP_HOME CARGO_HOME
	fi
	say "building spbench with $cargo"
	(cd "$top/tools/spbench" && "$cargo" build --quiet --release) >&2 || die "spbench build failed"
}

t_start=$(date +%s)
if [ "$mode" = full ]; then
	command -v python3 >/dev/null || die "python3 not found: the report (scripts/bench-report.py) needs it"
fi
if [ "$build" = 1 ]; then
	[ -n "$top" ] || die "building needs the repository (run it from a checkout, or pass --no-build)"
	build_module
	[ "$mode" = build ] && exit 0
	build_spbench
fi
[ -x "$spbench" ] || die "spbench not found at $spbench"

# ---- work directory, cleanup
w=$(mktemp -d "${TMPDIR:-/tmp}/native-bench.XXXXXX") || die "mktemp failed"
loaded=0 mounted=0 captured=0 bench_loaded=0
cleanup() {
	# ftrace's settings back first (spbench uncapture also stops the
	# module's recording and shrinks its buffer, so before the unload).
	if [ "$captured" = 1 ]; then
		"$spbench" uncapture </dev/null >&2 ||
			say "spbench uncapture failed: ftrace may keep the capture's settings (sched_switch/sched_wakeup on, a large buffer_size_kb) until reboot; see /tmp/spbench.capture for the saved ones"
	fi
	if [ -f "$w/knobs" ]; then
		while read -r k v; do echo "$v" >"$dir/$k" || say "could not restore $k"; done <"$w/knobs"
	fi
	if [ "$mounted" = 1 ]; then
		umount "$dir" || say "umount $dir failed"
	fi
	if [ "$bench_loaded" = 1 ]; then
		rmmod seqsplice_bench || say "rmmod seqsplice_bench failed"
	fi
	if [ "$loaded" = 1 ]; then
		rmmod seqsplice || say "rmmod seqsplice failed"
	fi
	rm -rf "$w"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- load
if grep -q '^seqsplice ' /proc/modules; then
	say "seqsplice is already loaded: using it (and leaving it loaded)"
else
	[ -f "$ko" ] || die "no module at $ko"
	if command -v modinfo >/dev/null; then
		vm=$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)
		[ -z "$vm" ] || [ "$vm" = "$release" ] || die "$ko was built for $vm, the running kernel is $release"
	fi
	insmod "$ko" || die "insmod $ko failed (a kernel that enforces module signatures, e.g. under Secure Boot lockdown, refuses an unsigned out-of-tree module); the kernel said: $(dmesg 2>/dev/null | tail -3)"
	loaded=1
fi
if ! awk -v d="$dir" '$2 == d && $3 == "seqsplice" { f = 1 } END { exit !f }' /proc/mounts; then
	mount -t seqsplice nodev "$dir" || die "mount -t seqsplice nodev $dir failed"
	mounted=1
fi
# The consumer line's C seq_file (it pins seqsplice: unloaded first).
bench_ko=${BENCH_KO:-${top:+$top/build/consumer/native/seqsplice_bench.ko}}
if grep -q '^seqsplice_bench ' /proc/modules; then
	say "seqsplice_bench is already loaded: using it (and leaving it loaded)"
elif [ -n "$bench_ko" ] && [ -f "$bench_ko" ]; then
	insmod "$bench_ko" || die "insmod $bench_ko failed: $(dmesg 2>/dev/null | tail -3)"
	bench_loaded=1
fi

# ---- perf
events=${PERF_EVENTS:-cycles,instructions}
perf=${PERF:-perf}
perf_ok=0
to=
command -v timeout >/dev/null && to="timeout ${RUN_TIMEOUT:-900}"
# perf_counts CSV: the counts of perf stat -x, as "name":N pairs (hybrid
# CPUs' cpu_core/cycles/ and cpu_atom/cycles/ summed; counts that are not
# numbers, <not supported> or <not counted>, left out).
perf_counts() {
	awk -F, -v want="$events" '
	/^#/ || NF < 3 { next }
	{
		e = $3
		if (split(e, a, "/") >= 2) e = a[2]
		sub(/:.*/, "", e)
		if ($1 ~ /^[0-9]+(\.[0-9]+)?$/) { sum[e] += $1; got[e] = 1 }
	}
	END {
		n = split(want, w, ",")
		s = ""
		for (i = 1; i <= n; i++)
			if (got[w[i]]) s = s (s == "" ? "" : ",") sprintf("\"%s\":%.0f", w[i], sum[w[i]])
		print s
	}' "$1"
}
if [ "$perf" = none ]; then
	pmu="pmu unavailable: PERF=none"
elif ! command -v "$perf" >/dev/null; then
	pmu="pmu unavailable: perf not found"
else
	mkfifo "$w/ctl" "$w/ack"
	# The same control protocol as the runs: counters on for a busy loop.
	# shellcheck disable=SC2016,SC2086 # $1, $2: the inner sh's; $to: a command and its argument
	if $to "$perf" stat -x, -o "$w/probe" -e "$events" -D -1 --control "fifo:$w/ctl,$w/ack" -- \
		sh -c 'echo enable >"$1"; read -r a <"$2"; i=0; while [ $i -lt 20000 ]; do i=$((i + 1)); done; echo disable >"$1"; read -r a <"$2"' \
		probe "$w/ctl" "$w/ack" </dev/null >/dev/null 2>"$w/probe.err"; then
		got=$(perf_counts "$w/probe")
		missing=
		for e in $(echo "$events" | tr , ' '); do
			case "$got" in *"\"$e\":"[1-9]*) ;; *) missing="$missing $e" ;; esac
		done
		if [ -z "$missing" ]; then
			perf_ok=1
			pmu="$events: perf stat around each timed segment"
		else
			pmu="pmu unavailable: perf stat counts no$missing (it says: $(grep -v '^#' "$w/probe" | grep . | awk -F, '{ printf "%s%s %s", n++ ? "; " : "", $1, $3 }'))"
		fi
	else
		pmu="pmu unavailable: perf stat failed: $(grep . "$w/probe.err" | head -1)"
	fi
	rm -f "$w/ctl" "$w/ack"
fi
perf_version=
[ "$perf_ok" = 1 ] && perf_version=$("$perf" --version 2>/dev/null)
say "$pmu"

# ---- the clock
clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)
coarse=0
case "$clocksource" in
jiffies | refined-jiffies)
	[ "$mode" = smoke ] || die "the clocksource is $clocksource (tick resolution): nothing can be timed; boot with a TSC, HPET or kvm-clock clocksource"
	# make check's TCG guest has no usable TSC: the smoke checks what the
	# runs print, not what they measure.
	coarse=1
	SPBENCH_ALLOW_JIFFIES=1
	export SPBENCH_ALLOW_JIFFIES
	say "clocksource $clocksource: the smoke's figures mean nothing"
	;;
esac

# ---- the sweep
if [ "$mode" = smoke ]; then
	sweep=tiny volume=1 pvolume=1 reps=2 live_text=1
else
	sweep=${SWEEP:-full} volume=${VOLUME:-64} pvolume=${PVOLUME:-16} reps=${REPS:-5} live_text=${LIVE_TEXT:-64}
fi
case "$live_text" in
'' | *[!0-9]* | 0) die "LIVE_TEXT=$live_text: MiB of the live line's capture, a positive number" ;;
esac
log=$w/hardware.log
sweep_list "$sweep" >"$w/sweep" || die "unknown sweep '$sweep' (see scripts/guest/sweep.sh)"
if ! grep -q '^seqsplice_bench ' /proc/modules && grep -q '\.consumer' "$w/sweep"; then
	say "no seqsplice_bench.ko: the consumer line is left out"
	# No C seq_file: the consumer paths out of every line.
	awk '{
		n = split($5, p, ",")
		s = ""
		for (i = 1; i <= n; i++)
			if (p[i] !~ /\.consumer/) s = s (s == "" ? "" : ",") p[i]
		if (s != "") print $1, $2, $3, $4, s
	}' "$w/sweep" >"$w/sweep.c" && mv "$w/sweep.c" "$w/sweep"
fi
# The live line, run once after the sweep over one capture: the sweep's
# (sweep_live), and for the smoke (tiny has none) two sizes on 1 MiB.
if [ "$mode" = smoke ]; then
	for s in 4096 65536; do
		echo "live 0 1024 $s splice.null.liveftrace,splice.null.liveevents,splice.null.liveeventscopy"
	done >"$w/live"
else
	sweep_live "$sweep" >"$w/live"
fi
# A module found loaded gets its knobs back afterwards (the runs write them).
knobs="record_mode record_width record_count buffer_size_kb copy_buffer_size_kb map_mode"
if [ "$loaded" = 0 ]; then
	for k in $knobs; do
		[ -r "$dir/$k" ] && echo "$k $(cat "$dir/$k")" >>"$w/knobs"
	done
fi
# shellcheck disable=SC2086
$to "$spbench" env >"$log" </dev/null || die "spbench env failed"
# shellcheck disable=SC2086
$to "$spbench" --smoke </dev/null >&2 || die "spbench --smoke failed: the module does not give the right bytes here"

# run_one ARG...: one `spbench ARG...` process, inside perf stat when it
# counts; its run line (with the counts) appended to the log; 1 if it
# failed or printed no run line.
run_one() {
	if [ "$perf_ok" = 1 ]; then
		rm -f "$w/ctl" "$w/ack"
		mkfifo "$w/ctl" "$w/ack"
		# shellcheck disable=SC2086 # $to is a command and its argument
		$to "$perf" stat -x, -o "$w/perf.csv" -e "$events" -D -1 --control "fifo:$w/ctl,$w/ack" -- \
			"$spbench" "$@" --perf-control "$w/ctl,$w/ack" </dev/null >"$w/run.out" 2>"$w/run.err"
	else
		# shellcheck disable=SC2086
		$to "$spbench" "$@" </dev/null >"$w/run.out" 2>"$w/run.err"
	fi
	r=$?
	line=$(grep '^BENCH {"type":"run"' "$w/run.out")
	if [ "$r" != 0 ] || [ -z "$line" ]; then
		say "spbench $* failed (exit $r):"
		cat "$w/run.err" >&2
		grep '^BENCH {"type":"skip"' "$w/run.out" >&2
		return 1
	fi
	if [ "$perf_ok" = 1 ]; then
		line="${line%?},\"perf\":{$(perf_counts "$w/perf.csv")}}"
	fi
	echo "$line" >>"$log"
	runs=$((runs + 1))
}

# paths_of P: the paths of a sweep line, space-separated ("-": all).
paths_of() {
	if [ "$1" = - ]; then "$spbench" paths </dev/null | tr '\n' ' '; else echo "$1" | tr , ' '; fi
}

rc=0 runs=0 total=0 live_total=0 live_paths=
while read -r m wd b s p; do
	for _ in $(paths_of "$p"); do total=$((total + reps)); done
done <"$w/sweep"
while read -r m wd b s p; do
	for path in $(paths_of "$p"); do
		live_total=$((live_total + reps))
		case ",$live_paths," in *",$path,"*) ;; *) live_paths=${live_paths:+$live_paths,}$path ;; esac
	done
done <"$w/live"
say "sweep $sweep: $total runs (raw ${volume} MiB, printf ${pvolume} MiB each)$([ "$live_total" -gt 0 ] && echo ", then the live line: $live_total runs over one capture of ${live_text} MiB")"
while read -r m wd b s p; do
	[ "$rc" = 0 ] || break
	p=$(paths_of "$p")
	v=$volume
	[ "$m" = printf ] && v=$pvolume
	say "mode=$m width=$wd buf=${b}K size=$s volume=${v}M reps=$reps ($runs of $total done)"
	rep=0
	while [ "$rep" -lt "$reps" ] && [ "$rc" = 0 ]; do
		for path in $p; do
			run_one run --tag "$tag" --mode "$m" --width "$wd" --buf-kb "$b" --size "$s" \
				--volume "${v}M" --reps 1 --first-rep "$rep" --paths "$path" || {
				rc=1
				break
			}
		done
		rep=$((rep + 1))
	done
done <"$w/sweep"
[ "$rc" = 0 ] || die "a run failed; no report"

# ---- the live line: one capture, its runs, ftrace's settings back
# A capture that cannot be made (no ftrace, no sched events, an overrun,
# lost events, too little memory) skips the live line: spbench's skip
# lines say why (or, if it printed none, ours), and the rest goes on.
live=none live_why=
live_skip() { # reason: a skip line per live path
	_why=$(printf '%s' "$1" | tr -d '\000-\037' | sed 's/\\/\\\\/g; s/"/\\"/g')
	for _p in $(echo "$live_paths" | tr , ' '); do
		echo "BENCH {\"type\":\"skip\",\"tag\":\"$tag\",\"path\":\"$_p\",\"reason\":\"$_why\"}"
	done >>"$log"
}
if [ "$live_total" -gt 0 ]; then
	say "live line: spbench capture --text ${live_text}M (ftrace and the module record sched_switch/sched_wakeup at once)"
	captured=1 # from here on cleanup gives ftrace its settings back
	# shellcheck disable=SC2086
	$to "$spbench" capture --tag "$tag" --text "${live_text}M" </dev/null >"$w/capture.out" 2>"$w/capture.err"
	r=$?
	cat "$w/capture.err" >&2
	cline=$(grep '^BENCH {"type":"capture"' "$w/capture.out")
	if [ "$r" = 0 ] && [ -n "$cline" ] && [ "$(echo "$cline" | wc -l)" -eq 1 ]; then
		live=run
		echo "$cline" >>"$log"
	else
		live=skipped
		grep '^BENCH {"type":"skip"' "$w/capture.out" >"$w/capture.skip"
		# spbench's own skip lines when they are one per live path.
		if [ "$(sed 's/.*"path":"\([^"]*\)".*/\1/' "$w/capture.skip" | sort -u | tr '\n' ,)" = "$(echo "$live_paths" | tr , '\n' | sort -u | tr '\n' ,)" ] &&
			[ "$(wc -l <"$w/capture.skip")" -eq "$(echo "$live_paths" | tr , '\n' | wc -l)" ]; then
			live_why=$(sed -n '1s/.*"reason":"\(.*\)"}$/\1/p' "$w/capture.skip" | sed 's/\\"/"/g; s/\\\\/\\/g')
			cat "$w/capture.skip" >>"$log"
		else
			live_why="spbench capture failed (exit $r): $(grep . "$w/capture.err" | tail -1)"
			live_skip "$live_why"
		fi
		say "live line skipped: $live_why"
		# spbench capture gives the settings back when it refuses; again,
		# in case it died before.
		if "$spbench" uncapture </dev/null >&2; then captured=0; fi
	fi
fi
if [ "$live" = run ]; then
	total=$((total + live_total))
	while read -r m wd b s p; do
		[ "$rc" = 0 ] || break
		say "live buf=${b}K size=$s reps=$reps ($runs of $total done)"
		rep=0
		while [ "$rep" -lt "$reps" ] && [ "$rc" = 0 ]; do
			for path in $(paths_of "$p"); do
				run_one run --tag "$tag" --mode live --buf-kb "$b" --size "$s" \
					--reps 1 --first-rep "$rep" --paths "$path" || {
					rc=1
					break
				}
			done
			rep=$((rep + 1))
		done
	done <"$w/live"
	[ "$rc" = 0 ] || die "a live run failed after a successful capture; no report"
	if "$spbench" uncapture </dev/null >&2; then
		captured=0
	else
		[ "$mode" = smoke ] && die "spbench uncapture failed"
		say "spbench uncapture failed: trying again on exit"
	fi
fi
cat "$dir/stats" >"$w/stats" 2>/dev/null

validate "$log" "$total" "$perf_ok" "$coarse" "$live_total" "$live_paths" || die "the BENCH lines are not well-formed; no report"
say "$runs runs, every BENCH line well-formed$([ "$live" = skipped ] && echo " (the live line skipped: $live_why)")"

commit=unknown
if [ -n "$top" ] && command -v git >/dev/null; then
	commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
	git -C "$top" diff --quiet HEAD -- src include Kbuild 2>/dev/null || commit="$commit+dirty"
fi
{
	echo "kernel_release=$release"
	echo "cpu_model=$cpu_model"
	echo "virt=$virt"
	echo "virt_how=$virt_how"
	echo "pmu=$pmu"
	[ -n "$perf_version" ] && echo "perf=$perf_version"
	echo "perf_ok=$perf_ok"
	echo "coarse_clock=$coarse"
	echo "commit=$commit"
	echo "sweep=$sweep"
	echo "volume_mib=$volume"
	echo "pvolume_mib=$pvolume"
	echo "reps=$reps"
	echo "runs=$runs"
	echo "live=$live"
	echo "live_runs=$live_total"
	echo "live_paths=$live_paths"
	echo "live_text_mib=$live_text"
	[ -n "$live_why" ] && echo "live_why=$live_why"
	echo "host_cpus=$(nproc 2>/dev/null || echo '?')"
	echo "total_seconds=$(($(date +%s) - t_start))"
} >"$w/meta"

if [ "$mode" = smoke ]; then
	# The checked lines and the platform, for a host-side report
	# (--report-from) where this machine has no python3.
	echo "$begin"
	sed 's/^/SEQSPLICE-NATIVE-META /' "$w/meta"
	cat "$log"
	echo "$end"
	if command -v python3 >/dev/null && [ -n "$top" ]; then
		report "$log" "$w/meta" "$w/$(date -u +%F)-hardware" >&2 || die "bench-report.py failed"
		grep -q '^# seqsplice benchmark, .* (hardware: ' "$w/$(date -u +%F)-hardware.md" || die "the report is not marked hardware"
		grep -q '^## Live events vs ftrace$' "$w/$(date -u +%F)-hardware.md" || [ "$live" = none ] || die "the report has no live section"
		say "smoke report written and marked hardware (removed with the work directory)"
	else
		say "no python3 here: the report is left to the host (native-bench.sh --report-from LOG)"
	fi
	exit 0
fi

out=${OUT:-$top/bench/results}
mkdir -p "$out"
prefix=$out/$(date -u +%F)-hardware
mkdir -p "$top/build/native"
cp "$log" "$w/meta" "$w/stats" "$top/build/native/" 2>/dev/null
report "$log" "$w/meta" "$prefix" || die "bench-report.py failed (the lines are kept in build/native/)"
say "$(($(date +%s) - t_start)) s in all; send back ${prefix#"$top"/}.md and ${prefix#"$top"/}.json"
