use proptest::prelude::*;

use crate::budget::Budget;
use crate::knob::{parse_choice, parse_u64, KnobError, RecordMode};
use crate::layout::{self, *};
use crate::mode::MapMode;
use crate::record::{self, HEADER_LEN, MIN_WIDTH};
use crate::window::*;

/// A flat layout of `n` pages (what a mapping writes).
fn flat(n: usize) -> Vec<PageLen> {
    vec![layout::FULL; n]
}

/// Page lengths as a direct fill leaves them: mostly a little short of a
/// page, some empty, some full.
fn page_lens() -> impl Strategy<Value = Vec<PageLen>> {
    prop::collection::vec(
        prop_oneof![
            3 => 3900u16..=4096,
            1 => Just(0u16),
            1 => 1u16..=4096,
        ],
        0..40,
    )
}

/// The buffer offset of every data byte, page by page: the model the
/// layout functions must agree with.
fn byte_homes(lens: &[PageLen]) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    for (p, &l) in lens.iter().enumerate() {
        for o in 0..usize::from(l) {
            v.push((p, o));
        }
    }
    v
}

proptest! {
    /// Every data byte is found where the model puts it; past the data,
    /// `locate` says so.
    #[test]
    fn locate_finds_every_byte(lens in page_lens(), extra in 0usize..5000) {
        let homes = byte_homes(&lens);
        for (b, &home) in homes.iter().enumerate().step_by(97) {
            prop_assert_eq!(locate(&lens, b), home);
            prop_assert_eq!(bytes_before(&lens, home.0) + home.1, b);
        }
        prop_assert_eq!(locate(&lens, homes.len() + extra), (lens.len(), extra));
        if !homes.is_empty() {
            let last = homes[homes.len() - 1];
            prop_assert_eq!(append_at(&lens, homes.len()), (last.0, last.1 + 1));
        }
    }

    /// Segments of any layout deliver exactly the window's bytes, in order,
    /// each inside the data its page holds, one slot each.
    #[test]
    fn layout_segments_deliver_the_window(lens in page_lens(), a in 0usize..200_000,
                                          c in 0usize..200_000, len in 0usize..200_000,
                                          slots in 0usize..50) {
        let homes = byte_homes(&lens);
        let from = a % (homes.len() + 1);
        let count = c % (homes.len() - from + 1);
        let segs: Vec<_> = Segments::new(&lens, from, count, len, slots).collect();
        let mut b = from;
        for s in &segs {
            prop_assert!(s.len > 0);
            prop_assert!(s.offset + s.len <= usize::from(lens[s.page]));
            for k in 0..s.len {
                prop_assert_eq!(homes[b + k], (s.page, s.offset + k));
            }
            b += s.len;
        }
        let total = b - from;
        prop_assert!(segs.len() <= slots);
        if segs.len() < slots {
            prop_assert_eq!(total, count.min(len));
        }
        // Never two segments in one page.
        prop_assert!(segs.windows(2).all(|w| w[0].page < w[1].page));
    }

    /// On a flat layout the segments are the plain page arithmetic.
    #[test]
    fn flat_segments_are_page_arithmetic(from in 0usize..100_000, count in 0usize..100_000,
                                         slots in 0usize..40) {
        let lens = flat(pages_for(from + count) + 1);
        for s in Segments::new(&lens, from, count, usize::MAX, slots) {
            prop_assert_eq!(s.offset, if s.page == from / PAGE_SIZE { from % PAGE_SIZE } else { 0 });
        }
    }

    /// An idle splice keeps exactly the pages holding window bytes.
    #[test]
    fn idle_release_keeps_the_window_of_any_layout(lens in page_lens(), a in 0usize..200_000,
                                                   c in 0usize..200_000) {
        let homes = byte_homes(&lens);
        let from = a % (homes.len() + 1);
        let count = c % (homes.len() - from + 1);
        let (front, keep) = layout::idle_release(&lens, from, count);
        if count == 0 {
            prop_assert_eq!((front, keep), (0, 0));
        } else {
            prop_assert_eq!(front, homes[from].0);
            prop_assert_eq!(front + keep - 1, homes[from + count - 1].0);
        }
    }
}

/// Reference model of the record stream: the shared `seqsplice-model`
/// crate, written independently of record.rs with `format!` (Documentation/files.rst's
/// definition).
fn model_record(i: u64, width: usize) -> Vec<u8> {
    seqsplice_model::record(i, width)
}

