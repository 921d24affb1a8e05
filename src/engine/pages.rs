// SPDX-License-Identifier: GPL-2.0

//! The engine's pages: a [`PageSet`] with the data length of each page
//! (`layout.rs`), charged to the global cap ([`BUDGET`]) and counted in
//! [`STATS`]; and the cap's charges for metadata ([`MetaCharge`]).

use core::sync::atomic::Ordering;

use kernel::prelude::*;

use super::budget::Budget;
use super::layout::{PageLen, Segment, Segments, FULL};
use super::mode::MapMode;
use super::stats::STATS;
use super::window::{bulk_chunk, pages_for, MAX_OPEN_PAGES, PAGE_SIZE};
use crate::kernel_ext::pages::{PageRef, PageSet, PageView, PageWriter};
use crate::kernel_ext::seq_file::OwnSeqFile;
use crate::kernel_ext::vmap::{MapKind, VMap};

/// Pages asked of the bulk allocator in one call (vmalloc's cap in
/// `vm_area_alloc_pages()`: bounds the time spent with preemption off).
const BULK_CAP: usize = 100;

/// Default global cap on pages held by all open files together (64 MiB;
/// the `buffer_total_kb` knob).
pub(crate) const GLOBAL_PAGE_CAP: usize = (64 << 20) / PAGE_SIZE;

/// Everything the opens hold, in pages: buffer pages, page arrays, raw
/// tables and `trace_copy`'s preallocated seq buffers.
pub(crate) static BUDGET: Budget = Budget::new(GLOBAL_PAGE_CAP);

/// Room charged to [`BUDGET`] for metadata, given back on drop.
///
/// # Invariants
///
/// `pages` pages of metadata room are held in [`BUDGET`] by this value.
pub(crate) struct MetaCharge {
    pages: usize,
}

impl MetaCharge {
    /// Charges room for `bytes` of metadata, rounded up to pages; `ENOMEM`
    /// when the cap has no room.
    pub(crate) fn new(bytes: usize) -> Result<Self> {
        let pages = pages_for(bytes);
        if !BUDGET.reserve_meta(pages) {
            return Err(ENOMEM);
        }
        // INVARIANT: reserved above.
        Ok(Self { pages })
    }

    /// No room (for an open that allocates no metadata).
    pub(crate) const fn none() -> Self {
        // INVARIANT: nothing is held.
        Self { pages: 0 }
    }

    /// Re-charges for `bytes` of metadata: `ENOMEM`, nothing changed, when
    /// the cap has no room for the growth.
    pub(crate) fn resize(&mut self, bytes: usize) -> Result {
        let pages = pages_for(bytes);
        if pages > self.pages {
            if !BUDGET.reserve_meta(pages - self.pages) {
                return Err(ENOMEM);
            }
        } else {
            BUDGET.release_meta(self.pages - pages);
        }
        // INVARIANT: the difference was reserved or given back above.
        self.pages = pages;
        Ok(())
    }
}

impl MetaCharge {
    /// Gives back what is charged beyond `bytes` (nothing if less is held).
    pub(crate) fn shrink_to(&mut self, bytes: usize) {
        let pages = pages_for(bytes);
        if pages < self.pages {
            BUDGET.release_meta(self.pages - pages);
            // INVARIANT: the difference was given back above.
            self.pages = pages;
        }
    }
}

impl Drop for MetaCharge {
    fn drop(&mut self) {
        BUDGET.release_meta(self.pages);
    }
}

/// Somewhere pages can be allocated into: a [`PageSet`] (a [`PageWriter`],
/// which a source writes through between its `start` and `stop`, cannot
/// allocate: nothing sleeps for memory there).
trait Alloc {
    /// Pages held.
    fn held(&self) -> usize;
    /// Room for pages.
    fn room(&self) -> usize;
    /// One allocation of at most `n` pages ([`PageSet::alloc`]).
    fn alloc(&mut self, n: usize, account: bool) -> usize;
}

impl Alloc for PageSet {
    fn held(&self) -> usize {
        self.len()
    }

    fn room(&self) -> usize {
        self.capacity()
    }

    fn alloc(&mut self, n: usize, account: bool) -> usize {
        PageSet::alloc(self, n, account)
    }
}

