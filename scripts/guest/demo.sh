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
echo "== stats"
cat $d/stats
