// SPDX-License-Identifier: GPL-2.0

//! `struct seq_operations` in Rust ([`SeqOperations`]) and the adapters
//! both ways: [`SeqOpsVTable`] gives a Rust implementation a C table (for
//! the stock `seq_read_iter()`), and [`CSeqOps`] lets Rust drive a C table.
//!
//! A Rust implementation's callbacks are direct calls for a caller generic
//! over it, inlined where the compiler sees fit; only [`CSeqOps`] pays an
//! indirect call per callback, as the seq_file core does.
//!
//! C header: [`include/linux/seq_file.h`](srctree/include/linux/seq_file.h)

use core::ffi::{c_int, c_void};
use core::marker::PhantomData;
use core::ptr::{self, NonNull};

use kernel::bindings;
use kernel::prelude::*;
use kernel::types::ForeignOwnable;

use super::seq_file::SeqFile;

/// What a `show` did with its record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Show {
    /// The record is in the seq_file (or overflowed it: the caller retries).
    Record,
    /// Nothing for this position: whatever was written is dropped
    /// (`SEQ_SKIP`).
    Skip,
}

/// The position an implementation hands out for a record: converts to and
/// from the `void *` of a C `seq_operations`.
pub(crate) trait Cursor: Copy {
    /// The non-NULL, non-`ERR_PTR` token of this cursor.
    fn into_token(self) -> NonNull<c_void>;

    /// The cursor of a token made by [`Cursor::into_token`].
    ///
    /// # Safety
    ///
    /// `token` was returned by [`Cursor::into_token`] of a value of this
    /// type (a token of some other origin could be forged into, say, a
    /// [`CToken`] a C callback then dereferences).
    unsafe fn from_token(token: NonNull<c_void>) -> Self;

    /// The cursor of a record token the seq_file core passes back to
    /// `->next` or `->show`: it never passes NULL or an `ERR_PTR` there
    /// (`seq_read_iter()` and `traverse()` stop first), so this checks only
    /// for NULL (`None`), and a cursor that reads nothing from its token
    /// ([`Index`]) need not check at all.
    ///
    /// # Safety
    ///
    /// As for [`Cursor::from_token`], unless `token` is NULL.
    #[inline(always)]
    unsafe fn from_record_token(token: *mut c_void) -> Option<Self> {
        // SAFETY: Per the function's contract, for a non-NULL token.
        NonNull::new(token).map(|t| unsafe { Self::from_token(t) })
    }
}

/// A cursor that is only "not at the end": the record is `m->index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Index;

impl Cursor for Index {
    fn into_token(self) -> NonNull<c_void> {
        NonNull::dangling()
    }

    unsafe fn from_token(_token: NonNull<c_void>) -> Self {
        Index
    }

    /// The token carries nothing (the record is `m->index`): no check.
    #[inline(always)]
    unsafe fn from_record_token(_token: *mut c_void) -> Option<Self> {
        Some(Index)
    }
}

/// The token of a C `seq_operations` (NULL and `ERR_PTR` are not cursors),
/// as [`CSeqOps`] hands it out: only its `start` and `next` make one, so
/// safe code cannot forge the `v` a C callback is given, and it names its
/// table, so a token of one table is refused by another (`EINVAL`).
///
/// # Invariants
///
/// `v` was returned by `->start` or `->next` of the table `table`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CToken {
    v: NonNull<c_void>,
    table: *const bindings::seq_operations,
}

impl CToken {
    /// The token of `table`'s `v`.
    ///
    /// # Safety
    ///
    /// `v` was returned by `->start` or `->next` of `table`.
    unsafe fn new(v: NonNull<c_void>, table: &'static bindings::seq_operations) -> Self {
        // INVARIANT: per the function's contract.
        Self {
            v,
            table: ptr::from_ref(table),
        }
    }
}

/// A `CToken` through the C side (a `CSeqOps` served by [`SeqOpsVTable`],
/// which `CSeqOps` refuses anyway) comes back naming no table: every
/// [`CSeqOps`] refuses it (`EINVAL`), as a `void *` cannot carry the table
/// too.
impl Cursor for CToken {
    fn into_token(self) -> NonNull<c_void> {
        self.v
    }

    unsafe fn from_token(token: NonNull<c_void>) -> Self {
        // INVARIANT: `table` is NULL, which no table is at: vacuous.
        Self {
            v: token,
            table: ptr::null(),
        }
    }
}

/// Where an iteration stands: at a record, at the end, or failed.
pub(crate) type At<C> = Result<Option<C>>;

