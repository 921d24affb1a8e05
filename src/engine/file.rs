// SPDX-License-Identifier: GPL-2.0

//! A record file, built once per type: a [`RecordFile`] names its
//! [`Source`] and how an open makes one; [`Vtable::gift`] serves it through
//! the engine (pages gifted to pipes), [`Vtable::copy`] through the stock
//! seq_file core (`seq_read_iter()`, `copy_splice_read()`), which is what
//! ftrace's `trace` file does. The `extern "C"` trampolines are
//! [`kernel_ext::file`](crate::kernel_ext::file)'s, generic over the two
//! adapters here.

use core::marker::PhantomData;
use core::pin::Pin;
use core::sync::atomic::Ordering;

use kernel::error::VTABLE_DEFAULT_ERROR;
use kernel::prelude::*;

use super::buffer::BufferConfig;
use super::mode::MapMode;
use super::open::{Open, SeqGuard};
use super::protocol;
use super::source::{SeqPrivate, Source};
use super::stats::STATS;
use super::window::{MAX_OPEN_BYTES, PAGE_SIZE};
use crate::kernel_ext::capi::TableFile;
use crate::kernel_ext::file::{FileOps, Opening, SeqFileOps, SeqOpen};
use crate::kernel_ext::iov::IovDest;
use crate::kernel_ext::pipe::Pipe;
use crate::kernel_ext::seq_ops::CSeqOps;
use crate::kernel_ext::simple_fs::Entry;

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

    /// Longest write accepted, bytes (at most
    /// [`WRITE_BUF`](crate::kernel_ext::file::WRITE_BUF)).
    const WRITE_MAX: usize = crate::kernel_ext::file::MAX_WRITE;

    /// A write of `input` (at most [`Self::WRITE_MAX`] bytes), copy path
    /// only.
    fn write(_source: &Self::Source, _input: &[u8]) -> Result {
        kernel::build_error(VTABLE_DEFAULT_ERROR)
    }
}

/// `T` served by the engine.
struct GiftPath<T>(PhantomData<T>);

impl<T: RecordFile> FileOps for GiftPath<T> {
    type Ptr = Pin<KBox<Open<T::Source>>>;

    /// The source, an empty page buffer (no page is allocated before the
    /// first read or splice) and the module's own seq_file.
    fn open(opening: &Opening) -> Result<Self::Ptr> {
        let source = T::open(opening.ino())?;
        let cfg = T::buffer(&source);
        let open = Open::new(opening, source, cfg)?;
        STATS.opens.fetch_add(1, Ordering::Relaxed);
        Ok(open)
    }

    fn read_iter(
        open: Pin<&Open<T::Source>>,
        pos: &mut i64,
        dest: &mut IovDest<'_>,
    ) -> Result<usize> {
        gift_read_iter(open, pos, dest)
    }

    /// Gifts the buffer's pages.
    fn splice_read(
        open: Pin<&Open<T::Source>>,
        pos: &mut i64,
        pipe: &mut Pipe,
        len: usize,
    ) -> Result<usize> {
        gift_splice_read(open, pos, pipe, len)
    }

    fn llseek(
        open: Pin<&Open<T::Source>>,
        f_pos: i64,
        offset: i64,
        whence: u32,
    ) -> (Option<i64>, Result<i64>) {
        gift_llseek(open, f_pos, offset, whence)
    }
}

/// `->read_iter` of an open of the engine.
fn gift_read_iter<S: Source>(
    open: Pin<&Open<S>>,
    pos: &mut i64,
    dest: &mut IovDest<'_>,
) -> Result<usize> {
    let mut guard = SeqGuard::lock(open.get_ref(), true)?;
    let (m, src, buf) = guard.parts();
    protocol::read_iter(m, src, buf, pos, dest)
}

/// `->splice_read` of an open of the engine: gifts the buffer's pages.
fn gift_splice_read<S: Source>(
    open: Pin<&Open<S>>,
    pos: &mut i64,
    pipe: &mut Pipe,
    len: usize,
) -> Result<usize> {
    let mut guard = SeqGuard::lock(open.get_ref(), false)?;
    let (m, src, buf) = guard.parts();
    protocol::splice_read(m, src, buf, pos, pipe, len)
}

