// SPDX-License-Identifier: GPL-2.0

//! The engine: `seq_read_iter()`'s protocol over a buffer of vmapped pages,
//! and a `splice_read` that gives those pages to the pipe, for any
//! [`Source`] (static dispatch: one copy of this code per source type).
//!
//! Every function runs with the open locked ([`SeqGuard`](super::open::SeqGuard)
//! lends `m`, the source and the buffer). `m->from`,
//! `m->count`, `m->index` and `m->read_pos` mean what they mean to
//! `seq_read_iter()`; the buffer byte `b` holds the
//! file offset `read_pos - from + b` for all `b < from + count`.

use core::cell::Cell;
use core::sync::atomic::Ordering;

use kernel::bindings;
use kernel::prelude::*;

use super::buffer::{Direct, PageBuffer};
use super::layout::idle_release;
use super::source::{At, Show, Source};
use super::stats::STATS;
use super::window::{self, grow_after_overflow, rewind_from, Pacer, PAGE_SIZE};
use crate::kernel_ext::iov::IovDest;
use crate::kernel_ext::pipe::Pipe;
use crate::kernel_ext::sched;
use crate::kernel_ext::seq_file::OwnSeqFile;

/// Between records (every [`window::PACE_BYTES`] of output): yields the CPU if another task needs it (the kernel may
/// be built `PREEMPT_NONE`, and a regeneration can format 10^13 bytes) and
/// fails with `EINTR` when the task has a fatal signal. A non-fatal signal
/// does not interrupt, as for page cache reads (`filemap_read()`): the
/// module's calls do bounded work per byte delivered, and a regeneration
/// restarted on `-ERESTARTSYS` would begin again from the first record.
fn checkpoint() -> Result {
    sched::cond_resched();
    if sched::fatal_signal_pending() {
        STATS.interrupted.fetch_add(1, Ordering::Relaxed);
        return Err(EINTR);
    }
    Ok(())
}

/// Fills an empty window with records, at most `size` bytes (mapped),
/// stopping once `want` bytes are there, exactly like the fill loop of
/// `seq_read_iter()`: skip, empty records, rollback of the record that
/// overflows, growth when the first record does not fit. A splice's fill
/// in direct mode (`direct`: at most that many pages) puts the records page
/// by page through the direct map instead, and only a first record wider
/// than a page takes the mapped path. A `read()` maps (`direct` is `None`):
/// its `vmap()` is kept for the next `read()`, so it costs one mapping per
/// open, not per call, and copying out of it is one copy instead of one
/// per page (a direct `read()` measured 0.87–0.91× of this with 100-byte
/// raw records, below `trace_copy`'s with printf ones).
fn fill<S: Source>(
    m: &OwnSeqFile,
    src: &S,
    buf: &mut PageBuffer,
    want: usize,
    mut size: usize,
    direct: Option<usize>,
) -> Result {
    m.set_count(0);
    m.set_from(0);
    // Whether the fill ends on a record that did not fit (`drain`).
    let pending = Cell::new(false);
    if let Some(pages) = direct.filter(|&p| buf.map_mode().direct_for(p, S::RESHOW_AT_ONCE)) {
        if fill_direct(m, src, buf, want, pages, &pending)? {
            buf.set_pending(pending.get());
            return Ok(());
        }
        // Wider than a page: a mapping twice that, growing from there.
        size = size.max(2 * PAGE_SIZE);
    }
    let cap = buf.cap_bytes();
    let mut pace = Pacer::default();
    loop {
        let (mapped, first) = buf.map(m, size, |mp| {
            let first = first_record(mp, src, &mut pace).map(|first| match first {
                First::Record(cur) => {
                    pending.set(fill_rest(mp, src, cur, want));
                    First::End
                }
                other => other,
            });
            (mp.size(), first)
        })?;
        match first {
            Ok(First::Record(_) | First::End) => {
                buf.set_pending(pending.get());
                return Ok(());
            }
            Err(e) => {
                buf.set_pending(false);
                return Err(e);
            }
            // The first record does not fit: a bigger buffer, same record.
            Ok(First::TooWide) => {}
        }
        // Until it is shown, the record that did not fit may be kept.
        buf.set_pending(true);
        checkpoint()?;
        size = grow_after_overflow(size, mapped, cap).ok_or(ENOMEM)?;
        STATS.grows.fetch_add(1, Ordering::Relaxed);
    }
}

