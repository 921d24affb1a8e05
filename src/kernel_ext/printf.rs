// SPDX-License-Identifier: GPL-2.0

//! The compile-time check of a `seq_printf()` format against its argument
//! types ([`super::seq_file::Format`]): pure, no kernel types (compiled into the
//! host test crate too).

/// Whether the conversions of the C format `fmt` are exactly the classes
/// `want`, in order: `b'u'` for `%u %x %X %o`, `b'd'` for `%d %i`, `b's'`
/// for `%s`. Accepted: `%%`, and flags `-0 #+`, a decimal width and one of
/// those conversions; anything else (length modifiers, `*`, precision,
/// `%p`, `%c`, a trailing `%`) does not match.
pub(crate) const fn conversions_match(fmt: &[u8], want: &[u8]) -> bool {
    let mut i = 0;
    let mut n = 0;
    while i < fmt.len() {
        if fmt[i] != b'%' {
            i += 1;
            continue;
        }
        i += 1;
        if i < fmt.len() && fmt[i] == b'%' {
            i += 1;
            continue;
        }
        while i < fmt.len() && matches!(fmt[i], b'-' | b'0' | b' ' | b'#' | b'+') {
            i += 1;
        }
        while i < fmt.len() && fmt[i].is_ascii_digit() {
            i += 1;
        }
        if i >= fmt.len() {
            return false;
        }
        let class = match fmt[i] {
            b'u' | b'x' | b'X' | b'o' => b'u',
            b'd' | b'i' => b'd',
            b's' => b's',
            _ => return false,
        };
        if n >= want.len() || want[n] != class {
            return false;
        }
        n += 1;
        i += 1;
    }
    n == want.len()
}
