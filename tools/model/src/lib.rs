// SPDX-License-Identifier: GPL-2.0
//! The record stream of seqsplice's `trace` and `trace_copy` files, as the
//! Documentation/files.rst's "Record format" defines it: the one reference model of the
//! project, shared by `tests/host` (which compares the module's own
//! `src/sources/trace/record.rs` against it), `tools/ssfuzz` and `tools/spbench` (which
//! check the bytes the guest's files return against it).
//!
//! It is written from that definition with Rust's formatting
//! machinery, independently of the module: never share code with
//! `src/sources/trace/record.rs`, or the host comparison proves nothing.
//!
//! Record `i` of width `W` is an 83-byte header (C's
//! `snprintf(h, 84, "%16s-%-7u [%03u] d..1. %5u.%06u: seqsplice_event: seq=%010u ",
//! "seqsplice", 1000 + i % 9000, i % 4, t / 1000000, t % 1000000, i)` with
//! `t = i * 1237`), `W - 84` filler bytes (`'a' + (i + j) % 26` for filler
//! byte `j`) and `'\n'`. In raw mode record `i` carries the bytes of printf
//! record `i % P`, `P = max(1, 65536 / W)`.

use std::fmt;
use std::io::Write;

/// Bytes of a record's header.
pub const HEADER_LEN: usize = 83;
/// The smallest record: header and newline, no filler.
pub const MIN_WIDTH: usize = HEADER_LEN + 1;
/// `record_count`'s largest value: every header below it is exactly
/// [`HEADER_LEN`] bytes.
pub const MAX_COUNT: u64 = 10_000_000;
/// What raw mode preformats per open, in bytes (before rounding down to
/// whole records).
pub const RAW_TABLE_BYTES: usize = 65536;

/// The header of printf record `i` (`i < MAX_COUNT`).
pub fn header(i: u64) -> [u8; HEADER_LEN] {
    assert!(i < MAX_COUNT, "record {i} is beyond record_count's range");
    let t = i * 1237;
    let mut h = [0u8; HEADER_LEN];
    let mut w: &mut [u8] = &mut h;
    let fits = write!(
        w,
        "{:>16}-{:<7} [{:03}] d..1. {:>5}.{:06}: seqsplice_event: seq={:010} ",
        "seqsplice",
        1000 + i % 9000,
        i % 4,
        t / 1_000_000,
        t % 1_000_000,
        i
    );
    assert!(
        fits.is_ok() && w.is_empty(),
        "header of record {i} is not {HEADER_LEN} bytes"
    );
    h
}

/// Filler byte `j` of printf record `i`.
pub fn filler(i: u64, j: usize) -> u8 {
    b'a' + ((i + j as u64) % 26) as u8
}

/// Printf record `i` of `width` bytes.
pub fn record(i: u64, width: usize) -> Vec<u8> {
    Stream::new(i + 1, width, Mode::Printf).record(i)
}

/// Raw mode's period for `width`: the records an open preformats.
pub fn raw_period(width: usize) -> u64 {
    (RAW_TABLE_BYTES / width).max(1) as u64
}

/// `record_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every record formatted on its own.
    Printf,
    /// Record `i` carries the bytes of printf record `i % raw_period(W)`.
    Raw,
}

impl Mode {
    /// The knob's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Printf => "printf",
            Mode::Raw => "raw",
        }
    }

    /// Parses the knob's spelling (surrounding whitespace ignored).
    pub fn from_name(s: &str) -> Option<Mode> {
        match s.trim() {
            "printf" => Some(Mode::Printf),
            "raw" => Some(Mode::Raw),
            _ => None,
        }
    }
}

/// Positions of the `lines` files (src/sources/lines.rs).
pub const LINES: u64 = 20_000;
/// Every this many positions of `lines`, the last is skipped.
pub const LINES_SKIP_EVERY: u64 = 1000;
/// Width of a line of `lines`: `format!("{:015}\n", i)`.
pub const LINE_WIDTH: usize = 16;

/// The stream one open returns: `count` records of `width` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stream {
    pub count: u64,
    pub width: usize,
    pub mode: Mode,
    /// The `lines` files' stream (the knobs do not apply) instead of the
    /// records'.
    pub lines: bool,
}

