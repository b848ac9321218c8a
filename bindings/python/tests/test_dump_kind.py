"""Issue 14 follow-up: every Python goroutine is labelled kind "python" in dumps, in the
binding's dump() and in the runtime's own gr_dump (no Python hook): run()'s bound main,
goroutines spawned by it, by other goroutines and by a plain thread."""

import ctypes
import json
import tempfile

import goroutines as gr


def kinds(text):
    return {o["id"]: o["kind"] for o in map(json.loads, text.splitlines()) if o.get("type") == "goroutine"}


def test_python_goroutines_are_kind_python_in_both_dumps():
    lib = ctypes.CDLL("libgr.so.0")  # the copy already loaded (one runtime per process)
    ch = gr.Chan()
    from_thread = gr.go(ch.recv)

    def main():
        ids = {gr.self_id()}
        inner = gr.go(lambda: (gr.go(ch.recv), ch.recv())[1])
        gs = [gr.go(ch.recv) for _ in range(3)]
        gr.sleep(0.05)
        py = kinds(gr.dump(json=True))
        with tempfile.TemporaryFile() as f:
            assert lib.gr_dump(f.fileno(), 1) == 0
            f.seek(0)
            native = kinds(f.read().decode())
        for _ in range(6):
            ch.send(None)
        inner.wait(timeout=10)
        for g in gs:
            g.wait(timeout=10)
        return ids, py, native
    ids, py, native = gr.run(main)
    from_thread.wait(timeout=10)
    assert len(py) >= 7 and len(native) >= 7
    assert set(py.values()) == {"python"}, py
    assert set(native.values()) == {"python"}, native
    assert ids <= set(py)
