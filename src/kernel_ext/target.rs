// SPDX-License-Identifier: GPL-2.0

//! Another file's seq_file, served through the module's: a [`Target`] is a
//! read-only open of a file on the allow-list (ftrace's `trace` files on
//! tracefs), made with the opener's credentials, and [`TargetTable`] drives
//! its own `struct seq_operations` with its own `private`, `file` and `op`
//! in every callback ([`CSeqOps`]).
//!
//! The checks, in order, before anything is opened: an absolute path,
//! looked up once (`kern_path()`, following symlinks); a regular file on
//! tracefs (`TRACEFS_MAGIC`) named `trace`; the opener may read it
//! (`inode_permission(MAY_READ)`). Then `dentry_open()` of that path,
//! read-only and never `O_TRUNC` (with the opener's `current_cred()`: the
//! target's own open and LSM hooks see the reader), and after it: the
//! file reads through the seq_file core (`seq_read_iter()`) and its
//! `private_data` is a seq_file of this file with all four callbacks.
//!
//! What an open holds: the target file, so its module, mount and trace
//! instance stay pinned (`trace_array_get()`: `rmdir instances/NAME` is
//! `EBUSY`), and ftrace's own open of `trace` pauses recording meanwhile
//! (`pause-on-trace`), as for any reader of `trace`.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h)

use core::ffi::CStr;
use core::ptr::NonNull;

use kernel::bindings;
use kernel::prelude::*;

use super::seq_ops::{CSeqOps, OwnedTable};
use crate::ffi;

/// `TRACEFS_MAGIC` (include/uapi/linux/magic.h).
const TRACEFS_MAGIC: u64 = 0x7472_6163;

/// Longest target path, bytes, terminating NUL included.
pub(crate) const MAX_PATH: usize = 256;

/// Why a target is refused: the errno, and a reason for dmesg.
pub(crate) struct Refusal {
    /// `EINVAL` (not on the allow-list) or the lookup's or the permission
    /// check's errno (`ENOENT`, `EACCES`, ...).
    pub(crate) errno: Error,
    /// What was wrong.
    pub(crate) why: &'static str,
}

fn refuse(errno: Error, why: &'static str) -> Refusal {
    Refusal { errno, why }
}

/// A looked-up path, put back on drop.
///
/// # Invariants
///
/// `path` holds the references `kern_path()` took.
struct Path {
    path: bindings::path,
}

impl Path {
    /// Looks `name` up once, following symlinks.
    fn lookup(name: &CStr) -> Result<Self, Refusal> {
        if name.to_bytes().first() != Some(&b'/') {
            return Err(refuse(EINVAL, "not an absolute path"));
        }
        let mut path = bindings::path::default();
        // SAFETY: `name` is a NUL-terminated string; `path` is ours to
        // fill.
        let r = unsafe { ffi::seqsplice_kern_path_follow(name.as_ptr().cast(), &mut path) };
        if r != 0 {
            return Err(refuse(Error::from_errno(r), "lookup failed"));
        }
        // INVARIANT: `kern_path()` succeeded.
        Ok(Self { path })
    }

    /// The allow-list and the permission check, before any open.
    fn check(&self) -> Result<(), Refusal> {
        // SAFETY: A path `kern_path()` filled (type invariants).
        let magic = unsafe { ffi::seqsplice_path_magic(&self.path) } as u64;
        if magic != TRACEFS_MAGIC {
            return Err(refuse(EINVAL, "not on tracefs"));
        }
        // SAFETY: As above.
        if !unsafe { ffi::seqsplice_path_is_reg(&self.path) } {
            return Err(refuse(EINVAL, "not a regular file"));
        }
        let mut name = [0u8; 16];
        // SAFETY: As above; `name` is `name.len()` writable bytes.
        unsafe { ffi::seqsplice_path_name(&self.path, name.as_mut_ptr().cast(), name.len()) };
        if CStr::from_bytes_until_nul(&name).map(|n| n.to_bytes()) != Ok(b"trace".as_slice()) {
            return Err(refuse(
                EINVAL,
                "not a trace file (only tracefs trace files are served)",
            ));
        }
        // SAFETY: As above.
        let r = unsafe { ffi::seqsplice_path_may_read(&self.path) };
        if r != 0 {
            return Err(refuse(Error::from_errno(r), "the opener may not read it"));
        }
        Ok(())
    }
}

impl Drop for Path {
    fn drop(&mut self) {
        // SAFETY: The references `kern_path()` took (type invariants),
        // put once.
        unsafe { bindings::path_put(&self.path) };
    }
}

/// Checks `name` as a target without opening it (a write of the path
/// knob).
pub(crate) fn check(name: &CStr) -> Result<(), Refusal> {
    Path::lookup(name)?.check()
}

