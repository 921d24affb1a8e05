// SPDX-License-Identifier: GPL-2.0
//! `spbench --smoke`: every benchmark path on a few KiB, through the same
//! code the timed runs use, with the bytes that reach a visible sink
//! compared against the documented record stream (`seqsplice-model`, the
//! model tests/host and ssfuzz use too). Paths whose sink is /dev/null are
//! checked for the byte count. Then the pipe-buffer counts the report
//! divides by are checked against a direct count of the buffers
//! ([`Bench::census`]): the module's `pages_gifted` for the gift sources,
//! DIV_ROUND_UP(n, PAGE_SIZE) per call for copy_splice_read. A path the
//! module cannot run (map_mode=direct before that mode exists) is listed
//! as not run, with the reason. The consumer paths (the bench module's C
//! seq_file, [`consumer`]) likewise, when the module is loaded, and its
//! three files compared with each other ([`consumer::check_identical`]).
//! Then the live line on a tiny capture ([`live_smoke`]). Knobs are
//! restored after.
//! Output lines start with "# " so a TAP consumer treats them as comments.

use crate::consumer;
use crate::live;
use crate::paths::{
    all_paths, consumer_paths, live_paths, live_read_paths, unsupported, Bench, Config, Method,
    Path, Sink, Source, TcpReceiver,
};
use crate::sys;
use seqsplice_model::{Mode, Stream};

const KNOBS: &[&str] = &[
    "record_mode",
    "record_width",
    "record_count",
    "buffer_size_kb",
    "copy_buffer_size_kb",
    "map_mode",
];

/// (mode, width, buffer_size_kb, call/pipe size, records)
const CASES: &[(&str, usize, usize, usize, u64)] = &[
    ("raw", 100, 4, 4096, 230),
    ("printf", 100, 64, 16384, 230),
    ("printf", 100, 8, 65536, 170),
    ("raw", 4096, 16, 8192, 5),
];

fn visible(p: &Path) -> Path {
    // The /dev/null variants are also run as themselves (count check);
    // here the same source and method with a sink we can read back.
    match (p.method, p.source) {
        (Method::Vmsplice, _)
        | (
            Method::Splice,
            Source::TraceVmap | Source::TraceVmMapRam | Source::TraceDirect | Source::TraceOps,
        ) => Path {
            sink: Sink::PipeRead,
            ..*p
        },
        _ => *p,
    }
}

