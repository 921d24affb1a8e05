// SPDX-License-Identifier: GPL-2.0

//! Probes on kernel tracepoints, attached with
//! `tracepoint_probe_register()` as LTTng-modules does: [`Tracepoint`]
//! finds a core kernel tracepoint by name (`for_each_kernel_tracepoint()`),
//! and [`Attached`] registers the `extern "C"` probes of the scheduler's
//! `sched_switch` and `sched_wakeup` tracepoints, generic over the
//! [`SchedProbes`] a caller implements; a probe sees its context through
//! [`ProbeCtx`] and its tasks through [`TaskRef`].
//!
//! C header: [`include/linux/tracepoint.h`](srctree/include/linux/tracepoint.h)

use core::ffi::{c_uint, c_void, CStr};
use core::marker::PhantomData;
use core::ptr::{self, NonNull};

use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::Arc;

use crate::ffi;

/// `TASK_COMM_LEN`.
pub(crate) const COMM_LEN: usize = 16;

/// A core kernel tracepoint.
///
/// # Invariants
///
/// `tp` is a live core kernel tracepoint: it lives as long as the kernel.
#[derive(Clone, Copy)]
pub(crate) struct Tracepoint {
    tp: NonNull<bindings::tracepoint>,
}

// SAFETY: A pointer to a static kernel object, only passed to the
// tracepoint API (which locks).
unsafe impl Send for Tracepoint {}
// SAFETY: As above.
unsafe impl Sync for Tracepoint {}

/// What the lookup callback fills.
struct Lookup<'a, const N: usize> {
    names: [&'a CStr; N],
    found: [Option<Tracepoint>; N],
}

/// `for_each_kernel_tracepoint()`'s callback.
///
/// # Safety
///
/// `tp` is a live core kernel tracepoint; `data` is the `Lookup` of
/// [`Tracepoint::find`], exclusively ours for the call.
unsafe extern "C" fn lookup<const N: usize>(tp: *mut bindings::tracepoint, data: *mut c_void) {
    // SAFETY: Per the function's contract.
    let l = unsafe { &mut *data.cast::<Lookup<'_, N>>() };
    let Some(tp) = NonNull::new(tp) else {
        return;
    };
    // SAFETY: `tp` is live; its name is a static NUL-terminated string.
    let name = unsafe { CStr::from_ptr((*tp.as_ptr()).name.cast()) };
    for (want, found) in l.names.iter().zip(l.found.iter_mut()) {
        if name == *want {
            // INVARIANT: a core kernel tracepoint.
            *found = Some(Tracepoint { tp });
        }
    }
}

impl Tracepoint {
    /// The core kernel tracepoints called `names`, each `None` if the kernel
    /// has no such one.
    pub(crate) fn find<const N: usize>(names: [&CStr; N]) -> [Option<Tracepoint>; N] {
        let mut l = Lookup {
            names,
            found: [None; N],
        };
        // SAFETY: `lookup::<N>` only writes `l`, which outlives the call.
        unsafe { ffi::for_each_kernel_tracepoint(Some(lookup::<N>), ptr::addr_of_mut!(l).cast()) };
        l.found
    }

    fn as_ptr(&self) -> *mut bindings::tracepoint {
        self.tp.as_ptr()
    }
}

/// A task a tracepoint passed its probe (or the current task), live for
/// the probe's call.
///
/// # Invariants
///
/// `task` is a live task for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct TaskRef<'a> {
    task: NonNull<bindings::task_struct>,
    _life: PhantomData<&'a bindings::task_struct>,
}

impl TaskRef<'_> {
    /// The task's name, `comm` (racing with a rename as harmlessly as the
    /// tracepoints' own `memcpy(..., TASK_COMM_LEN)`).
    pub(crate) fn comm(&self) -> [u8; COMM_LEN] {
        // SAFETY: The task is live (type invariants); `comm` is a 16-byte
        // array of C chars.
        unsafe {
            let src = ptr::addr_of!((*self.task.as_ptr()).comm).cast::<[u8; COMM_LEN]>();
            ptr::read_volatile(src)
        }
    }

    /// `pid`.
    pub(crate) fn pid(&self) -> i32 {
        // SAFETY: The task is live (type invariants).
        unsafe { (*self.task.as_ptr()).pid }
    }

    /// `prio`.
    pub(crate) fn prio(&self) -> i32 {
        // SAFETY: The task is live (type invariants).
        unsafe { (*self.task.as_ptr()).prio }
    }

    /// `exit_state`.
    pub(crate) fn exit_state(&self) -> u32 {
        // SAFETY: The task is live (type invariants).
        unsafe { (*self.task.as_ptr()).exit_state as u32 }
    }

    /// `task_cpu()`.
    pub(crate) fn cpu(&self) -> u32 {
        // SAFETY: The task is live (type invariants).
        unsafe { ffi::seqsplice_task_cpu(self.task.as_ptr()) }
    }
}

