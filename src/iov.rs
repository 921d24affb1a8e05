// SPDX-License-Identifier: GPL-2.0

//! The destination of a `->read_iter`: a borrowed `struct iov_iter`.
//!
//! C header: [`include/linux/uio.h`](srctree/include/linux/uio.h)

use core::marker::PhantomData;

use kernel::bindings;

use crate::ffi;

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
    pub(crate) unsafe fn new(iter: *mut bindings::iov_iter) -> Self {
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
    pub(crate) unsafe fn copy_from(&mut self, src: *const u8, len: usize) -> usize {
        // SAFETY: `src` per the contract; `iter` by the type invariants.
        unsafe { ffi::seqsplice_copy_to_iter(src.cast(), len, self.iter.cast()) }
    }

    /// Copies `len` bytes at `offset` of `page` (`copy_page_to_iter()`,
    /// which maps the page itself); returns the bytes copied, fewer on a
    /// fault.
    ///
    /// # Safety
    ///
    /// `page` is a page the caller holds a reference on, and
    /// `offset + len <= PAGE_SIZE`.
    pub(crate) unsafe fn copy_page(
        &mut self,
        page: *mut bindings::page,
        offset: usize,
        len: usize,
    ) -> usize {
        // SAFETY: `page` per the contract; `iter` by the type invariants.
        unsafe { bindings::copy_page_to_iter(page, offset, len, self.iter) }
    }
}
