// SPDX-License-Identifier: GPL-2.0

//! The synthetic record source of `trace`, `trace_copy` and `trace_ops`:
//! the knobs at open and, in raw mode, the preformatted records. The format
//! is in `record.rs`.

use core::ffi::CStr;

use kernel::prelude::*;

use super::knob::RecordMode;
use super::knobs::Snapshot;
use super::record::{self, ALPHABET, FILLER_CHUNK};
use crate::engine::pages::MetaCharge;
use crate::engine::source::{At, Index, Show, Source};
use crate::kernel_ext::seq_file::{seq_format, Format, SeqFile};

/// The header of a printf-mode record, as `seq_printf()` formats it.
const HEADER: Format<(&CStr, u32, u32, u32, u32, u32)> = seq_format!(
    (&CStr, u32, u32, u32, u32, u32),
    c"%16s-%-7u [%03u] d..1. %5u.%06u: seqsplice_event: seq=%010u "
);

/// The records of one open.
pub(crate) struct TraceSource {
    /// The knobs at open (`record_*`).
    pub(crate) knobs: Snapshot,
    /// Raw mode: the first `raw_period(width)` records, preformatted.
    raw: KVVec<u8>,
    /// The global cap's charge for `raw`.
    _raw_charge: MetaCharge,
}

impl TraceSource {
    /// The source for knobs `k`; in raw mode with its table of preformatted
    /// records, charged to the global cap (`ENOMEM` when it has no room).
    pub(crate) fn new(k: Snapshot) -> Result<Self> {
        if k.record_mode != RecordMode::Raw {
            return Ok(Self {
                knobs: k,
                raw: KVVec::new(),
                _raw_charge: MetaCharge::none(),
            });
        }
        let period = record::raw_period(k.record_width);
        let len = period as usize * k.record_width;
        let charge = MetaCharge::new(len)?;
        let mut t = KVVec::from_elem(0u8, len, GFP_KERNEL)?;
        for (i, rec) in t.chunks_exact_mut(k.record_width).enumerate() {
            record::write_record(i as u64, rec);
        }
        Ok(Self {
            knobs: k,
            raw: t,
            _raw_charge: charge,
        })
    }
}

impl Source for TraceSource {
    /// `show` consumes nothing and `start` takes no lock `show` needs.
    const RESHOW_AT_ONCE: bool = true;

    type Cursor = Index;

    #[inline(always)]
    fn start(&self, m: &SeqFile) -> At<Index> {
        let i = m.index();
        Ok((i >= 0 && (i as u64) < self.knobs.record_count).then_some(Index))
    }

    #[inline(always)]
    fn next(&self, m: &SeqFile, _cur: Index) -> At<Index> {
        m.set_index(m.index() + 1);
        self.start(m)
    }

    #[inline(always)]
    fn show(&self, m: &SeqFile, _cur: &Index) -> Result<Show> {
        let i = m.index() as u64;
        let w = self.knobs.record_width;
        if self.knobs.record_mode == RecordMode::Raw {
            let at = (i % record::raw_period(w)) as usize * w;
            let rec = self.raw.get(at..at + w).ok_or(EINVAL)?;
            m.write(rec);
            return Ok(Show::Record);
        }
        let f = record::fields(i);
        m.printf(&HEADER, (c"seqsplice", f.pid, f.cpu, f.sec, f.usec, f.seq));
        let mut left = record::filler_len(w);
        let mut phase = record::filler_phase(i);
        while left > 0 {
            let n = left.min(FILLER_CHUNK);
            m.write(&ALPHABET[phase..phase + n]);
            left -= n;
            phase = (phase + n) % 26;
        }
        m.putc(b'\n');
        Ok(Show::Record)
    }
}
