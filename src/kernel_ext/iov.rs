// SPDX-License-Identifier: GPL-2.0

//! The destination of a `->read_iter`: a borrowed `struct iov_iter`.
//!
//! C header: [`include/linux/uio.h`](srctree/include/linux/uio.h)

use core::marker::PhantomData;

use kernel::bindings;

use super::pages::PageView;
use super::vmap::VMap;
use crate::ffi;
use kernel::page::PAGE_SIZE;

/// The `iov_iter` a `->read_iter` copies into.
///
/// # Invariants
///
/// `iter` is the valid destination the VFS passed to `->read_iter`, used by
/// nobody else for `'a`.
pub(crate) struct IovDest<'a> {
    iter: *mut bindings::iov_iter,
    _iter: PhantomData<&'a mut bindings::iov_iter>,
}

impl IovDest<'_> {
    /// Wraps the `iter` argument of `->read_iter`.
    ///
    /// # Safety
    ///
    /// `iter` is that argument, and the value lives no longer than the call.
    pub(super) unsafe fn new(iter: *mut bindings::iov_iter) -> Self {
        // INVARIANT: per the function's contract.
        Self {
            iter,
            _iter: PhantomData,
        }
    }

    /// Bytes the destination can still take (`iov_iter_count()`).
    pub(crate) fn count(&self) -> usize {
        // SAFETY: By the type invariants `iter` is valid.
        unsafe { ffi::seqsplice_iov_iter_count(self.iter.cast()) }
    }

    /// Copies `len` bytes from kernel memory at `src` (`copy_to_iter()`,
    /// with the hardened usercopy checks); returns the bytes copied, fewer
    /// on a fault.
    ///
    /// # Safety
    ///
    /// `src` is valid for reads of `len` bytes.
    unsafe fn copy_from(&mut self, src: *const u8, len: usize) -> usize {
        // SAFETY: `src` per the contract; `iter` by the type invariants.
        unsafe { ffi::seqsplice_copy_to_iter(src.cast(), len, self.iter.cast()) }
    }

    /// Copies `len` bytes at `offset` of `page` (`copy_page_to_iter()`,
    /// which maps the page itself), clamped to the page; returns the bytes
    /// copied, fewer on a fault.
    pub(crate) fn copy_page(&mut self, page: PageView<'_>, offset: usize, len: usize) -> usize {
        let offset = offset.min(PAGE_SIZE);
        let len = len.min(PAGE_SIZE - offset);
        // SAFETY: `page` is held while its view lives (`PageView`
        // invariants) and `[offset, offset + len)` lies inside it; `iter` by
        // the type invariants.
        unsafe { bindings::copy_page_to_iter(page.as_ptr(), offset, len, self.iter) }
    }

    /// Copies `count` bytes at offset `from` of the mapping `map`; `None`
    /// when they do not lie inside it. Returns the bytes copied (fewer on a
    /// fault).
    pub(crate) fn copy_mapping(&mut self, map: &VMap, from: usize, count: usize) -> Option<usize> {
        let end = from.checked_add(count)?;
        if end > map.bytes() {
            return None;
        }
        // SAFETY: `[from, from + count)` lies inside the live mapping
        // (checked above, `VMap` invariants), which `map` borrows.
        Some(unsafe { self.copy_from(map.addr().add(from), count) })
    }
}
