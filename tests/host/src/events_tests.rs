//! The `events` line format against ftrace's: known lines captured from
//! ftrace's `trace` file on the guest kernel, and a printf-semantics model
//! (Rust formatting, written independently of `entry.rs`'s hand-rolled
//! formatter) over random entries.

use proptest::prelude::*;

use crate::entry::{self, flag, Ctx, Entry, Line, COMM_LEN, KIND_SWITCH, KIND_WAKEUP};

fn comm(s: &str) -> [u8; COMM_LEN] {
    let mut c = [0u8; COMM_LEN];
    c[..s.len()].copy_from_slice(s.as_bytes());
    c
}

fn line(e: &Entry, cpu: u32, ts: u64) -> String {
    let mut l = Line::new();
    assert!(entry::format(&mut l, e, cpu, ts));
    String::from_utf8(l.bytes().expect("fits").to_vec()).expect("ascii")
}

fn wakeup(pid: i32, cur: &str, flags: u8, woken: (&str, i32, i32), target: u32) -> Entry {
    Entry {
        kind: KIND_WAKEUP,
        flags,
        pid,
        comm: comm(cur),
        a_comm: comm(woken.0),
        a_pid: woken.1,
        a_prio: woken.2,
        target_cpu: target,
        ..Entry::default()
    }
}

fn switch(prev: (&str, i32, i32), state: u32, next: (&str, i32, i32), flags: u8) -> Entry {
    Entry {
        kind: KIND_SWITCH,
        flags,
        pid: prev.1,
        comm: comm(prev.0),
        a_comm: comm(prev.0),
        a_pid: prev.1,
        a_prio: prev.2,
        b_comm: comm(next.0),
        b_pid: next.1,
        b_prio: next.2,
        prev_state: state,
        ..Entry::default()
    }
}

const D: u8 = flag::IRQS_OFF;
const N: u8 = flag::NEED_RESCHED;
/// `N` in the column: both resched flags.
const NP: u8 = flag::NEED_RESCHED | flag::PREEMPT_RESCHED;

/// Lines exactly as ftrace's `trace` printed them in a 6.12.117 guest.
#[test]
fn known_ftrace_lines() {
    let cases = [
        (
            wakeup(0, "swapper/0", D | NP | flag::HARDIRQ, ("rcu_sched", 16, 120), 0),
            0,
            2_042_681_000,
            "          <idle>-0       [000] dNh..     2.042681: sched_wakeup: comm=rcu_sched pid=16 prio=120 target_cpu=000\n",
        ),
        (
            switch(("swapper/0", 0, 120), 0, ("rcu_sched", 16, 120), D),
            0,
            2_043_382_400,
            "          <idle>-0       [000] d....     2.043382: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=rcu_sched next_pid=16 next_prio=120\n",
        ),
        (
            switch(("rcu_sched", 16, 120), 0x80, ("swapper/0", 0, 120), D),
            0,
            2_049_679_501,
            "       rcu_sched-16      [000] d....     2.049680: sched_switch: prev_comm=rcu_sched prev_pid=16 prev_prio=120 prev_state=I ==> next_comm=swapper/0 next_pid=0 next_prio=120\n",
        ),
        (
            switch(("dev.sh", 50, 120), 0x2, ("swapper/1", 0, 120), D),
            1,
            2_067_140_000,
            "          dev.sh-50      [001] d....     2.067140: sched_switch: prev_comm=dev.sh prev_pid=50 prev_prio=120 prev_state=D ==> next_comm=swapper/1 next_pid=0 next_prio=120\n",
        ),
        (
            wakeup(0, "swapper/0", D | NP | flag::SOFTIRQ, ("rcu_sched", 16, 120), 0),
            0,
            2_054_231_000,
            "          <idle>-0       [000] dNs..     2.054231: sched_wakeup: comm=rcu_sched pid=16 prio=120 target_cpu=000\n",
        ),
        (
            switch(("dev.sh", 50, 120), 0x100, ("kworker/0:0", 9, 120), D),
            0,
            2_105_944_000,
            "          dev.sh-50      [000] d....     2.105944: sched_switch: prev_comm=dev.sh prev_pid=50 prev_prio=120 prev_state=R+ ==> next_comm=kworker/0:0 next_pid=9 next_prio=120\n",
        ),
    ];
    for (e, cpu, ts, want) in cases {
        assert_eq!(line(&e, cpu, ts), want);
    }
}