/// What the first record of a fill came to.
enum First<C> {
    /// Shown, and it fits: the source is started at it.
    Record(C),
    /// No record (the end); the source is stopped.
    End,
    /// It does not fit the empty buffer; the source is stopped, and starts
    /// at it again.
    TooWide,
}

/// The first record of a fill into the empty window `m` (a mapping or a
/// direct page), `seq_read_iter()`'s first loop: skipped and empty records
/// are passed over, an error stops the source. Every
/// [`window::PACE_BYTES`] of them the source is stopped, the task
/// reschedules and looks for a fatal signal, and the source is started
/// again where it was (nothing sleeps between `start` and `stop`). On
/// anything but [`First::Record`] the window is empty again and the source
/// stopped.
fn first_record<S: Source>(m: &OwnSeqFile, src: &S, pace: &mut Pacer) -> Result<First<S::Cursor>> {
    let mut at = src.start(m);
    loop {
        let cur = match at {
            Ok(Some(c)) => c,
            other => {
                src.stop(m, &other);
                m.set_count(0);
                return other.map(|_| First::End);
            }
        };
        let shown = match src.show(m, &cur) {
            Ok(s) => s,
            Err(e) => {
                src.stop(m, &Ok(Some(cur)));
                m.set_count(0);
                return Err(e);
            }
        };
        if shown == Show::Skip {
            m.set_count(0);
        }
        if m.count() == 0 {
            let pos = m.index();
            at = src.next(m, cur);
            if pos == m.index() {
                // As the second loop (and so that a restart moves on).
                m.set_index(pos + 1);
            }
            if pace.tick(0) && matches!(at, Ok(Some(_))) {
                src.stop(m, &at);
                checkpoint()?;
                at = src.start(m);
            }
            continue;
        }
        if !m.overflowed() {
            return Ok(First::Record(cur));
        }
        src.stop(m, &Ok(Some(cur)));
        m.set_count(0);
        return Ok(First::TooWide);
    }
}

/// A fill in direct mode, into at most `pages` pages: true when done (or at
/// the end of the records), false when the first record does not fit a
/// page, so that the caller takes the mapped path with the window still
/// empty and the source where it was.
fn fill_direct<S: Source>(
    m: &OwnSeqFile,
    src: &S,
    buf: &mut PageBuffer,
    want: usize,
    pages: usize,
    pending: &Cell<bool>,
) -> Result<bool> {
    // Every page the fill may use is allocated before the source starts.
    buf.direct_writer(m, pages.max(1), |w| {
        // The first record is on the writer's first page: an empty window
        // there is the writer's starting state.
        match first_record(w, src, &mut Pacer::default())? {
            First::Record(cur) => {
                pending.set(fill_rest_direct(w, src, cur, want));
                Ok(true)
            }
            First::End => Ok(true),
            First::TooWide => Ok(false),
        }
    })?
}

