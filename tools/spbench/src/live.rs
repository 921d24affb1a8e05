// SPDX-License-Identifier: GPL-2.0
//! The live line: ftrace's own `trace` file against the module's `events`
//! (the engine: gifted pages) and `events_copy` (stock seq_read_iter +
//! copy_splice_read, a one-page seq buffer, as ftrace's `trace`), over the
//! same captured sched_switch / sched_wakeup events; and ftrace's `trace`
//! against the module's `mirror` (ftrace's own seq_operations through the
//! engine: gifted pages) and `mirror_copy` (the same table through the
//! stock core with a seq buffer of buffer_size_kb): one formatter, three
//! transports. The three give the same bytes, which [`same_bytes`] checks
//! before they are timed.
//!
//! `spbench capture` records them: ftrace's two sched events and the
//! module's probes on (both see the same tracepoint calls), a ping-pong of
//! two processes over two pipes pinned to CPU 0 (fork, no exec; about four
//! events per round trip), in batches until `events_recorded` says the
//! module's text holds the asked size (bytes per event calibrated on a
//! short capture first), then the module stopped before ftrace. Both
//! buffers are sized per CPU for the capture, within the memory the
//! machine has; a capture that had to overwrite (an overrun on either
//! side, or events the module lost) is refused. The facts go to a
//! `BENCH {"type":"capture",...}` line and to [`STATE`], which the live
//! runs (`spbench run --mode live`) read to know each file's size.
//! `spbench uncapture` gives ftrace and the module back their settings.

use std::io::{Error, ErrorKind, Result};

use crate::sys::{self, Fd};

/// Where the capture's facts are kept between spbench processes.
pub const STATE: &str = "/tmp/spbench.capture";
/// Bytes of module text to capture by default (the brief's >= 64 MiB).
pub const DEFAULT_TEXT: u64 = 64 << 20;
pub const TRACEFS: &str = "/sys/kernel/tracing";
/// Round trips of the calibration capture.
const CALIBRATE_ROUNDS: u64 = 2000;
/// Round trips between two looks at `events_recorded`, at most: a batch is
/// cut to what the events still wanted need (by the calibration's events
/// per round trip), so that a small capture does not overrun its buffers.
const BATCH: u64 = 5000;
/// ... and at least.
const MIN_BATCH: u64 = 100;
/// The module's entry (src/sources/events/entry.rs, 80 bytes) plus the ring
/// buffer's event header and a time extend now and then.
const MODULE_ENTRY_BYTES: u64 = 96;

/// Which of the three files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum File {
    Ftrace,
    Events,
    EventsCopy,
    /// The module's `mirror`: ftrace's `trace` through the engine.
    Mirror,
    /// `mirror_copy`: ftrace's `trace` table through the stock core with
    /// an equal seq buffer.
    MirrorCopy,
}

/// ftrace's tracefs, mounted if it is not (as the guest's /init leaves it
/// to debugfs' automount); the error says why there is none.
pub fn tracefs() -> std::result::Result<String, String> {
    let trace = format!("{TRACEFS}/trace");
    if std::path::Path::new(&trace).exists() {
        return Ok(TRACEFS.to_string());
    }
    let (src, dst, fs) = (c"nodev", c"/sys/kernel/tracing", c"tracefs");
    // SAFETY: valid C strings, no data.
    let r = unsafe { libc::mount(src.as_ptr(), dst.as_ptr(), fs.as_ptr(), 0, std::ptr::null()) };
    if std::path::Path::new(&trace).exists() {
        return Ok(TRACEFS.to_string());
    }
    Err(if r == 0 {
        format!("tracefs mounted at {TRACEFS}, but it has no trace file")
    } else {
        format!(
            "no ftrace: {trace} is missing and mounting tracefs failed ({})",
            Error::last_os_error()
        )
    })
}

/// Why the live line cannot run here, if it cannot: no ftrace (a native
/// kernel without tracefs or its sched events) or a module without the
/// events files.
pub fn unsupported(dir: &str) -> Option<String> {
    for f in [
        "events",
        "events_copy",
        "events_enable",
        "events_buffer_size_kb",
    ] {
        if !std::path::Path::new(&format!("{dir}/{f}")).exists() {
            return Some(format!("the module has no {dir}/{f}"));
        }
    }
    let t = match tracefs() {
        Ok(t) => t,
        Err(e) => return Some(e),
    };
    for e in ["sched_switch", "sched_wakeup"] {
        let p = format!("{t}/events/sched/{e}/enable");
        if !std::path::Path::new(&p).exists() {
            return Some(format!("ftrace has no sched event {e} ({p} missing)"));
        }
    }
    None
}

