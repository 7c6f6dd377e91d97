"""Per-frame detection targets from any labelled dataset: segments, action points or trimmed clips.

The vocabulary is the checkpoint's (``"background"`` first). A dataset's own
labels reach it through ``to_vocabulary`` (identity for the checkpoint's own
dataset, a `vocabularies` table for hard negatives): a vocabulary action, the
background, or None — left out: the frames it covers are `IGNORE_INDEX` (for a
trimmed clip, the whole clip is dropped).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from models.skeleton.sequence import SkeletonSequence
from models.training.clip_targets import active_span, clip_frame_labels
from models.windows import IGNORE_INDEX

LabelMap = Callable[[str], "str | None"]


def detection_targets(sequences: list[SkeletonSequence], kind: str, vocabulary: list[str], to_vocabulary: LabelMap,
                      point_span_s: tuple[float, float]) -> list[tuple[SkeletonSequence, np.ndarray]]:  # fmt: skip
    """(sequence, (T,) targets) pairs of a dataset of ``kind`` "detection", "points" or "classification"."""
    index = {name: i for i, name in enumerate(vocabulary)}

    def target_of(label: str) -> int | None:
        mapped = to_vocabulary(label)
        if mapped is None:
            return None
        if mapped not in index:
            raise KeyError(f"label {label!r} maps to {mapped!r}, which is not in the vocabulary {vocabulary}")
        return index[mapped]

    pairs = []
    for sequence in sequences:
        if kind == "classification":
            label = target_of(sequence.label)
            if label is not None:
                pairs.append((sequence, clip_frame_labels(sequence, label)))
            continue
        target = np.zeros(sequence.num_frames, dtype=np.int64)
        for label, start, end in labelled_spans(sequence, kind, point_span_s):
            value = target_of(label)
            target[start:end] = IGNORE_INDEX if value is None else value
        pairs.append((sequence, target))
    return pairs


def movement_onsets(sequence: SkeletonSequence, kind: str, to_vocabulary: LabelMap,
                    point_span_s: tuple[float, float]) -> np.ndarray:  # fmt: skip
    """The frames where a labelled movement of ``sequence`` begins — an action of the vocabulary or one that
    becomes background (a hard negative), not one left out (None): each segment's start, each action point's
    span start (``point_span_s`` before it), a trimmed clip's active span start (`clip_targets.active_span`)."""
    if kind == "classification":
        return np.array([active_span(sequence)[0]] if to_vocabulary(sequence.label) is not None else [], np.int64)
    starts = [start for label, start, _ in labelled_spans(sequence, kind, point_span_s)
              if to_vocabulary(label) is not None]  # fmt: skip
    return np.unique(np.array(starts, np.int64))


def labelled_spans(sequence: SkeletonSequence, kind: str,
                   point_span_s: tuple[float, float]) -> list[tuple[str, int, int]]:  # fmt: skip
    """(label, start, end exclusive) of an untrimmed sequence: its segments ("detection"), or the frames from
    ``point_span_s[0]`` before to ``point_span_s[1]`` after each action point, in frame order ("points")."""
    if kind == "detection":
        return [(segment.label, segment.start, segment.end) for segment in sequence.segments]
    if kind == "points":
        before, after = (round(s * sequence.fps) for s in point_span_s)
        return [(p.label, max(0, p.frame - before), p.frame + after + 1)
                for p in sorted(sequence.action_points, key=lambda p: p.frame)]  # fmt: skip
    raise ValueError(f"{sequence.name}: datasets of kind {kind!r} carry no labels for detection")