/// A read-only open of an allowed target.
///
/// # Invariants
///
/// `file` is a file reference of ours (from `dentry_open()`), put on drop;
/// it reads through `seq_read_iter()`, and its `private_data` is a seq_file
/// of `file` whose `op` has all four callbacks, live until the file's
/// release (after our drop).
pub(crate) struct Target {
    file: NonNull<bindings::file>,
}

// SAFETY: A file reference may be used and put from any task.
unsafe impl Send for Target {}
// SAFETY: Shared access only reads the file's immutable fields.
unsafe impl Sync for Target {}

impl Target {
    /// Opens `name` after the checks (module doc), with the opener's
    /// credentials.
    pub(crate) fn open(name: &CStr) -> Result<Self, Refusal> {
        let path = Path::lookup(name)?;
        path.check()?;
        // SAFETY: A looked-up path (`Path` invariants).
        let file = unsafe { ffi::seqsplice_dentry_open_read(&path.path) };
        let r = file as isize;
        if r < 0 && r >= -(bindings::MAX_ERRNO as isize) {
            return Err(refuse(Error::from_errno(r as i32), "open failed"));
        }
        let file = NonNull::new(file).ok_or(refuse(EINVAL, "open failed"))?;
        // INVARIANT: checked below before the value is handed out; on a
        // refusal the drop puts the reference.
        let t = Self { file };
        if !t.is_seq_file() {
            return Err(refuse(EINVAL, "not read through the seq_file core"));
        }
        Ok(t)
    }

    /// The file's `private_data` is a seq_file of this file with the four
    /// callbacks, read through `seq_read_iter()`.
    fn is_seq_file(&self) -> bool {
        let f = self.file.as_ptr();
        // SAFETY: `file` is a live reference of ours; an open file's
        // `f_op` is set and live, and its `private_data` is what its
        // `->open` left there.
        unsafe {
            let fops = &*(*f).f_op;
            if fops.read_iter.map(|r| r as *const ()) != Some(bindings::seq_read_iter as *const ())
            {
                return false;
            }
            // A file read through `seq_read_iter()` has a seq_file there
            // once opened for reading (`seq_open()`).
            let m = (*f).private_data.cast::<bindings::seq_file>();
            if m.is_null() || (*m).file != f || (*m).op.is_null() {
                return false;
            }
            let op = &*(*m).op;
            op.start.is_some() && op.next.is_some() && op.stop.is_some() && op.show.is_some()
        }
    }

    /// The target's seq_file.
    fn seq(&self) -> NonNull<bindings::seq_file> {
        // SAFETY: Checked non-NULL at open (type invariants), live while
        // the file is.
        unsafe { NonNull::new_unchecked((*self.file.as_ptr()).private_data.cast()) }
    }

    /// The target's file (for `m->file`).
    pub(crate) fn file(&self) -> *mut bindings::file {
        self.file.as_ptr()
    }

    /// The target's table and private, as its seq_file holds them.
    pub(crate) fn table(&self) -> (NonNull<bindings::seq_operations>, *mut core::ffi::c_void) {
        let m = self.seq().as_ptr();
        // SAFETY: The target's live seq_file (type invariants); `op`
        // checked non-NULL at open and never changed by the seq_file core.
        unsafe { (NonNull::new_unchecked((*m).op.cast_mut()), (*m).private) }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        // SAFETY: Our reference (type invariants), put once; the target's
        // `->release` runs when the last goes (deferred to task work).
        unsafe { bindings::fput(self.file.as_ptr()) };
    }
}

/// A target's own table, driven by the engine with the target's
/// `private`, `file` and `op` in every callback; the target file goes
/// after the table ([`OwnedTable`]).
pub(crate) type TargetTable = OwnedTable<Target>;

impl OwnedTable<Target> {
    /// The table of the target `name`, opened now with the caller's
    /// credentials.
    pub(crate) fn open(name: &CStr) -> Result<Self, Refusal> {
        let target = Target::open(name)?;
        let (op, private) = target.table();
        // SAFETY: `op` and `private` are the target's seq_file's, live
        // while the target file is, which the value made below holds; the
        // target's callbacks are written for `seq_read_iter()`'s order,
        // which `CSeqOps` enforces, and its seq_file is private to this
        // open (nothing else reads it).
        let table = unsafe { CSeqOps::with_file(op, private, target.file) }
            .map_err(|e| refuse(e, "its table lacks a callback"))?;
        // SAFETY: The target keeps the table's pointers valid (above).
        Ok(unsafe { Self::with_owner(table, target) })
    }
}

/// A path a [`TargetCopyVTable`] or the engine's mirror opens: at most
/// [`MAX_PATH`] bytes, NUL-terminated.
pub(crate) struct TargetPath {
    bytes: [u8; MAX_PATH],
}