/// After record `cur` overflowed the rest of a page: moves to the next
/// page and returns the record to show there. The record is `cur` itself,
/// shown again at once, when the source allows it
/// ([`Source::RESHOW_AT_ONCE`]); otherwise the source is stopped and
/// started again at `m->index` (`cur`'s), as `seq_read_iter()` does
/// between two calls. `Err` with where the iteration stands (for its
/// `stop`) when no page is left (the source then stops at `cur`, which
/// starts the next fill) or the restarted source has no record.
fn reshow<S: Source>(
    w: &mut Direct<'_, '_>,
    src: &S,
    cur: S::Cursor,
) -> core::result::Result<S::Cursor, At<S::Cursor>> {
    if !w.next_page() {
        return Err(Ok(Some(cur)));
    }
    if S::RESHOW_AT_ONCE {
        return Ok(cur);
    }
    src.stop(w, &Ok(Some(cur)));
    STATS.restarts.fetch_add(1, Ordering::Relaxed);
    match src.start(w) {
        Ok(Some(c)) => Ok(c),
        other => Err(other),
    }
}

/// Output a C table (a source that may not show a record again at once)
/// formats between its `start` and `stop` at most, unless one record is
/// bigger: the engine stops it, reschedules and starts it again, so that a
/// table holding a spinlock from `->start` to `->stop` holds it for that
/// long at most (`seq_read_iter()` holds it for its buffer, a page unless
/// a record grew it).
const C_PACE_BYTES: usize = window::PACE_BYTES;

/// Stops a C table at record `cur` after [`C_PACE_BYTES`] of output,
/// reschedules, looks for a fatal signal and starts it again: the record to
/// go on with, or `Err` with where the iteration stands (`Ok(None)` with
/// the source already stopped on a fatal signal).
fn pace_table<S: Source>(
    m: &OwnSeqFile,
    src: &S,
    cur: S::Cursor,
) -> core::result::Result<S::Cursor, (At<S::Cursor>, bool)> {
    src.stop(m, &Ok(Some(cur)));
    if checkpoint().is_err() {
        return Err((Ok(None), true));
    }
    match src.start(m) {
        Ok(Some(c)) => Ok(c),
        other => Err((other, false)),
    }
}

/// The rest of a direct fill or append after record `cur` was shown: as
/// [`fill_rest`], but the record that does not fit the rest of a page is
/// shown again at the start of the next page ([`reshow`]), until `want`
/// bytes or the last page. A record wider than a page ends the fill: it
/// starts the next one, which maps. True when the source stopped on a
/// record that did not fit (`drain`).
fn fill_rest_direct<S: Source>(
    w: &mut Direct<'_, '_>,
    src: &S,
    cur: S::Cursor,
    want: usize,
) -> bool {
    let mut cur = cur;
    let mut pending = false;
    let at = loop {
        let offs = w.count();
        let pos = w.index();
        let next = src.next(w, cur);
        if pos == w.index() {
            w.set_index(pos + 1);
        }
        let c = match next {
            Ok(Some(c)) if w.total() < want => c,
            other => break other,
        };
        match src.show(w, &c) {
            Ok(Show::Skip) => {
                w.set_count(offs);
                cur = c;
            }
            Ok(Show::Record) if !w.overflowed() => cur = c,
            Ok(Show::Record) => {
                // The rest of this page is too short: the next page.
                w.set_count(offs);
                pending = true;
                let c = match reshow(w, src, c) {
                    Ok(c) => c,
                    Err(at) => break at,
                };
                match src.show(w, &c) {
                    Ok(Show::Skip) => {
                        w.set_count(0);
                        cur = c;
                    }
                    Ok(Show::Record) if !w.overflowed() => cur = c,
                    _ => {
                        w.set_count(0);
                        break Ok(Some(c));
                    }
                }
                pending = false;
            }
            Err(_) => {
                w.set_count(offs);
                break Ok(Some(c));
            }
        }
    };
    src.stop(w, &at);
    STATS.fills.fetch_add(1, Ordering::Relaxed);
    STATS.direct_fills.fetch_add(1, Ordering::Relaxed);
    pending
}

