// SPDX-License-Identifier: GPL-2.0

//! Parsing and validation of knob writes: pure, no kernel types.

/// Why a knob write was refused (the file returns `EINVAL` for all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KnobError {
    /// Not a plain decimal number (optionally followed by one newline).
    Syntax,
    /// A number, but outside `[min, max]` (or too large for `u64`).
    Range,
}

/// Strips the one trailing newline `echo` adds.
fn strip_newline(buf: &[u8]) -> &[u8] {
    match buf.split_last() {
        Some((b'\n', rest)) => rest,
        _ => buf,
    }
}

/// Parses a decimal number in `[min, max]`. No sign, no spaces, no prefix.
pub(crate) fn parse_u64(buf: &[u8], min: u64, max: u64) -> Result<u64, KnobError> {
    let s = strip_newline(buf);
    if s.is_empty() {
        return Err(KnobError::Syntax);
    }
    let mut v: u64 = 0;
    let mut overflow = false;
    for &c in s {
        if !c.is_ascii_digit() {
            return Err(KnobError::Syntax);
        }
        match v
            .checked_mul(10)
            .and_then(|x| x.checked_add(u64::from(c - b'0')))
        {
            Some(x) => v = x,
            None => overflow = true,
        }
    }
    if overflow || v < min || v > max {
        return Err(KnobError::Range);
    }
    Ok(v)
}

/// Parses one of `names` (optionally followed by one newline); returns its
/// index.
pub(crate) fn parse_choice(buf: &[u8], names: &[&str]) -> Result<usize, KnobError> {
    let s = strip_newline(buf);
    names
        .iter()
        .position(|n| n.as_bytes() == s)
        .ok_or(KnobError::Syntax)
}

/// How records are produced (`record_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecordMode {
    /// `seq_printf` formatting of every record (ftrace's cost).
    Printf = 0,
    /// Preformatted records copied with `seq_write` (transport cost only).
    Raw = 1,
}

impl RecordMode {
    /// The knob's values; a mode's discriminant is its index.
    pub(crate) const NAMES: &'static [&'static str] = &["printf", "raw"];

    /// Decoding from the knob's index.
    pub(crate) fn from_index(v: usize) -> RecordMode {
        if v == 1 {
            RecordMode::Raw
        } else {
            RecordMode::Printf
        }
    }
}
