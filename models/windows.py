"""Fixed-length model windows cut from skeleton sequences.

A window is ``(C, T, V, M)`` float32 in unified_30, normalised with the
checkpoint's `NormalizationConfig`. Windows are exactly T frames: a window
that would start before the sequence is padded by repeating the first frame
(as the streaming runtime pads a young track), and padded frames carry the
label `IGNORE_INDEX` so no loss or metric counts them twice.
"""

from __future__ import annotations

import numpy as np

from models.skeleton.layouts import UNIFIED_30
from models.skeleton.normalize import NormalizationConfig, normalize_window
from models.skeleton.resample import resample_sequence
from models.skeleton.sequence import SkeletonSequence
from models.skeleton.unified import sequence_to_unified

IGNORE_INDEX = -100


def prepare_sequence(sequence: SkeletonSequence, fps: float, num_bodies: int = 2) -> SkeletonSequence:
    """Map to unified_30, resample to ``fps`` and pad or cut to ``num_bodies`` bodies."""
    unified = resample_sequence(sequence_to_unified(sequence), fps)
    bodies = unified.num_bodies
    if bodies != num_bodies:
        keep = min(bodies, num_bodies)
        joints = np.zeros(unified.joints.shape[:1] + (num_bodies,) + unified.joints.shape[2:], np.float32)
        mask = np.zeros(unified.mask.shape[:1] + (num_bodies,) + unified.mask.shape[2:], np.float32)
        joints[:, :keep], mask[:, :keep] = unified.joints[:, :keep], unified.mask[:, :keep]
        unified.joints, unified.mask = joints, mask
    return unified


def window_frames(num_frames: int, end: int, length: int) -> np.ndarray:
    """Indices of the ``length`` frames ending at ``end`` (inclusive), clamped at 0 (first frame repeated)."""
    return np.clip(np.arange(end - length + 1, end + 1), 0, num_frames - 1)


def cut_window(
    sequence: SkeletonSequence, end: int, length: int, normalization: NormalizationConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The normalised window ending at frame ``end``: ((C, T, V, M) array, (T,) bool of real frames)."""
    if sequence.layout != UNIFIED_30.name:
        raise ValueError(f"{sequence.name}: windows are cut from unified_30 sequences (see prepare_sequence), "
                         f"got {sequence.layout}")  # fmt: skip
    frames = window_frames(sequence.num_frames, end, length)
    joints, _ = normalize_window(sequence.joints[frames], sequence.mask[frames], UNIFIED_30, normalization)
    real = np.arange(end - length + 1, end + 1) >= 0
    return np.ascontiguousarray(joints.transpose(3, 0, 2, 1)), real


def window_ends(num_frames: int, stride: int) -> np.ndarray:
    """Ends of the windows a stream with this ``stride`` runs: every stride-th frame and the last one."""
    ends = np.arange(stride - 1, num_frames, stride)
    if ends.size == 0 or ends[-1] != num_frames - 1:
        ends = np.append(ends, num_frames - 1)
    return ends


def resize_clip(sequence: SkeletonSequence, length: int) -> SkeletonSequence:
    """A trimmed clip stretched or squeezed to exactly ``length`` frames (nearest frame)."""
    frames = np.round(np.linspace(0, sequence.num_frames - 1, length)).astype(np.int64)
    return SkeletonSequence(
        joints=sequence.joints[frames],
        mask=sequence.mask[frames],
        layout=sequence.layout,
        fps=sequence.fps,
        frame_ids=sequence.frame_ids[frames],
        name=sequence.name,
        label=sequence.label,
        subject=sequence.subject,
        attributes=dict(sequence.attributes),
    )
