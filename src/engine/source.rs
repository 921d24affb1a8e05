// SPDX-License-Identifier: GPL-2.0

//! What the engine serves: a [`Source`] of records, which is
//! `struct seq_operations` in Rust
//! ([`SeqOperations`](crate::kernel_ext::seq_ops::SeqOperations)), so that
//! the same source is served by the engine and by the stock seq_file core;
//! one-record sources ([`Single`]); and the private of a source the stock
//! core serves ([`SeqPrivate`]).
//!
//! The engine is generic over the source: a Rust source's callbacks are
//! direct calls, inlined where the compiler sees fit; only a C table
//! ([`CSeqOps`](crate::kernel_ext::seq_ops::CSeqOps)) pays an indirect call
//! per callback, as the seq_file core does.

use core::sync::atomic::Ordering;

use kernel::prelude::*;

pub(crate) use crate::kernel_ext::seq_ops::{
    At, Index, SeqIdentity, SeqOperations as Source, Show,
};

use super::pages::MetaCharge;
use super::stats::STATS;
use crate::kernel_ext::sched;
use crate::kernel_ext::seq_file::SeqFile;

/// What a one-record source shows: `single_open()`'s `show`.
pub(crate) trait ShowOne: Send + Sync + 'static {
    /// Writes the record.
    fn show_one(&self, m: &SeqFile) -> Result;
}

/// A source of one record, as `single_open()` makes one.
pub(crate) struct Single<T>(pub(crate) T);

impl<T: ShowOne> Source for Single<T> {
    /// `show` consumes nothing and `start` takes no lock `show` needs.
    const RESHOW_AT_ONCE: bool = true;

    type Cursor = Index;

    fn start(&self, m: &SeqFile) -> At<Index> {
        Ok((m.index() == 0).then_some(Index))
    }

    fn next(&self, m: &SeqFile, _cur: Index) -> At<Index> {
        m.set_index(m.index() + 1);
        Ok(None)
    }

    fn show(&self, m: &SeqFile, _cur: &Index) -> Result<Show> {
        self.0.show_one(m)?;
        Ok(Show::Record)
    }
}

/// Records between two checkpoints of the stock core's loops over a
/// source ([`SeqPrivate`]'s `show`), a power of two: 25 KB of 100-byte
/// records, 256 MiB of the widest (1 MiB) ones.
const PACE_RECORDS: i64 = 256;

/// `m->private` of a seq_file the stock core runs over a source: the
/// source and the charge of a preallocated seq buffer.
pub(crate) struct SeqPrivate<S> {
    /// The records.
    pub(crate) source: S,
    charge: MetaCharge,
}

impl<S> SeqPrivate<S> {
    /// A private with no seq buffer charge.
    pub(crate) fn new(source: S) -> Self {
        Self {
            source,
            charge: MetaCharge::none(),
        }
    }

    /// Charges a seq buffer of `bytes` to the global cap (`ENOMEM` when it
    /// has no room), for as long as this value lives.
    pub(crate) fn charge(&mut self, bytes: usize) -> Result {
        self.charge = MetaCharge::new(bytes)?;
        Ok(())
    }
}

/// A checkpoint of the stock core's loops over a source: yields the CPU if
/// another task needs it; true (counted in `interrupted`) when the task has
/// a fatal signal. Out of line: the record loop only tests `m->index`.
#[cold]
#[inline(never)]
fn interrupted() -> bool {
    sched::cond_resched();
    if sched::fatal_signal_pending() {
        STATS.interrupted.fetch_add(1, Ordering::Relaxed);
        return true;
    }
    false
}

/// The source's callbacks, paced for the stock core: its loops
/// (`traverse()`, `seq_read_iter()` in fs/seq_file.c) call `->show` and
/// `->next` record after record and never yield, and a regeneration to a
/// far offset can format 10^13 bytes. So before every [`PACE_RECORDS`]th
/// record `show` yields the CPU if another task needs it (the kernel may
/// be built `PREEMPT_NONE`) and fails with `EINTR` when the task has a
/// fatal signal: `traverse()` then fails the `lseek` or read,
/// `seq_read_iter()` returns what it has, or the error. Only fatal signals
/// interrupt, as in the engine. Sleeping there is allowed: the core holds
/// only `m->lock` (a mutex) between `->start` and `->stop`, and the sources
/// hold no lock across callbacks. Not for the engine, which paces its own
/// loops and must not sleep inside a fill: it calls the source directly,
/// never through this.
///
/// In `show`, not `next`: the test of `m->index` costs 5 emulated
/// instructions per record there, 9 in `next` (a leaf that a call turns
/// into a framed function); with 100-byte records that is 1.2-3.0 % of the
/// copy path's instruction count in raw mode, 0.17 % in printf mode.
impl<S: Source> Source for SeqPrivate<S> {
    type Cursor = S::Cursor;

    const RESHOW_AT_ONCE: bool = S::RESHOW_AT_ONCE;

    #[inline(always)]
    fn start(&self, m: &SeqFile) -> At<S::Cursor> {
        self.source.start(m)
    }

    #[inline(always)]
    fn next(&self, m: &SeqFile, cur: S::Cursor) -> At<S::Cursor> {
        self.source.next(m, cur)
    }

    #[inline(always)]
    fn stop(&self, m: &SeqFile, last: &At<S::Cursor>) {
        self.source.stop(m, last)
    }

    #[inline(always)]
    fn show(&self, m: &SeqFile, cur: &S::Cursor) -> Result<Show> {
        if m.index() & (PACE_RECORDS - 1) == 0 && interrupted() {
            return Err(EINTR);
        }
        self.source.show(m, cur)
    }

    #[inline(always)]
    fn identity(&self) -> SeqIdentity {
        self.source.identity()
    }

    #[inline(always)]
    fn end_call(&self, m: &SeqFile) {
        self.source.end_call(m)
    }
}