/// The rest of a fill after record `cur` was shown (`seq_read_iter()`'s
/// second loop): more records until `want` bytes or the one that
/// overflows, which is rolled back and shown again by the next fill. No
/// checkpoint for a Rust source: the loop ends at `want` bytes, at most
/// the open's 16 MiB, and its callers check between fills. (A check every
/// 64 records cost 2 % of the emulated instruction count of 100-byte
/// records, a byte count per record 7 %.) A C table is paced every
/// [`C_PACE_BYTES`] ([`pace_table`]): the same compare as the one against
/// `want`, so it costs nothing per record.
///
/// True when the source stopped on a record that did not fit (`drain`).
fn fill_rest<S: Source>(m: &OwnSeqFile, src: &S, cur: S::Cursor, want: usize) -> bool {
    let pace_every = if S::RESHOW_AT_ONCE {
        usize::MAX
    } else {
        C_PACE_BYTES
    };
    // Where the loop stops to look: `want`, or before it a C table's pace.
    let mut limit = want.min(m.count().saturating_add(pace_every));
    let mut cur = cur;
    let mut pending = false;
    let at = loop {
        let offs = m.count();
        let pos = m.index();
        let next = src.next(m, cur);
        if pos == m.index() {
            m.set_index(pos + 1);
        }
        let c = match next {
            Ok(Some(c)) if m.count() < limit => c,
            Ok(Some(c)) if m.count() < want => {
                // A C table's iteration is as long as this at most.
                limit = want.min(m.count().saturating_add(pace_every));
                match pace_table(m, src, c) {
                    Ok(c) => c,
                    Err((_, true)) => {
                        STATS.fills.fetch_add(1, Ordering::Relaxed);
                        return false;
                    }
                    Err((at, false)) => break at,
                }
            }
            other => break other,
        };
        match src.show(m, &c) {
            Ok(Show::Skip) => m.set_count(offs),
            Ok(Show::Record) if !m.overflowed() => {}
            _ => {
                m.set_count(offs);
                pending = true;
                break Ok(Some(c));
            }
        }
        cur = c;
    };
    src.stop(m, &at);
    STATS.fills.fetch_add(1, Ordering::Relaxed);
    pending
}

/// Appends records behind a window that lies in pages no pipe holds, up to
/// `want` bytes of window in at most `size` bytes: a splice into a small
/// pipe then gives whole pages instead of a page of leftover plus a fresh
/// page of records. Pages already given to a pipe are dropped first.
fn append<S: Source>(
    m: &OwnSeqFile,
    src: &S,
    buf: &mut PageBuffer,
    want: usize,
    size: usize,
    pages: usize,
) -> Result {
    // No more pages than the open's buffer, whatever the pipe could take.
    let pages = pages.min(buf.buf_pages()).max(1);
    let want = want.min(pages * PAGE_SIZE);
    let size = size.min(want + PAGE_SIZE);
    // A window laid out page by page can only be appended to page by page.
    if buf.map_mode().direct_for(pages, S::RESHOW_AT_ONCE)
        || !buf.window_is_flat(m.from(), m.count())
    {
        return append_direct(m, src, buf, want, pages);
    }
    let pending = buf.map_window(m, size, |mp| {
        let cur = match src.start(mp) {
            Ok(Some(c)) => c,
            other => {
                src.stop(mp, &other);
                return false;
            }
        };
        let offs = mp.count();
        match src.show(mp, &cur) {
            Ok(Show::Skip) => mp.set_count(offs),
            Ok(Show::Record) if !mp.overflowed() => {}
            _ => {
                // No room for this record: it starts the next fill.
                mp.set_count(offs);
                src.stop(mp, &Ok(Some(cur)));
                return true;
            }
        }
        fill_rest(mp, src, cur, want)
    })?;
    buf.set_pending(pending);
    Ok(())
}

