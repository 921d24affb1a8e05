// SPDX-License-Identifier: GPL-2.0

//! The `seqsplice` filesystem (like tracefs at /sys/kernel/tracing): its
//! registration, the knob files and `stats`.

use core::cell::UnsafeCell;
use core::ffi::{c_int, c_void};
use core::fmt::Write;
use core::mem::MaybeUninit;
use core::ptr;
use core::sync::atomic::Ordering;

use kernel::bindings;
use kernel::error::{from_result, to_result};
use kernel::prelude::*;
use kernel::uaccess::UserSlice;

use crate::ffi;
use crate::file::{zeroed_fops, Fops, TRACE_COPY_FOPS, TRACE_FOPS};
use crate::knob;
use crate::knobs::{Kind, Knob, COUNT, NAMES, TABLE};
use crate::seq::SeqWriter;
use crate::stats::STATS;

/// `statfs` magic of the filesystem ("SQSP").
const MAGIC: usize = 0x5351_5350;

/// The knob behind a knob file: its inode number is its index in
/// [`FILES`] (`simple_fill_super()` numbers the inodes by table index).
///
/// # Safety
///
/// `inode` is the live inode of one of the module's knob files.
unsafe fn knob_of(inode: *const bindings::inode) -> Option<&'static Knob> {
    // SAFETY: Per the contract `inode` is live.
    let ino = unsafe { (*inode).i_ino };
    TABLE.get(ino.checked_sub(FIRST_KNOB)?)
}

/// `->show` of a knob file; `m->private` is its [`Knob`] (`knob_open`).
///
/// # Safety
///
/// Called only through the module's operation tables, by the VFS or the
/// seq_file core, with the valid, live arguments that interface
/// guarantees.
unsafe extern "C" fn knob_show(m: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
    // SAFETY: `knob_open` set `private` to a `&'static Knob`.
    let k = unsafe { &*(*m).private.cast::<Knob>() };
    // SAFETY: Called by seq_read_iter with its locked seq_file.
    let mut w = unsafe { SeqWriter::new(m) };
    let v = k.value.load(Ordering::Relaxed);
    let r = match k.kind {
        Kind::Num { .. } => writeln!(w, "{v}"),
        Kind::Choice(names) => writeln!(w, "{}", names.get(v).copied().unwrap_or("?")),
    };
    if r.is_err() {
        return -(bindings::EINVAL as c_int);
    }
    0
}

/// `->open` of a knob file.
///
/// # Safety
///
/// Called only through the module's operation tables, by the VFS or the
/// seq_file core, with the valid, live arguments that interface
/// guarantees.
unsafe extern "C" fn knob_open(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: The VFS opens one of our knob files, `inode` is its inode.
    let Some(k) = (unsafe { knob_of(inode) }) else {
        return -(bindings::ENOENT as c_int);
    };
    let data = ptr::from_ref(k).cast_mut().cast::<c_void>();
    // SAFETY: Called by the VFS as `->open`; `data` is a `&'static Knob`,
    // only read by `knob_show`.
    unsafe { bindings::single_open(file, Some(knob_show), data) }
}

/// Copies a knob write from user space into `buf`; longer than `buf` is
/// `EINVAL` (no valid value is that long).
fn read_user(ubuf: *const kernel::ffi::c_char, count: usize, buf: &mut [u8]) -> Result<&[u8]> {
    let dst = buf.get_mut(..count).ok_or_else(|| {
        pr_info!("knob write of {} bytes refused: too long\n", count);
        EINVAL
    })?;
    UserSlice::new(ubuf as usize, count)
        .reader()
        .read_slice(dst)?;
    Ok(dst)
}

/// `->write` of a knob file: a valid value or `EINVAL`, nothing changed.
///
/// # Safety
///
/// Called only through the module's operation tables, by the VFS or the
/// seq_file core, with the valid, live arguments that interface
/// guarantees.
unsafe extern "C" fn knob_write(
    file: *mut bindings::file,
    ubuf: *const kernel::ffi::c_char,
    count: usize,
    _ppos: *mut bindings::loff_t,
) -> isize {
    from_result(|| {
        // SAFETY: `file` is an open knob file; its inode lives as long.
        let k = unsafe { knob_of((*file).f_inode) }.ok_or(ENOENT)?;
        let mut buf = [0u8; 32];
        let input = read_user(ubuf, count, &mut buf)?;
        let v = match k.kind {
            Kind::Num { min, max } => knob::parse_u64(input, min, max).map(|v| v as usize),
            Kind::Choice(names) => knob::parse_choice(input, names),
        }
        .map_err(|e| {
            pr_info!(
                "{}: value refused ({:?})\n",
                k.name.to_str().unwrap_or("knob"),
                e
            );
            EINVAL
        })?;
        k.value.store(v, Ordering::Relaxed);
        if let Some(f) = k.on_write {
            f(v);
        }
        Ok(count as isize)
    })
}

