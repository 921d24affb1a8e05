// SPDX-License-Identifier: GPL-2.0

//! The exported C API (`include/seqsplice.h`, namespace `SEQSPLICE`): a C
//! module serves its own `struct seq_operations` through the engine by
//! calling `seqsplice_open()` from its `->open` and naming the other
//! functions in its `file_operations`.
//!
//! The functions are defined here (`#[no_mangle]`) and exported by the C
//! shim (`EXPORT_SYMBOL_NS_GPL`, `src/ffi/helpers.c`). What they serve is a
//! [`TableFile`] the module registers at load ([`Registration`]): this
//! layer knows no engine, so the exported functions dispatch through the
//! registered [`Api`] (one indirect call per read, splice or seek, none per
//! record).
//!
//! Lifetimes: a consumer's use of these symbols pins seqsplice (the
//! loader's module reference) while the consumer is loaded; the consumer's
//! `file_operations` (`.owner = THIS_MODULE`) pin the consumer, and so its
//! table, while a file is open; pages in pipes are plain pages with the
//! kernel's `nosteal_pipe_buf_ops` and outlive both.

use core::ffi::{c_int, c_void};
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};

use kernel::bindings;
use kernel::error::from_result;
use kernel::prelude::*;
use kernel::types::ForeignOwnable;

use super::file::{FileOps, FileVTable, Opening};
use super::seq_ops::CSeqOps;

/// A file type the engine serves for a C table.
pub(crate) trait TableFile: FileOps {
    /// The state of an open of `opening` driving `table`.
    fn open_table(opening: &Opening, table: CSeqOps) -> Result<Self::Ptr>;

    /// `m->private` now (a callback may have changed it).
    fn private(this: <Self::Ptr as ForeignOwnable>::Borrowed<'_>) -> *mut c_void;
}

type OpenFn = unsafe extern "C" fn(
    *mut bindings::file,
    *const bindings::seq_operations,
    *mut c_void,
) -> c_int;
type PrivateFn = unsafe extern "C" fn(*mut bindings::file) -> *mut c_void;

/// What the exported functions dispatch to: a [`TableFile`]'s open, its
/// `file_operations` and its `m->private`.
pub(crate) struct Api {
    fops: &'static bindings::file_operations,
    open: OpenFn,
    private: PrivateFn,
}

// SAFETY: Immutable after construction: a `file_operations` table (read
// only, as the VFS reads it from any task) and two function pointers.
unsafe impl Sync for Api {}

impl Api {
    /// The API of `T`.
    pub(crate) const fn of<T: TableFile>() -> Self {
        Self {
            fops: &FileVTable::<T>::OPS,
            open: open::<T>,
            private: private::<T>,
        }
    }
}

/// The registered API; NULL while none is (before the module's init is
/// done, after its exit began: no consumer can be loaded then).
static API: AtomicPtr<Api> = AtomicPtr::new(ptr::null_mut());

/// `API` set for the life of this value.
pub(crate) struct Registration(());

impl Registration {
    /// Makes the exported functions serve `api`.
    pub(crate) fn new(api: &'static Api) -> Self {
        API.store(ptr::from_ref(api).cast_mut(), Ordering::Release);
        Self(())
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        API.store(ptr::null_mut(), Ordering::Release);
    }
}

/// The registered API.
fn api() -> Result<&'static Api> {
    let p = API.load(Ordering::Acquire);
    // SAFETY: Non-NULL only between `Registration::new`, from a `&'static`,
    // and its drop.
    unsafe { p.as_ref() }.ok_or(ENODEV)
}

/// # Safety
///
/// As `seqsplice_open()`.
unsafe extern "C" fn open<T: TableFile>(
    file: *mut bindings::file,
    op: *const bindings::seq_operations,
    private: *mut c_void,
) -> c_int {
    from_result(|| {
        let op = NonNull::new(op.cast_mut()).ok_or(EINVAL)?;
        if file.is_null() {
            return Err(EINVAL);
        }
        // SAFETY: `file` is being opened (the caller's contract): its
        // `f_op` is set and live.
        let fops = unsafe { &*(*file).f_op };
        if !fops_are_ours(fops) {
            // Another `read_iter` or `release` would take the open's state
            // in `private_data` for a seq_file (or leak it).
            pr_warn!("seqsplice_open: the file's operations must be seqsplice_read_iter and seqsplice_release (include/seqsplice.h)\n");
            return Err(EINVAL);
        }
        // SAFETY: `file` is being opened by its `->open` (the caller's
        // contract), and `f_inode` is set before `->open` runs.
        let opening = unsafe { Opening::new((*file).f_inode, file) };
        // SAFETY: The caller's contract: `op` lives in the caller's module,
        // which the open file pins (`.owner`), for as long as the open, and
        // its callbacks expect `private`; the engine keeps seq_file's
        // protocol (`CSeqOps` enforces the order, the engine sleeps only
        // outside `->start`..`->stop`).
        let table = unsafe { CSeqOps::new(op, private) };
        let state = T::open_table(&opening, table)?;
        // SAFETY: The file is being opened: no other call uses it yet. A
        // `private_data` already there (`misc_open()` sets it) is the
        // caller's, not owned by the file: replaced, as the header says.
        // No pwrite(), as `seq_open()` sets it up.
        unsafe {
            (*file).private_data = state.into_foreign().cast_mut();
            crate::ffi::seqsplice_file_clear_pwrite(file);
        }
        Ok(0)
    })
}