/// `trace_print_lat_fmt()`'s characters and the preempt nibbles.
#[test]
fn lat_fmt_columns() {
    let mut e = wakeup(7, "x", 0, ("y", 8, 120), 1);
    let col = |e: &Entry| line(e, 0, 0)[31..36].to_string();
    assert_eq!(col(&e), ".....");
    for (f, pc, want) in [
        (D | flag::BH_OFF, 0, "D...."),
        (flag::BH_OFF, 0, "b...."),
        (flag::IRQS_NOSUPPORT, 0, "X...."),
        (flag::PREEMPT_RESCHED, 0, ".p..."),
        (N | flag::PREEMPT_RESCHED, 0, ".N..."),
        (flag::NMI | flag::HARDIRQ, 0, "..Z.."),
        (flag::NMI, 0, "..z.."),
        (flag::HARDIRQ | flag::SOFTIRQ, 0, "..H.."),
        (0, 0x2, "...2."),
        (0, 0x1f, "...f1"),
        (0, 0x30, "....3"),
    ] {
        e.flags = f;
        e.preempt_count = pc;
        assert_eq!(col(&e), want, "flags {f:#x} pc {pc:#x}");
    }
}

/// `prev_state` values as `__trace_sched_switch_state()` makes them from
/// task states, and their letters.
#[test]
fn switch_states() {
    // (preempt, __state, exit_state) -> printed
    let cases = [
        (true, 0x1, 0, "R+"),
        (false, 0x0, 0, "R"),
        (false, 0x1, 0, "S"),
        (false, 0x2, 0, "D"),
        (false, 0x402, 0, "I"), // TASK_IDLE
        (false, 0x4, 0, "T"),
        (false, 0x8, 0, "t"),
        (false, 0x80, 0x20, "Z"), // TASK_DEAD with EXIT_ZOMBIE
        (false, 0x80, 0x10, "X"), // EXIT_DEAD
        (false, 0x40, 0, "P"),
        (false, 0x1000, 0, "D"), // TASK_RTLOCK_WAIT
        (false, 0x8000, 0, "D"), // TASK_FROZEN
        (false, 0x101, 0, "S"),  // TASK_WAKEKILL is not reported
    ];
    for (preempt, st, exit, want) in cases {
        let v = entry::switch_state(preempt, st, exit);
        let e = switch(("a", 1, 120), v, ("b", 2, 120), 0);
        let l = line(&e, 0, 0);
        let got = l
            .split("prev_state=")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        assert_eq!(got, want, "state {st:#x} exit {exit:#x} preempt {preempt}");
    }
    // Several bits and leftovers, as trace_print_flags_seq() joins them.
    let e = switch(("a", 1, 120), 0x3 | 0x100, ("b", 2, 120), 0);
    assert!(line(&e, 0, 0).contains("prev_state=S|D+ ==>"));
}

/// tracing_gen_ctx_irq_test() / tracing_gen_ctx_dec() on chosen contexts.
#[test]
fn trace_ctx_packing() {
    let c = Ctx {
        preempt_count: 0x1_0102, // hardirq, softirq serving, depth 2
        migration_disabled: 3,
        irqs_disabled: true,
        need_resched: true,
        preempt_need_resched: false,
    };
    let (f, pc) = entry::trace_ctx(&c, false);
    assert_eq!(f, D | N | flag::HARDIRQ | flag::SOFTIRQ);
    assert_eq!(pc, 0x32);
    // CONFIG_PREEMPTION: one level less (the tracepoint's own).
    assert_eq!(entry::trace_ctx(&c, true), (f, 0x31));
    // Depth above 15 saturates; bh disabled (softirq count 2 levels).
    let c = Ctx {
        preempt_count: 0x200 | 0x23,
        ..Ctx::default()
    };
    assert_eq!(entry::trace_ctx(&c, false), (flag::BH_OFF, 0xf));
    let c = Ctx {
        preempt_count: 0x10_0000,
        ..Ctx::default()
    };
    assert_eq!(entry::trace_ctx(&c, false), (flag::NMI, 0));
}

