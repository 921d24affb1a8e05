// SPDX-License-Identifier: GPL-2.0

//! The exported C API (`include/seqsplice.h`): C tables served by the
//! engine, with the buffer the module's knobs give an open of `trace`
//! (`buffer_size_kb`, `map_mode`, `memcg_account`, read at each open).

#![forbid(unsafe_code)]

use crate::engine::buffer::BufferConfig;
use crate::engine::file::{CTableFile, TableConfig};
use crate::kernel_ext::capi::{self, Api};
use crate::sources::trace::{buffer, knobs::SETTINGS};

/// The knobs, at open.
struct Knobs;

impl TableConfig for Knobs {
    fn buffer() -> BufferConfig {
        buffer(&SETTINGS.snapshot())
    }
}

/// What the exported functions serve.
static API: Api = Api::of::<CTableFile<Knobs>>();

/// The exported functions, live for the module's life.
pub(crate) struct Registration {
    _api: capi::Registration,
}

impl Registration {
    /// Makes the exported functions serve C tables.
    pub(crate) fn new() -> Self {
        Self {
            _api: capi::Registration::new(&API),
        }
    }
}
