// SPDX-License-Identifier: GPL-2.0

//! File operations of `trace` (the gift path) and `trace_copy` (upstream's
//! copy path): `extern "C"` trampolines that turn raw pointers into the
//! engine's safe types and `Result` into errno.

use core::ffi::{c_int, c_uint};
use core::mem::MaybeUninit;
use core::ptr::{self, addr_of_mut};

use kernel::bindings;
use kernel::error::from_result;
use kernel::prelude::*;

use crate::ffi;
use crate::iov::IovDest;
use crate::knobs::{Snapshot, SETTINGS};
use crate::open::{self, Open, TraceBuf};
use crate::pages::MetaCharge;
use crate::pipe::Pipe;
use crate::seq::SeqGuard;
use crate::source::SEQ_OPS;
use crate::trace;
use crate::window::{pages_for, MAX_OPEN_BYTES, PAGE_SIZE};

/// A `file_operations` table that may live in a `static`.
#[repr(transparent)]
pub(crate) struct Fops(pub(crate) bindings::file_operations);

// SAFETY: The table is immutable after construction and only read by the VFS.
unsafe impl Sync for Fops {}

/// An all-NULL `file_operations`, to fill with `..` syntax.
pub(crate) const fn zeroed_fops() -> bindings::file_operations {
    // SAFETY: `file_operations` is plain data for which all-zero (NULL
    // pointers, `None` callbacks) is valid.
    unsafe { MaybeUninit::zeroed().assume_init() }
}

/// `seq_open` with the record source and an [`Open`] as `m->private`.
///
/// # Safety
///
/// `file` is being opened by the VFS (`->open`).
unsafe fn open_with(
    file: *mut bindings::file,
    knobs: Snapshot,
    tb: TraceBuf,
) -> Result<*mut bindings::seq_file> {
    let (raw, charge) = open::raw_table(&knobs)?;
    let state = KBox::new(
        Open {
            knobs,
            raw,
            _raw_charge: charge,
            _buf_charge: MetaCharge::none(),
            tb,
        },
        GFP_KERNEL,
    )?;
    // SAFETY: `file` is being opened (contract) and has no private data yet.
    kernel::error::to_result(unsafe { bindings::seq_open(file, &SEQ_OPS) })?;
    // SAFETY: seq_open succeeded, so `private_data` is the new seq_file.
    let m = unsafe { (*file).private_data }.cast::<bindings::seq_file>();
    // SAFETY: `m` is the new seq_file, not yet visible to any other call.
    unsafe { (*m).private = KBox::into_raw(state).cast() };
    Ok(m)
}

/// Frees the [`Open`] of a seq_file and the seq_file itself.
///
/// # Safety
///
/// `file` is being released; `m->buf` is NULL or a kvmalloc'd buffer.
unsafe fn release_with(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: Per the contract the seq_file is ours.
    let m = unsafe { (*file).private_data }.cast::<bindings::seq_file>();
    // SAFETY: `private` was set by `open_with` from `KBox::into_raw` and is
    // freed only here, once.
    drop(unsafe { KBox::from_raw((*m).private.cast::<Open>()) });
    // SAFETY: `m->buf` is NULL or kvmalloc'd (contract), as seq_release
    // expects.
    unsafe { bindings::seq_release(inode, file) }
}

/// `->open` of `trace`: `seq_open` with an empty page buffer; no page is
/// allocated before the first read or splice.
///
/// # Safety
///
/// Called only through the module's operation tables, by the VFS or the
/// seq_file core, with the valid, live arguments that interface
/// guarantees.
unsafe extern "C" fn trace_open(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    from_result(|| {
        let k = SETTINGS.snapshot();
        let tb = TraceBuf::new(
            pages_for(k.buffer_size_kb * 1024),
            MAX_OPEN_BYTES,
            k.map_mode,
            k.memcg_account,
        )?;
        // SAFETY: Called by the VFS as `->open`.
        unsafe { open_with(file, k, tb) }?;
        open::count_open();
        Ok(0)
    })
}

/// `->read_iter` of `trace`.
///
/// # Safety
///
/// Called only through the module's operation tables, by the VFS or the
/// seq_file core, with the valid, live arguments that interface
/// guarantees.
unsafe extern "C" fn trace_read_iter(
    iocb: *mut bindings::kiocb,
    iter: *mut bindings::iov_iter,
) -> isize {
    from_result(|| {
        // SAFETY: The VFS passes a valid kiocb of an open `trace` file.
        let file = unsafe { (*iocb).ki_filp };
        // SAFETY: `file` is an open `trace` (set up by `trace_open`).
        let mut guard = unsafe { SeqGuard::lock(file, true) }?;
        let (mut l, tb) = guard.parts();
        // SAFETY: `iter` is this call's destination.
        let mut dest = unsafe { IovDest::new(iter) };
        // SAFETY: `ki_pos` belongs to the kiocb the VFS passed us.
        let pos = unsafe { &mut (*iocb).ki_pos };
        let n = trace::read_iter(&mut l, tb, pos, &mut dest)?;
        Ok(n as isize)
    })
}

/// `->splice_read` of `trace`: gifts the buffer's pages.
///
/// # Safety
///
/// Called only through the module's operation tables, by the VFS or the
/// seq_file core, with the valid, live arguments that interface
/// guarantees.
unsafe extern "C" fn trace_splice_read(
    file: *mut bindings::file,
    ppos: *mut bindings::loff_t,
    pipe: *mut bindings::pipe_inode_info,
    len: usize,
    _flags: c_uint,
) -> isize {
    from_result(|| {
        // SAFETY: `file` is an open `trace`.
        let mut guard = unsafe { SeqGuard::lock(file, false) }?;
        let (mut l, tb) = guard.parts();
        // SAFETY: `->splice_read` gets the locked pipe
        // (`splice_file_to_pipe()`) or the private sendfile pipe.
        let mut pipe = unsafe { Pipe::new(pipe) };
        // SAFETY: `ppos` is the caller's position for this call: a local of
        // `do_splice()`, `do_sendfile()` or `splice_direct_to_actor()`
        // (never `&file->f_pos`), so no other task touches it.
        let pos = unsafe { &mut *ppos };
        let n = trace::splice_read(&mut l, tb, pos, &mut pipe, len)?;
        Ok(n as isize)
    })
}

