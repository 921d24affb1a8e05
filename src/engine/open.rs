// SPDX-License-Identifier: GPL-2.0

//! The state of one open of a gift file: its source, its page buffer and
//! the `struct seq_file` the source writes into (the module's own, not
//! `seq_open()`'s: the engine's state lives beside it, and `m->file`,
//! `m->op` and `m->private` are what `seq_open()` would have set for the
//! source), and the guard that locks them.

use core::pin::Pin;

use kernel::prelude::*;

use super::buffer::{BufferConfig, PageBuffer};
use super::source::Source;
use crate::kernel_ext::file::Opening;
use crate::kernel_ext::seq_file::OwnSeqFile;
use crate::kernel_ext::seq_lock::{SeqFileGuard, SeqFileLock};

/// One open of a gift file; `file->private_data` is a pinned `KBox` of it.
/// The seq_file's lock guards the buffer.
#[pin_data]
pub(crate) struct Open<S: Source> {
    #[pin]
    seq: SeqFileLock<PageBuffer>,
    source: S,
}

impl<S: Source> Open<S> {
    /// The state of a new open, pinned in a box (the seq_file's lock must
    /// not move once initialised).
    pub(crate) fn new(opening: &Opening, source: S, cfg: BufferConfig) -> Result<Pin<KBox<Self>>> {
        let id = source.identity();
        KBox::pin_init(
            pin_init!(Self {
                seq <- SeqFileLock::new(opening, id, PageBuffer::new(cfg)),
                source,
            }),
            GFP_KERNEL,
        )
    }
}

impl<S: Source> Open<S> {
    /// `m->private` now (a callback may have changed it).
    pub(crate) fn private_now(&self) -> *mut core::ffi::c_void {
        self.seq.private_now()
    }
}

/// The lock of an open's seq_file, held for the life of this value: the
/// seq_file, the source and the buffer, lent through its own borrow. No
/// `vm_map_ram()` mapping outlives it ([`PageBuffer::end_call`]).
pub(crate) struct SeqGuard<'a, S: Source> {
    guard: SeqFileGuard<'a, PageBuffer>,
    source: &'a S,
}

impl<'a, S: Source> SeqGuard<'a, S> {
    /// Locks `open` for a call that keeps its mapping for the next one
    /// (`persist`: `read()`, `lseek()`) or not (a splice). The wait is
    /// killable (`EINTR`): a task sharing the file with one that
    /// regenerates for a long time can be killed while it waits.
    pub(crate) fn lock(open: &'a Open<S>, persist: bool) -> Result<Self> {
        let mut guard = Self {
            guard: open.seq.lock()?,
            source: &open.source,
        };
        guard.parts().2.begin_call(persist);
        Ok(guard)
    }

    /// The seq_file, the source and the buffer, for as long as this borrow
    /// of the guard lasts.
    pub(crate) fn parts(&mut self) -> (&OwnSeqFile, &S, &mut PageBuffer) {
        let (m, buf) = self.guard.parts();
        (m, self.source, buf)
    }
}

impl<S: Source> Drop for SeqGuard<'_, S> {
    fn drop(&mut self) {
        // No vm_map_ram() mapping outlives the call (PageBuffer invariants);
        // the lock goes after, with `m->buf` pointed at nothing. An
        // iteration the call left open (a bug) is stopped under the lock.
        let (m, src, buf) = self.parts();
        src.end_call(m);
        buf.end_call();
    }
}
