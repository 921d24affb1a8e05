// SPDX-License-Identifier: GPL-2.0

//! Pure arithmetic of the spliced window: no kernel types.
//!
//! The seq_file window `[from, from + count)` is the undelivered data, in
//! the buffer's byte space (`layout.rs` says which page holds which byte);
//! pages `[0, gifted)` have had a reference given to a pipe and are never
//! written again. The same file is compiled into the module and into the host test
//! crate (`tests/host`), which checks these functions with property tests.

/// Page size the module is built for: x86-64's. The module crate asserts at
/// build time that it equals the kernel's `PAGE_SIZE` (`src/seqsplice_main.rs`),
/// and Kbuild refuses any other architecture.
pub(crate) const PAGE_SIZE: usize = 4096;

/// Most bytes one open's buffer may hold, every page included: the growth
/// for a record that does not fit, and the page of slack behind a splice
/// fill.
pub(crate) const MAX_OPEN_BYTES: usize = 16 << 20;

/// [`MAX_OPEN_BYTES`] in pages.
pub(crate) const MAX_OPEN_PAGES: usize = MAX_OPEN_BYTES / PAGE_SIZE;

/// Number of pages needed to hold `bytes`.
pub(crate) const fn pages_for(bytes: usize) -> usize {
    bytes.div_ceil(PAGE_SIZE)
}

/// How many bytes a fill for a splice should produce: enough for `len`
/// (at least one page, so a tiny splice leaves a tail for the next call
/// instead of regenerating per byte), no more than the pipe can take in one
/// call (`slots` pages) and no more than the buffer (`buf_pages`).
pub(crate) fn splice_fill_target(len: usize, slots: usize, buf_pages: usize) -> usize {
    let want = pages_for(len.max(1));
    want.min(slots).min(buf_pages).max(1) * PAGE_SIZE
}

/// Pages a fill for a `read()` of `want` bytes maps: enough for `want` and
/// one page to finish the last record, within the buffer (`buf_pages`).
pub(crate) fn read_fill_pages(want: usize, buf_pages: usize) -> usize {
    (pages_for(want.max(1)) + 1).min(buf_pages).max(1)
}

/// How many bytes of window a splice wants when the window starts `offset`
/// bytes into a page no pipe holds: what `slots` pages from that page on
/// can carry, at most `len`.
pub(crate) fn append_target(offset: usize, len: usize, slots: usize) -> usize {
    (slots * PAGE_SIZE).saturating_sub(offset).min(len)
}

/// A call at offset `pos` while the file is at `read_pos` with `from` bytes
/// of already delivered data still held in the buffer: if `pos` falls inside
/// that held data (the sendfile rewind after a short write,
/// `splice_direct_to_actor()`), returns the window start that serves `pos`
/// without regenerating.
pub(crate) fn rewind_from(pos: u64, read_pos: u64, from: usize) -> Option<usize> {
    if pos >= read_pos {
        return None;
    }
    let back = read_pos - pos;
    if back <= from as u64 {
        Some(from - back as usize)
    } else {
        None
    }
}

/// The next buffer size when the first record of a fill does not fit in
/// `size` bytes: double it, in whole pages, up to `cap` bytes. `None` when
/// already at the cap.
pub(crate) fn grow(size: usize, cap: usize) -> Option<usize> {
    if size >= cap {
        return None;
    }
    let next = size.saturating_mul(2).min(cap);
    Some(pages_for(next) * PAGE_SIZE)
}

/// The next buffer size after the first record of a fill did not fit in the
/// `mapped` bytes a buffer of `asked` bytes got. When the buffer got fewer
/// bytes than asked (the global cap or memory ran out), a bigger request
/// cannot do better: `None`, the caller fails with `ENOMEM`. Otherwise as
/// [`grow`]. The sequence of sizes is strictly increasing and bounded by
/// `cap`, so a fill or regeneration retries at most `log2(cap / PAGE_SIZE)`
/// times.
pub(crate) fn grow_after_overflow(asked: usize, mapped: usize, cap: usize) -> Option<usize> {
    if mapped < asked {
        return None;
    }
    grow(mapped, cap)
}

/// Decides when a loop over records stops to reschedule and look for a
/// fatal signal: after every [`PACE_BYTES`] of output (a record counts as at
/// least [`PACE_MIN`] bytes, so records that print nothing are paced too).
/// A 64 KiB or wider record is checked after each record, a 100-byte one
/// every 656. (Every 4 KiB cost 8 % of the 64 KiB splice throughput in the
/// emulated instruction count; every 64 KiB is within the noise.)
#[derive(Clone, Debug, Default)]
pub(crate) struct Pacer {
    acc: usize,
}

/// Output between two checkpoints of a [`Pacer`]: formatting 64 KiB takes
/// well under a millisecond on hardware.
pub(crate) const PACE_BYTES: usize = 64 << 10;
/// What a record counts for at least.
pub(crate) const PACE_MIN: usize = 64;

impl Pacer {
    /// Accounts a record of `bytes`; true when the loop should check now.
    pub(crate) fn tick(&mut self, bytes: usize) -> bool {
        self.acc = self.acc.saturating_add(bytes.max(PACE_MIN));
        if self.acc >= PACE_BYTES {
            self.acc = 0;
            true
        } else {
            false
        }
    }
}

/// What to keep after the window is drained: pages `[gifted, held)` were
/// never given away and can be written again; `[0, gifted)` must be
/// discarded. Returns `(discard, keep)`.
pub(crate) fn discard_split(held: usize, gifted: usize) -> (usize, usize) {
    let d = gifted.min(held);
    (d, held - d)
}

/// Bulk allocation request sizes: never more than `cap` pages per call
/// (vmalloc uses 100 in `vm_area_alloc_pages()`, to bound preemption-off time).
pub(crate) fn bulk_chunk(missing: usize, cap: usize) -> usize {
    missing.min(cap)
}