/// Why the mirror sources cannot run here, if they cannot: the live
/// line's reasons, a module without `mirror` and `mirror_copy`, or a
/// `mirror_path` that is not ftrace's top-level `trace` (the capture's).
pub fn unsupported_mirror(dir: &str) -> Option<String> {
    if let Some(why) = unsupported(dir) {
        return Some(why);
    }
    for f in ["mirror", "mirror_copy", "mirror_path"] {
        if !std::path::Path::new(&format!("{dir}/{f}")).exists() {
            return Some(format!("the module has no {dir}/{f}"));
        }
    }
    let want = format!("{TRACEFS}/trace");
    match sys::read_text(&format!("{dir}/mirror_path")) {
        Ok(p) if p.trim() == want => None,
        Ok(p) => Some(format!(
            "{dir}/mirror_path is '{}', not the capture's {want}",
            p.trim()
        )),
        Err(e) => Some(format!("{dir}/mirror_path: {e}")),
    }
}

/// The module's `stats` line `name`.
fn stat(dir: &str, name: &str) -> Result<u64> {
    let t = sys::read_text(&format!("{dir}/stats"))?;
    t.lines()
        .find_map(|l| {
            let mut it = l.split_whitespace();
            (it.next() == Some(name)).then(|| it.next()?.parse().ok())?
        })
        .ok_or_else(|| Error::other(format!("{dir}/stats has no '{name}' line")))
}

/// One field ("overrun", "entries", "bytes", ...) of ftrace's per-CPU
/// stats, summed over the CPUs.
fn ftrace_stat(t: &str, field: &str) -> Result<u64> {
    let mut sum = 0;
    for cpu in 0..sys::online_cpus() {
        let text = sys::read_text(&format!("{t}/per_cpu/cpu{cpu}/stats"))?;
        sum += text
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| Error::other(format!("cpu{cpu}/stats: no '{field}:'")))?;
    }
    Ok(sum)
}

/// ftrace's buffer_size_kb: "1408", or "7 (expanded: 1408)" before the
/// buffer was first expanded; the size it stands for.
fn ftrace_size_kb(t: &str) -> Result<u64> {
    let s = sys::read_text(&format!("{t}/buffer_size_kb"))?;
    let v = s
        .split("expanded:")
        .nth(1)
        .unwrap_or(&s)
        .trim()
        .trim_end_matches(')');
    v.trim()
        .parse()
        .map_err(|_| Error::other(format!("{t}/buffer_size_kb: '{}'", s.trim())))
}

/// Empties ftrace's buffer (an O_TRUNC open of `trace`, as `echo > trace`).
fn ftrace_clear(t: &str) -> Result<()> {
    sys::open(&format!("{t}/trace"), libc::O_WRONLY | libc::O_TRUNC)?.close()
}

/// Two processes on the caller's CPU passing a byte back and forth over
/// two pipes: each round trip is two wakeups and two switches.
struct PingPong {
    to_child: Fd,
    from_child: Fd,
    child: libc::pid_t,
}

impl PingPong {
    fn start() -> Result<PingPong> {
        let mut a = [0; 2];
        let mut b = [0; 2];
        // SAFETY: arrays of two descriptors each.
        if unsafe { libc::pipe2(a.as_mut_ptr(), libc::O_CLOEXEC) } < 0
            || unsafe { libc::pipe2(b.as_mut_ptr(), libc::O_CLOEXEC) } < 0
        {
            return Err(Error::last_os_error());
        }
        // SAFETY: spbench is single-threaded here; the child only calls
        // read, write and _exit.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(Error::last_os_error());
        }
        if pid == 0 {
            // SAFETY: async-signal-safe calls on the inherited pipes only.
            unsafe {
                libc::close(a[1]);
                libc::close(b[0]);
                let mut c = 0u8;
                while libc::read(a[0], (&mut c as *mut u8).cast(), 1) == 1 {
                    if libc::write(b[1], (&c as *const u8).cast(), 1) != 1 {
                        break;
                    }
                }
                libc::_exit(0);
            }
        }
        // SAFETY: the parent's copies of the child's ends.
        unsafe {
            libc::close(a[0]);
            libc::close(b[1]);
        }
        Ok(PingPong {
            to_child: Fd(a[1]),
            from_child: Fd(b[0]),
            child: pid,
        })
    }

    fn rounds(&self, n: u64) -> Result<()> {
        let mut c = [0u8; 1];
        for i in 0..n {
            c[0] = i as u8;
            sys::write_all(&self.to_child, &c)?;
            if sys::read(&self.from_child, &mut c)? != 1 {
                return Err(Error::new(
                    ErrorKind::UnexpectedEof,
                    "ping-pong child went away",
                ));
            }
        }
        Ok(())
    }

    /// Closes the pipes and reaps the child.
    fn stop(self) -> Result<()> {
        let PingPong {
            to_child,
            from_child,
            child,
        } = self;
        to_child.close()?;
        let mut st = 0;
        // SAFETY: our child, reaped once.
        let r = unsafe { libc::waitpid(child, &mut st, 0) };
        drop(from_child);
        if r != child || !libc::WIFEXITED(st) || libc::WEXITSTATUS(st) != 0 {
            return Err(Error::other(format!(
                "ping-pong child: waitpid {r}, status {st:#x}"
            )));
        }
        Ok(())
    }
}