impl Stream {
    pub fn new(count: u64, width: usize, mode: Mode) -> Stream {
        assert!(width >= MIN_WIDTH, "record width {width} < {MIN_WIDTH}");
        assert!(count <= MAX_COUNT, "record count {count} > {MAX_COUNT}");
        Stream {
            count,
            width,
            mode,
            lines: false,
        }
    }

    /// The stream of `lines` and `lines_copy`: the kept positions `i`
    /// (`i % 1000 != 999`) of `0..20_000`, each as `format!("{:015}\n", i)`.
    pub fn lines() -> Stream {
        Stream {
            count: LINES - LINES / LINES_SKIP_EVERY,
            width: LINE_WIDTH,
            mode: Mode::Printf,
            lines: true,
        }
    }

    /// Line `k` of the `lines` stream: the position it shows.
    pub fn line_position(k: u64) -> u64 {
        let kept = LINES_SKIP_EVERY - 1;
        k / kept * LINES_SKIP_EVERY + k % kept
    }

    /// Bytes in the stream: where EOF is.
    pub fn size(&self) -> u64 {
        self.count * self.width as u64
    }

    /// The printf record whose bytes record `i` carries.
    pub fn source(&self, i: u64) -> u64 {
        match self.mode {
            Mode::Printf => i,
            Mode::Raw => i % raw_period(self.width),
        }
    }

    /// Record `i` (`i < count`).
    pub fn record(&self, i: u64) -> Vec<u8> {
        assert!(i < self.count, "record {i} of {}", self.count);
        let mut r = vec![0u8; self.width];
        self.fill(i * self.width as u64, &mut r);
        r
    }

    /// The byte at stream offset `off`, `None` at or past EOF.
    pub fn byte_at(&self, off: u64) -> Option<u8> {
        let mut b = [0u8];
        (self.fill(off, &mut b) == 1).then_some(b[0])
    }

    /// What a complete transfer of `len` bytes at `off` returns: `len`,
    /// clipped at EOF.
    pub fn count_at(&self, off: u64, len: usize) -> usize {
        self.size().saturating_sub(off).min(len as u64) as usize
    }

    /// Writes the bytes `[off, off + buf.len())`, clipped at EOF, to the
    /// front of `buf`; returns how many.
    pub fn fill(&self, off: u64, buf: &mut [u8]) -> usize {
        let n = self.count_at(off, buf.len());
        let w = self.width as u64;
        if self.lines {
            let mut done = 0;
            while done < n {
                let at = off + done as u64;
                let col = (at % w) as usize;
                let line = format!("{:015}\n", Self::line_position(at / w));
                let take = (LINE_WIDTH - col).min(n - done);
                buf[done..done + take].copy_from_slice(&line.as_bytes()[col..col + take]);
                done += take;
            }
            return n;
        }
        let mut done = 0;
        while done < n {
            let at = off + done as u64;
            let (i, col) = (at / w, (at % w) as usize);
            let src = self.source(i);
            let take = (self.width - col).min(n - done);
            let out = &mut buf[done..done + take];
            let mut c = col;
            let mut k = 0;
            if c < HEADER_LEN {
                let h = header(src);
                let m = (HEADER_LEN - c).min(take);
                out[..m].copy_from_slice(&h[c..c + m]);
                c += m;
                k = m;
            }
            let filler_end = self.width - 1;
            if k < take && c < filler_end {
                let m = (filler_end - c).min(take - k);
                let mut phase = ((src + (c - HEADER_LEN) as u64) % 26) as u8;
                for b in &mut out[k..k + m] {
                    *b = b'a' + phase;
                    phase = if phase == 25 { 0 } else { phase + 1 };
                }
                c += m;
                k += m;
            }
            if k < take {
                debug_assert_eq!(c, filler_end);
                out[k] = b'\n';
                k += 1;
            }
            debug_assert_eq!(k, take);
            done += take;
        }
        n
    }

    /// The bytes `[off, off + len)`, clipped at EOF.
    pub fn bytes(&self, off: u64, len: usize) -> Vec<u8> {
        let mut v = vec![0u8; self.count_at(off, len)];
        self.fill(off, &mut v);
        v
    }

