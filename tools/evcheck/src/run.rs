// SPDX-License-Identifier: GPL-2.0
//! `evcheck run`: the whole experiment in the guest. ftrace's sched events
//! are enabled first, then seqsplice's capture; the workload runs; then
//! seqsplice stops, then ftrace; both texts are read and compared
//! ([`crate::compare`]), `events_copy` must equal `events` byte for byte,
//! and the module's counters must agree with what was read.
//!
//! The controller renames itself `evcheck-ctl` before anything is enabled:
//! its own sleeps while it writes the knobs (attaching and detaching
//! probes waits) fall outside seqsplice's window, and must not be taken
//! for the workload's. The workload process renames itself back to
//! `evcheck` at once, and its child inherits that.

use std::time::Duration;

use crate::compare::{compare, Options};
use crate::pingpong::pingpong;
use crate::sys;

const TRACING: &str = "/sys/kernel/tracing";
const SCHED: &[&str] = &["sched_switch", "sched_wakeup"];
/// The workload's comm, and the controller's.
const COMM: &str = "evcheck";
const CTL_COMM: &str = "evcheck-ctl";

pub struct RunArgs {
    pub rounds: u64,
    pub dir: String,
    pub kb: u64,
}

/// What to put back afterwards: the sizes found, and whether each side's
/// knobs were written at all.
#[derive(Default)]
struct Restore {
    ftrace_kb: Option<String>,
    seqsplice_kb: Option<String>,
    ftrace: bool,
    seqsplice: bool,
}

fn say(msg: &str) {
    for l in msg.lines() {
        println!("# {l}");
    }
}

fn set(path: &str, value: &str) -> Result<(), String> {
    sys::knob(path, value).map_err(|e| e.to_string())
}

/// The first number of a size knob (ftrace prints `7 (expanded: 1408)`
/// before its buffer was first resized).
fn first_number(s: &str) -> Option<String> {
    let n = s.split_whitespace().next()?;
    n.bytes().all(|b| b.is_ascii_digit()).then(|| n.to_string())
}

/// The `name value` lines of `stats` that we check.
fn stat(stats: &str, name: &str) -> Result<u64, String> {
    stats
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .ok_or_else(|| format!("stats has no \"{name} N\" line"))
}

fn ensure_tracefs() -> Result<(), String> {
    let trace = format!("{TRACING}/trace");
    if std::path::Path::new(&trace).exists() {
        return Ok(());
    }
    sys::mount_tracefs(TRACING).map_err(|e| e.to_string())?;
    if !std::path::Path::new(&trace).exists() {
        return Err(format!(
            "tracefs mounted on {TRACING}, but it has no trace file"
        ));
    }
    say(&format!("mounted tracefs on {TRACING}"));
    Ok(())
}

fn enable_sched(on: bool) -> Result<(), String> {
    for ev in SCHED {
        set(
            &format!("{TRACING}/events/sched/{ev}/enable"),
            if on { "1" } else { "0" },
        )?;
    }
    Ok(())
}

/// Runs the workload in a forked process named [`COMM`], and waits for it.
fn workload(rounds: u64) -> Result<(), String> {
    let pid = sys::fork().map_err(|e| e.to_string())?;
    if pid == 0 {
        let r = sys::set_comm(COMM)
            .map_err(|e| e.to_string())
            .and_then(|()| pingpong(rounds));
        if let Err(e) = &r {
            say(&format!("workload: {e}"));
        }
        sys::exit_now(i32::from(r.is_err()));
    }
    sys::wait_ok(pid).map_err(|e| format!("workload: {e}"))
}

