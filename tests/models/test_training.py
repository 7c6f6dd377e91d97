"""Training on real data: the loss falls, a handful of sequences gets fitted, runs resume, configs are checked."""

import csv
import json

import numpy as np
import pytest
import torch

from foundation.errors import SkelstreamError
from models.action_runs import EventRules
from models.checkpoint import build_model, load_checkpoint
from models.datasets.registry import load_dataset
from models.evaluation.runner import evaluate_detection
from models.inference import predict_sequence
from models.point_events import PointRules
from models.training.config import ConfigError, load_train_config
from models.training.loop import train
from models.training.score_calibration import min_score_for_precision
from models.windows import prepare_sequence

TINY = {"dim": 32, "depth": 1, "T": 16, "frame_spatial_dim": 8, "drop_path": 0.0}


def _losses(output) -> list[float]:
    with (output / "log.csv").open() as handle:
        return [float(row["train/total"]) for row in csv.DictReader(handle) if row.get("train/total")]


def _frame_nll(model, checkpoint, sequences) -> float:
    """Mean negative log-likelihood of the true per-frame labels over whole sequences."""
    nll = []
    for sequence in sequences:
        probs = predict_sequence(model, sequence, checkpoint, stride=4)
        true = sequence.frame_labels(checkpoint.labels)
        nll.append(-np.log(probs[np.arange(true.size), true] + 1e-9))
    return float(np.concatenate(nll).mean())


def test_detection_fits_real_sequences(data_root, tmp_path):
    config = load_train_config(task="detect", output=str(tmp_path / "det"), data_root=str(data_root),
                               train=["utkinect:1"], val=["utkinect:1"], model=TINY, epochs=6, steps_per_epoch=20,
                               batch_size=16, lr=3e-3, label_smoothing=0.0, eval_stride=4,
                               publish_precision=0.9)  # fmt: skip
    metrics = train(config)
    model, checkpoint = load_checkpoint(tmp_path / "det" / "checkpoint")
    assert checkpoint.labels[0] == "background" and checkpoint.training["epochs_done"] == 6
    assert checkpoint.metrics["validation"]["frame_accuracy"] == pytest.approx(metrics["frame_accuracy"])
    raw = load_dataset("utkinect", data_root, [1])
    sequences = [prepare_sequence(s, checkpoint.fps) for s in raw]
    torch.manual_seed(0)
    untrained = build_model(checkpoint).eval()
    assert _frame_nll(model, checkpoint, sequences) < 0.7 * _frame_nll(untrained, checkpoint, sequences)
    background_share = 0.59  # measured share of background frames in UTKinect (shared/data README)
    assert metrics["frame_accuracy"] > background_share + 0.04
    # the time to detect is the causal stream's (offline, a label waits about a window whatever the model)
    causal = evaluate_detection(model, checkpoint, raw, stride=4, lookahead=0)
    assert "time_to_detect" not in metrics
    # recomputed here with this process's thread count, not the loop's: a few frames' argmax may flip
    ours, theirs = metrics["causal"], causal
    assert ours["frame_accuracy"] == pytest.approx(theirs["frame_accuracy"], abs=0.002)
    for kind in ("label", "start"):
        assert ours["time_to_detect"][kind]["instances"] == theirs["time_to_detect"][kind]["instances"]
    assert ours["time_to_detect"]["label"]["p50"] == pytest.approx(theirs["time_to_detect"]["label"]["p50"], abs=70)
    # min_score: the lowest level at which the causal stream's action labels on the validation data are 90 % right
    report = checkpoint.training["score_calibration"]
    assert checkpoint.min_score == report["min_score"] > 0 and report["publish_precision"] == 0.9
    probabilities = np.concatenate([predict_sequence(model, s, checkpoint, stride=1, lookahead=0) for s in sequences])
    truth = np.concatenate([s.frame_labels(checkpoint.labels) for s in sequences])
    assert checkpoint.min_score == pytest.approx(min_score_for_precision(probabilities, truth, 0.9), abs=0.011)


