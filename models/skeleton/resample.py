"""Resampling a skeleton sequence onto a regular clock at a model's frame rate.

Source frames sit at ``frame_ids / fps`` seconds (ids may skip, as in
UTKinect). Each target frame interpolates linearly between its two source
neighbours; across a gap longer than ``max_gap_s`` nothing is invented: the
target frame copies its nearest source frame and is marked missing (mask 0).
Segments keep their time spans; action points move to the target frame nearest their time.
"""

from __future__ import annotations

import numpy as np

from models.skeleton.sequence import ActionPoint, Segment, SkeletonSequence


def resample_indices(times: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For a target clock at ``fps`` over ``times`` (seconds, non-decreasing): left index, right index, weight."""
    if times.size == 0:
        raise ValueError("cannot resample an empty sequence")
    count = int(np.floor((times[-1] - times[0]) * fps + 1e-9)) + 1
    targets = times[0] + np.arange(count) / fps
    right = np.clip(np.searchsorted(times, targets, side="right"), 1, max(times.size - 1, 1))
    left = right - 1
    if times.size == 1:
        return np.zeros(count, np.int64), np.zeros(count, np.int64), np.zeros(count, np.float32)
    span = times[right] - times[left]
    weight = np.where(span > 0, (targets - times[left]) / np.where(span > 0, span, 1.0), 0.0)
    return left, right, np.clip(weight, 0.0, 1.0).astype(np.float32)


def resample_sequence(sequence: SkeletonSequence, fps: float, max_gap_s: float = 0.5) -> SkeletonSequence:
    """The sequence on a regular clock at ``fps``; see the module docstring for the rules."""
    if fps <= 0:
        raise ValueError(f"target fps must be positive, got {fps}")
    times = (sequence.frame_ids - sequence.frame_ids[0]) / sequence.fps
    left, right, weight = resample_indices(times.astype(np.float64), fps)
    in_gap = (times[right] - times[left] > max_gap_s) & (weight > 1e-6) & (weight < 1 - 1e-6)
    nearest = np.where(weight < 0.5, left, right)
    both_present = (sequence.mask[left] > 0) & (sequence.mask[right] > 0)  # (T', M, V)
    interpolate = both_present & ~in_gap[:, None, None]

    def blend(values: np.ndarray) -> np.ndarray:
        w = weight.reshape((-1,) + (1,) * (values.ndim - 1))
        mixed = (1 - w) * values[left] + w * values[right]
        return np.where(interpolate[..., None], mixed, values[nearest]).astype(np.float32)

    mask = np.where(interpolate, np.minimum(sequence.mask[left], sequence.mask[right]), sequence.mask[nearest])
    mask = np.where(in_gap[:, None, None], 0.0, mask).astype(np.float32)

    segments = []
    for segment in sequence.segments:
        start = int(np.ceil((times[segment.start] - times[0]) * fps - 1e-9))
        end = int(np.floor((times[segment.end - 1] - times[0]) * fps + 1e-9)) + 1
        end = min(end, left.size)
        if end > start:
            segments.append(Segment(segment.label, start, end, segment.confidence))
    points = [
        ActionPoint(point.label, min(int(round((times[point.frame] - times[0]) * fps)), left.size - 1))
        for point in sequence.action_points
    ]
    dropped = len(sequence.segments) - len(segments)
    skipped = dict(sequence.skipped)
    if dropped:
        skipped["segments_shorter_than_a_frame_after_resampling"] = dropped
    return SkeletonSequence(
        joints=blend(sequence.joints),
        mask=mask,
        layout=sequence.layout,
        fps=float(fps),
        frame_ids=np.arange(left.size, dtype=np.int64),
        name=sequence.name,
        label=sequence.label,
        segments=segments,
        subject=sequence.subject,
        action_points=points,
        attributes=dict(sequence.attributes),
        projections={k: blend(v) for k, v in sequence.projections.items() if v.ndim == 4 and v.shape[:3] == sequence.mask.shape},
        skipped=skipped,
    )
