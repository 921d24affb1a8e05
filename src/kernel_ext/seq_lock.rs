// SPDX-License-Identifier: GPL-2.0

//! [`SeqFileLock`]: a seq_file of the module's own (not `seq_open()`'s)
//! whose lock also guards the caller's data, and its guard.
//!
//! C header: [`include/linux/seq_file.h`](srctree/include/linux/seq_file.h)

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ptr::addr_of_mut;

use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

use super::file::Opening;
use super::seq_file::OwnSeqFile;
use super::seq_ops::SeqIdentity;
use crate::ffi;

/// A seq_file of the module's own (not `seq_open()`'s) and the data `T`
/// its lock guards; `m->file`, `m->op` and `m->private` are what
/// `seq_open()` and its caller would have set, so a C table's callbacks
/// find what they expect ([`CSeqOps`](super::seq_ops::CSeqOps)).
///
/// # Invariants
///
/// - `seq` is a zeroed seq_file whose `lock` is initialised (so the value
///   is pinned: the mutex must not move) and whose `file` is the open's
///   (or the [`SeqIdentity`]'s, another file whose table it serves), `op`
///   and `private` the [`SeqIdentity`]'s. Nothing but this module accesses it, and `seq` and `data`
///   only with `seq.lock` held, through a [`SeqFileGuard`].
/// - `seq.buf` is NULL with `seq.size == 0` between guards (a guard resets
///   it when it goes).
#[pin_data]
pub(crate) struct SeqFileLock<T> {
    #[pin]
    seq: Opaque<bindings::seq_file>,
    data: UnsafeCell<T>,
}

// SAFETY: The seq_file and `T` are only reached with the lock held (type
// invariants), as in a `Mutex<T>`; the seq_file's `file` is the open's,
// only read by callbacks.
unsafe impl<T: Send> Send for SeqFileLock<T> {}
// SAFETY: As above.
unsafe impl<T: Send> Sync for SeqFileLock<T> {}

impl<T> SeqFileLock<T> {
    /// The seq_file of the open `opening`, guarding `data`.
    pub(crate) fn new(opening: &Opening, id: SeqIdentity, data: T) -> impl PinInit<Self> {
        let file = opening.file();
        // INVARIANT: zeroed, lock initialised, pinned (the closure runs at
        // the final address); `file` the open's or `id`'s, `op` and
        // `private` `id`'s.
        pin_init!(Self {
            seq <- Opaque::ffi_init(move |m: *mut bindings::seq_file| {
                // SAFETY: `m` is the seq_file's slot at its final (pinned)
                // address, ours and not shared yet; all-zero is a valid,
                // empty seq_file (as `seq_open()`'s kmem_cache_zalloc).
                unsafe {
                    m.write_bytes(0, 1);
                    ffi::seqsplice_mutex_init(addr_of_mut!((*m).lock));
                    (*m).file = if id.file.is_null() { file } else { id.file };
                    (*m).op = id.op;
                    (*m).private = id.private;
                }
            }),
            data: UnsafeCell::new(data),
        })
    }

    /// `m->private` as it is now, read without the lock (as
    /// `seq_open_private()` users read it, `READ_ONCE()`): a callback may
    /// change it under the lock meanwhile.
    pub(crate) fn private_now(&self) -> *mut core::ffi::c_void {
        // SAFETY: The seq_file is live (pinned, initialised by `new`). A
        // callback may store to the field under the lock meanwhile: this is
        // the kernel's `READ_ONCE()` of an aligned pointer (a single load
        // that cannot tear, the value of one store or the other), racy in
        // Rust's memory model as `seq_open_private()` users' reads are in
        // C's; only the pointer is read, never what it points to.
        unsafe { core::ptr::read_volatile(addr_of_mut!((*self.seq.get()).private)) }
    }

    /// Locks the seq_file and the data for the life of the returned guard.
    /// The wait is killable (`EINTR`): a task sharing the file with one that
    /// holds it for a long time can be killed while it waits. Lock order:
    /// the caller may hold pipe->mutex, the order `copy_splice_read()` ->
    /// `seq_read_iter()` also takes.
    pub(crate) fn lock(&self) -> Result<SeqFileGuard<'_, T>> {
        // SAFETY: The lock was initialised by `new` (type invariants).
        if unsafe { ffi::seqsplice_mutex_lock_killable(addr_of_mut!((*self.seq.get()).lock)) } != 0
        {
            return Err(EINTR);
        }
        // INVARIANT: the lock is held until drop.
        Ok(SeqFileGuard {
            lock: self,
            _not_send: PhantomData,
        })
    }
}

/// The lock of a [`SeqFileLock`], held for the life of this value.
///
/// # Invariants
///
/// `lock.seq.lock` is held by this value for its whole life.
///
/// Not `Send` (as `kernel::sync::lock::Guard`): a mutex is released by the
/// task that took it.
pub(crate) struct SeqFileGuard<'a, T> {
    lock: &'a SeqFileLock<T>,
    _not_send: PhantomData<*mut ()>,
}

impl<T> SeqFileGuard<'_, T> {
    /// The seq_file and the data, for as long as this borrow of the guard
    /// lasts.
    pub(crate) fn parts(&mut self) -> (&OwnSeqFile, &mut T) {
        // SAFETY: The lock is held (type invariants), which serialises every
        // access to the seq_file and the data (`SeqFileLock` invariants);
        // the `&mut self` borrow makes the `&mut T` the only borrow of the
        // data until it ends (the seq_file is only ever shared, `SeqFile`
        // writes through its `Opaque`), and the seq_file's buffer is NULL/0
        // between guards or a `PageWriter`'s, which points it at nothing
        // again when it goes. This seq_file is the module's own
        // (`SeqFileLock`), and the guard is not `Send`: its task is the
        // lock holder, the only user of the `&OwnSeqFile`.
        unsafe {
            (
                OwnSeqFile::from_raw(self.lock.seq.get()),
                &mut *self.lock.data.get(),
            )
        }
    }
}

impl<T> Drop for SeqFileGuard<'_, T> {
    fn drop(&mut self) {
        // Between guards `m->buf` points at nothing.
        self.parts().0.clear_buf();
        // SAFETY: The lock is held by us (type invariants).
        unsafe { bindings::mutex_unlock(addr_of_mut!((*self.lock.seq.get()).lock)) };
    }
}
