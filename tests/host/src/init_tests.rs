//! The initialised lengths of pages (src/kernel_ext/init.rs) against a
//! model of every byte.

use proptest::prelude::*;

use crate::init::{covers, extent, mark, InitLen, PAGE};

/// The bytes of the flat space of `pages` pages a length vouches for.
fn vouched(init: &[InitLen]) -> Vec<bool> {
    let mut v = vec![false; init.len() * PAGE];
    for (p, &l) in init.iter().enumerate() {
        v[p * PAGE..p * PAGE + usize::from(l)].fill(true);
    }
    v
}

/// Lengths of pages, some empty, some full, some in between.
fn lens() -> impl Strategy<Value = Vec<InitLen>> {
    prop::collection::vec(
        prop_oneof![
            2 => Just(PAGE as InitLen),
            1 => Just(0 as InitLen),
            2 => 0..=PAGE as InitLen,
        ],
        0..6,
    )
}

proptest! {
    #[test]
    fn marks_only_bytes_written_and_grows_without_gaps(
        pages in 1usize..6,
        writes in prop::collection::vec((0usize..6 * PAGE, 0usize..3 * PAGE), 0..12),
    ) {
        let mut init = vec![0 as InitLen; pages];
        let mut written = vec![false; pages * PAGE];
        for (off, len) in writes {
            mark(&mut init, off, len);
            let end = (off + len).min(written.len());
            if off < end {
                written[off..end].fill(true);
            }
            // Sound: every byte a length vouches for was written.
            let v = vouched(&init);
            prop_assert!(v.iter().zip(&written).all(|(&v, &w)| !v || w));
            prop_assert!(init.iter().all(|&l| usize::from(l) <= PAGE));
        }
    }

    #[test]
    fn appending_from_the_extent_marks_every_byte(
        pages in 1usize..6,
        start in 0usize..6 * PAGE,
        steps in prop::collection::vec(0usize..2 * PAGE, 0..8),
    ) {
        let mut init = vec![0 as InitLen; pages];
        let start = start.min(pages * PAGE);
        // The first page's bytes before `start`, already written.
        mark(&mut init, start - start % PAGE, start % PAGE);
        let mut end = start;
        for step in steps {
            // What a writer targeting `start` is told, then what it writes.
            let have = extent(&init, start, usize::MAX);
            prop_assert_eq!(have, end - start);
            mark(&mut init, start, have + step);
            end = (end + step).min(pages * PAGE);
        }
        prop_assert_eq!(extent(&init, start, usize::MAX), end - start);
        let v = vouched(&init);
        prop_assert!(v[start - start % PAGE..end].iter().all(|&b| b));
    }

    #[test]
    fn extent_is_the_run_of_vouched_bytes(
        init in lens(),
        off in 0usize..7 * PAGE,
        max in 0usize..7 * PAGE,
    ) {
        let v = vouched(&init);
        let run = v.iter().skip(off).take_while(|&&b| b).count().min(max);
        prop_assert_eq!(extent(&init, off, max), run);
    }

    #[test]
    fn covers_is_inside_the_length(l in 0..=PAGE as InitLen, off in 0usize..2 * PAGE, len in 0usize..2 * PAGE) {
        prop_assert_eq!(covers(l, off, len), off + len <= usize::from(l));
        prop_assert!(!covers(l, usize::MAX, 2));
    }
}