/// What a probe reads of its context (`preempt_count()` and friends), the
/// raw values `tracing_gen_ctx_irq_test()` reads.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct IrqState {
    /// `preempt_count()`.
    pub(crate) preempt_count: u32,
    /// `current->migration_disabled`.
    pub(crate) migration_disabled: u32,
    /// `irqs_disabled()`.
    pub(crate) irqs_disabled: bool,
    /// `tif_need_resched()`.
    pub(crate) need_resched: bool,
    /// `test_preempt_need_resched()`.
    pub(crate) preempt_need_resched: bool,
}

/// The context a probe runs in, for the probe's call only: preemption is
/// disabled (`__DO_TRACE()`).
pub(crate) struct ProbeCtx<'a> {
    _call: PhantomData<&'a ()>,
}

impl ProbeCtx<'_> {
    /// The current task.
    pub(crate) fn current(&self) -> TaskRef<'_> {
        // SAFETY: `current` is always a live, non-NULL task, for the
        // probe's call (it cannot exit while it runs the probe).
        let task = unsafe { NonNull::new_unchecked(bindings::get_current()) };
        // INVARIANT: live for the borrow of the context.
        TaskRef {
            task,
            _life: PhantomData,
        }
    }

    /// The current CPU's and task's state.
    pub(crate) fn irq_state(&self) -> IrqState {
        let mut raw = ffi::seqsplice_ctx::default();
        // SAFETY: Reads the current CPU's and task's state into `raw`.
        unsafe { ffi::seqsplice_read_ctx(&mut raw) };
        IrqState {
            preempt_count: raw.preempt_count,
            migration_disabled: raw.migration_disabled,
            irqs_disabled: raw.irqs_disabled,
            need_resched: raw.need_resched,
            preempt_need_resched: raw.preempt_need_resched,
        }
    }
}

/// The probes on `sched_switch` and `sched_wakeup`. They run in any
/// context the scheduler does (inside `__schedule()`, interrupts off,
/// preemption disabled): no sleeping, no allocation, no lock a scheduler
/// path may hold.
pub(crate) trait SchedProbes: Send + Sync + 'static {
    /// `sched_switch` (`TP_PROTO(bool preempt, struct task_struct *prev,
    /// struct task_struct *next, unsigned int prev_state)`).
    fn sched_switch(
        &self,
        cx: &ProbeCtx<'_>,
        preempt: bool,
        prev: TaskRef<'_>,
        next: TaskRef<'_>,
        prev_state: u32,
    );

    /// `sched_wakeup` (`TP_PROTO(struct task_struct *p)`).
    fn sched_wakeup(&self, cx: &ProbeCtx<'_>, p: TaskRef<'_>);
}

/// The `sched_switch` and `sched_wakeup` tracepoints.
#[derive(Clone, Copy)]
pub(crate) struct SchedTracepoints {
    switch: Tracepoint,
    wakeup: Tracepoint,
}

impl SchedTracepoints {
    /// Looks both up: `ENOENT` if the kernel lacks one.
    pub(crate) fn find() -> Result<Self> {
        match Tracepoint::find([c"sched_switch", c"sched_wakeup"]) {
            [Some(switch), Some(wakeup)] => Ok(Self { switch, wakeup }),
            _ => Err(ENOENT),
        }
    }
}

/// The task behind a probe argument, live for the call.
///
/// # Safety
///
/// `p` is a live task for `'a`, or NULL.
unsafe fn task<'a>(p: *mut bindings::task_struct) -> Option<TaskRef<'a>> {
    // INVARIANT: live for `'a` (contract).
    NonNull::new(p).map(|task| TaskRef {
        task,
        _life: PhantomData,
    })
}

/// Both probes of `T` attached, with `data` as their data.
///
/// # Invariants
///
/// `Self::switch` is registered on `tps.switch` and `Self::wakeup` on
/// `tps.wakeup`, both with `data`'s address as data; `drop` unregisters
/// them and waits for running probes before `data` is released.
pub(crate) struct Attached<T: SchedProbes> {
    tps: SchedTracepoints,
    data: Arc<T>,
}

