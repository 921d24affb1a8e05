// SPDX-License-Identifier: GPL-2.0
//! The measured paths and one timed run of a path.
//!
//! A timed run is (the source already open): move the whole stream (record_count *
//! record_width bytes, fixed before the run) to the sink in calls of
//! `size` bytes, close the source, write `1` to `purge` (so the deferred
//! vunmap / TLB-flush work is charged to the path that caused it), and for
//! the TCP sink wait until the receiver has drained every byte. Knob
//! writes, pipe and socket setup and counter reads happen outside it.

use std::io::{Error, ErrorKind, Result};
use std::thread;

use crate::consumer;
use crate::counters::{End, FlushProbe, Snapshot};
use crate::live;
use crate::sys::{self, Buf, Fd};

/// Where the bytes come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `trace`: gift splice, page-buffer read, in the module's default map
    /// mode (auto; vm_map_ram on a module without it).
    Trace,
    /// `trace` with map_mode=vmap (one vmalloc area per mapping).
    TraceVmap,
    /// `trace` with map_mode=vm_map_ram (per-cpu vmap blocks).
    TraceVmMapRam,
    /// `trace` with map_mode=direct (no mapping: each page through its
    /// direct-map address).
    TraceDirect,
    /// `trace_ops`: `trace`'s engine driving the records' C seq_operations
    /// table, an indirect call per callback (the static dispatch's effect).
    TraceOps,
    /// `trace_copy` at the stock seq buffer (copy_buffer_size_kb=4).
    Copy4,
    /// `trace_copy` with copy_buffer_size_kb = buffer_size_kb.
    CopyEq,
    /// Page-aligned user memory, vmspliced with SPLICE_F_GIFT (the ceiling).
    User,
    /// ftrace's own `trace` file over the live capture (stock seq_file,
    /// copy_splice_read, a one-page seq buffer).
    LiveFtrace,
    /// The module's `events` over the same capture: the engine, gifted
    /// pages, buffer_size_kb and map_mode as for `trace`.
    LiveEvents,
    /// `events_copy`: the same bytes through the stock seq_read_iter +
    /// copy_splice_read (one-page seq buffer).
    LiveEventsCopy,
    /// The module's `mirror` over the same capture: ftrace's own `trace`
    /// (its seq_operations, its formatter) through the engine, gifted
    /// pages, buffer_size_kb and map_mode as for `trace`.
    LiveMirror,
    /// `mirror_copy`: ftrace's `trace` table through the stock
    /// seq_read_iter + copy_splice_read with a seq buffer of
    /// buffer_size_kb (the equal buffer: batching without zero-copy).
    LiveMirrorCopy,
    /// A C module's seq_file through seqsplice's exported API
    /// (`/dev/ssbench`, tests/consumer/seqsplice_bench.c): the engine,
    /// pages gifted, buffer_size_kb and map_mode as for `trace`.
    Consumer,
    /// The same table through the stock core with a seq buffer of
    /// buffer_size_kb, set after seq_open() as single_open_size() does
    /// (`/dev/ssbench_copyeq`).
    ConsumerCopyEq,
    /// The same table through the stock core, plain seq_open(): a
    /// one-page seq buffer (`/dev/ssbench_copy4`).
    ConsumerCopy4,
}

/// How the bytes leave the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Splice,
    Read,
    Sendfile,
    Vmsplice,
    /// lseek to the end: seq_lseek's traverse formats every record and
    /// copies nothing, the formatting floor every path pays.
    Seek,
}

