#!/bin/sh
# The test consumer of seqsplice's exported C API (tests/consumer), in the
# guest; its modules are in /consumer (scripts/guest.sh):
#   consumer.sh test                   consumer_test: every table's API file
#                                      against the model and its stock twin
#                                      in every map mode, the lifetimes, the
#                                      namespace refusal
#   consumer.sh fuzz TABLE OPS [MIN]   ssfuzz on /dev/ssc_TABLE against a
#                                      snapshot of /dev/ssc_TABLE_copy
# The consumer is loaded first (after seqsplice, as init loads that) and
# unloaded after: it pins seqsplice, which later steps unload; the unload
# must succeed (no file left pinning it), and no callback may have seen a
# wrong m->file, m->op or m->private.
ko=/consumer/seqsplice_consumer.ko
bad=/sys/module/seqsplice_consumer/parameters/bad
rc=0
if ! grep -q '^seqsplice_consumer ' /proc/modules; then
	insmod $ko || {
		echo "consumer: insmod $ko failed"
		exit 1
	}
fi
case "$1" in
test)
	/tests/consumer_test || rc=1
	;;
fuzz)
	table=$2
	/tools/ssfuzz --ops "$3" --min-each "${4:-0}" \
		--gift-path /dev/ssc_"$table" --copy-path /dev/ssc_"$table"_copy </dev/null || rc=1
	;;
*)
	echo "usage: consumer.sh test | fuzz TABLE OPS [MIN_EACH]"
	rc=2
	;;
esac
if grep -q '^seqsplice_consumer ' /proc/modules; then
	n=$(cat $bad)
	if [ "$n" != 0 ]; then
		echo "consumer: the callbacks saw $n wrong m->file, m->op or m->private (dmesg: BAD)"
		rc=1
	fi
	rmmod seqsplice_consumer || {
		echo "consumer: rmmod seqsplice_consumer failed"
		rc=1
	}
fi
exit $rc
