// SPDX-License-Identifier: GPL-2.0

//! The capture: the tracepoints, the recorder (ring buffer and lost
//! count) and the probes attached to it, under one control mutex, and the
//! readers' tickets that pause the recording while `events` or
//! `events_copy` is open.

use core::fmt::Write;

use kernel::c_str;
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};
use kernel::workqueue::{self, impl_has_work, new_work, Work, WorkItem};

use super::entry::Entry;
use super::probe::Recorder;
use crate::kernel_ext::cpuhp::{CpuOnline, OnCpuOnline};
use crate::kernel_ext::global::{Global, Published};
use crate::kernel_ext::ring_buffer::Paused;
use crate::kernel_ext::sched::{nr_cpu_ids, synchronize_rcu};
use crate::kernel_ext::tracepoint::{Attached, SchedTracepoints};
use crate::kernel_ext::work;

/// Default per-CPU buffer size, KiB: ftrace's (`TRACE_BUF_SIZE_DEFAULT`).
pub(crate) const DEFAULT_SIZE_KB: u64 = 1408;
/// Largest per-CPU size `events_buffer_size_kb` accepts, KiB (256 MiB; the
/// ring buffer also refuses more than the memory available).
pub(crate) const MAX_SIZE_KB: u64 = 256 * 1024;

/// What the control mutex guards.
struct Control {
    /// The recorder, from the first `events_enable` on (ftrace too keeps
    /// its buffers minimal until it is used); kept after a disable, to be
    /// read.
    rec: Option<Arc<Recorder>>,
    /// The probes, while recording.
    attached: Option<Attached<Recorder>>,
    /// Per-CPU size last set, KiB (the one the next allocation uses).
    size_kb: u64,
    /// Opens of `events` and `events_copy`.
    readers: u64,
    /// A shrink found readers: the last of them queues it again.
    shrink_deferred: bool,
    /// CPU buffers shrunk to the minimum since load (`events_cpu_shrinks`:
    /// one CPU may count again after every capture).
    shrunk: u64,
}

/// The capture: tracepoints and the control of recorder and probes.
#[pin_data]
pub(crate) struct Events {
    /// `None` if the kernel lacks one of them: `events_enable` is then
    /// `ENOENT` and the rest of the module works.
    tps: Option<SchedTracepoints>,
    #[pin]
    control: Mutex<Control>,
    /// Shrinks the empty CPU buffers of a stopped capture
    /// ([`Events::shrink_idle`]), queued when it stops and when a CPU comes
    /// online.
    #[pin]
    shrink: Work<Events>,
}

impl_has_work! {
    impl HasWork<Self> for Events { self.shrink }
}

impl WorkItem for Events {
    type Pointer = Arc<Events>;

    fn run(this: Arc<Events>) {
        this.shrink_idle();
    }
}

/// Published by [`Registration::new`] for the module's life.
static EVENTS: Global<Events> = Global::new();

impl Events {
    /// A reference to the published capture; `ENODEV` once the module's
    /// `Registration` has gone.
    pub(super) fn get() -> Result<Arc<Events>> {
        EVENTS.get()
    }

    /// A new reader of `this`: recording paused (if there is a buffer), and
    /// no probe still writing.
    pub(super) fn open_reader(this: Arc<Events>) -> Result<ReaderTicket> {
        let mut c = this.control.lock();
        let paused = c.rec.as_ref().map(|rec| rec.rb.pause());
        if c.attached.is_some() && c.readers == 0 {
            // Probes run with preemption disabled (`__DO_TRACE()`): after a
            // grace period none is inside a write begun before the pause.
            // With other readers, recording has been paused since the first
            // of them waited: tickets pause and unpause under this lock, so
            // `readers > 0` means paused all along. Process context; only a
            // sleeping lock held.
            synchronize_rcu();
        }
        c.readers += 1;
        drop(c);
        // INVARIANT: counted above, with its pause.
        Ok(ReaderTicket {
            events: this,
            paused,
        })
    }

