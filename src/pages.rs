// SPDX-License-Identifier: GPL-2.0

//! A compact set of bulk-allocated order-0 pages and their `vmap` mapping.

use core::ptr::{self, NonNull};
use core::sync::atomic::Ordering;

use kernel::bindings;
use kernel::prelude::*;

use crate::ffi;
use crate::knob::MapMode;
use crate::stats::STATS;
use crate::window::{bulk_chunk, PAGE_SIZE};

/// Pages asked of the bulk allocator in one call (vmalloc's cap,
/// mm/vmalloc.c:3617: bounds the time spent with preemption off).
const BULK_CAP: usize = 100;

/// Global cap on pages held by all open files together (64 MiB).
pub(crate) const GLOBAL_PAGE_CAP: usize = (64 << 20) / PAGE_SIZE;

/// Flags of every page the module allocates: `GFP_USER`, as
/// `copy_splice_read` uses (fs/splice.c:345). No `__GFP_ACCOUNT`: it turns
/// the bulk allocator into one page per call under memcg
/// (mm/page_alloc.c:4688).
const PAGE_GFP: bindings::gfp_t = bindings::GFP_KERNEL | (1 << bindings::___GFP_HARDWALL_BIT);

/// An array of order-0 pages, `[0, len)` populated and the rest NULL.
///
/// # Invariants
///
/// - `slots[..len]` are valid pages on each of which this set owns exactly
///   one reference; `slots[len..]` are NULL.
/// - `len` pages are counted in `STATS.pages_held`.
pub(crate) struct PageSet {
    slots: KVec<*mut bindings::page>,
    len: usize,
}

impl PageSet {
    /// An empty set with room for `cap` pages.
    pub(crate) fn new(cap: usize) -> Result<Self> {
        let mut slots = KVec::with_capacity(cap, GFP_KERNEL)?;
        slots.extend_with(cap, ptr::null_mut(), GFP_KERNEL)?;
        // INVARIANT: no page is populated yet.
        Ok(Self { slots, len: 0 })
    }

    /// Number of pages held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The raw page pointers held, in order.
    pub(crate) fn as_slice(&self) -> &[*mut bindings::page] {
        &self.slots[..self.len]
    }

    /// Grows the capacity to `cap` pages (no allocation of pages).
    pub(crate) fn reserve(&mut self, cap: usize) -> Result {
        if cap > self.slots.len() {
            let extra = cap - self.slots.len();
            self.slots.extend_with(extra, ptr::null_mut(), GFP_KERNEL)?;
        }
        Ok(())
    }

