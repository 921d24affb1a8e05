// SPDX-License-Identifier: GPL-2.0
//! The comparison of seqsplice's `events` with ftrace's `trace` of the same
//! window.
//!
//! Both record the same sched_switch/sched_wakeup tracepoint calls, ftrace
//! enabled first and disabled last, so on every CPU seqsplice's events must
//! be one contiguous run of ftrace's, equal in everything but the
//! timestamp (which each takes itself): pid, CPU, the five flags, event
//! name, and the fields text byte for byte. The comm column must be equal
//! too, except where ftrace's, looked up at read time in its
//! saved_cmdlines, cannot be trusted: `<...>`, or a pid that had more than
//! one comm in the capture's payloads (exec, PR_SET_NAME). Every event naming the
//! workload's comm must be in both (the workload ran inside the window)
//! and there must be at least `min` of them; seqsplice's timestamps must
//! not decrease, per CPU or in the merged file.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::capture::{parse, Capture, Source};
use crate::event::Event;

pub struct Options {
    /// The workload's comm.
    pub comm: String,
    /// The fewest workload events that make a meaningful comparison.
    pub min: usize,
}

/// One CPU's numbers; `prefix`/`suffix` are ftrace's events before and
/// after seqsplice's run, `None` when no run matched.
#[derive(Debug, PartialEq, Eq)]
pub struct CpuSummary {
    pub cpu: u32,
    pub ftrace: usize,
    pub seqsplice: usize,
    pub prefix: Option<usize>,
    pub suffix: Option<usize>,
    pub comm_exceptions: usize,
    /// Switches of an exiting task printed Z by one and X by the other
    /// (`Event::key`).
    pub exit_races: usize,
}

#[derive(Debug, Default)]
pub struct Report {
    pub cpus: Vec<CpuSummary>,
    pub ftrace_events: usize,
    pub seqsplice_events: usize,
    pub ftrace_ignored: usize,
    /// Events naming the workload's comm: (ftrace, seqsplice).
    pub workload: (usize, usize),
    pub comm: String,
    pub min: usize,
    /// Empty iff the comparison passed.
    pub failures: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The summary and every failure, as lines for a TAP log (the caller
    /// prefixes them with `# `).
    pub fn lines(&self) -> Vec<String> {
        let mut v = vec![format!(
            "compare: ftrace {} sched events ({} other events ignored), seqsplice {}; \
             events naming comm {:?}: ftrace {}, seqsplice {} (at least {} wanted)",
            self.ftrace_events,
            self.ftrace_ignored,
            self.seqsplice_events,
            self.comm,
            self.workload.0,
            self.workload.1,
            self.min
        )];
        let opt = |o: Option<usize>| o.map_or("-".to_string(), |n| n.to_string());
        for c in &self.cpus {
            v.push(format!(
                "cpu {}: ftrace {} seqsplice {} prefix {} suffix {} comm_exceptions {} exit_races {}",
                c.cpu,
                c.ftrace,
                c.seqsplice,
                opt(c.prefix),
                opt(c.suffix),
                c.comm_exceptions,
                c.exit_races
            ));
        }
        for f in &self.failures {
            for (i, l) in f.lines().enumerate() {
                v.push(if i == 0 {
                    format!("FAIL: {l}")
                } else {
                    format!("  {l}")
                });
            }
        }
        v
    }
}

/// Whether an event's payload names the workload's comm.
fn involves(ev: &Event, comm: &str) -> bool {
    matches!(ev.payload_tasks(), Ok(Some(t)) if t.iter().any(|&(c, _)| c == comm))
}

/// The pids seen with more than one comm in a payload (`prev_comm`,
/// `next_comm`, `comm`) of either capture: the comms the task had at event
/// time. The comm columns do not count: ftrace's is what is being excused
/// (a pid whose two columns differ would excuse itself), and seqsplice's
/// is what is being checked.
fn multi_comm_pids<'a>(caps: &[&Capture<'a>]) -> HashSet<u32> {
    let mut seen: HashMap<u32, HashSet<&'a str>> = HashMap::new();
    for ev in caps.iter().flat_map(|c| c.events.iter()) {
        if let Ok(Some(tasks)) = ev.payload_tasks() {
            for (comm, pid) in tasks {
                seen.entry(pid).or_default().insert(comm);
            }
        }
    }
    seen.into_iter()
        .filter(|(_, c)| c.len() > 1)
        .map(|(p, _)| p)
        .collect()
}

