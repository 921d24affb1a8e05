// SPDX-License-Identifier: GPL-2.0

//! The reusable part: zero-copy `splice_read` for any record source.
//!
//! Layers, each importing only those below it:
//!
//! ```text
//! simple_fs a filesystem of a table of record files
//! file      RecordFile + Vtable<T>: the file_operations, per type
//! protocol  seq_read_iter()'s protocol, splice_read, llseek (generic)
//! open      Open<S> (seq_file, buffer, source) and its SeqGuard
//! buffer    PageBuffer + Mapped / Gifter borrows
//! source    Source, SeqOps (Rust -> C table), CSeqOps (C table -> Rust)
//! seq pipe iov pages    wrappers of seq_file, pipe, iov_iter, pages
//! stats                 counters
//! window budget mode printf   pure (host-tested)
//! ```

pub(crate) mod budget;
pub(crate) mod buffer;
pub(crate) mod file;
pub(crate) mod iov;
pub(crate) mod layout;
pub(crate) mod mode;
pub(crate) mod open;
pub(crate) mod pages;
pub(crate) mod pipe;
pub(crate) mod printf;
pub(crate) mod protocol;
pub(crate) mod seq;
pub(crate) mod simple_fs;
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
    writeln!(w, "pages_alive {}", pages::pages_alive())?;
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
