// SPDX-License-Identifier: GPL-2.0

//! The kernel's ring buffer (kernel/trace/ring_buffer.c) as owned types: a
//! per-CPU, overwriting [`RingBuffer`] of [`Plain`] entries, a [`Paused`]
//! recording and a non-consuming per-CPU [`Iter`].
//!
//! C header: [`include/linux/ring_buffer.h`](srctree/include/linux/ring_buffer.h)

use core::ffi::c_void;
use core::marker::PhantomData;
use core::mem::size_of;
use core::ptr::NonNull;

use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::Arc;

use super::plain::Plain;
use super::sched::nr_cpu_ids;
use crate::ffi;

/// `RING_BUFFER_ALL_CPUS`.
const ALL_CPUS: i32 = -1;

/// A ring buffer of `E` records, one per CPU, in overwrite mode
/// (ftrace's default: a full CPU buffer drops its oldest page), stamped
/// with the buffer's default clock, `trace_clock_local()` (ftrace's
/// default `local` clock).
///
/// # Invariants
///
/// `rb` came from `__ring_buffer_alloc()` and is freed only by `drop`.
pub(crate) struct RingBuffer<E: Plain> {
    rb: NonNull<ffi::trace_buffer>,
    _e: PhantomData<E>,
}

// SAFETY: The ring buffer API is safe to call from any CPU and context
// (writes are lockless per CPU, resize/reset take the buffer's own mutex).
unsafe impl<E: Plain> Send for RingBuffer<E> {}
// SAFETY: As above: every method takes `&self` and the buffer serializes.
unsafe impl<E: Plain> Sync for RingBuffer<E> {}

impl<E: Plain> RingBuffer<E> {
    /// A buffer of `bytes` per CPU (`ENOMEM` when it cannot be allocated).
    pub(crate) fn new(bytes: usize) -> Result<Self> {
        // SAFETY: Plain allocation (`ring_buffer_alloc()`, with its static
        // lock class key); NULL on failure. May sleep: process context.
        let rb = unsafe { ffi::seqsplice_ring_buffer_alloc(bytes as _) };
        // INVARIANT: allocated above.
        Ok(Self {
            rb: NonNull::new(rb).ok_or(ENOMEM)?,
            _e: PhantomData,
        })
    }

    fn raw(&self) -> *mut ffi::trace_buffer {
        self.rb.as_ptr()
    }

    /// Appends `e` on this CPU: `false` if the buffer refused it (recording
    /// disabled or paused, a nested write on this CPU). Never sleeps or
    /// allocates: callable from a tracepoint probe in any context.
    pub(crate) fn write(&self, e: &E) -> bool {
        // SAFETY: By the type invariants `rb` is live; `ring_buffer_write()`
        // copies `size_of::<E>()` bytes from `e` before returning, all
        // initialised (`E` is `Plain`: no padding).
        unsafe {
            ffi::ring_buffer_write(
                self.raw(),
                size_of::<E>() as _,
                (e as *const E).cast_mut().cast::<c_void>(),
            ) == 0
        }
    }

    /// Resizes every CPU's buffer to `bytes`: `EBUSY` while an iterator
    /// exists, `ENOMEM` (the old size kept) when the pages cannot be had.
    /// May sleep.
    pub(crate) fn resize(&self, bytes: usize) -> Result {
        // SAFETY: By the type invariants `rb` is live; process context.
        let r = unsafe { ffi::ring_buffer_resize(self.raw(), bytes as _, ALL_CPUS) };
        if r < 0 {
            return Err(Error::from_errno(r));
        }
        Ok(())
    }

    /// Empties every CPU's buffer (`ring_buffer_reset()`: waits for
    /// in-flight writers). May sleep. Sound with iterators alive (no page is
    /// freed), but they would then walk reset pages: the owner calls it with
    /// no reader.
    ///
    /// CPU hotplug is held off across it: `ring_buffer_reset()` walks the
    /// buffer's CPUs twice (disable, grace period, reset and enable), and a
    /// CPU added in between (`trace_rb_cpu_prepare()`) would be enabled
    /// without having been disabled, leaving its buffer refusing every
    /// write. The order, hotplug lock then the buffer's mutex, is
    /// `ring_buffer_resize()`'s.
    pub(crate) fn reset(&self) {
        // SAFETY: Process context, no spinlock held; paired below.
        unsafe { bindings::cpus_read_lock() };
        // SAFETY: By the type invariants `rb` is live; process context.
        unsafe { ffi::ring_buffer_reset(self.raw()) };
        // SAFETY: Taken above.
        unsafe { bindings::cpus_read_unlock() };
    }

