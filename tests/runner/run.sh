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
exit $bad
