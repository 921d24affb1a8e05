// SPDX-License-Identifier: GPL-2.0

//! The page buffer of a gift file's open: its pages, their data lengths
//! and mapping, with the borrows that make its rules hold. The rules on
//! memory are kept by [`kernel_ext::pages`](crate::kernel_ext::pages)'s
//! types, which this file only drives:
//!
//! - `m->buf` points at memory only inside [`PageBuffer::map`],
//!   [`PageBuffer::map_window`] and [`PageBuffer::direct_writer`], whose
//!   closures get a [`Mapped`] or [`Direct`] borrow; before and after,
//!   `m->buf` points at nothing, so the seq_file never outlives the memory
//!   it writes into;
//! - a page given to a pipe is never written again: the page set marks it
//!   shared before its reference exists, maps only when nothing is shared
//!   and refuses a shared page a direct-map address, so the buffer drops
//!   the shared (gifted) pages before it maps or writes;
//! - references for a pipe are taken only by [`Gifter`], which drops the
//!   mapping first;
//! - releasing pages (front, tail, all) drops the mapping first.

use core::sync::atomic::Ordering;

use kernel::prelude::*;

use super::layout::{append_at, bytes_before, flatten, page_of, PageLen, Segment, Segments};
use super::mode::MapMode;
use super::pages::Pages;
use super::stats::STATS;
use super::window::{discard_split, pages_for, MAX_OPEN_BYTES, MAX_OPEN_PAGES, PAGE_SIZE};
use crate::kernel_ext::iov::IovDest;
use crate::kernel_ext::pages::{PageRef, PageWriter};
use crate::kernel_ext::seq_file::OwnSeqFile;
use crate::kernel_ext::vmap::MapKind;

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
/// - A mapping, when present, maps the first pages, all flat (`layout.rs`:
///   their lengths are a full page); nothing is gifted then (the page set's
///   own rule).
/// - Pages `[0, gifted())` may be referenced by a pipe: nothing writes them
///   (the page set's own rule).
/// - No `vm_map_ram()` mapping exists between calls: the engine's lock
///   guard ends every call with [`PageBuffer::end_call`], so such a mapping
///   never outlives the call that made it (`vm_map_ram()` is for
///   short-lived mappings and pins a per-CPU vmap block). A mapping made for
///   `read()` or `lseek()`, which the next `read()` reuses, is a `vmap()`
///   and may persist until a splice gifts the pages or the file is closed.
/// - `pages` holds at most [`MAX_OPEN_PAGES`] pages; `cfg.buf_pages` is in
///   `1..=MAX_OPEN_PAGES`, `cfg.cap_bytes <= MAX_OPEN_BYTES`.
pub(crate) struct PageBuffer {
    pages: Pages,
    cfg: BufferConfig,
    /// The current call keeps its mapping for the next (`read()`,
    /// `lseek()`): map with `vmap()`.
    persist: bool,
    /// The source stopped last on a record that did not fit, which it may
    /// keep to show again (`protocol::drain`).
    pending: bool,
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
            pages: Pages::new(),
            cfg,
            persist: false,
            pending: false,
        }
    }

    /// Whether the source stopped last on a record that did not fit.
    pub(crate) fn pending(&self) -> bool {
        self.pending
    }

    /// Records how the source's last iteration ended.
    pub(crate) fn set_pending(&mut self, pending: bool) {
        self.pending = pending;
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
        self.pages.shared()
    }

    /// Pages held.
    pub(crate) fn held(&self) -> usize {
        self.pages.len()
    }

    /// How this open maps its pages (`map_mode`).
    pub(crate) fn map_mode(&self) -> MapMode {
        self.cfg.map_mode
    }

    /// Whether the window `[from, from + count)` and everything before it
    /// lies in flat pages (`layout.rs`), which a mapping can write behind.
    pub(crate) fn window_is_flat(&self, from: usize, count: usize) -> bool {
        let touched = pages_for(from + count).min(self.pages.len());
        self.pages.lens()[..touched]
            .iter()
            .all(|&l| usize::from(l) == PAGE_SIZE)
    }

    /// The page holding buffer offset `off` (`layout.rs`).
    pub(crate) fn page_of(&self, off: usize) -> usize {
        page_of(self.pages.lens(), off)
    }

    /// Where buffer offset `off` lives: `(page, byte in page)`.
    pub(crate) fn locate(&self, off: usize) -> (usize, usize) {
        super::layout::locate(self.pages.lens(), off)
    }

    /// The data lengths of the held pages.
    pub(crate) fn lens(&self) -> &[PageLen] {
        self.pages.lens()
    }

    /// Starts a call: `persist` for `read()` and `lseek()`, whose mapping
    /// the next `read()` reuses; not for a splice, which gives pages away.
    pub(crate) fn begin_call(&mut self, persist: bool) {
        self.persist = persist;
    }

    /// Ends a call: removes a `vm_map_ram()` mapping (type invariants),
    /// keeps a `vmap()` one.
    pub(crate) fn end_call(&mut self) {
        if self
            .pages
            .mapping()
            .is_some_and(|m| m.kind() != MapKind::Vmap)
        {
            self.pages.unmap();
        }
    }

    /// The page references for a pipe: the mapping goes first, so no
    /// reference leaves while a page is mapped.
    pub(crate) fn gifter(&mut self) -> Gifter<'_> {
        self.pages.unmap();
        Gifter { buf: self }
    }

    /// Drops the first `n` pages, delivered data no rewind will ask for
    /// again (the pipes keep their own references), and moves the rest to
    /// the front. Returns the bytes those pages held: the caller moves the
    /// window down by as much.
    pub(crate) fn release_front(&mut self, n: usize) -> usize {
        let n = n.min(self.pages.len());
        if n == 0 {
            return 0;
        }
        let bytes = bytes_before(self.pages.lens(), n);
        // The gifted prefix moves down with the pages (the set's own).
        self.pages.release_front(n);
        bytes
    }

    /// Drops the pages from `keep` on: clean pages past the window, which an
    /// idle open should not hold.
    pub(crate) fn truncate(&mut self, keep: usize) {
        if keep < self.pages.len() {
            self.pages.truncate(keep);
        }
    }

    /// Drops the gifted pages (the pipes keep theirs) and keeps the clean
    /// ones for reuse, moved to the front; returns the bytes the dropped
    /// pages held. The window must not be in a dropped page (empty, about
    /// to be reset, or moved down by that many bytes by the caller).
    pub(crate) fn discard_gifted(&mut self) -> usize {
        let (discard, _keep) = discard_split(self.pages.len(), self.gifted());
        let mut bytes = 0;
        if discard > 0 {
            bytes = bytes_before(self.pages.lens(), discard);
            // A mapping only exists with nothing gifted (type invariants).
            self.pages.release_front(discard);
        }
        // Every page that may be in a pipe is gone: nothing is gifted.
        bytes
    }

    /// Maps at least `size` bytes of clean pages and runs `f` with `m->buf`
    /// pointing at the mapping, `m->size = size`. Reuses the current
    /// mapping when it is big enough. Fails with `ENOMEM` when no page or
    /// mapping can be had; with fewer pages than asked, maps what it got
    /// (and `m->size` is smaller). Never more than [`MAX_OPEN_PAGES`] (the
    /// page set's capacity).
    pub(crate) fn map<R>(
        &mut self,
        m: &OwnSeqFile,
        size: usize,
        f: impl FnOnce(&mut Mapped<'_, '_>) -> R,
    ) -> Result<R> {
        self.discard_gifted();
        let need = pages_for(size).max(1);
        if self.pages.mapping().map_or(true, |map| map.pages() < need) {
            self.pages.unmap();
            self.pages.reserve(need)?;
            let got = self.pages.fill_to(need, self.cfg.account);
            if got == 0 {
                return Err(ENOMEM);
            }
            let n = got.min(need);
            let mode = match self.cfg.map_mode {
                // One page needs no mapping: its direct-map address.
                MapMode::Direct | MapMode::Auto if n == 1 => MapMode::Direct,
                _ if self.persist => MapMode::Vmap,
                // Wider than a page in direct mode: a short-lived mapping.
                MapMode::Direct | MapMode::Auto => MapMode::VmMapRam,
                mode => mode,
            };
            // INVARIANT: the first pages, all clean (`discard_gifted` above),
            // made flat below before anything writes them.
            self.pages.map(n, mode)?;
        }
        let mapped = self.pages.mapping().ok_or(ENOMEM)?.pages();
        flatten(self.pages.lens_mut(), mapped);
        let size = size.min(mapped * PAGE_SIZE);
        self.pages.write_with(m, |w, _| {
            let size = w.target_mapping(0, size)?;
            Ok(f(&mut Mapped { w, size }))
        })
    }

    /// Maps clean pages for the window `[m->from, m->from + m->count)`,
    /// which lies in pages no pipe holds, and runs `f` with `m->buf`
    /// pointing at the window inside the mapping, `m->size` at most `size`,
    /// so that records are appended behind its `m->count` bytes. The gifted
    /// pages before the window are dropped first and the window moved down
    /// with the rest. `ENOMEM` when there is no room behind the window.
    pub(crate) fn map_window<R>(
        &mut self,
        m: &OwnSeqFile,
        size: usize,
        f: impl FnOnce(&mut Mapped<'_, '_>) -> R,
    ) -> Result<R> {
        let shift = self.discard_gifted();
        m.set_from(m.from() - shift);
        let (from, count) = (m.from(), m.count());
        // A mapping writes a flat byte space: a window laid out page by
        // page (direct mode) is appended to by a `Direct` borrow instead.
        if !self.window_is_flat(from, count) {
            return Err(EINVAL);
        }
        self.map(m, from + size, |mp| {
            let bytes = mp.size;
            if bytes <= from + count {
                return Err(ENOMEM);
            }
            mp.size = mp.w.target_mapping(from, bytes - from)?;
            Ok(f(mp))
        })?
    }

    /// Copies `count` bytes of the window at buffer offset `from` to `dest`:
    /// from the mapping in one go while it exists (a window only `read()`
    /// has touched), page by page once the pages went to a pipe and the
    /// mapping is gone. Returns the bytes copied (fewer on a fault).
    pub(crate) fn copy_out(&self, from: usize, count: usize, dest: &mut IovDest<'_>) -> usize {
        if let Some(n) = self
            .pages
            .mapping()
            .and_then(|map| dest.copy_mapping(map, from, count))
        {
            return n;
        }
        let mut done = 0;
        for seg in Segments::new(self.pages.lens(), from, count, count, usize::MAX) {
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
        let n = self.pages.len();
        // The mapping first (the set's own rule); nothing gifted is left.
        self.pages.release_front(n);
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
    /// Gives the pages of the window `[from, from + count)`, at most `len`
    /// bytes in at most `slots` segments, to `add`, which inserts each into
    /// the pipe; each page is gifted from the moment its reference exists.
    /// Returns the bytes and segments `add` took and the error that
    /// stopped it (`EFAULT` when a page's count cannot be raised, as
    /// `link_pipe()` when `pipe_buf_get()` fails).
    pub(crate) fn give(
        &mut self,
        from: usize,
        count: usize,
        len: usize,
        slots: usize,
        add: impl FnMut(PageRef, &Segment) -> Result,
    ) -> (usize, usize, Option<Error>) {
        self.buf.pages.give(from, count, len, slots, add)
    }
}

/// `m->buf` pointing into the mapping of clean pages, inside the closure of
/// [`PageBuffer::map`] or [`PageBuffer::map_window`].
///
/// # Invariants
///
/// `m->buf` points at `size` bytes of the mapping.
pub(crate) struct Mapped<'a, 'b> {
    w: &'a mut PageWriter<'b>,
    size: usize,
}

impl Mapped<'_, '_> {
    /// Bytes `m->buf` points at.
    pub(crate) fn size(&self) -> usize {
        self.size
    }
}

impl core::ops::Deref for Mapped<'_, '_> {
    type Target = OwnSeqFile;

    fn deref(&self) -> &OwnSeqFile {
        self.w
    }
}

/// `m->buf` pointing at the direct-map address of one clean page at a
/// time, for formatting records page by page with no mapping
/// (`map_mode=direct`), inside the closure of
/// [`PageBuffer::direct_writer`]: the record that does not fit the rest of
/// a page is shown again at the start of the next one, and each page keeps
/// the length it got (`layout.rs`). Meanwhile `m->size` is a page and
/// `m->count` the bytes in the current page, as for a one-page seq buffer;
/// when the closure returns, the page's length is set and `m->count` is the
/// whole window again.
///
/// # Invariants
///
/// - `m->buf` is the direct-map address of held page `page`, `m->size`
///   is [`PAGE_SIZE`], `m->count` is at most that;
/// - `base` is the bytes pages `[0, page)` hold; pages `[page, limit)` are
///   held (allocated before the borrow began: it never allocates), `limit`
///   at most [`MAX_OPEN_PAGES`];
///   `from` is `m->from`, at most `base + m->count`.
pub(crate) struct Direct<'a, 'b> {
    w: &'a mut PageWriter<'b>,
    lens: &'a mut [PageLen],
    page: usize,
    base: usize,
    limit: usize,
    from: usize,
    start: (usize, usize, usize),
}

impl PageBuffer {
    /// Runs `f` writing records behind the window `[m->from, m->from +
    /// m->count)` (an empty window for a fill) on at most `span` pages
    /// counted from the window's first page, every one of them allocated
    /// before `f` runs: a [`Direct`] borrow cannot allocate, so nothing
    /// sleeps for memory between a source's `start` and `stop` (seq_file's
    /// contract), and a fill ends where its pages end. The gifted pages
    /// before the window are dropped first and the window moved down with
    /// the rest. `EINVAL` (nothing changed) when the window starts in a
    /// gifted page; `ENOMEM` when no page behind the window can be had.
    pub(crate) fn direct_writer<R>(
        &mut self,
        m: &OwnSeqFile,
        span: usize,
        f: impl FnOnce(&mut Direct<'_, '_>) -> R,
    ) -> Result<R> {
        let nonempty = m.count() > 0;
        if nonempty && self.page_of(m.from()) < self.gifted() {
            return Err(EINVAL);
        }
        self.pages.unmap();
        let shift = self.discard_gifted();
        if nonempty {
            // The window lies in pages no pipe holds, behind the gifted
            // ones (checked above), so it starts at or after `shift`.
            m.set_from(m.from().saturating_sub(shift));
        } else {
            // An empty window (a fill) starts the buffer afresh.
            m.set_from(0);
        }
        let (from, count) = (m.from(), m.count());
        let first = self.page_of(from);
        let (mut page, mut off) = append_at(self.pages.lens(), from + count);
        if off >= PAGE_SIZE {
            page += 1;
            off = 0;
        }
        let limit = first.saturating_add(span).min(MAX_OPEN_PAGES);
        if page >= limit {
            return Err(ENOMEM);
        }
        self.pages.reserve(limit)?;
        // Every page the writer may use, now; fewer when memory or the cap
        // ran short, and the writer stops there.
        let limit = self.pages.fill_to(limit, self.cfg.account).min(limit);
        if limit <= page {
            return Err(ENOMEM);
        }
        let base = bytes_before(self.pages.lens(), page);
        self.pages.write_with(m, |w, lens| {
            // A held page no pipe holds (`discard_gifted` above dropped
            // every gifted page, and only a `Gifter`, which needs the buffer
            // this borrows, gifts).
            w.target_page(page)?;
            lens[page] = off as PageLen;
            w.set_count(off);
            // INVARIANT: set above; pages `[page, limit)` are held.
            let mut d = Direct {
                w,
                lens,
                page,
                base,
                limit,
                from,
                start: (page, base, off),
            };
            let r = f(&mut d);
            d.finish();
            Ok(r)
        })
    }
}

impl Direct<'_, '_> {
    /// Bytes of window: the earlier pages' and the current page's.
    pub(crate) fn total(&self) -> usize {
        (self.base + self.w.count()).saturating_sub(self.from)
    }

    /// Closes the current page at `m->count` bytes and points `m->buf` at
    /// the next page, empty; false (nothing changed) when no page is left
    /// below the limit.
    pub(crate) fn next_page(&mut self) -> bool {
        let next = self.page + 1;
        if next >= self.limit {
            return false;
        }
        let count = self.w.count().min(PAGE_SIZE);
        if self.w.target_page(next).is_err() {
            return false;
        }
        self.lens[self.page] = count as PageLen;
        self.lens[next] = 0;
        self.base += count;
        self.page = next;
        // INVARIANT: `base` covers the closed page; the new one is empty.
        self.w.set_count(0);
        STATS.direct_pages.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Forgets what was written: back to the window as it was when this
    /// borrow began.
    pub(crate) fn reset(&mut self) {
        let (page, base, off) = self.start;
        if page != self.page && self.w.target_page(page).is_err() {
            return;
        }
        // INVARIANT: the starting page, its starting fill.
        self.page = page;
        self.base = base;
        self.w.set_count(off);
    }

    /// Sets the current page's length and points `m->count` back at the
    /// whole window (the writer then points `m->buf` at nothing).
    fn finish(&mut self) {
        let count = self.w.count().min(PAGE_SIZE);
        if let Some(l) = self.lens.get_mut(self.page) {
            *l = count as PageLen;
        }
        let total = self.total();
        self.w.set_count(total);
    }
}

impl core::ops::Deref for Direct<'_, '_> {
    type Target = OwnSeqFile;

    fn deref(&self) -> &OwnSeqFile {
        self.w
    }
}
