"""Fusing the per-window scores of a sequence into per-frame probabilities, as the stream does (torch-free).

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

`stream.stages.decoding.OnlineDecoder` computes the same online; `final_window` says
when it publishes each frame's label.
"""

from __future__ import annotations

import numpy as np

from models.windows import window_ends


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


def final_window(num_frames: int, window: int, stride: int, lookahead: int | None = None) -> np.ndarray:
    """(num_frames,) for each frame the end of the window after which a stream labels it (its label is final):
    the first window end ``e`` (`window_ends`) with ``t <= e + stride - 1 - reach``, else the last one — the
    finality rule of `stream.stages.decoding.OnlineDecoder`, so ``(final_window - t) / fps`` is the wait for a label."""
    ends = window_ends(num_frames, stride)
    reach = window - 1 if lookahead is None else min(max(lookahead, stride - 1), window - 1)
    index = np.searchsorted(ends, np.arange(num_frames) - stride + 1 + reach)
    return ends[np.minimum(index, len(ends) - 1)]


def published_labels(probabilities: np.ndarray, min_score: float = 0.0) -> np.ndarray:
    """(N,) the class a stream publishes for each row of (N, K + 1) probabilities: the most likely one, or the
    background (0) when that is an action scoring below ``min_score`` (a checkpoint's `min_score`)."""
    probabilities = np.asarray(probabilities)
    best = probabilities.argmax(axis=-1)
    if min_score > 0:
        best = np.where(np.take_along_axis(probabilities, best[..., None], -1)[..., 0] < min_score, 0, best)
    return best


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in float64."""
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)
