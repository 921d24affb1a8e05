//! Host tests of the module's kernel-free files: the very same sources the
//! module compiles, included by path.

#![cfg_attr(not(test), no_std)]
// Only the tests use the included files on the host.
#![allow(dead_code)]

#[path = "../../../src/engine/budget.rs"]
pub mod budget;
#[path = "../../../src/sources/events/entry.rs"]
pub mod entry;
#[path = "../../../src/sources/trace/knob.rs"]
pub mod knob;
#[path = "../../../src/engine/layout.rs"]
pub mod layout;
#[path = "../../../src/engine/mode.rs"]
pub mod mode;
#[path = "../../../src/kernel_ext/printf.rs"]
pub mod printf;
#[path = "../../../src/sources/trace/record.rs"]
pub mod record;
#[path = "../../../src/engine/window.rs"]
pub mod window;

#[cfg(test)]
mod events_tests;
#[cfg(test)]
mod tests;