/// What the module's printf mode writes for record `i` after the header:
/// the filler from the alphabet table.
fn module_record(i: u64, width: usize) -> Vec<u8> {
    let mut h = [0u8; HEADER_LEN];
    record::header(i, &mut h);
    let mut r = h.to_vec();
    let mut left = record::filler_len(width);
    let mut phase = record::filler_phase(i);
    while left > 0 {
        let n = left.min(record::FILLER_CHUNK);
        r.extend_from_slice(&record::ALPHABET[phase..phase + n]);
        left -= n;
        phase = (phase + n) % 26;
    }
    r.push(b'\n');
    r
}

/// A raw-mode table entry as the module builds it at open.
fn table_record(i: u64, width: usize) -> Vec<u8> {
    let mut r = vec![0u8; width];
    record::write_record(i, &mut r);
    r
}

#[test]
fn header_matches_format_at_edges() {
    for i in [0, 1, 25, 26, 999, 8999, 9000, 808_407, 9_999_999] {
        assert_eq!(module_record(i, 100), model_record(i, 100), "record {i}");
    }
    assert_eq!(
        &model_record(42, MIN_WIDTH)[..],
        b"       seqsplice-1042    [002] d..1.     0.051954: seqsplice_event: seq=0000000042 \n"
    );
}

#[test]
fn wide_records_cross_filler_chunks() {
    for w in [MIN_WIDTH, 4096, 4096 + 84, 3 * 4096 + 17] {
        assert_eq!(module_record(7, w), model_record(7, w));
    }
}

#[test]
fn module_constants_equal_model() {
    assert_eq!(HEADER_LEN, seqsplice_model::HEADER_LEN);
    assert_eq!(MIN_WIDTH, seqsplice_model::MIN_WIDTH);
    for w in (MIN_WIDTH..70_000).chain([1 << 20]) {
        assert_eq!(
            record::raw_period(w),
            seqsplice_model::raw_period(w),
            "width {w}"
        );
    }
}

#[test]
fn raw_period_fills_the_table() {
    assert_eq!(record::raw_period(100), 655);
    assert_eq!(record::raw_period(84), 780);
    assert_eq!(record::raw_period(4096), 16);
    assert_eq!(record::raw_period(65536), 1);
    assert_eq!(record::raw_period(1 << 20), 1);
}

