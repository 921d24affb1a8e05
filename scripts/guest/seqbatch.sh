#!/bin/sh
# seqread_test (the stock seq_file core's read() and splice(), with and
# without upstream/'s series) with the files it reads set up, in the guest,
# the module loaded and mounted:
#   seqbatch.sh
# tracefs mounted at /sys/kernel/tracing if it is not; a frozen capture in
# the top-level buffer: cleared, sched_switch and sched_wakeup on, shell
# pipelines until 400 events, a trace_marker write of 4096 bytes (a line
# wider than a page: the seq buffer of trace grows), tracing_on 0 and the
# events off again; a CPU that overran fails the step. A frozen capture
# of events for events_copy (capture.sh). The test consumer loaded for its
# stock twins (/dev/ssc_*_copy), and unloaded after: its callbacks must
# have seen the right m->file, m->op and m->private. tracing_on,
# current_tracer and the events' enable are put back as found.
t=/sys/kernel/tracing
ko=/consumer/seqsplice_consumer.ko
bad=/sys/module/seqsplice_consumer/parameters/bad
[ -e $t/trace ] || mount -t tracefs nodev $t || exit 1
on=$(cat $t/tracing_on)
tracer=$(cat $t/current_tracer)
sw=$(cat $t/events/sched/sched_switch/enable)
wk=$(cat $t/events/sched/sched_wakeup/enable)
entries() { cat $t/per_cpu/cpu*/stats | sed -n 's/^entries: //p' | awk '{s += $1} END {print s + 0}'; }
echo 0 >$t/tracing_on
echo nop >$t/current_tracer
: >$t/trace
echo 1 >$t/events/sched/sched_switch/enable
echo 1 >$t/events/sched/sched_wakeup/enable
echo 1 >$t/tracing_on
i=0
while [ "$(entries)" -lt 400 ] && [ $i -lt 200 ]; do
	echo x | cat >/dev/null
	i=$((i + 1))
done
head -c 4096 /dev/zero | tr '\0' M >/tmp/seqbatch.marker
dd if=/tmp/seqbatch.marker of=$t/trace_marker bs=4096 count=1 2>/dev/null
rm -f /tmp/seqbatch.marker
echo x | cat >/dev/null
echo 0 >$t/tracing_on
echo 0 >$t/events/sched/sched_switch/enable
echo 0 >$t/events/sched/sched_wakeup/enable
rc=0
if cat $t/per_cpu/cpu*/stats | grep '^overrun: ' | grep -qv '^overrun: 0$'; then
	echo "seqbatch: a CPU's ftrace buffer overran: the capture is not reproducible"
	rc=1
fi
echo "seqbatch: ftrace capture: $i rounds, $(wc -c <$t/trace) bytes"
/guest/capture.sh 4000 || rc=1
if ! grep -q '^seqsplice_consumer ' /proc/modules; then
	insmod $ko || {
		echo "seqbatch: insmod $ko failed"
		rc=1
	}
fi
[ $rc = 0 ] && { /tests/seqread_test || rc=1; }
if grep -q '^seqsplice_consumer ' /proc/modules; then
	n=$(cat $bad)
	if [ "$n" != 0 ]; then
		echo "seqbatch: the consumer's callbacks saw $n wrong m->file, m->op or m->private"
		rc=1
	fi
	rmmod seqsplice_consumer || rc=1
fi
echo "$sw" >$t/events/sched/sched_switch/enable
echo "$wk" >$t/events/sched/sched_wakeup/enable
echo "$tracer" >$t/current_tracer
echo "$on" >$t/tracing_on
exit $rc
