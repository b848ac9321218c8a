# The one version number of gr: `version` in Cargo.toml's [workspace.package] (cargo needs
# it as a literal). Everything else derives from it:
#   gr_version()               CARGO_PKG_VERSION (ffi/src/runtime.rs)
#   the wheel                  bindings/python/Cargo.toml inherits it; pyproject.toml says
#                              `dynamic = ["version"]`, so maturin takes it from there
#   include/gr.h               GR_VERSION_* macros: `make header` fills ffi/cbindgen.toml's
#                              @GR_VERSION*@ placeholders; check-header catches a stale header
#   gr.pc                      make install
#   the jar                    bindings/java/pom.xml keeps a literal (Maven needs one):
#                              `make version` writes it
# `make check-version` (in `make test`) fails when a literal drifts.
# To release a new version: edit Cargo.toml, then `make version` and commit.
GR_VERSION := $(shell sed -n '/^\[workspace\.package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' $(ROOT)/Cargo.toml)
GR_VERSION_MAJOR := $(word 1,$(subst ., ,$(GR_VERSION)))
GR_VERSION_MINOR := $(word 2,$(subst ., ,$(GR_VERSION)))
GR_VERSION_PATCH := $(word 3,$(subst ., ,$(GR_VERSION)))
ifeq ($(GR_VERSION_PATCH),)
$(error cannot read [workspace.package] version = "X.Y.Z" from Cargo.toml)
endif
export GR_VERSION

POM := $(ROOT)/bindings/java/pom.xml
# The project's own <version>: the first one indented as a child of <project>.
POM_VERSION = $(shell sed -n 's|^  <version>\(.*\)</version>$$|\1|p' $(POM) | head -n 1)

.PHONY: version check-version
version: header
	sed -i '0,/^  <version>.*<\/version>$$/s||  <version>$(GR_VERSION)</version>|' $(POM)
	@echo "version $(GR_VERSION): include/gr.h and bindings/java/pom.xml written; commit them"

TEST_TARGETS += check-version
check-version:
	@if [ "$(POM_VERSION)" != "$(GR_VERSION)" ]; then \
	  echo "bindings/java/pom.xml says $(POM_VERSION), Cargo.toml $(GR_VERSION): run 'make version'"; exit 1; fi
	@if ! grep -q '^#define GR_VERSION_STRING "$(GR_VERSION)"$$' $(ROOT)/include/gr.h; then \
	  echo "include/gr.h's GR_VERSION_STRING is not $(GR_VERSION): run 'make version'"; exit 1; fi
	@echo "version $(GR_VERSION): Cargo.toml, include/gr.h and pom.xml agree"