impl TargetPath {
    /// `s` (without a NUL) as a path; `EINVAL` when it is too long or holds
    /// a NUL.
    pub(crate) fn new(s: &[u8]) -> Result<Self> {
        if s.len() >= MAX_PATH || s.contains(&0) {
            return Err(EINVAL);
        }
        let mut bytes = [0u8; MAX_PATH];
        bytes[..s.len()].copy_from_slice(s);
        Ok(Self { bytes })
    }

    /// The path as a C string.
    pub(crate) fn as_cstr(&self) -> &CStr {
        // A NUL is at `bytes[len]` (`new` leaves room for it, zeroed).
        CStr::from_bytes_until_nul(&self.bytes).unwrap_or(c"")
    }
}

/// A file served by the stock seq_file core over a [`Target`]'s own table
/// (`seq_read_iter()`, `seq_lseek()`, `copy_splice_read()`), with the
/// target's `private`, `file` and `op`, and a preallocated seq buffer.
pub(crate) trait TargetCopy: 'static {
    /// The target of a new open.
    fn path() -> Result<TargetPath>;

    /// The seq buffer of a new open, bytes (above a page: preallocated).
    fn buffer_bytes() -> usize;

    /// A refused target, for dmesg.
    fn refused(r: &Refusal);
}

/// The `file_operations` of a [`TargetCopy`] type `T`: `file->private_data`
/// is `seq_open()`'s seq_file over the target's table, whose `m->file` is
/// the target file (our reference, put by `release`).
pub(crate) struct TargetCopyVTable<T>(core::marker::PhantomData<T>);

impl<T: TargetCopy> TargetCopyVTable<T> {
    /// The table.
    pub(crate) const OPS: bindings::file_operations = bindings::file_operations {
        owner: crate::THIS_MODULE.as_ptr(),
        open: Some(Self::open),
        read_iter: Some(bindings::seq_read_iter),
        llseek: Some(bindings::seq_lseek),
        splice_read: Some(bindings::copy_splice_read),
        release: Some(Self::release),
        // SAFETY: All-zero is a valid `file_operations` (NULL pointers,
        // `None` callbacks).
        ..unsafe { core::mem::MaybeUninit::zeroed().assume_init() }
    };

    /// # Safety
    ///
    /// Called by the VFS as `->open` of a file of this table.
    unsafe extern "C" fn open(
        _inode: *mut bindings::inode,
        file: *mut bindings::file,
    ) -> core::ffi::c_int {
        kernel::error::from_result(|| {
            let path = T::path()?;
            let target = Target::open(path.as_cstr()).map_err(|r| {
                T::refused(&r);
                r.errno
            })?;
            let size = T::buffer_bytes();
            let buf = if size > bindings::PAGE_SIZE {
                Some(KVVec::<u8>::with_capacity(size, GFP_KERNEL_ACCOUNT)?)
            } else {
                None
            };
            let (op, private) = target.table();
            // SAFETY: The file is being opened, its `private_data` unset;
            // `op` is the target's table, live while the target file is.
            kernel::error::to_result(unsafe { bindings::seq_open(file, op.as_ptr()) })?;
            // SAFETY: `seq_open()` succeeded: `private_data` is its new
            // seq_file, not yet visible to any other call. The target's
            // `private` and file in it, as the target's callbacks expect;
            // our reference to the target file moves there (`release`
            // puts it). The buffer, if any, is the seq_file's from here:
            // `seq_release()` kvfree()s it.
            unsafe {
                let m = (*file).private_data.cast::<bindings::seq_file>();
                (*m).private = private;
                (*m).file = target.file();
                if let Some(buf) = buf {
                    let (ptr, _len, cap) = buf.into_raw_parts();
                    (*m).buf = ptr.cast();
                    (*m).size = cap;
                }
            }
            core::mem::forget(target);
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Called by the VFS as `->release` of a file of this table, once.
    unsafe extern "C" fn release(
        inode: *mut bindings::inode,
        file: *mut bindings::file,
    ) -> core::ffi::c_int {
        // SAFETY: `private_data` is the seq_file `open` made, whose `file`
        // is our reference to the target.
        let target = unsafe { (*(*file).private_data.cast::<bindings::seq_file>()).file };
        // SAFETY: `m->buf` is NULL or kvmalloc'd (by `open` or the seq_file
        // core), as `seq_release()` expects; `m->private` is the target's,
        // not freed here.
        let r = unsafe { bindings::seq_release(inode, file) };
        // SAFETY: Our reference to the target file, put once, after the
        // seq_file that named it is gone.
        unsafe { bindings::fput(target.cast_mut()) };
        r
    }
}
