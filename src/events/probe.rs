// SPDX-License-Identifier: GPL-2.0

//! The probes on `sched_switch` and `sched_wakeup`: found with
//! `for_each_kernel_tracepoint()`, attached with
//! `tracepoint_probe_register()` as LTTng-modules does, writing one
//! [`Entry`] each into the [`Recorder`]'s ring buffer.

use core::ffi::{c_uint, c_void, CStr};
use core::ptr;
use core::sync::atomic::{AtomicU64, Ordering};

use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::Arc;

use super::entry::{self, Ctx, Entry, COMM_LEN, KIND_SWITCH, KIND_WAKEUP};
use super::ring::RingBuffer;
use crate::ffi;

/// The two tracepoints, found once at load (core kernel tracepoints live
/// as long as the kernel).
#[derive(Clone, Copy)]
pub(crate) struct Tracepoints {
    switch: *mut bindings::tracepoint,
    wakeup: *mut bindings::tracepoint,
}

// SAFETY: Pointers to static kernel objects, only passed to the tracepoint
// API (which locks).
unsafe impl Send for Tracepoints {}
// SAFETY: As above.
unsafe impl Sync for Tracepoints {}

/// What the lookup callback fills.
struct Found {
    switch: *mut bindings::tracepoint,
    wakeup: *mut bindings::tracepoint,
}

/// `for_each_kernel_tracepoint()`'s callback.
///
/// # Safety
///
/// `tp` is a live core kernel tracepoint; `data` is the `Found` of
/// [`Tracepoints::find`], exclusively ours for the call.
unsafe extern "C" fn found(tp: *mut bindings::tracepoint, data: *mut c_void) {
    // SAFETY: Per the function's contract.
    let f = unsafe { &mut *data.cast::<Found>() };
    // SAFETY: `tp` is live; its name is a static NUL-terminated string.
    let name = unsafe { CStr::from_ptr((*tp).name.cast()) };
    if name == c"sched_switch" {
        f.switch = tp;
    } else if name == c"sched_wakeup" {
        f.wakeup = tp;
    }
}