/// Knuth-Morris-Pratt: every index of `text` where `pat` (non-empty)
/// starts, and the longest prefix of `pat` found anywhere as (length, index
/// in `text` just after it).
fn find_runs(text: &[u32], pat: &[u32]) -> (Vec<usize>, (usize, usize)) {
    let mut fail = vec![0usize; pat.len()];
    let mut k = 0;
    for i in 1..pat.len() {
        while k > 0 && pat[i] != pat[k] {
            k = fail[k - 1];
        }
        if pat[i] == pat[k] {
            k += 1;
        }
        fail[i] = k;
    }
    let (mut starts, mut best, mut q) = (Vec::new(), (0, 0), 0);
    for (i, &t) in text.iter().enumerate() {
        while q > 0 && t != pat[q] {
            q = fail[q - 1];
        }
        if t == pat[q] {
            q += 1;
        }
        if q > best.0 {
            best = (q, i + 1);
        }
        if q == pat.len() {
            starts.push(i + 1 - q);
            q = fail[q - 1];
        }
    }
    (starts, best)
}

fn quote(src: &str, ev: &Event) -> String {
    format!("{src:<9} line {}: {}", ev.line, ev.text)
}

/// One CPU: seqsplice's events `s` against ftrace's `f`.
fn compare_cpu<'a>(
    cpu: u32,
    f: &[&Event<'a>],
    s: &[&Event<'a>],
    opts: &Options,
    multi: &HashSet<u32>,
    failures: &mut Vec<String>,
) -> CpuSummary {
    let mut sum = CpuSummary {
        cpu,
        ftrace: f.len(),
        seqsplice: s.len(),
        prefix: None,
        suffix: None,
        comm_exceptions: 0,
        exit_races: 0,
    };
    let mut ids = HashMap::new();
    let mut id = |e: &Event<'a>| {
        let n = ids.len() as u32;
        *ids.entry(e.key()).or_insert(n)
    };
    let fi: Vec<u32> = f.iter().map(|e| id(e)).collect();
    let si: Vec<u32> = s.iter().map(|e| id(e)).collect();
    let work: Vec<usize> = (0..f.len())
        .filter(|&i| involves(f[i], &opts.comm))
        .collect();
    let start = if s.is_empty() {
        // Nothing recorded here: the run is empty, all of ftrace's is outside.
        f.len()
    } else {
        let (starts, (len, end)) = find_runs(&fi, &si);
        // Of several equal runs (a periodic workload), one that leaves every
        // workload event inside, if any.
        let holds_work = |o: usize| match (work.first(), work.last()) {
            (Some(&a), Some(&b)) => o <= a && o + s.len() > b,
            _ => true,
        };
        match starts
            .iter()
            .copied()
            .find(|&o| holds_work(o))
            .or(starts.first().copied())
        {
            Some(o) => o,
            None => {
                let mut m = format!(
                    "cpu {cpu}: seqsplice's {} events are not a contiguous run of ftrace's {} \
                     (compared: pid, flags, event, fields)",
                    s.len(),
                    f.len()
                );
                if len == 0 {
                    m += &format!(
                        "\nno ftrace event on cpu {cpu} has the fields of seqsplice's first:\n{}",
                        quote("seqsplice", s[0])
                    );
                    let near = f.iter().min_by_key(|e| e.ts_ns.abs_diff(s[0].ts_ns));
                    if let Some(n) = near {
                        m += &format!("\nftrace's nearest by timestamp:\n{}", quote("ftrace", n));
                    }
                } else {
                    m += &format!(
                        "\nlongest run: seqsplice's first {len} = ftrace's cpu-{cpu} events {}..{}; \
                         first difference:",
                        end - len,
                        end
                    );
                    m += &match f.get(end) {
                        Some(e) => format!("\n{}", quote("ftrace", e)),
                        None => format!("\nftrace    (no more events on cpu {cpu})"),
                    };
                    m += &format!("\n{}", quote("seqsplice", s[len]));
                }
                failures.push(m);
                return sum;
            }
        }
    };
    let end = start + s.len();
    sum.prefix = Some(start);
    sum.suffix = Some(f.len() - end);
    let mut bad = Vec::new();
    for (fe, se) in f[start..end].iter().zip(s) {
        if fe.exit_race(se) {
            sum.exit_races += 1;
        }
        if fe.comm == se.comm {
            continue;
        }
        if fe.comm == "<...>" || multi.contains(&fe.pid) {
            sum.comm_exceptions += 1;
        } else {
            bad.push((fe, se));
        }
    }
    if let Some((fe, se)) = bad.first() {
        failures.push(format!(
            "cpu {cpu}: {} events whose comm column differs (pid with one comm, ftrace's \
             not <...>); the first:\n{}\n{}",
            bad.len(),
            quote("ftrace", fe),
            quote("seqsplice", se)
        ));
    }
    for (what, range) in [("before", 0..start), ("after", end..f.len())] {
        let outside: Vec<_> = work.iter().filter(|i| range.contains(i)).collect();
        if let Some(&&i) = outside.first() {
            failures.push(format!(
                "cpu {cpu}: {} events naming comm {:?} in ftrace {} seqsplice's run (the \
                 workload ran inside the window); the first:\n{}",
                outside.len(),
                opts.comm,
                what,
                quote("ftrace", f[i])
            ));
        }
    }
    sum
}

