#!/usr/bin/env bash
# make check's guest part: the check boot of the release kernel and of the
# debug kernel side by side (most steps keep one vCPU busy, so two guests
# share the host's two cores better than one after the other), each step's
# result shown as it ends; the batched kernel's short check boot (upstream/'s
# seq_file series) after the release one, in the time the debug boot takes
# longer; then the native report from the release log, and the table of
# every step's time on the three kernels.  Fails if any boot, or the
# report, fails; prints the table either way.
#   scripts/check-guests.sh
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
start=$(date +%s)
guest() { # flavour
	FLAVOUR=$1 scripts/guest.sh check || {
		echo "check: the $1 kernel's guest check failed (build/guest-check-$1/serial.log)"
		return 1
	}
}
(
	rc=0
	guest release || rc=1
	guest batched || rc=1
	exit $rc
) &
release=$!
guest debug &
debug=$!
rc=0
wait $release || rc=1
wait $debug || rc=1
tests/native/run.sh build/guest-check-release/serial.log || rc=1
echo "check: guest steps, seconds (the boots took $(($(date +%s) - start)) s: release then batched, beside debug)"
scripts/step-table.sh release=build/guest-check-release/serial.log \
	debug=build/guest-check-debug/serial.log \
	batched=build/guest-check-batched/serial.log || rc=1
exit $rc
