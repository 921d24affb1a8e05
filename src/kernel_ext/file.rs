// SPDX-License-Identifier: GPL-2.0

//! The `file_operations` of a file type, built once per type (the shape of
//! 6.13's `miscdevice.rs`): a [`FileOps`] type serves `read_iter`,
//! `splice_read` and `llseek` itself ([`FileVTable`]); a [`SeqFileOps`]
//! type is served by the stock seq_file core over a [`SeqOperations`]
//! implementation (`seq_read_iter()`, `seq_lseek()`, `copy_splice_read()`:
//! [`SeqFileVTable`]), as ftrace's `trace` file is. Each `extern "C"`
//! trampoline turns the raw pointers into safe borrows once and `Result`
//! into an errno.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h)

use core::ffi::{c_int, c_uint};
use core::marker::PhantomData;
use core::ptr::{self, addr_of_mut};

use kernel::bindings;
use kernel::error::{from_result, VTABLE_DEFAULT_ERROR};
use kernel::prelude::*;
use kernel::types::ForeignOwnable;
use kernel::uaccess::UserSlice;

use super::iov::IovDest;
use super::pipe::Pipe;
use super::seq_ops::{SeqOperations, SeqOpsVTable};

/// Longest write a [`SeqFileOps`] file accepts by default, in bytes; a
/// longer write is `EINVAL`.
pub(crate) const MAX_WRITE: usize = 32;

/// Longest write any [`SeqFileOps`] file may accept ([`SeqFileOps::WRITE_MAX`]).
pub(crate) const WRITE_BUF: usize = 256;

/// The file and inode an `->open` is for.
///
/// # Invariants
///
/// `file` is the file being opened, live until its `->release`; `ino` its
/// inode number.
pub(crate) struct Opening {
    file: *mut bindings::file,
    ino: u64,
}

impl Opening {
    /// The inode number of the file being opened.
    pub(crate) fn ino(&self) -> u64 {
        self.ino
    }

    /// The file (for a seq_file's `m->file`).
    pub(super) fn file(&self) -> *mut bindings::file {
        self.file
    }

    /// The open of `file` on `inode`.
    ///
    /// # Safety
    ///
    /// The arguments of an `->open`.
    pub(super) unsafe fn new(inode: *mut bindings::inode, file: *mut bindings::file) -> Self {
        // INVARIANT: the file being opened.
        Self {
            file,
            // SAFETY: The VFS passes the live inode being opened.
            ino: unsafe { (*inode).i_ino } as u64,
        }
    }
}

/// A file type whose reads, splices and seeks are its own.
pub(crate) trait FileOps: 'static {
    /// The state of one open, in `file->private_data`.
    type Ptr: ForeignOwnable + Send + Sync;

    /// `->open`: the state of a new open.
    fn open(opening: &Opening) -> Result<Self::Ptr>;

    /// `->read_iter`: reads at `*pos` into `dest`, moving `*pos` on.
    fn read_iter(
        this: <Self::Ptr as ForeignOwnable>::Borrowed<'_>,
        pos: &mut i64,
        dest: &mut IovDest<'_>,
    ) -> Result<usize>;

    /// `->splice_read`: at most `len` bytes at `*pos` into the locked
    /// `pipe`, moving `*pos` on.
    fn splice_read(
        this: <Self::Ptr as ForeignOwnable>::Borrowed<'_>,
        pos: &mut i64,
        pipe: &mut Pipe,
        len: usize,
    ) -> Result<usize>;

    /// `->llseek` from the file's position `f_pos`: what to store there (if
    /// anything) and the result.
    fn llseek(
        this: <Self::Ptr as ForeignOwnable>::Borrowed<'_>,
        f_pos: i64,
        offset: i64,
        whence: u32,
    ) -> (Option<i64>, Result<i64>);
}

/// The `file_operations` of a [`FileOps`] type `T`.
pub(crate) struct FileVTable<T>(PhantomData<T>);

/// Zeroed operations, to fill with `..` syntax.
const NO_FOPS: bindings::file_operations = {
    // SAFETY: `file_operations` is plain data for which all-zero (NULL
    // pointers, `None` callbacks) is valid.
    unsafe { core::mem::MaybeUninit::zeroed().assume_init() }
};

impl<T: FileOps> FileVTable<T> {
    /// The table.
    pub(crate) const OPS: bindings::file_operations = bindings::file_operations {
        owner: crate::THIS_MODULE.as_ptr(),
        open: Some(Self::open),
        read_iter: Some(Self::read_iter),
        llseek: Some(Self::llseek),
        splice_read: Some(Self::splice_read),
        release: Some(Self::release),
        ..NO_FOPS
    };

    /// The state of an open file.
    ///
    /// # Safety
    ///
    /// `file` is an open file of [`Self::OPS`], live for `'a`, not yet
    /// released.
    unsafe fn state<'a>(file: *mut bindings::file) -> <T::Ptr as ForeignOwnable>::Borrowed<'a> {
        // SAFETY: `open` set `private_data` from `into_foreign`; it is
        // released only by `release`, after every other call.
        unsafe { T::Ptr::borrow((*file).private_data) }
    }

