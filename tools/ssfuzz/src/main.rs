//! Op-sequence fuzzer for seqsplice: random sequences of read, pread
//! (single calls and complete transfers), lseek (SEEK_SET, SEEK_CUR far
//! back and forth, `SEEK_CUR 0`, SEEK_END), splice (random length,
//! offset, pipe size; single calls into a fresh pipe or into a long-lived
//! pipe that is partly full and resized, complete splice-and-drain
//! transfers), sendfile (to a pipe and to a file), tee, pipes left
//! undrained, and close/reopen with new knobs (record widths 84 to 9000,
//! 333 included, buffer_size_kb 4 to 1024, raw and printf, every map
//! mode: direct, vm_map_ram, vmap, auto), on `trace` and `trace_copy` side by side (or another
//! pair, `--gift` below). Every byte any
//! call returns is checked against the documented record stream
//! (`seqsplice-model`) at the offset that call used, and every count
//! against the call, the pipe and the stream.
//!
//! `ssfuzz [--seed N] [--ops N] [--procs P] [--dir D] [--gift FILE] [--min-each N]`
//! `ssfuzz ... --gift-path PATH --copy-path PATH`
//!
//! `--gift FILE` fuzzes another file through the engine instead of
//! `trace`: `trace_ops` (the engine driving the records' C
//! `seq_operations` table, against `trace_copy`), or `lines` (the second
//! source, against `lines_copy` and its own stream; knob changes still
//! happen and must change nothing), or `events` (the live-events source,
//! against `events_copy`, over a frozen ring buffer: recording must be off,
//! `events_enable` 0, with some events captured). For `events` the
//! expected stream is the whole of `events_copy`, read with read() to EOF
//! once before the run (twice: the two reads must agree) and again after it
//! (it must not have changed); an empty snapshot is a failure. Every byte
//! is checked against that snapshot exactly as against the model in the
//! other modes; `buffer_size_kb` and `map_mode` apply to `events` as to
//! `trace`, the record knobs are still written and must change nothing.
//!
//! `--gift-path PATH --copy-path PATH` (absolute paths, both or neither)
//! fuzzes any file against its stock twin, e.g. a seq_file of a module
//! using seqsplice's exported API (`/dev/ssc_check` against
//! `/dev/ssc_check_copy`, tests/consumer): the expected stream is a
//! snapshot of the copy file, taken and checked as for `events` (read
//! twice before the run, once after; not empty, never changed). The knobs
//! in `--dir` are written before every reopen as always: `buffer_size_kb`
//! and `map_mode` apply to any file seqsplice serves, the record knobs must
//! change nothing.
//!
//! `--buffer-kb N` writes `buffer_size_kb` N at every reopen instead of a
//! random size (the other knobs stay random): for a copy file whose stock
//! seq_file must never overflow its buffer to be an exact oracle, e.g.
//! `mirror_copy` (ftrace's `s_show()` keeps a line that overflowed the seq
//! buffer for the same position, and a seek after it prints that line
//! again in front of the next one, so the stock core over ftrace's `trace`
//! is only exact while its buffer holds everything asked of it).
//!
//! `--min-each N` (default 0) fails the run if any op kind above, or the
//! reopen with new knobs, ran fewer than N times: a short run (the debug
//! kernel's, where KASAN and lockdep need each path reached rather than
//! volume) cannot pass while missing a kind of call.
//!
//! `--procs P` (default 4) runs P processes at once, each with its own
//! opens, knobs (written and opened under a lock: knobs are snapshotted at
//! open), pipes and seed, splitting the `--ops` total (default 100000)
//! between them. Worker 0 uses the seed itself and worker k a seed derived
//! from it, so any worker replays alone with `--procs 1`.
//!
//! Prints the seed and replay line first, and on the first failure the
//! worker, its op number, what differed, and the command lines that
//! replay it; exits 1.

mod expect;
mod fuzz;
mod sys;

use std::process::exit;
use std::sync::Arc;

use expect::Snapshot;
use fuzz::{worker_seed, Fuzz, Stats, KNOB_FILES};

struct Args {
    seed: u64,
    ops: u64,
    procs: usize,
    dir: String,
    gift: &'static str,
    /// `--copy-path`: the copy file, when `gift` is a `--gift-path`.
    copy: Option<&'static str>,
    /// `--min-each`: the fewest calls of every op kind a passing run made.
    min_each: u64,
    /// `--buffer-kb`: `buffer_size_kb` of every open, else random.
    buffer_kb: Option<usize>,
    /// `--gift events` or `--copy-path`: the whole of the copy file, the
    /// expected stream.
    snapshot: Option<Arc<Snapshot>>,
}

