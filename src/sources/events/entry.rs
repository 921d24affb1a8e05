// SPDX-License-Identifier: GPL-2.0

//! The binary entry the probes write and the text line `events` shows for
//! it, exactly as ftrace's `trace` file prints the same event with its
//! default options: pure, no kernel types (host-tested).
//!
//! The line is `trace_print_context()` (kernel/trace/trace_output.c): the
//! comm column (`%16s`), `-%-7d` pid, `[%03d]` CPU, the five irq/preempt
//! flags of `trace_print_lat_fmt()`, ` %5lu.%06lu` microsecond time
//! (`trace_print_time()`), then `name: ` and the event's `TP_printk()` of
//! include/trace/events/sched.h.

/// An entry's `kind`: `sched_switch`.
pub(crate) const KIND_SWITCH: u8 = 1;
/// An entry's `kind`: `sched_wakeup`.
pub(crate) const KIND_WAKEUP: u8 = 2;

/// `TASK_COMM_LEN`.
pub(crate) const COMM_LEN: usize = 16;

/// One event as the probes record it (`ring_buffer_write()` copies it).
///
/// `a` is `sched_switch`'s prev (or `sched_wakeup`'s woken task), `b` its
/// next (zero for a wakeup).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    /// [`KIND_SWITCH`] or [`KIND_WAKEUP`].
    pub(crate) kind: u8,
    /// `TRACE_FLAG_*` of the context (`trace_entry.flags`).
    pub(crate) flags: u8,
    /// Preempt depth (low nibble) and migrate-disable depth (high nibble),
    /// as `trace_entry.preempt_count`.
    pub(crate) preempt_count: u8,
    /// Padding.
    pub(crate) pad: u8,
    /// `current->pid`.
    pub(crate) pid: i32,
    /// `current->comm` at the event (ftrace looks it up at read time).
    pub(crate) comm: [u8; COMM_LEN],
    /// prev (switch) or the woken task (wakeup): comm, pid, prio.
    pub(crate) a_comm: [u8; COMM_LEN],
    /// As `a_comm`.
    pub(crate) a_pid: i32,
    /// As `a_comm`.
    pub(crate) a_prio: i32,
    /// next (switch only): comm, pid, prio.
    pub(crate) b_comm: [u8; COMM_LEN],
    /// As `b_comm`.
    pub(crate) b_pid: i32,
    /// As `b_comm`.
    pub(crate) b_prio: i32,
    /// `__trace_sched_switch_state()` of the switch.
    pub(crate) prev_state: u32,
    /// `task_cpu()` of the woken task.
    pub(crate) target_cpu: u32,
}

/// `TRACE_FLAG_*` (include/linux/trace_events.h).
pub(crate) mod flag {
    pub(crate) const IRQS_OFF: u8 = 0x01;
    pub(crate) const IRQS_NOSUPPORT: u8 = 0x02;
    pub(crate) const NEED_RESCHED: u8 = 0x04;
    pub(crate) const HARDIRQ: u8 = 0x08;
    pub(crate) const SOFTIRQ: u8 = 0x10;
    pub(crate) const PREEMPT_RESCHED: u8 = 0x20;
    pub(crate) const NMI: u8 = 0x40;
    pub(crate) const BH_OFF: u8 = 0x80;
}

/// `preempt_count()` layout (include/linux/preempt.h).
const SOFTIRQ_SHIFT: u32 = 8;
const SOFTIRQ_OFFSET: u32 = 1 << SOFTIRQ_SHIFT;
const SOFTIRQ_MASK: u32 = 0xff << SOFTIRQ_SHIFT;
const HARDIRQ_MASK: u32 = 0xf << 16;
const NMI_MASK: u32 = 0xf << 20;

/// What the probe reads of its context (`struct seqsplice_ctx`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Ctx {
    /// `preempt_count()`.
    pub(crate) preempt_count: u32,
    /// `current->migration_disabled`.
    pub(crate) migration_disabled: u32,
    /// `irqs_disabled()`.
    pub(crate) irqs_disabled: bool,
    /// `tif_need_resched()`.
    pub(crate) need_resched: bool,
    /// `test_preempt_need_resched()`.
    pub(crate) preempt_need_resched: bool,
}

