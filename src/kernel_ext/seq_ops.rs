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
use core::sync::atomic::{AtomicU64, Ordering};

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
pub(crate) trait Cursor: Sized {
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
/// as [`CSeqOps`] hands it out: neither `Copy` nor `Clone`, so a token is
/// gone once given to `next` (a table's `->next` may free the record it
/// leaves: `dl_seq_next()`); only `start` and `next` make one, so
/// safe code cannot forge the `v` a C callback is given; and it names the
/// iteration (one `->start` to its `->stop`, numbered uniquely across every
/// table and open) it belongs to, so [`CSeqOps`] refuses (`EINVAL`) a token
/// of another open, of another iteration or after its `->stop`: a C
/// table's `v` may point at what its `->stop` unlocks or frees.
///
/// # Invariants
///
/// `v` was returned by `->start` or `->next` in iteration `iter`, never 0
/// (the number of none) and never `u64::MAX` unless made by
/// [`Cursor::from_token`] (then no `CSeqOps` accepts it).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CToken {
    v: NonNull<c_void>,
    iter: u64,
}

/// A `CToken` through the C side (a `CSeqOps` served by [`SeqOpsVTable`],
/// which nothing does) comes back naming no iteration: every [`CSeqOps`]
/// refuses it (`EINVAL`), as a `void *` cannot carry the iteration too.
impl Cursor for CToken {
    fn into_token(self) -> NonNull<c_void> {
        self.v
    }

