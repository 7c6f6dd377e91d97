"""Shipped checkpoints by name: discovered from their directories, resolved, described from their configs."""

from pathlib import Path

import pytest

from models.action_runs import EventRules
from models.checkpoint import CheckpointConfig, CheckpointError, build_model, read_config, save_checkpoint
from models.datasets.msrc12 import MSRC12_GESTURES
from models.dste_config import DSTEConfig
from models.point_events import PointRules
from models.pretrained import (CHECKPOINTS, DEFAULT_CHECKPOINT, DEFAULT_NAME, describe_checkpoint, resolve_checkpoint,
                               shipped_checkpoints)  # fmt: skip


def gesture_config() -> CheckpointConfig:
    labels = ["background", *MSRC12_GESTURES]
    return CheckpointConfig(
        model=DSTEConfig(dim=32, depth=1, T=16, num_classes=len(labels), frame_spatial_dim=8, layout="unified_30"),
        task="detection", labels=labels, fps=15.0, points=PointRules(threshold=0.6, release=0.3, refractory_s=0.5, peak_frames=5),
        training={"config": {"train": ["msrc12:!5,9,13,18,23,29"], "val": ["msrc12:5,9,13,18,23,29"]}},
        metrics={"validation": {"event_f1": {"0.333": 0.91, "1.0": 0.95}, "per_gesture": {"duck": {"f1": {}}},
                                "num_recordings": 178}},
    )  # fmt: skip


@pytest.fixture
def folder(tmp_path):
    """A checkpoints folder of our own: two checkpoints, a directory without a config, a stray file."""
    shipped = tmp_path / "shipped"
    config = gesture_config()
    for name in ("gestures", "actions"):
        save_checkpoint(shipped / name, build_model(config), config)
    (shipped / "notes").mkdir()
    (shipped / "README.md").write_text("not a checkpoint")
    return shipped


def test_every_directory_with_a_config_is_a_shipped_checkpoint(folder):
    assert shipped_checkpoints(folder) == {"actions": folder / "actions", "gestures": folder / "gestures"}
    assert shipped_checkpoints(folder / "absent") == {}


def test_the_default_is_the_shipped_actions_checkpoint():
    assert DEFAULT_NAME == "actions" and DEFAULT_CHECKPOINT == CHECKPOINTS / "actions"
    assert shipped_checkpoints()["actions"] == DEFAULT_CHECKPOINT
    assert resolve_checkpoint("actions") == DEFAULT_CHECKPOINT


@pytest.mark.parametrize("name", sorted(shipped_checkpoints()))
def test_every_shipped_checkpoint_carries_its_own_current_onnx(name):
    """The runtime install (no torch) runs a shipped checkpoint from its own model.onnx only when that was
    exported from these weights and this config.json: editing either needs
    ``stream-export --checkpoint NAME --into-checkpoint`` again."""
    from models.export.onnx_export import META_FINGERPRINT, RUNTIME_ONNX, checkpoint_fingerprint, onnx_metadata

    directory = shipped_checkpoints()[name]
    assert onnx_metadata(directory / RUNTIME_ONNX).get(META_FINGERPRINT) == checkpoint_fingerprint(directory), (
        f"{directory / RUNTIME_ONNX} is out of date: stream-export --checkpoint {name} --into-checkpoint")


def test_names_resolve_and_paths_stay_paths(folder, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert resolve_checkpoint("gestures", folder) == folder / "gestures"
    for path in ("runs/x/checkpoint", "./gestures", str(folder / "gestures"), "dste-small.onnx", "gestures/"):
        assert resolve_checkpoint(path, folder) == Path(path)  # a separator or a dot: a path, existing or not
    (work / "gestures").mkdir()  # a bare name of something in the current folder is that thing
    assert resolve_checkpoint("gestures", folder) == Path("gestures")
    with pytest.raises(CheckpointError, match=r"unknown checkpoint 'gesture': the shipped checkpoints are actions, "
                                              r"gestures \(stream-run --list-checkpoints\)"):
        resolve_checkpoint("gesture", folder)
    with pytest.raises(CheckpointError, match="shipped checkpoints are none"):
        resolve_checkpoint("gesture", tmp_path / "absent")
    with pytest.raises(CheckpointError, match="got ''"):
        resolve_checkpoint("", folder)


def test_a_description_shows_labels_data_events_and_validation(folder):
    text = describe_checkpoint("gestures", read_config(folder / "gestures"))
    lines = text.splitlines()
    assert lines[0] == "gestures: dste-small detection, 12 classes + background at 15 fps, windows of 16 frames"
    assert lines[1] == "  labels: " + ", ".join(MSRC12_GESTURES)
    assert lines[2] == "  trained on: msrc12:!5,9,13,18,23,29; validated on msrc12:5,9,13,18,23,29"
    assert lines[3] == ("  gesture events: threshold 0.6, release 0.3, refractory 0.5 s, confirm 1 frame(s), at the peak "
                        "within 5 frame(s)")
    assert lines[4] == "  validation: event_f1@0.333 0.910, event_f1@1.0 0.950"  # per-gesture maps and counts left out
    config = read_config(folder / "gestures")
    config.runs = EventRules(min_duration_frames=8, confident_threshold=0.8, confident_frames=4)
    assert describe_checkpoint("gestures", config).splitlines()[4] == (
        "  start/end events: enter 0.6, exit 0.4, start after 8 frame(s), or 4 frame(s) at 0.8")
    assert describe_checkpoint("actions", read_config(DEFAULT_CHECKPOINT)).startswith("actions (default): ")
