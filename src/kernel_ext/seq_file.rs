// SPDX-License-Identifier: GPL-2.0

//! The seq_file a record source writes into: [`SeqFile`], the shape of
//! 6.13's `kernel::seq_file::SeqFile` (6.12 has none), with `seq_write()`,
//! Rust formatting ([`seq_print!`]) and C `seq_printf()`
//! through a [`Format`] whose conversions are checked against the argument
//! types at compile time; and [`OwnSeqFile`], a seq_file of the module's
//! own ([`SeqFileLock`](super::seq_lock::SeqFileLock)), whose window fields
//! its owner sets.
//!
//! C header: [`include/linux/seq_file.h`](srctree/include/linux/seq_file.h)

use core::ffi::CStr;
use core::marker::PhantomData;

use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_uint};
use kernel::types::Opaque;

use super::printf::conversions_match;
use crate::ffi;

/// A `struct seq_file` being filled, borrowed for one callback or one
/// engine call.
///
/// The writing methods are those of a `->show`; the window fields
/// (`from`, `count`, `read_pos`) are for a reader of the seq_file's buffer
/// (the engine).
///
/// Only ever reached by shared reference (`&SeqFile`, which
/// [`from_raw`](SeqFile::from_raw) hands out and nothing can construct or
/// move): every method writes through the [`Opaque`] (an `UnsafeCell`), so
/// a `&SeqFile` that `mem::swap` could move a locked mutex or a
/// `m->buf` with does not exist. Neither `Send` nor `Sync`: the lock holder
/// (one task) is its only user.
///
/// # Invariants
///
/// The seq_file is live and locked (by the seq_file core, or by a
/// [`SeqFileGuard`](super::seq_lock::SeqFileGuard)) for as long as a
/// reference to this value exists, and nothing but the lock holder's task
/// accesses it meanwhile. `buf` is NULL with `size == 0`, or `size` bytes
/// of writable memory (pages of a [`PageWriter`](super::pages::PageWriter),
/// or the seq_file core's buffer).
#[repr(transparent)]
pub(crate) struct SeqFile {
    inner: Opaque<bindings::seq_file>,
    _not_send: PhantomData<*mut ()>,
}

impl SeqFile {
    /// The seq_file behind `m`.
    ///
    /// # Safety
    ///
    /// `m` is a live seq_file, locked and used by nothing else for `'a`,
    /// whose `buf` is NULL with `size == 0` or `size` writable bytes.
    pub(super) unsafe fn from_raw<'a>(m: *mut bindings::seq_file) -> &'a SeqFile {
        // SAFETY: `SeqFile` is a transparent wrapper of the seq_file (its
        // other field a zero-sized marker); the contract is the type's
        // invariants. A shared reference to an `Opaque` allows the writes
        // the methods make.
        unsafe { &*m.cast::<SeqFile>() }
    }

    /// The raw seq_file, for the C callbacks of a `seq_operations`.
    pub(super) fn as_raw(&self) -> *mut bindings::seq_file {
        self.inner.get()
    }

    /// `seq_write()`: appends `b`, or marks the overflow that makes the
    /// engine retry the record with a bigger buffer.
    pub(crate) fn write(&self, b: &[u8]) {
        // SAFETY: By the type invariants the seq_file is live, locked and
        // its buffer is NULL/0 or writable; `seq_write` writes only inside
        // `[count, size)`. `b` is valid for its length.
        unsafe { ffi::seq_write(self.as_raw(), b.as_ptr().cast(), b.len()) };
    }

    /// `seq_putc()`.
    pub(crate) fn putc(&self, c: u8) {
        // SAFETY: As in `write`.
        unsafe { ffi::seq_putc(self.as_raw(), c) };
    }

    /// `seq_printf()` with a checked format.
    pub(crate) fn printf<A: PrintfArgs>(&self, f: &Format<A>, args: A) {
        // SAFETY: As in `write`; by `Format`'s invariants its conversions
        // take exactly `A`'s arguments, in order.
        unsafe { args.call(self.as_raw(), f.fmt.as_ptr().cast()) };
    }

    /// Rust formatting into the seq_file, piece by piece through
    /// `seq_write()`; use [`seq_print!`].
    ///
    /// Not `seq_printf(m, "%pA", args)` (6.13's `SeqFile::call_printf`):
    /// there `vsnprintf()` runs the arguments' `Display` code between
    /// computing `m->buf + m->count` and committing `m->count += len`, and
    /// that safe code may write to this same seq_file (it needs only a
    /// shared reference), or point a page writer elsewhere: the commit would
    /// then count bytes nobody wrote. Through `seq_write()` no Rust code runs
    /// between a piece's bounds check, its copy and its count update, so a
    /// nested write only interleaves. The bytes are the same; a piece that
    /// does not fit marks the overflow (`count == size`) as `seq_printf()`
    /// does for the whole.
    pub(crate) fn print(&self, args: core::fmt::Arguments<'_>) {
        let mut w = self;
        // `write_str` never fails: an overflow is recorded in the seq_file.
        let _ = core::fmt::Write::write_fmt(&mut w, args);
    }

