// SPDX-License-Identifier: GPL-2.0

//! The capture: the tracepoints, the recorder (ring buffer and lost
//! count) and the probes attached to it, under one control mutex, and the
//! readers' tickets that pause the recording while `events` or
//! `events_copy` is open.

use core::fmt::Write;

use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

use super::entry::Entry;
use super::probe::Recorder;
use crate::kernel_ext::global::{Global, Published};
use crate::kernel_ext::ring_buffer::Paused;
use crate::kernel_ext::sched::synchronize_rcu;
use crate::kernel_ext::tracepoint::{Attached, SchedTracepoints};

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
}

/// The capture: tracepoints and the control of recorder and probes.
#[pin_data]
pub(crate) struct Events {
    /// `None` if the kernel lacks one of them: `events_enable` is then
    /// `ENOENT` and the rest of the module works.
    tps: Option<SchedTracepoints>,
    #[pin]
    control: Mutex<Control>,
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
                    Some(rec) => rec.clone(),
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
                let attached = Attached::new(tps, rec.clone())?;
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
        if let Some(rec) = &c.rec {
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
    }
}

/// The capture, for the module's life.
pub(crate) struct Registration {
    events: Published<Events>,
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
                }),
            }),
            GFP_KERNEL,
        )?;
        Ok(Self {
            events: EVENTS.publish(events)?,
        })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
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
    let (recorded, overruns, lost, entries) = match &c.rec {
        Some(rec) => (
            rec.recorded(),
            rec.rb.overruns(),
            rec.lost.sum(),
            rec.rb.entries(),
        ),
        None => (0, 0, 0, 0),
    };
    writeln!(w, "events_recorded {recorded}")?;
    writeln!(w, "events_overruns {overruns}")?;
    writeln!(w, "events_lost {lost}")?;
    writeln!(w, "events_entries {entries}")?;
    writeln!(w, "events_readers {}", c.readers)
}
