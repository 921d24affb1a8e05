// SPDX-License-Identifier: GPL-2.0

//! A compact set of bulk-allocated order-0 pages, their `vmap` mapping, the
//! global cap they are charged to and the allocation tag they carry.

use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};

use kernel::bindings;
use kernel::prelude::*;

use super::budget::Budget;
use super::layout::{PageLen, FULL};
use super::mode::MapMode;
use super::stats::STATS;
use super::window::{bulk_chunk, pages_for, MAX_OPEN_PAGES, PAGE_SIZE};
use crate::ffi;

/// Pages asked of the bulk allocator in one call (vmalloc's cap in
/// `vm_area_alloc_pages()`: bounds the time spent with preemption off).
const BULK_CAP: usize = 100;

/// Default global cap on pages held by all open files together (64 MiB;
/// the `buffer_total_kb` knob).
pub(crate) const GLOBAL_PAGE_CAP: usize = (64 << 20) / PAGE_SIZE;

/// Everything the opens hold, in pages: buffer pages, page arrays, raw
/// tables and `trace_copy`'s preallocated seq buffers.
pub(crate) static BUDGET: Budget = Budget::new(GLOBAL_PAGE_CAP);

/// Flags of every page the module allocates: `GFP_USER`, as
/// `copy_splice_read()` uses. No `__GFP_ACCOUNT`: it turns the bulk
/// allocator into one page per call under memcg (`alloc_pages_bulk_noprof()`).
const PAGE_GFP: bindings::gfp_t = bindings::GFP_KERNEL | (1 << bindings::___GFP_HARDWALL_BIT);

/// The tag every page allocation of the module is accounted to while
/// `vm.mem_profiling` is on (NULL without `CONFIG_MEM_ALLOC_PROFILING`).
/// Published by [`PageTag::new`], cleared by its `drop`.
static TAG: AtomicPtr<bindings::alloc_tag> = AtomicPtr::new(ptr::null_mut());

/// The module's page allocation tag: its own memory, not the module's.
///
/// Pages outlive the module in pipes. A `DEFINE_ALLOC_TAG()` tag lives in
/// the module, and 6.12 frees its per-CPU counters at rmmod even while pages
/// still point to it (`free_module()` warns "cannot unload cleanly", then
/// `percpu_modfree()`), so the pipe's last `put_page()` would write freed
/// memory in `pgalloc_tag_sub()`. This tag is allocated at load and freed at
/// unload only when no page carries it; otherwise it is left allocated (a
/// few dozen bytes) for those pages, as 6.13 does for module tags.
///
/// # Invariants
///
/// `tag` is NULL (no `CONFIG_MEM_ALLOC_PROFILING`) or a live tag from
/// `seqsplice_tag_alloc()`, published in [`TAG`] for the life of this value.
pub(crate) struct PageTag {
    tag: *mut bindings::alloc_tag,
}

// SAFETY: The tag is only read through the kernel's per-CPU accessors.
unsafe impl Send for PageTag {}
// SAFETY: As above.
unsafe impl Sync for PageTag {}

impl PageTag {
    /// Allocates and publishes the tag.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: No arguments; reads a config constant.
        if !unsafe { ffi::seqsplice_tag_needed() } {
            // INVARIANT: no profiling, no tag.
            return Ok(Self {
                tag: ptr::null_mut(),
            });
        }
        // SAFETY: Plain allocation; NULL on failure.
        let tag = unsafe { ffi::seqsplice_tag_alloc() };
        if tag.is_null() {
            return Err(ENOMEM);
        }
        TAG.store(tag, Ordering::Release);
        // INVARIANT: allocated and published above.
        Ok(Self { tag })
    }
}

/// `(bytes, calls)` of a live tag, summed over the CPUs (`alloc_tag_read()`).
///
/// # Safety
///
/// `tag` is a live tag from `seqsplice_tag_alloc()`.
unsafe fn tag_read(tag: *mut bindings::alloc_tag) -> (u64, u64) {
    let (mut bytes, mut calls) = (0, 0);
    // SAFETY: `tag` is live (contract); the two outputs are ours.
    unsafe { ffi::seqsplice_tag_read(tag, &mut bytes, &mut calls) };
    (bytes, calls)
}