/// `struct seq_operations` in Rust. Called with the seq_file locked; the
/// record index is `m->index`, which `next` moves on.
pub(crate) trait SeqOperations: Send + Sync + Sized + 'static {
    /// The position of a record.
    type Cursor: Cursor;

    /// `->start`: the record at `m.index()`, or the end.
    fn start(&self, m: &SeqFile) -> At<Self::Cursor>;

    /// `->next`: the record after `cur`; moves `m.index()` on.
    fn next(&self, m: &SeqFile, cur: Self::Cursor) -> At<Self::Cursor>;

    /// `->stop`, after every `start`, with where the iteration stopped.
    fn stop(&self, _m: &SeqFile, _last: &At<Self::Cursor>) {}

    /// `->show`: writes the record at `cur` into `m`. As with a seq_file,
    /// a record that overflows `m` is shown again later; a caller may show
    /// it again at once, into more room, without a `stop`/`start` in
    /// between, so `show` must not consume anything.
    fn show(&self, m: &SeqFile, cur: &Self::Cursor) -> Result<Show>;
}

/// The `void *` of `at`, as the seq_file core expects it.
#[inline(always)]
fn token_of<C: Cursor>(at: At<C>) -> *mut c_void {
    match at {
        Ok(Some(c)) => c.into_token().as_ptr(),
        Ok(None) => ptr::null_mut(),
        Err(e) => e.to_ptr(),
    }
}

/// `token` is NULL, an `ERR_PTR`, or one [`Cursor::from_token`] accepts.
///
/// # Safety
///
/// As for [`Cursor::from_token`], for a token that is neither NULL nor an
/// `ERR_PTR`.
#[inline(always)]
unsafe fn at_of<C: Cursor>(token: *mut c_void) -> At<C> {
    at_map(token, |t| {
        // SAFETY: Per the function's contract.
        unsafe { C::from_token(t) }
    })
}

/// Where a C token says an iteration stands, the record token made a
/// cursor by `f`.
#[inline(always)]
fn at_map<C>(token: *mut c_void, f: impl FnOnce(NonNull<c_void>) -> C) -> At<C> {
    if token as usize >= (-(bindings::MAX_ERRNO as isize)) as usize {
        return Err(Error::from_errno(token as isize as i32));
    }
    Ok(NonNull::new(token).map(f))
}

/// The C table of a Rust implementation `S`, for the stock seq_file core
/// (`seq_read_iter()`, `traverse()`): `m->private` is a `KBox<S>` made
/// foreign (`KBox::into_foreign`).
pub(crate) struct SeqOpsVTable<S>(PhantomData<S>);

impl<S: SeqOperations> SeqOpsVTable<S> {
    /// The table.
    pub(crate) const OPS: bindings::seq_operations = bindings::seq_operations {
        start: Some(Self::start),
        stop: Some(Self::stop),
        next: Some(Self::next),
        show: Some(Self::show),
    };

    /// The implementation and seq_file of a callback.
    ///
    /// # Safety
    ///
    /// `m` is the live seq_file the seq_file core called back with, locked
    /// for `'a` (its `m->lock`); `m->private` came from
    /// `KBox::<S>::into_foreign` and is released only after the seq_file is.
    unsafe fn parts<'a>(m: *mut bindings::seq_file) -> (&'a S, &'a SeqFile) {
        // SAFETY: Per the function's contract `private` is a live foreign
        // `KBox<S>`; the borrow is shared and ends with the callback.
        let ops: &'a S = unsafe { <KBox<S> as ForeignOwnable>::borrow((*m).private) };
        // SAFETY: Per the function's contract; the seq_file core's buffer
        // is NULL/0 or its kvmalloc'd `size` bytes.
        (ops, unsafe { SeqFile::from_raw(m) })
    }

    /// # Safety
    ///
    /// Called by the seq_file core with its locked seq_file of a file opened
    /// with this table; `pos` is `&m->index` (all its callers in
    /// fs/seq_file.c pass that).
    unsafe extern "C" fn start(m: *mut bindings::seq_file, _pos: *mut i64) -> *mut c_void {
        // SAFETY: Per the function's contract.
        let (ops, m) = unsafe { Self::parts(m) };
        token_of(ops.start(m))
    }

    /// # Safety
    ///
    /// As for `start`; `v` came from `start` or `next`.
    unsafe extern "C" fn next(
        m: *mut bindings::seq_file,
        v: *mut c_void,
        _pos: *mut i64,
    ) -> *mut c_void {
        // SAFETY: Per the function's contract.
        let (ops, m) = unsafe { Self::parts(m) };
        // SAFETY: `v` came from `start` or `next` (function contract), which
        // made it with `into_token`.
        match unsafe { S::Cursor::from_record_token(v) } {
            Some(c) => token_of(ops.next(m, c)),
            None => ptr::null_mut(),
        }
    }

    /// # Safety
    ///
    /// As for `start`.
    unsafe extern "C" fn stop(m: *mut bindings::seq_file, v: *mut c_void) {
        // SAFETY: Per the function's contract.
        let (ops, m) = unsafe { Self::parts(m) };
        // SAFETY: The seq_file core passes `stop` what `start` or `next`
        // returned last (NULL, an `ERR_PTR` or an `into_token` token).
        ops.stop(m, &unsafe { at_of::<S::Cursor>(v) });
    }

    /// # Safety
    ///
    /// As for `start`; `v` is a record token from `start` or `next`.
    unsafe extern "C" fn show(m: *mut bindings::seq_file, v: *mut c_void) -> c_int {
        // SAFETY: Per the function's contract.
        let (ops, m) = unsafe { Self::parts(m) };
        // SAFETY: As in `next`.
        let Some(cur) = (unsafe { S::Cursor::from_record_token(v) }) else {
            return -(bindings::EINVAL as c_int);
        };
        match ops.show(m, &cur) {
            Ok(Show::Record) => 0,
            Ok(Show::Skip) => bindings::SEQ_SKIP as c_int,
            Err(e) => e.to_errno(),
        }
    }
}

