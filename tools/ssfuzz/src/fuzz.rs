//! One fuzzer worker: its own opens of a gift file (`trace`, `trace_ops`,
//! `lines` or `events`, or any file by absolute path) and its copy file
//! (`trace_copy`, `lines_copy`, `events_copy`, or the path given), its own
//! knob configuration, its own pipes, and a random op sequence that depends
//! on its seed alone.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use seqsplice_model::{Mode, Stream, MIN_WIDTH};

use crate::expect::{Expect, Snapshot};
use crate::sys;

const PAGE: usize = 4096;

/// The knob files a worker writes before each reopen, in this order.
pub const KNOB_FILES: [&str; 6] = [
    "record_count",
    "record_width",
    "record_mode",
    "buffer_size_kb",
    "map_mode",
    "copy_buffer_size_kb",
];

/// (record_count, record_width, buffer_size_kb) of the C suite's
/// random-op tests this fuzzer replaced, and the defaults: a reopen with new
/// knobs picks one of these a third of the time.
const PRESETS: &[(u64, usize, usize)] = &[
    (10_000, 100, 1024),
    (3000, 100, 16),
    (900, 333, 4),
    (3000, 100, 1024),
    (2000, 100, 16),
    (2000, 100, 4),
    (2000, 100, 1024),
    (800, 250, 16),
];

/// The C suite's interesting lengths: around the header, a record, a page.
const LENS: &[usize] = &[
    1, 2, 3, 7, 83, 84, 99, 100, 101, 4095, 4096, 4097, 8191, 8192, 12289, 65536,
];

/// The largest single call (a complete read, pread or splice loop).
const MAX_LEN: usize = 1 << 20;

/// The knobs of one open: what both files are opened with.
#[derive(Clone, Copy, Debug)]
pub struct Knobs {
    pub count: u64,
    pub width: usize,
    pub mode: Mode,
    pub buf_kb: usize,
    pub map: &'static str,
    pub copy_kb: usize,
}

impl Knobs {
    fn values(&self) -> [String; 6] {
        [
            self.count.to_string(),
            self.width.to_string(),
            self.mode.name().to_string(),
            self.buf_kb.to_string(),
            self.map.to_string(),
            self.copy_kb.to_string(),
        ]
    }
}

impl fmt::Display for Knobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in KNOB_FILES.iter().zip(self.values()).enumerate() {
            write!(f, "{}{k}={v}", if i > 0 { " " } else { "" })?;
        }
        Ok(())
    }
}

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }

    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as u64) as usize]
    }
}

/// The seed of worker `k` of a run seeded `seed`: worker 0 uses the seed
/// itself, so `--procs 1 --seed <worker seed>` replays any worker alone.
pub fn worker_seed(seed: u64, k: usize) -> u64 {
    if k == 0 {
        return seed;
    }
    // splitmix64 of seed + k.
    let mut z = seed.wrapping_add((k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)).max(1)
}

pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! check {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            return Err(Failure(format!($($arg)*)));
        }
    };
}

/// Bytes that went into a pipe: `len` bytes of `stream` from `start`.
#[derive(Clone, Debug)]
struct Seg {
    stream: Expect,
    start: u64,
    len: usize,
}

impl Seg {
    /// Checks `got`, the next bytes read from the pipe, and consumes them.
    fn take(&mut self, got: &[u8], what: &str, ops: u64) -> Result<(), Failure> {
        if let Err(m) = self.stream.check(self.start, got) {
            return Err(Failure(format!(
                "{what} changed after {ops} ops: of {} bytes spliced at stream offset {}, {}",
                self.len, self.start, m
            )));
        }
        self.start += got.len() as u64;
        self.len -= got.len();
        Ok(())
    }
}

/// A pipe left undrained for later, and what it must give.
struct Pending {
    rd: i32,
    wr: i32,
    seg: Seg,
}

/// A side's own long-lived pipe: splices and sendfiles into it find it
/// partly full and its ring indices far from 0; it is resized while empty
/// and outlives reopens.
struct Chan {
    rd: i32,
    wr: i32,
    cap: usize,
    /// What it holds, in order, and how many bytes that is.
    segs: VecDeque<Seg>,
    held: usize,
}

struct Side {
    /// A file of `dir`, or an absolute path (`--gift-path`, `--copy-path`).
    name: &'static str,
    fd: i32,
    /// Where the file position should be.
    pos: u64,
    pending: VecDeque<Pending>,
    chan: Chan,
}