/// One table for every knob file.
static KNOB_FOPS: Fops = Fops(bindings::file_operations {
    owner: crate::THIS_MODULE.as_ptr(),
    open: Some(knob_open),
    read_iter: Some(bindings::seq_read_iter),
    write: Some(knob_write),
    llseek: Some(bindings::seq_lseek),
    splice_read: Some(bindings::copy_splice_read),
    release: Some(bindings::single_release),
    ..zeroed_fops()
});

/// `->show` of `stats`.
///
/// # Safety
///
/// Called only through the module's operation tables, by the VFS or the
/// seq_file core, with the valid, live arguments that interface
/// guarantees.
unsafe extern "C" fn stats_show(m: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
    // SAFETY: Called by seq_read_iter with its locked seq_file.
    let mut w = unsafe { SeqWriter::new(m) };
    if STATS.write_to(&mut w).is_err() {
        return -(bindings::EINVAL as c_int);
    }
    0
}

/// `->open` of `stats`.
///
/// # Safety
///
/// Called only through the module's operation tables, by the VFS or the
/// seq_file core, with the valid, live arguments that interface
/// guarantees.
unsafe extern "C" fn stats_open(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: Called by the VFS as `->open`.
    unsafe { bindings::single_open(file, Some(stats_show), ptr::null_mut()) }
}

static STATS_FOPS: Fops = Fops(bindings::file_operations {
    owner: crate::THIS_MODULE.as_ptr(),
    open: Some(stats_open),
    read_iter: Some(bindings::seq_read_iter),
    llseek: Some(bindings::seq_lseek),
    splice_read: Some(bindings::copy_splice_read),
    release: Some(bindings::single_release),
    ..zeroed_fops()
});

/// `->write` of `purge`: `1` flushes the lazily freed vmap areas now
/// (`vm_unmap_aliases()`), so a benchmark pays the
/// deferred vunmap cost inside the run that caused it; anything else is
/// `EINVAL`.
///
/// # Safety
///
/// Called only through the module's operation tables, by the VFS, with a
/// user buffer of `count` bytes.
unsafe extern "C" fn purge_write(
    _file: *mut bindings::file,
    ubuf: *const kernel::ffi::c_char,
    count: usize,
    _ppos: *mut bindings::loff_t,
) -> isize {
    from_result(|| {
        let mut buf = [0u8; 2];
        knob::parse_u64(read_user(ubuf, count, &mut buf)?, 1, 1).map_err(|_| EINVAL)?;
        // SAFETY: May sleep; we are in process context without locks.
        unsafe { ffi::vm_unmap_aliases() };
        STATS.purges.fetch_add(1, Ordering::Relaxed);
        Ok(count as isize)
    })
}

static PURGE_FOPS: Fops = Fops(bindings::file_operations {
    owner: crate::THIS_MODULE.as_ptr(),
    write: Some(purge_write),
    llseek: Some(bindings::noop_llseek),
    ..zeroed_fops()
});

/// Modes as tracefs uses them (TRACE_MODE_READ / TRACE_MODE_WRITE).
const MODE_READ: c_int = 0o440;
const MODE_WRITE: c_int = 0o640;

/// Index in [`FILES`] (and inode number) of the first knob file.
const FIRST_KNOB: usize = 4;
/// Entries of [`FILES`]: unused 0 and root 1, trace and trace_copy, the
/// knobs, stats and purge, and the empty end.
const NR_FILES: usize = FIRST_KNOB + COUNT + 3;

/// The file table of `simple_fill_super`: index = inode number, 1 is the
/// root, a NULL name is skipped, an empty name ends the table.
#[repr(transparent)]
struct Files([bindings::tree_descr; NR_FILES]);

// SAFETY: Immutable after construction; only read by simple_fill_super.
unsafe impl Sync for Files {}

const fn entry(
    name: *const kernel::ffi::c_char,
    ops: &'static bindings::file_operations,
    mode: c_int,
) -> bindings::tree_descr {
    bindings::tree_descr {
        name: name.cast(),
        ops,
        mode,
    }
}

const NONE: bindings::tree_descr = bindings::tree_descr {
    name: ptr::null(),
    ops: ptr::null(),
    mode: 0,
};