/// A C `struct seq_operations` as [`SeqOperations`]: every callback is an
/// indirect call through the table, with `m->private` the table's own data
/// (`P`, owned by this value).
///
/// # Invariants
///
/// `private` came from `P::into_foreign` and is released only by `drop`;
/// `ops`' callbacks meet the contract of [`CSeqOps::new`] for it.
pub(crate) struct CSeqOps<P: ForeignOwnable> {
    ops: &'static bindings::seq_operations,
    private: *const c_void,
    _p: PhantomData<P>,
}

// SAFETY: `P` is owned like a `P` (sent with the value); the table is a
// shared static.
unsafe impl<P: ForeignOwnable + Send> Send for CSeqOps<P> {}
// SAFETY: Shared access reaches `P` through `private()` (a shared borrow of
// a `Sync` value) and through the callbacks. Each caller holds the lock of
// its own seq_file, not of this value, so callbacks of several tasks may
// run at once on the one `P`: only `P: Sync` (and `new`'s contract: the
// callbacks mutate `P` only through its thread-safe interior mutability)
// protects it.
unsafe impl<P: ForeignOwnable + Send + Sync> Sync for CSeqOps<P> {}

impl<P: ForeignOwnable> CSeqOps<P> {
    /// Drives `ops`, whose callbacks find `private` in `m->private`.
    ///
    /// # Safety
    ///
    /// `ops`' callbacks are sound for any locked seq_file whose `private` is
    /// a foreign `P` and whose buffer is NULL/0 or writable, with `pos` the
    /// seq_file's `index`, called by several tasks at once (each with its
    /// own seq_file), and they mutate `P` only through thread-safe interior
    /// mutability (Rust may hold shared borrows of it). Safe code drives
    /// them through [`SeqOperations`], which does not enforce the seq_file
    /// protocol: they must also be sound called in any order (`stop`
    /// without `start`, `show` or `next` after `stop`) with any token one
    /// of this table's `start`/`next` returned, stale ones included (the
    /// tokens themselves cannot be forged: [`CToken`]). A table that needs
    /// the protocol for soundness (one whose `start` takes a lock `stop`
    /// drops, or whose tokens point at what `stop` frees) does not qualify.
    /// After a `show` that overflowed the buffer, calling `show` again with
    /// the same token before `stop` (the engine's direct map mode moves the
    /// record to the next page at once) writes the same record: ftrace's
    /// `s_show` does, through `iter->leftover`; a `show` that consumes its
    /// record without such a leftover does not qualify.
    pub(crate) unsafe fn new(ops: &'static bindings::seq_operations, private: P) -> Self {
        // INVARIANT: made by `into_foreign` here; the table per the contract.
        Self {
            ops,
            private: private.into_foreign(),
            _p: PhantomData,
        }
    }

    /// The table's data.
    pub(crate) fn private(&self) -> P::Borrowed<'_> {
        // SAFETY: By the type invariants `private` is a live foreign `P`,
        // released only by `drop`, which this borrow of `self` precedes.
        unsafe { P::borrow(self.private) }
    }
}

impl<S: SeqOperations> CSeqOps<KBox<S>> {
    /// The C table of a Rust implementation ([`SeqOpsVTable`]), driven as a
    /// C table: what a C seq_file costs its caller (an indirect call per
    /// callback).
    pub(crate) fn of_rust(ops: S) -> Result<Self> {
        let private = KBox::new(ops, GFP_KERNEL)?;
        // SAFETY: `SeqOpsVTable::<S>`'s callbacks are sound for any locked
        // seq_file whose `private` is a foreign `KBox<S>` (its `parts`) and
        // whose buffer is NULL/0 or writable, and they use `m->index` as the
        // position; they only borrow the private shared (`S: Sync`, so from
        // several tasks at once), call safe Rust in whatever order they are
        // called, take back only tokens of `S::Cursor::into_token` (values:
        // a stale one is a copy of an old cursor, which safe `S` code must
        // handle anyway), and `S::show` consumes nothing
        // (`SeqOperations::show`).
        Ok(unsafe { Self::new(&SeqOpsVTable::<S>::OPS, private) })
    }
}

