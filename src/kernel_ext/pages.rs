// SPDX-License-Identifier: GPL-2.0

//! Order-0 pages the module owns: a compact [`PageSet`] allocated in bulk,
//! which knows which of its pages it shared (gave a reference away: never
//! writable again) and maps its clean pages; [`PageRef`], one reference to
//! hand to a pipe; [`PageWriter`], a seq_file pointed at clean pages only
//! inside a closure (as `rust/kernel/page.rs` writes a page only inside
//! `with_page_mapped`); and the allocation tag the pages carry.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h)

use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

use kernel::bindings;
use kernel::page::PAGE_SIZE;
use kernel::prelude::*;

use super::seq_file::OwnSeqFile;
use super::vmap::{MapKind, VMap};
use crate::ffi;

/// Flags of every page the module allocates: `GFP_USER`, as
/// `copy_splice_read()` uses. No `__GFP_ACCOUNT` by default: it turns the
/// bulk allocator into one page per call under memcg
/// (`alloc_pages_bulk_noprof()`).
const PAGE_GFP: bindings::gfp_t = bindings::GFP_KERNEL | (1 << bindings::___GFP_HARDWALL_BIT);

/// The tag every page allocation of the module is accounted to while
/// `vm.mem_profiling` is on (NULL without `CONFIG_MEM_ALLOC_PROFILING`).
/// Published by [`PageTag::new`], cleared by its `drop`; read only inside
/// a [`TagUse`].
static TAG: AtomicPtr<bindings::alloc_tag> = AtomicPtr::new(ptr::null_mut());

/// Whether a [`PageTag`] exists (there is at most one: `EBUSY`).
static TAG_TAKEN: AtomicBool = AtomicBool::new(false);

/// [`TagUse`]s in progress: `PageTag::drop` waits for none before it reads
/// or frees the tag it has unpublished.
static TAG_USERS: AtomicUsize = AtomicUsize::new(0);

/// A use of the published tag (an allocation carrying it, or a read of its
/// counters), counted in [`TAG_USERS`] for the life of this value.
///
/// # Invariants
///
/// `tag` is NULL or a live tag: it was loaded from [`TAG`] after this value
/// was counted, and `PageTag::drop` clears `TAG` and then waits for the
/// count to reach 0 before it reads or frees the tag (both sides
/// sequentially consistent: either the load sees NULL, or the drop sees
/// this use and waits for it).
struct TagUse {
    tag: *mut bindings::alloc_tag,
}

impl TagUse {
    fn new() -> Self {
        TAG_USERS.fetch_add(1, Ordering::SeqCst);
        // INVARIANT: counted, then loaded (above).
        Self {
            tag: TAG.load(Ordering::SeqCst),
        }
    }
}

