// SPDX-License-Identifier: GPL-2.0

//! Per-open state: the knobs snapshotted at open and, for `trace`, the
//! buffer of pages, its mapping and the gifted mark.

use core::sync::atomic::Ordering;

use kernel::prelude::*;

use crate::iov::IovDest;
use crate::knob::{MapMode, RecordMode};
use crate::knobs::Snapshot;
use crate::pages::{MetaCharge, PageRef, PageSet, VMap};
use crate::record;
use crate::seq::Locked;
use crate::stats::STATS;
use crate::window::{
    discard_split, gifted_after, pages_for, Segment, Segments, MAX_OPEN_BYTES, MAX_OPEN_PAGES,
    PAGE_SIZE,
};

/// What an open file's `seq_file::private` points to.
pub(crate) struct Open {
    /// The knobs at open (the record source reads `record_*`).
    pub(crate) knobs: Snapshot,
    /// Raw mode: the first `raw_period(width)` records, preformatted.
    pub(crate) raw: KVVec<u8>,
    /// The global cap's charge for `raw`.
    pub(crate) _raw_charge: MetaCharge,
    /// The global cap's charge for `trace_copy`'s preallocated seq buffer.
    pub(crate) _buf_charge: MetaCharge,
    /// The gifting buffer (unused by `trace_copy`).
    pub(crate) tb: TraceBuf,
}

/// The buffer of an open of `trace`.
///
/// # Invariants
///
/// - `map`, when present, maps the first `map.pages()` pages of `pages`, and
///   `m->buf` is its address; when absent `m->buf` is NULL. The one
///   exception is [`TraceBuf::map_window`], which points `m->buf` inside the
///   mapping for the records [`crate::trace`]'s `append` adds behind a
///   window, and which [`TraceBuf::rebase`] undoes before that function
///   returns. (Maintained by the methods, which all take the locked
///   seq_file.)
/// - Pages `[0, gifted)` may be referenced by a pipe: nothing writes them.
///   A mapping exists only when `gifted == 0`.
/// - No `vm_map_ram()` mapping exists while the seq_file is unlocked: the
///   lock's guard ends every call with [`TraceBuf::end_call`]
///   ([`crate::seq::SeqGuard`]), so such a mapping never outlives the call
///   that made it (`vm_map_ram()` is for short-lived mappings, and pins a
///   per-CPU vmap block). A mapping made for `read()` or `lseek()`, which
///   the next `read()` reuses, is always a `vmap()` and may persist until a
///   splice gifts the pages or the file is closed.
/// - `pages` holds at most [`MAX_OPEN_PAGES`] pages.
pub(crate) struct TraceBuf {
    // Dropped before `pages` (declaration order), though every method that
    // releases pages unmaps first anyway.
    map: Option<VMap>,
    pages: PageSet,
    gifted: usize,
    /// Buffer size of this open in pages (`buffer_size_kb` at open).
    buf_pages: usize,
    /// Largest size growth may reach for one record, in bytes.
    cap_bytes: usize,
    /// How pages are mapped for a splice (`map_mode` at open).
    map_mode: MapMode,
    /// The current call keeps its mapping for the next (`read()`, `lseek()`):
    /// map with `vmap()`.
    persist: bool,
    /// Charge pages to the memory cgroup (`memcg_account` at open).
    account: bool,
}

impl TraceBuf {
    /// An empty buffer of `buf_pages` pages at most, growable to `cap_bytes`
    /// for a record that does not fit. Allocates no page.
    pub(crate) fn new(
        buf_pages: usize,
        cap_bytes: usize,
        map_mode: MapMode,
        account: bool,
    ) -> Result<Self> {
        // INVARIANT: no page, no mapping, nothing gifted.
        Ok(Self {
            map: None,
            pages: PageSet::new(),
            gifted: 0,
            buf_pages: buf_pages.clamp(1, MAX_OPEN_PAGES),
            cap_bytes: cap_bytes.min(MAX_OPEN_BYTES),
            map_mode,
            persist: false,
            account,
        })
    }

    /// Buffer size of this open, in pages.
    pub(crate) fn buf_pages(&self) -> usize {
        self.buf_pages
    }

    /// Largest buffer a record may grow it to, in bytes.
    pub(crate) fn cap_bytes(&self) -> usize {
        self.cap_bytes
    }

    /// Pages `[0, gifted)` may be in a pipe.
    pub(crate) fn gifted(&self) -> usize {
        self.gifted
    }

    /// Pages held.
    pub(crate) fn held(&self) -> usize {
        self.pages.len()
    }

