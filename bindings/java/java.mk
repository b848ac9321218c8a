# Java binding (bindings/java): JNI glue, the jar, its tests on two JDKs, and the examples.
# Included by the top Makefile; uses ROOT, BUILD, LIBDIR, CC.
#   make java-jar    build/java/gr.jar (carries libgr.so.0 and libgrjni.so)
#   make test-java   the JUnit suite under -Xcheck:jni on JDK 17 and on the second JDK
#   make demo-java   examples/java
#   make test-java-consumer  `mvn install` as a user runs it (natives built by Maven), then a
#                    separate Maven project (bindings/java/consumer) on the installed jar
JAVA_DIR      := $(ROOT)/bindings/java
JAVA_BUILD    := $(BUILD)/java
JAVA_NATDIR   := $(JAVA_BUILD)/native
JAVA_RES      := $(JAVA_NATDIR)/io/gr/native/linux-x86_64
JAVA_TESTLIB  := $(JAVA_BUILD)/test/libgrtest.so
JAVA_JAR      := $(JAVA_BUILD)/gr.jar
GR_INCLUDE    ?= $(ROOT)/include
JDK17         ?= /usr/lib/jvm/java-17-openjdk-amd64
JDK2          ?= /usr/lib/jvm/temurin-25-jdk-amd64
JAVA_LIB_DEP  ?= lib
MVN           ?= mvn
# gr.natives.skip: make has built the natives (java-natives); Maven alone builds them itself
# (src/build/natives.sh, which runs the same rules).
JAVA_MVN      := cd $(JAVA_DIR) && JAVA_HOME=$(JDK17) $(MVN) -q -B -Dstyle.color=never -Dgr.natives.skip=true \
                 -Dgr.native.dir=$(JAVA_NATDIR) -Dgr.test.lib=$(JAVA_TESTLIB) \
                 -Dgr.test.libgr=$(LIBDIR)/libgr.so.0 -Dgr.test.header=$(GR_INCLUDE)/gr.h
# Debian's Maven prints colour resets even in batch mode; strip them, keep mvn's status.
JAVA_DECOLOR  := sed -u 's/\x1b\[[0-9;]*m//g'
JAVA_CFLAGS   := -O2 -g -fPIC -std=c11 -Wall -Wextra -Werror -I$(JDK17)/include \
                 -I$(JDK17)/include/linux -I$(GR_INCLUDE) -I$(JAVA_DIR)/src/main/c
