"""Run by tests/packaging.sh in a fresh venv holding only the installed wheel (not pytest):
the package imports, its versions agree, and it shares one runtime with a C library linked
with -lgr (GR_PYTEST_LIB, built without an rpath: it binds to the libgr.so.0 already loaded)."""

import ctypes
import importlib.metadata
import os
import sys

import goroutines as gr

expected = os.environ["GR_VERSION"]
versions = {"wheel": importlib.metadata.version("goroutines"), "gr_version()": gr.version()}
assert set(versions.values()) == {expected}, (versions, expected)

pkg = os.path.dirname(gr.__file__)
shipped = os.path.join(pkg, "libgr.so.0")
assert os.path.isfile(shipped) and not os.path.islink(shipped), shipped

ch = gr.Chan[int]()
g = gr.go(lambda: ch.send(41))
assert ch.recv() + 1 == 42 and g.wait(timeout=10) is None

lib = ctypes.CDLL(os.environ["GR_PYTEST_LIB"])


class SendArgs(ctypes.Structure):
    _fields_ = [("chan", ctypes.c_void_p), ("base", ctypes.c_int64), ("count", ctypes.c_int64),
                ("status", ctypes.c_int64)]


native = gr.Chan.native(8, 4)
args = SendArgs(native.address, 100, 3, -99)
cg = gr.go_native(lib.gpt_send_ints, ctypes.byref(args))
got = [int.from_bytes(native.recv(timeout=10), sys.byteorder, signed=True) for _ in range(3)]
cg.wait(timeout=10)
assert got == [100, 101, 102] and args.status == 0, (got, args.status)

# One runtime: the C library resolved gr_* in the wheel's libgr.so.0, the only one mapped.
lib.gpt_stats_fn.restype = ctypes.c_void_p
assert lib.gpt_stats_fn() == ctypes.cast(ctypes.CDLL(shipped).gr_stats_get, ctypes.c_void_p).value
with open("/proc/self/maps") as f:
    mapped = {p for p in (line.split()[-1] for line in f) if os.path.basename(p).startswith("libgr.so")}
assert mapped == {os.path.realpath(shipped)}, mapped

print(f"goroutines {expected} from {pkg}: imports, runs goroutines, shares its libgr.so.0 with C")
