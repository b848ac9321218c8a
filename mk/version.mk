# The one version number of gr: `version` in Cargo.toml's [workspace.package] (cargo needs
# it as a literal). Everything else derives from it:
#   gr_version()               CARGO_PKG_VERSION (ffi/src/runtime.rs)
#   the wheel                  bindings/python/Cargo.toml inherits it; pyproject.toml says
#                              `dynamic = ["version"]`, so maturin takes it from there
#   include/gr.h               GR_VERSION_* macros: `make header` fills ffi/cbindgen.toml's
#                              @GR_VERSION*@ placeholders; check-header catches a stale header
#   gr.pc, gr-static.pc,
#   grConfigVersion.cmake,
#   the man pages, libgr.so.V  make install (mk/install.mk)
#   the jar                    bindings/java/pom.xml keeps a literal (Maven needs one):
#                              `make version` writes it
# `make check-version` (in `make test`) builds them all and fails unless every one agrees.
# To release a new version: edit Cargo.toml, then `make version` and commit.
GR_VERSION := $(shell sed -n '/^\[workspace\.package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' $(ROOT)/Cargo.toml)
GR_VERSION_MAJOR := $(word 1,$(subst ., ,$(GR_VERSION)))
GR_VERSION_MINOR := $(word 2,$(subst ., ,$(GR_VERSION)))
GR_VERSION_PATCH := $(word 3,$(subst ., ,$(GR_VERSION)))
ifeq ($(GR_VERSION_PATCH),)
$(error cannot read [workspace.package] version = "X.Y.Z" from Cargo.toml)
endif
export GR_VERSION

# pom.xml's own <version> is the first one indented as a child of <project>.
POM := $(ROOT)/bindings/java/pom.xml

.PHONY: version check-version
version: header
	sed -i '0,/^  <version>.*<\/version>$$/s||  <version>$(GR_VERSION)</version>|' $(POM)
	@echo "version $(GR_VERSION): include/gr.h and bindings/java/pom.xml written; commit them"

# The derived versions, built and read back: the header, gr_version(), an installed prefix
# (real name, .pc files, CMake version file, man pages), the pip-installed wheel, the jar.
# The Makefile runs it after the other suites, which build most of these.
check-version:
	@pom=$$(sed -n 's|^  <version>\(.*\)</version>$$|\1|p' $(POM) | head -n 1); \
	if [ "$$pom" != "$(GR_VERSION)" ]; then \
	  echo "bindings/java/pom.xml says $$pom, Cargo.toml $(GR_VERSION): run 'make version'"; exit 1; fi
	@$(MAKE) --no-print-directory lib python java-jar dist
	@$(MAKE) --no-print-directory install PREFIX=$(BUILD)/version-prefix > /dev/null
	@$(ROOT)/mk/check-version.sh $(BUILD)/version-prefix $(PY) $(BUILD)/java/gr.jar
