// SPDX-License-Identifier: GPL-2.0

//! The record sources the module serves, each on the engine and the safe
//! abstractions of [`kernel_ext`](crate::kernel_ext) only (no `unsafe`):
//!
//! ```text
//! trace/   the synthetic records, their knobs and files
//! lines    a second, test-only source: numbered lines with skips
//! events/  live scheduler events (uses trace's knobs)
//! ```

#![deny(unsafe_code)]

pub(crate) mod events;
pub(crate) mod lines;
pub(crate) mod mirror;
pub(crate) mod trace;
