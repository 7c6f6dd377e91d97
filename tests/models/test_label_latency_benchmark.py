"""The label-latency benchmark's per-action table: each cell's time to detect per action, as the run summary gave
it (the benchmark itself runs stream-run in real time: benchmarks/README.md)."""

from benchmarks.label_latency import action_table


def test_the_action_table_has_a_column_per_action_seen_and_says_never_and_absent():
    cells = [
        {"people": 1, "backend": "onnxruntime", "stride": "auto",
         "time_to_detect_by_action": {"waveHands": {"instances": 3, "count": 3, "never_detected": 0.0, "p50": 266.7},
                                      "push": {"instances": 2, "count": 0, "never_detected": 1.0}}},
        {"people": 4, "backend": "onnxruntime", "stride": "1",
         "time_to_detect_by_action": {"walk": {"instances": 5, "count": 5, "never_detected": 0.0, "p50": 800.0}}},
    ]  # fmt: skip
    head, rule, first, second = action_table(cells).splitlines()
    assert head.split()[3:] == ["push", "walk", "waveHands"] and set(rule) == {"-"}
    assert first.split()[3:] == ["never", "-", "267", "(3)"]
    assert second.split()[3:] == ["-", "800", "(5)", "-"]
    assert action_table([{**cells[0], "time_to_detect_by_action": {}}]) == ""  # no ground truth: no table