/// What a read() of a whole text file found.
#[derive(Clone, Copy, Debug, Default)]
pub struct Scan {
    pub bytes: u64,
    pub lines: u64,
    /// Lines starting with '#' (ftrace's header).
    pub header: u64,
    pub switches: u64,
    pub wakeups: u64,
}

/// Reads `path` to EOF (1 MiB calls) and counts its lines.
pub fn scan(path: &str) -> Result<Scan> {
    let fd = sys::open(path, libc::O_RDONLY)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut s = Scan::default();
    let mut line: Vec<u8> = Vec::with_capacity(512);
    let count = |l: &[u8], s: &mut Scan| {
        s.lines += 1;
        if l.first() == Some(&b'#') {
            s.header += 1;
        } else if contains(l, b": sched_switch: ") {
            s.switches += 1;
        } else if contains(l, b": sched_wakeup: ") {
            s.wakeups += 1;
        }
    };
    loop {
        let n = sys::read(&fd, &mut buf)?;
        if n == 0 {
            break;
        }
        s.bytes += n as u64;
        for &c in &buf[..n] {
            if c == b'\n' {
                count(&line, &mut s);
                line.clear();
            } else if line.len() < 512 {
                line.push(c);
            }
        }
    }
    if !line.is_empty() {
        count(&line, &mut s);
    }
    fd.close()?;
    Ok(s)
}

/// A whole file as one splice path moved it: its size, a hash of all of
/// it, and a hash of each MiB (to find where two files part).
#[derive(Clone, Debug, Default)]
pub struct Digest {
    pub bytes: u64,
    pub hash: u64,
    pub per_mib: Vec<u64>,
    /// The bytes of the MiB asked to be kept, if the file reaches it.
    pub kept: Vec<u8>,
}

/// A word-at-a-time hash (FxHash's step over 8-byte words; the tail
/// zero-padded with its length mixed in), streamed in pieces.
#[derive(Clone, Copy)]
struct Hasher {
    h: u64,
    pend: [u8; 8],
    npend: usize,
    len: u64,
}

impl Hasher {
    const K: u64 = 0x517c_c1b7_2722_0a95;

    fn new() -> Hasher {
        Hasher {
            h: 0,
            pend: [0; 8],
            npend: 0,
            len: 0,
        }
    }

    fn word(&mut self, w: u64) {
        self.h = (self.h.rotate_left(5) ^ w).wrapping_mul(Self::K);
    }

    fn update(&mut self, mut b: &[u8]) {
        self.len += b.len() as u64;
        if self.npend > 0 {
            let k = (8 - self.npend).min(b.len());
            self.pend[self.npend..self.npend + k].copy_from_slice(&b[..k]);
            self.npend += k;
            b = &b[k..];
            if self.npend < 8 {
                return;
            }
            self.word(u64::from_le_bytes(self.pend));
            self.npend = 0;
        }
        let mut it = b.chunks_exact(8);
        for c in &mut it {
            self.word(u64::from_le_bytes(c.try_into().unwrap()));
        }
        let r = it.remainder();
        self.pend[..r.len()].copy_from_slice(r);
        self.npend = r.len();
    }

    fn finish(mut self) -> u64 {
        if self.npend > 0 {
            self.pend[self.npend..].fill(0);
            self.word(u64::from_le_bytes(self.pend));
        }
        self.word(self.len);
        self.h
    }
}