/// printf's reading of the format strings, with Rust formatting.
fn model(e: &Entry, cpu: u32, ts: u64) -> String {
    let s = |c: &[u8; COMM_LEN]| {
        let n = c.iter().position(|&b| b == 0).unwrap_or(COMM_LEN);
        String::from_utf8_lossy(&c[..n]).into_owned()
    };
    let col = if e.pid == 0 {
        "<idle>".to_string()
    } else {
        s(&e.comm)
    };
    let us = (ts + 500) / 1000;
    let lat = {
        let l = line(e, cpu, ts);
        // The flags column is checked by lat_fmt_columns; take it as is.
        let at =
            col.len().max(16) + 1 + format!("{:<7}", e.pid).len() + format!(" [{cpu:03}] ").len();
        l[at..at + 5].to_string()
    };
    let head = format!(
        "{col:>16}-{:<7} [{cpu:03}] {lat} {:>5}.{:06}: ",
        e.pid,
        us / 1_000_000,
        us % 1_000_000
    );
    let body = if e.kind == KIND_SWITCH {
        let st = if e.prev_state & 0xff == 0 { "R" } else { "?" };
        format!(
            "sched_switch: prev_comm={} prev_pid={} prev_prio={} prev_state={st}{} ==> next_comm={} next_pid={} next_prio={}",
            s(&e.a_comm),
            e.a_pid,
            e.a_prio,
            if e.prev_state & 0x100 != 0 { "+" } else { "" },
            s(&e.b_comm),
            e.b_pid,
            e.b_prio
        )
    } else {
        format!(
            "sched_wakeup: comm={} pid={} prio={} target_cpu={:03}",
            s(&e.a_comm),
            e.a_pid,
            e.a_prio,
            e.target_cpu as i32
        )
    };
    format!("{head}{body}\n")
}

fn comm_strategy() -> impl Strategy<Value = [u8; COMM_LEN]> {
    "[a-zA-Z0-9/:._ -]{0,15}".prop_map(|s| comm(&s))
}

proptest! {
    /// Every field at its extremes: the hand-rolled formatter is printf.
    #[test]
    fn format_is_printf(
        wake in any::<bool>(),
        pid in prop_oneof![Just(0i32), 1i32..=4_194_304, any::<i32>()],
        c0 in comm_strategy(), c1 in comm_strategy(), c2 in comm_strategy(),
        p1 in any::<i32>(), p2 in any::<i32>(),
        r1 in any::<i32>(), r2 in any::<i32>(),
        plus in any::<bool>(),
        target in any::<u32>(),
        cpu in prop_oneof![0u32..4, any::<u32>()],
        ts in any::<u64>(),
    ) {
        let e = Entry {
            kind: if wake { KIND_WAKEUP } else { KIND_SWITCH },
            pid,
            comm: c0,
            a_comm: c1,
            a_pid: p1,
            a_prio: r1,
            b_comm: c2,
            b_pid: p2,
            b_prio: r2,
            prev_state: if plus { 0x100 } else { 0 },
            target_cpu: target,
            ..Entry::default()
        };
        let ts = ts.min(u64::MAX - 500);
        let got = line(&e, cpu, ts);
        prop_assert!(got.len() <= entry::MAX_LINE);
        prop_assert_eq!(got, model(&e, cpu, ts));
    }
}

/// An unknown kind formats nothing.
#[test]
fn unknown_kind_is_skipped() {
    let e = Entry {
        kind: 9,
        ..Entry::default()
    };
    let mut l = Line::new();
    assert!(!entry::format(&mut l, &e, 0, 0));
    assert_eq!(l.bytes(), Some(&b""[..]));
}

/// The longest possible line fits.
#[test]
fn longest_line_fits() {
    let big = comm("ABCDEFGHIJKLMNO");
    let e = Entry {
        kind: KIND_SWITCH,
        pid: i32::MIN,
        comm: big,
        a_comm: big,
        a_pid: i32::MIN,
        a_prio: i32::MIN,
        b_comm: big,
        b_pid: i32::MIN,
        b_prio: i32::MIN,
        prev_state: 0x1ff,
        flags: 0xff,
        preempt_count: 0xff,
        ..Entry::default()
    };
    let l = line(&e, u32::MAX, u64::MAX - 500);
    assert!(l.len() <= entry::MAX_LINE, "{} bytes", l.len());
    assert!(l.contains("prev_state=S|D|T|t|X|Z|P|I+ ==>"));
}
