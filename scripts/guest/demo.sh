#!/bin/sh
# make demo: splice from trace with real clients, show the stats, compare
# with the copy path (trace_copy: stock seq_read_iter + copy_splice_read).
d=/sys/kernel/seqsplice
stat() { sed -n "s/^$1 //p" $d/stats; }
echo "== /sys/kernel/seqsplice"
ls -l $d
echo "== first records of trace (pv splices them into its output pipe)"
pv -q $d/trace | head -3
echo "== 1 MiB of records: pv (splice) on trace, then on trace_copy"
echo 10486 >$d/record_count
g0=$(stat pages_gifted)
b0=$(stat bytes_spliced)
pv -q $d/trace | cat >/tmp/gift
echo "trace: $(($(stat bytes_spliced) - b0)) bytes spliced as $(($(stat pages_gifted) - g0)) gifted pages"
g0=$(stat pages_gifted)
pv -q $d/trace_copy | cat >/tmp/copy
echo "trace_copy: copied by copy_splice_read ($(($(stat pages_gifted) - g0)) pages gifted)"
ls -l /tmp/gift /tmp/copy
if cmp /tmp/gift /tmp/copy; then echo "identical: trace == trace_copy"; else echo "DIFFERENT"; exit 1; fi
echo "== busybox cat (sendfile, which also goes through splice_read)"
cat $d/trace | md5sum
md5sum /tmp/copy
echo "== live scheduler events: ftrace and seqsplice probes on the same tracepoints"
t=/sys/kernel/tracing
[ -e $t/trace ] || mount -t tracefs nodev $t
echo 0 >$t/tracing_on
echo nop >$t/current_tracer
: >$t/trace
echo 1 >$t/events/sched/sched_switch/enable
echo 1 >$t/events/sched/sched_wakeup/enable
echo 1 >$t/tracing_on
echo 1 >$d/events_enable
i=0
while [ $i -lt 20 ]; do
	echo ping | cat >/dev/null
	i=$((i + 1))
done
echo 0 >$d/events_enable
echo 0 >$t/tracing_on
echo "events: $(stat events_recorded) recorded, $(stat events_lost) lost, $(stat events_overruns) overwritten"
echo "== events, spliced by pv (first 4 lines)"
pv -q $d/events | head -4
# The same switch in both: a line of events with its timestamp taken out,
# found in ftrace's trace the same way.
notime() { sed 's/ *[0-9]*\.[0-9]*: / <ts>: /'; }
pv -q $d/events >/tmp/events
cat $t/trace >/tmp/ftrace
line=$(grep -m1 'sched_switch: prev_comm=cat ' /tmp/events)
key=$(echo "$line" | notime)
echo "== one sched_switch, as each prints it"
echo "seqsplice: $line"
echo "ftrace:    $(notime </tmp/ftrace | grep -n -F -x -m1 -- "$key" | cut -d: -f1 | xargs -I{} sed -n '{}p' /tmp/ftrace)"
if notime </tmp/ftrace | grep -q -F -x -- "$key"; then
	echo "identical but for the timestamp"
else
	echo "NOT FOUND in ftrace's trace"
	exit 1
fi
n=$(wc -l </tmp/events)
notime </tmp/ftrace >/tmp/ftrace.nt
m=$(notime </tmp/events | grep -c -F -x -f /tmp/ftrace.nt)
echo "$m of the $n lines of events are in ftrace's trace, timestamps aside"
# The others differ in the comm column alone: ftrace prints its
# saved_cmdlines entry of the pid when the trace is read (a forked shell
# that exec'd cat since shows as cat), seqsplice the comm at the event.
nocomm() { notime | sed 's/^.*-\([0-9][0-9]* *\[[0-9]*\] \)/-\1/'; }
nocomm </tmp/ftrace >/tmp/ftrace.nc
k=$(nocomm </tmp/events | grep -c -F -x -f /tmp/ftrace.nc)
echo "$k of $n with the comm column aside too"
# What is left: an exiting task whose parent reaped it on another CPU
# between the two probes' reads of exit_state (prev_state Z in one, X in
# the other).
nocomm </tmp/events | grep -v -F -x -f /tmp/ftrace.nc | sed 's/^/not in ftrace: /'
echo "== ftrace's own trace, through seqsplice: mirror (ftrace's formatter, pages gifted)"
cat $d/mirror_path
g0=$(stat pages_gifted)
pv -q $d/mirror | cat >/tmp/mirror
echo "mirror: $(wc -c </tmp/mirror) bytes spliced by pv as $(($(stat pages_gifted) - g0)) gifted pages"
cat $t/trace >/tmp/ftrace2
if cmp /tmp/mirror /tmp/ftrace2; then
	echo "identical: pv $d/mirror == cat $t/trace"
else
	echo "DIFFERENT"
	exit 1
fi
echo 0 >$t/events/sched/sched_switch/enable
echo 0 >$t/events/sched/sched_wakeup/enable
echo "== stats"
cat $d/stats
