#!/bin/sh
# A frozen capture for the engine tests on events: rounds of a shell
# pipeline (fork, exec, exit: switches and wakeups on every CPU) with the
# probes attached until at least N events (default 4000) are recorded, then
# recording stopped, so that events and events_copy serve the same bytes to
# every reader after. Bounded by the event count, not the time: a slow
# (debug) kernel records more background events per round.
d=/sys/kernel/seqsplice
n=${1:-4000}
recorded() { sed -n 's/^events_recorded //p' $d/stats; }
echo 1 >$d/events_enable || exit 1
i=0
while [ "$(recorded)" -lt "$n" ] && [ $i -lt 100000 ]; do
	echo x | cat >/dev/null
	i=$((i + 1))
done
echo 0 >$d/events_enable || exit 1
lines=$(wc -l <$d/events_copy)
echo "capture: $i rounds, $lines events, $(wc -c <$d/events_copy) bytes"
[ "$lines" -ge "$n" ]
