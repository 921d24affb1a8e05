// SPDX-License-Identifier: GPL-2.0
//! Counters read before and after each timed run: page allocations from
//! /proc/vmstat, the module's stats, and TLB-shootdown / function-call IPIs
//! from /proc/interrupts. Read outside the timed segment.

use std::collections::BTreeMap;

use crate::sys::read_text;

/// One reading of every counter we report, by name.
#[derive(Clone, Debug, Default)]
pub struct Snapshot(pub BTreeMap<String, u64>);

/// Module stats that are reported per run (all monotonic).
const MODULE_KEYS: &[&str] = &[
    "pages_allocated",
    "pages_released",
    "pages_gifted",
    "vmaps",
    "vm_map_ram_maps",
    "vunmaps",
    "fills",
    "purges",
    "grows",
    "alloc_shortfalls",
    "tail_continuations",
    "rewinds",
    "regenerations",
];

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

impl Snapshot {
    pub fn take(dir: &str) -> Snapshot {
        let mut m = BTreeMap::new();
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
                if MODULE_KEYS.contains(&k) {
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
