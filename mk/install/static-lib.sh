#!/usr/bin/env bash
# Usage: static-lib.sh CARGO_STATICLIB CARGO_CDYLIB OUT
# Makes libgr.a safe to link beside other Rust (or C) static libraries: cargo's staticlib
# carries the whole Rust standard library, compiler-builtins and our dependencies as global
# symbols (memcpy-style builtins, rust_eh_personality, std's mangled names), which clash
# with another Rust staticlib's copies or override the C program's own. Here the archive's
# objects are linked into one relocatable object (ld -r), keeping only what the exported
# functions reach (--gc-sections rooted at them), and every symbol but the gr_* API is made
# local (objcopy --keep-global-symbols), so the archive exports exactly what libgr.so.0 does,
# and links beside other Rust static libraries (tests/install/two_rust_libs.c).
# The LLVM bitcode rustc embeds for cross-language LTO (.llvmbc) is dropped: binutils' LTO
# plugin cannot read it (nm reports "no symbols") and C linkers have no use for it.
set -euo pipefail
in=$1 so=$2 out=$3
tmp=$(mktemp -d "${out}.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# The API: what the shared library exports (every #[no_mangle] extern "C" fn of ffi/).
nm -D --defined-only "$so" | awk '$3 ~ /^gr_/ { print $3 }' | sort > "$tmp/api.txt"
if [ ! -s "$tmp/api.txt" ]; then echo "static-lib.sh: no gr_* exports in $so" >&2; exit 1; fi
objcopy --remove-section=.llvmbc --remove-section=.llvmcmd "$in" "$tmp/in.a"
ld -r --gc-sections $(sed 's/^/--undefined=/' "$tmp/api.txt") -o "$tmp/gr.o" \
  --whole-archive "$tmp/in.a" --no-whole-archive
# COMDAT groups are deduplicated by their signature's name, local or not: another Rust
# library's DW.ref.rust_eh_personality group would be dropped for ours (leaving its references
# undefined), so our groups get names of their own.
renames=$(readelf -gW "$tmp/gr.o" | sed -n "s/^COMDAT group section .*\[\(.*\)\] contains.*/--redefine-sym=\1=gr.\1/p")
# shellcheck disable=SC2086
objcopy --keep-global-symbols="$tmp/api.txt" $renames "$tmp/gr.o" "$tmp/libgr.o"
# The proof: the archive's global definitions are exactly the shared library's exports.
nm -g --defined-only "$tmp/libgr.o" | awk 'NF == 3 { print $3 }' | sort > "$tmp/globals.txt"
if ! diff -u "$tmp/api.txt" "$tmp/globals.txt" >&2; then
  echo "static-lib.sh: libgr.a's global symbols differ from libgr.so's gr_* exports" >&2; exit 1
fi
rm -f "$tmp/out.a"
ar rcsD "$tmp/out.a" "$tmp/libgr.o"
if ! cmp -s "$tmp/out.a" "$out"; then mv -f "$tmp/out.a" "$out"; fi
