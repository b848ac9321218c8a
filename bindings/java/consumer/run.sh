#!/usr/bin/env bash
# `make test-java-consumer` (bindings/java/java.mk): the Maven route a user takes, checked end
# to end. Issue 17, item 2.
#  1. src/build/natives.sh fails at once, naming the tool, when cargo or the C compiler is
#     missing.
#  2. `mvn install` in bindings/java builds the natives itself (natives.sh) and installs the
#     jar, its sources and javadoc jars and its pom; the jar carries both libraries, its
#     manifest Automatic-Module-Name io.gr and Enable-Native-Access.
#  3. This separate project depends on the installed jar: its JUnit test runs, and its
#     executable jar runs on JDK 17 and, with no warning, on the second JDK (the manifest's
#     Enable-Native-Access).
# Environment: ROOT, JDK17, JDK2 (may be absent), MVN, M2 (Maven's local repository for this
# run: the jar installed there is this checkout's), GR_VERSION.
set -euo pipefail
: "${ROOT:?}" "${JDK17:?}" "${JDK2:=}" "${MVN:=mvn}" "${M2:?}" "${GR_VERSION:?}"
java_dir=$ROOT/bindings/java
here=$java_dir/consumer
decolor() { sed -u 's/\x1b\[[0-9;]*m//g'; }
fail() { echo "test-java-consumer: $*" >&2; exit 1; }
mvn_() { JAVA_HOME=$JDK17 "$MVN" -q -B -Dstyle.color=never -Dmaven.repo.local="$M2" "$@" 2>&1 | decolor; }

# Maven's local repository of this run, seeded with hard links from ~/.m2 (plugins already
# downloaded), never with another checkout's io.gr.
if [ ! -d "$M2" ]; then
    mkdir -p "$(dirname "$M2")"
    if [ -d "$HOME/.m2/repository" ]; then
        cp -al "$HOME/.m2/repository" "$M2" 2>/dev/null || cp -a "$HOME/.m2/repository" "$M2"
    fi
fi
rm -rf "$M2/io/gr"

echo "  natives.sh without cargo, without a C compiler: fails at once, naming it"
for t in "CARGO=gr-no-such-cargo:cargo is missing" "CC=gr-no-such-cc:a C compiler is missing"; do
    set +e
    out=$(env "${t%%:*}" bash "$java_dir/src/build/natives.sh" "$ROOT" "$JDK17" 2>&1)
    st=$?
    set -e
    [ $st -ne 0 ] && grep -q "${t#*:}" <<<"$out" || fail "natives.sh with ${t%%:*}: status $st, output: $out"
done

echo "  MVN install bindings/java (natives by Maven, sources and javadoc jars)"
(cd "$java_dir" && mvn_ -DskipTests install) || fail "mvn install failed"
d=$M2/io/gr/gr/$GR_VERSION
for f in "gr-$GR_VERSION.jar" "gr-$GR_VERSION-sources.jar" "gr-$GR_VERSION-javadoc.jar" "gr-$GR_VERSION.pom"; do
    [ -s "$d/$f" ] || fail "not installed: $d/$f"
done
jar=$d/gr-$GR_VERSION.jar
listing=$(unzip -l "$jar")
for f in io/gr/native/linux-x86_64/libgr.so.0 io/gr/native/linux-x86_64/libgrjni.so io/gr/Goroutines.class; do
    grep -q " $f\$" <<<"$listing" || fail "$jar lacks $f"
done
# (Listings into variables: with pipefail, `unzip | grep -q` fails when grep stops early.)
listing=$(unzip -l "$d/gr-$GR_VERSION-sources.jar")
grep -q " io/gr/Goroutines.java\$" <<<"$listing" || fail "no sources in the sources jar"
! grep -q "\.so" <<<"$listing" || fail "the sources jar carries the native libraries"
listing=$(unzip -l "$d/gr-$GR_VERSION-javadoc.jar")
grep -q " io/gr/Goroutines.html\$" <<<"$listing" || fail "no javadoc in the javadoc jar"
manifest=$(unzip -p "$jar" META-INF/MANIFEST.MF | tr -d '\r')
for e in "Automatic-Module-Name: io.gr" "Enable-Native-Access: ALL-UNNAMED"; do
    grep -qx "$e" <<<"$manifest" || fail "the manifest lacks '$e'"
done
desc=$("$JDK17/bin/jar" --describe-module --file="$jar")
grep -q "^io.gr.*automatic" <<<"$desc" || fail "jar --describe-module does not name io.gr: $desc"

echo "  MVN package bindings/java/consumer (its test runs on the installed jar)"
(cd "$here" && mvn_ -Dgr.version="$GR_VERSION" package) || fail "the consumer project failed"
out=$("$JDK17/bin/java" -jar "$here/target/gr-consumer.jar" 2>&1) || fail "java -jar (JDK 17): $out"
grep -q "sum=5050 ok" <<<"$out" || fail "java -jar (JDK 17): $out"
if [ -x "$JDK2/bin/java" ]; then
    out=$("$JDK2/bin/java" -jar "$here/target/gr-consumer.jar" 2>&1) || fail "java -jar ($JDK2): $out"
    grep -q "sum=5050 ok" <<<"$out" || fail "java -jar ($JDK2): $out"
    ! grep -qi "restricted method\|native access" <<<"$out" || fail "java -jar ($JDK2) warned: $out"
    # The same from the class path: the JDK warns unless given the option (JEP 472), which is
    # why the README asks for it; and io.gr as a named (automatic) module on the module path.
    cp_=$here/target/gr-consumer.jar:$here/target/lib/gr-$GR_VERSION.jar
    out=$("$JDK2/bin/java" -cp "$cp_" example.Main 2>&1) || fail "java -cp ($JDK2): $out"
    grep -qi "restricted method" <<<"$out" || echo "  note: $JDK2 did not warn without native access"
    out=$("$JDK2/bin/java" --enable-native-access=ALL-UNNAMED -cp "$cp_" example.Main 2>&1) || fail "$out"
    ! grep -qi "restricted method" <<<"$out" || fail "java --enable-native-access=ALL-UNNAMED ($JDK2) warned: $out"
    out=$("$JDK2/bin/java" --module-path "$here/target/lib/gr-$GR_VERSION.jar" --add-modules io.gr \
        --enable-native-access=io.gr -cp "$here/target/gr-consumer.jar" example.Main 2>&1) || fail "module path: $out"
    grep -q "sum=5050 ok" <<<"$out" && ! grep -qi "restricted method" <<<"$out" || fail "io.gr on the module path ($JDK2): $out"
else
    echo "  SKIPPED the second JDK: no $JDK2/bin/java"
fi
echo "  ok: installed jar used from a separate project"