/// `->llseek` of `trace`.
///
/// # Safety
///
/// Called only through the module's operation tables, by the VFS or the
/// seq_file core, with the valid, live arguments that interface
/// guarantees.
unsafe extern "C" fn trace_llseek(
    file: *mut bindings::file,
    offset: bindings::loff_t,
    whence: c_int,
) -> bindings::loff_t {
    from_result(|| {
        // SAFETY: `file` is an open `trace`.
        let mut guard = unsafe { SeqGuard::lock(file, true) }?;
        let (mut l, tb) = guard.parts();
        // SAFETY: `file` is live (VFS contract); only the address is taken.
        let f_pos = unsafe { addr_of_mut!((*file).f_pos) };
        // `f_pos` is never borrowed: lseek holds `f_pos_lock`, but
        // `do_splice()` writes `in->f_pos` without it. Plain loads and stores
        // through the pointer, as `seq_lseek()` does, once each.
        // SAFETY: `f_pos` points into the live file (VFS contract).
        let cur = unsafe { ptr::read_volatile(f_pos) };
        let (new, result) = trace::llseek(&mut l, tb, cur, offset, whence as u32);
        if let Some(v) = new {
            // SAFETY: As above.
            unsafe { ptr::write_volatile(f_pos, v) };
        }
        result
    })
}

/// `->release` of `trace`: frees what the open still owns.
///
/// # Safety
///
/// Called only through the module's operation tables, by the VFS or the
/// seq_file core, with the valid, live arguments that interface
/// guarantees.
unsafe extern "C" fn trace_release(
    inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    {
        // SAFETY: `file` is an open `trace`, released once.
        let mut guard = unsafe { SeqGuard::lock_for_release(file) };
        let (mut l, tb) = guard.parts();
        trace::release(&mut l, tb);
    }
    // SAFETY: `m->buf` is NULL after `release`.
    unsafe { release_with(inode, file) }
}

/// `trace`: the records, with a splice that gifts the buffer's pages.
pub(crate) static TRACE_FOPS: Fops = Fops(bindings::file_operations {
    owner: crate::THIS_MODULE.as_ptr(),
    open: Some(trace_open),
    read_iter: Some(trace_read_iter),
    llseek: Some(trace_llseek),
    splice_read: Some(trace_splice_read),
    release: Some(trace_release),
    ..zeroed_fops()
});

/// `->open` of `trace_copy`: `seq_open`, with a preallocated seq buffer
/// when `copy_buffer_size_kb` is above a page.
///
/// # Safety
///
/// Called only through the module's operation tables, by the VFS or the
/// seq_file core, with the valid, live arguments that interface
/// guarantees.
unsafe extern "C" fn copy_open(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    from_result(|| {
        let k = SETTINGS.snapshot();
        // SAFETY: Called by the VFS as `->open`.
        let m = unsafe { open_with(file, k, TraceBuf::new(1, 0, k.map_mode, k.memcg_account)?) }?;
        let size = k.copy_buffer_size_kb * 1024;
        if size > PAGE_SIZE {
            // A caller-supplied seq buffer, as single_open_size() does;
            // seq_release kvfree()s it. Charged to the global cap (the
            // stock seq_read_iter() may still replace it by a bigger one
            // for a record that does not fit: that growth is upstream's).
            let charged = MetaCharge::new(size).and_then(|c| {
                // SAFETY: Plain allocation.
                let buf = unsafe { ffi::seqsplice_kvmalloc(size) };
                if buf.is_null() {
                    Err(ENOMEM)
                } else {
                    Ok((c, buf))
                }
            });
            let (c, buf) = match charged {
                Ok(v) => v,
                Err(e) => {
                    // SAFETY: Undo `open_with`; `m->buf` is NULL.
                    unsafe { release_with(ptr::null_mut(), file) };
                    // SAFETY: The seq_file is freed: leave no dangling
                    // pointer in the file the VFS is about to discard.
                    unsafe { (*file).private_data = ptr::null_mut() };
                    return Err(e);
                }
            };
            // SAFETY: `m` is ours and not yet shared; its `private` is the
            // `Open` set by `open_with`.
            unsafe {
                (*m).buf = buf.cast();
                (*m).size = size;
                (*(*m).private.cast::<Open>())._buf_charge = c;
            }
        }
        Ok(0)
    })
}

/// `->release` of `trace_copy`.
///
/// # Safety
///
/// Called only through the module's operation tables, by the VFS or the
/// seq_file core, with the valid, live arguments that interface
/// guarantees.
unsafe extern "C" fn copy_release(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: `m->buf` is NULL or kvmalloc'd by seq_read_iter or `copy_open`.
    unsafe { release_with(inode, file) }
}

/// `trace_copy`: the same records through the stock seq_file read and
/// `copy_splice_read`, which is what ftrace's `trace` file does.
pub(crate) static TRACE_COPY_FOPS: Fops = Fops(bindings::file_operations {
    owner: crate::THIS_MODULE.as_ptr(),
    open: Some(copy_open),
    read_iter: Some(bindings::seq_read_iter),
    llseek: Some(bindings::seq_lseek),
    splice_read: Some(bindings::copy_splice_read),
    release: Some(copy_release),
    ..zeroed_fops()
});
