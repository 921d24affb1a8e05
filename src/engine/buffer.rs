// SPDX-License-Identifier: GPL-2.0

//! The page buffer of a gift file's open: its pages, their mapping and the
//! gifted mark, owned together, with the borrows that make its rules hold:
//!
//! - only a [`Mapped`] borrow points `m->buf` at memory, and dropping it
//!   points `m->buf` back at nothing, so the seq_file never outlives the
//!   mapping it writes into;
//! - only clean pages are mapped: [`PageBuffer::map`] drops the gifted ones
//!   first, so a gifted page has no writable address;
//! - only a [`Gifter`], which exists once the mapping is gone, can take the
//!   page references that go to a pipe, and it marks each page gifted
//!   before its reference exists;
//! - releasing pages (front, tail, all) drops the mapping first.

use kernel::prelude::*;

use super::iov::IovDest;
use super::mode::MapMode;
use super::pages::{PageRef, PageSet, VMap};
use super::seq::SeqFile;
use super::window::{
    discard_split, gifted_after, pages_for, Segment, Segments, MAX_OPEN_BYTES, MAX_OPEN_PAGES,
    PAGE_SIZE,
};

/// How an open's buffer behaves, fixed at open.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BufferConfig {
    /// Buffer size in pages (a fill's most, growth aside).
    pub(crate) buf_pages: usize,
    /// Largest size growth may reach for one record, in bytes.
    pub(crate) cap_bytes: usize,
    /// How pages are mapped for a splice.
    pub(crate) map_mode: MapMode,
    /// Charge pages to the memory cgroup of the allocating task.
    pub(crate) account: bool,
}

/// The buffer of an open of a gift file.
///
/// # Invariants
///
/// - `map`, when present, maps the first `map.pages()` pages of `pages`,
///   and then nothing is gifted (`gifted == 0`).
/// - Pages `[0, gifted)` may be referenced by a pipe: nothing writes them
///   (they are never mapped again).
/// - No `vm_map_ram()` mapping exists between calls: the engine's lock
///   guard ends every call with [`PageBuffer::end_call`], so such a mapping
///   never outlives the call that made it (`vm_map_ram()` is for
///   short-lived mappings and pins a per-CPU vmap block). A mapping made for
///   `read()` or `lseek()`, which the next `read()` reuses, is a `vmap()`
///   and may persist until a splice gifts the pages or the file is closed.
/// - `pages` holds at most [`MAX_OPEN_PAGES`] pages; `cfg.buf_pages` is in
///   `1..=MAX_OPEN_PAGES`, `cfg.cap_bytes <= MAX_OPEN_BYTES`.
pub(crate) struct PageBuffer {
    pages: PageSet,
    map: Option<VMap>,
    gifted: usize,
    cfg: BufferConfig,
    /// The current call keeps its mapping for the next (`read()`,
    /// `lseek()`): map with `vmap()`.
    persist: bool,
}

impl PageBuffer {
    /// An empty buffer; allocates no page.
    pub(crate) fn new(cfg: BufferConfig) -> Self {
        let cfg = BufferConfig {
            buf_pages: cfg.buf_pages.clamp(1, MAX_OPEN_PAGES),
            cap_bytes: cfg.cap_bytes.min(MAX_OPEN_BYTES),
            ..cfg
        };
        // INVARIANT: no page, no mapping, nothing gifted; limits clamped.
        Self {
            pages: PageSet::new(),
            map: None,
            gifted: 0,
            cfg,
            persist: false,
        }
    }

    /// Buffer size of this open, in pages.
    pub(crate) fn buf_pages(&self) -> usize {
        self.cfg.buf_pages
    }

    /// Largest buffer a record may grow it to, in bytes.
    pub(crate) fn cap_bytes(&self) -> usize {
        self.cfg.cap_bytes
    }

    /// Pages `[0, gifted)` may be in a pipe.
    pub(crate) fn gifted(&self) -> usize {
        self.gifted
    }

    /// Pages held.
    pub(crate) fn held(&self) -> usize {
        self.pages.len()
    }

    /// Starts a call: `persist` for `read()` and `lseek()`, whose mapping
    /// the next `read()` reuses; not for a splice, which gives pages away.
    pub(crate) fn begin_call(&mut self, persist: bool) {
        self.persist = persist;
    }

    /// Ends a call: removes a `vm_map_ram()` mapping (type invariants),
    /// keeps a `vmap()` one.
    pub(crate) fn end_call(&mut self) {
        if self.map.as_ref().is_some_and(|m| m.mode() != MapMode::Vmap) {
            self.map = None;
        }
    }

