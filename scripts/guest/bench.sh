#!/bin/sh
# make bench, guest side: run the spbench sweep and print one
# `BENCH {json}` line per timed run on the console for
# scripts/bench-report.py.  The host picks the sweep with kernel command
# line words (APPEND): spbench.sweep=full|short|wall|quick|consumer|batched|live|smoke|tiny
# (the list is sweep.sh's), spbench.volume=MiB per run for raw records,
# spbench.pvolume=MiB per run for printf records, spbench.reps=rounds (each
# round runs every path once: ABAB), spbench.tag=name,
# spbench.livetext=MiB (the live capture's text, default spbench's 64).  The sweep's live
# line (sweep_live) runs last, over one spbench capture.  The consumer
# line's C seq_file, /consumer/seqsplice_bench.ko (make consumer), is
# loaded first when the initramfs has it (its paths are skipped, with the
# reason, otherwise) and unloaded at the end: it pins seqsplice.
t=/tools/spbench
arg() { sed -n "s/.*spbench\.$1=\([A-Za-z0-9_.-]*\).*/\1/p" /proc/cmdline; }
sweep=$(arg sweep)
volume=$(arg volume)
pvolume=$(arg pvolume)
reps=$(arg reps)
tag=$(arg tag)
livetext=$(arg livetext)
: "${sweep:=full}" "${volume:=8}" "${pvolume:=8}" "${reps:=2}" "${tag:=$sweep}"

[ -x $t ] || {
	echo "bench: $t missing (scripts/bench.sh builds it)"
	exit 1
}
# Refuses a jiffies clocksource; prints the guest platform.
$t env || exit 1
bko=/consumer/seqsplice_bench.ko
if [ -f $bko ] && ! grep -q '^seqsplice_bench ' /proc/modules; then
	insmod $bko || {
		echo "bench: insmod $bko failed"
		exit 1
	}
fi
$t --smoke || exit 1

rc=0
run() { # mode width buf_kb size paths ("-": all)
	m=$1 w=$2 b=$3 s=$4 p=$5
	if [ "$m" = live ]; then
		# The whole capture per run: its files' sizes are the volume.
		echo "bench: live buf=${b}K size=$s reps=$reps" >&2
		$t run --tag "$tag" --mode live --buf-kb "$b" --size "$s" --reps "$reps" \
			--paths "$p" </dev/null || rc=1
		return
	fi
	v=$volume
	[ "$m" = printf ] && v=$pvolume
	echo "bench: mode=$m width=$w buf=${b}K size=$s volume=${v}M reps=$reps" >&2
	if [ "$p" = - ]; then set --; else set -- --paths "$p"; fi
	$t run --tag "$tag" --mode "$m" --width "$w" --buf-kb "$b" --size "$s" \
		--volume "${v}M" --reps "$reps" "$@" </dev/null || rc=1
}

# The sweep list is shared with scripts/native-bench.sh.
. /guest/sweep.sh
sweep_list "$sweep" >/tmp/sweep || {
	echo "bench: unknown sweep '$sweep'"
	exit 1
}
while read -r m w b s p; do
	run "$m" "$w" "$b" "$s" "$p"
done </tmp/sweep
# The live line, after the rest: ftrace's trace against the module's
# events and events_copy over one capture of >= 64 MiB of text (spbench
# capture prints its facts; without ftrace or the events files it prints
# skip lines instead, and so do the runs).
sweep_live "$sweep" >/tmp/live
if [ -s /tmp/live ]; then
	echo "bench: live capture" >&2
	$t capture --tag "$tag" ${livetext:+--text "${livetext}M"} </dev/null || rc=1
	while read -r m w b s p; do
		run "$m" "$w" "$b" "$s" "$p"
	done </tmp/live
	$t uncapture </dev/null || rc=1
fi
cat /sys/kernel/seqsplice/stats >&2
if grep -q '^seqsplice_bench ' /proc/modules; then
	rmmod seqsplice_bench || {
		echo "bench: rmmod seqsplice_bench failed"
		rc=1
	}
fi
exit $rc
