#!/usr/bin/env bash
# make check's guest part: the check boot of the release kernel and of the
# debug kernel side by side (most steps keep one vCPU busy, so two guests
# share the host's two cores better than one after the other), each step's
# result shown as it ends; then the native report from the release log, and
# the table of every step's time on both kernels.  Fails if either boot, or
# the report, fails; prints the table either way.
#   scripts/check-guests.sh
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
start=$(date +%s)
FLAVOUR=release scripts/guest.sh check &
release=$!
FLAVOUR=debug scripts/guest.sh check &
debug=$!
rc=0
wait $release || {
	echo "check: the release kernel's guest check failed (build/guest-check-release/serial.log)"
	rc=1
}
wait $debug || {
	echo "check: the debug kernel's guest check failed (build/guest-check-debug/serial.log)"
	rc=1
}
tests/native/run.sh build/guest-check-release/serial.log || rc=1
echo "check: guest steps, seconds (both boots took $(($(date +%s) - start)) s, side by side)"
scripts/step-table.sh release=build/guest-check-release/serial.log \
	debug=build/guest-check-debug/serial.log || rc=1
exit $rc
