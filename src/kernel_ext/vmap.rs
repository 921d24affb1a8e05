// SPDX-License-Identifier: GPL-2.0

//! Kernel virtual mappings of pages: `vmap()`, `vm_map_ram()` or a single
//! page's direct-map address, as one owned value ([`VMap`]) that only a
//! [`PageSet`](super::pages::PageSet) makes and holds.
//!
//! C header: [`include/linux/vmalloc.h`](srctree/include/linux/vmalloc.h)

use core::ptr::NonNull;

use kernel::bindings;
use kernel::page::PAGE_SIZE;
use kernel::prelude::*;

use crate::ffi;

/// How pages are mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MapKind {
    /// `vmap()`: long-lived, flushed lazily at `vunmap()`.
    Vmap,
    /// `vm_map_ram()`: short-lived, from a per-CPU vmap block.
    VmMapRam,
    /// One page, through its direct-map address: nothing is mapped.
    Direct,
}

/// A kernel virtual mapping of pages a [`PageSet`](super::pages::PageSet)
/// holds.
///
/// # Invariants
///
/// `addr` was returned by a successful `vmap()` (or `vm_map_ram()`, per
/// `kind`) of `pages` pages, not yet unmapped; or, with
/// [`MapKind::Direct`], it is the direct-map address of one page and
/// `pages == 1`. The owning set keeps those pages alive until the mapping
/// is dropped (it drops the mapping before it releases any page).
pub(crate) struct VMap {
    addr: NonNull<u8>,
    pages: usize,
    kind: MapKind,
}

impl VMap {
    /// Maps `pages` (a compact array of valid pages).
    ///
    /// # Safety
    ///
    /// Every entry of `pages` is a valid page the caller holds a reference
    /// on and keeps until the returned value is dropped; with
    /// [`MapKind::Direct`], `pages` has one entry.
    pub(super) unsafe fn new(pages: &[*mut bindings::page], kind: MapKind) -> Result<Self> {
        let n = pages.len();
        if n == 0 {
            return Err(EINVAL);
        }
        if kind == MapKind::Direct {
            if n != 1 {
                return Err(EINVAL);
            }
            // SAFETY: A valid page (contract); on x86-64 without highmem
            // (helpers.c refuses CONFIG_HIGHMEM) it has a direct-map address
            // for as long as it lives. Computing it writes nothing.
            let addr = unsafe { ffi::seqsplice_page_address(pages[0]) };
            // INVARIANT: the page's direct-map address, one page.
            return Ok(Self {
                addr: NonNull::new(addr.cast::<u8>()).ok_or(ENOMEM)?,
                pages: 1,
                kind,
            });
        }
        let count = u32::try_from(n).map_err(|_| EINVAL)?;
        let array = pages.as_ptr().cast_mut();
        let p = match kind {
            // SAFETY: `pages` holds `n` valid pages, kept alive while mapped
            // (contract). It only reads the array.
            MapKind::Vmap => unsafe { ffi::seqsplice_vmap(array, count) },
            // SAFETY: As above.
            MapKind::VmMapRam => unsafe { ffi::vm_map_ram(array, count, bindings::NUMA_NO_NODE) },
            // Handled above (one page, no mapping); a `Direct` value must
            // never own a `vm_map_ram()` area, which its drop would leak.
            MapKind::Direct => return Err(EINVAL),
        };
        // INVARIANT: the mapping succeeded for `n` pages.
        Ok(Self {
            addr: NonNull::new(p.cast::<u8>()).ok_or(ENOMEM)?,
            pages: n,
            kind,
        })
    }

    /// Start of the mapping.
    pub(super) fn addr(&self) -> *mut u8 {
        self.addr.as_ptr()
    }

    /// Number of pages mapped.
    pub(crate) fn pages(&self) -> usize {
        self.pages
    }

    /// Bytes mapped.
    pub(crate) fn bytes(&self) -> usize {
        self.pages * PAGE_SIZE
    }

    /// How the pages are mapped.
    pub(crate) fn kind(&self) -> MapKind {
        self.kind
    }
}

impl Drop for VMap {
    fn drop(&mut self) {
        let addr = self.addr.as_ptr().cast();
        // SAFETY: By the type invariants `addr` is a live mapping of `pages`
        // pages made by `kind`'s function; it is unmapped exactly once, here,
        // by the matching one. A direct-map address is nothing to unmap.
        unsafe {
            match self.kind {
                MapKind::Vmap => ffi::vunmap(addr),
                MapKind::VmMapRam => ffi::vm_unmap_ram(addr, self.pages as u32),
                MapKind::Direct => {}
            }
        }
    }
}

/// `vm_unmap_aliases()`: flushes the lazily freed vmap areas now. May
/// sleep: process context, no lock held.
pub(crate) fn purge_vmap_aliases() {
    // SAFETY: No arguments; the callers run in process context (a file
    // write) with no lock held.
    unsafe { ffi::vm_unmap_aliases() }
}