    pub(super) fn set_enabled(&self, on: bool) -> Result {
        let mut c = self.control.lock();
        match (on, c.attached.is_some()) {
            (true, true) | (false, false) => Ok(()),
            (false, true) => {
                // Detached, and no probe running, before the lock goes.
                c.attached = None;
                drop(c);
                Self::queue_shrink();
                Ok(())
            }
            (true, false) => {
                let Some(tps) = self.tps else {
                    pr_err!("events_enable: no sched_switch/sched_wakeup tracepoint (ENOENT)\n");
                    return Err(ENOENT);
                };
                if c.readers > 0 {
                    pr_info!("events_enable: refused while events is open (EBUSY)\n");
                    return Err(EBUSY);
                }
                let rec = match &c.rec {
                    Some(rec) => {
                        // Every CPU at the size asked again: those shrunk
                        // while stopped grow back (the others are left as
                        // they are); ENOMEM keeps the old capture.
                        rec.rb.resize(c.size_kb as usize * 1024).inspect_err(|e| {
                            pr_info!(
                                "events_enable: no {} KiB buffer per CPU ({:?})\n",
                                c.size_kb,
                                e
                            )
                        })?;
                        rec.clone()
                    }
                    None => Recorder::new(c.size_kb as usize * 1024).inspect_err(|e| {
                        pr_info!(
                            "events_enable: no {} KiB buffer per CPU ({:?})\n",
                            c.size_kb,
                            e
                        )
                    })?,
                };
                // Paused while the probes are attached, so that a failure
                // leaves the old capture's events as they were (only
                // `events_lost` counts the refused writes).
                let paused = rec.rb.pause();
                // On failure the capture stays stopped: what the resize
                // above grew is shrunk again.
                let attached =
                    Attached::new(tps, rec.clone()).inspect_err(|_| Self::queue_shrink())?;
                // A new capture: what the probes wrote since is dropped too.
                // No reader exists (checked above, under the lock).
                rec.rb.reset();
                drop(paused);
                // The probes refused while paused have counted their loss
                // after a grace period; the capture starts with none.
                // Process context; only a sleeping lock held.
                synchronize_rcu();
                rec.lost.zero();
                c.rec = Some(rec);
                c.attached = Some(attached);
                Ok(())
            }
        }
    }

    /// Queues [`Events::shrink_idle`] (once: a queued shrink stays queued).
    /// Takes no sleeping lock (RCU's read side, the workqueue's spinlock):
    /// callable from a hotplug callback and under the control mutex.
    fn queue_shrink() {
        if let Ok(ev) = Self::get() {
            // Already queued: that run does it (the `Arc` comes back, dropped
            // here; the capture's own reference keeps it alive).
            let _ = workqueue::system().enqueue(ev);
        }
    }

    /// A stopped capture keeps no more than the minimum for CPUs it has no
    /// event of: each such CPU's buffer shrinks to two sub-buffers. Above all a
    /// CPU that comes online after the capture stopped: the ring buffer
    /// gives it a buffer of the common size (`trace_rb_cpu_prepare()`),
    /// up to `MAX_SIZE_KB`, which nothing would ever write. The next
    /// `events_enable` grows them back. Not while recording (a new CPU then
    /// records at the size asked), nor with readers (their iterators hold
    /// the sizes: the last reader to go queues it again). May sleep.
    fn shrink_idle(&self) {
        let mut c = self.control.lock();
        if c.attached.is_some() {
            return;
        }
        let Some(rec) = c.rec.clone() else {
            return;
        };
        if c.readers > 0 {
            c.shrink_deferred = true;
            return;
        }
        c.shrink_deferred = false;
        // Bounded by the possible CPUs; each a resize that may sleep. The
        // probes are detached (checked above, under the mutex that attaches
        // them): nothing writes between a CPU's check and its resize.
        for cpu in 0..nr_cpu_ids() {
            match rec.rb.shrink_cpu_if_empty(cpu) {
                Ok(true) => c.shrunk += 1,
                Ok(false) => {}
                Err(e) => pr_info!("events: CPU {} buffer not shrunk ({:?})\n", cpu, e),
            }
        }
    }

    /// Whether the probes are attached (`events_enable`).
    pub(super) fn enabled(&self) -> bool {
        self.control.lock().attached.is_some()
    }

    /// The per-CPU size last set, KiB (`events_buffer_size_kb`).
    pub(super) fn size_kb(&self) -> u64 {
        self.control.lock().size_kb
    }

    pub(super) fn resize(&self, kb: u64) -> Result {
        let mut c = self.control.lock();
        if c.readers > 0 {
            pr_info!("events_buffer_size_kb: refused while events is open (EBUSY)\n");
            return Err(EBUSY);
        }
        // While recording, the buffer takes the size now; a stopped capture
        // is kept as it is (shrinking it would drop events, growing it
        // gives room nothing writes), and the next `events_enable` resizes.
        if let (Some(rec), Some(_)) = (&c.rec, &c.attached) {
            rec.rb.resize(kb as usize * 1024).inspect_err(|e| {
                pr_info!(
                    "events_buffer_size_kb: resize to {} KiB failed ({:?})\n",
                    kb,
                    e
                )
            })?;
        }
        c.size_kb = kb;
        Ok(())
    }
}