/// Splices `path` whole, `size` bytes per call, into a pipe of `size`
/// read back, and digests what came (keeping MiB `keep` whole, if asked).
pub fn digest(path: &str, size: usize, keep: Option<usize>) -> Result<Digest> {
    const MIB: u64 = 1 << 20;
    let src = sys::open(path, libc::O_RDONLY)?;
    let (pr, pw, _) = sys::pipe_sized(size)?;
    let mut buf = vec![0u8; size.max(1 << 16)];
    let mut d = Digest::default();
    let mut all = Hasher::new();
    let mut mib = Hasher::new();
    loop {
        let n = sys::splice(&src, &pw, size, libc::SPLICE_F_MOVE)?;
        if n == 0 {
            break;
        }
        let mut left = n;
        while left > 0 {
            let m = sys::read(&pr, &mut buf[..left.min(size.max(1 << 16))])?;
            if m == 0 {
                return Err(Error::new(ErrorKind::UnexpectedEof, "pipe drained short"));
            }
            let mut piece = &buf[..m];
            while !piece.is_empty() {
                // Cut at MiB boundaries of the stream.
                let room = (MIB - d.bytes % MIB) as usize;
                let k = room.min(piece.len());
                all.update(&piece[..k]);
                mib.update(&piece[..k]);
                if keep == Some((d.bytes / MIB) as usize) {
                    d.kept.extend_from_slice(&piece[..k]);
                }
                d.bytes += k as u64;
                if d.bytes % MIB == 0 {
                    d.per_mib.push(mib.finish());
                    mib = Hasher::new();
                }
                piece = &piece[k..];
            }
            left -= m;
        }
    }
    if d.bytes % MIB != 0 {
        d.per_mib.push(mib.finish());
    }
    d.hash = all.finish();
    src.close()?;
    Ok(d)
}

/// Where two digests of files `a` and `b` first differ, said precisely:
/// the byte offset, and the lines around it from both (re-read, MiB `i`
/// of each only).
pub fn first_difference(a: (&str, &str, &Digest), b: (&str, &str, &Digest), size: usize) -> String {
    let (an, ap, ad) = a;
    let (bn, bp, bd) = b;
    let i = ad
        .per_mib
        .iter()
        .zip(bd.per_mib.iter())
        .position(|(x, y)| x != y)
        .unwrap_or(ad.per_mib.len().min(bd.per_mib.len()));
    let base = (i as u64) << 20;
    let (ka, kb) = match (digest(ap, size, Some(i)), digest(bp, size, Some(i))) {
        (Ok(x), Ok(y)) => (x.kept, y.kept),
        (Err(e), _) | (_, Err(e)) => {
            return format!(
                "{an} {} bytes, {bn} {} bytes, first differing MiB {i}; re-reading it failed: {e}",
                ad.bytes, bd.bytes
            )
        }
    };
    let at = ka
        .iter()
        .zip(kb.iter())
        .position(|(x, y)| x != y)
        .unwrap_or(ka.len().min(kb.len()));
    let line = |k: &[u8]| {
        let start = k[..at.min(k.len())]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1);
        let end = (at + 1..k.len())
            .find(|&j| k[j] == b'\n')
            .map_or(k.len(), |j| (j + 1 + 160).min(k.len()));
        String::from_utf8_lossy(&k[start..end]).into_owned()
    };
    format!(
        "{an} {} bytes, {bn} {} bytes; first difference at byte {} (MiB {i}), the line there: {an}: {:?}; {bn}: {:?}",
        ad.bytes,
        bd.bytes,
        base + at as u64,
        line(&ka),
        line(&kb)
    )
}

/// The check before a configuration's runs of ftrace's formatter: each of
/// `sources` (ftrace's `trace`, `mirror`, `mirror_copy`: those the
/// configuration runs, ftrace's always) spliced whole at the run's size
/// with the run's knobs, into a pipe read back; all must give the same
/// bytes as ftrace's `trace`, and as many as the capture found. Returns
/// each source's digest, or the first difference, said precisely.
pub fn same_bytes(
    cfg: &crate::paths::Config,
    cap: &Capture,
    sources: &[crate::paths::Source],
) -> std::result::Result<Vec<(crate::paths::Source, Digest)>, String> {
    use crate::paths::{self, Source};
    let mut list = vec![Source::LiveFtrace];
    list.extend(sources.iter().copied().filter(|&s| s != Source::LiveFtrace));
    let mut got = Vec::new();
    for s in list {
        paths::set_knobs(cfg, s, u64::MAX).map_err(|e| format!("{}: knobs: {e}", s.name()))?;
        let path = paths::source_path(cfg, s);
        let d = digest(&path, cfg.size, None).map_err(|e| format!("{path}: {e}"))?;
        got.push((s, path, d));
    }
    let (fs, fp, fd) = &got[0];
    if fd.bytes != cap.ftrace.bytes {
        return Err(format!(
            "{fp} gives {} bytes, the capture found {}",
            fd.bytes, cap.ftrace.bytes
        ));
    }
    for (s, p, d) in &got[1..] {
        if d.bytes != fd.bytes || d.hash != fd.hash {
            return Err(format!(
                "{} and {} differ at splice size {}: {}",
                s.name(),
                fs.name(),
                cfg.size,
                first_difference((s.name(), p, d), (fs.name(), fp, fd), cfg.size)
            ));
        }
    }
    Ok(got.into_iter().map(|(s, _, d)| (s, d)).collect())
}

