// SPDX-License-Identifier: GPL-2.0

//! The global cap on what all opens together hold: pure, no kernel types.
//!
//! Units are pages. Every allocation an open makes is charged here *before*
//! it is made ([`Budget::reserve`] takes the room atomically, so concurrent
//! fills cannot overshoot the cap) and what was not used is given back. The
//! same file is compiled into the module and into the host test crate
//! (`tests/host`), which checks it with property tests and real threads.

use core::sync::atomic::{AtomicUsize, Ordering};

/// The cap and what is charged against it.
///
/// # Invariants
///
/// `held <= max(cap at the time of every reservation)`: a reservation never
/// takes room above the cap it saw; `meta <= held`; `high >= held` at all
/// times except between [`Budget::set_cap`]'s two stores.
pub(crate) struct Budget {
    cap: AtomicUsize,
    held: AtomicUsize,
    meta: AtomicUsize,
    high: AtomicUsize,
}

impl Budget {
    /// A budget of `cap` pages, nothing held.
    pub(crate) const fn new(cap: usize) -> Self {
        Self {
            cap: AtomicUsize::new(cap),
            held: AtomicUsize::new(0),
            meta: AtomicUsize::new(0),
            high: AtomicUsize::new(0),
        }
    }

    /// Takes up to `want` pages of room, as many as fit under the cap right
    /// now; returns how many were taken (0 when the cap is reached).
    pub(crate) fn reserve(&self, want: usize) -> usize {
        self.take(|room| want.min(room))
    }

    /// Takes exactly `n` pages of room or nothing.
    pub(crate) fn reserve_exact(&self, n: usize) -> bool {
        n == 0 || self.take(|room| if n <= room { n } else { 0 }) == n
    }

    /// Atomically takes `pick(room)` pages (at most `room`, what the cap
    /// leaves) and returns them; 0 takes nothing.
    fn take(&self, pick: impl Fn(usize) -> usize) -> usize {
        let cap = self.cap.load(Ordering::Relaxed);
        let mut held = self.held.load(Ordering::Relaxed);
        loop {
            let take = pick(cap.saturating_sub(held));
            if take == 0 {
                return 0;
            }
            match self.held.compare_exchange_weak(
                held,
                held + take,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    self.high.fetch_max(held + take, Ordering::Relaxed);
                    return take;
                }
                Err(now) => held = now,
            }
        }
    }

    /// Gives back `n` pages taken by [`Budget::reserve`] or
    /// [`Budget::reserve_exact`].
    pub(crate) fn release(&self, n: usize) {
        if n > 0 {
            self.held.fetch_sub(n, Ordering::Relaxed);
        }
    }

    /// Takes exactly `n` pages of room for metadata (page arrays, tables).
    pub(crate) fn reserve_meta(&self, n: usize) -> bool {
        let ok = self.reserve_exact(n);
        if ok {
            self.meta.fetch_add(n, Ordering::Relaxed);
        }
        ok
    }

    /// Gives back `n` pages of metadata room.
    pub(crate) fn release_meta(&self, n: usize) {
        if n > 0 {
            self.meta.fetch_sub(n, Ordering::Relaxed);
            self.release(n);
        }
    }

    /// Sets the cap (existing charges stay) and restarts the high-water
    /// mark from what is held now.
    pub(crate) fn set_cap(&self, cap: usize) {
        self.cap.store(cap, Ordering::Relaxed);
        self.high
            .store(self.held.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// Pages charged now.
    pub(crate) fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    /// Of those, metadata.
    pub(crate) fn meta(&self) -> usize {
        self.meta.load(Ordering::Relaxed)
    }

    /// The most pages charged at once since the last [`Budget::set_cap`].
    pub(crate) fn high(&self) -> usize {
        self.high.load(Ordering::Relaxed)
    }
}