/// The op kinds and their weights (of [`OP_WEIGHTS`]).
pub const OPS: [(&str, u64); 15] = [
    ("read", 10),
    ("read-complete", 4),
    ("pread", 6),
    ("pread-complete", 2),
    ("lseek", 10),
    ("splice", 22),
    ("splice-own-pipe", 6),
    ("splice-own-pipe-complete", 4),
    ("resize-own-pipe", 2),
    ("drain-own-pipe", 2),
    ("sendfile", 7),
    ("sendfile-own-pipe", 3),
    ("drain-pipe", 8),
    ("tee", 5),
    ("reopen", 9),
];

const OP_WEIGHTS: u64 = {
    let mut n = 0;
    let mut i = 0;
    while i < OPS.len() {
        n += OPS[i].1;
        i += 1;
    }
    n
};

/// What a worker did, by op kind, and how often the rarer outcomes came.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub ops: [u64; OPS.len()],
    pub bytes: [u64; OPS.len()],
    /// Time spent, milliseconds.
    pub ms: [f64; OPS.len()],
    /// Non-blocking splices into a full own pipe (EAGAIN).
    pub full_pipe: u64,
    /// Reopens with a new knob configuration.
    pub new_knobs: u64,
}

impl Stats {
    pub fn add(&mut self, o: &Stats) {
        for k in 0..OPS.len() {
            self.ops[k] += o.ops[k];
            self.bytes[k] += o.bytes[k];
            self.ms[k] += o.ms[k];
        }
        self.full_pipe += o.full_pipe;
        self.new_knobs += o.new_knobs;
    }

    /// The op kinds (and "reopen with new knobs") that ran fewer than
    /// `min` times.
    pub fn below(&self, min: u64) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = OPS
            .iter()
            .zip(self.ops)
            .filter(|(_, n)| *n < min)
            .map(|((name, _), _)| *name)
            .collect();
        if self.new_knobs < min {
            v.push("new knob configurations");
        }
        v
    }

    /// Space-separated numbers, as [`Stats::parse`] reads them back.
    pub fn encode(&self) -> String {
        let mut v: Vec<u64> = self.ops.to_vec();
        v.extend(self.bytes);
        v.extend(self.ms.map(|m| (m * 1e3) as u64));
        v.extend([self.full_pipe, self.new_knobs]);
        v.iter().map(u64::to_string).collect::<Vec<_>>().join(" ")
    }

    pub fn parse(s: &str) -> Option<Stats> {
        let v: Vec<u64> = s
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        let k = OPS.len();
        if v.len() != 3 * k + 2 {
            return None;
        }
        let mut st = Stats::default();
        st.ops.copy_from_slice(&v[..k]);
        st.bytes.copy_from_slice(&v[k..2 * k]);
        for (m, us) in st.ms.iter_mut().zip(&v[2 * k..3 * k]) {
            *m = *us as f64 / 1e3;
        }
        st.full_pipe = v[3 * k];
        st.new_knobs = v[3 * k + 1];
        Some(st)
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, (name, _)) in OPS.iter().enumerate() {
            write!(
                f,
                "{}{name} {} ({} B, {:.0} ms)",
                if k > 0 { ", " } else { "" },
                self.ops[k],
                self.bytes[k],
                self.ms[k]
            )?;
        }
        write!(
            f,
            "; {} knob configurations, {} splices into a full pipe (EAGAIN)",
            self.new_knobs, self.full_pipe
        )
    }
}

pub struct Fuzz {
    dir: String,
    /// flock'd around knob writes and opens: other workers' knobs must not
    /// land between ours and our opens (knobs are snapshotted at open).
    lock: i32,
    scratch: String,
    rng: Rng,
    knobs: Knobs,
    stream: Expect,
    /// Fuzzing `lines` / `lines_copy` or `events` / `events_copy`: the
    /// stream ignores the knobs.
    fixed: bool,
    /// `--buffer-kb`: `buffer_size_kb` of every configuration.
    buffer_kb: Option<usize>,
    sides: [Side; 2],
    pub ops: u64,
    pub bytes: u64,
    pub stats: Stats,
}

impl Drop for Fuzz {
    fn drop(&mut self) {
        for s in &mut self.sides {
            sys::close(s.fd);
            sys::close(s.chan.rd);
            sys::close(s.chan.wr);
            for p in s.pending.drain(..) {
                sys::close(p.rd);
                sys::close(p.wr);
            }
        }
        sys::close(self.lock);
        let _ = std::fs::remove_file(&self.scratch);
    }
}

