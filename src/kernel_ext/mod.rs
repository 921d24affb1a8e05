// SPDX-License-Identifier: GPL-2.0

//! Safe abstractions over what 6.12's `kernel` crate lacks, in the manner
//! of upstream's `rust/kernel/`: every call into C of the module (through
//! [`ffi`](crate::ffi) or `kernel::bindings`) is in here, each type owning a
//! kernel resource states its `# Invariants` and releases it in `Drop`, and
//! each raw step has its own `# Safety`. Nothing here knows the engine or
//! a source (the one name from above is the module's `THIS_MODULE`, which
//! `module!` defines at the crate root); the layers above write no
//! `unsafe` (scripts/check-layers.sh).
//!
//! ```text
//! capi         the exported C API (include/seqsplice.h): seqsplice_open()
//!              and friends, dispatching to a registered TableFile
//! file         FileOps + FileVTable<T>, SeqFileOps + SeqFileVTable<T>: the
//!              file_operations trampolines, generic over the file type
//! target       Target (another file's seq_file, opened read-only with the
//!              opener's credentials, on an allow-list), TargetTable,
//!              TargetCopyVTable<T>
//! seq_ops      SeqOperations (seq_operations in Rust), SeqOpsVTable<S>
//!              (Rust -> C table), CSeqOps (C table -> Rust, under
//!              seq_file's protocol), OwnedTable<O> (a C table and what keeps
//!              it alive), RustTable<S> (a Rust source as a C table)
//! seq_file     SeqFile writer (seq_write, seq_print!, checked seq_printf),
//!              OwnSeqFile (a seq_file whose window its owner sets)
//! seq_lock     SeqFileLock<T> (a seq_file of the module's own and its lock)
//! printf       seq_printf format check (pure, host-tested)
//! pages        PageTag, PageSet (pages, shared mark, mapping), PageRef,
//!              PageView, PageWriter (m->buf on clean pages, in a closure)
//! vmap         VMap, MapKind, purge_vmap_aliases()
//! pipe iov     pipe buffers; iov_iter destination (pages, mappings)
//! simple_fs    a simple_fill_super() filesystem of a file table
//! ring_buffer  RingBuffer<E>, Paused<E>, Iter<E> over plain entries
//! tracepoint   sched_switch/sched_wakeup probes: SchedProbes + Attached<T>
//! plain        Plain (any bit pattern valid, no padding), plain_data!
//! global       Global<T>: a value the module publishes for its files
//! sched        cond_resched, fatal signals, RCU, CPU ids
//! cpuhp        CpuOnline<H>: a callback for CPUs coming online
//! work         flush() for kernel::workqueue's Work
//! ```

pub(crate) mod capi;
pub(crate) mod cpuhp;
pub(crate) mod file;
pub(crate) mod global;
pub(crate) mod iov;
pub(crate) mod pages;
pub(crate) mod pipe;
pub(crate) mod plain;
pub(crate) mod printf;
pub(crate) mod ring_buffer;
pub(crate) mod sched;
pub(crate) mod seq_file;
pub(crate) mod seq_lock;
pub(crate) mod seq_ops;
pub(crate) mod simple_fs;
pub(crate) mod target;
pub(crate) mod tracepoint;
pub(crate) mod vmap;
pub(crate) mod work;