    /// The page references for a pipe: the mapping goes first, so no
    /// reference leaves while a page is mapped.
    pub(crate) fn gifter(&mut self) -> Gifter<'_> {
        self.map = None;
        Gifter { buf: self }
    }

    /// Drops the first `n` pages, delivered data no rewind will ask for
    /// again (the pipes keep their own references), and moves the rest to
    /// the front. The caller moves the window down by `n` pages.
    pub(crate) fn release_front(&mut self, n: usize) {
        let n = n.min(self.pages.len());
        if n == 0 {
            return;
        }
        self.map = None;
        self.pages.release_front(n);
        // INVARIANT: the gifted prefix moves down with the pages.
        self.gifted = self.gifted.saturating_sub(n);
    }

    /// Drops the pages from `keep` on: clean pages past the window, which an
    /// idle open should not hold.
    pub(crate) fn truncate(&mut self, keep: usize) {
        if keep < self.pages.len() {
            self.map = None;
            self.pages.truncate(keep);
            // INVARIANT: the gifted prefix cannot be longer than the pages.
            self.gifted = self.gifted.min(keep);
        }
    }

    /// Drops the gifted pages (the pipes keep theirs) and keeps the clean
    /// ones for reuse, moved to the front; returns how many pages went. The
    /// window must not be in a dropped page (empty, about to be reset, or
    /// moved down by that many pages by the caller).
    pub(crate) fn discard_gifted(&mut self) -> usize {
        let (discard, _keep) = discard_split(self.pages.len(), self.gifted);
        if discard > 0 {
            // A mapping only exists with nothing gifted (type invariants).
            self.map = None;
            self.pages.release_front(discard);
        }
        // INVARIANT: every page that may be in a pipe is gone.
        self.gifted = 0;
        discard
    }

    /// Maps at least `size` bytes of clean pages and points `m->buf` at the
    /// mapping, `m->size = size`, for as long as the returned borrow lives.
    /// Reuses the current mapping when it is big enough. Fails with `ENOMEM`
    /// when no page or mapping can be had; with fewer pages than asked, maps
    /// what it got (and `m->size` is smaller). Never more than
    /// [`MAX_OPEN_PAGES`] (the page set's capacity).
    pub(crate) fn map<'a>(&'a mut self, m: &'a mut SeqFile, size: usize) -> Result<Mapped<'a>> {
        self.discard_gifted();
        let need = pages_for(size).max(1);
        if self.map.as_ref().map_or(true, |map| map.pages() < need) {
            self.map = None;
            self.pages.reserve(need)?;
            let got = self.pages.fill_to(need, self.cfg.account);
            if got == 0 {
                return Err(ENOMEM);
            }
            let mode = if self.persist {
                MapMode::Vmap
            } else {
                self.cfg.map_mode
            };
            // INVARIANT: the first pages, all clean (`discard_gifted` above).
            self.map = Some(VMap::new(&self.pages, got.min(need), mode)?);
        }
        let map = self.map.as_ref().ok_or(ENOMEM)?;
        let size = size.min(map.pages() * PAGE_SIZE);
        Ok(Mapped::new(m, map, 0, size))
    }

    /// Maps clean pages for the window `[m->from, m->from + m->count)`,
    /// which lies in pages no pipe holds, and points `m->buf` at the window
    /// inside the mapping, `m->size` at most `size`, so that records are
    /// appended behind its `m->count` bytes. The gifted pages before the
    /// window are dropped first and the window moved down with the rest.
    /// `ENOMEM` when there is no room behind the window.
    pub(crate) fn map_window<'a>(
        &'a mut self,
        m: &'a mut SeqFile,
        size: usize,
    ) -> Result<Mapped<'a>> {
        let shift = self.discard_gifted() * PAGE_SIZE;
        m.set_from(m.from() - shift);
        let (from, count) = (m.from(), m.count());
        let mapped = self.map(m, from + size)?;
        let bytes = mapped.size;
        if bytes <= from + count {
            return Err(ENOMEM);
        }
        Ok(mapped.rebase(from, bytes - from))
    }

    /// Copies `count` bytes of the window at buffer offset `from` to `dest`:
    /// from the mapping in one go while it exists (a window only `read()`
    /// has touched), page by page once the pages went to a pipe and the
    /// mapping is gone. Returns the bytes copied (fewer on a fault).
    pub(crate) fn copy_out(&self, from: usize, count: usize, dest: &mut IovDest<'_>) -> usize {
        if let Some(map) = &self.map {
            if from + count <= map.pages() * PAGE_SIZE {
                // SAFETY: `[from, from + count)` lies inside the live
                // mapping (checked above, `VMap` invariants).
                return unsafe { dest.copy_from(map.addr().add(from), count) };
            }
        }
        let mut done = 0;
        for seg in Segments::new(from, count, count, usize::MAX) {
            let Some(page) = self.pages.page(seg.page) else {
                break;
            };
            let n = dest.copy_page(page, seg.offset, seg.len);
            done += n;
            if n < seg.len {
                break;
            }
        }
        done
    }

    /// Releases every page and the mapping (close, or a failed call).
    pub(crate) fn release(&mut self) {
        self.map = None;
        let n = self.pages.len();
        self.pages.release_front(n);
        // INVARIANT: no page left.
        self.gifted = 0;
    }
}