fn contains(h: &[u8], n: &[u8]) -> bool {
    h.windows(n.len()).any(|w| w == n)
}

/// What the tracers were set to before the capture, restored after.
struct Saved {
    ftrace_kb: u64,
    tracing_on: String,
    tracer: String,
    set_event: Vec<String>,
    events_kb: u64,
}

/// A finished capture: what the live runs need and the report shows.
#[derive(Clone, Debug, Default)]
pub struct Capture {
    pub tracefs: String,
    /// Module text asked for, bytes.
    pub target: u64,
    /// Per-CPU size both buffers got, KiB.
    pub buf_kb: u64,
    pub cpus: u64,
    pub rounds: u64,
    pub calib_text_per_event: f64,
    pub calib_ftrace_bytes_per_event: f64,
    pub events_recorded: u64,
    pub events_overruns: u64,
    pub events_lost: u64,
    pub ftrace_entries: u64,
    pub ftrace_overrun: u64,
    pub ftrace_dropped: u64,
    pub ftrace: Scan,
    pub events: Scan,
    /// Why less than `target` was asked of the buffers, if it was.
    pub capped: String,
    pub ns: u64,
    /// Saved settings (ftrace buffer_size_kb, tracing_on, current_tracer,
    /// set_event lines joined by ',', the module's events_buffer_size_kb).
    saved: Vec<(String, String)>,
}

impl Capture {
    /// The full size of `f`, the bytes a live run moves.
    pub fn bytes(&self, f: File) -> u64 {
        match f {
            File::Ftrace => self.ftrace.bytes,
            File::Events | File::EventsCopy => self.events.bytes,
            // ftrace's own table, header included: ftrace's bytes.
            File::Mirror | File::MirrorCopy => self.ftrace.bytes,
        }
    }

    /// The capture's BENCH line's JSON object.
    pub fn json(&self, tag: &str) -> String {
        let sc = |s: &Scan| {
            format!(
                "{{\"bytes\":{},\"lines\":{},\"header_lines\":{},\"sched_switch\":{},\"sched_wakeup\":{}}}",
                s.bytes, s.lines, s.header, s.switches, s.wakeups
            )
        };
        format!(
            "{{\"type\":\"capture\",\"tag\":{},\"target_bytes\":{},\"buf_kb\":{},\"cpus\":{},\"rounds\":{},\"calib_text_per_event\":{:.2},\"calib_ftrace_bytes_per_event\":{:.2},\"events_recorded\":{},\"events_overruns\":{},\"events_lost\":{},\"ftrace_entries\":{},\"ftrace_overrun\":{},\"ftrace_dropped\":{},\"ftrace\":{},\"events\":{},\"capped\":{},\"ns\":{}}}",
            crate::js(tag),
            self.target,
            self.buf_kb,
            self.cpus,
            self.rounds,
            self.calib_text_per_event,
            self.calib_ftrace_bytes_per_event,
            self.events_recorded,
            self.events_overruns,
            self.events_lost,
            self.ftrace_entries,
            self.ftrace_overrun,
            self.ftrace_dropped,
            sc(&self.ftrace),
            sc(&self.events),
            crate::js(&self.capped),
            self.ns
        )
    }

    fn save(&self) -> Result<()> {
        let mut s = format!(
            "tracefs {}\nevents_recorded {}\nftrace_bytes {}\nevents_bytes {}\n",
            self.tracefs, self.events_recorded, self.ftrace.bytes, self.events.bytes
        );
        for (k, v) in &self.saved {
            s.push_str(&format!("saved_{k} {v}\n"));
        }
        std::fs::write(STATE, s)
    }

