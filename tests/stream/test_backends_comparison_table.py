"""The end-to-end backend benchmark's comparison table (benchmarks/backends_end_to_end.py; the benchmark itself runs
stream-run in real time: benchmarks/README.md): every scenario name, however long, keeps its backend column."""

from benchmarks.backends_end_to_end import comparison


def _stats(frames: int, model_ms: float) -> dict:
    return {"frames": frames, "source": {"dropped": 0},
            "latency_ms": {"model_call": {"p50": model_ms}, "end_to_end": {"p50": 1.0, "p95": 2.0, "p99": 3.0}}}


def test_a_long_scenario_name_does_not_run_into_the_backend_column():
    long_name = "exercise.avi, --num-poses 1 and more"
    results = {backend: {"synthetic, 1 track": _stats(600, ms), long_name: _stats(393, ms)}
               for backend, ms in (("torch", 7.0), ("onnxruntime", 4.5))}  # fmt: skip
    head, _, *rows = comparison(results).splitlines()
    column = head.index("backend")
    assert column >= len(long_name) + 2
    assert len(rows) == 4
    for row in rows:
        assert row[column - 2 : column] == "  " and row[column:].split()[0] in ("torch", "onnxruntime")
    assert [row.split("  ")[0].strip() for row in rows] == ["synthetic, 1 track"] * 2 + [long_name] * 2
