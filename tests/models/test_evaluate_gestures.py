"""`stream-eval --dataset msrc12`: the action-point protocol on real recordings, its JSON interface, its errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

from models.checkpoint import load_checkpoint
from models.datasets.msrc12 import MSRC12_GESTURES
from models.datasets.registry import load_dataset
from models.evaluation.gestures import evaluate_gesture_detector, gesture_table
from models.inference import torch_logits
from tests.conftest import shared_dataset
from tests.gesture_checkpoint import gesture_checkpoint

EVALUATED = ("P2_2_1_p05", "P2_2_2A_p05")  # person 5
OTHERS = ("P1_1_3_p06", "P1_1_10_p06", "P1_1_1_p22", "P1_1_3_p28")  # what the baseline is fitted on
DELTAS = {"0.333", "0.5", "1.0"}


def stream_eval(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stream.cli.evaluate", *args], capture_output=True, text=True,
                          timeout=600)  # fmt: skip


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A small MSRC-12 folder: links to six real recordings and their tagstreams (three people)."""
    data = shared_dataset("msrc12") / "data"
    root = tmp_path_factory.mktemp("data")
    (root / "msrc12").mkdir()
    for name in EVALUATED + OTHERS:
        for suffix in (".csv.xz", ".tagstream"):
            (root / "msrc12" / f"{name}{suffix}").symlink_to(data / f"{name}{suffix}")
    return root


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, root):
    return gesture_checkpoint(tmp_path_factory.mktemp("gestures"), root / "msrc12" / f"{EVALUATED[0]}.csv.xz")


def test_the_protocol_is_causal_by_default_and_its_json_is_the_stable_interface(root, checkpoint, tmp_path):
    out = tmp_path / "gestures.json"
    result = stream_eval("--checkpoint", checkpoint, "--dataset", "msrc12", "--root", str(root), "--subjects", "5",
                         "--json", str(out), "--confusion", str(tmp_path / "confusion.png"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    metrics = json.loads(out.read_text())
    confusion = metrics["confusion"]  # what each mistake was, at the widest Δ
    assert confusion["rows"] == [*MSRC12_GESTURES, "no gesture"] and confusion["columns"][-1] == "missed"
    counts = np.array(confusion["counts"])
    assert counts[:-1].sum() == 20 and counts.diagonal()[:-1].sum() == metrics["counts"]["1.0"]["correct"]
    assert (tmp_path / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for key in ("event_f1", "event_precision", "event_recall"):
        assert set(metrics[key]) == DELTAS and all(0 <= v <= 1 for v in metrics[key].values()), key
    assert set(metrics["per_gesture"]) == set(MSRC12_GESTURES)
    assert set(metrics["per_gesture"]["duck"]) == {"f1", "precision", "recall"}
    assert set(metrics["per_gesture"]["duck"]["f1"]) == DELTAS
    assert {"p50", "p90", "count"} <= set(metrics["delay_ms"]) and metrics["delay_ms"]["count"] > 0
    assert (metrics["num_recordings"], metrics["num_points"], metrics["subjects"]) == (2, 20, [5])
    assert (metrics["stride"], metrics["lookahead_frames"]) == (1, 0)  # what stream-run does
    assert metrics["rules"] == {"threshold": 0.5, "release": 0.3, "refractory_s": 0.5, "confirm_frames": 1,
                                "peak_frames": 3, "peak_drop": 0.05}  # fmt: skip
    assert "with_lookahead" not in metrics and "baseline" not in metrics

    model, config = load_checkpoint(checkpoint)  # the same figures, computed here
    sequences = load_dataset("msrc12", root, [5])
    direct = evaluate_gesture_detector(torch_logits(model), config, sequences)
    assert metrics["counts"] == direct["counts"] and metrics["event_f1"] == pytest.approx(direct["event_f1"])
    assert sum(metrics["counts"]["1.0"].values()) > 20  # events were made: there was something to score
    head = result.stdout.splitlines()[0]
    assert head.startswith("msrc12: 2 recordings, 20 action points, ") and head.endswith(", stride 1")
    assert result.stdout.splitlines()[2].startswith("causal ")


def test_lookahead_and_the_baseline_add_rows_on_the_same_protocol(root, checkpoint, tmp_path):
    out = tmp_path / "gestures.json"
    result = stream_eval("--checkpoint", checkpoint, "--dataset", "msrc12", "--root", str(root), "--subjects", "5",
                         "--lookahead", "2", "--baseline", "--json", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    metrics = json.loads(out.read_text())
    assert metrics["lookahead_frames"] == 0 and metrics["with_lookahead"]["lookahead_frames"] == 2
    baseline = metrics["baseline"]
    assert baseline["train_recordings"] == len(OTHERS) and baseline["point_span_s"] == [1.0, 0.2]
    for scores in (metrics["with_lookahead"], baseline, baseline["with_lookahead"]):
        assert set(scores["event_f1"]) == DELTAS and set(scores["per_gesture"]) == set(MSRC12_GESTURES)
        assert scores["num_points"] == 20
    assert baseline["with_lookahead"]["lookahead_frames"] == 2
    assert baseline["counts"]["1.0"]["correct"] > 0  # fitted on three other people, it finds some gestures
    lines = result.stdout.splitlines()
    assert [line.split("  ")[0] for line in lines[2:6]] == ["causal", "lookahead 2", "baseline",
                                                            "baseline, lookahead 2"]  # fmt: skip
    assert gesture_table({"causal": metrics}).splitlines()[1].startswith("causal")


@pytest.mark.parametrize(("args", "message"), [
    (["--lookahead", "all"], "--lookahead all gives gesture events no time"),
    (["--baseline"], "--baseline fits on the people not evaluated: give --subjects"),
    (["--subjects", "5,6,22,28", "--baseline"], "--baseline fits on the people not evaluated"),
    (["--subjects", "7"], "no msrc12 files for subjects 7"),
])  # fmt: skip
def test_what_the_protocol_cannot_do_exits_2_with_one_line(root, checkpoint, args, message):
    result = stream_eval("--checkpoint", checkpoint, "--dataset", "msrc12", "--root", str(root), *args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_a_checkpoint_without_gesture_rules_is_refused(root, tmp_path):
    plain = gesture_checkpoint(tmp_path / "plain", root / "msrc12" / f"{EVALUATED[0]}.csv.xz", rules=None)
    result = stream_eval("--checkpoint", plain, "--dataset", "msrc12", "--root", str(root), "--subjects", "5")
    assert result.returncode == 2
    assert "declares no gesture events (config.json events.points)" in result.stderr
