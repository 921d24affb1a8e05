// SPDX-License-Identifier: GPL-2.0

//! A filesystem of a fixed table of files, as `simple_fill_super()` builds
//! one (tracefs-like, mounted at /sys/kernel/<name>).
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h)

use core::cell::UnsafeCell;
use core::ffi::c_int;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr;

use kernel::bindings;
use kernel::error::to_result;
use kernel::prelude::*;

use super::file::{FileOps, FileVTable, SeqFileOps, SeqFileVTable};
use crate::ffi;

/// One entry of a [`Files`] table: no file, or a file whose operations
/// are a [`FileVTable`] or a [`SeqFileVTable`] (never any other
/// `file_operations`).
#[derive(Clone, Copy)]
pub(crate) struct Entry(bindings::tree_descr);

impl Entry {
    /// No file at this index (inode number).
    pub(crate) const NONE: Entry = Entry(bindings::tree_descr {
        name: ptr::null(),
        ops: ptr::null(),
        mode: 0,
    });

    /// A file served by `T`'s [`FileVTable`].
    pub(crate) const fn file<T: FileOps>(name: &'static CStr, mode: u16) -> Entry {
        Self::with_ops(name, &FileVTable::<T>::OPS, mode)
    }

    /// A file served by the seq_file core through `T`'s [`SeqFileVTable`].
    pub(crate) const fn seq_file<T: SeqFileOps>(name: &'static CStr, mode: u16) -> Entry {
        Self::with_ops(name, &SeqFileVTable::<T>::OPS, mode)
    }

    /// A file served by the seq_file core over `T`'s target
    /// ([`TargetCopyVTable`](super::target::TargetCopyVTable)).
    pub(crate) const fn target_copy<T: super::target::TargetCopy>(
        name: &'static CStr,
        mode: u16,
    ) -> Entry {
        Self::with_ops(name, &super::target::TargetCopyVTable::<T>::OPS, mode)
    }

    const fn with_ops(
        name: &'static CStr,
        ops: &'static bindings::file_operations,
        mode: u16,
    ) -> Entry {
        Entry(bindings::tree_descr {
            name: name.as_char_ptr(),
            ops,
            mode: mode as c_int,
        })
    }

    /// The end of the table (an empty name).
    const END: Entry = Entry(bindings::tree_descr {
        name: c"".as_ptr().cast(),
        ops: ptr::null(),
        mode: 0,
    });
}

/// The file table of `simple_fill_super()`: index = inode number, 0 is
/// unused and 1 the root; the table ends with an empty name, which
/// [`Files::new`] appends.
///
/// # Invariants
///
/// `N >= 3`; the last entry has an empty name; every other one is
/// [`Entry::NONE`] or a file made by [`Entry::file`] or
/// [`Entry::seq_file`].
#[repr(transparent)]
pub(crate) struct Files<const N: usize>([bindings::tree_descr; N]);

// SAFETY: Immutable after construction; only read by `simple_fill_super()`.
unsafe impl<const N: usize> Sync for Files<N> {}

impl<const N: usize> Files<N> {
    /// Fails the build (not the run) for a table too small for the root
    /// and its end.
    const ROOM: () = assert!(N >= 3, "a file table needs room for the root and its end");

    /// The table of `entries`: entries 0 (unused) and 1 (the root) become
    /// [`Entry::NONE`], the last one the end.
    pub(crate) const fn new(mut entries: [Entry; N]) -> Self {
        // Evaluated at compile time for each `N` used: no run-time check.
        #[allow(clippy::let_unit_value)]
        let () = Self::ROOM;
        entries[0] = Entry::NONE;
        entries[1] = Entry::NONE;
        entries[N - 1] = Entry::END;
        let mut t = [Entry::NONE.0; N];
        let mut i = 0;
        while i < N {
            t[i] = entries[i].0;
            i += 1;
        }
        // INVARIANT: `N >= 3` (`ROOM`), ends with the empty name (above),
        // the other entries `Entry`s.
        Self(t)
    }

    /// The table, for [`SimpleFs::FILES`].
    pub(crate) const fn table(&'static self) -> FileTable {
        // INVARIANT: a `Files` table.
        FileTable(&self.0)
    }
}

/// A [`Files`] table as a filesystem serves it (from [`Files::table`]).
///
/// # Invariants
///
/// The slice is a [`Files`] table's: at least 3 entries, the last with an
/// empty name, the others no file or a file of a file-ops table.
#[derive(Clone, Copy)]
pub(crate) struct FileTable(&'static [bindings::tree_descr]);

/// A filesystem of one table of files.
pub(crate) trait SimpleFs: 'static {
    /// `statfs` magic.
    const MAGIC: usize;
    /// The file table ([`Files::table`]).
    const FILES: FileTable;
}