    /// A reference on the page of `seg`, for a pipe buffer: unmaps first and
    /// marks the page as gifted, so no reference leaves the module while the
    /// page is mapped and the page is never written again. `None` past the
    /// held pages or when the page's count cannot be raised.
    pub(crate) fn take_for_pipe(&mut self, l: &mut Locked<'_>, seg: &Segment) -> Option<PageRef> {
        self.unmap(l);
        let page = self.pages.get(seg.page)?;
        // INVARIANT: no mapping (above); the mark only grows and now covers
        // the page whose reference leaves.
        self.gifted = gifted_after(self.gifted, seg);
        Some(page)
    }

    /// Starts a call: `persist` for `read()` and `lseek()`, whose mapping
    /// the next `read()` reuses; not for a splice, which gives the pages
    /// away.
    pub(crate) fn begin_call(&mut self, persist: bool) {
        self.persist = persist;
    }

    /// Ends a call, with the seq_file still locked: removes a
    /// `vm_map_ram()` mapping (TraceBuf invariants), keeps a `vmap()` one.
    pub(crate) fn end_call(&mut self, l: &mut Locked<'_>) {
        if self.map.as_ref().is_some_and(|m| m.mode() != MapMode::Vmap) {
            self.unmap(l);
        }
    }

    /// Removes the mapping; `m->buf = NULL`. Runs before any page reference
    /// is given away ([`TraceBuf::take_for_pipe`]) and before the lock is
    /// dropped.
    pub(crate) fn unmap(&mut self, l: &mut Locked<'_>) {
        // INVARIANT: `m->buf` NULL and no mapping, together.
        // SAFETY: NULL with size 0: nothing can be written.
        unsafe { l.set_buf(core::ptr::null_mut(), 0) };
        self.map = None;
    }

    /// Drops the first `n` pages, delivered data no rewind will ask for
    /// again (the pipes keep their own references), and moves the rest to
    /// the front. The caller moves the window down by `n` pages.
    pub(crate) fn release_front(&mut self, l: &mut Locked<'_>, n: usize) {
        let n = n.min(self.pages.len());
        if n == 0 {
            return;
        }
        self.unmap(l);
        self.pages.release_front(n);
        // INVARIANT: the gifted prefix moves down with the pages.
        self.gifted = self.gifted.saturating_sub(n);
    }

    /// Drops the pages from `keep` on: clean pages past the window, which an
    /// idle open should not hold.
    pub(crate) fn truncate(&mut self, l: &mut Locked<'_>, keep: usize) {
        if keep < self.pages.len() {
            self.unmap(l);
            self.pages.truncate(keep);
            // INVARIANT: the gifted prefix cannot be longer than the pages.
            self.gifted = self.gifted.min(keep);
        }
    }

    /// Drops the gifted pages (the pipes keep theirs) and keeps the clean
    /// ones for reuse, moved to the front; returns how many pages went. The
    /// window must not be in a dropped page (empty, about to be reset, or
    /// moved down by that many pages by the caller).
    pub(crate) fn discard_gifted(&mut self, l: &mut Locked<'_>) -> usize {
        let (discard, _keep) = discard_split(self.pages.len(), self.gifted);
        if discard > 0 {
            self.unmap(l);
            self.pages.release_front(discard);
        }
        // INVARIANT: every page that may be in a pipe is gone.
        self.gifted = 0;
        discard
    }

    /// Makes `m->buf` a mapping of at least `size` bytes of clean pages,
    /// with `m->size = size`. Reuses the current mapping when it is big
    /// enough. Fails with `ENOMEM` when no page or mapping can be had; with
    /// fewer pages than asked, maps what it got (and `m->size` shrinks).
    /// Never more than [`MAX_OPEN_PAGES`] (the page set's capacity): a larger
    /// `size` maps that many.
    pub(crate) fn map(&mut self, l: &mut Locked<'_>, size: usize) -> Result<usize> {
        self.discard_gifted(l);
        let need = pages_for(size).max(1);
        if let Some(map) = &self.map {
            if map.pages() >= need {
                // SAFETY: `size` fits the live mapping (checked above),
                // which stays until the next `set_buf` (type invariants).
                unsafe { l.set_buf(map.addr(), size) };
                return Ok(size);
            }
        }
        self.unmap(l);
        self.pages.reserve(need)?;
        let got = self.pages.fill_to(need, self.account);
        if got == 0 {
            return Err(ENOMEM);
        }
        let n = got.min(need);
        let mode = if self.persist {
            MapMode::Vmap
        } else {
            self.map_mode
        };
        let map = VMap::new(&self.pages, n, mode)?;
        let size = size.min(n * PAGE_SIZE);
        // INVARIANT: `m->buf` is the new mapping of the first `n` pages;
        // nothing is gifted (`discard_gifted` above).
        // SAFETY: `size <= n * PAGE_SIZE`, the new mapping's length; it is
        // kept in `self.map` until it is replaced or removed, which resets
        // `m->buf` first (`unmap`).
        unsafe { l.set_buf(map.addr(), size) };
        self.map = Some(map);
        Ok(size)
    }