    /// `m->index`: the position of the record being shown.
    pub(crate) fn index(&self) -> i64 {
        // SAFETY: By the type invariants the seq_file is live and ours.
        unsafe { (*self.as_raw()).index }
    }

    /// Sets `m->index` (a source's `->next` moves it on).
    pub(crate) fn set_index(&self, v: i64) {
        // SAFETY: As in `index`.
        unsafe { (*self.as_raw()).index = v }
    }

    /// `seq_has_overflowed()` (and any `count` past `size`).
    pub(crate) fn overflowed(&self) -> bool {
        // SAFETY: As in `index`.
        unsafe { (*self.as_raw()).count >= (*self.as_raw()).size }
    }
}

macro_rules! window_field {
    ($get:ident, $set:ident, $t:ty, $clamp:expr) => {
        impl SeqFile {
            #[doc = concat!("`m->", stringify!($get), "` (the reader's window).")]
            pub(crate) fn $get(&self) -> $t {
                // SAFETY: By the type invariants the seq_file is live and ours.
                unsafe { (*self.as_raw()).$get }
            }
        }

        impl OwnSeqFile {
            #[doc = concat!("Sets `m->", stringify!($get), "`.")]
            pub(crate) fn $set(&self, v: $t) {
                let v: $t = $clamp(v);
                // SAFETY: The seq_file is live and ours (`SeqFile`'s
                // invariants).
                unsafe { (*self.0.as_raw()).$get = v }
            }
        }
    };
}

/// A [`SeqFile`] of the module's own (a
/// [`SeqFileLock`](super::seq_lock::SeqFileLock)'s), which no
/// `seq_read_iter()` reads: its window fields (`from`, `count`, `read_pos`)
/// are its owner's to set. They are plain numbers to the writing methods,
/// which write only inside `[count, size)` of a buffer that is NULL/0 or
/// `size` writable bytes whatever `count` says; `count` is kept at most
/// `isize::MAX`, so that `count + len` (a slice's length) cannot wrap in
/// `seq_write()`'s bounds check.
///
/// No Rust code runs inside a writing method (between its bounds check and
/// its count update), so no nested call can move `m->buf` or `m->count`
/// under one ([`SeqFile::print`]).
#[repr(transparent)]
pub(crate) struct OwnSeqFile(SeqFile);

impl OwnSeqFile {
    /// The module's own seq_file behind `m`.
    ///
    /// # Safety
    ///
    /// As for [`SeqFile::from_raw`]; and `m` is a seq_file of the module's
    /// own, which no `seq_read_iter()` reads.
    pub(super) unsafe fn from_raw<'a>(m: *mut bindings::seq_file) -> &'a OwnSeqFile {
        // SAFETY: `OwnSeqFile` is a transparent `SeqFile`, itself a
        // transparent seq_file; the contract is both types' invariants.
        unsafe { &*m.cast::<OwnSeqFile>() }
    }
}

impl core::ops::Deref for OwnSeqFile {
    type Target = SeqFile;

    fn deref(&self) -> &SeqFile {
        &self.0
    }
}

window_field!(from, set_from, usize, |v| v);
// A `count` that cannot wrap `seq_write()`'s check.
window_field!(count, set_count, usize, |v: usize| v
    .min(isize::MAX as usize));
window_field!(read_pos, set_read_pos, i64, |v| v);

impl SeqFile {
    /// Points `m->buf`/`m->size` at memory (or at nothing).
    ///
    /// # Safety
    ///
    /// `buf` is NULL with `size == 0`, or `size` writable bytes that stay so
    /// until the next `set_buf` (the type invariants). Only a
    /// [`PageWriter`](super::pages::PageWriter) calls this.
    pub(super) unsafe fn set_buf(&self, buf: *mut u8, size: usize) {
        // SAFETY: The seq_file is live and ours (type invariants).
        unsafe {
            (*self.as_raw()).buf = buf.cast();
            (*self.as_raw()).size = size;
        }
    }

    /// Points `m->buf` at nothing (NULL, size 0): nothing can be written.
    pub(super) fn clear_buf(&self) {
        // SAFETY: NULL with size 0 is the type invariants' empty buffer.
        unsafe { self.set_buf(core::ptr::null_mut(), 0) }
    }
}

impl core::fmt::Write for &SeqFile {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write(s.as_bytes());
        Ok(())
    }
}

