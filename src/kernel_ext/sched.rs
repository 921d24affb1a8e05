// SPDX-License-Identifier: GPL-2.0

//! The scheduler's and RCU's calls a long loop or a probe owner makes:
//! yielding, fatal signals, grace periods, CPU numbers.
//!
//! C headers: [`include/linux/sched.h`](srctree/include/linux/sched.h),
//! [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h)

use kernel::bindings;

use crate::ffi;

/// `fatal_signal_pending(current)`.
pub(crate) fn fatal_signal_pending() -> bool {
    // SAFETY: Only reads the current task's pending signals.
    unsafe { ffi::seqsplice_fatal_signal_pending() }
}

/// `cond_resched()`: yields if another task should run (a no-op with a
/// preemptible kernel). Process context, no spinlock held (a sleep there
/// is a bug the kernel reports, not memory unsafety).
pub(crate) fn cond_resched() {
    // SAFETY: No memory is touched; the callers run in process context with
    // at most mutexes held (the seq_file's and maybe the pipe's).
    unsafe { ffi::seqsplice_cond_resched() }
}

/// `synchronize_rcu()`: waits for a grace period, after which no RCU
/// reader (nor a tracepoint probe, which runs with preemption disabled)
/// begun before the call is still running. Sleeps: process context, only
/// sleeping locks held.
pub(crate) fn synchronize_rcu() {
    // SAFETY: No arguments; waits only.
    unsafe { bindings::synchronize_rcu() }
}

/// `nr_cpu_ids`: one more than the highest possible CPU number.
pub(crate) fn nr_cpu_ids() -> u32 {
    // SAFETY: Set at boot and never changed afterwards.
    unsafe { bindings::nr_cpu_ids }
}

/// `raw_smp_processor_id()`: the CPU this runs on; stable only while the
/// caller cannot migrate (a tracepoint probe), a hint otherwise.
pub(crate) fn this_cpu() -> usize {
    // SAFETY: Reads the per-CPU CPU number.
    unsafe { ffi::seqsplice_smp_processor_id() as usize }
}
