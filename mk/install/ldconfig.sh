#!/bin/sh
# Usage: ldconfig.sh [--check] LIBDIR
# Run by `make install` after a real install (never with DESTDIR: a staging tree is not the
# system, and a package runs ldconfig on the target itself). Refreshes the dynamic loader's
# cache when LIBDIR is a directory the loader searches (/usr/lib, or /usr/local/lib through
# /etc/ld.so.conf.d on Debian), so that programs find the new libgr.so.0 at once. A private
# prefix is found through rpath or LD_LIBRARY_PATH: its libraries are left out of the cache.
# --check only answers: exit 0 if ldconfig would run.
set -eu
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
PATH=$PATH:/sbin:/usr/sbin
dir=$(realpath -m "$1")
searched() {
  printf '%s\n' /lib /usr/lib /lib64 /usr/lib64
  ldconfig -v -N -X 2>/dev/null | sed -n 's|^\(/[^:]*\):.*|\1|p'
}
for d in $(searched); do
  if [ "$(realpath -m "$d")" = "$dir" ]; then
    if [ $check = 1 ]; then exit 0; fi
    echo "ldconfig  ($dir is searched by the dynamic loader)"
    exec ldconfig
  fi
done
[ $check = 0 ]
