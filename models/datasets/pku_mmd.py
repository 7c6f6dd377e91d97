"""Reader for PKU-MMD skeleton sequences and their action labels (Kinect v2, 25 joints, 30 fps).

Skeleton file (``PKU_Skeleton_Renew/<video>.txt``): one line per frame, 150
numbers = 2 bodies x 25 joints x (x y z) in metres, joints in ``kinect_v2_25``
order. The files separate the numbers by spaces (the official README writes
``x1,y1,z1,...``; commas are accepted too). A body that is not there is written
as 75 zeros: it becomes absent (mask 0). The format has no confidence, so a
present joint gets mask 1. The two body slots are kept as the file has them,
without filtering (Kinect false detections, such as a small static "body" in a
chair's place, stay in their slot).

Label file (``Train_Label_PKU_final/<video>.txt``): one action instance per line,
``action_id,start_frame,end_frame,confidence`` (action ids 1-51 in PKU-MMD
phase 1; confidence 1 or 2, the annotators' quality mark). The official README
does not state the frame-index base; its ``evaluate.py`` compares intervals on
the raw numbers. We read start and end as 0-based rows of the skeleton file,
end inclusive, as the common preprocessing does (``video[start:end + 1]``), so
a line becomes ``Segment(label, start, end + 1, confidence)``.

Recoverable quirks are counted in ``SkeletonSequence.skipped`` and logged:
``nonfinite_joints`` (NaN/inf coordinates: mask 0, values 0), ``zero_joints``
(a joint exactly at the origin in a present body: mask 0),
``frames_without_body``, and, when labels are attached, ``clipped_segments``
(ending past the last frame) and ``dropped_segments`` (starting past it).
Anything else malformed raises `DataFormatError` naming the file and line.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from foundation.errors import DataFormatError
from models.datasets.text import parse_float_rows, read_lines
from models.skeleton.layouts import get_layout
from models.skeleton.sequence import Segment, SkeletonSequence

logger = logging.getLogger(__name__)

LAYOUT = "kinect_v2_25"
FPS = 30.0
BODIES = 2
LABEL_FIELDS = ("action_id", "start_frame", "end_frame", "confidence")


def read_pku_mmd_skeleton(path: str | Path) -> SkeletonSequence:
    """Read one PKU-MMD skeleton file: joints (T, 2, 25, 3) in metres, frame ids 0..T-1, no segments."""
    path = Path(path)
    num_joints = get_layout(LAYOUT).num_joints
    lines = read_lines(path)
    while not lines[-1].strip():
        lines.pop()
    if any("," in line for line in lines):
        lines = [line.replace(",", " ") for line in lines]
    columns = BODIES * num_joints * 3
    values = parse_float_rows(lines, np.arange(1, len(lines) + 1), columns, path)
    joints = values.reshape(len(lines), BODIES, num_joints, 3)

    finite = np.isfinite(joints).all(axis=-1)
    joints[~finite] = 0.0
    at_origin = (joints == 0.0).all(axis=-1)
    present = ~(at_origin & finite).all(axis=-1)  # a body written as zeros is absent
    zero_joints = at_origin & finite & present[..., None]
    mask = (finite & ~zero_joints & present[..., None]).astype(np.float32)

    skipped: dict[str, int] = {}
    _count(skipped, "nonfinite_joints", int((~finite).sum()))
    _count(skipped, "zero_joints", int(zero_joints.sum()))
    _count(skipped, "frames_without_body", int((~present.any(axis=1)).sum()))
    if skipped:
        logger.warning("%s: handled quirks %s", path, skipped)
    return SkeletonSequence(
        joints=joints.astype(np.float32),
        mask=mask,
        layout=LAYOUT,
        fps=FPS,
        frame_ids=np.arange(len(lines), dtype=np.int64),
        name=path.stem,
        skipped=skipped,
    )


def read_pku_mmd_labels(path: str | Path, label_names: Mapping[int, str] | None = None) -> list[Segment]:
    """Read a PKU-MMD label file into segments in file order (convention in the module docstring).

    A segment's label is ``label_names[action_id]`` when names are given, else
    the action id as text (``"12"``).
    """
    path = Path(path)
    segments = []
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != len(LABEL_FIELDS):
            raise DataFormatError(
                path, f"expected {len(LABEL_FIELDS)} comma-separated fields {LABEL_FIELDS}, found {len(fields)}",
                line=number,
            )
        action, start, end = (_label_int(path, number, name, text) for name, text in zip(LABEL_FIELDS[:3], fields))
        try:
            confidence = float(fields[3])
        except ValueError:
            raise DataFormatError(path, f"confidence is not a number: {fields[3]!r}", line=number) from None
        if not math.isfinite(confidence):
            raise DataFormatError(path, f"confidence must be finite, got {fields[3]!r}", line=number)
        if action < 1 or start < 0 or end < start:
            raise DataFormatError(
                path, f"need action_id >= 1 and 0 <= start_frame <= end_frame, got {action}, {start}, {end}",
                line=number,
            )
        if label_names is None:
            label = str(action)
        elif action in label_names:
            label = label_names[action]
        else:
            raise DataFormatError(path, f"action id {action} has no name in label_names", line=number)
        segments.append(Segment(label, start, end + 1, confidence))
    return segments


def read_pku_mmd(
    skeleton_path: str | Path,
    label_path: str | Path | None = None,
    label_names: Mapping[int, str] | None = None,
) -> SkeletonSequence:
    """Read a PKU-MMD skeleton file and, when given, its label file as the sequence's segments.

    Segments ending past the last frame are clipped and those starting past it
    dropped; both are counted in ``skipped``.
    """
    sequence = read_pku_mmd_skeleton(skeleton_path)
    if label_path is None:
        return sequence
    num_frames = sequence.num_frames
    segments = []
    clipped = dropped = 0
    for segment in read_pku_mmd_labels(label_path, label_names):
        if segment.start >= num_frames:
            dropped += 1
            continue
        if segment.end > num_frames:
            clipped += 1
            segment = Segment(segment.label, segment.start, num_frames, segment.confidence)
        segments.append(segment)
    _count(sequence.skipped, "clipped_segments", clipped)
    _count(sequence.skipped, "dropped_segments", dropped)
    if clipped or dropped:
        logger.warning("%s: %d segments clipped, %d dropped at the %d frames of %s",
                       label_path, clipped, dropped, num_frames, skeleton_path)
    return replace(sequence, segments=segments)


def _label_int(path: Path, line: int, name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise DataFormatError(path, f"{name} must be an integer, got {text!r}", line=line) from None


def _count(skipped: dict[str, int], kind: str, count: int) -> None:
    if count:
        skipped[kind] = count
