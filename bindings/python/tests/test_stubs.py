"""The .pyi stubs match the runtime (mypy's stubtest), as STYLE.md asks of PyO3 projects."""

import subprocess
import sys

import pytest


def test_stubtest():
    pytest.importorskip("mypy")
    r = subprocess.run([sys.executable, "-m", "mypy.stubtest", "goroutines"], capture_output=True,
                       text=True, timeout=300, cwd="/")
    assert r.returncode == 0, r.stdout + r.stderr
