// SPDX-License-Identifier: GPL-2.0

//! Live scheduler events, the engine's second real source: probes on the
//! `sched_switch` and `sched_wakeup` tracepoints write binary entries into
//! a per-CPU ring buffer (the kernel's, as ftrace's), and
//!
//! - `events` shows them through the engine (pages gifted to pipes), line
//!   for line as ftrace's `trace` file prints the same events, but for the
//!   comm column (the comm at the event; ftrace's is its `saved_cmdlines`
//!   entry at read time) and no header (README: Live events);
//! - `events_copy`: the same through the stock seq_file core and
//!   `copy_splice_read()`, with a one-page seq buffer, as ftrace's `trace`;
//! - `events_enable`: `1` when `0` starts a new capture (the probes
//!   attached, the buffer emptied, `events_lost` zeroed; the buffer is
//!   allocated by the first), `0` detaches the probes; the current value
//!   again changes nothing;
//! - `events_buffer_size_kb`: the size of each CPU's buffer.
//!
//! An open of `events` or `events_copy` pauses recording until it is
//! closed (ftrace's `pause-on-trace`, its default): the iteration is over
//! a frozen buffer, so any two opens of it read the same bytes. Starting a
//! capture or resizing while such an open exists is `EBUSY`.

pub(crate) mod entry;
pub(crate) mod probe;
pub(crate) mod source;

use core::fmt::Write;

use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

use crate::engine::buffer::BufferConfig;
use crate::engine::file::RecordFile;
use crate::engine::source::{ShowOne, Single};
use crate::kernel_ext::global::{Global, Published};
use crate::kernel_ext::ring_buffer::Paused;
use crate::kernel_ext::sched::synchronize_rcu;
use crate::kernel_ext::seq_file::SeqFile;
use crate::kernel_ext::tracepoint::{Attached, SchedTracepoints};
use crate::sources::trace::knob;
use crate::sources::trace::knobs::SETTINGS;
use entry::Entry;
use probe::Recorder;
use source::EventsSource;

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
    /// The published capture, for a file operation of the module: its
    /// `owner` reference keeps the module, hence the `Registration`
    /// (dropped at module exit), alive for the whole operation and for as
    /// long as the file is open (which covers every `ReaderTicket` a file
    /// holds).
    fn get() -> Result<&'static Events> {
        EVENTS.get()
    }

    /// A new reader: recording paused (if there is a buffer), and no probe
    /// still writing.
    fn open_reader(&'static self) -> Result<ReaderTicket> {
        let mut c = self.control.lock();
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
        // INVARIANT: counted above, with its pause.
        Ok(ReaderTicket {
            events: self,
            paused,
        })
    }

    fn set_enabled(&self, on: bool) -> Result {
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

    fn resize(&self, kb: u64) -> Result {
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
    events: &'static Events,
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
        let events = KBox::pin_init(
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
        let mut c = self.events.get().get_ref().control.lock();
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

/// A reader of the capture.
fn open_source() -> Result<EventsSource> {
    let ticket = Events::get()?.open_reader()?;
    EventsSource::new(SETTINGS.snapshot(), ticket)
}

/// `events`.
pub(crate) struct EventsFile;

#[vtable]
impl RecordFile for EventsFile {
    type Source = EventsSource;

    fn open(_ino: u64) -> Result<EventsSource> {
        open_source()
    }

    fn buffer(source: &EventsSource) -> BufferConfig {
        crate::sources::trace::buffer(&source.knobs)
    }
}

/// `events_copy`.
pub(crate) struct EventsCopy;

#[vtable]
impl RecordFile for EventsCopy {
    type Source = EventsSource;

    fn open(_ino: u64) -> Result<EventsSource> {
        open_source()
    }
}

/// The record of `events_enable`.
pub(crate) struct EnableRecord;

impl ShowOne for EnableRecord {
    fn show_one(&self, m: &mut SeqFile) -> Result {
        let on = Events::get()?.control.lock().attached.is_some();
        crate::seq_print!(m, "{}\n", u8::from(on));
        Ok(())
    }
}

/// `events_enable`.
pub(crate) struct EnableFile;

#[vtable]
impl RecordFile for EnableFile {
    type Source = Single<EnableRecord>;

    fn open(_ino: u64) -> Result<Single<EnableRecord>> {
        Ok(Single(EnableRecord))
    }

    fn write(_source: &Single<EnableRecord>, input: &[u8]) -> Result {
        let v = knob::parse_u64(input, 0, 1).map_err(|e| {
            pr_info!("events_enable: value refused ({:?})\n", e);
            EINVAL
        })?;
        Events::get()?.set_enabled(v == 1)
    }
}

/// The record of `events_buffer_size_kb`.
pub(crate) struct SizeRecord;

impl ShowOne for SizeRecord {
    fn show_one(&self, m: &mut SeqFile) -> Result {
        let kb = Events::get()?.control.lock().size_kb;
        crate::seq_print!(m, "{kb}\n");
        Ok(())
    }
}

/// `events_buffer_size_kb`.
pub(crate) struct SizeFile;

#[vtable]
impl RecordFile for SizeFile {
    type Source = Single<SizeRecord>;

    fn open(_ino: u64) -> Result<Single<SizeRecord>> {
        Ok(Single(SizeRecord))
    }

    fn write(_source: &Single<SizeRecord>, input: &[u8]) -> Result {
        let kb = knob::parse_u64(input, 1, MAX_SIZE_KB).map_err(|e| {
            pr_info!("events_buffer_size_kb: value refused ({:?})\n", e);
            EINVAL
        })?;
        Events::get()?.resize(kb)
    }
}
