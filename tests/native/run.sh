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
# The live line (ftrace's trace vs events vs events_copy over one capture):
# this kernel has ftrace, so the smoke must have run it, not skipped it.
live_runs=$(sed -n 's/^SEQSPLICE-NATIVE-META live_runs=//p' "$tmp/frame")
check "the smoke ran the live line: live=run, one capture line and its ${live_runs:-no} live runs" \
	bash -c "grep -qx 'SEQSPLICE-NATIVE-META live=run' '$tmp/frame' &&
		[ \$(grep -c '^BENCH {\"type\":\"capture\",' '$tmp/frame') = 1 ] &&
		[ '${live_runs:-0}' -gt 0 ] &&
		[ \$(grep -c '^BENCH {\"type\":\"run\",.*\"mode\":\"live\"' '$tmp/frame') = '${live_runs:-0}' ]"
check "the report has Live events vs ftrace: ftrace's trace, events and events_copy at each size, and the capture" \
	python3 -c "
import json
md = open('$md').read()
sec = md.split('## Live events vs ftrace', 1)[1].split('\n## ', 1)[0]
assert '| splice size | ftrace \`trace\` | \`events\` (gift) | \`events_copy\` |' in sec, 'no live table'
assert 'Not run' not in sec, 'the live line is marked not run'
assert '| live line | run: ' in md, 'the platform table does not say the live line ran'
j = json.load(open('$js'))
live = [r for r in j['runs']['hardware'] if r['mode'] == 'live']
paths = {'splice.null.liveftrace', 'splice.null.liveevents', 'splice.null.liveeventscopy'}
assert {r['path'] for r in live} == paths, sorted({r['path'] for r in live})
rows = j['live']['ratios']['hardware']
assert rows and all(x['ftrace'] and x['events'] and x['events_copy'] for x in rows), rows
assert {x['size'] for x in rows} == {r['size'] for r in live}
assert j['live']['captures']['hardware']['events']['bytes'] > 0
"

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
# ... and a damaged live line after a successful capture.
damage "a live run line missing after the capture" '0,/"mode":"live"/{/"mode":"live"/d}'
damage "a live run line repeated" '0,/"mode":"live"/{/"mode":"live"/p}'
damage "live runs without their capture line" '/^BENCH {"type":"capture",/d'
damage "a live run that did not move the capture's bytes" '/"path":"splice.null.liveevents"/s/"bytes":\([0-9]*\)/"bytes":1\1/'
damage "a capture that lost events" '/^BENCH {"type":"capture",/s/"events_lost":0/"events_lost":5/'
damage "a skip line beside the capture" '/^BENCH {"type":"capture",/a BENCH {"type":"skip","tag":"hardware","path":"splice.null.liveftrace","reason":"x"}'
damage "a live path run as a record-stream mode" '0,/"mode":"live"/s/"mode":"live","width":0,/"mode":"raw","width":100,/'

# A machine without ftrace, or a refused capture: the live line's skip
# lines instead of its capture and runs.  That block is reported, the
# live line marked not run with the reason; without a skip line for each
# live path it is refused.
why='no capture: no ftrace: /sys/kernel/tracing/trace is missing'
skipped() { # name, extra sed program
	{
		echo "noise before"
		grep -v -e '^BENCH {"type":"capture",' -e '"mode":"live"' "$tmp/frame" |
			sed -e "s/^SEQSPLICE-NATIVE-META runs=.*/SEQSPLICE-NATIVE-META runs=$((runs - ${live_runs:-0}))/" \
				-e 's/^SEQSPLICE-NATIVE-META live=run$/SEQSPLICE-NATIVE-META live=skipped/' \
				-e "/^SEQSPLICE-NATIVE-META live=skipped\$/a SEQSPLICE-NATIVE-META live_why=$why" \
				-e '/^SEQSPLICE-NATIVE-END$/i BENCH {"type":"skip","tag":"hardware","path":"splice.null.liveftrace","reason":"'"$why"'"}' \
				-e '/^SEQSPLICE-NATIVE-END$/i BENCH {"type":"skip","tag":"hardware","path":"splice.null.liveevents","reason":"'"$why"'"}' \
				-e '/^SEQSPLICE-NATIVE-END$/i BENCH {"type":"skip","tag":"hardware","path":"splice.null.liveeventscopy","reason":"'"$why"'"}' |
			sed "$2"
	} >"$tmp/$1.log"
}
skipped skipped ''
check "--report-from reports a block whose live line was skipped" "$nb" --report-from "$tmp/skipped.log" --out "$tmp/skipped"
check "... and says the live line was not run, and why" \
	bash -c "f=\$(ls '$tmp'/skipped/*-hardware.md) && grep -qF '| live line | **not run**: $why |' \"\$f\" &&
		grep -qF -- '- splice.null.liveevents: $why' \"\$f\" && grep -qF 'Live events vs ftrace: not run ($why)' \"\$f\""
skipped "a skipped live line without a skip line for events_copy" '/"path":"splice.null.liveeventscopy","reason"/d'
check "--report-from refuses a block with a skipped live line without a skip line for events_copy" \
	refused "$nb" --report-from "$tmp/a skipped live line without a skip line for events_copy.log" --out "$tmp/skipped2"
echo "1..$n"
exit $bad
