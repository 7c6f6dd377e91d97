"""Gesture events end to end: a replayed MSRC-12 recording through `stream-run`, received by another process.

The stream's gesture events must be exactly the events `models.point_events.detect_points` finds offline
on the same probabilities: the recording prepared as training prepares it, the windows cut by
`models.windows`, fused by `models.inference` as a causal stride-1 stream does (the runtime's own
resampler, batcher, backend and decoder are not used for the reference).
"""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from models.checkpoint import load_checkpoint
from models.datasets.msrc12 import MSRC12_GESTURES, read_msrc12
from models.inference import fused_probabilities, torch_logits
from models.point_events import detect_points
from models.skeleton.sequence import SkeletonSequence
from models.windows import prepare_sequence
from tests.conftest import shared_dataset
from tests.gesture_checkpoint import gesture_checkpoint
from tests.stream.conftest import default_sigint, free_endpoint

RECORDING = "P2_2_1_p05"  # 652 rows at 28.6 fps, 10 action points, one person throughout


def from_row(sequence: SkeletonSequence, first: int) -> SkeletonSequence:
    """The recording from row ``first`` on (where the stream's track begins)."""
    return SkeletonSequence(joints=sequence.joints[first:], mask=sequence.mask[first:], layout=sequence.layout,
                            fps=sequence.fps, frame_ids=sequence.frame_ids[first:], name=sequence.name)  # fmt: skip


@pytest.fixture(scope="module")
def recording():
    return shared_dataset("msrc12") / "data" / f"{RECORDING}.csv.xz"


@pytest.fixture(scope="module")
def gesture_model(tmp_path_factory, recording) -> str:
    return gesture_checkpoint(tmp_path_factory.mktemp("gestures"), recording)


def offline_events(checkpoint: str, recording, first_row: int) -> tuple[list, np.ndarray, SkeletonSequence]:
    """`detect_points` on the causal stride-1 probabilities of the recording from ``first_row``."""
    model, config = load_checkpoint(checkpoint)
    sequence = from_row(read_msrc12(recording), first_row)
    probabilities = fused_probabilities(torch_logits(model), prepare_sequence(sequence, config.fps), config, stride=1,
                                        lookahead=0)  # fmt: skip
    return detect_points(probabilities, config.points, config.fps), probabilities, sequence


def source_rows(sequence: SkeletonSequence, first_row: int, samples: np.ndarray, fps: float) -> np.ndarray:
    """The source row each model-rate sample is labelled with: the last row at or before its time."""
    times = (sequence.frame_ids - sequence.frame_ids[0]) / sequence.fps
    return first_row + np.searchsorted(times, samples / fps + 1e-6, side="right") - 1


def read_bag_events(path) -> list:
    from rosbags.rosbag2 import Reader

    from stream.ros2.interfaces import typestore

    store = typestore()
    with Reader(path) as reader:
        connections = [c for c in reader.connections if c.topic == "/skelstream/events"]
        return [store.deserialize_cdr(data, c.msgtype) for c, _, data in reader.messages(connections=connections)]


def test_a_subscriber_sees_exactly_the_offline_gesture_events_of_a_replayed_recording(gesture_model, recording,
                                                                                      tmp_path):  # fmt: skip
    pytest.importorskip("rosbags", reason="the bag part needs pip install skelstream[ros]")
    endpoint, stats, bag, received = free_endpoint(), tmp_path / "stats.json", tmp_path / "bag", tmp_path / "received"
    with received.open("w") as out:  # a file, not a pipe nobody reads during the run: the listener never blocks
        listener = subprocess.Popen([sys.executable, "-m", "stream.cli.listen", "--zmq", endpoint, "--topics",
                                     "actions,events", "--json-out"], stdout=out, stderr=subprocess.PIPE, text=True,
                                    preexec_fn=default_sigint)  # fmt: skip
    try:
        result = subprocess.run([sys.executable, "-m", "stream.cli.run", "--skeleton-file", str(recording), "--format",
                                 "msrc12", "--fast", "--checkpoint", gesture_model, "--backend", "torch",
                                 "--stride", "1", "--zmq", endpoint, "--wait-subscribers", "1", "--print-events",
                                 "--stats-json", str(stats), "--record-bag", str(bag)],
                                capture_output=True, text=True, timeout=300)  # fmt: skip
        time.sleep(2)  # the last messages reach the listener
    finally:
        listener.send_signal(signal.SIGINT)
        listener.communicate(timeout=30)
    assert result.returncode == 0, result.stderr
    messages = [json.loads(line) for line in received.read_text().splitlines()]
    actions = [m for m in messages if m["topic"] == "actions"]
    gestures = [m for m in messages if m["topic"] == "events" and m["kind"] == "gesture"]
    assert len({m["track"] for m in actions}) == 1, "one person, one track: the offline reference assumes it"
    first_row = actions[0]["frame"]  # the track's first sample: the row where the tracker confirmed the person

    expected, probabilities, sequence = offline_events(gesture_model, recording, first_row)
    assert len(expected) >= 10 and len({e.label for e in expected}) >= 5  # enough to tell right from wrong
    labels = ["background", *MSRC12_GESTURES]
    rows = source_rows(sequence, first_row, np.array([e.frame for e in expected]), 15.0)
    assert [(m["label"], m["frame"]) for m in gestures] == [(labels[e.label], int(r)) for e, r in zip(expected, rows)]
    assert [m["score"] for m in gestures] == pytest.approx([e.score for e in expected], abs=1e-4)
    assert [m["delay_ms"] for m in gestures] == pytest.approx([e.evidence_frames / 15.0 * 1e3 for e in expected])
    assert [m["label"] for m in actions] == [labels[k] for k in probabilities.argmax(axis=1)]  # and every label

    summary = json.loads(stats.read_text())
    assert summary["gestures"] == len(gestures) and summary["publisher"]["dropped"] == 0
    printed = [line for line in result.stdout.splitlines() if " gesture " in line]
    assert len(printed) == len(gestures)
    first = gestures[0]
    assert f"person {first['track']:<3} gesture {first['label']:<10} (score {first['score']:.2f}, " in printed[0]
    assert f"events {summary['events']} ({len(gestures)} gestures)" in result.stdout

    recorded = [(e.label, e.frame, e.delay.sec * 1e3 + e.delay.nanosec / 1e6) for e in read_bag_events(bag)
                if e.kind == 2]  # ActionEvent.GESTURE  # fmt: skip
    assert [(label, frame) for label, frame, _ in recorded] == [(m["label"], m["frame"]) for m in gestures]
    assert [delay for _, _, delay in recorded] == pytest.approx([m["delay_ms"] for m in gestures], abs=1e-6)
