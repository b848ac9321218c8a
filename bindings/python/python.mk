# Python binding (issue 4): `import goroutines`, a PyO3 extension built by maturin, installed
# with pip (issue 17): its build.rs builds libgr.so.0 from core/ and ffi/ with cargo, and the
# wheel carries it beside the extension (RUNPATH $ORIGIN, the soname kept: one runtime per
# process, shared with C libraries linked with -lgr).
#   make python                 pip install ./bindings/python into .venv
#   make test-python            pytest suite on the machine's CPython (3.11), under -X dev,
#                               against that pip-installed wheel (stubtest and mypy included)
#   make test-python-packaging  pip install in a fresh venv; maturin sdist and a wheel built
#                               from it alone; manylinux tag checked by auditwheel show
#   make demo-python            examples/python/*.py
#   make test-python-versions   the same suite on CPython 3.13 built from Debian trixie's source
PYB := $(ROOT)/bindings/python
PYB_OUT := $(BUILD)/python
PYB_SRC := $(PYB)/Cargo.toml $(PYB)/pyproject.toml $(PYB)/build.rs \
  $(wildcard $(PYB)/src/*.rs) $(wildcard $(PYB)/python/goroutines/*.py*) $(PYB)/python/goroutines/py.typed
PYB_TESTLIB := $(PYB_OUT)/libgrpytest.so
PYB_PYTEST_TIMEOUT ?= 480

TEST_TARGETS += test-python test-python-packaging
DEMO_TARGETS += demo-python

.PHONY: python test-python test-python-packaging demo-python test-python-versions python-testlib

# $(1): python interpreter of a venv holding maturin, $(2): stamp file. `pip install` from the
# source tree, as a user does; the venv's own maturin builds it (no network), in target/.
define pyb_install
	cd $(ROOT) && PATH=$(dir $(1)):$$PATH $(1) -m pip install --quiet --no-build-isolation \
	  --force-reinstall --no-deps ./bindings/python
	@touch $(2)
endef

python: lib $(PYB_OUT)/.installed
# libgr.so.0 stands for core/ and ffi/, from which build.rs rebuilds the wheel's copy.
$(PYB_OUT)/.installed: $(LIBDIR)/libgr.so.0 $(VENV_STAMP) $(PYB_SRC)
	@mkdir -p $(@D)
	$(call pyb_install,$(PY),$@)

# A small C library linked with -lgr (no rpath: it must share the already-loaded runtime).
python-testlib: $(PYB_TESTLIB)
$(PYB_TESTLIB): $(PYB)/tests/c/grpytest.c $(ROOT)/include/gr.h $(LIBDIR)/libgr.so.0
	@mkdir -p $(PYB_OUT)
	$(CC) -O2 -Wall -shared -fPIC -I$(ROOT)/include -o $@ $< -L$(LIBDIR) -lgr -lpthread

test-python: lib python python-testlib
	cd $(PYB) && GR_PYTEST_LIB=$(PYB_TESTLIB) timeout $(PYB_PYTEST_TIMEOUT) \
	  $(PY) -X dev -m pytest -q -p no:cacheprovider tests

test-python-packaging: lib venv python-testlib
	@GR_PYTEST_LIB=$(PYB_TESTLIB) $(PYB)/tests/packaging.sh $(PY)

demo-python: lib python python-testlib
	@set -e; for f in $(ROOT)/examples/python/*.py; do echo "--- $$f"; \
	  GR_PYTEST_LIB=$(PYB_TESTLIB) timeout 60 $(PY) $$f; done

# CPython 3.13 from Debian trixie's source package, built once under build/cpython-3.13.
PY313_DIR := $(BUILD)/cpython-3.13
PY313 := $(PY313_DIR)/prefix/bin/python3.13
PY313_VENV := $(BUILD)/venv-3.13
PY313_PY := $(PY313_VENV)/bin/python
$(PY313):
	bash $(PYB)/tools/build-cpython-trixie.sh $(PY313_DIR)
$(PY313_VENV)/.stamp: $(PY313) $(ROOT)/requirements-dev.txt
	$(PY313) -m venv $(PY313_VENV)
	$(PY313_PY) -m pip install --quiet --upgrade pip
	$(PY313_PY) -m pip install --quiet -r $(ROOT)/requirements-dev.txt
	@touch $@
$(PYB_OUT)/.installed-3.13: $(LIBDIR)/libgr.so.0 $(PY313_VENV)/.stamp $(PYB_SRC)
	$(call pyb_install,$(PY313_PY),$@)
test-python-versions: lib python-testlib $(PYB_OUT)/.installed-3.13
	$(PY313_PY) --version
	cd $(PYB) && GR_PYTEST_LIB=$(PYB_TESTLIB) timeout $(PYB_PYTEST_TIMEOUT) \
	  $(PY313_PY) -X dev -m pytest -q -p no:cacheprovider tests
