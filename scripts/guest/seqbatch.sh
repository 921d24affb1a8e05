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
ko=/consumer/seqsplice_consumer.ko
bad=/sys/module/seqsplice_consumer/parameters/bad
# shellcheck source=scripts/guest/ftrace_lib.sh
. /guest/ftrace_lib.sh
ftrace_record_sched 400
# A line wider than a page: the seq buffer of trace grows.
ftrace_marker 4096
rc=0
ftrace_freeze seqbatch || rc=1
echo "seqbatch: ftrace capture: $ftrace_rounds rounds, $(wc -c <$t/trace) bytes"
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
ftrace_restore
exit $rc
