# shellcheck shell=sh
# Sourced by the guest scripts that freeze an ftrace capture of sched
# events in the top-level buffer (mirror.sh, seqbatch.sh): tracefs mounted
# at /sys/kernel/tracing if it is not, what they change saved first and put
# back by ftrace_restore (the buffer keeps the capture).
t=/sys/kernel/tracing
[ -e $t/trace ] || mount -t tracefs nodev $t || exit 1
ftrace_on=$(cat $t/tracing_on)
ftrace_tracer=$(cat $t/current_tracer)
ftrace_sw=$(cat $t/events/sched/sched_switch/enable)
ftrace_wk=$(cat $t/events/sched/sched_wakeup/enable)

ftrace_restore() {
	echo 0 >$t/tracing_on
	echo "$ftrace_sw" >$t/events/sched/sched_switch/enable
	echo "$ftrace_wk" >$t/events/sched/sched_wakeup/enable
	echo "$ftrace_tracer" >$t/current_tracer
	echo "$ftrace_on" >$t/tracing_on
}

# Events in the buffer, all CPUs.
ftrace_entries() {
	cat $t/per_cpu/cpu*/stats | sed -n 's/^entries: //p' | awk '{s += $1} END {print s + 0}'
}

# The buffer cleared, sched_switch and sched_wakeup on, recording, and
# shell pipelines (fork, exec, exit) until MIN events (at most 200 rounds,
# their number in ftrace_rounds). Recording stays on: ftrace_freeze ends it.
ftrace_record_sched() { # MIN
	echo 0 >$t/tracing_on
	echo nop >$t/current_tracer
	: >$t/trace
	echo 1 >$t/events/sched/sched_switch/enable
	echo 1 >$t/events/sched/sched_wakeup/enable
	echo 1 >$t/tracing_on
	ftrace_rounds=0
	while [ "$(ftrace_entries)" -lt "$1" ] && [ $ftrace_rounds -lt 200 ]; do
		echo x | cat >/dev/null
		ftrace_rounds=$((ftrace_rounds + 1))
	done
}

# One write(2) of BYTES bytes of 'M' to trace_marker (dd, not a shell's
# buffered output), then one more pipeline.
ftrace_marker() { # BYTES
	head -c "$1" /dev/zero | tr '\0' M >/tmp/ftrace.marker
	dd if=/tmp/ftrace.marker of=$t/trace_marker bs="$1" count=1 2>/dev/null
	rm -f /tmp/ftrace.marker
	echo x | cat >/dev/null
}

# Recording off and the two events off again; false (with a line) if a
# CPU overran: ftrace's output after an overrun is not reproducible.
ftrace_freeze() { # NAME (for the line)
	echo 0 >$t/tracing_on
	echo 0 >$t/events/sched/sched_switch/enable
	echo 0 >$t/events/sched/sched_wakeup/enable
	if cat $t/per_cpu/cpu*/stats | grep '^overrun: ' | grep -qv '^overrun: 0$'; then
		echo "$1: a CPU's ftrace buffer overran: the capture is not reproducible"
		return 1
	fi
}
