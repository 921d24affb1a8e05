#!/usr/bin/env bash
# make check, after each guest check: the guest ran make bench NATIVE=1's
# driver in smoke mode (scripts/guest/check.sh, TAP 6) and printed its
# checked BENCH lines and platform between SEQSPLICE-NATIVE markers; the
# guest has no python3, so the report is made here, as
# `scripts/native-bench.sh --report-from` makes it, and must be marked
# hardware.  Then the same step must refuse a damaged block.
#   tests/native/run.sh SERIAL_LOG
set -euo pipefail
log=${1:?usage: tests/native/run.sh SERIAL_LOG}
top=$(cd "$(dirname "$0")/../.." && pwd)
nb=$top/scripts/native-bench.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/common/tap.sh
. "$top/tests/common/tap.sh"
refused() { ! "$@"; }

tr -d '\r' <"$log" | sed -n '/^SEQSPLICE-NATIVE-BEGIN$/,/^SEQSPLICE-NATIVE-END$/p' >"$tmp/frame"
check "the guest log has a SEQSPLICE-NATIVE block" grep -q '^SEQSPLICE-NATIVE-END$' "$tmp/frame"
check "native-bench.sh --report-from makes the report" "$nb" --report-from "$log" --out "$tmp/r"
md=$(ls "$tmp"/r/*-hardware.md 2>/dev/null | head -1)
js=${md%.md}.json
check "it is <date>-hardware.md and .json" test -f "$md" -a -f "$js"
check "its title marks it hardware, bare metal or hypervisor" \
	grep -qE '^# seqsplice benchmark, [0-9]{4}-[0-9]{2}-[0-9]{2} \(hardware: (bare metal|hypervisor)' "$md"
check "its platform names the kernel release (6.12) and the CPU" \
	bash -c "grep -qE '^\\| kernel release \\| 6\\.12' '$md' && grep -qE '^\\| CPU \\| [^?]' '$md'"
runs=$(sed -n 's/^SEQSPLICE-NATIVE-META runs=//p' "$tmp/frame")
check "the json is kind hardware with every one of the guest's $runs runs, each tagged hardware" \
	python3 -c "
import json, sys
j = json.load(open('$js'))
runs = j['runs']['hardware']
assert j['kind'] == 'hardware', j['kind']
assert len(runs) == int('$runs') > 0, (len(runs), '$runs')
assert all(r['tag'] == 'hardware' and r['bytes'] > 0 and r['ns'] >= 0 for r in runs)
assert j['meta']['pmu'], 'no pmu line'
"
check "the counters line says what perf gave (here: pmu unavailable, or the events)" \
	grep -qE '^\| cycles, instructions \| (pmu unavailable: |[a-z-]+,[a-z-]+: perf stat)' "$md"

# The same step refuses a damaged block.
damage() { # name, sed program over the block
	{
		echo "noise before"
		sed "$2" "$tmp/frame"
	} >"$tmp/$1.log"
	check "--report-from refuses a block with $1" refused "$nb" --report-from "$tmp/$1.log" --out "$tmp/$1"
}
damage "a run line missing" '0,/^BENCH {"type":"run"/{/^BENCH {"type":"run"/d}'
damage "a run line cut short" '0,/^BENCH {"type":"run"/s/,"ns":[0-9]*//'
damage "a run repeated" '/^BENCH {"type":"run"/{p;q}'
damage "no env line" '/^BENCH {"type":"env"/d'
damage "no end marker" '/^SEQSPLICE-NATIVE-END$/d'
echo "1..$n"
exit $bad