/// Where spliced bytes go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sink {
    /// /dev/null (splice_write_null: no data touched).
    Null,
    /// read() of the pipe into a user buffer (what `pv | cat` costs).
    PipeRead,
    /// splice(pipe -> TCP socket on 127.0.0.1), a receiver thread drains.
    Tcp,
    /// read() / sendfile() need no extra sink stage beyond the user buffer
    /// or /dev/null.
    Direct,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Path {
    pub method: Method,
    pub sink: Sink,
    pub source: Source,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Trace => "trace",
            Source::TraceVmap => "tracevmap",
            Source::TraceVmMapRam => "tracevmram",
            Source::TraceDirect => "tracedirect",
            Source::TraceOps => "traceops",
            Source::Copy4 => "copy4",
            Source::CopyEq => "copyeq",
            Source::User => "user",
            Source::LiveFtrace => "liveftrace",
            Source::LiveEvents => "liveevents",
            Source::LiveEventsCopy => "liveeventscopy",
            Source::LiveMirror => "livemirror",
            Source::LiveMirrorCopy => "livemirrorcopy",
            Source::Consumer => "consumer",
            Source::ConsumerCopyEq => "consumercopyeq",
            Source::ConsumerCopy4 => "consumercopy4",
        }
    }

    /// Whether the source is the bench module's C seq_file.
    pub fn is_consumer(self) -> bool {
        matches!(
            self,
            Source::Consumer | Source::ConsumerCopyEq | Source::ConsumerCopy4
        )
    }

    /// Which file of the live capture the source reads, if it is live.
    pub fn live_file(self) -> Option<live::File> {
        match self {
            Source::LiveFtrace => Some(live::File::Ftrace),
            Source::LiveEvents => Some(live::File::Events),
            Source::LiveEventsCopy => Some(live::File::EventsCopy),
            Source::LiveMirror => Some(live::File::Mirror),
            Source::LiveMirrorCopy => Some(live::File::MirrorCopy),
            _ => None,
        }
    }
}

impl Path {
    pub fn id(&self) -> String {
        let m = match self.method {
            Method::Splice => "splice",
            Method::Read => "read",
            Method::Sendfile => "sendfile",
            Method::Vmsplice => "vmsplice",
            Method::Seek => "seek",
        };
        let s = match self.sink {
            Sink::Null => "null",
            Sink::PipeRead => "piperead",
            Sink::Tcp => "tcp",
            Sink::Direct => "user",
        };
        match self.method {
            Method::Read => format!("read.{}", self.source.name()),
            Method::Seek => format!("seek.{}", self.source.name()),
            Method::Sendfile => format!("sendfile.null.{}", self.source.name()),
            _ => format!("{m}.{s}.{}", self.source.name()),
        }
    }

    pub fn parse(id: &str) -> Option<Path> {
        all_paths()
            .into_iter()
            .chain(live_paths())
            .chain(live_read_paths())
            .chain(consumer_paths())
            .find(|p| p.id() == id)
    }

    /// Whether the path's pipe buffers come from the module's gift (counted
    /// by its `pages_gifted`), not from copy_splice_read or vmsplice.
    pub fn gifts(&self) -> bool {
        self.source.gifts()
    }
}

impl Source {
    /// Served by the engine (`trace`, `trace_ops`, the API's C seq_file),
    /// which gifts its pages.
    pub fn gifts(self) -> bool {
        matches!(
            self,
            Source::Trace
                | Source::TraceVmap
                | Source::TraceVmMapRam
                | Source::TraceDirect
                | Source::TraceOps
                | Source::LiveEvents
                | Source::LiveMirror
                | Source::Consumer
        )
    }

    /// The `map_mode` a run of this source writes ("" for the copy and
    /// user sources, which have none).
    pub fn map_mode(self, dir: &str) -> &'static str {
        let has_knob = std::path::Path::new(&format!("{dir}/map_mode")).exists();
        match self {
            Source::TraceVmap => "vmap",
            Source::TraceVmMapRam => "vm_map_ram",
            Source::TraceDirect => "direct",
            // The module's default: auto where the module has it.
            Source::Trace
            | Source::TraceOps
            | Source::LiveEvents
            | Source::LiveMirror
            | Source::Consumer
                if has_knob && unsupported_direct(dir).is_none() =>
            {
                "auto"
            }
            Source::Trace
            | Source::TraceOps
            | Source::LiveEvents
            | Source::LiveMirror
            | Source::Consumer
                if has_knob =>
            {
                "vm_map_ram"
            }
            // Older modules have no map_mode knob: their only mode is vmap.
            Source::Trace
            | Source::TraceOps
            | Source::LiveEvents
            | Source::LiveMirror
            | Source::Consumer => "vmap",
            _ => "",
        }
    }
}

/// Why `path` cannot run against the module in `dir`, if it cannot: a
/// module without the map_mode knob has vmap only. Any other failure is
/// the path's, and shows when it runs.
pub fn unsupported(dir: &str, path: &Path) -> Option<String> {
    let knob = format!("{dir}/map_mode");
    match path.source {
        Source::TraceVmMapRam if !std::path::Path::new(&knob).exists() => {
            Some("no map_mode knob: the module only has vmap".to_string())
        }
        Source::TraceDirect => unsupported_direct(dir),
        Source::LiveMirror | Source::LiveMirrorCopy => live::unsupported_mirror(dir),
        s if s.live_file().is_some() => live::unsupported(dir),
        s if s.is_consumer() => consumer::unsupported(),
        _ => None,
    }
}

