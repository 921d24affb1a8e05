// SPDX-License-Identifier: GPL-2.0

//! The `seqsplice` filesystem (like tracefs at /sys/kernel/tracing): its
//! registration, the knob files and `stats`.

use core::cell::UnsafeCell;
use core::ffi::{c_int, c_void};
use core::fmt::Write;
use core::mem::MaybeUninit;
use core::ptr;
use core::sync::atomic::{AtomicUsize, Ordering};

use kernel::bindings;
use kernel::error::{from_result, to_result};
use kernel::prelude::*;
use kernel::uaccess::UserSlice;

use crate::ffi;
use crate::file::{zeroed_fops, Fops, TRACE_COPY_FOPS, TRACE_FOPS};
use crate::knob::{self, MapMode, Mode};
use crate::pages::{BUDGET, GLOBAL_PAGE_CAP};
use crate::record;
use crate::seq::SeqWriter;
use crate::stats::STATS;
use crate::window::PAGE_SIZE;

/// `statfs` magic of the filesystem ("SQSP").
const MAGIC: usize = 0x5351_5350;

/// Knob values; each open of a file snapshots them.
pub(crate) struct Knobs {
    /// Buffer of each new open of `trace`, KiB.
    pub(crate) buffer_size_kb: AtomicUsize,
    /// seq buffer of each new open of `trace_copy`, KiB.
    pub(crate) copy_buffer_size_kb: AtomicUsize,
    /// Records per open.
    pub(crate) record_count: AtomicUsize,
    /// Bytes per record.
    pub(crate) record_width: AtomicUsize,
    /// Index in [`Mode::NAMES`] of the formatting mode.
    pub(crate) record_mode: AtomicUsize,
    /// Index in [`MapMode::NAMES`] of how `trace` maps its pages.
    pub(crate) map_mode: AtomicUsize,
    /// 1: charge `trace`'s pages to the memory cgroup of the task whose
    /// call allocates them.
    pub(crate) memcg_account: AtomicUsize,
    /// The global cap on what all opens together hold, KiB.
    pub(crate) buffer_total_kb: AtomicUsize,
}

/// The knobs, with their defaults.
pub(crate) static KNOBS: Knobs = Knobs {
    buffer_size_kb: AtomicUsize::new(1024),
    copy_buffer_size_kb: AtomicUsize::new(4),
    record_count: AtomicUsize::new(10_000),
    record_width: AtomicUsize::new(100),
    record_mode: AtomicUsize::new(0),
    // vm_map_ram: measured cheaper than vmap for small fills and equal for
    // large ones (README, "Benchmark").
    map_mode: AtomicUsize::new(1),
    // Off: `__GFP_ACCOUNT` turns the bulk allocator into one page per call
    // (mm/page_alloc.c:4688); README, "Memory", has the measurement.
    memcg_account: AtomicUsize::new(0),
    buffer_total_kb: AtomicUsize::new(GLOBAL_PAGE_CAP * PAGE_SIZE / 1024),
};

/// What a knob accepts.
enum Kind {
    /// A decimal number in `min..=max`.
    Num { min: u64, max: u64 },
    /// One of these names; the value is its index.
    Choice(&'static [&'static str]),
}

/// A knob file: its value, what it accepts and what a write also does.
struct Knob {
    value: &'static AtomicUsize,
    kind: Kind,
    on_write: Option<fn(usize)>,
}

/// `buffer_total_kb` was written: the new cap, and a new high-water mark.
fn set_total(kb: usize) {
    BUDGET.set_cap(kb * 1024 / PAGE_SIZE);
}

/// The knob files, in the order of [`KNOB_FOPS`].
static KNOB_TABLE: [Knob; 8] = [
    Knob {
        value: &KNOBS.buffer_size_kb,
        kind: Kind::Num { min: 4, max: 16384 },
        on_write: None,
    },
    Knob {
        value: &KNOBS.copy_buffer_size_kb,
        kind: Kind::Num { min: 4, max: 16384 },
        on_write: None,
    },
    Knob {
        value: &KNOBS.record_count,
        kind: Kind::Num {
            min: 1,
            max: record::MAX_COUNT,
        },
        on_write: None,
    },
    Knob {
        value: &KNOBS.record_width,
        kind: Kind::Num {
            min: record::MIN_WIDTH as u64,
            max: record::MAX_WIDTH as u64,
        },
        on_write: None,
    },
    Knob {
        value: &KNOBS.record_mode,
        kind: Kind::Choice(Mode::NAMES),
        on_write: None,
    },
    Knob {
        value: &KNOBS.map_mode,
        kind: Kind::Choice(MapMode::NAMES),
        on_write: None,
    },
    Knob {
        value: &KNOBS.memcg_account,
        kind: Kind::Num { min: 0, max: 1 },
        on_write: None,
    },
    Knob {
        value: &KNOBS.buffer_total_kb,
        kind: Kind::Num {
            min: 64,
            max: 1 << 20,
        },
        on_write: Some(set_total),
    },
];

