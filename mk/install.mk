# make install: gr laid out as C projects expect an installed library. Variables, as in GNU
# packages: PREFIX (default /usr/local), DESTDIR (a staging root for packagers), libdir,
# includedir, mandir. It installs
#   $(libdir)/libgr.so.$(GR_VERSION)      stripped; libgr.so.0 (the soname) and libgr.so link to it
#   $(libdir)/.debug/libgr.so.*.debug     its debug info, which gdb finds through .gnu_debuglink
#   $(libdir)/libgr.a                     exports only the gr_* API (mk/install/static-lib.sh)
#   $(includedir)/gr.h
#   $(libdir)/pkgconfig/gr.pc             -lgr; gr-static.pc links libgr.a
#   $(libdir)/cmake/gr/grConfig*.cmake    find_package(gr CONFIG): gr::gr, gr::gr_static
#   $(mandir)/man3/gr.3, gr_*.3           from include/gr.h's doc comments (mk/install/gen-man.py)
# then runs ldconfig if $(libdir) is a directory the dynamic loader searches and DESTDIR is
# empty (mk/install/ldconfig.sh). `make uninstall` (same variables) removes those files.
# `make test-install` installs into build/prefix and builds and runs consumers against it.
libdir ?= $(PREFIX)/lib
includedir ?= $(PREFIX)/include
mandir ?= $(PREFIX)/share/man
INST := $(ROOT)/mk/install
DIST := $(BUILD)/dist
GR_REAL := libgr.so.$(GR_VERSION)
# What libgr.a needs from the system (rustc --print native-static-libs, less what the C
# compiler adds by itself: libc, and libgcc_s or libgcc_eh for the unwinder).
GR_STATIC_LIBS := -lpthread -ldl -lm -lrt -lutil

# pkg-config writes directories under the prefix as ${prefix}/...: the file stays relocatable.
pc_dir = $(if $(filter $(PREFIX)/%,$(1)),$${prefix}/$(patsubst $(PREFIX)/%,%,$(1)),$(1))
relpath = $(shell realpath -ms --relative-to=$(1) $(2))
GR_SUBST = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(call pc_dir,$(libdir))|g' \
  -e 's|@INCLUDEDIR@|$(call pc_dir,$(includedir))|g' -e 's|@VERSION@|$(GR_VERSION)|g' \
  -e 's|@VERSION_MAJOR@|$(GR_VERSION_MAJOR)|g' -e 's|@SOVERSION@|0|g' \
  -e 's|@STATIC_LIBS@|$(GR_STATIC_LIBS)|g' \
  -e 's|@CMAKE_TO_PREFIX@|$(call relpath,$(libdir)/cmake/gr,$(PREFIX))|g' \
  -e 's|@PREFIX_TO_LIBDIR@|$(call relpath,$(PREFIX),$(libdir))|g' \
  -e 's|@PREFIX_TO_INCLUDEDIR@|$(call relpath,$(PREFIX),$(includedir))|g'

.PHONY: dist dist-files install uninstall test-install
# The files to install that do not depend on PREFIX, under build/dist (a sub-make: lib's
# recipe refreshes build/lib first).
dist: lib
	@$(MAKE) --no-print-directory dist-files
dist-files: $(DIST)/$(GR_REAL) $(DIST)/libgr.a $(DIST)/man3/.stamp
	@:

$(DIST)/$(GR_REAL): $(LIBDIR)/libgr.so.0
	@mkdir -p $(@D)/.debug
	objcopy --only-keep-debug $< $(@D)/.debug/$(GR_REAL).debug
	objcopy --strip-unneeded --remove-section=.comment \
	  --add-gnu-debuglink=$(@D)/.debug/$(GR_REAL).debug $< $@

$(DIST)/libgr.a: $(LIBDIR)/libgr.a
	@mkdir -p $(@D)
	strip --strip-debug --enable-deterministic-archives -o $@ $<

$(DIST)/man3/.stamp: $(ROOT)/include/gr.h $(INST)/gen-man.py
	@rm -rf $(@D)
	python3 $(INST)/gen-man.py $(ROOT)/include/gr.h $(@D) $(GR_VERSION)
	@touch $@

install: dist
	install -d $(DESTDIR)$(libdir)/.debug $(DESTDIR)$(libdir)/pkgconfig $(DESTDIR)$(libdir)/cmake/gr \
	  $(DESTDIR)$(includedir) $(DESTDIR)$(mandir)/man3
	install -m 755 $(DIST)/$(GR_REAL) $(DESTDIR)$(libdir)/$(GR_REAL)
	install -m 644 $(DIST)/.debug/$(GR_REAL).debug $(DESTDIR)$(libdir)/.debug/$(GR_REAL).debug
	ln -sfn $(GR_REAL) $(DESTDIR)$(libdir)/libgr.so.0
	ln -sfn libgr.so.0 $(DESTDIR)$(libdir)/libgr.so
	install -m 644 $(DIST)/libgr.a $(DESTDIR)$(libdir)/libgr.a
	install -m 644 $(ROOT)/include/gr.h $(DESTDIR)$(includedir)/gr.h
	install -m 644 $(DIST)/man3/*.3 $(DESTDIR)$(mandir)/man3/
	@for f in pkgconfig/gr.pc pkgconfig/gr-static.pc cmake/gr/grConfig.cmake cmake/gr/grConfigVersion.cmake; do \
	  echo "write $(DESTDIR)$(libdir)/$$f"; \
	  $(GR_SUBST) $(INST)/$$(basename $$f).in > $(DESTDIR)$(libdir)/$$f || exit 1; done
	@if [ -z "$(DESTDIR)" ]; then $(INST)/ldconfig.sh $(libdir); fi

uninstall: $(DIST)/man3/.stamp
	rm -f $(addprefix $(DESTDIR)$(libdir)/,$(GR_REAL) .debug/$(GR_REAL).debug libgr.so.0 libgr.so \
	  libgr.a pkgconfig/gr.pc pkgconfig/gr-static.pc cmake/gr/grConfig.cmake cmake/gr/grConfigVersion.cmake)
	rm -f $(DESTDIR)$(includedir)/gr.h
	@for f in $(DIST)/man3/*.3; do rm -f $(DESTDIR)$(mandir)/man3/$${f##*/}; done
	-rmdir $(DESTDIR)$(libdir)/cmake/gr $(DESTDIR)$(libdir)/.debug 2>/dev/null
	@if [ -z "$(DESTDIR)" ]; then $(INST)/ldconfig.sh $(libdir); fi

TEST_TARGETS += test-install
test-install: dist
	@$(ROOT)/tests/install/run.sh
