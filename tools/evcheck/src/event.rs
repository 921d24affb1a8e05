// SPDX-License-Identifier: GPL-2.0
//! One line of ftrace's `trace` (default options) or of seqsplice's
//! `events`, parsed:
//!
//! ```text
//!             bash-123     [001] d..2.    12.345678: sched_switch: prev_comm=bash ...
//! ```
//!
//! that is `"%16s-%-7d [%03d] %c%c%c%c%c %5lu.%06lu: %s: %s\n"`: comm
//! column, pid, CPU, five flag characters, seconds.microseconds, event name,
//! the event's fields.

/// A parsed event line; the `&str`s borrow the text it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    /// 1-based line number in its file.
    pub line: usize,
    /// The whole line, without its newline.
    pub text: &'a str,
    /// The comm column, leading padding removed.
    pub comm: &'a str,
    pub pid: u32,
    pub cpu: u32,
    /// The five latency-format characters (`d..2.`).
    pub flags: &'a str,
    /// The timestamp in nanoseconds (printed to the microsecond).
    pub ts_ns: u64,
    pub name: &'a str,
    /// Everything after `name: `, compared byte for byte.
    pub fields: &'a str,
}

/// The tasks a sched event's payload names: (comm, pid) pairs.
pub type Tasks<'a> = Vec<(&'a str, u32)>;

impl<'a> Event<'a> {
    /// The key compared between ftrace and seqsplice: every field but the
    /// timestamp and the comm column (the CPU is the grouping key), with a
    /// switch's `prev_state=X` read as `Z`: an exiting task's
    /// `exit_state` goes from EXIT_ZOMBIE to EXIT_DEAD when its parent
    /// reaps it on another CPU, which can fall between the two probes'
    /// reads of it (`__trace_sched_switch_state()`), so that one prints Z
    /// and the other X for the same switch. Such pairs are counted apart
    /// ([`Event::exit_race`]).
    pub fn key(&self) -> (u32, &'a str, &'a str, std::borrow::Cow<'a, str>) {
        let fields = if self.name == "sched_switch" && self.fields.contains(" prev_state=X ") {
            std::borrow::Cow::Owned(self.fields.replacen(" prev_state=X ", " prev_state=Z ", 1))
        } else {
            std::borrow::Cow::Borrowed(self.fields)
        };
        (self.pid, self.flags, self.name, fields)
    }

    /// Whether `self` and `other` (equal keys) differ only by the
    /// exit-state race of [`Event::key`].
    pub fn exit_race(&self, other: &Event<'_>) -> bool {
        self.fields != other.fields
    }

    /// The tasks named in a sched_switch or sched_wakeup payload;
    /// `Ok(None)` for other events.
    pub fn payload_tasks(&self) -> Result<Option<Tasks<'a>>, String> {
        let bad = || {
            format!(
                "line {}: malformed {} fields: {}",
                self.line, self.name, self.text
            )
        };
        match self.name {
            "sched_switch" => {
                // prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s ==>
                // next_comm=%s next_pid=%d next_prio=%d
                let f = self.fields.strip_prefix("prev_comm=").ok_or_else(bad)?;
                let (prev, next) = f.rsplit_once(" ==> next_comm=").ok_or_else(bad)?;
                let (prev_comm, rest) = prev.rsplit_once(" prev_pid=").ok_or_else(bad)?;
                let prev_pid = leading_number(rest).ok_or_else(bad)?;
                let (next_comm, rest) = next.rsplit_once(" next_pid=").ok_or_else(bad)?;
                let next_pid = leading_number(rest).ok_or_else(bad)?;
                Ok(Some(vec![(prev_comm, prev_pid), (next_comm, next_pid)]))
            }
            "sched_wakeup" => {
                // comm=%s pid=%d prio=%d target_cpu=%03d
                let f = self.fields.strip_prefix("comm=").ok_or_else(bad)?;
                let (comm, rest) = f.rsplit_once(" pid=").ok_or_else(bad)?;
                let pid = leading_number(rest).ok_or_else(bad)?;
                Ok(Some(vec![(comm, pid)]))
            }
            _ => Ok(None),
        }
    }
}