/// Whether `fops` reads and releases through the exported functions (and
/// splices and seeks through them or not at all), so that nothing but
/// seqsplice interprets `private_data`.
fn fops_are_ours(fops: &bindings::file_operations) -> bool {
    // Addresses: a function pointer compares by address alone.
    let read_iter = fops.read_iter.map(|f| f as *const ());
    let release = fops.release.map(|f| f as *const ());
    let splice = fops.splice_read.map(|f| f as *const ());
    let llseek = fops.llseek.map(|f| f as *const ());
    read_iter == Some(seqsplice_read_iter as *const ())
        && release == Some(seqsplice_release as *const ())
        && (splice.is_none() || splice == Some(seqsplice_splice_read as *const ()))
        && llseek != Some(bindings::seq_lseek as *const ())
}

/// # Safety
///
/// `file` is an open file of [`open`]`::<T>`.
unsafe extern "C" fn private<T: TableFile>(file: *mut bindings::file) -> *mut c_void {
    // SAFETY: `private_data` came from `into_foreign` in `open`, released
    // only by `->release`, after every other call on the file.
    let this = unsafe { T::Ptr::borrow((*file).private_data) };
    T::private(this)
}

/// `seqsplice_open()`: `file` served by the engine over `op`, with
/// `m->private = private`.
///
/// # Safety
///
/// Called from `file`'s `->open`, whose `f_op` is the caller's own
/// `file_operations` (`.owner` its module) naming the functions below; `op`
/// is a `seq_operations` of the caller's module, whose callbacks are sound
/// for a seq_file set up by `seq_open(file, op)` with `m->private =
/// private`, called as `seq_read_iter()` calls them.
#[no_mangle]
pub(crate) unsafe extern "C" fn seqsplice_open(
    file: *mut bindings::file,
    op: *const bindings::seq_operations,
    private: *mut c_void,
) -> c_int {
    match api() {
        // SAFETY: The function's contract.
        Ok(api) => unsafe { (api.open)(file, op, private) },
        Err(e) => e.to_errno(),
    }
}

/// `seqsplice_private()`: `m->private` now.
///
/// # Safety
///
/// `file` was opened by [`seqsplice_open`] and is not released.
#[no_mangle]
pub(crate) unsafe extern "C" fn seqsplice_private(file: *mut bindings::file) -> *mut c_void {
    match api() {
        // SAFETY: The function's contract.
        Ok(api) => unsafe { (api.private)(file) },
        Err(_) => ptr::null_mut(),
    }
}

/// `seqsplice_read_iter()`.
///
/// # Safety
///
/// The VFS's `->read_iter` of a file opened by [`seqsplice_open`].
#[no_mangle]
pub(crate) unsafe extern "C" fn seqsplice_read_iter(
    iocb: *mut bindings::kiocb,
    to: *mut bindings::iov_iter,
) -> isize {
    match api().map(|a| a.fops.read_iter) {
        // SAFETY: The function's contract: `T`'s own `->read_iter`.
        Ok(Some(f)) => unsafe { f(iocb, to) },
        _ => ENODEV.to_errno() as isize,
    }
}

/// `seqsplice_splice_read()`.
///
/// # Safety
///
/// The VFS's `->splice_read` of a file opened by [`seqsplice_open`].
#[no_mangle]
pub(crate) unsafe extern "C" fn seqsplice_splice_read(
    file: *mut bindings::file,
    ppos: *mut bindings::loff_t,
    pipe: *mut bindings::pipe_inode_info,
    len: usize,
    flags: core::ffi::c_uint,
) -> isize {
    match api().map(|a| a.fops.splice_read) {
        // SAFETY: The function's contract: `T`'s own `->splice_read`.
        Ok(Some(f)) => unsafe { f(file, ppos, pipe, len, flags) },
        _ => ENODEV.to_errno() as isize,
    }
}

/// `seqsplice_llseek()`.
///
/// # Safety
///
/// The VFS's `->llseek` of a file opened by [`seqsplice_open`].
#[no_mangle]
pub(crate) unsafe extern "C" fn seqsplice_llseek(
    file: *mut bindings::file,
    offset: bindings::loff_t,
    whence: c_int,
) -> bindings::loff_t {
    match api().map(|a| a.fops.llseek) {
        // SAFETY: The function's contract: `T`'s own `->llseek`.
        Ok(Some(f)) => unsafe { f(file, offset, whence) },
        _ => ENODEV.to_errno() as bindings::loff_t,
    }
}

/// `seqsplice_release()`: the open's state goes; `m->private` is the
/// caller's.
///
/// # Safety
///
/// The VFS's `->release` of a file opened by [`seqsplice_open`].
#[no_mangle]
pub(crate) unsafe extern "C" fn seqsplice_release(
    inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    match api().map(|a| a.fops.release) {
        // SAFETY: The function's contract: `T`'s own `->release`.
        Ok(Some(f)) => unsafe { f(inode, file) },
        _ => ENODEV.to_errno(),
    }
}
