// SPDX-License-Identifier: GPL-2.0
//! spbench: the seqsplice benchmark, run inside the guest.
//!
//!   spbench env   [--dir D]
//!       refuses a jiffies clocksource (as run does; SPBENCH_ALLOW_JIFFIES=1
//!       lets both go on), prints `BENCH {"type":"env",...}`
//!   spbench run   --mode raw|printf --width W --buf-kb K --size BYTES
//!                 --volume BYTES [--reps R] [--warmup BYTES]
//!                 [--paths id,id,...] [--tag T] [--dir D]
//!                 [--tcp-receiver auto|thread|inline]  (auto: a receiver
//!                 thread on CPU 1 when there are 2+ CPUs, else inline)
//!                 [--first-rep N]  (rounds numbered from N: a driver that
//!                 runs one round per invocation keeps the numbering)
//!                 [--perf-control CTL,ACK]  (under `perf stat -D -1
//!                 --control fifo:CTL,ACK`: counters on for the timed
//!                 segments only, not for setup or the warm-up)
//!                 [--flush-probe on|off]  (off: no kernel TLB flush
//!                 counters, to measure what they cost)
//!       one configuration: every path once per round, rounds interleaved
//!       (ABAB), one `BENCH {"type":"run",...}` line per timed run
//!   spbench run   --mode live --buf-kb K --size BYTES [--reps R]
//!                 [--warmup BYTES] [--paths id,...] [--tag T] [--dir D]
//!       the live line: ftrace's `trace`, the module's `events` and
//!       `events_copy` over the capture below, each whole file per run
//!       (spliced; ftrace's `trace`, `mirror` and `mirror_copy` also by
//!       read(), paths read.liveftrace, read.livemirror,
//!       read.livemirrorcopy: the batched line's)
//!       (its size is the run's volume), rounds interleaved as above; a
//!       `BENCH {"type":"skip",...}` line per path when there is no ftrace,
//!       no events file or no capture. ftrace's formatter is also run
//!       through the module's `mirror` (the engine) and `mirror_copy` (the
//!       stock core, equal seq buffer): before a configuration's runs of
//!       those, each of them and ftrace's `trace` is spliced whole at the
//!       run's size and must give the same bytes (size and hash; a
//!       `BENCH {"type":"livecheck",...}` line says so), else the run
//!       fails with the first difference
//!   The consumer paths (`spbench paths consumer`: the bench module's C
//!   seq_file through the API and the stock core, src/consumer.rs) run
//!   with --mode printf|raw; before a configuration's runs the three files
//!   must give the same bytes (the record stream's) over
//!   min(volume, max(256 KiB, 2 x size)), else the run fails
//!   spbench capture [--text BYTES] [--tag T] [--dir D]
//!       records sched_switch/sched_wakeup in ftrace and in the module at
//!       once, until the module's text is >= BYTES (default 64M), prints
//!       `BENCH {"type":"capture",...}` and keeps the facts for the live
//!       runs (src/live.rs); where it cannot run, a skip line per live
//!       path: exit 0 without ftrace or the module's events, 1 otherwise
//!   spbench uncapture [--dir D]
//!       gives ftrace and the module their settings back
//!   spbench --smoke [--dir D]
//!       every path on a few KiB, bytes compared with the record stream's
//!       model (seqsplice-model), and the live paths on a tiny capture
//!       (events == events_copy, ftrace's trace not empty);
//!       exits 1 on any mismatch
//!   spbench paths [live|consumer]
//!       the path ids (the live line's with `live`, the consumer line's
//!       with `consumer`)
//!
//! Times are CLOCK_MONOTONIC nanoseconds. Under QEMU `-icount shift=0`
//! that clock is the emulated instruction count (1 ns per instruction).

mod consumer;
mod counters;
mod live;
mod paths;
mod smoke;
mod sys;

use std::collections::BTreeMap;
use std::process::exit;

use paths::{all_paths, consumer_paths, live_paths, live_read_paths, Bench, Config, Path};

pub const DEFAULT_DIR: &str = "/sys/kernel/seqsplice";
const CLOCKSOURCE: &str = "/sys/devices/system/clocksource/clocksource0/current_clocksource";

