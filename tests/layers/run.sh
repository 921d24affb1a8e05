#!/usr/bin/env bash
# Self-test of scripts/check-layers.sh: a tiny fake source tree in the
# module's layout passes; each copy of it with one violation (unsafe of
# every kind outside src/ffi/ and src/kernel_ext/, a path up a layer by
# crate::, super::, a group (on one line or several), a macro or a root
# item, an import circle, a file in no layer, a path after a raw string, an
# alias of the crate, #[path] or include! outside the root and ffi,
# #[no_mangle] and its kin outside ffi and kernel_ext) fails, naming the
# file and line. Comments and strings (raw ones too) that mention `unsafe`
# or an upper layer do not count.
#
#   tests/layers/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
check=$here/../../scripts/check-layers.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The clean tree.
make_tree() {
	local t=$1
	mkdir -p "$t"/{ffi,kernel_ext,engine,sources/deep}
	cat >"$t/seqsplice_main.rs" <<'RS'
mod engine;
mod ffi;
mod fs;
mod kernel_ext;
mod sources;
kernel::module! { type: M, name: "m", license: "GPL" }
struct M(kernel_ext::a::Tag, fs::Fs);
RS
	cat >"$t/fs.rs" <<'RS'
use crate::engine::e::E;
use crate::sources::s::S;
pub(crate) struct Fs(E, S);
RS
	cat >"$t/ffi/mod.rs" <<'RS'
// The raw layer may say unsafe.
pub(crate) unsafe fn raw() {}
RS
	cat >"$t/kernel_ext/mod.rs" <<'RS'
pub(crate) mod a;
pub(crate) mod b;
RS
	cat >"$t/kernel_ext/a.rs" <<'RS'
use super::b::B;
use crate::ffi;
pub(crate) struct Tag(B);
pub(crate) fn safe() {
    // SAFETY: a kernel abstraction.
    unsafe { ffi::raw() }
}
pub(crate) const OWNER: *const u8 = crate::THIS_MODULE.as_ptr();
#[macro_export]
macro_rules! kmac {
    () => {};
}
RS
	cat >"$t/kernel_ext/b.rs" <<'RS'
pub(crate) struct B;
// SAFETY: nothing.
unsafe impl Send for B {}
RS
	cat >"$t/engine/mod.rs" <<'RS'
pub(crate) mod e;
pub(crate) mod f;
use f::F;
RS
	cat >"$t/engine/e.rs" <<'RS'
use super::f::F;
use crate::kernel_ext::a::safe;
// An unsafe word and crate::sources::s::S in a comment do not count,
/* nor crate::fs::Fs in a block comment, */
pub(crate) struct E(F);
pub(crate) fn g() -> &'static str {
    safe();
    let _c = '"';
    "no unsafe { } here, nor crate::sources"
}
RS
	cat >"$t/engine/f.rs" <<'RS'
pub(crate) struct F;
RS
	# Raw strings (no escapes, # delimiters) that mention unsafe and an
	# upper layer, and a group rustfmt wrapped, nested.
	cat >"$t/engine/g.rs" <<'RS'
use crate::kernel_ext::{
    a::{self, safe},
    b::B as Bee,
};
const R: &str = r"C:\";
const H: &str = r#"a "quoted" unsafe { crate::sources::s::S }"#;
const M: &[u8] = br##"
unsafe crate::fs::Fs "# still in
"##;
RS
	# The raw layers may include, relocate and export.
	cat >"$t/ffi/gen.rs" <<'RS'
include!("bindings_generated.rs");
RS
	cat >"$t/kernel_ext/c.rs" <<'RS'
#[no_mangle]
pub(crate) extern "C" fn exported() {}
RS
	cat >"$t/sources/mod.rs" <<'RS'
pub(crate) mod deep;
pub(crate) mod s;
RS
	cat >"$t/sources/s.rs" <<'RS'
use crate::engine::e::{self, E};
use crate::kernel_ext::{a, b::B};
pub(crate) struct S(E, B);
crate::kmac!();
#[macro_export]
macro_rules! smac {
    () => {};
}
RS
	cat >"$t/sources/deep/mod.rs" <<'RS'
pub(crate) mod x;
use super::super::engine::f::F;
RS
	cat >"$t/sources/deep/x.rs" <<'RS'
use super::super::s::S;
RS
}

pass=0
fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() {
	echo "FAIL $1"
	sed 's/^/     | /' "$tmp/out"
	fail=$((fail + 1))
}

# The clean tree passes.
make_tree "$tmp/clean"
if "$check" "$tmp/clean" >"$tmp/out" 2>&1; then
	ok "clean tree passes"
else
	bad "clean tree passes"
fi

