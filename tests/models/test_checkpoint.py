"""Checkpoint directories: round trip, and clear errors for every mismatch."""

import json

import pytest
import torch

from models.action_runs import EventRules
from models.checkpoint import (CheckpointConfig, CheckpointError, build_model, load_checkpoint, read_config,
                               save_checkpoint)  # fmt: skip
from models.dste_config import DSTEConfig
from models.point_events import PointRules

LABELS = ["background", "walk", "wave"]


def _config(task: str = "detection", labels=LABELS) -> CheckpointConfig:
    model = DSTEConfig(dim=32, depth=1, T=16, num_classes=len(labels), frame_spatial_dim=8)
    return CheckpointConfig(model=model, task=task, labels=list(labels), fps=15.0)


@pytest.fixture
def saved(tmp_path):
    config = _config()
    torch.manual_seed(0)
    model = build_model(config).eval()
    save_checkpoint(tmp_path / "ckpt", model, config)
    return tmp_path / "ckpt", model, config


def test_round_trip_keeps_outputs_and_config(saved):
    directory, model, config = saved
    loaded, loaded_config = load_checkpoint(directory, layout="unified_30", num_frames=16, labels=LABELS)
    x = torch.randn(3, 3, 16, 30, 2)
    assert torch.allclose(model(x), loaded(x), atol=2e-2)  # float16 storage
    assert loaded_config.to_dict() == config.to_dict()
    assert not loaded.training


def test_classification_round_trip(tmp_path):
    config = _config("classification", labels=["a", "b"])
    save_checkpoint(tmp_path, build_model(config), config)
    model, loaded = load_checkpoint(tmp_path)
    assert loaded.task == "classification" and model(torch.randn(1, 3, 16, 30, 2)).shape == (1, 2)


@pytest.mark.parametrize(
    ("expect", "message"),
    [({"layout": "coco_17"}, "layout"), ({"num_frames": 64}, "T=16"), ({"labels": ["background", "x", "y"]}, "labels")],
)
def test_mismatch_with_expectations(saved, expect, message):
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(saved[0], **expect)


def test_missing_or_broken_files(saved, tmp_path):
    with pytest.raises(CheckpointError, match="checkpoint .*nowhere does not exist"):
        read_config(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="no config.json"):
        read_config(tmp_path / "empty")
    (tmp_path / "model.onnx").write_bytes(b"")
    with pytest.raises(CheckpointError, match="is a file, not a checkpoint directory: an exported ONNX model runs on"):
        read_config(tmp_path / "model.onnx")
    directory = saved[0]
    (directory / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(CheckpointError, match="unreadable weights"):
        load_checkpoint(directory)
    (directory / "config.json").write_text("{broken")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        read_config(directory)


def test_config_errors_name_the_problem(saved):
    directory = saved[0]
    data = json.loads((directory / "config.json").read_text())
    for change, message in [({"labels": ["background"]}, "1 labels"), ({"fps": 0}, "fps"),
                            ({"model": {**data["model"], "dim": "wide"}}, "dim"), ({"format": "other"}, "format"),
                            ({"labels": ["walk", "background", "wave"]}, "background")]:  # fmt: skip
        (directory / "config.json").write_text(json.dumps({**data, **change}))
        with pytest.raises(CheckpointError, match=message):
            read_config(directory)


def test_weights_that_do_not_fit_the_config(saved):
    directory, _, config = saved
    bigger = CheckpointConfig(model=DSTEConfig(dim=64, depth=1, T=16, num_classes=3, frame_spatial_dim=8),
                              task="detection", labels=LABELS, fps=15.0)  # fmt: skip
    (directory / "config.json").write_text(json.dumps(bigger.to_dict()))
    with pytest.raises(CheckpointError, match="shape"):
        load_checkpoint(directory)


def test_point_events_are_checkpoint_metadata_that_round_trips(saved):
    directory, model, config = saved
    assert "events" not in json.loads((directory / "config.json").read_text())  # none declared: none written
    config.points = PointRules(threshold=0.7, release=0.35, refractory_s=0.8, confirm_frames=2, peak_frames=4)
    save_checkpoint(directory, model, config)
    data = json.loads((directory / "config.json").read_text())
    assert data["events"] == {"points": {"threshold": 0.7, "release": 0.35, "refractory_s": 0.8, "confirm_frames": 2,
                                         "peak_frames": 4, "peak_drop": 0.05}}  # fmt: skip
    assert read_config(directory).points == config.points
    assert CheckpointConfig.from_dict(config.to_dict()) == config
    assert read_config(directory).runs is None  # no action-event rules declared: the stream's defaults
    config.runs = EventRules(0.6, 0.4, 8, confident_threshold=0.8, confident_frames=4)
    save_checkpoint(directory, model, config)
    data = json.loads((directory / "config.json").read_text())
    assert data["events"]["runs"] == {"enter_threshold": 0.6, "exit_threshold": 0.4, "min_duration_frames": 8,
                                      "exit_frames": 1, "confident_threshold": 0.8, "confident_frames": 4}  # fmt: skip
    assert (read_config(directory).runs, read_config(directory).points) == (config.runs, config.points)


@pytest.mark.parametrize(("events", "message"), [
    ([1], "events must be a mapping"),
    ({"segments": {}}, "unknown kinds segments; known: points, runs"),
    ({"points": 0.5}, "events.points must be a mapping"),
    ({"points": {"threshold": 1.5}}, r"events.points: threshold must be in \(0, 1\]"),
    ({"points": {"threshold": 0.4, "release": 0.5}}, "events.points: release 0.5 exceeds threshold 0.4"),
    ({"points": {"refractory": 1}}, "events.points: unknown keys refractory"),
    ({"points": {"confirm_frames": 0}}, "confirm_frames must be an integer >= 1"),
    ({"runs": [0.6]}, "events.runs must be a mapping of enter_threshold"),
    ({"runs": {"min_duration": 4}}, "events.runs: unknown keys min_duration"),
    ({"runs": {"confident_threshold": 0.5}}, r"events.runs: confident_threshold must be in \[enter_threshold, 1\]"),
])  # fmt: skip
def test_bad_event_rules_name_the_file_and_the_key(saved, events, message):
    directory = saved[0]
    data = json.loads((directory / "config.json").read_text())
    (directory / "config.json").write_text(json.dumps({**data, "events": events}))
    with pytest.raises(CheckpointError, match=rf"config.json: .*{message}"):
        read_config(directory)


@pytest.mark.parametrize("rules", [{"points": PointRules()}, {"runs": EventRules()}])
def test_event_rules_need_a_detection_checkpoint(rules):
    with pytest.raises(CheckpointError, match="detection checkpoint"):
        CheckpointConfig(model=_config("classification", ["a", "b"]).model, task="classification", labels=["a", "b"],
                         fps=15.0, **rules)  # fmt: skip


def test_min_score_is_checkpoint_metadata_that_round_trips(saved):
    directory, model, config = saved
    assert "min_score" not in json.loads((directory / "config.json").read_text())  # 0: not written
    config.min_score = 0.55
    save_checkpoint(directory, model, config)
    assert json.loads((directory / "config.json").read_text())["min_score"] == 0.55
    assert read_config(directory).min_score == 0.55


@pytest.mark.parametrize("value", [1.0, -0.1, "0.5", True])
def test_a_bad_min_score_names_the_file(saved, value):
    directory = saved[0]
    data = json.loads((directory / "config.json").read_text())
    (directory / "config.json").write_text(json.dumps({**data, "min_score": value}))
    with pytest.raises(CheckpointError, match=r"config.json: min_score must be a number in \[0, 1\)"):
        read_config(directory)
