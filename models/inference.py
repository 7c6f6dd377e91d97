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
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    length = config.num_frames
    ends = window_ends(sequence.num_frames, stride)
    probabilities = np.zeros((sequence.num_frames, config.model.num_classes), dtype=np.float64)
    counts = np.zeros(sequence.num_frames, dtype=np.int64)
    device = next(model.parameters()).device
    for first in range(0, len(ends), batch_size):
        batch_ends = ends[first : first + batch_size]
        windows = np.stack([cut_window(sequence, int(e), length, config.normalization)[0] for e in batch_ends])
        scores = torch.softmax(model(torch.from_numpy(windows).to(device)).float(), dim=-1).cpu().numpy()
        for end, window_scores in zip(batch_ends, scores):
            start = max(0, end - length + 1)
            frames = np.arange(start, end + 1)
            if lookahead is not None:
                frames = frames[end - frames <= max(lookahead, stride - 1)]
            probabilities[frames] += window_scores[length - (end + 1 - frames)]
            counts[frames] += 1
    return (probabilities / np.maximum(counts, 1)[:, None]).astype(np.float32)
