"""Mixing C goroutines with Python ones: a C function (from a library linked with -lgr)
runs as a goroutine and sends int64 values on a channel Python made; Python goroutines
consume them. One runtime serves both (same libgr.so.0)."""
import ctypes
import os
import sys

import goroutines as gr

path = os.environ.get("GR_PYTEST_LIB")
if not path or not os.path.exists(path):
    print("mix_c: set GR_PYTEST_LIB to the test library (make demo-python does); skipped")
    sys.exit(0)
lib = ctypes.CDLL(path)


class SendArgs(ctypes.Structure):
    _fields_ = [("chan", ctypes.c_void_p), ("base", ctypes.c_int64), ("count", ctypes.c_int64),
                ("status", ctypes.c_int64)]


ch = gr.Chan.native(8, 16)  # 8-byte elements C can send and receive
args = [SendArgs(ch.address, k * 100, 10, 0) for k in range(4)]
producers = [gr.go_native(lib.gpt_send_ints, ctypes.byref(a)) for a in args]


def consumer():
    return sum(int.from_bytes(ch.recv(), "little") for _ in range(10))


consumers = [gr.go(consumer) for _ in range(4)]
total = sum(c.wait() for c in consumers)
for p in producers:
    p.wait()
print("C goroutines sent, Python goroutines summed:", total)
assert total == sum(k * 100 + i for k in range(4) for i in range(10))
