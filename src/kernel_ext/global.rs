// SPDX-License-Identifier: GPL-2.0

//! A value the module owns for its whole life and publishes for the code
//! of its files: [`Global`] is the `static` slot, [`Published`] the owner,
//! a field of the module's `Module` struct. Readers get their own
//! reference ([`Arc`]), taken under `rcu_read_lock()`; the owner
//! unpublishes, waits for a grace period, then drops its own, so no reader
//! can be left with a dangling value whatever it does with its reference.
//!
//! C header: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h)

use core::marker::PhantomData;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow};

use super::sched::synchronize_rcu;
use crate::ffi;

/// A `static` slot for a value of the module, published by a [`Published`].
///
/// # Invariants
///
/// `ptr` is NULL or the pointer `Arc::into_raw` gave a [`Published`] of
/// this slot, whose reference that owner holds; the owner clears it, then
/// waits for an RCU grace period, before it gives that reference back.
pub(crate) struct Global<T> {
    ptr: AtomicPtr<T>,
}

impl<T: Send + Sync + 'static> Global<T> {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        // INVARIANT: NULL.
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Publishes `value` for the life of the returned owner. `EBUSY` if
    /// the slot is taken.
    pub(crate) fn publish(&'static self, value: Arc<T>) -> Result<Published<T>> {
        let raw = Arc::into_raw(value);
        if let Err(_taken) = self.ptr.compare_exchange(
            ptr::null_mut(),
            raw.cast_mut(),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: `raw` came from `Arc::into_raw` just above and was
            // published nowhere: this takes its reference back, once.
            drop(unsafe { Arc::from_raw(raw) });
            return Err(EBUSY);
        }
        // INVARIANT: published above; the reference `into_raw` kept is the
        // new owner's.
        Ok(Published {
            slot: self,
            raw,
            _owns: PhantomData,
        })
    }

    /// A reference to the published value; `ENODEV` when none is.
    pub(crate) fn get(&self) -> Result<Arc<T>> {
        let _rcu = RcuReadLock::new();
        let p = self.ptr.load(Ordering::Acquire);
        if p.is_null() {
            return Err(ENODEV);
        }
        // SAFETY: `p` came from `Arc::into_raw` and its reference is held
        // by the slot's `Published` (type invariants), which gives it back
        // only after clearing the slot and a grace period; this read-side
        // section began before the load, so that reference is still held
        // for the section. Cloning it (below) takes a reference of our own.
        let b = unsafe { ArcBorrow::from_raw(p) };
        Ok(b.into())
    }
}

/// The owner of a value published in a [`Global`]: unpublishes it, waits
/// for the readers taking a reference to it, then drops its own.
///
/// # Invariants
///
/// `raw` came from `Arc::into_raw`, and this value holds that reference
/// until its drop; `slot` holds `raw` until then.
pub(crate) struct Published<T: Send + Sync + 'static> {
    slot: &'static Global<T>,
    raw: *const T,
    _owns: PhantomData<Arc<T>>,
}

// SAFETY: `Published` owns one reference of an `Arc<T>` (as `_owns` says),
// which may be sent and shared across tasks as `T: Send + Sync`.
unsafe impl<T: Send + Sync + 'static> Send for Published<T> {}
// SAFETY: As above; `&Published` gives out only `&T`.
unsafe impl<T: Send + Sync + 'static> Sync for Published<T> {}

impl<T: Send + Sync + 'static> Published<T> {
    /// The value.
    pub(crate) fn get(&self) -> &T {
        // SAFETY: This value holds a reference to the `Arc` `raw` came from
        // (type invariants), so `raw` points to a live `T` for as long as
        // `self` is borrowed.
        unsafe { &*self.raw }
    }
}

impl<T: Send + Sync + 'static> Drop for Published<T> {
    fn drop(&mut self) {
        self.slot.ptr.store(ptr::null_mut(), Ordering::Release);
        // Every `Global::get` that could still see the pointer is done (it
        // has its own reference) before ours goes. Process context (module
        // exit): may sleep.
        synchronize_rcu();
        // SAFETY: `raw` came from `Arc::into_raw` and this value holds its
        // reference (type invariants); it is given back once, here.
        drop(unsafe { Arc::from_raw(self.raw) });
    }
}

/// An RCU read-side critical section, for as long as this value lives.
///
/// # Invariants
///
/// `rcu_read_lock()` was called by this task and is released on drop.
struct RcuReadLock(PhantomData<*mut ()>);

impl RcuReadLock {
    fn new() -> Self {
        // SAFETY: No arguments; paired with the unlock in `drop` (the value
        // is not `Send`: the same task unlocks).
        unsafe { ffi::seqsplice_rcu_read_lock() };
        // INVARIANT: locked above.
        Self(PhantomData)
    }
}

impl Drop for RcuReadLock {
    fn drop(&mut self) {
        // SAFETY: Locked by this value, on this task (type invariants).
        unsafe { ffi::seqsplice_rcu_read_unlock() };
    }
}
