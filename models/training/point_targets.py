"""Dense per-frame targets from action points (MSRC-12 marks the instant a gesture should be recognised).

A dense head needs a class for every frame; an action point gives one instant.
The frames from ``before`` seconds before each point to ``after`` seconds after
it are labelled with the point's gesture, every other frame is background.
Where two spans overlap, the later point wins.
"""

from __future__ import annotations

import numpy as np

from models.skeleton.sequence import SkeletonSequence


def point_frame_labels(sequence: SkeletonSequence, labels: list[str], before_s: float, after_s: float,
                       background: int = 0) -> np.ndarray:  # fmt: skip
    """(T,) class indices: each action point's gesture on [point - before_s, point + after_s], else background."""
    if before_s < 0 or after_s < 0:
        raise ValueError(f"span must not be negative, got before {before_s} s and after {after_s} s")
    index = {name: i for i, name in enumerate(labels)}
    target = np.full(sequence.num_frames, background, dtype=np.int64)
    before, after = round(before_s * sequence.fps), round(after_s * sequence.fps)
    for point in sorted(sequence.action_points, key=lambda p: p.frame):
        if point.label not in index:
            raise KeyError(f"{sequence.name}: action point label {point.label!r} not in {labels}")
        target[max(0, point.frame - before) : point.frame + after + 1] = index[point.label]
    return target