    /// Copies `count` bytes of the window at buffer offset `from` to `iter`:
    /// from the mapping in one go while it exists (a window only `read()`
    /// has touched), page by page once the pages went to a pipe and the
    /// mapping is gone. Returns the bytes copied (fewer on a fault).
    pub(crate) fn copy_out(&self, from: usize, count: usize, dest: &mut IovDest<'_>) -> usize {
        if let Some(map) = &self.map {
            if from + count <= map.pages() * PAGE_SIZE {
                // SAFETY: `[from, from + count)` lies inside the live mapping
                // (checked above, type invariants).
                return unsafe { dest.copy_from(map.addr().add(from), count) };
            }
        }
        let mut done = 0;
        for seg in Segments::new(from, count, count, usize::MAX) {
            let Some(&page) = self.pages.as_slice().get(seg.page) else {
                break;
            };
            // SAFETY: `page` is held by the buffer (PageSet invariants) and a
            // segment never crosses its page.
            let n = unsafe { dest.copy_page(page, seg.offset, seg.len) };
            done += n;
            if n < seg.len {
                break;
            }
        }
        done
    }

    /// Maps clean pages for a window at buffer offset `from` and points
    /// `m->buf` at `from` inside the mapping, `m->size` at most `size`, so
    /// that records are appended behind the window's `m->count` bytes.
    /// Undone by [`TraceBuf::rebase`].
    pub(crate) fn map_window(&mut self, l: &mut Locked<'_>, from: usize, size: usize) -> Result {
        let mapped = self.map(l, from + size)?;
        let map = self.map.as_ref().ok_or(ENOMEM)?;
        if mapped <= from + l.count() {
            self.rebase(l);
            return Err(ENOMEM);
        }
        // SAFETY: `from < mapped`, so the pointer stays inside the mapping.
        let buf = unsafe { map.addr().add(from) };
        // INVARIANT: the documented exception, undone by `rebase`.
        // SAFETY: `[from, mapped)` lies inside the live mapping.
        unsafe { l.set_buf(buf, mapped - from) };
        Ok(())
    }

    /// Points `m->buf` back at the start of the mapping (or NULL).
    pub(crate) fn rebase(&mut self, l: &mut Locked<'_>) {
        // INVARIANT: `m->buf` back at the mapping's start, or NULL.
        match &self.map {
            // SAFETY: The whole live mapping, or nothing.
            Some(map) => unsafe { l.set_buf(map.addr(), map.pages() * PAGE_SIZE) },
            // SAFETY: NULL with size 0: nothing can be written.
            None => unsafe { l.set_buf(core::ptr::null_mut(), 0) },
        }
    }

    /// Releases every page and the mapping (close).
    pub(crate) fn release(&mut self, l: &mut Locked<'_>) {
        self.unmap(l);
        let n = self.pages.len();
        self.pages.release_front(n);
        // INVARIANT: no page left.
        self.gifted = 0;
    }
}

/// The raw mode's table of preformatted records for `k` (empty in printf
/// mode), with its charge against the global cap (`ENOMEM` when the cap has
/// no room).
pub(crate) fn raw_table(k: &Snapshot) -> Result<(KVVec<u8>, MetaCharge)> {
    if k.record_mode != RecordMode::Raw {
        return Ok((KVVec::new(), MetaCharge::none()));
    }
    let period = record::raw_period(k.record_width);
    let len = period as usize * k.record_width;
    let charge = MetaCharge::new(len)?;
    let mut t = KVVec::from_elem(0u8, len, GFP_KERNEL)?;
    for (i, rec) in t.chunks_exact_mut(k.record_width).enumerate() {
        record::write_record(i as u64, rec);
    }
    Ok((t, charge))
}

/// Counts an open of `trace`.
pub(crate) fn count_open() {
    STATS.opens.fetch_add(1, Ordering::Relaxed);
}
