#!/usr/bin/env bash
# Checks the layers of the module's Rust sources (Documentation/design.rst: "Layers and layout"):
#
#   ffi (src/ffi/) < kernel_ext (src/kernel_ext/) < engine (src/engine/)
#     < sources (src/sources/) < fs/api (src/fs.rs, src/api.rs: the module's
#     interfaces, the filesystem and the exported C API) < root (src/seqsplice_main.rs)
#
# - `unsafe` (a block, fn, impl, trait or extern block) is written only in
#   src/ffi/ and src/kernel_ext/;
# - every path a file names (`crate::x`, `$crate::x`, `super::x`, `self::x`
#   and its own child modules `x::`) leads to its own layer or one below;
#   a `crate::name!` macro is in the layer of the file that defines it, and
#   `crate::THIS_MODULE` (the kernel's per-module constant, which `module!`
#   defines at the root) may be named by any layer;
# - no import circle between files: the file graph of those paths, a file
#   pointing at the file of the longest module prefix it names, has no
#   cycle (`tsort`).
#
# - no `use crate as x;` (an alias of the crate hides the layer a path
#   reaches); no `#[path = ...]` or `include!` outside the root and
#   src/ffi/; no `#[no_mangle]`, `#[export_name]` or `#[link_section]`
#   outside src/ffi/ and src/kernel_ext/.
#
# Comments, strings (raw ones too) and character literals are ignored.
# Groups may nest and span lines (`crate::{\n a,\n b::{c, d},\n};`).
#
#   scripts/check-layers.sh [SRC]   SRC: the source tree (default: src/)
#
# Exits 1 naming file:line of each violation, 0 with a summary.
set -euo pipefail

root_file=seqsplice_main.rs
src=${1:-$(cd "$(dirname "$0")/.." && pwd)/src}
if [ ! -d "$src" ]; then
	echo "check-layers: no such directory: $src" >&2
	exit 2
fi
cd "$src"

mapfile -t files < <(find . -name '*.rs' ! -name bindings_generated.rs | sed 's|^\./||' | LC_ALL=C sort)
if [ "${#files[@]}" -eq 0 ]; then
	echo "check-layers: no .rs file under $src" >&2
	exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Layer number of a top-level name (a folder or file of src/), or of a file.
layer_of_name() {
	case $1 in
	ffi) echo 0 ;;
	kernel_ext) echo 1 ;;
	engine) echo 2 ;;
	sources) echo 3 ;;
	fs | api) echo 4 ;;
	'') echo 5 ;;
	*) echo -1 ;;
	esac
}
layer_names=(ffi kernel_ext engine sources fs/api root)

# The module path of a file, dot-separated ("" for the crate root).
module_of() {
	local p=${1%.rs}
	[ "$1" = "$root_file" ] && { echo ""; return; }
	p=${p%/mod}
	echo "${p//\//.}"
}

modules=""
for f in "${files[@]}"; do
	modules+=" $(module_of "$f")=$f"
done

