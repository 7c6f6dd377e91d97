"""Time to detect against cases worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import pytest
import torch

from models.evaluation.time_to_detect import (DetectionDelays, Output, TrueAction, detection_delays, time_to_detect,
                                              truths_from_frame_labels)  # fmt: skip


def test_segment_delays_count_only_outputs_inside_the_segment_naming_it():
    truths = [TrueAction(1, "wave", 10.0, 12.0), TrueAction(1, "sit", 20.0, 21.0)]
    outputs = [
        Output("label", 1, "wave", 9.9, 9.95),  # before the true start: not this instance
        Output("label", 1, "walk", 10.2, 10.25),  # names another action
        Output("label", 1, "wave", 10.4, 10.45),  # first that counts: 10.45 - 10.0 = 0.45 s
        Output("label", 1, "wave", 10.6, 10.65),  # later: the first one decides
        Output("start", 1, "wave", 10.3, 10.9),  # the start event: 10.9 - 10.0 = 0.9 s
        Output("label", 2, "sit", 20.5, 20.6),  # another subject: not track 1's "sit"
    ]
    summary = time_to_detect(truths, outputs)
    # "sit" of track 1 was never named: 1 of 2 instances missed by labels and by start events.
    assert summary["label"] == {"instances": 2, "detected": 1, "never_detected": 0.5,
                                "p50": pytest.approx(450.0), "p95": pytest.approx(450.0),
                                "p99": pytest.approx(450.0)}  # fmt: skip
    assert summary["start"]["detected"] == 1 and summary["start"]["p50"] == pytest.approx(900.0)



def test_each_action_gets_its_own_delays_and_misses():
    truths = [TrueAction(1, "wave", 10.0, 12.0), TrueAction(2, "wave", 10.0, 12.0), TrueAction(1, "push", 20.0, 22.0),
              TrueAction(2, "push", 20.0, 22.0), TrueAction(2, "walk", 30.0, 31.0)]  # fmt: skip
    outputs = [
        Output("label", 1, "wave", 10.1, 10.2),  # 0.2 s
        Output("label", 2, "wave", 10.3, 10.4),  # 0.4 s
        Output("label", 1, "push", 20.7, 20.8),  # 0.8 s; track 2's push is never named, nor its walk
        Output("start", 1, "wave", 10.0, 10.6),  # 0.6 s
    ]
    delays = detection_delays(truths, outputs)
    by_action = delays.by_action()
    assert list(by_action["label"]) == ["push", "walk", "wave"]
    assert by_action["label"]["wave"] == {"instances": 2, "detected": 2, "never_detected": 0.0,
                                          "p50": pytest.approx(300.0), "p95": pytest.approx(390.0),
                                          "p99": pytest.approx(398.0)}  # fmt: skip
    push = by_action["label"]["push"]
    assert push["never_detected"] == 0.5 and push["p50"] == pytest.approx(800.0)
    assert by_action["label"]["walk"] == {"instances": 1, "detected": 0, "never_detected": 1.0}
    assert by_action["start"]["wave"]["detected"] == 1 and by_action["start"]["push"]["detected"] == 0
    # The actions add up to the pooled figures.
    pooled = delays.summary()["label"]
    assert sum(e["instances"] for e in by_action["label"].values()) == pooled["instances"] == 5
    assert sum(e["detected"] for e in by_action["label"].values()) == pooled["detected"] == 3

def test_the_earliest_available_output_decides_whatever_the_order_given():
    truths = [TrueAction("seq", "wave", 1.0, 3.0)]
    # The output labelling the later frame became available first (a window that finalised it sooner).
    outputs = [Output("label", "seq", "wave", 1.2, 2.0), Output("label", "seq", "wave", 1.8, 1.9)]
    assert time_to_detect(truths, outputs)["label"]["p50"] == pytest.approx(900.0)


def test_action_points_count_outputs_around_the_point_even_before_it():
    # Point at 5.0 s, span [4.0, 6.0]: a label for 4.5 s published at 4.6 s is 0.4 s early.
    truths = [TrueAction(0, "kick", 5.0, point=True), TrueAction(0, "kick", 9.0, point=True)]
    outputs = [Output("label", 0, "kick", 4.5, 4.6), Output("label", 0, "kick", 10.5, 10.6)]  # 10.5 > 9 + 1
    summary = time_to_detect(truths, outputs)
    assert summary["label"]["detected"] == 1 and summary["label"]["never_detected"] == 0.5
    assert summary["label"]["p50"] == pytest.approx(-400.0)


def test_live_action_point_sees_the_outputs_that_came_before_it():
    delays = DetectionDelays(before_s=1.0, after_s=1.0)
    delays.output("label", 3, "kick", 4.5, 4.6)  # published before the point is known
    delays.begin(3, "kick", 5.0, point=True)  # the source marks the point when its frame arrives
    delays.close(3)
    assert delays.summary()["label"]["p50"] == pytest.approx(-400.0)


def test_live_segments_open_at_the_onset_and_end_when_the_truth_changes():
    delays = DetectionDelays(grace_s=5.0)
    delays.begin(7, "wave", 10.0)
    delays.output("label", 7, "wave", 10.4, 10.5)  # 0.5 s
    delays.end(7, 12.0)
    delays.output("label", 7, "wave", 12.1, 12.2)  # after the end: counts for nothing
    delays.output("label", 7, "background", 16.0, 16.1)
    delays.output("start", 7, "wave", 10.1, 16.2)  # dated inside the segment, published late: still counts
    assert delays.summary()["start"]["detected"] == 1
    assert delays.summary()["start"]["p50"] == pytest.approx(6200.0)
    # An instance nobody names is decided as missed once the outputs are grace_s past it, before close.
    delays.begin(7, "sit", 20.0)
    delays.end(7, 21.0)
    assert delays.summary()["label"]["instances"] == 1
    delays.output("label", 7, "background", 26.5, 26.6)  # 26.5 > 21 + 5
    summary = delays.summary()
    assert summary["label"] == {"instances": 2, "detected": 1, "never_detected": 0.5, "p50": pytest.approx(500.0),
                                "p95": pytest.approx(500.0), "p99": pytest.approx(500.0)}  # fmt: skip


def test_close_decides_open_instances_and_nothing_decided_reports_zero():
    delays = DetectionDelays()
    assert delays.summary()["label"] == {"instances": 0, "detected": 0, "never_detected": 0.0}
    delays.begin(1, "wave", 1.0)  # never ended, never named: the track is lost
    delays.close(1)
    assert delays.summary()["start"] == {"instances": 1, "detected": 0, "never_detected": 1.0}


def test_percentiles_over_many_instances():
    delays = DetectionDelays()
    for i in range(100):  # delays 0.01, 0.02, ..., 1.00 s
        delays.add(TrueAction(i, "wave", 0.0, 2.0))
        delays.output("label", i, "wave", 0.0, (i + 1) / 100)
    summary = delays.summary()["label"]
    assert summary["p50"] == pytest.approx(505.0)  # numpy's linear interpolation between 500 and 510 ms
    assert summary["p95"] == pytest.approx(950.5)
    assert len(delays.delays("label")) == 100


def test_truths_from_frame_labels():
    labels = [None, "wave", "wave", "background", "sit", "sit"]
    times = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    truths = truths_from_frame_labels("s", labels, times, background="background")
    assert truths == [TrueAction("s", "wave", 0.1, 0.3), TrueAction("s", "sit", 0.4, pytest.approx(0.6))]
    assert truths_from_frame_labels("s", ["sit"], [2.0], end_s=2.5) == [TrueAction("s", "sit", 2.0, 2.5)]


@pytest.mark.parametrize("kwargs", [{"before_s": -1}, {"after_s": math.nan}, {"grace_s": "5"}, {"keep": 0}])
def test_invalid_parameters_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        DetectionDelays(**kwargs)


def test_bad_truths_and_outputs_raise_value_error():
    delays = DetectionDelays()
    with pytest.raises(ValueError, match="finite start"):
        delays.add(TrueAction(1, "wave", 2.0, 1.0))
    with pytest.raises(ValueError, match="kind"):
        delays.output("end", 1, "wave", 0.0, 0.0)
    with pytest.raises(ValueError, match="labels for"):
        truths_from_frame_labels(1, ["a", "b"], [0.0])


def test_stream_eval_times_msrc12_from_its_action_points(data_root):
    from models.checkpoint import CheckpointConfig, build_model
    from models.datasets.msrc12 import MSRC12_GESTURES, read_msrc12
    from models.dste_config import DSTEConfig
    from models.evaluation.runner import evaluate_detection

    folder = data_root / "msrc12" / "data"
    if not (folder / "P1_1_1_p06.csv.xz").is_file():
        pytest.skip(f"{folder / 'P1_1_1_p06.csv.xz'} is absent")
    sequence = read_msrc12(folder / "P1_1_1_p06.csv.xz", folder / "P1_1_1_p06.tagstream")
    labels = ["background", *MSRC12_GESTURES]
    config = CheckpointConfig(model=DSTEConfig(dim=32, depth=1, T=16, num_classes=len(labels), frame_spatial_dim=8),
                              task="detection", labels=labels, fps=15.0)  # fmt: skip
    metrics = evaluate_detection(build_model(config).eval(), config, [sequence], stride=1, lookahead=0)
    detect = metrics["time_to_detect"]["label"]
    assert detect["instances"] == len(sequence.action_points) >= 5  # one per action point (no segments here)


def test_offline_and_causal_readings_from_one_pass_equal_two_evaluations(data_root):
    from models.checkpoint import CheckpointConfig, build_model
    from models.datasets.registry import load_dataset
    from models.dste_config import DSTEConfig
    from models.evaluation.runner import evaluate_detection, evaluate_detection_each
    from models.datasets.utkinect import UTKINECT_ACTIONS

    sequences = load_dataset("utkinect", data_root / "utkinect_action3d", [5])[:2]
    labels = ["background", *UTKINECT_ACTIONS]
    config = CheckpointConfig(model=DSTEConfig(dim=32, depth=1, T=16, num_classes=len(labels), frame_spatial_dim=8),
                              task="detection", labels=labels, fps=15.0)  # fmt: skip
    torch.manual_seed(0)
    model = build_model(config).eval()
    offline, causal = evaluate_detection_each(model, config, sequences, 4, (None, 0))
    assert offline == evaluate_detection(model, config, sequences, stride=4)
    assert causal == evaluate_detection(model, config, sequences, stride=4, lookahead=0)
    assert offline["frame_map"] != causal["frame_map"]
