#!/bin/sh
# scripts/guest.sh only: just the steps named on the kernel command line,
# in that order, on the module as init loaded it, judged like check
# (scripts/parse-log.sh: every TAP line, no splat):
#   APPEND="seqsplice.only=consumer,consumer-fuzz" scripts/guest.sh only
#   FLAVOUR=debug APPEND="seqsplice.only=splice seqsplice.map_mode=vmap" \
#	scripts/guest.sh only
# NAME is
#   consumer        consumer_test (scripts/guest/consumer.sh test)
#   consumer-fuzz   ssfuzz on the consumer's check table, seqsplice.ops=N
#                   operations (release 4000, debug 1000, every kind of call
#                   at least 5 times), as check runs it
#   mirror-fuzz     ssfuzz on mirror against mirror_copy over a frozen
#                   ftrace capture (scripts/guest/mirror.sh), seqsplice.ops=N
#                   operations as above ("mirror" is mirror_test)
#   <suite>         /tests/<suite>_test (read_seek, splice, ..., events:
#                   give capture first), in seqsplice.map_mode=MODE (auto)
#   <script>        /guest/<script>.sh (leak, capture, memcg ...; events.sh:
#                   a name with a suite of its own needs the .sh; seqbatch:
#                   seqread_test with its files set up, as the batched
#                   kernel's check runs it)
# Each step prints a TAP line and a SEQSPLICE-STEP line as in check.sh.
cd /tests || exit 1
cmdline=$(cat /proc/cmdline)
arg() { echo "$cmdline" | sed -n "s/.*seqsplice\.$1=\([^ ]*\).*/\1/p"; }
flavour=$(arg flavour)
only=$(arg only)
map=$(arg map_mode)
ops=$(arg ops)
[ -n "$ops" ] || { [ "$flavour" = debug ] && ops=1000 || ops=4000; }
[ -n "$map" ] && export SEQSPLICE_MAP_MODE=$map
if [ -z "$only" ]; then
	echo "only: no steps (seqsplice.only=NAME[,NAME...] on the kernel command line)"
	exit 1
fi
echo "SEQSPLICE-PLAN plan=only flavour=$flavour steps=$only map_mode=${map:-auto}"
n=0
rc=0
for name in $(echo "$only" | tr ',' ' '); do
	case "$name" in
	consumer) set -- /guest/consumer.sh test ;;
	consumer-fuzz) set -- /guest/consumer.sh fuzz check "$ops" 5 ;;
	mirror-fuzz) set -- /guest/mirror.sh fuzz "$ops" 5 ;;
	*.sh) set -- "/guest/$name" ;;
	*)
		if [ -x "/tests/${name}_test" ]; then
			set -- "/tests/${name}_test"
		elif [ -x "/guest/$name.sh" ]; then
			set -- "/guest/$name.sh"
		else
			echo "only: no step '$name'"
			set -- false
		fi
		;;
	esac
	n=$((n + 1))
	s=$(cut -d' ' -f1 /proc/uptime)
	"$@"
	r=$?
	if [ $r = 0 ]; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
		rc=1
	fi
	echo "SEQSPLICE-STEP name=$name rc=$r seconds=$(awk -v s="$s" '{print $1 - s}' /proc/uptime)"
done
echo "1..$n"
exit $rc
