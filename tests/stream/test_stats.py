"""Stage statistics: percentiles and bounded memory."""

import pytest

from stream.run.stats import StageStats


def test_percentiles_in_milliseconds():
    stats = StageStats()
    for value in range(1, 101):
        stats.add("model", value * 1_000_000)  # 1 .. 100 ms
    p = stats.percentiles_ms("model")
    assert p["p50"] == pytest.approx(50.5) and p["p99"] == pytest.approx(99.01)
    assert stats.summary()["model"]["count"] == 100
    assert "model" in stats.table() and stats.percentiles_ms("pose") == {}


def test_memory_is_bounded_but_counts_are_total():
    stats = StageStats(keep=10)
    for value in range(1000):
        stats.add("decode", value)
    assert sorted(stats.recent("decode")) == list(range(990, 1000)) and stats.counts["decode"] == 1000