pub fn run(dir: &str) -> i32 {
    let saved: Vec<(&str, String)> = KNOBS
        .iter()
        .filter_map(|k| {
            sys::read_text(&format!("{dir}/{k}"))
                .ok()
                .map(|v| (*k, v.trim().to_string()))
        })
        .collect();
    if saved.len() < KNOBS.len() - 1 {
        println!("# spbench smoke: cannot read the knobs in {dir} (module mounted?)");
        return 1;
    }
    let mut bad = 0;
    let mut good = 0;
    let mut not_run = Vec::new();
    for p in all_paths() {
        if let Some(why) = unsupported(dir, &p) {
            println!("# spbench smoke: not run: {}: {why}", p.id());
            not_run.push(p);
        }
    }
    let consumer_ok = match consumer::unsupported() {
        None => true,
        Some(why) => {
            println!("# spbench smoke: not run: the consumer paths: {why}");
            not_run.extend(consumer_paths());
            false
        }
    };
    // Every path of the record stream, the consumer's too.
    let every = || all_paths().into_iter().chain(consumer_paths());
    for &(mode, width, buf_kb, size, count) in CASES {
        let cfg = Config {
            dir: dir.to_string(),
            mode: mode.to_string(),
            width,
            buf_kb,
            size,
        };
        let what = format!("{mode} width={width} buf={buf_kb}K size={size}");
        let mut b = match Bench::new(cfg.clone()) {
            Ok(b) => b,
            Err(e) => {
                println!("# spbench smoke: FAIL setup {what}: {e}");
                bad += 1;
                continue;
            }
        };
        // The reference: the documented record stream (the shared model);
        // read() of trace_copy is one of the paths checked against it.
        let stream = Stream::new(
            count,
            width,
            Mode::from_name(mode).expect("a CASES mode is a knob value"),
        );
        let reference = stream.bytes(0, stream.size() as usize);
        if consumer_ok {
            match consumer::check_identical(&mut b, count) {
                Ok(n) => {
                    println!("# spbench smoke: consumer ({what}): the three files give the same {n} bytes");
                    good += 1;
                }
                Err(e) => {
                    println!("# spbench smoke: FAIL consumer ({what}): {e}");
                    bad += 1;
                }
            }
        }
        for p in every() {
            if not_run.contains(&p) {
                continue;
            }
            let mut runs = vec![p];
            if visible(&p) != p {
                runs.push(visible(&p));
            }
            // The TCP sink runs with both receivers (thread and inline).
            let modes: &[TcpReceiver] = if p.sink == Sink::Tcp {
                &[TcpReceiver::Thread, TcpReceiver::Inline]
            } else {
                &[TcpReceiver::Thread]
            };
            for (q, &rcv) in runs.iter().flat_map(|q| modes.iter().map(move |m| (*q, m))) {
                b.tcp_receiver = rcv;
                let mut got = Vec::new();
                let res = b.run(q, count, Some(&mut got));
                let seen = q.sink != Sink::Null && q.method != Method::Seek;
                let verdict = match res {
                    Err(e) => Err(format!("{e}")),
                    Ok(o) if o.bytes != reference.len() as u64 => {
                        Err(format!("{} bytes, expected {}", o.bytes, reference.len()))
                    }
                    // vmsplice's bytes are checked inside the run.
                    Ok(_) if q.source == Source::User => Ok(()),
                    Ok(_) if seen && got.len() != reference.len() => Err(format!(
                        "{} bytes reached the sink, the stream has {}",
                        got.len(),
                        reference.len()
                    )),
                    Ok(_) if seen && got != reference => Err(match stream.check(0, &got) {
                        Err(m) => format!("bytes differ from the record stream: {m}"),
                        Ok(()) => "bytes differ from the record stream".to_string(),
                    }),
                    Ok(_) => Ok(()),
                };
                let id = if q.method == Method::Vmsplice {
                    format!(
                        "vmsplice.{}.user",
                        if q.sink == Sink::Null {
                            "null"
                        } else {
                            "piperead"
                        }
                    )
                } else if q.sink == Sink::Tcp {
                    format!("{} ({rcv:?} receiver)", q.id())
                } else {
                    q.id()
                };
                match verdict {
                    Ok(()) => good += 1,
                    Err(e) => {
                        println!("# spbench smoke: FAIL {id} ({what}): {e}");
                        bad += 1;
                    }
                }
            }
        }
        // The pipe-buffer census, on the /dev/null variant of each splice
        // source (the sink does not change what the source inserts).
        for p in every() {
            if p.method != Method::Splice || p.sink != Sink::Null || not_run.contains(&p) {
                continue;
            }
            let id = format!("{} pipe buffers", p.id());
            match b.census(p, count, 3) {
                Ok((bufs, bytes, counted)) if bufs == counted && bufs > 0 => {
                    println!(
                        "# spbench smoke: {id} ({what}): {bufs} buffers for {bytes} bytes, as counted"
                    );
                    good += 1;
                }
                Ok((bufs, bytes, counted)) => {
                    println!(
                        "# spbench smoke: FAIL {id} ({what}): {bufs} buffers walked for {bytes} bytes, {counted} by the report's count"
                    );
                    bad += 1;
                }
                Err(e) => {
                    println!("# spbench smoke: FAIL {id} ({what}): {e}");
                    bad += 1;
                }
            }
        }
    }
    match live_smoke(dir) {
        Ok(n) => good += n,
        Err(LiveSmoke::NotRun(why)) => {
            println!("# spbench smoke: not run: the live paths: {why}");
            not_run.extend(live_paths());
        }
        Err(LiveSmoke::Fail(n, e)) => {
            good += n;
            println!("# spbench smoke: FAIL live: {e}");
            bad += 1;
        }
    }
    for (k, v) in &saved {
        if let Err(e) = sys::write_text(&format!("{dir}/{k}"), v) {
            println!("# spbench smoke: FAIL restoring {k}: {e}");
            bad += 1;
        }
    }
    println!(
        "# spbench smoke: {good} path runs ok, {bad} failed, {} path(s) not run",
        not_run.len()
    );
    if bad == 0 {
        0
    } else {
        1
    }
}

enum LiveSmoke {
    NotRun(String),
    /// The checks that passed before the failure, and the failure.
    Fail(u32, String),
}

/// Round trips of the smoke's capture (about four events each).
const LIVE_ROUNDS: u64 = 200;

/// The live line on a tiny capture: each live path to a pipe read back
/// and to /dev/null, `events` and `events_copy` byte for byte the same,
/// ftrace's `trace` not empty and both holding sched_switch and
/// sched_wakeup lines; `mirror` and `mirror_copy` (where the module has
/// them) byte for byte ftrace's `trace`. ftrace and the module get their
/// settings back.
fn live_smoke(dir: &str) -> Result<u32, LiveSmoke> {
    if let Some(why) = live::unsupported(dir) {
        return Err(LiveSmoke::NotRun(why));
    }
    let r = live_checks(dir);
    let u = live::uncapture(dir);
    match (r, u) {
        (Ok(n), Ok(())) => Ok(n),
        (Ok(n), Err(e)) => Err(LiveSmoke::Fail(n, format!("uncapture: {e}"))),
        (Err(e), _) => Err(e),
    }
}

