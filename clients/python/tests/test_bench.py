"""bench.py runs (briefly) against a real server and reports every phase."""

from __future__ import annotations

import importlib.util
import os

import pytest
from conftest import Server


def test_bench_reports_every_phase(server: Server, capsys: pytest.CaptureFixture) -> None:
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench.py")
    spec = importlib.util.spec_from_file_location("recache_bench", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--port", str(server.port), "--seconds", "0.05", "--keys", "10",
                       "--depth", "5"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = {line[:26].strip(): line[26:].strip() for line in out[2:]}
    assert set(rows) == {"set, 1 per round trip", "get, 1 per round trip",
                         "set, pipelined x5", "get, pipelined x5"}
    assert all(float(v.replace(",", "")) > 0 for v in rows.values())
