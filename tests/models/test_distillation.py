"""Distillation: teachers' calibration undone, the divergence term, teachers checked, a student that learns them."""

import pytest
import torch
from torch import nn

from foundation.errors import SkelstreamError
from models.checkpoint import CheckpointConfig, build_model, load_checkpoint, save_checkpoint
from models.datasets.registry import load_dataset
from models.dste_config import DSTEConfig
from models.training.config import ConfigError, load_train_config
from models.training.distillation import Distillation, uncalibrated_logits
from models.training.loop import train
from models.training.score_calibration import bake_into_head
from models.windows import cut_window, prepare_sequence, window_ends

TINY = {"dim": 32, "depth": 1, "T": 16, "frame_spatial_dim": 8, "drop_path": 0.0}
LABELS = ["wave", "clap", "bow"]


def _config(labels: list[str] = LABELS, modality: str = "joint") -> CheckpointConfig:
    model = DSTEConfig(dim=32, depth=1, T=16, num_classes=len(labels), frame_spatial_dim=8, modality=modality)
    return CheckpointConfig(model=model, task="classification", labels=labels, fps=15.0)


def _teacher(path, config: CheckpointConfig, seed: int = 0):
    torch.manual_seed(seed)
    save_checkpoint(path, build_model(config), config)
    return path


def test_uncalibrated_logits_undo_the_baked_temperature_and_background_offset():
    torch.manual_seed(0)
    head, x = nn.Linear(8, 4), torch.randn(5, 8)
    with torch.no_grad():
        raw = head(x)
        bake_into_head(head, temperature=2.5, background_offset=0.7)
        config = _config()
        config.training["score_calibration"] = {"temperature": 2.5, "background_offset": 0.7}
        assert torch.allclose(uncalibrated_logits(head(x), config), raw, atol=1e-5)
        assert torch.equal(uncalibrated_logits(raw, _config()), raw)  # nothing baked in: unchanged


def test_divergence_vanishes_on_the_teachers_answer_and_scales_with_the_temperature(tmp_path):
    distillation = Distillation([_teacher(tmp_path / "t", _config())], _config(), weight=0.5, temperature=1.0)
    x = torch.randn(6, 3, 16, 30, 2)
    teacher = distillation.teacher_probabilities(x)
    assert teacher.shape == (6, 3) and torch.allclose(teacher.sum(-1), torch.ones(6))
    assert distillation.divergence(teacher.log(), teacher).abs().max() < 1e-5
    other = torch.randn(6, 3)
    kl = distillation.divergence(other, teacher)
    assert (kl > 0).all()
    expected = (teacher * (teacher.log() - other.log_softmax(-1))).sum(-1)
    assert torch.allclose(kl, expected, atol=1e-5)
    distillation.temperature = 2.0
    soft = distillation.teacher_probabilities(x)
    assert soft.max() < teacher.max()  # softened
    expected = (soft * (soft.log() - (other / 2).log_softmax(-1))).sum(-1) * 4
    assert torch.allclose(distillation.divergence(other, soft), expected, atol=1e-5)


def test_teachers_must_share_the_students_vocabulary_and_windows(tmp_path):
    other = _teacher(tmp_path / "other", _config(["clap", "wave", "bow"]))
    with pytest.raises(ValueError, match="other predicts .* one vocabulary"):
        Distillation([_teacher(tmp_path / "t", _config()), other], _config())
    with pytest.raises(ValueError, match="at least one teacher"):
        Distillation([], _config())
    bone = _teacher(tmp_path / "bone", _config(modality="bone"))  # another stream of the same windows: welcome
    assert len(Distillation([bone], _config()).teachers) == 1
    with pytest.raises(ConfigError, match="distill_weight must be in"):
        load_train_config(task="classify", distill_from=[str(bone)], distill_weight=0.0)
    with pytest.raises(ConfigError, match="only detect and classify"):
        load_train_config(task="pretrain", distill_from=[str(bone)])


def _mean_divergence(student, distillation: Distillation, windows: torch.Tensor) -> float:
    with torch.no_grad():
        return float(distillation.divergence(student(windows), distillation.teacher_probabilities(windows)).mean())


def test_a_detector_learns_its_calibrated_teachers_answers_on_real_sequences(data_root, tmp_path):
    common = dict(task="detect", data_root=str(data_root), train=["utkinect:1"], model=TINY, batch_size=16,
                  lr=3e-3, warmup_epochs=0)  # fmt: skip
    train(load_train_config(output=str(tmp_path / "teacher"), val=["utkinect:2"], epochs=1, steps_per_epoch=6,
                            calibrate=True, background_offset=0.5, seed=1, **common))  # fmt: skip
    teacher = str(tmp_path / "teacher" / "checkpoint")
    with pytest.raises(SkelstreamError, match="distill_from: .* one vocabulary"):
        train(load_train_config(output=str(tmp_path / "wrong"), val=[], epochs=1, steps_per_epoch=1,
                                distill_from=[teacher], **{**common, "task": "classify", "train": ["msr-action3d:1"]}))
    runs = {"alone": {}, "distilled": {"distill_from": [teacher], "distill_weight": 1.0}}
    for name, extra in runs.items():
        train(load_train_config(output=str(tmp_path / name), val=[], epochs=2, steps_per_epoch=10, **common, **extra))
    _, config = load_checkpoint(tmp_path / "distilled" / "checkpoint")
    assert config.training["config"]["distill_from"] == [teacher]  # the recipe is recorded with the weights
    sequence = prepare_sequence(load_dataset("utkinect", data_root, [1])[0], config.fps)
    windows = torch.stack([torch.from_numpy(cut_window(sequence, int(end), 16, config.normalization)[0])
                           for end in window_ends(sequence.num_frames, 16)])  # fmt: skip
    distillation = Distillation([teacher], config)
    alone, distilled = (_mean_divergence(load_checkpoint(tmp_path / n / "checkpoint")[0], distillation, windows)
                        for n in runs)  # fmt: skip
    assert distilled < 0.5 * alone
