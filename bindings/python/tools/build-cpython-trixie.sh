#!/usr/bin/env bash
# Builds CPython 3.13 from Debian trixie's source package (python3.13), for
# `make test-python-versions`. Usage: build-cpython-trixie.sh OUTDIR
# Result: OUTDIR/prefix/bin/python3.13 (shared libpython, RUNPATH to its own lib).
# The deb-src entry reuses the mirror this machine's apt already uses for Debian.
set -euo pipefail
out=$(realpath -m "$1")
mkdir -p "$out"
cd "$out"

if ! ls python3.13_*.dsc >/dev/null 2>&1; then
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list)
  list=/etc/apt/sources.list.d/gr-trixie-src.sources
  printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" > "$list"
  apt-get update -qq -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0
  # Build dependencies of the modules the suite uses (ctypes, sqlite3, ssl for pip, ...).
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential dpkg-dev libffi-dev \
    libsqlite3-dev libssl-dev zlib1g-dev libbz2-dev liblzma-dev libreadline-dev \
    libncurses-dev uuid-dev libexpat1-dev patchelf >/dev/null
  apt-get source --download-only python3.13
fi
rm -rf src
dpkg-source --no-check -x python3.13_*.dsc src >/dev/null
cd src
./configure --quiet --prefix="$out/prefix" --enable-shared --with-ensurepip=no
make -j"$(nproc)" -s >/dev/null
make -s install >/dev/null
# Debian's build drops the configure-time rpath; point the binary at its own libpython.
patchelf --set-rpath '$ORIGIN/../lib' "$out/prefix/bin/python3.13"
# Debian disables ensurepip outside venvs; venvs (python -m venv) still get pip.
"$out/prefix/bin/python3.13" -c 'import sys, ctypes, sqlite3, ssl; print(sys.version)'
