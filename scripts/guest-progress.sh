#!/usr/bin/env bash
# Progress of a guest run, from its serial output on stdin: one line per
# step as it ends (scripts/guest/check.sh's SEQSPLICE-STEP lines), with the
# TAP results it printed and its time, and any kernel splat the moment it
# appears.  The verdict is scripts/parse-log.sh's, on the whole log.
#   qemu ... | tee serial.log | scripts/guest-progress.sh LABEL [WALLFILE]
# The times shown are the host's wall clock between one step's end and the
# previous one's (the guest's own clock under TCG is jiffies-based and runs
# fast); WALLFILE gets a line "name seconds" per step, and "boot seconds"
# for the time until the guest's /init started (scripts/step-table.sh).
# PROGRESS_CLOCK=guest shows the guest's own seconds instead (the tests of
# this script, which need exact output).
# (bash, line by line: Debian's awk, mawk, reads a pipe in blocks.)
set -uo pipefail
label=${1:-guest}
wallfile=${2:-/dev/null}
: >"$wallfile"
since() { # start: seconds from it to now, one decimal
	local now=${EPOCHREALTIME/,/.}
	awk -v a="$1" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}
last=${EPOCHREALTIME/,/.}
splat='(BUG:|WARNING:|Oops|UBSAN:|Kernel panic|soft lockup|blocked for more than|detected stall)'
ok=0
nok=0
first=
while IFS= read -r line || [ -n "$line" ]; do
	line=${line%$'\r'}
	case "$line" in
	"ok "[0-9]*) ok=$((ok + 1)) ;;
	"not ok "[0-9]*)
		nok=$((nok + 1))
		[ -n "$first" ] || first=$line
		;;
	"SEQSPLICE-STEP "*)
		name= rc= sec=
		for f in $line; do
			case "$f" in
			name=*) name=${f#name=} ;;
			rc=*) rc=${f#rc=} ;;
			seconds=*) sec=${f#seconds=} ;;
			esac
		done
		verdict=FAILED
		[ "$rc" = 0 ] && [ "$nok" = 0 ] && verdict=ok
		tap=
		((ok + nok)) && tap=" ($ok ok, $nok not ok)"
		wall=$(since "$last")
		last=${EPOCHREALTIME/,/.}
		[ "${PROGRESS_CLOCK:-host}" = guest ] && wall=$sec
		echo "$name $wall" >>"$wallfile"
		printf 'guest %s: %-24s %-6s %7.1f s%s\n' "$label" "$name" "$verdict" "$wall" "$tap"
		[ -z "$first" ] || printf 'guest %s:   first failure: %s\n' "$label" "$first"
		ok=0 nok=0 first=
		;;
	"SEQSPLICE-GUEST-START "*)
		echo "boot $(since "$last")" >>"$wallfile"
		last=${EPOCHREALTIME/,/.}
		;;
	"SEQSPLICE-GUEST-TIME "*) printf 'guest %s: all steps done, %s\n' "$label" "${line#SEQSPLICE-GUEST-TIME }" ;;
	"# "*) ;;
	*)
		if [[ $line =~ $splat ]]; then
			printf 'guest %s: kernel: %s\n' "$label" "$line"
		fi
		;;
	esac
done