impl Fuzz {
    /// A worker on the seqsplice instance in `dir`; `worker` names its
    /// scratch file.
    /// `gift` is the file compared with `trace_copy` (`trace` or another
    /// file of the same records), or `lines` (with `lines_copy`), or
    /// `events` (with `events_copy`; `snapshot` is then that file's whole
    /// contents, the expected stream), or, given `copy_path`, any file
    /// compared with that one (`snapshot` is then its whole contents).
    /// `buffer_kb`, if given, is the `buffer_size_kb` of every open.
    pub fn new(
        dir: &str,
        gift: &'static str,
        copy_path: Option<&'static str>,
        snapshot: Option<Arc<Snapshot>>,
        buffer_kb: Option<usize>,
        seed: u64,
        worker: usize,
    ) -> Result<Fuzz, Failure> {
        // `lines` is compared with `lines_copy` and its own stream, `events`
        // with `events_copy` and its snapshot; any other gift file with
        // `trace_copy` and the records'.
        let lines = gift == "lines";
        let copy = match (copy_path, gift) {
            (Some(c), _) => c,
            (None, "lines") => "lines_copy",
            (None, "events") => "events_copy",
            _ => "trace_copy",
        };
        check!(
            (gift == "events" || copy_path.is_some()) == snapshot.is_some(),
            "--gift {gift}: a snapshot is given exactly for events and --copy-path"
        );
        let lock = sys::open("/tmp/ssfuzz.lock", libc::O_RDWR | libc::O_CREAT);
        check!(lock >= 0, "open /tmp/ssfuzz.lock: errno {}", sys::errno());
        let mut sides = Vec::new();
        for name in [gift, copy] {
            let Some((rd, wr, cap)) = sys::pipe(16 * PAGE) else {
                sys::close(lock);
                return Err(Failure(format!("pipe: errno {}", sys::errno())));
            };
            sides.push(Side {
                name,
                fd: -1,
                pos: 0,
                pending: VecDeque::new(),
                chan: Chan {
                    rd,
                    wr,
                    cap,
                    segs: VecDeque::new(),
                    held: 0,
                },
            });
        }
        let knobs = Knobs {
            count: 1,
            width: MIN_WIDTH,
            mode: Mode::Printf,
            buf_kb: 1024,
            map: "vm_map_ram",
            copy_kb: 4,
        };
        let sides: [Side; 2] = match sides.try_into() {
            Ok(s) => s,
            Err(_) => unreachable!("two sides"),
        };
        let mut f = Fuzz {
            dir: dir.to_string(),
            lock,
            scratch: format!("/tmp/ssfuzz.{worker}.out"),
            rng: Rng::new(seed),
            knobs,
            fixed: lines || snapshot.is_some(),
            buffer_kb,
            stream: match snapshot {
                Some(s) => Expect::Snapshot(s),
                None if lines => Expect::Model(Stream::lines()),
                None => Expect::Model(Stream::new(knobs.count, knobs.width, knobs.mode)),
            },
            sides,
            ops: 0,
            bytes: 0,
            stats: Stats::default(),
        };
        f.reopen_with(true)?;
        Ok(f)
    }

    /// `ops` random operations, then every pipe drained and checked.
    pub fn run(&mut self, ops: u64) -> Result<(), Failure> {
        while self.ops < ops {
            self.ops += 1;
            self.step()?;
        }
        for side in 0..2 {
            while !self.sides[side].pending.is_empty() {
                self.drain_oldest(side)?;
            }
            self.drain_chan(side, usize::MAX)?;
        }
        Ok(())
    }

    fn step(&mut self) -> Result<(), Failure> {
        let mut w = self.rng.below(OP_WEIGHTS);
        let kind = OPS.iter().position(|&(_, n)| {
            let hit = w < n;
            w = w.saturating_sub(n);
            hit
        });
        let kind = kind.unwrap_or(OPS.len() - 1);
        let side = self.rng.below(2) as usize;
        let before = self.bytes;
        let t0 = std::time::Instant::now();
        let r = match kind {
            0 => self.op_read(side, false),
            1 => self.op_read(side, true),
            2 => self.op_pread(side, false),
            3 => self.op_pread(side, true),
            4 => self.op_lseek(side),
            5 => self.op_splice(side),
            6 => self.op_splice_chan(side, false),
            7 => self.op_splice_chan(side, true),
            8 => self.op_resize_chan(side),
            9 => {
                let n = self.rng.below(70_000) as usize;
                self.drain_chan(side, n)
            }
            10 => self.op_sendfile(side),
            11 => self.op_sendfile_chan(side),
            12 => self.drain_oldest(side),
            13 => self.op_tee(side),
            _ => self.reopen(),
        };
        self.stats.ops[kind] += 1;
        self.stats.bytes[kind] += self.bytes - before;
        self.stats.ms[kind] += t0.elapsed().as_secs_f64() * 1e3;
        r
    }