impl Drop for PageTag {
    fn drop(&mut self) {
        if self.tag.is_null() {
            return;
        }
        // The module is going: no open exists, so no allocation is in
        // flight. `calls` counts the references set to the tag (every
        // allocation, and every tail page a split gives a copy,
        // `alloc_tag_ref_set()`) less those cleared, and `alloc_tag_sub()`
        // decrements it last: it only falls from here on, and a sum of 0
        // means no page points to the tag and no free is still writing its
        // counters. A page freed while profiling was off keeps its reference
        // and its count, so the tag is kept. (`bytes` can reach 0 earlier:
        // it is subtracted first, and `pgalloc_tag_sub_pages()` subtracts
        // bytes alone.)
        TAG.store(ptr::null_mut(), Ordering::Release);
        // SAFETY: By the type invariants `tag` is live.
        let (bytes, calls) = unsafe { tag_read(self.tag) };
        if calls == 0 {
            // SAFETY: By the type invariants `tag` is live; no page points to
            // it (above) and it is unpublished, so nothing can use it again.
            unsafe { ffi::seqsplice_tag_free(self.tag) };
        } else {
            pr_info!(
                "{} bytes of pages still in pipes: their allocation tag stays allocated\n",
                bytes
            );
            // SAFETY: `tag` is live and, deliberately, never freed.
            unsafe { ffi::seqsplice_tag_keep(self.tag) };
        }
    }
}

/// Pages carrying the module's tag still alive anywhere (the module, pipes,
/// their consumers): exact while `vm.mem_profiling` is on, from the
/// kernel's own accounting at free time.
pub(crate) fn pages_alive() -> u64 {
    let tag = TAG.load(Ordering::Acquire);
    if tag.is_null() {
        return 0;
    }
    // SAFETY: A published tag is live until `PageTag::drop` unpublishes it,
    // which runs only once no file of the module is open (`stats` is one).
    let (bytes, _) = unsafe { tag_read(tag) };
    bytes / PAGE_SIZE as u64
}

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

/// An array of order-0 pages, `[0, len)` populated and the rest NULL.
///
/// # Invariants
///
/// - `slots[..len]` are valid pages on each of which this set owns exactly
///   one reference; `slots[len..]` are NULL.
/// - `len` pages are charged to [`BUDGET`], and `slots_charge` covers the
///   array itself and `lens`; `slots.len() <= MAX_OPEN_PAGES`.
/// - `lens.len() >= slots.len()`: `lens[i]` is the data length of page `i`
///   (`layout.rs`), at most [`PAGE_SIZE`].
pub(crate) struct PageSet {
    slots: KVVec<*mut bindings::page>,
    lens: KVVec<PageLen>,
    slots_charge: MetaCharge,
    len: usize,
}

impl PageSet {
    /// An empty set with no room.
    pub(crate) fn new() -> Self {
        // INVARIANT: no page, no array.
        Self {
            slots: KVVec::new(),
            lens: KVVec::new(),
            slots_charge: MetaCharge::none(),
            len: 0,
        }
    }

    /// Number of pages held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The raw page pointers held, in order.
    fn as_slice(&self) -> &[*mut bindings::page] {
        &self.slots[..self.len]
    }

    /// The data lengths of the held pages (`layout.rs`).
    pub(crate) fn lens(&self) -> &[PageLen] {
        &self.lens[..self.len]
    }

    /// The data lengths of the held pages, to set as a fill writes them.
    pub(crate) fn lens_mut(&mut self) -> &mut [PageLen] {
        &mut self.lens[..self.len]
    }