proptest! {
    #[test]
    fn header_and_filler_equal_model(i in 0u64..record::MAX_COUNT, w in MIN_WIDTH..600usize) {
        prop_assert_eq!(module_record(i, w), model_record(i, w));
    }

    #[test]
    fn raw_table_entries_equal_model(i in 0u64..2000, w in MIN_WIDTH..9000usize) {
        prop_assert_eq!(table_record(i, w), model_record(i, w));
    }

    /// Segments cover exactly min(len, count) bytes (or what the slots
    /// allow), contiguously, never cross a page, never empty.
    #[test]
    fn segments_cover_window(from in 0usize..40_000, count in 0usize..300_000,
                             len in 0usize..300_000, slots in 0usize..300) {
        let lens = flat(pages_for(from + count) + 1);
        let segs: Vec<_> = Segments::new(&lens, from, count, len, slots).collect();
        let mut pos = from;
        for s in &segs {
            prop_assert!(s.len > 0);
            prop_assert_eq!(s.page * PAGE_SIZE + s.offset, pos);
            prop_assert!(s.offset + s.len <= PAGE_SIZE);
            pos += s.len;
        }
        let total: usize = segs.iter().map(|s| s.len).sum();
        prop_assert!(segs.len() <= slots);
        prop_assert!(total <= count.min(len));
        if segs.len() < slots {
            prop_assert_eq!(total, count.min(len));
        }
        // A full-slot run leaves nothing that another slot could have taken
        // inside the pages it used.
        if total < count.min(len) {
            prop_assert_eq!(segs.len(), slots);
        }
    }

    #[test]
    fn fill_target_fits_pipe_and_buffer(len in 0usize..(8 << 20), slots in 1usize..=256,
                                        buf in 1usize..4096) {
        let t = splice_fill_target(len, slots, buf);
        prop_assert!(t >= PAGE_SIZE);
        prop_assert_eq!(t % PAGE_SIZE, 0);
        prop_assert!(t <= slots.min(buf) * PAGE_SIZE);
        prop_assert!(t >= len.min(slots.min(buf) * PAGE_SIZE));
    }

    #[test]
    fn read_fill_covers_want_plus_a_record(want in 0usize..(4 << 20), buf in 1usize..4096) {
        let n = read_fill_pages(want, buf);
        prop_assert!(n >= 1 && n <= buf);
        if pages_for(want) < buf {
            prop_assert!(n * PAGE_SIZE > want);
        }
    }

    #[test]
    fn append_target_fits_the_pipe(from in 0usize..(1 << 20), len in 0usize..(2 << 20), slots in 1usize..=256) {
        let t = append_target(from % PAGE_SIZE, len, slots);
        prop_assert!(t <= len);
        // the window from `from` on, `t` bytes long, needs at most `slots` pages
        prop_assert!(t == 0 || pages_for(from % PAGE_SIZE + t) <= slots);
    }

    /// A rewind lands on the byte that holds `pos`, inside held data.
    #[test]
    fn rewind_stays_in_held_data(read_pos in 0u64..1_000_000, from in 0usize..300_000,
                                 pos in 0u64..1_000_000) {
        prop_assume!(from as u64 <= read_pos);
        match rewind_from(pos, read_pos, from) {
            Some(f) => {
                prop_assert!(pos < read_pos);
                prop_assert!(f < from);
                prop_assert_eq!(read_pos - from as u64 + f as u64, pos);
            }
            None => prop_assert!(pos >= read_pos || read_pos - pos > from as u64),
        }
    }

    #[test]
    fn grow_doubles_to_cap(size in 1usize..(32 << 20), cap in PAGE_SIZE..(64 << 20)) {
        match grow(size, cap) {
            Some(n) => {
                prop_assert!(n > size);
                prop_assert_eq!(n % PAGE_SIZE, 0);
                prop_assert!(n <= cap.div_ceil(PAGE_SIZE) * PAGE_SIZE);
            }
            None => prop_assert!(size >= cap),
        }
    }

    #[test]
    fn discard_keeps_only_clean_pages(held in 0usize..1000, gifted in 0usize..1000) {
        let (d, k) = discard_split(held, gifted);
        prop_assert_eq!(d + k, held);
        prop_assert_eq!(d, gifted.min(held));
    }

    #[test]
    fn knob_parse_roundtrip(v in 0u64..u64::MAX, min in 0u64..1000, max in 1000u64..u64::MAX) {
        let s = format!("{v}\n");
        let r = parse_u64(s.as_bytes(), min, max);
        if v >= min && v <= max {
            prop_assert_eq!(r, Ok(v));
        } else {
            prop_assert_eq!(r, Err(KnobError::Range));
        }
    }

    #[test]
    fn knob_parse_rejects_non_digits(s in "[^0-9]{1,8}") {
        prop_assert!(parse_u64(s.as_bytes(), 0, 100).is_err());
    }
}

#[test]
fn knob_parse_cases() {
    assert_eq!(parse_u64(b"5", 1, 10), Ok(5));
    assert_eq!(parse_u64(b"5\n", 1, 10), Ok(5));
    for bad in [
        &b""[..],
        b"\n",
        b"-1",
        b"+5",
        b" 5",
        b"5 ",
        b"5\n\n",
        b"0x10",
        b"abc",
        b"5a",
    ] {
        assert_eq!(parse_u64(bad, 0, 100), Err(KnobError::Syntax), "{bad:?}");
    }
    assert_eq!(parse_u64(b"0", 1, 10), Err(KnobError::Range));
    assert_eq!(parse_u64(b"11", 1, 10), Err(KnobError::Range));
    assert_eq!(
        parse_u64(b"99999999999999999999999", 1, u64::MAX),
        Err(KnobError::Range)
    );
    assert_eq!(parse_choice(b"raw\n", RecordMode::NAMES), Ok(1));
    assert_eq!(RecordMode::from_index(1), RecordMode::Raw);
    assert_eq!(parse_choice(b"printf", RecordMode::NAMES), Ok(0));
    assert_eq!(RecordMode::from_index(0), RecordMode::Printf);
    for bad in [&b"RAW"[..], b"raw ", b"", b"\n", b"raw\n\n", b"printfx"] {
        assert_eq!(
            parse_choice(bad, RecordMode::NAMES),
            Err(KnobError::Syntax),
            "{bad:?}"
        );
    }
    assert_eq!(parse_choice(b"vm_map_ram\n", MapMode::NAMES), Ok(1));
    assert_eq!(parse_choice(b"direct", MapMode::NAMES), Ok(2));
    assert_eq!(MapMode::from_index(3), MapMode::Auto);
    assert!(MapMode::Auto.direct_for(4, true) && !MapMode::Auto.direct_for(5, true));
    assert!(!MapMode::Auto.direct_for(1, false));
    assert!(MapMode::Direct.direct_for(256, false) && !MapMode::VmMapRam.direct_for(1, true));
    assert_eq!(MapMode::from_index(1), MapMode::VmMapRam);
}

