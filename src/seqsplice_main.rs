// SPDX-License-Identifier: GPL-2.0

//! seqsplice: a tracing-style seq_file whose splice gives its vmapped,
//! bulk-allocated buffer pages to the pipe instead of copying them.
//!
//! Mount with `mount -t seqsplice nodev /sys/kernel/seqsplice`.

use kernel::prelude::*;

mod ffi;
mod file;
mod fs;
mod knob;
mod open;
mod pages;
mod pipe;
mod record;
mod seq;
mod source;
mod stats;
mod trace;
mod window;

module! {
    type: SeqSplice,
    name: "seqsplice",
    author: "seqsplice developers",
    description: "seq_file with a zero-copy splice_read that gifts vmapped pages",
    license: "GPL",
}

struct SeqSplice {
    _fs: fs::Registration,
}

impl kernel::Module for SeqSplice {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let fs = fs::Registration::new()?;
        pr_info!("mount with: mount -t seqsplice nodev /sys/kernel/seqsplice\n");
        Ok(Self { _fs: fs })
    }
}
