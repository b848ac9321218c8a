# `make bench`: gr against Go, pthreads, Java and Python on the same workloads (issue 6).
# Included by the top-level Makefile, which provides ROOT, BUILD, LIBDIR, PY, VENV_STAMP, CC.
#   make bench            full suite (~15 min), writes bench/REPORT.md and bench/results/
#   make bench QUICK=1    small sizes (< 2 min), writes bench/results/quick/
#   make bench BENCH_ARGS="--only pingpong,ring --impls gr,go"   a subset
BENCH_TARGETS += bench-run

BENCH_SRC := $(ROOT)/bench
BENCH_OUT := $(BUILD)/bench
JDK25_HOME ?= /usr/lib/jvm/temurin-25-jdk-amd64
BENCH_CFLAGS ?= -O2 -Wall -Wextra
QUICK ?=
BENCH_ARGS ?=
# Go: standard library only; never download a module or a toolchain.
BENCH_GOENV := GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GOWORK=off

.PHONY: bench-run bench-build bench-report bench-gr bench-pthread bench-go bench-java bench-javagr bench-bindings
bench-run: bench-build $(VENV_STAMP)
	$(PY) $(BENCH_SRC)/run.py --build $(BUILD) $(if $(QUICK),--quick) $(BENCH_ARGS)

bench-report: $(VENV_STAMP)
	$(PY) $(BENCH_SRC)/report.py $(BENCH_SRC)/results/$(if $(QUICK),quick/)latest.json

bench-build: bench-gr bench-pthread bench-go bench-java bench-javagr

# gr: skipped (and reported as not built) when libgr is missing.
bench-gr:
	@mkdir -p $(BENCH_OUT)
	@if [ -e $(LIBDIR)/libgr.so ] && [ -e $(ROOT)/include/gr.h ]; then \
	  have=$$(for f in gr_chan_new gr_select gr_wg_new gr_mutex_new; do \
	    grep -q "[ *]$$f(" $(ROOT)/include/gr.h && printf -- "-DBENCH_HAVE_%s " $$f; done); \
	  echo "  CC  bench/gr/gr_bench.c $$have"; \
	  $(CC) $(BENCH_CFLAGS) $$have -I$(ROOT)/include $(BENCH_SRC)/gr/gr_bench.c -o $(BENCH_OUT)/gr_bench \
	    -L$(LIBDIR) -lgr -Wl,-rpath,$(LIBDIR) -lpthread; \
	else echo "bench: no $(LIBDIR)/libgr.so or include/gr.h; gr rows will be skipped"; rm -f $(BENCH_OUT)/gr_bench; fi

bench-pthread:
	@mkdir -p $(BENCH_OUT)
	$(CC) $(BENCH_CFLAGS) -pthread $(BENCH_SRC)/pthread/pthread_bench.c -o $(BENCH_OUT)/pthread_bench

bench-go:
	@mkdir -p $(BENCH_OUT)
	@if command -v go >/dev/null; then \
	  echo "  GO  bench/go"; cd $(BENCH_SRC)/go && $(BENCH_GOENV) go build -o $(BENCH_OUT)/gobench . ; \
	else echo "bench: no go toolchain; Go rows will be skipped"; fi

bench-java:
	@mkdir -p $(BENCH_OUT)/java17 $(BENCH_OUT)/java25
	@if command -v javac >/dev/null; then \
	  echo "  JAVAC bench/java (JDK 17)"; javac -d $(BENCH_OUT)/java17 $(BENCH_SRC)/java/Bench.java; \
	else echo "bench: no javac; Java 17 rows will be skipped"; fi
	@if [ -x $(JDK25_HOME)/bin/javac ]; then \
	  echo "  JAVAC bench/java (JDK 25, virtual threads)"; \
	  $(JDK25_HOME)/bin/javac -d $(BENCH_OUT)/java25 $(BENCH_SRC)/java/Bench.java $(BENCH_SRC)/java/VirtualMaker.java; \
	else echo "bench: no JDK at $(JDK25_HOME); virtual-thread rows will be skipped"; fi

# Binding rows: build the bindings when their makefiles are present (python.mk: `python`,
# the wheel installed into .venv; java.mk: `java-jar`). A failure only skips those rows.
# BENCH_BINDINGS=0 skips the builds (rows then run only if already built); QUICK=1 implies it.
BENCH_BINDINGS ?= $(if $(QUICK),0,1)
bench-bindings: $(VENV_STAMP)
	@if [ "$(BENCH_BINDINGS)" = 1 ] && [ -n "$(PYB)" ]; then \
	  $(MAKE) --no-print-directory python || echo "bench: the Python binding did not build; gr (Python) rows will be skipped"; fi
	@if [ "$(BENCH_BINDINGS)" = 1 ] && [ -n "$(JAVA_JAR)" ]; then \
	  $(MAKE) --no-print-directory java-jar || echo "bench: the Java jar did not build; gr (Java) rows will be skipped"; fi

# Java binding rows: compiled against the jar. A compile failure (API drift) skips the rows
# with a message instead of failing the suite.
bench-javagr: bench-bindings
	@rm -rf $(BENCH_OUT)/javagr; jar=$$(ls -U $(BUILD)/java/gr.jar $$(ls $(ROOT)/bindings/java/target/*.jar 2>/dev/null | grep -v -e -javadoc -e -sources) 2>/dev/null | head -1); \
	if [ -n "$$jar" ] && command -v javac >/dev/null; then \
	  mkdir -p $(BENCH_OUT)/javagr; \
	  if javac -cp "$$jar" -d $(BENCH_OUT)/javagr $(BENCH_SRC)/java/JavaGrBench.java; then \
	    echo "$$jar:$(BENCH_OUT)/javagr" > $(BENCH_OUT)/javagr/classpath; \
	  else echo "bench: JavaGrBench.java does not compile against $$jar; gr (Java) rows skipped"; \
	    rm -f $(BENCH_OUT)/javagr/JavaGrBench.class; fi; \
	else echo "bench: no Java gr jar (make java-jar); gr (Java) rows will be skipped"; fi
