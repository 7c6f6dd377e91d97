"""`stream-eval` and `stream-train` as a user runs them: real data, JSON out, exit codes."""

import json
import subprocess
import sys

import pytest

from models.checkpoint import CheckpointConfig, build_model, save_checkpoint
from models.datasets.msr_action3d import MSR_ACTION3D_ACTIONS
from models.datasets.utkinect import UTKINECT_ACTIONS
from models.dste_config import DSTEConfig


def _run(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=600)


def _checkpoint(path, task, labels):
    model = DSTEConfig(dim=32, depth=1, T=16, num_classes=len(labels), frame_spatial_dim=8)
    config = CheckpointConfig(model=model, task=task, labels=labels, fps=15.0)
    save_checkpoint(path, build_model(config), config)
    return path


def test_eval_detection_on_utkinect(data_root, tmp_path):
    ckpt = _checkpoint(tmp_path / "det", "detection", ["background", *UTKINECT_ACTIONS])
    out = tmp_path / "out.json"
    result = _run("models.cli.evaluate", "--checkpoint", str(ckpt), "--dataset", "utkinect",
                  "--root", str(data_root / "utkinect_action3d"), "--subjects", "5,6,9", "--json", str(out),
                  "--confusion", str(tmp_path / "c.png"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    metrics = json.loads(out.read_text())
    assert set(metrics["segment_map"]) == {"0.1", "0.3", "0.5"}
    assert 0 <= metrics["frame_accuracy"] <= 1 and 0 <= metrics["frame_map"] <= 1
    assert metrics["num_sequences"] == 4  # subject 9 has no files: what is there is evaluated
    assert "frame_accuracy" in result.stdout and (tmp_path / "c.png").stat().st_size > 0
    detect = metrics["time_to_detect"]
    assert detect["label"]["instances"] == 40  # 4 sequences, each with the 10 actions once
    by_action = metrics["time_to_detect_by_action"]["label"]
    assert list(by_action) == sorted(UTKINECT_ACTIONS) and {e["instances"] for e in by_action.values()} == {4}
    assert "time_to_detect.label[waveHands].never_detected" in result.stdout
    assert metrics["fusion"] == {"stride": 8, "lookahead": None, "fusion": "recent", "min_score": 0.0}


def test_eval_as_the_stream_labels_causal_at_stride_1(data_root, tmp_path):
    ckpt = _checkpoint(tmp_path / "det", "detection", ["background", *UTKINECT_ACTIONS])
    out = tmp_path / "out.json"
    result = _run("models.cli.evaluate", "--checkpoint", str(ckpt), "--dataset", "utkinect",
                  "--root", str(data_root / "utkinect_action3d"), "--subjects", "5", "--json", str(out),
                  "--stride", "1", "--lookahead", "0", "--fusion", "mean")  # fmt: skip
    assert result.returncode == 0, result.stderr
    metrics = json.loads(out.read_text())
    assert metrics["fusion"] == {"stride": 1, "lookahead": 0, "fusion": "mean", "min_score": 0.0}
    assert "time_to_detect.label.never_detected" in result.stdout
    strict = _run("models.cli.evaluate", "--checkpoint", str(ckpt), "--dataset", "utkinect", "--root",
                  str(data_root / "utkinect_action3d"), "--subjects", "5", "--json", str(out), "--stride", "1",
                  "--lookahead", "0", "--fusion", "mean", "--min-score", "0.99")  # fmt: skip
    assert strict.returncode == 0, strict.stderr
    at_099 = json.loads(out.read_text())
    assert at_099["fusion"]["min_score"] == 0.99
    # an untrained model scores no action at 0.99: every frame is published as background, none named wrongly
    assert at_099["frame_errors"]["background_named"] == at_099["frame_errors"]["actions_confused"] == 0
    assert at_099["frame_errors"]["action_missed"] > metrics["frame_errors"]["action_missed"]
    bad = _run("models.cli.evaluate", "--checkpoint", str(ckpt), "--dataset", "utkinect", "--root", str(data_root),
               "--lookahead", "soon")  # fmt: skip
    assert bad.returncode == 2 and "'all'" in bad.stderr


def test_eval_classification_on_msr(data_root, tmp_path):
    ckpt = _checkpoint(tmp_path / "cls", "classification", list(MSR_ACTION3D_ACTIONS))
    out = tmp_path / "out.json"
    result = _run("models.cli.evaluate", "--checkpoint", str(ckpt), "--dataset", "msr-action3d",
                  "--root", str(data_root / "msr_action3d"), "--subjects", "2,4,6", "--gallery-subjects", "1,3",
                  "--json", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    metrics = json.loads(out.read_text())
    assert 0 <= metrics["accuracy"] <= 1 and metrics["num_clips"] > 100
    assert 0 <= metrics["nearest_neighbour_accuracy"] <= 1 and metrics["num_gallery_clips"] > 50
    assert metrics["subjects"] == [2, 4, 6] and metrics["selection"] == "msr-action3d:2,4,6"


def test_eval_selects_by_attribute_nw_ucla_across_views(data_root, tmp_path):
    """--subjects takes a dataset reference's selection: NW-UCLA's view split, with the other view as gallery."""
    from models.datasets.nw_ucla import NW_UCLA_ACTIONS

    ckpt = _checkpoint(tmp_path / "cls", "classification", list(NW_UCLA_ACTIONS))
    out = tmp_path / "out.json"
    result = _run("models.cli.evaluate", "--checkpoint", str(ckpt), "--dataset", "nw-ucla", "--root", str(data_root),
                  "--subjects", "view=2;!1", "--gallery-subjects", "view=1", "--json", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    metrics = json.loads(out.read_text())
    folder = data_root / "nw_ucla"
    view2_not_subject1 = [p for p in folder.glob("*_v02.json") if "_s01_" not in p.name]
    assert metrics["num_clips"] == len(view2_not_subject1) > 400
    assert metrics["num_gallery_clips"] == len(list(folder.glob("*_v01.json")))
    assert metrics["subjects"] == list(range(2, 11)) and metrics["selection"] == "nw-ucla:!1;view=2"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--checkpoint", "/nonexistent", "--dataset", "utkinect"], "checkpoint /nonexistent does not exist"),
        (["--dataset", "kinetics"], "unknown dataset"),
        (["--dataset", "utkinect", "--subjects", "8,9"], "no utkinect files"),
        (["--dataset", "msr-action3d"], "predicts"),
        (["--dataset", "utkinect", "--subjects", "five"], "subjects must be integers"),
        (["--dataset", "utkinect", "--min-score", "1.5"], "expected a probability from 0 to below 1"),
        (["--dataset", "msrc12", "--min-score", "0.5"], "is scored by gesture events"),
    ],
)
def test_eval_errors_exit_2_with_one_clear_line(data_root, tmp_path, args, message):
    ckpt = _checkpoint(tmp_path / "det", "detection", ["background", *UTKINECT_ACTIONS])
    base = {"--checkpoint": str(ckpt), "--root": str(data_root)}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    result = _run("models.cli.evaluate", *[x for kv in base.items() for x in kv])
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_train_rejects_bad_config_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("epochz: 2\n")
    result = _run("models.cli.train", "detect", "--config", str(path))
    assert result.returncode == 2 and "epochz" in result.stderr


def test_train_flags_take_their_fields_types():
    from models.cli.train import build_parser

    args = build_parser().parse_args(["detect", "--temperature", "0.84", "--point-span-s", "0.3", "0.3", "--epochs",
                                      "3", "--points", '{"threshold": 0.6}', "--val", "--init", "runs/x"])  # fmt: skip
    assert args.temperature == 0.84 and args.point_span_s == [0.3, 0.3] and args.epochs == 3
    assert args.points == {"threshold": 0.6} and args.val == [] and args.init == "runs/x"
