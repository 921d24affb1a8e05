#!/usr/bin/env bash
# The runner's own failure detection: scripts/parse-log.sh must accept a
# clean log and reject every kind of bad one.  Each case is a serial log
# and the verdict expected of it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
judge=$here/../../scripts/parse-log.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok='TAP version 13
1..2
ok 1 global.a
ok 2 global.b
# Totals: pass:2 fail:0 xfail:0 xpass:0 skip:0 error:0
SEQSPLICE-DMESG-BEGIN
[    1.0] seqsplice: mount with: mount -t seqsplice nodev /sys/kernel/seqsplice
SEQSPLICE-DMESG-END
SEQSPLICE-GUEST-DONE rc=0'
declare -A cases=(
	[clean]="pass|$ok"
	[not-ok]="fail|${ok/ok 2 global.b/not ok 2 global.b}"
	[skip]="fail|${ok/ok 2 global.b/ok 2 global.b # SKIP no pv}"
	[no-plan]="fail|${ok/1..2/}"
	[no-marker]="fail|${ok/SEQSPLICE-GUEST-DONE rc=0/}"
	[guest-rc]="fail|${ok/GUEST-DONE rc=0/GUEST-DONE rc=1}"
	[warning]="fail|${ok/SEQSPLICE-DMESG-END/[    2.0] WARNING: CPU: 1 PID: 70 at mm/vmalloc.c:556 vmap+0x1/0x2
SEQSPLICE-DMESG-END}"
	[kasan]="fail|${ok/SEQSPLICE-DMESG-END/[    2.0] BUG: KASAN: use-after-free in seqsplice
SEQSPLICE-DMESG-END}"
	[lockdep]="fail|${ok/SEQSPLICE-DMESG-END/[    2.0] WARNING: possible circular locking dependency detected
SEQSPLICE-DMESG-END}"
	[benign-debug-boot]="pass|${ok/SEQSPLICE-DMESG-END/[    0.0] rcu: 	RCU lockdep checking is enabled.
[    4.2] kmemleak: Kernel memory leak detector initialized (mem pool available: 11573)
[    4.3] KernelAddressSanitizer initialized (generic)
SEQSPLICE-DMESG-END}"
	[kmemleak]="fail|${ok/SEQSPLICE-DMESG-END/[   60.0] kmemleak: 2 new suspected memory leaks (see \/sys\/kernel\/debug\/kmemleak)
SEQSPLICE-DMESG-END}"
	[ubsan]="fail|${ok/SEQSPLICE-DMESG-END/[    2.0] UBSAN: array-index-out-of-bounds in src\/x.c:1:2
SEQSPLICE-DMESG-END}"
	[soft-lockup]="fail|${ok/SEQSPLICE-DMESG-END/[   40.0] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [hardening_test:91]
SEQSPLICE-DMESG-END}"
	[rcu-self-stall]="fail|${ok/SEQSPLICE-DMESG-END/[   40.0] rcu: INFO: rcu_sched self-detected stall on CPU
SEQSPLICE-DMESG-END}"
	[rcu-stall]="fail|${ok/SEQSPLICE-DMESG-END/[   40.0] rcu: INFO: rcu_sched detected stalls on CPUs\/tasks:
SEQSPLICE-DMESG-END}"
	[rcu-tasks-stall]="fail|${ok/SEQSPLICE-DMESG-END/[   40.0] INFO: rcu_tasks detected stalls on tasks:
SEQSPLICE-DMESG-END}"
	[hung-task]="fail|${ok/SEQSPLICE-DMESG-END/[  150.0] INFO: task hardening_test:92 blocked for more than 120 seconds.
SEQSPLICE-DMESG-END}"
	[alloc-tag]="fail|${ok/SEQSPLICE-DMESG-END/[    2.0] seqsplice: memory allocation(s) from the module still alive, cannot unload cleanly
SEQSPLICE-DMESG-END}"
)
bad=0
for name in "${!cases[@]}"; do
	want=${cases[$name]%%|*}
	printf '%s\n' "${cases[$name]#*|}" >"$tmp/$name.log"
	if "$judge" "$tmp/$name.log" >"$tmp/$name.out" 2>&1; then got=pass; else got=fail; fi
	if [ "$got" = "$want" ]; then
		echo "ok - parse-log $name: $got"
	else
		echo "not ok - parse-log $name: expected $want, got $got"
		cat "$tmp/$name.out"
		bad=1
	fi
done

# The progress lines and the step table, from a log with two steps (one
# with a failure) and a capture run twice.
steps='SEQSPLICE-GUEST-START mode=check
SEQSPLICE-STEP name=capture/auto rc=0 seconds=2.5
ok 1 global.a
not ok 2 global.b
SEQSPLICE-STEP name=splice/auto rc=0 seconds=10.25
SEQSPLICE-STEP name=capture/auto rc=0 seconds=1.5
ok 1 ssfuzz
SEQSPLICE-STEP name=ssfuzz/trace rc=1 seconds=3
SEQSPLICE-GUEST-TIME mode=check seconds=20.0'
printf '%s\r\n' "$steps" | tr -d '\r' | sed 's/$/\r/' >"$tmp/steps.log"
want_progress='guest x: capture/auto             ok         2.5 s
guest x: splice/auto              FAILED    10.2 s (1 ok, 1 not ok)
guest x:   first failure: not ok 2 global.b
guest x: capture/auto             ok         1.5 s
guest x: ssfuzz/trace             FAILED     3.0 s (1 ok, 0 not ok)
guest x: all steps done, mode=check seconds=20.0'
got=$(PROGRESS_CLOCK=guest "$here/../../scripts/guest-progress.sh" x "$tmp/steps.wall" <"$tmp/steps.log")
if [ "$got" = "$want_progress" ]; then
	echo "ok - guest-progress: a line per step, failures and their first not ok"
else
	echo "not ok - guest-progress: got:"
	printf '%s\n' "$got" | sed 's/^/# /'
	bad=1
fi
if [ "$(cut -d' ' -f1 "$tmp/steps.wall" | tr '\n' ' ')" = "boot capture/auto splice/auto capture/auto ssfuzz/trace " ]; then
	echo "ok - guest-progress: the wall file has the boot and every step"
else
	echo "not ok - guest-progress: wall file:"
	sed 's/^/# /' "$tmp/steps.wall"
	bad=1
fi
mkdir -p "$tmp/a" "$tmp/b"
cp "$tmp/steps.log" "$tmp/a/serial.log"
cp "$tmp/steps.log" "$tmp/b/serial.log"
echo 31 >"$tmp/b/wall"
printf '%s\n' "boot 5.5" "capture/auto 3" "splice/auto 12" "capture/auto 2" "ssfuzz/trace 4.5" \
	>"$tmp/b/steps.wall"
want_table='step                                a          b
capture/auto                      4.0        5.0
splice/auto                      10.2       12.0
ssfuzz/trace                      3.0        4.5
boot                                -        5.5
sum of steps                     17.2       27.0
guest total                      20.0          -
boot wall                           -       31.0
clock                           guest       host'
got=$("$here/../../scripts/step-table.sh" a="$tmp/a/serial.log" b="$tmp/b/serial.log")
if [ "$got" = "$want_table" ]; then
	echo "ok - step-table: steps summed per run, the host's wall file when there is one"
else
	echo "not ok - step-table: got:"
	printf '%s\n' "$got" | sed 's/^/# /'
	bad=1
fi
exit $bad
