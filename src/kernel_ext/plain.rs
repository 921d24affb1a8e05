// SPDX-License-Identifier: GPL-2.0

//! Plain data: types whose every bit pattern is a valid value and which
//! have no padding, so that they can be copied to and from raw bytes (a ring
//! buffer's events). [`plain_data!`] declares a struct
//! plain after checking it at compile time, so the type's own file needs no
//! `unsafe`.

/// A type with no padding bytes whose every bit pattern of its size is a
/// valid value.
///
/// # Safety
///
/// Implementers have no padding, and any `size_of::<Self>()` initialised
/// bytes are a valid value of the type.
pub(crate) unsafe trait Plain: Copy + Send + Sync + 'static {}

macro_rules! plain_ints {
    ($($t:ty),*) => {
        $(
            // SAFETY: An integer has no padding and every bit pattern is a
            // valid value.
            unsafe impl Plain for $t {}
        )*
    };
}

plain_ints!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

// SAFETY: An array has no padding between its elements, which are `Plain`.
unsafe impl<T: Plain, const N: usize> Plain for [T; N] {}

/// Declares the struct `$t`, whose fields are listed with their types,
/// [`Plain`](crate::kernel_ext::plain::Plain) once the build has checked
/// that the list is exactly the struct's fields and their types, that each
/// field type is plain, and that the fields' sizes add up to the struct's
/// (no padding).
macro_rules! plain_data {
    ($t:ident { $($f:ident : $ft:ty),* $(,)? }) => {
        const _: () = {
            // Exactly these fields (no `..`), of these types.
            #[allow(dead_code)]
            fn fields(v: $t) {
                let $t { $($f),* } = v;
                $(let _: $ft = $f;)*
            }
            // Each one plain.
            #[allow(dead_code)]
            fn plain<T: $crate::kernel_ext::plain::Plain>() {}
            #[allow(dead_code)]
            fn all() {
                $(plain::<$ft>();)*
            }
            // No padding.
            assert!(::core::mem::size_of::<$t>() == 0 $(+ ::core::mem::size_of::<$ft>())*);
        };
        // SAFETY: Checked above: every field is `Plain` and their sizes add
        // up to the struct's, so it has no padding and any bit pattern of its
        // size is a valid value of each field, hence of the struct.
        #[allow(unsafe_code)]
        unsafe impl $crate::kernel_ext::plain::Plain for $t {}
    };
}
pub(crate) use plain_data;