fn die(msg: &str) -> ! {
    eprintln!("spbench: {msg}");
    exit(2)
}

/// Minimal JSON string escaping (the values are ours: ASCII).
pub fn js(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

struct Args {
    kv: BTreeMap<String, String>,
}

impl Args {
    fn parse(v: &[String]) -> Args {
        let mut kv = BTreeMap::new();
        let mut i = 0;
        while i < v.len() {
            let k = v[i]
                .strip_prefix("--")
                .unwrap_or_else(|| die(&format!("unexpected argument '{}'", v[i])));
            let val = v
                .get(i + 1)
                .unwrap_or_else(|| die(&format!("--{k} needs a value")));
            kv.insert(k.to_string(), val.clone());
            i += 2;
        }
        Args { kv }
    }
    fn str(&self, k: &str, d: Option<&str>) -> String {
        match (self.kv.get(k), d) {
            (Some(v), _) => v.clone(),
            (None, Some(d)) => d.to_string(),
            (None, None) => die(&format!("--{k} is required")),
        }
    }
    fn num(&self, k: &str, d: Option<u64>) -> u64 {
        match self.kv.get(k) {
            Some(v) => parse_size(v).unwrap_or_else(|| die(&format!("--{k}: bad number '{v}'"))),
            None => d.unwrap_or_else(|| die(&format!("--{k} is required"))),
        }
    }
}

/// A number with an optional K/M suffix (binary units).
fn parse_size(s: &str) -> Option<u64> {
    let (n, mul) = match s.as_bytes().last()? {
        b'K' | b'k' => (&s[..s.len() - 1], 1024),
        b'M' | b'm' => (&s[..s.len() - 1], 1024 * 1024),
        _ => (s, 1),
    };
    n.parse::<u64>().ok().map(|v| v * mul)
}

/// Refuses clocksources that make nanosecond timings meaningless, unless
/// SPBENCH_ALLOW_JIFFIES=1: a driver's smoke test (scripts/native-bench.sh
/// --smoke in make check's guest, whose TSC is unusable under TCG) checks
/// what the runs print, not what they measure.
fn check_clocksource() -> String {
    let cs = sys::read_text(CLOCKSOURCE)
        .unwrap_or_else(|e| die(&format!("cannot read the clocksource: {e}")))
        .trim()
        .to_string();
    let allow = std::env::var("SPBENCH_ALLOW_JIFFIES").is_ok_and(|v| v == "1");
    if !allow && (cs == "jiffies" || cs == "refined-jiffies") {
        die(&format!(
            "clocksource is '{cs}' (tick resolution): refusing to time anything; \
             boot with a TSC/HPET/kvm-clock clocksource (e.g. tsc=reliable under QEMU -icount)"
        ));
    }
    cs
}

fn cmd_env(a: &Args) {
    let dir = a.str("dir", Some(DEFAULT_DIR));
    let cs = check_clocksource();
    let cpuinfo = sys::read_text("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("?")
        .trim()
        .to_string();
    let flags = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .map(|l| l.to_string())
        .unwrap_or_default();
    let has = |f: &str| flags.split_whitespace().any(|x| x == f);
    let kernel = sys::read_text("/proc/version").unwrap_or_default();
    let cmdline = sys::read_text("/proc/cmdline").unwrap_or_default();
    let probe = counters::FlushProbe::open();
    let snap = counters::Snapshot::take(&dir, probe.as_ref().ok(), counters::End::Start);
    let tlb_keys: Vec<String> = snap
        .0
        .keys()
        .filter(|k| k.starts_with("vmstat.") && k.contains("tlb"))
        .map(|k| js(k))
        .collect();
    let avail =
        sys::read_text("/sys/devices/system/clocksource/clocksource0/available_clocksource")
            .unwrap_or_default();
    let flush_probe = match &probe {
        Ok(p) => format!(
            "csd:csd_function_entry perf counters on {} CPU(s): {}",
            p.cpus,
            counters::FLUSH_FUNCS.join(", ")
        ),
        Err(e) => format!("unavailable: {e}"),
    };
    println!(
        "BENCH {{\"type\":\"env\",\"clocksource\":{},\"available_clocksource\":{},\"cpu_model\":{},\"cpus\":{},\"erms\":{},\"fsrm\":{},\"kernel\":{},\"cmdline\":{},\"vmstat_tlb_counters\":[{}],\"irq_tlb_row\":{},\"flush_probe\":{},\"flush_probe_ok\":{},\"pipe_max_size\":{}}}",
        js(&cs),
        js(avail.trim()),
        js(&model),
        sys::online_cpus(),
        has("erms"),
        has("fsrm"),
        js(kernel.trim()),
        js(cmdline.trim()),
        tlb_keys.join(","),
        snap.0.contains_key("irq.TLB"),
        js(&flush_probe),
        probe.is_ok(),
        sys::read_text("/proc/sys/fs/pipe-max-size").unwrap_or_default().trim()
    );
}

fn cmd_run(a: &Args) {
    check_clocksource();
    let mode = a.str("mode", None);
    // The live line has no records: no width, and each file's size is
    // the volume.
    let live = mode == "live";
    let cfg = Config {
        dir: a.str("dir", Some(DEFAULT_DIR)),
        mode,
        width: a.num("width", live.then_some(0)) as usize,
        buf_kb: a.num("buf-kb", None) as usize,
        size: a.num("size", None) as usize,
    };
    if cfg.size == 0 || (cfg.width == 0 && !live) {
        die("--size and --width must be positive");
    }
    let volume = a.num("volume", live.then_some(0));
    let reps = a.num("reps", Some(2));
    let first_rep = a.num("first-rep", Some(0));
    let warmup = a.num("warmup", Some(256 * 1024));
    let tag = a.str("tag", Some(""));
    let asked: Vec<Path> = match a.kv.get("paths") {
        None if live => live_paths(),
        None => all_paths(),
        Some(list) => list
            .split(',')
            .map(|id| {
                Path::parse(id)
                    .unwrap_or_else(|| die(&format!("unknown path '{id}' (see spbench paths)")))
            })
            .collect(),
    };
    if let Some(p) = asked
        .iter()
        .find(|p| p.source.live_file().is_some() != live)
    {
        die(&format!(
            "{}: the live paths run with --mode live, and only they",
            p.id()
        ));
    }
    // The capture the live paths read, or why there is none.
    let capture = if live {
        live::Capture::load(&cfg.dir)
    } else {
        Err(String::new())
    };
    let mut paths = Vec::new();
    for p in asked {
        let why = match (&capture, live) {
            (Err(e), true) => paths::unsupported(&cfg.dir, &p).or(Some(e.clone())),
            _ => paths::unsupported(&cfg.dir, &p),
        };
        match why {
            None => paths.push(p),
            Some(why) => {
                eprintln!("spbench: not running {}: {why}", p.id());
                println!(
                    "BENCH {{\"type\":\"skip\",\"tag\":{},\"path\":{},\"reason\":{}}}",
                    js(&tag),
                    js(&p.id()),
                    js(&why)
                );
            }
        }
    }
    let (count, wcount) = if live {
        // Live runs: the whole file (Bench::run), the warm-up its start.
        (u64::MAX, warmup.max(1))
    } else {
        (
            volume.div_ceil(cfg.width as u64).clamp(1, 10_000_000),
            warmup.div_ceil(cfg.width as u64).clamp(1, 10_000_000),
        )
    };
    if live && paths.is_empty() {
        return;
    }
    sys::pin(0);
    let mut b = Bench::new(cfg.clone()).unwrap_or_else(|e| die(&format!("setup: {e}")));
    b.live = capture.ok();
    // The consumer's three files: the same bytes before any is timed.
    if paths.iter().any(|p| p.source.is_consumer()) {
        let bytes = volume.min((256 * 1024).max(2 * cfg.size as u64));
        let n = bytes.div_ceil(cfg.width as u64).max(1);
        match consumer::check_identical(&mut b, n) {
            Ok(got) => eprintln!(
                "spbench: consumer: the three files give the same {got} bytes ({n} records), trace's stream"
            ),
            Err(e) => die(&format!("consumer: {e}")),
        }
    }
    // ftrace's formatter three ways: the same bytes before any is timed.
    let mirror = [paths::Source::LiveMirror, paths::Source::LiveMirrorCopy];
    if paths.iter().any(|p| mirror.contains(&p.source)) {
        let srcs: Vec<paths::Source> = paths
            .iter()
            .map(|p| p.source)
            .filter(|s| mirror.contains(s))
            .collect();
        let cap = b.live.as_ref().expect("live paths run with a capture");
        match live::same_bytes(&cfg, cap, &srcs) {
            Ok(got) => {
                let (_, d0) = &got[0];
                let names: Vec<&str> = got.iter().map(|(s, _)| s.name()).collect();
                eprintln!(
                    "spbench: live: {} give the same {} bytes (hash {:016x}) at splice size {}",
                    names.join(", "),
                    d0.bytes,
                    d0.hash,
                    cfg.size
                );
                let files: Vec<String> = got
                    .iter()
                    .map(|(s, d)| {
                        format!(
                            "{}:{{\"bytes\":{},\"hash\":\"{:016x}\"}}",
                            js(s.name()),
                            d.bytes,
                            d.hash
                        )
                    })
                    .collect();
                println!(
                    "BENCH {{\"type\":\"livecheck\",\"tag\":{},\"size\":{},\"buf_kb\":{},\"same\":true,\"files\":{{{}}}}}",
                    js(&tag),
                    cfg.size,
                    cfg.buf_kb,
                    files.join(",")
                );
            }
            Err(e) => {
                println!(
                    "BENCH {{\"type\":\"livecheck\",\"tag\":{},\"size\":{},\"buf_kb\":{},\"same\":false,\"why\":{}}}",
                    js(&tag),
                    cfg.size,
                    cfg.buf_kb,
                    js(&e)
                );
                die(&format!("live: ftrace's formatter three ways: {e}"));
            }
        }
    }
    match a.kv.get("flush-probe").map(String::as_str) {
        None | Some("on") => {}
        Some("off") => b.flush = Err("--flush-probe off".into()),
        Some(x) => die(&format!("--flush-probe: on or off, not '{x}'")),
    }
    if let Err(e) = &b.flush {
        eprintln!("spbench: no exact kernel TLB flush counts: {e}");
    }
    match a.kv.get("tcp-receiver").map(String::as_str) {
        None | Some("auto") => {}
        Some("thread") => b.tcp_receiver = paths::TcpReceiver::Thread,
        Some("inline") => b.tcp_receiver = paths::TcpReceiver::Inline,
        Some(x) => die(&format!(
            "--tcp-receiver: auto, thread or inline, not '{x}'"
        )),
    }
    let tcp_receiver = match b.tcp_receiver {
        paths::TcpReceiver::Thread => "thread",
        paths::TcpReceiver::Inline => "inline",
    };
    if warmup > 0 {
        for &p in &paths {
            if let Err(e) = b.run(p, wcount, None) {
                die(&format!("warmup {}: {e}", p.id()));
            }
        }
    }
    // After the warm-up, so that perf counts the timed segments only.
    if let Some(spec) = a.kv.get("perf-control") {
        b.perf = Some(
            paths::PerfControl::open(spec).unwrap_or_else(|e| die(&format!("--perf-control: {e}"))),
        );
    }
    for rep in first_rep..first_rep + reps {
        for &p in &paths {
            let o = b
                .run(p, count, None)
                .unwrap_or_else(|e| die(&format!("{} rep {rep}: {e}", p.id())));
            let copy_kb = match p.source {
                paths::Source::CopyEq
                | paths::Source::ConsumerCopyEq
                | paths::Source::LiveMirrorCopy => cfg.buf_kb,
                // ftrace's trace and events_copy: a one-page seq buffer.
                paths::Source::Copy4
                | paths::Source::ConsumerCopy4
                | paths::Source::LiveFtrace
                | paths::Source::LiveEventsCopy => 4,
                _ => 0,
            };
            let map_mode = p.source.map_mode(&cfg.dir);
            let d: Vec<String> = o
                .delta
                .iter()
                .map(|(k, v)| format!("{}:{v}", js(k)))
                .collect();
            println!(
                "BENCH {{\"type\":\"run\",\"tag\":{},\"path\":{},\"method\":{},\"sink\":{},\"source\":{},\"mode\":{},\"width\":{},\"buf_kb\":{},\"copy_kb\":{},\"map_mode\":{},\"tcp_receiver\":{},\"size\":{},\"pipe_bytes\":{},\"pipe_bufs\":{},\"cpus\":{},\"rep\":{rep},\"bytes\":{},\"ns\":{},\"calls\":{},\"d\":{{{}}}}}",
                js(&tag),
                js(&p.id()),
                js(&format!("{:?}", p.method).to_lowercase()),
                js(&format!("{:?}", p.sink).to_lowercase()),
                js(p.source.name()),
                js(&cfg.mode),
                cfg.width,
                cfg.buf_kb,
                copy_kb,
                js(map_mode),
                js(if p.sink == paths::Sink::Tcp { tcp_receiver } else { "" }),
                cfg.size,
                o.pipe_bytes,
                o.pipe_bufs.map_or("null".to_string(), |n| n.to_string()),
                b.cpus,
                o.bytes,
                o.ns,
                o.calls,
                d.join(",")
            );
        }
    }
}

/// `spbench capture`: the live line's events (src/live.rs).
fn cmd_capture(a: &Args) {
    let dir = a.str("dir", Some(DEFAULT_DIR));
    let tag = a.str("tag", Some(""));
    let target = a.num("text", Some(live::DEFAULT_TEXT));
    match live::capture(&dir, target, None) {
        Ok(c) => {
            eprintln!(
                "spbench: captured {} events in {} round trips: events {} bytes, ftrace's trace {} bytes",
                c.events_recorded, c.rounds, c.events.bytes, c.ftrace.bytes
            );
            println!("BENCH {}", c.json(&tag));
        }
        Err(e) => {
            // Where the live line cannot run (no ftrace, an older module)
            // the skip lines say why and that is all; any other failure
            // fails.
            let unsupported = e.kind() == std::io::ErrorKind::Unsupported;
            let _ = live::uncapture(&dir);
            eprintln!("spbench: capture: {e}");
            for p in live_paths().into_iter().chain(live_read_paths()) {
                println!(
                    "BENCH {{\"type\":\"skip\",\"tag\":{},\"path\":{},\"reason\":{}}}",
                    js(&tag),
                    js(&p.id()),
                    js(&format!("no capture: {e}"))
                );
            }
            exit(if unsupported { 0 } else { 1 });
        }
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match argv.first().map(String::as_str) {
        Some("--smoke") | Some("smoke") => {
            let a = Args::parse(&argv[1..]);
            exit(smoke::run(&a.str("dir", Some(DEFAULT_DIR))));
        }
        Some("env") => cmd_env(&Args::parse(&argv[1..])),
        Some("run") => cmd_run(&Args::parse(&argv[1..])),
        Some("capture") => cmd_capture(&Args::parse(&argv[1..])),
        Some("uncapture") => {
            let a = Args::parse(&argv[1..]);
            if let Err(e) = live::uncapture(&a.str("dir", Some(DEFAULT_DIR))) {
                die(&format!("uncapture: {e}"));
            }
        }
        Some("paths") if argv.get(1).map(String::as_str) == Some("live") => {
            for p in live_paths().into_iter().chain(live_read_paths()) {
                println!("{}", p.id());
            }
        }
        Some("paths") if argv.get(1).map(String::as_str) == Some("consumer") => {
            for p in consumer_paths() {
                println!("{}", p.id());
            }
        }
        Some("paths") => {
            for p in all_paths() {
                println!("{}", p.id());
            }
        }
        _ => {
            eprintln!(
                "usage: spbench --smoke [--dir D]\n       spbench env [--dir D]\n       spbench run --mode raw|printf --width W --buf-kb K --size BYTES --volume BYTES [--reps R] [--warmup BYTES] [--paths a,b] [--tag T] [--tcp-receiver auto|thread|inline] [--first-rep N] [--perf-control CTL,ACK] [--flush-probe on|off]\n       spbench run --mode live --buf-kb K --size BYTES [--reps R] [--warmup BYTES] [--paths a,b] [--tag T]\n       spbench capture [--text BYTES] [--tag T]\n       spbench uncapture\n       spbench paths [live|consumer]"
            );
            exit(2);
        }
    }
}