/// [`append`] in direct mode: records behind the window on pages below
/// `pages`, through the direct map.
fn append_direct<S: Source>(
    m: &OwnSeqFile,
    src: &S,
    buf: &mut PageBuffer,
    want: usize,
    pages: usize,
) -> Result {
    let pending = buf.direct_writer(m, pages, |w| {
        let cur = match src.start(w) {
            Ok(Some(c)) => c,
            other => {
                src.stop(w, &other);
                return false;
            }
        };
        let offs = w.count();
        // The first record, behind the window or at the next page's start;
        // `Err` with where the iteration stands when it has no room.
        let first = match src.show(w, &cur) {
            Ok(Show::Skip) => {
                w.set_count(offs);
                Ok(cur)
            }
            Ok(Show::Record) if !w.overflowed() => Ok(cur),
            Ok(Show::Record) => {
                // Not in the rest of the window's last page: the next page.
                w.set_count(offs);
                match reshow(w, src, cur) {
                    Ok(c) if matches!(src.show(w, &c), Ok(Show::Record) if !w.overflowed()) => {
                        Ok(c)
                    }
                    Ok(c) => Err(Ok(Some(c))),
                    Err(at) => Err(at),
                }
            }
            Err(_) => Err(Ok(Some(cur))),
        };
        match first {
            Ok(cur) => fill_rest_direct(w, src, cur, want),
            Err(at) => {
                // No room for this record: it starts the next fill.
                w.reset();
                src.stop(w, &at);
                true
            }
        }
    })?;
    buf.set_pending(pending);
    Ok(())
}

