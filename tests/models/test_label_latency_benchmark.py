"""The label-latency benchmark's tables: each cell's time to detect per action, as the run summary gave it, and the
warning on cells with too few actions (the benchmark itself runs stream-run in real time: benchmarks/README.md);
its min_score cells and their parsing."""

import pytest

from benchmarks.label_latency import CHECKPOINT_LEVEL, MIN_ACTIONS, action_table, few_actions_warning, main


def test_the_action_table_has_a_column_per_action_seen_and_says_never_and_absent():
    cells = [
        {"people": 1, "backend": "onnxruntime", "stride": "auto", "min_score": CHECKPOINT_LEVEL,
         "time_to_detect_by_action": {"waveHands": {"instances": 3, "count": 3, "never_detected": 0.0, "p50": 266.7},
                                      "push": {"instances": 2, "count": 0, "never_detected": 1.0}}},
        {"people": 4, "backend": "onnxruntime", "stride": "1", "min_score": "0.35",
         "time_to_detect_by_action": {"walk": {"instances": 5, "count": 5, "never_detected": 0.0, "p50": 800.0}}},
    ]  # fmt: skip
    head, rule, first, second = action_table(cells).splitlines()
    assert head.split()[3:] == ["min", "push", "walk", "waveHands"] and set(rule) == {"-"}
    assert first.split()[3:] == ["ckpt", "never", "-", "267", "(3)"]
    assert second.split()[3:] == ["0.35", "-", "800", "(5)", "-"]
    assert action_table([{**cells[0], "time_to_detect_by_action": {}}]) == ""  # no ground truth: no table


def test_cells_with_too_few_actions_are_named_and_cells_without_ground_truth_are_not():
    def cell(people: int, instances: int | None) -> dict:
        detect = {} if instances is None else {"instances": instances, "p50": 400.0}
        return {"people": people, "time_to_detect": detect}

    warning = few_actions_warning([cell(1, 27), cell(2, 57), cell(4, MIN_ACTIONS), cell(8, None)])
    assert "1 person (27), 2 people (57):" in warning and "4 people" not in warning and "8 people" not in warning
    assert few_actions_warning([cell(4, MIN_ACTIONS), cell(8, 226), cell(1, None)]) == ""


@pytest.mark.parametrize("level", ["1", "1.2", "-0.1", "high", "nan"])
def test_a_min_score_that_stream_run_would_refuse_stops_the_benchmark_before_any_run(level, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--min-scores", CHECKPOINT_LEVEL, level])
    assert stop.value.code == 2
    assert f"'{CHECKPOINT_LEVEL}' or a probability from 0 to below 1, not '{level}'" in capsys.readouterr().err
