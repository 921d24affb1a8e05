// SPDX-License-Identifier: GPL-2.0

//! The file operations of a record file, built once per type (the shape of
//! 6.13's `miscdevice.rs`): a [`RecordFile`] names its [`Source`] and how
//! an open makes one; [`Vtable::GIFT`] serves it through the engine (pages
//! gifted to pipes), [`Vtable::COPY`] through the stock seq_file core
//! (`seq_read_iter()`, `copy_splice_read()`), which is what ftrace's
//! `trace` file does. Each `extern "C"` trampoline turns the raw pointers
//! into safe borrows once and `Result` into an errno.

use core::ffi::{c_int, c_uint};
use core::marker::PhantomData;
use core::pin::Pin;
use core::ptr::{self, addr_of_mut};

use kernel::bindings;
use kernel::error::{from_result, VTABLE_DEFAULT_ERROR};
use kernel::prelude::*;
use kernel::types::ForeignOwnable;
use kernel::uaccess::UserSlice;

use super::buffer::BufferConfig;
use super::iov::IovDest;
use super::mode::MapMode;
use super::open::{Open, SeqGuard};
use super::pipe::Pipe;
use super::protocol;
use super::source::{SeqOps, SeqPrivate, Source};
use super::stats::STATS;
use super::window::{MAX_OPEN_BYTES, PAGE_SIZE};

/// Longest write a record file accepts, in bytes (its knob values are
/// shorter); a longer write is `EINVAL`.
pub(crate) const MAX_WRITE: usize = 32;

/// A file whose contents are the records of a [`Source`].
#[vtable]
pub(crate) trait RecordFile: 'static {
    /// The records.
    type Source: Source;

    /// The source of a new open of the file with inode number `ino`.
    fn open(ino: u64) -> Result<Self::Source>;

    /// The page buffer of a new open of the gift path.
    fn buffer(_source: &Self::Source) -> BufferConfig {
        BufferConfig {
            buf_pages: 256,
            cap_bytes: MAX_OPEN_BYTES,
            map_mode: MapMode::Auto,
            account: false,
        }
    }

    /// The seq buffer of a new open of the copy path, in bytes: above a
    /// page, preallocated (as `single_open_size()` does) and charged to the
    /// global cap.
    fn seq_buffer(_source: &Self::Source) -> usize {
        PAGE_SIZE
    }

    /// A write of `input` (at most [`MAX_WRITE`] bytes), copy path only.
    fn write(_source: &Self::Source, _input: &[u8]) -> Result {
        kernel::build_error(VTABLE_DEFAULT_ERROR)
    }
}

/// The `file_operations` of `T`.
pub(crate) struct Vtable<T>(PhantomData<T>);

/// Zeroed operations, to fill with `..` syntax.
const NO_FOPS: bindings::file_operations = {
    // SAFETY: `file_operations` is plain data for which all-zero (NULL
    // pointers, `None` callbacks) is valid.
    unsafe { core::mem::MaybeUninit::zeroed().assume_init() }
};

impl<T: RecordFile> Vtable<T> {
    /// Served by the engine: `splice_read` gifts the buffer's pages.
    pub(crate) const GIFT: bindings::file_operations = bindings::file_operations {
        owner: crate::THIS_MODULE.as_ptr(),
        open: Some(Self::gift_open),
        read_iter: Some(Self::gift_read_iter),
        llseek: Some(Self::gift_llseek),
        splice_read: Some(Self::gift_splice_read),
        release: Some(Self::gift_release),
        ..NO_FOPS
    };

    /// Served by the stock seq_file core and `copy_splice_read()`.
    pub(crate) const COPY: bindings::file_operations = bindings::file_operations {
        owner: crate::THIS_MODULE.as_ptr(),
        open: Some(Self::copy_open),
        read_iter: Some(bindings::seq_read_iter),
        write: if T::HAS_WRITE {
            Some(Self::copy_write)
        } else {
            None
        },
        llseek: Some(bindings::seq_lseek),
        splice_read: Some(bindings::copy_splice_read),
        release: Some(Self::copy_release),
        ..NO_FOPS
    };

    /// The open behind a gift file.
    ///
    /// # Safety
    ///
    /// `file` is an open file of [`Self::GIFT`], live for `'a`, not yet
    /// released.
    unsafe fn gift_state<'a>(file: *mut bindings::file) -> Pin<&'a Open<T::Source>> {
        // SAFETY: `gift_open` set `private_data` from `into_foreign` of a
        // pinned box; it is released only by `gift_release`, after every
        // other call.
        unsafe { <Pin<KBox<Open<T::Source>>> as ForeignOwnable>::borrow((*file).private_data) }
    }