    unsafe fn from_token(token: NonNull<c_void>) -> Self {
        // INVARIANT: `u64::MAX` is no iteration (the numbers start at 1 and
        // do not reach it): vacuous, no `CSeqOps` accepts it.
        Self {
            v: token,
            iter: u64::MAX,
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
    /// a record that overflows `m` is shown again later: after `stop` and
    /// `start`, as `seq_read_iter()` does, unless [`Self::RESHOW_AT_ONCE`].
    fn show(&self, m: &SeqFile, cur: &Self::Cursor) -> Result<Show>;

    /// A record that overflowed may be shown again at once, into more
    /// room, with no `stop`/`start` in between (the engine's direct map
    /// mode moves it to the next page so): true only for an implementation
    /// whose `show` consumes nothing and whose `start` takes no lock `show`
    /// depends on. A C table never is, by default.
    const RESHOW_AT_ONCE: bool = false;

    /// What `seq_open()` would have put in `m->op` and `m->private` for
    /// this implementation; a Rust implementation, which reads neither,
    /// leaves both NULL.
    fn identity(&self) -> SeqIdentity {
        SeqIdentity::NONE
    }

    /// Called at the end of each engine call, with the seq_file still
    /// locked: an implementation that tracks its iteration closes one left
    /// open (a bug of the caller's) here.
    fn end_call(&self, _m: &SeqFile) {}
}

/// `m->op`, `m->private` and `m->file` of a seq_file, as `seq_open()` and
/// its caller set them.
///
/// # Invariants
///
/// `op` is NULL or a table live as long as the open that got this value
/// (its module is pinned by the file's `f_op->owner`); `file` is NULL (the
/// open's own file) or a file live as long as that open.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SeqIdentity {
    pub(super) op: *const bindings::seq_operations,
    pub(super) private: *mut c_void,
    pub(super) file: *mut bindings::file,
}

impl SeqIdentity {
    /// Neither: a Rust implementation's.
    pub(crate) const NONE: Self = Self {
        op: ptr::null(),
        private: ptr::null_mut(),
        file: ptr::null_mut(),
    };
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

/// The numbers of C iterations: one per `->start`, never 0 (2^64 starts do
/// not happen).
static ITERATIONS: AtomicU64 = AtomicU64::new(1);

/// A C `struct seq_operations` as [`SeqOperations`]: every callback is one
/// indirect call through the table with the seq_file as `seq_open()` would
/// have set it up: `m->op` the table, `m->private` the caller's data (which
/// a callback may change, as with `seq_open_private()`), `m->file` the
/// file. The protocol a C table relies on is enforced here: a `start` only
/// when no iteration is open, `show`/`next` only with a token of the open
/// iteration, one `stop` per `start` (`end_call` closes one left open).
///
/// # Invariants
///
/// - `ops` is a live table for the life of this value, whose callbacks
///   meet the contract of [`CSeqOps::new`];
/// - `iter` is 0 or the number of the iteration `->start` opened and no
///   `->stop` closed yet, every token of it made by this value.
pub(crate) struct CSeqOps {
    ops: NonNull<bindings::seq_operations>,
    // The table's callbacks, read once: the stock core calls all four
    // unconditionally, so a table has them (`new` checks).
    start: StartFn,
    next: NextFn,
    stop: StopFn,
    show: ShowFn,
    private: *mut c_void,
    file: *mut bindings::file,
    iter: AtomicU64,
}

type StartFn = unsafe extern "C" fn(*mut bindings::seq_file, *mut i64) -> *mut c_void;
type NextFn = unsafe extern "C" fn(*mut bindings::seq_file, *mut c_void, *mut i64) -> *mut c_void;
type StopFn = unsafe extern "C" fn(*mut bindings::seq_file, *mut c_void);
type ShowFn = unsafe extern "C" fn(*mut bindings::seq_file, *mut c_void) -> c_int;

// SAFETY: The table is shared, immutable data; `private` is only handed to
// `seq_open()`'s fields (the caller of `new` vouches for it being used from
// any task, as a seq_file's private is); `iter` is atomic.
unsafe impl Send for CSeqOps {}
// SAFETY: Each caller holds its seq_file's lock, the only one this value's
// `iter` is used under (one open, one seq_file).
unsafe impl Sync for CSeqOps {}

impl CSeqOps {
    /// Drives `ops`, whose callbacks find `private` in `m->private`.
    ///
    /// # Safety
    ///
    /// `ops` and its callbacks stay live as long as this value (its module
    /// is pinned by the open); they are sound for a seq_file set up as
    /// `seq_open(file, ops)` with `m->private = private` would, locked,
    /// called in the order `seq_read_iter()` calls them (which this value
    /// enforces), with `pos == &m->index`, and with no sleeping between
    /// `->start` and `->stop`, which is the caller's to keep. `EINVAL` for a
    /// table without all four callbacks (the stock core calls each).
    pub(crate) unsafe fn new(
        ops: NonNull<bindings::seq_operations>,
        private: *mut c_void,
    ) -> Result<Self> {
        // SAFETY: Live (the function's contract); read once here.
        let t = unsafe { ops.as_ref() };
        let (Some(start), Some(next), Some(stop), Some(show)) = (t.start, t.next, t.stop, t.show)
        else {
            return Err(EINVAL);
        };
        // INVARIANT: per the function's contract; no iteration open.
        Ok(Self {
            ops,
            start,
            next,
            stop,
            show,
            private,
            file: ptr::null_mut(),
            iter: AtomicU64::new(0),
        })
    }

    /// As [`CSeqOps::new`], for a seq_file whose `m->file` is `file` rather
    /// than the open's own (another file's table, served through this one).
    ///
    /// # Safety
    ///
    /// As for [`CSeqOps::new`], with `seq_open(file, ops)`; and `file`
    /// stays live as long as this value.
    pub(super) unsafe fn with_file(
        ops: NonNull<bindings::seq_operations>,
        private: *mut c_void,
        file: NonNull<bindings::file>,
    ) -> Result<Self> {
        // SAFETY: Per the function's contract.
        let mut t = unsafe { Self::new(ops, private) }?;
        // INVARIANT: `file` outlives the value (contract).
        t.file = file.as_ptr();
        Ok(t)
    }

    /// The C token of `cur`, if it belongs to the open iteration; `EINVAL`
    /// otherwise.
    #[inline(always)]
    fn open_token(&self, cur: &CToken) -> Result<NonNull<c_void>> {
        // No token names iteration 0 (`CToken` invariants), so no token
        // passes while none is open.
        if cur.iter == self.iter.load(Ordering::Relaxed) {
            Ok(cur.v)
        } else {
            Err(EINVAL)
        }
    }

