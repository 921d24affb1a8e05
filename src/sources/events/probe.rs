// SPDX-License-Identifier: GPL-2.0

//! What the probes on `sched_switch` and `sched_wakeup` do: write one
//! [`Entry`] each into the [`Recorder`]'s ring buffer (the probes
//! themselves, their registration and the tracepoints' lookup are
//! [`kernel_ext::tracepoint`](crate::kernel_ext::tracepoint)'s).

use core::sync::atomic::{AtomicU64, Ordering};

use kernel::prelude::*;
use kernel::sync::Arc;

use super::entry::{self, Ctx, Entry, KIND_SWITCH, KIND_WAKEUP};
use crate::kernel_ext::plain::plain_data;
use crate::kernel_ext::ring_buffer::RingBuffer;
use crate::kernel_ext::sched::{nr_cpu_ids, this_cpu};
use crate::kernel_ext::tracepoint::{ProbeCtx, SchedProbes, TaskRef};

/// The ring buffer of the events.
pub(crate) type EventBuffer = RingBuffer<Entry>;

/// A count per CPU, each on its own cache line: a probe adds to its own
/// CPU's, so no line bounces between CPUs inside `__schedule()`.
pub(crate) struct PerCpuCount {
    slots: KVVec<Slot>,
}

/// One CPU's count, alone on its cache line (`L1_CACHE_BYTES` is 64 on
/// x86-64, the only architecture built).
#[repr(align(64))]
struct Slot(AtomicU64);

impl PerCpuCount {
    fn new() -> Result<Self> {
        let n = nr_cpu_ids() as usize;
        let mut slots = KVVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            slots.push(Slot(AtomicU64::new(0)), GFP_KERNEL)?;
        }
        Ok(Self { slots })
    }

    /// Adds one on this CPU (preemption disabled: a probe).
    fn add_here(&self) {
        if let Some(s) = self.slots.get(this_cpu()) {
            s.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The total.
    pub(crate) fn sum(&self) -> u64 {
        self.slots
            .iter()
            .fold(0u64, |t, s| t.wrapping_add(s.0.load(Ordering::Relaxed)))
    }

    /// Back to 0.
    pub(crate) fn zero(&self) {
        for s in self.slots.iter() {
            s.0.store(0, Ordering::Relaxed);
        }
    }
}

/// Where the probes write: the ring buffer, and a count of what it refused.
pub(crate) struct Recorder {
    /// The events.
    pub(crate) rb: Arc<EventBuffer>,
    /// Events a probe saw but the buffer refused (recording paused by a
    /// reader, a nested write on the CPU).
    pub(crate) lost: PerCpuCount,
}

impl Recorder {
    /// A recorder with a buffer of `bytes` per CPU. May sleep.
    pub(crate) fn new(bytes: usize) -> Result<Arc<Self>> {
        let rb = Arc::new(RingBuffer::new(bytes)?, GFP_KERNEL)?;
        Ok(Arc::new(
            Self {
                rb,
                lost: PerCpuCount::new()?,
            },
            GFP_KERNEL,
        )?)
    }

    /// Events written since the buffer was last emptied: those in it and
    /// those overwritten (nothing consumes them).
    pub(crate) fn recorded(&self) -> u64 {
        // Wrapping: the ring buffer reads its counters without a lock, so a
        // sum taken while CPUs overwrite may be off, never a reason to BUG.
        self.rb.entries().wrapping_add(self.rb.overruns())
    }

    fn record(&self, e: &Entry) {
        if !self.rb.write(e) {
            self.lost.add_here();
        }
    }
}

/// An entry of `kind` with the current task's context filled in: what
/// `trace_event_buffer_reserve()` records before the event's fields.
fn current_entry(cx: &ProbeCtx<'_>, kind: u8) -> Entry {
    let s = cx.irq_state();
    let c = Ctx {
        preempt_count: s.preempt_count,
        migration_disabled: s.migration_disabled,
        irqs_disabled: s.irqs_disabled,
        need_resched: s.need_resched,
        preempt_need_resched: s.preempt_need_resched,
    };
    let (flags, preempt_count) = entry::trace_ctx(&c, cfg!(CONFIG_PREEMPTION));
    let cur = cx.current();
    Entry {
        kind,
        flags,
        preempt_count,
        pid: cur.pid(),
        comm: cur.comm(),
        ..Entry::default()
    }
}

impl SchedProbes for Recorder {
    fn sched_switch(
        &self,
        cx: &ProbeCtx<'_>,
        preempt: bool,
        prev: TaskRef<'_>,
        next: TaskRef<'_>,
        prev_state: u32,
    ) {
        let e = Entry {
            a_comm: prev.comm(),
            a_pid: prev.pid(),
            a_prio: prev.prio(),
            b_comm: next.comm(),
            b_pid: next.pid(),
            b_prio: next.prio(),
            prev_state: entry::switch_state(preempt, prev_state, prev.exit_state()),
            ..current_entry(cx, KIND_SWITCH)
        };
        self.record(&e);
    }

    fn sched_wakeup(&self, cx: &ProbeCtx<'_>, p: TaskRef<'_>) {
        let e = Entry {
            a_comm: p.comm(),
            a_pid: p.pid(),
            a_prio: p.prio(),
            target_cpu: p.cpu(),
            ..current_entry(cx, KIND_WAKEUP)
        };
        self.record(&e);
    }
}

plain_data!(Entry {
    kind: u8,
    flags: u8,
    preempt_count: u8,
    pad: u8,
    pid: i32,
    comm: [u8; entry::COMM_LEN],
    a_comm: [u8; entry::COMM_LEN],
    a_pid: i32,
    a_prio: i32,
    b_comm: [u8; entry::COMM_LEN],
    b_pid: i32,
    b_prio: i32,
    prev_state: u32,
    target_cpu: u32,
});