#[test]
fn segments_of_a_tail_continuation() {
    // 2 bytes spliced out of a fresh page, then the rest of the page and
    // one more, through a 2-slot pipe.
    let lens = flat(4);
    let v: Vec<_> = Segments::new(&lens, 2, 10_000, 100_000, 2).collect();
    assert_eq!(
        v,
        vec![
            Segment {
                page: 0,
                offset: 2,
                len: 4094
            },
            Segment {
                page: 1,
                offset: 0,
                len: 4096
            },
        ]
    );
}

/// Models a map that gets at most `room` bytes (the cap) and a record of
/// `width` bytes: the fill's retry loop as `traverse` runs it.
fn retries(width: usize, room: usize, cap: usize) -> (usize, bool) {
    let mut size = PAGE_SIZE;
    let mut n = 0;
    loop {
        n += 1;
        let mapped = size.min(room.max(PAGE_SIZE) / PAGE_SIZE * PAGE_SIZE);
        if width < mapped {
            return (n, true);
        }
        match grow_after_overflow(size, mapped, cap) {
            Some(s) => size = s,
            None => return (n, false),
        }
    }
}

proptest! {
    #[test]
    fn overflow_retries_are_bounded(width in 1usize..(2 << 20), room in 0usize..(64 << 20),
                                    cap in PAGE_SIZE..(32 << 20)) {
        // The regression: under cap pressure the old loop grew the shrunk
        // size forever. Bounded by log2(cap / PAGE_SIZE) + 2 tries, and it
        // succeeds exactly when the record fits what it can get.
        let (n, ok) = retries(width, room, cap);
        prop_assert!(n <= 2 + (cap / PAGE_SIZE).ilog2() as usize, "{} tries", n);
        let reachable = room.max(PAGE_SIZE) / PAGE_SIZE * PAGE_SIZE;
        if ok {
            prop_assert!(width < reachable.min(pages_for(cap) * PAGE_SIZE).max(PAGE_SIZE));
        } else {
            prop_assert!(width >= reachable.min(cap) || width >= cap);
        }
    }

    #[test]
    fn growth_never_repeats_a_size(asked in 1usize..(32 << 20), short in 0usize..(1 << 20),
                                   cap in PAGE_SIZE..(32 << 20)) {
        let mapped = asked.saturating_sub(short);
        match grow_after_overflow(asked, mapped, cap) {
            Some(next) => {
                prop_assert_eq!(mapped, asked);
                prop_assert!(next > asked && next <= pages_for(cap) * PAGE_SIZE);
            }
            None => prop_assert!(mapped < asked || asked >= cap),
        }
    }

    #[test]
    fn pacer_checks_every_pace_bytes_of_output(sizes in proptest::collection::vec(0usize..200_000, 1..2000)) {
        let mut p = Pacer::default();
        let mut since = 0usize;
        for &b in &sizes {
            since += b.max(PACE_MIN);
            if p.tick(b) {
                prop_assert!(since >= PACE_BYTES);
                since = 0;
            } else {
                prop_assert!(since < PACE_BYTES);
            }
        }
    }

    #[test]
    fn idle_release_keeps_the_window(from in 0usize..(1 << 22), count in 0usize..(1 << 22)) {
        let lens = flat(pages_for(from + count) + 1);
        let (front, keep) = idle_release(&lens, from, count);
        if count == 0 {
            prop_assert_eq!((front, keep), (0, 0));
        } else {
            // Exactly the pages the window touches stay.
            prop_assert!(front * PAGE_SIZE <= from && from - front * PAGE_SIZE < PAGE_SIZE);
            let end = from + count;
            prop_assert!((front + keep) * PAGE_SIZE >= end);
            prop_assert!((front + keep - 1) * PAGE_SIZE < end);
        }
    }

    #[test]
    fn budget_never_exceeds_cap(cap in 0usize..5000,
                                ops in proptest::collection::vec((0usize..400, any::<bool>()), 1..200)) {
        let b = Budget::new(cap);
        let mut held = Vec::new();
        for (n, meta) in ops {
            if meta {
                if b.reserve_meta(n) {
                    held.push((n, true));
                }
            } else {
                let got = b.reserve(n);
                prop_assert!(got <= n);
                held.push((got, false));
            }
            prop_assert!(b.held() <= cap);
            prop_assert!(b.high() <= cap && b.high() >= b.held());
            prop_assert!(b.meta() <= b.held());
        }
        for (n, meta) in held {
            if meta { b.release_meta(n) } else { b.release(n) }
        }
        prop_assert_eq!(b.held(), 0);
        prop_assert_eq!(b.meta(), 0);
    }
}