impl Drop for PageBuffer {
    fn drop(&mut self) {
        // The mapping before the pages it maps, whatever the field order.
        self.map = None;
    }
}

/// A buffer with no mapping, handing out references to its pages for a
/// pipe; each page is marked gifted before its reference exists.
///
/// # Invariants
///
/// `buf` has no mapping for the life of this value: [`PageBuffer::gifter`]
/// drops it before making the value, and the exclusive borrow keeps
/// anything from mapping again until the value is gone.
pub(crate) struct Gifter<'a> {
    buf: &'a mut PageBuffer,
}

impl Gifter<'_> {
    /// A reference on the page of `seg`, which is gifted from now on; `None`
    /// past the held pages or when the page's count cannot be raised.
    pub(crate) fn take(&mut self, seg: &Segment) -> Option<PageRef> {
        if seg.page >= self.buf.pages.len() {
            return None;
        }
        // INVARIANT: no mapping (made by `PageBuffer::gifter`, which this
        // borrows); the mark only grows and covers the page before its
        // reference leaves.
        self.buf.gifted = gifted_after(self.buf.gifted, seg);
        self.buf.pages.get(seg.page)
    }
}

/// `m->buf` pointing into a live mapping of clean pages, for as long as
/// this borrow lives; dropping it points `m->buf` at nothing again.
///
/// # Invariants
///
/// `m->buf` is `map.addr() + off` and `m->size` is `size`, with
/// `off + size <= map.pages() * PAGE_SIZE`; `map` stays alive (borrowed)
/// for the life of this value.
pub(crate) struct Mapped<'a> {
    m: &'a mut SeqFile,
    map: &'a VMap,
    size: usize,
}

impl<'a> Mapped<'a> {
    fn new(m: &'a mut SeqFile, map: &'a VMap, off: usize, size: usize) -> Self {
        let size = size.min((map.pages() * PAGE_SIZE).saturating_sub(off));
        let off = off.min(map.pages() * PAGE_SIZE);
        // SAFETY: `[off, off + size)` lies inside the live mapping (clamped
        // above), which `map` borrows for the life of the value; `drop`
        // resets the pointer before the borrow ends.
        unsafe { m.set_buf(map.addr().add(off), size) };
        // INVARIANT: set above.
        Self { m, map, size }
    }

    /// Points `m->buf` at buffer offset `off` of the same mapping, `size`
    /// bytes at most.
    fn rebase(mut self, off: usize, size: usize) -> Self {
        let size = size.min((self.map.pages() * PAGE_SIZE).saturating_sub(off));
        let off = off.min(self.map.pages() * PAGE_SIZE);
        // SAFETY: As in `new`.
        unsafe { self.m.set_buf(self.map.addr().add(off), size) };
        // INVARIANT: set above.
        self.size = size;
        self
    }

    /// Bytes `m->buf` points at.
    pub(crate) fn size(&self) -> usize {
        self.size
    }
}

impl core::ops::Deref for Mapped<'_> {
    type Target = SeqFile;

    fn deref(&self) -> &SeqFile {
        self.m
    }
}

impl core::ops::DerefMut for Mapped<'_> {
    fn deref_mut(&mut self) -> &mut SeqFile {
        self.m
    }
}

impl Drop for Mapped<'_> {
    fn drop(&mut self) {
        // SAFETY: NULL with size 0: nothing can be written.
        unsafe { self.m.set_buf(core::ptr::null_mut(), 0) };
    }
}
