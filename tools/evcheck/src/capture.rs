// SPDX-License-Identifier: GPL-2.0
//! A whole capture, ftrace's `trace` or seqsplice's `events`, parsed into
//! its sched events, with everything that makes it unusable for the
//! comparison (unparseable lines, lost events, an overrun buffer) listed.

use crate::event::{parse_line, Event};

/// The events both sources record.
pub const SCHED_EVENTS: &[&str] = &["sched_switch", "sched_wakeup"];

/// Which file the text came from: ftrace's has `#` header lines and may
/// hold other events; seqsplice's has neither.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Ftrace,
    Seqsplice,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Ftrace => "ftrace",
            Source::Seqsplice => "seqsplice",
        }
    }
}

/// How many problems are quoted in full (the count is always given).
const QUOTED: usize = 5;

#[derive(Debug, Default)]
pub struct Capture<'a> {
    /// The sched events, in file order.
    pub events: Vec<Event<'a>>,
    /// What makes the capture unusable, one message each.
    pub problems: Vec<String>,
    /// ftrace's events of other kinds, skipped.
    pub ignored: usize,
}

impl<'a> Capture<'a> {
    fn problem(&mut self, count: &mut usize, msg: String) {
        *count += 1;
        if *count <= QUOTED {
            self.problems.push(msg);
        }
    }
}

/// `# entries-in-buffer/entries-written: E/W   #P:N` → (E, W).
fn entries_header(line: &str) -> Option<(u64, u64)> {
    let rest = line.strip_prefix("# entries-in-buffer/entries-written:")?;
    let (e, w) = rest.trim_start().split_once('/')?;
    let w = w.split_whitespace().next()?;
    Some((e.parse().ok()?, w.parse().ok()?))
}

pub fn parse(text: &str, source: Source) -> Capture<'_> {
    let mut c = Capture::default();
    let src = source.name();
    let (mut bad, mut lost) = (0, 0);
    if !text.is_empty() && !text.ends_with('\n') {
        c.problems
            .push(format!("{src}: the text does not end with a newline"));
    }
    for (i, line) in text.split_terminator('\n').enumerate() {
        let n = i + 1;
        if line.starts_with("CPU:") && line.contains("[LOST ") {
            c.problem(
                &mut lost,
                format!("{src} line {n}: {line:?}: events were lost (buffer too small?)"),
            );
            continue;
        }
        if source == Source::Ftrace && line.starts_with('#') {
            // "##### CPU N buffer started ####" is printed only when the
            // buffer overran: its oldest events are gone.
            if line.starts_with("##### CPU") {
                c.problem(
                    &mut lost,
                    format!("{src} line {n}: {line:?}: the buffer overran (buffer too small?)"),
                );
            } else if let Some((e, w)) = entries_header(line) {
                if e != w {
                    c.problem(
                        &mut lost,
                        format!(
                            "{src} line {n}: {e} entries in the buffer but {w} written: \
                             events were overwritten (buffer too small?)"
                        ),
                    );
                }
            }
            continue;
        }
        match parse_line(n, line) {
            Ok(ev) if SCHED_EVENTS.contains(&ev.name) => match ev.payload_tasks() {
                Ok(_) => c.events.push(ev),
                Err(e) => c.problem(&mut bad, format!("{src} {e}")),
            },
            Ok(_) if source == Source::Ftrace => c.ignored += 1,
            Ok(ev) => c.problem(
                &mut bad,
                format!("{src} line {n}: unexpected event {:?}: {line:?}", ev.name),
            ),
            Err(e) => c.problem(&mut bad, format!("{src} {e}")),
        }
    }
    for (count, what) in [(bad, "malformed lines"), (lost, "lost-event marks")] {
        if count > QUOTED {
            c.problems.push(format!(
                "{src}: {count} {what} in all ({} more not shown)",
                count - QUOTED
            ));
        }
    }
    c
}