fn usage() -> ! {
    eprintln!(
        "usage: ssfuzz [--seed N] [--ops N] [--procs P] [--dir D] [--gift FILE] [--min-each N] [--buffer-kb N]"
    );
    eprintln!("  --gift: trace (default), trace_ops, lines, or events (against a snapshot of events_copy)");
    eprintln!("  --gift-path P --copy-path Q: any file P against a snapshot of Q (absolute paths)");
    eprintln!("  --buffer-kb N: buffer_size_kb N at every reopen (other knobs random)");
    exit(2)
}

fn parse_args() -> Args {
    let args: Vec<String> = std::env::args().collect();
    let mut a = Args {
        seed: 0,
        ops: 100_000,
        procs: 4,
        dir: String::from("/sys/kernel/seqsplice"),
        gift: "trace",
        copy: None,
        min_each: 0,
        buffer_kb: None,
        snapshot: None,
    };
    let mut gift_path = false;
    let mut i = 1;
    while i < args.len() {
        let Some(v) = args.get(i + 1).cloned() else {
            usage()
        };
        match args[i].as_str() {
            "--seed" => a.seed = v.parse().unwrap_or_else(|_| usage()),
            "--ops" => a.ops = v.parse().unwrap_or_else(|_| usage()),
            "--procs" => {
                a.procs = v.parse().unwrap_or_else(|_| usage());
                if !(1..=64).contains(&a.procs) {
                    usage()
                }
            }
            "--dir" => a.dir = v,
            "--gift" => a.gift = v.leak(),
            "--gift-path" => {
                gift_path = true;
                a.gift = v.leak();
            }
            "--copy-path" => a.copy = Some(v.leak()),
            "--min-each" => a.min_each = v.parse().unwrap_or_else(|_| usage()),
            "--buffer-kb" => {
                let kb: usize = v.parse().unwrap_or_else(|_| usage());
                if !(4..=16384).contains(&kb) {
                    usage()
                }
                a.buffer_kb = Some(kb);
            }
            _ => usage(),
        }
        i += 2;
    }
    if gift_path != a.copy.is_some()
        || (gift_path && !(a.gift.starts_with('/') && a.copy.is_some_and(|c| c.starts_with('/'))))
    {
        usage()
    }
    if a.seed == 0 {
        a.seed = sys::now_seed();
    }
    a
}

/// The arguments naming what is fuzzed, for the replay lines.
fn target(a: &Args) -> String {
    let t = match a.copy {
        Some(c) => format!("--gift-path {} --copy-path {c}", a.gift),
        None => format!("--gift {}", a.gift),
    };
    match a.buffer_kb {
        Some(kb) => format!("{t} --buffer-kb {kb}"),
        None => t,
    }
}

/// What one worker did: its op count, the bytes it checked, and its
/// failure if any.
struct Outcome {
    ops: u64,
    bytes: u64,
    stats: Stats,
    failure: Option<String>,
}

impl Outcome {
    fn failed(failure: String) -> Outcome {
        Outcome {
            ops: 0,
            bytes: 0,
            stats: Stats::default(),
            failure: Some(failure),
        }
    }

    /// One line of numbers, then the failure (if any): what a forked
    /// worker sends back.
    fn encode(&self) -> String {
        format!(
            "{} {} {}\n{}",
            self.ops,
            self.bytes,
            self.stats.encode(),
            self.failure.as_deref().unwrap_or("")
        )
    }

    fn decode(s: &str) -> Option<Outcome> {
        let (nums, msg) = s.split_once('\n')?;
        let mut f = nums.splitn(3, ' ');
        Some(Outcome {
            ops: f.next()?.parse().ok()?,
            bytes: f.next()?.parse().ok()?,
            stats: Stats::parse(f.next()?)?,
            failure: (!msg.is_empty()).then(|| msg.to_string()),
        })
    }
}