    /// `->open`: the source, an empty page buffer (no page is allocated
    /// before the first read or splice) and the module's own seq_file.
    ///
    /// # Safety
    ///
    /// Called by the VFS as `->open` of a file of this table.
    unsafe extern "C" fn gift_open(
        inode: *mut bindings::inode,
        file: *mut bindings::file,
    ) -> c_int {
        from_result(|| {
            // SAFETY: The VFS passes the live inode being opened.
            let source = T::open(unsafe { (*inode).i_ino } as u64)?;
            let cfg = T::buffer(&source);
            let open = Open::new(file, source, cfg)?;
            // SAFETY: The file is being opened: nothing else uses it yet.
            unsafe { (*file).private_data = open.into_foreign().cast_mut() };
            STATS
                .opens
                .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
            Ok(0)
        })
    }

    /// `->read_iter`.
    ///
    /// # Safety
    ///
    /// Called by the VFS as `->read_iter` of an open file of this table.
    unsafe extern "C" fn gift_read_iter(
        iocb: *mut bindings::kiocb,
        iter: *mut bindings::iov_iter,
    ) -> isize {
        from_result(|| {
            // SAFETY: The VFS passes a valid kiocb of an open file of ours.
            let open = unsafe { Self::gift_state((*iocb).ki_filp) };
            let mut guard = SeqGuard::lock(open.get_ref(), true)?;
            let (m, src, buf) = guard.parts();
            // SAFETY: `iter` is this call's destination.
            let mut dest = unsafe { IovDest::new(iter) };
            // SAFETY: `ki_pos` belongs to the kiocb the VFS passed us.
            let pos = unsafe { &mut (*iocb).ki_pos };
            Ok(protocol::read_iter(m, src, buf, pos, &mut dest)? as isize)
        })
    }

    /// `->splice_read`: gifts the buffer's pages.
    ///
    /// # Safety
    ///
    /// Called as `->splice_read` of an open file of this table, with the
    /// pipe locked (`splice_file_to_pipe()`) or the private pipe of
    /// `splice_direct_to_actor()`.
    unsafe extern "C" fn gift_splice_read(
        file: *mut bindings::file,
        ppos: *mut bindings::loff_t,
        pipe: *mut bindings::pipe_inode_info,
        len: usize,
        _flags: c_uint,
    ) -> isize {
        from_result(|| {
            // SAFETY: `file` is an open file of ours.
            let open = unsafe { Self::gift_state(file) };
            let mut guard = SeqGuard::lock(open.get_ref(), false)?;
            let (m, src, buf) = guard.parts();
            // SAFETY: The locked pipe of this call (function contract).
            let mut pipe = unsafe { Pipe::new(pipe) };
            // SAFETY: `ppos` is the caller's position for this call: a
            // local of `do_splice()`, `do_sendfile()` or
            // `splice_direct_to_actor()` (never `&file->f_pos`), so no other
            // task touches it.
            let pos = unsafe { &mut *ppos };
            Ok(protocol::splice_read(m, src, buf, pos, &mut pipe, len)? as isize)
        })
    }

    /// `->llseek`.
    ///
    /// # Safety
    ///
    /// Called by the VFS as `->llseek` of an open file of this table.
    unsafe extern "C" fn gift_llseek(
        file: *mut bindings::file,
        offset: bindings::loff_t,
        whence: c_int,
    ) -> bindings::loff_t {
        from_result(|| {
            // SAFETY: `file` is an open file of ours.
            let open = unsafe { Self::gift_state(file) };
            let mut guard = SeqGuard::lock(open.get_ref(), true)?;
            let (m, src, buf) = guard.parts();
            // SAFETY: `file` is live; only the address is taken.
            let f_pos = unsafe { addr_of_mut!((*file).f_pos) };
            // `f_pos` is never borrowed: lseek holds `f_pos_lock`, but
            // `do_splice()` writes `in->f_pos` without it. Plain loads and
            // stores through the pointer, as `seq_lseek()` does, once each.
            // SAFETY: `f_pos` points into the live file.
            let cur = unsafe { ptr::read_volatile(f_pos) };
            let (new, result) = protocol::llseek(m, src, buf, cur, offset, whence as u32);
            if let Some(v) = new {
                // SAFETY: As above.
                unsafe { ptr::write_volatile(f_pos, v) };
            }
            result
        })
    }

    /// `->release`: frees the open (pipes keep their page references).
    ///
    /// # Safety
    ///
    /// Called by the VFS as `->release` of a file of this table, once,
    /// after every other call on it.
    unsafe extern "C" fn gift_release(
        _inode: *mut bindings::inode,
        file: *mut bindings::file,
    ) -> c_int {
        // SAFETY: `private_data` came from `into_foreign` in `gift_open`;
        // this is its one release, and no call borrows it any more.
        drop(unsafe {
            <KBox<Open<T::Source>> as ForeignOwnable>::from_foreign((*file).private_data)
        });
        0
    }

