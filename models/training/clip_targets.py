"""Per-frame targets of a trimmed clip used in detection training: its action on the frames where it happens.

Trimmed clips often hold idle time at their ends (Kinder-Gator's people stand
still before and after each motion). Labelling those frames with the action
would teach the detector that standing still is waving. The *active span* is
where the body moves: per-frame joint speed in torso lengths per second,
smoothed over ~0.3 s; the span runs from the first to the last frame whose
speed reaches ``fraction`` of the clip's 90th-percentile speed. Frames outside
it are background.
"""

from __future__ import annotations

import numpy as np

from models.skeleton.layouts import UNIFIED_30
from models.skeleton.sequence import SkeletonSequence


def active_span(sequence: SkeletonSequence, fraction: float = 0.3, smooth_s: float = 0.3) -> tuple[int, int]:
    """(start, end exclusive) of the frames where body 0 of a unified_30 clip moves."""
    frames = sequence.num_frames
    if frames < 3:
        return 0, frames
    joints, present = sequence.joints[:, 0], sequence.mask[:, 0] > 0  # (T, V, 3), (T, V)
    both = present[1:] & present[:-1]
    steps = np.linalg.norm(np.diff(joints, axis=0), axis=-1)  # (T-1, V)
    speed = np.where(both, steps, 0.0).sum(axis=1) / np.maximum(both.sum(axis=1), 1)
    root, top = UNIFIED_30.index("spine_base"), UNIFIED_30.index("spine_shoulder")
    torso_frames = present[:, root] & present[:, top]
    torso = np.median(np.linalg.norm(joints[torso_frames, top] - joints[torso_frames, root], axis=-1)) \
        if torso_frames.any() else 1.0  # fmt: skip
    speed = speed * sequence.fps / max(float(torso), 1e-6)
    width = max(1, int(round(smooth_s * sequence.fps)))
    smoothed = np.convolve(speed, np.ones(width) / width, mode="same")
    peak = np.percentile(smoothed, 90)
    if peak <= 0:
        return 0, frames
    moving = np.flatnonzero(smoothed >= fraction * peak)
    return int(moving[0]), int(moving[-1]) + 2  # step i lies between frames i and i + 1


def clip_frame_labels(sequence: SkeletonSequence, label: int, background: int = 0) -> np.ndarray:
    """(T,) targets: ``label`` on the clip's active span, ``background`` elsewhere (all of it if background)."""
    target = np.full(sequence.num_frames, background, dtype=np.int64)
    if label != background:
        start, end = active_span(sequence)
        target[start:end] = label
    return target