/// The experiment up to the comparison's verdict: `Err` for what stops it,
/// `fails` for what is wrong but lets it go on.
fn experiment(a: &RunArgs, undo: &mut Restore, fails: &mut Vec<String>) -> Result<(), String> {
    let d = &a.dir;
    let kb = a.kb.to_string();
    sys::set_comm(CTL_COMM).map_err(|e| e.to_string())?;
    ensure_tracefs()?;
    let tkb = sys::read_text(&format!("{TRACING}/buffer_size_kb")).map_err(|e| e.to_string())?;
    undo.ftrace_kb = first_number(&tkb);
    let skb = sys::read_text(&format!("{d}/events_buffer_size_kb")).map_err(|e| e.to_string())?;
    undo.seqsplice_kb = first_number(&skb);

    undo.ftrace = true;
    set(&format!("{TRACING}/tracing_on"), "0")?;
    set(&format!("{TRACING}/current_tracer"), "nop")?;
    set(&format!("{TRACING}/buffer_size_kb"), &kb)?;
    sys::truncate(&format!("{TRACING}/trace")).map_err(|e| e.to_string())?;
    enable_sched(true)?;
    set(&format!("{TRACING}/tracing_on"), "1")?;

    undo.seqsplice = true;
    set(&format!("{d}/events_enable"), "0")?;
    set(&format!("{d}/events_buffer_size_kb"), &kb)?;
    set(&format!("{d}/events_enable"), "1")?;
    let en = sys::read_text(&format!("{d}/events_enable")).map_err(|e| e.to_string())?;
    if en != "1\n" {
        return Err(format!("events_enable reads {en:?} after writing 1"));
    }

    say(&format!("workload: pingpong {} rounds", a.rounds));
    let w = workload(a.rounds);
    // The workload's last sched_switch (its exit) may still be on its way
    // on another CPU when wait() returns: give it time to happen inside
    // the window.
    std::thread::sleep(Duration::from_millis(100));
    set(&format!("{d}/events_enable"), "0")?;
    set(&format!("{TRACING}/tracing_on"), "0")?;
    enable_sched(false)?;
    w?;

    let ftrace = sys::read_all(&format!("{TRACING}/trace")).map_err(|e| e.to_string())?;
    let events = sys::read_all(&format!("{d}/events")).map_err(|e| e.to_string())?;
    let copy = sys::read_all(&format!("{d}/events_copy")).map_err(|e| e.to_string())?;
    for (path, bytes) in [
        ("/tmp/evcheck.ftrace", &ftrace),
        ("/tmp/evcheck.events", &events),
    ] {
        if let Err(e) = std::fs::write(path, bytes) {
            say(&format!("cannot save {path}: {e}"));
        }
    }
    let lines = events.iter().filter(|&&b| b == b'\n').count();
    say(&format!(
        "read: trace {} bytes, events {} bytes ({lines} lines), events_copy {} bytes \
         (saved in /tmp/evcheck.ftrace, /tmp/evcheck.events)",
        ftrace.len(),
        events.len(),
        copy.len()
    ));
    if copy != events {
        let at = copy.iter().zip(&events).take_while(|(a, b)| a == b).count();
        fails.push(format!(
            "events_copy ({} bytes) differs from events ({} bytes) from byte {at}",
            copy.len(),
            events.len()
        ));
    }

    let stats = sys::read_text(&format!("{d}/stats")).map_err(|e| e.to_string())?;
    for (name, want) in [
        ("events_recorded", lines as u64),
        ("events_lost", 0),
        ("events_overruns", 0),
        ("events_readers", 0),
    ] {
        match stat(&stats, name) {
            Ok(v) if v == want => {}
            Ok(v) => fails.push(format!("stats: {name} is {v}, {want} expected")),
            Err(e) => fails.push(e),
        }
    }

    // Each round trip makes at least one side block on its read (or be
    // preempted), which is a sched_switch away from it: `rounds` workload
    // events at the very least (several times that in practice).
    let opts = Options {
        comm: COMM.to_string(),
        min: a.rounds as usize,
    };
    let report = compare(
        &String::from_utf8_lossy(&ftrace),
        &String::from_utf8_lossy(&events),
        &opts,
    );
    for l in report.lines() {
        say(&l);
    }
    if !report.passed() {
        fails.push(format!(
            "events is not ftrace's capture ({} problems, above)",
            report.failures.len()
        ));
    }
    Ok(())
}

/// Puts the knobs back: recording off on both sides, the sizes found.
fn restore(a: &RunArgs, undo: &Restore) -> Vec<String> {
    let mut errs = Vec::new();
    let mut put = |path: String, v: &str| {
        if let Err(e) = set(&path, v) {
            errs.push(format!("restore: {e}"));
        }
    };
    if undo.seqsplice {
        put(format!("{}/events_enable", a.dir), "0");
        if let Some(kb) = &undo.seqsplice_kb {
            put(format!("{}/events_buffer_size_kb", a.dir), kb);
        }
    }
    if undo.ftrace {
        put(format!("{TRACING}/tracing_on"), "0");
        for ev in SCHED {
            put(format!("{TRACING}/events/sched/{ev}/enable"), "0");
        }
        if let Some(kb) = &undo.ftrace_kb {
            put(format!("{TRACING}/buffer_size_kb"), kb);
        }
    }
    errs
}

/// `evcheck run`: prints `# ` lines, then `evcheck: PASS ...` or
/// `evcheck: FAIL ...`; true on pass.
pub fn run(a: &RunArgs) -> bool {
    say(&format!(
        "evcheck run: rounds {} dir {} buffer_size_kb {}",
        a.rounds, a.dir, a.kb
    ));
    let mut undo = Restore::default();
    let mut fails = Vec::new();
    if let Err(e) = experiment(a, &mut undo, &mut fails) {
        fails.push(e);
    }
    fails.extend(restore(a, &undo));
    for f in &fails {
        say(&format!("FAIL: {f}"));
    }
    match fails.first() {
        None => {
            println!(
                "evcheck: PASS run: {} rounds, events match ftrace",
                a.rounds
            );
            true
        }
        Some(f) => {
            let first = f.lines().next().unwrap_or("");
            println!("evcheck: FAIL run: {first} ({} problems)", fails.len());
            false
        }
    }
}