/// The first place where seqsplice's timestamps go back, in `evs` order.
fn check_order(evs: &[&Event], what: &str, failures: &mut Vec<String>) {
    if let Some(w) = evs.windows(2).find(|w| w[1].ts_ns < w[0].ts_ns) {
        failures.push(format!(
            "seqsplice's timestamps decrease {what}:\n{}\n{}",
            quote("seqsplice", w[0]),
            quote("seqsplice", w[1])
        ));
    }
}

/// Compares the two texts; see the module documentation.
pub fn compare(ftrace: &str, seqsplice: &str, opts: &Options) -> Report {
    let fc = parse(ftrace, Source::Ftrace);
    let sc = parse(seqsplice, Source::Seqsplice);
    let mut r = Report {
        ftrace_events: fc.events.len(),
        seqsplice_events: sc.events.len(),
        ftrace_ignored: fc.ignored,
        comm: opts.comm.clone(),
        min: opts.min,
        ..Report::default()
    };
    r.failures.extend(fc.problems.iter().cloned());
    r.failures.extend(sc.problems.iter().cloned());
    let multi = multi_comm_pids(&[&fc, &sc]);
    let mut by_cpu: BTreeMap<u32, (Vec<&Event>, Vec<&Event>)> = BTreeMap::new();
    for e in &fc.events {
        by_cpu.entry(e.cpu).or_default().0.push(e);
    }
    for e in &sc.events {
        by_cpu.entry(e.cpu).or_default().1.push(e);
    }
    let all: Vec<&Event> = sc.events.iter().collect();
    check_order(&all, "in the merged file", &mut r.failures);
    for (&cpu, (f, s)) in &by_cpu {
        check_order(s, &format!("on cpu {cpu}"), &mut r.failures);
        let sum = compare_cpu(cpu, f, s, opts, &multi, &mut r.failures);
        r.cpus.push(sum);
    }
    let count = |c: &Capture| c.events.iter().filter(|e| involves(e, &opts.comm)).count();
    r.workload = (count(&fc), count(&sc));
    if r.workload.0 != r.workload.1 {
        r.failures.push(format!(
            "events naming comm {:?}: ftrace has {}, seqsplice {}",
            opts.comm, r.workload.0, r.workload.1
        ));
    }
    if r.workload.1 < opts.min {
        r.failures.push(format!(
            "seqsplice has {} events naming comm {:?}, fewer than the {} wanted",
            r.workload.1, opts.comm, opts.min
        ));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One event to render, as ftrace prints it.
    #[derive(Clone, Debug)]
    struct Ev {
        comm: String,
        pid: u32,
        cpu: u32,
        flags: &'static str,
        ts_us: u64,
        name: &'static str,
        fields: String,
        /// Whether seqsplice recorded it (inside its window).
        inside: bool,
    }

    impl Ev {
        fn line(&self) -> String {
            format!(
                "{:>16}-{:<7} [{:03}] {} {:>5}.{:06}: {}: {}\n",
                self.comm,
                self.pid,
                self.cpu,
                self.flags,
                self.ts_us / 1_000_000,
                self.ts_us % 1_000_000,
                self.name,
                self.fields
            )
        }
    }

    fn column(comm: &str, pid: u32) -> String {
        if pid == 0 { "<idle>" } else { comm }.to_string()
    }

    fn sw(cpu: u32, ts_us: u64, prev: (&str, u32), state: &str, next: (&str, u32)) -> Ev {
        Ev {
            comm: column(prev.0, prev.1),
            pid: prev.1,
            cpu,
            flags: "d..2.",
            ts_us,
            name: "sched_switch",
            fields: format!(
                "prev_comm={} prev_pid={} prev_prio=120 prev_state={state} ==> next_comm={} \
                 next_pid={} next_prio=120",
                prev.0, prev.1, next.0, next.1
            ),
            inside: true,
        }
    }

    fn wk(cpu: u32, ts_us: u64, cur: (&str, u32), woken: (&str, u32), target: u32) -> Ev {
        Ev {
            comm: column(cur.0, cur.1),
            pid: cur.1,
            cpu,
            flags: "dNh4.",
            ts_us,
            name: "sched_wakeup",
            fields: format!(
                "comm={} pid={} prio=120 target_cpu={target:03}",
                woken.0, woken.1
            ),
            inside: true,
        }
    }

    const CTL: (&str, u32) = ("evcheck-ctl", 50);
    const KW: (&str, u32) = ("kworker/0:1", 20);
    const P: (&str, u32) = ("evcheck", 100);
    const C: (&str, u32) = ("evcheck", 101);
    const IDLE0: (&str, u32) = ("swapper/0", 0);
    const IDLE1: (&str, u32) = ("swapper/1", 0);

    /// Two CPUs: events of other tasks before and after seqsplice's window
    /// on each, the workload (pid 100 and 101, comm evcheck) inside; in
    /// timestamp order.
    fn scenario() -> Vec<Ev> {
        let mut v = vec![
            sw(0, 10, CTL, "S", IDLE0),
            wk(0, 20, IDLE0, KW, 0),
            wk(1, 25, IDLE1, CTL, 1),
            sw(0, 30, IDLE0, "R", P),
            sw(1, 35, IDLE1, "R", C),
            wk(0, 40, P, C, 1),
            sw(1, 45, C, "S", IDLE1),
            sw(0, 50, P, "S", IDLE0),
            wk(1, 55, IDLE1, C, 1),
            wk(0, 60, IDLE0, P, 0),
            sw(1, 65, IDLE1, "R", C),
            sw(0, 70, IDLE0, "R", P),
            sw(1, 75, C, "X", IDLE1),
            sw(0, 80, P, "X", KW),
            sw(0, 90, KW, "S", IDLE0),
            sw(1, 95, IDLE1, "R", CTL),
        ];
        for i in [0, 1, 2, 14, 15] {
            v[i].inside = false;
        }
        v
    }

    const HEADER: &str = "# tracer: nop\n#\n# entries-in-buffer/entries-written: 16/16   #P:2\n#\n\
        #                                _-----=> irqs-off/BH-disabled\n\
        #           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n\
        #              | |         |   |||||     |         |\n";

    fn ftrace_text(v: &[Ev]) -> String {
        HEADER.to_string() + &v.iter().map(Ev::line).collect::<String>()
    }

    fn events_text(v: &[Ev]) -> String {
        v.iter().filter(|e| e.inside).map(Ev::line).collect()
    }

    fn opts(min: usize) -> Options {
        Options {
            comm: "evcheck".to_string(),
            min,
        }
    }

    fn run(f: &str, s: &str, min: usize) -> Report {
        let r = compare(f, s, &opts(min));
        for l in r.lines() {
            eprintln!("{l}");
        }
        r
    }

    /// Asserts a failure whose text contains every one of `words`.
    fn fails_with(r: &Report, words: &[&str]) {
        assert!(!r.passed(), "passed: {:?}", r.lines());
        let all = r.failures.join("\n");
        for w in words {
            assert!(all.contains(w), "{w:?} not in:\n{all}");
        }
    }

    /// The 1-based line of seqsplice's text holding the scenario's event `i`.
    fn events_line(v: &[Ev], i: usize) -> usize {
        v[..=i].iter().filter(|e| e.inside).count()
    }

    #[test]
    fn passes_with_prefix_and_suffix_on_each_cpu() {
        let v = scenario();
        let r = run(&ftrace_text(&v), &events_text(&v), 11);
        assert!(r.passed(), "{:?}", r.failures);
        assert_eq!((r.ftrace_events, r.seqsplice_events), (16, 11));
        assert_eq!(r.workload, (11, 11));
        let cpu = |c: u32, f, s, p, x| CpuSummary {
            cpu: c,
            ftrace: f,
            seqsplice: s,
            prefix: Some(p),
            suffix: Some(x),
            comm_exceptions: 0,
            exit_races: 0,
        };
        assert_eq!(r.cpus, vec![cpu(0, 9, 6, 2, 1), cpu(1, 7, 5, 1, 1)]);
    }

    #[test]
    fn fewer_workload_events_than_wanted_fail() {
        let v = scenario();
        fails_with(
            &run(&ftrace_text(&v), &events_text(&v), 12),
            &["fewer than the 12"],
        );
        fails_with(&run(&ftrace_text(&v), "", 1), &["seqsplice has 0 events"]);
    }

    #[test]
    fn a_field_mismatch_fails_and_shows_both_lines() {
        let v = scenario();
        let mut s = v.clone();
        s[7].fields = s[7].fields.replace("prev_prio=120", "prev_prio=121");
        let r = run(&ftrace_text(&v), &events_text(&s), 1);
        let (fl, sl) = (HEADER.lines().count() + 8, events_line(&v, 7));
        fails_with(
            &r,
            &[
                "cpu 0: seqsplice's 6 events are not a contiguous run of ftrace's 9",
                &format!("ftrace    line {fl}: {}", v[7].line().trim_end()),
                &format!("seqsplice line {sl}: {}", s[7].line().trim_end()),
            ],
        );
        assert!(r.failures.iter().all(|f| !f.starts_with("cpu 1")));
    }

    #[test]
    fn exit_state_z_against_x_is_a_counted_race_other_states_fail() {
        let v = scenario();
        let i = v
            .iter()
            .position(|e| e.inside && e.fields.contains(" prev_state=S "))
            .expect("a switch out in S inside the window");
        let (mut f, mut s) = (v.clone(), v.clone());
        f[i].fields = f[i].fields.replace(" prev_state=S ", " prev_state=Z ");
        s[i].fields = s[i].fields.replace(" prev_state=S ", " prev_state=X ");
        let r = run(&ftrace_text(&f), &events_text(&s), 1);
        assert!(r.passed(), "{:?}", r.failures);
        assert_eq!(r.cpus.iter().map(|c| c.exit_races).sum::<usize>(), 1);
        // Z against D is no race.
        s[i].fields = v[i].fields.replace(" prev_state=S ", " prev_state=D ");
        fails_with(
            &run(&ftrace_text(&f), &events_text(&s), 1),
            &["not a contiguous run"],
        );
    }

    #[test]
    fn flags_and_pid_are_compared() {
        let v = scenario();
        let mut s = v.clone();
        s[9].flags = "d.h4.";
        fails_with(
            &run(&ftrace_text(&v), &events_text(&s), 1),
            &["cpu 0:", "not a contiguous run"],
        );
        let mut s = v.clone();
        s[6].pid = 102;
        fails_with(
            &run(&ftrace_text(&v), &events_text(&s), 1),
            &["cpu 1:", "not a contiguous run"],
        );
    }

    #[test]
    fn a_missing_event_fails() {
        let v = scenario();
        let mut s = v.clone();
        s.remove(8);
        let r = run(&ftrace_text(&v), &events_text(&s), 1);
        fails_with(
            &r,
            &[
                "cpu 1: seqsplice's 4 events are not a contiguous run",
                &format!(
                    "ftrace    line {}: {}",
                    HEADER.lines().count() + 9,
                    v[8].line().trim_end()
                ),
            ],
        );
    }

    #[test]
    fn an_extra_seqsplice_event_fails() {
        let v = scenario();
        let mut s = v.clone();
        s.insert(6, wk(1, 44, C, KW, 0));
        fails_with(
            &run(&ftrace_text(&v), &events_text(&s), 1),
            &[
                "cpu 1: seqsplice's 6 events are not a contiguous run",
                "comm=kworker/0:1",
            ],
        );
        // Or one on a CPU ftrace has nothing for.
        let mut s = v.clone();
        s.insert(6, wk(2, 44, C, KW, 0));
        fails_with(
            &run(&ftrace_text(&v), &events_text(&s), 1),
            &["cpu 2: seqsplice's 1 events are not a contiguous run of ftrace's 0"],
        );
    }

    #[test]
    fn unknown_comm_in_ftrace_is_an_exception() {
        let v = scenario();
        let mut f = v.clone();
        f[5].comm = "<...>".to_string();
        let r = run(&ftrace_text(&f), &events_text(&v), 1);
        assert!(r.passed(), "{:?}", r.failures);
        assert_eq!(r.cpus[0].comm_exceptions, 1);
        assert_eq!(r.cpus[1].comm_exceptions, 0);
        // Any other difference in the comm column is a failure.
        let mut f = v.clone();
        f[5].comm = "evcheck2".to_string();
        fails_with(
            &run(&ftrace_text(&f), &events_text(&v), 1),
            &["cpu 0: 1 events whose comm column differs", "evcheck2-100"],
        );
        // ... and so is seqsplice's "<...>".
        let mut s = v.clone();
        s[5].comm = "<...>".to_string();
        fails_with(
            &run(&ftrace_text(&v), &events_text(&s), 1),
            &["comm column differs"],
        );
    }

    #[test]
    fn a_pid_with_two_comms_is_an_exception() {
        // Pid 100 was "sh" before it became evcheck: ftrace's saved_cmdlines
        // shows the later comm for the earlier events.
        let mut v = scenario();
        v[3] = sw(0, 30, IDLE0, "R", ("sh", 100));
        v[5].comm = "sh".to_string();
        let mut f = v.clone();
        f[5].comm = "evcheck".to_string();
        let r = run(&ftrace_text(&f), &events_text(&v), 1);
        assert!(r.passed(), "{:?}", r.failures);
        assert_eq!(r.cpus[0].comm_exceptions, 1);
    }

    #[test]
    fn a_lost_events_line_fails() {
        let v = scenario();
        let f = ftrace_text(&v).replacen(
            &v[3].line(),
            &format!("CPU:0 [LOST 3 EVENTS]\n{}", v[3].line()),
            1,
        );
        let r = run(&f, &events_text(&v), 1);
        fails_with(&r, &["[LOST 3 EVENTS]", "buffer too small"]);
        // The same in seqsplice's text.
        let s = format!("CPU:0 [LOST 1 EVENTS]\n{}", events_text(&v));
        fails_with(&run(&ftrace_text(&v), &s, 1), &["seqsplice line 1", "LOST"]);
    }

    #[test]
    fn an_overrun_ftrace_buffer_fails() {
        let v = scenario();
        let f = ftrace_text(&v).replace("16/16", "16/20");
        fails_with(
            &run(&f, &events_text(&v), 1),
            &["16 entries in the buffer but 20 written"],
        );
        let f = ftrace_text(&v).replacen(
            &v[3].line(),
            &format!("##### CPU 0 buffer started ####\n{}", v[3].line()),
            1,
        );
        fails_with(&run(&f, &events_text(&v), 1), &["the buffer overran"]);
    }

    #[test]
    fn a_workload_event_outside_the_window_fails() {
        let mut v = scenario();
        v[4].inside = false; // cpu 1's switch to the child: before seqsplice's run.
        let r = run(&ftrace_text(&v), &events_text(&v), 1);
        fails_with(
            &r,
            &[
                "cpu 1: 1 events naming comm \"evcheck\" in ftrace before seqsplice's run",
                "next_comm=evcheck next_pid=101",
                "ftrace has 11, seqsplice 10",
            ],
        );
        let mut v = scenario();
        v[13].inside = false; // cpu 0's last workload switch: after it.
        fails_with(
            &run(&ftrace_text(&v), &events_text(&v), 1),
            &["cpu 0: 1 events naming comm \"evcheck\" in ftrace after seqsplice's run"],
        );
    }

    #[test]
    fn decreasing_seqsplice_timestamps_fail() {
        let v = scenario();
        let mut s = v.clone();
        s[7].ts_us = 41; // before cpu 1's event at 45 in the merged file
        fails_with(
            &run(&ftrace_text(&v), &events_text(&s), 1),
            &["decrease in the merged file"],
        );
        let mut s = v.clone();
        s[9].ts_us = 49; // and before cpu 0's previous event
        let r = run(&ftrace_text(&v), &events_text(&s), 1);
        fails_with(&r, &["decrease on cpu 0"]);
        // Equal timestamps are fine: microseconds are coarse.
        let mut s = v.clone();
        s[9].ts_us = 55;
        let r = run(&ftrace_text(&v), &events_text(&s), 1);
        assert!(r.passed(), "{:?}", r.failures);
    }

    #[test]
    fn seqsplice_has_no_header_or_malformed_lines() {
        let v = scenario();
        let s = format!("# tracer: nop\n{}", events_text(&v));
        fails_with(
            &run(&ftrace_text(&v), &s, 1),
            &["seqsplice line 1: not an event line"],
        );
        let s = events_text(&v).replacen("[001]", "[00x]", 1);
        fails_with(
            &run(&ftrace_text(&v), &s, 1),
            &["seqsplice line 2: not an event line"],
        );
        let s = events_text(&v);
        fails_with(
            &run(&ftrace_text(&v), s.trim_end(), 1),
            &["does not end with a newline"],
        );
        let s = events_text(&v).replacen("sched_wakeup", "sched_waking", 1);
        fails_with(
            &run(&ftrace_text(&v), &s, 1),
            &["unexpected event \"sched_waking\""],
        );
    }

    #[test]
    fn ftrace_s_other_events_are_ignored() {
        let v = scenario();
        let extra = "          evcheck-100     [000] d..2.     0.000031: sched_waking: comm=x pid=1 prio=120 target_cpu=000\n";
        let f = ftrace_text(&v).replacen(&v[4].line(), &format!("{extra}{}", v[4].line()), 1);
        let r = run(&f, &events_text(&v), 1);
        assert!(r.passed(), "{:?}", r.failures);
        assert_eq!(r.ftrace_ignored, 1);
    }

    #[test]
    fn periodic_runs_are_found() {
        // A periodic workload gives many equal events: the run must still
        // be found, and one holding every workload event chosen.
        let mut v = Vec::new();
        for i in 0..40u64 {
            v.push(sw(0, 10 * i + 1, IDLE0, "R", P));
            v.push(sw(0, 10 * i + 2, P, "S", IDLE0));
        }
        v[0].inside = false;
        v[79].inside = false;
        for e in &mut v[..4] {
            *e = sw(0, e.ts_us, IDLE0, "R", KW);
        }
        v[0].inside = false;
        let r = run(&ftrace_text(&v), &events_text(&v), 70);
        assert!(
            r.failures.iter().all(|f| !f.contains("not a contiguous")),
            "{:?}",
            r.failures
        );
        assert_eq!((r.cpus[0].prefix, r.cpus[0].suffix), (Some(1), Some(1)));
    }

    #[test]
    fn find_runs_agrees_with_brute_force() {
        let mut x = 12345u64;
        for _ in 0..300 {
            let mut next = || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            };
            let text: Vec<u32> = (0..next() % 40).map(|_| (next() % 3) as u32).collect();
            let pat: Vec<u32> = (0..1 + next() % 5).map(|_| (next() % 3) as u32).collect();
            let (starts, (len, end)) = find_runs(&text, &pat);
            let brute: Vec<usize> = (0..text.len().saturating_sub(pat.len() - 1))
                .filter(|&o| text[o..].starts_with(&pat))
                .collect();
            assert_eq!(starts, brute, "{text:?} {pat:?}");
            let longest = (0..=text.len())
                .map(|o| {
                    text[o..]
                        .iter()
                        .zip(&pat)
                        .take_while(|(a, b)| a == b)
                        .count()
                })
                .max()
                .unwrap_or(0);
            assert_eq!(len, longest, "{text:?} {pat:?}");
            assert_eq!(text[end - len..end], pat[..len]);
        }
    }
}
