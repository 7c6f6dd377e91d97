"""The backend contract shared by every inference engine."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from models.checkpoint import CheckpointConfig


class Backend(ABC):
    """Runs a detection checkpoint: ``run(windows (N, C, T, V, M) float32) -> logits (N, T, K + 1) float32``."""

    name: str
    config: CheckpointConfig

    def check_windows(self, windows: np.ndarray) -> None:
        """Raise ValueError unless ``windows`` is a float32 batch of the checkpoint's window shape."""
        expected = self.config.model.input_shape
        if windows.ndim != 5 or tuple(windows.shape[1:]) != expected or windows.dtype != np.float32:
            c, t, v, m = expected
            raise ValueError(f"{self.name} backend expects float32 windows (N, C={c}, T={t}, V={v}, M={m}), "
                             f"got {windows.dtype} {tuple(windows.shape)}")  # fmt: skip

    @abstractmethod
    def run(self, windows: np.ndarray) -> np.ndarray:
        """Per-frame logits of a batch of windows."""
