#!/bin/sh
# make bench, guest side: run the spbench sweep and print one
# `BENCH {json}` line per timed run on the console for
# scripts/bench-report.py.  The host picks the sweep with kernel command
# line words (APPEND): spbench.sweep=full|short|smoke|wall,
# spbench.volume=MiB per run for raw records, spbench.pvolume=MiB per run
# for printf records, spbench.reps=
# rounds (each round runs every path once: ABAB), spbench.tag=name.
t=/tools/spbench
arg() { sed -n "s/.*spbench\.$1=\([A-Za-z0-9_.-]*\).*/\1/p" /proc/cmdline; }
sweep=$(arg sweep)
volume=$(arg volume)
pvolume=$(arg pvolume)
reps=$(arg reps)
tag=$(arg tag)
: "${sweep:=full}" "${volume:=8}" "${pvolume:=8}" "${reps:=2}" "${tag:=$sweep}"

[ -x $t ] || {
	echo "bench: $t missing (scripts/bench.sh builds it)"
	exit 1
}
# Refuses a jiffies clocksource; prints the guest platform.
$t env || exit 1
$t --smoke || exit 1

rc=0
run() { # mode width buf_kb size [extra args]
	m=$1 w=$2 b=$3 s=$4
	shift 4
	v=$volume
	[ "$m" = printf ] && v=$pvolume
	echo "bench: mode=$m width=$w buf=${b}K size=$s volume=${v}M reps=$reps" >&2
	$t run --tag "$tag" --mode "$m" --width "$w" --buf-kb "$b" --size "$s" \
		--volume "${v}M" --reps "$reps" "$@" || rc=1
}

sizes="4096 16384 65536 262144 1048576"
case "$sweep" in
full)
	for m in raw printf; do
		for b in 64 1024; do
			for s in $sizes; do run $m 100 $b $s; done
		done
	done
	# The extra line: page-sized records.
	for m in raw printf; do
		for s in 65536 1048576; do run $m 4096 1024 $s; done
	done
	;;
short)
	for s in 4096 65536 1048576; do run raw 100 1024 $s; done
	run printf 100 64 65536
	;;
wall)
	# Plain TCG: wall-clock spread of the splice paths (reps >= 5).
	for m in raw printf; do
		for s in 4096 65536 1048576; do
			# The three map modes too: only this boot has a second CPU,
			# so only here do kernel TLB flushes send IPIs.
			run $m 100 1024 $s --paths splice.null.trace,splice.null.tracevmap,splice.null.tracedirect,splice.null.copy4,splice.null.copyeq,splice.piperead.trace,splice.piperead.copy4,splice.tcp.trace,splice.tcp.copy4,read.trace,read.copy4,seek.copy4,vmsplice.null.user
		done
	done
	;;
quick)
	# A development check of the headline ratios (one boot, a minute).
	for s in 4096 65536 1048576; do
		run raw 100 1024 $s --paths splice.null.trace,splice.null.traceops,splice.null.copyeq,read.trace,read.copyeq,seek.copy4
	done
	;;
smoke) ;;
*)
	echo "bench: unknown sweep '$sweep'"
	exit 1
	;;
esac
cat /sys/kernel/seqsplice/stats >&2
exit $rc
