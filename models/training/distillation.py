"""Knowledge distillation: one model learns what several (a stream ensemble) say about the same window.

A stream ensemble (`models.stream_ensemble`) reads each window three times — joint, bone and motion — for three
times the model cost; a robot's stream wants one model. Distillation (Hinton, Vinyals and Dean, "Distilling the
knowledge in a neural network", 2015) trains that one model, the student, on the labels and, beside them, on the
teachers' mean probabilities for the very window it sees (augmentation included), which say how alike the
classes look in it: the loss adds ``weight · τ² · KL(teacher_τ ‖ student_τ)``, both softened by the temperature
τ, per frame for a detector (the frames the labels count, weighted alike) or per clip for a classifier.

Teachers trained by `DetectTask` may have a temperature and a background offset baked into their classifier
(`models.training.score_calibration`); both are taken off again, so the teachers speak in the space the student's
logits train in.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from models.checkpoint import CheckpointConfig, load_checkpoint
from models.stream_ensemble import check_members


def uncalibrated_logits(logits: torch.Tensor, config: CheckpointConfig) -> torch.Tensor:
    """A checkpoint's ``logits`` (..., K) with its baked-in calibration (temperature, background offset) undone."""
    report = config.training.get("score_calibration", {})
    temperature = float(report.get("temperature", 1.0))
    offset = float(report.get("background_offset", 0.0))
    if not offset:
        return logits * temperature
    shift = torch.zeros(logits.shape[-1], dtype=logits.dtype, device=logits.device)
    shift[0] = offset  # the background class, index 0 of a detector
    return (logits + shift) * temperature


class Distillation(nn.Module):
    """The teachers (loaded from checkpoint directories, frozen) and the distillation term of a student's loss."""

    def __init__(self, teachers: Sequence[str | Path], student: CheckpointConfig, weight: float = 0.5,
                 temperature: float = 1.0) -> None:  # fmt: skip
        super().__init__()
        if not teachers:
            raise ValueError("distillation needs at least one teacher checkpoint")
        if not 0.0 < weight <= 1.0 or not temperature > 0:
            raise ValueError(f"distillation weight must be in (0, 1] and temperature > 0, got {weight}, {temperature}")
        loaded = [load_checkpoint(path) for path in teachers]
        check_members([student, *(config for _, config in loaded)], ["the student", *map(str, teachers)])
        self.teachers = nn.ModuleList(model.requires_grad_(False).eval() for model, _ in loaded)  # no drop-path
        self.configs = [config for _, config in loaded]
        self.weight, self.temperature = weight, temperature

    @torch.no_grad()
    def teacher_probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """The teachers' mean softened probabilities of windows ``x``: (N, K), or (N, T, K) for detectors."""
        self.to(x.device)  # a no-op once there; the teachers are not among the weights the loop moves
        probabilities = [(uncalibrated_logits(teacher(x).float(), config) / self.temperature).softmax(dim=-1)
                         for teacher, config in zip(self.teachers, self.configs)]  # fmt: skip
        return torch.stack(probabilities).mean(dim=0)

    def divergence(self, student_logits: torch.Tensor, teacher_probabilities: torch.Tensor) -> torch.Tensor:
        """τ² · KL(teacher ‖ student) per item (per frame for detectors): the logits' shape without the classes."""
        log_student = F.log_softmax(student_logits.float() / self.temperature, dim=-1)
        log_teacher = teacher_probabilities.clamp_min(1e-12).log()
        return (teacher_probabilities * (log_teacher - log_student)).sum(dim=-1) * self.temperature**2
