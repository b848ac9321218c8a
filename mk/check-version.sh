#!/usr/bin/env bash
# make check-version: every place gr's version shows up agrees with Cargo.toml's (GR_VERSION).
# Usage: check-version.sh PREFIX PYTHON JAR, where PREFIX holds a `make install`, PYTHON's
# venv the pip-installed wheel, and JAR the built jar.
set -euo pipefail
prefix=$1 py=$2 jar=$3
root=$(cd "$(dirname "$0")/.." && pwd)
: "${GR_VERSION:?set by the Makefile (mk/version.mk)}"
out=$root/build/version
mkdir -p "$out"
rows=()
bad=0
row() {  # what, version
  local mark=ok
  if [ "$2" != "$GR_VERSION" ]; then mark=DIFF; bad=1; fi
  rows+=("$(printf '  %-4s %-44s %s' "$mark" "$1" "$2")")
}
row "include/gr.h GR_VERSION_STRING" "$(sed -n 's/^#define GR_VERSION_STRING "\(.*\)"$/\1/p' "$root/include/gr.h")"
printf '#include <stdio.h>\n#include <gr.h>\nint main(void) { puts(gr_version()); return 0; }\n' > "$out/v.c"
${CC:-gcc} -I"$root/include" -o "$out/v" "$out/v.c" -L"$root/build/lib" -lgr -Wl,-rpath,"$root/build/lib"
row "gr_version() of build/lib/libgr.so.0" "$("$out/v")"
row "installed real name" "$(basename "$(readlink -f "$prefix/lib/libgr.so.0")" | sed 's/^libgr\.so\.//')"
for pc in gr gr-static; do
  row "$pc.pc" "$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --modversion $pc)"
done
printf 'include("%s")\nmessage("${PACKAGE_VERSION}")\n' "$prefix/lib/cmake/gr/grConfigVersion.cmake" > "$out/v.cmake"
row "grConfigVersion.cmake" "$(cmake -P "$out/v.cmake" 2>&1)"
row "man pages (gr(3) footer)" "$(sed -n 's/^\.TH GR 3 "" "gr \([^"]*\)".*/\1/p' "$prefix/share/man/man3/gr.3")"
row "wheel (pip-installed goroutines)" "$(cd / && "$py" -c 'import importlib.metadata as m; print(m.version("goroutines"))')"
row "goroutines.version() (the wheel's libgr)" "$(cd / && "$py" -c 'import goroutines; print(goroutines.version())')"
row "bindings/java/pom.xml" "$(sed -n 's|^  <version>\(.*\)</version>$|\1|p' "$root/bindings/java/pom.xml" | head -n 1)"
row "jar (META-INF/maven/io.gr/gr/pom.properties)" \
  "$(unzip -p "$jar" META-INF/maven/io.gr/gr/pom.properties | sed -n 's/^version=//p')"
echo "version $GR_VERSION (Cargo.toml [workspace.package]):"
printf '%s\n' "${rows[@]}"
if [ $bad = 1 ]; then echo "check-version: versions differ (make version rewrites the derived literals)"; exit 1; fi
echo "check-version: all ${#rows[@]} agree"