    /// `->stop` of the open iteration, with `token`, and closes it.
    fn close(&self, m: &SeqFile, token: *mut c_void) {
        self.iter.store(0, Ordering::Relaxed);
        // SAFETY: The seq_file is locked and set up as `seq_open()` would
        // (`identity`); an iteration was open (callers), and `token` is
        // NULL, an `ERR_PTR` or one of its tokens: `new`'s contract, in
        // `seq_read_iter()`'s order.
        unsafe { (self.stop)(m.as_raw(), token) };
    }
}

impl SeqOperations for CSeqOps {
    type Cursor = CToken;

    fn identity(&self) -> SeqIdentity {
        // INVARIANT: the table outlives this value, which the open owns.
        SeqIdentity {
            op: self.ops.as_ptr(),
            private: self.private,
            file: self.file,
        }
    }

    fn start(&self, m: &SeqFile) -> At<Self::Cursor> {
        let raw = m.as_raw();
        // SAFETY: The seq_file is live and locked (`SeqFile` invariants).
        let op = unsafe { (*raw).op };
        if self.iter.load(Ordering::Relaxed) != 0 || op != self.ops.as_ptr().cast_const() {
            // Two starts without a stop (no second lock), or a seq_file not
            // set up for this table (`identity`), whose `private` the
            // callbacks would misread: the caller's bug. No iteration
            // opens, so no token of it exists and its `stop` does nothing.
            return Err(EINVAL);
        }
        let iter = ITERATIONS.fetch_add(1, Ordering::Relaxed);
        self.iter.store(iter, Ordering::Relaxed);
        // SAFETY: The seq_file is locked and set up as `seq_open()` would
        // (`identity`), `pos` is its `index`, no iteration is open: `new`'s
        // contract.
        let v = unsafe { (self.start)(raw, ptr::addr_of_mut!((*raw).index)) };
        // INVARIANT: a token of iteration `iter`, open now.
        at_map(v, |v| CToken { v, iter })
    }

    #[inline]
    fn next(&self, m: &SeqFile, cur: Self::Cursor) -> At<Self::Cursor> {
        let v = self.open_token(&cur)?;
        let raw = m.as_raw();
        // SAFETY: As in `start`; `v` is a token of the open iteration
        // (`open_token`, `CToken` invariants).
        let v = unsafe { (self.next)(raw, v.as_ptr(), ptr::addr_of_mut!((*raw).index)) };
        // INVARIANT: a token of the same, still open iteration.
        at_map(v, |v| CToken { v, iter: cur.iter })
    }

    fn stop(&self, m: &SeqFile, last: &At<Self::Cursor>) {
        if self.iter.load(Ordering::Relaxed) == 0 {
            // No start to match: nothing the table expects.
            return;
        }
        let token = match last {
            Ok(Some(c)) => self.open_token(c).map_or(ptr::null_mut(), |v| v.as_ptr()),
            Ok(None) => ptr::null_mut(),
            Err(e) => e.to_ptr(),
        };
        self.close(m, token);
    }

    #[inline]
    fn show(&self, m: &SeqFile, cur: &Self::Cursor) -> Result<Show> {
        let v = self.open_token(cur)?;
        // SAFETY: As in `start`; `v` is a record token of the open
        // iteration (`open_token`).
        let r = unsafe { (self.show)(m.as_raw(), v.as_ptr()) };
        match r {
            0 => Ok(Show::Record),
            r if r > 0 => Ok(Show::Skip),
            r => Err(Error::from_errno(r)),
        }
    }