impl Drop for TagUse {
    fn drop(&mut self) {
        TAG_USERS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The module's page allocation tag: its own memory, not the module's.
///
/// Pages outlive the module in pipes. A `DEFINE_ALLOC_TAG()` tag lives in
/// the module, and 6.12 frees its per-CPU counters at rmmod even while pages
/// still point to it (`free_module()` warns "cannot unload cleanly", then
/// `percpu_modfree()`), so the pipe's last `put_page()` would write freed
/// memory in `pgalloc_tag_sub()`. This tag is allocated at load and freed at
/// unload only when no page carries it; otherwise it is left allocated (a
/// few dozen bytes) for those pages, as 6.13 does for module tags.
///
/// # Invariants
///
/// `tag` is NULL (no `CONFIG_MEM_ALLOC_PROFILING`) or a live tag from
/// `seqsplice_tag_alloc()`, published in [`TAG`] for the life of this value;
/// this value is the only `PageTag` ([`TAG_TAKEN`] is set for its life).
pub(crate) struct PageTag {
    tag: *mut bindings::alloc_tag,
}

// SAFETY: The tag is only read through the kernel's per-CPU accessors.
unsafe impl Send for PageTag {}
// SAFETY: As above.
unsafe impl Sync for PageTag {}

impl PageTag {
    /// Allocates and publishes the tag; `EBUSY` if a `PageTag` exists.
    pub(crate) fn new() -> Result<Self> {
        TAG_TAKEN
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .map_err(|_| EBUSY)?;
        // SAFETY: No arguments; reads a config constant.
        if !unsafe { ffi::seqsplice_tag_needed() } {
            // INVARIANT: no profiling, no tag; the only `PageTag` (above).
            return Ok(Self {
                tag: ptr::null_mut(),
            });
        }
        // SAFETY: Plain allocation; NULL on failure.
        let tag = unsafe { ffi::seqsplice_tag_alloc() };
        if tag.is_null() {
            TAG_TAKEN.store(false, Ordering::Release);
            return Err(ENOMEM);
        }
        TAG.store(tag, Ordering::SeqCst);
        // INVARIANT: allocated and published above; the only `PageTag`.
        Ok(Self { tag })
    }
}

/// `(bytes, calls)` of a live tag, summed over the CPUs (`alloc_tag_read()`).
///
/// # Safety
///
/// `tag` is a live tag from `seqsplice_tag_alloc()`.
unsafe fn tag_read(tag: *mut bindings::alloc_tag) -> (u64, u64) {
    let (mut bytes, mut calls) = (0, 0);
    // SAFETY: `tag` is live (contract); the two outputs are ours.
    unsafe { ffi::seqsplice_tag_read(tag, &mut bytes, &mut calls) };
    (bytes, calls)
}

impl Drop for PageTag {
    fn drop(&mut self) {
        if self.tag.is_null() {
            TAG_TAKEN.store(false, Ordering::Release);
            return;
        }
        // Unpublished, then no use of it left in progress (at module exit
        // there is none: no file is open, so this does not wait).
        TAG.store(ptr::null_mut(), Ordering::SeqCst);
        while TAG_USERS.load(Ordering::SeqCst) != 0 {
            super::sched::cond_resched();
        }
        // No allocation with the tag is in flight now, nor can one start.
        // `calls` counts the references set to the tag (every allocation,
        // and every tail page a split gives a copy, `alloc_tag_ref_set()`)
        // less those cleared, and `alloc_tag_sub()` decrements it last: it
        // only falls from here on, and a sum of 0 means no page points to
        // the tag and no free is still writing its counters. A page freed
        // while profiling was off keeps its reference and its count, so the
        // tag is kept. (`bytes` can reach 0 earlier: it is subtracted first,
        // and `pgalloc_tag_sub_pages()` subtracts bytes alone.)
        // SAFETY: By the type invariants `tag` is live.
        let (bytes, calls) = unsafe { tag_read(self.tag) };
        if calls == 0 {
            // SAFETY: By the type invariants `tag` is live; no page points to
            // it (above) and it is unpublished with no use left, so nothing
            // can use it again.
            unsafe { ffi::seqsplice_tag_free(self.tag) };
        } else {
            pr_info!(
                "{} bytes of pages still in pipes: their allocation tag stays allocated\n",
                bytes
            );
            // SAFETY: `tag` is live and, deliberately, never freed.
            unsafe { ffi::seqsplice_tag_keep(self.tag) };
        }
        TAG_TAKEN.store(false, Ordering::Release);
    }
}

/// Pages carrying the module's tag still alive anywhere (the module, pipes,
/// their consumers): exact while `vm.mem_profiling` is on, from the
/// kernel's own accounting at free time.
pub(crate) fn pages_alive() -> u64 {
    let u = TagUse::new();
    if u.tag.is_null() {
        return 0;
    }
    // SAFETY: A tag loaded in a `TagUse` is live while it lasts (its
    // invariants).
    let (bytes, _) = unsafe { tag_read(u.tag) };
    bytes / PAGE_SIZE as u64
}

/// An array of order-0 pages, `[0, len)` populated and the rest NULL, the
/// first `shared` of them perhaps referenced elsewhere, and perhaps a
/// mapping of its first pages.
///
/// # Invariants
///
/// - `slots[..len]` are valid pages on each of which this set owns exactly
///   one reference; `slots[len..]` are NULL.
/// - Pages `[0, shared)` may be referenced outside the set (a [`PageRef`]
///   was made of them): nothing writes them any more; `shared <= len`.
/// - `map`, when present, maps pages `[0, map.pages())`, all held, and then
///   `shared == 0`: only clean pages are mapped.
pub(crate) struct PageSet {
    slots: KVVec<*mut bindings::page>,
    len: usize,
    shared: usize,
    map: Option<VMap>,
}

// SAFETY: The set owns its page references and mapping, which any task may
// use and release; nothing in it is tied to a CPU or a task.
unsafe impl Send for PageSet {}
// SAFETY: Shared borrows only read the array and the mapping's bounds, or
// take references (`page`) that need no exclusive access.
unsafe impl Sync for PageSet {}

impl PageSet {
    /// Bytes of array one page takes.
    pub(crate) const SLOT_BYTES: usize = core::mem::size_of::<*mut bindings::page>();

    /// An empty set with no room.
    pub(crate) fn new() -> Self {
        // INVARIANT: no page, nothing shared, no mapping.
        Self {
            slots: KVVec::new(),
            len: 0,
            shared: 0,
            map: None,
        }
    }

    /// Number of pages held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Room for pages (held or not).
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Pages the array's allocation has room for (what it costs).
    pub(crate) fn array_capacity(&self) -> usize {
        self.slots.capacity()
    }

    /// Pages `[0, shared)` may be referenced elsewhere (by a pipe): they are
    /// never written again.
    pub(crate) fn shared(&self) -> usize {
        self.shared
    }

    /// Grows the room to `cap` pages (no page is allocated); `ENOMEM` when
    /// the array cannot be had.
    pub(crate) fn grow(&mut self, cap: usize) -> Result {
        if cap > self.slots.len() {
            // INVARIANT: the new slots are NULL.
            self.slots
                .extend_with(cap - self.slots.len(), ptr::null_mut(), GFP_KERNEL)?;
        }
        Ok(())
    }

    /// One allocation of at most `n` pages into the free room: the bulk
    /// allocator, and `alloc_page()` when it made no progress. Returns the
    /// pages added (0 when memory ran out). With `account`, they are charged
    /// to the current task's memory cgroup (`__GFP_ACCOUNT`), as upstream
    /// charges its seq buffer (`seq_buf_alloc()`). Every page carries the
    /// module's [`PageTag`].
    pub(crate) fn alloc(&mut self, n: usize, account: bool) -> usize {
        let gfp = if account {
            PAGE_GFP | (1 << bindings::___GFP_ACCOUNT_BIT)
        } else {
            PAGE_GFP
        };
        let n = n.min(self.slots.len() - self.len);
        if n == 0 {
            return 0;
        }
        let u = TagUse::new();
        let tag = u.tag;
        let tail = &mut self.slots[self.len..self.len + n];
        // SAFETY: `tail` is `n` NULL slots of our array (type invariants:
        // everything past `len` is NULL); the bulk allocator fills only NULL
        // slots of the array it is given and returns the count of populated
        // slots from its start. `tag` is NULL or live while `u` lasts
        // (`TagUse` invariants).
        let got = unsafe { ffi::seqsplice_alloc_pages_bulk(tag, gfp, n as _, tail.as_mut_ptr()) }
            as usize;
        let got = if got == 0 {
            // SAFETY: Plain order-0 allocation, tagged as above.
            let p = unsafe { ffi::seqsplice_alloc_page(tag, gfp) };
            if p.is_null() {
                return 0;
            }
            self.slots[self.len] = p;
            1
        } else {
            got.min(n)
        };
        // INVARIANT: the allocator populated `[len, len + got)` with pages
        // whose single reference is now ours.
        self.len += got;
        got
    }

    /// Drops the mapping, if any; returns how it was mapped.
    pub(crate) fn unmap(&mut self) -> Option<MapKind> {
        self.map.take().map(|m| m.kind())
    }

    /// Drops our reference to pages `[0, n)` (the mapping first) and moves
    /// the rest to the front; returns the number of pages released.
    pub(crate) fn release_front(&mut self, n: usize) -> usize {
        let n = n.min(self.len);
        if n == 0 {
            return 0;
        }
        self.map = None;
        for slot in &mut self.slots[..n] {
            // SAFETY: By the type invariants `*slot` is a valid page on which
            // we own one reference; it is dropped exactly once here and the
            // slot cleared.
            unsafe { ffi::seqsplice_put_page(*slot) };
            *slot = ptr::null_mut();
        }
        self.slots.copy_within(n..self.len, 0);
        for slot in &mut self.slots[self.len - n..self.len] {
            *slot = ptr::null_mut();
        }
        // INVARIANT: `[0, len - n)` hold the kept pages, the rest is NULL;
        // the shared prefix moves down with them; no mapping.
        self.len -= n;
        self.shared = self.shared.saturating_sub(n);
        n
    }

    /// Drops our reference to pages `[keep, len)` (the mapping first);
    /// returns the number of pages released.
    pub(crate) fn truncate(&mut self, keep: usize) -> usize {
        if keep >= self.len {
            return 0;
        }
        self.map = None;
        let n = self.len - keep;
        for slot in &mut self.slots[keep..self.len] {
            // SAFETY: By the type invariants `*slot` is a valid page on which
            // we own one reference; it is dropped exactly once here and the
            // slot cleared.
            unsafe { ffi::seqsplice_put_page(*slot) };
            *slot = ptr::null_mut();
        }
        // INVARIANT: `[0, keep)` are kept, the rest is NULL; the shared
        // prefix cannot be longer than the pages; no mapping.
        self.len = keep;
        self.shared = self.shared.min(keep);
        n
    }

    /// One more reference on held page `i`, for a pipe buffer: the page is
    /// shared from now on (never written or mapped again) and the mapping
    /// goes first. `None` past the end or when the page already has
    /// `SEQSPLICE_PAGE_REF_MAX` (2^30) references: far below a wrap, which
    /// 6.12's `try_get_page()` (the pipe's own `->get`) only refuses once it
    /// happened, with a WARN.
    pub(crate) fn give(&mut self, i: usize) -> Option<PageRef> {
        let p = *self.slots[..self.len].get(i)?;
        // INVARIANT: shared from before its reference exists; mapped pages
        // are never shared, so the mapping goes.
        self.map = None;
        self.shared = self.shared.max(i + 1);
        // SAFETY: By the type invariants `p` is a valid page we hold a
        // reference on.
        if !unsafe { ffi::seqsplice_try_get_page(p) } {
            return None;
        }
        // INVARIANT: the reference just taken belongs to the new value.
        Some(PageRef(p))
    }

    /// A borrow of held page `i`, to read from; `None` past the end.
    pub(crate) fn page(&self, i: usize) -> Option<PageView<'_>> {
        let &page = self.slots[..self.len].get(i)?;
        // INVARIANT: a held page (type invariants), borrowed with the set.
        Some(PageView {
            page,
            _set: core::marker::PhantomData,
        })
    }

    /// Maps pages `[0, n)` (replacing the mapping there is): `EBUSY` when a
    /// page is shared (nothing shared may be mapped, for writing), `EINVAL`
    /// for none or more than are held, `ENOMEM` when the mapping fails.
    /// [`MapKind::Direct`] maps one page.
    pub(crate) fn map(&mut self, n: usize, kind: MapKind) -> Result<&VMap> {
        if self.shared > 0 {
            return Err(EBUSY);
        }
        self.map = None;
        let pages = self.slots[..self.len].get(..n).ok_or(EINVAL)?;
        // SAFETY: `pages` are held pages (type invariants), kept until the
        // mapping goes: every method that releases a page drops it first,
        // and so does `drop`.
        let map = unsafe { VMap::new(pages, kind) }?;
        // INVARIANT: held, clean pages (nothing is shared).
        Ok(self.map.insert(map))
    }

    /// The mapping, if any.
    pub(crate) fn mapping(&self) -> Option<&VMap> {
        self.map.as_ref()
    }

    /// Runs `f` with a writer pointing `m` at clean pages of this set:
    /// `m->buf` points at nothing before and after, and only at the
    /// mapping or at pages nothing shares in between.
    pub(crate) fn write_with<R>(
        &mut self,
        m: &OwnSeqFile,
        f: impl FnOnce(&mut PageWriter<'_>) -> R,
    ) -> R {
        m.clear_buf();
        // INVARIANT: `m->buf` is NULL.
        let mut w = PageWriter { m, set: self };
        let r = f(&mut w);
        w.m.clear_buf();
        r
    }
}

impl Drop for PageSet {
    fn drop(&mut self) {
        self.release_front(self.len);
    }
}

/// A seq_file pointed at clean memory of a [`PageSet`], lent to the
/// closure of [`PageSet::write_with`] only.
///
/// # Invariants
///
/// `m->buf` is NULL with `m->size == 0`, or points at `size` bytes of the
/// set's mapping, or at the direct-map address of held page `page` (a
/// page long) with `page >= set.shared`: memory of held pages that nothing
/// shares, which stays so while the set is borrowed here (nothing releases,
/// unmaps or gives a page through this value). `m` is shared (`&OwnSeqFile`
/// cannot be swapped or moved), so a writer of another set made inside the
/// closure may point `m->buf` at its own pages meanwhile: it points it at
/// nothing when it goes, before its set can be released, so `m->buf`
/// always points at nothing or into a set borrowed by a live writer.
pub(crate) struct PageWriter<'a> {
    m: &'a OwnSeqFile,
    set: &'a mut PageSet,
}

impl PageWriter<'_> {
    /// Points `m->buf` at bytes `[off, off + size)` of the mapping, clamped
    /// to it; returns the bytes it points at. `EINVAL` without a mapping.
    pub(crate) fn target_mapping(&mut self, off: usize, size: usize) -> Result<usize> {
        let map = self.set.map.as_ref().ok_or(EINVAL)?;
        let off = off.min(map.bytes());
        let size = size.min(map.bytes() - off);
        // SAFETY: `[off, off + size)` lies inside the live mapping, of clean
        // held pages (`PageSet` invariants), which the borrow of the set
        // keeps so until `write_with` points `m->buf` at nothing again.
        unsafe { self.m.set_buf(map.addr().add(off), size) };
        // INVARIANT: the mapping, `size` bytes.
        Ok(size)
    }