/// Allocates pages into `a` until `want` (at most its room) are held, in
/// bulk batches; `lens` are the pages' data lengths. Each batch's room is
/// reserved in [`BUDGET`] first and what the allocator did not deliver is
/// given back, so concurrent fills never overshoot the cap. Stops short,
/// counting a shortfall, when memory or the cap runs out. Returns the
/// number of pages now held.
fn fill_to(a: &mut impl Alloc, lens: &mut [PageLen], want: usize, account: bool) -> usize {
    let want = want.min(a.room());
    while a.held() < want {
        let n = BUDGET.reserve(bulk_chunk(want - a.held(), BULK_CAP));
        if n == 0 {
            break;
        }
        let before = a.held();
        let got = a.alloc(n, account);
        STATS.bulk_calls.fetch_add(1, Ordering::Relaxed);
        BUDGET.release(n - got);
        if got == 0 {
            break;
        }
        // A new page is a flat one until a fill says otherwise.
        for l in lens.iter_mut().skip(before).take(got) {
            *l = FULL;
        }
        STATS
            .pages_allocated
            .fetch_add(got as u64, Ordering::Relaxed);
    }
    if a.held() < want {
        STATS.alloc_shortfalls.fetch_add(1, Ordering::Relaxed);
    }
    a.held()
}

/// The pages of an open's buffer and their data lengths.
///
/// # Invariants
///
/// - The `set.len()` pages held are charged to [`BUDGET`], and `charge`
///   covers the set's array and `lens`; `set.capacity() <= MAX_OPEN_PAGES`.
/// - `lens.len() >= set.capacity()`: `lens[i]` is the data length of page
///   `i` (`layout.rs`), at most [`PAGE_SIZE`].
pub(crate) struct Pages {
    set: PageSet,
    lens: KVVec<PageLen>,
    charge: MetaCharge,
}

impl Pages {
    /// An empty set with no room.
    pub(crate) fn new() -> Self {
        // INVARIANT: no page, no array.
        Self {
            set: PageSet::new(),
            lens: KVVec::new(),
            charge: MetaCharge::none(),
        }
    }