    /// Allocates pages until `want` (at most the capacity) are held, with the
    /// bulk allocator and an `alloc_page` fallback when a bulk call makes no
    /// progress. Stops short, counting a shortfall, when memory or the
    /// global cap runs out. Returns the number of pages now held.
    ///
    /// With `account`, the pages are charged to the current task's memory
    /// cgroup (`__GFP_ACCOUNT`), as upstream charges its seq buffer
    /// (fs/seq_file.c:38); the bulk allocator then hands out one page per
    /// call (mm/page_alloc.c:4688).
    pub(crate) fn fill_to(&mut self, want: usize, account: bool) -> usize {
        let gfp = if account {
            PAGE_GFP | (1 << bindings::___GFP_ACCOUNT_BIT)
        } else {
            PAGE_GFP
        };
        let want = want.min(self.slots.len());
        while self.len < want {
            let held = STATS.pages_held.load(Ordering::Relaxed) as usize;
            let room = GLOBAL_PAGE_CAP.saturating_sub(held);
            let n = bulk_chunk(want - self.len, BULK_CAP).min(room);
            if n == 0 {
                break;
            }
            let tail = &mut self.slots[self.len..self.len + n];
            // SAFETY: `tail` is `n` NULL slots of our array (type invariant:
            // everything past `len` is NULL); the bulk allocator fills only
            // NULL slots of the array it is given and returns the count of
            // populated slots from its start.
            let got =
                unsafe { ffi::seqsplice_alloc_pages_bulk(gfp, n as _, tail.as_mut_ptr()) } as usize;
            STATS.bulk_calls.fetch_add(1, Ordering::Relaxed);
            let got = if got == 0 {
                // SAFETY: Plain order-0 allocation.
                let p = unsafe { ffi::seqsplice_alloc_page(gfp) };
                if p.is_null() {
                    break;
                }
                self.slots[self.len] = p;
                1
            } else {
                got.min(n)
            };
            // INVARIANT: the allocator populated `[len, len + got)` with
            // pages whose single reference is now ours.
            self.len += got;
            STATS.pages_held.fetch_add(got as u64, Ordering::Relaxed);
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
        for slot in &mut self.slots[..n] {
            // SAFETY: By the type invariants `*slot` is a valid page on which
            // we own one reference; it is dropped exactly once here and the
            // slot cleared.
            unsafe { ffi::seqsplice_put_page(*slot) };
            *slot = ptr::null_mut();
        }
        self.slots.copy_within(n..self.len, 0);
        for slot in &mut self.slots[self.len - n..self.len] {
            *slot = ptr::null_mut();
        }
        // INVARIANT: `[0, len - n)` hold the kept pages, the rest is NULL.
        self.len -= n;
        STATS.pages_held.fetch_sub(n as u64, Ordering::Relaxed);
        STATS.pages_released.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Takes one more reference on page `i`, for a pipe buffer.
    pub(crate) fn get(&self, i: usize) -> Option<PageRef> {
        let p = *self.slots[..self.len].get(i)?;
        // SAFETY: By the type invariants `p` is a valid page we hold a
        // reference on, so its count is positive and may be raised.
        unsafe { ffi::seqsplice_get_page(p) };
        // INVARIANT: the reference just taken belongs to the new value.
        Some(PageRef(p))
    }
}

impl Drop for PageSet {
    fn drop(&mut self) {
        self.release_front(self.len);
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
/// of `pages` pages, not yet unmapped. The owner keeps those pages alive
/// (holds their references in a [`PageSet`]) until the mapping is dropped.
pub(crate) struct VMap {
    addr: NonNull<u8>,
    pages: usize,
    mode: MapMode,
}

impl VMap {
    /// Maps the first `n` pages of `set`.
    ///
    /// The returned mapping must be dropped before `set` releases any of
    /// those pages (the owner orders its fields accordingly).
    pub(crate) fn new(set: &PageSet, n: usize, mode: MapMode) -> Result<Self> {
        let pages = set.as_slice().get(..n).ok_or(EINVAL)?;
        if n == 0 {
            return Err(EINVAL);
        }
        let count = u32::try_from(n).map_err(|_| EINVAL)?;
        let array = pages.as_ptr().cast_mut();
        // SAFETY: `pages` holds `n` valid, non-NULL pages (PageSet invariant:
        // a compact prefix), which the caller keeps alive while mapped. Both
        // functions only read the array.
        let p = unsafe {
            match mode {
                MapMode::Vmap => ffi::seqsplice_vmap(array, count),
                MapMode::VmMapRam => ffi::vm_map_ram(array, count, bindings::NUMA_NO_NODE),
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
}

impl Drop for VMap {
    fn drop(&mut self) {
        let addr = self.addr.as_ptr().cast();
        // SAFETY: By the type invariants `addr` is a live mapping of `pages`
        // pages made by `mode`'s function; it is unmapped exactly once, here,
        // by the matching one.
        unsafe {
            match self.mode {
                MapMode::Vmap => ffi::vunmap(addr),
                MapMode::VmMapRam => ffi::vm_unmap_ram(addr, self.pages as u32),
            }
        };
        STATS.vunmaps.fetch_add(1, Ordering::Relaxed);
    }
}
