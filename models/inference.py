"""Offline inference over whole sequences, with the streaming runtime's window semantics.

Windows end every ``stride`` frames (and at the last frame); a frame's
probabilities fuse the softmax of every window that covered it. With
``lookahead`` set, only windows ending at most that many frames after the
frame count, as in a causal stream (0 = only windows ending at the frame or,
with stride > 1, the first one after it).

Fusion (`FUSIONS`), for frame t and the windows ending at e >= t that count:

- ``recent`` (the default): a weighted mean, window weight ``e - t + 1`` — the
  more of what came after t a window saw, the more it counts;
- ``mean``: the plain mean;
- ``max``: per class the largest probability, renormalised to sum to 1.

Measured with the shipped checkpoint on UTKinect validation (subjects 5-6, all
windows, benchmarks/README.md "Stride and fusion"): recent 0.763 / mean 0.754 /
max 0.749 frame accuracy at stride 1, 0.756 / 0.752 / 0.752 at stride 8. With
lookahead 0 a frame has one window and the fusion makes no difference.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from models.checkpoint import CheckpointConfig
from models.skeleton.sequence import SkeletonSequence
from models.windows import cut_window, window_ends

FUSIONS = ("recent", "mean", "max")


class FrameFusion:
    """Accumulates per-window softmax scores into per-frame probabilities of one sequence (module docstring)."""

    def __init__(self, num_frames: int, num_classes: int, window: int, stride: int, lookahead: int | None = None,
                 fusion: str = "recent"):  # fmt: skip
        if stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")
        self.window = window
        self.fusion = fusion
        self.reach = None if lookahead is None else max(lookahead, stride - 1)
        self.sums = np.zeros((num_frames, num_classes), dtype=np.float64)
        self.weights = np.zeros(num_frames, dtype=np.float64)

    def add(self, end: int, scores: np.ndarray) -> None:
        """Fold in the (T, K + 1) probabilities of the window ending at frame ``end``."""
        frames = np.arange(max(0, end - self.window + 1), end + 1)
        if self.reach is not None:
            frames = frames[end - frames <= self.reach]
        rows = scores[self.window - (end + 1 - frames)]
        if self.fusion == "max":
            self.sums[frames] = np.maximum(self.sums[frames], rows)
            self.weights[frames] = 1.0
            return
        weights = (end - frames + 1.0) if self.fusion == "recent" else np.ones(len(frames))
        self.sums[frames] += rows * weights[:, None]
        self.weights[frames] += weights

    def probabilities(self) -> np.ndarray:
        """(num_frames, K + 1) float32; frames no window covered stay zero."""
        if self.fusion == "max":
            return (self.sums / np.maximum(self.sums.sum(axis=1, keepdims=True), 1e-30)).astype(np.float32)
        return (self.sums / np.maximum(self.weights, 1e-30)[:, None]).astype(np.float32)


@torch.no_grad()
def predict_sequence(
    model: nn.Module,
    sequence: SkeletonSequence,
    config: CheckpointConfig,
    stride: int = 8,
    lookahead: int | None = None,
    batch_size: int = 64,
    fusion: str = "recent",
) -> np.ndarray:
    """Per-frame class probabilities (T, K + 1) of a prepared (unified, resampled) sequence."""
    fused = FrameFusion(sequence.num_frames, config.model.num_classes, config.num_frames, stride, lookahead, fusion)
    ends = window_ends(sequence.num_frames, stride)
    device = next(model.parameters()).device
    for first in range(0, len(ends), batch_size):
        batch_ends = ends[first : first + batch_size]
        windows = np.stack([cut_window(sequence, int(e), config.num_frames, config.normalization)[0] for e in batch_ends])
        scores = torch.softmax(model(torch.from_numpy(windows).to(device)).float(), dim=-1).cpu().numpy()
        for end, window_scores in zip(batch_ends, scores):
            fused.add(int(end), window_scores)
    return fused.probabilities()
