// SPDX-License-Identifier: GPL-2.0

//! Access to an open `seq_file` while its `m->lock` is held.
//!
//! C header: [`include/linux/seq_file.h`](srctree/include/linux/seq_file.h)

use core::ffi::c_void;
use core::marker::PhantomData;
use core::ptr::addr_of_mut;

use kernel::bindings;
use kernel::prelude::*;

use crate::ffi;
use crate::open::{Open, TraceBuf};

/// An iterator position returned by `->start`/`->next`: NULL at the end,
/// an `ERR_PTR` on error, anything else is a record.
#[derive(Clone, Copy)]
pub(crate) struct Token(*mut c_void);

impl Token {
    /// The iterator is at the end (NULL) or failed (`ERR_PTR`).
    pub(crate) fn is_end(self) -> bool {
        self.0.is_null() || self.is_err()
    }

    /// The iterator returned an `ERR_PTR`.
    pub(crate) fn is_err(self) -> bool {
        self.0 as usize >= (-(bindings::MAX_ERRNO as isize)) as usize
    }

    /// The error of an `ERR_PTR` token, 0 for any other.
    pub(crate) fn err(self) -> i32 {
        if self.is_err() {
            self.0 as isize as i32
        } else {
            0
        }
    }
}

/// The lock of an open `trace` file's `seq_file`: `m->lock` held for the
/// life of this value.
///
/// # Invariants
///
/// `m` points to a live `seq_file` of an open `trace` file whose `private`
/// is a `KBox<Open>` leaked at open, and `m->lock` is held by this value for
/// its whole life, which serialises every access to the seq_file's fields
/// and to the open's [`TraceBuf`].
pub(crate) struct SeqGuard<'a> {
    m: *mut bindings::seq_file,
    _file: PhantomData<&'a bindings::file>,
}

impl<'a> SeqGuard<'a> {
    /// Locks the seq_file of `file` for a call that keeps its mapping for
    /// the next one (`persist`: `read()`, `lseek()`) or not (a splice,
    /// release).
    ///
    /// # Safety
    ///
    /// `file` is an open `trace` file of this module whose `private_data` is
    /// a `seq_file` set up by [`crate::file`], valid for `'a`.
    ///
    /// The wait is killable (`EINTR`): a task sharing the fd with one that
    /// regenerates for a long time can be killed while it waits.
    pub(crate) unsafe fn lock(file: *mut bindings::file, persist: bool) -> Result<Self> {
        // SAFETY: Per the function's contract `private_data` is our seq_file.
        let m = unsafe { (*file).private_data }.cast::<bindings::seq_file>();
        // SAFETY: `m` is valid (contract); its mutex was initialised by
        // seq_open. Lock order: the caller may hold pipe->mutex, the order
        // copy_splice_read -> seq_read_iter also takes.
        if unsafe { ffi::seqsplice_mutex_lock_killable(addr_of_mut!((*m).lock)) } != 0 {
            return Err(EINTR);
        }
        // INVARIANT: the lock is held until drop.
        Ok(Self::locked(m, persist))
    }

    /// Locks the seq_file of `file` for `->release`, which cannot fail.
    ///
    /// # Safety
    ///
    /// As for [`SeqGuard::lock`].
    pub(crate) unsafe fn lock_for_release(file: *mut bindings::file) -> Self {
        // SAFETY: As in `lock`.
        let m = unsafe { (*file).private_data }.cast::<bindings::seq_file>();
        // SAFETY: As in `lock`.
        unsafe { bindings::mutex_lock(addr_of_mut!((*m).lock)) };
        // INVARIANT: the lock is held until drop.
        Self::locked(m, false)
    }

    /// The guard of `m`, whose lock the caller just took.
    fn locked(m: *mut bindings::seq_file, persist: bool) -> Self {
        let mut guard = Self {
            m,
            _file: PhantomData,
        };
        guard.parts().1.begin_call(persist);
        guard
    }

    /// The locked seq_file and the open's trace buffer, for as long as this
    /// borrow of the guard lasts.
    pub(crate) fn parts(&mut self) -> (Locked<'_>, &mut TraceBuf) {
        // SAFETY: By the type invariants `private` is our `Open` and the lock
        // serialises access to it; the `&mut self` borrow makes this the only
        // borrow of its buffer until it ends, and it cannot outlive the
        // guard. Only the `tb` field is borrowed mutably: the record source's
        // `->show` (called through `Locked`) reads `knobs` and `raw`,
        // disjoint fields that are never written after open.
        let tb = unsafe { &mut *addr_of_mut!((*(*self.m).private.cast::<Open>()).tb) };
        (
            Locked {
                m: self.m,
                _guard: PhantomData,
            },
            tb,
        )
    }
}