/// `(flags, preempt_count)` of an entry made in `c`: what
/// `tracing_gen_ctx_dec()` packs (`tracing_gen_ctx_irq_test()`, minus one
/// preempt level when `preemption`, i.e. `CONFIG_PREEMPTION`) and
/// `tracing_generic_entry_update()` unpacks.
pub(crate) fn trace_ctx(c: &Ctx, preemption: bool) -> (u8, u8) {
    let pc = c.preempt_count;
    let mut f = 0u32;
    if c.irqs_disabled {
        f |= u32::from(flag::IRQS_OFF);
    }
    if pc & NMI_MASK != 0 {
        f |= u32::from(flag::NMI);
    }
    if pc & HARDIRQ_MASK != 0 {
        f |= u32::from(flag::HARDIRQ);
    }
    if pc & SOFTIRQ_MASK & SOFTIRQ_OFFSET != 0 {
        f |= u32::from(flag::SOFTIRQ);
    }
    if (pc & SOFTIRQ_MASK) >> (SOFTIRQ_SHIFT + 1) != 0 {
        f |= u32::from(flag::BH_OFF);
    }
    if c.need_resched {
        f |= u32::from(flag::NEED_RESCHED);
    }
    if c.preempt_need_resched {
        f |= u32::from(flag::PREEMPT_RESCHED);
    }
    let mut ctx = (f << 16) | (pc & 0xff).min(0xf) | c.migration_disabled.min(0xf) << 4;
    if preemption {
        ctx = ctx.wrapping_sub(1);
    }
    ((ctx >> 16) as u8, (ctx & 0xff) as u8)
}

/// Task states (include/linux/sched.h).
mod state {
    pub(super) const INTERRUPTIBLE: u32 = 0x01;
    pub(super) const UNINTERRUPTIBLE: u32 = 0x02;
    pub(super) const STOPPED: u32 = 0x04;
    pub(super) const TRACED: u32 = 0x08;
    pub(super) const EXIT_DEAD: u32 = 0x10;
    pub(super) const EXIT_ZOMBIE: u32 = 0x20;
    pub(super) const PARKED: u32 = 0x40;
    pub(super) const DEAD: u32 = 0x80;
    pub(super) const NOLOAD: u32 = 0x400;
    pub(super) const RTLOCK_WAIT: u32 = 0x1000;
    pub(super) const FROZEN: u32 = 0x8000;
    pub(super) const IDLE: u32 = UNINTERRUPTIBLE | NOLOAD;
    pub(super) const REPORT: u32 = 0x7f;
    pub(super) const REPORT_IDLE: u32 = REPORT + 1;
    /// `TASK_REPORT_MAX`.
    pub(super) const REPORT_MAX: u32 = REPORT_IDLE << 1;
}

/// `__task_state_index()`.
fn task_state_index(tsk_state: u32, exit_state: u32) -> u32 {
    let mut s = (tsk_state | exit_state) & state::REPORT;
    if tsk_state & state::IDLE == state::IDLE {
        s = state::REPORT_IDLE;
    }
    if tsk_state & (state::RTLOCK_WAIT | state::FROZEN) != 0 {
        s = state::UNINTERRUPTIBLE;
    }
    // fls()
    32 - s.leading_zeros()
}

/// `__trace_sched_switch_state()`: what `sched_switch` records as
/// `prev_state`.
pub(crate) fn switch_state(preempt: bool, prev_state: u32, exit_state: u32) -> u32 {
    if preempt {
        return state::REPORT_MAX;
    }
    match task_state_index(prev_state, exit_state) {
        0 => 0,
        i => 1 << (i - 1),
    }
}

/// `sched_switch`'s `__print_flags()` table for `prev_state`.
const STATE_NAMES: [(u32, &str); 8] = [
    (state::INTERRUPTIBLE, "S"),
    (state::UNINTERRUPTIBLE, "D"),
    (state::STOPPED, "T"),
    (state::TRACED, "t"),
    (state::EXIT_DEAD, "X"),
    (state::EXIT_ZOMBIE, "Z"),
    (state::PARKED, "P"),
    (state::DEAD, "I"),
];

/// Longest line [`format`] writes: the context (at most 69 bytes: a
/// 16-byte comm column, 11-digit pid and CPU, 11-digit seconds) and a
/// `sched_switch` (at most 185: two 15-byte comms, four 11-digit numbers,
/// the 15-byte `S|D|T|t|X|Z|P|I` and `+`), rounded up.
pub(crate) const MAX_LINE: usize = 320;

