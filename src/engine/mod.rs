// SPDX-License-Identifier: GPL-2.0

//! The reusable part: zero-copy `splice_read` for any record source, on
//! the safe abstractions of [`kernel_ext`](crate::kernel_ext) alone (no
//! `unsafe` here).
//!
//! Layers, each importing only those below it:
//!
//! ```text
//! file      RecordFile + Vtable<T>: a record file's two file_operations
//!           (kernel_ext's trampolines over the GiftPath / CopyPath adapters)
//! protocol  seq_read_iter()'s protocol, splice_read, llseek (generic)
//! open      Open<S> (seq_file lock, buffer, source) and its SeqGuard
//! buffer    PageBuffer + Mapped / Direct / Gifter borrows
//! pages     Pages (page set + lengths, charged to the cap), MetaCharge
//! source    Source (= kernel_ext's SeqOperations), Single, SeqPrivate
//! stats                     counters
//! window layout budget mode pure (host-tested)
//! ```

#![forbid(unsafe_code)]

pub(crate) mod budget;
pub(crate) mod buffer;
pub(crate) mod file;
pub(crate) mod layout;
pub(crate) mod mode;
pub(crate) mod open;
pub(crate) mod pages;
pub(crate) mod protocol;
pub(crate) mod source;
pub(crate) mod stats;
pub(crate) mod window;

use core::fmt::Write;
use core::sync::atomic::Ordering;

/// Writes the engine's counters and the gauges of the global cap and the
/// page tag, a `name value` line each (the `stats` file).
pub(crate) fn write_stats(w: &mut impl Write) -> core::fmt::Result {
    stats::STATS.write_to(w)?;
    writeln!(w, "pages_held {}", pages::BUDGET.held())?;
    writeln!(w, "pages_held_max {}", pages::BUDGET.high())?;
    writeln!(w, "meta_pages_held {}", pages::BUDGET.meta())?;
    writeln!(w, "pages_alive {}", crate::kernel_ext::pages::pages_alive())?;
    // Pipe-buffer fill of the gift splices so far (the direct mode's pages
    // end where a record did not fit): bytes_spliced / pages_gifted.
    let gifted = stats::STATS.pages_gifted.load(Ordering::Relaxed);
    let spliced = stats::STATS.bytes_spliced.load(Ordering::Relaxed);
    writeln!(
        w,
        "bytes_per_gifted_page {}",
        spliced.checked_div(gifted).unwrap_or(0)
    )?;
    Ok(())
}