/// `->llseek` of an open of the engine.
fn gift_llseek<S: Source>(
    open: Pin<&Open<S>>,
    f_pos: i64,
    offset: i64,
    whence: u32,
) -> (Option<i64>, Result<i64>) {
    let mut guard = match SeqGuard::lock(open.get_ref(), true) {
        Ok(g) => g,
        Err(e) => return (None, Err(e)),
    };
    let (m, src, buf) = guard.parts();
    protocol::llseek(m, src, buf, f_pos, offset, whence)
}

/// Where the opens of a C table get their buffer: the module's knobs at
/// open.
pub(crate) trait TableConfig: 'static {
    /// The page buffer of a new open.
    fn buffer() -> BufferConfig;
}

/// A C `seq_operations` served by the engine, for the exported API
/// (`seqsplice_open()`): the opens are made by the caller's `->open`, not
/// by a file table's.
pub(crate) struct CTableFile<C>(PhantomData<C>);

impl<C: TableConfig> FileOps for CTableFile<C> {
    type Ptr = Pin<KBox<Open<CSeqOps>>>;

    /// Never: the caller's `->open` opens ([`TableFile::open_table`]).
    fn open(_opening: &Opening) -> Result<Self::Ptr> {
        Err(ENXIO)
    }

    fn read_iter(
        open: Pin<&Open<CSeqOps>>,
        pos: &mut i64,
        dest: &mut IovDest<'_>,
    ) -> Result<usize> {
        gift_read_iter(open, pos, dest)
    }

    fn splice_read(
        open: Pin<&Open<CSeqOps>>,
        pos: &mut i64,
        pipe: &mut Pipe,
        len: usize,
    ) -> Result<usize> {
        gift_splice_read(open, pos, pipe, len)
    }

    fn llseek(
        open: Pin<&Open<CSeqOps>>,
        f_pos: i64,
        offset: i64,
        whence: u32,
    ) -> (Option<i64>, Result<i64>) {
        gift_llseek(open, f_pos, offset, whence)
    }
}

impl<C: TableConfig> TableFile for CTableFile<C> {
    fn open_table(opening: &Opening, table: CSeqOps) -> Result<Self::Ptr> {
        let open = Open::new(opening, table, C::buffer())?;
        STATS.opens.fetch_add(1, Ordering::Relaxed);
        Ok(open)
    }

    fn private(open: Pin<&Open<CSeqOps>>) -> *mut core::ffi::c_void {
        open.private_now()
    }
}

/// `T` served by the stock seq_file core.
struct CopyPath<T>(PhantomData<T>);

#[vtable]
impl<T: RecordFile> SeqFileOps for CopyPath<T> {
    type Ops = SeqPrivate<T::Source>;

    const HAS_WRITE: bool = T::HAS_WRITE;

    const WRITE_MAX: usize = T::WRITE_MAX;

    /// The source, and above a page a caller-supplied seq buffer, as
    /// `single_open_size()` gives, charged to the global cap (the stock
    /// `seq_read_iter()` may still replace it by a bigger one for a record
    /// that does not fit: that growth is upstream's).
    fn open(opening: &Opening) -> Result<SeqOpen<Self::Ops>> {
        let source = T::open(opening.ino())?;
        let size = T::seq_buffer(&source);
        let mut ops = SeqPrivate::new(source);
        let buf = if size > PAGE_SIZE {
            // Refused at the cap before anything is allocated.
            ops.charge(size)?;
            let buf = KVVec::<u8>::with_capacity(size, GFP_KERNEL_ACCOUNT)?;
            // The seq_file's buffer is the whole capacity (`m->size`): that
            // is what stays charged (the same on 6.12's KVVec).
            if buf.capacity() != size {
                ops.charge(buf.capacity())?;
            }
            Some(buf)
        } else {
            None
        };
        Ok(SeqOpen { ops, buf })
    }

    fn write(ops: &Self::Ops, input: &[u8]) -> Result {
        T::write(&ops.source, input)
    }
}

/// The file-table entries of `T`.
pub(crate) struct Vtable<T>(PhantomData<T>);

impl<T: RecordFile> Vtable<T> {
    /// The file `name`, served by the engine: `splice_read` gifts the
    /// buffer's pages.
    pub(crate) const fn gift(name: &'static CStr, mode: u16) -> Entry {
        Entry::file::<GiftPath<T>>(name, mode)
    }

    /// The file `name`, served by the stock seq_file core and
    /// `copy_splice_read()`.
    pub(crate) const fn copy(name: &'static CStr, mode: u16) -> Entry {
        Entry::seq_file::<CopyPath<T>>(name, mode)
    }
}