    fn knob_failure(&self, what: &str) -> Failure {
        Failure(format!(
            "{what} (knobs {}, stream {:?})",
            self.knobs, self.stream
        ))
    }

    /// A new random knob configuration (not yet written).
    fn new_knobs(&mut self) {
        let (count, width, buf_kb) = if self.rng.below(3) == 0 {
            self.rng.pick(PRESETS)
        } else {
            (
                self.rng
                    .pick(&[1u64, 2, 7, 40, 300, 800, 900, 1000, 2000, 3000]),
                self.rng
                    .pick(&[84usize, 100, 100, 101, 250, 333, 4095, 4096, 4097, 9000]),
                self.rng.pick(&[4usize, 8, 16, 64, 1024]),
            )
        };
        let count = count.min(4_000_000 / width as u64).max(1);
        let buf_kb = self.buffer_kb.unwrap_or(buf_kb);
        let mode = if self.rng.below(2) == 0 {
            Mode::Raw
        } else {
            Mode::Printf
        };
        let map = self.rng.pick(&["direct", "vm_map_ram", "vmap", "auto"]);
        let copy_kb = self.rng.pick(&[4usize, 8, 64]);
        self.knobs = Knobs {
            count,
            width,
            mode,
            buf_kb,
            map,
            copy_kb,
        };
        if !self.fixed {
            self.stream = Expect::Model(Stream::new(count, width, mode));
        }
    }

    fn reopen(&mut self) -> Result<(), Failure> {
        let change = self.rng.below(4) == 0;
        self.reopen_with(change)
    }

    /// Closes both files and opens them again, with new knobs if `change`.
    /// Every reopen writes all the knobs (other workers may have changed
    /// them), under the lock, and opens before unlocking.
    fn reopen_with(&mut self, change: bool) -> Result<(), Failure> {
        for s in &mut self.sides {
            sys::close(s.fd);
            s.fd = -1;
        }
        if change {
            self.new_knobs();
            self.stats.new_knobs += 1;
        }
        check!(sys::lock(self.lock, true), "flock: errno {}", sys::errno());
        let r = self.write_knobs_and_open();
        sys::lock(self.lock, false);
        r
    }

    fn write_knobs_and_open(&mut self) -> Result<(), Failure> {
        for (k, v) in KNOB_FILES.iter().zip(self.knobs.values()) {
            let path = format!("{}/{k}", self.dir);
            if let Err(e) = std::fs::write(&path, &v) {
                return Err(self.knob_failure(&format!("write {v} to {path}: {e}")));
            }
        }
        for s in 0..2 {
            let name = self.sides[s].name;
            let path = if name.starts_with('/') {
                name.to_string()
            } else {
                format!("{}/{name}", self.dir)
            };
            let fd = sys::open(&path, libc::O_RDONLY);
            if fd < 0 {
                let e = sys::errno();
                return Err(self.knob_failure(&format!("open {name}: errno {e}")));
            }
            self.sides[s].fd = fd;
            self.sides[s].pos = 0;
        }
        Ok(())
    }

    /// A call length: the C suite's list, small, around a record, up to
    /// 300 000, and (complete transfers only) the 1 MiB maximum.
    fn random_len(&mut self, complete: bool) -> usize {
        match self.rng.below(8) {
            0 => 1 + self.rng.below(3) as usize,
            1 | 2 => self.rng.pick(LENS),
            3 => self.rng.below(200) as usize,
            4 => self.rng.below(70_000) as usize,
            5 => self.rng.below(300_000) as usize,
            6 if complete && self.rng.below(4) == 0 => MAX_LEN,
            _ => self.stream.width() * (1 + self.rng.below(5) as usize),
        }
    }

    /// An offset: 0, at and past EOF, just before EOF, around a page or a
    /// record boundary, or anywhere.
    fn random_off(&mut self) -> u64 {
        let size = self.stream.size();
        match self.rng.below(8) {
            0 => 0,
            1 => size,
            2 => size + self.rng.below(10_000),
            3 => size.saturating_sub(1 + self.rng.below(3)),
            4 => {
                let page = self.rng.below(size / PAGE as u64 + 1) * PAGE as u64;
                (page + self.rng.below(3)).saturating_sub(1)
            }
            5 => {
                let k = self.rng.below(self.stream.records());
                self.stream.record_start(k) + self.rng.below(3)
            }
            _ => self.rng.below(size + 1),
        }
    }