/// An open of `events` or `events_copy`, counted, with its pause of the
/// recording (`None` before the first capture: no buffer).
///
/// # Invariants
///
/// This value accounts for one in `events.control.readers`; the count and
/// the pause change together, under the control mutex.
pub(crate) struct ReaderTicket {
    events: Arc<Events>,
    paused: Option<Paused<Entry>>,
}

impl ReaderTicket {
    /// The paused buffer, if there is one.
    pub(crate) fn paused(&self) -> Option<&Paused<Entry>> {
        self.paused.as_ref()
    }
}

impl Drop for ReaderTicket {
    fn drop(&mut self) {
        let mut c = self.events.control.lock();
        drop(self.paused.take());
        c.readers -= 1;
        let again = c.readers == 0 && c.shrink_deferred;
        drop(c);
        if again {
            Events::queue_shrink();
        }
    }
}

/// A CPU coming online: its new buffer, if the capture is stopped, is
/// shrunk by the work (a resize cannot run in the hotplug callback).
struct ShrinkOnOnline;

impl OnCpuOnline for ShrinkOnOnline {
    fn online(_cpu: u32) {
        Events::queue_shrink();
    }
}

/// The capture, for the module's life.
pub(crate) struct Registration {
    events: Published<Events>,
    /// `None` only while dropping: it goes first.
    online: Option<CpuOnline<ShrinkOnOnline>>,
}

impl Registration {
    /// Finds the tracepoints and publishes the capture (no buffer yet).
    pub(crate) fn new() -> Result<Self> {
        let tps = SchedTracepoints::find().ok();
        if tps.is_none() {
            pr_info!("no sched_switch/sched_wakeup tracepoint: events stays empty\n");
        }
        let events = Arc::pin_init(
            pin_init!(Events {
                tps,
                control <- new_mutex!(Control {
                    rec: None,
                    attached: None,
                    size_kb: DEFAULT_SIZE_KB,
                    readers: 0,
                    shrink_deferred: false,
                    shrunk: 0,
                }),
                shrink <- new_work!("Events::shrink"),
            }),
            GFP_KERNEL,
        )?;
        let events = EVENTS.publish(events)?;
        // Events are optional: without the state (the dynamic ones all
        // taken), a CPU onlined after a capture stopped keeps its buffer.
        let online = CpuOnline::register(c_str!("seqsplice:events"))
            .inspect_err(|e| {
                pr_info!(
                    "no CPU hotplug state ({:?}): a stopped capture keeps the buffer of a CPU onlined later\n",
                    e
                )
            })
            .ok();
        Ok(Self { events, online })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // No hotplug callback queues a shrink any more, and the one queued
        // (by a knob write or a reader's close), if any, has run: what else
        // queues one is a file, and none is open. No run outlives the
        // module's text.
        drop(self.online.take());
        work::flush(&self.events.get().shrink);
        // The probes go (and are waited for) before the recorder and its
        // buffer: `Attached`'s drop, then the last `Arc`s; the capture is
        // unpublished and freed after (`Published`'s drop).
        let mut c = self.events.get().control.lock();
        c.attached = None;
        c.rec = None;
    }
}

/// The counters in `stats`.
pub(crate) fn write_stats(w: &mut impl Write) -> core::fmt::Result {
    let Ok(ev) = Events::get() else {
        return Ok(());
    };
    let c = ev.control.lock();
    let (recorded, overruns, lost, entries, size) = match &c.rec {
        Some(rec) => (
            rec.recorded(),
            rec.rb.overruns(),
            rec.lost.sum(),
            rec.rb.entries(),
            rec.rb.size(),
        ),
        None => (0, 0, 0, 0, 0),
    };
    writeln!(w, "events_recorded {recorded}")?;
    writeln!(w, "events_overruns {overruns}")?;
    writeln!(w, "events_lost {lost}")?;
    writeln!(w, "events_entries {entries}")?;
    writeln!(w, "events_readers {}", c.readers)?;
    writeln!(w, "events_cpu_shrinks {}", c.shrunk)?;
    writeln!(w, "events_buffer_kb {}", size / 1024)
}