/// The table: fixed files around one entry per knob of [`TABLE`].
const fn files(
    trace: &'static bindings::file_operations,
    copy: &'static bindings::file_operations,
    knob: &'static bindings::file_operations,
    stats: &'static bindings::file_operations,
    purge: &'static bindings::file_operations,
    names: [&'static CStr; COUNT],
) -> Files {
    let mut t = [NONE; NR_FILES];
    t[2] = entry(c"trace".as_ptr().cast(), trace, MODE_READ);
    t[3] = entry(c"trace_copy".as_ptr().cast(), copy, MODE_READ);
    let mut i = 0;
    while i < COUNT {
        t[FIRST_KNOB + i] = entry(names[i].as_char_ptr(), knob, MODE_WRITE);
        i += 1;
    }
    t[FIRST_KNOB + i] = entry(c"stats".as_ptr().cast(), stats, MODE_READ);
    t[FIRST_KNOB + i + 1] = entry(c"purge".as_ptr().cast(), purge, 0o200);
    t[FIRST_KNOB + i + 2] = entry(c"".as_ptr().cast(), stats, 0);
    Files(t)
}

static FILES: Files = files(
    &TRACE_FOPS.0,
    &TRACE_COPY_FOPS.0,
    &KNOB_FOPS.0,
    &STATS_FOPS.0,
    &PURGE_FOPS.0,
    NAMES,
);

/// Fills the superblock with the file table.
///
/// # Safety
///
/// Called by `get_tree_single` with a new superblock.
unsafe extern "C" fn fill_super(
    sb: *mut bindings::super_block,
    _fc: *mut ffi::fs_context,
) -> c_int {
    // SAFETY: `sb` is the new superblock get_tree_single hands us; `FILES`
    // is a valid table ending in an empty name.
    unsafe { bindings::simple_fill_super(sb, MAGIC, FILES.0.as_ptr()) }
}

/// `->get_tree`: one superblock shared by all mounts.
///
/// # Safety
///
/// Called by the VFS with a valid mount context.
unsafe extern "C" fn get_tree(fc: *mut ffi::fs_context) -> c_int {
    // SAFETY: `fc` is the mount's context; one superblock for all mounts.
    unsafe { ffi::get_tree_single(fc, Some(fill_super)) }
}

/// Context operations (`fs_context_operations`) in a static.
#[repr(transparent)]
struct CtxOps(ffi::fs_context_operations);

// SAFETY: Immutable after construction; only read by the VFS.
unsafe impl Sync for CtxOps {}

static CTX_OPS: CtxOps = CtxOps(ffi::fs_context_operations {
    get_tree: Some(get_tree),
    // SAFETY: All-zero is valid for the remaining (optional) callbacks.
    ..unsafe { MaybeUninit::zeroed().assume_init() }
});

/// `->init_fs_context` of the filesystem type.
///
/// # Safety
///
/// Called by the VFS with a new mount context.
unsafe extern "C" fn init_fs_context(fc: *mut bindings::fs_context) -> c_int {
    // SAFETY: `fc` is a new, valid context; the module's bindings give the
    // full layout of the kernel's opaque `fs_context`.
    unsafe { (*fc.cast::<ffi::fs_context>()).ops = &CTX_OPS.0 };
    0
}

/// The registered filesystem type; the VFS links it into its list.
struct FsType(UnsafeCell<bindings::file_system_type>);

// SAFETY: Written only by register/unregister_filesystem, under the VFS's
// own lock.
unsafe impl Sync for FsType {}

static FS_TYPE: FsType = FsType(UnsafeCell::new(bindings::file_system_type {
    name: c"seqsplice".as_ptr().cast(),
    init_fs_context: Some(init_fs_context),
    kill_sb: Some(bindings::kill_litter_super),
    owner: crate::THIS_MODULE.as_ptr(),
    // SAFETY: All-zero is valid for the remaining fields (lists, keys).
    ..unsafe { MaybeUninit::zeroed().assume_init() }
}));

/// The filesystem and its mount point, registered for the module's life.
///
/// # Invariants
///
/// The mount point /sys/kernel/seqsplice and the filesystem type are
/// registered while this value exists.
pub(crate) struct Registration(());

impl Registration {
    /// Creates /sys/kernel/seqsplice and registers the filesystem.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: `kernel_kobj` is set up at boot; the name is a C string.
        to_result(unsafe {
            bindings::sysfs_create_mount_point(bindings::kernel_kobj, c"seqsplice".as_ptr().cast())
        })?;
        // SAFETY: `FS_TYPE` is a static, registered once.
        if let Err(e) = to_result(unsafe { bindings::register_filesystem(FS_TYPE.0.get()) }) {
            // SAFETY: Created just above.
            unsafe {
                bindings::sysfs_remove_mount_point(
                    bindings::kernel_kobj,
                    c"seqsplice".as_ptr().cast(),
                )
            };
            return Err(e);
        }
        // INVARIANT: both registered.
        Ok(Self(()))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: Registered by `new` (type invariants); the module cannot
        // be unloaded while mounted (the superblock pins it via `owner`).
        unsafe {
            bindings::unregister_filesystem(FS_TYPE.0.get());
            bindings::sysfs_remove_mount_point(bindings::kernel_kobj, c"seqsplice".as_ptr().cast());
        }
    }
}
