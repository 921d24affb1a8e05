// SPDX-License-Identifier: GPL-2.0

//! seqsplice: a tracing-style seq_file whose splice gives its vmapped,
//! bulk-allocated buffer pages to the pipe instead of copying them.
//!
//! Mount with `mount -t seqsplice nodev /sys/kernel/seqsplice`.

use kernel::prelude::*;

// Layers, bottom up, each importing only those below it (checked by
// scripts/check-layers.sh):
//
// - `ffi`: bindgen output and the C shim's wrappers (raw);
// - `kernel_ext`: safe abstractions over what 6.12's `kernel` crate lacks;
//   with `ffi`, the only place `unsafe` is written;
// - `engine`: the zero-copy splice engine, on `kernel_ext` alone;
// - `sources`: the record sources (`trace`, `lines`, `events`);
// - `fs`: the filesystem and its file table; `api`: the exported C API;
// - this root: the module.
mod api;
mod engine;
mod ffi;
mod fs;
mod kernel_ext;
mod sources;

module! {
    type: SeqSplice,
    name: "seqsplice",
    author: "seqsplice developers",
    description: "seq_file with a zero-copy splice_read that gifts vmapped pages",
    license: "GPL",
}

// The pure window arithmetic is written for the kernel's page size; a
// kernel with another one must not build the module (Kbuild also refuses
// anything but x86-64, the only architecture tested).
// The root's own items write no `unsafe` either (`module!`'s expansion
// does, so the crate as a whole cannot forbid it).
#[forbid(unsafe_code)]
const _: () = assert!(engine::window::PAGE_SIZE == kernel::page::PAGE_SIZE);

#[forbid(unsafe_code)]
struct SeqSplice {
    // Field order is drop order: no file can be opened once the filesystem
    // is gone, and only then may the capture (probes detached first) and
    // the page tag go. The exported API goes first: no consumer is loaded
    // by then (each pins this module), so nothing calls it.
    _api: api::Registration,
    _fs: fs::Registration,
    _events: sources::events::Registration,
    _tag: kernel_ext::pages::PageTag,
}

#[forbid(unsafe_code)]
impl kernel::Module for SeqSplice {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let tag = kernel_ext::pages::PageTag::new()?;
        let events = sources::events::Registration::new()?;
        let fs = fs::Registration::new()?;
        let api = api::Registration::new();
        pr_info!("mount with: mount -t seqsplice nodev /sys/kernel/seqsplice\n");
        Ok(Self {
            _api: api,
            _fs: fs,
            _events: events,
            _tag: tag,
        })
    }
}