    /// The source behind a copy-path file.
    ///
    /// # Safety
    ///
    /// `file` is an open file of [`Self::COPY`], live for `'a`.
    unsafe fn copy_state<'a>(file: *mut bindings::file) -> &'a SeqPrivate<T::Source> {
        // SAFETY: `copy_open` made `private_data` a seq_file whose
        // `private` came from `KBox::into_foreign`, released only by
        // `copy_release`.
        unsafe {
            let m = (*file).private_data.cast::<bindings::seq_file>();
            <KBox<SeqPrivate<T::Source>> as ForeignOwnable>::borrow((*m).private)
        }
    }

    /// `->open` of the copy path: `seq_open()` with the source's C table,
    /// and a preallocated seq buffer when the file asks for one.
    ///
    /// # Safety
    ///
    /// Called by the VFS as `->open` of a file of this table.
    unsafe extern "C" fn copy_open(
        inode: *mut bindings::inode,
        file: *mut bindings::file,
    ) -> c_int {
        from_result(|| {
            // SAFETY: The VFS passes the live inode being opened.
            let source = T::open(unsafe { (*inode).i_ino } as u64)?;
            let size = T::seq_buffer(&source);
            let mut private = KBox::new(SeqPrivate::new(source), GFP_KERNEL)?;
            // Above a page, a caller-supplied seq buffer, as
            // single_open_size() gives; charged to the global cap (the stock
            // seq_read_iter() may still replace it by a bigger one for a
            // record that does not fit: that growth is upstream's).
            let buf = if size > PAGE_SIZE {
                private.charge(size)?;
                Some(KVVec::<u8>::with_capacity(size, GFP_KERNEL_ACCOUNT)?)
            } else {
                None
            };
            // SAFETY: The file is being opened and has no private data yet.
            kernel::error::to_result(unsafe {
                bindings::seq_open(file, &SeqOps::<T::Source>::OPS)
            })?;
            // SAFETY: seq_open succeeded: `private_data` is the new
            // seq_file, not yet visible to any other call.
            let m = unsafe { (*file).private_data.cast::<bindings::seq_file>() };
            // SAFETY: As above; `m->private` is released by `copy_release`.
            unsafe { (*m).private = private.into_foreign().cast_mut() };
            if let Some(buf) = buf {
                // The seq_file owns the allocation from here: `seq_release()`
                // kvfree()s it, as the `Kvmalloc` allocator's memory may be.
                let (ptr, _len, _cap) = buf.into_raw_parts();
                // SAFETY: As above; `ptr` is the vector's `size` bytes of capacity.
                unsafe {
                    (*m).buf = ptr.cast();
                    (*m).size = size;
                }
            }
            Ok(0)
        })
    }

    /// `->write` of the copy path: at most [`MAX_WRITE`] bytes, given to
    /// [`RecordFile::write`].
    ///
    /// # Safety
    ///
    /// Called by the VFS as `->write` of an open file of this table, with a
    /// user buffer of `count` bytes.
    unsafe extern "C" fn copy_write(
        file: *mut bindings::file,
        ubuf: *const kernel::ffi::c_char,
        count: usize,
        _ppos: *mut bindings::loff_t,
    ) -> isize {
        from_result(|| {
            // SAFETY: `file` is an open file of ours.
            let private = unsafe { Self::copy_state(file) };
            let mut buf = [0u8; MAX_WRITE];
            let dst = buf.get_mut(..count).ok_or_else(|| {
                pr_info!("write of {} bytes refused: too long\n", count);
                EINVAL
            })?;
            UserSlice::new(ubuf as usize, count)
                .reader()
                .read_slice(dst)?;
            T::write(&private.source, dst)?;
            Ok(count as isize)
        })
    }

    /// `->release` of the copy path.
    ///
    /// # Safety
    ///
    /// Called by the VFS as `->release` of a file of this table, once.
    unsafe extern "C" fn copy_release(
        inode: *mut bindings::inode,
        file: *mut bindings::file,
    ) -> c_int {
        // SAFETY: `private_data` is our seq_file (`copy_open`).
        let private = unsafe { (*(*file).private_data.cast::<bindings::seq_file>()).private };
        // SAFETY: `m->buf` is NULL or kvmalloc'd (by seq_read_iter or
        // `copy_open`), as seq_release expects.
        let r = unsafe { bindings::seq_release(inode, file) };
        // SAFETY: `private` came from `into_foreign` in `copy_open`; this is
        // its one release, after the seq_file (and its buffer) went.
        drop(unsafe { <KBox<SeqPrivate<T::Source>> as ForeignOwnable>::from_foreign(private) });
        r
    }
}
