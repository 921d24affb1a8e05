// SPDX-License-Identifier: GPL-2.0

//! How the engine maps a buffer's pages for formatting: pure, no kernel
//! types (compiled into the host test crate too).

/// How a gift file maps its pages for formatting (`map_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MapMode {
    /// `vmap`/`vunmap`: a vmalloc-space area per mapping.
    Vmap = 0,
    /// `vm_map_ram`/`vm_unmap_ram`: per-cpu vmap blocks up to
    /// `VMAP_MAX_ALLOC` (64) pages (`vb_alloc()`), `vmap`-like beyond.
    VmMapRam = 1,
    /// No mapping: each order-0 page is formatted through its direct-map
    /// address (`page_address()`), one page at a time, the record that does
    /// not fit rolled over to the next page; a page goes to the pipe with
    /// the length it holds. A record wider than a page takes the mapped
    /// path (`vm_map_ram`).
    Direct = 2,
    /// [`MapMode::Direct`] for a splice whose fill takes at most
    /// [`AUTO_DIRECT_PAGES`] pages of a source that may show a record again
    /// at once, [`MapMode::VmMapRam`] otherwise: in the
    /// benchmark the direct map wins small splices (no mapping to make and
    /// unmap for a page or two) and a mapping wins big ones (records span
    /// pages, so no record is formatted twice and every page is full).
    Auto = 3,
}

/// Largest splice fill, in pages, that [`MapMode::Auto`] formats through
/// the direct map: 16 KiB, where the two measured equal with 100-byte raw
/// records (Documentation/benchmark.rst, "Map modes").
pub(crate) const AUTO_DIRECT_PAGES: usize = 4;

impl MapMode {
    /// The knob's values; a mode's discriminant is its index.
    pub(crate) const NAMES: &'static [&'static str] = &["vmap", "vm_map_ram", "direct", "auto"];

    /// Whether a splice fill or append of `pages` pages formats through the
    /// direct map, for a source that may (`reshow_at_once`) or may not show
    /// a record that overflowed a page again at once on the next. `auto`
    /// maps for the latter (every C table): there each page boundary a
    /// record crosses would cost a `stop`/`start` and the record's
    /// formatting again, and with printf records the formatting alone
    /// outweighs a `vm_map_ram()` per call (Documentation/benchmark.rst).
    pub(crate) fn direct_for(self, pages: usize, reshow_at_once: bool) -> bool {
        match self {
            MapMode::Direct => true,
            MapMode::Auto => reshow_at_once && pages <= AUTO_DIRECT_PAGES,
            MapMode::Vmap | MapMode::VmMapRam => false,
        }
    }

    /// Decoding from the knob's index.
    pub(crate) fn from_index(v: usize) -> MapMode {
        match v {
            1 => MapMode::VmMapRam,
            2 => MapMode::Direct,
            3 => MapMode::Auto,
            _ => MapMode::Vmap,
        }
    }
}