fn run_worker(a: &Args, seed: u64, k: usize, ops: u64) -> Outcome {
    match Fuzz::new(
        &a.dir,
        a.gift,
        a.copy,
        a.snapshot.clone(),
        a.buffer_kb,
        seed,
        k,
    ) {
        Err(e) => Outcome::failed(format!("setup: {e}")),
        Ok(mut f) => {
            let r = f.run(ops);
            Outcome {
                ops: f.ops,
                bytes: f.bytes,
                stats: f.stats.clone(),
                failure: r.err().map(|e| e.0),
            }
        }
    }
}

/// A forked worker: its pid and the pipe it reports through.
struct Child {
    pid: i32,
    rd: i32,
    k: usize,
}

/// Runs the workers in child processes; returns their outcomes by worker
/// (`None`: killed after another worker failed). On the first failure the
/// others are killed.
fn run_forked(a: &Args, ops: &[u64]) -> Vec<Option<Outcome>> {
    let mut kids: Vec<Child> = Vec::new();
    let mut out: Vec<Option<Outcome>> = (0..ops.len()).map(|_| None).collect();
    for (k, &n) in ops.iter().enumerate() {
        let mut p = [0i32; 2];
        // SAFETY: `p` has room for two fds.
        if unsafe { libc::pipe(p.as_mut_ptr()) } != 0 {
            out[k] = Some(Outcome::failed(format!("pipe: errno {}", sys::errno())));
            break;
        }
        // SAFETY: the process is single-threaded; the child only runs the
        // worker and _exit()s.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            sys::close(p[0]);
            let seed = worker_seed(a.seed, k);
            let r = std::panic::catch_unwind(|| run_worker(a, seed, k, n));
            let line = match r {
                Ok(o) => o.encode(),
                Err(_) => Outcome::failed("panicked".to_string()).encode(),
            };
            sys::write_all(p[1], line.as_bytes());
            // SAFETY: ends the child without running the parent's exit path.
            unsafe { libc::_exit(0) };
        }
        sys::close(p[1]);
        if pid < 0 {
            sys::close(p[0]);
            out[k] = Some(Outcome::failed(format!("fork: errno {}", sys::errno())));
            break;
        }
        kids.push(Child { pid, rd: p[0], k });
    }
    let mut failed = out.iter().any(|o| o.is_some());
    let mut killed = Vec::new();
    while !kids.is_empty() {
        if failed {
            for c in &kids {
                if !killed.contains(&c.pid) {
                    // SAFETY: signalling our own child.
                    unsafe { libc::kill(c.pid, libc::SIGKILL) };
                    killed.push(c.pid);
                }
            }
        }
        let mut status = 0;
        // SAFETY: waiting for our own children.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid < 0 {
            break;
        }
        let Some(i) = kids.iter().position(|c| c.pid == pid) else {
            continue;
        };
        let c = kids.swap_remove(i);
        let mut report = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let r = sys::read(c.rd, &mut buf);
            if r <= 0 {
                break;
            }
            report.extend_from_slice(&buf[..r as usize]);
        }
        sys::close(c.rd);
        if killed.contains(&pid) {
            continue;
        }
        let report = String::from_utf8_lossy(&report).into_owned();
        let o = match Outcome::decode(&report) {
            Some(o) if libc::WIFEXITED(status) => o,
            _ => Outcome::failed(format!(
                "worker died (wait status {status:#x}) without a report"
            )),
        };
        failed |= o.failure.is_some();
        out[c.k] = Some(o);
    }
    out
}

/// `--gift events` (`path` is `events_copy`) or `--copy-path`: reads
/// `path` to EOF twice; the reads must agree (the ring buffer is frozen,
/// the file does not change) and not be empty (a run over nothing cannot
/// fail).
fn copy_snapshot(path: &str, events: bool) -> Result<Snapshot, String> {
    let s = Snapshot::read(path)?;
    if s.bytes.is_empty() {
        return Err(if events {
            format!("{path} is empty: capture some events first (then events_enable=0)")
        } else {
            format!("{path} is empty: nothing to compare with")
        });
    }
    let again = Snapshot::read(path)?;
    if again.bytes != s.bytes {
        return Err(format!(
            "{path} changed between two reads ({} then {} bytes){}",
            s.bytes.len(),
            again.bytes.len(),
            if events {
                ": is recording still on (events_enable)?"
            } else {
                ""
            }
        ));
    }
    Ok(s)
}

