// SPDX-License-Identifier: GPL-2.0

//! Pure arithmetic of a buffer whose pages hold different amounts of data:
//! no kernel types (compiled into the host test crate too, which checks it
//! with property tests).
//!
//! Page `i` of a buffer holds `lens[i]` bytes of data at its start, and the
//! buffer's byte space is the concatenation of those bytes: the byte at
//! buffer offset `b` lives in the first page whose cumulative length passes
//! `b`. A buffer a mapping wrote (vmap, vm_map_ram) is *flat*: every page
//! counts [`PAGE_SIZE`] bytes, so offset `b` is page `b / PAGE_SIZE`, byte
//! `b % PAGE_SIZE`. A buffer formatted page by page through the direct map
//! ends each page where the next record did not fit, so `lens[i]` is often
//! a little short of a page; the pipe buffers it gives away then carry that
//! length (`pipe_buffer.len < PAGE_SIZE` is legal, the byte stream is the
//! same). Lengths past the data a window holds mean nothing: a fill or an
//! append sets them as it writes.

use super::window::PAGE_SIZE;

/// Bytes of data a page holds (at most [`PAGE_SIZE`]).
pub(crate) type PageLen = u16;

/// [`PAGE_SIZE`] as a page length: a page of a flat buffer.
pub(crate) const FULL: PageLen = PAGE_SIZE as PageLen;

/// Where buffer offset `off` lives: `(page, byte in page)`. Past the
/// held data: `(lens.len(), what is left over)`.
pub(crate) fn locate(lens: &[PageLen], off: usize) -> (usize, usize) {
    let mut left = off;
    for (i, &l) in lens.iter().enumerate() {
        let l = usize::from(l);
        if left < l {
            return (i, left);
        }
        left -= l;
    }
    (lens.len(), left)
}

/// The page a window starting at `off` starts in (see [`locate`]).
pub(crate) fn page_of(lens: &[PageLen], off: usize) -> usize {
    locate(lens, off).0
}

/// Where the byte after a window ending at `end` goes, when the window's
/// last page may take more: the page holding byte `end - 1`, and the byte
/// after it in that page. `(0, 0)` for an empty buffer (`end == 0`); past
/// the held data as [`locate`].
pub(crate) fn append_at(lens: &[PageLen], end: usize) -> (usize, usize) {
    if end == 0 {
        return (0, 0);
    }
    let (page, at) = locate(lens, end - 1);
    (page, at + 1)
}

/// Bytes held by the first `n` pages.
pub(crate) fn bytes_before(lens: &[PageLen], n: usize) -> usize {
    lens.iter().take(n).map(|&l| usize::from(l)).sum()
}

/// One pipe buffer to insert: `len` bytes at `offset` inside page `page`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    /// Index of the page in the buffer.
    pub(crate) page: usize,
    /// Offset of the first byte inside the page.
    pub(crate) offset: usize,
    /// Number of bytes, never zero.
    pub(crate) len: usize,
}

/// Splits the first `min(len, count)` bytes of the window starting at `from`
/// into per-page segments, at most `slots` of them (one pipe slot each),
/// each within the data its page holds.
#[derive(Clone, Debug)]
pub(crate) struct Segments<'a> {
    lens: &'a [PageLen],
    page: usize,
    offset: usize,
    left: usize,
    slots: usize,
}

impl<'a> Segments<'a> {
    /// Segments of the window `[from, from + count)` of a buffer laid out
    /// as `lens`, for a splice of `len` bytes into a pipe with `slots` free
    /// slots.
    pub(crate) fn new(
        lens: &'a [PageLen],
        from: usize,
        count: usize,
        len: usize,
        slots: usize,
    ) -> Self {
        let (page, offset) = locate(lens, from);
        Self {
            lens,
            page,
            offset,
            left: count.min(len),
            slots,
        }
    }
}

impl Iterator for Segments<'_> {
    type Item = Segment;

    fn next(&mut self) -> Option<Segment> {
        if self.left == 0 || self.slots == 0 {
            return None;
        }
        // Bounded by the pages: an empty page (a fill that stopped on a
        // fresh page) is stepped over.
        loop {
            let held = usize::from(*self.lens.get(self.page)?);
            if self.offset < held {
                let len = (held - self.offset).min(self.left);
                let seg = Segment {
                    page: self.page,
                    offset: self.offset,
                    len,
                };
                self.left -= len;
                self.slots -= 1;
                self.page += 1;
                self.offset = 0;
                return Some(seg);
            }
            self.page += 1;
            self.offset = 0;
        }
    }
}

/// What a splice into a pipe that is not the direct-splice pipe keeps once
/// it is done, with the window `[from, from + count)`: pages wholly before
/// `from` were delivered and are only needed for a rewind, which only
/// sendfile's direct-splice pipe does, and pages wholly after the window are
/// clean pages an idle open should not hold. Returns `(front, keep)`: drop
/// the first `front` pages, then keep `keep` pages (the window's); an empty
/// window keeps nothing.
pub(crate) fn idle_release(lens: &[PageLen], from: usize, count: usize) -> (usize, usize) {
    if count == 0 {
        return (0, 0);
    }
    let front = page_of(lens, from);
    let last = page_of(lens, from + count - 1);
    (front, last + 1 - front)
}

/// Sets the first `n` lengths to a full page: a mapping is about to write
/// those pages as one flat byte space.
pub(crate) fn flatten(lens: &mut [PageLen], n: usize) {
    for l in lens.iter_mut().take(n) {
        *l = FULL;
    }
}