    /// The capture [`STATE`] describes, if the module still holds it (its
    /// `events_recorded` unchanged); the error says why not.
    pub fn load(dir: &str) -> std::result::Result<Capture, String> {
        let text = std::fs::read_to_string(STATE)
            .map_err(|e| format!("no capture ({STATE}: {e}; run spbench capture first)"))?;
        let mut c = Capture::default();
        for l in text.lines() {
            let (k, v) = l.split_once(' ').unwrap_or((l, ""));
            let n = v.parse::<u64>().unwrap_or(0);
            match k {
                "tracefs" => c.tracefs = v.to_string(),
                "events_recorded" => c.events_recorded = n,
                "ftrace_bytes" => c.ftrace.bytes = n,
                "events_bytes" => c.events.bytes = n,
                _ => {
                    if let Some(k) = k.strip_prefix("saved_") {
                        c.saved.push((k.to_string(), v.to_string()));
                    }
                }
            }
        }
        let now = stat(dir, "events_recorded").map_err(|e| e.to_string())?;
        if now != c.events_recorded || c.events_recorded == 0 || c.tracefs.is_empty() {
            return Err(format!(
                "the capture in {STATE} ({} events) is not the module's ({now} recorded now): capture again",
                c.events_recorded
            ));
        }
        Ok(c)
    }
}

fn save_state(dir: &str, t: &str) -> Result<Saved> {
    let set_event = sys::read_text(&format!("{t}/set_event"))?
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect();
    Ok(Saved {
        ftrace_kb: ftrace_size_kb(t)?,
        tracing_on: sys::read_text(&format!("{t}/tracing_on"))?
            .trim()
            .to_string(),
        tracer: sys::read_text(&format!("{t}/current_tracer"))?
            .trim()
            .to_string(),
        set_event,
        events_kb: sys::read_text(&format!("{dir}/events_buffer_size_kb"))?
            .trim()
            .parse()
            .map_err(|_| Error::other("events_buffer_size_kb: not a number"))?,
    })
}

/// Both buffers `kb` per CPU, both empty, both recording the two events.
fn start(dir: &str, t: &str, kb: u64) -> Result<()> {
    sys::write_text(&format!("{t}/tracing_on"), "0")?;
    sys::write_text(&format!("{t}/buffer_size_kb"), &kb.to_string())?;
    sys::write_text(&format!("{dir}/events_buffer_size_kb"), &kb.to_string())?;
    ftrace_clear(t)?;
    for e in ["sched_switch", "sched_wakeup"] {
        sys::write_text(&format!("{t}/events/sched/{e}/enable"), "1")?;
    }
    sys::write_text(&format!("{t}/tracing_on"), "1")?;
    sys::write_text(&format!("{dir}/events_enable"), "1")
}

/// The module first, then ftrace: ftrace's window contains the module's.
fn stop(dir: &str, t: &str) -> Result<()> {
    sys::write_text(&format!("{dir}/events_enable"), "0")?;
    sys::write_text(&format!("{t}/tracing_on"), "0")
}

