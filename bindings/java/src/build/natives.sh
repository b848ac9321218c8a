#!/usr/bin/env bash
# Builds the native libraries for `mvn` in bindings/java: libgr.so.0 (cargo) and libgrjni.so
# (the C compiler), which the jar carries, and the tests' small C library. Maven runs it in
# its generate-resources phase (pom.xml, execution "natives"); it runs the same rules as
# `make java-natives` (bindings/java/java.mk), so the two routes build the same files, and
# fails at once, naming the tool, when one is missing.
#   natives.sh ROOT JAVA_HOME
# ROOT: the gr checkout (bindings/java/../..). JAVA_HOME: the JDK Maven runs on (its JNI
# headers). CARGO and CC choose the tools, as for make.
set -euo pipefail
root=$1
jhome=$2

fail() {
    echo "gr: cannot build the native libraries: $*" >&2
    exit 1
}

need() { # need TOOL WHAT HINT
    command -v "$1" >/dev/null 2>&1 || fail "$2 is missing ('$1' is not on PATH); $3"
}

[ -f "$root/Cargo.toml" ] && [ -f "$root/include/gr.h" ] && [ -f "$root/bindings/java/java.mk" ] \
    || fail "no gr source tree at $root (bindings/java builds inside a checkout of the gr repository)"
need make "GNU make" "install it (Debian: apt-get install make)"
need "${CARGO:-cargo}" "Rust's cargo" "install Rust 1.80 or later (https://rustup.rs) or set CARGO"
need "${CC:-cc}" "a C compiler" "install gcc or clang (Debian: apt-get install gcc) or set CC"
# A JDK 8 reports its jre/ directory as java.home; JDK 9+ its own root.
for d in "$jhome" "$jhome/.."; do
    if [ -f "$d/include/jni.h" ] && [ -d "$d/include/linux" ]; then
        jdk=$(cd "$d" && pwd)
        break
    fi
done
[ -n "${jdk:-}" ] || fail "the JNI headers are missing: no include/jni.h under $jhome (run Maven on a JDK, not a JRE)"

# java.mk's JDK17 names the JDK whose headers compile the glue; any JDK 8+ serves.
exec make -C "$root" --no-print-directory java-natives JDK17="$jdk" ${CC:+CC="$CC"} ${CARGO:+CARGO="$CARGO"}
