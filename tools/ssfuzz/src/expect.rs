//! What one open of the gift and the copy file must return: the README's
//! record stream or the `lines` stream (`seqsplice-model`), or, for
//! `--gift events`, the bytes of `events_copy` read completely once before
//! the run (the live-events source cannot be predicted from a model: the
//! oracle is the stock seq_file path over the same frozen ring buffer).

use std::fmt;
use std::sync::Arc;

use seqsplice_model::Stream;

use crate::sys;

/// A frozen snapshot of a file's whole contents and where its lines start.
pub struct Snapshot {
    /// The file it was read from (for messages).
    pub file: String,
    pub bytes: Vec<u8>,
    /// Offsets of the first byte of every line: 0, then after every `'\n'`
    /// that is not the last byte.
    line_starts: Vec<u64>,
}

impl Snapshot {
    pub fn new(file: &str, bytes: Vec<u8>) -> Snapshot {
        let mut line_starts = Vec::new();
        if !bytes.is_empty() {
            line_starts.push(0);
        }
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' && i + 1 < bytes.len() {
                line_starts.push(i as u64 + 1);
            }
        }
        Snapshot {
            file: file.to_string(),
            bytes,
            line_starts,
        }
    }

    /// Reads `path` completely with read() in a loop; Err(errno message).
    pub fn read(path: &str) -> Result<Snapshot, String> {
        let fd = sys::open(path, libc::O_RDONLY);
        if fd < 0 {
            return Err(format!("open {path}: errno {}", sys::errno()));
        }
        let mut bytes = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let r = sys::read(fd, &mut buf);
            if r < 0 {
                let e = sys::errno();
                if e == libc::EINTR {
                    continue;
                }
                sys::close(fd);
                return Err(format!("read {path} at {}: errno {e}", bytes.len()));
            }
            if r == 0 {
                break;
            }
            bytes.extend_from_slice(&buf[..r as usize]);
        }
        sys::close(fd);
        Ok(Snapshot::new(path, bytes))
    }

    pub fn lines(&self) -> usize {
        self.line_starts.len()
    }

    /// The line holding offset `off` (the last line at or past EOF), and
    /// its start.
    fn line_of(&self, off: u64) -> (usize, u64) {
        let k = self.line_starts.partition_point(|&s| s <= off);
        let k = k.saturating_sub(1);
        (k, self.line_starts.get(k).copied().unwrap_or(0))
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "snapshot of {}: {} bytes, {} lines",
            self.file,
            self.bytes.len(),
            self.lines()
        )
    }
}

/// The expected stream of one open.
#[derive(Clone)]
pub enum Expect {
    Model(Stream),
    Snapshot(Arc<Snapshot>),
}

impl fmt::Debug for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Model(s) => write!(f, "{s:?}"),
            Expect::Snapshot(s) => write!(f, "{s:?}"),
        }
    }
}

impl Expect {
    /// Bytes in the stream: where EOF is.
    pub fn size(&self) -> u64 {
        match self {
            Expect::Model(s) => s.size(),
            Expect::Snapshot(s) => s.bytes.len() as u64,
        }
    }

    /// What a complete transfer of `len` bytes at `off` returns.
    pub fn count_at(&self, off: u64, len: usize) -> usize {
        self.size().saturating_sub(off).min(len as u64) as usize
    }

    /// A record's width, or a snapshot's average line length: what call
    /// lengths of "a few records" are made of.
    pub fn width(&self) -> usize {
        match self {
            Expect::Model(s) => s.width,
            Expect::Snapshot(s) => (s.bytes.len() / s.lines().max(1)).max(1),
        }
    }

    /// Records (lines) in the stream.
    pub fn records(&self) -> u64 {
        match self {
            Expect::Model(s) => s.count,
            Expect::Snapshot(s) => s.lines() as u64,
        }
    }

    /// Offset of record (line) `k`, `k < records()` (0 if there is none).
    pub fn record_start(&self, k: u64) -> u64 {
        match self {
            Expect::Model(s) => k * s.width as u64,
            Expect::Snapshot(s) => s.line_starts.get(k as usize).copied().unwrap_or(0),
        }
    }

    /// Checks that `got` is the stream's bytes from `off` on; bytes past
    /// EOF are a mismatch too. Does not judge the count.
    pub fn check(&self, off: u64, got: &[u8]) -> Result<(), String> {
        let s = match self {
            Expect::Model(m) => return m.check(off, got).map_err(|e| e.to_string()),
            Expect::Snapshot(s) => s,
        };
        let size = s.bytes.len() as u64;
        let avail = self.count_at(off, got.len());
        let want = if avail > 0 {
            &s.bytes[off as usize..off as usize + avail]
        } else {
            &[][..]
        };
        let first = got[..avail]
            .iter()
            .zip(want)
            .position(|(a, b)| a != b)
            .or((avail < got.len()).then_some(avail));
        let Some(p) = first else { return Ok(()) };
        let at = off + p as u64;
        let (line, start) = s.line_of(at);
        let g = &got[p..got.len().min(p + 16)];
        let w = if at < size {
            &s.bytes[at as usize..(at as usize + 16).min(s.bytes.len())]
        } else {
            &[][..]
        };
        Err(format!(
            "first difference at stream offset {at} (line {line}, byte {}{}): got \"{}\", want \"{}\" ({s:?})",
            at - start,
            if at >= size {
                format!(", past EOF at {size}")
            } else {
                String::new()
            },
            g.escape_ascii(),
            w.escape_ascii(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(b: &[u8]) -> Expect {
        Expect::Snapshot(Arc::new(Snapshot::new("events_copy", b.to_vec())))
    }

    #[test]
    fn snapshot_lines_and_checks() {
        let e = snap(b"ab\ncde\nf\n");
        assert_eq!(e.size(), 9);
        assert_eq!(e.records(), 3);
        assert_eq!(
            (e.record_start(0), e.record_start(1), e.record_start(2)),
            (0, 3, 7)
        );
        assert_eq!(e.width(), 3);
        assert_eq!(e.count_at(7, 10), 2);
        assert_eq!(e.count_at(20, 10), 0);
        assert_eq!(e.check(3, b"cde\nf"), Ok(()));
        assert_eq!(e.check(9, b""), Ok(()));
        let m = e.check(3, b"cdX").unwrap_err();
        assert!(
            m.starts_with("first difference at stream offset 5 (line 1, byte 2)"),
            "{m}"
        );
        let m = e.check(7, b"f\nx").unwrap_err();
        assert!(m.contains("offset 9") && m.contains("past EOF at 9"), "{m}");
        let m = e.check(30, b"x").unwrap_err();
        assert!(m.contains("past EOF"), "{m}");
        // No trailing newline: the last partial line is a line too.
        let e = snap(b"ab\ncd");
        assert_eq!((e.records(), e.record_start(1)), (2, 3));
        assert_eq!(snap(b"").records(), 0);
    }
}
