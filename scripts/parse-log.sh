#!/usr/bin/env bash
# Decide a guest run from its serial log: the completion marker with rc=0,
# the TAP results (every "ok", no "not ok", no SKIP), and no kernel splat in
# the log or in the dmesg dump.  Prints "N passed, N failed" and exits 0
# only for a clean run.
#   scripts/parse-log.sh LOG [--no-tap]
set -euo pipefail
log=$1
need_tap=1
[ "${2:-}" = --no-tap ] && need_tap=0

tr -d '\r' <"$log" >"$log.clean"
clean=$log.clean
count() { awk -v re="$1" '$0 ~ re { n++ } END { print n + 0 }' "$clean"; }
pass=$(count '^ok [0-9]+ ([^#]|#[^ ]|# [^S])*$')
skip=$(count '^ok [0-9]+ .*# SKIP')
fail=$(count '^not ok [0-9]+ ')
bad=0
if ! grep -q '^SEQSPLICE-GUEST-DONE rc=0$' "$clean"; then
	echo "guest: no 'SEQSPLICE-GUEST-DONE rc=0' marker ($(grep -o 'SEQSPLICE-GUEST-DONE.*' "$clean" || echo 'guest did not finish'))"
	bad=1
fi
# Lockups count as splats: soft lockup watchdog, hung tasks, RCU stalls
# (self-detected and detected on other CPUs).
splat='(BUG:|WARNING:|Oops|UBSAN:|kmemleak: [0-9]+ new suspected|SEQSPLICE: kmemleak|possible circular locking|possible recursive locking|inconsistent lock state|INFO: possible|Kernel panic|general protection fault|still alive, cannot unload|allocated at module unload|soft lockup|hard LOCKUP|blocked for more than|detected stall|detected expedited stall)'
if grep -E "$splat" "$clean" | grep -v '^# ' >"$log.splat"; then
	echo "guest: kernel splat in the log:"
	head -20 "$log.splat"
	bad=1
fi
if [ "$need_tap" = 1 ]; then
	plan=$(count '^1\\.\\.[0-9]+$')
	if [ "$plan" = 0 ]; then
		echo "guest: no TAP plan"
		bad=1
	fi
	if [ "$skip" != 0 ]; then
		echo "guest: $skip skipped test(s) (a skip is not a pass):"
		grep -E '^ok [0-9]+ .*# SKIP' "$clean" | head
		bad=1
	fi
	if [ "$fail" != 0 ]; then
		grep -E '^not ok [0-9]+ ' "$clean" | head -20
	fi
fi
echo "$pass passed, $((fail + skip)) failed"
[ "$bad" = 0 ] && [ "$fail" = 0 ] && [ "$skip" = 0 ]