/// A line being built in a fixed buffer; writes past its end are dropped
/// and remembered (never happens within [`MAX_LINE`]).
pub(crate) struct Line {
    buf: [u8; MAX_LINE],
    len: usize,
    overflow: bool,
}

impl Default for Line {
    fn default() -> Self {
        Self::new()
    }
}

impl Line {
    /// An empty line.
    pub(crate) const fn new() -> Self {
        Self {
            buf: [0; MAX_LINE],
            len: 0,
            overflow: false,
        }
    }

    /// The bytes written, or `None` if any write did not fit.
    pub(crate) fn bytes(&self) -> Option<&[u8]> {
        if self.overflow {
            return None;
        }
        self.buf.get(..self.len)
    }

    fn push(&mut self, s: &[u8]) {
        match self.buf.get_mut(self.len..self.len + s.len()) {
            Some(d) => {
                d.copy_from_slice(s);
                self.len += s.len();
            }
            None => self.overflow = true,
        }
    }

    fn pad(&mut self, c: u8, n: usize) {
        for _ in 0..n {
            self.push(&[c]);
        }
    }

    /// `%*s` (`left`: `%-*s`).
    fn str_w(&mut self, s: &[u8], width: usize, left: bool) {
        let fill = width.saturating_sub(s.len());
        if !left {
            self.pad(b' ', fill);
        }
        self.push(s);
        if left {
            self.pad(b' ', fill);
        }
    }

    /// `%*d`-style: `v` in decimal, padded to `width` with `fill` on the
    /// left (`left`: spaces on the right).
    fn num(&mut self, v: i64, width: usize, fill: u8, left: bool) {
        let (d, n) = digits::<10>(v.unsigned_abs());
        let neg = v < 0;
        let len = n + usize::from(neg);
        if neg && fill == b'0' {
            // `%03d` of a negative number: sign first, then the zeros.
            self.push(b"-");
            self.pad(b'0', width.saturating_sub(len));
        } else {
            if !left {
                self.pad(fill, width.saturating_sub(len));
            }
            if neg {
                self.push(b"-");
            }
        }
        self.push(&d[DIGITS - n..]);
        if left {
            self.pad(b' ', width.saturating_sub(len));
        }
    }

    /// `%0*lu` / `%*lu`: `v` in decimal, padded on the left with `fill`.
    fn unum(&mut self, v: u64, width: usize, fill: u8) {
        let (d, n) = digits::<10>(v);
        self.pad(fill, width.saturating_sub(n));
        self.push(&d[DIGITS - n..]);
    }

    /// `%x`.
    fn hex(&mut self, v: u32) {
        let (d, n) = digits::<16>(u64::from(v));
        self.push(&d[DIGITS - n..]);
    }
}

/// Digits of a `u64` in base 10 (20 at most).
const DIGITS: usize = 20;

/// The digits of `v` in `BASE` (10 or 16), right-aligned in the array, and
/// how many there are (at least one). The base is a constant: each digit is
/// a division by a constant, not by a run-time value.
fn digits<const BASE: u64>(mut v: u64) -> ([u8; DIGITS], usize) {
    let mut d = [0u8; DIGITS];
    let mut n = 0;
    loop {
        n += 1;
        d[DIGITS - n] = b"0123456789abcdef"[(v % BASE) as usize];
        v /= BASE;
        if v == 0 {
            return (d, n);
        }
    }
}

/// A comm up to its NUL.
pub(crate) fn comm_str(c: &[u8; COMM_LEN]) -> &[u8] {
    let n = c.iter().position(|&b| b == 0).unwrap_or(COMM_LEN);
    &c[..n]
}

