#!/bin/sh
# make check, in the guest: the kselftest suites (TAP), then bounded
# op-sequence fuzzer runs, the benchmark's smoke test and the native
# benchmark driver's smoke mode, each one more TAP line of its own.  Each
# step prints its duration (SEQSPLICE-STEP) for the host log.
cd /tests || exit 1
step() { # name command...
	s=$(cut -d' ' -f1 /proc/uptime)
	"$@"
	r=$?
	echo "SEQSPLICE-STEP $1 seconds=$(awk -v s="$s" '{print $1 - s}' /proc/uptime)"
	return $r
}
# One kselftest binary per feature (tests/selftests/Makefile), then the
# limits; a failed suite does not stop the others (the log judge sees it).
# Every suite runs in each map mode (the default knobs they restore
# include SEQSPLICE_MAP_MODE's): the same bytes whichever path a call takes.
for mode in direct vm_map_ram vmap; do
	echo "SEQSPLICE-MAP-MODE $mode"
	export SEQSPLICE_MAP_MODE=$mode
	for suite in read_seek splice sendfile_net lifetime concurrency knobs \
		upstream_splice hardening sources events; do
		# events needs a frozen capture (lifetime_test reloads the module).
		[ "$suite" = events ] && step /guest/capture.sh 4000
		step ./${suite}_test
	done
done
unset SEQSPLICE_MAP_MODE
step ./memcg_test
# Live events: line for line against ftrace on the same tracepoint calls,
# the knobs' errnos, readers against resize and enable, enable/disable
# under load, rmmod while recording and while a reader is open.
step /guest/events.sh
# A frozen capture for the engine tests on events (the fuzzer below, and
# fault_test and the leak suite in their boots).
step /guest/capture.sh 4000
echo "TAP version 13"
echo "1..6"
if step /tools/ssfuzz --ops 100000; then
	echo "ok 1 ssfuzz_100000_ops_trace_and_trace_copy_match_the_record_stream"
else
	echo "not ok 1 ssfuzz_100000_ops_trace_and_trace_copy_match_the_record_stream"
fi
# The engine driving the records' C seq_operations table, against the same
# stream and trace_copy.
if step /tools/ssfuzz --ops 30000 --gift trace_ops; then
	echo "ok 2 ssfuzz_30000_ops_trace_ops_and_trace_copy_match_the_record_stream"
else
	echo "not ok 2 ssfuzz_30000_ops_trace_ops_and_trace_copy_match_the_record_stream"
fi
# The second source through the engine, against lines_copy and its model.
if step /tools/ssfuzz --ops 10000 --gift lines; then
	echo "ok 3 ssfuzz_10000_ops_lines_and_lines_copy_match_their_stream"
else
	echo "not ok 3 ssfuzz_10000_ops_lines_and_lines_copy_match_their_stream"
fi
# The live events through the engine, against events_copy over the capture.
if step /tools/ssfuzz --ops 20000 --gift events; then
	echo "ok 4 ssfuzz_20000_ops_events_and_events_copy_match_the_capture"
else
	echo "not ok 4 ssfuzz_20000_ops_events_and_events_copy_match_the_capture"
fi
# The benchmark's every path on a few KiB, bytes checked, so it cannot rot.
if step /tools/spbench --smoke; then
	echo "ok 5 spbench_smoke_every_benchmark_path_moves_the_right_bytes"
else
	echo "not ok 5 spbench_smoke_every_benchmark_path_moves_the_right_bytes"
fi
# make bench NATIVE=1's driver on this kernel (a Rust-enabled 6.12, as on a
# user's machine), its tiny sweep: unloaded first so that it loads, mounts,
# unmounts and unloads the module itself; it checks its BENCH lines and
# prints them between SEQSPLICE-NATIVE markers, from which the host makes
# the report and checks it is marked hardware (tests/native/run.sh: no
# python3 here).  Loaded again after for what follows.
umount /sys/kernel/seqsplice && rmmod seqsplice
if step /guest/native-bench.sh --smoke --ko /seqsplice.ko --spbench /tools/spbench; then
	echo "ok 6 native_bench_smoke_loads_runs_and_unloads_with_well_formed_bench_lines"
else
	echo "not ok 6 native_bench_smoke_loads_runs_and_unloads_with_well_formed_bench_lines"
fi
grep -q '^seqsplice ' /proc/modules || insmod /seqsplice.ko
grep -q ' /sys/kernel/seqsplice seqsplice ' /proc/mounts || mount -t seqsplice nodev /sys/kernel/seqsplice
# Debug kernel only: allocation failures injected (needs FAIL_PAGE_ALLOC).
if grep -q seqsplice.flavour=debug /proc/cmdline; then
	# The module was reloaded above: capture events again.
	step /guest/capture.sh 4000
	for mode in direct vm_map_ram vmap; do
		export SEQSPLICE_MAP_MODE=$mode
		step ./fault_test
		SEQSPLICE_SOURCE=events step ./fault_test
	done
fi
unset SEQSPLICE_MAP_MODE
