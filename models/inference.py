"""Offline inference over whole sequences, with the streaming runtime's window semantics (`models.fusion`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from models.checkpoint import CheckpointConfig
from models.fusion import FrameFusion, softmax
from models.skeleton.sequence import SkeletonSequence
from models.windows import cut_window, window_ends

LogitsFn = Callable[[np.ndarray], np.ndarray]
"""Windows (N, C, T, V, M) float32 → per-frame logits (N, T, K + 1): a torch model (`torch_logits`) or any
runtime's (an ONNX Runtime session, `stream.backends.Backend.run`)."""


def torch_logits(model: nn.Module) -> LogitsFn:
    """The per-frame logits of a torch detector, as a numpy function on its device."""
    device = next(model.parameters()).device

    @torch.no_grad()
    def logits(windows: np.ndarray) -> np.ndarray:
        return model(torch.from_numpy(windows).to(device)).float().cpu().numpy()

    return logits


def fused_probabilities(
    logits: LogitsFn,
    sequence: SkeletonSequence,
    config: CheckpointConfig,
    stride: int = 8,
    lookahead: int | None = None,
    batch_size: int = 64,
    fusion: str = "recent",
) -> np.ndarray:
    """Per-frame class probabilities (T, K + 1) of a prepared (unified, resampled) sequence."""
    return fused_probabilities_each(logits, sequence, config, stride, (lookahead,), batch_size, fusion)[0]


def fused_probabilities_each(
    logits: LogitsFn,
    sequence: SkeletonSequence,
    config: CheckpointConfig,
    stride: int,
    lookaheads: Sequence[int | None],
    batch_size: int = 64,
    fusion: str = "recent",
) -> list[np.ndarray]:
    """`fused_probabilities` for each of ``lookaheads`` (offline and causal, say) from one model pass over the
    windows: each batch is fused into every reading, then dropped."""
    fusions = [FrameFusion(sequence.num_frames, config.model.num_classes, config.num_frames, stride, lookahead, fusion)
               for lookahead in lookaheads]  # fmt: skip
    ends = window_ends(sequence.num_frames, stride)
    for first in range(0, len(ends), batch_size):
        batch_ends = ends[first : first + batch_size]
        windows = np.stack([cut_window(sequence, int(e), config.num_frames, config.normalization)[0]
                            for e in batch_ends])  # fmt: skip
        scores = softmax(logits(windows))
        for end, window_scores in zip(batch_ends, scores):
            for fused in fusions:
                fused.add(int(end), window_scores)
    return [fused.probabilities() for fused in fusions]


def predict_sequence(
    model: nn.Module,
    sequence: SkeletonSequence,
    config: CheckpointConfig,
    stride: int = 8,
    lookahead: int | None = None,
    batch_size: int = 64,
    fusion: str = "recent",
) -> np.ndarray:
    """`fused_probabilities` of a torch detector."""
    return fused_probabilities(torch_logits(model), sequence, config, stride, lookahead, batch_size, fusion)