/// Why the module in `dir` has no `map_mode=auto` (nor direct), if it has
/// not (a write that fails with EINVAL). Leaves the knob as it found it.
pub fn unsupported_direct(dir: &str) -> Option<String> {
    let knob = format!("{dir}/map_mode");
    let old = match sys::read_text(&knob) {
        Ok(v) => v.trim().to_string(),
        Err(e) => return Some(format!("no map_mode knob ({e})")),
    };
    match sys::write_text(&knob, "auto") {
        Ok(()) => {
            let _ = sys::write_text(&knob, &old);
            None
        }
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) || e.kind() == ErrorKind::InvalidInput => {
            Some(format!(
                "the module rejects map_mode=direct ({e}): no direct map mode in this build"
            ))
        }
        Err(_) => None,
    }
}

/// Every path, in the order a round runs them.
pub fn all_paths() -> Vec<Path> {
    let srcs = [Source::Trace, Source::Copy4, Source::CopyEq];
    let mut v = vec![
        Path {
            method: Method::Splice,
            sink: Sink::Null,
            source: Source::TraceVmap,
        },
        Path {
            method: Method::Splice,
            sink: Sink::Null,
            source: Source::TraceVmMapRam,
        },
        Path {
            method: Method::Splice,
            sink: Sink::Null,
            source: Source::TraceDirect,
        },
        Path {
            method: Method::Splice,
            sink: Sink::Null,
            source: Source::TraceOps,
        },
    ];
    for sink in [Sink::Null, Sink::PipeRead, Sink::Tcp] {
        for source in srcs {
            v.push(Path {
                method: Method::Splice,
                sink,
                source,
            });
        }
    }
    for source in srcs {
        v.push(Path {
            method: Method::Read,
            sink: Sink::Direct,
            source,
        });
    }
    for source in srcs {
        v.push(Path {
            method: Method::Sendfile,
            sink: Sink::Null,
            source,
        });
    }
    v.push(Path {
        method: Method::Seek,
        sink: Sink::Direct,
        source: Source::Copy4,
    });
    v.push(Path {
        method: Method::Vmsplice,
        sink: Sink::Null,
        source: Source::User,
    });
    v
}

/// The live line's paths (`spbench run --mode live`): each file of the
/// capture, whole, spliced to /dev/null; ftrace's formatter three ways
/// (its `trace`, `mirror`, `mirror_copy`) among them.
pub fn live_paths() -> Vec<Path> {
    [
        Source::LiveFtrace,
        Source::LiveEvents,
        Source::LiveEventsCopy,
        Source::LiveMirror,
        Source::LiveMirrorCopy,
    ]
    .into_iter()
    .map(|source| Path {
        method: Method::Splice,
        sink: Sink::Null,
        source,
    })
    .collect()
}

/// The batched line's read() paths over the live capture (`spbench paths
/// live` lists them after [`live_paths`]): ftrace's `trace`, `mirror` and
/// `mirror_copy` read whole, `size` bytes per read(). ftrace's file and
/// `mirror_copy` go through `seq_read_iter()`, which fills one seq buffer
/// per call: the kernel's batching shows here as it does in splice.
pub fn live_read_paths() -> Vec<Path> {
    [
        Source::LiveFtrace,
        Source::LiveMirror,
        Source::LiveMirrorCopy,
    ]
    .into_iter()
    .map(|source| Path {
        method: Method::Read,
        sink: Sink::Direct,
        source,
    })
    .collect()
}

/// The consumer line's paths (`spbench paths consumer`): the bench
/// module's C seq_file through the API and through the stock core, with
/// the equal and the one-page seq buffer, by every method and sink of the
/// record stream's paths, and the C table's formatting floor (lseek
/// through the stock core).
pub fn consumer_paths() -> Vec<Path> {
    let srcs = [
        Source::Consumer,
        Source::ConsumerCopyEq,
        Source::ConsumerCopy4,
    ];
    let mut v = Vec::new();
    for sink in [Sink::Null, Sink::PipeRead, Sink::Tcp] {
        for source in srcs {
            v.push(Path {
                method: Method::Splice,
                sink,
                source,
            });
        }
    }
    for method in [Method::Read, Method::Sendfile] {
        for source in srcs {
            v.push(Path {
                method,
                sink: if method == Method::Read {
                    Sink::Direct
                } else {
                    Sink::Null
                },
                source,
            });
        }
    }
    v.push(Path {
        method: Method::Seek,
        sink: Sink::Direct,
        source: Source::ConsumerCopy4,
    });
    v
}

