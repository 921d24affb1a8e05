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
/// `ptr` is NULL or the value of the [`Arc`] a [`Published`] of this slot
/// holds; the owner clears it, then waits for an RCU grace period, before
/// it drops that reference.
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
        let p = ptr::from_ref::<T>(&value).cast_mut();
        self.ptr
            .compare_exchange(ptr::null_mut(), p, Ordering::AcqRel, Ordering::Acquire)
            .map_err(|_| EBUSY)?;
        // INVARIANT: published above, the reference held by the new value.
        Ok(Published { slot: self, value })
    }

    /// A reference to the published value; `ENODEV` when none is.
    pub(crate) fn get(&self) -> Result<Arc<T>> {
        let _rcu = RcuReadLock::new();
        let p = self.ptr.load(Ordering::Acquire);
        if p.is_null() {
            return Err(ENODEV);
        }
        // SAFETY: `p` is the value of the `Arc` the slot's `Published` holds
        // (type invariants), which drops it only after clearing the slot
        // and a grace period; this read-side section began before the load,
        // so that reference is still held and the value alive for the
        // section. Cloning it (below) takes a reference of our own.
        let b = unsafe { ArcBorrow::from_raw(p) };
        Ok(b.into())
    }
}

/// The owner of a value published in a [`Global`]: unpublishes it, waits
/// for the readers taking a reference to it, then drops its own.
///
/// # Invariants
///
/// `slot` holds `value`'s pointer until this value's drop.
pub(crate) struct Published<T: Send + Sync + 'static> {
    slot: &'static Global<T>,
    value: Arc<T>,
}

impl<T: Send + Sync + 'static> Published<T> {
    /// The value.
    pub(crate) fn get(&self) -> &T {
        &self.value
    }
}

impl<T: Send + Sync + 'static> Drop for Published<T> {
    fn drop(&mut self) {
        self.slot.ptr.store(ptr::null_mut(), Ordering::Release);
        // Every `Global::get` that could still see the pointer is done (it
        // has its own reference) before ours goes with `value`. Process
        // context (module exit): may sleep.
        synchronize_rcu();
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
