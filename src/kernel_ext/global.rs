// SPDX-License-Identifier: GPL-2.0

//! A value the module owns for its whole life and publishes for the code
//! of its files: [`Global`] is the `static` slot, [`Published`] the owner,
//! a field of the module's `Module` struct.

use core::pin::Pin;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use kernel::prelude::*;

/// A `static` slot for a value of the module, published by a [`Published`].
///
/// A published value is freed only when its [`Published`] is dropped, which
/// the module does at exit: the value is a field of its `Module` struct
/// (the only use of [`Global::publish`]). Code of the module that reads the
/// slot runs before that, inside file operations of the module's files,
/// whose `owner` keeps the module (and so the value) alive for the call and
/// for as long as the file is open; the references [`Global::get`] hands
/// out live no longer than that. A reviewer of a new caller checks this
/// rule: no reader may run after module exit began (no timer, work item or
/// thread of the module's own outlives the files).
///
/// # Invariants
///
/// `ptr` is NULL or points at the live value a [`Published`] of this slot
/// owns; the owner clears it before it frees the value.
pub(crate) struct Global<T> {
    ptr: AtomicPtr<T>,
}

impl<T: Sync + 'static> Global<T> {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        // INVARIANT: NULL.
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Publishes `value` for the life of the returned owner (module init;
    /// the owner is dropped at module exit). `EBUSY` if the slot is taken.
    pub(crate) fn publish(&'static self, value: Pin<KBox<T>>) -> Result<Published<T>> {
        let p = ptr::from_ref::<T>(&value).cast_mut();
        self.ptr
            .compare_exchange(ptr::null_mut(), p, Ordering::AcqRel, Ordering::Acquire)
            .map_err(|_| EBUSY)?;
        // INVARIANT: published above, owned by the new value.
        Ok(Published { slot: self, value })
    }

    /// The published value, for code of the module's files (see the type's
    /// rule); `ENODEV` when none is.
    pub(crate) fn get(&self) -> Result<&'static T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: `p` is NULL or the live value a `Published` owns (type
        // invariants), which is freed only at module exit, after every
        // reader of the slot (the type's rule).
        unsafe { p.as_ref() }.ok_or(ENODEV)
    }
}

/// The owner of a value published in a [`Global`]: unpublishes it, then
/// frees it.
pub(crate) struct Published<T: Sync + 'static> {
    slot: &'static Global<T>,
    value: Pin<KBox<T>>,
}

impl<T: Sync + 'static> Published<T> {
    /// The value.
    pub(crate) fn get(&self) -> Pin<&T> {
        self.value.as_ref()
    }
}

impl<T: Sync + 'static> Drop for Published<T> {
    fn drop(&mut self) {
        // INVARIANT: cleared before `value` goes, with this value.
        self.slot.ptr.store(ptr::null_mut(), Ordering::Release);
    }
}
