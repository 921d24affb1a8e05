// SPDX-License-Identifier: GPL-2.0

//! ftrace's own `trace` file through the engine: `mirror` opens the file
//! `mirror_path` names anew at each open, with the opener's credentials,
//! and serves its own `struct seq_operations` (ftrace's formatter) with
//! its own `private`, `file` and `op`, the pages gifted on splice;
//! `mirror_copy` serves the same table through the stock seq_file core
//! with a seq buffer as big as `mirror`'s (`buffer_size_kb`): the fair
//! transport baseline. What may be mirrored, and why, is
//! `kernel_ext::target`'s allow-list.

use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use kernel::prelude::*;

use crate::engine::buffer::BufferConfig;
use crate::engine::file::RecordFile;
use crate::engine::source::{ShowOne, Single};
use crate::kernel_ext::seq_file::{seq_print, SeqFile};
use crate::kernel_ext::target::{self, Refusal, TargetCopy, TargetPath, TargetTable, MAX_PATH};
use crate::sources::trace::{buffer, knobs::SETTINGS};

/// The default target: ftrace's top-level `trace`.
const DEFAULT_PATH: &[u8] = b"/sys/kernel/tracing/trace";

/// A path other code reads whole while one writer at a time replaces it: a
/// sequence count (odd while a write is under way) around the bytes, so a
/// reader retries instead of seeing half of two paths.
struct PathKnob {
    seq: AtomicUsize,
    len: AtomicUsize,
    bytes: [AtomicU8; MAX_PATH],
}

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicU8 = AtomicU8::new(0);

impl PathKnob {
    /// Never written: reads give [`DEFAULT_PATH`].
    const fn new() -> Self {
        Self {
            seq: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
            bytes: [ZERO; MAX_PATH],
        }
    }

    /// The path now: `EBUSY` if writers kept it changing.
    fn read(&self) -> Result<TargetPath> {
        for _ in 0..64 {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 % 2 == 1 {
                core::hint::spin_loop();
                continue;
            }
            let len = self.len.load(Ordering::Relaxed).min(MAX_PATH - 1);
            let mut buf = [0u8; MAX_PATH];
            for (d, s) in buf.iter_mut().zip(self.bytes.iter()).take(len) {
                *d = s.load(Ordering::Relaxed);
            }
            core::sync::atomic::fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == s1 {
                if s1 == 0 {
                    // Never written: the default.
                    return TargetPath::new(DEFAULT_PATH);
                }
                return TargetPath::new(&buf[..len]);
            }
        }
        Err(EBUSY)
    }

    /// Replaces the path with `p` (checked by the caller).
    fn write(&self, p: &[u8]) -> Result {
        let mut s = self.seq.load(Ordering::Relaxed);
        let mut tries = 0;
        loop {
            if s % 2 == 0 {
                match self
                    .seq
                    .compare_exchange(s, s + 1, Ordering::Acquire, Ordering::Relaxed)
                {
                    Ok(_) => {
                        // The odd count before any byte: `smp_wmb()` of
                        // `write_seqcount_begin()`.
                        core::sync::atomic::fence(Ordering::Release);
                        break;
                    }
                    Err(now) => s = now,
                }
            } else {
                s = self.seq.load(Ordering::Relaxed);
            }
            tries += 1;
            if tries > 1_000_000 {
                return Err(EBUSY);
            }
            core::hint::spin_loop();
        }
        let len = p.len().min(MAX_PATH - 1);
        for (d, &b) in self.bytes.iter().zip(p.iter()).take(len) {
            d.store(b, Ordering::Relaxed);
        }
        self.len.store(len, Ordering::Relaxed);
        // Even again, and never 0 (0 means never written).
        self.seq.store(s + 2, Ordering::Release);
        Ok(())
    }
}

/// `mirror_path`'s value.
static MIRROR_PATH: PathKnob = PathKnob::new();

/// Logs a refused target.
fn refused(path: &TargetPath, r: &Refusal) {
    pr_info!(
        "mirror: {}: refused: {} ({})\n",
        path.as_cstr().to_str().unwrap_or("?"),
        r.why,
        r.errno.to_errno()
    );
}

/// `mirror`: the target's table through the engine.
pub(crate) struct Mirror;

#[vtable]
impl RecordFile for Mirror {
    type Source = TargetTable;

    fn open(_ino: u64) -> Result<TargetTable> {
        let path = MIRROR_PATH.read()?;
        TargetTable::open(path.as_cstr()).map_err(|r| {
            refused(&path, &r);
            r.errno
        })
    }

    fn buffer(_source: &TargetTable) -> BufferConfig {
        buffer(&SETTINGS.snapshot())
    }
}

/// `mirror_copy`: the target's table through the stock core, with a seq
/// buffer of `buffer_size_kb`.
pub(crate) struct MirrorCopy;

impl TargetCopy for MirrorCopy {
    fn path() -> Result<TargetPath> {
        MIRROR_PATH.read()
    }

    fn buffer_bytes() -> usize {
        SETTINGS.snapshot().buffer_size_kb * 1024
    }

    fn refused(r: &Refusal) {
        pr_info!("mirror_copy: refused: {} ({})\n", r.why, r.errno.to_errno());
    }
}

/// The record of `mirror_path`: the path.
pub(crate) struct PathRecord;

impl ShowOne for PathRecord {
    fn show_one(&self, m: &SeqFile) -> Result {
        let p = MIRROR_PATH.read()?;
        seq_print!(m, "{}\n", p.as_cstr().to_str().unwrap_or("?"));
        Ok(())
    }
}

/// `mirror_path`.
pub(crate) struct MirrorPath;

#[vtable]
impl RecordFile for MirrorPath {
    type Source = Single<PathRecord>;

    const WRITE_MAX: usize = MAX_PATH;

    fn open(_ino: u64) -> Result<Single<PathRecord>> {
        Ok(Single(PathRecord))
    }

    /// An absolute path on the allow-list, which the writer may read, one
    /// trailing newline allowed; anything else is refused with the reason
    /// in dmesg and changes nothing. Checked, never opened.
    fn write(_source: &Single<PathRecord>, input: &[u8]) -> Result {
        let s = input.strip_suffix(b"\n").unwrap_or(input);
        let path = TargetPath::new(s).inspect_err(|_| {
            pr_info!("mirror_path: refused: too long or holds a NUL\n");
        })?;
        target::check(path.as_cstr()).map_err(|r| {
            refused(&path, &r);
            r.errno
        })?;
        MIRROR_PATH.write(s)
    }
}
