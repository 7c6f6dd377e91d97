"""Offline inference over whole sequences, with the streaming runtime's window semantics.

Windows end every ``stride`` frames (and at the last frame); a frame's
probabilities average the softmax of every window that covered it. With
``lookahead`` set, only windows ending at most that many frames after the
frame count, as in a causal stream (0 = only windows ending at the frame or,
with stride > 1, the first one after it).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from models.checkpoint import CheckpointConfig
from models.skeleton.sequence import SkeletonSequence
from models.windows import cut_window, window_ends


class FrameFusion:
    """Accumulates per-window softmax scores into per-frame probabilities of one sequence."""

    def __init__(self, num_frames: int, num_classes: int, window: int, stride: int, lookahead: int | None = None):
        if stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        self.window = window
        self.reach = None if lookahead is None else max(lookahead, stride - 1)
        self.sums = np.zeros((num_frames, num_classes), dtype=np.float64)
        self.counts = np.zeros(num_frames, dtype=np.int64)

    def add(self, end: int, scores: np.ndarray) -> None:
        """Fold in the (T, K + 1) probabilities of the window ending at frame ``end``."""
        frames = np.arange(max(0, end - self.window + 1), end + 1)
        if self.reach is not None:
            frames = frames[end - frames <= self.reach]
        self.sums[frames] += scores[self.window - (end + 1 - frames)]
        self.counts[frames] += 1

    def probabilities(self) -> np.ndarray:
        """(num_frames, K + 1) float32; frames no window covered stay zero."""
        return (self.sums / np.maximum(self.counts, 1)[:, None]).astype(np.float32)


@torch.no_grad()
def predict_sequence(
    model: nn.Module,
    sequence: SkeletonSequence,
    config: CheckpointConfig,
    stride: int = 8,
    lookahead: int | None = None,
    batch_size: int = 64,
) -> np.ndarray:
    """Per-frame class probabilities (T, K + 1) of a prepared (unified, resampled) sequence."""
    fusion = FrameFusion(sequence.num_frames, config.model.num_classes, config.num_frames, stride, lookahead)
    ends = window_ends(sequence.num_frames, stride)
    device = next(model.parameters()).device
    for first in range(0, len(ends), batch_size):
        batch_ends = ends[first : first + batch_size]
        windows = np.stack([cut_window(sequence, int(e), config.num_frames, config.normalization)[0] for e in batch_ends])
        scores = torch.softmax(model(torch.from_numpy(windows).to(device)).float(), dim=-1).cpu().numpy()
        for end, window_scores in zip(batch_ends, scores):
            fusion.add(int(end), window_scores)
    return fusion.probabilities()