    /// Checks bytes a call returned at `off` against the model; `asked`
    /// bytes were asked for; with `complete`, the count must be exactly
    /// what the stream has there.
    fn verify(
        &self,
        what: &str,
        side: usize,
        off: u64,
        got: &[u8],
        asked: usize,
        complete: bool,
    ) -> Result<(), Failure> {
        let name = self.sides[side].name;
        if let Err(m) = self.stream.check(off, got) {
            return Err(Failure(format!(
                "{what} on {name}: {} bytes at offset {off}: {m}",
                got.len()
            )));
        }
        let want = self.stream.count_at(off, asked);
        if complete {
            check!(
                got.len() == want,
                "{what}({asked}) on {name} at offset {off}: {} bytes, the stream has {want} there ({:?})",
                got.len(),
                self.stream
            );
        } else if got.is_empty() && asked > 0 {
            check!(
                want == 0,
                "{what}({asked}) on {name}: returned 0 at offset {off} before EOF at {}",
                self.stream.size()
            );
        }
        check!(
            got.len() <= asked,
            "{what}({asked}) on {name}: returned {}",
            got.len()
        );
        Ok(())
    }

    fn op_read(&mut self, side: usize, complete: bool) -> Result<(), Failure> {
        let n = self.random_len(complete);
        let mut buf = vec![0u8; n];
        let (fd, name, pos) = (
            self.sides[side].fd,
            self.sides[side].name,
            self.sides[side].pos,
        );
        let mut got = 0;
        loop {
            let r = sys::read(fd, &mut buf[got..]);
            check!(
                r >= 0,
                "read({}) on {name}: errno {}",
                n - got,
                sys::errno()
            );
            got += r as usize;
            if !complete || r == 0 || got == n {
                break;
            }
        }
        buf.truncate(got);
        self.verify("read", side, pos, &buf, n, complete)?;
        self.sides[side].pos += got as u64;
        self.bytes += got as u64;
        Ok(())
    }

    fn op_pread(&mut self, side: usize, complete: bool) -> Result<(), Failure> {
        let n = self.random_len(complete);
        let off = self.random_off();
        let mut buf = vec![0u8; n];
        let (fd, name) = (self.sides[side].fd, self.sides[side].name);
        let mut got = 0;
        loop {
            let at = off + got as u64;
            let r = sys::pread(fd, &mut buf[got..], at);
            check!(
                r >= 0,
                "pread({}, {at}) on {name}: errno {}",
                n - got,
                sys::errno()
            );
            got += r as usize;
            if !complete || r == 0 || got == n {
                break;
            }
        }
        buf.truncate(got);
        self.verify("pread", side, off, &buf, n, complete)?;
        // seq_file's pread moves the iterator, not f_pos: the next read at
        // f_pos regenerates. Nothing to track.
        self.bytes += got as u64;
        Ok(())
    }

    /// seq_lseek's rules: SEEK_SET and SEEK_CUR (relative to f_pos), any
    /// non-negative offset (past the end too), EINVAL for a negative result
    /// and for the other whences; `lseek(fd, 0, SEEK_CUR)` just reports.
    fn op_lseek(&mut self, side: usize) -> Result<(), Failure> {
        let pos = self.sides[side].pos;
        let (whence, off) = match self.rng.below(8) {
            0..=2 => (libc::SEEK_SET, self.random_off() as i64),
            3 => (libc::SEEK_CUR, self.rng.below(20_000) as i64),
            4 => (libc::SEEK_CUR, -(self.rng.below(pos + 200) as i64)),
            5 | 6 => (libc::SEEK_CUR, 0),
            _ => (libc::SEEK_END, self.rng.below(100) as i64 - 50),
        };
        let s = &mut self.sides[side];
        let r = sys::lseek(s.fd, off, whence);
        let e = if r < 0 { sys::errno() } else { 0 };
        let expect = match whence {
            libc::SEEK_SET => off,
            libc::SEEK_CUR => s.pos as i64 + off,
            _ => -1,
        };
        if expect < 0 {
            check!(
                r == -1 && e == libc::EINVAL,
                "lseek({off}, {whence}) on {} at {}: {r} errno {e}, want EINVAL",
                s.name,
                s.pos
            );
        } else {
            check!(
                r == expect,
                "lseek({off}, {whence}) on {} at {}: {r} (errno {e}), want {expect}",
                s.name,
                s.pos
            );
            s.pos = r as u64;
        }
        Ok(())
    }

