// SPDX-License-Identifier: GPL-2.0

//! The record source of `events` and `events_copy`: the ring buffer's
//! events, CPUs merged by timestamp, iterated without consuming, as ftrace's
//! `trace` file does (`s_start()`/`s_next()`/`__find_next_entry()` in
//! kernel/trace/trace.c). Recording is paused while the source lives.

use core::mem::size_of;

use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::Mutex;

use super::capture::ReaderTicket;
use super::entry::{self, Entry, Line};
use crate::engine::pages::MetaCharge;
use crate::engine::source::{At, Index, Show, Source};
use crate::engine::window::PAGE_SIZE;
use crate::kernel_ext::ring_buffer::Iter;
use crate::kernel_ext::sched::{cond_resched, fatal_signal_pending, nr_cpu_ids};
use crate::kernel_ext::seq_file::SeqFile;
use crate::sources::trace::knobs::Snapshot;

/// Records stepped over between two `cond_resched()` (and fatal signal
/// checks) when a seek walks the buffer.
const RESCHED_EVERY: u64 = 1024;

/// What a `struct ring_buffer_iter` takes, at most (charged per CPU with
/// its page-sized event copy).
const ITER_BYTES: usize = 256;

/// One CPU's iterator and the event at it.
struct Cpu {
    iter: Iter<Entry>,
    cpu: u32,
    head: Option<(u64, Entry)>,
}

impl Cpu {
    fn refill(&mut self) {
        self.head = self.iter.peek();
    }
}

/// Where the iteration stands.
struct Cursor {
    cpus: KVec<Cpu>,
    /// The record index of the event at `cur`.
    pos: i64,
    /// The CPU (index in `cpus`) whose head is the oldest: the record at
    /// `pos`, or `None` past the last.
    cur: Option<usize>,
}

impl Cursor {
    /// `__find_next_entry()`: the CPU with the oldest head (the first such
    /// CPU on equal timestamps).
    fn pick(&mut self) {
        let mut best: Option<(usize, u64)> = None;
        for (i, c) in self.cpus.iter().enumerate() {
            match (c.head, best) {
                (Some((ts, _)), Some((_, b))) if ts < b => best = Some((i, ts)),
                (Some((ts, _)), None) => best = Some((i, ts)),
                _ => {}
            }
        }
        self.cur = best.map(|(i, _)| i);
    }

    fn rewind(&mut self) {
        for c in self.cpus.iter_mut() {
            c.iter.reset();
            c.refill();
        }
        self.pos = 0;
        self.pick();
    }

    fn step(&mut self) {
        if let Some(c) = self.cur.and_then(|i| self.cpus.get_mut(i)) {
            c.iter.advance();
            c.refill();
            self.pos += 1;
            self.pick();
        }
    }

    /// Moves to record `want` (or past the end): forward from here, or from
    /// the start if `want` is behind. Bounded by the events in the buffer;
    /// yields every [`RESCHED_EVERY`] records and stops with `EINTR` on a
    /// fatal signal.
    fn seek(&mut self, want: i64) -> Result {
        if want < self.pos {
            self.rewind();
        }
        let mut n = 0u64;
        while self.pos < want && self.cur.is_some() {
            self.step();
            n += 1;
            if n % RESCHED_EVERY == 0 {
                if fatal_signal_pending() {
                    return Err(EINTR);
                }
                cond_resched();
            }
        }
        Ok(())
    }

    fn at(&self) -> Option<Index> {
        self.cur.map(|_| Index)
    }
}

/// The events of one open.
///
/// Field order is drop order: the iterators go before the ticket (the
/// pause and the reader count).
pub(crate) struct EventsSource {
    /// The knobs at open (page buffer configuration of `events`).
    pub(crate) knobs: Snapshot,
    cursor: Pin<KBox<Mutex<Cursor>>>,
    /// The global cap's charge for the iterators (a page each for the copy
    /// of an event `ring_buffer_read_start()` allocates, the iterator itself)
    /// and their array.
    _charge: MetaCharge,
    /// The reader count and the pause (none before the first capture: no
    /// buffer, no events).
    _ticket: ReaderTicket,
}

impl EventsSource {
    /// An iterator on every CPU of the buffer `ticket` paused (and waited
    /// for running probes on), charged to the global cap (`ENOMEM` when it
    /// has no room).
    pub(crate) fn new(knobs: Snapshot, ticket: ReaderTicket) -> Result<Self> {
        let n = nr_cpu_ids();
        let (charge, mut cpus) = match ticket.paused() {
            Some(_) => (
                MetaCharge::new(n as usize * (PAGE_SIZE + ITER_BYTES + size_of::<Cpu>()))?,
                KVec::with_capacity(n as usize, GFP_KERNEL)?,
            ),
            None => (MetaCharge::none(), KVec::new()),
        };
        for cpu in 0..n {
            let Some(p) = ticket.paused() else {
                break;
            };
            if let Some(iter) = p.iter(cpu)? {
                let mut c = Cpu {
                    iter,
                    cpu,
                    head: None,
                };
                c.refill();
                cpus.push(c, GFP_KERNEL)?;
            }
        }
        let mut cur = Cursor {
            cpus,
            pos: 0,
            cur: None,
        };
        cur.pick();
        Ok(Self {
            knobs,
            cursor: KBox::pin_init(new_mutex!(cur), GFP_KERNEL)?,
            _charge: charge,
            _ticket: ticket,
        })
    }
}

impl Source for EventsSource {
    /// `show` consumes nothing and `start` takes no lock `show` needs.
    const RESHOW_AT_ONCE: bool = true;

    type Cursor = Index;

    fn start(&self, m: &SeqFile) -> At<Index> {
        let mut c = self.cursor.lock();
        c.seek(m.index())?;
        Ok(c.at())
    }

    fn next(&self, m: &SeqFile, _cur: Index) -> At<Index> {
        let want = m.index() + 1;
        m.set_index(want);
        let mut c = self.cursor.lock();
        c.seek(want)?;
        Ok(c.at())
    }

    /// Formats the event at the cursor; consumes nothing (shown again after
    /// an overflow).
    fn show(&self, m: &SeqFile, _cur: &Index) -> Result<Show> {
        let mut c = self.cursor.lock();
        c.seek(m.index())?;
        let Some(cpu) = c.cur.and_then(|i| c.cpus.get(i)) else {
            return Ok(Show::Skip);
        };
        let Some((ts, e)) = cpu.head else {
            return Ok(Show::Skip);
        };
        let mut line = Line::new();
        if !entry::format(&mut line, &e, cpu.cpu, ts) {
            return Ok(Show::Skip);
        }
        // A line never exceeds `MAX_LINE` (`entry::MAX_LINE`'s arithmetic).
        m.write(line.bytes().ok_or(EINVAL)?);
        Ok(Show::Record)
    }
}
