# Debian packages the build and tests use, installed with apt-get only when missing (CI and
# a fresh machine run as root; elsewhere run `sudo make deps`).
# binutils, cmake, man-db, gdb: make install's stripped libraries, CMake package and man
# pages, and test-install's consumers of them.
APT_PKGS := pkg-config gcc make binutils cmake man-db gdb
.PHONY: deps
deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) || exit 1; fi
