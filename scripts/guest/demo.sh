#!/bin/sh
# make demo: splice from trace with real clients and compare with the copy path.
d=/sys/kernel/seqsplice
echo "== /sys/kernel/seqsplice"
ls -l $d
echo "== first records of trace (pv splices into the pipe)"
pv -q $d/trace | head -3
echo "== 1 MiB through a 256-slot pipe: pv (splice) on trace and on trace_copy"
echo 10486 > $d/record_count
pv -q $d/trace | cat > /tmp/gift
pv -q $d/trace_copy | cat > /tmp/copy
ls -l /tmp/gift /tmp/copy
if cmp /tmp/gift /tmp/copy; then echo "identical: trace == trace_copy"; else echo "DIFFERENT"; exit 1; fi
echo "== busybox cat (sendfile) of trace"
cat $d/trace | md5sum
md5sum /tmp/copy
echo "== stats"
cat $d/stats
