// SPDX-License-Identifier: GPL-2.0

//! The initialised length of a page: how many bytes at its start were
//! written since it was allocated. Pages are allocated without
//! `__GFP_ZERO` (clearing would write every gifted page twice), so the rest
//! of a page is whatever the page held before, and no reader may expose it.
//! Pure arithmetic, no kernel types (compiled into the host test crate
//! too); [`PageSet`](super::pages::PageSet) keeps one length per page.
//!
//! A range of pages is a flat byte space: flat offset `b` is byte
//! `b % PAGE` of page `b / PAGE` (a mapping of the pages, or one page).

/// Bytes of a page (the kernel's `PAGE_SIZE`, asserted at build time in
/// `src/kernel_ext/pages.rs`).
pub(crate) const PAGE: usize = 4096;

/// Bytes at the start of a page that were written since its allocation
/// (at most [`PAGE`]).
pub(crate) type InitLen = u16;

/// Initialised bytes from flat offset `off` of pages `init` on, without a
/// gap, at most `max`: what a reader starting at `off` may see.
pub(crate) fn extent(init: &[InitLen], off: usize, max: usize) -> usize {
    let (mut page, mut at) = (off / PAGE, off % PAGE);
    let mut n = 0;
    while n < max {
        let Some(&l) = init.get(page) else {
            break;
        };
        let l = usize::from(l);
        if l <= at {
            break;
        }
        n += l - at;
        if l < PAGE {
            break;
        }
        page += 1;
        at = 0;
    }
    n.min(max)
}

/// Whether bytes `[off, off + len)` of one page with `init` initialised
/// bytes were all written.
pub(crate) fn covers(init: InitLen, off: usize, len: usize) -> bool {
    off.checked_add(len)
        .is_some_and(|end| end <= usize::from(init))
}

/// Records that bytes `[off, off + len)` of the flat space of `init` were
/// written. A page's length grows only where the range starts at or
/// before it, so it stays a prefix with no unwritten gap; bytes past the
/// last page are ignored.
pub(crate) fn mark(init: &mut [InitLen], off: usize, len: usize) {
    let (mut page, mut at) = (off / PAGE, off % PAGE);
    let mut left = len;
    while left > 0 {
        let Some(l) = init.get_mut(page) else {
            break;
        };
        let end = at.saturating_add(left).min(PAGE);
        if usize::from(*l) >= at && usize::from(*l) < end {
            // `end <= PAGE`, which fits.
            *l = end as InitLen;
        }
        left -= end - at;
        page += 1;
        at = 0;
    }
}
