#!/usr/bin/env bash
# make test-install: gr installed and consumed the ways C projects do, checked as a user would.
#   layout     make install PREFIX=build/prefix: libgr.so.X.Y.Z with the links libgr.so.0 and
#              libgr.so; stripped, its debug info beside it (gdb finds it); no ldconfig for a
#              private prefix
#   static     libgr.a's global symbols are exactly libgr.so's gr_* exports (nm), and it links
#              beside another Rust static library
#   pkg-config gr.pc and gr-static.pc consumers build and run
#   cmake      a find_package(gr CONFIG) project links gr::gr and gr::gr_static and runs
#   man        man gr_chan_send with MANPATH=build/prefix/share/man; a page per function
#   staging    make install DESTDIR=... PREFIX=/usr/local (no ldconfig), make uninstall
# Every consumer checks that gr_version(), gr.h and its build system agree on the version.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/tests/install
: "${GR_VERSION:?set by the Makefile (mk/version.mk)}"
make=${MAKE:-make}
cc=${CC:-gcc}
out=$root/build/install-test
prefix=$root/build/prefix
lib=$prefix/lib
real=libgr.so.$GR_VERSION
rm -rf "$out" "$prefix"
mkdir -p "$out"
pass=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
fail() { echo "FAIL $*"; echo "install: $pass passed, 1 failed"; exit 1; }
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

# layout
"$make" -C "$root" --no-print-directory install PREFIX="$prefix" > "$out/install.log" 2>&1 ||
  { cat "$out/install.log"; fail "make install PREFIX=$prefix"; }
if grep -q ldconfig "$out/install.log"; then fail "ldconfig ran for the private prefix $prefix"; fi
[ -f "$lib/$real" ] && [ ! -L "$lib/$real" ] || fail "$lib/$real is not a file"
[ "$(readlink "$lib/libgr.so.0")" = "$real" ] || fail "libgr.so.0 does not link to $real"
[ "$(readlink "$lib/libgr.so")" = libgr.so.0 ] || fail "libgr.so does not link to libgr.so.0"
soname=$(readelf -d "$lib/$real" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libgr.so.0 ] || fail "soname $soname"
if readelf -S "$lib/$real" | grep -q '\.debug_info'; then fail "$real is not stripped"; fi
debug=$lib/.debug/$real.debug
readelf -S "$debug" | grep -q '\.debug_info' || fail "$debug has no debug info"
readelf --string-dump=.gnu_debuglink "$lib/$real" | grep -q "$real.debug" || fail "no .gnu_debuglink"
buildid() { readelf -n "$1" | sed -n 's/.*Build ID: //p'; }
[ -n "$(buildid "$lib/$real")" ] && [ "$(buildid "$lib/$real")" = "$(buildid "$debug")" ] ||
  fail "build ids of $real and its debug file differ"
line=$(gdb -nx -batch -ex 'info line gr_chan_send' "$lib/$real" 2>&1 | grep -o 'Line [0-9]* of "[^"]*"' || true)
[ -n "$line" ] || fail "gdb found no line info for gr_chan_send in the stripped $real"
ok "layout: $real ($(stat -c %s "$lib/$real") bytes stripped) <- libgr.so.0 <- libgr.so;" \
   "debug info in .debug/ ($(stat -c %s "$debug") bytes; gdb: gr_chan_send is $line)"

# static
nm -D --defined-only "$lib/$real" | awk '$3 ~ /^gr_/ { print $3 }' | sort > "$out/api.txt"
nm -g --defined-only "$lib/libgr.a" 2> "$out/nm.err" | awk 'NF == 3 { print $3 }' | sort > "$out/static.txt"
[ ! -s "$out/nm.err" ] || { cat "$out/nm.err"; fail "nm could not read libgr.a"; }
diff -u "$out/api.txt" "$out/static.txt" > "$out/static.diff" ||
  { cat "$out/static.diff"; fail "libgr.a's global symbols are not libgr.so's gr_* exports"; }
rustc --edition 2021 --crate-type staticlib -C opt-level=2 -C lto=fat -C panic=unwind -o "$out/libother.a" \
  "$here/other.rs" 2> "$out/rustc.log" || { cat "$out/rustc.log"; fail "rustc other.rs"; }
"$cc" -O2 -I"$prefix/include" -o "$out/two_rust_libs" "$here/two_rust_libs.c" "$lib/libgr.a" \
  "$out/libother.a" -lpthread -ldl -lm 2> "$out/link.log" || { cat "$out/link.log"; fail "linking libgr.a + libother.a"; }
"$out/two_rust_libs" > "$out/two_rust_libs.out" 2>&1 || { cat "$out/two_rust_libs.out"; fail "two_rust_libs"; }
ok "static: libgr.a defines $(wc -l < "$out/static.txt") global symbols, all gr_* and the same as" \
   "libgr.so's exports (nm); it links and runs beside another Rust staticlib"

