// SPDX-License-Identifier: GPL-2.0

//! What `kernel::workqueue` of 6.12 lacks: waiting for a work item.
//!
//! C header: [`include/linux/workqueue.h`](srctree/include/linux/workqueue.h)

use kernel::bindings;
use kernel::workqueue::Work;

/// `flush_work()`: waits until `work`, if queued or running, has finished
/// (it runs; nothing is cancelled, so the pointer it owns is consumed).
/// Sleeps: process context, holding nothing its run takes.
pub(crate) fn flush<T: ?Sized, const ID: u64>(work: &Work<T, ID>) {
    // SAFETY: `work` is a live, initialised `Work` (a reference to it), so
    // `raw_get` yields its `work_struct`; `flush_work()` only waits on it.
    unsafe { bindings::flush_work(Work::raw_get(work)) };
}
