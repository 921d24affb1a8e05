// SPDX-License-Identifier: GPL-2.0
//! Counters read before and after each timed run, outside the timed
//! segment: page allocations and the DEBUG_TLBFLUSH counters from
//! /proc/vmstat, the module's stats, function-call and TLB-shootdown IPIs
//! from /proc/interrupts, and the kernel's TLB flushes counted exactly by
//! [`FlushProbe`].

use std::collections::BTreeMap;
use std::io::{Error, Result};
use std::os::raw::c_int;

use crate::sys::{self, read_text, Fd};

/// One reading of every counter we report, by name.
#[derive(Clone, Debug, Default)]
pub struct Snapshot(pub BTreeMap<String, u64>);

/// The module's gauges: every other `stats` line is a monotonic counter and
/// is recorded as `mod.<name>` (so counters a newer module adds, such as
/// the direct map mode's, are recorded without a change here).
const MODULE_GAUGES: &[&str] = &[
    "pages_held",
    "pages_held_max",
    "meta_pages_held",
    "pages_alive",
    "bytes_per_gifted_page",
];

/// The functions whose executions [`FlushProbe`] counts, run through
/// `csd_do_func()` (kernel/smp.c) on every CPU an `on_each_cpu()` reaches,
/// the calling CPU included:
/// - `do_flush_tlb_all`: a full kernel TLB flush, from `flush_tlb_all()` or
///   the full branch of `flush_tlb_kernel_range()` (a range of more than
///   `tlb_single_page_flush_ceiling`, 33, pages: vmalloc's lazy purge,
///   `vm_unmap_aliases()`);
/// - `do_kernel_range_flush`: the INVLPG branch of
///   `flush_tlb_kernel_range()` (33 pages or fewer);
/// - `__cpa_flush_tlb`: direct-map attribute changes (`set_memory_*`) of
///   few pages (more go through `flush_tlb_all()`);
/// - `flush_tlb_func`: user-mm flushes that went through `on_each_cpu`
///   (those with another CPU in the mm's cpumask), for context.
///
/// Together the first three are every kernel-address TLB flush on x86-64
/// but `flush_tlb_one_kernel()` called directly (fixmap, kmmio: none here)
/// and `__flush_tlb_all()` called directly (boot, CPU hotplug).
pub const FLUSH_FUNCS: &[&str] = &[
    "do_flush_tlb_all",
    "do_kernel_range_flush",
    "__cpa_flush_tlb",
    "flush_tlb_func",
];

const TRACEFS: &[&str] = &["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];
const CSD_EVENT: &str = "events/csd/csd_function_entry/id";

/// Exact kernel TLB flush counts without patching or reconfiguring the
/// kernel: a perf counting event per CPU on the `csd:csd_function_entry`
/// tracepoint (compiled into every SMP kernel with tracing), filtered on
/// the function it is about to run (`func.function == <symbol>`). DEBUG_TLBFLUSH's
/// vmstat counters cannot give this: the full branch of
/// `flush_tlb_kernel_range()` counts `nr_tlb_remote_flush_received` once
/// per CPU (the local one too) but no `nr_tlb_remote_flush`, and the INVLPG
/// branch counts `nr_tlb_local_flush_one` once per page per CPU, in the same
/// counter as user-mm single-page flushes. The probe costs nothing while no
/// csd function runs, and a few hundred instructions per execution (the
/// perf tracepoint handler and its filter) when one does.
pub struct FlushProbe {
    /// Per function, one counting fd per online CPU.
    fds: Vec<(&'static str, Vec<Fd>)>,
    pub cpus: usize,
}

#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    type_: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
}

const PERF_TYPE_TRACEPOINT: u32 = 2;
/// _IOW('$', 6, char *)
const PERF_EVENT_IOC_SET_FILTER: libc::c_ulong = 0x4008_2406;

fn tracefs() -> Result<String> {
    for d in TRACEFS {
        if std::path::Path::new(&format!("{d}/{CSD_EVENT}")).exists() {
            return Ok(d.to_string());
        }
    }
    // Not mounted (the guest's /init mounts debugfs, whose tracing/
    // automounts it; elsewhere it may not be).
    let (src, dst, fs) = (c"nodev", c"/sys/kernel/tracing", c"tracefs");
    // SAFETY: valid C strings, no data.
    let r = unsafe { libc::mount(src.as_ptr(), dst.as_ptr(), fs.as_ptr(), 0, std::ptr::null()) };
    if r == 0 && std::path::Path::new(&format!("{}/{CSD_EVENT}", TRACEFS[0])).exists() {
        return Ok(TRACEFS[0].to_string());
    }
    Err(Error::other(format!(
        "no tracefs with {CSD_EVENT} (tried {}; mount: {})",
        TRACEFS.join(", "),
        if r == 0 {
            "mounted, but the event is missing".to_string()
        } else {
            Error::last_os_error().to_string()
        }
    )))
}

fn perf_open(id: u64, cpu: usize, filter: &str) -> Result<Fd> {
    let attr = PerfEventAttr {
        type_: PERF_TYPE_TRACEPOINT,
        size: std::mem::size_of::<PerfEventAttr>() as u32,
        config: id,
        ..Default::default()
    };
    // SAFETY: a valid perf_event_attr (PERF_ATTR_SIZE_VER0); counting
    // event, every task (pid -1) on one CPU, no group, no flags.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const PerfEventAttr,
            -1 as c_int,
            cpu as c_int,
            -1 as c_int,
            0 as libc::c_ulong,
        )
    };
    if fd < 0 {
        return Err(Error::other(format!(
            "perf_event_open(csd_function_entry, cpu {cpu}): {}",
            Error::last_os_error()
        )));
    }
    let fd = Fd(fd as c_int);
    let c = std::ffi::CString::new(filter).expect("filter without NUL");
    // SAFETY: an owned perf fd and a valid C string.
    if unsafe { libc::ioctl(fd.0, PERF_EVENT_IOC_SET_FILTER, c.as_ptr()) } < 0 {
        return Err(Error::other(format!(
            "PERF_EVENT_IOC_SET_FILTER '{filter}': {}",
            Error::last_os_error()
        )));
    }
    Ok(fd)
}

