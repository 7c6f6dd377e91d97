"""A short soak of `stream-run` (benchmarks/soak.py, in seconds instead of minutes): 8 people, every label received
exactly once and in order by a second process, nothing lost or dropped, memory, descriptors and queues flat."""

from benchmarks.soak import soak, table


def test_eight_people_every_label_once_in_order_with_flat_memory_descriptors_and_queues(checkpoint, tmp_path):
    result = soak(8, seconds=90.0, fast=True, checkpoint=checkpoint, sample_s=0.05, status_s=0.2, workdir=tmp_path)
    assert result["frames"] == 2700 and result["labels"] > 8 * 1300  # every person, every other frame
    checks = {name: ok for name, ok in result["checks"].items() if name != "memory flat"}
    assert all(checks.values()), checks
    # Seconds cannot measure a slope per minute; the growth after warm-up can still catch a leak: keeping every
    # window of this small test model (12 kB each) grew 12.5 MB here; clean runs: -1.3 to +1.1 MB.
    assert result["rss_mb"]["growth_mb"] <= 6, result["rss_mb"]
    assert result["status_messages"] >= 3 and result["queues_max"]["capture"] <= 4


def test_the_table_keeps_each_figure_under_its_own_heading():
    result = {"people": 8, "seconds": 180.0, "frames": 5400, "labels": 21600, "rss_mb": {"last": 204.2,
              "slope_mb_per_min": 0.07}, "fds": {"min": 15, "max": 15}, "queues_max": {"capture": 1, "decoder": 0,
              "recorder": 1}, "latency_ms": {"p50": 27.1, "p95": 34.4, "p99": 41.2}, "checks": {"exactly once": True}}
    head, _, row = table([result]).splitlines()
    # each figure ends where its heading ends (right-aligned columns)
    for heading, figure in (("MB/min", "0.07"), ("fds", "15-15"), ("(cap/dec/rec)", "1/0/1"), ("ms", "27/34/41")):
        assert row.index(figure) + len(figure) == head.index(heading) + len(heading), (heading, row)
    assert row.endswith("all passed")