# One pass over every file: strip comments, strings and char literals,
# then report `unsafe`, macro definitions and every path, made absolute.
#   U <file> <line>            an `unsafe` keyword
#   D <name> <file>            macro_rules! <name>
#   R <file> <line> <path> <m> a path (dot-separated, absolute), m=1 a macro
awk -v modules="$modules" -v root_file="$root_file" '
function modpath(f,   p) {
	if (f == root_file) return ""
	p = f; sub(/\.rs$/, "", p); sub(/\/mod$/, "", p); gsub(/\//, ".", p)
	return p
}
function parent(m) {
	if (m !~ /\./) return ""
	sub(/\.[^.]*$/, "", m)
	return m
}
function join(a, b) { return a == "" ? b : (b == "" ? a : a "." b) }
function emit(abs, mac) {
	if (abs != "") print "R\t" FILENAME "\t" eline "\t" abs "\t" mac
}
# The position in s of the "}" closing the "{" at i, or 0.
function closing(s, i,   d, n, c) {
	d = 0; n = length(s)
	for (; i <= n; i++) {
		c = substr(s, i, 1)
		if (c == "{") d++
		else if (c == "}") { d--; if (d == 0) return i }
	}
	return 0
}
# The flat paths of a path with (possibly nested) groups, "\n"-separated:
# a::{b, c::{d, self}} -> a::b, a::c::d, a::c. An alias ("x as y") keeps x;
# an alias of `crate` itself is reported (X).
function expand(p,   i, j, pre, body, d, k, c, it, outp, r) {
	gsub(/[ \t]+as[ \t]+[A-Za-z_][A-Za-z0-9_]*/, "", p)
	i = index(p, "::{")
	if (i == 0) { gsub(/[ \t]/, "", p); return p }
	pre = substr(p, 1, i - 1); gsub(/[ \t]/, "", pre)
	j = closing(p, i + 2)
	if (j == 0) return pre
	body = substr(p, i + 3, j - i - 3)
	outp = ""; d = 0; it = ""
	for (k = 1; k <= length(body) + 1; k++) {
		c = k <= length(body) ? substr(body, k, 1) : ","
		if (c == "{") d++
		if (c == "}") d--
		if (c == "," && d == 0) {
			gsub(/^[ \t]+|[ \t]+$/, "", it)
			if (it != "") {
				r = (it == "self") ? pre : expand(pre "::" it)
				outp = outp == "" ? r : outp "\n" r
			}
			it = ""
			continue
		}
		it = it c
	}
	return outp
}
# A path as written, "::"-separated, with no group.
function resolve(path, mac,   segs, n, i, base, rest) {
	n = split(path, segs, "::")
	i = 1
	if (segs[1] == "crate" || segs[1] == "$crate") {
		base = ""; i = 2
	} else if (segs[1] == "self") {
		base = cur; i = 2
	} else if (segs[1] == "super") {
		base = cur
		while (i <= n && segs[i] == "super") { base = parent(base); i++ }
	} else if (("." join(cur, segs[1]) "=") in known) {
		base = cur
	} else {
		return
	}
	rest = ""
	for (; i <= n; i++) rest = join(rest, segs[i])
	emit(join(base, rest), mac)
}
# Opening "{"s minus closing ones in s from its first "::{".
function open_groups(s,   i, d, n, c) {
	i = index(s, "::{")
	if (i == 0) return 0
	d = 0; n = length(s)
	for (i += 2; i <= n; i++) {
		c = substr(s, i, 1)
		if (c == "{") d++
		else if (c == "}") d--
	}
	return d
}
function ident(c) { return c ~ /[A-Za-z0-9_]/ }
# The paths of a statement s (comments and strings gone), on line ln.
function paths(s, ln,   p, mac, rest, j, flat, fl, m, q) {
	s = " " s " "; eline = ln
	# `use crate as x;`, `crate::{self as x}`: a name for the crate hides
	# which layer a path reaches.
	if (s ~ /[^A-Za-z0-9_$]crate[ \t]+as[^A-Za-z0-9_]/ || s ~ /[^A-Za-z0-9_$]crate::\{[^}]*[^A-Za-z0-9_]self[ \t]+as[^A-Za-z0-9_]/ || s ~ /[^A-Za-z0-9_:$](super|self)[ \t]+as[^A-Za-z0-9_]/)
		print "X\t" FILENAME "\t" ln "\tan alias of crate (use crate as x) hides the layers"
	while (match(s, /[^A-Za-z0-9_:$]\$?[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*!?/)) {
		p = substr(s, RSTART + 1, RLENGTH - 1)
		s = substr(s, RSTART + RLENGTH)
		mac = 0
		if (p ~ /!$/) { mac = 1; sub(/!$/, "", p) }
		if (!mac && substr(s, 1, 3) == "::{") {
			j = closing(s, 3)
			if (j == 0) j = length(s)
			flat = expand(p substr(s, 1, j))
			s = substr(s, j + 1)
			m = split(flat, fl, "\n")
			for (q = 1; q <= m; q++)
				if (fl[q] ~ /::/) resolve(fl[q], 0)
			continue
		}
		if (p !~ /::/) continue
		resolve(p, mac)
	}
}
BEGIN {
	n = split(modules, mm, " ")
	for (i = 1; i <= n; i++) { split(mm[i], kv, "="); known["." kv[1] "="] = 1 }
}
FNR == 1 { cur = modpath(FILENAME); blk = 0; str = 0; raw = -1; pend = ""; rawok = (FILENAME == root_file || FILENAME ~ /^ffi\//); lowok = (FILENAME ~ /^(ffi|kernel_ext)\//) }
{
	line = $0; out = ""; i = 1; len = length(line)
	while (i <= len) {
		c = substr(line, i, 1); c2 = substr(line, i, 2)
		if (blk) {
			if (c2 == "*/") { blk--; i += 2 } else if (c2 == "/*") { blk++; i += 2 } else i++
			continue
		}
		if (raw >= 0) {
			# A raw string ends at " and its number of #s; nothing escapes.
			if (c == "\"") {
				h = substr(line, i + 1, raw); gsub(/[^#]/, "", h)
				if (length(h) == raw) { raw = -1; out = out "\""; i += 1 + raw_n; continue }
			}
			i++; continue
		}
		if (str) {
			if (c == "\\") { i += 2; continue }
			if (c == "\"") { str = 0; out = out "\"" }
			i++; continue
		}
		if (c2 == "//") break
		if (c2 == "/*") { blk = 1; i += 2; continue }
		if (c == "r" && (i == 1 || !ident(substr(line, i - 1, 1)) || (substr(line, i - 1, 1) == "b" && (i == 2 || !ident(substr(line, i - 2, 1))))) && match(substr(line, i + 1), /^#*"/)) {
			raw = RLENGTH - 1; raw_n = raw
			out = out "\""; i += 1 + RLENGTH; continue
		}
		if (c == "\"") { str = 1; out = out "\""; i++; continue }
		if (c == "\x27") {
			if (substr(line, i + 2, 1) == "\x27") { out = out " "; i += 3; continue }
			if (substr(line, i + 1, 1) == "\\") {
				j = index(substr(line, i + 2), "\x27")
				if (j > 0) { out = out " "; i += 2 + j; continue }
			}
		}
		out = out c; i++
	}
	s = " " out " "
	if (s ~ /[^A-Za-z0-9_]unsafe[^A-Za-z0-9_]/) print "U\t" FILENAME "\t" FNR
	if (match(s, /macro_rules![ \t]*[A-Za-z_][A-Za-z0-9_]*/)) {
		d = substr(s, RSTART, RLENGTH); sub(/macro_rules![ \t]*/, "", d)
		print "D\t" d "\t" FILENAME
	}
	if (!rawok && (s ~ /#!?\[[ \t]*path[^A-Za-z0-9_]/ || s ~ /cfg_attr[ \t]*\(.*[^A-Za-z0-9_]path[ \t]*=/))
		print "X\t" FILENAME "\t" FNR "\t#[path] outside the root and src/ffi/"
	if (!rawok && s ~ /[^A-Za-z0-9_]include[ \t]*!/)
		print "X\t" FILENAME "\t" FNR "\tinclude! outside the root and src/ffi/"
	if (!lowok && s ~ /[^A-Za-z0-9_](no_mangle|export_name|link_section)[^A-Za-z0-9_]/)
		print "X\t" FILENAME "\t" FNR "\t#[no_mangle], #[export_name] or #[link_section] outside src/ffi/ and src/kernel_ext/"
	# A group split over lines (rustfmt wraps long ones) is read whole, at
	# the line it starts on.
	if (pend != "") {
		pend = pend " " out
		if (open_groups(pend) > 0) next
		paths(pend, pendline); pend = ""
		next
	}
	if (open_groups(out) > 0) { pend = out; pendline = FNR; next }
	paths(out, FNR)
}
' "${files[@]}" >"$tmp/facts"

declare -A file_of_module macro_file
for kv in $modules; do
	# (The root, module "", is no prefix of a path.)
	[ -n "${kv%%=*}" ] && file_of_module[${kv%%=*}]=${kv#*=}
done
while IFS=$'\t' read -r _ name file; do
	macro_file[$name]=$file
done < <(grep '^D' "$tmp/facts" || true)

# The layer of a file, or -1.
file_layer() {
	local f=$1
	[ "$f" = "$root_file" ] && { echo 5; return; }
	[ "$f" = fs.rs ] && { echo 4; return; }
	[ "$f" = api.rs ] && { echo 4; return; }
	case $f in
	*/*) layer_of_name "${f%%/*}" ;;
	*) echo -1 ;;
	esac
}

fail=0
nunsafe=0
nrefs=0
declare -A unsafe_in

for f in "${files[@]}"; do
	if [ "$(file_layer "$f")" -lt 0 ]; then
		echo "src/$f:1: in no layer (ffi/, kernel_ext/, engine/, sources/, fs.rs, api.rs, $root_file)"
		fail=1
	fi
done

while IFS=$'\t' read -r _ f line what; do
	echo "src/$f:$line: $what"
	fail=1
done < <(grep '^X' "$tmp/facts" || true)

while IFS=$'\t' read -r _ f line; do
	nunsafe=$((nunsafe + 1))
	unsafe_in[$f]=$((${unsafe_in[$f]:-0} + 1))
	case $f in
	ffi/* | kernel_ext/*) ;;
	*)
		echo "src/$f:$line: unsafe outside src/ffi/ and src/kernel_ext/"
		fail=1
		;;
	esac
done < <(grep '^U' "$tmp/facts" || true)

: >"$tmp/edges"
while IFS=$'\t' read -r _ f line path mac; do
	nrefs=$((nrefs + 1))
	top=${path%%.*}
	fl=$(file_layer "$f")
	if [ "$mac" = 1 ] && [ "$path" = "$top" ] && [ -n "${macro_file[$top]:-}" ]; then
		target=${macro_file[$top]}
		tl=$(file_layer "$target")
		what="macro $top! (src/$target)"
	elif [ "$path" = THIS_MODULE ]; then
		continue
	else
		tl=$(layer_of_name "$top")
		[ "$tl" -lt 0 ] && tl=5
		what="crate::${path//./::}"
		# The file of the longest module prefix of the path.
		target=""
		p=$path
		while [ -n "$p" ]; do
			if [ -n "${file_of_module[$p]:-}" ]; then
				target=${file_of_module[$p]}
				break
			fi
			[ "$p" = "${p%.*}" ] && break
			p=${p%.*}
		done
		[ -z "$target" ] && [ "$tl" = 5 ] && target=$root_file
	fi
	if [ "$tl" -gt "$fl" ] && [ "$fl" -ge 0 ]; then
		echo "src/$f:$line: ${layer_names[$fl]} uses $what, of the ${layer_names[$tl]} layer above it"
		fail=1
	fi
	if [ -n "$target" ] && [ "$target" != "$f" ]; then
		echo "$f $target" >>"$tmp/edges"
	fi
done < <(grep '^R' "$tmp/facts" || true)

sort -u "$tmp/edges" -o "$tmp/edges"
if ! tsort "$tmp/edges" >/dev/null 2>"$tmp/loops"; then
	echo "import circle between files:"
	sed -n 's/^tsort: \([^ ]*\.rs\)$/  src\/\1/p' "$tmp/loops"
	fail=1
fi

if [ "$fail" != 0 ]; then
	echo "check-layers: FAILED"
	exit 1
fi
summary=""
for f in $(printf '%s\n' "${!unsafe_in[@]}" | LC_ALL=C sort); do
	summary+="$f ${unsafe_in[$f]}, "
done
echo "check-layers: ${#files[@]} files, $nrefs paths all pointing down, no import circle"
echo "check-layers: $nunsafe lines with unsafe, all in src/ffi/ and src/kernel_ext/${summary:+: ${summary%, }}"
