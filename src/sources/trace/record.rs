// SPDX-License-Identifier: GPL-2.0

//! The synthetic record stream: pure arithmetic and formatting, no kernel types.
//!
//! Every record has the same width `W` (a knob), so the byte at file offset
//! `o` is byte `o % W` of record `o / W`. Record `i` is
//!
//! ```text
//! format!("{:>16}-{:<7} [{:03}] d..1. {:>5}.{:06}: seqsplice_event: seq={:010} ",
//!         "seqsplice", 1000 + i % 9000, i % 4, t / 1_000_000, t % 1_000_000, i)
//! ```
//!
//! with `t = i * 1237` (microseconds), followed by `W - 84` filler bytes
//! `b'a' + (i + j) % 26` for `j` in `0..W - 84`, and a `'\n'`: the printf
//! mode's stream.
//!
//! The raw mode separates transport from formatting: each open preformats
//! the first `P = raw_period(W)` records once into a table, and record `i` is
//! printf record `i % P`, copied with one `seq_write`.
//!
//! The same file is compiled into the module and into the host test crate
//! (`tests/host`).

/// Length of the fixed header of every record, including its trailing space.
pub(crate) const HEADER_LEN: usize = 83;
/// The narrowest record: the header and its newline, no filler.
pub(crate) const MIN_WIDTH: usize = HEADER_LEN + 1;
/// The widest record the `record_width` knob accepts (1 MiB).
pub(crate) const MAX_WIDTH: usize = 1 << 20;
/// The most records the `record_count` knob accepts: keeps the timestamp
/// within its five-digit seconds field.
pub(crate) const MAX_COUNT: u64 = 10_000_000;

/// Size the raw mode's table of preformatted records aims at.
pub(crate) const RAW_TABLE_BYTES: usize = 64 << 10;

/// Number of distinct records in the raw stream of `width`-byte records.
pub(crate) fn raw_period(width: usize) -> u64 {
    (RAW_TABLE_BYTES / width.max(1)).max(1) as u64
}

/// The variable fields of record `i`, in the order the header prints them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fields {
    /// Fake task pid, `1000 + i % 9000`.
    pub(crate) pid: u32,
    /// Fake cpu, `i % 4`.
    pub(crate) cpu: u32,
    /// Timestamp seconds.
    pub(crate) sec: u32,
    /// Timestamp microseconds.
    pub(crate) usec: u32,
    /// The record index itself.
    pub(crate) seq: u32,
}

/// Returns the variable fields of record `i` (`i < MAX_COUNT`).
pub(crate) fn fields(i: u64) -> Fields {
    let t = i * 1237;
    Fields {
        pid: (1000 + i % 9000) as u32,
        cpu: (i % 4) as u32,
        sec: (t / 1_000_000) as u32,
        usec: (t % 1_000_000) as u32,
        seq: i as u32,
    }
}

/// Number of filler bytes in a record of `width` bytes.
pub(crate) fn filler_len(width: usize) -> usize {
    width.saturating_sub(MIN_WIDTH)
}

/// Phase of the first filler byte of record `i` in [`ALPHABET`].
pub(crate) fn filler_phase(i: u64) -> usize {
    (i % 26) as usize
}

/// Filler source: `ALPHABET[p..p + n]` is the filler run starting at phase
/// `p < 26`, for any `n <= FILLER_CHUNK`.
pub(crate) const FILLER_CHUNK: usize = 4096;
/// The alphabet repeated to cover `26 + FILLER_CHUNK` bytes.
pub(crate) static ALPHABET: [u8; 26 + FILLER_CHUNK] = {
    let mut a = [0u8; 26 + FILLER_CHUNK];
    let mut k = 0;
    while k < a.len() {
        a[k] = b'a' + (k % 26) as u8;
        k += 1;
    }
    a
};

fn put_dec(out: &mut [u8], mut v: u32, width: usize, pad: u8, left: bool) -> usize {
    let mut digits = [0u8; 10];
    let mut n = 0;
    loop {
        digits[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let fill = width.saturating_sub(n);
    let mut k = 0;
    if !left {
        while k < fill {
            out[k] = pad;
            k += 1;
        }
    }
    while n > 0 {
        n -= 1;
        out[k] = digits[n];
        k += 1;
    }
    if left {
        let mut f = 0;
        while f < fill {
            out[k] = pad;
            k += 1;
            f += 1;
        }
    }
    k
}

fn put_str(out: &mut [u8], s: &[u8]) -> usize {
    out[..s.len()].copy_from_slice(s);
    s.len()
}

/// Writes the header of record `i` without `vsnprintf`: the raw mode's
/// preformatted bytes. Byte-identical to the printf mode's header.
pub(crate) fn header(i: u64, out: &mut [u8; HEADER_LEN]) {
    let f = fields(i);
    let mut k = put_str(out, b"       seqsplice-");
    k += put_dec(&mut out[k..], f.pid, 7, b' ', true);
    k += put_str(&mut out[k..], b" [");
    k += put_dec(&mut out[k..], f.cpu, 3, b'0', false);
    k += put_str(&mut out[k..], b"] d..1. ");
    k += put_dec(&mut out[k..], f.sec, 5, b' ', false);
    k += put_str(&mut out[k..], b".");
    k += put_dec(&mut out[k..], f.usec, 6, b'0', false);
    k += put_str(&mut out[k..], b": seqsplice_event: seq=");
    k += put_dec(&mut out[k..], f.seq, 10, b'0', false);
    out[k] = b' ';
}

/// Writes the whole printf-mode record `i` into `out` (its length is the
/// record width, at least [`MIN_WIDTH`]): the raw mode's table entries.
pub(crate) fn write_record(i: u64, out: &mut [u8]) {
    let width = out.len();
    let mut h = [0u8; HEADER_LEN];
    header(i, &mut h);
    out[..HEADER_LEN].copy_from_slice(&h);
    let mut phase = filler_phase(i);
    for b in &mut out[HEADER_LEN..width - 1] {
        *b = b'a' + phase as u8;
        phase = if phase == 25 { 0 } else { phase + 1 };
    }
    out[width - 1] = b'\n';
}
