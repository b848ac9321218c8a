#!/usr/bin/env bash
# make test-python-packaging: the Python package installed the ways users install it.
#   pip    a fresh venv, then `pip install ./bindings/python`: pip's own isolated build (maturin
#          from PyPI), whose build.rs builds libgr.so.0 with cargo from core/ and ffi/
#   build  `python -m build`: an sdist, which must carry core/, ffi/ and the workspace files,
#          then a wheel built from that sdist alone
#   wheel  tagged manylinux and `auditwheel show` agrees; libgr.so.0 sits beside the extension
#          under that name, found through RUNPATH $ORIGIN; `auditwheel repair` keeps it so
# Each install runs tests/check_install.py in a fresh venv: import, versions (wheel,
# gr_version(), Cargo.toml), and one runtime shared with a C library linked with -lgr.
# Usage: packaging.sh PYTHON (the interpreter to make venvs with; its venv holds auditwheel)
set -euo pipefail
py=$1
pyb=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$pyb/../.." && pwd)
out=$root/build/python/packaging
: "${GR_VERSION:?set by the Makefile (mk/version.mk)}" "${GR_PYTEST_LIB:?}"
pass=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
fail() { echo "FAIL $*"; echo "python packaging: $pass passed, 1 failed"; exit 1; }
mkdir -p "$out"
fresh_venv() { rm -rf "$1"; "$py" -m venv "$1"; "$1/bin/python" -m pip install --quiet --upgrade pip; }

# pip install ./bindings/python in a fresh venv
fresh_venv "$out/venv-pip"
(cd "$root" && "$out/venv-pip/bin/python" -m pip install --quiet ./bindings/python) > "$out/pip.log" 2>&1 ||
  { tail -40 "$out/pip.log"; fail "pip install ./bindings/python"; }
(cd / && "$out/venv-pip/bin/python" "$pyb/tests/check_install.py") || fail "the pip-installed package"
ok "pip install ./bindings/python in a fresh venv: libgr.so.0 built by the package's build.rs"

# python -m build: the sdist, then a wheel built from the sdist alone (in a temporary
# directory). maturin's PEP 517 backend tags wheels `linux` unless asked for a portable tag;
# --compatibility pypi lets its audit choose the manylinux policy.
rm -rf "$out/dist"
# The build's cargo target dir is kept between runs (speed), keyed by the sources it builds:
# the sdist's files keep their old mtimes, so cargo could take a libgr built from older sources
# for current (a stale libgr lacking newer gr_* symbols); other sources, another cache.
src_key=$(cd "$root" && find Cargo.toml Cargo.lock core ffi bindings/python/src bindings/python/Cargo.toml \
  bindings/python/build.rs -type f -not -path '*/target/*' | LC_ALL=C sort | xargs cat | sha1sum | cut -c1-16)
if [ "$(cat "$out/build-target/.src-key" 2>/dev/null)" != "$src_key" ]; then
  rm -rf "$out/build-target" && mkdir -p "$out/build-target" && echo "$src_key" > "$out/build-target/.src-key"
fi
CARGO_TARGET_DIR=$out/build-target "$py" -m build --outdir "$out/dist" \
  -C maturin.build-args="--compatibility pypi" "$pyb" > "$out/build.log" 2>&1 ||
  { tail -40 "$out/build.log"; fail "python -m build"; }
sdist=$out/dist/goroutines-$GR_VERSION.tar.gz
[ -f "$sdist" ] || fail "no $sdist"
tar tzf "$sdist" > "$out/sdist.txt"
for f in Cargo.toml Cargo.lock core/src/lib.rs ffi/src/lib.rs ffi/build.rs bindings/python/build.rs \
         python/goroutines/__init__.pyi pyproject.toml; do
  grep -qx "goroutines-$GR_VERSION/$f" "$out/sdist.txt" || fail "the sdist lacks $f"
done
if grep -q '\.so' "$out/sdist.txt"; then fail "the sdist carries a binary: $(grep '\.so' "$out/sdist.txt")"; fi
wheel=$(ls "$out"/dist/goroutines-"$GR_VERSION"-*.whl)
ok "python -m build: an sdist of $(wc -l < "$out/sdist.txt") files (core/, ffi/ and the workspace" \
   "included) and a wheel built from it alone"

# the wheel: manylinux, libgr.so.0 kept
tag=$(basename "$wheel" .whl | awk -F- '{ print $NF }')
case $tag in manylinux_*) ;; *) fail "wheel tag $tag is not manylinux";; esac
aw=$(dirname "$py")/auditwheel
"$aw" show "$wheel" > "$out/auditwheel.txt" 2>&1 || { cat "$out/auditwheel.txt"; fail "auditwheel show"; }
tr '\n' ' ' < "$out/auditwheel.txt" | grep -q "consistent with the following platform tag: *\"$tag\"" ||
  { cat "$out/auditwheel.txt"; fail "auditwheel show does not confirm $tag"; }
rm -rf "$out/whl" && mkdir -p "$out/whl" && (cd "$out/whl" && "$py" -m zipfile -e "$wheel" .)
ext=$(ls "$out"/whl/goroutines/_goroutines.*.so)
readelf -d "$ext" | grep -q 'NEEDED.*\[libgr\.so\.0\]' || fail "the extension does not need libgr.so.0"
readelf -d "$ext" | grep -q 'RUNPATH.*\[\$ORIGIN\]' || fail "the extension's RUNPATH is not \$ORIGIN"
readelf -d "$out/whl/goroutines/libgr.so.0" | grep -q 'SONAME.*\[libgr\.so\.0\]' || fail "libgr.so.0's soname"
rm -rf "$out/repaired"
PATH=$(dirname "$py"):$PATH "$aw" repair --wheel-dir "$out/repaired" "$wheel" > "$out/repair.log" 2>&1 ||
  { cat "$out/repair.log"; fail "auditwheel repair"; }
"$py" -m zipfile -l "$out"/repaired/*.whl > "$out/repaired.txt"
grep -q '^goroutines/libgr\.so\.0 ' "$out/repaired.txt" && ! grep -q '\.libs/' "$out/repaired.txt" ||
  { cat "$out/repaired.txt"; fail "auditwheel repair renamed or moved libgr.so.0"; }
ok "wheel $(basename "$wheel"): auditwheel show confirms $tag; libgr.so.0 beside the extension" \
   "(NEEDED libgr.so.0, RUNPATH \$ORIGIN), and auditwheel repair keeps it so"

fresh_venv "$out/venv-wheel"
"$out/venv-wheel/bin/python" -m pip install --quiet "$wheel" || fail "pip install $(basename "$wheel")"
(cd / && "$out/venv-wheel/bin/python" "$pyb/tests/check_install.py") || fail "the wheel built from the sdist"
ok "the sdist's wheel installs into a fresh venv and works"
echo "python packaging: $pass passed, 0 failed"
