"""The project's simple baseline behind the backend interface, so the camera path can measure it too.

    baseline = WindowBaseline.fit(data, checkpoint_config)    # models.evaluation.window_baseline
    backend = BaselineBackend(baseline)
    logits = backend.run(windows)                              # (N, C, T, V, M) → (N, T, K + 1)

The baseline labels a window's last frame only; every frame of the window gets
that frame's log-probabilities. The stream at stride 1 and lookahead 0 (its
default, and the only setting `BaselineBackend` is meant for) takes nothing
else from a window: each frame is labelled by the window ending at it. Its
config is the checkpoint's with ``min_score`` 0 (a frame's label is the
baseline's most likely class: the baseline's scores were never calibrated
against a precision); a checkpoint's gesture rules stay, so the baseline's
gesture events follow the rules the model's do (as ``stream-eval --dataset
msrc12 --baseline`` scores it).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from models.evaluation.window_baseline import WindowBaseline
from stream.backends.base import Backend

FLOOR = 1e-7  # the smallest probability taken to a log: a class the baseline never saw stays finite


class BaselineBackend(Backend):
    """A fitted `WindowBaseline` run as a model (module docstring)."""

    name = "baseline"

    def __init__(self, baseline: WindowBaseline) -> None:
        self.baseline = baseline
        self.config = dataclasses.replace(baseline.config, min_score=0.0)

    def run(self, windows: np.ndarray) -> np.ndarray:
        self.check_windows(windows)
        logits = np.log(np.maximum(self.baseline.probabilities(windows), FLOOR)).astype(np.float32)
        return np.repeat(logits[:, None], self.config.num_frames, axis=1)