JAVA_SUBMAKE   = $(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST))
JAVA_SRCS     := $(shell find $(JAVA_DIR)/src/main/java -name '*.java' 2>/dev/null)
# The JNI glue, one file per area of io.gr.Native (src/main/c/glue.h lists them).
JAVA_GLUE     := $(sort $(wildcard $(JAVA_DIR)/src/main/c/*.c))

TEST_TARGETS += test-java test-java-consumer
DEMO_TARGETS += demo-java

.PHONY: java-natives java-jar test-java test-java-17 test-java-2 javadoc-java demo-java test-java-consumer

$(JAVA_RES)/libgr.so.0: $(LIBDIR)/libgr.so.0
	@mkdir -p $(@D)
	cp -f $< $@

# $ORIGIN: the loader extracts both libraries into one directory.
$(JAVA_RES)/libgrjni.so: $(JAVA_GLUE) $(wildcard $(JAVA_DIR)/src/main/c/*.h) \
                         $(GR_INCLUDE)/gr.h $(LIBDIR)/libgr.so.0
	@mkdir -p $(@D)
	$(CC) $(JAVA_CFLAGS) -fvisibility=hidden -shared -o $@ $(JAVA_GLUE) -L$(LIBDIR) -lgr \
	  -Wl,-rpath,'$$ORIGIN' -Wl,--no-undefined

# No rpath on purpose: at run time its libgr.so.0 must be the one the jar already loaded.
$(JAVA_TESTLIB): $(JAVA_DIR)/src/test/c/grtest.c $(JAVA_DIR)/src/main/c/grjni.h $(GR_INCLUDE)/gr.h \
                 $(LIBDIR)/libgr.so.0
	@mkdir -p $(@D)
	$(CC) $(JAVA_CFLAGS) -shared -o $@ $< -L$(LIBDIR) -lgr

java-natives: $(JAVA_LIB_DEP)
	@$(JAVA_SUBMAKE) $(JAVA_RES)/libgr.so.0 $(JAVA_RES)/libgrjni.so $(JAVA_TESTLIB)

$(JAVA_JAR): $(JAVA_RES)/libgr.so.0 $(JAVA_RES)/libgrjni.so $(JAVA_SRCS) $(JAVA_DIR)/pom.xml
	@echo "  MVN package -> $@"
	@set -o pipefail; $(JAVA_MVN) -DskipTests -Dmaven.source.skip=true -Dmaven.javadoc.skip=true package 2>&1 | $(JAVA_DECOLOR)
	cp -f $(JAVA_DIR)/target/gr-$(GR_VERSION).jar $@

java-jar: java-natives
	@$(JAVA_SUBMAKE) $(JAVA_JAR)

# -Xcheck:jni prints its complaints instead of failing; any of them fails the suite.
JAVA_JNI_CHECK = if grep -rl "WARNING in native method\|FATAL ERROR in native method" \
	  $(JAVA_DIR)/target/surefire-reports 2>/dev/null; then \
	  echo "test-java: -Xcheck:jni warnings (files above)"; exit 1; fi

test-java-17: java-natives
	@rm -rf $(JAVA_DIR)/target/surefire-reports
	@echo "  MVN test  JDK 17 (-Xcheck:jni)"
	@set -o pipefail; $(JAVA_MVN) test 2>&1 | $(JAVA_DECOLOR) || { echo "test-java: JDK 17 run failed (bindings/java/target/surefire-reports)"; exit 1; }
	@$(JAVA_JNI_CHECK)

test-java-2: java-natives
	@if [ ! -x $(JDK2)/bin/java ]; then echo "test-java: SKIPPED the second JDK: no $(JDK2)/bin/java (set JDK2=...)"; exit 0; fi; \
	echo "  MVN test  $(JDK2) (-Xcheck:jni --enable-native-access=ALL-UNNAMED)"; \
	rm -rf $(JAVA_DIR)/target/surefire-reports; set -o pipefail; \
	$(JAVA_MVN) -Djvm=$(JDK2)/bin/java \
	  "-Dgr.test.argLine=-Xcheck:jni --enable-native-access=ALL-UNNAMED" test 2>&1 | $(JAVA_DECOLOR) \
	  || { echo "test-java: $(JDK2) run failed (bindings/java/target/surefire-reports)"; exit 1; }
	@$(JAVA_JNI_CHECK)

# Every public item has javadoc: doclint fails the build otherwise.
javadoc-java:
	@mkdir -p $(JAVA_BUILD)/javadoc
	@echo "  JAVADOC doclint io.gr"
	@$(JDK17)/bin/javadoc -quiet -Xdoclint:all -Werror --release 8 -d $(JAVA_BUILD)/javadoc \
	  -sourcepath $(JAVA_DIR)/src/main/java io.gr >/dev/null

# lib is built once, by java-natives; the sub-makes reuse it.
test-java: java-natives
	@$(JAVA_SUBMAKE) javadoc-java
	@$(JAVA_SUBMAKE) test-java-17 JAVA_LIB_DEP=
	@$(JAVA_SUBMAKE) test-java-2 JAVA_LIB_DEP=

JAVA_EXAMPLES := $(JAVA_BUILD)/examples
$(JAVA_EXAMPLES)/libwork.so: $(ROOT)/examples/java/work.c $(GR_INCLUDE)/gr.h $(LIBDIR)/libgr.so.0
	@mkdir -p $(@D)
	$(CC) $(JAVA_CFLAGS) -shared -o $@ $< -L$(LIBDIR) -lgr

demo-java: java-jar
	@$(JAVA_SUBMAKE) $(JAVA_EXAMPLES)/libwork.so JAVA_LIB_DEP=
	@mkdir -p $(JAVA_EXAMPLES)/classes
	$(JDK17)/bin/javac --release 8 -cp $(JAVA_JAR) -d $(JAVA_EXAMPLES)/classes $(ROOT)/examples/java/*.java
	$(JDK17)/bin/java -cp $(JAVA_JAR):$(JAVA_EXAMPLES)/classes Goroutines101
	$(JDK17)/bin/java -cp $(JAVA_JAR):$(JAVA_EXAMPLES)/classes LegacyApp $(JAVA_EXAMPLES)/libwork.so
	$(JDK17)/bin/java -cp $(JAVA_JAR):$(JAVA_EXAMPLES)/classes Crawler

# Issue 17, item 2: the Maven route. Its own local repository (build/java/m2, seeded with hard
# links from ~/.m2) holds the jar this checkout installs, whatever other checkouts install.
test-java-consumer: java-natives
	@ROOT=$(ROOT) JDK17=$(JDK17) JDK2=$(JDK2) MVN=$(MVN) M2=$(JAVA_BUILD)/m2 GR_VERSION=$(GR_VERSION) \
	  bash $(JAVA_DIR)/consumer/run.sh
