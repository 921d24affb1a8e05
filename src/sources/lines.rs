// SPDX-License-Identifier: GPL-2.0

//! A second, independent source, for the tests: `lines` (through the
//! engine) and `lines_copy` (through the stock seq_file core) serve
//! [`LINES`] positions of fixed-width numbered lines, `format!("{:015}\n",
//! i)`, formatted with Rust formatting ([`seq_print!`](crate::kernel_ext::seq_file::seq_print)),
//! except that every position `i % SKIP_EVERY == SKIP_EVERY - 1` is
//! skipped (`Show::Skip`), so the engine's skip handling is exercised too.
//! Nothing of the synthetic trace (knobs, records) is used.

use kernel::prelude::*;

use crate::engine::buffer::BufferConfig;
use crate::engine::file::RecordFile;
use crate::engine::mode::MapMode;
use crate::engine::source::{At, Index, Show, Source};
use crate::engine::window::MAX_OPEN_BYTES;
use crate::kernel_ext::seq_file::{seq_print, SeqFile};

/// Positions served.
pub(crate) const LINES: i64 = 20_000;
/// Every this many positions, the last is skipped.
pub(crate) const SKIP_EVERY: i64 = 1000;

/// The numbered lines.
pub(crate) struct LinesSource;

impl Source for LinesSource {
    /// `show` consumes nothing and `start` takes no lock `show` needs.
    const RESHOW_AT_ONCE: bool = true;

    type Cursor = Index;

    fn start(&self, m: &SeqFile) -> At<Index> {
        Ok((0..LINES).contains(&m.index()).then_some(Index))
    }

    fn next(&self, m: &SeqFile, _cur: Index) -> At<Index> {
        m.set_index(m.index() + 1);
        self.start(m)
    }

    fn show(&self, m: &SeqFile, _cur: &Index) -> Result<Show> {
        let i = m.index();
        if i % SKIP_EVERY == SKIP_EVERY - 1 {
            // Written, then dropped: a skip discards what `show` wrote.
            seq_print!(m, "skipped {i}\n");
            return Ok(Show::Skip);
        }
        seq_print!(m, "{i:015}\n");
        Ok(Show::Record)
    }
}

/// `lines`: through the engine, with a 64 KiB buffer.
pub(crate) struct Lines;

#[vtable]
impl RecordFile for Lines {
    type Source = LinesSource;

    fn open(_ino: u64) -> Result<LinesSource> {
        Ok(LinesSource)
    }

    fn buffer(_source: &LinesSource) -> BufferConfig {
        BufferConfig {
            buf_pages: 16,
            cap_bytes: MAX_OPEN_BYTES,
            map_mode: MapMode::Auto,
            account: false,
        }
    }
}

/// `lines_copy`: through the stock seq_file core.
pub(crate) struct LinesCopy;

#[vtable]
impl RecordFile for LinesCopy {
    type Source = LinesSource;

    fn open(_ino: u64) -> Result<LinesSource> {
        Ok(LinesSource)
    }
}