# pkg-config
export PKG_CONFIG_PATH=$lib/pkgconfig
for pc in gr gr-static; do
  v=$(pkg-config --modversion $pc)
  [ "$v" = "$GR_VERSION" ] || fail "pkg-config --modversion $pc: $v, Cargo.toml: $GR_VERSION"
  # shellcheck disable=SC2046
  "$cc" -O2 -Wall -Werror -std=c11 -DGR_EXPECTED_VERSION="\"$v\"" -o "$out/pc-$pc" "$here/consumer.c" \
    $(pkg-config --cflags --libs $pc) -Wl,-rpath,"$lib" || fail "cc consumer.c \$(pkg-config --libs $pc)"
  "$out/pc-$pc" > "$out/pc-$pc.out" || fail "consumer linked through $pc.pc"
done
needed "$out/pc-gr" | grep -qx libgr.so.0 || fail "the gr.pc consumer does not use libgr.so.0"
if needed "$out/pc-gr-static" | grep -q libgr; then fail "the gr-static.pc consumer needs libgr.so"; fi
ok "pkg-config: gr.pc and gr-static.pc say $GR_VERSION; their consumers run (shared: NEEDED libgr.so.0;" \
   "static: no libgr.so)"

# cmake
cmake -S "$here/cmake" -B "$out/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DGR_EXPECTED_VERSION="$GR_VERSION" \
  -DCMAKE_BUILD_TYPE=Release > "$out/cmake.log" 2>&1 || { cat "$out/cmake.log"; fail "cmake configure"; }
cmake --build "$out/cmake" >> "$out/cmake.log" 2>&1 || { cat "$out/cmake.log"; fail "cmake --build"; }
for t in shared static; do
  "$out/cmake/consumer_$t" > "$out/cmake-$t.out" || fail "the CMake consumer linked with gr::gr_$t"
done
needed "$out/cmake/consumer_shared" | grep -qx libgr.so.0 || fail "gr::gr does not link libgr.so.0"
if needed "$out/cmake/consumer_static" | grep -q libgr; then fail "gr::gr_static needs libgr.so"; fi
ok "cmake: find_package(gr $GR_VERSION EXACT CONFIG) finds $(grep -o 'gr [0-9.]* from .*' "$out/cmake.log" | head -1);" \
   "gr::gr and gr::gr_static consumers run; other majors and newer minors are refused"

# man
export MANPATH=$prefix/share/man
[ "$(man -w gr_chan_send)" = "$MANPATH/man3/gr_chan_send.3" ] || fail "man -w gr_chan_send: $(man -w gr_chan_send)"
MANWIDTH=200 man -P cat gr_chan_send 2> /dev/null |
  grep -qF 'int gr_chan_send(struct gr_chan *ch, const void *elem, int64_t timeout_ns);' ||
  fail "man gr_chan_send shows no synopsis"
missing=$(while read -r f; do [ -f "$MANPATH/man3/$f.3" ] || echo "$f"; done < "$out/api.txt")
[ -z "$missing" ] || fail "no man page for: $missing"
man -w gr > /dev/null || fail "no gr(3)"
ok "man: gr_chan_send(3) and $(ls "$MANPATH/man3" | wc -l) pages in all (gr(3), every function and type)"
unset MANPATH

# staging
stage=$out/stage
"$make" -C "$root" --no-print-directory install DESTDIR="$stage" PREFIX=/usr/local > "$out/stage.log" 2>&1 ||
  { cat "$out/stage.log"; fail "make install DESTDIR=$stage"; }
if grep -q ldconfig "$out/stage.log"; then fail "ldconfig ran for a DESTDIR install"; fi
[ -f "$stage/usr/local/lib/$real" ] || fail "DESTDIR install: no $stage/usr/local/lib/$real"
grep -qx 'prefix=/usr/local' "$stage/usr/local/lib/pkgconfig/gr.pc" || fail "DESTDIR leaked into gr.pc"
"$root/mk/install/ldconfig.sh" --check /usr/lib || fail "ldconfig.sh would not run ldconfig for /usr/lib"
if "$root/mk/install/ldconfig.sh" --check "$lib"; then fail "ldconfig.sh would run ldconfig for $lib"; fi
"$make" -C "$root" --no-print-directory uninstall DESTDIR="$stage" PREFIX=/usr/local > "$out/uninstall.log" 2>&1 ||
  { cat "$out/uninstall.log"; fail "make uninstall"; }
left=$(find "$stage" -type f -o -type l)
[ -z "$left" ] || fail "make uninstall left: $left"
ok "staging: DESTDIR install into /usr/local runs no ldconfig (a /usr/lib install would); make uninstall" \
   "removes every file"

echo "install: $pass passed, 0 failed"