fn live_checks(dir: &str) -> Result<u32, LiveSmoke> {
    let c = live::capture(dir, 0, Some((LIVE_ROUNDS, 1024)))
        .map_err(|e| LiveSmoke::Fail(0, format!("capture of {LIVE_ROUNDS} round trips: {e}")))?;
    println!(
        "# spbench smoke: live capture: {} events in {LIVE_ROUNDS} round trips; events {} bytes ({} lines), ftrace's trace {} bytes ({} lines, {} of them '#')",
        c.events_recorded, c.events.bytes, c.events.lines, c.ftrace.bytes, c.ftrace.lines, c.ftrace.header
    );
    let mut good = 0;
    let fail = |good, e: String| LiveSmoke::Fail(good, e);
    if c.events.switches == 0 || c.events.wakeups == 0 {
        return Err(fail(
            good,
            format!("events lacks sched lines: {:?}", c.events),
        ));
    }
    if c.ftrace.switches == 0 || c.ftrace.wakeups == 0 {
        return Err(fail(
            good,
            format!("ftrace's trace lacks sched lines: {:?}", c.ftrace),
        ));
    }
    good += 1;
    let cfg = Config {
        dir: dir.to_string(),
        mode: "live".to_string(),
        width: 0,
        buf_kb: 64,
        size: 16384,
    };
    let mut b = Bench::new(cfg).map_err(|e| fail(good, format!("setup: {e}")))?;
    b.live = Some(c.clone());
    let mut got = Vec::new();
    let no_mirror = live::unsupported_mirror(dir);
    if let Some(why) = &no_mirror {
        println!("# spbench smoke: not run: the live mirror paths: {why}");
    }
    for p in live_paths() {
        if no_mirror.is_some() && matches!(p.source, Source::LiveMirror | Source::LiveMirrorCopy) {
            continue;
        }
        for sink in [Sink::Null, Sink::PipeRead] {
            let q = Path { sink, ..p };
            let mut bytes = Vec::new();
            let o = b
                .run(q, u64::MAX, Some(&mut bytes))
                .map_err(|e| fail(good, format!("{}: {e}", q.id())))?;
            if sink == Sink::PipeRead && bytes.len() as u64 != o.bytes {
                return Err(fail(
                    good,
                    format!("{}: {} bytes read back of {}", q.id(), bytes.len(), o.bytes),
                ));
            }
            good += 1;
            if sink == Sink::PipeRead {
                got.push((p.source, bytes));
            }
        }
    }
    let of = |s: Source| &got.iter().find(|(x, _)| *x == s).expect("run above").1;
    let (ftrace, events, copy) = (
        of(Source::LiveFtrace),
        of(Source::LiveEvents),
        of(Source::LiveEventsCopy),
    );
    if events != copy {
        let at = events.iter().zip(copy.iter()).position(|(a, b)| a != b);
        return Err(fail(
            good,
            format!(
                "events ({} bytes) and events_copy ({} bytes) differ (first at byte {at:?})",
                events.len(),
                copy.len()
            ),
        ));
    }
    if ftrace.is_empty() {
        return Err(fail(good, "ftrace's trace is empty".into()));
    }
    println!(
        "# spbench smoke: live: events == events_copy ({} bytes), ftrace's trace {} bytes",
        events.len(),
        ftrace.len()
    );
    good += 1;
    if no_mirror.is_none() {
        for s in [Source::LiveMirror, Source::LiveMirrorCopy] {
            let m = of(s);
            if m != ftrace {
                let at = m.iter().zip(ftrace.iter()).position(|(a, b)| a != b);
                return Err(fail(
                    good,
                    format!(
                        "{} ({} bytes) and ftrace's trace ({} bytes) differ (first at byte {at:?})",
                        s.name(),
                        m.len(),
                        ftrace.len()
                    ),
                ));
            }
        }
        println!(
            "# spbench smoke: live: mirror == mirror_copy == ftrace's trace ({} bytes)",
            ftrace.len()
        );
        good += 1;
    }
    // The batched line's read() paths: the same bytes as the splice.
    for p in live_read_paths() {
        if no_mirror.is_some() && matches!(p.source, Source::LiveMirror | Source::LiveMirrorCopy) {
            continue;
        }
        let mut bytes = Vec::new();
        b.run(p, u64::MAX, Some(&mut bytes))
            .map_err(|e| fail(good, format!("{}: {e}", p.id())))?;
        if &bytes != ftrace {
            let at = bytes.iter().zip(ftrace.iter()).position(|(a, b)| a != b);
            return Err(fail(
                good,
                format!(
                    "{} ({} bytes) and ftrace's spliced trace ({} bytes) differ (first at byte {at:?})",
                    p.id(),
                    bytes.len(),
                    ftrace.len()
                ),
            ));
        }
        good += 1;
    }
    println!(
        "# spbench smoke: live: read() of ftrace's trace{} == its splice",
        if no_mirror.is_none() {
            ", mirror and mirror_copy"
        } else {
            ""
        }
    );
    Ok(good)
}