/// The record-stream configuration a run uses (knobs written before it).
#[derive(Clone, Debug)]
pub struct Config {
    pub dir: String,
    pub mode: String,
    pub width: usize,
    pub buf_kb: usize,
    /// Splice / read / sendfile call size, and the pipe size.
    pub size: usize,
}

/// What a run measured.
#[derive(Debug)]
pub struct Outcome {
    pub bytes: u64,
    pub ns: u64,
    /// Source-side calls that returned data.
    pub calls: u64,
    pub pipe_bytes: usize,
    /// Pipe buffers the source side put in the pipe, where the kernel's
    /// code fixes them and spbench can count them from the calls' returns:
    /// copy_splice_read (fs/splice.c) fills fresh pages from offset 0 and
    /// inserts DIV_ROUND_UP(ret, PAGE_SIZE) buffers per call, and vmsplice
    /// of page-aligned memory one buffer per page. `None` for the gift
    /// sources (the module's `pages_gifted` counts theirs) and for paths
    /// with no pipe of spbench's (read, lseek, sendfile's internal pipe).
    pub pipe_bufs: Option<u64>,
    pub delta: std::collections::BTreeMap<String, i64>,
}

const PAGE: usize = 4096;

fn knob(cfg: &Config, name: &str, v: &str) -> Result<()> {
    sys::write_text(&format!("{}/{name}", cfg.dir), v)
}

fn copy_kb(cfg: &Config, s: Source) -> usize {
    match s {
        Source::CopyEq | Source::ConsumerCopyEq | Source::LiveMirrorCopy => cfg.buf_kb,
        _ => 4,
    }
}

/// Writes every knob the run depends on (snapshotted by the next open).
/// The live sources have no records: `events` and `mirror` take
/// buffer_size_kb and map_mode as `trace` does, `mirror_copy` its seq
/// buffer from buffer_size_kb, `events_copy` and ftrace's `trace` none.
pub fn set_knobs(cfg: &Config, source: Source, count: u64) -> Result<()> {
    if source.live_file().is_some() {
        knob(cfg, "buffer_size_kb", &cfg.buf_kb.to_string())?;
        if std::path::Path::new(&format!("{}/map_mode", cfg.dir)).exists() {
            match source.map_mode(&cfg.dir) {
                "" => knob(cfg, "map_mode", "vm_map_ram")?,
                mode => knob(cfg, "map_mode", mode)?,
            }
        }
        return Ok(());
    }
    if source.is_consumer() {
        // The bench module's parameters; seqsplice's buffer and map mode
        // for the API's open.
        consumer::set_params(cfg, count, copy_kb(cfg, Source::ConsumerCopyEq))?;
    }
    knob(cfg, "record_mode", &cfg.mode)?;
    knob(cfg, "record_width", &cfg.width.to_string())?;
    knob(cfg, "record_count", &count.to_string())?;
    knob(cfg, "buffer_size_kb", &cfg.buf_kb.to_string())?;
    knob(
        cfg,
        "copy_buffer_size_kb",
        &copy_kb(cfg, source).to_string(),
    )?;
    let has_knob = std::path::Path::new(&format!("{}/map_mode", cfg.dir)).exists();
    match source.map_mode(&cfg.dir) {
        // The copy and user sources have none: the knob as the module's
        // default leaves it.
        "" if has_knob => knob(cfg, "map_mode", "vm_map_ram"),
        "" => Ok(()),
        mode if has_knob => knob(cfg, "map_mode", mode),
        // Older modules have no map_mode knob: their only mode is vmap.
        _ => Ok(()),
    }
}

pub fn source_path(cfg: &Config, s: Source) -> String {
    match s {
        Source::Trace | Source::TraceVmap | Source::TraceVmMapRam | Source::TraceDirect => {
            format!("{}/trace", cfg.dir)
        }
        Source::TraceOps => format!("{}/trace_ops", cfg.dir),
        Source::LiveFtrace => format!("{}/trace", live::TRACEFS),
        Source::LiveEvents => format!("{}/events", cfg.dir),
        Source::LiveEventsCopy => format!("{}/events_copy", cfg.dir),
        Source::LiveMirror => format!("{}/mirror", cfg.dir),
        Source::LiveMirrorCopy => format!("{}/mirror_copy", cfg.dir),
        s if s.is_consumer() => consumer::device(s).to_string(),
        _ => format!("{}/trace_copy", cfg.dir),
    }
}