    /// Points `m->buf` at the direct-map address of held page `i`, a page
    /// long: `EBUSY` for a shared page, `EINVAL` past the end.
    pub(crate) fn target_page(&mut self, i: usize) -> Result {
        if i < self.set.shared {
            return Err(EBUSY);
        }
        let &page = self.set.slots[..self.set.len].get(i).ok_or(EINVAL)?;
        // SAFETY: `page` is held (`PageSet` invariants); on x86-64 without
        // highmem it has a direct-map address for as long as it lives.
        let addr = unsafe { ffi::seqsplice_page_address(page) }.cast::<u8>();
        if addr.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: A page long at the address of a held page nothing shares
        // (checked above), kept so by the borrow of the set until
        // `write_with` points `m->buf` at nothing again.
        unsafe { self.m.set_buf(addr, PAGE_SIZE) };
        // INVARIANT: a clean held page, a page long.
        Ok(())
    }
}

impl core::ops::Deref for PageWriter<'_> {
    type Target = OwnSeqFile;

    fn deref(&self) -> &OwnSeqFile {
        self.m
    }
}

/// A page held by a [`PageSet`], borrowed from it: alive while the borrow
/// lasts.
///
/// # Invariants
///
/// `page` is a valid page the borrowed set holds a reference on.
#[derive(Clone, Copy)]
pub(crate) struct PageView<'a> {
    page: *mut bindings::page,
    _set: core::marker::PhantomData<&'a PageSet>,
}

impl PageView<'_> {
    /// The page, valid while the borrow lasts.
    pub(super) fn as_ptr(&self) -> *mut bindings::page {
        self.page
    }
}

/// One reference on a page, to hand over to a pipe buffer.
///
/// # Invariants
///
/// The pointer is a valid page on which this value owns one reference.
pub(crate) struct PageRef(*mut bindings::page);

impl PageRef {
    /// Gives the reference up: the caller now owns it (a pipe buffer).
    pub(super) fn into_raw(self) -> *mut bindings::page {
        let p = self.0;
        core::mem::forget(self);
        p
    }
}

impl Drop for PageRef {
    fn drop(&mut self) {
        // SAFETY: By the type invariants we own one reference on the page.
        unsafe { ffi::seqsplice_put_page(self.0) };
    }
}
