// SPDX-License-Identifier: GPL-2.0

//! Live scheduler events, the engine's second real source: probes on the
//! `sched_switch` and `sched_wakeup` tracepoints write binary entries into
//! a per-CPU ring buffer (the kernel's, as ftrace's), and
//!
//! - `events` shows them through the engine (pages gifted to pipes), line
//!   for line as ftrace's `trace` file prints the same events, but for the
//!   comm column (the comm at the event; ftrace's is its `saved_cmdlines`
//!   entry at read time) and no header (Documentation/files.rst: "Live events");
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
//!
//! ```text
//! capture  Events: tracepoints, recorder and probes under one mutex, the
//!          readers' tickets (pause), the registration and its counters
//! probe    Recorder (ring buffer + lost count): the SchedProbes the
//!          kernel_ext trampolines call, and the Entry they write
//! source   EventsSource: per-CPU iterators merged by timestamp
//! entry    the binary entry and ftrace's line format (pure, host-tested)
//! mod      the four files
//! ```

pub(crate) mod capture;
pub(crate) mod entry;
pub(crate) mod probe;
pub(crate) mod source;

use kernel::prelude::*;

use crate::engine::buffer::BufferConfig;
use crate::engine::file::RecordFile;
use crate::engine::source::{ShowOne, Single};
use crate::kernel_ext::seq_file::{seq_print, SeqFile};
use crate::sources::trace::knob;
use crate::sources::trace::knobs::SETTINGS;
use capture::{Events, MAX_SIZE_KB};
use source::EventsSource;

pub(crate) use capture::{write_stats, Registration};

/// A reader of the capture.
fn open_source() -> Result<EventsSource> {
    let ticket = Events::open_reader(Events::get()?)?;
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
    fn show_one(&self, m: &SeqFile) -> Result {
        let on = Events::get()?.enabled();
        seq_print!(m, "{}\n", u8::from(on));
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
    fn show_one(&self, m: &SeqFile) -> Result {
        let kb = Events::get()?.size_kb();
        seq_print!(m, "{kb}\n");
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
