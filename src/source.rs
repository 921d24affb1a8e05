// SPDX-License-Identifier: GPL-2.0

//! The deterministic record source as `seq_operations`, shared by `trace`
//! and `trace_copy`. The format is in `record.rs`.

use core::ffi::{c_int, c_void};
use core::ptr;

use kernel::bindings;

use crate::ffi;
use crate::knob::RecordMode;
use crate::knobs::Snapshot;
use crate::open::Open;
use crate::record::{self, ALPHABET, FILLER_CHUNK};

/// Any non-NULL pointer: the record to show is `m->index`.
fn token() -> *mut c_void {
    ptr::NonNull::<c_void>::dangling().as_ptr()
}

/// The knobs of the open behind `m`.
///
/// # Safety
///
/// `m` is a live seq_file of this module (private set at open).
unsafe fn knobs(m: *mut bindings::seq_file) -> Snapshot {
    // SAFETY: Per the contract `private` is our `Open`; `knobs` is never
    // written after open, so a copy may be read while the buffer is in use.
    unsafe { (*(*m).private.cast::<Open>()).knobs }
}

/// The raw table of the open behind `m`.
///
/// # Safety
///
/// As for [`knobs`]; the table is never written after open.
unsafe fn raw_table<'a>(m: *mut bindings::seq_file) -> &'a [u8] {
    // SAFETY: Per the contract `private` is our `Open`; only this field is
    // borrowed, shared, and it is immutable after open.
    unsafe { &(*(*m).private.cast::<Open>()).raw }
}

/// `->start` of the record source.
///
/// # Safety
///
/// Called only through the module's operation tables, by the VFS or the
/// seq_file core, with the valid, live arguments that interface
/// guarantees.
unsafe extern "C" fn start(m: *mut bindings::seq_file, pos: *mut bindings::loff_t) -> *mut c_void {
    // SAFETY: The seq_file core passes our seq_file and a valid `pos`.
    let (k, pos) = unsafe { (knobs(m), *pos) };
    if pos >= 0 && (pos as u64) < k.record_count {
        token()
    } else {
        ptr::null_mut()
    }
}

/// `->next` of the record source.
///
/// # Safety
///
/// Called only through the module's operation tables, by the VFS or the
/// seq_file core, with the valid, live arguments that interface
/// guarantees.
unsafe extern "C" fn next(
    m: *mut bindings::seq_file,
    _v: *mut c_void,
    pos: *mut bindings::loff_t,
) -> *mut c_void {
    // SAFETY: The seq_file core passes a valid `pos`.
    unsafe { *pos += 1 };
    // SAFETY: Same arguments as `start` takes.
    unsafe { start(m, pos) }
}

/// `->stop` of the record source.
///
/// # Safety
///
/// Called only through the module's operation tables, by the VFS or the
/// seq_file core, with the valid, live arguments that interface
/// guarantees.
unsafe extern "C" fn stop(_m: *mut bindings::seq_file, _v: *mut c_void) {}

/// `seq_write` of a Rust slice.
///
/// # Safety
///
/// `m` is a live seq_file whose buffer is writable (lock held).
unsafe fn write(m: *mut bindings::seq_file, b: &[u8]) {
    // SAFETY: Per the contract; `b` is valid for `b.len()` bytes.
    unsafe { ffi::seq_write(m, b.as_ptr().cast(), b.len()) };
}

/// `->show` of the record source: formats record `m->index`.
///
/// # Safety
///
/// Called only through the module's operation tables, by the VFS or the
/// seq_file core, with the valid, live arguments that interface
/// guarantees.
unsafe extern "C" fn show(m: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
    // SAFETY: The seq_file core calls `show` with our seq_file, locked.
    let (k, i) = unsafe { (knobs(m), (*m).index as u64) };
    if k.record_mode == RecordMode::Raw {
        // SAFETY: As above.
        let table = unsafe { raw_table(m) };
        let w = k.record_width;
        let at = (i % record::raw_period(w)) as usize * w;
        if let Some(rec) = table.get(at..at + w) {
            // SAFETY: As above.
            unsafe { write(m, rec) };
            return 0;
        }
        return -(bindings::EINVAL as c_int);
    }
    let f = record::fields(i);
    // SAFETY: The format's conversions match the argument types (`%s` a
    // NUL-terminated string, `%u` u32).
    unsafe {
        bindings::seq_printf(
            m,
            c"%16s-%-7u [%03u] d..1. %5u.%06u: seqsplice_event: seq=%010u "
                .as_ptr()
                .cast(),
            c"seqsplice".as_ptr().cast::<u8>(),
            f.pid,
            f.cpu,
            f.sec,
            f.usec,
            f.seq,
        )
    };
    let mut left = record::filler_len(k.record_width);
    let mut phase = record::filler_phase(i);
    while left > 0 {
        let n = left.min(FILLER_CHUNK);
        // SAFETY: As above; `phase < 26` so the slice is in bounds.
        unsafe { write(m, &ALPHABET[phase..phase + n]) };
        left -= n;
        phase = (phase + n) % 26;
    }
    // SAFETY: As above.
    unsafe { ffi::seq_putc(m, b'\n' as _) };
    0
}

/// The record source's operations.
pub(crate) static SEQ_OPS: bindings::seq_operations = bindings::seq_operations {
    start: Some(start),
    stop: Some(stop),
    next: Some(next),
    show: Some(show),
};