def test_without_validation_data_min_score_is_given_or_the_run_is_refused_before_training(data_root, tmp_path):
    """Training the shipped weights on every person leaves nothing to validate on: the validated recipe's
    min_score is given, and wins over publish_precision; without it the run stops before its first step."""
    common = dict(task="detect", data_root=str(data_root), train=["utkinect:1"], val=[], model=TINY, epochs=1,
                  steps_per_epoch=2, batch_size=4, publish_precision=0.6)  # fmt: skip
    with pytest.raises(SkelstreamError, match="publish_precision .*needs validation data.*--min-score"):
        train(load_train_config(output=str(tmp_path / "refused"), **common))
    assert not (tmp_path / "refused" / "checkpoint").exists()  # refused before anything was trained
    with pytest.raises(SkelstreamError, match="calibrate needs validation data"):
        train(load_train_config(output=str(tmp_path / "refused"), calibrate=True, min_score=0.4, **common))
    train(load_train_config(output=str(tmp_path / "given"), min_score=0.4, **common))
    _, checkpoint = load_checkpoint(tmp_path / "given" / "checkpoint")
    assert checkpoint.min_score == 0.4 and checkpoint.training["score_calibration"] == {"min_score": 0.4}


def test_pretraining_lowers_the_loss_and_resumes(data_root, tmp_path):
    common = dict(task="pretrain", output=str(tmp_path / "pre"), data_root=str(data_root), train=["ntu"], val=[],
                  model=TINY, steps_per_epoch=8, batch_size=16, projector_width=64, modalities=["joint", "motion"],
                  lr=2e-3, warmup_epochs=0)  # fmt: skip
    train(load_train_config(epochs=2, **common))
    first = _losses(tmp_path / "pre")
    train(load_train_config(epochs=4, resume=True, **common))
    state = json.loads((tmp_path / "pre" / "checkpoint" / "config.json").read_text())
    assert state["training"]["epochs_done"] == 4
    losses = _losses(tmp_path / "pre")
    assert len(losses) > len(first)  # the resumed run appended, it did not start over
    assert losses[-1] < losses[0]


def test_classification_probe_trains_only_the_head(data_root, tmp_path):
    """An epoch of the probe changes the head and leaves the encoder exactly as it started (from ``init``)."""
    from models.checkpoint import save_checkpoint
    from models.training.tasks import new_model

    common = dict(task="classify", output=str(tmp_path / "cls"), data_root=str(data_root), train=["msr-action3d:1"],
                  val=["msr-action3d:2"], model=TINY, batch_size=32, linear_probe=True,
                  init=str(tmp_path / "initial"))  # fmt: skip
    initial, initial_config = new_model(load_train_config(**{**common, "init": None}), "detection",
                                        ["background", "any"])  # fmt: skip
    save_checkpoint(tmp_path / "initial", initial, initial_config)
    initial, _ = load_checkpoint(tmp_path / "initial")  # as stored (and as the run reads it)
    train(load_train_config(epochs=1, **common))
    first, _ = load_checkpoint(tmp_path / "cls" / "checkpoint")
    metrics = train(load_train_config(epochs=2, resume=True, **common))
    second, _ = load_checkpoint(tmp_path / "cls" / "checkpoint")
    assert metrics["num_clips"] > 0
    start, after_one, after_two = initial.state_dict(), first.state_dict(), second.state_dict()
    encoder = [name for name in after_two if name.startswith("encoder.")]
    head = [name for name in after_two if not name.startswith("encoder.")]
    assert encoder and head
    assert [name for name in encoder if not torch.equal(after_two[name], start[name])] == []
    assert [name for name in head if not torch.equal(after_two[name], after_one[name])] == head


