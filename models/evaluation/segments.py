"""Per-frame class probabilities or labels to temporal segments, by class index.

Detection rule (`frames_to_segments`), applied to a (T, K+1) array of per-frame
softmax probabilities, class ``background`` (0) meaning "no action":

1. Each frame's predicted class is its arg-max (ties: the lowest index).
2. A frame whose arg-max probability is below ``threshold`` becomes background.
3. Every maximal run of consecutive frames with the same non-background class k
   is a candidate segment [start, end) of class k.
4. With ``merge_gap`` > 0, consecutive candidates of the same class whose gap
   (frames between the end of one and the start of the next) is at most
   ``merge_gap`` are merged, repeatedly, into one segment spanning both; runs
   of other classes inside the gap are kept as their own segments.
5. Segments shorter than ``min_length`` frames are dropped (after merging).
6. A segment's score is the mean probability of class k over all its frames.

Segments use array positions with ``end`` exclusive, like
`models.skeleton.sequence.Segment`, but carry a class index instead of a name.
A sequence with no frames has no segments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClassSegment:
    """Frames [start, end) of class index ``label``; ``score`` is the detector's confidence (1.0 for ground truth)."""

    label: int
    start: int
    end: int
    score: float = 1.0

    def __post_init__(self) -> None:
        if self.start < 0 or self.end <= self.start:
            raise ValueError(
                f"segment of class {self.label} is empty, reversed or negative: [{self.start}, {self.end})"
            )

    @property
    def length(self) -> int:
        return self.end - self.start


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """Maximal runs of equal values as (value, start, end exclusive)."""
    if labels.size == 0:
        return []
    boundaries = np.flatnonzero(np.diff(labels)) + 1
    starts = np.r_[0, boundaries]
    ends = np.r_[boundaries, labels.size]
    return [(int(labels[s]), int(s), int(e)) for s, e in zip(starts, ends)]


def labels_to_segments(labels: np.ndarray, background: int = 0) -> list[ClassSegment]:
    """Ground-truth segments: every maximal run of one non-background class in per-frame labels (T,)."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D (T,), got shape {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must hold integer class indices, got dtype {labels.dtype}")
    return [ClassSegment(value, start, end) for value, start, end in _runs(labels) if value != background]


def frames_to_segments(
    probabilities: np.ndarray,
    threshold: float = 0.0,
    min_length: int = 1,
    merge_gap: int = 0,
    background: int = 0,
) -> list[ClassSegment]:
    """Detected segments from per-frame probabilities (T, K+1), by the rule in the module docstring.

    Returns:
        Segments sorted by start, then class.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or probabilities.shape[1] < 2:
        raise ValueError(f"probabilities must be (T, K+1) with K >= 1, got shape {probabilities.shape}")
    if not 0 <= background < probabilities.shape[1]:
        raise ValueError(f"background {background} outside [0, {probabilities.shape[1]})")
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
    if min_length < 1:
        raise ValueError(f"min_length must be >= 1, got {min_length}")
    if merge_gap < 0:
        raise ValueError(f"merge_gap must be >= 0, got {merge_gap}")

    predicted = probabilities.argmax(axis=1)
    predicted[probabilities.max(axis=1) < threshold] = background

    spans: dict[int, list[list[int]]] = {}
    for label, start, end in _runs(predicted):
        if label == background:
            continue
        same_class = spans.setdefault(label, [])
        if same_class and start - same_class[-1][1] <= merge_gap:
            same_class[-1][1] = end
        else:
            same_class.append([start, end])

    segments = [
        ClassSegment(label, start, end, float(probabilities[start:end, label].mean()))
        for label, class_spans in spans.items()
        for start, end in class_spans
        if end - start >= min_length
    ]
    return sorted(segments, key=lambda s: (s.start, s.label))
