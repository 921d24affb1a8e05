#!/bin/sh
# A frozen capture for the engine tests on events: N (default 300) rounds
# of a shell pipeline (fork, exec, exit: switches and wakeups on every
# CPU), recorded with the probes attached, then recording stopped, so that
# events and events_copy serve the same bytes to every reader after.
d=/sys/kernel/seqsplice
n=${1:-300}
echo 1 >$d/events_enable || exit 1
i=0
while [ $i -lt "$n" ]; do
	echo x | cat >/dev/null
	i=$((i + 1))
done
echo 0 >$d/events_enable || exit 1
lines=$(wc -l <$d/events_copy)
echo "capture: $lines events, $(wc -c <$d/events_copy) bytes"
[ "$lines" -gt 0 ]