    /// The direct-map address of held page `i`; `None` past the end.
    /// Writing through it is only sound while no pipe holds the page (the
    /// caller's rule: [`super::buffer::PageBuffer`] only writes pages it
    /// never gifted).
    pub(crate) fn direct_addr(&self, i: usize) -> Option<NonNull<u8>> {
        let &page = self.as_slice().get(i)?;
        // SAFETY: `page` is a valid page we hold a reference on (type
        // invariants); on x86-64 without highmem (helpers.c refuses
        // CONFIG_HIGHMEM) it has a direct-map address for as long as it
        // lives. Computing the address writes nothing.
        NonNull::new(unsafe { ffi::seqsplice_page_address(page) }.cast::<u8>())
    }

    /// A borrow of held page `i`, to read from; `None` past the end.
    pub(crate) fn page(&self, i: usize) -> Option<PageView<'_>> {
        let &page = self.as_slice().get(i)?;
        // INVARIANT: a held page (type invariants), borrowed with the set.
        Some(PageView {
            page,
            _set: core::marker::PhantomData,
        })
    }

    /// Grows the capacity to `cap` pages, at most [`MAX_OPEN_PAGES`] (no
    /// allocation of pages); `ENOMEM` when the array cannot be had.
    pub(crate) fn reserve(&mut self, cap: usize) -> Result {
        let cap = cap.min(MAX_OPEN_PAGES);
        if cap > self.slots.len() {
            let slot =
                core::mem::size_of::<*mut bindings::page>() + core::mem::size_of::<PageLen>();
            // `Vec` growth may double the capacity: charge the most it can
            // take, then what it took.
            let most = cap.max(self.slots.capacity() * 2);
            self.slots_charge.resize(most * slot)?;
            let extra = cap - self.slots.len();
            // `lens` first: it may end up longer than `slots` (the type
            // invariants allow it), never shorter.
            let grown = self
                .lens
                .extend_with(cap.saturating_sub(self.lens.len()), FULL, GFP_KERNEL)
                .and_then(|()| self.slots.extend_with(extra, ptr::null_mut(), GFP_KERNEL));
            self.slots_charge
                .shrink_to(self.slots.capacity().max(self.lens.capacity()) * slot);
            // INVARIANT: the new slots are NULL, `lens` at least as long as
            // `slots`; the arrays' real capacity is charged.
            grown?;
        }
        Ok(())
    }

    /// Allocates pages until `want` (at most the capacity) are held, with the
    /// bulk allocator and an `alloc_page` fallback when a bulk call makes no
    /// progress. Each batch's room is reserved in [`BUDGET`] first and what
    /// the allocator did not deliver is given back, so concurrent fills never
    /// overshoot the cap. Stops short, counting a shortfall, when memory or
    /// the cap runs out. Returns the number of pages now held.
    ///
    /// With `account`, the pages are charged to the current task's memory
    /// cgroup (`__GFP_ACCOUNT`), as upstream charges its seq buffer
    /// (`seq_buf_alloc()`); the bulk allocator then hands out one page per
    /// call.
    pub(crate) fn fill_to(&mut self, want: usize, account: bool) -> usize {
        let gfp = if account {
            PAGE_GFP | (1 << bindings::___GFP_ACCOUNT_BIT)
        } else {
            PAGE_GFP
        };
        let tag = TAG.load(Ordering::Acquire);
        let want = want.min(self.slots.len());
        while self.len < want {
            let n = BUDGET.reserve(bulk_chunk(want - self.len, BULK_CAP));
            if n == 0 {
                break;
            }
            let tail = &mut self.slots[self.len..self.len + n];
            // SAFETY: `tail` is `n` NULL slots of our array (type invariant:
            // everything past `len` is NULL); the bulk allocator fills only
            // NULL slots of the array it is given and returns the count of
            // populated slots from its start. `tag` is NULL or published.
            let got =
                unsafe { ffi::seqsplice_alloc_pages_bulk(tag, gfp, n as _, tail.as_mut_ptr()) }
                    as usize;
            STATS.bulk_calls.fetch_add(1, Ordering::Relaxed);
            let got = if got == 0 {
                // SAFETY: Plain order-0 allocation, tagged as above.
                let p = unsafe { ffi::seqsplice_alloc_page(tag, gfp) };
                if p.is_null() {
                    BUDGET.release(n);
                    break;
                }
                self.slots[self.len] = p;
                1
            } else {
                got.min(n)
            };
            BUDGET.release(n - got);
            // A new page is a flat one until a fill says otherwise.
            for l in &mut self.lens[self.len..self.len + got] {
                *l = FULL;
            }
            // INVARIANT: the allocator populated `[len, len + got)` with
            // pages whose single reference is now ours, charged above.
            self.len += got;
            STATS
                .pages_allocated
                .fetch_add(got as u64, Ordering::Relaxed);
        }
        if self.len < want {
            STATS.alloc_shortfalls.fetch_add(1, Ordering::Relaxed);
        }
        self.len
    }

    /// Drops our reference to pages `[0, n)` and moves the rest to the front.
    pub(crate) fn release_front(&mut self, n: usize) {
        let n = n.min(self.len);
        if n == 0 {
            return;
        }
        for slot in &mut self.slots[..n] {
            // SAFETY: By the type invariants `*slot` is a valid page on which
            // we own one reference; it is dropped exactly once here and the
            // slot cleared.
            unsafe { ffi::seqsplice_put_page(*slot) };
            *slot = ptr::null_mut();
        }
        self.slots.copy_within(n..self.len, 0);
        self.lens.copy_within(n..self.len, 0);
        for slot in &mut self.slots[self.len - n..self.len] {
            *slot = ptr::null_mut();
        }
        // INVARIANT: `[0, len - n)` hold the kept pages, the rest is NULL;
        // the dropped pages' charge is given back.
        self.len -= n;
        BUDGET.release(n);
        STATS.pages_released.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Drops our reference to pages `[keep, len)`.
    pub(crate) fn truncate(&mut self, keep: usize) {
        if keep >= self.len {
            return;
        }
        let n = self.len - keep;
        for slot in &mut self.slots[keep..self.len] {
            // SAFETY: By the type invariants `*slot` is a valid page on which
            // we own one reference; it is dropped exactly once here and the
            // slot cleared.
            unsafe { ffi::seqsplice_put_page(*slot) };
            *slot = ptr::null_mut();
        }
        // INVARIANT: `[0, keep)` are kept, the rest is NULL; the dropped
        // pages' charge is given back.
        self.len = keep;
        BUDGET.release(n);
        STATS.pages_released.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Takes one more reference on page `i`, for a pipe buffer; `None` past
    /// the end or when the page already has `SEQSPLICE_PAGE_REF_MAX` (2^30)
    /// references: far below a wrap, which 6.12's `try_get_page()` (the
    /// pipe's own `->get`) only refuses once it happened, with a WARN.
    pub(crate) fn get(&self, i: usize) -> Option<PageRef> {
        let p = *self.slots[..self.len].get(i)?;
        // SAFETY: By the type invariants `p` is a valid page we hold a
        // reference on.
        if !unsafe { ffi::seqsplice_try_get_page(p) } {
            STATS.get_page_failures.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        // INVARIANT: the reference just taken belongs to the new value.
        Some(PageRef(p))
    }
}

impl Drop for PageSet {
    fn drop(&mut self) {
        self.release_front(self.len);
    }
}

/// A page held by a [`PageSet`], borrowed from it: alive while the borrow
/// lasts.
///
/// # Invariants
///
/// `page` is a valid page the borrowed set holds a reference on.
#[derive(Clone, Copy)]
pub(crate) struct PageView<'a> {
    page: *mut bindings::page,
    _set: core::marker::PhantomData<&'a PageSet>,
}

impl PageView<'_> {
    /// The page, valid while the borrow lasts.
    pub(crate) fn as_ptr(&self) -> *mut bindings::page {
        self.page
    }
}

