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

/// How records are produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `seq_printf` formatting of every header (ftrace's cost).
    Printf,
    /// Preformatted header bytes copied with `seq_write` (transport cost only).
    Raw,
}

impl Mode {
    /// The knob's text for this mode.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mode::Printf => "printf",
            Mode::Raw => "raw",
        }
    }

    /// Parses `printf` or `raw`, optionally followed by one newline.
    pub(crate) fn parse(buf: &[u8]) -> Result<Mode, KnobError> {
        match strip_newline(buf) {
            b"printf" => Ok(Mode::Printf),
            b"raw" => Ok(Mode::Raw),
            _ => Err(KnobError::Syntax),
        }
    }

    /// Encoding for an atomic.
    pub(crate) fn to_raw(self) -> usize {
        match self {
            Mode::Printf => 0,
            Mode::Raw => 1,
        }
    }

    /// Decoding from an atomic.
    pub(crate) fn from_raw(v: usize) -> Mode {
        if v == 1 {
            Mode::Raw
        } else {
            Mode::Printf
        }
    }
}