#[test]
fn budget_reservations_race_without_overshoot() {
    // Eight threads fill and release against a 1000-page cap, as the
    // module's concurrent fills do; the high-water mark proves the cap.
    static B: Budget = Budget::new(1000);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ t;
                for _ in 0..200_000 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let got = B.reserve(1 + (x % 100) as usize);
                    assert!(B.held() <= 1000);
                    B.release(got);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(B.held(), 0);
    assert!(B.high() <= 1000, "high-water mark {}", B.high());
    assert!(B.high() > 100, "the threads never contended");
    B.set_cap(500);
    assert_eq!(B.high(), 0);
    assert_eq!(B.reserve(600), 500);
    assert!(!B.reserve_exact(1));
    B.release(500);
}

#[test]
fn printf_check_accepts_the_record_header_and_refuses_mismatches() {
    use crate::printf::conversions_match as m;
    let header = b"%16s-%-7u [%03u] d..1. %5u.%06u: seqsplice_event: seq=%010u ";
    assert!(m(header, b"suuuuu"));
    assert!(!m(header, b"uuuuuu"), "a string where an unsigned is");
    assert!(!m(header, b"suuuu"), "one argument too few");
    assert!(!m(header, b"suuuuuu"), "one argument too many");
    assert!(!m(header, b"sduuuu"), "int for unsigned");
    assert!(m(b"100%% %d%%", b"d"));
    assert!(m(b"%x %X %o %i", b"uuud"));
    assert!(m(b"no conversions", b""));
    for bad in [
        &b"%lu"[..],
        b"%llu",
        b"%zu",
        b"%*d",
        b"%.3s",
        b"%p",
        b"%pA",
        b"%c",
        b"%",
        b"%5",
        b"%-",
    ] {
        for want in [&b""[..], b"u", b"d", b"s", b"uu"] {
            assert!(
                !m(bad, want),
                "{:?} accepted for {:?}",
                std::str::from_utf8(bad),
                std::str::from_utf8(want)
            );
        }
    }
}

/// A format of `convs` (class, flags, width) between pieces of literal
/// text, and the classes it needs.
fn printf_format(convs: &[(u8, u8, Option<u8>)], text: &[String]) -> (Vec<u8>, Vec<u8>) {
    let mut f = Vec::new();
    let mut want = Vec::new();
    for (i, &(c, flags, width)) in convs.iter().enumerate() {
        f.extend_from_slice(text[i].as_bytes());
        f.push(b'%');
        for (bit, flag) in [b'-', b'0', b' ', b'#', b'+'].iter().enumerate() {
            if flags & (1 << bit) != 0 {
                f.push(*flag);
            }
        }
        if let Some(w) = width {
            f.extend_from_slice(w.to_string().as_bytes());
        }
        let (conv, class) = match c % 7 {
            0 => (b'u', b'u'),
            1 => (b'x', b'u'),
            2 => (b'X', b'u'),
            3 => (b'o', b'u'),
            4 => (b'd', b'd'),
            5 => (b'i', b'd'),
            _ => (b's', b's'),
        };
        f.push(conv);
        want.push(class);
    }
    f.extend_from_slice(text[convs.len()].as_bytes());
    (f, want)
}

proptest! {
    #[test]
    fn printf_check_matches_exactly_the_classes_of_the_format(
        convs in prop::collection::vec((any::<u8>(), 0u8..32, prop::option::of(1u8..40)), 0..8),
        text in prop::collection::vec("[a-z .:=\\[\\]%]{0,6}", 9),
        change in any::<prop::sample::Index>(),
    ) {
        // Literal text may hold "%%" but no lone '%': double every '%'.
        let text: Vec<String> = text.iter().map(|t| t.replace('%', "%%")).collect();
        let (f, want) = printf_format(&convs, &text);
        prop_assert!(crate::printf::conversions_match(&f, &want));
        // One argument fewer or more, or one of another class: refused.
        if !want.is_empty() {
            prop_assert!(!crate::printf::conversions_match(&f, &want[..want.len() - 1]));
            let mut other = want.clone();
            let i = change.index(other.len());
            other[i] = if other[i] == b's' { b'u' } else { b's' };
            prop_assert!(!crate::printf::conversions_match(&f, &other));
        }
        let mut more = want.clone();
        more.push(b'u');
        prop_assert!(!crate::printf::conversions_match(&f, &more));
    }
}
