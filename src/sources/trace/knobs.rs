// SPDX-License-Identifier: GPL-2.0

//! The knobs, declared once: [`knobs!`] generates the settings (one atomic
//! each, with its default), the table the knob files are served from
//! (name, range or names, hook), and the per-open [`Snapshot`] with typed
//! fields. Adding a knob is one line here plus its use.

use core::sync::atomic::{AtomicUsize, Ordering};

use kernel::prelude::*;

use super::knob::{self, RecordMode};
use super::record;
use crate::engine::mode::MapMode;
use crate::engine::pages::{BUDGET, GLOBAL_PAGE_CAP};
use crate::engine::window::PAGE_SIZE;

/// What a knob accepts.
pub(crate) enum Kind {
    /// A decimal number in `min..=max`.
    Num { min: u64, max: u64 },
    /// One of these names; the value is its index.
    Choice(&'static [&'static str]),
}

/// One knob file: its name, value, what it accepts and what a write also
/// does.
pub(crate) struct Knob {
    /// File name.
    pub(crate) name: &'static CStr,
    /// Current value (a number, or an index into the names).
    pub(crate) value: &'static AtomicUsize,
    /// What a write may store.
    pub(crate) kind: Kind,
    /// Called with the new value after a valid write.
    pub(crate) on_write: Option<fn(usize)>,
}

impl Knob {
    /// A write of `input`: a valid value is stored (and the hook run);
    /// anything else is `EINVAL`, with a line in dmesg, and changes nothing.
    pub(crate) fn write(&self, input: &[u8]) -> Result {
        let v = match self.kind {
            Kind::Num { min, max } => knob::parse_u64(input, min, max).map(|v| v as usize),
            Kind::Choice(names) => knob::parse_choice(input, names),
        }
        .map_err(|e| {
            pr_info!(
                "{}: value refused ({:?})\n",
                self.name.to_str().unwrap_or("knob"),
                e
            );
            EINVAL
        })?;
        self.value.store(v, Ordering::Relaxed);
        if let Some(f) = self.on_write {
            f(v);
        }
        Ok(())
    }
}

/// Conversion of a knob's stored value to the type a snapshot holds.
pub(crate) trait KnobValue: Copy {
    /// The value for a stored `v` (in range: writes are validated).
    fn from_raw(v: usize) -> Self;
}

impl KnobValue for usize {
    fn from_raw(v: usize) -> Self {
        v
    }
}

impl KnobValue for u64 {
    fn from_raw(v: usize) -> Self {
        v as u64
    }
}

impl KnobValue for bool {
    fn from_raw(v: usize) -> Self {
        v == 1
    }
}

impl KnobValue for RecordMode {
    fn from_raw(v: usize) -> Self {
        RecordMode::from_index(v)
    }
}

impl KnobValue for MapMode {
    fn from_raw(v: usize) -> Self {
        MapMode::from_index(v)
    }
}

macro_rules! knobs {
    ($($(#[$doc:meta])* $name:ident: $ty:ty = $def:expr, $kind:expr $(, on_write = $hook:expr)?;)*) => {
        /// The knobs' current values.
        pub(crate) struct Settings {
            $($(#[$doc])* pub(crate) $name: AtomicUsize,)*
        }

        /// The knobs, with their defaults.
        pub(crate) static SETTINGS: Settings = Settings {
            $($name: AtomicUsize::new(($def) as usize),)*
        };

        /// Every knob's value at one moment: what an open uses for its life.
        // Not every open reads every knob (`buffer_total_kb` is global).
        #[allow(dead_code)]
        #[derive(Clone, Copy)]
        pub(crate) struct Snapshot {
            $($(#[$doc])* pub(crate) $name: $ty,)*
        }

        impl Settings {
            /// The values now, typed.
            pub(crate) fn snapshot(&self) -> Snapshot {
                Snapshot {
                    $($name: <$ty as KnobValue>::from_raw(self.$name.load(Ordering::Relaxed)),)*
                }
            }
        }

        /// Number of knobs.
        pub(crate) const COUNT: usize = [$(stringify!($name)),*].len();

        /// The knob files' names, in file-table order.
        pub(crate) const NAMES: [&'static CStr; COUNT] = [$(kernel::c_str!(stringify!($name))),*];

        /// The knob files, in file-table order.
        pub(crate) static TABLE: [Knob; COUNT] = [
            $(Knob {
                name: kernel::c_str!(stringify!($name)),
                value: &SETTINGS.$name,
                kind: $kind,
                on_write: knobs!(@hook $($hook)?),
            },)*
        ];
    };
    (@hook) => { None };
    (@hook $hook:expr) => { Some($hook) };
}

/// `buffer_total_kb` was written: the new cap, and a new high-water mark.
/// The cap follows the knob's value as it is after this write, so that two
/// racing writes cannot leave the knob and the cap apart: the later store
/// sees its own value or a later one (a few tries at most, then the last
/// writer's own call settles it).
fn set_total(_written: usize) {
    for _ in 0..4 {
        let kb = SETTINGS.buffer_total_kb.load(Ordering::Relaxed);
        BUDGET.set_cap(kb * 1024 / PAGE_SIZE);
        if SETTINGS.buffer_total_kb.load(Ordering::Relaxed) == kb {
            break;
        }
    }
}

const fn num(min: u64, max: u64) -> Kind {
    Kind::Num { min, max }
}

knobs! {
    /// Buffer of each new open of `trace`, KiB.
    buffer_size_kb: usize = 1024, num(4, 16384);
    /// seq buffer of each new open of `trace_copy`, KiB.
    copy_buffer_size_kb: usize = 4, num(4, 16384);
    /// Records per open.
    record_count: u64 = 10_000, num(1, record::MAX_COUNT);
    /// Bytes per record, newline included.
    record_width: usize = 100, num(record::MIN_WIDTH as u64, record::MAX_WIDTH as u64);
    /// How records are produced.
    record_mode: RecordMode = RecordMode::Printf, Kind::Choice(RecordMode::NAMES);
    /// How `trace` gets an address to format into its pages. auto: no
    /// mapping for small splices, vm_map_ram for big ones, each where it
    /// measured faster (Documentation/benchmark.rst).
    map_mode: MapMode = MapMode::Auto, Kind::Choice(MapMode::NAMES);
    /// Charge `trace`'s pages to the memory cgroup of the task whose call
    /// allocates them. Off: `__GFP_ACCOUNT` turns the bulk allocator into
    /// one page per call (Documentation/design.rst, "Memory", has the
    /// measurement).
    memcg_account: bool = false, num(0, 1);
    /// The global cap on what all opens together hold, KiB.
    buffer_total_kb: usize = GLOBAL_PAGE_CAP * PAGE_SIZE / 1024, num(64, 1 << 20),
        on_write = set_total;
}
