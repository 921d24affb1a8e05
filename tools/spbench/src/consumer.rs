// SPDX-License-Identifier: GPL-2.0
//! The consumer line's sources: a C module's seq_file
//! (tests/consumer/seqsplice_bench.c, `seqsplice_bench.ko`) served through
//! seqsplice's exported API (`/dev/ssbench`) and through the stock core with
//! an equal seq buffer (`/dev/ssbench_copyeq`) and the one-page one
//! (`/dev/ssbench_copy4`). One table, so API ÷ stock is the transport
//! alone, with the dispatch a C seq_file has either way.
//!
//! Its parameters are read at each open: before a run spbench writes
//! `records` (the run's volume), `width`, `mode` (`printf`, or `write` for
//! the run's raw mode: a seq_write() of a preformatted line) and `copy_kb`
//! (the run's buffer size); seqsplice's `buffer_size_kb` and `map_mode`
//! are written as for `trace`. Its records are `trace`'s, so every path is
//! also checked against the record stream's model.

use std::io::{Error, Result};

use crate::paths::{Bench, Config, Method, Path, Sink, Source};
use crate::sys;
use seqsplice_model::{Mode, Stream};

/// The bench module's parameters.
pub const PARAMS: &str = "/sys/module/seqsplice_bench/parameters";

/// The three sources, in the order the check reads them.
pub const SOURCES: [Source; 3] = [
    Source::Consumer,
    Source::ConsumerCopyEq,
    Source::ConsumerCopy4,
];

/// The device of a consumer source.
pub fn device(s: Source) -> &'static str {
    match s {
        Source::Consumer => "/dev/ssbench",
        Source::ConsumerCopyEq => "/dev/ssbench_copyeq",
        Source::ConsumerCopy4 => "/dev/ssbench_copy4",
        _ => unreachable!("not a consumer source"),
    }
}

/// Why the consumer sources cannot run, if they cannot: the bench module
/// is not loaded.
pub fn unsupported() -> Option<String> {
    if !std::path::Path::new(PARAMS).is_dir() {
        return Some(format!(
            "no {PARAMS}: the bench module (seqsplice_bench.ko, make consumer) is not loaded"
        ));
    }
    SOURCES
        .iter()
        .map(|&s| device(s))
        .find(|d| !std::path::Path::new(d).exists())
        .map(|d| format!("no {d}"))
}

/// The module's name of a run's record mode.
fn module_mode(mode: &str) -> Result<&'static str> {
    match mode {
        "printf" => Ok("printf"),
        "raw" => Ok("write"),
        m => Err(Error::other(format!(
            "record mode '{m}': the consumer has printf and raw (write)"
        ))),
    }
}

/// Writes the parameters the next open reads: `count` records of the
/// run's width and mode, an equal seq buffer of `copy_kb` KiB.
pub fn set_params(cfg: &Config, count: u64, copy_kb: usize) -> Result<()> {
    let p = |name: &str, v: &str| sys::write_text(&format!("{PARAMS}/{name}"), v);
    p("records", &count.to_string())?;
    p("width", &cfg.width.to_string())?;
    p("mode", module_mode(&cfg.mode)?)?;
    p("copy_kb", &copy_kb.to_string())
}

/// The check before a configuration's runs (and in `--smoke`): `count`
/// records of each of the three files, spliced at the run's size into a
/// pipe read back, must be the same bytes, and the record stream's. Returns
/// the bytes compared.
pub fn check_identical(b: &mut Bench, count: u64) -> std::result::Result<usize, String> {
    let cfg = b.cfg.clone();
    let mode =
        Mode::from_name(&cfg.mode).ok_or_else(|| format!("no model of mode '{}'", cfg.mode))?;
    let stream = Stream::new(count, cfg.width, mode);
    let mut got: Vec<(String, Vec<u8>)> = Vec::new();
    for s in SOURCES {
        let p = Path {
            method: Method::Splice,
            sink: Sink::PipeRead,
            source: s,
        };
        let mut bytes = Vec::new();
        b.run(p, count, Some(&mut bytes))
            .map_err(|e| format!("{}: {e}", p.id()))?;
        got.push((p.id(), bytes));
    }
    let (first, a) = &got[0];
    for (id, x) in &got[1..] {
        if x != a {
            let at = a.iter().zip(x.iter()).position(|(p, q)| p != q);
            return Err(format!(
                "{first} ({} bytes) and {id} ({} bytes) differ (first at byte {at:?})",
                a.len(),
                x.len()
            ));
        }
    }
    if a.len() as u64 != stream.size() {
        return Err(format!(
            "the three files give {} bytes each, the stream has {}",
            a.len(),
            stream.size()
        ));
    }
    if let Err(m) = stream.check(0, a) {
        return Err(format!(
            "the three files agree but differ from trace's record stream: {m}"
        ));
    }
    Ok(a.len())
}