    /// One splice into a fresh pipe of a random size, left undrained for
    /// later sometimes, so regeneration, reopen and other splices happen
    /// while its pages sit there.
    fn op_splice(&mut self, side: usize) -> Result<(), Failure> {
        self.bound_pending(side)?;
        let slots = self.rng.pick(&[1usize, 2, 3, 16, 64, 256]);
        let Some((rd, wr, cap)) = sys::pipe(slots * PAGE) else {
            return Err(Failure(format!("pipe: errno {}", sys::errno())));
        };
        let len = self.random_len(false);
        let with_off = self.rng.below(4) == 0;
        let mut off = self.random_off() as i64;
        let s = &self.sides[side];
        let start = if with_off { off as u64 } else { s.pos };
        let r = sys::splice(
            s.fd,
            with_off.then_some(&mut off),
            wr,
            len,
            libc::SPLICE_F_NONBLOCK,
        );
        let e = sys::errno();
        let name = s.name;
        let n = self
            .after_splice(side, "splice", r, e, len, with_off, start, off, cap, 0)
            .and_then(|n| {
                let queued = sys::pipe_bytes(rd);
                check!(
                    queued == n,
                    "splice on {name} returned {n}, the pipe holds {queued}"
                );
                Ok(n)
            });
        let n = match n {
            Ok(n) => n,
            Err(f) => {
                sys::close(rd);
                sys::close(wr);
                return Err(f);
            }
        };
        let seg = Seg {
            stream: self.stream.clone(),
            start,
            len: n,
        };
        self.sides[side].pending.push_back(Pending { rd, wr, seg });
        if self.rng.below(3) != 0 {
            self.drain_oldest(side)?;
        }
        Ok(())
    }

    /// Judges one splice or sendfile into a pipe of `cap` bytes that held
    /// `held` before: its count against the call, the pipe and the stream,
    /// and the offset it advanced. Returns the count.
    #[allow(clippy::too_many_arguments)]
    fn after_splice(
        &mut self,
        side: usize,
        what: &str,
        r: isize,
        e: i32,
        len: usize,
        with_off: bool,
        start: u64,
        off: i64,
        cap: usize,
        held: usize,
    ) -> Result<usize, Failure> {
        let name = self.sides[side].name;
        let at = with_off.then_some(start);
        if r < 0 && e == libc::EAGAIN && held > 0 {
            // The pipe is full (decided by the VFS before splice_read).
            self.stats.full_pipe += 1;
            return Ok(0);
        }
        check!(
            r >= 0,
            "{what}({len}, off {at:?}) on {name} into a pipe of {cap} bytes holding {held}: errno {e}"
        );
        let r = r as usize;
        check!(r <= len, "{what}({len}) on {name} returned {r}");
        check!(
            held + r <= cap,
            "{what}({len}) on {name} returned {r} into a pipe of {cap} bytes holding {held}"
        );
        let want = self.stream.count_at(start, len);
        check!(
            r <= want,
            "{what}({len}, off {at:?}) on {name} at offset {start}: {r} bytes, the stream has {want} there"
        );
        check!(
            r > 0 || want == 0,
            "{what}({len}, off {at:?}) on {name}: returned 0 at offset {start} before EOF at {}",
            self.stream.size()
        );
        if with_off {
            check!(
                off as u64 == start + r as u64,
                "{what} on {name}: offset {start} + {r} advanced to {off}"
            );
        } else {
            self.sides[side].pos += r as u64;
        }
        self.bytes += r as u64;
        Ok(r)
    }