impl Drop for SeqGuard<'_> {
    fn drop(&mut self) {
        // No vm_map_ram() mapping outlives the call (TraceBuf invariants).
        let (mut l, tb) = self.parts();
        tb.end_call(&mut l);
        // SAFETY: By the type invariants the lock is held by us.
        unsafe { bindings::mutex_unlock(addr_of_mut!((*self.m).lock)) };
    }
}

/// The fields and operations of a `seq_file` locked by a [`SeqGuard`].
///
/// # Invariants
///
/// `m` is the live seq_file of the guard this value borrows, locked for the
/// life of this value.
pub(crate) struct Locked<'g> {
    m: *mut bindings::seq_file,
    _guard: PhantomData<&'g mut ()>,
}

macro_rules! field {
    ($get:ident, $set:ident, $f:ident, $t:ty) => {
        impl Locked<'_> {
            #[doc = concat!("`m->", stringify!($f), "`.")]
            pub(crate) fn $get(&self) -> $t {
                // SAFETY: By the type invariants `m` is live and locked.
                unsafe { (*self.m).$f }
            }

            #[doc = concat!("Sets `m->", stringify!($f), "`.")]
            pub(crate) fn $set(&mut self, v: $t) {
                // SAFETY: By the type invariants `m` is live and locked.
                unsafe { (*self.m).$f = v }
            }
        }
    };
}

field!(from, set_from, from, usize);
field!(count, set_count, count, usize);
field!(index, set_index, index, i64);
field!(read_pos, set_read_pos, read_pos, i64);

impl Locked<'_> {
    /// Points `m->buf`/`m->size` at a mapping (or at nothing).
    ///
    /// # Safety
    ///
    /// `buf` is NULL with `size == 0`, or writable kernel memory of `size`
    /// bytes that stays so until the next `set_buf` (`seq_printf()` and
    /// friends write there). Only [`TraceBuf`] calls this, with its live
    /// mapping.
    pub(crate) unsafe fn set_buf(&mut self, buf: *mut u8, size: usize) {
        // SAFETY: By the type invariants `m` is live and locked.
        unsafe {
            (*self.m).buf = buf.cast();
            (*self.m).size = size;
        }
    }

    /// `seq_has_overflowed()`.
    pub(crate) fn overflowed(&self) -> bool {
        // SAFETY: By the type invariants `m` is live and locked.
        self.count() == unsafe { (*self.m).size }
    }

    /// `m->op->start(m, &m->index)`.
    pub(crate) fn start(&mut self) -> Token {
        // SAFETY: By the type invariants `m` is live and locked; `op` is the
        // module's record source, set at open.
        Token(unsafe {
            let op = (*self.m).op;
            match (*op).start {
                Some(f) => f(self.m, addr_of_mut!((*self.m).index)),
                None => core::ptr::null_mut(),
            }
        })
    }

    /// `m->op->next(m, p, &m->index)`.
    pub(crate) fn next(&mut self, p: Token) -> Token {
        // SAFETY: As in `start`.
        Token(unsafe {
            let op = (*self.m).op;
            match (*op).next {
                Some(f) => f(self.m, p.0, addr_of_mut!((*self.m).index)),
                None => core::ptr::null_mut(),
            }
        })
    }

    /// `m->op->show(m, p)`.
    pub(crate) fn show(&mut self, p: Token) -> i32 {
        // SAFETY: As in `start`; `p` came from `start`/`next`.
        unsafe {
            let op = (*self.m).op;
            match (*op).show {
                Some(f) => f(self.m, p.0),
                None => -(bindings::EINVAL as i32),
            }
        }
    }

    /// `m->op->stop(m, p)`.
    pub(crate) fn stop(&mut self, p: Token) {
        // SAFETY: As in `start`.
        unsafe {
            let op = (*self.m).op;
            if let Some(f) = (*op).stop {
                f(self.m, p.0)
            }
        }
    }
}

/// `fmt::Write` into the seq_file of a `->show` call: each piece with
/// `seq_write()`, straight into the seq buffer. An overflow is the seq_file
/// core's business (`seq_read_iter()` retries with a bigger buffer).
///
/// # Invariants
///
/// `m` is the live seq_file of the `->show` call that made this value,
/// locked by the seq_file core for the life of the value.
pub(crate) struct SeqWriter<'a> {
    m: *mut bindings::seq_file,
    _show: PhantomData<&'a mut bindings::seq_file>,
}

impl SeqWriter<'_> {
    /// A writer for `m`.
    ///
    /// # Safety
    ///
    /// `m` is the seq_file a `->show` callback was given, and the value is
    /// used only during that call.
    pub(crate) unsafe fn new(m: *mut bindings::seq_file) -> Self {
        // INVARIANT: per the function's contract.
        Self {
            m,
            _show: PhantomData,
        }
    }
}

impl core::fmt::Write for SeqWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // SAFETY: By the type invariants `m` is live and locked; `s` is
        // valid for its length.
        unsafe { crate::ffi::seq_write(self.m, s.as_ptr().cast(), s.len()) };
        Ok(())
    }
}
