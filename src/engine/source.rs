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

use kernel::prelude::*;

pub(crate) use crate::kernel_ext::seq_ops::{At, Index, SeqOperations as Source, Show};

use super::pages::MetaCharge;
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

/// The source's callbacks, unchanged.
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
        self.source.show(m, cur)
    }
}