impl Tracepoints {
    /// Looks both up: `ENOENT` if the kernel lacks one.
    pub(crate) fn find() -> Result<Self> {
        let mut f = Found {
            switch: ptr::null_mut(),
            wakeup: ptr::null_mut(),
        };
        // SAFETY: `found` only writes `f`, which outlives the call.
        unsafe { ffi::for_each_kernel_tracepoint(Some(found), ptr::addr_of_mut!(f).cast()) };
        if f.switch.is_null() || f.wakeup.is_null() {
            return Err(ENOENT);
        }
        Ok(Self {
            switch: f.switch,
            wakeup: f.wakeup,
        })
    }
}

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
        // SAFETY: `nr_cpu_ids` is set at boot and never changes afterwards.
        let n = unsafe { bindings::nr_cpu_ids } as usize;
        let mut slots = KVVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            slots.push(Slot(AtomicU64::new(0)), GFP_KERNEL)?;
        }
        Ok(Self { slots })
    }

    /// Adds one on this CPU (preemption disabled: a probe).
    fn add_here(&self) {
        // SAFETY: Reads the CPU number; stable as the caller cannot migrate.
        let cpu = unsafe { ffi::seqsplice_smp_processor_id() } as usize;
        if let Some(s) = self.slots.get(cpu) {
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
    pub(crate) rb: Arc<RingBuffer>,
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
fn current_entry(kind: u8) -> Entry {
    let mut raw = ffi::seqsplice_ctx::default();
    // SAFETY: Reads the current CPU's and task's state into `raw`.
    unsafe { ffi::seqsplice_read_ctx(&mut raw) };
    let c = Ctx {
        preempt_count: raw.preempt_count,
        migration_disabled: raw.migration_disabled,
        irqs_disabled: raw.irqs_disabled,
        need_resched: raw.need_resched,
        preempt_need_resched: raw.preempt_need_resched,
    };
    let (flags, preempt_count) = entry::trace_ctx(&c, cfg!(CONFIG_PREEMPTION));
    // SAFETY: `current` is always a live task.
    let cur = unsafe { bindings::get_current() };
    let mut e = Entry {
        kind,
        flags,
        preempt_count,
        ..Entry::default()
    };
    // SAFETY: `cur` is live for the probe's duration.
    unsafe { task_fields(cur, &mut e.comm, &mut e.pid, None) };
    e
}

/// Copies `p`'s comm, pid and (if asked) prio.
///
/// # Safety
///
/// `p` is a live task.
unsafe fn task_fields(
    p: *const bindings::task_struct,
    comm: &mut [u8; COMM_LEN],
    pid: &mut i32,
    prio: Option<&mut i32>,
) {
    // SAFETY: `p` is live (contract); `comm` is a 16-byte array of C chars
    // (the tracepoint's own `memcpy(..., TASK_COMM_LEN)` reads it the same
    // way, racing with a rename just as harmlessly).
    unsafe {
        let src = ptr::addr_of!((*p).comm).cast::<[u8; COMM_LEN]>();
        *comm = ptr::read_volatile(src);
        *pid = (*p).pid;
        if let Some(prio) = prio {
            *prio = (*p).prio;
        }
    }
}

/// The `sched_switch` probe (`TP_PROTO(bool preempt, struct task_struct
/// *prev, struct task_struct *next, unsigned int prev_state)`).
///
/// # Safety
///
/// Called by the tracepoint with `data` the `Recorder` an [`Attached`]
/// keeps alive, and the tracepoint's live arguments.
unsafe extern "C" fn probe_switch(
    data: *mut c_void,
    preempt: bool,
    prev: *mut bindings::task_struct,
    next: *mut bindings::task_struct,
    prev_state: c_uint,
) {
    // SAFETY: Per the function's contract.
    let rec = unsafe { &*data.cast::<Recorder>() };
    let mut e = current_entry(KIND_SWITCH);
    // SAFETY: `prev` and `next` are live for the call.
    unsafe {
        task_fields(prev, &mut e.a_comm, &mut e.a_pid, Some(&mut e.a_prio));
        task_fields(next, &mut e.b_comm, &mut e.b_pid, Some(&mut e.b_prio));
        e.prev_state = entry::switch_state(preempt, prev_state, (*prev).exit_state as u32);
    }
    rec.record(&e);
}

/// The `sched_wakeup` probe (`TP_PROTO(struct task_struct *p)`).
///
/// # Safety
///
/// As [`probe_switch`].
unsafe extern "C" fn probe_wakeup(data: *mut c_void, p: *mut bindings::task_struct) {
    // SAFETY: Per the function's contract.
    let rec = unsafe { &*data.cast::<Recorder>() };
    let mut e = current_entry(KIND_WAKEUP);
    // SAFETY: `p` is live for the call.
    unsafe {
        task_fields(p, &mut e.a_comm, &mut e.a_pid, Some(&mut e.a_prio));
        e.target_cpu = ffi::seqsplice_task_cpu(p);
    }
    rec.record(&e);
}

/// Both probes attached, writing into `rec`.
///
/// # Invariants
///
/// `probe_switch` is registered on `tps.switch` and `probe_wakeup` on
/// `tps.wakeup`, both with `rec`'s address as data; `drop` unregisters them
/// and waits for running probes before `rec` is released.
pub(crate) struct Attached {
    tps: Tracepoints,
    rec: Arc<Recorder>,
}

/// The data pointer of a registration: the recorder's address.
fn recorder_ptr(rec: &Arc<Recorder>) -> *mut c_void {
    ptr::from_ref::<Recorder>(rec).cast_mut().cast()
}

/// The probe functions, as the tracepoint API takes them.
fn switch_fn() -> *mut c_void {
    probe_switch as *mut c_void
}

fn wakeup_fn() -> *mut c_void {
    probe_wakeup as *mut c_void
}

impl Attached {
    /// Attaches both probes. May sleep.
    pub(crate) fn new(tps: Tracepoints, rec: Arc<Recorder>) -> Result<Self> {
        let data = recorder_ptr(&rec);
        // SAFETY: `tps.switch` is a live tracepoint whose prototype is
        // `probe_switch`'s; `data` stays valid until unregistered (below or
        // by `drop`).
        let r = unsafe { ffi::tracepoint_probe_register(tps.switch, switch_fn(), data) };
        if r != 0 {
            pr_err!("events: sched_switch probe not registered: {}\n", r);
            return Err(Error::from_errno(r));
        }
        // SAFETY: As above, for `sched_wakeup` and `probe_wakeup`.
        let r = unsafe { ffi::tracepoint_probe_register(tps.wakeup, wakeup_fn(), data) };
        if r != 0 {
            pr_err!("events: sched_wakeup probe not registered: {}\n", r);
            // SAFETY: Registered above with the same arguments.
            unsafe { ffi::tracepoint_probe_unregister(tps.switch, switch_fn(), data) };
            // SAFETY: Process context; only the owner's sleeping control
            // mutex is held, which no probe takes.
            unsafe { ffi::seqsplice_tracepoint_synchronize_unregister() };
            return Err(Error::from_errno(r));
        }
        // INVARIANT: both registered above with `rec`'s address.
        Ok(Self { tps, rec })
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        let data = recorder_ptr(&self.rec);
        // SAFETY: By the type invariants both are registered with these
        // arguments. Unregistering only fails for a probe that is not.
        unsafe {
            ffi::tracepoint_probe_unregister(self.tps.switch, switch_fn(), data);
            ffi::tracepoint_probe_unregister(self.tps.wakeup, wakeup_fn(), data);
        }
        // Probes already running may still use `rec`: wait for them before
        // the `Arc` goes with this value. SAFETY: Process context; only a
        // sleeping lock is held (the owner's control mutex), which no probe
        // and no RCU callback takes.
        unsafe { ffi::seqsplice_tracepoint_synchronize_unregister() };
    }
}
