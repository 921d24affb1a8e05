// SPDX-License-Identifier: GPL-2.0

//! The `seqsplice` filesystem (like tracefs at /sys/kernel/tracing): the
//! file table, `stats` and `purge`.

#![forbid(unsafe_code)]

use kernel::c_str;
use kernel::prelude::*;

use crate::engine::file::{RecordFile, Vtable};
use crate::engine::source::{At, Index, Show, ShowOne, Single, Source};
use crate::engine::stats::STATS;
use crate::kernel_ext::seq_file::SeqFile;
use crate::kernel_ext::simple_fs::{self, Entry, FileTable, Files, FsType, SimpleFs};
use crate::sources::events::{EnableFile, EventsCopy, EventsFile, SizeFile};
use crate::sources::lines::{Lines, LinesCopy};
use crate::sources::mirror::{Mirror, MirrorCopy, MirrorPath};
use crate::sources::trace::knob;
use crate::sources::trace::knobs::{COUNT, NAMES};
use crate::sources::trace::{KnobFile, Trace, TraceCopy, TraceOps, FIRST_KNOB};

/// `statfs` magic of the filesystem ("SQSP").
const MAGIC: usize = 0x5351_5350;

/// The record of `stats`: every counter and gauge, a `name value` line each.
struct StatsRecord;

impl ShowOne for StatsRecord {
    fn show_one(&self, m: &SeqFile) -> Result {
        let mut w = m;
        crate::engine::write_stats(&mut w).map_err(|_| EINVAL)?;
        crate::sources::events::write_stats(&mut w).map_err(|_| EINVAL)
    }
}

/// `stats`.
struct Stats;

#[vtable]
impl RecordFile for Stats {
    type Source = Single<StatsRecord>;

    fn open(_ino: u64) -> Result<Single<StatsRecord>> {
        Ok(Single(StatsRecord))
    }
}

/// No records.
struct Empty;

impl Source for Empty {
    /// `show` consumes nothing and `start` takes no lock `show` needs.
    const RESHOW_AT_ONCE: bool = true;

    type Cursor = Index;

    fn start(&self, _m: &SeqFile) -> At<Index> {
        Ok(None)
    }

    fn next(&self, _m: &SeqFile, _cur: Index) -> At<Index> {
        Ok(None)
    }

    fn show(&self, _m: &SeqFile, _cur: &Index) -> Result<Show> {
        Ok(Show::Skip)
    }
}

/// `purge`: writing `1` flushes the lazily freed vmap areas now
/// (`vm_unmap_aliases()`), so a benchmark pays the deferred vunmap cost
/// inside the run that caused it; anything else is `EINVAL`. Reads are
/// empty.
struct Purge;

#[vtable]
impl RecordFile for Purge {
    type Source = Empty;

    fn open(_ino: u64) -> Result<Empty> {
        Ok(Empty)
    }

    fn write(_source: &Empty, input: &[u8]) -> Result {
        knob::parse_u64(input, 1, 1).map_err(|_| EINVAL)?;
        crate::kernel_ext::vmap::purge_vmap_aliases();
        STATS
            .purges
            .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

/// Modes as tracefs uses them (TRACE_MODE_READ / TRACE_MODE_WRITE).
const MODE_READ: u16 = 0o440;
const MODE_WRITE: u16 = 0o640;

/// Entries of [`FILES`]: unused 0 and root 1, trace and trace_copy, the
/// knobs, stats, purge, trace_ops, lines, lines_copy, the four events
/// files, the three mirror files and the end.
const NR_FILES: usize = FIRST_KNOB + COUNT + 13;

/// The table: fixed files around one entry per knob (whose inode numbers
/// [`KnobFile::open`] maps back to knobs).
const fn files() -> Files<NR_FILES> {
    let mut t = [Entry::NONE; NR_FILES];
    t[2] = Vtable::<Trace>::gift(c_str!("trace"), MODE_READ);
    t[3] = Vtable::<TraceCopy>::copy(c_str!("trace_copy"), MODE_READ);
    let mut i = 0;
    while i < COUNT {
        t[FIRST_KNOB + i] = Vtable::<KnobFile>::copy(NAMES[i], MODE_WRITE);
        i += 1;
    }
    let n = FIRST_KNOB + COUNT;
    t[n] = Vtable::<Stats>::copy(c_str!("stats"), MODE_READ);
    t[n + 1] = Vtable::<Purge>::copy(c_str!("purge"), 0o200);
    t[n + 2] = Vtable::<TraceOps>::gift(c_str!("trace_ops"), MODE_READ);
    t[n + 3] = Vtable::<Lines>::gift(c_str!("lines"), MODE_READ);
    t[n + 4] = Vtable::<LinesCopy>::copy(c_str!("lines_copy"), MODE_READ);
    t[n + 5] = Vtable::<EventsFile>::gift(c_str!("events"), MODE_READ);
    t[n + 6] = Vtable::<EventsCopy>::copy(c_str!("events_copy"), MODE_READ);
    t[n + 7] = Vtable::<EnableFile>::copy(c_str!("events_enable"), MODE_WRITE);
    t[n + 8] = Vtable::<SizeFile>::copy(c_str!("events_buffer_size_kb"), MODE_WRITE);
    t[n + 9] = Vtable::<Mirror>::gift(c_str!("mirror"), MODE_READ);
    t[n + 10] = Entry::target_copy::<MirrorCopy>(c_str!("mirror_copy"), MODE_READ);
    t[n + 11] = Vtable::<MirrorPath>::copy(c_str!("mirror_path"), 0o600);
    Files::new(t)
}

static FILES: Files<NR_FILES> = files();

/// The seqsplice filesystem.
struct SeqspliceFs;

impl SimpleFs for SeqspliceFs {
    const MAGIC: usize = MAGIC;
    const FILES: FileTable = FILES.table();
}

static FS_TYPE: FsType = FsType::new::<SeqspliceFs>(c_str!("seqsplice"));

/// The filesystem and its mount point, registered for the module's life.
pub(crate) struct Registration {
    _fs: simple_fs::Registration,
}

impl Registration {
    /// Creates /sys/kernel/seqsplice and registers the filesystem.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            _fs: simple_fs::Registration::new(&FS_TYPE)?,
        })
    }
}