    /// Number of pages held.
    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }

    /// Pages `[0, shared)` may be in a pipe: never written again.
    pub(crate) fn shared(&self) -> usize {
        self.set.shared()
    }

    /// The data lengths of the held pages (`layout.rs`).
    pub(crate) fn lens(&self) -> &[PageLen] {
        &self.lens[..self.set.len()]
    }

    /// The data lengths of the held pages, to set as a fill writes them.
    pub(crate) fn lens_mut(&mut self) -> &mut [PageLen] {
        &mut self.lens[..self.set.len()]
    }

    /// A borrow of held page `i`, to read from; `None` past the end.
    pub(crate) fn page(&self, i: usize) -> Option<PageView<'_>> {
        self.set.page(i)
    }

    /// The mapping, if any.
    pub(crate) fn mapping(&self) -> Option<&VMap> {
        self.set.mapping()
    }

    /// Grows the capacity to `cap` pages, at most [`MAX_OPEN_PAGES`] (no
    /// allocation of pages); `ENOMEM` when the array cannot be had.
    pub(crate) fn reserve(&mut self, cap: usize) -> Result {
        let cap = cap.min(MAX_OPEN_PAGES);
        if cap > self.set.capacity() {
            let slot = PageSet::SLOT_BYTES + core::mem::size_of::<PageLen>();
            // `Vec` growth may double the capacity: charge the most it can
            // take, then what it took.
            let most = cap.max(self.set.array_capacity() * 2);
            self.charge.resize(most * slot)?;
            // `lens` first: it may end up longer than the set's array (the
            // type invariants allow it), never shorter.
            let grown = self
                .lens
                .extend_with(cap.saturating_sub(self.lens.len()), FULL, GFP_KERNEL)
                .map_err(Error::from)
                .and_then(|()| self.set.grow(cap));
            self.charge
                .shrink_to(self.set.array_capacity().max(self.lens.capacity()) * slot);
            // INVARIANT: `lens` at least as long as the array; the arrays'
            // real capacity is charged.
            grown?;
        }
        Ok(())
    }

    /// Allocates pages until `want` (at most the capacity) are held
    /// ([`fill_to`]). With `account`, the pages are charged to the current
    /// task's memory cgroup; the bulk allocator then hands out one page per
    /// call.
    pub(crate) fn fill_to(&mut self, want: usize, account: bool) -> usize {
        // INVARIANT: pages added are charged by `fill_to`.
        fill_to(&mut self.set, &mut self.lens, want, account)
    }

    /// Drops the mapping, counting a real one.
    pub(crate) fn unmap(&mut self) {
        if let Some(kind) = self.set.unmap() {
            if kind != MapKind::Direct {
                STATS.vunmaps.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Maps the first `n` pages per `mode` (`Auto` maps with
    /// `vm_map_ram()`); `EBUSY` when a page is in a pipe.
    pub(crate) fn map(&mut self, n: usize, mode: MapMode) -> Result<&VMap> {
        self.unmap();
        let kind = match mode {
            MapMode::Vmap => MapKind::Vmap,
            MapMode::VmMapRam | MapMode::Auto => MapKind::VmMapRam,
            MapMode::Direct => MapKind::Direct,
        };
        let map = self.set.map(n, kind)?;
        if kind != MapKind::Direct {
            STATS.vmaps.fetch_add(1, Ordering::Relaxed);
        }
        if kind == MapKind::VmMapRam {
            STATS.vm_map_ram_maps.fetch_add(1, Ordering::Relaxed);
        }
        Ok(map)
    }

    /// Drops our reference to pages `[0, n)` (the mapping first) and moves
    /// the rest to the front, their lengths with them.
    pub(crate) fn release_front(&mut self, n: usize) {
        let held = self.set.len();
        self.unmap();
        let n = self.set.release_front(n);
        self.lens.copy_within(n..held, 0);
        self.released(n);
    }

    /// Drops our reference to pages `[keep, len)` (the mapping first).
    pub(crate) fn truncate(&mut self, keep: usize) {
        self.unmap();
        let n = self.set.truncate(keep);
        self.released(n);
    }

    /// Gives back the charge of `n` released pages.
    fn released(&mut self, n: usize) {
        if n > 0 {
            // INVARIANT: the released pages' charge is given back.
            BUDGET.release(n);
            STATS.pages_released.fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    /// Gives the pages of the window `[from, from + count)`, at most `len`
    /// bytes in at most `slots` segments, to `add`, which inserts each into
    /// the pipe; each page is in a pipe (never written again) from the
    /// moment its reference exists, and the mapping goes first. Returns the
    /// bytes and segments `add` took and the error that stopped it
    /// (`EFAULT` when a page's count cannot be raised, as `link_pipe()` when
    /// `pipe_buf_get()` fails).
    pub(crate) fn give(
        &mut self,
        from: usize,
        count: usize,
        len: usize,
        slots: usize,
        mut add: impl FnMut(PageRef, &Segment) -> Result,
    ) -> (usize, usize, Option<Error>) {
        self.unmap();
        let Self { set, lens, .. } = self;
        let held = set.len();
        let (mut done, mut used) = (0, 0);
        for seg in Segments::new(&lens[..held], from, count, len, slots) {
            let Some(page) = set.give(seg.page) else {
                if seg.page < held {
                    STATS.get_page_failures.fetch_add(1, Ordering::Relaxed);
                }
                return (done, used, Some(EFAULT));
            };
            if let Err(e) = add(page, &seg) {
                return (done, used, Some(e));
            }
            done += seg.len;
            used += 1;
        }
        (done, used, None)
    }

    /// Runs `f` with a writer pointing `m` at clean pages of the set, and
    /// the data lengths of the set's pages, all its room
    /// ([`PageSet::write_with`]).
    pub(crate) fn write_with<R>(
        &mut self,
        m: &OwnSeqFile,
        f: impl FnOnce(&mut PageWriter<'_>, &mut [PageLen]) -> R,
    ) -> R {
        let Self { set, lens, .. } = self;
        set.write_with(m, |w| f(w, &mut lens[..]))
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        let n = self.set.len();
        self.release_front(n);
    }
}