fn mem_available() -> u64 {
    sys::read_text("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Records the capture (see the module doc). With `rounds`, exactly that
/// many round trips into `kb`-KiB buffers, no calibration (the smoke test);
/// otherwise until the module's text is at least `target` bytes.
pub fn capture(dir: &str, target: u64, rounds: Option<(u64, u64)>) -> Result<Capture> {
    if let Some(why) = unsupported(dir) {
        return Err(Error::new(ErrorKind::Unsupported, why));
    }
    let t = tracefs().map_err(Error::other)?;
    let _ = std::fs::remove_file(STATE);
    let saved = save_state(dir, &t)?;
    let mut c = Capture {
        tracefs: t.clone(),
        target,
        cpus: sys::online_cpus() as u64,
        saved: vec![
            ("ftrace_kb".into(), saved.ftrace_kb.to_string()),
            ("tracing_on".into(), saved.tracing_on),
            ("tracer".into(), saved.tracer),
            ("set_event".into(), saved.set_event.join(",")),
            ("events_kb".into(), saved.events_kb.to_string()),
        ],
        ..Default::default()
    };
    // The settings first (no events: Capture::load refuses it), so that
    // uncapture can restore them whatever happens next.
    c.save()?;
    sys::pin(0);
    // Nothing else of ftrace's: no tracer, no other event.
    sys::write_text(&format!("{t}/current_tracer"), "nop")?;
    sys::open(&format!("{t}/set_event"), libc::O_WRONLY | libc::O_TRUNC)?.close()?;
    let cpus = c.cpus;
    let mut per_round = 1.0f64;
    let (kb, want_events) = match rounds {
        Some((_, kb)) => (kb, u64::MAX),
        None => {
            // Calibration: text and ftrace bytes per event of this very
            // workload, on a short capture.
            start(dir, &t, 4096)?;
            let pp = PingPong::start()?;
            pp.rounds(CALIBRATE_ROUNDS)?;
            pp.stop()?;
            stop(dir, &t)?;
            let rec = stat(dir, "events_recorded")?.max(1);
            per_round = rec as f64 / CALIBRATE_ROUNDS as f64;
            let text = scan(&format!("{dir}/events"))?.bytes;
            c.calib_text_per_event = text as f64 / rec as f64;
            let fe = ftrace_stat(&t, "entries")?.max(1);
            c.calib_ftrace_bytes_per_event = ftrace_stat(&t, "bytes")? as f64 / fe as f64;
            if text == 0 {
                return Err(Error::other(
                    "calibration: the module's events file is empty",
                ));
            }
            // 2% over the target: timestamps and pids widen a little.
            let mut events = (target as f64 * 1.02 / c.calib_text_per_event).ceil() as u64;
            let per_event = (c.calib_ftrace_bytes_per_event.ceil() as u64).max(MODULE_ENTRY_BYTES);
            // A quarter more than the entries need: the ring buffer's page
            // headers, time extends, and what other tasks record meanwhile.
            let mut kb = (events * per_event * 5 / 4).div_ceil(1024);
            // Each buffer is per CPU: two of them on every CPU, within 60%
            // of the memory available (the reader, pipes and the page cache
            // need the rest) and the module's 256 MiB.
            let budget = mem_available() * 6 / 10 / (2 * cpus) / 1024;
            let cap = budget.min(256 * 1024);
            if kb > cap {
                c.capped = format!(
                    "{kb} KiB per CPU needed, {cap} KiB fit ({} MiB available, {cpus} CPU(s), two buffers): captured less",
                    mem_available() >> 20
                );
                kb = cap;
                events = kb * 1024 * 4 / 5 / per_event;
            }
            (kb, events)
        }
    };
    c.buf_kb = kb;
    start(dir, &t, kb)?;
    let t0 = sys::now_ns();
    let pp = PingPong::start()?;
    let mut last = 0;
    match rounds {
        Some((n, _)) => {
            pp.rounds(n)?;
            c.rounds = n;
        }
        None => loop {
            let left = want_events.saturating_sub(last) as f64;
            let n = ((left / per_round).ceil() as u64).clamp(MIN_BATCH, BATCH);
            pp.rounds(n)?;
            c.rounds += n;
            let rec = stat(dir, "events_recorded")?;
            if rec >= want_events {
                break;
            }
            if rec <= last {
                let _ = pp.stop();
                let _ = stop(dir, &t);
                return Err(Error::other(format!(
                    "events_recorded stuck at {rec} after {} round trips",
                    c.rounds
                )));
            }
            last = rec;
        },
    }
    pp.stop()?;
    stop(dir, &t)?;
    c.ns = sys::now_ns() - t0;
    c.events_recorded = stat(dir, "events_recorded")?;
    c.events_overruns = stat(dir, "events_overruns")?;
    c.events_lost = stat(dir, "events_lost")?;
    c.ftrace_entries = ftrace_stat(&t, "entries")?;
    c.ftrace_overrun = ftrace_stat(&t, "overrun")?;
    c.ftrace_dropped = ftrace_stat(&t, "dropped events").unwrap_or(0);
    c.events = scan(&format!("{dir}/events"))?;
    c.ftrace = scan(&format!("{t}/trace"))?;
    if c.events_overruns > 0 || c.events_lost > 0 || c.ftrace_overrun > 0 {
        return Err(Error::other(format!(
            "the buffers overwrote or lost events (module: {} overruns, {} lost; ftrace: {} overrun): {}",
            c.events_overruns,
            c.events_lost,
            c.ftrace_overrun,
            c.json("")
        )));
    }
    if c.events.bytes == 0 || c.ftrace.bytes == 0 {
        return Err(Error::other(format!("an empty capture: {}", c.json(""))));
    }
    c.save()?;
    Ok(c)
}

/// Gives ftrace and the module back what [`capture`] found (ftrace's
/// buffer emptied, the module's shrunk) and forgets the capture. Without a capture state, nothing to do.
pub fn uncapture(dir: &str) -> Result<()> {
    let text = match std::fs::read_to_string(STATE) {
        Ok(t) => t,
        Err(_) => return Ok(()),
    };
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix(' '))
            .map(str::to_string)
    };
    let t = get("tracefs").ok_or_else(|| Error::other(format!("{STATE}: no tracefs")))?;
    sys::write_text(&format!("{t}/tracing_on"), "0")?;
    for e in ["sched_switch", "sched_wakeup"] {
        sys::write_text(&format!("{t}/events/sched/{e}/enable"), "0")?;
    }
    ftrace_clear(&t)?;
    if let Some(v) = get("saved_ftrace_kb") {
        sys::write_text(&format!("{t}/buffer_size_kb"), &v)?;
    }
    if let Some(v) = get("saved_tracer") {
        sys::write_text(&format!("{t}/current_tracer"), &v)?;
    }
    for e in get("saved_set_event")
        .unwrap_or_default()
        .split(',')
        .filter(|e| !e.is_empty())
    {
        let fd = sys::open(&format!("{t}/set_event"), libc::O_WRONLY | libc::O_APPEND)?;
        sys::write_all(&fd, format!("{e}\n").as_bytes())?;
        fd.close()?;
    }
    if let Some(v) = get("saved_tracing_on") {
        sys::write_text(&format!("{t}/tracing_on"), &v)?;
    }
    // The module's buffer stopped and shrunk back to its old size.
    sys::write_text(&format!("{dir}/events_enable"), "0")?;
    if let Some(v) = get("saved_events_kb") {
        sys::write_text(&format!("{dir}/events_buffer_size_kb"), &v)?;
    }
    std::fs::remove_file(STATE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_pong_round_trips_and_exits() {
        let pp = PingPong::start().unwrap();
        pp.rounds(1000).unwrap();
        pp.stop().unwrap();
    }

    #[test]
    fn hash_is_the_same_in_any_pieces() {
        let data: Vec<u8> = (0..100_003u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let mut one = Hasher::new();
        one.update(&data);
        let one = one.finish();
        for cut in [1, 3, 8, 13, 4096, 65537] {
            let mut h = Hasher::new();
            for c in data.chunks(cut) {
                h.update(c);
            }
            assert_eq!(h.finish(), one, "pieces of {cut}");
        }
        let mut other = data.clone();
        other[99_999] ^= 1;
        let mut h = Hasher::new();
        h.update(&other);
        assert_ne!(h.finish(), one);
        let mut h = Hasher::new();
        h.update(&data[..100_002]);
        assert_ne!(h.finish(), one, "a byte short");
    }

    #[test]
    fn digest_and_first_difference() {
        let dir = std::env::temp_dir();
        let a = dir.join(format!("spbench-dig-a-{}", std::process::id()));
        let b = dir.join(format!("spbench-dig-b-{}", std::process::id()));
        let mut text = Vec::new();
        for i in 0..40_000 {
            text.extend_from_slice(format!("line {i:08} of the test file\n").as_bytes());
        }
        std::fs::write(&a, &text).unwrap();
        let at = (1 << 20) + 12345;
        text[at] = b'X';
        std::fs::write(&b, &text).unwrap();
        let (ap, bp) = (a.to_str().unwrap(), b.to_str().unwrap());
        let da = digest(ap, 65536, None).unwrap();
        let db = digest(bp, 65536, None).unwrap();
        assert_eq!(da.bytes, text.len() as u64);
        assert_eq!(da.per_mib.len(), 2);
        assert_eq!(da.per_mib[0], db.per_mib[0]);
        assert_ne!(da.hash, db.hash);
        assert_eq!(digest(ap, 4096, None).unwrap().hash, da.hash);
        let msg = first_difference(("a", ap, &da), ("b", bp, &db), 65536);
        std::fs::remove_file(&a).unwrap();
        std::fs::remove_file(&b).unwrap();
        assert!(
            msg.contains(&format!("first difference at byte {at} ")),
            "{msg}"
        );
    }

    #[test]
    fn scan_counts_lines() {
        let p = std::env::temp_dir().join(format!("spbench-scan-{}", std::process::id()));
        std::fs::write(
            &p,
            "# tracer: nop\n#\n  a-1 [000] d..2.   1.000001: sched_switch: prev_comm=a\n  a-1 [000] d..3.   1.000002: sched_wakeup: comm=b\nno newline",
        )
        .unwrap();
        let s = scan(p.to_str().unwrap()).unwrap();
        std::fs::remove_file(&p).unwrap();
        assert_eq!(
            (s.lines, s.header, s.switches, s.wakeups),
            (5, 2, 1, 1),
            "{s:?}"
        );
    }
}