    fn end_call(&self, m: &SeqFile) {
        if self.iter.load(Ordering::Relaxed) != 0 {
            pr_warn!("seqsplice: an iteration was left open: stopped\n");
            self.close(m, ptr::null_mut());
        }
    }
}

/// A C table driven through [`CSeqOps`] and the value that keeps what its
/// pointers name alive (a boxed Rust implementation, another file), which
/// goes after the table.
///
/// # Invariants
///
/// `table`'s table, private and file stay valid while `owner` lives;
/// `table` is dropped first (field order).
pub(crate) struct OwnedTable<O> {
    table: CSeqOps,
    owner: O,
}

impl<O> OwnedTable<O> {
    /// `table`, whose pointers `owner` keeps valid.
    ///
    /// # Safety
    ///
    /// `table`'s table, private and file stay valid while `owner` lives.
    pub(super) unsafe fn with_owner(table: CSeqOps, owner: O) -> Self {
        // INVARIANT: per the function's contract.
        Self { table, owner }
    }
}

impl<O: Send + Sync + 'static> SeqOperations for OwnedTable<O> {
    type Cursor = CToken;

    #[inline(always)]
    fn identity(&self) -> SeqIdentity {
        self.table.identity()
    }

    #[inline(always)]
    fn start(&self, m: &SeqFile) -> At<CToken> {
        self.table.start(m)
    }

    #[inline(always)]
    fn next(&self, m: &SeqFile, cur: CToken) -> At<CToken> {
        self.table.next(m, cur)
    }

    #[inline(always)]
    fn stop(&self, m: &SeqFile, last: &At<CToken>) {
        self.table.stop(m, last)
    }

    #[inline(always)]
    fn show(&self, m: &SeqFile, cur: &CToken) -> Result<Show> {
        self.table.show(m, cur)
    }

    #[inline(always)]
    fn end_call(&self, m: &SeqFile) {
        self.table.end_call(m)
    }
}

/// The boxed Rust implementation behind a [`RustTable`]'s `m->private`.
///
/// # Invariants
///
/// `own` came from `KBox::<S>::into_foreign` and is released only by
/// `drop`.
pub(crate) struct RustOwned<S: SeqOperations> {
    own: *const c_void,
    _s: PhantomData<S>,
}

// SAFETY: Owns a `KBox<S>` (`S: Send + Sync`).
unsafe impl<S: SeqOperations> Send for RustOwned<S> {}
// SAFETY: Shared access reaches `S` only by shared borrows (`inner`, the
// table's callbacks through `SeqOpsVTable::parts`); `S: Sync`.
unsafe impl<S: SeqOperations> Sync for RustOwned<S> {}

impl<S: SeqOperations> Drop for RustOwned<S> {
    fn drop(&mut self) {
        // SAFETY: From `into_foreign` (type invariants); its one release.
        // The table's callbacks are never called again: the table went
        // first (`OwnedTable` invariants).
        drop(unsafe { <KBox<S> as ForeignOwnable>::from_foreign(self.own) });
    }
}

/// A Rust implementation served as a C table ([`SeqOpsVTable`]) through
/// [`CSeqOps`]: what a C seq_file costs its caller (an indirect call per
/// callback), with `m->private` the boxed implementation, owned here.
pub(crate) type RustTable<S> = OwnedTable<RustOwned<S>>;

impl<S: SeqOperations> OwnedTable<RustOwned<S>> {
    /// `ops` as a C table.
    pub(crate) fn new(ops: S) -> Result<Self> {
        let own = KBox::new(ops, GFP_KERNEL)?.into_foreign();
        // INVARIANT: from `into_foreign` just above.
        let owner = RustOwned {
            own,
            _s: PhantomData,
        };
        // SAFETY: `SeqOpsVTable::<S>`'s callbacks are sound for any locked
        // seq_file whose `private` is a foreign `KBox<S>` (its `parts`),
        // which `own` is and stays while `owner` lives; the table is a
        // constant (static promotion), live for ever. (A refusal drops
        // `owner`, which frees the box.)
        let table =
            unsafe { CSeqOps::new(NonNull::from(&SeqOpsVTable::<S>::OPS), own.cast_mut()) }?;
        // SAFETY: As above: `owner` keeps the private valid.
        Ok(unsafe { Self::with_owner(table, owner) })
    }

    /// The implementation.
    pub(crate) fn inner(&self) -> &S {
        // SAFETY: `own` is a live foreign `KBox<S>` while `owner` lives
        // (`RustOwned` invariants), which this borrow of `self` is within.
        unsafe { <KBox<S> as ForeignOwnable>::borrow(self.owner.own) }
    }
}