def test_config_file_errors_name_the_key(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("task: detect\nepochz: 3\n")
    with pytest.raises(ConfigError, match="epochz"):
        load_train_config(path)
    path.write_text("epochs: three\n")
    with pytest.raises(ConfigError, match="'epochs' must be int"):
        load_train_config(path)
    path.write_text("epochs: 3\nlr: 1\n")
    assert load_train_config(path, epochs=5).epochs == 5  # flags override the file
    with pytest.raises(ConfigError, match="task"):
        load_train_config(task="segment")
    with pytest.raises(ConfigError, match="points: release 0.8 exceeds threshold 0.6"):
        load_train_config(points={"threshold": 0.6, "release": 0.8})
    with pytest.raises(ConfigError, match="points: unknown keys thresh"):
        load_train_config(points={"thresh": 0.6})
    with pytest.raises(ConfigError, match="runs: confident_threshold must be in"):
        load_train_config(runs={"confident_threshold": 0.5})
    with pytest.raises(ConfigError, match=r"shear must be in \[0, 1\), got -0.1"):
        load_train_config(shear=-0.1)


def test_distributed_data_parallel_with_torchrun(data_root, tmp_path):
    """Two processes under torchrun (gloo on CPU): the DDP path multi-GPU and multi-node runs take."""
    import subprocess
    import sys
    from pathlib import Path

    torchrun = Path(sys.executable).with_name("torchrun")
    result = subprocess.run(
        [str(torchrun), "--standalone", "--nproc_per_node=2", "-m", "models.cli.train", "detect",
         "--data-root", str(data_root), "--train", "utkinect:1", "--val", "utkinect:1", "--epochs", "2",
         "--steps-per-epoch", "4", "--batch-size", "8", "--model", json.dumps(TINY), "--device", "cpu",
         "--output", str(tmp_path / "ddp")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count('"causal"') == 1  # only rank 0 reports (its metrics, once)
    assert json.loads((tmp_path / "ddp" / "checkpoint" / "config.json").read_text())["training"]["epochs_done"] == 2


def test_tensorboard_and_csv_logs(data_root, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    config = load_train_config(task="detect", output=str(tmp_path / "tb"), data_root=str(data_root),
                               train=["utkinect:1"], val=[], model=TINY, epochs=1, steps_per_epoch=10,
                               batch_size=8)  # fmt: skip
    train(config)
    assert _losses(tmp_path / "tb")  # CSV
    events = EventAccumulator(str(tmp_path / "tb" / "tensorboard"))
    events.Reload()
    assert "train/total" in events.Tags()["scalars"]


def test_detection_scores_are_calibrated_and_baked_in_with_the_gesture_rules(data_root, tmp_path):
    rules = {"threshold": 0.6, "release": 0.25, "refractory_s": 0.8, "confirm_frames": 2}
    config = load_train_config(task="detect", output=str(tmp_path / "cal"), data_root=str(data_root),
                               train=["utkinect:1"], val=["utkinect:2"], model=TINY, epochs=2, steps_per_epoch=10,
                               batch_size=16, lr=3e-3, eval_stride=8, calibrate=True, background_offset=0.5,
                               points=rules, runs={"confident_threshold": 0.8, "confident_frames": 4})  # fmt: skip
    train(config)
    model, checkpoint = load_checkpoint(tmp_path / "cal" / "checkpoint")
    report = checkpoint.metrics["score_calibration"]
    assert report["temperature"] > 0 and report["background_offset"] == 0.5
    assert report["ece_after"] <= report["ece_before"] + 1e-6  # the temperature (fitted by NLL) also lowers ECE here
    assert checkpoint.training["score_calibration"] == report  # the recipe is recorded with the weights
    assert checkpoint.metrics["validation"]["frame_accuracy"] > 0
    assert checkpoint.points == PointRules(**rules)  # the stream's gesture events come with the weights
    assert checkpoint.runs == EventRules(confident_threshold=0.8, confident_frames=4)  # and its action events' rules
