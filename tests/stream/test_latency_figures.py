"""What a run reports about its speed: time to detect, the stride it chose, where a label's latency went."""

import time

import pytest

from models.datasets.utkinect import UTKINECT_ACTIONS
from stream.backends.torch_backend import TorchBackend
from stream.messages.builders import status_message
from stream.run.pipeline import LABEL_PARTS, Pipeline
from stream.run.report import summary_table
from stream.publishers.zmq_publisher import ZmqPublisher
from stream.run.config import RunConfig
from stream.sources import make_source
from stream.run.assembly import make_source_config
from tests.stream.conftest import free_endpoint


class Collecting(ZmqPublisher):
    """The real publisher, also keeping the labels and the last status it published."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.labels, self.status = [], None

    def publish_label(self, label):
        self.labels.append(label)
        return super().publish_label(label)

    def publish_status(self, stats, frame=-1):
        self.status = status_message(self.stream_name, stats, frame)  # validated against the schema
        return super().publish_status(stats, frame)


class SlowBackend(TorchBackend):
    """The real torch backend, slowed like a loaded machine: 50 ms a window."""

    def run(self, windows):
        time.sleep(0.05 * len(windows))
        return super().run(windows)


def _run(config: RunConfig, backend) -> tuple:
    source = make_source(make_source_config(config))
    with source, Collecting(free_endpoint()) as publisher:
        summary = Pipeline(config, source, backend, publisher, status_line=False).run()
    return summary, publisher


def test_time_to_detect_stride_and_label_parts_are_reported(checkpoint):
    config = RunConfig(source="synthetic", people=2, seconds=20.0, checkpoint=checkpoint, fast=True, stride=1)
    summary, publisher = _run(config, TorchBackend(checkpoint, threads=1))
    detect = summary.latency_ms["time_to_detect"]
    assert detect["instances"] >= 4 and 0 <= detect["never_detected"] <= 1 and detect["count"] <= detect["instances"]
    assert set(summary.latency_ms["time_to_start"]) >= {"instances", "never_detected", "count"}
    assert summary.stride == {"mode": "pinned", "stride": 1, "changes": []}
    parts = {part: summary.latency_ms[f"label.{part}"] for part in LABEL_PARTS}
    assert all(p["count"] == parts["model"]["count"] > 0.9 * summary.labels for p in parts.values())
    assert parts["resample"]["p99"] == 0.0  # 15 fps ticks fall on 30 fps frames
    assert parts["window"]["p99"] == 0.0  # stride 1: a sample's own frame runs its window
    assert parts["model"]["p50"] > 0
    assert "time_to_detect" in publisher.status["latency_ms"] or detect["count"] == 0
    by_action = summary.detect_by_action  # the same instances, per action
    assert sum(e["instances"] for e in by_action.values()) == detect["instances"]
    assert sum(e["count"] for e in by_action.values()) == detect["count"]
    assert by_action and set(by_action) <= set(UTKINECT_ACTIONS)  # the scene's actions the model can name
    assert "time_to_detect_by_action" not in publisher.status["latency_ms"]  # the summary only, not status
    assert "time to detect by action, true start → first label: p50" in summary_table(summary, "")


def test_the_automatic_stride_grows_under_load_and_every_frame_is_still_labelled_once(checkpoint):
    config = RunConfig(source="synthetic", people=2, seconds=12.0, checkpoint=checkpoint)  # real time
    summary, publisher = _run(config, SlowBackend(checkpoint, threads=1))
    # 2 tracks at 15 fps, 50 ms a window: 1.5 s of model per second at stride 1 > 0.75: it has to grow
    assert summary.stride["mode"] == "auto" and summary.stride["stride"] >= 2
    first = summary.stride["changes"][0]
    assert first["old"] == 1 and first["new"] >= 2 and first["load"] > first["budget"]
    by_track = {}
    for label in publisher.labels:
        by_track.setdefault(label.track_id, []).append(label.frame)
    assert all(frames == sorted(set(frames)) for frames in by_track.values())  # once each, in order
    assert summary.labels == len(publisher.labels) and not any(label.label == "failed" for label in publisher.labels)
    # labels at the model's 15 fps: about every other frame the loop took, for each person (counted against the
    # frames taken, not the 360 sent: a machine too loaded to keep up drops frames at capture, as it should)
    assert summary.frames > 0 and sum(len(frames) for frames in by_track.values()) >= 0.45 * 2 * summary.frames


def test_offline_the_automatic_stride_stays_at_1_whatever_the_load(checkpoint):
    """--fast has no real time to keep up with: the labels must not depend on how loaded the machine is."""
    config = RunConfig(source="synthetic", people=2, seconds=3.0, checkpoint=checkpoint, fast=True)
    summary, publisher = _run(config, SlowBackend(checkpoint, threads=1))
    assert summary.stride == {"mode": "auto", "stride": 1, "changes": []}
    assert summary.labels == len(publisher.labels) == summary.frames  # 2 people, each at the model's 15 of 30 fps


def test_an_msrc12_replay_is_timed_from_its_action_points(tmp_path, data_root):
    from models.checkpoint import CheckpointConfig, build_model, save_checkpoint
    from models.datasets.msrc12 import MSRC12_GESTURES, read_msrc12
    from models.dste_config import DSTEConfig

    folder = data_root / "msrc12" / "data"
    recording = folder / "P1_1_1_p06.csv.xz"
    if not recording.is_file():
        pytest.skip(f"{recording} is absent")
    labels = ["background", *MSRC12_GESTURES]
    config = CheckpointConfig(model=DSTEConfig(dim=32, depth=1, T=16, num_classes=len(labels), frame_spatial_dim=8),
                              task="detection", labels=labels, fps=15.0)  # fmt: skip
    save_checkpoint(tmp_path / "ckpt", build_model(config), config)
    checkpoint = str(tmp_path / "ckpt")
    points = read_msrc12(recording, folder / "P1_1_1_p06.tagstream").action_points
    run = RunConfig(source="skeleton-file", skeleton_file=str(recording), format="msrc12", fast=True,
                    checkpoint=checkpoint, stride=1)  # fmt: skip
    summary, _ = _run(run, TorchBackend(checkpoint, threads=1))
    detect = summary.latency_ms["time_to_detect"]
    assert len(points) >= 5 and detect["instances"] == len(points)  # every action point decided, detected or not
    assert summary.scored == 0 and not summary.has_truth  # points are no per-frame truth: no frame accuracy
