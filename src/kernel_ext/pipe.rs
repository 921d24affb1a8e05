// SPDX-License-Identifier: GPL-2.0

//! The pipe side of a splice: free slots and inserting page references.
//!
//! C header: [`include/linux/pipe_fs_i.h`](srctree/include/linux/pipe_fs_i.h)

use core::ptr::addr_of;

use kernel::bindings;
use kernel::prelude::*;

use super::pages::PageRef;
use crate::ffi;
use kernel::page::PAGE_SIZE;

/// The pipe a `->splice_read` was called for.
///
/// # Invariants
///
/// `pipe` is valid and its mutex is held by the caller of `->splice_read`
/// (`splice_file_to_pipe()`; the private pipe of `splice_direct_to_actor()`
/// needs none, see `pipe_lock()`) for the life of this value.
pub(crate) struct Pipe {
    pipe: *mut ffi::pipe_inode_info,
}

impl Pipe {
    /// Wraps the pipe argument of `->splice_read`.
    ///
    /// # Safety
    ///
    /// `pipe` is the locked pipe passed to `->splice_read`, valid for the
    /// life of the returned value.
    pub(super) unsafe fn new(pipe: *mut bindings::pipe_inode_info) -> Self {
        // INVARIANT: Per the function's contract.
        Self { pipe: pipe.cast() }
    }

    /// Free slots (`max_usage - occupancy`).
    pub(crate) fn free_slots(&self) -> usize {
        // SAFETY: By the type invariants the pipe is valid and locked.
        unsafe { ffi::seqsplice_pipe_free_slots(self.pipe) as usize }
    }

    /// This is the calling task's direct-splice pipe (`current->splice_pipe`):
    /// the call comes from sendfile, `copy_file_range` or a splice to a
    /// file (`splice_direct_to_actor()`), which rewinds into delivered data
    /// after a short write.
    pub(crate) fn is_direct(&self) -> bool {
        // SAFETY: By the type invariants the pipe is valid; only its address
        // is compared with the current task's.
        unsafe { ffi::seqsplice_pipe_is_direct(self.pipe) }
    }

    /// Inserts a buffer of `len` bytes at `offset` of the page, handing the
    /// reference over to the pipe. On failure `add_to_pipe` has dropped the
    /// reference itself (`add_to_pipe()`). `EINVAL` (the reference dropped
    /// here) for an empty range or one that leaves the page: a pipe buffer
    /// past its page would let a consumer read the next one.
    pub(crate) fn add(&mut self, page: PageRef, offset: usize, len: usize) -> Result {
        if len == 0 || offset.checked_add(len).map_or(true, |end| end > PAGE_SIZE) {
            return Err(EINVAL);
        }
        let mut buf = ffi::pipe_buffer {
            page: page.into_raw().cast(),
            offset: offset as u32,
            len: len as u32,
            // Kernel-resident ops: pipes outlive the file and the module
            // (`free_pipe_info()` runs whenever the last reader goes).
            // release = put_page, no try_steal.
            ops: addr_of!(ffi::nosteal_pipe_buf_ops),
            // No CAN_MERGE: pipe_write must never append into our page.
            flags: 0,
            private: 0,
        };
        // SAFETY: By the type invariants the pipe is locked; `buf` is fully
        // initialised and carries the page reference given up above, which
        // add_to_pipe keeps in the pipe or drops.
        let r = unsafe { ffi::add_to_pipe(self.pipe, &mut buf) };
        if r < 0 {
            Err(Error::from_errno(r as i32))
        } else {
            Ok(())
        }
    }
}