    /// Events lost to overwriting, all CPUs.
    pub(crate) fn overruns(&self) -> u64 {
        // SAFETY: By the type invariants `rb` is live.
        unsafe { ffi::ring_buffer_overruns(self.raw()) as u64 }
    }

    /// Whether the buffer has a buffer for `cpu` (`ring_buffer_size()` is 0
    /// for a CPU outside its mask: possible but never online since).
    pub(crate) fn has_cpu(&self, cpu: u32) -> bool {
        if cpu >= nr_cpu_ids() {
            return false;
        }
        // SAFETY: By the type invariants `rb` is live; `cpu` is below
        // `nr_cpu_ids`, inside the buffer's cpumask (its bit is tested).
        unsafe { ffi::ring_buffer_size(self.raw(), cpu as i32) != 0 }
    }

    /// Shrinks `cpu`'s buffer to the ring buffer's minimum (two
    /// sub-buffers) if it holds no event: `true` if pages were freed. Nothing
    /// is lost only if nothing writes the buffer (the caller has detached
    /// its writers): the check and the resize are two steps. `EBUSY` while an
    /// iterator is on that CPU. May sleep; takes `cpus_read_lock()`
    /// (`ring_buffer_resize()`), so never from a hotplug callback.
    pub(crate) fn shrink_cpu_if_empty(&self, cpu: u32) -> Result<bool> {
        if cpu >= nr_cpu_ids() {
            return Ok(false);
        }
        // SAFETY: By the type invariants `rb` is live; `cpu` is below
        // `nr_cpu_ids` (the size is 0 for one outside the buffer's mask).
        let before = unsafe { ffi::ring_buffer_size(self.raw(), cpu as i32) };
        // Not in the mask, or already at two one-page sub-buffers (the
        // buffer's default sub-buffer size, which the module never changes):
        // nothing to do, and no lock taken for it.
        if before as usize <= 2 * bindings::PAGE_SIZE {
            return Ok(false);
        }
        // SAFETY: By the type invariants `rb` is live; `cpu` is in its mask
        // (its size is not 0; a CPU never leaves the mask).
        if !unsafe { ffi::ring_buffer_empty_cpu(self.raw(), cpu as i32) } {
            return Ok(false);
        }
        // SAFETY: As above; process context. Size 0 is the minimum.
        let r = unsafe { ffi::ring_buffer_resize(self.raw(), 0, cpu as i32) };
        if r < 0 {
            return Err(Error::from_errno(r));
        }
        // SAFETY: As above.
        Ok(unsafe { ffi::ring_buffer_size(self.raw(), cpu as i32) } < before)
    }

    /// The buffer's size, all CPUs, bytes (`ring_buffer_size()`: the
    /// sub-buffers' data room).
    pub(crate) fn size(&self) -> u64 {
        (0..nr_cpu_ids())
            // SAFETY: By the type invariants `rb` is live; `cpu` is below
            // `nr_cpu_ids` (0 for one outside the buffer's mask).
            .map(|cpu| unsafe { ffi::ring_buffer_size(self.raw(), cpu as i32) } as u64)
            .sum()
    }

    /// Events in the buffer, all CPUs.
    pub(crate) fn entries(&self) -> u64 {
        // SAFETY: By the type invariants `rb` is live.
        unsafe { ffi::ring_buffer_entries(self.raw()) as u64 }
    }

    /// Stops recording for the life of the returned value (nests: the
    /// buffer counts disables).
    pub(crate) fn pause(self: &Arc<Self>) -> Paused<E> {
        // SAFETY: By the type invariants `rb` is live.
        unsafe { ffi::ring_buffer_record_disable(self.raw()) };
        // INVARIANT: disabled above.
        Paused { rb: self.clone() }
    }
}

impl<E: Plain> Drop for RingBuffer<E> {
    fn drop(&mut self) {
        // SAFETY: By the type invariants `rb` is live and this is its one
        // free; every `Paused` and `Iter` holds a reference, so none is
        // left, and so does every attached probe (`Attached`, which
        // detaches and waits for them before it lets go).
        unsafe { ffi::ring_buffer_free(self.raw()) }
    }
}