    /// Splice into the side's own pipe: one call into whatever it holds
    /// (non-blocking: it may be full), or a complete transfer of `len`
    /// bytes, splice and drain in turn, as `cat` through a pipe would.
    fn op_splice_chan(&mut self, side: usize, complete: bool) -> Result<(), Failure> {
        let len = self.random_len(complete);
        let with_off = self.rng.below(4) == 0;
        let mut off = self.random_off() as i64;
        let start = if with_off {
            off as u64
        } else {
            self.sides[side].pos
        };
        if complete {
            self.drain_chan(side, usize::MAX)?;
            let (fd, wr, rd, cap) = {
                let s = &self.sides[side];
                (s.fd, s.chan.wr, s.chan.rd, s.chan.cap)
            };
            let mut got = Vec::new();
            while got.len() < len {
                let at = start + got.len() as u64;
                let r = sys::splice(fd, with_off.then_some(&mut off), wr, len - got.len(), 0);
                let e = sys::errno();
                let n = self.after_splice(
                    side,
                    "splice (complete)",
                    r,
                    e,
                    len - got.len(),
                    with_off,
                    at,
                    off,
                    cap,
                    0,
                )?;
                if n == 0 {
                    break;
                }
                got.extend(sys::drain(rd, n).map_err(Failure)?);
                check!(
                    sys::pipe_bytes(rd) == 0,
                    "splice on {}: pipe not empty after draining what it returned",
                    self.sides[side].name
                );
            }
            return self.verify("splice (complete)", side, start, &got, len, true);
        }
        let held = self.sides[side].chan.held;
        let flags = if held > 0 || self.rng.below(2) == 0 {
            libc::SPLICE_F_NONBLOCK
        } else {
            0
        };
        let (fd, wr, rd, cap) = {
            let s = &self.sides[side];
            (s.fd, s.chan.wr, s.chan.rd, s.chan.cap)
        };
        let r = sys::splice(fd, with_off.then_some(&mut off), wr, len, flags);
        let e = sys::errno();
        let n = self.after_splice(side, "splice", r, e, len, with_off, start, off, cap, held)?;
        let queued = sys::pipe_bytes(rd);
        check!(
            queued == held + n,
            "splice on {}: the pipe held {held}, {n} were added, it holds {queued}",
            self.sides[side].name
        );
        if n > 0 {
            let c = &mut self.sides[side].chan;
            c.segs.push_back(Seg {
                stream: self.stream.clone(),
                start,
                len: n,
            });
            c.held += n;
        }
        if self.rng.below(2) == 0 {
            let k = self.rng.below(held as u64 + n as u64 + 1) as usize;
            self.drain_chan(side, k)?;
        }
        Ok(())
    }

    /// Reads up to `n` bytes of the side's own pipe (all with usize::MAX)
    /// and checks them.
    fn drain_chan(&mut self, side: usize, n: usize) -> Result<(), Failure> {
        let what = format!("own pipe of {}", self.sides[side].name);
        let c = &mut self.sides[side].chan;
        let n = n.min(c.held);
        if n == 0 {
            return Ok(());
        }
        let got = sys::drain(c.rd, n).map_err(|e| Failure(format!("{what}: {e}")))?;
        c.held -= n;
        let mut done = 0;
        while done < n {
            let Some(seg) = c.segs.front_mut() else {
                unreachable!("held counts the segments' bytes")
            };
            let m = seg.len.min(n - done);
            seg.take(&got[done..done + m], &what, self.ops)?;
            if seg.len == 0 {
                c.segs.pop_front();
            }
            done += m;
        }
        Ok(())
    }

    /// Resizes the side's own pipe (emptied first: a shrink below what it
    /// holds fails with EBUSY).
    fn op_resize_chan(&mut self, side: usize) -> Result<(), Failure> {
        self.drain_chan(side, usize::MAX)?;
        let slots = self.rng.pick(&[1usize, 2, 3, 4, 16, 64, 256]);
        let c = &mut self.sides[side].chan;
        let cap = sys::set_pipe_size(c.wr, slots * PAGE);
        check!(
            cap.is_some_and(|n| n >= slots * PAGE),
            "F_SETPIPE_SZ {}: {cap:?}, errno {}",
            slots * PAGE,
            sys::errno()
        );
        c.cap = cap.unwrap_or(c.cap);
        Ok(())
    }

    /// sendfile into the side's own pipe, emptied first (a sendfile into a
    /// full pipe would block).
    fn op_sendfile_chan(&mut self, side: usize) -> Result<(), Failure> {
        self.drain_chan(side, usize::MAX)?;
        let len = self.random_len(false);
        let with_off = self.rng.below(3) == 0;
        let mut off = self.random_off() as i64;
        let (fd, wr, rd, cap, pos) = {
            let s = &self.sides[side];
            (s.fd, s.chan.wr, s.chan.rd, s.chan.cap, s.pos)
        };
        let start = if with_off { off as u64 } else { pos };
        let r = sys::sendfile(wr, fd, with_off.then_some(&mut off), len);
        let e = sys::errno();
        let n = self.after_splice(side, "sendfile", r, e, len, with_off, start, off, cap, 0)?;
        let got = sys::drain(rd, n).map_err(Failure)?;
        self.verify("sendfile", side, start, &got, len, false)?;
        check!(
            sys::pipe_bytes(rd) == 0,
            "sendfile on {} returned {n}, the pipe held more",
            self.sides[side].name
        );
        Ok(())
    }

