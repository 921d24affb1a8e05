// SPDX-License-Identifier: GPL-2.0

//! CPU hotplug: a dynamic "online" state whose startup callback is a
//! type's, registered for the life of a value.
//!
//! C header: [`include/linux/cpuhotplug.h`](srctree/include/linux/cpuhotplug.h)

use core::marker::PhantomData;

use kernel::bindings;
use kernel::prelude::*;
use kernel::str::CStr;

/// What a CPU coming online calls.
pub(crate) trait OnCpuOnline {
    /// `cpu` is coming online. Runs in the CPU's hotplug thread with the
    /// hotplug lock held for writing by the task onlining it: it may sleep,
    /// but must not take `cpus_read_lock()` nor any lock held around it
    /// (such as a mutex whose holders resize or reset a ring buffer): defer
    /// such work. It cannot fail the online.
    fn online(cpu: u32);
}

/// A `CPUHP_AP_ONLINE_DYN` state calling `H::online` for every CPU that
/// comes online while this value lives (not for those already online).
/// Kept in the module's state and dropped at unload, never leaked: the
/// state would outlive the module's text.
///
/// # Invariants
///
/// `state` is the dynamic state `__cpuhp_setup_state()` returned, with
/// [`online_callback::<H>`] as its startup callback; removed only by `drop`.
pub(crate) struct CpuOnline<H: OnCpuOnline> {
    state: i32,
    _h: PhantomData<H>,
}

/// The state's startup callback: `H::online`, never a failure.
extern "C" fn online_callback<H: OnCpuOnline>(cpu: core::ffi::c_uint) -> core::ffi::c_int {
    H::online(cpu);
    0
}

impl<H: OnCpuOnline> CpuOnline<H> {
    /// Registers the state. May sleep (takes the hotplug lock).
    pub(crate) fn register(name: &'static CStr) -> Result<Self> {
        // SAFETY: `name` is a NUL-terminated string that lives for ever (the
        // state keeps the pointer). The callback is a function of this
        // module: `drop` removes the state, and the module keeps this value
        // in its state, dropped at unload. As with the kernel crate's other
        // registrations, leaking the value instead (`mem::forget`) would
        // leave the callback behind the module's text: the owner must not.
        // `invoke` false: nothing is called for the CPUs online now.
        let r = unsafe {
            bindings::__cpuhp_setup_state(
                bindings::cpuhp_state_CPUHP_AP_ONLINE_DYN,
                name.as_char_ptr(),
                false,
                Some(online_callback::<H>),
                None,
                false,
            )
        };
        if r < 0 {
            return Err(Error::from_errno(r));
        }
        // INVARIANT: a dynamic state (> 0) with our callback, set up above.
        Ok(Self {
            state: r,
            _h: PhantomData,
        })
    }
}

impl<H: OnCpuOnline> Drop for CpuOnline<H> {
    fn drop(&mut self) {
        // SAFETY: By the type invariants `state` is ours and still set up.
        // `__cpuhp_remove_state()` takes the hotplug lock, so no callback of
        // this state runs once it returns; `invoke` false: no teardown.
        unsafe { bindings::__cpuhp_remove_state(self.state, false) }
    }
}
