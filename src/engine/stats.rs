// SPDX-License-Identifier: GPL-2.0

//! Module-wide counters, shown by the `stats` file.

use core::fmt::Write;
use core::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// The counters, all monotonic.
        pub(crate) struct Stats {
            $($(#[$doc])* pub(crate) $name: AtomicU64,)*
        }

        /// The module's counters.
        pub(crate) static STATS: Stats = Stats {
            $($name: AtomicU64::new(0),)*
        };

        impl Stats {
            /// Writes a `name value` line per counter.
            pub(crate) fn write_to(&self, w: &mut impl Write) -> core::fmt::Result {
                $(writeln!(w, "{} {}", stringify!($name), self.$name.load(Ordering::Relaxed))?;)*
                Ok(())
            }
        }
    };
}

counters! {
    /// Opens of a gift file.
    opens,
    /// Buffer fills (record generation into mapped pages).
    fills,
    /// Pages obtained from the page allocator.
    pages_allocated,
    /// Calls to the bulk allocator (pages_allocated / bulk_calls is the
    /// batch it managed).
    bulk_calls,
    /// Page references the module dropped (discard, close).
    pages_released,
    /// Pipe buffers inserted by `trace`'s splice, one page reference each.
    pages_gifted,
    /// Bytes delivered by `trace`'s splice (and sendfile).
    bytes_spliced,
    /// Bytes delivered by `trace`'s read.
    bytes_read,
    /// Mappings made (`vmap` or `vm_map_ram`).
    vmaps,
    /// Of those, made with `vm_map_ram`.
    vm_map_ram_maps,
    /// Mappings removed (`vunmap` or `vm_unmap_ram`).
    vunmaps,
    /// Fills and appends formatted through the direct map
    /// (`map_mode=direct`), with no mapping.
    direct_fills,
    /// Pages such fills closed to go on in the next page (the record that
    /// did not fit moved there).
    direct_pages,
    /// Splices that started inside a page already given to a pipe.
    tail_continuations,
    /// Records appended behind a window in pages no pipe holds, so a small
    /// pipe gets whole pages.
    appends,
    /// Calls that went back into held, already delivered data (sendfile's
    /// rewind after a short write) and gifted it again.
    rewinds,
    /// Regenerations from the first record to a non-zero offset.
    regenerations,
    /// Buffer growths for a record that did not fit.
    grows,
    /// Allocations that got fewer pages than asked for.
    alloc_shortfalls,
    /// Writes to `purge` (`vm_unmap_aliases`).
    purges,
    /// Page references a gift could not take (`try_get_page()` refused).
    get_page_failures,
    /// Calls ended early by a fatal signal (`EINTR` or a short count).
    interrupted,
    /// Splices into a pipe other than sendfile's that dropped the pages they
    /// had delivered before returning, instead of keeping them for a rewind.
    idle_releases,
    /// Records moved to the next page of a direct fill by a `stop` and a
    /// `start` (a source that does not allow showing a record again at
    /// once: every C table).
    restarts,
    /// Records a C table may have kept to show again, shown once and
    /// dropped before a seek restarted it elsewhere.
    drains,
}