# case NAME FILE LINE-TO-APPEND EXPECTED: a copy of the clean tree with LINE
# appended to FILE must fail, with EXPECTED in the report.
case_fails() {
	local name=$1 file=$2 text=$3 want=$4 t=$tmp/case
	rm -rf "$t"
	make_tree "$t"
	mkdir -p "$(dirname "$t/$file")"
	printf '%s\n' "$text" >>"$t/$file"
	if "$check" "$t" >"$tmp/out" 2>&1; then
		bad "$name: passed"
	elif ! grep -qF -- "$want" "$tmp/out"; then
		bad "$name: no \"$want\" in the report"
	else
		ok "$name"
	fi
}

case_fails "unsafe block in the engine" engine/e.rs \
	'fn h() { unsafe { crate::ffi::raw() } }' "src/engine/e.rs:11: unsafe outside"
case_fails "unsafe fn in a source" sources/s.rs \
	'pub(crate) unsafe fn h() {}' "src/sources/s.rs:9: unsafe outside"
case_fails "unsafe impl in fs" fs.rs \
	'unsafe impl Sync for Fs {}' "src/fs.rs:4: unsafe outside"
case_fails "unsafe trait at the root" seqsplice_main.rs \
	'unsafe trait T {}' "src/seqsplice_main.rs:8: unsafe outside"
case_fails "unsafe extern block in a nested source" sources/deep/x.rs \
	'unsafe extern "C" { fn f(); }' "src/sources/deep/x.rs:2: unsafe outside"
case_fails "kernel_ext uses the engine" kernel_ext/a.rs \
	'use crate::engine::e::E;' "src/kernel_ext/a.rs:13: kernel_ext uses crate::engine::e::E"
case_fails "ffi uses kernel_ext" ffi/mod.rs \
	'use crate::kernel_ext::a::Tag;' "src/ffi/mod.rs:3: ffi uses crate::kernel_ext::a::Tag"
case_fails "the engine uses a source in an expression" engine/f.rs \
	'fn h() { let _ = crate::sources::s::S; }' "src/engine/f.rs:2: engine uses crate::sources::s::S"
case_fails "the engine's mod.rs reaches fs by super" engine/mod.rs \
	'use super::fs::Fs;' "src/engine/mod.rs:4: engine uses crate::fs::Fs"
case_fails "a group import names a source" kernel_ext/b.rs \
	'use crate::{ffi, sources::s::S};' "src/kernel_ext/b.rs:4: kernel_ext uses crate::sources::s::S"
case_fails "a source uses fs" sources/deep/x.rs \
	'use crate::fs::Fs;' "src/sources/deep/x.rs:2: sources uses crate::fs::Fs"
case_fails "the engine uses a root item" engine/f.rs \
	'use crate::M;' "src/engine/f.rs:2: engine uses crate::M, of the root layer"
case_fails "kernel_ext uses a source's macro" kernel_ext/b.rs \
	'crate::smac!();' "src/kernel_ext/b.rs:4: kernel_ext uses macro smac! (src/sources/s.rs)"
case_fails "an import circle between two engine files" engine/f.rs \
	'use super::e::g;' "import circle between files:"
case_fails "a file in no layer" stray.rs \
	'pub(crate) fn f() {}' "src/stray.rs:1: in no layer"

case_fails "a raw string ending in a backslash hides no path" engine/f.rs \
	$'const R: &str = r"C:\\";\nuse crate::sources::s::S;' "src/engine/f.rs:3: engine uses crate::sources::s::S"
case_fails "a raw string with # delimiters hides no path" engine/f.rs \
	$'const R: &str = r#"say "hi"#;\nuse crate::sources::s::S;' "src/engine/f.rs:3: engine uses crate::sources::s::S"
case_fails "a group over several lines names a source" kernel_ext/b.rs \
	$'use crate::{\n    ffi,\n    sources::{deep, s::S},\n};' "src/kernel_ext/b.rs:4: kernel_ext uses crate::sources::s::S"
case_fails "an alias of the crate" engine/f.rs \
	'use crate as c;' "src/engine/f.rs:2: an alias of crate"
case_fails "a #[path] module outside the root" engine/f.rs \
	'#[path = "../sources/s.rs"] mod s2;' "src/engine/f.rs:2: #[path] outside"
case_fails "include! outside the root" engine/f.rs \
	'include!("../sources/s.rs");' "src/engine/f.rs:2: include! outside"
case_fails "#[no_mangle] in a source" sources/s.rs \
	'#[no_mangle] pub extern "C" fn f() {}' "src/sources/s.rs:9: #[no_mangle]"
case_fails "#[export_name] in fs" fs.rs \
	'#[export_name = "f"] pub extern "C" fn f() {}' "src/fs.rs:4: #[no_mangle]"
case_fails "#[link_section] in the engine" engine/f.rs \
	'#[link_section = ".data"] static S: u8 = 0;' "src/engine/f.rs:2: #[no_mangle]"

echo "layers self-test: $pass passed, $fail failed"
[ "$fail" = 0 ]