/// The decimal number at the start of `s`, which must end there or at a
/// space.
fn leading_number(s: &str) -> Option<u32> {
    let digits = s.split(' ').next()?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// What follows `" ["` in an event line, parsed: (cpu, flags, ts_ns, name,
/// fields), or `None` if this `" ["` is not the CPU column.
fn parse_tail(s: &str) -> Option<(u32, &str, u64, &str, &str)> {
    let (cpu, s) = s.split_once("] ")?;
    if cpu.is_empty() || !cpu.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let cpu = cpu.parse().ok()?;
    let flags = s.get(..5)?;
    if !flags.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let s = s[5..].strip_prefix(' ')?.trim_start_matches(' ');
    let (ts, s) = s.split_once(": ")?;
    let (sec, frac) = ts.split_once('.')?;
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(sec) || !all_digits(frac) || frac.len() > 9 {
        return None;
    }
    let ns = sec.parse::<u64>().ok()?.checked_mul(1_000_000_000)?
        + frac.parse::<u64>().ok()? * 10u64.pow(9 - frac.len() as u32);
    let (name, fields) = match s.split_once(": ") {
        Some(p) => p,
        None => (s.strip_suffix(':')?, ""),
    };
    if name.is_empty() || name.contains(' ') {
        return None;
    }
    Some((cpu, flags, ns, name, fields))
}

/// Parses one event line (no newline). The CPU column is the first `" ["`
/// followed by `NNN] `, five flag characters and a timestamp; the pid is
/// the number after the last `-` before it, and the comm everything
/// before that `-` (so comms with spaces, dashes or brackets parse).
pub fn parse_line(line: usize, text: &str) -> Result<Event<'_>, String> {
    let bad = |why: &str| format!("line {line}: {why}: {text:?}");
    let mut from = 0;
    while let Some(at) = text[from..].find(" [").map(|p| p + from) {
        if let Some((cpu, flags, ts_ns, name, fields)) = parse_tail(&text[at + 2..]) {
            let head = text[..at].trim_end_matches(' ');
            let Some((comm, pid)) = head.rsplit_once('-') else {
                return Err(bad("no \"-PID\" before the CPU column"));
            };
            if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("no \"-PID\" before the CPU column"));
            }
            let pid = pid.parse().map_err(|_| bad("pid out of range"))?;
            return Ok(Event {
                line,
                text,
                comm: comm.trim_start_matches(' '),
                pid,
                cpu,
                flags,
                ts_ns,
                name,
                fields,
            });
        }
        from = at + 1;
    }
    Err(bad(
        "not an event line (no \" [CPU] FLAGS TIMESTAMP: NAME:\")",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SWITCH: &str = "            bash-123     [001] d..2.    12.345678: sched_switch: \
        prev_comm=bash prev_pid=123 prev_prio=120 prev_state=S ==> next_comm=swapper/1 \
        next_pid=0 next_prio=120";
    const WAKEUP: &str = "          <idle>-0       [000] dNh4.    12.345700: sched_wakeup: \
        comm=kworker/0:1 pid=20 prio=120 target_cpu=000";

    #[test]
    fn parses_the_spec_examples() {
        let e = parse_line(7, SWITCH).unwrap();
        assert_eq!(
            (e.line, e.comm, e.pid, e.cpu, e.flags, e.ts_ns, e.name),
            (7, "bash", 123, 1, "d..2.", 12_345_678_000, "sched_switch")
        );
        assert!(e.fields.starts_with("prev_comm=bash prev_pid=123 "));
        assert!(e.fields.ends_with("next_prio=120"));
        assert_eq!(
            e.payload_tasks().unwrap().unwrap(),
            vec![("bash", 123), ("swapper/1", 0)]
        );
        let w = parse_line(1, WAKEUP).unwrap();
        assert_eq!((w.comm, w.pid, w.cpu, w.flags), ("<idle>", 0, 0, "dNh4."));
        assert_eq!(w.ts_ns, 12_345_700_000);
        assert_eq!(
            w.payload_tasks().unwrap().unwrap(),
            vec![("kworker/0:1", 20)]
        );
    }

    #[test]
    fn comms_with_spaces_dashes_and_brackets() {
        let l = "  a-1 [2] b-22-4567 [003] .N... 100000.000001: sched_wakeup: \
                 comm=x [1] y-2 pid=4567 prio=120 target_cpu=003";
        let e = parse_line(1, l).unwrap();
        assert_eq!((e.comm, e.pid, e.cpu), ("a-1 [2] b-22", 4567, 3));
        assert_eq!(e.ts_ns, 100_000_000_001_000);
        assert_eq!(
            e.payload_tasks().unwrap().unwrap(),
            vec![("x [1] y-2", 4567)]
        );
        // A pid of more than 7 digits leaves a single space.
        let e = parse_line(1, "evcheck-12345678 [000] ..... 1.000000: sched_wakeup: comm=a pid=1 prio=1 target_cpu=000").unwrap();
        assert_eq!((e.comm, e.pid), ("evcheck", 12_345_678));
    }

    #[test]
    fn rejects_what_is_not_an_event_line() {
        for l in [
            "",
            "# tracer: nop",
            "CPU:1 [LOST 12 EVENTS]",
            "            bash-123     [001] d..2 12.345678: sched_switch: x",
            "            bash-123     [001] d..2.    12.: sched_switch: x",
            "            bash-12a     [001] d..2.    12.345678: sched_switch: x",
            "            bash         [001] d..2.    12.345678: sched_switch: x",
            "            bash-123     [0x1] d..2.    12.345678: sched_switch: x",
        ] {
            assert!(parse_line(1, l).is_err(), "{l:?} parsed");
        }
        let e = parse_line(3, "x-1 [000] ..... 1.000000: sched_switch: prev_comm=x").unwrap();
        assert!(e.payload_tasks().is_err());
    }
}
