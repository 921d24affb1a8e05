#!/bin/sh
# ssfuzz on mirror (ftrace's own trace through the engine) against a
# snapshot of mirror_copy (the same table through the stock seq_file
# core), over a frozen ftrace capture, in the guest, the module loaded and
# mounted:
#   mirror.sh fuzz OPS [MIN_EACH]
# The capture, in the top-level buffer: tracefs mounted at
# /sys/kernel/tracing if it is not, the buffer cleared, sched_switch and
# sched_wakeup on, shell pipelines (fork, exec, exit) until 400 events, two
# trace_marker writes: 3900 bytes (a line of about 3970, most of a page:
# direct fills move it to the next page, a C table's restart) and 4096
# (ftrace keeps what fits its largest event, about 4050: a line wider than
# a page; dd writes the rest as a third, short one), then tracing_on 0 and
# the events off again (nothing changes saved_cmdlines either). A CPU that
# overran fails the step (ftrace's output after an overrun is not
# reproducible). mirror_path is set to the default. After the run
# tracing_on, current_tracer and the two events' enable are put back as
# found (the buffer keeps the capture), mirror_path is the default.
#
# buffer_size_kb stays 1024 (ssfuzz --buffer-kb; the other knobs are
# random): mirror_copy is then an exact oracle, its seq buffer never
# overflows. With a smaller one the stock core is wrong on ftrace's own
# trace after a seek: s_show() keeps a line that overflowed the seq buffer
# in iter->seq for the same position, s_start() at another position does
# not clear it, and it comes out again in front of the next line
# (kernel/trace/trace.c; ftrace's trace with its one-page buffer does it
# too after read(4096) and lseek(0)).
d=/sys/kernel/seqsplice
[ "$1" = fuzz ] && [ -n "$2" ] || {
	echo "usage: mirror.sh fuzz OPS [MIN_EACH]"
	exit 2
}
ops=$2
min=${3:-0}
# shellcheck source=scripts/guest/ftrace_lib.sh
. /guest/ftrace_lib.sh
ftrace_record_sched 400
# 3900 bytes: a line of about 3970, most of a page; 4096: ftrace keeps what
# fits its largest event, a line wider than a page (dd writes the rest as
# a third, short one).
ftrace_marker 3900
ftrace_marker 4096
rc=0
ftrace_freeze mirror || rc=1
if ! awk 'length($0) > 3900 && length($0) < 4096 { n++ } length($0) > 4096 { w++ } END { exit !(n && w) }' $t/trace; then
	echo "mirror: the capture lacks a line of 3901 to 4095 bytes or one wider than a page (the markers)"
	rc=1
fi
echo $t/trace >$d/mirror_path || rc=1
echo "mirror: capture of $ftrace_rounds rounds, $(ftrace_entries) events, $(wc -c <$t/trace) bytes"
if [ $rc = 0 ]; then
	/tools/ssfuzz --ops "$ops" --min-each "$min" --buffer-kb 1024 \
		--gift-path $d/mirror --copy-path $d/mirror_copy </dev/null || rc=1
fi
ftrace_restore
echo $t/trace >$d/mirror_path
exit $rc