/// Recording of a [`RingBuffer`] stopped: writes fail until this is
/// dropped.
///
/// # Invariants
///
/// This value holds one `ring_buffer_record_disable()` of `rb`.
pub(crate) struct Paused<E: Plain> {
    rb: Arc<RingBuffer<E>>,
}

impl<E: Plain> Paused<E> {
    /// A non-consuming iterator over `cpu`'s events, or `None` when the
    /// buffer has no such CPU; `ENOMEM` on allocation failure. May sleep.
    /// (An iterator is sound with recording on too; the pause is what makes
    /// two iterations see the same events.)
    pub(crate) fn iter(&self, cpu: u32) -> Result<Option<Iter<E>>> {
        // The buffer has the CPUs that were online at its allocation and
        // those onlined since (`trace_rb_cpu_prepare()`); the mask only
        // grows, so a CPU with a size here stays in it.
        if !self.rb.has_cpu(cpu) {
            return Ok(None);
        }
        // SAFETY: `rb` is live (`RingBuffer`'s invariants); GFP_KERNEL:
        // process context.
        let it =
            unsafe { ffi::ring_buffer_read_start(self.rb.raw(), cpu as i32, bindings::GFP_KERNEL) };
        // NULL for a CPU in the buffer is a failed allocation.
        let it = NonNull::new(it).ok_or(ENOMEM)?;
        // INVARIANT: made by `ring_buffer_read_start()` here, on the buffer
        // `rb` keeps alive.
        Ok(Some(Iter {
            it,
            _rb: self.rb.clone(),
        }))
    }
}

impl<E: Plain> Drop for Paused<E> {
    fn drop(&mut self) {
        // SAFETY: By the type invariants this value holds one disable.
        unsafe { ffi::ring_buffer_record_enable(self.rb.raw()) }
    }
}

/// A non-consuming iterator over one CPU's events (`resize` fails with
/// `EBUSY` while it lives).
///
/// # Invariants
///
/// `it` came from `ring_buffer_read_start()` on `_rb` and is finished only
/// by `drop`.
pub(crate) struct Iter<E: Plain> {
    it: NonNull<ffi::ring_buffer_iter>,
    _rb: Arc<RingBuffer<E>>,
}

// SAFETY: An iterator is plain memory the ring buffer reads under its own
// reader lock; it may be used from any task, one at a time (`&mut self`).
unsafe impl<E: Plain> Send for Iter<E> {}
// SAFETY: No `&self` method touches the iterator.
unsafe impl<E: Plain> Sync for Iter<E> {}

impl<E: Plain> Iter<E> {
    /// The event at the iterator and its timestamp, skipping (bounded by the
    /// buffer's size) anything that is not a whole `E`.
    pub(crate) fn peek(&mut self) -> Option<(u64, E)> {
        loop {
            let mut ts = 0u64;
            // SAFETY: By the type invariants `it` is live; `ts` is ours.
            let ev = unsafe { ffi::ring_buffer_iter_peek(self.it.as_ptr(), &mut ts) };
            if ev.is_null() {
                return None;
            }
            // SAFETY: `ev` is the live event the iterator returned, valid
            // until it moves.
            let len = unsafe { ffi::ring_buffer_event_length(ev) } as usize;
            if len >= size_of::<E>() {
                // SAFETY: As above; the event's data holds at least an `E`
                // (length checked) of initialised bytes, a valid `E` (`E` is
                // `Plain`); the copy does not assume alignment.
                let e = unsafe { ffi::ring_buffer_event_data(ev).cast::<E>().read_unaligned() };
                return Some((ts, e));
            }
            self.advance();
        }
    }

    /// Moves past the event at the iterator.
    pub(crate) fn advance(&mut self) {
        // SAFETY: By the type invariants `it` is live.
        unsafe { ffi::ring_buffer_iter_advance(self.it.as_ptr()) }
    }

    /// Back to the CPU's oldest event.
    pub(crate) fn reset(&mut self) {
        // SAFETY: By the type invariants `it` is live.
        unsafe { ffi::ring_buffer_iter_reset(self.it.as_ptr()) }
    }
}

impl<E: Plain> Drop for Iter<E> {
    fn drop(&mut self) {
        // SAFETY: By the type invariants `it` is live; this is its finish.
        unsafe { ffi::ring_buffer_read_finish(self.it.as_ptr()) }
    }
}