impl FlushProbe {
    /// Opens the counters; the error says why they are unavailable.
    pub fn open() -> Result<FlushProbe> {
        let dir = tracefs()?;
        let id: u64 = read_text(&format!("{dir}/{CSD_EVENT}"))?
            .trim()
            .parse()
            .map_err(|e| Error::other(format!("{dir}/{CSD_EVENT}: {e}")))?;
        let cpus = sys::online_cpus();
        let mut fds = Vec::new();
        for &f in FLUSH_FUNCS {
            let filter = format!("func.function == {f}");
            let v = (0..cpus)
                .map(|c| perf_open(id, c, &filter))
                .collect::<Result<Vec<_>>>()?;
            fds.push((f, v));
        }
        Ok(FlushProbe { fds, cpus })
    }

    /// Adds `csd.<function>`: executions, summed over the CPUs.
    fn read(&self, m: &mut BTreeMap<String, u64>) {
        for (f, v) in &self.fds {
            let mut sum = 0u64;
            for fd in v {
                let mut n = 0u64;
                // SAFETY: reads one u64 into `n` from an owned perf fd.
                let r = unsafe { libc::read(fd.0, (&mut n as *mut u64).cast(), 8) };
                if r != 8 {
                    return;
                }
                sum += n;
            }
            m.insert(format!("csd.{f}"), sum);
        }
    }
}

fn parse_kv(text: &str) -> impl Iterator<Item = (&str, u64)> {
    text.lines().filter_map(|l| {
        let mut it = l.split_whitespace();
        let k = it.next()?;
        let v = it.next()?.parse().ok()?;
        Some((k, v))
    })
}

/// The sum of the per-CPU columns of /proc/interrupts row `name` ("TLB:").
fn irq_row(text: &str, name: &str, ncpu: usize) -> Option<u64> {
    let line = text.lines().find(|l| l.trim_start().starts_with(name))?;
    let mut it = line.split_whitespace();
    it.next();
    Some(it.take(ncpu).filter_map(|v| v.parse::<u64>().ok()).sum())
}

/// Which end of a measured segment a [`Snapshot`] is: reading a perf
/// counter bound to another CPU sends that CPU a function-call IPI
/// (`perf_event_read()`), which /proc/interrupts counts as CAL. So the
/// probe is read first at the start and last at the end, and its own reads
/// fall outside the delta.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Start,
    Finish,
}

impl Snapshot {
    pub fn take(dir: &str, probe: Option<&FlushProbe>, end: End) -> Snapshot {
        let mut m = BTreeMap::new();
        if let (Some(p), End::Start) = (probe, end) {
            p.read(&mut m);
        }
        if let Ok(t) = read_text("/proc/vmstat") {
            let mut pg = 0;
            for (k, v) in parse_kv(&t) {
                if k.starts_with("pgalloc_") {
                    pg += v;
                    m.insert(format!("vmstat.{k}"), v);
                } else if k.contains("tlb") || k == "pgfree" {
                    m.insert(format!("vmstat.{k}"), v);
                }
            }
            m.insert("pgalloc".into(), pg);
        }
        if let Ok(t) = read_text(&format!("{dir}/stats")) {
            for (k, v) in parse_kv(&t) {
                if !MODULE_GAUGES.contains(&k) {
                    m.insert(format!("mod.{k}"), v);
                }
            }
        }
        if let Ok(t) = read_text("/proc/interrupts") {
            let ncpu = t
                .lines()
                .next()
                .map(|l| l.split_whitespace().count())
                .unwrap_or(1);
            if let Some(v) = irq_row(&t, "TLB:", ncpu) {
                m.insert("irq.TLB".into(), v);
            }
            if let Some(v) = irq_row(&t, "CAL:", ncpu) {
                m.insert("irq.CAL".into(), v);
            }
        }
        if let (Some(p), End::Finish) = (probe, end) {
            p.read(&mut m);
        }
        Snapshot(m)
    }

    /// `after - self` for every counter present in both.
    pub fn delta(&self, after: &Snapshot) -> BTreeMap<String, i64> {
        let mut d = BTreeMap::new();
        for (k, a) in &after.0 {
            if let Some(b) = self.0.get(k) {
                d.insert(k.clone(), *a as i64 - *b as i64);
            }
        }
        d
    }
}