fn main() {
    let mut a = parse_args();
    let (seed, ops, procs, gift) = (a.seed, a.ops, a.procs, target(&a));
    println!(
        "ssfuzz: {} against {}, seed {seed}, {ops} ops in {procs} process{} (replay: ssfuzz --seed {seed} --ops {ops} --procs {procs} {gift})",
        a.gift,
        a.copy.unwrap_or("its copy file"),
        if procs == 1 { "" } else { "es" }
    );
    let snapshot_of = match a.copy {
        Some(c) => Some(c.to_string()),
        None if a.gift == "events" => Some(format!("{}/events_copy", a.dir)),
        None => None,
    };
    if let Some(path) = snapshot_of {
        match copy_snapshot(&path, a.copy.is_none()) {
            Ok(s) => {
                println!("ssfuzz: expected stream: {s:?}");
                a.snapshot = Some(Arc::new(s));
            }
            Err(e) => {
                println!("ssfuzz: FAILED: {e}");
                exit(1);
            }
        }
    }
    // SAFETY: ignoring SIGPIPE so a closed pipe is an error, not death.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let saved: Vec<(&str, String)> = KNOB_FILES
        .iter()
        .map(|n| {
            let v = std::fs::read_to_string(format!("{}/{n}", a.dir)).unwrap_or_default();
            (*n, v.trim().to_string())
        })
        .collect();
    let split: Vec<u64> = (0..procs as u64)
        .map(|k| ops / procs as u64 + u64::from(k < ops % procs as u64))
        .collect();
    let outcomes: Vec<Option<Outcome>> = if procs == 1 {
        vec![Some(run_worker(&a, seed, 0, ops))]
    } else {
        run_forked(&a, &split)
    };
    for (n, v) in &saved {
        if !v.is_empty() {
            let _ = std::fs::write(format!("{}/{n}", a.dir), v);
        }
    }
    let _ = std::fs::remove_file("/tmp/ssfuzz.lock");
    let (mut done, mut bytes) = (0, 0);
    let mut stats = Stats::default();
    let mut failed = false;
    for (k, o) in outcomes.iter().enumerate() {
        let Some(o) = o else { continue };
        done += o.ops;
        bytes += o.bytes;
        stats.add(&o.stats);
        let ws = worker_seed(seed, k);
        if procs > 1 {
            println!(
                "ssfuzz: worker {k} (seed {ws}): {} ops, {} bytes checked, {:.1} s",
                o.ops,
                o.bytes,
                o.stats.ms.iter().sum::<f64>() / 1e3
            );
        }
        let Some(msg) = &o.failure else { continue };
        failed = true;
        if procs == 1 {
            println!("ssfuzz: FAILED at op {}: {msg}", o.ops);
            println!(
                "ssfuzz: replay with: ssfuzz --seed {seed} --ops {} --procs 1 {gift}",
                o.ops
            );
        } else {
            println!(
                "ssfuzz: FAILED in worker {k} of {procs} (seed {ws}) at its op {}: {msg}",
                o.ops
            );
            println!(
                "ssfuzz: replay with: ssfuzz --seed {seed} --ops {ops} --procs {procs} {gift}"
            );
            println!(
                "ssfuzz: or worker {k} alone: ssfuzz --seed {ws} --ops {} --procs 1 {gift}",
                o.ops
            );
        }
    }
    if !failed && outcomes.iter().any(|o| o.is_none()) {
        println!("ssfuzz: FAILED: a worker gave no outcome");
        failed = true;
    }
    if let Some(s) = &a.snapshot {
        // The oracle must have held for the whole run.
        match Snapshot::read(&s.file) {
            Ok(now) if now.bytes == s.bytes => {}
            Ok(now) => {
                println!(
                    "ssfuzz: FAILED: {} changed during the run ({} bytes, now {}): recording was on? the comparison proves nothing",
                    s.file,
                    s.bytes.len(),
                    now.bytes.len()
                );
                failed = true;
            }
            Err(e) => {
                println!("ssfuzz: FAILED: re-reading the snapshot after the run: {e}");
                failed = true;
            }
        }
    }
    println!("ssfuzz: ops (bytes returned, time): {stats}");
    if !failed {
        let missed = stats.below(a.min_each);
        if !missed.is_empty() {
            println!(
                "ssfuzz: FAILED: fewer than {} of: {} (more --ops, or another seed)",
                a.min_each,
                missed.join(", ")
            );
            failed = true;
        }
    }
    if failed {
        exit(1);
    }
    println!("ssfuzz: ok, {done} ops, {bytes} bytes checked, seed {seed}");
}