/// One reference on a page, to hand over to a pipe buffer.
///
/// # Invariants
///
/// The pointer is a valid page on which this value owns one reference.
pub(crate) struct PageRef(*mut bindings::page);

impl PageRef {
    /// Gives the reference up: the caller now owns it (a pipe buffer).
    pub(crate) fn into_raw(self) -> *mut bindings::page {
        let p = self.0;
        core::mem::forget(self);
        p
    }
}

impl Drop for PageRef {
    fn drop(&mut self) {
        // SAFETY: By the type invariants we own one reference on the page.
        unsafe { ffi::seqsplice_put_page(self.0) };
    }
}

/// A kernel virtual mapping of the first pages of a [`PageSet`].
///
/// # Invariants
///
/// `addr` was returned by a successful `vmap` (or `vm_map_ram`, per `mode`)
/// of `pages` pages, not yet unmapped; or, with [`MapMode::Direct`], it is
/// the direct-map address of the set's first page and `pages == 1`. The
/// owner keeps those pages alive (holds their references in a [`PageSet`])
/// until the mapping is dropped.
pub(crate) struct VMap {
    addr: NonNull<u8>,
    pages: usize,
    mode: MapMode,
}

impl VMap {
    /// Maps the first `n` pages of `set`.
    ///
    /// The returned mapping must be dropped before `set` releases any of
    /// those pages ([`super::buffer::PageBuffer`] unmaps first in every
    /// method that releases pages, and in its `drop`).
    pub(crate) fn new(set: &PageSet, n: usize, mode: MapMode) -> Result<Self> {
        let pages = set.as_slice().get(..n).ok_or(EINVAL)?;
        if n == 0 {
            return Err(EINVAL);
        }
        // `Auto` chooses per fill; what it maps, it maps with vm_map_ram.
        let mode = if mode == MapMode::Auto {
            MapMode::VmMapRam
        } else {
            mode
        };
        if mode == MapMode::Direct {
            if n != 1 {
                return Err(EINVAL);
            }
            let addr = set.direct_addr(0).ok_or(ENOMEM)?;
            // INVARIANT: the first page's direct-map address, one page.
            return Ok(Self {
                addr,
                pages: 1,
                mode,
            });
        }
        let count = u32::try_from(n).map_err(|_| EINVAL)?;
        let array = pages.as_ptr().cast_mut();
        // SAFETY: `pages` holds `n` valid, non-NULL pages (PageSet invariant:
        // a compact prefix), which the caller keeps alive while mapped. Both
        // functions only read the array.
        let p = unsafe {
            match mode {
                MapMode::Vmap => ffi::seqsplice_vmap(array, count),
                MapMode::VmMapRam | MapMode::Direct | MapMode::Auto => {
                    ffi::vm_map_ram(array, count, bindings::NUMA_NO_NODE)
                }
            }
        };
        let addr = NonNull::new(p.cast::<u8>()).ok_or(ENOMEM)?;
        STATS.vmaps.fetch_add(1, Ordering::Relaxed);
        if mode == MapMode::VmMapRam {
            STATS.vm_map_ram_maps.fetch_add(1, Ordering::Relaxed);
        }
        // INVARIANT: the mapping succeeded for `n` pages.
        Ok(Self {
            addr,
            pages: n,
            mode,
        })
    }

    /// Start of the mapping.
    pub(crate) fn addr(&self) -> *mut u8 {
        self.addr.as_ptr()
    }

    /// Number of pages mapped.
    pub(crate) fn pages(&self) -> usize {
        self.pages
    }

    /// How the pages are mapped.
    pub(crate) fn mode(&self) -> MapMode {
        self.mode
    }
}

impl Drop for VMap {
    fn drop(&mut self) {
        let addr = self.addr.as_ptr().cast();
        // SAFETY: By the type invariants `addr` is a live mapping of `pages`
        // pages made by `mode`'s function; it is unmapped exactly once, here,
        // by the matching one. A direct-map address is nothing to unmap.
        unsafe {
            match self.mode {
                MapMode::Vmap => ffi::vunmap(addr),
                // (`new` stores `Auto` as `VmMapRam`.)
                MapMode::VmMapRam | MapMode::Auto => ffi::vm_unmap_ram(addr, self.pages as u32),
                MapMode::Direct => return,
            }
        };
        STATS.vunmaps.fetch_add(1, Ordering::Relaxed);
    }
}