/// Callbacks of `T`'s filesystem type.
struct Callbacks<T>(PhantomData<T>);

impl<T: SimpleFs> Callbacks<T> {
    const CTX_OPS: ffi::fs_context_operations = ffi::fs_context_operations {
        get_tree: Some(Self::get_tree),
        // SAFETY: All-zero is valid for the remaining (optional) callbacks.
        ..unsafe { MaybeUninit::zeroed().assume_init() }
    };

    /// Fills the superblock with the file table.
    ///
    /// # Safety
    ///
    /// Called by `get_tree_single()` with a new superblock.
    unsafe extern "C" fn fill_super(
        sb: *mut bindings::super_block,
        _fc: *mut ffi::fs_context,
    ) -> c_int {
        // SAFETY: `sb` is the new superblock; `FILES` is a `Files` table:
        // it ends with an empty name, and its files' operations are
        // `FileVTable`s or `SeqFileVTable`s (`FileTable` invariants).
        unsafe { bindings::simple_fill_super(sb, T::MAGIC, T::FILES.0.as_ptr()) }
    }

    /// `->get_tree`: one superblock shared by all mounts.
    ///
    /// # Safety
    ///
    /// Called by the VFS with a valid mount context.
    unsafe extern "C" fn get_tree(fc: *mut ffi::fs_context) -> c_int {
        // SAFETY: `fc` is the mount's context.
        unsafe { ffi::get_tree_single(fc, Some(Self::fill_super)) }
    }

    /// `->init_fs_context`.
    ///
    /// # Safety
    ///
    /// Called by the VFS with a new mount context.
    unsafe extern "C" fn init_fs_context(fc: *mut bindings::fs_context) -> c_int {
        // SAFETY: `fc` is a new, valid context; the module's bindings give
        // the full layout of the kernel's opaque `fs_context`.
        unsafe { (*fc.cast::<ffi::fs_context>()).ops = &Self::CTX_OPS };
        0
    }
}

/// The `file_system_type` of a [`SimpleFs`], in a `static` the VFS links
/// into its list while registered.
///
/// # Invariants
///
/// `raw` names `name` and serves `T`'s table through [`Callbacks`]; only
/// the VFS writes it (its list links), under its own lock.
pub(crate) struct FsType {
    raw: UnsafeCell<bindings::file_system_type>,
    name: &'static CStr,
}

// SAFETY: Written only by register/unregister_filesystem, under the VFS's
// own lock.
unsafe impl Sync for FsType {}

impl FsType {
    /// The type `name` serving `T`'s table.
    pub(crate) const fn new<T: SimpleFs>(name: &'static CStr) -> Self {
        Self {
            raw: UnsafeCell::new(bindings::file_system_type {
                name: name.as_char_ptr(),
                init_fs_context: Some(Callbacks::<T>::init_fs_context),
                kill_sb: Some(bindings::kill_litter_super),
                owner: crate::THIS_MODULE.as_ptr(),
                // SAFETY: All-zero is valid for the remaining fields (lists,
                // keys).
                ..unsafe { MaybeUninit::zeroed().assume_init() }
            }),
            name,
        }
    }
}

/// A registered filesystem type and its mount point /sys/kernel/<name>.
///
/// # Invariants
///
/// `fs` is registered and the mount point exists while this value exists.
pub(crate) struct Registration {
    fs: &'static FsType,
}

impl Registration {
    /// Creates /sys/kernel/<name> and registers `fs`.
    pub(crate) fn new(fs: &'static FsType) -> Result<Self> {
        // SAFETY: `kernel_kobj` is set up at boot; the name is a C string.
        to_result(unsafe {
            bindings::sysfs_create_mount_point(bindings::kernel_kobj, fs.name.as_char_ptr())
        })?;
        // SAFETY: `fs` is a static, registered once (a second registration
        // of the same type fails with `EBUSY`).
        if let Err(e) = to_result(unsafe { bindings::register_filesystem(fs.raw.get()) }) {
            // SAFETY: Created just above.
            unsafe {
                bindings::sysfs_remove_mount_point(bindings::kernel_kobj, fs.name.as_char_ptr())
            };
            return Err(e);
        }
        // INVARIANT: both registered.
        Ok(Self { fs })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: Registered by `new` (type invariants); the module cannot
        // be unloaded while mounted (the superblock pins it via `owner`).
        unsafe {
            bindings::unregister_filesystem(self.fs.raw.get());
            bindings::sysfs_remove_mount_point(bindings::kernel_kobj, self.fs.name.as_char_ptr());
        }
    }
}