/// `->show` of a knob file.
///
/// # Safety
///
/// Called only through the module's operation tables, by the VFS or the
/// seq_file core, with the valid, live arguments that interface
/// guarantees.
unsafe extern "C" fn knob_show<const K: usize>(
    m: *mut bindings::seq_file,
    _v: *mut c_void,
) -> c_int {
    // SAFETY: Called by seq_read_iter with its locked seq_file.
    let mut w = unsafe { SeqWriter::new(m) };
    let k = &KNOB_TABLE[K];
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
unsafe extern "C" fn knob_open<const K: usize>(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: Called by the VFS as `->open`.
    unsafe { bindings::single_open(file, Some(knob_show::<K>), ptr::null_mut()) }
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
unsafe extern "C" fn knob_write<const K: usize>(
    _file: *mut bindings::file,
    ubuf: *const kernel::ffi::c_char,
    count: usize,
    _ppos: *mut bindings::loff_t,
) -> isize {
    from_result(|| {
        let mut buf = [0u8; 32];
        let input = read_user(ubuf, count, &mut buf)?;
        let k = &KNOB_TABLE[K];
        let v = match k.kind {
            Kind::Num { min, max } => knob::parse_u64(input, min, max).map(|v| v as usize),
            Kind::Choice(names) => knob::parse_choice(input, names),
        }
        .map_err(|e| {
            pr_info!("knob value refused ({:?})\n", e);
            EINVAL
        })?;
        k.value.store(v, Ordering::Relaxed);
        if let Some(f) = k.on_write {
            f(v);
        }
        Ok(count as isize)
    })
}

const fn knob_fops<const K: usize>() -> Fops {
    Fops(bindings::file_operations {
        owner: crate::THIS_MODULE.as_ptr(),
        open: Some(knob_open::<K>),
        read_iter: Some(bindings::seq_read_iter),
        write: Some(knob_write::<K>),
        llseek: Some(bindings::seq_lseek),
        splice_read: Some(bindings::copy_splice_read),
        release: Some(bindings::single_release),
        ..zeroed_fops()
    })
}

static KNOB_FOPS: [Fops; 8] = [
    knob_fops::<0>(),
    knob_fops::<1>(),
    knob_fops::<2>(),
    knob_fops::<3>(),
    knob_fops::<4>(),
    knob_fops::<5>(),
    knob_fops::<6>(),
    knob_fops::<7>(),
];

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
/// (`vm_unmap_aliases`, mm/vmalloc.c:2981), so a benchmark pays the
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

/// The file table of `simple_fill_super`: index = inode number, 1 is the
/// root, a NULL name is skipped, an empty name ends the table.
#[repr(transparent)]
struct Files([bindings::tree_descr; 15]);

// SAFETY: Immutable after construction; only read by simple_fill_super.
unsafe impl Sync for Files {}

const fn entry(
    name: &'static core::ffi::CStr,
    ops: &'static Fops,
    mode: c_int,
) -> bindings::tree_descr {
    bindings::tree_descr {
        name: name.as_ptr().cast(),
        ops: &ops.0,
        mode,
    }
}

const NONE: bindings::tree_descr = bindings::tree_descr {
    name: ptr::null(),
    ops: ptr::null(),
    mode: 0,
};

static FILES: Files = Files([
    NONE,
    NONE,
    entry(c"trace", &TRACE_FOPS, MODE_READ),
    entry(c"trace_copy", &TRACE_COPY_FOPS, MODE_READ),
    entry(c"buffer_size_kb", &KNOB_FOPS[0], MODE_WRITE),
    entry(c"copy_buffer_size_kb", &KNOB_FOPS[1], MODE_WRITE),
    entry(c"record_count", &KNOB_FOPS[2], MODE_WRITE),
    entry(c"record_width", &KNOB_FOPS[3], MODE_WRITE),
    entry(c"record_mode", &KNOB_FOPS[4], MODE_WRITE),
    entry(c"map_mode", &KNOB_FOPS[5], MODE_WRITE),
    entry(c"memcg_account", &KNOB_FOPS[6], MODE_WRITE),
    entry(c"buffer_total_kb", &KNOB_FOPS[7], MODE_WRITE),
    entry(c"stats", &STATS_FOPS, MODE_READ),
    entry(c"purge", &PURGE_FOPS, 0o200),
    entry(c"", &STATS_FOPS, 0),
]);

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