/// Rust formatting into a [`SeqFile`], as 6.13's `seq_print!`.
macro_rules! seq_print {
    ($m:expr, $($arg:tt)+) => {
        $m.print(::core::format_args!($($arg)+))
    };
}
pub(crate) use seq_print;

mod sealed {
    pub(crate) trait Sealed {}
}

/// A value `seq_printf()` may take: what conversion it needs and how it is
/// passed.
pub(crate) trait PrintfArg: Copy + sealed::Sealed {
    /// The conversion class: `b'u'` (unsigned int: `%u %x %X %o`), `b'd'`
    /// (int: `%d %i`), `b's'` (NUL-terminated string: `%s`).
    const CONV: u8;
    /// The C type it is passed as.
    type Raw;
    /// The C value.
    fn raw(self) -> Self::Raw;
}

impl sealed::Sealed for u32 {}
impl PrintfArg for u32 {
    const CONV: u8 = b'u';
    type Raw = c_uint;
    fn raw(self) -> c_uint {
        self
    }
}

impl sealed::Sealed for i32 {}
impl PrintfArg for i32 {
    const CONV: u8 = b'd';
    type Raw = c_int;
    fn raw(self) -> c_int {
        self
    }
}

impl sealed::Sealed for &'static CStr {}
impl PrintfArg for &'static CStr {
    const CONV: u8 = b's';
    type Raw = *const c_char;
    fn raw(self) -> *const c_char {
        self.as_ptr().cast()
    }
}

/// A tuple of [`PrintfArg`]s, passed to `seq_printf()` in order.
pub(crate) trait PrintfArgs: Copy + sealed::Sealed {
    /// The conversion class of each argument.
    const CONVS: &'static [u8];

    /// `seq_printf(m, fmt, args...)`.
    ///
    /// # Safety
    ///
    /// `m` is a live, locked seq_file; `fmt` a format whose conversions are
    /// [`Self::CONVS`].
    unsafe fn call(self, m: *mut bindings::seq_file, fmt: *const c_char);
}

macro_rules! printf_args {
    ($($t:ident . $i:tt),*) => {
        impl<$($t: PrintfArg),*> sealed::Sealed for ($($t,)*) {}
        impl<$($t: PrintfArg),*> PrintfArgs for ($($t,)*) {
            const CONVS: &'static [u8] = &[$($t::CONV),*];

            unsafe fn call(self, m: *mut bindings::seq_file, fmt: *const c_char) {
                // SAFETY: Per the function's contract; every argument is
                // passed as the C type its conversion reads.
                unsafe { bindings::seq_printf(m, fmt.cast() $(, self.$i.raw())*) };
            }
        }
    };
}

printf_args!();
printf_args!(A.0);
printf_args!(A.0, B.1);
printf_args!(A.0, B.1, C.2);
printf_args!(A.0, B.1, C.2, D.3);
printf_args!(A.0, B.1, C.2, D.3, E.4);
printf_args!(A.0, B.1, C.2, D.3, E.4, F.5);

/// A C format for `seq_printf()` whose conversions take exactly the
/// arguments `A`, checked at compile time: made by [`seq_format!`] only,
/// which evaluates the check in a constant, so that a mismatch fails the
/// build (no run-time check, no panic).
///
/// # Invariants
///
/// `fmt`'s conversions are `A::CONVS`, in order.
pub(crate) struct Format<A> {
    fmt: &'static CStr,
    _args: PhantomData<fn(A)>,
}

impl<A: PrintfArgs> Format<A> {
    /// The format `fmt` for arguments `A`, or `None` on a mismatch. Never
    /// panics; [`seq_format!`] turns `None` into a build error.
    #[doc(hidden)]
    pub(crate) const fn checked(fmt: &'static CStr) -> Option<Self> {
        if !conversions_match(fmt.to_bytes(), A::CONVS) {
            return None;
        }
        // INVARIANT: checked above.
        Some(Self {
            fmt,
            _args: PhantomData,
        })
    }
}

/// `seq_format!(A, c"...")`: the [`Format`] of the C string for the
/// argument tuple `A`, checked at compile time: the check runs in a
/// constant item (6.12's minimum rustc has no inline `const {}` blocks), so
/// a format that does not match `A` fails the build.
macro_rules! seq_format {
    ($args:ty, $fmt:expr $(,)?) => {{
        const F: $crate::kernel_ext::seq_file::Format<$args> =
            match $crate::kernel_ext::seq_file::Format::<$args>::checked($fmt) {
                ::core::option::Option::Some(f) => f,
                // The kernel's compile-time failure (as `build_assert!`):
                // evaluated in a constant, it fails the build, never a run.
                ::core::option::Option::None => {
                    ::kernel::build_error!("seq_printf format does not match its argument types")
                }
            };
        F
    }};
}
pub(crate) use seq_format;