/// Moves `n` bytes out of the pipe into the sink.
fn drain(
    r: &Fd,
    sink: Sink,
    out: Option<&Fd>,
    buf: &mut [u8],
    mut n: usize,
    cap: &mut Option<&mut Vec<u8>>,
    inline: &mut Option<Inline>,
) -> Result<()> {
    while n > 0 {
        let m = match sink {
            Sink::Tcp if inline.is_some() => {
                let rx = inline.as_mut().unwrap();
                match sys::splice(r, out.expect("sink fd"), n, 0) {
                    Ok(m) => m,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        // Send buffer full: be the receiver for a while.
                        rx.pump(false)?;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            Sink::Null | Sink::Tcp => sys::splice(r, out.expect("sink fd"), n, 0)?,
            Sink::PipeRead => {
                let k = n.min(buf.len());
                let m = sys::read(r, &mut buf[..k])?;
                if let Some(c) = cap.as_deref_mut() {
                    c.extend_from_slice(&buf[..m]);
                }
                m
            }
            Sink::Direct => unreachable!("no pipe stage"),
        };
        if m == 0 {
            return Err(Error::new(ErrorKind::UnexpectedEof, "pipe drained short"));
        }
        n -= m;
    }
    Ok(())
}

/// The TCP receiver run inline by the sending thread (one CPU): the sender
/// is non-blocking, and whenever its send buffer is full it drains the
/// receiving socket with recv(MSG_TRUNC | MSG_DONTWAIT). Loopback TCP
/// delivers and acknowledges in the sender's softirq, so no scheduler
/// decision sits between the two ends and the instruction count repeats.
pub struct Inline {
    rx: Fd,
    got: u64,
    copy: bool,
    keep: Vec<u8>,
    buf: Vec<u8>,
}

impl Inline {
    /// Receives what is queued; with `block`, waits for at least one byte.
    fn pump(&mut self, block: bool) -> Result<()> {
        let mut flags = if self.copy { 0 } else { libc::MSG_TRUNC };
        if !block {
            flags |= libc::MSG_DONTWAIT;
        }
        loop {
            match sys::recv(&self.rx, &mut self.buf, flags) {
                Ok(0) => return Err(Error::new(ErrorKind::UnexpectedEof, "TCP peer closed")),
                Ok(n) => {
                    if self.copy {
                        self.keep.extend_from_slice(&self.buf[..n]);
                    }
                    self.got += n as u64;
                    if block {
                        return Ok(());
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }
}

/// How the TCP sink's receiver runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpReceiver {
    /// A thread pinned to CPU 1 (blocking recv).
    Thread,
    /// The sending thread itself (see [`Inline`]).
    Inline,
}

/// Resources reused across runs of one configuration.
pub struct Bench {
    pub cfg: Config,
    null: Fd,
    purge: Fd,
    buf: Buf,
    /// The vmsplice source: `size` bytes, page aligned, never written
    /// after setup (gifted pages must not change).
    gift: Buf,
    pub cpus: usize,
    pub tcp_receiver: TcpReceiver,
    /// `perf stat --control`: counters enabled around each timed segment.
    pub perf: Option<PerfControl>,
    /// The exact kernel TLB flush counters, or why there are none.
    pub flush: std::result::Result<FlushProbe, String>,
    /// The live capture the live sources read (`spbench capture`).
    pub live: Option<live::Capture>,
}

/// The control FIFOs of `perf stat -D -1 --control fifo:CTL,ACK`: the
/// counters start disabled, and each command written to CTL is answered by
/// `ack` on ACK once perf has carried it out. So perf counts exactly the
/// timed segments (plus the return from the `ack` read and one clock read).
pub struct PerfControl {
    ctl: std::fs::File,
    ack: std::fs::File,
}

impl PerfControl {
    /// `spec` is "CTL,ACK", the two FIFO paths perf was given.
    pub fn open(spec: &str) -> Result<PerfControl> {
        let (c, a) = spec
            .split_once(',')
            .ok_or_else(|| Error::other(format!("--perf-control wants CTL,ACK, not '{spec}'")))?;
        // perf holds both FIFOs open read-write, so neither open blocks.
        let ctl = std::fs::OpenOptions::new().write(true).open(c)?;
        let ack = std::fs::File::open(a)?;
        Ok(PerfControl { ctl, ack })
    }

    fn command(&mut self, cmd: &str) -> Result<()> {
        use std::io::{Read, Write};
        self.ctl.write_all(format!("{cmd}\n").as_bytes())?;
        // perf answers "ack\n" and a NUL; a NUL left over from the last
        // answer may come first.
        let mut got = Vec::new();
        let mut b = [0u8; 1];
        while !got.ends_with(b"ack\n") {
            if self.ack.read(&mut b)? == 0 {
                return Err(Error::new(
                    ErrorKind::UnexpectedEof,
                    "perf closed its ack FIFO",
                ));
            }
            if b[0] != 0 {
                got.push(b[0]);
            }
        }
        Ok(())
    }
}

/// A fresh port pair for every TCP run, from a counter kept in /tmp across
/// invocations: no TIME_WAIT collisions, and the same ports in every boot.
fn next_port() -> u16 {
    const FILE: &str = "/tmp/spbench.port";
    let p = std::fs::read_to_string(FILE)
        .ok()
        .and_then(|s| s.trim().parse::<u16>().ok())
        .filter(|p| (20000..60000).contains(p))
        .unwrap_or(20000);
    let _ = std::fs::write(FILE, format!("{}", p + 2));
    p
}

impl Bench {
    pub fn new(cfg: Config) -> Result<Bench> {
        let null = sys::open("/dev/null", libc::O_WRONLY)?;
        let purge = sys::open(&format!("{}/purge", cfg.dir), libc::O_WRONLY)?;
        let buf = Buf::new(cfg.size.max(1 << 20))?;
        let mut gift = Buf::new(cfg.size)?;
        for (i, b) in gift.as_mut_slice().iter_mut().enumerate() {
            *b = b'a' + (i % 26) as u8;
        }
        Ok(Bench {
            cfg,
            null,
            purge,
            buf,
            gift,
            cpus: sys::online_cpus(),
            tcp_receiver: if sys::online_cpus() > 1 {
                TcpReceiver::Thread
            } else {
                TcpReceiver::Inline
            },
            perf: None,
            flush: FlushProbe::open().map_err(|e| e.to_string()),
            live: None,
        })
    }

    fn snapshot(&self, end: End) -> Snapshot {
        Snapshot::take(&self.cfg.dir, self.flush.as_ref().ok(), end)
    }

    fn purge(&self) -> Result<()> {
        sys::write_all(&self.purge, b"1")
    }

    /// One timed run of `path` over a stream of `count` records (the user
    /// source moves the same number of bytes). With `cap`, the bytes that
    /// reached the sink are appended to it where the sink lets them be
    /// seen (not /dev/null). A live source moves its whole file, the size
    /// the capture found, to EOF; or, with `count` below that size (the
    /// warm-up), `count` bytes or a little more, unchecked.
    pub fn run(
        &mut self,
        path: Path,
        count: u64,
        mut cap: Option<&mut Vec<u8>>,
    ) -> Result<Outcome> {
        let cfg = self.cfg.clone();
        let (total, stop_at) = match path.source.live_file() {
            None => (count * cfg.width as u64, None),
            Some(f) => {
                let size = self
                    .live
                    .as_ref()
                    .ok_or_else(|| Error::other("no live capture loaded"))?
                    .bytes(f);
                if count >= size {
                    (size, None)
                } else {
                    (count, Some(count))
                }
            }
        };
        if path.source != Source::User {
            set_knobs(&cfg, path.source, count)?;
        }
        let needs_pipe = matches!(path.method, Method::Splice | Method::Vmsplice);
        let (pr, pw, pipe_bytes) = if needs_pipe {
            let (r, w, n) = sys::pipe_sized(cfg.size)?;
            (Some(r), Some(w), n)
        } else {
            (None, None, 0)
        };
        let (tx, rx) = if path.sink == Sink::Tcp {
            let (s, r) = sys::tcp_pair(next_port())?;
            (Some(s), Some(r))
        } else {
            (None, None)
        };
        // Sendfile's capture goes through a tmpfs file, read back after.
        let sf_out = if path.method == Method::Sendfile && cap.is_some() {
            Some(sys::open(
                "/tmp/spbench.sendfile",
                libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC,
            )?)
        } else {
            None
        };
        let want_tcp_copy = cap.is_some();
        let cpus = self.cpus;
        let (rx, mut inline) = match rx {
            Some(rx) if self.tcp_receiver == TcpReceiver::Inline => {
                sys::set_nonblock(tx.as_ref().unwrap())?;
                (
                    None,
                    Some(Inline {
                        rx,
                        got: 0,
                        copy: want_tcp_copy,
                        keep: Vec::new(),
                        buf: vec![0u8; 1 << 20],
                    }),
                )
            }
            rx => (rx, None),
        };
        let receiver = rx.map(|rx| {
            thread::spawn(move || -> Result<(u64, Vec<u8>)> {
                if cpus > 1 {
                    sys::pin(1);
                }
                let mut buf = vec![0u8; 1 << 20];
                let mut got = 0u64;
                let mut keep = Vec::new();
                // MSG_TRUNC: TCP discards the data without copying it
                // (tcp_recvmsg_locked), so the receiver models a remote
                // peer; the smoke test copies to check the bytes.
                let flags = if want_tcp_copy { 0 } else { libc::MSG_TRUNC };
                while got < total {
                    let n = sys::recv(&rx, &mut buf, flags)?;
                    if n == 0 {
                        break;
                    }
                    if want_tcp_copy {
                        keep.extend_from_slice(&buf[..n]);
                    }
                    got += n as u64;
                }
                Ok((got, keep))
            })
        });
        // open() is outside the timed segment: it is a per-file constant
        // (raw mode preformats its table there), not streaming cost.
        let src = if path.method == Method::Vmsplice {
            None
        } else {
            Some(sys::open(&source_path(&cfg, path.source), libc::O_RDONLY)?)
        };
        let before = self.snapshot(End::Start);
        if let Some(p) = self.perf.as_mut() {
            p.command("enable")?;
        }
        let t0 = sys::now_ns();
        let mut bytes = 0u64;
        let mut calls = 0u64;
        let mut pipe_bufs = 0u64;
        let mut expect_user = Vec::new();
        let sink_fd = match path.sink {
            Sink::Tcp => tx.as_ref(),
            _ => Some(&self.null),
        };
        if path.method == Method::Vmsplice {
            let w = pw.as_ref().unwrap();
            let r = pr.as_ref().unwrap();
            while bytes < total {
                let k = ((total - bytes) as usize).min(cfg.size);
                let n = sys::vmsplice_gift(w, &self.gift.as_slice()[..k])?;
                pipe_bufs += n.div_ceil(PAGE) as u64;
                if cap.is_some() {
                    expect_user.extend_from_slice(&self.gift.as_slice()[..n]);
                }
                calls += 1;
                drain(
                    r,
                    path.sink,
                    sink_fd,
                    self.buf.as_mut_slice(),
                    n,
                    &mut cap,
                    &mut inline,
                )?;
                bytes += n as u64;
            }
        } else if let Some(src) = src {
            if path.method == Method::Seek {
                let at = sys::lseek(&src, total as i64)?;
                calls += 1;
                if at != total || sys::read(&src, &mut self.buf.as_mut_slice()[..1])? != 0 {
                    return Err(Error::other(format!(
                        "lseek to {total} gave {at}, or data after it"
                    )));
                }
                bytes = at;
            }
            let mut eof = path.method == Method::Seek;
            while !eof && stop_at.is_none_or(|s| bytes < s) {
                let n = match path.method {
                    Method::Splice => {
                        let n =
                            sys::splice(&src, pw.as_ref().unwrap(), cfg.size, libc::SPLICE_F_MOVE)?;
                        pipe_bufs += n.div_ceil(PAGE) as u64;
                        drain(
                            pr.as_ref().unwrap(),
                            path.sink,
                            sink_fd,
                            self.buf.as_mut_slice(),
                            n,
                            &mut cap,
                            &mut inline,
                        )?;
                        n
                    }
                    Method::Read => {
                        let n = sys::read(&src, &mut self.buf.as_mut_slice()[..cfg.size])?;
                        if let Some(c) = cap.as_deref_mut() {
                            c.extend_from_slice(&self.buf.as_slice()[..n]);
                        }
                        n
                    }
                    Method::Sendfile => {
                        sys::sendfile(sf_out.as_ref().unwrap_or(&self.null), &src, cfg.size)?
                    }
                    Method::Vmsplice | Method::Seek => unreachable!(),
                };
                eof = n == 0;
                if n > 0 {
                    calls += 1;
                    bytes += n as u64;
                }
            }
            src.close()?;
        }
        let mut got_tcp = None;
        if let Some(mut rx) = inline.take() {
            while rx.got < bytes {
                rx.pump(true)?;
            }
            got_tcp = Some(rx.got);
            if let Some(c) = cap.as_deref_mut() {
                c.extend_from_slice(&rx.keep);
            }
        }
        if let Some(h) = receiver {
            let (got, keep) = h.join().map_err(|_| Error::other("receiver panicked"))??;
            got_tcp = Some(got);
            if let Some(c) = cap.as_deref_mut() {
                c.extend_from_slice(&keep);
            }
        }
        self.purge()?;
        let t1 = sys::now_ns();
        if let Some(p) = self.perf.as_mut() {
            p.command("disable")?;
        }
        let after = self.snapshot(End::Finish);
        drop(tx);
        if let Some(g) = got_tcp {
            if g != bytes {
                return Err(Error::other(format!(
                    "TCP receiver got {g} of {bytes} bytes"
                )));
            }
        }
        if let (Some(f), Some(c)) = (&sf_out, cap.as_deref_mut()) {
            let mut off = 0i64;
            let mut b = vec![0u8; 65536];
            loop {
                let n = sys::pread(f, &mut b, off)?;
                if n == 0 {
                    break;
                }
                c.extend_from_slice(&b[..n]);
                off += n as i64;
            }
            let _ = std::fs::remove_file("/tmp/spbench.sendfile");
        }
        if path.source == Source::User && path.sink == Sink::PipeRead {
            if let Some(c) = cap {
                if *c != expect_user {
                    return Err(Error::other(
                        "vmsplice: bytes drained differ from bytes gifted",
                    ));
                }
            }
        }
        if stop_at.is_none() && bytes != total {
            return Err(Error::other(format!(
                "{}: moved {bytes} bytes, the stream has {total}",
                path.id()
            )));
        }
        Ok(Outcome {
            bytes,
            ns: t1 - t0,
            calls,
            pipe_bytes,
            pipe_bufs: match path.method {
                Method::Splice if !path.gifts() => Some(pipe_bufs),
                Method::Vmsplice => Some(pipe_bufs),
                _ => None,
            },
            delta: before.delta(&after),
        })
    }

    /// Counts the pipe buffers of `calls` splice calls of `path`'s source
    /// directly, untimed: after each call into the empty pipe, tee() into a
    /// one-slot pipe copies exactly the first buffer (link_pipe() stops
    /// when the output is full) and returns its length, and a splice of
    /// that length to /dev/null consumes exactly it; repeated until the
    /// pipe is empty. Returns (buffers walked, bytes, what the timed runs
    /// use instead: `pages_gifted`'s delta for a gift source, the
    /// per-call DIV_ROUND_UP(n, PAGE_SIZE) for a copy source).
    pub fn census(&mut self, path: Path, count: u64, calls: usize) -> Result<(u64, u64, u64)> {
        let cfg = self.cfg.clone();
        set_knobs(&cfg, path.source, count)?;
        let (pr, pw, _) = sys::pipe_sized(cfg.size)?;
        let (qr, qw, _) = sys::pipe_sized(PAGE)?;
        let src = sys::open(&source_path(&cfg, path.source), libc::O_RDONLY)?;
        let before = self.snapshot(End::Start);
        let (mut bufs, mut bytes, mut derived) = (0u64, 0u64, 0u64);
        for _ in 0..calls {
            let n = sys::splice(&src, &pw, cfg.size, libc::SPLICE_F_MOVE)?;
            if n == 0 {
                break;
            }
            derived += n.div_ceil(PAGE) as u64;
            let mut left = n;
            while left > 0 {
                let k = sys::tee(&pr, &qw, left, libc::SPLICE_F_NONBLOCK)?;
                if k == 0 {
                    return Err(Error::other("tee returned 0 with bytes in the pipe"));
                }
                if sys::splice(&pr, &self.null, k, 0)? != k
                    || sys::splice(&qr, &self.null, k, 0)? != k
                {
                    return Err(Error::other("a pipe buffer did not drain in one splice"));
                }
                bufs += 1;
                left -= k;
            }
            bytes += n as u64;
        }
        src.close()?;
        let d = before.delta(&self.snapshot(End::Finish));
        if path.gifts() {
            derived = d.get("mod.pages_gifted").copied().unwrap_or(0) as u64;
        }
        Ok((bufs, bytes, derived))
    }
}