    /// Checks that `got` is the stream's bytes from `off` on; bytes past
    /// EOF are a mismatch too. Does not judge the count: a short `got` is
    /// the caller's business.
    pub fn check(&self, off: u64, got: &[u8]) -> Result<(), Mismatch> {
        let mut want = vec![0u8; got.len().min(1 << 16)];
        let mut done = 0;
        while done < got.len() {
            let chunk = (got.len() - done).min(want.len());
            let at = off + done as u64;
            let n = self.fill(at, &mut want[..chunk]);
            let g = &got[done..done + chunk];
            let first = g[..n]
                .iter()
                .zip(&want[..n])
                .position(|(a, b)| a != b)
                .or((n < chunk).then_some(n));
            if let Some(p) = first {
                let at = at + p as u64;
                let got = &got[done + p..got.len().min(done + p + 16)];
                return Err(Mismatch {
                    offset: at,
                    record: at / self.width as u64,
                    column: (at % self.width as u64) as usize,
                    got: got.to_vec(),
                    want: self.bytes(at, got.len()),
                    stream: *self,
                });
            }
            done += chunk;
        }
        Ok(())
    }
}

/// The first byte where returned data differs from the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Stream offset of the first wrong byte.
    pub offset: u64,
    /// Record and byte within it of that offset.
    pub record: u64,
    pub column: usize,
    /// Up to 16 bytes from there: what came, and as many of the stream's
    /// (fewer at EOF).
    pub got: Vec<u8>,
    pub want: Vec<u8>,
    pub stream: Stream,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "first difference at stream offset {} (record {}, byte {}",
            self.offset, self.record, self.column
        )?;
        if self.offset >= self.stream.size() {
            write!(f, ", past EOF at {}", self.stream.size())?;
        }
        write!(
            f,
            "): got \"{}\", want \"{}\" ({} records of {} bytes, {})",
            self.got.escape_ascii(),
            self.want.escape_ascii(),
            self.stream.count,
            self.stream.width,
            self.stream.mode.name()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented example line (files.rst): record 42 of the default 100 bytes.
    const README_42: &[u8] = b"       seqsplice-1042    [002] d..1.     0.051954: seqsplice_event: seq=0000000042 qrstuvwxyzabcdef\n";

    #[test]
    fn lines_stream_skips_every_thousandth_position() {
        let s = Stream::lines();
        assert_eq!(s.size(), 19_980 * 16);
        assert_eq!(s.bytes(0, 16), b"000000000000000\n");
        // Line 999 shows position 1000: 999 is skipped.
        assert_eq!(s.bytes(998 * 16, 32), b"000000000000998\n000000000001000\n");
        assert_eq!(s.bytes(s.size() - 16, 100), b"000000000019998\n");
        assert_eq!(s.bytes(5 * 16 + 3, 5), b"00000");
        assert_eq!(s.count_at(s.size(), 10), 0);
    }

    #[test]
    fn readme_example_line() {
        assert_eq!(record(42, 100), README_42);
        assert_eq!(&header(42)[..], &README_42[..HEADER_LEN]);
        let s = Stream::new(10000, 100, Mode::Printf);
        assert_eq!(s.record(42), README_42);
        assert_eq!(s.bytes(4200, 100), README_42);
        assert_eq!(s.byte_at(4200 + 83), Some(b'q'));
        assert_eq!(s.byte_at(4299), Some(b'\n'));
    }

    #[test]
    fn header_fields_at_their_edges() {
        assert_eq!(
            record(0, MIN_WIDTH),
            b"       seqsplice-1000    [000] d..1.     0.000000: seqsplice_event: seq=0000000000 \n"
        );
        // The pid's last value before it wraps, and the wrap.
        assert_eq!(
            &header(8999)[..],
            b"       seqsplice-9999    [003] d..1.    11.131763: seqsplice_event: seq=0000008999 "
        );
        assert_eq!(&header(9000)[..30], b"       seqsplice-1000    [000]");
        // The last record of the largest stream: t = 12369998763.
        assert_eq!(
            &header(MAX_COUNT - 1)[..],
            b"       seqsplice-1999    [003] d..1. 12369.998763: seqsplice_event: seq=0009999999 "
        );
    }

    #[test]
    fn filler_wraps_the_alphabet() {
        let r = record(25, 84 + 30);
        assert_eq!(&r[HEADER_LEN..], b"zabcdefghijklmnopqrstuvwxyzabc\n");
        assert_eq!(filler(25, 0), b'z');
        assert_eq!(filler(25, 1), b'a');
    }

    #[test]
    fn raw_period_and_mapping() {
        assert_eq!(raw_period(100), 655);
        assert_eq!(raw_period(84), 780);
        assert_eq!(raw_period(333), 196);
        assert_eq!(raw_period(4096), 16);
        assert_eq!(raw_period(65536), 1);
        assert_eq!(raw_period(65537), 1);
        assert_eq!(raw_period(1 << 20), 1);
        let raw = Stream::new(2000, 100, Mode::Raw);
        assert_eq!(raw.source(654), 654);
        assert_eq!(raw.source(655), 0);
        assert_eq!(raw.source(655 + 42), 42);
        assert_eq!(raw.record(655 + 42), README_42);
        assert_eq!(raw.bytes(65500, 100)[..], record(0, 100)[..]);
        let wide = Stream::new(3, 70000, Mode::Raw);
        assert_eq!(wide.record(2), record(0, 70000));
        assert_eq!(Mode::from_name("raw\n"), Some(Mode::Raw));
        assert_eq!(Mode::from_name("printf"), Some(Mode::Printf));
        assert_eq!(Mode::from_name("Raw"), None);
    }

    #[test]
    fn bytes_across_records_and_eof() {
        let s = Stream::new(2, 100, Mode::Printf);
        assert_eq!(s.size(), 200);
        assert_eq!(s.bytes(98, 4), b"p\n  ");
        assert_eq!(s.bytes(199, 10), b"\n");
        assert_eq!(s.bytes(200, 10), b"");
        assert_eq!(s.bytes(1 << 40, 10), b"");
        assert_eq!(s.byte_at(200), None);
        assert_eq!(s.count_at(150, 100), 50);
        assert_eq!(s.count_at(250, 100), 0);
        let mut whole = record(0, 100);
        whole.extend(record(1, 100));
        assert_eq!(s.bytes(0, 1000), whole);
    }

    /// Every window of a small stream equals the concatenated records.
    #[test]
    fn fill_equals_concatenated_records() {
        for (mode, width) in [
            (Mode::Printf, 84),
            (Mode::Printf, 333),
            (Mode::Raw, 4097),
            (Mode::Raw, 30000),
        ] {
            let s = Stream::new(7, width, mode);
            let all: Vec<u8> = (0..7).flat_map(|i| record(s.source(i), width)).collect();
            assert_eq!(all.len() as u64, s.size());
            for off in (0..all.len() + 5).step_by(37 + width / 5) {
                for len in [0, 1, 2, 83, 84, 85, width, 2 * width + 1, 1 << 20] {
                    let end = all.len().min(off + len).max(off.min(all.len()));
                    let want = &all[off.min(all.len())..end];
                    assert_eq!(
                        s.bytes(off as u64, len),
                        want,
                        "{mode:?} {width} {off} {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn check_reports_the_first_difference() {
        let s = Stream::new(3, 100, Mode::Printf);
        let mut got = s.bytes(50, 200);
        assert_eq!(s.check(50, &got), Ok(()));
        let mut two = s.bytes(60, 2);
        two[1] = b'#';
        let e = s.check(60, &two).unwrap_err();
        assert_eq!(
            (e.offset, &e.got[..], &e.want[..]),
            (61, &b"#"[..], &s.bytes(61, 1)[..])
        );
        assert_eq!(s.check(50, &got[..10]), Ok(()));
        got[120] = b'#';
        let e = s.check(50, &got).unwrap_err();
        assert_eq!((e.offset, e.record, e.column), (170, 1, 70));
        assert_eq!(e.got[0], b'#');
        assert_eq!(e.want, s.bytes(170, 16));
        assert!(e
            .to_string()
            .starts_with("first difference at stream offset 170 (record 1, byte 70): got \"#"));
        // Bytes past EOF.
        let mut long = s.bytes(250, 50);
        long.push(b'x');
        let e = s.check(250, &long).unwrap_err();
        assert_eq!(
            (e.offset, e.got.clone(), e.want.clone()),
            (300, b"x".to_vec(), vec![])
        );
        assert!(e.to_string().contains("past EOF at 300"));
        // A difference beyond the first 64 KiB chunk.
        let big = Stream::new(2000, 100, Mode::Raw);
        let mut got = big.bytes(1, 150_000);
        got[140_000] ^= 1;
        assert_eq!(big.check(1, &got).unwrap_err().offset, 140_001);
    }
}
