// SPDX-License-Identifier: GPL-2.0

//! The state of one open of a gift file: its source, its page buffer and
//! the `struct seq_file` the source writes into (the module's own, not
//! `seq_open()`'s: the engine's state lives beside it, so `m->private` is
//! free for a C table's data, which `CSeqOps` puts there around each of its
//! callbacks), and the guard that locks them.

use core::cell::UnsafeCell;
use core::pin::Pin;
use core::ptr::addr_of_mut;

use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

use super::buffer::{BufferConfig, PageBuffer};
use super::seq::SeqFile;
use super::source::Source;
use crate::ffi;

/// One open of a gift file; `file->private_data` is a pinned `KBox` of it.
///
/// # Invariants
///
/// - `seq` is a zeroed seq_file whose `lock` is initialised (so the value
///   is pinned: the mutex must not move), `op` NULL; nothing but this
///   module accesses it, and `seq` and `buf` only with `seq.lock` held
///   (through a [`SeqGuard`]).
/// - `seq.buf` is NULL between calls (a [`Mapped`](super::buffer::Mapped)
///   borrow sets it only inside one).
pub(crate) struct Open<S: Source> {
    seq: Opaque<bindings::seq_file>,
    buf: UnsafeCell<PageBuffer>,
    source: S,
}

// SAFETY: The seq_file and the buffer are only reached with the lock held
// (type invariants); the source is `Send + Sync` (`Source` bounds).
unsafe impl<S: Source> Send for Open<S> {}
// SAFETY: As above.
unsafe impl<S: Source> Sync for Open<S> {}

impl<S: Source> Open<S> {
    /// The state of a new open, pinned in a box (the seq_file's lock must
    /// not move once initialised).
    pub(crate) fn new(
        file: *mut bindings::file,
        source: S,
        cfg: BufferConfig,
    ) -> Result<Pin<KBox<Self>>> {
        let this = KBox::pin(
            Self {
                // SAFETY: All-zero is a valid, empty seq_file (as
                // `seq_open()`'s kmem_cache_zalloc).
                seq: Opaque::new(unsafe { core::mem::zeroed() }),
                buf: UnsafeCell::new(PageBuffer::new(cfg)),
                source,
            },
            GFP_KERNEL,
        )?;
        let m = this.seq.get();
        // SAFETY: `m` is ours and not shared yet, at its final address (the
        // pinned box).
        unsafe {
            ffi::seqsplice_mutex_init(addr_of_mut!((*m).lock));
            (*m).file = file;
        }
        // INVARIANT: zeroed, lock initialised, pinned; not shared.
        Ok(this)
    }
}

/// The lock of an open's seq_file, held for the life of this value: the
/// seq_file, the source and the buffer, lent through its own borrow.
///
/// # Invariants
///
/// `open.seq.lock` is held by this value for its whole life.
pub(crate) struct SeqGuard<'a, S: Source> {
    open: &'a Open<S>,
}

impl<'a, S: Source> SeqGuard<'a, S> {
    /// Locks `open` for a call that keeps its mapping for the next one
    /// (`persist`: `read()`, `lseek()`) or not (a splice). The wait is
    /// killable (`EINTR`): a task sharing the file with one that
    /// regenerates for a long time can be killed while it waits.
    pub(crate) fn lock(open: &'a Open<S>, persist: bool) -> Result<Self> {
        // SAFETY: The lock was initialised by `Open::new` (type invariants).
        // Lock order: the caller may hold pipe->mutex, the order
        // copy_splice_read() -> seq_read_iter() also takes.
        if unsafe { ffi::seqsplice_mutex_lock_killable(addr_of_mut!((*open.seq.get()).lock)) } != 0
        {
            return Err(EINTR);
        }
        // INVARIANT: the lock is held until drop.
        let mut guard = Self { open };
        guard.parts().2.begin_call(persist);
        Ok(guard)
    }

    /// The seq_file, the source and the buffer, for as long as this borrow
    /// of the guard lasts.
    pub(crate) fn parts(&mut self) -> (&mut SeqFile, &S, &mut PageBuffer) {
        // SAFETY: The lock is held (type invariants), which serialises every
        // access to the seq_file and the buffer (`Open` invariants); the
        // `&mut self` borrow makes these the only borrows until it ends, and
        // the seq_file's buffer is NULL between calls or a `Mapped`'s.
        unsafe {
            (
                SeqFile::from_raw(self.open.seq.get()),
                &self.open.source,
                &mut *self.open.buf.get(),
            )
        }
    }
}

impl<S: Source> Drop for SeqGuard<'_, S> {
    fn drop(&mut self) {
        let (m, _, buf) = self.parts();
        // Between calls `m->buf` points at nothing, even if a `Mapped` was
        // leaked (`mem::forget`) instead of dropped.
        // SAFETY: NULL with size 0: nothing can be written.
        unsafe { m.set_buf(core::ptr::null_mut(), 0) };
        // No vm_map_ram() mapping outlives the call (PageBuffer invariants).
        buf.end_call();
        // SAFETY: The lock is held by us (type invariants).
        unsafe { bindings::mutex_unlock(addr_of_mut!((*self.open.seq.get()).lock)) };
    }
}
