// SPDX-License-Identifier: GPL-2.0

//! The synthetic trace: its record source, its knobs and its files, on top
//! of the engine.
//!
//! - `trace`: the records through the engine (pages gifted to pipes);
//! - `trace_copy`: the same records through the stock seq_file core and
//!   `copy_splice_read()`, as ftrace's `trace` file;
//! - `trace_ops`: the engine driving the records' C `seq_operations` table
//!   (an indirect call per callback, as the seq_file core makes), beside
//!   `trace`'s static dispatch;
//! - one file per knob.

pub(crate) mod knob;
pub(crate) mod knobs;
pub(crate) mod record;
pub(crate) mod source;

use core::sync::atomic::Ordering;

use kernel::prelude::*;

use crate::engine::buffer::BufferConfig;
use crate::engine::file::RecordFile;
use crate::engine::source::{ShowOne, Single};
use crate::engine::window::{pages_for, MAX_OPEN_BYTES};
use crate::kernel_ext::seq_file::{seq_print, SeqFile};
use crate::kernel_ext::seq_ops::RustTable;
use knobs::{Kind, Knob, Snapshot, SETTINGS, TABLE};
use source::TraceSource;

/// The page buffer of an open with knobs `k` (also `events`').
pub(crate) fn buffer(k: &Snapshot) -> BufferConfig {
    BufferConfig {
        buf_pages: pages_for(k.buffer_size_kb * 1024),
        cap_bytes: MAX_OPEN_BYTES,
        map_mode: k.map_mode,
        account: k.memcg_account,
    }
}

/// `trace`.
pub(crate) struct Trace;

#[vtable]
impl RecordFile for Trace {
    type Source = TraceSource;

    fn open(_ino: u64) -> Result<TraceSource> {
        TraceSource::new(SETTINGS.snapshot())
    }

    fn buffer(source: &TraceSource) -> BufferConfig {
        buffer(&source.knobs)
    }
}

/// `trace_copy`.
pub(crate) struct TraceCopy;

#[vtable]
impl RecordFile for TraceCopy {
    type Source = TraceSource;

    fn open(_ino: u64) -> Result<TraceSource> {
        TraceSource::new(SETTINGS.snapshot())
    }

    fn seq_buffer(source: &TraceSource) -> usize {
        source.knobs.copy_buffer_size_kb * 1024
    }
}

/// `trace_ops`: the engine over the C table of [`TraceSource`].
pub(crate) struct TraceOps;

/// The C table `trace_ops` drives, with `m->private` its boxed source:
/// the engine's C path, as a C module's table through the exported API
/// takes it (`CSeqOps`, an indirect call per callback).
type TraceTable = RustTable<TraceSource>;

#[vtable]
impl RecordFile for TraceOps {
    type Source = TraceTable;

    fn open(_ino: u64) -> Result<TraceTable> {
        RustTable::new(TraceSource::new(SETTINGS.snapshot())?)
    }

    fn buffer(source: &TraceTable) -> BufferConfig {
        buffer(&source.inner().knobs)
    }
}

/// Inode number (and file table index) of the first knob file; the others
/// follow in [`TABLE`] order.
pub(crate) const FIRST_KNOB: usize = 4;

/// The record of a knob file: its value.
impl ShowOne for &'static Knob {
    fn show_one(&self, m: &SeqFile) -> Result {
        let v = self.value.load(Ordering::Relaxed);
        match self.kind {
            Kind::Num { .. } => seq_print!(m, "{v}\n"),
            Kind::Choice(names) => {
                seq_print!(m, "{}\n", names.get(v).copied().unwrap_or("?"))
            }
        }
        Ok(())
    }
}

/// The source of a knob file.
pub(crate) type KnobSource = Single<&'static Knob>;

/// A knob file.
pub(crate) struct KnobFile;

#[vtable]
impl RecordFile for KnobFile {
    type Source = KnobSource;

    fn open(ino: u64) -> Result<KnobSource> {
        let i = (ino as usize).checked_sub(FIRST_KNOB).ok_or(ENOENT)?;
        Ok(Single(TABLE.get(i).ok_or(ENOENT)?))
    }

    fn write(source: &KnobSource, input: &[u8]) -> Result {
        source.0.write(input)
    }
}