/// `trace_print_lat_fmt()`'s five characters.
fn lat_fmt(l: &mut Line, flags: u8, pc: u8) {
    let nmi = flags & flag::NMI != 0;
    let hardirq = flags & flag::HARDIRQ != 0;
    let softirq = flags & flag::SOFTIRQ != 0;
    let bh_off = flags & flag::BH_OFF != 0;
    let irqs_off = flags & flag::IRQS_OFF != 0;
    let c0 = if irqs_off && bh_off {
        b'D'
    } else if irqs_off {
        b'd'
    } else if bh_off {
        b'b'
    } else if flags & flag::IRQS_NOSUPPORT != 0 {
        b'X'
    } else {
        b'.'
    };
    let c1 = match (
        flags & flag::NEED_RESCHED != 0,
        flags & flag::PREEMPT_RESCHED != 0,
    ) {
        (true, true) => b'N',
        (true, false) => b'n',
        (false, true) => b'p',
        (false, false) => b'.',
    };
    let c2 = match (nmi, hardirq, softirq) {
        (true, true, _) => b'Z',
        (true, false, _) => b'z',
        (false, true, true) => b'H',
        (false, true, false) => b'h',
        (false, false, true) => b's',
        (false, false, false) => b'.',
    };
    l.push(&[c0, c1, c2]);
    if pc & 0xf != 0 {
        l.hex(u32::from(pc & 0xf));
    } else {
        l.push(b".");
    }
    if pc & 0xf0 != 0 {
        l.hex(u32::from(pc >> 4));
    } else {
        l.push(b".");
    }
}

/// `sched_switch`'s `prev_state=%s%s`.
fn prev_state(l: &mut Line, v: u32) {
    let mut f = v & (state::REPORT_MAX - 1);
    if f == 0 {
        l.push(b"R");
    } else {
        // trace_print_flags_seq() with "|".
        let mut first = true;
        for (mask, name) in STATE_NAMES {
            if f == 0 {
                break;
            }
            if f & mask != mask {
                continue;
            }
            f &= !mask;
            if !first {
                l.push(b"|");
            }
            first = false;
            l.push(name.as_bytes());
        }
        if f != 0 {
            if !first {
                l.push(b"|");
            }
            l.push(b"0x");
            l.hex(f);
        }
    }
    if v & state::REPORT_MAX != 0 {
        l.push(b"+");
    }
}

/// Formats `e`, recorded on `cpu` at `ts` ns, as ftrace's `trace` file
/// prints it; `false` for an entry of no known kind (nothing written).
pub(crate) fn format(l: &mut Line, e: &Entry, cpu: u32, ts: u64) -> bool {
    let name: &[u8] = match e.kind {
        KIND_SWITCH => b"sched_switch",
        KIND_WAKEUP => b"sched_wakeup",
        _ => return false,
    };
    // trace_find_cmdline(): pid 0 is "<idle>".
    let comm: &[u8] = if e.pid == 0 {
        b"<idle>"
    } else {
        comm_str(&e.comm)
    };
    l.str_w(comm, 16, false);
    l.push(b"-");
    l.num(i64::from(e.pid), 7, b' ', true);
    l.push(b" [");
    l.unum(u64::from(cpu), 3, b'0');
    l.push(b"] ");
    lat_fmt(l, e.flags, e.preempt_count);
    // ns2usecs() rounds to the nearest microsecond.
    let us = ts.saturating_add(500) / 1000;
    l.push(b" ");
    l.unum(us / 1_000_000, 5, b' ');
    l.push(b".");
    l.unum(us % 1_000_000, 6, b'0');
    l.push(b": ");
    l.push(name);
    l.push(b": ");
    if e.kind == KIND_SWITCH {
        l.push(b"prev_comm=");
        l.push(comm_str(&e.a_comm));
        l.push(b" prev_pid=");
        l.num(i64::from(e.a_pid), 0, b' ', false);
        l.push(b" prev_prio=");
        l.num(i64::from(e.a_prio), 0, b' ', false);
        l.push(b" prev_state=");
        prev_state(l, e.prev_state);
        l.push(b" ==> next_comm=");
        l.push(comm_str(&e.b_comm));
        l.push(b" next_pid=");
        l.num(i64::from(e.b_pid), 0, b' ', false);
        l.push(b" next_prio=");
        l.num(i64::from(e.b_prio), 0, b' ', false);
    } else {
        l.push(b"comm=");
        l.push(comm_str(&e.a_comm));
        l.push(b" pid=");
        l.num(i64::from(e.a_pid), 0, b' ', false);
        l.push(b" prio=");
        l.num(i64::from(e.a_prio), 0, b' ', false);
        l.push(b" target_cpu=");
        // `%03d` of an int.
        l.num(i64::from(e.target_cpu as i32), 3, b'0', false);
    }
    l.push(b"\n");
    true
}