impl<T: SchedProbes> Attached<T> {
    /// The `sched_switch` probe.
    ///
    /// # Safety
    ///
    /// Called by the tracepoint with `data` the `T` an [`Attached`] keeps
    /// alive, and the tracepoint's live arguments.
    unsafe extern "C" fn switch(
        data: *mut c_void,
        preempt: bool,
        prev: *mut bindings::task_struct,
        next: *mut bindings::task_struct,
        prev_state: c_uint,
    ) {
        // SAFETY: Per the function's contract.
        let this = unsafe { &*data.cast::<T>() };
        // SAFETY: The tracepoint's tasks are live for the call.
        let (Some(prev), Some(next)) = (unsafe { task(prev) }, unsafe { task(next) }) else {
            return;
        };
        let cx = ProbeCtx { _call: PhantomData };
        this.sched_switch(&cx, preempt, prev, next, prev_state);
    }

    /// The `sched_wakeup` probe.
    ///
    /// # Safety
    ///
    /// As [`Self::switch`].
    unsafe extern "C" fn wakeup(data: *mut c_void, p: *mut bindings::task_struct) {
        // SAFETY: Per the function's contract.
        let this = unsafe { &*data.cast::<T>() };
        // SAFETY: The tracepoint's task is live for the call.
        let Some(p) = (unsafe { task(p) }) else {
            return;
        };
        let cx = ProbeCtx { _call: PhantomData };
        this.sched_wakeup(&cx, p);
    }

    /// The data pointer of a registration: `data`'s address.
    fn data_ptr(data: &Arc<T>) -> *mut c_void {
        ptr::from_ref::<T>(data).cast_mut().cast()
    }

    /// The probe functions, as the tracepoint API takes them.
    fn switch_fn() -> *mut c_void {
        Self::switch as *mut c_void
    }

    fn wakeup_fn() -> *mut c_void {
        Self::wakeup as *mut c_void
    }

    /// Attaches both probes. May sleep: process context, only sleeping
    /// locks held, none a probe or an RCU callback takes.
    pub(crate) fn new(tps: SchedTracepoints, data: Arc<T>) -> Result<Self> {
        let d = Self::data_ptr(&data);
        // SAFETY: `tps.switch` is a live tracepoint whose prototype is
        // `Self::switch`'s; `d` stays valid until unregistered (below or by
        // `drop`).
        let r =
            unsafe { ffi::tracepoint_probe_register(tps.switch.as_ptr(), Self::switch_fn(), d) };
        if r != 0 {
            pr_err!("sched_switch probe not registered: {}\n", r);
            return Err(Error::from_errno(r));
        }
        // SAFETY: As above, for `sched_wakeup` and `Self::wakeup`.
        let r =
            unsafe { ffi::tracepoint_probe_register(tps.wakeup.as_ptr(), Self::wakeup_fn(), d) };
        if r != 0 {
            pr_err!("sched_wakeup probe not registered: {}\n", r);
            // SAFETY: Registered above with the same arguments.
            unsafe { ffi::tracepoint_probe_unregister(tps.switch.as_ptr(), Self::switch_fn(), d) };
            // SAFETY: Process context; only sleeping locks held, none a
            // probe takes (the function's contract).
            unsafe { ffi::seqsplice_tracepoint_synchronize_unregister() };
            return Err(Error::from_errno(r));
        }
        // INVARIANT: both registered above with `data`'s address.
        Ok(Self { tps, data })
    }
}

impl<T: SchedProbes> Drop for Attached<T> {
    fn drop(&mut self) {
        let d = Self::data_ptr(&self.data);
        // SAFETY: By the type invariants both are registered with these
        // arguments. Unregistering only fails for a probe that is not.
        unsafe {
            ffi::tracepoint_probe_unregister(self.tps.switch.as_ptr(), Self::switch_fn(), d);
            ffi::tracepoint_probe_unregister(self.tps.wakeup.as_ptr(), Self::wakeup_fn(), d);
        }
        // Probes already running may still use `data`: wait for them before
        // the `Arc` goes with this value.
        // SAFETY: Process context; only a sleeping lock is held (the
        // owner's), which no probe and no RCU callback takes.
        unsafe { ffi::seqsplice_tracepoint_synchronize_unregister() };
    }
}