    /// # Safety
    ///
    /// Called by the VFS as `->open` of a file of this table.
    unsafe extern "C" fn open(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        from_result(|| {
            // SAFETY: The arguments of `->open` (function contract).
            let opening = unsafe { Opening::new(inode, file) };
            let ptr = T::open(&opening)?;
            // SAFETY: The file is being opened: nothing else uses it yet.
            unsafe { (*file).private_data = ptr.into_foreign().cast_mut() };
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Called by the VFS as `->read_iter` of an open file of this table.
    unsafe extern "C" fn read_iter(
        iocb: *mut bindings::kiocb,
        iter: *mut bindings::iov_iter,
    ) -> isize {
        from_result(|| {
            // SAFETY: The VFS passes a valid kiocb of an open file of ours.
            let this = unsafe { Self::state((*iocb).ki_filp) };
            // SAFETY: `iter` is this call's destination.
            let mut dest = unsafe { IovDest::new(iter) };
            // SAFETY: `ki_pos` belongs to the kiocb the VFS passed us.
            let pos = unsafe { &mut (*iocb).ki_pos };
            Ok(T::read_iter(this, pos, &mut dest)? as isize)
        })
    }

    /// # Safety
    ///
    /// Called as `->splice_read` of an open file of this table, with the
    /// pipe locked (`splice_file_to_pipe()`) or the private pipe of
    /// `splice_direct_to_actor()`.
    unsafe extern "C" fn splice_read(
        file: *mut bindings::file,
        ppos: *mut bindings::loff_t,
        pipe: *mut bindings::pipe_inode_info,
        len: usize,
        _flags: c_uint,
    ) -> isize {
        from_result(|| {
            // SAFETY: `file` is an open file of ours.
            let this = unsafe { Self::state(file) };
            // SAFETY: The locked pipe of this call (function contract).
            let mut pipe = unsafe { Pipe::new(pipe) };
            // SAFETY: `ppos` is the caller's position for this call: a
            // local of `do_splice()`, `do_sendfile()` or
            // `splice_direct_to_actor()` (never `&file->f_pos`), so no other
            // task touches it.
            let pos = unsafe { &mut *ppos };
            Ok(T::splice_read(this, pos, &mut pipe, len)? as isize)
        })
    }

    /// # Safety
    ///
    /// Called by the VFS as `->llseek` of an open file of this table.
    unsafe extern "C" fn llseek(
        file: *mut bindings::file,
        offset: bindings::loff_t,
        whence: c_int,
    ) -> bindings::loff_t {
        from_result(|| {
            // SAFETY: `file` is an open file of ours.
            let this = unsafe { Self::state(file) };
            // SAFETY: `file` is live; only the address is taken.
            let f_pos = unsafe { addr_of_mut!((*file).f_pos) };
            // `f_pos` is never borrowed: lseek holds `f_pos_lock`, but
            // `do_splice()` writes `in->f_pos` without it. Plain loads and
            // stores through the pointer, as `seq_lseek()` does, once each.
            // SAFETY: `f_pos` points into the live file.
            let cur = unsafe { ptr::read_volatile(f_pos) };
            let (new, result) = T::llseek(this, cur, offset, whence as u32);
            if let Some(v) = new {
                // SAFETY: As above.
                unsafe { ptr::write_volatile(f_pos, v) };
            }
            result
        })
    }

    /// `->release`: drops the open's state.
    ///
    /// # Safety
    ///
    /// Called by the VFS as `->release` of a file of this table, once,
    /// after every other call on it.
    unsafe extern "C" fn release(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: `private_data` came from `into_foreign` in `open`; this is
        // its one release, and no call borrows it any more.
        drop(unsafe { T::Ptr::from_foreign((*file).private_data) });
        0
    }
}

/// What a [`SeqFileOps`] open gives the stock seq_file core.
pub(crate) struct SeqOpen<S> {
    /// The records (`m->private`).
    pub(crate) ops: S,
    /// A preallocated seq buffer (`m->buf`, its whole capacity `m->size`:
    /// what the opener accounts for is `capacity()`, not what it asked
    /// for), as `single_open_size()` gives; the seq_file owns it from then
    /// on and `seq_release()` kvfree()s it.
    pub(crate) buf: Option<KVVec<u8>>,
}

/// A file type served by the stock seq_file core.
#[vtable]
pub(crate) trait SeqFileOps: 'static {
    /// The records.
    type Ops: SeqOperations;

    /// `->open`: the records of a new open, and its seq buffer.
    fn open(opening: &Opening) -> Result<SeqOpen<Self::Ops>>;

    /// Longest write accepted, bytes (at most [`WRITE_BUF`]).
    const WRITE_MAX: usize = MAX_WRITE;

    /// A write of `input` (at most [`Self::WRITE_MAX`] bytes).
    fn write(_ops: &Self::Ops, _input: &[u8]) -> Result {
        kernel::build_error(VTABLE_DEFAULT_ERROR)
    }
}

/// The `file_operations` of a [`SeqFileOps`] type `T`: `m->private` is a
/// `KBox<T::Ops>` made foreign.
pub(crate) struct SeqFileVTable<T>(PhantomData<T>);

impl<T: SeqFileOps> SeqFileVTable<T> {
    /// The table.
    pub(crate) const OPS: bindings::file_operations = bindings::file_operations {
        owner: crate::THIS_MODULE.as_ptr(),
        open: Some(Self::open),
        read_iter: Some(bindings::seq_read_iter),
        write: if T::HAS_WRITE {
            Some(Self::write)
        } else {
            None
        },
        llseek: Some(bindings::seq_lseek),
        splice_read: Some(bindings::copy_splice_read),
        release: Some(Self::release),
        ..NO_FOPS
    };

    /// The records behind an open file.
    ///
    /// # Safety
    ///
    /// `file` is an open file of [`Self::OPS`], live for `'a`.
    unsafe fn state<'a>(file: *mut bindings::file) -> &'a T::Ops {
        // SAFETY: `open` made `private_data` a seq_file whose `private` came
        // from `KBox::into_foreign`, released only by `release`.
        unsafe {
            let m = (*file).private_data.cast::<bindings::seq_file>();
            <KBox<T::Ops> as ForeignOwnable>::borrow((*m).private)
        }
    }

    /// `->open`: `seq_open()` with the records' C table, and the
    /// preallocated seq buffer if there is one.
    ///
    /// # Safety
    ///
    /// Called by the VFS as `->open` of a file of this table.
    unsafe extern "C" fn open(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        from_result(|| {
            // SAFETY: The arguments of `->open` (function contract).
            let opening = unsafe { Opening::new(inode, file) };
            let SeqOpen { ops, buf } = T::open(&opening)?;
            let private = KBox::new(ops, GFP_KERNEL)?;
            // SAFETY: The file is being opened and has no private data yet.
            kernel::error::to_result(unsafe {
                bindings::seq_open(file, &SeqOpsVTable::<T::Ops>::OPS)
            })?;
            // SAFETY: seq_open succeeded: `private_data` is the new
            // seq_file, not yet visible to any other call.
            let m = unsafe { (*file).private_data.cast::<bindings::seq_file>() };
            // SAFETY: As above; `m->private` is released by `release`.
            unsafe { (*m).private = private.into_foreign().cast_mut() };
            if let Some(buf) = buf {
                // The seq_file owns the allocation from here: `seq_release()`
                // kvfree()s it, as the `Kvmalloc` allocator's memory may be.
                let (ptr, _len, cap) = buf.into_raw_parts();
                if cap > 0 {
                    // SAFETY: As above; `ptr` is the vector's `cap` bytes.
                    unsafe {
                        (*m).buf = ptr.cast();
                        (*m).size = cap;
                    }
                }
            }
            Ok(0)
        })
    }

    /// `->write`: at most [`MAX_WRITE`] bytes, given to
    /// [`SeqFileOps::write`].
    ///
    /// # Safety
    ///
    /// Called by the VFS as `->write` of an open file of this table, with a
    /// user buffer of `count` bytes.
    unsafe extern "C" fn write(
        file: *mut bindings::file,
        ubuf: *const kernel::ffi::c_char,
        count: usize,
        _ppos: *mut bindings::loff_t,
    ) -> isize {
        from_result(|| {
            // SAFETY: `file` is an open file of ours.
            let ops = unsafe { Self::state(file) };
            let mut buf = [0u8; WRITE_BUF];
            let max = T::WRITE_MAX.min(WRITE_BUF);
            let dst = buf
                .get_mut(..count)
                .filter(|_| count <= max)
                .ok_or_else(|| {
                    pr_info!("write of {} bytes refused: too long\n", count);
                    EINVAL
                })?;
            UserSlice::new(ubuf as usize, count)
                .reader()
                .read_slice(dst)?;
            T::write(ops, dst)?;
            Ok(count as isize)
        })
    }

    /// `->release`.
    ///
    /// # Safety
    ///
    /// Called by the VFS as `->release` of a file of this table, once.
    unsafe extern "C" fn release(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: `private_data` is our seq_file (`open`).
        let private = unsafe { (*(*file).private_data.cast::<bindings::seq_file>()).private };
        // SAFETY: `m->buf` is NULL or kvmalloc'd (by seq_read_iter or
        // `open`), as seq_release expects.
        let r = unsafe { bindings::seq_release(inode, file) };
        // SAFETY: `private` came from `into_foreign` in `open`; this is its
        // one release, after the seq_file (and its buffer) went.
        drop(unsafe { <KBox<T::Ops> as ForeignOwnable>::from_foreign(private) });
        r
    }
}