/// Regenerates up to `offset` on clean pages, as `traverse()` in
/// fs/seq_file.c, rescheduling and checking for fatal signals between
/// records. A record that does not fit grows the buffer, at most to the
/// open's cap; when the buffer got fewer pages than asked, `ENOMEM`.
fn traverse<S: Source>(m: &OwnSeqFile, src: &S, buf: &mut PageBuffer, offset: u64) -> Result {
    m.set_index(0);
    m.set_count(0);
    m.set_from(0);
    buf.discard_gifted();
    if offset == 0 {
        return Ok(());
    }
    STATS.regenerations.fetch_add(1, Ordering::Relaxed);
    let cap = buf.cap_bytes();
    let mut size = PAGE_SIZE;
    let mut pace = Pacer::default();
    // Bytes before `m->index`'s record: kept across a growth, which goes
    // on at the record that did not fit rather than from the first (a C
    // table that kept that record to show again, as ftrace's `s_show()`
    // does in `iter->seq`, would otherwise print it in front of record 0's
    // successors: `s_start()` at another position does not clear it).
    let mut pos: u64 = 0;
    loop {
        let (mapped, overflow, result) = buf.map(m, size, |mp| {
            let mut at = src.start(mp);
            let mut result = Ok(());
            let mut overflow = false;
            let mut stopped = false;
            // As traverse(): an error of `start` or `next` fails the seek
            // only if it comes before the offset is reached.
            let last = loop {
                let cur = match at {
                    Ok(Some(c)) => c,
                    Err(e) => {
                        result = Err(e);
                        break Err(e);
                    }
                    Ok(None) => break Ok(None),
                };
                match src.show(mp, &cur) {
                    Err(e) => {
                        result = Err(e);
                        break Ok(Some(cur));
                    }
                    Ok(Show::Skip) => mp.set_count(0),
                    Ok(Show::Record) => {}
                }
                if mp.overflowed() {
                    overflow = true;
                    break Ok(Some(cur));
                }
                let index = mp.index();
                let next = src.next(mp, cur);
                if index == mp.index() {
                    // So that a restart below moves on.
                    mp.set_index(index + 1);
                }
                let count = mp.count() as u64;
                if pos + count > offset {
                    let from = (offset - pos) as usize;
                    mp.set_from(from);
                    mp.set_count(count as usize - from);
                    break next;
                }
                pos += count;
                mp.set_count(0);
                if pos == offset {
                    break next;
                }
                // Between records, every so often: stop, yield, start
                // again at `m->index` (nothing sleeps inside the source).
                if pace.tick(count as usize) && matches!(next, Ok(Some(_))) {
                    src.stop(mp, &next);
                    if let Err(e) = checkpoint() {
                        result = Err(e);
                        stopped = true;
                        break Ok(None);
                    }
                    at = src.start(mp);
                } else {
                    at = next;
                }
            };
            if !stopped {
                src.stop(mp, &last);
            }
            if overflow {
                // The next try starts at this record, `pos` bytes in.
                mp.set_count(0);
            }
            (mp.size(), overflow, result)
        })?;
        buf.set_pending(overflow);
        if overflow {
            size = grow_after_overflow(size, mapped, cap).ok_or(ENOMEM)?;
            STATS.grows.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        return result;
    }
}

/// Brings the window to file offset `pos` (as `seq_read_iter()` does): offset 0
/// restarts; an offset inside the held, already delivered data (sendfile's
/// rewind, `splice_direct_to_actor()`) moves the window back without writing
/// anything; any other offset regenerates.
/// Before the iteration of a C table restarts elsewhere (a seek): the
/// table may still hold the record at `m->index`, shown into a buffer too
/// small for it and kept to be shown again (ftrace's `s_show()` keeps it in
/// `iter->seq`, and `s_start()` at another position does not clear it: its
/// next line would come out after that stale one, as it does through the
/// stock core). Shows that record once into clean pages and drops it. Not
/// for a source that may show a record again at once (the Rust sources
/// keep nothing), nor before anything was iterated. The window is the
/// caller's to discard.
fn drain<S: Source>(m: &OwnSeqFile, src: &S, buf: &mut PageBuffer) -> Result {
    if S::RESHOW_AT_ONCE || !buf.pending() {
        return Ok(());
    }
    m.set_count(0);
    m.set_from(0);
    let cap = buf.cap_bytes();
    let mut size = 2 * PAGE_SIZE;
    let mut pace = Pacer::default();
    loop {
        let (mapped, wide) = buf.map(m, size, |mp| {
            let wide = match first_record(mp, src, &mut pace) {
                Ok(First::Record(cur)) => {
                    src.stop(mp, &Ok(Some(cur)));
                    Ok(false)
                }
                Ok(First::End) => Ok(false),
                Ok(First::TooWide) => Ok(true),
                Err(e) => Err(e),
            };
            mp.set_count(0);
            (mp.size(), wide)
        })?;
        match wide {
            Ok(false) => {}
            Ok(true) => {
                size = grow_after_overflow(size, mapped, cap).ok_or(ENOMEM)?;
                continue;
            }
            // Worth another try later.
            Err(e) if e == EINTR || e == ENOMEM => return Err(e),
            // The table will not show it (its ->start or ->show fails
            // there now): nothing more to do about it.
            Err(_) => {}
        }
        buf.set_pending(false);
        STATS.drains.fetch_add(1, Ordering::Relaxed);
        return Ok(());
    }
}

fn seek<S: Source>(l: &OwnSeqFile, src: &S, tb: &mut PageBuffer, pos: i64) -> Result {
    if pos == 0 {
        drain(l, src, tb)?;
        l.set_index(0);
        l.set_count(0);
    }
    let read_pos = l.read_pos();
    if pos == read_pos {
        return Ok(());
    }
    if pos > 0 && read_pos > 0 {
        if let Some(from) = rewind_from(pos as u64, read_pos as u64, l.from()) {
            let back = l.from() - from;
            l.set_count(l.count() + back);
            l.set_from(from);
            l.set_read_pos(pos);
            STATS.rewinds.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
    }
    match drain(l, src, tb).and_then(|()| traverse(l, src, tb, pos as u64)) {
        Ok(()) => {
            l.set_read_pos(pos);
            Ok(())
        }
        Err(e) => {
            // With prejudice, as seq_read_iter; and the pages go, so that an
            // open that failed (the cap, a fatal signal) holds nothing.
            l.set_read_pos(0);
            l.set_index(0);
            l.set_count(0);
            l.set_from(0);
            tb.release();
            Err(e)
        }
    }
}

/// `->read_iter` of a gift file: `seq_read_iter()` over the page buffer.
pub(crate) fn read_iter<S: Source>(
    l: &OwnSeqFile,
    src: &S,
    tb: &mut PageBuffer,
    pos: &mut i64,
    dest: &mut IovDest<'_>,
) -> Result<usize> {
    let want = dest.count();
    // As seq_read_iter(): an empty read touches nothing.
    if want == 0 {
        return Ok(0);
    }
    seek(l, src, tb, *pos)?;
    let mut copied = 0;
    if l.count() > 0 {
        let n = tb.copy_out(l.from(), l.count(), dest);
        l.set_count(l.count() - n);
        l.set_from(l.from() + n);
        copied += n;
        if l.count() > 0 {
            return finish_read(l, pos, copied);
        }
    }
    // One page more than asked for, as a big seq buffer gives: the fill can
    // run past `want` to the end of a record (a record that ends exactly at
    // the end of the buffer counts as an overflow, `seq_has_overflowed()`), so a
    // read returns all it asked for instead of stopping a record short.
    let pages = window::read_fill_pages(want, tb.buf_pages());
    if let Err(e) = fill(l, src, tb, want - copied, pages * PAGE_SIZE, None) {
        if copied == 0 {
            // The window is empty (fill's contract): give the pages back.
            tb.release();
            return Err(e);
        }
        return finish_read(l, pos, copied);
    }
    let n = tb.copy_out(0, l.count(), dest);
    l.set_count(l.count() - n);
    l.set_from(n);
    copied += n;
    finish_read(l, pos, copied)
}

fn finish_read(l: &OwnSeqFile, pos: &mut i64, copied: usize) -> Result<usize> {
    if copied == 0 {
        return if l.count() > 0 { Err(EFAULT) } else { Ok(0) };
    }
    *pos += copied as i64;
    l.set_read_pos(l.read_pos() + copied as i64);
    STATS.bytes_read.fetch_add(copied as u64, Ordering::Relaxed);
    Ok(copied)
}

/// Gives the window's pages to the pipe: at most `len` bytes and `slots`
/// buffers. Returns the bytes inserted, the slots used and the error that
/// stopped it, if any.
fn gift(
    l: &OwnSeqFile,
    tb: &mut PageBuffer,
    pipe: &mut Pipe,
    len: usize,
    slots: usize,
) -> (usize, usize, Option<Error>) {
    if tb.page_of(l.from()) < tb.gifted() {
        STATS.tail_continuations.fetch_add(1, Ordering::Relaxed);
    }
    // Unmaps; each page is marked gifted before its reference exists.
    let (done, used, err) = tb
        .gifter()
        .give(l.from(), l.count(), len, slots, |page, seg| {
            pipe.add(page, seg.offset, seg.len)?;
            STATS.pages_gifted.fetch_add(1, Ordering::Relaxed);
            Ok(())
        });
    l.set_from(l.from() + done);
    l.set_count(l.count() - done);
    l.set_read_pos(l.read_pos() + done as i64);
    (done, used, err)
}

/// `->splice_read` of a gift file: deliver what is left of the window, then fill
/// clean pages with at most what the pipe can still take, unmap, and give
/// the pages holding the data to the pipe, until `len` bytes or the pipe's
/// free slots are used up.
pub(crate) fn splice_read<S: Source>(
    l: &OwnSeqFile,
    src: &S,
    tb: &mut PageBuffer,
    pos: &mut i64,
    pipe: &mut Pipe,
    len: usize,
) -> Result<usize> {
    if len == 0 {
        return Ok(0);
    }
    seek(l, src, tb, *pos)?;
    let mut slots = pipe.free_slots();
    let mut done = 0;
    let mut err = None;
    while done < len && slots > 0 {
        // Between fills (each at most the open's buffer): the loop may run
        // as many as the pipe has slots.
        if done > 0 && checkpoint().is_err() {
            break;
        }
        // sendfile's pipe (`splice_direct_to_actor()`) may rewind into
        // what this call delivered after a short write: a fill or an
        // append would drop those pages (`discard_gifted()`) and the rewind
        // regenerate from the first record. The call ends instead; the
        // actor asks again for the rest.
        if done > 0 && pipe.is_direct() {
            break;
        }
        if l.count() == 0 {
            let target = window::splice_fill_target(len - done, slots, tb.buf_pages());
            // A page more than the pipe can take: the record that crosses
            // the last page the pipe takes is finished in a page of slack,
            // which no pipe holds, and the next call appends behind it.
            let pages = target / PAGE_SIZE;
            if let Err(e) = fill(l, src, tb, target, target + PAGE_SIZE, Some(pages)) {
                err = Some(e);
                break;
            }
            if l.count() == 0 {
                break;
            }
        } else {
            let (first, offset) = tb.locate(l.from());
            if first >= tb.gifted() {
                let want = window::append_target(offset, len - done, slots);
                // Best effort: on failure the window is intact and goes as is.
                if want > l.count() && append(l, src, tb, want, want + PAGE_SIZE, slots).is_ok() {
                    STATS.appends.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        let (n, used, e) = gift(l, tb, pipe, len - done, slots);
        done += n;
        slots -= used;
        if e.is_some() {
            err = e;
            break;
        }
        if n == 0 {
            // Nothing left to give (bounds the loop).
            break;
        }
    }
    if !pipe.is_direct() {
        release_delivered(l, tb);
    }
    if done == 0 {
        // Nothing at EOF is 0; an error with nothing delivered is the error.
        return err.map_or(Ok(0), Err);
    }
    *pos += done as i64;
    STATS
        .bytes_spliced
        .fetch_add(done as u64, Ordering::Relaxed);
    Ok(done)
}

/// Drops the pages a splice delivered, unless a rewind may ask for them
/// again (only sendfile's direct-splice pipe rewinds, on a short write:
/// `splice_direct_to_actor()`), and the clean pages past the window, so an
/// idle open holds no page the pipes already hold or no data needs, using
/// up the global cap. An empty window gives up every page and the delivered
/// data (a later call at an earlier offset regenerates).
fn release_delivered(l: &OwnSeqFile, tb: &mut PageBuffer) {
    let (front, keep) = idle_release(tb.lens(), l.from(), l.count());
    let held = tb.held();
    if front > 0 || front + keep < held {
        tb.truncate(front + keep);
        let shift = tb.release_front(front);
        l.set_from(l.from() - shift);
        STATS.idle_releases.fetch_add(1, Ordering::Relaxed);
    }
    if l.count() == 0 {
        // Nothing held: a rewind must regenerate.
        l.set_from(0);
    }
}

/// `->llseek` of a gift file: `seq_lseek()` semantics. `f_pos` is the file's
/// position now; returns what to store there (if anything) and the result.
pub(crate) fn llseek<S: Source>(
    l: &OwnSeqFile,
    src: &S,
    tb: &mut PageBuffer,
    f_pos: i64,
    offset: i64,
    whence: u32,
) -> (Option<i64>, Result<i64>) {
    let offset = match whence {
        bindings::SEEK_SET => offset,
        bindings::SEEK_CUR => match offset.checked_add(f_pos) {
            Some(o) => o,
            None => return (None, Err(EINVAL)),
        },
        _ => return (None, Err(EINVAL)),
    };
    if offset < 0 {
        return (None, Err(EINVAL));
    }
    if offset != l.read_pos() {
        if let Err(e) = seek(l, src, tb, offset) {
            // As seq_lseek: the position is lost with the window.
            return (Some(0), Err(e));
        }
    }
    (Some(offset), Ok(offset))
}
