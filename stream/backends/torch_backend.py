"""The PyTorch reference backend (CPU, or CUDA when asked)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.checkpoint import CheckpointError
from stream.backends.base import Backend


class TorchBackend(Backend):
    """Eager PyTorch inference of a detection checkpoint."""

    name = "torch"

    def __init__(self, checkpoint: str | Path, threads: int = 2, device: str = "cpu") -> None:
        import torch

        from models.checkpoint import load_checkpoint

        torch.set_num_threads(threads)
        self.device = torch.device(device)
        self.model, self.config = load_checkpoint(checkpoint, map_location=self.device)
        if self.config.task != "detection":
            raise CheckpointError(f"{checkpoint}: a {self.config.task} checkpoint cannot label frames; "
                                  "the stream needs a detection checkpoint")  # fmt: skip
        self._torch = torch

    def run(self, windows: np.ndarray) -> np.ndarray:
        self.check_windows(windows)
        with self._torch.inference_mode():
            logits = self.model(self._torch.from_numpy(windows).to(self.device))
        return logits.float().cpu().numpy()