    fn drain_oldest(&mut self, side: usize) -> Result<(), Failure> {
        if let Some(p) = self.sides[side].pending.pop_front() {
            let got = sys::drain(p.rd, p.seg.len);
            sys::close(p.rd);
            sys::close(p.wr);
            let what = format!("pipe of {}", self.sides[side].name);
            let got = got.map_err(|e| Failure(format!("{what} after {} ops: {e}", self.ops)))?;
            let mut seg = p.seg;
            seg.take(&got, &what, self.ops)?;
        }
        Ok(())
    }

    /// At most 16 undrained pipes per side (file descriptors, memory).
    fn bound_pending(&mut self, side: usize) -> Result<(), Failure> {
        while self.sides[side].pending.len() >= 16 {
            self.drain_oldest(side)?;
        }
        Ok(())
    }

    fn op_tee(&mut self, side: usize) -> Result<(), Failure> {
        self.bound_pending(side)?;
        let Some(p) = self.sides[side].pending.back() else {
            return Ok(());
        };
        let Some((rd2, wr2, _)) = sys::pipe(256 * PAGE) else {
            return Err(Failure(format!("pipe: errno {}", sys::errno())));
        };
        let r = sys::tee(p.rd, wr2, p.seg.len.max(1));
        if p.seg.len == 0 {
            sys::close(rd2);
            sys::close(wr2);
            return Ok(());
        }
        if r < 0 {
            let e = sys::errno();
            sys::close(rd2);
            sys::close(wr2);
            return Err(Failure(format!("tee: errno {e}")));
        }
        check!(
            r as usize <= p.seg.len,
            "tee of a pipe holding {} returned {r}",
            p.seg.len
        );
        let seg = Seg {
            len: r as usize,
            ..p.seg.clone()
        };
        self.sides[side].pending.push_back(Pending {
            rd: rd2,
            wr: wr2,
            seg,
        });
        Ok(())
    }

    /// sendfile into a fresh 1 MiB pipe (splice_read straight into it,
    /// do_sendfile()) or through the task's private pipe into a file
    /// (splice_direct_to_actor(), the rewind after a short write).
    fn op_sendfile(&mut self, side: usize) -> Result<(), Failure> {
        let to_pipe = self.rng.below(2) == 0;
        let len = match self.random_len(false) {
            n if to_pipe => n.min(256 * PAGE),
            n => n,
        };
        let with_off = self.rng.below(3) == 0;
        let mut off = self.random_off() as i64;
        let (fd, name, pos) = (
            self.sides[side].fd,
            self.sides[side].name,
            self.sides[side].pos,
        );
        let start = if with_off { off as u64 } else { pos };
        let got;
        let r;
        if to_pipe {
            let Some((rd, wr, _)) = sys::pipe(256 * PAGE) else {
                return Err(Failure(format!("pipe: errno {}", sys::errno())));
            };
            r = sys::sendfile(wr, fd, with_off.then_some(&mut off), len);
            let e = sys::errno();
            let v = if r >= 0 {
                sys::drain(rd, r as usize)
            } else {
                Ok(Vec::new())
            };
            sys::close(rd);
            sys::close(wr);
            check!(r >= 0, "sendfile({len}) to pipe on {name}: errno {e}");
            got = v.map_err(Failure)?;
        } else {
            let out = sys::open(&self.scratch, libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC);
            check!(out >= 0, "open {}: errno {}", self.scratch, sys::errno());
            r = sys::sendfile(out, fd, with_off.then_some(&mut off), len);
            let e = sys::errno();
            let mut v = vec![0u8; r.max(0) as usize];
            let n = sys::pread(out, &mut v, 0);
            v.truncate(n.max(0) as usize);
            sys::close(out);
            check!(r >= 0, "sendfile({len}) to file on {name}: errno {e}");
            got = v;
        }
        check!(
            got.len() == r as usize,
            "sendfile on {name}: {r} returned, {} arrived",
            got.len()
        );
        self.verify("sendfile", side, start, &got, len, false)?;
        if with_off {
            check!(
                off as u64 == start + r as u64,
                "sendfile on {name}: offset {start} + {r} advanced to {off}"
            );
        } else {
            self.sides[side].pos += r as u64;
        }
        self.bytes += r as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_names_every_op_kind_under_the_minimum_and_the_knob_reopens() {
        let mut s = Stats::default();
        s.ops = [5; OPS.len()];
        s.new_knobs = 5;
        assert!(s.below(5).is_empty());
        s.ops[3] = 4;
        assert_eq!(s.below(5), vec![OPS[3].0]);
        s.new_knobs = 0;
        assert_eq!(s.below(5), vec![OPS[3].0, "new knob configurations"]);
        assert!(Stats::default().below(0).is_empty());
    }
}