impl<P: ForeignOwnable> Drop for CSeqOps<P> {
    fn drop(&mut self) {
        // SAFETY: By the type invariants `private` came from `into_foreign`
        // and this is its one release.
        drop(unsafe { P::from_foreign(self.private) });
    }
}

impl<P: ForeignOwnable + Send + Sync + 'static> CSeqOps<P> {
    /// Runs `f` with the raw seq_file of `m` whose `private` is the table's
    /// own data, and puts the old value back: three memory accesses per
    /// callback, 2.8 % of `trace_ops`' raw throughput. Only on a seq_file
    /// of the module's own (the engine's, which leaves `m->private` NULL
    /// and which nothing but its lock holder reads): `EINVAL` on one of
    /// `seq_open()`'s (a `CSeqOps` served through [`SeqOpsVTable`]), whose
    /// `m->private` other code reads without `m->lock` (the file's `write`,
    /// as `SeqFileVTable` does) and would find the table's `P` there for a
    /// while instead of what it expects.
    fn with_private<R>(
        &self,
        m: &SeqFile,
        f: impl FnOnce(*mut bindings::seq_file) -> R,
    ) -> Result<R> {
        if !m.is_own() {
            return Err(EINVAL);
        }
        let old = m.swap_private(self.private.cast_mut());
        let r = f(m.as_raw());
        m.swap_private(old);
        Ok(r)
    }

    /// The C token of `cur`, if this table made it; `EINVAL` otherwise.
    fn mine(&self, cur: &CToken) -> Result<NonNull<c_void>> {
        if cur.table == ptr::from_ref(self.ops) {
            Ok(cur.v)
        } else {
            Err(EINVAL)
        }
    }
}

impl<P: ForeignOwnable + Send + Sync + 'static> SeqOperations for CSeqOps<P> {
    type Cursor = CToken;

    fn start(&self, m: &SeqFile) -> At<Self::Cursor> {
        let Some(f) = self.ops.start else {
            return Ok(None);
        };
        // SAFETY: `raw` is locked and ours (`SeqFile`'s invariants), its
        // `private` is `self.private` (`with_private`) and `pos` its
        // `index`: `new`'s contract (type invariants).
        let v = self.with_private(m, |raw| unsafe { f(raw, ptr::addr_of_mut!((*raw).index)) })?;
        // SAFETY: What the table's `start` returned.
        at_map(v, |t| unsafe { CToken::new(t, self.ops) })
    }

    fn next(&self, m: &SeqFile, cur: Self::Cursor) -> At<Self::Cursor> {
        let Some(f) = self.ops.next else {
            return Ok(None);
        };
        let v = self.mine(&cur)?;
        // SAFETY: As in `start`; `v` came from this table's `start` or
        // `next` (`CToken` invariants, `mine`).
        let v = self.with_private(m, |raw| unsafe {
            f(raw, v.as_ptr(), ptr::addr_of_mut!((*raw).index))
        })?;
        // SAFETY: What the table's `next` returned.
        at_map(v, |t| unsafe { CToken::new(t, self.ops) })
    }

    fn stop(&self, m: &SeqFile, last: &At<Self::Cursor>) {
        if let Some(f) = self.ops.stop {
            let token = match last {
                Ok(None) => ptr::null_mut(),
                Ok(Some(c)) => match self.mine(c) {
                    Ok(v) => v.as_ptr(),
                    Err(_) => return,
                },
                Err(e) => e.to_ptr(),
            };
            // SAFETY: As in `start`; the token is NULL, an `ERR_PTR` or one
            // of this table's (`CToken` invariants), which `new`'s contract
            // allows in any order.
            let _ = self.with_private(m, |raw| unsafe { f(raw, token) });
        }
    }

    fn show(&self, m: &SeqFile, cur: &Self::Cursor) -> Result<Show> {
        let Some(f) = self.ops.show else {
            return Err(EINVAL);
        };
        let v = self.mine(cur)?;
        // SAFETY: As in `start`; `v` is a record token of this table
        // (`CToken` invariants, `mine`).
        let r = self.with_private(m, |raw| unsafe { f(raw, v.as_ptr()) })?;
        match r {
            0 => Ok(Show::Record),
            r if r > 0 => Ok(Show::Skip),
            r => Err(Error::from_errno(r)),
        }
    }
}
