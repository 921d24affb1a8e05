// SPDX-License-Identifier: GPL-2.0

//! The `seqsplice` filesystem (like tracefs at /sys/kernel/tracing): the
//! file table, `stats` and `purge`, and its registration.

use core::cell::UnsafeCell;
use core::ffi::c_int;
use core::mem::MaybeUninit;
use core::ptr;

use kernel::bindings;
use kernel::error::to_result;
use kernel::prelude::*;

use crate::engine::file::{RecordFile, Vtable};
use crate::engine::seq::SeqFile;
use crate::engine::source::{At, Index, Show, Source};
use crate::engine::stats::STATS;
use crate::ffi;
use crate::lines::{Lines, LinesCopy};
use crate::trace::knob;
use crate::trace::knobs::{COUNT, NAMES};
use crate::trace::{KnobFile, Trace, TraceCopy, TraceOps, FIRST_KNOB};

/// `statfs` magic of the filesystem ("SQSP").
const MAGIC: usize = 0x5351_5350;

/// One record: every counter and gauge, a `name value` line each.
struct StatsSource;

impl Source for StatsSource {
    type Cursor = Index;

    fn start(&self, m: &mut SeqFile) -> At<Index> {
        Ok((m.index() == 0).then_some(Index))
    }

    fn next(&self, m: &mut SeqFile, _cur: Index) -> At<Index> {
        m.set_index(m.index() + 1);
        Ok(None)
    }

    fn show(&self, m: &mut SeqFile, _cur: &Index) -> Result<Show> {
        crate::engine::write_stats(m).map_err(|_| EINVAL)?;
        Ok(Show::Record)
    }
}

/// `stats`.
struct Stats;

#[vtable]
impl RecordFile for Stats {
    type Source = StatsSource;

    fn open(_ino: u64) -> Result<StatsSource> {
        Ok(StatsSource)
    }
}

/// No records.
struct Empty;

impl Source for Empty {
    type Cursor = Index;

    fn start(&self, _m: &mut SeqFile) -> At<Index> {
        Ok(None)
    }

    fn next(&self, _m: &mut SeqFile, _cur: Index) -> At<Index> {
        Ok(None)
    }

    fn show(&self, _m: &mut SeqFile, _cur: &Index) -> Result<Show> {
        Ok(Show::Skip)
    }
}

/// `purge`: writing `1` flushes the lazily freed vmap areas now
/// (`vm_unmap_aliases()`), so a benchmark pays the deferred vunmap cost
/// inside the run that caused it; anything else is `EINVAL`. Reads are
/// empty.
struct Purge;

#[vtable]
impl RecordFile for Purge {
    type Source = Empty;

    fn open(_ino: u64) -> Result<Empty> {
        Ok(Empty)
    }

    fn write(_source: &Empty, input: &[u8]) -> Result {
        knob::parse_u64(input, 1, 1).map_err(|_| EINVAL)?;
        ffi::purge_vmap_aliases();
        STATS
            .purges
            .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

/// Modes as tracefs uses them (TRACE_MODE_READ / TRACE_MODE_WRITE).
const MODE_READ: c_int = 0o440;
const MODE_WRITE: c_int = 0o640;

/// Entries of [`FILES`]: unused 0 and root 1, trace and trace_copy, the
/// knobs, stats, purge, trace_ops, lines, lines_copy and the empty end.
const NR_FILES: usize = FIRST_KNOB + COUNT + 6;

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

/// The table: fixed files around one entry per knob (whose inode numbers
/// [`KnobFile::open`] maps back to knobs).
const fn files() -> Files {
    let knob = &Vtable::<KnobFile>::COPY;
    let mut t = [NONE; NR_FILES];
    t[2] = entry(c"trace".as_ptr().cast(), &Vtable::<Trace>::GIFT, MODE_READ);
    t[3] = entry(
        c"trace_copy".as_ptr().cast(),
        &Vtable::<TraceCopy>::COPY,
        MODE_READ,
    );
    let mut i = 0;
    while i < COUNT {
        t[FIRST_KNOB + i] = entry(NAMES[i].as_char_ptr(), knob, MODE_WRITE);
        i += 1;
    }
    let n = FIRST_KNOB + COUNT;
    t[n] = entry(c"stats".as_ptr().cast(), &Vtable::<Stats>::COPY, MODE_READ);
    t[n + 1] = entry(c"purge".as_ptr().cast(), &Vtable::<Purge>::COPY, 0o200);
    t[n + 2] = entry(
        c"trace_ops".as_ptr().cast(),
        &Vtable::<TraceOps>::GIFT,
        MODE_READ,
    );
    t[n + 3] = entry(c"lines".as_ptr().cast(), &Vtable::<Lines>::GIFT, MODE_READ);
    t[n + 4] = entry(
        c"lines_copy".as_ptr().cast(),
        &Vtable::<LinesCopy>::COPY,
        MODE_READ,
    );
    // The empty name ends the table.
    t[n + 5] = entry(c"".as_ptr().cast(), &Vtable::<Stats>::COPY, 0);
    Files(t)
}

static FILES: Files = files();

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
